"""The tabular network's defaults, chosen on the development suite.

    python -m bench.suite_mlp                       # every configuration, the screening sets
    python -m bench.suite_mlp --sets all            # every set of DATASETS.md (but flights)
    python -m bench.suite_mlp --configs mlp_v1 xgboost --seeds 0 1 2
    python -m bench.suite_mlp --summary             # tables from the stored records only
    python -m bench.suite_mlp --summary --configs mlp_default realmlp_td xgboost --out x
    python -m bench.suite_mlp --peer-python /work/peers/realmlp/bin/python   # RealMLP-TD

Every configuration (foldstack network variants, the old default ``mlp_v1``, the estimators'
defaults as shipped ``mlp_default``, which must reproduce the chosen variant, a default
xgboost, the plain skorch MLP of PEERS.md and RealMLP-TD) is run on the same units: each set of
the suite, split 75/25 with seeds 0, 1, 2 (``bench/_suite.py``), its training part cut into 3
folds.  Each fold model is fitted on the fold's training rows and scores the fold's validation
rows (the **CV score**, the only score any choice uses) and predicts the test part; the test
score of a unit is that of the fold models' mean prediction, computed once every fold is done.
Fits use one thread (torch, xgboost, BLAS), so that two runs side by side do not contend.

Results are cached per (configuration, set, seed, fold) in ``bench/results/suite_mlp/``:
``records/<config>.csv`` (one row per fold: CV score, fit and predict seconds),
``tests/<config>.csv`` (one row per finished unit: test score) and, not committed,
``preds/`` (each fold model's test predictions, until its unit is finished).  A run resumes
where the last one stopped; a configuration's ``version`` is part of its cache key, so
changing what a name means (bump the version) recomputes it.

Summary: for each unit, the compared configurations are ranked (1 = best) and normalised
(1 = the best of them on that unit, 0 = the worst); both are averaged over a set's seeds, then
over sets.  Only units every compared configuration finished are summarised.  The choice
(printed last): among the foldstack variants whose mean fit time is at most ``--cost-limit``
times RealMLP-TD's, the best mean normalised **CV** score.  ``max_fit_x_realmlp`` is the
largest ratio, over sets, of a configuration's mean fit time to RealMLP-TD's.  Writes
``<out>.csv`` (summary), ``<out>_sets.csv`` (per-set test scores) and ``<out>_units.csv``
under bench/results/ (``--out``, default ``suite_mlp``).
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
if str(ROOT) not in sys.path:  # run by a peer's interpreter as a script
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench import _suite  # noqa: E402

logger = logging.getLogger("bench.suite_mlp")
STORE = ROOT / "bench" / "results" / "suite_mlp"
# Screening sets: small and mid-size sets of every task, none of them the six sets the first
# defaults were tuned on except penguins and concrete (kept to see the old default's home turf).
SCREEN = ["biopsy", "olive", "swiss_labor", "college", "sacramento", "oj", "penguins",
          "concrete", "titanic", "credit_card", "beps", "saratoga", "hmda", "wage", "leaf",
          "spam7", "arrests", "wvs", "credit_data", "stackoverflow", "caravan", "computers",
          "wa_churn", "ames", "taxi", "deliveries"]
ALL = [n for n in _suite.NAMES if n not in ("diamonds", "cps1988")] + ["cps1988", "diamonds"]
MAX_TRAIN_ROWS = 5000   # larger training parts are subsampled (seeded) for the screen
SEEDS = (0, 1, 2)
N_FOLDS = 3

@dataclass(frozen=True)
class Config:
    """A named model configuration: ``kind`` says how it is built, ``params`` what it sets."""

    kind: str                       # "mlp", "mlp_default", "xgboost", "plain_mlp", "realmlp_td"
    params: dict = field(default_factory=dict)
    version: int = 1
    candidate: bool = False         # a foldstack variant the default may be chosen from
    note: str = ""

    def key(self) -> str:
        params = self.params
        if self.kind == "mlp_default":  # the estimators' defaults: changing them recomputes
            import foldstack as fs

            params = {cls.__name__: cls().get_params() for cls in (
                fs.models.TabularMLPClassifier, fs.models.TabularMLPRegressor)}
        blob = json.dumps([self.kind, params, self.version, N_FOLDS, MAX_TRAIN_ROWS],
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


ES = {"early_stopping": True, "max_epochs": 100}


def _mlp(note: str, version: int = 1, **params) -> Config:
    return Config("mlp", params, version, candidate=True, note=note)


CONFIGS: dict[str, Config] = {
    "mlp_default": Config("mlp_default", note="TabularMLP* as shipped (the chosen variant)"),
    "mlp_v1": _mlp("the old default (as shipped before this suite)"),
    "mlp_es": _mlp("v1, always early-stopped (no 300-epoch small-table path)", **ES),
    "mlp_e100": _mlp("v1, small tables train 100 epochs on every row (not 300)",
                     max_epochs=100),
    "mlp_noemb": _mlp("v1 without periodic embeddings of numbers", numeric_embedding=None),
    # on top of mlp_es, the options of the TabM and RealMLP papers, one at a time
    "es_rsc": _mlp("mlp_es, RealMLP's robust scaling with smooth clipping (no quantiles)",
                   **ES, numeric_transform="robust_smooth_clip"),
    "es_ple": _mlp("mlp_es, piecewise-linear embeddings of numbers (not periodic)",
                   **ES, numeric_embedding="piecewise_linear"),
    "es_realmlp": _mlp("mlp_es, RealMLP's scaling, feature scaling layer, NTK, betas .9/.95",
                       **ES, numeric_transform="robust_smooth_clip", feature_scaling=True,
                       parametrization="ntk", betas=(0.9, 0.95)),
    "es_ls": _mlp("mlp_es, label smoothing 0.1 (classification)", **ES, label_smoothing=0.1),
    "es_k4": _mlp("mlp_es, TabM ensemble of k=4 members", **ES, k=4),
    "es_seeds3": _mlp("mlp_es, 3 seeds averaged (n_seeds=3)", **ES, n_seeds=3),
    "es_e200": _mlp("mlp_es within 200 epochs (not 100)", early_stopping=True, max_epochs=200),
    "es_p32": _mlp("mlp_es, patience 32 epochs (not 16)", **ES, patience=32),
    "es_w256": _mlp("mlp_es, 256 units per layer (not 128)", **ES, width=256),
    "es_rsc_ple": _mlp("mlp_es, robust smooth clipping and piecewise-linear embeddings",
                       **ES, numeric_transform="robust_smooth_clip",
                       numeric_embedding="piecewise_linear"),
    "rsc_ple_k4": _mlp("es_rsc_ple as a TabM ensemble of k=4 members", **ES, k=4,
                       numeric_transform="robust_smooth_clip",
                       numeric_embedding="piecewise_linear"),
    "rsc_ple_seeds3": _mlp("es_rsc_ple, 3 seeds averaged (n_seeds=3)", **ES, n_seeds=3,
                           numeric_transform="robust_smooth_clip",
                           numeric_embedding="piecewise_linear"),
    "xgboost": Config("xgboost", note="XGBClassifier/XGBRegressor() defaults, one-hot input"),
    "plain_mlp": Config("plain_mlp", note="PEERS.md's plain skorch 2x128 MLP, 50 epochs"),
    "realmlp_td": Config("realmlp_td", note="pytabkit RealMLP_TD defaults (own venv)"),
}


# ---------------------------------------------------------------------------- estimators

def build(config: Config, task: str, seed: int, X_train: pd.DataFrame):
    """An unfitted estimator of ``config`` for ``task`` (class codes as labels)."""
    if config.kind == "mlp":
        import foldstack as fs

        kind = "regression" if task == "regression" else "classification"
        cls = (fs.models.TabularMLPRegressor if kind == "regression"
               else fs.models.TabularMLPClassifier)
        # every network starts from the old default, spelled out: a name keeps its meaning
        params = {**fs.models.mlp_preset("v1", kind), **config.params}
        # a task's own options (label_smoothing) leave the other task's estimator as it is
        params = {k: v for k, v in params.items() if k in cls._get_param_names()}
        return cls(random_state=seed, **params)
    if config.kind == "mlp_default":
        import foldstack as fs

        cls = (fs.models.TabularMLPRegressor if task == "regression"
               else fs.models.TabularMLPClassifier)
        return cls(random_state=seed)
    if config.kind in ("xgboost", "plain_mlp"):
        from bench.peers import member_estimators

        return member_estimators(task, X_train, threads=1, seed=seed)[config.kind]
    if config.kind == "realmlp_td":
        return _RealMLP(task, seed)
    raise ValueError(f"unknown kind {config.kind!r}")


class _RealMLP:
    """pytabkit's RealMLP-TD with default parameters.

    Object columns become categories; missing numbers (which pytabkit refuses) take the
    training rows' median.
    """

    def __init__(self, task: str, seed: int):
        from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

        cls = RealMLP_TD_Regressor if task == "regression" else RealMLP_TD_Classifier
        self.model = cls(random_state=seed, n_threads=1, device="cpu", verbosity=0)
        self.categories: dict = {}
        self.medians: dict = {}

    def _frame(self, X: pd.DataFrame, fit: bool) -> pd.DataFrame:
        X = X.copy()
        for c in X.columns:
            if X[c].dtype != object:
                if fit:
                    median = X[c].median()
                    self.medians[c] = 0.0 if pd.isna(median) else float(median)
                X[c] = X[c].astype(float).fillna(self.medians[c])
            else:
                if fit:
                    self.categories[c] = sorted(pd.unique(X[c].dropna().astype(str)))
                X[c] = pd.Categorical(X[c].astype("string").astype(object),
                                      categories=self.categories[c])
        return X

    def fit(self, X, y):
        self.model.fit(self._frame(X, True), y)
        self.classes_ = getattr(self.model, "classes_", None)
        return self

    def predict(self, X):
        return self.model.predict(self._frame(X, False))

    def predict_proba(self, X):
        return self.model.predict_proba(self._frame(X, False))


# ---------------------------------------------------------------------------- the store

def _paths(name: str) -> tuple[Path, Path, Path]:
    return (STORE / "records" / f"{name}.csv", STORE / "tests" / f"{name}.csv",
            STORE / "preds" / name)


def _read(path: Path, key: str) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame()
    df = pd.read_csv(path, dtype={"key": str})  # an all-digit key must stay a string
    return df[df["key"] == key] if len(df) else df


def _append(path: Path, row: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([row]).to_csv(path, mode="a", header=not path.exists(), index=False)


def run_unit(name: str, config: Config, s: _suite.SuiteSplit) -> None:
    """Fit the missing folds of one (configuration, set, seed) unit; finish its test score."""
    records_csv, tests_csv, preds_dir = _paths(name)
    key = config.key()
    done_tests = _read(tests_csv, key)
    if len(done_tests) and ((done_tests["set"] == s.name) & (done_tests["seed"] == s.seed)).any():
        return
    done = _read(records_csv, key)
    n_classes = len(s.classes)
    preds = []
    for fold, (tr, va) in enumerate(s.folds):
        pred_file = preds_dir / f"{s.name}_s{s.seed}_f{fold}_{key}.npy"
        have = len(done) and ((done["set"] == s.name) & (done["seed"] == s.seed)
                              & (done["fold"] == fold)).any()
        if have and pred_file.exists():
            preds.append(np.load(pred_file))
            continue
        row = {"key": key, "set": s.name, "task": s.task, "seed": s.seed, "fold": fold,
               "n_train": len(tr), "cv_score": np.nan, "fit_s": np.nan, "predict_s": np.nan,
               "error": ""}
        try:
            est = build(config, s.task, s.seed, s.X_train)
            start = time.perf_counter()
            est.fit(s.X_train.iloc[tr], s.y_train[tr])
            row["fit_s"] = time.perf_counter() - start
            start = time.perf_counter()
            valid = _suite.predict(est, s.X_train.iloc[va], s.task, n_classes)
            row["predict_s"] = time.perf_counter() - start
            row["cv_score"] = _suite.score(s.task, n_classes, s.y_train[va], valid)
            test = _suite.predict(est, s.X_test, s.task, n_classes).astype(np.float32)
        except Exception as exc:  # a failed fit is a result: recorded, never fatal
            row["error"] = f"{type(exc).__name__}: {exc}"[:300]
            logger.warning("%s %s seed %d fold %d failed:\n%s", name, s.name, s.seed, fold,
                           traceback.format_exc())
            _append(records_csv, row)
            _append(tests_csv, {"key": key, "set": s.name, "task": s.task, "seed": s.seed,
                                "test_score": np.nan, "error": row["error"]})
            return
        pred_file.parent.mkdir(parents=True, exist_ok=True)
        np.save(pred_file, test)
        _append(records_csv, row)
        preds.append(test)
        logger.info("%-12s %-14s seed %d fold %d: cv %.4f in %.1f s", name, s.name, s.seed,
                    fold, row["cv_score"], row["fit_s"])
    test_score = _suite.score(s.task, n_classes, s.y_test, np.mean(preds, axis=0))
    _append(tests_csv, {"key": key, "set": s.name, "task": s.task, "seed": s.seed,
                        "test_score": test_score, "error": ""})


def run(names: list[str], sets: list[str], seeds: tuple) -> None:
    """Every unit of ``names`` x ``sets`` x ``seeds``, set by set (the splits are shared)."""
    for set_name in sets:
        for seed in seeds:
            s = _suite.make_split(set_name, seed, N_FOLDS, MAX_TRAIN_ROWS)
            for name in names:
                run_unit(name, CONFIGS[name], s)


# ---------------------------------------------------------------------------- summary

def units(names: list[str]) -> pd.DataFrame:
    """One row per (config, set, seed) finished by its current key: cv, test, fit seconds."""
    frames = []
    for name in names:
        config = CONFIGS[name]
        records_csv, tests_csv, _ = _paths(name)
        rec, tests = _read(records_csv, config.key()), _read(tests_csv, config.key())
        if not len(tests):
            continue
        rec = rec.drop_duplicates(["set", "seed", "fold"], keep="last")
        agg = rec.groupby(["set", "seed"]).agg(cv_score=("cv_score", "mean"),
                                               fit_s=("fit_s", "mean"),
                                               predict_s=("predict_s", "mean"))
        tests = tests.drop_duplicates(["set", "seed"], keep="last").set_index(["set", "seed"])
        frame = tests[["task", "test_score"]].join(agg, how="left").reset_index()
        frame.insert(0, "config", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _normalised(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rank (1 = best) and normalised score (1 = best, 0 = worst) of each config per unit."""
    out = []
    for (_, _), unit in frame.groupby(["set", "seed"]):
        higher = _suite.HIGHER_IS_BETTER[_suite.PRIMARY[unit["task"].iloc[0]]]
        value = unit[column] if higher else -unit[column]
        spread = value.max() - value.min()
        out.append(pd.DataFrame({
            "config": unit["config"], "set": unit["set"], "seed": unit["seed"],
            f"rank_{column}": value.rank(ascending=False, method="average"),
            f"norm_{column}": (value - value.min()) / spread if spread > 0 else 1.0}))
    return pd.concat(out, ignore_index=True)


