"""Weighted averages of class probabilities or predictions: equal, optimised, greedy, given."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from foldstack.ensemble._base import COMMON_CONSTRAINTS, BaseEnsemble, is_number_list
from foldstack.ensemble._crossfit import metric_functions
from foldstack.ensemble._greedy import greedy_weights
from foldstack.ensemble._optimize import optimize_weights
from foldstack.exceptions import InvalidParameterError
from foldstack.selection import CVReport
from foldstack.selection._scoring import ALIASES
from foldstack.utils._validation import Interval, Options

logger = logging.getLogger(__name__)

WEIGHT_MODES = ("equal", "optimized", "greedy")
# primary metric -> what greedy selection minimises with its vectorised batch losses
_GREEDY = {"log_loss": "log_loss", "roc_auc": "roc_auc", "accuracy": "accuracy",
           "rmse": "mse", "mse": "mse", "r2": "mse", "mae": "mae"}


def _canonical(name: str) -> str:
    return ALIASES.get(name, name)


def greedy_metric(report: CVReport) -> Any:
    """The report's primary metric as a :func:`greedy_weights` ``metric``."""
    primary = _canonical(report.primary)
    if primary in _GREEDY:
        return _GREEDY[primary]
    func = metric_functions(report).get(report.primary)
    if func is None:  # a scorer callable: fall back on the proper scoring rule of the task
        fallback = "mse" if report.task == "regression" else "log_loss"
        logger.info("greedy selection minimises %s: the primary metric %r is a scorer "
                    "that needs an estimator", fallback, report.primary)
        return fallback
    sign = 1.0 if report.greater_is_better[report.primary] else -1.0
    classes = report.classes

    def loss(y: np.ndarray, pred: np.ndarray) -> float:
        labels = y if classes is None else classes[y]
        return -sign * func(labels, pred, classes)
    return loss


def optimized_loss(report: CVReport) -> str:
    """Classification: log loss (ROC AUC and accuracy are not differentiable); regression:
    absolute error for MAE-type metrics, squared error otherwise."""
    if report.task != "regression":
        return "log_loss"
    return "mae" if _canonical(report.primary) in ("mae", "median_ae") else "mse"


class _BaseAveraging(BaseEnsemble):
    _constraints = {
        **COMMON_CONSTRAINTS,
        "weights": [Options(*WEIGHT_MODES), "array-like"],
        "greedy_iter": [Interval(int, 1)],
        "greedy_bags": [Interval(int, 1)],
    }

    def __init__(self, estimators, *, weights="equal", cv=5, scoring=None, refit=False,
                 greedy_iter=100, greedy_bags=1, n_jobs=None, random_state=0, verbose=0):
        self.estimators = estimators
        self.weights = weights
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.greedy_iter = greedy_iter
        self.greedy_bags = greedy_bags
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    @property
    def default_name(self) -> str:
        return self.weights if isinstance(self.weights, str) else "weighted"

    def _check_combiner_params(self, n_members: int) -> None:
        w = self.weights
        if isinstance(w, str):
            return
        name = type(self).__name__
        if not is_number_list(w):
            raise InvalidParameterError(f"{name}: `weights` must be one of "
                                        f"{', '.join(map(repr, WEIGHT_MODES))} or a list of "
                                        f"numbers; got {w!r:.100}.")
        w = np.asarray(w, dtype=float)
        if len(w) != n_members:
            raise InvalidParameterError(f"{name}: {n_members} estimators but {len(w)} weights; "
                                        "give one weight per estimator.")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise InvalidParameterError(f"{name}: weights must be finite and non-negative; "
                                        f"got {w.tolist()}.")
        if w.sum() == 0:
            raise InvalidParameterError(f"{name}: the weights sum to zero; give at least one "
                                        "positive weight.")

    def _fit_combiner(self, P, y, Z, names, report):
        n_members = P.shape[1]
        if isinstance(self.weights, str):
            if self.weights == "equal":
                return np.full(n_members, 1.0 / n_members)
            if self.weights == "optimized":
                return optimize_weights(P, y, loss=optimized_loss(report))
            return greedy_weights(P, y, metric=greedy_metric(report), n_iter=self.greedy_iter,
                                  n_bags=self.greedy_bags, random_state=self.random_state)
        given = dict(zip([n for n, _ in self.estimators], np.asarray(self.weights, float)))
        w = np.array([given[n] for n in names])
        if w.sum() == 0:
            raise InvalidParameterError(
                f"{type(self).__name__}: the estimators left after failures ({names}) all "
                "have weight zero.")
        return w / w.sum()

    def _apply_combiner(self, state, P, Z):
        return np.tensordot(P, state, axes=([1], [0]))

    def _state(self):
        return self.weights_

    def _set_state(self, state):
        self.weights_ = state


