"""The command line when things go wrong: --force, a machine that refuses to write, Ctrl-C.

Everything is real: read-only and full file systems (``/sys``, ``/dev/full``, a path under a
regular file, and, where the test may create a private mount namespace, a read-only or tiny
tmpfs), and SIGINT sent to a running ``python -m foldstack.cli`` at moments found by watching
its cache directory.
"""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from foldstack.cli import main

LINEAR = ["--target", "y", "--models", "linear", "--cv", "3", "--ensemble", "none"]
CRASH_WORDS = ("Traceback", "double free", "corruption", "Segmentation", "unexpected error",
               "Exception ignored", "failed")


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A 3,000-row table: xgboost early-stops on it (two fits per fold, a QuantileDMatrix)."""
    root = tmp_path_factory.mktemp("robust")
    X, y = make_classification(n_samples=3000, n_features=12, n_informative=6, random_state=0)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(12)])
    df["c"] = np.where(X[:, 0] > 0, "a", "b")
    df["y"] = np.where(y == 1, "yes", "no")
    df.to_csv(root / "d.csv", index=False)
    return root


@pytest.fixture(scope="module")
def linear_run(table):
    out = table / "linear_run"
    assert main(["cv", str(table / "d.csv"), *LINEAR, "--out", str(out)]) == 0
    return out


def run(argv, capsys):
    code = main([str(a) for a in argv])
    return code, " ".join(capsys.readouterr().err.split())


def cli(*args, cwd):
    """``python -m foldstack.cli`` in a subprocess (what a shell runs)."""
    return subprocess.run([sys.executable, "-m", "foldstack.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


# --force --------------------------------------------------------------------------------------


def test_force_removes_only_the_files_foldstack_wrote(table, capsys):
    out = table / "forced"
    base = ["cv", table / "d.csv", *LINEAR, "--out", out]
    assert run(base, capsys)[0] == 0
    record = json.loads((out / "files.json").read_text())
    assert {"run.json", "leaderboard.csv", "report.html", "model/manifest.json"} <= set(
        record["files"])
    first_entries = {p.parent for p in (out / "cache").rglob("manifest.json")}
    assert len(first_entries) == 3 and all(
        p.relative_to(out).as_posix() + "/manifest.json" in record["files"]
        for p in first_entries)
    mine = {out / "notes.txt": "top", out / "model" / "mine.txt": "model",
            out / "cache" / "mine.txt": "cache", out / "report" / "mine.txt": "report",
            out / "cache" / "tasks" / "keep" / "deep.txt": "deep"}
    for path, text in mine.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    code, err = run([*base, "--seed", "1"], capsys)
    assert code == 2 and "holds a different run" in err and "--force" in err
    code, err = run([*base, "--seed", "1", "--force"], capsys)
    assert code == 0, err
    for path, text in mine.items():
        assert path.read_text() == text, path
    assert "removed the" in err and "kept 5 other file(s)" in err and "model/mine.txt" in err
    entries = {p.parent for p in (out / "cache").rglob("manifest.json")}
    assert len(entries) == 3 and not entries & first_entries   # the old run's cache is gone
    assert json.loads((out / "run.json").read_text())["options"]["seed"] == 1
    # the new model is whole next to the user's file, and predicts
    assert run(["predict", out, table / "d.csv", "-o", table / "forced.csv"], capsys)[0] == 0
    assert len(pd.read_csv(table / "forced.csv")) == 3000
    code, err = run([*base, "--seed", "1", "-v"], capsys)    # the same command resumes
    assert code == 0 and "resuming" in err and "0 tasks to run, 3 from the cache" in err


def test_force_never_deletes_outside_the_run_directory(table, capsys):
    """A planted files.json (a run directory from someone else) cannot aim --force outside."""
    out = table / "planted"
    outside = table / "outside"
    outside.mkdir()
    victims = [table / "victim.txt", outside / "victim.txt"]
    for v in victims:
        v.write_text("precious")
    out.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)
    (out / "run.json").write_text(json.dumps({"run_key": "someone else's"}))
    (out / "files.json").write_text(json.dumps({"format": 1, "dirs": ["link", "..", "/"],
                                                "files": ["../victim.txt", str(victims[0]),
                                                          "link/victim.txt",
                                                          "model/../../victim.txt"]}))
    code, err = run(["cv", table / "d.csv", *LINEAR, "--out", out, "--force"], capsys)
    assert code == 0, err
    assert all(v.read_text() == "precious" for v in victims)
    assert (out / "link").is_symlink()


# exit codes: a machine that refuses --------------------------------------------------------


def test_out_under_a_regular_file_exits_2_naming_the_path(table, capsys):
    (table / "a_file").write_text("x")
    code, err = run(["cv", table / "d.csv", *LINEAR, "--out", table / "a_file" / "run"], capsys)
    assert code == 2, err
    assert "a_file" in err and "not a directory" in err and "--out" in err
    assert "unexpected" not in err and "cached" not in err


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux /sys")
def test_unwritable_out_and_output_exit_2(table, linear_run, capsys):
    # /sys refuses new files even to root (EACCES, or EROFS where it is mounted read-only)
    code, err = run(["cv", table / "d.csv", *LINEAR, "--out", "/sys/kernel/foldstack-run"],
                    capsys)
    assert code == 2, err
    assert "/sys/kernel/foldstack-run" in err and "--out" in err and "unexpected" not in err
    code, err = run(["predict", linear_run, table / "d.csv", "-o", "/sys/kernel/p.csv"],
                    capsys)
    assert code == 2, err
    assert "/sys/kernel/p.csv" in err and "-o" in err
    assert "cached" not in err.lower() and "unexpected" not in err   # predict caches nothing


def test_full_disk_and_directory_as_output_exit_2(table, linear_run, capsys):
    code, err = run(["predict", linear_run, table / "d.csv", "-o", "/dev/full"], capsys)
    assert code == 2, err
    assert "/dev/full" in err and "no space left" in err and "unexpected" not in err
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)   # written to, never replaced by a file
    code, err = run(["predict", linear_run, table / "d.csv", "-o", table], capsys)
    assert code == 2 and "is a directory" in err, err


def _private_mount(script: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run a shell script in a private mount namespace (mounts vanish with it)."""
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs `unshare -m` (root or user namespaces) for a real read-only or "
                    "full file system")
    return subprocess.run(["unshare", "-m", "sh", "-ec", script], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_read_only_file_system_exits_2(table, linear_run, tmp_path):
    mnt = tmp_path / "ro"
    mnt.mkdir()
    py = f"{sys.executable} -m foldstack.cli"
    proc = _private_mount(
        f"mount -t tmpfs tmpfs {mnt}; mkdir {mnt}/empty; mount -o remount,ro {mnt}\n"
        f"set +e\n"
        f"{py} cv d.csv {' '.join(LINEAR)} -q --out {mnt}/new; echo \"rc=$?\"\n"
        f"{py} cv d.csv {' '.join(LINEAR)} -q --out {mnt}/empty; echo \"rc=$?\"\n"
        f"{py} predict {linear_run} d.csv -o {mnt}/p.csv; echo \"rc=$?\"\n", cwd=table)
    err = " ".join(proc.stderr.split())
    assert proc.stdout.split() == ["rc=2"] * 3, proc.stderr
    assert err.count("read-only") == 3 and "unexpected" not in err
    for path in (f"{mnt}/new", f"{mnt}/empty", f"{mnt}/p.csv"):
        assert path in err


def test_full_file_system_during_cv_exits_2(table, tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    proc = _private_mount(
        f"mount -t tmpfs -o size=64k tmpfs {mnt}\nset +e\n"
        f"{sys.executable} -m foldstack.cli cv d.csv {' '.join(LINEAR)} -q --out {mnt}/run\n"
        "echo \"rc=$?\"\n", cwd=table)
    err = " ".join(proc.stderr.split())
    assert proc.stdout.split() == ["rc=2"], proc.stderr
    assert "no space left" in err and str(mnt) in err and "unexpected" not in err


def test_damaged_model_files_exit_2(linear_run, table, tmp_path, capsys):
    import hashlib

    copy = tmp_path / "run"
    shutil.copytree(linear_run / "model", copy / "model")
    manifest_path = copy / "model" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    # damaged, yet consistent with the manifest's hashes
    for name in manifest["files"]:
        part = copy / "model" / name
        data = part.read_bytes()[: part.stat().st_size // 2]
        part.write_bytes(data)
        manifest["files"][name] = hashlib.sha256(data).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    code, err = run(["predict", copy, table / "d.csv", "-o", tmp_path / "p.csv"], capsys)
    assert code == 2 and "damaged" in err and "unexpected" not in err
    manifest_path.write_text("{")
    code, err = run(["predict", copy, table / "d.csv", "-o", tmp_path / "p.csv"], capsys)
    assert code == 2 and "damaged" in err and "unexpected" not in err
    assert not (tmp_path / "p.csv").exists()


# Ctrl-C -------------------------------------------------------------------------------------

XGB = ["--target", "y", "--models", "linear,xgboost", "--cv", "5", "--ensemble", "none"]


def _finished_tasks(out: Path) -> int:
    """Tasks in the cache (one directory with a manifest per finished candidate x fold)."""
    return sum(1 for _ in (out / "cache" / "tasks").glob("*/*/manifest.json"))


def _default_sigint():
    # whoever started pytest may ignore SIGINT (a shell's background job); the child must not
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(cwd: Path, out: Path, extra: list, at: int, delay: float, group: bool,
               tmp: Path) -> tuple[int, int, str]:
    """Start ``foldstack cv``, wait for ``at`` finished tasks (+ ``delay`` s), send SIGINT.

    ``group``: to every process of its group, as a terminal's Ctrl-C does (joblib workers
    included).  Returns the exit code, the tasks finished when SIGINT was sent, and stderr.
    """
    log = tmp / f"err-{at}-{delay}.txt"
    with open(log, "w") as err, open(os.devnull, "w") as devnull:
        proc = subprocess.Popen([sys.executable, "-m", "foldstack.cli", "cv", "d.csv", *XGB,
                                 "--out", out, *extra], cwd=cwd, stdout=devnull, stderr=err,
                                start_new_session=True, preexec_fn=_default_sigint)
        try:
            while _finished_tasks(out) < at and proc.poll() is None:
                time.sleep(0.01)
            time.sleep(delay)
            seen = _finished_tasks(out)
            if group:
                os.killpg(proc.pid, signal.SIGINT)
            else:
                proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    return code, seen, log.read_text()


@pytest.mark.parametrize("extra, group, moments", [
    # one process: after the first fold; then at several points of xgboost folds (the
    # QuantileDMatrix built through Python callbacks, boosting, prediction)
    ([], False, [(1, 0.0), (6, 0.0), (7, 0.02), (8, 0.2), (9, 0.5)]),
    # two joblib workers, Ctrl-C to the whole process group as a terminal sends it
    (["--n-jobs", "2"], True, [(2, 0.0), (6, 0.05), (8, 0.3)]),
], ids=["sequential", "workers"])
def test_ctrl_c_exits_130_keeps_finished_work_and_resumes(table, tmp_path, extra, group,
                                                          moments):
    out = tmp_path / "run"
    for at, delay in moments:
        code, seen, err = _interrupt(table, out, extra, at, delay, group, tmp_path)
        flat = " ".join(err.split())
        info = json.loads((out / "run.json").read_text())
        if info["status"] == "finished":
            # the last fold and the files were done before the signal came (a fast
            # machine): nothing to interrupt, and nothing was lost
            assert code in (0, 130) and _finished_tasks(out) == 10, (at, delay, err)
            continue
        assert code == 130, (at, delay, err)
        assert not [w for w in CRASH_WORDS if w in err], (at, delay, err)
        assert f"interrupted: finished work is kept in {out}/cache" in flat, err
        assert _finished_tasks(out) >= seen >= at       # nothing finished was lost
        info = json.loads((out / "run.json").read_text())
        assert info["status"] == "interrupted" and "candidates" not in info
    kept = _finished_tasks(out)
    proc = cli("cv", "d.csv", *XGB, "--out", out, "-v", *extra, cwd=table)
    flat = " ".join(proc.stderr.split())
    assert proc.returncode == 0, proc.stderr
    assert f"{kept} from the cache" in flat and "failed" not in flat
    board = pd.read_csv(out / "leaderboard.csv", index_col=0)
    assert set(board["status"]) == {"ok"} and set(board.index) == {"linear", "xgboost"}
    assert json.loads((out / "run.json").read_text())["candidates"] == {"linear": "ok",
                                                                         "xgboost": "ok"}


def test_ctrl_c_inside_an_xgboost_fit_waits_for_xgboost_then_raises(table):
    """Outside the command line too (a notebook): the fit stops after the round, then raises."""
    from xgboost.callback import TrainingCallback

    from foldstack.models._xgb import TabularXGBClassifier

    class CtrlCAtRound3(TrainingCallback):
        rounds = 0

        def after_iteration(self, model, epoch, evals_log):
            CtrlCAtRound3.rounds += 1
            if epoch == 3:
                os.kill(os.getpid(), signal.SIGINT)   # arrives in the main thread, in xgboost
            return False

    df = pd.read_csv(table / "d.csv")
    X, y = df.drop(columns=["y", "c"]), df["y"]
    # Python's own handler, as in a notebook, even when the tests run as a background job
    # (whose SIGINT a shell ignores, and foldstack rightly leaves ignored)
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            TabularXGBClassifier(n_estimators=500, callbacks=[CtrlCAtRound3()]).fit(X, y)
        assert CtrlCAtRound3.rounds == 4                  # stopped after the round, no refit
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        clf = TabularXGBClassifier(n_estimators=5, early_stopping=False).fit(X, y)  # none pending
        assert clf.n_rounds_ == 5
    finally:
        signal.signal(signal.SIGINT, handler)


def test_main_leaves_the_sigint_handler_as_it_was(linear_run, capsys):
    handler = signal.getsignal(signal.SIGINT)
    assert run(["report", linear_run], capsys)[0] == 0
    assert signal.getsignal(signal.SIGINT) is handler
