"""The portfolio of ``AutoEnsemble*``: configurations x development-suite splits, then greedy
zero-shot selection of an ordered list per task (as TabRepo does).

    python -m bench.portfolio                     # run the missing units, select, write
    python -m bench.portfolio --sets biopsy oj    # some sets only (screening)
    python -m bench.portfolio --select            # only the selection, from stored units
    python -m bench.portfolio --workers 2         # two processes, sets shared between them
    python -m bench.portfolio --costs             # only the cost model, into the package file

**Units.**  Every configuration of :data:`CONFIGS` (families: linear, LightGBM, CatBoost,
xgboost, the network, random forest, extra trees; each built by ``foldstack.models``'s
registry with the configuration's parameters, as the package builds it) is cross-validated
on the *training part* of every suite split (``bench/_suite.py``: 75/25 split with the seed,
training parts above 5,000 rows subsampled, 3 folds).  No test part is read.  A unit
(configuration, set, seed) stores its out-of-fold predictions (``bench/results/portfolio/
oof/``, not committed) and its per-fold CV scores and fit seconds
(``bench/results/portfolio/units.csv``, committed).  Fits use one thread.

**Selection.**  Per task, over that task's units: the list starts with the linear model (fast:
under a time limit the first configuration always runs to the end, so it must be cheap);
each step adds the
configuration whose addition gives the best mean normalised CV score of the list's
*ensemble* (Caruana selection with replacement on the list's OOF predictions,
``fs.ensemble.greedy_weights``), normalised per unit between the worst and the best single
configuration (so a list can score above 1).  Ties go to the cheaper configuration.  The
steps (score after each step, cumulative mean fit seconds per fold) go to
``bench/results/portfolio_steps.csv``; the ordered lists, with the default size (the longest
prefix whose cumulative mean fit time per fold is about that of the four default candidates,
``fs.models.DEFAULT_NAMES``, at most ``COST_SLACK`` = 1.1 times it, on the same units), go to
``foldstack/models/portfolio.json``, which ``fs.models.portfolio`` reads.

**Costs.**  Per configuration, a least-squares fit on all its units of ``log(fit seconds per
fold) = a + b log(Mcells) + c log(outputs)`` (``Mcells``: fold rows x raw columns / 1e6;
``outputs``: classes of a multiclass target, else 1; beyond the largest unit's cells,
``cost_max_mcells``, the package grows a cost in proportion): the a-priori cost under a time limit
(``fs.models.expected_fold_seconds``; ``bench/schedule_sim.py`` measures how it is used).
Units only, no OOF predictions: ``--costs`` rewrites just this part of the package file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench import _suite  # noqa: E402

logger = logging.getLogger("bench.portfolio")
STORE = ROOT / "bench" / "results" / "portfolio"
UNITS = STORE / "units.csv"
STEPS = ROOT / "bench" / "results" / "portfolio_steps.csv"
PACKAGE_FILE = ROOT / "foldstack" / "models" / "portfolio.json"
MAX_TRAIN_ROWS = 5000
N_FOLDS = 3
SEEDS = (0,)
SETS = [n for n in _suite.NAMES if n not in ("diamonds",)]  # diamonds: 54k rows, screened out
# the four default candidates, whose summed fit time sizes the default prefix
DEFAULT_FOUR = ("linear", "xgboost", "random_forest", "mlp")
FIRST = "linear"   # every list starts with it (see select)
# "about" the cost of the four default candidates: at most this many times it
COST_SLACK = 1.10


@dataclass(frozen=True)
class PortfolioConfig:
    """A registered family with parameters set on top of its default."""

    family: str
    params: dict = field(default_factory=dict)
    version: int = 1

    def key(self) -> str:
        blob = json.dumps([self.family, self.params, self.version, N_FOLDS, MAX_TRAIN_ROWS],
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


CONFIGS: dict[str, PortfolioConfig] = {
    "linear": PortfolioConfig("linear"),
    "linear_cv": PortfolioConfig("linear_cv"),
    "lightgbm": PortfolioConfig("lightgbm"),
    "lightgbm_small_leaves": PortfolioConfig("lightgbm", {
        "num_leaves": 15, "min_child_samples": 10, "min_data_per_group": 10,
        "subsample": 0.8, "colsample_bytree": 0.8}),
    "lightgbm_large_leaves": PortfolioConfig("lightgbm", {
        "num_leaves": 128, "learning_rate": 0.03, "min_child_samples": 5,
        "colsample_bytree": 0.5, "reg_lambda": 1.0}),
    "catboost": PortfolioConfig("catboost"),
    "catboost_depth8": PortfolioConfig("catboost", {"depth": 8, "l2_leaf_reg": 5.0}),
    "xgboost": PortfolioConfig("xgboost"),
    "xgboost_shallow": PortfolioConfig("xgboost", {
        "model__max_depth": 3, "model__learning_rate": 0.1, "model__min_child_weight": 2.0}),
    "mlp": PortfolioConfig("mlp"),
    "mlp_one_seed": PortfolioConfig("mlp", {"n_seeds": 1}),
    "random_forest": PortfolioConfig("random_forest"),
    "extra_trees": PortfolioConfig("extra_trees"),
    # cheap boosting variants (added 2026-12-02): more to choose from where time remains
    "lightgbm_slow_wide": PortfolioConfig("lightgbm", {
        "num_leaves": 64, "learning_rate": 0.02, "min_child_samples": 10,
        "subsample": 0.8, "colsample_bytree": 0.7, "reg_lambda": 1.0}),
    "lightgbm_tiny_leaves": PortfolioConfig("lightgbm", {
        "num_leaves": 8, "learning_rate": 0.1, "min_child_samples": 5,
        "min_data_per_group": 5}),
    "lightgbm_regularised": PortfolioConfig("lightgbm", {
        "min_child_samples": 30, "subsample": 0.7, "colsample_bytree": 0.6,
        "reg_lambda": 5.0, "reg_alpha": 1.0}),
    "xgboost_deep": PortfolioConfig("xgboost", {
        "model__max_depth": 8, "model__learning_rate": 0.03,
        "model__colsample_bytree": 0.6}),
    "xgboost_depth4": PortfolioConfig("xgboost", {
        "model__max_depth": 4, "model__colsample_bytree": 0.9,
        "model__min_child_weight": 0.5}),
    "xgboost_regularised": PortfolioConfig("xgboost", {
        "model__reg_lambda": 5.0, "model__reg_alpha": 0.5, "model__colsample_bytree": 0.5,
        "model__min_child_weight": 3.0}),
}


def build(name: str, task: str, seed: int):
    import foldstack as fs

    config = CONFIGS[name]
    est = fs.models.default_candidates(task, random_state=seed, names=[config.family])
    return est[config.family].set_params(**config.params)


# ---------------------------------------------------------------------------- units

def _oof_path(name: str, set_name: str, seed: int) -> Path:
    return STORE / "oof" / f"{name}_{CONFIGS[name].key()}_{set_name}_s{seed}.npy"


def _done() -> pd.DataFrame:
    if not UNITS.exists():
        return pd.DataFrame(columns=["config", "key", "set", "seed"])
    return pd.read_csv(UNITS, dtype={"key": str})


def run_unit(name: str, s: _suite.SuiteSplit) -> None:
    """Cross-validate one configuration on one split's training part; store the unit."""
    from foldstack.utils._parallel import limited_threads

    done = _done()
    key = CONFIGS[name].key()
    if ((done["key"] == key) & (done["set"] == s.name) & (done["seed"] == s.seed)).any() \
            and _oof_path(name, s.name, s.seed).exists():
        return
    n_classes = len(s.classes)
    width = () if s.task == "regression" else (n_classes,)
    oof = np.zeros((len(s.y_train), *width), dtype=np.float32)
    row = {"config": name, "key": key, "set": s.name, "task": s.task, "seed": s.seed,
           "n_train": len(s.y_train), "error": ""}
    try:
        for fold, (tr, va) in enumerate(s.folds):
            est = build(name, s.task, s.seed)
            with limited_threads(1, est) as est:
                start = time.perf_counter()
                est.fit(s.X_train.iloc[tr], s.y_train[tr])
                row[f"fit_s_{fold}"] = time.perf_counter() - start
                pred = _suite.predict(est, s.X_train.iloc[va], s.task, n_classes)
            row[f"cv_{fold}"] = _suite.score(s.task, n_classes, s.y_train[va], pred)
            oof[va] = pred
    except Exception as exc:  # a failed fit is a result: recorded, never fatal
        row["error"] = f"{type(exc).__name__}: {exc}"[:300]
        logger.warning("%s %s seed %d failed:\n%s", name, s.name, s.seed,
                       traceback.format_exc())
    else:
        path = _oof_path(name, s.name, s.seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, oof)
    row["cv_score"] = float(np.mean([row.get(f"cv_{k}", np.nan) for k in range(N_FOLDS)]))
    row["fit_s"] = float(np.mean([row.get(f"fit_s_{k}", np.nan) for k in range(N_FOLDS)]))
    STORE.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([row]).to_csv(UNITS, mode="a", header=not UNITS.exists(), index=False)
    logger.info("%-22s %-14s seed %d: cv %.4f, %.2f s per fold %s", name, s.name, s.seed,
                row["cv_score"], row["fit_s"], row["error"])


