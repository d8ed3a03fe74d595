"""One set of folds shared by every candidate."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)

from foldstack.exceptions import DataError, InvalidParameterError
from foldstack.utils._validation import plain

Splits = tuple[tuple[np.ndarray, np.ndarray], ...]


def make_splits(cv: Any, X: Any, y: np.ndarray, task: str, *, groups: Any = None,
                n_repeats: int = 1, random_state: int | None = 0) -> Splits:
    """Return the folds as a tuple of ``(train_idx, val_idx)`` integer arrays.

    ``cv`` is an int (stratified K-fold for classification, K-fold for regression, group
    K-fold when ``groups`` is given, repeated ``n_repeats`` times), a scikit-learn splitter,
    or an iterable of ``(train, val)`` index pairs (e.g. another report's ``splits``).

    Examples
    --------
    >>> import numpy as np
    >>> folds = make_splits(3, np.zeros((6, 1)), np.array([0, 1] * 3), "binary")
    >>> len(folds), sorted(np.concatenate([v for _, v in folds]).tolist())
    (3, [0, 1, 2, 3, 4, 5])
    """
    splitter = make_splitter(cv, y, task, groups=groups, n_repeats=n_repeats,
                             random_state=random_state)
    n = len(y)
    if groups is not None:
        groups = np.asarray(groups)
    if hasattr(splitter, "split"):
        pairs = splitter.split(np.zeros((n, 1)) if splitter is not cv else X, y, groups)
    else:
        pairs = splitter
    splits = tuple((np.asarray(tr, dtype=np.int64), np.asarray(va, dtype=np.int64))
                   for tr, va in pairs)
    _check_splits(splits, n)
    return splits


def make_splitter(cv: Any, y: np.ndarray, task: str, *, groups: Any = None,
                  n_repeats: int = 1, random_state: int | None = 0) -> Any:
    """The scikit-learn splitter ``cv`` stands for, or ``cv`` itself (a splitter or an
    iterable of index pairs).

    An int gives stratified K-fold (classification), K-fold (regression) or group K-fold
    (``groups``), shuffled with ``random_state`` and repeated ``n_repeats`` times.

    Examples
    --------
    >>> import numpy as np
    >>> make_splitter(3, np.array([0, 1] * 3), "binary")
    StratifiedKFold(n_splits=3, random_state=0, shuffle=True)
    """
    n = len(y)
    if isinstance(cv, bool) or (isinstance(cv, numbers.Integral) and cv < 2):
        raise InvalidParameterError(f"`cv` must be at least 2 folds; got {cv!r}.")
    if not isinstance(n_repeats, numbers.Integral) or n_repeats < 1:
        raise InvalidParameterError(f"`n_repeats` must be an int >= 1; got {n_repeats!r}.")
    if groups is not None:
        groups = np.asarray(groups)
        if len(groups) != n:
            raise DataError(f"`groups` has {len(groups)} values but X has {n} rows.")
    if isinstance(cv, numbers.Integral):
        return _default_splitter(int(cv), y, task, groups, int(n_repeats), random_state)
    if isinstance(cv, (str, bytes, float)) or not (hasattr(cv, "split")
                                                   or hasattr(cv, "__iter__")):
        raise InvalidParameterError(
            "`cv` must be an int >= 2, a scikit-learn splitter or an iterable of (train, val) "
            f"index pairs; got {cv!r}.")
    return cv


def _default_splitter(k: int, y: np.ndarray, task: str, groups, n_repeats: int,
                      random_state):
    n = len(y)
    if n < k:
        raise DataError(f"There are {n} rows but cv={k} folds; use cv <= {n} (or more data).")
    classification = task != "regression"
    if groups is not None:
        n_groups = len(pd.unique(groups))
        if n_groups < k:
            raise DataError(f"There are {n_groups} distinct groups but cv={k} folds; use "
                            f"cv <= {n_groups}.")
        if n_repeats > 1:
            raise InvalidParameterError("Repeated folds cannot be combined with `groups`: "
                                        "group folds are not random. Use n_repeats=1.")
        if classification:
            return StratifiedGroupKFold(k, shuffle=True, random_state=random_state)
        return GroupKFold(k)
    if classification:
        labels, counts = np.unique(y.astype(str) if y.dtype == object else y,
                                   return_counts=True)
        if len(labels) < 2:
            raise DataError(f"The target has a single class ({plain(labels[0])!r}); classification "
                            "needs at least two.")
        small = [(plain(lab), int(c)) for lab, c in zip(labels, counts) if c < k]
        if small:
            raise DataError(_rare_classes_message(k, small))
        if n_repeats > 1:
            return RepeatedStratifiedKFold(n_splits=k, n_repeats=n_repeats,
                                           random_state=random_state)
        return StratifiedKFold(k, shuffle=True, random_state=random_state)
    if n_repeats > 1:
        return RepeatedKFold(n_splits=k, n_repeats=n_repeats, random_state=random_state)
    return KFold(k, shuffle=True, random_state=random_state)


def _rare_classes_message(k: int, small: list[tuple[Any, int]]) -> str:
    """Why stratified ``k``-fold CV is impossible with classes ``small`` and what to do."""
    def classes(labels: list) -> str:
        return f"class{'es' if len(labels) > 1 else ''} {', '.join(labels)}"

    desc = "; ".join(f"class {lab!r} has {c} row{'' if c == 1 else 's'}" for lab, c in small)
    single = [repr(lab) for lab, c in small if c == 1]
    few = [(repr(lab), c) for lab, c in small if c > 1]
    fixes = []
    if single:  # no number of folds helps: one row can be in one validation fold only
        rows, it = ("rows", "them") if len(single) > 1 else ("row", "it")
        fixes.append(f"A class with one row cannot be stratified at all: drop the {rows} of "
                     f"{classes(single)} or merge {it} into a related class.")
    if few:
        most = min(c for _, c in few)
        folds = "cv=2" if most == 2 else f"cv between 2 and {most}"
        fixes.append(f"{'Then use' if single else 'Use'} {folds}, or drop or merge "
                     f"{classes([lab for lab, _ in few])}.")
    return (f"Stratified {k}-fold CV needs at least {k} rows of every class (one in each "
            f"validation fold), but {desc}. {' '.join(fixes)}")


def _check_splits(splits: Splits, n: int) -> None:
    if len(splits) < 2:
        raise InvalidParameterError(f"`cv` gave {len(splits)} fold(s); at least 2 are needed.")
    for i, (tr, va) in enumerate(splits):
        if len(tr) == 0 or len(va) == 0:
            raise DataError(f"Fold {i} has an empty training or validation part.")
        for part in (tr, va):
            if part.min() < 0 or part.max() >= n:
                raise DataError(f"Fold {i} has row indices outside [0, {n}); were the folds "
                                "made for other data?")
        if np.intersect1d(tr, va).size:
            raise DataError(f"Fold {i} uses the same rows for training and validation.")


def n_repeats_of(splits: Splits, n: int) -> np.ndarray:
    """How many validation folds each row belongs to."""
    counts = np.zeros(n, dtype=np.int64)
    for _, va in splits:
        np.add.at(counts, va, 1)
    return counts
