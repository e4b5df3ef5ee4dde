"""Run a lab's source notebook in-process, cell by cell, with answers swapped for other code.

A lab's autograded test cells (hidden tests included) must pass the reference answers and fail
the classic mistakes; a hidden test that a wrong answer passes is a defect. A kernel costs
seconds per run, so the lab tests (tests/test_lab*.py) exec the notebook's code cells in a
plain dict instead, which takes milliseconds a cell and lets one test file try dozens of
wrong answers:

    cells = read_cells(lab_path("lab1_cells"))  # {grade_id: source}, in notebook order
    wrong = swap_solution(cells["rnn_step"], "h_next = torch.tanh(x @ weight_ih.T)")
    errors = run_cells({**cells, "rnn_step": wrong})  # {grade_id: None or "Error: message"}

pytest imports this module because tests/ has no __init__.py: its default "prepend" import
mode puts tests/ on sys.path before it imports a test file (under pytest-xdist too).
"""

import ast
import hashlib
import linecache
import re
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

# One "### BEGIN SOLUTION" ... "### END SOLUTION" block, markers included; group 1 is the
# indentation of the BEGIN line, which the replacement body takes.
_SOLUTION = re.compile(
    r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(?:\n|\Z)",
    re.MULTILINE | re.DOTALL)
# One "### BEGIN HIDDEN TESTS" ... "### END HIDDEN TESTS" region, markers included.
_HIDDEN = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS[^\n]*\n.*?^[ \t]*### END HIDDEN TESTS[^\n]*(?:\n|\Z)",
    re.MULTILINE | re.DOTALL)


def lab_path(lab: str) -> Path:
    """The source notebook of a lab: solutions/<lab>/<lab>.ipynb (e.g. lab="lab1_cells")."""
    return ROOT / "solutions" / lab / f"{lab}.ipynb"


def _code_cells(path):
    """(name, cell) for each code cell: its nbgrader grade_id, or "cell<k>" (k = its index)."""
    for k, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type == "code":
            yield cell.metadata.get("nbgrader", {}).get("grade_id", f"cell{k}"), cell


def read_cells(path) -> dict[str, str]:
    """{name: source} of every code cell of the notebook at `path`, in notebook order.

    A cell's name is its nbgrader grade_id; an untagged code cell is named "cell<k>", where k
    is its index among all the notebook's cells (markdown included).
    """
    return {name: cell.source for name, cell in _code_cells(path)}


def graded_cells(path) -> list[str]:
    """The grade_ids of the autograded test cells (nbgrader "grade": true), in notebook order."""
    return [name for name, cell in _code_cells(path)
            if cell.metadata.get("nbgrader", {}).get("grade")]


def run_cell(source: str, namespace: dict, name: str = "cell"):
    """exec one cell's `source` in `namespace`, as a kernel would run it; exceptions propagate.

    Returns what the kernel would display as the cell's result: the value of a final
    expression statement (None when there is none, or when a ";" ends the cell).

    The code is registered in linecache under a name unique to its text, so tracebacks show
    its lines and inspect.getsource works on the functions it defines (lab3's tests read
    them), even after another version of the same cell has run.
    """
    digest = hashlib.sha1(source.encode()).hexdigest()[:8]
    filename = f"<cell {name} {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tree = ast.parse(source, filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, filename, "exec"), namespace)
    return None if last is None else eval(compile(last, filename, "eval"), namespace)


def run_cells(cells: dict[str, str], namespace: dict | None = None,
              names=None, shown: dict | None = None) -> dict[str, str | None]:
    """Run cells in order, as "Run All" would, going on after a failure (nbgrader does too).

    Args:
    - cells: {name: source}, as read_cells gives (answers swapped or not)
    - namespace: the globals to run in; by default a fresh one named "__main__", as in a
      kernel (the labs' from-scratch checks follow only functions defined in "__main__")
    - names: the cells to run, in this order; by default all of `cells`
    - shown: a dict that receives {name: result} for each cell that ran and ends with an
      expression whose value is not None (what a kernel would display)

    Returns {name: None if the cell ran, else "ExceptionType: message"}.
    """
    namespace = {"__name__": "__main__"} if namespace is None else namespace
    results = {}
    for name in cells if names is None else names:
        try:
            value = run_cell(cells[name], namespace, name)
            results[name] = None
            if value is not None and shown is not None:
                shown[name] = value
        except Exception as error:  # noqa: BLE001 - a failing cell is a result, not a crash
            results[name] = f"{type(error).__name__}: {error}"
    return results


def strip_hidden(source: str) -> str:
    """`source` without its "### BEGIN/END HIDDEN TESTS" regions: the student's version."""
    return _HIDDEN.sub("", source)


def long_lines(message: str, width: int = 88) -> list[str]:
    """The lines of a failure message longer than `width` (nbgrader validate cuts them)."""
    return [line for line in message.splitlines() if len(line) > width]


def swap_solution(source: str, *bodies: str) -> str:
    """`source` with the code of each "### BEGIN/END SOLUTION" block replaced by a body.

    Give one body per block, in order. Each body is dedented, then indented like the block's
    BEGIN line; the markers go too, as they would in a student's copy. Raises ValueError when
    the number of bodies is not the number of blocks.
    """
    blocks = _SOLUTION.findall(source)
    if len(blocks) != len(bodies):
        raise ValueError(f"expected {len(blocks)} replacement bodies (one per solution block), "
                         f"got {len(bodies)}")
    replacements = iter(bodies)

    def replace(match):
        body = textwrap.dedent(next(replacements)).strip("\n")
        return textwrap.indent(body, match.group(1)) + "\n"

    return _SOLUTION.sub(replace, source)
