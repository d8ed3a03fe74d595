"""tune prunes a network inside its first fold: each epoch's validation score is reported."""

import math

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState, create_trial
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from foldstack.exceptions import InvalidParameterError
from foldstack.models import TabularMLPClassifier, TabularMLPRegressor
from foldstack.selection import tune
from foldstack.selection.tuning import _problem
from foldstack.selection.tuning._epochs import (
    EPOCH_STEP,
    EPOCH_WARMUP,
    FoldEpochPruner,
    TrialEpochs,
)
from foldstack.utils._epochs import current_epoch_reporter, epoch_reporter

MAX_EPOCHS = 15
GOOD, BAD = (0.01, 0.02, 0.03), 1e-7  # BAD: so small that the network does not learn
LR_SPACE = {"lr": ("float", 1e-7, 1e-1, "log")}


class Sequence(optuna.samplers.BaseSampler):
    """Trial ``n`` draws ``values[n]``: the bad configuration comes after the good ones."""

    def __init__(self, values):
        self.values = values

    def infer_relative_search_space(self, study, trial):
        return {}

    def sample_relative(self, study, trial, search_space):
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self.values[trial.number]


def _data(n=160):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + X[:, 1] + 0.3 * rng.normal(size=n) > 0).astype(int)
    return X, y


def _net(**kw):
    # a validation split (early stopping on) that never stops early: every good trial
    # reports all MAX_EPOCHS epochs
    params = dict(width=8, depth=1, max_epochs=MAX_EPOCHS, early_stopping=True,
                  patience=MAX_EPOCHS, validation_fraction=0.25, batch_size=32,
                  random_state=0)
    return TabularMLPClassifier(**{**params, **kw})


def _tune(estimator, X, y, space=LR_SPACE, **kw):
    return tune(estimator, space, X, y, cv=2, n_trials=len(GOOD) + 1, scoring="accuracy",
                sampler=Sequence([*GOOD, BAD]),
                pruner=optuna.pruners.MedianPruner(n_startup_trials=len(GOOD)),
                start_from_estimator=False, random_state=0, **kw)


def _steps(trial):
    folds = sorted(s for s in trial.intermediate_values if s < EPOCH_STEP)
    epochs = sorted(s - EPOCH_STEP for s in trial.intermediate_values if s >= EPOCH_STEP)
    return folds, epochs


def test_bad_configuration_pruned_at_an_epoch_of_fold_0(monkeypatch):
    put = []
    original = _problem.TaskCache.put
    monkeypatch.setattr(_problem.TaskCache, "put",
                        lambda self, record: (put.append(record), original(self, record)))
    X, y = _data()
    result = _tune(make_pipeline(StandardScaler(), _net()), X, y,
                   space={f"tabularmlpclassifier__{k}": v for k, v in LR_SPACE.items()})
    trials = result.study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * len(GOOD) + [TrialState.PRUNED]
    for good in trials[:-1]:  # not pruned: every epoch of fold 0, then every fold
        assert _steps(good) == ([0, 1], list(range(1, MAX_EPOCHS + 1)))
    bad = trials[-1]
    folds, epochs = _steps(bad)
    assert folds == []  # pruned before its fold 0 ended
    assert bad.last_step >= EPOCH_STEP
    assert epochs == list(range(1, bad.last_step - EPOCH_STEP + 1))
    assert EPOCH_WARMUP <= len(epochs) < MAX_EPOCHS
    # pruned, not failed, with what it had: no fold fitted, its epochs in the study
    row = result.trials.iloc[-1]
    assert row["state"] == "pruned" and row["n_folds"] == 0 and row["error"] is None
    assert math.isnan(row["mean_test_accuracy"])  # no fold score, not an epoch's score
    assert row["param_tabularmlpclassifier__lr"] == BAD
    assert result.best_params["tabularmlpclassifier__lr"] in GOOD
    # only the good trials' whole folds were offered to the cache
    assert len(put) == 2 * len(GOOD) and all(r.ok for r in put)
    assert current_epoch_reporter() is None


def test_epoch_values_follow_the_study_direction():
    X, y = _data()
    result = _tune(_net(), X, y)  # accuracy: maximized, reported as is
    good = result.study.trials[0]
    scores = [v for s, v in sorted(good.intermediate_values.items()) if s >= EPOCH_STEP]
    assert all(0 <= v <= 1 for v in scores)
    # a minimized metric: the negated score, and the bad network is still pruned in fold 0
    reg = TabularMLPRegressor(width=8, depth=1, max_epochs=MAX_EPOCHS, early_stopping=True,
                              patience=MAX_EPOCHS, validation_fraction=0.25, batch_size=32,
                              random_state=0)
    rng = np.random.RandomState(1)
    Xr = rng.normal(size=(160, 3))
    yr = 2 * Xr[:, 0] - Xr[:, 1] + 0.1 * rng.normal(size=160)
    result = tune(reg, LR_SPACE, Xr, yr, cv=2, n_trials=len(GOOD) + 1, scoring="rmse",
                  sampler=Sequence([*GOOD, BAD]),
                  pruner=optuna.pruners.MedianPruner(n_startup_trials=len(GOOD)),
                  start_from_estimator=False, random_state=0)
    assert result.study.direction == optuna.study.StudyDirection.MINIMIZE
    trials = result.study.trials
    last = trials[0].intermediate_values[EPOCH_STEP + MAX_EPOCHS]
    assert last < 0  # -R² of a network that learned
    assert [t.state for t in trials] == [TrialState.COMPLETE] * len(GOOD) + [TrialState.PRUNED]
    assert _steps(trials[-1])[0] == [] and trials[-1].last_step < EPOCH_STEP + MAX_EPOCHS


