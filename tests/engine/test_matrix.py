"""Travel-time matrices against single queries: every mode against the planner's plan_trip on
sampled pairs, streets against point-to-point routes, a window against one departure per minute."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine.planning.itinerary import Point
from engine.planning.matrix import MatrixError, travel_time_matrix
from engine.planning.options import PlanOptions
from engine.planning.planner import plan_trip
from engine.scenario import CloseParking, ScaleParkingDemand
from engine.transit import OutsideServicePeriod, to_service_time
from loaders.bundle import load_bundle

SATURDAY_15H = dt.datetime(2026, 1, 10, 15, 0)     # Monaco, Europe/Paris
WEDNESDAY_0755 = dt.datetime(2026, 1, 14, 7, 55)    # tiny town


def _points(seed: int, n: int) -> np.ndarray:
    """Random points over central Monaco (some fall in the sea or far from any stop)."""
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(7.413, 7.437, n), rng.uniform(43.728, 43.748, n)])


def _stop_point(net, stop_id: str) -> list[float]:
    i = list(net.timetable.stop_ids).index(stop_id)
    return [float(net.timetable.stop_lon[i]), float(net.timetable.stop_lat[i])]


def _plan_time(net, a, b, when, mode: str, options: PlanOptions | None = None) -> float:
    """Seconds from ``when`` to the earliest arrival of plan_trip's itineraries in one mode."""
    res = plan_trip(net, Point(lon=a[0], lat=a[1]), Point(lon=b[0], lat=b[1]), depart_at=when,
                    modes=[mode], options=options)
    if not res.itineraries:
        return np.nan
    _, time_s = to_service_time(net.timezone, when)
    return float(min(it.end_s for it in res.itineraries) - time_s)


def _plan_matrix(net, o, d, when, mode, options=None, max_time_s=7200) -> np.ndarray:
    out = np.array([[_plan_time(net, a, b, when, mode, options) for b in d] for a in o])
    out[out > max_time_s] = np.nan
    return out


def test_bus_a_from_relais_ouest_to_gare_before_the_8_oclock_bus(town):
    # 07:55 on a weekday; 16 s to walk to the stop (10 m to the street, 10 m along it), bus A
    # at 08:00 reaches Gare at 08:04, 16 s to walk off: 9 min 16 s
    o = [_stop_point(town, "RELAIS_OUEST")]
    d = [_stop_point(town, "GARE")]
    r = travel_time_matrix(town, o, d, departure=WEDNESDAY_0755, modes="TRANSIT", breakdown=True)
    assert r.travel_time_s[0, 0] == 556
    parts = {k: float(v[0, 0]) for k, v in r.breakdown.items()}
    assert parts == {"access_s": 16, "wait_s": 284, "ride_s": 240, "transfer_walk_s": 0, "egress_s": 16,
                     "transfers": 0}


@pytest.mark.parametrize("mode", ["TRANSIT", "WALK", "BICYCLE", "CAR_PARK"])
def test_each_mode_matches_plan_trip_on_sampled_monaco_pairs(monaco, mode):
    pts = _points(7, 16)
    o, d = pts[:8], pts[8:]
    r = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=[mode])
    expected = _plan_matrix(monaco, o, d, SATURDAY_15H, mode)
    np.testing.assert_array_equal(r.travel_time_s, expected)
    assert np.isfinite(r.travel_time_s).sum() >= 24           # most of the sample is reachable


def test_car_park_times_match_plan_trip_when_a_car_park_is_full_and_when_not(town):
    # Parking Centre is full every weekday afternoon: the planner avoids it at 15:00, not at 10:00
    o = np.array([[7.5001, 43.8001], [7.5100, 43.8054], [7.4998, 43.8030]])
    d = np.array([[7.5050, 43.8040], [7.5080, 43.8019], [7.5010, 43.8005]])
    for hour in (10, 15):
        when = dt.datetime(2026, 1, 14, hour, 0)
        r = travel_time_matrix(town, o, d, departure=when, modes=["CAR_PARK"])
        np.testing.assert_array_equal(r.travel_time_s, _plan_matrix(town, o, d, when, "CAR_PARK"))


