"""Every mistake gets a typed error (or warning) that names the problem and the fix."""

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import foldstack as fs
from foldstack.ensemble import (
    AveragingClassifier,
    AveragingRegressor,
    StackingClassifier,
    StackingRegressor,
)
from foldstack.exceptions import (
    CandidateFailedError,
    CandidateFailedWarning,
    ColumnNotFoundError,
    InvalidParameterError,
)
from tests.helpers import FailOnRowClassifier

LR = ("lr", LogisticRegression())
TREE = ("tree", DecisionTreeClassifier(max_depth=2, random_state=0))


@pytest.fixture(scope="module")
def xy():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"row": np.arange(90.0), "a": rng.normal(size=90),
                      "b": rng.normal(size=90)})
    y = np.where(X["a"] + 0.3 * rng.normal(size=90) > 0, "yes", "no")
    return X, y


@pytest.mark.parametrize("cls, params, match", [
    (AveragingClassifier, {"estimators": []}, "empty; give at least one"),
    (StackingClassifier, {"estimators": [LR, ("lr", Ridge())]}, r"unique; repeated: \['lr'\]"),
    (AveragingClassifier, {"weights": "greed"}, "Did you mean 'greedy'"),
    (AveragingClassifier, {"weights": [0.5]}, "2 estimators but 1 weights"),
    (AveragingClassifier, {"weights": [0.5, -1.0]}, "non-negative"),
    (AveragingClassifier, {"weights": [0, 0]}, "sum to zero"),
    (AveragingClassifier, {"estimators": [LR, ("ridge", Ridge())]},
     "mix classifiers \\('lr'\\) and regressors \\('ridge'\\)"),
    (StackingClassifier, {"estimators": [("ridge", Ridge())]},
     "StackingClassifier combines classifiers, but 'ridge' is not; use StackingRegressor"),
    (AveragingRegressor, {"estimators": [LR]}, "use AveragingClassifier"),
    (AveragingClassifier, {"estimators": [("cv", LogisticRegression())]}, "parameter names"),
    (AveragingClassifier, {"estimators": [("a", "not a model")]}, "not a scikit-learn"),
    (StackingClassifier, {"final_estimator": "lr"}, "final_estimator"),
    (AveragingClassifier, {"cv": 1}, "`cv` must be"),
    (AveragingClassifier, {"greedy_iter": 0}, "greedy_iter"),
    (AveragingClassifier, {"n_jobs": 0},
     r"AveragingClassifier: `n_jobs` must be None or a non-zero int.*-1: all cores.*got 0"),
    (StackingClassifier, {"n_jobs": 0}, r"StackingClassifier: `n_jobs` must be None or a "
                                        r"non-zero int"),
])
def test_invalid_parameters_raise_at_fit(cls, params, match, xy):
    est = cls(**{"estimators": [LR, TREE], **params})
    with pytest.raises(InvalidParameterError, match=match):
        est.fit(*xy)


def test_failed_member_is_left_out_with_a_warning_and_none_left_is_an_error(xy):
    X, y = xy
    bad = ("bad", FailOnRowClassifier(marker=0))
    with pytest.warns(CandidateFailedWarning, match="did not finish: 'bad'.*boom"):
        ens = AveragingClassifier([bad, ("lr", LogisticRegression())], weights=[1, 1],
                                  cv=3).fit(X, y)
    assert list(ens.named_estimators_) == ["lr"] and ens.weights_.tolist() == [1.0]
    report = ens.cv_report_
    with pytest.warns(CandidateFailedWarning, match="left out of the ensemble: 'bad'"):
        again = StackingClassifier.from_report(report)
    assert list(again.named_estimators_) == ["lr"]
    with pytest.warns(CandidateFailedWarning), \
            pytest.raises(CandidateFailedError, match="every estimator failed.*'bad'.*boom"):
        StackingClassifier([bad], cv=3).fit(X, y)


