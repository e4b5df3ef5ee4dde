"""The labs' test helpers: one relative error, close checks, fixed and random inputs, and the
values a test cell checked, sent out of the grading sandbox.

The locked helper cell of each lab imports these (`from rnn_lib.labcheck import rel_error,
check_close, ...`) and keeps only what is its own (the reference models, the classic mistakes).

A test cell decides in the student's own kernel whether an answer is right, and code in an
answer cell can change that kernel (replace `torch.allclose` or the lab's `check_close`, catch
every exception). So the labs' `check_close` also calls `record(what, got, tol)`: the
student's output goes out as a display output of MIME type `MIME`, which no notebook front end
shows. The grader (coursetools/grading/checks.py) compares it, outside the sandbox, with the
value the reference solution gave for the same check when the lab was released; a test counts
only when the kernel's verdict and that comparison both pass.

Outside IPython (the lab tests run cells in-process), `record` does nothing.

    record("rnn_step_forward", h_next, tol=1e-6)
"""

import ast
import base64
import functools
import inspect
import textwrap
import types

import numpy as np

MIME = "application/vnd.rnn-course.check+json"


def encode(value) -> dict:
    """{"shape", "data"}: `value` (a tensor, array, number or list) as little-endian float64."""
    array = _float64(value)
    return {"shape": list(array.shape),
            "data": base64.b64encode(array.astype("<f8").tobytes()).decode("ascii")}


def decode(payload: dict) -> np.ndarray:
    """The array `encode` wrote."""
    data = np.frombuffer(base64.b64decode(payload["data"]), dtype="<f8")
    return data.reshape(payload["shape"])


def record(name: str, value, tol: float) -> None:
    """Report that this test checked `value` (the student's output) under `name`, to `tol`."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is None:
        return
    display({MIME: {"name": str(name), "tol": float(tol), **encode(value)}}, raw=True)


# The helpers of the labs' locked test cells, written once. They import torch when called, not
# here: the grader imports this module outside the kernel, where torch is not needed.


def _float64(value) -> np.ndarray:
    """`value` (a tensor, array, number or list) as a float64 NumPy array, on the CPU."""
    if hasattr(value, "detach"):  # a torch tensor, without importing torch here
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def rel_error(x, y) -> float:
    """The course's relative error ||x - y|| / (||x|| + ||y||) (Frobenius norms, in float64).

    Inputs: x, y: tensors, NumPy arrays or numbers of the same shape.
    Returns a float: 0 when both are 0; about 1e-7 in float32 (1e-15 in float64) when they
    agree to rounding; 1 when y = -x. The labs' checks, the grader (coursetools/grading/checks.py)
    and rnn_lib.bptt's gradient check all use this one.
    """
    x, y = _float64(x), _float64(y)
    denom = np.linalg.norm(x) + np.linalg.norm(y)
    return float(np.linalg.norm(x - y) / denom) if denom > 0 else 0.0


def fit(text, width: int = 88) -> str:
    """`text` with every line wrapped to `width` characters (nbgrader validate cuts longer
    lines)."""
    return "\n".join(textwrap.fill(line, width) if len(line) > width else line
                     for line in str(text).splitlines())


def say(what: str, problem: str) -> str:
    """The failure message "what: problem", on two lines when one would be too long."""
    one = f"{what}: {problem}"
    return one if "\n" not in one and len(one) <= 88 else fit(f"{what}:\n{problem}")


def call(what: str, fn, *args):
    """fn(*args), with any exception turned into a failed check that says which case broke
    (NotImplementedError, an answer not written yet, goes through as it is)."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as error:
        raise AssertionError(say(what, f"raised {type(error).__name__}: {error}")) from error


def check_close(got, expected, what: str, tol: float, against: str = "the reference") -> float:
    """Assert that `got` is a finite tensor like `expected` (shape, dtype) within relative
    error `tol` (rel_error), and report `got` to the grader (record); return the error.

    what: the check's name, the start of every failure message; against: what `expected`
    comes from, for the message ("torch.nn").
    """
    import torch

    assert torch.is_tensor(got), say(what, f"expected a torch.Tensor, got {type(got).__name__}")
    assert got.shape == expected.shape, say(
        what, f"expected shape {tuple(expected.shape)}, got {tuple(got.shape)}")
    assert got.dtype == expected.dtype, say(
        what, f"expected dtype {expected.dtype} (the inputs' dtype), got {got.dtype}")
    assert torch.isfinite(got).all(), say(what, "the output has NaN or inf values")
    record(what, got, tol)  # the grader compares it with the solution's, outside
    err = rel_error(got, expected)
    assert err < tol, say(
        what, f"relative error {err:.1e} against {against}, expected below {tol:.0e}")
    return err


def randn(*shape, dtype=None, scale: float = 1.0, seed: int = 0, device="cpu"):
    """scale * a standard normal tensor of `shape` (float32 unless `dtype`), drawn on the CPU
    from its own generator (the global seed is untouched, every device gets the same values),
    then moved to `device`."""
    import torch

    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(shape, generator=g, dtype=dtype or torch.float32)).to(device)


