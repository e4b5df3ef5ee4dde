"""Tests for rnn_lib.plotting: what plot_curves draws."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnn_lib.plotting import plot_attention, plot_curves  # noqa: E402


def test_plot_curves_draws_each_curve_and_dashed_references():
    ax = plot_curves({"a": [1.0, 2.0, 3.0], "b": ([1, 3], [0.5, 0.7])}, "epoch", "acc",
                     references={"bound": 0.9, "chance": 0.5}, integer_x=True)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b", "bound", "chance"]
    assert list(lines[0].get_xdata()) == [1, 2, 3] and list(lines[1].get_xdata()) == [1, 3]
    assert lines[2].get_linestyle() == "--" and lines[3].get_linestyle() == ":"
    assert set(lines[2].get_ydata()) == {0.9}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "bound", "chance"]
    ax.figure.canvas.draw()
    assert all(float(t).is_integer() for t in ax.get_xticks())
    plt.close(ax.figure)


def test_plot_curves_without_references_is_unchanged():
    ax = plot_curves({"loss": [3.0, 2.0]})
    assert len(ax.get_lines()) == 1 and ax.get_xlabel() == "step"
    plt.close(ax.figure)


def test_plot_attention_labels_rows_with_the_output_and_columns_with_the_source():
    alpha = torch.softmax(torch.randn(3, 4), -1)
    ax = plot_attention(alpha, ["a", "b", "c", "d"], ["x", "y", "<eos>"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y", "<eos>"]
    assert ax.images[0].get_array().shape == (3, 4)
    with pytest.raises(ValueError, match=r"expected alpha of shape \(2, 4\) for 2 output"):
        plot_attention(alpha, ["a", "b", "c", "d"], ["x", "y"])
