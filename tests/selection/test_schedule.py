"""The schedule under a time limit, driven by an injected clock; and fits that stop at it."""

import numpy as np
import pandas as pd
import pytest

import foldstack as fs
from foldstack.selection._engine import FoldTask
from foldstack.selection._schedule import TimeLimitedSchedule
from foldstack.utils._deadline import Deadline, fit_deadline


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _schedule(candidates, *, folds=5, workers=1, deadline=100.0):
    clock = Clock()
    tasks = [FoldTask(c, k, 0) for c in candidates for k in range(folds)]
    return TimeLimitedSchedule(tasks, list(candidates), n_workers=workers,
                               deadline=deadline, clock=clock), clock


def _run(schedule, clock, seconds):
    """Run the schedule on one worker; ``seconds[name]`` is each fold's duration."""
    ran = []
    for task in schedule:
        clock.now += seconds[task.candidate]
        schedule.finished(task)
        ran.append((task.candidate, task.fold))
    return ran


def test_the_first_candidate_always_runs_even_past_the_deadline():
    schedule, clock = _schedule(["linear", "xgboost"], deadline=1.0)
    ran = _run(schedule, clock, {"linear": 3.0, "xgboost": 1.0})
    assert ran == [("linear", k) for k in range(5)]   # the clock passed 1.0 after fold 0


def test_nothing_else_starts_after_the_deadline():
    schedule, clock = _schedule(["a", "b"], deadline=10.0)
    clock.now = 10.0
    assert [t.candidate for t in schedule] == ["a"] * 5


def test_each_fold_gets_the_time_left_shared_among_the_folds_still_to_run():
    schedule, clock = _schedule(["a", "b"], deadline=100.0)
    for _ in range(5):
        schedule.finished(schedule.next_task())      # a takes no time
    first = schedule.next_task()
    assert (first.candidate, first.fold) == ("b", 0)
    assert first.start_by == 100.0 and first.stop_at == pytest.approx(20.0)  # 100 s / 5 folds
    clock.now = 10.0
    schedule.finished(first)
    second = schedule.next_task()
    assert second.stop_at == pytest.approx(10.0 + 90.0 / 4)


def test_parallel_workers_share_the_time_in_rounds():
    schedule, clock = _schedule(["a", "b"], folds=4, workers=2, deadline=100.0)
    for _ in range(4):
        schedule.finished(schedule.next_task())
    assert schedule.next_task().stop_at == pytest.approx(50.0)   # 4 folds on 2 workers


def test_a_candidate_that_cannot_finish_is_dropped_and_the_next_one_runs():
    schedule, clock = _schedule(["linear", "slow", "fast"], deadline=20.0)
    ran = _run(schedule, clock, {"linear": 0.0, "slow": 8.0, "fast": 1.0})
    # slow's first fold took 8 s: its other 4 folds need 32 s of the 12 s left
    assert [c for c, _ in ran] == ["linear"] * 5 + ["slow"] + ["fast"] * 5
    assert "remaining 4 fold(s) need about 32 s; 12 s were left" in schedule.dropped["slow"]


def test_a_fold_cut_at_its_stop_time_predicts_nothing():
    from foldstack.selection._record import FoldRecord

    schedule, clock = _schedule(["a", "b"], folds=2, deadline=10.0)
    for _ in range(2):
        schedule.finished(schedule.next_task())
    task = schedule.next_task()
    clock.now = 6.0     # overran its stop time (5.0) by the time one epoch took
    schedule.finished(FoldRecord(task.candidate, task.fold, cut=True))
    last = schedule.next_task()
    # cut, so no duration predicts it; it keeps half of the 4 s left (CUT_SHARE)
    assert schedule.durations["b"] == []
    assert (last.candidate, last.fold) == ("b", 1) and last.stop_at == pytest.approx(8.0)


