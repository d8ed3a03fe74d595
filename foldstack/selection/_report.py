"""CVReport: everything one cross-validation pass produced; nothing is refit downstream."""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import numbers
import os
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    ShuffleSplit,
    StratifiedGroupKFold,
    StratifiedKFold,
    StratifiedShuffleSplit,
    TimeSeriesSplit,
)

from foldstack.exceptions import (
    ColumnNotFoundError,
    DataError,
    DataWarning,
    FoldstackError,
    InvalidParameterError,
    UnsafeModelError,
)
from foldstack.selection._compare import Comparison, corrected_ttest
from foldstack.selection._fold_average import FoldAverage
from foldstack.selection._scoring import METRICS, Metric
from foldstack.utils._validation import did_you_mean, plain

_SAVE_FORMAT = 2


@dataclass(frozen=True, eq=False)
class CandidateResult:
    """One candidate's record: per-fold scores and times, OOF predictions, fold models.

    ``scores`` is tidy (``fold``, ``subset`` = "train" | "test", ``metric``, ``value``);
    ``status`` is ``"ok"``, ``"failed"`` or ``"timeout"``; ``kind`` is ``"model"`` or
    ``"ensemble"``.  Ensembles carry no fold models (they are scored by cross-fitting).
    ``note`` says what a time limit cut short (e.g. folds whose training stopped early).
    """

    name: str
    estimator: Any
    kind: str
    status: str
    scores: pd.DataFrame
    times: pd.DataFrame
    oof: np.ndarray | None
    fold_models: tuple | None
    error: str | None = None
    note: str = ""

    def fold_scores(self, subset: str = "test") -> pd.DataFrame:
        """Per-fold scores, one row per fold and one column per metric."""
        s = self.scores[self.scores["subset"] == subset]
        return s.pivot(index="fold", columns="metric", values="value")

    def renamed(self, name: str) -> CandidateResult:
        return dataclasses.replace(self, name=name)


