"""tune: Optuna over the shared folds; the best configuration's record joins a report."""

import datetime
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

import foldstack as fs
from foldstack.exceptions import CandidateFailedError, InvalidParameterError
from foldstack.selection import tune
from foldstack.selection.tuning._study import open_storage
from tests.helpers import CountingClassifier, count_fits

ROOT = Path(__file__).resolve().parents[2]
C_SPACE = {"C": ("float", 1e-6, 1e2, "log")}


class TupleParamClassifier(ClassifierMixin, BaseEstimator):
    """A logistic regression whose C is the sum of a tuple parameter (as MLP widths are)."""

    def __init__(self, widths=(1,)):
        self.widths = widths

    def fit(self, X, y):
        self.model_ = LogisticRegression(C=float(sum(self.widths))).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def _pipeline():
    cols = make_column_transformer((StandardScaler(), ["a", "b"]),
                                   (OneHotEncoder(handle_unknown="ignore"), ["c"]))
    return make_pipeline(cols, LogisticRegression())


def test_pipeline_nested_names_and_record_equal_to_cross_validation(small_binary):
    X, y = small_binary
    space = {"logisticregression__C": ("float", 1e-3, 1e2, "log"),
             "columntransformer__onehotencoder__drop": ("categorical", [None, "first"])}
    result = tune(_pipeline(), space, X, y, cv=3, n_trials=8, verbose=0)
    assert set(result.best_params) == set(space)
    params = result.best_estimator.get_params()
    for name, value in result.best_params.items():
        assert params[name] == value
    assert not hasattr(result.best_estimator, "classes_")  # unfitted
    trials = result.trials
    assert len(trials) == 8 and set(trials["state"]) <= {"complete", "pruned"}
    for col in ("number", "state", "mean_test_roc_auc", "std_test_roc_auc", "rank_test_roc_auc",
                "mean_train_roc_auc", "n_folds", "split0_test_roc_auc", "split2_test_roc_auc",
                "param_logisticregression__C", "duration", "worker", "error"):
        assert col in trials.columns, col
    best_row = trials.loc[trials["rank_test_roc_auc"] == 1].iloc[0]
    assert best_row["mean_test_roc_auc"] == pytest.approx(result.best_score)
    # the record is exactly what cross_validate_candidates gives the best configuration
    cv = fs.selection.cross_validate_candidates({"tuned": result.best_estimator}, X, y,
                                                cv=result.report.splits, verbose=0)
    pd.testing.assert_frame_equal(result.cv_result.scores, cv.results["tuned"].scores)
    np.testing.assert_allclose(result.cv_result.oof, cv.oof["tuned"])
    assert len(result.cv_result.fold_models) == 3 and result.cv_result.status == "ok"
    assert result.cv_result.fold_scores()["roc_auc"].mean() == pytest.approx(result.best_score)


