"""Send the values a lab's test cell checked out of the grading sandbox.

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

import base64

import numpy as np

MIME = "application/vnd.rnn-course.check+json"


def encode(value) -> dict:
    """{"shape", "data"}: `value` (a tensor, array, number or list) as little-endian float64."""
    if hasattr(value, "detach"):  # a torch tensor, without importing torch here
        value = value.detach().cpu().numpy()
    array = np.asarray(value, dtype=np.float64)
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
