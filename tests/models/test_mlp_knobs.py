"""Each training / architecture knob of the tabular networks takes effect (short fits)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from foldstack.models import TabularMLPClassifier, TabularMLPRegressor


def _final_train_loss(est):
    return est.history_[-1]["train_loss"]


def _layers(est, kind):
    return [m for m in est.net_.module_.body.modules() if isinstance(m, kind)]


def test_depth_width_and_hidden_layer_sizes(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**{**tiny, "depth": 3, "width": 12}).fit(mixed_frame,
                                                                        binary_target)
    assert [m.out_features for m in _layers(clf, torch.nn.Linear)] == [12, 12, 12, 2]
    clf.set_params(hidden_layer_sizes=(10, 6)).fit(mixed_frame, binary_target)
    assert [m.out_features for m in _layers(clf, torch.nn.Linear)] == [10, 6, 2]


@pytest.mark.parametrize("name, cls", [("relu", torch.nn.ReLU), ("leaky_relu", torch.nn.LeakyReLU),
                                       ("gelu", torch.nn.GELU), ("selu", torch.nn.SELU),
                                       ("silu", torch.nn.SiLU)])
def test_activation(tiny, mixed_frame, binary_target, name, cls):
    clf = TabularMLPClassifier(**{**tiny, "activation": name, "max_epochs": 2})
    clf.fit(mixed_frame, binary_target)
    assert len(_layers(clf, cls)) == 1


def test_batch_norm(tiny, mixed_frame, binary_target):
    off = TabularMLPClassifier(**tiny).fit(mixed_frame, binary_target)
    on = TabularMLPClassifier(**{**tiny, "batch_norm": True}).fit(mixed_frame, binary_target)
    assert not _layers(off, torch.nn.BatchNorm1d) and len(_layers(on, torch.nn.BatchNorm1d)) == 1
    assert not np.allclose(on.predict_proba(mixed_frame), off.predict_proba(mixed_frame))


def test_dropout_raises_training_loss(tiny, mixed_frame, regression_target):
    params = {**tiny, "width": 64, "max_epochs": 15, "early_stopping": False}
    off = TabularMLPRegressor(**{**params, "dropout": 0.0}).fit(mixed_frame, regression_target)
    on = TabularMLPRegressor(**{**params, "dropout": 0.6}).fit(mixed_frame, regression_target)
    assert _final_train_loss(on) > _final_train_loss(off)
    assert len(_layers(on, torch.nn.Dropout)) == 1


def test_weight_decay_shrinks_weights(tiny, mixed_frame, regression_target):
    params = {**tiny, "early_stopping": False, "max_epochs": 15}
    free = TabularMLPRegressor(**{**params, "weight_decay": 0.0}).fit(mixed_frame,
                                                                      regression_target)
    decayed = TabularMLPRegressor(**{**params, "weight_decay": 5.0}).fit(mixed_frame,
                                                                         regression_target)

    def norm(est):
        return sum(float(p.detach().norm()) for p in est.net_.module_.body.parameters())

    assert norm(decayed) < 0.8 * norm(free)


@pytest.mark.parametrize("name, cls, extra", [
    ("sgd", torch.optim.SGD, {"momentum": 0, "nesterov": False}),
    ("momentum", torch.optim.SGD, {"momentum": 0.8, "nesterov": False}),
    ("nesterov", torch.optim.SGD, {"momentum": 0.8, "nesterov": True}),
    ("adam", torch.optim.Adam, {}),
    ("adamw", torch.optim.AdamW, {"weight_decay": 1e-3}),
])
def test_optimizer(tiny, mixed_frame, binary_target, name, cls, extra):
    clf = TabularMLPClassifier(**{**tiny, "optimizer": name, "momentum": 0.8,
                                  "weight_decay": 1e-3, "max_epochs": 2})
    clf.fit(mixed_frame, binary_target)
    opt = clf.net_.optimizer_
    assert type(opt) is cls
    for key, value in extra.items():
        assert opt.param_groups[0][key] == value


def _lrs(est):
    return np.array([row["lr"] for row in est.history_])


def test_lr_schedules(tiny, mixed_frame, binary_target):
    params = {**tiny, "early_stopping": False, "max_epochs": 9, "lr": 0.01}

    def fit(schedule, extra=None):
        return TabularMLPClassifier(**{**params, "lr_schedule": schedule,
                                       "lr_schedule_params": extra}).fit(mixed_frame,
                                                                         binary_target)

    np.testing.assert_allclose(_lrs(fit("none")), 0.01)
    np.testing.assert_allclose(_lrs(fit("step")), [0.01] * 3 + [0.001] * 3 + [0.0001] * 3)
    np.testing.assert_allclose(_lrs(fit("exponential", {"gamma": 0.5})),
                               0.01 * 0.5 ** np.arange(9))
    cosine = _lrs(fit("cosine"))
    assert cosine.argmax() <= 2 and cosine[-1] < 1e-4 and np.all(np.diff(cosine[2:]) < 0)
    onecycle = _lrs(fit("onecycle"))
    assert 0 < onecycle.argmax() < 8 and onecycle.max() == pytest.approx(0.01, rel=0.2)
    assert onecycle[-1] < onecycle.max() / 100


def test_plateau_lowers_the_lr(tiny, binary_target):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(len(binary_target), 3))  # noise: the validation loss plateaus
    clf = TabularMLPClassifier(**{**tiny, "lr_schedule": "plateau", "max_epochs": 20,
                                  "patience": 50, "lr_schedule_params": {"patience": 1}})
    lrs = _lrs(clf.fit(X, binary_target))
    assert lrs[0] == 0.01 and lrs[-1] < 0.01
    assert np.all(np.diff(lrs) <= 0)


def test_early_stopping_stops_and_restores_the_best_epoch(tiny, binary_target):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(len(binary_target), 5))  # noise: it overfits fast
    params = {**tiny, "width": 64, "lr": 0.02, "lr_schedule": "none", "max_epochs": 60,
              "patience": 4}
    stopped = TabularMLPClassifier(**params).fit(X, binary_target)
    valid = [row["valid_loss"] for row in stopped.history_]
    assert stopped.n_epochs_ < 60
    assert stopped.best_epoch_ == int(np.argmin(valid)) + 1
    assert stopped.n_epochs_ == stopped.best_epoch_ + 4
    # the same run cut at the best epoch ends with the weights early stopping restored
    cut = TabularMLPClassifier(**{**params, "max_epochs": stopped.best_epoch_,
                                  "patience": 100}).fit(X, binary_target)
    np.testing.assert_allclose(cut.predict_proba(X), stopped.predict_proba(X), rtol=1e-6)


def test_no_early_stopping_runs_max_epochs_on_all_rows(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**{**tiny, "early_stopping": False}).fit(mixed_frame,
                                                                        binary_target)
    assert clf.n_epochs_ == clf.best_epoch_ == tiny["max_epochs"]
    assert "valid_loss" not in clf.history_[0]


def test_grad_clip_limits_the_steps(tiny, mixed_frame, regression_target):
    params = {**tiny, "early_stopping": False, "lr_schedule": "none", "optimizer": "sgd",
              "lr": 0.1, "dropout": 0.0}
    free = TabularMLPRegressor(**params).fit(mixed_frame, regression_target)
    clipped = TabularMLPRegressor(**{**params, "grad_clip": 1e-6}).fit(mixed_frame,
                                                                       regression_target)
    first = clipped.history_[0]["train_loss"]
    assert _final_train_loss(clipped) == pytest.approx(first, rel=1e-3)
    assert _final_train_loss(free) < 0.5 * first


def test_class_weight_favours_the_minority(tiny):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = np.where(X[:, 0] + rng.normal(scale=1.5, size=200) > 1.6, "rare", "common")
    params = {**tiny, "max_epochs": 15}
    plain = TabularMLPClassifier(**params).fit(X, y)
    balanced = TabularMLPClassifier(**{**params, "class_weight": "balanced"}).fit(X, y)
    manual = TabularMLPClassifier(**{**params, "class_weight": {"rare": 10.0}}).fit(X, y)
    rare = list(plain.classes_).index("rare")
    base = plain.predict_proba(X)[:, rare].mean()
    assert balanced.predict_proba(X)[:, rare].mean() > base + 0.1
    assert manual.predict_proba(X)[:, rare].mean() > base + 0.1
    assert balanced.net_.criterion_.weight is not None


def test_label_smoothing_softens_probabilities(tiny, mixed_frame, binary_target):
    params = {**tiny, "max_epochs": 20, "early_stopping": False}
    sharp = TabularMLPClassifier(**params).fit(mixed_frame, binary_target)
    smooth = TabularMLPClassifier(**{**params, "label_smoothing": 0.4}).fit(mixed_frame,
                                                                          binary_target)
    assert smooth.predict_proba(mixed_frame).max() < sharp.predict_proba(mixed_frame).max()


def test_standardize_target(tiny, mixed_frame, regression_target):
    y = 1000.0 * regression_target + 5e4
    params = {**tiny, "max_epochs": 3}
    scaled = TabularMLPRegressor(**params).fit(mixed_frame, y)
    raw = TabularMLPRegressor(**{**params, "standardize_target": False}).fit(mixed_frame, y)
    assert scaled.history_[0]["train_loss"] < 10 < 1e6 < raw.history_[0]["train_loss"]
    assert abs(scaled.predict(mixed_frame).mean() - y.mean()) < 0.2 * y.std()


@pytest.mark.parametrize("augmentation", ["noise", "mixup"])
def test_augmentation_changes_training(tiny, mixed_frame, binary_target, regression_target,
                                       augmentation):
    params = {**tiny, "early_stopping": False}
    for cls, y in ((TabularMLPClassifier, binary_target),
                   (TabularMLPRegressor, regression_target)):
        plain = cls(**params).fit(mixed_frame, y)
        augmented = cls(**{**params, "augmentation": augmentation,
                           "augmentation_strength": 0.5}).fit(mixed_frame, y)
        assert _final_train_loss(augmented) != _final_train_loss(plain)
        assert len(augmented.predict(mixed_frame)) == len(mixed_frame)


@pytest.mark.parametrize("transform", ["robust", "standard", "quantile"])
def test_numeric_transform(tiny, mixed_frame, binary_target, transform):
    clf = TabularMLPClassifier(**{**tiny, "numeric_transform": transform, "max_epochs": 1})
    clf.fit(mixed_frame, binary_target)
    x_num, _ = clf.encoder_.transform(mixed_frame)
    scaled = x_num[:, :3]  # num, num_nan, count
    assert abs(float(np.median(scaled[:, 0]))) < 0.1
    if transform == "robust":
        assert np.abs(scaled).max() < 3.0  # smooth clipping
    if transform == "standard":
        assert scaled[:, 0].std() == pytest.approx(1.0, rel=1e-4)


def test_periodic_numeric_embedding(tiny, mixed_frame, regression_target):
    reg = TabularMLPRegressor(**{**tiny, "numeric_embedding": "periodic"})
    reg.fit(mixed_frame, regression_target)
    assert reg.net_.module_.periodic is not None
    assert reg.net_.module_.n_periodic == 3
    assert np.isfinite(reg.predict(mixed_frame)).all()


@pytest.mark.parametrize("batch_size", ["auto", 1000, 7])
def test_batch_size(tiny, mixed_frame, binary_target, batch_size):
    clf = TabularMLPClassifier(**{**tiny, "batch_size": batch_size, "max_epochs": 2,
                                  "batch_norm": True})
    clf.fit(mixed_frame, binary_target)
    assert clf.predict_proba(mixed_frame).shape == (len(mixed_frame), 2)