def test_tuned_candidate_joins_report_and_ensemble_without_refit(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    report = fs.selection.cross_validate_candidates(
        {"tree": DecisionTreeClassifier(max_depth=2), "lr": LogisticRegression()}, X, y, cv=4,
        verbose=0)
    log = tmp_path / "fits.log"
    result = tune(CountingClassifier(log_path=str(log)), C_SPACE, X, y, cv=report.splits,
                  n_trials=6, pruner=None, verbose=0)
    fits = count_fits(log)
    assert fits == 6 * 4
    joined = report.add(result.cv_result, name="lr_tuned")
    board = joined.leaderboard()
    assert "lr_tuned" in board.index and board.loc["lr_tuned", "status"] == "ok"
    assert board.loc["lr_tuned", "mean_test_roc_auc"] == pytest.approx(result.best_score)
    np.testing.assert_array_equal(joined.oof["lr_tuned"], result.cv_result.oof)
    assert joined.oof_matrix(["lr", "lr_tuned"]).shape == (len(y), 4)
    proba = joined.fold_average("lr_tuned").predict_proba(X[:5])
    assert proba.shape == (5, 2)
    ens = fs.ensemble.AveragingClassifier.from_report(joined, names=["tree", "lr_tuned"])
    assert ens.predict_proba(X[:5]).shape == (5, 2)
    np.testing.assert_allclose(  # the tuned member predicts with its own fold models
        ens.predict_proba(X[:5]),
        np.mean([joined.fold_average(n).predict_proba(X[:5]) for n in ("tree", "lr_tuned")],
                axis=0))
    assert count_fits(log) == fits  # nothing refitted by the report or the ensemble


def test_pruning_stops_bad_trials_after_few_folds(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    log = tmp_path / "fits.log"
    # C below ~1e-3 predicts ~0.5 everywhere: a log loss near 0.69 against ~0.3
    pruned = tune(CountingClassifier(log_path=str(log)), C_SPACE, X, y, cv=5,
                  scoring="log_loss", n_trials=24, sampler="random",
                  start_from_estimator=False, verbose=0)
    trials = pruned.trials
    assert count_fits(log) == trials["n_folds"].sum() == pruned.n_folds_fitted
    stopped = trials[trials["state"] == "pruned"]
    assert len(stopped) >= 5
    assert (stopped["n_folds"] < 5).all()
    assert (stopped["param_C"] < 0.05).mean() >= 0.7  # mostly the bad region gets pruned
    assert (stopped["mean_test_log_loss"] > pruned.best_score).all()
    assert pruned.n_folds_fitted <= 0.8 * 24 * 5
    full = tune(CountingClassifier(), C_SPACE, X, y, cv=5, scoring="log_loss", n_trials=24,
                sampler="random", pruner="none", start_from_estimator=False, verbose=0)
    assert full.n_folds_fitted == 24 * 5
    # the random sampler draws the same configurations; the best one was never pruned
    assert pruned.best_params == full.best_params
    assert pruned.best_score == pytest.approx(full.best_score)


def test_failed_trials_are_recorded_and_the_study_goes_on(small_numeric_binary):
    X, y = small_numeric_binary
    space = {"solver": ("categorical", ["lbfgs", "no-such-solver"]), **C_SPACE}
    result = tune(LogisticRegression(), space, X, y, cv=3, n_trials=10, sampler="random",
                  verbose=0)
    failed = result.trials[result.trials["state"] == "failed"]
    assert len(failed) >= 1 and (failed["param_solver"] == "no-such-solver").all()
    assert failed["error"].str.contains("solver").all()
    assert result.best_params["solver"] == "lbfgs"


def test_every_trial_failing_names_the_most_common_error(small_numeric_binary):
    X, y = small_numeric_binary
    with pytest.raises(CandidateFailedError, match=r"all 4 trials.*most common error.*solver"):
        tune(LogisticRegression(), {"solver": ("categorical", ["bogus-1", "bogus-2"])}, X, y,
             cv=3, n_trials=4, verbose=0)


def test_grid_sampler_tries_every_combination_once(small_numeric_binary):
    X, y = small_numeric_binary
    space = {"max_depth": ("int", 1, 3), "criterion": ("categorical", ["gini", "entropy"])}
    result = tune(DecisionTreeClassifier(), space, X, y, cv=3, n_trials=50, sampler="grid",
                  pruner=None, verbose=0)
    combos = set(zip(result.trials["param_max_depth"], result.trials["param_criterion"]))
    assert len(result.trials) == 6 and len(combos) == 6


def test_tuple_choices_and_optuna_distributions_in_sqlite(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    space = {"widths": ("categorical", [(1,), (64, 32), (1e-4,)])}
    result = tune(TupleParamClassifier(), space, X, y, cv=3, n_trials=6, sampler="random",
                  storage=f"sqlite:///{tmp_path}/s.db", verbose=0)
    assert isinstance(result.best_params["widths"], tuple)
    assert set(result.trials["param_widths"]) <= {(1,), (64, 32), (1e-4,)}
    dist = {"C": optuna.distributions.FloatDistribution(1e-3, 10.0, log=True)}
    result = tune(LogisticRegression(), dist, X, y, cv=3, n_trials=4, verbose=0)
    assert 1e-3 <= result.best_params["C"] <= 10.0


def test_callable_space(small_numeric_binary):
    X, y = small_numeric_binary

    def space(trial):
        return {"C": trial.suggest_float("C", 1e-2, 1e2, log=True)}

    result = tune(LogisticRegression(), space, X, y, cv=3, n_trials=4, verbose=0)
    assert set(result.best_params) == {"C"}
    assert result.best_estimator.C == result.best_params["C"]


def test_nested_scores_each_outer_fold_on_rows_its_search_never_saw(small_numeric_binary):
    X, y = small_numeric_binary
    result = tune(LogisticRegression(), C_SPACE, X, y, cv=3, n_trials=6, nested=True,
                  verbose=0)
    outer = result.outer_scores
    assert list(outer["fold"]) == [0, 1, 2]
    assert {"test_roc_auc", "inner_test_roc_auc", "param_C", "n_trials"} <= set(outer.columns)
    assert result.outer_score == pytest.approx(outer["test_roc_auc"].mean())
    oof = result.nested_result.oof
    for i, (_, va) in enumerate(result.report.splits):
        expected = roc_auc_score(y[va], oof[va, 1])
        assert outer.loc[i, "test_roc_auc"] == pytest.approx(expected)
    names = {s.study_name for s in result.study._storage.get_all_studies()}
    assert len(names) == 4  # three inner searches and the final one
    assert result.trials.shape[0] == 6 and result.cv_result.status == "ok"


def test_parallel_workers_share_one_study(small_numeric_binary):
    X, y = small_numeric_binary
    result = tune(DecisionTreeClassifier(), {"max_depth": ("int", 1, 8)}, X, y, cv=3,
                  n_trials=8, n_jobs=2, verbose=0)
    assert len(result.trials) == 8
    assert result.trials["worker"].nunique() == 2
    assert result.cv_result.status == "ok"


def test_optuna_log_level_is_restored(small_numeric_binary):
    X, y = small_numeric_binary
    before = optuna.logging.get_verbosity()
    try:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        for verbose in (0, 1, 2):
            tune(LogisticRegression(), C_SPACE, X, y, cv=3, n_trials=2, verbose=verbose)
            assert optuna.logging.get_verbosity() == optuna.logging.WARNING
    finally:
        optuna.logging.set_verbosity(before)


def test_study_made_for_another_space_is_refused(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    kw = dict(cv=3, n_trials=2, storage=f"sqlite:///{tmp_path}/s.db", study_name="s",
              verbose=0)
    tune(LogisticRegression(), C_SPACE, X, y, **kw)
    with pytest.raises(InvalidParameterError, match="another search space"):
        tune(LogisticRegression(), {"C": ("float", 1.0, 2.0)}, X, y, **kw)


WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import numpy as np
    from foldstack.selection import tune
    from tests.helpers import CountingClassifier
    storage, log, sleep, n_trials, barrier = sys.argv[1:6]
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 4))
    y = (X[:, 0] + 0.3 * rng.normal(size=150) > 0).astype(int)
    if barrier != "-":  # start together so that the processes really share the study
        Path(barrier, f"ready-{sys.argv[6]}").touch()
        while len(list(Path(barrier).glob("ready-*"))) < 2:
            time.sleep(0.05)
    cache = None if len(sys.argv) < 8 else sys.argv[7]
    tune(CountingClassifier(log_path=log, sleep=float(sleep)),
         {"C": ("float", 1e-6, 1e2, "log")}, X, y, cv=3, n_trials=int(n_trials),
         pruner=None, storage=None if storage == "-" else storage, study_name="shared",
         cache_dir=cache, verbose=0)
""")


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 4))
    return X, (X[:, 0] + 0.3 * rng.normal(size=150) > 0).astype(int)


def _finished(storage):
    # the worker may be creating the tables at this moment: open the storage as tune does,
    # which waits out that race, instead of racing it
    try:
        study = optuna.load_study(study_name="shared", storage=open_storage(storage, None))
    except KeyError:  # not created yet
        return []
    return [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]


def _start_worker(tmp_path, cache, log):
    """A tuning worker (8 trials, 3 folds) whose study lives under ``cache``."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(script), "-", str(log), "0.15", "8", "-",
                             "0", str(cache)], env=env, cwd=ROOT)


