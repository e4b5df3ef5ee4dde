"""The gradebook opens however the commands are invoked, and an unstamped one is repaired."""

import os
import sqlite3
import subprocess
import sys

import pytest

from coursetools.grading import gradebook
from coursetools.grading.sandbox import THREAD_ENV, Sandbox


@pytest.fixture
def bare_path(monkeypatch):
    """A PATH without this Python's bin/ folder, as a TA's shell has it."""
    bare = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and p != gradebook.tools_bin())
    monkeypatch.setenv("PATH", bare)
    return bare


def test_a_new_gradebook_is_created_and_stamped_without_bin_on_path(tmp_path, bare_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with gradebook.open_gradebook(url, "rnn-course") as gb:
        assert gb.assignments == []
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert len(version) == 12
    assert os.environ["PATH"].split(os.pathsep)[0] == gradebook.tools_bin()


def test_a_gradebook_left_unstamped_by_the_old_crash_is_stamped(tmp_path, bare_path):
    """What nbgrader left when `alembic` was not on PATH: its tables, no alembic_version."""
    path = tmp_path / "gradebook.db"
    code = ("from nbgrader.api import Base; from sqlalchemy import create_engine; "
            f"Base.metadata.create_all(create_engine('sqlite:///{path}'))")
    subprocess.run([sys.executable, "-c", code], check=True)
    url = f"sqlite:///{path}"
    assert gradebook.stamp_if_unversioned(url) is True
    assert gradebook.stamp_if_unversioned(url) is False  # once is enough
    with gradebook.open_gradebook(url, "rnn-course") as gb:
        gb.add_assignment("lab1_cells")
    # nbgrader's own migration tool now sees an up-to-date database
    done = subprocess.run([sys.executable, "-m", "nbgrader", "db", "upgrade"], cwd=tmp_path,
                          env=gradebook.nbgrader_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_missing_alembic_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(gradebook, "tools_bin", lambda: str(tmp_path / "nothing-here"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(gradebook.GradebookError, match="run `make install`"):
        gradebook.open_gradebook(f"sqlite:///{tmp_path / 'new.db'}", "rnn-course")


def test_each_kernel_gets_one_thread_whatever_the_grader_has(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    env = Sandbox().kernel_env("/home", "/mpl")
    assert {env[name] for name in THREAD_ENV} == {"1"}
    env = Sandbox(threads=2).kernel_env("/home", "/mpl")
    assert {env[name] for name in THREAD_ENV} == {"2"}
