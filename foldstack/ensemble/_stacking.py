"""Stacking: a meta-model fitted on the members' out-of-fold predictions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, RegressorMixin, clone
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.metaestimators import available_if

from foldstack.ensemble._base import COMMON_CONSTRAINTS, BaseEnsemble
from foldstack.selection import predict_aligned
from foldstack.utils._random import derive_seed, set_random_states

_CLIP = 1e-5  # probabilities are clipped to [_CLIP, 1 - _CLIP] before taking logs


def meta_features(P: np.ndarray, names: list[str], classes: np.ndarray | None,
                  X: Any = None) -> np.ndarray | pd.DataFrame:
    """What the meta-model sees: one block per member, plus X when passing it through.

    Regression: the predictions.  Binary: the log-odds of the positive class.  Multiclass:
    centred log-probabilities (log p minus its mean over classes; the multiclass log-odds).
    With ``X`` the result is a DataFrame: the member columns (``name`` or ``name__class``)
    followed by X's columns (``x0, x1, ...`` for an array).
    """
    if classes is None:
        feats, cols = P, list(names)
    else:
        logp = np.log(np.clip(P, _CLIP, 1.0))
        if P.shape[2] == 2:
            feats, cols = logp[:, :, 1] - logp[:, :, 0], list(names)
        else:
            centred = logp - logp.mean(axis=2, keepdims=True)
            feats = centred.reshape(len(P), -1)
            cols = [f"{n}__{c}" for n in names for c in classes]
    if X is None:
        return feats
    meta = pd.DataFrame(feats, columns=cols)
    if isinstance(X, pd.DataFrame):
        extra = X.reset_index(drop=True).rename(columns=str)
    else:
        arr = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
        extra = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
    clash = set(cols) & set(extra.columns)
    if clash:
        extra = extra.rename(columns={c: f"{c}__feature" for c in clash})
    return pd.concat([meta, extra], axis=1)


def _encoder():
    return make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
         make_column_selector(dtype_include="number")),
        (make_pipeline(SimpleImputer(strategy="most_frequent"),
                       OneHotEncoder(handle_unknown="ignore")),
         make_column_selector(dtype_exclude="number")))


def default_final_estimator(classification: bool, passthrough: bool) -> Any:
    """The default meta-model.

    Classification: ``LogisticRegression(C=1.0)`` on the members' log-odds (L2-regularised).
    Regression: ``LinearRegression(positive=True)``, non-negative weights plus an intercept.
    With ``passthrough=True`` the features are imputed, scaled and one-hot encoded first,
    and the regression meta-model is ``RidgeCV`` (a sign constraint makes no sense for raw
    features).
    """
    if classification:
        final = LogisticRegression(C=1.0, max_iter=1000)
    else:
        final = RidgeCV() if passthrough else LinearRegression(positive=True)
    return make_pipeline(_encoder(), final) if passthrough else final


class _BaseStacking(BaseEnsemble):
    _constraints = {
        **COMMON_CONSTRAINTS,
        "final_estimator": [None, "estimator"],
        "passthrough": ["boolean"],
    }

    def __init__(self, estimators, *, final_estimator=None, passthrough=False, cv=5,
                 scoring=None, refit=False, n_jobs=None, random_state=0, verbose=0):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.passthrough = passthrough
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    default_name = "stacking"

    @property
    def _passthrough_needed(self) -> bool:
        return bool(self.passthrough)

    def _fit_combiner(self, P, y, Z, names, report):
        classification = report.classes is not None
        final = (default_final_estimator(classification, bool(self.passthrough))
                 if self.final_estimator is None else clone(self.final_estimator))
        set_random_states(final, derive_seed(self.random_state, "final_estimator"))
        meta = meta_features(P, names, report.classes, Z if self.passthrough else None)
        return final.fit(meta, y), list(names), report.classes

    def _apply_combiner(self, state, P, Z):
        final, names, classes = state
        meta = meta_features(P, names, classes, Z if self.passthrough else None)
        if classes is not None:
            return predict_aligned(final, meta, np.arange(len(classes)))
        return np.asarray(final.predict(meta), dtype=float).ravel()

    def _state(self):
        return self.final_estimator_, list(self.named_estimators_), getattr(self, "classes_",
                                                                             None)

    def _set_state(self, state):
        self.final_estimator_ = state[0]

    def _final_has(self, method: str) -> bool:
        final = getattr(self, "final_estimator_", None)
        if final is None:
            final = (default_final_estimator(True, bool(self.passthrough))
                     if self.final_estimator is None else self.final_estimator)
        return hasattr(final, method)


_DOC_COMMON = """
    Parameters
    ----------
    estimators : list of (str, estimator)
        The members, unfitted; names must be unique.
    final_estimator : estimator, default=None
        The meta-model.  It sees one block of columns per member: log-odds of the positive
        class (binary), centred log-probabilities (multiclass) or predictions (regression).
        None: an L2-regularised ``LogisticRegression(C=1.0)`` (classification) or a
        non-negative ``LinearRegression(positive=True)`` with intercept (regression); see
        :func:`default_final_estimator`.
    passthrough : bool, default=False
        Also give the meta-model the original features (as a DataFrame whose first
        columns are the members'; the default meta-model then imputes, scales and one-hot
        encodes them).  Needs ``X`` in :meth:`from_report`.
    cv : int, splitter or iterable, default=5
        Folds of the members' single cross-validation in ``fit``.
    scoring : str, callable, list or dict, default=None
        Metrics of that cross-validation; the first is primary.
    refit : bool, default=False
        False: each member predicts with the average of its K fold models (no refit).
        True: each member is refitted once on all rows.
    n_jobs : int, default=None
        Parallel (member x fold) fits.
    random_state : int, RandomState or None, default=0
        Seeds the folds, the members without a seed of their own and the meta-model.
    verbose : int, default=0
        1 shows the cross-validation progress.

    Attributes
    ----------
    final_estimator_ : estimator
        The meta-model, fitted on all out-of-fold (OOF) rows.
    estimators_ : list of FoldAverage
        Fitted members (K fold models each, or one refitted model), failed ones left out.
    named_estimators_ : Bunch
        The same by name.
    cv_report_ : CVReport
        The members' cross-validation record (failed members included).
    cv_score_ : float
        **Honest** estimate of the ensemble's primary score: the mean over folds of the
        held-out score of a meta-model fitted on the other folds' OOF rows (cross-fitting).
    cv_scores_ : DataFrame
        Tidy (fold, subset, metric, value): ``test`` rows are the honest cross-fitted fold
        scores, ``train`` rows the in-sample ones (their mean is ``oof_score_``).
    oof_score_ : float
        **In-sample** (optimistic) score: the meta-model fitted on all OOF rows, scored on
        those same rows (mean over folds).
    oof_ : ndarray
        In-sample ensemble OOF predictions; ``cv_oof_`` holds the cross-fitted ones.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
