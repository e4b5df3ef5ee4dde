"""coursetools.checkout.fresh_copy: what a clone holds, sharing this repository's venv, and
never a copy whose make would reinstall that shared venv."""

import os
import subprocess

import pytest

from coursetools import checkout


def make_repo(root):
    """A small git repository with a .venv stamped after its pyproject.toml."""
    root.mkdir()
    (root / "jupyter").mkdir()
    for name in checkout.INSTALLED_FROM:
        (root / name).write_text("x\n")
    (root / ".gitignore").write_text(".venv/\nbuild/\n")
    (root / "build").mkdir()
    (root / "build" / "out.txt").write_text("ignored\n")
    (root / "untracked.txt").write_text("not committed yet\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "pyproject.toml", "jupyter", ".gitignore"], cwd=root,
                   check=True)
    (root / ".venv").mkdir()
    (root / ".venv" / ".installed").touch()
    later = (root / "pyproject.toml").stat().st_mtime + 10
    os.utime(root / ".venv" / ".installed", (later, later))
    return root


def test_fresh_copy_holds_tracked_and_untracked_files_not_ignored_ones(tmp_path):
    repo = make_repo(tmp_path / "repo")
    copy = checkout.fresh_copy(repo, tmp_path / "copy")
    assert (copy / "pyproject.toml").is_file() and (copy / "untracked.txt").is_file()
    assert not (copy / "build").exists()
    assert (copy / ".venv").resolve() == (repo / ".venv").resolve()
    assert (copy / "pyproject.toml").stat().st_mtime == (repo / "pyproject.toml").stat().st_mtime


def test_fresh_copy_refuses_a_venv_older_than_pyproject(tmp_path):
    repo = make_repo(tmp_path / "repo")
    later = (repo / ".venv" / ".installed").stat().st_mtime + 10
    os.utime(repo / "pyproject.toml", (later, later))  # edited after `make install`
    with pytest.raises(checkout.StaleVenv, match=r"older than pyproject.toml: run `make install`"):
        checkout.fresh_copy(repo, tmp_path / "copy")
    (repo / ".venv" / ".installed").unlink()
    with pytest.raises(checkout.StaleVenv, match="missing"):
        checkout.fresh_copy(repo, tmp_path / "copy2")
