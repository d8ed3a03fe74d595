"""A progress bar over candidate x fold tasks that ``verbose=0`` silences."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class _Silent:
    def advance(self, description: str | None = None) -> None:
        pass


class _Bar:
    def __init__(self, progress, task) -> None:
        self._progress, self._task = progress, task

    def advance(self, description: str | None = None) -> None:
        kw = {"description": description} if description else {}
        self._progress.update(self._task, advance=1, **kw)


@contextlib.contextmanager
def task_progress(total: int, done: int, verbose: int, title: str = "cross-validating"
                  ) -> Iterator[_Bar | _Silent]:
    """Yield an object with ``advance(description)``; draws a rich bar when ``verbose > 0``."""
    if not verbose or total == 0:
        yield _Silent()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=False) as progress:
        task = progress.add_task(title, total=total, completed=done)
        yield _Bar(progress, task)
