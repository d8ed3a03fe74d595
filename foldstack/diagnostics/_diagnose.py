"""diagnose: a bias/variance verdict and remedies per candidate, from one CV report."""

from __future__ import annotations

import logging
import math
import numbers
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from foldstack.diagnostics._baseline import dummy_scores
from foldstack.diagnostics._epochs import epoch_curves, find_history, majority_findings
from foldstack.diagnostics._remedies import HEAVY_TAILED, Remedy, remedies, render_lines
from foldstack.exceptions import InvalidParameterError
from foldstack.selection import CVReport
from foldstack.utils._validation import did_you_mean

logger = logging.getLogger(__name__)

VERDICTS = ("good_fit", "high_bias", "high_variance", "high_bias_and_variance", "failed",
            "unknown")

TOP_ROWS = 0.01
"""The share of rows (the largest out-of-fold residuals, at least one row) whose squared error
is measured against the total."""
HEAVY_TAIL_SHARE = 0.25
"""Residuals are heavy-tailed when the largest ``TOP_ROWS`` of them hold at least this share of
the squared error.  Gaussian residuals put about 8.5 % of it in their largest 1 %; a target with
a few huge outliers puts most of it there."""
MIN_ROWS = 100
"""Fewer out-of-fold rows leave the largest 1 % to a single noisy residual: no reading."""


def top_error_share(residuals: np.ndarray, top: float = TOP_ROWS) -> float:
    """Share of the squared error held by the largest ``top`` share of the residuals.

    Examples
    --------
    >>> round(top_error_share(np.r_[np.ones(99), 30.0]), 3)
    0.901
    """
    sq = np.square(np.asarray(residuals, dtype=float).ravel())
    sq = sq[np.isfinite(sq)]
    total = sq.sum()
    if not len(sq) or total <= 0:
        return 0.0
    n_top = max(1, int(round(top * len(sq))))
    return float(np.sort(sq)[-n_top:].sum() / total)


def _residual_findings(report: CVReport, name: str) -> set[str]:
    """``{"heavy_tailed_residuals"}`` when a regression candidate's out-of-fold squared error
    is dominated by a few rows (see :data:`HEAVY_TAIL_SHARE`), else an empty set."""
    oof = report.results[name].oof
    if report.classes is not None or oof is None:
        return set()
    y = np.asarray(report.y, dtype=float)
    residuals = y.reshape(len(y), -1) - np.asarray(oof, dtype=float).reshape(len(y), -1)
    if np.isfinite(residuals).all(axis=1).sum() < MIN_ROWS:
        return set()
    return {HEAVY_TAILED} if top_error_share(residuals) >= HEAVY_TAIL_SHARE else set()


class Verdict(NamedTuple):
    """A verdict, the evidence for it in one sentence, and the two tolerances it used."""

    verdict: str
    evidence: str
    tolerance_bias: float
    tolerance_variance: float


def _f(v: float) -> str:
    return f"{v:.3g}" if abs(v) >= 1e-4 or v == 0 else f"{v:.1e}"


def _std(v: float) -> float:
    return float(v) if v is not None and np.isfinite(v) else 0.0


