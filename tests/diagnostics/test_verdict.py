"""The verdict rules on hand-made numbers, and the dummy baseline against scikit-learn's."""

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor

from foldstack.diagnostics import diagnose, dummy_scores, fit_verdict
from foldstack.exceptions import InvalidParameterError
from foldstack.selection import cross_validate_candidates

# baseline 0.5, best 0.9: the best lifts 0.4 over the dummy, so min_effect=0.1 gives 0.04
B, BEST = 0.5, 0.9


def verdict(train, val, std=0.01, **kw):
    kw = {"baseline": B, "best": BEST, **kw}
    return fit_verdict(train, val, train_std=std, validation_std=std, best_std=std, **kw)


@pytest.mark.parametrize("train, val, expected", [
    (1.00, 0.80, "high_variance"),            # gap 0.2 > 0.04
    (0.70, 0.69, "high_bias"),                # training 0.2 below the best validation
    (0.80, 0.70, "high_bias_and_variance"),   # both parts over 0.04
    (0.92, 0.90, "good_fit"),                 # the best, gap 0.02 < 0.04
    (0.90, 0.88, "good_fit"),                 # within 0.04 of the best, small gap
    (0.52, 0.51, "high_bias"),                # training barely above the dummy
    (0.865, 0.84, "high_bias"),               # parts 0.035 + 0.025 under 0.04, sum over: bias larger
    (0.875, 0.84, "high_variance"),           # parts 0.025 + 0.035: the gap is larger
])
def test_rules_on_known_numbers(train, val, expected):
    assert verdict(train, val).verdict == expected


def test_tolerances_are_fold_stds_or_a_share_of_the_lift():
    v = verdict(0.9, 0.9)
    assert (v.tolerance_bias, v.tolerance_variance) == pytest.approx((0.04, 0.04))
    v = fit_verdict(0.9, 0.9, train_std=0.01, validation_std=0.07, best_std=0.05,
                    baseline=B, best=BEST)
    assert (v.tolerance_bias, v.tolerance_variance) == pytest.approx((0.05, 0.07))
    v = verdict(0.9, 0.9, min_effect=0.25)
    assert v.tolerance_variance == pytest.approx(0.1)


def test_a_gap_within_the_fold_spread_is_not_variance():
    # a gap of 0.06 is over 10 % of the lift but under the validation fold std 0.08
    assert fit_verdict(0.96, 0.90, validation_std=0.08, baseline=B,
                       best=BEST).verdict == "good_fit"
    assert fit_verdict(0.96, 0.90, validation_std=0.02, baseline=B,
                       best=BEST).verdict == "high_variance"


def test_an_unstable_candidate_does_not_widen_the_bias_tolerance():
    # log loss: a memorizing tree scores 0 on training rows, 8.6 +- 1.6 on validation; its
    # own spread must not make its perfect training score look "close to the dummy"
    v = fit_verdict(0.0, 8.6, train_std=0.0, validation_std=1.6, baseline=0.69, best=0.32,
                    best_std=0.05, greater_is_better=False, metric="log_loss")
    assert v.verdict == "high_variance"


def test_lower_is_better_metrics_are_oriented():
    # log loss: dummy 0.69, best 0.30; training 0.05 and validation 0.45 is overfitting
    v = verdict(0.05, 0.45, 0.02, baseline=0.69, best=0.30, greater_is_better=False,
                metric="log_loss")
    assert v.verdict == "high_variance"
    assert "log_loss" in v.evidence and "0.4" in v.evidence
    assert verdict(0.60, 0.62, baseline=0.69, best=0.30,
                   greater_is_better=False).verdict == "high_bias"
    assert verdict(0.28, 0.30, baseline=0.69, best=0.30,
                   greater_is_better=False).verdict == "good_fit"


def test_nothing_beats_the_dummy():
    # the best is at the dummy's level: bias (the features may carry no signal)
    v = verdict(0.525, 0.51, 0.02, baseline=0.5, best=0.51)
    assert v.verdict == "high_bias" and "signal" in v.evidence
    # memorizing the training rows of a signal-free problem is variance
    assert verdict(1.0, 0.5, 0.02, baseline=0.5, best=0.51).verdict == "high_variance"


def test_unknown_baseline_uses_the_fold_stds_only():
    v = verdict(0.905, 0.90, baseline=np.nan, best=0.9)
    assert v.verdict == "good_fit" and v.tolerance_variance == pytest.approx(0.01)
    assert "dummy" not in v.evidence
    assert verdict(0.95, 0.90, baseline=np.nan, best=0.9).verdict == "high_variance"


def test_missing_scores():
    assert verdict(np.nan, 0.8).verdict == "unknown"
    assert verdict(0.9, np.nan).verdict == "failed"


def test_evidence_is_one_sentence_with_the_numbers():
    v = verdict(1.0, 0.8, metric="roc_auc", best_name="forest")
    assert ". " not in v.evidence and "0.2" in v.evidence and "roc_auc" in v.evidence
    assert "'forest'" in verdict(0.7, 0.69, best_name="forest").evidence


@pytest.mark.parametrize("fixture, dummy", [
    ("small_numeric_binary", DummyClassifier(strategy="prior")),
    ("small_multiclass", DummyClassifier(strategy="prior")),
    ("small_regression", DummyRegressor()),
])
def test_dummy_scores_match_a_fitted_dummy_on_the_same_folds(fixture, dummy, request):
    X, y = request.getfixturevalue(fixture)
    report = cross_validate_candidates({"dummy": dummy}, X, y, cv=4, verbose=0)
    ours = dummy_scores(report.y, report.splits, report.metrics, report.classes)
    ours = ours.pivot_table(index=["fold", "subset"], columns="metric", values="value")
    theirs = report.results["dummy"].scores.pivot_table(
        index=["fold", "subset"], columns="metric", values="value")
    pd.testing.assert_frame_equal(ours.sort_index(axis=1), theirs.sort_index(axis=1),
                                  check_names=False)


def test_diagnose_baseline_argument(linear_report):
    auto = diagnose(linear_report)
    assert auto["baseline"].iloc[0] == pytest.approx(0.5)
    fixed = diagnose(linear_report, baseline=0.6)
    assert (fixed["baseline"] == 0.6).all()
    named = diagnose(linear_report, baseline="stump")
    stump = linear_report.results["stump"].fold_scores("test")["roc_auc"].mean()
    assert named["baseline"].iloc[0] == pytest.approx(stump)
    with pytest.raises(InvalidParameterError, match="Did you mean 'stump'"):
        diagnose(linear_report, baseline="stmp")
    with pytest.raises(InvalidParameterError, match="`baseline` must be"):
        diagnose(linear_report, baseline=[0.5])
    with pytest.raises(InvalidParameterError, match="min_effect"):
        diagnose(linear_report, min_effect=2)
    with pytest.raises(InvalidParameterError, match="CVReport"):
        diagnose({"a": 1})


def test_diagnose_other_metric(linear_report):
    d = diagnose(linear_report, metric="log_loss")
    assert d.attrs["metric"] == "log_loss"
    assert d.loc["deep_tree", "verdict"] == "high_variance"
    assert d.loc["deep_tree", "gap"] > 0       # positive = validation worse, whatever the direction
    assert d.index[0] == "logreg"               # ranked by the metric judged
