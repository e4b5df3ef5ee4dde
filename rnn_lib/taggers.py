"""Models that read token ids: a tagger (many-to-many), a sentence classifier (many-to-one),
and two baselines: a bag of words that ignores word order, a lookup that ignores context.

    tagger:      embedding -> RNN/LSTM/GRU (stacked, uni- or bidirectional) -> linear per step
    classifier:  embedding -> RNN/LSTM/GRU -> linear on the last layer's final state(s)
    bag of words: embedding summed over the tokens -> MLP
    most frequent tag: each word's most frequent training tag (no context, no training loop)

When `lengths` are given the recurrent layer runs on a packed batch, so padding never reaches
it: the final state is each sentence's own, and the backward direction starts at each
sentence's real end.

where N = batch size, T = longest length in the batch, E = embedding size, H = hidden size,
D = 2 if bidirectional else 1, K = number of tags, C = number of classes.
"""

import math
from collections import Counter, defaultdict

import torch
import torch.nn.functional as F
from torch import nn

from rnn_lib.batching import lengths_to_mask, pack_padded, unpack
from rnn_lib.training import in_eval_mode, model_device, to_device

CELLS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def last_layer_state(h_n: torch.Tensor, bidirectional: bool) -> torch.Tensor:
    """The last layer's final hidden state(s), directions concatenated.

    h_n of shape (num_layers * D, N, H) is ordered layer by layer, forward before backward, so
    the last layer's forward state is h_n[-2] and its backward state h_n[-1] when D = 2.
    Returns: of shape (N, D*H).
    """
    return torch.cat([h_n[-2], h_n[-1]], dim=-1) if bidirectional else h_n[-1]


