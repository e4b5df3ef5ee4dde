"""Looking inside a trained LSTM: its gates step by step, and what they carry.

`record_lstm_gates` runs a trained one-layer `torch.nn.LSTM` again, one step at a time, with the
equations of `rnn_lib.cells.lstm_cell`, and keeps every intermediate value:

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh            stacked i, f, g, o (PyTorch's order)
    i_t, f_t, g_t, o_t = sigmoid, sigmoid, tanh, sigmoid of its four blocks
    c_t = f_t * c_{t-1} + i_t * g_t,        h_t = o_t * tanh(c_t)

`variance_explained` asks what a recorded quantity encodes: the fraction of its variance
across sequences that the class of each sequence (for example its first symbol) explains.

where N = batch size, T = sequence length, H_in = input size, H = hidden size, K = classes.
"""

import torch
from torch import nn

GATE_NAMES = ("i", "f", "g", "o", "c", "h")


@torch.no_grad()
def record_lstm_gates(lstm: nn.LSTM, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every gate and state of a one-layer, one-direction LSTM over a batch, step by step.

    Inputs:
        lstm: a `torch.nn.LSTM` (or any module with its `weight_ih_l0`, `weight_hh_l0`,
            `bias_ih_l0`, `bias_hh_l0`) with batch_first=True; starts from zero states.
        x: inputs of shape (N, T, H_in).

    Returns:
        dict with "i", "f", "g", "o", "c", "h", each of shape (N, T, H): the value at step t
        of sequence n. The last step's "h" and "c" equal the layer's own h_n and c_n.
    """
    if getattr(lstm, "num_layers", 1) != 1 or getattr(lstm, "bidirectional", False):
        raise ValueError("expected a one-layer, one-direction LSTM, got "
                         f"num_layers={lstm.num_layers}, bidirectional={lstm.bidirectional}")
    if x.dim() != 3 or x.shape[2] != lstm.weight_ih_l0.shape[1]:
        raise ValueError(f"expected x of shape (N, T, {lstm.weight_ih_l0.shape[1]}), "
                         f"got {tuple(x.shape)}")
    N, T, _ = x.shape
    H = lstm.weight_hh_l0.shape[1]
    h = c = x.new_zeros(N, H)
    record = {name: [] for name in GATE_NAMES}
    for t in range(T):
        a = (x[:, t] @ lstm.weight_ih_l0.T + lstm.bias_ih_l0
             + h @ lstm.weight_hh_l0.T + lstm.bias_hh_l0)  # (N, 4H)
        a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)  # each (N, H)
        i, f, g, o = a_i.sigmoid(), a_f.sigmoid(), a_g.tanh(), a_o.sigmoid()
        c = f * c + i * g  # (N, H)
        h = o * torch.tanh(c)  # (N, H)
        for name, value in zip(GATE_NAMES, (i, f, g, o, c, h), strict=True):
            record[name].append(value)
    return {name: torch.stack(values, dim=1) for name, values in record.items()}  # (N, T, H)


def variance_explained(values: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of the variance of `values` across sequences explained by their labels.

    1 - (sum of squares around each label's mean) / (sum of squares around the overall mean),
    summed over all features: 1 when the labels determine the values, about 0 when the values
    do not depend on them (the R^2 of a one-way analysis of variance).

    Inputs:
        values: of shape (N, D) (or (N,)): one row per sequence.
        labels: integer labels of shape (N,).

    Returns:
        a float in [0, 1].
    """
    values = values.reshape(values.shape[0], -1).double()  # (N, D)
    if labels.shape != (values.shape[0],):
        raise ValueError(f"expected labels of shape ({values.shape[0]},), "
                         f"got {tuple(labels.shape)}")
    total = ((values - values.mean(0)) ** 2).sum()
    if total == 0:
        raise ValueError("expected values that vary across sequences, got constant values")
    within = sum(((values[labels == k] - values[labels == k].mean(0)) ** 2).sum()
                 for k in labels.unique())
    return float(1 - within / total)
