"""Walking to and from stops (engine/planning/access.py) on the hand-made square of streets."""
import numpy as np
import pytest

from engine.planning.access import LocationNotAccessible, walk_access
from tests.engine.street_square import PROJ, lonlat, square_network


def _by_stop(walk):
    return {int(s): (int(t), round(walk.walk(int(s))[2], 1)) for s, t in
            zip(walk.stops, walk.seconds, strict=True)}


def _xy(lon, lat):
    x, y = PROJ.to_xy_m(lon, lat)
    return np.round(x, 1).tolist(), np.round(y, 1).tolist()


def test_a_point_reaches_the_stops_along_the_streets():
    lon, lat = lonlat(0.0, -20.0)  # 20 m south of n0
    walk = walk_access(square_network(), float(lon), float(lat), max_walk_s=900)
    # 20 m to n0, then the streets, then each stop's 10 m link, at 1.3 m/s, rounded up
    assert _by_stop(walk) == {0: (24, 30.0), 1: (254, 330.0), 2: (485, 630.0), 3: (716, 930.0)}
    assert walk.snap.distance_m == pytest.approx(20.0)
    # the walk to S2: the point, where it meets the street (at n0), along it to n1, n2, then S2
    xs, ys = _xy(*walk.walk(2)[:2])
    assert xs == [0.0, 0.0, 300.0, 300.0, 300.0] and ys == [-20.0, 0.0, 0.0, 300.0, 290.0]
    near = walk_access(square_network(), float(lon), float(lat), max_walk_s=300)
    assert sorted(near.stops.tolist()) == [0, 1]


def test_an_egress_walks_towards_the_point_on_the_reversed_streets():
    lon, lat = lonlat(300.0, 320.0)  # 20 m north of n2
    net = square_network(one_way_up=True)  # n1 -> n2 walkable, n2 -> n1 not
    access = walk_access(net, float(lon), float(lat), max_walk_s=900)
    egress = walk_access(net, float(lon), float(lat), reverse=True, max_walk_s=900)
    assert 1 not in access.stops.tolist()          # from the point one cannot walk down to S1
    assert 1 in egress.stops.tolist()              # but from S1 one can walk up to the point
    xs, ys = _xy(*egress.walk(1)[:2])             # stop side first, in walking order
    assert xs == [300.0, 300.0, 300.0, 300.0, 300.0] and ys == [-10.0, 0.0, 300.0, 300.0, 320.0]


def test_without_streets_walks_are_straight_lines_times_the_detour():
    lon, lat = lonlat(0.0, -20.0)
    walk = walk_access(square_network(streets=False), float(lon), float(lat), max_walk_s=600)
    got = _by_stop(walk)
    assert got[0] == (10, 13.0)                     # 10 m x 1.3
    assert got[1][0] == int(np.ceil(np.hypot(300, 10) * 1.3 / 1.3 - 1e-9))
    assert 4 not in got                             # unserved stops are no access


def test_a_point_far_from_any_street_is_not_accessible():
    lon, lat = lonlat(2000.0, 2000.0)
    with pytest.raises(LocationNotAccessible, match="LOCATION_NOT_ACCESSIBLE"):
        walk_access(square_network(), float(lon), float(lat))
