"""Looking inside a character model: which hidden units track which features of the text.

Karpathy, Johnson & Fei-Fei (2015) found LSTM cells that switch on inside quotes, count
characters along a line, or follow bracket depth. Lecture 07 repeats the experiment on its own
model: `trace_states` reads the top layer's state after every character of a passage,
`text_features` computes simple per-character features of the passage, `correlate` ranks the
units by how closely they follow a feature, `assign_units` matches each feature with its own
unit, `busiest_window` finds a stretch of text where the features change, and
`plot_text_activation` draws one unit's value behind the text.

Letters used in shapes: T = passage length, H = hidden size.
"""

from collections.abc import Sequence

import torch

from rnn_lib.charlm import CharRNN, as_ids
from rnn_lib.training import in_eval_mode, model_device


@torch.no_grad()
@in_eval_mode
def trace_states(model: CharRNN, ids: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """The top layer's state after every character of a passage, read one step at a time.

    For an LSTM this is the cell state c (which Karpathy et al. 2015 found the most readable),
    otherwise the hidden state h. Returns a tensor of shape (T, H).
    """
    ids = as_ids(ids)
    device = model_device(model)
    state, rows = None, []
    for t in range(ids.numel()):
        _, state = model(ids[t].view(1, 1).to(device), state)
        top = state[1] if isinstance(state, tuple) else state  # (L, 1, H)
        rows.append(top[-1, 0].cpu())
    return torch.stack(rows)  # (T, H)


def text_features(text: str) -> dict[str, torch.Tensor]:
    """Simple per-character features of a text, to look for units that track them.

    Returns a dict of float tensors of shape (T,), one value per character of `text`:
        "in quotes"   1 between an opening and a closing double quote (quotes included)
        "line start"  1 for the first character of a line (right after a newline)
        "column"      position in the line (0, 1, 2, ...; a newline resets it)
        "in parens"   1 inside round brackets (nesting counted, brackets included)
        "indented"    1 on lines that start with a space (code examples in the help text)
    """
    in_quotes, line_start, column, in_parens, indented = [], [], [], [], []
    quoted, depth, col, line_indented = False, 0, 0, text[:1] == " "
    for ch in text:
        if ch == '"':
            quoted = not quoted
        depth += ch == "("
        if col == 0:
            line_indented = ch == " "
        in_quotes.append(float(quoted or ch == '"'))
        line_start.append(float(col == 0))
        column.append(float(col))
        in_parens.append(float(depth > 0))
        indented.append(float(line_indented))
        depth = max(depth - (ch == ")"), 0)
        col = 0 if ch == "\n" else col + 1
    names = ("in quotes", "line start", "column", "in parens", "indented")
    values = (in_quotes, line_start, column, in_parens, indented)
    return {name: torch.tensor(v) for name, v in zip(names, values, strict=True)}


def correlate(activations: torch.Tensor, feature: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of every unit's activation with a per-character feature.

    Inputs:
        - activations: of shape (T, H).
        - feature: of shape (T,), e.g. 1.0 inside quotes and 0.0 outside.
    Returns: correlations of shape (H,), in [-1, 1] (0 for a constant unit).
    """
    a = activations.double() - activations.double().mean(0)  # (T, H)
    f = feature.double().flatten() - feature.double().mean()  # (T,)
    if f.numel() != a.size(0):
        raise ValueError(f"expected a feature of length {a.size(0)}, got {f.numel()}")
    denom = a.norm(dim=0) * f.norm()
    return torch.where(denom > 0, (f @ a) / denom.clamp_min(1e-12), torch.zeros_like(denom))


def assign_units(activations: torch.Tensor, features: dict[str, torch.Tensor]
                 ) -> dict[str, tuple[int, float]]:
    """Match every feature with a different unit, strongest correlations first.

    Repeatedly takes the (feature, unit) pair of largest |correlation| among the features not
    yet matched and the units not yet used, so no unit is shown twice (one unit that tracks
    "line start" and "column" alike would otherwise answer for both).

    Inputs:
        - activations: of shape (T, H), H >= the number of features.
        - features: name -> tensor of shape (T,).
    Returns: name -> (unit, correlation), in the order of `features`.
    """
    if activations.size(1) < len(features):
        raise ValueError(f"expected at least {len(features)} units, got {activations.size(1)}")
    names = list(features)
    r = torch.stack([correlate(activations, features[n]) for n in names])  # (F, H)
    score = r.abs().clone()
    chosen = {}
    for _ in names:
        flat = int(score.argmax())
        f, unit = divmod(flat, score.size(1))
        chosen[names[f]] = (unit, float(r[f, unit]))
        score[f, :] = -1.0  # this feature is matched
        score[:, unit] = -1.0  # and this unit is taken
    return {n: chosen[n] for n in names}


def busiest_window(text: str, features: dict[str, torch.Tensor], length: int) -> int:
    """Where a window of `length` characters, starting at a line, shows every feature vary most.

    Scores each candidate start (0 and every line start) by the sum over features of the
    feature's standard deviation inside the window, divided by its standard deviation over the
    whole text: a feature that is constant in the window (no quote at all, say) adds nothing.
    Returns the best start.
    """
    T = len(text)
    if not 0 < length <= T:
        raise ValueError(f"expected 0 < length <= {T}, got {length}")
    starts = torch.tensor([0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"
                                 and i + 1 + length <= T])  # (S,)
    score = torch.zeros(starts.numel(), dtype=torch.float64)
    for f in features.values():
        f = f.double()
        if f.numel() != T:
            raise ValueError(f"expected features of length {T}, got {f.numel()}")
        overall = f.std()
        if overall == 0:
            continue
        c1 = torch.cat([torch.zeros(1, dtype=f.dtype), f.cumsum(0)])  # window sums by difference
        c2 = torch.cat([torch.zeros(1, dtype=f.dtype), (f * f).cumsum(0)])
        mean = (c1[starts + length] - c1[starts]) / length
        var = ((c2[starts + length] - c2[starts]) / length - mean**2).clamp_min(0)
        score += var.sqrt() / overall
    return int(starts[score.argmax()])


def plot_text_activation(text: str, values, ax, *, width: int = 80, cmap: str = "coolwarm",
                         title: str | None = None):
    """Draw a passage as coloured text: each character's cell is coloured by one unit's value.

    Values are expected in [-1, 1] (e.g. tanh of a cell state). Newlines start a new row and are
    drawn as a return sign so that their colour is visible too.
    """
    import numpy as np  # plotting only when asked for

    cells = []  # (row, col, char, value)
    row = col = 0
    for ch, v in zip(text, values, strict=True):
        cells.append((row, col, "\u23ce" if ch == "\n" else ch, float(v)))
        col += 1
        if ch == "\n" or col >= width:
            row, col = row + 1, 0
    grid = np.full((cells[-1][0] + 1, width), np.nan)
    for r, c, _, v in cells:
        grid[r, c] = v
    ax.imshow(grid, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")  # square cells
    for r, c, ch, _ in cells:
        ax.text(c, r, ch, family="monospace", fontsize=7, ha="center", va="center")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, loc="left", fontsize=9)
