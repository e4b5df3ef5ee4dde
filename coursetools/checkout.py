"""A fresh copy of the repository, as `git clone` of this working tree would give it.

The copy holds the tracked files and the files not yet committed and not ignored (no
gradebook, no submitted/, no build/); its `.venv` is a link to this repository's, since
`make install` would take a minute. The grading tests and `bench/grading.py` work in one.
"""

import os
import shutil
import subprocess
from pathlib import Path

# What the Makefile installs .venv from: a copy whose files are newer than the venv's stamp
# would reinstall the shared venv from the copy (pointing its package and kernel at a folder
# that is about to be deleted), so fresh_copy refuses instead.
INSTALLED_FROM = ("pyproject.toml", "jupyter/overrides.json")


class StaleVenv(RuntimeError):
    """The repository's .venv is older than what it is installed from."""


def fresh_copy(repo: Path, dest: Path) -> Path:
    """Copy what a clone of `repo`'s working tree holds into `dest`; link `.venv`.

    Raises StaleVenv when `repo`'s .venv is missing or older than pyproject.toml (make in the
    copy would reinstall the shared venv into the copy).
    """
    repo = Path(repo).resolve()
    stamp = repo / ".venv" / ".installed"
    newer = [name for name in INSTALLED_FROM if not stamp.exists()
             or (repo / name).stat().st_mtime > stamp.stat().st_mtime]
    if newer:
        raise StaleVenv(f"{repo / '.venv'} is missing or older than {', '.join(newer)}: run "
                        f"`make install` in {repo} first (a copy shares that venv)")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=repo, capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = repo / name
        if source.is_file():  # a deleted, not yet committed file is listed but gone
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)  # keeps mtimes: make sees .venv as up to date
    (dest / ".venv").symlink_to(repo / ".venv")
    return dest


def user_env(repo: Path) -> dict[str, str]:
    """A user's shell for `make` in a copy: no `.venv/bin` of `repo` on PATH, no thread
    settings, no make flags or pytest variables inherited from the caller."""
    venv = str(Path(repo).resolve() / ".venv")
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
           and not k.startswith("PYTEST")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and not p.startswith(venv))
    return env
