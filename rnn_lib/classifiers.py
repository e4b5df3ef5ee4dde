"""Many-to-one sequence models: read a whole sequence, predict one label; and the loss and
accuracy of every classifier here, per sequence or per step (a tagger, `rnn_lib.taggers`, is
a classifier at every step).

    SequenceClassifier: (embedding) -> RNN/LSTM/GRU -> linear on the last layer's final state(s)
    BagOfWords:         embedding summed over the tokens -> MLP (a baseline blind to order)

The recurrent body is `rnn_lib.encoders.RecurrentEncoder`: on features (N, T, H_in), as the
generators in `rnn_lib.tasks` make them, or on token ids (N, T) with `embedding_dim`. Every
classifier returns logits of shape (N, C), a yes/no task included (C = 2).

A batch is a `rnn_lib.batching.Batch` (tokens, lengths, targets) or a tuple (x, y) or
(x, y, lengths), the form `rnn_lib.tasks` produces. Targets are of shape (N,) for a classifier
and (N, T) for a tagger, whose padded steps hold IGNORE_INDEX (-100, PyTorch's default
`ignore_index`, what `rnn_lib.batching.collate` pads them with): the loss and the accuracy
skip them.

`train_classifier` trains one on freshly generated batches and records the test accuracy as
it goes.

where N = batch size, T = sequence length, H_in = input size, E = embedding size,
H = hidden size, D = 2 if bidirectional else 1, C = number of classes.
"""

import math
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from rnn_lib.batching import Batch, lengths_to_mask
from rnn_lib.encoders import ReadOut, last_layer_state
from rnn_lib.training import History, in_eval_mode, model_device, to_device, train

IGNORE_INDEX = -100  # the target of a padded step: skipped by the loss and the accuracy


class SequenceClassifier(ReadOut):
    """One label per sequence, read from the last layer's final state(s).

    logits = W [h_T(forward); h_1(backward)] + b. With lengths the forward state is taken at
    each sequence's own last step, not after its padding.

    Args: input_size (H_in, or V with embedding_dim), num_outputs (C, the classes), then as
        `rnn_lib.encoders.ReadOut` (hidden_size=64, embedding_dim=None, num_layers=1,
        bidirectional=False, cell="lstm", dropout=0.0, pad_id=0, backend=torch.nn).
    Inputs: x, lengths=None
        x: of shape (N, T, H_in), or token ids of shape (N, T) with embedding_dim.
        lengths: of shape (N,), the true length of each sequence (the rest is padding), or None.
    Outputs: logits of shape (N, C), always (C = 2 for a yes/no task).

        >>> SequenceClassifier(3, 4, hidden_size=5)(torch.randn(2, 7, 3)).shape
        torch.Size([2, 4])
    """

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        _, h_n = self.encoder(x, lengths)  # (num_layers * D, N, H)
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


