"""Optuna plumbing for :func:`~foldstack.selection.tune`: storages, studies, samplers, logs.

Optuna is imported inside these functions, so ``import foldstack.selection`` does not import
it.  Nothing here changes Optuna's global state for longer than a call to ``tune``.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldstack.exceptions import CandidateFailedError, InvalidParameterError, UnsafeModelError
from foldstack.selection.tuning._space import OutsideSpaceError, SearchSpace
from foldstack.utils._random import derive_seed
from foldstack.utils._validation import check_option

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
STORAGE_FILE = "tune.sqlite3"
SQLITE_TIMEOUT = 30  # seconds a process waits for another's write lock on a shared file
# errors of two processes creating one storage's tables at the same time: retried
_CREATION_RACES = ("already exists", "UNIQUE constraint failed", "database is locked")
# user attributes of trials: who runs it, and the interrupted-trial bookkeeping
WORKER, WORKER_TOKEN = "worker", "worker_token"
INTERRUPTED, RERUN_OF = "interrupted", "rerun_of"
# a trial names its worker within milliseconds of being created; one still unnamed after
# this many seconds belongs to a process that died in between
UNCLAIMED_AFTER = 600


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


# -- what a study hands back: only configurations its search space can draw ------------------

def storage_location(storage: Any) -> tuple[str, str]:
    """Where ``storage`` keeps its studies (password hidden) and how to get rid of one."""
    url = getattr(storage, "url", None)
    if not isinstance(url, str):
        return "this storage", "Use another storage or study_name."
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        return (repr(path), f"Delete {path!r} or use another --out (from Python: another "
                            "cache_dir, storage or study_name).")
    try:
        from sqlalchemy.engine import make_url

        shown = make_url(url).render_as_string(hide_password=True)
    except Exception:  # an URL sqlalchemy cannot parse was not opened either
        shown = "the storage"
    return (repr(shown), "Delete the study (optuna.delete_study) or use another storage or "
                         "study_name.")


def refuse_study(storage: Any, name: str, number: Any, problem: str) -> UnsafeModelError:
    """The error for a study holding a trial its search space could not have drawn."""
    where, fix = storage_location(storage)
    return UnsafeModelError(
        f"tune: refusing study {name!r} in {where}: its trial {number} {problem}. A study's "
        "configurations are set on the estimator and fitted, and some parameters make it "
        "load files (a Pipeline's `memory` unpickles its cache, which can run code), so "
        "only configurations of the search space are used; this study was changed after "
        f"the search wrote it. {fix}")


def stored_params(storage: Any, name: str, trial: Any, space: SearchSpace) -> dict[str, Any]:
    """``trial``'s estimator parameters, refused unless the space can draw them: every
    name of the space for a complete trial, some of them for one that stopped early."""
    from optuna.trial import TrialState

    try:
        return space.decode(trial.params, partial=trial.state != TrialState.COMPLETE)
    except OutsideSpaceError as exc:
        raise refuse_study(storage, name, trial.number, str(exc)) from None


def _fixed_params(trial: Any) -> Any:
    """The values an enqueued trial is to run with (``study.enqueue_trial``), or {}."""
    return trial.system_attrs.get("fixed_params") or {}


def check_study(study: Any, storage: Any, space: SearchSpace) -> None:
    """Refuse a study that holds a configuration ``space`` cannot draw, in any trial:
    stored values (``params``) and values waiting to run (``fixed_params``).

    A study lives in a file (``<cache>/tune.sqlite3``) that someone else may have written;
    its values are set on the estimator, so a name outside the space (``memory``) or a value
    outside a distribution must never get that far.
    """
    name = study.study_name
    for t in study.get_trials(deepcopy=False):
        stored_params(storage, name, t, space)
        fixed = _fixed_params(t)
        if not isinstance(fixed, dict):
            raise refuse_study(storage, name, t.number,
                               f"(waiting to run) has values that are not a table: {_short(fixed)}")
        try:
            space.decode(fixed, partial=True)
        except OutsideSpaceError as exc:
            raise refuse_study(storage, name, t.number,
                               f"(waiting to run) {exc}") from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def finished_states() -> tuple:
    from optuna.trial import TrialState

    return TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL


def n_finished(study: Any) -> int:
    """Finished trials that count towards ``n_trials``: not those failed by an interruption,
    whose configuration runs again as another trial."""
    return sum(not t.user_attrs.get(INTERRUPTED)
               for t in study.get_trials(deepcopy=False, states=finished_states()))


# -- workers and interrupted trials ---------------------------------------------------------

def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return None


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in ticks since boot) of process ``pid`` from /proc, else None."""
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    fields = stat.rpartition(")")[2].split()  # the command name may hold spaces
    return fields[0], fields[19]


