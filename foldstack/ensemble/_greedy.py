"""Greedy ensemble selection (Caruana et al., 2004), vectorised over the candidate models.

Every round evaluates "the current ensemble plus model m" for all m at once: the running
sum of the selected models' predictions is kept, so a round costs one pass over an
``(n_rows, n_models)`` array (log loss, MAE, ROC AUC) or one matrix-vector product (squared
error), whatever the number of rounds already made.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from foldstack.exceptions import InvalidParameterError
from foldstack.utils._validation import did_you_mean

GREEDY_METRICS = ("log_loss", "roc_auc", "accuracy", "mse", "mae")
_EPS = 1e-15
#: Rows the selection looks at, about (a seeded random subset of larger tables).
MAX_ROWS = 100_000
#: A class with at most this many rows keeps all of them in that subset.
RARE_CLASS_ROWS = 1_000


def greedy_weights(
    oof: np.ndarray,
    y: np.ndarray,
    *,
    metric: str | Callable[[np.ndarray, np.ndarray], float] = "log_loss",
    n_iter: int = 100,
    n_init: int = 5,
    n_bags: int = 1,
    bag_fraction: float = 0.5,
    random_state: int | np.random.RandomState | None = None,
    max_rows: int | None = MAX_ROWS,
) -> np.ndarray:
    """Caruana et al. (2004) ensemble selection with replacement; the weights sum to one.

    The ensemble starts from the best ``k <= n_init`` single models (sorted initialisation,
    ``k`` chosen where the loss of their average is lowest), then adds, ``n_iter`` times in
    all, the model (possibly one already selected) whose addition gives the lowest loss of
    the averaged predictions.  Ties prefer models already selected, then the first model.
    The best prefix of the selection trajectory is kept, so extra rounds never hurt the
    returned loss.  A model's weight is the share of the selections it received.

    Parameters
    ----------
    oof : ndarray of shape (n_rows, n_models) or (n_rows, n_models, n_classes)
        Out-of-fold predictions: values (regression) or class probabilities.
    y : ndarray of shape (n_rows,)
        Targets: class codes ``0 .. n_classes - 1`` (classification) or values.
    metric : {"log_loss", "roc_auc", "accuracy", "mse", "mae"} or callable, default="log_loss"
        What to minimise (ROC AUC and accuracy are maximised).  ``"roc_auc"`` is for binary
        probabilities and sorts every candidate each round (O(n log n), much slower than
        the others on large data).  A callable ``metric(y, pred) -> loss`` (lower is
        better) receives one averaged prediction at a time (slow, but any metric works).
    n_iter : int, default=100
        Selections in all, the initial ones included.
    n_init : int, default=5
        At most this many best single models start the ensemble.
    n_bags : int, default=1
        With more than one bag, selection runs ``n_bags`` times on random subsets of
        ``bag_fraction`` of the models, and the weights are averaged (Caruana's bagged
        selection; it reduces overfitting of the weights when there are many models).
    bag_fraction : float, default=0.5
        Share of the models in each bag.
    random_state : int, RandomState or None, default=None
        Draws the bags (unused when ``n_bags == 1``, which is deterministic).
    max_rows : int or None, default=100_000
        With more rows, the selection runs on a random subset of about this many (always
        the same subset of a given table: the draw is seeded by the row count, not by
        ``random_state``).  For class probabilities the subset is drawn within each class,
        and a class of at most 1,000 rows keeps every row, so that a rare class is not lost.
        A few models' weights need no more rows, and each round of ``"roc_auc"`` sorts every
        row: on a million rows selection took about two minutes.  A callable ``metric``
        receives the subset's rows.  None: every row.

    Returns
    -------
    ndarray of shape (n_models,)
        Non-negative weights that sum to one.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1, 1, 0])
    >>> good = np.array([[0.8, 0.2], [0.3, 0.7], [0.2, 0.8], [0.7, 0.3]])
    >>> bad = good[:, ::-1]
    >>> greedy_weights(np.stack([bad, good], axis=1), y, n_iter=10)
    array([0., 1.])
    """
    oof, y = np.asarray(oof), np.asarray(y)
    _check_args(oof, y, metric, n_iter, n_init, n_bags, bag_fraction, max_rows)
    if max_rows is not None and len(y) > max_rows:
        rows = _row_subset(y, max_rows, by_class=oof.ndim == 3)
        oof, y = oof[rows], y[rows]
    oof = oof.astype(float, copy=False)
    rep, loss, axis = _representation(oof, y, metric)
    n_models = oof.shape[1]
    if n_models == 1:
        return np.ones(1)
    if n_bags == 1:
        return _select(rep, loss, axis, n_iter, n_init)
    rng = check_random_state(random_state)
    size = max(1, int(round(bag_fraction * n_models)))
    total = np.zeros(n_models)
    for _ in range(n_bags):
        idx = np.sort(rng.choice(n_models, size=size, replace=False))
        total[idx] += _select(rep.take(idx, axis=axis), loss, axis, n_iter, n_init)
    return total / total.sum()


def _row_subset(y: np.ndarray, max_rows: int, by_class: bool) -> np.ndarray:
    """About ``max_rows`` of ``y``'s rows, sorted, drawn with a seed fixed by the row count;
    ``by_class``: within each class, rare classes whole."""
    rng = np.random.RandomState(len(y) % 2**32)
    if not by_class:
        return np.sort(rng.choice(len(y), max_rows, replace=False))
    share = max_rows / len(y)
    parts = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        take = max(int(round(share * len(rows))), min(len(rows), RARE_CLASS_ROWS))
        parts.append(rows if take >= len(rows) else rng.choice(rows, take, replace=False))
    return np.sort(np.concatenate(parts))


def _check_args(oof, y, metric, n_iter, n_init, n_bags, bag_fraction, max_rows) -> None:
    if oof.ndim not in (2, 3) or oof.shape[1] == 0:
        raise InvalidParameterError(
            "greedy_weights: `oof` must have shape (n_rows, n_models) or (n_rows, n_models, "
            f"n_classes) with at least one model; got {oof.shape}.")
    if len(y) != len(oof):
        raise InvalidParameterError(f"greedy_weights: `oof` has {len(oof)} rows but `y` has "
                                    f"{len(y)}.")
    if not callable(metric) and metric not in GREEDY_METRICS:
        raise InvalidParameterError(
            f"greedy_weights: `metric` must be one of {', '.join(GREEDY_METRICS)} or a "
            f"callable; got {metric!r}.{did_you_mean(metric, GREEDY_METRICS)}")
    if metric in ("log_loss", "accuracy", "roc_auc") and oof.ndim != 3:
        raise InvalidParameterError(f"greedy_weights: metric={metric!r} needs class "
                                    "probabilities of shape (n_rows, n_models, n_classes).")
    if metric == "roc_auc" and oof.shape[2] != 2:
        raise InvalidParameterError("greedy_weights: metric='roc_auc' is for binary "
                                    f"probabilities; got {oof.shape[2]} classes.")
    for name, value, low in (("n_iter", n_iter, 1), ("n_init", n_init, 1),
                             ("n_bags", n_bags, 1)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
            raise InvalidParameterError(f"greedy_weights: `{name}` must be an int >= {low}; "
                                        f"got {value!r}.")
    if max_rows is not None and (not isinstance(max_rows, numbers.Integral)
                                 or isinstance(max_rows, bool) or max_rows < 1):
        raise InvalidParameterError("greedy_weights: `max_rows` must be an int >= 1 or None; "
                                    f"got {max_rows!r}.")
    if not isinstance(bag_fraction, numbers.Real) or not 0 < bag_fraction <= 1:
        raise InvalidParameterError("greedy_weights: `bag_fraction` must be in (0, 1]; got "
                                    f"{bag_fraction!r}.")


# -- losses of "running sum + each model", all models at once --------------------------------
# Each metric works on its own representation of the predictions: the true class's
# probability (log loss), the positive class's (ROC AUC), the true-class margin (binary
# accuracy) or the values (MSE, MAE), stored (n_models, n_rows) so that a model's predictions
# are contiguous; multiclass accuracy and callables keep (n_rows, n_models[, n_classes]).
# ``s`` is the running sum of the selected models' representation, ``t`` how many there are.

def _representation(oof: np.ndarray, y: np.ndarray, metric: Any
                    ) -> tuple[np.ndarray, Callable, int]:
    """The predictions as ``metric`` needs them, its batch loss, and the models' axis."""
    n = len(y)
    if callable(metric):
        return oof, _callable_loss(metric, y), 1
    if metric == "log_loss":
        codes = y.astype(np.int64)
        # Only the true class's probability enters log loss (rows of an average sum to one).
        true = oof[np.arange(n), :, codes]
        return np.ascontiguousarray(true.T, dtype=np.float32), _log_loss, 0
    if metric == "roc_auc":
        pos = y.astype(np.int64) == 1
        return np.ascontiguousarray(oof[:, :, 1].T), _auc_loss(pos), 0
    if metric == "accuracy":
        codes = y.astype(np.int64)
        if oof.shape[2] == 2:  # binary: the margin of the true class is all that matters
            rows = np.arange(n)
            margin = oof[rows, :, codes] - oof[rows, :, 1 - codes]
            return np.ascontiguousarray(margin.T), _binary_error_loss(codes), 0
        return oof, _error_loss(codes), 1
    yf = y.astype(float)
    loss = _mse_loss(yf) if metric == "mse" else _mae_loss(yf)
    return np.ascontiguousarray(oof.T), loss, 0


