"""rnn_lib.gradients: the input gradient by time lag, against exact values and brute force."""

import pytest
import torch
from torch import nn

from rnn_lib.classifiers import SequenceClassifier
from rnn_lib.gradients import input_gradient_by_lag


class LinearRecurrence(nn.Module):
    """h_t = a h_{t-1} + w . x_t (a scalar state), output h_T: d h_T / d x_t = a^(T-1-t) w."""

    def __init__(self, a, w):
        super().__init__()
        self.a, self.w = a, torch.tensor(w)

    def forward(self, x):  # (N, T, D) -> (N,)
        h = torch.zeros(x.shape[0], dtype=x.dtype)
        for t in range(x.shape[1]):
            h = self.a * h + x[:, t] @ self.w.to(x.dtype)
        return h


def test_exact_powers_for_a_linear_recurrence():
    model = LinearRecurrence(0.5, [3.0, 4.0])  # ||w|| = 5
    x = torch.randn(3, 7, 2, dtype=torch.float64)
    g = input_gradient_by_lag(model, x, None, loss_fn=lambda out, y: out.sum())
    torch.testing.assert_close(g, 5.0 * 0.5 ** torch.arange(7, dtype=torch.float64))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_matches_brute_force_per_sequence_and_step(cell):
    torch.manual_seed(0)
    model = SequenceClassifier(5, 3, hidden_size=6, cell=cell).double()
    x = torch.randn(4, 9, 5, dtype=torch.float64)
    y = torch.tensor([0, 2, 1, 1])
    g = input_gradient_by_lag(model, x, y)
    expected = torch.zeros(9, dtype=torch.float64)
    for n in range(4):  # each sequence on its own, each step's gradient read separately
        xn = x[n : n + 1].clone().requires_grad_()
        loss = nn.functional.cross_entropy(model(xn), y[n : n + 1])
        (grad,) = torch.autograd.grad(loss, xn)
        for t in range(9):
            expected[8 - t] += grad[0, t].norm() / 4
    torch.testing.assert_close(g, expected, rtol=1e-10, atol=1e-14)


def test_leaves_the_model_as_it_was():
    torch.manual_seed(0)
    model = SequenceClassifier(3, 2, hidden_size=4, cell="lstm").train()
    x, y = torch.randn(2, 5, 3), torch.tensor([0, 1])
    input_gradient_by_lag(model, x, y)
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert not x.requires_grad


def test_errors_say_what_was_expected():
    model = SequenceClassifier(3, 2, hidden_size=4)
    with pytest.raises(ValueError, match=r"expected x of shape \(N, T, H_in\), got \(5, 3\)"):
        input_gradient_by_lag(model, torch.randn(5, 3), torch.tensor([0]))
    with pytest.raises(ValueError, match="expected loss_fn to return a scalar"):
        input_gradient_by_lag(model, torch.randn(2, 5, 3), None, loss_fn=lambda out, y: out)
