"""Tests for rnn_lib.ngram: smoothed character n-grams against a plain Counter implementation."""

import math
from collections import Counter

import pytest
import torch

from rnn_lib.charlm import NGramModel
from rnn_lib.ngram import SmoothedNGram, order_sweep


def reference_prob(train, V, n, context, w, *, kneser_ney, discounts):
    """p(w | context) written out with Counters of tuples, one order at a time."""
    counts = {k: Counter(tuple(train[i:i + k]) for i in range(len(train) - k + 1))
              for k in range(1, n + 1)}
    # continuation counts: N(. g) = how many distinct characters precede the k-gram g
    cont = {k: Counter(g[1:] for g in counts[k + 1]) for k in range(1, n)}
    context = tuple(context)[max(len(context) - (n - 1), 0):]
    top = len(context) + 1

    def p(k, ctx):  # ctx: the last k - 1 characters
        if k == 0:
            return 1.0 / V
        kind = "cont" if kneser_ney and k < top else "raw"
        table = cont[k] if kind == "cont" else counts[k]
        follow = {g[-1]: c for g, c in table.items() if g[:-1] == ctx}
        lower = p(k - 1, ctx[1:])
        total = sum(follow.values())
        if total == 0:
            return lower
        D = discounts[(k, kind)]
        return max(follow.get(w, 0) - D, 0) / total + D * len(follow) / total * lower

    return p(top, context)


@pytest.mark.parametrize("kneser_ney", [True, False])
@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_probabilities_equal_the_plain_counter_implementation(kneser_ney, order):
    gen = torch.Generator().manual_seed(order)
    V = 4
    train = torch.randint(V - 1, (300,), generator=gen).tolist()  # id 3 never occurs
    model = SmoothedNGram(V, order, kneser_ney=kneser_ney).fit(train)
    for _ in range(12):
        length = int(torch.randint(0, 7, (1,), generator=gen))  # shorter and longer than n - 1
        context = torch.randint(V, (length,), generator=gen).tolist()
        p = model.probs(context)
        for w in range(V):
            expected = reference_prob(train, V, order, context, w, kneser_ney=kneser_ney,
                                      discounts=model.discounts)
            assert p[w].item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("kneser_ney", [True, False])
def test_probabilities_sum_to_one_for_random_contexts(kneser_ney):
    gen = torch.Generator().manual_seed(0)
    V = 30
    train = torch.randint(V, (2000,), generator=gen) % 17  # ids 17..29 never seen
    for order in (1, 2, 4, 6):
        model = SmoothedNGram(V, order, kneser_ney=kneser_ney).fit(train)
        for _ in range(20):
            context = torch.randint(V, (int(torch.randint(0, 8, (1,), generator=gen)),),
                                    generator=gen)
            p = model.probs(context)
            assert p.shape == (V,)
            assert (p > 0).all()  # smoothing: nothing has probability zero
            assert p.sum().item() == pytest.approx(1.0, abs=1e-12)


def test_tiny_example_by_hand():
    # train "abaab" (a = 0, b = 1), D = 0.5. Unigrams a: 3, b: 2 (N = 5, 2 types):
    #   p1(a) = (3 - .5)/5 + .5 * 2/5 * 1/2 = 0.6,  p1(b) = 0.4
    # bigrams ab: 2, ba: 1, aa: 1; after a: total 3, 2 types; after b: total 1, 1 type
    #   p(b|a) = 1.5/3 + .5 * 2/3 * 0.4 = 0.6333..,  p(a|b) = .5/1 + .5 * 1 * 0.6 = 0.8
    ad = SmoothedNGram(2, order=2, kneser_ney=False, discount=0.5).fit([0, 1, 0, 0, 1])
    assert ad.probs([]).tolist() == pytest.approx([0.6, 0.4])
    assert ad.probs([0]).tolist() == pytest.approx([1 - 0.5 - 0.4 / 3, 0.5 + 0.4 / 3])
    assert ad.probs([1]).tolist() == pytest.approx([0.8, 0.2])
    # Kneser-Ney: the unigram level counts distinct predecessors, a: {b, a} = 2, b: {a} = 1
    #   p1(a) = 1.5/3 + .5 * 2/3 * 1/2 = 2/3,  p(b|a) = 1.5/3 + .5 * 2/3 * 1/3 = 0.6111..
    kn = SmoothedNGram(2, order=2, kneser_ney=True, discount=0.5).fit([0, 1, 0, 0, 1])
    assert kn.probs([0]).tolist() == pytest.approx([1 - 0.5 - 1 / 9, 0.5 + 1 / 9])
    assert kn.probs([1]).tolist() == pytest.approx([0.5 + 1 / 3, 1 / 6])
    # cross-entropy of "abb": targets b|a and b|b, every character but the first
    expected = -(math.log(0.5 + 0.4 / 3) + math.log(0.2)) / 2
    assert ad.cross_entropy([0, 1, 1]) == pytest.approx(expected, rel=1e-12)


