"""The portfolio: ordered configurations per task, learned offline on the development suite.

``portfolio.json`` (beside this module) is written by ``python -m bench.portfolio``: every
configuration cross-validated on the training parts of the suite's splits, then a greedy
zero-shot selection per task of the ordered list whose prefixes' ensembles score best (see
that script).  Each entry names a registered family (:data:`CANDIDATES`) and the parameters
set on top of its default, and its a-priori cost: seconds per fold on one thread, fitted on
the same units as ``exp(a) * Mcells**b * outputs**c`` (``Mcells``: fit rows x columns / 1e6;
``outputs``: classes of a multiclass target, else 1), and beyond the largest units
(``cost_max_mcells``) growing in proportion to the cells, as a fit on more rows does (the
power law, flattened by fixed costs on small tables, would under-predict there).  The file
is data, read with :mod:`json` and checked here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from sklearn.base import BaseEstimator

from foldstack.data import TASKS
from foldstack.exceptions import InvalidParameterError
from foldstack.models._candidates import CANDIDATES
from foldstack.utils._validation import check_option

_SCALARS = (str, int, float, bool, type(None))


@cache
def portfolio_data() -> dict[str, Any]:
    """The parsed and checked ``portfolio.json`` (read once)."""
    text = resources.files("foldstack.models").joinpath("portfolio.json").read_text("utf-8")
    data = json.loads(text)
    for task in TASKS:
        entry = data["tasks"][task]
        configs = entry["configs"]
        names = [c["name"] for c in configs]
        if len(set(names)) != len(names) or not 1 <= entry["default_size"] <= len(configs):
            raise ValueError(f"portfolio.json: the {task} list is malformed")
        for c in configs:
            if c["family"] not in CANDIDATES or not all(
                    isinstance(k, str) and type(v) in _SCALARS for k, v in c["params"].items()):
                raise ValueError(f"portfolio.json: bad configuration {c!r}")
    costs, top = data.get("costs", {}), data.get("cost_max_mcells", 1.0)
    names = {c["name"] for task in TASKS for c in data["tasks"][task]["configs"]}
    if not (isinstance(costs, dict) and set(costs) <= names
            and type(top) in (int, float) and math.isfinite(top) and top > 0
            and all(isinstance(v, list) and len(v) == 3
                    and all(type(x) in (int, float) and math.isfinite(x) for x in v)
                    for v in costs.values())):
        raise ValueError("portfolio.json: the costs are malformed")
    return data


def portfolio(task: str, random_state: int | None = 0, *,
              size: int | str = "default") -> dict[str, BaseEstimator]:
    """The portfolio's configurations for ``task``, most useful first: name -> estimator.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
    random_state : int or None, default=0
        Seed of every configuration.
    size : int, "default" or "all", default="default"
        How many configurations, from the front: ``"default"`` is the longest prefix whose
        fit time on the suite is about that of the four default candidates, at most 1.1
        times it (what
        :class:`~foldstack.AutoEnsembleClassifier` runs without a time limit); ``"all"``
        is every one (what it runs, in order, under a time limit).

    Returns
    -------
    dict of str to estimator

    Examples
    --------
    >>> from foldstack.models import portfolio
    >>> names = list(portfolio("binary", size="all"))
    >>> names[0]
    'linear'
    >>> len(portfolio("binary", size=2))
    2
    """
    check_option("portfolio", "task", task, TASKS)
    entry = portfolio_data()["tasks"][task]
    configs = entry["configs"]
    if size == "default":
        n = entry["default_size"]
    elif size == "all":
        n = len(configs)
    elif isinstance(size, int) and not isinstance(size, bool) and size >= 1:
        n = min(size, len(configs))
    else:
        raise InvalidParameterError(f"portfolio: `size` must be an int >= 1, 'default' or "
                                    f"'all'; got {size!r}.")
    out = {}
    for c in configs[:n]:
        est = CANDIDATES[c["family"]](task, random_state)
        out[c["name"]] = est.set_params(**c["params"])
    return out


def expected_fold_seconds(candidates: Mapping[str, BaseEstimator], task: str, n_rows: int,
                          n_columns: int, n_classes: int = 0) -> dict[str, float]:
    """A-priori seconds per fold (one thread) of the candidates that are portfolio
    configurations, from the cost model in ``portfolio.json`` (see the module notes).

    A candidate counts as a configuration when its name is one of ``task``'s list and it is
    that configuration: the same estimator class with the configuration's parameters.
    Others are left out (their cost is unknown until their first fold finishes).

    Parameters
    ----------
    candidates : mapping of str to estimator
    task : {"binary", "multiclass", "regression"}
    n_rows : int
        Rows each fold fits on.
    n_columns : int
        Columns of the raw table.
    n_classes : int, default=0
        Classes of the target (used for a multiclass one).

    Returns
    -------
    dict of str to float

    Examples
    --------
    >>> from foldstack.models import portfolio
    >>> costs = expected_fold_seconds(portfolio("binary", size=3), "binary", 4000, 20)
    >>> sorted(costs), costs["linear"] < costs["random_forest"]
    (['linear', 'random_forest', 'xgboost_depth4'], True)
    """
    check_option("expected_fold_seconds", "task", task, TASKS)
    data = portfolio_data()
    configs = {c["name"]: c for c in data["tasks"][task]["configs"]}
    cells = max(n_rows * n_columns, 1) / 1e6
    top = data.get("cost_max_mcells", 1.0)
    outputs = max(n_classes, 1) if task == "multiclass" else 1
    out = {}
    for name, est in candidates.items():
        config, coef = configs.get(name), data.get("costs", {}).get(name)
        if config is None or coef is None:
            continue
        reference = CANDIDATES[config["family"]](task, None).set_params(**config["params"])
        if type(est) is not type(reference) or _settings(est) != _settings(reference):
            continue
        out[name] = cost_seconds(coef, cells, outputs, top)
    return out


def cost_seconds(coef: Sequence[float], mcells: float, outputs: int, top: float) -> float:
    """Seconds per fold of the cost model ``coef = [a, b, c]`` (module notes): the power law
    up to ``top`` Mcells, in proportion to the cells beyond."""
    a, b, c = coef
    return math.exp(a) * min(mcells, top) ** b * outputs ** c * max(mcells / top, 1.0)


def _settings(est: BaseEstimator) -> dict[str, Any]:
    """The scalar parameters, nested ones included, but the seeds: what makes a config."""
    return {k: v for k, v in est.get_params(deep=True).items()
            if type(v) in _SCALARS and not k.endswith("random_state")}
