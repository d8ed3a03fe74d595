"""Does a second repetition of the folds pay?  Measured on the suite's training parts only.

    python -m bench.repeat_folds                  # every set, two processes
    python -m bench.repeat_folds --sets oj beps   # some sets (screening)

The question of #17's fourth item: when a time limit leaves time over, should foldstack spend
it on a second repetition of the folds (new shuffles)?  A second repetition changes two things:
every out-of-fold prediction becomes the mean of two models that did not see the row (so the
ensembles are fitted on less noisy OOF predictions), and the final predictor averages twice as
many fold models.  Neither can be judged by a CV score (the OOF predictions of one repetition
and of two are different estimators), so each training part is split once more:

- the seed-0 split of every suite set (``bench/_suite.py``; training parts above 5,000 rows
  subsampled, as ``bench/portfolio.py`` does); **the test parts are never read**;
- the training part is split 75/25 again (``random_state=1``, stratified for classification):
  an inner training part and an inner validation part;
- ``AutoEnsemble*`` as shipped (the portfolio's default prefix, the default ensembles, the fold
  models' average as the final predictor) is fitted on the inner training part twice, with
  the same 5 folds (``random_state=0``) and then with those 5 plus 5 of a new shuffle
  (``random_state=1``); the first five folds are shared through one cache, so the second fit
  runs only the new five;
- each is scored once on the inner validation part (ROC AUC, log loss, RMSE).

Writes ``bench/results/repeat_folds.csv`` (a row per set and variant, appended as sets finish;
a rerun skips finished sets) and prints the summary: wins, mean and median relative gain of the
primary metric (positive: two repetitions are better), and the ratio of the summed fit seconds.
The fold cache lives in ``bench/results/repeat_folds_cache/`` (not committed).
"""

from __future__ import annotations

import argparse
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

CSV = ROOT / "bench" / "results" / "repeat_folds.csv"
CACHE = ROOT / "bench" / "results" / "repeat_folds_cache"
VARIANTS = ("one", "two")
N_FOLDS = 5


def folds(y: np.ndarray, task: str, seed: int) -> list:
    """``N_FOLDS`` shuffled folds of ``y`` (stratified for classification)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = (KFold(N_FOLDS, shuffle=True, random_state=seed) if task == "regression"
                else StratifiedKFold(N_FOLDS, shuffle=True, random_state=seed))
    return [(tr, va) for tr, va in splitter.split(np.zeros(len(y)), y)]


def run_set(name: str) -> list[dict]:
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    import foldstack as fs

    s = _suite.make_split(name, 0, P.N_FOLDS, P.MAX_TRAIN_ROWS)
    n_classes = len(s.classes)
    inner, valid = train_test_split(
        np.arange(len(s.y_train)), test_size=0.25, random_state=1,
        stratify=None if s.task == "regression" else s.y_train)
    X_in, y_in = s.X_train.iloc[inner].reset_index(drop=True), s.y_train[inner]
    X_va, y_va = s.X_train.iloc[valid].reset_index(drop=True), s.y_train[valid]
    first = folds(y_in, s.task, 0)
    cvs = {"one": first, "two": first + folds(y_in, s.task, 1)}
    cls = fs.AutoEnsembleRegressor if s.task == "regression" else fs.AutoEnsembleClassifier
    rows = []
    for variant in VARIANTS:
        auto = cls(None, cv=cvs[variant], random_state=0, n_jobs=1,
                   cache_dir=str(CACHE / name))
        with threadpool_limits(1):
            start = time.perf_counter()
            auto.fit(X_in, y_in)
            seconds = time.perf_counter() - start
            pred = _suite.predict(auto, X_va, s.task, n_classes)
        board = auto.leaderboard_
        rows.append({"set": name, "task": s.task, "variant": variant,
                     "valid": _suite.score(s.task, n_classes, y_va, pred),
                     "seconds": round(seconds, 2), "chosen": auto.best_name_,
                     "folds": len(cvs[variant]), "rows": len(y_in),
                     "members": int((board["kind"] == "model").sum())
                     if "kind" in board else np.nan})
        print(rows[-1], flush=True)
    return rows


def summary(df: pd.DataFrame) -> pd.DataFrame:
    # the second fit reuses the first five folds from the cache: its seconds are the new
    # folds and the ensembles, so the cost of two repetitions is one's seconds + two's
    return _suite.paired_summary(df, "valid", "two", "one",
                                 seconds_ratio=lambda two, one: (one + two).sum() / one.sum())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=P.SETS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _suite.run_missing_sets(CSV, args.sets, len(VARIANTS), run_set)
        return
    _suite.start_workers("bench.repeat_folds", args.sets, args.workers)
    from bench._table import publish

    df = pd.read_csv(CSV).drop_duplicates(["set", "variant"], keep="last")
    publish(summary(df), "repeat_folds_summary", "AutoEnsemble with a second repetition of "
            "the folds vs one, inner validation parts of the training parts")


if __name__ == "__main__":
    main()
