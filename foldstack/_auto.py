"""AutoEnsembleClassifier / AutoEnsembleRegressor: candidates -> one CV -> ensembles -> best.

A short composition of public parts: :func:`foldstack.models.default_candidates`,
:func:`foldstack.selection.cross_validate_candidates`, the ``from_report`` constructors of
:mod:`foldstack.ensemble` and :func:`foldstack.ensemble.add_to_report`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone, is_classifier
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
from foldstack.ensemble._base import check_columns, check_fit_data, fit_target
from foldstack.exceptions import InvalidParameterError
from foldstack.selection import FoldAverage, cross_validate_candidates
from foldstack.selection._cv import check_n_jobs
from foldstack.utils._random import derive_seed, set_random_states
from foldstack.utils._validation import Interval, Options, check_params, check_value

logger = logging.getLogger(__name__)

ENSEMBLE_KINDS = ("equal", "optimized", "greedy", "stacking")


class _BaseAutoEnsemble(BaseEstimator):
    _constraints = {
        "candidates": [None, dict, list, tuple],
        "cv": ["cv"],
        "scoring": [None, str, list, tuple, dict, "callable"],
        "ensembles": [list, tuple],
        "refit": ["boolean"],
        "n_jobs": [None, Interval(int)],
        "cache_dir": [None, str, os.PathLike],
        "random_state": ["random_state"],
        "verbose": [Interval(int, 0)],
    }

    def __init__(self, candidates=None, *, cv=5, scoring=None,
                 ensembles=("equal", "greedy", "stacking"), refit=False, n_jobs=None,
                 cache_dir=None, random_state=0, verbose=0):
        self.candidates = candidates
        self.cv = cv
        self.scoring = scoring
        self.ensembles = ensembles
        self.refit = refit
        self.n_jobs = n_jobs
        self.cache_dir = cache_dir
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
            from foldstack.models import default_candidates

            candidates = default_candidates(task, random_state=self.random_state)
        report = cross_validate_candidates(
            candidates, X, y, cv=self.cv, scoring=self.scoring, task=task, n_jobs=self.n_jobs,
            cache_dir=self.cache_dir, random_state=self.random_state, verbose=self.verbose)
        models = list(report.ok_names)
        if not models:
            report.best()  # raises: no candidate finished
        self.ensembles_ = {}
        if len(models) > 1:
            for kind in kinds:
                self.ensembles_[kind] = self._build(kind, report, models)
        elif kinds:
            logger.info("one candidate finished; no ensemble is built")
        self.cv_report_ = report
        for kind, ens in self.ensembles_.items():
            report = add_to_report(report, ens, name=kind)
        self.report_ = report
        self.leaderboard_ = report.leaderboard()
        self.best_name_ = report.best()
        self.best_estimator_ = self._final(X)
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

    def _build(self, kind: str, report: Any, names: list[str], **params: Any) -> Any:
        classification = is_classifier(self)
        if kind == "stacking":
            cls = StackingClassifier if classification else StackingRegressor
            return cls.from_report(report, names, random_state=self.random_state, **params)
        cls = AveragingClassifier if classification else AveragingRegressor
        return cls.from_report(report, names, weights=kind, random_state=self.random_state,
                               **params)

    def _final(self, X: Any) -> Any:
        """The chosen model or ensemble, predicting with fold models or refitted on all rows."""
        report, best = self.cv_report_, self.best_name_
        if best in self.ensembles_:
            if not self.refit:
                return self.ensembles_[best]
            names = list(self.ensembles_[best].named_estimators_)
            return self._build(best, report, names, X=X, refit=True)
        if not self.refit:
            return report.fold_average(best)
        model = set_random_states(clone(report.candidates[best]),
                                  derive_seed(self.random_state, best, "refit"))
        return FoldAverage((model.fit(X, fit_target(report)),), report.classes)

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
        The models to cross-validate.  None: ``foldstack.models.default_candidates(task,
        random_state)`` (linear, xgboost, random forest, MLP), which accept raw mixed-type
        DataFrames with missing values.
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
