"""`foldstack cv` and AutoEnsemble build and choose their ensembles with one function."""

import json

import numpy as np
import pandas as pd
import pytest

import foldstack as fs
from foldstack import _auto
from foldstack.cli import main
from foldstack.data import load_table, split_target
from foldstack.models import default_candidates


@pytest.fixture()
def table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.RandomState(0)
    x = rng.normal(size=120)
    df = pd.DataFrame({"x": x, "z": rng.normal(size=120), "c": rng.choice(["a", "b"], 120),
                       "target": np.where(x + 0.5 * rng.normal(size=120) > 0, "yes", "no")})
    df.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "foldstack.toml").write_text(
        'models = ["linear", "xgboost"]\ncv = 3\n'
        'ensemble = ["equal", "optimized", "greedy", "stacking"]\n'
        "[params.xgboost]\nmodel__n_estimators = 20\n")
    return tmp_path


@pytest.fixture()
def calls(monkeypatch):
    seen = []
    original = _auto.compose

    def spy(report, kinds, **kwargs):
        done = original(report, kinds, **kwargs)
        seen.append(done)
        return done

    monkeypatch.setattr(_auto, "compose", spy)
    return seen


def test_cli_and_auto_ensemble_compose_through_one_function(table, calls):
    assert main(["cv", "d.csv", "--target", "target", "--config", "foldstack.toml",
                 "--out", "run", "-q"]) == 0
    assert len(calls) == 1
    cli = calls[0]
    run = json.loads((table / "run" / "run.json").read_text())
    assert run["chosen"] == cli.best_name
    assert set(run["ensembles"]) == set(cli.ensembles) == {"equal", "optimized", "greedy",
                                                           "stacking"}
    # an empty note is an empty CSV field, read back as missing
    board = pd.read_csv(table / "run" / "leaderboard.csv", index_col=0).fillna({"note": ""})
    assert list(board.index) == list(cli.report.leaderboard().index)

    X, y = split_target(load_table(table / "d.csv"), "target", [])
    candidates = default_candidates("binary", random_state=0, names=["linear", "xgboost"])
    candidates["xgboost"].set_params(model__n_estimators=20)
    auto = fs.AutoEnsembleClassifier(candidates, cv=3, ensembles=list(cli.ensembles)).fit(X, y)
    assert len(calls) == 2
    assert auto.best_name_ == cli.best_name
    cols = [c for c in board.columns if "time" not in c]
    pd.testing.assert_frame_equal(auto.leaderboard_[cols], board[cols], check_dtype=False,
                                  check_index_type=False, check_names=False)


def test_a_failing_ensemble_is_skipped_by_the_cli_but_raises_in_auto(table, calls,
                                                                      monkeypatch):
    original = _auto.build_ensemble

    def broken(kind, *args, **kwargs):
        if kind == "greedy":
            raise RuntimeError("no greedy today")
        return original(kind, *args, **kwargs)

    monkeypatch.setattr(_auto, "build_ensemble", broken)
    assert main(["cv", "d.csv", "--target", "target", "--config", "foldstack.toml",
                 "--out", "run", "-q"]) == 0
    assert "greedy" not in calls[0].ensembles and "stacking" in calls[0].ensembles
    X, y = split_target(load_table(table / "d.csv"), "target", [])
    with pytest.raises(RuntimeError, match="no greedy today"):
        fs.AutoEnsembleClassifier(default_candidates("binary", names=["linear", "xgboost"]),
                                  cv=3, ensembles=["greedy"]).fit(X, y)
