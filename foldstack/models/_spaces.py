"""Default hyperparameter search spaces of the candidates.

A space maps a parameter name of the candidate (``get_params()`` key, nested ``step__param``
for pipelines) to one of::

    ("int", low, high)                  integers in [low, high]
    ("int", low, high, "log")           integers in [low, high], sampled on a log scale
    ("float", low, high)                floats in [low, high]
    ("float", low, high, "log")         floats in [low, high], sampled on a log scale
    ("categorical", [choice, ...])      None / bool / int / float / str choices
"""

from __future__ import annotations

import copy

from foldstack.data import TASKS
from foldstack.exceptions import InvalidParameterError
from foldstack.models._candidates import check_candidate_name
from foldstack.utils._validation import check_option

_MLP = {
    "depth": ("int", 1, 4),
    "width": ("categorical", [64, 128, 256, 512]),
    "activation": ("categorical", ["relu", "leaky_relu", "gelu", "selu", "silu"]),
    "batch_norm": ("categorical", [False, True]),
    "dropout": ("float", 0.0, 0.5),
    "weight_decay": ("float", 1e-6, 1e-1, "log"),
    "optimizer": ("categorical", ["adam", "adamw", "nesterov"]),
    "lr": ("float", 1e-4, 1e-2, "log"),
    "lr_schedule": ("categorical", ["none", "plateau", "cosine", "onecycle"]),
    "batch_size": ("categorical", ["auto", 64, 128, 256, 512]),
    # the default scaling and embedding first among their choices (docs/mlp.md)
    "numeric_transform": ("categorical", ["robust_smooth_clip", "robust", "standard",
                                          "quantile"]),
    "numeric_embedding": ("categorical", ["piecewise_linear", "periodic", None]),
}

# No number of rounds: from 1,024 rows the candidate picks it by early stopping (a searched
# n_estimators would be a dimension without effect there); smaller tables boost 300 rounds.
_XGBOOST = {
    "model__learning_rate": ("float", 0.01, 0.3, "log"),
    "model__max_depth": ("int", 2, 10),
    "model__min_child_weight": ("float", 0.5, 20.0, "log"),
    "model__subsample": ("float", 0.5, 1.0),
    "model__colsample_bytree": ("float", 0.3, 1.0),
    "model__reg_lambda": ("float", 1e-3, 10.0, "log"),
    "model__reg_alpha": ("float", 1e-3, 10.0, "log"),
}

# LightGBM and CatBoost pick their rounds like xgboost (no n_estimators from 1,024 rows).
_LIGHTGBM = {
    "learning_rate": ("float", 0.01, 0.3, "log"),
    "num_leaves": ("int", 4, 256, "log"),
    "min_child_samples": ("int", 2, 100, "log"),
    "subsample": ("float", 0.5, 1.0),
    "colsample_bytree": ("float", 0.3, 1.0),
    "reg_lambda": ("float", 1e-3, 10.0, "log"),
    "reg_alpha": ("float", 1e-3, 10.0, "log"),
    "cat_smooth": ("float", 1.0, 100.0, "log"),
    "min_data_per_group": ("int", 5, 200, "log"),
}

_CATBOOST = {
    "learning_rate": ("float", 0.01, 0.3, "log"),
    "depth": ("int", 4, 10),
    "l2_leaf_reg": ("float", 1.0, 30.0, "log"),
    "random_strength": ("float", 0.1, 10.0, "log"),
    "one_hot_max_size": ("categorical", [2, 10]),
}

_RANDOM_FOREST = {
    "model__n_estimators": ("int", 100, 500),
    "model__max_features": ("float", 0.1, 1.0),
    "model__min_samples_leaf": ("int", 1, 20),
    "model__max_depth": ("categorical", [None, 8, 16, 32]),
}

_LINEAR = {
    "classification": {"model__C": ("float", 1e-3, 1e2, "log"),
                       "columns__cat__min_frequency": ("int", 1, 20)},
    "regression": {"model__alpha": ("float", 1e-3, 1e3, "log"),
                   "columns__cat__min_frequency": ("int", 1, 20)},
}


# the regularisation is chosen inside each fit; what is left is how categories are coded
_LINEAR_CV = {"columns__cat__min_frequency": ("int", 1, 20)}


def search_space(name: str, task: str | None = None) -> dict[str, tuple]:
    """Return the default search space of candidate ``name`` (a fresh dict).

    Keys are parameter names of ``default_candidates(task)[name]``.  The ``"linear"`` space
    depends on the task (``C`` of a logistic regression, ``alpha`` of a ridge), so it needs
    ``task``; the others are the same for every task.

    Parameters
    ----------
    name : {"linear", "xgboost", "random_forest", "mlp", "lightgbm", "catboost", \
"extra_trees", "linear_cv"}
    task : {"binary", "multiclass", "regression"}, default=None

    Returns
    -------
    dict of str to tuple

    Examples
    --------
    >>> from foldstack.models import search_space
    >>> search_space("mlp")["lr"]
    ('float', 0.0001, 0.01, 'log')
    >>> sorted(search_space("linear", task="regression"))
    ['columns__cat__min_frequency', 'model__alpha']
    """
    check_candidate_name(name)
    if task is not None:
        check_option("search_space", "task", task, TASKS)
    if name == "linear":
        if task is None:
            raise InvalidParameterError(
                "search_space('linear') depends on the task (C of a logistic regression, "
                "alpha of a ridge); pass task='binary', 'multiclass' or 'regression'.")
        space = _LINEAR["regression" if task == "regression" else "classification"]
    else:
        space = {"mlp": _MLP, "xgboost": _XGBOOST, "random_forest": _RANDOM_FOREST,
                 "lightgbm": _LIGHTGBM, "catboost": _CATBOOST,
                 "extra_trees": _RANDOM_FOREST, "linear_cv": _LINEAR_CV}[name]
    return copy.deepcopy(space)
