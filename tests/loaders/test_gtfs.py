"""loaders/gtfs/: the transitfeed broken feeds, Monaco and Montpellier, the tiny town, and
hand-made feeds for tolerance, interpolation, frequencies, calendars and transfers.

Outcomes of the transitfeed test feeds (../shared/data/bad_gtfs/transitfeed, Apache-2.0), as
asserted by OUTCOMES below. "error" = LoaderError (code, file, row, column; rows are line numbers,
header = row 1); "loads" = the warnings (file: code) and drops of the report.

case                    outcome                                      why
bad_date_format         error invalid_date calendar.txt 2 start_date "2007.01.01": the service's days
                                                                     cannot be guessed
bad_eol.zip             loads: mixed_line_endings (calendar,         line ends and a form feed are
                        routes), empty_row (routes 6), leading_or_   layout, not data
                        trailing_whitespaces (trips "shape_id\\f")
bad_utf8                error csv_parsing_failed agency.txt 1        not UTF-8: reading it would mean
                                                                     guessing an encoding
contains_null           loads: null_character (stops 9)              the NUL is inside a stop name
duplicate_schedule_id   error duplicate_key calendar.txt 4           which definition wins would be a
                        service_id                                   guess
duplicate_stop          loads: stops_too_close (BULLFROG/FROG)       two ids 0.3 m apart is legal
duplicate_stop_sequence error duplicate_key stop_times.txt 4         the order of the stops is
                        stop_sequence                                ambiguous
empty_file              error empty_file agency.txt 1                required (it gives the timezone)
extra_row_cells         loads: invalid_row_length (routes 4)         the extra cell is empty (a
                                                                     non-empty one is fatal)
good_feed               loads, no warning: 144 trips (136 from       the control
                        frequencies), 1 footpath, 1 forbidden pair
invalid_agency_ids      error missing_required_field agency.txt 3    several agencies need ids
                        agency_id
invalid_route_agency    error foreign_key_violation routes.txt 4     agency DVT does not exist
                        agency_id
missing_agency          error missing_required_file agency.txt       required
missing_calendar        error missing_calendar_and_calendar_date_    no trip could ever run
                        files
missing_column          error missing_required_column agency.txt 1   the file's structure is wrong
                        agency_name
missing_departure_time  loads: stop_time_with_only_arrival_or_       dwell unknown: departure =
                        departure_time (stop_times 3), unused_stop   arrival
missing_endpoint_times  loads: missing_trip_edge x 2, trips AB2 and  a trip's end times cannot be
                        BFC2 dropped and counted                     inferred; the rest is fine
missing_routes          error missing_required_file routes.txt       required
missing_row_cells       loads, no warning                            short rows are legal GTFS
missing_stop_times      error missing_required_file stop_times.txt   required
missing_stops           error missing_required_file stops.txt        required
missing_trips           error missing_required_file trips.txt        required
missing_weekday_column  error missing_required_column calendar.txt   the file's structure is wrong
                        1 thursday
negative_stop_sequence  loads: number_out_of_range (stop_times 9)    -2 still orders the stops and
                                                                     the times increase
only_calendar_dates     loads, no warning                            calendar_dates alone is valid
repeated_route_name     loads: duplicate_route_name (routes 5)       names are for display only
same_short_long_name    loads: route_short_and_long_name_equal       names are for display only
undefined_stop          error foreign_key_violation stop_times.txt   the trip visits a stop that does
                        11 stop_id                                   not exist
unknown_file            loads: unknown_file (frecuencias.txt), so    a misspelt file is not read
                        11 trips without frequencies
unknown_format.zip      error io_error                               not a zip archive
unrecognized_columns    loads: unknown_column x 12 (in every file;   misspelt columns are ignored
                        fare files are read to check their ids)
unused_stop             loads: unused_stop (BOGUS)                   kept and reported
utf16                   loads: non_utf8_encoding x 10                UTF-16 with a byte order mark
                                                                     decodes without guessing
utf8bom                 loads, no warning                            a UTF-8 BOM is harmless
"""
from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import gtfs_kit
import numpy as np
import pandas as pd
import pytest

from engine.model import NO_INDEX, haversine_m
from engine.transit.build import trips_of
from loaders.gtfs import WALK_DETOUR_FACTOR, WALK_SPEED_MPS, timetable_from_gtfs
from loaders.report import BuildReport, LoaderError

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / ".." / "shared" / "data"
TRANSITFEED = SHARED / "bad_gtfs" / "transitfeed"
MONACO = SHARED / "monaco" / "monaco-gtfs.zip"
MONTPELLIER = SHARED / "montpellier" / "TAM_MMM_GTFS.zip"
TINY_TOWN = ROOT / "data_samples" / "tiny_town" / "gtfs"

needs_transitfeed = pytest.mark.skipif(not TRANSITFEED.exists(), reason="bad_gtfs missing")
needs_monaco = pytest.mark.skipif(not MONACO.exists(), reason="../shared/data/monaco missing")
needs_montpellier = pytest.mark.skipif(not MONTPELLIER.exists(), reason="montpellier missing")


