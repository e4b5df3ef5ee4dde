"""Tests for rnn_lib.sampling: temperature, top-k and the autoregressive generation loop."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnn_lib.charlm import CharRNN, CharRNNConfig  # noqa: E402
from rnn_lib.sampling import (  # noqa: E402
    adjust_logits,
    distinct_ngrams,
    draw_unrolled,
    generate,
    generate_text,
    next_probs,
    sample_next,
    score_continuation,
)
from rnn_lib.vocab import Vocab  # noqa: E402


def random_logits(N=4, V=10, seed=0):
    gen = torch.Generator().manual_seed(seed)
    # distinct values spaced at least 0.1 apart, so the argmax and the top k are unambiguous
    return torch.stack([torch.randperm(V, generator=gen).float() * 0.3 for _ in range(N)])


def test_temperature_towards_zero_is_argmax():
    logits = random_logits()
    gen = torch.Generator().manual_seed(0)
    argmax = logits.argmax(-1)
    assert torch.equal(sample_next(logits, temperature=0), argmax)
    assert torch.equal(next_probs(logits, temperature=0).argmax(-1), argmax)
    assert torch.equal(next_probs(logits, temperature=0).sum(-1), torch.ones(4))
    for _ in range(200):  # tau = 0.005: the runner-up has probability about exp(-60)
        assert torch.equal(sample_next(logits, temperature=0.005, generator=gen), argmax)
    assert torch.allclose(next_probs(logits, 0.005), next_probs(logits, 0), atol=1e-12)


def test_temperature_one_samples_match_softmax():
    logits = random_logits(N=1, V=6)[0] - 0.9
    n = 200_000
    gen = torch.Generator().manual_seed(1)
    draws = sample_next(logits.expand(n, -1), temperature=1.0, generator=gen)
    freq = torch.bincount(draws, minlength=6).double() / n
    p = torch.softmax(logits.double(), -1)
    sigma = (p * (1 - p) / n).sqrt()
    assert torch.all((freq - p).abs() < 5 * sigma + 1e-4), (freq, p)
    assert torch.allclose(next_probs(logits, 1.0), torch.softmax(logits, -1))


def test_top_k_never_samples_outside_the_top_k():
    logits = random_logits(N=3, V=12)
    k = 3
    top = logits.topk(k, dim=-1).indices  # (3, k)
    gen = torch.Generator().manual_seed(2)
    for tau in (0.5, 1.0, 5.0):
        draws = sample_next(logits.repeat(2000, 1), tau, top_k=k, generator=gen).view(2000, 3)
        for row in range(3):
            seen = set(draws[:, row].tolist())
            assert seen <= set(top[row].tolist())
            assert len(seen) == k  # and all k are reachable
    probs = next_probs(logits, 1.0, top_k=k)
    assert torch.all((probs > 0).sum(-1) == k)
    # within the top k, the probabilities are the softmax renormalised over those k
    kept = torch.softmax(logits.gather(-1, top), -1)
    assert torch.allclose(probs.gather(-1, top), kept)


def test_top_k_keeps_exactly_k_on_ties_and_all_when_k_is_large():
    logits = torch.zeros(1, 5)
    assert torch.isfinite(adjust_logits(logits, top_k=2)).sum() == 2
    assert torch.equal(adjust_logits(logits, top_k=5), logits)
    assert torch.equal(adjust_logits(logits, top_k=None), logits)


def test_higher_temperature_flattens_the_distribution():
    logits = random_logits(N=1, V=8)
    entropy = [(-(p * p.clamp_min(1e-30).log()).sum()).item()
               for p in (next_probs(logits, t) for t in (0.25, 0.5, 1.0, 2.0, 100.0))]
    assert entropy == sorted(entropy)
    assert entropy[-1] == pytest.approx(torch.log(torch.tensor(8.0)).item(), abs=1e-3)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="temperature"):
        adjust_logits(torch.zeros(1, 3), temperature=-1.0)
    with pytest.raises(ValueError, match="top_k"):
        adjust_logits(torch.zeros(1, 3), top_k=0)
    with pytest.raises(ValueError, match=r"\(N, V\)"):
        sample_next(torch.zeros(3))


class CountUp(torch.nn.Module):
    """A fake model: predicts (input + 1) mod V, and counts steps in its state."""

    def __init__(self, V=5):
        super().__init__()
        self.V = V
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, state=None):
        steps = torch.zeros(x.size(0)) if state is None else state
        logits = 10.0 * torch.nn.functional.one_hot((x + 1) % self.V, self.V).float()
        return logits, steps + x.size(1)


def test_generate_feeds_each_drawn_character_back():
    out = generate(CountUp(5), torch.tensor([[0, 1], [3, 3]]), steps=6, temperature=0)
    assert torch.equal(out.ids, torch.tensor([[2, 3, 4, 0, 1, 2], [4, 0, 1, 2, 3, 4]]))
    assert out.probs.shape == (2, 6, 5)
    assert torch.equal(out.probs.argmax(-1), out.ids)


def test_generate_matches_teacher_forcing_on_the_drawn_sequence():
    # the distributions seen step by step (state carried) equal one run over prompt + drawn ids
    torch.manual_seed(0)
    model = CharRNN(CharRNNConfig(vocab_size=6, hidden_size=8, num_layers=2))
    prompt = torch.tensor([[1, 2, 3]])
    gen = torch.Generator().manual_seed(0)
    out = generate(model, prompt, steps=10, temperature=0.8, top_k=4, generator=gen)
    logits, _ = model(torch.cat([prompt, out.ids[:, :-1]], 1))  # (1, 12, 6)
    expected = next_probs(logits[:, prompt.size(1) - 1:], 0.8, top_k=4)  # (1, 10, 6)
    assert torch.allclose(out.probs, expected, atol=1e-6)
    # the same generator seed gives the same text
    again = generate(model, prompt, 10, temperature=0.8, top_k=4,
                     generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.ids, out.ids)


def test_generate_text_returns_prompt_and_continuation():
    vocab = Vocab.build(["helo"], specials=())
    torch.manual_seed(0)
    model = CharRNN(CharRNNConfig(len(vocab), hidden_size=4))
    text = generate_text(model, vocab, "he", 7, temperature=0)
    assert text.startswith("he") and len(text) == 9 and set(text) <= set("helo")


def test_draw_unrolled_draws_both_modes():
    fig, axes = plt.subplots(2, 1)
    draw_unrolled(axes[0], "hell", "ello")
    draw_unrolled(axes[1], "hell", "ello", feed_back=True)
    assert len(axes[1].texts) > len(axes[0].texts) - 1
    assert len(axes[1].patches) == 4
    plt.close(fig)
    with pytest.raises(ValueError, match="outputs"):
        draw_unrolled(axes[0], "hell", "ell")


def test_score_continuation_is_the_generation_distribution_at_temperature_one():
    torch.manual_seed(0)
    model = CharRNN(CharRNNConfig(6, 8, 2, embedding_dim=4)).double()
    prompt = torch.randint(0, 6, (3, 4))
    gen = generate(model, prompt, 10, temperature=1.0, generator=torch.Generator().manual_seed(1))
    logp, entropy = score_continuation(model, prompt, gen.ids)
    assert logp.shape == entropy.shape == (3, 10)
    expected = gen.probs.gather(-1, gen.ids[..., None]).squeeze(-1).log()  # (3, 10)
    assert torch.allclose(logp.double(), expected.double(), atol=1e-5)
    h = -(gen.probs * gen.probs.log()).sum(-1)
    assert torch.allclose(entropy.double(), h.double(), atol=1e-5)
    # a greedy step takes the most likely character, so its -log p is at most the entropy
    greedy = generate(model, prompt, 10, temperature=0)
    logp, entropy = score_continuation(model, prompt, greedy.ids)
    assert (-logp <= entropy + 1e-6).all()
    with pytest.raises(ValueError, match="prompt"):
        score_continuation(model, prompt, gen.ids[:2])


def test_distinct_ngrams_by_hand():
    assert distinct_ngrams("abab", 2) == pytest.approx(2 / 3)  # ab, ba, ab
    assert distinct_ngrams("abcdef", 3) == 1.0
    assert distinct_ngrams("aaaaaa", 2) == pytest.approx(1 / 5)
    with pytest.raises(ValueError, match="at least"):
        distinct_ngrams("ab", 3)