@dataclass(frozen=True, eq=False)
class CVReport:
    """The record of one cross-validation pass over several candidates on shared folds.

    Attributes
    ----------
    task : str
        "binary", "multiclass" or "regression".
    splits : tuple of (train_idx, val_idx)
        The folds every candidate used.
    metrics : tuple of str
        Metric names; the first is primary.
    greater_is_better : dict
        Metric name -> whether a larger value is better.
    results : dict of str -> CandidateResult
        One record per candidate, in the order given.
    y : ndarray
        The target the folds index (rows with a missing target dropped).
    classes : ndarray or None
        Class labels, the column order of classification OOF probabilities.
    cv : splitter or tuple of (train_idx, val_idx)
        What the folds came from: the scikit-learn splitter (``StratifiedKFold(5, ...)``
        for ``cv=5``, or the one given), or the folds themselves when they were given as
        index pairs.  An ensemble fitted again on new rows splits them with it.  A loaded
        report rebuilds the scikit-learn K-fold, shuffle-split and time-series splitters
        (saved as class name and parameters); any other splitter comes back as ``splits``.
    scoring : tuple of Metric or None
        The metrics the report was scored with (custom scorers included), primary first;
        ``scoring=report.scoring`` scores another pass the same way.  A loaded report
        rebuilds the built-in ones (renamed ones included); a scorer callable is code,
        never saved, so ``scoring`` is None when the report had one.

    Examples
    --------
    >>> report.leaderboard()            # doctest: +SKIP
    >>> report.compare("xgboost", "mlp")  # doctest: +SKIP
    """

    task: str
    splits: tuple
    metrics: tuple
    greater_is_better: Mapping[str, bool]
    results: Mapping[str, CandidateResult]
    y: np.ndarray
    classes: np.ndarray | None = None
    data_fingerprint: str = ""
    cv: Any = dataclasses.field(default=None, repr=False)
    scoring: tuple | None = dataclasses.field(default=None, repr=False)

    # -- views -------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Every candidate, in the order given (failed ones included)."""
        return tuple(self.results)

    @property
    def ok_names(self) -> tuple[str, ...]:
        """Candidates that finished every fold."""
        return tuple(n for n, r in self.results.items() if r.status == "ok")

    @property
    def primary(self) -> str:
        return self.metrics[0]

    @property
    def oof(self) -> dict[str, np.ndarray]:
        """Name -> out-of-fold predictions (probabilities in ``classes`` order, or values)."""
        return {n: r.oof for n, r in self.results.items() if r.oof is not None}

    @property
    def fold_models(self) -> dict[str, tuple]:
        return {n: r.fold_models for n, r in self.results.items() if r.fold_models}

    @property
    def candidates(self) -> dict[str, Any]:
        """Name -> the unfitted estimator."""
        return {n: r.estimator for n, r in self.results.items()}

    @property
    def failures(self) -> dict[str, str]:
        """Name -> error message and traceback, for candidates that did not finish."""
        return {n: r.error for n, r in self.results.items() if r.status != "ok"}

    @property
    def scores(self) -> pd.DataFrame:
        """Tidy scores of every candidate: candidate, fold, subset, metric, value."""
        frames = [r.scores.assign(candidate=n) for n, r in self.results.items()]
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return df[["candidate", "fold", "subset", "metric", "value"]]

    @property
    def times(self) -> pd.DataFrame:
        frames = [r.times.assign(candidate=n) for n, r in self.results.items()]
        return pd.concat(frames, ignore_index=True)[
            ["candidate", "fold", "fit_time", "predict_time"]]

    def _check_name(self, name: str, ok: bool = True) -> CandidateResult:
        if name not in self.results:
            raise ColumnNotFoundError(
                f"No candidate named {name!r} in the report.{did_you_mean(name, self.names)} "
                f"Candidates: {', '.join(self.names)}.")
        result = self.results[name]
        if ok and result.status != "ok":
            raise DataError(f"Candidate {name!r} did not finish ({result.status}): "
                            f"{(result.error or '').splitlines()[0]}")
        return result

    def _check_metric(self, metric: str | None) -> str:
        metric = self.primary if metric is None else metric
        if metric not in self.metrics:
            raise InvalidParameterError(
                f"Metric {metric!r} was not computed in this report."
                f"{did_you_mean(metric, self.metrics)} Computed: {', '.join(self.metrics)}.")
        return metric

    def leaderboard(self, metric: str | None = None) -> pd.DataFrame:
        """One row per candidate, best first, in scikit-learn's ``cv_results_`` grammar.

        Columns: for every metric ``mean_test_<m>``, ``std_test_<m>``, ``mean_train_<m>``
        and ``gap_<m>`` (how much worse validation is than training: positive means
        overfitting); then ``mean_fit_time``, ``mean_score_time``, ``rank_test_<metric>``,
        ``p_vs_best`` (corrected paired t-test against the top candidate), ``kind``,
        ``status`` and ``note`` (what a time limit cut short, else empty).

        Parameters
        ----------
        metric : str, default=None
            The metric that ranks; the primary one when None.
        """
        metric = self._check_metric(metric)
        rows = {}
        for name, r in self.results.items():
            row: dict[str, Any] = {}
            test, train = r.fold_scores("test"), r.fold_scores("train")
            for m in self.metrics:
                te = test[m] if m in test else pd.Series(dtype=float)
                tr = train[m] if m in train else pd.Series(dtype=float)
                row[f"mean_test_{m}"] = te.mean() if len(te) else np.nan
                row[f"std_test_{m}"] = te.std(ddof=0) if len(te) else np.nan
                row[f"mean_train_{m}"] = tr.mean() if len(tr) else np.nan
                sign = 1 if self.greater_is_better[m] else -1
                row[f"gap_{m}"] = sign * (row[f"mean_train_{m}"] - row[f"mean_test_{m}"])
            row["mean_fit_time"] = r.times["fit_time"].mean() if len(r.times) else np.nan
            row["mean_score_time"] = (r.times["predict_time"].mean() if len(r.times)
                                      else np.nan)
            row["kind"], row["status"], row["note"] = r.kind, r.status, r.note
            rows[name] = row
        board = pd.DataFrame.from_dict(rows, orient="index")
        board.index.name = "candidate"
        key = board[f"mean_test_{metric}"].where(board["status"] == "ok")
        rank = key.rank(ascending=not self.greater_is_better[metric], method="min")
        board[f"rank_test_{metric}"] = rank.astype("Int64")
        board["p_vs_best"] = np.nan
        ranked = rank.dropna().sort_values(kind="stable")
        if len(ranked):
            best = ranked.index[0]
            for name in ranked.index[1:]:
                board.loc[name, "p_vs_best"] = self.compare(best, name, metric).p_value
        order = board.assign(_r=rank.fillna(np.inf)).sort_values("_r", kind="stable").index
        last = ["kind", "status", "note"]
        cols = [c for c in board.columns if c not in last] + last
        return board.loc[order, cols]

    def best(self, metric: str | None = None, kind: str | None = None) -> str:
        """Name of the best finished candidate by mean validation score."""
        board = self.leaderboard(metric)
        board = board[board["status"] == "ok"]
        if kind is not None:
            board = board[board["kind"] == kind]
        if board.empty:
            raise DataError("No candidate finished; see report.failures.")
        return str(board.index[0])

    def compare(self, a: str, b: str, metric: str | None = None) -> Comparison:
        """Paired comparison of ``a`` and ``b`` on the same folds (corrected t-test).

        Uses Nadeau and Bengio's corrected resampled t-test, which accounts for the overlap
        of training rows between folds.  ``mean_difference`` is ``a - b`` in the metric's
        unit; ``better`` names the better candidate when ``p < 0.05``.
        """
        metric = self._check_metric(metric)
        ra, rb = self._check_name(a), self._check_name(b)
        da, db = ra.fold_scores("test")[metric], rb.fold_scores("test")[metric]
        diffs = (da - db).to_numpy()
        n_val = np.mean([len(v) for _, v in self.splits])
        n_train = np.mean([len(t) for t, _ in self.splits])
        t, p = corrected_ttest(diffs, n_val / n_train)
        mean = float(np.nanmean(diffs))
        better = None
        if np.isfinite(p) and p < 0.05 and mean != 0:
            a_wins = (mean > 0) == bool(self.greater_is_better[metric])
            better = a if a_wins else b
        return Comparison(a, b, metric, mean, float(np.nanstd(diffs, ddof=1)), t, p,
                          len(diffs), better)

    def fold_average(self, name: str) -> FoldAverage:
        """The candidate's K fold models behind one ``predict`` (probabilities averaged)."""
        r = self._check_name(name)
        if not r.fold_models:
            raise DataError(f"Candidate {name!r} ({r.kind}) has no fold models.")
        return FoldAverage(r.fold_models, self.classes)

    def oof_matrix(self, names: list[str] | None = None, *, drop_first_proba_column: bool = False
                   ) -> np.ndarray:
        """OOF predictions side by side: (n_rows, n_candidates x width).

        For binary classification with ``drop_first_proba_column=True`` only the positive
        class column of each candidate is kept (the other is redundant).
        """
        names = list(self.ok_names if names is None else names)
        blocks = []
        for n in names:
            p = self._check_name(n).oof
            if p.ndim == 1:
                p = p[:, None]
            elif drop_first_proba_column and p.shape[1] == 2:
                p = p[:, 1:]
            blocks.append(p)
        return np.hstack(blocks)

    def oof_frame(self) -> pd.DataFrame:
        """OOF predictions as a table: one column per candidate (regression) or per
        candidate and class, named ``<candidate>__<class>`` (classification)."""
        cols: dict[str, np.ndarray] = {}
        for n, p in self.oof.items():
            if p.ndim == 1:
                cols[n] = p
            else:
                for j, c in enumerate(self.classes):
                    cols[f"{n}__{c}"] = p[:, j]
        return pd.DataFrame(cols)

    def correlation(self, names: list[str] | None = None) -> pd.DataFrame:
        """Pearson correlation of the candidates' OOF predictions (diversity).

        Regression: of the predicted values; binary: of the positive-class probabilities;
        multiclass: of all class probabilities, flattened.
        """
        names = list(self.ok_names if names is None else names)
        cols = {}
        for n in names:
            p = self._check_name(n).oof
            cols[n] = p if p.ndim == 1 else (p[:, 1] if p.shape[1] == 2 else p.ravel())
        return pd.DataFrame(cols).corr()

    def disagreement(self, names: list[str] | None = None) -> pd.DataFrame:
        """Share of rows on which two classifiers' OOF predicted classes differ."""
        if self.classes is None:
            raise InvalidParameterError("disagreement() is for classification reports; use "
                                        "correlation() for regression.")
        names = list(self.ok_names if names is None else names)
        labels = {n: np.argmax(self._check_name(n).oof, axis=1) for n in names}
        out = pd.DataFrame(0.0, index=names, columns=names)
        for a in names:
            for b in names:
                out.loc[a, b] = float(np.mean(labels[a] != labels[b]))
        return out

    # -- building new reports ----------------------------------------------------------------
    def subset(self, names: list[str]) -> CVReport:
        """A report with only ``names`` (in that order)."""
        for n in names:
            self._check_name(n, ok=False)
        return dataclasses.replace(self, results={n: self.results[n] for n in names})

    def add(self, result: CandidateResult, name: str | None = None) -> CVReport:
        """A new report with one more candidate (e.g. a tuned model or an ensemble).

        The result must come from the same folds; nothing is refitted.
        """
        name = name or result.name
        if name in self.results:
            raise InvalidParameterError(f"The report already has a candidate named {name!r}.")
        if result.oof is not None and len(result.oof) != len(self.y):
            raise DataError(f"{name!r} has {len(result.oof)} OOF rows, the report "
                            f"{len(self.y)}: it was not cross-validated on these folds.")
        return dataclasses.replace(self, results={**self.results, name: result.renamed(name)})

    # -- persistence ---------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, allow_pickle: bool = False) -> Path:
        """Write the report to directory ``path``, with no pickle in it by default.

        Files: ``meta.json``, ``scores.csv``, ``times.csv``, ``oof.parquet``,
        ``target.parquet``, ``splits.npz`` and ``models/`` (the estimators and fold models,
        in the format of :func:`foldstack.persist.save_model`, which loads without running
        code).  A candidate that format cannot hold (a custom torch module) is saved
        without its models, with a warning, unless ``allow_pickle=True``.  ``cv`` and
        ``scoring`` are kept as data in ``meta.json``: a scikit-learn splitter of
        :data:`SPLITTERS` as its class name and parameters, each metric as its name and the
        built-in metric it is (a scorer callable as its name only).
        """
        from foldstack.persist import save_model

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.oof_frame().to_parquet(path / "oof.parquet")
        pd.DataFrame({"y": self.y}).to_parquet(path / "target.parquet")
        self.scores.to_csv(path / "scores.csv", index=False)
        self.times.to_csv(path / "times.csv", index=False)
        np.savez_compressed(path / "splits.npz", **{
            f"{part}_{i}": idx for i, (tr, va) in enumerate(self.splits)
            for part, idx in (("train", tr), ("val", va))})
        models = {n: [r.estimator, list(r.fold_models) if r.fold_models else None]
                  for n, r in self.results.items()}
        stored = list(models)
        # each fold model's arrays in a file of their own: the same bytes as in a run's cache
        # and final model, which foldstack cv then stores once (persist.link_duplicates)
        parts = [m for models in self.fold_models.values() for m in models]
        try:   # one directory: an ensemble's members and the fold models are stored once
            save_model(models, path / "models", allow_pickle=allow_pickle, parts=parts)
        except UnsafeModelError as exc:
            stored = [n for n in models if _saves_safely(models[n])]
            save_model({n: models[n] for n in stored}, path / "models", parts=parts)
            warnings.warn(f"The report's models of {sorted(set(models) - set(stored))} are not "
                          f"saved: {exc} Scores and OOF predictions are.", DataWarning,
                          stacklevel=2)
        from foldstack._version import __version__
        meta = {
            "format": _SAVE_FORMAT, "foldstack_version": __version__, "task": self.task,
            "metrics": list(self.metrics), "greater_is_better": dict(self.greater_is_better),
            "classes": None if self.classes is None else [plain(c) for c in self.classes],
            "n_folds": len(self.splits), "data_fingerprint": self.data_fingerprint,
            "cv": splitter_data(self.cv), "scoring": _scoring_data(self.scoring),
            "candidates": {n: {"kind": r.kind, "status": r.status, "error": r.error,
                               "note": r.note, "has_oof": r.oof is not None,
                               "has_models": n in stored}
                           for n, r in self.results.items()},
        }
        (path / "meta.json").write_text(json.dumps(meta, indent=2))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, allow_pickle: bool = False) -> CVReport:
        """Read a report written by :meth:`save`; nothing in it can run code when loaded.

        A report saved with ``allow_pickle=True`` needs ``allow_pickle=True`` here too.
        ``cv`` is rebuilt when it was a splitter of :data:`SPLITTERS` (only those, by exact
        name); otherwise, and for folds given as index pairs, it is the loaded ``splits``.
        ``scoring`` is rebuilt from the built-in metrics, or None when the report had a
        scorer callable.
        Raises :class:`~foldstack.exceptions.DataError` for a directory that is not a saved
        report, is damaged, or was written by an older foldstack (whose models were pickles).
        """
        from foldstack.persist import load_model

        path = Path(path)
        if not (path / "meta.json").is_file():
            raise DataError(f"'{path}' does not hold a saved CVReport (no meta.json).")
        try:
            meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise DataError(f"'{path / 'meta.json'}' is damaged ({exc}).") from None
        if not isinstance(meta, dict) or meta.get("format") != _SAVE_FORMAT:
            raise DataError(
                f"'{path}' was written in report format "
                f"{meta.get('format') if isinstance(meta, dict) else None!r} (this foldstack "
                f"reads format {_SAVE_FORMAT}; older reports kept their models as pickles, "
                "which foldstack no longer loads). Rerun `foldstack cv` to write it again.")
        try:
            _check_meta(meta)
            y = pd.read_parquet(path / "target.parquet")["y"].to_numpy()
            if y.ndim != 1 or len(y) == 0 or (meta["task"] == "regression"
                                              and not np.issubdtype(y.dtype, np.number)):
                raise ValueError("target.parquet does not hold one target per row")
            classes = None if meta["classes"] is None else np.unique(y)
            oof = pd.read_parquet(path / "oof.parquet")
            scores = pd.read_csv(path / "scores.csv")
            times = pd.read_csv(path / "times.csv")
            with np.load(path / "splits.npz", allow_pickle=False) as z:
                splits = tuple((z[f"train_{i}"], z[f"val_{i}"])
                               for i in range(meta["n_folds"]))
            for idx in (i for pair in splits for i in pair):
                if (idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer)
                        or (len(idx) and (idx.min() < 0 or idx.max() >= len(y)))):
                    raise ValueError("splits.npz holds fold indices outside the rows")
            for table, name in ((scores, "scores.csv"), (times, "times.csv")):
                numeric = ["value"] if table is scores else ["fit_time", "predict_time"]
                if "candidate" not in table or not all(
                        c in table and pd.api.types.is_numeric_dtype(table[c])
                        for c in ["fold", *numeric]):
                    raise ValueError(f"{name} does not have numeric fold and value columns")
            if not (set(scores["metric"]) <= set(meta["metrics"])
                    and set(scores["subset"]) <= {"train", "test"}):
                raise ValueError("scores.csv names metrics or subsets meta.json does not")
            if len(oof) != len(y):
                raise ValueError("oof.parquet and target.parquet differ in length")
            models = load_model(path / "models", allow_pickle=allow_pickle)
            results = {}
            for n, info in meta["candidates"].items():
                p = None
                if info["has_oof"]:
                    p = (oof[n].to_numpy() if classes is None else
                         oof[[f"{n}__{c}" for c in meta["classes"]]].to_numpy())
                s = scores[scores["candidate"] == n].drop(columns="candidate")
                t = times[times["candidate"] == n].drop(columns="candidate")
                estimator, fold_models = models.get(n, (None, None))
                results[n] = CandidateResult(
                    name=n, estimator=estimator, kind=info["kind"], status=info["status"],
                    scores=s.reset_index(drop=True), times=t.reset_index(drop=True), oof=p,
                    fold_models=None if fold_models is None else tuple(fold_models),
                    error=info["error"], note=str(info.get("note") or ""))
            cv = meta.get("cv")
            return cls(task=meta["task"], splits=splits, metrics=tuple(meta["metrics"]),
                       greater_is_better=meta["greater_is_better"], results=results, y=y,
                       classes=classes, data_fingerprint=meta["data_fingerprint"],
                       cv=splits if cv is None else splitter_from_data(cv, len(splits)),
                       scoring=_loaded_scoring(meta))
        except FoldstackError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
                RecursionError) as exc:
            raise DataError(f"The saved report in '{path}' is damaged "
                            f"({type(exc).__name__}: {exc}); rerun `foldstack cv`.") from None

    # -- display -------------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """The leaderboard's main columns: primary metric mean +- std, train score, time."""
        m = self.primary
        board = self.leaderboard()
        return board[[f"mean_test_{m}", f"std_test_{m}", f"mean_train_{m}",
                      "mean_fit_time", f"rank_test_{m}", "kind", "status"]]

    def _repr_html_(self) -> str:
        head = (f"<p><b>CVReport</b>: {self.task}, {len(self.splits)} folds, "
                f"{len(self.y)} rows, primary metric <code>{self.primary}</code></p>")
        return head + self.summary().to_html(float_format=lambda v: f"{v:.4f}")

    def __repr__(self) -> str:
        return (f"CVReport(task={self.task!r}, folds={len(self.splits)}, rows={len(self.y)}, "
                f"candidates={list(self.names)})")

    # -- pickling and foldstack.persist: cv and scoring as data where they are data --------
    def __getstate__(self) -> dict[str, Any]:
        # the metric functions and splitter classes are no data foldstack.persist loads
        # (nor should a file name them): keep what rebuilds them exactly, when it does
        # (as CVReport.save does: a splitter outside the list becomes the folds themselves,
        # a scorer callable makes scoring None), so that every report can be saved
        state = dict(self.__dict__)
        if self.cv is not None:
            cv = splitter_data(self.cv)
            state["cv"], state["_cv_data"] = None, "splits" if cv is None else cv
        scoring = _scoring_data(self.scoring)
        state["scoring"] = None
        if scoring is not None and all(m["builtin"] for m in scoring):
            state["_scoring_data"] = scoring
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        cv, scoring = state.pop("_cv_data", None), state.pop("_scoring_data", None)
        if cv == "splits":
            state["cv"] = state["splits"]
        elif cv is not None:
            state["cv"] = splitter_from_data(cv, len(state["splits"]))
        if scoring is not None:
            state["scoring"] = _scoring_from_data(scoring, state["metrics"],
                                                  state["greater_is_better"], state["task"])
        self.__dict__.update(state)  # frozen: no __setattr__


