"""The learning-rate schedules of foldstack's networks, as one table (no torch import).

:data:`SCHEDULES` names every ``lr_schedule`` kind: how its torch scheduler is built, whether
it steps per batch or per epoch, whether it reads the monitored loss, and a one-line doc.
The estimators validate ``lr_schedule`` against its keys without importing torch; the
training callback (``_callbacks.LRSchedule``) builds and steps the scheduler from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _torch_schedulers() -> Any:
    # deferred: `import foldstack` and validating parameters must not load torch
    from torch.optim import lr_scheduler

    return lr_scheduler


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
def _constant(optimizer: Any, p: dict, **_: Any) -> None:
    return None


def _step(optimizer: Any, p: dict, *, max_epochs: int, **_: Any) -> Any:
    return _torch_schedulers().StepLR(optimizer, **{"step_size": max(1, max_epochs // 3),
                                             "gamma": 0.1, **p})


def _exponential(optimizer: Any, p: dict, **_: Any) -> Any:
    return _torch_schedulers().ExponentialLR(optimizer, **{"gamma": 0.95, **p})


def _plateau(optimizer: Any, p: dict, **_: Any) -> Any:
    return _torch_schedulers().ReduceLROnPlateau(optimizer, **{"factor": 0.5, "patience": 4, **p})


def _warmup_cosine(optimizer: Any, p: dict, *, total_steps: int,
                   **_: Any) -> Any:
    # A LambdaLR, not SequentialLR(LinearLR, CosineAnnealingLR): that chain matches it only
    # up to rounding (CosineAnnealingLR updates recursively), and LinearLR cannot express a
    # warm-up of 0 or 1 steps.
    return _torch_schedulers().LambdaLR(optimizer, _cosine(total_steps, p.get("warmup", 0.05),
                                                    p.get("min_lr_ratio", 0.0)))


def _onecycle(optimizer: Any, p: dict, *, lr: float, total_steps: int,
              **_: Any) -> Any:
    p = {"max_lr": lr, "pct_start": 0.25, **p}
    # one spare step (OneCycleLR refuses to step past total_steps), and enough steps for its
    # warm-up phase to be at least one step long
    p.setdefault("total_steps", max(total_steps + 1, math.ceil(2 / p["pct_start"]) + 1))
    return _torch_schedulers().OneCycleLR(optimizer, **p)


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


def _cosine(total: int, warmup: float, floor: float) -> Callable[[int], float]:
    n_warm = int(round(warmup * total))

    def factor(step: int) -> float:
        if step < n_warm:
            return (step + 1) / (n_warm + 1)
        progress = min(1.0, (step - n_warm) / max(1, total - n_warm))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor
