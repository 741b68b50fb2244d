"""The search route: the expected-time formula by hand, and the visiting order on a grid."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.parking.search_route import MAX_ZONES, search_route


def _flat(p, k, bins=1):
    return np.tile(np.asarray(p, dtype=np.float64).reshape(k, 1), (1, bins))


def test_the_expected_time_of_a_two_zone_route_by_hand():
    # Zone A: 100 s away, p 0.5, walk 60 s. Zone B: 30 s beyond A, p 0.8, walk 200 s.
    # Giving up costs 300 s of driving and search, then 100 s of walking; parking takes 20 s.
    first = [100.0, 130.0]
    between = [[0.0, 30.0], [30.0, 0.0]]
    walk = [60.0, 200.0]
    route = search_route(first, between, walk, _flat([0.5, 0.8], 2), bin_s=60.0, park_s=20.0,
                         giveup_drive_s=[300.0, 300.0], giveup_walk_s=[100.0, 100.0])
    # A then B: 100 + 0.5 * (20 + 60) + 0.5 * [30 + 0.8 * (20 + 200)] + 0.5 * 0.2 * (300 + 20 + 100)
    a_then_b = 100 + 0.5 * 80 + 0.5 * (30 + 0.8 * 220) + 0.1 * 420
    # B alone: 130 + 0.8 * 220 + 0.2 * 420 = 390; B then A: 130 + 176 + 0.2 * (30 + 0.5 * 80)
    # + 0.1 * 420 = 362; A alone: 100 + 40 + 0.5 * 420 = 350.
    assert a_then_b == pytest.approx(285.0)
    assert list(route.order) == [0, 1]
    assert route.expected_total_s == pytest.approx(a_then_b)
    assert list(route.pass_s) == [100.0, 130.0]
    assert list(route.p_reach) == pytest.approx([1.0, 0.5])
    assert route.p_street_full == pytest.approx(0.1)
    # walk: 0.5 * 60 + 0.5 * 0.8 * 200 + 0.1 * 100 = 120; search = 285 - 100 - 20 - 120 = 45
    assert route.expected_walk_s == pytest.approx(120.0)
    assert route.expected_search_s == pytest.approx(45.0)


def test_p_free_is_read_when_the_driver_passes():
    # One zone, p 0.9 at departure falling to 0.1 at 10 min: passing at 5 min reads 0.5.
    bins = np.array([[0.9, 0.5, 0.1]])
    route = search_route([300.0], [[0.0]], [0.0], bins, bin_s=300.0, park_s=0.0,
                         giveup_drive_s=[100.0], giveup_walk_s=[0.0])
    assert route.p_free[0] == pytest.approx(0.5)
    assert route.expected_total_s == pytest.approx(300 + 0.5 * 100)


def _grid_drive(points, block_s=60.0):
    pts = np.asarray(points, dtype=np.float64)
    return np.abs(pts[:, None, :] - pts[None, :, :]).sum(axis=2) * block_s


def _brute_force(first, between, walk, p, park_s, g_drive, g_walk):
    best, best_order = np.inf, None
    k = len(first)
    for m in range(1, k + 1):
        for order in itertools.permutations(range(k), m):
            e, reach, prev = 0.0, 1.0, None
            for z in order:
                leg = first[z] if prev is None else between[prev, z]
                e += reach * (leg + p[z] * (park_s + walk[z]))
                reach *= 1 - p[z]
                prev = z
            e += reach * (g_drive[order[-1]] + park_s + g_walk[order[-1]])
            if e < best - 1e-9:
                best, best_order = e, list(order)
    return best, best_order


def test_on_a_grid_the_zones_are_visited_in_the_expected_order():
    # A Manhattan grid of 60 s blocks. The driver arrives from the west at (0, 0); the destination
    # is at (3, 0). Zones: W (1, 0) one block from the destination's west side, almost always full;
    # D (3, 0) at the destination, usually full; E (4, 0) just past it with room; N (3, 3) far north
    # with plenty of room.
    zones = {"W": (1, 0), "D": (3, 0), "E": (4, 0), "N": (3, 3)}
    names = list(zones)
    pts = np.array(list(zones.values()), dtype=np.float64)
    between = _grid_drive(pts)
    first = np.abs(pts - np.array([0.0, 0.0])).sum(axis=1) * 60.0
    walk = np.abs(pts - np.array([3.0, 0.0])).sum(axis=1) * 150.0   # walking a block: 150 s
    p = np.array([0.05, 0.4, 0.7, 0.95])
    g_drive, g_walk = np.full(4, 480.0), walk.copy()
    route = search_route(first, between, walk, _flat(p, 4), bin_s=600.0, park_s=60.0,
                         giveup_drive_s=g_drive, giveup_walk_s=g_walk)
    # W is on the way: trying it costs no detour, so it comes first despite its 5 %. Then the
    # destination's own street, then the one just past it. N is never worth the trip: four more
    # blocks of driving and three of walking cost more than giving up at E (480 s of cruising,
    # then E's one-block walk).
    expected_cost, expected_order = _brute_force(first, between, walk, p, 60.0, g_drive, g_walk)
    assert [names[i] for i in route.order] == ["W", "D", "E"]
    assert list(route.order) == expected_order
    assert route.expected_total_s == pytest.approx(expected_cost)


def test_the_enumeration_is_exact_on_random_cases():
    rng = np.random.default_rng(7)
    for _ in range(30):
        k = int(rng.integers(1, 7))
        pts = rng.integers(0, 6, size=(k, 2)).astype(np.float64)
        between = _grid_drive(pts)
        first = rng.uniform(60, 600, k)
        walk = rng.uniform(0, 600, k)
        p = rng.uniform(0, 1, k)
        g_drive, g_walk = rng.uniform(200, 900, k), rng.uniform(0, 600, k)
        route = search_route(first, between, walk, _flat(p, k), bin_s=60.0, park_s=30.0,
                             giveup_drive_s=g_drive, giveup_walk_s=g_walk)
        best, order = _brute_force(first, between, walk, p, 30.0, g_drive, g_walk)
        assert route.expected_total_s == pytest.approx(best)
        assert list(route.order) == order


def test_unreachable_zones_and_bad_input():
    assert search_route([np.inf], [[0.0]], [0.0], [[0.5]], bin_s=60, park_s=0,
                        giveup_drive_s=[1.0], giveup_walk_s=[1.0]) is None
    with pytest.raises(ValueError, match="between_s"):
        search_route([1.0, 2.0], [[0.0]], [0.0, 0.0], [[0.5], [0.5]], bin_s=60, park_s=0,
                     giveup_drive_s=[1.0, 1.0], giveup_walk_s=[1.0, 1.0])
    with pytest.raises(ValueError, match="probabilities"):
        search_route([1.0], [[0.0]], [0.0], [[1.5]], bin_s=60, park_s=0,
                     giveup_drive_s=[1.0], giveup_walk_s=[1.0])
    k = MAX_ZONES + 1
    with pytest.raises(ValueError, match="at most"):
        search_route(np.ones(k), np.ones((k, k)), np.ones(k), np.ones((k, 1)), bin_s=60, park_s=0,
                     giveup_drive_s=np.ones(k), giveup_walk_s=np.ones(k))
