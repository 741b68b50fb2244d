"""Reading one GTFS file into a checked :class:`_Table` of string columns with line numbers.

The CSV files are read with pandas' C parser (as gtfs-kit does), but not through
``gtfs_kit.read_feed``: gtfs-kit 13 was checked on the transitfeed test feeds and on the real ones,
and it is both too lenient and too strict for validator-style errors. It shifts every column
silently when each data row has one trailing comma more than the header (pandas takes the first
column as the index); it turns ids such as ``null`` or ``NaN`` into missing values; it raises bare
``UnicodeDecodeError``/``ParserError``/``ValueError`` (no file, row or column) on a UTF-16 file,
invalid UTF-8, an extra cell or a non-numeric integer field; it skips an empty required file as if
it were absent; and it drops blank lines, which loses the row numbers. So each file is read as
strings with every record's line number, then checked and converted here, vectorised.

Tolerated silently: a UTF-8 byte order mark, CRLF line ends, rows shorter than the header (missing
trailing optional fields), quoted fields, spaces around values. Tolerated with a warning in the
report: UTF-16 with a byte order mark (``non_utf8_encoding``), NUL characters (removed,
``null_character``), mixed line ends (``mixed_line_endings``), spaces or control characters around a
header name (``leading_or_trailing_whitespaces``), empty rows (``empty_row``), extra *empty* cells
(``invalid_row_length``), unknown files and columns (``unknown_file``, ``unknown_column``).
"""
from __future__ import annotations

import csv
import io
from typing import NoReturn

import numpy as np
import pandas as pd

from loaders.gtfs.files import _COLUMNS, _Source
from loaders.report import BuildReport, LoaderError


class _Table:
    """One CSV file as string columns, with the line number of every record (header = 1)."""

    def __init__(self, file: str, df: pd.DataFrame, row: np.ndarray):
        self.file = file
        self.df = df
        self.row = row
        self._stripped: dict[str, pd.Series] = {}

    def __len__(self) -> int:
        return len(self.df)

    def has(self, column: str) -> bool:
        return column in self.df.columns

    def text(self, column: str) -> pd.Series:
        """The column's values, stripped; all '' when the column is absent."""
        if column not in self._stripped:
            if column in self.df.columns:
                s = self.df[column].str.strip()
            else:
                s = pd.Series([""] * len(self.df), dtype="str")
            self._stripped[column] = s
        return self._stripped[column]

    def values(self, column: str) -> np.ndarray:
        return self.text(column).to_numpy(dtype=object)

    def error(self, code: str, mask, column: str | None, message) -> NoReturn:
        """Raise for the first row in ``mask``; ``message(i)`` describes row position i."""
        where = np.flatnonzero(np.asarray(mask))
        i = int(where[0])
        raise LoaderError.of(code, message(i), file=self.file, row=int(self.row[i]), column=column,
                             more=len(where) - 1)

    def warn(self, report: BuildReport, code: str, mask, column: str | None, message) -> int:
        """One notice for the rows in ``mask`` (first row as example, count = all); returns count."""
        where = np.flatnonzero(np.asarray(mask))
        if where.size:
            i = int(where[0])
            text = message(i)
            if where.size > 1:
                text += f" ({where.size:,} rows like this)"
            report.warn(code, text, file=self.file, row=int(self.row[i]), column=column,
                        count=int(where.size))
        return int(where.size)