def run(names: list[str], sets: list[str], seeds: tuple) -> None:
    for set_name in sets:
        for seed in seeds:
            s = _suite.make_split(set_name, seed, N_FOLDS, MAX_TRAIN_ROWS)
            for name in names:
                run_unit(name, s)


# ---------------------------------------------------------------------------- costs

def unit_shapes(units: pd.DataFrame) -> pd.DataFrame:
    """``units`` with ``mcells`` (fold rows x raw columns / 1e6) and ``outputs``."""
    shapes = {}
    for name in units["set"].unique():
        X, y, task = _suite.load(name)
        shapes[name] = (X.shape[1], y.nunique() if task == "multiclass" else 1)
    out = units.copy()
    out["mcells"] = [n * (N_FOLDS - 1) / N_FOLDS * shapes[s][0] / 1e6
                     for n, s in zip(out["n_train"], out["set"])]
    out["outputs"] = out["set"].map(lambda s: shapes[s][1])
    return out


def cost_model(units: pd.DataFrame) -> dict[str, list[float]]:
    """Per configuration ``[a, b, c]`` of the cost model (module notes), from ``units`` with
    :func:`unit_shapes`' columns."""
    costs = {}
    for name, g in units.groupby("config", sort=True):
        A = np.c_[np.ones(len(g)), np.log(g["mcells"]), np.log(g["outputs"])]
        coef, *_ = np.linalg.lstsq(A, np.log(g["fit_s"].to_numpy(float)), rcond=None)
        costs[str(name)] = [round(float(v), 4) for v in coef]
    return costs


