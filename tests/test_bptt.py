"""rnn_lib.bptt: hand-written BPTT against numerical gradients and torch.autograd (float64)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnn_lib import bptt


def _problem(seed=0, N=3, T=5, D=4, H=6, C=3, scale=0.5):
    rng = np.random.default_rng(seed)
    params = bptt.init_params(D, H, C, rng, scale=scale)
    x = rng.normal(size=(N, T, D))
    y = rng.integers(0, C, size=(N, T))
    h0 = rng.normal(0.0, 0.5, size=(N, H))
    return params, x, y, h0


def _torch_loss(params, x, y, h0):
    """The same model written with torch ops, for autograd to differentiate."""
    h = h0
    loss = 0.0
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ params["W_ih"].T + h @ params["W_hh"].T + params["b_h"])
        logits = h @ params["W_hy"].T + params["b_y"]
        loss = loss + F.cross_entropy(logits, y[:, t], reduction="sum")
    return loss / x.shape[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backward_matches_torch_autograd(seed):
    params, x, y, h0 = _problem(seed)
    loss, cache = bptt.forward(params, x, y, h0)
    grads = bptt.backward(params, cache)

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    th0 = torch.tensor(h0, requires_grad=True)
    tloss = _torch_loss(tp, torch.tensor(x), torch.tensor(y), th0)
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    for name, p in tp.items():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["h0"], th0.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert set(grads) == set(bptt.PARAM_NAMES) | {"h0"}


def test_gradient_check_relative_errors_are_tiny():
    params, x, y, h0 = _problem(seed=3, N=2, T=4, D=3, H=4, C=3)
    errors = bptt.gradient_check(params, x, y, h0)
    assert set(errors) == set(bptt.PARAM_NAMES) | {"h0"}
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_catches_a_wrong_gradient(monkeypatch):
    """Forgetting the gradient from the future (W_hh^T da_{t+1}) must show: the check can fail."""
    params, x, y, h0 = _problem(seed=4, N=2, T=3, D=3, H=4, C=3)
    real_backward = bptt.backward

    def no_future(params, cache):
        grads = real_backward({**params, "W_hh": np.zeros_like(params["W_hh"])}, cache)
        return grads

    monkeypatch.setattr(bptt, "backward", no_future)
    errors = bptt.gradient_check(params, x, y, h0)
    assert errors["W_ih"] > 1e-2 and errors["h0"] > 0.5, errors


def test_numerical_gradient_restores_the_array():
    a = np.array([1.0, -2.0, 3.0])
    g = bptt.numerical_gradient(lambda: float((a**2).sum()), a)
    np.testing.assert_allclose(g, 2 * a, rtol=1e-8)
    np.testing.assert_array_equal(a, [1.0, -2.0, 3.0])


@pytest.mark.parametrize("radius", [0.5, 1.0, 1.3])
def test_orthogonal_with_radius(radius):
    W = bptt.orthogonal_with_radius(8, radius, np.random.default_rng(0))
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), radius, rtol=1e-12)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(W)), radius, rtol=1e-10)


def test_linear_jacobian_norms_are_powers_of_the_radius():
    rng = np.random.default_rng(0)
    W = bptt.orthogonal_with_radius(5, 1.1, rng)
    norms = bptt.hidden_jacobian_norms(W, rng.normal(size=(30, 5)), np.zeros(5), "linear")
    np.testing.assert_allclose(norms, 1.1 ** np.arange(31), rtol=1e-10)


def test_the_bound_needs_the_norm_not_the_radius():
    """A non-normal W_hh with spectral radius 0.9 but spectral norm > 1: the linear RNN's
    gradient first grows (bounded by norm**k, not radius**k), and vanishes only later."""
    W = np.array([[0.9, 2.0], [0.0, 0.9]])  # eigenvalues 0.9, 0.9
    assert np.abs(np.linalg.eigvals(W)).max() == pytest.approx(0.9)
    sigma = np.linalg.norm(W, 2)
    assert sigma > 2
    norms = bptt.hidden_jacobian_norms(W, np.zeros((60, 2)), np.zeros(2), "linear")
    k = np.arange(61)
    assert np.all(norms <= sigma**k * (1 + 1e-12))  # the bound with the norm holds
    assert norms[5] > 1 and np.any(norms > 0.9**k * 10)  # the "bound" with the radius does not
    assert norms[60] < norms[5]  # eventually radius < 1 wins


def test_tanh_jacobian_norms_match_torch_autograd():
    rng = np.random.default_rng(1)
    H, T = 4, 6
    W = rng.normal(0, 0.7, size=(H, H))
    drive = rng.normal(size=(T, H))
    h0 = rng.normal(size=H)
    norms = bptt.hidden_jacobian_norms(W, drive, h0, "tanh")
    tW, tdrive = torch.tensor(W), torch.tensor(drive)
    states = [torch.tensor(h0)]
    for t in range(T):
        states.append(torch.tanh(tW @ states[-1] + tdrive[t]))
    for k in range(T + 1):
        start = T - k

        def run_from(h, start=start):
            for t in range(start, T):
                h = torch.tanh(tW @ h + tdrive[t])
            return h

        J = torch.autograd.functional.jacobian(run_from, states[start].detach())
        assert norms[k] == pytest.approx(torch.linalg.matrix_norm(J, 2).item(), rel=1e-10)


def test_shape_errors_say_what_was_expected():
    params, x, y, h0 = _problem()
    with pytest.raises(ValueError, match="expected x of shape"):
        bptt.forward(params, x[0], y, h0)
    with pytest.raises(ValueError, match="expected integer y"):
        bptt.forward(params, x, y.astype(float), h0)
    with pytest.raises(ValueError, match="expected targets in"):
        bptt.forward(params, x, y + 10, h0)
    with pytest.raises(ValueError, match="expected h0 of shape"):
        bptt.forward(params, x, y, h0[:, :2])
    with pytest.raises(ValueError, match="expected nonlinearity"):
        bptt.hidden_jacobian_norms(np.eye(2), np.zeros((3, 2)), np.zeros(2), "relu")
