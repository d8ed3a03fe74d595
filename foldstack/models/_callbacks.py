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
from typing import Any

import torch
from skorch.callbacks import Callback

from foldstack.exceptions import TrainingDivergedError


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


class LRSchedule(Callback):
    """Set the learning rate of ``net.optimizer_`` by a named schedule.

    ``"step"`` (x ``gamma`` every ``step_size`` epochs), ``"exponential"`` (x ``gamma`` per
    epoch) and ``"plateau"`` (x ``factor`` after ``patience`` epochs without a better
    ``monitor``) act per epoch; ``"cosine"`` (linear warm-up over the first ``warmup`` fraction
    of the steps, then a cosine decay to ``min_lr_ratio * lr``) and ``"onecycle"``
    (:class:`torch.optim.lr_scheduler.OneCycleLR`) act per batch over ``max_epochs`` epochs.
    ``params`` override these settings' defaults.
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
        self.scheduler_ = self._make(net.optimizer_, net.lr)

    def _make(self, optimizer: torch.optim.Optimizer, lr: float) -> Any:
        sched = torch.optim.lr_scheduler
        p = dict(self.params or {})
        total = max(1, self.max_epochs * self.steps_per_epoch)
        if self.kind == "step":
            return sched.StepLR(optimizer, **{"step_size": max(1, self.max_epochs // 3),
                                              "gamma": 0.1, **p})
        if self.kind == "exponential":
            return sched.ExponentialLR(optimizer, **{"gamma": 0.95, **p})
        if self.kind == "plateau":
            return sched.ReduceLROnPlateau(optimizer, **{"factor": 0.5, "patience": 4, **p})
        if self.kind == "onecycle":
            p = {"max_lr": lr, "pct_start": 0.25, **p}
            # one spare step (OneCycleLR refuses to step past total_steps), and enough steps
            # for its warm-up phase to be at least one step long
            p.setdefault("total_steps", max(total + 1, math.ceil(2 / p["pct_start"]) + 1))
            return sched.OneCycleLR(optimizer, **p)
        if self.kind == "cosine":
            return sched.LambdaLR(optimizer, _cosine(total, p.get("warmup", 0.05),
                                                     p.get("min_lr_ratio", 0.0)))
        return None

    def on_batch_end(self, net: Any, training: bool = False, **kwargs: Any) -> None:
        if training and self.kind in ("cosine", "onecycle"):
            self.scheduler_.step()

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        if self.kind in ("step", "exponential"):
            self.scheduler_.step()
        elif self.kind == "plateau":
            self.scheduler_.step(net.history[-1][self.monitor])

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
