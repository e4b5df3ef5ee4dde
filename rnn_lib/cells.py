"""Recurrent cells written from matrix products: one time step of an RNN, an LSTM and a GRU.

Each cell is two things:

- a plain function (`rnn_cell`, `lstm_cell`, `gru_cell`) that computes the lecture's equations
  line by line from tensors you pass in, and
- an `nn.Module` (`RNNCell`, `LSTMCell`, `GRUCell`) that owns the weights and calls it.

The modules use PyTorch's parameter names, layouts and initialisation, so a `state_dict` moves
between them and `torch.nn.RNNCell` / `LSTMCell` / `GRUCell` in both directions, and the tests
show equal outputs and gradients. The sequence layers in `rnn_lib.layers` call the same
functions at every time step.

Where: N = batch size, H_in = input size, H = hidden size. Every weight acts on the right of a
row of inputs (`x @ W.T`), as in PyTorch; the equations below write it as `W x`.
"""

import math

import torch
from torch import nn

NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}
PEEPHOLES = ("weight_ci", "weight_cf", "weight_co")  # the LSTM's optional diagonal peepholes


def _affine(x, weight, bias):
    """x W^T + b, with b optional: the only "layer" a cell needs (addmm: one fused kernel)."""
    return x @ weight.T if bias is None else torch.addmm(bias, x, weight.T)


def project_input(x, weight_ih, bias_ih=None):
    """W_ih x + b_ih: the part of every gate that depends on the input alone.

    It does not depend on h, so a layer computes it for all time steps in one matrix
    product, (L * N, H_in) @ (H_in, G), before its loop over time; each step then adds the
    recurrent part W_hh h_{t-1} + b_hh (the `*_step` functions below). Returns (..., G).
    """
    return _affine(x, weight_ih, bias_ih)


def rnn_step(x_proj, h, weight_hh, bias_hh=None, nonlinearity="tanh"):
    """`rnn_cell` from its projected input x_proj = W_ih x_t + b_ih, of shape (N, H)."""
    act = NONLINEARITIES[nonlinearity]
    return act(x_proj + _affine(h, weight_hh, bias_hh))  # (N, H)


def rnn_cell(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity="tanh"):
    """One step of the Elman RNN.

        h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)     (or relu instead of tanh)

    Inputs: x of shape (N, H_in), h of shape (N, H), weight_ih (H, H_in), weight_hh (H, H),
    biases (H,) or None. Returns h_t of shape (N, H).
    """
    return rnn_step(project_input(x, weight_ih, bias_ih), h, weight_hh, bias_hh, nonlinearity)


def lstm_step(x_proj, h, c, weight_hh, bias_hh=None, weight_ci=None, weight_cf=None,
              weight_co=None, weight_hr=None):
    """`lstm_cell` from its projected input x_proj = W_ih x_t + b_ih, of shape (N, 4H)."""
    gates = x_proj + _affine(h, weight_hh, bias_hh)  # (N, 4H), from h of shape (N, P or H)
    a_i, a_f, a_g, a_o = gates.chunk(4, dim=-1)  # each (N, H), in PyTorch's order i, f, g, o
    if weight_ci is not None:  # peepholes: the gates also look at the cell state itself
        a_i = a_i + weight_ci * c
        a_f = a_f + weight_cf * c
    i = torch.sigmoid(a_i)
    f = torch.sigmoid(a_f)
    g = torch.tanh(a_g)
    c_next = f * c + i * g  # (N, H): keep a part of the old memory, write a part of the new
    if weight_co is not None:
        a_o = a_o + weight_co * c_next  # the output gate sees the *new* cell state c_t
    o = torch.sigmoid(a_o)
    h_next = o * torch.tanh(c_next)  # (N, H)
    if weight_hr is not None:  # a projection (Sak et al. 2014): a smaller h, the same memory
        h_next = h_next @ weight_hr.T  # (N, P)
    return h_next, c_next


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None,
              weight_ci=None, weight_cf=None, weight_co=None, weight_hr=None):
    """One step of the LSTM (Hochreiter & Schmidhuber 1997), optionally with peepholes and a
    projection.

        i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi  [+ w_ci * c_{t-1}])   input gate
        f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf  [+ w_cf * c_{t-1}])   forget gate
        g_t =    tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)                       candidate
        c_t = f_t * c_{t-1} + i_t * g_t                                            cell state
        o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho  [+ w_co * c_t])       output gate
        h_t = o_t * tanh(c_t)                                                      hidden state
        h_t = W_hr (o_t * tanh(c_t))           instead, with a projection (Sak et al. 2014)

    `*` is the elementwise product; the bracketed peephole terms (Graves 2013) are used when
    weight_ci, weight_cf, weight_co (each of shape (H,)) are given. With weight_hr of shape
    (P, H), P < H, h_t has P features (c_t keeps H): W_h* then has P columns, so the recurrent
    weights shrink from 4H*H to 4H*P + P*H (torch.nn.LSTM's proj_size). The two combine: the
    peepholes look at c, which a projection leaves alone (Sak et al. use both). The
    W_i* x_t + b_i* terms of all four gates are one product, `project_input`; `lstm_step`
    does the rest.

    Inputs: x of shape (N, H_in), h of shape (N, H) or (N, P) with a projection, c of shape
    (N, H), weight_ih (4H, H_in) and weight_hh (4H, H or P) with rows stacked i, f, g, o,
    biases (4H,) or None. Returns (h_t, c_t), of shapes (N, H or P) and (N, H).
    """
    return lstm_step(project_input(x, weight_ih, bias_ih), h, c, weight_hh, bias_hh,
                     weight_ci, weight_cf, weight_co, weight_hr)