def test_a_cut_candidate_leaves_time_to_those_after_it():
    """A slow candidate early in the order (every fold cut) cannot starve the rest."""
    from foldstack.selection._record import FoldRecord

    schedule, clock = _schedule(["linear", "slow", "fast"], folds=4, deadline=80.0)
    for _ in range(4):
        schedule.finished(schedule.next_task())
    ran = []
    while (task := schedule.next_task()) is not None:
        if task.candidate == "slow":          # never finishes before its stop time
            clock.now = task.stop_at
            schedule.finished(FoldRecord(task.candidate, task.fold, cut=True))
        else:
            clock.now += 1.0
            schedule.finished(task)
        ran.append(task.candidate)
    assert ran == ["slow"] * 4 + ["fast"] * 4
    # slow's folds stop at 20 s, then within half of the 60 s left after that first cut
    # (30, 40, 50 s); fast's four 1 s folds follow
    assert clock.now == pytest.approx(54.0)


def test_the_expected_cost_keeps_a_candidate_that_cannot_fit_from_starting():
    clock = Clock()
    tasks = [FoldTask(c, k, 0) for c in ("linear", "huge", "fast") for k in range(5)]
    schedule = TimeLimitedSchedule(tasks, ["linear", "huge", "fast"], n_workers=1,
                                   deadline=30.0, clock=clock, costs={"huge": 60.0})
    ran = _run(schedule, clock, {"linear": 0.0, "huge": 60.0, "fast": 1.0})
    assert [c for c, _ in ran] == ["linear"] * 5 + ["fast"] * 5
    assert schedule.dropped["huge"] == ("not started: its 5 fold(s) were expected to need "
                                        "about 300 s; 30 s were left for it")


def test_an_expected_cost_within_the_time_left_lets_a_candidate_run():
    clock = Clock()
    tasks = [FoldTask(c, k, 0) for c in ("linear", "cheap") for k in range(5)]
    schedule = TimeLimitedSchedule(tasks, ["linear", "cheap"], n_workers=1, deadline=30.0,
                                   clock=clock, costs={"cheap": 2.0})
    ran = _run(schedule, clock, {"linear": 0.0, "cheap": 2.0})
    assert [c for c, _ in ran] == ["linear"] * 5 + ["cheap"] * 5 and not schedule.dropped


def test_skipped_records_do_not_count_as_durations():
    from foldstack.selection._record import FoldRecord

    schedule, clock = _schedule(["a", "b"])
    for _ in range(5):
        schedule.finished(schedule.next_task())
    task = schedule.next_task()
    clock.now = 50.0
    schedule.finished(FoldRecord(task.candidate, task.fold, status="skipped"))
    assert schedule.durations["b"] == []


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=1500), "c": rng.choice(list("abc"), 1500)})
    y = X["x"] + (X["c"] == "a") + rng.normal(scale=0.5, size=1500)
    return X, y.to_numpy()


@pytest.mark.parametrize("name", ["xgboost", "lightgbm", "catboost"])
def test_boosting_stops_at_the_deadline_without_refitting(name, table):
    X, y = table
    model = fs.models.default_candidates("regression", names=[name])[name]
    with fit_deadline(Deadline(at=0.0)) as deadline:    # long passed
        model.fit(X, y)
    final = model[-1] if hasattr(model, "steps") else model
    assert deadline.hit
    assert final.early_stopping_ and final.n_rounds_ == final.validation_rounds_ <= 2
    assert np.isfinite(model.predict(X)).all()


def test_a_network_stops_at_the_deadline_with_the_networks_it_trained(table):
    X, y = table
    net = fs.models.TabularMLPRegressor(n_seeds=3, max_epochs=50, width=16, random_state=0)
    with fit_deadline(Deadline(at=0.0)) as deadline:
        net.fit(X, y)
    assert deadline.hit and len(net.nets_) == 1 and len(net.history_) == 1
    without = fs.models.TabularMLPRegressor(n_seeds=2, max_epochs=3, width=16,
                                            early_stopping=False, random_state=0).fit(X, y)
    assert len(without.nets_) == 2 and len(without.history_) == 3


