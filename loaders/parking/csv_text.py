"""CSV files read as text: separator sniffing, stripped string cells, clear errors for bad files."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from loaders.parking.checks import _missing_file
from loaders.report import LoaderError


def _sniff_separator(path: Path) -> str:
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        header = f.readline()
    return max((",", ";", "\t"), key=header.count)


def _read_text_csv(path: Path, usecols=None) -> pd.DataFrame:
    """All cells as stripped strings ('' for empty); LoaderError for unreadable files."""
    if not path.is_file():
        raise _missing_file(path)
    try:
        df = pd.read_csv(path, sep=_sniff_separator(path), dtype=str, keep_default_na=False,
                         encoding="utf-8-sig", usecols=usecols, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise LoaderError.of("empty_file", "the file is empty (no header)", file=path.name) from None
    except UnicodeDecodeError as exc:
        raise LoaderError.of("invalid_encoding", f"not UTF-8 text ({exc.reason})",
                             file=path.name) from None
    except pd.errors.ParserError as exc:
        raise LoaderError.of("invalid_csv", f"cannot parse the CSV: {exc}", file=path.name) from None
    df.columns = [str(c).strip() for c in df.columns]
    for col in df.columns:
        df[col] = df[col].astype(str).str.strip()
    return df


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

