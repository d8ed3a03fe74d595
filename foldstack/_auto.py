"""AutoEnsembleClassifier / AutoEnsembleRegressor: candidates -> one CV -> ensembles -> best.

A short composition of public parts: :func:`foldstack.models.portfolio`,
:func:`foldstack.selection.cross_validate_candidates`, the ``from_report`` constructors of
:mod:`foldstack.ensemble` and :func:`foldstack.ensemble.add_to_report`.  :func:`compose`
(the ensembles of a report and the choice among them) is also what ``foldstack cv`` runs.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from foldstack.ensemble import (
    AveragingClassifier,
    AveragingRegressor,
    StackingClassifier,
    StackingRegressor,
    add_to_report,
)
from foldstack.ensemble._averaging import greedy_metric
from foldstack.ensemble._base import check_columns, check_fit_data, fit_target, oof_tensor
from foldstack.ensemble._greedy import greedy_weights
from foldstack.exceptions import CandidateFailedWarning, InvalidParameterError
from foldstack.selection import CVReport, FoldAverage, cross_validate_candidates
from foldstack.selection._cv import check_n_jobs
from foldstack.selection._engine import fit_clone
from foldstack.utils._random import derive_seed
from foldstack.utils._validation import Interval, Options, check_params, check_value

logger = logging.getLogger(__name__)

ENSEMBLE_KINDS = ("equal", "optimized", "greedy", "stacking")
#: Bagged greedy selection from this many members on (see :func:`ensemble_params`).
BAGGING_MIN_MEMBERS = 6
GREEDY_BAGS = 20
#: Share of ``time_limit`` given to the cross-validation; the rest is for the ensembles and
#: the final model.
ENSEMBLE_SHARE_COMPLEMENT = 0.9


@dataclass(frozen=True, eq=False)
class Composition:
    """What :func:`compose` made of a report.

    Attributes
    ----------
    cv_report : CVReport
        The report the ensembles were built from.
    report : CVReport
        ``cv_report`` with one row per ensemble (honest, cross-fitted scores).
    ensembles : dict of str -> fitted ensemble
        Every ensemble built, by kind.
    best_name : str
        The best model or ensemble of ``report`` (``report.best()``).
    best_estimator : estimator
        What predicts: the chosen ensemble, or the chosen candidate's fold average (or,
        with ``refit=True``, either refitted on all rows).
    skipped : tuple of str
        The ensemble kinds not built because the deadline had passed.
    """

    cv_report: CVReport
    report: CVReport
    ensembles: dict[str, Any] = field(default_factory=dict)
    best_name: str = ""
    best_estimator: Any = None
    skipped: tuple[str, ...] = ()


def ensemble_params(kind: str, n_members: int) -> dict[str, Any]:
    """Parameters :func:`compose` gives an ensemble of ``n_members`` models.

    Greedy selection is bagged (``greedy_bags=20``, half of the rows each) from
    :data:`BAGGING_MIN_MEMBERS` members: on the development suite's out-of-fold record
    (``python -m bench.ensemble_bagging``, weights cross-fitted on halves of the rows,
    ``bench/results/ensemble_bagging.csv``) bagging scored better on 18 of 27 splits with the
    twelve configurations of the portfolio as members, and on 13 of 27 (median change
    -0.01 %) with the four or five of its default prefix.
    """
    if kind == "greedy" and n_members >= BAGGING_MIN_MEMBERS:
        return {"greedy_bags": GREEDY_BAGS}
    return {}


def build_ensemble(kind: str, report: CVReport, names: list[str], *,
                   random_state: Any = 0, **params: Any) -> Any:
    """The ensemble ``kind`` (one of :data:`ENSEMBLE_KINDS`) of ``names``, from the report."""
    classification = report.task != "regression"
    if kind == "stacking":
        cls = StackingClassifier if classification else StackingRegressor
        return cls.from_report(report, names, random_state=random_state, **params)
    cls = AveragingClassifier if classification else AveragingRegressor
    return cls.from_report(report, names, weights=kind, random_state=random_state, **params)


def compose(report: CVReport, kinds: Sequence[str], *, X: Any = None, refit: bool = False,
            random_state: Any = 0,
            on_error: Callable[[str, Exception], None] | None = None,
            deadline: float | None = None,
            clock: Callable[[], float] = time.time) -> Composition:
    """Build the ensembles ``kinds`` of a report's finished models, rank them with the
    models, and choose the best: what :class:`AutoEnsembleClassifier` and ``foldstack cv``
    do after their cross-validation.

    Parameters
    ----------
    report : CVReport
        The candidates' cross-validation (finished candidates of ``kind="model"`` are the
        members; no ensemble is built with fewer than two).
    kinds : sequence of {"equal", "optimized", "greedy", "stacking"}
        The ensembles, named like this in the report.
    X : DataFrame or array-like, default=None
        The report's rows; needed only for ``refit=True``.
    refit : bool, default=False
        Refit the chosen model (or the chosen ensemble's members) once on all rows.
    random_state : int, RandomState or None, default=0
        Seeds the ensembles and the refit.
    on_error : callable, default=None
        ``on_error(kind, exc)`` for an ensemble that fails, which is then left out; None
        raises.
    deadline : float, default=None
        Time (on ``clock``) after which no further ensemble is started (a time limit's end):
        the kinds left are listed in ``skipped`` and logged.  One that started runs to its
        end.
    clock : callable, default=time.time
        Returns the time in seconds (tests inject their own).

    Returns
    -------
    Composition

    Examples
    --------
    >>> composition = compose(report, ["equal", "stacking"])  # doctest: +SKIP
    >>> composition.best_name, composition.report.leaderboard()  # doctest: +SKIP
    """
    members = [n for n in report.ok_names if report.results[n].kind == "model"]
    if not report.ok_names:
        report.best()  # raises: no candidate finished
    ensembles: dict[str, Any] = {}
    if len(members) < 2:
        if kinds:
            logger.info("ensembles skipped: %d finished candidate(s)", len(members))
        kinds = ()
    full = report
    skipped: list[str] = []
    for kind in kinds:
        if deadline is not None and clock() >= deadline:
            skipped.append(kind)
            continue
        params = ensemble_params(kind, len(members))
        if deadline is not None and kind == "greedy":
            need = greedy_seconds(report, members, params.get("greedy_bags", 1), clock)
            now = clock()
            if now + need > deadline:
                logger.info("greedy not built: its selections need about %.0f s; %.0f s "
                            "were left", need, max(deadline - now, 0.0))
                skipped.append(kind)
                continue
        try:
            with warnings.catch_warnings():
                # a member that did not finish was reported by the cross-validation
                warnings.simplefilter("ignore", CandidateFailedWarning)
                ens = build_ensemble(kind, report, members, random_state=random_state,
                                     **params)
            full = add_to_report(full, ens, name=kind)
        except Exception as exc:
            if on_error is None:
                raise
            on_error(kind, exc)  # e.g. the CLI: one ensemble failing must not cost the run
            continue
        ensembles[kind] = ens
    if skipped:
        logger.warning("ensembles not built, the time limit was spent: %s", ", ".join(skipped))
    best = full.best()
    return Composition(report, full, ensembles, best,
                       _final(report, ensembles, best, X, refit, random_state), tuple(skipped))


def greedy_seconds(report: CVReport, members: list[str], n_bags: int,
                   clock: Callable[[], float] = time.time) -> float:
    """About how long the greedy ensemble of ``members`` takes to build, from one selection
    timed on every out-of-fold row: it runs ``n_bags`` selections on all rows and as many on
    each fold's rows for its cross-fitted score, a bag on half the members.  Greedy
    selection is the one ensemble whose cost grows with the rounds, the members and (for ROC
    AUC, which sorts every row each round) the rows."""
    sub = report.subset(members)
    start = clock()
    greedy_weights(oof_tensor(sub), fit_target(sub), metric=greedy_metric(sub),
                   n_bags=1, random_state=0)
    per_bag = (clock() - start) * (0.5 if n_bags > 1 else 1.0)
    return per_bag * n_bags * (len(report.splits) + 1)


def refit_seconds(report: CVReport, done: Composition) -> float:
    """About how long refitting the chosen model (or ensemble's members) on all rows takes:
    their mean fold fit times, scaled to all rows (a fold model saw (K - 1) / K of them)."""
    best = done.best_name
    names = list(done.ensembles[best].named_estimators_) if best in done.ensembles else [best]
    k = len(report.splits)
    scale = k / max(1, k - 1)
    return float(sum(report.results[n].times["fit_time"].mean() for n in names) * scale)


def _final(report: CVReport, ensembles: dict[str, Any], best: str, X: Any, refit: bool,
           random_state: Any) -> Any:
    """The chosen model or ensemble, predicting with fold models or refitted on all rows."""
    if best in ensembles:
        if not refit:
            return ensembles[best]
        names = list(ensembles[best].named_estimators_)
        return build_ensemble(best, report, names, random_state=random_state, X=X,
                              refit=True, **ensemble_params(best, len(names)))
    if not refit:
        return report.fold_average(best)
    model, _ = fit_clone(report.candidates[best], X, fit_target(report),
                         derive_seed(random_state, best, "refit"), None)
    return FoldAverage((model,), report.classes)


class _BaseAutoEnsemble(BaseEstimator):
    _constraints = {
        "candidates": [None, dict, list, tuple],
        "cv": ["cv"],
        "scoring": [None, str, list, tuple, dict, "callable"],
        "ensembles": [list, tuple],
        "refit": ["boolean"],
        "n_jobs": [None, Interval(int)],
        "cache_dir": [None, str, os.PathLike],
        "time_limit": [None, Interval(float, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "verbose": [Interval(int, 0)],
    }

    def __init__(self, candidates=None, *, cv=5, scoring=None,
                 ensembles=("equal", "greedy", "stacking"), refit=False, n_jobs=None,
                 cache_dir=None, time_limit=None, random_state=0, verbose=0):
        self.candidates = candidates
        self.cv = cv
        self.scoring = scoring
        self.ensembles = ensembles
        self.refit = refit
        self.n_jobs = n_jobs
        self.cache_dir = cache_dir
        self.time_limit = time_limit
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, y: Any) -> Any:
        """Cross-validate the candidates once, build the ensembles, keep the best by honest score.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        check_params(self)
        problem = check_n_jobs(self.n_jobs)
        if problem:  # joblib's own error for 0 names neither the parameter nor the fix
            raise InvalidParameterError(f"{type(self).__name__}: {problem}")
        kinds = self._check_ensembles()
        X, y, task = check_fit_data(self, X, y)
        validate_data(self, X, skip_check_array=True)
        candidates = self.candidates
        if candidates is None:
            from foldstack.models import portfolio

            # the whole ordered portfolio under a limit (as far as the time goes); without
            # one, the prefix that costs about what the four default candidates cost
            candidates = portfolio(task, random_state=self.random_state,
                                   size="default" if self.time_limit is None else "all")
        limit = None if self.time_limit is None else float(self.time_limit)
        deadline = None if limit is None else time.time() + limit
        report = cross_validate_candidates(
            candidates, X, y, cv=self.cv, scoring=self.scoring, task=task, n_jobs=self.n_jobs,
            cache_dir=self.cache_dir,
            # the ensembles and the final model get the last tenth of the limit
            time_limit=None if limit is None else ENSEMBLE_SHARE_COMPLEMENT * limit,
            random_state=self.random_state, verbose=self.verbose)
        done = compose(report, kinds, random_state=self.random_state, deadline=deadline)
        self.refitted_ = False
        best_estimator = done.best_estimator
        if self.refit:
            cost = refit_seconds(report, done)
            if deadline is None or time.time() + cost <= deadline:
                best_estimator = _final(report, done.ensembles, done.best_name, X, True,
                                        self.random_state)
                self.refitted_ = True
            else:
                logger.warning("refit skipped: about %.0f s of refitting would pass the "
                               "time limit; %s predicts with its fold models", cost,
                               done.best_name)
        self.cv_report_, self.report_ = done.cv_report, done.report
        self.ensembles_ = done.ensembles
        self.leaderboard_ = done.report.leaderboard()
        self.best_name_ = done.best_name
        self.best_estimator_ = best_estimator
        if report.classes is not None:
            self.classes_ = report.classes
        return self

    def _check_ensembles(self) -> list[str]:
        name = type(self).__name__
        kinds = list(self.ensembles)
        for kind in kinds:
            problem = check_value(name, "ensembles", kind, [Options(*ENSEMBLE_KINDS)])
            if problem:
                raise InvalidParameterError(f"{name}: every entry of {problem}")
        if len(set(kinds)) != len(kinds):
            raise InvalidParameterError(f"{name}: `ensembles` repeats an entry: {kinds}.")
        return kinds

    def _predict_with(self, method: str, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = check_columns(self, X)
        return getattr(self.best_estimator_, method)(X)

    def predict(self, X: Any) -> np.ndarray:
        """Predict with the chosen model or ensemble."""
        return self._predict_with("predict", X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        members = (self.candidates.values() if isinstance(self.candidates, dict)
                   else [e for _, e in self.candidates or ()])
        try:
            member_tags = [get_tags(e).input_tags for e in members]
        except Exception:  # candidates of an unexpected shape: fit reports it
            return tags
        if member_tags:
            tags.input_tags.allow_nan = all(t.allow_nan for t in member_tags)
            tags.input_tags.sparse = all(t.sparse for t in member_tags)
        else:  # the default candidates impute missing values themselves
            tags.input_tags.allow_nan = True
        return tags


_DOC = """
    Parameters
    ----------
    candidates : dict of str -> estimator or list of (str, estimator), default=None
        The models to cross-validate, in the order to run them.  None: foldstack's
        portfolio (``foldstack.models.portfolio(task)``, learned on the development suite,
        linear model first), which accepts raw mixed-type DataFrames with missing values:
        without a ``time_limit`` its default-size prefix (about the cost of the four
        default candidates), with one the whole ordered list, run as far as time allows.
    cv : int, splitter or iterable, default=5
        Folds of the single cross-validation shared by every candidate.
    scoring : str, callable, list or dict, default=None
        Metrics; the first is primary and decides the choice (task defaults when None).
    ensembles : sequence of {"equal", "optimized", "greedy", "stacking"}, \
default=("equal", "greedy", "stacking")
        Ensembles built from the report (no base model is refitted), named like this in
        the leaderboard.
    refit : bool, default=False
        False: the chosen model predicts with the average of its K fold models.  True: its
        base models are refitted once on all rows.
    n_jobs : int, default=None
        Parallel (candidate x fold) fits; -1: one per CPU core, -2: all but one (not 0).
    cache_dir : str or path, default=None
        Cache of finished fits; a rerun fits only what changed.
    time_limit : float, default=None
        Seconds for the whole fit (cross-validation, ensembles, final model).  The
        cross-validation gets nine tenths of it and runs the candidates in their order:
        the first always runs all its folds (the default candidates start with the fast
        linear model, so there is always a result); each other fold starts only while time
        is left, boosting and networks stop training at a time that lets their remaining
        folds finish, and a candidate whose first fold shows it cannot finish is not
        continued (``"timeout"`` in the leaderboard; the ``note`` column says which folds
        were cut short).  ``refit=True`` is skipped (with a warning) when refitting would
        pass the limit.  Estimators that cannot stop mid-fit (scikit-learn's) may overrun
        by up to one fit.  None: no limit.
    random_state : int, RandomState or None, default=0
        Seeds the folds, the candidates and the ensembles.
    verbose : int, default=0
        1 shows the cross-validation progress.

    Attributes
    ----------
    report_ : CVReport
        Candidates and ensembles; ensemble rows (``kind="ensemble"``) carry honest,
        cross-fitted scores.
    leaderboard_ : DataFrame
        ``report_.leaderboard()``, best first.
    best_name_ : str
        The chosen model or ensemble (best mean validation score, honest for ensembles).
    best_estimator_ : estimator
        What ``predict`` uses: a fitted ensemble or a candidate's fold average.
    ensembles_ : dict of str -> ensemble
        Every ensemble built.
    cv_report_ : CVReport
        The candidates' cross-validation alone.
    refitted_ : bool
        Whether the chosen model was refitted on all rows (``refit=True`` within the time
        limit).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
"""


class AutoEnsembleClassifier(ClassifierMixin, _BaseAutoEnsemble):
    __doc__ = """Cross-validate candidate classifiers once, ensemble them, predict with the best.

    Every candidate is cross-validated on one set of shared folds; averaging and stacking
    ensembles are fitted on the out-of-fold record and scored honestly by cross-fitting;
    the best model or ensemble by mean validation score makes the predictions.
""" + _DOC + """    classes_ : ndarray of shape (n_classes,)

    Examples
    --------
    >>> import foldstack as fs
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> auto = fs.AutoEnsembleClassifier(
    ...     {"lr": LogisticRegression(), "tree": DecisionTreeClassifier(max_depth=3)},
    ...     cv=3).fit(X, y)
    >>> sorted(auto.leaderboard_.index)
    ['equal', 'greedy', 'lr', 'stacking', 'tree']
    >>> auto.predict_proba(X[:2]).shape
    (2, 2)
    """

    @available_if(lambda self: hasattr(getattr(self, "best_estimator_", FoldAverage),
                                       "predict_proba"))
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the chosen model or ensemble, in ``classes_`` order."""
        return self._predict_with("predict_proba", X)


class AutoEnsembleRegressor(RegressorMixin, _BaseAutoEnsemble):
    __doc__ = """Cross-validate candidate regressors once, ensemble them, predict with the best.

    Every candidate is cross-validated on one set of shared folds; averaging and stacking
    ensembles are fitted on the out-of-fold record and scored honestly by cross-fitting;
    the best model or ensemble by mean validation score makes the predictions.
""" + _DOC + """
    Examples
    --------
    >>> import foldstack as fs
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> X, y = make_regression(n_samples=200, noise=5.0, random_state=0)
    >>> auto = fs.AutoEnsembleRegressor({"ridge": Ridge(), "tree": DecisionTreeRegressor()},
    ...                                 cv=3).fit(X, y)
    >>> auto.best_name_ in auto.leaderboard_.index
    True
    """
