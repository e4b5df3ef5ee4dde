"""rnn_lib's from-scratch RNN, LSTM and GRU layers against torch.nn's, on the same weights.

    make bench-layers
    .venv/bin/python -m bench.layers [--sizes 32x50x64 64x100x256] [--threads 1]

For each layer and each size NxTxH (batch, steps, hidden size = input size), it times the
forward pass (no gradient) and forward + backward of a one-layer layer, torch.nn's (the
baseline, PyTorch's C++ loop over steps) and rnn_lib's (a Python loop over steps, the input
projection of all steps computed before it in one product), with torch.utils.benchmark on
`--threads` CPU threads. It also times the lecture's plain loop, which calls the cell function
(`lstm_cell`, ...) at every step: the difference is what the one-product input projection buys.
It prints the milliseconds and the ratios to torch.nn and writes them to build/bench/layers.json.
"""

import argparse
import re
import sys
from pathlib import Path

import torch
from torch.utils import benchmark

from bench import publish
from rnn_lib import cells, layers

REPO = Path(__file__).resolve().parent.parent
KINDS = ("RNN", "LSTM", "GRU")
CELL_FUNCTIONS = {"RNN": cells.rnn_cell, "LSTM": cells.lstm_cell, "GRU": cells.gru_cell}
SIZE = re.compile(r"^(\d+)x(\d+)x(\d+)$")
DEFAULT_SIZES = ("32x50x64", "64x100x256", "8x200x128")


def per_step_cells(kind: str, layer: layers._Layer):
    """The lecture's loop: the cell function at every step, its input product included."""
    cell, weights = CELL_FUNCTIONS[kind], layer.weights(0, 0)

    def run(x):  # x: (T, N, H_in)
        h = x.new_zeros(x.size(1), layer.hidden_size)
        state = (h, h.clone()) if kind == "LSTM" else h
        outputs = []
        for x_t in x.unbind(0):
            state = cell(x_t, *state, *weights) if kind == "LSTM" else cell(x_t, state, *weights)
            outputs.append(state[0] if kind == "LSTM" else state)
        return torch.stack(outputs)

    return run


def _time(fn, x, backward: bool, threads: int, min_run_time: float) -> float:
    """Median milliseconds of fn(x) (and of the backward pass of its sum, if asked)."""
    def step():
        if backward:
            out = fn(x)
            (out[0] if isinstance(out, tuple) else out).sum().backward()
        else:
            with torch.no_grad():
                fn(x)

    timer = benchmark.Timer(stmt="step()", globals={"step": step}, num_threads=threads)
    return timer.blocked_autorange(min_run_time=min_run_time).median * 1e3


def measure(kind: str, n: int, t: int, h: int, threads: int, min_run_time: float) -> dict:
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(h, h)
    ours = getattr(layers, kind)(h, h)
    ours.load_state_dict(theirs.state_dict())  # the same weights
    x = torch.randn(t, n, h, requires_grad=True)
    loop = per_step_cells(kind, ours)
    assert torch.allclose(ours(x)[0], theirs(x)[0], atol=1e-5), "rnn_lib differs from torch"
    assert torch.allclose(loop(x), theirs(x)[0], atol=1e-5), "the loop differs from torch"
    row = {"kind": kind, "N": n, "T": t, "H": h}
    for mode, backward in (("forward", False), ("forward+backward", True)):
        base = _time(theirs, x, backward, threads, min_run_time)
        lib = _time(ours, x, backward, threads, min_run_time)
        cell = _time(loop, x, backward, threads, min_run_time)
        row[mode] = {"torch_ms": round(base, 3), "rnn_lib_ms": round(lib, 3),
                     "per_step_cells_ms": round(cell, 3), "ratio": round(lib / base, 2),
                     "per_step_ratio": round(cell / base, 2)}
    return row


def table(rows: list[dict]) -> str:
    lines = [f"{'layer':5} {'N x T x H':>12}  {'mode':16} {'torch.nn':>9} {'rnn_lib':>9} "
             f"{'ratio':>6}  {'per-step cells':>14} {'ratio':>6}"]
    for row in rows:
        for mode in ("forward", "forward+backward"):
            m = row[mode]
            size = f"{row['N']}x{row['T']}x{row['H']}"
            lines.append(f"{row['kind']:5} {size:>12}  {mode:16} {m['torch_ms']:7.2f}ms "
                         f"{m['rnn_lib_ms']:7.2f}ms {m['ratio']:5.2f}x  "
                         f"{m['per_step_cells_ms']:12.2f}ms {m['per_step_ratio']:5.2f}x")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=list(DEFAULT_SIZES),
                        help="NxTxH: batch, steps, hidden size (default: %(default)s)")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), help="RNN LSTM GRU")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch CPU threads")
    parser.add_argument("--min-run-time", type=float, default=1.0,
                        help="seconds of timing per figure (default 1)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench" / "layers.json")
    args = parser.parse_args(argv)
    sizes = [SIZE.match(s) for s in args.sizes]
    wrong = [s for s, m in zip(args.sizes, sizes, strict=True) if not m]
    unknown = sorted(set(args.kinds) - set(KINDS))
    if wrong or unknown or args.threads < 1 or args.min_run_time <= 0:
        parser.error(f"expected sizes NxTxH (like 32x50x64), layers among {', '.join(KINDS)}, "
                     f"--threads >= 1 and --min-run-time > 0; got sizes {' '.join(args.sizes)}, "
                     f"layers {' '.join(args.kinds)}, --threads {args.threads}, "
                     f"--min-run-time {args.min_run_time}")
    rows = []
    for kind in args.kinds:
        for m in sizes:
            n, t, h = (int(g) for g in m.groups())
            rows.append(measure(kind, n, t, h, args.threads, args.min_run_time))
            print(f"measured {kind} {n}x{t}x{h}", flush=True)
    publish(f"one-layer RNN layers, {args.threads} thread(s), median of torch.utils.benchmark, "
            f"torch {torch.__version__}", table(rows),
            {"threads": args.threads, "torch": torch.__version__, "rows": rows}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
