"""rnn_lib.training: the shared loop, its history and device handling."""

import pytest
import torch
from torch.nn.utils.rnn import pack_sequence

from rnn_lib.training import History, cosine_decay, count_parameters, to_device, train


def _regression():
    torch.manual_seed(0)
    x = torch.randn(128, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    return x, y, [(x[i:i + 32], y[i:i + 32]) for i in range(0, 128, 32)]


def _mse(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


def test_train_reduces_the_loss_and_records_history():
    x, y, batches = _regression()
    model = torch.nn.Linear(3, 1)
    hist = train(model, _mse, batches, epochs=30, lr=0.05, progress=False,
                 eval_fn=lambda m: {"mse": _mse(m, (x, y)).item()})
    assert len(hist.step_loss) == 30 * 4 and len(hist.epoch_loss) == 30
    assert hist.epoch_loss[-1] < 0.01 * hist.epoch_loss[0]
    assert [e["epoch"] for e in hist.evals] == list(range(1, 31))
    assert hist.last("mse") == hist.metric("mse")[-1] < 1e-3
    assert "120 steps" in repr(hist)


def test_callable_batches_give_fresh_data_each_epoch_and_eval_every():
    calls = []

    def batches():
        calls.append(1)
        return [(torch.randn(8, 3), torch.randn(8, 1))] * 5

    hist = train(torch.nn.Linear(3, 1), _mse, batches, epochs=2, progress=False,
                 eval_fn=lambda m: {"k": 1.0}, eval_every=2)
    assert len(calls) == 2
    # steps 2, 4 (epoch 1), 6, 8 (epoch 2), then the end of each epoch: 5 and 10 are not
    # multiples of 2, so each epoch adds one more evaluation
    assert [e["step"] for e in hist.evals] == [2, 4, 5, 6, 8, 10]


def test_clip_bounds_the_gradient_norm():
    model = torch.nn.Linear(3, 1)
    seen = []

    def loss_fn(m, batch):
        return 1e6 * m(batch).sum()

    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    original = opt.step

    def step(*a, **k):
        seen.append(torch.norm(torch.stack([p.grad.norm() for p in model.parameters()])))
        return original(*a, **k)

    opt.step = step
    train(model, loss_fn, [torch.ones(4, 3)], optimizer=opt, clip=1.0, progress=False)
    assert seen[0].item() == pytest.approx(1.0, rel=1e-5)


def test_cosine_decay_warms_up_then_falls_from_one_to_final():
    factor = cosine_decay(12, warmup=2, final=0.1)
    assert [factor(0), factor(1)] == [0.5, 1.0]  # linear warm-up to the full rate
    assert factor(2) == pytest.approx(1.0) and factor(7) == pytest.approx(0.55)  # half-way
    assert factor(12) == pytest.approx(0.1) and factor(100) == pytest.approx(0.1)
    values = [factor(s) for s in range(1, 13)]
    assert all(a >= b for a, b in zip(values[:-1], values[1:], strict=True))  # never rises
    assert cosine_decay(4)(0) == 1.0 and cosine_decay(4)(4) == pytest.approx(0.0)
    for bad in ({"total_steps": 0}, {"total_steps": 5, "warmup": 5}, {"total_steps": 5,
                                                                       "final": 1.5}):
        with pytest.raises(ValueError, match="expected"):
            cosine_decay(**bad)


def test_lr_schedule_sets_the_rate_of_every_step_and_is_recorded():
    _, _, batches = _regression()
    factor = cosine_decay(8)
    model = torch.nn.Linear(3, 1)
    hist = train(model, _mse, batches, epochs=2, lr=0.1, lr_schedule=factor, progress=False)
    assert hist.step_lr == pytest.approx([0.1 * factor(s) for s in range(8)])
    assert hist.step_lr[0] == pytest.approx(0.1) and hist.step_lr[-1] < 0.01
    constant = train(torch.nn.Linear(3, 1), _mse, batches, lr=0.1, progress=False)
    assert constant.step_lr == [0.1] * 4


def test_bad_arguments():
    with pytest.raises(ValueError, match="expected epochs >= 1, got 0"):
        train(torch.nn.Linear(1, 1), _mse, [], epochs=0)
    with pytest.raises(ValueError, match="must return a scalar"):
        train(torch.nn.Linear(3, 1), lambda m, b: m(b), [torch.ones(2, 3)], progress=False)
    with pytest.raises(ValueError, match="no batch"):
        train(torch.nn.Linear(3, 1), _mse, [], progress=False)
    with pytest.raises(KeyError, match="no metric 'acc'"):
        History(evals=[{"step": 1, "epoch": 1, "loss": 1.0}]).last("acc")


def test_to_device_walks_containers_and_count_parameters():
    packed = pack_sequence([torch.ones(3, 2), torch.ones(1, 2)])
    obj = {"a": [torch.ones(1)], "b": (packed, 3)}
    moved = to_device(obj, "cpu")
    assert moved["b"][1] == 3 and torch.equal(moved["a"][0], torch.ones(1))
    assert to_device(obj, None) is obj
    assert count_parameters(torch.nn.Linear(3, 2)) == 8


def test_rnn_progress_0_turns_the_bar_off_for_headless_runs(monkeypatch, capsys):
    monkeypatch.delenv("RNN_PROGRESS", raising=False)
    batches = [(torch.ones(4, 3), torch.zeros(4, 1))] * 3
    train(torch.nn.Linear(3, 1), _mse, batches, epochs=1)
    assert "3/3" in capsys.readouterr().err  # the bar, on a terminal's stderr
    monkeypatch.setenv("RNN_PROGRESS", "0")
    train(torch.nn.Linear(3, 1), _mse, batches, epochs=1)
    assert capsys.readouterr().err == ""


def test_evaluating_restores_the_mode_even_after_an_error():
    from rnn_lib.training import evaluating

    model = torch.nn.Dropout(0.5)
    with pytest.raises(RuntimeError), evaluating(model):
        assert not model.training
        raise RuntimeError("boom")
    assert model.training


def test_in_eval_mode_runs_the_function_in_eval_mode_and_restores_the_mode():
    from rnn_lib.training import in_eval_mode

    seen = []

    @in_eval_mode
    def predict(model, fail=False):
        seen.append(model.training)
        if fail:
            raise RuntimeError("boom")
        return "done"

    model = torch.nn.Dropout(0.5)
    assert predict(model) == "done" and seen == [False] and model.training
    with pytest.raises(RuntimeError):
        predict(model, fail=True)
    assert model.training, "the mode is restored after an error too"
    model.eval()
    predict(model)
    assert not model.training, "a model in eval mode stays in eval mode"


def test_no_module_of_rnn_lib_toggles_eval_mode_by_hand():
    """The eval-mode toggle is written once (training.evaluating and in_eval_mode)."""
    from pathlib import Path

    import rnn_lib

    for module in sorted(Path(rnn_lib.__file__).parent.glob("*.py")):
        if module.name != "training.py":
            assert "was_training" not in module.read_text(), (
                f"{module.name} toggles eval mode by hand: use rnn_lib.training.in_eval_mode")


def test_model_device_is_where_the_parameters_are_and_the_cpu_without_any():
    from rnn_lib.training import model_device

    assert model_device(torch.nn.Linear(2, 3).double()) == torch.device("cpu")
    assert model_device(torch.nn.ReLU()) == torch.device("cpu")
    meta = torch.nn.Linear(2, 3, device="meta")
    assert model_device(meta) == torch.device("meta")


def test_one_device_rule_no_module_looks_up_a_models_device_itself():
    from pathlib import Path

    import rnn_lib

    for module in sorted(Path(rnn_lib.__file__).parent.glob("*.py")):
        assert "next(model.parameters()).device" not in module.read_text(), (
            f"{module.name}: take a model's device from rnn_lib.training.model_device")
