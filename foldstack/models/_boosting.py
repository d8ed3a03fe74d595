"""What the gradient-boosting candidates share: early-stopped rounds, threads, table encoding.

:class:`BoostingModel` is the base of :class:`TabularLGBMClassifier` and
:class:`TabularCatBoostClassifier` (and their regressors).  It takes the raw mixed-type
table itself: numeric columns as floats (NaN for missing), bool / object / string / category
columns as categorical, their levels learned in ``fit`` (a level unseen in ``fit`` becomes
missing), and hands the library a float matrix plus the positions of the categorical
columns, so that each library splits on categories natively.

The number of rounds is picked as :mod:`foldstack.models._xgb` does: from 1,024 rows,
``validation_fraction`` of the rows are held out (stratified for classifiers), boosting
stops when the validation loss has not improved for ``early_stopping_rounds`` rounds (at
most ``max_estimators``), then the model is refitted on every row with that number of
rounds scaled to the larger training set.  Smaller tables boost ``n_estimators`` rounds.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from foldstack.models._mlp import SMALL_TABLE_ROWS
from foldstack.models._preprocess import CategoryDtypeEncoder, _validated_frame, raw_table_tags
from foldstack.utils._deadline import time_is_up
from foldstack.utils._indexing import n_rows
from foldstack.utils._validation import Interval, Options, check_params

logger = logging.getLogger(__name__)

#: Rounds without improvement of the validation loss before boosting stops, when
#: ``early_stopping_rounds`` is None.
DEFAULT_PATIENCE = 50

BOOSTING_CONSTRAINTS = {
    "n_estimators": [Interval(int, 1, None)],
    "learning_rate": [Interval(float, 0, None, closed="neither")],
    "early_stopping": [Options("auto"), "boolean"],
    "validation_fraction": [Interval(float, 0, 1, closed="neither")],
    "max_estimators": [Interval(int, 1, None)],
    "early_stopping_rounds": [None, Interval(int, 1, None)],
    "n_jobs": [None, Interval(int)],
    "random_state": [None, Interval(int, 0, None)],
}

BOOSTING_DOC = """
    n_estimators : int
        Rounds boosted on every row without early stopping (tables under 1,024 rows with
        ``early_stopping="auto"``).
    learning_rate : float, default=0.05
        Shrinkage of each round.
    early_stopping : bool or "auto", default="auto"
        Pick the number of rounds on held-out rows, then refit on all rows.  ``"auto"``: on
        from 1,024 training rows, off below.
    validation_fraction : float in (0, 1), default=0.1
        Share of the rows held out (stratified for classifiers) to pick the number of rounds.
    max_estimators : int, default=2000
        Most rounds tried with early stopping.
    early_stopping_rounds : int, default=None
        Rounds without improvement of the validation loss before stopping (None: 50).
    n_jobs : int, default=None
        Threads.  None or -1: one per CPU core (on an idle machine every core was faster
        than one from 1,000 rows on, ``python -m bench.gbdt_threads``); -2: all but one.
        Cross-validation with parallel workers sets an unset ``n_jobs`` to their share of
        the cores, so that they never oversubscribe them.
    random_state : int, default=None
        Seed of the library and of the validation split (None: 0).
"""

FITTED_DOC = """
    Attributes
    ----------
    early_stopping_ : bool
        Whether the rounds were picked on held-out rows.
    validation_rounds_ : int or None
        The best number of rounds on the held-out rows (None without early stopping).
    n_rounds_ : int
        Rounds of the final model (refitted on all rows).
    encoder_ : CategoryDtypeEncoder
        The column types and categorical levels learned in ``fit``.
    categorical_columns_ : list of int
        Positions of the columns split as categories.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X was a DataFrame with string column names.
