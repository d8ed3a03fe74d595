"""The built-in classification metrics equal scikit-learn's, computed in linear time."""

import numpy as np
import pytest
from sklearn import metrics as M

from foldstack.selection import METRICS
from foldstack.selection._counts import class_codes, confusion, roc_auc


def _proba(rng, n, k, dtype=np.float64, ties=False):
    p = rng.random((n, k))
    if ties:  # few distinct values: ties in the ranking and in the argmax
        p = np.round(p * 4) / 4 + 1e-3
    return (p / p.sum(axis=1, keepdims=True)).astype(dtype)


def _reference(name, y, proba, classes):
    """The metric as scikit-learn computes it from the same predictions."""
    labels = classes[np.argmax(proba, axis=1)]
    if name == "roc_auc":
        positive = y == classes[1]
        if positive.all() or not positive.any():
            return np.nan
        return M.roc_auc_score(positive, proba[:, 1])
    if name == "log_loss":
        p = np.clip(proba, 1e-15, 1.0)
        return M.log_loss(y, p / p.sum(axis=1, keepdims=True), labels=classes)
    if name == "accuracy":
        return M.accuracy_score(y, labels)
    if name == "balanced_accuracy":
        return M.balanced_accuracy_score(y, labels)
    if name in ("precision", "recall", "f1"):
        fn = {"precision": M.precision_score, "recall": M.recall_score, "f1": M.f1_score}[name]
        return fn(y, labels, pos_label=classes[1], zero_division=0)
    base, average = name.rsplit("_", 1)
    fn = {"f1": M.f1_score, "precision": M.precision_score, "recall": M.recall_score}[base]
    return fn(y, labels, labels=classes, average=average, zero_division=0)


BINARY = ["roc_auc", "log_loss", "accuracy", "balanced_accuracy", "precision", "recall", "f1"]
MULTI = ["log_loss", "accuracy", "balanced_accuracy", "f1_macro", "f1_weighted",
         "precision_macro", "recall_macro"]


def _check(names, y, proba, classes):
    for name in names:
        got, want = METRICS[name](y, proba, classes), _reference(name, y, proba, classes)
        if np.isnan(want):
            assert np.isnan(got), name
        else:
            assert got == pytest.approx(want, rel=1e-12, abs=1e-12), name


@pytest.mark.filterwarnings("ignore::UserWarning")  # scikit-learn's one-class warnings
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_metrics_equal_scikit_learn(seed, ties, dtype):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    codes = np.arange(2)
    y = (rng.random(n) < rng.uniform(0.05, 0.6)).astype(int)
    _check(BINARY, y, _proba(rng, n, 2, dtype, ties), codes)
    # the same with string labels, as a report's own labels are
    _check(BINARY, np.array(["no", "yes"])[y], _proba(rng, n, 2, dtype, ties),
           np.array(["no", "yes"]))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ties", [False, True])
def test_multiclass_metrics_equal_scikit_learn(seed, ties):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 8))
    n = int(rng.integers(10, 300))
    y = rng.integers(0, k, n)
    y[y == k - 1] = 0  # a class absent from the fold's true labels
    _check(MULTI, y, _proba(rng, n, k, np.float64, ties), np.arange(k))
    labels = np.array([f"c{i}" for i in range(k)])
    _check(MULTI, labels[y], _proba(rng, n, k, np.float32, ties), labels)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_one_class_and_extreme_probabilities():
    y = np.zeros(20, int)
    proba = np.tile([[1.0, 0.0]], (20, 1))
    _check(BINARY, y, proba, np.arange(2))          # AUC NaN, precision 0 by zero_division
    proba = np.tile([[0.0, 1.0]], (20, 1))
    _check(BINARY, np.ones(20, int), proba, np.arange(2))


def test_labels_outside_classes_fall_back_to_scikit_learn():
    y = np.array([0, 1, 2, 1])
    classes = np.arange(2)
    assert class_codes(y, classes) is None and confusion(y, np.eye(2)[[0, 1, 1, 1]],
                                                         classes) is None
    proba = np.eye(2)[[0, 1, 1, 1]]
    assert METRICS["accuracy"](y, proba, classes) == M.accuracy_score(y, [0, 1, 1, 1])


def test_class_codes_follow_classes_order():
    classes = np.array(["b", "a", "c"])  # not sorted: positions, not sorted ranks
    assert class_codes(np.array(["a", "c", "b"]), classes).tolist() == [1, 2, 0]
    assert class_codes(np.array([0, 3]), np.arange(3)) is None
    assert class_codes(np.array([1, "a"], dtype=object), np.array([1, 2], dtype=object)) is None


def test_roc_auc_is_the_rank_statistic():
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert roc_auc(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5
    assert np.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))
