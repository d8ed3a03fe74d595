"""First run vs cached rerun of cross_validate_candidates on wa_churn (default candidates).

    python -m bench.cache_rerun [--cv 5] [--quick]

Target: the rerun takes under 10 % of the first run (it fits nothing; it reads the stored
fold results and rebuilds the report).  ``--quick`` (a smoke run): a 1,500-row sample of
wa_churn and 3 folds, written to bench/results/cache_rerun_quick.csv.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import foldstack as fs
from bench._data import load
from bench._table import publish

QUICK_ROWS, QUICK_CV = 1500, 3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", type=int, default=None, help=f"folds (5; --quick: {QUICK_CV})")
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--quick", action="store_true",
                        help=f"a {QUICK_ROWS:,}-row sample, {QUICK_CV} folds, *_quick.csv")
    args = parser.parse_args(argv)
    args.cv = args.cv or (QUICK_CV if args.quick else 5)
    X, y = load("wa_churn")
    if args.quick:
        X = X.sample(QUICK_ROWS, random_state=0)
        y = y.loc[X.index].reset_index(drop=True)
        X = X.reset_index(drop=True)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        timings = []
        for run in ("first run", "cached rerun"):
            candidates = fs.models.default_candidates("binary", random_state=0)
            t0 = time.perf_counter()
            report = fs.selection.cross_validate_candidates(
                candidates, X, y, cv=args.cv, n_jobs=args.n_jobs, cache_dir=cache, verbose=0)
            timings.append(time.perf_counter() - t0)
            rows.append({"run": run, "seconds": timings[-1],
                         "ratio_to_first": timings[-1] / timings[0],
                         "best": report.best(),
                         "best_roc_auc": report.leaderboard()["mean_test_roc_auc"].iloc[0]})
    publish(rows, "cache_rerun_quick" if args.quick else "cache_rerun",
            f"cross_validate_candidates on wa_churn{f' ({len(y):,} rows)' if args.quick else ''}"
            f", {args.cv} folds, first run vs cached rerun")


if __name__ == "__main__":
    main()
