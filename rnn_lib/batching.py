"""Batches of variable-length sequences: padding, packing and bucketing by length.

The padding and packing functions are thin wrappers around `torch.nn.utils.rnn` (the real work
happens there); they fix one convention for the course -- batch first, lengths returned beside
the padded tensor -- and add "expected X, got Y" checks.

    padded, lengths = pad_batch(seqs)          # pad_sequence       (N, T) + (N,)
    packed = pack_batch(seqs)                  # pack_sequence      PackedSequence
    packed = pack_padded(padded, lengths)      # pack_padded_sequence
    padded, lengths = unpack(packed)           # pad_packed_sequence

`BucketBatchSampler` groups sequences of similar length into the same batch ("dynamic
batching"), so that little of each padded batch is padding. `plot_padded_and_packed` draws a
batch both ways: the (N, T) grid with its padding, and the packed steps of shrinking size.

where N = batch size, T = the longest length in the batch, * = any trailing feature shape.
"""

import random
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
)
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler


def _as_tensors(seqs) -> list[torch.Tensor]:
    if len(seqs) == 0:
        raise ValueError("expected at least one sequence, got an empty batch")
    out = [s if isinstance(s, torch.Tensor) else torch.as_tensor(s) for s in seqs]
    empty = [i for i, s in enumerate(out) if s.dim() == 0 or s.shape[0] == 0]
    if empty:
        raise ValueError(f"expected sequences of length >= 1, got empty ones at {empty[:5]}")
    return out


def lengths_of(seqs) -> torch.Tensor:
    """The length of each sequence, as an int64 tensor of shape (N,) on the CPU."""
    return torch.tensor([len(s) for s in seqs], dtype=torch.long)


