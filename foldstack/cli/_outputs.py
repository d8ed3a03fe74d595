"""Run directories and the files a run writes (safe to open in a spreadsheet)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldstack.exceptions import InvalidParameterError

logger = logging.getLogger("foldstack.cli")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# A cell a spreadsheet reads as a plain number, never as a formula: "-0", "+12", "1e3"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _escape_cell(value: object) -> object:
    if (isinstance(value, str) and value.startswith(_FORMULA_START)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a quote (OWASP CSV).

    Only strings are touched, and text that is a plain number (``-0``, ``+12``) is kept as
    written; other values keep their Python type (an id column ``[12, None]`` stays ints).
    """
    out = df.copy()
    for j in range(out.shape[1]):
        column = out.iloc[:, j]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            out.isetitem(j, pd.Series([_escape_cell(v) for v in column], index=out.index,
                                      dtype=object))
    out.columns = [_escape_cell(c) for c in out.columns]
    if out.index.dtype == object:
        out.index = out.index.map(_escape_cell)
    return out


def write_csv(df: pd.DataFrame, path: Path, index: bool = False, *,
              inside: Path | None = None) -> Path:
    """Write a CSV atomically with spreadsheet formulas escaped (``inside``: see atomic_path)."""
    _atomic_write(path, escape_formulas(df).to_csv(index=index), inside)
    return path


def write_json(obj: Any, path: Path, *, inside: Path | None = None) -> Path:
    _atomic_write(path, json.dumps(obj, indent=2, default=_json_default), inside)
    return path


def read_json(path: Path) -> Any:
    """``path``'s JSON; ValueError (never RecursionError) for a damaged or crafted file."""
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except RecursionError:   # "[[[[..." nested deeper than Python's stack
        raise ValueError("its values are nested too deeply (not a file foldstack "
                         "wrote)") from None


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (np.ndarray, tuple, set)):
        return list(v)
    if isinstance(v, Path):
        return str(v)
    return repr(v)


def _atomic_write(path: Path, text: str, inside: Path | None = None) -> None:
    with atomic_path(path, inside=inside) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _link_target(path: Path) -> str:
    try:
        return f" (to '{os.readlink(path)}')"
    except OSError:
        return ""


def _link_problem(path: Path) -> str:
    """``'<path>' is a symbolic link (to '<target>')``: what a refusal says."""
    return f"'{path}' is a symbolic link{_link_target(path)}"


def check_inside(path: Path, root: Path) -> None:
    """Refuse to write ``path`` unless it stays inside ``root`` without a symbolic link.

    Every part of ``path`` below ``root`` (``path`` itself included) must not be a symbolic
    link, and ``path`` must resolve inside ``root``: a run directory from someone else cannot
    aim a write (or a replacement) at a file outside it.  ``root`` itself may be a link.

    Raises
    ------
    InvalidParameterError
        Naming the link, and saying to remove it.
    """
    path, root = Path(path), Path(root)
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = None
    problem = None
    if parts is None or ".." in parts:
        problem = f"'{path}' is not inside '{root}'"
    else:
        step = root
        for part in parts:
            step = step / part
            if step.is_symlink():
                problem = _link_problem(step)
                break
        else:
            try:
                path.resolve().relative_to(root.resolve())
            except (OSError, RuntimeError, ValueError):
                problem = f"'{path}' resolves outside '{root}'"
    if problem is not None:
        raise InvalidParameterError(
            f"Refusing to write {path}: {problem}, so writing it could change a file outside "
            f"the run directory '{root}'. Remove the link (or use a copy of the run directory "
            "without links), or use another --out.")