def _log_loss(s: np.ndarray, t: int, rep: np.ndarray) -> np.ndarray:
    buf = rep + s.astype(np.float32)[None, :]
    np.maximum(buf, _EPS * (t + 1), out=buf)
    np.log(buf, out=buf)
    return np.log(t + 1) - buf.sum(axis=1, dtype=np.float64) / rep.shape[1]


def _mse_loss(y: np.ndarray) -> Callable:
    squares: dict[int, tuple[np.ndarray, np.ndarray]] = {}   # rep -> its rows' sums of squares

    def loss(s, t, rep):
        d = s - (t + 1) * y                         # (sum + p_m)/(t+1) - y = (d + p_m)/(t+1)
        if rep.shape[0] == 1:
            sq = np.einsum("ij,ij->i", rep, rep)
        else:                                       # the same rep every round: compute once
            held = squares.get(id(rep))
            if held is None or held[0] is not rep:
                held = squares[id(rep)] = (rep, np.einsum("ij,ij->i", rep, rep))
            sq = held[1]
        return (d @ d + 2 * (rep @ d) + sq) / (len(y) * (t + 1) ** 2)
    return loss


def _mae_loss(y: np.ndarray) -> Callable:
    def loss(s, t, rep):
        d = s - (t + 1) * y
        return np.abs(rep + d[None, :]).mean(axis=1) / (t + 1)
    return loss


