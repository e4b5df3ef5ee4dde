"""How far back does the gradient reach? The input gradient of a trained model, by time lag.

Lecture 02 measured the Jacobian product ||d h_T / d h_t|| of a hand-built RNN. For any
trained sequence model (a `torch.nn.RNN`, `LSTM`, `GRU` inside a classifier, ...) the same
question can be asked through autograd, without opening the model: how much does the loss
change when the input k steps before the end moves?

    g_k = mean over sequences n of || d L_n / d x_{n, T-1-k} ||_2,    k = 0 .. T-1

L_n is the loss of sequence n alone. One backward pass of the summed loss gives every
sequence's own gradient at once, because in a recurrent model (in eval mode: no batch
statistics) sequence n's loss depends only on sequence n's inputs.

where N = batch size, T = sequence length, H_in = input size.
"""

from collections.abc import Callable

import torch
from torch import nn

from rnn_lib.training import evaluating


def summed_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The sum over the batch of each sequence's cross-entropy (so d/dx_n is d L_n / dx_n)."""
    return nn.functional.cross_entropy(logits, y, reduction="sum")


def input_gradient_by_lag(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = summed_cross_entropy,
) -> torch.Tensor:
    """The mean norm of the loss's gradient with respect to the input, k steps before the end.

    Inputs:
        model: called as model(x) on x of shape (N, T, H_in) (batch first); put in eval mode
            for the call and returned to its former mode; its parameters' gradients are kept
            as they were.
        x: inputs of shape (N, T, H_in).
        y: targets, passed to loss_fn with the model's output.
        loss_fn: (output, y) -> a scalar that is a *sum* of per-sequence losses
            (default: summed cross-entropy of logits of shape (N, C) and classes of shape (N,)).

    Returns:
        g of shape (T,), float64 on the CPU: g[k] = mean_n || d L_n / d x_{n, T-1-k} ||_2,
        so g[0] is the last step and g[T-1] the first (the longest lag).
    """
    if x.dim() != 3:
        raise ValueError(f"expected x of shape (N, T, H_in), got {tuple(x.shape)}")
    x = x.detach().clone().requires_grad_()
    with evaluating(model):
        loss = loss_fn(model(x), y)
        if loss.dim() != 0:
            raise ValueError(f"expected loss_fn to return a scalar, got shape {tuple(loss.shape)}")
        (grad,) = torch.autograd.grad(loss, x)  # (N, T, H_in); parameters' .grad untouched
    per_step = grad.double().norm(dim=2).mean(dim=0)  # (T,): mean over sequences
    return per_step.flip(0).cpu()  # index by lag k = T - 1 - t