def day(iso: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return int((np.datetime64(iso, "D") - np.datetime64("1970-01-01", "D")).astype(int))


def hms(text: str) -> int:
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


def load(paths, **kw):
    report = BuildReport()
    return timetable_from_gtfs(paths, report, **kw), report


def stop_times_of(tt, trip_id: str) -> list[tuple[str, int, int]]:
    """(stop_id, arrival_s, departure_s) of one trip, in order."""
    trips = trips_of(tt)
    t = int(np.flatnonzero(tt.trip_ids == trip_id)[0])
    a, b = trips.st_offsets[t], trips.st_offsets[t + 1]
    return [(str(tt.stop_ids[s]), int(x), int(y))
            for s, x, y in zip(trips.st_stop_idx[a:b], trips.st_arrival_s[a:b],
                               trips.st_departure_s[a:b], strict=True)]


def active(tt, service_id: str, iso: str) -> bool:
    s = int(np.flatnonzero(tt.service_ids == service_id)[0])
    k = day(iso) - tt.service_first_day
    return bool(0 <= k < tt.n_days and tt.service_active[s, k])


def warnings_of(report: BuildReport) -> dict[tuple[str, str], int]:
    return dict(report.counts)


# ---------------------------------------------------------------------------------------------
# The transitfeed cases
# ---------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Loads:
    warnings: dict
    trips: int
    dropped: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Fails:
    code: str
    file: str | None
    row: int | None = None
    column: str | None = None


DROPPED_EDGE = ("trips", "missing_trip_edge: first or last stop time without times")

OUTCOMES = {
    "bad_date_format": Fails("invalid_date", "calendar.txt", 2, "start_date"),
    "bad_eol.zip": Loads({("calendar.txt", "mixed_line_endings"): 1,
                          ("routes.txt", "mixed_line_endings"): 1, ("routes.txt", "empty_row"): 1,
                          ("trips.txt", "leading_or_trailing_whitespaces"): 1}, 144),
    "bad_utf8": Fails("csv_parsing_failed", "agency.txt", 1),
    "contains_null": Loads({("stops.txt", "null_character"): 1}, 144),
    "duplicate_schedule_id": Fails("duplicate_key", "calendar.txt", 4, "service_id"),
    "duplicate_stop": Loads({("stops.txt", "stops_too_close"): 1}, 144),
    "duplicate_stop_sequence": Fails("duplicate_key", "stop_times.txt", 4, "stop_sequence"),
    "empty_file": Fails("empty_file", "agency.txt", 1),
    "extra_row_cells": Loads({("routes.txt", "invalid_row_length"): 1}, 144),
    "good_feed": Loads({}, 144),
    "invalid_agency_ids": Fails("missing_required_field", "agency.txt", 3, "agency_id"),
    "invalid_route_agency": Fails("foreign_key_violation", "routes.txt", 4, "agency_id"),
    "missing_agency": Fails("missing_required_file", "agency.txt"),
    "missing_calendar": Fails("missing_calendar_and_calendar_date_files", "calendar.txt"),
    "missing_column": Fails("missing_required_column", "agency.txt", 1, "agency_name"),
    "missing_departure_time": Loads({("stop_times.txt",
                                      "stop_time_with_only_arrival_or_departure_time"): 1,
                                     ("stops.txt", "unused_stop"): 1}, 1),
    "missing_endpoint_times": Loads({("stop_times.txt", "missing_trip_edge"): 2}, 142,
                                    {DROPPED_EDGE: 2}),
    "missing_routes": Fails("missing_required_file", "routes.txt"),
    "missing_row_cells": Loads({}, 144),
    "missing_stop_times": Fails("missing_required_file", "stop_times.txt"),
    "missing_stops": Fails("missing_required_file", "stops.txt"),
    "missing_trips": Fails("missing_required_file", "trips.txt"),
    "missing_weekday_column": Fails("missing_required_column", "calendar.txt", 1, "thursday"),
    "negative_stop_sequence": Loads({("stop_times.txt", "number_out_of_range"): 1}, 144),
    "only_calendar_dates": Loads({}, 144),
    "repeated_route_name": Loads({("routes.txt", "duplicate_route_name"): 1}, 144),
    "same_short_long_name": Loads({("routes.txt", "route_short_and_long_name_equal"): 1}, 144),
    "undefined_stop": Fails("foreign_key_violation", "stop_times.txt", 11, "stop_id"),
    "unknown_file": Loads({("frecuencias.txt", "unknown_file"): 1}, 11),
    "unknown_format.zip": Fails("io_error", "unknown_format.zip"),
    "unrecognized_columns": Loads({(f, "unknown_column"): n for f, n in (
        ("agency.txt", 1), ("stops.txt", 1), ("routes.txt", 1), ("trips.txt", 1),
        ("stop_times.txt", 2), ("calendar.txt", 1), ("calendar_dates.txt", 1),
        ("frequencies.txt", 1), ("transfers.txt", 1), ("fare_attributes.txt", 1),
        ("fare_rules.txt", 1))}, 144),
    "unused_stop": Loads({("stops.txt", "unused_stop"): 1}, 144),
    "utf16": Loads({(f, "non_utf8_encoding"): 1 for f in (
        "agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt", "calendar.txt",
        "calendar_dates.txt", "frequencies.txt", "fare_attributes.txt", "fare_rules.txt")}, 144),
    "utf8bom": Loads({}, 144),
}


@needs_transitfeed
def test_every_transitfeed_case_has_an_expected_outcome():
    cases = {p.name for p in TRANSITFEED.iterdir() if not p.name.startswith("COPYING")}
    assert cases == set(OUTCOMES)


@needs_transitfeed
@pytest.mark.parametrize("case", sorted(OUTCOMES))
def test_transitfeed_case_loads_with_its_warnings_or_fails_naming_file_row_column(case):
    expected = OUTCOMES[case]
    report = BuildReport()
    if isinstance(expected, Fails):
        with pytest.raises(LoaderError) as info:  # any other exception type fails the test
            timetable_from_gtfs([TRANSITFEED / case], report)
        notice = info.value.notice
        assert (notice.code, notice.file, notice.row, notice.column) == (
            expected.code, expected.file, expected.row, expected.column), str(info.value)
        assert notice.severity == "error" and notice.message
    else:
        tt = timetable_from_gtfs([TRANSITFEED / case], report)
        assert warnings_of(report) == expected.warnings
        assert dict(report.dropped) == expected.dropped
        assert tt.n_trips == expected.trips
        assert tt.timezone == "America/Los_Angeles"


@needs_transitfeed
def test_good_feed_in_detail():
    tt, report = load(TRANSITFEED / "good_feed")
    assert report.notices == []
    assert (tt.n_stops, len(tt.line_ids)) == (10, 5)
    # the station and its child
    child = int(np.flatnonzero(tt.stop_ids == "BEATTY_AIRPORT")[0])
    station = int(np.flatnonzero(tt.stop_ids == "BEATTY_AIRPORT_STATION")[0])
    assert tt.stop_parent_idx[child] == station and tt.stop_location_type[station] == 1
    assert tt.stop_parent_idx[station] == NO_INDEX
    # calendar: FULLW every day 2007-2025 except the removal on 2007-06-04; WE on weekends
    assert active(tt, "FULLW", "2007-06-05") and not active(tt, "FULLW", "2007-06-04")
    assert active(tt, "WE", "2007-06-02") and not active(tt, "WE", "2007-06-04")
    assert tt.service_period_days() == (day("2007-01-01"), day("2025-12-31"))
    # plain trips keep their times (AB1: 8:00, then 8:10 -> 8:15 at BULLFROG)
    assert stop_times_of(tt, "AB1") == [("BEATTY_AIRPORT", hms("8:00:00"), hms("8:00:00")),
                                        ("BULLFROG", hms("8:10:00"), hms("8:15:00"))]


@needs_transitfeed
def test_missing_departure_time_takes_the_arrival():
    tt, report = load(TRANSITFEED / "missing_departure_time")
    assert stop_times_of(tt, "CITY1")[1] == ("NADAV", hms("6:12:00"), hms("6:12:00"))
    notice = next(n for n in report.notices
                  if n.code == "stop_time_with_only_arrival_or_departure_time")
    assert (notice.file, notice.row, notice.column) == ("stop_times.txt", 3, "departure_time")


@needs_transitfeed
def test_trips_missing_their_end_times_are_dropped_and_named():
    tt, report = load(TRANSITFEED / "missing_endpoint_times")
    assert "AB2" not in set(tt.trip_ids) and "BFC2" not in set(tt.trip_ids)
    assert {"AB1", "BFC1"} <= set(tt.trip_ids)
    notice = next(n for n in report.notices if n.code == "missing_trip_edge")
    assert (notice.file, notice.row) == ("stop_times.txt", 16) and "AB2" in notice.message


@needs_transitfeed
def test_negative_stop_sequence_still_orders_the_stops():
    tt, _ = load(TRANSITFEED / "negative_stop_sequence")
    assert [s for s, _, _ in stop_times_of(tt, "CITY2@06:00:00")] == [
        "EMSI", "DADAN", "NADAV", "NANAA", "STAGECOACH"]


@needs_transitfeed
def test_a_feed_with_only_calendar_dates_runs_on_those_dates():
    tt, _ = load(TRANSITFEED / "only_calendar_dates")
    assert list(tt.service_ids) == ["FULLW", "WE"]
    assert tt.service_first_day == day("2007-06-04") and tt.n_days == 2
    assert active(tt, "FULLW", "2007-06-04") and not active(tt, "FULLW", "2007-06-05")
    assert active(tt, "WE", "2007-06-05") and not active(tt, "WE", "2007-06-04")


@needs_transitfeed
def test_contains_null_removes_the_nul_from_the_name():
    tt, _ = load(TRANSITFEED / "contains_null")
    name = tt.stop_name[np.flatnonzero(tt.stop_ids == "EMSI")[0]]
    assert name == "E NULL to the rightNULL to the left (Demo)"


@needs_transitfeed
def test_utf16_and_bom_feeds_load_like_the_plain_one():
    plain, _ = load(TRANSITFEED / "missing_row_cells")
    for case in ("utf16", "utf8bom"):
        tt, _ = load(TRANSITFEED / case)
        assert list(tt.stop_ids) == list(plain.stop_ids)
        assert np.array_equal(tt.departure_s, plain.departure_s)


# ---------------------------------------------------------------------------------------------
# Real feeds
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def monaco():
    return load(MONACO)


@pytest.fixture(scope="module")
def montpellier():
    return load(MONTPELLIER)


@needs_monaco
def test_monaco_counts_match_the_catalogue(monaco):
    tt, report = monaco
    assert (tt.n_stops, len(tt.line_ids), tt.n_trips, tt.n_stop_times) == (98, 15, 10_344, 137_978)
    assert tt.service_period_days() == (day("2025-12-20"), day("2026-02-13"))
    assert tt.timezone == "Europe/Paris" and tt.feed_ids == ("monaco-gtfs",)
    assert int(tt.arrival_s.max()) == hms("26:33:00") == 95_580  # past midnight, kept
    assert set(tt.line_type.tolist()) == {3}
    assert tt.line_color[np.flatnonzero(tt.line_ids == "0-1")[0]] == "C4362C"
    # 776 trips belong to services with no running day (e.g. Saturdays between a Wednesday
    # and a Thursday): kept and reported; one stop serves no trip
    assert warnings_of(report) == {("trips.txt", "service_never_active"): 776,
                                   ("stops.txt", "unused_stop"): 1}
    assert not report.dropped


@needs_monaco
def test_monaco_trip_times_match_the_raw_file(monaco):
    tt, _ = monaco
    # stop_times.txt rows 8-10: trip 251220-20445-38942-3 at 0-1 06:41:00, 0-2 06:43:00, 0-3 06:43:51
    got = stop_times_of(tt, "251220-20445-38942-3")
    assert got[:3] == [("0-1", 24_060, 24_060), ("0-2", 24_180, 24_180), ("0-3", 24_231, 24_231)]
    assert len(got) == 17
    # pickup_type 1 / drop_off_type 1 at both stops of trip ...-1: never boardable
    tt_trips = trips_of(tt)
    t = int(np.flatnonzero(tt.trip_ids == "251220-20445-38942-1")[0])
    a, b = tt_trips.st_offsets[t], tt_trips.st_offsets[t + 1]
    assert not tt_trips.st_can_board[a:b].any() and not tt_trips.st_can_alight[a:b].any()


def assert_calendar_agrees_with_gtfs_kit(tt, path):
    """Independent oracle: gtfs-kit's own calendar logic, which trips run on each date."""
    feed = gtfs_kit.read_feed(path, dist_units="km")
    dates = feed.get_dates()
    theirs = gtfs_kit.compute_trip_activity(feed, dates).set_index("trip_id")
    ours = tt.service_active[tt.trip_service_idx]  # trip x day
    cols = [day(f"{d[:4]}-{d[4:6]}-{d[6:]}") - tt.service_first_day for d in dates]
    order = theirs.index.get_indexer(tt.trip_ids)
    assert (order >= 0).all() and len(dates) == tt.n_days
    assert np.array_equal(ours[:, cols], theirs[dates].to_numpy(dtype=bool)[order])


@needs_monaco
def test_monaco_calendar_agrees_with_gtfs_kit_on_every_date(monaco):
    assert_calendar_agrees_with_gtfs_kit(monaco[0], MONACO)


@needs_montpellier
def test_montpellier_counts_match_the_catalogue(montpellier):
    tt, report = montpellier
    assert (tt.n_stops, len(tt.line_ids), tt.n_trips, tt.n_stop_times) == (
        2_054, 45, 16_393, 339_023)
    assert int((tt.stop_location_type == 1).sum()) == 654
    assert tt.service_period_days() == (day("2023-12-18"), day("2024-02-25"))
    assert int(tt.arrival_s.max()) == hms("26:51:00")
    # 4 tram, 36 bus and 5 on-demand (extended type 715) lines, all kept
    assert sorted(np.unique(tt.line_type, return_counts=True)[1].tolist()) == [4, 5, 36]
    assert int((tt.line_type == 715).sum()) == 5
    # 1,057 transfers.txt rows (type 0, between different stops, no time): one footpath each,
    # timed at the straight-line walk
    assert tt.transfer_to_stop.size == 1_057
    assert not report.dropped


@needs_montpellier
def test_montpellier_removal_exceptions_are_all_applied(montpellier):
    tt, _ = montpellier
    with zipfile.ZipFile(MONTPELLIER) as z, z.open("calendar_dates.txt") as f:
        dates = pd.read_csv(f, dtype=str, encoding="utf-8-sig")
    removed = dates[dates.exception_type == "2"]
    assert len(removed) == 1_821
    s = pd.Index(tt.service_ids).get_indexer(removed.service_id)
    k = np.array([day(f"{d[:4]}-{d[4:6]}-{d[6:]}") for d in removed.date]) - tt.service_first_day
    assert (s >= 0).all() and not tt.service_active[s, k].any()
    # e.g. service 11-1-127 runs every day of its calendar but not on Saturday 2023-12-23
    assert active(tt, "11-1-127", "2023-12-22") and not active(tt, "11-1-127", "2023-12-23")


@needs_montpellier
def test_montpellier_calendar_agrees_with_gtfs_kit_on_every_date(montpellier):
    assert_calendar_agrees_with_gtfs_kit(montpellier[0], MONTPELLIER)


@needs_montpellier
def test_montpellier_values_match_the_raw_files(montpellier):
    tt, _ = montpellier
    # stop_times.txt rows 2-3: trip 1581939463 at 1160 06:50:00, then 1187 06:53:00
    assert stop_times_of(tt, "1581939463")[:2] == [("1160", 24_600, 24_600), ("1187", 24_780, 24_780)]
    # stops.txt rows 2-3: station S5154 "Biste" and its child 899 (wheelchair 1)
    station = int(np.flatnonzero(tt.stop_ids == "S5154")[0])
    child = int(np.flatnonzero(tt.stop_ids == "899")[0])
    assert tt.stop_parent_idx[child] == station and tt.stop_location_type[station] == 1
    assert tt.stop_wheelchair[child] == 1 and tt.stop_name[station] == "Biste"
    # transfers.txt row 2: 1363 -> 4, type 0 without time: straight-line walk
    a = int(np.flatnonzero(tt.stop_ids == "1363")[0])
    b = int(np.flatnonzero(tt.stop_ids == "4")[0])
    lo, hi = tt.transfer_offsets[a], tt.transfer_offsets[a + 1]
    k = lo + int(np.flatnonzero(tt.transfer_to_stop[lo:hi] == b)[0])
    d = float(haversine_m(tt.stop_lon[a], tt.stop_lat[a], tt.stop_lon[b], tt.stop_lat[b]))
    assert tt.transfer_time_s[k] == int(np.ceil(d * WALK_DETOUR_FACTOR / WALK_SPEED_MPS))


# ---------------------------------------------------------------------------------------------
# The tiny town
# ---------------------------------------------------------------------------------------------
def test_tiny_town_feed_as_described_in_its_readme():
    tt, report = load(TINY_TOWN)
    assert (tt.n_stops, len(tt.line_ids), tt.n_routes, tt.n_trips, tt.n_stop_times) == (
        8, 2, 4, 287, 1_077)
    assert warnings_of(report) == {("stop_times.txt", "interpolated_times"): 1}
    # the night bus of the weekday service: 24:15, Mairie interpolated halfway, 24:19
    assert stop_times_of(tt, "A-SEM-E-NUIT") == [
        ("RELAIS_OUEST", 87_300, 87_300), ("MAIRIE_A", 87_420, 87_420), ("GARE", 87_540, 87_540)]
    # the tram from frequencies.txt
    assert stop_times_of(tt, "T-SEM-N@07:10:00") == [
        ("PARC_RELAIS", hms("07:10:00"), hms("07:10:00")), ("MAIRIE_T", hms("07:12:00"), hms("07:12:00")),
        ("RUE_HAUTE", hms("07:13:00"), hms("07:13:00")), ("CANAL", hms("07:14:00"), hms("07:14:00"))]
    tram = [t for t in tt.trip_ids if t.startswith("T-SEM-N@")]
    assert len(tram) == 78 and max(tram) == "T-SEM-N@19:50:00"
    # calendars: no weekday service on New Year's Day, weekend service on Saturdays
    assert not active(tt, "SEM", "2026-01-01") and active(tt, "SEM", "2026-01-02")
    assert active(tt, "WE", "2026-01-03") and not active(tt, "WE", "2026-01-05")
    assert tt.service_period_days() == (day("2026-01-02"), day("2026-02-28"))
    # station, children inheriting wheelchair access, transfer time between bus and tram
    idx = {s: i for i, s in enumerate(tt.stop_ids.tolist())}
    assert tt.stop_parent_idx[idx["MAIRIE_A"]] == idx["MAIRIE"] == tt.stop_parent_idx[idx["MAIRIE_T"]]
    assert tt.stop_wheelchair[idx["MAIRIE_A"]] == 1 and tt.stop_wheelchair[idx["GARE"]] == 2
    a = idx["MAIRIE_A"]
    lo, hi = tt.transfer_offsets[a], tt.transfer_offsets[a + 1]
    assert tt.transfer_to_stop[lo:hi].tolist() == [idx["MAIRIE_T"]]
    assert tt.transfer_time_s[lo:hi].tolist() == [120]
    assert list(tt.line_color) == ["E3051B", "0055A4"] and list(tt.line_type) == [3, 0]


# ---------------------------------------------------------------------------------------------
# Hand-made feeds
# ---------------------------------------------------------------------------------------------
BASE = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nX,Demo,https://x.org,Europe/Paris\n",
    "stops.txt": ("stop_id,stop_name,stop_lat,stop_lon\n"
                  "A,Alpha,45.000,5.0\nB,Bravo,45.001,5.0\nC,Charlie,45.003,5.0\nD,Delta,45.006,5.0\n"),
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\nR,X,1,One,3\n",
    "trips.txt": "route_id,service_id,trip_id\nR,S,T1\n",
    "stop_times.txt": ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                       "T1,10:00:00,10:00:00,A,1\nT1,10:02:00,10:02:00,B,2\n"
                       "T1,10:05:00,10:05:00,C,3\nT1,10:10:00,10:10:00,D,4\n"),
    "calendar.txt": ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
                     "start_date,end_date\nS,1,1,1,1,1,0,0,20260105,20260111\n"),
}


