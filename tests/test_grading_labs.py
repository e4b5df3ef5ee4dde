"""The course's real labs: labs/ is what release makes of solutions/, leaks nothing, and grades.

For every lab folder in solutions/:
* releasing solutions/ in a temporary course gives byte for byte the committed labs/<lab>/;
* no solution line, hidden-test line or nbgrader marker appears anywhere in labs/;
* every graded code cell of every solution reports the values it checks (the grader compares
  them outside the student's kernel), except the cells of UNCHECKED, which report none;
* (grading the solution and the unmodified student notebook of every lab, through the
  README's `make` commands on a fresh copy, is tests/test_ta_path.py).
"""

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader import utils

from coursetools.grading.checks import reference_path, unchecked_cells
from coursetools.grading.release import ReleaseError, find_leaks, release, source_labs

REPO = Path(__file__).resolve().parent.parent
LABS = source_labs(REPO)
pytestmark = pytest.mark.xdist_group("grading-labs")
# (lab, graded cell) whose verdict is only the kernel's: they report no checked value. None
# today: lab2_stocks' test_forecast judges a training outcome (no single right value) and
# reports only the prices it measures it against, which are deterministic.
UNCHECKED: set[tuple[str, str]] = set()


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


@pytest.mark.parametrize("lab", LABS)
def test_every_graded_cell_reports_what_it_checks(course, lab):
    """Release ran each solution and kept what its tests checked (reference_checks/): every
    graded code cell reported at least one value, but those of UNCHECKED, which reported
    none (an entry that does check something, or names no graded cell, is stale)."""
    for source in sorted((course / "solutions" / lab).glob("*.ipynb")):
        nb = nbformat.read(source, as_version=4)
        graded = [cell.metadata.nbgrader["grade_id"] for cell in nb.cells
                  if utils.is_grade(cell) and cell.cell_type == "code"]
        path = reference_path(course, lab, source.name)
        assert path.is_file(), f"release wrote no {path.relative_to(course)}"
        entry = json.loads(path.read_text())
        assert sorted(entry["checks"]) == sorted(graded)
        allowed = sorted(grade_id for name, grade_id in UNCHECKED if name == lab)
        assert unchecked_cells(entry) == allowed, (
            f"{lab}: graded cells that report no checked value (the kernel alone decides): "
            f"{unchecked_cells(entry)}; expected only {allowed} (UNCHECKED)")


def test_unchecked_cells_name_real_labs():
    assert {lab for lab, _ in UNCHECKED} <= set(LABS)


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
    shutil.copy(REPO / "nbgrader_config.py", course)  # it says where solutions and labs are
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
    (course / "nbgrader_config.py").unlink()  # nbgrader's default folders: no lab in them
    with pytest.raises(ReleaseError, match="expected lab notebooks in .*source"):
        find_leaks(course)
