"""Tests for rnn_lib.decoding: decode (greedy and beam search) on toy models."""

import itertools
import math

import pytest
import torch

from rnn_lib.decoding import (
    beam_search,
    decode,
    greedy_decode,
    index_state,
    sequence_log_prob,
    state_batch_size,
)

BOS, EOS, A, B, C, D, E = range(7)
V = 7


def tree_step(table):
    """A toy model whose next-token distribution depends on (first token, time step).

    The state is (first_token, t), both of shape (N,): a wrong beam reordering would mix the
    beams' histories and change the result.
    """

    def step(tokens, state):
        first, t = state
        first = torch.where(t == 1, tokens, first)  # remember the first generated token
        probs = torch.stack([table(int(f), int(s)) for f, s in zip(first, t, strict=True)])
        return probs.log(), (first, t + 1)

    return step


def dist(**p):
    out = torch.full((V,), 1e-12)
    for name, value in p.items():
        out[globals()[name]] = value
    return out / out.sum()


def myopic_table(first, t):
    # greedy takes A (0.6) but every continuation of A is unlikely (1/3); B (0.4) then C (0.9)
    # is the most probable sequence: 0.36 > 0.2.
    if t == 0:
        return dist(A=0.6, B=0.4)
    if t == 1:
        return dist(C=1 / 3, D=1 / 3, E=1 / 3) if first == A else dist(C=0.9, D=0.1)
    return dist(EOS=1.0)


def start(batch):
    return (torch.zeros(batch, dtype=torch.long), torch.zeros(batch, dtype=torch.long))


def test_beam_search_beats_myopic_greedy():
    step = tree_step(myopic_table)
    tokens, lengths = greedy_decode(step, start(1), BOS, EOS, max_len=5)
    greedy = tokens[0, : lengths[0]].tolist()
    beam = beam_search(step, start(1), BOS, EOS, beam_size=2, max_len=5)[0]
    assert greedy == [A, C]
    assert beam == [B, C]
    scores = sequence_log_prob(step, start(2), [greedy, beam], BOS, EOS)
    assert scores[0].item() == pytest.approx(math.log(0.6 / 3), abs=1e-5)
    assert scores[1].item() == pytest.approx(math.log(0.36), abs=1e-5)
    assert scores[1] > scores[0]


def rnn_step(vocab=6, hidden=8, seed=0):
    """A small random GRU language model: a real state that beam search must reorder."""
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(vocab, hidden, generator=g)
    cell = torch.nn.GRUCell(hidden, hidden)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    out = torch.randn(hidden, vocab, generator=g) * 2

    def step(tokens, h):
        h = cell(emb[tokens], h)
        return torch.log_softmax(h @ out, dim=-1), h

    def state(batch):
        return torch.randn(batch, hidden, generator=torch.Generator().manual_seed(seed + 1))

    return step, state


def test_beam_size_one_equals_greedy():
    step, state = rnn_step()
    tokens, lengths = greedy_decode(step, state(8), BOS, EOS, max_len=12)
    greedy = [tokens[n, : lengths[n]].tolist() for n in range(8)]
    assert decode(step, state(8), BOS, EOS, max_len=12) == greedy  # beam_size=1 by default
    beam = beam_search(step, state(8), BOS, EOS, beam_size=1, max_len=12)
    assert beam == greedy
    assert any(len(g) > 0 for g in greedy)


@pytest.mark.parametrize("beam_size", [1, 2, 5])
def test_decode_returns_lists_of_ints_whatever_the_beam_size(beam_size):
    step, state = rnn_step(seed=4)
    out = decode(step, state(6), BOS, EOS, max_len=9, beam_size=beam_size)
    assert isinstance(out, list) and len(out) == 6
    for seq in out:
        assert isinstance(seq, list) and len(seq) <= 9
        assert all(type(t) is int for t in seq) and EOS not in seq
    if beam_size > 1:
        assert out == beam_search(step, state(6), BOS, EOS, beam_size, 9)


def test_batched_beam_equals_one_at_a_time():
    step, state = rnn_step(seed=3)
    batched = beam_search(step, state(5), BOS, EOS, beam_size=3, max_len=10)
    s = state(5)
    single = [beam_search(step, index_state(s, torch.tensor([n])), BOS, EOS, 3, 10)[0]
              for n in range(5)]
    assert batched == single


def raw_score(step, h0, seq, max_len):
    """log p(seq, eos) from state h0 (one row); a sequence of max_len tokens was cut there and
    has no eos to score."""
    full = list(seq) + ([EOS] if len(seq) < max_len else [])
    h, prev, score = h0, torch.tensor([BOS]), 0.0
    for tok in full:
        lp, h = step(prev, h)
        score += lp[0, tok].item()
        prev = torch.tensor([tok])
    return score