def feed(tmp_path: Path, name: str = "feed", **files: str | bytes) -> Path:
    """A feed folder: BASE with some files replaced (``None`` removes one)."""
    folder = tmp_path / name
    folder.mkdir()
    merged = {**BASE, **{k.replace("__", "."): v for k, v in files.items()}}
    for fname, content in merged.items():
        if content is None:
            continue
        data = content if isinstance(content, bytes) else content.encode()
        (folder / fname).write_bytes(data)
    return folder


def test_a_messy_but_legal_feed_loads_exactly_like_the_clean_one(tmp_path):
    clean_dir = tmp_path / "clean"
    messy_dir = tmp_path / "messy"
    clean_dir.mkdir()
    messy_dir.mkdir()
    for f in sorted(TINY_TOWN.iterdir()):
        text = f.read_text(encoding="utf-8")
        (clean_dir / f.name).write_text(text, encoding="utf-8")
        lines = text.splitlines()
        header = lines[0].split(",")
        rows = lines[1:]
        if f.name == "stops.txt":
            header.append("x_platform_colour")      # unknown column, values on some rows
            rows = [r + (",blue" if i % 2 else "") for i, r in enumerate(rows)]  # + short rows
        if f.name == "stop_times.txt":
            header.append("stop_headsign")          # a known optional column left out of every row
        # stray spaces and a tab around the header names
        header = [f" {h}\t" if k % 2 else f"{h} " for k, h in enumerate(header)]
        messy = "\r\n".join([",".join(header), *rows]) + "\r\n"
        (messy_dir / f.name).write_bytes(b"\xef\xbb\xbf" + messy.encode("utf-8"))
    clean, clean_report = load(clean_dir)
    messy, messy_report = load(messy_dir)
    for field in dataclasses.fields(clean):
        a, b = getattr(clean, field.name), getattr(messy, field.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), field.name
        elif field.name != "feed_ids":
            assert a == b, field.name
    extra = set(messy_report.counts) - set(clean_report.counts)
    assert {code for _, code in extra} == {"leading_or_trailing_whitespaces", "unknown_column"}
    assert messy_report.counts[("stops.txt", "unknown_column")] == 1