def linspace(lo: float, hi: float, *shape, dtype=None, device="cpu"):
    """Evenly spaced values from lo to hi reshaped to `shape` (float32 unless `dtype`), made on
    the CPU and moved to `device`: small fixed test inputs."""
    import torch

    n = int(np.prod(shape))
    return torch.linspace(lo, hi, n, dtype=dtype or torch.float32).reshape(shape).to(device)


def with_references(fn, **references):
    """fn, run with these notebook functions replaced by the given ones (restored after): a
    test of one answer that builds on others runs with reference versions of those, so that
    a mistake costs the points of its own answer only."""
    namespace = inspect.unwrap(fn).__globals__  # the notebook's (fn may be decorated)

    @functools.wraps(fn)
    def run(*args, **kwargs):
        saved = {name: namespace.get(name) for name in references}
        namespace.update(references)
        try:
            return fn(*args, **kwargs)
        finally:
            namespace.update(saved)

    return run


def first_mistake(mistakes, got, tol: float = 1e-6):
    """The message of the first of `mistakes` that `got` reproduces, or None.

    mistakes: (message, make) pairs; make() returns what that mistake would give (a tensor,
    or a tuple or list of tensors). got: the student's result, in the same form. A mistake
    whose make() raises, or gives other shapes, is skipped.
    """
    import torch

    got = got if isinstance(got, tuple | list) else (got,)
    for message, make in mistakes:
        try:
            wrong = make()
        except Exception:  # noqa: BLE001 - a mistake that cannot be reproduced here is skipped
            continue
        wrong = wrong if isinstance(wrong, tuple | list) else (wrong,)
        if len(wrong) == len(got) and all(
                torch.is_tensor(g) and torch.is_tensor(w) and g.shape == w.shape
                and rel_error(g, w) < tol for g, w in zip(got, wrong, strict=True)):
            return message
    return None


# The from-scratch rule: an answer must not call what the lab asks the student to write. The
# kernel follows the functions an answer calls (forbidden_uses); the grader, outside, reads the
# answer cells' source (coursetools/grading/checks.py). Both read names with code_names.


def code_names(source: str) -> tuple[set[str], set[str]]:
    """(free, named): the names Python `source` uses. free: the global names it reads (a name
    it binds itself, an argument or a local variable, is not one); named: the attributes it
    reads (`torch.nn.LSTM` gives nn and LSTM) and the parts of the modules it imports.

    Raises SyntaxError when the source does not parse.
    """
    bound, loaded, named = set(), set(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store | ast.Del) else loaded).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Attribute):
            named.add(node.attr)
        elif isinstance(node, ast.alias):
            named.update(node.name.split("."))
            bound.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            named.update(node.module.split("."))
    return loaded - bound, named


def _compiled_names(code) -> set[str]:
    """Every name a code object, and the code nested in it, refers to (globals, attributes and
    imported modules alike): what is left to read when the source is not available."""
    names = {part for name in code.co_names for part in name.split(".")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _compiled_names(const)
    return names


def from_rnn_lib(obj) -> bool:
    """Whether `obj` is the course library: one of its modules, or something defined in one."""
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
    return isinstance(module, str) and (module == "rnn_lib" or module.startswith("rnn_lib."))


def forbidden_uses(fn, forbidden, answers=(), is_forbidden=from_rnn_lib, _seen=None) -> set[str]:
    """The forbidden things function `fn` uses: the names of `forbidden` in its source, and
    the globals it reads that `is_forbidden` refuses (by default, anything from rnn_lib).

    It follows the functions of the notebook (module __main__) that `fn` calls, other than
    `answers` (another answer has its own tests), and names the way: "helper -> LSTM". A
    decorated function is read through its decorator; without its source (code run by
    exec), the names of its code object are read.
    """
    seen = set() if _seen is None else _seen
    fn = inspect.unwrap(fn)
    if fn in seen or not hasattr(fn, "__code__"):
        return set()
    seen.add(fn)
    try:
        free, named = code_names(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        free = named = _compiled_names(fn.__code__)
    found = (free | named) & set(forbidden)
    for name in sorted(free - found):
        obj = fn.__globals__.get(name)
        if isinstance(obj, types.FunctionType) and obj.__module__ == "__main__":
            if name not in answers:  # a helper written in the notebook: say through which
                inner = forbidden_uses(obj, forbidden, answers, is_forbidden, seen)
                found |= {f"{name} -> {what}" for what in inner}
        elif obj is not None and is_forbidden(obj):
            found.add(name)
    return found


def assert_own_code(fn, forbidden, rule: str, answers=(), is_forbidden=from_rnn_lib) -> None:
    """Fail when `fn` uses what it must not (forbidden_uses), with the lab's `rule`: "fn uses
    [...]: this lab asks for <rule>"."""
    assert callable(fn), f"expected a function, got {type(fn).__name__}"
    used = forbidden_uses(fn, forbidden, answers, is_forbidden)
    assert not used, fit(f"{fn.__name__} uses {sorted(used)}: this lab asks for {rule}")
