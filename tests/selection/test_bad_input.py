"""Every user mistake gets a clear, typed message naming the problem and what to do."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import foldstack as fs
from foldstack.exceptions import (
    ColumnNotFoundError,
    DataError,
    DataWarning,
    InvalidParameterError,
)
from foldstack.selection import cross_validate_candidates as cvc

LR = {"lr": LogisticRegression()}


def _xy(n=30, classes=("a", "b")):
    rng = np.random.RandomState(0)
    return pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)}), \
        np.resize(np.array(classes, dtype=object), n)


def test_target_column_missing_lists_columns():
    df = pd.DataFrame({"age": [1, 2], "churn": ["y", "n"]})
    with pytest.raises(ColumnNotFoundError, match=r"'chrun'.*Did you mean 'churn'.*'age'"):
        fs.data.split_target(df, "chrun")


def test_target_nan_rows_dropped_with_warning_or_error_when_none_left():
    X, y = _xy(40)
    y = y.copy()
    y[:4] = None
    with pytest.warns(DataWarning, match="Dropped 4 of 40 rows"):
        r = cvc(LR, X, y, cv=3, verbose=0)
    assert len(r.y) == 36
    with pytest.raises(DataError, match="Every value of the target is missing"):
        cvc(LR, X, np.full(40, np.nan), cv=3, verbose=0)


@pytest.mark.parametrize("make, kwargs, exc, match", [
    (lambda: (_xy()[0], np.array(["a"] * 30)), {}, DataError, "single class"),
    (lambda: (_xy()[0], np.array(["a"] * 28 + ["b"] * 2, dtype=object)), {"cv": 5}, DataError,
     r"class 'b' has 2 rows\. Use cv=2, or drop or merge class 'b'"),
    (lambda: (_xy()[0], np.array(["a"] * 26 + ["b"] * 3 + ["c"], dtype=object)), {"cv": 5},
     DataError, r"class 'b' has 3 rows; class 'c' has 1 row\. A class with one row cannot be "
                r"stratified at all: drop the row of class 'c' or merge it into a related "
                r"class\. Then use cv between 2 and 3, or drop or merge class 'b'\."),
    (lambda: _xy(4), {"cv": 5}, DataError, "4 rows but cv=5"),
    (lambda: (_xy()[0], _xy(29)[1]), {}, DataError, "30 rows but y has 29"),
    (lambda: (pd.DataFrame([[1, 2]] * 30, columns=["a", "a"]), _xy()[1]), {}, DataError,
     "duplicate column names.*'a'"),
    (lambda: (pd.DataFrame(), np.array([])), {}, DataError, "empty"),
    (lambda: _xy(), {"cv": 1}, InvalidParameterError, "at least 2 folds"),
    (lambda: _xy(), {"scoring": "roc_acu"}, InvalidParameterError,
     "Unknown metric 'roc_acu'.*Did you mean 'roc_auc'"),
    (lambda: (_xy()[0].assign(x1=[np.inf] + [0.0] * 29), _xy()[1]), {}, DataError,
     r"\['x1'\] contain infinite values"),
    (lambda: _xy(), {"cv": "five"}, InvalidParameterError, "`cv` must be"),
])
def test_bad_input_table(make, kwargs, exc, match):
    X, y = make()
    with pytest.raises(exc, match=match):
        cvc(LR, X, y, verbose=0, **kwargs)


@pytest.mark.parametrize("value", [0, 1.5, "2", True])
def test_n_jobs_must_be_a_non_zero_int(value):
    X, y = _xy()
    with pytest.raises(InvalidParameterError,
                       match=r"`n_jobs` must be None or a non-zero int: a positive number of "
                             r"parallel workers, or a negative one for all CPU cores but "
                             rf"\|n_jobs\| - 1 .*; got {value!r}"):
        cvc(LR, X, y, n_jobs=value, verbose=0)


@pytest.mark.parametrize("value", [-1, 0, 0.0, float("nan"), float("inf"), "60", True])
def test_time_limit_must_be_finite_and_positive(value):
    X, y = _xy()
    with pytest.raises(InvalidParameterError,
                       match=r"`time_limit` must be a finite number of seconds > 0, or None "
                             r"for no time limit; got"):
        cvc(LR, X, y, time_limit=value, verbose=0)


def test_time_limit_and_its_deprecated_alias_together_are_refused():
    X, y = _xy()
    with pytest.raises(InvalidParameterError, match=r"give `time_limit` only; `time_budget` "
                                                    r"is its deprecated alias"):
        cvc(LR, X, y, time_limit=10, time_budget=10, verbose=0)


def test_one_row_class_is_never_told_to_use_fewer_than_two_folds():
    X, y = _xy()
    y = np.array(["a"] * 29 + ["rare"], dtype=object)
    for cv in (2, 5):
        with pytest.raises(DataError, match="class 'rare' has 1 row") as info:
            cvc(LR, X, y, cv=cv, verbose=0)
        message = str(info.value)
        assert "cannot be stratified at all" in message and "drop the row" in message
        assert "cv <= 1" not in message and "cv=1" not in message


def test_metric_that_does_not_fit_the_task():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    with pytest.raises(InvalidParameterError, match="'roc_auc' is for binary classification.*"
                                                    "rmse"):
        cvc({"ols": LinearRegression()}, X, y, scoring="roc_auc", verbose=0)


@pytest.mark.parametrize("candidates, match", [
    ({"x": "not a model"}, "'x' is not a scikit-learn estimator"),
    ({}, "empty"),
    (42, "must be a dict"),
    ([("a", LogisticRegression()), ("a", LogisticRegression())], "unique.*'a'"),
    ({"ols": LinearRegression()}, "'ols' is a regressor but the task is binary"),
])
def test_bad_candidates(candidates, match):
    X, y = _xy()
    with pytest.raises(InvalidParameterError, match=match):
        cvc(candidates, X, y, verbose=0)


def test_errors_are_builtin_types_too():
    X, y = _xy()
    with pytest.raises(ValueError):
        cvc(LR, X, y, cv=1, verbose=0)
    with pytest.raises(KeyError):
        fs.data.split_target(pd.DataFrame({"a": [1]}), "b")


def test_explicit_task_overrides_inference():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(60, 2)), np.resize([0, 1, 2], 60)
    r = cvc({"lr": LinearRegression()}, X, y, task="regression", cv=3, verbose=0)
    assert r.task == "regression"
    with pytest.raises(InvalidParameterError, match="`task` must be one of.*'regression'"):
        cvc(LR, X, y, task="regresion", verbose=0)
