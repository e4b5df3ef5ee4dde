"""What happened to each submission: status files, grades.csv and the summary table.

Each graded or failed submission leaves `autograded/.status/<lab>/<student>.json` (nbgrader
skips hidden folders), written by autograde.py; scores come from the gradebook. A submission
that could not be graded gets a row with score 0 and the reason, unless the same files were
graded before, in which case the earlier result stays (a re-run never loses a grade).
"""

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from .gradebook import open_gradebook
from .layout import layout
from .sandbox import KERNEL_DIED, NOT_RUN

COLUMNS = ("student", "lab", "score", "max_score", "status", "notes")


@dataclass
class Status:
    student: str
    lab: str
    status: str  # "graded" or "failed"
    digest: str  # sha256 of the submission folder's files
    reason: str = ""  # why it failed (status "failed")
    notes: list[str] = field(default_factory=list)  # what the grader noticed (timeouts, ...)
    seconds: float = 0.0
    graded_digest: str = ""  # the files of the last successful grading


def status_path(root: Path, lab: str, student: str) -> Path:
    return layout(root).status / lab / f"{student}.json"


def read_status(root: Path, lab: str, student: str) -> Status | None:
    path = status_path(root, lab, student)
    if not path.exists():
        return None
    try:
        return Status(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None


def write_status(root: Path, status: Status) -> None:
    path = status_path(root, status.lab, status.student)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(status), indent=1))
    tmp.replace(path)


def all_statuses(root: Path) -> list[Status]:
    found = []
    for path in sorted(layout(root).status.glob("*/*.json")):
        status = read_status(root, path.parent.name, path.stem)
        if status:
            found.append(status)
    return found


def notes_from_notebook(path: Path) -> list[str]:
    """What the grader had to do to an autograded notebook: timeouts, a dead kernel, ..."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - no notes rather than no report
        return []
    counts: dict[str, int] = {}
    for cell in nb.cells:
        if "was missing from the submission" in cell.get("source", ""):
            counts["restored"] = counts.get("restored", 0) + 1
        if cell.get("source", "").startswith("# nbgrader: a copy of graded cell"):
            counts["copy"] = counts.get("copy", 0) + 1
        for output in cell.get("outputs", []):
            name = output.get("ename", "")
            if name in ("CellTimeoutError", KERNEL_DIED, NOT_RUN):
                counts[name] = counts.get(name, 0) + 1
            if "truncated by the grader" in output.get("text", ""):
                counts["truncated"] = counts.get("truncated", 0) + 1
    words = {"restored": "deleted test cell(s) restored", "CellTimeoutError": "cell timeout(s)",
             KERNEL_DIED: "kernel stopped", NOT_RUN: "cell(s) not run",
             "truncated": "output(s) truncated", "copy": "copied graded cell(s) not graded"}
    return [f"{count} {words[name]}" for name, count in counts.items()]


def scores(db_url: str, course_id: str) -> dict[tuple[str, str], tuple[float, float, float]]:
    """(student, lab) -> (score, max score, points still to grade by hand) from the gradebook."""
    found = {}
    with open_gradebook(db_url, course_id) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                manual = sum(grade.max_score for notebook in submission.notebooks
                             for grade in notebook.grades if grade.needs_manual_grade)
                found[(submission.student.id, assignment.name)] = (
                    float(submission.score), float(submission.max_score), float(manual))
    return found


def max_scores(db_url: str, course_id: str) -> dict[str, float]:
    with open_gradebook(db_url, course_id) as gb:
        return {a.name: float(a.max_score) for a in gb.assignments}


def rows(root: Path, db_url: str, course_id: str) -> list[dict]:
    """One row per student and lab that has a status file."""
    graded = scores(db_url, course_id)
    maxima = max_scores(db_url, course_id)
    table = []
    for st in all_statuses(root):
        score, maximum, manual = graded.get((st.student, st.lab),
                                            (0.0, maxima.get(st.lab, 0.0), 0.0))
        notes = list(st.notes)
        if manual and st.status == "graded":
            notes.append(f"{_num(manual)} point(s) to grade by hand (Formgrader)")
        if st.status == "graded":
            state = "graded"
        elif st.graded_digest and st.graded_digest == st.digest:
            state = "graded"
            notes.append(f"re-run failed ({st.reason}); the earlier result is kept")
        else:
            state, score = "failed", 0.0
            notes.insert(0, st.reason)
        table.append({"student": st.student, "lab": st.lab, "score": _num(score),
                      "max_score": _num(maximum), "status": state, "notes": "; ".join(notes)})
    return sorted(table, key=lambda r: (r["lab"], r["student"]))


def write_csv(path: Path, table: list[dict]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(table)


def summary(table: list[dict]) -> str:
    """A plain-text table; failed submissions are listed again at the end with their reason."""
    header = f"{'student':<20} {'lab':<18} {'score':>11}  {'status':<7} notes"
    lines = [header, "-" * len(header)]
    for row in table:
        score = f"{row['score']}/{row['max_score']}"
        lines.append(f"{row['student']:<20} {row['lab']:<18} {score:>11}  {row['status']:<7} "
                     f"{row['notes']}")
    failed = [row for row in table if row["status"] == "failed"]
    lines.append(f"{len(table)} submission(s), {len(table) - len(failed)} graded, "
                 f"{len(failed)} could not be graded")
    for row in failed:
        lines.append(f"NOT GRADED: {row['student']} / {row['lab']}: {row['notes']}")
    return "\n".join(lines)


def _num(value: float) -> str:
    return f"{value:g}"
