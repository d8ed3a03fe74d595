"""On-disk store of finished (candidate, fold) tasks, with no pickle in it.

Each entry is keyed by a fingerprint of everything that determines its result (the data, the
fold's rows, the metrics, the candidate's parameters and the task's seed) and written
atomically in the format of :func:`foldstack.persist.save_model` (a temporary directory
renamed into place), so a run killed at any moment, even by SIGKILL, leaves only whole
entries behind and a rerun computes only what is missing.  Reading an entry runs no code:
a cache directory from someone else is data, and whatever in it is damaged, planted or from
another version is recomputed, never trusted.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import joblib

from foldstack.exceptions import UnsafeModelError, VersionMismatchWarning
from foldstack.persist._policy import classes_of
from foldstack.selection._record import FoldRecord

logger = logging.getLogger(__name__)

# Part of every fingerprint: cache keys and tuning study names.  Bumping it orphans every
# cache entry and every study (a resumed `tune` would start over), so it is only bumped when
# what a key stands for changes.  A change of the stored record's layout does not need it: an
# entry that is not a record of this version is recomputed (and overwritten) when read.
KEY_VERSION = 2


def fingerprint(*parts: Any) -> str:
    """A stable hex digest of arbitrary Python objects (arrays and DataFrames included)."""
    return joblib.hash((KEY_VERSION, *parts))


class TaskCache:
    """Finished task results under ``<cache_dir>/tasks/<key[:2]>/<key>/``.

    Parameters
    ----------
    cache_dir : str, path or None
        None disables the cache.
    candidates : iterable of estimators, default=()
        The candidates of this run: their classes (and those of their nested estimators)
        are stored as data beside foldstack's own, so a user's own estimator class is
        cached without a pickle.  Trust comes from the objects passed here, never from a
        file.
    allow_pickle : bool, default=False
        Also store (and read) entries whose model only a pickle can hold (a custom torch
        module).  Without it such entries are not stored: they are recomputed on resume.
    """

    def __init__(self, cache_dir: str | os.PathLike | None, *, candidates: Iterable[Any] = (),
                 allow_pickle: bool = False) -> None:
        self.root = None if cache_dir is None else Path(cache_dir) / "tasks"
        self.allow_pickle = allow_pickle
        self.trusted = classes_of(candidates) if self.root is not None else frozenset()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> FoldRecord | None:
        """The record stored under ``key``, or None (missing, damaged, planted, other
        version: then the task is run again)."""
        if self.root is None:
            return None
        path = self._path(key)
        if not (path / "manifest.json").is_file():
            return None
        from foldstack.persist import load_model

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", VersionMismatchWarning)
                value = load_model(path, allow_pickle=self.allow_pickle,
                                   trusted=self.trusted)
        except (UnsafeModelError, VersionMismatchWarning, OSError) as exc:
            logger.warning("ignoring cache entry %s and recomputing it (%s)", path, exc)
            return None
        try:
            record = FoldRecord.from_state(value)
        except (TypeError, ValueError):
            logger.info("recomputing cache entry %s: it holds no fold record of this foldstack "
                        "version (an older version wrote it, or it was changed)", path)
            return None
        if record.key != key or not record.ok:
            logger.warning("ignoring cache entry %s: it is not the entry of its key", path)
            return None
        return record

    def put(self, record: FoldRecord) -> None:
        """Store a finished record under its key (failed, skipped and cut ones are not
        stored: a rerun tries them again)."""
        if self.root is None or not record.key or not record.ok or record.cut:
            return
        from foldstack.persist import save_model

        try:
            save_model(record.to_state(), self._path(record.key),
                       allow_pickle=self.allow_pickle, trusted=self.trusted,
                       parts=() if record.model is None else (record.model,))
        except UnsafeModelError as exc:
            logger.info("not caching %s: %s", record.key, exc)
