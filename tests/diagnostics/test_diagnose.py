"""diagnose on cross-validation reports whose answer is known."""

import numpy as np

from foldstack.diagnostics import VERDICTS, Remedy, diagnose
from foldstack.diagnostics._remedies import render_lines

COLUMNS = ["train", "train_std", "validation", "validation_std", "gap", "baseline",
           "tolerance_bias", "tolerance_variance", "verdict", "evidence", "remedies",
           "epoch_findings"]


def test_table_shape(moons_report):
    d = diagnose(moons_report)
    assert list(d.columns) == COLUMNS
    assert d.attrs["metric"] == "roc_auc"
    assert set(d.index) == set(moons_report.names)
    assert d.index[-1] == "mlp_diverges"                    # unfinished last
    assert list(d.index[:-1]) == list(moons_report.leaderboard().index[:-1])
    assert set(d["verdict"]) <= set(VERDICTS)
    board = moons_report.leaderboard()
    np.testing.assert_allclose(d.loc["forest", "validation"], board.loc["forest",
                                                                        "mean_test_roc_auc"])
    np.testing.assert_allclose(d.loc["forest", "gap"], board.loc["forest", "gap_roc_auc"])
    assert (d["baseline"] == 0.5).all()                      # a constant probability
    assert all(isinstance(r, list) and r for r in d["remedies"])


def test_stump_on_a_non_linear_problem_is_high_bias(moons_report):
    d = diagnose(moons_report)
    assert d.loc["stump", "verdict"] == "high_bias"
    assert "'forest'" in d.loc["stump", "evidence"]
    assert d.loc["stump", "remedies"][0].startswith(
        "a bigger model: raise max_depth from 1 (e.g. to 2)")


def test_unpruned_tree_and_unregularized_mlp_on_small_noisy_data_are_high_variance(
        noisy_report):
    d = diagnose(noisy_report)
    assert d.loc["deep_tree", "verdict"] == "high_variance"
    assert d.loc["mlp_no_regularization", "verdict"] == "high_variance"
    assert d.loc["deep_tree", "train"] == 1.0 and d.loc["deep_tree", "gap"] > 0.15
    tree = "\n".join(d.loc["deep_tree", "remedies"])
    assert "set max_depth=4 (now None)" in tree and "raise min_samples_leaf" in tree
    mlp = d.loc["mlp_no_regularization", "remedies"]
    assert mlp[0].startswith("more data: set augmentation='noise'")
    assert "raise dropout from 0.0 (e.g. to 0.2)" in mlp[1]
    assert "raise weight_decay from 0.0" in mlp[1]
    assert any("set early_stopping=True (now False)" in r for r in mlp)


def test_regularized_linear_model_on_a_linear_problem_is_a_good_fit(linear_report):
    d = diagnose(linear_report)
    assert d.loc["logreg", "verdict"] == "good_fit"
    assert d.loc["deep_tree", "verdict"] == "high_variance"
    assert d.loc["stump", "verdict"] == "high_bias"
    assert "is the best of the report" in d.loc["logreg", "evidence"]


def test_huge_learning_rate_is_read_from_the_epoch_curves(moons_report):
    d = diagnose(moons_report)
    row = d.loc["mlp_huge_lr"]
    assert row["verdict"] in ("high_bias", "high_bias_and_variance")
    assert row["epoch_findings"].startswith("oscillating (")
    assert row["remedies"][0].startswith("learning rate too high: lower lr from 50 (e.g. to 5)")


def test_diverging_mlp_fails_clearly(moons_report):
    row = diagnose(moons_report).loc["mlp_diverges"]
    assert row["verdict"] == "failed"
    assert "TrainingDivergedError" in row["evidence"] and "diverged" in row["evidence"]
    assert row["remedies"][0].startswith(
        "learning rate too high (training diverged): lower lr from 50 (e.g. to 5)")


def test_mlp_stopped_after_three_epochs_should_train_longer(moons_report):
    # judged on log loss: after 3 epochs the loss is still near a constant prediction's
    # (ranking metrics such as ROC AUC can already look decent on moons)
    row = diagnose(moons_report, metric="log_loss").loc["mlp_3_epochs"]
    assert row["verdict"] == "high_bias"
    assert "still_improving (5/5 folds)" in row["epoch_findings"]
    # the parameter is named as set_params needs it inside the Pipeline
    assert row["remedies"][0].startswith(
        "train longer: raise mlp__max_epochs from 3 (e.g. to 6); raise mlp__lr from 0.002")
    assert "raise mlp__width from 16 (e.g. to 32)" in row["remedies"][1]


def test_remedy_records_are_kept_beside_their_text(moons_report):
    d = diagnose(moons_report)
    records = d.attrs["remedies"]
    assert list(records) == list(d.index)
    for name, found in records.items():
        assert isinstance(found, tuple) and all(isinstance(r, Remedy) for r in found)
        assert render_lines(found) == d.loc[name, "remedies"]       # the column renders them
    first = records["mlp_huge_lr"][0]
    assert (first.param, first.action, first.current, first.suggested) == ("lr", "lower", 50.0,
                                                                          5.0)
    assert first.reason.startswith("epoch curves: ") and "oscillating" in first.reason
