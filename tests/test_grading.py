"""The grading pipeline, end to end, on a fixture lab and its fixture submissions.

Everything runs in a temporary course (tmp_path): a copy of nbgrader_config.py and of
tests/fixtures/grading/solutions/, released and graded there; the repository's labs/,
gradebook and submitted/ are never touched. The fixture lab is pure Python, so a submission
grades in seconds; the limits are short (cell timeout, wall clock, memory) so that the
infinite loop and the memory bomb are cheap. Each expected score is explained beside the
submission in tests/fixtures/grading/submissions.py.
"""

import csv
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from coursetools.grading import report
from coursetools.grading.autograde import autograde
from coursetools.grading.collect import CollectError, collect
from coursetools.grading.layout import layout, load_config
from coursetools.grading.preprocessors import DropStderrNoise, HideHiddenTests, KeepFirstGradeId
from coursetools.grading.release import find_leaks, release
from coursetools.grading.sandbox import Sandbox, check_sandbox

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "grading"
sys.path.insert(0, str(FIXTURES))
from submissions import MAX_SCORE, SUBMISSIONS, write_submission  # noqa: E402

LAB = "fixture_lab"
LIMITS = {"Execute.timeout": 10, "Sandbox.wall_seconds": 90, "Sandbox.memory": 2**30,
          "Sandbox.max_tasks": 64}
pytestmark = pytest.mark.xdist_group("grading")


