"""Initialising recurrent layers one gate at a time.

PyTorch stacks the gates' weights into one matrix: an LSTM's `weight_ih_l0` of shape
(4*H, H_in) holds the rows of the input gate i, the forget gate f, the cell candidate g and
the output gate o, in that order (a GRU's holds r, z, n; a vanilla RNN's one block). Its
default initialises every entry from U(-1/sqrt(H), 1/sqrt(H)), whatever the gate.

The initialisers here treat each gate's (H, .) block as its own matrix:

- input weights `weight_ih*`: Xavier (Glorot) uniform, so each gate's pre-activation starts
  with roughly unit variance;
- recurrent weights `weight_hh*`: orthogonal, so h_{t-1} -> W h_{t-1} keeps norms at first;
- biases zero, except the LSTM's forget gate (Gers, Schmidhuber & Cummins, 2000;
  Jozefowicz et al., 2015): a bias of 1 makes f = sigmoid(1) ~ 0.73, so the cell state is
  kept, not forgotten, from the first step of training.

They work on any module whose parameters use PyTorch's names (`torch.nn.LSTM`,
`torch.nn.LSTMCell`, `rnn_lib.layers.LSTM`, `rnn_lib.cells.LSTMCell`, ...), including stacked
and bidirectional layers; other parameters (peepholes, projections) are left as they were.
The forget bias is put in `bias_ih` only; PyTorch adds `bias_ih + bias_hh`.

where H = hidden size, H_in = input size.
"""

import torch
from torch import nn


def _init_gates_(module: nn.Module, num_gates: int, gate: int | None, gate_bias: float) -> None:
    for full_name, p in module.named_parameters():
        name = full_name.rsplit(".", 1)[-1]  # "rnn.weight_ih_l0" -> "weight_ih_l0"
        if not name.startswith(("weight_ih", "weight_hh", "bias_ih", "bias_hh")):
            continue  # peepholes, projections, a read-out layer: not ours to change
        if p.shape[0] % num_gates:
            raise ValueError(
                f"expected {full_name} to have a multiple of {num_gates} rows, got {tuple(p.shape)}"
            )
        with torch.no_grad():
            for k, block in enumerate(p.chunk(num_gates, dim=0)):  # views into p
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(block)
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(block)
                elif name.startswith("bias_ih") and k == gate:
                    block.fill_(gate_bias)
                else:
                    block.zero_()


def init_lstm_(module: nn.Module, forget_bias: float = 1.0) -> nn.Module:
    """Initialise an LSTM's gates in place: Xavier / orthogonal blocks, forget-gate bias.

    Args:
        module: an LSTM layer or cell with PyTorch's parameter names (or a model holding one).
        forget_bias: the total bias of the forget gate (rows H..2H), 1.0 by default.

    Returns:
        the module, so that `init_lstm_(nn.LSTM(1, 4))` reads as a constructor.
    """
    _init_gates_(module, num_gates=4, gate=1, gate_bias=forget_bias)
    return module


def init_gru_(module: nn.Module, update_bias: float = 0.0) -> nn.Module:
    """Initialise a GRU's gates in place: Xavier / orthogonal blocks, update-gate bias.

    The update gate z (rows H..2H) plays the forget gate's part: h_t = (1 - z) * n + z * h_{t-1},
    so a positive `update_bias` makes the GRU keep its state at first.
    """
    _init_gates_(module, num_gates=3, gate=1, gate_bias=update_bias)
    return module


def init_rnn_(module: nn.Module) -> nn.Module:
    """Initialise a vanilla RNN in place: Xavier input weights, orthogonal recurrent, zero bias."""
    _init_gates_(module, num_gates=1, gate=None, gate_bias=0.0)
    return module