def summarise(names: list[str], cost_limit: float) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The summary table, the per-set test table and the choice, on the common units."""
    frame = units(names)
    if frame.empty:
        raise SystemExit("no finished units yet: run some configurations first")
    frame = frame[frame["test_score"].notna()]
    present = frame["config"].unique().tolist()
    common = frame.groupby(["set", "seed"])["config"].nunique()
    common = common[common == len(present)].index
    frame = frame.set_index(["set", "seed"]).loc[common].reset_index()
    scores = frame
    for column in ("cv_score", "test_score"):
        scores = scores.merge(_normalised(frame, column), on=["config", "set", "seed"])
    per_set = scores.groupby(["config", "set"]).mean(numeric_only=True)
    summary = per_set.groupby("config").mean(numeric_only=True)[
        ["rank_test_score", "norm_test_score", "rank_cv_score", "norm_cv_score", "fit_s"]]
    summary.columns = ["mean_rank_test", "mean_norm_test", "mean_rank_cv", "mean_norm_cv",
                       "mean_fit_s"]
    if "realmlp_td" in present:  # the cost target holds on every set, not only on average
        fit = per_set["fit_s"].unstack("config")
        summary["max_fit_x_realmlp"] = fit.div(fit["realmlp_td"], axis=0).max()
    summary["sets"] = per_set.reset_index().groupby("config")["set"].nunique()
    summary["units"] = len(common)
    summary["note"] = [CONFIGS[c].note for c in summary.index]
    summary = summary.sort_values("mean_norm_test", ascending=False)
    table = per_set["test_score"].unstack("config")
    table.insert(0, "metric", [_suite.PRIMARY[_suite.SUITE[s][3]] for s in table.index])
    choice = "no choice: RealMLP-TD has no finished units"
    if "realmlp_td" in summary.index:
        limit = cost_limit * summary.loc["realmlp_td", "mean_fit_s"]
        ok = [c for c in summary.index if CONFIGS[c].candidate
              and summary.loc[c, "mean_fit_s"] <= limit]
        if ok:
            best = max(ok, key=lambda c: summary.loc[c, "mean_norm_cv"])
            choice = (f"choice by mean normalised CV score among foldstack variants with mean "
                      f"fit time <= {cost_limit:g} x RealMLP-TD's ({limit:.1f} s): {best}")
    return summary.reset_index(), table.reset_index(), choice


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS),
                        metavar="NAME")
    parser.add_argument("--sets", nargs="+", default=SCREEN,
                        help="set names, 'screen' (default) or 'all'")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--summary", action="store_true", help="only print the tables")
    parser.add_argument("--no-summary", action="store_true", help="only run the units")
    parser.add_argument("--peer-python", default=os.environ.get("FOLDSTACK_REALMLP_PYTHON"),
                        help="interpreter of a venv with pytabkit, for realmlp_td")
    parser.add_argument("--out", default="suite_mlp",
                        help="name of the CSVs under bench/results/ (<out>.csv, <out>_sets.csv, "
                             "<out>_units.csv)")
    parser.add_argument("--cost-limit", type=float, default=2.0,
                        help="max mean fit time of the chosen default, x RealMLP-TD's")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sets = {"screen": SCREEN, "all": ALL}.get(args.sets[0], args.sets) if len(
        args.sets) == 1 else args.sets
    if not args.summary:
        names, peer = list(args.configs), None
        if "realmlp_td" in names and args.peer_python:  # in its own venv, beside ours
            names.remove("realmlp_td")
            peer = subprocess.Popen(
                [args.peer_python, str(Path(__file__).resolve()), "--configs", "realmlp_td",
                 "--sets", *sets, "--seeds", *map(str, args.seeds), "--no-summary"],
                cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
        run(names, sets, tuple(args.seeds))
        if peer is not None and peer.wait() != 0:
            logger.warning("the RealMLP-TD run exited with status %d", peer.returncode)
        if args.no_summary:
            return
    from bench._table import publish

    summary, table, choice = summarise(list(args.configs), args.cost_limit)
    publish(summary, args.out, "Tabular network configurations on the development suite "
            "(3 seeds x 3 folds; choices on CV scores, test scored once)")
    publish(table, f"{args.out}_sets", "Test score per set (mean over seeds)")
    units(list(args.configs)).to_csv(STORE.parent / f"{args.out}_units.csv", index=False)
    print(choice)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    np.seterr(all="ignore")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    main()
