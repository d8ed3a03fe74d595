"""What a saved model may ask for: exact names, reviewed here, never read from the file.

A model directory names the classes it is built from.  Loading admits a name only if it is
written out below, letter for letter, and only if importing its module and taking that one
attribute gives back an object whose own ``__module__`` and ``__qualname__`` are that name
(so ``numpy.testing._private.utils.os.PathLike`` or a re-export can never stand in for a
listed class).  Nothing is admitted by prefix, and no function is admitted unless listed
one by one in :data:`FUNCTIONS`.

``tests/persist/test_policy.py`` fits every default candidate, every ensemble and every
scikit-learn estimator listed in :data:`SUPPORTED_SKLEARN` and checks that what they hold
is covered (and round-trips), so this list grows with what foldstack builds, on review.
"""

from __future__ import annotations

import importlib
from typing import Any

from foldstack.exceptions import UnsafeModelError

# Built from a saved state by ``cls.__new__(cls)`` and ``__setstate__`` (or ``__dict__``):
# plain data holders whose construction runs nothing but their own reviewed code.
CLASSES: frozenset[str] = frozenset({
    # foldstack's own estimators, ensembles and the pieces they hold
    "foldstack.models._mlp.TabularMLPClassifier",
    "foldstack.models._mlp.TabularMLPRegressor",
    "foldstack.models._xgb.TabularXGBClassifier",
    "foldstack.models._xgb.TabularXGBRegressor",
    "foldstack.models._lgbm.TabularLGBMClassifier",
    "foldstack.models._lgbm.TabularLGBMRegressor",
    "foldstack.models._catboost.TabularCatBoostClassifier",
    "foldstack.models._catboost.TabularCatBoostRegressor",
    "foldstack.models._preprocess.CategoryDtypeEncoder",
    "foldstack.models._preprocess.XGBoostColumnNames",
    "foldstack.models._preprocess.MLPInputEncoder",
    "foldstack.selection._fold_average.FoldAverage",
    "foldstack.selection._report.CVReport",
    "foldstack.selection._report.CandidateResult",
    "foldstack.ensemble._averaging.AveragingClassifier",
    "foldstack.ensemble._averaging.AveragingRegressor",
    "foldstack.ensemble._stacking.StackingClassifier",
    "foldstack.ensemble._stacking.StackingRegressor",
    "foldstack._auto.AutoEnsembleClassifier",
    "foldstack._auto.AutoEnsembleRegressor",
    # scikit-learn: composition and preprocessing used by the default candidates
    "sklearn.pipeline.Pipeline",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.compose._column_transformer.make_column_selector",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.impute._base.MissingIndicator",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._data.MinMaxScaler",
    "sklearn.preprocessing._data.RobustScaler",
    "sklearn.preprocessing._data.QuantileTransformer",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.preprocessing._label.LabelBinarizer",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.utils._bunch.Bunch",
    # scikit-learn: the estimators of SUPPORTED_SKLEARN and what they hold when fitted
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.linear_model._ridge.RidgeCV",
    "sklearn.linear_model._logistic.LogisticRegressionCV",
    "sklearn.linear_model._ridge.RidgeClassifier",
    "sklearn.linear_model._base.LinearRegression",
    "sklearn.linear_model._coordinate_descent.Lasso",
    "sklearn.linear_model._coordinate_descent.ElasticNet",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._classes.DecisionTreeRegressor",
    "sklearn.tree._classes.ExtraTreeClassifier",
    "sklearn.tree._classes.ExtraTreeRegressor",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._forest.RandomForestRegressor",
    "sklearn.ensemble._forest.ExtraTreesClassifier",
    "sklearn.ensemble._forest.ExtraTreesRegressor",
    "sklearn.naive_bayes.GaussianNB",
    "sklearn.dummy.DummyClassifier",
    "sklearn.dummy.DummyRegressor",
    # xgboost: the scikit-learn wrappers (their booster is stored in xgboost's own format)
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
    # Python and numpy containers and scalar types (also given as ``dtype=`` parameters)
    "collections.OrderedDict",
    "numpy.float64", "numpy.float32", "numpy.float16",
    "numpy.int64", "numpy.int32", "numpy.int16", "numpy.int8",
    "numpy.uint64", "numpy.uint32", "numpy.uint16", "numpy.uint8",
    "numpy.bool", "numpy.str_",
    "builtins.float", "builtins.int", "builtins.bool", "builtins.str", "builtins.object",
})

# Built by calling the class with saved arguments, then ``__setstate__``: Cython types that
# pickle that way; their constructors only allocate.
CONSTRUCTED: frozenset[str] = frozenset({
    "sklearn.tree._tree.Tree",
})

