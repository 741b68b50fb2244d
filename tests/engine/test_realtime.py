"""Real-time overlays (engine/transit/realtime.py) on BART with its real trip updates: every
real-time time checked against the GTFS-Realtime rules written here from the spec, RAPTOR on
the overlay against a connection scan over the updated connections, cancelled trips and SKIPPED
stops (made by editing a copy of the feed), an overtaking trip in its own pattern."""
from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pytest
from google.transit import gtfs_realtime_pb2 as pb

from engine import transit as T
from engine.transit.realtime import (
    RealtimeUpdates,
    StopTimeChange,
    TripDelayUpdate,
    apply_realtime,
    trip_stop_times,
)
from engine.transit.realtime_times import realtime_times
from loaders.build import BuildOptions, build_network
from loaders.gtfs_rt import feed_from_message
from loaders.realtime_adapter import known_ids, overlay_from_feeds
from loaders.report import BuildReport
from tests.conftest import SHARED_DATA
from tests.engine.gtfs_raw import RawFeed
from tests.engine.transit_oracle import oracle_from_lists

RT = SHARED_DATA / "gtfs_rt"
pytestmark = pytest.mark.skipif(not (RT / "bart-rt.zip").exists(), reason="../shared/data/gtfs_rt is missing")

DATE = dt.date(2019, 8, 7)                 # the feed's day: 17:45 UTC is 10:45 in San Francisco
DAY = T.day_of(DATE)
DEPART_S = 10 * 3600 + 45 * 60
OPTIONS = T.TransitOptions()
TZ = "America/Los_Angeles"


# ---------------------------------------------------------------------------------------------
# The rules of the spec, hand-checked on tiny trips
# ---------------------------------------------------------------------------------------------
SCHED_ARR = np.array([0, 100, 200, 300, 400])
SCHED_DEP = np.array([10, 110, 210, 310, 410])


def test_a_delay_holds_downstream_until_the_next_update_and_never_upstream():
    arr, dep, _, _ = realtime_times(SCHED_ARR, SCHED_DEP, [StopTimeChange(1, arrival_delay_s=60,
                                                                          departure_delay_s=90),
                                                           StopTimeChange(3, arrival_delay_s=30)])
    assert arr.tolist() == [0, 160, 290, 330, 430]
    assert dep.tolist() == [10, 200, 300, 340, 440]   # stop 3's departure takes its arrival's delay


def test_absolute_time_wins_over_delay_and_no_data_restores_the_schedule():
    arr, dep, _, _ = realtime_times(SCHED_ARR, SCHED_DEP, [
        StopTimeChange(0, departure_delay_s=999, departure_s=40), StopTimeChange(2, no_data=True)])
    assert dep.tolist() == [40, 140, 210, 310, 410] and arr.tolist() == [30, 130, 200, 300, 400]


def test_skipped_stops_pass_the_delay_over_and_times_never_go_back():
    arr, dep, skipped, n_clamped = realtime_times(SCHED_ARR, SCHED_DEP, [
        StopTimeChange(0, departure_delay_s=50), StopTimeChange(1, skipped=True),
        StopTimeChange(3, arrival_delay_s=-200)])
    assert skipped.tolist() == [False, True, False, False, False]
    # stop 3 would arrive at 100 (300 - 200), before stop 2's departure at 260: raised to it
    assert arr.tolist() == [50, 150, 250, 260, 260]
    assert dep.tolist() == [60, 160, 260, 260, 260] and n_clamped == 4


# ---------------------------------------------------------------------------------------------
# BART
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bart():
    network, _ = build_network(BuildOptions(gtfs=[RT / "bart-rt.zip"], progress=False), BuildReport())
    tt = network.timetable
    raw = RawFeed(RT / "bart-rt.zip")
    message = pb.FeedMessage()
    message.ParseFromString((RT / "bart-trip-updates.pb").read_bytes())
    return tt, raw, message