def gru_step(x_proj, h, weight_hh, bias_hh=None):
    """`gru_cell` from its projected input x_proj = W_ih x_t + b_ih, of shape (N, 3H)."""
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)  # each (N, H)
    h_r, h_z, h_n = _affine(h, weight_hh, bias_hh).chunk(3, dim=-1)  # each (N, H)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h  # (N, H)


def gru_cell(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One step of the GRU (Cho et al. 2014), in PyTorch's variant.

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)              reset gate
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)              update gate
        n_t =    tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))      candidate
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}                             hidden state

    The reset gate multiplies W_hn h_{t-1} + b_hn (after the product), as in PyTorch and cuDNN.

    Inputs: x of shape (N, H_in), h of shape (N, H), weight_ih (3H, H_in) and weight_hh (3H, H)
    with rows stacked r, z, n, biases (3H,) or None. Returns h_t of shape (N, H).
    """
    return gru_step(project_input(x, weight_ih, bias_ih), h, weight_hh, bias_hh)


def reset_rnn_parameters_(module, hidden_size):
    """PyTorch's default RNN initialisation, in place: every weight and bias from
    U(-1/sqrt(H), 1/sqrt(H)), drawn in registration order as torch does (so the same seed gives
    the same numbers); peepholes (weight_ci, weight_cf, weight_co...) start at zero."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0  # a cell may have H = 0
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.startswith(PEEPHOLES):
                p.zero_()
            else:
                p.uniform_(-bound, bound)


def check_sizes(minimum: int = 1, **sizes) -> None:
    """Constructor sizes, as torch checks them: TypeError unless an int, ValueError unless at
    least `minimum` (1 for a layer's sizes; torch's cells accept 0, a layer's proj_size is 0
    when off)."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected {name} to be an int, got {type(value).__name__}")
        if value < minimum:
            bound = "> 0" if minimum == 1 else f">= {minimum}"
            raise ValueError(f"expected {name} {bound}, got {value}")


def check_flags(**flags) -> None:
    """Constructor switches (bias, batch_first, ...): TypeError unless a bool, as in torch."""
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise TypeError(f"expected {name} to be a bool, got {type(value).__name__}")


def check_dtype(x: torch.Tensor, weight: torch.Tensor, error: type = RuntimeError) -> None:
    """An input whose dtype is not the weights' fails here, not deep inside a matmul."""
    if x.dtype != weight.dtype:
        raise error(f"expected input of dtype {weight.dtype} (the weights'), got {x.dtype}: "
                    f"convert it with input.to({weight.dtype}), or the model with "
                    f"model.to({x.dtype})")


class _Cell(nn.Module):
    """What the three cells share: parameters, initialisation and input checks.

    Bad input raises what torch.nn's cells raise (RuntimeError for a size or dtype that does
    not match, ValueError for the number of dimensions) with an "expected X, got Y" message.
    Sizes may be 0, as in torch. `device` and `dtype` are where and of what type the
    parameters are created (torch's factory_kwargs); None means torch's defaults.
    """

    def __init__(self, input_size, hidden_size, bias, num_gates, device=None, dtype=None):
        super().__init__()
        check_sizes(minimum=0, input_size=input_size, hidden_size=hidden_size)
        check_flags(bias=bias)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        factory_kwargs = {"device": device, "dtype": dtype}
        G = num_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(G, input_size, **factory_kwargs))
        self.weight_hh = nn.Parameter(torch.empty(G, hidden_size, **factory_kwargs))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(G, **factory_kwargs))
            self.bias_hh = nn.Parameter(torch.empty(G, **factory_kwargs))
        else:  # like torch: the names exist, the values are None, the state_dict omits them
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's initialisation for weights and biases; peepholes (if any) back to zero."""
        reset_rnn_parameters_(self, self.hidden_size)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _check(self, x, states):
        """Check shapes; return x and states with a batch dimension, and whether one was added."""
        if x.dim() not in (1, 2):
            raise ValueError(f"expected input to be 1D (H_in,) or 2D (N, H_in), got {x.dim()}D")
        if x.size(-1) != self.input_size:
            raise RuntimeError(f"expected input of size (N, {self.input_size}) or "
                               f"({self.input_size},), got {tuple(x.shape)}")
        check_dtype(x, self.weight_ih)
        unbatched = x.dim() == 1
        x = x.unsqueeze(0) if unbatched else x  # (N, H_in)
        expected = (self.hidden_size,) if unbatched else (x.size(0), self.hidden_size)
        checked = []
        for s in states:
            if s is None:
                s = x.new_zeros(expected)  # the default: start from zeros
            elif s.dim() not in (1, 2):  # torch: ValueError for the dimensions, as for x
                raise ValueError(f"expected hidden state to be 1D (H,) or 2D (N, H), "
                                 f"got {s.dim()}D")
            elif tuple(s.shape) != expected:
                raise RuntimeError(f"expected hidden state of size {expected}, "
                                   f"got {tuple(s.shape)}")
            checked.append(s.unsqueeze(0) if unbatched else s)  # (N, H)
        return x, checked, unbatched