"""


class StackingClassifier(ClassifierMixin, _BaseStacking):
    __doc__ = """Stack classifiers with a meta-model trained on their out-of-fold predictions.

    Unlike :class:`sklearn.ensemble.StackingClassifier`, which refits every member K + 1
    times, the members are cross-validated once (or, with :meth:`from_report`, not at all:
    the report's OOF predictions and fold models are reused).  The meta-model is fitted on
    OOF predictions only, never on in-sample ones.
""" + _DOC_COMMON + """    classes_ : ndarray of shape (n_classes,)

    See Also
    --------
    AveragingClassifier : Weighted average of member probabilities.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from foldstack.ensemble import StackingClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> stack = StackingClassifier([("lr", LogisticRegression()),
    ...                             ("tree", DecisionTreeClassifier(max_depth=3))],
    ...                            cv=3).fit(X, y)
    >>> stack.predict_proba(X[:2]).shape
    (2, 2)
    >>> stack.cv_score_ <= stack.oof_score_ + 0.05   # honest vs in-sample ROC AUC
    True
    """

    @available_if(lambda self: self._final_has("predict_proba"))
    def predict_proba(self, X: Any) -> np.ndarray:
        """The meta-model's class probabilities, columns in ``classes_`` order."""
        return self._combined(X)

    def predict(self, X: Any) -> np.ndarray:
        """The class the meta-model finds most likely."""
        scores = self._combined(X)
        return self.classes_[np.argmax(scores, axis=1)]


class StackingRegressor(RegressorMixin, _BaseStacking):
    __doc__ = """Stack regressors with a meta-model trained on their out-of-fold predictions.

    The members are cross-validated once (or, with :meth:`from_report`, not at all), and the
    meta-model is fitted on their OOF predictions.
""" + _DOC_COMMON + """
    See Also
    --------
    AveragingRegressor : Weighted average of member predictions.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from foldstack.ensemble import StackingRegressor
    >>> X, y = make_regression(n_samples=200, noise=5.0, random_state=0)
    >>> stack = StackingRegressor([("ridge", Ridge()), ("tree", DecisionTreeRegressor())],
    ...                           cv=3).fit(X, y)
    >>> bool((stack.final_estimator_.coef_ >= 0).all())
    True
    """

    def predict(self, X: Any) -> np.ndarray:
        """The meta-model's prediction."""
        return self._combined(X)
