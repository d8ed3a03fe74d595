"""Read a table from CSV or Parquet with clear errors."""

from __future__ import annotations

import csv
import logging
import os
import warnings
from pathlib import Path

import pandas as pd

from foldstack.exceptions import DataError, DataWarning

logger = logging.getLogger(__name__)

_PARQUET = (".parquet", ".pq")
_FALLBACK_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


def load_table(path: str | os.PathLike, *, sep: str | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    CSV delimiters (``,`` ``;`` tab ``|``) are detected unless ``sep`` is given; text that is not
    UTF-8 is read as Windows-1252 / Latin-1 with a warning.  Non-numeric columns keep their
    values as strings, missing values are NaN, and an unnamed leading index column written by R
    or pandas (``rownames``, ``Unnamed: 0``) is kept: drop it yourself if it is an index.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` / ``.tsv`` / ``.txt`` (optionally ``.gz``) or ``.parquet`` file.
    sep : str, default=None
        The CSV delimiter; detected when None.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        The file is missing, unreadable, empty, or has duplicate column names.

    Examples
    --------
    >>> import foldstack as fs
    >>> df = fs.load_table("train.csv")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"No such file: '{path}'. Check the path (relative paths are read from "
                        f"'{Path.cwd()}').")
    if path.is_dir():
        raise DataError(f"'{path}' is a directory; give a CSV or Parquet file.")
    if path.stat().st_size == 0:
        raise DataError(f"'{path}' is empty (0 bytes).")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _PARQUET:
        df = _read_parquet(path)
    else:
        df = _read_csv(path, sep)
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise DataError(f"'{path}' has no data rows (shape {df.shape}).")
    check_unique_columns(df, str(path))
    return df


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(f"Cannot read '{path}' as Parquet: {exc}") from None


def _sniff_sep(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _read_csv(path: Path, sep: str | None) -> pd.DataFrame:
    raw = path.read_bytes()[:65536] if not path.suffix.lower() == ".gz" else None
    encoding = "utf-8"
    if raw is not None:
        for enc in ("utf-8", *_FALLBACK_ENCODINGS):
            try:
                # the sample may end mid-character: ignore only an incomplete tail
                raw.decode(enc) if len(raw) < 65536 else raw[:-4].decode(enc)
                encoding = enc
                break
            except UnicodeDecodeError:
                continue
        if encoding not in ("utf-8", "utf-8-sig"):
            warnings.warn(f"'{path}' is not valid UTF-8; read it as {encoding}. Save the file "
                          "as UTF-8 to silence this warning.", DataWarning, stacklevel=3)
        sample = raw.decode(encoding, errors="replace")
        if "\x00" in sample:
            raise DataError(f"'{path}' looks like a binary file, not CSV text. foldstack reads "
                            "CSV (.csv, .tsv, .txt) and Parquet (.parquet) files.")
        sep = sep or _sniff_sep(sample)
    try:
        df = pd.read_csv(path, sep=sep or ",", encoding=encoding, low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"'{path}' has no columns (is it empty?).") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot parse '{path}' as CSV: {exc}. Check the delimiter "
                        "(pass sep=...) and that every row has the same number of fields."
                        ) from None
    if df.shape[1] == 1 and sep in (None, ","):
        header = str(df.columns[0])
        for other in (";", "\t", "|"):
            if other in header:
                raise DataError(
                    f"'{path}' was read as a single column {header[:60]!r}; its delimiter "
                    f"looks like {other!r}. Pass sep={other!r}.")
    logger.debug("read %s: %d rows x %d columns (sep=%r, encoding=%s)",
                 path, df.shape[0], df.shape[1], sep, encoding)
    return df


def check_unique_columns(df: pd.DataFrame, where: str) -> None:
    """Raise DataError naming the repeated column names of ``df`` (``where`` names it)."""
    cols = pd.Index(df.columns)
    dup = cols[cols.duplicated()].unique().tolist()
    if dup:
        raise DataError(f"{where} has duplicate column names: {dup}. Rename them so each "
                        "column has one name.")
