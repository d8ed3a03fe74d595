"""The default candidates, and the registry that resolves their names (CLI ``--models``).

Every candidate accepts the raw table: numeric columns with NaN, object / string / category
columns with NaN, bool columns.  All preprocessing sits inside the estimator, so it is learned
from the training rows of each fold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from foldstack.data import TASKS
from foldstack.exceptions import InvalidParameterError
from foldstack.models._mlp import TabularMLPClassifier, TabularMLPRegressor
from foldstack.models._preprocess import CategoryDtypeEncoder, XGBoostColumnNames
from foldstack.utils._validation import check_option, did_you_mean


def _columns(numeric: object, categorical: object) -> ColumnTransformer:
    """Route the float columns and the ``category`` columns of CategoryDtypeEncoder's output."""
    return ColumnTransformer(
        [("num", numeric, make_column_selector(dtype_exclude="category")),
         ("cat", categorical, make_column_selector(dtype_include="category"))],
        verbose_feature_names_out=False)


# Leaves per tree of the forests, per task: a bound, so that a fold model's size does not grow
# with the rows (a fully grown tree has about as many leaves as rows).  bench/forest_size.py
# chose the smallest bound whose worst suite set (training-part CV, at most 5,000 rows) loses
# at most 1.5 % against fully grown trees, for random forests and extra trees alike; on most
# classification sets the bounded forests score better.
FOREST_LEAVES = {"binary": 64, "multiclass": 256, "regression": 1024}


def _forest(task: str, random_state: int | None, regressor: type, classifier: type
            ) -> Pipeline:
    """300 trees of ``regressor`` / ``classifier`` (the same settings for random forests and
    extra trees), at most ``FOREST_LEAVES[task]`` leaves each, on median-imputed numbers and
    ordinal-coded categories."""
    leaves = FOREST_LEAVES[task]
    model = (regressor(n_estimators=300, max_features=0.5, max_leaf_nodes=leaves,
                       random_state=random_state)
             if task == "regression" else
             classifier(n_estimators=300, max_features="sqrt", max_leaf_nodes=leaves,
                        random_state=random_state))
    columns = _columns(
        SimpleImputer(strategy="median", add_indicator=True),
        OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                       encoded_missing_value=-1))
    return Pipeline([("encode", CategoryDtypeEncoder()), ("columns", columns), ("model", model)])


def make_linear(task: str, random_state: int | None = 0) -> Pipeline:
    """Logistic regression / ridge on imputed, scaled numbers and one-hot categories."""
    from sklearn.linear_model import LogisticRegression, Ridge

    return _linear(Ridge(alpha=1.0) if task == "regression"
                   else LogisticRegression(C=1.0, max_iter=2000))


#: The regularisation strengths ``linear_cv`` chooses from (``C`` or ``alpha``).
LINEAR_CV_GRID = tuple(float(v) for v in np.logspace(-3, 3, 13))


def make_linear_cv(task: str, random_state: int | None = 0) -> Pipeline:
    """``linear`` with its regularisation chosen by an inner CV of each fit (log loss over
    5 stratified folds for a classifier, efficient leave-one-out for a ridge)."""
    from sklearn.linear_model import LogisticRegressionCV, RidgeCV

    if task == "regression":
        return _linear(RidgeCV(alphas=LINEAR_CV_GRID))
    model = LogisticRegressionCV(Cs=LINEAR_CV_GRID, cv=5, scoring="neg_log_loss",
                                 max_iter=2000, random_state=random_state)
    if "use_legacy_attributes" in model.get_params():
        # scikit-learn >= 1.8 announces plain-array fitted attributes and an explicit L2
        # path: take them now (no FutureWarning); older versions keep their defaults
        model.set_params(l1_ratios=(0.0,), use_legacy_attributes=False)
    return _linear(model)


def _linear(model: BaseEstimator) -> Pipeline:
    columns = _columns(
        make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()),
        OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=3))
    return Pipeline([("encode", CategoryDtypeEncoder()), ("columns", columns), ("model", model)])


def make_xgboost(task: str, random_state: int | None = 0) -> Pipeline:
    """xgboost with native categorical splits and early-stopped rounds (from 1,024 rows)."""
    from foldstack.models._xgb import TabularXGBClassifier, TabularXGBRegressor

    params = dict(n_estimators=300, max_estimators=2000, learning_rate=0.05, max_depth=6,
                  min_child_weight=1.0, subsample=0.8, colsample_bytree=0.8,
                  tree_method="hist", enable_categorical=True, max_cat_to_onehot=8,
                  random_state=random_state)
    model = (TabularXGBRegressor(**params) if task == "regression"
             else TabularXGBClassifier(**params))
    return Pipeline([("encode", CategoryDtypeEncoder()), ("names", XGBoostColumnNames()),
                     ("model", model)])


def make_lightgbm(task: str, random_state: int | None = 0) -> BaseEstimator:
    """LightGBM on the raw table: native categorical splits, early-stopped rounds."""
    from foldstack.models._lgbm import TabularLGBMClassifier, TabularLGBMRegressor

    cls = TabularLGBMRegressor if task == "regression" else TabularLGBMClassifier
    return cls(random_state=random_state)


