"""TabularMLPClassifier / TabularMLPRegressor: fitting, prediction, determinism, persistence."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from foldstack.exceptions import TrainingDivergedError
from foldstack.models import TabularMLPClassifier, TabularMLPRegressor, epoch_history


def test_import_and_construction_do_not_import_torch():
    code = ("import sys, foldstack; from sklearn.base import clone; "
            "m = foldstack.models.TabularMLPClassifier(); clone(m); "
            "foldstack.models.TabularMLPRegressor(); "
            "assert 'torch' not in sys.modules and 'skorch' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_classifier_on_mixed_frame(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**tiny).fit(mixed_frame, binary_target)
    proba = clf.predict_proba(mixed_frame)
    assert proba.shape == (len(mixed_frame), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(mixed_frame)) <= {"no", "yes"}
    assert clf.classes_.tolist() == ["no", "yes"]
    assert clf.feature_names_in_.tolist() == list(mixed_frame.columns)
    assert clf.n_features_in_ == 6
    assert clf.numeric_features_ == ["num", "num_nan", "count"]
    assert clf.categorical_features_ == ["cat", "flag", "high"]
    assert clf.score(mixed_frame, binary_target) > 0.6


def test_multiclass_and_regression(tiny, mixed_frame, multiclass_target, regression_target):
    clf = TabularMLPClassifier(**tiny).fit(mixed_frame, multiclass_target)
    assert clf.predict_proba(mixed_frame).shape == (len(mixed_frame), 3)
    reg = TabularMLPRegressor(**{**tiny, "max_epochs": 30}).fit(mixed_frame, regression_target)
    pred = reg.predict(mixed_frame)
    assert pred.shape == (len(mixed_frame),) and pred.dtype == np.float64
    assert reg.score(mixed_frame, regression_target) > 0.5


def test_regressor_multioutput(tiny, mixed_frame, regression_target):
    y = np.column_stack([regression_target, -regression_target])
    reg = TabularMLPRegressor(**tiny).fit(mixed_frame, y)
    assert reg.predict(mixed_frame).shape == (len(mixed_frame), 2)
    assert reg.n_outputs_ == 2


def test_unseen_categories_at_predict(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**tiny).fit(mixed_frame, binary_target)
    new = mixed_frame.head(5).copy()
    new["cat"] = ["zzz", "never", None, "a", "b"]
    new["high"] = ["unseen"] * 5
    proba = clf.predict_proba(new)
    assert np.isfinite(proba).all() and proba.shape == (5, 2)


def test_array_input_and_nan(tiny, regression_target):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 4))
    X[rng.rand(80, 4) < 0.1] = np.nan
    reg = TabularMLPRegressor(**tiny).fit(X, regression_target[:80])
    assert np.isfinite(reg.predict(X)).all()
    assert not hasattr(reg, "feature_names_in_")


def test_deterministic_and_leaves_global_rng_alone(tiny, mixed_frame, binary_target):
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state)
    torch_state = torch.random.get_rng_state()
    params = {**tiny, "dropout": 0.2, "augmentation": "noise"}
    a = TabularMLPClassifier(**params).fit(mixed_frame, binary_target)
    b = TabularMLPClassifier(**params).fit(mixed_frame, binary_target)
    np.testing.assert_array_equal(a.predict_proba(mixed_frame), b.predict_proba(mixed_frame))
    assert [r["train_loss"] for r in a.history_] == [r["train_loss"] for r in b.history_]
    c = TabularMLPClassifier(**{**params, "random_state": 1}).fit(mixed_frame, binary_target)
    assert not np.array_equal(a.predict_proba(mixed_frame), c.predict_proba(mixed_frame))
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert torch.equal(torch.random.get_rng_state(), torch_state)


def test_history_keys_and_epoch_history(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**tiny).fit(mixed_frame, binary_target)
    assert len(clf.history_) == clf.n_epochs_
    assert set(clf.history_[0]) == {"epoch", "train_loss", "valid_loss", "valid_score", "lr",
                                    "dur"}
    assert [r["epoch"] for r in clf.history_] == list(range(1, clf.n_epochs_ + 1))
    assert 1 <= clf.best_epoch_ <= clf.n_epochs_
    pipe = make_pipeline(FunctionTransformer(), TabularMLPClassifier(**tiny))
    frame = epoch_history(pipe.fit(mixed_frame, binary_target))
    assert list(frame["epoch"]) == list(range(1, len(frame) + 1))
    assert {"train_loss", "valid_loss", "lr"} <= set(frame.columns)


def test_pickle_and_clone(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**tiny).fit(mixed_frame, binary_target)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(mixed_frame),
                                  clf.predict_proba(mixed_frame))
    assert restored.history_ == clf.history_
    fresh = clone(clf)
    assert not hasattr(fresh, "net_") and fresh.get_params() == clf.get_params()


def test_pipeline_and_grid_search(tiny, mixed_frame, regression_target):
    grid = GridSearchCV(TabularMLPRegressor(**tiny), {"dropout": [0.0, 0.3]}, cv=2)
    grid.fit(mixed_frame, regression_target)
    assert grid.best_params_["dropout"] in (0.0, 0.3)
    assert grid.predict(mixed_frame).shape == (len(mixed_frame),)
    assert epoch_history(grid) is not None


def test_lr_too_large_diverges_naming_the_epoch(tiny, mixed_frame, binary_target,
                                                regression_target):
    params = {**tiny, "lr": 1e4, "optimizer": "sgd", "lr_schedule": "none"}
    with pytest.raises(TrainingDivergedError, match=r"diverged at epoch \d+"):
        TabularMLPClassifier(**params).fit(mixed_frame, binary_target)
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+.*Lower `lr`"):
        TabularMLPRegressor(**params).fit(mixed_frame, regression_target)


class _InterruptingNet(torch.nn.Module):
    """A body that simulates Ctrl-C on its third forward pass."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.linear = torch.nn.Linear(n_in, n_out)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt
        return self.linear(x)


