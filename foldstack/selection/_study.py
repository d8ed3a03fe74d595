"""Optuna plumbing for :func:`~foldstack.selection.tune`: storages, studies, samplers, logs.

Optuna is imported inside these functions, so ``import foldstack.selection`` does not import
it.  Nothing here changes Optuna's global state for longer than a call to ``tune``.
"""

from __future__ import annotations

import collections
import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldstack.exceptions import CandidateFailedError, InvalidParameterError
from foldstack.utils._validation import check_option

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
STORAGE_FILE = "tune.sqlite3"
SQLITE_TIMEOUT = 30  # seconds a process waits for another's write lock on a shared file
# errors of two processes creating one storage's tables at the same time: retried
_CREATION_RACES = ("already exists", "UNIQUE constraint failed", "database is locked")


def require_optuna():
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - optuna is a dependency
        raise ImportError("foldstack.selection.tune needs Optuna: pip install optuna") from exc
    return optuna


@contextlib.contextmanager
def optuna_logging(verbose: int) -> Iterator[None]:
    """Optuna's own log only at ``verbose >= 2``; its level is restored afterwards."""
    optuna = require_optuna()
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose >= 2 else optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def open_storage(storage: Any, cache_dir: Any) -> Any:
    """An optuna storage from ``tune``'s ``storage`` and ``cache_dir`` arguments."""
    optuna = require_optuna()
    if storage is None:
        if cache_dir is None:
            return optuna.storages.InMemoryStorage()
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        storage = Path(cache_dir) / STORAGE_FILE
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if isinstance(storage, os.PathLike) or (isinstance(storage, str) and "://" not in storage):
        storage = f"sqlite:///{Path(storage).resolve()}"
    if not isinstance(storage, str):
        raise InvalidParameterError(
            "tune: `storage` must be None, an RDB URL such as 'sqlite:///study.db', a path to "
            f"an SQLite file or an optuna storage; got {type(storage).__name__}.")
    engine_kwargs = ({"connect_args": {"timeout": SQLITE_TIMEOUT}}
                     if storage.startswith("sqlite") else {})
    error: Exception | None = None
    for attempt in range(6):
        try:
            return optuna.storages.RDBStorage(storage, engine_kwargs=engine_kwargs)
        except Exception as exc:  # sqlalchemy/driver errors: name the URL and the fix
            error = exc
            if not any(m in str(exc) for m in _CREATION_RACES):
                break
            if attempt == 4 and _discard_torn_sqlite(storage):
                continue  # a process killed while creating the tables left them half made
            # another process is creating the same tables at this moment: theirs will do
            time.sleep(0.2 * (attempt + 1))
    reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
    raise InvalidParameterError(
        f"tune: cannot open storage {storage!r} ({type(error).__name__}: {reason}). Give an "
        "SQLite URL whose directory exists ('sqlite:///path/to/study.db'), a reachable "
        "database server URL with its driver installed, or storage=None for memory."
    ) from error


def _discard_torn_sqlite(url: str) -> bool:
    """Remove a local SQLite storage whose schema creation was cut off (SIGKILL).

    Only a file that holds no study is removed: schema creation comes before any study, so
    such a file has nothing to lose.  Returns whether it was removed.
    """
    import sqlite3

    if not url.startswith("sqlite:///"):
        return False
    path = Path(url[len("sqlite:///"):])
    if not path.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_TIMEOUT)) as con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            if "studies" in tables and con.execute("SELECT count(*) FROM studies").fetchone()[0]:
                return False
    except sqlite3.Error:
        return False
    path.unlink()
    return True


def study_names(storage: Any) -> set[str]:
    return {s.study_name for s in storage.get_all_studies()}


def create_study(storage: Any, name: str, direction: str, setup: dict, pruner: Any) -> Any:
    """Create or load study ``name``; refuse one made for another ``setup``.

    ``setup`` (the metric, the search space and a fingerprint of the estimator, data, folds
    and seeds) is stored with the study: trials scored on other folds or another space must
    not be mixed with this call's.
    """
    optuna = require_optuna()
    study = optuna.create_study(storage=storage, study_name=name, direction=direction,
                                sampler=optuna.samplers.RandomSampler(seed=0), pruner=pruner,
                                load_if_exists=True)
    stored = study.user_attrs.get("foldstack")
    if stored is None:
        study.set_user_attr("foldstack", setup)
    elif stored != setup:
        what = ("search space" if stored.get("space") != setup["space"] else
                "metric" if stored.get("metric") != setup["metric"] else
                "estimator, data, folds or seeds")
        raise InvalidParameterError(
            f"tune: study {name!r} in this storage was run with another {what}; its trials "
            "are not comparable with this call's. Pass another study_name (or "
            "study_name=None), or the original arguments to resume it.")
    return study


