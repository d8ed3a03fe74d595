"""The diagnosis knows the networks' loss: a robust-loss remedy for regression networks on the
squared error whose out-of-fold residuals a few rows dominate, and baselines in the loss's own
units."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBRegressor

from foldstack.diagnostics import Remedy, diagnose, remedies
from foldstack.diagnostics._diagnose import top_error_share
from foldstack.diagnostics._epochs import _baseline_loss
from foldstack.models import TabularMLPClassifier, TabularMLPRegressor
from foldstack.selection import cross_validate_candidates

HEAVY = {"heavy_tailed_residuals"}


def _robust_loss(found):
    return [r for r in found if r.param is not None and r.param.endswith("loss")]


def test_heavy_tailed_residuals_suggest_huber_for_a_network_on_mse():
    found = _robust_loss(remedies(make_pipeline(StandardScaler(), TabularMLPRegressor()),
                                  "good_fit", findings=HEAVY))
    assert found == [Remedy("a robust loss", "set", "tabularmlpregressor__loss", "mse",
                            "huber", "residuals: heavy-tailed")]
    assert str(found[0]) == ("a robust loss: set tabularmlpregressor__loss='huber' "
                             "(now 'mse')")
    assert _robust_loss(remedies(TabularMLPRegressor(), "high_variance", findings=HEAVY))


@pytest.mark.parametrize("estimator, findings", [
    (TabularMLPRegressor(loss="huber"), HEAVY),     # the actual loss is read
    (TabularMLPRegressor(loss="mae"), HEAVY),
    (TabularMLPRegressor(), set()),                 # no finding, no move
    (TabularMLPClassifier(), HEAVY),                # classifiers have no squared error
    (XGBRegressor(), HEAVY),                        # networks only
])
def test_no_robust_loss_remedy_otherwise(estimator, findings):
    assert not _robust_loss(remedies(estimator, "good_fit", findings=findings))


def test_top_error_share():
    rng = np.random.RandomState(0)
    assert top_error_share(rng.normal(size=20000)) == pytest.approx(0.085, abs=0.01)
    assert top_error_share(np.r_[rng.normal(size=200), [300.0, -250.0]]) > 0.9
    assert top_error_share(np.zeros(10)) == 0.0


def test_diagnose_reads_the_out_of_fold_residuals():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 3))
    clean = X[:, 0] + 0.1 * rng.normal(size=150)
    dirty = clean.copy()
    dirty[[3, 50, 100]] += [80.0, -60.0, 90.0]
    mlp = TabularMLPRegressor(width=8, depth=1, max_epochs=3, numeric_embedding=None,
                              random_state=0)
    for y, expected in ((dirty, True), (clean, False)):
        report = cross_validate_candidates({"mlp": mlp}, X, y, cv=3, random_state=0,
                                           verbose=0)
        moves = _robust_loss(diagnose(report).attrs["remedies"]["mlp"])
        assert bool(moves) is expected


def test_baseline_loss_is_in_the_units_of_the_networks_loss():
    y = np.r_[np.zeros(6), np.ones(2), 10.0]
    classes = np.array([0, 1])
    yc = np.array([0, 0, 0, 1])
    assert _baseline_loss(TabularMLPClassifier(), yc, classes) == pytest.approx(
        -(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))
    assert np.isnan(_baseline_loss(TabularMLPClassifier(loss="focal"), yc, classes))
    assert _baseline_loss(TabularMLPRegressor(), y, None) == 1.0
    z = (y - y.mean()) / y.std()
    assert _baseline_loss(TabularMLPRegressor(loss="mae"), y, None) == pytest.approx(
        np.mean(np.abs(z - np.median(z))))
    raw = TabularMLPRegressor(loss="huber", huber_delta=0.5, standardize_target=False)
    # the best constant's Huber loss: below the mean's and the median's
    best = _baseline_loss(raw, y, None)

    def huber(c):
        r = np.abs(y - c)
        return np.mean(np.where(r <= 0.5, 0.5 * r ** 2, 0.5 * (r - 0.25)))

    assert best <= min(huber(np.mean(y)), huber(np.median(y))) + 1e-9
    assert best == pytest.approx(min(huber(c) for c in np.linspace(0, 10, 10001)), abs=1e-6)