def worker_token() -> str | None:
    """What tells this process from a later one given the same pid (Linux only, else None):
    boot id, pid namespace and start time."""
    boot, ns, stat = (_read("/proc/sys/kernel/random/boot_id"), _pid_namespace(),
                      _proc_stat(os.getpid()))
    return None if None in (boot, ns, stat) else f"{boot}|{ns}|{stat[1]}"


def _worker_gone(worker: str, token: str | None) -> bool:
    """Whether the process ``worker`` ("host:pid", started as ``token`` says) has ended.

    False when that cannot be known (another machine, another container's pids): a live
    worker's trial must never be failed.
    """
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or os.name == "nt":
        return False  # on Windows os.kill(pid, 0) would end the process
    start = None
    if token and token.count("|") == 2:
        boot, ns, start = token.split("|")
        now_boot = _read("/proc/sys/kernel/random/boot_id")
        if now_boot is not None and boot != now_boot:
            return True  # the machine restarted since
        if ns != _pid_namespace():
            return False  # its pid means another process here
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, under another user
        pass
    stat = _proc_stat(int(pid))
    # a zombie has ended; the same pid with another start time is a later process
    return stat is not None and (stat[0] in ("Z", "X") or (start is not None and stat[1] != start))


def _interruption(trial: Any, now: datetime.datetime, one_clock: bool) -> str | None:
    """Why the RUNNING ``trial`` can never finish, or None when it may still be running.

    ``one_clock``: every process sharing the storage reads this machine's clock, so a start
    time can be compared with ``now``.
    """
    worker = trial.user_attrs.get(WORKER)
    if worker is None:
        started = trial.datetime_start
        if (not one_clock or started is None
                or (now - started).total_seconds() < UNCLAIMED_AFTER):
            return None
        return (f"interrupted: the process that started it ended before it began (started "
                f"{started:%Y-%m-%d %H:%M:%S})")
    if not _worker_gone(str(worker), trial.user_attrs.get(WORKER_TOKEN)):
        return None
    return (f"interrupted: worker {worker} ended while the trial ran (killed or crashed); "
            "its configuration runs again as a new trial")


def recover_interrupted(study: Any, storage: Any, space: SearchSpace | None = None) -> list[int]:
    """Fail the RUNNING trials whose process has ended; enqueue their configurations again.

    A killed run leaves its current trial RUNNING forever.  Failing it (marked
    ``interrupted``, so it does not count towards ``n_trials``) and running its parameters
    as a new trial makes the resumed study hold the same finished configurations as an
    uninterrupted one.  Trials of workers that may be alive (on another machine, or in a
    live process on this one) are left alone.  Returns the numbers of the trials failed.

    With ``space``, a configuration to run again that ``space`` cannot draw is refused
    (:func:`refuse_study`) before it is enqueued.
    """
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    now = datetime.datetime.now()
    # start times are each process's local clock: comparable on one machine's SQLite file
    # or memory, not on a database server shared by machines (other clocks, time zones)
    url = getattr(storage, "url", None)  # None: in memory
    one_clock = url is None or str(url).startswith("sqlite")
    failed = []
    study_id = storage.get_study_id_from_name(study.study_name)
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        reason = _interruption(t, now, one_clock)
        if reason is None:
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
        try:  # another resuming process may fail it first
            storage.set_trial_user_attr(trial_id, "error", reason)
            storage.set_trial_user_attr(trial_id, INTERRUPTED, True)
            study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
        except UpdateFinishedTrialError:
            continue
        failed.append(t.number)
    # enqueued after failing, so that a process killed in between leaves nothing lost: the
    # next resume finds an interrupted trial without a rerun and enqueues it then
    trials = study.get_trials(deepcopy=False)
    rerun = {t.user_attrs.get(RERUN_OF) for t in trials}
    for t in trials:
        if t.state != TrialState.FAIL or not t.user_attrs.get(INTERRUPTED) or t.number in rerun:
            continue
        # an enqueued trial killed before its first suggestion holds its values only here
        fixed = _fixed_params(t)
        if not isinstance(fixed, dict):
            raise refuse_study(storage, study.study_name, t.number,
                               f"(to run again) has values that are not a table: {_short(fixed)}")
        params = {**fixed, **t.params}
        if params and space is not None:
            try:
                space.decode(params, partial=True)
            except OutsideSpaceError as exc:
                raise refuse_study(storage, study.study_name, t.number,
                                   f"(to run again) {exc}") from None
        if params:
            study.enqueue_trial(params, user_attrs={RERUN_OF: t.number}, skip_if_exists=False)
    return failed


