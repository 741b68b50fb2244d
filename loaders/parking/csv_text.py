"""CSV files read as text: separator sniffing, stripped string cells, clear errors for bad files.

A frame read here is indexed by each record's line number in the file, the header being line 1
(as GTFS notices and a text editor count), so that every warning names the line to look at.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from loaders.parking.checks import _missing_file
from loaders.report import LoaderError


def _sniff_separator(path: Path) -> str:
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        header = f.readline()
    return max((",", ";", "\t"), key=header.count)


def _read_text_csv(path: Path, usecols=None) -> pd.DataFrame:
    """All cells as stripped strings ('' for empty), indexed by line number (header = line 1);
    LoaderError for unreadable files."""
    if not path.is_file():
        raise _missing_file(path)
    sep = _sniff_separator(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                         usecols=usecols, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise LoaderError.of("empty_file", "the file is empty (no header)", file=path.name) from None
    except UnicodeDecodeError as exc:
        raise LoaderError.of("invalid_encoding", f"not UTF-8 text ({exc.reason})",
                             file=path.name) from None
    except pd.errors.ParserError as exc:
        raise LoaderError.of("invalid_csv", f"cannot parse the CSV: {exc}", file=path.name) from None
    df.index = _record_lines(text, sep, len(df))
    df.columns = [str(c).strip() for c in df.columns]
    for col in df.columns:
        df[col] = df[col].astype(str).str.strip()
    return df


def _record_lines(text: str, sep: str, n_rows: int) -> pd.Index:
    """The line number of each data record (header = line 1; blank lines skipped, as pandas
    skips them; a quoted cell may span lines). Should the count differ from pandas' (unusual
    quoting), records are numbered as if one per line after the header."""
    if '"' not in text:
        lines = np.flatnonzero(np.array([bool(line) for line in text.split("\n")], dtype=bool)) + 1
    else:
        starts, start = [], 1
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, skipinitialspace=True)
        for record in reader:
            if record:
                starts.append(start)
            start = reader.line_num + 1
        lines = np.asarray(starts, dtype=np.int64)
    data = lines[1:]  # the first non-blank line is the header
    if data.size != n_rows:
        data = np.arange(2, n_rows + 2)
    return pd.Index(data.astype(np.int64), name="line")


def _read_header(path: Path) -> list[str]:
    """The stripped column names of a CSV file (LoaderError when it has none)."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        first = f.readline()
    if not first.strip():
        raise LoaderError.of("empty_file", "the file is empty (no header)", file=path.name)
    return [str(c).strip() for c in _read_text_csv_header(path)]


def _read_text_csv_header(path: Path) -> list:
    try:
        return list(pd.read_csv(path, sep=_sniff_separator(path), nrows=0, encoding="utf-8-sig",
                                skipinitialspace=True).columns)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise LoaderError.of("invalid_csv", f"cannot read the CSV header: {exc}",
                             file=path.name) from None

