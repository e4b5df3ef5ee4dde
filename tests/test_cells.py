"""rnn_lib.cells against torch.nn.RNNCell / LSTMCell / GRUCell: same weights, same numbers."""

import pytest
import torch

from rnn_lib import cells

N, H_IN, H = 3, 5, 4
TOL = {torch.float64: 1e-10, torch.float32: 1e-5}

KINDS = {  # name: (our cell, torch's cell, keyword arguments, number of state tensors)
    "rnn_tanh": (cells.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}, 1),
    "rnn_relu": (cells.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}, 1),
    "lstm": (cells.LSTMCell, torch.nn.LSTMCell, {}, 2),
    "gru": (cells.GRUCell, torch.nn.GRUCell, {}, 1),
}


def make_pair(kind, dtype, bias=True):
    ours_cls, torch_cls, kwargs, _ = KINDS[kind]
    torch.manual_seed(0)
    theirs = torch_cls(H_IN, H, bias=bias, **kwargs).to(dtype)
    ours = ours_cls(H_IN, H, bias=bias, **kwargs).to(dtype)
    ours.load_state_dict(theirs.state_dict())  # strict: the names and shapes must match
    return ours, theirs


def call(cell, x, states):
    """Run a cell on x and a list of state tensors; return its outputs as a tuple."""
    out = cell(x, tuple(states)) if len(states) == 2 else cell(x, states[0])
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_outputs_and_gradients_equal_torch(kind, dtype, batched, bias):
    ours, theirs = make_pair(kind, dtype, bias)
    n_states = KINDS[kind][3]
    shape = (N,) if batched else ()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(*shape, H_IN, dtype=dtype, generator=g)
    states = [torch.randn(*shape, H, dtype=dtype, generator=g) for _ in range(n_states)]
    weights = [torch.randn(*shape, H, dtype=dtype, generator=g) for _ in range(n_states)]

    results = []
    for cell in (ours, theirs):
        xs = x.clone().requires_grad_()
        ss = [s.clone().requires_grad_() for s in states]
        outs = call(cell, xs, ss)
        # a random linear function of every output, so each output's gradient matters
        sum(((o * w).sum() for o, w in zip(outs, weights, strict=True))).backward()
        grads = {"x": xs.grad, **{f"state{i}": s.grad for i, s in enumerate(ss)}}
        grads.update({name: p.grad for name, p in cell.named_parameters()})
        results.append((outs, grads))

    (ours_out, ours_grad), (torch_out, torch_grad) = results
    tol = TOL[dtype]
    for a, b in zip(ours_out, torch_out, strict=True):
        assert a.shape == b.shape == tuple(shape) + (H,)
        torch.testing.assert_close(a, b, rtol=tol, atol=tol)
    assert ours_grad.keys() == torch_grad.keys()
    for name in ours_grad:
        torch.testing.assert_close(ours_grad[name], torch_grad[name], rtol=tol, atol=tol,
                                   msg=lambda m, name=name: f"gradient of {name}: {m}")