def cost_max_mcells(units: pd.DataFrame) -> float:
    """The largest unit's cells: beyond it the package grows a cost with the cells."""
    return round(float(units["mcells"].max()), 4)


def write_costs(names: list[str]) -> dict:
    """Put the cost model of ``names`` into the package file; return it."""
    units = unit_shapes(_units(names))
    data = json.loads(PACKAGE_FILE.read_text())
    data["costs"], data["cost_max_mcells"] = cost_model(units), cost_max_mcells(units)
    PACKAGE_FILE.write_text(json.dumps(data, indent=1) + "\n")
    return data["costs"]


# ---------------------------------------------------------------------------- selection

def _units(names: list[str]) -> pd.DataFrame:
    """The finished units of ``names`` under their current keys (latest row wins)."""
    done = _done()
    keys = {n: CONFIGS[n].key() for n in names}
    done = done[done["config"].map(keys) == done["key"]]
    done = done[done["error"].isna() | (done["error"] == "")]
    return done.drop_duplicates(["config", "set", "seed"], keep="last")


def _ensemble_score(task: str, y: np.ndarray, oofs: list[np.ndarray]) -> float:
    """CV score of the Caruana ensemble of ``oofs`` (scored on the same OOF rows)."""
    import foldstack as fs

    if len(oofs) == 1:
        pred = oofs[0]
    else:
        stacked = np.stack(oofs, axis=1).astype(np.float64)
        metric = {"binary": "log_loss", "multiclass": "log_loss", "regression": "mse"}[task]
        w = fs.ensemble.greedy_weights(stacked, y, metric=metric, n_iter=25, random_state=0)
        pred = np.tensordot(stacked, w, axes=([1], [0]))
    return _suite.score(task, 0 if task == "regression" else pred.shape[1], y, pred)


