"""cross_validate_candidates: every candidate once, on one set of folds shared by all."""

from __future__ import annotations

import logging
import math
import numbers
import time
import traceback
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier, is_regressor

from foldstack.data import check_X_y, infer_task
from foldstack.exceptions import (
    CandidateFailedError,
    CandidateFailedWarning,
    DataError,
    InvalidParameterError,
)
from foldstack.selection._cache import TaskCache, fingerprint
from foldstack.selection._fold_average import predict_aligned
from foldstack.selection._progress import task_progress
from foldstack.selection._report import CandidateResult, CVReport
from foldstack.selection._scoring import Metric, resolve_scoring, score_predictions
from foldstack.selection._splits import make_splits
from foldstack.utils._parallel import (
    broadcast_data,
    check_interrupt,
    interrupt_count,
    limited_threads,
    threads_per_task,
)
from foldstack.utils._random import derive_seed, seeded_globals, set_random_states

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
    verbose: int = 1,
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
        ``"raise"`` stops at the first error; otherwise a candidate that fails in any fold is
        marked failed, its traceback kept in ``report.failures``, and the others go on.  A
        validation score that is NaN or infinite (e.g. RMSE overflowing on a target of
        scale 1e200) is such a failure, except a score undefined on a fold with one class.
    cache_dir : str or path, default=None
        Store each finished task on disk; a rerun computes only what is missing (after an
        added candidate, an interruption or even SIGKILL).
    time_limit : float, default=None
        Seconds (finite, > 0) after which no new task starts; candidates left incomplete are
        marked ``"timeout"``.  None: no limit.
    random_state : int or None, default=0
        Seeds the folds and, through a seed derived per (candidate, fold), every estimator
        whose ``random_state`` is unset, so results do not depend on ``n_jobs``.
    verbose : int, default=1
        0 is silent; 1 draws a progress bar.
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
    named = _check_candidates(candidates)
    if error_score != "raise" and not isinstance(error_score, numbers.Real):
        raise InvalidParameterError(f"`error_score` must be a number or 'raise'; got "
                                    f"{error_score!r}.")
    if not isinstance(verbose, numbers.Integral) or verbose < 0:
        raise InvalidParameterError(f"`verbose` must be an int >= 0; got {verbose!r}.")
    time_limit = resolve_deprecated_alias("cross_validate_candidates", "time_limit",
                                          time_limit, "time_budget", time_budget)
    for problem in (check_n_jobs(n_jobs), check_time_limit(time_limit)):
        if problem:
            raise InvalidParameterError(problem)
    X, y, y_fit, groups, task, classes, codes = _prepare_data(X, y, groups, task, named)
    metrics = resolve_scoring(scoring, task)
    splits = make_splits(cv, X, y, task, groups=groups, n_repeats=n_repeats,
                         random_state=random_state)

    cache = TaskCache(cache_dir, candidates=named.values())
    keyed = cache_dir is not None  # hashing the data costs ~0.5 s on ames: only for a cache
    data_fp = fingerprint(X, y) if keyed else ""
    base_fp = _base_fingerprint(data_fp, metrics, task, classes) if keyed else ""
    tasks, done = [], {}
    for name, est in named.items():
        est_fp = fingerprint(clone(est)) if keyed else ""
        for i, (tr, va) in enumerate(splits):
            seed = derive_seed(random_state, name, i)
            key = fingerprint(base_fp, est_fp, tr, va, seed) if keyed else ""
            cached = cache.get(key)
            if cached is not None:
                done[name, i] = cached
            else:
                tasks.append((name, i, seed, key))
    logger.info("%d candidates x %d folds: %d tasks to run, %d from the cache",
                len(named), len(splits), len(tasks), len(done))

    n_threads = threads_per_task(n_jobs)
    deadline = None if time_limit is None else time.time() + float(time_limit)
    total = len(named) * len(splits)
    with task_progress(total, len(done), verbose) as bar, broadcast_data(X, y_fit):
        results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_run_task)(i, name, named[name], X, y_fit, splits[i][0], splits[i][1],
                               metrics, codes, seed, key, n_threads, deadline)
            for name, i, seed, key in tasks)
        for out in results:
            name, i = out["name"], out["fold"]
            if out.get("error") is None and not out.get("skipped"):
                cache.put(out["key"], out)
            elif error_score == "raise" and out.get("error") is not None:
                raise CandidateFailedError(
                    f"Candidate {name!r} failed in fold {i}:\n{out['error']}")
            done[name, i] = out
            bar.advance(f"{name} fold {i}")
            check_interrupt()  # a Ctrl-C held back during the task stops the run here

    report = _assemble(named, done, splits, task, metrics, classes, y, data_fp)
    _warn_failures(report)
    logger.info("cross-validation finished in %.1f s", time.perf_counter() - start)
    return report


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


