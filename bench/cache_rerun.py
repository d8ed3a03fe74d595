"""First run vs cached rerun of cross_validate_candidates on wa_churn (default candidates).

    python -m bench.cache_rerun

Target: the rerun takes under 10 % of the first run (it fits nothing; it reads the stored
fold results and rebuilds the report).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import foldstack as fs
from bench._data import load
from bench._table import publish


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=None)
    args = parser.parse_args(argv)
    X, y = load("wa_churn")
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
    publish(rows, "cache_rerun", f"cross_validate_candidates on wa_churn, {args.cv} folds, "
            "first run vs cached rerun")


if __name__ == "__main__":
    main()
