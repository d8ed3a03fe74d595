"""Store identical files once: hard links between saved models of one run directory."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from foldstack.persist._model_io import _sha256

logger = logging.getLogger(__name__)


def link_duplicates(dirs: Iterable[str | os.PathLike]) -> int:
    """Make files with the same bytes in ``dirs`` hard links to one copy; return bytes freed.

    Each directory stays whole (copying or deleting one never touches another), yet a fold
    model saved in a run's cache, its report and its final model (``parts`` of
    :func:`~foldstack.persist.save_model`) takes its space on disk once.  Contents are
    compared by their own SHA-256, never by what a manifest claims.  Where the file system has
    no hard links, the copies stay.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for d in ("a", "b"):
    ...     (root / d).mkdir()
    ...     _ = (root / d / "x.bin").write_bytes(b"0" * 1000)
    >>> link_duplicates([root / "a", root / "b"])
    1000
    >>> (root / "a" / "x.bin").samefile(root / "b" / "x.bin")
    True
    """
    by_size: dict[int, list[Path]] = {}
    for d in dirs:
        for path in sorted(Path(d).iterdir()) if Path(d).is_dir() else ():
            if path.is_file() and not path.is_symlink() and path.name != "manifest.json":
                by_size.setdefault(path.stat().st_size, []).append(path)
    freed = 0
    for size, paths in by_size.items():
        if size == 0 or len(paths) < 2:
            continue
        first: dict[str, Path] = {}
        for path in paths:
            keep = first.setdefault(_sha256(path), path)
            if keep is path or keep.samefile(path):
                continue
            tmp = path.with_name(f".{path.name}.link")
            try:
                os.link(keep, tmp)
                os.replace(tmp, path)   # atomic: the file is never missing
            except OSError as exc:      # no hard links here (or no permission): keep the copy
                tmp.unlink(missing_ok=True)
                logger.debug("keeping a copy of %s (%s)", path, exc)
                continue
            freed += size
    return freed
