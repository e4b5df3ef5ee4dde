"""The test cells of lab1_cells (hidden tests included), run without a kernel: the whole source
notebook runs as "Run All" would, with one answer's solution swapped for a classic mistake, and
exactly the graded test cells that should catch it fail, each with a message that names the
mistake, in lines that nbgrader validate shows whole."""

from typing import NamedTuple

import pytest
from labcells import (
    graded_cells,
    lab_path,
    long_lines,
    read_cells,
    run_cells,
    strip_hidden,
    swap_solution,
)

LAB = lab_path("lab1_cells")
CELLS = read_cells(LAB)
GRADED = graded_cells(LAB)


class Mutant(NamedTuple):
    answer: str  # grade_id of the answer cell whose solution block is swapped
    body: str  # what replaces the solution
    fails: set[str]  # the graded test cells it must fail, and no other
    says: str  # a phrase that every one of those failures says (the mistake, named)
    after: str = ""  # code appended to the answer cell (a helper the answer calls)


def _failures(mutant):
    """{graded test cell: its error} for those that fail after "Run All" with `mutant`."""
    cells = {**CELLS, mutant.answer: swap_solution(CELLS[mutant.answer], mutant.body)
             + mutant.after}
    results = run_cells(cells)
    return {name: results[name] for name in GRADED if results[name] is not None}


def test_notebook_has_graded_cells_and_solutions():
    assert all(name.startswith("test_") for name in GRADED), GRADED
    answers = {mutant.answer for mutant in MUTANTS.values()}
    assert answers == {"rnn_step", "lstm_step", "gru_step", "numerical_gradient",
                       "rnn_step_backward", "rnn_backward"}
    for answer in answers:
        assert CELLS[answer].count("### BEGIN SOLUTION") == 1, answer
    covered = set().union(*(mutant.fails for mutant in MUTANTS.values()))
    assert covered == set(GRADED), "every graded cell should catch at least one mistake"


def test_reference_answers_pass_every_cell():
    shown = {}
    results = run_cells(CELLS, shown=shown)  # the untagged cells too (the final gradient check)
    assert results == dict.fromkeys(CELLS), {k: e for k, e in results.items() if e}
    # nbgrader would try to read a displayed value as the cell's score ("cannot be converted
    # to a float"): a test cell ends with a statement, not with an expression.
    assert not {name: value for name, value in shown.items() if name in GRADED}


def test_student_version_passes_the_reference_answers_and_shows_nothing():
    """The visible checks alone (what students run, hidden tests removed) pass the reference
    answers, and no test cell ends with an expression that displays a value."""
    shown = {}
    visible = {name: strip_hidden(source) for name, source in CELLS.items()}
    results = run_cells(visible, shown=shown)
    assert results == dict.fromkeys(CELLS), {k: e for k, e in results.items() if e}
    assert not {name: value for name, value in shown.items() if name in GRADED}


RNN = "x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh"
RNN_TESTS = {"test_rnn_step", "test_rnn_step_edge"}
LSTM_TESTS = {"test_lstm_step", "test_lstm_step_edge"}
GRU_TESTS = {"test_gru_step", "test_gru_step_edge"}
BACKWARD_TESTS = {"test_rnn_backward", "test_rnn_backward_edge"}
NUMGRAD = """
grad = np.zeros_like(x)
for i in np.ndindex(x.shape):
    old = x[i]; x[i] = old + H; fp = f(x); x[i] = old - H; fm = f(x); RESTORE
    grad[i] = (fp - fm) / (2 * H)
"""
NUMGRAD_OK = NUMGRAD.replace("H", "h").replace("RESTORE", "x[i] = old")
STEP_BACKWARD = """
x, h_prev, W_ih, W_hh, h_next = cache
da = DA
dx, dh_prev, dW_ih, dW_hh, db = da @ W_ih, da @ W_hh, da.T @ x, da.T @ h_prev, da.sum(0)
"""
BACKWARD = """
N, T, H = dh.shape
dx = np.zeros((N, T, caches[0][0].shape[1])); dW_ih = dW_hh = db = 0
dh_prev = np.zeros((N, H))
for t in reversed(range(T)):
    dx[:, t], dh_prev, a, b_, c = rnn_step_backward(dh[:, t] + dh_prev, caches[t])
    dW_ih = dW_ih + a; dW_hh = dW_hh + b_; db = db + c
dh0 = dh_prev
"""
GRU = """
H = h_prev.shape[-1]
x_r, x_z, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=-1)
h_r, h_z, h_n = (h_prev @ weight_hh.T + bias_hh).chunk(3, dim=-1)
r = torch.sigmoid(x_r + h_r); z = torch.sigmoid(x_z + h_z)
n = torch.tanh(x_n + N)
h_next = (1 - z) * n + z * h_prev
"""
LSTM = """
gates = x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
a_i, a_f, a_g, a_o = gates.chunk(4, dim=-1)
i, f, o, g = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.sigmoid(a_o), torch.tanh(a_g)
c_next = f * c_prev + i * g
h_next = o * torch.tanh(c_next)
"""

