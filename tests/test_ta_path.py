"""The README's TA path, run as written with `make`, in a fresh copy of the repository.

The copy holds what `git clone` gives (tracked files, plus files not yet committed and not
ignored) and no gradebook, no labs released by hand, no submitted/. Its `.venv` is this
repository's (a link; `make install` would take a minute). `make` runs with a PATH that does
not hold `.venv/bin`, as a TA's shell has it (nbgrader once crashed there looking for
`alembic`), and without OMP_NUM_THREADS (the sandbox gives each kernel one thread itself).

Submissions: ada hands in the solution of every lab (full marks on every autograded test),
bob the unmodified student notebooks (zero), carol a renamed lab 1 notebook plus a scratch
notebook. `make autograde JOBS=2` grades all of them on 2 cores: no cell may time out.
"""

import csv
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from coursetools import checkout
from coursetools.grading.release import source_labs

REPO = Path(__file__).resolve().parent.parent
LABS = source_labs(REPO)
pytestmark = pytest.mark.xdist_group("grading-labs")


def ta_env() -> dict[str, str]:
    """The TA's shell: no .venv/bin on PATH, no thread settings, no make flags of pytest's."""
    return checkout.user_env(REPO)


def make(course: Path, *args: str, ok: bool = True) -> str:
    done = subprocess.run(["make", "--no-print-directory", *args], cwd=course, env=ta_env(),
                          capture_output=True, text=True, timeout=1500)
    text = done.stdout + done.stderr
    if ok:
        assert done.returncode == 0, f"make {' '.join(args)} failed:\n{text[-4000:]}"
    assert "Traceback" not in text, f"make {' '.join(args)} printed a traceback:\n{text[-4000:]}"
    return text


def grades(course: Path) -> dict[tuple[str, str], dict]:
    with open(course / "grades.csv") as handle:
        return {(row["student"], row["lab"]): row for row in csv.DictReader(handle)}


