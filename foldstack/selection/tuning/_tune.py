"""tune: search an estimator's hyperparameters with Optuna, on the shared folds.

The strategy (which configuration next: TPE, random, grid) is Optuna's; the evaluation is
foldstack's: one private ``Problem.evaluate(params, trial)`` fits the folds in order with
the same per-fold task as :func:`cross_validate_candidates`, reports the running mean to the
pruner after each fold (and a network's validation score after each epoch of fold 0, see
``_epochs``), and returns the fold records.  The best configuration's records
become a :class:`CandidateResult`, so a tuned model joins a :class:`CVReport` (leaderboard,
ensembles) without being refitted.
"""

from __future__ import annotations

import dataclasses
import logging
import numbers
import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from foldstack.exceptions import CandidateFailedError, InvalidParameterError
from foldstack.selection._cv import (
    check_n_jobs,
    check_time_limit,
    check_verbose,
    resolve_deprecated_alias,
)
from foldstack.selection._engine import (
    FoldTask,
    candidate_result,
    check_candidates,
    prepare,
    report_of,
    run_fold,
)
from foldstack.selection._record import FoldRecord
from foldstack.selection._report import CandidateResult, CVReport
from foldstack.selection._splits import make_splits, make_splitter
from foldstack.selection.tuning._epochs import has_network, judges_epochs
from foldstack.selection.tuning._problem import NAME, Problem, with_params
from foldstack.selection.tuning._search import Search
from foldstack.selection.tuning._space import (
    parse_space,
    valid_names,
)
from foldstack.selection.tuning._study import (
    PRUNERS,
    SAMPLERS,
    check_strategy,
    make_pruner,
    open_storage,
    optuna_logging,
    require_optuna,
    trials_frame,
)
from foldstack.utils._indexing import take_rows
from foldstack.utils._random import derive_seed

logger = logging.getLogger(__name__)


def _deprecated(name: str) -> property:
    def get(self: Any) -> Any:
        warnings.warn(f"TuneResult.{name}_ is deprecated and will be removed in a future "
                      f"release; use TuneResult.{name}.", FutureWarning, stacklevel=2)
        return getattr(self, name)
    return property(get, doc=f"Deprecated alias of ``{name}``.")