@pytest.mark.parametrize("kind", KINDS)
def test_missing_state_means_zeros(kind):
    ours, theirs = make_pair(kind, torch.float64)
    x = torch.randn(N, H_IN, dtype=torch.float64)
    zeros = [torch.zeros(N, H, dtype=torch.float64)] * KINDS[kind][3]
    default = ours(x)
    default = default if isinstance(default, tuple) else (default,)
    for a, b, c in zip(default, call(ours, x, zeros), call(theirs, x, zeros), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        torch.testing.assert_close(a, c, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_round_trip_both_ways(kind):
    ours_cls, torch_cls, kwargs, n_states = KINDS[kind]
    ours, theirs = ours_cls(H_IN, H, **kwargs), torch_cls(H_IN, H, **kwargs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in theirs.state_dict().items()}
    theirs.load_state_dict(ours.state_dict())  # ours -> torch
    back = ours_cls(H_IN, H, **kwargs)
    back.load_state_dict(theirs.state_dict())  # torch -> ours
    for name, value in ours.state_dict().items():
        assert torch.equal(back.state_dict()[name], value), name
    x, states = torch.randn(N, H_IN), [torch.randn(N, H)] * n_states
    for a, b in zip(call(back, x, states), call(theirs, x, states), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("kind", [*KINDS, "lstm_peephole"])
def test_default_initialisation_is_torchs(kind):
    """Same distribution, drawn in the same order: with the same seed, the same numbers."""
    peephole = kind == "lstm_peephole"
    ours_cls, torch_cls, kwargs, _ = KINDS["lstm" if peephole else kind]
    torch.manual_seed(7)
    ours = ours_cls(H_IN, 64, **kwargs, **({"peephole": True} if peephole else {}))
    torch.manual_seed(7)
    theirs = torch_cls(H_IN, 64, **kwargs)
    for name, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name
        assert 0.9 * 64**-0.5 < value.abs().max() <= 64**-0.5, name  # U(-1/sqrt(H), 1/sqrt(H))
    ours.weight_ih.data.zero_()
    ours.reset_parameters()
    assert ours.weight_ih.abs().max() > 0


def reference_peephole_lstm(x, h, c, cell):
    """The peephole LSTM equations written out gate by gate, independently of rnn_lib."""
    W, U, b = cell.weight_ih, cell.weight_hh, cell.bias_ih + cell.bias_hh
    rows = {gate: slice(k * H, (k + 1) * H) for k, gate in enumerate("ifgo")}

    def pre(gate):
        return x @ W[rows[gate]].T + h @ U[rows[gate]].T + b[rows[gate]]

    i = torch.sigmoid(pre("i") + cell.weight_ci * c)
    f = torch.sigmoid(pre("f") + cell.weight_cf * c)
    g = torch.tanh(pre("g"))
    c_new = f * c + i * g
    o = torch.sigmoid(pre("o") + cell.weight_co * c_new)
    return o * torch.tanh(c_new), c_new


def test_fresh_peephole_lstm_equals_plain_lstm():
    plain, theirs = make_pair("lstm", torch.float64)
    peep = cells.LSTMCell(H_IN, H, peephole=True).double()
    for name in cells.PEEPHOLES:
        assert torch.equal(getattr(peep, name), torch.zeros(H, dtype=torch.float64))
    result = peep.load_state_dict(theirs.state_dict(), strict=False)
    assert sorted(result.missing_keys) == sorted(cells.PEEPHOLES) and not result.unexpected_keys
    x, h, c = torch.randn(N, H_IN).double(), torch.randn(N, H).double(), torch.randn(N, H).double()
    for a, b in zip(peep(x, (h, c)), theirs(x, (h, c)), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    # without its peephole keys, the state_dict is a plain LSTMCell's
    trimmed = {k: v for k, v in peep.state_dict().items() if k not in cells.PEEPHOLES}
    assert trimmed.keys() == plain.state_dict().keys()
    plain.load_state_dict(trimmed)


def test_peephole_lstm_matches_equations_and_gradcheck():
    torch.manual_seed(3)
    cell = cells.LSTMCell(H_IN, H, peephole=True).double()
    with torch.no_grad():
        for name in cells.PEEPHOLES:
            getattr(cell, name).normal_()
    x, h, c = (torch.randn(N, n, dtype=torch.float64, requires_grad=True) for n in (H_IN, H, H))
    ours, ref = cell(x, (h, c)), reference_peephole_lstm(x, h, c, cell)
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    plain = cells.LSTMCell(H_IN, H).double()
    plain.load_state_dict(cell.state_dict(), strict=False)
    assert not torch.allclose(plain(x, (h, c))[0], ours[0])  # the peepholes do change things

    names = [n for n, _ in cell.named_parameters()]

    def f(x, h, c, *params):
        return torch.func.functional_call(cell, dict(zip(names, params, strict=True)), (x, (h, c)))

    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    assert torch.autograd.gradcheck(f, (x, h, c, *params))
    # the unbatched path too
    assert torch.autograd.gradcheck(lambda x, h, c: cell(x, (h, c)), (x[0], h[0], c[0]))


def test_peephole_state_dict_into_torch_needs_strict_false():
    peep = cells.LSTMCell(H_IN, H, peephole=True)
    theirs = torch.nn.LSTMCell(H_IN, H)
    with pytest.raises(RuntimeError, match="weight_ci"):
        theirs.load_state_dict(peep.state_dict())
    result = theirs.load_state_dict(peep.state_dict(), strict=False)
    assert sorted(result.unexpected_keys) == sorted(cells.PEEPHOLES)


# (class name, constructor arguments, call arguments or None, exception, message, whether
# torch.nn's cell raises the same exception: torch is the control)
BAD_INPUT = [
    ("RNNCell", (H_IN, H), (torch.randn(2, 3, H_IN),), ValueError, "expected input to be 1D",
     True),
    ("RNNCell", (H_IN, H), (torch.randn(N, H_IN + 1),), RuntimeError,
     rf"expected input of size \(N, {H_IN}\) or \({H_IN},\), got \({N}, {H_IN + 1}\)", True),
    ("GRUCell", (H_IN, H), (torch.randn(N, H_IN), torch.randn(N + 1, H)), RuntimeError,
     rf"expected hidden state of size \({N}, {H}\), got \({N + 1}, {H}\)", True),
    ("GRUCell", (H_IN, H), (torch.randn(H_IN), torch.randn(1, H)), RuntimeError,
     rf"expected hidden state of size \({H},\), got \(1, {H}\)", True),
    ("LSTMCell", (H_IN, H), (torch.randn(N, H_IN), torch.randn(N, H)), ValueError,
     "expected state to be a tuple", False),
    ("LSTMCell", (H_IN, H), (torch.randn(N, H_IN), (torch.randn(N, H), torch.randn(N, H + 1))),
     RuntimeError, rf"expected hidden state of size \({N}, {H}\), got \({N}, {H + 1}\)", True),
    ("GRUCell", (H_IN, H), (torch.randn(N, H_IN).double(),), RuntimeError,
     "expected input of dtype torch.float32 \\(the weights'\\), got torch.float64", True),
    ("LSTMCell", (H_IN, float(H)), None, TypeError, "expected hidden_size to be an int, got float",
     True),
    ("RNNCell", (H_IN, H, "yes"), None, TypeError, "expected bias to be a bool, got str", False),
    ("LSTMCell", (-1, H), None, ValueError, "expected input_size >= 0, got -1", False),
    ("GRUCell", (H_IN, H), (torch.randn(N, H_IN), torch.randn(1, N, H)), ValueError,
     "expected hidden state to be 1D", True),
]


@pytest.mark.parametrize("name, args, call, error, message, like_torch", BAD_INPUT)
def test_bad_input_raises_what_torch_raises_with_a_clear_message(name, args, call, error,
                                                                 message, like_torch):
    with pytest.raises(error, match=message):
        cell = getattr(cells, name)(*args)
        cell(*call)
    if like_torch:
        with pytest.raises(error):
            cell = getattr(torch.nn, name)(*args)
            cell(*call)


def test_an_unknown_nonlinearity_is_refused():
    with pytest.raises(ValueError, match="expected nonlinearity 'tanh' or 'relu', got 'sigmoid'"):
        cells.RNNCell(H_IN, H, nonlinearity="sigmoid")


def test_repr():
    assert repr(cells.RNNCell(5, 3)) == "RNNCell(5, 3)"
    assert repr(cells.RNNCell(5, 3, nonlinearity="relu")) == "RNNCell(5, 3, nonlinearity='relu')"
    assert repr(cells.LSTMCell(5, 3, peephole=True)) == "LSTMCell(5, 3, peephole=True)"
    assert repr(cells.GRUCell(5, 3, bias=False)) == "GRUCell(5, 3, bias=False)"