def brute_force_best(step, h0, max_len, vocab):
    """Most probable hypothesis (raw log-prob) over every sequence up to max_len tokens."""
    best, best_score = None, -math.inf
    words = [w for w in range(vocab) if w != EOS]  # nothing stops a model emitting bos
    for n in range(max_len + 1):
        for seq in itertools.product(words, repeat=n):
            score = raw_score(step, h0, seq, max_len)
            if score > best_score:
                best, best_score = list(seq), score
    return best


def test_wide_beam_is_exact_search():
    step, state = rnn_step(vocab=4, seed=5)
    for n in range(3):
        h0 = state(3)[n : n + 1]
        exact = brute_force_best(step, h0, max_len=4, vocab=4)
        found = beam_search(step, h0, BOS, EOS, beam_size=64, max_len=4, length_penalty=0.0)[0]
        assert found == exact


def test_beam_scores_at_least_greedy_here_and_exact_search_at_least_beam():
    # Not a theorem for every model (the greedy prefix can fall out of a narrow beam), but it
    # holds on these inputs; exhaustive search bounds both, as it must.
    step, state = rnn_step(vocab=4, seed=6)
    h0 = state(6)
    greedy = decode(step, h0, BOS, EOS, max_len=4)
    beam = decode(step, h0, BOS, EOS, max_len=4, beam_size=3, length_penalty=0.0)
    for n in range(6):
        row = h0[n : n + 1]
        exact = brute_force_best(step, row, max_len=4, vocab=4)
        scores = [raw_score(step, row, x, 4) for x in (greedy[n], beam[n], exact)]
        by_greedy, by_beam, best = scores
        assert by_greedy <= by_beam + 1e-5 <= best + 2e-5, (n, greedy[n], beam[n], exact)
    assert greedy != beam  # these inputs include ones where the two searches differ


def test_greedy_eos_handling_and_truncation():
    # sequence 0 ends after A; sequence 1 never ends (always B) and is cut at max_len
    def step(tokens, state):
        (which,) = state  # row n of the batch is sequence which[n]
        lp = torch.full((len(tokens), V), -20.0)
        lp[which == 0, A] = 0.0
        lp[(which == 0) & (tokens == A), EOS] = 5.0
        lp[which == 1, B] = 0.0
        return torch.log_softmax(lp, -1), (which,)

    tokens, lengths = greedy_decode(step, (torch.arange(2),), BOS, EOS, max_len=4)
    assert tokens.tolist() == [[A, EOS, EOS, EOS], [B, B, B, B]]
    assert lengths.tolist() == [1, 4]
    for k in (1, 2):  # the same answer, of the same type, from either search
        assert decode(step, (torch.arange(2),), BOS, EOS, 4, beam_size=k) == [[A], [B, B, B, B]]


def test_greedy_stops_early_when_all_finished():
    calls = []

    def step(tokens, state):
        calls.append(1)
        lp = torch.full((3, V), -20.0)
        lp[:, EOS] = 0.0
        return lp, state

    tokens, lengths = greedy_decode(step, torch.zeros(3, 1), BOS, EOS, max_len=10)
    assert tokens.shape == (3, 1) and lengths.tolist() == [0, 0, 0] and len(calls) == 1


def length_table(first, t):
    # [] (eos at once): log 0.5 = -0.69 in 1 token; [A, B]: log 0.45 = -0.80 in 3 tokens
    if t == 0:
        return dist(EOS=0.5, A=0.5)
    if t == 1:
        return dist(B=0.9, C=0.1)
    return dist(EOS=1.0)


def test_length_penalty():
    step = tree_step(length_table)
    raw = beam_search(step, start(1), BOS, EOS, beam_size=2, max_len=5, length_penalty=0.0)
    mean = beam_search(step, start(1), BOS, EOS, beam_size=2, max_len=5, length_penalty=1.0)
    assert raw == [[]]  # the raw sum prefers stopping at once
    assert mean == [[A, B]]  # per-token normalisation prefers the longer, more confident one


def test_errors():
    step, state = rnn_step()
    with pytest.raises(ValueError, match="beam_size >= 1"):
        beam_search(step, state(2), BOS, EOS, beam_size=0, max_len=3)
    with pytest.raises(ValueError, match="beam_size >= 1, got 0"):
        decode(step, state(2), BOS, EOS, 3, beam_size=0)
    for k in (1, 3):
        with pytest.raises(ValueError, match="length_penalty >= 0"):
            decode(step, state(2), BOS, EOS, 3, beam_size=k, length_penalty=-1.0)
        with pytest.raises(ValueError, match="max_len >= 1"):
            decode(step, state(2), BOS, EOS, 0, beam_size=k)
    with pytest.raises(ValueError, match="batch on dim 0"):
        state_batch_size((torch.zeros(2, 3), torch.zeros(3, 3)))
    with pytest.raises(ValueError, match="log_probs of shape"):
        greedy_decode(lambda t, s: (torch.zeros(3), s), state(2), BOS, EOS, 3)
