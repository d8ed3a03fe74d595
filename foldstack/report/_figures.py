"""The figures and tables of the HTML report, drawn with foldstack.diagnostics.

Every plot is a :class:`~foldstack.diagnostics._figure.FoldstackFigure`; its ``to_png`` is
the one path from a figure to the PNG bytes that ``_html`` embeds.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)

FIGURE_DPI = 110  # resolution of the PNG images embedded in the report


def _epoch_curves(report: Any) -> dict[str, Any]:
    """Name -> per-epoch losses, for every finished candidate that is a network."""
    from foldstack.diagnostics import epoch_curves
    from foldstack.exceptions import FoldstackError

    out = {}
    for name in report.ok_names:
        if report.results[name].kind != "model":
            continue
        try:
            out[name] = epoch_curves(report, name)
        except FoldstackError:  # not a network: it has no epochs
            continue
    return out


def report_figures(report: Any, *, chosen: str | None = None,
                   learning_curves: dict | None = None) -> dict[str, bytes]:
    """Caption -> PNG bytes for every plot the report shows.

    A plot that cannot be drawn (e.g. too few candidates for a correlation heatmap) is left
    out with a log message, never failing the report.
    """
    from foldstack import diagnostics as D

    best = chosen if chosen in report.ok_names else (report.best() if report.ok_names else None)
    jobs: list[tuple[str, Any]] = [
        ("Validation score per candidate (mean ± std over folds)",
         lambda: D.plot_leaderboard(report)),
        ("Training vs validation score (the bias/variance signal)",
         lambda: D.plot_train_validation(report)),
    ]
    if len([n for n in report.ok_names if report.results[n].kind == "model"]) >= 2:
        jobs.append(("Correlation of out-of-fold predictions (diversity)",
                     lambda: D.plot_correlation(report)))
    if best is not None and report.task == "regression":
        jobs.append((f"Residuals vs predicted: {best}", lambda: D.plot_residuals(report, best)))
    elif best is not None:
        jobs.append((f"Confusion matrix with per-class precision, recall, F1: {best}",
                     lambda: D.plot_confusion_matrix(report, best)))
        jobs.append((f"ROC and precision-recall curves: {best}",
                     lambda: D.plot_roc_pr(report, best)))
    for name, curves in _epoch_curves(report).items():
        jobs.append((f"Epoch curves: {name}", lambda name=name, curves=curves:
                     D.plot_epoch_curves(curves, title=name)))
    for name, curve in (learning_curves or {}).items():
        jobs.append((f"Learning curve: {name}", lambda curve=curve: D.plot_learning_curve(curve)))
    out = {}
    for caption, draw in jobs:
        try:
            fig = draw()
        except Exception as exc:  # a missing plot must not cost the whole report
            logger.warning("plot %r left out: %s", caption, exc)
            continue
        out[caption] = fig.to_png(dpi=FIGURE_DPI)
    return out


def report_tables(report: Any, ensembles: dict[str, Any] | None = None
                  ) -> dict[str, pd.DataFrame]:
    """Extra tables: ensemble weights / meta-model coefficients, when there are ensembles."""
    tables = {}
    weights = {}
    for name, ens in (ensembles or {}).items():
        members = list(getattr(ens, "named_estimators_", {}) or [])
        w = getattr(ens, "weights_", None)
        if w is not None and len(members) == len(w):
            weights[name] = pd.Series(w, index=members)
    if weights:
        df = pd.DataFrame(weights).fillna(0.0)
        df.index.name = "member"
        tables["Ensemble weights"] = df
    return tables