def test_untimed_stops_are_interpolated_by_shape_distance(tmp_path):
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled\n"
          "T1,10:00:00,10:00:00,A,1,0\nT1,,,B,2,0.5\nT1,,,C,3,2.5\nT1,10:10:00,10:10:00,D,4,6\n")
    tt, report = load(feed(tmp_path, stop_times__txt=st))
    # 600 s over 6 km: B at 0.5 km -> 50 s, C at 2.5 km -> 250 s (not the straight-line 1:2:3)
    assert stop_times_of(tt, "T1") == [("A", 36_000, 36_000), ("B", 36_050, 36_050),
                                       ("C", 36_250, 36_250), ("D", 36_600, 36_600)]
    assert report.counts[("stop_times.txt", "interpolated_times")] == 2


def test_untimed_stops_are_interpolated_by_distance_then_by_count(tmp_path):
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
          "T1,10:00:00,10:00:00,A,1\nT1,,,B,2\nT1,,,C,3\nT1,10:10:00,10:10:00,D,4\n")
    tt, _ = load(feed(tmp_path, stop_times__txt=st))
    # stops 111 m, 222 m, 333 m apart along a meridian: 1/6 and 3/6 of the 600 s
    assert [a for _, a, _ in stop_times_of(tt, "T1")] == [36_000, 36_100, 36_300, 36_600]
    same_place = BASE["stops.txt"].replace("45.001", "45.000").replace("45.003", "45.000") \
        .replace("45.006", "45.000")
    tt, _ = load(feed(tmp_path, "same", stop_times__txt=st, stops__txt=same_place))
    assert [a for _, a, _ in stop_times_of(tt, "T1")] == [36_000, 36_200, 36_400, 36_600]


def test_frequencies_become_trips_named_by_their_departure(tmp_path):
    # good_feed: CITY1 every 30 min 6:00-7:59:59, 10 min 8:00-9:59:59, 30 min 10:00-15:59:59,
    # 10 min 16:00-18:59:59, 30 min 19:00-22:00 (end excluded)
    tt, _ = load(TRANSITFEED / "good_feed")
    city1 = sorted(t for t in tt.trip_ids if t.startswith("CITY1@"))
    assert len(city1) == 4 + 12 + 12 + 18 + 6 == 52
    assert city1[0] == "CITY1@06:00:00" and city1[-1] == "CITY1@21:30:00"
    assert "CITY1" not in set(tt.trip_ids)  # the template itself is not a trip
    # template: STAGECOACH 6:00, NANAA 6:05/6:07 ...; shifted to leave at 8:10
    assert stop_times_of(tt, "CITY1@08:10:00")[:2] == [
        ("STAGECOACH", hms("8:10:00"), hms("8:10:00")), ("NANAA", hms("8:15:00"), hms("8:17:00"))]
    assert sum(t.startswith("STBA@") for t in tt.trip_ids) == 32


