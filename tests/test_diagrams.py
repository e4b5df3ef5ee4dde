"""rnn_lib.diagrams: every diagram has its arrows, its notation, reacts to its parameters,
keeps its text inside the figure, and refuses bad input with a clear message."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from rnn_lib import diagrams  # noqa: E402

# each diagram, and the fewest arrows (with heads) it must have
DIAGRAMS = {
    "rnn_cell": (diagrams.rnn_cell, 9),
    "unrolled_rnn": (lambda: diagrams.unrolled_rnn(steps=4), 3 + 5 + 4 + 4),
    "lstm_cell": (diagrams.lstm_cell, 15),
    "lstm_peephole": (lambda: diagrams.lstm_cell(peephole=True), 18),
    "gru_cell": (diagrams.gru_cell, 17),
    "stacked_rnn": (lambda: diagrams.stacked_rnn(layers=2, steps=3), 2 * 3 + 3 * 3),
    "bidirectional_rnn": (lambda: diagrams.bidirectional_rnn(steps=4), 3 + 3 + 4 * 4),
    "sequence_mappings": (diagrams.sequence_mappings, 16 + 10),
    "captioner": (lambda: diagrams.captioner(words=3), 5 + 2 + 4 + 4),
    "encoder_decoder": (diagrams.encoder_decoder, 4 + 6 + 2 + 3 + 6 + 10),
    "encoder_decoder_bare": (lambda: diagrams.encoder_decoder(context=False), 4 + 6 + 2 + 3 + 6),
    "encoder_decoder_attention": (lambda: diagrams.encoder_decoder(attention=True), 21 + 6 + 9),
    "attention_step": (diagrams.attention_step, 4 * 5 + 1),
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def arrows(ax, linestyle=None):
    """The arrows with a head ("-|>") drawn on ax, optionally only those of one line style."""
    found = [p for p in ax.patches if isinstance(p, FancyArrowPatch)
             and getattr(p.get_arrowstyle(), "arrow", "") == "-|>"]
    if linestyle is not None:
        found = [p for p in found if p.get_linestyle() == linestyle]
    return found


def texts(ax):
    return " ".join(t.get_text() for t in ax.texts).replace(" ", "")


def cells(ax):
    return sum(p.get_gid() == "cell" for p in ax.patches)


@pytest.mark.parametrize("name", DIAGRAMS)
def test_each_diagram_returns_axes_with_arrowheads_and_a_title(name):
    draw, min_arrows = DIAGRAMS[name]
    ax = draw()
    assert isinstance(ax, plt.Axes)
    assert len(arrows(ax)) >= min_arrows, f"{name}: {len(arrows(ax))} arrows with heads"
    assert ax.get_title()
    assert not ax.axison


@pytest.mark.parametrize("name", DIAGRAMS)
def test_no_text_is_clipped(name):
    ax = DIAGRAMS[name][0]()
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame, page = ax.get_window_extent(renderer), fig.bbox
    for t in [*ax.texts, ax.title]:
        box = t.get_window_extent(renderer)
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, (name, t.get_text())
        assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, (name, t.get_text())
        if t is not ax.title:
            assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1, (name, t.get_text())
            assert frame.y0 - 1 <= box.y0 and box.y1 <= frame.y1 + 1, (name, t.get_text())


def test_draws_on_a_given_axes():
    fig, (a, b) = plt.subplots(1, 2)
    assert diagrams.gru_cell(ax=b) is b
    assert not a.patches and b.patches


def test_rnn_cell_and_unrolled_use_the_course_names():
    t = texts(diagrams.rnn_cell())
    for name in ["$x_t$", "$h_{t-1}$", "$h_t$", "$y_t$", "W_{ih}", "W_{hh}", "b_{ih}", "b_{hh}",
                 "W_{hy}", "b_y", r"\tanh"]:
        assert name in t, name
    ax = diagrams.unrolled_rnn(steps=4)
    t = texts(ax)
    assert "$h_0$" in t and "$h_{4}$" in t and "shared" in t
    recurrent = [a for a in ax.texts if a.get_text() == "$W_{hh}$"]
    assert len(recurrent) >= 4 + 1  # one per unrolled step, and the folded loop's


def test_steps_change_the_drawing():
    assert cells(diagrams.unrolled_rnn(steps=3)) == 1 + 3  # the folded cell and 3 steps
    assert cells(diagrams.unrolled_rnn(steps=5)) == 1 + 5
    assert cells(diagrams.stacked_rnn(layers=3, steps=2)) == 6
    assert cells(diagrams.bidirectional_rnn(steps=5)) == 10
    assert cells(diagrams.captioner(words=4)) == 6  # step 0, 4 words, <eos>
    assert "<eos>" in texts(diagrams.captioner(words=1))


def test_lstm_labels_every_gate_and_the_cell_state():
    ax = diagrams.lstm_cell()
    t = texts(ax)
    for name in ["$f_t$", "$i_t$", "$g_t$", "$o_t$", "$c_t$", "$c_{t-1}$", r"\sigma", r"\odot",
                 r"h_t=o_t\odot\tanh(c_t)"]:
        assert name in t, name
    thick = [p for p in arrows(ax) if p.get_linewidth() >= 3]
    assert len(thick) == 3  # c_{t-1} -> forget product -> sum -> c_t
    assert "w_{c" not in t


def test_peepholes_add_exactly_three_dashed_connections():
    plain, peep = diagrams.lstm_cell(), diagrams.lstm_cell(peephole=True)
    assert len(arrows(plain, "--")) == 0
    assert len(arrows(peep, "--")) == 3
    assert len(arrows(peep)) == len(arrows(plain)) + 3
    t = texts(peep)
    for name in ["w_{ci}", "w_{cf}", "w_{co}"]:  # rnn_lib.cells' weight_ci, weight_cf, weight_co
        assert f"${name}$" in t and name in t.split("$o_t=")[-1] + t, name


def test_gru_draws_pytorchs_update():
    t = texts(diagrams.gru_cell())
    for name in ["1-z_t", r"h_t=(1-z_t)\odotn_t+z_t\odoth_{t-1}", "r_t", "n_t",
                 r"r_t\odot(W_{hn}h_{t-1}+b_{hn})", "W_{in}x_t+b_{in}"]:
        assert name in t, name


def test_bidirectional_concatenates_both_directions_at_every_step():
    t = texts(diagrams.bidirectional_rnn(steps=3))
    for step in (1, 2, 3):
        assert rf"[\overrightarrow{{h}}_{{{step}}};\overleftarrow{{h}}_{{{step}}}]" in t


def test_sequence_mappings_has_five_titled_panels():
    ax = diagrams.sequence_mappings()
    titles = [a.get_text() for a in ax.texts if "\n" in a.get_text()]
    assert len(titles) == 5
    assert any("unaligned" in s for s in titles) and any("one to many" in s for s in titles)
    assert sum(p.get_gid() == "cell" for p in ax.patches) == 1 + 3 + 3 + 3 + 6


def test_captioner_feeds_the_image_first_then_the_true_words():
    t = texts(diagrams.captioner(words=3))
    assert "CNN(I)" in t.replace("$", "") and "<bos>" in t and "teacherforcing" in t
    assert "predicts" in t and "$w_{3}$" in t


def test_encoder_decoder_draws_what_make_model_builds():
    bare = diagrams.encoder_decoder(context=False)  # Sutskever et al.: only s_0
    fixed = diagrams.encoder_decoder()  # lecture 09's model without attention
    attn = diagrams.encoder_decoder(attention=True)
    assert r"\tanh(\mathrm{Linear})" in texts(bare) and "$s_0$" in texts(bare)
    assert "$c$" not in texts(bare) and "c_{1}" not in texts(bare)
    assert sum(a.get_text() == "$c$" for a in fixed.texts) == 3  # the same c at every step
    assert r"\mathrm{mean}_j" in texts(fixed) and "c_{1}" not in texts(fixed)
    assert all(f"$c_{{{t}}}$" in texts(attn) for t in (1, 2, 3))
    assert len(arrows(fixed)) == len(arrows(bare)) + 6 + 1 + 3 + 3  # h_j, mean, bus, into s_t
    assert len(arrows(attn)) == len(arrows(fixed)) - 1 + 3  # no mean; s_{t-1} into each c_t


def test_attention_step_shows_scores_softmax_context_and_masking():
    t = texts(diagrams.attention_step())
    for name in [r"e_{tj}=v^\top\tanh(Ws_{t-1}+Uh_j)", r"\alpha_{t1}", "softmax", "<pad>",
                 r"c_t=\Sigma_j\,\alpha_{tj}h_j", "padding"]:
        assert name in t, name


@pytest.mark.parametrize("call", [lambda: diagrams.unrolled_rnn(steps=0),
                                  lambda: diagrams.stacked_rnn(layers=0),
                                  lambda: diagrams.stacked_rnn(steps=-1),
                                  lambda: diagrams.bidirectional_rnn(steps=2.5),
                                  lambda: diagrams.captioner(words=0)])
def test_bad_counts_raise_a_clear_error(call):
    with pytest.raises(ValueError, match=r"expected \w+ to be an integer >= 1, got"):
        call()
