"""Every bad input of the command line: exit code 2 (1 when all fail) and a message."""

from pathlib import Path

import pandas as pd
import pytest

from foldstack.cli import main
from tests.helpers import write_small_table


@pytest.fixture()
def data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # default run directories go under ./runs
    return write_small_table(tmp_path)


def run(argv, capsys):
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv, code, message", [
    (["cv", "nope.csv", "--target", "t"], 2, "No such file"),
    (["cv", "{d}/d.csv", "--target", "taget"], 2, "'taget' is not in the table.*Did you mean "
                                                     "'target'"),
    (["cv", "{d}/d.csv", "--target", "target", "--models", "xgbost"], 2,
     "Unknown model 'xgbost'.*Did you mean 'xgboost'.*linear"),
    (["cv", "{d}/d.csv", "--target", "target", "--ensemble", "greddy"], 2, "Did you mean "
                                                                            "'greedy'"),
    (["cv", "{d}/d.csv", "--target", "target", "--cv", "1"], 2, "--cv must be an integer >= 2"),
    (["cv", "{d}/d.csv", "--target", "target", "--metric", "rmse"], 2,
     "'rmse' is for regression"),
    (["cv", "{d}/d.csv", "--target", "target", "--drop", "zz"], 2, "'zz' is not in the table"),
    (["cv", "{d}/d.csv"], 2, "No target column"),
    (["cv", "{d}/d.csv", "--target", "target", "--backend", "dask"], 2, "needs --scheduler"),
    (["predict", "{d}/nomodel", "{d}/d.csv", "-o", "{d}/p.csv"], 2, "No such model"),
    (["report", "{d}"], 2, "not a finished foldstack run"),
])
def test_bad_arguments(data, capsys, argv, code, message):
    import re
    argv = [a.format(d=data) for a in argv]
    got, err = run(argv, capsys)
    assert got == code
    assert re.search(message, " ".join(err.split())), err


def test_empty_and_binary_files(data, capsys):
    (data / "empty.csv").write_text("")
    code, err = run(["cv", data / "empty.csv", "--target", "t"], capsys)
    assert code == 2 and "empty" in err
    (data / "bin.csv").write_bytes(b"\x00\x01\x02\x03")
    code, err = run(["cv", data / "bin.csv", "--target", "t"], capsys)
    assert code == 2 and "binary file" in err


def test_malformed_toml_names_line_and_column(data, capsys):
    (data / "bad.toml").write_text('models = ["linear"\ncv = 3\n')
    code, err = run(["cv", data / "d.csv", "--target", "target", "--config", data / "bad.toml"],
                    capsys)
    assert code == 2 and "not valid TOML" in err and "line" in err and "column" in err
    (data / "unknown.toml").write_text("modles = ['linear']\n")
    code, err = run(["cv", data / "d.csv", "--target", "target", "--config",
                     data / "unknown.toml"], capsys)
    assert code == 2 and "Did you mean 'models'" in err
    (data / "param.toml").write_text("[params.linear]\nmodel__CC = 2.0\n")
    code, err = run(["cv", data / "d.csv", "--target", "target", "--config",
                     data / "param.toml"], capsys)
    assert code == 2 and "model__CC" in err and "Did you mean 'model__C'" in err


def test_out_directory_of_another_run_is_refused_unless_resume_or_force(data, capsys):
    out = data / "out"
    base = ["cv", data / "d.csv", "--target", "target", "--models", "linear", "--cv", "3",
            "--ensemble", "none", "--out", out, "-q"]
    assert run(base, capsys)[0] == 0
    code, err = run([*base, "--seed", "1"], capsys)
    assert code == 2 and "holds a different run" in err and "--resume" in err
    assert run([*base, "--seed", "1", "--force"], capsys)[0] == 0
    (data / "other").mkdir()
    (data / "other" / "notes.txt").write_text("mine")
    code, err = run([*base[:-3], "--out", data / "other", "-q"], capsys)
    assert code == 2 and "holds other files" in err
    assert (data / "other" / "notes.txt").read_text() == "mine"     # never lost work


