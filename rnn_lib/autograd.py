"""A tiny scalar autograd engine: values that remember how they were made.

Lecture 02 (computational graphs and backpropagation through time) builds on this file.
Every operation follows the same three steps:

1. compute the output number (the forward pass);
2. remember the inputs (`_parents`) and the *local derivatives* d(out)/d(input), which are
   plain numbers known right now, at forward time (`_local_grads`);
3. nothing else: `backward()` later multiplies the local derivatives along the graph.

`backward()` visits the nodes in reverse topological order (every node after all the nodes
that use it), so when a node's turn comes its `grad` already holds the sum over every path to
the output: the chain rule, summed over paths. A node used twice simply receives two
contributions, which is exactly what happens to an RNN's weights, reused at every time step.

Example:
    >>> a, b = Value(2.0, label="a"), Value(1.0, label="b")
    >>> e = (a + b) * (b + 1)
    >>> e.backward()
    >>> e.data, a.grad, b.grad
    (6.0, 2.0, 5.0)

In the spirit of Karpathy's micrograd (https://github.com/karpathy/micrograd), with the local
derivatives stored on the node so that a drawing of the graph can label its edges with them
(see `rnn_lib.graph_plot`).
"""

from __future__ import annotations

import math
from numbers import Real


class Value:
    """A scalar that remembers its parents and the local derivatives to each of them.

    Args:
        data: the number held.
        label: an optional name, shown by `repr` and in graph drawings.

    Attributes:
        data (float): the number computed in the forward pass.
        grad (float): d(output)/d(this value) after `output.backward()`; starts at 0.
        _parents (tuple[Value, ...]): the values this one was computed from.
        _local_grads (tuple[float, ...]): d(this)/d(parent) for each parent, same order.
        _op (str): the operation that made it ("" for a leaf).
    """

    def __init__(self, data: float, _parents=(), _local_grads=(), _op: str = "", label: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self._parents = tuple(_parents)
        self._local_grads = tuple(float(g) for g in _local_grads)
        self._op = _op
        self.label = label

    # ---- binary operations: out = f(self, other), local derivatives df/dself, df/dother ----
    def __add__(self, other) -> Value:
        other = _as_value(other)
        if other is NotImplemented:
            return other
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __sub__(self, other) -> Value:
        other = _as_value(other)
        if other is NotImplemented:
            return other
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __mul__(self, other) -> Value:
        other = _as_value(other)
        if other is NotImplemented:
            return other
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __truediv__(self, other) -> Value:
        other = _as_value(other)
        if other is NotImplemented:
            return other
        if other.data == 0.0:
            raise ZeroDivisionError("expected a non-zero divisor, got 0.0")
        a, b = self.data, other.data
        return Value(a / b, (self, other), (1.0 / b, -a / b**2), "/")

    def __pow__(self, k) -> Value:
        # Only a constant exponent: d(x**k)/dx = k * x**(k-1).
        if isinstance(k, Value) or not isinstance(k, Real):
            raise TypeError(f"expected a constant int or float exponent, got {type(k).__name__}")
        out = self.data**k
        if isinstance(out, complex):
            raise ValueError(f"expected a non-negative base for exponent {k}, got {self.data}")
        return Value(out, (self,), (k * self.data ** (k - 1),), f"**{k:g}")

    # Python calls these when the left operand is a plain number: 2 + v, 2 - v, 2 * v, 2 / v.
    def __radd__(self, other) -> Value:
        other = _as_value(other)
        return NotImplemented if other is NotImplemented else other + self

    def __rsub__(self, other) -> Value:
        other = _as_value(other)
        return NotImplemented if other is NotImplemented else other - self

    def __rmul__(self, other) -> Value:
        other = _as_value(other)
        return NotImplemented if other is NotImplemented else other * self

    def __rtruediv__(self, other) -> Value:
        other = _as_value(other)
        return NotImplemented if other is NotImplemented else other / self

    def __neg__(self) -> Value:
        return Value(-self.data, (self,), (-1.0,), "neg")

    # ---- unary functions: out = f(x), local derivative f'(x) ----
    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def exp(self) -> Value:
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")

    def log(self) -> Value:
        if self.data <= 0.0:
            raise ValueError(f"expected a positive argument to log, got {self.data}")
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def relu(self) -> Value:
        return Value(max(self.data, 0.0), (self,), (float(self.data > 0.0),), "relu")

    def sigmoid(self) -> Value:
        s = 1.0 / (1.0 + math.exp(-self.data))
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")

    # ---- the backward pass ----
    def backward(self) -> None:
        """Fill `.grad` of every value this one depends on with d(self)/d(value).

        Gradients accumulate (`+=`), as in PyTorch: call `zero_grad()` between two backward
        passes through the same graph.
        """
        order = topological_order(self)
        self.grad = 1.0  # d(self)/d(self)
        for node in reversed(order):  # every node is visited after all the nodes that use it
            for parent, local in zip(node._parents, node._local_grads, strict=True):
                parent.grad += local * node.grad  # chain rule; += sums over the paths

    def zero_grad(self) -> None:
        """Set `.grad` to 0 for this value and every value it depends on."""
        for node in topological_order(self):
            node.grad = 0.0

    def __repr__(self) -> str:
        name = f"{self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


def _as_value(x):
    """A Value for a plain number (a constant leaf), the Value itself, NotImplemented otherwise."""
    if isinstance(x, Value):
        return x
    if isinstance(x, Real):
        return Value(float(x))  # a constant: a leaf whose gradient nobody reads
    return NotImplemented


def topological_order(root: Value) -> list[Value]:
    """Every value `root` depends on (itself included), each listed after all its parents.

    An iterative depth-first search, so that a graph thousands of steps deep (an RNN unrolled
    over a long sequence) does not hit Python's recursion limit.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))  # comes back here once its parents are listed
        stack.extend((p, False) for p in node._parents if id(p) not in visited)
    return order


def edges(root: Value) -> list[tuple[Value, Value, float]]:
    """Every edge (parent, child, d child / d parent) of the graph that computes `root`."""
    return [
        (parent, node, local)
        for node in topological_order(root)
        for parent, local in zip(node._parents, node._local_grads, strict=True)
    ]


def path_products(root: Value, leaf: Value) -> list[tuple[list[Value], float]]:
    """Every path leaf -> ... -> root with the product of the local derivatives along it.

    The chain rule says d root / d leaf is the sum of these products (`sum_over_paths`). A value
    used twice by one operation (as in `x * x`) gives two paths, one per edge. The number of
    paths can grow exponentially with depth: this is for small teaching graphs.
    """
    if root is leaf:
        return [([leaf], 1.0)]
    return [
        (path + [root], product * local)
        for parent, local in zip(root._parents, root._local_grads, strict=True)
        for path, product in path_products(parent, leaf)
    ]


def paths(root: Value, leaf: Value) -> list[list[Value]]:
    """Every path leaf -> ... -> root along the graph's edges, as lists of values."""
    return [path for path, _ in path_products(root, leaf)]


def sum_over_paths(root: Value, leaf: Value) -> float:
    """d root / d leaf the slow way: the sum over paths of the products of local derivatives."""
    return sum(product for _, product in path_products(root, leaf))
