"""Synthetic sequence tasks: long-range dependencies and a counting language.

Each generator draws a fresh random batch from a `torch.Generator` (pass one for repeatable
data; the global generator is used otherwise) and returns tensors ready for a
`batch_first=True` recurrent layer:

- `first_token_recall`: remember the first symbol of a sequence over T - 1 distractors
  (after Hochreiter & Schmidhuber, 1997, experiment 2); a classification task, chance = 1 / K.
- `adding_problem`: add the two numbers marked in a sequence of random numbers
  (Hochreiter & Schmidhuber, 1997, experiment 4); a regression task, predicting the mean
  (1.0) scores a mean squared error of 1/6.
- `anbn_sample`: the counting language a^n b^n (Gers & Schmidhuber, 2001;
  Weiss, Goldberg & Yahav, 2018) with near-miss negatives, and `encode_strings` to turn
  strings into padded one-hot tensors with their lengths.

where N = batch size, T = sequence length, K = number of symbols, A = alphabet size.
"""

import torch


class TaskError(ValueError):
    """A task asked for with arguments it cannot be generated from."""


def _check_positive(name: str, value: int, minimum: int = 1) -> None:
    if int(value) != value or value < minimum:
        raise TaskError(f"expected {name} to be an integer >= {minimum}, got {value!r}")


def first_token_recall(
    batch_size: int,
    seq_len: int,
    num_symbols: int = 8,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of "recall the first token" sequences.

    Every step holds a random symbol out of K; step 0 also carries a marker ("remember this").
    After the last step the model must name the symbol of step 0, so that information has to
    survive T - 1 steps of distractors drawn from the same K symbols.

    Args:
        batch_size: N, the number of sequences.
        seq_len: T >= 2, the length of each sequence (the time lag is T - 1).
        num_symbols: K >= 2, the number of classes (chance accuracy is 1 / K).
        generator: a torch.Generator for repeatable batches.

    Outputs: (x, y)
        x: inputs of shape (N, T, K + 1), float32: channels 0..K-1 the one-hot symbol,
           channel K the marker (1 at step 0, 0 elsewhere).
        y: the symbol at step 0 of each sequence, of shape (N,), int64 in [0, K).
    """
    _check_positive("batch_size", batch_size)
    _check_positive("seq_len", seq_len, 2)
    _check_positive("num_symbols", num_symbols, 2)
    N, T, K = batch_size, seq_len, num_symbols
    tokens = torch.randint(0, K, (N, T), generator=generator)  # (N, T)
    marker = torch.zeros(N, T, 1)
    marker[:, 0] = 1.0
    x = torch.cat([torch.nn.functional.one_hot(tokens, K).float(), marker], dim=-1)  # (N, T, K+1)
    return x, tokens[:, 0]


def adding_problem(
    batch_size: int, seq_len: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of the adding problem.

    Each step carries a number drawn uniformly from [0, 1) and a marker; exactly two steps are
    marked, one in each half of the sequence. The target is the sum of the two marked numbers.

    Args:
        batch_size: N, the number of sequences.
        seq_len: T >= 2, the length of each sequence.
        generator: a torch.Generator for repeatable batches.

    Outputs: (x, y)
        x: inputs of shape (N, T, 2): channel 0 the numbers, channel 1 the markers (0 or 1).
        y: the sums of the marked numbers, of shape (N,), float32 in [0, 2).
    """
    _check_positive("batch_size", batch_size)
    _check_positive("seq_len", seq_len, 2)
    N, T = batch_size, seq_len
    half = T // 2
    values = torch.rand(N, T, generator=generator)  # (N, T)
    first = torch.randint(0, half, (N,), generator=generator)  # (N,) in the first half
    second = torch.randint(half, T, (N,), generator=generator)  # (N,) in the second half
    markers = torch.zeros(N, T)
    rows = torch.arange(N)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = torch.stack([values, markers], dim=-1)  # (N, T, 2)
    y = values[rows, first] + values[rows, second]  # (N,)
    return x, y


def _near_miss(n: int, generator: torch.Generator | None) -> str:
    """A string close to a^n b^n that is not in the language (a count or the order is off)."""
    kind = int(torch.randint(0, 3, (1,), generator=generator))
    delta = int(torch.randint(1, 3, (1,), generator=generator))  # off by 1 or 2
    sign = 1 if int(torch.randint(0, 2, (1,), generator=generator)) or n - delta < 1 else -1
    if kind == 0:  # too many or too few b's
        return "a" * n + "b" * (n + sign * delta)
    if kind == 1:  # too many or too few a's
        return "a" * (n + sign * delta) + "b" * n
    # the right counts in the wrong order: one b moved before the last a
    if n == 1:
        return "ba"
    return "a" * (n - 1) + "ba" + "b" * (n - 1)


def anbn_sample(
    ns, generator: torch.Generator | None = None
) -> tuple[list[str], torch.Tensor]:
    """Labelled strings for recognising a^n b^n: one positive and one near miss per n.

    The negatives are what makes the task about counting: a^n b^(n±d) and a^(n±d) b^n with
    d in {1, 2}, or the right counts with one b moved before the last a.

    Args:
        ns: the values of n (each >= 1) to draw examples for; repeat a value for more examples.
        generator: a torch.Generator for repeatable negatives.

    Outputs: (strings, labels)
        strings: 2 * len(ns) strings over "ab", positive and negative interleaved.
        labels: of shape (2 * len(ns),), int64, 1 for a^n b^n and 0 otherwise.
    """
    strings, labels = [], []
    for n in ns:
        _check_positive("n", n)
        strings += ["a" * n + "b" * n, _near_miss(int(n), generator)]
        labels += [1, 0]
    return strings, torch.tensor(labels, dtype=torch.long)


def encode_strings(strings: list[str], alphabet: str = "ab") -> tuple[torch.Tensor, torch.Tensor]:
    """One-hot encode strings, padded with zero vectors to the longest one.

    Inputs:
        strings: N non-empty strings over `alphabet`.
        alphabet: the A symbols, in the order of the one-hot channels.

    Outputs: (x, lengths)
        x: of shape (N, T, A) with T the longest length, float32; padding steps are all zero.
        lengths: of shape (N,), int64 (what `pack_padded_sequence` wants).
    """
    if not strings:
        raise TaskError("expected at least one string, got none")
    index = {c: i for i, c in enumerate(alphabet)}
    lengths = torch.tensor([len(s) for s in strings], dtype=torch.long)  # (N,)
    if int(lengths.min()) == 0:
        raise TaskError("expected non-empty strings, got an empty one")
    x = torch.zeros(len(strings), int(lengths.max()), len(alphabet))  # (N, T, A)
    for row, s in enumerate(strings):
        bad = set(s) - set(index)
        if bad:
            raise TaskError(f"expected symbols from {alphabet!r}, got {sorted(bad)}")
        x[row, torch.arange(len(s)), torch.tensor([index[c] for c in s])] = 1.0
    return x, lengths
