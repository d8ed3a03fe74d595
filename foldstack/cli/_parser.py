"""The command-line grammar of ``foldstack``."""

from __future__ import annotations

import argparse

from foldstack._version import __version__

EPILOG = """exit codes: 0 success; 1 every candidate failed; 2 bad usage, bad input, a bad or
damaged file, or a problem of the machine such as a directory that cannot be written or a full
disk (the message on stderr names the problem and the path); 130 interrupted (Ctrl-C; `cv`
keeps finished work: rerun the same command to resume); 3 unexpected error (a bug: please
report it)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="foldstack", epilog=EPILOG,
        description="Cross-validate linear, tree and deep models once on shared folds, "
                    "compare, diagnose and ensemble them.")
    parser.add_argument("--version", action="version", version=f"foldstack {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    cv = sub.add_parser("cv", help="cross-validate candidates and ensembles on a table",
                        epilog=EPILOG)
    cv.add_argument("data", metavar="DATA", help="CSV or Parquet file")
    cv.add_argument("--target", help="target column")
    cv.add_argument("--task", choices=["binary", "multiclass", "regression"],
                    help="override the task inferred from the target")
    cv.add_argument("--models", help="comma-separated, in the order to run: linear,xgboost,"
                                     "random_forest,mlp,lightgbm,catboost,extra_trees "
                                     "(default: the first four; with --time-limit, the "
                                     "portfolio)")
    cv.add_argument("--cv", type=int, help="number of folds (default 5)")
    cv.add_argument("--repeats", type=int, help="repeat K-fold R times (default 1)")
    cv.add_argument("--group-col", help="column of groups: no group spans train and validation")
    cv.add_argument("--metric", help="primary metric (default: ROC AUC / log loss / RMSE)")
    cv.add_argument("--metrics", help="extra metrics, comma-separated")
    cv.add_argument("--ensemble", help="comma-separated: equal,optimized,greedy,stacking or "
                                       "none (default equal,greedy,stacking)")
    cv.add_argument("--tune", type=int, help="tuning trials per model (default 0: no tuning)")
    cv.add_argument("--time-limit", type=float, metavar="SECONDS",
                    help="seconds for the whole run: the first model always finishes, the "
                         "others run while time is left (boosting and networks stop in time)")
    cv.add_argument("--time-budget", type=float, metavar="SECONDS",
                    help="deprecated alias of --time-limit")
    cv.add_argument("--config", help="TOML file with any of these options plus [params.MODEL] "
                                     "and [space.MODEL] tables")
    cv.add_argument("--out", help="output directory (default runs/<timestamp>)")
    cv.add_argument("--resume", action="store_true",
                    help="reuse --out's cache even if the options changed")
    cv.add_argument("--force", action="store_true",
                    help="replace another run in --out: the files foldstack wrote there are "
                         "removed, any other file is kept")
    cv.add_argument("--n-jobs", type=int, help="parallel tasks (default 1)")
    cv.add_argument("--backend", choices=["loky", "dask"], help="joblib backend")
    cv.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler, e.g. tcp://h:8786")
    cv.add_argument("--seed", type=int, help="random seed (default 0)")
    cv.add_argument("--drop", help="comma-separated columns to ignore (ids, leaks)")
    cv.add_argument("--allow-pickle", action="store_true", default=None,
                    help="allow pickled parts in the saved model (e.g. a custom torch module)")
    _verbosity(cv)

    pr = sub.add_parser("predict", help="predict a table with a saved model", epilog=EPILOG)
    pr.add_argument("model", metavar="MODEL", help="a run directory or its model/ directory")
    pr.add_argument("data", metavar="DATA", help="CSV or Parquet file")
    pr.add_argument("-o", "--output", required=True, metavar="OUT.csv")
    pr.add_argument("--proba", action="store_true", help="write class probabilities")
    pr.add_argument("--id-col", help="column copied first into the output (e.g. an id)")
    pr.add_argument("--allow-pickle", action="store_true",
                    help="load a model saved with --allow-pickle (only if you trust it)")
    _verbosity(pr)

    rep = sub.add_parser("report", help="regenerate report.html from a run directory",
                         epilog=EPILOG)
    rep.add_argument("run_dir", metavar="DIR")
    _verbosity(rep)
    return parser


def _verbosity(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    g.add_argument("-v", "--verbose", action="store_true", help="debug output")