def _reference_utc_s(day_date: dt.date) -> float:
    noon = dt.datetime(day_date.year, day_date.month, day_date.day, 12, tzinfo=zoneinfo.ZoneInfo(TZ))
    return noon.timestamp() - 12 * 3600


def _spec_times(stops, sched_arr, sched_dep, board, alight, stus):
    """Real-time times from the GTFS-Realtime reference, for one trip of the raw GTFS.

    Updates are placed by stop_id in order. A stop's times come from the last update at or before
    it that is not SKIPPED (a skipped stop passes the delay over): none or NO_DATA -> schedule;
    the stop's own update -> its events (time wins over delay, a missing event takes the other's
    delay); an earlier update -> that update's departure delay. Then times are made
    non-decreasing along the trip (the overlay's documented clamp).
    """
    ref = _reference_utc_s(DATE)
    placed, cursor = {}, 0
    for u in stus:
        i = list(stops).index(u.stop_id, cursor)
        placed[i], cursor = u, i + 1

    def delay(event, scheduled):
        return int(event.time - ref - scheduled) if event.HasField("time") else int(event.delay)

    arr, dep = [], []
    for i in range(len(stops)):
        governing = [j for j in placed if j <= i and placed[j].schedule_relationship != 1]
        u = placed[max(governing)] if governing else None
        if u is None or u.schedule_relationship == 2:        # none yet, or NO_DATA
            a_delay = d_delay = 0
        else:
            j = max(governing)
            has_a, has_d = u.HasField("arrival"), u.HasField("departure")
            a_own = delay(u.arrival, sched_arr[j]) if has_a else None
            d_own = delay(u.departure, sched_dep[j]) if has_d else None
            d_delay = d_own if d_own is not None else a_own
            a_delay = (a_own if a_own is not None else d_own) if j == i else d_delay
        arr.append(int(sched_arr[i]) + a_delay)
        dep.append(int(sched_dep[i]) + d_delay)
    for i in range(len(stops)):
        arr[i] = max(arr[i], dep[i - 1]) if i else arr[i]
        dep[i] = max(dep[i], arr[i])
    skipped = np.zeros(len(stops), bool)
    for i, u in placed.items():
        skipped[i] = u.schedule_relationship == 1
    return np.array(arr), np.array(dep), board & ~skipped, alight & ~skipped


def _expected(raw, message):
    """trip_id -> (stops, arr, dep, board, alight) by the spec, for every SCHEDULED update of a
    trip the static feed has; and the set of CANCELED trip ids."""
    out, cancelled = {}, set()
    for e in message.entity:
        trip = e.trip_update.trip
        if trip.trip_id not in raw.index:
            continue
        stus = list(e.trip_update.stop_time_update)
        seqs = [u.stop_sequence for u in stus]
        if trip.schedule_relationship == 3:
            cancelled.add(trip.trip_id)
            continue
        if trip.schedule_relationship != 0 or seqs != sorted(set(seqs)):
            continue  # ADDED; E002 (sequence out of order) is rejected by the reader
        sl = raw.trip(trip.trip_id)
        out[trip.trip_id] = (raw.stop_id[sl], *_spec_times(raw.stop_id[sl], raw.arr[sl], raw.dep[sl],
                                                           raw.board[sl], raw.alight[sl], stus))
    return out, cancelled


def _overlay(tt, message):
    feed = feed_from_message(message, "bart", known=known_ids(tt))
    overlay, _ = overlay_from_feeds(tt, feed)
    return overlay


