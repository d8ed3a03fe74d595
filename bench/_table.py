"""Print a result table and write it as CSV under bench/results/."""

from __future__ import annotations

import datetime as _dt
import platform
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    import os
    return f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"


def publish(rows: list[dict] | pd.DataFrame, name: str, title: str | None = None) -> pd.DataFrame:
    """Print ``rows`` as a table and write ``bench/results/<name>.csv``; return the frame."""
    df = pd.DataFrame(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.csv"
    df.to_csv(path, index=False)
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    header = f"{title or name}  ({stamp}, {machine()})"
    with pd.option_context("display.max_rows", 500, "display.max_columns", 50,
                           "display.width", 200, "display.float_format", "{:.4f}".format):
        print(f"\n{header}\n{'-' * len(header)}\n{df.to_string(index=False)}\n-> {path}")
    return df
