"""Candidate models: tabular networks (skorch), xgboost, LightGBM, CatBoost, forests, linear.

Everything here is a scikit-learn estimator or a function returning them.  torch is imported
only when a network is fitted and each boosting library when its model is built, so
``import foldstack.models`` and constructing or cloning a :class:`TabularMLPClassifier` stay
light.
"""

from foldstack.models._candidates import (
    CANDIDATE_NAMES,
    CANDIDATES,
    DEFAULT_NAMES,
    default_candidates,
)
from foldstack.models._history import epoch_history
from foldstack.models._mlp import TabularMLPClassifier, TabularMLPRegressor
from foldstack.models._portfolio import expected_fold_seconds, portfolio
from foldstack.models._preprocess import CategoryDtypeEncoder
from foldstack.models._presets import MLP_PRESETS, mlp_preset
from foldstack.models._spaces import search_space

# each library loads on first use
_LAZY = {"TabularXGBClassifier": "_xgb", "TabularXGBRegressor": "_xgb",
         "TabularLGBMClassifier": "_lgbm", "TabularLGBMRegressor": "_lgbm",
         "TabularCatBoostClassifier": "_catboost", "TabularCatBoostRegressor": "_catboost"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"foldstack.models.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CANDIDATES",
    "CANDIDATE_NAMES",
    "CategoryDtypeEncoder",
    "DEFAULT_NAMES",
    "MLP_PRESETS",
    "TabularCatBoostClassifier",
    "TabularCatBoostRegressor",
    "TabularLGBMClassifier",
    "TabularLGBMRegressor",
    "TabularMLPClassifier",
    "TabularMLPRegressor",
    "TabularXGBClassifier",
    "TabularXGBRegressor",
    "default_candidates",
    "epoch_history",
    "expected_fold_seconds",
    "mlp_preset",
    "portfolio",
    "search_space",
]