def _decode(raw: bytes, file: str, report: BuildReport) -> str:
    """Bytes to text with only '\\n' line ends; UTF-8 (BOM allowed) or UTF-16 with a BOM."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise LoaderError.of("csv_parsing_failed", f"not valid UTF-16 despite its byte order "
                                 f"mark ({exc.reason}); GTFS files must be UTF-8", file=file) from None
        report.warn("non_utf8_encoding", "the file is UTF-16 (byte order mark found); GTFS files "
                    "must be UTF-8; decoded as UTF-16", file=file)
    else:
        if raw[:3] == b"\xef\xbb\xbf":
            raw = raw[3:]  # a UTF-8 byte order mark is common and harmless
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line_start = raw.rfind(b"\n", 0, exc.start) + 1
            row = raw.count(b"\n", 0, exc.start) + 1
            field = raw.count(b",", line_start, exc.start)
            header = next(csv.reader([raw.split(b"\n", 1)[0].decode("utf-8", "replace")]), [])
            column = header[field].strip() if row > 1 and field < len(header) else None
            raise LoaderError.of(
                "csv_parsing_failed",
                f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; GTFS files must be UTF-8 encoded "
                "(re-encode the file, e.g. from Latin-1 or Windows-1252)",
                file=file, row=row, column=column) from None
    if "\x00" in text:
        row = text.count("\n", 0, text.index("\x00")) + 1
        n = text.count("\x00")
        text = text.replace("\x00", "")
        report.warn("null_character", f"{n} NUL character(s) removed", file=file, row=row, count=n)
    n_crlf = text.count("\r\n")
    kinds = (n_crlf > 0) + (text.count("\n") > n_crlf) + (text.count("\r") > n_crlf)
    if kinds > 1:
        report.warn("mixed_line_endings", "the file mixes CRLF, LF and/or CR line ends",
                    file=file)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _field_counts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(fields per record, line number of each record): a fast path for files without quotes."""
    if '"' not in text:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        counts = np.fromiter((line.count(",") + 1 if line else 0 for line in lines),
                             dtype=np.int64, count=len(lines))
        return counts, np.arange(1, len(lines) + 1, dtype=np.int64)
    counts, rows = [], []
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for rec in reader:
        counts.append(len(rec))
        rows.append(start)
        start = reader.line_num + 1
    return np.asarray(counts, dtype=np.int64), np.asarray(rows, dtype=np.int64)


def _read_table(src: _Source, name: str, label: str, report: BuildReport, *,
                required: bool) -> _Table | None:
    """Read one file of the feed, checked: None when absent, or empty and optional."""
    file = label + name
    text = _file_text(src, name, file, report, required=required)
    if text is None:
        return None
    df, counts, lines = _parse_csv(text, file)
    header = _checked_header(df, counts, name, file, report)
    values, lines = _data_rows(df, counts, lines, header, file, report)
    if required and len(values) == 0:
        raise LoaderError.of("empty_file", f"{name} has a header but no rows; it is required and "
                             "must have data", file=file, row=1)
    return _Table(file, values, lines)


def _read_checked_table(src: _Source, name: str, label: str, report: BuildReport) -> _Table | None:
    """Read a file the timetable does not use, only to check it: what would be fatal in a file the
    timetable needs (bad CSV, missing columns...) is a warning here, and the file is skipped."""
    try:
        return _read_table(src, name, label, report, required=False)
    except LoaderError as exc:
        n = exc.notice
        report.warn(n.code, f"{n.message}; {name} is not used by the timetable, so it is skipped",
                    file=n.file, row=n.row, column=n.column)
        return None


def _file_text(src: _Source, name: str, file: str, report: BuildReport, *,
               required: bool) -> str | None:
    """The file decoded; None when absent or empty (fatal when ``required``)."""
    if not src.has(name):
        if required:
            raise LoaderError.of("missing_required_file", f"{name} is required and missing from "
                                 f"{src.path}", file=file)
        return None
    text = _decode(src.read(name), file, report)
    if not text.strip():
        if required:
            raise LoaderError.of("empty_file", f"{name} is empty; it is required and must have a "
                                 "header and rows", file=file, row=1)
        report.warn("empty_file", f"{name} is empty; ignored", file=file)
        return None
    return text


