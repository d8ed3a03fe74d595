"""CatBoost on the raw table: native categorical features, early-stopped rounds, any labels.

Imported when the ``catboost`` candidate is built, so ``import foldstack`` does not load
CatBoost.  The table handling, rounds and threads are :mod:`foldstack.models._boosting`'s;
categorical columns reach CatBoost as integer level codes (-1 for missing or unseen levels,
one more level to CatBoost), which it encodes with its ordered target statistics.

Ctrl-C during ``fit`` is held back until the current round has finished (boosting then
stops), then raised as ``KeyboardInterrupt``, as for xgboost.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from foldstack.models._boosting import (
    BOOSTING_CONSTRAINTS,
    BOOSTING_DOC,
    FITTED_DOC,
    BoostingClassifier,
    BoostingModel,
    BoostingRegressor,
    n_threads,
)
from foldstack.utils._deadline import time_is_up
from foldstack.utils._parallel import check_interrupt, defer_interrupts, interrupt_pending
from foldstack.utils._validation import Interval

_CONSTRAINTS = {
    **BOOSTING_CONSTRAINTS,
    "depth": [Interval(int, 1, 16)],
    "l2_leaf_reg": [Interval(float, 0, None)],
    "border_count": [Interval(int, 1, 65535)],
    "one_hot_max_size": [Interval(int, 1, None)],
    "random_strength": [Interval(float, 0, None)],
}

_DOC = """
    Parameters
    ----------""" + BOOSTING_DOC.replace("n_estimators : int\n", "n_estimators : int, "
                                           "default=500\n") + """\
    depth : int, default=6
        Depth of the (symmetric) trees.
    l2_leaf_reg : float, default=3.0
        L2 penalty on the leaf values.
    border_count : int, default=254
        Bins per numeric column.
    one_hot_max_size : int, default=2
        Categorical columns with at most this many levels are one-hot encoded; larger ones
        use CatBoost's ordered target statistics.
    random_strength : float, default=1.0
        Noise added to the split scores (CatBoost's regularisation).
""" + FITTED_DOC + """    model_ : catboost.CatBoost
        The final model (saved in CatBoost's own JSON format by ``fs.persist``).
"""


class _StopOnInterrupt:
    """CatBoost callback: stop after the current round once a Ctrl-C is held back or the
    fit's deadline (a time limit) has passed."""

    def after_iteration(self, info: Any) -> bool:
        return not (interrupt_pending() or time_is_up())


def _pool(X: np.ndarray, y: Any, w: Any, categorical: list[int]) -> Any:
    """A CatBoost Pool: float columns, and integer codes for the categorical ones."""
    from catboost import Pool

    columns = {}
    for j in range(X.shape[1]):
        col = X[:, j]
        columns[f"f{j}"] = (np.where(np.isnan(col), -1, col).astype(np.int64)
                            if j in categorical else col)
    return Pool(pd.DataFrame(columns), label=y, weight=w, cat_features=categorical)


class _CatBoost(BoostingModel):
    _constraints = _CONSTRAINTS

    def __init__(self, *, n_estimators: int = 500, learning_rate: float = 0.05,
                 early_stopping: bool | str = "auto", validation_fraction: float = 0.1,
                 max_estimators: int = 2000, early_stopping_rounds: int | None = None,
                 depth: int = 6, l2_leaf_reg: float = 3.0, border_count: int = 254,
                 one_hot_max_size: int = 2, random_strength: float = 1.0,
                 n_jobs: int | None = None, random_state: int | None = None) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.max_estimators = max_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.depth = depth
        self.l2_leaf_reg = l2_leaf_reg
        self.border_count = border_count
        self.one_hot_max_size = one_hot_max_size
        self.random_strength = random_strength
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _loss(self) -> str:
        raise NotImplementedError

    def _train(self, X, y, w, rounds, valid, threads):
        from catboost import CatBoost

        params = {"loss_function": self._loss(), "iterations": rounds,
                  "learning_rate": self.learning_rate, "depth": self.depth,
                  "l2_leaf_reg": self.l2_leaf_reg, "border_count": self.border_count,
                  "one_hot_max_size": self.one_hot_max_size,
                  "random_strength": self.random_strength,
                  "random_seed": 0 if self.random_state is None else self.random_state,
                  "thread_count": threads, "verbose": False, "allow_writing_files": False}
        fit: dict[str, Any] = {"callbacks": [_StopOnInterrupt()]}
        if valid is not None:
            Xv, yv, wv = valid
            params.update(od_type="Iter", od_wait=self._patience(), use_best_model=True)
            fit["eval_set"] = _pool(Xv, yv, wv, self.categorical_columns_)
        model = CatBoost(params)
        with defer_interrupts():
            model.fit(_pool(X, y, w, self.categorical_columns_), **fit)
        check_interrupt()
        if valid is None:
            return model, int(model.tree_count_)
        return model, int(model.get_best_iteration()) + 1

    def _raw_predict(self, X: np.ndarray) -> np.ndarray:
        kind = "Probability" if self._loss() != "RMSE" else "RawFormulaVal"
        with defer_interrupts():
            return self.model_.predict(_pool(X, None, None, self.categorical_columns_),
                                       prediction_type=kind,
                                       thread_count=n_threads(self.n_jobs))


class TabularCatBoostClassifier(BoostingClassifier, _CatBoost):
    __doc__ = """CatBoost classifier on the raw table, with early-stopped rounds.

    Categorical columns (bool, object, string, category) use CatBoost's own encoding of the
    levels learned in ``fit``; missing values and unseen levels are one more level.  Labels
    can be of any type.  See :mod:`foldstack.models._boosting` for the rounds and threads.
""" + _DOC + """    classes_ : ndarray of shape (n_classes,)

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"x": range(40), "color": ["red", "blue"] * 20})
    >>> y = ["no"] * 20 + ["yes"] * 20
    >>> clf = TabularCatBoostClassifier(n_estimators=50, random_state=0).fit(X, y)
    >>> clf.classes_.tolist(), clf.predict(X.iloc[[0, 39]]).tolist()
    (['no', 'yes'], ['no', 'yes'])
    """

    def _loss(self) -> str:
        return "Logloss" if len(self.label_encoder_.classes_) == 2 else "MultiClass"


class TabularCatBoostRegressor(BoostingRegressor, _CatBoost):
    __doc__ = """CatBoost regressor (squared error) on the raw table, with early-stopped rounds.

    Categorical columns (bool, object, string, category) use CatBoost's own encoding of the
    levels learned in ``fit``.  See :mod:`foldstack.models._boosting` for the rounds and
    threads.
""" + _DOC + """
    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> reg = TabularCatBoostRegressor(n_estimators=50, random_state=0)
    >>> reg.fit(X, X[:, 0]).predict(X[:2]).shape
    (2,)
    """

    def _loss(self) -> str:
        return "RMSE"
