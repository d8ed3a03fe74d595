"""Ensembles as leaderboard rows (honest scores, kind="ensemble") and the diversity views."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import foldstack as fs
from foldstack.ensemble import (
    AveragingClassifier,
    StackingClassifier,
    StackingRegressor,
    add_to_report,
    cross_fit_score,
)
from foldstack.exceptions import DataError, InvalidParameterError


@pytest.fixture(scope="module")
def report(small_multiclass):
    X, y = small_multiclass
    cands = {"lr": LogisticRegression(max_iter=1000), "nb": GaussianNB(),
             "tree": DecisionTreeClassifier(max_depth=3, random_state=0)}
    return fs.selection.cross_validate_candidates(cands, X, y, cv=4, verbose=0)


def test_ensemble_rows_carry_honest_fold_scores(report):
    greedy = AveragingClassifier.from_report(report, weights="greedy")
    stack = StackingClassifier.from_report(report, names=["lr", "tree"])
    full = add_to_report(add_to_report(report, greedy), stack, name="stack_lr_tree")
    board = full.leaderboard()
    assert board.loc["greedy", "kind"] == "ensemble" and board.loc["lr", "kind"] == "model"
    assert set(board.index) == {"lr", "nb", "tree", "greedy", "stack_lr_tree"}
    assert (board["status"] == "ok").all()
    # the row's mean validation score is the honest (cross-fitted) one, its train score the
    # in-sample one
    assert board.loc["greedy", "mean_test_log_loss"] == pytest.approx(greedy.cv_score_)
    assert board.loc["greedy", "mean_train_log_loss"] == pytest.approx(greedy.oof_score_)
    np.testing.assert_allclose(cross_fit_score(stack, report),
                               full.results["stack_lr_tree"].fold_scores("test")["log_loss"])
    # fold scores are recomputable from the row's (cross-fitted) OOF and the shared folds
    res = full.results["greedy"]
    for k, (_, va) in enumerate(report.splits):
        got = fs.selection.METRICS["accuracy"](report.y[va], res.oof[va], report.classes)
        assert res.fold_scores("test").loc[k, "accuracy"] == pytest.approx(got)
    assert res.fold_models is None
    cmp = full.compare("greedy", "tree")          # paired on the same folds
    assert cmp.n_folds == 4 if hasattr(cmp, "n_folds") else True
    assert full.best(kind="ensemble") in {"greedy", "stack_lr_tree"}


def test_add_to_report_refuses_other_folds_and_duplicate_names(report, small_multiclass):
    X, y = small_multiclass
    other = StackingClassifier([("nb", GaussianNB()), ("lr", LogisticRegression())],
                               cv=3).fit(X, y)
    with pytest.raises(DataError, match="other rows, folds or metrics"):
        add_to_report(report, other)
    greedy = AveragingClassifier.from_report(report, weights="greedy")
    with pytest.raises(InvalidParameterError, match="already has a candidate named 'greedy'"):
        add_to_report(add_to_report(report, greedy), greedy)


def test_diversity_correlation_and_disagreement(report):
    corr = report.correlation()
    assert list(corr.index) == ["lr", "nb", "tree"]
    np.testing.assert_allclose(np.diag(corr), 1.0)
    np.testing.assert_allclose(corr, corr.T)
    assert ((corr.to_numpy() > -1) & (corr.to_numpy() <= 1 + 1e-12)).all()
    dis = report.disagreement()
    np.testing.assert_allclose(np.diag(dis), 0.0)
    np.testing.assert_allclose(dis, dis.T)
    labels = {n: report.oof[n].argmax(axis=1) for n in report.names}
    assert dis.loc["lr", "tree"] == pytest.approx(np.mean(labels["lr"] != labels["tree"]))


def test_diversity_of_identical_and_regression_candidates(small_regression):
    X, y = small_regression
    cands = {"ridge": Ridge(), "ridge_again": Ridge(), "knn": KNeighborsRegressor(),
             "tree": DecisionTreeRegressor(max_depth=3, random_state=0)}
    rep = fs.selection.cross_validate_candidates(cands, X, y, cv=3, verbose=0)
    corr = rep.correlation()
    assert corr.loc["ridge", "ridge_again"] == pytest.approx(1.0)
    assert corr.loc["ridge", "tree"] < 0.999
    with pytest.raises(InvalidParameterError, match="classification"):
        rep.disagreement()
    stack = StackingRegressor.from_report(rep)
    assert stack.cv_score_ <= rep.leaderboard()["mean_test_rmse"].max()
