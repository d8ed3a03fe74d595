"""Learning curves on the shared folds, and epoch curves of networks with their reading rules."""

from __future__ import annotations

import logging
import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from foldstack.data import check_X_y, infer_task
from foldstack.exceptions import (
    CandidateFailedError,
    CandidateFailedWarning,
    DataError,
    InvalidParameterError,
)
from foldstack.selection import CVReport, cross_validate_candidates, make_splits
from foldstack.utils._random import derive_seed

logger = logging.getLogger(__name__)

# Reading rules of epoch curves.  Each constant is a share of the loss scale (the loss of a
# constant prediction when known, else the curve's median level) unless said otherwise.
OSCILLATION_STEP = 0.10
"""Typical epoch-to-epoch move of the validation loss that counts as a jump.  The validation
rows are the same every epoch, so the loss moves only because the weights move; once past the
first epochs a suitable learning rate moves it by a few percent of its scale per epoch."""
OSCILLATION_SIGN_CHANGES = 0.5
"""Share of consecutive epoch-to-epoch moves that change direction.  A smooth trend changes
direction almost never, a random walk half the time, white noise two thirds of the time."""
OVERFIT_RISE = 0.05
"""Share of the improvement (first epoch to best) that the validation loss must give back
after its best epoch, beyond two noise standard deviations, to call it overfitting."""
FLAT = 0.05
"""A curve whose loss moved by less than this share of the scale over the second half of
the epochs is flat."""
HIGH = 0.9
"""A training loss at least this share of the constant-prediction loss is high (the network
explains less than a tenth of what a constant leaves unexplained)."""


# --------------------------------------------------------------------------- epoch curves

@dataclass(frozen=True)
class EpochFinding:
    """One reading of an epoch curve: a ``code`` for programs and a ``message`` for people.

    Codes: ``"diverged"``, ``"oscillating"`` (learning rate too high), ``"overfitting"``
    (stop earlier / regularize), ``"still_improving"`` (train longer or raise the learning
    rate), ``"underfitting"`` (learning rate too low or model too small) and ``"converged"``
    (none of the above).
    """

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def _column(history: Any, key: str) -> np.ndarray | None:
    if isinstance(history, pd.DataFrame):
        return history[key].to_numpy(dtype=float) if key in history else None
    if isinstance(history, Mapping):
        return np.asarray(history[key], dtype=float) if key in history else None
    values = [row.get(key) for row in history]
    if all(v is None for v in values):
        return None
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _history_table(history: Any) -> tuple[np.ndarray, np.ndarray | None, int | None,
                                          float | None]:
    """(train_loss, valid_loss or None, best epoch index or None, baseline loss or None)."""
    if isinstance(history, pd.DataFrame) and "fold" in history and \
            history["fold"].nunique() > 1:
        raise InvalidParameterError(
            "read_epoch_curves reads one training run; the table has "
            f"{history['fold'].nunique()} folds. Pass one: curves[curves.fold == 0].")
    if not isinstance(history, (pd.DataFrame, Mapping, Sequence)) or isinstance(history, str):
        raise InvalidParameterError(
            "`history` must be a list of per-epoch dicts (an MLP's history_), a DataFrame or a "
            f"dict of arrays; got {type(history).__name__}.")
    train = _column(history, "train_loss")
    if train is None or len(train) == 0:
        raise InvalidParameterError("`history` has no 'train_loss' values to read.")
    valid = _column(history, "valid_loss")
    if valid is not None and np.all(np.isnan(valid)):
        valid = None
    best = None
    flags = _column(history, "best")
    if flags is not None and np.nansum(flags) > 0:
        best = int(np.flatnonzero(flags > 0)[0])
    base = _column(history, "baseline_loss")
    base_value = float(base[0]) if base is not None and np.isfinite(base[0]) else None
    return train, valid, best, base_value