def _check_candidates(candidates: Any) -> dict[str, Any]:
    if isinstance(candidates, Mapping):
        items = list(candidates.items())
    elif isinstance(candidates, Sequence) and not isinstance(candidates, str):
        try:
            items = [(n, e) for n, e in candidates]
        except (TypeError, ValueError):
            raise InvalidParameterError(
                "`candidates` must be a dict name -> estimator or a list of (name, estimator) "
                "pairs.") from None
    else:
        raise InvalidParameterError(
            "`candidates` must be a dict name -> estimator or a list of (name, estimator) "
            f"pairs; got {type(candidates).__name__}.")
    if not items:
        raise InvalidParameterError("`candidates` is empty; give at least one estimator.")
    names = [n for n, _ in items]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidParameterError(f"Candidate names must be unique; repeated: {dup}.")
    for name, est in items:
        if not isinstance(name, str) or not name:
            raise InvalidParameterError(f"Candidate names must be non-empty strings; got "
                                        f"{name!r}.")
        if not (hasattr(est, "fit") and hasattr(est, "get_params")):
            raise InvalidParameterError(
                f"Candidate {name!r} is not a scikit-learn estimator (it needs fit and "
                f"get_params); got {type(est).__name__}: {est!r:.80}.")
    return dict(items)


def _check_kinds(named: dict[str, Any], task: str) -> None:
    for name, est in named.items():
        if task == "regression" and is_classifier(est):
            raise InvalidParameterError(
                f"Candidate {name!r} is a classifier but the task is regression; use a "
                "regressor or pass task='binary'/'multiclass' if the target is a class label.")
        if task != "regression" and is_regressor(est):
            raise InvalidParameterError(
                f"Candidate {name!r} is a regressor but the task is {task}; use a "
                "classifier or pass task='regression'.")


def _as_float(y: np.ndarray) -> np.ndarray:
    try:
        return np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise DataError("task='regression' needs a numeric target; some values are not "
                        f"numbers (e.g. {y[:3].tolist()!r}).") from None


def _prepare_data(X: Any, y: Any, groups: Any, task: str | None,
                  named: dict[str, Any]) -> tuple:
    """Validated ``X, y, y_fit, groups, task, classes, codes`` (shared with ``tune``).

    ``named`` candidates are checked against the task (classifier vs regressor).
    """
    X, y, kept = check_X_y(X, y)
    if groups is not None and kept is not None:
        groups = np.asarray(groups)[kept] if len(groups) == len(kept) else groups
    task = infer_task(y, task)
    _check_kinds(named, task)
    if task == "regression":
        y = y_fit = _as_float(y)
        classes = codes = None
    else:
        # Fit on codes 0..K-1 in the global class order (as scikit-learn's stacking does):
        # every classifier accepts them (xgboost rejects string labels) and probabilities
        # line up across folds.  The report keeps the labels.
        classes, y_fit = np.unique(y, return_inverse=True)
        codes = np.arange(len(classes))
    return X, y, y_fit, groups, task, classes, codes


def _base_fingerprint(data_fp: str, metrics: tuple[Metric, ...], task: str,
                      classes: np.ndarray | None) -> str:
    """The part of every task's cache key that does not depend on the candidate or fold."""
    return fingerprint(data_fp, [m.name for m in metrics], [m.scorer for m in metrics],
                       task, classes)


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if isinstance(X, (pd.DataFrame, pd.Series)) else X[idx]


