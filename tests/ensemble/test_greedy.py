"""greedy_weights and optimize_weights on hand-made arrays whose answer is known."""

import numpy as np
import pytest
from sklearn import metrics as M

from foldstack.ensemble import greedy_weights, optimize_weights
from foldstack.exceptions import InvalidParameterError


def _proba(p1):
    p1 = np.asarray(p1, dtype=float)
    return np.stack([1 - p1, p1], axis=-1)


Y10 = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0])
GOOD = _proba([0.2, 0.8, 0.7, 0.3, 0.9, 0.1, 0.4, 0.6, 0.8, 0.2])
NOISE = _proba([0.5, 0.4, 0.6, 0.5, 0.3, 0.7, 0.5, 0.5, 0.4, 0.6])
WRONG = GOOD[:, ::-1]


def test_three_fake_models_ten_rows_the_good_one_wins():
    oof = np.stack([WRONG, NOISE, GOOD], axis=1)
    for metric in ("log_loss", "roc_auc", "accuracy"):
        w = greedy_weights(oof, Y10, metric=metric, n_iter=20)
        assert w.tolist() == [0.0, 0.0, 1.0], metric


def test_complementary_regressors_share_the_weight():
    y = np.arange(10.0)
    noise = np.random.RandomState(0).normal(scale=2.0, size=10)
    oof = np.column_stack([y + 1, y - 1, y + noise])    # biased up, biased down, noisy
    for metric in ("mse", "mae"):
        w = greedy_weights(oof, y, metric=metric, n_iter=40)
        np.testing.assert_allclose(w, [0.5, 0.5, 0.0])
    np.testing.assert_allclose(optimize_weights(oof, y, loss="mse"), [0.5, 0.5, 0.0],
                               atol=1e-4)
    np.testing.assert_allclose(optimize_weights(oof, y, loss="mae"), [0.5, 0.5, 0.0],
                               atol=1e-6)


def test_ties_prefer_models_already_selected_and_best_prefix_is_kept():
    # two identical models: every round ties, and the first selected keeps every pick
    oof = np.stack([GOOD, GOOD], axis=1)
    assert greedy_weights(oof, Y10, n_iter=30).tolist() == [1.0, 0.0]
    # adding a worse model never helps: the trajectory is cut to the best prefix
    w = greedy_weights(np.stack([GOOD, NOISE], axis=1), Y10, n_iter=50, n_init=1)
    assert w.tolist() == [1.0, 0.0]


def _reference(oof, y, score, n_iter, n_init):
    """Caruana's selection written plainly with scikit-learn metrics (lower is better)."""
    order = np.argsort([score(y, oof[:, m]) for m in range(oof.shape[1])], kind="stable")
    best_k, best = 1, np.inf
    for k in range(1, n_init + 1):
        value = score(y, oof[:, order[:k]].mean(axis=1))
        if value < best - 1e-12:
            best_k, best = k, value
    picks = list(order[:best_k])
    traj = [best]
    while len(picks) < n_iter:
        values = [score(y, oof[:, [*picks, m]].mean(axis=1)) for m in range(oof.shape[1])]
        low = min(values)
        tied = [m for m, v in enumerate(values) if v <= low + 1e-9]
        j = max(tied, key=lambda m: (picks.count(m), -m))
        picks.append(j)
        traj.append(values[j])
    picks = picks[:best_k + int(np.argmin(traj))]
    return np.bincount(picks, minlength=oof.shape[1]) / len(picks)


@pytest.mark.parametrize("metric, score", [
    ("log_loss", lambda y, p: M.log_loss(y, p, labels=[0, 1, 2])),
    ("accuracy", lambda y, p: 1 - M.accuracy_score(y, p.argmax(axis=1))),
    ("mse", M.mean_squared_error),
    ("mae", M.mean_absolute_error),
    ("roc_auc", lambda y, p: -M.roc_auc_score(y, p[:, 1])),
])
def test_vectorised_losses_match_a_plain_implementation(metric, score):
    rng = np.random.RandomState(0)
    n, m = 300, 6
    if metric in ("mse", "mae"):
        y = rng.normal(size=n)
        oof = y[:, None] + rng.normal(scale=rng.uniform(0.5, 2, m), size=(n, m))
    else:
        k = 2 if metric == "roc_auc" else 3
        y = rng.randint(0, k, n)
        logits = rng.normal(size=(n, m, k)) + 1.5 * rng.uniform(size=m)[None, :, None] * \
            np.eye(k)[y][:, None, :]
        oof = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
    got = greedy_weights(oof, y, metric=metric, n_iter=25, n_init=3)
    np.testing.assert_allclose(got, _reference(oof, y, score, 25, 3))