def test_from_report_errors(xy):
    X, y = xy
    report = fs.selection.cross_validate_candidates(
        {"lr": LogisticRegression(), "tree": TREE[1]}, X, y, cv=3, verbose=0)
    with pytest.raises(InvalidParameterError, match="no candidate named 'tre'.*Did you mean "
                                                    "'tree'.*Candidates: lr, tree"):
        AveragingClassifier.from_report(report, names=["lr", "tre"])
    with pytest.raises(InvalidParameterError, match="report is for binary; use "
                                                    "StackingClassifier.from_report"):
        StackingRegressor.from_report(report)
    with pytest.raises(InvalidParameterError, match="unknown parameter 'weight'.*Did you mean "
                                                    "'weights'"):
        AveragingClassifier.from_report(report, weight="greedy")
    with pytest.raises(InvalidParameterError, match="refit=True.*X=X"):
        AveragingClassifier.from_report(report, refit=True)
    with pytest.raises(fs.exceptions.DataError, match="X has 10 rows but the report.*90"):
        AveragingClassifier.from_report(report, refit=True, X=X.head(10))
    with pytest.raises(InvalidParameterError, match="CVReport"):
        AveragingClassifier.from_report({"lr": 1})


def test_predict_before_fit_and_missing_columns(xy):
    X, y = xy
    ens = AveragingClassifier([LR, TREE], cv=3)
    with pytest.raises(NotFittedError):
        ens.predict(X)
    with pytest.raises(NotFittedError):
        fs.AutoEnsembleRegressor().predict(X)
    ens.fit(X, y)
    with pytest.raises(ColumnNotFoundError, match=r"lacks column\(s\) \['b'\].*same columns"):
        ens.predict(X.drop(columns="b"))
    with pytest.warns(UserWarning, match="feature names"), \
            pytest.raises(ValueError, match="X has 2 features"):
        ens.predict(X.to_numpy()[:, :2])


def test_regression_target_must_be_finite_and_y_required():
    X = np.random.RandomState(0).normal(size=(20, 2))
    y = np.arange(20.0)
    y[3] = np.inf
    with pytest.raises(fs.exceptions.DataError, match="infinity"):
        StackingRegressor([("lin", LinearRegression())], cv=2).fit(X, y)
    with pytest.raises(InvalidParameterError, match="requires y"):
        AveragingRegressor([("lin", LinearRegression())]).fit(X, None)


def test_autoensemble_bad_ensembles(xy):
    with pytest.raises(InvalidParameterError, match="Did you mean 'stacking'"):
        fs.AutoEnsembleClassifier([LR, TREE], ensembles=("equal", "stackng")).fit(*xy)
    with pytest.raises(InvalidParameterError, match="repeats"):
        fs.AutoEnsembleClassifier([LR, TREE], ensembles=("equal", "equal")).fit(*xy)


@pytest.mark.parametrize("auto", [fs.AutoEnsembleClassifier, fs.AutoEnsembleRegressor])
def test_autoensemble_n_jobs_zero(auto, xy):
    X, y = xy
    members = [LR, TREE] if auto is fs.AutoEnsembleClassifier else [("lin", LinearRegression())]
    with pytest.raises(InvalidParameterError, match=rf"{auto.__name__}: `n_jobs` must be None "
                                                    r"or a non-zero int.*got 0"):
        auto(members, n_jobs=0).fit(X, y if auto is fs.AutoEnsembleClassifier else X["a"])


def test_candidate_with_non_finite_scores_is_never_chosen_or_combined():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    y = X[:, 0] * 3 + 0.1 * rng.normal(size=120)
    # predictions of 1e200: finite, but their squared errors overflow (RMSE inf)
    members = [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3, random_state=0)),
               ("huge", DummyRegressor(strategy="constant", constant=1e200))]
    with pytest.warns(CandidateFailedWarning, match=r"'huge' \(fold 0: ValueError: The "
                                                    r"validation score is not finite"):
        auto = fs.AutoEnsembleRegressor(members, cv=3).fit(X, y)
    assert auto.leaderboard_.loc["huge", "status"] == "failed"
    assert auto.best_name_ != "huge"
    assert auto.ensembles_ and all(list(e.named_estimators_) == ["ridge", "tree"]
                                   for e in auto.ensembles_.values())
    assert np.isfinite(auto.predict(X)).all()
    with pytest.warns(CandidateFailedWarning, match="left out of the ensemble: 'huge'.*not "
                                                    "finite"):
        ens = StackingRegressor.from_report(auto.cv_report_)
    assert list(ens.named_estimators_) == ["ridge", "tree"]
