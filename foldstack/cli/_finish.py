"""After cross-validation: ensembles, the final model, diagnosis and every output file."""

from __future__ import annotations

import copy
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldstack.cli._outputs import (
    RunFiles,
    atomic_path,
    check_inside,
    read_json,
    read_run,
    write_csv,
    write_json,
)
from foldstack.utils._parallel import defer_interrupts

logger = logging.getLogger("foldstack.cli")


def compose_run(report: Any, kinds: list[str], deadline: float | None = None) -> Any:
    """The ensembles and the choice, made by AutoEnsemble's :func:`foldstack._auto.compose`;
    no ensemble starts after ``deadline`` (the end of ``--time-limit``).

    The ensembles keep their default seed (0), not ``--seed``, as ``foldstack cv`` always
    built them.
    """
    from foldstack._auto import compose

    def skip(kind: str, exc: Exception) -> None:  # one ensemble failing must not cost the run
        logger.warning("ensemble %r failed: %s", kind, exc)

    return compose(report, kinds, on_error=skip, deadline=deadline)


def final_model(composition: Any) -> Any:
    """The model that predicts new data: an ensemble, or a candidate's K fold models."""
    model = composition.best_estimator
    if composition.best_name in composition.ensembles:
        model = copy.copy(model)
        # the CV record is for reporting, not prediction: keep the saved model small
        for attr in ("cv_report_", "oof_", "cv_oof_"):
            model.__dict__.pop(attr, None)
        model = without_zero_weights(model)
    return model


def without_zero_weights(model: Any) -> Any:
    """``model`` without the averaging members whose weight is zero (Caruana selection
    leaves several): they change no prediction, yet would be saved and loaded, and each
    predicts on every call.  Other models are returned as they are."""
    weights = getattr(model, "weights_", None)
    members = getattr(model, "estimators_", None)
    if weights is None or members is None or len(weights) != len(members):
        return model
    weights = np.asarray(weights)
    keep = weights != 0
    if keep.all() or not keep.any():
        return model
    from sklearn.utils import Bunch

    names = list(model.named_estimators_)
    model = copy.copy(model)
    model.estimators_ = [m for m, k in zip(members, keep) if k]
    model.named_estimators_ = Bunch(**{n: m for n, m, k in zip(names, members, keep) if k})
    model.weights_ = weights[keep]
    dropped = [n for n, k in zip(names, keep) if not k]
    logger.info("final model: %d member(s) of weight zero left out (%s)", len(dropped),
                ", ".join(dropped))
    return model


def _oof_frame(report: Any) -> pd.DataFrame:
    """The OOF table of ``oof.parquet``: row number, target, then ``report.oof_frame()``."""
    head = pd.DataFrame({"row": np.arange(len(report.y)), "target": report.y})
    return pd.concat([head, report.oof_frame()], axis=1)


def print_leaderboard(report: Any, diagnosis: pd.DataFrame | None, out: Path, chosen: str
                      ) -> None:
    from rich.console import Console
    from rich.table import Table

    m = report.primary
    board = report.leaderboard()
    table = Table(title=f"{report.task}: {m} ({'higher' if report.greater_is_better[m] else 'lower'}"
                        f" is better), {len(report.splits)} folds", title_justify="left")
    for col in ("candidate", "kind", f"{m}", "train", "fit s", "verdict", "status"):
        table.add_column(col, justify="left" if col in ("candidate", "kind", "verdict",
                                                        "status") else "right",
                         no_wrap=col != "verdict")
    for name, row in board.iterrows():
        score = (f"{row[f'mean_test_{m}']:.4f} ± {row[f'std_test_{m}']:.4f}"
                 if row["status"] == "ok" else "-")
        train = f"{row[f'mean_train_{m}']:.4f}" if pd.notna(row[f"mean_train_{m}"]) else "-"
        fit = f"{row['mean_fit_time']:.1f}" if pd.notna(row["mean_fit_time"]) else "-"
        verdict = ""
        if diagnosis is not None and name in diagnosis.index:
            verdict = str(diagnosis.loc[name, "verdict"])
        label = f"{name} *" if name == chosen else str(name)
        table.add_row(label, row["kind"], score, train, fit, verdict, row["status"])
    console = Console()
    console.print(table)
    console.print(f"* final model: {chosen}.  Report: {out / 'report.html'}", highlight=False)


