"""PyTorch's own tests of its recurrent modules, ported: each runs on torch.nn (the control, which
must pass) and on rnn_lib (cells.RNNCell ... layers.LSTM), through the `nn` fixture.

Two sources, rewritten for pytest and CPU:

- the RNN tests of PyTorch's test/test_nn.py (test_RNN_cell, test_LSTM_cell, test_rnn_args_check,
  test_RNN_input_size_zero, test_variable_sequence, test_RNN_dropout_state, the projection
  tests, double backward, ...); the CUDA and cuDNN ones are adapted to a CPU (for example
  test_RNN_cpu_vs_cudnn_no_dropout compares the module under test with torch.nn's CPU path);
- the generic module tests of test/test_modules.py (test_forward, test_factory_kwargs,
  test_pickle, test_non_contiguous_tensors, test_grad, test_gradgrad, test_errors, ...), driven
  by samples built as torch/testing/_internal/common_modules.py builds them for RNN, GRU, LSTM
  and the cells (module_inputs_torch_nn_RNN_GRU, module_inputs_torch_nn_LSTM, ...). That file
  needs expecttest to import, so the samples are rebuilt here, configuration for configuration.

Not ported: cuDNN's flat-weight API (`flatten_parameters`, `_flat_weights`, the tests of
weights shared with cuDNN); rnn_lib has one Python loop over steps and nothing to flatten
(its layers' docstrings say so). Tests that need two devices are adapted to the meta device.
"""

import copy
import io
import itertools
import re
import types
import warnings

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnn_lib import cells, layers

F64 = torch.float64
RNN_LIB = types.SimpleNamespace(RNN=layers.RNN, LSTM=layers.LSTM, GRU=layers.GRU,
                                RNNCell=cells.RNNCell, LSTMCell=cells.LSTMCell,
                                GRUCell=cells.GRUCell)


@pytest.fixture(params=[torch.nn, RNN_LIB], ids=["torch", "rnn_lib"])
def nn(request):
    """The module namespace under test: torch.nn is the control, rnn_lib the subject."""
    return request.param


def tensors(result):
    """Every tensor of an output such as (output, h_n), (output, (h_n, c_n)) or a PackedSequence
    (its data), or of a list of forward inputs: what gradients flow to."""
    if isinstance(result, PackedSequence):
        return [result.data]
    if isinstance(result, torch.Tensor):
        return [result]
    return [t for part in result for t in tensors(part)]


def same_weights(ours, theirs):
    """`ours` with `theirs`' parameters (strict: the same names and shapes)."""
    ours.load_state_dict(theirs.state_dict())
    return ours


# ---------------------------------------------------------------- test_nn.py: the cells


@pytest.mark.parametrize("name", ["RNNCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
def test_RNN_cell(nn, name, bias):
    cell = getattr(nn, name)(10, 20, bias=bias)
    x, hx = torch.randn(3, 10), torch.randn(3, 20)
    for _ in range(6):
        hx = cell(x, hx)
    hx.sum().backward()
    assert hx.shape == (3, 20)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in cell.parameters())


def test_RNN_cell_forward_zero_hidden_size(nn):
    x, hx = torch.randn(3, 10), torch.randn(3, 0)
    for cell in (nn.RNNCell(10, 0, nonlinearity="tanh"), nn.RNNCell(10, 0, nonlinearity="relu"),
                 nn.GRUCell(10, 0)):
        assert cell(x, hx).shape == (3, 0)


@pytest.mark.parametrize("bad", ["batch", "hidden_size", "input_size"])
def test_RNN_cell_no_broadcasting(nn, bad):
    """A hidden state or input that would broadcast is refused with a RuntimeError."""
    x, good_hx = torch.randn(3, 10), torch.randn(3, 20)
    bad_hx = {"batch": torch.randn(1, 20), "hidden_size": torch.randn(3, 1)}.get(bad, good_hx)
    if bad == "input_size":
        x = torch.randn(3, 1)
    for cell, hx in [(nn.RNNCell(10, 20), bad_hx), (nn.GRUCell(10, 20), bad_hx),
                     (nn.LSTMCell(10, 20), (bad_hx, good_hx)),
                     (nn.LSTMCell(10, 20), (good_hx, bad_hx))]:
        with pytest.raises(RuntimeError):
            cell(x, hx)


@pytest.mark.parametrize("bias", [True, False])
def test_LSTM_cell(nn, bias):
    lstm = nn.LSTMCell(10, 20, bias=bias)
    x, hx, cx = torch.randn(3, 10), torch.randn(3, 20), torch.randn(3, 20)
    for _ in range(6):
        hx, cx = lstm(x, (hx, cx))
    (hx + cx).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in lstm.parameters())