def pad_batch(seqs: Sequence, pad_value: float = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad sequences to the longest one (`torch.nn.utils.rnn.pad_sequence`).

    Inputs:
        seqs: N sequences (tensors or lists), sequence i of shape (T_i, *).
    Returns:
        padded: of shape (N, T, *), `pad_value` after each sequence's end.
        lengths: of shape (N,), T_i.
    """
    tensors = _as_tensors(seqs)
    return pad_sequence(tensors, batch_first=True, padding_value=pad_value), lengths_of(tensors)


def pack_batch(seqs: Sequence, enforce_sorted: bool = False) -> PackedSequence:
    """Pack sequences without padding them first (`torch.nn.utils.rnn.pack_sequence`).

    With enforce_sorted=True the sequences must come longest first (what the ONNX export
    needs); with False (the default) PyTorch sorts them and remembers how to undo the sort.
    """
    return pack_sequence(_as_tensors(seqs), enforce_sorted=enforce_sorted)


def pack_padded(padded: torch.Tensor, lengths, enforce_sorted: bool = False) -> PackedSequence:
    """Pack a padded batch (`torch.nn.utils.rnn.pack_padded_sequence`, batch first).

    Inputs:
        padded: of shape (N, T, *).
        lengths: of shape (N,), each in 1..T (kept on the CPU, as PyTorch requires).
    """
    lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
    if padded.dim() < 2 or lengths.shape != (padded.shape[0],):
        raise ValueError(f"expected padded of shape (N, T, *) and lengths of shape (N,), "
                         f"got {tuple(padded.shape)} and {tuple(lengths.shape)}")
    if lengths.min() < 1 or lengths.max() > padded.shape[1]:
        raise ValueError(f"expected lengths in 1..{padded.shape[1]}, "
                         f"got {lengths.min().item()}..{lengths.max().item()}")
    return pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=enforce_sorted)


def unpack(packed: PackedSequence, pad_value: float = 0,
           total_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Undo packing (`torch.nn.utils.rnn.pad_packed_sequence`): a padded (N, T, *) tensor in
    the original batch order and the lengths (N,). `total_length` pads to at least that T."""
    return pad_packed_sequence(packed, batch_first=True, padding_value=pad_value,
                               total_length=total_length)


def lengths_to_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """Boolean mask of the real (non-padding) positions.

    Inputs:
    - lengths: LongTensor of shape (N,), each in 1..max_len
    - max_len: S, defaults to lengths.max()
    Returns a BoolTensor of shape (N, S): mask[n, j] is True when j < lengths[n].
    """
    max_len = int(lengths.max()) if max_len is None else max_len
    positions = torch.arange(max_len, device=lengths.device)  # (S,)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)  # (N, S)


def padding_fraction(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> float:
    """The share of a padded epoch that is padding: 1 - real tokens / (N * T summed over batches).

    `batches` lists the indices of each batch (what a batch sampler yields)."""
    real = padded = 0
    for batch in batches:
        lens = [lengths[i] for i in batch]
        real += sum(lens)
        padded += len(lens) * max(lens)
    return 1.0 - real / padded


class BucketBatchSampler:
    """Batches of indices whose sequences have similar lengths (dynamic batching by length).

    Each epoch: shuffle all indices, cut them into pools of `batch_size * pool_batches`, sort
    each pool by length, cut the pool into batches, and shuffle the order of all batches. Every
    index appears exactly once per epoch; the randomness keeps epochs different, the sorting
    keeps the padding small. Pass it to a DataLoader as `batch_sampler=`.

    Args:
        lengths: the length of every example.
        batch_size: examples per batch (the last batch of a pool may be smaller).
        pool_batches: how many batches' worth of examples are sorted together; larger pools give
            tighter lengths but less random batches.
        shuffle: False gives one fixed order (sorted by length in one pool, for evaluation).
        seed: the first epoch's seed; each later epoch draws a new order from it.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, pool_batches: int = 50,
                 shuffle: bool = True, seed: int = 0):
        if batch_size < 1 or pool_batches < 1:
            raise ValueError(f"expected batch_size >= 1 and pool_batches >= 1, "
                             f"got {batch_size} and {pool_batches}")
        self.lengths = [int(n) for n in lengths]
        self.batch_size, self.pool_batches, self.shuffle = batch_size, pool_batches, shuffle
        self.rng = random.Random(seed)

    def __repr__(self) -> str:
        return (f"BucketBatchSampler({len(self.lengths)} examples, batch_size={self.batch_size}, "
                f"pool_batches={self.pool_batches}, shuffle={self.shuffle})")

    def batches(self) -> list[list[int]]:
        """One epoch of batches (draws a new order when shuffling)."""
        order = list(range(len(self.lengths)))
        pool = self.batch_size * self.pool_batches
        if self.shuffle:
            self.rng.shuffle(order)
        else:
            pool = len(order) or 1
        out = []
        for start in range(0, len(order), pool):
            chunk = sorted(order[start:start + pool], key=self.lengths.__getitem__)
            out += [chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        if self.shuffle:
            self.rng.shuffle(out)
        return out

    def __iter__(self):
        return iter(self.batches())

    def __len__(self) -> int:
        pool = self.batch_size * self.pool_batches if self.shuffle else max(len(self.lengths), 1)
        full, rest = divmod(len(self.lengths), pool)
        return full * -(-pool // self.batch_size) + -(-rest // self.batch_size)


class Batch(NamedTuple):
    """A padded batch: tokens (N, T) int64, lengths (N,) int64, targets (N, T) or (N,)."""

    tokens: torch.Tensor
    lengths: torch.Tensor
    targets: torch.Tensor


def encode_examples(pairs: Sequence[tuple], vocab, targets: dict | None = None) -> list[tuple]:
    """(tokens, target) pairs -> (token ids, target ids) pairs, ready for `collate`.

    `vocab` encodes the tokens; `targets` maps a tag or label to its id (None: kept as is).
    A target is one label per sentence or a list of one tag per token.
    """
    def target_ids(y):
        if isinstance(y, (list, tuple)):
            return [targets[t] if targets else t for t in y]
        return targets[y] if targets else y

    return [(vocab.encode(tokens), target_ids(y)) for tokens, y in pairs]


def collate(examples: Sequence[tuple], pad_id: int = 0, target_pad: int = -100) -> Batch:
    """Stack (token ids, target) pairs into a `Batch`.

    A target is either one int per sequence (classification: targets of shape (N,)) or one int
    per token (tagging: targets of shape (N, T), padded with `target_pad`, which
    `nn.CrossEntropyLoss(ignore_index=-100)` skips).
    """
    ids, targets = zip(*examples, strict=True)
    tokens, lengths = pad_batch([torch.as_tensor(x, dtype=torch.long) for x in ids], pad_id)
    if torch.as_tensor(targets[0]).dim() == 0:
        return Batch(tokens, lengths, torch.tensor(targets, dtype=torch.long))
    tags, tag_lengths = pad_batch([torch.as_tensor(y, dtype=torch.long) for y in targets],
                                  target_pad)
    if not torch.equal(lengths, tag_lengths):
        raise ValueError("expected one target per token, got different lengths")
    return Batch(tokens, lengths, tags)


def batch_loader(examples: Sequence[tuple], batch_size: int, *, pad_id: int = 0,
                 by_length: bool = False, shuffle: bool = True, seed: int = 0) -> DataLoader:
    """A DataLoader of `Batch`es over (token ids, target) pairs; a new order every epoch.

    by_length=True batches similar lengths together (`BucketBatchSampler`); False draws
    batches at random (or in order when shuffle=False).
    """
    if by_length:
        sampler = BucketBatchSampler([len(x) for x, _ in examples], batch_size,
                                     shuffle=shuffle, seed=seed)
    else:
        order = (RandomSampler(examples, generator=torch.Generator().manual_seed(seed))
                 if shuffle else SequentialSampler(examples))
        sampler = BatchSampler(order, batch_size, drop_last=False)
    return DataLoader(examples, batch_sampler=sampler,
                      collate_fn=lambda b: collate(b, pad_id=pad_id))


def plot_padded_and_packed(seqs: Sequence, axes=None, annotate: bool | None = None):
    """Draw a batch padded (left) and packed (right), one colour per sequence.

    Left: the (N, T) padded tensor, padding in grey. Right: the PackedSequence, time-major:
    column t holds the batch_sizes[t] sequences still running at step t (longest first, as
    `sorted_indices` orders them), which is what the RNN computes at that step;
    `packed.data` is these columns read top to bottom, left to right.

    Inputs:
        seqs: N sequences of token ids (tensors or lists), sequence i of shape (T_i,).
        axes: two matplotlib axes, or None for a new figure.
        annotate: write the token ids in the cells (default: when T <= 16).
    Returns: the two axes.
    """
    import matplotlib.pyplot as plt  # plotting only when asked for
    import numpy as np
    from matplotlib.colors import to_rgba

    tensors = _as_tensors(seqs)
    padded, lengths = pad_batch(tensors)
    packed = pack_batch(tensors)
    N, T = padded.shape
    annotate = T <= 16 if annotate is None else annotate
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(min(6 + 0.8 * T, 14), 1.4 + 0.45 * N))
    colours = plt.get_cmap("tab10")
    grey, white = to_rgba("0.88"), to_rgba("white")
    grid = np.array([[to_rgba(colours(i % 10), 0.55) if t < lengths[i] else grey
                      for t in range(T)] for i in range(N)])  # (N, T, 4)
    packed_grid = np.array([[white] * T for _ in range(N)])
    order = packed.sorted_indices.tolist() if packed.sorted_indices is not None else range(N)
    for row, i in enumerate(order):
        packed_grid[row, : lengths[i]] = to_rgba(colours(i % 10), 0.55)
    for ax, image in zip(axes, (grid, packed_grid), strict=True):
        ax.imshow(image, aspect="auto", interpolation="nearest")
        ax.set_xticks(range(T))
        ax.set_yticks(range(N))
        ax.set_xticks(np.arange(-0.5, T), minor=True)
        ax.set_yticks(np.arange(-0.5, N), minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
    axes[0].set_yticklabels([f"seq {i} (len {int(n)})" for i, n in enumerate(lengths)])
    axes[0].set_xticklabels([str(t + 1) for t in range(T)])
    axes[0].set_xlabel("step t")
    axes[0].set_title(f"padded ({N}, {T}): {N * T - int(lengths.sum())} of {N * T} cells padding",
                      fontsize=10)
    axes[1].set_yticklabels([f"seq {i}" for i in order])
    sizes = packed.batch_sizes.tolist()
    axes[1].set_xticklabels([f"{t + 1}\n{b}" for t, b in enumerate(sizes)])
    axes[1].set_xlabel("step t / batch_sizes[t]")
    axes[1].set_title(f"packed: {packed.data.shape[0]} cells, {T} steps", fontsize=10)
    if annotate:
        for i in range(N):
            for t in range(int(lengths[i])):
                axes[0].text(t, i, int(padded[i, t]), ha="center", va="center", fontsize=8)
        for row, i in enumerate(order):
            for t in range(int(lengths[i])):
                axes[1].text(t, row, int(padded[i, t]), ha="center", va="center", fontsize=8)
    return axes
