"""Run the notebooks over several seeds and thread counts: does each lesson hold everywhere?

    python -m coursetools.robustness [--seeds 0 1 2] [--threads 1 2] [--jobs N] [--mode quick]
                                     [--out build/robustness] [NOTEBOOK ...]

A training outcome that holds for one seed, or only with the BLAS kernels of one CPU, is not a
lesson a student on a laptop will see. This runs the notebook runner (`coursetools.notebooks`)
once per (seed, threads) pair, each into its own folder under --out, and prints one table:
notebook x seed x threads, the status, the seconds and the figures the notebook reported
(`rnn_lib.runtime.report`), then each figure's range over the runs. The table is also written
to <out>/report.json. Exit status 1 when any run failed, 2 for bad arguments.

Notebooks run `--jobs` at a time, but never with more threads in all than there are cores:
oversubscribed cores slow these small models tenfold.
"""

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from coursetools.notebooks import (
    ROOT,
    Result,
    UsageError,
    _relative,
    check_kernel,
    check_mode,
    chosen_notebooks,
    format_figures,
    run_all,
    text_table,
)


def run_matrix(notebooks: list[Path], out_dir: Path, seeds: list[int], threads: list[int], *,
               jobs: int = 2, **kwargs) -> list[Result]:
    """Every notebook for every (threads, seed) pair; results grouped by notebook."""
    cores = os.cpu_count() or 1
    results = []
    for t in threads:
        for seed in seeds:
            at_once = max(1, min(jobs, cores // t))
            print(f"== seed {seed}, {t} thread(s) per notebook, {at_once} at a time", flush=True)
            results += run_all(notebooks, out_dir / f"seed{seed}-threads{t}", jobs=at_once,
                               threads=t, seed=seed, **kwargs)
    order = {_relative(nb): i for i, nb in enumerate(notebooks)}
    return sorted(results, key=lambda r: (order.get(r.notebook, 0), r.seed, r.threads or 0))


def _spread(values: list[str]) -> str:
    """'min .. max' of numeric values, or the distinct values when they are not numbers."""
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        return " | ".join(dict.fromkeys(values))
    low, high = min(numbers), max(numbers)
    return f"{low:.4g}" if low == high else f"{low:.4g} .. {high:.4g}"


def format_matrix(results: list[Result]) -> str:
    """The table: one row per run, then each notebook's figures as ranges over its runs."""
    lines = text_table(["notebook", "seed", "threads", "status", "seconds", "figures"],
                       [[r.notebook, str(r.seed), str(r.threads or "-"), r.status,
                         f"{r.seconds:.1f}", format_figures(r.figures)] for r in results],
                       right={1, 2, 4})
    lines += ["", "each figure over all runs of its notebook (min .. max):"]
    by_notebook: dict[str, list[Result]] = {}
    for r in results:
        by_notebook.setdefault(r.notebook, []).append(r)
    for name, runs in by_notebook.items():
        ok = sum(r.status == "ok" for r in runs)
        figures: dict[str, list[str]] = {}
        for r in runs:
            for key, value in r.figures.items():
                figures.setdefault(key, []).append(value)
        slowest = max(r.seconds for r in runs)
        spread = ", ".join(f"{k}={_spread(v)}" for k, v in figures.items())
        lines.append(f"  {name}: {ok}/{len(runs)} ok, slowest {slowest:.0f} s; {spread}")
    failed = [r for r in results if r.status != "ok"]
    lines.append(f"{len(results) - len(failed)} of {len(results)} runs ok")
    for r in failed:
        lines.append(f"FAILED {r.notebook} (seed {r.seed}, threads {r.threads}): {r.error}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook")
    parser.add_argument("--seeds", nargs="+", default=["0", "1", "2"])
    parser.add_argument("--threads", nargs="+", default=["1", "2"])
    parser.add_argument("--jobs", type=int, default=2, help="notebooks at once (at most)")
    parser.add_argument("--mode", default="quick", help="quick (default) or full")
    parser.add_argument("--device", default="cpu", help="cpu (default), auto or cuda")
    parser.add_argument("--kernel", default="rnn-course")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "robustness")
    args = parser.parse_args(argv)
    try:
        check_mode(args.mode)
        seeds = _integers("SEEDS", args.seeds, minimum=0)
        threads = _integers("THREADS", args.threads, minimum=1)
        if args.jobs < 1:
            raise UsageError(f"JOBS must be at least 1, got {args.jobs}")
        check_kernel(args.kernel)
        notebooks = chosen_notebooks(args.notebooks)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = run_matrix(notebooks, args.out, seeds, threads, jobs=args.jobs, mode=args.mode,
                         device=args.device, kernel=args.kernel)
    table = format_matrix(results)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(
        {"mode": args.mode, "seeds": seeds, "threads": threads,
         "results": [asdict(r) for r in results]}, indent=2) + "\n")
    (args.out / "report.txt").write_text(table + "\n")
    print(f"report written to {_relative(args.out / 'report.json')} and report.txt")
    return 1 if any(r.status != "ok" for r in results) else 0


def _integers(name: str, raw: list[str], minimum: int) -> list[int]:
    values = []
    for item in " ".join(raw).split():
        if not item.isdigit() or int(item) < minimum:
            raise UsageError(f"{name} must be integers >= {minimum}, separated by spaces, "
                             f"got {item!r}")
        values.append(int(item))
    if not values:
        raise UsageError(f"{name} is empty: give at least one value, for example {name}=\"1 2\"")
    return values


if __name__ == "__main__":
    sys.exit(main())
