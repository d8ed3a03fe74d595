"""Averaging and stacking ensembles on binary, multiclass and regression data."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import foldstack as fs
from foldstack.ensemble import (
    AveragingClassifier,
    AveragingRegressor,
    StackingClassifier,
    StackingRegressor,
)
from foldstack.selection import METRICS
from foldstack.selection._report import splitter_data
from tests.helpers import CountingClassifier, count_fits

MODES = ["equal", "optimized", "greedy", "stacking"]


def _classifiers():
    return [("lr", LogisticRegression(max_iter=1000)),
            ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))]


def _regressors():
    return [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=4, random_state=0))]


def _ensemble(mode, classification, **kw):
    members = _classifiers() if classification else _regressors()
    if mode == "stacking":
        cls = StackingClassifier if classification else StackingRegressor
        return cls(members, **kw)
    cls = AveragingClassifier if classification else AveragingRegressor
    return cls(members, weights=mode, **kw)


@pytest.fixture(scope="module")
def data(small_numeric_binary, small_multiclass, small_regression):
    return {"binary": small_numeric_binary, "multiclass": small_multiclass,
            "regression": small_regression}


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("mode", MODES)
def test_every_mode_on_every_task(mode, task, data):
    X, y = data[task]
    classification = task != "regression"
    ens = _ensemble(mode, classification, cv=3).fit(X, y)
    assert ens.n_features_in_ == X.shape[1]
    assert list(ens.named_estimators_) == ["lr" if classification else "ridge", "tree"]
    assert np.isfinite(ens.cv_score_) and np.isfinite(ens.oof_score_)
    report = ens.cv_report_
    assert len(report.splits) == 3 and report.task == task
    if mode != "stacking":
        assert ens.weights_.shape == (2,) and ens.weights_.sum() == pytest.approx(1.0)
        assert (ens.weights_ >= 0).all()
    if classification:
        proba = ens.predict_proba(X)
        assert proba.shape == (len(y), len(np.unique(y)))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert set(ens.predict(X)) <= set(np.unique(y))
        assert list(ens.classes_) == sorted(np.unique(y))
        assert ens.score(X, y) > 0.7
    else:
        assert ens.predict(X).shape == (len(y),)
        assert ens.score(X, y) > 0.5
    # the in-sample OOF score is the mean over folds of the OOF predictions' fold scores
    folds = [METRICS[report.primary](report.y[va], ens.oof_[va], report.classes)
             for _, va in report.splits]
    assert ens.oof_score_ == pytest.approx(np.mean(folds))


@pytest.mark.parametrize("mode", MODES)
def test_ensemble_not_worse_than_worst_member_on_cv(mode, data):
    X, y = data["binary"]
    ens = _ensemble(mode, True, cv=3).fit(X, y)
    board = ens.cv_report_.leaderboard()
    assert ens.cv_score_ >= board["mean_test_roc_auc"].min() - 0.02


@pytest.fixture(scope="module")
def counted(tmp_path_factory, small_numeric_binary):
    X, y = small_numeric_binary
    log = tmp_path_factory.mktemp("fits") / "fits.log"
    candidates = {"a": CountingClassifier(log_path=str(log), C=1.0),
                  "b": CountingClassifier(log_path=str(log), C=0.01)}
    report = fs.selection.cross_validate_candidates(candidates, X, y, cv=4, verbose=0)
    return report, log, X, y


@pytest.mark.parametrize("mode", MODES)
def test_from_report_fits_no_base_model(mode, counted):
    report, log, X, _ = counted
    before = count_fits(log)
    assert before >= 8  # 2 candidates x 4 folds (or more when other tests ran first)
    ens = (StackingClassifier.from_report(report) if mode == "stacking"
           else AveragingClassifier.from_report(report, weights=mode))
    ens.predict_proba(X)
    assert count_fits(log) == before
    assert ens.cv_report_.names == ("a", "b") and len(ens.estimators_) == 2
    assert all(len(m.models) == 4 for m in ens.estimators_)  # the K fold models


def test_fit_cross_validates_once_and_refit_fits_once_more(tmp_path, small_numeric_binary):
    X, y = small_numeric_binary
    log = tmp_path / "fits.log"
    members = [("a", CountingClassifier(log_path=str(log))),
               ("b", CountingClassifier(log_path=str(log), C=0.1))]
    AveragingClassifier(members, weights="greedy", cv=3).fit(X, y)
    assert count_fits(log) == 2 * 3                  # sklearn's stacking: 2 x (3 + 1)
    ens = StackingClassifier(members, cv=3, refit=True).fit(X, y)
    assert count_fits(log) == 2 * 3 + 2 * 3 + 2     # + one refit per member
    assert all(len(m.models) == 1 for m in ens.estimators_)
    report = ens.cv_report_
    again = StackingClassifier.from_report(report, X=X, refit=True)
    assert count_fits(log) == 2 * 3 + 2 * 3 + 2 + 2
    np.testing.assert_allclose(again.predict_proba(X), ens.predict_proba(X))


def test_predictions_compose_fold_averages(counted):
    report, _, X, _ = counted
    avg = AveragingClassifier.from_report(report, weights=[3, 1])
    np.testing.assert_allclose(avg.weights_, [0.75, 0.25])
    expected = (0.75 * report.fold_average("a").predict_proba(X)
                + 0.25 * report.fold_average("b").predict_proba(X))
    np.testing.assert_allclose(avg.predict_proba(X), expected)
    stack = StackingClassifier.from_report(report)
    logit = [np.log(np.clip(p, 1e-5, 1)) for p in
             (report.fold_average(n).predict_proba(X) for n in ("a", "b"))]
    meta = np.column_stack([lp[:, 1] - lp[:, 0] for lp in logit])
    np.testing.assert_allclose(stack.predict_proba(X),
                               stack.final_estimator_.predict_proba(meta))


def test_default_meta_models():
    stack = StackingRegressor(_regressors(), cv=3)
    X = np.random.RandomState(0).normal(size=(120, 3))
    y = X[:, 0] * 3 + np.sin(4 * X[:, 1])
    stack.fit(X, y)
    assert (stack.final_estimator_.coef_ >= 0).all()         # non-negative linear model
    clf = StackingClassifier(_classifiers(), cv=3).fit(X, y > 0)
    assert isinstance(clf.final_estimator_, LogisticRegression)
    assert clf.final_estimator_.C == 1.0


def test_passthrough_needs_and_uses_the_features(small_binary):
    X, y = small_binary                          # a string column: the default meta-model
    encode = make_column_transformer((OneHotEncoder(), ["c"]), remainder="passthrough")
    members = [("lr", make_pipeline(encode, LogisticRegression())),
               ("tree", make_pipeline(clone(encode), DecisionTreeClassifier(max_depth=3)))]
    stack = StackingClassifier(members, cv=3, passthrough=True).fit(X, y)
    # 2 members + 2 numeric features + 3 one-hot levels of "c"
    assert stack.final_estimator_[-1].coef_.shape[1] == 2 + 2 + 3
    report = stack.cv_report_
    with pytest.raises(fs.exceptions.InvalidParameterError, match="passthrough=True.*X=X"):
        StackingClassifier.from_report(report, passthrough=True)
    again = StackingClassifier.from_report(report, passthrough=True, X=X)
    np.testing.assert_allclose(again.predict_proba(X), stack.predict_proba(X))


def _noise_report(seed=0, n=120, k=12):
    """Members that learn nothing (pure-noise target): any weights fitted on OOF overfit."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 10))
    y = rng.randint(0, 2, n)
    cands = {f"t{i}": DecisionTreeClassifier(max_depth=2, max_features=1, random_state=i)
             for i in range(k)}
    return fs.selection.cross_validate_candidates(cands, X, y, cv=5, verbose=0)


