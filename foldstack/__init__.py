"""foldstack: cross-validate every candidate once, then compare, diagnose and ensemble.

Subpackages are imported on first use (PEP 562), so ``import foldstack`` stays light and
never imports torch.
"""

import importlib
import logging

from foldstack._version import __version__
from foldstack.data import infer_task, load_table

logging.getLogger(__name__).addHandler(logging.NullHandler())

_SUBPACKAGES = ("cli", "data", "diagnostics", "ensemble", "exceptions", "models", "persist",
                "report", "selection")
_LAZY = {"AutoEnsembleClassifier": "foldstack._auto", "AutoEnsembleRegressor": "foldstack._auto"}

__all__ = [
    "AutoEnsembleClassifier",
    "AutoEnsembleRegressor",
    "__version__",
    "data",
    "diagnostics",
    "ensemble",
    "exceptions",
    "infer_task",
    "load_table",
    "models",
    "persist",
    "report",
    "selection",
]


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"foldstack.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'foldstack' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