def test_order_one_is_the_unigram():
    ids = [0, 0, 0, 1, 2, 2, 3, 0, 1, 2]  # every character of V = 4 seen
    N, counts = len(ids), torch.bincount(torch.tensor(ids), minlength=4).double()
    for kneser_ney in (True, False):  # Kneser-Ney changes only the lower orders
        model = SmoothedNGram(4, order=1, kneser_ney=kneser_ney).fit(ids)
        # all characters seen: the freed mass D * V / N returns to each as D / N: p = c / N,
        # the limit alpha -> 0 of add-alpha smoothing
        assert torch.allclose(model.probs([2, 1]), counts / N)
        tiny_alpha = NGramModel(4, order=1, alpha=1e-9).fit(ids).log_probs().exp()
        assert torch.allclose(model.probs([]), tiny_alpha, atol=1e-8)
    # an unseen character gets the freed mass spread uniformly: D * types / N / V
    model = SmoothedNGram(5, order=1, kneser_ney=False).fit(ids)
    D = model.discounts[(1, "raw")]
    assert model.probs([])[4].item() == pytest.approx(D * 4 / N / 5)


def test_discounts_are_ney_estimates_inside_zero_one():
    # unigram counts a: 1, b: 1, c: 1, d: 2, e: 3 -> n1 = 3, n2 = 1, D = 3 / (3 + 2)
    model = SmoothedNGram(5, order=3).fit([0, 1, 2, 3, 3, 4, 4, 4])
    assert model.discounts[(1, "raw")] == pytest.approx(0.6)
    gen = torch.Generator().manual_seed(1)
    model = SmoothedNGram(8, order=5).fit(torch.randint(8, (3000,), generator=gen))
    assert len(model.discounts) == 5 + 4  # raw per order, continuation for orders 1..4
    assert all(0.0 < D < 1.0 for D in model.discounts.values())


def test_log_likelihoods_use_only_the_characters_before_each_target():
    gen = torch.Generator().manual_seed(2)
    train, text = torch.randint(5, (500,), generator=gen), torch.randint(5, (40,), generator=gen)
    model = SmoothedNGram(5, order=4).fit(train)
    ll = model.log_likelihoods(text)
    assert ll.shape == (39,)
    for t in range(1, 40):
        assert ll[t - 1].item() == pytest.approx(model.probs(text[:t])[text[t]].log().item(),
                                                 rel=1e-12)
    assert model.cross_entropy(text) == pytest.approx(-ll.mean().item())


def test_a_long_model_scores_as_any_lower_order():
    gen = torch.Generator().manual_seed(3)
    train, text = torch.randint(6, (800,), generator=gen), torch.randint(6, (100,), generator=gen)
    big = SmoothedNGram(6, order=7).fit(train)
    for n in (1, 3, 5):
        small = SmoothedNGram(6, order=n).fit(train)
        assert big.cross_entropy(text, order=n) == pytest.approx(small.cross_entropy(text),
                                                                 rel=1e-12)
        assert big.size(n) == small.size()


def test_order_sweep_finds_the_order_that_a_pattern_needs():
    # a period-6 pattern: after "0 1" comes 2 or 3, and only the character three back says which
    pattern = [0, 1, 2, 0, 1, 3]
    train = torch.tensor(pattern * 100)
    model, rows = order_sweep(train, train[:300], 4, orders=[1, 2, 3, 4])
    nats = [r["nats"] for r in rows]
    assert nats[0] > nats[1] > nats[3] and nats[2] > 0.2  # orders 2 and 3 cannot resolve it
    assert nats[3] < 0.01  # order 4 (three characters of context) can
    assert [r["counts"] for r in rows] == [model.size(n) for n in (1, 2, 3, 4)]
    assert model.fit_seconds >= 0


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="order"):
        SmoothedNGram(5, order=0)
    with pytest.raises(ValueError, match="discount"):
        SmoothedNGram(5, order=2, discount=1.0)
    with pytest.raises(RuntimeError, match="fit"):
        SmoothedNGram(5, order=2).probs([1])
    with pytest.raises(ValueError, match="ids in"):
        SmoothedNGram(3, order=2).fit([0, 1, 5])
    with pytest.raises(ValueError, match="order in"):
        SmoothedNGram(3, order=2).fit([0, 1, 2]).cross_entropy([0, 1], order=3)
