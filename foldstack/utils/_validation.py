"""Parameter validation: constraints are data, checked in ``fit`` with one message format.

An estimator declares ``_constraints = {"param": [rule, ...]}``; a value is accepted when any
rule accepts it.  Rules are:

- a type (``int``, ``float``, ``str``, ``bool``, ``list``, ``dict``, ``tuple``), ``None``;
- ``Options("a", "b")`` for a closed set of strings (with a "Did you mean" hint);
- ``Interval(type, low, high, closed="both")`` for bounded numbers;
- the strings ``"array-like"``, ``"random_state"``, ``"cv"``, ``"estimator"``, ``"callable"``,
  ``"boolean"``.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from foldstack.exceptions import InvalidParameterError


@dataclass(frozen=True)
class Options:
    """A closed set of allowed string values."""

    values: tuple

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", tuple(values))

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.values

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in sorted(self.values))


@dataclass(frozen=True)
class Interval:
    """Numbers of ``type`` between ``low`` and ``high`` (None: unbounded)."""

    type: type
    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both" | "left" | "right" | "neither"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        kind = numbers.Integral if self.type is int else numbers.Real
        if not isinstance(value, kind):
            return False
        if not np.isfinite(value):
            return False
        lo_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low)
        hi_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high)
        return lo_ok and hi_ok

    def describe(self) -> str:
        name = "an int" if self.type is int else "a float"
        if self.low is None and self.high is None:
            return name
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        lo = "-inf" if self.low is None else repr(self.low)
        hi = "inf" if self.high is None else repr(self.high)
        return f"{name} in the range {left}{lo}, {hi}{right}"


def _is_estimator(value: Any) -> bool:
    return hasattr(value, "fit") and hasattr(value, "get_params")


_NAMED = {
    "array-like": (lambda v: hasattr(v, "__len__") and not isinstance(v, (str, dict)),
                   "an array-like"),
    "random_state": (lambda v: v is None or isinstance(v, np.random.RandomState)
                     or (isinstance(v, numbers.Integral) and not isinstance(v, bool)
                         and 0 <= v < 2**32),
                     "an int in [0, 2**32), a RandomState instance or None"),
    "cv": (lambda v: (isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 2)
           or hasattr(v, "split") or (isinstance(v, Iterable) and not isinstance(v, str)),
           "an int >= 2, a scikit-learn splitter or an iterable of (train, test) index pairs"),
    "estimator": (_is_estimator, "a scikit-learn estimator"),
    "callable": (callable, "a callable"),
    "boolean": (lambda v: isinstance(v, (bool, np.bool_)), "a bool"),
}


def _accepts(rule: Any, value: Any) -> bool:
    if rule is None:
        return value is None
    if isinstance(rule, (Options, Interval)):
        return rule.accepts(value)
    if isinstance(rule, str):
        return _NAMED[rule][0](value)
    if rule is bool:
        return isinstance(value, (bool, np.bool_))
    if rule in (int, float):
        return isinstance(value, numbers.Integral if rule is int else numbers.Real) and \
            not isinstance(value, bool)
    return isinstance(value, rule)


def _describe(rule: Any) -> str:
    if rule is None:
        return "None"
    if isinstance(rule, (Options, Interval)):
        return rule.describe()
    if isinstance(rule, str):
        return _NAMED[rule][1]
    return f"an instance of {rule.__name__}"


def describe_rules(rules: list) -> str:
    parts = [_describe(r) for r in rules]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def did_you_mean(value: Any, choices: Iterable[str]) -> str:
    """Return " Did you mean 'x'?" for a close string match, else ""."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_value(owner: str, name: str, value: Any, rules: list) -> str | None:
    """Return a problem sentence when no rule accepts ``value``, else None."""
    if any(_accepts(rule, value) for rule in rules):
        return None
    options = [v for r in rules if isinstance(r, Options) for v in r.values]
    return (f"`{name}` must be {describe_rules(rules)}; got {value!r}."
            f"{did_you_mean(value, options)}")


def check_params(est: Any, constraints: dict | None = None) -> None:
    """Validate ``est``'s parameters against its ``_constraints``; raise one error listing all."""
    constraints = type(est)._constraints if constraints is None else constraints
    owner = type(est).__name__
    problems = [p for name, rules in constraints.items()
                if (p := check_value(owner, name, getattr(est, name), rules))]
    if problems:
        raise InvalidParameterError(f"{owner}: " + " ".join(problems))


def check_option(owner: str, name: str, value: Any, options: Iterable[str]) -> str:
    """Validate one string option of a function (not an estimator) and return it."""
    options = tuple(options)
    problem = check_value(owner, name, value, [Options(*options)])
    if problem:
        raise InvalidParameterError(f"{owner}: {problem}")
    return value


def plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds (so messages show 'b', not np.str_('b'))."""
    return value.item() if isinstance(value, np.generic) else value


# Parameters that make a library read a file or directory, by their last name part (so
# `columns__num__memory` counts).  Config files are shared: loading a pickle can run code.
FILE_PARAMS = {
    "memory": "a Pipeline's `memory` is a joblib cache directory whose pickled results are "
              "loaded",
    "xgb_model": "xgboost loads a model from that file",
    "f_params": "skorch loads saved parameters (torch.load) from that file",
    "f_optimizer": "skorch loads a saved optimizer (torch.load) from that file",
    "f_criterion": "skorch loads a saved criterion (torch.load) from that file",
    "f_history": "skorch loads a saved history from that file",
    "f_pickle": "skorch unpickles that file",
    "dirname": "skorch checkpoints load their files from that directory",
    "checkpoint": "skorch's LoadInitState loads a checkpoint's files",
}


def file_param_reason(key: Any) -> str | None:
    """Why ``key`` (``step__param`` or ``param``) may not come from a file, or None.

    Examples
    --------
    >>> file_param_reason("columns__num__memory")[:20]
    "a Pipeline's `memory"
    >>> file_param_reason("model__C") is None
    True
    """
    return FILE_PARAMS.get(str(key).rsplit("__", 1)[-1])