def test_overlapping_frequency_windows_keep_each_departure_once(tmp_path):
    freq = ("trip_id,start_time,end_time,headway_secs\n"
            "T1,07:00:00,08:00:00,1200\nT1,07:40:00,08:30:00,1200\n")
    tt, report = load(feed(tmp_path, frequencies__txt=freq))
    assert sorted(tt.trip_ids) == ["T1@07:00:00", "T1@07:20:00", "T1@07:40:00", "T1@08:00:00",
                                   "T1@08:20:00"]
    assert report.counts[("frequencies.txt", "overlapping_frequency")] == 1
    assert report.dropped[("trips", "frequency departure produced twice by overlapping windows")] == 1


def test_transfers_become_footpaths_transfer_times_and_forbidden_pairs(tmp_path):
    stops = ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
             "A,Alpha,45.000,5.0,0,\nB,Bravo,45.001,5.0,0,\nC,Charlie,45.003,5.0,0,\n"
             "D,Delta,45.006,5.0,0,P\nE,Echo,45.0061,5.0,0,P\nP,Pole,45.006,5.0,1,\n")
    transfers = ("from_stop_id,to_stop_id,transfer_type,min_transfer_time,from_route_id\n"
                 "A,B,2,300,\n"       # footpath of 300 s
                 "C,C,2,180,\n"       # minimum transfer time at C
                 "B,A,3,,\n"          # forbidden B -> A
                 "A,C,0,,\n"          # recommended, no time: straight-line walk
                 "P,A,2,240,\n"       # station: from both children D and E
                 "C,D,3,,R\n"         # forbidden for one route only: ignored
                 "A,D,4,,\n"          # in-seat: ignored
                 "A,Z,2,60,\n")       # unknown stop: ignored
    tt, report = load(feed(tmp_path, stops__txt=stops, transfers__txt=transfers),
                      min_transfer_s_default=90)
    idx = {s: i for i, s in enumerate(tt.stop_ids.tolist())}
    paths = {(tt.stop_ids[f], tt.stop_ids[t]): int(s) for f in range(tt.n_stops)
             for t, s in zip(tt.transfer_to_stop[tt.transfer_offsets[f]:tt.transfer_offsets[f + 1]],
                             tt.transfer_time_s[tt.transfer_offsets[f]:tt.transfer_offsets[f + 1]],
                             strict=True)}
    walk_ac = int(np.ceil(333.58 * WALK_DETOUR_FACTOR / WALK_SPEED_MPS))
    assert paths == {("A", "B"): 300, ("A", "C"): walk_ac, ("D", "A"): 240, ("E", "A"): 240}
    assert list(zip(tt.forbidden_from_stop.tolist(), tt.forbidden_to_stop.tolist(),
                    strict=True)) == [(idx["B"], idx["A"])]
    assert tt.stop_min_transfer_s[idx["C"]] == 180
    assert tt.stop_min_transfer_s[idx["A"]] == 90  # the default, where transfers.txt says nothing
    assert report.dropped[("transfers.txt rows", "route/trip-specific forbidden transfer not modelled")] == 1
    assert report.dropped[("transfers.txt rows", "in-seat transfer (type 4/5) not modelled")] == 1
    assert report.dropped[("transfers.txt rows", "to_stop_id not in stops.txt")] == 1
    notice = next(n for n in report.notices if n.code == "foreign_key_violation")
    assert (notice.file, notice.row, notice.column) == ("transfers.txt", 9, "to_stop_id")


def test_boarding_and_alighting_flags_split_patterns(tmp_path):
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type\n"
          "T1,10:00:00,10:00:00,A,1,0,1\nT1,10:02:00,10:02:00,B,2,2,3\nT1,10:05:00,10:05:00,C,3,1,0\n"
          "T2,11:00:00,11:00:00,A,1,,\nT2,11:02:00,11:02:00,B,2,,\nT2,11:05:00,11:05:00,C,3,,\n")
    tt, _ = load(feed(tmp_path, stop_times__txt=st,
                      trips__txt="route_id,service_id,trip_id\nR,S,T1\nR,S,T2\n"))
    assert tt.n_routes == 2  # same stops, different permissions: two patterns
    r = int(tt.trip_route_idx[np.flatnonzero(tt.trip_ids == "T1")[0]])
    s0, s1 = tt.route_stop_offsets[r], tt.route_stop_offsets[r + 1]
    assert tt.route_stop_can_board[s0:s1].tolist() == [True, True, False]   # pickup 1 at C
    assert tt.route_stop_can_alight[s0:s1].tolist() == [False, True, True]  # drop-off 1 at A


def test_colours_are_normalised_and_extended_route_types_kept(tmp_path):
    routes = ("route_id,agency_id,route_short_name,route_long_name,route_type,route_color,"
              "route_text_color\nR,X,1,One,715,#ff00aa,fff\nQ,X,2,Two,700,,\nP,X,3,Three,2000,,\n")
    tt, report = load(feed(tmp_path, routes__txt=routes))
    assert list(tt.line_type) == [715, 700, 2000]  # on-demand, bus, and an unknown type kept
    assert report.counts[("routes.txt", "unexpected_enum_value")] == 1
    assert list(tt.line_color) == ["FF00AA", "", ""] and list(tt.line_text_color) == ["", "", ""]
    notice = next(n for n in report.notices if n.code == "invalid_color")
    assert (notice.row, notice.column) == (2, "route_text_color")


def test_two_feeds_load_into_one_network_with_prefixed_ids():
    tt, _ = load([MONACO, TINY_TOWN], feed_ids=["monaco", "tiny"])
    assert tt.feed_ids == ("monaco", "tiny")
    assert (tt.n_stops, len(tt.line_ids), tt.n_trips, tt.n_stop_times) == (
        98 + 8, 15 + 2, 10_344 + 287, 137_978 + 1_077)
    assert {s.split(":", 1)[0] for s in tt.stop_ids} == {"monaco", "tiny"}
    assert "tiny:T-SEM-N@07:10:00" in set(tt.trip_ids) and "monaco:0-1" in set(tt.line_ids)
    assert stop_times_of(tt, "monaco:251220-20445-38942-3")[1] == ("monaco:0-2", 24_180, 24_180)
    # one calendar from Monaco's first day to the tiny town's last
    assert tt.service_period_days() == (day("2025-12-20"), day("2026-02-28"))
    assert active(tt, "tiny:SEM", "2026-02-27") and not active(tt, "tiny:SEM", "2026-01-01")
    # the tiny town's station and transfer point at its own stops
    idx = {s: i for i, s in enumerate(tt.stop_ids.tolist())}
    assert tt.stop_parent_idx[idx["tiny:MAIRIE_T"]] == idx["tiny:MAIRIE"]
    a = idx["tiny:MAIRIE_A"]
    lo = tt.transfer_offsets[a]
    assert tt.transfer_to_stop[lo] == idx["tiny:MAIRIE_T"] and tt.transfer_time_s[lo] == 120


def test_feed_ids_default_to_unique_path_stems(tmp_path):
    a = feed(tmp_path, "gtfs")
    (tmp_path / "other").mkdir()
    b = feed(tmp_path / "other", "gtfs")
    tt, _ = load([a, b])
    assert tt.feed_ids == ("gtfs", "gtfs-2")
    assert sorted(tt.trip_ids) == ["gtfs-2:T1", "gtfs:T1"]


def test_feeds_in_different_timezones_are_refused():
    with pytest.raises(LoaderError) as info:
        load([MONACO, TRANSITFEED / "good_feed"])
    assert info.value.notice.code == "inconsistent_agency_timezone"
    assert "Europe/Paris" in str(info.value) and "America/Los_Angeles" in str(info.value)


