"""skorch callbacks that foldstack's tabular networks add (imported only when one is fitted).

Each reads the per-epoch record that :class:`~foldstack.models._training.TabularNet` writes
(``epoch``, ``train_loss``, ``valid_loss``, ``valid_score``, ``lr``) and acts through the net:
early stopping asks the loop to stop with ``net.request_stop()`` (a flag, never an exception, so
a real Ctrl-C is never mistaken for it), divergence raises
:class:`~foldstack.exceptions.TrainingDivergedError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from skorch.callbacks import Callback
from torch.optim import lr_scheduler

from foldstack.exceptions import TrainingDivergedError
from foldstack.utils._validation import check_option


class DivergenceCheck(Callback):
    """Raise TrainingDivergedError when an epoch's training or validation loss is not finite."""

    def __init__(self, owner: str = "TabularMLP") -> None:
        self.owner = owner

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        row = net.history[-1]
        for key in ("train_loss", "valid_loss"):
            value = row.get(key)
            if value is not None and not math.isfinite(value):
                raise TrainingDivergedError(
                    f"{self.owner}: training diverged at epoch {row['epoch']}: the "
                    f"{key.replace('_', ' ')} became {value} (lr={row['lr']:.3g}). Lower `lr`, "
                    "set `grad_clip` (e.g. 1.0), or check X and y for extreme values.")


class EarlyStopping(Callback):
    """Stop after ``patience`` epochs without improvement of ``monitor``; keep the best weights.

    Unlike :class:`skorch.callbacks.EarlyStopping`, which raises ``KeyboardInterrupt``, this
    sets a stop flag on the net (``net.request_stop()``), and at the end of training it
    restores the module's weights of the best epoch (``best_epoch_``).
    """

    def __init__(self, patience: int = 16, monitor: str = "valid_loss") -> None:
        self.patience = patience
        self.monitor = monitor

    def initialize(self) -> EarlyStopping:
        self.best_score_ = math.inf
        self.best_epoch_ = 0
        self.best_state_: dict | None = None
        self.wait_ = 0
        return self

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        self.initialize()

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        row = net.history[-1]
        score = row[self.monitor]
        if score < self.best_score_:
            self.best_score_, self.best_epoch_, self.wait_ = score, row["epoch"], 0
            self.best_state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
        else:
            self.wait_ += 1
            if self.wait_ >= self.patience:
                net.request_stop()

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        if self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
        self.best_state_ = None  # keep fitted nets small when pickled


@dataclass(frozen=True)
class Schedule:
    """One ``lr_schedule`` kind: how to build its torch scheduler and when to step it.

    Attributes
    ----------
    build : callable
        ``build(optimizer, params, *, lr, max_epochs, total_steps)`` -> a scheduler, or None
        for a constant rate; ``params`` (``lr_schedule_params``) override its defaults.
    per_batch : bool
        Step after every training batch (``total_steps`` in all); else after every epoch.
    monitored : bool
        Step with the epoch's monitored loss (``ReduceLROnPlateau``).
    doc : str
        What the schedule does, in one line.
    """

    build: Callable[..., Any]
    per_batch: bool
    monitored: bool
    doc: str


# Builders are module-level functions, not lambdas, so that the table pickles with the nets.
def _constant(optimizer: torch.optim.Optimizer, p: dict, **_: Any) -> None:
    return None


