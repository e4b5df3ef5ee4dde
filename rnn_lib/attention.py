"""Additive (Bahdanau) attention: which source positions should the decoder look at now?

Given a query s (the decoder state) and keys h_1..h_S (the encoder states of one sentence):

    e_j     = v^T tanh(W s + U h_j)                 score of source position j
    alpha   = softmax(e) over the real positions    (padding gets weight exactly 0)
    context = sum_j alpha_j h_j                     a summary of the source, focused on j

Bahdanau, Cho & Bengio (2015), "Neural machine translation by jointly learning to align and
translate". U h_j does not depend on the decoder step, so `AdditiveAttention.project_keys`
computes it once per sentence and every step reuses it.

where N = batch size, S = source length, H_q = query size, H_k = key size, A = attention size.
"""

import torch
from torch import nn


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dimension, counting only positions where `mask` is True.

    Masked scores are set to -inf before the softmax, so their weight is exactly zero and no
    gradient flows back to them (the gradient of a constant is zero).

    Inputs:
    - scores: of shape (N, S)
    - mask: BoolTensor of shape (N, S), at least one True per row
    Returns weights of shape (N, S); each row sums to 1.
    """
    if mask.shape != scores.shape:
        raise ValueError(f"expected mask of shape {tuple(scores.shape)}, got {tuple(mask.shape)}")
    if not bool(mask.any(dim=-1).all()):
        raise ValueError("expected at least one unmasked position per row, got an empty row")
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)


class AdditiveAttention(nn.Module):
    """Bahdanau attention: e_j = v^T tanh(W s + U h_j), alpha = masked softmax(e),
    context = sum_j alpha_j h_j.

    Args:
        query_size: H_q, size of the decoder state s.
        key_size: H_k, size of the encoder states h_j (2 * hidden for a bidirectional encoder).
        attn_size: A, size of the hidden layer inside the score (default: query_size).

    Attributes:
        W: Linear(H_q, A, bias=False), U: Linear(H_k, A) (its bias is the score's bias),
        v: Linear(A, 1, bias=False).

    Inputs: query, keys, mask, proj_keys=None
    - query: of shape (N, H_q)
    - keys: of shape (N, S, H_k)
    - mask: BoolTensor of shape (N, S), True at real positions (`batching.lengths_to_mask`)
    - proj_keys: U h of shape (N, S, A), from `project_keys(keys)`; computed when None

    Outputs: context, weights
    - context: of shape (N, H_k)
    - weights: alpha, of shape (N, S); rows sum to 1, zero at padding
    """

    def __init__(self, query_size: int, key_size: int, attn_size: int | None = None):
        super().__init__()
        attn_size = attn_size or query_size
        self.query_size, self.key_size, self.attn_size = query_size, key_size, attn_size
        self.W = nn.Linear(query_size, attn_size, bias=False)
        self.U = nn.Linear(key_size, attn_size)
        self.v = nn.Linear(attn_size, 1, bias=False)

    def extra_repr(self) -> str:
        return f"query_size={self.query_size}, key_size={self.key_size}, attn_size={self.attn_size}"

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """U h_j for every position: of shape (N, S, A). Compute once per source sentence."""
        return self.U(keys)

    def scores(self, query: torch.Tensor, proj_keys: torch.Tensor) -> torch.Tensor:
        """e_j = v^T tanh(W s + U h_j), of shape (N, S), before masking."""
        hidden = torch.tanh(self.W(query).unsqueeze(1) + proj_keys)  # (N, 1, A) + (N, S, A)
        return self.v(hidden).squeeze(-1)  # (N, S)

    def forward(self, query, keys, mask, proj_keys=None):
        N, S, H_k = keys.shape
        if query.dim() != 2 or query.shape != (N, self.query_size):
            raise ValueError(f"expected query of shape ({N}, {self.query_size}), "
                             f"got {tuple(query.shape)}")
        if H_k != self.key_size:
            raise ValueError(f"expected keys with last dimension {self.key_size}, got {H_k}")
        if proj_keys is None:
            proj_keys = self.project_keys(keys)  # (N, S, A)
        weights = masked_softmax(self.scores(query, proj_keys), mask)  # (N, S)
        context = torch.bmm(weights.unsqueeze(1), keys).squeeze(1)  # (N, 1, S) @ (N, S, H_k)
        return context, weights  # (N, H_k), (N, S)
