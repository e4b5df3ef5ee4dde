"""rnn_lib.layers against torch.nn.RNN / LSTM / GRU: same weights, same output and h_n."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pack_sequence

from rnn_lib import cells, layers

L, N, H_IN, H = 5, 3, 4, 3
F64 = torch.float64
KINDS = {  # name: (our layer, torch's layer, keyword arguments)
    "rnn_tanh": (layers.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (layers.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (layers.LSTM, torch.nn.LSTM, {}),
    "gru": (layers.GRU, torch.nn.GRU, {}),
}


def make_pair(kind, dtype=F64, **kwargs):
    ours_cls, torch_cls, extra = KINDS[kind]
    theirs = torch_cls(H_IN, H, **extra, **kwargs).to(dtype)
    ours = ours_cls(H_IN, H, **extra, **kwargs).to(dtype)
    ours.load_state_dict(theirs.state_dict())  # strict: same names, same shapes
    return ours, theirs


def random_state(kind, shape, dtype=F64, requires_grad=False):
    make = lambda: torch.randn(*shape, dtype=dtype, requires_grad=requires_grad)  # noqa: E731
    return (make(), make()) if kind == "lstm" else make()


def flat(result):
    """(output, h_n) or (output, (h_n, c_n)) as a flat list of tensors."""
    output, state = result
    output = output.data if isinstance(output, torch.nn.utils.rnn.PackedSequence) else output
    return [output, *(state if isinstance(state, tuple) else (state,))]


def assert_same(ours, theirs, tol=1e-10):
    a, b = flat(ours), flat(theirs)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.shape == y.shape
        torch.testing.assert_close(x, y, rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_padded_batch_equals_torch(kind, num_layers, bidirectional, batch_first, with_state):
    torch.manual_seed(num_layers)
    ours, theirs = make_pair(kind, num_layers=num_layers, bidirectional=bidirectional,
                             batch_first=batch_first)
    x = torch.randn(*((N, L) if batch_first else (L, N)), H_IN, dtype=F64)
    K = num_layers * (2 if bidirectional else 1)
    hx = random_state(kind, (K, N, H)) if with_state else None
    assert_same(ours(x, hx), theirs(x, hx))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_unbatched_equals_torch(kind, bidirectional):
    torch.manual_seed(0)
    ours, theirs = make_pair(kind, num_layers=2, bidirectional=bidirectional)
    x = torch.randn(L, H_IN, dtype=F64)
    hx = random_state(kind, (2 * (2 if bidirectional else 1), H))
    assert_same(ours(x, hx), theirs(x, hx))
    assert_same(ours(x), theirs(x))
    assert ours(x)[0].shape == (L, (2 if bidirectional else 1) * H)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_packed_variable_lengths_equal_torch(kind, enforce_sorted, bidirectional, with_state):
    torch.manual_seed(1)
    ours, theirs = make_pair(kind, num_layers=2, bidirectional=bidirectional)
    lengths = [5, 3, 3, 1] if enforce_sorted else [2, 5, 1, 4]
    x = torch.randn(max(lengths), len(lengths), H_IN, dtype=F64)
    packed = pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=enforce_sorted)
    K = 2 * (2 if bidirectional else 1)
    hx = random_state(kind, (K, len(lengths), H)) if with_state else None
    out, _ = result = ours(packed, hx)
    assert isinstance(out, torch.nn.utils.rnn.PackedSequence)
    assert torch.equal(out.batch_sizes, packed.batch_sizes)
    assert_same(result, theirs(packed, hx))


def test_packed_state_stops_at_each_sequence_length():
    """h_n of a short sequence in a packed batch equals running that sequence alone."""
    torch.manual_seed(2)
    gru = layers.GRU(H_IN, H, bidirectional=True).double()
    seqs = [torch.randn(n, H_IN, dtype=F64) for n in (2, 5, 3)]
    _, h_n = gru(pack_sequence(seqs, enforce_sorted=False))
    for i, seq in enumerate(seqs):
        _, h_alone = gru(seq)  # unbatched, exactly its own length
        torch.testing.assert_close(h_n[:, i], h_alone, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_equal_torch(kind):
    torch.manual_seed(3)
    ours, theirs = make_pair(kind, num_layers=2, bidirectional=True, batch_first=True)
    lengths = torch.tensor([4, 5, 2])
    x = torch.randn(N, L, H_IN, dtype=F64)
    hx = random_state(kind, (4, N, H))
    grads = []
    for model in (ours, theirs):
        xs = x.clone().requires_grad_()
        hs = tuple(s.clone().requires_grad_() for s in (hx if kind == "lstm" else (hx,)))
        packed = pack_padded_sequence(xs, lengths, batch_first=True, enforce_sorted=False)
        outputs = flat(model(packed, hs if kind == "lstm" else hs[0]))
        g = torch.Generator().manual_seed(4)
        sum((o * torch.randn(o.shape, dtype=F64, generator=g)).sum() for o in outputs).backward()
        found = {"x": xs.grad, **{f"state{i}": s.grad for i, s in enumerate(hs)}}
        found.update({n: p.grad for n, p in model.named_parameters()})
        grads.append(found)
    assert grads[0].keys() == grads[1].keys()
    for name, g in grads[0].items():
        torch.testing.assert_close(g, grads[1][name], rtol=1e-10, atol=1e-10,
                                   msg=lambda m, name=name: f"gradient of {name}: {m}")


@pytest.mark.parametrize("kind", KINDS)
def test_float32_and_no_bias_equal_torch(kind):
    torch.manual_seed(5)
    ours, theirs = make_pair(kind, dtype=torch.float32, num_layers=2, bias=False)
    assert not [n for n in ours.state_dict() if "bias" in n]
    x = torch.randn(L, N, H_IN)
    assert_same(ours(x), theirs(x), tol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_and_initialisation_match_torch(kind):
    ours_cls, torch_cls, extra = KINDS[kind]
    kwargs = dict(num_layers=2, bidirectional=True, **extra)
    torch.manual_seed(6)
    ours = ours_cls(H_IN, 16, **kwargs)
    torch.manual_seed(6)
    theirs = torch_cls(H_IN, 16, **kwargs)
    # same names in the same order, and the same numbers drawn from U(-1/sqrt(H), 1/sqrt(H))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name
    assert "weight_hh_l1_reverse" in ours.state_dict()
    # ours -> torch -> ours
    with torch.no_grad():
        for p in ours.parameters():
            p.mul_(2)
    theirs.load_state_dict(ours.state_dict())
    back = ours_cls(H_IN, 16, **kwargs)
    back.load_state_dict(theirs.state_dict())
    for name, value in ours.state_dict().items():
        assert torch.equal(back.state_dict()[name], value), name


def test_dropout_acts_between_layers_only():
    torch.manual_seed(7)
    ours, theirs = make_pair("lstm", num_layers=2, dropout=1.0)
    x = torch.randn(L, N, H_IN, dtype=F64)
    ours.eval()
    assert_same(ours(x), theirs.eval()(x))  # eval mode: dropout does nothing

    ours.train()
    out, (h_n, c_n) = ours(x)
    # dropout=1 zeroes everything layer 0 hands to layer 1, so layer 1 sees zeros ...
    top = torch.nn.LSTM(2 * H, H).double()  # input_size is irrelevant for zero input
    top.load_state_dict({k.replace("l1", "l0"): v for k, v in theirs.state_dict().items()
                         if k.endswith("l1")} | {"weight_ih_l0": torch.zeros(4 * H, 2 * H)})
    top_out, (top_h, top_c) = top(torch.zeros(L, N, 2 * H, dtype=F64))
    # ... and the last layer's output itself is not dropped (it would be all zeros)
    torch.testing.assert_close(out, top_out, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(h_n[1], top_h[0], rtol=1e-10, atol=1e-10)
    # layer 0 is untouched by dropout
    _, (h_eval, c_eval) = theirs(x)
    torch.testing.assert_close(h_n[0], h_eval[0], rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(c_n[0], c_eval[0], rtol=1e-10, atol=1e-10)


def test_dropout_half_is_random_in_training_and_single_layer_is_untouched():
    torch.manual_seed(8)
    x = torch.randn(L, N, H_IN, dtype=F64)
    gru = layers.GRU(H_IN, H, num_layers=2, dropout=0.5).double().train()
    first, second = gru(x)[0], gru(x)[0]
    assert not torch.allclose(first, second)  # a new mask each call
    assert torch.equal(gru(x)[1][0], gru.eval()(x)[1][0])  # layer 0 is never dropped
    with pytest.warns(UserWarning, match="num_layers=1"):
        single = layers.GRU(H_IN, H, dropout=0.9).double().train()
    assert torch.equal(single(x)[0], single.eval()(x)[0])  # no dropout after the last layer


def test_peephole_layer_steps_the_peephole_cell():
    torch.manual_seed(9)
    layer = layers.LSTM(H_IN, H, peephole=True, bidirectional=True).double()
    assert layer.weight_co_l0_reverse.shape == (H,) and not layer.weight_co_l0.any()
    plain, _ = make_pair("lstm", bidirectional=True)
    result = layer.load_state_dict(plain.state_dict(), strict=False)
    assert len(result.missing_keys) == 6 and not result.unexpected_keys
    x = torch.randn(L, N, H_IN, dtype=F64)
    assert_same(layer(x), plain(x), tol=1e-12)  # zero peepholes: a plain LSTM

    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.startswith(cells.PEEPHOLES):
                p.normal_()
    cell = cells.LSTMCell(H_IN, H, peephole=True).double()
    cell.load_state_dict({k[: -len("_l0")]: v for k, v in layer.state_dict().items()
                          if k.endswith("_l0")})
    h = c = torch.zeros(N, H, dtype=F64)
    for t in range(L):  # the forward direction, one cell step at a time
        h, c = cell(x[t], (h, c))
    out, (h_n, c_n) = layer(x)
    torch.testing.assert_close(out[-1, :, :H], h, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(c_n[0], c, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(out, plain(x)[0])


# (class name, constructor arguments and keywords, call arguments or None, exception,
# message, whether torch.nn's layer raises the same exception: torch is the control)
BAD_INPUT = [
    ("RNN", (H_IN, H), {}, (torch.randn(2, L, N, H_IN),), ValueError,
     "expected input to be 2D", True),
    ("GRU", (H_IN, H), {}, (torch.randn(L, N, H_IN + 1),), RuntimeError,
     rf"expected input with {H_IN} features in its last dimension, got {H_IN + 1}", True),
    ("GRU", (H_IN, H), {"num_layers": 2}, (torch.randn(L, N, H_IN), torch.randn(1, N, H)),
     RuntimeError, rf"expected hidden state h_0 of size \(2, {N}, {H}\), got \(1, {N}, {H}\)",
     True),
    ("RNN", (H_IN, H), {}, (torch.randn(L, H_IN), torch.randn(1, 1, H)), RuntimeError,
     rf"expected hidden state h_0 of size \(1, {H}\), got \(1, 1, {H}\)", True),
    ("LSTM", (H_IN, H), {}, (torch.randn(L, N, H_IN), torch.randn(1, N, H)), ValueError,
     r"expected hx to be a tuple \(h_0, c_0\)", False),  # torch: an IndexError
    ("LSTM", (H_IN, H), {}, (torch.randn(0, N, H_IN),), RuntimeError,
     "expected a sequence of length > 0, got length 0", True),
    ("GRU", (H_IN, H), {}, (torch.randn(L, N, H_IN).double(),), ValueError,
     r"expected input of dtype torch.float32 \(the weights'\), got torch.float64", True),
    ("RNN", (H_IN, H), {"nonlinearity": "gelu"}, None, ValueError, "expected nonlinearity",
     True),
    ("LSTM", (H_IN, H), {"dropout": 1.5, "num_layers": 2}, None, ValueError,
     r"expected dropout to be a number in \[0, 1\], got 1.5", True),
    ("LSTM", (H_IN, H), {"dropout": True, "num_layers": 2}, None, ValueError,
     r"expected dropout to be a number in \[0, 1\], got True", True),
    ("GRU", (H_IN, H), {"num_layers": 0}, None, ValueError, "expected num_layers > 0, got 0",
     True),
    ("GRU", (H_IN, H), {"num_layers": 2.0}, None, TypeError,
     "expected num_layers to be an int, got float", True),
    ("LSTM", (H_IN, H), {"bias": "yes"}, None, TypeError, "expected bias to be a bool, got str",
     True),
    ("RNN", (H_IN, H), {"batch_first": 1}, None, TypeError,
     "expected batch_first to be a bool, got int", True),
]


@pytest.mark.parametrize("name, args, kwargs, call, error, message, like_torch", BAD_INPUT)
def test_bad_input_raises_what_torch_raises_with_a_clear_message(name, args, kwargs, call,
                                                                 error, message, like_torch):
    with pytest.raises(error, match=message):
        layer = getattr(layers, name)(*args, **kwargs)
        layer(*call)
    if like_torch:
        with pytest.raises(error):
            layer = getattr(torch.nn, name)(*args, **kwargs)
            layer(*call)


def test_repr_like_torch():
    assert repr(layers.LSTM(10, 20, num_layers=2, bidirectional=True)) == repr(
        torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True))
    assert repr(layers.GRU(10, 20, batch_first=True, bias=False)) == repr(
        torch.nn.GRU(10, 20, batch_first=True, bias=False))
    assert repr(layers.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity='relu')"
    assert repr(layers.LSTM(3, 4, peephole=True)) == "LSTM(3, 4, peephole=True)"


def test_peephole_is_keyword_only_so_torchs_positional_arguments_mean_what_they_do_in_torch():
    """torch.nn.LSTM's 8th positional argument is proj_size and LSTMCell's 4th is device: the
    same call means the same in rnn_lib, never rnn_lib's peephole variant."""
    lstm = layers.LSTM(3, 4, 2, True, False, 0.0, False, 2)
    assert lstm.proj_size == 2 and not lstm.peephole
    assert repr(lstm) == repr(torch.nn.LSTM(3, 4, 2, True, False, 0.0, False, 2))
    with pytest.raises(TypeError):  # device=True, as in torch
        cells.LSTMCell(3, 4, True, True)
    assert layers.LSTM(3, 4, peephole=True).peephole
    assert cells.LSTMCell(3, 4, peephole=True).peephole
