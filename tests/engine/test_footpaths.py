"""Walking transfers between stops (engine/transit/footpaths.py) on a hand-made square of streets."""
import numpy as np
import pytest

from engine.transit.footpaths import compute_footpaths
from tests.engine.street_square import square_network


def _pairs(f, t, s):
    return {(int(a), int(b)): int(c) for a, b, c in zip(f, t, s, strict=True)}


def test_footpaths_follow_the_streets_and_stop_at_the_river():
    got = _pairs(*compute_footpaths(square_network()))
    # S0-S1: 10 m link + 300 m street + 10 m link = 320 m at 1.3 m/s -> 247 s; S2-S3 likewise
    # S0-S3 are 320 m apart in a straight line but 920 m apart on foot (> 2 x 400 m): none
    # S0-S2 lie 424 m apart in a straight line, beyond the 400 m radius: none
    # S4 is served by no route: none
    assert got == {(0, 1): 247, (1, 0): 247, (1, 2): 247, (2, 1): 247, (2, 3): 247, (3, 2): 247}


def test_without_streets_footpaths_are_straight_lines_times_the_detour():
    got = _pairs(*compute_footpaths(square_network(streets=False)))
    # S0-S3: 320 m x 1.3 detour / 1.3 m/s = 320 s (no river without a street graph)
    assert got[(0, 3)] == got[(3, 0)] == 320
    assert got[(0, 1)] == 300 and (0, 2) not in got and all(4 not in k for k in got)


def test_a_walk_is_never_shorter_than_the_minimum_and_the_radius_is_configurable():
    got = _pairs(*compute_footpaths(square_network(), radius_m=200, min_time_s=300))
    assert got == {}
    got = _pairs(*compute_footpaths(square_network(), min_time_s=300, walk_speed_mps=2.6))
    assert set(got.values()) == {300}  # 320 m at 2.6 m/s is 124 s, lifted to the minimum


def test_one_way_walks_give_one_way_footpaths():
    got = _pairs(*compute_footpaths(square_network(one_way_up=True)))
    assert (1, 2) in got and (2, 1) not in got


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="radius_m"):
        compute_footpaths(square_network(), radius_m=0)
    f, t, s = compute_footpaths(square_network())
    assert f.dtype == t.dtype == s.dtype == np.int32
