"""Score the demo's submission against the held-out labels (ROC AUC, accuracy).

    python examples/demo_score.py PROBA.csv LABELS.csv
"""

import sys

import pandas as pd
from sklearn.metrics import accuracy_score, roc_auc_score


def main(pred_path: str, labels_path: str) -> None:
    pred = pd.read_csv(pred_path)
    truth = pd.read_csv(labels_path)
    merged = truth.merge(pred, on="customer", validate="one_to_one")
    auc = roc_auc_score(merged["churn"] == "Yes", merged["Yes"])
    acc = accuracy_score(merged["churn"], (merged["Yes"] > 0.5).map({True: "Yes", False: "No"}))
    print(f"holdout ({len(merged)} customers): ROC AUC {auc:.4f}, accuracy {acc:.4f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
