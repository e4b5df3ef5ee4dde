"""Where a notebook runs: the device it picks and the seed it sets.

Every notebook's `parameters` cell holds `quick`, `device` and `seed`, with defaults read from
the environment so that tools which cannot pass parameters (nbgrader's autograde) can still
choose them:

    RNN_MODE    "quick" (default) or "full"
    RNN_DEVICE  "auto" (default: CUDA when present), "cpu" or "cuda"
    RNN_SEED    an integer (default 0)

The cell after it calls `setup(device, seed)`, which returns the `torch.device` to use.
"""

import os
import random

import numpy as np
import torch

MODES = ("quick", "full")
DEVICES = ("auto", "cpu", "cuda")


class SetupError(ValueError):
    """A mode, device or seed that the course cannot run with."""


def env_mode() -> str:
    """The mode asked for by RNN_MODE ("quick" when unset); raises SetupError when unknown."""
    mode = os.environ.get("RNN_MODE", "quick").strip().lower()
    if mode not in MODES:
        raise SetupError(f"RNN_MODE must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


def env_quick() -> bool:
    """True unless RNN_MODE asks for "full"."""
    return env_mode() == "quick"


def env_device() -> str:
    """The device asked for by RNN_DEVICE ("auto" when unset)."""
    return os.environ.get("RNN_DEVICE", "auto").strip().lower()


def env_seed() -> int:
    """The seed asked for by RNN_SEED (0 when unset)."""
    raw = os.environ.get("RNN_SEED", "0")
    try:
        return int(raw)
    except ValueError:
        raise SetupError(f"RNN_SEED must be an integer, got {raw!r}") from None


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn "auto", "cpu" or "cuda" into a torch.device.

    "auto" picks CUDA when a GPU is visible and the CPU otherwise; "cuda" without a GPU is an
    error (a full-mode run that silently fell back to the CPU would take hours).
    """
    if isinstance(device, torch.device):
        device = device.type
    name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.split(":")[0] not in ("cpu", "cuda"):
        raise SetupError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SetupError(
            "device 'cuda' was asked for but no CUDA GPU is visible to PyTorch "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}); "
            "use device='auto' or 'cpu' on this machine"
        )
    return torch.device(name)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's generators so a run repeats on the same machine."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def setup(device: str | torch.device = "auto", seed: int = 0) -> torch.device:
    """Seed everything and resolve the device; the second cell of every notebook calls this."""
    seed_everything(int(seed))
    resolved = resolve_device(device)
    print(f"rnn_lib: device={resolved.type} seed={seed} torch={torch.__version__}")
    return resolved


def report(**figures: float | int | str) -> None:
    """Print a notebook's headline results, one `rnn_lib: figure NAME = VALUE` line each.

    The notebook runner (`make notebooks`, `make robustness`) reads these lines back from the
    executed notebook, so its report shows what each run measured, not only that it ran.
    Floats are printed with 4 significant digits.

        report(lstm_accuracy=0.998, rnn_accuracy=0.124)
    """
    for name, value in figures.items():
        if not name.isidentifier():
            raise SetupError(f"expected a figure name like 'lstm_accuracy', got {name!r}")
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"rnn_lib: figure {name} = {text}")
