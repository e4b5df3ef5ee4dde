"""The executed copies in build/ that slides and the site are made from, run only when stale."""

import fcntl
import json
from contextlib import contextmanager
from pathlib import Path

from coursetools.notebooks import (
    Result,
    executed_path,
    format_report,
    recorded,
    run_all,
    run_one,
)


def _failed(executed: Path) -> bool:
    try:
        nb = json.loads(executed.read_text())
    except (OSError, ValueError):
        return True
    return bool(nb.get("metadata", {}).get("papermill", {}).get("exception"))


def stale(sources: list[Path], build: Path) -> list[Path]:
    """The sources whose executed copy is missing, failed, or older than the source."""
    out = []
    for source in sources:
        executed = executed_path(source, build)
        if (not executed.is_file() or executed.stat().st_mtime < source.stat().st_mtime
                or _failed(executed)):
            out.append(source)
    return out


@contextmanager
def claimed(path: Path):
    """An exclusive lock on one output (an executed copy): another process that wants it
    waits until the block ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def run_once(source: Path, build: Path, **run_kwargs) -> Result:
    """Run `source` into `build` unless a fresh copy is there: processes that share `build`
    (the test workers) run each notebook once, the others read the Result back from it."""
    out = executed_path(source, build)
    with claimed(out):
        if stale([source], build):
            return run_one(source, out, **run_kwargs)
        return recorded(source, out)


def ensure(sources: list[Path], build: Path, *, jobs: int = 2, **run_kwargs) -> list[Path]:
    """Executed copies of `sources`, running the stale ones first (quick mode by default).

    With jobs=1 each notebook is run under a lock (run_once), so that processes sharing
    `build` do not run one twice. Raises RuntimeError, naming the notebook and its failing
    cell, when one of them fails: a deck or a page is never made from a notebook that did
    not run.
    """
    todo = stale(sources, build)
    if todo:
        print(f"{len(todo)} of {len(sources)} notebooks are missing from {build} or older than "
              "their sources: running them first (make notebooks)", flush=True)
        if jobs > 1:
            results = run_all(todo, build, jobs=jobs, **run_kwargs)
        else:
            results = [run_once(s, build, **run_kwargs) for s in todo]
        failed = [r for r in results if r.status != "ok"]
        if failed:
            raise RuntimeError(format_report(results, run_kwargs.get("mode", "quick")))
    return [executed_path(s, build) for s in sources]
