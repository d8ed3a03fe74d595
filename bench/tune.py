"""TPE vs random search vs the untuned default, and pruning vs none, on the shared folds.

    python -m bench.tune                       # 40 trials, 5 folds, ames + wa_churn, xgboost + mlp
    python -m bench.tune --quick               # what fits in ~30 minutes on a small machine
    python -m bench.tune --sets ames --models xgboost --trials 20
    python -m bench.tune --sets wa_churn --seeds 0 1 2   # each search with 3 sampler seeds

For each data set (cross-validation on the 75 % training part, holdout on the other 25 %) and
model (``default_candidates`` + ``search_space``), all on the same folds:

- ``default``: the untuned candidate, one CV pass;
- ``tpe`` / ``random``: ``tune`` with that sampler and median pruning;
- ``tpe_no_pruning``: TPE without pruning, for the folds-fitted comparison.

``wall_s`` is wall time; ``cpu_s`` is this process's CPU time (all its threads), steadier on a
shared machine.  The holdout score of a variant is that of its K fold models averaged (no
refit), as a report's ``fold_average`` predicts.  Targets: TPE >= random >= default on the
holdout for both models on at least one data set; pruning fits >= 30 % fewer folds than no
pruning at an equal best CV score (within one fold standard deviation).

One search's holdout score depends on its sampler seed by about as much as TPE and random
search differ after 40 trials, so ``--seeds`` repeats each search with other seeds (same
folds, same model seeds) and the verdicts compare the means.
"""

from __future__ import annotations

import argparse
import logging
import time

import pandas as pd

import foldstack as fs
from bench._data import score, split
from bench._table import publish
from foldstack.selection import FoldAverage

logger = logging.getLogger(__name__)

# --quick: fewer rows, folds and trials; the MLP trains for at most 30 epochs and xgboost
# grows at most 400 trees, so that both models x both data sets x 4 variants fit in ~30 min.
QUICK = {"trials": 15, "cv": 3, "max_rows": 1500}
QUICK_MLP = {"max_epochs": 30, "patience": 6}
QUICK_XGB_TREES = 400


def _primary(task: str) -> tuple[str, bool]:
    return ("rmse", False) if task == "regression" else ("roc_auc", True)


def _holdout(s, models: tuple, classes) -> float:
    avg = FoldAverage(models, classes)
    metric, _ = _primary(s.task)
    if s.task == "regression":
        return score(s, y_pred=avg.predict(s.X_test))[metric]
    return score(s, proba=avg.predict_proba(s.X_test))[metric]


def run_one(s, model: str, args) -> list[dict]:
    metric, greater = _primary(s.task)
    est = fs.models.default_candidates(s.task, random_state=0)[model]
    space = fs.models.search_space(model, s.task)
    if args.quick and model == "mlp":
        est.set_params(**QUICK_MLP)
    if args.quick and model == "xgboost":
        est.set_params(model__max_estimators=QUICK_XGB_TREES)
    rows = []
    t0, c0 = time.perf_counter(), time.process_time()
    report = fs.selection.cross_validate_candidates(
        {model: est}, s.X_train, s.y_train, cv=args.cv, scoring=[metric], verbose=0)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    r = report.results[model]
    folds = r.fold_scores()[metric]
    rows.append({"variant": "default", "seed": None, f"cv_{metric}": folds.mean(),
                 "cv_std": folds.std(ddof=0),
                 f"holdout_{metric}": _holdout(s, r.fold_models, report.classes),
                 "trials": 1, "pruned": 0, "folds_fitted": len(report.splits),
                 "wall_s": wall, "cpu_s": cpu})
    variants = [("tpe", "tpe", "median"), ("random", "random", "median")]
    if model in args.prune_check:
        variants.append(("tpe_no_pruning", "tpe", None))
    for label, sampler, pruner in variants:
        for seed in args.seeds:  # the sampler's seed; folds and model seeds stay fixed
            t0, c0 = time.perf_counter(), time.process_time()
            res = fs.selection.tune(est, space, s.X_train, s.y_train, cv=report.splits,
                                    scoring=[metric], n_trials=args.trials, sampler=sampler,
                                    pruner=pruner, random_state=seed, verbose=args.verbose)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            folds = res.cv_result.fold_scores()[metric]
            trials = res.trials
            rows.append({"variant": label, "seed": seed, f"cv_{metric}": res.best_score,
                         "cv_std": folds.std(ddof=0),
                         f"holdout_{metric}": _holdout(s, res.cv_result.fold_models,
                                                       res.report.classes),
                         "trials": len(trials),
                         "pruned": int((trials["state"] == "pruned").sum()),
                         "folds_fitted": res.n_folds_fitted, "wall_s": wall, "cpu_s": cpu})
            logger.info("%s %s %s seed %d: cv %.5g holdout %.5g in %.0f s", s.name, model,
                        label, seed, rows[-1][f"cv_{metric}"], rows[-1][f"holdout_{metric}"],
                        wall)
    for row in rows:
        row.update({"set": s.name, "model": model, "metric": metric})
    return rows


