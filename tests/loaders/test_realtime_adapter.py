"""Resolving GTFS-Realtime feeds against a timetable (loaders/realtime_adapter.py): trips by id
(frequency-based ones by start time), stops by stop_id in order (loops), the service day, stale
feeds, NO_SERVICE alerts, and the validator's error feeds on Caltrain never raising."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from google.transit import gtfs_realtime_pb2 as pb

from engine import transit as T
from engine.transit.build import timetable_from_trips
from engine.transit.realtime import trip_stop_times
from loaders.gtfs import timetable_from_gtfs
from loaders.gtfs_rt import feed_from_message, read_feed
from loaders.realtime_adapter import (
    DEFAULT_SERVER_MAX_AGE_S,
    known_ids,
    overlay_from_feeds,
    updates_from_feeds,
)
from loaders.report import BuildReport
from tests.conftest import SHARED_DATA
from tests.engine.trip_tables import trip_stop_times as rows_to_trips

RT = SHARED_DATA / "gtfs_rt"
TZ = "Europe/Paris"
FIRST_DAY = T.day_of(dt.date(2024, 3, 4))     # a Monday; service runs every day of one week
H = 3600


@pytest.fixture(scope="module")
def town():
    """Stops A B C D; line 0: a loop A B C A D at 08:00 and a frequency-based trip F every 10
    minutes from 08:00 (A B C); trip N after midnight (25:00) on A B."""
    rows = [("L", 0, 0, [(0, 8 * H, 8 * H), (1, 8 * H + 300, 8 * H + 320), (2, 8 * H + 600, 8 * H + 620),
                         (0, 8 * H + 900, 8 * H + 920), (3, 8 * H + 1200, 8 * H + 1200)]),
            ("N", 0, 0, [(0, 25 * H, 25 * H), (1, 25 * H + 600, 25 * H + 600)])]
    rows += [(f"F@08:{m:02d}:00", 0, 0, [(0, 8 * H + 60 * m, 8 * H + 60 * m),
                                         (1, 8 * H + 60 * m + 300, 8 * H + 60 * m + 300),
                                         (2, 8 * H + 60 * m + 600, 8 * H + 60 * m + 600)])
             for m in (0, 10, 20)]
    return timetable_from_trips(
        stop_ids=["A", "B", "C", "D"], stop_name=["A", "B", "C", "D"], stop_lon=[0.0, 0.01, 0.02, 0.03],
        stop_lat=[0.0] * 4, line_ids=["1"], line_short_name=["1"], line_long_name=[""], line_type=[3],
        trips=rows_to_trips(rows), service_ids=["all"], service_first_day=FIRST_DAY,
        service_active=np.ones((1, 7), dtype=bool), timezone=TZ)


def _utc(day: int, seconds: int) -> int:
    return int(T.from_service_time(TZ, day, seconds).timestamp())


def _message(timestamp: int, *updates) -> pb.FeedMessage:
    """updates: (trip_id, start_time, start_date, [(stop_id, stop_sequence, delay_s)])."""
    m = pb.FeedMessage()
    m.header.gtfs_realtime_version = "2.0"
    m.header.timestamp = timestamp
    for i, (trip_id, start_time, start_date, stops) in enumerate(updates):
        e = m.entity.add(id=str(i))
        e.trip_update.trip.trip_id = trip_id
        if start_time:
            e.trip_update.trip.start_time = start_time
        if start_date:
            e.trip_update.trip.start_date = start_date
        for stop_id, seq, delay in stops:
            u = e.trip_update.stop_time_update.add()
            if stop_id:
                u.stop_id = stop_id
            if seq is not None:
                u.stop_sequence = seq
            u.arrival.delay = delay
    return m


def _resolve(tt, message, **kwargs):
    return updates_from_feeds(tt, feed_from_message(message, "test"), **kwargs)


def test_a_loop_is_matched_by_stop_id_in_travel_order(town):
    day = FIRST_DAY + 1
    updates, got_day, report = _resolve(town, _message(_utc(day, 8 * H), ("L", None, None,
                                                       [("B", 2, 60), ("A", 4, 120)])))
    assert got_day == day and not report.unmatched
    (trip,) = updates.trips
    assert [c.position for c in trip.stops] == [1, 3]   # the second A, after B


def test_a_frequency_trip_is_matched_by_trip_id_and_start_time(town):
    ts = _utc(FIRST_DAY, 8 * H)
    updates, _, report = _resolve(town, _message(ts, ("F", "8:10:00", None, [("B", None, 90)]),
                                                 ("F", None, None, [("B", None, 90)]),
                                                 ("F", "09:10:00", None, [("B", None, 90)])))
    (trip,) = updates.trips
    assert town.trip_ids[trip.trip_idx] == "F@08:10:00"
    assert report.unmatched == {"frequency_trip_without_start_time": 1,
                                "frequency_trip_start_time_unknown": 1}


def test_stops_not_on_the_trip_or_without_stop_id_are_counted_not_raised(town):
    updates, _, report = _resolve(town, _message(_utc(FIRST_DAY, 8 * H), ("L", None, None,
                                  [("D", None, 30), ("B", None, 60), (None, 3, 10)]),
                                  ("nope", None, None, [("A", None, 1)])))
    (trip,) = updates.trips
    assert [c.position for c in trip.stops] == [4]   # D; B comes before D on the loop
    assert report.unmatched == {"stop_not_on_trip": 1, "stop_sequence_without_stop_id": 1,
                                "unknown_trip": 1}


def test_the_service_day_comes_from_start_date_or_from_the_feed_time(town):
    day = FIRST_DAY + 2
    # 00:30 on day + 1 (local): trip N (25:00) of the service day before is the one running
    ts = _utc(day + 1, 30 * 60)
    updates, overlay_day, _ = _resolve(town, _message(ts, ("N", None, None, [("B", None, 60)]),
                                                      ("L", None, "20240305", [("B", None, 60)])))
    assert overlay_day == day + 1
    assert [(town.trip_ids[u.trip_idx], u.service_day) for u in updates.trips] == [
        ("N", day), ("L", T.day_of(dt.date(2024, 3, 5)))]
    overlay, _ = overlay_from_feeds(town, feed_from_message(_message(
        ts, ("N", None, None, [("B", None, 60)])), "test"))
    (new,) = range(overlay.n_static_trips, overlay.timetable.n_trips)
    assert trip_stop_times(overlay.timetable, new)[1].tolist() == [25 * H, 25 * H + 660]
    assert overlay.trip_realtime_day[new] == day


def test_a_stale_feed_is_ignored_only_when_a_maximum_age_is_given(town):
    ts = _utc(FIRST_DAY, 8 * H)
    message = _message(ts, ("L", None, None, [("B", None, 60)]))
    later = ts + 3600
    updates, _, report = _resolve(town, message, now_utc_s=later, max_age_s=DEFAULT_SERVER_MAX_AGE_S)
    assert report.stale and report.stale_feeds == ["test"] and updates.trips == ()
    updates, _, report = _resolve(town, message, now_utc_s=later)  # a file: no maximum age
    assert not report.stale and len(updates.trips) == 1 and report.feed_ages_s["test"] == 3600


def test_a_no_service_alert_closes_its_stop_and_a_cancelled_trip_is_switched_off(town):
    ts = _utc(FIRST_DAY, 8 * H)
    m = _message(ts)
    alert = m.entity.add(id="closed").alert
    alert.effect = pb.Alert.NO_SERVICE
    alert.informed_entity.add(stop_id="C")
    alert.active_period.add(start=ts - 60, end=ts + 3600)
    cancel = m.entity.add(id="gone").trip_update.trip
    cancel.trip_id, cancel.schedule_relationship = "L", pb.TripDescriptor.CANCELED
    overlay, _ = overlay_from_feeds(town, feed_from_message(m, "test"))
    ott = overlay.timetable
    at_c = ott.route_stops == 2
    assert at_c.any() and not ott.route_stop_can_board[at_c].any()
    assert not ott.route_stop_can_alight[at_c].any()
    assert overlay.report.closed_stops == 1 and overlay.report.cancelled == 1
    assert town.trip_ids[overlay.cancelled_trip_idx[0]] == "L"
    js = T.earliest_arrival(ott, [(0, 0)], [(3, 0)], FIRST_DAY, 7 * H)   # only L serves D
    assert js.n_journeys == 0
    assert T.earliest_arrival(town, [(0, 0)], [(3, 0)], FIRST_DAY, 7 * H).n_journeys == 1


ERROR_CASES = sorted(p.name for p in (RT / "errors").glob("*.json")) if RT.is_dir() else []


@pytest.fixture(scope="module")
def caltrain():
    if not RT.is_dir():
        pytest.skip("../shared/data/gtfs_rt is missing")
    return timetable_from_gtfs(RT / "ct.zip", BuildReport())


@pytest.mark.parametrize("case", ERROR_CASES)
def test_each_error_feed_resolves_without_raising(case, caltrain):
    feed = read_feed(RT / "errors" / case, known=known_ids(caltrain))
    overlay, report = overlay_from_feeds(caltrain, feed)
    assert overlay.timetable.n_trips == caltrain.n_trips + overlay.report.applied
    assert feed.report.rejected or overlay.report.applied or overlay.report.ignored or report.unmatched


def test_caltrain_trip_updates_apply_with_their_start_dates(caltrain):
    feed = read_feed(RT / "ct-trip-updates.pb", known=known_ids(caltrain))
    overlay, report = overlay_from_feeds(caltrain, feed)
    assert overlay.report.applied + sum(report.unmatched.values()) + sum(report.ignored.values()) == 19
    assert overlay.report.applied >= 10
    days = set(overlay.trip_realtime_day[overlay.n_static_trips:].tolist())
    assert days == {T.day_of(dt.date(2023, 11, 7))}
