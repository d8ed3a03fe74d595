"""The engine every cross-validation in foldstack runs on: prepare, key, run, assemble.

::

    candidates, X, y, cv, scoring
        │ prepare()      validated data, task, classes, folds, metrics  -> CVSetup
        ▼
    FoldTask per (candidate, fold): seed, cache key   (found in the cache -> FoldRecord)
        │ run_fold()     clone, seed, fit, predict, score (one joblib task)
        ▼
    FoldRecord: status, scores per metric and side, times, OOF part, fold model, error
        │ assemble()     one CandidateResult per candidate
        ▼
    CVReport (keeps the cv and scoring it was built with)

:func:`cross_validate_candidates` runs every task of every candidate; :func:`tune` runs a
trial's tasks in fold order (reporting to the pruner) and the winner's records become one
:class:`CandidateResult`; ensembles refit members with :func:`fit_clone`, the same fit a fold
task makes.
"""

from __future__ import annotations

import math
import numbers
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier, is_regressor

from foldstack.data import check_training_data, infer_task
from foldstack.exceptions import DataError, InvalidParameterError
from foldstack.selection._cache import TaskCache, fingerprint
from foldstack.selection._fold_average import predict_aligned
from foldstack.selection._record import FoldRecord
from foldstack.selection._report import CandidateResult, CVReport
from foldstack.selection._scoring import Metric, resolve_scoring, score_predictions
from foldstack.selection._splits import make_splits, make_splitter
from foldstack.utils._deadline import Deadline, fit_deadline
from foldstack.utils._indexing import take_rows
from foldstack.utils._parallel import (
    broadcast_data,
    fit_threads,
    interrupt_count,
    limited_threads,
)
from foldstack.utils._random import derive_seed, seeded_globals, set_random_states


@dataclass(frozen=True, eq=False)
class CVSetup:
    """Validated data, task, folds and metrics: what every task of one CV pass shares.

    ``y`` keeps the labels (the report's target); ``y_fit`` is what estimators are fitted
    on (class codes ``0..K-1`` for classification, floats for regression).  ``cv`` is the
    splitter the folds came from (or the folds themselves when they were given as index
    pairs) and ``scoring`` the resolved metrics: both go into the report, so that an
    ensemble refitting the same candidates later splits and scores as this pass did.
    """

    X: Any
    y: np.ndarray
    y_fit: np.ndarray
    groups: Any
    task: str
    classes: np.ndarray | None
    codes: np.ndarray | None
    metrics: tuple[Metric, ...]
    splits: tuple
    cv: Any
    random_state: int | None
    data_fp: str = ""
    base_fp: str = ""

    @property
    def keyed(self) -> bool:
        """Whether tasks get cache keys (hashing the data costs ~0.5 s on ames)."""
        return bool(self.base_fp)

    def key(self, estimator_fp: str, fold: int, seed: int) -> str:
        """The cache key of one task: data, metrics, task, classes, fold rows, estimator,
        seed; "" when the setup is not keyed."""
        if not self.keyed:
            return ""
        tr, va = self.splits[fold]
        return fingerprint(self.base_fp, estimator_fp, tr, va, seed)

    def accepts(self, record: FoldRecord, fold: int) -> bool:
        """Whether a record read from the cache fits fold ``fold`` of this setup: a finished
        record of that fold, with every metric on both sides and one OOF prediction per
        validation row (a cache directory is a file someone may have changed)."""
        names = {m.name for m in self.metrics}
        width = () if self.classes is None else (len(self.classes),)
        return (record.ok and record.fold == fold and set(record.test) == names
                and set(record.train) == names and record.oof is not None
                and record.oof.shape == (len(self.splits[fold][1]), *width)
                and hasattr(record.model, "predict"))

    def cached(self, cache: TaskCache, task: FoldTask) -> FoldRecord | None:
        """The record of ``task`` found in ``cache`` when it fits the task's fold, else None
        (the task is then run, and its record overwrites the entry)."""
        record = cache.get(task.key) if task.key else None
        return record if record is not None and self.accepts(record, task.fold) else None

    def with_rows(self, rows: np.ndarray, splits: tuple, cv: Any) -> CVSetup:
        """The setup restricted to ``rows`` with its own folds (a nested search's inner CV)."""
        X, y = take_rows(self.X, rows), self.y[rows]
        data_fp = fingerprint(X, y)
        return CVSetup(X=X, y=y, y_fit=self.y_fit[rows],
                       groups=None if self.groups is None else np.asarray(self.groups)[rows],
                       task=self.task, classes=self.classes, codes=self.codes,
                       metrics=self.metrics, splits=splits, cv=cv,
                       random_state=self.random_state, data_fp=data_fp,
                       base_fp=_base_fingerprint(data_fp, self.metrics, self.task,
                                                 self.classes))


