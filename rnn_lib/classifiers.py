"""Many-to-one sequence models: read a whole sequence, predict one label (or one number).

A recurrent layer (vanilla RNN, GRU or LSTM from `torch.nn`, the fast path) reads the input;
a linear layer reads the last layer's final hidden state h_T:

    logits = W h_T + b

`train_classifier` trains one on freshly generated batches (x, y) or (x, y, lengths), the form
the generators in `rnn_lib.tasks` produce, and records the test accuracy as it goes.

Sequences of different lengths are packed (`torch.nn.utils.rnn.pack_padded_sequence`), so
h_T is the state after each sequence's own last step, never after padding.

where N = batch size, T = sequence length, H_in = input size, H = hidden size,
C = number of outputs (classes, or 1 for regression).
"""

from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from rnn_lib.training import History, evaluating, to_device, train

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class SequenceClassifier(nn.Module):
    """A recurrent layer followed by a linear read-out of its final hidden state.

    Args:
        input_size: H_in, features per step.
        hidden_size: H, the size of the recurrent state.
        num_outputs: C, classes for classification (1 for regression).
        cell: "rnn" (tanh), "gru" or "lstm".
        num_layers: stacked recurrent layers (default 1).

    Inputs: x, lengths=None
        x: of shape (N, T, H_in) (batch first).
        lengths: optional, of shape (N,), the true length of each sequence (the rest is padding).

    Outputs:
        of shape (N, C): logits (or predictions when C = 1: then squeezed to shape (N,)).
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_outputs: int, cell: str = "lstm",
        num_layers: int = 1,
    ):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"expected cell to be one of {sorted(CELLS)}, got {cell!r}")
        self.cell = cell
        self.rnn = CELLS[cell](input_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, num_outputs)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 3:
            raise ValueError(f"expected x of shape (N, T, H_in), got {tuple(x.shape)}")
        if lengths is not None:  # h_n of a packed sequence is taken at each one's last step
            x = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, h_n = self.rnn(x)  # (L, N, H), or a tuple (h_n, c_n) for the LSTM
        if self.cell == "lstm":
            h_n = h_n[0]
        out = self.head(h_n[-1])  # (N, C)
        return out.squeeze(-1) if out.shape[-1] == 1 else out

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}"


@torch.no_grad()
def accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor | None = None
) -> float:
    """The fraction of sequences whose arg-max logit is the label y (shape (N,)).

    The model is put in eval mode for the call and returned to its former mode.
    """
    with evaluating(model):
        logits = model(x) if lengths is None else model(x, lengths)  # (N, C)
        return (logits.argmax(-1) == y).float().mean().item()


def classification_loss(model: nn.Module, batch) -> torch.Tensor:
    """The cross-entropy of a batch (x, y) or (x, y, lengths): y of shape (N,) holds classes."""
    x, y, *lengths = batch
    return nn.functional.cross_entropy(model(x, *lengths), y)


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
    x_test, y_test, *lengths = to_device(test_batch, train_kwargs.get("device"))

    def eval_fn(m):
        return {"accuracy": accuracy(m, x_test, y_test, *lengths)}

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
