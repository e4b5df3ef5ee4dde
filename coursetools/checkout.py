"""A fresh copy of the repository, as `git clone` of this working tree would give it.

The copy holds the tracked files and the files not yet committed and not ignored (no
gradebook, no submitted/, no build/); its `.venv` is a link to this repository's, since
`make install` would take a minute. The grading tests and `bench/grading.py` work in one.
"""

import os
import shutil
import subprocess
from pathlib import Path


def fresh_copy(repo: Path, dest: Path) -> Path:
    """Copy what a clone of `repo`'s working tree holds into `dest`; link `.venv`."""
    repo = Path(repo).resolve()
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