# Functions a model may hold (e.g. ``FunctionTransformer(func=np.log1p)``): each a pure
# numeric transform.  Nothing that imports, evaluates, opens or runs anything.
FUNCTIONS: frozenset[str] = frozenset({
    "numpy.log1p", "numpy.expm1", "numpy.log", "numpy.exp", "numpy.sqrt", "numpy.square",
    "numpy.absolute", "numpy.arcsinh", "numpy.sinh",
})

# torch modules foldstack rebuilds its networks from, and the skorch net that holds them.
MODULE_REGISTRY: frozenset[str] = frozenset({
    "foldstack.models._module.TabularNetwork",
    "foldstack.models._module.MLP",
})
NET_CLASSES: frozenset[str] = frozenset({"foldstack.models._training.TabularNet"})
XGB_CLASSES: frozenset[str] = frozenset({
    "xgboost.sklearn.XGBClassifier", "xgboost.sklearn.XGBRegressor",
    "foldstack.models._xgb.TabularXGBClassifier", "foldstack.models._xgb.TabularXGBRegressor",
})

# A LightGBM booster and a CatBoost model are stored in their library's own text / JSON
# format, checked before the library reads them (foldstack.persist._boosters).
LIGHTGBM_BOOSTER = "lightgbm.basic.Booster"
CATBOOST_MODEL = "catboost.core.CatBoost"

#: scikit-learn estimators (outside foldstack's defaults) that save and load without pickle.
SUPPORTED_SKLEARN: tuple[str, ...] = (
    "LogisticRegression", "LogisticRegressionCV", "Ridge", "RidgeCV", "RidgeClassifier",
    "LinearRegression", "Lasso",
    "ElasticNet", "DecisionTreeClassifier", "DecisionTreeRegressor", "RandomForestClassifier",
    "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor", "GaussianNB",
    "DummyClassifier", "DummyRegressor", "StandardScaler", "MinMaxScaler", "RobustScaler",
    "QuantileTransformer", "OneHotEncoder", "OrdinalEncoder", "SimpleImputer",
    "FunctionTransformer", "Pipeline", "ColumnTransformer",
)

_resolved: dict[str, Any] = {}


def qualname(obj_or_type: Any) -> str:
    """``module.QualName`` of a class (or of an object's class)."""
    t = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    return f"{t.__module__}.{t.__qualname__}"


def function_name(func: Any) -> str:
    """``module.name`` of a function or numpy ufunc (ufuncs report no ``__module__``)."""
    module = getattr(func, "__module__", None) or "numpy"
    return f"{module}.{getattr(func, '__qualname__', getattr(func, '__name__', '?'))}"


def classes_of(estimators: Any) -> frozenset[str]:
    """Names of the estimator classes in ``estimators`` and in their nested parameters.

    What a cache may admit beside :data:`CLASSES`: the classes of the candidates the user
    passed in this process (their code already runs), never names read from a file.
    """
    names: set[str] = set()
    stack = list(estimators)
    while stack:
        est = stack.pop()
        if isinstance(est, type) or not hasattr(est, "get_params"):
            continue
        name = qualname(est)
        if name in names:
            continue
        names.add(name)
        try:
            stack.extend(est.get_params(deep=True).values())
        except TypeError:   # get_params of a class-level call or an odd estimator
            pass
    return frozenset(names)


def resolve(name: Any, allowed: frozenset[str]) -> Any:
    """The class (or listed function) ``name``, if ``allowed`` lists it exactly.

    The module is imported and exactly one attribute taken from it; the object found must
    carry that very name, so re-exports and attribute chains are refused.
    """
    if not isinstance(name, str) or name not in allowed:
        raise UnsafeModelError(
            f"The model file asks for {name!r}, which foldstack does not load from a file "
            "(it admits only the exact classes of its own models and of the scikit-learn "
            "estimators it documents). If you trust the file's source, re-save the model with "
            "allow_pickle=True and load it with allow_pickle=True (--allow-pickle).")
    if name in _resolved:   # checked against ``allowed`` above, every time
        return _resolved[name]
    module, _, attr = name.rpartition(".")
    obj = getattr(importlib.import_module(module), attr, None)
    found = (qualname(obj) if isinstance(obj, type) else
             function_name(obj) if obj is not None else None)
    if found != name:
        raise UnsafeModelError(f"{name!r} does not name a class or function of its own "
                               f"module (found {found!r}); refusing it.")
    _resolved[name] = obj
    return obj
