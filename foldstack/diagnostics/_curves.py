"""Learning curves: train and validation score against training-set size, on shared folds."""

from __future__ import annotations

import logging
import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from foldstack.data import check_training_data, infer_task
from foldstack.exceptions import CandidateFailedError, CandidateFailedWarning, InvalidParameterError
from foldstack.selection import cross_validate_candidates, make_splits
from foldstack.utils._estimators import final_estimator
from foldstack.utils._random import derive_seed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LearningCurve:
    """Train and validation scores against the number of training rows, on shared folds.

    Attributes
    ----------
    scores : DataFrame
        Tidy: ``train_size`` (the fraction asked for), ``n_train`` (rows used), ``fold``,
        ``subset`` ("train" / "test"), ``metric``, ``value``.
    metric : str
        The primary metric.
    greater_is_better : bool
    more_data_helps : bool
        Whether the validation score still rises between the two largest sizes (see
        :func:`learning_curve`).
    finding : str
        That reading in one sentence.
    estimator_name : str
        The class of the estimator that learns (the last step of a Pipeline).
    """

    scores: pd.DataFrame
    metric: str
    greater_is_better: bool
    more_data_helps: bool
    finding: str
    estimator_name: str = ""

    def summary(self, metric: str | None = None) -> pd.DataFrame:
        """One row per size: ``n_train``, ``mean_train``, ``std_train``, ``mean_test``,
        ``std_test`` of ``metric`` (the primary metric by default)."""
        metric = self.metric if metric is None else metric
        s = self.scores[self.scores["metric"] == metric]
        if s.empty:
            raise InvalidParameterError(f"No scores for metric {metric!r}; computed: "
                                        f"{sorted(self.scores['metric'].unique())}.")
        out = s.pivot_table(index="train_size", columns="subset", values="value",
                            aggfunc=["mean", "std"])
        table = pd.DataFrame({
            "n_train": s.groupby("train_size")["n_train"].mean().round().astype(int),
            "mean_train": out[("mean", "train")], "std_train": out[("std", "train")],
            "mean_test": out[("mean", "test")], "std_test": out[("std", "test")]})
        return table

    def __repr__(self) -> str:
        return f"LearningCurve(metric={self.metric!r}, finding={self.finding!r})"


def _check_sizes(train_sizes: Any) -> list[float]:
    if isinstance(train_sizes, (str, bytes)) or not hasattr(train_sizes, "__iter__"):
        raise InvalidParameterError(
            f"`train_sizes` must be a list of fractions in (0, 1]; got {train_sizes!r}.")
    sizes = list(train_sizes)
    if not sizes:
        raise InvalidParameterError("`train_sizes` is empty; give fractions such as "
                                    "(0.1, 0.25, 0.5, 1.0).")
    out = []
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, numbers.Real) or not 0 < s <= 1:
            raise InvalidParameterError(
                f"`train_sizes` must hold fractions in (0, 1] of each training fold; got "
                f"{s!r}.")
        out.append(float(s))
    if len(set(out)) != len(out):
        raise InvalidParameterError(f"`train_sizes` repeats a size: {sizes}.")
    return sorted(out)


def _stratified_order(y_train: np.ndarray, classification: bool,
                      rng: np.random.RandomState) -> np.ndarray:
    """A permutation whose every prefix keeps the class proportions (nested subsamples)."""
    n = len(y_train)
    if not classification:
        return rng.permutation(n)
    key = np.empty(n)
    for c in np.unique(y_train):
        idx = np.flatnonzero(y_train == c)
        key[idx] = (rng.permutation(len(idx)) + rng.uniform(size=len(idx))) / len(idx)
    return np.argsort(key, kind="stable")


