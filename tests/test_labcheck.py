"""rnn_lib.labcheck's test helpers, which the labs' locked cells import: the one relative error
of the course, the close check (which also reports to the grader), the inputs, the wrappers."""

import functools

import numpy as np
import pytest
import torch

from rnn_lib import labcheck
from rnn_lib.labcheck import call, check_close, fit, linspace, randn, rel_error, say


def test_rel_error_is_the_norm_ratio_for_arrays_tensors_and_numbers():
    x, y = np.array([3.0, 4.0]), np.array([3.0, 4.0 + 1e-3])
    assert rel_error(x, y) == pytest.approx(1e-3 / (5.0 + np.linalg.norm(y)), rel=1e-12)
    assert rel_error(torch.tensor(x, dtype=torch.float32), y) == pytest.approx(
        rel_error(x, y), rel=1e-4)
    assert rel_error(torch.ones(3, requires_grad=True), -np.ones(3)) == pytest.approx(1.0)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0 and rel_error(2.0, 2.0) == 0.0
    assert rel_error(torch.zeros(0), torch.zeros(0)) == 0.0


def test_the_grader_and_bptt_use_the_same_rel_error():
    from coursetools.grading import checks
    from rnn_lib import bptt

    assert checks.rel_error is rel_error and bptt.rel_error is rel_error


def test_check_close_passes_within_tol_and_names_each_kind_of_failure(monkeypatch):
    recorded = []
    monkeypatch.setattr(labcheck, "record", lambda *args: recorded.append(args))
    expected = torch.linspace(-1, 1, 6).reshape(2, 3)
    assert check_close(expected + 1e-9, expected, "f", tol=1e-6) < 1e-6
    assert recorded[0][0] == "f" and recorded[0][2] == 1e-6
    failures = {
        "expected a torch.Tensor, got ndarray": expected.numpy(),
        "expected shape (2, 3), got (3, 2)": expected.T,
        "expected dtype torch.float32 (the inputs' dtype), got torch.float64": expected.double(),
        "NaN or inf": expected.masked_fill(expected > 0.5, float("nan")),
        "relative error 5.0e-01 against torch.nn, expected below 1e-06": 3 * expected,
    }
    for message, got in failures.items():
        with pytest.raises(AssertionError, match=r"^f: ") as error:
            check_close(got, expected, "f", tol=1e-6, against="torch.nn")
        assert message in str(error.value)
    assert len(recorded) == 2  # reported only once the shape, dtype and values are sound


def test_randn_and_linspace_are_fixed_by_their_arguments_and_leave_the_global_seed():
    torch.manual_seed(0)
    before = torch.get_rng_state()
    a = randn(2, 3, seed=5)
    assert torch.equal(torch.get_rng_state(), before)
    assert a.shape == (2, 3) and a.dtype == torch.float32
    assert torch.equal(randn(2, 3, seed=5, scale=2.0), 2 * a)
    assert not torch.equal(randn(2, 3, seed=6), a)
    assert randn(4, dtype=torch.float64).dtype == torch.float64
    grid = linspace(-1.0, 1.0, 2, 3, dtype=torch.float64)
    assert grid.shape == (2, 3) and grid[0, 0] == -1.0 and grid[-1, -1] == 1.0


def test_say_and_fit_keep_every_line_within_88_characters():
    assert say("f", "short") == "f: short"
    long = say("rnn_step_forward", "x " * 60)
    assert long.startswith("rnn_step_forward:\n")
    assert max(len(line) for line in long.splitlines()) <= 88
    assert fit("a\nb") == "a\nb"


def test_call_names_the_case_but_lets_an_unwritten_answer_through():
    def broken(x):
        return x / 0

    with pytest.raises(AssertionError, match="case 1: raised ZeroDivisionError"):
        call("case 1", broken, 1)

    def stub():
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        call("case 2", stub)
    assert call("case 3", max, 2, 5) == 5


def helper():
    return "student's"


def uses_helper():
    return helper()


def test_with_references_swaps_a_global_for_one_call_and_restores_it():
    run = labcheck.with_references(uses_helper, helper=lambda: "reference")
    assert run() == "reference"
    assert uses_helper() == "student's"


