"""xgboost estimators that pick their number of rounds on held-out rows and take any labels.

Imported when the xgboost candidate is built, so ``import foldstack`` does not load xgboost.

A fixed number of boosting rounds is right for no data set: on the benchmark sets the 300 rounds
of depth-6 trees overfit the small, noisy churn and credit tables (training ROC AUC 0.98 vs
0.83 in cross-validation) and are too few on others.  From 1,024 rows (the MLP's rule,
:data:`foldstack.models._mlp.SMALL_TABLE_ROWS`) these estimators hold out
``validation_fraction`` of the rows, boost until the validation loss has not improved for
``early_stopping_rounds`` rounds (at most ``max_estimators``), then refit on every row with
that number of rounds scaled to the larger training set.  Smaller tables, where a validation
part would be a few dozen rows, boost ``n_estimators`` rounds on every row.

Ctrl-C during ``fit`` or a prediction is held back until xgboost has returned (boosting stops
after the current round), then raised as ``KeyboardInterrupt``: xgboost calls back into Python
while it reads the data, and a KeyboardInterrupt raised there is lost and leaves xgboost failing
(``Iterative DMatrix must have at least 1 batch``) or crashing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted
from xgboost import XGBClassifier, XGBRegressor
from xgboost.callback import TrainingCallback

from foldstack.models._boosting import (
    DEFAULT_PATIENCE,
    refit_rounds,
    temporarily,
    validation_split,
)
from foldstack.models._mlp import SMALL_TABLE_ROWS
from foldstack.utils._deadline import time_is_up
from foldstack.utils._indexing import n_rows, take_rows
from foldstack.utils._parallel import check_interrupt, defer_interrupts, interrupt_pending
from foldstack.utils._validation import Interval, Options, check_params

logger = logging.getLogger(__name__)

_CONSTRAINTS = {
    "early_stopping": [Options("auto"), "boolean"],
    "validation_fraction": [Interval(float, 0, 1, closed="neither")],
    "max_estimators": [Interval(int, 1, None)],
}
_OWN_PARAMS = frozenset(_CONSTRAINTS)

_DOC_PARAMS = """
    Parameters
    ----------
    early_stopping : bool or "auto", default="auto"
        Pick the number of rounds on held-out rows, then refit on all rows.  ``"auto"``: on
        from 1,024 training rows, off below.  Ignored when ``fit`` gets an ``eval_set`` (labels
        as in ``y``): then xgboost's own early stopping applies, with no refit.
    validation_fraction : float in (0, 1), default=0.1
        Share of the rows held out (stratified for classifiers) to pick the number of rounds.
    max_estimators : int, default=2000
        Most rounds tried with early stopping.  ``early_stopping_rounds`` (xgboost's parameter,
        default None meaning 50 here) is the patience.
    **kwargs
        xgboost's parameters; ``n_estimators`` is the number of rounds without early stopping.

    Attributes
    ----------
    early_stopping_ : bool
        Whether the rounds were picked on held-out rows.
    validation_rounds_ : int or None
        The best number of rounds on the held-out rows (None without early stopping).
    n_rounds_ : int
        Rounds of the final booster (refitted on all rows).
