"""Grading in shards: `make autograde SHARD=i/N` on N machines (or N processes), then
`make merge-grades`, gives the grades.csv and feedback of one unsharded run.

    python -m coursetools.grading autograde --shard 2/4 [--jobs J] [LAB ...]
    python -m coursetools.grading merge-grades

Shard i of N grades the students i, i+N, i+2N, ... of `submitted/` (sorted by name), so each
student's folders (autograded/, feedback/, autograded/.status/) belong to one shard only. It
grades against its own copy of the gradebook, `autograded/.shards/i-of-N/gradebook.db`
(SQLite: N writers on one file would lock each other out, or worse on a network disk), and
writes `grades-shard-i-of-N.csv` for its students. On separate machines, copy each one's
`autograded/`, `feedback/` and grades file back into one course root. `merge-grades` copies
each shard's submissions (scores, comments, timestamps) into `gradebook.db` with nbgrader's
Gradebook API, writes grades.csv from it, and then removes the shard folders, whose grades
are now in the gradebook. Nothing is merged unless all N shards are there.
"""

import json
import shutil
import warnings
from pathlib import Path

from sqlalchemy.exc import SAWarning

from .gradebook import open_gradebook
from .layout import Layout

SHARDS = ".shards"


class ShardGradingError(ValueError):
    """Shards that cannot be graded or merged as asked; the message says what to do."""


def folder(folders: Layout, index: int, count: int) -> Path:
    return folders.autograded / SHARDS / f"{index}-of-{count}"


def grades_file(folders: Layout, index: int, count: int) -> Path:
    return folders.root / f"grades-shard-{index}-of-{count}.csv"


def students_of(all_students: list[str], index: int, count: int) -> list[str]:
    """The students of shard `index` (1-based) of `count`: every count-th in name order."""
    return sorted(all_students)[index - 1::count]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def prepare(folders: Layout, main_db: Path, course_id: str, index: int, count: int,
            students: list[str]) -> Path:
    """The shard's gradebook: a fresh copy of the course's, with what an earlier run of the
    same shard graded (not merged yet) copied into it; the shard's student list beside it."""
    if not main_db.is_file():
        raise ShardGradingError(f"expected the gradebook {main_db}: run `make release` once "
                                "before the sharded runs")
    here = folder(folders, index, count)
    here.mkdir(parents=True, exist_ok=True)
    db, fresh = here / "gradebook.db", here / "gradebook.db.new"
    shutil.copyfile(main_db, fresh)
    if db.is_file():
        previous = json.loads((here / "students.json").read_text()) if (
            here / "students.json").is_file() else []
        merge_gradebook(sqlite_url(db), sqlite_url(fresh), course_id, previous)
    fresh.replace(db)
    (here / "students.json").write_text(json.dumps(students))
    return db


def merge_gradebook(source_url: str, target_url: str, course_id: str,
                    students: list[str]) -> int:
    """Copy the submissions of `students` in `source` into `target` (both nbgrader gradebooks
    of the same released labs); return how many were copied."""
    # nbgrader's add_submission builds the new rows before adding them to its session, and
    # SQLAlchemy warns about the autoflush in between (nbgrader's own autograde does it too).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SAWarning)
        return _merge(source_url, target_url, course_id, students)


def _merge(source_url: str, target_url: str, course_id: str, students: list[str]) -> int:
    copied = 0
    with open_gradebook(source_url, course_id) as src, open_gradebook(target_url,
                                                                      course_id) as dst:
        for assignment in src.assignments:
            for sub in assignment.submissions:
                if sub.student.id not in students:
                    continue
                person = sub.student
                dst.update_or_create_student(person.id, first_name=person.first_name,
                                             last_name=person.last_name, email=person.email,
                                             lms_user_id=person.lms_user_id)
                dst.update_or_create_submission(assignment.name, person.id,
                                                timestamp=sub.timestamp,
                                                extension=sub.extension)
                for nb in sub.notebooks:
                    target = dst.find_submission_notebook(nb.name, assignment.name, person.id)
                    target.flagged = nb.flagged
                    target.late_submission_penalty = nb.late_submission_penalty
                    for grade in nb.grades:
                        into = dst.find_grade(grade.cell.name, nb.name, assignment.name,
                                              person.id)
                        for name in ("auto_score", "manual_score", "extra_credit",
                                     "needs_manual_grade"):
                            setattr(into, name, getattr(grade, name))
                    for comment in nb.comments:
                        into = dst.find_comment(comment.cell.name, nb.name, assignment.name,
                                                person.id)
                        into.auto_comment = comment.auto_comment
                        into.manual_comment = comment.manual_comment
                dst.db.commit()
                copied += 1
    return copied


def found_shards(folders: Layout) -> dict[tuple[int, int], Path]:
    """(index, count) -> folder of every shard run waiting to be merged."""
    found = {}
    for path in sorted((folders.autograded / SHARDS).glob("*-of-*")):
        index, _, count = path.name.partition("-of-")
        if index.isdigit() and count.isdigit() and (path / "gradebook.db").is_file():
            found[int(index), int(count)] = path
    return found


def check_complete(found: dict[tuple[int, int], Path], folders: Layout) -> int:
    """The shard count N when shards 1..N of one N are all there; else what to do."""
    shown = folders.rel(folders.autograded / SHARDS)
    if not found:
        raise ShardGradingError(f"no shard to merge in {shown}/: run `make autograde "
                                "SHARD=i/N` for i = 1..N first")
    counts = sorted({count for _, count in found})
    if len(counts) > 1:
        raise ShardGradingError(
            f"shards of different runs in {shown}/ ({', '.join(p.name for p in found.values())})"
            f": remove the folders of the run you do not want, then merge again")
    count = counts[0]
    missing = [i for i in range(1, count + 1) if (i, count) not in found]
    if missing:
        raise ShardGradingError(
            f"shard(s) {', '.join(f'{i}/{count}' for i in missing)} not in {shown}/: run "
            f"them (make autograde SHARD=i/{count}), or copy their autograded/ and feedback/ "
            "here, then merge again; nothing was merged")
    return count


def merge_all(folders: Layout, main_url: str, course_id: str, out=print) -> int:
    """Merge every shard's gradebook into the course's; remove the shard folders after."""
    found = found_shards(folders)
    count = check_complete(found, folders)
    copied = 0
    for _, path in sorted(found.items()):
        students = json.loads((path / "students.json").read_text())
        copied += merge_gradebook(sqlite_url(path / "gradebook.db"), main_url, course_id,
                                  students)
    for path in found.values():
        shutil.rmtree(path)
    for index in range(1, count + 1):
        grades_file(folders, index, count).unlink(missing_ok=True)
    out(f"merged {count} shard(s): {copied} submission(s) into the gradebook")
    return copied