def _step(optimizer: torch.optim.Optimizer, p: dict, *, max_epochs: int, **_: Any) -> Any:
    return lr_scheduler.StepLR(optimizer, **{"step_size": max(1, max_epochs // 3),
                                             "gamma": 0.1, **p})


def _exponential(optimizer: torch.optim.Optimizer, p: dict, **_: Any) -> Any:
    return lr_scheduler.ExponentialLR(optimizer, **{"gamma": 0.95, **p})


def _plateau(optimizer: torch.optim.Optimizer, p: dict, **_: Any) -> Any:
    return lr_scheduler.ReduceLROnPlateau(optimizer, **{"factor": 0.5, "patience": 4, **p})


def _warmup_cosine(optimizer: torch.optim.Optimizer, p: dict, *, total_steps: int,
                   **_: Any) -> Any:
    # A LambdaLR, not SequentialLR(LinearLR, CosineAnnealingLR): that chain matches it only
    # up to rounding (CosineAnnealingLR updates recursively), and LinearLR cannot express a
    # warm-up of 0 or 1 steps.
    return lr_scheduler.LambdaLR(optimizer, _cosine(total_steps, p.get("warmup", 0.05),
                                                    p.get("min_lr_ratio", 0.0)))


def _onecycle(optimizer: torch.optim.Optimizer, p: dict, *, lr: float, total_steps: int,
              **_: Any) -> Any:
    p = {"max_lr": lr, "pct_start": 0.25, **p}
    # one spare step (OneCycleLR refuses to step past total_steps), and enough steps for its
    # warm-up phase to be at least one step long
    p.setdefault("total_steps", max(total_steps + 1, math.ceil(2 / p["pct_start"]) + 1))
    return lr_scheduler.OneCycleLR(optimizer, **p)


#: ``lr_schedule`` kind -> :class:`Schedule`: the one place that names the kinds.
SCHEDULES: dict[str, Schedule] = {
    "none": Schedule(_constant, per_batch=False, monitored=False,
                     doc="constant learning rate"),
    "step": Schedule(_step, per_batch=False, monitored=False,
                     doc="x gamma (0.1) every step_size (max_epochs // 3) epochs"),
    "exponential": Schedule(_exponential, per_batch=False, monitored=False,
                            doc="x gamma (0.95) every epoch"),
    "plateau": Schedule(_plateau, per_batch=False, monitored=True,
                        doc="x factor (0.5) after patience (4) epochs without a better "
                            "monitored loss"),
    "cosine": Schedule(_warmup_cosine, per_batch=True, monitored=False,
                       doc="linear warm-up over the first warmup (5 %) of the steps, then a "
                           "cosine decay to min_lr_ratio (0) x lr"),
    "onecycle": Schedule(_onecycle, per_batch=True, monitored=False,
                         doc="torch.optim.lr_scheduler.OneCycleLR, peaking at lr"),
}


class LRSchedule(Callback):
    """Set the learning rate of ``net.optimizer_`` by a named schedule.

    ``kind`` is a key of :data:`SCHEDULES`, whose entry builds the torch scheduler (its
    ``doc`` says what it does) and says whether it steps per batch, over ``max_epochs *
    steps_per_epoch`` steps, or per epoch.  ``params`` override the schedule's defaults.

    Examples
    --------
    >>> list(SCHEDULES)
    ['none', 'step', 'exponential', 'plateau', 'cosine', 'onecycle']
    >>> SCHEDULES["onecycle"].per_batch, SCHEDULES["plateau"].monitored
    (True, True)
    """

    def __init__(self, kind: str = "cosine", params: dict | None = None, *,
                 max_epochs: int = 100, steps_per_epoch: int = 1,
                 monitor: str = "valid_loss") -> None:
        self.kind = kind
        self.params = params
        self.max_epochs = max_epochs
        self.steps_per_epoch = steps_per_epoch
        self.monitor = monitor

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        schedule = SCHEDULES[check_option("LRSchedule", "kind", self.kind, SCHEDULES)]
        self.scheduler_ = schedule.build(
            net.optimizer_, dict(self.params or {}), lr=net.lr, max_epochs=self.max_epochs,
            total_steps=max(1, self.max_epochs * self.steps_per_epoch))

    def on_batch_end(self, net: Any, training: bool = False, **kwargs: Any) -> None:
        if training and self.scheduler_ is not None and SCHEDULES[self.kind].per_batch:
            self.scheduler_.step()

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        schedule = SCHEDULES[self.kind]
        if self.scheduler_ is None or schedule.per_batch:
            return
        if schedule.monitored:
            self.scheduler_.step(net.history[-1][self.monitor])
        else:
            self.scheduler_.step()

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        self.scheduler_ = None  # lambdas do not pickle; the schedule is spent anyway


def _cosine(total: int, warmup: float, floor: float) -> Callable[[int], float]:
    n_warm = int(round(warmup * total))

    def factor(step: int) -> float:
        if step < n_warm:
            return (step + 1) / (n_warm + 1)
        progress = min(1.0, (step - n_warm) / max(1, total - n_warm))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


class PrintEpochs(Callback):
    """Write one line per epoch (epoch, losses, score, lr, seconds) to ``sink``."""

    def __init__(self, sink: Callable[[str], Any] = print) -> None:
        self.sink = sink

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        row = net.history[-1]
        parts = [f"epoch {row['epoch']:4d}", f"train_loss {row['train_loss']:.4f}"]
        if "valid_loss" in row:
            parts += [f"valid_loss {row['valid_loss']:.4f}", f"valid_score {row['valid_score']:.4f}"]
        parts += [f"lr {row['lr']:.2e}", f"{row['dur']:.2f}s"]
        self.sink("  ".join(parts))
