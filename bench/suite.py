"""AutoEnsemble (defaults) vs the best single default candidate, on the six benchmark sets.

    python -m bench.suite [--sets wa_churn credit_data ...] [--cv 5]

For each set (75/25 holdout split of PEERS.md; diamonds' training part subsampled to 20,000
rows), ``fs.AutoEnsembleClassifier()`` / ``fs.AutoEnsembleRegressor()`` with default
parameters cross-validates the default candidates once, builds the equal, greedy and stacking
ensembles from that record, and predicts with the best by honest score.  Each single default
candidate is scored on the holdout with its K fold models (nothing is refitted).

Target: the chosen model's holdout score is at least the best single model's on >= 4 of 6
sets.  Two readings are printed: the single model best on the holdout itself (an oracle no
user has) and the single model that cross-validation picks.  PEERS.md's AutoGluon (medium, 120 s) and scikit-learn stack figures are printed beside
ours; they were measured on the same split and metrics.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pandas as pd

import foldstack as fs
from bench._data import NAMES, PRIMARY, holdout_score, split
from bench._table import publish

logger = logging.getLogger(__name__)

# PEERS.md: (AutoGluon 1.6.3 medium score, its fit seconds, sklearn stack score, its seconds)
PEERS = {
    "ames": (0.0533, 108, 0.0531, 21),
    "concrete": (4.03, 120, 4.73, 6),
    "credit_data": (0.8527, 29, 0.8481, 21),
    "diamonds": (528.5, 121, 526.7, 217),
    "penguins": (0.0776, 21, 0.0808, 3),
    "wa_churn": (0.8464, 36, 0.8439, 29),
}
MAX_TRAIN_ROWS = {"diamonds": 20_000}


def run_set(name: str, cv: int) -> dict:
    s = split(name, max_train_rows=MAX_TRAIN_ROWS.get(name))
    cls = fs.AutoEnsembleRegressor if s.task == "regression" else fs.AutoEnsembleClassifier
    t0 = time.perf_counter()
    auto = cls(cv=cv).fit(s.X_train, s.y_train)
    seconds = time.perf_counter() - t0
    report = auto.cv_report_
    singles = {n: holdout_score(s, report.fold_average(n)) for n in report.ok_names}
    ensembles = {k: holdout_score(s, e) for k, e in auto.ensembles_.items()}
    higher = s.task == "binary"
    best_single = (max if higher else min)(singles, key=singles.get)
    chosen = holdout_score(s, auto)
    cv_best = report.best()                 # the single model a user would pick by CV

    def at_least(other: float) -> bool:
        return bool(chosen >= other if higher else chosen <= other)

    ag, ag_s, sk, sk_s = PEERS[name]
    board = auto.leaderboard_
    row = {"data": name, "metric": PRIMARY[s.task], "rows_train": len(s.y_train),
           "chosen": auto.best_name_,
           "chosen_cv": board.loc[auto.best_name_, f"mean_test_{report.primary}"],
           "chosen_holdout": chosen, "best_single": best_single,
           "best_single_holdout": singles[best_single],
           "at_least_best_single": at_least(singles[best_single]),
           "cv_best_single": cv_best, "cv_best_single_holdout": singles[cv_best],
           "at_least_cv_best_single": at_least(singles[cv_best]),
           **{f"holdout_{k}": v for k, v in {**singles, **ensembles}.items()},
           "seconds": seconds, "autogluon_medium": ag, "autogluon_s": ag_s,
           "sklearn_stack": sk, "sklearn_stack_s": sk_s}
    logger.info("%s: %s", name, row)
    return row


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=NAMES)
    parser.add_argument("--cv", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    rows = []
    for name in args.sets:
        rows.append(run_set(name, args.cv))
        print(pd.DataFrame(rows[-1:]).T.to_string(), flush=True)  # progress of a long run
    df = pd.DataFrame(rows)
    main_cols = ["data", "metric", "chosen", "chosen_holdout", "best_single",
                 "best_single_holdout", "at_least_best_single", "cv_best_single",
                 "at_least_cv_best_single", "autogluon_medium", "autogluon_s",
                 "sklearn_stack", "sklearn_stack_s", "seconds"]
    publish(df[main_cols], "suite",
            f"AutoEnsemble (defaults, {args.cv} folds) vs the best single default candidate "
            f"on the 75/25 holdout: at least as good as the holdout-best single on "
            f"{int(df['at_least_best_single'].sum())} of {len(df)}, as the CV-chosen single "
            f"on {int(df['at_least_cv_best_single'].sum())} of {len(df)}")
    detail = df.drop(columns=["autogluon_medium", "autogluon_s", "sklearn_stack",
                              "sklearn_stack_s"])
    publish(detail, "suite_detail", "AutoEnsemble: holdout of every candidate and ensemble")
    return df


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
