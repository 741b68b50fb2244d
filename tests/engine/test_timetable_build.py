"""Grouping trips into RAPTOR routes: patterns, FIFO split, stop-major layout, inverse."""
import numpy as np
import pytest

from engine.transit.build import timetable_from_trips, trips_of
from tests.engine.trip_tables import trip_stop_times


def _trips(rows):
    """rows: (trip_id, line_idx, [(stop_idx, arr_s, dep_s), ...]), every trip on service 0."""
    return trip_stop_times([(trip, line, 0, times) for trip, line, times in rows])


def _build(rows, **kw):
    return timetable_from_trips(
        stop_ids=["a", "b", "c", "d"], stop_name=["A", "B", "C", "D"], stop_lon=[0, 1, 2, 3],
        stop_lat=[0, 0, 0, 0], line_ids=["L1", "L2"], line_short_name=["1", "2"],
        line_long_name=["", ""], line_type=[3, 0], trips=_trips(rows), service_ids=["all"],
        service_first_day=20_000, service_active=np.ones((1, 7), dtype=bool),
        timezone="Europe/Paris", **kw)


def test_trips_with_the_same_stops_share_a_route_sorted_by_departure():
    tt = _build([
        ("late", 0, [(0, 900, 900), (1, 1000, 1010), (2, 1100, 1100)]),
        ("early", 0, [(0, 300, 300), (1, 400, 410), (2, 500, 500)]),
        ("other-line", 1, [(0, 300, 300), (1, 400, 410), (2, 500, 500)]),
        ("short", 0, [(1, 100, 100), (2, 200, 200)]),
    ])
    assert tt.n_routes == 3 and tt.n_trips == 4 and tt.n_stop_times == 11
    r = int(np.flatnonzero((tt.route_line_idx == 0) & (np.diff(tt.route_stop_offsets) == 3))[0])
    first, k, n = tt.route_block(r)
    assert (k, n) == (3, 2)
    trips = tt.trip_ids[tt.route_trip_offsets[r]:tt.route_trip_offsets[r + 1]]
    assert list(trips) == ["early", "late"]
    # stop-major: stop 0 of both trips, then stop 1, then stop 2
    assert list(tt.departure_s[first:first + 6]) == [300, 900, 410, 1010, 500, 1100]
    assert list(tt.arrival_s[first:first + 6]) == [300, 900, 400, 1000, 500, 1100]
    # stop 1 ("b") is served by all three routes at the right positions
    a, b = tt.stop_route_offsets[1], tt.stop_route_offsets[2]
    served = sorted(zip(tt.stop_route_idx[a:b].tolist(), tt.stop_route_pos[a:b].tolist(), strict=True))
    assert len(served) == 3 and {pos for _, pos in served} == {0, 1}


def test_an_overtaking_trip_gets_its_own_route():
    tt = _build([
        ("slow", 0, [(0, 0, 0), (1, 600, 600), (2, 1200, 1200)]),
        ("express", 0, [(0, 60, 60), (1, 300, 300), (2, 500, 500)]),
        ("slow2", 0, [(0, 120, 120), (1, 700, 700), (2, 1300, 1300)]),
    ])
    assert tt.n_routes == 2
    groups = sorted(sorted(tt.trip_ids[tt.route_trip_offsets[r]:tt.route_trip_offsets[r + 1]])
                    for r in range(tt.n_routes))
    assert groups == [["express"], ["slow", "slow2"]]


def test_footpaths_are_indexed_by_from_stop_keeping_the_shortest():
    tt = _build([("t", 0, [(0, 0, 0), (1, 60, 60)])],
                transfer_from_stop=[2, 0, 0], transfer_to_stop=[3, 1, 1], transfer_time_s=[50, 90, 70])
    assert list(tt.transfer_offsets) == [0, 1, 1, 2, 2]
    assert list(tt.transfer_to_stop) == [1, 3] and list(tt.transfer_time_s) == [70, 50]


def test_trips_of_inverts_the_layout():
    rows = [("x", 0, [(0, 0, 10), (1, 60, 70), (3, 200, 200)]),
            ("y", 1, [(3, 90000, 90000), (2, 90100, 90160)])]
    tt = _build(rows)
    back = trips_of(tt)
    got = {back.trip_ids[t]: back.st_departure_s[back.st_offsets[t]:back.st_offsets[t + 1]].tolist()
           for t in range(back.n_trips)}
    assert got == {"x": [10, 70, 200], "y": [90000, 90160]}


def test_times_going_backwards_are_refused():
    with pytest.raises(ValueError, match="goes back in time"):
        _build([("bad", 0, [(0, 100, 100), (1, 50, 50)])])


def test_merged_walking_footpaths_never_override_feed_transfers():
    from engine.transit.build import merge_footpaths
    tt = _build([("t", 0, [(0, 0, 0), (1, 60, 60)])],
                transfer_from_stop=[0], transfer_to_stop=[1], transfer_time_s=[300])
    merged = merge_footpaths(tt, [0, 1, 3], [1, 0, 2], [45, 45, 80])
    assert list(merged.transfer_offsets) == [0, 1, 2, 2, 3]
    assert list(merged.transfer_to_stop) == [1, 0, 2]
    assert list(merged.transfer_time_s) == [300, 45, 80]
