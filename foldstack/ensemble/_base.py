"""What every ensemble shares: members, ``fit`` / ``from_report``, prediction, composition.

An ensemble is a thin shell around a *combiner* (averaging weights or a meta-model).
Subclasses implement two pure-ish hooks:

- ``_fit_combiner(P, y, Z, names, report) -> state`` fits the combiner on OOF predictions
  ``P`` (``(n, n_models)`` values or ``(n, n_models, n_classes)`` probabilities), targets
  ``y`` (class codes or values) and optional passthrough features ``Z``;
- ``_apply_combiner(state, P, Z)`` returns the ensemble's probabilities or values.

``fit`` cross-validates the members once and hands the report to ``_fit_from_report``, which
``from_report`` calls directly: both paths fit the combiner the same way, cross-fit it for
an honest score, and predict with each member's K fold models (or a refit on all rows).
"""

from __future__ import annotations

import logging
import numbers
import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, is_classifier, is_regressor
from sklearn.utils import Bunch, get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from foldstack.data import check_training_data
from foldstack.ensemble._crossfit import cross_fit, mean_fold_score
from foldstack.exceptions import (
    CandidateFailedError,
    CandidateFailedWarning,
    ColumnNotFoundError,
    DataError,
    InvalidParameterError,
)
from foldstack.selection import (
    DEFAULT_METRICS,
    CVReport,
    FoldAverage,
    cross_validate_candidates,
    resolve_scoring,
)
from foldstack.selection._cv import check_n_jobs
from foldstack.selection._engine import fit_clone
from foldstack.selection._report import builtin_name, splitter_data, splitter_from_data
from foldstack.selection._splits import n_repeats_of
from foldstack.utils._parallel import threads_per_task
from foldstack.utils._random import derive_seed
from foldstack.utils._validation import Interval, check_params, did_you_mean

logger = logging.getLogger(__name__)

COMMON_CONSTRAINTS = {
    "estimators": [list, tuple],
    "cv": ["cv"],
    "scoring": [None, str, list, tuple, dict, "callable"],
    "refit": ["boolean"],
    "n_jobs": [None, Interval(int)],
    "random_state": ["random_state"],
    "verbose": [Interval(int, 0)],
}


class NamedMembersMixin:
    """``get_params`` / ``set_params`` that expose ``estimators=[(name, est)]`` by name.

    ``get_params(deep=True)`` includes ``name`` and ``name__param`` for every member, and
    ``set_params(name=est)`` replaces a member, as in scikit-learn's voting and stacking
    ensembles (written here so as not to depend on scikit-learn's private composition base).
    """

    def _member_pairs(self) -> list[tuple[str, Any]] | None:
        try:
            pairs = [(name, est) for name, est in self.estimators]
        except (TypeError, ValueError):
            return None
        return pairs if all(isinstance(n, str) for n, _ in pairs) else None

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        out = super().get_params(deep=deep)
        pairs = self._member_pairs() if deep else None
        for name, est in pairs or ():
            out[name] = est
            if hasattr(est, "get_params") and not isinstance(est, type):
                out.update({f"{name}__{k}": v for k, v in est.get_params(deep=True).items()})
        return out

    def set_params(self, **params: Any) -> Any:
        if "estimators" in params:
            self.estimators = params.pop("estimators")
        pairs = self._member_pairs()
        if pairs:
            names = [n for n, _ in pairs]
            for key in [k for k in params if "__" not in k and k in names]:
                new = params.pop(key)
                self.estimators = [(n, new if n == key else e) for n, e in pairs]
                pairs = self._member_pairs()
        return super().set_params(**params)