def fit_verdict(train: float, validation: float, *, train_std: float = 0.0,
                validation_std: float = 0.0, baseline: float, best: float,
                best_std: float = 0.0, greater_is_better: bool = True,
                min_effect: float = 0.1, metric: str = "score",
                best_name: str | None = None) -> Verdict:
    """The bias/variance verdict of one candidate from its scores (a pure function).

    Parameters
    ----------
    train, validation : float
        Mean training and validation score over the folds.
    train_std, validation_std : float, default=0.0
        Their standard deviations over the folds.
    baseline : float
        Validation score of a dummy model on the same folds (NaN: unknown).
    best : float
        Best mean validation score among the finished candidates.
    best_std : float, default=0.0
        Fold standard deviation of that best validation score.
    greater_is_better : bool, default=True
    min_effect : float, default=0.1
        Share of the best candidate's lift over the baseline below which a difference is
        too small to act on.
    metric, best_name : str
        Used in the evidence sentence.

    Returns
    -------
    Verdict
        See :func:`diagnose` for the rules.

    Examples
    --------
    >>> fit_verdict(1.0, 0.70, validation_std=0.02, baseline=0.5, best=0.85).verdict
    'high_variance'
    >>> fit_verdict(0.66, 0.65, validation_std=0.02, baseline=0.5, best=0.85).verdict
    'high_bias'
    >>> fit_verdict(0.86, 0.84, validation_std=0.02, baseline=0.5, best=0.85).verdict
    'good_fit'
    """
    if not (np.isfinite(validation) and np.isfinite(best)):
        return Verdict("failed", f"no finite validation {metric}", np.nan, np.nan)
    sign = 1.0 if greater_is_better else -1.0
    t, v, b, vb = sign * train, sign * validation, sign * baseline, sign * best
    lift = vb - b  # what the best candidate learns over the dummy (NaN: no baseline)
    effect = min_effect * lift if np.isfinite(lift) and lift > 0 else 0.0
    tol_var = max(_std(validation_std), effect)
    tol_bias = max(_std(train_std), _std(best_std), effect)
    ref = f"the best candidate{f' {best_name!r}' if best_name else ''} ({_f(best)})"
    why = f"{min_effect:.0%} of the best lift over the dummy"
    if not np.isfinite(t):
        return Verdict("unknown", f"validation {metric} {_f(validation)} ± "
                                  f"{_f(_std(validation_std))}; no training score was "
                                  "recorded, so bias and variance cannot be separated",
                       tol_bias, tol_var)
    gap = t - v                      # variance: how much worse validation is than training
    bias_excess = vb - t             # bias: training worse than the best validation score
    shortfall = vb - v               # = bias_excess + gap
    above_dummy_train = t - b if np.isfinite(b) else np.inf
    above_dummy_val = v - b if np.isfinite(b) else np.inf
    dummy_like = above_dummy_train <= tol_bias
    high_bias = bias_excess > tol_bias or dummy_like
    high_var = gap > tol_var

    bias_txt = (f"training {metric} {_f(train)} is within {_f(tol_bias)} of the dummy "
                f"baseline ({_f(baseline)}): the model learns almost nothing" if dummy_like else
                f"training {metric} {_f(train)} is worse than the validation score of {ref} by "
                f"{_f(bias_excess)}, more than the bias tolerance {_f(tol_bias)} (the larger "
                f"of the two fold stds and {why})")
    var_txt = (f"validation {metric} {_f(validation)} ± {_f(_std(validation_std))} is worse "
               f"than training ({_f(train)}) by {_f(gap)}, more than the variance tolerance "
               f"{_f(tol_var)} (the larger of the validation fold std and {why})")
    tols = (tol_bias, tol_var)
    if high_bias and high_var:
        return Verdict("high_bias_and_variance", f"{bias_txt}; and {var_txt}", *tols)
    if high_bias:
        return Verdict("high_bias", bias_txt, *tols)
    if high_var:
        return Verdict("high_variance", var_txt, *tols)
    tol_short = max(tols)
    if shortfall > tol_short:  # behind the best though neither part alone is over its tolerance
        verdict = "high_bias" if bias_excess >= gap else "high_variance"
        part = "training score" if bias_excess >= gap else "train-validation gap"
        return Verdict(verdict, f"validation {metric} {_f(validation)} is {_f(shortfall)} "
                                f"behind {ref}, more than {_f(tol_short)}; most of it is in "
                                f"the {part} ({_f(max(bias_excess, gap))})", *tols)
    if above_dummy_val <= tol_var:
        return Verdict("high_bias", f"validation {metric} {_f(validation)} is within "
                                    f"{_f(tol_var)} of the dummy baseline ({_f(baseline)}): "
                                    "no candidate learns much; the features may carry little "
                                    "signal", *tols)
    where = ("is the best of the report" if shortfall <= 0 else
             f"is within {_f(tol_short)} of {ref}")
    dummy = (f", and it beats the dummy ({_f(baseline)}) by {_f(above_dummy_val)}"
             if np.isfinite(b) else "")
    return Verdict("good_fit", f"validation {metric} {_f(validation)} ± "
                               f"{_f(_std(validation_std))} {where}, the train-validation gap "
                               f"({_f(gap)}) is within {_f(tol_var)}{dummy}", *tols)


def _baseline_per_fold(report: CVReport, metric: str, baseline: Any) -> float:
    if baseline is None:
        scores = dummy_scores(report.y, report.splits, [metric], report.classes)
        test = scores[scores["subset"] == "test"]["value"]
        return float(np.nanmean(test)) if test.notna().any() else np.nan
    if isinstance(baseline, str):
        if baseline not in report.results:
            raise InvalidParameterError(
                f"diagnose: `baseline` names no candidate of the report: {baseline!r}."
                f"{did_you_mean(baseline, report.names)} Candidates: "
                f"{', '.join(report.names)}.")
        test = report.results[baseline].fold_scores("test")
        return float(test[metric].mean())
    if isinstance(baseline, numbers.Real) and not isinstance(baseline, bool) and \
            math.isfinite(baseline):
        return float(baseline)
    raise InvalidParameterError(
        "diagnose: `baseline` must be None (a dummy model on the report's folds), a finite "
        f"number (the baseline validation score) or a candidate name; got {baseline!r}.")


