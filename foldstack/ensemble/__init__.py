"""Ensembles fitted on the out-of-fold record: averaging (equal, optimised, greedy) and stacking.

Every ensemble is a scikit-learn estimator.  ``fit(X, y)`` cross-validates the members once;
``from_report(report)`` reuses a :class:`~foldstack.selection.CVReport` and fits no base
model at all.  Ensembles carry an honest, cross-fitted score (``cv_score_``) beside their
optimistic in-sample one (``oof_score_``), and :func:`add_to_report` puts them in the
leaderboard next to the single models.
"""

from foldstack.ensemble._averaging import AveragingClassifier, AveragingRegressor
from foldstack.ensemble._greedy import greedy_weights
from foldstack.ensemble._optimize import optimize_weights
from foldstack.ensemble._scores import add_to_report, cross_fit_score, ensemble_result
from foldstack.ensemble._stacking import (
    StackingClassifier,
    StackingRegressor,
    default_final_estimator,
)

__all__ = [
    "AveragingClassifier",
    "AveragingRegressor",
    "StackingClassifier",
    "StackingRegressor",
    "add_to_report",
    "cross_fit_score",
    "default_final_estimator",
    "ensemble_result",
    "greedy_weights",
    "optimize_weights",
]
