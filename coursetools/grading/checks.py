"""Scores checked where the student cannot reach: the values each test checked, compared
outside the sandbox with the reference solution's, and the answers' source read outside too.

nbgrader scores a test cell by what the student's kernel reports, and an answer cell can
change that kernel (patch `torch.allclose` or a check helper, swallow exceptions). So:

* when a lab is released, `compute_references` runs its source notebook (the solution) in the
  sandbox and keeps, for every graded cell, the values it checked (`rnn_lib.labcheck.record`,
  called by the labs' check helpers): `reference_checks/<lab>/<notebook>.json`, beside the
  gradebook, never visible to a kernel;
* when a submission is graded, `CheckOutsideKernel` (after the sandboxed execution, before
  nbgrader saves the scores) fails a test cell that the kernel passed unless it reported the
  same checks, in the same order, with values within tolerance of the reference's (the
  tolerance is the reference's, never the kernel's);
* the answers the lab marks as written from scratch (`from_scratch` in the source notebook's
  metadata under `RULES_KEY`) are parsed here, and a use of a forbidden name fails their tests
  whatever the kernel said;
* a test cell scores all or nothing: an `execute_result` in it (which nbgrader would read as a
  partial score) is dropped.

What this cannot catch: a kernel that reports the values it was expected to produce (they are
computed in the same kernel), and a test of a training outcome, which has no single right
value and records nothing (`unchecked_cells` lists them).
"""

import json
import os
import tempfile
from pathlib import Path

import nbformat
import numpy as np
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from rnn_lib.labcheck import MIME, code_names, decode, rel_error

from .layout import layout

RULES_KEY = "rnn_course"  # source notebook metadata: {"from_scratch": {...}, "forbidden": [...]}
OUTSIDE = "CheckedOutsideTheKernel"


def records(cell) -> list[dict]:
    """The check payloads a cell's outputs hold, in order."""
    return [output["data"][MIME] for output in cell.get("outputs", [])
            if output.get("output_type") == "display_data" and MIME in output.get("data", {})]


def compare(got: list[dict], want: list[dict]) -> str:
    """Why the reported checks `got` do not match the reference's `want`, or ""."""
    if len(got) != len(want):
        return (f"the test reported {len(got)} checked value(s), the reference solution "
                f"{len(want)}: the checks did not run as written")
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        if g.get("name") != w["name"]:
            return f"check {k + 1} is {g.get('name')!r}, expected {w['name']!r}"
        try:
            value = decode(g)
        except (KeyError, TypeError, ValueError):
            return f"check {w['name']!r}: its value could not be read"
        reference = decode(w)
        if value.shape != reference.shape:
            return (f"check {w['name']!r}: shape {tuple(value.shape)}, the reference "
                    f"solution's {tuple(reference.shape)}")
        # the answer and the solution are each within tol of the test's expected value
        tol = 2 * float(w["tol"]) + 1e-7
        error = rel_error(value, reference) if np.all(np.isfinite(value)) else float("inf")
        if error > tol:
            return (f"check {w['name']!r}: relative error to the reference solution's value "
                    f"{error:.1e}, more than {tol:.0e}")
    return ""


def forbidden_names(source: str, forbidden: set[str]) -> set[str]:
    """The names of `forbidden` that Python source uses: attributes (`torch.nn.LSTM`), imports,
    and global names; a name the source binds itself (a local variable) does not count."""
    try:
        free, named = code_names(source)
    except SyntaxError:
        return set()  # it cannot run either: its tests fail in the kernel
    return (free | named) & forbidden


def from_scratch_problem(grade_id: str, rules: dict, answers: dict[str, str]) -> str:
    """Why an answer that test `grade_id` checks breaks the lab's from-scratch rule, or ""."""
    forbidden = set(rules.get("forbidden", []))
    for answer in rules.get("from_scratch", {}).get(grade_id, []):
        used = forbidden_names(answers.get(answer, ""), forbidden)
        if used:
            return (f"the answer {answer!r} uses {', '.join(sorted(used))} (read from its "
                    "source by the grader): this lab asks for your own tensor operations")
    return ""