def test_keyboard_interrupt_propagates(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**{**tiny, "module": _InterruptingNet})
    with pytest.raises(KeyboardInterrupt):
        clf.fit(mixed_frame, binary_target)
    assert not hasattr(clf, "net_")


class _TwoLayer(torch.nn.Module):
    def __init__(self, n_in, n_out, width=8):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(n_in, width), torch.nn.Tanh(),
                                       torch.nn.Linear(width, n_out))

    def forward(self, x):
        return self.net(x)


def test_custom_module(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**{**tiny, "module": _TwoLayer, "module_params": {"width": 5}})
    clf.fit(mixed_frame, binary_target)
    body = clf.net_.module_.body
    assert isinstance(body, _TwoLayer) and body.net[0].out_features == 5
    assert body.net[0].in_features == clf.net_.module_.n_in
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(mixed_frame), clf.predict(mixed_frame))


def test_verbose_prints_one_line_per_epoch(tiny, mixed_frame, binary_target, capsys):
    clf = TabularMLPClassifier(**{**tiny, "verbose": 1}).fit(mixed_frame, binary_target)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch")]
    assert len(lines) == clf.n_epochs_
    TabularMLPClassifier(**tiny).fit(mixed_frame, binary_target)
    assert capsys.readouterr().out == ""


def test_device_auto_on_cpu_machine(tiny, mixed_frame, binary_target):
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    clf = TabularMLPClassifier(**{**tiny, "device": "auto"}).fit(mixed_frame, binary_target)
    assert clf.device_ == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**{**tiny, "device": "cuda"}).fit(mixed_frame, binary_target)
    assert next(clf.net_.module_.parameters()).is_cuda
    assert clf.predict_proba(mixed_frame).shape == (len(mixed_frame), 2)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(mixed_frame),
                               clf.predict_proba(mixed_frame), rtol=1e-5)


def test_history_frame_is_tidy(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**{**tiny, "early_stopping": False}).fit(mixed_frame,
                                                                        binary_target)
    frame = pd.DataFrame(clf.history_)
    assert list(frame.columns) == ["epoch", "train_loss", "lr", "dur"]
    assert clf.n_epochs_ == clf.best_epoch_ == tiny["max_epochs"]
