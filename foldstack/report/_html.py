"""One self-contained HTML file: inline CSS, PNG images embedded, every data string escaped."""

from __future__ import annotations

import base64
import html
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from foldstack.report._figures import report_figures, report_tables
from foldstack.report._summary import data_summary

logger = logging.getLogger(__name__)

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1f2328;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #d0d7de;
padding-bottom:.2rem;margin-top:2rem}.muted{color:#656d76;font-size:.9rem}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0;width:auto}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:right;vertical-align:top}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}
td.text{text-align:left;min-width:16rem;max-width:36rem}
.grid{display:flex;flex-wrap:wrap;gap:1rem}.grid figure{margin:0;flex:1 1 460px}
figure img{max-width:100%;border:1px solid #eaeef2}figcaption{font-size:.85rem;color:#656d76}
.ok{color:#1a7f37}.failed,.timeout{color:#cf222e}.tag{font-size:.75rem;padding:0 .3rem;
border-radius:.3rem;background:#ddf4ff}
@media print{body{margin:0;max-width:none}figure{break-inside:avoid}h2{break-after:avoid}}
"""


def e(value: Any) -> str:
    """HTML-escape anything (quotes included)."""
    return html.escape(str(value), quote=True)


def _img(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{e(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{e(caption)}</figcaption></figure>")


def _table(df: pd.DataFrame, *, index: bool = True, digits: int = 4,
           text_cols: tuple = ()) -> str:
    """A DataFrame as an escaped HTML table (numbers rounded)."""
    rows = ["<table><thead><tr>"]
    if index:
        rows.append(f"<th>{e(df.index.name or '')}</th>")
    rows += [f"<th>{e(c)}</th>" for c in df.columns]
    rows.append("</tr></thead><tbody>")
    for i, idx in enumerate(df.index):  # cell by cell: a row Series would upcast ints
        rows.append("<tr>")
        if index:
            rows.append(f"<td>{e(idx)}</td>")
        for j, col in enumerate(df.columns):
            v = df.iat[i, j]
            v = v.item() if hasattr(v, "item") and not isinstance(v, (list, tuple)) else v
            cls = ' class="text"' if col in text_cols else ""
            if isinstance(v, (list, tuple)):
                text = "; ".join(map(str, v))
            elif isinstance(v, float):
                text = "" if pd.isna(v) else f"{v:.{digits}g}" if abs(v) >= 1e4 else \
                    f"{v:.{digits}f}"
            else:
                text = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
            if col == "status":
                cls = f' class="{e(text)}"'
            rows.append(f"<td{cls}>{e(text)}</td>")
        rows.append("</tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


def _section(title: str, body: str) -> str:
    return f"<section><h2>{e(title)}</h2>{body}</section>" if body else ""


def _summary_html(summary: Mapping | None) -> str:
    """The data section; every value is escaped, since data_summary.json may be edited."""
    if not summary or not isinstance(summary, Mapping):
        return ""

    def get(mapping: Any, key: str, default: Any) -> Any:  # a hand-edited file: any shape
        value = mapping.get(key, default) if isinstance(mapping, Mapping) else default
        return value if isinstance(value, type(default)) else default

    kinds = ", ".join(f"{e(v)} {e(k)}" for k, v in get(summary, "columns_by_kind", {}).items())
    parts = [f"<p>{e(summary.get('rows', '?'))} rows, {e(summary.get('columns', '?'))} feature "
             f"columns ({kinds}); {e(summary.get('missing_cells', '?'))} missing cells.</p>"]
    by_kind: dict[str, list[str]] = {}
    for col, kind in get(summary, "column_kinds", {}).items():
        by_kind.setdefault(str(kind), []).append(col)
    parts += [f"<p class='muted'>{e(kind)}: {', '.join(e(c) for c in cols)}</p>"
              for kind, cols in by_kind.items()]
    missing = get(summary, "missing_by_column", {})
    if missing:
        miss = pd.DataFrame({"missing": pd.Series(missing, dtype=object)})
        miss.index.name = "column"
        parts.append(_table(miss))
    target = get(summary, "target", {})
    counts = get(target, "counts", {})
    if target.get("kind") == "classes" and counts:
        t = pd.DataFrame({"rows": pd.Series(counts, dtype=object)})
        numeric = pd.to_numeric(t["rows"], errors="coerce")
        t["share"] = numeric / numeric.sum()
        t.index.name = "class"
        parts.append("<p>Target distribution:</p>" + _table(t))
    elif target:
        t = pd.DataFrame({"value": pd.Series({k: v for k, v in target.items() if k != "kind"},
                                             dtype=object)})
        t.index.name = "target"
        parts.append(_table(t))
    return "".join(parts)


def render_html(report: Any, *, title: str = "foldstack report",
                summary: Mapping | None = None, diagnosis: pd.DataFrame | None = None,
                figures: Mapping[str, bytes] | None = None, extra_tables:
                Mapping[str, pd.DataFrame] | None = None, run_info: Mapping | None = None,
                chosen: str | None = None) -> str:
    """The report as an HTML string (see :func:`write_html`)."""
    m = report.primary
    board = report.leaderboard()
    cols = [f"mean_test_{m}", f"std_test_{m}", f"mean_train_{m}", f"gap_{m}", "mean_fit_time",
            "p_vs_best", "kind", "status"]
    lead = board[[c for c in cols if c in board.columns]].copy()
    if diagnosis is not None and "verdict" in diagnosis.columns:
        lead["verdict"] = diagnosis["verdict"].reindex(lead.index)
    head = (f"<h1>{e(title)}</h1><p class='muted'>{e(report.task)} task, "
            f"{len(report.splits)} shared folds, {len(report.y)} rows, primary metric "
            f"<b>{e(m)}</b> ({'higher' if report.greater_is_better[m] else 'lower'} is "
            "better). Ensemble scores are cross-fitted on the out-of-fold predictions "
            "(honest).</p>")
    if chosen:
        head += f"<p>Chosen final model: <b>{e(chosen)}</b></p>"
    body = [head, _section("Data", _summary_html(summary)),
            _section("Leaderboard", _table(lead.rename_axis("candidate")))]
    figs = dict(figures or {})
    if diagnosis is not None:
        shown = [c for c in ("verdict", "train", "validation", "gap", "baseline", "evidence",
                             "remedies", "epoch_findings") if c in diagnosis.columns]
        body.append(_section("Diagnosis", _table(
            diagnosis[shown], text_cols=("evidence", "remedies", "epoch_findings"))))
    for name, df in (extra_tables or {}).items():
        body.append(_section(name, _table(df)))
    if figs:
        body.append(_section("Plots", "<div class='grid'>" + "".join(
            _img(png, caption) for caption, png in figs.items()) + "</div>"))
    if report.failures:
        fails = "".join(f"<h3>{e(n)}</h3><pre>{e(err)}</pre>"
                        for n, err in report.failures.items())
        body.append(_section("Failures", fails))
    if run_info:
        rows = pd.DataFrame({"value": {k: str(v) for k, v in _flatten(run_info).items()}})
        rows.index.name = "key"
        body.append(_section("Run", _table(rows, text_cols=("value",))))
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{e(title)}</title><style>{_CSS}</style></head><body>"
            + "".join(body) + "</body></html>")


def _flatten(d: Mapping, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def write_html(report: Any, path: str | os.PathLike, *, X: Any = None, y: Any = None,
               summary: Mapping | None = None, title: str = "foldstack report",
               diagnosis: pd.DataFrame | None = None, ensembles: Mapping | None = None,
               learning_curves: Mapping | None = None, run_info: Mapping | None = None,
               chosen: str | None = None, plots: bool = True) -> Path:
    """Write a self-contained HTML report of a CVReport (the same one ``foldstack cv`` writes).

    Sections: data summary (rows, columns by kind, missing values, target distribution), the
    leaderboard (candidates and ensembles: primary metric mean and std, train score, gap, fit
    time, p-value against the best, verdict), the diagnosis with remedies, ensemble weights,
    plots (leaderboard with error bars, train vs validation, OOF correlation heatmap,
    confusion matrix / ROC / PR or residuals for the chosen model, epoch curves of networks,
    learning curves when given), failures and run metadata.  Every string that comes from
    the data or the user is HTML-escaped; images are embedded as PNG, so the file reads
    offline and prints.

    Parameters
    ----------
    report : CVReport
    path : str or path-like
    X, y : optional
        The data, for the data summary (or pass ``summary``).
    summary : dict, default=None
        A precomputed :func:`~foldstack.report.data_summary`.
    title : str
    diagnosis : DataFrame, default=None
        ``fs.diagnostics.diagnose(report)``; computed when None.
    ensembles : dict of str -> fitted ensemble, default=None
        Their weights are tabulated.
    learning_curves : dict of str -> LearningCurve, default=None
        From :func:`foldstack.diagnostics.learning_curve`.
    run_info : dict, default=None
        Metadata shown at the end (options, versions, timings).
    chosen : str, default=None
        Name of the final model, highlighted; its plots are drawn.
    plots : bool, default=True

    Returns
    -------
    Path

    Examples
    --------
    >>> fs.report.write_html(report, "report.html", X=X, y=y)   # doctest: +SKIP
    """
    if diagnosis is None:
        from foldstack.diagnostics import diagnose
        diagnosis = diagnose(report)
    if summary is None and X is not None and y is not None:
        summary = data_summary(X, y)
    figures = (report_figures(report, chosen=chosen, learning_curves=learning_curves)
               if plots else {})
    html_text = render_html(report, title=title, summary=summary, diagnosis=diagnosis,
                            figures=figures, extra_tables=report_tables(report, ensembles),
                            run_info=run_info, chosen=chosen)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html_text, encoding="utf-8")
    return path