def test_a_zip_with_its_files_in_a_subfolder_loads(tmp_path):
    src = feed(tmp_path)
    z = tmp_path / "nested.zip"
    with zipfile.ZipFile(z, "w") as out:
        for f in src.iterdir():
            out.write(f, f"gtfs/{f.name}")
    tt, report = load(z)
    assert tt.n_trips == 1 and tt.feed_ids == ("nested",)
    assert report.counts[("gtfs", "invalid_input_files_in_subfolder")] == 1


@pytest.mark.parametrize("files, code, file, row, column", [
    ({"stop_times__txt": BASE["stop_times.txt"].replace("10:05:00,10:05:00", "10:5:00,10:05:00")},
     "invalid_time", "stop_times.txt", 4, "arrival_time"),
    ({"stop_times__txt": BASE["stop_times.txt"].replace("10:10:00,10:10:00", "10:10:00,10:61:00")},
     "invalid_time", "stop_times.txt", 5, "departure_time"),
    ({"stops__txt": BASE["stops.txt"].replace("45.003,5.0", "45.003,185.0")},
     "number_out_of_range", "stops.txt", 4, "stop_lon"),
    ({"stops__txt": BASE["stops.txt"].replace("45.003,5.0", "north,5.0")},
     "invalid_float", "stops.txt", 4, "stop_lat"),
    ({"stops__txt": BASE["stops.txt"].replace("45.003,5.0", ",5.0")},
     "missing_required_field", "stops.txt", 4, "stop_lat"),
    ({"routes__txt": BASE["routes.txt"] + "Q,X,2,Two,3,extra\n"},
     "invalid_row_length", "routes.txt", 3, None),
    ({"trips__txt": "route_id,service_id,trip_id\nR,S,T1\nR,NOPE,T2\n"},
     "foreign_key_violation", "trips.txt", 3, "service_id"),
    ({"trips__txt": "route_id,service_id,trip_id\nR,S,T1\nR,S,T1\n"},
     "duplicate_key", "trips.txt", 3, "trip_id"),
    ({"calendar__txt": BASE["calendar.txt"].replace("20260111", "2026-01-11")},
     "invalid_date", "calendar.txt", 2, "end_date"),
    ({"calendar__txt": BASE["calendar.txt"].replace(",0,0,2026", ",2,0,2026")},
     "unexpected_enum_value", "calendar.txt", 2, "saturday"),
    ({"stop_times__txt": BASE["stop_times.txt"].replace(",B,2", ",B,two")},
     "invalid_integer", "stop_times.txt", 3, "stop_sequence"),
    ({"agency__txt": BASE["agency.txt"].replace("Europe/Paris", "Europe/Parys")},
     "invalid_timezone", "agency.txt", 2, "agency_timezone"),
    ({"frequencies__txt": "trip_id,start_time,end_time,headway_secs\nT1,07:00:00,08:00:00,0\n"},
     "number_out_of_range", "frequencies.txt", 2, "headway_secs"),
    ({"stops__txt": BASE["stops.txt"].replace("stop_id,", "stop_id,stop_id,")},
     "duplicated_column", "stops.txt", 1, "stop_id"),
])
def test_bad_values_stop_the_build_naming_file_row_and_column(tmp_path, files, code, file, row, column):
    with pytest.raises(LoaderError) as info:
        load(feed(tmp_path, **files))
    n = info.value.notice
    assert (n.code, n.file, n.row, n.column) == (code, file, row, column), str(info.value)


def test_trips_going_back_in_time_are_dropped_and_counted(tmp_path):
    st = BASE["stop_times.txt"] + ("T2,11:00:00,11:00:00,A,1\nT2,10:59:00,10:59:00,B,2\n")
    tt, report = load(feed(tmp_path, stop_times__txt=st,
                           trips__txt="route_id,service_id,trip_id\nR,S,T1\nR,S,T2\n"))
    assert list(tt.trip_ids) == ["T1"]
    assert report.dropped[("trips", "times going backwards")] == 1
    notice = next(n for n in report.notices
                  if n.code == "stop_time_with_arrival_before_previous_departure_time")
    assert (notice.row, notice.column) == (7, "arrival_time")


def test_a_stop_whose_parent_is_missing_keeps_no_parent(tmp_path):
    stops = BASE["stops.txt"].replace("stop_lon\n", "stop_lon,parent_station\n") \
        .replace("45.001,5.0", "45.001,5.0,GHOST")
    tt, report = load(feed(tmp_path, stops__txt=stops))
    assert tt.stop_parent_idx[1] == NO_INDEX
    notice = next(n for n in report.notices if n.code == "foreign_key_violation")
    assert (notice.file, notice.row, notice.column) == ("stops.txt", 3, "parent_station")


def test_locations_without_coordinates_take_their_parents(tmp_path):
    stops = ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
             "A,Alpha,45.000,5.0,0,\nB,Bravo,45.001,5.0,0,\nC,Charlie,45.003,5.0,0,\n"
             "D,Delta,45.006,5.0,0,\nP,Pole,45.5,5.5,1,\nN,Node,,,3,P\nQ,Lost,,,3,\n")
    tt, report = load(feed(tmp_path, stops__txt=stops))
    n = int(np.flatnonzero(tt.stop_ids == "N")[0])
    assert (tt.stop_lat[n], tt.stop_lon[n]) == (45.5, 5.5)
    assert "Q" not in set(tt.stop_ids)
    assert report.dropped[("stops", "no coordinates, none inherited from a parent")] == 1


TWO_TRIPS = "route_id,service_id,trip_id\nR,S,T1\nR,S,T2\n"


@pytest.mark.parametrize("files, warning, count, dropped", [
    # a trip without stop times
    ({"trips__txt": TWO_TRIPS}, ("trips.txt", "unused_trip"), 1,
     {("trips", "unused_trip: no stop times"): 1}),
    # a trip with a single stop time
    ({"trips__txt": TWO_TRIPS, "stop_times__txt": BASE["stop_times.txt"] + "T2,11:00:00,11:00:00,A,1\n"},
     ("stop_times.txt", "unusable_trip"), 1, {("trips", "unusable_trip: fewer than two stop times"): 1}),
    # a timepoint without times: interpolated, reported twice (timepoint and interpolation)
    ({"stop_times__txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence,timepoint\n"
                         "T1,10:00:00,10:00:00,A,1,1\nT1,,,B,2,1\nT1,10:10:00,10:10:00,D,3,1\n"},
     ("stop_times.txt", "stop_time_timepoint_without_times"), 1, {}),
    # a stop time at a station
    ({"stops__txt": BASE["stops.txt"].replace("stop_lon\n", "stop_lon,location_type\n")
      .replace("D,Delta,45.006,5.0", "D,Delta,45.006,5.0,1")},
     ("stop_times.txt", "wrong_stop_time_stop_location_type"), 1, {}),
    # frequencies: an empty window, and a window of a dropped template
    ({"frequencies__txt": "trip_id,start_time,end_time,headway_secs\nT1,08:00:00,07:00:00,600\n"},
     ("frequencies.txt", "start_and_end_range_out_of_order"), 1,
     {("frequencies.txt rows", "empty time window"): 1}),
    ({"trips__txt": TWO_TRIPS, "frequencies__txt": "trip_id,start_time,end_time,headway_secs\n"
                                                   "T2,08:00:00,09:00:00,600\n"},
     ("frequencies.txt", "frequency_of_dropped_trip"), 1,
     {("trips", "unused_trip: no stop times"): 1, ("frequencies.txt rows", "template trip dropped"): 1}),
    # transfers: a station without child stops, an unexpected type
    ({"stops__txt": BASE["stops.txt"].replace("stop_lon\n", "stop_lon,location_type\n")
      + "P,Pole,45.5,5.5,1\n", "transfers__txt": "from_stop_id,to_stop_id,transfer_type\nP,A,0\n"},
     ("transfers.txt", "station_without_stops"), 1,
     {("transfers.txt rows", "station without child stops"): 1}),
    ({"transfers__txt": "from_stop_id,to_stop_id,transfer_type\nA,B,9\n"},
     ("transfers.txt", "unexpected_enum_value"), 1, {("transfers.txt rows", "unexpected transfer_type"): 1}),
    # a stop time with a pickup_type out of range: read as 0
    ({"stop_times__txt": BASE["stop_times.txt"].replace("stop_sequence\n", "stop_sequence,pickup_type\n")
      .replace(",A,1\n", ",A,1,7\n")}, ("stop_times.txt", "unexpected_enum_value"), 1, {}),
    # a blank line in the middle of a file
    ({"stops__txt": BASE["stops.txt"].replace("\nB,", "\n\nB,")}, ("stops.txt", "empty_row"), 1, {}),
    # a service that never runs (end before start is fatal, no matching weekday is not)
    ({"calendar__txt": BASE["calendar.txt"].replace("1,1,1,1,1,0,0", "0,0,0,0,0,0,0")},
     ("trips.txt", "service_never_active"), 1, {}),
])
def test_repairs_and_drops_are_reported(tmp_path, files, warning, count, dropped):
    _, report = load(feed(tmp_path, **files))
    assert report.counts[warning] == count
    assert dict(report.dropped) == dropped


