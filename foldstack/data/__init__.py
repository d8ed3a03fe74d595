"""Reading tables and inferring the task."""

from foldstack.data._load import load_table
from foldstack.data._task import TASKS, infer_task
from foldstack.data._validate import check_X_y, split_target

__all__ = ["TASKS", "check_X_y", "infer_task", "load_table", "split_target"]
