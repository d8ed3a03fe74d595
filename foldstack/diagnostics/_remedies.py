"""Remedies: what to change for a verdict, naming the candidate's own parameters.

The knobs of each estimator family are data (:data:`FAMILIES`): which parameter to move, in
which direction for high bias or high variance, and a suggested next value.  The candidate's
final estimator is found through Pipelines (``step__param``) and wrappers such as
``TransformedTargetRegressor``, and its current values are read with ``get_params``, so a
remedy reads ``"raise mlp__dropout from 0.0 (e.g. to 0.2)"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from foldstack.models import TabularMLPClassifier, TabularMLPRegressor
from foldstack.utils._estimators import final_estimator

_DEFAULT = object()


@dataclass(frozen=True)
class Knob:
    """One parameter and how to move it.

    ``suggest(current) -> new value``, or None when the move does not apply (e.g. lowering a
    dropout that is already 0).  ``default`` is the value a ``None`` stands for (xgboost
    leaves its defaults as None).
    """

    param: str
    move: str  # "raise" | "lower" | "set" | "limit" (set when None, else lower)
    suggest: Callable[[Any], Any]
    default: Any = _DEFAULT
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
            _REGULARIZE: (Knob("max_depth", "lower", _times(0.5, floor=2), default=6),
                          Knob("min_child_weight", "raise", _times(5), default=1),
                          Knob("reg_lambda", "raise", _times(10), default=1),
                          Knob("subsample", "lower", _set_if(0.8, lambda v: v > 0.8), default=1),
                          Knob("n_estimators", "lower", _times(0.5, floor=10), default=100,
                               when=_fixed_rounds),
                          Knob("learning_rate", "lower", _times(0.3), default=0.3)),
            _EARLY: (Knob("early_stopping", "set", _enable),),  # foldstack's TabularXGB*
        },
        bias={
            _BIGGER: (Knob("max_depth", "raise", lambda v: v + 2 if isinstance(v, int) and v > 0
                           else None, default=6),
                      Knob("min_child_weight", "lower", _times(0.2), default=1)),
            _OPTIMIZE: (Knob("n_estimators", "raise", _times(2), default=100,
                             when=_fixed_rounds),),
        },
        tune=("max_depth", "learning_rate", "n_estimators", "min_child_weight", "reg_lambda",
              "subsample"), lr="learning_rate", epochs="n_estimators"),
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


def family_of(estimator: Any) -> Family | None:
    """The :class:`Family` of a (final) estimator, from the class names in its MRO (or its
    class, for families given by ``types``)."""
    names = {c.__name__ for c in type(estimator).__mro__}
    return next((f for f in FAMILIES
                 if f.classes & names or (f.types and isinstance(estimator, f.types))), None)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if value != 0 else "0.0"
    return repr(value)


def _knob_action(knob: Knob, params: dict, prefix: str) -> str | None:
    if knob.param not in params or (knob.when is not None and not knob.when(params)):
        return None
    current = params[knob.param]
    shown = current
    if current is None and knob.default is not _DEFAULT:
        current, shown = knob.default, knob.default
    new = knob.suggest(current)
    if new is None:
        return None
    path = prefix + knob.param
    if knob.move == "set" or (knob.move == "limit" and current is None):
        return f"set {path}={_fmt(new)} (now {_fmt(shown)})"
    move = "lower" if knob.move == "limit" else knob.move
    return f"{move} {path} from {_fmt(shown)} (e.g. to {_fmt(new)})"


def _actions(knobs: Iterable[Knob], params: dict, prefix: str) -> list[str]:
    return [a for k in knobs if (a := _knob_action(k, params, prefix))]


def _line(category: str, actions: Sequence[str], fallback: str | None = None) -> str | None:
    if actions:
        return f"{category}: " + "; ".join(actions)
    return None if fallback is None else f"{category}: {fallback}"


def _custom_body(family: Family | None, params: dict) -> Any:
    """The user's own network class set on the estimator, or None."""
    if family is None or family.body is None:
        return None
    return params.get(family.body)


