"""Sharded autograding (coursetools/grading/shards.py): `autograde --shard i/N` in N
processes at once, then `merge-grades`, gives the grades.csv, feedback and gradebook of one
unsharded run; a missing shard or unmerged shards stop with what to do, and lose nothing."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coursetools.grading import shards
from coursetools.grading.autograde import AutogradeError, autograde, merge_grades
from coursetools.grading.gradebook import gradebook_url, open_gradebook
from coursetools.grading.layout import layout, load_config
from coursetools.grading.release import release

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_grading import LIMITS, SUBMISSIONS, make_course, released, write_submission  # noqa: E402,I001

pytestmark = pytest.mark.xdist_group("grading")
# A mix of outcomes: full marks, zero, part marks, a failing cell, a file nbgrader cannot read.
STUDENTS = ["correct", "blank", "partial", "syntax_error", "invalid_json"]
CLI_LIMITS = ["--cell-timeout", "10", "--wall", "90", "--memory", "1G"]


def grading(course: Path, *args: str, wait: bool = True):
    command = [sys.executable, "-m", "coursetools.grading", "--root", str(course), *args]
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def finish(process: subprocess.Popen) -> str:
    out, _ = process.communicate(timeout=600)
    assert process.returncode == 0, out
    return out


def scores(course: Path) -> dict:
    """(student, lab, cell) -> (auto score, manual score) from the course's gradebook."""
    db_url, course_id = gradebook_url(load_config(course), course)
    table = {}
    with open_gradebook(db_url, course_id) as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        table[sub.student.id, assignment.name, grade.cell.name] = (
                            grade.auto_score, grade.manual_score)
    return table


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    """The same released course and submissions twice: one graded in one run, one not yet."""
    base = tmp_path_factory.mktemp("shards")
    whole = make_course(base / "whole")
    release(whole)
    for student in STUDENTS:
        write_submission(whole, student, released(whole), SUBMISSIONS[student][0])
    sharded = base / "sharded"
    shutil.copytree(whole, sharded)
    table = autograde(whole, jobs=1, overrides=LIMITS, out=lambda *_: None)
    return whole, sharded, table


def test_students_are_split_round_robin_by_name():
    everyone = ["eve", "ada", "bob", "cy", "dan"]
    parts = [shards.students_of(everyone, i, 2) for i in (1, 2)]
    assert parts == [["ada", "cy", "eve"], ["bob", "dan"]]
    assert sorted(sum(parts, [])) == sorted(everyone)


def test_bad_shard_spec_is_refused(courses):
    _, sharded, _ = courses
    result = grading(sharded, "autograde", "--shard", "3/2")
    assert result.returncode == 2
    assert "SHARD must be i/N with 1 <= i <= N" in result.stderr


def test_shards_in_parallel_then_merge_equal_one_run(courses):
    whole, sharded, table = courses
    assert {row["status"] for row in table} == {"graded", "failed"}  # the mix is real
    folders = layout(sharded)

    first = finish(grading(sharded, "autograde", "--shard", "1/2", *CLI_LIMITS, wait=False))
    mine = shards.students_of(STUDENTS, 1, 2)
    assert f"shard 1/2: {len(mine)} of {len(STUDENTS)} student(s)" in first
    shard_csv = shards.grades_file(folders, 1, 2).read_text()
    assert all(name in shard_csv for name in mine)
    assert not any(f"\n{name}," in shard_csv for name in set(STUDENTS) - set(mine))
    assert not (sharded / "grades.csv").exists()

    # Half the shards: merging, plain autograde and `grades` all refuse, and keep the shard.
    result = grading(sharded, "merge-grades")
    assert result.returncode == 2 and "shard(s) 2/2 not in" in result.stderr, result.stderr
    with pytest.raises(AutogradeError, match="run `make merge-grades` first"):
        autograde(sharded, overrides=LIMITS, out=lambda *_: None)
    assert (shards.folder(folders, 1, 2) / "gradebook.db").is_file()

    # Shard 1 again (its earlier grades are carried into its fresh copy) beside shard 2.
    running = [grading(sharded, "autograde", "--shard", f"{i}/2", "--force", *CLI_LIMITS,
                       wait=False) for i in (1, 2)]
    for process in running:
        finish(process)
    merged = merge_grades(sharded, out=lambda *_: None)

    assert (sharded / "grades.csv").read_text() == (whole / "grades.csv").read_text()
    assert merged == table
    assert scores(sharded) == scores(whole)
    assert files(sharded / "feedback") == files(whole / "feedback")
    assert not shards.found_shards(folders)  # merged shards are removed
    assert not list(sharded.glob("grades-shard-*.csv"))


def test_merge_with_no_shards_says_what_to_run(tmp_path):
    course = make_course(tmp_path / "course")
    release(course)
    result = grading(course, "merge-grades")
    assert result.returncode == 2
    assert "no shard to merge" in result.stderr and "SHARD=i/N" in result.stderr


def test_make_passes_the_shard_on_as_the_readme_gives_it():
    repo = Path(__file__).resolve().parent.parent
    dry = subprocess.run(["make", "-n", "autograde", "SHARD=2/4", "JOBS=3"], cwd=repo,
                         capture_output=True, text=True, check=True).stdout
    assert "coursetools.grading autograde --jobs 3" in dry and "--shard 2/4" in dry
    dry = subprocess.run(["make", "-n", "merge-grades"], cwd=repo, capture_output=True,
                         text=True, check=True).stdout
    assert "coursetools.grading merge-grades" in dry