def _mean_norm(task: str, data: dict, names: list[str]) -> float:
    """Mean over units of the normalised CV score of the ensemble of ``names``."""
    norms = []
    for y, oofs, lo, hi in data.values():
        score = _ensemble_score(task, y, [oofs[n] for n in names])
        norms.append((score - lo) / (hi - lo) if hi != lo else 1.0)
    return float(np.mean(norms))


def select(names: list[str], task: str, seeds: tuple) -> pd.DataFrame:
    """The greedy ordered list for ``task``: one row per step."""
    units = _units(names)
    units = units[(units["task"] == task) & units["seed"].isin(seeds)]
    complete = units.groupby(["set", "seed"])["config"].nunique()
    complete = complete[complete == len(names)].index
    if not len(complete):
        raise SystemExit(f"no {task} split has every configuration finished yet")
    higher = _suite.HIGHER_IS_BETTER[_suite.PRIMARY[task]]
    data = {}
    for set_name, seed in complete:
        s = _suite.make_split(set_name, seed, N_FOLDS, MAX_TRAIN_ROWS)
        oofs = {n: np.load(_oof_path(n, set_name, seed)) for n in names}
        single = units[(units["set"] == set_name) & (units["seed"] == seed)].set_index(
            "config")["cv_score"]
        lo, hi = (single.min(), single.max()) if higher else (single.max(), single.min())
        data[set_name, seed] = (s.y_train, oofs, lo, hi)
    complete_units = units.set_index(["set", "seed"]).loc[list(complete)].reset_index()
    cost = complete_units.groupby("config")["fit_s"].mean()
    # the fast anchor first: under a time limit the first configuration always finishes
    chosen: list[str] = [FIRST]
    steps = [{"task": task, "step": 1, "config": FIRST,
              "mean_norm_cv": round(_mean_norm(task, data, [FIRST]), 4),
              "fit_s": round(float(cost[FIRST]), 3), "cum_fit_s": round(float(cost[FIRST]), 3),
              "splits": len(data)}]
    while len(chosen) < len(names):
        best = None
        for name in names:
            if name in chosen:
                continue
            value = _mean_norm(task, data, [*chosen, name])
            if best is None or value > best[0] + 1e-12 or (
                    abs(value - best[0]) <= 1e-12 and cost[name] < cost[best[1]]):
                best = (value, name)
        chosen.append(best[1])
        steps.append({"task": task, "step": len(chosen), "config": best[1],
                      "mean_norm_cv": round(best[0], 4),
                      "fit_s": round(float(cost[best[1]]), 3),
                      "cum_fit_s": round(float(cost[chosen].sum()), 3),
                      "splits": len(data)})
        logger.info("%s step %d: %s (%.4f)", task, len(chosen), best[1], best[0])
    frame = pd.DataFrame(steps)
    budget = float(cost[[n for n in DEFAULT_FOUR if n in cost.index]].sum())
    cumulative = np.cumsum([float(cost[n]) for n in chosen])
    frame["within_default_cost"] = cumulative <= COST_SLACK * budget
    frame["default_four_fit_s"] = round(budget, 3)
    # the ensemble of the four default candidates, on the same splits, for comparison
    frame["default_four_norm_cv"] = round(_mean_norm(task, data, list(DEFAULT_FOUR)), 4)
    return frame


