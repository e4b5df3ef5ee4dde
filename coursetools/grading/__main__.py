"""Command line: python -m coursetools.grading {release,collect,autograde,grades,check-sandbox}."""

import argparse
import sys
from pathlib import Path

from coursetools.shards import ShardError, parse

from .autograde import AutogradeError, autograde, merge_grades, write_grades
from .collect import CollectError, collect
from .gradebook import GradebookError, put_tools_on_path
from .layout import load_config
from .release import ReleaseError, release
from .sandbox import Sandbox, SandboxError, check_sandbox


def _size(text: str) -> int:
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    text = text.strip().upper().removesuffix("B")
    return int(float(text[:-1]) * units[text[-1]]) if text[-1:] in units else int(text)


def shard_spec(text: str) -> tuple[int, int]:
    try:
        return parse(text)
    except ShardError as err:
        raise AutogradeError(str(err)) from None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursetools.grading",
                                     description="Release, collect and autograde the labs.")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course root (cwd)")
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="regenerate labs/ and the gradebook from solutions/")
    rel.add_argument("labs", nargs="*")
    col = sub.add_parser("collect", help="unpack a zip of submissions into submitted/")
    col.add_argument("archive", type=Path)
    col.add_argument("--lab", help="the lab, when the zip holds <student>/<file> entries")
    col.add_argument("--force", action="store_true", help="replace existing submissions")
    auto = sub.add_parser("autograde", help="grade submitted/ in the sandbox")
    auto.add_argument("labs", nargs="*")
    auto.add_argument("--student", action="append", help="only this student (repeatable)")
    auto.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    auto.add_argument("--force", action="store_true", help="re-grade unchanged submissions")
    auto.add_argument("--cell-timeout", type=int, help="seconds per cell (Execute.timeout)")
    auto.add_argument("--wall", type=int, help="seconds per notebook (Sandbox.wall_seconds)")
    auto.add_argument("--memory", type=_size, help="kernel memory, e.g. 4G (Sandbox.memory)")
    auto.add_argument("--cpu", type=int, help="CPU seconds per kernel process "
                                              "(Sandbox.cpu_seconds)")
    auto.add_argument("--shard", help="i/N: only shard i of N of the students, into its own "
                                      "gradebook copy and grades file (then merge-grades)")
    auto.add_argument("--no-sandbox", action="store_true",
                      help="run kernels unconfined: only for notebooks you trust")
    sub.add_parser("merge-grades", help="after autograde --shard i/N for i = 1..N: one "
                                        "gradebook, grades.csv and summary")
    sub.add_parser("check-sandbox", help="check that bubblewrap works on this machine")
    sub.add_parser("grades", help="feedback and grades.csv again from the gradebook, after "
                                  "manual grading in Formgrader (grades nothing)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    put_tools_on_path()  # nbgrader runs `alembic` and friends from PATH
    try:
        if args.command == "release":
            release(root, args.labs or None, quiet=False)
        elif args.command == "collect":
            collect(root, args.archive, args.lab, args.force)
        elif args.command == "grades":
            write_grades(root)
        elif args.command == "merge-grades":
            merge_grades(root)
        elif args.command == "check-sandbox":
            sandbox = Sandbox(config=load_config(root))  # the sandbox grading will use
            check_sandbox(sandbox)
            print("the sandbox works: bwrap can run a kernel here, with (c.Sandbox.*)")
            for name, value in sandbox.limits().items():
                print(f"  {name:<18} {value!r}")
        else:
            overrides = {}
            if args.cell_timeout:
                overrides["Execute.timeout"] = args.cell_timeout
            if args.wall:
                overrides["Sandbox.wall_seconds"] = args.wall
            if args.cpu is not None:
                overrides["Sandbox.cpu_seconds"] = args.cpu
            if args.memory is not None:
                overrides["Sandbox.memory"] = args.memory
            if args.no_sandbox:
                overrides["Sandbox.enabled"] = False
                print("WARNING: --no-sandbox: student code runs with your permissions",
                      file=sys.stderr)
            # Submissions that could not be graded are in the summary and grades.csv: the
            # run itself succeeded, so the exit status stays 0.
            autograde(root, args.labs or None, args.student, args.jobs, args.force, overrides,
                      shard=shard_spec(args.shard) if args.shard else None)
    except (ReleaseError, CollectError, SandboxError, GradebookError, AutogradeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
