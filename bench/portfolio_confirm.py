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
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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
    return _suite.paired_summary(df, "test", "portfolio", "four")


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
        _suite.run_missing_sets(CSV, args.sets, len(VARIANTS), run_set)
        return
    _suite.start_workers("bench.portfolio_confirm", args.sets, args.workers,
                         *(["--timing"] if args.timing else []))
    from bench._table import publish

    df = pd.read_csv(CSV).drop_duplicates(["set", "variant"], keep="last")
    publish(summary(df), "portfolio_confirm_timing_summary" if args.timing
            else "portfolio_confirm_summary", "AutoEnsemble with the portfolio's default "
            "prefix vs the four default candidates, test parts scored once"
            + (" (one process, idle machine)" if args.timing else ""))


if __name__ == "__main__":
    main()