def _noise(curve: np.ndarray) -> float:
    """Robust std of epoch-to-epoch jitter: MAD of second differences / sqrt(6) (0 if < 5)."""
    if len(curve) < 5:
        return 0.0
    d2 = np.diff(curve, n=2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / math.sqrt(6))


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def read_epoch_curves(history: Any, *, baseline_loss: float | None = None
                      ) -> list[EpochFinding]:
    """Read a network's per-epoch losses the way practitioners read the plot.

    Parameters
    ----------
    history : list of dict, DataFrame or dict of arrays
        One entry per epoch with ``train_loss`` and, when the network held out a validation
        split, ``valid_loss`` (an MLP's ``history_``, or one fold of :func:`epoch_curves`).
    baseline_loss : float, default=None
        The loss of a constant prediction (the class-prior cross-entropy, or the target
        variance for a squared error).  It sets the loss scale and makes "high" absolute;
        without it the scale is the curve's median and "high" means "no lower than the
        validation loss".  :func:`epoch_curves` fills it in for foldstack's networks.

    Returns
    -------
    list of EpochFinding
        In this order, each when its rule holds (the validation loss is read when present,
        else the training loss):

        - ``diverged``: a loss is NaN or infinite → the learning rate is too high.
        - ``oscillating``: at least half of the epoch-to-epoch moves change direction and the
          median move is at least 10 % of the loss scale → the learning rate is too high.
        - ``overfitting``: after its best epoch the validation loss rose by more than two
          noise standard deviations (robust, from second differences) and more than 5 % of
          the improvement up to the best epoch, while the training loss kept falling → stop
          earlier or regularize.
        - ``still_improving``: the lowest loss is in the last ``max(2, n / 5)`` epochs and
          the loss fell over them by more than the noise → train longer or raise the
          learning rate.
        - ``underfitting``: training and validation losses moved by less than 5 % of the
          scale over the second half of the epochs, and the training loss is high (at least
          90 % of ``baseline_loss``; without it: the whole run moved less than 5 % and the
          training loss is no lower than the validation loss) → learning rate too low or
          model too small.
        - ``converged``: none of the above.

    Examples
    --------
    >>> history = [{"epoch": e, "train_loss": 1 / e, "valid_loss": 1.1 / e} for e in (1, 2, 3)]
    >>> [f.code for f in read_epoch_curves(history)]
    ['still_improving']
    """
    train, valid, best_idx, base_from_table = _history_table(history)
    if baseline_loss is None:
        baseline_loss = base_from_table
    if not np.all(np.isfinite(train)) or (valid is not None and not np.all(np.isfinite(valid))):
        epoch = int(np.flatnonzero(~np.isfinite(train if valid is None else train + valid))[0])
        return [EpochFinding("diverged", f"the loss became NaN or infinite at epoch "
                                         f"{epoch + 1}: the learning rate is too high; lower it "
                                         "or clip gradients")]
    n = len(train)
    curve = valid if valid is not None else train
    what = "validation" if valid is not None else "training"
    if n < 2:
        return [EpochFinding("still_improving", "only one epoch was run: train longer")]
    scale = float(baseline_loss) if baseline_loss and baseline_loss > 0 else \
        float(np.median(np.abs(curve))) or 1.0
    noise = _noise(curve)
    findings = []

    steps = np.diff(curve)
    moving = steps[steps != 0]
    if n >= 5 and len(moving) >= 3:
        changes = float(np.mean(np.sign(moving[1:]) != np.sign(moving[:-1])))
        typical = float(np.median(np.abs(steps))) / scale
        if changes >= OSCILLATION_SIGN_CHANGES and typical >= OSCILLATION_STEP:
            findings.append(EpochFinding(
                "oscillating", f"the {what} loss oscillates: {changes:.0%} of the epoch-to-epoch "
                f"moves change direction and the median move is {typical:.0%} of the loss "
                "scale: the learning rate is too high; lower it (or use a decaying schedule)"))

    b = int(np.argmin(curve))
    if valid is not None and b <= n - 3:
        rise = valid[-1] - valid[b]
        gain = valid[0] - valid[b]
        if rise > max(2 * noise, OVERFIT_RISE * gain) and rise > 0 and train[-1] < train[b]:
            kept = (f" (the weights of epoch {b + 1} were kept)" if best_idx == b else "")
            findings.append(EpochFinding(
                "overfitting", f"the validation loss rose from {_fmt(valid[b])} at its best "
                f"epoch {b + 1} to {_fmt(valid[-1])} at epoch {n} while the training loss fell "
                f"from {_fmt(train[b])} to {_fmt(train[-1])}: overfitting{kept}; stop earlier "
                "or regularize"))

    window = min(n - 1, max(2, math.ceil(n / 5)))
    if b >= n - window and curve[-1 - window] - curve[-1] > noise:
        findings.append(EpochFinding(
            "still_improving", f"the {what} loss was still falling at the last epoch ({n}): "
            f"{_fmt(curve[-1 - window])} → {_fmt(curve[-1])} over the last {window} epochs; "
            "train longer or raise the learning rate"))

    half = n // 2
    flat = all(abs(c[half] - c[-1]) < FLAT * scale
               for c in ((train, valid) if valid is not None else (train,)))
    if baseline_loss and baseline_loss > 0:
        high = float(np.min(train)) >= HIGH * baseline_loss
    else:
        high = (valid is not None and train[-1] >= valid[-1]
                and abs(train[0] - train[-1]) < FLAT * scale)
    if flat and high and n >= 3:
        ref = (f"{np.min(train) / baseline_loss:.0%} of a constant prediction's loss "
               f"({_fmt(baseline_loss)})" if baseline_loss else "no lower than the validation loss")
        findings.append(EpochFinding(
            "underfitting", f"training and validation losses are flat and high (training loss "
            f"{_fmt(train[-1])}, {ref}): the learning rate is too low or the model too small"))

    if not findings:
        at = best_idx if best_idx is not None else b
        findings.append(EpochFinding(
            "converged", f"the {what} loss reached its minimum {_fmt(curve[at])} at epoch "
            f"{at + 1} of {n} and then stayed within its noise: the training length fits"))
    return findings