def test_several_agencies_need_one_timezone_and_each_route_an_agency(tmp_path):
    agencies = ("agency_id,agency_name,agency_url,agency_timezone\n"
                "X,Demo,https://x.org,Europe/Paris\nY,Other,https://y.org,Europe/Paris\n")
    tt, _ = load(feed(tmp_path, "ok", agency__txt=agencies,
                      routes__txt=BASE["routes.txt"].replace("R,X,", "R,Y,")))
    assert list(tt.line_agency) == ["Other"]
    with pytest.raises(LoaderError) as info:
        load(feed(tmp_path, "tz", agency__txt=agencies.replace("y.org,Europe/Paris",
                                                               "y.org,Europe/Rome")))
    assert (info.value.notice.code, info.value.notice.row) == ("inconsistent_agency_timezone", 3)
    with pytest.raises(LoaderError) as info:
        load(feed(tmp_path, "route", agency__txt=agencies,
                  routes__txt=BASE["routes.txt"].replace("R,X,", "R,,")))
    n = info.value.notice
    assert (n.code, n.file, n.row, n.column) == ("missing_required_field", "routes.txt", 2, "agency_id")


def test_an_empty_optional_file_is_ignored_with_a_warning(tmp_path):
    tt, report = load(feed(tmp_path, transfers__txt="", frequencies__txt="trip_id,start_time,"
                                                                        "end_time,headway_secs\n"))
    assert tt.n_trips == 1
    assert report.counts == {("transfers.txt", "empty_file"): 1}


def test_every_trip_dropped_still_gives_a_valid_empty_timetable(tmp_path):
    st = BASE["stop_times.txt"].replace("T1,10:00:00,10:00:00,A,1", "T1,,,A,1")
    tt, report = load(feed(tmp_path, stop_times__txt=st))
    assert tt.n_trips == 0 and tt.n_routes == 0 and tt.n_stops == 4
    assert report.dropped[DROPPED_EDGE] == 1


# ---------------------------------------------------------------------------------------------
# Error-level problems of the validator that the feed survives: warned, counted (issue 17)
# ---------------------------------------------------------------------------------------------
def only_notice(report: BuildReport, code: str):
    """The one notice of ``code`` in the report (its total must be 1)."""
    found = [n for n in report.notices if n.code == code]
    assert len(found) == 1 and sum(c for (_, k), c in report.counts.items() if k == code) == 1, \
        report.summary_lines()
    return found[0]


def test_an_unknown_stop_timezone_is_warned_like_the_agency_one_is_refused(tmp_path):
    stops = BASE["stops.txt"].replace("stop_lon\n", "stop_lon,stop_timezone\n") \
        .replace("45.001,5.0\n", "45.001,5.0,Nowhere/Nowhere\n") \
        .replace("45.003,5.0\n", "45.003,5.0,Europe/Rome\n")
    tt, report = load(feed(tmp_path, stops__txt=stops))
    n = only_notice(report, "invalid_timezone")
    assert (n.file, n.row, n.column) == ("stops.txt", 3, "stop_timezone")
    assert "'Nowhere/Nowhere'" in n.message and "'B'" in n.message
    assert tt.n_stops == 4 and tt.timezone == "Europe/Paris"
    assert any("invalid_timezone" in line for line in report.summary_lines())


SHAPE_TRIP = "route_id,service_id,trip_id,shape_id\nR,S,T1,SH1\n"
SHAPES_HEADER = "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence,shape_dist_traveled\n"


@pytest.mark.parametrize("shapes", [SHAPES_HEADER + "SH1,45.0,5.0,1,0\nSH1,45.006,5.0,2,670\n", None])
def test_a_trip_naming_an_unknown_shape_is_warned_as_foreign_key_violation(tmp_path, shapes):
    tt, report = load(feed(tmp_path, trips__txt=SHAPE_TRIP.replace("SH1", "GHOST"),
                           shapes__txt=shapes))
    n = only_notice(report, "foreign_key_violation")
    assert (n.file, n.row, n.column) == ("trips.txt", 2, "shape_id")
    assert "'GHOST'" in n.message and "'T1'" in n.message and "shapes.txt" in n.message
    assert tt.n_trips == 1 and not report.dropped


def test_a_known_shape_in_sequence_order_gives_no_warning(tmp_path):
    shapes = SHAPES_HEADER + "SH1,45.006,5.0,2,670\nSH1,45.0,5.0,1,0\n"  # rows in any order: legal
    _, report = load(feed(tmp_path, trips__txt=SHAPE_TRIP, shapes__txt=shapes))
    assert report.notices == []


@pytest.mark.parametrize("points, code, row", [
    # listed out of sequence order, distances written in file order: 1 (0), 3 (100), 2 (200)
    ("SH1,45.0,5.0,1,0\nSH1,45.006,5.0,3,100\nSH1,45.003,5.0,2,200\n", "decreasing_shape_distance", 3),
    # in order, but the distance goes back at the third point
    ("SH1,45.0,5.0,1,0\nSH1,45.003,5.0,2,200\nSH1,45.006,5.0,3,100\n", "decreasing_shape_distance", 4),
    # the same shape_pt_sequence twice
    ("SH1,45.0,5.0,1,0\nSH1,45.003,5.0,2,200\nSH1,45.006,5.0,2,300\n", "duplicate_key", 4),
])
def test_shape_points_going_back_are_warned_and_the_feed_loads(tmp_path, points, code, row):
    tt, report = load(feed(tmp_path, trips__txt=SHAPE_TRIP, shapes__txt=SHAPES_HEADER + points))
    n = only_notice(report, code)
    assert (n.file, n.row) == ("shapes.txt", row) and "'SH1'" in n.message
    assert tt.n_trips == 1


def test_a_broken_shapes_file_is_skipped_with_a_warning_not_fatal(tmp_path):
    shapes = "shape_id,shape_pt_lat,shape_pt_lon\nSH1,45.0,5.0\n"  # no shape_pt_sequence
    tt, report = load(feed(tmp_path, trips__txt=SHAPE_TRIP, shapes__txt=shapes))
    n = only_notice(report, "missing_required_column")
    assert (n.file, n.column, n.severity) == ("shapes.txt", "shape_pt_sequence", "warning")
    assert "skipped" in n.message and tt.n_trips == 1
    assert report.counts == {("shapes.txt", "missing_required_column"): 1}  # SH1 not called unknown


