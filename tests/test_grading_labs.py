"""The course's real labs: labs/ is what release makes of solutions/, leaks nothing, and grades.

For every lab folder in solutions/:
* releasing solutions/ in a temporary course gives byte for byte the committed labs/<lab>/;
* no solution line, hidden-test line or nbgrader marker appears anywhere in labs/;
* autograded in the sandbox (quick mode, the course's nbgrader_config.py), the solution
  notebook scores full marks on every autograded test and the unmodified student notebook
  scores zero, both graded (markdown answers are left to manual grading).
"""

import shutil
from pathlib import Path

import pytest

from coursetools.grading.autograde import autograde
from coursetools.grading.release import find_leaks, release, source_labs

REPO = Path(__file__).resolve().parent.parent
LABS = source_labs(REPO)
pytestmark = pytest.mark.xdist_group("grading-labs")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A temporary course with the repository's solutions/, released there."""
    root = tmp_path_factory.mktemp("labs") / "course"
    root.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", root)
    shutil.copytree(REPO / "solutions", root / "solutions",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    release(root)
    return root


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("lab", LABS)
def test_committed_lab_is_what_release_makes(course, lab):
    committed, fresh = files(REPO / "labs" / lab), files(course / "labs" / lab)
    assert sorted(committed) == sorted(fresh), "run `make release` and commit labs/"
    for name in fresh:
        assert committed[name] == fresh[name], f"labs/{lab}/{name} differs: run `make release`"


def test_the_course_has_its_three_labs():
    assert {"lab1_cells", "lab2_stocks", "lab3_attention"} <= set(LABS)


def test_labs_hold_no_solution_and_no_hidden_test():
    assert find_leaks(REPO) == []


@pytest.mark.parametrize("lab", LABS)
def test_a_planted_solution_or_hidden_test_line_is_caught(tmp_path, lab):
    """The leak finder is not blind on the real labs: plant one secret line of each kind."""
    import nbformat

    from coursetools.grading.release import secret_lines

    course = tmp_path / "course"
    shutil.copytree(REPO / "solutions" / lab, course / "solutions" / lab)
    shutil.copytree(REPO / "labs" / lab, course / "labs" / lab)
    assert find_leaks(course) == []
    source = nbformat.read(course / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    secrets = secret_lines([course / "solutions" / lab / f"{lab}.ipynb"])
    hidden = next(line.strip() for cell in source.cells
                  if "BEGIN HIDDEN TESTS" in cell.source
                  for line in cell.source.split("BEGIN HIDDEN TESTS", 1)[1].splitlines()
                  if line.strip() in secrets)
    released = course / "labs" / lab / f"{lab}.ipynb"
    student = nbformat.read(released, as_version=4)
    student.cells[-1].source += "\n" + hidden
    nbformat.write(student, released)
    assert find_leaks(course) == [f"labs/{lab}/{lab}.ipynb: {hidden!r}"]


@pytest.mark.parametrize("lab", LABS)
def test_solution_scores_full_marks_and_blank_scores_zero(course, lab):
    """Every autograded test: full points for the solution, zero for the blank notebook.

    Answers written in markdown are graded by hand (nbgrader leaves them "needs manual
    grade"), so they are not part of the autograded marks.
    """
    from nbgrader.api import Gradebook

    for student, source in (("solution", course / "solutions"), ("blank", course / "labs")):
        shutil.copytree(source / lab, course / "submitted" / student / lab)
    table = autograde(course, labs=[lab], students=["solution", "blank"], jobs=2,
                      out=lambda line: None)
    rows = {row["student"]: row for row in table if row["lab"] == lab}
    assert rows["solution"]["status"] == "graded", rows["solution"]
    assert rows["blank"]["status"] == "graded", rows["blank"]
    assert float(rows["blank"]["score"]) == 0, rows["blank"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "rnn-course") as gb:
        grades = [(nb.name, grade.name, grade.auto_score, grade.max_score)
                  for nb in gb.find_submission(lab, "solution").notebooks
                  for grade in nb.grades if not grade.needs_manual_grade]
    assert grades, "expected autograded tests"
    lost = [g for g in grades if g[2] != g[3]]
    assert not lost, f"the solution loses points in (notebook, cell, score, max): {lost}"