def test_first_mistake_names_the_first_mistake_reproduced_and_skips_broken_ones():
    x = torch.linspace(-1, 1, 4)

    def broken():
        raise RuntimeError("cannot build this mistake here")

    mistakes = [("broken", broken), ("other shape", lambda: x[:2]), ("doubled", lambda: 2 * x),
                ("doubled again", lambda: 2 * x)]
    assert labcheck.first_mistake(mistakes, 2 * x) == "doubled"
    assert labcheck.first_mistake(mistakes, 3 * x) is None
    pair = [("swapped", lambda: (x, -x))]
    assert labcheck.first_mistake(pair, (x, -x)) == "swapped"
    assert labcheck.first_mistake(pair, (x,)) is None and labcheck.first_mistake(pair, x) is None


def test_code_names_reads_globals_attributes_and_imports_not_what_the_source_binds():
    free, named = labcheck.code_names(
        "import torch.nn as tnn\nfrom rnn_lib.cells import lstm_cell\n"
        "def f(x, w):\n    h = helper(x) @ w\n    return tnn.LSTM(h), torch.tanh(h), lstm_cell\n")
    assert free == {"helper", "torch"}  # x, w, h, f, tnn and lstm_cell are bound here
    assert {"torch", "nn", "rnn_lib", "cells", "lstm_cell", "LSTM", "tanh"} <= named
    with pytest.raises(SyntaxError):
        labcheck.code_names("def f(:")


def run_notebook_code(source: str) -> dict:
    """Run `source` as a notebook cell would: in globals named __main__ (code run by exec has
    no source to read, so forbidden_uses reads the code objects)."""
    namespace = {"__name__": "__main__"}
    exec(compile(source, "<cell>", "exec"), namespace)  # noqa: S102 - the test's own code
    return namespace


def test_forbidden_uses_follows_helpers_not_other_answers_and_refuses_rnn_lib_objects():
    cell = run_notebook_code(
        "import torch\nfrom rnn_lib import cells\nfrom rnn_lib.cells import lstm_cell as mine\n"
        "def helper(x):\n    return torch.lstm_cell(x)\n"
        "def other_answer(x):\n    return torch.lstm_cell(x)\n"
        "def via_helper(x):\n    return helper(x) + other_answer(x)\n"
        "def via_alias(x):\n    return mine(x)\n"
        "def via_module(x):\n    return cells.gru_cell(x)\n"
        "def clean(x):\n    return torch.tanh(x) + other_answer(x)\n"
        "def recursive(x):\n    return recursive(x - 1) if x else helper(x)\n")
    uses = functools.partial(labcheck.forbidden_uses, forbidden={"lstm_cell", "gru_cell"},
                             answers={"other_answer"})
    assert uses(cell["via_helper"]) == {"helper -> lstm_cell"}
    assert uses(cell["via_alias"]) == {"mine"}  # an rnn_lib function under another name
    assert uses(cell["via_module"]) == {"cells", "gru_cell"}
    assert uses(cell["clean"]) == set()
    assert uses(cell["recursive"]) == {"helper -> lstm_cell"}
    assert labcheck.forbidden_uses(cell["via_alias"], set(), is_forbidden=lambda obj: False) \
        == set()


def test_forbidden_uses_reads_the_source_when_there_is_one():
    def answer(x):
        lstm_cell = x  # a local variable of that name is not the forbidden function
        return lstm_cell * 2

    def cheat(x):
        from torch.nn import LSTM
        return LSTM

    assert labcheck.forbidden_uses(answer, {"lstm_cell"}) == set()
    assert labcheck.forbidden_uses(cheat, {"LSTM"}) == {"LSTM"}


def test_assert_own_code_states_the_rule_and_what_was_used():
    cell = run_notebook_code("import torch\ndef f(x):\n    return torch.lstm_cell(x)\n")
    with pytest.raises(AssertionError, match=r"f uses \['lstm_cell'\]: this lab asks for your"):
        labcheck.assert_own_code(cell["f"], {"lstm_cell"}, "your own tensor operations")
    labcheck.assert_own_code(cell["f"], {"gru_cell"}, "your own tensor operations")
    with pytest.raises(AssertionError, match="expected a function, got int"):
        labcheck.assert_own_code(3, {"lstm_cell"}, "your own code")
