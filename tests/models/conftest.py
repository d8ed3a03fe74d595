"""Tiny seeded data shared by the model tests (module-scoped; never mutate it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny networks gain nothing from threads, and spinning OpenMP pools collapse on a busy
    machine (PEERS.md); the tests run single-threaded and restore the setting afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny() -> dict:
    """Parameters of a small, fast network: the tests check behaviour, not accuracy.

    One network (``n_seeds=1``): the tests that are about seed bagging say so.
    """
    return dict(width=16, depth=1, max_epochs=8, lr=1e-2, batch_size=32, early_stopping=True,
                n_seeds=1, random_state=0)


def _mixed(n: int = 160, seed: int = 0) -> pd.DataFrame:
    rng = np.random.RandomState(seed)
    num = rng.normal(size=n)
    num_nan = np.where(rng.rand(n) < 0.2, np.nan, rng.normal(size=n))
    cat = rng.choice(["a", "b", "c"], n).astype(object)
    cat[rng.rand(n) < 0.1] = np.nan
    high = np.array([f"level{i}" for i in rng.randint(0, 40, n)], dtype=object)
    return pd.DataFrame({"num": num, "num_nan": num_nan, "count": rng.randint(0, 5, n),
                         "cat": cat, "flag": rng.rand(n) < 0.5, "high": high})


@pytest.fixture(scope="module")
def mixed_frame() -> pd.DataFrame:
    """Numeric (with NaN), int, object (with NaN), bool and a 40-level object column."""
    return _mixed()


@pytest.fixture(scope="module")
def binary_target(mixed_frame) -> np.ndarray:
    X = mixed_frame
    signal = X["num"] + (X["cat"] == "a") - 0.5 * X["flag"]
    return np.where(signal > 0, "yes", "no")


@pytest.fixture(scope="module")
def regression_target(mixed_frame) -> np.ndarray:
    X = mixed_frame
    return (3 * X["num"] + 2 * (X["cat"] == "b") + X["count"]).to_numpy(float)


@pytest.fixture(scope="module")
def multiclass_target(mixed_frame) -> np.ndarray:
    return np.array(["low", "mid", "high"])[np.digitize(mixed_frame["num"], [-0.5, 0.5])]
