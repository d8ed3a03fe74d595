"""Column typing and the two encoders (learned from the training rows only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from foldstack.exceptions import ColumnNotFoundError, DataError
from foldstack.models import CategoryDtypeEncoder
from foldstack.models._preprocess import MLPInputEncoder, infer_column_types


def test_column_types_by_dtype():
    X = pd.DataFrame({
        "f": [1.5, np.nan], "i": [1, 2], "b": [True, False],
        "s": pd.Series(["x", None], dtype="str"), "o": pd.Series(["x", 1], dtype=object),
        "on": pd.Series([1.0, 2], dtype=object), "c": pd.Categorical(["u", "v"]),
    })
    assert infer_column_types(X) == (["f", "i", "on"], ["b", "s", "o", "c"])
    assert infer_column_types(X, numeric_features=["b"], categorical_features=["i"]) == (
        ["f", "b", "on"], ["i", "s", "o", "c"])


def test_category_dtype_encoder(mixed_frame):
    enc = CategoryDtypeEncoder().fit(mixed_frame)
    out = enc.transform(mixed_frame)
    assert list(out.columns) == list(mixed_frame.columns)
    assert [str(t) for t in out.dtypes] == ["float64", "float64", "float64", "category",
                                            "category", "category"]
    assert enc.categories_["cat"] == ["a", "b", "c"]
    assert enc.categories_["flag"] == ["False", "True"]
    assert out["cat"].isna().sum() == mixed_frame["cat"].isna().sum()
    new = enc.transform(mixed_frame.head(3).assign(cat=["a", "unseen", None]))
    assert new["cat"].tolist()[0] == "a" and new["cat"].isna().tolist()[1:] == [True, True]
    shuffled = mixed_frame[mixed_frame.columns[::-1]]
    pd.testing.assert_frame_equal(enc.transform(shuffled), out)
    with pytest.raises(ColumnNotFoundError, match="Column 'num' was present"):
        enc.transform(mixed_frame.drop(columns="num"))
    assert enc.get_feature_names_out().tolist() == list(mixed_frame.columns)


def test_category_dtype_encoder_arrays_and_bad_numbers():
    X = np.array([[1.0, "a"], [2.0, "b"], [np.nan, None]], dtype=object)
    out = CategoryDtypeEncoder().fit(X).transform(X)
    assert str(out.dtypes.iloc[0]) == "float64" and str(out.dtypes.iloc[1]) == "category"
    bad = pd.DataFrame({"n": ["1", "x"]})
    with pytest.raises(DataError, match="Column 'n' is treated as numeric"):
        CategoryDtypeEncoder(numeric_features=["n"]).fit(bad)


def test_mlp_encoder_uses_training_statistics_only():
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0, np.nan, 5.0], "c": ["a", "a", "b", "b", "c"]})
    enc = MLPInputEncoder(["x"], ["c"], numeric_transform="standard", min_frequency=2).fit(train)
    test = pd.DataFrame({"x": [np.nan, 100.0], "c": ["c", "zzz"]})
    x_num, x_cat = enc.transform(test)
    # x: median 2.5 imputed; scaled with the training mean / std; indicator; one-hot a, b
    filled = np.array([1.0, 2.0, 3.0, 2.5, 5.0])
    expected = (np.array([2.5, 100.0]) - filled.mean()) / filled.std()
    np.testing.assert_allclose(x_num[:, 0], expected, rtol=1e-6)
    np.testing.assert_array_equal(x_num[:, 1], [1.0, 0.0])
    np.testing.assert_array_equal(x_num[:, 2:], 0.0)  # "c" is rare, "zzz" unseen: no level
    assert x_cat.shape == (2, 0) and enc.n_num_ == 4


def test_mlp_encoder_embeds_high_cardinality():
    train = pd.DataFrame({"c": [f"v{i % 20}" for i in range(200)] + ["once"]})
    enc = MLPInputEncoder([], ["c"], one_hot_max_categories=8, max_categories=10).fit(train)
    assert enc.embedded_ == ["c"] and enc.cardinalities_ == [11]
    _, x_cat = enc.transform(pd.DataFrame({"c": ["v0", "once", "new", None]}))
    assert x_cat[0, 0] > 0 and x_cat[1:, 0].tolist() == [0, 0, 0]


def test_column_with_no_value_in_fit():
    X = pd.DataFrame({"o": pd.Series([None, np.nan], dtype=object), "f": [np.nan, np.nan],
                      "c": pd.Categorical([None, None])})
    assert infer_column_types(X) == (["f"], ["o", "c"])  # float NaN stays numeric
    enc = CategoryDtypeEncoder().fit(X)
    assert enc.categories_ == {"o": [], "c": []}
    out = enc.transform(X.assign(o=["new", None], c=pd.Categorical(["new", None])))
    for name in ("o", "c"):  # one category no value takes: xgboost refuses none at all
        assert out[name].cat.categories.tolist() == ["missing"]
        assert out[name].isna().all()
    enc = MLPInputEncoder(["f"], ["o"], min_frequency=2).fit(X)
    x_num, _ = enc.transform(pd.DataFrame({"f": [np.nan, 1.0], "o": [None, "new"]}))
    np.testing.assert_array_equal(x_num, [[1.0], [0.0]])  # the missing level; unknown: none
