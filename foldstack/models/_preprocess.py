"""Column typing and preprocessing learned from the training rows of each fit.

Two encoders share one notion of column types:

- :class:`CategoryDtypeEncoder` (public) turns non-numeric columns into a pandas ``category``
  dtype whose categories are learned in ``fit`` (unknown values become NaN) and numeric columns
  into float; it feeds xgboost's native categorical support and the linear / forest pipelines.
- :class:`MLPInputEncoder` (private) turns a table into the two arrays a tabular network reads:
  a float matrix (imputed, scaled numeric columns, missing-value indicators, one-hot codes of
  low-cardinality categoricals) and an integer matrix of category codes for embeddings.

Column types: bool, category, object and string columns are categorical; numeric columns are
numeric; an object column holding only numbers is numeric (one holding no value at all is
categorical, a float column of NaN numeric).  ``numeric_features`` /
``categorical_features`` override the inference for the columns they name.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from foldstack.exceptions import (
    ColumnNotFoundError,
    DataError,
    DataWarning,
    InvalidParameterError,
)
from foldstack.utils._validation import did_you_mean

logger = logging.getLogger(__name__)

NUMERIC_TRANSFORMS = ("robust", "standard", "quantile", "robust_smooth_clip")
# Not "empty": an object column with no value in the training rows is text as often as numbers,
# and a string at predict time must reach the unknown level instead of failing as a bad number.
_NUMERIC_KINDS = {"integer", "floating", "mixed-integer-float", "decimal"}
# Missing categorical values form their own level, under a name users will not have.
_MISSING = "\x00missing"


# --------------------------------------------------------------------------- column typing

def as_frame(X: Any) -> pd.DataFrame:
    """Return ``X`` as a DataFrame; an array gets its column positions (0, 1, ...) as names."""
    if isinstance(X, pd.DataFrame):
        return X
    X = np.asarray(X)
    if X.ndim != 2:
        raise DataError(f"X must be 2-dimensional (rows x columns); got shape {X.shape}.")
    return pd.DataFrame(X, copy=False)


def _is_numeric_column(col: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(col) or isinstance(col.dtype, pd.CategoricalDtype):
        return False
    if pd.api.types.is_numeric_dtype(col):
        return True
    if pd.api.types.is_object_dtype(col):
        return pd.api.types.infer_dtype(col, skipna=True) in _NUMERIC_KINDS
    return False


def _check_declared(X: pd.DataFrame, names: Any, param: str) -> list:
    if names is None:
        return []
    if isinstance(names, (str, int)):
        names = [names]
    names = list(names)
    columns = list(X.columns)
    for name in names:
        if name not in columns:
            shown = ", ".join(map(repr, columns[:30])) + (" ..." if len(columns) > 30 else "")
            raise ColumnNotFoundError(
                f"Column {name!r} given in `{param}` is not in X."
                f"{did_you_mean(name, map(str, columns))} The columns are: {shown}.")
    return names


def infer_column_types(X: pd.DataFrame, numeric_features: Sequence | None = None,
                       categorical_features: Sequence | None = None) -> tuple[list, list]:
    """Split the columns of ``X`` into ``(numeric, categorical)`` lists, in the order of X.

    Declared columns keep their declared type; the others are inferred (bool, category,
    object and string columns are categorical, numbers are numeric; an object column of
    numbers is numeric, one with no value at all categorical).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "c": [True, False]})
    >>> infer_column_types(X)
    (['a'], ['b', 'c'])
    >>> infer_column_types(X, categorical_features=["a"])
    ([], ['a', 'b', 'c'])
    """
    num = _check_declared(X, numeric_features, "numeric_features")
    cat = _check_declared(X, categorical_features, "categorical_features")
    both = [c for c in num if c in cat]
    if both:
        raise InvalidParameterError(
            f"Column(s) {both} are declared both numeric (numeric_features) and categorical "
            "(categorical_features); name each column in one list only.")
    numeric, categorical = [], []
    for name in X.columns:
        if name in num or (name not in cat and _is_numeric_column(X[name])):
            numeric.append(name)
        else:
            categorical.append(name)
    return numeric, categorical


def numeric_values(X: pd.DataFrame, columns: list) -> np.ndarray:
    """The named columns as a float64 matrix (NaN for missing), with clear errors.

    A value that is not a number (a string in a column declared or inferred numeric) or an
    infinite value raises :class:`~foldstack.exceptions.DataError` naming the column.
    """
    out = np.empty((len(X), len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        col = X[name]
        if pd.api.types.is_bool_dtype(col):
            col = col.astype(float)
        elif isinstance(col.dtype, pd.CategoricalDtype):  # declared numeric
            col = col.astype(object)
        if pd.api.types.is_numeric_dtype(col):
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64,
                                                                   na_value=np.nan)
            bad = np.isnan(values) & col.notna().to_numpy()
            if bad.any():
                examples = pd.unique(col[bad].astype(str))[:3].tolist()
                raise DataError(
                    f"Column {name!r} is treated as numeric but holds {int(bad.sum())} "
                    f"non-numeric value(s) such as {examples}. Clean those values (replace them "
                    "with NaN or numbers), or declare the column categorical with "
                    f"categorical_features=[{name!r}].")
        if np.isinf(values).any():
            raise DataError(
                f"Column {name!r} contains {int(np.isinf(values).sum())} infinite value(s). "
                "Replace them with NaN (missing) or a finite number.")
        out[:, j] = values
    return out


def category_strings(col: pd.Series) -> np.ndarray:
    """Values of a categorical column as strings, missing values as one reserved level."""
    values = col.astype(object).to_numpy()
    missing = pd.isna(col).to_numpy()
    out = np.empty(len(values), dtype=object)
    out[missing] = _MISSING
    out[~missing] = [str(v) for v in values[~missing]]
    return out


# --------------------------------------------------------------------------- public encoder

class CategoryDtypeEncoder(TransformerMixin, BaseEstimator):
    """Learn categorical levels in ``fit``; output a frame of floats and ``category`` columns.

    Categorical columns (bool, category, object, string; or those named in
    ``categorical_features``) become pandas ``category`` columns whose categories are the
    levels seen in ``fit``; a level unseen in ``fit`` becomes NaN (a column with no level in
    ``fit``, all missing, gets the one category ``"missing"``, which no value takes).  Numeric
    columns become float64 with NaN for missing values.  This is what xgboost's ``enable_categorical=True``
    reads, and what ``make_column_selector(dtype_include="category")`` selects.

    Parameters
    ----------
    numeric_features : list of str or int, default=None
        Columns to treat as numeric whatever their dtype (non-numbers raise an error).
    categorical_features : list of str or int, default=None
        Columns to treat as categorical whatever their dtype.

    Attributes
    ----------
    numeric_features_ : list
        Numeric columns, in input order.
    categorical_features_ : list
        Categorical columns, in input order.
    categories_ : dict
        Column name to the learned levels (strings).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X was a DataFrame with string column names.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"size": [1.0, None, 3.0], "color": ["red", "blue", None]})
    >>> enc = CategoryDtypeEncoder().fit(X)
    >>> enc.transform(pd.DataFrame({"size": [2.0], "color": ["green"]}))["color"].isna().item()
    True
    """

    def __init__(self, *, numeric_features: Sequence | None = None,
                 categorical_features: Sequence | None = None) -> None:
        self.numeric_features = numeric_features
        self.categorical_features = categorical_features

    def fit(self, X: Any, y: Any = None) -> CategoryDtypeEncoder:
        """Learn the column types and the categorical levels of ``X``."""
        frame = _validated_frame(self, X, reset=True)
        self.numeric_features_, self.categorical_features_ = infer_column_types(
            frame, self.numeric_features, self.categorical_features)
        numeric_values(frame, self.numeric_features_)  # fail early on bad numbers
        self.categories_ = {}
        for name in self.categorical_features_:
            levels = pd.unique(category_strings(frame[name]))
            self.categories_[name] = sorted(v for v in levels if v != _MISSING)
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        """Return a DataFrame: float64 numeric columns and ``category`` columns."""
        check_is_fitted(self)
        frame = _validated_frame(self, X, reset=False)
        out = {}
        num = numeric_values(frame, self.numeric_features_)
        num_pos = {name: j for j, name in enumerate(self.numeric_features_)}
        for name in frame.columns:
            if name in num_pos:
                out[name] = num[:, num_pos[name]]
            else:
                levels = pd.Index(self.categories_[name], dtype=object)
                codes = levels.get_indexer(category_strings(frame[name]))  # -1: NaN
                if not len(levels):
                    # all missing in fit: xgboost fails on a category dtype without categories
                    # (and on names with "\x00"), so give it one that no value takes
                    levels = pd.Index(["missing"], dtype=object)
                out[name] = pd.Categorical.from_codes(codes, categories=levels)
        return pd.DataFrame(out, index=frame.index, columns=frame.columns)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names (the input names)."""
        check_is_fitted(self)
        if hasattr(self, "feature_names_in_"):
            return np.asarray(self.feature_names_in_, dtype=object)
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)

    def __sklearn_tags__(self):
        tags = raw_table_tags(super().__sklearn_tags__())
        tags.transformer_tags.preserves_dtype = []  # a DataFrame of float64 and category
        return tags


