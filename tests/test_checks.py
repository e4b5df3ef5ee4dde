"""The grader's own checks (coursetools/grading/checks.py), without a kernel: the values a test
reported against the solution's, the from-scratch rule read from the source, all or nothing."""

import json

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from coursetools.grading.checks import (
    OUTSIDE,
    CheckOutsideKernel,
    compare,
    forbidden_names,
    reference_path,
)
from rnn_lib.labcheck import MIME, decode, encode


def payload(name, value, tol=1e-6):
    return {"name": name, "tol": tol, **encode(value)}


def test_encode_decode_round_trip_keeps_shape_and_float64():
    value = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    back = decode(encode(value))
    assert back.shape == (2, 3) and back.dtype == np.float64
    assert np.array_equal(back, value.astype(np.float64))
    assert decode(encode(3)).shape == ()


def test_compare_names_each_kind_of_mismatch():
    want = [payload("a", [1.0, 2.0]), payload("b", [3.0])]
    assert compare([payload("a", [1.0, 2.0 + 1e-8]), payload("b", [3.0])], want) == ""
    assert "reported 1 checked value(s), the reference solution 2" in compare(want[:1], want)
    assert "check 2 is 'c', expected 'b'" in compare([want[0], payload("c", [3.0])], want)
    assert "shape (3,), the reference solution's (2,)" in compare(
        [payload("a", [1.0, 2.0, 3.0]), want[1]], want)
    assert "relative error" in compare([payload("a", [1.0, 2.5]), want[1]], want)
    assert "relative error" in compare([payload("a", [1.0, np.nan]), want[1]], want)
    # the tolerance is the reference's, whatever the kernel reported
    assert "relative error" in compare([payload("a", [1.0, 2.5], tol=1.0), want[1]], want)


def test_forbidden_names_reads_attributes_imports_and_globals_not_locals():
    forbidden = {"LSTM", "lstm", "gru", "rnn_lib", "_VF"}
    assert forbidden_names("import torch\nh = torch.nn.LSTM(3, 4)", forbidden) == {"LSTM"}
    assert forbidden_names("from rnn_lib.cells import lstm_cell", forbidden) == {"rnn_lib"}
    assert forbidden_names("y = torch._VF.lstm(x)", forbidden) == {"_VF", "lstm"}
    assert forbidden_names("y = gru(x)", forbidden) == {"gru"}  # a global: someone's function
    assert forbidden_names("def f(x):\n    gru = x * 2\n    return gru", forbidden) == set()
    assert forbidden_names("def f(lstm):\n    return lstm", forbidden) == set()
    assert forbidden_names("def f(:", forbidden) == set()  # does not parse: fails in the kernel


def graded(grade_id, outputs, points=2):
    cell = new_code_cell("check(...)", outputs=outputs)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True,
                                 "points": points, "schema_version": 3, "solution": False,
                                 "task": False}
    return cell


def answer(grade_id, source):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False,
                                 "schema_version": 3, "solution": True, "task": False}
    return cell


def shown(p):
    return new_output("display_data", data={MIME: p})


@pytest.fixture
def run(tmp_path):
    """Apply CheckOutsideKernel to a notebook, with a reference written for its lab."""
    reference = {"checks": {"test_f": [payload("f(1)", 2.0)], "test_g": [payload("g", [1.0])],
                            "test_free": []},
                 "rules": {"from_scratch": {"test_g": ["g"]}, "forbidden": ["LSTM"]}}
    path = reference_path(tmp_path, "lab", "lab.ipynb")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(reference))

    def apply(cells):
        nb = new_notebook(cells=cells)
        resources = {"nbgrader": {"assignment": "lab", "notebook": "lab"}}
        nb, _ = CheckOutsideKernel(course_root=str(tmp_path)).preprocess(nb, resources)
        return {c.metadata["nbgrader"]["grade_id"]: c.outputs for c in nb.cells}

    return apply


def errors(outputs):
    return [o.evalue for o in outputs if o.output_type == "error"]


def test_a_passing_kernel_verdict_needs_the_solution_s_values(run):
    out = run([answer("g", "def g():\n    return [1.0]"),
               graded("test_f", [shown(payload("f(1)", 2.0))]),
               graded("test_g", [shown(payload("g", [1.5]))])])
    assert errors(out["test_f"]) == [] and out["test_f"] == []  # the record itself is removed
    assert "relative error" in errors(out["test_g"])[0]
    out = run([answer("g", "def g():\n    return [1.0]"), graded("test_f", [])])
    assert "reported 0 checked value(s)" in errors(out["test_f"])[0]


def test_a_failing_kernel_verdict_stays_failed_and_a_partial_score_is_dropped(run):
    failed = new_output("error", ename="AssertionError", evalue="wrong", traceback=[])
    partial = new_output("execute_result", data={"text/plain": "1.5"}, execution_count=1)
    out = run([graded("test_f", [failed]), graded("test_free", [partial])])
    assert errors(out["test_f"]) == ["wrong"]
    assert out["test_free"] == []  # all or nothing: nbgrader would have read 1.5 points


def test_the_from_scratch_rule_is_read_from_the_source(run):
    source = "import torch\n\n\ndef g():\n    return torch.nn.LSTM(1, 1)"
    out = run([answer("g", source), graded("test_g", [shown(payload("g", [1.0]))])])
    (message,) = errors(out["test_g"])
    assert "the answer 'g' uses LSTM (read from its source by the grader)" in message
    assert out["test_g"][0].ename == OUTSIDE
