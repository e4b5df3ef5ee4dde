"""A small, general training loop: one optimiser step per batch, a progress bar, a history.

Every model in the course trains through `train`: what differs between tasks lives in the
`loss_fn(model, batch)` the notebook passes in, so the loop itself is written once.
"""

import functools
import math
import os
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence
from tqdm.auto import tqdm


@contextmanager
def evaluating(model: nn.Module):
    """Put `model` in eval mode for a block, then back in the mode it had (even on an error)."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's parameters: where a function given the model puts its inputs
    (the CPU for a model without parameters)."""
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def in_eval_mode(fn):
    """Decorator for a function whose first argument is a model: it runs `evaluating(model)`
    (eval mode for the call, the former mode back afterwards, even on an error)."""
    @functools.wraps(fn)
    def wrapper(model, *args, **kwargs):
        with evaluating(model):
            return fn(model, *args, **kwargs)
    return wrapper


@dataclass
class History:
    """What a training run recorded.

    step_loss:  the training loss of every optimiser step
    step_lr:    the learning rate of every optimiser step (the first parameter group's)
    epoch_loss: the mean training loss of each epoch
    evals:      one dict per evaluation, with "step" and "epoch" keys and the metrics
    seconds:    wall-clock time of the whole run
    """

    step_loss: list[float] = field(default_factory=list)
    step_lr: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def metric(self, name: str) -> list[float]:
        """Every recorded value of one evaluation metric, in order."""
        if self.evals and name not in self.evals[-1]:
            raise KeyError(f"no metric {name!r}; recorded: {sorted(self.evals[-1])}")
        return [e[name] for e in self.evals if name in e]

    def last(self, name: str) -> float:
        """The latest value of a metric ("loss" gives the last epoch's mean training loss)."""
        if name == "loss":
            if not self.epoch_loss:
                raise KeyError("no epoch has finished yet")
            return self.epoch_loss[-1]
        values = self.metric(name)
        if not values:
            raise KeyError(f"no metric {name!r} has been recorded")
        return values[-1]

    def __repr__(self) -> str:
        last = f", last epoch loss {self.epoch_loss[-1]:.4f}" if self.epoch_loss else ""
        return (f"History({len(self.step_loss)} steps, {len(self.epoch_loss)} epochs{last}, "
                f"{len(self.evals)} evals, {self.seconds:.1f} s)")


def to_device(obj, device):
    """Move tensors (and PackedSequences) inside tuples, lists and dicts to `device`."""
    if device is None:
        return obj
    if isinstance(obj, (torch.Tensor, PackedSequence)):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*(to_device(v, device) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def count_parameters(model: nn.Module) -> int:
    """The number of trainable scalars in a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def cosine_decay(total_steps: int, warmup: int = 0, final: float = 0.0) -> Callable[[int], float]:
    """A learning-rate schedule for `train(lr_schedule=...)`: warm-up, then half a cosine.

    Returns factor(s), the multiple of the starting learning rate used at step s = 0, 1, ...:

        factor(s) = (s + 1) / warmup                                      for s < warmup
                  = final + (1 - final) (1 + cos(pi u)) / 2,  u = (s - warmup) / (total - warmup)

    so it climbs linearly to 1 over `warmup` steps, then falls smoothly from 1 to `final` at
    step `total_steps` (and stays there). Large steps early, small ones at the end, when the
    weights should settle into a minimum rather than bounce around it (Loshchilov & Hutter,
    2017, "SGDR").
    """
    if total_steps < 1 or not 0 <= warmup < total_steps:
        raise ValueError(f"expected total_steps >= 1 and 0 <= warmup < total_steps, got "
                         f"total_steps={total_steps}, warmup={warmup}")
    if not 0.0 <= final <= 1.0:
        raise ValueError(f"expected 0 <= final <= 1, got {final}")

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        u = min((step - warmup) / (total_steps - warmup), 1.0)
        return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * u))

    return factor


def _evaluate(model, eval_fn, history, step, epoch):
    with evaluating(model), torch.no_grad():
        metrics = dict(eval_fn(model))
    history.evals.append({"step": step, "epoch": epoch, **metrics})
    return metrics


def train(
    model: nn.Module,
    loss_fn: Callable[[nn.Module, object], torch.Tensor],
    batches: Iterable | Callable[[], Iterable],
    *,
    epochs: int = 1,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    clip: float | None = None,
    lr_schedule: Callable[[int], float] | None = None,
    eval_fn: Callable[[nn.Module], dict] | None = None,
    eval_every: int | None = None,
    device: torch.device | str | None = None,
    desc: str = "train",
    progress: bool = True,
) -> History:
    """Train `model` by minimising `loss_fn` over `batches` for `epochs` passes.

    Args:
        model: the module to train (put in train mode; left in train mode).
        loss_fn: `loss_fn(model, batch)` returns the scalar loss of one batch.
        batches: a re-iterable of batches (a list or a DataLoader), or a zero-argument callable
            returning a fresh iterable each epoch (for batches generated on the fly).
        epochs: number of passes over `batches`.
        optimizer: defaults to Adam(model.parameters(), lr=lr).
        clip: when given, gradients are rescaled to this maximum total norm before each step.
        lr_schedule: when given, step s (counted from 0 over the whole run) uses the starting
            learning rate times `lr_schedule(s)`, through `torch.optim.lr_scheduler.LambdaLR`;
            for example `cosine_decay(epochs * len(batches))`. None: a constant rate.
        eval_fn: `eval_fn(model)` returns a dict of metrics; called (under no_grad, in eval
            mode) at the end of each epoch and, if `eval_every` is set, every that many steps.
        device: batches are moved there before `loss_fn` sees them (None: left as they are).
        progress: show a tqdm progress bar (one per run, advancing per step). Headless runs
            set RNN_PROGRESS=0 to turn every bar off (the notebook runner does): an executed
            notebook would otherwise keep a stale "0it" widget in its stored outputs.

    Returns:
        A `History` of step losses, epoch losses, evaluations and wall time.
    """
    if epochs < 1:
        raise ValueError(f"expected epochs >= 1, got {epochs}")
    if eval_every is not None and eval_every < 1:
        raise ValueError(f"expected eval_every >= 1 or None, got {eval_every}")
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = None
    if lr_schedule is not None:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_schedule)
    history = History()
    start = time.perf_counter()
    step = 0
    model.train()
    total = None
    if not callable(batches) and hasattr(batches, "__len__"):
        total = epochs * len(batches)
    headless = os.environ.get("RNN_PROGRESS", "1").strip() == "0"
    bar = tqdm(total=total, desc=desc, disable=not progress or headless, leave=False)
    for epoch in range(1, epochs + 1):
        epoch_batches = batches() if callable(batches) else batches
        losses = []
        for batch in epoch_batches:
            loss = loss_fn(model, to_device(batch, device))
            if loss.dim() != 0:
                raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            history.step_lr.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            step += 1
            losses.append(loss.item())
            history.step_loss.append(losses[-1])
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{losses[-1]:.4f}")
            if eval_fn is not None and eval_every and step % eval_every == 0:
                _evaluate(model, eval_fn, history, step, epoch)
        if not losses:
            raise ValueError("batches produced no batch in an epoch")
        history.epoch_loss.append(sum(losses) / len(losses))
        if eval_fn is not None and not (eval_every and step % eval_every == 0):
            _evaluate(model, eval_fn, history, step, epoch)
    bar.close()
    history.seconds = time.perf_counter() - start
    return history
