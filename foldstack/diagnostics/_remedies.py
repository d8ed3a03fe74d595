"""Remedies: what to change for a verdict, naming the candidate's own parameters.

A remedy is data, a :class:`Remedy` record: a move of one parameter (``"raise"``
``mlp__dropout`` from 0.0 to 0.2) or a free action (``"more training rows ..."``), under a
category (``"stronger regularization"``) and for a reason (the verdict, an epoch-curve
finding or the error).  Text is made at the edge: ``str(remedy)`` reads
``"stronger regularization: raise mlp__dropout from 0.0 (e.g. to 0.2)"`` and
:func:`render_lines` joins the remedies of one category as :func:`diagnose` shows them.

The knobs of each estimator family are data too (:data:`FAMILIES`): which parameter to move,
in which direction for high bias or high variance, and a suggested next value.  The
candidate's final estimator is found through Pipelines (``step__param``) and wrappers such as
``TransformedTargetRegressor``, and its current values are read with ``get_params``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from foldstack.models import TabularMLPClassifier, TabularMLPRegressor
from foldstack.utils._estimators import final_estimator

MOVES = ("raise", "lower", "set")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if value != 0 else "0.0"
    return repr(value)


@dataclass(frozen=True)
class Remedy:
    """One remedy: a move of one of the candidate's parameters, or a free action.

    Parameters
    ----------
    category : str or None
        The kind of remedy, the heading it is shown under (``"stronger regularization"``,
        ``"learning rate too high"``, ``"tuning"``...); None for a remedy shown on its own.
    action : str
        ``"raise"``, ``"lower"`` or ``"set"``: a move of ``param`` from ``current`` to
        ``suggested``.  Any other action is free text, shown as written (``"more training
        rows (...)"``); it may still name the parameter it is about.
    param : str or None, default=None
        The parameter's full path in the candidate, as ``set_params`` takes it
        (``"mlp__dropout"``); None when the remedy is about no single parameter.
    current : object, default=None
        The parameter's value now (for xgboost's ``None``, the default it stands for).
    suggested : object, default=None
        A suggested next value (a move's step, not a tuned optimum).
    reason : str, default=""
        What calls for it: the verdict (``"high_variance"``), the epoch-curve findings
        (``"epoch curves: diverged"``) or the error of a failed candidate
        (``"failed: training diverged"``).

    Examples
    --------
    >>> r = Remedy("stronger regularization", "raise", "mlp__dropout", 0.0, 0.2,
    ...            "high_variance")
    >>> r.text()
    'raise mlp__dropout from 0.0 (e.g. to 0.2)'
    >>> str(r)
    'stronger regularization: raise mlp__dropout from 0.0 (e.g. to 0.2)'
    >>> str(Remedy("tuning", "set", "max_depth", None, 4))
    'tuning: set max_depth=4 (now None)'
    """

    category: str | None
    action: str
    param: str | None = None
    current: Any = None
    suggested: Any = None
    reason: str = ""

    @property
    def is_move(self) -> bool:
        """Whether this moves ``param`` (an action in :data:`MOVES`), not a free action."""
        return self.param is not None and self.action in MOVES

    @property
    def key(self) -> tuple[str | None, str]:
        """``(param, action)``: two remedies with one key give the same advice (the first
        one given is kept, whatever value each suggests)."""
        return self.param, self.action

    def text(self) -> str:
        """The action as a phrase, without its category."""
        if not self.is_move:
            return self.action
        if self.action == "set":  # the new value as code: grad_clip=1.0, not 1
            return f"set {self.param}={self.suggested!r} (now {_fmt(self.current)})"
        return (f"{self.action} {self.param} from {_fmt(self.current)} "
                f"(e.g. to {_fmt(self.suggested)})")

    def __str__(self) -> str:
        return self.text() if self.category is None else f"{self.category}: {self.text()}"


def render_lines(remedies: Iterable[Remedy]) -> list[str]:
    """Remedies as text lines: ``"category: action; action"``, one line per run of remedies
    of one category (the ``remedies`` column of :func:`diagnose`).

    Examples
    --------
    >>> render_lines([Remedy("a bigger model", "raise", "C", 1.0, 10.0),
    ...               Remedy("a bigger model", "non-linear features"),
    ...               Remedy(None, "record training scores")])
    ['a bigger model: raise C from 1 (e.g. to 10); non-linear features', \
'record training scores']
    """
    lines: list[str] = []
    last: object = object()  # a category no remedy has
    for r in remedies:
        if r.category is not None and r.category == last:
            lines[-1] += "; " + r.text()
        else:
            lines.append(str(r))
        last = r.category
    return lines


@dataclass(frozen=True)
class Knob:
    """One parameter and how to move it.

    ``suggest(current) -> new value``, or None when the move does not apply (e.g. lowering a
    dropout that is already 0).  A ``None`` value stands for the family's default
    (:attr:`Family.defaults`) when it has one.
    """

    param: str
    move: str  # "raise" | "lower" | "set" | "limit" (set when None, else lower)
    suggest: Callable[[Any], Any]
    when: Callable[[dict], bool] | None = None  # applies only if when(all params) holds


@dataclass(frozen=True)
class Family:
    """The knobs of one kind of estimator, per remedy category."""

    name: str
    classes: frozenset  # class names anywhere in the estimator's MRO
    variance: dict = field(default_factory=dict)  # category -> tuple of Knob
    bias: dict = field(default_factory=dict)
    tune: tuple = ()
    lr: str | None = None  # the learning-rate parameter (networks, boosting)
    epochs: str | None = None  # the number of epochs / rounds
    body: str | None = None  # the parameter taking a user's own network (a class)
    body_params: str | None = None  # the parameter holding that network's settings
    architecture: tuple = ()  # parameters that build the default network, unused by the user's
    types: tuple = ()  # classes the estimator may be an instance of (besides ``classes``)
    defaults: dict = field(default_factory=dict)  # param -> the value its None stands for


def _times(factor: float, cap: float | None = None, floor: float | None = None
           ) -> Callable[[Any], Any]:
    def f(v: Any) -> Any:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return None
        new = v * factor
        if isinstance(v, int) and not isinstance(v, bool):
            new = int(round(new))
        if cap is not None:
            new = min(new, cap)
        if floor is not None:
            new = max(new, floor)
        return None if new == v else new
    return f


def _if_none(value: Any, other: Callable[[Any], Any] | None = None) -> Callable[[Any], Any]:
    def f(v: Any) -> Any:
        if v is None:
            return value
        return other(v) if other is not None else None
    return f


def _raise_rate(v: Any) -> Any:
    """Dropout and similar rates: +0.2 up to 0.5."""
    if not isinstance(v, (int, float)) or v >= 0.5:
        return None
    return round(min(0.5, v + 0.2), 2)


def _to_zero(v: Any) -> Any:
    return 0.0 if isinstance(v, (int, float)) and v > 0 else None


def _raise_l2(v: Any) -> Any:
    if not isinstance(v, (int, float)):
        return None
    return 1e-3 if v <= 0 else float(f"{v * 10:.3g}")


def _shrink_sizes(v: Any) -> Any:
    if not isinstance(v, (tuple, list)) or not v:
        return None
    new = tuple(max(1, int(s) // 2) for s in v)
    return None if new == tuple(v) else new


def _grow_sizes(v: Any) -> Any:
    if not isinstance(v, (tuple, list)) or not v:
        return None
    return tuple(int(s) * 2 for s in v)


def _raise_epochs(v: Any) -> Any:
    # "auto" budgets are 100 (early stopping) or 300 epochs: suggest more than either
    return 400 if v == "auto" else _times(2)(v)


def _enable(v: Any) -> Any:
    return True if v is False else None


def _set_if(value: Any, when: Callable[[Any], bool]) -> Callable[[Any], Any]:
    return lambda v: value if when(v) else None


def _fixed_rounds(params: dict) -> bool:
    """xgboost boosts n_estimators rounds (foldstack's TabularXGB* may pick them itself)."""
    return params.get("early_stopping", False) is False


def _learning_rate(param: str, factor: float) -> Knob:
    """The learning-rate knob: every learning-rate remedy (a family's, the epoch curves',
    a diverged run's) moves it by ``factor``, to two significant digits."""
    def suggest(v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return None
        new = float(f"{v * factor:.2g}")
        return None if new == v else new
    return Knob(param, "lower" if factor < 1 else "raise", suggest)


_MORE_DATA = "more data"
_REGULARIZE = "stronger regularization"
_SIMPLER = "a simpler model"
_EARLY = "early stopping"
_BIGGER = "a bigger model"
_OPTIMIZE = "longer or better optimization"
_AVERAGE = "more averaging"

FAMILIES: tuple[Family, ...] = (
    Family(
        "mlp", frozenset(), types=(TabularMLPClassifier, TabularMLPRegressor),
        variance={
            _MORE_DATA: (Knob("augmentation", "set", _set_if("noise", lambda v: v is None)),
                         Knob("augmentation_strength", "raise", _times(2),
                              when=lambda p: p.get("augmentation") is not None)),
            _REGULARIZE: (Knob("dropout", "raise", _raise_rate),
                          Knob("weight_decay", "raise", _raise_l2)),
            _SIMPLER: (Knob("hidden_layer_sizes", "lower", _shrink_sizes),
                       Knob("width", "lower", _times(0.5, floor=8)),
                       Knob("depth", "lower", lambda v: v - 1 if isinstance(v, int) and v > 1
                            else None)),
            _EARLY: (Knob("early_stopping", "set", _enable),
                     Knob("patience", "lower", _times(0.5, floor=3))),
        },
        bias={
            _BIGGER: (Knob("hidden_layer_sizes", "raise", _grow_sizes),
                      Knob("width", "raise", _times(2)),
                      Knob("depth", "raise", lambda v: v + 1 if isinstance(v, int) else None),
                      Knob("dropout", "lower", _to_zero),
                      Knob("weight_decay", "lower", _to_zero)),
            _OPTIMIZE: (Knob("max_epochs", "raise", _raise_epochs),
                        Knob("optimizer", "set", _set_if("adamw", lambda v: v in ("sgd",))),
                        Knob("lr_schedule", "set", _set_if("cosine", lambda v: v == "none"))),
        },
        tune=("dropout", "weight_decay", "width", "depth", "lr"), lr="lr", epochs="max_epochs",
        body="module", body_params="module_params",
        architecture=("hidden_layer_sizes", "width", "depth", "dropout", "activation",
                      "batch_norm")),
    Family(
        "sklearn_mlp", frozenset({"BaseMultilayerPerceptron"}),
        variance={
            _REGULARIZE: (Knob("alpha", "raise", _times(10)),),
            _SIMPLER: (Knob("hidden_layer_sizes", "lower", _shrink_sizes),),
            _EARLY: (Knob("early_stopping", "set", _enable),),
        },
        bias={
            _BIGGER: (Knob("hidden_layer_sizes", "raise", _grow_sizes),
                      Knob("alpha", "lower", _times(0.1))),
            _OPTIMIZE: (Knob("max_iter", "raise", _times(2)),),
        },
        tune=("alpha", "hidden_layer_sizes", "learning_rate_init"),
        lr="learning_rate_init", epochs="max_iter"),
    Family(
        "xgboost", frozenset({"XGBModel"}),
        variance={
            _REGULARIZE: (Knob("max_depth", "lower", _times(0.5, floor=2)),
                          Knob("min_child_weight", "raise", _times(5)),
                          Knob("reg_lambda", "raise", _times(10)),
                          Knob("subsample", "lower", _set_if(0.8, lambda v: v > 0.8)),
                          Knob("n_estimators", "lower", _times(0.5, floor=10),
                               when=_fixed_rounds),
                          _learning_rate("learning_rate", 0.3)),
            _EARLY: (Knob("early_stopping", "set", _enable),),  # foldstack's TabularXGB*
        },
        bias={
            _BIGGER: (Knob("max_depth", "raise", lambda v: v + 2 if isinstance(v, int) and v > 0
                           else None),
                      Knob("min_child_weight", "lower", _times(0.2))),
            _OPTIMIZE: (Knob("n_estimators", "raise", _times(2), when=_fixed_rounds),),
        },
        tune=("max_depth", "learning_rate", "n_estimators", "min_child_weight", "reg_lambda",
              "subsample"), lr="learning_rate", epochs="n_estimators",
        # xgboost leaves its parameters None for these defaults
        defaults={"max_depth": 6, "min_child_weight": 1, "reg_lambda": 1, "subsample": 1,
                  "n_estimators": 100, "learning_rate": 0.3}),
    Family(
        "lightgbm", frozenset({"LGBMModel"}),
        variance={
            _REGULARIZE: (Knob("num_leaves", "lower", _times(0.5, floor=4)),
                          Knob("min_child_samples", "raise", _times(3)),
                          Knob("reg_lambda", "raise", _raise_l2),
                          Knob("n_estimators", "lower", _times(0.5, floor=10))),
        },
        bias={
            _BIGGER: (Knob("num_leaves", "raise", _times(2)),
                      Knob("min_child_samples", "lower", _times(0.5, floor=1))),
            _OPTIMIZE: (Knob("n_estimators", "raise", _times(2)),),
        },
        tune=("num_leaves", "learning_rate", "n_estimators", "min_child_samples"),
        lr="learning_rate", epochs="n_estimators"),
    Family(
        "hist_gradient_boosting", frozenset({"BaseHistGradientBoosting"}),
        variance={
            _REGULARIZE: (Knob("max_leaf_nodes", "lower", _times(0.5, floor=4)),
                          Knob("max_depth", "limit", _if_none(4, _times(0.5, floor=2))),
                          Knob("min_samples_leaf", "raise", _times(3)),
                          Knob("l2_regularization", "raise", _raise_l2)),
            _EARLY: (Knob("early_stopping", "set", _set_if(True, lambda v: v is not True)),),
        },
        bias={
            _BIGGER: (Knob("max_leaf_nodes", "raise", _times(2)),
                      Knob("min_samples_leaf", "lower", _times(0.5, floor=1))),
            _OPTIMIZE: (Knob("max_iter", "raise", _times(2)),),
        },
        tune=("max_leaf_nodes", "learning_rate", "min_samples_leaf", "l2_regularization"),
        lr="learning_rate", epochs="max_iter"),
    Family(
        "gradient_boosting", frozenset({"BaseGradientBoosting"}),
        variance={
            _REGULARIZE: (Knob("max_depth", "lower", _times(0.5, floor=1)),
                          Knob("min_samples_leaf", "raise", _times(5)),
                          Knob("subsample", "lower", _set_if(0.8, lambda v: v > 0.8)),
                          Knob("n_estimators", "lower", _times(0.5, floor=10))),
            _EARLY: (Knob("n_iter_no_change", "set", _set_if(10, lambda v: v is None)),),
        },
        bias={
            _BIGGER: (Knob("max_depth", "raise", lambda v: v + 2 if isinstance(v, int)
                           else None),),
            _OPTIMIZE: (Knob("n_estimators", "raise", _times(2)),),
        },
        tune=("max_depth", "learning_rate", "n_estimators", "subsample"),
        lr="learning_rate", epochs="n_estimators"),
    Family(
        "forest", frozenset({"BaseForest"}),
        variance={
            _REGULARIZE: (Knob("min_samples_leaf", "raise", _times(5)),
                          Knob("max_depth", "limit", _if_none(8, _times(0.5, floor=2))),
                          Knob("max_features", "set", _set_if(
                              "sqrt", lambda v: v is None or v == 1.0))),
            _AVERAGE: (Knob("n_estimators", "raise", _set_if(
                300, lambda v: isinstance(v, int) and v < 300)),),
        },
        bias={
            _BIGGER: (Knob("max_depth", "raise", lambda v: v * 2 if isinstance(v, int)
                           else None),
                      Knob("min_samples_leaf", "lower", _times(0.2, floor=1)),
                      Knob("max_features", "raise", _set_if(
                          1.0, lambda v: v in ("sqrt", "log2")))),
        },
        tune=("min_samples_leaf", "max_features", "max_depth")),
    Family(
        "tree", frozenset({"BaseDecisionTree"}),
        variance={
            _REGULARIZE: (Knob("max_depth", "limit", _if_none(4, _times(0.5, floor=1))),
                          Knob("min_samples_leaf", "raise", _times(5)),
                          Knob("ccp_alpha", "raise", _set_if(0.01, lambda v: v == 0))),
        },
        bias={
            _BIGGER: (Knob("max_depth", "raise", lambda v: v * 2 if isinstance(v, int)
                           else None),
                      Knob("min_samples_leaf", "lower", _times(0.2, floor=1))),
        },
        tune=("max_depth", "min_samples_leaf", "ccp_alpha")),
    Family(
        "linear_C", frozenset({"LogisticRegression", "LinearSVC", "LinearSVR", "SVC", "SVR"}),
        variance={_REGULARIZE: (Knob("C", "lower", _times(0.1)),)},
        bias={_BIGGER: (Knob("C", "raise", _times(10)),)},
        tune=("C",)),
    Family(
        "linear_alpha", frozenset({"Ridge", "RidgeClassifier", "Lasso", "ElasticNet",
                                   "SGDClassifier", "SGDRegressor"}),
        variance={_REGULARIZE: (Knob("alpha", "raise", _times(10)),)},
        bias={_BIGGER: (Knob("alpha", "lower", _times(0.1)),)},
        tune=("alpha",)),
    Family(
        "knn", frozenset({"KNeighborsMixin"}),
        variance={_REGULARIZE: (Knob("n_neighbors", "raise", _times(2)),)},
        bias={_BIGGER: (Knob("n_neighbors", "lower", _times(0.5, floor=1)),)},
        tune=("n_neighbors", "weights")),
)

_LINEAR_MODULES = ("sklearn.linear_model", "sklearn.svm")

# Epoch-curve findings that may lead the remedies of each verdict: a finding that points the
# other way (e.g. "train longer" for a high-variance model) is left out.
_LR = {"diverged", "oscillating"}
_CONSISTENT = {
    "high_variance": _LR | {"overfitting"},
    "high_bias": _LR | {"still_improving", "underfitting"},
    "high_bias_and_variance": _LR | {"overfitting", "still_improving", "underfitting"},
    "good_fit": _LR | {"overfitting", "still_improving", "underfitting"},
}


# Out-of-fold residual findings (see diagnose): they hold whatever the verdict.
HEAVY_TAILED = "heavy_tailed_residuals"
_ROBUST_LOSS = Knob("loss", "set", _set_if("huber", lambda v: v == "mse"))


def family_of(estimator: Any) -> Family | None:
    """The :class:`Family` of a (final) estimator, from the class names in its MRO (or its
    class, for families given by ``types``)."""
    names = {c.__name__ for c in type(estimator).__mro__}
    return next((f for f in FAMILIES
                 if f.classes & names or (f.types and isinstance(estimator, f.types))), None)


@dataclass(frozen=True)
class _Target:
    """The candidate's final estimator, as remedies see it."""

    family: Family | None
    final: Any
    params: dict  # its get_params(deep=False)
    prefix: str  # the path to it ("model__")

    def move(self, knob: Knob) -> Remedy | None:
        """The knob's move of this estimator's parameter (no category yet), or None."""
        params = self.params
        if knob.param not in params or (knob.when is not None and not knob.when(params)):
            return None
        current = params[knob.param]
        if current is None and self.family is not None:
            current = self.family.defaults.get(knob.param)
        new = knob.suggest(current)
        if new is None:
            return None
        if knob.move == "set" or (knob.move == "limit" and current is None):
            action = "set"
        else:
            action = "lower" if knob.move == "limit" else knob.move
        return Remedy(None, action, self.prefix + knob.param, current, new)

    def moves(self, knobs: Iterable[Knob]) -> list[Remedy]:
        return [r for k in knobs if (r := self.move(k)) is not None]

    def learning_rate(self, factor: float) -> list[Remedy]:
        """The one learning-rate remedy (see :func:`_learning_rate`), when there is a rate."""
        if self.family is None or self.family.lr is None:
            return []
        return self.moves([_learning_rate(self.family.lr, factor)])

    def custom_body(self) -> Any:
        """The user's own network class set on the estimator, or None."""
        if self.family is None or self.family.body is None:
            return None
        return self.params.get(self.family.body)

    def body_action(self, verb: str) -> list[Remedy]:
        body = self.custom_body()
        if body is None:
            return []
        name = getattr(body, "__name__", repr(body))
        path = f"{self.prefix}{self.family.body_params}"
        current = self.params.get(self.family.body_params)
        return [Remedy(None, f"{verb} the custom module {name} through {path} "
                             f"(now {_fmt(current)})", path, current)]

    def is_linear(self) -> bool:
        return (self.family is not None and self.family.name.startswith("linear")) or \
            type(self.final).__module__.startswith(_LINEAR_MODULES)


_GRAD_CLIP = Knob("grad_clip", "set", _set_if(1.0, lambda v: v is None))


def _group(category: str, reason: str, actions: Sequence[Remedy | str],
           fallback: str | None = None) -> list[Remedy]:
    """The remedies of one category: moves, free actions (str), or the fallback if none."""
    if not actions and fallback is not None:
        actions = [fallback]
    return [replace(a, category=category, reason=reason) if isinstance(a, Remedy)
            else Remedy(category, a, reason=reason) for a in actions]


def _tuning(t: _Target, reason: str) -> Remedy:
    names = [t.prefix + p for p in (t.family.tune if t.family else ()) if p in t.params
             and (p != "n_estimators" or _fixed_rounds(t.params))]
    if t.custom_body() is not None:
        names.append(f"{t.prefix}{t.family.body_params} (with a callable space)")
    what = ", ".join(names) if names else "its main hyperparameters"
    return Remedy("tuning", f"search {what} with fs.selection.tune on the same folds",
                  reason=reason)


def remedies(estimator: Any, verdict: str, *, findings: Iterable[str] = (),
             error: str | None = None, kind: str = "model") -> list[Remedy]:
    """Remedies for a verdict, most promising first, naming the estimator's parameters.

    Parameters
    ----------
    estimator : estimator
        The candidate (unfitted), possibly a Pipeline.
    verdict : {"high_variance", "high_bias", "high_bias_and_variance", "good_fit", "failed", \
"unknown"}
    findings : iterable of str, default=()
        Epoch-curve finding codes that hold in most folds (see :func:`read_epoch_curves`);
        they put the matching learning-rate or epoch remedy first, when they agree with the
        verdict: "overfitting" is used for high variance, "still_improving" and
        "underfitting" for high bias, "oscillating" and "diverged" always (all of them for
        both and for a good fit).  And ``"heavy_tailed_residuals"`` (out-of-fold residuals
        whose squared error a few rows dominate, see :func:`diagnose`): a regression network
        trained on ``loss="mse"`` is then told to set ``loss="huber"``, whatever the verdict.
    error : str, default=None
        The error of a failed candidate.
    kind : {"model", "ensemble"}, default="model"
        The candidate's kind in the report (ensembles are improved through their members).

    Returns
    -------
    list of Remedy
        In order of categories: high variance: more data / augmentation, stronger
        regularization, a simpler model, early stopping, tuning.  High bias: a bigger model,
        longer or better optimization, better features, tuning.  Both: the bias remedies
        first (reduce bias, then variance), then the variance ones.  A parameter is moved
        one way once: a later remedy with the :attr:`~Remedy.key` of an earlier one is left
        out (the learning rate that the epoch curves lower is not lowered again for high
        variance).  A network with its own ``module`` gets no remedy on the parameters that
        only build the default network (``width``, ``depth``, ``dropout``, ...): its
        ``module_params`` are named instead.  ``str(remedy)`` is one remedy's sentence;
        :func:`diagnose` shows the remedies of one category on one line.

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> found = remedies(DecisionTreeClassifier(max_depth=8), "high_variance")
    >>> found[1]  # doctest: +NORMALIZE_WHITESPACE
    Remedy(category='stronger regularization', action='lower', param='max_depth', current=8,
           suggested=4, reason='high_variance')
    >>> [str(r) for r in found[1:3]]  # doctest: +NORMALIZE_WHITESPACE
    ['stronger regularization: lower max_depth from 8 (e.g. to 4)',
     'stronger regularization: raise min_samples_leaf from 1 (e.g. to 5)']
    """
    prefix, final = final_estimator(estimator)
    family = family_of(final)
    params = final.get_params(deep=False) if hasattr(final, "get_params") else {}
    t = _Target(family, final, params, prefix)
    if t.custom_body() is not None:
        # a user's network ignores the knobs that build the default one: none is suggested,
        # its own settings are (body_action)
        t = replace(t, params={k: v for k, v in params.items() if k not in family.architecture})
    heavy_tailed = HEAVY_TAILED in set(findings)
    findings = set(findings) & _CONSISTENT.get(verdict, set())
    out = _epoch_remedies(t, findings)
    if heavy_tailed and t.family is not None and t.family.name == "mlp":
        # the estimator's own loss is read: only a network on the squared error is moved
        out += _group("a robust loss", "residuals: heavy-tailed", t.moves([_ROBUST_LOSS]))
    if verdict == "failed":
        return _dedupe(_failed_remedies(t, error) + out)
    if verdict in ("high_bias", "high_bias_and_variance"):
        out += _bias_remedies(t, "high_bias")
    if verdict in ("high_variance", "high_bias_and_variance"):
        out += _variance_remedies(t, "high_variance")
    if verdict == "good_fit":
        out += [Remedy("more data or better features", "the model generalizes as well as it "
                       "fits; gains now come from new information", reason=verdict),
                Remedy("members", "add diverse candidates or improve the weakest members",
                       reason=verdict) if kind == "ensemble" else
                Remedy("ensembles", "average or stack it with the other candidates "
                       "(fs.ensemble.*.from_report)", reason=verdict)]
    if verdict == "unknown":
        out.append(Remedy(None, "record training scores to diagnose bias and variance",
                          reason=verdict))
    out.append(_tuning(t, verdict))
    return _dedupe(out)


def _dedupe(found: list[Remedy]) -> list[Remedy]:
    """Drop remedies whose key (parameter and move, or free action) an earlier one has."""
    seen: set[tuple[str | None, str]] = set()
    out = []
    for r in found:
        if r.key not in seen:
            seen.add(r.key)
            out.append(r)
    return out


def _variance_remedies(t: _Target, reason: str) -> list[Remedy]:
    knobs = t.family.variance if t.family else {}
    out = _group(_MORE_DATA, reason, t.moves(knobs.get(_MORE_DATA, ())) +
                 ["more training rows (a learning curve shows whether they would help)"])
    out += _group(_REGULARIZE, reason, t.moves(knobs.get(_REGULARIZE, ())),
                  "a penalty (L2 / weight decay), dropout, or smaller trees")
    simpler: list[Remedy | str] = [*t.moves(knobs.get(_SIMPLER, ())),
                                   *t.body_action("regularize or simplify")]
    if t.is_linear():
        simpler.append("fewer features (feature selection)")
    out += _group(_SIMPLER, reason, simpler, "fewer parameters, or the linear candidate")
    out += _group(_AVERAGE, reason, t.moves(knobs.get(_AVERAGE, ())))
    out += _group(_EARLY, reason, t.moves(knobs.get(_EARLY, ())))
    return out


def _bias_remedies(t: _Target, reason: str) -> list[Remedy]:
    knobs = t.family.bias if t.family else {}
    bigger: list[Remedy | str] = [*t.body_action("enlarge"), *t.moves(knobs.get(_BIGGER, ()))]
    if t.is_linear():
        bigger.append("non-linear features (SplineTransformer, PolynomialFeatures) or a "
                      "non-linear candidate (xgboost, mlp)")
    out = _group(_BIGGER, reason, bigger, "more capacity (more layers / units, deeper trees)")
    out += _group(_OPTIMIZE, reason, t.moves(knobs.get(_OPTIMIZE, ())))
    out.append(Remedy("better features", "interactions, ratios, aggregates, domain encodings",
                      reason=reason))
    return out


def _epoch_remedies(t: _Target, findings: set) -> list[Remedy]:
    def why(*codes: str) -> str:
        return "epoch curves: " + ", ".join(sorted(findings & set(codes)))

    out = []
    if findings & _LR:
        out += _group("learning rate too high", why(*_LR),
                      t.learning_rate(0.1) + t.moves([_GRAD_CLIP]), "lower the learning rate")
    if "still_improving" in findings:
        epochs = [Knob(t.family.epochs, "raise", _raise_epochs)] if t.family and \
            t.family.epochs else []
        out += _group("train longer", why("still_improving"),
                      t.moves(epochs) + t.learning_rate(3.0),
                      "more epochs or a higher learning rate")
    if "overfitting" in findings:
        out += _group("stop earlier / regularize", why("overfitting"),
                      t.moves([Knob("early_stopping", "set", _enable),
                               Knob("dropout", "raise", _raise_rate),
                               Knob("weight_decay", "raise", _raise_l2)]),
                      "early stopping or regularization")
    if "underfitting" in findings:
        out += _group("learning rate too low or model too small", why("underfitting"),
                      t.learning_rate(10.0) + t.moves([Knob("width", "raise", _times(2))]),
                      "a higher learning rate or a bigger model")
    return out


def _failed_remedies(t: _Target, error: str | None) -> list[Remedy]:
    first = next((ln for ln in (error or "").splitlines() if ln.strip()), "")
    out = []
    text = (error or "").lower()
    if "diverged" in text or "nan" in text or "infinite" in text:
        out += _group("learning rate too high (training diverged)", "failed: training diverged",
                      t.learning_rate(0.1) + t.moves([_GRAD_CLIP]), "lower the learning rate")
    if "time limit" in text:
        out.append(Remedy("time", "give a larger time_limit, or a cheaper configuration",
                          reason="failed: time limit"))
    out.append(Remedy("fix the error", first, reason="failed") if first else
               Remedy(None, "fix the error (see report.failures)", reason="failed"))
    return out
