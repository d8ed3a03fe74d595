"""Read the per-epoch history of a fitted model, wherever it sits."""

from __future__ import annotations

from typing import Any

import pandas as pd

# attributes under which common wrappers keep the fitted model that does the learning
_WRAPPED = ("best_estimator_", "regressor_", "estimator_")


def final_estimator(estimator: Any) -> Any:
    """The fitted model inside ``estimator``: the last step of a Pipeline, the refitted
    estimator of a search (``best_estimator_``) or of a ``TransformedTargetRegressor``."""
    seen = 0
    while seen < 10:
        seen += 1
        steps = getattr(estimator, "steps", None)
        if isinstance(steps, list) and steps:
            estimator = steps[-1][1]
            continue
        inner = next((getattr(estimator, a) for a in _WRAPPED
                      if getattr(estimator, a, None) is not None), None)
        if inner is None:
            return estimator
        estimator = inner
    return estimator


def epoch_history(estimator: Any) -> pd.DataFrame | None:
    """Return the per-epoch history of a fitted model as a DataFrame, or None.

    Networks (:class:`TabularMLPClassifier`, :class:`TabularMLPRegressor`, or any estimator
    with a ``history_`` list of dicts) have one row per epoch with the columns ``epoch``,
    ``train_loss``, ``valid_loss``, ``valid_score``, ``lr`` and ``dur`` (the validation
    columns only when early stopping held rows out).  Models trained without epochs (linear,
    forests, xgboost) return None.  A Pipeline is read through its last step, a search
    through ``best_estimator_``.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> epoch_history(LinearRegression()) is None
    True
    """
    history = getattr(final_estimator(estimator), "history_", None)
    if history is None:
        return None
    return pd.DataFrame([{k: v for k, v in dict(row).items() if k != "batches"}
                         for row in history])