def _oracle(tt, raw, expected, cancelled):
    stop_idx = {str(s): i for i, s in enumerate(tt.stop_ids)}
    lists = {k: [] for k in ("stops", "arr", "dep", "board", "alight")}
    today = raw.runs_on(DATE).copy()
    yesterday = raw.runs_on(DATE - dt.timedelta(days=1))
    for t, trip_id in enumerate(raw.trip_ids):
        sl = slice(raw.offsets[t], raw.offsets[t + 1])
        for key, value in zip(lists, (np.array([stop_idx[s] for s in raw.stop_id[sl]]), raw.arr[sl],
                                      raw.dep[sl], raw.board[sl], raw.alight[sl]), strict=True):
            lists[key].append(value)
        if trip_id in expected or trip_id in cancelled:
            today[t] = False
    for stops, arr, dep, board, alight in expected.values():
        for key, value in zip(lists, (np.array([stop_idx[s] for s in stops]), arr, dep, board, alight),
                              strict=True):
            lists[key].append(value)
    n_rt = len(expected)
    today = np.r_[today, np.ones(n_rt, bool)]
    yesterday = np.r_[yesterday, np.zeros(n_rt, bool)]
    src = np.repeat(np.arange(tt.n_stops), np.diff(tt.transfer_offsets))
    footpaths = [(int(a), int(b), int(w)) for a, b, w in zip(src, tt.transfer_to_stop, tt.transfer_time_s,
                                                              strict=True) if a != b]
    change = np.where(tt.stop_min_transfer_s >= 0, tt.stop_min_transfer_s, OPTIONS.transfer_slack_s)
    return oracle_from_lists(tt.n_stops, lists["stops"], lists["arr"], lists["dep"], lists["board"],
                             lists["alight"], today, yesterday, footpaths, change,
                             prev_day_shift_s=T.previous_day_shift_s(TZ, DAY))


def _queries(tt, n, seed):
    served = np.flatnonzero(np.diff(tt.stop_route_offsets) > 0)
    rng = np.random.default_rng(seed)
    return [tuple(int(s) for s in rng.choice(served, 2, replace=False)) for _ in range(n)]


def _check_against_oracle(overlay, oracle, pairs):
    """RAPTOR on the overlay gives the connection scan's Pareto set; returns the journeys."""
    ott = overlay.timetable
    router = T.router_for(ott)
    found = []
    for o, d in pairs:
        js = router.earliest_arrival([(o, 0)], [(d, 0)], DAY, DEPART_S, options=OPTIONS)
        want = oracle.pareto([(o, 0)], [(d, 0)], DEPART_S, OPTIONS.max_transfers + 1, OPTIONS.max_duration_s)
        got = sorted(zip(js.n_trips.tolist(), js.arrive_s.tolist(), strict=True))
        assert got == want, (ott.stop_ids[o], ott.stop_ids[d])
        found.append(js)
    return found


def test_every_real_time_time_follows_the_spec(bart):
    tt, raw, message = bart
    overlay = _overlay(tt, message)
    expected, _ = _expected(raw, message)
    ott = overlay.timetable
    assert overlay.report.applied == len(expected) == 64
    assert overlay.report.ignored["ADDED_trip"] == 8
    by_trip_id = {str(ott.trip_ids[t]): t for t in range(overlay.n_static_trips, ott.n_trips)}
    assert set(by_trip_id) == set(expected)
    n_moved = 0
    for trip_id, (stops, arr, dep, board, alight) in expected.items():
        t = by_trip_id[trip_id]
        assert overlay.trip_realtime_day[t] == DAY
        assert ott.trip_ids[overlay.original_trip_idx[t]] == trip_id
        got_stops, got_arr, got_dep, got_board, got_alight = trip_stop_times(ott, t)
        assert [str(s) for s in ott.stop_ids[got_stops]] == list(stops)
        assert got_arr.tolist() == arr.tolist() and got_dep.tolist() == dep.tolist(), trip_id
        assert got_board.tolist() == board.tolist() and got_alight.tolist() == alight.tolist()
        n_moved += (got_arr != raw.arr[raw.trip(trip_id)]).any()
        # the scheduled trip no longer runs that day, and still runs on the next weekday
        static = int(overlay.original_trip_idx[t])
        col = DAY - ott.service_first_day
        assert not ott.service_active[ott.trip_service_idx[static], col]
        assert ott.service_active[ott.trip_service_idx[static], col + 1]
        # and the real-time trip runs that day only
        assert np.flatnonzero(ott.service_active[ott.trip_service_idx[t]]).tolist() == [col]
    assert n_moved > 40  # most updates do change times


