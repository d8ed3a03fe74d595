"""Named parameter sets of the tabular networks, to reproduce or compare past defaults."""

from __future__ import annotations

from typing import Any

from foldstack.exceptions import InvalidParameterError

# The defaults shipped before they were chosen on the development suite (foldstack 0.x, "v1"):
# early_stopping="auto" and max_epochs="auto" train tables under 1,024 rows 300 epochs on
# every row.  Spelled out in full so that the name keeps its meaning when defaults change.
_V1 = {"depth": 3, "width": 128, "dropout": 0.1, "optimizer": "adamw", "lr": 2e-3,
       "weight_decay": 1e-4, "lr_schedule": "cosine", "batch_size": "auto", "max_epochs": "auto",
       "early_stopping": "auto", "validation_fraction": 0.1, "patience": 16,
       "numeric_transform": "quantile", "numeric_embedding": "periodic",
       "augmentation_strength": 0.2}
_V1_TASK = {"classification": {"activation": "silu", "augmentation": "mixup"},
            "regression": {"activation": "gelu", "augmentation": None}}
_PRESETS = {"v1": (_V1, _V1_TASK)}
MLP_PRESETS = tuple(_PRESETS)


def mlp_preset(name: str, task: str = "classification") -> dict[str, Any]:
    """Constructor parameters of a named network configuration.

    ``"v1"`` is the default of ``TabularMLPClassifier`` / ``TabularMLPRegressor`` before the
    defaults were chosen on the development suite (``python -m bench.suite_mlp``): pass it to
    compare the two on your data.

    Parameters
    ----------
    name : {"v1"}
        The preset.
    task : {"classification", "regression"}, default="classification"
        The estimator it is for: activation and augmentation differ between the two.

    Returns
    -------
    dict
        Keyword arguments for the estimator's constructor (a new dict on every call).

    Examples
    --------
    >>> from foldstack.models import TabularMLPClassifier, mlp_preset
    >>> old = TabularMLPClassifier(**mlp_preset("v1"), random_state=0)
    >>> old.max_epochs, old.early_stopping, old.activation
    ('auto', 'auto', 'silu')
    >>> mlp_preset("v1", "regression")["augmentation"] is None
    True
    """
    if name not in _PRESETS:
        raise InvalidParameterError(f"unknown network preset {name!r}; choose one of "
                          f"{', '.join(map(repr, MLP_PRESETS))}.")
    if task not in ("classification", "regression"):
        raise InvalidParameterError(f"task must be 'classification' or 'regression'; got {task!r}.")
    shared, per_task = _PRESETS[name]
    return {**shared, **per_task[task]}