@dataclass(frozen=True, eq=False)
class TuneResult:
    """What :func:`tune` found: the best configuration and its complete CV record.

    Its attributes are plain names, like :class:`CVReport`'s (``best_params_`` and the other
    names with a trailing underscore are deprecated aliases, ``FutureWarning``).

    Attributes
    ----------
    best_params : dict
        The best configuration (estimator parameter -> value).
    best_score : float
        Its mean validation score (primary metric) on the shared folds.  Optimistic: it is
        the best of many configurations scored on the same folds; see ``outer_score``.
    best_estimator : estimator
        A clone of the estimator with ``best_params`` set, not fitted.
    trials : DataFrame
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
    outer_scores : DataFrame or None
        With ``nested=True``: per outer fold, the configuration chosen by the search on that
        fold's training rows (``param_<name>``), its inner CV score (``inner_test_<m>``)
        and its score on the outer validation rows (``test_<m>``).
    outer_score : float or None
        With ``nested=True``: the mean outer score, an honest estimate of the tuned model.
    nested_result : CandidateResult or None
        With ``nested=True``: the outer folds' record (OOF predictions of models whose
        hyperparameters never saw those rows).
    """

    best_params: dict
    best_score: float
    best_estimator: Any
    trials: pd.DataFrame = dataclasses.field(repr=False)
    cv_result: CandidateResult = dataclasses.field(repr=False)
    report: CVReport = dataclasses.field(repr=False)
    study: Any = dataclasses.field(repr=False)
    metric: str = ""
    greater_is_better: bool = True
    outer_scores: pd.DataFrame | None = dataclasses.field(default=None, repr=False)
    outer_score: float | None = None
    nested_result: CandidateResult | None = dataclasses.field(default=None, repr=False)

    # The names of scikit-learn's fitted attributes, kept one release: a TuneResult is a
    # record of a search (as Optuna's study.best_params), not a fitted estimator.
    best_params_ = _deprecated("best_params")
    best_score_ = _deprecated("best_score")
    best_estimator_ = _deprecated("best_estimator")
    trials_ = _deprecated("trials")
    outer_scores_ = _deprecated("outer_scores")
    outer_score_ = _deprecated("outer_score")

    @property
    def n_folds_fitted(self) -> int:
        """Folds fitted by all trials together (pruning makes it smaller)."""
        return int(self.trials["n_folds"].sum())


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
    prune_epochs: bool = True,
    start_from_estimator: bool = True,
    storage: Any = None,
    study_name: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    nested: bool = False,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    verbose: int = 0,
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
        trials are recorded in ``trials``; they never stop the study.
    prune_epochs : bool, default=True
        When the estimator is or holds a foldstack network (:class:`TabularMLPClassifier`,
        :class:`TabularMLPRegressor`, a Pipeline step included) and the pruner is
        ``"median"`` or an optuna ``MedianPruner`` / ``PercentilePruner``, a trial also
        reports the network's validation score (accuracy, or R²; negated when the metric is
        minimized) after each epoch of its first fold, so that a bad configuration stops
        within that fold instead of after it.  Epoch ``e`` is reported at step
        ``1_000_000 + e``, apart from the fold steps ``0 .. n_folds - 1``, and is compared
        only with other trials' values at the same epoch; the pruner is first asked after
        epoch 5.  A trial pruned mid-fold is recorded as pruned (0 folds fitted, its epoch
        values in ``study``), and the half-trained fold is not cached.  It needs the
        network's validation split (``early_stopping=True``, or ``"auto"`` on 1,024 rows or
        more).  Only a network trained in the process and thread that run the trial
        reports: the ``n_jobs`` worker processes run whole trials, folds included, so they
        do; a network fitted in another process or thread (a meta-estimator's own
        ``n_jobs``) does not, and its trials keep fold-level pruning, as do trials under
        other pruners (``"hyperband"``, thresholds).  False: fold-level pruning only.
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
        ``trials``, not counted in ``n_trials``) and its configuration runs again, so the
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
        inner folds) and score the winner on the outer validation rows: ``outer_score``.
        ``best_score`` is the best of many trials scored on the same folds, so it is
        optimistic; the outer score is not.  Costs one search per outer fold more.
    n_jobs : int, default=None
        Trials run in parallel by this many worker processes, all on one study (in a
        temporary SQLite file when the storage is memory); each gets ``cores // n_jobs``
        threads.  Trials then depend on timing, so results are not reproducible.
    random_state : int or None, default=0
        Seeds the folds, the sampler, and every unset ``random_state`` of the estimator
        (one seed per fold, the same for every trial: configurations are compared on
        equal terms).
    verbose : int, default=0
        0 is silent (the default, as everywhere in foldstack); 1 draws a progress bar; 2
        also shows Optuna's log of each trial.  Optuna's log level is restored afterwards.
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
    >>> sorted(result.best_params)
    ['logisticregression__C']
    >>> report = fs.selection.cross_validate_candidates(
    ...     {"default": model}, X, y, cv=result.report.splits, verbose=0)
    >>> report.add(result.cv_result, name="tuned").names
    ('default', 'tuned')
    """
    optuna = require_optuna()
    time_limit = resolve_deprecated_alias("tune", "time_limit", time_limit, "timeout", timeout)
    named = check_candidates({NAME: estimator})
    _check_arguments(n_trials, time_limit, nested, n_jobs, verbose, prune_epochs)
    sampler_spec = check_strategy("sampler", sampler, SAMPLERS, optuna.samplers.BaseSampler)
    pruner_spec = check_strategy("pruner", "none" if pruner is None else pruner, PRUNERS,
                                  optuna.pruners.BasePruner)
    parsed = parse_space(space, estimator)
    if sampler_spec == "grid":
        parsed.grid()  # a continuous parameter is an error before any data work
    # keyed: the study's name and setup check hash the data, with or without a cache
    setup = prepare(X, y, named, cv=cv, scoring=scoring, groups=groups, task=task,
                    random_state=random_state, keyed=True)
    problem = Problem(
        estimator=clone(estimator), space=parsed, valid=valid_names(estimator), setup=setup,
        seeds=tuple(derive_seed(random_state, NAME, i) for i in range(len(setup.splits))),
        cache_dir=None if cache_dir is None else str(cache_dir),
        prune_epochs=bool(prune_epochs) and has_network(estimator))
    if study_name is None:
        study_name = f"tune-{type(estimator).__name__}-{problem.setup_fingerprint()[:12]}"
    first = None
    if start_from_estimator and sampler_spec != "grid":
        first, outside = parsed.encode(estimator.get_params(deep=True))
        if outside:
            logger.info("tune: the estimator's own %s not in the space; the search starts "
                        "from sampled configurations", ", ".join(outside))
    if (problem.prune_epochs and pruner_spec != "none"
            and not judges_epochs(make_pruner(pruner_spec, len(setup.splits)))):
        logger.info("tune: pruner %r judges no epoch steps; the network's trials are pruned "
                    "after whole folds only", pruner)
    search = Search(sampler_spec, pruner_spec, n_trials, time_limit, n_jobs, random_state,
                     verbose, first=first)
    with optuna_logging(verbose):
        storage_obj = open_storage(storage, cache_dir)
        nested_out = None
        if nested:
            nested_out = _nested(problem, search, storage_obj, study_name, random_state)
        study, params, records = search.run(problem, storage_obj, study_name)
    best_estimator = with_params(estimator, params)
    cv_result = candidate_result(NAME, best_estimator, records, setup)
    report = report_of(setup, {NAME: cv_result})
    trials = trials_frame(study, storage_obj, problem.space, problem.primary,
                          len(setup.splits), problem.greater_is_better)
    outer_scores = outer_score = nested_result = None
    if nested_out is not None:
        outer_scores, outer_records = nested_out
        outer_score = float(outer_scores[f"test_{problem.primary}"].mean())
        nested_result = candidate_result(NAME, best_estimator, outer_records, setup)
    n_pruned = int((trials["state"] == "pruned").sum())
    logger.info("tuned %s: best %s %.5g (trial %d); %d trials, %d pruned, %d folds fitted",
                type(estimator).__name__, problem.primary, study.best_value,
                study.best_trial.number, len(trials), n_pruned, int(trials["n_folds"].sum()))
    return TuneResult(
        best_params=params, best_score=float(study.best_value),
        best_estimator=best_estimator, trials=trials, cv_result=cv_result, report=report,
        study=study, metric=problem.primary, greater_is_better=problem.greater_is_better,
        outer_scores=outer_scores, outer_score=outer_score, nested_result=nested_result)

# -- nested: the search inside each outer fold --------------------------------------------------

def _nested(problem: Problem, search: Search, storage: Any, name: str,
            random_state: int | None) -> tuple[pd.DataFrame, list[FoldRecord]]:
    """Search on each outer fold's training rows, score the winner on its validation rows."""
    setup = problem.setup
    rows, records = [], []
    k = len(setup.splits)
    for i, (tr, _) in enumerate(setup.splits):
        groups = None if setup.groups is None else np.asarray(setup.groups)[tr]
        inner_cv = make_splitter(k, setup.y[tr], setup.task, groups=groups,
                                 random_state=derive_seed(random_state, "inner", i))
        inner_splits = make_splits(inner_cv, take_rows(setup.X, tr), setup.y[tr], setup.task,
                                   groups=groups)
        inner = dataclasses.replace(
            problem, setup=setup.with_rows(tr, inner_splits, inner_cv),
            seeds=tuple(derive_seed(random_state, NAME, "outer", i, j) for j in range(k)))
        inner_search = dataclasses.replace(search, title=f"tuning in outer fold {i}")
        study, params, _ = inner_search.run(inner, storage, f"{name}.outer{i}")
        est = with_params(problem.estimator, params)
        task = FoldTask(NAME, i, derive_seed(random_state, NAME, "outer", i))
        record = run_fold(task, est, setup, n_threads=problem.n_threads)
        if not record.ok:
            raise CandidateFailedError(f"tune: the configuration chosen in outer fold {i} "
                                       f"failed on its training rows: {record.message}")
        records.append(record)
        rows.append({"fold": i, f"test_{problem.primary}": record.test[problem.primary],
                     f"inner_test_{problem.primary}": study.best_value,
                     "n_trials": len(study.trials),
                     **{f"param_{p}": v for p, v in params.items()}})
        logger.info("outer fold %d: inner %s %.5g, outer %.5g", i, problem.primary,
                    study.best_value, record.test[problem.primary])
    return pd.DataFrame(rows), records


def _check_arguments(n_trials: Any, time_limit: Any, nested: Any, n_jobs: Any,
                     verbose: Any, prune_epochs: Any = True) -> None:
    def is_int(v: Any) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    if n_trials is None and time_limit is None:
        raise InvalidParameterError("tune: give n_trials, time_limit or both; with neither the "
                                    "search would never stop.")
    if n_trials is not None and (not is_int(n_trials) or n_trials < 1):
        raise InvalidParameterError(f"tune: `n_trials` must be an int >= 1 (or None with a "
                                    f"time_limit); got {n_trials!r}.")

    def bool_problem(name: str, value: Any) -> str | None:
        return (None if isinstance(value, (bool, np.bool_))
                else f"`{name}` must be a bool; got {value!r}.")

    for problem in (check_time_limit(time_limit), bool_problem("nested", nested),
                    bool_problem("prune_epochs", prune_epochs), check_n_jobs(n_jobs)):
        if problem:
            raise InvalidParameterError(f"tune: {problem}")
    check_verbose(verbose, "tune")
