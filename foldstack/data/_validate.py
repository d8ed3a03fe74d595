"""Check X and y before any work starts: one clear message per problem."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from foldstack.data._load import check_unique_columns
from foldstack.exceptions import ColumnNotFoundError, DataError, DataWarning
from foldstack.utils._validation import did_you_mean


def split_target(df: pd.DataFrame, target: str, drop: list[str] | tuple = ()
                 ) -> tuple[pd.DataFrame, pd.Series]:
    """Return ``(X, y)`` from a table and the name of its target column.

    Examples
    --------
    >>> import pandas as pd
    >>> X, y = split_target(pd.DataFrame({"a": [1, 2], "t": [0, 1]}), "t")
    >>> list(X.columns), y.tolist()
    (['a'], [0, 1])
    """
    missing = [c for c in [target, *drop] if c not in df.columns]
    if missing:
        name = missing[0]
        shown = ", ".join(map(repr, list(df.columns)[:40]))
        more = f" (and {df.shape[1] - 40} more)" if df.shape[1] > 40 else ""
        raise ColumnNotFoundError(
            f"Column {name!r} is not in the table.{did_you_mean(name, map(str, df.columns))} "
            f"The columns are: {shown}{more}.")
    y = df[target]
    X = df.drop(columns=[target, *drop])
    return X, y


def check_training_data(X: Any, y: Any
              ) -> tuple[pd.DataFrame | np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate a feature table and target; drop rows whose target is missing.

    Returns ``(X, y, kept)`` where ``kept`` is the boolean mask of rows kept (None when all
    were kept).  X keeps its type (a DataFrame stays a DataFrame, untouched otherwise).
    """
    if isinstance(X, pd.DataFrame):
        check_unique_columns(X, "X")
    elif not hasattr(X, "shape"):
        X = np.asarray(X)
    if X.ndim != 2:
        raise DataError(f"X must be 2-dimensional (rows x columns); got shape {X.shape}.")
    n = X.shape[0]
    if n == 0 or X.shape[1] == 0:
        raise DataError(f"X is empty (shape {X.shape}); it needs rows and feature columns.")
    y_arr = y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else np.asarray(y)
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        y_arr = y_arr.ravel()
    if y_arr.ndim != 1:
        raise DataError(f"y must be one column; got shape {y_arr.shape}.")
    if len(y_arr) != n:
        raise DataError(f"X has {n} rows but y has {len(y_arr)}; they must have the same "
                        "number of rows.")
    _check_no_inf(X)
    missing = pd.isna(pd.Series(y_arr, dtype=object if y_arr.dtype == object else None)
                      ).to_numpy()
    kept = None
    if missing.any():
        n_missing = int(missing.sum())
        if n_missing == n:
            raise DataError("Every value of the target is missing; nothing to learn from.")
        warnings.warn(f"Dropped {n_missing} of {n} rows whose target is missing.",
                      DataWarning, stacklevel=3)
        kept = ~missing
        X = X.loc[kept].reset_index(drop=True) if isinstance(X, pd.DataFrame) else X[kept]
        y_arr = y_arr[kept]
    return X, y_arr, kept


def _check_no_inf(X: Any) -> None:
    if isinstance(X, pd.DataFrame):
        num = X.select_dtypes(include=[np.number]).drop(
            columns=X.select_dtypes(include=["bool"]).columns, errors="ignore")
        if num.shape[1] == 0:
            return
        values = num.to_numpy(dtype=float, na_value=np.nan)
        bad = np.isinf(values)
        if bad.any():
            cols = num.columns[bad.any(axis=0)].tolist()
            raise DataError(
                f"Column(s) {cols} contain infinite values ({int(bad.sum())} cells). Replace "
                "them with NaN (missing) or a finite value, e.g. "
                "X.replace([np.inf, -np.inf], np.nan).")
        return
    if np.issubdtype(np.asarray(X).dtype, np.number):
        bad = np.isinf(np.asarray(X, dtype=float))
        if bad.any():
            cols = np.flatnonzero(bad.any(axis=0)).tolist()
            raise DataError(f"X columns {cols} contain infinite values ({int(bad.sum())} "
                            "cells). Replace them with NaN or a finite value.")
