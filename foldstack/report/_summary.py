"""A short description of the data: what a reader checks before trusting any score."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def data_summary(X: Any, y: Any, *, top: int = 15) -> dict:
    """Rows, columns by kind, missing values and the target's distribution, as plain data.

    Examples
    --------
    >>> import pandas as pd
    >>> s = data_summary(pd.DataFrame({"a": [1, None], "b": ["x", "y"]}), ["n", "y"])
    >>> s["rows"], s["columns_by_kind"]
    (2, {'numeric': 1, 'categorical': 1, 'boolean': 0})
    """
    X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X)).rename(columns=str)
    y = pd.Series(np.asarray(y))
    kinds = {"numeric": 0, "categorical": 0, "boolean": 0}
    column_kinds = {}
    for c in X.columns:
        if pd.api.types.is_bool_dtype(X[c]):
            kind = "boolean"
        elif pd.api.types.is_numeric_dtype(X[c]):
            kind = "numeric"
        else:
            kind = "categorical"
        kinds[kind] += 1
        column_kinds[str(c)] = kind
    missing = X.isna().sum()
    missing = missing[missing > 0].sort_values(ascending=False)
    if pd.api.types.is_numeric_dtype(y) and y.nunique() > 20:
        target = {"kind": "numeric", **{k: float(v) for k, v in y.describe().items()}}
    else:
        counts = y.astype(str).value_counts()
        target = {"kind": "classes", "counts": {str(k): int(v) for k, v in counts.items()}}
    return {
        "rows": int(len(X)), "columns": int(X.shape[1]), "columns_by_kind": kinds,
        "column_kinds": column_kinds,
        "missing_cells": int(missing.sum()),
        "missing_by_column": {str(k): int(v) for k, v in missing.head(top).items()},
        "target_missing": int(y.isna().sum()), "target": target,
    }