class RNNCell(_Cell):
    """An Elman RNN cell: h' = tanh(W_ih x + b_ih + W_hh h + b_hh), from scratch.

    Args:
        input_size: H_in, the number of features in x.
        hidden_size: H, the number of features in h.
        bias: if False, no b_ih and b_hh. Default True.
        nonlinearity: "tanh" (default) or "relu".
        device, dtype: where and of which dtype the parameters are made. Default: torch's.

    Inputs: x, h
        x of shape (N, H_in) or (H_in,); h of shape (N, H) or (H,), zeros when None.
    Outputs: h' of shape (N, H) or (H,).

    Parameters: weight_ih (H, H_in), weight_hh (H, H), bias_ih (H,), bias_hh (H,), each
    initialised from U(-1/sqrt(H), 1/sqrt(H)), as in torch.nn.RNNCell (state_dicts swap freely).
    The step itself is `rnn_cell` (read it for the equation line by line).

    Example:
        >>> cell = RNNCell(5, 3)
        >>> cell(torch.randn(2, 5)).shape
        torch.Size([2, 3])
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"expected nonlinearity 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def extra_repr(self):
        extra = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        return super().extra_repr() + extra

    def forward(self, x, h=None):
        x, (h,), unbatched = self._check(x, (h,))
        h = rnn_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                     self.nonlinearity)  # (N, H)
        return h.squeeze(0) if unbatched else h


class LSTMCell(_Cell):
    """An LSTM cell, from scratch, optionally with diagonal peepholes (Graves 2013).

    Args:
        input_size: H_in. hidden_size: H. bias: if False, no biases. Default True.
        device, dtype: where and of which dtype the parameters are made. Default: torch's.
        peephole: if True, add weight_ci, weight_cf, weight_co of shape (H,) so that the input
            and forget gates see c_{t-1} and the output gate sees c_t. Default False.

    Inputs: x, (h, c)
        x of shape (N, H_in) or (H_in,); h, c of shape (N, H) or (H,), zeros when omitted.
    Outputs: (h', c'), each of shape (N, H) or (H,).

    Parameters: weight_ih (4H, H_in) and weight_hh (4H, H) with rows stacked i, f, g, o;
    bias_ih, bias_hh (4H,); all from U(-1/sqrt(H), 1/sqrt(H)), as in torch.nn.LSTMCell.
    The equations, line by line, are in `lstm_cell`.

    Peepholes start at zero, so a fresh peephole cell computes exactly a plain LSTM. Its
    state_dict is a plain LSTMCell's plus the three peephole keys, so moving weights to or from
    torch.nn.LSTMCell needs `load_state_dict(sd, strict=False)`: loading torch's weights keeps
    the peepholes as they are (zero when fresh, hence identical outputs); loading into torch
    drops them (identical outputs only if they were zero). Like torch.nn.LSTMCell it has no
    projection (proj_size): that is `rnn_lib.layers.LSTM`'s.
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None, *,
                 peephole=False):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)
        self.peephole = peephole
        if peephole:
            for name in PEEPHOLES:
                self.register_parameter(name, nn.Parameter(
                    torch.zeros(hidden_size, device=device, dtype=dtype)))
        else:
            for name in PEEPHOLES:
                self.register_parameter(name, None)

    def extra_repr(self):
        return super().extra_repr() + (", peephole=True" if self.peephole else "")

    def forward(self, x, state=None):
        if state is not None and (not isinstance(state, (tuple, list)) or len(state) != 2):
            raise ValueError(f"expected state to be a tuple (h, c), got {type(state).__name__}")
        x, (h, c), unbatched = self._check(x, (None, None) if state is None else state)
        h, c = lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                         self.weight_ci, self.weight_cf, self.weight_co)  # (N, H) each
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(_Cell):
    """A GRU cell, from scratch, in PyTorch's variant (reset gate after W_hn h).

    Args:
        input_size: H_in. hidden_size: H. bias: if False, no biases. Default True.
        device, dtype: where and of which dtype the parameters are made. Default: torch's.

    Inputs: x, h
        x of shape (N, H_in) or (H_in,); h of shape (N, H) or (H,), zeros when None.
    Outputs: h' of shape (N, H) or (H,).

    Parameters: weight_ih (3H, H_in) and weight_hh (3H, H) with rows stacked r, z, n;
    bias_ih, bias_hh (3H,); all from U(-1/sqrt(H), 1/sqrt(H)), as in torch.nn.GRUCell.
    The equations, line by line, are in `gru_cell`.
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, x, h=None):
        x, (h,), unbatched = self._check(x, (h,))
        h = gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)  # (N, H)
        return h.squeeze(0) if unbatched else h
