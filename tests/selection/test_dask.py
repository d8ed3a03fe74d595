"""The same tasks on a real dask.distributed LocalCluster (127.0.0.1) through joblib."""

import os
import signal
import subprocess
import sys
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
from foldstack.selection._cache import TaskCache
from tests.helpers import TracedClassifier, read_trace, rows_digest

distributed = pytest.importorskip("distributed")
ROOT = Path(__file__).resolve().parents[2]
TIMING = ["mean_fit_time", "mean_score_time"]


@pytest.fixture(scope="module")
def cluster():
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT)  # workers import tests.helpers
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  memory_limit="2GiB",
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


def test_killed_dask_worker_costs_exactly_its_running_tasks(cluster, small_numeric_binary,
                                                            tmp_path):
    """Which worker ran which task, and what killing one costs: exactly the tasks it was
    running (they run again elsewhere); every task whose record reached the client is kept.

    Once a few fits have run, the first worker's next fit never ends (it is "running" for
    good); the test waits until every fit that worker finished has reached the client (its
    record is in the cache, which only the client writes), then kills it.
    """
    _, client = cluster
    client.wait_for_workers(2, timeout=60)
    X, y = small_numeric_binary
    log, doom, cache_dir = tmp_path / "fits.log", tmp_path / "doomed.pid", tmp_path / "c"
    c_of = {f"m{i}": 10.0 ** (i - 1) for i in range(3)}
    name_of = {c: n for n, c in c_of.items()}
    cands = {n: TracedClassifier(log_path=str(log), block_pid_path=str(doom), sleep=0.3, C=c)
             for n, c in c_of.items()}
    reference = fs.selection.cross_validate_candidates(
        {n: TracedClassifier(C=c) for n, c in c_of.items()}, X, y, cv=5, verbose=0)
    fold_of = {rows_digest(X[tr]): i for i, (tr, _) in enumerate(reference.splits)}
    workers = client.run(os.getpid)                    # address -> pid
    victim = workers[sorted(workers)[0]]
    cache = TaskCache(cache_dir, candidates=list(cands.values()))

    def task(c, digest):
        return name_of[c], fold_of[digest]

    def received():
        found = (cache.get(p.name) for p in (cache_dir / "tasks").glob("*/*"))
        return {(r.candidate, r.fold) for r in found if r is not None}

    def kill_the_victim():
        deadline = time.time() + 120   # a guard against a hung test, not a measurement
        while len(read_trace(log)) < 3 and time.time() < deadline:
            time.sleep(0.02)
        doom.write_text(str(victim))
        while time.time() < deadline:
            trace = read_trace(log)
            blocked = any(e == "block" and pid == victim for e, pid, _, _ in trace)
            ended = {task(c, d) for e, pid, c, d in trace if e == "end" and pid == victim}
            if blocked and ended <= received():
                break
            time.sleep(0.02)
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    killed = []
    killer = threading.Thread(target=kill_the_victim)
    killer.start()
    try:
        with joblib.parallel_config(backend="dask"):
            report = fs.selection.cross_validate_candidates(cands, X, y, cv=5, verbose=0,
                                                            cache_dir=cache_dir)
    finally:
        killer.join()
    assert killed == [victim]
    trace = read_trace(log)
    after = client.run(os.getpid)                      # the killed worker's replacement too
    ran_on = {}
    for event, pid, c, d in trace:
        assert pid in set(workers.values()) | set(after.values()), "a fit ran off the cluster"
        if event == "start":
            ran_on.setdefault(task(c, d), []).append(pid)
    running = {task(c, d) for e, pid, c, d in trace if e == "block"}
    assert running and all(pid == victim for e, pid, _, _ in trace if e == "block")
    assert len(ran_on) == 15
    # each task the victim was running ran exactly twice, the second time on another worker;
    # every other task exactly once
    assert {t for t, pids in ran_on.items() if len(pids) > 1} == running
    for t in running:
        assert len(ran_on[t]) == 2 and ran_on[t][0] == victim and ran_on[t][1] != victim
    assert sum(len(p) for p in ran_on.values()) == 15 + len(running)
    pd.testing.assert_frame_equal(reference.leaderboard().drop(columns=TIMING),
                                  report.leaderboard().drop(columns=TIMING))
    for n in cands:
        np.testing.assert_array_equal(reference.oof[n], report.oof[n])


def test_cli_sends_its_folds_to_the_scheduler(cluster, tmp_path):
    """`foldstack cv --backend dask --scheduler ADDR` end to end: the fold tasks run on the
    cluster's workers (the scheduler's task stream says which), the client writes the run
    directory, and the leaderboard is the local run's."""
    cl, client = cluster
    client.wait_for_workers(2, timeout=60)
    rng = np.random.RandomState(0)
    df = pd.DataFrame(rng.normal(size=(240, 3)), columns=["a", "b", "c"])
    df["t"] = np.where(df["a"] + 0.5 * rng.normal(size=240) > 0, "yes", "no")
    df.to_csv(tmp_path / "d.csv", index=False)
    exe = Path(sys.executable).with_name("foldstack")
    base = [str(exe), "cv", "d.csv", "--target", "t", "--models", "linear,random_forest",
            "--cv", "4", "--ensemble", "equal", "-q"]
    local = subprocess.run([*base, "--out", "local"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=600)
    assert local.returncode == 0, local.stderr
    client.get_task_stream()   # starts the scheduler's record of the tasks that follow
    since = time.time()
    remote = subprocess.run([*base, "--out", "remote", "--backend", "dask", "--scheduler",
                             cl.scheduler_address], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600)
    assert remote.returncode == 0, remote.stderr
    workers = set(client.scheduler_info()["workers"])
    ran = [t["worker"] for t in client.get_task_stream(start=since)]
    assert len(ran) >= 8 and set(ran) <= workers    # 2 candidates x 4 folds, on the workers
    drop = ["mean_fit_time", "mean_score_time"]
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "local" / "leaderboard.csv", index_col=0).drop(columns=drop),
        pd.read_csv(tmp_path / "remote" / "leaderboard.csv", index_col=0).drop(columns=drop))
    assert (tmp_path / "remote" / "model" / "manifest.json").is_file()
