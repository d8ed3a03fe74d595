"""Cross-fitting an ensemble's combiner on the OOF matrix: the mechanism of its honest score.

An ensemble's weights or meta-model are fitted on the out-of-fold (OOF) predictions of its
members.  Scoring it on those same rows is optimistic (its *in-sample* OOF score): the
combiner has seen their labels.  Cross-fitting removes that: for every fold of the report,
the combiner is fitted on the OOF rows of the other folds and scores the held-out fold.  The
mean of those fold scores is the ensemble's honest score, comparable with the members'
validation scores in the leaderboard.

One caveat remains, shared by every stacking scheme that reuses one set of folds: the OOF
predictions of the fitting rows come from fold models that were trained on the held-out rows.
The leak is second order (it goes through the members' predictions, not through the labels
the combiner fits), and it is small next to the first-order optimism that cross-fitting
removes.

This module holds the mechanism, which :class:`~foldstack.ensemble._base.BaseEnsemble` uses
when it is fitted; the public helpers built on fitted ensembles (``cross_fit_score``,
``ensemble_result``, ``add_to_report``) live in :mod:`foldstack.ensemble._scores`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from foldstack.exceptions import InvalidParameterError
from foldstack.selection import CVReport, resolve_scoring
from foldstack.utils._indexing import take_rows


def metric_functions(report: CVReport) -> dict[str, Any]:
    """Metric name -> ``func(y, pred, classes)`` for the report's built-in metrics."""
    if report.scoring is not None:  # the metrics themselves, renamed built-ins included
        # a scorer callable needs an estimator and X, not predictions: left out
        return {m.name: m for m in report.scoring if m.func is not None}
    out = {}
    for name in report.metrics:
        try:
            metric = resolve_scoring(name, report.task)[0]
        except InvalidParameterError:
            continue  # a scorer callable: it needs an estimator and X, not predictions
        if metric.func is not None:
            out[name] = metric
    return out


def fold_scores(report: CVReport, pred: np.ndarray, metric: str | None = None) -> np.ndarray:
    """Score of ``pred`` (aligned with the report's rows) on each validation fold."""
    metric = report.primary if metric is None else metric
    func = metric_functions(report).get(metric)
    if func is None:
        return np.full(len(report.splits), np.nan)
    return np.array([func(report.y[va], pred[va], report.classes) for _, va in report.splits])


def mean_fold_score(report: CVReport, pred: np.ndarray, metric: str | None = None) -> float:
    """Mean of :func:`fold_scores` (the leaderboard's aggregation)."""
    return float(np.mean(fold_scores(report, pred, metric)))


def cross_fit(ensemble: Any, report: CVReport, P: np.ndarray, y: np.ndarray, X: Any,
              names: list[str], in_sample: np.ndarray | None = None
              ) -> tuple[pd.DataFrame, np.ndarray]:
    """Tidy fold scores and the honest (cross-fitted) ensemble OOF predictions.

    ``test`` rows: fold k scored by the combiner fitted on the other folds (honest).
    ``train`` rows (when ``in_sample`` is given): fold k scored by ``in_sample``, the
    predictions of the combiner fitted on every row (in-sample, optimistic), so that the
    leaderboard's ``gap_<m>`` is the optimism that cross-fitting removed.
    """
    funcs = metric_functions(report)
    rows, total, count = [], None, np.zeros(len(y))
    for k, (tr, va) in enumerate(report.splits):
        X_tr, X_va = (None, None) if X is None else (take_rows(X, tr), take_rows(X, va))
        state = ensemble._fit_combiner(P[tr], y[tr], X_tr, names, report)
        pred = ensemble._apply_combiner(state, P[va], X_va)
        rows += [(k, "test", m, f(report.y[va], pred, report.classes))
                 for m, f in funcs.items()]
        if in_sample is not None:
            rows += [(k, "train", m, f(report.y[va], in_sample[va], report.classes))
                     for m, f in funcs.items()]
        if total is None:
            total = np.zeros((len(y), *pred.shape[1:]))
        total[va] += pred
        count[va] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        oof = total / (count if total.ndim == 1 else count[:, None])
    return pd.DataFrame(rows, columns=["fold", "subset", "metric", "value"]), oof
