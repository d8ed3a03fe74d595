"""Which (candidate, fold) task runs next under a time limit, and until when.

Without a time limit every task of every candidate runs.  With one,
:class:`TimeLimitedSchedule` hands the tasks out one at a time, as workers become free
(joblib draws them from it lazily), in the candidates' order (a portfolio's order: the most
useful first):

- the **first candidate** always runs all its folds, whatever the time: put a fast one
  first (the default candidates start with the linear model), so that the result is never
  empty;
- each other task is started only while time is left.  A candidate starting its first
  fold is granted a share of the time left (``share``, :data:`SHARE`); each of its folds
  gets a time at which its fit stops (``stop_at``): the grant still unspent shared among
  its folds still to run, so that models training in rounds or epochs (boosting,
  networks) end their last fold within it;
- before a candidate starts, its expected seconds per fold (``costs``: the portfolio's
  a-priori cost model, :func:`foldstack.models.expected_fold_seconds`) predict its cost: a
  candidate expected to need more than ``prior_slack`` times its grant is not started
  (``"timeout"``), and the next one is tried;
- a candidate one of whose folds was cut (its others will be cut alike) keeps at most
  ``cut_share`` of the time left then, so that one slow candidate early in the order cannot
  take the time of all those after it; once that is spent, its folds still to run are not
  started;
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace

from foldstack.selection._engine import FoldTask
from foldstack.selection._record import FoldRecord

#: Share of the time left that a candidate is granted when it starts (chosen by simulating
#: the schedule on the development suite's portfolio units: ``bench/schedule_sim.py``).
SHARE = 1.0
#: A candidate whose a-priori cost is above this many times its grant is not started.
PRIOR_SLACK = 1.0
#: A candidate whose fold was cut keeps at most this share of the time left at that moment.
CUT_SHARE = 0.5


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
    costs : mapping of str to float, default=None
        Expected seconds per fold of the candidates known in advance (others: unknown).
    share : float, default=SHARE
        Share of the time left granted to a candidate when its first fold starts.
    prior_slack : float, default=PRIOR_SLACK
        A candidate expected (``costs``) to need more than this many times its grant is not
        started.
    cut_share : float, default=CUT_SHARE
        A candidate one of whose folds was cut keeps at most this share of the time left.

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
                 deadline: float, clock: Callable[[], float] = time.time,
                 costs: Mapping[str, float] | None = None, share: float = SHARE,
                 prior_slack: float = PRIOR_SLACK, cut_share: float = CUT_SHARE) -> None:
        self.order = [c for c in order if any(t.candidate == c for t in tasks)]
        self.pending = {c: sorted((t for t in tasks if t.candidate == c),
                                  key=lambda t: t.fold) for c in self.order}
        self.first = order[0] if order else None
        self.n_workers = max(1, n_workers)
        self.deadline, self.clock = deadline, clock
        self.costs, self.share, self.prior_slack = dict(costs or {}), share, prior_slack
        self.cut_share = cut_share
        self.granted: dict[str, float] = {}   # when each started candidate's grant ends
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
            # its other folds will be cut alike: what is left of its grant shrinks
            now = self.clock()
            end = now + self.cut_share * max(self.deadline - now, 0.0)
            self.granted[task.candidate] = min(self.granted.get(task.candidate, end), end)
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
            # the candidate's folds still to run, this one and those running included, a
            # worker each, in rounds
            running = sum(1 for c, _ in self.started if c == name)
            rounds = math.ceil((len(queue) + running) / self.n_workers)
            done = self.durations[name]
            if done and name not in self.cut:
                need = sum(done) / len(done) * math.ceil(len(queue) / self.n_workers)
                if need > left:
                    self.dropped[name] = (f"its remaining {len(queue)} fold(s) need about "
                                          f"{need:.0f} s; {left:.0f} s were left")
                    queue.clear()
                    continue
            if name not in self.granted:
                grant = self.share * left
                expected = self.costs.get(name)
                if expected is not None and expected * rounds > self.prior_slack * grant:
                    self.dropped[name] = (f"not started: its {len(queue)} fold(s) were "
                                          f"expected to need about {expected * rounds:.0f} s; "
                                          f"{grant:.0f} s were left for it")
                    queue.clear()
                    continue
                self.granted[name] = now + grant
            budget = min(left, self.granted[name] - now)
            if budget <= 0:
                # only a cut candidate's grant shrinks: its next fold would stop at once
                self.dropped[name] = (f"its folds were cut and its share of the time was "
                                      f"spent; {len(queue)} fold(s) not run")
                queue.clear()
                continue
            return self._start(queue.pop(0), now, now + budget / rounds)
        return None

    def _start(self, task: FoldTask, now: float, stop_at: float | None) -> FoldTask:
        self.started[task.candidate, task.fold] = now
        if stop_at is None:
            return task
        return replace(task, start_by=self.deadline, stop_at=stop_at)
