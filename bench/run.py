"""The benchmark suite in one command: every bench script, the peers, a Markdown summary.

    python -m bench                              # all six scripts, full size (hours)
    python -m bench --quick                      # small options, 1 thread, < 10 min
    python -m bench --only suite tune            # some scripts
    python -m bench --only peers --peers sklearn_stack \\
        autogluon=/work/peers/autogluon/bin/python flaml=/work/peers/flaml/bin/python
    python -m bench --opt suite="--sets ames --cv 3" --only suite

Each script runs in its own subprocess (``python -m bench._child DIR SCRIPT ARGS``, i.e.
``python -m bench.SCRIPT ARGS`` with its CSVs written to DIR), one after the other; a failing
script is reported at the end (exit status 1) and does not stop the others.  Results go to
bench/results/ (``--quick``: bench/results/quick/, so the full results are never
overwritten), each step's output to ``<DIR>/logs/<step>.log``, and ``<DIR>/SUMMARY.md`` gets
the date, the machine, the steps and one Markdown table per CSV written in this run.

``--only`` picks bench scripts; ``--peers`` adds the peer runs after them (``--only peers
--peers ...``: the peers alone).  ``--peers SYSTEM[=PYTHON]`` runs ``bench/peers.py
--system SYSTEM`` with the peer's own interpreter (``sklearn_stack`` defaults to this one),
then merges every ``<DIR>/peers_*.csv`` and foldstack's ``AutoEnsemble`` rows from ``<DIR>/suite.csv`` into
``<DIR>/peers.csv`` (set, metric, system, holdout, seconds, ...).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger("bench")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SCRIPTS = ("cache_rerun", "mlp_overhead", "defaults", "vs_sklearn", "suite", "tune")
STEPS = (*SCRIPTS, "peers")
# --quick: each script's own small options (later --opt arguments override them).
QUICK_ARGS = {
    "cache_rerun": ["--quick"],                                   # 1,500 rows, 3 folds
    "mlp_overhead": ["--epochs", "3", "--repeats", "1"],          # 2 timed epochs per method
    "defaults": ["--sets", "penguins", "concrete", "--holdout-sets", "penguins", "concrete"],
    "vs_sklearn": ["--sets", "penguins", "concrete", "--cv", "3"],
    "suite": ["--sets", "penguins", "concrete", "--cv", "3"],
    "tune": ["--quick", "--sets", "concrete", "--trials", "12", "--cv", "3"],
}
QUICK_PEER_SETS, QUICK_TIME_BUDGET = ["penguins"], 20.0
THREADS_OPTION = {"mlp_overhead", "defaults"}  # scripts with their own --threads
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
SET_ORDER = ("wa_churn", "credit_data", "penguins", "ames", "concrete", "diamonds")


@dataclass
class Step:
    """One subprocess of the run and what came of it."""

    name: str
    command: list[str]
    shown: str                      # the command as a user would type it
    rc: int | None = None
    seconds: float = 0.0
    csvs: list[Path] = field(default_factory=list)
    log: Path | None = None
    note: str = ""


def _csv_state(folder: Path) -> dict[Path, int]:
    """Modification time of each CSV in ``folder`` (to find what a step wrote)."""
    return {p: p.stat().st_mtime_ns for p in folder.glob("*.csv")}


def _python_of(spec: str) -> tuple[str, str]:
    """``"SYSTEM=PYTHON"`` -> (system, interpreter); sklearn_stack defaults to this one."""
    system, _, python = spec.partition("=")
    if not python:
        if system != "sklearn_stack":
            raise SystemExit(f"--peers {spec}: give the peer's interpreter, e.g. "
                             f"{system}=/work/peers/{system}/bin/python")
        python = sys.executable
    return system, python


def plan(args: argparse.Namespace) -> list[Step]:
    """The steps of this run, in order, with their full command lines.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``python -m bench``.

    Returns
    -------
    list of Step
        The bench scripts, then one step per peer system.
    """
    opts: dict[str, list[str]] = {}
    for item in args.opt:
        name, sep, rest = item.partition("=")
        if not sep or name not in STEPS:
            raise SystemExit(f"--opt {item!r}: expected NAME=\"ARGS\" with NAME in {STEPS}")
        opts.setdefault(name, []).extend(shlex.split(rest))
    only = set(args.only or SCRIPTS) | ({"peers"} if args.peers else set())
    steps = []
    for name in SCRIPTS:
        if name not in only:
            continue
        extra = list(QUICK_ARGS[name]) if args.quick else []
        if args.threads and name in THREADS_OPTION:
            extra += ["--threads", str(args.threads)]
        extra += opts.get(name, [])
        cmd = [sys.executable, "-m", "bench._child", str(args.results_dir), name, *extra]
        steps.append(Step(name, cmd, shlex.join(["python", "-m", f"bench.{name}", *extra])))
    if "peers" in only:
        sets = args.peer_sets or (QUICK_PEER_SETS if args.quick else None)
        budget = args.time_budget or (QUICK_TIME_BUDGET if args.quick else None)
        extra = ["--sets", *sets] if sets else []
        extra += ["--time-budget", f"{budget:g}"] if budget else []
        extra += ["--threads", str(args.threads)] if args.threads else []
        extra += opts.get("peers", [])
        for spec in args.peers or []:
            system, python = _python_of(spec)
            peer = [str(ROOT / "bench" / "peers.py"), "--system", system, *extra]
            cmd = [python, *peer, "--results-dir", str(args.results_dir)]
            steps.append(Step(f"peers:{system}", cmd, shlex.join([python, "bench/peers.py",
                                                                  *peer[1:]])))
    return steps


def run_step(step: Step, env: dict[str, str], logs: Path, results: Path) -> None:
    """Run one step, echoing and logging its output; fill in rc, seconds, csvs.

    Parameters
    ----------
    step : Step
        The step; updated in place.
    env : dict
        The subprocess environment.
    logs : Path
        Folder of the per-step logs.
    results : Path
        The results folder, watched for new or rewritten CSVs.
    """
    before = _csv_state(results)
    step.log = logs / f"{step.name.replace(':', '_')}.log"
    start = time.perf_counter()
    python = step.command[0]
    if not (Path(python).exists() or python == sys.executable):
        step.rc, step.note = 127, f"interpreter not found: {python}"
        step.log.write_text(f"$ {step.shown}\n{step.note}\n")
    else:
        with open(step.log, "w") as log:
            log.write(f"$ {step.shown}\n")
            proc = subprocess.Popen(step.command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, bufsize=1)
            try:
                assert proc.stdout is not None
                for line in proc.stdout:
                    sys.stdout.write(line)
                    log.write(line)
                step.rc = proc.wait()
            except KeyboardInterrupt:
                proc.terminate()
                proc.wait()
                raise
        if step.rc:
            tail = [ln for ln in step.log.read_text().splitlines() if ln.strip()][-1:]
            step.note = tail[0][:200] if tail else ""
    step.seconds = time.perf_counter() - start
    after = _csv_state(results)
    step.csvs = sorted(p for p, t in after.items() if before.get(p) != t)


def merge_peers(results: Path) -> pd.DataFrame | None:
    """Merge ``peers_*.csv`` and foldstack's ``suite.csv`` rows into ``peers.csv``.

    Parameters
    ----------
    results : Path
        The results folder holding the peer CSVs (and, where present, ``suite.csv``).

    Returns
    -------
    pandas.DataFrame or None
        The comparison table (set, metric, system, holdout, seconds, version, time_budget,
        rows_train, note), or None when no peer CSV is there.
    """
    paths = sorted(results.glob("peers_*.csv"))
    if not paths:
        return None
    frames = []
    for path in paths:
        df = pd.read_csv(path)
        df["note"] = df.get("best_model", pd.Series("", index=df.index)).fillna("").astype(str)
        if "error" in df:
            err = df["error"].fillna("").astype(str)
            df.loc[err != "", "note"] = "failed: " + err[err != ""]
        frames.append(df)
    peers = pd.concat(frames, ignore_index=True)
    suite_csv = results / "suite.csv"
    if suite_csv.exists():
        suite = pd.read_csv(suite_csv)
        detail_csv = results / "suite_detail.csv"
        rows_train = (pd.read_csv(detail_csv).set_index("data")["rows_train"]
                      if detail_csv.exists() else pd.Series(dtype=float))
        try:
            version = metadata.version("foldstack")
        except metadata.PackageNotFoundError:
            version = "?"
        frames = [peers, pd.DataFrame({
            "set": suite["data"], "metric": suite["metric"], "system": "foldstack",
            "holdout": suite["chosen_holdout"], "seconds": suite["seconds"],
            "version": version, "time_budget": np.nan,
            "rows_train": suite["data"].map(rows_train),
            "note": "AutoEnsemble defaults, chose " + suite["chosen"].astype(str)})]
        wanted = set(peers["set"])
        frames[1] = frames[1][frames[1]["set"].isin(wanted)]
        peers = pd.concat(frames, ignore_index=True)
    cols = ["set", "metric", "system", "holdout", "seconds", "version", "time_budget",
            "rows_train", "note"]
    peers = peers.reindex(columns=cols)
    order = {n: i for i, n in enumerate(SET_ORDER)}
    peers = peers.sort_values(["set", "system"], key=lambda c: c.map(order).fillna(99)
                              if c.name == "set" else c).reset_index(drop=True)
    peers.to_csv(results / "peers.csv", index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:.4f}".format):
        print(f"\npeers vs foldstack (75/25 holdout)\n{peers.to_string(index=False)}\n"
              f"-> {results / 'peers.csv'}", flush=True)
    return peers


def _cell(v: object) -> str:
    """One Markdown table cell: floats to 4 significant digits, NaN empty, ``|`` escaped."""
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return ""
        return f"{v:.1f}" if abs(v) >= 100 else f"{v:.4g}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``df`` (floats to 4 significant digits).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.

    Returns
    -------
    str
        Header, separator and one line per row.
    """
    lines = ["| " + " | ".join(_cell(c) for c in df.columns) + " |",
             "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |"
              for row in df.itertuples(index=False)]
    return "\n".join(lines)


