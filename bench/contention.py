"""Threads on a busy machine: small fits on one thread vs every core, and the CV it makes.

    python -m bench.contention            # both parts; writes the two CSVs below
    python -m bench.contention --part sizes
    python -m bench.contention --part cv

Part ``sizes`` (``bench/results/contention_sizes.csv``): every threaded default family
(xgboost, LightGBM, CatBoost, random forest, the network) fits a synthetic table of 10
columns (two categorical) at 100 to 3,000 rows, with one thread and with the library's
default (every core), on an idle machine and with one other process keeping a core busy;
median of three, side by side.  It sets ``foldstack.utils._parallel.SMALL_FIT_CELLS`` by a
rule fixed before the run: the smallest measured cell count (rows x columns) at which the
families' fits together (the sum of their median seconds) are at least 10 % faster on every
core than on one thread, idle; fits below it run on one thread (there, more threads gain under
10 % on an idle machine, and on a busy one they risk much more).

Part ``cv`` (``bench/results/contention_cv.csv``): a 5-fold CV of the default candidates
(``fs.models.default_candidates``) on penguins' training part, idle and with one core kept
busy, with the rule (``SMALL_FIT_CELLS`` as shipped) and without it (0: every fit takes the
libraries' default threads, as before the rule), alternating, three times each; the busy /
idle ratio of each (target: at most 2.5x with the rule).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd

from bench._table import publish

FAMILIES = ("xgboost", "lightgbm", "catboost", "random_forest", "mlp")
ROWS = (100, 300, 1000, 3000)
REPEATS = 3


@contextlib.contextmanager
def busy(on: bool) -> Iterator[None]:
    """One other process keeping a core busy (a pure-Python loop) while the block runs."""
    if not on:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.5)
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def _table(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"x{i}" for i in range(8)])
    X["c1"] = pd.Categorical(rng.choice([f"l{i}" for i in range(5)], n))
    X["c2"] = pd.Categorical(rng.choice([f"m{i}" for i in range(12)], n))
    y = X["x0"] + np.sin(2 * X["x1"]) + (X["c1"] == "l3") + rng.normal(scale=0.5, size=n)
    return X, (y > y.median()).to_numpy().astype(int)


def sizes() -> pd.DataFrame:
    import foldstack as fs
    from foldstack.utils._parallel import limited_threads

    rows = []
    for n in ROWS:
        X, y = _table(n)
        for family in FAMILIES:
            times: dict[tuple[bool, str], list[float]] = {}
            for _ in range(REPEATS):
                for load in (False, True):
                    with busy(load):
                        for threads in ("one", "default"):
                            est = fs.models.default_candidates("binary", names=[family])[family]
                            with limited_threads(1 if threads == "one" else None, est) as est:
                                start = time.perf_counter()
                                est.fit(X, y)
                            times.setdefault((load, threads), []).append(
                                time.perf_counter() - start)
            med = {k: float(np.median(v)) for k, v in times.items()}
            rows.append({"family": family, "rows": n, "cells": n * X.shape[1],
                         "idle_one_s": round(med[False, "one"], 3),
                         "idle_default_s": round(med[False, "default"], 3),
                         "busy_one_s": round(med[True, "one"], 3),
                         "busy_default_s": round(med[True, "default"], 3),
                         "idle_default_over_one": round(med[False, "default"]
                                                        / med[False, "one"], 2),
                         "busy_default_over_one": round(med[True, "default"]
                                                        / med[True, "one"], 2)})
            print(rows[-1], flush=True)
    out = publish(rows, "contention_sizes", "One thread vs every core, idle and busy")
    total = out.groupby("cells")[["idle_one_s", "idle_default_s"]].sum()
    gains = total.index[total["idle_default_s"] <= 0.9 * total["idle_one_s"]]
    print(total.assign(ratio=total["idle_default_s"] / total["idle_one_s"]).to_string())
    print(f"rule: one thread below {gains.min() if len(gains) else 'every measured size'} "
          "cells (the smallest size where all families together are >= 10 % faster idle on "
          "every core)")
    return out


def cv() -> pd.DataFrame:
    import foldstack as fs
    from bench._data import split
    from foldstack.utils import _parallel

    s = split("penguins")
    shipped = _parallel.SMALL_FIT_CELLS
    times: dict[tuple[str, bool], list[float]] = {}
    for _ in range(REPEATS):
        for rule in ("with the rule", "without"):
            # 0 turns the rule off: every fit takes the libraries' default threads
            _parallel.SMALL_FIT_CELLS = shipped if rule == "with the rule" else 0
            for load in (False, True):
                with busy(load):
                    start = time.perf_counter()
                    fs.selection.cross_validate_candidates(
                        fs.models.default_candidates(s.task), s.X_train, s.y_train, cv=5,
                        verbose=0)
                    times.setdefault((rule, load), []).append(time.perf_counter() - start)
                print(rule, "busy" if load else "idle", f"{times[rule, load][-1]:.1f} s",
                      flush=True)
    _parallel.SMALL_FIT_CELLS = shipped
    rows = []
    for rule in ("without", "with the rule"):
        idle, loaded = np.median(times[rule, False]), np.median(times[rule, True])
        rows.append({"threads": rule, "cores": os.cpu_count(), "idle_s": round(idle, 1),
                     "busy_s": round(loaded, 1), "busy_over_idle": round(loaded / idle, 2),
                     "runs": REPEATS})
    return publish(rows, "contention_cv",
                   "5-fold CV of the default candidates on penguins, idle and one core busy")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("sizes", "cv", "both"), default="both")
    args = parser.parse_args(argv)
    if args.part in ("sizes", "both"):
        sizes()
    if args.part in ("cv", "both"):
        cv()


if __name__ == "__main__":
    main()
