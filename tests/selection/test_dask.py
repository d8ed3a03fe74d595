"""The same tasks on a real dask.distributed LocalCluster (127.0.0.1) through joblib."""

import os
import signal
import threading
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import foldstack as fs
from tests.helpers import CountingClassifier, count_fits

distributed = pytest.importorskip("distributed")
ROOT = Path(__file__).resolve().parents[2]
TIMING = ["mean_fit_time", "mean_score_time"]


@pytest.fixture(scope="module")
def cluster():
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT)  # workers import tests.helpers
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  silence_logs=40) as cl, distributed.Client(cl) as client:
        yield cl, client
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


def test_dask_backend_gives_the_local_leaderboard(cluster, small_binary):
    X, y = small_binary
    X = X[["a", "b"]]
    cands = {"lr": LogisticRegression(), "tree": DecisionTreeClassifier(max_depth=3)}
    local = fs.selection.cross_validate_candidates(cands, X, y, cv=4, verbose=0)
    with joblib.parallel_config(backend="dask"):
        remote = fs.selection.cross_validate_candidates(cands, X, y, cv=4, verbose=0)
    pd.testing.assert_frame_equal(local.leaderboard().drop(columns=TIMING),
                                  remote.leaderboard().drop(columns=TIMING))
    for n in cands:
        np.testing.assert_array_equal(local.oof[n], remote.oof[n])


def test_killed_dask_worker_costs_only_its_tasks(cluster, small_numeric_binary, tmp_path):
    _, client = cluster
    X, y = small_numeric_binary
    log = tmp_path / "fits.log"
    cands = {f"m{i}": CountingClassifier(log_path=str(log), sleep=0.3, C=10.0 ** (i - 1))
             for i in range(3)}
    reference = fs.selection.cross_validate_candidates(
        {n: CountingClassifier(C=e.C) for n, e in cands.items()}, X, y, cv=5, verbose=0)

    def kill_one_worker_when_busy():
        deadline = time.time() + 60
        while count_fits(log) < 3 and time.time() < deadline:
            time.sleep(0.05)
        worker = sorted(client.scheduler_info()["workers"])[0]
        pid = client.run(os.getpid, workers=[worker])[worker]
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killed = []
    killer = threading.Thread(target=kill_one_worker_when_busy)
    killer.start()
    try:
        with joblib.parallel_config(backend="dask"):
            report = fs.selection.cross_validate_candidates(cands, X, y, cv=5, verbose=0,
                                                            cache_dir=tmp_path / "c")
    except Exception:  # the run may fail; then a rerun must finish it from the cache
        killer.join()
        client.wait_for_workers(2, timeout=60)
        with joblib.parallel_config(backend="dask"):
            report = fs.selection.cross_validate_candidates(cands, X, y, cv=5, verbose=0,
                                                            cache_dir=tmp_path / "c")
    killer.join()
    assert killed, "the worker was not killed"
    assert count_fits(log) >= 15
    pd.testing.assert_frame_equal(reference.leaderboard().drop(columns=TIMING),
                                  report.leaderboard().drop(columns=TIMING))
    for n in cands:
        np.testing.assert_array_equal(reference.oof[n], report.oof[n])
