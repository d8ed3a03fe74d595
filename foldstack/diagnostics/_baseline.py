"""The dummy baseline on the report's own folds, computed from the target alone (no X)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from foldstack.selection._scoring import METRICS


def dummy_predictions(y_train: np.ndarray, n_rows: int, classes: np.ndarray | None
                      ) -> np.ndarray:
    """What a dummy model fitted on ``y_train`` predicts for ``n_rows`` rows.

    Classification: the class frequencies of the training rows, for every row (scikit-learn's
    ``DummyClassifier(strategy="prior")``); regression: the training mean
    (``DummyRegressor()``).

    Examples
    --------
    >>> import numpy as np
    >>> dummy_predictions(np.array(["a", "b", "b", "b"]), 2, np.array(["a", "b"]))
    array([[0.25, 0.75],
           [0.25, 0.75]])
    """
    if classes is None:
        return np.full(n_rows, float(np.mean(np.asarray(y_train, dtype=float))))
    prior = np.array([np.mean(y_train == c) for c in classes], dtype=float)
    return np.tile(prior, (n_rows, 1))


def dummy_scores(y: np.ndarray, splits: Sequence, metrics: Sequence[str],
                 classes: np.ndarray | None) -> pd.DataFrame:
    """Validation (``subset="test"``) and training scores of the dummy model, per fold.

    A metric that is not one of foldstack's built-in metrics (a scorer callable needs the
    fitted estimator and X) gets NaN.

    Returns
    -------
    DataFrame
        Tidy: ``fold``, ``subset`` ("train" / "test"), ``metric``, ``value``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 0, 1] * 5)
    >>> folds = [(np.arange(10, 20), np.arange(10)), (np.arange(10), np.arange(10, 20))]
    >>> s = dummy_scores(y, folds, ["roc_auc", "accuracy"], np.array([0, 1]))
    >>> s[s.subset == "test"].groupby("metric")["value"].mean().round(2).to_dict()
    {'accuracy': 0.75, 'roc_auc': 0.5}
    """
    rows = []
    y = np.asarray(y)
    for i, (train, val) in enumerate(splits):
        for subset, idx in (("train", train), ("test", val)):
            pred = dummy_predictions(y[train], len(idx), classes)
            for m in metrics:
                metric = METRICS.get(m)
                value = np.nan if metric is None else metric(y[idx], pred, classes)
                rows.append((i, subset, m, value))
    return pd.DataFrame(rows, columns=["fold", "subset", "metric", "value"])
