"""Threads for LightGBM and CatBoost fits: one vs every core, by table size, side by side.

    python -m bench.gbdt_threads            # prints the table, writes bench/results/gbdt_threads.csv

Each (library, rows) pair fits the same early-stopped model on a synthetic table of 20
columns (two of them categorical) with one thread and with every core, alternately, three
times each, and reports the median seconds and their ratio.  It decided what ``n_jobs=None``
means for the two estimators (``foldstack.models._boosting.n_threads``): every core.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from bench._table import publish


def _table(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 18)), columns=[f"x{i}" for i in range(18)])
    X["c1"] = rng.choice([f"l{i}" for i in range(10)], n)
    X["c2"] = rng.choice([f"m{i}" for i in range(40)], n)
    y = X["x0"] + np.sin(X["x1"] * 2) + (X["c1"] == "l3") + rng.normal(scale=0.5, size=n)
    return X, (y > y.median()).to_numpy().astype(int)


def main() -> None:
    import foldstack as fs

    cores = os.cpu_count() or 1
    rows = []
    for n in (1_000, 10_000, 100_000):
        X, y = _table(n)
        for name in ("lightgbm", "catboost"):
            times: dict[int, list[float]] = {1: [], cores: []}
            for _ in range(3):
                for threads in (1, cores):
                    model = fs.models.default_candidates("binary", names=[name])[name]
                    model.set_params(n_jobs=threads, random_state=0)
                    start = time.perf_counter()
                    model.fit(X, y)
                    times[threads].append(time.perf_counter() - start)
            one, all_ = np.median(times[1]), np.median(times[cores])
            rows.append({"library": name, "rows": n, "cells": n * X.shape[1], "cores": cores,
                         "one_thread_s": round(one, 3), "all_cores_s": round(all_, 3),
                         "all_over_one": round(all_ / one, 2)})
    publish(pd.DataFrame(rows), "gbdt_threads",
            "LightGBM and CatBoost fit time, one thread vs every core (median of 3)")


if __name__ == "__main__":
    main()
