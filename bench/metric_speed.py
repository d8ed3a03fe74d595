"""Seconds to score one set of rows with the default metrics: scikit-learn vs foldstack's own.

    python -m bench.metric_speed            # 10,000 / 100,000 / 1,000,000 rows
    python -m bench.metric_speed --report RUN/report   # each ensemble of a saved report

Every fold of a cross-validation scores its validation rows and its training rows with every
metric of the task (binary: seven), and every ensemble is scored by cross-fitting on the
out-of-fold rows.  On a large table scikit-learn's label metrics dominate that: each call
validates its labels with several sorts of every row.  foldstack computes the same values
from one confusion matrix and one ranking (``foldstack.selection._counts``; the tests check
the values against scikit-learn's).  Random probabilities, a binary and a 5-class target;
labels as class codes (as the folds score them) and as
strings (as ensembles and reports score a table's own labels); the median of three timings.  Writes ``bench/results/metric_speed.csv``.

``--report DIR`` times instead what ``foldstack cv`` does after its cross-validation on a
saved report (``foldstack cv``'s ``RUN/report``): each default ensemble built and scored by
cross-fitting from the report's finished models, one at a time; into
``bench/results/metric_speed_ensembles.csv`` (rows appended, with the commit).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench._table import publish  # noqa: E402


def _scikit_learn(task: str, y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> None:
    from sklearn import metrics as M

    labels = classes[np.argmax(proba, axis=1)]
    M.log_loss(y, proba, labels=classes)
    M.accuracy_score(y, labels)
    M.balanced_accuracy_score(y, labels)
    if task == "binary":
        M.roc_auc_score(y == classes[1], proba[:, 1])
        for fn in (M.precision_score, M.recall_score, M.f1_score):
            fn(y, labels, pos_label=classes[1], zero_division=0)
    else:
        M.f1_score(y, labels, labels=classes, average="macro", zero_division=0)


def _foldstack(task: str, y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> None:
    from foldstack.selection import DEFAULT_METRICS, METRICS

    for name in DEFAULT_METRICS[task]:
        METRICS[name](y, proba, classes)


def _seconds(fn, *args) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def ensembles(report_dir: str) -> None:
    import subprocess

    from foldstack._auto import compose
    from foldstack.selection import CVReport

    report = CVReport.load(report_dir)
    report = report.subset([n for n in report.names if report.results[n].kind == "model"])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    rows = []
    for kind in ("equal", "greedy", "stacking"):
        start = time.perf_counter()
        compose(report, [kind])
        rows.append({"commit": commit, "rows": len(report.y), "members": len(report.ok_names),
                     "ensemble": kind, "seconds": round(time.perf_counter() - start, 1)})
        print(rows[-1], flush=True)
    csv = ROOT / "bench" / "results" / "metric_speed_ensembles.csv"
    pd.DataFrame(rows).to_csv(csv, mode="a", header=not csv.exists(), index=False)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", help="time the ensembles of this saved report")
    args = parser.parse_args()
    if args.report:
        ensembles(args.report)
        return
    rng = np.random.default_rng(0)
    rows = []
    for task, k in (("binary", 2), ("multiclass", 5)):
        for n in (10_000, 100_000, 1_000_000):
            codes = rng.integers(0, k, n)
            proba = rng.random((n, k)).astype(np.float32)
            proba /= proba.sum(axis=1, keepdims=True)
            names = np.array([f"class_{i}" for i in range(k)], dtype=object)
            # folds score class codes; ensembles and reports score the labels themselves
            for labels, y, classes in (("codes", codes, np.arange(k)),
                                       ("strings", names[codes], names)):
                sk = _seconds(_scikit_learn, task, y, proba, classes)
                fs = _seconds(_foldstack, task, y, proba, classes)
                rows.append({"task": task, "labels": labels, "rows": n,
                             "scikit_learn_s": round(sk, 4), "foldstack_s": round(fs, 4),
                             "speedup": round(sk / fs, 1)})
    publish(pd.DataFrame(rows), "metric_speed",
            "seconds to score one set of rows with the task's default metrics")


if __name__ == "__main__":
    main()
