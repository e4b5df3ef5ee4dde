"""Sequence layers: a cell from `rnn_lib.cells` applied at every time step, stacked and
bidirectional, with variable-length (packed) batches.

`RNN`, `LSTM` and `GRU` take the same arguments as `torch.nn.RNN` / `LSTM` / `GRU`, name their
parameters the same way (`weight_ih_l0`, `weight_hh_l1_reverse`, `bias_ih_l2`, ...) and return
`output` and `h_n` in the same layout, so a `state_dict` moves between them both ways.
The forward pass is a plain Python loop over layers, directions and time steps: slow next to
cuDNN, but every step is the equations of `rnn_cell`, `lstm_cell` or `gru_cell`. Their input
part W_ih x_t + b_ih does not depend on h_{t-1}, so each layer computes it for every step in
one matrix product before its loop (`cells.project_input`; b_hh joins it too, except in the
GRU), and each step adds the recurrent part (`cells.rnn_step`, `lstm_step`, `gru_step`): the
same sums, far fewer small products.

The LSTM also takes torch's `proj_size` (an LSTM with a projection, Sak et al. 2014: h_t is
W_hr (o_t * tanh(c_t)), of proj_size features, while c_t keeps hidden_size), and every layer
takes torch's `device=` and `dtype=` for its parameters. cuDNN's flat-weight API
(`flatten_parameters`, `_flat_weights`) is out of scope.

Where: N = batch size, L = sequence length, D = 2 if bidirectional else 1,
H_in = input size, H = hidden size, H_out = proj_size if proj_size > 0 else H.
"""

import warnings

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from rnn_lib.cells import (
    NONLINEARITIES,
    PEEPHOLES,
    check_dtype,
    check_flags,
    check_sizes,
    gru_step,
    lstm_step,
    project_input,
    reset_rnn_parameters_,
    rnn_step,
)