def write_zip(path: Path, entries: dict[str, Path]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, source in entries.items():
            zf.write(source, name)
    return path


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A fresh copy in which a TA has run `make collect ZIP=...` then `make autograde JOBS=2`."""
    base = tmp_path_factory.mktemp("ta")
    root = checkout.fresh_copy(REPO, base / "course")
    assert not (root / "gradebook.db").exists() and not (root / "submitted").exists()
    entries = {}
    for lab in LABS:
        entries[f"ada/{lab}/{lab}.ipynb"] = REPO / "solutions" / lab / f"{lab}.ipynb"
        entries[f"bob/{lab}.ipynb"] = REPO / "labs" / lab / f"{lab}.ipynb"
    entries["carol/lab1_cells/lab1_cells-final.ipynb"] = REPO / "labs/lab1_cells/lab1_cells.ipynb"
    entries["carol/lab1_cells/scratch.ipynb"] = REPO / "labs/lab1_cells/lab1_cells.ipynb"
    collected = make(root, f"ZIP={write_zip(base / 'submissions.zip', entries)}", "collect")
    shutil.copytree(root, base / "sharded", symlinks=True)  # the same class, graded in shards
    autograded = make(root, "autograde", "JOBS=2")
    shutil.copy(root / "grades.csv", base / "grades-one-run.csv")  # later tests change it
    return root, collected, autograded


def test_collect_names_a_renamed_notebook_and_extra_files(course):
    _, collected, _ = course
    assert "unpacked 7 submission(s)" in collected
    assert ("submitted/carol/lab1_cells/: expected lab1_cells.ipynb, found "
            "lab1_cells-final.ipynb, scratch.ipynb") in collected, collected


def test_autograde_on_a_fresh_clone_grades_every_lab_without_a_timeout(course):
    root, _, autograded = course
    assert "not in the gradebook yet, releasing first" in autograded
    table = grades(root)
    for lab in LABS:
        solution, blank = table[("ada", lab)], table[("bob", lab)]
        assert solution["status"] == blank["status"] == "graded", (solution, blank)
        assert "timeout" not in solution["notes"] + blank["notes"], (solution, blank)
        assert float(blank["score"]) == 0, blank
        assert (root / "feedback" / "ada" / lab / f"{lab}.html").is_file()
    statuses = {(s["student"], s["lab"]): s for s in
                (json.loads(p.read_text()) for p in (root / "autograded/.status").glob("*/*.json"))}
    for (student, lab), status in statuses.items():
        if status["status"] == "graded":
            assert 0 < status["seconds"] < 300, (student, lab, status["seconds"])


def test_the_solution_gets_every_autograded_point(course):
    """Answers written in markdown are graded by hand (nbgrader leaves them "needs manual
    grade"), so they are not part of the autograded marks."""
    from nbgrader.api import Gradebook

    root = course[0]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "rnn-course") as gb:
        for lab in LABS:
            grades_ = [(nb.name, grade.name, grade.auto_score, grade.max_score)
                       for nb in gb.find_submission(lab, "ada").notebooks
                       for grade in nb.grades if not grade.needs_manual_grade]
            assert grades_, f"expected autograded tests in {lab}"
            lost = [g for g in grades_ if g[2] != g[3]]
            assert not lost, f"the solution loses points in (notebook, cell, score, max): {lost}"


def test_a_renamed_notebook_fails_with_what_to_do(course):
    row = grades(course[0])[("carol", "lab1_cells")]
    assert row["status"] == "failed", row
    assert "expected lab1_cells.ipynb, found lab1_cells-final.ipynb" in row["notes"], row
    assert "rename" in row["notes"], row


def test_rerun_student_lab_force_and_a_bad_zip(course, tmp_path):
    root = course[0]
    before = (root / "grades.csv").read_text()
    again = make(root, "autograde", "JOBS=2")
    assert "grading 1 submission(s)" in again, again  # only carol's failed one is retried
    assert (root / "grades.csv").read_text() == before

    one = make(root, "autograde", "STUDENT=ada", "LABS=lab1_cells", "FORCE=1")
    assert "grading 1 submission(s)" in one, one
    assert (root / "grades.csv").read_text() == before

    unknown = make(root, "autograde", "STUDENT=zed", ok=False)
    assert "no submission of student zed in submitted/" in unknown, unknown

    notebook = REPO / "labs/lab1_cells/lab1_cells.ipynb"
    bad = write_zip(tmp_path / "bad.zip", {"../evil.ipynb": notebook, "dan/lab9/x.ipynb": notebook})
    refused = make(root, f"ZIP={bad}", "collect", ok=False)
    assert "nothing was unpacked" in refused and "unsafe path" in refused, refused
    assert "LAB=" in refused, refused  # a make user is told the make variable
    assert not (root / "submitted" / "dan").exists()
    assert (root / "grades.csv").read_text() == before


def test_sharded_autograde_then_merge_grades_equals_one_run(course):
    """README, TA step 5: `make release`, then `make autograde SHARD=i/N` for every i as
    processes at once, then `make merge-grades`: the grades.csv and feedback of one run."""
    root = course[0]
    sharded = root.parent / "sharded"
    make(sharded, "release")
    running = [subprocess.Popen(["make", "--no-print-directory", "autograde", f"SHARD={i}/2"],
                                cwd=sharded, env=ta_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for i in (1, 2)]
    for i, process in enumerate(running, 1):
        text, _ = process.communicate(timeout=1500)
        assert process.returncode == 0 and "Traceback" not in text, text[-4000:]
        assert f"shard {i}/2: " in text, text[-4000:]
    assert not (sharded / "grades.csv").exists()
    merged = make(sharded, "merge-grades")
    assert (sharded / "grades.csv").read_text() == (root.parent / "grades-one-run.csv").read_text()
    assert "wrote" in merged, merged
    feedback = sorted(p.relative_to(sharded) for p in (sharded / "feedback").rglob("*.html"))
    assert feedback and feedback == sorted(
        p.relative_to(root) for p in (root / "feedback").rglob("*.html")
        if p.parent.parent.name != "erin"), feedback


def test_collect_with_lab_and_autograde_with_grade_args(course, tmp_path):
    """README: `<student>/<files>` with `LAB=<lab>`; limits for one run with GRADE_ARGS."""
    root = course[0]
    blank = REPO / "labs/lab2_stocks/lab2_stocks.ipynb"
    archive = write_zip(tmp_path / "erin.zip", {"erin/lab2_stocks.ipynb": blank,
                                                "erin/notes.txt": REPO / "README.md"})
    collected = make(root, f"ZIP={archive}", "collect", "LAB=lab2_stocks")
    assert (root / "submitted/erin/lab2_stocks/notes.txt").is_file(), collected
    graded = make(root, "autograde", "STUDENT=erin",
                  "GRADE_ARGS=--cell-timeout 600 --wall 3600 --memory 8G")
    assert "grading 1 submission(s)" in graded, graded
    row = grades(root)[("erin", "lab2_stocks")]
    assert row["status"] == "graded" and float(row["score"]) == 0, row


def test_student_validate_runs_in_time_and_prints_messages_whole(course):
    """README (students): `.venv/bin/nbgrader validate labs/...` before handing in."""
    root = course[0]
    done = subprocess.run([".venv/bin/nbgrader", "validate", "labs/lab1_cells/lab1_cells.ipynb"],
                          cwd=root, env=ta_env(), capture_output=True, text=True, timeout=600)
    assert "failed" in done.stdout.lower() or "error" in done.stdout.lower(), done.stdout[-3000:]
    cut = [line for line in done.stdout.splitlines() if len(line) == 90 and line.endswith("...")]
    assert not cut, cut  # nbgrader's default width cuts lines at 90 characters
    solution = "submitted/ada/lab3_attention/lab3_attention.ipynb"  # the slowest lab
    done = subprocess.run([".venv/bin/nbgrader", "validate", solution], cwd=root, env=ta_env(),
                          capture_output=True, text=True, timeout=600)
    assert "Success! Your notebook passes all the tests." in done.stdout, done.stdout[-3000:]


def test_hand_graded_parts_are_pending_until_a_ta_grades_them(course):
    """Feedback right after autograde marks hand-graded parts pending; after a manual score
    is saved (as Formgrader saves it), `make grades` writes the feedback and grades.csv again."""
    from nbgrader.api import Gradebook

    root = course[0]
    page = root / "feedback/ada/lab2_stocks/lab2_stocks.html"
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "rnn-course") as gb:
        manual = [g for nb in gb.find_submission("lab2_stocks", "ada").notebooks
                  for g in nb.grades if g.needs_manual_grade]
        assert manual, "expected hand-graded parts in lab 2"
        points = sum(g.max_score for g in manual)
        first = manual[0].name
    html = page.read_text()
    assert html.count("Score: pending (graded by hand)") == 2 * len(manual), html[-3000:]
    assert f"{points:g} point(s) still to be graded by hand" in html
    assert f"{points:g} point(s) to grade by hand" in grades(root)[("ada", "lab2_stocks")]["notes"]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "rnn-course") as gb:
        grade = gb.find_grade(first, "lab2_stocks", "lab2_stocks", "ada")
        grade.manual_score, grade.needs_manual_grade = grade.max_score, False
        gb.db.commit()
        left = points - grade.max_score
    before = float(grades(root)[("ada", "lab2_stocks")]["score"])
    make(root, "grades")
    row = grades(root)[("ada", "lab2_stocks")]
    assert float(row["score"]) > before, row
    assert (f"{left:g} point(s) to grade by hand" in row["notes"]) == bool(left), row
    html = page.read_text()
    assert html.count("Score: pending (graded by hand)") == 2 * (len(manual) - 1)


