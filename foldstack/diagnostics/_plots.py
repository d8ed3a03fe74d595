"""Plots of a CV report and its diagnosis, as matplotlib figures (object-oriented API only).

Every function returns a :class:`~foldstack.diagnostics._figure.FoldstackFigure` (a
``matplotlib.figure.Figure`` that displays inline in notebooks); nothing touches pyplot's
global state, so no GUI backend is needed, and matplotlib is imported only when a plot is
drawn.  Save one with ``fig.savefig("plot.png")`` or get PNG bytes with ``fig.to_png()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from foldstack.exceptions import InvalidParameterError
from foldstack.selection import CVReport

# The confusion-matrix, ROC, PR and residual plots draw the numbers of sklearn.metrics
# themselves, not through ConfusionMatrixDisplay, RocCurveDisplay, PrecisionRecallDisplay or
# PredictionErrorDisplay: every Display's plot() imports matplotlib.pyplot, even given an
# ``ax``, and importing pyplot may switch the user's backend; these plots never touch it.

if TYPE_CHECKING:  # matplotlib is imported only when a plot is drawn
    from matplotlib.figure import Figure

    from foldstack.diagnostics._curves import LearningCurve


def _figure(width: float, height: float) -> Figure:
    from foldstack.diagnostics._figure import FoldstackFigure

    return FoldstackFigure(figsize=(width, height), layout="constrained")


def _t(value: Any) -> str:
    """User text (names, class labels, metrics) shown literally in a plot.

    matplotlib reads text between two ``$`` as mathtext: a class ``"$5"`` next to ``"$10"``
    would render as math, and ``"$\\frac"`` fails to draw.  ``\\$`` is a literal dollar.
    """
    from matplotlib import rcParams

    text = str(value)
    return text.replace("$", r"\$") if rcParams["text.parse_math"] else text


def _literal(fig: Figure) -> Figure:
    """Draw every text of ``fig`` without TeX, whatever ``rcParams["text.usetex"]`` says.

    With TeX, a ``_`` or ``%`` in a candidate name or class label breaks the drawing; tick
    labels made later copy this setting from the first tick.
    """
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_usetex(False)
    return fig


def _check_report(report: Any, owner: str) -> CVReport:
    if not isinstance(report, CVReport):
        raise InvalidParameterError(f"{owner} needs a CVReport; got {type(report).__name__}.")
    return report


def _pick(report: CVReport, name: str | None, owner: str, task: str) -> str:
    if task == "classification" and report.task == "regression":
        raise InvalidParameterError(f"{owner} is for classification reports; this one is a "
                                    "regression report (use plot_residuals).")
    if task == "regression" and report.task != "regression":
        raise InvalidParameterError(f"{owner} is for regression reports; this one is "
                                    f"{report.task} (use plot_confusion_matrix, plot_roc_pr).")
    name = report.best() if name is None else name
    report._check_name(name)
    return name


def _baseline(report: CVReport, metric: str) -> float:
    from foldstack.diagnostics._baseline import dummy_scores

    s = dummy_scores(report.y, report.splits, [metric], report.classes)
    values = s[s["subset"] == "test"]["value"]
    return float(values.mean()) if values.notna().any() else np.nan


def plot_leaderboard(report: CVReport, metric: str | None = None) -> Figure:
    """Validation score of every finished candidate, mean ± std over the folds.

    One horizontal bar per candidate (best on top) with the fold std as error bar, and the
    dummy baseline as a dashed vertical line.

    Examples
    --------
    >>> fig = plot_leaderboard(report)          # doctest: +SKIP
    >>> fig.savefig("leaderboard.png")          # doctest: +SKIP
    """
    report = _check_report(report, "plot_leaderboard")
    metric = report._check_metric(metric)
    board = report.leaderboard(metric)
    board = board[board["status"] == "ok"]
    mean, std = board[f"mean_test_{metric}"], board[f"std_test_{metric}"]
    fig = _figure(7, 1.2 + 0.45 * len(board))
    ax = fig.add_subplot()
    pos = np.arange(len(board))[::-1]
    ax.barh(pos, mean, xerr=std, color="C0", alpha=0.85, capsize=4)
    ax.set_yticks(pos, [_t(n) for n in board.index])
    base = _baseline(report, metric)
    lo = np.nanmin(np.r_[mean - std, base]) if len(board) else 0
    hi = np.nanmax(np.r_[mean + std, base]) if len(board) else 1
    pad = 0.1 * (hi - lo or 1)
    ax.set_xlim(lo - pad, hi + pad)
    left = lo - pad
    for y, m, sd in zip(pos, mean, std):
        ax.text(left + 0.01 * (hi - lo + 2 * pad), y, f" {m:#.4g} ± {sd:#.2g}", va="center",
                ha="left", color="white", fontsize="small")
    if np.isfinite(base):
        ax.axvline(base, color="0.4", linestyle="--", label=f"dummy baseline ({base:.3g})")
        ax.text(base, 1.0, f"dummy {base:.3g}", transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", color="0.4", fontsize="small")
    better = "higher" if report.greater_is_better[metric] else "lower"
    ax.set_xlabel(f"validation {_t(metric)} (mean ± std over {len(report.splits)} folds; "
                  f"{better} is better)")
    ax.set_title("Leaderboard")
    return _literal(fig)


def plot_train_validation(report: CVReport, metric: str | None = None, *,
                          diagnosis: pd.DataFrame | None = None) -> Figure:
    """Training and validation score per candidate, with the verdict under each name.

    Two bars per candidate (training, validation; mean ± std over the folds) and the dummy
    baseline as a dashed line: a tall training bar over a short validation bar is variance,
    two short bars are bias.

    Parameters
    ----------
    report : CVReport
    metric : str, default=None
    diagnosis : DataFrame, default=None
        The output of :func:`diagnose` (computed when None).
    """
    from foldstack.diagnostics._diagnose import diagnose

    report = _check_report(report, "plot_train_validation")
    metric = report._check_metric(metric)
    diag = diagnose(report, metric=metric) if diagnosis is None else diagnosis
    diag = diag[diag["verdict"] != "failed"]
    fig = _figure(max(6, 1.6 * len(diag) + 2), 4.5)
    ax = fig.add_subplot()
    x = np.arange(len(diag))
    w = 0.38
    ax.bar(x - w / 2, diag["train"], w, yerr=diag["train_std"], label="training",
           color="C1", capsize=3)
    ax.bar(x + w / 2, diag["validation"], w, yerr=diag["validation_std"], label="validation",
           color="C0", capsize=3)
    ax.set_xticks(x, [f"{_t(n)}\n{_t(v).replace('_', ' ')}" for n, v in
                      zip(diag.index, diag["verdict"])])
    base = float(diag["baseline"].iloc[0]) if len(diag) else np.nan
    if np.isfinite(base):
        ax.axhline(base, color="0.4", linestyle="--", label=f"dummy baseline ({base:.3g})")
    values = np.r_[diag["train"], diag["validation"], base]
    lo, hi = np.nanmin(values), np.nanmax(values)
    pad = 0.15 * (hi - lo or 1)
    ax.set_ylim(lo - pad if lo - pad > 0 or lo < 0 else 0, hi + pad)
    ax.set_ylabel(f"{_t(metric)} (mean ± std over folds)")
    ax.set_title("Training vs validation: bias and variance")
    ax.legend(loc="best")
    return _literal(fig)


def plot_learning_curve(curve: LearningCurve, metric: str | None = None) -> Figure:
    """Training and validation score against training rows, with ± std bands.

    Parameters
    ----------
    curve : LearningCurve
        From :func:`learning_curve`.
    metric : str, default=None
        The curve's primary metric when None.
    """
    from foldstack.diagnostics._curves import LearningCurve

    if not isinstance(curve, LearningCurve):
        raise InvalidParameterError("plot_learning_curve needs a LearningCurve (from "
                                    f"learning_curve); got {type(curve).__name__}.")
    metric = curve.metric if metric is None else metric
    table = curve.summary(metric)
    fig = _figure(6.5, 4.5)
    ax = fig.add_subplot()
    for col, label, color in (("train", "training", "C1"), ("test", "validation", "C0")):
        mean, std = table[f"mean_{col}"], table[f"std_{col}"].fillna(0)
        ax.plot(table["n_train"], mean, "o-", color=color, label=label)
        ax.fill_between(table["n_train"], mean - std, mean + std, color=color, alpha=0.2)
    ax.set_xlabel("training rows")
    ax.set_ylabel(_t(metric))
    verdict = "more data would help" if curve.more_data_helps else "levelled off"
    name = f"{_t(curve.estimator_name)}: " if curve.estimator_name else ""
    ax.set_title(f"{name}learning curve ({verdict})")
    ax.legend(loc="best")
    return _literal(fig)


def plot_epoch_curves(curves: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Training (dashed) and validation (solid) loss per epoch, one colour per fold.

    A dot marks each fold's best epoch (the weights kept).  The loss axis is logarithmic
    when the losses span more than two orders of magnitude (a diverging run).

    Parameters
    ----------
    curves : DataFrame
        From :func:`epoch_curves` (``fold``, ``epoch``, ``train_loss``, ``valid_loss``,
        ``best``).
    title : str, default=None
    """
    if not isinstance(curves, pd.DataFrame) or not {"epoch", "train_loss"} <= set(curves):
        raise InvalidParameterError("plot_epoch_curves needs the DataFrame of epoch_curves "
                                    "(columns fold, epoch, train_loss, valid_loss, best).")
    curves = curves if "fold" in curves else curves.assign(fold=0)
    fig = _figure(7, 4.5)
    ax = fig.add_subplot()
    handles = []
    for i, (fold, c) in enumerate(curves.groupby("fold", sort=True)):
        color = f"C{i % 10}"
        (line,) = ax.plot(c["epoch"], c["train_loss"], "--", color=color, alpha=0.8,
                          label=f"fold {_t(fold)} training")
        if "valid_loss" in c and c["valid_loss"].notna().any():
            (line,) = ax.plot(c["epoch"], c["valid_loss"], "-", color=color,
                              label=f"fold {_t(fold)} validation")
            if "best" in c and c["best"].any():
                b = c[c["best"].astype(bool)]
                ax.scatter(b["epoch"], b["valid_loss"], color=color, zorder=3, s=30)
        handles.append(line)
    losses = curves[["train_loss"] + (["valid_loss"] if "valid_loss" in curves else [])]
    positive = losses.to_numpy(dtype=float)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    if len(positive) and positive.max() / positive.min() > 100:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(_t(title) if title else
                 "Epoch curves (dashed: training, solid: validation, dot: best epoch)")
    if len(handles) <= 10:  # one colour per fold, plus the two line styles
        from matplotlib.lines import Line2D

        styles = [Line2D([], [], color="0.3", linestyle="--", label="training"),
                  Line2D([], [], color="0.3", linestyle="-", label="validation")]
        labels = [f"fold {_t(f)}" for f in sorted(curves["fold"].unique())]
        ax.legend(handles=handles + styles, labels=labels + ["training", "validation"],
                  loc="best", fontsize="small", ncol=2)
    return _literal(fig)