@dataclass(frozen=True)
class FoldTask:
    """One (candidate, fold) to fit: its seed and cache key, and under a time limit the
    time (``time.time()``) after which it is not started and the one at which its fit
    stops (:mod:`foldstack.utils._deadline`)."""

    candidate: str
    fold: int
    seed: int
    key: str = ""
    start_by: float | None = None
    stop_at: float | None = None


# -- prepare ------------------------------------------------------------------------------------

def check_candidates(candidates: Any) -> dict[str, Any]:
    """``candidates`` (a dict or a list of pairs) as a dict name -> estimator, checked."""
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


def check_error_score(error_score: Any) -> None:
    """``error_score`` must be a number (NaN included) or ``"raise"``, as in scikit-learn."""
    if isinstance(error_score, str) and error_score == "raise":
        return
    if isinstance(error_score, numbers.Real) and not isinstance(error_score, bool):
        return
    raise InvalidParameterError(f"`error_score` must be a number or 'raise'; got "
                                f"{error_score!r}.")


def prepare(X: Any, y: Any, named: Mapping[str, Any], *, cv: Any = 5, scoring: Any = None,
            groups: Any = None, n_repeats: int = 1, task: str | None = None,
            random_state: int | None = 0, keyed: bool = False) -> CVSetup:
    """Validate the data, infer the task, encode the classes, resolve metrics and folds.

    ``named`` candidates are checked against the task (classifier vs regressor).  ``keyed``
    fingerprints the data so that every task gets a cache key.
    """
    X, y, kept = check_training_data(X, y)
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
    metrics = resolve_scoring(scoring, task)
    splitter = make_splitter(cv, y, task, groups=groups, n_repeats=n_repeats,
                             random_state=random_state)
    splits = make_splits(splitter, X, y, task, groups=groups)
    if not hasattr(splitter, "split"):  # folds given as index pairs: they are the cv
        splitter = splits
    data_fp = fingerprint(X, y) if keyed else ""
    return CVSetup(X=X, y=y, y_fit=y_fit, groups=groups, task=task, classes=classes,
                   codes=codes, metrics=metrics, splits=splits,
                   cv=splitter,
                   random_state=random_state, data_fp=data_fp,
                   base_fp=_base_fingerprint(data_fp, metrics, task, classes) if keyed else "")


def _check_kinds(named: Mapping[str, Any], task: str) -> None:
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


def _base_fingerprint(data_fp: str, metrics: tuple[Metric, ...], task: str,
                      classes: np.ndarray | None) -> str:
    """The part of every task's cache key that does not depend on the candidate or fold."""
    return fingerprint(data_fp, [m.name for m in metrics], [m.scorer for m in metrics],
                       task, classes)


# -- key ----------------------------------------------------------------------------------------

def plan(setup: CVSetup, named: Mapping[str, Any], cache: TaskCache
         ) -> tuple[list[FoldTask], dict[tuple[str, int], FoldRecord]]:
    """Every (candidate, fold) task: those to run, and the records found in ``cache``."""
    todo: list[FoldTask] = []
    done: dict[tuple[str, int], FoldRecord] = {}
    for name, est in named.items():
        est_fp = fingerprint(clone(est)) if setup.keyed else ""
        for i in range(len(setup.splits)):
            seed = derive_seed(setup.random_state, name, i)
            task = FoldTask(name, i, seed, setup.key(est_fp, i, seed))
            cached = setup.cached(cache, task)
            if cached is not None:
                done[name, i] = cached
            else:
                todo.append(task)
    return todo, done