def _check_meta(meta: Any) -> None:
    """The types and ranges :meth:`CVReport.load` relies on (the file may be crafted)."""
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ValueError(f"meta.json: {what}")

    need(isinstance(meta, dict), "not a table")
    need(meta.get("task") in ("binary", "multiclass", "regression"), "unknown task")
    metrics, better = meta.get("metrics"), meta.get("greater_is_better")
    need(isinstance(metrics, list) and bool(metrics)
         and all(isinstance(m, str) for m in metrics), "metrics must be a list of names")
    need(isinstance(better, dict) and all(isinstance(better.get(m), bool) for m in metrics),
         "greater_is_better must say true or false for every metric")
    need(meta.get("classes") is None or (isinstance(meta["classes"], list)
                                         and meta["task"] != "regression"), "bad classes")
    need(type(meta.get("n_folds")) is int and meta["n_folds"] >= 1, "bad n_folds")
    cands = meta.get("candidates")
    need(isinstance(cands, dict) and bool(cands), "no candidates")
    for name, info in cands.items():
        need(isinstance(info, dict) and info.get("kind") in ("model", "ensemble")
             and info.get("status") in ("ok", "failed", "timeout")
             and (info.get("error") is None or isinstance(info["error"], str))
             and (info.get("note") is None or isinstance(info["note"], str))
             and isinstance(info.get("has_oof"), bool), f"bad record of candidate {name!r}")
    need(meta.get("data_fingerprint") is None or isinstance(meta["data_fingerprint"], str),
         "bad data_fingerprint")
    # cv and scoring are absent from reports of older foldstack versions
    need(meta.get("cv") is None or isinstance(meta["cv"], dict), "bad cv")
    scoring = meta.get("scoring")
    need(scoring is None or (isinstance(scoring, list) and all(
        isinstance(m, dict) and isinstance(m.get("name"), str)
        and (m.get("builtin") is None or isinstance(m["builtin"], str)) for m in scoring)),
        "bad scoring")


