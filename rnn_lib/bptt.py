"""Backpropagation through time (BPTT) for a vanilla RNN, by hand, in NumPy.

Lecture 02 derives these equations; this file is them, line by line. The model, for each
sequence n in a batch and each time step t = 1..T:

    a_t = W_ih x_t + W_hh h_{t-1} + b_h        pre-activation
    h_t = tanh(a_t)                            hidden state
    o_t = W_hy h_t + b_y                       logits
    p_t = softmax(o_t)                         class probabilities
    L   = (1/N) sum_n sum_t -log p_t[y_t]      cross-entropy, summed over time, mean over batch

BPTT walks the unrolled graph backwards. The weights are the same at every step, so their
gradient is a sum over steps; the hidden state receives gradient from two places, its own
output at step t and the next step through W_hh:

    do_t = (p_t - onehot(y_t)) / N
    dh_t = W_hy^T do_t + W_hh^T da_{t+1}       (da_{T+1} = 0)
    da_t = dh_t * (1 - h_t^2)
    dW_hy = sum_t do_t h_t^T     dW_ih = sum_t da_t x_t^T     dW_hh = sum_t da_t h_{t-1}^T
    dh_0 = W_hh^T da_1

Names and layouts follow PyTorch: `W_ih` of shape (H, D) is `nn.RNN.weight_ih_l0`, `W_hh` is
`weight_hh_l0`; the one bias `b_h` plays the part of PyTorch's `bias_ih_l0 + bias_hh_l0`
(only their sum matters). `W_hy`, `b_y` are the output layer (an `nn.Linear`).
Where: N = batch size, T = sequence length, D = input size, H = hidden size, C = classes.
"""

from __future__ import annotations

import numpy as np

from rnn_lib.labcheck import rel_error  # the course's relative error

PARAM_NAMES = ("W_ih", "W_hh", "b_h", "W_hy", "b_y")


def init_params(input_size: int, hidden_size: int, num_classes: int, rng: np.random.Generator,
                scale: float = 0.3) -> dict[str, np.ndarray]:
    """Random float64 parameters of a vanilla RNN with a softmax output.

    Returns:
        dict with W_ih (H, D), W_hh (H, H), b_h (H,), W_hy (C, H), b_y (C,).
    """
    D, H, C = input_size, hidden_size, num_classes
    return {
        "W_ih": rng.normal(0.0, scale, (H, D)),
        "W_hh": rng.normal(0.0, scale, (H, H)),
        "b_h": rng.normal(0.0, scale, H),
        "W_hy": rng.normal(0.0, scale, (C, H)),
        "b_y": rng.normal(0.0, scale, C),
    }


def forward(params: dict, x: np.ndarray, y: np.ndarray, h0: np.ndarray) -> tuple[float, dict]:
    """Run the RNN over the sequences and return the loss and what backward needs.

    Inputs:
        params: dict from `init_params`.
        x: inputs of shape (N, T, D).
        y: integer targets of shape (N, T), each in [0, C).
        h0: initial hidden state of shape (N, H).

    Returns:
        loss: the cross-entropy summed over time and averaged over the batch (a float).
        cache: dict with hs (N, T+1, H) (hs[:, 0] = h0), probs (N, T, C), x, y.
    """
    _check_shapes(params, x, y, h0)
    N, T, _ = x.shape
    hs = [h0]
    probs = []
    for t in range(T):
        a = x[:, t] @ params["W_ih"].T + hs[-1] @ params["W_hh"].T + params["b_h"]  # (N, H)
        hs.append(np.tanh(a))  # (N, H)
        o = hs[-1] @ params["W_hy"].T + params["b_y"]  # (N, C)
        e = np.exp(o - o.max(axis=1, keepdims=True))  # shifted: exp never overflows
        probs.append(e / e.sum(axis=1, keepdims=True))  # (N, C)
    hs, probs = np.stack(hs, axis=1), np.stack(probs, axis=1)  # (N, T+1, H), (N, T, C)
    picked = np.take_along_axis(probs, y[..., None], axis=2)[..., 0]  # (N, T)
    loss = float(-np.log(picked).sum() / N)
    return loss, {"hs": hs, "probs": probs, "x": x, "y": y}


def backward(params: dict, cache: dict) -> dict[str, np.ndarray]:
    """Backpropagation through time: the gradient of the loss for every parameter and h0.

    Inputs:
        params: the parameters `forward` used.
        cache: the cache `forward` returned.

    Returns:
        dict with the same keys and shapes as `params`, plus "h0" of shape (N, H).
    """
    hs, probs, x, y = cache["hs"], cache["probs"], cache["x"], cache["y"]
    N, T, _ = x.shape
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    do = probs.copy()  # (N, T, C): d loss / d logits = p - onehot(y), over N for the mean
    np.put_along_axis(do, y[..., None], np.take_along_axis(do, y[..., None], axis=2) - 1, axis=2)
    do /= N
    da_next = np.zeros_like(hs[:, 0])  # (N, H): nothing flows back from step T+1
    for t in reversed(range(T)):  # hs[:, t+1] is h_t, hs[:, t] is h_{t-1}
        grads["W_hy"] += do[:, t].T @ hs[:, t + 1]  # (C, H): summed over steps
        grads["b_y"] += do[:, t].sum(axis=0)
        dh = do[:, t] @ params["W_hy"] + da_next @ params["W_hh"]  # (N, H): two paths into h_t
        da = dh * (1.0 - hs[:, t + 1] ** 2)  # (N, H): tanh' = 1 - tanh^2
        grads["W_ih"] += da.T @ x[:, t]  # (H, D)
        grads["W_hh"] += da.T @ hs[:, t]  # (H, H): the same W_hh at every step
        grads["b_h"] += da.sum(axis=0)
        da_next = da
    grads["h0"] = da_next @ params["W_hh"]  # (N, H)
    return grads


