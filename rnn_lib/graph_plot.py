"""Drawing computational graphs with matplotlib (no graphviz needed).

Two entry points:

- `draw_graph(root)` draws the graph of an `rnn_lib.autograd.Value`: a box per value (its
  label, number and gradient), a circle per operation, and every edge into an operation
  labelled with its local derivative d(out)/d(input);
- `draw_dag(nodes, edges)` draws any small directed acyclic graph given by hand, for example
  an RNN unrolled over time at the level of vectors and matrices.

The layout is a simple layered one, as graphviz's `dot` would do with left-to-right ranks:
every node sits one column left of its first use (so every edge points right), and the nodes
of a column are ordered by the mean height of their neighbours. A hand-made layout can be
passed instead (`draw_dag(..., pos=...)`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from rnn_lib.autograd import Value, topological_order

VALUE_STYLE = dict(boxstyle="round,pad=0.3", fc="#e8f0fe", ec="#3367d6")
OP_STYLE = dict(boxstyle="circle,pad=0.25", fc="#fff4e0", ec="#e08a00")
PARAM_STYLE = dict(boxstyle="round,pad=0.3", fc="#e6f4ea", ec="#188038")
STYLES = {"value": VALUE_STYLE, "op": OP_STYLE, "param": PARAM_STYLE}


def layout(nodes: list, edges: list[tuple]) -> dict:
    """Positions (column, row) for the nodes of a DAG, inputs on the left.

    Args:
        nodes: node keys, in any order.
        edges: (source, target, ...) tuples; only the first two entries are used.

    Returns:
        dict key -> (x, y) with x the column and y the height (rows centred on 0).
    """
    parents = {n: [] for n in nodes}
    children = {n: [] for n in nodes}
    for src, dst, *_ in edges:
        parents[dst].append(src)
        children[src].append(dst)
    order = _topological(nodes, parents)
    column = {}
    for n in order:  # longest path from the inputs: every edge points right
        column[n] = 1 + max((column[p] for p in parents[n]), default=-1)
    for n in reversed(order):  # then pull each node right, next to its first use
        if children[n]:
            column[n] = min(column[c] for c in children[n]) - 1
    by_column = {}
    for n in nodes:
        by_column.setdefault(column[n], []).append(n)
    row = {n: float(i) for col in by_column.values() for i, n in enumerate(col)}
    for _ in range(4):  # barycentre sweeps: order each column by its neighbours' mean row
        for col in sorted(by_column):
            members = by_column[col]
            key = {n: _mean([row[m] for m in parents[n] + children[n]], row[n]) for n in members}
            members.sort(key=lambda n: key[n])
            for i, n in enumerate(members):
                row[n] = i - (len(members) - 1) / 2
    return {n: (float(column[n]), -row[n]) for n in nodes}


def draw_dag(nodes: dict, edges: list[tuple], ax=None, *, pos: dict | None = None,
             fontsize: float = 9, title: str = ""):
    """Draw a small DAG: boxes (or circles) for nodes, arrows for edges, labels on the arrows.

    Args:
        nodes: dict key -> (text, kind) with kind "value" (box), "op" (circle) or "param"
            (green box, for a parameter).
        edges: (source key, target key, label) tuples; label "" draws no label.
        ax: the matplotlib axes to draw on (a new figure sized to the graph when None).
        pos: dict key -> (x, y) to place the nodes by hand; `layout` decides when None.
        fontsize: text size of the nodes; edge labels are a little smaller.
        title: an optional axes title.

    Returns:
        The matplotlib axes.
    """
    pos = layout(list(nodes), edges) if pos is None else pos
    unplaced = [key for key in nodes if key not in pos]
    if unplaced:
        raise ValueError(f"expected a position for every node, got none for {unplaced}")
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    if ax is None:
        width = 1.6 * (max(xs) - min(xs) + 1)
        height = 1.1 * (max(ys) - min(ys) + 1)
        _, ax = plt.subplots(figsize=(min(max(width, 4), 22), min(max(height, 2.5), 14)))
    artists = {}
    for key, (text, kind) in nodes.items():
        if kind not in STYLES:
            raise ValueError(f"expected node kind in {sorted(STYLES)}, got {kind!r}")
        artists[key] = ax.text(*pos[key], text, ha="center", va="center", fontsize=fontsize,
                               bbox=STYLES[kind], zorder=3)
    seen = {}
    for src, dst, label in edges:
        k = seen[src, dst] = seen.get((src, dst), -1) + 1  # the k-th edge between the same pair
        rad = 0.25 * k * (-1) ** k
        # zorder above the boxes: matplotlib places a box around its text only when it draws
        # the text, so the arrow must be drawn after the boxes to stop at their edges (drawn
        # first, it runs to the centre and its head hides under the target box)
        ax.annotate("", xy=(0.5, 0.5), xycoords=artists[dst], xytext=(0.5, 0.5),
                    textcoords=artists[src], zorder=4,
                    arrowprops=dict(arrowstyle="-|>", mutation_scale=14, shrinkA=1, shrinkB=1,
                                    # edges from a parameter: green and dashed
                                    color="#188038" if nodes[src][1] == "param" else "0.35",
                                    linestyle="--" if nodes[src][1] == "param" else "-",
                                    patchA=artists[src].get_bbox_patch(),
                                    patchB=artists[dst].get_bbox_patch(),
                                    connectionstyle=f"arc3,rad={rad}"))
        if label:
            (x0, y0), (x1, y1) = pos[src], pos[dst]
            t = 0.55 + 0.12 * k  # along the edge, a little nearer the target
            ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0) + 0.12 * rad, label,
                    fontsize=fontsize * 0.85, color="#b3261e", ha="center", va="center",
                    bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.8),
                    zorder=5)
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def value_graph(root: Value, show_grad: bool = True, params=()) -> tuple[dict, list[tuple]]:
    """The nodes and edges of the graph behind `root`, in the form `draw_dag` takes.

    Each value becomes a box "label | data | grad" (green for the values in `params`); each
    operation a circle between its inputs and its output; the edge from an input to an
    operation carries the local derivative.
    """
    param_ids = {id(p) for p in params}
    nodes, edges = {}, []
    for v in topological_order(root):
        text = f"{v.label}\n" if v.label else ""
        text += f"{v.data:.4g}" + (f"\ngrad {v.grad:.4g}" if show_grad else "")
        nodes[id(v)] = (text, "param" if id(v) in param_ids else "value")
        if v._op:
            op = ("op", id(v))
            nodes[op] = (v._op, "op")
            edges.append((op, id(v), ""))
            for parent, local in zip(v._parents, v._local_grads, strict=True):
                edges.append((id(parent), op, f"{local:.3g}"))
    return nodes, edges


def draw_graph(root: Value, ax=None, *, show_grad: bool = True, params=(), title: str = ""):
    """Draw the computational graph of `root` with local derivatives on the edges.

    Args:
        root: the output value (call `root.backward()` first to see gradients).
        ax: matplotlib axes, or None for a new figure.
        show_grad: also print each value's `.grad`.
        params: values to draw as parameters (green boxes, dashed green edges).
        title: an optional axes title.

    Returns:
        The matplotlib axes.
    """
    nodes, edges = value_graph(root, show_grad=show_grad, params=params)
    return draw_dag(nodes, edges, ax=ax, title=title)


def _topological(nodes: list, parents: dict) -> list:
    """Nodes ordered so that each comes after its parents (raises ValueError on a cycle)."""
    order, state = [], {}
    for start in nodes:
        stack = [(start, False)]
        while stack:
            n, done = stack.pop()
            if done:
                state[n] = "done"
                order.append(n)
            elif state.get(n) is None:
                state[n] = "open"
                stack.append((n, True))
                stack.extend((p, False) for p in parents[n] if state.get(p) != "done")
            elif state[n] == "open":  # reached again from one of its own ancestors
                raise ValueError(f"expected an acyclic graph, got a cycle through {n!r}")
    return order


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default
