"""A run directory or model handed over by someone else: crafted links and files.

Symbolic links where ``foldstack cv`` writes cannot make it write, replace or delete a file
outside the run directory; crafted JSON (nested 100,000 deep, of the wrong shape) is refused
with exit code 2 and a message, or ignored with a warning, never exit code 3 ("a bug").
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from foldstack.cli import main
from foldstack.cli._outputs import atomic_path, write_csv, write_json
from foldstack.exceptions import InvalidParameterError

LINEAR = ["--target", "y", "--models", "linear", "--cv", "2", "--ensemble", "none", "-q"]
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A small table and one finished run of it (``run``)."""
    root = tmp_path_factory.mktemp("crafted")
    rng = np.random.RandomState(0)
    df = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120),
                       "c": rng.choice(["x", "z"], size=120)})
    df["y"] = np.where(df["a"] + 0.5 * rng.normal(size=120) > 0, "yes", "no")
    df.to_csv(root / "d.csv", index=False)
    assert main(["cv", str(root / "d.csv"), *LINEAR, "--out", str(root / "run")]) == 0
    return root


def run(argv, capsys):
    code = main([str(a) for a in argv])
    return code, " ".join(capsys.readouterr().err.split())


def says(err, *texts):
    """Every text is in the message, however the terminal wrapped its lines."""
    flat = "".join(err.split())
    return all("".join(str(t).split()) in flat for t in texts)


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (links not followed) and its bytes."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(root.rglob("*")) if not p.is_symlink()}


@pytest.fixture
def handed(finished, tmp_path):
    """A copy of the finished run, beside a directory of the user's own files (``mine``)."""
    out = tmp_path / "handed"
    shutil.copytree(finished / "run", out, symlinks=True)
    mine = tmp_path / "mine"
    for rel in ("precious.txt", "manifest.json", "meta.json", "tasks/ab/keep.txt",
                "models/keep.txt", "ab/keep.txt"):
        (mine / rel).parent.mkdir(parents=True, exist_ok=True)
        (mine / rel).write_text(f"the user's {rel}")
    (tmp_path / "models").mkdir()    # a sibling of the run directory: report -> .. reaches it
    (tmp_path / "models" / "keep.txt").write_text("a sibling's file")
    return out


# symbolic links where foldstack writes -----------------------------------------------------

DIR_LINKS = ["model", ".model-new", "report", "cache", "cache/tasks",
             "cache/tasks/ab", "report/models"]
FILE_LINKS = ["cache/tune.sqlite3", "run.json", "files.json", "leaderboard.csv", "oof.parquet",
              "report.html", "data_summary.json", "diagnosis.json", "report/meta.json",
              "model/manifest.json"]


@pytest.mark.parametrize("force", [True, False], ids=["force", "resume"])
@pytest.mark.parametrize("rel", DIR_LINKS + FILE_LINKS)
def test_a_link_in_the_run_directory_is_refused(finished, handed, rel, force, capsys):
    link = handed / rel
    if link.is_dir():
        shutil.rmtree(link)
    elif link.exists():
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    mine = handed.parent / "mine"
    link.symlink_to(mine if rel in DIR_LINKS else mine / "precious.txt",
                    target_is_directory=rel in DIR_LINKS)
    before = _snapshot(handed.parent)
    # --force with other options replaces the run; the same command resumes it
    extra = ["--force", "--seed", "7"] if force else []
    code, err = run(["cv", finished / "d.csv", *LINEAR, "--out", handed, *extra], capsys)
    assert code == 2, err
    assert says(err, link, "symbolic link", "--out"), err
    assert "unexpected" not in err
    assert _snapshot(handed.parent) == before     # nothing written, replaced or deleted
    assert link.is_symlink()