def test_sigkill_mid_study_then_resume_keeps_every_finished_trial(tmp_path):
    cache, log = tmp_path / "cache", tmp_path / "fits.log"
    storage = f"sqlite:///{cache}/tune.sqlite3"
    proc = _start_worker(tmp_path, cache, log)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (cache / "tune.sqlite3").exists() and len(_finished(storage)) >= 3:
            break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {t.number: t.value for t in _finished(storage)}
    assert 3 <= len(before) < 8, before

    fits_before = count_fits(log)
    X, y = _data()
    result = tune(CountingClassifier(log_path=str(log), sleep=0.15),
                  {"C": ("float", 1e-6, 1e2, "log")}, X, y, cv=3, n_trials=8, pruner=None,
                  study_name="shared", cache_dir=cache, verbose=0)
    trials = result.trials
    assert not (trials["state"] == "running").any()
    interrupted = trials[trials["state"] == "interrupted"]
    assert len(interrupted) <= 1  # the trial the kill interrupted, unless it hit between two
    assert len(trials) - len(interrupted) == 8
    for number, value in before.items():  # every trial of the killed run is kept
        assert trials.set_index("number").loc[number, "mean_test_roc_auc"] == value
    # only the missing trials ran (the interrupted one again, its finished folds from the
    # cache); the best one's folds came from memory or the cache
    started = fits_before - 3 * len(before)  # folds of the interrupted trial
    missing = (8 - len(before)) * 3
    assert missing - started <= count_fits(log) - fits_before <= missing - started + 1
    assert result.cv_result.status == "ok"


