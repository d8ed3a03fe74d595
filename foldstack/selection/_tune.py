"""tune: search an estimator's hyperparameters with Optuna, on the shared folds.

The strategy (which configuration next: TPE, random, grid) is Optuna's; the evaluation is
foldstack's: one private ``_Problem.evaluate(params, trial)`` fits the folds in order with
the same per-fold task as :func:`cross_validate_candidates`, reports the running mean to the
pruner after each fold, and returns the fold records.  The best configuration's records
become a :class:`CandidateResult`, so a tuned model joins a :class:`CVReport` (leaderboard,
ensembles) without being refitted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import numbers
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone

from foldstack.exceptions import CandidateFailedError, InvalidParameterError
from foldstack.selection._cache import TaskCache, fingerprint
from foldstack.selection._cv import (
    _base_fingerprint,
    _candidate_result,
    _check_candidates,
    _prepare_data,
    _run_task,
    _take,
    check_n_jobs,
    resolve_deprecated_alias,
)
from foldstack.selection._progress import task_progress
from foldstack.selection._report import CandidateResult, CVReport
from foldstack.selection._scoring import Metric, resolve_scoring
from foldstack.selection._space import (
    OutsideSpaceError,
    SearchSpace,
    check_no_file_params,
    parse_space,
    valid_names,
)
from foldstack.selection._splits import make_splits
from foldstack.selection._study import (
    PRUNERS,
    SAMPLERS,
    STORAGE_FILE,
    WORKER,
    WORKER_TOKEN,
    SeededSampler,
    best_trial,
    check_strategy,
    check_study,
    create_study,
    make_pruner,
    make_sampler,
    mean,
    n_finished,
    open_storage,
    optuna_logging,
    recover_interrupted,
    refuse_study,
    require_optuna,
    stored_params,
    study_names,
    trials_frame,
    worker_id,
    worker_token,
)
from foldstack.utils._parallel import effective_n_jobs, threads_per_task
from foldstack.utils._random import derive_seed

logger = logging.getLogger(__name__)

NAME = "tuned"  # the candidate name of ``cv_result`` (rename it with ``report.add(name=)``)


@dataclass(frozen=True, eq=False)
class TuneResult:
    """What :func:`tune` found: the best configuration and its complete CV record.

    Attributes
    ----------
    best_params_ : dict
        The best configuration (estimator parameter -> value).
    best_score_ : float
        Its mean validation score (primary metric) on the shared folds.  Optimistic: it is
        the best of many configurations scored on the same folds; see ``outer_score_``.
    best_estimator_ : estimator
        A clone of the estimator with ``best_params_`` set, not fitted.
    trials_ : DataFrame
        One row per trial: ``number``, ``state`` ("complete", "pruned", "failed",
        "running", or "interrupted": failed because its process ended mid-trial, its
        configuration run again as a later trial), ``mean_test_<m>``, ``std_test_<m>``,
        ``rank_test_<m>``, ``mean_train_<m>``, ``n_folds`` (folds fitted), ``split<i>_test_<m>``,
        ``param_<name>``, ``duration`` (seconds), ``worker`` (host:pid) and ``error``.
    cv_result : CandidateResult
        The best configuration's record (fold scores, OOF predictions, fold models), in the
        form of a :class:`CVReport` entry: ``report.add(result.cv_result, name="xgb_tuned")``.
    report : CVReport
        A report holding ``cv_result`` alone (named ``"tuned"``).
    study : optuna.study.Study
        The study (its storage keeps every trial).
    metric : str
        The primary metric that was optimised.
    greater_is_better : bool
    outer_scores_ : DataFrame or None
        With ``nested=True``: per outer fold, the configuration chosen by the search on that
        fold's training rows (``param_<name>``), its inner CV score (``inner_test_<m>``)
        and its score on the outer validation rows (``test_<m>``).
    outer_score_ : float or None
        With ``nested=True``: the mean outer score, an honest estimate of the tuned model.
    nested_result : CandidateResult or None
        With ``nested=True``: the outer folds' record (OOF predictions of models whose
        hyperparameters never saw those rows).
    """

    best_params_: dict
    best_score_: float
    best_estimator_: Any
    trials_: pd.DataFrame = dataclasses.field(repr=False)
    cv_result: CandidateResult = dataclasses.field(repr=False)
    report: CVReport = dataclasses.field(repr=False)
    study: Any = dataclasses.field(repr=False)
    metric: str = ""
    greater_is_better: bool = True
    outer_scores_: pd.DataFrame | None = dataclasses.field(default=None, repr=False)
    outer_score_: float | None = None
    nested_result: CandidateResult | None = dataclasses.field(default=None, repr=False)

    @property
    def n_folds_fitted(self) -> int:
        """Folds fitted by all trials together (pruning makes it smaller)."""
        return int(self.trials_["n_folds"].sum())


def tune(
    estimator: Any,
    space: Any,
    X: Any,
    y: Any,
    *,
    cv: Any = 5,
    scoring: Any = None,
    groups: Any = None,
    task: str | None = None,
    n_trials: int | None = 50,
    time_limit: float | None = None,
    sampler: Any = "tpe",
    pruner: Any = "median",
    start_from_estimator: bool = True,
    storage: Any = None,
    study_name: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    nested: bool = False,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    verbose: int = 1,
    timeout: float | None = None,
) -> TuneResult:
    """Search ``estimator``'s hyperparameters with Optuna on the shared folds.

    Every trial is scored on the same folds, with the same per-fold task (seeds, metrics,
    OOF predictions, fold models) as :func:`cross_validate_candidates`, so the best
    configuration's record (``cv_result``) joins a report and its ensembles unchanged.

    Parameters
    ----------
    estimator : estimator
        An unfitted scikit-learn estimator or Pipeline.
    space : dict or callable
        Parameter name (nested ``step__param`` for Pipelines) -> ``("int", low, high)``,
        ``("float", low, high)``, either with a 4th element ``"log"``,
        ``("categorical", [choice, ...])`` or an ``optuna.distributions`` object.  A
        callable ``space(trial) -> dict of params`` gives conditional spaces.
    X : DataFrame or array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    cv : int, splitter or iterable of (train, val) pairs, default=5
        As in :func:`cross_validate_candidates`; pass ``report.splits`` to tune on a
        report's folds (required for ``report.add(result.cv_result)``).
    scoring : str, callable, list or dict, default=None
        As in :func:`cross_validate_candidates`; the first metric is optimised.  Use the
        report's scoring so that the tuned record has the same metrics.
    groups : array-like of shape (n_samples,), default=None
        Group labels, as in :func:`cross_validate_candidates`.
    task : {"binary", "multiclass", "regression"}, default=None
        Override the task inferred from ``y``.
    n_trials : int or None, default=50
        Finished trials (complete, pruned or failed) the study should hold.  A resumed or
        shared study counts the trials it already has, so rerunning an interrupted call
        runs only the rest, and several processes given the same study stop together.
        None runs until ``time_limit``.
    time_limit : float, default=None
        Seconds (finite, > 0) after which no new trial starts; None: no time limit.
    sampler : {"tpe", "random", "grid"} or optuna sampler, default="tpe"
        ``"tpe"`` is multivariate TPE after ``min(10, max(5, n_trials // 3))`` random
        trials; ``"grid"`` tries every combination of a finite space (categorical and int
        parameters).  Named samplers are seeded from ``random_state`` and each trial's place
        in the study, so a resumed study draws what an uninterrupted one would have.
    pruner : {"median", "hyperband", "none"}, optuna pruner or None, default="median"
        A trial reports its running mean after each fold; ``"median"`` stops it when that
        is worse than the median of earlier trials after the same fold.  Pruned and failed
        trials are recorded in ``trials_``; they never stop the study.
    start_from_estimator : bool, default=True
        Make the estimator's own configuration the first trial of a new study, so the best
        configuration is never worse in CV than the one you started from (the default
        candidates' settings are good ones).  It applies to a dict space when each parameter
        has a value in the space (in range, or one of the choices) and the sampler is not
        ``"grid"``; otherwise the search starts from sampled configurations, as it also
        does when False.
    storage : str, path, optuna storage or None, default=None
        Where trials are kept: an RDB URL (``"sqlite:///study.db"``,
        ``"postgresql://..."``), a path to an SQLite file, or an optuna storage.  None
        means ``<cache_dir>/tune.sqlite3`` when ``cache_dir`` is given, else memory.  The
        study is loaded if it exists, so an interrupted run (Ctrl-C, SIGKILL) resumes with
        the same ``study_name`` and keeps every finished trial, and several processes or
        machines pointed at one RDB URL tune one study together.  A trial left running by
        a process that has ended (SIGKILL, a crash) is marked failed ("interrupted" in
        ``trials_``, not counted in ``n_trials``) and its configuration runs again, so the
        resumed study ends where an uninterrupted one does.  Only trials of processes on
        this machine can be known to have ended; those of other machines are left running.
        A storage is a file someone else may have changed: a study holding any trial with a
        parameter outside the space, or a value outside its distribution, is refused
        (:class:`~foldstack.exceptions.UnsafeModelError`) before any estimator is built.
    study_name : str, default=None
        None derives a name from the estimator, space, data, folds and metrics, so the same
        call resumes its own study.
    cache_dir : str or path, default=None
        Keep each fitted fold on disk (as :func:`cross_validate_candidates` does) and, when
        ``storage`` is None, the study too.
    nested : bool, default=False
        Also run the whole search inside each outer fold (on its training rows, with as many
        inner folds) and score the winner on the outer validation rows: ``outer_score_``.
        ``best_score_`` is the best of many trials scored on the same folds, so it is
        optimistic; the outer score is not.  Costs one search per outer fold more.
    n_jobs : int, default=None
        Trials run in parallel by this many worker processes, all on one study (in a
        temporary SQLite file when the storage is memory); each gets ``cores // n_jobs``
        threads.  Trials then depend on timing, so results are not reproducible.
    random_state : int or None, default=0
        Seeds the folds, the sampler, and every unset ``random_state`` of the estimator
        (one seed per fold, the same for every trial: configurations are compared on
        equal terms).
    verbose : int, default=1
        0 is silent; 1 draws a progress bar; 2 also shows Optuna's log of each trial.
        Optuna's log level is restored afterwards.
    timeout : float, default=None
        Deprecated alias of ``time_limit`` (``FutureWarning``); it will be removed in a
        future release.

    Returns
    -------
    TuneResult

    Notes
    -----
    How ``cv_result`` is obtained: the fold records of the best trial finished by this call
    are kept in memory (only the best so far, to bound memory).  When the best trial was
    finished by another process or an earlier, interrupted run, its folds are read from
    ``cache_dir`` (every fitted fold is stored there, keyed by the data, fold, metrics,
    parameters and seed), and any fold not found is refitted once at the end with the same
    seed.  Fold models are not stored in the study itself: Optuna storages hold JSON
    values, and a refit with the same seed reproduces the record.

    Examples
    --------
    >>> import foldstack as fs
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> model = make_pipeline(StandardScaler(), LogisticRegression())
    >>> result = fs.selection.tune(
    ...     model, {"logisticregression__C": ("float", 1e-3, 1e2, "log")}, X, y,
    ...     cv=3, n_trials=10, verbose=0)
    >>> sorted(result.best_params_)
    ['logisticregression__C']
    >>> report = fs.selection.cross_validate_candidates(
    ...     {"default": model}, X, y, cv=result.report.splits, verbose=0)
    >>> report.add(result.cv_result, name="tuned").names
    ('default', 'tuned')
    """
    optuna = require_optuna()
    time_limit = resolve_deprecated_alias("tune", "time_limit", time_limit, "timeout", timeout)
    named = _check_candidates({NAME: estimator})
    _check_arguments(n_trials, time_limit, nested, n_jobs, verbose)
    sampler_spec = check_strategy("sampler", sampler, SAMPLERS, optuna.samplers.BaseSampler)
    pruner_spec = check_strategy("pruner", "none" if pruner is None else pruner, PRUNERS,
                                  optuna.pruners.BasePruner)
    parsed = parse_space(space, estimator)
    if sampler_spec == "grid":
        parsed.grid()  # a continuous parameter is an error before any data work
    X, y, y_fit, groups, task, classes, codes = _prepare_data(X, y, groups, task, named)
    metrics = resolve_scoring(scoring, task)
    splits = make_splits(cv, X, y, task, groups=groups, random_state=random_state)
    data_fp = fingerprint(X, y)
    problem = _Problem(
        estimator=clone(estimator), space=parsed, valid=valid_names(estimator), X=X,
        y_fit=y_fit, splits=splits, metrics=metrics, codes=codes,
        seeds=tuple(derive_seed(random_state, NAME, i) for i in range(len(splits))),
        base_fp=_base_fingerprint(data_fp, metrics, task, classes),
        cache_dir=None if cache_dir is None else str(cache_dir))
    if study_name is None:
        study_name = f"tune-{type(estimator).__name__}-{problem.setup_fingerprint()[:12]}"
    first = None
    if start_from_estimator and sampler_spec != "grid":
        first, outside = parsed.encode(estimator.get_params(deep=True))
        if outside:
            logger.info("tune: the estimator's own %s not in the space; the search starts "
                        "from sampled configurations", ", ".join(outside))
    search = _Search(sampler_spec, pruner_spec, n_trials, time_limit, n_jobs, random_state,
                     verbose, first=first)
    with optuna_logging(verbose):
        storage_obj = open_storage(storage, cache_dir)
        nested_out = None
        if nested:
            nested_out = _nested(problem, search, storage_obj, study_name, X, y, y_fit, groups,
                                 task, classes, codes, random_state)
        study, params, outs = search.run(problem, storage_obj, study_name)
    best_estimator = _with_params(estimator, params)
    cv_result = _candidate_result(NAME, best_estimator, outs, splits, len(y), classes)
    report = CVReport(task=task, splits=splits, metrics=tuple(m.name for m in metrics),
                      greater_is_better={m.name: m.greater_is_better for m in metrics},
                      results={NAME: cv_result}, y=y, classes=classes, data_fingerprint=data_fp)
    trials = trials_frame(study, storage_obj, problem.space, problem.primary,
                          len(problem.splits), problem.greater_is_better)
    outer_scores = outer_score = nested_result = None
    if nested_out is not None:
        outer_scores, outer_outs = nested_out
        outer_score = float(outer_scores[f"test_{problem.primary}"].mean())
        nested_result = _candidate_result(NAME, best_estimator, outer_outs, splits, len(y),
                                          classes)
    n_pruned = int((trials["state"] == "pruned").sum())
    logger.info("tuned %s: best %s %.5g (trial %d); %d trials, %d pruned, %d folds fitted",
                type(estimator).__name__, problem.primary, study.best_value,
                study.best_trial.number, len(trials), n_pruned, int(trials["n_folds"].sum()))
    return TuneResult(
        best_params_=params, best_score_=float(study.best_value),
        best_estimator_=best_estimator, trials_=trials, cv_result=cv_result, report=report,
        study=study, metric=problem.primary, greater_is_better=problem.greater_is_better,
        outer_scores_=outer_scores, outer_score_=outer_score, nested_result=nested_result)


# -- the evaluation: folds in order, each one reported to the pruner ----------------------------

class _TrialFailed(Exception):
    """A fold raised: the trial is recorded as failed and the study goes on."""


def _with_params(estimator: Any, params: dict) -> Any:
    """An unfitted clone of ``estimator`` with ``params``; never a parameter that makes it
    load a file (a Pipeline's ``memory`` unpickles its cache), wherever ``params`` came
    from: they may have been read back from a study file."""
    check_no_file_params(params)
    return clone(estimator).set_params(**params)


@dataclass
class _Problem:
    """Everything a trial needs; picklable, so worker processes get a copy."""

    estimator: Any
    space: SearchSpace
    valid: frozenset
    X: Any
    y_fit: np.ndarray
    splits: tuple
    metrics: tuple[Metric, ...]
    codes: np.ndarray | None
    seeds: tuple[int, ...]
    base_fp: str
    cache_dir: str | None
    n_threads: int | None = None

    @property
    def primary(self) -> str:
        return self.metrics[0].name

    @property
    def greater_is_better(self) -> bool:
        return bool(self.metrics[0].greater_is_better)

    @property
    def direction(self) -> str:
        return "maximize" if self.greater_is_better else "minimize"

    def setup(self) -> dict:
        """Stored with the study, which refuses to resume under another setup."""
        return {"setup": self.setup_fingerprint(), "metric": self.primary,
                "space": self.space.describe()}

    def setup_fingerprint(self) -> str:
        """What a study's trial values depend on, besides the configuration."""
        return fingerprint(self.base_fp, self.estimator, self.splits, self.seeds,
                           self.space.describe())

    def evaluate(self, params: dict, trial: Any = None) -> list[dict]:
        """Fit the folds in order; after each one, report the running mean to ``trial``.

        Returns the fold records (the last one holds the error if a fold failed).  Raises
        ``optuna.TrialPruned`` when the pruner stops the trial.
        """
        est = _with_params(self.estimator, params)
        est_fp = fingerprint(clone(est))
        cache = TaskCache(self.cache_dir, candidates=[self.estimator])
        outs: list[dict] = []
        test: list[float] = []
        train: list[float] = []
        for i, (tr, va) in enumerate(self.splits):
            key = fingerprint(self.base_fp, est_fp, tr, va, self.seeds[i])
            out = cache.get(key)
            if out is None:
                out = _run_task(i, NAME, est, self.X, self.y_fit, tr, va, self.metrics,
                                self.codes, self.seeds[i], key, self.n_threads, None)
                if out["error"] is None:
                    cache.put(key, out)
            outs.append(out)
            if out["error"] is not None:
                break
            test.append(float(out["test"][self.primary]))
            train.append(float(out["train"][self.primary]))
            if trial is None:
                continue
            trial.set_user_attr("test", test)
            trial.set_user_attr("train", train)
            running = mean(test)
            if np.isfinite(running):
                trial.report(running, i)
                if i < len(self.splits) - 1 and trial.should_prune():
                    import optuna

                    raise optuna.TrialPruned(f"pruned after fold {i}: running mean "
                                             f"{self.primary} {running:.5g}")
        return outs

    def objective(self, keeper: _Best, worker: str, storage: Any = None):
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
            outs = self.evaluate(params, trial)
            if outs[-1]["error"] is not None:
                message = f"fold {outs[-1]['fold']}: {outs[-1]['message']}"
                trial.set_user_attr("error", message[:2000])
                raise _TrialFailed(message)
            value = mean([o["test"][self.primary] for o in outs])
            if not np.isfinite(value):
                message = f"{self.primary} is NaN in every fold"
                trial.set_user_attr("error", message)
                raise _TrialFailed(message)
            keeper.offer(trial.number, value, outs)
            return value
        return objective


class _Best:
    """The fold records of the best trial finished in this process (only that one)."""

    def __init__(self, greater_is_better: bool) -> None:
        self.greater = greater_is_better
        self.number: int | None = None
        self.value: float | None = None
        self.outs: list[dict] | None = None

    def offer(self, number: int, value: float, outs: list[dict]) -> None:
        if self.value is None or (value > self.value if self.greater else value < self.value):
            self.number, self.value, self.outs = number, value, outs


# -- the strategy: one study, in this process or in several workers ------------------------------

@dataclass
class _Search:
    sampler: Any
    pruner: Any
    n_trials: int | None
    time_limit: float | None
    n_jobs: int | None
    random_state: int | None
    verbose: int
    title: str = "tuning"
    first: dict | None = None  # stored values of the first trial of a new study

    def run(self, problem: _Problem, storage: Any, name: str) -> tuple[Any, dict, list[dict]]:
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
            study = create_study(shared, name, problem.direction, problem.setup(),
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
                kept = [_run_study(study, problem, self.n_trials, self.time_limit, worker_id(),
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
            return study, params, hit.outs
        logger.info("trial %d was finished by another process or run: reading its folds "
                    "from the cache or refitting them", best.number)
        outs = problem.evaluate(params)
        if outs[-1]["error"] is not None:
            raise CandidateFailedError(
                f"tune: refitting the best trial ({best.number}) of study {name!r} failed: "
                f"{outs[-1]['message']}")
        return study, params, outs

    def _sampler(self, problem: _Problem, worker: int, n_before: int) -> Any:
        if isinstance(self.sampler, str):  # seeded per trial: resumable, reproducible
            return SeededSampler(self.sampler, self.n_trials, self.random_state,
                                 problem.space.grid)
        # a sampler object: a resumed study gets fresh draws, not a replay of its first trials
        return make_sampler(self.sampler, n_trials=self.n_trials, reseed=worker > 1,
                            seed=derive_seed(self.random_state, "sampler", worker, n_before),
                            grid=problem.space.grid)

    def _pruner(self, problem: _Problem) -> Any:
        return make_pruner(self.pruner, len(problem.splits))


def _run_study(study: Any, problem: _Problem, n_trials: int | None, time_limit: float | None,
               worker: str, verbose: int, title: str, share: int | None = None, *,
               storage: Any = None) -> _Best:
    """Run trials in this process until the study holds ``n_trials`` finished trials.

    ``share`` caps the trials this process runs (its part when several workers split them);
    ``storage`` is the study's, named in errors.
    """
    keeper = _Best(problem.greater_is_better)
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
        callbacks.append(lambda s, t: bar.advance(_describe(s, t, title)))
        study.optimize(problem.objective(keeper, worker, storage), n_trials=remaining,
                       timeout=time_limit, catch=(_TrialFailed,), callbacks=callbacks)
    return keeper


def _worker(problem: _Problem, storage: Any, name: str, sampler: Any, pruner: Any,
            n_trials: int | None, time_limit: float | None, verbose: int,
            share: int | None) -> _Best:
    """One worker process: load the shared study and run its share of the trials."""
    import optuna

    with optuna_logging(verbose):
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler,
                                  pruner=pruner)
        return _run_study(study, problem, n_trials, time_limit, worker_id(), 0, "", share,
                          storage=storage)


def _describe(study: Any, trial: Any, title: str) -> str:
    try:
        best = f"best {study.best_value:.5g}"
    except ValueError:  # no trial completed yet
        best = "no trial complete yet"
    return f"{title}: trial {trial.number} {trial.state.name.lower()} ({best})"


# -- nested: the search inside each outer fold --------------------------------------------------

def _nested(problem: _Problem, search: _Search, storage: Any, name: str, X: Any, y: Any,
            y_fit: np.ndarray, groups: Any, task: str, classes: Any, codes: Any,
            random_state: int | None) -> tuple[pd.DataFrame, list[dict]]:
    """Search on each outer fold's training rows, score the winner on its validation rows."""
    rows, outs = [], []
    k = len(problem.splits)
    for i, (tr, va) in enumerate(problem.splits):
        X_i, y_i = _take(X, tr), y[tr]
        inner_splits = make_splits(k, X_i, y_i, task,
                                   groups=None if groups is None else np.asarray(groups)[tr],
                                   random_state=derive_seed(random_state, "inner", i))
        inner = dataclasses.replace(
            problem, X=X_i, y_fit=y_fit[tr], splits=inner_splits,
            seeds=tuple(derive_seed(random_state, NAME, "outer", i, j) for j in range(k)),
            base_fp=_base_fingerprint(fingerprint(X_i, y_i), problem.metrics, task, classes))
        inner_search = dataclasses.replace(search, title=f"tuning in outer fold {i}")
        study, params, _ = inner_search.run(inner, storage, f"{name}.outer{i}")
        est = _with_params(problem.estimator, params)
        seed = derive_seed(random_state, NAME, "outer", i)
        out = _run_task(i, NAME, est, X, y_fit, tr, va, problem.metrics, codes, seed, "",
                        problem.n_threads, None)
        if out["error"] is not None:
            raise CandidateFailedError(f"tune: the configuration chosen in outer fold {i} "
                                       f"failed on its training rows: {out['message']}")
        outs.append(out)
        rows.append({"fold": i, f"test_{problem.primary}": out["test"][problem.primary],
                     f"inner_test_{problem.primary}": study.best_value,
                     "n_trials": len(study.trials),
                     **{f"param_{p}": v for p, v in params.items()}})
        logger.info("outer fold %d: inner %s %.5g, outer %.5g", i, problem.primary,
                    study.best_value, out["test"][problem.primary])
    return pd.DataFrame(rows), outs


def _check_arguments(n_trials: Any, time_limit: Any, nested: Any, n_jobs: Any,
                     verbose: Any) -> None:
    def is_int(v: Any) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    if n_trials is None and time_limit is None:
        raise InvalidParameterError("tune: give n_trials, time_limit or both; with neither the "
                                    "search would never stop.")
    if n_trials is not None and (not is_int(n_trials) or n_trials < 1):
        raise InvalidParameterError(f"tune: `n_trials` must be an int >= 1 (or None with a "
                                    f"time_limit); got {n_trials!r}.")
    if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(
            time_limit, numbers.Real) or not (time_limit > 0 and math.isfinite(time_limit))):
        raise InvalidParameterError(f"tune: `time_limit` must be a finite number of seconds "
                                    f"> 0, or None for no time limit; got {time_limit!r}.")
    if not isinstance(nested, (bool, np.bool_)):
        raise InvalidParameterError(f"tune: `nested` must be a bool; got {nested!r}.")
    n_jobs_problem = check_n_jobs(n_jobs)
    if n_jobs_problem:
        raise InvalidParameterError(f"tune: {n_jobs_problem}")
    if not is_int(verbose) or verbose < 0:
        raise InvalidParameterError(f"tune: `verbose` must be an int >= 0; got {verbose!r}.")
