"""Autograding time per submission, for each lab: one worker (the baseline) and JOBS workers.

    make bench-grading [STUDENTS=2] [JOBS=2]
    .venv/bin/python -m bench.grading --students 2 --jobs 2 [--labs lab1_cells ...]

In a fresh copy of the repository (no gradebook), STUDENTS students hand in the solution of
every lab: every test runs to its end, the slowest honest submission. The labs are released
first (timed on their own), then every submission is graded with one worker and again, with
FORCE, by JOBS workers, exactly as `make autograde [JOBS=N] FORCE=1` does. For each run it
prints the seconds each submission took to grade (from autograded/.status/, grading alone,
not the queue), per lab, and the wall time of the whole run: JOBS workers on this machine's
cores against one worker, in the same run. A submission that is not graded fails the bench.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import publish
from coursetools.checkout import fresh_copy
from coursetools.grading import report
from coursetools.grading.gradebook import nbgrader_env
from coursetools.grading.layout import layout
from coursetools.grading.release import source_labs

REPO = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """A grading run of the bench failed; the message says which and where its log is."""


def grading(course: Path, *args: str) -> float:
    """Run `python -m coursetools.grading ARGS` in the course, as make does; its wall seconds."""
    env = {k: v for k, v in nbgrader_env().items()  # the venv's bin/ first on PATH
           if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "coursetools.grading", *args], cwd=course,
                          env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log = course / f"bench-{'-'.join(a.strip('-') for a in args)}.log"
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise BenchError(f"`coursetools.grading {' '.join(args)}` failed (exit "
                         f"{done.returncode}): see {log}\n{(done.stdout + done.stderr)[-2000:]}")
    return seconds


def hand_in(course: Path, labs: list[str], students: int) -> list[str]:
    """Each of `students` students hands in every lab's solution; their names."""
    names = [f"student{k:02d}" for k in range(1, students + 1)]
    for name in names:
        for lab in labs:
            folder = layout(course).submitted / name / lab
            folder.mkdir(parents=True)
            for notebook in (layout(REPO).source / lab).glob("*.ipynb"):
                (folder / notebook.name).write_bytes(notebook.read_bytes())
    return names


def seconds_per_lab(course: Path, labs: list[str], names: list[str]) -> dict[str, list[float]]:
    """The grading seconds of every submission, per lab; BenchError if one was not graded."""
    found = {}
    for lab in labs:
        found[lab] = []
        for name in names:
            status = report.read_status(course, lab, name)
            if status is None or status.status != "graded":
                raise BenchError(f"{name}/{lab} was not graded: "
                                 f"{status.reason if status else 'no status written'}")
            found[lab].append(status.seconds)
    return found


def summary(runs: dict[str, dict], labs: list[str]) -> str:
    """The table: per lab, seconds per submission (mean, min-max) for each run; wall times."""
    names = list(runs)
    lines = [f"{'lab':<16}" + "".join(f"  {name + ' s/submission (mean, min-max)':>40}"
                                       for name in names)]
    for lab in labs:
        cells = []
        for name in names:
            values = runs[name]["seconds"][lab]
            cells.append(f"{statistics.mean(values):7.1f} ({min(values):.1f}-{max(values):.1f},"
                         f" n={len(values)})")
        lines.append(f"{lab:<16}" + "".join(f"  {cell:>40}" for cell in cells))
    base = runs[names[0]]["wall"]
    for name in names:
        wall = runs[name]["wall"]
        lines.append(f"wall, {name}: {wall:.1f} s for {runs[name]['count']} submissions "
                     f"({base / wall:.2f}x the {names[0]} run's throughput)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=2, help="submissions per lab (default 2)")
    parser.add_argument("--jobs", type=int, default=2, help="workers of the second run (default 2)")
    parser.add_argument("--labs", nargs="*", default=None, help="default: every lab")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench" / "grading.json")
    args = parser.parse_args(argv)
    known = source_labs(REPO)
    labs = args.labs or known
    wrong = sorted(set(labs) - set(known))
    if wrong or args.students < 1 or args.jobs < 1:
        parser.error(f"expected --students >= 1, --jobs >= 1 and labs among {', '.join(known)}; "
                     f"got --students {args.students}, --jobs {args.jobs}"
                     + (f", unknown labs {', '.join(wrong)}" if wrong else ""))
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        course = fresh_copy(REPO, Path(tmp) / "course")
        names = hand_in(course, labs, args.students)
        try:
            release = grading(course, "release", *labs)
            print(f"released {', '.join(labs)} in {release:.1f} s (reference checks included)")
            runs = {}
            for jobs in dict.fromkeys((1, args.jobs)):  # one run if --jobs 1
                wall = grading(course, "autograde", "--jobs", str(jobs), "--force", *labs)
                runs[f"JOBS={jobs}"] = {"wall": wall, "count": len(labs) * len(names),
                                        "seconds": seconds_per_lab(course, labs, names)}
                print(f"graded {len(labs) * len(names)} submissions with JOBS={jobs} "
                      f"in {wall:.1f} s")
        except BenchError as error:
            print(f"bench failed: {error}", file=sys.stderr)
            return 1
    publish(f"autograding, {args.students} solution(s) per lab", summary(runs, labs),
            {"release_seconds": release, "students": args.students, "runs": runs}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
