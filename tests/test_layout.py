"""One source for the grading folders and the sandbox limits: nbgrader_config.py, read through
nbgrader's CourseDirectory (coursetools/grading/layout.py) and the Sandbox's traits."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from coursetools.grading.autograde import find_submissions, lab_notebooks, notebook_names
from coursetools.grading.checks import reference_path
from coursetools.grading.collect import collect
from coursetools.grading.layout import layout, load_config
from coursetools.grading.release import source_labs
from coursetools.grading.report import Status, all_statuses, write_status
from coursetools.grading.sandbox import Sandbox

REPO = Path(__file__).resolve().parent.parent


def test_the_course_layout_is_nbgraders_as_configured():
    folders = layout(REPO)
    assert [folders.rel(p) for p in (folders.source, folders.release, folders.submitted,
                                     folders.autograded, folders.feedback, folders.status,
                                     folders.references)] == [
        "solutions", "labs", "submitted", "autograded", "feedback", "autograded/.status",
        "reference_checks"]
    assert source_labs(REPO) == ["lab1_cells", "lab2_stocks", "lab3_attention"]


def renamed_course(tmp_path: Path) -> Path:
    """A course whose config renames every folder: the package must follow it."""
    config = (REPO / "nbgrader_config.py").read_text()
    for step, name in [("source", "instructor"), ("release", "student"),
                       ("submitted", "inbox"), ("autograded", "graded"),
                       ("feedback", "reports")]:
        old = f'c.CourseDirectory.{step}_directory = "'
        start = config.index(old) + len(old)
        config = config[:start] + name + config[config.index('"', start):]
    (tmp_path / "nbgrader_config.py").write_text(config)
    lab = tmp_path / "instructor" / "lab9"
    lab.mkdir(parents=True)
    (lab / "lab9.ipynb").write_text("{}")
    return tmp_path


def test_every_module_follows_a_renamed_folder(tmp_path):
    course = renamed_course(tmp_path)
    assert source_labs(course) == ["lab9"] and lab_notebooks(course, "lab9") == ["lab9.ipynb"]
    archive = tmp_path / "subs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ada/lab9/lab9.ipynb", "{}")
    assert collect(course, archive, out=lambda *_: None) == [("ada", "lab9")]
    assert (course / "inbox/ada/lab9/lab9.ipynb").is_file()
    assert find_submissions(course, ["lab9"], None) == ([("ada", "lab9")], [])
    problem, _ = notebook_names(course, "bob", "lab9")
    assert problem == "expected lab9.ipynb, found no notebook"
    write_status(course, Status("ada", "lab9", "graded", "d"))
    assert (course / "graded/.status/lab9/ada.json").is_file()
    assert [s.student for s in all_statuses(course)] == ["ada"]
    assert reference_path(course, "lab9", "lab9.ipynb") == (
        course.resolve() / "reference_checks/lab9/lab9.json")


def test_nbgrader_config_repeats_no_sandbox_default():
    """A value equal to the trait's default would hide that editing sandbox.py does nothing."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    traits = Sandbox.class_traits(config=True)
    repeated = [name for name, value in config.Sandbox.items()
                if value == traits[name].default()]
    assert repeated == [], f"nbgrader_config.py repeats Sandbox defaults: {repeated}"


def test_a_limit_set_in_the_config_reaches_the_sandbox_and_check_sandbox(tmp_path):
    shutil.copy(REPO / "nbgrader_config.py", tmp_path)
    with open(tmp_path / "nbgrader_config.py", "a") as handle:
        handle.write("c.Sandbox.memory = 3 * 2**30\nc.Sandbox.wall_seconds = 77\n")
    sandbox = Sandbox(config=load_config(tmp_path))
    assert (sandbox.memory, sandbox.wall_seconds) == (3 * 2**30, 77)
    assert Sandbox(config=load_config(REPO)).memory == Sandbox().memory  # the default
    done = subprocess.run([sys.executable, "-m", "coursetools.grading", "--root", str(tmp_path),
                           "check-sandbox"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"memory             {3 * 2**30}" in done.stdout
    assert "wall_seconds       77" in done.stdout
