"""``foldstack predict MODEL DATA -o OUT.csv``: a submission file from a saved model."""

from __future__ import annotations

import argparse
import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from foldstack.cli._outputs import write_csv
from foldstack.data import load_table
from foldstack.exceptions import ColumnNotFoundError, DataError, DataWarning
from foldstack.persist import load_model, read_manifest
from foldstack.utils._validation import did_you_mean

logger = logging.getLogger("foldstack.cli")


def model_dir(path: str | Path) -> Path:
    """Accept a run directory (its model/ inside) or the model directory itself."""
    path = Path(path)
    if (path / "model" / "manifest.json").exists():
        return path / "model"
    if not path.exists():
        raise DataError(f"No such model: '{path}'. Give a run directory written by "
                        "`foldstack cv` (or its model/ directory).")
    return path


def check_schema(df: pd.DataFrame, schema: dict, id_col: str | None = None) -> pd.DataFrame:
    """Select the training columns by name; explain what is missing or of the wrong kind."""
    columns = schema["columns"]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        hint = did_you_mean(missing[0], map(str, df.columns))
        raise ColumnNotFoundError(
            f"Column(s) {missing} of the training data are missing from the data to predict."
            f"{hint} The model needs: {', '.join(map(repr, columns))}.")
    extra = [c for c in df.columns
             if c not in columns and c not in (schema.get("target"), id_col)]
    if extra:
        warnings.warn(f"Ignoring {len(extra)} column(s) the model was not trained on: "
                      f"{extra[:10]}.", DataWarning, stacklevel=2)
    X = df[columns]
    for col in schema.get("numeric", []):
        if col in X and not pd.api.types.is_numeric_dtype(X[col]):
            converted = pd.to_numeric(X[col], errors="coerce")
            bad = X[col][converted.isna() & X[col].notna()]
            if len(bad):
                raise DataError(
                    f"Column {col!r} was numeric in training but holds text here (e.g. "
                    f"{bad.iloc[0]!r} in row {bad.index[0]}). Fix those cells or leave them "
                    "empty.")
            X = X.assign(**{col: converted})
    return X


TASKS = ("binary", "multiclass", "regression")


def _is_names(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def read_schema(path: Path, manifest: dict) -> dict:
    """The training schema of the model in ``path``, its shape checked.

    Raises
    ------
    DataError
        The manifest holds no schema, or one that ``foldstack cv`` did not write.
    """
    metadata = manifest.get("metadata")
    schema = metadata.get("schema") if isinstance(metadata, dict) else None
    if not schema:
        raise DataError(f"'{path}' holds no training schema; was it saved by `foldstack cv`? "
                        "Use a model written by `foldstack cv`.")
    if not isinstance(schema, dict):
        problem = "it is not a table"
    elif not _is_names(schema.get("columns")) or not schema["columns"]:
        problem = "its 'columns' are not a list of column names"
    elif not _is_names(schema.get("numeric", [])):
        problem = "its 'numeric' columns are not a list of column names"
    elif schema.get("task") not in TASKS:
        problem = f"its 'task' is {schema.get('task')!r}, not one of {', '.join(TASKS)}"
    elif not isinstance(schema.get("target"), str):
        problem = "its 'target' is not a column name"
    else:
        return schema
    raise DataError(f"The training schema of the model in '{path}' is damaged: {problem}. "
                    "Save the model again (rerun `foldstack cv`), or use a model written by "
                    "`foldstack cv`.")


def check_model(path: Path, model: object, *, proba: bool) -> None:
    """Refuse a loaded model that cannot make the predictions asked for."""
    needs = ["predict"] + (["predict_proba"] if proba else [])
    missing = [m for m in needs if not callable(getattr(model, m, None))]
    if proba and not missing:
        try:
            classes = list(getattr(model, "classes_", None))
        except TypeError:
            classes = None
        if classes is None:
            missing.append("classes_")
    if missing:
        raise DataError(
            f"The model in '{path}' cannot predict: it loaded as a {type(model).__name__!r} "
            f"object, which has no {', '.join(missing)}. The directory is damaged or was not "
            "written by `foldstack cv`: save the model again (rerun `foldstack cv`), or use a "
            "model written by `foldstack cv`.")


def run_predict(args: argparse.Namespace) -> int:
    path = model_dir(args.model)
    manifest = read_manifest(path)
    schema = read_schema(path, manifest)
    # ids are written as they were read: "0012" must not come back as 12.0
    df = load_table(args.data, text_columns=[args.id_col] if args.id_col else [])
    if args.id_col is not None and args.id_col not in df.columns:
        raise ColumnNotFoundError(
            f"--id-col {args.id_col!r} is not in '{args.data}'."
            f"{did_you_mean(args.id_col, map(str, df.columns))}")
    X = check_schema(df, schema, args.id_col)
    model = load_model(path, allow_pickle=args.allow_pickle)
    task, target = schema["task"], schema["target"]
    check_model(path, model, proba=bool(args.proba) and task != "regression")
    out = pd.DataFrame(index=df.index)
    if args.id_col is not None:
        out[args.id_col] = df[args.id_col].to_numpy()
    if task == "regression":
        out[target] = np.asarray(model.predict(X), dtype=float)
    elif args.proba:
        proba = model.predict_proba(X)
        for j, c in enumerate(model.classes_):
            out[str(c)] = proba[:, j]
    else:
        out[target] = model.predict(X)
    write_csv(out, Path(args.output))
    logger.info("wrote %d predictions to %s", len(out), args.output)
    return 0