def test_LSTM_cell_forward_input_size(nn):
    lstm = nn.LSTMCell(10, 20)
    with pytest.raises(RuntimeError):
        lstm(torch.randn(3, 11), (torch.randn(3, 20), torch.randn(3, 20)))


@pytest.mark.parametrize("which", [0, 1])
def test_LSTM_cell_forward_hidden_size(nn, which):
    lstm = nn.LSTMCell(10, 20)
    hx = [torch.randn(3, 20), torch.randn(3, 20)]
    hx[which] = torch.randn(3, 21)
    with pytest.raises(RuntimeError):
        lstm(torch.randn(3, 10), tuple(hx))


# ---------------------------------------------------------------- test_nn.py: the layers


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_RNN_input_size_zero(nn, name):
    """A batch of zero sequences (N = 0) runs, forwards and backwards."""
    rnn = getattr(nn, name)(input_size=3, hidden_size=4)
    output, _ = rnn(torch.zeros(5, 0, 3))
    assert output.shape == (5, 0, 4)
    output.sum().backward()


def test_RNN_nonlinearity(nn):
    assert nn.RNN(1, 10).nonlinearity == "tanh"
    assert nn.RNN(1, 10, nonlinearity="relu").nonlinearity == "relu"
    with pytest.raises(ValueError):
        nn.RNN(1, 10, nonlinearity="garbage")


def test_RNN_nonlinearity_passed_as_arg(nn):
    rnn = nn.RNN(2, 3, 1, "relu")
    assert (rnn.input_size, rnn.hidden_size, rnn.num_layers, rnn.nonlinearity) == (
        2, 3, 1, "relu")


def _args_check_cases(proj_size=0):
    """(wrong, input shape, h_0 shape, c_0 shape) for a 2-layer unidirectional layer of input
    size 3 and hidden size 5 (4 with a projection to 2)."""
    L, N, H_in, H = 4, 6, 3, 5
    H_out = proj_size or H
    good = ((L, N, H_in), (2, N, H_out), (2, N, H))
    cases = [("input_size", (L, N, H_in + 1), good[1], good[2]),
             ("batch_size", good[0], (2, N + 1, H_out), (2, N + 1, H)),
             ("num_layers", good[0], (1, N, H_out), (1, N, H)),
             ("num_directions", good[0], (4, N, H_out), (4, N, H)),
             ("hidden_size", good[0], (2, N, H_out + 1), (2, N, H + 1))]
    if proj_size:  # h_0 has proj_size features, c_0 hidden_size: each wrong alone
        cases += [("h_0 of hidden_size", good[0], (2, N, H), good[2]),
                  ("c_0 of proj_size", good[0], good[1], (2, N, H_out))]
    return cases


@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("wrong, input_shape, h_shape, c_shape", _args_check_cases(),
                         ids=[case[0] for case in _args_check_cases()])
def test_rnn_args_check(nn, mode, wrong, input_shape, h_shape, c_shape):
    rnn = getattr(nn, mode)(3, 5, 2)
    hx = torch.randn(h_shape)
    if mode == "LSTM":
        hx = (hx, torch.randn(c_shape))
    with pytest.raises(RuntimeError):
        rnn(torch.randn(input_shape), hx)


@pytest.mark.parametrize("wrong, input_shape, h_shape, c_shape", _args_check_cases(2),
                         ids=[case[0] for case in _args_check_cases(2)])
def test_projections_lstm_args_check(nn, wrong, input_shape, h_shape, c_shape):
    lstm = nn.LSTM(3, 5, 2, proj_size=2)
    with pytest.raises(RuntimeError):
        lstm(torch.randn(input_shape), (torch.randn(h_shape), torch.randn(c_shape)))


@pytest.mark.parametrize("mode", ["RNN", "GRU"])
def test_projections_errors_on_gru_and_rnn(nn, mode):
    with pytest.raises(ValueError):
        getattr(nn, mode)(3, 5, 2, proj_size=3)


@pytest.mark.parametrize("proj_size", [-1, 5, 6])
def test_projections_lstm_bad_proj_size(nn, proj_size):
    with pytest.raises(ValueError):
        nn.LSTM(3, 5, proj_size=proj_size)


