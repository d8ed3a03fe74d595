"""Default candidates, their registry and search spaces; a user's torch module as a candidate."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone, is_classifier, is_regressor

from foldstack.exceptions import InvalidParameterError
from foldstack.models import (
    CANDIDATE_NAMES,
    CANDIDATES,
    DEFAULT_NAMES,
    TabularMLPClassifier,
    default_candidates,
    search_space,
)
from foldstack.selection import cross_validate_candidates
from foldstack.utils._validation import check_params

_TARGETS = {"binary": "binary_target", "multiclass": "multiclass_target",
            "regression": "regression_target"}


def _fast(name, est):
    """Shrink a candidate so a test fit takes a fraction of a second."""
    if name == "mlp":
        return est.set_params(max_epochs=3, width=16)
    if name in ("xgboost", "random_forest", "extra_trees"):
        return est.set_params(model__n_estimators=10)
    if name in ("lightgbm", "catboost"):
        return est.set_params(n_estimators=10)
    return est


def test_registry_lists_the_candidates_and_the_four_defaults():
    assert CANDIDATE_NAMES == ("linear", "xgboost", "random_forest", "mlp", "lightgbm",
                               "catboost", "extra_trees", "linear_cv")
    assert tuple(CANDIDATES) == CANDIDATE_NAMES
    assert DEFAULT_NAMES == ("linear", "xgboost", "random_forest", "mlp")
    assert list(default_candidates("binary")) == list(DEFAULT_NAMES)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_candidates_fit_the_raw_mixed_table(task, mixed_frame, request):
    y = request.getfixturevalue(_TARGETS[task])
    candidates = default_candidates(task, random_state=0, names=CANDIDATE_NAMES)
    assert list(candidates) == list(CANDIDATE_NAMES)
    new = mixed_frame.head(4).assign(cat=["unseen", None, "a", "zz"], high="never-seen")
    for name, est in candidates.items():
        assert (is_regressor if task == "regression" else is_classifier)(est), name
        fitted = _fast(name, clone(est)).fit(mixed_frame, y)
        pred = fitted.predict(new)
        assert pred.shape == (4,), name
        if task != "regression":
            assert set(pred) <= set(np.unique(y)), name
            proba = fitted.predict_proba(new)
            assert proba.shape == (4, len(np.unique(y))), name
            np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
        pickle.loads(pickle.dumps(fitted)).predict(new)


def test_candidates_are_seeded():
    a = default_candidates("binary", random_state=3)
    assert a["xgboost"].get_params()["model__random_state"] == 3
    assert a["random_forest"].get_params()["model__random_state"] == 3
    assert a["mlp"].random_state == 3
    b = default_candidates("binary", random_state=3, names=["lightgbm", "catboost"])
    assert b["lightgbm"].random_state == b["catboost"].random_state == 3


def test_unknown_names_and_tasks():
    with pytest.raises(InvalidParameterError,
                       match=r"Unknown candidate 'xgbost'\. Did you mean 'xgboost'\?.*"
                             r"linear, xgboost, random_forest, mlp, lightgbm, catboost, extra_trees"):
        default_candidates("binary", names=["linear", "xgbost"])
    with pytest.raises(InvalidParameterError, match=r"`task` must be one of.*'regression'"):
        default_candidates("regresion")
    assert list(default_candidates("binary", names="mlp,linear")) == ["mlp", "linear"]


def _values(spec):
    kind = spec[0]
    if kind == "categorical":
        assert isinstance(spec[1], list) and spec[1], spec
        return list(spec[1])
    assert kind in ("int", "float") and len(spec) in (3, 4), spec
    lo, hi = spec[1], spec[2]
    assert lo < hi, spec
    if kind == "int":
        assert isinstance(lo, int) and isinstance(hi, int), spec
    if len(spec) == 4:
        assert spec[3] == "log" and lo > 0, spec
    return [lo, hi]


@pytest.mark.parametrize("name", CANDIDATE_NAMES)
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_search_space_keys_and_bounds(name, task):
    space = search_space(name, task=task)
    est = default_candidates(task, names=[name])[name]
    valid = est.get_params()
    for key, spec in space.items():
        assert key in valid, f"{name}: {key} is not a parameter"
        for value in _values(spec):
            est.set_params(**{key: value})
            if name == "mlp":
                check_params(est)  # the MLP's own validation accepts every bound
    if name == "mlp":
        required = {"depth", "width", "activation", "dropout", "weight_decay", "optimizer",
                    "lr", "lr_schedule", "batch_size"}
        assert required <= set(space)


@pytest.mark.parametrize("name", CANDIDATE_NAMES)
def test_search_space_values_fit(name, mixed_frame, regression_target):
    """The corners of each space are accepted by fit (every low bound, then every high)."""
    space = search_space(name, task="regression")
    for corner in (0, -1):
        est = _fast(name, default_candidates("regression", names=[name])[name])
        est.set_params(**{k: _values(spec)[corner] for k, spec in space.items()
                          if not k.endswith("n_estimators")})
        est.fit(mixed_frame, regression_target)


def test_search_space_errors():
    with pytest.raises(InvalidParameterError, match="depends on the task"):
        search_space("linear")
    with pytest.raises(InvalidParameterError, match="Did you mean 'mlp'"):
        search_space("mpl")
    assert search_space("mlp") == search_space("mlp", task="binary")
    search_space("mlp")["lr"] = None  # a fresh dict each call
    assert search_space("mlp")["lr"][0] == "float"


class SmallNet(torch.nn.Module):
    """A user's own body: built from the preprocessed width and the number of outputs."""

    def __init__(self, n_in, n_out, hidden=8):
        super().__init__()
        self.layers = torch.nn.Sequential(torch.nn.Linear(n_in, hidden), torch.nn.Tanh(),
                                          torch.nn.Linear(hidden, n_out))

    def forward(self, x):
        return self.layers(x)


