"""The side-by-side peers run: AutoGluon medium, foldstack at AutoGluon's time, FLAML, H2O.

    python -m bench.peers_run --autogluon /work/peers/autogluon/bin/python \\
        --flaml /work/peers/flaml/bin/python --h2o /work/peers/h2o/bin/python
    python -m bench.peers_run --systems foldstack --budget 20 --sets penguins   # a smoke run
    python -m bench.peers_run --table        # only the table, from the CSV

One run, one CSV (``bench/results/peers_run.csv``): for every set of ``bench/_data.py`` (the
six of PEERS.md and six more of the development suite; the 75/25 split with
``random_state=0``), set by set, AutoGluon medium runs with a 120 s limit, then foldstack's
``AutoEnsemble*`` with ``time_limit`` = the seconds AutoGluon's fit actually took on that set,
then FLAML and H2O at 120 s; each peer in its own virtual environment through
``bench/peers.py``, foldstack in this one.  Every row carries the run's date and commit.  A
run that stopped resumes: a (set, system) already in the CSV with this commit is kept.

``--table`` (also run at the end) prints the holdout table, each system's mean normalised
score (per set, 0 = the worst of the four, 1 = the best), how often foldstack is best and
within 0.5 % of the best, and its fit time over its limit; it writes
``bench/results/peers_run_table.md`` and puts the table in the README between the
``peers-table`` markers.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "bench" / "results" / "peers_run.csv"
TABLE = ROOT / "bench" / "results" / "peers_run_table.md"
SYSTEMS = ("autogluon", "foldstack", "flaml", "h2o")
HIGHER = {"roc_auc": True, "logloss": False, "rmse": False}


def _commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip()


def _run_system(python: str, system: str, name: str, budget: float) -> dict:
    """One set through ``bench/peers.py`` in ``python``'s venv; its result row."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([python, str(ROOT / "bench" / "peers.py"), "--system", system,
                        "--sets", name, "--time-budget", f"{budget:.1f}", "--results-dir",
                        tmp, "--prefix", "run"], cwd=ROOT, check=False)
        path = Path(tmp) / f"run_{system}.csv"
        if not path.exists():
            return {"set": name, "system": system, "time_budget": budget,
                    "error": "the peer's process wrote no result"}
        return pd.read_csv(path).iloc[0].to_dict()


def run(args: argparse.Namespace) -> None:
    from bench._data import NAMES

    commit, date = _commit(), time.strftime("%Y-%m-%d")
    done = pd.read_csv(args.csv) if args.csv.exists() else pd.DataFrame(columns=["set", "system",
                                                                       "commit"])
    pythons = {"autogluon": args.autogluon, "flaml": args.flaml, "h2o": args.h2o,
               "foldstack": sys.executable}
    for name in args.sets or NAMES:
        ag_seconds = None
        for system in args.systems:
            mine = done[(done["set"] == name) & (done["system"] == system)
                        & (done["commit"].astype(str) == commit)]
            if len(mine):
                row = mine.iloc[-1].to_dict()
            else:
                budget = args.budget
                if system == "foldstack":
                    budget = ag_seconds if ag_seconds is not None else args.budget
                if pythons[system] is None:
                    print(f"[peers_run] {system}: no interpreter given (--{system}); skipped")
                    continue
                row = _run_system(pythons[system], system, name, budget)
                row.update(commit=commit, date=date)
                done = pd.concat([done, pd.DataFrame([row])], ignore_index=True)
                done.to_csv(args.csv, index=False)
            if system == "autogluon" and np.isfinite(row.get("seconds", np.nan)):
                ag_seconds = float(row["seconds"])


def table(csv: Path = CSV) -> str:
    """The markdown table of the CSV (see the module notes)."""
    df = pd.read_csv(csv)
    # one run: the rows of the commit the CSV's last row was measured at (older runs stay
    # in the CSV as history, never in the table)
    df = df[df["commit"].astype(str) == str(df["commit"].iloc[-1])]
    commits = sorted(df["commit"].astype(str).unique())
    dates = sorted(df["date"].astype(str).unique())
    systems = [s for s in SYSTEMS if s in set(df["system"])]
    lines = ["| set | metric | " + " | ".join(systems) + " |",
             "|---|---|" + "---|" * len(systems)]
    norms: dict[str, list[float]] = {s: [] for s in systems}
    best = within = over = 0
    sets = [n for n in dict.fromkeys(df["set"])]
    for name in sets:
        rows = df[df["set"] == name].drop_duplicates("system", keep="last").set_index("system")
        metric = rows["metric"].dropna().iloc[0]
        cells = []
        for s in systems:
            if s not in rows.index or not np.isfinite(rows.loc[s, "holdout"]):
                cells.append("—")
                continue
            limit = rows.loc[s, "time_budget"]
            cells.append(f"{rows.loc[s, 'holdout']:.4f} ({rows.loc[s, 'seconds']:.0f} s"
                         + (f" / {limit:.0f} s)" if s == "foldstack" else ")"))
        lines.append(f"| {name} | {metric} | " + " | ".join(cells) + " |")
        scored = rows["holdout"].reindex(systems).astype(float)
        if scored.isna().any():
            continue
        value = scored if HIGHER[metric] else -scored
        spread = value.max() - value.min()
        for s in systems:
            norms[s].append(float((value[s] - value.min()) / spread) if spread > 0 else 1.0)
        if "foldstack" in systems:
            fs_value, top = value["foldstack"], value.drop("foldstack").max()
            best += bool(fs_value >= top)
            within += bool(fs_value >= top - 0.005 * abs(top))
            limit = rows.loc["foldstack", "time_budget"]
            over = max(over, rows.loc["foldstack", "seconds"] - (1.05 * limit + 5))
    lines.append("| **mean normalised** | | " + " | ".join(
        f"{np.mean(norms[s]):.3f}" if norms[s] else "—" for s in systems) + " |")
    note = (f"\nOne run of `python -m bench.peers_run` ({', '.join(dates)}; commit "
            f"{', '.join(commits)}), 75/25 split with `random_state=0`, holdout scored once. "
            f"foldstack's limit (after the slash) is the time AutoGluon medium took on the set. "
            f"Complete sets: {len(norms[systems[0]])} of {len(sets)}.")
    if "foldstack" in systems:
        note += (f" foldstack best on {best}, within 0.5 % of the best peer on {within}; "
                 f"largest overrun beyond 5 % + 5 s of its limit: {max(0.0, over):.1f} s.")
    return "\n".join(lines) + "\n" + note + "\n"


def publish_table(csv: Path = CSV) -> None:
    text = table(csv)
    print(text)
    if csv != CSV:
        return
    TABLE.write_text(text)
    readme = ROOT / "README.md"
    body = readme.read_text()
    start, end = "<!-- peers-table:start -->", "<!-- peers-table:end -->"
    if start in body and end in body:
        head, rest = body.split(start, 1)
        readme.write_text(head + start + "\n" + text + end + rest.split(end, 1)[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--autogluon", help="python of AutoGluon's venv")
    parser.add_argument("--flaml", help="python of FLAML's venv")
    parser.add_argument("--h2o", help="python of H2O's venv")
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--sets", nargs="+")
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--table", action="store_true", help="only the table")
    parser.add_argument("--csv", type=Path, default=CSV,
                        help="the run's CSV (default bench/results/peers_run.csv); another "
                             "path (a smoke run) leaves the README alone")
    args = parser.parse_args(argv)
    if not args.table:
        run(args)
    publish_table(args.csv)


if __name__ == "__main__":
    main()