def make_catboost(task: str, random_state: int | None = 0) -> BaseEstimator:
    """CatBoost on the raw table: ordered target statistics of categories, early stopping."""
    from foldstack.models._catboost import TabularCatBoostClassifier, TabularCatBoostRegressor

    cls = TabularCatBoostRegressor if task == "regression" else TabularCatBoostClassifier
    return cls(random_state=random_state)


def make_random_forest(task: str, random_state: int | None = 0) -> Pipeline:
    """A random forest on median-imputed numbers and ordinal-encoded categories."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    return _forest(task, random_state, RandomForestRegressor, RandomForestClassifier)


def make_extra_trees(task: str, random_state: int | None = 0) -> Pipeline:
    """Extremely randomised trees on median-imputed numbers and ordinal-coded categories."""
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    return _forest(task, random_state, ExtraTreesRegressor, ExtraTreesClassifier)


def make_mlp(task: str, random_state: int | None = 0
             ) -> TabularMLPClassifier | TabularMLPRegressor:
    """foldstack's tabular MLP with its default settings."""
    if task == "regression":
        return TabularMLPRegressor(random_state=random_state)
    return TabularMLPClassifier(random_state=random_state)


#: Registry: candidate name -> factory ``(task, random_state) -> unfitted estimator``.
CANDIDATES: dict[str, Callable[[str, int | None], BaseEstimator]] = {
    "linear": make_linear,
    "xgboost": make_xgboost,
    "random_forest": make_random_forest,
    "mlp": make_mlp,
    "lightgbm": make_lightgbm,
    "catboost": make_catboost,
    "extra_trees": make_extra_trees,
    "linear_cv": make_linear_cv,
}
CANDIDATE_NAMES: tuple[str, ...] = tuple(CANDIDATES)
#: What ``default_candidates`` builds when no names are given.
DEFAULT_NAMES: tuple[str, ...] = ("linear", "xgboost", "random_forest", "mlp")


def check_candidate_name(name: str) -> str:
    """Return ``name`` if it is a registered candidate, else raise InvalidParameterError."""
    if name not in CANDIDATES:
        raise InvalidParameterError(
            f"Unknown candidate {name!r}.{did_you_mean(name, CANDIDATE_NAMES)} The valid names "
            f"are: {', '.join(CANDIDATE_NAMES)}.")
    return name


def default_candidates(task: str, random_state: int | None = 0, *,
                       names: Iterable[str] | None = None) -> dict[str, BaseEstimator]:
    """Return the default candidates for ``task``: name -> unfitted estimator.

    Each accepts the raw table (numeric, object / string / category and bool columns, with
    missing values) and learns its preprocessing in ``fit``:

    - ``"linear"``: logistic regression (ridge for regression) on median-imputed, scaled
      numbers with missing indicators and one-hot categories;
    - ``"xgboost"``: :class:`TabularXGBClassifier` / :class:`TabularXGBRegressor`
      (``tree_method="hist"``, learning rate 0.05, depth 6) with native categorical splits on
      pandas ``category`` columns learned in ``fit`` (unknown levels become missing); from
      1,024 rows the number of rounds is picked on 10 % held-out rows (early stopping, at most
      2,000), then the model is refitted on all rows; smaller tables boost 300 rounds;
    - ``"random_forest"``: a random forest on imputed numbers and ordinal-coded categories;
    - ``"mlp"``: :class:`TabularMLPClassifier` / :class:`TabularMLPRegressor`.

    Registered beside them, built when named: ``"lightgbm"``
    (:class:`TabularLGBMClassifier` / :class:`TabularLGBMRegressor`) and ``"catboost"``
    (:class:`TabularCatBoostClassifier` / :class:`TabularCatBoostRegressor`), both on the
    raw table with native categorical handling and the same early-stopped rounds,
    ``"extra_trees"`` (extremely randomised trees, prepared like the random forest) and
    ``"linear_cv"`` (``"linear"`` whose ``C`` / ``alpha`` is chosen in each fit by an inner
    CV over :data:`LINEAR_CV_GRID`).

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
    random_state : int or None, default=0
        Seed of every candidate.
    names : iterable of str, default=None
        Build these candidates (in this order), e.g. ``["linear", "lightgbm"]``; None: the
        four above (:data:`DEFAULT_NAMES`).  An
        unknown name raises :class:`~foldstack.exceptions.InvalidParameterError` listing the
        valid ones.

    Returns
    -------
    dict of str to estimator

    Examples
    --------
    >>> from foldstack.models import default_candidates
    >>> sorted(default_candidates("binary"))
    ['linear', 'mlp', 'random_forest', 'xgboost']
    >>> list(default_candidates("regression", names=["xgboost"]))
    ['xgboost']
    """
    check_option("default_candidates", "task", task, TASKS)
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    chosen = DEFAULT_NAMES if names is None else [check_candidate_name(n) for n in names]
    return {name: CANDIDATES[name](task, random_state) for name in chosen}