def test_car_park_choice_prices_the_diversion_when_full_as_the_planner_does(town):
    # 20 % more demand at 09:00: Parking Gare and Parking Relais may be full on arrival, so the
    # expected detour to the next car park changes the choice for 5 of these 36 pairs (checked
    # by hand against a choice without the diversion); each time must still be plan_trip's
    busy, _ = ScaleParkingDemand(factor=1.2).apply(town)
    o = [[7.50513, 43.80354], [7.50996, 43.80487], [7.50109, 43.80324], [7.50994, 43.80114],
         [7.50293, 43.80479], [7.50416, 43.80271]]
    d = [[7.50775, 43.80123], [7.50258, 43.79954], [7.50484, 43.80357], [7.51029, 43.80404],
         [7.51008, 43.80476], [7.50747, 43.80128]]
    when = dt.datetime(2026, 1, 14, 9, 0)
    r = travel_time_matrix(busy, o, d, departure=when, modes=["CAR_PARK"])
    np.testing.assert_array_equal(r.travel_time_s, _plan_matrix(busy, o, d, when, "CAR_PARK"))
    assert np.isfinite(r.travel_time_s).all()


def test_walk_or_transit_takes_the_quicker_of_the_two(monaco):
    pts = _points(3, 16)
    o, d = pts[:8], pts[8:]
    both = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=["WALK", "TRANSIT"])
    walk = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=["WALK"])
    ride = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=["TRANSIT"])
    np.testing.assert_array_equal(both.travel_time_s, np.fmin(walk.travel_time_s, ride.travel_time_s))
    assert set(np.unique(both.best_mode)) <= {-1, 0, 1}


def test_a_bicycle_preferring_bike_lanes_matches_plan_trip(monaco):
    pts = _points(11, 16)
    o, d = pts[:8], pts[8:]
    opts = PlanOptions(bike_lane_preference=0.5)
    r = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=["BICYCLE"], options=opts)
    np.testing.assert_array_equal(r.travel_time_s, _plan_matrix(monaco, o, d, SATURDAY_15H, "BICYCLE", opts))
    plain = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=["BICYCLE"])
    ok = np.isfinite(plain.travel_time_s)
    assert (r.travel_time_s[ok] >= plain.travel_time_s[ok]).all()     # detours for lanes, never shortcuts


def test_a_window_is_every_minute_of_it(monaco):
    # range RAPTOR keeps its labels from one minute to the next: each minute must still equal a
    # matrix computed for that minute alone; the median and quartiles take observed values
    pts = _points(5, 14)
    o, d = pts[:7], pts[7:]
    win = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=["TRANSIT"], window_min=12,
                             percentiles=(25, 75))
    per_minute = np.stack([
        travel_time_matrix(monaco, o, d, departure=SATURDAY_15H + dt.timedelta(minutes=m),
                           modes=["TRANSIT"]).travel_time_s for m in range(12)])
    inf = np.where(np.isnan(per_minute), np.inf, per_minute)
    for p, got in ((50, win.travel_time_s), (25, win.percentile_s[25]), (75, win.percentile_s[75])):
        want = np.percentile(inf, p, axis=0, method="nearest")
        np.testing.assert_array_equal(got, np.where(np.isfinite(want), want, np.nan))
    assert (win.percentile_s[25] <= win.percentile_s[75]).sum() == np.isfinite(win.percentile_s[75]).sum()


def test_the_breakdown_adds_up_and_counts_the_plan_transfers(monaco):
    pts = _points(9, 20)
    o, d = pts[:10], pts[10:]
    r = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=["TRANSIT"], breakdown=True)
    b = r.breakdown
    ok = np.isfinite(r.travel_time_s)
    total = b["access_s"] + b["wait_s"] + b["ride_s"] + b["transfer_walk_s"] + b["egress_s"]
    np.testing.assert_array_equal(total[ok], r.travel_time_s[ok])
    for name in ("access_s", "wait_s", "ride_s", "transfer_walk_s", "egress_s"):
        assert (b[name][ok] >= 0).all(), name
    for i, j in zip(*np.nonzero(ok), strict=True):
        res = plan_trip(monaco, Point(lon=o[i, 0], lat=o[i, 1]), Point(lon=d[j, 0], lat=d[j, 1]),
                        depart_at=SATURDAY_15H, modes=["TRANSIT"])
        first = min(res.itineraries, key=lambda it: (it.end_s, it.transfers))
        assert b["transfers"][i, j] == first.transfers