def _saves_safely(obj: Any) -> bool:
    """Can :func:`foldstack.persist.save_model` hold ``obj`` without a pickle?"""
    from foldstack.persist import save_model

    with tempfile.TemporaryDirectory() as tmp:
        try:
            save_model(obj, Path(tmp) / "m")
        except UnsafeModelError:
            return False
    return True


# -- cv and scoring as data -------------------------------------------------------------------

#: The scikit-learn splitters a saved report (or a model saved by foldstack.persist) keeps as
#: class name and parameters, and the only classes such a file can have rebuilt.
SPLITTERS: dict[str, type] = {cls.__name__: cls for cls in (
    KFold, StratifiedKFold, GroupKFold, StratifiedGroupKFold, RepeatedKFold,
    RepeatedStratifiedKFold, ShuffleSplit, StratifiedShuffleSplit, TimeSeriesSplit)}


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def _is_size(v: Any) -> bool:
    return v is None or _is_int(v) or (isinstance(v, float) and math.isfinite(v))


# every parameter of those splitters and the values it may take (ints, bools, sizes: data)
_SPLITTER_PARAMS: dict[str, Callable[[Any], bool]] = {
    "n_splits": _is_int, "n_repeats": _is_int, "gap": _is_int,
    "shuffle": lambda v: isinstance(v, bool),
    "random_state": lambda v: v is None or _is_int(v),
    "max_train_size": lambda v: v is None or _is_int(v),
    "test_size": _is_size, "train_size": _is_size,
}