def raw_table_tags(tags: Any) -> Any:
    """Estimator tags of a model that takes the raw table: missing values, strings and
    categorical columns."""
    tags.input_tags.allow_nan = True
    tags.input_tags.string = True
    tags.input_tags.categorical = True
    return tags


def _validated_frame(est: BaseEstimator, X: Any, *, reset: bool) -> pd.DataFrame:
    """Check X against the fitted columns (by name for frames) and return it as a frame.

    Frames are matched by column name: reordered columns are put back in fit order, a
    missing column raises :class:`~foldstack.exceptions.ColumnNotFoundError`.
    """
    if issparse(X):
        raise TypeError(f"{type(est).__name__} does not accept sparse input; convert it with "
                        "X.toarray() or pass a DataFrame.")
    if isinstance(X, pd.DataFrame):
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise DataError(f"X is empty (shape {X.shape}, 0 sample(s) or 0 feature(s)); it "
                            "needs rows and columns.")
        cols = pd.Index(X.columns)
        if cols.duplicated().any():
            raise DataError(f"X has duplicate column names: "
                            f"{cols[cols.duplicated()].unique().tolist()}. Rename them.")
        if not reset and hasattr(est, "feature_names_in_"):
            fitted = list(est.feature_names_in_)
            missing = [c for c in fitted if c not in X.columns]
            if missing:
                raise ColumnNotFoundError(
                    f"Column {missing[0]!r} was present when {type(est).__name__} was fitted "
                    f"but is missing from X" + (f" (missing: {missing})" if len(missing) > 1
                                                else "") + ". Pass the same columns as in fit "
                    "(their order does not matter).")
            extra = [c for c in X.columns if c not in set(fitted)]
            if extra:
                warnings.warn(f"{type(est).__name__}: ignored column(s) {extra[:10]} that were "
                              "not present in fit.", DataWarning, stacklevel=3)
            if list(X.columns) != fitted:
                X = X[fitted]
        validate_data(est, X, reset=reset, skip_check_array=True)
        return X
    X = validate_data(est, X, reset=reset, dtype=None, ensure_all_finite=False)
    frame = as_frame(X)
    if not reset and hasattr(est, "feature_names_in_"):
        frame.columns = list(est.feature_names_in_)
    return frame


