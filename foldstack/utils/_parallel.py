"""joblib helpers: how many workers, threads per task, and dask data broadcast."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import joblib
from joblib.parallel import get_active_backend
from threadpoolctl import threadpool_limits


def active_backend_name() -> str:
    backend, _ = get_active_backend()
    name = type(backend).__name__
    if "Dask" in name:
        return "dask"
    return {"LokyBackend": "loky", "MultiprocessingBackend": "multiprocessing",
            "ThreadingBackend": "threading", "SequentialBackend": "sequential"}.get(name, name)


def effective_n_jobs(n_jobs: int | None) -> int:
    """Workers joblib will really use (``None`` means 1 unless a joblib context says more)."""
    return max(1, joblib.effective_n_jobs(n_jobs))


def threads_per_task(n_jobs: int | None) -> int | None:
    """Threads each task may use so that parallel tasks never oversubscribe the cores.

    With one worker, None: the libraries' own defaults are fastest on an idle machine.  With
    several local workers, ``cores // workers`` (at least 1).  On dask the workers' own
    settings apply (None).
    """
    backend = active_backend_name()
    if backend == "dask":
        return None
    workers = effective_n_jobs(n_jobs)
    if workers <= 1:
        return None
    return max(1, (os.cpu_count() or 1) // workers)


def _threaded(owner: Any) -> bool:
    """Estimators whose ``n_jobs`` starts threads (others, e.g. LogisticRegression since
    scikit-learn 1.8, ignore it and warn)."""
    name, module = type(owner).__name__, type(owner).__module__
    return (module.split(".")[0] in ("xgboost", "lightgbm", "catboost")
            or "Forest" in name or "Trees" in name or "Neighbors" in name)


def _uses_torch(estimator: Any) -> bool:
    objects = [estimator, *estimator.get_params(deep=True).values()]
    return any(type(o).__module__.split(".")[0] in ("torch", "skorch")
               or type(o).__module__.startswith("foldstack.models") for o in objects)


@contextlib.contextmanager
def limited_threads(n_threads: int | None, estimator: Any) -> Iterator[Any]:
    """Limit BLAS/OpenMP/torch threads and the estimator's own ``n_jobs`` for one task.

    Yields the estimator with every unset ``n_jobs`` parameter (xgboost, random forests,
    logistic regression) set to ``n_threads``.
    """
    if n_threads is None:
        yield estimator
        return
    params = estimator.get_params(deep=True)
    updates = {k: n_threads for k, v in params.items()
               if (k == "n_jobs" or k.endswith("__n_jobs")) and v is None
               and _threaded(params.get(k[:-len("__n_jobs")]) if "__" in k else estimator)}
    if updates:
        estimator.set_params(**updates)
    torch = None
    if _uses_torch(estimator):
        import torch  # the fit would import it anyway; set its pool before it starts
    elif "torch" in sys.modules:
        torch = sys.modules["torch"]
    before = torch.get_num_threads() if torch is not None else None
    try:
        if torch is not None:
            torch.set_num_threads(n_threads)
        with threadpool_limits(limits=n_threads):
            yield estimator
    finally:
        if torch is not None:
            torch.set_num_threads(before)


@contextlib.contextmanager
def broadcast_data(*data: Any) -> Iterator[None]:
    """On a dask backend, broadcast ``data`` to every worker once.

    By default joblib ships large arguments to one dask worker; if that worker dies the call
    fails.  Broadcast (``scatter``) data is on every worker, so dask can retry a lost task
    elsewhere.  Tasks must receive these very objects (joblib matches them by ``id``).
    """
    if active_backend_name() != "dask":
        yield
        return
    with joblib.parallel_config(backend="dask", scatter=list(data)):
        yield