def _parse_csv(text: str, file: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(every record as string cells, header included; fields per record; line of each record).

    The frame is as wide as the longest record; shorter records are padded with ''."""
    try:
        counts, lines = _field_counts(text)
        width = int(counts.max())
        df = pd.read_csv(io.StringIO(text), header=None, names=range(width), dtype=str,
                         na_filter=False, skip_blank_lines=False, index_col=False, engine="c")
    except (csv.Error, pd.errors.ParserError, ValueError) as exc:
        raise LoaderError.of("csv_parsing_failed", f"cannot parse the CSV: {exc}", file=file) from None
    if len(df) != len(counts):  # cannot happen with well-formed quoting; refuse rather than guess
        raise LoaderError.of("csv_parsing_failed", f"found {len(df)} records but {len(counts)} "
                             "lines; check the quoting", file=file)
    return df, counts, lines


def _checked_header(df: pd.DataFrame, counts: np.ndarray, name: str, file: str,
                    report: BuildReport) -> list[str]:
    """The column names, stripped; duplicated or missing required columns are fatal, unknown
    or unnamed ones reported."""
    raw_header = [str(h) for h in df.iloc[0, : counts[0]]]
    header = [h.strip() for h in raw_header]
    if header != raw_header:
        bad = [h for h, r in zip(header, raw_header, strict=True) if h != r]
        report.warn("leading_or_trailing_whitespaces", f"spaces or control characters around the "
                    f"column name(s) {bad} removed", file=file, row=1, column=bad[0])
    known = set(_COLUMNS[name][0]) | set(_COLUMNS[name][1]) if name in _COLUMNS else set()
    _check_header_present(header, name, file)
    seen: set[str] = set()
    for h in header:
        if h in seen and h:
            raise LoaderError.of("duplicated_column", f"the column {h!r} appears twice in the "
                                 "header", file=file, row=1, column=h)
        seen.add(h)
        if not h:
            report.warn("empty_column_name", "a column has no name; ignored", file=file, row=1)
        elif known and h not in known:
            report.warn("unknown_column", f"unknown column {h!r} ignored (GTFS names are "
                        "case-sensitive)", file=file, row=1, column=h)
    if name in _COLUMNS:
        for col in _COLUMNS[name][0]:
            if col not in seen:
                raise LoaderError.of("missing_required_column", f"the required column {col!r} is "
                                     f"missing from the header of {name}", file=file, row=1,
                                     column=col)
    return header


def _check_header_present(header: list[str], name: str, file: str) -> None:
    """A first line without a single GTFS column name of the file, while required ones are
    missing, is data: say the header row is missing (missing_required_column), rather than
    complaining about its values (a time given twice read as a duplicated column)."""
    if name not in _COLUMNS:
        return
    required, optional = _COLUMNS[name]
    missing = [c for c in required if c not in header]
    if missing and not set(header) & (set(required) | set(optional)):
        shown = ", ".join(repr(h) for h in header[:8]) + (", ..." if len(header) > 8 else "")
        raise LoaderError.of("missing_required_column",
                             f"the first line ({shown}) holds none of the column names of {name}: "
                             f"is the header row missing? It must name the columns, among them "
                             f"{', '.join(required)}", file=file, row=1, column=missing[0])


def _data_rows(df: pd.DataFrame, counts: np.ndarray, lines: np.ndarray, header: list[str],
               file: str, report: BuildReport) -> tuple[pd.DataFrame, np.ndarray]:
    """(the data rows under the named columns, their line numbers): empty rows skipped."""
    data = df.iloc[1:]
    counts, lines = counts[1:], lines[1:]
    n_cols = len(header)
    keep = np.ones(len(data), dtype=bool)
    _check_row_lengths(data, counts, lines, n_cols, file, report)
    values = data.iloc[:, :n_cols]
    values.columns = header
    blank = (counts == 0)
    if not blank.all():
        blank |= (values.apply(lambda s: s.str.strip() == "")).all(axis=1).to_numpy()
    if blank.any():
        i = int(np.flatnonzero(blank)[0])
        report.warn("empty_row", "empty row skipped", file=file, row=int(lines[i]),
                    count=int(blank.sum()))
        keep &= ~blank
    values = values.loc[:, [h for h in header if h]]
    if not keep.all():
        values = values.iloc[np.flatnonzero(keep)]
        lines = lines[keep]
    return values.reset_index(drop=True), lines


def _check_row_lengths(data: pd.DataFrame, counts: np.ndarray, lines: np.ndarray, n_cols: int,
                       file: str, report: BuildReport) -> None:
    """Rows longer than the header: fatal when an extra cell has a value, else reported."""
    if data.shape[1] > n_cols:
        extra = np.char.strip(data.iloc[:, n_cols:].to_numpy(dtype=str))
        nonempty = (extra != "").any(axis=1) & (counts > n_cols)
        if nonempty.any():
            i = int(np.flatnonzero(nonempty)[0])
            raise LoaderError.of(
                "invalid_row_length",
                f"the row has {counts[i]} values but the header has {n_cols} columns; the values "
                f"{[str(v) for v in extra[i] if v]} cannot be assigned a column (an unquoted comma?)",
                file=file, row=int(lines[i]), more=int(nonempty.sum()) - 1)
        long_rows = counts > n_cols
        if long_rows.any():
            i = int(np.flatnonzero(long_rows)[0])
            report.warn("invalid_row_length", f"the row has {counts[i]} values but the header has "
                        f"{n_cols} columns; the extra values are empty and ignored",
                        file=file, row=int(lines[i]), count=int(long_rows.sum()))
