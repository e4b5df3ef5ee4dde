"""Tests for rnn_lib.wavefront: the schedule against a simulation, the execution against torch."""

import pytest
import torch
from torch import nn

from rnn_lib.wavefront import earliest_steps, wavefront_lstm


def simulate(num_layers, steps, bidirectional):
    """Tick by tick: every cell whose inputs finished at an earlier tick runs now."""
    D = 2 if bidirectional else 1
    def deps(layer, d, t):
        own = [(layer, d, t - 1 if d == 0 else t + 1)]
        own = [c for c in own if 0 <= c[2] < steps]
        return own + [(layer - 1, e, t) for e in range(D) if layer > 0]

    cells = [(layer, d, t) for layer in range(num_layers) for d in range(D) for t in range(steps)]
    finished, tick = {}, 0
    while len(finished) < len(cells):
        tick += 1
        ready = [c for c in cells if c not in finished and all(p in finished for p in deps(*c))]
        assert ready, "no cell can run: the dependencies have a cycle"
        finished.update({c: tick for c in ready})
    out = torch.zeros(num_layers, D, steps, dtype=torch.long)
    for (layer, d, t), k in finished.items():
        out[layer, d, t] = k
    return out


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers,steps", [(1, 1), (1, 6), (3, 5), (4, 2)])
def test_earliest_steps_match_a_simulation(num_layers, steps, bidirectional):
    assert torch.equal(earliest_steps(num_layers, steps, bidirectional),
                       simulate(num_layers, steps, bidirectional))


def test_closed_forms():
    L, T = 3, 7
    uni = earliest_steps(L, T)[:, 0]  # cell (l, t) runs at step l + t + 1 (0-based l, t)
    assert torch.equal(uni, torch.arange(L)[:, None] + torch.arange(T)[None, :] + 1)
    assert uni.max() == L + T - 1
    assert earliest_steps(1, T, True).max() == T  # both directions side by side
    assert earliest_steps(L, T, True).max() == L * T  # each layer waits for the whole one below


@pytest.mark.parametrize("batch_first", [False, True])
def test_wavefront_lstm_equals_torch(batch_first):
    torch.manual_seed(0)
    lstm = nn.LSTM(4, 6, num_layers=3, batch_first=batch_first)
    x = torch.randn(2, 5, 4) if batch_first else torch.randn(5, 2, 4)
    out, (h, c), waves = wavefront_lstm(lstm, x)
    with torch.no_grad():
        ref_out, (ref_h, ref_c) = lstm(x)
    assert torch.allclose(out, ref_out, atol=1e-6)
    assert torch.allclose(h, ref_h, atol=1e-6) and torch.allclose(c, ref_c, atol=1e-6)
    assert len(waves) == 3 + 5 - 1 and sum(map(len, waves)) == 3 * 5
    assert waves[2] == [(0, 2), (1, 1), (2, 0)]  # one anti-diagonal


def test_bad_arguments():
    with pytest.raises(ValueError, match="unidirectional"):
        wavefront_lstm(nn.LSTM(2, 3, bidirectional=True), torch.zeros(4, 1, 2))
    with pytest.raises(ValueError, match=r"expected x of shape \(T, N, H_in\)"):
        wavefront_lstm(nn.LSTM(2, 3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="expected num_layers >= 1"):
        earliest_steps(0, 3)