# -- run ----------------------------------------------------------------------------------------

def fit_clone(estimator: Any, X: Any, y: np.ndarray, seed: int,
              n_threads: int | None) -> tuple[Any, float]:
    """A clone of ``estimator`` with every unset seed derived from ``seed``, fitted on
    ``X, y`` under ``n_threads`` threads; returns it and the seconds ``fit`` took."""
    est = set_random_states(clone(estimator), seed)
    n_threads = fit_threads(n_threads, len(y), n_columns(X))
    with seeded_globals(seed), limited_threads(n_threads, est):
        t0 = time.perf_counter()
        est.fit(X, y)
        return est, time.perf_counter() - t0


def run_fold(task: FoldTask, estimator: Any, setup: CVSetup, *, n_threads: int | None = None,
             error_score: Any = np.nan) -> FoldRecord:
    """Fit one candidate on one fold's training rows; score and predict its validation rows.

    Failures are data (a ``"failed"`` record with the traceback), so the other candidates
    go on; a Ctrl-C that a library turned into another error is re-raised as
    ``KeyboardInterrupt``.  After ``task.start_by`` (``time.time()``) the task is
    ``"skipped"``; at ``task.stop_at`` models that train in rounds or epochs stop
    (the record is then ``cut``).
    """
    if task.start_by is not None and time.time() > task.start_by:
        # wall-clock time, comparable across worker processes on one machine
        return FoldRecord(task.candidate, task.fold, task.key, status="skipped")
    stop = None if task.stop_at is None else Deadline(task.stop_at)
    tr, va = setup.splits[task.fold]
    metrics, codes, y = setup.metrics, setup.codes, setup.y_fit
    est = set_random_states(clone(estimator), task.seed)
    interrupts = interrupt_count()
    n_threads = fit_threads(n_threads, len(tr), n_columns(setup.X))
    try:
        with seeded_globals(task.seed), limited_threads(n_threads, est), fit_deadline(stop):
            X_tr, y_tr = take_rows(setup.X, tr), y[tr]
            X_va, y_va = take_rows(setup.X, va), y[va]
            t0 = time.perf_counter()
            est.fit(X_tr, y_tr)
            fit_time = time.perf_counter() - t0
            t1 = time.perf_counter()
            pred_va = predict_aligned(est, X_va, codes)
            predict_time = time.perf_counter() - t1
            pred_tr = predict_aligned(est, X_tr, codes)
            _check_finite(pred_va, task.candidate)
            # an overflow is reported below as a failed candidate, not as a RuntimeWarning
            with np.errstate(over="ignore", invalid="ignore"):
                test = score_predictions(metrics, y_va, pred_va, codes, est, X_va)
                _check_finite_scores(test, y_va, pred_va, codes)
                train = score_predictions(metrics, y_tr, pred_tr, codes, est, X_tr)
    except Exception as exc:  # failures are data: the other candidates go on
        if interrupt_count() != interrupts:
            # a library turned Ctrl-C into this error: an interruption, not a failure
            raise KeyboardInterrupt from exc
        # as in scikit-learn, a failed fit scores error_score (NaN: no score at all)
        filled = ({} if math.isnan(float(error_score))
                  else {m.name: float(error_score) for m in metrics})
        return FoldRecord(
            task.candidate, task.fold, task.key, status="failed", test=filled,
            train=dict(filled),
            error="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            message=f"{type(exc).__name__}: {exc}")
    return FoldRecord(task.candidate, task.fold, task.key, test=test, train=train,
                      fit_time=fit_time, predict_time=predict_time,
                      oof=pred_va.astype(np.float32), model=est,
                      cut=stop is not None and stop.hit)


def n_columns(X: Any) -> int:
    """Columns of a table, array or sparse matrix (1 for a list of documents)."""
    shape = getattr(X, "shape", None)
    return int(shape[1]) if shape is not None and len(shape) == 2 else 1


def run_tasks(setup: CVSetup, named: Mapping[str, Any], tasks: Iterable[FoldTask], *,
              n_jobs: int | None, n_threads: int | None, error_score: Any = np.nan,
              lazy: bool = False) -> Iterator[FoldRecord]:
    """Run ``tasks`` with joblib, yielding each record as it finishes (in any order).

    ``lazy``: draw each task from ``tasks`` only when a worker is free (one at a time, no
    batching), for a schedule that decides the next task from what has finished.
    """
    error_score = np.nan if error_score == "raise" else error_score
    dispatch = {"pre_dispatch": "n_jobs", "batch_size": 1} if lazy else {}
    # the setup (X inside) is each task's top-level argument: joblib swaps it for the copy
    # broadcast to every dask worker only then (it matches arguments by id)
    with broadcast_data(setup):
        yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered", **dispatch)(
            delayed(run_fold)(t, named[t.candidate], setup, n_threads=n_threads,
                              error_score=error_score)
            for t in tasks)


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


