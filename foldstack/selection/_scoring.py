"""Metrics: one table of built-in metrics computed from predictions, plus user scorers.

Built-in metrics are computed from what a fold stores (class probabilities or predicted
values), so every fold score can be recomputed later from the out-of-fold predictions.
Values are kept in their natural unit (RMSE is positive, log loss is positive); each metric
says whether greater is better, and ranking uses that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import metrics as M

from foldstack.exceptions import InvalidParameterError
from foldstack.selection import _counts as counts
from foldstack.utils._validation import did_you_mean

CLASSIFICATION = ("binary", "multiclass")


@dataclass(frozen=True)
class Metric:
    """A metric computed from predictions.

    ``func(y_true, pred, classes)`` gets the true labels and either class probabilities
    (columns in ``classes`` order) or predicted values.  A ``scorer`` metric instead wraps a
    scikit-learn scorer ``scorer(estimator, X, y)`` and needs the fitted estimator.
    """

    name: str
    func: Callable | None
    greater_is_better: bool
    tasks: tuple[str, ...]
    scorer: Callable | None = None

    def __call__(self, y_true: np.ndarray, pred: np.ndarray, classes: np.ndarray | None) -> float:
        return float(self.func(y_true, pred, classes))


def _labels(proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return classes[np.argmax(proba, axis=1)]


def _roc_auc_binary(y, proba, classes):
    return counts.roc_auc(y == classes[1], proba[:, 1])  # NaN for a fold with one class


def _roc_auc_ovr(y, proba, classes):
    present = np.isin(classes, np.unique(y))
    if present.sum() < 2:
        return np.nan
    p = proba[:, present]
    p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-15, None)
    return M.roc_auc_score(y, p, multi_class="ovr", labels=classes[present])


def _log_loss(y, proba, classes):
    p = np.clip(proba, 1e-15, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    fast = counts.log_loss(y, p, classes)
    return M.log_loss(y, p, labels=classes) if fast is None else fast


# Label metrics come from one confusion matrix (scikit-learn's values, linear time:
# foldstack.selection._counts); labels outside ``classes`` go to scikit-learn.

def _counted(fallback, from_counts):
    """``from_counts(confusion matrix)``, or ``fallback(y, labels, classes)`` with
    scikit-learn when a label of ``y`` is not among ``classes``."""
    def metric(y, proba, classes):
        cm = counts.confusion(y, proba, classes)
        return fallback(y, _labels(proba, classes), classes) if cm is None else from_counts(cm)
    return metric


def _positive(fn, part):
    return _counted(lambda y, labels, classes: fn(y, labels, pos_label=classes[1],
                                                  zero_division=0),
                    lambda cm: counts.of_class(cm, part, 1))


def _averaged(fn, average, part):
    return _counted(lambda y, labels, classes: fn(y, labels, labels=classes, average=average,
                                                  zero_division=0),
                    lambda cm: counts.averaged(cm, part, average))


def _rmse(y, p, _):
    return np.sqrt(M.mean_squared_error(y, p))


_B, _MC, _C, _R = ("binary",), ("multiclass",), CLASSIFICATION, ("regression",)

METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("roc_auc", _roc_auc_binary, True, _B),
    Metric("roc_auc_ovr", _roc_auc_ovr, True, _MC),
    Metric("log_loss", _log_loss, False, _C),
    Metric("accuracy", _counted(lambda y, labels, _: M.accuracy_score(y, labels),
                                counts.accuracy), True, _C),
    Metric("balanced_accuracy", _counted(lambda y, labels, _: M.balanced_accuracy_score(
        y, labels), counts.balanced_accuracy), True, _C),
    Metric("precision", _positive(M.precision_score, "precision"), True, _B),
    Metric("recall", _positive(M.recall_score, "recall"), True, _B),
    Metric("f1", _positive(M.f1_score, "f1"), True, _B),
    Metric("f1_macro", _averaged(M.f1_score, "macro", "f1"), True, _C),
    Metric("f1_weighted", _averaged(M.f1_score, "weighted", "f1"), True, _C),
    Metric("precision_macro", _averaged(M.precision_score, "macro", "precision"), True, _C),
    Metric("recall_macro", _averaged(M.recall_score, "macro", "recall"), True, _C),
    Metric("rmse", _rmse, False, _R),
    Metric("mse", lambda y, p, _: M.mean_squared_error(y, p), False, _R),
    Metric("mae", lambda y, p, _: M.mean_absolute_error(y, p), False, _R),
    Metric("median_ae", lambda y, p, _: M.median_absolute_error(y, p), False, _R),
    Metric("r2", lambda y, p, _: M.r2_score(y, p), True, _R),
]}

# scikit-learn scorer names map onto the metric they negate or name differently.
ALIASES = {
    "neg_log_loss": "log_loss", "logloss": "log_loss",
    "neg_root_mean_squared_error": "rmse", "neg_mean_squared_error": "mse",
    "neg_mean_absolute_error": "mae", "neg_median_absolute_error": "median_ae",
    "roc_auc_ovr_weighted": "roc_auc_ovr", "auc": "roc_auc",
}

DEFAULT_METRICS = {
    "binary": ("roc_auc", "log_loss", "accuracy", "balanced_accuracy", "precision", "recall",
               "f1"),
    "multiclass": ("log_loss", "accuracy", "balanced_accuracy", "f1_macro"),
    "regression": ("rmse", "mae", "r2"),
}


def _scorer_name(fn: Callable) -> str:
    inner = getattr(fn, "_score_func", None)
    return getattr(inner, "__name__", None) or getattr(fn, "__name__", None) or "custom"


def resolve_scoring(scoring: Any, task: str) -> tuple[Metric, ...]:
    """Turn ``scoring`` (None, a name, a callable, a list or a dict) into metrics, primary first.

    Examples
    --------
    >>> [m.name for m in resolve_scoring(["rmse", "r2"], "regression")]
    ['rmse', 'r2']
    """
    if scoring is None:
        return tuple(METRICS[n] for n in DEFAULT_METRICS[task])
    if isinstance(scoring, (str, Callable)) and not isinstance(scoring, Mapping):
        items: list[tuple[str | None, Any]] = [(None, scoring)]
    elif isinstance(scoring, Mapping):
        items = list(scoring.items())
    elif isinstance(scoring, Sequence):
        items = [(None, s) for s in scoring]
    else:
        raise InvalidParameterError(
            f"`scoring` must be None, a metric name, a scorer callable, a list or a dict of "
            f"them; got {type(scoring).__name__}.")
    if not items:
        raise InvalidParameterError("`scoring` is empty; give at least one metric or None for "
                                    "the defaults.")
    out: list[Metric] = []
    for key, spec in items:
        if isinstance(spec, Metric):  # e.g. a report's scoring, passed on
            if task not in spec.tasks:
                raise InvalidParameterError(f"Metric {spec.name!r} is not for a {task} task.")
            out.append(spec if not key or key == spec.name else
                       Metric(key, spec.func, spec.greater_is_better, spec.tasks, spec.scorer))
        elif isinstance(spec, str):
            out.append(_builtin(spec, task, rename=key))
        elif callable(spec):
            name = key or _scorer_name(spec)
            out.append(Metric(name, None, True, (*CLASSIFICATION, "regression"), scorer=spec))
        else:
            raise InvalidParameterError(
                f"`scoring` entries must be metric names, Metric objects or scorer callables; "
            f"got {spec!r}.")
    names = [m.name for m in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidParameterError(f"`scoring` names a metric twice: {dup}.")
    return tuple(out)


def _builtin(name: str, task: str, rename: str | None = None) -> Metric:
    canonical = ALIASES.get(name, name)
    if canonical == "roc_auc" and task == "multiclass":
        canonical = "roc_auc_ovr"
    if canonical == "f1" and task == "multiclass":
        canonical = "f1_macro"
    metric = METRICS.get(canonical)
    if metric is None:
        valid = [n for n, m in METRICS.items() if task in m.tasks]
        raise InvalidParameterError(
            f"Unknown metric {name!r}.{did_you_mean(name, list(METRICS) + list(ALIASES))} "
            f"Metrics for a {task} task: {', '.join(valid)}; or pass a scikit-learn scorer "
            "callable.")
    if task not in metric.tasks:
        valid = [n for n, m in METRICS.items() if task in m.tasks]
        kind = "classification" if set(metric.tasks) <= set(CLASSIFICATION) else "regression"
        if metric.tasks == ("binary",):
            kind = "binary classification"
        raise InvalidParameterError(
            f"Metric {name!r} is for {kind}, but the task is {task}. Use one of: "
            f"{', '.join(valid)}.")
    if rename and rename != metric.name:
        metric = Metric(rename, metric.func, metric.greater_is_better, metric.tasks)
    return metric


def score_predictions(metrics: Sequence[Metric], y: np.ndarray, pred: np.ndarray,
                      classes: np.ndarray | None, estimator: Any = None, X: Any = None
                      ) -> dict[str, float]:
    """Every metric of ``metrics`` on one set of rows."""
    out = {}
    for m in metrics:
        if m.scorer is not None:
            out[m.name] = float(m.scorer(estimator, X, y))
        else:
            out[m.name] = m(y, pred, classes)
    return out
