"""rnn_lib.autograd: the scalar engine against float64 torch.autograd, micrograd style."""

import math
import random

import matplotlib
import pytest
import torch

from rnn_lib.autograd import Value, edges, path_products, paths, sum_over_paths, topological_order

matplotlib.use("Agg")

# Each operation written once and applied to both a Value and a float64 tensor. The inputs are
# kept in each function's domain (log of a positive number, a non-zero divisor, ...).
UNARY = {
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
    "exp": lambda a: (a.tanh() * 2).exp(),
    "log": lambda a: (a * a + 0.5).log(),
    "neg": lambda a: -a,
    "square": lambda a: a**2,
    "cube": lambda a: a**3,
    "sqrt": lambda a: (a * a + 1) ** 0.5,
    "inverse": lambda a: (a * a + 1) ** -1,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 0.5),
    "rdiv": lambda a, b: 1.5 / (a * a + 1) + b,
    "radd_rmul_rsub": lambda a, b: 2.0 - (3.0 * a) + (0.5 + b),
    "mix": lambda a, b: (a * b).tanh() + a.sigmoid() * b,
}


def _random_program(rng, n_leaves, n_ops):
    """A random expression DAG as a list of steps; earlier nodes are reused freely."""
    steps = []
    for _ in range(n_ops):
        n_nodes = n_leaves + len(steps)
        if rng.random() < 0.4:
            steps.append(("u", rng.choice(sorted(UNARY)), rng.randrange(n_nodes)))
        else:
            i, j = rng.randrange(n_nodes), rng.randrange(n_nodes)  # i == j happens: x * x
            steps.append(("b", rng.choice(sorted(BINARY)), i, j))
    return steps


def _run(program, leaves):
    nodes = list(leaves)
    for step in program:
        if step[0] == "u":
            nodes.append(UNARY[step[1]](nodes[step[2]]))
        else:
            nodes.append(BINARY[step[1]](nodes[step[2]], nodes[step[3]]))
    # the output uses several nodes, so many of them reach it along more than one path
    out = nodes[-1]
    for node in nodes[len(leaves) :: 3]:
        out = out + node * 0.5
    return out


@pytest.mark.parametrize("seed", range(8))
def test_random_expressions_match_torch(seed):
    rng = random.Random(seed)
    for _ in range(40):  # 8 x 40 = 320 random graphs
        n_leaves = rng.randint(1, 4)
        program = _random_program(rng, n_leaves, rng.randint(1, 15))
        data = [rng.uniform(-2, 2) for _ in range(n_leaves)]

        leaves = [Value(d) for d in data]
        out = _run(program, leaves)
        out.backward()

        tleaves = [torch.tensor(d, dtype=torch.float64, requires_grad=True) for d in data]
        tout = _run(program, tleaves)
        tout.backward()

        assert out.data == pytest.approx(tout.item(), rel=1e-12, abs=1e-12), program
        for v, t in zip(leaves, tleaves, strict=True):
            tgrad = 0.0 if t.grad is None else t.grad.item()
            assert v.grad == pytest.approx(tgrad, rel=1e-9, abs=1e-10), program


def test_lecture_example_sum_over_paths():
    a, b = Value(2.0, label="a"), Value(1.0, label="b")
    e = (a + b) * (b + 1)
    e.backward()
    assert e.data == 6.0
    assert (a.grad, b.grad) == (2.0, 5.0)
    products = sorted(p for _, p in path_products(e, b))
    assert products == [2.0, 3.0]  # 1*2 along b -> b+1 -> e and 1*3 along b -> a+b -> e
    assert sum_over_paths(e, b) == 5.0 and sum_over_paths(e, a) == 2.0
    assert all(path[0] is b and path[-1] is e for path in paths(e, b))


def test_reuse_accumulates_over_every_use():
    x = Value(3.0)
    y = x * x + x  # x feeds the product twice and the sum once
    y.backward()
    assert x.grad == 2 * 3.0 + 1
    assert len(paths(y, x)) == 3
    z = Value(3.0)
    w = z / z  # two edges with different local derivatives that cancel
    w.backward()
    assert w.data == 1.0 and z.grad == pytest.approx(0.0, abs=1e-15)
    assert sorted(p for _, p in path_products(w, z)) == pytest.approx([-1 / 3, 1 / 3])


def test_local_derivatives_are_recorded_on_the_edges():
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    assert c._parents == (a, b) and c._local_grads == (-3.0, 2.0) and c._op == "*"
    t = a.tanh()
    assert t._local_grads[0] == pytest.approx(1 - math.tanh(2.0) ** 2)
    assert {(id(p), id(ch), g) for p, ch, g in edges(c)} == {(id(a), id(c), -3.0),
                                                             (id(b), id(c), 2.0)}


def test_gradients_accumulate_until_zero_grad():
    a = Value(1.5)
    y = a * 4
    y.backward()
    y.backward()
    assert a.grad == 8.0  # two backward passes add up, as in PyTorch
    y.zero_grad()
    assert a.grad == 0.0 and y.grad == 0.0


def test_deep_graph_needs_no_recursion():
    h, w = Value(0.5), Value(0.9)
    for _ in range(5000):  # an "RNN" of 5000 steps sharing one weight
        h = (w * h + 0.1).tanh()
    h.backward()
    assert len(topological_order(h)) > 5000
    assert math.isfinite(w.grad)


def test_errors_say_what_was_expected():
    with pytest.raises(ValueError, match="expected a positive argument"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="expected a constant int or float exponent"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="non-negative base"):
        Value(-2.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match="non-zero divisor"):
        Value(1.0) / 0
    with pytest.raises(TypeError):
        Value(1.0) + "one"


def test_repr():
    v = Value(2.5, label="w")
    assert repr(v) == "Value('w', data=2.5, grad=0)"
    assert repr(Value(1.0) * 3) == "Value(data=3, grad=0)"


def test_draw_graph_has_a_node_per_value_and_operation():
    from rnn_lib.graph_plot import draw_dag, draw_graph, layout

    a, b = Value(2.0, label="a"), Value(1.0, label="b")
    e = (a + b) * (b + 1)
    e.backward()
    ax = draw_graph(e)
    texts = [t.get_text() for t in ax.texts]
    # 5 values (a, b, 1, a+b, b+1) + e = 6 boxes, 3 operation circles, 6 labelled edges in ops
    assert sum(t in ("+", "*") for t in texts) == 3
    assert sum("grad" in t for t in texts) == 6
    assert sorted(t for t in texts if t in ("2", "3")) == ["2", "3"]  # the local derivatives
    pos = layout(["x", "y", "z"], [("x", "y"), ("y", "z")])
    assert pos["x"][0] < pos["y"][0] < pos["z"][0]
    with pytest.raises(ValueError, match="acyclic"):
        layout(["x", "y"], [("x", "y"), ("y", "x")])
    with pytest.raises(ValueError, match="node kind"):
        draw_dag({"x": ("x", "blob")}, [])
