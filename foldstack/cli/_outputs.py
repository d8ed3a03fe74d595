"""Run directories and the files a run writes (safe to open in a spreadsheet)."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldstack.exceptions import InvalidParameterError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a quote (OWASP CSV).

    Only strings are touched: negative numbers stay numbers.
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    out.columns = ["'" + c if isinstance(c, str) and c.startswith(_FORMULA_START) else c
                   for c in out.columns]
    if out.index.dtype == object:
        out.index = out.index.map(
            lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return out


def write_csv(df: pd.DataFrame, path: Path, index: bool = False) -> Path:
    """Write a CSV atomically with spreadsheet formulas escaped."""
    _atomic_write(path, escape_formulas(df).to_csv(index=index))
    return path


def write_json(obj: Any, path: Path) -> Path:
    _atomic_write(path, json.dumps(obj, indent=2, default=_json_default))
    return path


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (np.ndarray, tuple, set)):
        return list(v)
    if isinstance(v, Path):
        return str(v)
    return repr(v)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def default_out_dir(root: Path = Path("runs")) -> Path:
    """``runs/<timestamp>``, with a suffix when a run started in the same second."""
    base = root / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def find_resumable(root: Path, run_key: str) -> Path | None:
    """The newest run directory under ``root`` made by the same command on the same data."""
    if not root.is_dir():
        return None
    for run in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        info = read_run(run)
        if info and info.get("run_key") == run_key:
            return run
    return None


def read_run(path: Path) -> dict | None:
    try:
        return json.loads((path / "run.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def prepare_out_dir(out: Path, run_key: str, *, resume: bool, force: bool) -> str:
    """Check ``out`` before any work: 'new', 'resume' (same run) or refuse another run's data.

    Returns what happens: ``"new"`` or ``"resume"``.
    """
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        out.mkdir(parents=True, exist_ok=True)
        return "new"
    if not out.is_dir():
        raise InvalidParameterError(f"--out '{out}' exists and is not a directory.")
    info = read_run(out)
    if info is None and not (out / "cache").exists():
        if force:
            return "new"
        raise InvalidParameterError(
            f"--out '{out}' exists and holds other files (no foldstack run.json). Choose another "
            "directory, or pass --force to write into it anyway.")
    if info is not None and info.get("run_key") == run_key:
        return "resume"
    if resume:
        return "resume"
    if force:
        import shutil
        for child in ("cache", "model"):
            shutil.rmtree(out / child, ignore_errors=True)
        return "new"
    raise InvalidParameterError(
        f"--out '{out}' holds a different run (other data or options). Pass --resume to reuse "
        "its cache (only new work is done), --force to overwrite it, or another --out.")
