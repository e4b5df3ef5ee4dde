"""Tests for rnn_lib.initialization: each gate's block initialised on its own."""

import math

import pytest
import torch
from torch import nn

from rnn_lib.cells import LSTMCell
from rnn_lib.classifiers import SequenceClassifier
from rnn_lib.initialization import init_gru_, init_lstm_, init_rnn_


def assert_orthogonal(w):
    torch.testing.assert_close(w @ w.T, torch.eye(w.shape[0]), atol=1e-5, rtol=0)


def test_init_lstm_blocks_on_torch_lstm():
    torch.manual_seed(0)
    lstm = init_lstm_(nn.LSTM(input_size=3, hidden_size=4), forget_bias=1.0)
    H = 4
    bound = math.sqrt(6 / (3 + H))  # Xavier uniform on one (H, H_in) block
    for k, block in enumerate(lstm.weight_ih_l0.detach().chunk(4)):
        assert block.abs().max() <= bound, k
        assert block.abs().max() > 1 / math.sqrt(H)  # wider than the default U(-1/2, 1/2) here
    for block in lstm.weight_hh_l0.detach().chunk(4):
        assert_orthogonal(block)
    expected = torch.zeros(4 * H)
    expected[H : 2 * H] = 1.0  # rows H..2H are the forget gate (i, f, g, o)
    assert torch.equal(lstm.bias_ih_l0.detach(), expected)
    assert torch.equal(lstm.bias_hh_l0.detach(), torch.zeros(4 * H))
    # with zero input and state the forget gate opens to sigmoid(1) and the others to 1/2
    _, (h, c) = lstm(torch.zeros(1, 1, 3))
    torch.testing.assert_close(c, torch.zeros(1, 1, H))  # g = tanh(0) = 0 writes nothing


def test_init_lstm_forget_bias_value_and_gates_seen_by_the_cell():
    cell = init_lstm_(nn.LSTMCell(2, 5), forget_bias=2.5)
    gates = cell.bias_ih + cell.bias_hh
    i, f, g, o = torch.sigmoid(gates.detach()).chunk(4)
    torch.testing.assert_close(f, torch.full((5,), torch.sigmoid(torch.tensor(2.5)).item()))
    torch.testing.assert_close(i, torch.full((5,), 0.5))


def test_init_lstm_stacked_bidirectional_and_inside_a_model():
    torch.manual_seed(1)
    model = SequenceClassifier(3, 2, hidden_size=6, cell="lstm", num_layers=2)
    head = model.head.weight.detach().clone()
    init_lstm_(model)  # names are "encoder.rnn.weight_ih_l0", ...: found by their last part
    assert torch.equal(model.head.weight.detach(), head)  # the read-out is left alone
    bi = init_lstm_(nn.LSTM(3, 6, num_layers=2, bidirectional=True))
    for name in ["bias_ih_l0", "bias_ih_l1_reverse", "bias_ih_l1"]:
        assert getattr(bi, name)[6:12].eq(1).all() and getattr(bi, name)[:6].eq(0).all()
    for name in ["weight_hh_l0_reverse", "weight_hh_l1"]:
        for block in getattr(bi, name).detach().chunk(4):
            assert_orthogonal(block)
    for name in ["encoder.rnn.bias_ih_l1", "encoder.rnn.bias_ih_l0"]:
        assert dict(model.named_parameters())[name][6:12].eq(1).all()


def test_init_lstm_on_rnn_lib_cell_keeps_peepholes():
    cell = LSTMCell(2, 3, peephole=True)
    with torch.no_grad():
        cell.weight_cf.fill_(0.7)
    init_lstm_(cell)
    assert cell.weight_cf.eq(0.7).all()
    assert cell.bias_ih[3:6].eq(1).all() and cell.bias_hh.eq(0).all()


def test_init_gru_and_rnn():
    gru = init_gru_(nn.GRU(2, 4), update_bias=1.5)
    assert gru.bias_ih_l0[4:8].eq(1.5).all()  # rows H..2H: the update gate z (r, z, n)
    assert gru.bias_ih_l0[:4].eq(0).all() and gru.bias_ih_l0[8:].eq(0).all()
    for block in gru.weight_hh_l0.detach().chunk(3):
        assert_orthogonal(block)
    rnn = init_rnn_(nn.RNN(2, 4))
    assert_orthogonal(rnn.weight_hh_l0.detach())
    assert rnn.bias_ih_l0.eq(0).all() and rnn.bias_hh_l0.eq(0).all()


def test_differs_from_torch_default_and_is_seeded():
    torch.manual_seed(0)
    default = nn.LSTM(1, 4)
    torch.manual_seed(0)
    ours = init_lstm_(nn.LSTM(1, 4))
    assert not torch.equal(default.weight_hh_l0, ours.weight_hh_l0)
    torch.manual_seed(0)
    again = init_lstm_(nn.LSTM(1, 4))
    assert torch.equal(ours.weight_hh_l0, again.weight_hh_l0)


def test_wrong_cell_type_is_an_error():
    with pytest.raises(ValueError, match="expected weight_ih_l0 to have a multiple of 4 rows"):
        init_lstm_(nn.GRU(2, 3))  # 9 rows: not an LSTM
