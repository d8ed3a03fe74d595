"""Reading tables and inferring the task."""

import warnings
from typing import Any

from foldstack.data._load import load_table
from foldstack.data._task import TASKS, infer_task
from foldstack.data._validate import check_training_data, split_target

__all__ = ["TASKS", "check_training_data", "infer_task", "load_table", "split_target"]


def __getattr__(name: str) -> Any:
    # ``check_X_y`` was renamed: scikit-learn's function of that name means something else
    if name == "check_X_y":
        warnings.warn("foldstack.data.check_X_y is deprecated and will be removed in a future "
                      "release; use foldstack.data.check_training_data.", FutureWarning,
                      stacklevel=2)
        return check_training_data
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