def _splitter_param_names(cls: type) -> list[str]:
    return list(inspect.signature(cls).parameters)


def _splitter_params(cv: Any) -> dict[str, Any]:
    # the repeated splitters keep n_splits in cvargs (as scikit-learn's repr reads it)
    return {name: getattr(cv, name, getattr(cv, "cvargs", {}).get(name))
            for name in _splitter_param_names(type(cv))}


def splitter_data(cv: Any) -> dict[str, Any] | None:
    """``{"class": name, "params": {...}}`` for a splitter of :data:`SPLITTERS` that this
    rebuilds exactly; None for anything else (another splitter, index pairs, None).

    Examples
    --------
    >>> from sklearn.model_selection import KFold
    >>> splitter_data(KFold(3))
    {'class': 'KFold', 'params': {'n_splits': 3, 'shuffle': False, 'random_state': None}}
    """
    cls = type(cv)
    if SPLITTERS.get(cls.__name__) is not cls:  # the exact class: a subclass may differ
        return None
    given, params = _splitter_params(cv), {}
    for name, value in given.items():
        check = _SPLITTER_PARAMS.get(name)
        if check is None or not check(value):
            return None  # e.g. a RandomState instance: not data
        params[name] = (int(value) if _is_int(value) else
                        float(value) if isinstance(value, float) else value)
    if _splitter_params(cls(**params)) != given:
        return None
    return {"class": cls.__name__, "params": params}