# --------------------------------------------------------------------------- MLP encoder

def _smooth_clip(x: np.ndarray, bound: float = 3.0) -> np.ndarray:
    return x / np.sqrt(1.0 + (x / bound) ** 2)


class MLPInputEncoder:
    """Turn a table into ``(x_num, x_cat)`` arrays for a tabular network; learned in ``fit``.

    Numeric columns: median imputation plus a 0/1 missing indicator for each column with
    missing training values, then ``numeric_transform``: ``"robust"`` (center on the median,
    divide by the interquartile range, then clip smoothly to about +-3, as in RealMLP),
    ``"robust_smooth_clip"`` (RealMLP-TD's exact recipe: the same, except that a column
    constant in the training rows maps to 0 for every row), ``"standard"`` (mean / standard
    deviation) or ``"quantile"`` (rank-based map to a normal distribution).  Columns that are
    entirely missing are dropped; constant ones are kept.

    Categorical columns: levels seen at least ``min_frequency`` times, at most
    ``max_categories`` per column (the most frequent), each get a code; other levels (rare at
    fit time, unseen at predict time) share code 0.  Missing values are a level of their own.
    Columns with at most ``one_hot_max_categories`` levels go to ``x_num`` one-hot encoded;
    the others go to ``x_cat`` for learned embeddings.
    """

    def __init__(self, numeric_features: list, categorical_features: list, *,
                 numeric_transform: str = "robust", one_hot_max_categories: int = 8,
                 max_categories: int = 512, min_frequency: int = 3,
                 random_state: int = 0) -> None:
        self.numeric_features = numeric_features
        self.categorical_features = categorical_features
        self.numeric_transform = numeric_transform
        self.one_hot_max_categories = one_hot_max_categories
        self.max_categories = max_categories
        self.min_frequency = min_frequency
        self.random_state = random_state

    def fit(self, X: pd.DataFrame) -> MLPInputEncoder:
        values = numeric_values(X, self.numeric_features)
        observed = ~np.isnan(values).all(axis=0) if len(values) else np.zeros(0, bool)
        dropped = [c for c, ok in zip(self.numeric_features, observed) if not ok]
        if dropped:
            logger.debug("dropping numeric columns with no observed value: %s", dropped)
        self.keep_ = np.flatnonzero(observed)
        values = values[:, self.keep_]
        missing = np.isnan(values)
        self.medians_ = np.nanmedian(values, axis=0) if values.shape[1] else np.zeros(0)
        self.indicators_ = np.flatnonzero(missing.any(axis=0))
        filled = np.where(missing, self.medians_, values)
        self._fit_scaler(filled)
        self.levels_, self.one_hot_, self.embedded_ = {}, [], []
        for name in self.categorical_features:
            counts = pd.Series(category_strings(X[name])).value_counts(sort=True)
            kept = counts[counts >= self.min_frequency].index[: self.max_categories]
            self.levels_[name] = pd.Index(list(kept))
            (self.one_hot_ if len(kept) <= self.one_hot_max_categories
             else self.embedded_).append(name)
        self.cardinalities_ = [len(self.levels_[c]) + 1 for c in self.embedded_]
        self.n_continuous_ = len(self.keep_)
        self.n_num_ = (len(self.keep_) + len(self.indicators_)
                       + sum(len(self.levels_[c]) for c in self.one_hot_))
        return self

    def _fit_scaler(self, filled: np.ndarray) -> None:
        kind = self.numeric_transform
        if filled.shape[1] == 0 or kind == "quantile":
            self.center_ = np.zeros(filled.shape[1])
            self.scale_ = np.ones(filled.shape[1])
            if kind == "robust_smooth_clip":
                self.constant_ = np.zeros(0, dtype=bool)
            if filled.shape[1] and kind == "quantile":
                from sklearn.preprocessing import QuantileTransformer
                self.quantile_ = QuantileTransformer(
                    output_distribution="normal", n_quantiles=max(2, min(1000, len(filled))),
                    subsample=200_000, random_state=self.random_state).fit(filled)
            return
        if kind == "standard":
            center, spread = filled.mean(axis=0), filled.std(axis=0)
        else:  # robust, robust_smooth_clip
            q1, center, q3 = np.quantile(filled, [0.25, 0.5, 0.75], axis=0)
            spread = q3 - q1
            span = filled.max(axis=0) - filled.min(axis=0)
            # RealMLP: a zero interquartile range falls back to half the range
            spread = np.where(spread > 0, spread, 0.5 * span)
        self.center_ = center
        self.scale_ = np.where(spread > 0, spread, 1.0)
        if kind == "robust_smooth_clip":
            # RealMLP-TD multiplies a constant column by 0: a value never seen in training
            # (that column's only information) cannot then reach the network unscaled
            self.constant_ = ~(spread > 0)

    def transform(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        values = numeric_values(X, self.numeric_features)[:, self.keep_]
        missing = np.isnan(values)
        filled = np.where(missing, self.medians_, values)
        if self.numeric_transform == "quantile" and filled.shape[1]:
            scaled = self.quantile_.transform(filled)
        else:
            scaled = (filled - self.center_) / self.scale_
            if self.numeric_transform == "robust_smooth_clip":
                scaled[:, self.constant_] = 0.0
            if self.numeric_transform in ("robust", "robust_smooth_clip"):
                scaled = _smooth_clip(scaled)
        blocks = [scaled, missing[:, self.indicators_].astype(np.float64)]
        for name in self.one_hot_:
            codes = self.levels_[name].get_indexer(category_strings(X[name]))
            onehot = np.zeros((len(X), len(self.levels_[name])))
            rows = np.flatnonzero(codes >= 0)
            onehot[rows, codes[rows]] = 1.0
            blocks.append(onehot)
        x_num = np.concatenate(blocks, axis=1).astype(np.float32)
        x_cat = np.zeros((len(X), len(self.embedded_)), dtype=np.int64)
        for j, name in enumerate(self.embedded_):
            x_cat[:, j] = self.levels_[name].get_indexer(category_strings(X[name])) + 1
        return x_num, x_cat


class XGBoostColumnNames(TransformerMixin, BaseEstimator):
    """Rename columns that xgboost refuses (names with ``[``, ``]`` or ``<``), keeping them unique.

    xgboost raises "feature_names must be string, and may not contain [, ] or <" for a column
    such as ``price[usd]``; this step, placed before the model, renames only such columns
    (``[`` -> ``(``, ``]`` -> ``)``, ``<`` -> ``lt``) and leaves the data untouched.

    Examples
    --------
    >>> import pandas as pd
    >>> step = XGBoostColumnNames().fit(pd.DataFrame({"price[usd]": [1.0], "a<b": [2.0]}))
    >>> list(step.transform(pd.DataFrame({"price[usd]": [1.0], "a<b": [2.0]})).columns)
    ['price(usd)', 'altb']
    """

    def fit(self, X: Any, y: Any = None) -> XGBoostColumnNames:
        frame = _validated_frame(self, X, reset=True)
        names, seen = [], set()
        for col in map(str, frame.columns):
            new = col.replace("[", "(").replace("]", ")").replace("<", "lt")
            base, n = new, 1
            while new in seen:
                n += 1
                new = f"{base}_{n}"
            seen.add(new)
            names.append(new)
        self.columns_ = names
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self)
        frame = _validated_frame(self, X, reset=False)
        return frame.set_axis(self.columns_, axis=1)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self)
        return np.asarray(self.columns_, dtype=object)