_DOC_COMMON = """
    Parameters
    ----------
    estimators : list of (str, estimator)
        The members, unfitted; names must be unique.
    weights : {"equal", "optimized", "greedy"} or array-like of shape (n_estimators,), \
default="equal"
        ``"equal"``: the plain mean.  ``"optimized"``: non-negative weights summing to one
        that minimise the primary metric's loss on the out-of-fold (OOF) predictions, with
        scipy (log loss for classification, whose minimiser also serves ROC AUC and
        accuracy; squared or absolute error for regression).  ``"greedy"``: Caruana et al.'s
        ensemble selection with replacement on the OOF predictions, for the primary metric
        (see :func:`greedy_weights`).  Numbers: fixed weights, normalised to sum to one.
    cv : int, splitter or iterable, default=5
        Folds of the members' single cross-validation in ``fit``.
    scoring : str, callable, list or dict, default=None
        Metrics of that cross-validation; the first is primary (the one weights target).
    refit : bool, default=False
        False: each member predicts with the average of its K fold models (no refit).
        True: each member is refitted once on all rows.
    greedy_iter : int, default=100
        Selection rounds of ``weights="greedy"``.
    greedy_bags : int, default=1
        Bagged greedy selection over random halves of the members when > 1.
    n_jobs : int, default=None
        Parallel (member x fold) fits.
    random_state : int, RandomState or None, default=0
        Seeds the folds, the members without a seed of their own and the greedy bags.
    verbose : int, default=0
        1 shows the cross-validation progress.

    Attributes
    ----------
    weights_ : ndarray of shape (n_members,)
        Non-negative weights summing to one, in the order of ``estimators_``.
    estimators_ : list of FoldAverage
        Fitted members (K fold models each, or one refitted model), failed ones left out.
    named_estimators_ : Bunch
        The same by name.
    cv_report_ : CVReport
        The members' cross-validation record (failed members included).
    cv_score_ : float
        **Honest** estimate of the ensemble's primary score: the mean over folds of the
        held-out score of weights fitted on the other folds' OOF rows (cross-fitting).
    cv_scores_ : DataFrame
        Tidy (fold, subset, metric, value): ``test`` rows are the honest cross-fitted fold
        scores, ``train`` rows the in-sample ones (their mean is ``oof_score_``).
    oof_score_ : float
        **In-sample** (optimistic) score: the weights fitted on all OOF rows, scored on
        those same rows (mean over folds).  Equal to ``cv_score_`` for equal weights.
    oof_ : ndarray
        In-sample ensemble OOF predictions; ``cv_oof_`` holds the cross-fitted ones.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
"""


class AveragingClassifier(ClassifierMixin, _BaseAveraging):
    __doc__ = """Weighted average of several classifiers' class probabilities.

    Weights are fitted on out-of-fold probabilities only, so they never see a row that a
    member was trained on.  :meth:`from_report` builds the ensemble from an existing
    :class:`~foldstack.selection.CVReport` without fitting any base model again.
""" + _DOC_COMMON + """    classes_ : ndarray of shape (n_classes,)

    See Also
    --------
    StackingClassifier : A meta-model on the members' log-odds.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from foldstack.ensemble import AveragingClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> ens = AveragingClassifier([("lr", LogisticRegression()),
    ...                            ("tree", DecisionTreeClassifier(max_depth=3))],
    ...                           weights="greedy", cv=3).fit(X, y)
    >>> float(ens.weights_.sum())
    1.0
    >>> ens.predict_proba(X[:2]).shape
    (2, 2)
    """

    def predict_proba(self, X: Any) -> np.ndarray:
        """Weighted average of the members' probabilities, columns in ``classes_`` order."""
        # members may answer in float32 (xgboost, networks): rows sum to 1 in float64
        proba = np.asarray(self._combined(X), dtype=np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """The class with the highest averaged probability."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class AveragingRegressor(RegressorMixin, _BaseAveraging):
    __doc__ = """Weighted average of several regressors' predictions.

    Weights are fitted on out-of-fold predictions only.  :meth:`from_report` builds the
    ensemble from an existing :class:`~foldstack.selection.CVReport` without refitting.
""" + _DOC_COMMON + """
    See Also
    --------
    StackingRegressor : A non-negative linear meta-model on the members' predictions.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from foldstack.ensemble import AveragingRegressor
    >>> X, y = make_regression(n_samples=200, noise=5.0, random_state=0)
    >>> ens = AveragingRegressor([("ridge", Ridge()), ("tree", DecisionTreeRegressor())],
    ...                          weights="optimized", cv=3).fit(X, y)
    >>> ens.weights_.round(2).tolist()[0] > 0.5
    True
    """

    def predict(self, X: Any) -> np.ndarray:
        """Weighted average of the members' predictions."""
        return self._combined(X)
