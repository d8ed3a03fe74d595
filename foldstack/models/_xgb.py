"""An xgboost classifier that accepts any class labels (imported when a candidate is built)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.preprocessing import LabelEncoder
from xgboost import XGBClassifier


class LabelEncodedXGBClassifier(XGBClassifier):
    """:class:`xgboost.XGBClassifier` that encodes labels itself (strings, any ints).

    xgboost requires the classes to be ``0 .. n_classes - 1``; this subclass encodes ``y`` in
    ``fit`` and maps predictions back, so ``classes_`` holds the original labels.  Its
    parameters are xgboost's.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.arange(20.0).reshape(10, 2), ["no"] * 5 + ["yes"] * 5
    >>> clf = LabelEncodedXGBClassifier(n_estimators=2).fit(X, y)
    >>> clf.classes_.tolist()
    ['no', 'yes']
    """

    def fit(self, X: Any, y: Any, **fit_params: Any) -> LabelEncodedXGBClassifier:
        encoder = LabelEncoder().fit(np.asarray(y).ravel())
        self.label_encoder_ = None  # xgboost checks classes_ == arange(n) while fitting
        super().fit(X, encoder.transform(np.asarray(y).ravel()), **fit_params)
        self.label_encoder_ = encoder
        return self

    @property
    def classes_(self) -> np.ndarray:
        encoder = getattr(self, "label_encoder_", None)
        return np.arange(self.n_classes_) if encoder is None else encoder.classes_

    def predict(self, X: Any, **kwargs: Any) -> np.ndarray:
        return self.classes_[np.asarray(super().predict(X, **kwargs), dtype=int)]
