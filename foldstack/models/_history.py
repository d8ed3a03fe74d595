"""Read the per-epoch history of a fitted model, wherever it sits."""

from __future__ import annotations

from typing import Any

import pandas as pd

from foldstack.utils._estimators import final_estimator


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
    history = getattr(final_estimator(estimator, fitted=True)[1], "history_", None)
    if history is None:
        return None
    return pd.DataFrame([{k: v for k, v in dict(row).items() if k != "batches"}
                         for row in history])
