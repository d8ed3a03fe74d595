"""Hostile input (issue #14): what a careless or malicious file does to foldstack.

Each case gets a clear error (exit code 2 in the CLI), or a warning where the data is usable.
"""

import builtins
import html
import json
import pickle
import re
import warnings
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import foldstack as fs
from foldstack.cli import main
from foldstack.data import split_target
from foldstack.exceptions import DataError, DataWarning
from tests.helpers import write_small_table


def run(argv, capsys):
    code = main([str(a) for a in argv])
    return code, " ".join(capsys.readouterr().err.split())


@pytest.fixture()
def data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # default run directories go under ./runs
    return write_small_table(tmp_path)


# 1. duplicate column names ---------------------------------------------------------------

def test_duplicate_csv_header_is_an_error_not_a_rename(tmp_path, capsys):
    (tmp_path / "dup.csv").write_text("age,female,income,female\n30,1,10,0\n40,0,12,1\n")
    with pytest.raises(DataError, match=r"duplicate column names: \['female'\] \('female' in "
                                        r"columns 2, 4\)\. Rename them"):
        fs.load_table(tmp_path / "dup.csv")
    # a header that really says "female.1" is two distinct names
    (tmp_path / "ok.csv").write_text("female,female.1\n1,0\n0,1\n")
    assert list(fs.load_table(tmp_path / "ok.csv").columns) == ["female", "female.1"]
    code, err = run(["cv", tmp_path / "dup.csv", "--target", "income"], capsys)
    assert code == 2 and "duplicate column names: ['female']" in err


def test_duplicate_parquet_columns_are_a_clear_error(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4]), pa.array([5, 6])],
                                 names=["a", "b", "a"])
    pq.write_table(table, tmp_path / "dup.parquet")
    with pytest.raises(DataError, match=r"duplicate column names: \['a'\].*Rename them") as info:
        fs.load_table(tmp_path / "dup.parquet")
    assert "FieldRef" not in str(info.value)  # no pyarrow internals


# 2. decimal commas -----------------------------------------------------------------------

def test_european_csv_reads_decimal_commas_as_numbers_with_a_warning(tmp_path):
    (tmp_path / "eu.csv").write_text(
        "price;qty;city;big;spaced;amount\n"
        "1,5;2;Köln;1.234,5;1 234,5;-0,25\n"
        "2,25;3;Bonn;2.000.000;12;\n"
        "10;4;Köln;7;3,5;4\n", encoding="utf-8")
    with pytest.warns(DataWarning, match=r"decimal comma as numbers: 'price' \(e\.g\. '1,5' -> "
                                         r"1\.5\), 'big'.*'spaced'.*'amount'"):
        df = fs.load_table(tmp_path / "eu.csv")
    assert df["price"].tolist() == [1.5, 2.25, 10.0]
    assert df["big"].tolist() == [1234.5, 2000000.0, 7.0]
    assert df["spaced"].tolist() == [1234.5, 12.0, 3.5]
    assert df["amount"].iloc[0] == -0.25 and np.isnan(df["amount"].iloc[1])
    assert df["qty"].tolist() == [2, 3, 4] and df["city"].tolist() == ["Köln", "Bonn", "Köln"]