def _study_trials(storage):
    study = optuna.load_study(study_name="shared", storage=open_storage(storage, None))
    return study.get_trials(deepcopy=False)


def test_sigkill_mid_trial_then_resume_ends_where_an_uninterrupted_run_does(tmp_path):
    space = {"C": ("float", 1e-6, 1e2, "log")}
    X, y = _data()
    # the reference: the same study (seed, n_trials, TPE after 5 random trials), never killed
    reference = tune(CountingClassifier(log_path=str(tmp_path / "ref.log"), sleep=0.15), space,
                     X, y, cv=3, n_trials=8, pruner=None, study_name="shared",
                     cache_dir=tmp_path / "ref", verbose=0)

    cache, log = tmp_path / "cache", tmp_path / "fits.log"
    storage = f"sqlite:///{cache}/tune.sqlite3"
    proc = _start_worker(tmp_path, cache, log)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        # a fold of a trial after the third has started (fits are logged as they start):
        # the kill lands mid-trial
        if count_fits(log) % 3 and (cache / "tune.sqlite3").exists() \
                and len(_finished(storage)) >= 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    running = [t for t in _study_trials(storage) if t.state == optuna.trial.TrialState.RUNNING]
    assert len(running) == 1 and "C" in running[0].params, running

    result = tune(CountingClassifier(log_path=str(log), sleep=0.15), space, X, y, cv=3,
                  n_trials=8, pruner=None, study_name="shared", cache_dir=cache, verbose=0)
    assert not any(t.state == optuna.trial.TrialState.RUNNING for t in _study_trials(storage))
    trials = result.trials.set_index("number")
    killed = trials.loc[running[0].number]
    assert killed["state"] == "interrupted" and "worker" in killed["error"]
    # its configuration ran again as the next trial; the study holds 8 trials besides it
    assert trials.loc[running[0].number + 1, "param_C"] == killed["param_C"]
    counted = result.trials[result.trials["state"] != "interrupted"]
    assert len(counted) == 8 and set(counted["state"]) == {"complete"}
    # the resumed study ends where the uninterrupted one does, trial by trial
    assert counted["param_C"].tolist() == reference.trials["param_C"].tolist()
    np.testing.assert_array_equal(counted["mean_test_roc_auc"],
                                  reference.trials["mean_test_roc_auc"])
    assert result.best_params == reference.best_params
    assert result.best_score == reference.best_score
    assert result.cv_result.status == "ok"