def reference_path(root: Path, lab: str, notebook: str) -> Path:
    return layout(root).references / lab / f"{Path(notebook).stem}.json"


def compute_references(root: Path, lab: str, config) -> dict[str, dict]:
    """Run each source notebook of `lab` in the sandbox; write and return what it checked:
    {notebook: {"checks": {grade_id: [payload, ...]}, "rules": {...}}}."""
    from .sandbox import SandboxedExecute

    root = Path(root)
    found = {}
    for source in sorted((layout(root, config).source / lab).glob("*.ipynb")):
        nb = nbformat.read(source, as_version=4)
        with tempfile.TemporaryDirectory(prefix="nbg-reference-") as work:
            for extra in source.parent.iterdir():  # the lab's data files, as autograde has them
                if extra.is_file() and extra.suffix != ".ipynb":
                    os.symlink(extra, Path(work) / extra.name)
            nb, _ = SandboxedExecute(config=config).preprocess(nb, {"metadata": {"path": work}})
        checks, failed = {}, []
        for cell in nb.cells:
            if utils.is_grade(cell) and cell.cell_type == "code":
                grade_id = cell.metadata.nbgrader["grade_id"]
                checks[grade_id] = records(cell)
                if any(o.get("output_type") == "error" for o in cell.outputs):
                    failed.append(grade_id)
        if failed:
            raise RuntimeError(f"the reference solution {source.relative_to(root)} fails its "
                               f"own tests {', '.join(failed)}: fix it before releasing")
        entry = {"checks": checks, "rules": dict(nb.metadata.get(RULES_KEY, {}))}
        path = reference_path(root, lab, source.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(entry))
        found[source.name] = entry
    return found


def unchecked_cells(entry: dict) -> list[str]:
    """The graded cells whose verdict only the kernel gives (they record no value)."""
    return sorted(grade_id for grade_id, checks in entry["checks"].items() if not checks)


class CheckOutsideKernel(NbGraderPreprocessor):
    """Fail the test cells whose checked values or answers' source do not hold up outside."""

    course_root = Unicode("", help="The course root (where reference_checks/ is).").tag(
        config=True)

    def preprocess(self, nb, resources):
        lab = resources["nbgrader"]["assignment"]
        notebook = resources["nbgrader"]["notebook"]
        path = reference_path(Path(self.course_root or "."), lab, notebook)
        if not path.is_file():
            self.log.warning("no reference checks in %s: the scores are the kernel's", path)
            return nb, resources
        entry = json.loads(path.read_text())
        rules = entry.get("rules", {})
        answers = {cell.metadata.nbgrader["grade_id"]: cell.source for cell in nb.cells
                   if utils.is_solution(cell) and cell.cell_type == "code"}
        for cell in nb.cells:
            if utils.is_grade(cell) and cell.cell_type == "code":
                self._check_cell(cell, entry, rules, answers)
        return nb, resources

    @staticmethod
    def _check_cell(cell, entry: dict, rules: dict, answers: dict[str, str]) -> None:
        grade_id = cell.metadata.nbgrader["grade_id"]
        problems = [from_scratch_problem(grade_id, rules, answers)]
        passed = not any(o.get("output_type") == "error" for o in cell.outputs)
        if passed and grade_id in entry["checks"]:
            problems.append(compare(records(cell), entry["checks"][grade_id]))
        # all or nothing: no partial score read from the kernel's output
        cell.outputs = [o for o in cell.outputs if o.get("output_type") != "execute_result"
                        and not (o.get("output_type") == "display_data"
                                 and MIME in o.get("data", {}))]
        for problem in reversed([p for p in problems if p]):
            cell.outputs.insert(0, new_output("error", ename=OUTSIDE, evalue=problem,
                                              traceback=[f"{OUTSIDE}: {problem}"]))