def numerical_gradient(f, array: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central differences (f(w + eps) - f(w - eps)) / 2 eps for every entry w of `array`.

    `f` takes no argument and reads `array`, which is changed in place and restored.
    """
    grad = np.zeros_like(array)
    for i in np.ndindex(array.shape):
        old = array[i]
        array[i] = old + eps
        plus = f()
        array[i] = old - eps
        minus = f()
        array[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def gradient_check(params: dict, x: np.ndarray, y: np.ndarray, h0: np.ndarray,
                   eps: float = 1e-5) -> dict[str, float]:
    """The relative error between `backward` and a numerical gradient, for each parameter and h0.

    Slow (two forward passes per number): use a small problem.
    """
    analytic = backward(params, forward(params, x, y, h0)[1])
    arrays = {**params, "h0": h0}
    errors = {}
    for name, array in arrays.items():
        numeric = numerical_gradient(lambda: forward(params, x, y, h0)[0], array, eps)
        errors[name] = rel_error(analytic[name], numeric)
    return errors


def orthogonal_with_radius(n: int, radius: float, rng: np.random.Generator) -> np.ndarray:
    """A random orthogonal n x n matrix times `radius`: every eigenvalue has modulus `radius`.

    Its spectral radius (largest |eigenvalue|) and its spectral norm (largest singular value,
    the operator 2-norm) are then the same number, because every singular value equals
    `radius` too. So multiplying by it k times scales every vector's norm by exactly
    radius**k: the cleanest case for vanishing/exploding gradients. (For a general matrix the
    radius is only a lower bound on the norm, and the gradient bound needs the norm.)
    """
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return radius * q * np.sign(np.diag(r))  # the sign fix makes q uniformly distributed


def hidden_jacobian_norms(W_hh: np.ndarray, drive: np.ndarray, h0: np.ndarray,
                          nonlinearity: str = "tanh") -> np.ndarray:
    """The spectral norms ||d h_T / d h_{T-k}|| for k = 0..T along one sequence.

    The RNN is h_t = f(W_hh h_{t-1} + u_t) with f = tanh or the identity ("linear"), so

        d h_T / d h_{T-k} = J_T J_{T-1} ... J_{T-k+1},   J_t = diag(f'(a_t)) W_hh.

    Inputs:
        W_hh: recurrent weights of shape (H, H).
        drive: the input's contribution u_t = W_ih x_t + b_h, of shape (T, H).
        h0: the initial state of shape (H,).
        nonlinearity: "tanh" or "linear".

    Returns:
        norms of shape (T+1,), norms[k] = ||d h_T / d h_{T-k}||_2 (norms[0] = 1).
    """
    if nonlinearity not in ("tanh", "linear"):
        raise ValueError(f"expected nonlinearity 'tanh' or 'linear', got {nonlinearity!r}")
    H = W_hh.shape[0]
    if W_hh.shape != (H, H) or drive.ndim != 2 or drive.shape[1] != H or h0.shape != (H,):
        raise ValueError(f"expected W_hh (H, H), drive (T, H), h0 (H,), got {W_hh.shape}, "
                         f"{drive.shape}, {h0.shape}")
    slopes, h = [], h0
    for u in drive:  # forward: remember f'(a_t) at every step
        a = W_hh @ h + u
        h = np.tanh(a) if nonlinearity == "tanh" else a
        slopes.append(1.0 - h**2 if nonlinearity == "tanh" else np.ones(H))
    product = np.eye(H)  # d h_T / d h_T
    norms = [1.0]
    for slope in reversed(slopes):  # backward: multiply one more step's Jacobian on the right
        product = product @ (slope[:, None] * W_hh)  # (H, H)
        norms.append(np.linalg.norm(product, 2))
    return np.array(norms)


def _check_shapes(params: dict, x: np.ndarray, y: np.ndarray, h0: np.ndarray) -> None:
    missing = [name for name in PARAM_NAMES if name not in params]
    if missing:
        raise ValueError(f"expected parameters {PARAM_NAMES}, got {tuple(params)}")
    H, D = params["W_ih"].shape
    C = params["W_hy"].shape[0]
    if x.ndim != 3 or x.shape[2] != D:
        raise ValueError(f"expected x of shape (N, T, {D}), got {x.shape}")
    N, T, _ = x.shape
    if y.shape != (N, T) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"expected integer y of shape ({N}, {T}), got {y.dtype} {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= C):
        raise ValueError(f"expected targets in [0, {C}), got values in [{y.min()}, {y.max()}]")
    if h0.shape != (N, H):
        raise ValueError(f"expected h0 of shape ({N}, {H}), got {h0.shape}")
