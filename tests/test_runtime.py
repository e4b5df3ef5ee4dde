"""rnn_lib.runtime: modes, devices and seeds from parameters and the environment."""

import pytest
import torch

from rnn_lib import runtime


def test_environment_defaults(monkeypatch):
    for var in ("RNN_MODE", "RNN_DEVICE", "RNN_SEED"):
        monkeypatch.delenv(var, raising=False)
    assert runtime.env_quick() is True
    assert runtime.env_device() == "auto"
    assert runtime.env_seed() == 0


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("RNN_MODE", "full")
    monkeypatch.setenv("RNN_DEVICE", "cpu")
    monkeypatch.setenv("RNN_SEED", "7")
    assert runtime.env_quick() is False
    assert runtime.env_device() == "cpu"
    assert runtime.env_seed() == 7


@pytest.mark.parametrize(("var", "value", "words"), [
    ("RNN_MODE", "fast", "RNN_MODE must be one of quick, full, got 'fast'"),
    ("RNN_SEED", "one", "RNN_SEED must be an integer, got 'one'"),
])
def test_bad_environment_values_are_named(monkeypatch, var, value, words):
    monkeypatch.setenv(var, value)
    with pytest.raises(runtime.SetupError, match=words):
        runtime.env_quick() if var == "RNN_MODE" else runtime.env_seed()


def test_resolve_device():
    assert runtime.resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert runtime.resolve_device("auto").type == expected
    with pytest.raises(runtime.SetupError, match="got 'tpu'"):
        runtime.resolve_device("tpu")


def test_cuda_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        assert runtime.resolve_device("cuda").type == "cuda"
    else:
        with pytest.raises(runtime.SetupError, match="no CUDA GPU is visible"):
            runtime.resolve_device("cuda")


def test_setup_seeds_every_generator(capsys):
    import random

    import numpy as np

    runtime.setup("cpu", 3)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    runtime.setup("cpu", 3)
    again = (random.random(), np.random.rand(), torch.rand(1).item())
    assert first == again
    runtime.setup("cpu", 4)
    assert torch.rand(1).item() != first[2]
    assert "device=cpu seed=3" in capsys.readouterr().out


def test_report_prints_one_line_per_figure_for_the_runner(capsys):
    runtime.report(lstm_acc=0.987654321, steps=300, verdict="beats the bigram")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["rnn_lib: figure lstm_acc = 0.9877", "rnn_lib: figure steps = 300",
                     "rnn_lib: figure verdict = beats the bigram"]


def test_report_refuses_a_name_the_runner_cannot_read_back():
    with pytest.raises(runtime.SetupError, match="expected a figure name"):
        runtime.report(**{"lstm acc": 0.5})
