"""Paired comparison of two candidates on the same folds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Comparison:
    """Result of :meth:`CVReport.compare`: ``a`` minus ``b`` on the same folds."""

    a: str
    b: str
    metric: str
    mean_difference: float
    std_difference: float
    t: float
    p_value: float
    n_folds: int
    better: str | None  # the better candidate when p < 0.05, else None

    def __str__(self) -> str:
        verdict = f"{self.better} is better" if self.better else "no significant difference"
        return (f"{self.a} - {self.b} on {self.metric}: {self.mean_difference:+.4g} "
                f"(t={self.t:.2f}, p={self.p_value:.3g}, {self.n_folds} folds): {verdict}")


def corrected_ttest(diffs: np.ndarray, test_train_ratio: float) -> tuple[float, float]:
    """Nadeau & Bengio's corrected resampled t-test on per-fold score differences.

    Folds of K-fold CV share training rows, so their scores are correlated and the plain
    paired t-test is overconfident.  The correction inflates the variance of the mean
    difference from ``var/J`` to ``(1/J + n_test/n_train) * var`` (Nadeau & Bengio, 2003).

    Returns ``(t, two-sided p)``.

    Examples
    --------
    Five folds (``n_test/n_train = 1/4``); mean 0.015, sample variance 2.5e-5, so
    ``t = 0.015 / sqrt((1/5 + 1/4) * 2.5e-5) = 4.47`` on 4 degrees of freedom:

    >>> t, p = corrected_ttest(np.array([0.01, 0.02, 0.015, 0.01, 0.02]), 0.25)
    >>> round(t, 2), round(p, 3)
    (4.47, 0.011)
    """
    diffs = np.asarray(diffs, dtype=float)
    diffs = diffs[np.isfinite(diffs)]
    j = len(diffs)
    if j < 2:
        return np.nan, np.nan
    mean, var = diffs.mean(), diffs.var(ddof=1)
    if var == 0:
        return (0.0, 1.0) if mean == 0 else (float(np.sign(mean) * np.inf), 0.0)
    t = mean / np.sqrt((1.0 / j + test_train_ratio) * var)
    p = 2 * stats.t.sf(abs(t), df=j - 1)
    return float(t), float(p)
