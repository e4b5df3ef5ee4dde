"""When can each cell of a stacked RNN run? The wavefront schedule, counted and executed.

Cell (l, t) of a stacked unidirectional RNN computes h_t^(l) from two things only:

    h_t^(l-1)   the layer below, at the same step      (the input x_t when l = 0)
    h_{t-1}^(l) the same layer, one step back

so every cell on an anti-diagonal l + t = s is independent of the others on it: with enough
hardware the cells (l, t) and (l-1, t+1) run at the same time and the whole stack takes
L + T - 1 sequential steps instead of L * T (Appleyard et al. 2016 do this on GPUs; GNMT puts
one layer per GPU). A bidirectional layer breaks the pipeline: its backward direction starts at
step T, so the layer above waits for the whole sequence of the layer below.

    steps = earliest_steps(L, T, bidirectional)   # (L, D, T): the step each cell can run at
    output, (h_n, c_n), waves = wavefront_lstm(lstm, x)   # run a torch.nn.LSTM wave by wave

where L = num_layers, T = sequence length, D = 2 if bidirectional else 1, N = batch size.
"""

import torch
import torch.nn.functional as F
from torch import nn


def earliest_steps(num_layers: int, steps: int, bidirectional: bool = False) -> torch.Tensor:
    """The earliest sequential step (1-based) at which each cell can be computed, with as many
    cells at once as there are ready ones and the whole input there from the start.

    A cell runs one step after the last of its inputs: its own state one step back (t-1
    forward, t+1 backward) and the output of the layer below at step t, which in a
    bidirectional stack is both directions' states.

    Returns: int64 tensor of shape (L, D, T); its maximum is the number of sequential steps.
    """
    if num_layers < 1 or steps < 1:
        raise ValueError(f"expected num_layers >= 1 and steps >= 1, got {num_layers}, {steps}")
    D = 2 if bidirectional else 1
    out = torch.zeros(num_layers, D, steps, dtype=torch.long)
    for layer in range(num_layers):  # the layer below is complete before this one
        for d in range(D):
            order = range(steps) if d == 0 else range(steps - 1, -1, -1)
            previous = 0  # the same direction's previous cell
            for t in order:
                below = out[layer - 1, :, t].max().item() if layer > 0 else 0
                out[layer, d, t] = previous = 1 + max(previous, below)
    return out


def _lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One LSTM cell step in torch.nn.LSTM's layout (gates stacked i, f, g, o)."""
    i, f, g, o = (F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


@torch.no_grad()
def wavefront_lstm(lstm: nn.LSTM, x: torch.Tensor):
    """Run a stacked, unidirectional `torch.nn.LSTM` in wavefront order.

    Wave s computes every cell (l, t) with l + t = s, reading only cells finished in earlier
    waves (a cell whose input is not finished yet raises RuntimeError): the same result as
    `lstm(x)` in L + T - 1 waves, which shows that the cells of one wave do not depend on each
    other.

    Inputs:
        lstm: torch.nn.LSTM, unidirectional, no projection, any num_layers and batch_first.
        x: of shape (T, N, H_in), or (N, T, H_in) when lstm.batch_first; zero initial state.
    Returns: output, (h_n, c_n), waves
        output: of shape (T, N, H) (or (N, T, H)), the top layer at every step.
        h_n, c_n: of shape (L, N, H).
        waves: list of L + T - 1 lists of the (layer, step) cells computed together.
    """
    if lstm.bidirectional or lstm.proj_size:
        raise ValueError("expected a unidirectional LSTM without projection, got "
                         f"bidirectional={lstm.bidirectional}, proj_size={lstm.proj_size}")
    if x.dim() != 3:
        raise ValueError(f"expected x of shape (T, N, H_in), got {tuple(x.shape)}")
    if lstm.batch_first:
        x = x.transpose(0, 1)
    T, N, _ = x.shape
    L, H = lstm.num_layers, lstm.hidden_size
    zero = x.new_zeros(N, H)
    done = {(layer, -1): (zero, zero) for layer in range(L)}  # (layer, t) -> (h, c)
    waves = []
    for s in range(L + T - 1):
        wave = [(layer, s - layer) for layer in range(L) if 0 <= s - layer < T]
        missing = [(layer - 1, t) for layer, t in wave if layer > 0 and (layer - 1, t) not in done]
        missing += [(layer, t - 1) for layer, t in wave if (layer, t - 1) not in done]
        if missing:
            raise RuntimeError(f"wave {s} needs cells not computed yet: {missing}")
        results = {}
        for layer, t in wave:  # independent of each other: they could run in parallel
            below = x[t] if layer == 0 else done[layer - 1, t][0]
            weights = [getattr(lstm, f"{name}_l{layer}", None) for name in  # no bias: None
                       ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            results[layer, t] = _lstm_step(below, *done[layer, t - 1], *weights)
        done.update(results)  # only now visible to later waves
        waves.append(wave)
    output = torch.stack([done[L - 1, t][0] for t in range(T)])  # (T, N, H)
    h_n = torch.stack([done[layer, T - 1][0] for layer in range(L)])  # (L, N, H)
    c_n = torch.stack([done[layer, T - 1][1] for layer in range(L)])
    return (output.transpose(0, 1) if lstm.batch_first else output), (h_n, c_n), waves
