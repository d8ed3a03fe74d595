"""The on-disk cache: reruns fit nothing, additions fit only what is new, SIGKILL loses nothing."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import foldstack as fs
from tests.helpers import CountingClassifier, count_fits

ROOT = Path(__file__).resolve().parents[2]


def test_identical_rerun_fits_nothing_and_new_candidate_fits_only_itself(
        small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    log = tmp_path / "fits.log"
    cands = {"a": CountingClassifier(log_path=str(log)),
             "b": CountingClassifier(log_path=str(log), C=0.1)}
    first = fs.selection.cross_validate_candidates(cands, X, y, cv=4, cache_dir=tmp_path / "c",
                                                   verbose=0)
    assert count_fits(log) == 8
    second = fs.selection.cross_validate_candidates(cands, X, y, cv=4,
                                                    cache_dir=tmp_path / "c", verbose=0)
    assert count_fits(log) == 8  # nothing refitted
    pd.testing.assert_frame_equal(first.leaderboard(), second.leaderboard())
    cands["c"] = CountingClassifier(log_path=str(log), C=10.0)
    third = fs.selection.cross_validate_candidates(cands, X, y, cv=4, cache_dir=tmp_path / "c",
                                                   verbose=0)
    assert count_fits(log) == 12  # only the new candidate's 4 folds
    assert set(third.names) == {"a", "b", "c"}
    np.testing.assert_array_equal(third.oof["a"], first.oof["a"])


def test_cache_key_changes_with_data_params_folds_and_metrics(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    log = tmp_path / "fits.log"
    cache = tmp_path / "c"

    def run(est, X=X, cv=3, scoring=None, seed=0):
        fs.selection.cross_validate_candidates({"a": est}, X, y, cv=cv, scoring=scoring,
                                               cache_dir=cache, random_state=seed, verbose=0)
        return count_fits(log)

    est = CountingClassifier(log_path=str(log))
    assert run(est) == 3
    assert run(est) == 3
    assert run(CountingClassifier(log_path=str(log), C=2.0)) == 6      # parameters
    X2 = X.copy()
    X2[0, 0] += 1
    assert run(est, X=X2) == 9                                          # data
    assert run(est, cv=4) == 13                                         # folds
    assert run(est, seed=1) == 16                                       # shuffle seed
    assert run(est, scoring=["accuracy"]) == 19                         # metrics


def test_damaged_cache_entry_is_recomputed(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    log = tmp_path / "fits.log"
    est = {"a": CountingClassifier(log_path=str(log))}
    ref = fs.selection.cross_validate_candidates(est, X, y, cv=3, cache_dir=tmp_path, verbose=0)
    entry = next((tmp_path / "tasks").rglob("arrays.bin"))
    entry.write_bytes(b"too short")
    again = fs.selection.cross_validate_candidates(est, X, y, cv=3, cache_dir=tmp_path,
                                                   verbose=0)
    assert count_fits(log) == 4
    pd.testing.assert_frame_equal(ref.scores, again.scores)


SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import foldstack as fs
    from tests.helpers import CountingClassifier
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 4))
    y = (X[:, 0] + 0.3 * rng.normal(size=150) > 0).astype(int)
    cands = {f"m{i}": CountingClassifier(log_path=sys.argv[2], sleep=float(sys.argv[3]),
                                         C=10.0 ** (i - 2)) for i in range(4)}
    fs.selection.cross_validate_candidates(cands, X, y, cv=5, cache_dir=sys.argv[1], verbose=0)
""")


def _candidates_and_data(log):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 4))
    y = (X[:, 0] + 0.3 * rng.normal(size=150) > 0).astype(int)
    cands = {f"m{i}": CountingClassifier(log_path=str(log), sleep=0.4, C=10.0 ** (i - 2))
             for i in range(4)}
    return cands, X, y


def _entries(cache):
    """Finished entries; a directory still being written has a dot-name until renamed."""
    return [p for p in (cache / "tasks").rglob("manifest.json")
            if not p.parent.name.startswith(".")]


def test_sigkill_mid_run_then_rerun_equals_uninterrupted_run(tmp_path):
    cache, log = tmp_path / "cache", tmp_path / "fits.log"
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), str(cache), str(log), "0.4"],
                            env=env, cwd=ROOT)
    deadline = time.time() + 600  # generous: a loaded CI machine starts Python slowly
    while time.time() < deadline:  # wait until some, not all, tasks are stored
        try:   # an entry's temporary directory may be renamed while we walk the tree
            stored = _entries(cache) if cache.exists() else []
        except FileNotFoundError:
            stored = []
        if len(stored) >= 5:
            break
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = len(_entries(cache))
    assert 5 <= stored < 20, f"{stored} of 20 tasks were stored when the run was killed"
    fits_before = count_fits(log)

    cands, X, y = _candidates_and_data(log)
    resumed = fs.selection.cross_validate_candidates(cands, X, y, cv=5, cache_dir=cache,
                                                     verbose=0)
    assert count_fits(log) - fits_before == 20 - stored  # only the missing tasks ran
    cands, X, y = _candidates_and_data(tmp_path / "other.log")
    fresh = fs.selection.cross_validate_candidates(cands, X, y, cv=5, verbose=0)
    pd.testing.assert_frame_equal(resumed.leaderboard().drop(columns=["mean_fit_time",
                                                                      "mean_score_time"]),
                                  fresh.leaderboard().drop(columns=["mean_fit_time",
                                                                    "mean_score_time"]))
    for n in fresh.names:
        np.testing.assert_array_equal(resumed.oof[n], fresh.oof[n])


@pytest.mark.parametrize("n_jobs", [2])
def test_cache_with_parallel_workers(small_numeric_binary, tmp_path, n_jobs):
    X, y = small_numeric_binary
    log = tmp_path / "fits.log"
    cands = {"a": CountingClassifier(log_path=str(log)),
             "b": CountingClassifier(log_path=str(log), C=0.5)}
    fs.selection.cross_validate_candidates(cands, X, y, cv=3, cache_dir=tmp_path / "c",
                                           n_jobs=n_jobs, verbose=0)
    fs.selection.cross_validate_candidates(cands, X, y, cv=3, cache_dir=tmp_path / "c",
                                           n_jobs=n_jobs, verbose=0)
    assert count_fits(log) == 6
