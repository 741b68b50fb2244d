"""One feed: its files read, checked and parsed into timetable_from_trips' arguments."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.transit.build import TripStopTimes
from loaders.gtfs.files import _CHECKED_FILES, _REQUIRED_FILES, KNOWN_FILES, _Source
from loaders.gtfs.references import _check_references
from loaders.gtfs.routes import _agencies, _lines
from loaders.gtfs.services import _calendar
from loaders.gtfs.shapes import _check_shapes
from loaders.gtfs.stops import _check_stops_usage, _stops
from loaders.gtfs.tables import _read_checked_table, _read_table
from loaders.gtfs.transfers import _transfers
from loaders.gtfs.trips import _trips
from loaders.report import BuildReport, LoaderError


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
        checked = {name: _read_checked_table(src, name, label, report) for name in _CHECKED_FILES}
        unreadable = {name for name in _CHECKED_FILES if src.has(name) and checked[name] is None}
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
    _check_shapes(checked["shapes.txt"], tables["trips.txt"], report,
                  unreadable="shapes.txt" in unreadable)
    _check_references({**tables, **checked}, report, unreadable=unreadable)
    transfers = _transfers(tables["transfers.txt"], stops, report, route_index=lines["_index"],
                           trip_index=pd.Index(tables["trips.txt"].values("trip_id")))

    stops = dict(stops)
    stops["stop_ids"] = np.asarray([prefix + s for s in stops["stop_ids"]], dtype=str)
    lines = dict(lines)
    lines["line_ids"] = np.asarray([prefix + s for s in lines["line_ids"]], dtype=str)
    if prefix:
        trips = TripStopTimes(**{**trips.__dict__,
                                 "trip_ids": np.char.add(prefix, trips.trip_ids.astype(str))})
        service_ids = np.char.add(prefix, service_ids.astype(str))
    return _Feed(feed_id, timezone, stops, lines, trips, service_ids, first_day, active, transfers)
