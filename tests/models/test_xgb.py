"""TabularXGBClassifier / TabularXGBRegressor: labels, early-stopped rounds, conventions."""

import math
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from foldstack.exceptions import InvalidParameterError
from foldstack.models import TabularXGBClassifier, TabularXGBRegressor, default_candidates

_OBJECTIVE = ("xgboost sets objective='multi:softprob' in fit for more than two classes; "
              "its booster keeps that objective")


@parametrize_with_checks(
    [TabularXGBClassifier(n_estimators=10, max_estimators=30),
     TabularXGBRegressor(n_estimators=10, max_estimators=30)],
    expected_failed_checks=lambda est: {"check_estimators_overwrite_params": _OBJECTIVE,
                                        "check_dont_overwrite_parameters": _OBJECTIVE}
    if isinstance(est, TabularXGBClassifier) else {})
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def noisy_binary():
    """1,500 rows where only the first column matters: many rounds overfit."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 8))
    y = np.where(X[:, 0] + rng.normal(scale=1.5, size=1500) > 0, "yes", "no")
    return X, y


def test_string_labels_round_trip():
    X = np.arange(40.0).reshape(20, 2)
    y = np.array(["no"] * 10 + ["yes"] * 10)
    clf = TabularXGBClassifier(n_estimators=5).fit(X, y)
    assert clf.classes_.tolist() == ["no", "yes"]
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert clf.predict_proba(X).shape == (20, 2)


def test_auto_stops_early_from_1024_rows_and_refits_on_all_rows(noisy_binary):
    X, y = noisy_binary
    clf = TabularXGBClassifier(learning_rate=0.3, random_state=0).fit(X, y)
    assert clf.early_stopping_
    assert 1 <= clf.validation_rounds_ < 2000
    assert clf.n_rounds_ == math.ceil(clf.validation_rounds_ / 0.9)
    assert clf.get_booster().num_boosted_rounds() == clf.n_rounds_
    # the parameters are the user's again after fit (sklearn convention)
    assert clf.n_estimators is None and clf.early_stopping_rounds is None
    assert clf.max_estimators == 2000


def test_early_stopping_beats_a_fixed_long_run_on_noisy_data(noisy_binary):
    from sklearn.metrics import roc_auc_score

    X, y = noisy_binary
    X_test = np.random.default_rng(1).normal(size=(2000, 8))
    truth = X_test[:, 0] > 0
    stopped = TabularXGBClassifier(learning_rate=0.3, random_state=0).fit(X, y)
    long = TabularXGBClassifier(learning_rate=0.3, n_estimators=500, early_stopping=False,
                                random_state=0).fit(X, y)
    assert long.n_rounds_ == 500 and stopped.n_rounds_ < 500
    assert (roc_auc_score(truth, stopped.predict_proba(X_test)[:, 1])
            > roc_auc_score(truth, long.predict_proba(X_test)[:, 1]))


def test_small_tables_boost_n_estimators_on_every_row():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 3)), rng.normal(size=300)
    reg = TabularXGBRegressor(n_estimators=40).fit(X, y)
    assert not reg.early_stopping_ and reg.validation_rounds_ is None and reg.n_rounds_ == 40
    forced = TabularXGBRegressor(n_estimators=40, early_stopping=True, learning_rate=0.3,
                                 random_state=0).fit(X, y)
    assert forced.early_stopping_ and forced.validation_rounds_ < 2000


def test_a_class_with_one_row_falls_back_to_a_fixed_number_of_rounds():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.array(["a"] * 30 + ["b"] * 29 + ["c"])
    clf = TabularXGBClassifier(n_estimators=7, early_stopping=True).fit(X, y)
    assert not clf.early_stopping_ and clf.n_rounds_ == 7
    assert clf.classes_.tolist() == ["a", "b", "c"]


def test_an_eval_set_of_the_user_means_xgboosts_own_early_stopping(noisy_binary):
    X, y = noisy_binary
    clf = TabularXGBClassifier(n_estimators=300, early_stopping_rounds=5, learning_rate=0.3)
    clf.fit(X[:1000], y[:1000], eval_set=[(X[1000:], y[1000:])], verbose=False)
    assert not clf.early_stopping_ and clf.best_iteration < 299
    assert set(clf.predict(X)) <= {"no", "yes"}


def test_sample_weight_reaches_both_fits():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1200, 2))
    y = np.where(X[:, 0] > 0, 10.0, 0.0) + rng.normal(size=1200)
    weight = np.where(X[:, 1] > 0, 1.0, 1e-3)
    plain = TabularXGBRegressor(random_state=0).fit(X, y)
    weighted = TabularXGBRegressor(random_state=0).fit(X, y, sample_weight=weight)
    assert weighted.early_stopping_
    assert not np.allclose(plain.predict(X), weighted.predict(X))


@pytest.mark.parametrize("param, value, words", [
    ("early_stopping", "yes", "`early_stopping` must be"),
    ("validation_fraction", 1.0, "`validation_fraction` must be"),
    ("max_estimators", 0, "`max_estimators` must be"),
])
def test_bad_parameters_are_named(param, value, words):
    X, y = np.zeros((10, 2)), np.arange(10.0)
    with pytest.raises(InvalidParameterError, match=words):
        TabularXGBRegressor(**{param: value}).fit(X, y)


def test_predicting_before_fit_says_so():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TabularXGBClassifier().predict(np.zeros((2, 2)))


def test_clone_and_pickle_keep_the_parameters_and_predictions(noisy_binary):
    X, y = noisy_binary
    clf = TabularXGBClassifier(max_estimators=50, learning_rate=0.3, max_depth=3)
    assert clone(clf).get_params() == clf.get_params()
    clf.fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X))
    assert again.n_rounds_ == clf.n_rounds_


def test_the_default_candidate_uses_it():
    pipe = default_candidates("regression", names=["xgboost"])["xgboost"]
    model = pipe.named_steps["model"]
    assert isinstance(model, TabularXGBRegressor)
    assert (model.early_stopping, model.n_estimators, model.max_estimators) == ("auto", 300, 2000)
    assert "early_stopping" not in model.get_xgb_params()  # not passed to the booster


@pytest.mark.parametrize("kind", ["frame", "array", "list"])
def test_early_stopping_takes_frames_arrays_and_lists_without_unused_parameter_warnings(
        kind, recwarn):
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1100, 2))
    y = X[:, 0] + 0.1 * rng.normal(size=1100)
    w = np.ones(1100)
    data = {"frame": pd.DataFrame(X, columns=["a", "b"]), "array": X, "list": X.tolist()}[kind]
    weight = w.tolist() if kind == "list" else w
    reg = TabularXGBRegressor(max_estimators=20, early_stopping_rounds=5)
    reg.fit(data, y, sample_weight=weight)
    assert reg.early_stopping_ and 1 <= reg.validation_rounds_ <= 20
    assert not {"early_stopping", "validation_fraction", "max_estimators"} & set(
        reg.get_xgb_params())
    assert not [w for w in recwarn if "not used" in str(w.message)]
