"""The portfolio: ordered configurations per task, learned offline on the development suite.

``portfolio.json`` (beside this module) is written by ``python -m bench.portfolio``: every
configuration cross-validated on the training parts of the suite's splits, then a greedy
zero-shot selection per task of the ordered list whose prefixes' ensembles score best (see
that script).  Each entry names a registered family (:data:`CANDIDATES`) and the parameters
set on top of its default.  The file is data, read with :mod:`json` and checked here.
"""

from __future__ import annotations

import json
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
