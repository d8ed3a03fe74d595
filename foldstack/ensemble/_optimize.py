"""Averaging weights fitted with scipy: non-negative, summing to one, minimising a loss."""

from __future__ import annotations

import numpy as np
from scipy import optimize

from foldstack.exceptions import InvalidParameterError

OPTIMIZED_LOSSES = ("log_loss", "mse", "mae")
_EPS = 1e-15


def optimize_weights(oof: np.ndarray, y: np.ndarray, *, loss: str = "log_loss") -> np.ndarray:
    """Weights on the probability simplex that minimise ``loss`` of the weighted average.

    - ``"log_loss"`` (classification): ``-mean(log(sum_m w_m p_m[y]))``, a convex problem
      solved with SLSQP and its exact gradient.  Only the true class's probability matters
      because weighted averages of probability rows sum to one.
    - ``"mse"`` (regression; also the minimiser of RMSE and R²): a quadratic programme on the
      ``n_models x n_models`` Gram matrix, so its cost hardly depends on the number of rows.
    - ``"mae"`` (regression): a linear programme (scipy's HiGHS).

    Parameters
    ----------
    oof : ndarray of shape (n_rows, n_models) or (n_rows, n_models, n_classes)
        Out-of-fold predictions: values (regression) or class probabilities.
    y : ndarray of shape (n_rows,)
        Class codes ``0 .. n_classes - 1`` or values.
    loss : {"log_loss", "mse", "mae"}, default="log_loss"

    Returns
    -------
    ndarray of shape (n_models,)
        Non-negative weights that sum to one.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, 2.0, 3.0, 4.0])
    >>> oof = np.column_stack([y + 1, y - 1])        # biased in opposite directions
    >>> optimize_weights(oof, y, loss="mse").round(3)
    array([0.5, 0.5])
    """
    oof = np.asarray(oof, dtype=float)
    y = np.asarray(y)
    if loss not in OPTIMIZED_LOSSES:
        raise InvalidParameterError(f"optimize_weights: `loss` must be one of "
                                    f"{', '.join(OPTIMIZED_LOSSES)}; got {loss!r}.")
    if oof.ndim not in (2, 3) or len(oof) != len(y) or oof.shape[1] == 0:
        raise InvalidParameterError(
            f"optimize_weights: `oof` must have shape (n_rows, n_models[, n_classes]) with "
            f"n_rows = len(y) = {len(y)}; got {oof.shape}.")
    if (loss == "log_loss") != (oof.ndim == 3):
        raise InvalidParameterError("optimize_weights: loss='log_loss' needs class "
                                    "probabilities (3-d `oof`); 'mse' and 'mae' need values.")
    n_models = oof.shape[1]
    if n_models == 1:
        return np.ones(1)
    if loss == "log_loss":
        true = oof[np.arange(len(y)), :, y.astype(np.int64)]
        w = _minimize_on_simplex(lambda w: _log_loss(w, true), n_models)
    elif loss == "mse":
        # mean((P w - y)^2) / scale on the n_models x n_models Gram matrix; the scale keeps
        # the objective near 1 whatever the target's unit (prices in the thousands ...)
        yf = y.astype(float)
        scale = max(float(np.mean(yf ** 2)), 1e-300) * len(y)
        gram, b, c = oof.T @ oof / scale, oof.T @ yf / scale, float(yf @ yf) / scale
        w = _minimize_on_simplex(lambda w: (w @ gram @ w - 2 * b @ w + c,
                                            2 * gram @ w - 2 * b), n_models)
    else:
        w = _mae_weights(oof, y.astype(float))
    w = np.clip(w, 0.0, None)
    return w / w.sum()


def _log_loss(w: np.ndarray, true: np.ndarray) -> tuple[float, np.ndarray]:
    p = np.maximum(true @ w, _EPS)
    return float(-np.mean(np.log(p))), -(true / p[:, None]).mean(axis=0)


def _minimize_on_simplex(fun, n_models: int) -> np.ndarray:
    start = np.full(n_models, 1.0 / n_models)
    result = optimize.minimize(
        fun, start, jac=True, method="SLSQP", bounds=[(0.0, 1.0)] * n_models,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0,
                      "jac": lambda w: np.ones_like(w)}],
        options={"maxiter": 500, "ftol": 1e-12})
    w = result.x if np.all(np.isfinite(result.x)) else start
    # SLSQP may stop at a point no better than equal weights when it fails; keep the better.
    return w if fun(w)[0] <= fun(start)[0] else start


def _mae_weights(oof: np.ndarray, y: np.ndarray) -> np.ndarray:
    """min sum |P w - y| on the simplex, as an LP in (w, e): e >= +-(P w - y)."""
    n, m = oof.shape
    from scipy import sparse

    eye = sparse.identity(n, format="csr")
    a_ub = sparse.vstack([sparse.hstack([sparse.csr_matrix(oof), -eye]),
                          sparse.hstack([sparse.csr_matrix(-oof), -eye])], format="csr")
    b_ub = np.concatenate([y, -y])
    a_eq = sparse.csr_matrix(np.concatenate([np.ones(m), np.zeros(n)])[None, :])
    cost = np.concatenate([np.zeros(m), np.ones(n) / n])
    result = optimize.linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0],
                              bounds=[(0, None)] * (m + n), method="highs")
    return result.x[:m] if result.status == 0 else np.full(m, 1.0 / m)
