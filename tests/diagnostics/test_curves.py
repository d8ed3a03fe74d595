"""Epoch-curve reading rules on constructed histories, epoch curves of real MLPs, and
learning curves on shared folds."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from foldstack.diagnostics import (
    EpochFinding,
    epoch_curves,
    learning_curve,
    more_data_helps,
    read_epoch_curves,
)
from foldstack.exceptions import CandidateFailedError, DataError, InvalidParameterError

E = np.arange(1, 41)


def history(train, valid=None):
    rows = [{"epoch": i + 1, "train_loss": float(t)} for i, t in enumerate(train)]
    if valid is not None:
        for row, v in zip(rows, valid):
            row["valid_loss"] = float(v)
    return rows


def codes(h, **kw):
    return [f.code for f in read_epoch_curves(h, **kw)]


def test_still_falling_at_the_last_epoch_means_train_longer():
    h = history(1 / np.arange(1, 4), 1.1 / np.arange(1, 4))
    found = read_epoch_curves(h)
    assert [f.code for f in found] == ["still_improving"]
    assert "train longer or raise the learning rate" in found[0].message
    assert codes(history(0.3 + np.exp(-E / 30), 0.35 + np.exp(-E / 30))) == ["still_improving"]


def test_validation_rising_while_training_falls_is_overfitting():
    train = 0.2 + np.exp(-E / 8)
    valid = 0.5 + np.exp(-E / 5) + 0.01 * np.clip(E - 12, 0, None)
    found = read_epoch_curves(history(train, valid))
    assert [f.code for f in found] == ["overfitting"]
    assert "stop earlier or regularize" in found[0].message and "epoch 15" in found[0].message


def test_oscillating_validation_loss_means_learning_rate_too_high():
    valid = 1.0 + 0.5 * (-1.0) ** E
    found = read_epoch_curves(history(np.full(40, 0.9) + 0.3 * (-1.0) ** E, valid))
    assert found[0].code == "oscillating"
    assert "learning rate is too high" in found[0].message
    # jitter of a few percent around a converged loss is not oscillation
    rng = np.random.RandomState(0)
    calm = 0.3 + 0.4 * np.exp(-E / 4) + 0.005 * rng.normal(size=40)
    assert "oscillating" not in codes(history(calm - 0.05, calm))


def test_flat_and_high_means_learning_rate_too_low_or_model_too_small():
    train = 0.693 - 1e-4 * E
    valid = 0.694 - 1e-4 * E
    found = read_epoch_curves(history(train, valid), baseline_loss=0.693)
    assert "underfitting" in [f.code for f in found]
    assert "learning rate is too low or the model too small" in str(found[-1])
    # without a baseline: the whole run is flat and training is no better than validation
    assert "underfitting" in codes(history(np.full(20, 0.7), np.full(20, 0.69)))
    # flat but low (a converged, well-fitting network) is not underfitting
    low = 0.1 + 0.6 * np.exp(-E / 3)
    assert "underfitting" not in codes(history(low, low + 0.05), baseline_loss=0.693)


def test_converged_and_diverged():
    train = 0.2 + np.exp(-E / 4)
    valid = 0.3 + np.exp(-E / 4)
    assert codes(history(train, valid)) == ["converged"]
    found = read_epoch_curves(history([0.7, 3.0, np.nan], [0.7, np.inf, np.nan]))
    assert [f.code for f in found] == ["diverged"] and "epoch 2" in found[0].message


def test_history_formats_and_errors():
    train = 0.2 + np.exp(-E / 4)
    frame = pd.DataFrame({"epoch": E, "train_loss": train, "valid_loss": train + 0.1})
    columns = {"train_loss": train, "valid_loss": train + 0.1}
    assert codes(frame) == codes(columns) == codes(history(train, train + 0.1))
    assert codes(history(train)) == ["converged"]            # training loss only
    assert isinstance(read_epoch_curves(history(train))[0], EpochFinding)
    with pytest.raises(InvalidParameterError, match="one training run"):
        read_epoch_curves(pd.concat([frame.assign(fold=0), frame.assign(fold=1)]))
    with pytest.raises(InvalidParameterError, match="train_loss"):
        read_epoch_curves([{"epoch": 1}])
    with pytest.raises(InvalidParameterError, match="list of per-epoch dicts"):
        read_epoch_curves(3.0)


def test_epoch_curves_of_a_report(moons_report):
    curves = epoch_curves(moons_report, "mlp_3_epochs")
    assert list(curves.columns) == ["fold", "epoch", "train_loss", "valid_loss", "lr", "best",
                                    "baseline_loss"]
    assert len(curves) == 5 * 3 and curves.groupby("fold")["best"].sum().eq(1).all()
    # the loss of predicting the class priors (balanced moons: about log 2)
    assert curves["baseline_loss"].iloc[0] == pytest.approx(np.log(2), abs=0.01)
    for fold in range(5):
        assert "still_improving" in codes(curves[curves.fold == fold])
    huge = epoch_curves(moons_report, "mlp_huge_lr")
    readings = [codes(huge[huge.fold == f]) for f in range(5)]
    assert sum("oscillating" in r for r in readings) >= 3
    with pytest.raises(InvalidParameterError, match="no epoch history"):
        epoch_curves(moons_report, "forest")
    with pytest.raises(DataError, match="did not finish"):
        epoch_curves(moons_report, "mlp_diverges")


def test_epoch_curves_of_a_regressor(regression_report):
    curves = epoch_curves(regression_report, "mlp")
    assert (curves["baseline_loss"] == 1.0).all()      # standardized target: variance 1
    assert curves["valid_loss"].notna().all()


def test_more_data_rule_on_known_numbers():
    helps, text = more_data_helps([0.70, 0.72, 0.71, 0.69], [0.74, 0.75, 0.76, 0.73],
                                  metric="roc_auc", n_prev=80, n_last=160)
    assert helps and "more data would help" in text and "from 80 to 160" in text
    helps, text = more_data_helps([0.75, 0.76, 0.77], [0.76, 0.75, 0.775])
    assert not helps and "levelled off" in text
    # a clear rise, but validation already meets training: no room to rise as much again
    helps, text = more_data_helps([0.70, 0.72, 0.71, 0.69], [0.74, 0.75, 0.76, 0.73], gap=0.01)
    assert not helps and "nearly met the training score" in text
    # lower is better: a falling log loss is a rise in quality
    assert more_data_helps([0.50, 0.52, 0.51], [0.45, 0.46, 0.44], greater_is_better=False)[0]


def test_learning_curve_on_shared_folds(moons, moons_report):
    X, y = moons
    curve = learning_curve(LogisticRegression(), X, y, cv=moons_report.splits,
                           train_sizes=(0.25, 0.5, 1.0))
    table = curve.summary()
    n_train = len(moons_report.splits[0][0])
    assert list(table.index) == [0.25, 0.5, 1.0]
    assert table["n_train"].tolist() == [round(0.25 * n_train), round(0.5 * n_train), n_train]
    assert curve.metric == "roc_auc" and curve.greater_is_better
    # the full size on the report's folds reproduces the report's scores
    full = moons_report.results["logreg"].fold_scores("test")["roc_auc"].mean()
    assert table.loc[1.0, "mean_test"] == pytest.approx(full)
    assert set(curve.scores["metric"]) == set(moons_report.metrics)
    assert curve.summary("accuracy")["mean_test"].between(0, 1).all()
    # a linear model on moons met its training score long ago
    assert curve.more_data_helps is False and "more data would help" not in curve.finding


def test_a_model_far_from_its_training_score_gains_from_more_rows():
    X, y = make_classification(200, n_features=40, n_informative=10, random_state=0)
    curve = learning_curve(KNeighborsClassifier(), X, y, cv=5, train_sizes=(0.25, 0.5, 1.0))
    assert curve.more_data_helps is True and "more data would help" in curve.finding
    assert curve.summary()["mean_test"].is_monotonic_increasing


class _FailsOnSmallData(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        if len(y) < 50:
            raise ValueError("needs at least 50 rows")
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_learning_curve_errors(moons):
    X, y = moons
    with pytest.raises(InvalidParameterError, match=r"fractions in \(0, 1\]"):
        learning_curve(LogisticRegression(), X, y, train_sizes=(0.5, 2))
    with pytest.raises(InvalidParameterError, match="empty"):
        learning_curve(LogisticRegression(), X, y, train_sizes=())
    with pytest.raises(InvalidParameterError, match="repeats"):
        learning_curve(LogisticRegression(), X, y, train_sizes=(0.5, 0.5))
    with pytest.raises(CandidateFailedError, match="needs at least 50 rows"):
        learning_curve(_FailsOnSmallData(), X, y, train_sizes=(0.1, 1.0))