def test_custom_torch_module_as_a_candidate_beside_xgboost(mixed_frame, binary_target):
    candidates = _fast("xgboost", default_candidates("binary", names=["xgboost"])["xgboost"])
    custom = TabularMLPClassifier(module=SmallNet, module_params={"hidden": 6}, max_epochs=10,
                                  lr=1e-2, random_state=0)
    report = cross_validate_candidates({"xgboost": candidates, "my_net": custom}, mixed_frame,
                                       binary_target, cv=3, random_state=0, verbose=0)
    board = report.leaderboard()
    assert set(board.index) == {"xgboost", "my_net"}
    assert (board["status"] == "ok").all()
    assert board.loc["my_net", "mean_test_roc_auc"] > 0.5
    fold_model = report.results["my_net"].fold_models[0]
    assert isinstance(fold_model.net_.module_.body, SmallNet)
    assert fold_model.history_[0]["epoch"] == 1


@pytest.mark.parametrize("name", ["linear", "xgboost", "random_forest", "mlp"])
def test_column_names_xgboost_would_refuse_work_everywhere(name):
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"<script>alert(1)</script>": rng.normal(size=80),
                      "price[usd]": rng.normal(size=80), "c": rng.choice(["a", "b"], 80)})
    y = np.where(X.iloc[:, 0] > 0, "yes", "no")
    est = default_candidates("binary", names=[name])[name]
    if name == "mlp":
        est.set_params(max_epochs=2, width=8, numeric_embedding=None)
    proba = est.fit(X, y).predict_proba(X.head(5))
    assert proba.shape == (5, 2) and np.isfinite(proba).all()


@pytest.mark.parametrize("dtype", [object, "str", "category"])
@pytest.mark.parametrize("task", ["binary", "regression"])
@pytest.mark.parametrize("name", ["linear", "xgboost", "random_forest", "mlp"])
def test_text_column_missing_in_every_training_row(name, task, dtype):
    # categorical with no level in fit: a string at predict time is an unknown level, not a
    # bad number (object), and xgboost gets a category dtype it can read (category, str)
    X = pd.DataFrame({"a": np.arange(6.0), "b": pd.Series([np.nan] * 5 + ["x"], dtype=dtype)})
    y = np.arange(5.0) if task == "regression" else np.array(["no", "yes"] * 2 + ["no"])
    est = _fast(name, default_candidates(task, names=[name])[name])
    if name == "mlp":
        est.set_params(max_epochs=2, numeric_embedding=None)
    fitted = est.fit(X.iloc[:5], y)
    pred = fitted.predict(X)
    assert pred.shape == (6,)
    assert np.isfinite(pred).all() if task == "regression" else set(pred) <= {"no", "yes"}
