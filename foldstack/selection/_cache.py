"""On-disk store of finished (candidate, fold) tasks.

Each entry is keyed by a fingerprint of everything that determines its result (the data, the
fold's rows, the metrics, the candidate's parameters and the task's seed) and written
atomically (a temporary file renamed into place), so a run killed at any moment, even by
SIGKILL, leaves only whole entries behind and a rerun computes only what is missing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import joblib

logger = logging.getLogger(__name__)

# Bump when the layout of a stored task result changes: old entries are then ignored.
FORMAT = 1


def fingerprint(*parts: Any) -> str:
    """A stable hex digest of arbitrary Python objects (arrays and DataFrames included)."""
    return joblib.hash((FORMAT, *parts))


class TaskCache:
    """Finished task results under ``<cache_dir>/tasks/<key[:2]>/<key>.joblib``.

    Entries are pickles written by foldstack itself: point ``cache_dir`` only at directories
    you trust, as with any joblib cache.
    """

    def __init__(self, cache_dir: str | os.PathLike | None) -> None:
        self.root = None if cache_dir is None else Path(cache_dir) / "tasks"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.joblib"

    def get(self, key: str) -> dict | None:
        if self.root is None:
            return None
        path = self._path(key)
        if not path.exists():
            return None
        try:
            return joblib.load(path)
        except Exception as exc:  # a damaged entry is recomputed, never trusted
            logger.warning("ignoring unreadable cache entry %s (%s)", path, exc)
            return None

    def put(self, key: str, value: dict) -> None:
        if self.root is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".joblib")
        try:
            with os.fdopen(fd, "wb") as fh:
                joblib.dump(value, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