def test_ambiguous_or_comma_separated_values_stay_text(tmp_path):
    # "1.234" next to "2,5": a thousands dot (1234) or a decimal point (1.234)? Left as text.
    (tmp_path / "amb.csv").write_text("a;b\n1.234;1\n2,5;2\n")
    with pytest.warns(DataWarning, match=r"\['a'\].*'1\.234'.*left as text"):
        df = fs.load_table(tmp_path / "amb.csv")
    assert df["a"].tolist() == ["1.234", "2,5"]
    # with "," as the delimiter a quoted "1,500" may be 1500: never converted
    (tmp_path / "us.csv").write_text('a,b\n"1,500",1\n"2,5",2\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        df = fs.load_table(tmp_path / "us.csv")
    assert df["a"].tolist() == ["1,500", "2,5"]
    # a text column with some commas is not a number column
    (tmp_path / "t.tsv").write_text("a\tb\n1,5\tx\nred, green\ty\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        assert fs.load_table(tmp_path / "t.tsv")["a"].tolist() == ["1,5", "red, green"]


# 3. ids written exactly as read ----------------------------------------------------------

def test_predict_writes_ids_exactly_as_read(data, capsys):
    assert run(["cv", data / "d.csv", "--target", "target", "--models", "linear", "--cv", "3",
                "--ensemble", "none", "--out", data / "run", "-q"], capsys)[0] == 0
    ids = ["0012", "1e3", "-0", "", "NA", "=1+2"]
    rows = [f"{i},{x},{c}" for i, x, c in zip(ids, np.linspace(-1, 1, 6), "ababab")]
    (data / "new.csv").write_text("customer,x,c\n" + "\n".join(rows) + "\n")
    assert run(["predict", data / "run", data / "new.csv", "--id-col", "customer",
                "-o", data / "p.csv"], capsys)[0] == 0
    lines = (data / "p.csv").read_text().splitlines()
    assert lines[0] == "customer,target"
    # as read; a missing id stays empty; a formula is still defused for spreadsheets
    assert [line.split(",")[0] for line in lines[1:]] == ["0012", "1e3", "-0", "", "NA",
                                                          "'=1+2"]
    # Parquet keeps the stored values: an integer id with a missing one is not 12.0
    pd.DataFrame({"customer": pd.array([12, None, 7], dtype="Int64"), "x": [0.1, 0.2, 0.3],
                  "c": ["a", "b", "a"]}).to_parquet(data / "new.parquet")
    assert run(["predict", data / "run", data / "new.parquet", "--id-col", "customer",
                "--proba", "-o", data / "p2.csv"], capsys)[0] == 0
    lines = (data / "p2.csv").read_text().splitlines()
    assert lines[0] == "customer,no,yes"
    assert [line.split(",")[0] for line in lines[1:]] == ["12", "", "7"]


def test_text_columns_of_load_table(tmp_path):
    (tmp_path / "ids.csv").write_text("id,x\n0012,1\n1e3,2\n-0,3\n,4\nNA,5\n")
    df = fs.load_table(tmp_path / "ids.csv", text_columns=["id", "not_there"])
    assert df["id"].iloc[[0, 1, 2, 4]].tolist() == ["0012", "1e3", "-0", "NA"]
    assert pd.isna(df["id"].iloc[3]) and df["x"].tolist() == [1, 2, 3, 4, 5]


# 4. and 5. config key `data`, --n-jobs 0 -------------------------------------------------

def test_config_key_data_says_it_belongs_on_the_command_line(data, capsys):
    (data / "c.toml").write_text('data = "d.csv"\n')
    code, err = run(["cv", data / "d.csv", "--target", "target", "--config", data / "c.toml"],
                    capsys)
    assert code == 2
    assert "cannot be set in a config file" in err and "foldstack cv DATA --config" in err
    assert "Did you mean" not in err


@pytest.mark.parametrize("line, key", [
    ('backend = "dask"\nscheduler = "tcp://127.0.0.1:1"\n', "backend"),
    ('scheduler = "tcp://127.0.0.1:1"\n', "scheduler"),
    ("allow_pickle = true\n", "allow_pickle"),
])
def test_config_cannot_choose_whom_to_trust(data, capsys, line, key):
    """A shared config must not send the data to a cluster (whose results are unpickled
    here) nor allow pickles: those are the user's own decisions, on the command line."""
    (data / "c.toml").write_text(line)
    code, err = run(["cv", data / "d.csv", "--target", "target", "--config", data / "c.toml"],
                    capsys)
    assert code == 2
    assert f"{key!r} can only be given on the command line" in err
    assert not (data / "runs").exists()   # refused before any work


@pytest.mark.parametrize("argv, config", [
    (["--n-jobs", "0"], ""),
    ([], "n_jobs = 0\n"),
    ([], 'n_jobs = "4"\n'),
    ([], "n_jobs = 1.5\n"),
])
def test_n_jobs_must_be_a_non_zero_integer(data, capsys, argv, config):
    (data / "c.toml").write_text(config)
    code, err = run(["cv", data / "d.csv", "--target", "target", "--models", "linear",
                     "--config", data / "c.toml", *argv], capsys)
    assert code == 2 and "--n-jobs must be a non-zero integer" in err and "-1: all" in err
    assert not (data / "runs").exists()  # refused before any work


# 6. parameters that make a library load files --------------------------------------------

class _Plant:
    """A pickle that creates a file when loaded: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


def test_config_cannot_make_joblib_load_a_planted_pickle(data, capsys):
    from foldstack.models import default_candidates

    cache, marker = data / "shared_cache", data / "PWNED"
    # Fill a joblib cache the way `foldstack cv --models linear --cv 3` would, then replace
    # every cached result by the planted pickle and check that it is live: a rerun loads it.
    X, y = split_target(fs.load_table(data / "d.csv"), "target")
    cands = default_candidates("binary", random_state=0, names=["linear"])
    cands["linear"].set_params(memory=str(cache))
    fs.selection.cross_validate_candidates(cands, X, y, cv=3, random_state=0, verbose=0)
    planted = list(cache.rglob("output.pkl"))
    assert planted
    for path in planted:
        path.write_bytes(pickle.dumps(_Plant(marker)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs.selection.cross_validate_candidates(cands, X, y, cv=3, random_state=0, verbose=0)
    assert marker.exists()
    marker.unlink()

    for name, toml in [
        ("top", f"[params.linear]\nmemory = {json.dumps(str(cache))}\n"),
        ("nested", f"[params.linear]\ncolumns__num__memory = {json.dumps(str(cache))}\n"),
        ("space", f"[space.linear]\nmemory = ['categorical', [{json.dumps(str(cache))}]]\n"),
    ]:
        (data / f"{name}.toml").write_text(toml)
        code, err = run(["cv", data / "d.csv", "--target", "target", "--models", "linear",
                         "--cv", "3", "--ensemble", "none", "--tune", "2", "--config",
                         data / f"{name}.toml", "--out", data / f"out_{name}", "-q"], capsys)
        assert code == 2, (name, err)
        assert "cannot be set in a config file" in err and "joblib cache directory" in err
        assert "can run code" in err
        assert not marker.exists(), name
        assert not (data / f"out_{name}").exists()  # refused before any work


def test_no_default_candidate_parameter_loads_a_file_unchecked():
    """Every parameter of the default candidates that names a file or directory is refused."""
    from foldstack.models import default_candidates
    from foldstack.utils._validation import FILE_PARAMS

    looks_like_a_path = re.compile(r"memory|path|file|dir|checkpoint|xgb_model|^f_|load|cache")
    for task in fs.data.TASKS:
        for name, est in default_candidates(task).items():
            for key in est.get_params(deep=True):
                last = key.rsplit("__", 1)[-1]
                if looks_like_a_path.search(last):
                    assert last in FILE_PARAMS, (task, name, key)


# 7. `$` in labels is not mathtext --------------------------------------------------------

def test_dollar_signs_in_labels_and_names_are_drawn_literally():
    from matplotlib.text import Text

    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.normal(size=90), "b": rng.normal(size=90)})
    labels = np.array(["$5", "$10$", r"$\frac{$"])   # the last one fails to parse as math
    y = labels[np.argmax(np.c_[X["a"], X["b"], -X["a"]] + rng.normal(size=(90, 3)), axis=1)]
    linear = fs.models.default_candidates("multiclass", names=["linear"])["linear"]
    cands = {"$x$ model": linear, "a_b 50%": fs.models.default_candidates(
        "multiclass", names=["linear"])["linear"]}
    report = fs.selection.cross_validate_candidates(cands, X, y, cv=3, random_state=0,
                                                    verbose=0)
    D = fs.diagnostics
    for draw in (D.plot_confusion_matrix, D.plot_roc_pr, D.plot_leaderboard,
                 D.plot_train_validation, D.plot_correlation):
        fig = draw(report)
        assert fig.to_png().startswith(b"\x89PNG")      # draws: no mathtext parse error
        shown = [t._preprocess_math(t.get_text()) for t in fig.findobj(Text) if t.get_text()]
        assert not any(is_math for _, is_math in shown), draw.__name__
        text = " ".join(s for s, _ in shown)
        wanted = labels if draw in (D.plot_confusion_matrix, D.plot_roc_pr) else ["$x$ model"]
        for label in wanted:
            assert label in text, (draw.__name__, label)
    fig = D.plot_epoch_curves(pd.DataFrame({"epoch": [1, 2], "train_loss": [1.0, 0.5]}),
                              title="$5 net$")
    shown = [t._preprocess_math(t.get_text()) for t in fig.findobj(Text)]
    assert ("$5 net$", False) in shown


# 8. the HTML report escapes everything it reads ------------------------------------------

class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = set(), set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_escapes_every_string(tmp_path):
    script, img = "<script>alert(1)</script>", '"><img src=x onerror=alert(2)>'
    rng = np.random.RandomState(0)
    X = pd.DataFrame({script: rng.normal(size=60), img: rng.normal(size=60)})
    y = np.where(X[script] + rng.normal(size=60) > 0, script, img)
    linear = fs.models.default_candidates("binary", names=["linear"])["linear"]
    report = fs.selection.cross_validate_candidates({img + script: linear}, X, y, cv=3,
                                                    random_state=0, verbose=0)
    summary = fs.report.data_summary(X, y)
    summary.update(rows=script, columns=img, missing_cells=script,
                   columns_by_kind={img: script}, missing_by_column={script: img})
    run_info = {"command": script, "options": {img: script}, "data": {"path": img}}
    path = fs.report.write_html(report, tmp_path / "r.html", summary=summary, title=script,
                                run_info=run_info, chosen=img + script)
    text = path.read_text()
    parser = _Tags()
    parser.feed(text)
    assert "script" not in parser.tags and not {a for a in parser.attrs if a.startswith("on")}
    assert parser.tags <= {"html", "head", "meta", "title", "style", "body", "section", "h1",
                           "h2", "h3", "p", "b", "table", "thead", "tbody", "tr", "th", "td",
                           "div", "figure", "img", "figcaption", "pre"}
    assert script not in text and 'onerror=alert(2)>' not in text
    assert html.escape(script) in text and html.escape(img) in text
    shown = "".join(parser.text)
    assert script in shown and img in shown   # escaped, not dropped
    # a hand-edited data_summary.json of the wrong shape is shown as far as it goes
    odd = {"rows": None, "target": [script], "columns_by_kind": script,
           "missing_by_column": [1], "column_kinds": None}
    text = fs.report.render_html(report, summary=odd)
    assert "None rows" in text and script not in text