def make_course(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", path)
    shutil.copytree(FIXTURES / "solutions", path / "solutions")
    return path


def released(course: Path) -> Path:
    return course / "labs" / LAB / f"{LAB}.ipynb"


def outputs_text(path: Path, grade_id: str | None = None) -> str:
    nb = nbformat.read(path, as_version=4)
    texts = []
    for cell in nb.cells:
        if grade_id and cell.metadata.get("nbgrader", {}).get("grade_id") != grade_id:
            continue
        for out in cell.get("outputs", []):
            texts.append(out.get("text", "") + out.get("ename", "") + ": " + out.get("evalue", ""))
    return "\n".join(texts)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A course with every fixture submission, graded once with 2 workers."""
    course = make_course(tmp_path_factory.mktemp("grading") / "course")
    release(course)
    for student, (maker, _, _) in SUBMISSIONS.items():
        write_submission(course, student, released(course), maker)
    (course / "submitted" / "ghost" / "no_such_lab").mkdir(parents=True)
    lines = []
    table = autograde(course, jobs=2, overrides=LIMITS, out=lines.append)
    return course, {row["student"]: row for row in table}, "\n".join(lines)


@pytest.mark.parametrize("student", sorted(SUBMISSIONS))
def test_each_submission_gets_its_exact_score(graded, student):
    _, rows, summary = graded
    expected, why = SUBMISSIONS[student][1:]
    row = rows[student]
    assert float(row["score"]) == expected, f"{student}: {why}\n{row}\n{summary}"
    assert float(row["max_score"]) == MAX_SCORE
    assert row["status"] == ("failed" if student == "invalid_json" else "graded"), row


def test_grades_csv_has_one_row_per_submission_and_the_summary_names_failures(graded):
    course, _, summary = graded
    with open(course / "grades.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["student"] for r in rows) == sorted(SUBMISSIONS)
    assert {r["lab"] for r in rows} == {LAB}
    assert list(rows[0]) == list(report.COLUMNS)
    assert "NOT GRADED: invalid_json / fixture_lab: fixture_lab.ipynb is not valid JSON" in summary
    assert "skipped submitted/ghost/no_such_lab: not a lab of solutions/" in summary


def test_notes_explain_what_the_grader_did(graded):
    _, rows, _ = graded
    assert "kernel stopped" in rows["kernel_exit"]["notes"]
    assert "exited with status 3" in outputs_text(
        graded[0] / "autograded/kernel_exit" / LAB / f"{LAB}.ipynb", "test_mean")
    assert "cell timeout" in rows["infinite_loop"]["notes"]
    assert "deleted test cell(s) restored" in rows["deleted_test"]["notes"]
    assert "copied graded cell(s) not graded" in rows["duplicated"]["notes"]
    assert "MemoryError" in outputs_text(
        graded[0] / "autograded/memory_bomb" / LAB / f"{LAB}.ipynb", "test_count_words")
    for student in ("fork_bomb", "thread_storm"):
        assert "kernel stopped" in rows[student]["notes"], rows[student]
        assert "a fork bomb or a thread storm was stopped" in outputs_text(
            graded[0] / "autograded" / student / LAB / f"{LAB}.ipynb", "test_count_words")


def test_kernel_runs_in_quick_mode_with_stderr_noise_filtered(graded):
    course = graded[0]
    notebook = course / "autograded/correct" / LAB / f"{LAB}.ipynb"
    assert "mode: quick" in outputs_text(notebook)
    nb = nbformat.read(notebook, as_version=4)
    test_cell = next(c for c in nb.cells
                     if c.metadata.get("nbgrader", {}).get("grade_id") == "test_count_words")
    assert not [o for o in test_cell.outputs if o.get("name") == "stderr"], test_cell.outputs


def test_huge_output_is_cut(graded):
    notebook = graded[0] / "autograded/huge_output" / LAB / f"{LAB}.ipynb"
    assert notebook.stat().st_size < 2 * 2**20
    assert "truncated" in outputs_text(notebook, "test_square")


def test_attacks_are_blocked_and_change_nothing(graded):
    course = graded[0]
    attempts = {"attack_read": 5, "attack_gradebook": 3, "attack_others": 6}
    for student, count in attempts.items():
        text = outputs_text(course / "autograded" / student / LAB / f"{LAB}.ipynb", "square")
        assert "LEAKED" not in text, text
        assert text.count("blocked") == count, text
    assert not list(course.rglob("pwned.txt"))
    # the history attack did read the hidden tests (the feedback test shows they stay hidden)
    assert "SECRET-SQUARE" in outputs_text(
        course / "autograded/attack_history" / LAB / f"{LAB}.ipynb")
    assert (course / "submitted/correct" / LAB / f"{LAB}.ipynb").exists()
    assert float(graded[1]["blank"]["score"]) == 0  # the gradebook was not rewritten


def test_feedback_exists_and_hides_hidden_tests(graded):
    course, rows, _ = graded
    for student, row in rows.items():
        html = course / "feedback" / student / LAB / f"{LAB}.html"
        assert html.exists() == (row["status"] == "graded"), student
        if html.exists():
            text = html.read_text()
            assert "SECRET-" not in text and "BEGIN HIDDEN TESTS" not in text, student
            assert "hidden tests were run here" in text
    # the autograded notebook (for TAs) does hold them: the feedback step removed them
    assert "SECRET-SQUARE" in (course / "autograded/blank" / LAB / f"{LAB}.ipynb").read_text()


def test_rerun_loses_nothing_and_gives_the_same_results(graded):
    course, rows, _ = graded
    before = (course / "grades.csv").read_text()
    lines = []
    table = autograde(course, jobs=2, overrides=LIMITS, out=lines.append)
    assert "grading 1 submission(s)" in "\n".join(lines)  # only the failed one is retried
    assert (course / "grades.csv").read_text() == before
    again = ["correct", "partial", "kernel_exit", "invalid_json"]
    table = autograde(course, students=again, force=True, jobs=2, overrides=LIMITS,
                      out=lines.append)
    assert {r["student"]: r for r in table} == rows
    assert (course / "grades.csv").read_text() == before


def test_a_failed_rerun_keeps_the_earlier_grade(graded):
    course = graded[0]
    status = report.read_status(course, LAB, "partial")
    status.status, status.reason = "failed", "the grader itself ran past 390 s and was stopped"
    report.write_status(course, status)
    try:
        row = next(r for r in report.rows(course, f"sqlite:///{course}/gradebook.db",
                                          "rnn-course") if r["student"] == "partial")
        assert row["score"] == "5" and row["status"] == "graded"
        assert "earlier result is kept" in row["notes"]
    finally:
        status.status, status.reason = "graded", ""
        report.write_status(course, status)


def test_wall_clock_stops_a_notebook_that_keeps_running(graded):
    """A slow but interruptible loop, a long cell timeout: only the wall clock stops it."""
    course = graded[0]
    slow = ("import time\n\n\ndef mean(xs):\n    return sum(xs) / len(xs)\n\n\n"
            "while True:\n    time.sleep(0.1)\n")
    write_submission(course, "slow", released(course),
                     lambda nb: SUBMISSIONS["correct"][0](nb, mean=slow))
    table = autograde(course, students=["slow"], out=lambda line: None,
                      overrides={**LIMITS, "Execute.timeout": 600, "Sandbox.wall_seconds": 25})
    row = next(r for r in table if r["student"] == "slow")
    assert row["score"] == "2", row  # only square's test ran before the mean cell
    text = outputs_text(course / "autograded/slow" / LAB / f"{LAB}.ipynb")
    assert "wall-clock limit of 25 s" in text


def test_checks_are_compared_outside_the_kernel(graded):
    """The reference values come from the solution, at release; a patched verdict is caught."""
    from coursetools.grading.checks import OUTSIDE, reference_path, unchecked_cells

    course = graded[0]
    entry = json.loads(reference_path(course, LAB, f"{LAB}.ipynb").read_text())
    assert [c["name"] for c in entry["checks"]["test_square"]] == ["square(3)", "square(-4)"]
    assert unchecked_cells(entry) == []
    text = outputs_text(course / "autograded/attack_isclose" / LAB / f"{LAB}.ipynb",
                        "test_square")
    assert OUTSIDE in text and "relative error to the reference solution" in text, text
    text = outputs_text(course / "autograded/attack_check" / LAB / f"{LAB}.ipynb", "test_square")
    assert "the test reported 0 checked value(s), the reference solution 2" in text, text


def test_cpu_time_limit_stops_a_spinning_kernel(graded):
    """A loop that spins one core: the kernel's CPU-time limit stops it before the timeout."""
    course = graded[0]
    spin = "def mean(xs):\n    while True:\n        pass\n"
    write_submission(course, "spinner", released(course),
                     lambda nb: SUBMISSIONS["correct"][0](nb, mean=spin))
    table = autograde(course, students=["spinner"], out=lambda line: None,
                      overrides={**LIMITS, "Execute.timeout": 120, "Sandbox.cpu_seconds": 12})
    row = next(r for r in table if r["student"] == "spinner")
    assert row["score"] == "2", row  # square's test ran before the mean cell
    text = outputs_text(course / "autograded/spinner" / LAB / f"{LAB}.ipynb", "test_mean")
    assert "CPU-time limit of 12 s" in text, text


# -- release --------------------------------------------------------------------------------

def test_release_is_idempotent_and_leaks_nothing(tmp_path):
    course = make_course(tmp_path / "course")
    release(course)
    first = released(course).read_bytes()
    release(course)
    assert released(course).read_bytes() == first
    assert find_leaks(course) == []
    text = released(course).read_text()
    assert "raise NotImplementedError()" in text and "SECRET-" not in text
    # the leak finder is not blind: a released file holding a solution line is caught
    (course / "labs" / LAB / "notes.txt").write_text("    return sum(xs) / len(xs)\n")
    assert find_leaks(course) == ["labs/fixture_lab/notes.txt: 'return sum(xs) / len(xs)'"]


# -- the sandbox on its own -------------------------------------------------------------------

def run_sandboxed(course: Path, code: str, **traits) -> subprocess.CompletedProcess:
    cwd = course / "autograded" / "s" / LAB
    cwd.mkdir(parents=True, exist_ok=True)
    runtime = course.parent / "runtime"
    runtime.mkdir(exist_ok=True)
    sandbox = Sandbox(course_root=str(course), **traits)
    cmd = sandbox.wrap([sys.executable, "-c", code], str(cwd), str(runtime))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_sandbox_hides_the_course_and_allows_only_scratch_writes(tmp_path, monkeypatch):
    check_sandbox()
    monkeypatch.setenv("SECRET_TOKEN", "do not pass me on")
    course = make_course(tmp_path / "course")
    (course / "gradebook.db").write_text("grades")
    code = f"RNN_LIB = {str(REPO / 'rnn_lib')!r}\n" + """
import os, pathlib
def attempt(f):
    try:
        f(); return "ok"
    except OSError as e:
        return type(e).__name__
print(attempt(lambda: open("../../../gradebook.db").read()))
print(attempt(lambda: open("../../../nbgrader_config.py").read()))
print(attempt(lambda: open("scratch.txt", "w").write("x")))
print(attempt(lambda: open("/tmp/written-by-the-kernel.txt", "w").write("x")))
print(attempt(lambda: open("../../../new.txt", "w").write("x")))
print(os.environ.get("RNN_MODE"), "SECRET_TOKEN" in os.environ)
print(os.path.isdir(RNN_LIB))
"""
    done = run_sandboxed(course, code)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert lines[:5] == ["FileNotFoundError", "FileNotFoundError", "ok", "ok", "OSError"], lines
    assert lines[5:] == ["quick", "False", "True"], lines
    assert not (course / "autograded/s" / LAB / "scratch.txt").exists()  # thrown away
    assert (course / "gradebook.db").read_text() == "grades"


def test_sandbox_memory_limit_raises_memory_error(tmp_path):
    course = make_course(tmp_path / "course")
    code = "b = []\ntry:\n    while True: b.append(bytearray(2**26))\nexcept MemoryError:\n" \
           "    print('MemoryError after', len(b) * 64, 'MiB')\n"
    done = run_sandboxed(course, code, memory=2**30)
    assert "MemoryError after" in done.stdout, done.stderr
    assert int(done.stdout.split()[2]) < 1024


# -- the preprocessors ------------------------------------------------------------------------

def test_drop_stderr_noise_keeps_real_errors():
    noise = re.compile(load_config(REPO).DropStderrNoise.pattern)  # the course's own pattern
    text = ("/x.py:3: UserWarning: noisy\n  warnings.warn('noisy')\n"
            "counting: 100%|##########| 3/3 [00:00<00:00, 10.0it/s]\n\n")
    assert DropStderrNoise._clean(text, noise).strip() == ""
    real = "Traceback: something broke\n  in a line of its own\n"
    assert DropStderrNoise._clean(real, noise) == real


def test_hide_hidden_tests_strips_source_and_tracebacks():
    cell = nbformat.v4.new_code_cell(
        "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 4, 'f(2)'\n"
        "### END HIDDEN TESTS")
    cell.metadata.nbgrader = {"grade": True, "grade_id": "t", "points": 1, "locked": True,
                              "solution": False, "schema_version": 3}
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="f(2)",
                                           traceback=["----> 3 assert f(2) == 4, 'f(2)'"])]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    assert "f(2) == 4" not in nb.cells[0].source and "f(1) == 1" in nb.cells[0].source
    assert nb.cells[0].outputs[0].traceback == ["AssertionError: f(2)"]


