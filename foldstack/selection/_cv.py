"""cross_validate_candidates: every candidate once, on one set of folds shared by all."""

from __future__ import annotations

import logging
import math
import numbers
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from foldstack.exceptions import (
    CandidateFailedError,
    CandidateFailedWarning,
    InvalidParameterError,
)
from foldstack.selection._cache import TaskCache
from foldstack.selection._engine import (
    CVSetup,
    assemble,
    check_candidates,
    check_error_score,
    n_columns,
    plan,
    prepare,
    run_tasks,
)
from foldstack.selection._progress import task_progress
from foldstack.selection._report import CVReport
from foldstack.selection._schedule import TimeLimitedSchedule
from foldstack.utils._parallel import check_interrupt, effective_n_jobs, threads_per_task

logger = logging.getLogger(__name__)


def cross_validate_candidates(
    candidates: Mapping[str, Any] | Sequence[tuple[str, Any]],
    X: Any,
    y: Any,
    *,
    cv: Any = 5,
    scoring: Any = None,
    groups: Any = None,
    n_repeats: int = 1,
    task: str | None = None,
    n_jobs: int | None = None,
    error_score: float | str = np.nan,
    cache_dir: str | None = None,
    time_limit: float | None = None,
    random_state: int | None = 0,
    verbose: int = 0,
    time_budget: float | None = None,
) -> CVReport:
    """Cross-validate every candidate once, on one set of folds shared by all.

    Each (candidate, fold) pair is one joblib task that fits a clone of the candidate on the
    fold's training rows and records, for every metric, its training and validation score,
    its fit and predict times, its out-of-fold (OOF) predictions and the fitted fold model.
    Leaderboards, paired comparisons, diagnosis and ensembles are computed from that record
    without fitting anything again.

    Parameters
    ----------
    candidates : dict of str -> estimator, or list of (name, estimator)
        Unfitted scikit-learn estimators or Pipelines.  Each receives ``X`` as given (a
        DataFrame stays a DataFrame), so pipelines do their own encoding inside each fold.
    X : DataFrame or array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Rows whose target is missing are dropped with a warning.
    cv : int, splitter or iterable of (train, val) pairs, default=5
        An int gives stratified K-fold (classification), K-fold (regression) or group K-fold
        (``groups``), shuffled with ``random_state``.  ``report.splits`` of another report
        reuses its folds.
    scoring : str, callable, list or dict, default=None
        Metric names (``"roc_auc"``, ``"log_loss"``, ``"rmse"``, scikit-learn scorer names
        such as ``"neg_log_loss"``) or scorer callables ``scorer(estimator, X, y)``; the
        first is primary.  None uses the task's defaults (binary: ROC AUC, log loss,
        accuracy, balanced accuracy, precision, recall, F1; multiclass: log loss, accuracy,
        balanced accuracy, macro F1; regression: RMSE, MAE, R²).
    groups : array-like of shape (n_samples,), default=None
        Group labels: no group is split between training and validation.
    n_repeats : int, default=1
        Repeat K-fold this many times with different shuffles.
    task : {"binary", "multiclass", "regression"}, default=None
        Override the task inferred from ``y``.
    n_jobs : int, default=None
        Parallel tasks (None: 1 unless a ``joblib.parallel_config`` says otherwise; -1: one
        per CPU core, -2: all cores but one; 0 is an error).  Each
        task gets ``cores // n_jobs`` threads, so tasks never oversubscribe the CPU.  Under
        ``joblib.parallel_config(backend="dask")`` the tasks run on a dask cluster, with the
        data broadcast to every worker so that a lost worker's tasks can be retried.
    error_score : float or "raise", default=np.nan
        As in scikit-learn: ``"raise"`` stops at the first error; a number is the score
        (every metric, training and validation, in the metric's own units: 0 is a bad ROC
        AUC but a perfect RMSE) of a fold whose fit failed, so that fold appears in
        ``report.scores`` and the means with that value (NaN: no score).  A
        candidate that fails in any fold is marked failed either way, its traceback kept in
        ``report.failures``, and the other candidates go on.  A
        validation score that is NaN or infinite (e.g. RMSE overflowing on a target of
        scale 1e200) is such a failure, except a score undefined on a fold with one class.
    cache_dir : str or path, default=None
        Store each finished task on disk; a rerun computes only what is missing (after an
        added candidate, an interruption or even SIGKILL).
    time_limit : float, default=None
        Seconds (finite, > 0) for the whole pass.  The candidates run in the order given
        (put a fast one first): the first always runs all its folds, so the report is never
        empty; each other task starts only while time is left, and models that train in
        rounds or epochs (xgboost, LightGBM, CatBoost, the networks) stop at a time that
        lets their remaining folds finish within the limit (the leaderboard's ``note`` says
        so).  Once a candidate's first fold has finished, its time predicts the rest: a
        candidate that cannot finish is not continued.  Candidates left incomplete are
        marked ``"timeout"``.  Estimators that cannot stop mid-fit (scikit-learn's) may
        overrun the limit by up to one fit.  None: no limit.
    random_state : int or None, default=0
        Seeds the folds and, through a seed derived per (candidate, fold), every estimator
        whose ``random_state`` is unset, so results do not depend on ``n_jobs``.
    verbose : int, default=0
        0 is silent (the default, as everywhere in foldstack and scikit-learn); 1 draws a
        progress bar.
    time_budget : float, default=None
        Deprecated alias of ``time_limit`` (``FutureWarning``); it will be removed in a
        future release.

    Returns
    -------
    CVReport

    Examples
    --------
    >>> import foldstack as fs
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> report = fs.selection.cross_validate_candidates(
    ...     {"tree": DecisionTreeClassifier(max_depth=3),
    ...      "logreg": LogisticRegression(max_iter=5000)}, X, y, cv=3, verbose=0)
    >>> report.best()
    'logreg'
    """
    start = time.perf_counter()
    named = check_candidates(candidates)
    check_error_score(error_score)
    check_verbose(verbose)
    time_limit = resolve_deprecated_alias("cross_validate_candidates", "time_limit",
                                          time_limit, "time_budget", time_budget)
    for problem in (check_n_jobs(n_jobs), check_time_limit(time_limit)):
        if problem:
            raise InvalidParameterError(problem)
    setup = prepare(X, y, named, cv=cv, scoring=scoring, groups=groups, n_repeats=n_repeats,
                    task=task, random_state=random_state, keyed=cache_dir is not None)
    cache = TaskCache(cache_dir, candidates=named.values())
    tasks, done = plan(setup, named, cache)
    logger.info("%d candidates x %d folds: %d tasks to run, %d from the cache",
                len(named), len(setup.splits), len(tasks), len(done))

    deadline = None if time_limit is None else time.time() + float(time_limit)
    schedule = None
    if deadline is not None:
        schedule = TimeLimitedSchedule(tasks, list(named), n_workers=effective_n_jobs(n_jobs),
                                       deadline=deadline, costs=_expected_costs(setup, named))
    total = len(named) * len(setup.splits)
    with task_progress(total, len(done), verbose) as bar:
        for record in run_tasks(setup, named, tasks if schedule is None else schedule,
                                n_jobs=n_jobs, n_threads=threads_per_task(n_jobs),
                                error_score=error_score, lazy=schedule is not None):
            if schedule is not None:
                schedule.finished(record)
            if record.failed and error_score == "raise":
                raise CandidateFailedError(f"Candidate {record.candidate!r} failed in fold "
                                           f"{record.fold}:\n{record.error}")
            cache.put(record)
            done[record.candidate, record.fold] = record
            bar.advance(f"{record.candidate} fold {record.fold}")
            check_interrupt()  # a Ctrl-C held back during the task stops the run here

    report = assemble(setup, named, done, None if schedule is None else schedule.dropped)
    if schedule is not None:
        for name, why in schedule.dropped.items():
            logger.info("%s stopped under the time limit: %s", name, why)
    _warn_failures(report)
    logger.info("cross-validation finished in %.1f s", time.perf_counter() - start)
    return report