def test_weights_sum_to_one_and_are_reproducible():
    rng = np.random.RandomState(1)
    y = rng.randint(0, 2, 200)
    oof = _proba(np.clip(y[:, None] * 0.3 + rng.uniform(size=(200, 8)) * 0.7, 0, 1))
    first = greedy_weights(oof, y, n_iter=60)
    assert first.sum() == pytest.approx(1.0) and (first >= 0).all()
    np.testing.assert_array_equal(first, greedy_weights(oof, y, n_iter=60))
    bagged = greedy_weights(oof, y, n_iter=60, n_bags=5, random_state=3)
    assert bagged.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(bagged, greedy_weights(oof, y, n_iter=60, n_bags=5,
                                                         random_state=3))
    assert np.count_nonzero(bagged) >= np.count_nonzero(first)


def test_callable_metric_and_single_model():
    w = greedy_weights(np.stack([WRONG, GOOD], axis=1), Y10, n_iter=5,
                       metric=lambda y, p: -M.f1_score(y, p.argmax(axis=1)))
    assert w.tolist() == [0.0, 1.0]
    assert greedy_weights(GOOD[:, None], Y10).tolist() == [1.0]


def test_optimized_log_loss_beats_equal_weights():
    rng = np.random.RandomState(2)
    y = rng.randint(0, 2, 400)
    sharp = _proba(np.where(y == 1, 0.8, 0.2) + rng.normal(scale=0.05, size=400).clip(-.1, .1))
    oof = np.stack([sharp, NOISE.repeat(40, axis=0)], axis=1)
    w = optimize_weights(oof, y)
    assert w.sum() == pytest.approx(1.0) and w[0] > 0.9
    avg = np.tensordot(oof, w, axes=([1], [0]))
    assert M.log_loss(y, avg) <= M.log_loss(y, oof.mean(axis=1))


@pytest.mark.parametrize("kwargs, match", [
    ({"metric": "logloss"}, "Did you mean 'log_loss'"),
    ({"n_iter": 0}, "n_iter.*>= 1"),
    ({"bag_fraction": 0}, "bag_fraction"),
    ({"max_rows": 0}, "max_rows.*>= 1"),
    ({"max_rows": 2.5}, "max_rows"),
    ({"metric": "mse", "oof": np.zeros(10)}, "shape"),
])
def test_greedy_bad_arguments(kwargs, match):
    oof = kwargs.pop("oof", np.stack([GOOD, NOISE], axis=1))
    with pytest.raises(InvalidParameterError, match=match):
        greedy_weights(oof, Y10, **kwargs)


def test_optimized_squared_error_does_not_depend_on_the_target_unit():
    rng = np.random.RandomState(3)
    y = rng.normal(size=500)
    oof = np.column_stack([y + rng.normal(scale=s, size=500) for s in (0.3, 0.5, 1.0, 2.0)])
    w = optimize_weights(oof, y, loss="mse")
    for unit in (1e-4, 1e4, 1e8):               # e.g. prices in dollars or millions
        np.testing.assert_allclose(optimize_weights(oof * unit, y * unit, loss="mse"), w,
                                   atol=1e-6)
    assert w[0] > w[1] > w[2] >= w[3] >= 0


@pytest.mark.parametrize("metric", ["roc_auc", "log_loss", "mse"])
def test_large_tables_select_on_a_fixed_subset_of_rows(metric):
    from foldstack.ensemble._greedy import _row_subset

    rng = np.random.default_rng(0)
    n = 30_000
    y = (rng.random(n) < 0.4).astype(int)
    signal = np.clip(y[:, None] * 0.3 + rng.random((n, 4)) * np.array([0.7, 0.9, 1.0, 1.0]),
                     0, 1)
    oof = np.stack([1 - signal, signal], axis=-1) if metric != "mse" else signal
    target = y if metric != "mse" else y.astype(float)
    w = greedy_weights(oof, target, metric=metric, max_rows=10_000)
    # the same subset every time (seeded by the row count), and exactly the selection that
    # the subset alone gives
    rows = _row_subset(target, 10_000, by_class=metric != "mse")
    assert len(rows) == pytest.approx(10_000, abs=2)
    assert np.array_equal(w, greedy_weights(oof[rows], target[rows], metric=metric,
                                            max_rows=None))
    assert np.array_equal(w, greedy_weights(oof, target, metric=metric, max_rows=10_000))
    # up to max_rows rows, nothing changes
    assert np.array_equal(greedy_weights(oof, target, metric=metric),
                          greedy_weights(oof, target, metric=metric, max_rows=None))


def test_the_row_subset_keeps_a_rare_class_whole():
    # 3 positives in 2,000 rows: a uniform subset of 200 would most likely hold none, and
    # ROC AUC could not tell the good model from noise
    rng = np.random.default_rng(0)
    n = 2_000
    y = np.zeros(n, int)
    y[rng.choice(n, 3, replace=False)] = 1
    good = np.where(y == 1, 0.9, 0.1) + rng.random(n) * 0.01
    bad = rng.random(n)
    oof = np.stack([np.stack([1 - bad, bad], 1), np.stack([1 - good, good], 1)], 1)
    w = greedy_weights(oof, y, metric="roc_auc", n_iter=10, max_rows=200)
    assert w.tolist() == [0.0, 1.0]
