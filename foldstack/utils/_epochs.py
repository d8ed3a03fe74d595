"""A hook through which code can follow a network's training epoch by epoch.

A training loop (:meth:`foldstack.models._training.TabularNet.fit_loop`) calls
:func:`report_epoch` once each epoch's history row is recorded.  Code that wants those rows
(:func:`foldstack.selection.tune`, to let its pruner stop a bad configuration mid-fit) sets a
reporter around the fit with :func:`epoch_reporter`.  The models layer calls the hook and the
selection layer sets it; neither imports the other.

The reporter lives in a :class:`contextvars.ContextVar`: it is seen by fits in the thread
(and the process) that set it, and by nothing else.  A thread or worker process started
during the fit (a meta-estimator's ``n_jobs``) starts without it, so networks trained there
report nothing.  Outside an :func:`epoch_reporter` block, :func:`report_epoch` does nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

EpochReporter = Callable[[Any, Mapping[str, Any]], None]

_REPORTER: ContextVar[EpochReporter | None] = ContextVar("foldstack_epoch_reporter",
                                                         default=None)


@contextlib.contextmanager
def epoch_reporter(reporter: EpochReporter | None) -> Iterator[None]:
    """Call ``reporter(net, row)`` after every epoch trained in this block (in this thread).

    ``row`` is the epoch's history row (``epoch``, ``train_loss``, and ``valid_loss`` and
    ``valid_score`` when the net holds out a validation split).  The reporter may raise to
    stop the training; the exception propagates out of the net's ``fit``.  None sets no
    reporter (a block where epochs are not followed).  The reporter set before is restored
    at the end of the block.
    """
    token = _REPORTER.set(reporter)
    try:
        yield
    finally:
        _REPORTER.reset(token)


def current_epoch_reporter() -> EpochReporter | None:
    """The reporter set in this context, or None."""
    return _REPORTER.get()


def report_epoch(net: Any, row: Mapping[str, Any]) -> None:
    """Hand one finished epoch to the reporter of this context, if any (else a no-op)."""
    reporter = _REPORTER.get()
    if reporter is not None:
        reporter(net, row)
