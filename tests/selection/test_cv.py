"""cross_validate_candidates and CVReport on real data: the acceptance of the selection engine."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from xgboost import XGBClassifier

import foldstack as fs
from foldstack.exceptions import CandidateFailedError, CandidateFailedWarning
from foldstack.selection import METRICS, CVReport
from tests.helpers import FailOnRowClassifier, NaNRegressor


def _churn_candidates(X):
    num = X.select_dtypes("number").columns.tolist()
    cat = [c for c in X.columns if c not in num]
    linear = make_pipeline(
        make_column_transformer(
            (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
            (OneHotEncoder(handle_unknown="ignore"), cat)),
        LogisticRegression(max_iter=2000))
    ordinal = make_column_transformer(
        (SimpleImputer(strategy="median"), num),
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cat))
    return {
        "linear": linear,
        "xgboost": make_pipeline(ordinal, XGBClassifier(n_estimators=60, max_depth=4)),
        "random_forest": make_pipeline(ordinal, RandomForestClassifier(n_estimators=40,
                                                                       min_samples_leaf=5)),
    }


@pytest.fixture(scope="module")
def churn_report(wa_churn):
    X, y = wa_churn
    return fs.selection.cross_validate_candidates(_churn_candidates(X), X, y, cv=5, verbose=0)


def test_churn_leaderboard_means_equal_fold_means(churn_report):
    board = churn_report.leaderboard()
    assert list(board.index)[:1] and set(board.index) == {"linear", "xgboost", "random_forest"}
    assert (board["status"] == "ok").all()
    for name, result in churn_report.results.items():
        folds = result.fold_scores("test")
        assert len(folds) == 5
        for m in churn_report.metrics:
            assert board.loc[name, f"mean_test_{m}"] == pytest.approx(folds[m].mean())
            assert board.loc[name, f"std_test_{m}"] == pytest.approx(folds[m].std(ddof=0))
    assert board["rank_test_roc_auc"].tolist() == [1, 2, 3]
    assert board["mean_test_roc_auc"].is_monotonic_decreasing
    assert board.loc["linear", "mean_test_roc_auc"] > 0.8


def test_churn_fold_scores_recomputed_from_oof_and_splits(churn_report):
    y, classes = churn_report.y, churn_report.classes
    assert list(classes) == ["No", "Yes"]
    for name, oof in churn_report.oof.items():
        # stored as float32 (half the memory); the fold scores came from full precision
        assert oof.shape == (len(y), 2) and oof.dtype == np.float32
        np.testing.assert_allclose(oof.sum(axis=1), 1.0, rtol=1e-6)
        folds = churn_report.results[name].fold_scores("test")
        for i, (_, val) in enumerate(churn_report.splits):
            for m in churn_report.metrics:
                recomputed = METRICS[m](y[val], oof[val].astype(float), classes)
                assert folds.loc[i, m] == pytest.approx(recomputed, rel=1e-5), (name, i, m)


def test_splits_partition_rows_and_are_stratified(churn_report):
    val = np.concatenate([v for _, v in churn_report.splits])
    assert sorted(val.tolist()) == list(range(len(churn_report.y)))
    rate = np.mean(churn_report.y == "Yes")
    for _, v in churn_report.splits:
        assert abs(np.mean(churn_report.y[v] == "Yes") - rate) < 0.01


def test_fold_models_train_scores_and_times_are_kept(churn_report):
    r = churn_report.results["xgboost"]
    assert len(r.fold_models) == 5 and all(hasattr(m, "predict_proba") for m in r.fold_models)
    assert r.fold_models[0] is not r.fold_models[1]
    board = churn_report.leaderboard()
    assert (board["mean_train_roc_auc"] >= board["mean_test_roc_auc"]).all()
    assert (board["gap_roc_auc"] > 0).all()
    assert (board["mean_fit_time"] > 0).all()
    assert len(churn_report.times) == 15


def test_compare_best_and_fold_average(churn_report, wa_churn):
    c = churn_report.compare("linear", "random_forest")
    assert c.n_folds == 5 and c.metric == "roc_auc"
    assert 0 <= c.p_value <= 1 and np.isfinite(c.t)
    assert churn_report.best() == churn_report.leaderboard().index[0]
    avg = churn_report.fold_average("xgboost")
    proba = avg.predict_proba(wa_churn[0].head(50))
    assert proba.shape == (50, 2)
    assert set(avg.predict(wa_churn[0].head(50))) <= {"No", "Yes"}
    board = churn_report.leaderboard()
    assert np.isnan(board["p_vs_best"].iloc[0]) and board["p_vs_best"].iloc[1:].between(0, 1).all()


def test_report_save_load_roundtrip(churn_report, tmp_path, wa_churn):
    churn_report.save(tmp_path / "r")
    back = CVReport.load(tmp_path / "r")
    pd.testing.assert_frame_equal(back.leaderboard(), churn_report.leaderboard())
    for n in churn_report.names:
        np.testing.assert_array_equal(back.oof[n], churn_report.oof[n])
    assert all((a[1] == b[1]).all() for a, b in zip(back.splits, churn_report.splits))
    np.testing.assert_allclose(back.fold_average("linear").predict_proba(wa_churn[0].head(5)),
                               churn_report.fold_average("linear").predict_proba(
                                   wa_churn[0].head(5)))
    assert "<table" in back._repr_html_()


def test_candidate_failing_in_fold_3_is_marked_while_others_rank(small_numeric_binary):
    X, y = small_numeric_binary
    X = np.column_stack([np.arange(len(y)), X])
    splits = fs.selection.make_splits(5, X, y, "binary", random_state=0)
    marker = int(splits[3][1][0])  # a row only fold 3 validates on
    cands = {"ok": make_pipeline(StandardScaler(), LogisticRegression()),
             "bad": FailOnRowClassifier(marker=marker),
             "tree": DecisionTreeClassifier(max_depth=3)}
    with pytest.warns(CandidateFailedWarning, match="'bad'.*fold 3.*boom"):
        report = fs.selection.cross_validate_candidates(cands, X, y, cv=splits, verbose=0)
    board = report.leaderboard()
    assert board.loc["bad", "status"] == "failed" and pd.isna(board.loc["bad", "rank_test_roc_auc"])
    assert board.index[-1] == "bad"
    assert sorted(board["rank_test_roc_auc"].dropna().tolist()) == [1, 2]
    assert "fold 3" in report.failures["bad"] and "boom" in report.failures["bad"]
    assert "Traceback" in report.failures["bad"]
    assert "bad" not in report.oof and set(report.ok_names) == {"ok", "tree"}
    with pytest.raises(CandidateFailedError, match="fold 3"):
        fs.selection.cross_validate_candidates(cands, X, y, cv=splits, verbose=0,
                                               error_score="raise")


def test_nan_predictions_mark_candidate_failed(small_regression):
    X, y = small_regression
    with pytest.warns(CandidateFailedWarning, match="NaN"):
        report = fs.selection.cross_validate_candidates(
            {"ridge": Ridge(), "nan": NaNRegressor()}, X, y, cv=3, verbose=0)
    assert report.leaderboard().loc["nan", "status"] == "failed"


def test_n_jobs_1_and_2_give_identical_reports(small_binary):
    X, y = small_binary
    num = make_column_transformer((OneHotEncoder(), ["c"]), remainder="passthrough")
    cands = {"rf": make_pipeline(num, RandomForestClassifier(n_estimators=20)),
             "xgb": make_pipeline(num, XGBClassifier(n_estimators=30, subsample=0.7)),
             "lr": make_pipeline(num, LogisticRegression())}
    r1 = fs.selection.cross_validate_candidates(cands, X, y, cv=4, n_jobs=1, verbose=0)
    r2 = fs.selection.cross_validate_candidates(cands, X, y, cv=4, n_jobs=2, verbose=0)
    pd.testing.assert_frame_equal(r1.scores, r2.scores)
    for n in cands:
        np.testing.assert_array_equal(r1.oof[n], r2.oof[n])
    r3 = fs.selection.cross_validate_candidates(cands, X, y, cv=4, random_state=1, verbose=0)
    assert not np.array_equal(r1.oof["rf"], r3.oof["rf"])


def test_regression_multiclass_defaults_and_custom_scoring(small_regression, small_multiclass):
    X, y = small_regression
    r = fs.selection.cross_validate_candidates({"ridge": Ridge()}, X, y, cv=3, verbose=0)
    assert r.task == "regression" and r.metrics == ("rmse", "mae", "r2")
    assert r.leaderboard().loc["ridge", "mean_test_rmse"] > 0
    r = fs.selection.cross_validate_candidates(
        {"ridge": Ridge()}, X, y, cv=3, verbose=0, scoring=["neg_mean_absolute_error", "r2"])
    assert r.metrics == ("mae", "r2")
    Xm, ym = small_multiclass
    r = fs.selection.cross_validate_candidates(
        {"lr": LogisticRegression()}, Xm, ym, cv=3, verbose=0)
    assert r.task == "multiclass"
    assert r.metrics == ("log_loss", "accuracy", "balanced_accuracy", "f1_macro")
    assert r.oof["lr"].shape == (len(ym), 3)
    from sklearn.metrics import get_scorer
    r = fs.selection.cross_validate_candidates(
        {"lr": LogisticRegression()}, Xm, ym, cv=3, verbose=0,
        scoring={"acc": "accuracy", "sk_bal": get_scorer("balanced_accuracy")})
    board = r.leaderboard()
    assert board.loc["lr", "mean_test_acc"] > 0.5 and board.loc["lr", "mean_test_sk_bal"] > 0.5


def test_global_class_order_when_a_training_fold_misses_a_class():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2))
    y = np.array(["a"] * 19 + ["b"] * 19 + ["c"] * 2)
    folds = [(np.arange(0, 38), np.arange(38, 40)),  # no "c" in training
             (np.r_[0:10, 20:40], np.r_[10:20])]
    r = fs.selection.cross_validate_candidates({"lr": LogisticRegression()}, X, y, cv=folds,
                                               verbose=0, scoring=["accuracy"])
    assert list(r.classes) == ["a", "b", "c"]
    assert np.all(r.oof["lr"][38:, 2] == 0)  # the fold model never saw "c"
    assert np.isnan(r.oof["lr"][0]).all()     # never validated on: NaN, not a made-up value


def test_groups_repeats_and_splitter_objects(small_regression):
    X, y = small_regression
    groups = np.repeat(np.arange(16), 10)
    r = fs.selection.cross_validate_candidates({"ridge": Ridge()}, X, y, groups=groups, cv=4,
                                               verbose=0)
    for tr, va in r.splits:
        assert not set(groups[tr]) & set(groups[va])
    r = fs.selection.cross_validate_candidates({"ridge": Ridge()}, X, y, cv=3, n_repeats=2,
                                               verbose=0)
    assert len(r.splits) == 6 and np.isfinite(r.oof["ridge"]).all()
    r = fs.selection.cross_validate_candidates({"ridge": Ridge()}, X, y, cv=GroupKFold(4),
                                               groups=groups, verbose=0)
    assert len(r.splits) == 4
    r2 = fs.selection.cross_validate_candidates({"ridge": Ridge()}, X, y, cv=r.splits,
                                                verbose=0)
    np.testing.assert_array_equal(r2.oof["ridge"], r.oof["ridge"])
    r = fs.selection.cross_validate_candidates({"ridge": Ridge()}, X, y, verbose=0,
                                               cv=KFold(3, shuffle=True, random_state=0))
    assert len(r.splits) == 3


def test_verbose_draws_progress_and_zero_is_silent(small_regression, capsys):
    X, y = small_regression
    fs.selection.cross_validate_candidates({"ridge": Ridge()}, X, y, cv=3, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    fs.selection.cross_validate_candidates({"ridge": Ridge()}, X, y, cv=3, verbose=1)
    captured = capsys.readouterr()
    assert "3/3" in captured.out + captured.err


def test_time_limit_runs_the_first_candidate_and_marks_unfinished_ones(small_regression):
    X, y = small_regression
    # a limit reached before any task can start (a nanosecond): the first candidate still
    # runs all its folds, so the report is never empty
    with pytest.warns(CandidateFailedWarning, match="time limit"):
        r = fs.selection.cross_validate_candidates({"ridge": Ridge(), "ols": LinearRegression()},
                                                   X, y, cv=3, verbose=0, time_limit=1e-9)
    board = r.leaderboard()
    assert board.loc["ridge", "status"] == "ok" and board.loc["ols", "status"] == "timeout"
    assert "did not fit in the time limit" in r.failures["ols"]


def test_deprecated_time_budget_is_time_limit_with_a_future_warning(small_regression):
    X, y = small_regression
    with pytest.warns(FutureWarning, match="`time_budget` is deprecated.*use `time_limit`"), \
            pytest.warns(CandidateFailedWarning, match="time limit"):
        r = fs.selection.cross_validate_candidates({"ridge": Ridge(), "ols": LinearRegression()},
                                                   X, y, cv=3, verbose=0, time_budget=1e-9)
    assert r.leaderboard().loc["ols", "status"] == "timeout"


def test_huge_target_scores_are_not_finite_so_the_candidate_fails(small_regression):
    X, y = small_regression
    # finite values whose squared errors overflow float64: RMSE inf, R2 NaN
    with pytest.warns(CandidateFailedWarning, match="not finite"):
        r = fs.selection.cross_validate_candidates({"ridge": Ridge()}, X, y * 1e200, cv=3,
                                                   verbose=0)
    result = r.results["ridge"]
    assert result.status == "failed" and result.oof is None and result.fold_models is None
    first = result.error.splitlines()[0]
    assert "rmse = inf" in first and "r2 = nan" in first
    assert "overflow float64" in first and "divide it by 1e200" in first
    assert "log-transform" in first
    with pytest.raises(fs.exceptions.DataError, match="No candidate finished"):
        r.best()


def test_non_finite_scorer_value_fails_the_candidate_but_not_a_one_class_fold(small_regression):
    X, y = small_regression
    from sklearn.metrics import make_scorer

    nan_scorer = make_scorer(lambda yt, yp: float("nan"))
    with pytest.warns(CandidateFailedWarning, match=r"'ridge'.*not finite \(nan_metric = nan\)"):
        r = fs.selection.cross_validate_candidates(
            {"ridge": Ridge()}, X, y, cv=3, verbose=0,
            scoring={"rmse": "rmse", "nan_metric": nan_scorer})
    assert r.results["ridge"].status == "failed"
    # ROC AUC is undefined on a validation fold holding one class: the fold, not the model
    rng = np.random.RandomState(0)
    Xb = rng.normal(size=(40, 2))
    yb = np.array([0, 1] * 18 + [1] * 4)
    folds = [(np.arange(0, 36), np.arange(36, 40)), (np.arange(4, 40), np.arange(0, 4))]
    r = fs.selection.cross_validate_candidates({"lr": LogisticRegression()}, Xb, yb, cv=folds,
                                               scoring=["roc_auc", "accuracy"], verbose=0)
    assert r.results["lr"].status == "ok"
    assert np.isnan(r.results["lr"].fold_scores()["roc_auc"].iloc[0])


def test_caller_rng_state_is_untouched(small_regression):
    X, y = small_regression
    np.random.seed(123)  # noqa: NPY002
    expected = np.random.rand()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    fs.selection.cross_validate_candidates({"ridge": Ridge()}, X, y, cv=3, verbose=0)
    assert np.random.rand() == expected  # noqa: NPY002
