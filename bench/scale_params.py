"""Why the portfolio's xgboost trails a default xgboost on the generated million-row law.

    python -m bench.scale_params

A diagnosis for ``bench/scale.py``'s 1,000,000-row row, not a choice: nothing here changes a
default (defaults are chosen on the development suite).  ``xgboost.XGBClassifier`` with
native categories on the first 200,000 training rows of ``gen_1000000``, scored on its
100,000 holdout rows: the library's defaults, then the portfolio's slower learning rate and
its row and column subsampling (``subsample=0.8, colsample_bytree=0.8``) one at a time.
Writes ``bench/results/scale_params.csv``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from bench._table import publish  # noqa: E402
from bench.scale import load  # noqa: E402

ROWS = 200_000
VARIANTS = {
    "library defaults": {},
    "subsample 0.8, colsample 0.8": {"subsample": 0.8, "colsample_bytree": 0.8},
    "learning rate 0.05, 600 rounds": {"learning_rate": 0.05, "n_estimators": 600},
    "learning rate 0.05, 600 rounds, subsample/colsample 0.8": {
        "learning_rate": 0.05, "n_estimators": 600, "subsample": 0.8,
        "colsample_bytree": 0.8},
}


def main() -> None:
    import xgboost
    from sklearn.metrics import roc_auc_score

    df = load("gen_1000000")
    train, test = df[~df["part"]].drop(columns="part"), df[df["part"]].drop(columns="part")
    y = (train.pop("y") == "yes").to_numpy()[:ROWS]
    X = train.iloc[:ROWS]
    y_test = test.pop("y") == "yes"
    rows = []
    for name, params in VARIANTS.items():
        start = time.perf_counter()
        model = xgboost.XGBClassifier(enable_categorical=True, tree_method="hist",
                                      random_state=0, **params).fit(X, y)
        rows.append({"variant": name, "rows": ROWS,
                     "fit_s": round(time.perf_counter() - start, 1),
                     "holdout_auc": round(roc_auc_score(y_test, model.predict_proba(test)[:, 1]),
                                          4)})
    publish(pd.DataFrame(rows), "scale_params",
            "xgboost variants on 200,000 rows of the generated million-row law")


if __name__ == "__main__":
    main()
