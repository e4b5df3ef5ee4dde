"""Additive attention: scores against the formula, masking, weights, context and gradients."""

import pytest
import torch

from rnn_lib.attention import AdditiveAttention, masked_softmax
from rnn_lib.batching import lengths_to_mask

N, S, HQ, HK, A = 3, 5, 4, 6, 7


def make(dtype=torch.float32, seed=0):
    torch.manual_seed(seed)
    attn = AdditiveAttention(HQ, HK, A).to(dtype)
    query = torch.randn(N, HQ, dtype=dtype)
    keys = torch.randn(N, S, HK, dtype=dtype)
    lengths = torch.tensor([5, 3, 1])
    return attn, query, keys, lengths_to_mask(lengths, S)


def test_lengths_to_mask():
    mask = lengths_to_mask(torch.tensor([2, 4, 1]), 4)
    expected = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype=torch.bool)
    assert torch.equal(mask, expected)
    assert lengths_to_mask(torch.tensor([2, 3])).shape == (2, 3)  # S defaults to the max


def test_scores_match_the_formula_position_by_position():
    attn, query, keys, _ = make(torch.float64)
    got = attn.scores(query, attn.project_keys(keys))
    W, U, b, v = attn.W.weight, attn.U.weight, attn.U.bias, attn.v.weight[0]
    for n in range(N):
        for j in range(S):
            e = v @ torch.tanh(W @ query[n] + U @ keys[n, j] + b)  # v^T tanh(W s + U h_j)
            assert torch.allclose(got[n, j], e)


def test_weights_sum_to_one_and_are_zero_on_padding():
    attn, query, keys, mask = make()
    context, weights = attn(query, keys, mask)
    assert weights.shape == (N, S)
    assert torch.allclose(weights.sum(-1), torch.ones(N))
    assert torch.all(weights[~mask] == 0)  # exactly zero, not just small
    assert torch.all(weights[mask] > 0)
    assert torch.allclose(weights[2], torch.tensor([1.0, 0, 0, 0, 0]))  # one real position


def test_masked_softmax_equals_softmax_over_the_real_positions():
    scores = torch.randn(N, S)
    lengths = [5, 3, 1]
    w = masked_softmax(scores, lengths_to_mask(torch.tensor(lengths), S))
    for n, L in enumerate(lengths):
        assert torch.allclose(w[n, :L], torch.softmax(scores[n, :L], dim=0))


def test_context_is_the_weighted_sum_of_keys():
    attn, query, keys, mask = make()
    context, weights = attn(query, keys, mask)
    assert context.shape == (N, HK)
    expected = (weights.unsqueeze(-1) * keys).sum(1)  # sum_j alpha_j h_j
    assert torch.allclose(context, expected, atol=1e-6)


def test_precomputed_projection_gives_the_same_result():
    attn, query, keys, mask = make()
    c1, w1 = attn(query, keys, mask)
    c2, w2 = attn(query, keys, mask, attn.project_keys(keys))
    assert torch.equal(c1, c2) and torch.equal(w1, w2)


def test_masked_positions_get_no_gradient_and_do_not_matter():
    attn, query, keys, mask = make()
    keys.requires_grad_(True)
    context, _ = attn(query, keys, mask)
    context.sum().backward()
    assert torch.all(keys.grad[~mask] == 0)
    assert keys.grad[mask].abs().sum() > 0
    # whatever sits in the padding, the output is the same
    noisy = keys.detach().clone()
    noisy[~mask] = 1e3 * torch.randn(int((~mask).sum()), HK)
    assert torch.allclose(attn(query, noisy, mask)[0], context.detach())


def test_gradients_match_finite_differences():
    attn, query, keys, mask = make(torch.float64)
    query.requires_grad_(True)
    keys.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda q, k: attn(q, k, mask)[0], (query, keys))


def test_errors_say_what_was_expected():
    attn, query, keys, mask = make()
    with pytest.raises(ValueError, match="expected mask of shape"):
        masked_softmax(torch.randn(N, S), mask[:, :2])
    with pytest.raises(ValueError, match="at least one unmasked position"):
        masked_softmax(torch.randn(2, 3), torch.tensor([[True, False, False], [False] * 3]))
    with pytest.raises(ValueError, match=r"expected query of shape \(3, 4\)"):
        attn(query[:, :2], keys, mask)
    with pytest.raises(ValueError, match="expected keys with last dimension 6"):
        attn(query, keys[..., :2], mask)
    assert "query_size=4, key_size=6, attn_size=7" in repr(attn)
