"""rnn_lib.graph_plot: the edges are arrows whose heads show (they stop at the boxes' edges)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from rnn_lib.autograd import Value  # noqa: E402
from rnn_lib.graph_plot import draw_dag, draw_graph  # noqa: E402


def edge_annotations(ax):
    return [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]


def edge_arrows(ax):
    return [t.arrow_patch for t in edge_annotations(ax)]


def test_draw_dag_edges_have_heads_that_end_at_the_target_box():
    ax = draw_dag({"a": ("a", "value"), "m": ("*", "op"), "c": ("c", "value")},
                  [("a", "m", "2"), ("m", "c", "")], pos={"a": (0, 0), "m": (1, 0), "c": (2, 0)})
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    patches = edge_arrows(ax)
    assert len(patches) == 2
    boxes = {t.get_text(): t.get_bbox_patch().get_window_extent(renderer) for t in ax.texts
             if t.get_bbox_patch() is not None and t.get_text() in ("a", "*", "c")}
    box_zorder = max(t.zorder for t in ax.texts if t.get_text() in boxes)
    # drawn after the boxes: matplotlib places a text's box only when it draws the text
    assert all(t.zorder > box_zorder for t in edge_annotations(ax))
    for patch, target in zip(patches, ["*", "c"], strict=True):
        assert patch.get_arrowstyle().arrow == "-|>"  # a filled head at the target only
        tip = patch.get_path().vertices[:, 0].max()  # display x of the arrow's rightmost point
        assert tip <= boxes[target].x0 + 2, "the head must stop at the box, not hide under it"
    plt.close("all")


def test_draw_graph_edges_have_heads():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    ax = draw_graph(a * b + a)
    assert len(edge_arrows(ax)) == 6  # a, b -> *; * -> a*b; a*b, a -> +; + -> out
    assert all(p.get_arrowstyle().arrow == "-|>" for p in edge_arrows(ax))
    plt.close("all")
