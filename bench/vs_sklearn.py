"""foldstack vs scikit-learn on "cross-validate 3 candidates to choose, then stack them".

    python -m bench.vs_sklearn [--sets wa_churn ames] [--cv 5]

Both workflows use the same base models (linear, xgboost and mlp from
``fs.models.default_candidates``), the same folds and the same 75/25 holdout split:

- scikit-learn: ``cross_validate`` for each candidate (to choose), then
  ``StackingClassifier/Regressor(cv=folds)``, which refits every member on all rows and runs
  ``cross_val_predict`` again (K + 1 more fits per member);
- foldstack: ``cross_validate_candidates`` once, then ``StackingClassifier.from_report``,
  which fits only the meta-model on the report's out-of-fold predictions and predicts with
  each member's K fold models.

Targets: wall-time ratio foldstack / scikit-learn <= 0.5 and a holdout score of foldstack's
stack equal to or better than scikit-learn's.  The holdout scores of each single model
(fold average), the equal-weight and greedy averages are printed too.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pandas as pd
from sklearn import ensemble as sk_ensemble
from sklearn.base import clone
from sklearn.model_selection import cross_validate

import foldstack as fs
from bench._data import PRIMARY, Split, holdout_score, split
from bench._table import publish

logger = logging.getLogger(__name__)

NAMES = ["linear", "xgboost", "mlp"]
SK_SCORING = {"binary": "roc_auc", "multiclass": "neg_log_loss",
              "regression": "neg_root_mean_squared_error"}


def _warm_up(s: Split, candidates: dict) -> None:
    """One small fit of each candidate, so that neither timed run pays first-call costs."""
    rows = s.X_train.index[:300]
    for est in candidates.values():
        clone(est).fit(s.X_train.loc[rows], s.y_train.loc[rows])


def run_set(name: str, cv: int) -> list[dict]:
    s = split(name)
    candidates = fs.models.default_candidates(s.task, random_state=0, names=NAMES)
    folds = fs.selection.make_splits(cv, s.X_train, s.y_train.to_numpy(), s.task,
                                     random_state=0)
    _warm_up(s, candidates)
    logger.info("%s: warmed up", name)
    classification = s.task != "regression"

    # scikit-learn: cross_validate each candidate, then StackingX(cv=folds)
    t0 = time.perf_counter()
    for n, est in candidates.items():
        cross_validate(clone(est), s.X_train, s.y_train, cv=folds, scoring=SK_SCORING[s.task])
        logger.info("%s: scikit-learn cross_validate %s done at %.1f s", name, n,
                    time.perf_counter() - t0)
    t_sk_cv = time.perf_counter() - t0
    sk_cls = sk_ensemble.StackingClassifier if classification else sk_ensemble.StackingRegressor
    sk_stack = sk_cls([(n, clone(e)) for n, e in candidates.items()], cv=folds)
    t0 = time.perf_counter()
    sk_stack.fit(s.X_train, s.y_train)
    t_sk_stack = time.perf_counter() - t0
    logger.info("%s: scikit-learn stack %.1f s", name, t_sk_stack)

    # foldstack: one CV pass, then the stack from the report (no base model refitted)
    t0 = time.perf_counter()
    report = fs.selection.cross_validate_candidates(candidates, s.X_train, s.y_train,
                                                    cv=folds, verbose=0)
    t_fs_cv = time.perf_counter() - t0
    logger.info("%s: foldstack cross_validate_candidates %.1f s", name, t_fs_cv)
    t0 = time.perf_counter()
    fs_cls = fs.ensemble.StackingClassifier if classification else fs.ensemble.StackingRegressor
    fs_stack = fs_cls.from_report(report)
    t_fs_stack = time.perf_counter() - t0

    avg_cls = (fs.ensemble.AveragingClassifier if classification
               else fs.ensemble.AveragingRegressor)
    equal = avg_cls.from_report(report)
    greedy = avg_cls.from_report(report, weights="greedy")
    metric = PRIMARY[s.task]
    t_sk, t_fs = t_sk_cv + t_sk_stack, t_fs_cv + t_fs_stack
    base = {"data": name, "metric": metric}
    rows = [{**base, "workflow": "scikit-learn", "what": "cross_validate x3 + stack",
             "cv_s": t_sk_cv, "stack_s": t_sk_stack, "total_s": t_sk, "ratio": 1.0,
             "cv_score": np.nan, "holdout": holdout_score(s, sk_stack)},
            {**base, "workflow": "foldstack", "what": "cross_validate_candidates + from_report",
             "cv_s": t_fs_cv, "stack_s": t_fs_stack, "total_s": t_fs, "ratio": t_fs / t_sk,
             "cv_score": fs_stack.cv_score_, "holdout": holdout_score(s, fs_stack)}]
    board = report.leaderboard()
    for n in NAMES:
        rows.append({**base, "workflow": "foldstack", "what": f"single {n} (fold average)",
                     "cv_score": board.loc[n, f"mean_test_{report.primary}"],
                     "holdout": holdout_score(s, report.fold_average(n))})
    for label, ens in (("equal", equal), ("greedy", greedy)):
        rows.append({**base, "workflow": "foldstack", "what": f"{label} average",
                     "cv_score": ens.cv_score_, "holdout": holdout_score(s, ens),
                     "weights": np.round(ens.weights_, 3).tolist()})
    logger.info("%s: scikit-learn %.1f s, foldstack %.1f s", name, t_sk, t_fs)
    return rows


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["wa_churn", "ames"])
    parser.add_argument("--cv", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    rows = [row for name in args.sets for row in run_set(name, args.cv)]
    return publish(rows, "vs_sklearn",
                   f"choose-then-stack: scikit-learn vs foldstack, {args.cv} shared folds, "
                   "holdout = 25 % test split (roc_auc: higher is better; rmse: lower)")


if __name__ == "__main__":
    main()