def test_instructor_release_in_the_clone_changes_nothing(course):
    root = course[0]
    before = {p: p.read_bytes() for p in sorted((root / "labs").rglob("*")) if p.is_file()}
    make(root, "release")
    after = {p: p.read_bytes() for p in sorted((root / "labs").rglob("*")) if p.is_file()}
    assert after == before, "make release changed the committed labs/"
    assert "the sandbox works" in make(root, "check-sandbox")


# Each `make` command the README gives a TA or an instructor for grading, and the test that
# runs it as written (a zip's own name aside). A new command in the README fails this check
# until a test runs it.
README_COMMANDS = {
    "make collect ZIP=submissions.zip": test_collect_names_a_renamed_notebook_and_extra_files,
    "make autograde JOBS=2": test_autograde_on_a_fresh_clone_grades_every_lab_without_a_timeout,
    "make release": test_instructor_release_in_the_clone_changes_nothing,
    "make check-sandbox": test_instructor_release_in_the_clone_changes_nothing,
    "make grades": test_hand_graded_parts_are_pending_until_a_ta_grades_them,
    "make autograde SHARD=i/N": test_sharded_autograde_then_merge_grades_equals_one_run,
    "make merge-grades": test_sharded_autograde_then_merge_grades_equals_one_run,
    'make autograde GRADE_ARGS="--cell-timeout 600 --wall 3600 --memory 8G"':
        test_collect_with_lab_and_autograde_with_grade_args,
    # run by `make test` itself (its first prerequisite), on every machine
    "make sandbox-deps": None,
    "make test": None,
    # the kernel's RNN_* variables from the grader's environment: tests/test_grading.py
    "RNN_MODE=full make autograde": None,
    # JupyterLab and Formgrader are interactive: not started by a test
    "make lab": None,
}
# the options, each used by a test above
README_OPTIONS = ("FORCE=1", "STUDENT=ada", "LABS=lab1_cells", "LAB=<lab>")


def test_every_grading_command_of_the_readme_is_run_by_a_test():
    readme = (REPO / "README.md").read_text()
    grading = readme[readme.index("## For TAs"):readme.index("## Testing")]
    commands = set(re.findall(r"`((?:[A-Z_]+=\S+ )?make [^`]+)`", grading))
    assert commands, "expected make commands in the README's grading sections"
    assert commands <= set(README_COMMANDS), sorted(commands - set(README_COMMANDS))
    for option in README_OPTIONS:
        assert f"`{option}`" in grading, option
