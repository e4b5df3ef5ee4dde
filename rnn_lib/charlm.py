"""Character-level language modelling: a corpus, baselines, an LSTM model and its evaluation.

A language model assigns a probability to the next character given the ones before it,

    p(x_1, ..., x_T) = prod_t p(x_t | x_<t),

and is scored by its cross-entropy on held-out text, in nats per character,

    CE = -(1 / T) sum_t log p(x_t | x_<t),        perplexity = exp(CE).

Lecture 07 compares such models on the same split of the same text: a unigram model (ignores
the past), a bigram model (looks one character back), smoothed n-grams that look up to n - 1
characters back (`rnn_lib.ngram`) and a recurrent model whose hidden state can, in principle,
summarise the whole past. The corpus is CPython's own help
text (`pydoc_data.topics`), which ships with every Python, so nothing is downloaded.

Letters used in shapes: N = batch size, T = sequence length, V = vocabulary size,
H = hidden size; the number of layers is spelled out (num_layers).
"""

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from rnn_lib.encoders import recurrent_layer
from rnn_lib.training import in_eval_mode, model_device

# ----------------------------------------------------------------------------- corpus


def load_corpus() -> str:
    """The English help text that ships with CPython: the topics joined in sorted key order.

    About 0.46 MB of prose and code examples (the text behind `help("assert")`); the same string
    on every machine with the same Python version.
    """
    from pydoc_data.topics import topics  # imported here: no work at import time

    return "".join(topics[key] for key in sorted(topics))