def test_every_candidate_failing_exits_1(data, capsys):
    (data / "fail.toml").write_text("[params.linear]\nmodel__C = -1.0\n")
    code, err = run(["cv", data / "d.csv", "--target", "target", "--models", "linear",
                     "--cv", "3", "--config", data / "fail.toml", "--out", data / "o", "-q"],
                    capsys)
    assert code == 1 and "No candidate finished" in err and "linear" in err


def test_config_values_are_overridden_by_the_command_line(data, capsys):
    (data / "c.toml").write_text('models = ["linear"]\ncv = 4\nensemble = ["none"]\n')
    out = data / "o2"
    assert run(["cv", data / "d.csv", "--target", "target", "--config", data / "c.toml",
                "--cv", "3", "--out", out, "-q"], capsys)[0] == 0
    import json
    info = json.loads((Path(out) / "run.json").read_text())
    assert info["options"]["cv"] == 3 and info["options"]["models"] == ["linear"]


def test_tune_and_time_limit(data, capsys):
    import json
    out = data / "tuned"
    assert run(["cv", data / "d.csv", "--target", "target", "--models", "linear", "--cv", "3",
                "--tune", "3", "--ensemble", "none", "--out", out, "-q"], capsys)[0] == 0
    board = pd.read_csv(out / "leaderboard.csv", index_col=0)
    assert board.loc["linear", "status"] == "ok"
    assert (out / "cache" / "tune.sqlite3").exists()
    # a spent limit: the first model still runs all its folds, the next one does not start
    code, err = run(["cv", data / "d.csv", "--target", "target", "--models", "linear,xgboost",
                     "--time-limit", "0.0001", "--out", data / "late", "-q"], capsys)
    assert code == 0 and "deprecated" not in err
    info = json.loads((data / "late" / "run.json").read_text())
    assert info["candidates"] == {"linear": "ok", "xgboost": "timeout"}
    assert list(info["notes"]) == ["xgboost"] and "time limit" in info["notes"]["xgboost"]
    board = pd.read_csv(data / "late" / "leaderboard.csv", index_col=0)
    assert board.loc["xgboost", "status"] == "timeout"


def test_a_time_limit_without_models_runs_the_portfolio_in_order(data, capsys):
    import json

    import foldstack as fs
    code, _ = run(["cv", data / "d.csv", "--target", "target", "--time-limit", "0.0001",
                   "--out", data / "portfolio", "-q"], capsys)
    info = json.loads((data / "portfolio" / "run.json").read_text())
    task = fs.infer_task(pd.read_csv(data / "d.csv")["target"])
    names = list(fs.models.portfolio(task, size="all"))
    assert code == 0 and list(info["candidates"]) == names
    assert info["candidates"]["linear"] == "ok"       # the first always finishes
    assert set(list(info["candidates"].values())[1:]) == {"timeout"}


@pytest.mark.parametrize("how", ["option", "config"])
def test_deprecated_time_budget_is_time_limit_with_a_warning(data, capsys, how):
    import json
    argv = ["cv", data / "d.csv", "--target", "target", "--models", "linear,xgboost",
            "--out", data / "late", "-q"]
    if how == "option":
        argv += ["--time-budget", "0.0001"]
        said = "--time-budget is deprecated and will be removed in a future release; use " \
               "--time-limit"
    else:
        (data / "c.toml").write_text("time_budget = 0.0001\n")
        argv += ["--config", data / "c.toml"]
        said = "config key 'time_budget' is deprecated and will be removed in a future " \
               "release; use 'time_limit'"
    code, err = run(argv, capsys)
    assert code == 0 and said in " ".join(err.split()), err
    info = json.loads((data / "late" / "run.json").read_text())
    assert info["candidates"] == {"linear": "ok", "xgboost": "timeout"}


def test_time_limit_and_its_deprecated_alias_together_are_refused(data, capsys):
    code, err = run(["cv", data / "d.csv", "--target", "target", "--time-limit", "5",
                     "--time-budget", "5"], capsys)
    assert code == 2 and "Give --time-limit only; --time-budget is its deprecated alias" \
        in " ".join(err.split()), err


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan"])
def test_time_limit_must_be_finite_and_positive(data, capsys, value):
    code, err = run(["cv", data / "d.csv", "--target", "target", "--time-limit", value],
                    capsys)
    assert code == 2 and "--time-limit must be a finite number of seconds > 0" \
        in " ".join(err.split()), err