class SeededSampler:
    """A named sampler whose draws depend on each trial's place in the study, not on history
    of the process: the same in an uninterrupted run and in one resumed after a kill.

    ``"tpe"`` and ``"random"`` are made afresh for each trial, seeded by its place (every
    earlier trial except interrupted ones), so trial *k* draws the same configuration from
    the same finished trials, and parallel workers never draw the same values.  ``"grid"``
    is one grid sampler with one seed for every run and worker: its trials index one shared
    shuffle of the grid.  It implements the methods Optuna calls on a study's sampler.
    """

    def __init__(self, spec: str, n_trials: int | None, random_state: int | None,
                 grid: Callable[[], dict]) -> None:
        self.spec, self.n_trials, self.random_state, self.grid = spec, n_trials, random_state, grid
        self._samplers: dict[int, Any] = {}
        self._grid: Any = None

    def _make(self, seed: int) -> Any:
        return make_sampler(self.spec, seed=seed, n_trials=self.n_trials, reseed=False,
                            grid=self.grid)

    def _sampler(self, study: Any, trial: Any) -> Any:
        if self.spec == "grid":
            if self._grid is None:
                self._grid = self._make(derive_seed(self.random_state, "sampler"))
            return self._grid
        sampler = self._samplers.get(trial.number)
        if sampler is None:
            from optuna.trial import TrialState

            skipped = sum(t.number < trial.number and bool(t.user_attrs.get(INTERRUPTED))
                          for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)))
            sampler = self._make(derive_seed(self.random_state, "sampler",
                                             trial.number - skipped))
            self._samplers[trial.number] = sampler
        return sampler

    def before_trial(self, study: Any, trial: Any) -> None:
        self._sampler(study, trial).before_trial(study, trial)

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict:
        return self._sampler(study, trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study: Any, trial: Any, search_space: dict) -> dict:
        return self._sampler(study, trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study: Any, trial: Any, param_name: str,
                           param_distribution: Any) -> Any:
        return self._sampler(study, trial).sample_independent(study, trial, param_name,
                                                              param_distribution)

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        if self.spec == "grid":
            grid = self._sampler(study, trial)
            if "grid_id" in trial.system_attrs:
                grid.after_trial(study, trial, state, values)
            elif grid.is_exhausted(study):  # an enqueued rerun has no grid id, which
                study.stop()  # GridSampler.after_trial would look up
            return
        sampler = self._samplers.pop(trial.number, None)
        if sampler is not None:
            sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        """Nothing to reseed: the seeds come from the trials' places in the study."""

    def __str__(self) -> str:
        return f"SeededSampler({self.spec!r})"


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
            "pruned); raise n_trials or time_limit.")
    message, count = collections.Counter(errors).most_common(1)[0]
    raise CandidateFailedError(
        f"tune: all {len(trials)} trials of study {name!r} failed or were pruned "
        f"({len(errors)} failed). The most common error ({count} of {len(errors)}): "
        f"{message}. Check that the estimator fits with its default parameters, then narrow "
        "the space.")


def trials_frame(study: Any, storage: Any, space: SearchSpace, metric: str, n_folds: int,
                 greater_is_better: bool) -> pd.DataFrame:
    """One row per trial, in scikit-learn's ``cv_results_`` column grammar (parameters
    checked against ``space``, see :func:`stored_params`)."""
    m = metric
    rows = []
    for t in study.get_trials(deepcopy=False):
        test = [np.nan if v is None else v for v in t.user_attrs.get("test", [])]
        train = [np.nan if v is None else v for v in t.user_attrs.get("train", [])]
        state = ("interrupted" if t.user_attrs.get(INTERRUPTED) else
                 {"FAIL": "failed"}.get(t.state.name, t.state.name.lower()))
        finite = np.asarray(test, float)[np.isfinite(np.asarray(test, float))]
        # a complete trial's value is its CV mean; Optuna gives a pruned one the value of its
        # largest step, which is a network's validation score when it reported epochs
        # (tune's prune_epochs): the mean of its fitted folds is what it scored (NaN if none)
        complete = t.value is not None and t.state.name == "COMPLETE"
        row = {"number": t.number, "state": state,
               f"mean_test_{m}": t.value if complete else mean(test),
               f"std_test_{m}": float(finite.std()) if finite.size else np.nan,
               f"mean_train_{m}": mean(train), "n_folds": len(test)}
        row.update({f"split{i}_test_{m}": test[i] if i < len(test) else np.nan
                    for i in range(n_folds)})
        row.update({f"param_{n}": v
                    for n, v in stored_params(storage, study.study_name, t, space).items()})
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