"""


@contextmanager
def temporarily(model: Any, **params: Any) -> Iterator[None]:
    """Set parameters for one inner fit and put the user's values back (sklearn convention)."""
    saved = {k: getattr(model, k) for k in params}
    for k, v in params.items():
        setattr(model, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(model, k, v)


def validation_split(random_state: Any, fraction: float, y: np.ndarray, stratify: bool,
                     fallback_rounds: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Row indices (train, valid), or None when a class is too small to be on both sides."""
    seed = random_state if isinstance(random_state, int) else 0
    try:
        return train_test_split(np.arange(len(y)), test_size=fraction, random_state=seed,
                                stratify=y if stratify else None)
    except ValueError as exc:
        logger.info("early stopping skipped (%s); boosting %s rounds on all rows", exc,
                    fallback_rounds)
        return None


def refit_rounds(best: int, fraction: float) -> int:
    """Rounds for the refit on every row: it sees 1 / (1 - fraction) times the rows."""
    return max(1, math.ceil(best / (1.0 - fraction)))


def n_threads(n_jobs: int | None) -> int:
    """Threads of one fit: see ``n_jobs`` in :data:`BOOSTING_DOC`."""
    cores = os.cpu_count() or 1
    if n_jobs is None:
        return cores
    if n_jobs < 0:
        return max(1, cores + 1 + n_jobs)
    return max(1, n_jobs)


def _weights(sample_weight: Any, n: int) -> np.ndarray:
    w = np.asarray(sample_weight, dtype=np.float64).ravel()
    if w.shape != (n,):
        raise ValueError(f"sample_weight has {w.size} values for {n} rows; give one per row.")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ValueError("sample_weight holds negative, NaN or infinite values; weights must "
                         "be finite and >= 0.")
    if not w.any():
        raise ValueError("Every sample_weight is zero; give some rows a positive weight.")
    return w


class BoostingModel(BaseEstimator):
    """A boosting library's model on the raw table, with early-stopped rounds.

    Subclasses name the library and implement :meth:`_train` and :meth:`_raw_predict`.
    """

    _constraints: dict = BOOSTING_CONSTRAINTS
    _estimator_type: str

    # ---------------------------------------------------------------- library hooks
    def _train(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None, rounds: int,
               valid: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None,
               threads: int) -> tuple[Any, int]:
        """Train on ``X, y`` (float matrix, codes) for at most ``rounds`` rounds, stopping
        on ``valid`` when given; return the model and the rounds it kept."""
        raise NotImplementedError

    def _raw_predict(self, X: np.ndarray) -> np.ndarray:
        """Probabilities (n, n_classes) for classifiers, values (n,) for regressors."""
        raise NotImplementedError

    # ---------------------------------------------------------------- shared
    def _matrix(self, X: Any, *, reset: bool) -> np.ndarray:
        """The table as float64: numbers as they are, categories as their level's code
        (NaN for missing or unseen levels)."""
        frame = _validated_frame(self, X, reset=reset)
        if reset:
            self.encoder_ = CategoryDtypeEncoder().fit(frame)
            categorical = set(self.encoder_.categorical_features_)
            self.categorical_columns_ = [i for i, c in enumerate(frame.columns)
                                         if c in categorical]
        encoded = self.encoder_.transform(frame)
        out = np.empty(encoded.shape, dtype=np.float64)
        for j, name in enumerate(encoded.columns):
            col = encoded[name]
            if isinstance(col.dtype, pd.CategoricalDtype):
                codes = col.cat.codes.to_numpy()
                out[:, j] = np.where(codes < 0, np.nan, codes)
            else:
                out[:, j] = col.to_numpy(dtype=np.float64)
        return out

    def _fit(self, X: Any, y: np.ndarray, sample_weight: Any, stratify: bool) -> None:
        check_params(self)
        matrix = self._matrix(X, reset=True)
        check_consistent_length(matrix, y)
        if len(y) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 rows to fit; got "
                             f"{len(y)} sample.")
        w = None if sample_weight is None else _weights(sample_weight, len(matrix))
        threads = n_threads(self.n_jobs)
        on = (n_rows(matrix) >= SMALL_TABLE_ROWS if self.early_stopping == "auto"
              else self.early_stopping)
        split = (validation_split(self.random_state, self.validation_fraction, y, stratify,
                                  self.n_estimators) if on else None)
        if split is None:
            self.model_, self.n_rounds_ = self._train(matrix, y, w, self.n_estimators, None,
                                                      threads)
            self.early_stopping_, self.validation_rounds_ = False, None
            return
        train, valid = split
        part = (lambda rows: None) if w is None else (lambda rows: w[rows])
        model, best = self._train(matrix[train], y[train], part(train), self.max_estimators,
                                  (matrix[valid], y[valid], part(valid)), threads)
        self.early_stopping_, self.validation_rounds_ = True, best
        if time_is_up():  # no time to refit on every row: keep the held-out fit
            self.model_, self.n_rounds_ = model, best
            return
        rounds = refit_rounds(best, self.validation_fraction)
        self.model_, self.n_rounds_ = self._train(matrix, y, w, rounds, None, threads)

    def _patience(self) -> int:
        return self.early_stopping_rounds or DEFAULT_PATIENCE

    def _predict_raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self._raw_predict(self._matrix(X, reset=False))

    def __sklearn_tags__(self):
        return raw_table_tags(super().__sklearn_tags__())


_FIT_DOC = """Fit on the raw table; see the class notes.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """


def _target(est: BoostingModel, y: Any) -> np.ndarray:
    if y is None:
        raise ValueError(f"{type(est).__name__} requires y to be passed, but the target y is "
                         "None.")
    return column_or_1d(y, warn=True)


class BoostingClassifier(ClassifierMixin, BoostingModel):
    """Labels of any type: encoded in ``fit``, ``classes_`` holds the originals."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BoostingClassifier:
        y = _target(self, y)
        check_classification_targets(y)
        self.label_encoder_ = LabelEncoder().fit(y)
        if len(self.label_encoder_.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least two classes in y; it has "
                             f"1 class: {self.label_encoder_.classes_.tolist()}.")
        self._fit(X, self.label_encoder_.transform(y), sample_weight, True)
        return self

    fit.__doc__ = _FIT_DOC

    @property
    def classes_(self) -> np.ndarray:
        check_is_fitted(self, "label_encoder_")
        return self.label_encoder_.classes_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, in ``classes_`` order."""
        return self._predict_raw(X)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class BoostingRegressor(RegressorMixin, BoostingModel):
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BoostingRegressor:
        y = _target(self, y).astype(np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("y holds NaN or infinite values; drop those rows or fill them.")
        self._fit(X, y, sample_weight, False)
        return self

    fit.__doc__ = _FIT_DOC

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values (float64)."""
        return np.asarray(self._predict_raw(X), dtype=np.float64)