def _epoch_summary(report: CVReport, name: str) -> dict[str, int]:
    models = report.results[name].fold_models
    if not models or find_history(models[0]) is None:
        return {}
    try:
        return majority_findings(epoch_curves(report, name))
    except (InvalidParameterError, KeyError, ValueError) as exc:  # an unusual history
        logger.debug("epoch curves of %s not read: %s", name, exc)
        return {}


def diagnose(report: CVReport, *, baseline: float | str | None = None,
             metric: str | None = None, min_effect: float = 0.1) -> pd.DataFrame:
    """Bias/variance verdict, evidence and remedies for every candidate of a CV report.

    Nothing is refitted: training and validation scores come from the report's folds, and
    the baseline is a dummy model computed from ``report.y`` on the same folds (class
    frequencies of each training fold, or its mean).

    Parameters
    ----------
    report : CVReport
    baseline : float, str or None, default=None
        None: the dummy model.  A float: the baseline validation score.  A candidate name:
        that candidate's validation score (e.g. ``"linear"``).
    metric : str, default=None
        The metric judged; the report's primary metric when None.
    min_effect : float, default=0.1
        Share of the best candidate's lift over the baseline below which a difference is
        not worth acting on (see the rules).

    Returns
    -------
    DataFrame
        One row per candidate (leaderboard order, unfinished ones last), indexed by name:
        ``train``, ``train_std``, ``validation``, ``validation_std`` (mean and std over the
        folds), ``gap`` (how much worse validation is than training, in the metric's unit;
        positive means overfitting), ``baseline``, ``tolerance_bias``,
        ``tolerance_variance``, ``verdict``, ``evidence`` (one sentence), ``remedies``
        (list of str, most promising first: one ``"category: action; action"`` line per
        category) and ``epoch_findings`` (networks: epoch-curve readings that hold in most
        folds, e.g. ``"still_improving (5/5 folds)"``; see :func:`read_epoch_curves`).
        ``attrs["metric"]`` names the metric; ``attrs["remedies"]`` maps each candidate to
        its remedies as data, a tuple of :class:`Remedy` records (parameter path, move,
        current and suggested value, reason) that the ``remedies`` column renders.

    Notes
    -----
    Scores are oriented so that higher is better.  Let ``t`` and ``v`` be the candidate's
    mean training and validation scores (fold stds ``s_t`` and ``s_v``), ``b`` the
    baseline, and ``v*`` the best mean validation score among finished candidates (fold std
    ``s*``).  As in Andrew Ng's recipe, with the best validation score standing in for the
    achievable (Bayes) score:

    - *avoidable bias* is ``v* - t``: the candidate fits its own training rows worse than
      another model predicts unseen rows;
    - *variance* is the gap ``t - v``;
    - they add up to the shortfall ``v* - v``.

    A difference counts when it exceeds a tolerance made of the fold spread of the numbers
    compared and of ``e = min_effect * (v* - b)``, a tenth (by default) of what learning
    achieves over the dummy: smaller than the fold spread cannot be told from the choice of
    folds, smaller than ``e`` is not worth acting on.

    - bias tolerance ``tau_b = max(s_t, s*, e)`` (training score vs best validation score);
    - variance tolerance ``tau_v = max(s_v, e)`` (training vs validation of one candidate).

    The rules, in order:

    1. ``failed``: the candidate did not finish (status failed or timeout).
    2. ``high_bias`` if ``v* - t > tau_b`` or ``t - b <= tau_b`` (its training score is
       barely above the dummy's); ``high_variance`` if ``t - v > tau_v``; both:
       ``high_bias_and_variance``.
    3. Neither, but the shortfall ``v* - v > max(tau_b, tau_v)`` (clearly behind the best):
       the larger part decides (``high_bias`` if ``v* - t >= t - v``, else
       ``high_variance``).
    4. Neither, and ``v - b <= tau_v``: ``high_bias`` (no better than the dummy on
       validation; the features may carry little signal).
    5. Otherwise ``good_fit``: close to the best, a small gap, clearly above the dummy.

    Bias is judged against the best candidate, so a report with a flexible candidate
    (xgboost, a forest, an MLP) judges the others best; a lone candidate is judged against
    the dummy only.  Candidates without training scores get ``"unknown"``.  A metric given
    as a scorer callable has no dummy score (pass ``baseline=``; without one, ``e = 0``).

    Remedies (see :func:`remedies`) name the candidate's own parameters, e.g.
    ``"stronger regularization: raise mlp__dropout from 0.0 (e.g. to 0.2)"``, and are kept as
    records in ``attrs["remedies"]`` for code that acts on them.  For networks,
    epoch-curve findings put the matching remedy first (lower the learning rate when the
    validation loss oscillates, raise ``max_epochs`` when it was still falling).  For
    regression, when the largest 1 % of the out-of-fold residuals hold at least a quarter of
    the squared error (:data:`HEAVY_TAIL_SHARE`; from 100 rows on), a network trained on
    ``loss="mse"`` is told to set ``loss="huber"``.

    Examples
    --------
    >>> import foldstack as fs
    >>> from sklearn.datasets import make_moons
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = make_moons(300, noise=0.25, random_state=0)
    >>> report = fs.selection.cross_validate_candidates(
    ...     {"stump": DecisionTreeClassifier(max_depth=1),
    ...      "forest": RandomForestClassifier(min_samples_leaf=5)}, X, y, cv=5, verbose=0)
    >>> diagnosis = fs.diagnostics.diagnose(report)
    >>> diagnosis.loc["stump", "verdict"]
    'high_bias'
    >>> diagnosis.loc["stump", "remedies"][0]
    'a bigger model: raise max_depth from 1 (e.g. to 2)'
    >>> move = diagnosis.attrs["remedies"]["stump"][0]
    >>> move.param, move.action, move.current, move.suggested, move.reason
    ('max_depth', 'raise', 1, 2, 'high_bias')
    """
    if not isinstance(report, CVReport):
        raise InvalidParameterError(
            f"diagnose needs a CVReport (from cross_validate_candidates); got "
            f"{type(report).__name__}.")
    metric = report._check_metric(metric)
    if isinstance(min_effect, bool) or not isinstance(min_effect, numbers.Real) or \
            not 0 <= min_effect < 1:
        raise InvalidParameterError(f"diagnose: `min_effect` must be a number in [0, 1); got "
                                    f"{min_effect!r}.")
    gib = bool(report.greater_is_better[metric])
    base = _baseline_per_fold(report, metric, baseline)
    board = report.leaderboard(metric)
    ok = board[board["status"] == "ok"]
    best_name = str(ok.index[0]) if len(ok) else None
    best = float(ok[f"mean_test_{metric}"].iloc[0]) if len(ok) else np.nan
    best_std = float(ok[f"std_test_{metric}"].iloc[0]) if len(ok) else np.nan
    rows = {}
    records: dict[str, tuple[Remedy, ...]] = {}
    for name in board.index:
        result = report.results[name]
        test, train = result.fold_scores("test"), result.fold_scores("train")
        te = test[metric] if metric in test else pd.Series(dtype=float)
        tr = train[metric] if metric in train else pd.Series(dtype=float)
        t = float(tr.mean()) if len(tr) else np.nan
        v = float(te.mean()) if len(te) else np.nan
        t_sd = float(tr.std(ddof=0)) if len(tr) else np.nan
        v_sd = float(te.std(ddof=0)) if len(te) else np.nan
        row = {"train": t, "train_std": t_sd, "validation": v, "validation_std": v_sd,
               "gap": (t - v) * (1 if gib else -1), "baseline": base}
        findings: dict[str, int] = {}
        if result.status != "ok":
            first = next((ln for ln in (result.error or "").splitlines() if ln.strip()), "")
            verdict = Verdict("failed", f"the candidate did not finish ({result.status}): "
                                        f"{first}", np.nan, np.nan)
        else:
            verdict = fit_verdict(t, v, train_std=t_sd, validation_std=v_sd, baseline=base,
                                  best=best, best_std=best_std, greater_is_better=gib,
                                  min_effect=min_effect, metric=metric, best_name=best_name)
            findings = _epoch_summary(report, name)
        n_folds = len(result.fold_models or ())
        residual = _residual_findings(report, name) if result.status == "ok" else set()
        records[name] = tuple(remedies(result.estimator, verdict.verdict,
                                       findings=set(findings) | residual,
                                       error=result.error, kind=result.kind))
        row.update(tolerance_bias=verdict.tolerance_bias,
                   tolerance_variance=verdict.tolerance_variance, verdict=verdict.verdict,
                   evidence=verdict.evidence,
                   remedies=render_lines(records[name]),  # text at the edge, as shown
                   epoch_findings=", ".join(f"{c} ({k}/{n_folds} folds)"
                                            for c, k in sorted(findings.items())))
        rows[name] = row
        logger.debug("diagnose %s: %s", name, verdict.verdict)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "candidate"
    out.attrs["metric"] = metric
    out.attrs["remedies"] = records
    return out
