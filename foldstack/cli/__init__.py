"""The ``foldstack`` command line: a thin layer over the public API.

``foldstack cv`` runs what a notebook would run (``load_table``, ``default_candidates``,
``cross_validate_candidates``, ensembles ``from_report``, ``diagnose``, ``write_html``,
``save_model``) and writes the results to a run directory.
"""

from __future__ import annotations

import logging
import sys
import warnings

from foldstack.cli._parser import build_parser
from foldstack.exceptions import CandidateFailedError, FoldstackError, FoldstackWarning

__all__ = ["main"]

logger = logging.getLogger("foldstack.cli")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 all failed, 2 bad input)."""
    from rich.console import Console
    from rich.markup import escape

    args = build_parser().parse_args(argv)
    from foldstack.cli import _logging
    _logging.configure(-1 if args.quiet else 1 if args.verbose else 0)
    err = Console(stderr=True, highlight=False)
    with warnings.catch_warnings():
        # shown as log lines whatever filters the caller set; restored on return
        warnings.simplefilter("always", FoldstackWarning)
        warnings.showwarning = _logging.show_warning
        return _dispatch(args, err, escape)


def _dispatch(args, err, escape) -> int:
    try:
        if args.command == "cv":
            from foldstack.cli._cv import run_cv
            return run_cv(args)
        if args.command == "predict":
            from foldstack.cli._predict import run_predict
            return run_predict(args)
        from foldstack.cli._cv import run_report
        return run_report(args)
    except CandidateFailedError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 1
    except FoldstackError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    except Exception as exc:  # a bug, not the user's input: say so without a traceback
        logger.debug("unexpected error", exc_info=True)
        err.print(f"[bold red]unexpected error:[/] {escape(type(exc).__name__)}: "
                  f"{escape(str(exc))}\nFinished work is cached. Rerun with -v for the "
                  "traceback, and please report it.", soft_wrap=True)
        return 3
    except KeyboardInterrupt:
        err.print("interrupted: finished work is cached; rerun the same command to resume.")
        return 130


def _entry() -> None:  # pragma: no cover - console script
    sys.exit(main())