def find_history(model: Any) -> tuple[Any, list[dict]] | None:
    """The step of a fitted model that recorded per-epoch losses, and its history.

    Looks for foldstack's ``history_`` (list of dicts) or a skorch net's ``history`` through
    Pipelines and fitted wrappers (``regressor_``, ``estimator_``).
    """
    for _ in range(10):
        hist = getattr(model, "history_", None)
        if isinstance(hist, list) and hist and isinstance(hist[0], Mapping):
            return model, [dict(row) for row in hist]
        if type(model).__name__ != "History" and hasattr(model, "module_") and \
                hasattr(model, "history"):
            return model, [{k: v for k, v in row.items() if k != "batches"}
                           for row in model.history]
        steps = getattr(model, "steps", None)
        if isinstance(steps, list) and steps:
            model = steps[-1][1]
            continue
        inner = next((getattr(model, a) for a in ("best_estimator_", "regressor_", "estimator_")
                      if getattr(model, a, None) is not None), None)
        if inner is None:
            return None
        model = inner
    return None


def _baseline_loss(net: Any, y_train: np.ndarray, classes: np.ndarray | None) -> float:
    """Loss of a constant prediction for foldstack's networks (NaN when unknown)."""
    names = {c.__name__ for c in type(net).__mro__}
    if "TabularMLPClassifier" in names and classes is not None:
        if getattr(net, "class_weight", None) is not None or getattr(
                net, "label_smoothing", 0.0):
            return np.nan
        p = np.array([np.mean(y_train == c) for c in classes])
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())
    if "TabularMLPRegressor" in names:
        return 1.0 if getattr(net, "standardize_target", False) else \
            float(np.var(np.asarray(y_train, dtype=float)))
    return np.nan


def epoch_curves(report: CVReport, name: str) -> pd.DataFrame:
    """Per-epoch losses of a network candidate in every fold, from its fitted fold models.

    Parameters
    ----------
    report : CVReport
    name : str
        A candidate whose fold models (or their last Pipeline step) recorded a history: a
        foldstack ``TabularMLP*`` (``history_``) or a skorch net.

    Returns
    -------
    DataFrame
        One row per (fold, epoch): ``fold``, ``epoch``, ``train_loss``, ``valid_loss`` (NaN
        without a validation split), ``lr``, ``best`` (the epoch whose weights were kept) and
        ``baseline_loss`` (a constant prediction's loss, NaN when unknown).  Read one fold
        with :func:`read_epoch_curves` (``curves[curves.fold == 0]``).

    Examples
    --------
    >>> curves = epoch_curves(report, "mlp")                       # doctest: +SKIP
    >>> read_epoch_curves(curves[curves.fold == 0])                # doctest: +SKIP
    """
    result = report._check_name(name)
    if not result.fold_models:
        raise DataError(f"Candidate {name!r} has no fold models ({result.kind}).")
    classes = report.classes
    y = np.asarray(report.y)
    frames = []
    for fold, (model, (train_idx, _)) in enumerate(zip(result.fold_models, report.splits)):
        found = find_history(model)
        if found is None:
            raise InvalidParameterError(
                f"Candidate {name!r} has no epoch history: its fold models "
                f"({type(model).__name__}) are not networks. Epoch curves need a "
                "TabularMLPClassifier/Regressor (history_) or a skorch net, alone or as the "
                "last step of a Pipeline.")
        net, hist = found
        table = pd.DataFrame(hist)
        n = len(table)
        epochs = table["epoch"].to_numpy() if "epoch" in table else np.arange(1, n + 1)
        best = getattr(net, "best_epoch_", None) or (
            int(epochs[np.nanargmin(table["valid_loss"])]) if "valid_loss" in table
            else int(epochs[-1]))
        frames.append(pd.DataFrame({
            "fold": fold, "epoch": epochs,
            "train_loss": table["train_loss"].to_numpy(dtype=float),
            "valid_loss": (table["valid_loss"].to_numpy(dtype=float) if "valid_loss" in table
                           else np.full(n, np.nan)),
            "lr": table["lr"].to_numpy(dtype=float) if "lr" in table else np.full(n, np.nan),
            "best": epochs == best,
            "baseline_loss": _baseline_loss(net, y[train_idx], classes),
        }))
    return pd.concat(frames, ignore_index=True)