class _Layer(nn.Module):
    """What the three layers share; a subclass sets the number of gates and states and `_step`.

    Its checks of bad input, and what is out of scope, are in the docstrings of the three.
    """

    num_gates = 1  # rows of weight_ih per hidden unit: 1 (RNN), 4 (LSTM, i f g o), 3 (GRU, r z n)
    num_states = 1  # tensors carried from step to step: h, or (h, c) for the LSTM
    # b_hh is added to W_hh h, so it can join b_ih in the input projection; not in the GRU,
    # whose candidate multiplies (W_hn h + b_hn) by the reset gate
    bias_hh_in_projection = True
    # per layer and direction, in the order torch registers them (an LSTM may add more)
    param_names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        check_sizes(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        check_sizes(minimum=0, proj_size=proj_size)
        if proj_size and self.num_states == 1:
            raise ValueError(f"expected proj_size=0: only the LSTM has a projection, "
                             f"got proj_size={proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"expected proj_size < hidden_size ({hidden_size}), got {proj_size}")
        check_flags(bias=bias, batch_first=batch_first, bidirectional=bidirectional)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not (
                0.0 <= dropout <= 1.0):
            raise ValueError(f"expected dropout to be a number in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout acts between layers, so with num_layers=1 it does nothing",
                          stacklevel=2)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self.num_directions = 2 if bidirectional else 1
        G, H, D = self.num_gates * hidden_size, hidden_size, self.num_directions
        H_out = proj_size or H  # the size of h (and of each direction's output)
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else D * H_out  # layer k-1's output
            for direction in range(D):
                sfx = self._suffix(layer, direction)
                shapes = {"weight_ih": (G, layer_input), "weight_hh": (G, H_out)}
                if bias:
                    shapes.update(bias_ih=(G,), bias_hh=(G,))
                shapes.update(self._extra_shapes())  # the LSTM's projection and peepholes
                for name, shape in shapes.items():  # in torch's order: weight_ih_l0, ...
                    self.register_parameter(f"{name}{sfx}", nn.Parameter(
                        torch.empty(shape, device=device, dtype=dtype)))
        self.reset_parameters()

    def _extra_shapes(self):
        return {}  # more parameters per layer and direction, after torch's four

    @staticmethod
    def _suffix(layer, direction):
        return f"_l{layer}" + ("_reverse" if direction == 1 else "")

    def reset_parameters(self):
        """PyTorch's initialisation, U(-1/sqrt(H), 1/sqrt(H)); peepholes (if any) at zero."""
        reset_rnn_parameters_(self, self.hidden_size)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        defaults = {"proj_size": 0, "num_layers": 1, "bias": True, "batch_first": False,
                    "dropout": 0.0, "bidirectional": False}  # in torch's order
        for name, default in defaults.items():
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    def weights(self, layer, direction):
        """One layer's and direction's cell parameters, in `param_names` order (None if absent)."""
        sfx = self._suffix(layer, direction)
        return tuple(getattr(self, f"{name}{sfx}", None) for name in self.param_names)

    def _step(self, x_proj, state, recurrent):
        raise NotImplementedError  # each subclass calls its cell's step function here

    def _scan(self, xs, state, weights, reverse):
        """Run one layer in one direction over time; return the L outputs and the final state.

        xs holds L tensors of shape (n_t, H_in): n_t = N for a padded batch; for a packed batch
        (sorted by decreasing length) only the first n_t sequences have a step t. Those get a
        new state; the others keep theirs. Forwards, a finished sequence keeps its last state
        (its h_n); backwards, a sequence that has not started keeps the initial state until its
        own last element arrives.
        """
        weight_ih, weight_hh, bias_ih, bias_hh, *more = weights  # more: the LSTM's extras
        if self.bias_hh_in_projection and bias_hh is not None:
            bias_ih, bias_hh = bias_ih + bias_hh, None  # both constant in h: added once
        # W_ih x_t + b for all L steps in one product: (sum of n_t, G), then step by step
        projected = project_input(torch.cat(xs), weight_ih, bias_ih).split(
            [x.size(0) for x in xs])
        recurrent = (weight_hh, bias_hh, *more)
        ys = [None] * len(xs)
        for t in reversed(range(len(xs))) if reverse else range(len(xs)):
            n = xs[t].size(0)  # sequences that are running at step t
            running = state if n == state[0].size(0) else tuple(s[:n] for s in state)
            new = self._step(projected[t], running, recurrent)  # (n, H_out) and (n, H)
            state = tuple(torch.cat([s_new, s[n:]]) if n < s.size(0) else s_new
                          for s_new, s in zip(new, state, strict=True))  # each (N, .)
            ys[t] = new[0]  # the output at step t is the hidden state h_t
        return ys, state

    def _initial_state(self, hx, batch_size, unbatched, like):
        """hx checked and shaped as a tuple of (num_layers * D, N, .) tensors (h: H_out
        features, the LSTM's c: H); zeros if None."""
        K = self.num_layers * self.num_directions
        sizes = (self.proj_size or self.hidden_size, self.hidden_size)[:self.num_states]
        if hx is None:
            return tuple(like.new_zeros(K, batch_size, size) for size in sizes)
        if self.num_states == 2 and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"expected hx to be a tuple (h_0, c_0), got {type(hx).__name__}")
        hx = tuple(hx) if self.num_states == 2 else (hx,)
        for name, s, size in zip(("h_0", "c_0")[:self.num_states], hx, sizes, strict=True):
            expected = (K, size) if unbatched else (K, batch_size, size)
            if tuple(s.shape) != expected:
                raise RuntimeError(f"expected hidden state {name} of size {expected}, "
                                   f"got {tuple(s.shape)}")
        return tuple(s.unsqueeze(1) if unbatched else s for s in hx)  # each (K, N, .)

    def forward(self, input, hx=None):
        """Run every layer over the whole sequence (shapes: see the class docstring)."""
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            xs = list(data.split(batch_sizes.tolist()))  # L tensors of shape (n_t, H_in)
            unbatched = False
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"expected input to be 2D (L, H_in) or 3D, got {input.dim()}D")
            unbatched = input.dim() == 2
            if unbatched:
                input = input.unsqueeze(1)  # (L, 1, H_in)
            elif self.batch_first:
                input = input.transpose(0, 1)  # (L, N, H_in)
            xs = list(input.unbind(0))  # L tensors of shape (N, H_in)
            sorted_indices = unsorted_indices = None
        if not xs:
            raise RuntimeError("expected a sequence of length > 0, got length 0")
        if xs[0].size(-1) != self.input_size:
            raise RuntimeError(f"expected input with {self.input_size} features in its last "
                               f"dimension, got {xs[0].size(-1)}")
        check_dtype(xs[0], self.weight_ih_l0, ValueError)
        state = self._initial_state(hx, xs[0].size(0), unbatched, xs[0])
        if sorted_indices is not None:  # hx comes in the caller's order; the packed data is sorted
            state = tuple(s.index_select(1, sorted_indices) for s in state)

        finals = []  # the last state of each layer and direction, in h_n's order
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                ys, final = self._scan(xs, tuple(s[k] for s in state),
                                       self.weights(layer, direction), reverse=direction == 1)
                outputs.append(ys)
                finals.append(final)
            # the next layer's input: both directions side by side, L tensors of (n_t, D*H)
            xs = [torch.cat(y_t, dim=-1) for y_t in zip(*outputs, strict=True)]
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                xs = [F.dropout(x_t, self.dropout, training=True) for x_t in xs]

        h_n = tuple(torch.stack(s) for s in zip(*finals, strict=True))  # each (layers * D, N, .)
        if packed:
            if unsorted_indices is not None:
                h_n = tuple(s.index_select(1, unsorted_indices) for s in h_n)
            output = PackedSequence(torch.cat(xs), batch_sizes, sorted_indices, unsorted_indices)
        else:
            output = torch.stack(xs)  # (L, N, D*H_out)
            if unbatched:
                output, h_n = output.squeeze(1), tuple(s.squeeze(1) for s in h_n)
            elif self.batch_first:
                output = output.transpose(0, 1)  # (N, L, D*H_out)
        return output, (h_n[0] if self.num_states == 1 else h_n)


