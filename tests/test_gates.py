"""rnn_lib.gates: the recorded gates reproduce torch.nn.LSTM; variance_explained is an R^2."""

import pytest
import torch
from torch import nn

from rnn_lib.gates import record_lstm_gates, variance_explained


def test_recorded_states_equal_torch_lstm():
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5, batch_first=True)
    x = torch.randn(4, 7, 3)
    record = record_lstm_gates(lstm, x)
    out, (h_n, c_n) = lstm(x)
    assert all(v.shape == (4, 7, 5) for v in record.values())
    torch.testing.assert_close(record["h"], out)  # every step, not only the last
    torch.testing.assert_close(record["c"][:, -1], c_n[0])
    torch.testing.assert_close(record["h"][:, -1], h_n[0])
    f, i, g = record["f"], record["i"], record["g"]
    torch.testing.assert_close(record["c"][:, 1:], f[:, 1:] * record["c"][:, :-1]
                               + i[:, 1:] * g[:, 1:])
    assert (i > 0).all() and (i < 1).all() and (g.abs() < 1).all()


def test_forget_bias_shows_in_the_forget_gate():
    lstm = nn.LSTM(2, 3, batch_first=True)
    with torch.no_grad():
        for p in lstm.parameters():
            p.zero_()
        lstm.bias_ih_l0[3:6] = 3.0  # forget gate rows H..2H
    record = record_lstm_gates(lstm, torch.randn(2, 4, 2))
    f_expected = torch.sigmoid(torch.tensor(3.0)).item()
    torch.testing.assert_close(record["f"], torch.full((2, 4, 3), f_expected))
    torch.testing.assert_close(record["i"], torch.full((2, 4, 3), 0.5))


def test_variance_explained_exact_values():
    labels = torch.tensor([0, 0, 1, 1])
    assert variance_explained(torch.tensor([[1.0], [1.0], [3.0], [3.0]]), labels) == 1.0
    assert variance_explained(torch.tensor([1.0, 3.0, 1.0, 3.0]), labels) == 0.0
    # by hand: values 0, 2, 2, 4 around their mean 2: 8; around the label means 1 and 3: 4
    assert variance_explained(torch.tensor([0.0, 2.0, 2.0, 4.0]), labels) == pytest.approx(0.5)


def test_errors_say_what_was_expected():
    with pytest.raises(ValueError, match="expected labels of shape"):
        variance_explained(torch.randn(4, 2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="constant"):
        variance_explained(torch.ones(3, 2), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match=r"expected x of shape \(N, T, 3\)"):
        record_lstm_gates(nn.LSTM(3, 2, batch_first=True), torch.randn(2, 4))
    with pytest.raises(ValueError, match="one-layer"):
        record_lstm_gates(nn.LSTM(3, 2, num_layers=2, batch_first=True), torch.randn(2, 4, 3))
