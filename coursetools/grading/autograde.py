"""Autograde every submission under `submitted/<student>/<lab>/`, each on its own.

    python -m coursetools.grading autograde [--jobs N] [--force] [--student S ...] [LAB ...]
        [--cell-timeout S] [--wall S] [--memory BYTES] [--no-sandbox]

For each submission: check that its notebooks are valid JSON notebooks, then have a worker
process (worker.py: nbgrader autograde + generate_feedback, the kernel in the sandbox) grade it
under a time limit; record the outcome in autograded/.status/; finally write grades.csv and
print the summary. A submission whose files did not change since it was last graded is
skipped unless --force. A failing submission never stops the others; `--jobs N` grades N at a time,
each worker taking the next submission from one shared queue.
"""

import hashlib
import json
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from . import report, shards
from .checks import reference_path
from .gradebook import gradebook_url, nbgrader_env
from .layout import layout, load_config
from .release import references, release, source_labs
from .sandbox import Sandbox, SandboxError, check_sandbox
from .worker import feedback

GRACE_SECONDS = 300  # beyond the sandbox's wall clock, before a worker is killed
LOCKED = "database is locked"


def digest(folder: Path) -> str:
    """sha256 over the submission's file names and contents."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def find_submissions(root: Path, labs: list[str], students: list[str] | None):
    """(student, lab) for every submitted/<student>/<lab>/ folder of a known lab."""
    found, unknown = [], []
    base = layout(root).submitted
    for student_dir in sorted(base.iterdir()) if base.is_dir() else []:
        if not student_dir.is_dir() or student_dir.name.startswith("."):
            continue
        if students and student_dir.name not in students:
            continue
        for lab_dir in sorted(student_dir.iterdir()):
            if lab_dir.is_dir() and lab_dir.name in labs:
                found.append((student_dir.name, lab_dir.name))
            elif lab_dir.is_dir() and not lab_dir.name.startswith("."):
                unknown.append(f"{student_dir.name}/{lab_dir.name}")
    return found, unknown


class AutogradeError(ValueError):
    """The command cannot run as given (an unknown student); the message says what to do."""


def notebook_names(root: Path, student: str, lab: str) -> tuple[str, list[str]]:
    """(why the submission cannot be graded or "", notebooks in it that are not graded).

    nbgrader grades only the lab's own notebook names: a renamed notebook would fail with
    "No notebooks found" and an extra one would be passed over without a word.
    """
    folders = layout(root)
    expected, folder = lab_notebooks(root, lab), folders.submitted / student / lab
    found = sorted(p.name for p in folder.glob("*.ipynb"))
    folder = Path(folders.rel(folder))  # as the TA types it in the course root
    extra = [name for name in found if name not in expected]
    if any(name in found for name in expected):
        return "", extra
    problem = f"expected {', '.join(expected)}, found {', '.join(found) or 'no notebook'}"
    if len(found) == 1:
        problem += (f": rename it (mv {folder / found[0]} {folder / expected[0]}) "
                    "and run make autograde again")
    elif found:
        problem += f": rename the one to grade to {expected[0]} and run make autograde again"
    return problem, extra


def invalid_notebook(folder: Path, lab_notebooks: list[str]) -> str:
    """Why a submitted notebook cannot be graded (not JSON, not a notebook), or ""."""
    for name in lab_notebooks:
        path = folder / name
        if not path.exists():
            continue  # nbgrader gives a missing notebook zero points
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            return f"{name} is not valid JSON ({err})"
        try:
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
        except Exception as err:  # noqa: BLE001 - nbformat raises several kinds
            return f"{name} is not a valid notebook ({str(err).splitlines()[0][:200]})"
    return ""


class _Worker:
    """A worker process that grades one submission at a time, as the driver hands them out on
    its stdin ("LAB:STUDENT" lines); after the k-th it writes RESULTS/<k>.json."""

    def __init__(self, root: Path, overrides: dict, log: Path):
        self.sent = self.done = 0
        self.results = Path(tempfile.mkdtemp(prefix="nbg-results-"))
        cmd = [sys.executable, "-m", "coursetools.grading.worker", str(root), str(self.results),
               "-", "--overrides", json.dumps(overrides)]
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as handle:
            self.process = subprocess.Popen(cmd, cwd=root, env=nbgrader_env(), stdout=handle,
                                            stderr=subprocess.STDOUT, stdin=subprocess.PIPE,
                                            text=True)

    def send(self, item) -> None:
        student, lab = item[:2]
        self.process.stdin.write(f"{lab}:{student}\n")
        self.process.stdin.flush()
        self.sent += 1
        self.since = time.monotonic()

    def wait(self, limit: float | None) -> dict:
        """The result of the submission sent last; a failed result if the worker died or ran
        past `limit` seconds (then the worker is stopped: start a new one)."""
        path = self.results / f"{self.sent - 1}.json"
        while not path.exists():
            if self.process.poll() is not None and not path.exists():
                return self._failed(f"the grader process exited with status "
                                    f"{self.process.returncode}")
            if limit and time.monotonic() - self.since > limit:
                return self._failed(f"the grader itself ran past {limit:.0f} s and was stopped")
            time.sleep(0.2)
        self.done += 1
        return json.loads(path.read_text())

    def _failed(self, reason: str) -> dict:
        seconds = round(time.monotonic() - self.since, 1)
        self.stop()
        return {"ok": False, "error": reason, "seconds": seconds}

    def stop(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.close()  # the worker ends after its current submission
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
        self.process.wait()
        shutil.rmtree(self.results, ignore_errors=True)


def grade_all(root: Path, todo: queue.SimpleQueue, overrides: dict, limit: float | None,
              log: Path, record) -> None:
    """Take submissions from the shared queue `todo` until it is empty and grade each in this
    thread's worker process; call record(item, result) with the worker's result {"ok",
    "error", "seconds"} (seconds of grading alone, not of waiting). A worker that dies or hangs
    is replaced; a submission that met a locked gradebook goes back in the queue (twice)."""
    worker = None
    try:
        while True:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            if worker is None or worker.process.poll() is not None:
                worker = _Worker(root, overrides, log)
            worker.send(item)
            result = worker.wait(limit)
            retries = item[-1]
            if LOCKED in result["error"] and retries < 2:
                todo.put((*item[:-1], retries + 1))  # SQLite was busy with another worker
            else:
                record(item[:-1], result)
    finally:
        if worker is not None:
            worker.stop()


def autograde(root: Path, labs: list[str] | None = None, students: list[str] | None = None,
              jobs: int = 1, force: bool = False, overrides: dict | None = None,
              out=print, shard: tuple[int, int] | None = None) -> list[dict]:
    """Grade the submissions; write grades.csv; return its rows.

    shard=(i, N): only the students of shard i of N, against the shard's own copy of the
    gradebook, into grades-shard-i-of-N.csv (shards.py; `merge-grades` joins the shards)."""
    root = Path(root).resolve()
    overrides = dict(overrides or {})
    config = load_config(root, overrides)
    folders = layout(root, config)
    if shard is None:
        _refuse_unmerged_shards(folders)
    sandbox = Sandbox(config=config)
    if sandbox.enabled:
        check_sandbox(sandbox)  # raises SandboxError with what to install
    known = source_labs(root)
    labs = labs or known
    db_url, course_id = gradebook_url(config, root)
    missing = sorted(set(labs) - set(report.max_scores(db_url, course_id)))
    if shard and missing:
        raise AutogradeError(f"{', '.join(missing)} not released yet: run `make release` "
                             "once before the sharded runs (they share its gradebook)")
    if missing:
        out(f"not in the gradebook yet, releasing first: {', '.join(missing)}")
        release(root, missing)
    for lab in sorted(set(labs) - set(missing)):
        if not all(reference_path(root, lab, name).is_file() for name in lab_notebooks(root, lab)):
            if shard:
                raise AutogradeError(f"no reference checks for {lab}: run `make release "
                                     f"LABS={lab}` once before the sharded runs")
            out(f"no reference checks for {lab} yet, computing them")
            references(root, lab)
    submissions, unknown = find_submissions(root, labs, students)
    absent = sorted(set(students or ()) - {student for student, _ in submissions})
    if absent:
        there = sorted({p.name for p in folders.submitted.glob("*/") if p.is_dir()})
        raise AutogradeError(
            f"no submission of student {', '.join(absent)} in "
            f"{folders.rel(folders.submitted)}/ for "
            f"{', '.join(labs)} (students there: {', '.join(there) or 'none'}): check the "
            "name given with STUDENT= (or --student)")
    if shard:
        everyone = sorted(p.name for p in folders.submitted.iterdir()
                          if p.is_dir() and not p.name.startswith("."))
        mine = shards.students_of(everyone, *shard)
        submissions = [item for item in submissions if item[0] in mine]
        unknown = [name for name in unknown if name.split("/")[0] in mine]
        db = shards.prepare(folders, Path(db_url.removeprefix("sqlite:///")), course_id,
                            *shard, mine)
        db_url = shards.sqlite_url(db)
        overrides["CourseDirectory.db_url"] = db_url  # the workers grade into the copy
        out(f"shard {shard[0]}/{shard[1]}: {len(mine)} of {len(everyone)} student(s), "
            f"gradebook {folders.rel(db)}")
    for name in unknown:
        out(f"skipped {folders.rel(folders.submitted / name)}: not a lab of "
            f"{folders.rel(folders.source)}/ ({', '.join(known)})")

    todo = []
    for student, lab in submissions:
        folder = folders.submitted / student / lab
        previous = report.read_status(root, lab, student)
        current = digest(folder)
        if previous and previous.status == "graded" and previous.digest == current and not force:
            continue
        todo.append((student, lab, current, previous))
    out(f"grading {len(todo)} submission(s) with {jobs} worker(s); "
        f"{len(submissions) - len(todo)} unchanged since last time")

    def record(item, result):
        student, lab, current, previous = item
        ok, reason = result["ok"], result["error"]
        notes = []
        for name in lab_notebooks(root, lab) if ok else []:
            notes += report.notes_from_notebook(folders.autograded / student / lab / name)
        extra = notebook_names(root, student, lab)[1] if ok else []
        if extra:
            notes.append(f"not graded (not a notebook of the lab): {', '.join(extra)}")
        graded_digest = current if ok else (previous.graded_digest if previous else "")
        status = report.Status(student, lab, "graded" if ok else "failed", current,
                               "" if ok else reason, notes, result.get("seconds", 0.0),
                               graded_digest)
        report.write_status(root, status)
        out(f"  {student:<20} {lab:<18} {'graded' if ok else 'FAILED: ' + reason}")

    valid = []
    for item in todo:
        folder = folders.submitted / item[0] / item[1]
        reason = (notebook_names(root, *item[:2])[0]
                  or invalid_notebook(folder, lab_notebooks(root, item[1])))
        if reason:
            record(item, {"ok": False, "error": reason})
        else:
            valid.append(item)
    jobs = max(1, min(jobs, len(valid)))
    limit = sandbox.wall_seconds + GRACE_SECONDS if sandbox.wall_seconds else None
    logs = (shards.folder(folders, *shard) if shard else folders.status) / "logs"
    shutil.rmtree(logs, ignore_errors=True)  # this run's logs only
    todo = queue.SimpleQueue()  # shared: a slow notebook never holds up the others' queue
    for item in valid:
        todo.put((*item, 0))  # the last field counts retries after a locked gradebook
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(grade_all, root, todo, overrides, limit,
                               logs / f"worker-{k}.log", record) for k in range(jobs)]
        for future in futures:
            future.result()
    if shard:
        return _write_report(root, db_url, course_id, out,
                             shards.grades_file(folders, *shard), set(mine))
    return _write_report(root, db_url, course_id, out)


def merge_grades(root: Path, out=print) -> list[dict]:
    """Join the shards of `autograde --shard i/N` (i = 1..N): their gradebooks into the
    course's, then grades.csv and the summary as one unsharded run writes them."""
    root = Path(root).resolve()
    config = load_config(root)
    db_url, course_id = gradebook_url(config, root)
    try:
        shards.merge_all(layout(root, config), db_url, course_id, out)
    except shards.ShardGradingError as err:
        raise AutogradeError(str(err)) from None
    return _write_report(root, db_url, course_id, out)


