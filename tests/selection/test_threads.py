"""Threads of a fold's fit: one for a small table, the libraries' own otherwise, a share of the
cores with parallel workers (bench/contention.py measured the rule)."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

import foldstack as fs
from foldstack.utils._parallel import SMALL_FIT_CELLS, fit_threads


def _table(rows, cols=10, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(rows, cols))
    return X, (X[:, 0] + 0.5 * rng.normal(size=rows) > 0).astype(int)


def _fold_n_jobs(X, y, **kwargs):
    report = fs.selection.cross_validate_candidates(
        {"rf": RandomForestClassifier(n_estimators=3, random_state=0)}, X, y, cv=2, verbose=0,
        **kwargs)
    return {m.n_jobs for m in report.results["rf"].fold_models}


def test_a_small_fit_runs_on_one_thread_a_large_one_on_the_librarys_default():
    assert _fold_n_jobs(*_table(100)) == {1}
    rows = 2 * SMALL_FIT_CELLS // 10 + 100        # each training fold above the threshold
    assert _fold_n_jobs(*_table(rows)) == {None}


def test_a_share_of_the_cores_set_by_parallel_workers_is_kept():
    assert fit_threads(3, 10, 2) == 3
    assert fit_threads(None, 10, 2) == 1
    assert fit_threads(None, SMALL_FIT_CELLS, 1) is None


@pytest.mark.parametrize("shape", [(10, 0), (0, 5)])
def test_an_empty_shape_counts_as_small(shape):
    assert fit_threads(None, *shape) == 1
