"""Smoothed character n-grams: the baseline a character language model has to beat.

An n-gram model predicts the next character from the n - 1 characters before it, by counting.
Counts alone give probability zero to anything unseen, so they are *smoothed*: interpolated
absolute discounting (Ney, Essen & Kneser 1994) subtracts a discount 0 < D < 1 from every seen
count and gives the mass it frees to the next lower order,

    p_k(w | h) = max(c(h w) - D_k, 0) / c(h .)  +  D_k N(h .) / c(h .) * p_{k-1}(w | h')

where h is the context (k - 1 characters), h' is h without its first character, c(h .) is the
total count of h followed by anything and N(h .) the number of distinct characters seen after h
(so the two terms add up to 1 over the alphabet). The recursion ends at the uniform
distribution p_0(w) = 1 / V, so no character has probability zero. A context never seen
(c(h .) = 0) passes the lower order's distribution through unchanged.

Kneser-Ney smoothing (Kneser & Ney 1995; Chen & Goodman 1999) uses the same recursion but
replaces the counts of every *lower* order by continuation counts: c(h' w) becomes the number of
distinct characters seen before h' w. A lower order is only consulted when the longer context
is rare, and there "in how many contexts does w follow h'?" predicts better than "how often?".

The discount of each order is Ney's estimate D = n1 / (n1 + 2 n2), with n1 and n2 the numbers
of n-grams seen exactly once and twice; it is in (0, 1) whenever both are nonzero.

Implementation: every k-gram seen in training gets a dense id (its index in the sorted table of
order k), and a k-gram is stored under the key  id(its first k - 1 characters) * V + last id,
so counting is `np.unique` over an array of keys, any order fits in int64, and looking up a
batch of n-grams is one `np.searchsorted` per order. NumPy, not torch, does this counting: its
sorts and searches run on one thread, which keeps them fast on a machine that is busy with
other work (torch's many small multi-threaded calls slow down badly there). Inputs and outputs
are torch tensors, as everywhere in rnn_lib.

Letters used in shapes: B = batch of contexts, T = text length, V = vocabulary size.
"""

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rnn_lib.charlm import as_ids


