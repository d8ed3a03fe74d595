"""Candidate models: tabular networks (skorch), xgboost, forests and linear models.

Everything here is a scikit-learn estimator or a function returning them.  torch is imported
only when a network is fitted and xgboost when an xgboost model is built, so
``import foldstack.models`` and constructing or cloning a :class:`TabularMLPClassifier` stay
light.
"""

from foldstack.models._candidates import CANDIDATE_NAMES, CANDIDATES, default_candidates
from foldstack.models._history import epoch_history
from foldstack.models._mlp import TabularMLPClassifier, TabularMLPRegressor
from foldstack.models._preprocess import CategoryDtypeEncoder
from foldstack.models._presets import MLP_PRESETS, mlp_preset
from foldstack.models._spaces import search_space

_LAZY = {"TabularXGBClassifier", "TabularXGBRegressor"}  # xgboost loads on first use


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from foldstack.models import _xgb

        return getattr(_xgb, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CANDIDATES",
    "CANDIDATE_NAMES",
    "CategoryDtypeEncoder",
    "MLP_PRESETS",
    "TabularMLPClassifier",
    "TabularMLPRegressor",
    "TabularXGBClassifier",
    "TabularXGBRegressor",
    "default_candidates",
    "epoch_history",
    "mlp_preset",
    "search_space",
]