def test_report_linked_to_the_parent_deletes_no_sibling(finished, handed, capsys):
    """The reviewer's case: ``handed/report -> ..`` made ``save_model`` rmtree a sibling."""
    shutil.rmtree(handed / "report")
    (handed / "report").symlink_to("..", target_is_directory=True)
    before = _snapshot(handed.parent)
    code, err = run(["cv", finished / "d.csv", *LINEAR, "--out", handed, "--force", "--seed",
                     "3"], capsys)
    assert code == 2 and says(err, handed / "report", "symbolic link"), err
    assert "unexpected" not in err
    assert (handed.parent / "models" / "keep.txt").read_text() == "a sibling's file"
    assert _snapshot(handed.parent) == before


def test_out_that_is_a_link_is_refused(finished, handed, tmp_path, capsys):
    for target in (handed, tmp_path / "mine", tmp_path / "nowhere"):
        link = tmp_path / f"link-{target.name}"
        link.symlink_to(target, target_is_directory=True)
        before = _snapshot(tmp_path)
        code, err = run(["cv", finished / "d.csv", *LINEAR, "--out", link, "--force"], capsys)
        assert code == 2, err
        assert says(err, link, "symbolic link", "another --out"), err
        assert _snapshot(tmp_path) == before and link.is_symlink()


def test_a_named_pipe_where_an_output_goes_is_refused(finished, handed, capsys):
    (handed / "report.html").unlink()
    os.mkfifo(handed / "report.html")
    code, err = run(["cv", finished / "d.csv", *LINEAR, "--out", handed], capsys)
    assert code == 2 and says(err, handed / "report.html", "not a regular file"), err


def test_links_elsewhere_in_the_run_directory_are_the_users(finished, handed, capsys):
    """A link of the user's own at the top of the run directory (not an output) is kept."""
    (handed / "data.csv").symlink_to(finished / "d.csv")
    code, err = run(["cv", finished / "d.csv", *LINEAR, "--out", handed, "--force", "--seed",
                     "5"], capsys)
    assert code == 0, err
    assert (handed / "data.csv").is_symlink() and (finished / "d.csv").is_file()
    assert json.loads((handed / "run.json").read_text())["seed"] == 5


