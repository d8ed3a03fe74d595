"""joblib helpers: how many workers, threads per task, dask data broadcast, and Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
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


# A fit on fewer cells (training rows x columns) than this runs on one thread when nothing
# else sets its threads: it gains little from more, and on a busy machine an OpenMP pool
# whose threads wait for a core makes every step wait (bench/contention.py, "sizes").
SMALL_FIT_CELLS = 3_000


def fit_threads(n_threads: int | None, n_rows: int, n_columns: int) -> int | None:
    """Threads of one fit: ``n_threads`` when set (a share of the cores), else one for a
    small fit (see :data:`SMALL_FIT_CELLS`), else None (the libraries' defaults).

    >>> fit_threads(None, 200, 8), fit_threads(None, 50_000, 8), fit_threads(4, 200, 8)
    (1, None, 4)
    """
    if n_threads is not None:
        return n_threads
    return 1 if n_rows * max(1, n_columns) < SMALL_FIT_CELLS else None


def _threaded(owner: Any) -> bool:
    """Estimators whose ``n_jobs`` starts threads (others, e.g. LogisticRegression since
    scikit-learn 1.8, ignore it and warn)."""
    name, module = type(owner).__name__, type(owner).__module__
    return (module.split(".")[0] in ("xgboost", "lightgbm", "catboost")
            or any(part in name for part in ("Forest", "Trees", "Neighbors", "XGB", "LGBM",
                                               "CatBoost")))


def _uses_torch(estimator: Any) -> bool:
    objects = [estimator, *estimator.get_params(deep=True).values()]
    return any(type(o).__module__.split(".")[0] in ("torch", "skorch")
               or type(o).__module__.startswith("foldstack.models") for o in objects)


@contextlib.contextmanager
def limited_threads(n_threads: int | None, estimator: Any) -> Iterator[Any]:
    """Limit BLAS/OpenMP/torch threads and the estimator's own ``n_jobs`` for one task.

    Yields the estimator with every unset ``n_jobs`` parameter (xgboost, random forests,
    logistic regression) set to ``n_threads``.  In a worker process it also leaves Ctrl-C to
    the parent (:func:`ignore_interrupts_in_worker`), and it is a safe point where a Ctrl-C
    held back earlier is raised.
    """
    ignore_interrupts_in_worker()
    check_interrupt()
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


# Ctrl-C.  A KeyboardInterrupt raised while C code is calling back into Python (xgboost's data
# iterator, a finalizer) is printed and lost, and xgboost then fails with an unrelated error or
# crashes.  So around such code SIGINT only sets a flag, and the KeyboardInterrupt is raised
# once the code is left.  Signal handlers run in the main thread, so this state is only ever
# touched there.
class _Interrupts:
    requested = False   # a SIGINT arrived since reset_interrupts() (sticky)
    pending = False     # ... and no KeyboardInterrupt was raised for it yet
    depth = 0           # nesting of defer_interrupts() blocks
    record_only = False  # never raise (the command line is exiting)
    count = 0           # SIGINTs seen by foldstack's handler in this process


def _on_sigint(signum: int, frame: Any) -> None:
    _Interrupts.requested = True
    _Interrupts.count += 1
    if _Interrupts.depth or _Interrupts.record_only or _in_finalizer(frame):
        _Interrupts.pending = True
        return
    _Interrupts.pending = False
    raise KeyboardInterrupt


def _in_finalizer(frame: Any) -> bool:
    # an exception raised in __del__ is printed ("Exception ignored in") and dropped
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def install_interrupt_handler(*, record_only: bool = False) -> Any:
    """Handle SIGINT with foldstack's handler; returns the previous handler.

    Parameters
    ----------
    record_only : bool, default=False
        Only record a Ctrl-C (:func:`interrupt_requested`), never raise.

    Returns
    -------
    handler
        What ``signal.getsignal(SIGINT)`` returned before, or None when nothing was changed:
        outside the main thread (where Python cannot set signal handlers), or when SIGINT is
        ignored (a background job of a shell, ``nohup``), which stays so.
    """
    _Interrupts.record_only = record_only
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is signal.SIG_IGN):
        return None
    return signal.signal(signal.SIGINT, _on_sigint)


def reset_interrupts() -> None:
    """Forget earlier Ctrl-Cs (at the start of a command)."""
    _Interrupts.requested = _Interrupts.pending = _Interrupts.record_only = False


def interrupt_requested() -> bool:
    """Whether a Ctrl-C arrived since :func:`reset_interrupts`, even one a library swallowed."""
    return _Interrupts.requested


def interrupt_count() -> int:
    """SIGINTs seen by foldstack's handler so far: an error raised while this number changed
    was caused by a Ctrl-C (a library turned the KeyboardInterrupt into it)."""
    return _Interrupts.count


def interrupt_pending() -> bool:
    """Whether a Ctrl-C is held back (work in a deferred block should stop soon)."""
    return _Interrupts.pending


def check_interrupt() -> None:
    """Raise the KeyboardInterrupt of a Ctrl-C that was held back, if any (a safe point)."""
    if _Interrupts.pending and not _Interrupts.record_only:
        _Interrupts.pending = False
        raise KeyboardInterrupt


@contextlib.contextmanager
def defer_interrupts() -> Iterator[None]:
    """Hold a Ctrl-C back while the block runs and raise it as KeyboardInterrupt at its end.

    For code that a KeyboardInterrupt must not tear apart: C code calling back into Python
    (xgboost), or writing a set of files that belong together.  If the block raises while a
    Ctrl-C is held back, the KeyboardInterrupt replaces that error: it was probably its cause.
    Outside the main thread, and in a process whose SIGINT handler is not Python's default or
    foldstack's (e.g. ignored in a worker), the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    current = signal.getsignal(signal.SIGINT)
    if current is not signal.default_int_handler and current is not _on_sigint:
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_sigint) if current is not _on_sigint else None
    _Interrupts.depth += 1
    try:
        yield
    finally:
        _Interrupts.depth -= 1
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if _Interrupts.depth == 0:
            check_interrupt()


def ignore_interrupts_in_worker() -> None:
    """In a joblib worker process, leave Ctrl-C to the parent, which stops the pool.

    A terminal sends SIGINT to every process of the foreground group.  A worker interrupted
    inside a fit would report a spurious failure (or crash inside xgboost); the parent's
    KeyboardInterrupt makes joblib terminate the workers anyway.
    """
    import multiprocessing

    if (multiprocessing.parent_process() is not None
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