def majority_findings(curves: pd.DataFrame) -> dict[str, int]:
    """Finding code -> number of folds, for codes that hold in more than half the folds."""
    counts: dict[str, int] = {}
    folds = curves["fold"].unique()
    for fold in folds:
        for code in {f.code for f in read_epoch_curves(curves[curves["fold"] == fold])}:
            counts[code] = counts.get(code, 0) + 1
    return {c: k for c, k in counts.items() if k > len(folds) / 2}


# --------------------------------------------------------------------------- learning curves

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
    """

    scores: pd.DataFrame
    metric: str
    greater_is_better: bool
    more_data_helps: bool
    finding: str

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
        to the largest size by more than one standard error of that rise (the mean of the
        per-fold paired differences over their standard error): the curve is still rising
        at full size, so more rows of the same kind would help.  A rise within its standard
        error cannot be told from fold noise.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(200, random_state=0)
    >>> curve = learning_curve(LogisticRegression(), X, y, cv=3, train_sizes=(0.25, 1.0))
    >>> curve.summary()[["n_train", "mean_test"]].round(2)      # doctest: +SKIP
    """
    X, y, _ = check_X_y(X, y)
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
    name = type(estimator).__name__
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
    return LearningCurve(scores.reset_index(drop=True), metric, gib, helps, finding)


def _more_data_rule(scores: pd.DataFrame, metric: str, greater_is_better: bool
                    ) -> tuple[bool, str]:
    test = scores[(scores["subset"] == "test") & (scores["metric"] == metric)]
    sizes = sorted(test["train_size"].unique())
    if len(sizes) < 2:
        return False, "one training size only: give at least two to read the curve"
    by = test.pivot(index="fold", columns="train_size", values="value")
    n_last = int(round(test[test["train_size"] == sizes[-1]]["n_train"].mean()))
    n_prev = int(round(test[test["train_size"] == sizes[-2]]["n_train"].mean()))
    return more_data_helps(by[sizes[-2]].to_numpy(), by[sizes[-1]].to_numpy(),
                           greater_is_better=greater_is_better, metric=metric,
                           n_prev=n_prev, n_last=n_last)


def more_data_helps(previous: Any, last: Any, *, greater_is_better: bool = True,
                    metric: str = "score", n_prev: int | None = None,
                    n_last: int | None = None) -> tuple[bool, str]:
    """Whether validation scores still rise from the previous to the last training size.

    ``previous`` and ``last`` are per-fold validation scores on the same folds.  The rise is
    the mean paired difference (oriented so that positive is better); it counts when it
    exceeds its standard error (std of the differences / sqrt(folds)).

    Examples
    --------
    >>> more_data_helps([0.70, 0.72, 0.71], [0.75, 0.76, 0.77])[0]
    True
    >>> more_data_helps([0.75, 0.76, 0.77], [0.75, 0.77, 0.76])[0]
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
    if rise > se and rise > 0:
        return True, (f"validation {metric} still improves {rows} (by {rise:.3g} ± {se:.3g}, "
                      "standard error over folds): more data would help")
    return False, (f"validation {metric} has levelled off {rows} (change {rise:+.3g} ± {se:.3g}, "
                   "within its standard error): more rows of the same kind are unlikely to help "
                   "much; change the model or the features")