_SHAPES = """
    Inputs: input, hx
        input of shape (L, H_in) unbatched, (L, N, H_in), or (N, L, H_in) with batch_first, or
            a PackedSequence (torch.nn.utils.rnn.pack_padded_sequence) for variable lengths.
        hx: h_0 (RNN, GRU) or the tuple (h_0, c_0) (LSTM), h_0 of shape
            (num_layers * D, N, H_out), or (num_layers * D, H_out) unbatched, c_0 the same with
            H (not H_out) features; zeros when None.
            Row k = layer * D + direction (direction 1 runs backwards in time).
    Outputs: output, h_n (RNN, GRU) or output, (h_n, c_n) (LSTM)
        output of shape (L, N, D * H_out), (N, L, D * H_out) with batch_first, (L, D * H_out)
            unbatched, or a PackedSequence for packed input: the last layer's h_t at every t,
            both directions concatenated.
        h_n (and c_n): the final states of every layer and direction, shaped like h_0 (and
            c_0). In a
            packed batch: each sequence's state after its own last element (forwards) and
            after its first element (backwards).

    Where: N = batch size, L = sequence length, D = 2 if bidirectional else 1,
    H_in = input_size, H = hidden_size, H_out = proj_size if proj_size > 0 else H (always H
    for the RNN and the GRU).

    Bad input raises what torch.nn raises (TypeError for a size that is not an int or a switch
    that is not a bool, ValueError for a bad value, dimension or dtype, RuntimeError for a
    length, size or hidden-state shape that does not match) with an "expected X, got Y"
    message. cuDNN's flat-weight API (`flatten_parameters`, `_flat_weights`) is out of scope:
    there is one Python loop over steps and no fused kernel whose weights need flattening.
"""

_ARGS = """
    Args:
        input_size: H_in, the number of features of each x_t.
        hidden_size: H, the number of features of each h_t (of c_t in an LSTM).
        num_layers: how many layers are stacked, each reading the previous one's output.
        bias: if False, no b_ih and b_hh. Default True.
        batch_first: if True, input and output are (N, L, features). Default False.
        dropout: probability of dropping each output of every layer but the last, in
            training mode (as torch.nn does). Default 0.
        bidirectional: if True, each layer also runs backwards in time. Default False."""

_FACTORY = """
        device, dtype: where and of which dtype the parameters are made (torch's
            factory_kwargs). Default None: torch's default device and dtype."""


