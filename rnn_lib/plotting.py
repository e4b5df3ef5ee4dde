"""Plotting helpers shared by the notebooks: learning curves, mostly."""

import matplotlib.pyplot as plt


def plot_curves(curves: dict, xlabel: str = "step", ylabel: str = "loss", ax=None,
                logy: bool = False, title: str | None = None, references: dict | None = None,
                integer_x: bool = False):
    """Plot several named curves on one axis; `curves` maps a label to a list of values
    (or to a pair (xs, ys)). Returns the axis.

    references: label -> a constant (a baseline, a bound, a ceiling), drawn as a dashed
        horizontal line with its label in the legend.
    integer_x: integer ticks only on the x axis (for epochs or steps).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for label, values in curves.items():
        if isinstance(values, tuple) and len(values) == 2:
            ax.plot(values[0], values[1], label=label)
        else:
            ax.plot(range(1, len(values) + 1), values, label=label)
    styles = ["--", ":", "-."]
    for i, (label, y) in enumerate((references or {}).items()):
        ax.axhline(y, color="0.35", linestyle=styles[i % len(styles)], linewidth=1.2,
                   label=label)
    if integer_x:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(curves) > 1 or any(curves) or references:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_history(history, ax=None, label: str | None = None, logy: bool = False,
                 smooth: int = 1):
    """Plot the per-step training loss of a `rnn_lib.training.History`.

    smooth: average over windows of this many steps (1: raw) to read a noisy curve.
    """
    raw = history.step_loss
    if smooth < 1:
        raise ValueError(f"expected smooth >= 1, got {smooth}")
    starts = range(0, len(raw), smooth)
    losses = [sum(raw[i:i + smooth]) / len(raw[i:i + smooth]) for i in starts]
    xs = [min(i + smooth, len(raw)) for i in starts]  # the step that closes each window
    return plot_curves({label or "training loss": (xs, losses)}, "step", "loss", ax=ax, logy=logy)


def plot_attention(alpha, source, output, ax=None,
                   title: str = r"Attention weights $\alpha_{tj}$"):
    """Heat map of attention weights: row t is output step t, column j is source word j.

    alpha: of shape (T, S), each row summing to 1 (0 white, 1 black); source: the S source
    words; output: the T labels of the rows (the output words, then "<eos>" for the step that
    predicts it). Returns the axis.
    """
    alpha = alpha.detach().cpu().numpy() if hasattr(alpha, "detach") else alpha
    if tuple(alpha.shape) != (len(output), len(source)):
        raise ValueError(f"expected alpha of shape ({len(output)}, {len(source)}) for "
                         f"{len(output)} output and {len(source)} source labels, "
                         f"got {tuple(alpha.shape)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5))
    image = ax.imshow(alpha, cmap="Greys", vmin=0, vmax=1)
    ax.figure.colorbar(image, ax=ax, label=r"attention weight $\alpha_{tj}$")
    ax.set_xticks(range(len(source)), list(source), rotation=60)
    ax.set_yticks(range(len(output)), list(output))
    ax.set_xlabel("source word $j$")
    ax.set_ylabel("output word $t$")
    ax.set_title(title)
    return ax
