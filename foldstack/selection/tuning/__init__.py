"""Hyperparameter search with Optuna on the shared folds.

The entry point is :func:`tune` (also ``fs.selection.tune``).  The modules follow the data
flow: ``_space`` (search spaces as data, checked), ``_problem`` (one configuration's folds in
order, through the engine's fold task), ``_search`` (the Optuna study: samplers, pruners,
worker processes, resuming) and ``_study`` (storages and the checks a study file must pass),
and ``_tune`` (the function and its :class:`TuneResult`).
"""

from foldstack.selection.tuning._study import PRUNERS, SAMPLERS
from foldstack.selection.tuning._tune import TuneResult, tune

__all__ = ["PRUNERS", "SAMPLERS", "TuneResult", "tune"]
