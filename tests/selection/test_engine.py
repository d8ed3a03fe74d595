"""The engine and its typed fold record: one path for cross-validation, tuning and caching."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import make_scorer, mean_absolute_error
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import foldstack as fs
from foldstack.exceptions import CandidateFailedWarning, InvalidParameterError
from foldstack.selection._cache import TaskCache
from foldstack.selection._engine import FoldTask, check_candidates, plan, prepare, run_fold
from foldstack.selection._record import FoldRecord
from tests.helpers import FailOnRowClassifier


def test_fold_record_round_trips_its_plain_state():
    rec = FoldRecord("m", 2, "k", test={"rmse": 1.5}, train={"rmse": 1.0}, fit_time=0.1,
                     predict_time=0.01, oof=np.arange(3.0), model=Ridge())
    back = FoldRecord.from_state(rec.to_state())
    assert (back.candidate, back.fold, back.key, back.status) == ("m", 2, "k", "ok")
    assert back.test == {"rmse": 1.5} and back.ok and not back.failed
    np.testing.assert_array_equal(back.oof, rec.oof)


@pytest.mark.parametrize("change", [
    {"status": "done"},                 # not a status
    {"fold": "0"},                      # wrong type
    {"test": {"rmse": "1.5"}},          # a score that is not a number
    {"extra": 1},                       # a field the record does not have
])
def test_fold_record_refuses_a_changed_state(change):
    state = FoldRecord("m", 0, "k", test={"rmse": 1.0}).to_state()
    with pytest.raises(ValueError):
        FoldRecord.from_state({**state, **change})


def test_run_fold_gives_a_typed_record_and_failures_are_records(small_numeric_binary):
    X, y = small_numeric_binary
    named = check_candidates({"lr": LogisticRegression()})
    setup = prepare(X, y, named, cv=3)
    ok = run_fold(FoldTask("lr", 0, seed=1), named["lr"], setup)
    assert ok.ok and set(ok.test) == set(ok.train) == {m.name for m in setup.metrics}
    assert ok.oof.shape == (len(setup.splits[0][1]), 2) and ok.model is not None
    bad = run_fold(FoldTask("bad", 0, seed=1), FailOnRowClassifier(marker=10**6), setup,
                   error_score=-1.0)
    assert bad.failed and "boom" in bad.message and "Traceback" in bad.error
    assert bad.test == {m.name: -1.0 for m in setup.metrics} and bad.model is None
    late = run_fold(FoldTask("lr", 1, seed=1, start_by=0.0), named["lr"], setup)
    assert late.skipped and late.test == {}


def test_error_score_number_is_the_failed_folds_score(small_numeric_binary):
    X, y = small_numeric_binary
    X = np.column_stack([np.arange(len(y)), X])  # FailOnRowClassifier reads row ids
    cands = {"lr": LogisticRegression(), "bad": FailOnRowClassifier(marker=0)}
    with pytest.warns(CandidateFailedWarning):
        report = fs.selection.cross_validate_candidates(cands, X, y, cv=3, error_score=-1.0)
    assert report.results["bad"].status == "failed"
    scores = report.results["bad"].scores
    # the fold whose training rows lack row 0 failed: every metric, both sides, is -1
    failed = next(i for i, (tr, _) in enumerate(report.splits) if 0 not in tr)
    at_failed = scores[scores["fold"] == failed]
    assert len(at_failed) == 2 * len(report.metrics) and (at_failed["value"] == -1.0).all()
    assert (scores[scores["fold"] != failed]["value"] != -1.0).all()
    with pytest.warns(CandidateFailedWarning):
        default = fs.selection.cross_validate_candidates(cands, X, y, cv=3)
    # NaN: the failed fold has no score; the folds that ran keep theirs
    kept = default.results["bad"].scores
    assert failed not in set(kept["fold"]) and len(kept) == len(scores) - len(at_failed)
    with pytest.raises(InvalidParameterError, match="error_score"):
        fs.selection.cross_validate_candidates(cands, X, y, error_score="nan")


def test_report_keeps_the_cv_and_scoring_it_was_built_with(small_numeric_binary):
    X, y = small_numeric_binary
    est = {"lr": LogisticRegression()}
    default = fs.selection.cross_validate_candidates(est, X, y, cv=4)
    assert isinstance(default.cv, StratifiedKFold) and default.cv.get_n_splits() == 4
    assert [m.name for m in default.scoring] == list(default.metrics)
    groups = np.arange(len(y)) % 5
    grouped = fs.selection.cross_validate_candidates(est, X, y, cv=GroupKFold(5),
                                                     groups=groups)
    assert isinstance(grouped.cv, GroupKFold)
    pairs = fs.selection.cross_validate_candidates(est, X, y, cv=default.splits)
    assert pairs.cv is pairs.splits
    # a custom scorer travels with the report: scoring=report.scoring scores the same way
    mae = make_scorer(mean_absolute_error, greater_is_better=False)
    custom = fs.selection.cross_validate_candidates(
        {"r": Ridge()}, X, y.astype(float), task="regression", scoring={"mae": mae, "r2": "r2"})
    again = fs.selection.cross_validate_candidates(
        {"r": Ridge()}, X, y.astype(float), task="regression", scoring=custom.scoring,
        cv=custom.splits)
    assert again.metrics == custom.metrics == ("mae", "r2")
    np.testing.assert_allclose(again.scores["value"], custom.scores["value"])


def test_tune_and_cross_validate_run_the_same_fold_task(small_numeric_binary):
    X, y = small_numeric_binary
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0))
    # the first trial is the estimator's own configuration, under the candidate name "tuned"
    result = fs.selection.tune(model, {"logisticregression__C": ("float", 1e-3, 1e2, "log")},
                               X, y, cv=3, n_trials=1)
    report = fs.selection.cross_validate_candidates({"tuned": model}, X, y, cv=3)
    np.testing.assert_allclose(result.cv_result.scores["value"],
                               report.results["tuned"].scores["value"])
    np.testing.assert_allclose(result.cv_result.oof, report.results["tuned"].oof)


def test_cache_holds_records_and_plan_finds_them(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    named = check_candidates({"tree": DecisionTreeClassifier(max_depth=2)})
    setup = prepare(X, y, named, cv=3, keyed=True)
    cache = TaskCache(tmp_path, candidates=named.values())
    todo, done = plan(setup, named, cache)
    assert len(todo) == 3 and not done
    for task in todo:
        cache.put(run_fold(task, named[task.candidate], setup))
    todo, done = plan(setup, named, cache)
    assert not todo and all(isinstance(r, FoldRecord) and r.ok for r in done.values())


def test_renamed_and_deprecated_names_still_work_with_a_warning(small_numeric_binary):
    X, y = small_numeric_binary
    with pytest.warns(FutureWarning, match="check_training_data"):
        check = fs.data.check_X_y
    assert check is fs.data.check_training_data
    result = fs.selection.tune(LogisticRegression(), {"C": ("float", 0.1, 10.0, "log")},
                               X, y, cv=3, n_trials=2)
    with pytest.warns(FutureWarning, match="best_params"):
        assert result.best_params_ == result.best_params
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert result.best_score == result.best_score and len(result.trials) == 2


def test_a_cache_entry_of_another_fold_or_an_older_layout_is_recomputed(small_numeric_binary,
                                                                         tmp_path):
    X, y = small_numeric_binary
    named = check_candidates({"tree": DecisionTreeClassifier(max_depth=2)})
    setup = prepare(X, y, named, cv=3, keyed=True)
    cache = TaskCache(tmp_path, candidates=named.values())
    todo, _ = plan(setup, named, cache)
    records = [run_fold(t, named["tree"], setup) for t in todo]
    # planted: fold 1's key holds fold 0's record (re-keyed); fold 2's an old-style dict
    import dataclasses

    cache.put(records[0])
    cache.put(dataclasses.replace(records[0], key=todo[1].key))
    from foldstack.persist import save_model

    save_model({"name": "tree", "fold": 2, "key": todo[2].key, "error": None},
               tmp_path / "tasks" / todo[2].key[:2] / todo[2].key)
    todo_again, done = plan(setup, named, cache)
    assert [t.fold for t in todo_again] == [1, 2] and list(done) == [("tree", 0)]


def test_reports_and_ensembles_with_any_splitter_or_scorer_can_be_saved(small_numeric_binary,
                                                                       tmp_path):
    from sklearn.model_selection import LeaveOneGroupOut

    from foldstack.persist import load_model, save_model

    X, y = small_numeric_binary
    groups = np.arange(len(y)) % 3
    mae = make_scorer(mean_absolute_error)  # any scorer callable: code, never data
    report = fs.selection.cross_validate_candidates(
        {"lr": LogisticRegression(), "tree": DecisionTreeClassifier(max_depth=2)}, X, y,
        cv=LeaveOneGroupOut(), groups=groups, scoring={"roc_auc": "roc_auc", "mae": mae})
    ens = fs.ensemble.AveragingClassifier.from_report(report)
    assert isinstance(ens.cv, LeaveOneGroupOut)
    save_model(report, tmp_path / "report")
    save_model(ens, tmp_path / "ens")
    back = load_model(tmp_path / "report")
    assert back.cv is back.splits and back.scoring is None
    loaded = load_model(tmp_path / "ens")
    assert loaded.cv == 3 and loaded.scoring == {"roc_auc": "roc_auc"}
    np.testing.assert_allclose(loaded.predict_proba(X), ens.predict_proba(X))
