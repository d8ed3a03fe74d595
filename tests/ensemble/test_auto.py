"""AutoEnsemble*: candidates -> one CV -> ensembles -> the best by honest score."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import foldstack as fs
from foldstack.ensemble import AveragingClassifier, StackingRegressor
from foldstack.selection import FoldAverage
from tests.helpers import CountingClassifier, count_fits


def test_classifier_builds_ensembles_and_predicts_with_the_best(small_multiclass):
    X, y = small_multiclass
    auto = fs.AutoEnsembleClassifier(
        {"lr": LogisticRegression(max_iter=1000),
         "tree": DecisionTreeClassifier(max_depth=3, random_state=0)},
        cv=3, ensembles=("equal", "optimized", "greedy", "stacking")).fit(X, y)
    board = auto.leaderboard_
    assert set(board.index) == {"lr", "tree", "equal", "optimized", "greedy", "stacking"}
    assert (board.loc[["equal", "greedy", "stacking"], "kind"] == "ensemble").all()
    assert auto.best_name_ == board.index[0]
    assert board.loc[auto.best_name_, "mean_test_log_loss"] == board[
        "mean_test_log_loss"].min()
    chosen = auto.best_estimator_
    np.testing.assert_allclose(auto.predict_proba(X), chosen.predict_proba(X))
    assert list(auto.classes_) == ["a", "b", "c"] and auto.n_features_in_ == 4
    assert isinstance(auto.ensembles_["greedy"], AveragingClassifier)
    assert auto.report_.results["stacking"].kind == "ensemble"


def test_regressor_single_model_wins_when_ensembles_are_off(small_regression):
    X, y = small_regression
    auto = fs.AutoEnsembleRegressor({"ridge": Ridge(), "tree": DecisionTreeRegressor()},
                                    cv=3, ensembles=()).fit(X, y)
    assert auto.ensembles_ == {} and auto.best_name_ in ("ridge", "tree")
    assert isinstance(auto.best_estimator_, FoldAverage)
    assert len(auto.best_estimator_.models) == 3


def test_refit_fits_the_chosen_members_once(tmp_path, small_numeric_binary):
    X, y = small_numeric_binary
    log = tmp_path / "fits.log"
    auto = fs.AutoEnsembleClassifier(
        {"a": CountingClassifier(log_path=str(log)),
         "b": CountingClassifier(log_path=str(log), C=0.05)},
        cv=3, ensembles=("stacking",), refit=True).fit(X, y)
    n_members = 2 if auto.best_name_ == "stacking" else 1
    assert count_fits(log) == 2 * 3 + n_members
    assert auto.predict(X).shape == (len(y),)


@pytest.mark.slow
def test_default_candidates_on_a_small_table(small_binary):
    """candidates=None builds the default-size prefix of foldstack's portfolio inside fit."""
    import torch
    from threadpoolctl import threadpool_limits

    X, y = small_binary                       # numeric and string columns
    yr = X["a"].to_numpy() * 2 + (X["c"] == "x")
    auto = fs.AutoEnsembleRegressor(cv=2, ensembles=("greedy", "stacking"))
    threads = torch.get_num_threads()
    # one thread: OpenMP pools spin badly when a CI machine runs other work
    with threadpool_limits(1):
        torch.set_num_threads(1)
        try:
            auto.fit(X, yr)
        finally:
            torch.set_num_threads(threads)
    assert set(fs.models.portfolio("regression")) <= set(auto.leaderboard_.index)
    assert isinstance(auto.ensembles_["stacking"], StackingRegressor)
    pred = auto.predict(X)
    assert np.sqrt(np.mean((pred - yr) ** 2)) < np.std(yr)


def test_a_spent_time_limit_still_gives_the_first_candidate(small_regression, caplog):
    X, y = small_regression
    auto = fs.AutoEnsembleRegressor({"ridge": Ridge(), "tree": DecisionTreeRegressor()},
                                    cv=3, refit=True, time_limit=1e-9)
    with pytest.warns(fs.exceptions.CandidateFailedWarning, match="time limit"):
        auto.fit(X, y)
    board = auto.leaderboard_
    assert board.loc["ridge", "status"] == "ok" and board.loc["tree", "status"] == "timeout"
    assert auto.best_name_ == "ridge" and auto.ensembles_ == {}
    # refitting would pass the limit: the fold models predict
    assert not auto.refitted_ and isinstance(auto.best_estimator_, FoldAverage)
    assert "refit skipped" in caplog.text
    assert auto.predict(X).shape == (len(y),)


