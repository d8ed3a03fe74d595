"""A time by which a fit should stop: set by the scheduler, followed by the training loops.

Under a ``time_limit`` each (candidate, fold) task gets a time by which its fit should be
done (:func:`fit_deadline`).  Models that train in rounds or epochs look at it after each
one (:func:`time_is_up`): xgboost, LightGBM and CatBoost stop boosting, a network stops
training (and seed bagging trains no further network), so the fold ends near that time with
the model it has.  The deadline notes that it stopped a fit (:attr:`Deadline.hit`), and the
fold's record says so.  Other estimators (scikit-learn's) cannot stop mid-fit; the
scheduler plans around them.

The deadline lives in a :class:`contextvars.ContextVar`, like the epoch hook of
:mod:`foldstack.utils._epochs`: seen by fits in the thread (and process) that set it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class Deadline:
    """Stop fitting at ``at`` (seconds on ``clock``, wall-clock time by default).

    Examples
    --------
    >>> ticks = iter([1.0, 5.0])
    >>> d = Deadline(at=3.0, clock=lambda: next(ticks))
    >>> d.passed(), d.passed(), d.hit
    (False, True, True)
    """

    at: float
    clock: Callable[[], float] = field(default=time.time, repr=False)
    hit: bool = False

    def passed(self) -> bool:
        """Whether the time has come; remembers that it stopped something."""
        if self.clock() >= self.at:
            self.hit = True
        return self.hit


_DEADLINE: ContextVar[Deadline | None] = ContextVar("foldstack_fit_deadline", default=None)


@contextlib.contextmanager
def fit_deadline(deadline: Deadline | None) -> Iterator[Deadline | None]:
    """Fits in this block stop at ``deadline`` (None: no deadline); restores the one before."""
    token = _DEADLINE.set(deadline)
    try:
        yield deadline
    finally:
        _DEADLINE.reset(token)


def time_is_up() -> bool:
    """Whether the deadline of this context has passed (False without one)."""
    deadline = _DEADLINE.get()
    return deadline is not None and deadline.passed()