"""


class _StopOnInterrupt(TrainingCallback):
    """Stop boosting after the current round once a Ctrl-C is held back or the fit's
    deadline (a time limit, :mod:`foldstack.utils._deadline`) has passed."""

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        return interrupt_pending() or time_is_up()


def _fit_rounds(model: Any, fit: Callable[..., Any], X: Any, y: np.ndarray,
                stratify: bool, fit_params: dict) -> None:
    """Fit ``model`` with ``fit`` (the xgboost parent's), early-stopped when it applies."""
    check_params(model, _CONSTRAINTS)
    callbacks = [*(model.callbacks or []), _StopOnInterrupt()]
    with defer_interrupts(), temporarily(model, callbacks=callbacks):
        _fit_rounds_deferred(model, fit, X, y, stratify, fit_params)


def _fit_rounds_deferred(model: Any, fit: Callable[..., Any], X: Any, y: np.ndarray,
                         stratify: bool, fit_params: dict) -> None:
    on = (n_rows(X) >= SMALL_TABLE_ROWS if model.early_stopping == "auto"
          else model.early_stopping)
    split = (validation_split(model.random_state, model.validation_fraction, y, stratify,
                              model.n_estimators)
             if on and fit_params.get("eval_set") is None else None)
    if split is None:
        fit(X, y, **fit_params)
        model.early_stopping_, model.validation_rounds_ = False, None
        model.n_rounds_ = int(model.get_booster().num_boosted_rounds())
        return
    train, valid = split
    inner = dict(fit_params)
    if (weight := fit_params.get("sample_weight")) is not None:
        inner["sample_weight"] = take_rows(weight, train)
        inner["sample_weight_eval_set"] = [take_rows(weight, valid)]
    patience = model.early_stopping_rounds or DEFAULT_PATIENCE
    with temporarily(model, n_estimators=model.max_estimators, early_stopping_rounds=patience):
        fit(take_rows(X, train), y[train], verbose=False,
            eval_set=[(take_rows(X, valid), y[valid])], **inner)
    check_interrupt()  # not worth refitting on every row
    try:
        best = int(model.best_iteration) + 1
    except AttributeError:  # stopped (time limit) before early stopping noted a best round
        best = int(model.get_booster().num_boosted_rounds())
    if time_is_up():  # no time to refit on every row: keep the held-out fit's best rounds
        model.early_stopping_, model.validation_rounds_, model.n_rounds_ = True, best, best
        return
    rounds = refit_rounds(best, model.validation_fraction)
    with temporarily(model, n_estimators=rounds, early_stopping_rounds=None):
        fit(X, y, **fit_params)
    model.early_stopping_, model.validation_rounds_, model.n_rounds_ = True, best, rounds


class _EarlyStoppedRounds:
    """The three parameters both estimators add to xgboost's.

    A first base without ``get_params``: xgboost's ``get_params`` then collects its own
    parameters from the next base, as it does for scikit-learn mixins.
    """

    def __init__(self, *, early_stopping: bool | str = "auto", validation_fraction: float = 0.1,
                 max_estimators: int = 2000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.max_estimators = max_estimators

    def get_xgb_params(self) -> dict[str, Any]:
        """xgboost's parameters for the booster, without the three added here (xgboost would
        warn that they are not used)."""
        params = super().get_xgb_params()
        for name in _OWN_PARAMS:
            params.pop(name, None)
        return params


class TabularXGBRegressor(_EarlyStoppedRounds, XGBRegressor):
    __doc__ = ("""xgboost regressor that picks its number of rounds on held-out rows.

    :class:`xgboost.XGBRegressor` with three more parameters; see the module notes.
    """ + _DOC_PARAMS + """
    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3))
    >>> y = X[:, 0] + 0.1 * rng.normal(size=2000)
    >>> reg = TabularXGBRegressor(learning_rate=0.3).fit(X, y)
    >>> reg.early_stopping_, reg.n_rounds_ < 2000
    (True, True)
    """)

    def fit(self, X: Any, y: Any, **fit_params: Any) -> TabularXGBRegressor:
        _fit_rounds(self, super().fit, X, np.asarray(y), False, fit_params)
        return self

    def predict(self, X: Any, **kwargs: Any) -> np.ndarray:
        # float64 like every scikit-learn regressor (xgboost predicts float32)
        with defer_interrupts():
            return np.asarray(super().predict(X, **kwargs), dtype=np.float64)


class TabularXGBClassifier(_EarlyStoppedRounds, XGBClassifier):
    __doc__ = ("""xgboost classifier that picks its number of rounds and takes any labels.

    :class:`xgboost.XGBClassifier` that encodes ``y`` itself (xgboost requires the classes to
    be ``0 .. n_classes - 1``), so ``classes_`` holds the original labels (strings, any
    ints), and that picks its number of rounds on held-out rows; see the module notes.
    """ + _DOC_PARAMS + """
    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.arange(20.0).reshape(10, 2), ["no"] * 5 + ["yes"] * 5
    >>> clf = TabularXGBClassifier(n_estimators=2).fit(X, y)
    >>> clf.classes_.tolist(), clf.early_stopping_
    (['no', 'yes'], False)
    """)

    def fit(self, X: Any, y: Any, **fit_params: Any) -> TabularXGBClassifier:
        encoder = LabelEncoder().fit(np.asarray(y).ravel())
        self.label_encoder_ = None  # xgboost checks classes_ == arange(n) while fitting
        codes = encoder.transform(np.asarray(y).ravel())
        if fit_params.get("eval_set") is not None:  # the user's labels, coded like y
            fit_params["eval_set"] = [(Xe, encoder.transform(np.asarray(ye).ravel()))
                                      for Xe, ye in fit_params["eval_set"]]
        _fit_rounds(self, super().fit, X, codes, True, fit_params)
        self.label_encoder_ = encoder
        return self

    @property
    def classes_(self) -> np.ndarray:
        encoder = getattr(self, "label_encoder_", None)
        return np.arange(self.n_classes_) if encoder is None else encoder.classes_

    def predict(self, X: Any, **kwargs: Any) -> np.ndarray:
        check_is_fitted(self)
        with defer_interrupts():
            return self.classes_[np.asarray(super().predict(X, **kwargs), dtype=int)]

    def predict_proba(self, X: Any, **kwargs: Any) -> np.ndarray:
        with defer_interrupts():
            return super().predict_proba(X, **kwargs)