@contextlib.contextmanager
def atomic_path(path: Path, *, inside: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``, renamed to ``path`` once the block succeeded.

    A reader never sees half a file, whatever stops the write.  A ``path`` that exists and is
    not a regular file (``/dev/stdout``, a named pipe) is written in place instead: renaming
    onto it would replace the device with a file.  An OSError names ``path``.

    With ``inside`` (a run directory), ``path`` must stay inside it without a symbolic link
    (:func:`check_inside`) and must be a regular file if it exists: nothing is written
    through a link, and nothing in place.
    """
    path = Path(path)
    if inside is not None:
        check_inside(path, inside)
        if path.exists() and not path.is_file():
            raise InvalidParameterError(
                f"Refusing to write {path}: it exists and is not a regular file. Remove it, "
                "or use another --out.")
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            yield path
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
    except OSError as exc:
        if exc.errno is None or (exc.filename is not None
                                 and not Path(exc.filename).name.startswith(".")):
            raise
        # a write() or the temporary file failed: the user knows the path they gave
        raise type(exc)(exc.errno, exc.strerror, str(path)) from exc


def default_out_dir(root: Path = Path("runs")) -> Path:
    """``runs/<timestamp>``, with a suffix when a run started in the same second."""
    base = root / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def find_resumable(root: Path, run_key: str) -> Path | None:
    """The newest run directory under ``root`` made by the same command on the same data.

    A directory whose ``run.json`` is missing or damaged is not a run; a symbolic link, or a
    run that ``--out`` would refuse (:func:`check_run_dir`), is not resumed either: the
    command then starts a new run instead of failing because of another directory.
    """
    if not root.is_dir():
        return None
    for run in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        info = read_run(run)
        if not info or info.get("run_key") != run_key:
            continue
        try:
            if run.is_symlink():
                raise InvalidParameterError(_link_problem(run))
            check_run_dir(run)
        except InvalidParameterError as exc:
            logger.warning("not resuming %s: %s", run, exc)
            continue
        return run
    return None


def read_run(path: Path) -> dict | None:
    """The ``run.json`` of a run directory, or None when it is missing or damaged."""
    run_json = path / "run.json"
    try:
        info = read_json(run_json)
    except (OSError, ValueError) as exc:  # ValueError: not JSON, not UTF-8, nested too deeply
        if run_json.exists():
            logger.debug("ignoring the damaged %s (%s)", run_json, exc)
        return None
    return info if isinstance(info, dict) else None


RUN_FILES = "files.json"


class RunFiles:
    """The files (and directories) foldstack wrote in a run directory: ``<run>/files.json``.

    ``--force`` removes exactly these, so a user's own file in the run directory, even inside
    ``model/`` or ``cache/``, is kept.  Files that other code writes into a directory (the
    task cache, the saved model, the report) are recorded by listing what is new there after
    it ran (:meth:`watch`); a directory counts as foldstack's only if foldstack created it.
    The record is rewritten atomically on every change and holds relative paths only; a
    recorded path that leads out of the run directory (``..``, a symbolic link) is ignored,
    so a run directory from someone else cannot make ``--force`` delete anything outside it.

    Parameters
    ----------
    root : Path
        The run directory.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.files: set[str] = set()
        self.dirs: set[str] = set()
        self.damaged = False   # a files.json that could not be read (nothing is removed)
        self.found = self._read()

    def _read(self) -> bool:
        path = self.root / RUN_FILES
        if not path.is_file():
            return False
        try:
            data = read_json(path)
            files = {f for f in data["files"] if isinstance(f, str)}
            dirs = {d for d in data["dirs"] if isinstance(d, str)}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("ignoring the unreadable record of a run's files %s (%s): none of "
                           "its files will be removed", path, exc)
            self.damaged = True
            return False
        self.files, self.dirs = files, dirs
        return True

    def save(self) -> None:
        write_json({"format": 1, "files": sorted(self.files), "dirs": sorted(self.dirs)},
                   self.root / RUN_FILES, inside=self.root)

    def relative(self, path: Path) -> str:
        """``path`` relative to the run directory, with ``/``."""
        return Path(os.path.relpath(path, self.root)).as_posix()

    def inside(self, rel: str) -> Path | None:
        """``root / rel`` when it stays inside ``root`` (symbolic links followed), else None."""
        if not rel or Path(rel).is_absolute() or ".." in Path(rel).parts or rel == RUN_FILES:
            return None
        path = self.root / rel
        try:
            path.parent.resolve().relative_to(self.root.resolve())
        except (OSError, ValueError):
            return None
        return path

    def record(self, *paths: Path) -> None:
        """Record files foldstack is about to write (or wrote) under the run directory."""
        self.files.update(self.relative(p) for p in paths)
        self.save()

    @contextlib.contextmanager
    def watch(self, *dirs: Path) -> Iterator[None]:
        """Record what appears under ``dirs`` while the block runs, however it ends."""
        before = {d: _listing(d) for d in dirs}
        try:
            yield
        finally:
            from foldstack.utils._parallel import defer_interrupts

            with defer_interrupts():  # a second Ctrl-C must not lose the record
                for d, (old_files, old_dirs) in before.items():
                    files, subdirs = _listing(d)
                    self.files.update(self.relative(p) for p in files - old_files)
                    self.dirs.update(self.relative(p) for p in subdirs - old_dirs)
                self.save()

    def others(self) -> list[str]:
        """Files in the run directory that foldstack did not write."""
        files, _ = _listing(self.root)
        rels = map(self.relative, files)
        return sorted(r for r in rels if r not in self.files and r != RUN_FILES)

    def remove(self) -> list[str]:
        """Delete the recorded files, then the recorded directories that are left empty."""
        removed = []
        for rel in sorted(self.files):
            path = self.inside(rel)
            if path is not None and (path.is_symlink() or path.is_file()):
                path.unlink()
                removed.append(rel)
        for rel in sorted(self.dirs, key=lambda r: -len(Path(r).parts)):
            path = self.inside(rel)
            if path is not None and path.is_dir() and not path.is_symlink():
                with contextlib.suppress(OSError):  # not empty: it holds someone's files
                    path.rmdir()
        self.files, self.dirs = set(), set()
        self.save()
        return removed


def _listing(root: Path) -> tuple[set[Path], set[Path]]:
    """Files and directories under ``root`` (itself included when it is a directory)."""
    files: set[Path] = set()
    dirs: set[Path] = set()
    if not root.is_dir():
        return files, dirs
    dirs.add(root)
    for parent, subdirs, names in os.walk(root):
        dirs.update(Path(parent, d) for d in subdirs)
        files.update(Path(parent, n) for n in names)
    return files, dirs


def summarize(paths: list[str], limit: int = 6) -> str:
    """``cache/ (12 files), model/ (3 files), run.json``: paths grouped by top directory."""
    groups: dict[str, int] = {}
    for p in paths:
        top = p.split("/", 1)[0] + ("/" if "/" in p else "")
        groups[top] = groups.get(top, 0) + 1
    parts = [f"{k} ({n} file{'s' * (n != 1)})" if k.endswith("/") else k
             for k, n in groups.items()]
    return ", ".join(parts[:limit]) + (f" and {len(parts) - limit} more" if len(parts) > limit
                                       else "")


#: The files ``foldstack cv`` writes (or replaces) at the top of a run directory.
OUTPUT_FILES = ("run.json", RUN_FILES, "leaderboard.csv", "oof.parquet", "report.html",
                "data_summary.json", "diagnosis.json")
#: Its directories: foldstack writes, replaces and deletes anywhere inside them (the saved
#: model, its staging directory, the report, the task cache and ``cache/tune.sqlite3``).
OUTPUT_DIRS = ("model", ".model-new", "report", "cache")


def _refuse(out: Path, problem: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"--out '{out}': {problem}. foldstack writes, replaces and deletes files there, so "
        "it could change files outside the run directory. Remove the link (or whatever is "
        "there), or use another --out.")


def check_run_dir(out: Path) -> None:
    """Refuse a run directory whose outputs a symbolic link would lead elsewhere.

    ``out``'s output files (:data:`OUTPUT_FILES`) must be regular files, its output
    directories (:data:`OUTPUT_DIRS`) directories, and nothing inside those directories may be
    a symbolic link (or a named pipe, a device): a run directory handed over by someone else
    can then not make ``--force``, a resume or a new run write, replace or delete a file
    outside it.  ``out`` itself is checked by the caller.

    Raises
    ------
    InvalidParameterError
        Naming the first offending path.
    """
    root = out.resolve()
    for name in OUTPUT_FILES + OUTPUT_DIRS:
        path = out / name
        if path.is_symlink():
            raise _refuse(out, _link_problem(path))
        if not path.exists():
            continue
        try:
            path.resolve().relative_to(root)
        except (OSError, RuntimeError, ValueError):
            raise _refuse(out, f"'{path}' resolves outside it") from None
        if name in OUTPUT_FILES and not path.is_file():
            raise _refuse(out, f"'{path}' is not a regular file")
        if name in OUTPUT_DIRS and not path.is_dir():
            raise _refuse(out, f"'{path}' is not a directory")
    for name in OUTPUT_DIRS:
        for parent, dirs, names in os.walk(out / name):
            for entry in sorted(dirs + names):
                path = Path(parent, entry)
                if path.is_symlink():
                    raise _refuse(out, _link_problem(path))
                if not (path.is_dir() or path.is_file()):
                    raise _refuse(out, f"'{path}' is not a regular file or directory")


def prepare_out_dir(out: Path, run_key: str, *, resume: bool, force: bool) -> str:
    """Check ``out`` before any work: a new run, the same run resumed, or refuse another's.

    ``out`` may not be a symbolic link, nor hold one where foldstack writes
    (:func:`check_run_dir`).  With ``force``, the files an earlier foldstack run wrote there
    are removed (only those: see :class:`RunFiles`) and the log says what was removed and
    what was kept.

    Returns
    -------
    str
        ``"new"`` or ``"resume"``.
    """
    if out.is_symlink():
        raise _refuse(out, f"it is a symbolic link{_link_target(out)}")
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"--out '{out}' exists and is not a directory. Give a "
                                    "directory (it is created if missing).")
    if not out.exists() or not any(out.iterdir()):
        out.mkdir(parents=True, exist_ok=True)
        return "new"
    check_run_dir(out)
    info = read_run(out)
    files = RunFiles(out)
    if info is None and not files.found:
        if not force:
            raise InvalidParameterError(
                f"--out '{out}' exists and holds other files (no readable foldstack run.json). "
                "Choose another directory, or pass --force to write into it anyway (its files "
                "are kept, except those with the names of foldstack's outputs).")
        logger.info("--force: writing into %s, which holds no foldstack run; its %d files are "
                    "kept", out, len(files.others()))
        return "new"
    if info is not None and info.get("run_key") == run_key:
        return "resume"
    if resume:
        return "resume"
    if not force:
        raise InvalidParameterError(
            f"--out '{out}' holds a different run (other data or options). Pass --resume to "
            "reuse its cache (only new work is done), --force to replace it (only the files "
            "foldstack wrote are removed), or another --out.")
    if not files.found:
        logger.info("--force: %s holds a run %s: nothing is removed; the new run's files "
                    "replace those of the same name", out,
                    f"whose record of its files ({RUN_FILES}) is damaged" if files.damaged
                    else "of an older foldstack that did not record its files")
        return "new"
    from foldstack.utils._parallel import defer_interrupts

    with defer_interrupts():
        removed = files.remove()
    kept = files.others()
    logger.info("--force: replaced the previous run in %s: removed the %d files it wrote (%s)%s",
                out, len(removed), summarize(removed) or "none left",
                f"; kept {len(kept)} other file(s): {', '.join(kept[:8])}"
                f"{' ...' if len(kept) > 8 else ''}" if kept else "")
    return "new"
