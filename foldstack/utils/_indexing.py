"""Row counts and row subsets of array-likes, with public pandas / numpy operations only."""

from __future__ import annotations

from typing import Any

import numpy as np


def n_rows(X: Any) -> int:
    """The number of rows (samples) of a DataFrame, Series, ndarray, sparse matrix, list or
    other array-like.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> n_rows(np.zeros((3, 2))), n_rows(pd.DataFrame({"a": [1, 2]})), n_rows([[1], [2]])
    (3, 2, 2)
    """
    if not hasattr(X, "shape") and not hasattr(X, "__len__") and hasattr(X, "__array__"):
        X = np.asarray(X)  # objects that are arrays only through __array__
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    return len(X)


def take_rows(X: Any, indices: Any) -> Any:
    """The rows of ``X`` at the integer positions ``indices``, in the type of ``X``.

    pandas objects by position (``iloc``, the index labels kept), lists and tuples as a list
    of their items, anything else (ndarray, sparse matrix) by ``X[indices]``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> take_rows(pd.Series([5, 6, 7], index=[10, 11, 12]), np.array([2, 0])).tolist()
    [7, 5]
    >>> take_rows([[1], [2], [3]], np.array([1]))
    [[2]]
    """
    indices = np.asarray(indices)
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    if isinstance(X, (list, tuple)):
        return [X[i] for i in indices]
    if not hasattr(X, "__getitem__"):
        X = np.asarray(X)  # objects that are arrays only through __array__
    return X[indices]