def _refuse_unmerged_shards(folders) -> None:
    found = shards.found_shards(folders)
    if found:
        raise AutogradeError(
            f"sharded grades not merged yet ({', '.join(p.name for p in found.values())} in "
            f"{folders.rel(folders.autograded / shards.SHARDS)}/): run `make merge-grades` "
            "first, so that this run does not hide them")


def write_grades(root: Path, out=print) -> list[dict]:
    """After manual grading in Formgrader: the feedback of every graded submission, grades.csv
    and the summary again from the gradebook, without grading anything."""
    root = Path(root).resolve()
    config = load_config(root)
    _refuse_unmerged_shards(layout(root, config))
    db_url, course_id = gradebook_url(config, root)
    for status in report.all_statuses(root):
        if status.status == "graded":
            feedback(root, status.lab, status.student, config)
    return _write_report(root, db_url, course_id, out)


def _write_report(root: Path, db_url: str, course_id: str, out, path: Path | None = None,
                  students: set[str] | None = None) -> list[dict]:
    """grades.csv (or `path`) and the summary, for every student (or only `students`)."""
    path = path or root / "grades.csv"
    table = [row for row in report.rows(root, db_url, course_id)
             if students is None or row["student"] in students]
    report.write_csv(path, table)
    out(report.summary(table))
    folders = layout(root)
    out(f"wrote {path} and {folders.rel(folders.feedback)}/<student>/<lab>/*.html")
    return table


def lab_notebooks(root: Path, lab: str) -> list[str]:
    """The notebook names of a lab, as released (as in solutions/ before the first release)."""
    folders = layout(root)
    released = sorted(p.name for p in (folders.release / lab).glob("*.ipynb"))
    return released or sorted(p.name for p in (folders.source / lab).glob("*.ipynb"))


__all__ = ["AutogradeError", "autograde", "merge_grades", "write_grades", "SandboxError"]
