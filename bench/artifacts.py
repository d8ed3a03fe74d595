"""What `make demo` leaves on disk, and how fast its model loads and predicts.

    python -m bench.artifacts                   # writes bench/results/artifacts.csv
    python -m bench.artifacts --label before    # a row label (e.g. before / after a change)

Runs the demo's job (``examples/demo_data.py``: Telco churn, 5,282 training rows; then
``foldstack cv train.csv --target churn``) in a temporary directory and measures, in fresh
processes so that nothing is imported yet (a cold start): the size and file count of the run
directory and of ``model/``, ``report/`` and ``cache/`` (files hard-linked between them
counted once in the run's total, as on disk); the seconds of
``foldstack.persist.load_model`` on ``model/``; the wall seconds of ``foldstack predict`` on
the 1,761 test rows; and the model's predict throughput (rows per second of
``predict_proba`` on 100,000 rows, the test rows repeated, after loading).  Rows are appended
to the CSV with the date, the commit and the label.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "bench" / "results" / "artifacts.csv"
FOLDSTACK = [sys.executable, "-m", "foldstack.cli"]

_LOAD = """
import sys, time
t = time.perf_counter()
from foldstack.persist import load_model
model = load_model(sys.argv[1])
print(time.perf_counter() - t)
"""

_THROUGHPUT = """
import sys, time
import numpy as np, pandas as pd
from foldstack.persist import load_model
model = load_model(sys.argv[1])
X = pd.read_csv(sys.argv[2]).drop(columns="customer")
big = pd.concat([X] * (100_000 // len(X) + 1), ignore_index=True).iloc[:100_000]
model.predict_proba(big.iloc[:100])     # warm: first-call overheads are not throughput
t = time.perf_counter()
model.predict_proba(big)
print(len(big) / (time.perf_counter() - t))
"""


def _size(path: Path) -> tuple[float, int]:
    """MB of the files under ``path`` (a file hard-linked several times counted once, as
    ``du`` does), and the number of files."""
    files = [p for p in path.rglob("*") if p.is_file()] if path.exists() else []
    inodes = {(st.st_dev, st.st_ino): st.st_size for st in map(Path.stat, files)}
    return sum(inodes.values()) / 2**20, len(files)


def _timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start, proc.stdout


def measure(label: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        _timed([sys.executable, str(ROOT / "examples" / "demo_data.py"), "data"], d)
        cv_s, _ = _timed([*FOLDSTACK, "cv", "data/train.csv", "--target", "churn", "--out",
                          "run", "-q"], d)
        row: dict = {"label": label, "cv_s": round(cv_s, 1)}
        for part in ("", "model", "report", "cache"):
            mb, n = _size(d / "run" / part)
            row[f"{part or 'run'}_mb"], row[f"{part or 'run'}_files"] = round(mb, 2), n
        loads = [float(_timed([sys.executable, "-c", _LOAD, "run/model"], d)[1])
                 for _ in range(3)]
        row["load_model_s"] = round(sorted(loads)[1], 2)
        predicts = [_timed([*FOLDSTACK, "predict", "run", "data/test.csv", "--id-col",
                            "customer", "--proba", "-o", "sub.csv"], d)[0] for _ in range(3)]
        row["predict_cold_s"] = round(sorted(predicts)[1], 2)
        rate = float(_timed([sys.executable, "-c", _THROUGHPUT, "run/model",
                             "data/test.csv"], d)[1])
        row["predict_rows_per_s"] = round(rate)
        import json

        row["chosen"] = json.loads((d / "run" / "run.json").read_text()).get("chosen")
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="")
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    row = {"date": time.strftime("%Y-%m-%d"), "commit": commit, **measure(args.label)}
    old = pd.read_csv(CSV) if CSV.exists() else pd.DataFrame()
    out = pd.concat([old, pd.DataFrame([row])], ignore_index=True)
    CSV.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(CSV, index=False)
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(out.to_string(index=False))


if __name__ == "__main__":
    main()
