"""Diagnosis from one CV report: bias/variance verdicts, remedies, learning and epoch curves.

Everything here reads a :class:`~foldstack.selection.CVReport` (or fits on its folds, for
learning curves); plots return :class:`matplotlib.figure.Figure` objects and import
matplotlib only when called.
"""

from foldstack.diagnostics._baseline import dummy_scores
from foldstack.diagnostics._curves import LearningCurve, learning_curve, more_data_helps
from foldstack.diagnostics._diagnose import VERDICTS, Verdict, diagnose, fit_verdict
from foldstack.diagnostics._epochs import EpochFinding, epoch_curves, read_epoch_curves
from foldstack.diagnostics._plots import (
    plot_confusion_matrix,
    plot_correlation,
    plot_epoch_curves,
    plot_leaderboard,
    plot_learning_curve,
    plot_residuals,
    plot_roc_pr,
    plot_train_validation,
)
from foldstack.diagnostics._remedies import Remedy, remedies

__all__ = [
    "VERDICTS",
    "EpochFinding",
    "LearningCurve",
    "Remedy",
    "Verdict",
    "diagnose",
    "dummy_scores",
    "epoch_curves",
    "fit_verdict",
    "learning_curve",
    "more_data_helps",
    "plot_confusion_matrix",
    "plot_correlation",
    "plot_epoch_curves",
    "plot_leaderboard",
    "plot_learning_curve",
    "plot_residuals",
    "plot_roc_pr",
    "plot_train_validation",
    "read_epoch_curves",
    "remedies",
]
