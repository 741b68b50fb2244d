"""Load GTFS feeds (zip archives or folders) into a RAPTOR :class:`~engine.model.Timetable`.

``timetable_from_gtfs`` reads one or several feeds, validates them the way MobilityData's GTFS
validator does (same notice codes), repairs what can be repaired without guessing, counts what it
drops, and hands plain trips to :func:`engine.transit.build.timetable_from_trips`, which groups
them into patterns and lays the stop times out stop-major.

Reading
-------
Each file is read as strings with every record's line number, then checked and converted,
vectorised (:mod:`loaders.gtfs.tables` says why not through ``gtfs_kit.read_feed`` and what is
tolerated). A zip archive's files are read from its root, or from its only subfolder holding GTFS
files; an archive with GTFS files in several subfolders is refused, naming them
(``invalid_input_files_in_subfolder``). A file whose first line holds none of its column names is
refused as having no header row (``missing_required_column``).

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
* a transfers.txt row naming an unknown stop, route or trip is dropped (``foreign_key_violation``,
  naming the column and id).

Problems the validator calls errors in values the timetable does not use are warnings, each
counted under the validator's notice code, and the feed loads:

* a ``stop_timezone`` that is not an IANA name (``invalid_timezone``; times stay in the agency's
  timezone, and the same value in ``agency_timezone`` is refused);
* a trip's ``shape_id`` not in shapes.txt (``foreign_key_violation``); in shapes.txt, taken in
  shape_pt_sequence order (rows may be listed in any order), a shape_dist_traveled smaller than
  the point's before (``decreasing_shape_distance``) or a shape_pt_sequence given twice
  (``duplicate_key``). shapes.txt is read only to check it: a problem that would be fatal in a
  file the timetable needs (a missing column...) skips it with a warning;
* along a trip, a stop time's shape_dist_traveled not above the one before
  (``decreasing_or_equal_stop_time_distance``; the trip's untimed stops are then interpolated by
  straight-line distance, as said above);
* in fare_attributes.txt, fare_rules.txt, attributions.txt and route_networks.txt, a row naming an
  agency, route, trip, fare, zone or network that no file defines (``foreign_key_violation``;
  :mod:`loaders.gtfs.references` lists the references). These files, like shapes.txt, are read
  only to be checked.

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

from collections.abc import Sequence
from pathlib import Path

from engine.model import Timetable
from engine.transit.build import timetable_from_trips
from loaders.gtfs.feed import _Feed, _parse_feed
from loaders.gtfs.merge import _merge
from loaders.report import BuildReport, LoaderError


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