def test_keep_first_grade_id_turns_copies_into_plain_cells():
    cells = [nbformat.v4.new_code_cell("x = 1") for _ in range(3)]
    for cell in cells[:2]:
        cell.metadata.nbgrader = {"grade": True, "grade_id": "t", "points": 1, "locked": True,
                                  "solution": False, "schema_version": 3}
    nb, _ = KeepFirstGradeId().preprocess(nbformat.v4.new_notebook(cells=cells), {})
    assert nb.cells[0].metadata.nbgrader["grade_id"] == "t"
    assert "nbgrader" not in nb.cells[1].metadata
    assert nb.cells[1].source.startswith("# nbgrader: a copy of graded cell 't'")


# -- collect ----------------------------------------------------------------------------------

def course_and_zip(tmp_path: Path, *names: str) -> tuple[Path, Path]:
    """A course and a zip whose entries are `names` (b"{}" each, b"1,2" for a .csv)."""
    archive = tmp_path / "in.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in names:
            zf.writestr(name, b"1,2" if name.endswith(".csv") else b"{}")
    return make_course(tmp_path / "course"), archive


def test_collect_unpacks_the_usual_layouts(tmp_path):
    course, archive = course_and_zip(
        tmp_path, "export/ada/fixture_lab/fixture_lab.ipynb", "export/ada/fixture_lab/data.csv",
        "export/bob/fixture_lab.ipynb", "export/cy_fixture_lab.ipynb", "export/__MACOSX/._junk")
    pairs = collect(course, archive, out=lambda line: None)
    assert pairs == [("ada", LAB), ("bob", LAB), ("cy", LAB)]
    assert (course / "submitted/ada/fixture_lab/data.csv").read_bytes() == b"1,2"
    assert (course / "submitted/cy/fixture_lab/fixture_lab.ipynb").exists()
    with pytest.raises(CollectError, match="exists already"):
        collect(course, archive, out=lambda line: None)
    assert collect(course, archive, force=True, out=lambda line: None) == pairs