def test_raptor_uses_real_time_times_and_is_exact_over_the_updated_connections(bart):
    tt, raw, message = bart
    overlay = _overlay(tt, message)
    expected, cancelled = _expected(raw, message)
    oracle = _oracle(tt, raw, expected, cancelled)
    found = _check_against_oracle(overlay, oracle, _queries(tt, 200, seed=13))
    ott = overlay.timetable
    n_rt_legs = 0
    for js in found:
        rides = np.flatnonzero(js.leg_kind == T.LEG_RIDE)
        realtime = rides[js.leg_trip_idx[rides] >= overlay.n_static_trips]
        n_rt_legs += realtime.size
        for leg in realtime:   # a real-time ride's times are the spec's
            stops, arr, dep, *_ = expected[str(ott.trip_ids[js.leg_trip_idx[leg]])]
            stop_ids = list(stops)
            board = stop_ids.index(str(ott.stop_ids[js.leg_from_stop[leg]]))
            assert dep[board] == js.leg_depart_s[leg]
            alight = stop_ids.index(str(ott.stop_ids[js.leg_to_stop[leg]]), board + 1)
            assert arr[alight] == js.leg_arrive_s[leg]
    assert n_rt_legs > 50
    # and the static timetable answers differently for some of the same queries
    static_router = T.router_for(tt)
    differ = sum(
        static_router.earliest_arrival([(o, 0)], [(d, 0)], DAY, DEPART_S).arrive_s.tolist()
        != js.arrive_s.tolist() for (o, d), js in zip(_queries(tt, 200, seed=13), found, strict=True))
    assert differ > 10


def _edited(message, cancel: str, skip: tuple[str, int]):
    """A copy of the feed with one trip CANCELED and one stop of another trip SKIPPED."""
    edited = pb.FeedMessage()
    edited.CopyFrom(message)
    for e in edited.entity:
        if e.trip_update.trip.trip_id == cancel:
            e.trip_update.trip.schedule_relationship = pb.TripDescriptor.CANCELED
            del e.trip_update.stop_time_update[:]
        if e.trip_update.trip.trip_id == skip[0]:
            stu = e.trip_update.stop_time_update[skip[1]]
            stu.schedule_relationship = pb.TripUpdate.StopTimeUpdate.SKIPPED
            stu.ClearField("arrival")
            stu.ClearField("departure")
    return edited


