"""Seeds: one integer per task, derived from the user's ``random_state``.

Deriving seeds from ``(random_state, candidate name, fold)`` instead of drawing them in order
makes a task's result independent of which worker runs it and in which order, so ``n_jobs=1``
and ``n_jobs=2`` give the same report.
"""

from __future__ import annotations

import contextlib
import random
import sys
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np


def derive_seed(random_state: int | None, *keys: Any) -> int:
    """A 32-bit seed from ``random_state`` and any number of str/int keys (stable across runs).

    Examples
    --------
    >>> derive_seed(0, "xgboost", 3) == derive_seed(0, "xgboost", 3)
    True
    """
    entropy = [0 if random_state is None else int(random_state)]
    entropy += [zlib.crc32(str(k).encode()) for k in keys]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def set_random_states(estimator: Any, seed: int) -> Any:
    """Give every unset ``random_state`` parameter (None or a RandomState) a derived int seed.

    Integers the user set explicitly are kept.  Works on nested estimators (Pipelines), like
    scikit-learn's ensembles do for their members.
    """
    updates = {}
    for key, value in sorted(estimator.get_params(deep=True).items()):
        if key == "random_state" or key.endswith("__random_state"):
            if value is None or isinstance(value, np.random.RandomState):
                updates[key] = derive_seed(seed, key)
    if updates:
        estimator.set_params(**updates)
    return estimator


@contextlib.contextmanager
def seeded_globals(seed: int) -> Iterator[None]:
    """Seed Python's, NumPy's and (if loaded) torch's global RNGs, restoring them afterwards.

    Code that draws from global RNGs (e.g. a user's torch module initialised without a
    generator) becomes reproducible per task, and the caller's RNG state is left as it was.
    """
    py_state, np_state = random.getstate(), np.random.get_state()  # noqa: NPY002 (the global RNG is the point)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002
    torch = sys.modules.get("torch")
    try:
        if torch is not None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                yield
        else:
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002
