"""The ``foldstack`` command line: a thin layer over the public API.

``foldstack cv`` runs what a notebook would run (``load_table``, ``default_candidates``,
``cross_validate_candidates``, ensembles ``from_report``, ``diagnose``, ``write_html``,
``save_model``) and writes the results to a run directory.

Exit codes: 0 success; 1 every candidate failed; 2 bad usage, bad input, a bad or damaged
file, or a problem of the environment (a directory that cannot be written, a full disk, too
little memory); 130 interrupted (Ctrl-C); 3 only for an unexpected error, a bug.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import sys
import warnings
from pathlib import Path
from typing import Any

from foldstack.cli._parser import build_parser
from foldstack.exceptions import CandidateFailedError, FoldstackError, FoldstackWarning

__all__ = ["main"]

logger = logging.getLogger("foldstack.cli")

#: OSError numbers that come from the machine, not from foldstack: exit code 2 and a message
#: naming the path.
ENVIRONMENT_ERRNOS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.EISDIR: "it is a directory",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EIO: "the device reported an input/output error",
}


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; None reads ``sys.argv`` and acts as the program: Ctrl-C is then only
        recorded after the command returned, while the interpreter shuts down.

    Returns
    -------
    int
        0 success, 1 every candidate failed, 2 bad usage, input, file or environment,
        130 interrupted, 3 an unexpected error (a bug).
    """
    from foldstack.utils._parallel import install_interrupt_handler, reset_interrupts

    reset_interrupts()
    previous = install_interrupt_handler()
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before a command started (parsing the arguments)
        install_interrupt_handler(record_only=True)
        sys.stderr.write("interrupted.\n")
        return 130
    finally:
        if argv is None:
            install_interrupt_handler(record_only=True)
        else:  # called from Python: leave signal handling as it was
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            reset_interrupts()


def _main(argv: list[str] | None) -> int:
    from rich.console import Console

    args = build_parser().parse_args(argv)
    from foldstack.cli import _logging
    err = Console(stderr=True, highlight=False)
    # logging and warning filters as the command wants them, restored on return
    with warnings.catch_warnings(), \
            _logging.configured(-1 if args.quiet else 1 if args.verbose else 0):
        warnings.simplefilter("always", FoldstackWarning)
        warnings.showwarning = _logging.show_warning
        return _dispatch(args, err)


def _run_command(args: Any, where: dict) -> int:
    if args.command == "cv":
        from foldstack.cli._cv import run_cv
        return run_cv(args, where)
    if args.command == "predict":
        from foldstack.cli._predict import run_predict
        return run_predict(args)
    from foldstack.cli._cv import run_report
    return run_report(args)


def _dispatch(args: Any, err: Any) -> int:
    from rich.markup import escape

    from foldstack.utils._parallel import install_interrupt_handler, interrupt_requested

    where: dict[str, Any] = {"out": None, "output": _stat(getattr(args, "output", None))}
    try:
        code, exc = _run_command(args, where), None
    except (KeyboardInterrupt, Exception) as caught:
        code, exc = None, caught
    install_interrupt_handler(record_only=True)  # nothing below may be torn by a Ctrl-C
    if isinstance(exc, KeyboardInterrupt) or interrupt_requested():
        # an error while Ctrl-C was pressed is the interrupt's doing, not a failure
        if exc is not None and not isinstance(exc, KeyboardInterrupt):
            logger.debug("error after Ctrl-C", exc_info=exc)
        err.print(escape(_interrupted_message(args, where)), soft_wrap=True)
        return 130
    if exc is None:
        return code
    if isinstance(exc, CandidateFailedError):
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 1
    if isinstance(exc, FoldstackError):
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    if isinstance(exc, (OSError, MemoryError)) and _environment_problem(exc):
        logger.debug("environment error", exc_info=exc)
        err.print(f"[bold red]error:[/] {escape(_environment_message(exc, args, where))}"
                  f"{escape(' ' + _kept_work(args, where)).rstrip()}", soft_wrap=True)
        return 2
    logger.debug("unexpected error", exc_info=exc)  # a bug: say so without a traceback
    err.print(f"[bold red]unexpected error:[/] {escape(type(exc).__name__)}: "
              f"{escape(str(exc))}\n{escape(_kept_work(args, where))}This is a bug in "
              "foldstack: rerun with -v for the traceback, and please report it.",
              soft_wrap=True)
    return 3


def _environment_problem(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or getattr(exc, "errno", None) in ENVIRONMENT_ERRNOS


def _elsewhere(args: Any) -> str:
    return {"cv": "another --out directory", "predict": "another -o file"}.get(
        args.command, "a run directory you can write to")


def _environment_message(exc: BaseException, args: Any, where: dict) -> str:
    """What the machine refused, on which path, and what to do about it."""
    if isinstance(exc, MemoryError):
        return ("Out of memory. Use fewer parallel tasks (--n-jobs), fewer or smaller models, "
                "or a sample of the rows.")
    code = exc.errno
    path = exc.filename or where.get("out") or getattr(args, "output", None) or "?"
    reason = ENVIRONMENT_ERRNOS[code]
    if code in (errno.ENOSPC, errno.EDQUOT):
        fix = f"Free some space on that device, or use {_elsewhere(args)}."
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = (f"Use {_elsewhere(args)} that you can write to, or make '{path}' writable (input "
               "files need to be readable).")
    elif code == errno.ENOTDIR:
        fix = f"Check the path, or use {_elsewhere(args)}."
    elif code == errno.EISDIR:
        fix = "Give a file name, not a directory."
    else:
        fix = f"Check the device and the path, or use {_elsewhere(args)}."
    return f"Cannot use '{path}': {reason}. {fix}"


def _stat(path: Any) -> Any:
    try:
        return None if path is None else os.stat(path).st_mtime_ns
    except OSError:
        return None


def _cache_has_work(out: Path | None) -> bool:
    cache = None if out is None else Path(out) / "cache"
    return cache is not None and cache.is_dir() and any(
        files for _, _, files in os.walk(cache))


def _kept_work(args: Any, where: dict) -> str:
    """A sentence on what a rerun reuses, only when it is true (only ``cv`` caches work)."""
    if args.command == "cv" and _cache_has_work(where["out"]):
        return (f"Finished work is kept in {where['out']}/cache: rerunning the same command "
                "resumes it. ")
    return ""


def _interrupted_message(args: Any, where: dict) -> str:
    if args.command == "cv":
        if _cache_has_work(where["out"]):
            return (f"interrupted: finished work is kept in {where['out']}/cache; rerun the "
                    "same command to resume.")
        return "interrupted before any work finished: nothing was kept."
    if args.command == "predict":
        now = _stat(args.output)
        if now is not None and now != where["output"]:
            return f"interrupted after writing {args.output}."
        return f"interrupted: {args.output} was not written."
    return "interrupted."
