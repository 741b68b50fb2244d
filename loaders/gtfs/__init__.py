"""Load GTFS feeds (zip archives or folders) into a RAPTOR :class:`~engine.model.Timetable`.

``timetable_from_gtfs`` reads one or several feeds, validates them the way MobilityData's GTFS
validator does (same notice codes), repairs what can be repaired without guessing, counts what it
drops, and hands plain trips to :func:`engine.transit.build.timetable_from_trips`, which groups
them into patterns and lays the stop times out stop-major.

Reading
-------
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

Rows and errors
---------------
A notice's ``row`` is the line number in the file, the header being row 1 and the first data row
row 2, as the validator's ``csvRowNumber`` (and a text editor) count them. Fatal problems raise
:class:`~loaders.report.LoaderError` naming the file, row, column and code, with the number of
further rows like it: missing required files or columns, unparsable CSV or invalid UTF-8,
duplicate keys, broken references between the core files (stop_times -> trips and stops, trips ->
routes and services, routes -> agencies, frequencies -> trips), invalid times, dates, numbers or
coordinates that the timetable needs, inconsistent timezones. Problems confined to one trip or
one optional record are repaired or dropped with a warning and counted with
:meth:`BuildReport.drop`:

* a stop time with only one of arrival/departure gets the other one (``stop_time_with_only_
  arrival_or_departure_time``); untimed intermediate stop times are interpolated linearly by
  ``shape_dist_traveled`` when the trip has it for every stop (and it never decreases), otherwise
  by straight-line distance between the stops, otherwise by stop count (``interpolated_times``);
* a trip whose first or last stop time has no time (``missing_trip_edge``), with fewer than two
  stop times (``unusable_trip``), without stop times (``unused_trip``) or whose times go backwards
  (``stop_time_with_arrival_before_previous_departure_time``) is dropped;
* a stop whose parent station does not exist keeps no parent (``foreign_key_violation``);
* a transfers.txt row naming an unknown stop is dropped (``foreign_key_violation``).

Model decisions
---------------
* Times are seconds after midnight of the service day; hours past 24 are kept (26:33:00 ->
  95,580 s).
* Calendars: ``service_active`` covers every day from the earliest to the latest date of the
  feed(s); calendar.txt weekdays between start and end dates, then calendar_dates.txt
  (1 adds, 2 removes). A feed with only calendar_dates.txt is valid. Trips whose service never runs
  are kept (the catalogue counts them) and reported (``service_never_active``).
* frequencies.txt: each (trip, start, end, headway) row becomes trips leaving the first stop at
  ``start, start + headway, ...`` strictly before ``end``, shifted copies of the template trip, with
  ids ``"<trip_id>@HH:MM:SS"``; ``exact_times`` 0 and 1 are expanded alike (a headway-based service
  is approximated by its schedule). Overlapping windows of one trip are reported
  (``overlapping_frequency``) and a departure time produced twice is kept once.
* transfers.txt (stations are expanded to their child stops): type 2 between different stops ->
  a footpath of ``min_transfer_time``; at one stop -> ``stop_min_transfer_s`` (the largest if
  several); type 3 -> a forbidden (from, to) pair; types 0 and 1 between different stops -> a
  footpath of ``min_transfer_time`` when given, else of the straight-line walking time
  (distance x 1.3 detour / 1.3 m/s, rounded up); at one stop they change nothing (counted). Types
  4 and 5 (in-seat) and type 3 rows restricted to routes or trips are dropped with a warning
  (applied to the whole stop they would forbid too much); other rows restricted to routes or
  trips are applied to the stops. Walking between nearby stops is not computed here.
* Stops: stations (location_type 1) and other locations are kept, linked by ``stop_parent_idx``;
  a child's wheelchair_boarding 0 inherits the parent's; entrances, nodes and boarding areas
  without coordinates take their parent's. Unused stops are kept (``unused_stop``); two stops
  closer than 2 m that share no parent are reported (``stops_too_close``).
* pickup_type/drop_off_type 1 forbid boarding/alighting; 0, 2 and 3 allow it.
* Route types are kept as written (extended types such as 700 or 715 included); colours become
  ``'RRGGBB'`` upper case, or ``''`` when missing or invalid (``invalid_color``).

Several feeds
-------------
Several feeds load into one timetable. With more than one feed every stop, route, trip and service
id is prefixed ``"<feed_id>:"`` (feed ids default to each path's stem, made unique with ``-2``,
``-3``...), and notices name files ``"<feed_id>/<file>"``. All feeds must share one timezone:
times are local to the service day and shifting one feed's clock across DST changes would be
guesswork, so different agency timezones stop the build (``inconsistent_agency_timezone``).
"""
from __future__ import annotations

import csv
import io
import zipfile
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
import scipy.spatial

from engine.model import NO_INDEX, LocalProjection, Timetable, haversine_m
from engine.transit.build import TripStopTimes, timetable_from_trips
from loaders.report import BuildReport, LoaderError

WALK_SPEED_MPS = 1.3
"""Walking speed for transfers.txt footpaths that give no time (the street graph's default)."""
WALK_DETOUR_FACTOR = 1.3
"""Street distance over straight-line distance for those footpaths (the network's default)."""
STOPS_TOO_CLOSE_M = 2.0
"""Two distinct stops closer than this, without a common parent, are reported."""

_EPOCH = np.datetime64("1970-01-01", "D")

# Files of the GTFS reference; anything else in a feed is reported as unknown.
KNOWN_FILES = frozenset({
    "agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt", "calendar.txt",
    "calendar_dates.txt", "fare_attributes.txt", "fare_rules.txt", "timeframes.txt",
    "rider_categories.txt", "fare_media.txt", "fare_products.txt", "fare_leg_rules.txt",
    "fare_leg_join_rules.txt", "fare_transfer_rules.txt", "areas.txt", "stop_areas.txt",
    "networks.txt", "route_networks.txt", "shapes.txt", "frequencies.txt", "transfers.txt",
    "pathways.txt", "levels.txt", "location_groups.txt", "location_group_stops.txt",
    "locations.geojson", "booking_rules.txt", "translations.txt", "feed_info.txt",
    "attributions.txt",
})

