"""The search strategy: one Optuna study, run in this process or in several workers."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joblib import Parallel, delayed

from foldstack.exceptions import CandidateFailedError
from foldstack.selection._progress import task_progress
from foldstack.selection._record import FoldRecord
from foldstack.selection.tuning._epochs import FoldEpochPruner, judges_epochs
from foldstack.selection.tuning._problem import BestTrial, Problem, TrialFailed
from foldstack.selection.tuning._study import (
    STORAGE_FILE,
    SeededSampler,
    best_trial,
    check_study,
    create_study,
    make_pruner,
    make_sampler,
    n_finished,
    open_storage,
    optuna_logging,
    recover_interrupted,
    require_optuna,
    stored_params,
    study_names,
    worker_id,
)
from foldstack.utils._parallel import effective_n_jobs, threads_per_task
from foldstack.utils._random import derive_seed

logger = logging.getLogger(__name__)


@dataclass
class Search:
    sampler: Any
    pruner: Any
    n_trials: int | None
    time_limit: float | None
    n_jobs: int | None
    random_state: int | None
    verbose: int
    title: str = "tuning"
    first: dict | None = None  # stored values of the first trial of a new study

    def run(self, problem: Problem, storage: Any, name: str
            ) -> tuple[Any, dict, list[FoldRecord]]:
        """Run the study to ``n_trials`` finished trials; return it, the best params and
        the best trial's fold records."""
        optuna = require_optuna()
        workers = effective_n_jobs(self.n_jobs)
        in_memory = isinstance(storage, optuna.storages.InMemoryStorage)
        with contextlib.ExitStack() as stack:
            shared = storage
            if workers > 1 and in_memory:  # workers need a storage they can all open
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="foldstack-"))
                shared = open_storage(Path(tmp) / STORAGE_FILE, None)
                if name in study_names(storage):
                    optuna.copy_study(from_study_name=name, from_storage=storage,
                                      to_storage=shared)
            study = create_study(shared, name, problem.direction, problem.setup_info(),
                                 self._pruner(problem))
            # the storage may be a file someone else wrote: nothing it holds reaches an
            # estimator unless the space can draw it
            check_study(study, shared, problem.space)
            # before our sampler is set: failing a trial calls the sampler's after_trial
            failed = recover_interrupted(study, shared, problem.space)
            if failed:
                logger.info("study %r: trial(s) %s were interrupted (their process ended); "
                            "marked failed, their configurations run again", name, failed)
            before = n_finished(study)
            if self.first is not None and not study.trials:
                study.enqueue_trial(self.first, skip_if_exists=True)
            study.sampler = self._sampler(problem, 0, before)
            if workers == 1:
                kept = [run_study(study, problem, self.n_trials, self.time_limit, worker_id(),
                                   self.verbose, self.title, storage=shared)]
            else:
                logger.info("tuning with %d worker processes on study %r", workers, name)
                sub = dataclasses.replace(problem, n_threads=threads_per_task(self.n_jobs))
                todo = None if self.n_trials is None else max(self.n_trials - before, 0)
                shares = [None if todo is None else todo // workers + (k < todo % workers)
                          for k in range(workers)]
                kept = Parallel(n_jobs=workers)(
                    delayed(_worker)(sub, shared, name, self._sampler(problem, k + 1, before),
                                     self._pruner(problem), self.n_trials, self.time_limit,
                                     self.verbose, shares[k])
                    for k in range(workers))
            if shared is not storage:  # back from the temporary file into memory
                if name in study_names(storage):
                    optuna.delete_study(study_name=name, storage=storage)
                optuna.copy_study(from_study_name=name, from_storage=shared, to_storage=storage)
                study = optuna.load_study(study_name=name, storage=storage)
        best = best_trial(study, name)
        params = stored_params(storage, name, best, problem.space)
        records = {k.number: k for k in kept if k.number is not None}
        hit = records.get(best.number)
        if hit is not None and hit.value == best.value:
            return study, params, hit.records
        logger.info("trial %d was finished by another process or run: reading its folds "
                    "from the cache or refitting them", best.number)
        records = problem.evaluate(params)
        if not records[-1].ok:
            raise CandidateFailedError(
                f"tune: refitting the best trial ({best.number}) of study {name!r} failed: "
                f"{records[-1].message}")
        return study, params, records

    def _sampler(self, problem: Problem, worker: int, n_before: int) -> Any:
        if isinstance(self.sampler, str):  # seeded per trial: resumable, reproducible
            return SeededSampler(self.sampler, self.n_trials, self.random_state,
                                 problem.space.grid)
        # a sampler object: a resumed study gets fresh draws, not a replay of its first trials
        return make_sampler(self.sampler, n_trials=self.n_trials, reseed=worker > 1,
                            seed=derive_seed(self.random_state, "sampler", worker, n_before),
                            grid=problem.space.grid)

    def _pruner(self, problem: Problem) -> Any:
        pruner = make_pruner(self.pruner, len(problem.setup.splits))
        if problem.prune_epochs and judges_epochs(pruner):
            return FoldEpochPruner(pruner)  # epochs of fold 0 are reported too
        return pruner


def run_study(study: Any, problem: Problem, n_trials: int | None, time_limit: float | None,
               worker: str, verbose: int, title: str, share: int | None = None, *,
               storage: Any = None) -> BestTrial:
    """Run trials in this process until the study holds ``n_trials`` finished trials.

    ``share`` caps the trials this process runs (its part when several workers split them);
    ``storage`` is the study's, named in errors.
    """
    keeper = BestTrial(problem.greater_is_better)
    remaining = None if n_trials is None else n_trials - n_finished(study)
    if share is not None:
        remaining = share if remaining is None else min(share, remaining)
    if remaining is not None and remaining <= 0:
        logger.info("study %r: no trial left to run in this process (n_trials=%s)",
                    study.study_name, n_trials)
        return keeper
    callbacks = []
    if n_trials is not None:  # counts the trials of every process sharing the study
        callbacks.append(lambda s, t: s.stop() if n_finished(s) >= n_trials else None)
    with task_progress(remaining or 0, 0, verbose, title=title) as bar:
        callbacks.append(lambda s, t: bar.advance(describe_trial(s, t, title)))
        study.optimize(problem.objective(keeper, worker, storage), n_trials=remaining,
                       timeout=time_limit, catch=(TrialFailed,), callbacks=callbacks)
    return keeper


def _worker(problem: Problem, storage: Any, name: str, sampler: Any, pruner: Any,
            n_trials: int | None, time_limit: float | None, verbose: int,
            share: int | None) -> BestTrial:
    """One worker process: load the shared study and run its share of the trials."""
    import optuna

    with optuna_logging(verbose):
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler,
                                  pruner=pruner)
        return run_study(study, problem, n_trials, time_limit, worker_id(), 0, "", share,
                          storage=storage)


def describe_trial(study: Any, trial: Any, title: str) -> str:
    try:
        best = f"best {study.best_value:.5g}"
    except ValueError:  # no trial completed yet
        best = "no trial complete yet"
    return f"{title}: trial {trial.number} {trial.state.name.lower()} ({best})"
