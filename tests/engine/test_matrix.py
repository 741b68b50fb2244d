"""Travel-time matrices against single queries: transit against plan_walk_transit, streets against
point-to-point routes, windows against one departure per minute, car parks against the forecast."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine import street as streets
from engine.itinerary import Point, plan_walk_transit
from engine.matrix import MatrixError, MatrixOptions, travel_time_matrix
from engine.model import Mode
from engine.parking import forecast
from engine.scenario import CloseParking
from engine.transit import OutsideServicePeriod, to_service_time
from loaders.bundle import load_bundle

SATURDAY_15H = dt.datetime(2026, 1, 10, 15, 0)     # Monaco, Europe/Paris
WEDNESDAY_0755 = dt.datetime(2026, 1, 14, 7, 55)    # tiny town


@pytest.fixture(scope="module")
def town(tiny_town_bundle):
    return load_bundle(tiny_town_bundle)


@pytest.fixture(scope="module")
def monaco(monaco_bundle):
    return load_bundle(monaco_bundle)


def _points(seed: int, n: int) -> np.ndarray:
    """Random points over central Monaco (some fall in the sea or far from any stop)."""
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(7.413, 7.437, n), rng.uniform(43.728, 43.748, n)])


def _stop_point(net, stop_id: str) -> list[float]:
    i = list(net.timetable.stop_ids).index(stop_id)
    return [float(net.timetable.stop_lon[i]), float(net.timetable.stop_lat[i])]


def _plan_time(net, a, b, when, **kw) -> float:
    day, time_s = to_service_time(net.timezone, when)
    res = plan_walk_transit(net, Point(lon=a[0], lat=a[1]), Point(lon=b[0], lat=b[1]), day=day,
                            time_s=time_s, **kw)
    best = min((it.end_s for it in res.itineraries), default=None)
    return np.nan if best is None else float(best - time_s)


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


def test_transit_matrix_matches_single_plan_queries_on_monaco(monaco):
    pts = _points(7, 16)
    o, d = pts[:8], pts[8:]
    r = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=["TRANSIT"])
    expected = np.array([[_plan_time(monaco, a, b, SATURDAY_15H, modes=("TRANSIT",)) for b in d] for a in o])
    expected[expected > 7200] = np.nan
    np.testing.assert_array_equal(r.travel_time_s, expected)
    assert np.isfinite(r.travel_time_s).sum() >= 40           # the sample is mostly reachable


def test_walk_or_transit_takes_the_quicker_of_the_two(monaco):
    pts = _points(3, 16)
    o, d = pts[:8], pts[8:]
    both = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=["WALK", "TRANSIT"])
    walk = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=["WALK"])
    ride = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=["TRANSIT"])
    np.testing.assert_array_equal(both.travel_time_s, np.fmin(walk.travel_time_s, ride.travel_time_s))
    assert set(np.unique(both.best_mode)) <= {-1, 0, 1}


@pytest.mark.parametrize("preference", [0.0, 0.5])
def test_street_matrices_match_point_to_point_routes(monaco, preference):
    pts = _points(11, 20)
    o, d = pts[:10], pts[10:]
    opts = MatrixOptions(bike_lane_preference=preference)
    for mode in (Mode.WALK, Mode.BICYCLE):
        name = mode.name
        r = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=[name], max_time_s=1e6,
                               options=opts)
        profile = streets.StreetProfile(mode, bike_lane_preference=preference if mode == Mode.BICYCLE else 0)
        so = streets.snap_many(monaco.street, o[:, 0], o[:, 1], mode)
        sd = streets.snap_many(monaco.street, d[:, 0], d[:, 1], mode)
        for i in range(len(o)):
            for j in range(len(d)):
                if not (so.accessible[i] and sd.accessible[j]):
                    assert np.isnan(r.travel_time_s[i, j])
                    continue
                path = streets.route(monaco.street, so[i], sd[j], profile)
                assert r.travel_time_s[i, j] == np.ceil(path.duration_s), (name, i, j)


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
    day, time_s = to_service_time(monaco.timezone, SATURDAY_15H)
    for i, j in zip(*np.nonzero(ok), strict=True):
        res = plan_walk_transit(monaco, Point(lon=o[i, 0], lat=o[i, 1]), Point(lon=d[j, 0], lat=d[j, 1]),
                                day=day, time_s=time_s, modes=("TRANSIT",))
        first = min(res.itineraries, key=lambda it: (it.end_s, it.transfers))
        assert b["transfers"][i, j] == first.transfers


def test_the_car_park_time_is_the_best_expected_total_over_car_parks(town):
    # Oracle from independent pieces: point-to-point drives and walks, the forecast at each
    # arrival, facilities below p_free 0.2 avoided, 120 s to park.
    o = np.array([[7.5001, 43.8001], [7.5100, 43.8054]])
    d = np.array([[7.5050, 43.8040], [7.5080, 43.8019], [7.5010, 43.8005]])
    for when in (dt.datetime(2026, 1, 14, 10, 0), dt.datetime(2026, 1, 14, 15, 0)):
        r = travel_time_matrix(town, o, d, departure=when, modes=["CAR_PARK"])
        pk, sg = town.parking, town.street
        fac = [0, 1, 2]  # Parking Centre, Gare, Relais (3 is bicycle parking)
        car = streets.StreetProfile(Mode.CAR)
        walk = streets.StreetProfile(Mode.WALK)
        want = np.full((2, 3), np.inf)
        t0 = int(when.replace(tzinfo=__import__("zoneinfo").ZoneInfo("Europe/Paris")).timestamp())
        for i in range(2):
            so = streets.snap(sg, *o[i], Mode.CAR)
            for f in fac:
                cn, wn = int(pk.car_node_idx[f]), int(pk.walk_node_idx[f])
                drive = streets.route(sg, so, streets.snap(sg, sg.node_lon[cn], sg.node_lat[cn], Mode.CAR),
                                      car).duration_s
                fc = forecast(pk, [f], t0 + round(drive))
                if fc.p_free[0] < 0.2:
                    continue
                for j in range(3):
                    w = streets.route(sg, streets.snap(sg, sg.node_lon[wn], sg.node_lat[wn], Mode.WALK),
                                      streets.snap(sg, *d[j], Mode.WALK), walk).duration_s
                    want[i, j] = min(want[i, j], drive + fc.expected_search_s[0] + 120 + w)
        np.testing.assert_array_equal(r.travel_time_s, np.ceil(want))


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
    # the plan shows a long walk only when it beats the transit ride's duration; the matrix takes
    # the earliest arrival: the quicker of walking all the way and transit
    expected = np.array([[np.fmin(_plan_time(net, a, b, when, modes=("TRANSIT",)),
                                  _plan_time(net, a, b, when, modes=("WALK",))) for b in pts] for a in pts])
    expected[expected > 7200] = np.nan
    np.testing.assert_array_equal(r.travel_time_s, expected)
    assert (np.diag(r.travel_time_s) == 0).all()


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
    with pytest.raises(MatrixError, match="window_min"):
        travel_time_matrix(town, p, p, departure=when, window_min=-5)
    with pytest.raises(OutsideServicePeriod):
        travel_time_matrix(town, p, p, departure=dt.datetime(2027, 6, 1, 8, 0))
