"""One fold model's aligned predictions, and the average of a candidate's K fold models."""

from __future__ import annotations

from typing import Any

import numpy as np


def predict_aligned(est: Any, X: Any, codes: np.ndarray | None) -> np.ndarray:
    """Predicted values, or class probabilities with one column per class code.

    ``est`` was fitted on class codes ``0..K-1`` (``codes = np.arange(K)``); a fold whose
    training part missed a class gives that class probability 0.
    """
    if codes is None:
        return np.asarray(est.predict(X), dtype=float).ravel()
    own = np.asarray(est.classes_).astype(np.int64)
    if hasattr(est, "predict_proba"):
        proba = np.asarray(est.predict_proba(X), dtype=float)
    else:  # a classifier without probabilities: one-hot of its predictions
        proba = (np.asarray(est.predict(X))[:, None] == own[None, :]).astype(float)
    if proba.shape[1] == len(codes):
        return proba
    out = np.zeros((proba.shape[0], len(codes)))
    out[:, own] = proba
    return out


class FoldAverage:
    """The K fitted fold models of one candidate behind one ``predict``.

    The competition standard: every fold model predicts, and class probabilities (or
    regression values) are averaged.  Fold models of classifiers were fitted on class codes
    (positions in ``classes``); ``predict`` maps them back to labels, and probabilities stay
    aligned on ``classes`` even when a fold's training part missed a class.  It is already fitted; it is not meant to be cloned
    or refitted.

    Examples
    --------
    >>> avg = report.fold_average("xgboost")  # doctest: +SKIP
    >>> avg.predict_proba(X_test)             # doctest: +SKIP
    """

    def __init__(self, models: tuple, classes: np.ndarray | None = None) -> None:
        self.models = tuple(models)
        self.classes_ = classes
        first = self.models[0]
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(first, attr):
                setattr(self, attr, getattr(first, attr))

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def predict_proba(self, X: Any) -> np.ndarray:
        if self.classes_ is None:
            raise AttributeError("predict_proba is only available for classifiers.")
        codes = np.arange(len(self.classes_))
        return np.mean([predict_aligned(m, X, codes) for m in self.models], axis=0)

    def predict(self, X: Any) -> np.ndarray:
        if self.classes_ is not None:
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return np.mean([predict_aligned(m, X, None) for m in self.models], axis=0)

    def __repr__(self) -> str:
        return f"FoldAverage({type(self.models[0]).__name__} x {len(self.models)} folds)"