ORDER = "your code reads the blocks of rows\nas "
MUTANTS = {
    "rnn: forgets bias_hh": Mutant(
        "rnn_step", f"h_next = torch.tanh({RNN.replace(' + bias_hh', '')})", RNN_TESTS,
        "bias_hh is missing"),
    "rnn: weight_hh transposed": Mutant(
        "rnn_step", f"h_next = torch.tanh({RNN.replace('weight_hh.T', 'weight_hh')})", RNN_TESTS,
        "it uses h_prev @ weight_hh, not h_prev @ weight_hh.T"),
    "rnn: torch.nn.RNNCell": Mutant("rnn_step", """
        cell = torch.nn.RNNCell(weight_ih.shape[1], weight_ih.shape[0]).to(x.device, x.dtype)
        cell.load_state_dict(dict(weight_ih=weight_ih, weight_hh=weight_hh, bias_ih=bias_ih,
                                  bias_hh=bias_hh))
        h_next = cell(x, h_prev)""", RNN_TESTS, "uses ['RNNCell'"),
    "rnn: torch.rnn_tanh_cell": Mutant(
        "rnn_step", "h_next = torch.rnn_tanh_cell(x, h_prev, weight_ih, weight_hh, bias_ih, "
        "bias_hh)", RNN_TESTS, "uses ['rnn_tanh_cell']"),
    "rnn: rnn_lib imported in the body": Mutant("rnn_step", """
        from rnn_lib.cells import rnn_cell as f
        h_next = f(x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh)""", RNN_TESTS,
                                                "no rnn_lib"),
    "rnn: torch.mm (no unbatched)": Mutant("rnn_step", """
        a = torch.mm(x, weight_ih.T) + bias_ih + torch.mm(h_prev, weight_hh.T) + bias_hh
        h_next = torch.tanh(a)""", {"test_rnn_step_edge"}, "unbatched x of shape (H_in,)"),
    "rnn: always float32": Mutant(
        "rnn_step", f"h_next = torch.tanh({RNN}).float()", {"test_rnn_step_edge"},
        "expected dtype torch.float64"),
    "rnn: unstable tanh": Mutant("rnn_step", f"""
        e = torch.exp(2 * ({RNN}))
        h_next = (e - 1) / (e + 1)""", {"test_rnn_step_edge"}, "very large inputs"),
    "lstm: order i,f,o,g": Mutant(
        "lstm_step", LSTM.replace("a_i, a_f, a_g, a_o", "a_i, a_f, a_o, a_g"), LSTM_TESTS,
        "gates g (rows 2H:3H) and o (rows 3H:4H) do not match: " + ORDER + "i, f, o, g"),
    "lstm: order f,i,g,o": Mutant(
        "lstm_step", LSTM.replace("a_i, a_f, a_g, a_o", "a_f, a_i, a_g, a_o"), LSTM_TESTS,
        "gates i (rows 0:H) and f (rows H:2H) do not match: " + ORDER + "f, i, g, o"),
    "lstm: sigmoid for g": Mutant(
        "lstm_step", LSTM.replace("torch.tanh(a_g)", "torch.sigmoid(a_g)"), LSTM_TESTS,
        "check which nonlinearity each gate uses"),
    "lstm: h = o * c (no tanh)": Mutant(
        "lstm_step", LSTM.replace("o * torch.tanh(c_next)", "o * c_next"), LSTM_TESTS,
        "c_next matches but h_next does not: h_next = o * tanh(c_next)"),
    "lstm: torch.lstm_cell in a helper": Mutant(
        "lstm_step", "h_next, c_next = _helper(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, "
        "bias_hh)", LSTM_TESTS, "uses ['_helper -> lstm_cell']", after="""

def _helper(*args):
    h, c = torch.lstm_cell(args[0], (args[1], args[2]), *args[3:])
    return h, c
"""),
    "lstm: [:, :H] slicing (no unbatched)": Mutant("lstm_step", """
        H = h_prev.shape[-1]
        gates = x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
        i, f = torch.sigmoid(gates[:, :H]), torch.sigmoid(gates[:, H:2*H])
        g, o = torch.tanh(gates[:, 2*H:3*H]), torch.sigmoid(gates[:, 3*H:])
        c_next = f * c_prev + i * g
        h_next = o * torch.tanh(c_next)""", {"test_lstm_step_edge"},
                                                     "(split with chunk(4, dim=-1))"),
    "gru: paper variant W_hn (r*h)": Mutant(
        "gru_step", GRU.replace("N)", "(r * h_prev) @ weight_hh[2*H:].T + bias_hh[2*H:])"),
        GRU_TESTS, "n looks like the paper's tanh(W_in x + b_in + W_hn (r * h) + b_hn)"),
    "gru: r excludes b_hn": Mutant(
        "gru_step", GRU.replace("N)", "r * (h_prev @ weight_hh[2*H:].T) + bias_hh[2*H:])"),
        GRU_TESTS, "b_hn belongs inside the\nreset gate's product"),
    "gru: z swapped": Mutant(
        "gru_step", GRU.replace("N)", "r * h_n)").replace("(1 - z) * n + z * h_prev",
                                                          "z * n + (1 - z) * h_prev"),
        GRU_TESTS, "h_next looks like z * n + (1 - z) * h_prev"),
    "gru: order z, r, n": Mutant(
        "gru_step", GRU.replace("N)", "r * h_n)").replace("x_r, x_z, x_n", "x_z, x_r, x_n")
        .replace("h_r, h_z, h_n", "h_z, h_r, h_n"), GRU_TESTS,
        "gates r (rows 0:H) and z (rows H:2H) do not match: " + ORDER + "z, r, n"),
    "numgrad: forward difference": Mutant("numerical_gradient", """
        grad = np.zeros_like(x)
        fx = f(x)
        for i in np.ndindex(x.shape):
            old = x[i]; x[i] = old + h; grad[i] = (f(x) - fx) / h; x[i] = old""",
                                          {"test_numerical_gradient"}, "forward difference"),
    "numgrad: works on a copy": Mutant(
        "numerical_gradient", "x = x.copy()\n" + NUMGRAD_OK.strip("\n"),
        {"test_numerical_gradient"}, "change x in place, do not copy it"),
    "numgrad: ignores h": Mutant(
        "numerical_gradient", NUMGRAD.replace("H", "1e-5").replace("RESTORE", "x[i] = old"),
        {"test_numerical_gradient"}, "with the h argument"),
    "numgrad: does not restore": Mutant(
        "numerical_gradient", NUMGRAD.replace("H", "h").replace(" RESTORE", ""),
        {"test_numerical_gradient"}, "x must be restored"),
    # rnn_backward is graded with a reference rnn_step_backward: a mistake in 5a costs 5a only.
    "step_backward: no tanh'": Mutant(
        "rnn_step_backward", STEP_BACKWARD.replace("DA", "dh_next"),
        {"test_rnn_step_backward"}, "is the gradient without tanh'"),
    "step_backward: imports torch": Mutant(
        "rnn_step_backward",
        "import torch as t\n" + STEP_BACKWARD.replace("DA", "dh_next * (1 - h_next**2)").strip(),
        {"test_rnn_step_backward"}, "uses ['torch']"),
    "rnn_backward: no recurrence (truncated to 1 step)": Mutant(
        "rnn_backward", BACKWARD.replace(" + dh_prev, caches", ", caches"), BACKWARD_TESTS,
        "dx has only each step's own gradient"),
    "rnn_backward: modifies dh in place": Mutant(
        "rnn_backward", BACKWARD.replace(
            "    dx[:, t], dh_prev, a, b_, c = rnn_step_backward(dh[:, t] + dh_prev,",
            "    dh[:, t] += dh_prev\n"
            "    dx[:, t], dh_prev, a, b_, c = rnn_step_backward(dh[:, t],"), BACKWARD_TESTS,
        "must not modify dh in place"),
    "rnn_backward: only the last step's weight gradient": Mutant("rnn_backward", """
        N, T, H = dh.shape
        dx = np.zeros((N, T, caches[0][0].shape[1]))
        dh_prev = np.zeros((N, H))
        for t in reversed(range(T)):
            dx[:, t], dh_prev, dW_ih, dW_hh, db = rnn_step_backward(dh[:, t] + dh_prev, caches[t])
        dh0 = dh_prev""", BACKWARD_TESTS, "sum over the steps"),
}


@pytest.mark.parametrize("name", MUTANTS)
def test_mistake_fails_exactly_its_test_cells(name):
    mutant = MUTANTS[name]
    failures = _failures(mutant)
    assert set(failures) == mutant.fails, failures
    for cell, error in failures.items():  # a check that explains, not a crash in the test code
        assert error.startswith("AssertionError: "), (cell, error)
        assert mutant.says in error, (cell, error)
        assert not long_lines(error.removeprefix("AssertionError: ")), (cell, error)


def test_swap_solution_replaces_each_block_and_its_markers():
    source = ("def f(x):\n    ### BEGIN SOLUTION\n    y = x\n    ### END SOLUTION\n"
              "    if y:\n        ### BEGIN SOLUTION\n        y = 1\n        ### END SOLUTION\n"
              "    return y\n")
    assert swap_solution(source, "\n        y = 2 * x\n", "y = 3\nz = 4") == (
        "def f(x):\n    y = 2 * x\n    if y:\n        y = 3\n        z = 4\n    return y\n")
    with pytest.raises(ValueError, match="expected 2 replacement bodies .*got 1"):
        swap_solution(source, "y = x")
