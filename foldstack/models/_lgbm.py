"""LightGBM on the raw table: native categorical splits, early-stopped rounds, any labels.

Imported when the ``lightgbm`` candidate is built, so ``import foldstack`` does not load
LightGBM.  The table handling, rounds and threads are :mod:`foldstack.models._boosting`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
from foldstack.utils._validation import Interval

_CONSTRAINTS = {
    **BOOSTING_CONSTRAINTS,
    "num_leaves": [Interval(int, 2, None)],
    "max_depth": [Interval(int, -1, None)],
    "min_child_samples": [Interval(int, 1, None)],
    "subsample": [Interval(float, 0, 1, closed="right")],
    "colsample_bytree": [Interval(float, 0, 1, closed="right")],
    "reg_alpha": [Interval(float, 0, None)],
    "reg_lambda": [Interval(float, 0, None)],
    "max_bin": [Interval(int, 2, None)],
    "max_cat_to_onehot": [Interval(int, 1, None)],
    "cat_smooth": [Interval(float, 0, None)],
    "min_data_per_group": [Interval(int, 1, None)],
}

_DOC = """
    Parameters
    ----------""" + BOOSTING_DOC.replace("n_estimators : int\n", "n_estimators : int, "
                                           "default=300\n") + """\
    num_leaves : int, default=31
        Leaves per tree (LightGBM grows trees leaf-wise).
    max_depth : int, default=-1
        Depth limit of a tree (-1: none).
    min_child_samples : int, default=20
        Fewest rows in a leaf.
    subsample : float in (0, 1], default=1.0
        Share of the rows each round sees (bagging every round when below 1).
    colsample_bytree : float in (0, 1], default=1.0
        Share of the columns each tree sees.
    reg_alpha, reg_lambda : float, default=0.0
        L1 and L2 penalties on the leaf values.
    max_bin : int, default=255
        Bins per numeric column.
    max_cat_to_onehot : int, default=4
        Categorical columns with at most this many levels split one level against the rest;
        larger ones split by LightGBM's sorted-gradient partition of the levels.
    cat_smooth : float, default=10.0
        Smoothing of the categories' statistics in those partitions.
    min_data_per_group : int, default=100
        Fewest rows of a group of levels in those partitions (LightGBM's default: on small
        tables, levels rarer than this are not split apart).
""" + FITTED_DOC + """    model_ : lightgbm.Booster
        The final booster (saved in LightGBM's own text format by ``fs.persist``).
"""


def _stop_at_deadline(env: Any) -> None:
    """LightGBM callback: stop boosting once the fit's deadline (a time limit) has passed."""
    if time_is_up():
        import lightgbm as lgb

        raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list)


class _LGBM(BoostingModel):
    _constraints = _CONSTRAINTS

    def __init__(self, *, n_estimators: int = 300, learning_rate: float = 0.05,
                 early_stopping: bool | str = "auto", validation_fraction: float = 0.1,
                 max_estimators: int = 2000, early_stopping_rounds: int | None = None,
                 num_leaves: int = 31, max_depth: int = -1, min_child_samples: int = 20,
                 subsample: float = 1.0, colsample_bytree: float = 1.0,
                 reg_alpha: float = 0.0, reg_lambda: float = 0.0, max_bin: int = 255,
                 max_cat_to_onehot: int = 4, cat_smooth: float = 10.0,
                 min_data_per_group: int = 100, n_jobs: int | None = None,
                 random_state: int | None = None) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.max_estimators = max_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.max_bin = max_bin
        self.max_cat_to_onehot = max_cat_to_onehot
        self.cat_smooth = cat_smooth
        self.min_data_per_group = min_data_per_group
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _objective(self) -> dict[str, Any]:
        raise NotImplementedError

    def _params(self, threads: int) -> dict[str, Any]:
        seed = 0 if self.random_state is None else self.random_state
        return {**self._objective(), "learning_rate": self.learning_rate,
                "num_leaves": self.num_leaves, "max_depth": self.max_depth,
                "min_data_in_leaf": self.min_child_samples,
                "bagging_fraction": self.subsample, "bagging_freq": int(self.subsample < 1),
                "feature_fraction": self.colsample_bytree, "lambda_l1": self.reg_alpha,
                "lambda_l2": self.reg_lambda, "max_bin": self.max_bin,
                "max_cat_to_onehot": self.max_cat_to_onehot, "cat_smooth": self.cat_smooth,
                "min_data_per_group": self.min_data_per_group,
                # the same model for the same seed, whatever the thread count
                "seed": seed, "deterministic": True, "force_row_wise": True,
                "num_threads": threads, "verbose": -1}

    def _train(self, X, y, w, rounds, valid, threads):
        import lightgbm as lgb

        params = self._params(threads)
        stop = [_stop_at_deadline]
        data = lgb.Dataset(X, y, weight=w, categorical_feature=self.categorical_columns_,
                           params={"max_bin": self.max_bin, "verbose": -1})
        if valid is None:
            booster = lgb.train(params, data, num_boost_round=rounds, callbacks=stop)
            return booster, booster.current_iteration()
        Xv, yv, wv = valid
        held_out = lgb.Dataset(Xv, yv, weight=wv, reference=data)
        booster = lgb.train(params, data, num_boost_round=rounds, valid_sets=[held_out],
                            callbacks=[lgb.early_stopping(self._patience(), verbose=False),
                                       *stop])
        return booster, int(booster.best_iteration or booster.current_iteration())

    def _raw_predict(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict(X, num_threads=n_threads(self.n_jobs))


class TabularLGBMClassifier(BoostingClassifier, _LGBM):
    __doc__ = """LightGBM classifier on the raw table, with early-stopped rounds.

    Categorical columns (bool, object, string, category) are split natively on the levels
    learned in ``fit``; missing values and unseen levels go where LightGBM sends missing
    values.  Labels can be of any type.  See :mod:`foldstack.models._boosting` for the
    rounds and threads.
""" + _DOC + """    classes_ : ndarray of shape (n_classes,)

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"x": range(40), "color": ["red", "blue"] * 20})
    >>> y = ["no"] * 20 + ["yes"] * 20
    >>> clf = TabularLGBMClassifier(n_estimators=20, min_child_samples=2).fit(X, y)
    >>> clf.classes_.tolist(), clf.predict(X.iloc[[0, 39]]).tolist()
    (['no', 'yes'], ['no', 'yes'])
    """

    def _objective(self) -> dict[str, Any]:
        n = len(self.label_encoder_.classes_)
        if n == 2:
            return {"objective": "binary"}
        return {"objective": "multiclass", "num_class": n}

    def _raw_predict(self, X: np.ndarray) -> np.ndarray:
        p = super()._raw_predict(X)
        return np.column_stack([1.0 - p, p]) if p.ndim == 1 else p


class TabularLGBMRegressor(BoostingRegressor, _LGBM):
    __doc__ = """LightGBM regressor (squared error) on the raw table, with early-stopped rounds.

    Categorical columns (bool, object, string, category) are split natively on the levels
    learned in ``fit``.  See :mod:`foldstack.models._boosting` for the rounds and threads.
""" + _DOC + """
    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3))
    >>> reg = TabularLGBMRegressor(random_state=0).fit(X, X[:, 0] + 0.1 * rng.normal(size=2000))
    >>> reg.early_stopping_, reg.n_rounds_ < 2000
    (True, True)
    """

    def _objective(self) -> dict[str, Any]:
        return {"objective": "regression"}