def test_prune_epochs_false_keeps_fold_level_pruning_only():
    X, y = _data()
    result = _tune(_net(), X, y, prune_epochs=False)
    for trial in result.study.trials:
        assert all(s < EPOCH_STEP for s in trial.intermediate_values)
    assert not isinstance(result.study.pruner, FoldEpochPruner)
    bad = result.trials.iloc[-1]  # the bad one fitted its whole fold 0 at least
    assert bad["n_folds"] >= 1


def test_pruner_sees_one_kind_of_step():
    """Fold steps are judged without the epoch steps, and epoch steps without fold steps."""
    study = optuna.create_study(direction="minimize",  # e.g. log loss
                                pruner=FoldEpochPruner(optuna.pruners.MedianPruner(
                                    n_startup_trials=1)))
    for loss in (0.30, 0.32, 0.34):  # completed: epoch values are negated accuracies
        study.add_trial(create_trial(
            value=loss, state=TrialState.COMPLETE,
            intermediate_values={EPOCH_STEP + 1: -0.8, EPOCH_STEP + 2: -0.9, 0: loss,
                                 1: loss}))
    trial = study.ask()
    trial.report(-0.85, EPOCH_STEP + 1)  # an epoch: better than the median (-0.8)
    assert not trial.should_prune()
    trial.report(-0.5, EPOCH_STEP + 2)  # its best epoch (-0.85) is worse than the median
    assert trial.should_prune()  # at epoch 2 (-0.9): compared at the same epoch
    study.tell(trial, state=TrialState.PRUNED)
    # good epochs, then a bad log loss in fold 0: pruned on the fold.  A plain MedianPruner
    # would judge the largest step (epoch 2) on the trial's best value over every step
    # (an epoch's, -0.95), and keep it
    trial = study.ask()
    trial.report(-0.95, EPOCH_STEP + 1)
    trial.report(-0.95, EPOCH_STEP + 2)
    assert not trial.should_prune()
    trial.report(0.9, 0)
    assert trial.should_prune()
    assert not optuna.pruners.MedianPruner(n_startup_trials=1).prune(
        study, study.get_trials(deepcopy=False)[-1])
    trial.report(0.31, 1)  # fold 1: judged on the folds' best (0.31), below the median
    assert not trial.should_prune()


def test_reporter_follows_one_network_and_stays_pruned():
    class Trial:
        def __init__(self):
            self.reports = []

        def report(self, value, step):
            self.reports.append((step, value))

        def should_prune(self):
            return len(self.reports) >= EPOCH_WARMUP

    epochs = TrialEpochs(Trial(), greater_is_better=False)
    first, other = object(), object()
    epochs(first, {"epoch": 1, "train_loss": 1.0})  # no validation split: nothing reported
    assert epochs.trial.reports == []
    for e in range(1, EPOCH_WARMUP):
        epochs(first, {"epoch": e, "valid_score": 0.5})
        epochs(other, {"epoch": e, "valid_score": 0.9})  # a second network: not followed
    assert epochs.trial.reports == [(EPOCH_STEP + e, -0.5) for e in range(1, EPOCH_WARMUP)]
    with pytest.raises(Exception, match="epoch 5"):
        epochs(first, {"epoch": EPOCH_WARMUP, "valid_score": 0.5})
    with pytest.raises(Exception, match="epoch 5"):  # sticky: any later fit stops too
        epochs(other, {"epoch": 1, "valid_score": 0.9})


def test_no_reporter_outside_tune():
    X, y = _data()
    assert current_epoch_reporter() is None
    net = _net(lr=0.01).fit(X, y)
    assert net.n_epochs_ == MAX_EPOCHS and "valid_score" in net.history_[0]
    rows = []
    with epoch_reporter(lambda n, row: rows.append(row["epoch"])):
        with epoch_reporter(None):  # an inner block without a reporter hides the outer one
            _net(max_epochs=2).fit(X, y)
        assert rows == []
        _net(max_epochs=3).fit(X, y)
    assert rows == [1, 2, 3]
    assert current_epoch_reporter() is None


def test_prune_epochs_must_be_bool():
    X, y = _data()
    with pytest.raises(InvalidParameterError, match="prune_epochs"):
        tune(_net(), LR_SPACE, X, y, cv=2, n_trials=1, prune_epochs="yes")