def _error_loss(codes: np.ndarray) -> Callable:
    def loss(s, t, rep):                            # rep: (n_rows, n_models, n_classes)
        out = np.empty(rep.shape[1])
        step = max(1, 2_000_000 // max(1, rep.shape[0] * rep.shape[2]))
        for lo in range(0, rep.shape[1], step):
            pred = np.argmax(rep[:, lo:lo + step] + s[:, None, :], axis=2)
            out[lo:lo + step] = np.mean(pred != codes[:, None], axis=0)
        return out
    return loss


def _binary_error_loss(codes: np.ndarray) -> Callable:
    first = codes == 0                              # argmax picks class 0 on a tie

    def loss(s, t, rep):                            # s: running sum of the margins
        z = rep + s[None, :]
        return 1.0 - np.mean((z > 0) | ((z == 0) & first[None, :]), axis=1)
    return loss


def _auc_loss(pos: np.ndarray) -> Callable:
    n_pos, n = int(pos.sum()), len(pos)
    n_neg = n - n_pos

    def loss(s, t, rep):
        if n_pos == 0 or n_neg == 0:
            return np.zeros(rep.shape[0])
        score = rep + s[None, :]
        order = np.argsort(score, axis=1)
        v = np.take_along_axis(score, order, axis=1)
        idx = np.broadcast_to(np.arange(n), v.shape)
        new = np.ones(v.shape, dtype=bool)
        new[:, 1:] = v[:, 1:] != v[:, :-1]
        first = np.maximum.accumulate(np.where(new, idx, 0), axis=1)
        end = np.ones(v.shape, dtype=bool)
        end[:, :-1] = new[:, 1:]
        last = np.minimum.accumulate(np.where(end, idx, n - 1)[:, ::-1], axis=1)[:, ::-1]
        ranks = (first + last) / 2.0 + 1.0           # average ranks of tied scores, 1-based
        rank_sum = np.sum(ranks * pos[order], axis=1)
        return -(rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
    return loss


def _callable_loss(metric: Callable, y: np.ndarray) -> Callable:
    def loss(s, t, rep):                            # rep: oof as given (n_rows, n_models[, K])
        return np.array([float(metric(y, (s + rep[:, m]) / (t + 1)))
                         for m in range(rep.shape[1])])
    return loss


def _select(rep: np.ndarray, loss: Callable, axis: int, n_iter: int, n_init: int
            ) -> np.ndarray:
    """One selection run over the models of ``rep`` (along ``axis``); returns the weights."""
    n_models = rep.shape[axis]

    def model(j: int) -> np.ndarray:
        return rep[j] if axis == 0 else rep[:, j]

    s = np.zeros_like(model(0), dtype=float)
    order = np.argsort(loss(s, 0, rep), kind="stable")
    # sorted initialisation: the best prefix of the k <= n_init best single models
    best_k, best_loss = 1, np.inf
    for k in range(1, min(n_init, n_models, n_iter) + 1):
        value = float(loss(s, k - 1, rep.take([order[k - 1]], axis=axis))[0])
        s = s + model(order[k - 1])
        if value < best_loss - 1e-12 * max(1.0, abs(best_loss)):
            best_k, best_loss = k, value
    counts = np.zeros(n_models)
    counts[order[:best_k]] = 1
    s = sum((model(j) for j in order[1:best_k]), model(order[0]).astype(float))
    t = best_k

    trajectory, picks = [best_loss], []
    while t < n_iter:
        values = loss(s, t, rep)
        lowest = values.min()
        tied = np.flatnonzero(values <= lowest + 1e-12 * max(1.0, abs(lowest)))
        j = int(tied[np.argmax(counts[tied])])     # prefer models already selected
        counts[j] += 1
        s = s + model(j)
        t += 1
        picks.append(j)
        trajectory.append(float(values[j]))
    keep = int(np.argmin(trajectory))               # first minimum: the shortest best prefix
    for j in picks[keep:]:
        counts[j] -= 1
    return counts / counts.sum()