# -- assemble -----------------------------------------------------------------------------------

def candidate_result(name: str, estimator: Any, records: Sequence[FoldRecord | None],
                     setup: CVSetup, why: str = "") -> CandidateResult:
    """One candidate's record from its fold records (one per fold, None when not run);
    ``why`` says why a time limit left folds unrun, when the schedule knows."""
    failed = [r for r in records if r is not None and r.failed]
    missing = [i for i, r in enumerate(records) if r is None or r.skipped]
    rows, times = [], []
    for i, r in enumerate(records):  # the position is the fold, whatever a record says
        if r is None or r.skipped:
            continue
        for subset, scores in (("train", r.train), ("test", r.test)):
            rows += [(i, subset, m, v) for m, v in scores.items()]
        if r.ok:
            times.append((i, r.fit_time, r.predict_time))
    error = None
    status = "ok"
    if failed:
        first = failed[0]
        error = f"fold {first.fold}: {first.message}\n\n{first.error}"
        status = "failed"
    elif missing:
        error = (f"not run: fold(s) {missing} did not fit in the time limit"
                 + (f" ({why})" if why else ""))
        status = "timeout"
    cut = [i for i, r in enumerate(records) if r is not None and r.ok and r.cut]
    note = (f"training stopped at the time limit in fold(s) {cut}" if cut and status == "ok"
            else "")
    oof = fold_models = None
    if status == "ok":
        n = len(setup.y)
        width = None if setup.classes is None else len(setup.classes)
        shape = (n,) if width is None else (n, width)
        total, count = np.zeros(shape), np.zeros(n)
        for (_, va), r in zip(setup.splits, records):
            total[va] += r.oof
            count[va] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            # float32: half the memory of every candidate's record; fold scores were
            # computed from the full-precision predictions in the task
            oof = (total / (count if width is None else count[:, None])).astype(np.float32)
        fold_models = tuple(r.model for r in records)
    return CandidateResult(
        name=name, estimator=clone(estimator), kind="model", status=status,
        scores=pd.DataFrame(rows, columns=["fold", "subset", "metric", "value"]),
        times=pd.DataFrame(times, columns=["fold", "fit_time", "predict_time"]),
        oof=oof, fold_models=fold_models, error=error, note=note)


def assemble(setup: CVSetup, named: Mapping[str, Any],
             records: Mapping[tuple[str, int], FoldRecord],
             why: Mapping[str, str] | None = None) -> CVReport:
    """The report of every candidate's fold records (``why``: the time limit's reasons
    for the candidates it stopped)."""
    why = why or {}
    results = {name: candidate_result(name, est, [records.get((name, i))
                                                  for i in range(len(setup.splits))], setup,
                                      why.get(name, ""))
               for name, est in named.items()}
    return report_of(setup, results)


def report_of(setup: CVSetup, results: Mapping[str, CandidateResult]) -> CVReport:
    """A report of ``results`` on ``setup``'s rows, folds and metrics."""
    metrics = setup.metrics
    return CVReport(task=setup.task, splits=setup.splits, metrics=tuple(m.name for m in metrics),
                    greater_is_better={m.name: m.greater_is_better for m in metrics},
                    results=dict(results), y=setup.y, classes=setup.classes,
                    data_fingerprint=setup.data_fp, cv=setup.cv, scoring=metrics)