class BaseEnsemble(NamedMembersMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the averaging and stacking ensembles (not public)."""

    _constraints: dict = COMMON_CONSTRAINTS
    _passthrough_needed = False

    # -- hooks each ensemble family implements -----------------------------------------------
    @abstractmethod
    def _fit_combiner(self, P, y, Z, names, report):
        """Fit the weights or meta-model on OOF predictions ``P`` (and features ``Z``)."""

    @abstractmethod
    def _apply_combiner(self, state, P, Z):
        """Combine member predictions ``P`` with a fitted combiner ``state``."""

    @abstractmethod
    def _state(self) -> Any:
        """The fitted combiner, as stored on the estimator."""

    @abstractmethod
    def _set_state(self, state: Any) -> None:
        """Store a fitted combiner on the estimator."""

    def _check_combiner_params(self, n_members: int) -> None:
        """Validate parameters that depend on the number of members (before any CV)."""

    @property
    def default_name(self) -> str:
        """The name the ensemble gets in a report (see :func:`add_to_report`)."""
        return type(self).__name__

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, groups: Any = None) -> Any:
        """Cross-validate the members once, then fit the combiner on their OOF predictions.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Passed to the members as given (a DataFrame stays a DataFrame).
        y : array-like of shape (n_samples,)
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group splitter as ``cv`` (e.g. ``GroupKFold``, which
            ``from_report`` passes on from a report built with groups).

        Returns
        -------
        self
        """
        self._check_members()
        X, y, task = check_fit_data(self, X, y)
        validate_data(self, X, skip_check_array=True)
        report = cross_validate_candidates(
            list(self.estimators), X, y, cv=self.cv, scoring=self.scoring, groups=groups,
            task=task, n_jobs=self.n_jobs, random_state=self.random_state,
            verbose=self.verbose)
        # cross_validate_candidates has already warned about members that failed
        return self._fit_from_report(report, X, warn=False)

    @classmethod
    def from_report(cls, report: CVReport, names: Any = None, *, X: Any = None,
                    **params: Any) -> Any:
        """A fitted ensemble of the report's candidates: no base model is fitted again.

        The combiner is fitted on the report's out-of-fold (OOF) predictions, and each
        member predicts with the average of its K fold models.  ``clone`` of the result is
        an unfitted ensemble of the same candidates that runs its own CV on ``fit``, split
        and scored as the report was: ``cv`` is ``report.cv`` (a group splitter then needs
        ``fit(X, y, groups=...)``; folds given as index pairs stay those pairs, so such a
        clone refits on the report's rows only) and ``scoring`` is ``report.scoring``.

        Parameters
        ----------
        report : CVReport
            From :func:`~foldstack.selection.cross_validate_candidates`.
        names : list of str, default=None
            Candidates to combine, in this order; None takes every finished candidate.
            Candidates that did not finish are left out with a ``CandidateFailedWarning``.
        X : DataFrame or array-like, default=None
            The rows the report was built on; needed only for ``refit=True`` and
            ``passthrough=True``.
        **params
            Constructor parameters (``weights``, ``final_estimator``, ``refit``, ...).
            ``cv`` and ``scoring`` default to the report's (see above).

        Returns
        -------
        ensemble : fitted estimator
        """
        owner = f"{cls.__name__}.from_report"
        if not isinstance(report, CVReport):
            raise InvalidParameterError(f"{owner}: `report` must be a CVReport from "
                                        f"cross_validate_candidates; got "
                                        f"{type(report).__name__}.")
        check_report_task(cls, report, owner)
        names = resolve_names(report, names, owner)
        valid = cls._get_param_names()
        unknown = [k for k in params if k not in valid or k == "estimators"]
        if unknown:
            raise InvalidParameterError(
                f"{owner}: unknown parameter {unknown[0]!r}.{did_you_mean(unknown[0], valid)} "
                f"Parameters: {', '.join(p for p in valid if p != 'estimators')}.")
        # the report's own splitter (or folds); a report from before reports kept it (None):
        # its number of folds, as ensembles did then
        params.setdefault("cv", _n_folds(None, report) if report.cv is None else report.cv)
        params.setdefault("scoring", scoring_param(report))
        est = cls([(n, report.candidates[n]) for n in names], **params)
        est._check_members()
        if X is not None:
            if len(X) != len(report.y):
                raise DataError(f"{owner}: X has {len(X)} rows but the report was built on "
                                f"{len(report.y)}; pass the rows the report was built on.")
            validate_data(est, X, skip_check_array=True)
        else:
            est._features_from_members(report, names)
        return est._fit_from_report(report, X)

    def _check_members(self) -> None:
        check_params(self)
        problem = check_n_jobs(self.n_jobs)
        if problem:  # joblib's own error for 0 names neither the parameter nor the fix
            raise InvalidParameterError(f"{type(self).__name__}: {problem}")
        check_members(self)
        self._check_combiner_params(len(self.estimators))

    def _features_from_members(self, report: CVReport, names: list[str]) -> None:
        for n in names:
            models = report.results[n].fold_models or ()
            for attr in ("n_features_in_", "feature_names_in_"):
                if models and hasattr(models[0], attr) and not hasattr(self, attr):
                    setattr(self, attr, getattr(models[0], attr))

    def _fit_from_report(self, report: CVReport, X: Any = None, warn: bool = True) -> Any:
        names = usable_names(self, report, warn=warn)
        self.cv_report_ = report
        report = report.subset(names)
        if self._passthrough_needed and X is None:
            raise InvalidParameterError(
                f"{type(self).__name__}: passthrough=True feeds the original features to the "
                "meta-model; pass them: from_report(report, X=X) with the report's rows.")
        if self.refit and X is None:
            raise InvalidParameterError(
                f"{type(self).__name__}: refit=True refits every member on all rows; pass "
                "them: from_report(report, X=X) with the report's rows.")
        P, y_fit = oof_tensor(report), fit_target(report)
        state = self._fit_combiner(P, y_fit, X, names, report)
        self._set_state(state)
        if report.classes is not None:
            self.classes_ = report.classes
        self.oof_ = self._apply_combiner(state, P, X)
        self.oof_score_ = mean_fold_score(report, self.oof_)
        self.cv_scores_, self.cv_oof_ = cross_fit(self, report, P, y_fit, X, names,
                                                  in_sample=self.oof_)
        test = self.cv_scores_[(self.cv_scores_["subset"] == "test")
                               & (self.cv_scores_["metric"] == report.primary)]
        self.cv_score_ = float(test["value"].mean()) if len(test) else np.nan
        self.estimators_ = self._members(report, names, X, y_fit)
        self.named_estimators_ = Bunch(**dict(zip(names, self.estimators_)))
        return self

    def _members(self, report: CVReport, names: list[str], X: Any, y_fit: np.ndarray
                 ) -> list[FoldAverage]:
        if not self.refit:
            return [report.fold_average(n) for n in names]
        n_threads = threads_per_task(self.n_jobs)
        models = Parallel(n_jobs=self.n_jobs)(
            delayed(_refit)(report.candidates[n], X, y_fit,
                            derive_seed(self.random_state, n, "refit"), n_threads)
            for n in names)
        return [FoldAverage((m,), report.classes) for m in models]

    # -- prediction -------------------------------------------------------------------------
    def _member_predictions(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = check_columns(self, X)
        if is_classifier(self):
            return np.stack([m.predict_proba(X) for m in self.estimators_], axis=1)
        return np.stack([np.asarray(m.predict(X), dtype=float) for m in self.estimators_],
                        axis=1)

    def _combined(self, X: Any) -> np.ndarray:
        P = self._member_predictions(X)
        return self._apply_combiner(self._state(), P, as_table(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        pairs = self._member_pairs() or []
        try:
            member_tags = [get_tags(est).input_tags for _, est in pairs]
            tags.input_tags.allow_nan = bool(pairs) and all(t.allow_nan for t in member_tags)
            tags.input_tags.sparse = bool(pairs) and all(t.sparse for t in member_tags)
        except Exception:  # a member without tags: keep the default
            pass
        return tags

    # -- pickling and foldstack.persist: a scikit-learn splitter as data ----------------------
    def __getstate__(self) -> dict[str, Any]:
        # from_report sets cv to the report's splitter, a class foldstack.persist does not
        # load from a file: keep its name and parameters instead (see CVReport.save)
        state = super().__getstate__()
        cv = state.get("cv")
        data = splitter_data(cv)
        if data is not None:
            state = {**state, "cv": None, "_cv_splitter": data}
        elif hasattr(cv, "split"):
            # another splitter (LeaveOneGroupOut, a user's own class) is no data either: it is
            # kept as its number of folds, so that every ensemble can be saved
            state = {**state, "cv": _n_folds(cv, getattr(self, "cv_report_", None))}
        scoring = state.get("scoring")
        if isinstance(scoring, Mapping) and any(callable(v) for v in scoring.values()):
            # a scorer callable is code, never data: a saved ensemble scores a later fit
            # with the built-in metrics it names (none: the task's defaults)
            kept = {k: v for k, v in scoring.items() if isinstance(v, str)}
            state = {**state, "scoring": kept or None}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        data = state.pop("_cv_splitter", None)
        if data is not None:
            state["cv"] = splitter_from_data(data)
        super().__setstate__(state)


# -- helpers shared with AutoEnsemble ---------------------------------------------------------

def check_fit_data(est: Any, X: Any, y: Any) -> tuple[Any, np.ndarray, str]:
    """Validated ``X, y`` and the task implied by the estimator type (classifier or not)."""
    name = type(est).__name__
    if y is None:
        raise InvalidParameterError(f"{name} requires y to be passed, but the target y is "
                                    "None.")
    y = column_or_1d(y, warn=True)
    X = as_table(X)
    if hasattr(X, "tocsr"):
        X = X.tocsr()  # every sparse format; rows are taken per fold
    if X.ndim == 2 and X.shape[1] == 0:
        raise DataError(f"{name}: found X with 0 feature(s) (shape={X.shape}) while a "
                        "minimum of 1 is required.")
    X, y, _ = check_training_data(X, y)
    if not is_classifier(est) and y.dtype.kind in "fiu" and np.isinf(y.astype(float)).any():
        raise DataError(f"{name}: y contains infinity in {int(np.isinf(y).sum())} rows; "
                        "replace it with a finite value or drop those rows.")
    if len(y) < 2:
        raise DataError(f"{name} cross-validates its members and needs at least 2 rows; got "
                        f"n_samples = {len(y)}.")
    if is_classifier(est):
        check_classification_targets(y)
        n_classes = len(pd.unique(pd.Series(y, dtype=object)))
        return X, y, "binary" if n_classes <= 2 else "multiclass"
    return X, y, "regression"


def check_members(est: Any) -> None:
    """The members are a non-empty list of uniquely named estimators of the right kind."""
    owner = type(est).__name__
    try:
        pairs = [(name, member) for name, member in est.estimators]
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"{owner}: `estimators` must be a list of (name, estimator) pairs; got "
            f"{est.estimators!r:.100}.") from None
    if not pairs:
        raise InvalidParameterError(f"{owner}: `estimators` is empty; give at least one "
                                    "(name, estimator) pair.")
    names = [n for n, _ in pairs]
    dup = sorted({n for n in names if names.count(n) > 1}, key=str)
    if dup:
        raise InvalidParameterError(f"{owner}: estimator names must be unique; repeated: "
                                    f"{dup}. Rename them, e.g. 'xgboost_2'.")
    params = set(type(est)._get_param_names())
    for name, member in pairs:
        if not isinstance(name, str) or not name or "__" in name or name in params:
            raise InvalidParameterError(
                f"{owner}: estimator names must be non-empty strings without '__' that are "
                f"not parameter names ({', '.join(sorted(params))}); got {name!r}.")
        if not (hasattr(member, "fit") and hasattr(member, "get_params")):
            raise InvalidParameterError(f"{owner}: estimator {name!r} is not a scikit-learn "
                                        f"estimator; got {type(member).__name__}.")
    classifiers = [n for n, m in pairs if is_classifier(m)]
    regressors = [n for n, m in pairs if is_regressor(m)]
    if classifiers and regressors:
        raise InvalidParameterError(
            f"{owner}: the estimators mix classifiers ({', '.join(map(repr, classifiers))}) "
            f"and regressors ({', '.join(map(repr, regressors))}); an ensemble combines "
            "one kind. Remove the ones that do not fit the task.")
    wrong, kind, other = ((regressors, "classifiers", "Regressor") if is_classifier(est)
                          else (classifiers, "regressors", "Classifier"))
    if wrong:
        raise InvalidParameterError(
            f"{owner} combines {kind}, but {', '.join(map(repr, wrong))} "
            f"{'is' if len(wrong) == 1 else 'are'} not; use "
            f"{owner.replace('Classifier', '').replace('Regressor', '')}{other} for those.")


def check_report_task(cls: type, report: CVReport, owner: str) -> None:
    classification = report.task != "regression"
    if classification != issubclass(cls, ClassifierMixin):
        other = "Classifier" if classification else "Regressor"
        twin = cls.__name__.replace("Classifier", "").replace("Regressor", "") + other
        raise InvalidParameterError(f"{owner}: the report is for {report.task}; use "
                                    f"{twin}.from_report instead.")


def resolve_names(report: CVReport, names: Any, owner: str) -> list[str]:
    if names is None:
        return list(report.names)
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise InvalidParameterError(f"{owner}: `names` is empty; give at least one candidate "
                                    "or None for all.")
    for n in names:
        if n not in report.results:
            raise InvalidParameterError(
                f"{owner}: no candidate named {n!r} in the report.{did_you_mean(n, report.names)}"
                f" Candidates: {', '.join(report.names)}.")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidParameterError(f"{owner}: `names` repeats {dup}.")
    return names


def usable_names(est: Any, report: CVReport, warn: bool = True) -> list[str]:
    """The members that finished CV in ``report``; warn about the others, fail if none."""
    owner = type(est).__name__
    names = [n for n, _ in est.estimators]
    missing = [n for n in names if n not in report.results]
    if missing:
        raise InvalidParameterError(f"{owner}: the report has no candidate {missing[0]!r}; "
                                    f"candidates: {', '.join(report.names)}.")
    bad = [n for n in names if report.results[n].status != "ok"
           or report.results[n].oof is None or report.results[n].fold_models is None]
    ok = [n for n in names if n not in bad]
    if bad and ok and warn:
        first = {n: (report.results[n].error or report.results[n].status).splitlines()[0]
                 for n in bad}
        warnings.warn(f"{owner}: {len(bad)} of {len(names)} estimators did not finish "
                      f"cross-validation and are left out of the ensemble: "
                      f"{'; '.join(f'{n!r} ({e})' for n, e in first.items())}. See "
                      "report.failures for tracebacks.", CandidateFailedWarning, stacklevel=4)
    if not ok:
        detail = "; ".join(f"{n!r}: {(report.results[n].error or report.results[n].status)}"
                           .splitlines()[0] for n in bad)
        raise CandidateFailedError(f"{owner}: every estimator failed in cross-validation, so "
                                   f"there is nothing to combine. {detail}. See "
                                   "report.failures for tracebacks.")
    return ok


def oof_tensor(report: CVReport) -> np.ndarray:
    """(n, n_models) OOF values or (n, n_models, n_classes) OOF probabilities."""
    return np.stack([report.results[n].oof for n in report.names], axis=1)


def fit_target(report: CVReport) -> np.ndarray:
    """Class codes 0..K-1 (classification) or float values (regression)."""
    if report.classes is None:
        return np.asarray(report.y, dtype=float)
    return np.searchsorted(report.classes, report.y).astype(np.int64)


def scoring_param(report: CVReport) -> Any:
    """``report.scoring`` as an ensemble's ``scoring``: the same metrics, written as a user
    writes them where they are built-in (names, so that the parameter stays plain data).

    None for the task's default metrics, a list of names, or a dict name -> built-in metric
    name or scorer callable (renamed metrics, scorers); without ``report.scoring`` (a
    loaded report that had a scorer callable) the report's metric names when they all
    resolve, else None (the task's defaults).
    """
    if report.scoring is None:
        if tuple(report.metrics) == DEFAULT_METRICS[report.task]:
            return None
        try:
            resolve_scoring(list(report.metrics), report.task)
        except InvalidParameterError:
            return None  # a custom scorer: only its name is in the report
        return list(report.metrics)
    spec: dict[str, Any] = {}
    for m in report.scoring:
        key = builtin_name(m)
        if key is None:
            plain_scorer = (m.scorer is not None
                            and resolve_scoring({m.name: m.scorer}, report.task) == (m,))
            spec[m.name] = m.scorer if plain_scorer else m
        else:
            spec[m.name] = key
    if all(k == v for k, v in spec.items()):
        names = list(spec)
        return None if tuple(names) == DEFAULT_METRICS[report.task] else names
    return spec


def as_table(X: Any) -> Any:
    """X as given when it has a shape (DataFrame, array, sparse matrix), else an array."""
    return X if hasattr(X, "shape") else np.asarray(X)


def check_columns(est: Any, X: Any) -> Any:
    """``validate_data(reset=False)`` with a clear error for missing columns; returns X."""
    X = as_table(X)
    if len(X.shape) != 2:
        raise DataError(f"{type(est).__name__}: X must be 2-dimensional (rows x columns); got "
                        f"shape {X.shape}. Reshape your data: X.reshape(1, -1) for one row, "
                        "X.reshape(-1, 1) for one column.")
    if not (hasattr(est, "n_features_in_") or hasattr(est, "feature_names_in_")):
        return X
    try:
        validate_data(est, X, reset=False, skip_check_array=True)
    except ValueError as exc:
        expected = getattr(est, "feature_names_in_", None)
        if expected is not None and hasattr(X, "columns"):
            have = {str(c) for c in X.columns}
            missing = [str(c) for c in expected if str(c) not in have]
            if missing:
                raise ColumnNotFoundError(
                    f"{type(est).__name__}: X lacks column(s) {missing} that the model was "
                    f"fitted with; pass a table with the same columns as in fit. ({exc})"
                ) from exc
        raise
    return X


def _refit(estimator: Any, X: Any, y: np.ndarray, seed: int, n_threads: int | None) -> Any:
    return fit_clone(estimator, X, y, seed, n_threads)[0]  # the fit a fold task makes


def is_number_list(value: Any) -> bool:
    if isinstance(value, (str, bytes, dict)):
        return False
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return False
    return arr.ndim == 1 and all(isinstance(v, numbers.Real) for v in arr.tolist())


def _n_folds(cv: Any, report: CVReport | None) -> int:
    """The number of folds of ``cv`` (or, when it cannot say without data, of ``report``'s
    folds, repeats not counted)."""
    try:
        n = cv.get_n_splits() if cv is not None else None
    except (TypeError, ValueError):  # e.g. LeaveOneGroupOut needs the groups
        n = None
    if isinstance(n, numbers.Integral) and n >= 2:
        return int(n)
    if report is None:
        return 5
    repeats = int(n_repeats_of(report.splits, len(report.y)).max())
    return max(2, len(report.splits) // max(1, repeats))
