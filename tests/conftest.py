"""Shared test set-up."""

import os

import pytest
import torch

# pytest-xdist runs one worker per core: one PyTorch thread each, or small RNNs slow tenfold.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def executed_build(tmp_path_factory):
    """A build/ that every test worker of this run shares: test_notebooks executes the
    notebooks into it, test_publish makes the slides and the site from them, and each notebook
    runs once (coursetools.publish.executed.run_once)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # .../pytest-N/popen-gw0 -> .../pytest-N
    path = base / "executed-build"
    path.mkdir(exist_ok=True)
    return path
