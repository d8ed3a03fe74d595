"""Does bagging the Caruana selection help?  Honest scores on the suite's OOF record.

    python -m bench.ensemble_bagging          # after python -m bench.portfolio (its OOF files)

For every suite split that ``bench/portfolio.py`` finished (CV of the training parts only), the
out-of-fold predictions of its configurations are combined by greedy selection with
replacement (``fs.ensemble.greedy_weights``, 100 rounds, the primary metric: ROC AUC,
log loss or squared error) with ``n_bags`` = 1 (plain) or 20 (half of the rows each).  The
weights are cross-fitted: learned on one half of the rows, scored on the other, and the
other way round (two shuffled halves, stratified for classification), so that neither
variant is scored on the rows that chose it.  Two sets of members: the default-size prefix of
the shipped portfolio and every configuration.  Prints, per set of members, on how many
splits bagging scores better; writes the per-split scores to
``bench/results/ensemble_bagging.csv``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from bench import _suite
from bench import portfolio as P
from bench._table import publish

METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "mse"}


def _halves(y: np.ndarray, task: str, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    split = (KFold(2, shuffle=True, random_state=seed) if task == "regression"
             else StratifiedKFold(2, shuffle=True, random_state=seed))
    return list(split.split(np.zeros(len(y)), y))


def honest(task: str, y: np.ndarray, oof: np.ndarray, n_bags: int) -> float:
    """Cross-fitted score of greedy weights learned with ``n_bags`` bags."""
    import foldstack as fs

    pred = np.zeros(oof.shape[:1] + oof.shape[2:])
    for fit_rows, score_rows in _halves(y, task):
        w = fs.ensemble.greedy_weights(oof[fit_rows], y[fit_rows], metric=METRIC[task],
                                       n_iter=100, n_bags=n_bags, random_state=0)
        pred[score_rows] = np.tensordot(oof[score_rows], w, axes=([1], [0]))
    n_classes = 0 if task == "regression" else oof.shape[2]
    return _suite.score(task, n_classes, y, pred)


def main() -> None:
    shipped = json.loads(P.PACKAGE_FILE.read_text())["tasks"]
    units = P._units(list(P.CONFIGS))
    rows = []
    for (set_name, seed), unit in units.groupby(["set", "seed"]):
        task = unit["task"].iloc[0]
        names = [c["name"] for c in shipped[task]["configs"]]
        if not set(names) <= set(unit["config"]):
            continue
        s = _suite.make_split(set_name, seed, P.N_FOLDS, P.MAX_TRAIN_ROWS)
        for members, chosen in (("default", names[:shipped[task]["default_size"]]),
                                ("all", names)):
            oof = np.stack([np.load(P._oof_path(n, set_name, seed)) for n in chosen],
                           axis=1).astype(np.float64)
            row = {"set": set_name, "seed": seed, "task": task, "members": members}
            for bags in (1, 20):
                row[f"bags_{bags}"] = honest(task, s.y_train, oof, bags)
            higher = _suite.HIGHER_IS_BETTER[_suite.PRIMARY[task]]
            gain = row["bags_20"] - row["bags_1"]
            row["bagging_better"] = bool(gain > 0 if higher else gain < 0)
            rows.append(row)
    frame = pd.DataFrame(rows)
    summary = frame.groupby("members").agg(splits=("set", "size"),
                                            bagging_wins=("bagging_better", "sum")).reset_index()
    publish(frame, "ensemble_bagging", "Greedy ensemble selection, plain vs 20 bags "
            "(cross-fitted on halves of the OOF rows of the suite's training parts)")
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