def splitter_from_data(data: Any, n_folds: int | None = None) -> Any:
    """The splitter :func:`splitter_data` described; ``ValueError`` for anything else (the
    data may come from a crafted file) or when it does not make ``n_folds`` folds."""
    if not (isinstance(data, dict) and set(data) == {"class", "params"}
            and isinstance(data["class"], str) and data["class"] in SPLITTERS
            and isinstance(data["params"], dict)):
        raise ValueError(f"cv is not one of the splitters {sorted(SPLITTERS)}")
    cls = SPLITTERS[data["class"]]
    allowed = _splitter_param_names(cls)
    for name, value in data["params"].items():
        if name not in allowed or name not in _SPLITTER_PARAMS:
            raise ValueError(f"{cls.__name__} has no parameter {name!r}")
        if not _SPLITTER_PARAMS[name](value):
            raise ValueError(f"{cls.__name__}({name}={value!r}) is not a valid value")
    cv = cls(**data["params"])
    if n_folds is not None and cv.get_n_splits() != n_folds:
        raise ValueError(f"cv {cv!r} makes {cv.get_n_splits()} folds, not {n_folds}")
    return cv


def builtin_name(metric: Metric) -> str | None:
    """The key of :data:`METRICS` that ``metric`` is (perhaps under another name), or None
    for a scorer callable or another function."""
    for key, m in METRICS.items():
        if dataclasses.replace(m, name=metric.name) == metric:
            return key
    return None


