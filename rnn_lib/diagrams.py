"""Diagrams of the course's recurrent networks, drawn with matplotlib alone (no graphviz).

One function per concept; each draws on `ax` (a new figure when None) and returns the Axes.
Every label uses the course's notation (PyTorch's names, as in `rnn_lib.cells`), so each
arrow can be matched to a line of the equations printed under the diagram.

    rnn_cell()                  one Elman step: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),
                                y_t = W_hy h_t + b_y                                (lecture 01)
    unrolled_rnn(steps)         the folded cell with its loop beside the same cell unrolled over
                                `steps` steps, sharing W_ih and W_hh           (lectures 01, 02)
    lstm_cell(peephole)         the LSTM: cell-state path on top, gates i, f, g, o; peephole=True
                                adds the diagonal peepholes w_ci, w_cf, w_co        (lecture 03)
    gru_cell()                  the GRU, PyTorch's variant h_t = (1 - z) * n + z * h_{t-1}  (04)
    stacked_rnn(layers, steps)  a grid of cells, layer l's h^(l)_t the input of layer l+1  (05)
    bidirectional_rnn(steps)    forward and backward chains, concatenated at each step  (05)
    sequence_mappings()         one-to-one, one-to-many, many-to-one, many-to-many aligned and
                                the unaligned encoder-decoder, side by side         (lecture 06)
    captioner(words)            Show and Tell as `rnn_lib.captioning` runs it: CNN(I) is step 0's
                                input, then <bos>, w_1, ... under teacher forcing   (lecture 08)
    encoder_decoder(attention)  `rnn_lib.seq2seq`: bidirectional encoder, a bridge to the
                                decoder's first state, and a fixed context c (the lecture's
                                model) or with attention a context c_t              (lecture 09)
    attention_step()            one step of `rnn_lib.attention.AdditiveAttention`  (lecture 09)

Colours: blue for inputs, green for hidden states and cells, red for outputs, amber for gates,
grey for affine maps and pointwise operations (circles), purple for attention.

The helpers at the top (`_box`, `_circle`, `_arrow`, `_chain`, `_finish`) are all the
drawing there is; each diagram is a list of boxes and the arrows between them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib import patheffects
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path
from matplotlib.transforms import Bbox

FONTSIZE = 10
SCALE = 0.72  # inches per data unit in a figure the functions create
FLOW = "#5f6368"  # colour of the arrows
COLOURS = {  # kind -> (face, edge)
    "input": ("#e8f0fe", "#3367d6"),  # x_t, words, the image
    "hidden": ("#e6f4ea", "#188038"),  # states h_t, c_t, s_t
    "cell": ("#e6f4ea", "#188038"),  # one application of a recurrent cell
    "output": ("#fce8e6", "#c5221f"),  # y_t, predicted words, concatenated states
    "gate": ("#fef7e0", "#e37400"),  # the gates' layers: i, f, g, o, r, z
    "op": ("#f1f3f4", "#5f6368"),  # affine maps, CNN, bridge, softmax
    "pointwise": ("white", "#5f6368"),  # the circles: elementwise product, sum, tanh
    "context": ("#f3e8fd", "#8430ce"),  # attention: scores, weights, context
    "pad": ("#f1f3f4", "#9aa0a6"),  # a padding position
}


@dataclass
class Node:
    """A drawn box (or circle, when round) centred at (x, y), w wide and h high."""

    x: float
    y: float
    w: float
    h: float
    round: bool = False

    def toward(self, px: float, py: float) -> tuple[float, float]:
        """The point of the outline on the straight line from the centre to (px, py)."""
        dx, dy = px - self.x, py - self.y
        if self.round:
            d = math.hypot(dx, dy) or 1.0
            return self.x + self.w / 2 * dx / d, self.y + self.w / 2 * dy / d
        t = min(self.w / 2 / abs(dx) if dx else math.inf, self.h / 2 / abs(dy) if dy else math.inf)
        return self.x + t * dx, self.y + t * dy


def _axes(ax):
    """The axes to draw on, and whether we made its figure (then `_finish` sizes it)."""
    if ax is None:
        _, ax = plt.subplots()
        return ax, True
    return ax, False


def _check_count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"expected {name} to be an integer >= {minimum}, got {value!r}")
    return value


def _box(ax, xy, text, kind, w=1.0, h=0.5, fontsize=FONTSIZE, dashed=False) -> Node:
    """A rounded box of colour `kind` with its text; gid = kind, so tests can count cells."""
    face, edge = COLOURS[kind]
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, gid=kind, zorder=2,
                                boxstyle="round,pad=0,rounding_size=0.08", fc=face, ec=edge,
                                lw=1.2, ls="--" if dashed else "-"))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)
    return Node(x, y, w, h)


def _circle(ax, xy, text, r=0.25, fontsize=FONTSIZE) -> Node:
    """A circle for an elementwise operation (product, sum, tanh, sigma, 1 - z)."""
    face, edge = COLOURS["pointwise"]
    ax.add_patch(Circle(xy, r, gid="pointwise", fc=face, ec=edge, lw=1.2, zorder=2))
    ax.text(*xy, text, ha="center", va="center", fontsize=fontsize, zorder=3)
    return Node(xy[0], xy[1], 2 * r, 2 * r, round=True)


def _label(ax, xy, text, ha="center", va="center", fontsize=FONTSIZE - 1, colour="#202124",
           **kw):
    """A label with a white background, so that no line runs through its letters."""
    return ax.text(*xy, text, ha=ha, va=va, fontsize=fontsize, color=colour, zorder=5,
                   bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.9), **kw)


def _arrow(ax, start, end, via=(), label=None, at=None, *, lw=1.2, ls="-", colour=FLOW,
           rad=0.0, halo=False, **label_kw) -> FancyArrowPatch:
    """An arrow with a head from `start` to `end` (Nodes or points), through the points `via`.

    A Node end stops at the node's outline; `rad` bends a two-point arrow into an arc; `halo`
    draws a white edge around the line, so that it visibly passes over a line it crosses.
    The label goes at `at`, or beside the middle of the longest segment.
    """
    pts = [(s.x, s.y) if isinstance(s, Node) else s for s in (start, *via, end)]
    if isinstance(start, Node):
        pts[0] = start.toward(*pts[1])
    if isinstance(end, Node):
        pts[-1] = end.toward(*pts[-2])
    style = dict(arrowstyle="-|>", mutation_scale=8 + 3 * lw, lw=lw, ls=ls, color=colour,
                 zorder=4 if halo else 1, shrinkA=0, shrinkB=0, gid="arrow")
    if rad:
        arrow = FancyArrowPatch(pts[0], pts[-1], connectionstyle=f"arc3,rad={rad}", **style)
    else:
        arrow = FancyArrowPatch(path=Path(pts), **style)
    if halo:
        arrow.set_path_effects([patheffects.withStroke(linewidth=lw + 4, foreground="white")])
    ax.add_patch(arrow)
    if label:
        if at is None:  # beside the middle of the longest segment
            (x0, y0), (x1, y1) = max(itertools.pairwise(pts), key=lambda s: math.dist(*s))
            at = ((x0 + x1) / 2, (y0 + y1) / 2)
            if abs(x1 - x0) >= abs(y1 - y0):
                at, label_kw = (at[0], at[1] + 0.08), {"va": "bottom", **label_kw}
            else:
                at, label_kw = (at[0] + 0.08, at[1]), {"ha": "left", **label_kw}
        _label(ax, at, label, **label_kw)
    return arrow


def _line(ax, points, lw=1.2, dots=()):
    """A line without a head (a bus that several arrows leave), with junction dots."""
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, color=FLOW, lw=lw, zorder=1, solid_capstyle="butt")
    for d in dots:
        ax.add_patch(Circle(d, 0.06, color=FLOW, zorder=2, gid="junction"))


def _frame(ax, x0, y0, x1, y1, text=""):
    """A light dashed frame around the inside of one cell, its name in the top-left corner."""
    ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, fc="#fafafa", ec="#bdc1c6", ls="--",
                                boxstyle="round,pad=0,rounding_size=0.2", lw=1, zorder=0,
                                gid="frame"))
    if text:
        ax.text(x0 + 0.12, y1 - 0.12, text, ha="left", va="top", fontsize=FONTSIZE - 2,
                color="#80868b", family="monospace")


def _chain(ax, xs, y, texts, kind="cell", start=None, labels=None, reverse=False, w=1.0,
           h=0.5, fontsize=FONTSIZE):
    """A row of boxes at height y, with an arrow from each to the next (the recurrence).

    `start` (a Node) feeds the first box; `labels[k]` names the k-th arrow; `reverse` runs the
    recurrence from right to left (the backward direction). Returns the boxes, left to right.
    """
    nodes = [_box(ax, (x, y), t, kind, w=w, h=h, fontsize=fontsize)
             for x, t in zip(xs, texts, strict=True)]
    order = nodes[::-1] if reverse else nodes
    sources = ([start] if start is not None else []) + order[:-1]
    targets = order if start is not None else order[1:]
    labels = labels or [None] * len(targets)
    for a, b, lab in zip(sources, targets, labels, strict=True):
        _arrow(ax, a, b, label=lab)
    return nodes


def _columns(ax, lower, upper, labels=None, **kw):
    """An arrow from each node of `lower` up to the node of `upper` at the same place."""
    labels = labels or [None] * len(lower)
    for a, b, lab in zip(lower, upper, labels, strict=True):
        _arrow(ax, a, b, label=lab, **kw)


def _equations(ax, xy, lines):
    """The equations the diagram draws, one per line, under (or beside) it."""
    x, y = xy
    for k, line in enumerate(lines):  # one text per line: mathtext lines differ in height
        ax.text(x, y - 0.5 * k, line, ha="center", va="top", fontsize=FONTSIZE - 1, zorder=3)


def _finish(ax, title, own):
    """Title, no axis, equal aspect, and limits (and figure size) that hold every artist."""
    ax.set_title(title, fontsize=FONTSIZE + 2)
    ax.set_aspect("equal")
    ax.axis("off")
    fig = ax.figure
    for _ in range(3):  # text size in data units depends on the limits: let them settle
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = [a.get_window_extent(renderer) for a in (*ax.patches, *ax.texts, *ax.lines)]
        bb = Bbox.union(boxes).transformed(ax.transData.inverted())
        ax.set_xlim(bb.x0 - 0.3, bb.x1 + 0.3)
        ax.set_ylim(bb.y0 - 0.3, bb.y1 + 0.3)
        if own:
            fig.set_size_inches(max((bb.width + 0.6) * SCALE, 3), (bb.height + 0.6) * SCALE + 0.6)
            fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01,
                                top=1 - 0.5 / fig.get_size_inches()[1])
    return ax


# --- lecture 01: one step, and the recurrence unrolled ---------------------------------------


def rnn_cell(ax=None):
    """One step of the Elman RNN (`rnn_lib.cells.rnn_cell`) and its output layer.

    Draws x_t and h_{t-1} through their affine maps into the sum, tanh, h_t, and
    y_t = W_hy h_t + b_y above. Returns the Axes.
    """
    ax, own = _axes(ax)
    _frame(ax, 1.1, -1.9, 6.5, 0.9, "cells.rnn_cell")
    h_prev = _box(ax, (0, 0), r"$h_{t-1}$", "hidden")
    hh = _box(ax, (2.4, 0), r"$W_{hh}h_{t-1} + b_{hh}$", "op", w=2.0)
    x = _box(ax, (4.6, -2.7), r"$x_t$", "input")
    ih = _box(ax, (4.6, -1.3), r"$W_{ih}x_t + b_{ih}$", "op", w=1.8)
    plus = _circle(ax, (4.6, 0), "$+$")
    act = _circle(ax, (5.8, 0), r"$\tanh$", r=0.33)
    h = _box(ax, (7.6, 0), r"$h_t$", "hidden")
    hy = _box(ax, (7.6, 1.5), r"$W_{hy}h_t + b_y$", "op", w=1.8)
    y = _box(ax, (7.6, 2.9), r"$y_t$", "output")
    for a, b in [(h_prev, hh), (hh, plus), (x, ih), (ih, plus), (plus, act), (act, h), (h, hy),
                 (hy, y)]:
        _arrow(ax, a, b)
    _arrow(ax, h, (9.3, 0), label="to step $t+1$")
    _equations(ax, (4.3, -3.3), [r"$h_t = \tanh(W_{ih}x_t + b_{ih} + W_{hh}h_{t-1} + b_{hh})$",
                                 r"$y_t = W_{hy}h_t + b_y$"])
    return _finish(ax, "One step of an RNN (Elman cell)", own)


def unrolled_rnn(steps: int = 4, ax=None):
    """The RNN folded (one cell with a loop) and unrolled over `steps` steps from h_0.

    Every unrolled cell uses the same W_ih, W_hh (and W_hy): a label says so. Returns the Axes.
    """
    _check_count("steps", steps)
    ax, own = _axes(ax)
    # folded: one cell whose output comes back as its next input
    cell = _box(ax, (0, 0), "RNN", "cell")
    _arrow(ax, _box(ax, (0, -1.6), r"$x_t$", "input"), cell, label=r"$W_{ih}$")
    _arrow(ax, cell, _box(ax, (0, 1.6), r"$y_t$", "output"), label=r"$W_{hy}$")
    loop = Path([(0.5, 0.12), (1.5, 0.9), (1.5, -0.9), (0.5, -0.12)],
                [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
    ax.add_patch(FancyArrowPatch(path=loop, arrowstyle="-|>", mutation_scale=12, lw=1.2,
                                 color=FLOW, gid="arrow"))
    _label(ax, (1.3, 0), r"$W_{hh}$", ha="left")
    ax.text(2.4, 0, "=", fontsize=22, ha="center", va="center")
    # unrolled: the same cell once per step, h_{t-1} -> h_t along the row
    xs = [5.2 + 2.2 * t for t in range(steps)]
    h0 = _box(ax, (3.4, 0), r"$h_0$", "hidden")
    cells = _chain(ax, xs, 0, ["RNN"] * steps, start=h0,
                   labels=[r"$W_{hh}$"] * steps)
    _arrow(ax, cells[-1], _box(ax, (xs[-1] + 2.2, 0), f"$h_{{{steps}}}$", "hidden"),
           label=r"$W_{hh}$")
    xs_in = [_box(ax, (x, -1.6), f"$x_{{{t + 1}}}$", "input") for t, x in enumerate(xs)]
    ys = [_box(ax, (x, 1.6), f"$y_{{{t + 1}}}$", "output") for t, x in enumerate(xs)]
    _columns(ax, xs_in, cells, labels=[r"$W_{ih}$"] * steps)
    _columns(ax, cells, ys, labels=[r"$W_{hy}$"] * steps)
    for t, x in enumerate(xs):  # name the state each cell hands on, under its arrow
        _label(ax, (x + 1.1, -0.12), f"$h_{{{t + 1}}}$", va="top", colour=COLOURS["hidden"][1])
    _label(ax, ((xs[0] + xs[-1]) / 2 + 1.1, -2.45),
           r"the same weights $W_{ih}, W_{hh}, b_{ih}, b_{hh}$ (and $W_{hy}, b_y$) "
           "are shared by every step", va="top")
    return _finish(ax, f"An RNN folded, and unrolled over {steps} steps", own)


# --- lecture 03: the LSTM ----------------------------------------------------------------------


def lstm_cell(peephole: bool = False, ax=None):
    """One LSTM step (`rnn_lib.cells.lstm_cell`), cell state along the top.

    The gates i, f, g, o read x_t and h_{t-1}; c_t = f * c_{t-1} + i * g and
    h_t = o * tanh(c_t). With `peephole`, the dashed diagonal peepholes w_ci, w_cf (from c_{t-1}
    into i and f) and w_co (from c_t into o), as in `LSTMCell(..., peephole=True)`.
    Returns the Axes.
    """
    ax, own = _axes(ax)
    _frame(ax, 0.5, -0.2, 10.0, 5.0, "cells.lstm_cell")
    c_prev = _box(ax, (-0.8, 4.2), r"$c_{t-1}$", "hidden")
    c_t = _box(ax, (11.3, 4.2), r"$c_t$", "hidden")
    _box(ax, (-0.8, 0.6), r"$h_{t-1}$", "hidden")  # feeds the bus below
    h_t = _box(ax, (11.3, 0.6), r"$h_t$", "hidden")
    _box(ax, (1.4, -1.1), r"$x_t$", "input")
    forget = _circle(ax, (2.6, 4.2), r"$\odot$")
    plus = _circle(ax, (5.2, 4.2), "$+$")
    write = _circle(ax, (5.2, 3.1), r"$\odot$")
    squash = _circle(ax, (8.4, 3.1), r"$\tanh$", r=0.33)
    out = _circle(ax, (8.4, 1.9), r"$\odot$")
    gates = {name: _box(ax, (gx, 1.9), act, "gate", w=0.8 if name != "g" else 0.9, h=0.6)
             for name, gx, act in [("f", 2.6, r"$\sigma$"), ("i", 4.0, r"$\sigma$"),
                                   ("g", 5.2, r"$\tanh$"), ("o", 7.0, r"$\sigma$")]}
    # the cell state: a thick line along the top, touched only by a product and a sum
    thick = dict(lw=3.5, colour=COLOURS["hidden"][1])
    _arrow(ax, c_prev, forget, **thick)
    _arrow(ax, forget, plus, **thick)
    _arrow(ax, plus, c_t, **thick)
    _line(ax, [(8.4, 4.2), (8.4, 4.2)], dots=[(8.4, 4.2)])
    _arrow(ax, (8.4, 4.2), squash)
    # the inputs: x_t and h_{t-1} along a bus, each gate reading both
    _line(ax, [(-0.3, 0.6), (7.0, 0.6)], dots=[(1.4, 0.6), (2.6, 0.6), (4.0, 0.6), (5.2, 0.6)])
    _line(ax, [(1.4, -0.85), (1.4, 0.6)])
    _label(ax, (0.55, 0.45), r"$x_t, h_{t-1}$", va="top", fontsize=FONTSIZE - 2)
    for name in "fig":
        _arrow(ax, (gates[name].x, 0.6), gates[name])
    _arrow(ax, (7.0, 0.6), gates["o"])
    # what each gate does
    _arrow(ax, gates["f"], forget, label="$f_t$", at=(2.68, 3.2), ha="left")
    _arrow(ax, gates["i"], write, via=[(4.0, 3.1)], label="$i_t$", at=(4.08, 2.65), ha="left")
    _arrow(ax, gates["g"], write, label="$g_t$", at=(5.28, 2.55), ha="left")
    _arrow(ax, write, plus)
    _arrow(ax, gates["o"], out, label="$o_t$", at=(7.7, 2.0), va="bottom")
    _arrow(ax, squash, out, label=r"$\tanh(c_t)$", at=(8.5, 2.5), ha="left")
    _arrow(ax, out, h_t, via=[(9.5, 1.9), (9.5, 0.6)], label="$h_t$", at=(9.58, 1.25),
           ha="left")
    lines = [r"$i_t = \sigma(W_{ii}x_t + b_{ii} + W_{hi}h_{t-1} + b_{hi}"
             + (r" + w_{ci} \odot c_{t-1})$" if peephole else ")$"),
             r"$f_t = \sigma(W_{if}x_t + b_{if} + W_{hf}h_{t-1} + b_{hf}"
             + (r" + w_{cf} \odot c_{t-1})$" if peephole else ")$"),
             r"$g_t = \tanh(W_{ig}x_t + b_{ig} + W_{hg}h_{t-1} + b_{hg})$",
             r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$",
             r"$o_t = \sigma(W_{io}x_t + b_{io} + W_{ho}h_{t-1} + b_{ho}"
             + (r" + w_{co} \odot c_t)$" if peephole else ")$"),
             r"$h_t = o_t \odot \tanh(c_t)$"]
    if peephole:  # dashed: each gate also reads the cell state, elementwise (a diagonal weight)
        dash = dict(ls="--", colour=COLOURS["gate"][1])
        _line(ax, [(1.5, 4.2), (1.5, 4.2)], dots=[(1.5, 4.2), (3.3, 4.2), (6.3, 4.2)])
        _arrow(ax, (1.5, 4.2), gates["f"], via=[(1.5, 1.9)], label=r"$w_{cf}$",
               at=(1.42, 3.0), ha="right", **dash)
        _arrow(ax, (3.3, 4.2), gates["i"], via=[(3.3, 1.9)], label=r"$w_{ci}$",
               at=(3.22, 3.0), ha="right", **dash)
        _arrow(ax, (6.3, 4.2), gates["o"], via=[(6.3, 1.9)], label=r"$w_{co}$",
               at=(6.22, 3.0), ha="right", **dash)
    _equations(ax, (5.25, -1.7), lines)
    return _finish(ax, "LSTM cell" + (" with peepholes" if peephole else ""), own)


# --- lecture 04: the GRU -----------------------------------------------------------------------


def gru_cell(ax=None):
    """One GRU step (`rnn_lib.cells.gru_cell`, PyTorch's variant), h_{t-1} along the top.

    r and z read x_t and h_{t-1}; the candidate n = tanh(W_in x + b_in + r * (W_hn h + b_hn));
    h_t = (1 - z) * n + z * h_{t-1}. Returns the Axes.
    """
    ax, own = _axes(ax)
    _frame(ax, 0.1, -0.5, 9.2, 6.4, "cells.gru_cell")
    h_prev = _box(ax, (-1.0, 5.6), r"$h_{t-1}$", "hidden")
    h_t = _box(ax, (10.4, 5.6), r"$h_t$", "hidden")
    _box(ax, (1.2, -1.3), r"$x_t$", "input")
    keep = _circle(ax, (2.0, 5.6), r"$\odot$")
    plus = _circle(ax, (7.8, 5.6), "$+$")
    mix = _circle(ax, (7.8, 4.5), r"$\odot$")
    minus = _circle(ax, (3.6, 4.5), "$1-$", fontsize=FONTSIZE - 1)
    reset = _circle(ax, (5.2, 2.4), r"$\odot$")
    add = _circle(ax, (7.8, 2.4), "$+$")
    squash = _circle(ax, (7.8, 3.45), r"$\tanh$", r=0.33)
    z = _box(ax, (2.0, 1.2), r"$\sigma$", "gate", w=0.8, h=0.6)
    r = _box(ax, (3.6, 1.2), r"$\sigma$", "gate", w=0.8, h=0.6)
    hn = _box(ax, (5.2, 1.2), r"$W_{hn}h_{t-1} + b_{hn}$", "op", w=2.0, h=0.6,
              fontsize=FONTSIZE - 1)
    xn = _box(ax, (7.8, 1.2), r"$W_{in}x_t + b_{in}$", "op", w=1.8, h=0.6, fontsize=FONTSIZE - 1)
    thick = dict(lw=2.5, colour=COLOURS["hidden"][1])
    # the old state along the top: kept in the proportion z, mixed with the candidate
    _arrow(ax, h_prev, keep, **thick)
    _arrow(ax, keep, plus, label=r"$z_t \odot h_{t-1}$", at=(5.2, 5.72), va="bottom", **thick)
    _arrow(ax, plus, h_t, **thick)
    # the inputs: x_t and h_{t-1} along a bus
    _line(ax, [(0.4, 5.6), (0.4, 0.0), (7.8, 0.0)],
          dots=[(0.4, 5.6), (1.2, 0), (2.0, 0), (3.6, 0), (5.2, 0)])
    _line(ax, [(1.2, -1.05), (1.2, 0)])
    _label(ax, (2.8, -0.12), r"$x_t, h_{t-1}$", va="top", fontsize=FONTSIZE - 2)
    for node in (z, r, hn):
        _arrow(ax, (node.x, 0), node)
    _arrow(ax, (7.8, 0), xn)
    # update gate z: how much of h_{t-1} to keep, and 1 - z of the candidate
    _arrow(ax, z, keep, label="$z_t$", at=(2.08, 2.6), ha="left")
    _line(ax, [(2.0, 4.5), (2.0, 4.5)], dots=[(2.0, 4.5)])
    _arrow(ax, (2.0, 4.5), minus)
    _arrow(ax, minus, mix, label=r"$1-z_t$", at=(5.7, 4.58), va="bottom")
    # reset gate r and the candidate n
    _arrow(ax, r, reset, via=[(3.6, 2.4)], label="$r_t$", at=(3.68, 1.95), ha="left")
    _arrow(ax, hn, reset)
    _arrow(ax, reset, add)
    _arrow(ax, xn, add)
    _arrow(ax, add, squash)
    _arrow(ax, squash, mix, label="$n_t$", at=(7.9, 4.0), ha="left")
    _arrow(ax, mix, plus, label=r"$(1-z_t) \odot n_t$", at=(7.9, 5.05), ha="left",
           fontsize=FONTSIZE - 2)
    _equations(ax, (4.7, -1.9), [
        r"$r_t = \sigma(W_{ir}x_t + b_{ir} + W_{hr}h_{t-1} + b_{hr})$",
        r"$z_t = \sigma(W_{iz}x_t + b_{iz} + W_{hz}h_{t-1} + b_{hz})$",
        r"$n_t = \tanh(W_{in}x_t + b_{in} + r_t \odot (W_{hn}h_{t-1} + b_{hn}))$",
        r"$h_t = (1-z_t) \odot n_t + z_t \odot h_{t-1}$"])
    return _finish(ax, "GRU cell (PyTorch's variant)", own)


# --- lecture 05: deep and bidirectional --------------------------------------------------------


def stacked_rnn(layers: int = 2, steps: int = 3, ax=None):
    """A stacked RNN: `layers` rows of cells over `steps` steps, layer l's h^(l)_t the input of
    layer l+1 at the same step, each layer with its own weights (weight_ih_l{l-1}, ...).
    Returns the Axes.
    """
    _check_count("layers", layers)
    _check_count("steps", steps)
    ax, own = _axes(ax)
    xs = [2.2 * (t + 1) for t in range(steps)]
    below = [_box(ax, (x, 0), f"$x_{{{t + 1}}}$", "input") for t, x in enumerate(xs)]
    for layer in range(1, layers + 1):
        y = 1.6 * layer
        start = _box(ax, (0, y), f"$h^{{({layer})}}_0$", "hidden")
        cells = _chain(ax, xs, y, [f"$h^{{({layer})}}_{{{t + 1}}}$" for t in range(steps)],
                       start=start)
        _columns(ax, below, cells)
        _label(ax, (xs[-1] + 0.8, y),
               f"layer {layer}: $W^{{({layer})}}_{{ih}}, W^{{({layer})}}_{{hh}}$\n"
               f"(weight_ih_l{layer - 1}, weight_hh_l{layer - 1})", ha="left",
               fontsize=FONTSIZE - 2)
        below = cells
    top = 1.6 * (layers + 1)
    _columns(ax, below, [_box(ax, (x, top), f"$y_{{{t + 1}}}$", "output")
                         for t, x in enumerate(xs)])
    return _finish(ax, f"A stacked RNN: {layers} layers over {steps} steps", own)


def _bidirectional(ax, xs, y, inputs, arc=0.22):
    """Forward and backward chains over the columns xs above the nodes `inputs`, the forward
    row at height y and the backward row 1.5 above. Returns (forward cells, backward cells)."""
    n = len(xs)
    fwd = _chain(ax, xs, y, [rf"$\overrightarrow{{h}}_{{{t + 1}}}$" for t in range(n)], w=0.9)
    bwd = _chain(ax, xs, y + 1.5, [rf"$\overleftarrow{{h}}_{{{t + 1}}}$" for t in range(n)],
                 reverse=True, w=0.9)
    _columns(ax, inputs, fwd)
    for a, b in zip(inputs, bwd, strict=True):  # past the forward cell, over the forward arrow
        _arrow(ax, (a.x + 0.25, a.y + a.h / 2), (b.x + 0.25, b.y - b.h / 2), rad=arc, halo=True)
    return fwd, bwd


def _merge(ax, fwd, bwd, tops):
    """Both directions into the boxes `tops` above the backward row (their concatenation)."""
    _columns(ax, bwd, tops)
    for a, b in zip(fwd, tops, strict=True):  # past the backward cell, over the backward arrow
        _arrow(ax, (a.x - 0.25, a.y + a.h / 2), (b.x - 0.25, b.y - b.h / 2), rad=-0.22, halo=True)


def bidirectional_rnn(steps: int = 4, ax=None):
    """A bidirectional RNN over `steps` steps: a forward chain left to right, a backward chain
    right to left, and at each step the two states concatenated, [h->_t ; h<-_t].
    Returns the Axes.
    """
    _check_count("steps", steps)
    ax, own = _axes(ax)
    xs = [2.4 * t for t in range(steps)]
    inputs = [_box(ax, (x, 0), f"$x_{{{t + 1}}}$", "input", w=0.8) for t, x in enumerate(xs)]
    fwd, bwd = _bidirectional(ax, xs, 1.5, inputs)
    outs = [_box(ax, (x, 4.6), rf"$[\overrightarrow{{h}}_{{{t + 1}}}; "
                 rf"\overleftarrow{{h}}_{{{t + 1}}}]$", "output", w=1.5)
            for t, x in enumerate(xs)]
    _merge(ax, fwd, bwd, outs)
    _label(ax, (xs[-1] + 1.0, 1.5), "forward:\nweight_ih_l0, weight_hh_l0", ha="left",
           fontsize=FONTSIZE - 2)
    _label(ax, (xs[-1] + 1.0, 3.0), "backward:\nweight_ih_l0_reverse,\nweight_hh_l0_reverse",
           ha="left", fontsize=FONTSIZE - 2)
    return _finish(ax, f"A bidirectional RNN over {steps} steps", own)


# --- lecture 06: what maps to what -------------------------------------------------------------


MAPPINGS = [  # title, number of steps, steps with an input, steps with an output
    ("one to one\n(a feed-forward net)", 1, [0], [0]),
    ("one to many\n(e.g. captioning)", 3, [0], [0, 1, 2]),
    ("many to one\n(e.g. sentiment)", 3, [0, 1, 2], [2]),
    ("many to many, aligned\n(e.g. tagging)", 3, [0, 1, 2], [0, 1, 2]),
    ("many to many, unaligned\n(encoder-decoder,\ne.g. translation)", 6, [0, 1, 2], [3, 4, 5]),
]


def sequence_mappings(ax=None):
    """The five shapes of sequence problem side by side, each inputs below, RNN cells in the
    middle, outputs above: one-to-one, one-to-many, many-to-one, many-to-many aligned, and
    many-to-many unaligned (the encoder reads all of the input, then the decoder writes).
    Returns the Axes.
    """
    ax, own = _axes(ax)
    left = 0.0
    for title, n, ins, outs in MAPPINGS:
        xs = [left + 1.3 * k for k in range(n)]
        cells = _chain(ax, xs, 1.3, ["RNN"] * n, w=0.9, fontsize=FONTSIZE - 2)
        for k, i in enumerate(ins):
            _arrow(ax, _box(ax, (xs[i], 0), f"$x_{{{k + 1}}}$", "input", w=0.8, h=0.45), cells[i])
        for k, o in enumerate(outs):
            _arrow(ax, cells[o], _box(ax, (xs[o], 2.6), f"$y_{{{k + 1}}}$", "output", w=0.8,
                                      h=0.45))
        if n == 6:
            ax.text((xs[3] + xs[5]) / 2, 0, "decoder", ha="center", va="center",
                    fontsize=FONTSIZE - 2, color=FLOW)
            ax.text((xs[0] + xs[2]) / 2, 2.6, "encoder", ha="center", va="center",
                    fontsize=FONTSIZE - 2, color=FLOW)
        ax.text((xs[0] + xs[-1]) / 2, 3.15, title, ha="center", va="bottom",
                fontsize=FONTSIZE - 1)
        left = xs[-1] + 2.4
    return _finish(ax, "Sequence mappings: inputs below, RNN steps in the middle, outputs "
                   "above", own)


# --- lecture 08: image captioning --------------------------------------------------------------


def _picture(ax, xy, side=1.2) -> Node:
    """A small picture like those of `rnn_lib.captioning`: a red circle above a blue square."""
    x, y = xy
    ax.add_patch(Rectangle((x - side / 2, y - side / 2), side, side, fc="black", ec=FLOW,
                           gid="input", zorder=2))
    ax.add_patch(Circle((x - 0.15, y + 0.25), 0.2, color=(0.9, 0.1, 0.1), zorder=3))
    ax.add_patch(Rectangle((x + 0.0, y - 0.5), 0.34, 0.34, color=(0.15, 0.3, 1.0), zorder=3))
    return Node(x, y, side, side)


def captioner(words: int = 3, ax=None):
    """The captioner of `rnn_lib.captioning` (Show and Tell) on a caption of `words` words.

    Step 0 (`start`) feeds CNN(I) to the LSTM cell from (0, 0) and predicts nothing; then,
    under teacher forcing, step t reads the true word w_{t-1} (w_0 = <bos>) and predicts w_t,
    the last step <eos>. Returns the Axes.
    """
    _check_count("words", words)
    ax, own = _axes(ax)
    n = words + 2  # step 0, then one step per word and one for <eos>
    xs = [2.2 * (t + 1) for t in range(n)]
    zero = _box(ax, (0, 1.5), "$(0, 0)$", "hidden")
    cells = _chain(ax, xs, 1.5, ["LSTM"] * n, start=zero,
                   labels=[None] + [f"$h_{t}, c_{t}$" for t in range(n - 1)])
    image = _picture(ax, (xs[0], -1.5))
    cnn = _box(ax, (xs[0], 0), "CNN", "op")
    _arrow(ax, image, cnn, label="$I$")
    _arrow(ax, cnn, cells[0], label=r"CNN$(I)$", fontsize=FONTSIZE - 2)
    ax.text(xs[0], 2.7, "(predicts\nnothing)", ha="center", va="center",
            fontsize=FONTSIZE - 2, color=FLOW)
    given = ["<bos>"] + [f"$w_{{{t}}}$" for t in range(1, words + 1)]
    wanted = [f"$w_{{{t}}}$" for t in range(1, words + 1)] + ["<eos>"]
    for t in range(1, n):
        inp = _box(ax, (xs[t], 0), given[t - 1], "input")
        _arrow(ax, inp, cells[t], label="$W_e$" if t == 1 else None)
        out = _box(ax, (xs[t], 3.0), wanted[t - 1], "output")
        _arrow(ax, cells[t], out, label=r"$W_o, b_o$" if t == 1 else None)
    _label(ax, ((xs[1] + xs[-1]) / 2, -0.55),
           "teacher forcing: the inputs are the true caption $w_0$ = <bos>, $w_1$, ..., "
           f"$w_{{{words}}}$,\nnot the model's own guesses; the outputs are the targets "
           f"$w_1$, ..., $w_{{{words}}}$, <eos>", va="top", fontsize=FONTSIZE - 1)
    _equations(ax, ((xs[0] + xs[-1]) / 2, -2.4), [
        r"$h_0, c_0 = \mathrm{LSTMCell}(\mathrm{CNN}(I), (0, 0))$",
        r"$h_t, c_t = \mathrm{LSTMCell}(W_e w_{t-1}, (h_{t-1}, c_{t-1}))$",
        r"$p(w_t \mid I, w_{<t}) = \mathrm{softmax}(W_o h_t + b_o)$"])
    return _finish(ax, "Image captioning (Show and Tell): CNN encoder, LSTM decoder", own)


# --- lecture 09: encoder-decoder and attention -------------------------------------------------


def encoder_decoder(attention: bool = False, ax=None, *, context: bool = True):
    """`rnn_lib.seq2seq` on a source of 3 words and a target of 3 tokens.

    The bidirectional LSTM encoder reads x_1..x_3; its final states (forward at the end,
    backward at the start) go through the bridge tanh(Linear) to the decoder's first state s_0.
    The decoder reads <bos>, y_1, y_2 and predicts y_1, y_2, y_3. What else it sees of the
    source, as `make_model` builds it:

    - attention=True (`AttnDecoder`): at step t a context c_t = sum_j alpha_tj h_j, computed
      from s_{t-1} and all the encoder states h_j;
    - attention=False, context=True (lecture 09's model without attention, Cho et al. 2014):
      one fixed context c, the mean of the h_j, at every step;
    - attention=False, context=False (Sutskever et al. 2014): nothing but s_0.

    Returns the Axes.
    """
    ax, own = _axes(ax)
    S = T = 3
    xs = [1.8 * j for j in range(S)]
    src = [_box(ax, (x, 0), f"$x_{{{j + 1}}}$", "input", w=0.8) for j, x in enumerate(xs)]
    fwd, bwd = _bidirectional(ax, xs, 1.4, src)
    bridge = _box(ax, (5.8, 2.1), r"$\tanh(\mathrm{Linear})$", "op", w=1.8)
    _arrow(ax, fwd[-1], bridge, label=r"$\overrightarrow{h}_3$", at=(4.7, 1.5), va="top")
    _arrow(ax, bwd[0], bridge, via=[(-1.0, 2.9), (-1.0, -0.8), (5.8, -0.8)],
           label=r"$\overleftarrow{h}_1$", at=(2.7, -0.88), va="top")
    dx = [8.4 + 2.4 * t for t in range(T)]
    dec = _chain(ax, dx, 2.1, [f"$s_{{{t + 1}}}$" for t in range(T)], start=bridge,
                 labels=["$s_0$"] + [None] * (T - 1), kind="hidden")
    given = ["<bos>"] + [f"$y_{{{t}}}$" for t in range(1, T)]
    for t, x in enumerate(dx):
        _arrow(ax, _box(ax, (x, 0.6), given[t], "input"), dec[t],
               label="emb" if t == 0 else None, fontsize=FONTSIZE - 2)
        _arrow(ax, dec[t], _box(ax, (x, 3.6), f"$y_{{{t + 1}}}$", "output"),
               label="Linear" if t == 0 else None, fontsize=FONTSIZE - 2)
    ax.text(xs[1], -1.55, "encoder (bidirectional LSTM)", ha="center", fontsize=FONTSIZE - 1)
    ax.text(dx[1], -1.55, "decoder (LSTMCell)", ha="center", fontsize=FONTSIZE - 1)
    lines = [r"$s_0 = \tanh(\mathrm{Linear}([\overrightarrow{h}_3; \overleftarrow{h}_1]))$"
             " (h and c alike)"]
    if attention or context:  # the encoder states h_j, and a context box before each step
        memory = [_box(ax, (x, 4.4), f"$h_{{{j + 1}}}$", "context", w=0.8)
                  for j, x in enumerate(xs)]
        _merge(ax, fwd, bwd, memory)
        ax.text(xs[1], 4.95, r"memory $h_j = [\overrightarrow{h}_j; \overleftarrow{h}_j]$",
                ha="center", va="bottom", fontsize=FONTSIZE - 1)
        bus_y, bus_start = 4.4, xs[-1] + 0.4
        if not attention:  # one summary of the sentence, computed once
            mean = _box(ax, (5.6, bus_y), r"$c = \mathrm{mean}_j\, h_j$", "context", w=1.7)
            _arrow(ax, memory[-1], mean)
            bus_start = mean.x + mean.w / 2
        _line(ax, [(bus_start, bus_y), (dx[-1] - 1.2, bus_y)],
              dots=[(x - 1.2, bus_y) for x in dx])
        _label(ax, (7.6 if not attention else 5.4, bus_y + 0.1),
               "all $h_j$ and the mask" if attention else "the same $c$ at every step",
               va="bottom", fontsize=FONTSIZE - 2)
        sources = [bridge] + dec[:-1]
        for t, x in enumerate(dx):
            ctx = _box(ax, (x - 1.2, 3.3), f"$c_{{{t + 1}}}$" if attention else "$c$",
                       "context", w=0.6, h=0.45)
            _arrow(ax, (x - 1.2, bus_y), ctx)
            if attention:  # the query: the decoder's previous state
                _arrow(ax, (sources[t].x + (0.5 if t else 0.6), 2.1 + 0.25), ctx)
            _arrow(ax, ctx, (x - 0.45, 2.3))
        c = "c_t" if attention else "c"
        if attention:
            lines.append(r"$c_t = \Sigma_j\,\alpha_{tj} h_j$, $\alpha_t$ = masked softmax$_j$"
                         r"$(v^\top \tanh(W s_{t-1} + U h_j))$")
        else:
            lines.append(r"$c = \Sigma_j\, h_j / S$ over the real positions (mean_memory)")
        lines.append(rf"$s_t = \mathrm{{LSTMCell}}([\mathrm{{emb}}(y_{{t-1}}); {c}], s_{{t-1}})$, "
                     rf"logits$_t = \mathrm{{Linear}}([s_t; {c}; \mathrm{{emb}}(y_{{t-1}})])$")
    else:
        lines.append(r"$s_t = \mathrm{LSTMCell}(\mathrm{emb}(y_{t-1}), s_{t-1})$, "
                     r"logits$_t = \mathrm{Linear}(s_t)$: the source reaches the decoder "
                     r"only through $s_0$")
    _equations(ax, ((xs[0] + dx[-1]) / 2, -2.1), lines)
    title = ("with attention" if attention else
             "with a fixed context" if context else "(the source only through $s_0$)")
    return _finish(ax, f"Encoder-decoder {title}", own)


def attention_step(ax=None):
    """One step of additive (Bahdanau) attention, `rnn_lib.attention.AdditiveAttention`, over
    4 encoder states of which the last is padding: scores e_tj = v^T tanh(W s_{t-1} + U h_j),
    weights alpha_t = masked softmax(e_t), context c_t = sum_j alpha_tj h_j. Returns the Axes.
    """
    ax, own = _axes(ax)
    xs = [2.0 + 2.2 * j for j in range(4)]
    pad = 3  # the last position is padding
    keys = [_box(ax, (x, 0), f"$h_{{{j + 1}}}$" if j != pad else "$h_4$ <pad>",
                 "hidden" if j != pad else "pad", w=1.2, dashed=j == pad)
            for j, x in enumerate(xs)]
    scores = [_box(ax, (x, 1.7), f"$e_{{t{j + 1}}}$", "context", w=1.2)
              for j, x in enumerate(xs)]
    _box(ax, (-0.4, 0.85), r"$s_{t-1}$", "hidden")  # the query, carried by the bus
    _line(ax, [(0.1, 0.85), (xs[-1] + 0.3, 0.85)], dots=[(x + 0.3, 0.85) for x in xs])
    _label(ax, (0.75, 0.93), r"$W s_{t-1}$", va="bottom", fontsize=FONTSIZE - 2)
    for j, (k, e) in enumerate(zip(keys, scores, strict=True)):
        _arrow(ax, (k.x - 0.25, k.y + k.h / 2), (e.x - 0.25, e.y - e.h / 2), halo=True,
               label="$U h_j$" if j == 0 else None, at=(k.x - 0.33, 0.5), ha="right",
               fontsize=FONTSIZE - 2)
        _arrow(ax, (e.x + 0.3, 0.85), (e.x + 0.3, e.y - e.h / 2))
    _box(ax, ((xs[0] + xs[-1]) / 2, 3.2),
                   r"masked softmax over $j$ (padding: $e_{tj} = -\infty$, so $\alpha_{tj} = 0$)",
                   "op", w=xs[-1] - xs[0] + 1.2)
    _columns(ax, scores, [Node(x, 3.2, 1.2, 0.5) for x in xs])
    weighted = [_box(ax, (x, 4.7), rf"$\alpha_{{t{j + 1}}} h_{{{j + 1}}}$" if j != pad
                     else r"$0 \cdot h_4$", "context" if j != pad else "pad", w=1.2)
                for j, x in enumerate(xs)]
    _columns(ax, [Node(x, 3.2, 1.2, 0.5) for x in xs], weighted,
             labels=[rf"$\alpha_{{t{j + 1}}}$" for j in range(4)])
    total = _circle(ax, ((xs[1] + xs[2]) / 2, 6.2), r"$\Sigma$")
    for w_node in weighted:
        _arrow(ax, w_node, total)
    _arrow(ax, total, _box(ax, (total.x + 2.6, 6.2), "$c_t$", "context"),
           label=r"$c_t = \Sigma_j\,\alpha_{tj} h_j$", fontsize=FONTSIZE - 2)
    _equations(ax, ((xs[0] + xs[-1]) / 2, -0.6), [
        r"$e_{tj} = v^\top \tanh(W s_{t-1} + U h_j)$   (U $h_j$ computed once per sentence: "
        "project_keys)",
        r"$\alpha_{tj} = \exp(e_{tj}) / \Sigma_{k\ \mathrm{real}}\, \exp(e_{tk})$,   "
        r"$c_t = \Sigma_j\,\alpha_{tj} h_j$"])
    return _finish(ax, "One step of additive (Bahdanau) attention", own)