@pytest.mark.parametrize("distances, row", [((0, 300, 200, 700), 4), ((0, 300, 300, 700), 4)])
def test_stop_time_distances_going_back_are_warned_and_the_trip_kept(tmp_path, distances, row):
    rows = zip("ABCD", distances, strict=True)
    st = "trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled\n" + "".join(
        f"T1,10:0{k}:00,10:0{k}:00,{s},{k + 1},{d}\n" for k, (s, d) in enumerate(rows))
    tt, report = load(feed(tmp_path, stop_times__txt=st))
    n = only_notice(report, "decreasing_or_equal_stop_time_distance")
    assert (n.file, n.row, n.column) == ("stop_times.txt", row, "shape_dist_traveled")
    assert "'T1'" in n.message and "stop_sequence 3" in n.message
    assert tt.n_trips == 1 and not report.dropped


FARES = "fare_id,price,currency_type,payment_method,transfers,agency_id\nF1,1.50,EUR,0,0,X\n"
ZONED_STOPS = BASE["stops.txt"].replace("stop_lon\n", "stop_lon,zone_id\n").replace("5.0\n", "5.0,Z1\n")
NETWORKS = "network_id,network_name\nN1,Network\n"


def test_fares_attributions_and_networks_naming_known_ids_give_no_warning(tmp_path):
    _, report = load(feed(tmp_path, stops__txt=ZONED_STOPS, fare_attributes__txt=FARES,
                          fare_rules__txt="fare_id,route_id,origin_id,destination_id,contains_id\n"
                                          "F1,R,Z1,Z1,\n",
                          attributions__txt="organization_name,agency_id,route_id,trip_id\n"
                                            "Org,X,,\nOrg,,R,\nOrg,,,T1\n",
                          networks__txt=NETWORKS, route_networks__txt="network_id,route_id\nN1,R\n"))
    assert report.notices == []


@pytest.mark.parametrize("files, file, row, column, value", [
    ({"fare_attributes__txt": FARES.replace(",X\n", ",NOPE\n")},
     "fare_attributes.txt", 2, "agency_id", "NOPE"),
    ({"fare_attributes__txt": FARES, "fare_rules__txt": "fare_id,route_id\nF1,R\nF2,R\n"},
     "fare_rules.txt", 3, "fare_id", "F2"),
    ({"fare_rules__txt": "fare_id,route_id\nF1,R\n"},  # no fare_attributes.txt: no fare exists
     "fare_rules.txt", 2, "fare_id", "F1"),
    ({"fare_attributes__txt": FARES, "fare_rules__txt": "fare_id,route_id\nF1,R\nF1,Q\n"},
     "fare_rules.txt", 3, "route_id", "Q"),
    ({"stops__txt": ZONED_STOPS, "fare_attributes__txt": FARES,
      "fare_rules__txt": "fare_id,origin_id,destination_id,contains_id\nF1,Z1,Z9,\n"},
     "fare_rules.txt", 2, "destination_id", "Z9"),
    ({"attributions__txt": "organization_name,agency_id,route_id,trip_id\nOrg,,,T9\n"},
     "attributions.txt", 2, "trip_id", "T9"),
    ({"attributions__txt": "organization_name,agency_id,route_id,trip_id\nOrg,,Q,\n"},
     "attributions.txt", 2, "route_id", "Q"),
    ({"attributions__txt": "organization_name,agency_id\nOrg,Y\n"},
     "attributions.txt", 2, "agency_id", "Y"),
    ({"networks__txt": NETWORKS, "route_networks__txt": "network_id,route_id\nN1,R\nN2,R\n"},
     "route_networks.txt", 3, "network_id", "N2"),
    ({"networks__txt": NETWORKS, "route_networks__txt": "network_id,route_id\nN1,Q\n"},
     "route_networks.txt", 2, "route_id", "Q"),
])
def test_fares_attributions_and_networks_naming_unknown_ids_are_foreign_key_violations(
        tmp_path, files, file, row, column, value):
    tt, report = load(feed(tmp_path, **files))
    n = only_notice(report, "foreign_key_violation")
    assert (n.file, n.row, n.column, n.severity) == (file, row, column, "warning")
    assert f"{column} {value!r} is not in" in n.message
    assert tt.n_trips == 1 and not report.dropped
    assert any("foreign_key_violation" in line and file in line for line in report.summary_lines())


@pytest.mark.parametrize("column, value, target", [
    ("from_route_id", "X", "routes.txt"), ("to_route_id", "X", "routes.txt"),
    ("from_trip_id", "T9", "trips.txt"), ("to_trip_id", "T9", "trips.txt")])
def test_a_transfer_naming_an_unknown_route_or_trip_says_which_id_and_is_ignored(
        tmp_path, column, value, target):
    transfers = (f"from_stop_id,to_stop_id,transfer_type,min_transfer_time,{column}\n"
                 "A,B,2,300,\n"            # plain footpath: kept
                 f"A,C,2,240,{value}\n")   # names an id no file defines: ignored
    tt, report = load(feed(tmp_path, transfers__txt=transfers))
    n = only_notice(report, "foreign_key_violation")
    assert (n.file, n.row, n.column) == ("transfers.txt", 3, column)
    assert str(n) == (f"transfers.txt row 3 column {column!r}: {column} {value!r} is not in {target}; "
                      "row ignored [foreign_key_violation]")
    assert "transfer_specificity_ignored" not in {c for _, c in report.counts}
    assert dict(report.dropped) == {("transfers.txt rows", f"{column} not in {target}"): 1}
    assert tt.transfer_to_stop.tolist() == [1]  # only A -> B


def test_a_transfer_naming_a_known_route_is_applied_to_its_stops(tmp_path):
    transfers = "from_stop_id,to_stop_id,transfer_type,min_transfer_time,from_route_id\nA,C,2,240,R\n"
    tt, report = load(feed(tmp_path, transfers__txt=transfers))
    assert report.counts == {("transfers.txt", "transfer_specificity_ignored"): 1}
    assert tt.transfer_to_stop.tolist() == [2]


# ---------------------------------------------------------------------------------------------
# Messages that name the real problem (issue 17 item 11)
# ---------------------------------------------------------------------------------------------
def test_a_zip_with_feed_files_in_two_subfolders_names_them_not_a_missing_agency(tmp_path):
    src = feed(tmp_path)
    z = tmp_path / "two.zip"
    with zipfile.ZipFile(z, "w") as out:
        for f in src.iterdir():
            out.write(f, f"gtfs/{f.name}")
        out.write(src / "stops.txt", "gtfs/old/stops.txt")
    with pytest.raises(LoaderError) as info:
        load(z)
    n = info.value.notice
    assert (n.code, n.file) == ("invalid_input_files_in_subfolder", "two.zip")
    assert "2 subfolders" in n.message and "gtfs/old/: stops.txt" in n.message
    assert "agency.txt" in n.message and "missing" not in n.message


def test_a_file_without_its_header_row_says_so(tmp_path):
    st = BASE["stop_times.txt"].split("\n", 1)[1].replace("10:02:00,10:02:00", "10:00:00,10:00:00")
    with pytest.raises(LoaderError) as info:
        load(feed(tmp_path, stop_times__txt=st))  # first line: T1,10:00:00,10:00:00,A,1
    n = info.value.notice
    assert (n.code, n.file, n.row) == ("missing_required_column", "stop_times.txt", 1)
    assert "header row" in n.message and "appears twice" not in n.message
    assert "'T1', '10:00:00', '10:00:00', 'A', '1'" in n.message