class RNN(_Layer):
    __doc__ = ("""An Elman RNN over a sequence, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).

    Parameters per layer k (suffix _reverse for the backward direction), as torch.nn.RNN:
    weight_ih_lk (H, H_in or D*H), weight_hh_lk (H, H), bias_ih_lk (H,), bias_hh_lk (H,).
""" + _ARGS + """
        nonlinearity: "tanh" (default) or "relu"; the 4th positional argument, as in torch.""" +
               _FACTORY + "\n" + _SHAPES + """
    Example:
        >>> rnn = RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(torch.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]))
    """)

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 *, proj_size=0):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"expected nonlinearity 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)  # proj_size > 0: ValueError

    def extra_repr(self):
        extra = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        return super().extra_repr() + extra

    def _step(self, x_proj, state, recurrent):
        return (rnn_step(x_proj, state[0], *recurrent, nonlinearity=self.nonlinearity),)


class LSTM(_Layer):
    __doc__ = ("""An LSTM over a sequence: `rnn_lib.cells.lstm_cell` at every step.

    Parameters per layer k (suffix _reverse for the backward direction), as torch.nn.LSTM:
    weight_ih_lk (4H, H_in or D*H_out) and weight_hh_lk (4H, H_out), rows stacked i, f, g, o;
    bias_ih_lk, bias_hh_lk (4H,); with proj_size = P > 0 also weight_hr_lk (P, H), so that
    h_t = W_hr (o_t * tanh(c_t)) has P features (H_out = P) while c_t keeps H; with
    peephole=True also weight_ci_lk, weight_cf_lk, weight_co_lk (H,), initialised to zero
    (load torch's weights with strict=False).
""" + _ARGS + """
        proj_size: P, if > 0 an LSTM with a projection (Sak et al. 2014). Must be < H.
            Default 0 (none).""" + _FACTORY + """
        peephole: (keyword only) if True, add the diagonal peepholes of Graves (2013). It
            combines with proj_size: the peepholes read c_t, which the projection leaves
            alone (Sak et al.'s LSTMP has both). Default False.
""" + _SHAPES + """
    Example:
        >>> lstm = LSTM(10, 20, bidirectional=True, batch_first=True)
        >>> output, (h_n, c_n) = lstm(torch.randn(3, 5, 10))
        >>> output.shape, h_n.shape
        (torch.Size([3, 5, 40]), torch.Size([2, 3, 20]))
        >>> output, (h_n, c_n) = LSTM(10, 20, proj_size=5)(torch.randn(3, 5, 10))
        >>> output.shape, h_n.shape, c_n.shape
        (torch.Size([3, 5, 5]), torch.Size([1, 5, 5]), torch.Size([1, 5, 20]))
    """)
    num_gates, num_states = 4, 2

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None, *,
                 peephole=False):
        # torch's positional order; peephole is keyword-only, rnn_lib's own extra
        check_flags(peephole=peephole)
        self.peephole = peephole
        # lstm_step's order after weight_hh, bias_hh: weight_ci, weight_cf, weight_co, weight_hr
        # (an absent one is None)
        self.param_names = _Layer.param_names + PEEPHOLES + ("weight_hr",)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)

    def _extra_shapes(self):
        shapes = {"weight_hr": (self.proj_size, self.hidden_size)} if self.proj_size else {}
        if self.peephole:
            shapes.update({name: (self.hidden_size,) for name in PEEPHOLES})
        return shapes  # torch's weight_hr_lk, then rnn_lib's peepholes

    def extra_repr(self):
        return super().extra_repr() + (", peephole=True" if self.peephole else "")

    def _step(self, x_proj, state, recurrent):
        return lstm_step(x_proj, state[0], state[1], *recurrent)


class GRU(_Layer):
    __doc__ = ("""A GRU over a sequence: `rnn_lib.cells.gru_cell` at every step.

    Parameters per layer k (suffix _reverse for the backward direction), as torch.nn.GRU:
    weight_ih_lk (3H, H_in or D*H) and weight_hh_lk (3H, H), rows stacked r, z, n;
    bias_ih_lk, bias_hh_lk (3H,).
""" + _ARGS + _FACTORY + "\n" + _SHAPES + """
    Example:
        >>> gru = GRU(10, 20)
        >>> output, h_n = gru(torch.randn(5, 10))  # unbatched
        >>> output.shape, h_n.shape
        (torch.Size([5, 20]), torch.Size([1, 20]))
    """)
    num_gates = 3
    bias_hh_in_projection = False

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, *, proj_size=0):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)  # proj_size > 0: ValueError

    def _step(self, x_proj, state, recurrent):
        return (gru_step(x_proj, state[0], *recurrent),)