def test_a_cancelled_trip_is_never_boarded_and_a_skipped_stop_never_used(bart):
    tt, raw, message = bart
    # the two trips the real-time queries ride most
    base = _overlay(tt, message)
    counts: dict[str, int] = {}
    pairs = _queries(tt, 120, seed=5)
    for o, d in pairs:
        js = T.router_for(base.timetable).earliest_arrival([(o, 0)], [(d, 0)], DAY, DEPART_S)
        for t in js.leg_trip_idx[js.leg_kind == T.LEG_RIDE]:
            if t >= base.n_static_trips:
                trip_id = str(base.timetable.trip_ids[t])
                counts[trip_id] = counts.get(trip_id, 0) + 1
    cancel, skip_trip = sorted(counts, key=counts.get, reverse=True)[:2]
    n_updates = len(next(e for e in message.entity if e.trip_update.trip.trip_id == skip_trip)
                    .trip_update.stop_time_update)
    edited = _edited(message, cancel, (skip_trip, n_updates // 2))
    overlay = _overlay(tt, edited)
    assert overlay.report.cancelled == 1 and overlay.report.skipped_stops == 1
    ott = overlay.timetable
    cancelled_idx = int(np.flatnonzero(ott.trip_ids[:overlay.n_static_trips] == cancel)[0])
    assert overlay.cancelled_trip_idx.tolist() == [cancelled_idx]
    assert overlay.cancelled_day.tolist() == [DAY]
    expected, cancelled = _expected(raw, edited)
    assert cancelled == {cancel}
    skipped_stop = expected[skip_trip][0][~expected[skip_trip][3] & raw.board[raw.trip(skip_trip)]]
    assert len(skipped_stop) == 1
    oracle = _oracle(tt, raw, expected, cancelled)
    for js in _check_against_oracle(overlay, oracle, pairs):
        rides = np.flatnonzero(js.leg_kind == T.LEG_RIDE)
        for leg in rides:
            trip = int(js.leg_trip_idx[leg])
            assert overlay.original_trip_idx[trip] != cancelled_idx or js.leg_day_offset[leg] != 0
            if str(ott.trip_ids[trip]) == skip_trip and trip >= overlay.n_static_trips:
                assert ott.stop_ids[js.leg_from_stop[leg]] != skipped_stop[0]
                assert ott.stop_ids[js.leg_to_stop[leg]] != skipped_stop[0]


def test_an_overtaking_trip_gets_its_own_pattern_and_raptor_stays_exact(bart):
    tt, raw, _ = bart
    # two consecutive trips of one static pattern running on the day, around the query time
    col = DAY - tt.service_first_day
    for r in range(tt.n_routes):
        b0, k, n = tt.route_block(r)
        t0 = int(tt.route_trip_offsets[r])
        runs = [t0 + j for j in range(n) if tt.service_active[tt.trip_service_idx[t0 + j], col]
                and DEPART_S <= tt.departure_s[b0 + j] <= DEPART_S + 1800]
        if k >= 8 and len(runs) >= 2:
            first, second = runs[0], runs[1]
            break
    gap = int(trip_stop_times(tt, second)[2][0] - trip_stop_times(tt, first)[2][0])
    # the first trip loses gap + 5 min after its third stop: the second overtakes it there
    updates = RealtimeUpdates(trips=(
        TripDelayUpdate(first, DAY, (StopTimeChange(3, arrival_delay_s=gap + 300),)),
        TripDelayUpdate(second, DAY, (), trip_delay_s=0)))
    overlay = apply_realtime(tt, DAY, updates)
    ott = overlay.timetable
    assert overlay.report.overtaking_trips == 2 and overlay.report.extra_patterns == 1
    new_first, new_second = (int(np.flatnonzero(overlay.original_trip_idx == t)[-1]) for t in (first, second))
    assert ott.trip_route_idx[new_first] != ott.trip_route_idx[new_second]
    assert ott.trip_route_idx[new_first] >= tt.n_routes and ott.trip_route_idx[new_second] >= tt.n_routes
    # every route of the overlay is FIFO
    for r in range(ott.n_routes):
        b0, k, n = ott.route_block(r)
        dep = ott.departure_s[b0:b0 + k * n].reshape(k, n)
        assert (np.diff(dep, axis=1) >= 0).all()
    # RAPTOR against the scan, from the stops of that pattern
    stops_of = [str(s) for s in tt.stop_ids[trip_stop_times(tt, first)[0]]]
    expected = {}
    for t in (first, second):
        new = int(np.flatnonzero(overlay.original_trip_idx == t)[-1])
        stops, arr, dep, board, alight = trip_stop_times(ott, new)
        expected[str(tt.trip_ids[t])] = (stops_of, arr, dep, board, alight)
    oracle = _oracle(tt, raw, expected, set())
    idx = {s: i for i, s in enumerate(tt.stop_ids.tolist())}
    pairs = [(idx[a], idx[b]) for i, a in enumerate(stops_of) for b in stops_of[i + 1:]]
    _check_against_oracle(overlay, oracle, pairs[:60])
