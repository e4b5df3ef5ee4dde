"""Shards: one slice of a job that any batch system can run, and the merge of their reports.

    make notebooks SHARD=2/4          # shard 2 of 4: writes build/report-shard-2-of-4.json
    make merge-reports                # build/report-shard-*.json -> build/report.json

Shards are balanced by the seconds each notebook took in an earlier report (build/report.json
by default), longest first onto the least loaded shard (the LPT rule, as the PyTorch tutorials
balance theirs); a notebook with no recorded time counts as the median of the others. Every
shard computes the same split from the same inputs, so N machines can each run one shard
without talking to each other: a GitHub Actions matrix, a Slurm job array
(SLURM_ARRAY_TASK_ID), or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) -- see
launchers/.
"""

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

SHARD = re.compile(r"^(\d+)/(\d+)$")


class ShardError(ValueError):
    """A shard spec or a set of reports that cannot be used; the message says what to do."""


def parse(spec: str) -> tuple[int, int]:
    """'i/N' -> (i, N), with 1 <= i <= N."""
    match = SHARD.match(spec.strip())
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ShardError(f"SHARD must be i/N with 1 <= i <= N (like 2/4), got {spec!r}")
    return int(match.group(1)), int(match.group(2))


def recorded_seconds(report: Path) -> dict[str, float]:
    """notebook -> seconds from an earlier report ({} when there is none or it is unreadable)."""
    try:
        results = json.loads(report.read_text())["results"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {r["notebook"]: float(r["seconds"]) for r in results if r.get("status") == "ok"}


def balance(names: list[str], seconds: dict[str, float], count: int) -> list[list[str]]:
    """Split `names` into `count` shards of about equal total seconds (LPT), each in the order
    of `names`; deterministic for the same inputs."""
    known = [seconds[n] for n in names if n in seconds]
    default = statistics.median(known) if known else 1.0
    cost = {n: seconds.get(n, default) for n in names}
    loads = [0.0] * count
    members: list[set[str]] = [set() for _ in range(count)]
    for name in sorted(names, key=lambda n: (-cost[n], n)):
        k = min(range(count), key=lambda i: (loads[i], i))
        loads[k] += cost[name]
        members[k].add(name)
    return [[n for n in names if n in shard] for shard in members]


def report_name(index: int, count: int) -> str:
    return f"report-shard-{index}-of-{count}.json"


def merge(paths: list[Path]) -> dict:
    """One report from the shards' reports: every shard of one N present once, same mode."""
    if not paths:
        raise ShardError("no shard reports to merge: run `make notebooks SHARD=i/N` first")
    reports = [json.loads(p.read_text()) for p in paths]
    counts = {r.get("shard", {}).get("count") for r in reports}
    if len(counts) != 1 or None in counts:
        raise ShardError(f"expected the reports of one sharded run, got shard counts {counts}")
    (count,) = counts
    indices = sorted(r["shard"]["index"] for r in reports)
    if indices != list(range(1, count + 1)):
        missing = sorted(set(range(1, count + 1)) - set(indices))
        raise ShardError(f"shards {missing} of {count} are missing (or one came twice: "
                         f"{indices}); run them, then merge again")
    for key in ("mode", "device", "seed"):
        values = {r[key] for r in reports}
        if len(values) != 1:
            raise ShardError(f"the shards ran with different {key}: {sorted(map(str, values))}")
    merged = {key: reports[0][key] for key in ("mode", "device", "seed")}
    merged["results"] = [result for r in sorted(reports, key=lambda r: r["shard"]["index"])
                         for result in r["results"]]
    merged["shards"] = count
    return merged


def main(argv: list[str] | None = None) -> int:
    from coursetools.notebooks import Result, format_report

    parser = argparse.ArgumentParser(description="merge the reports of a sharded run")
    parser.add_argument("command", choices=["merge"])
    parser.add_argument("reports", nargs="*", type=Path,
                        help="default: build/report-shard-*.json")
    parser.add_argument("--out", type=Path, default=Path("build") / "report.json")
    args = parser.parse_args(argv)
    paths = args.reports or sorted(args.out.parent.glob("report-shard-*.json"))
    try:
        merged = merge(paths)
    except (ShardError, OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.write_text(json.dumps(merged, indent=2) + "\n")
    print(format_report([Result(**r) for r in merged["results"]], merged["mode"]))
    print(f"merged {len(paths)} shard reports into {args.out}")
    return 1 if any(r["status"] != "ok" for r in merged["results"]) else 0


if __name__ == "__main__":
    sys.exit(main())