def machine_info() -> dict[str, str]:
    """Date, machine, interpreter and library versions for the summary.

    Returns
    -------
    dict
        Labels to values.
    """
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for dist in ("foldstack", "torch", "xgboost", "scikit-learn", "skorch", "numpy", "pandas"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} -")
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {"date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {cpu}, "
                       f"{platform.system()} {platform.release()}",
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "versions": ", ".join(versions), "commit": commit or "?",
            "load average (1/5/15 min) at the end": load}


def write_summary(path: Path, steps: list[Step], args: argparse.Namespace,
                  argv: list[str], extra_csvs: list[Path]) -> None:
    """Write ``SUMMARY.md``: run facts, the step table, one table per CSV written.

    Parameters
    ----------
    path : Path
        Where to write.
    steps : list of Step
        The finished steps.
    args : argparse.Namespace
        The parsed command line.
    argv : list of str
        The raw command line, quoted in the summary.
    extra_csvs : list of Path
        CSVs written by this process itself (``peers.csv``).
    """
    info = machine_info()
    threads = args.threads or "the libraries' defaults"
    out = ["# foldstack benchmarks", ""]
    out += [f"- {k}: {v}" for k, v in info.items()]
    out += [f"- command: `{shlex.join(['python', '-m', 'bench', *argv])}`",
            f"- mode: {'quick (small options; not results to quote)' if args.quick else 'full'}"
            f", results in `{_rel(args.results_dir)}/`",
            f"- threads: {threads}", "",
            "Peers ran at a fixed time budget on the same 75/25 splits; quote results only from "
            "side-by-side runs on one machine.", "", "## Steps", ""]
    out.append(markdown_table(pd.DataFrame([
        {"step": s.name, "status": "ok" if s.rc == 0 else f"FAILED (exit {s.rc})",
         "seconds": round(s.seconds, 1), "command": f"`{s.shown}`",
         "csv": ", ".join(p.name for p in s.csvs), "note": s.note} for s in steps])))
    for step in steps:
        for csv in step.csvs:
            out += ["", f"## {csv.stem} ({step.name})", "", markdown_table(pd.read_csv(csv))]
    for csv in extra_csvs:
        out += ["", f"## {csv.stem} (merged)", "", markdown_table(pd.read_csv(csv))]
    path.write_text("\n".join(out) + "\n")