def _body_action(family: Family | None, params: dict, prefix: str, verb: str
                 ) -> list[str]:
    body = _custom_body(family, params)
    if body is None:
        return []
    name = getattr(body, "__name__", repr(body))
    return [f"{verb} the custom module {name} through {prefix}{family.body_params} "
            f"(now {_fmt(params.get(family.body_params))})"]


def _tune_line(family: Family | None, params: dict, prefix: str) -> str:
    names = [prefix + p for p in (family.tune if family else ()) if p in params
             and (p != "n_estimators" or _fixed_rounds(params))]
    if _custom_body(family, params) is not None:
        names.append(f"{prefix}{family.body_params} (with a callable space)")
    what = ", ".join(names) if names else "its main hyperparameters"
    return f"tuning: search {what} with fs.selection.tune on the same folds"


def _is_linear(estimator: Any, family: Family | None) -> bool:
    return (family is not None and family.name.startswith("linear")) or \
        type(estimator).__module__.startswith(_LINEAR_MODULES)


def remedies(estimator: Any, verdict: str, *, findings: Iterable[str] = (),
             error: str | None = None, kind: str = "model") -> list[str]:
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
        both and for a good fit).
    error : str, default=None
        The error of a failed candidate.
    kind : {"model", "ensemble"}, default="model"
        The candidate's kind in the report (ensembles are improved through their members).

    Returns
    -------
    list of str
        ``"category: action; action"`` lines.  High variance: more data / augmentation,
        stronger regularization, a simpler model, early stopping, tuning.  High bias: a
        bigger model, longer or better optimization, better features, tuning.  Both: the
        bias remedies first (reduce bias, then variance), then the variance ones.
        A network with its own ``module`` gets no remedy on the parameters that only build
        the default network (``width``, ``depth``, ``dropout``, ...): its ``module_params``
        are named instead.

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> remedies(DecisionTreeClassifier(max_depth=8), "high_variance")[1]
    'stronger regularization: lower max_depth from 8 (e.g. to 4); raise min_samples_leaf \
from 1 (e.g. to 5); raise ccp_alpha from 0.0 (e.g. to 0.01)'
    """
    prefix, final = final_estimator(estimator)
    family = family_of(final)
    params = final.get_params(deep=False) if hasattr(final, "get_params") else {}
    if _custom_body(family, params) is not None:
        # a user's network ignores the knobs that build the default one: none is suggested,
        # its own settings are (_body_action)
        params = {k: v for k, v in params.items() if k not in family.architecture}
    findings = set(findings) & _CONSISTENT.get(verdict, set())
    lines = _epoch_lines(family, params, prefix, findings)
    if verdict == "failed":
        return _failed_lines(family, params, prefix, error) + lines
    if verdict in ("high_bias", "high_bias_and_variance"):
        lines += _bias_lines(family, final, params, prefix)
    if verdict in ("high_variance", "high_bias_and_variance"):
        lines += _variance_lines(family, final, params, prefix)
    if verdict == "good_fit":
        lines += ["more data or better features: the model generalizes as well as it fits; "
                  "gains now come from new information",
                  "members: add diverse candidates or improve the weakest members"
                  if kind == "ensemble" else
                  "ensembles: average or stack it with the other candidates "
                  "(fs.ensemble.*.from_report)"]
    if verdict == "unknown":
        lines.append("record training scores to diagnose bias and variance")
    lines.append(_tune_line(family, params, prefix))
    return _dedupe(lines)


def _dedupe(lines: list[str]) -> list[str]:
    """Drop actions already given by an earlier line (and lines left with none)."""
    seen: set[str] = set()
    out = []
    for line in lines:
        category, sep, body = line.partition(": ")
        actions = body.split("; ") if sep else [line]
        fresh = [a for a in actions if a not in seen]
        seen.update(actions)
        if fresh:
            out.append(f"{category}: " + "; ".join(fresh) if sep else line)
    return out


def _variance_lines(family: Family | None, final: Any, params: dict, prefix: str) -> list[str]:
    knobs = family.variance if family else {}
    out = [_line(_MORE_DATA, _actions(knobs.get(_MORE_DATA, ()), params, prefix) +
                 ["more training rows (a learning curve shows whether they would help)"])]
    out.append(_line(_REGULARIZE, _actions(knobs.get(_REGULARIZE, ()), params, prefix),
                     "a penalty (L2 / weight decay), dropout, or smaller trees"))
    simpler = _actions(knobs.get(_SIMPLER, ()), params, prefix)
    simpler += _body_action(family, params, prefix, "regularize or simplify")
    if _is_linear(final, family):
        simpler.append("fewer features (feature selection)")
    out.append(_line(_SIMPLER, simpler, "fewer parameters, or the linear candidate"))
    out.append(_line(_AVERAGE, _actions(knobs.get(_AVERAGE, ()), params, prefix)))
    out.append(_line(_EARLY, _actions(knobs.get(_EARLY, ()), params, prefix)))
    return [x for x in out if x]


def _bias_lines(family: Family | None, final: Any, params: dict, prefix: str) -> list[str]:
    knobs = family.bias if family else {}
    bigger = _actions(knobs.get(_BIGGER, ()), params, prefix)
    bigger[:0] = _body_action(family, params, prefix, "enlarge")
    linear = _is_linear(final, family)
    if linear:
        bigger.append("non-linear features (SplineTransformer, PolynomialFeatures) or a "
                      "non-linear candidate (xgboost, mlp)")
    out = [_line(_BIGGER, bigger, "more capacity (more layers / units, deeper trees)"),
           _line(_OPTIMIZE, _actions(knobs.get(_OPTIMIZE, ()), params, prefix)),
           "better features: interactions, ratios, aggregates, domain encodings"]
    return [x for x in out if x]


def _lr_action(family: Family | None, params: dict, prefix: str, factor: float) -> list[str]:
    if family is None or family.lr is None or family.lr not in params:
        return []
    lr = params[family.lr]
    if not isinstance(lr, (int, float)) or not math.isfinite(lr):
        return []
    new = float(f"{lr * factor:.2g}")
    move = "lower" if factor < 1 else "raise"
    return [f"{move} {prefix}{family.lr} from {_fmt(float(lr))} (e.g. to {_fmt(new)})"]


def _epoch_lines(family: Family | None, params: dict, prefix: str, findings: set) -> list[str]:
    out = []
    if findings & {"diverged", "oscillating"}:
        acts = _lr_action(family, params, prefix, 0.1)
        if "grad_clip" in params and params["grad_clip"] is None:
            acts.append(f"set {prefix}grad_clip=1.0 (now None)")
        out.append(_line("learning rate too high", acts, "lower the learning rate"))
    if "still_improving" in findings:
        acts = []
        if family is not None and family.epochs in params:
            acts = _actions([Knob(family.epochs, "raise", _raise_epochs)], params, prefix)
        acts += _lr_action(family, params, prefix, 3.0)
        out.append(_line("train longer", acts, "more epochs or a higher learning rate"))
    if "overfitting" in findings:
        acts = _actions([Knob("early_stopping", "set", _enable),
                         Knob("dropout", "raise", _raise_rate),
                         Knob("weight_decay", "raise", _raise_l2)], params, prefix)
        out.append(_line("stop earlier / regularize", acts, "early stopping or regularization"))
    if "underfitting" in findings:
        acts = _lr_action(family, params, prefix, 10.0)
        acts += _actions([Knob("width", "raise", _times(2))], params, prefix)
        out.append(_line("learning rate too low or model too small", acts,
                         "a higher learning rate or a bigger model"))
    return [x for x in out if x]


def _failed_lines(family: Family | None, params: dict, prefix: str, error: str | None
                  ) -> list[str]:
    first = next((ln for ln in (error or "").splitlines() if ln.strip()), "")
    out = []
    text = (error or "").lower()
    if "diverged" in text or "nan" in text or "infinite" in text:
        acts = _lr_action(family, params, prefix, 0.1)
        if "grad_clip" in params and params["grad_clip"] is None:
            acts.append(f"set {prefix}grad_clip=1.0 (now None)")
        out.append(_line("learning rate too high (training diverged)", acts,
                         "lower the learning rate"))
    if "time limit" in text:
        out.append("time: give a larger time_limit, or a cheaper configuration")
    out.append(f"fix the error: {first}" if first else "fix the error (see report.failures)")
    return [x for x in out if x]
