"""Tests for rnn_lib.units: reading a character model's states and relating units to text."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnn_lib.charlm import CharRNN, CharRNNConfig  # noqa: E402
from rnn_lib.units import (  # noqa: E402
    assign_units,
    busiest_window,
    correlate,
    plot_text_activation,
    text_features,
    trace_states,
)


def test_trace_states_are_the_top_layer_cell_states_after_each_character():
    torch.manual_seed(0)
    model = CharRNN(CharRNNConfig(7, 5, 2, embedding_dim=4, cell="lstm")).double()  # V, H, L
    ids = torch.randint(0, 7, (9,))
    trace = trace_states(model, ids)
    assert trace.shape == (9, 5)
    for t in (0, 4, 8):
        _, (h, c) = model(ids[None, : t + 1])
        assert torch.allclose(trace[t].double(), c[-1, 0], atol=1e-12)


def test_text_features_by_hand():
    text = 'a "b" (c(d)e)\n  f\ng'
    f = text_features(text)
    assert all(v.shape == (len(text),) for v in f.values())
    as_str = {k: "".join(str(int(x))[-1] for x in v.tolist()) for k, v in f.items()}
    # text:                 a "b" (c(d)e)N  fNg
    assert as_str["in quotes"] == "0011100000000000000"
    assert as_str["in parens"] == "0000001111111000000"
    assert as_str["line start"] == "1000000000000010001"
    assert as_str["indented"] == "0000000000000011110"
    assert f["column"][:3].tolist() == [0.0, 1.0, 2.0] and f["column"][-1] == 0.0


def test_correlate_matches_numpy():
    gen = torch.Generator().manual_seed(0)
    acts = torch.randn(100, 4, generator=gen)
    feature = (torch.rand(100, generator=gen) > 0.5).double()
    acts[:, 2] = 3 * feature - 1  # a unit that is the feature
    acts[:, 3] = 0.5  # a constant unit
    r = correlate(acts, feature)
    for j in range(3):
        assert r[j].item() == pytest.approx(np.corrcoef(acts[:, j], feature)[0, 1], abs=1e-6)
    assert r[2].item() == pytest.approx(1.0)
    assert r[3].item() == 0.0
    with pytest.raises(ValueError, match="length"):
        correlate(acts, feature[:10])


def test_plot_text_activation_draws_one_coloured_cell_per_character():
    text = "ab\ncde"
    values = [-1.0, 1.0, 0.5, 0.0, -0.5, 0.25]
    fig, ax = plt.subplots()
    try:
        plot_text_activation(text, values, ax, width=2, title="unit 3")
        grid = ax.images[0].get_array()
        # rows: "ab" fills the width, "\n" alone, "cd", "e" (wrapped at width 2)
        assert grid.shape == (4, 2)
        assert grid[0].tolist() == [-1.0, 1.0] and grid[1, 0] == 0.5
        assert grid[2].tolist() == [0.0, -0.5] and grid[3, 0] == 0.25
        assert np.ma.is_masked(grid[1, 1]) or np.isnan(grid[1, 1])
        assert [t.get_text() for t in ax.texts] == ["a", "b", "\u23ce", "c", "d", "e"]
        assert ax.get_title(loc="left") == "unit 3"
        with pytest.raises(ValueError):
            plot_text_activation(text, values[:-1], ax)
    finally:
        plt.close(fig)


def test_assign_units_never_picks_a_unit_twice():
    gen = torch.Generator().manual_seed(0)
    T = 200
    a = (torch.rand(T, generator=gen) > 0.5).double()
    b = (torch.rand(T, generator=gen) > 0.5).double()
    acts = 0.1 * torch.randn(T, 6, generator=gen, dtype=torch.float64)
    acts[:, 4] += a + 0.9 * b  # unit 4 follows a best, and b better than any other unit does
    acts[:, 1] += -0.3 * b + 0.3 * torch.randn(T, generator=gen, dtype=torch.float64)  # b, noisy
    chosen = assign_units(acts, {"a": a, "b": b})
    assert list(chosen) == ["a", "b"]
    assert chosen["a"][0] == 4 and chosen["b"][0] == 1 and chosen["b"][1] < 0
    # unconstrained, both features would pick unit 4
    assert int(correlate(acts, b).abs().argmax()) == 4
    assert chosen["a"][1] == pytest.approx(correlate(acts, a)[4].item())
    with pytest.raises(ValueError, match="units"):
        assign_units(acts[:, :1], {"a": a, "b": b})


def test_busiest_window_starts_at_a_line_where_the_features_vary():
    text = "plain words here\n" * 6 + 'a "quote" (x)\n' + "plain words here\n" * 6
    features = text_features(text)
    start = busiest_window(text, features, length=15)
    assert text[start:].startswith('a "quote"')
    assert start == 0 or text[start - 1] == "\n"
    with pytest.raises(ValueError, match="length"):
        busiest_window(text, features, length=0)
