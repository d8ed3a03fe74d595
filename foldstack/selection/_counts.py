"""Classification metrics from one confusion matrix or one ranking, in time linear in the rows.

scikit-learn's label metrics check their inputs with ``np.unique`` several times per call (a
sort of every row each time): on a million rows with a table's own string labels, as the
ensembles are scored, the seven default binary metrics took 13.2 s, and 0.87 s here
(``python -m bench.metric_speed``; 1.11 s and 0.30 s with class codes, as folds are scored).  Every label metric of
the built-in table is a function of the confusion matrix, which one ``np.bincount`` gives, and
ROC AUC is the Mann-Whitney statistic of one ranking.  The values are scikit-learn's (the
tests compare them on random data with ties, missing classes and one-class folds); labels
that cannot be placed among ``classes`` fall back to scikit-learn.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def class_codes(y: np.ndarray, classes: np.ndarray) -> np.ndarray | None:
    """The position of every label of ``y`` in ``classes``, or None when a label is not
    among them (or the labels cannot be ordered).

    Examples
    --------
    >>> class_codes(np.array(["b", "a", "b"]), np.array(["a", "b"])).tolist()
    [1, 0, 1]
    >>> class_codes(np.array(["c"]), np.array(["a", "b"])) is None
    True
    """
    y, classes = np.asarray(y), np.asarray(classes)
    k = len(classes)
    if (k and y.dtype.kind in "iu" and classes.dtype.kind in "iu"
            and np.array_equal(classes, np.arange(k))):  # the engine's class codes
        if len(y) and (y.min() < 0 or y.max() >= k):
            return None
        return y.astype(np.intp, copy=False)
    try:
        order = np.argsort(classes, kind="stable")
        ordered = classes[order]
        pos = np.clip(np.searchsorted(ordered, y), 0, max(k - 1, 0))
        if k == 0 or not np.array_equal(ordered[pos], y):
            return None
    except TypeError:  # labels of types that do not compare
        return None
    return order[pos]


def confusion(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> np.ndarray | None:
    """The confusion matrix (rows: true class, columns: the class of highest probability) in
    ``classes`` order, or None when a label of ``y`` is not among ``classes``."""
    true = class_codes(y, classes)
    if true is None:
        return None
    k = len(classes)
    pred = np.argmax(proba, axis=1)
    return np.bincount(true * k + pred, minlength=k * k).reshape(k, k)


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # scikit-learn's zero_division=0: an undefined ratio counts as 0
    num, den = np.asarray(num, float), np.asarray(den, float)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def accuracy(cm: np.ndarray) -> float:
    return float(np.trace(cm) / cm.sum())


def balanced_accuracy(cm: np.ndarray) -> float:
    # the mean recall over the classes present in y (scikit-learn drops the others)
    support = cm.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(cm)[present] / support[present]))


def per_class(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of every class, and its support, by name."""
    tp = np.diag(cm).astype(float)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    return {"precision": _divide(tp, predicted), "recall": _divide(tp, support),
            "f1": _divide(2 * tp, predicted + support), "support": support}


def of_class(cm: np.ndarray, part: str, k: int) -> float:
    """Precision, recall or F1 (``part``) of the class at position ``k``."""
    return float(per_class(cm)[part][k])


def averaged(cm: np.ndarray, part: str, average: str) -> float:
    """Macro or support-weighted mean over classes of precision, recall or F1 (``part``)."""
    scores = per_class(cm)
    values, support = scores[part], scores["support"]
    if average == "weighted":
        return float(np.average(values, weights=support)) if support.sum() else 0.0
    return float(np.mean(values))


def roc_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic: the chance that a positive row scores above a
    negative one, ties counting one half (scikit-learn's trapezoidal area); NaN with one
    class."""
    positive = np.asarray(positive, bool)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(np.asarray(score, np.float64))  # average ranks of tied scores
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def log_loss(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float | None:
    """Mean negative log probability of the true class, clipped to ``[eps, 1 - eps]`` of the
    probabilities' dtype and computed in it, as scikit-learn does; None when a label is not
    among ``classes``."""
    true = class_codes(y, classes)
    if true is None:
        return None
    eps = np.finfo(proba.dtype if proba.dtype.kind == "f" else np.float64).eps
    picked = np.clip(proba[np.arange(len(true)), true], eps, 1 - eps)
    return float(-np.mean(np.log(picked)))
