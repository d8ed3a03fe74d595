"""Seconds per epoch of the default tabular network by table size and torch thread count.

    python -m bench.mlp_threads                   # 250 ... 64,000 rows x 20 columns
    python -m bench.mlp_threads --rows 500 5000 --epochs 10
    python -m bench.mlp_threads --busy 0          # idle machine only (default: 0 and 1)

A network on a small table runs many tiny matrix products per epoch; spreading each over
several threads costs more in synchronisation than it saves.  For each size this fits the
default ``TabularMLPClassifier`` (a fixed number of epochs, no early stopping) with torch's
pool set to 1 thread, to every core, and left to the estimator (``threads="auto"`` column:
what a user gets), one after the other in one process, and prints seconds per epoch and the
ratios: first on the machine as it is, then with ``--busy`` other processes each keeping one
core busy (a shared notebook server or CI machine).  Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

from bench._table import publish


def _epoch_seconds(X: np.ndarray, y: np.ndarray, epochs: int, threads: int | None) -> float:
    import torch

    import foldstack as fs

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        mlp = fs.models.TabularMLPClassifier(max_epochs=epochs, early_stopping=False, n_seeds=1,
                                             random_state=0)
        start = time.perf_counter()
        mlp.fit(X, y)
        return (time.perf_counter() - start) / epochs
    finally:
        torch.set_num_threads(before)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", type=int,
                        default=[250, 1000, 4000, 16000, 64000])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many fits")
    parser.add_argument("--busy", nargs="+", type=int, default=[0, 1],
                        help="numbers of busy processes to measure under")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    rows = []
    for busy in args.busy:
        spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                    for _ in range(busy)]
        try:
            rows += _measure(args, cores, busy)
        finally:
            for p in spinners:
                p.kill()
    publish(pd.DataFrame(rows), "mlp_threads",
            f"Default network, seconds per epoch by torch threads ({cores} cores)")


def _measure(args: argparse.Namespace, cores: int, busy: int) -> list[dict]:
    rows = []
    for n in args.rows:
        X, y = make_classification(n_samples=n, n_features=20, n_informative=10,
                                   random_state=0)
        X = X.astype(np.float32)
        timing = {}
        for label, threads in (("1", 1), (str(cores), cores), ("auto", None)):
            timing[label] = min(_epoch_seconds(X, y, args.epochs, threads)
                                for _ in range(args.repeats))
        rows.append({"busy_processes": busy, "rows": n, "s_per_epoch_1_thread": timing["1"],
                     f"s_per_epoch_{cores}_threads": timing[str(cores)],
                     "s_per_epoch_auto": timing["auto"],
                     f"ratio_{cores}_to_1": timing[str(cores)] / timing["1"],
                     "ratio_auto_to_best": timing["auto"] / min(timing["1"],
                                                                  timing[str(cores)])})
    return rows


if __name__ == "__main__":
    main()