def finished_states() -> tuple:
    from optuna.trial import TrialState

    return TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL


def n_finished(study: Any) -> int:
    return len(study.get_trials(deepcopy=False, states=finished_states()))


def make_sampler(spec: Any, *, seed: int, n_trials: int | None, reseed: bool,
                 grid: Callable[[], dict]) -> Any:
    """The sampler named by ``spec`` (seeded), or a copy of a sampler object."""
    optuna = require_optuna()
    if not isinstance(spec, str):
        if reseed:  # copies in worker processes must not draw the same values
            import copy

            spec = copy.deepcopy(spec)
            spec.reseed_rng()
        return spec
    if spec == "tpe":
        # random startup trials: Optuna's 10, fewer for a small budget
        startup = 10 if n_trials is None else min(10, max(5, n_trials // 3))
        return optuna.samplers.TPESampler(n_startup_trials=startup, multivariate=True,
                                          seed=seed)
    if spec == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.GridSampler(grid(), seed=seed)


def make_pruner(spec: Any, n_folds: int) -> Any:
    """The pruner named by ``spec``; the folds are its steps."""
    optuna = require_optuna()
    if not isinstance(spec, str):
        return spec
    if spec == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    if spec == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=n_folds)
    return optuna.pruners.NopPruner()


def check_strategy(what: str, value: Any, names: tuple[str, ...], base: type) -> Any:
    if isinstance(value, base):
        return value
    if isinstance(value, str):
        return check_option("tune", what, value, names)
    raise InvalidParameterError(
        f"tune: `{what}` must be one of {', '.join(repr(n) for n in names)} or an optuna "
        f"{base.__name__}; got {value!r}.")


def mean(values: list[float]) -> float:
    """Mean of the finite values (NaN when there is none), without a warning."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else float("nan")


def best_trial(study: Any, name: str) -> Any:
    """The best complete trial; when none completed, an error with the most common failure."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    if any(t.state == TrialState.COMPLETE for t in trials):
        return study.best_trial
    errors = [t.user_attrs.get("error", "unknown error") for t in trials
              if t.state == TrialState.FAIL]
    n_pruned = sum(t.state == TrialState.PRUNED for t in trials)
    if not errors:
        raise CandidateFailedError(
            f"tune: no trial of study {name!r} completed ({len(trials)} trials, {n_pruned} "
            "pruned); raise n_trials or timeout.")
    message, count = collections.Counter(errors).most_common(1)[0]
    raise CandidateFailedError(
        f"tune: all {len(trials)} trials of study {name!r} failed or were pruned "
        f"({len(errors)} failed). The most common error ({count} of {len(errors)}): "
        f"{message}. Check that the estimator fits with its default parameters, then narrow "
        "the space.")


def trials_frame(study: Any, decode: Callable[[dict], dict], metric: str, n_folds: int,
                 greater_is_better: bool) -> pd.DataFrame:
    """One row per trial, in scikit-learn's ``cv_results_`` column grammar."""
    m = metric
    rows = []
    for t in study.get_trials(deepcopy=False):
        test = [np.nan if v is None else v for v in t.user_attrs.get("test", [])]
        train = [np.nan if v is None else v for v in t.user_attrs.get("train", [])]
        state = {"FAIL": "failed"}.get(t.state.name, t.state.name.lower())
        finite = np.asarray(test, float)[np.isfinite(np.asarray(test, float))]
        row = {"number": t.number, "state": state,
               f"mean_test_{m}": t.value if t.value is not None else mean(test),
               f"std_test_{m}": float(finite.std()) if finite.size else np.nan,
               f"mean_train_{m}": mean(train), "n_folds": len(test)}
        row.update({f"split{i}_test_{m}": test[i] if i < len(test) else np.nan
                    for i in range(n_folds)})
        row.update({f"param_{n}": v for n, v in decode(t.params).items()})
        row["duration"] = t.duration.total_seconds() if t.duration is not None else np.nan
        row["worker"] = t.user_attrs.get("worker")
        row["error"] = t.user_attrs.get("error")
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    score = frame[f"mean_test_{m}"].where(frame["state"] == "complete")
    frame.insert(4, f"rank_test_{m}",
                 score.rank(ascending=not greater_is_better, method="min").astype("Int64"))
    return frame.sort_values("number", kind="stable").reset_index(drop=True)
