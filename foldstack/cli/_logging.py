"""The only place foldstack configures output: a rich handler on foldstack's logger."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator


def configure(verbosity: int) -> None:
    """-q (verbosity < 0): warnings only; default: info; -v: debug."""
    from rich.console import Console
    from rich.logging import RichHandler

    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    handler = RichHandler(console=Console(stderr=True), show_path=False, show_time=False,
                          markup=False, rich_tracebacks=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("foldstack")
    logger.handlers = [h for h in logger.handlers if isinstance(h, logging.NullHandler)]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    if verbosity < 1:  # third-party chatter (e.g. optuna trial lines) only with -v
        logging.getLogger("optuna").setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", module="skorch")


@contextlib.contextmanager
def configured(verbosity: int) -> Iterator[None]:
    """:func:`configure` for the block, then the loggers as they were (``main()`` called
    from Python, e.g. in a notebook or a test, leaves no handler behind)."""
    ours, optuna = logging.getLogger("foldstack"), logging.getLogger("optuna")
    saved = (list(ours.handlers), ours.level, ours.propagate, optuna.level)
    try:
        configure(verbosity)
        yield
    finally:
        ours.handlers, ours.level, ours.propagate = saved[0], saved[1], saved[2]
        optuna.setLevel(saved[3])


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings are messages to the user here: one line, category and text, no source line."""
    logging.getLogger("foldstack").warning("%s: %s", category.__name__, message)
