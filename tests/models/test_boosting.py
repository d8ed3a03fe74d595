"""LightGBM and CatBoost candidates: the raw table, early-stopped rounds, threads, conventions."""

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

import foldstack as fs
from foldstack.exceptions import InvalidParameterError
from foldstack.models import (
    TabularCatBoostClassifier,
    TabularCatBoostRegressor,
    TabularLGBMClassifier,
    TabularLGBMRegressor,
)
from foldstack.models._boosting import n_threads

CLASSIFIERS = [TabularLGBMClassifier, TabularCatBoostClassifier]
REGRESSORS = [TabularLGBMRegressor, TabularCatBoostRegressor]


def _fast(cls, **kw):
    return cls(n_estimators=10, max_estimators=40, random_state=0, **kw)


_ORDERED = ("CatBoost's ordered boosting draws random permutations of the rows, so a row "
            "weighted 2 and the same row twice train different models")


@parametrize_with_checks(
    [_fast(c, learning_rate=0.3) for c in CLASSIFIERS + REGRESSORS],
    expected_failed_checks=lambda est: {"check_sample_weight_equivalence_on_dense_data":
                                        _ORDERED} if "CatBoost" in type(est).__name__ else {})
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def levels():
    """1,500 rows whose target depends on a 12-level category in no order (native splits
    find it; its level codes as numbers do not) and on one number; with missing values."""
    rng = np.random.default_rng(0)
    n = 1500
    effect = dict(zip([f"L{i}" for i in range(12)], rng.permutation([-1.5, 1.5] * 6)))
    cat = rng.choice(list(effect), n).astype(object)
    x = rng.normal(size=n)
    signal = np.array([effect[c] for c in cat]) + x + rng.normal(scale=0.7, size=n)
    x[rng.random(n) < 0.1] = np.nan
    cat[rng.random(n) < 0.05] = None
    X = pd.DataFrame({"x": x, "cat": cat, "flag": rng.random(n) < 0.5})
    return X, np.where(signal > 0, "yes", "no"), signal


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_categories_are_split_natively_and_unseen_levels_predict(cls, levels):
    X, y, _ = levels
    clf = cls(random_state=0).fit(X.iloc[:1200], y[:1200])
    assert clf.categorical_columns_ == [1, 2]
    assert clf.classes_.tolist() == ["no", "yes"]
    auc = roc_auc_score(y[1200:] == "yes", clf.predict_proba(X.iloc[1200:])[:, 1])
    assert auc > 0.85, auc
    new = X.iloc[[0, 0, 0]].assign(cat=["never-seen", None, "L0"])
    proba = clf.predict_proba(new)
    assert proba.shape == (3, 2) and np.allclose(proba.sum(axis=1), 1.0)
    # an unseen level is a missing value to the model
    np.testing.assert_allclose(proba[0], proba[1])


@pytest.mark.parametrize("cls", REGRESSORS)
def test_regressors_take_the_raw_table(cls, levels):
    X, _, signal = levels
    reg = cls(random_state=0).fit(X, signal)
    pred = reg.predict(X)
    assert pred.dtype == np.float64 and pred.shape == (len(X),)
    assert np.corrcoef(pred, signal)[0, 1] > 0.8


@pytest.mark.parametrize("cls", CLASSIFIERS + REGRESSORS)
def test_auto_stops_early_from_1024_rows_and_refits_on_all_rows(cls, levels):
    X, y, signal = levels
    target = signal if cls in REGRESSORS else y
    model = cls(learning_rate=0.3, random_state=0).fit(X, target)
    assert model.early_stopping_
    assert 1 <= model.validation_rounds_ < 2000
    assert model.n_rounds_ == math.ceil(model.validation_rounds_ / 0.9)
    small = cls(n_estimators=7, random_state=0).fit(X.iloc[:500], target[:500])
    assert not small.early_stopping_ and small.validation_rounds_ is None
    assert small.n_rounds_ == 7


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_multiclass_with_string_labels(cls, levels):
    X, _, signal = levels
    y = np.array(["lo", "mid", "hi"])[np.digitize(signal, [-1.0, 1.0])]
    clf = _fast(cls).fit(X, y)
    assert clf.classes_.tolist() == ["hi", "lo", "mid"]
    assert clf.predict_proba(X.head()).shape == (5, 3)
    assert set(clf.predict(X)) <= {"hi", "lo", "mid"}


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_sample_weight_takes_effect(cls, levels):
    X, y, _ = levels
    heavy = np.where(y == "yes", 20.0, 1.0)
    plain = _fast(cls, early_stopping=False).fit(X, y).predict_proba(X)[:, 1].mean()
    weighted = _fast(cls, early_stopping=False).fit(X, y, sample_weight=heavy)
    assert weighted.predict_proba(X)[:, 1].mean() > plain + 0.1
    with pytest.raises(ValueError, match="sample_weight has 3 values for 1500 rows"):
        _fast(cls).fit(X, y, sample_weight=[1, 2, 3])


@pytest.mark.parametrize("cls", CLASSIFIERS + REGRESSORS)
def test_clone_pickle_and_persist_keep_the_predictions(cls, levels, tmp_path):
    X, y, signal = levels
    model = _fast(cls).fit(X, signal if cls in REGRESSORS else y)
    method = "predict" if cls in REGRESSORS else "predict_proba"
    expected = getattr(model, method)(X)
    assert clone(model).get_params() == model.get_params()
    np.testing.assert_array_equal(getattr(pickle.loads(pickle.dumps(model)), method)(X),
                                  expected)
    path = fs.persist.save_model(model, tmp_path / "model")
    assert not any(p.suffix == ".pkl" for p in path.iterdir())
    np.testing.assert_allclose(getattr(fs.persist.load_model(path), method)(X), expected)


@pytest.mark.parametrize("param, value, words", [
    ("learning_rate", 0.0, "learning_rate"), ("early_stopping", "yes", "early_stopping"),
    ("validation_fraction", 1.0, "validation_fraction"), ("n_estimators", 0, "n_estimators")])
@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_bad_parameters_are_named(cls, param, value, words, levels):
    X, y, _ = levels
    with pytest.raises(InvalidParameterError, match=words):
        cls(**{param: value}).fit(X, y)


def test_one_class_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="at least two classes"):
        TabularLGBMClassifier().fit(np.zeros((5, 2)), ["a"] * 5)


def test_threads_follow_n_jobs_and_parallel_cross_validation_shares_the_cores():
    import os

    cores = os.cpu_count() or 1
    assert n_threads(None) == n_threads(-1) == cores
    assert n_threads(3) == 3 and n_threads(-2) == max(1, cores - 1)
    # parallel cross-validation gives every unset n_jobs its share of the cores
    from foldstack.utils._parallel import limited_threads

    est = TabularLGBMClassifier()
    with limited_threads(1, est) as limited:
        assert limited.n_jobs == 1


@pytest.mark.parametrize("name", ["lightgbm", "catboost"])
def test_cross_validation_of_the_registered_candidate(name, levels):
    X, y, _ = levels
    cand = fs.models.default_candidates("binary", names=[name])[name]
    report = fs.selection.cross_validate_candidates(
        {name: cand.set_params(n_estimators=20)}, X.iloc[:400], y[:400], cv=3, n_jobs=2,
        verbose=0)
    assert report.results[name].status == "ok"
    assert report.results[name].fold_scores("test")[report.primary].mean() > 0.75
