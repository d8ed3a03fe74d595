"""``foldstack cv`` and ``foldstack report``: the notebook workflow, run from a shell."""

from __future__ import annotations

import argparse
import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldstack._auto import ENSEMBLE_SHARE_COMPLEMENT
from foldstack.cli._config import RunOptions, load_config, merge_options
from foldstack.cli._outputs import (
    RunFiles,
    default_out_dir,
    find_resumable,
    prepare_out_dir,
    read_run,
    write_json,
)
from foldstack.data import infer_task, load_table, split_target
from foldstack.exceptions import (
    CandidateFailedError,
    ColumnNotFoundError,
    DataError,
    InvalidParameterError,
)
from foldstack.utils._parallel import defer_interrupts, interrupt_requested
from foldstack.utils._validation import did_you_mean

logger = logging.getLogger("foldstack.cli")


def _cli_options(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("target", "task", "models", "cv", "repeats", "group_col", "metric", "metrics",
            "ensemble", "tune", "time_limit", "time_budget", "out", "n_jobs", "backend",
            "scheduler", "seed", "drop", "allow_pickle")
    return {"data": args.data, **{k: getattr(args, k) for k in keys}}


def _check_params(est: Any, name: str, params: dict) -> None:
    valid = est.get_params(deep=True)
    for key in params:
        if key not in valid:
            raise InvalidParameterError(
                f"[params.{name}]: {name!r} has no parameter {key!r}."
                f"{did_you_mean(key, valid)} Its parameters include: "
                f"{', '.join(sorted(k for k in valid if '__' not in k)[:25])}.")
    est.set_params(**params)


def _candidates(opts: RunOptions, task: str) -> dict[str, Any]:
    from foldstack.models import default_candidates, portfolio

    if opts.models is None and opts.time_limit is not None:
        # under a limit, the whole ordered portfolio, run as far as the time goes
        cands = portfolio(task, random_state=opts.seed, size="all")
    else:
        cands = default_candidates(task, random_state=opts.seed, names=opts.models)
    for name, params in opts.params.items():
        if name in cands:
            _check_params(cands[name], name, params)
    return cands


def _scoring(opts: RunOptions, task: str) -> list[str] | None:
    from foldstack.selection import DEFAULT_METRICS

    if opts.metric is None and not opts.metrics:
        return None
    first = [opts.metric] if opts.metric else list(DEFAULT_METRICS[task])
    return first + [m for m in opts.metrics if m not in first]


@contextlib.contextmanager
def _backend(opts: RunOptions) -> Iterator[None]:
    if opts.backend != "dask":
        yield
        return
    try:
        from distributed import Client
    except ImportError:
        raise InvalidParameterError("--backend dask needs dask.distributed: "
                                    "pip install 'foldstack[dask]'.") from None
    import joblib

    try:
        client = Client(opts.scheduler, timeout=30)
    except OSError as exc:
        raise InvalidParameterError(f"Cannot reach the dask scheduler at {opts.scheduler}: "
                                    f"{exc}") from None
    with client, joblib.parallel_config(backend="dask"):
        yield


def schema_of(X: pd.DataFrame, target: str, task: str, classes: Any) -> dict:
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])
               and not pd.api.types.is_bool_dtype(X[c])]
    return {"columns": [str(c) for c in X.columns], "numeric": numeric, "target": target,
            "task": task, "classes": None if classes is None else [
                c.item() if isinstance(c, np.generic) else c for c in classes]}