def finish_run(report: Any, X: Any, y: Any, opts: Any, out: Path, run_info: dict,
               start: float, save_model: Any, schema: dict, *, quiet: bool = False,
               files: RunFiles | None = None) -> int:
    """Ensembles, the final model, the diagnosis and every output file of ``foldstack cv``.

    Every file written is recorded in ``files`` (the run's :class:`RunFiles`) before it is
    written, so ``--force`` can later remove exactly these.
    """
    from foldstack.diagnostics import diagnose
    from foldstack.report import data_summary

    files = RunFiles(out) if files is None else files
    phases = dict(run_info.get("phases") or {})
    clock = time.time()
    composition = compose_run(report, opts.ensemble, deadline=None if opts.time_limit is None
                              else start + opts.time_limit)
    report, ensembles = composition.report, composition.ensembles
    chosen = composition.best_name
    diagnosis = diagnose(report)
    model = final_model(composition)
    phases["ensembles"], clock = round(time.time() - clock, 2), time.time()
    install_model(save_model, model, out / "model", files, allow_pickle=bool(opts.allow_pickle),
                  metadata={"schema": schema, "chosen": chosen, "task": report.task},
                  parts=[m for models in report.fold_models.values() for m in models])
    with files.watch(out / "report"):
        report.save(out / "report")
    outputs = {name: out / name for name in ("leaderboard.csv", "oof.parquet",
                                              "data_summary.json", "diagnosis.json",
                                              "run.json", "report.html")}
    files.record(*outputs.values())
    write_csv(report.leaderboard(), outputs["leaderboard.csv"], index=True, inside=out)
    with atomic_path(outputs["oof.parquet"], inside=out) as tmp:
        _oof_frame(report).to_parquet(tmp, index=False)
    summary = data_summary(X, y)
    write_json(summary, outputs["data_summary.json"], inside=out)
    with atomic_path(outputs["diagnosis.json"], inside=out) as tmp:
        diagnosis.to_json(tmp, orient="index", default_handler=str)
    status = {n: r.status for n, r in report.results.items()}
    # what a time limit cut short: configurations not run to the end, folds stopped early
    notes = {n: r.note or (r.error or "").splitlines()[0] for n, r in report.results.items()
             if r.note or r.status == "timeout"}
    notes.update({kind: "not built: the time limit was spent" for kind in composition.skipped})
    phases["files"] = round(time.time() - clock, 2)   # model, report and tables
    run_info = {**run_info, "status": "finished", "chosen": chosen, "notes": notes,
                "phases": phases,
                "candidates": status, "seconds": round(time.time() - start, 2),
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "ensembles": {k: _describe(e) for k, e in ensembles.items()}}
    write_json(run_info, outputs["run.json"], inside=out)
    render_report(out, report=report, diagnosis=diagnosis, ensembles=ensembles)
    store_once(out)
    if not quiet:
        print_leaderboard(report, diagnosis, out, chosen)
    return 0


def store_once(out: Path) -> None:
    """Hard-link the fold models' files that the cache, the report and the final model hold
    alike, so that each takes its space once (each directory stays whole)."""
    from foldstack.persist import link_duplicates

    entries = sorted((out / "cache" / "tasks").glob("*/*"))
    freed = link_duplicates([out / "model", out / "report" / "models", *entries])
    if freed:
        logger.info("stored each fold model once: %.1f MB of copies are hard links",
                    freed / 2**20)


def install_model(save_model: Any, model: Any, path: Path, files: RunFiles,
                  **kwargs: Any) -> None:
    """``save_model`` into ``path`` without deleting the files there that foldstack did not write.

    ``save_model`` replaces a whole directory, so the model is saved beside it, then the old
    model's recorded files are removed and the new ones moved in, manifest last: a model
    directory stopped half-way has no manifest and is refused as a model, never misread.
    Ctrl-C is held back until the move is done.
    """
    staging = path.with_name(f".{path.name}-new")
    check_inside(path, files.root)     # never through a link: checked by --out, and again here
    check_inside(staging, files.root)
    if staging.exists():  # left by a run killed while installing (foldstack's own name)
        shutil.rmtree(staging)
    try:
        save_model(model, staging, **kwargs)
        with defer_interrupts():
            created = not path.is_dir()
            path.mkdir(parents=True, exist_ok=True)
            prefix = files.relative(path) + "/"
            old = sorted((f for f in files.files if f.startswith(prefix)),
                         key=lambda f: f != prefix + "manifest.json")  # manifest first
            for rel in old:
                target = files.inside(rel)
                if target is not None and target.is_file():
                    target.unlink()
            files.files.difference_update(old)
            new = sorted(staging.iterdir(), key=lambda p: p.name == "manifest.json")
            files.record(*(path / p.name for p in new))
            if created:
                files.dirs.add(files.relative(path))
            for p in new:
                os.replace(p, path / p.name)
            files.save()
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _describe(ens: Any) -> dict:
    info: dict[str, Any] = {"class": type(ens).__name__,
                            "members": list(getattr(ens, "named_estimators_", {}) or []),
                            "cv_score": getattr(ens, "cv_score_", None),
                            "oof_score": getattr(ens, "oof_score_", None)}
    if getattr(ens, "weights_", None) is not None:
        info["weights"] = [float(w) for w in ens.weights_]
    return info


def render_report(out: Path, *, report: Any = None, diagnosis: Any = None,
                  ensembles: dict | None = None) -> Path:
    """Write ``out/report.html`` from the files of a run directory (or the objects given)."""
    from foldstack.report import write_html
    from foldstack.selection import CVReport

    report = CVReport.load(out / "report") if report is None else report
    info = read_run(out) or {}
    summary = None
    if (out / "data_summary.json").exists():
        try:
            summary = read_json(out / "data_summary.json")
        except (OSError, ValueError) as exc:  # optional in the report: leave it out, say why
            logger.warning("ignoring the damaged %s (%s); the report has no data summary",
                           out / "data_summary.json", exc)
        if not isinstance(summary, dict):
            summary = None
    meta = {k: info.get(k) for k in ("command", "data", "options", "versions", "seed",
                                     "seconds", "started", "finished", "chosen") if k in info}
    data = info.get("data")
    data_name = Path(str(data.get("path", "") if isinstance(data, dict) else "")).name or "run"
    chosen = info.get("chosen") if isinstance(info.get("chosen"), str) else None
    path = out / "report.html"
    with atomic_path(path, inside=out) as tmp:
        write_html(report, tmp, summary=summary, diagnosis=diagnosis, ensembles=ensembles,
                   run_info=meta, chosen=chosen,
                   title=f"foldstack report: {data_name}")
    return path