def learning_curve(estimator: Any, X: Any, y: Any, *,
                   train_sizes: Sequence[float] = (0.1, 0.25, 0.5, 1.0), cv: Any = 5,
                   scoring: Any = None, task: str | None = None, n_jobs: int | None = None,
                   random_state: int | None = 0) -> LearningCurve:
    """Train and validation score against training-set size, on shared folds.

    For each fold and each size, the estimator is fitted on a seeded subsample of the fold's
    training rows (nested: the 25 % subsample contains the 10 % one; stratified for
    classification) and scored on the fold's full validation rows, so every size is judged
    on the same rows.  All fits run through :func:`~foldstack.selection.cross_validate_candidates`
    in one parallel pass.

    Parameters
    ----------
    estimator : estimator
        Unfitted; e.g. ``report.candidates["xgboost"]``.
    X : DataFrame or array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    train_sizes : sequence of float, default=(0.1, 0.25, 0.5, 1.0)
        Fractions of each training fold.
    cv : int, splitter or iterable of (train, val) pairs, default=5
        ``report.splits`` reuses a report's folds.
    scoring : str, callable, list or dict, default=None
        As for ``cross_validate_candidates``; the first metric is read.
    task : {"binary", "multiclass", "regression"}, default=None
    n_jobs : int, default=None
    random_state : int or None, default=0
        Seeds the folds (when ``cv`` is an int), the subsamples and the estimator.

    Returns
    -------
    LearningCurve
        ``more_data_helps`` is True when the validation score rises from the second-largest
        to the largest size by more than the standard error of that rise (per-fold paired
        differences; a smaller rise cannot be told from fold noise), and the
        train-validation gap at full size is larger than the rise (room to rise again): the
        curve is still rising at full size, so more rows of the same kind would help (see
        :func:`more_data_helps`).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(200, random_state=0)
    >>> curve = learning_curve(LogisticRegression(), X, y, cv=3, train_sizes=(0.25, 1.0))
    >>> curve.summary()[["n_train", "mean_test"]].round(2)      # doctest: +SKIP
    """
    X, y, _ = check_training_data(X, y)
    task = infer_task(y, task)
    splits = make_splits(cv, X, y, task, random_state=random_state)
    sizes = _check_sizes(train_sizes)
    classification = task != "regression"
    subsplits, meta = [], []
    for k, (train, val) in enumerate(splits):
        rng = np.random.RandomState(derive_seed(random_state, "learning_curve", k))
        order = train[_stratified_order(np.asarray(y)[train], classification, rng)]
        for size in sizes:
            n_sub = max(2, int(round(size * len(train))))
            subsplits.append((np.sort(order[:n_sub]), val))
            meta.append((size, n_sub, k))
    name = type(final_estimator(estimator)[1]).__name__
    # Not sklearn.model_selection.learning_curve: it scores one metric (this table holds all
    # of the task's), sizes every fold by the first fold's length, subsamples without
    # stratifying, and fits one unseeded clone everywhere, where cross_validate_candidates
    # seeds each (size, fold) fit as it seeds a report's, so the full size reproduces it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CandidateFailedWarning)  # raised below instead
        report = cross_validate_candidates({name: clone(estimator)}, X, y, cv=subsplits,
                                           scoring=scoring, task=task, n_jobs=n_jobs,
                                           random_state=random_state, verbose=0)
    result = report.results[name]
    if result.status != "ok":
        raise CandidateFailedError(
            f"learning_curve: {name} failed on a subsample of the training rows "
            f"({(result.error or '').splitlines()[0]}). The smallest sizes may miss a class; "
            "use larger train_sizes.")
    info = pd.DataFrame(meta, columns=["train_size", "n_train", "fold"])
    scores = result.scores.rename(columns={"fold": "split"})
    scores = scores.join(info, on="split").drop(columns="split")
    scores = scores[["train_size", "n_train", "fold", "subset", "metric", "value"]]
    metric = report.primary
    gib = bool(report.greater_is_better[metric])
    helps, finding = _more_data_rule(scores, metric, gib)
    logger.info("learning curve of %s: %s", name, finding)
    return LearningCurve(scores.reset_index(drop=True), metric, gib, helps, finding, name)


def _more_data_rule(scores: pd.DataFrame, metric: str, greater_is_better: bool
                    ) -> tuple[bool, str]:
    test = scores[(scores["subset"] == "test") & (scores["metric"] == metric)]
    sizes = sorted(test["train_size"].unique())
    if len(sizes) < 2:
        return False, "one training size only: give at least two to read the curve"
    by = test.pivot(index="fold", columns="train_size", values="value")
    n_last = int(round(test[test["train_size"] == sizes[-1]]["n_train"].mean()))
    n_prev = int(round(test[test["train_size"] == sizes[-2]]["n_train"].mean()))
    train = scores[(scores["subset"] == "train") & (scores["metric"] == metric)
                   & (scores["train_size"] == sizes[-1])]["value"].mean()
    gap = (train - by[sizes[-1]].mean()) * (1 if greater_is_better else -1)
    return more_data_helps(by[sizes[-2]].to_numpy(), by[sizes[-1]].to_numpy(), gap=gap,
                           greater_is_better=greater_is_better, metric=metric,
                           n_prev=n_prev, n_last=n_last)


def more_data_helps(previous: Any, last: Any, *, gap: float | None = None,
                    greater_is_better: bool = True, metric: str = "score",
                    n_prev: int | None = None, n_last: int | None = None
                    ) -> tuple[bool, str]:
    """Whether validation scores still rise from the previous to the last training size.

    ``previous`` and ``last`` are per-fold validation scores on the same folds.  The rise is
    the mean paired difference (oriented so that positive is better).  More data helps when

    1. the rise exceeds its standard error (std of the differences / sqrt(folds)): it is not
       fold noise; and
    2. the train-validation ``gap`` at the last size (when given) is larger than the rise:
       the validation score rises towards the training score, so a curve that already met
       it has no room left to rise by as much again.

    Examples
    --------
    >>> more_data_helps([0.70, 0.72, 0.71], [0.75, 0.76, 0.77])[0]
    True
    >>> more_data_helps([0.75, 0.76, 0.77], [0.75, 0.77, 0.76])[0]
    False
    >>> more_data_helps([0.70, 0.72, 0.71], [0.75, 0.76, 0.77], gap=0.01)[0]
    False
    """
    d = np.asarray(last, dtype=float) - np.asarray(previous, dtype=float)
    d = d[np.isfinite(d)] * (1 if greater_is_better else -1)
    if len(d) < 2:
        return False, "too few folds with finite scores to read the curve"
    rise = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(len(d)))
    rows = (f"from {n_prev} to {n_last} training rows" if n_prev and n_last
            else "between the two largest sizes")
    if rise > se and rise > 0 and (gap is None or gap > rise):
        room = "" if gap is None else f", and the train-validation gap is still {gap:.3g}"
        return True, (f"validation {metric} still improves {rows} (by {rise:.3g} ± {se:.3g}, "
                      f"standard error over folds){room}: more data would help")
    if rise > se and rise > 0:
        return False, (f"validation {metric} still improves {rows} (by {rise:.3g} ± {se:.3g}) "
                       f"but has nearly met the training score (gap {gap:.3g}): more rows of "
                       "the same kind will add little; a more flexible model or better "
                       "features would")
    return False, (f"validation {metric} has levelled off {rows} (change {rise:+.3g} ± {se:.3g}, "
                   "within its standard error): more rows of the same kind are unlikely to help "
                   "much; change the model or the features")
