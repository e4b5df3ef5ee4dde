"""The time to execute every notebook in quick mode: one at a time (the baseline), then JOBS.

    make bench-notebooks [JOBS=2] [NB=...]
    .venv/bin/python -m bench.notebooks --jobs 2 [NOTEBOOK ...]

Each run executes the notebooks with the course's runner (coursetools.notebooks.run_all,
papermill, one PyTorch thread per notebook, device cpu) into a temporary folder, exactly as
`make notebooks` does. It prints each notebook's seconds in both runs, their sum, and each
run's wall time, and writes them to build/bench/notebooks.json. A notebook that fails fails
the bench.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench import publish
from coursetools.notebooks import discover, run_all

REPO = Path(__file__).resolve().parent.parent


def timed_run(notebooks: list[Path], jobs: int, mode: str) -> dict:
    """{"wall": seconds, "seconds": {notebook: seconds}} of one run of `notebooks`."""
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as out:
        start = time.perf_counter()
        results = run_all(notebooks, Path(out), jobs=jobs, threads=1, mode=mode, device="cpu")
        wall = time.perf_counter() - start
    failed = [f"{r.notebook}: {r.error}" for r in results if r.status != "ok"]
    if failed:
        raise RuntimeError("notebooks failed, so their times mean nothing:\n" + "\n".join(failed))
    return {"wall": round(wall, 1), "seconds": {r.notebook: r.seconds for r in results}}


def table(runs: dict) -> str:
    names = list(next(iter(runs.values()))["seconds"])
    width = max(len(n) for n in names + ["notebook"])
    lines = [f"{'notebook':{width}}  " + "  ".join(f"{label:>9}" for label in runs)]
    for name in names:
        lines.append(f"{name:{width}}  "
                     + "  ".join(f"{run['seconds'][name]:8.1f}s" for run in runs.values()))
    lines.append(f"{'sum of notebook times':{width}}  "
                 + "  ".join(f"{sum(run['seconds'].values()):8.1f}s" for run in runs.values()))
    lines.append(f"{'wall time of the run':{width}}  "
                 + "  ".join(f"{run['wall']:8.1f}s" for run in runs.values()))
    if len(runs) == 2:
        (_, one), (label, many) = runs.items()
        lines.append(f"{label}: {one['wall'] / many['wall']:.2f}x the throughput of one at a "
                     f"time; the notebooks' own seconds sum to "
                     f"{sum(many['seconds'].values()) / sum(one['seconds'].values()):.2f}x")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks at once, second run")
    parser.add_argument("--mode", default="quick", choices=["quick", "full"])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench" / "notebooks.json")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or discover()
    missing = [str(p) for p in notebooks if not p.is_file()]
    if args.jobs < 1 or missing:
        parser.error(f"expected --jobs >= 1 and notebook files; got --jobs {args.jobs}"
                     + (f", missing {', '.join(missing)}" if missing else ""))
    runs = {}
    try:
        for jobs in dict.fromkeys((1, args.jobs)):  # one run if --jobs 1
            runs[f"JOBS={jobs}"] = timed_run(notebooks, jobs, args.mode)
            print(f"ran {len(notebooks)} notebooks with JOBS={jobs} in "
                  f"{runs[f'JOBS={jobs}']['wall']:.1f} s", flush=True)
    except RuntimeError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 1
    publish(f"{args.mode} mode, device cpu, one PyTorch thread per notebook", table(runs),
            {"mode": args.mode, "runs": runs}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
