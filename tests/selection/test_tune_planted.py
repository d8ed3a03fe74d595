"""A study read back from a storage is data: nothing in it reaches an estimator unless the
search space can draw it.

A run's ``<out>/cache/tune.sqlite3`` is resumed by ``tune(cache_dir=...)`` and ``foldstack cv
--tune``.  A trial planted there with a parameter outside the space (a Pipeline's ``memory``
pointing at a directory of pickles) or a value outside a distribution is refused, with the
study file and the parameter named, before any estimator is built; the pickle never loads.
"""

import os
import pickle

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from foldstack.cli import main
from foldstack.exceptions import InvalidParameterError, UnsafeModelError
from foldstack.selection import tune
from foldstack.selection.tuning._problem import with_params as _with_params
from foldstack.selection.tuning._space import OutsideSpaceError, parse_space
from foldstack.selection.tuning._study import (
    INTERRUPTED,
    STORAGE_FILE,
    open_storage,
    recover_interrupted,
)

SPACE = {"logisticregression__C": ("float", 1e-3, 1e2, "log")}
C_DIST = FloatDistribution(1e-3, 1e2, log=True)


class Payload:
    """Unpickling it creates the marker file (what a planted joblib cache entry would do)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def _pickles(directory, marker):
    """A joblib-cache-like directory whose every pickle would create ``marker``."""
    for sub in ("", "joblib", "joblib/sklearn/pipeline/_fit_transform_one/0123abcd"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
        (directory / sub / "output.pkl").write_bytes(pickle.dumps(Payload(marker)))
    return directory


def _tune(X, y, cache, n_trials=3):
    return tune(make_pipeline(StandardScaler(), LogisticRegression()), SPACE, X, y, cv=2,
                n_trials=n_trials, sampler="random", cache_dir=cache, verbose=0)


def _study(cache):
    storage = open_storage(cache / STORAGE_FILE, None)
    (name,) = optuna.get_all_study_names(storage)
    return optuna.load_study(study_name=name, storage=storage), storage


@pytest.fixture
def honest(small_numeric_binary, tmp_path):
    """A cache holding an honest tuned study (3 trials), and the marker a pickle would make."""
    X, y = small_numeric_binary
    cache = tmp_path / "cache"
    first = _tune(X, y, cache)
    assert len(first.trials) == 3
    return X, y, cache, tmp_path / "PWNED"


def test_planted_memory_parameter_is_refused_and_no_pickle_loads(honest):
    X, y, cache, marker = honest
    jl = _pickles(cache / "jl", marker)
    study, _ = _study(cache)
    # the best trial by far, holding the space's parameter and a Pipeline's `memory`
    study.add_trial(create_trial(
        params={"logisticregression__C": 1.0, "memory": str(jl)},
        distributions={"logisticregression__C": C_DIST,
                       "memory": CategoricalDistribution([str(jl)])},
        value=1.0))
    with pytest.raises(UnsafeModelError) as info:
        _tune(X, y, cache, n_trials=5)  # resumes the study: reads every trial back
    message = " ".join(str(info.value).split())
    assert "'memory'" in message and "not in the search space" in message
    assert f"Delete {str(cache / STORAGE_FILE)!r}" in message and "--out" in message
    assert "trial 3" in message
    assert not marker.exists()
    # refused before any trial ran: the study holds what it held
    assert len(_study(cache)[0].trials) == 4


@pytest.mark.parametrize("planted, match", [
    # a value of the space's own parameter, beyond its range (stored with a wider one)
    ({"params": {"logisticregression__C": 1e6},
      "distributions": {"logisticregression__C": FloatDistribution(1e-3, 1e9, log=True)},
      "value": 1.0},
     r"'logisticregression__C' = 1000000.0, outside the search space \(a number in "
     r"\[0.001, 100.0\], log scale\)"),
    # a complete trial without the space's parameter
    ({"params": {}, "distributions": {}, "value": 1.0},
     "lacks parameter 'logisticregression__C'"),
    # a failed trial (read back for trials_) with a foreign parameter
    ({"params": {"memory": "/somewhere"},
      "distributions": {"memory": CategoricalDistribution(["/somewhere"])},
      "state": TrialState.FAIL},
     "'memory', which is not in the search space"),
    # an enqueued trial waiting to run with a foreign or an out-of-range value
    ({"state": TrialState.WAITING, "system_attrs": {"fixed_params": {"memory": "/x"}}},
     r"\(waiting to run\) has parameter 'memory'"),
    ({"state": TrialState.WAITING,
      "system_attrs": {"fixed_params": {"logisticregression__C": -1.0}}},
     r"\(waiting to run\) has parameter 'logisticregression__C' = -1.0, outside"),
    ({"state": TrialState.WAITING, "system_attrs": {"fixed_params": ["memory"]}},
     "not a table"),
])
def test_trials_outside_the_space_are_refused(honest, planted, match):
    X, y, cache, _ = honest
    study, _ = _study(cache)
    study.add_trial(create_trial(**planted))
    with pytest.raises(UnsafeModelError, match=match) as info:
        _tune(X, y, cache, n_trials=5)
    assert "refusing study" in str(info.value) and str(cache / STORAGE_FILE) in str(info.value)


def test_the_honest_study_resumes(honest):
    X, y, cache, _ = honest
    result = _tune(X, y, cache, n_trials=4)
    assert len(result.trials) == 4 and set(result.best_params) == set(SPACE)


def test_an_interrupted_trial_is_not_enqueued_again_with_values_outside_the_space(tmp_path):
    storage = open_storage(tmp_path / "s.sqlite3", None)
    study = optuna.create_study(storage=storage, study_name="s")
    space = parse_space(SPACE, make_pipeline(StandardScaler(), LogisticRegression()))
    study.add_trial(create_trial(
        state=TrialState.FAIL, params={"logisticregression__C": 1.0},
        distributions={"logisticregression__C": C_DIST}, user_attrs={INTERRUPTED: True},
        system_attrs={"fixed_params": {"memory": str(tmp_path)}}))
    with pytest.raises(UnsafeModelError, match=r"trial 0 \(to run again\) has parameter "
                                               "'memory'"):
        recover_interrupted(study, storage, space)
    assert not study.get_trials(states=(TrialState.WAITING,))  # nothing enqueued


@pytest.mark.filterwarnings("ignore:The value .* is out of the range")  # optuna's, then ours
def test_callable_space_values_are_checked_where_they_are_drawn(small_numeric_binary, tmp_path):
    def space(trial):
        return {"C": trial.suggest_float("C", 1e-2, 1e2, log=True)}

    parsed = parse_space(space, LogisticRegression())
    valid = frozenset(LogisticRegression().get_params())
    assert parsed.decode({"C": 1.0}) == {"C": 1.0}
    assert parsed.decode({}, partial=True) == {}
    for raw, match in (({"C": 1e9}, "outside the distribution"),
                       ({"C": 1.0, "memory": "/x"}, "'memory', which the space callable does "
                                                    "not draw"),
                       ({"memory": "/x"}, "'memory'"),
                       ({}, "lacks parameter 'C'")):
        with pytest.raises(OutsideSpaceError, match=match):
            parsed.decode(raw)
    # a live trial hands an enqueued value over as stored, in range or not
    with pytest.raises(OutsideSpaceError, match="outside the distribution"):
        parsed.suggest(optuna.trial.FixedTrial({"C": 1e9}), valid)
    # end to end: a value enqueued in the study file is refused before it is fitted
    X, y = small_numeric_binary
    url = f"sqlite:///{tmp_path}/s.db"
    first = tune(LogisticRegression(), space, X, y, cv=2, n_trials=2, storage=url, verbose=0)
    first.study.enqueue_trial({"C": 1e9})
    with pytest.raises(UnsafeModelError, match=r"\(waiting to run\) has parameter 'C' = "
                                               r"1000000000.0, outside"):
        tune(LogisticRegression(), space, X, y, cv=2, n_trials=4, storage=url, verbose=0)


@pytest.mark.parametrize("params", [{"memory": "/x"}, {"pipeline__memory": "/x"},
                                    {"xgb_model": "m.json"}])
def test_parameters_that_load_files_never_reach_an_estimator(params):
    with pytest.raises(InvalidParameterError, match="cannot be set by tuning.*can run code"):
        _with_params(make_pipeline(StandardScaler(), LogisticRegression()), params)


def test_a_space_setting_memory_is_refused(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    marker = tmp_path / "PWNED"
    jl = _pickles(tmp_path / "jl", marker)
    est = make_pipeline(StandardScaler(), LogisticRegression())
    assert _with_params(est, {"memory": None}).memory is None  # None loads nothing
    with pytest.raises(InvalidParameterError, match="'memory' cannot be set by tuning"):
        tune(est, {"memory": ("categorical", [str(jl)])}, X, y, cv=2, n_trials=1, verbose=0)
    assert not marker.exists()


def test_cli_resume_refuses_a_planted_study(tmp_path, capsys):
    rng = np.random.RandomState(0)
    df = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80)})
    df["y"] = (df["a"] + 0.5 * rng.normal(size=80) > 0).astype(int)
    df.to_csv(tmp_path / "data.csv", index=False)
    out = tmp_path / "run"
    argv = ["cv", str(tmp_path / "data.csv"), "--target", "y", "--tune", "2", "--models",
            "linear", "--cv", "2", "--ensemble", "none", "--out", str(out), "-q"]
    assert main(argv) == 0
    capsys.readouterr()
    marker = tmp_path / "PWNED"
    jl = _pickles(out / "cache" / "jl", marker)
    study, _ = _study(out / "cache")
    best = study.best_trial
    study.add_trial(create_trial(
        params={**best.params, "memory": str(jl)},
        distributions={**best.distributions, "memory": CategoricalDistribution([str(jl)])},
        value=1.0))
    assert main(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "refusing study" in err and "'memory'" in err
    assert str(out / "cache" / STORAGE_FILE) in err and "another --out" in err
    assert not marker.exists()
