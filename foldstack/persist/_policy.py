"""Which types a saved model may ask for: computed by foldstack, never read from the file."""

from __future__ import annotations

import importlib
from typing import Any

from foldstack.exceptions import UnsafeModelError

# Modules whose classes carry data, not code: constructing them from saved state runs nothing
# but their own (reviewed) __setstate__.  A type outside these is refused unless the user
# explicitly allows pickle.
_TRUSTED_PREFIXES = (
    "sklearn.", "numpy.", "numpy", "scipy.sparse.", "scipy.stats._distn_infrastructure.",
    "foldstack.", "xgboost.sklearn.", "builtins.", "collections.", "datetime.",
    "pandas.core.dtypes.dtypes.", "pandas.core.indexes.", "pandas.core.arrays.",
)
_REFUSED = ("builtins.eval", "builtins.exec", "builtins.open", "builtins.compile",
            "builtins.__import__", "builtins.getattr", "builtins.setattr", "builtins.type",
            "builtins.object", "foldstack.persist.", "foldstack.cli.")
# The torch modules foldstack builds its networks from (its "module registry").
MODULE_REGISTRY = {
    "foldstack.models._module.TabularNetwork",
    "foldstack.models._module.MLP",
}
NET_CLASSES = {"foldstack.models._training.TabularNet"}
XGB_CLASSES = {
    "xgboost.sklearn.XGBClassifier", "xgboost.sklearn.XGBRegressor",
    "foldstack.models._xgb.TabularXGBClassifier", "foldstack.models._xgb.TabularXGBRegressor",
}


def qualname(obj_or_type: Any) -> str:
    t = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    return f"{t.__module__}.{t.__qualname__}"


def is_trusted(name: str) -> bool:
    if any(name == r or name.startswith(r) for r in _REFUSED):
        return False
    return name.startswith(_TRUSTED_PREFIXES)


def resolve(name: str, allowed: set[str] | None = None) -> type:
    """Import the class ``name`` after checking it against the policy (or ``allowed``)."""
    ok = name in allowed if allowed is not None else is_trusted(name)
    if not ok:
        raise UnsafeModelError(
            f"The model file asks for type {name!r}, which foldstack does not load from a "
            "file (only scikit-learn, xgboost, numpy and foldstack's own classes are allowed). "
            "If you trust the file, load it with allow_pickle=True (--allow-pickle).")
    module, _, attr = name.rpartition(".")
    obj: Any = None
    for split in range(module.count(".") + 1, 0, -1):  # nested qualnames: a.b.C.D
        parts = name.split(".")
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:]:
            obj = getattr(obj, part)
        break
    if not isinstance(obj, type):
        raise UnsafeModelError(f"{name!r} is not a class.")
    return obj
