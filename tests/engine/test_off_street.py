"""Issue 17 item 10: a point given off the street is walked to (from) the street, in itineraries,
matrices and isochrones alike.

Tiny town (data_samples/tiny_town/README.md): BLOCK is the middle of the block between Rue Haute
(row 2), Rue du Canal / Piste du Canal (row 3), Rue du Marché (column 2) and Rue des Jardins
(column 3): 100 m from the nearest street, which it snaps to. EAST_OF and WEST_OF lie 40.2 m each
side of Avenue de l'Est, halfway between rows 0 and 1: both snap to the same spot of the same
segment. Walking is 1.3 m/s.
"""
import datetime as dt
import math
import zoneinfo

import numpy as np
import pytest

from engine import street
from engine.model import Mode
from engine.planning import planner as P
from engine.planning.isochrone import reachable_area
from engine.planning.matrix import travel_time_matrix
from engine.planning.options import PlanOptions
from engine.planning.query import Query, location

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
WHEN = dt.datetime(2026, 1, 14, 10, 0, tzinfo=PARIS)
BLOCK = (7.50625, 43.8045)
CORNER = (7.5100, 43.8000)          # (4, 0), on the streets
NEAR_CENTRE = (7.5055, 43.8040)     # 40.2 m east of Rue du Marché
WEST_OF, EAST_OF = (7.5095, 43.8009), (7.5105, 43.8009)
WALK_MPS = 1.3


def _snap_m(town, p, mode=Mode.WALK) -> float:
    return street.snap(town.street, p[0], p[1], mode).distance_m


def _only(result, mode):
    (it,) = [it for it in result.itineraries if it.mode == mode]
    return it


def test_the_block_lies_well_off_the_street(town):
    assert _snap_m(town, BLOCK) == pytest.approx(100.0, abs=0.5)
    assert _snap_m(town, BLOCK, Mode.CAR) == pytest.approx(100.0, abs=0.5)


@pytest.mark.parametrize("mode", ["WALK", "BICYCLE"])
def test_a_street_leg_starts_and_ends_at_the_given_points_with_the_walk_timed(town, mode):
    m = Mode[mode]
    result = P.plan_trip(town, BLOCK, NEAR_CENTRE, depart_at=WHEN, modes=[mode])
    it = _only(result, mode)
    (leg,) = it.legs
    assert (leg.geometry_lon[0], leg.geometry_lat[0]) == BLOCK
    assert (leg.geometry_lon[-1], leg.geometry_lat[-1]) == NEAR_CENTRE
    profile = Query(town, location(town, BLOCK, "O"), location(town, NEAR_CENTRE, "D"), 0,
                      False, PlanOptions(), None, None)
    prof = profile.walk if mode == "WALK" else profile.bike
    path = street.route_points(town.street, BLOCK, NEAR_CENTRE, prof)
    off_m = _snap_m(town, BLOCK, m) + _snap_m(town, NEAR_CENTRE, m)
    assert off_m > 140
    assert leg.distance_m == pytest.approx(path.length_m + off_m, abs=0.01)
    assert it.duration_s == math.ceil(path.duration_s + off_m / WALK_MPS - 1e-9)
    assert it.walk_distance_m == pytest.approx(path.length_m + off_m if mode == "WALK" else off_m,
                                               abs=0.01)


def test_a_car_leg_from_a_point_off_the_street_counts_the_walk_to_the_car(town):
    result = P.plan_trip(town, BLOCK, CORNER, depart_at=WHEN, modes=["CAR_PARK"])
    it = _only(result, "CAR_PARK")
    car = it.legs[0]
    assert car.mode == "CAR"
    assert (car.geometry_lon[0], car.geometry_lat[0]) == BLOCK
    assert car.off_street_m == pytest.approx(100.0, abs=0.5)
    assert it.walk_distance_m >= car.off_street_m + it.legs[-1].distance_m - 0.01
    # the drive alone, from the snapped point, is 100 / 1.3 = 77 s shorter than the leg
    fac, drive_s, _ = P.car_park_times(town, BLOCK, CORNER)
    q = Query(town, location(town, BLOCK, "O"), location(town, CORNER, "D"), 0, False,
                PlanOptions(), None, None)
    tree = q.car_tree()
    assert np.allclose(drive_s, tree.times_to(np.asarray(town.parking.car_node_idx)[fac]))
    assert car.duration_s >= 100.0 / WALK_MPS


def test_a_car_park_walk_ends_at_the_given_destination(town):
    result = P.plan_trip(town, CORNER, NEAR_CENTRE, depart_at=WHEN, modes=["CAR_PARK"])
    walk = _only(result, "CAR_PARK").legs[-1]
    assert walk.mode == "WALK"
    assert (walk.geometry_lon[-1], walk.geometry_lat[-1]) == NEAR_CENTRE
    # Parking Centre's exit is (2, 2); 44.5 m up Rue du Marché, then 40.2 m east to the point
    assert walk.distance_m == pytest.approx(44.5 + 40.2, abs=1.0)
    assert walk.duration_s == math.ceil((44.5 + 40.2) / WALK_MPS)


@pytest.mark.parametrize("mode", ["WALK", "BICYCLE"])
def test_a_matrix_between_points_on_the_same_segment_walks_both_snaps(town, mode):
    m = Mode[mode]
    snaps = [street.snap(town.street, p[0], p[1], m) for p in (WEST_OF, EAST_OF)]
    assert snaps[0].edge_idx == snaps[1].edge_idx or {snaps[0].tail_node, snaps[0].head_node} == {
        snaps[1].tail_node, snaps[1].head_node}
    off_m = snaps[0].distance_m + snaps[1].distance_m
    res = travel_time_matrix(town, [WEST_OF], [EAST_OF], departure=WHEN, modes=[mode])
    assert res.travel_time_s[0, 0] >= off_m / WALK_MPS - 1e-6
    assert off_m / WALK_MPS >= 60


def test_a_matrix_time_equals_the_itinerary_time(town):
    for mode in ("WALK", "BICYCLE", "CAR_PARK"):
        res = travel_time_matrix(town, [BLOCK], [NEAR_CENTRE], departure=WHEN, modes=[mode])
        plan = P.plan_trip(town, BLOCK, NEAR_CENTRE, depart_at=WHEN, modes=[mode])
        assert res.travel_time_s[0, 0] == _only(plan, mode).duration_s, mode


def test_an_isochrone_spends_the_walk_to_the_street_first(town):
    walk_to_street_s = 100.0 / WALK_MPS            # 77 s
    area = reachable_area(town, BLOCK, WHEN, mode="WALK", max_time_s=60)
    assert area.n_nodes == 0
    for mode in ("WALK", "BICYCLE", "CAR_PARK", "TRANSIT"):
        area = reachable_area(town, BLOCK, WHEN, mode=mode, max_time_s=300)
        assert area.n_nodes > 0
        assert area.time_s.min() >= walk_to_street_s - 1e-6, mode