def test_cross_validation_under_a_limit_notes_cut_folds_and_never_caches_them(table, tmp_path):
    X, y = table
    # far more epochs than any limit allows: every fold of the network stops at its time
    slow = fs.models.TabularMLPRegressor(max_epochs=100_000, early_stopping=False, n_seeds=1,
                                         width=16, random_state=0)
    linear = fs.models.default_candidates("regression", names=["linear"])["linear"]
    report = fs.selection.cross_validate_candidates(
        {"linear": linear, "mlp": slow}, X, y, cv=2, time_limit=4.0, cache_dir=tmp_path,
        verbose=0)
    board = report.leaderboard()
    assert board.loc["mlp", "status"] == "ok"
    assert board.loc["mlp", "note"] == "training stopped at the time limit in fold(s) [0, 1]"
    assert board.loc["linear", "status"] == "ok" and board.loc["linear", "note"] == ""
    cached = list(tmp_path.rglob("manifest.json"))
    assert len(cached) == 2      # the linear model's two folds; no cut fold of the network


def test_parallel_folds_of_one_round_share_its_stop_time():
    schedule, clock = _schedule(["a", "b"], folds=5, workers=2, deadline=100.0)
    for _ in range(5):
        schedule.finished(schedule.next_task())
    first, second = schedule.next_task(), schedule.next_task()
    # both run in the first of three rounds (5 folds, 2 workers): a third of the time each
    assert first.stop_at == pytest.approx(100 / 3) and second.stop_at == pytest.approx(100 / 3)
    clock.now = 30.0
    schedule.finished(first)
    schedule.finished(second)
    third, fourth = schedule.next_task(), schedule.next_task()
    assert third.stop_at == fourth.stop_at == pytest.approx(30.0 + 70.0 / 2)


def test_a_cut_candidate_whose_share_is_spent_runs_no_more_folds():
    from foldstack.selection._record import FoldRecord

    schedule, clock = _schedule(["a", "b", "c"], folds=3, deadline=100.0)
    for _ in range(3):
        schedule.finished(schedule.next_task())
    task = schedule.next_task()                  # b, fold 0: stop at 33.3
    clock.now = 40.0                             # cut, and late: half of 60 s is its share
    schedule.finished(FoldRecord(task.candidate, task.fold, cut=True))
    task = schedule.next_task()                  # b, fold 1: 30 s for 2 folds
    assert task.candidate == "b" and task.stop_at == pytest.approx(55.0)
    clock.now = 71.0                             # overran its stop time and the share (70 s)
    schedule.finished(FoldRecord(task.candidate, task.fold, cut=True))
    assert schedule.next_task().candidate == "c"
    assert "share of the time was spent; 1 fold(s) not run" in schedule.dropped["b"]


def test_a_portfolio_configuration_expected_to_overrun_is_not_started():
    """The portfolio's a-priori cost reaches the schedule: its reason is in the record."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(20_000, 16)), columns=[f"x{i}" for i in range(16)])
    y = (X["x0"] + rng.normal(size=len(X)) > 0).astype(int).to_numpy()
    everything = fs.models.portfolio("binary", size="all")
    candidates = {"linear": everything["linear"],
                  "catboost_depth8": everything["catboost_depth8"]}
    expected = fs.models.expected_fold_seconds(candidates, "binary", 16_000, 16)
    assert expected["catboost_depth8"] * 5 > 2.0        # 5 folds, one worker
    with pytest.warns(fs.exceptions.CandidateFailedWarning, match="not started"):
        report = fs.selection.cross_validate_candidates(candidates, X, y, cv=5,
                                                        time_limit=2.0, verbose=0)
    assert report.results["linear"].status == "ok"
    record = report.results["catboost_depth8"]
    assert record.status == "timeout"
    assert "not started: its 5 fold(s) were expected to need about" in record.error
