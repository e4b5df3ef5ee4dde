"""Every notebook of the course: stored clean, parameterised, and running in quick mode.

The notebooks are discovered, not listed: a new notebook in lectures/ or solutions/ is
executed here without anyone editing this file.
"""

import json
from pathlib import Path

import pytest

from coursetools.notebooks import ROOT, discover
from coursetools.publish.executed import run_once

NOTEBOOKS = discover()
STORED = NOTEBOOKS + sorted((ROOT / "labs").rglob("*.ipynb"))
PARAMETERS = ("quick", "device", "seed")


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_the_course_has_notebooks():
    assert any(p.parent.name == "lectures" for p in NOTEBOOKS), "lectures/ has no notebook"


@pytest.mark.parametrize("path", STORED, ids=_ids(STORED))
def test_stored_without_outputs(path):
    nb = _load(path)
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; strip them (nbstripout)"
    assert "papermill" not in nb["metadata"], f"{path.name} is an executed copy (papermill)"


@pytest.mark.parametrize("path", STORED, ids=_ids(STORED))
def test_first_code_cell_is_the_parameters_cell(path):
    nb = _load(path)
    first = _code_cells(nb)[0]
    assert "parameters" in first["metadata"].get("tags", []), (
        f"{path.name}: the first code cell must be tagged 'parameters'")
    source = "".join(first["source"])
    for name in PARAMETERS:
        assert f"{name} = " in source, f"{path.name}: the parameters cell does not set {name}"
    assert nb["metadata"]["kernelspec"]["name"] == "rnn-course", (
        f"{path.name}: kernelspec must be rnn-course (the project's .venv)")


# The executed copies go to a folder the test workers share (executed_build, conftest.py):
# tests/test_publish.py makes the slides and the site from them. Whichever worker needs a
# notebook first runs it, under a lock; the other reads its result back from the copy.
@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_in_quick_mode(path, executed_build):
    result = run_once(path, executed_build, mode="quick", device="cpu", seed=0, threads=1)
    assert result.status == "ok", f"{result.notebook} failed: {result.error}"
    assert result.device == "cpu", "the notebook did not call rnn_lib.runtime.setup"
    # the robustness table shows what each lecture and each lab's solution measured
    assert result.figures, (f"{result.notebook} reported no figures: end it with "
                            "rnn_lib.runtime.report(name=value, ...)")