def run_cv(args: argparse.Namespace, where: dict | None = None) -> int:
    """``foldstack cv``; ``where["out"]`` is set to the run directory once it is known."""
    import foldstack as fs
    from foldstack.persist import library_versions, save_model
    from foldstack.selection._cache import fingerprint

    start = time.time()
    config = load_config(args.config) if args.config else {}
    opts = merge_options(config, _cli_options(args))
    df = load_table(opts.data)
    drop = list(opts.drop) + ([opts.group_col] if opts.group_col else [])
    groups = None
    if opts.group_col:
        if opts.group_col not in df.columns:
            raise ColumnNotFoundError(
                f"--group-col {opts.group_col!r} is not in the table."
                f"{did_you_mean(opts.group_col, map(str, df.columns))}")
        groups = df[opts.group_col].to_numpy()
    X, y = split_target(df, opts.target, drop)
    task = infer_task(y, opts.task)
    data_fp = fingerprint(df)
    run_key = fingerprint(data_fp, opts.result_options())

    candidates = _candidates(opts, task)   # checks per-model parameters before any output
    scoring = _scoring(opts, task)
    from foldstack.selection import resolve_scoring
    resolve_scoring(scoring, task)
    out = Path(opts.out) if opts.out else (find_resumable(Path("runs"), run_key)
                                           or default_out_dir())
    state = prepare_out_dir(out, run_key, resume=args.resume, force=args.force)
    if where is not None:
        where["out"] = out
    files = RunFiles(out)
    logger.info("%s run in %s: %d rows, %d columns, task=%s",
                "resuming" if state == "resume" else "new", out, len(X), X.shape[1], task)
    run_info = {"run_key": run_key, "command": "cv", "options": vars(opts).copy(),
                "data": {"path": str(opts.data), "fingerprint": data_fp, "rows": len(df),
                         "columns": df.shape[1]},
                "versions": library_versions(), "seed": opts.seed, "status": "running",
                "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    files.record(out / "run.json")
    write_json(run_info, out / "run.json", inside=out)
    try:
        return _run(fs, opts, args, X, y, task, groups, scoring, candidates, out, files,
                    run_info, start, save_model)
    except KeyboardInterrupt:
        with defer_interrupts():  # say so in run.json; a second Ctrl-C waits for it
            if (read_run(out) or {}).get("status") == "running":
                write_json({**run_info, "status": "interrupted"}, out / "run.json",
                           inside=out)
        raise


def _run(fs: Any, opts: RunOptions, args: argparse.Namespace, X: Any, y: Any, task: str,
         groups: Any, scoring: Any, candidates: dict, out: Path, files: RunFiles,
         run_info: dict, start: float, save_model: Any) -> int:
    budget = opts.time_limit
    verbose = 0 if args.quiet else 1
    tuned: dict[str, Any] = {}
    with files.watch(out / "cache"), _backend(opts):
        if opts.tune:
            from foldstack.cli._tuning import tune_candidates
            candidates, tuned = tune_candidates(
                candidates, opts, X, y, task, groups, scoring, out / "cache",
                deadline=None if budget is None else start + budget, verbose=verbose)
        # the ensembles, the final model and the files get the last tenth of the limit, as
        # in AutoEnsemble*; a spent limit is still a (tiny) positive one (0 is refused)
        remaining = (None if budget is None else
                     max(1e-9, start + ENSEMBLE_SHARE_COMPLEMENT * budget - time.time()))
        cv_start = time.time()
        if candidates:
            report = fs.selection.cross_validate_candidates(
                candidates, X, y, cv=opts.cv, n_repeats=opts.repeats, groups=groups,
                scoring=scoring, task=task, n_jobs=opts.n_jobs, cache_dir=out / "cache",
                time_limit=remaining, random_state=opts.seed, verbose=verbose)
        else:  # every model was tuned: start from an empty report on the same folds
            report = next(iter(tuned.values())).report.subset([])
        run_info["phases"] = {"tune": round(cv_start - start, 2),
                              "cv": round(time.time() - cv_start, 2)}
    if interrupt_requested():
        # a library turned the Ctrl-C into an error (a candidate marked failed): stop here
        raise KeyboardInterrupt
    for name, result in tuned.items():  # tuned records join as they are: no refit
        report = report.add(result.cv_result, name=name)
    if not report.ok_names:
        details = "; ".join(f"{n}: {e.splitlines()[0]}" for n, e in report.failures.items())
        write_json({**run_info, "status": "failed",
                    "candidates": {n: r.status for n, r in report.results.items()}},
                   out / "run.json", inside=out)
        with files.watch(out / "report"):
            report.save(out / "report")
        raise CandidateFailedError(f"No candidate finished (every one failed or ran out of "
                                   f"time): {details}. See {out}/report/ and run.json.")

    from foldstack.cli._finish import finish_run
    return finish_run(report, X, y, opts, out, run_info, start, save_model,
                      schema_of(X, opts.target, task, report.classes), quiet=args.quiet,
                      files=files)


def run_report(args: argparse.Namespace) -> int:
    from foldstack.cli._finish import render_report

    run_dir = Path(args.run_dir)
    if read_run(run_dir) is None and (run_dir / "run.json").is_file():
        raise DataError(f"'{run_dir / 'run.json'}' is damaged: it is not a run record foldstack "
                        "wrote. Give the --out directory of `foldstack cv` (or rerun it).")
    if read_run(run_dir) is None or not (run_dir / "report").exists():
        raise DataError(f"'{run_dir}' is not a finished foldstack run directory (no run.json "
                        "and report/). Give the --out directory of `foldstack cv`.")
    path = render_report(run_dir)
    logger.info("wrote %s", path)
    return 0