def test_atomic_writers_refuse_to_write_through_a_link(tmp_path):
    root = tmp_path / "run"
    (root / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.json").write_text("precious")
    (root / "f.json").symlink_to(outside / "f.json")
    (root / "dir").symlink_to(outside, target_is_directory=True)
    for path in (root / "f.json", root / "dir" / "f.json", root / "dir" / "new.json",
                 root / "sub" / ".." / ".." / "outside" / "f.json"):
        with pytest.raises(InvalidParameterError, match="Refusing to write"):
            write_json({"a": 1}, path, inside=root)
        with pytest.raises(InvalidParameterError, match="Refusing to write"):
            write_csv(pd.DataFrame({"a": [1]}), path, inside=root)
        with pytest.raises(InvalidParameterError, match="Refusing to write"), \
                atomic_path(path, inside=root) as tmp:
            tmp.write_text("x")
    assert sorted(p.name for p in outside.iterdir()) == ["f.json"]
    assert (outside / "f.json").read_text() == "precious"
    write_json({"a": 1}, root / "sub" / "ok.json", inside=root)     # no link: written
    assert json.loads((root / "sub" / "ok.json").read_text()) == {"a": 1}


# crafted JSON in run directories -------------------------------------------------------------


def test_cv_without_out_ignores_a_crafted_or_linked_run(finished, tmp_path, monkeypatch,
                                                        capsys):
    """runs/ holding a nested run.json and a link to a run of the same command: a new run."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "zz-deep").mkdir(parents=True)
    (tmp_path / "runs" / "zz-deep" / "run.json").write_text(DEEP)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(finished / "run", elsewhere)
    (tmp_path / "runs" / "zz-link").symlink_to(elsewhere, target_is_directory=True)
    before = _snapshot(elsewhere)
    code, err = run(["cv", finished / "d.csv", *LINEAR], capsys)
    assert code == 0, err
    new = [p for p in (tmp_path / "runs").iterdir() if not p.name.startswith("zz-")]
    assert len(new) == 1 and (new[0] / "model" / "manifest.json").is_file()
    assert (tmp_path / "runs" / "zz-deep" / "run.json").read_text() == DEEP
    assert _snapshot(elsewhere) == before


def test_force_with_a_crafted_files_record_removes_nothing_and_says_so(finished, handed,
                                                                       capsys):
    (handed / "files.json").write_text(DEEP)
    (handed / "cache" / "mine.txt").write_text("mine")
    code, err = run(["cv", finished / "d.csv", *LINEAR[:-1], "--out", handed, "--force",
                     "--seed", "9"], capsys)
    assert code == 0, err
    assert says(err, handed / "files.json", "none of its files will be removed"), err
    assert "unexpected" not in err
    assert (handed / "cache" / "mine.txt").read_text() == "mine"
    assert json.loads((handed / "files.json").read_text())["format"] == 1   # a new record


def test_out_with_a_crafted_run_json_is_not_a_run(finished, handed, capsys):
    (handed / "run.json").write_text(DEEP)
    (handed / "files.json").unlink()
    code, err = run(["cv", finished / "d.csv", *LINEAR, "--out", handed], capsys)
    assert code == 2 and says(err, "no readable foldstack run.json", "--force"), err


def test_report_with_crafted_json(finished, handed, capsys):
    (handed / "data_summary.json").write_text(DEEP)
    code, err = run(["report", handed], capsys)
    assert code == 0, err
    assert says(err, handed / "data_summary.json", "nested too deeply"), err
    assert "unexpected" not in err
    (handed / "run.json").write_text(DEEP)
    code, err = run(["report", handed], capsys)
    assert code == 2 and says(err, handed / "run.json", "damaged"), err
    assert "unexpected" not in err


# crafted model manifests -------------------------------------------------------------------


def _schema_of(m):
    return m["metadata"]["schema"]


MANIFESTS = {
    "schema is text": lambda m: m["metadata"].update(schema="abc"),
    "columns an int": lambda m: _schema_of(m).update(columns=5),
    "columns not text": lambda m: _schema_of(m).update(columns=[1, 2]),
    "no columns": lambda m: _schema_of(m).update(columns=[]),
    "numeric an int": lambda m: _schema_of(m).update(numeric=5),
    "no task": lambda m: _schema_of(m).pop("task"),
    "unknown task": lambda m: _schema_of(m).update(task="ranking"),
    "target a list": lambda m: _schema_of(m).update(target=["y"]),
    "no metadata": lambda m: m.pop("metadata"),
    "tree an int": lambda m: m.update(tree=5),
    "tree a list": lambda m: m.update(tree={"$t": "list", "items": [1, 2]}),
}


@pytest.mark.parametrize("proba", [False, True], ids=["labels", "proba"])
@pytest.mark.parametrize("case", list(MANIFESTS))
def test_predict_with_a_crafted_manifest_exits_2(finished, tmp_path, case, proba, capsys):
    model = tmp_path / "model"
    shutil.copytree(finished / "run" / "model", model)
    manifest = json.loads((model / "manifest.json").read_text())
    MANIFESTS[case](manifest)
    (model / "manifest.json").write_text(json.dumps(manifest))
    code, err = run(["predict", model, finished / "d.csv", "-o", tmp_path / "p.csv",
                     *(["--proba"] if proba else [])], capsys)
    assert code == 2, (case, err)
    assert says(err, model, "foldstack cv"), err
    assert "unexpected" not in err
    assert not (tmp_path / "p.csv").exists()


def test_predict_still_works_on_the_run(finished, tmp_path, capsys):
    for extra in ([], ["--proba"]):
        code, err = run(["predict", finished / "run", finished / "d.csv", "-o",
                         tmp_path / "p.csv", *extra], capsys)
        assert code == 0, err
        assert len(pd.read_csv(tmp_path / "p.csv")) == 120