def split_text(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """Split a text by position: the first part to train on, the last `val_fraction` to validate.

    Splitting by position (not at random characters) keeps the validation text a passage the
    model has never seen, as a held-out document would be.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"expected 0 < val_fraction < 1, got {val_fraction}")
    cut = len(text) - int(round(len(text) * val_fraction))
    if cut < 2 or len(text) - cut < 2:
        raise ValueError(f"expected a text long enough to split, got {len(text)} characters")
    return text[:cut], text[cut:]


# ----------------------------------------------------------------------------- baselines


def as_ids(ids: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """Character ids as a flat long tensor; at least 2 are needed (an input and a target)."""
    ids = torch.as_tensor(ids, dtype=torch.long).flatten()
    if ids.numel() < 2:
        raise ValueError(f"expected at least 2 characters, got {ids.numel()}")
    return ids


class NGramModel:
    """Count-based unigram (order=1) or bigram (order=2) model with add-alpha smoothing.

        unigram: p(b)     = (count(b) + alpha) / (N + alpha V)
        bigram:  p(b | a) = (count(a, b) + alpha) / (count(a) + alpha V)

    where count(a) counts the characters `a` that have a successor. Both models are scored on
    the same targets as the recurrent model: every character of a text except the first.

    Args:
        vocab_size: V, the number of distinct characters.
        order: 1 (unigram) or 2 (bigram).
        alpha: the pseudo-count added to every cell (1.0 is Laplace's add-one smoothing).
    """

    def __init__(self, vocab_size: int, order: int = 2, alpha: float = 1.0):
        if order not in (1, 2):
            raise ValueError(f"expected order 1 or 2, got {order}")
        if alpha <= 0:
            raise ValueError(f"expected alpha > 0 (unseen pairs need a probability), got {alpha}")
        self.vocab_size, self.order, self.alpha = vocab_size, order, alpha
        self.counts = torch.zeros((vocab_size,) * order, dtype=torch.float64)

    def fit(self, ids: Sequence[int] | torch.Tensor) -> "NGramModel":
        """Count the characters (order 1) or adjacent pairs (order 2) of a training text."""
        ids = as_ids(ids)
        if self.order == 1:
            self.counts = torch.bincount(ids, minlength=self.vocab_size).double()
        else:
            pairs = ids[:-1] * self.vocab_size + ids[1:]  # one index per (a, b) pair
            flat = torch.bincount(pairs, minlength=self.vocab_size**2).double()
            self.counts = flat.view(self.vocab_size, self.vocab_size)
        return self

    def log_probs(self) -> torch.Tensor:
        """Smoothed log-probabilities: of shape (V,) for a unigram, (V, V) [a, b] for a bigram."""
        smoothed = self.counts + self.alpha
        return (smoothed / smoothed.sum(dim=-1, keepdim=True)).log()

    def cross_entropy(self, ids: Sequence[int] | torch.Tensor) -> float:
        """Mean negative log-likelihood of ids[1:], in nats per character."""
        ids = as_ids(ids)
        logp = self.log_probs()
        picked = logp[ids[1:]] if self.order == 1 else logp[ids[:-1], ids[1:]]
        return float(-picked.mean())

    def __repr__(self) -> str:
        name = {1: "unigram", 2: "bigram"}[self.order]
        return f"NGramModel({name}, vocab_size={self.vocab_size}, alpha={self.alpha})"


# ----------------------------------------------------------------------------- model


@dataclass
class CharRNNConfig:
    vocab_size: int  # V, number of distinct characters
    hidden_size: int = 128  # H, width of every recurrent layer
    num_layers: int = 1  # stacked recurrent layers
    embedding_dim: int | None = 32  # None: feed one-hot vectors of size V instead
    dropout: float = 0.0  # between layers and before the output layer (training only)
    cell: str = "lstm"  # "lstm", "gru" or "rnn" (tanh), as `cell=` of rnn_lib.encoders


class CharRNN(nn.Module):
    """Next-character model: characters -> (embedding | one-hot) -> stacked RNN -> logits.

    Inputs: x, state
        - x: character ids of shape (N, T).
        - state: None (zeros) or the state returned by the previous call: for an LSTM a pair
          (h, c), each of shape (num_layers, N, H); for a GRU/RNN a tensor h of shape
          (num_layers, N, H).
    Outputs: logits, state
        - logits: unnormalised scores for the next character, of shape (N, T, V).
        - state: the state after the last step, to pass to the next call (truncated BPTT and
          generation both carry it over).
    """

    def __init__(self, config: CharRNNConfig):
        super().__init__()
        c = self.config = config
        in_size = c.vocab_size if c.embedding_dim is None else c.embedding_dim
        self.embed = None if c.embedding_dim is None else nn.Embedding(c.vocab_size, in_size)
        self.rnn = recurrent_layer(c.cell, in_size, c.hidden_size, c.num_layers,
                                   dropout=c.dropout)
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden_size, c.vocab_size)

    def forward(self, x: torch.Tensor, state=None):
        if x.dim() != 2:
            raise ValueError(f"expected character ids of shape (N, T), got {tuple(x.shape)}")
        if self.embed is None:
            inp = F.one_hot(x, self.config.vocab_size).to(self.head.weight.dtype)  # (N, T, V)
        else:
            inp = self.embed(x)  # (N, T, E)
        out, state = self.rnn(inp, state)  # (N, T, H)
        return self.head(self.drop(out)), state  # (N, T, V)


def detach_state(state):
    """Cut the graph behind a state (a tensor or a tuple of tensors): truncated BPTT."""
    if state is None or isinstance(state, torch.Tensor):
        return None if state is None else state.detach()
    return tuple(s.detach() for s in state)


# ----------------------------------------------------------------------------- training data


class StreamBatches:
    """Consecutive windows over N parallel streams of a text, for truncated BPTT.

    The text is cut into N equal streams (rows); window i holds columns [i T, (i+1) T) of every
    row, so row n of window i+1 continues exactly where row n of window i stopped and the hidden
    state can be carried from one window to the next. Each pass starts at a fresh random offset
    in [0, T) so windows do not always cut the text at the same places.

    Iterating yields tuples (x, y, i): inputs and next-character targets, both of shape (N, T),
    and the window index i as a 0-d tensor (0 means "a new pass starts: reset the state").
    """

    def __init__(self, ids: Sequence[int] | torch.Tensor, batch_size: int, seq_len: int,
                 seed: int = 0):
        ids = as_ids(ids)
        self.ids, self.batch_size, self.seq_len = ids, batch_size, seq_len
        self.generator = torch.Generator().manual_seed(seed)
        if len(self) < 1:
            raise ValueError(f"expected at least {(batch_size + 1) * seq_len + 1} "
                             f"characters for batch_size={batch_size}, seq_len={seq_len}, "
                             f"got {ids.numel()}")

    def __len__(self) -> int:
        usable = (self.ids.numel() - self.seq_len - 1) // self.batch_size  # per row, any offset
        return usable // self.seq_len

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        N, T = self.batch_size, self.seq_len
        offset = int(torch.randint(T, (1,), generator=self.generator))
        cols = len(self) * T
        data = self.ids[offset: offset + N * cols + 1]
        rows_x = data[:-1].view(N, cols)  # (N, cols)
        rows_y = data[1:].view(N, cols)  # targets: the same rows shifted by one character
        for i in range(len(self)):
            yield rows_x[:, i * T:(i + 1) * T], rows_y[:, i * T:(i + 1) * T], torch.tensor(i)


class CarriedStateLoss:
    """`loss_fn(model, batch)` for `rnn_lib.training.train` that carries the state between windows.

    Keeps the last state (detached, so gradients stop at the window boundary: truncated BPTT)
    and resets it when a batch's window index is 0.
    """

    def __init__(self):
        self.state = None

    def __call__(self, model: CharRNN, batch) -> torch.Tensor:
        x, y, index = batch
        if int(index) == 0:
            self.state = None
        logits, state = model(x, self.state)  # (N, T, V)
        self.state = detach_state(state)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))


# ----------------------------------------------------------------------------- evaluation


@torch.no_grad()
@in_eval_mode
def evaluate(model: CharRNN, ids: Sequence[int] | torch.Tensor, *, streams: int = 16,
             seq_len: int = 256, device: torch.device | str | None = None) -> float:
    """Cross-entropy of ids[1:] given the characters before them, in nats per character.

    The text is split into `streams` rows read in parallel, each starting from a zero state and
    carrying it through windows of `seq_len`; the few characters left over are read as one more
    row. Every target ids[1:] is scored exactly once, so the figure compares directly with
    `NGramModel.cross_entropy` on the same text.
    """
    ids = as_ids(ids)
    device = model_device(model) if device is None else torch.device(device)
    x_all, y_all = ids[:-1], ids[1:]
    n = x_all.numel()
    per_row = n // streams
    chunks = [(x_all[:streams * per_row].view(streams, per_row),
               y_all[:streams * per_row].view(streams, per_row))]
    if n > streams * per_row:
        chunks.append((x_all[streams * per_row:][None], y_all[streams * per_row:][None]))
    total = 0.0
    for x_rows, y_rows in chunks:
        state = None
        for start in range(0, x_rows.size(1), seq_len):
            x = x_rows[:, start:start + seq_len].to(device)
            y = y_rows[:, start:start + seq_len].to(device)
            logits, state = model(x, state)  # (N, t, V)
            total += float(F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1),
                                           reduction="sum"))
    return total / n


def perplexity(cross_entropy_nats: float) -> float:
    """exp(CE): the effective number of equally likely next characters."""
    return math.exp(cross_entropy_nats)
