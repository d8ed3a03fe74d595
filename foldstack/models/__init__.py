"""Candidate models: tabular networks (skorch), xgboost, forests and linear models.

Everything here is a scikit-learn estimator or a function returning them.  torch is imported
only when a network is fitted, so ``import foldstack.models`` and constructing or cloning a
:class:`TabularMLPClassifier` stay light.
"""

from foldstack.models._candidates import CANDIDATE_NAMES, CANDIDATES, default_candidates
from foldstack.models._history import epoch_history
from foldstack.models._mlp import TabularMLPClassifier, TabularMLPRegressor
from foldstack.models._preprocess import CategoryDtypeEncoder
from foldstack.models._spaces import search_space

__all__ = [
    "CANDIDATES",
    "CANDIDATE_NAMES",
    "CategoryDtypeEncoder",
    "TabularMLPClassifier",
    "TabularMLPRegressor",
    "default_candidates",
    "epoch_history",
    "search_space",
]