def _run_task(fold: int, name: str, estimator: Any, X: Any, y: np.ndarray, train: np.ndarray,
              val: np.ndarray, metrics: tuple[Metric, ...], codes: np.ndarray | None,
              seed: int, key: str, n_threads: int | None, deadline: float | None) -> dict:
    out: dict[str, Any] = {"name": name, "fold": fold, "key": key, "error": None}
    if deadline is not None and time.time() > deadline:
        # wall-clock time, comparable across worker processes on one machine
        return {**out, "skipped": True}
    est = set_random_states(clone(estimator), seed)
    interrupts = interrupt_count()
    try:
        with seeded_globals(seed), limited_threads(n_threads, est):
            X_tr, y_tr, X_va, y_va = _take(X, train), y[train], _take(X, val), y[val]
            t0 = time.perf_counter()
            est.fit(X_tr, y_tr)
            t1 = time.perf_counter()
            pred_va = predict_aligned(est, X_va, codes)
            t2 = time.perf_counter()
            pred_tr = predict_aligned(est, X_tr, codes)
            _check_finite(pred_va, name)
            # an overflow is reported below as a failed candidate, not as a RuntimeWarning
            with np.errstate(over="ignore", invalid="ignore"):
                out["test"] = score_predictions(metrics, y_va, pred_va, codes, est, X_va)
                _check_finite_scores(out["test"], y_va, pred_va, codes)
                out["train"] = score_predictions(metrics, y_tr, pred_tr, codes, est, X_tr)
    except Exception as exc:  # failures are data: the other candidates go on
        if interrupt_count() != interrupts:
            # a library turned Ctrl-C into this error: an interruption, not a failure
            raise KeyboardInterrupt from exc
        out["error"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        out["message"] = f"{type(exc).__name__}: {exc}"
        return out
    out.update(model=est, oof=pred_va, fit_time=t1 - t0, predict_time=t2 - t1)
    return out


def _check_finite(pred: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(pred)):
        raise ValueError(f"{name} predicted NaN or infinite values "
                         f"({int((~np.isfinite(pred)).sum())} of {pred.size}).")


def _check_finite_scores(scores: dict[str, float], y: np.ndarray, pred: np.ndarray,
                         codes: np.ndarray | None) -> None:
    """Raise when a validation score is NaN or infinite: ranked as a number, an RMSE of
    inf or a NaN would make a broken candidate look usable (or even best)."""
    bad = {m: v for m, v in scores.items() if not math.isfinite(v)}
    if codes is not None and len(np.unique(y)) < 2:
        # ROC AUC and the like are undefined on a fold with one class: the fold's doing
        bad = {m: v for m, v in bad.items() if not math.isnan(v)}
    if not bad:
        return
    listed = ", ".join(f"{m} = {v}" for m, v in bad.items())
    why = "the metric is undefined or overflowed on this fold's targets and predictions"
    if codes is None:
        big = float(max(np.abs(y).max(), np.abs(pred).max()))
        # beyond this, a sum of len(y) squared errors can exceed float64's largest value
        if big > math.sqrt(np.finfo(float).max / max(len(y), 1)) / 2:
            why = (f"the target or the predictions reach {big:.3g}, so squared errors "
                   "overflow float64 (largest value ~1.8e308). Rescale the target (e.g. "
                   f"divide it by 1e{int(math.log10(big))}) or log-transform it, and invert "
                   "that on the predictions")
    raise ValueError(f"The validation score is not finite ({listed}): {why}.")


def _assemble(named, done, splits, task, metrics, classes, y, data_fp) -> CVReport:
    results = {name: _candidate_result(name, est, [done.get((name, i))
                                                   for i in range(len(splits))],
                                       splits, len(y), classes)
               for name, est in named.items()}
    return CVReport(task=task, splits=splits, metrics=tuple(m.name for m in metrics),
                    greater_is_better={m.name: m.greater_is_better for m in metrics},
                    results=results, y=y, classes=classes, data_fingerprint=data_fp)


def _candidate_result(name: str, est: Any, outs: list[dict | None], splits, n: int,
                      classes: np.ndarray | None) -> CandidateResult:
    """One candidate's record from its task outputs (one per fold, None when not run)."""
    errors = [o for o in outs if o is not None and o.get("error")]
    missing = [i for i, o in enumerate(outs) if o is None or o.get("skipped")]
    rows, times = [], []
    for i, o in enumerate(outs):
        if o is None or o.get("error") or o.get("skipped"):
            continue
        for subset in ("train", "test"):
            rows += [(i, subset, m, v) for m, v in o[subset].items()]
        times.append((i, o["fit_time"], o["predict_time"]))
    error = status = None
    if errors:
        first = errors[0]
        error = f"fold {first['fold']}: {first['message']}\n\n{first['error']}"
        status = "failed"
    elif missing:
        error = (f"not run: the time limit was spent before fold(s) {missing} "
                 "started")
        status = "timeout"
    oof = fold_models = None
    if status is None:
        width = None if classes is None else len(classes)
        shape = (n,) if width is None else (n, width)
        total, count = np.zeros(shape), np.zeros(n)
        for (_, va), o in zip(splits, outs):
            total[va] += o["oof"]
            count[va] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            oof = total / (count if width is None else count[:, None])
        fold_models = tuple(o["model"] for o in outs)
    return CandidateResult(
        name=name, estimator=clone(est), kind="model", status=status or "ok",
        scores=pd.DataFrame(rows, columns=["fold", "subset", "metric", "value"]),
        times=pd.DataFrame(times, columns=["fold", "fit_time", "predict_time"]),
        oof=oof, fold_models=fold_models, error=error)


def _warn_failures(report: CVReport) -> None:
    bad = {n: r for n, r in report.results.items() if r.status != "ok"}
    if not bad:
        return
    lines = "; ".join(f"{n!r} ({r.error.splitlines()[0]})" for n, r in bad.items())
    warnings.warn(f"{len(bad)} of {len(report.results)} candidates did not finish: {lines}. "
                  "They are marked in the leaderboard's status column; see "
                  "report.failures for tracebacks.", CandidateFailedWarning, stacklevel=3)
