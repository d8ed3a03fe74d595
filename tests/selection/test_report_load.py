"""A saved report from someone else is data: every crafted file is refused with DataError."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import foldstack as fs
from foldstack.cli import main
from foldstack.exceptions import DataError
from foldstack.selection import CVReport


@pytest.fixture(scope="module")
def saved(tmp_path_factory, small_numeric_binary):
    X, y = small_numeric_binary
    report = fs.selection.cross_validate_candidates({"logreg": LogisticRegression()}, X, y,
                                                    cv=3, verbose=0)
    return report.save(tmp_path_factory.mktemp("report") / "report")


def _meta(key, value):
    def change(path):
        meta = json.loads((path / "meta.json").read_text())
        meta[key] = value
        (path / "meta.json").write_text(json.dumps(meta))
    return change


def _candidate(key, value):
    def change(path):
        meta = json.loads((path / "meta.json").read_text())
        meta["candidates"]["logreg"][key] = value
        (path / "meta.json").write_text(json.dumps(meta))
    return change


def _table(name, frame):
    def change(path):
        if name.endswith(".parquet"):
            frame.to_parquet(path / name)
        else:
            frame.to_csv(path / name, index=False)
    return change


def _splits(**arrays):
    def change(path):
        with np.load(path / "splits.npz") as z:
            saved = dict(z)
        np.savez(path / "splits.npz", **{**saved, **arrays})
    return change


CRAFTED = {
    "deeply nested meta": lambda p: (p / "meta.json").write_text("[" * 100_000),
    "meta not a table": lambda p: (p / "meta.json").write_text("[1, 2]"),
    "n_folds 0": _meta("n_folds", 0),
    "n_folds -1": _meta("n_folds", -1),
    "n_folds text": _meta("n_folds", "3"),
    "no metrics": _meta("metrics", []),
    "greater_is_better a list": _meta("greater_is_better", [True]),
    "greater_is_better misses a metric": _meta("greater_is_better", {}),
    "unknown task": _meta("task", "ranking"),
    "no candidates": _meta("candidates", {}),
    "error a list": _candidate("error", ["x"]),
    "status made up": _candidate("status", "great"),
    "text in the scores": _table("scores.csv", pd.DataFrame(
        {"candidate": ["logreg"], "fold": [0], "subset": ["test"], "metric": ["roc_auc"],
         "value": ["high"]})),
    "a metric meta.json does not name": _table("scores.csv", pd.DataFrame(
        {"candidate": ["logreg"], "fold": [0], "subset": ["test"], "metric": ["made_up"],
         "value": [0.5]})),
    "target of lists": _table("target.parquet", pd.DataFrame({"y": [[1, 2]] * 150})),
    "target too short": _table("target.parquet", pd.DataFrame({"y": [0, 1]})),
    "fold index out of range": _splits(val_0=np.array([10 ** 9])),
    "negative fold index": _splits(train_0=np.array([-1, 2])),
    "float fold indices": _splits(val_0=np.array([0.5, 1.5])),
    "models not a table": lambda p: fs.persist.save_model([1, 2], p / "models"),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_report_is_refused_with_a_message(saved, tmp_path, name):
    path = tmp_path / "report"
    shutil.copytree(saved, path)
    CRAFTED[name](path)
    with pytest.raises(DataError, match="damaged|format"):
        CVReport.load(path)


def test_foldstack_report_on_a_crafted_report_exits_2(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("x,y\n" + "\n".join(f"{i % 7},{i % 2}" for i in range(40)))
    run = tmp_path / "run"
    assert main(["cv", str(tmp_path / "d.csv"), "--target", "y", "--models", "linear",
                 "--cv", "2", "--ensemble", "none", "--out", str(run), "-q"]) == 0
    _meta("n_folds", -1)(run / "report")
    assert main(["report", str(run)]) == 2
    assert "damaged" in capsys.readouterr().err