def _oof_labels(report: CVReport, name: str) -> tuple[np.ndarray, np.ndarray]:
    proba = report.results[name].oof
    return np.asarray(report.y), report.classes[np.argmax(proba, axis=1)]


def plot_confusion_matrix(report: CVReport, name: str | None = None) -> Figure:
    """Confusion matrix of the out-of-fold predictions, with per-class precision, recall, F1.

    Left: counts (rows: true class, columns: predicted class = most probable).  Right: one
    group of three bars (precision, recall, F1) per class.

    Parameters
    ----------
    report : CVReport
        A classification report.
    name : str, default=None
        The candidate; the best one when None.
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    report = _check_report(report, "plot_confusion_matrix")
    name = _pick(report, name, "plot_confusion_matrix", "classification")
    y, pred = _oof_labels(report, name)
    classes = report.classes
    cm = confusion_matrix(y, pred, labels=classes)
    prec, rec, f1, _ = precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
    k = len(classes)
    fig = _figure(6 + 0.6 * k, 3 + 0.4 * k)
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
    image = ax.imshow(cm, cmap="Blues")
    labels = [_t(c) for c in classes]
    ax.set_xticks(range(k), labels, rotation=45 if k > 4 else 0)
    ax.set_yticks(range(k), labels)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{cm[i, j]}", ha="center", va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"{_t(name)}: confusion matrix (OOF)")
    fig.colorbar(image, ax=ax, shrink=0.8)
    x = np.arange(k)
    w = 0.27
    for offset, values, label in ((-w, prec, "precision"), (0, rec, "recall"), (w, f1, "F1")):
        ax2.bar(x + offset, values, w, label=label)
    ax2.set_xticks(x, labels, rotation=45 if k > 4 else 0)
    ax2.set_ylim(0, 1.05)
    ax2.set_xlabel("class")
    ax2.set_ylabel("score")
    ax2.set_title("per-class precision, recall, F1")
    ax2.legend(loc="lower right", fontsize="small")
    return _literal(fig)


def plot_roc_pr(report: CVReport, name: str | None = None) -> Figure:
    """ROC and precision-recall curves of the out-of-fold probabilities.

    Binary: one curve per panel for the positive class (``report.classes[1]``), plus the
    chance diagonal (ROC) and the prevalence line (PR).  Multiclass: one one-vs-rest curve
    per class in each panel, plus the chance diagonal.

    Parameters
    ----------
    report : CVReport
        A classification report.
    name : str, default=None
        The candidate; the best one when None.
    """
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    report = _check_report(report, "plot_roc_pr")
    name = _pick(report, name, "plot_roc_pr", "classification")
    proba = report.results[name].oof
    y = np.asarray(report.y)
    classes = report.classes
    targets = [1] if len(classes) == 2 else list(range(len(classes)))
    fig = _figure(11, 4.8)
    roc_ax, pr_ax = fig.subplots(1, 2)
    for j in targets:
        positive = y == classes[j]
        fpr, tpr, _ = roc_curve(positive, proba[:, j])
        precision, recall, _ = precision_recall_curve(positive, proba[:, j])
        ap = average_precision_score(positive, proba[:, j])
        label = _t(classes[j])
        roc_ax.plot(fpr, tpr, label=f"{label} (AUC {auc(fpr, tpr):.3f})")
        pr_ax.plot(recall, precision, label=f"{label} (AP {ap:.3f})")
    roc_ax.plot([0, 1], [0, 1], ":", color="0.5", label="chance")
    if len(classes) == 2:
        prevalence = float(np.mean(y == classes[1]))
        pr_ax.axhline(prevalence, linestyle=":", color="0.5",
                      label=f"prevalence ({prevalence:.2f})")
    roc_ax.set_xlabel("false positive rate")
    roc_ax.set_ylabel("true positive rate")
    roc_ax.set_title(f"{_t(name)}: ROC (OOF)")
    pr_ax.set_xlabel("recall")
    pr_ax.set_ylabel("precision")
    pr_ax.set_ylim(0, 1.02)
    pr_ax.set_title(f"{_t(name)}: precision-recall (OOF)")
    roc_ax.legend(loc="lower right", fontsize="small")
    pr_ax.legend(loc="lower left", fontsize="small")
    return _literal(fig)


def plot_residuals(report: CVReport, name: str | None = None) -> Figure:
    """Residuals (true - predicted) against the out-of-fold prediction, for a regressor.

    A funnel shape means the error grows with the prediction (try a log target); a curve
    means a missed non-linearity.

    Parameters
    ----------
    report : CVReport
        A regression report.
    name : str, default=None
        The candidate; the best one when None.
    """
    report = _check_report(report, "plot_residuals")
    name = _pick(report, name, "plot_residuals", "regression")
    pred = np.asarray(report.results[name].oof, dtype=float)
    resid = np.asarray(report.y, dtype=float) - pred
    fig = _figure(6.5, 4.5)
    ax = fig.add_subplot()
    ax.scatter(pred, resid, s=12, alpha=0.5, color="C0")
    ax.axhline(0.0, color="0.3", linestyle="--")
    rmse = float(np.sqrt(np.mean(resid ** 2)))
    ax.set_xlabel("predicted (out-of-fold)")
    ax.set_ylabel("residual (true - predicted)")
    ax.set_title(f"{_t(name)}: residuals vs predicted (RMSE {rmse:.4g})")
    return _literal(fig)


def plot_correlation(report: CVReport) -> Figure:
    """Heatmap of the correlation of the candidates' out-of-fold predictions.

    Low correlation between two good candidates is what makes an ensemble of them pay off.
    """
    report = _check_report(report, "plot_correlation")
    corr = report.correlation()
    k = len(corr)
    fig = _figure(2.5 + 0.9 * k, 1.8 + 0.8 * k)
    ax = fig.add_subplot()
    image = ax.imshow(corr.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
    labels = [_t(c) for c in corr.columns]
    ax.set_xticks(range(k), labels, rotation=45, ha="right")
    ax.set_yticks(range(k), labels)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{corr.iat[i, j]:.2f}", ha="center", va="center",
                    color="white" if abs(corr.iat[i, j]) > 0.6 else "black")
    ax.set_title("Correlation of OOF predictions")
    fig.colorbar(image, ax=ax, shrink=0.8, label="Pearson r")
    return _literal(fig)