def _scoring_data(scoring: tuple | None) -> list[dict[str, Any]] | None:
    if scoring is None:
        return None
    return [{"name": m.name, "builtin": builtin_name(m)} for m in scoring]


def _scoring_from_data(data: list, metrics: Any, better: Mapping[str, bool], task: str
                       ) -> tuple[Metric, ...] | None:
    """The metrics :func:`_scoring_data` described, None when one was a scorer callable;
    ``ValueError`` when they contradict the report's metrics."""
    if [m["name"] for m in data] != list(metrics):
        raise ValueError("scoring does not name the report's metrics")
    out = []
    for m in data:
        key = m["builtin"]
        if key is None:
            return None  # a scorer callable: code, never saved
        builtin = METRICS.get(key) if isinstance(key, str) else None
        if (builtin is None or task not in builtin.tasks
                or builtin.greater_is_better is not better[m["name"]]):
            raise ValueError(f"scoring: {key!r} is not a built-in metric of this report")
        out.append(dataclasses.replace(builtin, name=m["name"]))
    return tuple(out)


def _loaded_scoring(meta: dict) -> tuple[Metric, ...] | None:
    if "scoring" in meta:
        if meta["scoring"] is None:
            return None
        return _scoring_from_data(meta["scoring"], meta["metrics"], meta["greater_is_better"],
                                  meta["task"])
    # a report of an older foldstack: its metrics by name, when they all are built-in ones
    metrics = [METRICS.get(n) for n in meta["metrics"]]
    if all(m is not None and meta["task"] in m.tasks
           and m.greater_is_better is meta["greater_is_better"][m.name] for m in metrics):
        return tuple(metrics)
    return None