def test_a_time_limit_that_suffices_changes_nothing(small_regression):
    X, y = small_regression
    cands = {"ridge": Ridge(), "tree": DecisionTreeRegressor(random_state=0)}
    free = fs.AutoEnsembleRegressor(cands, cv=3, refit=True).fit(X, y)
    timed = fs.AutoEnsembleRegressor(cands, cv=3, refit=True, time_limit=3600).fit(X, y)
    assert timed.refitted_ and free.refitted_
    assert (timed.leaderboard_["status"] == "ok").all()
    np.testing.assert_allclose(timed.predict(X), free.predict(X))


@pytest.mark.parametrize("value", [0, -1.0, float("inf"), float("nan"), "60"])
def test_time_limit_must_be_a_positive_finite_number(small_regression, value):
    X, y = small_regression
    with pytest.raises(fs.exceptions.InvalidParameterError, match="time_limit"):
        fs.AutoEnsembleRegressor({"ridge": Ridge()}, time_limit=value).fit(X, y)


def test_greedy_selection_is_bagged_from_six_members(small_regression):
    from foldstack._auto import BAGGING_MIN_MEMBERS, compose, ensemble_params

    assert ensemble_params("greedy", BAGGING_MIN_MEMBERS) == {"greedy_bags": 20}
    assert ensemble_params("greedy", BAGGING_MIN_MEMBERS - 1) == {}
    assert ensemble_params("stacking", 10) == {}
    X, y = small_regression
    many = {f"ridge{a}": Ridge(alpha=a) for a in (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)}
    report = fs.selection.cross_validate_candidates(many, X, y, cv=3, verbose=0)
    assert compose(report, ["greedy"]).ensembles["greedy"].greedy_bags == 20
    few = report.subset(list(many)[:2])
    assert compose(few, ["greedy"]).ensembles["greedy"].greedy_bags == 1


def test_no_ensemble_starts_after_the_deadline(small_regression, caplog):
    from foldstack._auto import compose

    X, y = small_regression
    models = {"ridge": Ridge(), "tree": DecisionTreeRegressor(max_depth=3, random_state=0)}
    report = fs.selection.cross_validate_candidates(models, X, y, cv=3, verbose=0)
    # before equal; before greedy (its check, its probe's start and end, its expected
    # end); before stacking
    ticks = iter([0.0, 5.0, 5.0, 5.0, 5.0, 20.0])
    done = compose(report, ["equal", "greedy", "stacking"], deadline=10.0,
                   clock=lambda: next(ticks))
    assert list(done.ensembles) == ["equal", "greedy"] and done.skipped == ("stacking",)
    assert "stacking" not in done.report.results and done.best_name in done.report.results
    assert "ensembles not built, the time limit was spent: stacking" in caplog.text
    assert compose(report, ["equal"]).skipped == ()


def test_greedy_expected_to_pass_the_deadline_is_not_started(small_regression, caplog):
    import logging

    from foldstack._auto import compose

    X, y = small_regression
    models = {"ridge": Ridge(), "tree": DecisionTreeRegressor(max_depth=3, random_state=0)}
    report = fs.selection.cross_validate_candidates(models, X, y, cv=3, verbose=0)
    # greedy's probe (one selection on every row) takes 3 s: with 3 folds it expects
    # 3 x (3 + 1) = 12 s at t=4, past the deadline of 10; stacking, cheap, still starts
    ticks = iter([0.0, 1.0, 1.0, 4.0, 4.0, 5.0])
    with caplog.at_level(logging.INFO, logger="foldstack._auto"):
        done = compose(report, ["equal", "greedy", "stacking"], deadline=10.0,
                       clock=lambda: next(ticks))
    assert list(done.ensembles) == ["equal", "stacking"] and done.skipped == ("greedy",)
    assert "greedy not built: its selections need about 12 s; 6 s were left" in caplog.text
