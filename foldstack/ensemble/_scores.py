"""The public helpers on ensembles' honest scores: per-fold scores, and ensembles as report rows.

:func:`cross_fit_score` cross-fits an ensemble's combiner (see :mod:`foldstack.ensemble._crossfit`)
and returns its honest fold scores; :func:`ensemble_result` and :func:`add_to_report` put a
fitted ensemble in a :class:`~foldstack.selection.CVReport` next to the single models.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from foldstack.ensemble._base import (
    BaseEnsemble,
    check_report_task,
    fit_target,
    oof_tensor,
    usable_names,
)
from foldstack.ensemble._crossfit import cross_fit
from foldstack.exceptions import DataError, InvalidParameterError
from foldstack.selection import CandidateResult, CVReport


def cross_fit_score(ensemble: Any, report: CVReport | None = None, *, X: Any = None,
                    metric: str | None = None) -> np.ndarray:
    """Honest per-fold scores of an ensemble, by cross-fitting its combiner on the OOF matrix.

    For every fold of ``report``, the ensemble's weights or meta-model are fitted on the OOF
    predictions of the other folds and scored on the held-out fold; no base model is fitted.
    Like :func:`sklearn.model_selection.cross_val_score`, it returns one score per fold;
    their mean is the ensemble's honest estimate (the ``cv_score_`` attribute of a fitted
    ensemble), to be read next to its optimistic in-sample ``oof_score_``.

    Parameters
    ----------
    ensemble : AveragingClassifier, AveragingRegressor, StackingClassifier or StackingRegressor
        Fitted (then ``report`` may be omitted) or not (its parameters are used).
    report : CVReport, default=None
        The report whose candidates are the ensemble's members; None uses the fitted
        ensemble's own ``cv_report_``.
    X : DataFrame or array-like, default=None
        The report's rows, needed only for ``passthrough=True``.
    metric : str, default=None
        A metric of the report; the primary one when None.

    Returns
    -------
    ndarray of shape (n_folds,)
        Scores in the metric's natural unit (see ``report.greater_is_better``).

    Examples
    --------
    >>> scores = cross_fit_score(StackingClassifier.from_report(report), report)  # doctest: +SKIP
    >>> scores.mean()                                                             # doctest: +SKIP
    """
    if not isinstance(ensemble, BaseEnsemble):
        raise InvalidParameterError("cross_fit_score: `ensemble` must be a foldstack "
                                    f"ensemble; got {type(ensemble).__name__}.")
    if report is None:
        check_is_fitted(ensemble)
        report = ensemble.cv_report_
    if not isinstance(report, CVReport):
        raise InvalidParameterError("cross_fit_score: `report` must be a CVReport; got "
                                    f"{type(report).__name__}.")
    metric = report.primary if metric is None else metric
    if metric not in report.metrics:
        raise InvalidParameterError(f"cross_fit_score: metric {metric!r} is not in the report;"
                                    f" its metrics: {', '.join(report.metrics)}.")
    check_report_task(type(ensemble), report, "cross_fit_score")
    ensemble._check_members()
    if ensemble._passthrough_needed and X is None:
        raise InvalidParameterError("cross_fit_score: passthrough=True needs the report's "
                                    "rows as X.")
    names = usable_names(ensemble, report)
    sub = report.subset(names)
    scores, _ = cross_fit(clone(ensemble), sub, oof_tensor(sub), fit_target(sub), X, names)
    test = scores[(scores["subset"] == "test") & (scores["metric"] == metric)]
    if test.empty:
        return np.full(len(report.splits), np.nan)
    return test.sort_values("fold")["value"].to_numpy()


def _same_record(a: CVReport, b: CVReport) -> bool:
    if len(a.splits) != len(b.splits) or len(a.y) != len(b.y):
        return False
    if tuple(a.metrics) != tuple(b.metrics) or not np.array_equal(a.y, b.y):
        return False
    return all(np.array_equal(ta, tb) and np.array_equal(va, vb)
               for (ta, va), (tb, vb) in zip(a.splits, b.splits))


def ensemble_result(ensemble: Any, name: str | None = None) -> CandidateResult:
    """The fitted ensemble as a report row: honest (cross-fitted) fold scores, kind "ensemble".

    ``scores`` holds, per fold, the ``test`` score of the combiner fitted on the other folds
    (honest) and, as ``train``, the in-sample score of the combiner fitted on all rows; the
    leaderboard's ``gap_<m>`` is then the optimism of the in-sample score.  ``oof`` holds
    the cross-fitted predictions.  There are no fold models and no times.
    """
    check_is_fitted(ensemble)
    name = ensemble.default_name if name is None else name
    return CandidateResult(
        name=name, estimator=clone(ensemble), kind="ensemble", status="ok",
        scores=ensemble.cv_scores_.copy(),
        times=pd.DataFrame(columns=["fold", "fit_time", "predict_time"]),
        oof=ensemble.cv_oof_, fold_models=None, error=None)


def add_to_report(report: CVReport, ensemble: Any, name: str | None = None) -> CVReport:
    """A new report with the fitted ensemble as one more row (``kind="ensemble"``).

    The row's validation scores are the ensemble's honest cross-fitted fold scores (see
    :func:`cross_fit_score`), so ``report.leaderboard()`` ranks ensembles and single models
    on the same footing, and ``report.compare`` pairs them fold by fold.

    Parameters
    ----------
    report : CVReport
        The report the ensemble was built from (same rows, folds and metrics).
    ensemble : fitted ensemble
        E.g. ``StackingClassifier.from_report(report)``.
    name : str, default=None
        Row name; by default ``"equal"``, ``"greedy"``, ``"optimized"``, ``"weighted"``
        (averaging) or ``"stacking"``.

    Returns
    -------
    CVReport

    Examples
    --------
    >>> greedy = AveragingClassifier.from_report(report, weights="greedy")  # doctest: +SKIP
    >>> add_to_report(report, greedy).leaderboard()                        # doctest: +SKIP
    """
    check_is_fitted(ensemble)
    if not isinstance(report, CVReport):
        raise InvalidParameterError("add_to_report: `report` must be a CVReport; got "
                                    f"{type(report).__name__}.")
    if not _same_record(report, ensemble.cv_report_):
        raise DataError("add_to_report: the ensemble was built on other rows, folds or "
                        "metrics than this report; build it with from_report(report).")
    return report.add(ensemble_result(ensemble, name))