def write_package_file(steps: pd.DataFrame, seeds: tuple, sets: list[str]) -> dict:
    """``foldstack/models/portfolio.json`` from the selection steps."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    tasks = {}
    for task, frame in steps.groupby("task", sort=False):
        frame = frame.sort_values("step")
        within = frame[frame["within_default_cost"]]
        tasks[task] = {
            "default_size": int(max(2, len(within))),
            "configs": [{"name": n, "family": CONFIGS[n].family, "params": CONFIGS[n].params}
                        for n in frame["config"]]}
    data = {"format": 1, "made_by": "python -m bench.portfolio", "commit": commit,
            "date": time.strftime("%Y-%m-%d"), "seeds": list(seeds), "sets": sets,
            "n_folds": N_FOLDS, "max_train_rows": MAX_TRAIN_ROWS, "tasks": tasks}
    units = unit_shapes(_units(list(CONFIGS)))
    data["costs"], data["cost_max_mcells"] = cost_model(units), cost_max_mcells(units)
    PACKAGE_FILE.write_text(json.dumps(data, indent=1) + "\n")
    return data


def lists_markdown(steps: pd.DataFrame) -> str:
    """The per-task tables of docs/portfolio.md ("The lists"), from the steps."""
    out = []
    for task, frame in steps.groupby("task", sort=False):
        frame = frame.sort_values("step")
        size = max(2, int(frame["within_default_cost"].sum()))
        out.append(f"**{task}** ({frame['splits'].iloc[0]} splits; default size {size}; the "
                   f"four default candidates' ensemble: {frame['default_four_norm_cv'].iloc[0]:.4f}"
                   f" at {frame['default_four_fit_s'].iloc[0]:.2f} s per fold)\n")
        out.append("| step | configuration | mean normalised CV of the prefix's ensemble | "
                   "fit s per fold | cumulative |\n|---|---|---|---|---|")
        for r in frame.itertuples():
            mark = " (default)" if r.step <= size else ""
            out.append(f"| {r.step}{mark} | `{r.config}` | {r.mean_norm_cv:.4f} | "
                       f"{r.fit_s:.2f} | {r.cum_fit_s:.2f} |")
        out.append("")
    return "\n".join(out)


def publish_lists(steps: pd.DataFrame, doc: Path = ROOT / "docs" / "portfolio.md") -> None:
    """Put :func:`lists_markdown` into ``doc`` between the ``portfolio-lists`` markers."""
    start, end = "<!-- portfolio-lists:start -->", "<!-- portfolio-lists:end -->"
    body = doc.read_text()
    if start in body and end in body:
        head, rest = body.split(start, 1)
        doc.write_text(head + start + "\n" + lists_markdown(steps) + end + rest.split(end, 1)[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--sets", nargs="+", default=SETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--select", action="store_true", help="only select and write")
    parser.add_argument("--no-select", action="store_true", help="only run the units")
    parser.add_argument("--costs", action="store_true",
                        help="only the cost model, from the stored units")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes, each running every other set")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.costs:
        print(json.dumps(write_costs(args.configs)))
        return
    if not args.select:
        if args.workers > 1:
            procs = [subprocess.Popen(
                [sys.executable, "-m", "bench.portfolio", "--no-select", "--configs",
                 *args.configs, "--seeds", *map(str, args.seeds), "--sets",
                 *args.sets[i::args.workers]], cwd=ROOT) for i in range(args.workers)]
            for p in procs:
                p.wait()
        else:
            run(args.configs, args.sets, tuple(args.seeds))
        if args.no_select:
            return
    from bench._table import publish

    steps = pd.concat([select(args.configs, task, tuple(args.seeds))
                       for task in ("binary", "multiclass", "regression")], ignore_index=True)
    publish(steps, "portfolio_steps", "Greedy zero-shot portfolio per task (CV on training "
            "parts only; ensemble of each prefix)")
    data = write_package_file(steps, tuple(args.seeds), args.sets)
    publish_lists(steps)
    print(f"wrote {PACKAGE_FILE.relative_to(ROOT)}: " + ", ".join(
        f"{t} default {v['default_size']} of {len(v['configs'])}"
        for t, v in data["tasks"].items()))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    np.seterr(all="ignore")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    main()
