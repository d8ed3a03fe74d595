"""Which (candidate, fold) task runs next under a time limit, and until when.

Without a time limit every task of every candidate runs.  With one,
:class:`TimeLimitedSchedule` hands the tasks out one at a time, as workers become free
(joblib draws them from it lazily), in the candidates' order (a portfolio's order: the most
useful first):

- the **first candidate** always runs all its folds, whatever the time: put a fast one
  first (the default candidates start with the linear model), so that the result is never
  empty;
- each other task is started only while time is left, and gets a time at which its fit
  stops (``stop_at``): the candidate's remaining time shared among its folds still to run,
  so that models training in rounds or epochs (boosting, networks) end their last fold
  within the limit;
- once a candidate's first fold has finished, its time predicts the rest: a candidate
  whose remaining folds cannot finish in the time left (counting the parallel workers) is
  dropped, its unstarted folds are not run, and its record says ``"timeout"``.  A fold
  whose training was cut at its stop time predicts nothing (its siblings will be cut
  alike);
- a worker that becomes free takes the first task in that order that may start.

The clock is injected (``clock``, ``time.time`` by default), so tests drive the schedule
with a clock of their own.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from foldstack.selection._engine import FoldTask
from foldstack.selection._record import FoldRecord


class TimeLimitedSchedule:
    """Hand out ``tasks`` until ``deadline`` (seconds on ``clock``); see the module notes.

    Parameters
    ----------
    tasks : sequence of FoldTask
        The tasks to run, in any order; candidates are taken in ``order``.
    order : sequence of str
        The candidates, most useful first.  The first always runs to the end.
    n_workers : int
        Tasks that run at once.
    deadline : float
        When the cross-validation must be done, on ``clock``.
    clock : callable, default=time.time
        Returns the time in seconds.  Tasks compare ``stop_at`` / ``start_by`` with
        ``time.time()`` in the worker, so give another clock only to a sequential run.

    Examples
    --------
    >>> from foldstack.selection._engine import FoldTask
    >>> now = [0.0]
    >>> tasks = [FoldTask(c, k, 0) for c in ("fast", "slow") for k in range(3)]
    >>> schedule = TimeLimitedSchedule(tasks, ["fast", "slow"], n_workers=1, deadline=10.0,
    ...                                clock=lambda: now[0])
    >>> handed = iter(schedule)
    >>> [next(handed).candidate for _ in range(3)]
    ['fast', 'fast', 'fast']
    >>> first_slow = next(handed)
    >>> first_slow.fold, first_slow.stop_at    # 10 s left for 3 folds
    (0, 3.333...)
    >>> now[0] = 4.0                           # the fold took 4 s: 2 more cannot finish
    >>> schedule.finished(first_slow)
    >>> next(handed, None) is None, schedule.dropped
    (True, {'slow': 'its remaining 2 fold(s) need about 8 s; 6 s were left'})
    """

    def __init__(self, tasks: Sequence[FoldTask], order: Sequence[str], *, n_workers: int,
                 deadline: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.order = [c for c in order if any(t.candidate == c for t in tasks)]
        self.pending = {c: sorted((t for t in tasks if t.candidate == c),
                                  key=lambda t: t.fold) for c in self.order}
        self.first = order[0] if order else None
        self.n_workers = max(1, n_workers)
        self.deadline, self.clock = deadline, clock
        self.started: dict[tuple[str, int], float] = {}
        self.durations: dict[str, list[float]] = {c: [] for c in self.order}
        self.dropped: dict[str, str] = {}
        self.cut: set[str] = set()
        # joblib draws the next task from its callback threads while the caller reports
        # finished ones from the main thread
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[FoldTask]:
        while (task := self.next_task()) is not None:
            yield task

    def finished(self, task: FoldTask | FoldRecord) -> None:
        """Note that a task ended (its record came back): its time predicts its siblings'."""
        with self._lock:
            self._finished(task)

    def _finished(self, task: FoldTask | FoldRecord) -> None:
        start = self.started.pop((task.candidate, task.fold), None)
        if getattr(task, "cut", False):
            self.cut.add(task.candidate)
        elif start is not None and not getattr(task, "skipped", False):
            self.durations[task.candidate].append(self.clock() - start)

    def next_task(self) -> FoldTask | None:
        """The next task to start now, or None when none may start any more."""
        with self._lock:
            return self._next_task()

    def _next_task(self) -> FoldTask | None:
        now = self.clock()
        left = self.deadline - now
        for name in self.order:
            queue = self.pending[name]
            if not queue:
                continue
            if name == self.first:
                return self._start(queue.pop(0), now, None)
            if left <= 0:
                continue
            done = self.durations[name]
            if done and name not in self.cut:
                # the candidate's folds still to run, a worker each, in rounds
                need = sum(done) / len(done) * math.ceil(len(queue) / self.n_workers)
                if need > left:
                    self.dropped[name] = (f"its remaining {len(queue)} fold(s) need about "
                                          f"{need:.0f} s; {left:.0f} s were left")
                    queue.clear()
                    continue
            rounds = math.ceil(len(queue) / self.n_workers)
            return self._start(queue.pop(0), now, now + left / rounds)
        return None

    def _start(self, task: FoldTask, now: float, stop_at: float | None) -> FoldTask:
        self.started[task.candidate, task.fold] = now
        if stop_at is None:
            return task
        return replace(task, start_by=self.deadline, stop_at=stop_at)