def test_collect_lists_every_bad_name_and_unpacks_nothing(tmp_path):
    course, archive = course_and_zip(
        tmp_path, "ok_student/fixture_lab/fixture_lab.ipynb",
        "bad name!/fixture_lab/fixture_lab.ipynb", "eve/lab9/lab9.ipynb",
        "../escape/fixture_lab/x.ipynb")
    with pytest.raises(CollectError) as err:
        collect(course, archive, out=lambda line: None)
    message = str(err.value)
    assert "bad student id 'bad name!'" in message
    assert "unknown lab 'lab9'" in message
    assert "../escape/fixture_lab/x.ipynb: unsafe path" in message
    assert not (course / "submitted").exists()


def test_workers_share_one_queue_so_a_slow_notebook_holds_up_nobody(tmp_path):
    """JOBS=2: while one worker grades a slow submission, the other grades all the rest (a
    fixed stride would have left c to wait behind the slow one)."""
    course = make_course(tmp_path / "course")
    release(course)
    slow = "import time\n\n\ndef square(x):\n    time.sleep(6)\n    return x * x\n"
    write_submission(course, "a_slow", released(course),
                     lambda nb: SUBMISSIONS["correct"][0](nb, square=slow))
    for student in ("b", "c", "d"):
        write_submission(course, student, released(course), SUBMISSIONS["correct"][0])
    table = autograde(course, jobs=2, out=lambda line: None,
                      overrides={**LIMITS, "Execute.timeout": 60})
    assert [row["score"] for row in table] == ["10"] * 4, table
    logs = sorted((layout(course).status / "logs").glob("worker-*.log"))
    graded = sorted(re.findall(r"grading (\S+) / ", log.read_text()) for log in logs)
    assert graded == [["a_slow"], ["b", "c", "d"]], graded


def test_release_stops_when_the_solution_fails_its_own_tests(tmp_path):
    from coursetools.grading.release import ReleaseError

    course = make_course(tmp_path / "course")
    source = course / "solutions" / LAB / f"{LAB}.ipynb"
    source.write_text(source.read_text().replace("return x * x", "return x + x"))
    with pytest.raises(ReleaseError, match="fails its own tests test_square"):
        release(course)