class RecurrentEncoder(nn.Module):
    """Embedding followed by a recurrent layer; the common body of the tagger and classifier.

    Args:
        vocab_size, embedding_dim: the embedding table (row `pad_id` stays zero).
        hidden_size: H per direction.
        num_layers, bidirectional, dropout: as in torch.nn.LSTM (dropout between layers).
        cell: "rnn", "lstm" or "gru".
        pad_id: the padding token id.
        backend: where the RNN/LSTM/GRU classes come from: torch.nn (fast, the default) or
            rnn_lib.layers (the from-scratch layers, same parameters and outputs).

    Inputs: tokens, lengths=None
        tokens: of shape (N, T), int64.
        lengths: of shape (N,); None runs the padded batch as it is (padding included).
    Outputs: outputs, h_n
        outputs: of shape (N, T, D*H), zeros after each sentence's end when lengths are given.
        h_n: of shape (num_layers * D, N, H), the final hidden states (for an LSTM, not the
            cell states).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, cell: str = "lstm", dropout: float = 0.0,
                 pad_id: int = 0, backend=nn):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"expected cell to be one of {sorted(CELLS)}, got {cell!r}")
        self.cell, self.bidirectional = cell, bidirectional
        self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_id)
        self.rnn = getattr(backend, CELLS[cell])(
            embedding_dim, hidden_size, num_layers, batch_first=True, bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0)
        self.out_features = hidden_size * (2 if bidirectional else 1)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None):
        if tokens.dim() != 2:
            raise ValueError(f"expected tokens of shape (N, T), got {tuple(tokens.shape)}")
        N, T = tokens.shape
        x = self.embed(tokens)  # (N, T, E)
        if lengths is not None:
            x = pack_padded(x, lengths)  # PackedSequence: the padding is dropped
        out, h_n = self.rnn(x)
        if isinstance(h_n, tuple):  # LSTM: (h_n, c_n)
            h_n = h_n[0]
        if lengths is not None:
            out, _ = unpack(out, total_length=T)  # (N, T, D*H)
        return out, h_n  # (N, T, D*H), (num_layers * D, N, H)


class _ReadOut(nn.Module):
    """A `RecurrentEncoder` and a linear read-out of num_outputs; subclasses pick what it reads."""

    def __init__(self, vocab_size: int, num_outputs: int, embedding_dim: int = 32,
                 hidden_size: int = 64, num_layers: int = 1, bidirectional: bool = False,
                 cell: str = "lstm", dropout: float = 0.0, pad_id: int = 0, backend=nn):
        super().__init__()
        self.encoder = RecurrentEncoder(vocab_size, embedding_dim, hidden_size, num_layers,
                                        bidirectional, cell, dropout, pad_id, backend)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.out_features, num_outputs)


class SequenceTagger(_ReadOut):
    """One tag per token: logits_t = W o_t + b, o_t the top layer's output at step t.

    Args: vocab_size, num_tags (K), then as `RecurrentEncoder` (embedding_dim=32, hidden_size=64).
    Inputs: tokens (N, T), lengths (N,) or None.
    Outputs: logits of shape (N, T, K).
    """

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        out, _ = self.encoder(tokens, lengths)  # (N, T, D*H)
        return self.head(self.drop(out))  # (N, T, K)


class SentenceClassifier(_ReadOut):
    """One label per sentence, read from the last layer's final state(s).

    logits = W [h_T(forward); h_1(backward)] + b. With lengths the forward state is taken at
    each sentence's own last token, not after its padding.

    Args: vocab_size, num_classes (C), then as `RecurrentEncoder` (embedding_dim=32,
        hidden_size=64).
    Inputs: tokens (N, T), lengths (N,) or None.
    Outputs: logits of shape (N, C).
    """

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        _, h_n = self.encoder(tokens, lengths)  # (num_layers * D, N, H)
        h = last_layer_state(h_n, self.encoder.bidirectional)  # (N, D*H)
        return self.head(self.drop(h))  # (N, C)


class BagOfWords(nn.Module):
    """A classifier that sees only which words occur and how often: word order is lost.

    logits = MLP(sum_t e(x_t)), the sum over real tokens only. Any such model is a function of
    the multiset of words, so it can be no better than the grammar's bag-of-words bound.

    Inputs: tokens (N, T), lengths (N,) or None (then every non-pad token counts).
    Outputs: logits of shape (N, C).
    """

    def __init__(self, vocab_size: int, num_classes: int, embedding_dim: int = 32,
                 hidden_size: int = 64, pad_id: int = 0):
        super().__init__()
        self.pad_id = pad_id
        self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_id)
        self.mlp = nn.Sequential(nn.Linear(embedding_dim, hidden_size), nn.ReLU(),
                                 nn.Linear(hidden_size, num_classes))

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        mask = tokens != self.pad_id  # (N, T)
        if lengths is not None:
            mask = lengths_to_mask(lengths.to(tokens.device), tokens.shape[1])  # (N, T)
        bag = (self.embed(tokens) * mask[..., None]).sum(1)  # (N, E)
        return self.mlp(bag)  # (N, C)


def tagging_loss(model: nn.Module, batch) -> torch.Tensor:
    """Mean cross-entropy over real tokens of a `Batch` (padded targets are -100, skipped)."""
    logits = model(batch.tokens, batch.lengths)  # (N, T, K)
    return F.cross_entropy(logits.flatten(0, 1), batch.targets.flatten(), ignore_index=-100)


def classification_loss(model: nn.Module, batch) -> torch.Tensor:
    """Mean cross-entropy of a `Batch` with one target per sentence."""
    return F.cross_entropy(model(batch.tokens, batch.lengths), batch.targets)


@torch.no_grad()
@in_eval_mode
def accuracy(model: nn.Module, batches, device=None) -> float:
    """Fraction of targets predicted right over `batches` of `Batch`: per token for a tagger
    (padding, target -100, skipped), per sentence for a classifier."""
    device = model_device(model) if device is None else device
    right = total = 0
    for batch in batches:
        batch = to_device(batch, device)
        pred = model(batch.tokens, batch.lengths).argmax(-1)  # (N, T) or (N,)
        real = batch.targets != -100
        right += ((pred == batch.targets) & real).sum().item()
        total += real.sum().item()
    return right / total


@torch.no_grad()
@in_eval_mode
def accuracy_and_se(model: nn.Module, batches, device=None) -> tuple[float, float]:
    """Accuracy as `accuracy` computes it, and its standard error over sentences.

    The tokens of one sentence are not independent draws, so the error is that of a ratio
    estimate over independent sentences: acc = sum r_i / sum n_i (r_i right of n_i targets in
    sentence i), se = std(r_i - acc * n_i) / (mean(n_i) * sqrt(S)) over the S sentences.
    For a classifier (n_i = 1) this is the familiar sqrt(acc (1 - acc) / S).
    Returns: (accuracy, standard error).
    """
    device = model_device(model) if device is None else device
    right, total = [], []
    for batch in batches:
        batch = to_device(batch, device)
        pred = model(batch.tokens, batch.lengths).argmax(-1)  # (N, T) or (N,)
        real = batch.targets != -100
        hit = (pred == batch.targets) & real
        if hit.dim() == 1:  # one target per sentence
            hit, real = hit[:, None], real[:, None]
        right += hit.sum(1).tolist()
        total += real.sum(1).tolist()
    r = torch.tensor(right, dtype=torch.float64)
    n = torch.tensor(total, dtype=torch.float64)
    acc = (r.sum() / n.sum()).item()
    if len(r) < 2:
        return acc, float("nan")
    se = ((r - acc * n).std(correction=0) / n.mean()).item() / math.sqrt(len(r))
    return acc, se


class MostFrequentTag:
    """The one-to-one tagging baseline: each word gets the tag it carries most often in the
    training pairs; a word never seen in training gets the most frequent tag overall.

    It is what a tagger can do with no context at all; `TaggedGrammar.bayes_accuracy("word")`
    is its exact limit. Its "parameters" are the entries of its table (`len(baseline)`).

    Args:
        pairs: (tokens, tags) training pairs, two lists of the same length each.
    """

    def __init__(self, pairs):
        counts, overall = defaultdict(Counter), Counter()
        for tokens, tags in pairs:
            if len(tokens) != len(tags):
                raise ValueError(f"expected one tag per token, got {len(tokens)} tokens and "
                                 f"{len(tags)} tags")
            for w, t in zip(tokens, tags, strict=True):
                counts[w][t] += 1
                overall[t] += 1
        if not overall:
            raise ValueError("expected at least one tagged token, got none")
        self.table = {w: c.most_common(1)[0][0] for w, c in counts.items()}
        self.default = overall.most_common(1)[0][0]

    def __repr__(self) -> str:
        return f"MostFrequentTag({len(self.table)} words, unseen -> {self.default!r})"

    def __len__(self) -> int:
        return len(self.table)

    def predict(self, tokens) -> list:
        """One tag per token."""
        return [self.table.get(w, self.default) for w in tokens]

    def accuracy(self, pairs) -> float:
        """Token accuracy over (tokens, tags) pairs."""
        right = total = 0
        for tokens, tags in pairs:
            right += sum(p == t for p, t in zip(self.predict(tokens), tags, strict=True))
            total += len(tags)
        return right / total
