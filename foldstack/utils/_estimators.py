"""Walk through wrappers (Pipelines, searches, ``TransformedTargetRegressor``...) to the model
that learns.

Duck-typed: no import of scikit-learn or of foldstack's higher layers, so any layer may use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# fitted attributes under which common wrappers keep the fitted model that does the learning:
# a search's refitted ``best_estimator_``, ``TransformedTargetRegressor.regressor_``, the
# ``estimator_`` of meta-estimators
_FITTED = ("best_estimator_", "regressor_", "estimator_")
# constructor parameters under which wrappers take the one estimator they wrap
_PARAMS = ("regressor", "estimator")
# wrappers nest a few levels at most
_MAX_DEPTH = 10


def wrapped_estimators(estimator: Any, *, fitted: bool = False) -> Iterator[tuple[str, Any]]:
    """Yield ``(path, estimator)`` from ``estimator`` itself inwards to its final estimator.

    Each step descends into the last step of a Pipeline (``steps``; not into a
    ``None``/``"passthrough"`` last step), or else into the one estimator a wrapper holds:

    - ``fitted=False``: in its ``regressor`` or ``estimator`` parameter (``get_params``).
      ``path`` is the ``set_params`` prefix that reaches the estimator (``"model__"``).
      Works on fitted and unfitted estimators, but yields the wrapped *templates*, not the
      models fitted inside a search or a ``TransformedTargetRegressor``.
    - ``fitted=True``: in its fitted ``best_estimator_``, ``regressor_`` or ``estimator_``
      attribute, i.e. the model that was actually trained (the one with a ``history_``).
      ``path`` is then the chain of step names and attributes, for messages only.

    The two walks differ on purpose: remedies name parameters to set (a parameter path),
    epoch histories live on the fitted models (attributes a parameter path cannot reach).
    """
    path = ""
    yield path, estimator
    for _ in range(_MAX_DEPTH):
        steps = getattr(estimator, "steps", None)
        if isinstance(steps, list) and steps and steps[-1][1] not in (None, "passthrough"):
            name, estimator = steps[-1]
            path += f"{name}__"
            yield path, estimator
            continue
        if fitted:
            inner = next(((a, getattr(estimator, a)) for a in _FITTED
                          if getattr(estimator, a, None) is not None), None)
        else:
            params = (estimator.get_params(deep=False) if hasattr(estimator, "get_params")
                      else {})
            inner = next(((k, params[k]) for k in _PARAMS if hasattr(params.get(k), "fit")),
                         None)
        if inner is None:
            return
        path += f"{inner[0]}__"
        estimator = inner[1]
        yield path, estimator


def final_estimator(estimator: Any, *, fitted: bool = False) -> tuple[str, Any]:
    """The estimator that learns inside ``estimator``, and the path that reaches it.

    See :func:`wrapped_estimators` for ``fitted`` and the path.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> final_estimator(make_pipeline(StandardScaler(), DecisionTreeClassifier()))[0]
    'decisiontreeclassifier__'
    """
    *_, last = wrapped_estimators(estimator, fitted=fitted)
    return last