def test_closing_a_full_car_park_changes_nothing_and_a_free_one_slows_its_drivers(town):
    o = np.array([[7.5001, 43.8001], [7.4998, 43.8030]])
    d = np.array([[7.5050, 43.8040], [7.5052, 43.8045]])   # beside Parking Centre
    closed, _ = CloseParking(facilities="osm:node/3001").apply(town)
    at_15 = dt.datetime(2026, 1, 14, 15, 0)    # Parking Centre is full every weekday 14:00-17:59
    at_10 = dt.datetime(2026, 1, 14, 10, 0)
    for when, slower in ((at_15, False), (at_10, True)):
        before = travel_time_matrix(town, o, d, departure=when, modes=["CAR_PARK"]).travel_time_s
        after = travel_time_matrix(closed, o, d, departure=when, modes=["CAR_PARK"]).travel_time_s
        if slower:
            assert (after > before).all()
        else:
            np.testing.assert_array_equal(after, before)


def test_stop_to_stop_on_a_network_without_streets(montpellier_bundle):
    net = load_bundle(montpellier_bundle)
    assert net.street is None
    tt = net.timetable
    served = np.flatnonzero(np.diff(tt.stop_route_offsets) > 0)[::97][:10]
    pts = np.column_stack([tt.stop_lon[served], tt.stop_lat[served]])
    when = dt.datetime(2024, 1, 16, 8, 0)
    r = travel_time_matrix(net, pts, pts, departure=when, modes=["WALK", "TRANSIT"])
    # the quicker of walking all the way (straight line x 1.3 without streets) and transit
    expected = np.fmin(_plan_matrix(net, pts, pts, when, "TRANSIT"),
                       _plan_matrix(net, pts, pts, when, "WALK"))
    np.testing.assert_array_equal(r.travel_time_s, expected)
    assert (np.diag(r.travel_time_s) == 0).all()


def test_points_outside_the_network_are_unreachable(town):
    far = [[7.60, 43.90]]            # about 10 km away: the planner says OUTSIDE_BOUNDS
    near = [_stop_point(town, "GARE")]
    r = travel_time_matrix(town, far + near, near, departure=WEDNESDAY_0755, modes=["WALK", "TRANSIT"])
    assert np.isnan(r.travel_time_s[0, 0]) and r.best_mode[0, 0] == -1
    assert r.travel_time_s[1, 0] == 0


def test_bad_matrix_queries_name_the_argument(town):
    p = [[7.5, 43.8]]
    when = WEDNESDAY_0755
    with pytest.raises(MatrixError, match="modes: unknown mode 'PLANE'"):
        travel_time_matrix(town, p, p, departure=when, modes="WALK,PLANE")
    with pytest.raises(MatrixError, match="percentiles"):
        travel_time_matrix(town, p, p, departure=when, percentiles=(50, 120), window_min=10)
    with pytest.raises(MatrixError, match="breakdown"):
        travel_time_matrix(town, p, p, departure=when, modes="WALK", breakdown=True)
    with pytest.raises(MatrixError, match="origins"):
        travel_time_matrix(town, [7.5, 43.8], p, departure=when)
    with pytest.raises(MatrixError, match="options"):
        travel_time_matrix(town, p, p, departure=when, options={"walk_speed_mps": 1})
    with pytest.raises(MatrixError, match="window_min"):
        travel_time_matrix(town, p, p, departure=when, window_min=-5)
    with pytest.raises(OutsideServicePeriod):
        travel_time_matrix(town, p, p, departure=dt.datetime(2027, 6, 1, 8, 0))
