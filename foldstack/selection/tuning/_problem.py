"""A tuning problem: one configuration's folds in order, each reported to the pruner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

from foldstack.selection._cache import TaskCache, fingerprint
from foldstack.selection._engine import CVSetup, FoldTask, run_fold
from foldstack.selection._record import FoldRecord
from foldstack.selection.tuning._epochs import FoldEpochPruner, TrialEpochs
from foldstack.selection.tuning._space import OutsideSpaceError, SearchSpace, check_no_file_params
from foldstack.selection.tuning._study import WORKER, WORKER_TOKEN, mean, refuse_study, worker_token
from foldstack.utils._epochs import epoch_reporter

NAME = "tuned"  # the candidate name of ``cv_result`` (rename it with ``report.add(name=)``)


class TrialFailed(Exception):
    """A fold raised: the trial is recorded as failed and the study goes on."""


def with_params(estimator: Any, params: dict) -> Any:
    """An unfitted clone of ``estimator`` with ``params``; never a parameter that makes it
    load a file (a Pipeline's ``memory`` unpickles its cache), wherever ``params`` came
    from: they may have been read back from a study file."""
    check_no_file_params(params)
    return clone(estimator).set_params(**params)


@dataclass
class Problem:
    """Everything a trial needs; picklable, so worker processes get a copy."""

    estimator: Any
    space: SearchSpace
    valid: frozenset
    setup: CVSetup
    seeds: tuple[int, ...]
    cache_dir: str | None
    n_threads: int | None = None
    # report a network's epochs of fold 0 to the pruner (tune's prune_epochs, when the
    # estimator holds a foldstack network); see _epochs
    prune_epochs: bool = False

    @property
    def primary(self) -> str:
        return self.setup.metrics[0].name

    @property
    def greater_is_better(self) -> bool:
        return bool(self.setup.metrics[0].greater_is_better)

    @property
    def direction(self) -> str:
        return "maximize" if self.greater_is_better else "minimize"

    def setup_info(self) -> dict:
        """Stored with the study, which refuses to resume under another setup."""
        return {"setup": self.setup_fingerprint(), "metric": self.primary,
                "space": self.space.describe()}

    def setup_fingerprint(self) -> str:
        """What a study's trial values depend on, besides the configuration."""
        return fingerprint(self.setup.base_fp, self.estimator, self.setup.splits, self.seeds,
                           self.space.describe())

    def evaluate(self, params: dict, trial: Any = None) -> list[FoldRecord]:
        """Fit the folds in order; after each one, report the running mean to ``trial``.

        During fold 0 a network also reports each epoch's validation score when the study's
        pruner judges epochs (:class:`FoldEpochPruner`).  Returns the fold records (the last
        one is the failed one if a fold failed).  Raises ``optuna.TrialPruned`` when the
        pruner stops the trial, after a fold or inside one.
        """
        est = with_params(self.estimator, params)
        est_fp = fingerprint(clone(est))
        cache = TaskCache(self.cache_dir, candidates=[self.estimator])
        records: list[FoldRecord] = []
        test: list[float] = []
        train: list[float] = []
        for i in range(len(self.setup.splits)):
            task = FoldTask(NAME, i, self.seeds[i], self.setup.key(est_fp, i, self.seeds[i]))
            record = self.setup.cached(cache, task)
            if record is None:
                epochs = self._epochs(trial, i)
                with epoch_reporter(epochs):  # None: no outer reporter sees these epochs
                    record = run_fold(task, est, self.setup, n_threads=self.n_threads)
                if epochs is not None and epochs.pruned is not None:
                    # stopped mid-fit (the fold task recorded the EpochPruned it raised as a
                    # failure): a pruned trial, and a half-trained fold is never cached
                    import optuna

                    raise optuna.TrialPruned(epochs.pruned)
                cache.put(record)
            records.append(record)
            if not record.ok:
                break
            test.append(float(record.test[self.primary]))
            train.append(float(record.train[self.primary]))
            if trial is None:
                continue
            trial.set_user_attr("test", test)
            trial.set_user_attr("train", train)
            running = mean(test)
            if np.isfinite(running):
                trial.report(running, i)
                if i < len(self.setup.splits) - 1 and trial.should_prune():
                    import optuna

                    raise optuna.TrialPruned(f"pruned after fold {i}: running mean "
                                             f"{self.primary} {running:.5g}")
        return records

    def _epochs(self, trial: Any, fold: int) -> TrialEpochs | None:
        """The epoch reporter of ``fold``: fold 0 of a trial whose pruner judges epochs."""
        if (not self.prune_epochs or trial is None or fold != 0
                or not isinstance(trial.study.pruner, FoldEpochPruner)):
            return None
        return TrialEpochs(trial, self.greater_is_better)

    def objective(self, keeper: BestTrial, worker: str, storage: Any = None):
        """The Optuna objective; ``keeper`` holds the best finished trial's records.

        ``storage`` (the study's) only names the file in the error for a configuration the
        space cannot draw (a changed study's enqueued values).
        """
        token = worker_token()

        def objective(trial: Any) -> float:
            # first thing: a resumed run fails the trial when this process has ended
            trial.set_user_attr(WORKER, worker)
            if token is not None:
                trial.set_user_attr(WORKER_TOKEN, token)
            try:
                params = self.space.suggest(trial, self.valid)
            except OutsideSpaceError as exc:  # not caught by the study: it stops
                raise refuse_study(storage, trial.study.study_name, trial.number,
                                   str(exc)) from None
            records = self.evaluate(params, trial)
            if not records[-1].ok:
                message = f"fold {records[-1].fold}: {records[-1].message}"
                trial.set_user_attr("error", message[:2000])
                raise TrialFailed(message)
            value = mean([r.test[self.primary] for r in records])
            if not np.isfinite(value):
                message = f"{self.primary} is NaN in every fold"
                trial.set_user_attr("error", message)
                raise TrialFailed(message)
            keeper.offer(trial.number, value, records)
            return value
        return objective


class BestTrial:
    """The fold records of the best trial finished in this process (only that one)."""

    def __init__(self, greater_is_better: bool) -> None:
        self.greater = greater_is_better
        self.number: int | None = None
        self.value: float | None = None
        self.records: list[FoldRecord] | None = None

    def offer(self, number: int, value: float, records: list[FoldRecord]) -> None:
        if self.value is None or (value > self.value if self.greater else value < self.value):
            self.number, self.value, self.records = number, value, records
