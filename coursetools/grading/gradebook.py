"""The gradebook: where it is, and opening it so that it works however the course is invoked.

nbgrader's `Gradebook` creates a missing gradebook and then runs the `alembic` executable from
PATH to stamp its schema version. A TA who runs `.venv/bin/python -m coursetools.grading ...`
(or `make autograde`) has no `.venv/bin` on PATH: nbgrader used to fail there with
`FileNotFoundError: 'alembic'`, leaving a gradebook without its `alembic_version` table. Here
the Python installation's own bin/ folder goes first on PATH (for this process and for every
nbgrader subprocess), and a gradebook left unstamped by that crash is stamped on opening.
"""

import os
import sqlite3
import sys
from pathlib import Path


class GradebookError(RuntimeError):
    """The gradebook cannot be opened; the message says what to do."""


def tools_bin() -> str:
    """The folder of this Python's executables (alembic, nbgrader, jupyter): .venv/bin."""
    return os.path.dirname(os.path.abspath(sys.executable))


def _with_tools(path: str) -> str:
    parts = [p for p in path.split(os.pathsep) if p]
    return os.pathsep.join([tools_bin(), *[p for p in parts if p != tools_bin()]])


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader subprocesses: this Python's bin/ first on PATH."""
    env = dict(os.environ)
    env["PATH"] = _with_tools(env.get("PATH", ""))
    return env


def put_tools_on_path() -> None:
    """Put this Python's bin/ first on this process's PATH (nbgrader calls `alembic`)."""
    os.environ["PATH"] = _with_tools(os.environ.get("PATH", ""))


def gradebook_url(config, root: Path) -> tuple[str, str]:
    """(database URL, course id) from the course's configuration; relative SQLite paths are
    taken from the course root, whatever the current folder."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    db_url = coursedir.db_url
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        db_url = f"sqlite:///{Path(root) / db_url[len('sqlite:///'):]}"
    return db_url, coursedir.course_id


def stamp_if_unversioned(db_url: str) -> bool:
    """Stamp an SQLite gradebook that has nbgrader's tables but no `alembic_version` (what the
    old alembic crash left behind) with nbgrader's current schema version; True if it did.

    The tables were created by nbgrader's current models, so its head revision is the right
    stamp; without it a later nbgrader would try to migrate them from scratch.
    """
    if not db_url.startswith("sqlite:///"):
        return False
    path = Path(db_url[len("sqlite:///"):])
    if not path.is_file():
        return False
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables or "alembic_version" in tables:
            return False
        version = _alembic_head()
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (version,))
    return True


def open_gradebook(db_url: str, course_id: str):
    """nbgrader's Gradebook for the course, created when missing (use it as a context manager)."""
    from nbgrader.api import Gradebook

    stamp_if_unversioned(db_url)
    return _with_alembic(Gradebook, db_url, course_id)


def _alembic_head() -> str:
    from nbgrader.api import get_alembic_version

    return _with_alembic(get_alembic_version)


def _with_alembic(fn, *args):
    """fn(*args), which may run nbgrader's `alembic`: with it on PATH, or a clear error."""
    put_tools_on_path()
    try:
        return fn(*args)
    except FileNotFoundError as err:
        raise GradebookError(
            f"expected nbgrader's `alembic` command in {tools_bin()}, got {err}: "
            "run `make install` (it installs alembic with nbgrader)") from err
