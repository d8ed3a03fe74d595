"""The trust policy covers what foldstack builds, and only names it can stand behind.

Every default candidate, every ensemble and every scikit-learn estimator the policy lists as
supported saves without a pickle and loads back with identical predictions.
"""

import types

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.utils import all_estimators

import foldstack as fs
from foldstack.persist import SUPPORTED_SKLEARN, load_model, save_model
from foldstack.persist import _policy as policy


def _table(task, n=160, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice(["x", "y", "z"], size=n)})
    X.loc[::17, "a"] = np.nan
    signal = X["a"].fillna(0) + (X["c"] == "x") + 0.3 * rng.normal(size=n)
    if task == "regression":
        return X, signal.to_numpy()
    if task == "binary":
        return X, np.where(signal > 0.3, "yes", "no")
    return X, np.array(["lo", "mid", "hi"])[np.digitize(signal, [0.0, 0.8])]


def _small(cands):
    cands["mlp"].set_params(max_epochs=3, width=16)
    cands["random_forest"].set_params(model__n_estimators=10)
    if "extra_trees" in cands:
        cands["extra_trees"].set_params(model__n_estimators=10)
    cands["xgboost"].set_params(model__n_estimators=10)
    for name in ("lightgbm", "catboost"):
        if name in cands:
            cands[name].set_params(n_estimators=10)
    return cands


def _same_predictions(model, back, X):
    # CatBoost's JSON export prints leaf values to the last bit but one: 1e-16 apart
    if getattr(model, "classes_", None) is not None:
        np.testing.assert_allclose(back.predict_proba(X), model.predict_proba(X), rtol=1e-12,
                                   atol=1e-15)
        np.testing.assert_array_equal(back.predict(X), model.predict(X))
    else:
        np.testing.assert_allclose(back.predict(X), model.predict(X), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_every_default_candidate_and_ensemble_round_trips_without_pickle(task, tmp_path):
    X, y = _table(task)
    report = fs.selection.cross_validate_candidates(
        _small(fs.models.default_candidates(task, names=fs.models.CANDIDATE_NAMES)), X, y,
        cv=3, verbose=0)
    regression = task == "regression"
    avg = fs.ensemble.AveragingRegressor if regression else fs.ensemble.AveragingClassifier
    stack = fs.ensemble.StackingRegressor if regression else fs.ensemble.StackingClassifier
    models = {name: report.fold_average(name) for name in report.names}
    for weights in ("equal", "optimized", "greedy"):
        models[weights] = avg.from_report(report, weights=weights)
    models["stacking"] = stack.from_report(report)
    for name, model in models.items():
        path = save_model(model, tmp_path / name)
        assert not any(p.suffix == ".pkl" for p in path.iterdir()), name
        _same_predictions(model, load_model(path), X.head(50))


def test_auto_ensemble_round_trips(tmp_path):
    X, y = _table("binary")
    auto = fs.AutoEnsembleClassifier(
        candidates=_small(fs.models.default_candidates("binary", names=None)), cv=3,
        verbose=0).fit(X, y)
    _same_predictions(auto, load_model(save_model(auto, tmp_path / "auto")), X.head(40))


def test_an_ensemble_stores_each_member_once(tmp_path):
    X, y = _table("binary")
    cands = fs.models.default_candidates("binary", names=["linear", "random_forest"])
    cands["random_forest"].set_params(model__n_estimators=10)
    if "extra_trees" in cands:
        cands["extra_trees"].set_params(model__n_estimators=10)
    report = fs.selection.cross_validate_candidates(cands, X, y, cv=3, verbose=0)
    stack = fs.ensemble.StackingClassifier.from_report(report)
    back = load_model(save_model(stack, tmp_path / "s"))
    for a, b in zip(back.estimators_, back.named_estimators_.values()):
        assert a is b   # one object, as it was before saving


SKLEARN = dict(all_estimators())


@pytest.mark.parametrize("name", SUPPORTED_SKLEARN)
def test_documented_scikit_learn_estimators_round_trip(name, tmp_path):
    X, y = _table("binary")
    Xn = X[["a", "b"]].fillna(0.0).abs().to_numpy()
    cls = SKLEARN[name]
    if name == "Pipeline":
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler
        est = sklearn.pipeline.make_pipeline(StandardScaler(), LogisticRegression())
    elif name == "ColumnTransformer":
        from sklearn.compose import make_column_transformer
        from sklearn.preprocessing import OneHotEncoder
        est = make_column_transformer((OneHotEncoder(), ["c"]), remainder="passthrough")
        Xn = X.fillna(0.0)
    elif name == "FunctionTransformer":
        est = cls(np.log1p)
    elif name == "OneHotEncoder":
        est, Xn = cls(sparse_output=False), X[["c"]]
    elif name == "OrdinalEncoder":
        est, Xn = cls(), X[["c"]]
    elif name == "LogisticRegressionCV":   # as linear_cv builds it: plain array attributes
        est = cls(cv=3, l1_ratios=(0.0,), scoring="neg_log_loss", use_legacy_attributes=False)
    else:
        est = cls()
    y_fit = y if sklearn.base.is_classifier(est) else (
        (y == "yes").astype(float) if sklearn.base.is_regressor(est) else None)
    est.fit(Xn, y_fit) if y_fit is not None else est.fit(Xn)
    back = load_model(save_model(est, tmp_path / name))
    method = "predict" if hasattr(est, "predict") else "transform"
    out, again = getattr(est, method)(Xn), getattr(back, method)(Xn)
    np.testing.assert_array_equal(np.asarray(again), np.asarray(out))


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_logistic_regression_cv_with_its_legacy_dict_attributes_round_trips(tmp_path):
    from sklearn.linear_model import LogisticRegressionCV

    X, y = _table("binary")
    Xn = X[["a", "b"]].fillna(0.0).to_numpy()
    est = LogisticRegressionCV(cv=3).fit(Xn, y)
    assert isinstance(est.coefs_paths_, dict)
    back = load_model(save_model(est, tmp_path / "lrcv"))
    np.testing.assert_array_equal(back.predict_proba(Xn), est.predict_proba(Xn))


@pytest.mark.parametrize("names, kind", [(policy.CLASSES, type), (policy.CONSTRUCTED, type),
                                         (policy.MODULE_REGISTRY, type),
                                         (policy.NET_CLASSES, type),
                                         (policy.XGB_CLASSES, type),
                                         (policy.FUNCTIONS, (types.FunctionType, np.ufunc))])
def test_every_listed_name_is_exactly_what_it_says(names, kind):
    for name in names:
        obj = policy.resolve(name, names)
        assert isinstance(obj, kind), name


def test_unlisted_and_traversing_names_are_refused():
    for name in ("numpy.testing._private.utils.runstring", "numpy.testing._private.utils.os",
                 "builtins.eval", "sklearn.pipeline.Pipeline.__init__", "numpyro.infer.MCMC",
                 "sklearn.", 42, None):
        with pytest.raises(fs.exceptions.UnsafeModelError):
            policy.resolve(name, policy.CLASSES | policy.FUNCTIONS)