def test_only_trials_of_ended_processes_are_failed_and_rerun(tmp_path):
    from optuna.trial import TrialState

    from foldstack.selection.tuning._study import (
        UNCLAIMED_AFTER,
        recover_interrupted,
        worker_id,
        worker_token,
    )

    storage = open_storage(tmp_path / "s.sqlite3", None)
    study = optuna.create_study(storage=storage, study_name="shared")
    # a process that has ended: its worker id and token, read by itself
    gone = subprocess.run(
        [sys.executable, "-c", "from foldstack.selection.tuning._study import worker_id, "
         "worker_token; print(worker_id()); print(worker_token())"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, capture_output=True, text=True,
        check=True).stdout.split()
    owners = {"dead": (gone[0], None if gone[1] == "None" else gone[1]),
              "alive": (worker_id(), worker_token()),  # this process: alive
              "other host": ("no-such-host.example:1", None)}  # cannot be known: left alone
    numbers = {}
    for owner, (worker, token) in owners.items():
        trial = study.ask()
        trial.suggest_float("x", 0.0, 1.0)
        trial.set_user_attr("worker", worker)
        trial.set_user_attr("worker_token", token)
        numbers[owner] = trial.number
    # trials not yet claimed by a worker: one just started (alive), one long ago (its
    # process died before naming itself)
    for owner, age in (("fresh unclaimed", 0), ("old unclaimed", UNCLAIMED_AFTER + 60)):
        study.add_trial(optuna.trial.FrozenTrial(
            number=0, state=TrialState.RUNNING, value=None,
            datetime_start=datetime.datetime.now() - datetime.timedelta(seconds=age),
            datetime_complete=None, params={}, distributions={}, user_attrs={},
            system_attrs={}, intermediate_values={}, trial_id=0))
        numbers[owner] = len(study.trials) - 1

    failed = recover_interrupted(study, storage)
    assert sorted(failed) == [numbers["dead"], numbers["old unclaimed"]]
    state = {owner: study.trials[n].state for owner, n in numbers.items()}
    assert state == {"dead": TrialState.FAIL, "alive": TrialState.RUNNING,
                     "other host": TrialState.RUNNING, "fresh unclaimed": TrialState.RUNNING,
                     "old unclaimed": TrialState.FAIL}
    assert "ended while the trial ran" in study.trials[numbers["dead"]].user_attrs["error"]
    # the dead worker's configuration waits to run again; the unclaimed one had none
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert len(waiting) == 1 and waiting[0].user_attrs["rerun_of"] == numbers["dead"]
    assert waiting[0].system_attrs["fixed_params"] == study.trials[numbers["dead"]].params
    assert recover_interrupted(study, storage) == []  # idempotent: nothing enqueued twice
    assert len(study.get_trials(states=(TrialState.WAITING,))) == 1


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_reused_pid_or_a_zombie_is_an_ended_worker():
    import socket

    from foldstack.selection.tuning._study import _worker_gone, worker_id, worker_token

    me, token = worker_id(), worker_token()
    assert not _worker_gone(me, token) and not _worker_gone(me, None)
    boot, ns, start = token.split("|")
    # the same pid, started at another time: a later process that got the pid of a dead one
    assert _worker_gone(me, f"{boot}|{ns}|{int(start) + 1}")
    assert not _worker_gone(me, f"{boot}|pid:[1]|{start}")  # another container: unknowable
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    while _read_state(child.pid) not in ("Z", "X", None):  # ended, not yet reaped
        time.sleep(0.01)
    assert _worker_gone(f"{socket.gethostname()}:{child.pid}", None)
    child.wait()
    assert _worker_gone(f"{socket.gethostname()}:{child.pid}", None)


def _read_state(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return None


def test_two_processes_tune_one_sqlite_study(tmp_path):
    storage, log = f"sqlite:///{tmp_path}/study.db", tmp_path / "fits.log"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, str(script), storage, str(log), "0.05", "12",
                               str(barrier), str(k)], env=env, cwd=ROOT) for k in range(2)]
    assert [p.wait(timeout=180) for p in procs] == [0, 0]
    finished = _finished(storage)
    assert 12 <= len(finished) <= 13  # n_trials counts both processes' trials
    assert len({t.user_attrs["worker"] for t in finished}) == 2
    assert len({t.number for t in finished}) == len(finished)

    # a third call with the same study runs no trial; it refits the best configuration once
    X, y = _data()
    fits = count_fits(log)
    result = tune(CountingClassifier(log_path=str(log), sleep=0.05),
                  {"C": ("float", 1e-6, 1e2, "log")}, X, y, cv=3, n_trials=12, pruner=None,
                  storage=storage, study_name="shared", verbose=0)
    assert count_fits(log) - fits == 3
    assert result.cv_result.fold_scores()["roc_auc"].mean() == pytest.approx(result.best_score)


