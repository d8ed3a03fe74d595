"""Confirm the portfolio's default prefix on the test parts, scored once.

    python -m bench.portfolio_confirm                  # every set, two processes
    python -m bench.portfolio_confirm --sets oj beps   # some sets

For every set of the development suite (seed-0 split of ``bench/_suite.py``, training parts
above 5,000 rows subsampled as in ``bench/portfolio.py``), ``AutoEnsemble*`` is fitted on the
training part twice, as shipped (5 folds, the default ensembles, one thread): with
``candidates=None`` (the portfolio's default-size prefix) and with the four default candidates
(``fs.models.default_candidates(task)``, the previous default).  Each is scored once on the
test part (ROC AUC, log loss, RMSE).  Nothing here chose the portfolio: it was selected on CV
scores of the training parts only.  Writes ``bench/results/portfolio_confirm.csv`` (a row per
set and variant, appended as sets finish; a rerun skips finished ones) and prints the
summary per task and overall: wins, mean and median relative gain of the primary metric
(positive: the portfolio is better), and the ratio of the summed fit seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench import _suite  # noqa: E402
from bench import portfolio as P  # noqa: E402

CSV = ROOT / "bench" / "results" / "portfolio_confirm.csv"
#: ``--timing``: one process, idle machine, for a clean fit-time comparison
TIMING_CSV = ROOT / "bench" / "results" / "portfolio_confirm_timing.csv"
VARIANTS = ("portfolio", "four")


def run_set(name: str) -> list[dict]:
    from threadpoolctl import threadpool_limits

    import foldstack as fs

    s = _suite.make_split(name, 0, P.N_FOLDS, P.MAX_TRAIN_ROWS)
    n_classes = len(s.classes)
    rows = []
    for variant in VARIANTS:
        cands = None if variant == "portfolio" else fs.models.default_candidates(s.task)
        cls = fs.AutoEnsembleRegressor if s.task == "regression" else fs.AutoEnsembleClassifier
        auto = cls(cands, random_state=0, n_jobs=1)
        with threadpool_limits(1):
            start = time.perf_counter()
            auto.fit(s.X_train, s.y_train)
            seconds = time.perf_counter() - start
            pred = _suite.predict(auto, s.X_test, s.task, n_classes)
        rows.append({"set": name, "task": s.task, "variant": variant,
                     "test": _suite.score(s.task, n_classes, s.y_test, pred),
                     "seconds": round(seconds, 2), "chosen": auto.best_name_,
                     "candidates": ",".join(auto.cv_report_.names)})
        print(rows[-1], flush=True)
    return rows


def summary(df: pd.DataFrame) -> pd.DataFrame:
    wide = df.pivot(index="set", columns="variant", values="test")
    tasks = df.drop_duplicates("set").set_index("set")["task"].reindex(wide.index)
    higher = tasks.map(lambda t: _suite.HIGHER_IS_BETTER[_suite.PRIMARY[t]])
    sign = np.where(higher.to_numpy(), 1.0, -1.0)   # in wide's row order
    rel = sign * (wide["portfolio"] - wide["four"]) / wide["four"].abs()
    secs = df.pivot(index="set", columns="variant", values="seconds")
    rows = []
    for task in [None, "binary", "multiclass", "regression"]:
        keep = np.ones(len(wide), bool) if task is None else (tasks == task).to_numpy()
        r, sp, sf = rel[keep], secs["portfolio"][keep], secs["four"][keep]
        rows.append({
            "task": task or "all", "sets": int(keep.sum()),
            "portfolio_better": int((r > 0).sum()), "four_better": int((r < 0).sum()),
            "ties": int((r == 0).sum()), "mean_rel_gain_pct": round(100 * r.mean(), 3),
            "median_rel_gain_pct": round(100 * r.median(), 3),
            "seconds_ratio": round(sp.sum() / sf.sum(), 2)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=P.SETS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--timing", action="store_true",
                        help="one process into portfolio_confirm_timing.csv (clean fit times)")
    args = parser.parse_args(argv)
    global CSV
    if args.timing:
        CSV, args.workers = TIMING_CSV, 1
    if args.worker:
        for name in args.sets:
            done = pd.read_csv(CSV) if CSV.exists() else pd.DataFrame(columns=["set"])
            if (done["set"] == name).sum() >= len(VARIANTS):
                continue
            rows = run_set(name)
            # appended, so that two workers never overwrite each other's rows
            pd.DataFrame(rows).to_csv(CSV, mode="a", header=not CSV.exists(), index=False)
        return
    procs = [subprocess.Popen([sys.executable, "-m", "bench.portfolio_confirm", "--worker",
                               *(["--timing"] if args.timing else []),
                               "--sets", *args.sets[i::args.workers]], cwd=ROOT,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
             for i in range(args.workers)]
    for p in procs:
        p.wait()
    from bench._table import publish

    df = pd.read_csv(CSV).drop_duplicates(["set", "variant"], keep="last")
    publish(summary(df), "portfolio_confirm_timing_summary" if args.timing
            else "portfolio_confirm_summary", "AutoEnsemble with the portfolio's default "
            "prefix vs the four default candidates, test parts scored once"
            + (" (one process, idle machine)" if args.timing else ""))


if __name__ == "__main__":
    main()