# Files this loader reads: (required columns, other known columns).
_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "agency.txt": (("agency_name", "agency_url", "agency_timezone"),
                   ("agency_id", "agency_lang", "agency_phone", "agency_fare_url", "agency_email",
                    "cemv_support")),
    "stops.txt": (("stop_id",),
                  ("stop_code", "stop_name", "tts_stop_name", "stop_desc", "stop_lat", "stop_lon",
                   "zone_id", "stop_url", "location_type", "parent_station", "stop_timezone",
                   "wheelchair_boarding", "level_id", "platform_code", "stop_access")),
    "routes.txt": (("route_id", "route_type"),
                   ("agency_id", "route_short_name", "route_long_name", "route_desc", "route_url",
                    "route_color", "route_text_color", "route_sort_order", "continuous_pickup",
                    "continuous_drop_off", "network_id", "cemv_support")),
    "trips.txt": (("route_id", "service_id", "trip_id"),
                  ("trip_headsign", "trip_short_name", "direction_id", "block_id", "shape_id",
                   "wheelchair_accessible", "bikes_allowed", "cars_allowed")),
    "stop_times.txt": (("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
                       ("stop_headsign", "pickup_type", "drop_off_type", "continuous_pickup",
                        "continuous_drop_off", "shape_dist_traveled", "timepoint",
                        "location_group_id", "location_id", "start_pickup_drop_off_window",
                        "end_pickup_drop_off_window", "pickup_booking_rule_id",
                        "drop_off_booking_rule_id")),
    "calendar.txt": (("service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                      "saturday", "sunday", "start_date", "end_date"), ()),
    "calendar_dates.txt": (("service_id", "date", "exception_type"), ()),
    "frequencies.txt": (("trip_id", "start_time", "end_time", "headway_secs"), ("exact_times",)),
    "transfers.txt": (("transfer_type",),
                      ("from_stop_id", "to_stop_id", "from_route_id", "to_route_id", "from_trip_id",
                       "to_trip_id", "min_transfer_time")),
}
_REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# ---------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------
def timetable_from_gtfs(paths: Sequence[str | Path] | str | Path, report: BuildReport, *,
                        feed_ids: Sequence[str] | None = None,
                        min_transfer_s_default: int | None = None) -> Timetable:
    """Read GTFS feeds (each a zip archive or a folder) into one RAPTOR timetable.

    ``paths`` are the feeds (a single path is accepted too). ``feed_ids`` names them (default: each
    path's stem, made unique); with several feeds every id is prefixed ``"<feed_id>:"``.
    ``min_transfer_s_default`` (seconds), when given, is the minimum transfer time of every stop
    that transfers.txt leaves unset (otherwise those stops keep -1: the planner's default).
    Warnings and drop counts go to ``report``. See the module docstring for what is repaired,
    dropped or refused.

    Raises LoaderError (file, row, column, validator code) for a feed that cannot be loaded, and
    ValueError naming the argument for bad arguments.

    >>> tt = timetable_from_gtfs(["monaco-gtfs.zip"], BuildReport())   # doctest: +SKIP
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("timetable_from_gtfs: paths is empty; give at least one GTFS zip or folder")
    if min_transfer_s_default is not None and min_transfer_s_default < 0:
        raise ValueError("timetable_from_gtfs: min_transfer_s_default must be >= 0 seconds")
    ids = _feed_ids(paths, feed_ids)
    several = len(paths) > 1
    feeds: list[_Feed] = []
    for path, fid in zip(paths, ids, strict=True):
        feed = _parse_feed(path, fid, report, prefix=f"{fid}:" if several else "",
                           label=f"{fid}/" if several else "")
        if feeds and feed.timezone != feeds[0].timezone:
            raise LoaderError.of(
                "inconsistent_agency_timezone",
                f"the feeds use different timezones: {feeds[0].feed_id} ({feeds[0].timezone}) and "
                f"{fid} ({feed.timezone}); one network has one timezone, so load these feeds into "
                "separate networks", file=f"{fid}/agency.txt", column="agency_timezone")
        feeds.append(feed)
    merged = _merge(feeds)
    if min_transfer_s_default is not None:
        unset = merged["stop_min_transfer_s"] < 0
        merged["stop_min_transfer_s"][unset] = int(min_transfer_s_default)
    return timetable_from_trips(**merged, timezone=feeds[0].timezone,
                                feed_ids=tuple(f.feed_id for f in feeds))


def _feed_ids(paths: list[Path], feed_ids: Sequence[str] | None) -> list[str]:
    if feed_ids is not None:
        ids = [str(f) for f in feed_ids]
        if len(ids) != len(paths):
            raise ValueError(f"timetable_from_gtfs: feed_ids has {len(ids)} names for "
                             f"{len(paths)} paths")
        if len(set(ids)) != len(ids) or any(not f or ":" in f for f in ids):
            raise ValueError("timetable_from_gtfs: feed_ids must be unique, non-empty and "
                             "without ':'")
        return ids
    ids: list[str] = []
    for p in paths:
        base = (p.name if p.is_dir() else p.stem).replace(":", "_") or "feed"
        name, k = base, 2
        while name in ids:
            name, k = f"{base}-{k}", k + 1
        ids.append(name)
    return ids


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------
class _Source:
    """The files of one feed, from a folder or a zip archive (files may sit in one subfolder)."""

    def __init__(self, path: Path, label: str, report: BuildReport):
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_dir():
            members = {p.name: p.name for p in path.iterdir() if p.is_file()}
        elif path.is_file():
            if not zipfile.is_zipfile(path):
                raise LoaderError.of("io_error", f"{path} is neither a zip archive nor a folder; "
                                     "a GTFS feed is a zip of .txt files or a folder of them",
                                     file=path.name)
            try:
                self._zip = zipfile.ZipFile(path)
                names = [n for n in self._zip.namelist() if not n.endswith("/")]
            except (zipfile.BadZipFile, OSError) as exc:
                raise LoaderError.of("io_error", f"cannot read the zip archive {path}: {exc}",
                                     file=path.name) from None
            names = [n for n in names if not n.startswith("__MACOSX/")]
            root = [n for n in names if "/" not in n]
            members = {n: n for n in root}
            if not any(n in KNOWN_FILES for n in root):
                folders = {n.rsplit("/", 1)[0] for n in names if "/" in n
                           and n.rsplit("/", 1)[1] in KNOWN_FILES}
                if len(folders) == 1:
                    folder = folders.pop()
                    members = {n.rsplit("/", 1)[1]: n for n in names
                               if n.rsplit("/", 1)[0] == folder}
                    report.warn("invalid_input_files_in_subfolder",
                                f"the feed's files are in the subfolder {folder!r} of the archive; "
                                "read from there", file=label + folder)
        else:
            raise LoaderError.of("io_error", f"{path} does not exist", file=str(path))
        self.members = members

    def has(self, name: str) -> bool:
        return name in self.members

    def read(self, name: str) -> bytes:
        try:
            if self._zip is not None:
                return self._zip.read(self.members[name])
            return (self.path / self.members[name]).read_bytes()
        except (OSError, zipfile.BadZipFile, KeyError) as exc:
            raise LoaderError.of("io_error", f"cannot read {name} from {self.path}: {exc}",
                                 file=name) from None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


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

    raw_header = [str(h) for h in df.iloc[0, : counts[0]]]
    header = [h.strip() for h in raw_header]
    if header != raw_header:
        bad = [h for h, r in zip(header, raw_header, strict=True) if h != r]
        report.warn("leading_or_trailing_whitespaces", f"spaces or control characters around the "
                    f"column name(s) {bad} removed", file=file, row=1, column=bad[0])
    known = set(_COLUMNS[name][0]) | set(_COLUMNS[name][1]) if name in _COLUMNS else set()
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

    data = df.iloc[1:]
    counts, lines = counts[1:], lines[1:]
    n_cols = len(header)
    keep = np.ones(len(data), dtype=bool)
    if width > n_cols:
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
    values = values.reset_index(drop=True)
    if required and len(values) == 0:
        raise LoaderError.of("empty_file", f"{name} has a header but no rows; it is required and "
                             "must have data", file=file, row=1)
    return _Table(file, values, lines)


# ---------------------------------------------------------------------------------------------
# Field parsing (vectorised); NaN means "empty"
# ---------------------------------------------------------------------------------------------
def _times_s(t: _Table, column: str, *, label: str = "time") -> np.ndarray:
    """H:MM:SS / HH:MM:SS / HHH:MM:SS to seconds (float, NaN when empty); invalid -> invalid_time."""
    s = t.text(column)
    n = len(s)
    empty = (s == "").to_numpy()
    lens = s.str.len().to_numpy()
    ascii_ = s.str.isascii().to_numpy(dtype=bool)
    shaped = ~empty & (lens >= 7) & (lens <= 9) & ascii_
    padded = s.where(shaped, "000:00:00").str.zfill(9).to_numpy(dtype="S9")
    b = padded.view(np.uint8).reshape(n, 9).astype(np.int64) - ord("0")
    digits = b[:, [0, 1, 2, 4, 5, 7, 8]]
    ok = shaped & ((digits >= 0) & (digits <= 9)).all(axis=1) & (b[:, 3] == ord(":") - ord("0")) \
        & (b[:, 6] == ord(":") - ord("0"))
    minutes = b[:, 4] * 10 + b[:, 5]
    seconds = b[:, 7] * 10 + b[:, 8]
    ok &= (minutes < 60) & (seconds < 60)
    bad = ~empty & ~ok
    if bad.any():
        vals = t.values(column)
        t.error("invalid_time", bad, column,
                lambda i: f"{label} {vals[i]!r} is not a time H:MM:SS (hours may exceed 24)")
    out = (b[:, 0] * 100 + b[:, 1] * 10 + b[:, 2]) * 3600 + minutes * 60 + seconds
    return np.where(empty, np.nan, out.astype(np.float64))


def _days(t: _Table, column: str) -> np.ndarray:
    """YYYYMMDD to days since 1970-01-01 (int64); empty or invalid -> invalid_date / missing field."""
    s = t.text(column)
    empty = (s == "").to_numpy()
    if empty.any():
        t.error("missing_required_field", empty, column, lambda i: f"{column} is empty")
    parsed = pd.to_datetime(s.where(s.str.fullmatch(r"\d{8}"), None), format="%Y%m%d",
                            errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        vals = t.values(column)
        t.error("invalid_date", bad, column,
                lambda i: f"{column} {vals[i]!r} is not a date YYYYMMDD")
    return (parsed.to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64)


def _numbers(t: _Table, column: str, *, integer: bool, fatal: bool, report: BuildReport | None = None,
             ) -> np.ndarray:
    """Numbers as float (NaN when empty); invalid -> fatal invalid_integer/float, or warn and NaN."""
    s = t.text(column)
    if not t.has(column):
        return np.full(len(s), np.nan)
    v = np.array(pd.to_numeric(s.where(s != "", None), errors="coerce"), dtype=np.float64)
    bad = np.isnan(v) & (s != "").to_numpy()
    if integer:
        bad |= np.isfinite(v) & (v != np.round(v))
    bad |= np.isinf(v)
    if bad.any():
        code = "invalid_integer" if integer else "invalid_float"
        vals = t.values(column)
        kind = "an integer" if integer else "a number"
        if fatal:
            t.error(code, bad, column, lambda i: f"{column} {vals[i]!r} is not {kind}")
        t.warn(report, code, bad, column, lambda i: f"{column} {vals[i]!r} is not {kind}; ignored")
        v[bad] = np.nan
    return v


def _enum(t: _Table, column: str, allowed: Sequence[int], default: int,
          report: BuildReport | None = None, *, fatal: bool = False) -> np.ndarray:
    """An enumerated integer field (int64); empty -> default; unexpected -> warn and default
    (or unexpected_enum_value / invalid_integer when ``fatal``)."""
    v = _numbers(t, column, integer=True, fatal=fatal, report=report)
    bad = np.isfinite(v) & ~np.isin(v, allowed)
    if bad.any():
        vals = t.values(column)
        msg = lambda i: f"{column} {vals[i]!r} is not one of {list(allowed)}"  # noqa: E731
        if fatal:
            t.error("unexpected_enum_value", bad, column, msg)
        t.warn(report, "unexpected_enum_value", bad, column, lambda i: msg(i) + f"; read as {default}")
        v[bad] = np.nan
    return np.where(np.isnan(v), default, v).astype(np.int64)


def _ids(t: _Table, column: str, *, required: bool = True) -> np.ndarray:
    """An id column (object array of str); empty values -> missing_required_field when required."""
    vals = t.values(column)
    if required:
        empty = vals == ""
        if empty.any():
            t.error("missing_required_field", empty, column, lambda i: f"{column} is empty")
    return vals


def _unique(t: _Table, ids: np.ndarray, column: str) -> pd.Index:
    """The index of a primary key; duplicates -> duplicate_key (naming the second row)."""
    dup = pd.Index(ids).duplicated()
    if dup.any():
        t.error("duplicate_key", dup, column,
                lambda i: f"{column} {ids[i]!r} is defined twice (first at row "
                          f"{int(t.row[np.flatnonzero(ids == ids[i])[0]]):,})")
    return pd.Index(ids)


def _lookup(t: _Table, ids: np.ndarray, index: pd.Index, column: str, target: str) -> np.ndarray:
    """Foreign key -> position in ``index``; unknown -> foreign_key_violation."""
    pos = index.get_indexer(ids)
    bad = pos < 0
    if bad.any():
        t.error("foreign_key_violation", bad, column,
                lambda i: f"{column} {ids[i]!r} is not defined in {target}")
    return pos


def _color(t: _Table, column: str, report: BuildReport) -> np.ndarray:
    s = t.text(column).str.upper().str.removeprefix("#")
    ok = s.str.fullmatch(r"[0-9A-F]{6}").to_numpy(dtype=bool)
    empty = (s == "").to_numpy()
    vals = t.values(column)
    t.warn(report, "invalid_color", ~ok & ~empty, column,
           lambda i: f"{column} {vals[i]!r} is not a colour RRGGBB; left empty")
    return np.where(ok, s.to_numpy(dtype=object), "").astype(str)


# ---------------------------------------------------------------------------------------------
# One feed
# ---------------------------------------------------------------------------------------------
@dataclass
class _Feed:
    """One feed parsed into timetable_from_trips' arguments (indices local to the feed)."""

    feed_id: str
    timezone: str
    stops: dict
    lines: dict
    trips: TripStopTimes
    service_ids: np.ndarray
    service_first_day: int
    service_active: np.ndarray
    transfers: dict


def _parse_feed(path: Path, feed_id: str, report: BuildReport, *, prefix: str, label: str) -> _Feed:
    src = _Source(path, label, report)
    try:
        for name in sorted(src.members):
            if name not in KNOWN_FILES:
                report.warn("unknown_file", f"unknown file {name!r} ignored (not a GTFS file name)",
                            file=label + name)
        tables = {name: _read_table(src, name, label, report, required=name in _REQUIRED_FILES)
                  for name in (*_REQUIRED_FILES, "calendar.txt", "calendar_dates.txt",
                               "frequencies.txt", "transfers.txt")}
    finally:
        src.close()
    if tables["calendar.txt"] is None and tables["calendar_dates.txt"] is None:
        raise LoaderError.of("missing_calendar_and_calendar_date_files",
                             "the feed has neither calendar.txt nor calendar_dates.txt: no trip "
                             "could ever run", file=label + "calendar.txt")

    timezone, agency_index, agency_names = _agencies(tables["agency.txt"])
    stops = _stops(tables["stops.txt"], report)
    lines = _lines(tables["routes.txt"], agency_index, agency_names, report)
    service_ids, first_day, active = _calendar(tables["calendar.txt"], tables["calendar_dates.txt"])
    trips = _trips(tables["trips.txt"], tables["stop_times.txt"], tables["frequencies.txt"], stops,
                   lines, pd.Index(service_ids), active, report)
    _check_stops_usage(tables["stops.txt"], stops, trips, report)
    transfers = _transfers(tables["transfers.txt"], stops, report)

    stops = dict(stops)
    stops["stop_ids"] = np.asarray([prefix + s for s in stops["stop_ids"]], dtype=str)
    lines = dict(lines)
    lines["line_ids"] = np.asarray([prefix + s for s in lines["line_ids"]], dtype=str)
    if prefix:
        trips = TripStopTimes(**{**trips.__dict__,
                                 "trip_ids": np.char.add(prefix, trips.trip_ids.astype(str))})
        service_ids = np.char.add(prefix, service_ids.astype(str))
    return _Feed(feed_id, timezone, stops, lines, trips, service_ids, first_day, active, transfers)


def _agencies(t: _Table) -> tuple[str, pd.Index, np.ndarray]:
    """(timezone, agency_id index, agency names). Several agencies need ids and one timezone."""
    ids = t.values("agency_id") if t.has("agency_id") else np.full(len(t), "", dtype=object)
    if len(t) > 1:
        _ids(t, "agency_id")  # required when there are several agencies
        _unique(t, ids, "agency_id")
    zones = _ids(t, "agency_timezone")
    for i, zone in enumerate(zones):
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            t.error("invalid_timezone", np.arange(len(t)) == i, "agency_timezone",
                    lambda i: f"agency_timezone {zones[i]!r} is not an IANA timezone "
                              "(e.g. Europe/Paris)")
    other = zones != zones[0]
    if other.any():
        t.error("inconsistent_agency_timezone", other, "agency_timezone",
                lambda i: f"agency_timezone {zones[i]!r} differs from {zones[0]!r}: all agencies of "
                          "a feed must share one timezone")
    return str(zones[0]), pd.Index(ids), t.values("agency_name").astype(str)


def _stops(t: _Table, report: BuildReport) -> dict:
    ids = _ids(t, "stop_id")
    index = _unique(t, ids, "stop_id")
    loc = _enum(t, "location_type", (0, 1, 2, 3, 4), 0, fatal=True)
    lat = _numbers(t, "stop_lat", integer=False, fatal=True)
    lon = _numbers(t, "stop_lon", integer=False, fatal=True)
    for col, v, bound in (("stop_lat", lat, 90.0), ("stop_lon", lon, 180.0)):
        out = np.abs(v) > bound
        if out.any():
            vals = t.values(col)
            t.error("number_out_of_range", out, col,
                    lambda i, col=col, vals=vals, bound=bound:
                    f"{col} {vals[i]} is outside [-{bound:g}, {bound:g}] (stop_id {ids[i]!r})")
    needs_xy = loc <= 2
    for col, v in (("stop_lat", lat), ("stop_lon", lon)):
        missing = needs_xy & np.isnan(v)
        if missing.any():
            t.error("missing_required_field", missing, col,
                    lambda i, col=col: f"{col} is required for stop_id {ids[i]!r} "
                                       f"(location_type {loc[i]})")
    t.warn(report, "point_near_origin", (np.abs(lat) < 1) & (np.abs(lon) < 1), "stop_lat",
           lambda i: f"stop_id {ids[i]!r} lies at ({lon[i]}, {lat[i]}), near (0, 0)")

    parent_ids = t.values("parent_station")
    parent = index.get_indexer(parent_ids)
    has_parent = parent_ids != ""
    unknown = has_parent & (parent < 0)
    t.warn(report, "foreign_key_violation", unknown, "parent_station",
           lambda i: f"parent_station {parent_ids[i]!r} of stop {ids[i]!r} is not defined in "
                     "stops.txt; the stop keeps no parent")
    parent = np.where(has_parent & ~unknown, parent, NO_INDEX)
    expected = np.where(loc == 4, 0, 1)  # boarding areas belong to platforms, others to stations
    linked = parent >= 0
    wrong = linked & (loc[np.where(linked, parent, 0)] != expected)
    t.warn(report, "wrong_parent_location_type", wrong, "parent_station",
           lambda i: f"parent_station {parent_ids[i]!r} of stop {ids[i]!r} (location_type "
                     f"{loc[i]}) has location_type {loc[parent[i]]}, expected {expected[i]}")

    # Entrances, nodes and boarding areas may lack coordinates: use the parent's (two levels).
    for _ in range(2):
        fill = np.isnan(lat) & linked
        lat[fill] = lat[parent[fill]]
        lon[fill] = lon[parent[fill]]
    no_xy = np.isnan(lat) | np.isnan(lon)
    wheel = _enum(t, "wheelchair_boarding", (0, 1, 2), 0, report)
    inherit = (wheel == 0) & linked
    wheel[inherit] = wheel[parent[inherit]]
    names = t.values("stop_name").astype(str)
    stops = {"stop_ids": ids.astype(str), "stop_name": names, "stop_lon": lon, "stop_lat": lat,
             "stop_location_type": loc.astype(np.int8), "stop_parent_idx": parent.astype(np.int32),
             "stop_wheelchair": wheel.astype(np.int8),
             "stop_min_transfer_s": np.full(len(t), -1, dtype=np.int32)}
    if no_xy.any():
        # only locations of type 3/4 without a located parent get here; nothing can route to them
        t.warn(report, "missing_coordinates", no_xy, "stop_lat",
               lambda i: f"location {ids[i]!r} (location_type {loc[i]}) has no coordinates and no "
                         "located parent; dropped")
        report.drop("stops", "no coordinates, none inherited from a parent", int(no_xy.sum()))
        keep = np.flatnonzero(~no_xy)
        new_pos = np.full(len(t), NO_INDEX, dtype=np.int64)
        new_pos[keep] = np.arange(keep.size)
        stops = {k: v[keep] for k, v in stops.items()}
        p = stops["stop_parent_idx"]
        stops["stop_parent_idx"] = np.where(p >= 0, new_pos[np.maximum(p, 0)], NO_INDEX).astype(np.int32)
        stops["_row"] = t.row[keep]
    else:
        stops["_row"] = t.row
    stops["_index"] = pd.Index(stops["stop_ids"])
    return stops


def _lines(t: _Table, agency_index: pd.Index, agency_names: np.ndarray, report: BuildReport) -> dict:
    ids = _ids(t, "route_id")
    _unique(t, ids, "route_id")
    rtype = _numbers(t, "route_type", integer=True, fatal=True)
    if np.isnan(rtype).any():
        t.error("missing_required_field", np.isnan(rtype), "route_type",
                lambda i: f"route_type is empty (route_id {ids[i]!r})")
    out = (rtype < 0) | (rtype > np.iinfo(np.int16).max)
    if out.any():
        t.error("number_out_of_range", out, "route_type",
                lambda i: f"route_type {int(rtype[i])} is not a GTFS route type (route_id {ids[i]!r})")
    # basic types 0-7, 11, 12 and the extended (Google/HVT) types 100-1799; others kept, reported
    known = np.isin(rtype, (0, 1, 2, 3, 4, 5, 6, 7, 11, 12)) | ((rtype >= 100) & (rtype < 1800))
    t.warn(report, "unexpected_enum_value", ~known, "route_type",
           lambda i: f"route_type {int(rtype[i])} is neither a basic nor an extended GTFS route "
                     f"type (route_id {ids[i]!r}); kept as written")
    agency = t.values("agency_id")
    if len(agency_index) > 1:
        empty = agency == ""
        if empty.any():
            t.error("missing_required_field", empty, "agency_id",
                    lambda i: f"agency_id is required when agency.txt lists several agencies "
                              f"(route_id {ids[i]!r})")
    pos = np.where(agency == "", 0, agency_index.get_indexer(agency))
    bad = pos < 0
    if bad.any():
        t.error("foreign_key_violation", bad, "agency_id",
                lambda i: f"agency_id {agency[i]!r} is not defined in agency.txt (route_id {ids[i]!r})")
    short = t.values("route_short_name")
    long_ = t.values("route_long_name")
    t.warn(report, "route_both_short_and_long_name_missing", (short == "") & (long_ == ""),
           "route_short_name", lambda i: f"route {ids[i]!r} has neither a short nor a long name")
    t.warn(report, "route_short_and_long_name_equal", (short != "") & (short == long_),
           "route_long_name", lambda i: f"route {ids[i]!r}: short and long names are both "
                                        f"{short[i]!r}")
    key = pd.Series(short).str.cat(pd.Series(long_), sep="\x1f")
    dup = key.duplicated().to_numpy() & ((short != "") | (long_ != ""))
    t.warn(report, "duplicate_route_name", dup, "route_long_name",
           lambda i: f"route {ids[i]!r} has the same names ({short[i]!r}, {long_[i]!r}) as another "
                     "route")
    return {"line_ids": ids.astype(str), "line_short_name": short.astype(str),
            "line_long_name": long_.astype(str),
            "line_type": rtype.astype(np.int16),
            "line_color": _color(t, "route_color", report),
            "line_text_color": _color(t, "route_text_color", report),
            "line_agency": agency_names[pos], "_index": pd.Index(ids)}


def _calendar(cal: _Table | None, dates: _Table | None) -> tuple[np.ndarray, int, np.ndarray]:
    """(service ids, first day, (n_services, n_days) activity) from both calendar files."""
    ids: list[str] = []
    if cal is not None:
        cal_ids = _ids(cal, "service_id")
        _unique(cal, cal_ids, "service_id")
        flags = np.stack([_enum(cal, d, (0, 1), 0, fatal=True) for d in _WEEKDAYS],
                         axis=1).astype(bool)
        for d in _WEEKDAYS:
            empty = (cal.text(d) == "").to_numpy()
            if empty.any():
                cal.error("missing_required_field", empty, d, lambda i, d=d: f"{d} is empty")
        start, end = _days(cal, "start_date"), _days(cal, "end_date")
        if (end < start).any():
            cal.error("start_and_end_range_out_of_order", end < start, "end_date",
                      lambda i: f"service {cal_ids[i]!r} ends before it starts")
        ids.extend(cal_ids.tolist())
    if dates is not None:
        d_ids = _ids(dates, "service_id")
        d_day = _days(dates, "date")
        d_type = _enum(dates, "exception_type", (1, 2), 0, fatal=True)
        if (d_type == 0).any():
            dates.error("missing_required_field", d_type == 0, "exception_type",
                        lambda i: "exception_type is empty")
        dup = pd.DataFrame({"s": d_ids, "d": d_day}).duplicated().to_numpy()
        if dup.any():
            dates.error("duplicate_key", dup, "date",
                        lambda i: f"service {d_ids[i]!r} has two exceptions on the same date")
        ids.extend(pd.unique(d_ids[~pd.Index(d_ids).isin(ids)]).tolist())
    service_ids = np.asarray(ids, dtype=str)
    index = pd.Index(service_ids)
    all_days = [a for a in ([start, end] if cal is not None else []) + ([d_day] if dates is not None
                                                                         else []) if a.size]
    if not all_days:
        return service_ids, 0, np.zeros((len(ids), 0), dtype=bool)
    first = int(min(a.min() for a in all_days))
    last = int(max(a.max() for a in all_days))
    day = np.arange(first, last + 1, dtype=np.int64)
    active = np.zeros((len(ids), day.size), dtype=bool)
    if cal is not None and len(cal):
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        rows = index.get_indexer(cal_ids)
        active[rows] = ((day[None, :] >= start[:, None]) & (day[None, :] <= end[:, None])
                        & flags[:, weekday])
    if dates is not None and len(dates):
        rows = index.get_indexer(d_ids)
        active[rows, d_day - first] = d_type == 1
    return service_ids, first, active


def _trips(trips_t: _Table, st: _Table, freq: _Table | None, stops: dict, lines: dict,
           services: pd.Index, active: np.ndarray, report: BuildReport) -> TripStopTimes:
    """Trips with their stop times: checked, repaired, interpolated, frequencies expanded."""
    trip_ids = _ids(trips_t, "trip_id")
    trip_index = _unique(trips_t, trip_ids, "trip_id")
    route = _lookup(trips_t, _ids(trips_t, "route_id"), lines["_index"], "route_id", "routes.txt")
    service = _lookup(trips_t, _ids(trips_t, "service_id"), services, "service_id",
                      "calendar.txt or calendar_dates.txt")
    wheel = _enum(trips_t, "wheelchair_accessible", (0, 1, 2), 0, report)
    bikes = _enum(trips_t, "bikes_allowed", (0, 1, 2), 0, report)
    headsign = trips_t.values("trip_headsign").astype(str)
    n_trips = len(trips_t)

    # stop_times, checked and sorted by (trip, stop_sequence)
    trip = _lookup(st, _ids(st, "trip_id"), trip_index, "trip_id", "trips.txt")
    stop_ids = _ids(st, "stop_id")
    stop = _lookup(st, stop_ids, stops["_index"], "stop_id", "stops.txt")
    seq = _numbers(st, "stop_sequence", integer=True, fatal=True)
    if np.isnan(seq).any():
        st.error("missing_required_field", np.isnan(seq), "stop_sequence",
                 lambda i: "stop_sequence is empty")
    st.warn(report, "number_out_of_range", seq < 0, "stop_sequence",
            lambda i: f"stop_sequence {int(seq[i])} is negative; kept, since it only orders the "
                      "trip's stops")
    loc = stops["stop_location_type"][stop]
    st.warn(report, "wrong_stop_time_stop_location_type", loc != 0, "stop_id",
            lambda i: f"stop_id {stop_ids[i]!r} has location_type {loc[i]}; stop times should "
                      "name stops or platforms (location_type 0); kept")
    arr = _times_s(st, "arrival_time", label="arrival_time")
    dep = _times_s(st, "departure_time", label="departure_time")
    pickup = _enum(st, "pickup_type", (0, 1, 2, 3), 0, report)
    dropoff = _enum(st, "drop_off_type", (0, 1, 2, 3), 0, report)
    dist = _numbers(st, "shape_dist_traveled", integer=False, fatal=False, report=report)
    timepoint = _enum(st, "timepoint", (0, 1), 0, report) if st.has("timepoint") else None
    row = st.row
    order = np.lexsort((seq, trip))
    trip, stop, seq, arr, dep, pickup, dropoff, dist, row = (
        a[order] for a in (trip, stop, seq, arr, dep, pickup, dropoff, dist, row))
    if timepoint is not None:
        timepoint = timepoint[order]
    same = trip[1:] == trip[:-1]
    dup = np.r_[False, same & (seq[1:] == seq[:-1])]
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise LoaderError.of("duplicate_key",
                             f"trip {trip_ids[trip[i]]!r} has two stop times with stop_sequence "
                             f"{int(seq[i])} (rows {min(row[i - 1], row[i]):,} and "
                             f"{max(row[i - 1], row[i]):,})", file=st.file,
                             row=int(max(row[i - 1], row[i])), column="stop_sequence",
                             more=int(dup.sum()) - 1)

    def warn_sorted(code, mask, column, message):
        where = np.flatnonzero(mask)
        if where.size:
            i = int(where[0])
            text = message(i) + (f" ({where.size:,} rows like this)" if where.size > 1 else "")
            report.warn(code, text, file=st.file, row=int(row[i]), column=column,
                        count=int(where.size))

    one = np.isnan(arr) != np.isnan(dep)
    warn_sorted("stop_time_with_only_arrival_or_departure_time", one,
                "departure_time" if np.isnan(dep[one]).any() else "arrival_time",
                lambda i: f"trip {trip_ids[trip[i]]!r} stop_sequence {int(seq[i])} has only one of "
                          "arrival_time/departure_time; the other is set equal")
    arr = np.where(np.isnan(arr), dep, arr)
    dep = np.where(np.isnan(dep), arr, dep)
    if timepoint is not None:
        warn_sorted("stop_time_timepoint_without_times", (timepoint == 1) & np.isnan(arr),
                    "arrival_time",
                    lambda i: f"trip {trip_ids[trip[i]]!r} stop_sequence {int(seq[i])} is a "
                              "timepoint without times; interpolated")

    # per-trip checks: edges, length, untimed stops; drop whole trips
    starts = np.flatnonzero(np.r_[True, ~same]) if trip.size else np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], trip.size]
    trip_of_block = trip[starts]
    drop_trip = np.zeros(n_trips, dtype=bool)

    def drop(mask_blocks, code, column, what, message, at_end=None):
        where = np.flatnonzero(mask_blocks)
        if where.size:
            b = int(where[0])
            i = int(starts[b] if at_end is None or not at_end[b] else ends[b] - 1)
            text = message(b, i) + (f" ({where.size:,} trips like this)" if where.size > 1 else "")
            report.warn(code, text, file=st.file, row=int(row[i]), column=column,
                        count=int(where.size))
            report.drop("trips", what, int(where.size))
            drop_trip[trip_of_block[where]] = True

    short = (ends - starts) < 2
    drop(short, "unusable_trip", "trip_id", "unusable_trip: fewer than two stop times",
         lambda b, i: f"trip {trip_ids[trip_of_block[b]]!r} has a single stop time; dropped")
    edge_first = np.isnan(arr[starts])
    edge_last = np.isnan(arr[ends - 1])
    drop((edge_first | edge_last) & ~short, "missing_trip_edge", "arrival_time",
         "missing_trip_edge: first or last stop time without times",
         lambda b, i: f"trip {trip_ids[trip_of_block[b]]!r}: its "
                      f"{'first' if edge_first[b] else 'last'} stop time has no arrival or "
                      "departure time, which cannot be inferred; dropped", at_end=~edge_first)
    no_times = np.ones(n_trips, dtype=bool)
    no_times[trip] = False
    if no_times.any():
        i = int(np.flatnonzero(no_times)[0])
        report.warn("unused_trip", f"trip {trip_ids[i]!r} has no stop times; dropped"
                    + (f" ({int(no_times.sum()):,} trips like this)" if no_times.sum() > 1 else ""),
                    file=trips_t.file, row=int(trips_t.row[i]), column="trip_id",
                    count=int(no_times.sum()))
        report.drop("trips", "unused_trip: no stop times", int(no_times.sum()))
        drop_trip |= no_times

    def keep_stop_times(keep_trips: np.ndarray):
        nonlocal trip, stop, seq, arr, dep, pickup, dropoff, dist, row
        k = keep_trips[trip]
        trip, stop, seq, arr, dep, pickup, dropoff, dist, row = (
            a[k] for a in (trip, stop, seq, arr, dep, pickup, dropoff, dist, row))

    keep_stop_times(~drop_trip)
    starts = np.flatnonzero(np.r_[True, trip[1:] != trip[:-1]]) if trip.size else starts[:0]
    ends = np.r_[starts[1:], trip.size]

    missing = np.isnan(arr)
    if missing.any():
        arr, dep = _interpolate(trip, stop, dist, arr, dep, starts, ends, stops)
        warn_sorted("interpolated_times", missing, "arrival_time",
                    lambda i: f"trip {trip_ids[trip[i]]!r} stop_sequence {int(seq[i])} has no times; "
                              "interpolated between the timed stops around it")

    # times must not go backwards
    trip_first = np.zeros(trip.size, dtype=bool)
    trip_first[starts] = True
    back = np.r_[False, ~trip_first[1:] & (arr[1:] < dep[:-1])] | (dep < arr)
    if back.any():
        bad_trips = np.unique(trip[back])
        i = int(np.flatnonzero(back)[0])
        report.warn("stop_time_with_arrival_before_previous_departure_time",
                    f"trip {trip_ids[trip[i]]!r} goes back in time at stop_sequence {int(seq[i])}; "
                    "dropped" + (f" ({bad_trips.size:,} trips like this)" if bad_trips.size > 1 else ""),
                    file=st.file, row=int(row[i]), column="arrival_time", count=int(bad_trips.size))
        report.drop("trips", "times going backwards", int(bad_trips.size))
        drop_trip[bad_trips] = True
        keep_stop_times(~drop_trip)
        starts = np.flatnonzero(np.r_[True, trip[1:] != trip[:-1]]) if trip.size else starts[:0]
        ends = np.r_[starts[1:], trip.size]

    never = ~active.any(axis=1)[service] & ~drop_trip
    trips_t.warn(report, "service_never_active", never, "service_id",
                 lambda i: f"trip {trip_ids[i]!r}: its service {trips_t.values('service_id')[i]!r} "
                           "runs on no day; kept")

    arr_i = arr.astype(np.int64)
    dep_i = dep.astype(np.int64)
    kept = np.flatnonzero(~drop_trip)
    # trip -> its block of sorted stop times
    block_start = np.full(n_trips, -1, dtype=np.int64)
    block_len = np.zeros(n_trips, dtype=np.int64)
    block_start[trip[starts]] = starts
    block_len[trip[starts]] = ends - starts

    out_trip = kept
    out_shift = np.zeros(kept.size, dtype=np.int64)
    out_ids = trip_ids[kept].astype(str)
    if freq is not None and len(freq):
        out_trip, out_shift, out_ids = _expand_frequencies(
            freq, trip_index, trip_ids, drop_trip, dep_i, block_start, report, kept)

    lengths = block_len[out_trip]
    offsets = np.zeros(out_trip.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    src = np.repeat(block_start[out_trip] - offsets[:-1], lengths) + np.arange(offsets[-1])
    shift = np.repeat(out_shift, lengths)
    return TripStopTimes(
        trip_ids=np.asarray(out_ids, dtype=str),
        trip_line_idx=route[out_trip].astype(np.int32),
        trip_service_idx=service[out_trip].astype(np.int32),
        trip_wheelchair=wheel[out_trip].astype(np.int8),
        trip_bikes_allowed=bikes[out_trip].astype(np.int8),
        trip_headsign=headsign[out_trip],
        st_offsets=offsets,
        st_stop_idx=stop[src].astype(np.int32),
        st_arrival_s=(arr_i[src] + shift).astype(np.int32),
        st_departure_s=(dep_i[src] + shift).astype(np.int32),
        st_can_board=pickup[src] != 1,
        st_can_alight=dropoff[src] != 1,
    )


def _interpolate(trip, stop, dist, arr, dep, starts, ends, stops) -> tuple[np.ndarray, np.ndarray]:
    """Fill untimed stop times linearly between the timed ones around them (same trip)."""
    n = trip.size
    idx = np.arange(n)
    timed = ~np.isnan(arr)
    prev = np.maximum.accumulate(np.where(timed, idx, -1))
    nxt = np.minimum.accumulate(np.where(timed, idx, n)[::-1])[::-1]
    # cumulative distance along each trip: shape_dist_traveled if complete and non-decreasing
    lon = stops["stop_lon"][stop]
    lat = stops["stop_lat"][stop]
    seg = np.zeros(n)
    seg[1:] = haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    seg[starts] = 0.0
    trip_no = np.repeat(np.arange(starts.size), ends - starts)
    d_seg = np.zeros(n)
    d_seg[1:] = np.diff(dist)
    d_seg[starts] = 0.0
    bad_dist = np.isnan(dist) | (d_seg < 0)
    use_shape = ~np.bincount(trip_no, weights=bad_dist, minlength=starts.size).astype(bool)
    step = np.where(use_shape[trip_no], d_seg, seg)
    cum = np.cumsum(step)
    cum -= np.repeat(cum[starts], ends - starts)
    p, q = np.clip(prev, 0, n - 1), np.clip(nxt, 0, n - 1)
    span = cum[q] - cum[p]
    frac = np.where(span > 0, (cum - cum[p]) / np.where(span > 0, span, 1.0),
                    (idx - p) / np.maximum(q - p, 1))
    t = np.round(dep[p] + frac * (arr[q] - dep[p]))
    fill = ~timed
    arr = np.where(fill, t, arr)
    dep = np.where(fill, t, dep)
    return arr, dep


def _expand_frequencies(freq: _Table, trip_index: pd.Index, trip_ids: np.ndarray,
                        drop_trip: np.ndarray, dep_i: np.ndarray, block_start: np.ndarray,
                        report: BuildReport, kept: np.ndarray):
    """(template trip, time shift, id) of every trip: frequency-based ones expanded, others kept."""
    f_trip = _lookup(freq, _ids(freq, "trip_id"), trip_index, "trip_id", "trips.txt")
    start = _times_s(freq, "start_time", label="start_time")
    end = _times_s(freq, "end_time", label="end_time")
    for col, v in (("start_time", start), ("end_time", end)):
        if np.isnan(v).any():
            freq.error("missing_required_field", np.isnan(v), col, lambda i, col=col: f"{col} is empty")
    headway = _numbers(freq, "headway_secs", integer=True, fatal=True)
    bad = np.isnan(headway) | (headway <= 0)
    if bad.any():
        vals = freq.values("headway_secs")
        freq.error("number_out_of_range", bad, "headway_secs",
                   lambda i: f"headway_secs {vals[i]!r} must be a positive number of seconds")
    _enum(freq, "exact_times", (0, 1), 0, report)  # both expanded alike; checked for the report
    row_ok = np.ones(len(freq), dtype=bool)
    empty_window = end <= start
    n_bad = freq.warn(report, "start_and_end_range_out_of_order", empty_window, "end_time",
                      lambda i: f"frequency window of trip {trip_ids[f_trip[i]]!r} ends before "
                                "or when it starts; ignored")
    report.drop("frequencies.txt rows", "empty time window", n_bad)
    row_ok &= ~empty_window
    gone = drop_trip[f_trip] & row_ok
    n_gone = freq.warn(report, "frequency_of_dropped_trip", gone, "trip_id",
                       lambda i: f"template trip {trip_ids[f_trip[i]]!r} was dropped (see above); "
                                 "its frequencies are ignored")
    report.drop("frequencies.txt rows", "template trip dropped", n_gone)
    row_ok &= ~gone

    # overlapping windows of one trip (validator: overlapping_frequency)
    ok_rows = np.flatnonzero(row_ok)
    o = ok_rows[np.lexsort((start[ok_rows], f_trip[ok_rows]))]
    overlap = np.zeros(len(freq), dtype=bool)
    if o.size > 1:
        same = f_trip[o[1:]] == f_trip[o[:-1]]
        overlap[o[1:][same & (start[o[1:]] < end[o[:-1]])]] = True
    freq.warn(report, "overlapping_frequency", overlap, "start_time",
              lambda i: f"frequency windows of trip {trip_ids[f_trip[i]]!r} overlap; departures "
                        "from both are kept (a time produced twice once)")

    rows = ok_rows
    counts = np.ceil((end[rows] - start[rows]) / headway[rows]).astype(np.int64)
    rep = np.repeat(rows, counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    first_s = (start[rep] + k * headway[rep]).astype(np.int64)
    tpl = f_trip[rep]
    dedup = pd.DataFrame({"t": tpl, "s": first_s}).duplicated().to_numpy()
    if dedup.any():
        report.drop("trips", "frequency departure produced twice by overlapping windows",
                    int(dedup.sum()))
        tpl, first_s = tpl[~dedup], first_s[~dedup]
    order = np.lexsort((first_s, tpl))
    tpl, first_s = tpl[order], first_s[order]
    shift = first_s - dep_i[block_start[tpl]]
    hhmmss = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in first_s.tolist()]
    new_ids = np.asarray([f"{trip_ids[t]}@{h}" for t, h in zip(tpl.tolist(), hhmmss, strict=True)],
                         dtype=object)
    templates = np.zeros(len(trip_ids), dtype=bool)
    templates[f_trip[rows]] = True
    plain = kept[~templates[kept]]
    out_trip = np.r_[plain, tpl].astype(np.int64)
    out_shift = np.r_[np.zeros(plain.size, dtype=np.int64), shift]
    out_ids = np.r_[trip_ids[plain], new_ids].astype(str)
    return out_trip, out_shift, out_ids


def _check_stops_usage(t: _Table, stops: dict, trips: TripStopTimes, report: BuildReport) -> None:
    """Warnings only: unused stops, and distinct stops at (almost) the same place."""
    used = np.zeros(len(stops["stop_ids"]), dtype=bool)
    used[trips.st_stop_idx] = True
    is_stop = stops["stop_location_type"] == 0
    unused = is_stop & ~used
    if unused.any():
        i = int(np.flatnonzero(unused)[0])
        n = int(unused.sum())
        report.warn("unused_stop", f"stop {str(stops['stop_ids'][i])!r} is served by no trip; kept"
                    + (f" ({n:,} stops like this)" if n > 1 else ""),
                    file=t.file, row=int(stops["_row"][i]), column="stop_id", count=n)
    pos = np.flatnonzero(is_stop)
    if pos.size > 1:
        proj = LocalProjection.around(stops["stop_lon"][pos], stops["stop_lat"][pos])
        x, y = proj.to_xy_m(stops["stop_lon"][pos], stops["stop_lat"][pos])
        pairs = scipy.spatial.cKDTree(np.c_[x, y]).query_pairs(STOPS_TOO_CLOSE_M, output_type="ndarray")
        if pairs.size:
            a, b = pos[pairs[:, 0]], pos[pairs[:, 1]]
            pa, pb = stops["stop_parent_idx"][a], stops["stop_parent_idx"][b]
            close = ~((pa == pb) & (pa >= 0))
            if close.any():
                j = int(np.flatnonzero(close)[0])
                i, k = sorted((int(a[j]), int(b[j])))
                n = int(close.sum())
                report.warn("stops_too_close",
                            f"stops {str(stops['stop_ids'][i])!r} and {str(stops['stop_ids'][k])!r} are less "
                            f"than {STOPS_TOO_CLOSE_M:g} m apart without a common parent station "
                            "(the same stop twice?); both kept"
                            + (f" ({n:,} pairs like this)" if n > 1 else ""),
                            file=t.file, row=int(stops["_row"][k]), column="stop_id", count=n)


def _transfers(t: _Table | None, stops: dict, report: BuildReport) -> dict:
    """transfers.txt -> footpaths, per-stop minimum transfer times and forbidden pairs."""
    out = {"transfer_from_stop": np.zeros(0, dtype=np.int64),
           "transfer_to_stop": np.zeros(0, dtype=np.int64),
           "transfer_time_s": np.zeros(0, dtype=np.int64),
           "forbidden_from_stop": np.zeros(0, dtype=np.int64),
           "forbidden_to_stop": np.zeros(0, dtype=np.int64)}
    if t is None:
        return out
    what = "transfers.txt rows"
    raw_type = _numbers(t, "transfer_type", integer=True, fatal=False, report=report)
    odd = np.isfinite(raw_type) & ~np.isin(raw_type, (0, 1, 2, 3, 4, 5))
    n = t.warn(report, "unexpected_enum_value", odd, "transfer_type",
               lambda i: f"transfer_type {t.values('transfer_type')[i]!r} is not 0-5; row ignored")
    report.drop(what, "unexpected transfer_type", n)
    ok = ~odd & ~(np.isnan(raw_type) & (t.text("transfer_type") != "").to_numpy())
    ttype = np.where(np.isfinite(raw_type), raw_type, 0).astype(np.int64)  # empty means 0
    min_time = _numbers(t, "min_transfer_time", integer=True, fatal=False, report=report)
    neg = min_time < 0
    t.warn(report, "number_out_of_range", neg, "min_transfer_time",
           lambda i: "min_transfer_time is negative; ignored")
    min_time[neg] = np.nan
    from_ids, to_ids = t.values("from_stop_id"), t.values("to_stop_id")
    from_s = stops["_index"].get_indexer(from_ids)
    to_s = stops["_index"].get_indexer(to_ids)
    in_seat = ok & (ttype >= 4)
    n = t.warn(report, "unsupported_transfer_type", in_seat, "transfer_type",
               lambda i: f"transfer_type {ttype[i]} (in-seat transfer between trips) is not "
                         "modelled; row ignored")
    report.drop(what, "in-seat transfer (type 4/5) not modelled", n)
    ok &= ~in_seat
    for col, ids, pos in (("from_stop_id", from_ids, from_s), ("to_stop_id", to_ids, to_s)):
        empty = ok & (ids == "")
        n = t.warn(report, "missing_required_field", empty, col,
                   lambda i, col=col: f"{col} is empty; row ignored")
        report.drop(what, f"{col} empty", n)
        ok &= ~empty
        unknown = ok & (pos < 0)
        n = t.warn(report, "foreign_key_violation", unknown, col,
                   lambda i, col=col, ids=ids: f"{col} {ids[i]!r} is not defined in stops.txt; "
                                               "row ignored")
        report.drop(what, f"{col} not in stops.txt", n)
        ok &= ~unknown
    specific = np.zeros(len(t), dtype=bool)
    for col in ("from_route_id", "to_route_id", "from_trip_id", "to_trip_id"):
        specific |= (t.text(col) != "").to_numpy()
    forbid_specific = ok & specific & (ttype == 3)
    n = t.warn(report, "unsupported_transfer_specificity", forbid_specific, "from_route_id",
               lambda i: "a forbidden transfer restricted to routes or trips would forbid every "
                         "transfer between these stops; row ignored")
    report.drop(what, "route/trip-specific forbidden transfer not modelled", n)
    ok &= ~forbid_specific
    kept_specific = ok & specific
    t.warn(report, "transfer_specificity_ignored", kept_specific, "from_route_id",
           lambda i: "transfer restricted to routes or trips applied to all routes at these stops")

    # expand stations to their child stops (location_type 0)
    loc = stops["stop_location_type"]
    parent = stops["stop_parent_idx"]
    children = pd.Series(np.arange(len(loc)))[(loc == 0) & (parent >= 0)]
    by_parent = children.groupby(parent[children.to_numpy()]).apply(list).to_dict()

    def expand(s: int) -> list[int]:
        return by_parent.get(s, []) if loc[s] == 1 else [s]

    rows = np.flatnonzero(ok)
    f_list, t_list, typ, tim = [], [], [], []
    childless = np.zeros(len(t), dtype=bool)
    for r in rows.tolist():  # one Python step per transfers.txt row (not per stop time)
        fs, ts = expand(int(from_s[r])), expand(int(to_s[r]))
        if not fs or not ts:
            childless[r] = True
            continue
        for a in fs:
            for b in ts:
                f_list.append(a)
                t_list.append(b)
                typ.append(ttype[r])
                tim.append(min_time[r])
    n = t.warn(report, "station_without_stops", childless, "from_stop_id",
               lambda i: "the transfer names a station without child stops; row ignored")
    report.drop(what, "station without child stops", n)
    f_arr = np.asarray(f_list, dtype=np.int64)
    t_arr = np.asarray(t_list, dtype=np.int64)
    typ_arr = np.asarray(typ, dtype=np.int64)
    tim_arr = np.asarray(tim, dtype=np.float64)
    same = f_arr == t_arr

    forbid = typ_arr == 3
    out["forbidden_from_stop"], out["forbidden_to_stop"] = f_arr[forbid], t_arr[forbid]
    at_stop = same & (typ_arr == 2) & ~np.isnan(tim_arr)
    mts = stops["stop_min_transfer_s"]
    np.maximum.at(mts, f_arr[at_stop], tim_arr[at_stop].astype(np.int32))
    no_effect = same & ~forbid & ~at_stop
    if no_effect.any():
        report.drop("transfers.txt rows (after station expansion)",
                    "transfer within one stop without a minimum time: no effect on routing",
                    int(no_effect.sum()))
    walk = ~same & ~forbid
    time_s = tim_arr[walk]
    guess = np.isnan(time_s)
    if guess.any():
        a, b = f_arr[walk][guess], t_arr[walk][guess]
        d = haversine_m(stops["stop_lon"][a], stops["stop_lat"][a],
                        stops["stop_lon"][b], stops["stop_lat"][b])
        time_s[guess] = np.ceil(d * WALK_DETOUR_FACTOR / WALK_SPEED_MPS)
    out["transfer_from_stop"] = f_arr[walk]
    out["transfer_to_stop"] = t_arr[walk]
    out["transfer_time_s"] = time_s.astype(np.int64)
    return out


# ---------------------------------------------------------------------------------------------
# Several feeds -> one set of arrays
# ---------------------------------------------------------------------------------------------
def _merge(feeds: list[_Feed]) -> dict:
    """timetable_from_trips' keyword arguments for all feeds, indices offset per feed."""
    stop_keys = ("stop_ids", "stop_name", "stop_lon", "stop_lat", "stop_location_type",
                 "stop_parent_idx", "stop_wheelchair", "stop_min_transfer_s")
    line_keys = ("line_ids", "line_short_name", "line_long_name", "line_type", "line_color",
                 "line_text_color", "line_agency")
    stop_off = np.cumsum([0] + [len(f.stops["stop_ids"]) for f in feeds])
    line_off = np.cumsum([0] + [len(f.lines["line_ids"]) for f in feeds])
    serv_off = np.cumsum([0] + [len(f.service_ids) for f in feeds])
    out: dict = {}
    for k in stop_keys:
        parts = [f.stops[k] for f in feeds]
        if k == "stop_parent_idx":
            parts = [np.where(p >= 0, p + o, NO_INDEX) for p, o in zip(parts, stop_off, strict=False)]
        out[k] = np.concatenate(parts)
    out["stop_ids"] = out["stop_ids"].astype(str)
    out["stop_name"] = out["stop_name"].astype(str)
    for k in line_keys:
        out[k] = np.concatenate([f.lines[k] for f in feeds])
    for k in ("line_ids", "line_short_name", "line_long_name", "line_color", "line_text_color",
              "line_agency"):
        out[k] = out[k].astype(str)
    ids = out["stop_ids"]
    if len(set(ids.tolist())) != ids.size:  # only possible with user-given prefixes; be safe
        raise LoaderError.of("duplicate_key", "stop ids collide across feeds", file="stops.txt",
                             column="stop_id")

    first_days = [f.service_first_day for f in feeds if f.service_active.shape[1]]
    first = min(first_days) if first_days else 0
    last = max((f.service_first_day + f.service_active.shape[1] - 1 for f in feeds
                if f.service_active.shape[1]), default=first - 1)
    n_days = last - first + 1
    active = np.zeros((int(serv_off[-1]), max(n_days, 0)), dtype=bool)
    for f, o in zip(feeds, serv_off, strict=False):
        d0 = f.service_first_day - first
        active[o:o + len(f.service_ids), d0:d0 + f.service_active.shape[1]] = f.service_active
    out["service_ids"] = np.concatenate([f.service_ids for f in feeds]).astype(str)
    out["service_first_day"] = int(first)
    out["service_active"] = active

    st_off = np.cumsum([0] + [int(f.trips.st_offsets[-1]) for f in feeds])
    trips = [f.trips for f in feeds]
    out["trips"] = TripStopTimes(
        trip_ids=np.concatenate([t.trip_ids for t in trips]).astype(str),
        trip_line_idx=np.concatenate([t.trip_line_idx + o for t, o in zip(trips, line_off, strict=False)]),
        trip_service_idx=np.concatenate([t.trip_service_idx + o
                                         for t, o in zip(trips, serv_off, strict=False)]),
        trip_wheelchair=np.concatenate([t.trip_wheelchair for t in trips]),
        trip_bikes_allowed=np.concatenate([t.trip_bikes_allowed for t in trips]),
        trip_headsign=np.concatenate([t.trip_headsign for t in trips]).astype(str),
        st_offsets=np.concatenate([[0]] + [t.st_offsets[1:] + o
                                           for t, o in zip(trips, st_off, strict=False)]),
        st_stop_idx=np.concatenate([t.st_stop_idx + o for t, o in zip(trips, stop_off, strict=False)]),
        st_arrival_s=np.concatenate([t.st_arrival_s for t in trips]),
        st_departure_s=np.concatenate([t.st_departure_s for t in trips]),
        st_can_board=np.concatenate([t.st_can_board for t in trips]),
        st_can_alight=np.concatenate([t.st_can_alight for t in trips]),
    )
    for k in ("transfer_from_stop", "transfer_to_stop", "forbidden_from_stop", "forbidden_to_stop"):
        out[k] = np.concatenate([f.transfers[k] + o for f, o in zip(feeds, stop_off, strict=False)])
    out["transfer_time_s"] = np.concatenate([f.transfers["transfer_time_s"] for f in feeds])
    return out