def _rel(p: Path) -> str:
    """``p`` relative to the repository root where it lies inside it."""
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark steps, merge the peers, write SUMMARY.md.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when every step succeeded, 1 otherwise.
    """
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--quick", action="store_true",
                        help="each script's small options (see QUICK_ARGS), results in "
                             "bench/results/quick/")
    parser.add_argument("--only", nargs="+", choices=STEPS, metavar="NAME",
                        help=f"run only these steps, of {', '.join(STEPS)}")
    parser.add_argument("--peers", nargs="+", metavar="SYSTEM[=PYTHON]",
                        help="peer systems to run with bench/peers.py (autogluon, flaml: "
                             "give their venv's python; sklearn_stack: this one by default)")
    parser.add_argument("--peer-sets", nargs="+", metavar="SET",
                        help="sets for the peers (default: all six; --quick: penguins)")
    parser.add_argument("--time-budget", type=float, default=None,
                        help="seconds per set for the AutoML peers (default 120; --quick: 20)")
    parser.add_argument("--threads", type=int, default=None,
                        help="OMP/MKL/OpenBLAS threads of every subprocess, and the scripts' "
                             "and peers' own --threads; default: the libraries' own (0), "
                             "--quick: 1")
    parser.add_argument("--opt", action="append", default=[], metavar='NAME="ARGS"',
                        help="extra arguments for one step, after the defaults (repeatable), "
                             'e.g. --opt suite="--sets ames --cv 3"')
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="where CSVs, logs and SUMMARY.md go (default bench/results, "
                             "--quick: bench/results/quick)")
    parser.add_argument("--dry-run", action="store_true", help="print the steps, run nothing")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    if args.only and "peers" in args.only and not args.peers:
        parser.error("--only peers needs --peers SYSTEM[=PYTHON] ...")
    if args.threads is None and args.quick:
        args.threads = 1        # 2-thread OpenMP pools collapse on a busy machine (README)
    args.results_dir = (args.results_dir or (RESULTS / "quick" if args.quick else RESULTS)
                        ).resolve()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    steps = plan(args)
    if args.dry_run:
        for i, s in enumerate(steps, 1):
            print(f"[{i}/{len(steps)}] {s.name}: {s.shown}")
        return 0
    logs = args.results_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    if args.threads:
        env.update(dict.fromkeys(THREAD_VARS, str(args.threads)))
    t0 = time.perf_counter()
    for i, step in enumerate(steps, 1):
        logger.info("[%d/%d] %s: %s", i, len(steps), step.name, step.shown)
        run_step(step, env, logs, args.results_dir)
        logger.info("[%d/%d] %s %s in %.1f s (%.1f s since start)%s", i, len(steps), step.name,
                    "done" if step.rc == 0 else f"FAILED (exit {step.rc})", step.seconds,
                    time.perf_counter() - t0, f": {step.note}" if step.note else "")
    extra = []
    if any(s.name.startswith("peers:") for s in steps):
        if merge_peers(args.results_dir) is not None:
            extra.append(args.results_dir / "peers.csv")
    summary = args.results_dir / "SUMMARY.md"
    write_summary(summary, steps, args, argv, extra)
    written = [p for s in steps for p in s.csvs] + extra + [summary]
    logger.info("written in %.1f s:\n%s", time.perf_counter() - t0,
                "\n".join(f"  {_rel(p)}" for p in written))
    failed = [s for s in steps if s.rc != 0]
    for s in failed:
        logger.error("FAILED: %s (exit %s) %s; log: %s", s.name, s.rc, s.note, _rel(s.log))
    return int(bool(failed))