@pytest.mark.parametrize("space, kwargs, match", [
    ({"max_dept": ("int", 1, 3)}, {}, r"'max_dept'.*Did you mean 'max_depth'"),
    ({}, {}, "`space` is empty"),
    ([("max_depth", 1)], {}, "must be a dict"),
    ({"max_depth": [1, 2, 3]}, {}, r"space\['max_depth'\] must be a tuple"),
    ({"max_depth": ("integer", 1, 3)}, {}, "Did you mean 'int'"),
    ({"max_depth": ("int", 1, 3, "lin")}, {}, r"\('int', low, high, 'log'\)"),
    ({"max_depth": ("int", 1.5, 3)}, {}, "bounds must be integers"),
    ({"max_depth": ("int", 5, 2)}, {}, r"low > high \(5 > 2\)"),
    ({"min_impurity_decrease": ("float", 0.0, 1.0, "log")}, {}, "log scale, so low must be > 0"),
    ({"criterion": ("categorical", [])}, {}, "at least one choice"),
    ({"max_depth": ("int", 1, 3)}, {"n_trials": 0}, r"`n_trials` must be an int >= 1"),
    ({"max_depth": ("int", 1, 3)}, {"n_trials": None}, "n_trials, time_limit or both"),
    ({"max_depth": ("int", 1, 3)}, {"sampler": "tpee"}, "Did you mean 'tpe'"),
    ({"min_impurity_decrease": ("float", 0.0, 0.1)}, {"sampler": "grid"}, "finite space"),
    ({"max_depth": ("int", 1, 3)}, {"storage": "sqlite:////no/such/dir/s.db"},
     r"cannot open storage 'sqlite:////no/such/dir/s.db'"),
    ({"max_depth": ("int", 1, 3)}, {"storage": "nosuchdb://x"}, "cannot open storage"),
    ({"max_depth": ("int", 1, 3)}, {"n_jobs": 0}, r"`n_jobs` must be None or a non-zero int"),
    ({"max_depth": ("int", 1, 3)}, {"n_jobs": 1.5}, r"`n_jobs` must be None or a non-zero"),
    ({"max_depth": ("int", 1, 3)}, {"time_limit": float("inf")},
     r"`time_limit` must be a finite number of seconds > 0, or None"),
    ({"max_depth": ("int", 1, 3)}, {"time_limit": -1}, r"`time_limit` must be a finite number"),
    ({"max_depth": ("int", 1, 3)}, {"time_limit": float("nan")},
     r"`time_limit` must be a finite"),
    ({"max_depth": ("int", 1, 3)}, {"time_limit": 60, "timeout": 60},
     r"give `time_limit` only; `timeout` is its deprecated alias"),
])
def test_bad_input(small_numeric_binary, space, kwargs, match):
    X, y = small_numeric_binary
    with pytest.raises(InvalidParameterError, match=match):
        tune(DecisionTreeClassifier(), space, X, y, **{"cv": 3, "verbose": 0, **kwargs})


