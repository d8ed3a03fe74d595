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

from skorch.callbacks import Callback

from foldstack.exceptions import TrainingDivergedError
from foldstack.models._schedules import SCHEDULES
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