@dataclass
class _Table:
    """Counts of the k-grams of one order, and per context (the first k - 1 characters) their
    total and the number of distinct characters that follow. All keys sorted, int64 arrays."""

    keys: np.ndarray  # (G,) k-gram keys
    counts: np.ndarray  # (G,) c(h w), float64
    ctx_keys: np.ndarray  # (C,) context keys (key // V)
    ctx_totals: np.ndarray  # (C,) c(h .)
    ctx_types: np.ndarray  # (C,) N(h .)

    @classmethod
    def build(cls, keys: np.ndarray, counts: np.ndarray, V: int) -> "_Table":
        ctx, inverse = np.unique(keys // V, return_inverse=True)
        totals = np.bincount(inverse, weights=counts, minlength=ctx.size)
        types = np.bincount(inverse, minlength=ctx.size).astype(np.float64)
        return cls(keys, counts.astype(np.float64), ctx, totals, types)


def _index(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The position of each query among the sorted keys, -1 where it is not there."""
    if keys.size == 0:
        return np.full(query.shape, -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, query), keys.size - 1)
    return np.where(keys[pos] == query, pos, -1)


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """values[i] where keys[i] == query, 0 where the query is not among the (sorted) keys."""
    pos = _index(keys, query)
    return np.where(pos >= 0, values[np.maximum(pos, 0)], 0.0)


def _discount(counts: np.ndarray) -> float:
    """Ney's estimate n1 / (n1 + 2 n2), kept inside (0, 1) when a count-of-counts is empty."""
    n1, n2 = float((counts == 1).sum()), float((counts == 2).sum())
    return n1 / (n1 + 2 * n2) if n1 > 0 and n2 > 0 else 0.5


def _as_array(ids: Sequence[int] | torch.Tensor) -> np.ndarray:
    return as_ids(ids).numpy().astype(np.int64)


class SmoothedNGram:
    """Interpolated Kneser-Ney (default) or absolute-discounting character n-gram model.

    Args:
        vocab_size: V, ids are in [0, V).
        order: n, the longest n-gram used (the context is n - 1 characters); 1 is a unigram.
        kneser_ney: True: continuation counts for the lower orders; False: raw counts at every
            order (interpolated absolute discounting).
        discount: one D in (0, 1) for every order, or None for Ney's estimate per order.

    After `fit`, `discounts[(k, "raw")]` holds D of order k and, for Kneser-Ney,
    `discounts[(k, "cont")]` that of its continuation counts; `size()` is the number of counts
    stored (the model's "parameters"). A fitted model of order n also scores as any lower order
    (`order=` of `probs`, `log_likelihoods`, `cross_entropy`): its tables contain theirs.
    """

    def __init__(self, vocab_size: int, order: int = 5, *, kneser_ney: bool = True,
                 discount: float | None = None):
        if order < 1:
            raise ValueError(f"expected order >= 1, got {order}")
        if vocab_size < 1:
            raise ValueError(f"expected vocab_size >= 1, got {vocab_size}")
        if discount is not None and not 0.0 < discount < 1.0:
            raise ValueError(f"expected a discount in (0, 1) or None, got {discount}")
        self.vocab_size, self.order, self.kneser_ney = vocab_size, order, kneser_ney
        self.fixed_discount = discount
        self.raw: dict[int, _Table] = {}  # order k -> table of raw counts
        self.cont: dict[int, _Table] = {}  # order k < n -> continuation counts (Kneser-Ney)
        self.discounts: dict[tuple[int, str], float] = {}  # (k, "raw" | "cont") -> D

    def fit(self, ids: Sequence[int] | torch.Tensor) -> "SmoothedNGram":
        """Count every k-gram of a training text, k = 1 .. order (and continuation counts)."""
        ids = _as_array(ids)
        V, T = self.vocab_size, ids.size
        if int(ids.max()) >= V or int(ids.min()) < 0:
            raise ValueError(f"expected ids in [0, {V}), got [{int(ids.min())}, {int(ids.max())}]")
        gram_id = np.zeros(T + 1, dtype=np.int64)  # id of the (k-1)-gram starting at i
        for k in range(1, min(self.order, T) + 1):
            key = gram_id[:T - k + 1] * V + ids[k - 1:]  # (T - k + 1,) the k-gram at i
            grams, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
            self.raw[k] = _Table.build(grams, counts, V)
            if self.kneser_ney and k > 1:
                # N(. h' w): how many distinct characters come before the (k-1)-gram h' w;
                # the k-gram at i ends with the (k-1)-gram at i + 1
                suffix = np.zeros(grams.size, dtype=np.int64)
                suffix[inverse] = gram_id[1:T - k + 2]  # (G,) id of each k-gram's suffix
                suffix_ids, n_before = np.unique(suffix, return_counts=True)
                self.cont[k - 1] = _Table.build(self.raw[k - 1].keys[suffix_ids], n_before, V)
            gram_id = inverse.reshape(-1)
        for k in self.raw:
            for kind, table in (("raw", self.raw.get(k)), ("cont", self.cont.get(k))):
                if table is not None:
                    self.discounts[(k, kind)] = self.fixed_discount or _discount(table.counts)
        return self

    def size(self, order: int | None = None) -> int:
        """How many counts the model of `order` (default: all of it) stores, every table."""
        n = self._check_order(order)
        return sum(t.keys.size for d in (self.raw, self.cont) for k, t in d.items()
                   if k < n or (k == n and d is self.raw))

    def _check_order(self, order: int | None) -> int:
        if not self.raw:
            raise RuntimeError("expected a fitted model: call fit(ids) first")
        n = self.order if order is None else order
        if not 1 <= n <= self.order:
            raise ValueError(f"expected an order in [1, {self.order}], got {order}")
        return n

    def _gram_ids(self, grams: np.ndarray) -> np.ndarray:
        """Dense ids of j-grams of shape (B, j) in the table of order j; -1 if never seen."""
        gid = np.zeros(grams.shape[0], dtype=np.int64)  # the empty gram
        for j in range(1, grams.shape[1] + 1):
            if j not in self.raw:
                return np.full_like(gid, -1)
            found = _index(self.raw[j].keys, np.maximum(gid, 0) * self.vocab_size + grams[:, j - 1])
            gid = np.where(gid >= 0, found, -1)
        return gid

    def _probs(self, history: list[np.ndarray], targets: np.ndarray) -> np.ndarray:
        """p(targets[b] | context b) under the model of order len(history); returns (B,).

        history[k - 1] holds, for every b, the id of the last k - 1 context characters
        (-1 if never seen in training), k = 1 .. the order used.
        """
        V, top = self.vocab_size, len(history)
        p = np.full(targets.shape, 1.0 / V)  # p_0: uniform
        for k in range(1, top + 1):
            kind = "cont" if self.kneser_ney and k < top else "raw"
            table = (self.cont if kind == "cont" else self.raw).get(k)
            if table is None:  # a training text shorter than the order
                break
            D, h = self.discounts[(k, kind)], history[k - 1]
            c = _lookup(table.keys, table.counts, h * V + targets)
            total = _lookup(table.ctx_keys, table.ctx_totals, h)
            types = _lookup(table.ctx_keys, table.ctx_types, h)
            safe = np.maximum(total, 1.0)
            interpolated = np.maximum(c - D, 0.0) / safe + D * types / safe * p
            p = np.where(total > 0, interpolated, p)  # an unseen context keeps the lower order
        return p

    def probs(self, context: Sequence[int] | torch.Tensor, order: int | None = None
              ) -> torch.Tensor:
        """The next-character distribution after a context (its last order - 1 ids), shape (V,)."""
        n = self._check_order(order)
        context = torch.as_tensor(context, dtype=torch.long).flatten().numpy()
        context = context[max(context.size - (n - 1), 0):]  # (m,), m < n
        m = context.size
        history = [self._gram_ids(context[None, m - k + 1:]) for k in range(1, m + 2)]
        return torch.from_numpy(self._probs(history, np.arange(self.vocab_size)))

    def log_likelihoods(self, ids: Sequence[int] | torch.Tensor, order: int | None = None
                        ) -> torch.Tensor:
        """log p(ids[t] | ids[t-n+1 : t]) for t = 1 .. T-1, of shape (T - 1,).

        `order` (default: the fitted one) scores as the model of that lower order would: its
        tables are part of this one. The first positions have fewer than n - 1 characters
        before them and use all they have.
        """
        ids = _as_array(ids)
        n, T, V = self._check_order(order), ids.size, self.vocab_size
        out = np.empty(T - 1)
        for t in range(1, min(n - 1, T)):  # short contexts at the start of the text
            out[t - 1] = math.log(self.probs(ids[:t], order=t + 1)[ids[t]])
        # gid[j][s]: the id of the j-gram starting at s (-1: unseen), built one order at a time
        gid = [np.zeros(T + 1, dtype=np.int64)]
        for j in range(1, n):
            prev = gid[-1][:T - j + 1]
            found = _index(self.raw[j].keys, np.maximum(prev, 0) * V + ids[j - 1:])
            gid.append(np.where(prev >= 0, found, -1))
        first = max(n - 1, 1)  # targets t >= first have a full context of n - 1 characters
        if first < T:
            history = [gid[k - 1][first - k + 1:T - k + 1] for k in range(1, n + 1)]
            out[first - 1:] = np.log(self._probs(history, ids[first:]))
        return torch.from_numpy(out)

    def cross_entropy(self, ids: Sequence[int] | torch.Tensor, order: int | None = None
                      ) -> float:
        """Mean negative log-likelihood of ids[1:], in nats per character (as charlm.evaluate)."""
        return float(-self.log_likelihoods(ids, order).mean())

    def __repr__(self) -> str:
        kind = "Kneser-Ney" if self.kneser_ney else "absolute discounting"
        return f"SmoothedNGram(order={self.order}, {kind}, vocab_size={self.vocab_size})"


def order_sweep(train_ids, val_ids, vocab_size: int, orders: Sequence[int] = range(1, 9), *,
                kneser_ney: bool = True) -> tuple[SmoothedNGram, list[dict]]:
    """Fit one model of the largest order and score it as every order in `orders`.

    Returns the model and one row per order: {"order", "nats", "perplexity", "counts"
    (stored by a model of that order), "seconds" (to score the validation text)}; the model's
    `fit_seconds` is the time it took to count.
    """
    start = time.perf_counter()
    model = SmoothedNGram(vocab_size, max(orders), kneser_ney=kneser_ney).fit(train_ids)
    model.fit_seconds = time.perf_counter() - start
    rows = []
    for n in orders:
        start = time.perf_counter()
        ce = model.cross_entropy(val_ids, order=n)
        rows.append({"order": n, "nats": ce, "perplexity": math.exp(ce), "counts": model.size(n),
                     "seconds": time.perf_counter() - start})
    return model, rows
