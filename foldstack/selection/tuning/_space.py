"""Search spaces as plain data, turned into Optuna distributions.

A space maps an estimator's parameter names (nested ``step__param`` names for Pipelines) to::

    ("int", low, high)              ("int", low, high, "log")
    ("float", low, high)            ("float", low, high, "log")
    ("categorical", [choice, ...])

or to an ``optuna.distributions`` object.  Lists work in place of tuples, so a space can come
from a JSON or YAML file.  Categorical choices that Optuna cannot store (tuples such as
``hidden_units=(128, 64)``, estimators, ...) are stored under a label and decoded back, so
they also work with an RDB storage shared by several processes.

A callable ``space(trial) -> dict of params`` is accepted too, for conditional spaces.

Values read back from a study (a stored, possibly changed or planted file) are never trusted:
:meth:`SearchSpace.decode` refuses any name the space does not draw and any value outside the
distribution it was drawn from, before an estimator sees them.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from foldstack.exceptions import InvalidParameterError, UnsafeModelError
from foldstack.utils._validation import did_you_mean, file_param_reason, plain

KINDS = ("int", "float", "categorical")
_PRIMITIVE = (type(None), bool, int, float, str)



class OutsideSpaceError(UnsafeModelError):
    """Stored trial values that the search space could not have drawn.

    Raised by :meth:`SearchSpace.decode`; the study code adds which study and trial.
    """


def check_no_file_params(params: Mapping[str, Any]) -> None:
    """Refuse a parameter that makes a library load a file (``FILE_PARAMS`` of utils), set to
    anything but None, before it reaches an estimator.

    Examples
    --------
    >>> check_no_file_params({"model__C": 1.0, "memory": None})
    >>> check_no_file_params({"memory": "/tmp/cache"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    foldstack.exceptions.InvalidParameterError: tune: 'memory' cannot be set by tuning: ...
    """
    for key, value in params.items():
        why = file_param_reason(key)
        if why and value is not None:
            raise InvalidParameterError(
                f"tune: {key!r} cannot be set by tuning: {why}, and loading a file such as a "
                "pickle can run code. Remove it from the search space; to reuse fitted work, "
                "rerun with the same --out or cache_dir (foldstack caches every fold there).")


@dataclass(frozen=True)
class SearchSpace:
    """A parsed space: Optuna distributions plus the decoding of labelled choices.

    ``distributions`` is empty when the space is a callable ``space(trial)``.
    """

    distributions: Mapping[str, Any] = field(default_factory=dict)
    decoders: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    func: Callable | None = None

    def suggest(self, trial: Any, valid: frozenset[str]) -> dict[str, Any]:
        """Draw one configuration from ``trial`` (estimator parameter -> value)."""
        if self.func is not None:
            params = self.func(trial)
            if not isinstance(params, Mapping):
                raise InvalidParameterError(
                    f"tune: the space callable must return a dict of parameters; got "
                    f"{type(params).__name__}.")
            check_names(params, valid, "the space callable returned")
            check_drawn(trial.params, trial.distributions)
            return dict(params)
        raw = {name: _suggest_one(trial, name, dist)
               for name, dist in self.distributions.items()}
        # a value of an enqueued trial (``fixed_params`` in the storage) is taken as it is
        # stored, in the distribution or not: check what was drawn, as decode does
        return self.decode(raw)

    def decode(self, raw: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Estimator parameters from the values Optuna stored (``trial.params``).

        The values come from a storage, which may have been changed: every name must be one
        the space draws, and every value inside the distribution it is drawn from (type-
        strict for choices), else :class:`OutsideSpaceError`.  ``partial``: ``raw`` may lack
        names (a trial that stopped, or was enqueued, before drawing every value); it is
        then returned as it is, checked.  Without ``partial`` every name must be there.
        """
        if self.func is not None:
            return self._decode_callable(raw, partial)
        for name, value in raw.items():
            dist = self.distributions.get(name) if isinstance(name, str) else None
            if dist is None:
                names = sorted(self.distributions)
                raise OutsideSpaceError(
                    f"has parameter {_short(name)}, which is not in the search space "
                    f"({', '.join(names[:10])}{' ...' if len(names) > 10 else ''})")
            if not _contains(dist, value):
                raise OutsideSpaceError(
                    f"has parameter {name!r} = {_short(value)}, outside the search space "
                    f"({_describe(dist)})")
        missing = sorted(set(self.distributions) - set(raw))
        if missing and not partial:
            raise OutsideSpaceError(f"lacks parameter {missing[0]!r} of the search space")
        return {n: self.decoders[n][v] if n in self.decoders else v for n, v in raw.items()}

    def _decode_callable(self, raw: Mapping[str, Any], partial: bool) -> dict[str, Any]:
        """Run the space callable on the stored values, each checked when it is drawn."""
        import warnings

        trial = _StoredTrial(raw)
        params, stopped = None, None
        with warnings.catch_warnings():  # optuna's own out-of-range warning: refused below
            warnings.simplefilter("ignore")
            try:
                params = self.func(trial)
            except _Missing as exc:  # a trial that stopped before drawing all values
                stopped = exc.name
            except (ValueError, KeyError):  # the callable's own error on these values
                stopped = ""
        if trial.refused is not None:  # raised inside the callable, which may catch it
            raise trial.refused
        extra = [n for n in raw if n not in trial.drawn]
        if extra:
            raise OutsideSpaceError(
                f"has parameter {_short(extra[0])}, which the space callable does not draw "
                "from these values")
        if stopped and not partial:
            raise OutsideSpaceError(f"lacks parameter {stopped!r}, which the space callable "
                                    "draws")
        if stopped is not None or not isinstance(params, Mapping):
            return dict(raw)
        return dict(params)

    def encode(self, params: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
        """The values Optuna would store for ``params``, or None and the names not in the space.

        Used to make an estimator's own configuration the first trial: every parameter of
        the space must have a value the space can draw (in range, or one of the choices).
        A callable space gives None and no names: what it draws is not known in advance.
        """
        if self.func is not None:
            return None, []
        raw, outside = {}, []
        for name, dist in self.distributions.items():
            value = params.get(name)
            if name in self.decoders:
                label = next((k for k, v in self.decoders[name].items()
                              if _same_choice(v, value)), None)
                if label is None:
                    outside.append(name)
                else:
                    raw[name] = label
                continue
            if not _contains(dist, value):
                outside.append(name)
            else:
                raw[name] = value
        return (None if outside else raw), outside

    def grid(self) -> dict[str, list]:
        """Every value of every parameter, for ``sampler="grid"`` (finite spaces only)."""
        import optuna.distributions as D

        if self.func is not None:
            raise InvalidParameterError("tune: sampler='grid' needs a dict space, not a "
                                        "callable; use sampler='tpe' or 'random'.")
        out = {}
        for name, d in self.distributions.items():
            if isinstance(d, D.CategoricalDistribution):
                out[name] = list(d.choices)
            elif isinstance(d, D.IntDistribution):
                out[name] = list(range(d.low, d.high + 1, d.step))
            elif isinstance(d, D.FloatDistribution) and d.step is not None:
                n = int(round((d.high - d.low) / d.step))
                out[name] = [float(d.low + i * d.step) for i in range(n + 1)]
            else:
                raise InvalidParameterError(
                    f"tune: sampler='grid' needs a finite space, but {name!r} is a continuous "
                    f"float range [{d.low}, {d.high}]. Use ('categorical', [...]) values for "
                    "it or sampler='tpe' / 'random'.")
        return out

    def describe(self) -> str:
        """A stable text of the space (stored with a study to detect a changed space)."""
        from optuna.distributions import distribution_to_json

        if self.func is not None:
            return f"callable {getattr(self.func, '__qualname__', repr(self.func))}"
        return json.dumps({n: distribution_to_json(d)
                           for n, d in sorted(self.distributions.items())}, sort_keys=True)


class _Missing(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _StoredTrial:
    """A ``FixedTrial`` over stored values for a space callable: a value outside the
    distribution the callable asks for is refused, a name not stored stops the callable.
    ``drawn`` holds the values handed out; other attributes are the ``FixedTrial``'s."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        import optuna

        self._raw = dict(raw)
        self._fixed = optuna.trial.FixedTrial(self._raw)
        self.drawn: dict[str, Any] = {}
        self.refused: OutsideSpaceError | None = None

    def _take(self, name: str, dist: Any) -> Any:
        if name not in self._raw:
            raise _Missing(name)
        value = self._raw[name]
        try:
            check_drawn({name: value}, {name: dist})
        except OutsideSpaceError as exc:  # kept: the callable may catch what it raises
            self.refused = exc
            raise
        self.drawn[name] = value
        return value

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        import optuna.distributions as D

        return self._take(name, D.FloatDistribution(low, high, log=log, step=step))

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int:
        import optuna.distributions as D

        return self._take(name, D.IntDistribution(low, high, log=log, step=step))

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        import optuna.distributions as D

        return self._take(name, D.CategoricalDistribution(choices))

    def suggest_uniform(self, name: str, low: float, high: float) -> float:
        return self.suggest_float(name, low, high)

    def suggest_loguniform(self, name: str, low: float, high: float) -> float:
        return self.suggest_float(name, low, high, log=True)

    def suggest_discrete_uniform(self, name: str, low: float, high: float, q: float) -> float:
        return self.suggest_float(name, low, high, step=q)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.drawn)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._fixed, attr)


def check_drawn(params: Mapping[str, Any], distributions: Mapping[str, Any]) -> None:
    """Refuse a value a live trial handed to a space callable outside the distribution the
    callable asked for (an enqueued trial's stored value is used as it is)."""
    for name, value in params.items():
        dist = distributions.get(name)
        if dist is None or not _contains(dist, value):
            raise OutsideSpaceError(
                f"has parameter {name!r} = {_short(value)}, outside the distribution the "
                f"space callable draws it from ({'none' if dist is None else _describe(dist)})")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _describe(dist: Any) -> str:
    import optuna.distributions as D

    if isinstance(dist, D.CategoricalDistribution):
        return f"one of {_short(list(dist.choices))}"
    kind = "an int" if isinstance(dist, D.IntDistribution) else "a number"
    extra = (", log scale" if dist.log else "") + (
        f", step {dist.step}" if dist.step not in (None, 1) else "")
    return f"{kind} in [{dist.low}, {dist.high}]{extra}"


def _same_choice(choice: Any, value: Any) -> bool:
    """Type-strict equality: True is not 1, and 1 is not 1.0 as a stored choice."""
    return type(choice) is type(value) and choice == value


def _contains(dist: Any, value: Any) -> bool:
    import optuna.distributions as D

    if isinstance(dist, D.CategoricalDistribution):
        return any(_same_choice(c, value) for c in dist.choices)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    if isinstance(dist, D.IntDistribution) and not (isinstance(value, numbers.Integral)
                                                    or float(value).is_integer()):
        return False
    if not dist.low <= value <= dist.high:
        return False
    steps = None if dist.step is None else (value - dist.low) / dist.step
    return steps is None or abs(steps - round(steps)) < 1e-8


def _suggest_one(trial: Any, name: str, dist: Any) -> Any:
    import optuna.distributions as D

    if isinstance(dist, D.IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, D.FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_categorical(name, dist.choices)


def parse_space(space: Any, estimator: Any) -> SearchSpace:
    """Check ``space`` against ``estimator``'s parameters and build its distributions.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> s = parse_space({"C": ("float", 1e-3, 1e2, "log")}, LogisticRegression())
    >>> s.distributions["C"].log
    True
    """
    import optuna.distributions as D

    if callable(space) and not isinstance(space, Mapping):
        return SearchSpace(func=space)
    if not isinstance(space, Mapping):
        raise InvalidParameterError(
            "tune: `space` must be a dict parameter name -> spec, e.g. {'max_depth': ('int', "
            f"2, 10)}}, or a callable trial -> params; got {type(space).__name__}.")
    if not space:
        raise InvalidParameterError(
            "tune: `space` is empty; give at least one parameter, e.g. {'max_depth': ('int', "
            "2, 10), 'learning_rate': ('float', 1e-3, 0.3, 'log')}.")
    check_names(space, valid_names(estimator), "`space` names")
    dists, decoders = {}, {}
    for name, spec in space.items():
        if isinstance(spec, D.BaseDistribution):
            if not isinstance(spec, (D.IntDistribution, D.FloatDistribution,
                                     D.CategoricalDistribution)):
                raise InvalidParameterError(
                    f"tune: {name!r}: {type(spec).__name__} is not supported; use "
                    "IntDistribution, FloatDistribution or CategoricalDistribution.")
            dists[name] = spec
            continue
        dists[name], decoder = _parse_one(name, spec)
        if decoder:
            decoders[name] = decoder
    return SearchSpace(distributions=dists, decoders=decoders)


def valid_names(estimator: Any) -> frozenset[str]:
    return frozenset(estimator.get_params(deep=True))


def check_names(names: Any, valid: frozenset[str], what: str) -> None:
    """Raise for a parameter the estimator does not have, listing the close matches."""
    import difflib

    for name in names:
        if not isinstance(name, str):
            raise InvalidParameterError(f"tune: {what} must be strings (parameter names); "
                                        f"got {name!r}.")
        if name not in valid:
            close = difflib.get_close_matches(name, sorted(valid), n=3, cutoff=0.6)
            hint = did_you_mean(name, valid)
            if len(close) > 1:
                hint += f" Close matches: {', '.join(repr(c) for c in close)}."
            shown = sorted(valid)
            listing = ", ".join(shown[:30]) + (" ..." if len(shown) > 30 else "")
            raise InvalidParameterError(
                f"tune: {what} {name!r}, which the estimator does not have.{hint} Nested "
                f"parameters of a Pipeline are written 'step__param'. Parameters: {listing}.")


def _parse_one(name: str, spec: Any) -> tuple[Any, dict | None]:
    import optuna.distributions as D

    example = ("('int', 2, 10), ('float', 1e-3, 0.3, 'log') or ('categorical', ['relu', "
               "'gelu'])")
    if not isinstance(spec, (tuple, list)) or not spec or not isinstance(spec[0], str):
        raise InvalidParameterError(
            f"tune: space[{name!r}] must be a tuple like {example}, or an optuna "
            f"distribution; got {spec!r}.")
    kind = spec[0]
    if kind not in KINDS:
        raise InvalidParameterError(
            f"tune: space[{name!r}] has kind {kind!r}; use one of {', '.join(KINDS)}."
            f"{did_you_mean(kind, KINDS)}")
    if kind == "categorical":
        if len(spec) != 2 or not isinstance(spec[1], (list, tuple)) or not spec[1]:
            raise InvalidParameterError(
                f"tune: space[{name!r}] must be ('categorical', [choice, ...]) with at least "
                f"one choice; got {spec!r}.")
        return _categorical(name, [plain(c) for c in spec[1]])
    if len(spec) not in (3, 4) or (len(spec) == 4 and spec[3] != "log"):
        raise InvalidParameterError(
            f"tune: space[{name!r}] must be ({kind!r}, low, high) or ({kind!r}, low, high, "
            f"'log'); got {spec!r}.")
    low, high = plain(spec[1]), plain(spec[2])
    number = numbers.Integral if kind == "int" else numbers.Real
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, number) or not np.isfinite(bound):
            what = "integers" if kind == "int" else "finite numbers"
            raise InvalidParameterError(
                f"tune: space[{name!r}] bounds must be {what}; got low={low!r}, high={high!r}.")
    if low > high:
        raise InvalidParameterError(
            f"tune: space[{name!r}] has low > high ({low!r} > {high!r}); swap them.")
    log = len(spec) == 4
    if log and low <= 0:
        raise InvalidParameterError(
            f"tune: space[{name!r}] is on a log scale, so low must be > 0; got low={low!r}. "
            "Use a positive lower bound (e.g. 1e-5) or drop 'log'.")
    if kind == "int":
        return D.IntDistribution(int(low), int(high), log=log), None
    return D.FloatDistribution(float(low), float(high), log=log), None


def _categorical(name: str, choices: list) -> tuple[Any, dict | None]:
    import optuna.distributions as D

    if all(isinstance(c, _PRIMITIVE) for c in choices):
        if len(set(map(repr, choices))) != len(choices):
            raise InvalidParameterError(f"tune: space[{name!r}] repeats a choice: {choices!r}.")
        return D.CategoricalDistribution(choices), None
    labels = [repr(c) for c in choices]
    if len(set(labels)) != len(labels):
        raise InvalidParameterError(
            f"tune: space[{name!r}] has choices that print the same ({labels}); make them "
            "distinct.")
    return D.CategoricalDistribution(labels), dict(zip(labels, choices))