def test_honest_score_below_in_sample_score_when_weights_overfit():
    report = _noise_report()
    for ens in (StackingClassifier.from_report(report),
                AveragingClassifier.from_report(report, weights="optimized"),
                AveragingClassifier.from_report(report, weights="greedy")):
        assert ens.cv_score_ < ens.oof_score_ - 0.02, type(ens).__name__
        honest = fs.ensemble.cross_fit_score(ens, report)
        assert honest.shape == (5,) and honest.mean() == pytest.approx(ens.cv_score_)
    equal = AveragingClassifier.from_report(report)
    assert equal.cv_score_ == pytest.approx(equal.oof_score_)   # nothing fitted: no optimism


def test_sklearn_composition_clone_pickle_pipeline_grid(data):
    X, y = data["binary"]
    ens = AveragingClassifier(_classifiers(), weights="greedy", cv=2, scoring="log_loss")
    params = ens.get_params()
    assert params["lr__max_iter"] == 1000 and params["tree"] is ens.estimators[1][1]
    ens.set_params(lr__C=0.5, tree=DecisionTreeClassifier(max_depth=1))
    assert ens.estimators[0][1].C == 0.5 and ens.estimators[1][1].max_depth == 1
    fitted = clone(ens).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(restored.predict_proba(X), fitted.predict_proba(X))
    pipe = make_pipeline(StandardScaler(), clone(ens)).fit(X, y)
    assert pipe.score(X, y) > 0.7
    grid = GridSearchCV(clone(ens), {"weights": ["equal", "greedy"], "lr__C": [0.1, 1.0]},
                        cv=2, scoring="roc_auc").fit(X, y)
    assert set(grid.best_params_) == {"weights", "lr__C"}
    scores = cross_val_score(StackingRegressor(_regressors(), cv=2, scoring="rmse"),
                             *data["regression"], cv=2)
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_clone_of_from_report_ensemble_runs_its_own_cv(counted, tmp_path):
    report, _, X, y = counted
    ens = AveragingClassifier.from_report(report, weights="greedy")
    fresh = clone(ens)
    assert not hasattr(fresh, "weights_") and fresh.weights == "greedy"
    # the report's own splitter, not a new K-fold: the clone refits on the report's folds
    assert isinstance(fresh.cv, StratifiedKFold) and fresh.cv.n_splits == 4
    assert splitter_data(fresh.cv) == splitter_data(report.cv)
    log = tmp_path / "clone.log"
    fresh.set_params(a__log_path=str(log), b__log_path=str(log))
    fresh.fit(X, y)
    assert count_fits(log) == 2 * 4
    np.testing.assert_allclose(fresh.weights_, ens.weights_)


def test_dataframe_columns_kept_and_checked(small_binary):
    X, y = small_binary
    num = X[["a", "b"]]
    ens = AveragingRegressor(_regressors(), cv=2).fit(num, (y == "yes").astype(float))
    assert list(ens.feature_names_in_) == ["a", "b"]
    assert ens.predict(num.iloc[:5]).shape == (5,)
    frame = pd.DataFrame(num)
    assert ens.predict(frame[["a", "b"]]).shape == (len(frame),)