def _split_batch(batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(inputs, targets, lengths or None) of a `Batch` or of a tuple (x, y) or (x, y, lengths)."""
    if isinstance(batch, Batch):
        return batch.tokens, batch.targets, batch.lengths
    x, y, *lengths = batch
    return x, y, (lengths[0] if lengths else None)


def _logits(model: nn.Module, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    return model(x) if lengths is None else model(x, lengths)  # (N, C) or (N, T, C)


def classification_loss(model: nn.Module, batch) -> torch.Tensor:
    """The mean cross-entropy of a batch over its real targets.

    Inputs:
        model: called as model(x) or model(x, lengths), returning logits of shape (N, C) (one
            label per sequence) or (N, T, C) (one per step).
        batch: a `Batch`, or (x, y) or (x, y, lengths); targets y of shape (N,) or (N, T),
            IGNORE_INDEX (-100) at padded steps, which do not count.
    Returns: a scalar tensor.
    """
    x, y, lengths = _split_batch(batch)
    logits = _logits(model, x, lengths)
    return F.cross_entropy(logits.flatten(0, -2), y.flatten(), ignore_index=IGNORE_INDEX)


def _hits(model: nn.Module, batches: Iterable, device) -> Iterable[tuple]:
    """For each batch: (right, real), booleans of the targets' shape, (N,) or (N, T)."""
    device = model_device(model) if device is None else device
    for batch in batches:
        x, y, lengths = _split_batch(to_device(batch, device))
        pred = _logits(model, x, lengths).argmax(-1)  # (N,) or (N, T)
        real = y != IGNORE_INDEX
        yield (pred == y) & real, real


@torch.no_grad()
@in_eval_mode
def accuracy(model: nn.Module, batches: Iterable, device=None) -> float:
    """The fraction of real targets whose arg-max logit is right, over all of `batches`.

    Inputs:
        model: as for `classification_loss`; in eval mode for the call, then in its former mode.
        batches: an iterable of batches as for `classification_loss` (one batch: `[batch]`);
            per sequence for a classifier, per real token for a tagger.
        device: where to run (default: the model's).
    """
    right = total = 0
    for hit, real in _hits(model, batches, device):
        right += hit.sum().item()
        total += real.sum().item()
    return right / total


@torch.no_grad()
@in_eval_mode
def accuracy_and_se(model: nn.Module, batches: Iterable, device=None) -> tuple[float, float]:
    """Accuracy as `accuracy` computes it, and its standard error over sequences.

    The tokens of one sentence are not independent draws, so the error is that of a ratio
    estimate over independent sentences: acc = sum r_i / sum n_i (r_i right of n_i targets in
    sentence i), se = std(r_i - acc * n_i) / (mean(n_i) * sqrt(S)) over the S sentences.
    For a classifier (n_i = 1) this is the familiar sqrt(acc (1 - acc) / S).
    Returns: (accuracy, standard error).
    """
    right, total = [], []
    for hit, real in _hits(model, batches, device):
        if hit.dim() == 1:  # one target per sequence
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


def train_classifier(
    model: nn.Module, sample_batch: Callable[[], tuple], steps: int, test_batch: tuple, *,
    lr: float = 3e-3, clip: float | None = 1.0, eval_every: int | None = None, **train_kwargs,
) -> History:
    """Train with Adam on `steps` fresh batches, measuring test accuracy along the way.

    Args:
        model: a classifier called as model(x) or model(x, lengths), returning (N, C) logits.
        sample_batch: returns a new training batch (x, y) or (x, y, lengths) at each call.
        steps: the number of optimiser steps (one batch each).
        test_batch: a fixed (x, y) or (x, y, lengths) to measure accuracy on.
        lr, clip: Adam's learning rate and the maximum gradient norm (None: no clipping).
        eval_every: measure test accuracy every this many steps (default: 20 times a run).
        train_kwargs: passed on to `rnn_lib.training.train` (device, desc, progress, optimizer).

    Returns:
        the `History` of `rnn_lib.training.train`; `history.metric("accuracy")` and the
        "step" of each entry of `history.evals` give the learning curve.
    """
    if steps < 1:
        raise ValueError(f"expected steps >= 1, got {steps}")
    test_batch = to_device(test_batch, train_kwargs.get("device"))

    def eval_fn(m):
        return {"accuracy": accuracy(m, [test_batch])}

    return train(model, classification_loss, lambda: (sample_batch() for _ in range(steps)),
                 lr=lr, clip=clip, eval_fn=eval_fn, eval_every=eval_every or max(1, steps // 20),
                 **train_kwargs)


def compare_classifiers(
    models: dict[str, nn.Module], sample_batch: Callable[[], tuple], steps: int,
    test_batch: tuple, **train_kwargs,
) -> dict[str, History]:
    """Train each model the same way (`train_classifier`) on the same data stream's recipe.

    Args:
        models: label -> model; each is trained in turn with the same arguments.
        sample_batch, steps, test_batch, train_kwargs: as for `train_classifier`.

    Returns:
        label -> History; prints each model's final test accuracy and training time.
    """
    histories = {}
    for label, model in models.items():
        histories[label] = train_classifier(model, sample_batch, steps, test_batch,
                                            desc=label, **train_kwargs)
        h = histories[label]
        print(f"{label:36s} test accuracy {h.last('accuracy'):.3f}   ({h.seconds:.0f} s)")
    return histories


def accuracy_curves(histories: dict[str, History]) -> dict[str, tuple[list[int], list[float]]]:
    """label -> (steps, test accuracies): the form `rnn_lib.plotting.plot_curves` takes."""
    return {label: ([e["step"] for e in h.evals], h.metric("accuracy"))
            for label, h in histories.items()}
