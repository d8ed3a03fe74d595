"""Epoch curves of networks, and the rules practitioners use to read them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from foldstack.exceptions import DataError, InvalidParameterError
from foldstack.selection import CVReport
from foldstack.utils._estimators import wrapped_estimators

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
STILL_FALLING = 0.05
"""Share of the whole improvement (first epoch to best) that the last fifth of the epochs
must still bring for the loss to count as still falling; steady progress would bring a
fifth, a flattening curve much less."""
FLAT = 0.05
"""A curve whose loss moved by less than this share of the scale over the second half of
the epochs is flat."""
HIGH = 0.9
"""A training loss at least this share of the constant-prediction loss is high (the network
explains less than a tenth of what a constant leaves unexplained)."""


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
          the loss fell over them by more than the noise and by at least 5 % of the whole
          improvement → train longer or raise the learning rate.
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
    recent = curve[-1 - window] - curve[-1]
    if b >= n - window and recent > noise and recent >= STILL_FALLING * (curve[0] - curve[b]):
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
    for _, step in wrapped_estimators(model, fitted=True):
        hist = getattr(step, "history_", None)
        if isinstance(hist, list) and hist and isinstance(hist[0], Mapping):
            return step, [dict(row) for row in hist]
        if type(step).__name__ != "History" and hasattr(step, "module_") and \
                hasattr(step, "history"):
            return step, [{k: v for k, v in row.items() if k != "batches"}
                          for row in step.history]
    return None


def _baseline_loss(net: Any, y_train: np.ndarray, classes: np.ndarray | None) -> float:
    """Loss of a constant prediction for foldstack's networks (NaN when unknown).

    It is the loss the network trains on (its ``loss`` parameter): the class-prior
    cross-entropy, or for regression the squared error of the mean, the absolute error of
    the median or the Huber loss of the best constant, in the standardized target's units
    when the network standardizes it.
    """
    names = {c.__name__ for c in type(net).__mro__}
    loss = getattr(net, "loss", None)
    if "TabularMLPClassifier" in names and classes is not None:
        if getattr(net, "class_weight", None) is not None or getattr(
                net, "label_smoothing", 0.0) or loss not in (None, "cross_entropy"):
            return np.nan
        p = np.array([np.mean(y_train == c) for c in classes])
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())
    if "TabularMLPRegressor" in names:
        if loss in (None, "mse"):
            return 1.0 if getattr(net, "standardize_target", False) else \
                float(np.var(np.asarray(y_train, dtype=float)))
        y = np.asarray(y_train, dtype=float).reshape(len(y_train), -1)
        if getattr(net, "standardize_target", False):
            std = y.std(axis=0)
            y = (y - y.mean(axis=0)) / np.where(std > 0, std, 1.0)
        if loss == "mae":
            return float(np.mean(np.abs(y - np.median(y, axis=0))))
        if loss == "huber":
            return float(np.mean([_best_constant_huber(col, float(net.huber_delta))
                                  for col in y.T]))
    return np.nan


def _best_constant_huber(y: np.ndarray, delta: float) -> float:
    """The Huber loss of the constant that minimizes it (a convex function of the constant,
    whose minimum lies within the values)."""
    from scipy.optimize import minimize_scalar

    def huber(c: float) -> float:
        r = np.abs(y - c)
        return float(np.mean(np.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta))))

    lo, hi = float(np.min(y)), float(np.max(y))
    if hi - lo < 1e-12:
        return huber(lo)
    return float(minimize_scalar(huber, bounds=(lo, hi), method="bounded",
                                 options={"xatol": 1e-6 * (hi - lo)}).fun)


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
