"""load_table and infer_task."""

import numpy as np
import pandas as pd
import pytest

import foldstack as fs
from foldstack.exceptions import DataError, DataWarning, InvalidParameterError


@pytest.mark.parametrize("y, task", [
    (["yes", "no", "yes"], "binary"),
    ([True, False, True], "binary"),
    ([0, 1, 1, 0, 1, 0], "binary"),
    (["a", "b", "c", "a"], "multiclass"),
    ([0, 1, 2, 2, 1, 0, 1, 2], "multiclass"),
    ([0.5, 1.25, 3.0], "regression"),
    (list(range(100)), "regression"),
    (pd.Series(["x", "y", None, "x"]), "binary"),
    (pd.Categorical(["lo", "hi", "mid", "lo"]), "multiclass"),
])
def test_infer_task(y, task):
    assert fs.infer_task(y) == task


def test_infer_task_errors_and_override():
    with pytest.raises(DataError, match="single class"):
        fs.infer_task(["a", "a"])
    with pytest.raises(DataError, match="no values"):
        fs.infer_task([None, None])
    with pytest.raises(DataError, match="numeric target"):
        fs.infer_task(["a", "b"], task="regression")
    with pytest.raises(DataError, match="3 classes"):
        fs.infer_task(["a", "b", "c"], task="binary")
    with pytest.raises(InvalidParameterError, match="Did you mean 'binary'"):
        fs.infer_task([0, 1], task="binnary")
    assert fs.infer_task([0, 1, 2, 3], task="regression") == "regression"


def test_load_csv_parquet_and_delimiters(tmp_path):
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"], "c": [0.5, np.nan, 1.5]})
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_csv(tmp_path / "t_semi.csv", index=False, sep=";")
    df.to_csv(tmp_path / "t.tsv", index=False, sep="\t")
    df.to_parquet(tmp_path / "t.parquet")
    for name in ("t.csv", "t_semi.csv", "t.tsv", "t.parquet"):
        got = fs.load_table(tmp_path / name)
        assert list(got.columns) == ["a", "b", "c"], name
        assert got["b"].isna().sum() == 1 and got["a"].tolist() == [1, 2, 3]


def test_load_latin1_with_warning(tmp_path):
    (tmp_path / "l.csv").write_bytes("name,city\nJos\xe9,M\xe1laga\n".encode("latin-1"))
    with pytest.warns(DataWarning, match="not valid UTF-8"):
        got = fs.load_table(tmp_path / "l.csv")
    assert got.loc[0, "name"] == "José"


@pytest.mark.parametrize("content, match", [
    (None, "No such file"),
    (b"", "empty"),
    (b"a,b\n", "no data rows"),
    (b"\x00\x01\x02binary\x00", "binary file"),
    (b"a,b\n1,2\n3,4,5,6\n", "Cannot parse"),
])
def test_load_errors(tmp_path, content, match):
    path = tmp_path / "f.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=match):
        fs.load_table(path)


def test_load_broken_parquet_and_directory(tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 nonsense")
    with pytest.raises(DataError, match="Cannot read .* as Parquet"):
        fs.load_table(tmp_path / "bad.parquet")
    with pytest.raises(DataError, match="is a directory"):
        fs.load_table(tmp_path)