def test_deprecated_timeout_is_time_limit_with_a_future_warning(small_numeric_binary):
    X, y = small_numeric_binary
    space = {"max_depth": ("int", 1, 3)}
    with pytest.warns(FutureWarning, match="tune: `timeout` is deprecated.*use `time_limit`"):
        old = tune(DecisionTreeClassifier(), space, X, y, cv=3, n_trials=3, timeout=600,
                   verbose=0)
    new = tune(DecisionTreeClassifier(), space, X, y, cv=3, n_trials=3, time_limit=600,
               verbose=0)
    assert old.best_params == new.best_params and old.best_score == new.best_score
    with pytest.warns(FutureWarning, match="`timeout` is deprecated"), \
            pytest.raises(InvalidParameterError, match="`time_limit` must be a finite"):
        tune(DecisionTreeClassifier(), space, X, y, cv=3, timeout=-1, verbose=0)


def test_torn_sqlite_storage_is_discarded_only_when_it_holds_no_study(tmp_path):
    import sqlite3

    from foldstack.selection.tuning._study import _discard_torn_sqlite

    empty, used = tmp_path / "empty.sqlite3", tmp_path / "used.sqlite3"
    for path, rows in ((empty, 0), (used, 1)):
        with sqlite3.connect(path) as con:
            con.execute("CREATE TABLE studies (study_id INTEGER, study_name TEXT)")
            con.executemany("INSERT INTO studies VALUES (?, ?)", [(i, "s") for i in range(rows)])
    assert _discard_torn_sqlite(f"sqlite:///{empty}") and not empty.exists()
    assert not _discard_torn_sqlite(f"sqlite:///{used}") and used.exists()
    assert not _discard_torn_sqlite("postgresql://host/db")


def test_the_estimators_own_configuration_is_the_first_trial(small_numeric_binary, caplog):
    X, y = small_numeric_binary
    result = tune(LogisticRegression(C=0.37), C_SPACE, X, y, cv=3, n_trials=4,
                  sampler="random", verbose=0)
    first = result.trials.iloc[0]
    assert first["param_C"] == 0.37 and first["state"] == "complete"
    assert result.best_score >= first["mean_test_roc_auc"]
    # a labelled choice (a tuple) is matched too
    space = {"widths": ("categorical", [(1,), (64, 32), (1e-4,)])}
    result = tune(TupleParamClassifier(widths=(64, 32)), space, X, y, cv=3, n_trials=2,
                  sampler="random", verbose=0)
    assert result.trials.iloc[0]["param_widths"] == (64, 32)
    # switched off, or a value outside the space: the search starts from a sampled draw
    off = tune(LogisticRegression(C=0.37), C_SPACE, X, y, cv=3, n_trials=2, sampler="random",
               start_from_estimator=False, verbose=0)
    assert off.trials.iloc[0]["param_C"] != 0.37
    with caplog.at_level("INFO", logger="foldstack"):
        outside = tune(LogisticRegression(C=1e3), C_SPACE, X, y, cv=3, n_trials=2,
                       sampler="random", verbose=0)
    assert outside.trials.iloc[0]["param_C"] != 1e3
    assert "estimator's own C not in the space" in caplog.text
