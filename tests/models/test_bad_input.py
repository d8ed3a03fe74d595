"""Bad input: each case works or fails with a message naming the column / value and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from foldstack.exceptions import (
    ColumnNotFoundError,
    DataError,
    DataWarning,
    InvalidParameterError,
)
from foldstack.models import TabularMLPClassifier, TabularMLPRegressor


@pytest.mark.parametrize("params, match", [
    ({"activation": "rellu"}, r"`activation` must be one of .*'relu'.*Did you mean 'relu'"),
    ({"optimizer": "adamm"}, r"`optimizer` must be one of .*'sgd'.*Did you mean 'adam"),
    ({"lr_schedule": "cosin"}, r"`lr_schedule` must be one of .*'onecycle'.*Did you mean 'cosine'"),
    ({"augmentation": "mixupp"}, r"Did you mean 'mixup'"),
    ({"numeric_transform": "quantiles"}, r"Did you mean 'quantile'"),
    ({"dropout": 1.0}, r"`dropout` must be a float in the range \[0, 1\)"),
    ({"lr": 0}, r"`lr` must be a float in the range \(0, inf\)"),
    ({"batch_size": 0}, r"`batch_size` must be one of 'auto' or an int"),
    ({"hidden_layer_sizes": (8, -1)}, r"tuple of positive ints"),
    ({"module": "MyNet"}, r"`module` must be None or an instance of type"),
    ({"module": dict}, r"torch.nn.Module subclass"),
    ({"device": "gpu"}, r"`device` must be one of 'auto', 'cpu', 'cuda'"),
])
def test_invalid_params_raise_at_fit(tiny, mixed_frame, binary_target, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        TabularMLPClassifier(**{**tiny, **params}).fit(mixed_frame, binary_target)


def test_several_problems_are_reported_together(mixed_frame, binary_target):
    with pytest.raises(InvalidParameterError, match=r"(?s)`activation`.*`optimizer`"):
        TabularMLPClassifier(activation="x", optimizer="y").fit(mixed_frame, binary_target)


def test_declared_numeric_column_with_strings(tiny, binary_target):
    X = pd.DataFrame({"age": ["31", "n/a", "45", "unknown"] * 40, "b": np.arange(160.0)})
    with pytest.raises(DataError, match=r"Column 'age' .* non-numeric value\(s\) such as "
                                        r"\['n/a', 'unknown'\].*categorical_features"):
        TabularMLPClassifier(**{**tiny, "numeric_features": ["age"]}).fit(X, binary_target)
    # the same column is fine as a category, and "31" / "45" parse when declared numeric
    TabularMLPClassifier(**tiny).fit(X, binary_target)
    clean = X.assign(age=["31", None, "45", "50"] * 40)
    clf = TabularMLPClassifier(**{**tiny, "numeric_features": ["age"]}).fit(clean, binary_target)
    assert clf.numeric_features_ == ["age", "b"]


def test_declared_column_missing_or_in_both_lists(tiny, mixed_frame, binary_target):
    with pytest.raises(ColumnNotFoundError, match=r"'nmu' given in `numeric_features`.*"
                                                  r"Did you mean 'num'"):
        TabularMLPClassifier(**{**tiny, "numeric_features": ["nmu"]}).fit(mixed_frame,
                                                                         binary_target)
    with pytest.raises(InvalidParameterError, match=r"\['count'\] are declared both"):
        TabularMLPClassifier(**{**tiny, "numeric_features": ["count"],
                                "categorical_features": ["count"]}).fit(mixed_frame,
                                                                        binary_target)


def test_declared_categorical_numbers(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**{**tiny, "categorical_features": ["count"]})
    clf.fit(mixed_frame, binary_target)
    assert "count" in clf.categorical_features_
    assert clf.predict(mixed_frame.assign(count=99)).shape == (len(mixed_frame),)


def test_all_nan_and_constant_columns_work(tiny, mixed_frame, regression_target):
    X = mixed_frame.assign(empty=np.nan, const=7.0, empty_cat=pd.Series([None] * len(
        mixed_frame), dtype=object), const_cat="same")
    reg = TabularMLPRegressor(**tiny).fit(X, regression_target)
    pred = reg.predict(X)
    assert np.isfinite(pred).all()
    np.testing.assert_allclose(reg.predict(X.assign(empty=5.0)), pred)  # dropped column


def test_thousands_of_levels(tiny):
    rng = np.random.RandomState(0)
    n = 3000
    X = pd.DataFrame({"id": [f"user{i}" for i in rng.randint(0, 2500, n)],
                      "x": rng.normal(size=n)})
    y = np.where(X["x"] > 0, "pos", "neg")
    clf = TabularMLPClassifier(**{**tiny, "max_categories": 100, "max_epochs": 2}).fit(X, y)
    assert clf.encoder_.cardinalities_[0] <= 101  # the kept levels + the rare / unseen code
    assert clf.net_.module_.embeddings[0].num_embeddings == clf.encoder_.cardinalities_[0]
    assert clf.predict(X.assign(id="brand-new")).shape == (n,)


def test_column_missing_at_predict(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**tiny).fit(mixed_frame, binary_target)
    with pytest.raises(ColumnNotFoundError, match=r"Column 'cat' was present when "
                                                  r"TabularMLPClassifier was fitted"):
        clf.predict(mixed_frame.drop(columns=["cat"]))


def test_columns_reordered_at_predict(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**tiny).fit(mixed_frame, binary_target)
    shuffled = mixed_frame[list(reversed(mixed_frame.columns))]
    np.testing.assert_array_equal(clf.predict_proba(shuffled), clf.predict_proba(mixed_frame))
    with pytest.warns(DataWarning, match=r"ignored column\(s\) \['extra'\]"):
        clf.predict(mixed_frame.assign(extra=1))


def test_batch_larger_than_data(tiny):
    X = np.arange(20.0).reshape(10, 2)
    y = np.array([0, 1] * 5)
    clf = TabularMLPClassifier(**{**tiny, "batch_size": 4096}).fit(X, y)
    assert clf.predict(X).shape == (10,)


@pytest.mark.parametrize("X, match", [
    (pd.DataFrame({"a": [1.0, np.inf] * 10}), r"Column 'a' contains 10 infinite value.*Replace them with NaN"),
    (pd.DataFrame({"a": [], "b": []}), r"X is empty"),
])
def test_unusable_tables(tiny, X, match):
    with pytest.raises(DataError, match=match):
        TabularMLPRegressor(**tiny).fit(X, np.arange(len(X), dtype=float))


def test_target_problems(tiny, mixed_frame):
    with pytest.raises(DataError, match="only one class is present"):
        TabularMLPClassifier(**tiny).fit(mixed_frame, ["a"] * len(mixed_frame))
    with pytest.raises(ValueError, match="requires y to be passed"):
        TabularMLPClassifier(**tiny).fit(mixed_frame, None)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        TabularMLPRegressor(**tiny).fit(mixed_frame, np.zeros(3))
    with pytest.raises(InvalidParameterError, match=r"`class_weight` names classes \['maybe'\]"):
        TabularMLPClassifier(**{**tiny, "class_weight": {"maybe": 2.0}}).fit(
            mixed_frame, ["yes", "no"] * (len(mixed_frame) // 2))
