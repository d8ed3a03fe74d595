"""``foldstack predict MODEL DATA -o OUT.csv``: a submission file from a saved model."""

from __future__ import annotations

import argparse
import logging
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from foldstack.cli._outputs import _FORMULA_START, _atomic_write, escape_formulas
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


# A cell a spreadsheet reads as a plain number, never as a formula: "-0", "+12", "1e3"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _escape_cell(value: object) -> object:
    if (isinstance(value, str) and value.startswith(_FORMULA_START)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def write_predictions(out: pd.DataFrame, path: Path) -> Path:
    """Write the predictions CSV with every value as it was read, formulas escaped.

    ``escape_formulas`` would quote an id ``-0`` (``'-0``: a plain number cannot run as a
    formula) and turn Parquet ids ``[12, None]`` into floats (``12.0``); so text columns are
    escaped here cell by cell, keeping their Python values.
    """
    safe = escape_formulas(out)  # the column names and the numeric columns
    for j in range(out.shape[1]):
        column = out.iloc[:, j]
        if not pd.api.types.is_numeric_dtype(column):
            safe.isetitem(j, pd.Series([_escape_cell(v) for v in column], index=out.index,
                                       dtype=object))
    _atomic_write(path, safe.to_csv(index=False))
    return path


def run_predict(args: argparse.Namespace) -> int:
    path = model_dir(args.model)
    manifest = read_manifest(path)
    schema = manifest["metadata"].get("schema")
    if not schema:
        raise DataError(f"'{path}' holds no training schema; was it saved by `foldstack cv`?")
    # ids are written as they were read: "0012" must not come back as 12.0
    df = load_table(args.data, text_columns=[args.id_col] if args.id_col else [])
    if args.id_col is not None and args.id_col not in df.columns:
        raise ColumnNotFoundError(
            f"--id-col {args.id_col!r} is not in '{args.data}'."
            f"{did_you_mean(args.id_col, map(str, df.columns))}")
    X = check_schema(df, schema, args.id_col)
    model = load_model(path, allow_pickle=args.allow_pickle)
    task, target = schema["task"], schema["target"]
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
    write_predictions(out, Path(args.output))
    logger.info("wrote %d predictions to %s", len(out), args.output)
    return 0