def _expected_costs(setup: CVSetup, named: dict[str, Any]) -> dict[str, float]:
    """A-priori seconds per fold of the candidates that are portfolio configurations."""
    from foldstack.models import expected_fold_seconds

    n_rows = int(np.mean([len(train) for train, _ in setup.splits]))
    width = n_columns(setup.X)
    n_classes = 0 if setup.classes is None else len(setup.classes)
    return expected_fold_seconds(named, setup.task, n_rows, width, n_classes)


def check_verbose(verbose: Any, owner: str = "") -> None:
    """``verbose`` must be an int >= 0 (0 silent, 1 progress bars, 2 also per-step logs)."""
    if isinstance(verbose, numbers.Integral) and not isinstance(verbose, bool) and verbose >= 0:
        return
    raise InvalidParameterError(f"{owner + ': ' if owner else ''}`verbose` must be an int >= 0; "
                                f"got {verbose!r}.")


def check_n_jobs(n_jobs: Any) -> str | None:
    """What is wrong with ``n_jobs`` (a sentence), or None when it is valid."""
    if n_jobs is None or (isinstance(n_jobs, numbers.Integral) and not isinstance(n_jobs, bool)
                          and n_jobs != 0):
        return None
    return ("`n_jobs` must be None or a non-zero int: a positive number of parallel workers, "
            "or a negative one for all CPU cores but |n_jobs| - 1 (-1: all cores, -2: all but "
            f"one); got {n_jobs!r}.")


def check_time_limit(time_limit: Any) -> str | None:
    """What is wrong with ``time_limit`` (a sentence), or None when it is valid."""
    if time_limit is None or (isinstance(time_limit, numbers.Real)
                              and not isinstance(time_limit, bool)
                              and math.isfinite(time_limit) and time_limit > 0):
        return None
    return ("`time_limit` must be a finite number of seconds > 0, or None for no time limit; "
            f"got {time_limit!r}.")


def resolve_deprecated_alias(owner: str, name: str, value: Any, old_name: str,
                             old_value: Any) -> Any:
    """The value of ``name``, taken from its deprecated alias ``old_name`` when only that is
    given (with a ``FutureWarning``); giving both is an error."""
    if old_value is None:
        return value
    if value is not None:
        raise InvalidParameterError(f"{owner}: give `{name}` only; `{old_name}` is its "
                                    f"deprecated alias.")
    warnings.warn(f"{owner}: `{old_name}` is deprecated and will be removed in a future "
                  f"release; use `{name}` instead.", FutureWarning, stacklevel=3)
    return old_value


def _warn_failures(report: CVReport) -> None:
    bad = {n: r for n, r in report.results.items() if r.status != "ok"}
    if not bad:
        return
    lines = "; ".join(f"{n!r} ({r.error.splitlines()[0]})" for n, r in bad.items())
    warnings.warn(f"{len(bad)} of {len(report.results)} candidates did not finish: {lines}. "
                  "They are marked in the leaderboard's status column; see "
                  "report.failures for tracebacks.", CandidateFailedWarning, stacklevel=3)
