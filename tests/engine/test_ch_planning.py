"""The planner on the street contraction hierarchy: plan_trip's street legs, matrices (WALK,
BICYCLE without a bike-lane preference, CAR door to door, CAR_PARK's drives between car parks)
give the same answers with the hierarchy as with the searches, on Monaco (sample bundles carry
the hierarchy) and on a grid with one-way streets; a scenario's costs are re-customised."""
from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from engine import street
from engine.model import Mode, Network
from engine.planning import prepare
from engine.planning.itinerary import Point
from engine.planning.matrix import travel_time_matrix
from engine.planning.options import PlanOptions
from engine.planning.planner import plan_trip
from tests.engine.street_graphs import one_way_grid

SATURDAY_15H = dt.datetime(2026, 1, 10, 15, 0)     # Monaco, Europe/Paris


def without_hierarchy(net: Network) -> Network:
    """The network with a copy of its street graph that has no hierarchy (the hierarchy is kept
    per topology array)."""
    g = dataclasses.replace(net.street, indices=np.array(net.street.indices))
    assert not street.has_hierarchy(g)
    return dataclasses.replace(net, street=g)


def _monaco_points(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(7.413, 7.437, n), rng.uniform(43.728, 43.748, n)])


@pytest.fixture(scope="module")
def grid_pair() -> tuple[Network, Network]:
    g = one_way_grid()
    lon, lat = np.asarray(g.node_lon), np.asarray(g.node_lat)
    bbox = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    with_ch = Network(timezone="Europe/Paris", projection=g.projection, street=g, bbox=bbox)
    street.prepare_hierarchy(g)
    return with_ch, without_hierarchy(with_ch)


def _grid_points(net: Network, seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lo_lon, lo_lat, hi_lon, hi_lat = net.bbox
    return np.column_stack([rng.uniform(lo_lon, hi_lon, n), rng.uniform(lo_lat, hi_lat, n)])


def test_sample_bundles_carry_the_hierarchy_and_its_stored_metrics(monaco):
    assert street.has_hierarchy(monaco.street)
    for mode in Mode:
        profile = street.StreetProfile(mode, walk_speed_mps=monaco.street.walk_speed_mps,
                                       bike_speed_mps=monaco.street.bike_speed_mps)
        assert street.ready_metric(monaco.street, profile) is not None


@pytest.mark.parametrize("modes, pref", [("WALK", 0.5), ("CAR", 0.5), ("BICYCLE", 0.0), ("BICYCLE", 0.5),
                                         ("CAR_PARK", 0.5)])
def test_monaco_matrix_equals_the_searches(monaco, modes, pref):
    o, d = _monaco_points(3, 40), _monaco_points(4, 60)
    options = PlanOptions(bike_lane_preference=pref)
    fast = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes=modes, options=options)
    slow = travel_time_matrix(without_hierarchy(monaco), o, d, departure=SATURDAY_15H, modes=modes,
                              options=options)
    np.testing.assert_array_equal(fast.travel_time_s, slow.travel_time_s)
    assert np.isfinite(fast.travel_time_s).mean() > 0.5


@pytest.mark.parametrize("modes, max_time_s", [("WALK", 1200), ("CAR", 150), ("BICYCLE", 300)])
def test_grid_matrix_with_one_way_streets_equals_the_searches(grid_pair, modes, max_time_s):
    with_ch, plain = grid_pair
    o, d = _grid_points(with_ch, 5, 50), _grid_points(with_ch, 6, 70)
    d[:10] = o[:10] + 1e-5    # pairs on a shared segment: the direct way along it
    options = PlanOptions(bike_lane_preference=0.0, max_snap_m=2000)
    when = dt.datetime(2026, 1, 12, 8)
    fast = travel_time_matrix(with_ch, o, d, departure=when, modes=modes, options=options,
                              max_time_s=max_time_s)
    slow = travel_time_matrix(plain, o, d, departure=when, modes=modes, options=options,
                              max_time_s=max_time_s)
    np.testing.assert_array_equal(fast.travel_time_s, slow.travel_time_s)
    assert np.isnan(slow.travel_time_s).any() and np.isfinite(slow.travel_time_s).any()


def test_a_scenario_graph_is_recustomised_and_equals_the_searches(grid_pair):
    with_ch, _ = grid_pair
    g = with_ch.street
    slower = with_ch.street.with_costs(car_time_s=np.asarray(g.car_time_s) * 1.7)
    scen = dataclasses.replace(with_ch, street=slower)
    car = street.StreetProfile(Mode.CAR)
    assert street.has_hierarchy(slower) and street.ready_metric(slower, car) is None
    o, d = _grid_points(with_ch, 7, 30), _grid_points(with_ch, 8, 30)
    when = dt.datetime(2026, 1, 12, 8)
    options = PlanOptions(max_snap_m=2000)
    fast = travel_time_matrix(scen, o, d, departure=when, modes="CAR", options=options, max_time_s=3600)
    assert street.ready_metric(slower, car) is not None      # the matrix customised it
    slow = travel_time_matrix(without_hierarchy(scen), o, d, departure=when, modes="CAR", options=options,
                              max_time_s=3600)
    np.testing.assert_array_equal(fast.travel_time_s, slow.travel_time_s)
    base = travel_time_matrix(with_ch, o, d, departure=when, modes="CAR", options=options, max_time_s=3600)
    assert np.nansum(fast.travel_time_s) > np.nansum(base.travel_time_s)


def _leg_summary(result):
    return sorted((it.legs[0].mode, it.end_s - it.start_s, round(sum(leg.distance_m for leg in it.legs), 3))
                  for it in result.itineraries)


@pytest.mark.parametrize("mode", ["WALK", "BICYCLE", "CAR_PARK"])
def test_monaco_plan_trip_street_modes_equal_the_searches(monaco, mode):
    prepare(monaco)      # customises the default bike-lane preference's metric
    plain = without_hierarchy(monaco)
    pts = _monaco_points(11, 24)
    for a, b in zip(pts[:12], pts[12:], strict=True):
        args = (Point(lon=a[0], lat=a[1]), Point(lon=b[0], lat=b[1]))
        fast = plan_trip(monaco, *args, depart_at=SATURDAY_15H, modes=[mode])
        slow = plan_trip(plain, *args, depart_at=SATURDAY_15H, modes=[mode])
        got, want = _leg_summary(fast), _leg_summary(slow)
        assert [g[:2] for g in got] == [w[:2] for w in want]
        np.testing.assert_allclose([g[2] for g in got], [w[2] for w in want], rtol=1e-6)


def test_car_matrix_is_the_car_route_door_to_door_without_parking(monaco):
    o, d = _monaco_points(21, 6), _monaco_points(22, 6)
    r = travel_time_matrix(monaco, o, d, departure=SATURDAY_15H, modes="CAR")
    car = street.StreetProfile(Mode.CAR)
    walk_mps = PlanOptions().walk_speed_mps
    checked = 0
    for i, a in enumerate(o):
        for j, b in enumerate(d):
            try:
                sa = street.snap(monaco.street, a[0], a[1], Mode.CAR)
                sb = street.snap(monaco.street, b[0], b[1], Mode.CAR)
            except street.LocationNotAccessible:
                assert np.isnan(r.travel_time_s[i, j])
                continue
            path = street.route(monaco.street, sa, sb, car)
            want = path.duration_s + (sa.distance_m + sb.distance_m) / walk_mps
            assert r.travel_time_s[i, j] == pytest.approx(np.ceil(want), abs=1)
            checked += 1
    assert checked >= 20
