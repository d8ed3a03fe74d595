"""Read a table from CSV or Parquet with clear errors."""

from __future__ import annotations

import csv
import logging
import os
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from foldstack.exceptions import DataError, DataWarning

logger = logging.getLogger(__name__)

_PARQUET = (".parquet", ".pq")
_FALLBACK_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")

# A number written with a decimal comma, optionally with "." or space thousands separators
# (the same one throughout): 1,5  -0,25  1.234,5  1 234 567,89  12 (an integer fits too).
_THOUSANDS = "[. \u00a0\u202f]"  # real characters: pyarrow string regexes are RE2
_EU_NUMBER = re.compile(rf"[+-]?(?:\d{{1,3}}(?:({_THOUSANDS})\d{{3}})(?:\1\d{{3}})*|\d+)(?:,\d+)?")
# "1.234" alone: 1234 with a thousands dot, or 1.234 written with a decimal point?
_DOT_ONLY = re.compile(r"[+-]?\d{1,3}\.\d{3}")
_DOT_AND_COMMA = re.compile(r"\.\d{3},")
_TO_POINT = str.maketrans({".": None, " ": None, "\u00a0": None, "\u202f": None, ",": "."})


def load_table(path: str | os.PathLike, *, sep: str | None = None,
               text_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    CSV delimiters (``,`` ``;`` tab ``|``) are detected unless ``sep`` is given; text that is not
    UTF-8 is read as Windows-1252 / Latin-1 with a warning.  Non-numeric columns keep their
    values as strings, missing values are NaN, and an unnamed leading index column written by R
    or pandas (``rownames``, ``Unnamed: 0``) is kept: drop it yourself if it is an index.

    Columns of numbers written with a decimal comma (``1,5``, ``1.234,5``, ``1 234,5``) in a
    CSV whose delimiter is not ``,`` are read as numbers, with a :class:`DataWarning` naming
    them; a column that is ambiguous (``1.234`` could be 1234 or 1.234) is left as text, with
    a warning.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` / ``.tsv`` / ``.txt`` (optionally ``.gz``) or ``.parquet`` file.
    sep : str, default=None
        The CSV delimiter; detected when None.
    text_columns : iterable of str, default=()
        Columns kept exactly as written (ids such as ``0012`` or ``1e3``): in a CSV they are
        read as text, and only an empty cell is missing (``NA`` stays ``"NA"``); in Parquet
        the stored values are kept (integers stay integers even next to missing values).
        Names that are not in the table are ignored.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        The file is missing, unreadable, empty, or has duplicate column names.

    Warns
    -----
    DataWarning
        The text is not UTF-8, or columns with decimal commas were read as numbers.

    Examples
    --------
    >>> import foldstack as fs
    >>> df = fs.load_table("train.csv")  # doctest: +SKIP
    >>> ids = fs.load_table("test.csv", text_columns=["customer"])["customer"]  # doctest: +SKIP
    """
    if isinstance(text_columns, str):  # one name, not its characters
        text_columns = [text_columns]
    text = list(dict.fromkeys(text_columns))
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
        df = _read_parquet(path, text)
    else:
        df = _read_csv(path, sep, text)
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise DataError(f"'{path}' has no data rows (shape {df.shape}).")
    check_unique_columns(df, str(path))
    return df


def _read_parquet(path: Path, text: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(f"Cannot read '{path}' as Parquet: {exc}") from None
    # pyarrow would fail later with "Multiple matches for FieldRef.Name(...)"
    _check_header(names, path)
    try:
        df = pd.read_parquet(path)
        for col in (c for c in text if c in df.columns):
            # pandas turns an integer column with nulls into floats (12 -> 12.0)
            values = pq.read_table(path, columns=[col]).column(col).to_pylist()
            df[col] = pd.Series(values, index=df.index, dtype=object)
    except Exception as exc:
        raise DataError(f"Cannot read '{path}' as Parquet: {exc}") from None
    return df


def _check_header(names: list, path: Path) -> None:
    """Raise DataError naming the repeated names of a header (empty names aside)."""
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if name is not None and str(name) != "":
            seen.setdefault(str(name), []).append(i + 1)
    dup = {name: pos for name, pos in seen.items() if len(pos) > 1}
    if dup:
        where = "; ".join(f"{n!r} in columns {', '.join(map(str, p))}" for n, p in dup.items())
        raise DataError(
            f"'{path}' has duplicate column names: {list(dup)} ({where}). Rename them so each "
            "column has one name (foldstack does not guess which one you meant).")


def _sniff_sep(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _read_csv(path: Path, sep: str | None, text: list[str]) -> pd.DataFrame:
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
    sep = sep or ","
    try:
        df = pd.read_csv(path, sep=sep, encoding=encoding, low_memory=False)
        # pandas renames a repeated name ("female" -> "female.1"): read the header as written
        header = pd.read_csv(path, sep=sep, encoding=encoding, header=None, nrows=1,
                             dtype=str, keep_default_na=False)
        text = [c for c in text if c in df.columns]
        if text:  # as written: "0012" stays "0012", "NA" stays "NA"; only "" is missing
            as_text = pd.read_csv(path, sep=sep, encoding=encoding, usecols=text, dtype=str,
                                  keep_default_na=False, na_values=[""])
            df[text] = as_text[text].astype(object)
    except pd.errors.EmptyDataError:
        raise DataError(f"'{path}' has no columns (is it empty?).") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot parse '{path}' as CSV: {exc}. Check the delimiter "
                        "(pass sep=...) and that every row has the same number of fields."
                        ) from None
    _check_header(header.iloc[0].tolist() if len(header) else [], path)
    if df.shape[1] == 1 and sep == ",":
        first = str(df.columns[0])
        for other in (";", "\t", "|"):
            if other in first:
                raise DataError(
                    f"'{path}' was read as a single column {first[:60]!r}; its delimiter "
                    f"looks like {other!r}. Pass sep={other!r}.")
    if sep != ",":  # with a "," delimiter, a quoted "1,500" is as likely 1500 as 1.5
        df = _decimal_commas(df, path, skip=text)
    logger.debug("read %s: %d rows x %d columns (sep=%r, encoding=%s)",
                 path, df.shape[0], df.shape[1], sep, encoding)
    return df


def _decimal_commas(df: pd.DataFrame, path: Path, skip: list[str]) -> pd.DataFrame:
    """Read text columns of numbers written with a decimal comma as numbers (with a warning)."""
    converted, ambiguous = {}, {}
    for col in df.columns:
        if col in skip or pd.api.types.is_numeric_dtype(df[col]) \
                or pd.api.types.is_bool_dtype(df[col]):
            continue
        values = df[col].dropna()
        if values.empty or not all(isinstance(v, str) for v in values):
            continue
        uniques = [v.strip() for v in pd.unique(values)]
        # short-circuits on the first word: text columns cost next to nothing
        if not all(_EU_NUMBER.fullmatch(v) for v in uniques) \
                or not any("," in v for v in uniques):
            continue
        dot_only = [v for v in uniques if _DOT_ONLY.fullmatch(v)]
        # a thousands dot next to a decimal comma settles what "1.234" means; alone it doesn't
        if dot_only and not any(_DOT_AND_COMMA.search(v) for v in uniques):
            ambiguous[col] = dot_only[0]
            continue
        as_points = values.str.strip().str.replace(_THOUSANDS, "", regex=True)
        numbers = pd.to_numeric(as_points.str.replace(",", ".", regex=False))
        example = next(v for v in uniques if "," in v)
        converted[col] = (example, float(example.translate(_TO_POINT)))
        df[col] = numbers.reindex(df.index)
    if converted:
        shown = ", ".join(f"{c!r} (e.g. {v!r} -> {n!r})" for c, (v, n) in converted.items())
        warnings.warn(f"'{path}': read {len(converted)} column(s) written with a decimal comma "
                      f"as numbers: {shown}. Save the file with decimal points to silence this "
                      "warning.", DataWarning, stacklevel=4)
    if ambiguous:
        col, value = next(iter(ambiguous.items()))
        warnings.warn(f"'{path}': column(s) {list(ambiguous)} look like numbers written with a "
                      f"decimal comma, but {value!r} (column {col!r}) could be a thousands "
                      "separator or a decimal point; left as text. Save the file with decimal "
                      "points and no thousands separators to read them as numbers.",
                      DataWarning, stacklevel=4)
    return df


def check_unique_columns(df: pd.DataFrame, where: str) -> None:
    """Raise DataError naming the repeated column names of ``df`` (``where`` names it)."""
    cols = pd.Index(df.columns)
    dup = cols[cols.duplicated()].unique().tolist()
    if dup:
        raise DataError(f"{where} has duplicate column names: {dup}. Rename them so each "
                        "column has one name.")
