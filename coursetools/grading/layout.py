"""Where the grading files live: read once from nbgrader's `CourseDirectory` as the course's
nbgrader_config.py sets it (`c.CourseDirectory.source_directory = "solutions"`, ...).

    layout(root).source       solutions/     the instructor's labs, with solutions and tests
    layout(root).release      labs/          the student versions (`make release`)
    layout(root).submitted    submitted/     <student>/<lab>/ (`make collect`)
    layout(root).autograded   autograded/    <student>/<lab>/, as nbgrader graded them
    layout(root).status       autograded/.status/   <lab>/<student>.json (report.py)
    layout(root).feedback     feedback/      <student>/<lab>/<notebook>.html
    layout(root).references   reference_checks/     <lab>/<notebook>.json (checks.py)

Every module of coursetools.grading takes its folders from here, so renaming one in
nbgrader_config.py renames it for nbgrader and for this package alike. `load_config` is the
one reader of that file (with command-line overrides on top).
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

CONFIG_FILE = "nbgrader_config.py"
REFERENCE_DIR = "reference_checks"  # the course's own folder (checks.py), not nbgrader's


def load_config(root: Path, overrides: dict | None = None) -> Config:
    """The course's nbgrader_config.py, with `overrides` ({"Section.name": value}) on top."""
    config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    config.Sandbox.course_root = str(root)
    extra = Config()
    for key, value in (overrides or {}).items():
        section, name = key.split(".")
        extra[section][name] = value
    config.merge(extra)
    return config


@dataclass(frozen=True)
class Layout:
    root: Path
    source: Path
    release: Path
    submitted: Path
    autograded: Path
    feedback: Path
    references: Path

    @property
    def status(self) -> Path:
        """Hidden inside autograded/ (nbgrader skips dot folders there)."""
        return self.autograded / ".status"

    def rel(self, path: Path) -> str:
        """`path` as a user types it from the course root (for messages)."""
        return str(Path(path).relative_to(self.root))


def layout(root: Path, config: Config | None = None) -> Layout:
    """The folders of the course at `root`, from `config` (default: its nbgrader_config.py)."""
    root = Path(root).resolve()
    if config is None:
        return _cached(str(root), _stamp(root))
    course = CourseDirectory(config=config)
    return Layout(root, *(root / getattr(course, f"{step}_directory") for step in
                          ("source", "release", "submitted", "autograded", "feedback")),
                  root / REFERENCE_DIR)


def _stamp(root: Path) -> tuple[int, int]:
    """Changes when nbgrader_config.py does, so an edited file is read again."""
    try:
        stat = (root / CONFIG_FILE).stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _cached(root: str, stamp: tuple[int, int]) -> Layout:
    path = Path(root)
    return layout(path, load_config(path) if stamp != (0, 0) else Config())