@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
def test_rnn_initial_hidden_state(nn, mode):
    rnn = getattr(nn, mode)(30, 20, 2)
    x, hidden = torch.randn(10, 32, 30), torch.zeros(2, 32, 20)
    if mode == "LSTM":
        hidden = (hidden, hidden)
    for a, b in zip(tensors(rnn(x, hidden)), tensors(rnn(x)), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_projections_lstm_initial_hidden_state(nn, bidirectional):
    D = 2 if bidirectional else 1
    lstm = nn.LSTM(30, 20, 2, proj_size=10, bidirectional=bidirectional)
    x = torch.randn(10, 32, 30)
    hidden = (torch.zeros(2 * D, 32, 10), torch.zeros(2 * D, 32, 20))
    output, (h_n, c_n) = lstm(x, hidden)
    assert output.shape == (10, 32, 10 * D)
    assert h_n.shape == (2 * D, 32, 10) and c_n.shape == (2 * D, 32, 20)
    for a, b in zip(tensors(lstm(x, hidden)), tensors(lstm(x)), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("train", [True, False])
def test_RNN_change_dropout(nn, train):
    """Changing `dropout` after construction takes effect (test_nn.py's version needs cuDNN)."""
    torch.manual_seed(0)
    rnn = nn.RNN(100, 100, 2, dropout=0, nonlinearity="relu").train(train)
    x = torch.rand(3, 2, 100)
    previous = None
    for p in (0, 0.276, 0.731, 1):
        rnn.dropout = p
        output1, hy1 = rnn(x)
        output2, hy2 = rnn(x)
        if p == 0 or p == 1 or not train:
            torch.testing.assert_close(output1, output2)
            torch.testing.assert_close(hy1, hy2)
        else:
            assert not torch.equal(output1, output2)
            assert not torch.equal(hy1, hy2)
        if previous is not None:
            assert torch.equal(output1, previous) == (not train)
        previous = output1


@pytest.mark.parametrize("p", [0, 0.276, 0.731, 1])
@pytest.mark.parametrize("train", [True, False])
def test_RNN_dropout(nn, p, train):
    """All-ones weights, no bias, relu: the first layer gives 10 in each of its 1000 units,
    dropout keeps each with probability 1 - p (scaled by 1 / (1 - p)), and the second layer
    sums what is kept, so every one of its units shows how many were dropped."""
    torch.manual_seed(0)
    rnn = nn.RNN(10, 1000, 2, bias=False, dropout=p, nonlinearity="relu").train(train)
    with torch.no_grad():
        for w in rnn.parameters():
            w.fill_(1)
    output, hy = rnn(torch.ones(1, 1, 10), torch.zeros(2, 1, 1000))
    first, second = hy[0, 0], output[0, 0]
    assert torch.all(first == 10) and torch.all(second == second[0])  # every unit the same
    scale = 1 / (1 - p) if train and p < 1 else 1
    kept = second[0].item() / (10 * scale)
    if not train or p == 0:
        assert kept == 1000
    elif p == 1:
        assert kept == 0
    else:
        assert kept == pytest.approx(round(kept), abs=1e-3)  # a whole number of units
        assert abs(kept / 1000 - (1 - p)) < 0.1  # about 1 - p of them
    assert torch.equal(hy[1], output[0])


@pytest.mark.parametrize("p", [0, 0.1276])
@pytest.mark.parametrize("train", [True, False])
def test_RNN_dropout_state(nn, p, train):
    """A saved and loaded layer keeps its dropout (test_nn.py then calls flatten_parameters,
    cuDNN's API: not ported)."""
    torch.manual_seed(0)
    rnn = nn.RNN(100, 100, 2, bias=False, dropout=p, nonlinearity="relu").train(train)
    x, hx = torch.rand(1, 1, 100), torch.rand(2, 1, 100)
    output1, hy1 = rnn(x, hx)
    output2, hy2 = rnn(x, hx)
    buffer = io.BytesIO()
    torch.save(rnn, buffer)
    buffer.seek(0)
    rnn2 = torch.load(buffer, weights_only=False)
    assert rnn2.dropout == p and rnn2.training == train
    output3, hy3 = rnn2(x, hx)
    if p == 0 or not train:
        for a in (output2, output3):
            torch.testing.assert_close(output1, a)
        for a in (hy2, hy3):
            torch.testing.assert_close(hy1, a)
    else:
        assert not torch.equal(output1, output2) and not torch.equal(output1, output3)
        assert not torch.equal(hy1, hy2) and not torch.equal(hy1, hy3)


def test_RNN_dropout_warning(nn):
    with pytest.warns(UserWarning, match="dropout"):
        nn.RNN(10, 20, num_layers=1, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.RNN(10, 20, num_layers=2, dropout=0.5)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_rnn_retain_variables(nn, dtype):
    rnn = nn.LSTM(10, 20, num_layers=2).to(dtype)
    x = torch.randn(5, 6, 10, dtype=dtype, requires_grad=True)
    output = rnn(x)
    output[0].sum().backward(retain_graph=True)
    grads = [x.grad.clone()] + [p.grad.clone() for p in rnn.parameters()]
    for _ in range(4):
        rnn.zero_grad()
        x.grad.zero_()
        output[0].sum().backward(retain_graph=True)
        for a, b in zip(grads, [x.grad] + [p.grad for p in rnn.parameters()], strict=True):
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("proj_size", [0, 2])
def test_variable_sequence(nn, dtype, proj_size):
    """A packed batch gives what each sequence gives alone: outputs, h_n and gradients."""
    torch.manual_seed(0)
    lengths = [10, 10, 6, 2, 2, 1, 1]
    T = lengths[0]
    x = torch.randn(T, len(lengths), 3, dtype=dtype, requires_grad=True)
    lstm = nn.LSTM(3, 4, bidirectional=True, num_layers=2, proj_size=proj_size).to(dtype)
    lstm2 = copy.deepcopy(lstm)

    seq_outs, seq_hiddens = [], []
    for i, length in enumerate(lengths):  # one sequence at a time, padded with zeros after
        out, hid = lstm2(x[:length, i:i + 1])
        seq_outs.append(torch.cat([out, out.new_zeros(T - length, *out.shape[1:])]))
        seq_hiddens.append(hid)
    seq_out = torch.cat(seq_outs, 1)
    seq_hidden = tuple(torch.cat(h, 1) for h in zip(*seq_hiddens, strict=True))

    packed_out, packed_hidden = lstm(pack_padded_sequence(x, lengths))
    unpacked, unpacked_len = pad_packed_sequence(packed_out)
    tol = 1e-10 if dtype == F64 else 1e-5
    for a, b in zip(packed_hidden, seq_hidden, strict=True):
        torch.testing.assert_close(a, b, atol=tol, rtol=tol)
    torch.testing.assert_close(unpacked, seq_out, atol=tol, rtol=tol)
    assert unpacked_len.tolist() == lengths

    seq_out.sum().backward()
    grad_x = x.grad.clone()
    x.grad.zero_()
    unpacked.sum().backward()
    torch.testing.assert_close(x.grad, grad_x, atol=tol, rtol=tol)
    for p1, p2 in zip(lstm.parameters(), lstm2.parameters(), strict=True):
        torch.testing.assert_close(p1.grad, p2.grad, atol=tol, rtol=tol)


@pytest.mark.parametrize("mode, proj_size", [("RNN", 0), ("GRU", 0), ("LSTM", 0), ("LSTM", 3)],
                         ids=["RNN", "GRU", "LSTM", "LSTM_proj"])
def test_RNN_cpu_vs_cudnn_no_dropout(nn, mode, proj_size):
    """test_nn.py compares torch's CPU path with cuDNN; here the module under test is compared
    with torch.nn's CPU path on the same weights: outputs, h_n and every gradient."""
    torch.manual_seed(0)
    H_in, H, num_layers, L, N = 10, 6, 2, 7, 6
    for bias, bidirectional, batch_first, variable_len in itertools.product([True, False],
                                                                            repeat=4):
        kwargs = dict(num_layers=num_layers, bias=bias, bidirectional=bidirectional,
                      batch_first=batch_first)
        if proj_size:
            kwargs["proj_size"] = proj_size
        theirs = getattr(torch.nn, mode)(H_in, H, **kwargs).double()
        ours = same_weights(getattr(nn, mode)(H_in, H, **kwargs).double(), theirs)
        D = 2 if bidirectional else 1
        x = torch.randn(N, L, H_in, dtype=F64) if batch_first else torch.randn(L, N, H_in,
                                                                                dtype=F64)
        hx = torch.randn(num_layers * D, N, proj_size or H, dtype=F64)
        if mode == "LSTM":
            hx = (hx, torch.randn(num_layers * D, N, H, dtype=F64))
        lengths = sorted(torch.randint(1, L + 1, (N,)).tolist(), reverse=True)
        lengths[0] = L
        results, grads = [], []
        for module in (theirs, ours):
            x_ = x.clone().requires_grad_()
            hx_ = tuple(h.clone().requires_grad_() for h in tensors(hx))
            inp = pack_padded_sequence(x_, lengths, batch_first=batch_first) if variable_len \
                else x_
            out = module(inp, hx_ if mode == "LSTM" else hx_[0])
            flat = tensors(out)
            sum(t.sum() for t in flat).backward()
            results.append(flat)
            grads.append([x_.grad, *(h.grad for h in hx_),
                          *(p.grad for p in module.parameters())])
        for a, b in zip(*results, strict=True):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)
        for a, b in zip(*grads, strict=True):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("mode, proj_size", [("RNN", 0), ("GRU", 0), ("LSTM", 0), ("LSTM", 2)],
                         ids=["RNN", "GRU", "LSTM", "LSTM_proj"])
@pytest.mark.parametrize("bias", [True, False])
def test_rnn_grad_and_gradgrad(nn, mode, proj_size, bias):
    """test_nn.py's test_RNN/GRU/LSTM_grad_and_gradgrad: gradcheck and double backward."""
    hsize = 4
    kwargs = {"proj_size": proj_size} if proj_size else {}
    module = getattr(nn, mode)(hsize, hsize, bias=bias, **kwargs).double()
    x = torch.rand(1, 3, hsize, dtype=F64, requires_grad=True)

    def flat_output(x):
        return tuple(tensors(module(x)))

    assert gradcheck(flat_output, (x,), check_batched_grad=False)
    assert gradgradcheck(flat_output, (x,), check_batched_grad=False)


@pytest.mark.parametrize("name", ["weight_hh_l0", "weight_ih_l0", "weight_hr_l0"])
def test_rnn_weight_norm(nn, name):
    """Weight norm on one of the LSTM's weights keeps its output; removing it restores the
    Parameter (test_nn.py also counts cuDNN's _flat_weights: not ported)."""
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 4, proj_size=2).double()
    x = torch.randn(5, 2, 3, dtype=F64)
    before = tensors(lstm(x))
    torch.nn.utils.weight_norm(lstm, name=name)
    assert name not in dict(lstm.named_parameters())
    assert {name + "_g", name + "_v"} <= set(dict(lstm.named_parameters()))
    for a, b in zip(before, tensors(lstm(x)), strict=True):
        torch.testing.assert_close(a, b)
    torch.nn.utils.remove_weight_norm(lstm, name=name)
    assert name in lstm._parameters and name + "_g" not in dict(lstm.named_parameters())
    for a, b in zip(before, tensors(lstm(x)), strict=True):
        torch.testing.assert_close(a, b)


def test_rnn_check_device(nn):
    """test_nn.py checks input, hidden state and parameters on two CUDA devices; here `device=`
    puts every parameter on the meta device, and to_empty brings them to the CPU."""
    for make in (lambda **kw: nn.RNN(3, 4, 2, **kw),
                 lambda **kw: nn.LSTM(3, 4, 2, proj_size=2, **kw),
                 lambda **kw: nn.GRUCell(3, 4, **kw)):
        real, meta = make(), make(device="meta")
        assert {p.device.type for p in meta.parameters()} == {"meta"}
        assert [(n, p.shape) for n, p in meta.named_parameters()] == [
            (n, p.shape) for n, p in real.named_parameters()]
        meta.to_empty(device="cpu")
        assert {p.device.type for p in meta.parameters()} == {"cpu"}


# ---------------------------------------------------------------- test_modules.py, generic


def _rnn_gru_samples(name, is_rnn):
    """Samples as common_modules.module_inputs_torch_nn_RNN_GRU builds them (unbatched, with
    and without h_0), plus its with_packed_sequence samples."""
    samples = []
    for args in itertools.product(*([["relu", "tanh"]] if is_rnn else []), [False, True],
                                  [False, True], [False, True]):
        *nl, bias, batch_first, bidir = args
        extra = {"nonlinearity": nl[0]} if is_rnn else {}
        base = dict(input_size=2, num_layers=2, batch_first=batch_first, bias=bias,
                    bidirectional=bidir, **extra)
        D = 2 if bidir else 1
        samples.append((name, dict(base, hidden_size=2), lambda: ((3, 2),), batch_first))
        samples.append((name, dict(base, hidden_size=3), lambda D=D: ((3, 2), (2 * D, 3)),
                        batch_first))
        for shape, lengths in [((5, 2, 2), [5, 3]), ((5, 5, 2), [5, 3, 3, 2, 2])]:
            samples.append((name, dict(base, hidden_size=2),
                            lambda shape=shape, lengths=lengths: (("packed", shape, lengths),),
                            batch_first))
    return samples


def _lstm_samples():
    """Samples as common_modules.module_inputs_torch_nn_LSTM builds them (proj_size 0 and 2)."""
    samples = []
    for bias, batch_first, bidir, proj_size in itertools.product([False, True], [False, True],
                                                                 [False, True], [0, 2]):
        cons = dict(input_size=2, hidden_size=3, num_layers=2, proj_size=proj_size,
                    batch_first=batch_first, bias=bias, bidirectional=bidir)
        D = 2 if bidir else 1
        samples.append(("LSTM", cons, lambda: ((2, 2),), batch_first))
        samples.append(("LSTM", cons,
                        lambda D=D, P=proj_size or 3: ((3, 2), ((2 * D, P), (2 * D, 3))),
                        batch_first))
    return samples


def _cell_samples():
    """common_modules.module_inputs_torch_nn_RNN_GRU_Cell and ..._LSTMCell: unbatched input."""
    samples = []
    for name in ("RNNCell", "GRUCell"):
        samples += [(name, {"input_size": 5, "hidden_size": 10}, lambda: ((5,), (10,)), None),
                    (name, {"input_size": 5, "hidden_size": 10, "bias": True},
                     lambda: ((5,), (10,)), None)]
    samples.append(("RNNCell", {"input_size": 5, "hidden_size": 10, "bias": True,
                                "nonlinearity": "relu"}, lambda: ((5,), (10,)), None))
    samples += [("LSTMCell", cons, lambda: ((5,), ((10,), (10,))), None)
                for cons in ({"input_size": 5, "hidden_size": 10},
                             {"input_size": 5, "hidden_size": 10, "bias": True})]
    return samples


SAMPLES = (_rnn_gru_samples("RNN", True) + _rnn_gru_samples("GRU", False) + _lstm_samples()
           + _cell_samples())
SAMPLE_IDS = [f"{name}-{i}" for i, (name, *_) in enumerate(SAMPLES)]


def make_inputs(spec, dtype=F64, requires_grad=False):
    """Random forward inputs from a sample's shapes: a shape, a tuple of them, or a packed batch."""
    if isinstance(spec, tuple) and spec and spec[0] == "packed":
        _, shape, lengths = spec
        data = torch.randn(shape, dtype=dtype)
        packed = pack_padded_sequence(data, torch.tensor(lengths))
        packed.data.requires_grad_(requires_grad)
        return packed
    if isinstance(spec, tuple) and spec and isinstance(spec[0], tuple):
        return tuple(make_inputs(s, dtype, requires_grad) for s in spec)
    return torch.randn(spec, dtype=dtype, requires_grad=requires_grad)


def build(nn, sample, **factory_kwargs):
    name, cons, shapes, _ = sample
    return getattr(nn, name)(**cons, **factory_kwargs), shapes()


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_forward(nn, sample):
    """The unbatched forward equals the batched one on a batch of one (the samples'
    reference_fn); on the same weights it equals torch.nn's."""
    torch.manual_seed(0)
    m, shapes = build(nn, sample)
    m = m.double()
    inputs = [make_inputs(s) for s in shapes]
    outputs = tensors(m(*inputs))
    batch_first = sample[3]
    if not isinstance(inputs[0], PackedSequence):
        if batch_first is None:  # a cell: a batch of one in front
            batched = [inputs[0].unsqueeze(0), tuple(h.unsqueeze(0) for h in tensors(inputs[1]))]
            batched[1] = batched[1] if sample[0] == "LSTMCell" else batched[1][0]
            reference = [t.squeeze(0) for t in tensors(m(*batched))]
        else:
            x = inputs[0].unsqueeze(0 if batch_first else 1)
            hx = None
            if len(inputs) > 1:
                hx = tuple(h.unsqueeze(1) for h in tensors(inputs[1]))
                hx = hx if sample[0] == "LSTM" else hx[0]
            out = tensors(m(x, hx))
            reference = [out[0].squeeze(0 if batch_first else 1), *(h.squeeze(1) for h in out[1:])]
        for a, b in zip(outputs, reference, strict=True):
            torch.testing.assert_close(a, b)
    theirs, _ = build(torch.nn, sample)
    same_weights(theirs.double(), m)
    for a, b in zip(outputs, tensors(theirs(*inputs)), strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("sample", SAMPLES[::3], ids=SAMPLE_IDS[::3])
@pytest.mark.parametrize("device, dtype", [("cpu", torch.float64), ("meta", torch.float16)])
def test_factory_kwargs(nn, sample, device, dtype):
    """device= and dtype= apply to every parameter the constructor makes."""
    m, _ = build(nn, sample, device=device, dtype=dtype)
    assert {(p.device.type, p.dtype) for p in m.parameters()} == {(device, dtype)}
    assert list(m.buffers()) == []


@pytest.mark.parametrize("sample", SAMPLES[::3], ids=SAMPLE_IDS[::3])
def test_device_ctx_init(nn, sample):
    """Built under `with torch.device("meta")`, the parameters are meta tensors of the usual
    names and shapes."""
    with torch.device("meta"):
        meta, _ = build(nn, sample)
    real, _ = build(nn, sample)
    assert {p.device.type for p in meta.parameters()} == {"meta"}
    assert [(n, p.shape) for n, p in meta.named_parameters()] == [
        (n, p.shape) for n, p in real.named_parameters()]


@pytest.mark.parametrize("sample", SAMPLES[::3], ids=SAMPLE_IDS[::3])
def test_to_empty(nn, sample):
    m, shapes = build(nn, sample, device="meta")
    m.to_empty(device="cpu")
    m.reset_parameters()
    assert {p.device.type for p in m.parameters()} == {"cpu"}
    outputs = tensors(m(*[make_inputs(s, torch.float32) for s in shapes]))
    assert all(torch.isfinite(t).all() for t in outputs)


@pytest.mark.parametrize("sample", SAMPLES[::3], ids=SAMPLE_IDS[::3])
def test_to(nn, sample):
    """.to(dtype) converts every parameter in place, keeping the values; the module then takes
    inputs of that dtype."""
    m, shapes = build(nn, sample)
    params = {n: p for n, p in m.named_parameters()}
    m.to(F64)
    assert all(p.dtype == F64 and p is params[n] for n, p in m.named_parameters())
    assert all(t.dtype == F64 for t in tensors(m(*[make_inputs(s) for s in shapes])))


@pytest.mark.parametrize("sample", SAMPLES[::3], ids=SAMPLE_IDS[::3])
def test_repr(nn, sample):
    """repr and str work and say what torch's say; rnn_lib also names an RNN's nonlinearity,
    quoted, where torch.nn.RNN leaves it out and RNNCell does not quote it."""
    m, _ = build(nn, sample)
    theirs, _ = build(torch.nn, sample)
    assert str(m) == repr(m)

    def plain(text):
        return re.sub(r", nonlinearity='?\w+'?", "", text)
    assert plain(repr(m)) == plain(repr(theirs))


@pytest.mark.parametrize("sample", SAMPLES[::3], ids=SAMPLE_IDS[::3])
def test_pickle(nn, sample):
    torch.manual_seed(0)
    m, shapes = build(nn, sample)
    m = m.double()
    inputs = [make_inputs(s) for s in shapes]
    buffer = io.BytesIO()
    torch.save(m, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    for a, b in zip(tensors(m(*inputs)), tensors(loaded(*inputs)), strict=True):
        torch.testing.assert_close(a, b)


def _non_contiguous(t):
    """The same values in a tensor that is not contiguous (every other element of a copy)."""
    if t.dim() == 0:
        return t
    wide = torch.stack([t.detach(), torch.zeros_like(t)], dim=-1).flatten(-2)
    result = wide[..., ::2].detach().requires_grad_(t.requires_grad)
    assert not result.is_contiguous() or t.numel() <= 1
    return result


@pytest.mark.parametrize("sample", [s for s in SAMPLES if not isinstance(s[2]()[0], tuple)
                                    or s[2]()[0][0] != "packed"][::2],
                         ids=[i for s, i in zip(SAMPLES, SAMPLE_IDS, strict=True)
                              if not isinstance(s[2]()[0], tuple)
                              or s[2]()[0][0] != "packed"][::2])
def test_non_contiguous_tensors(nn, sample):
    """Non-contiguous inputs and parameters give the same outputs and gradients."""
    torch.manual_seed(0)
    m, shapes = build(nn, sample)
    m = m.double()
    inputs = [make_inputs(s, requires_grad=True) for s in shapes]

    def run(module, inputs):
        module.zero_grad()
        out = tensors(module(*inputs))
        sum((t * torch.arange(t.numel(), dtype=F64).view_as(t)).sum() for t in out).backward()
        return out, [t.grad for t in tensors(inputs)], [p.grad for p in module.parameters()]

    expected = run(m, inputs)
    m2 = copy.deepcopy(m)
    for name, p in list(m2.named_parameters()):
        setattr(m2, name, torch.nn.Parameter(_non_contiguous(p)))
    inputs2 = [tuple(_non_contiguous(t) for t in x) if isinstance(x, tuple) else _non_contiguous(x)
               for x in inputs]
    for a, b in zip(expected, run(m2, inputs2), strict=True):
        for x, y in zip(a, b, strict=True):
            torch.testing.assert_close(x, y)


def _check_grad(nn, sample, check):
    torch.manual_seed(0)
    m, shapes = build(nn, sample)
    m = m.double()
    inputs = [make_inputs(s, requires_grad=True) for s in shapes]
    names = [n for n, _ in m.named_parameters()]
    n_in = len(tensors(inputs))

    def rebuild(x, it):  # a forward input with its tensors taken from `it`
        if isinstance(x, PackedSequence):
            return x._replace(data=next(it))
        if isinstance(x, tuple):
            return tuple(rebuild(t, it) for t in x)
        return next(it)

    def fn(*flat):  # the outputs as a function of the inputs and the parameters
        it = iter(flat[:n_in])
        params = dict(zip(names, flat[n_in:], strict=True))
        return tuple(tensors(torch.func.functional_call(m, params,
                                                        tuple(rebuild(x, it) for x in inputs))))

    assert check(fn, (*tensors(inputs), *m.parameters()), check_batched_grad=False)


@pytest.mark.parametrize("sample", SAMPLES[::7], ids=SAMPLE_IDS[::7])
def test_grad(nn, sample):
    """gradcheck over the inputs and every parameter (every 7th sample: all kinds, in time)."""
    _check_grad(nn, sample, gradcheck)


FIRST = {}  # module name: the index of its first sample
for _i, (_name, *_) in enumerate(SAMPLES):
    FIRST.setdefault(_name, _i)
# double backward costs seconds a sample: the first of each module, and that LSTM's next
# sample but one, the same configuration with proj_size=2
GRADGRAD = sorted([*FIRST.values(), FIRST["LSTM"] + 2])


@pytest.mark.parametrize("sample", [SAMPLES[i] for i in GRADGRAD],
                         ids=[SAMPLE_IDS[i] for i in GRADGRAD])
def test_gradgrad(nn, sample):
    """gradgradcheck (double backward) over the inputs and every parameter."""
    _check_grad(nn, sample, gradgradcheck)


def test_train_and_eval_differ(nn):
    """ModuleInfo marks RNN, GRU and LSTM train_and_eval_differ: with dropout, training mode
    is random and evaluation mode is not."""
    torch.manual_seed(0)
    for m in (nn.RNN(2, 3, 2, dropout=0.5), nn.GRU(2, 3, 2, dropout=0.5),
              nn.LSTM(2, 3, 2, dropout=0.5, proj_size=2)):
        x = torch.randn(4, 2, 2)
        assert not torch.equal(tensors(m.train()(x))[0], tensors(m(x))[0])
        assert torch.equal(tensors(m.eval()(x))[0], tensors(m(x))[0])


# (module, constructor arguments and keywords, forward inputs or None, exception, torch's
# message): common_modules' module_error_inputs_torch_nn_RNN_GRU, ..._RNN_GRU_Cell and
# ..._LSTMCell; rnn_lib gives its own "expected X, got Y" message for each.
ERRORS = [
    *[(name, (10, 0, 1), {}, None, ValueError, "hidden_size must be greater than zero")
      for name in ("RNN", "GRU", "LSTM")],
    *[(name, (10, 10, 0), {}, None, ValueError, "num_layers must be greater than zero")
      for name in ("RNN", "GRU", "LSTM")],
    *[(name, (3, 5), {"dtype": torch.float32}, ((2, 4, 3),), ValueError,
       r"RNN input dtype .* does not match weight dtype") for name in ("RNN", "GRU", "LSTM")],
    *[(name, (10, 20), {}, ((3, 11), (3, 20)), RuntimeError,
       "input has inconsistent input_size: got 11 expected 10") for name in ("RNNCell", "GRUCell")],
    *[(name, (10, 20), {}, ((3, 10), (3, 21)), RuntimeError,
       "hidden0 has inconsistent hidden_size: got 21, expected 20")
      for name in ("RNNCell", "GRUCell")],
    *[(name, (10, 20), {}, ((3, 10), (5, 20)), RuntimeError,
       "Input batch size 3 doesn't match hidden0 batch size 5") for name in ("RNNCell", "GRUCell")],
    *[(name, (10, 20), {}, ((3, 10), (3, 1, 1, 20)), ValueError,
       "Expected hidden to be 1D or 2D, got 4D instead") for name in ("RNNCell", "GRUCell")],
    *[("RNNCell", (10, 20, True, nl), {}, ((3, 10), (3, 21)), RuntimeError,
       "hidden0 has inconsistent hidden_size: got 21, expected 20") for nl in ("relu", "tanh")],
    ("LSTMCell", (10, 20), {}, ((3, 11), ((3, 20), (3, 20))), RuntimeError,
     "input has inconsistent input_size: got 11 expected 10"),
    ("LSTMCell", (10, 20), {}, ((3, 10), ((3, 21), (3, 21))), RuntimeError,
     "hidden0 has inconsistent hidden_size: got 21, expected 20"),
    ("LSTMCell", (10, 20), {}, ((3, 10), ((5, 20), (5, 20))), RuntimeError,
     "Input batch size 3 doesn't match hidden0 batch size 5"),
    ("LSTMCell", (10, 20), {}, ((3, 10), ((3, 1, 1, 20), (3, 1, 1, 20))), ValueError,
     r"Expected hx\[0\] to be 1D or 2D, got 4D instead"),
]


@pytest.mark.parametrize("name, args, kwargs, call, error, torch_message", ERRORS,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_errors(nn, name, args, kwargs, call, error, torch_message):
    """The same exception type as torch; torch's message from torch, rnn_lib's own
    "expected X, got Y"."""
    message = torch_message if nn is torch.nn else "expected .*, got"
    with pytest.raises(error, match=message):
        m = getattr(nn, name)(*args, **kwargs)
        # a float64 input for float32 weights in the dtype case, float32 otherwise
        dtype = F64 if "dtype" in kwargs else torch.float32
        m(*[make_inputs(s, dtype) for s in call])
