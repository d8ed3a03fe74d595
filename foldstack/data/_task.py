"""Infer the learning task from the target column."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from foldstack.exceptions import DataError, InvalidParameterError
from foldstack.utils._validation import did_you_mean, plain

TASKS = ("binary", "multiclass", "regression")

# An integer-valued numeric target with at most this many distinct values is read as classes
# (e.g. 0/1/2 ratings); more distinct values are read as a quantity.  Explicit `task=` overrides.
MAX_INTEGER_CLASSES = 20


def infer_task(y: Any, task: str | None = None) -> str:
    """Return ``"binary"``, ``"multiclass"`` or ``"regression"`` for target ``y``.

    Strings, booleans and categoricals are classes; floats with fractional values are
    regression; integer-valued numbers are classes when they take at most 20 distinct values
    (and fewer than half as many as there are rows), regression otherwise.  Missing values are
    ignored.  Pass ``task`` to skip the inference: it is only checked.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The target.
    task : {"binary", "multiclass", "regression"}, default=None
        An explicit task, which overrides the inference (and is validated against ``y``).

    Returns
    -------
    str

    Examples
    --------
    >>> import foldstack as fs
    >>> fs.infer_task(["yes", "no", "yes"])
    'binary'
    >>> fs.infer_task([1.5, 2.25, 3.0])
    'regression'
    """
    if task is not None and task not in TASKS:
        raise InvalidParameterError(
            f"`task` must be one of {', '.join(map(repr, TASKS))} or None; got {task!r}."
            f"{did_you_mean(task, TASKS)}")
    s = pd.Series(np.asarray(y) if not isinstance(y, pd.Series) else y)
    s = s[s.notna()]
    if len(s) == 0:
        raise DataError("The target has no values (it is empty or all missing).")
    n_unique = s.nunique()
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise DataError(
                f"task='regression' needs a numeric target; got dtype {s.dtype} "
                f"(values such as {list(s.unique()[:3])!r}).")
        return task
    if task is not None:
        if n_unique < 2:
            raise DataError(f"The target has a single class ({plain(s.iloc[0])!r}); "
                            "classification needs at least two.")
        if task == "binary" and n_unique > 2:
            raise DataError(f"task='binary' but the target has {n_unique} classes; "
                            "use task='multiclass'.")
        return task
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if numeric:
        values = s.to_numpy(dtype=float)
        if not np.all(np.isfinite(values)):
            raise DataError("The target contains infinite values; remove or fix those rows.")
        integer_valued = np.all(values == np.round(values))
        if not integer_valued or (n_unique > MAX_INTEGER_CLASSES or n_unique > len(s) / 2):
            return "regression"
    if n_unique < 2:
        raise DataError(f"The target has a single class ({plain(s.iloc[0])!r}); "
                        "classification needs at least two.")
    return "binary" if n_unique == 2 else "multiclass"