def verdicts(df: pd.DataFrame) -> pd.DataFrame:
    """Per data set and model: is TPE >= random >= default on the holdout; pruning savings.

    With several sampler seeds a search's figures are its mean over the seeds (the default is
    one CV pass), and ``tpe>=random_seeds`` counts the seeds where TPE's holdout is at least
    random search's.
    """
    out = []
    for (name, model), runs in df.groupby(["set", "model"], sort=False):
        metric = runs["metric"].iloc[0]
        g = runs.groupby("variant", sort=False).mean(numeric_only=True)
        sign = -1 if metric == "rmse" else 1
        h = sign * g[f"holdout_{metric}"]
        per_seed = runs[runs["variant"].isin(["tpe", "random"])].pivot(
            index="seed", columns="variant", values=f"holdout_{metric}") * sign
        row = {"set": name, "model": model, "seeds": len(per_seed),
               "tpe>=random>=default": bool(h["tpe"] >= h["random"] >= h["default"]),
               "tpe>=default": bool(h["tpe"] >= h["default"]),
               "tpe>=random_seeds": int((per_seed["tpe"] >= per_seed["random"]).sum())}
        if "tpe_no_pruning" in g.index:
            saved = 1 - g.loc["tpe", "folds_fitted"] / g.loc["tpe_no_pruning", "folds_fitted"]
            gap = abs(g.loc["tpe", f"cv_{metric}"] - g.loc["tpe_no_pruning", f"cv_{metric}"])
            row.update({"folds_saved_by_pruning": saved,
                        "best_cv_gap": gap, "std_no_pruning": g.loc["tpe_no_pruning", "cv_std"],
                        "equal_within_1_std": bool(gap <= g.loc["tpe_no_pruning", "cv_std"])})
        out.append(row)
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["ames", "wa_churn"])
    parser.add_argument("--models", nargs="+", default=["xgboost", "mlp"])
    parser.add_argument("--trials", type=int, default=None, help="trials per search (40)")
    parser.add_argument("--cv", type=int, default=None, help="folds (5)")
    parser.add_argument("--max-rows", type=int, default=None,
                        help="subsample the training part to this many rows")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK} and capped MLP epochs / xgboost trees")
    parser.add_argument("--prune-check", nargs="*", default=None,
                        help="models that also get the TPE-without-pruning run (default: all)")
    parser.add_argument("--results", default=None,
                        help="name of the results CSV (default: tune, or tune_quick)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0],
                        help="sampler seeds of each search (default 0); the verdicts compare "
                             "the means over the seeds")
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else {"trials": 40, "cv": 5, "max_rows": None}
    args.trials = args.trials or defaults["trials"]
    args.cv = args.cv or defaults["cv"]
    args.max_rows = args.max_rows or defaults["max_rows"]
    args.prune_check = args.models if args.prune_check is None else args.prune_check
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("foldstack").setLevel(logging.WARNING)
    rows = []
    for name in args.sets:
        s = split(name, max_train_rows=args.max_rows)
        for model in args.models:
            rows += run_one(s, model, args)
    df = pd.DataFrame(rows)
    cols = ["set", "model", "variant", "seed", "metric"]
    cols += [c for c in df.columns if c.startswith("cv_")]
    cols += [c for c in df.columns if c.startswith("holdout_")]
    cols += ["trials", "pruned", "folds_fitted", "wall_s", "cpu_s"]
    setup = (f"{args.trials} trials, {args.cv} folds, max rows {args.max_rows}, "
             f"sampler seeds {args.seeds}"
             f"{', quick' if args.quick else ''}")
    name = args.results or ("tune_quick" if args.quick else "tune")
    publish(df[cols], name, f"tune: TPE vs random vs default ({setup})")
    publish(verdicts(df), f"{name}_verdicts", "tune: targets (holdout order, pruning savings)")


if __name__ == "__main__":
    main()
