"""engine/street/: searches against networkx and scipy, the tiny town by hand, snapping, paths,
isochrones.

Tiny-town distances (data_samples/tiny_town/README.md): a block is 200.6405 m east-west and
200.1511 m north-south; walk 1.3 m/s, bike 4.5 m/s; cars drive at 0.8 x the limit (residential
30 km/h -> 6.667 m/s, Avenue de la Gare 50 km/h -> 11.111 m/s).
"""
from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.csgraph
import shapely

from engine import street
from engine.model import Mode, StreetGraph
from engine.street import (
    LOCATION_NOT_ACCESSIBLE,
    METHODS,
    UNREACHED,
    LocationNotAccessible,
    StreetProfile,
)
from tests.engine.street_graphs import MONACO_PBF, monaco_streets, one_way_grid, tiny_town_streets

ROOT = Path(__file__).resolve().parents[2]
needs_monaco = pytest.mark.skipif(not MONACO_PBF.exists(), reason="../shared/data/monaco missing")

BLOCK_EW_M = 200.6405
BLOCK_NS_M = 200.1511
RESIDENTIAL_MPS = 30 / 3.6 * 0.8
PRIMARY_MPS = 50 / 3.6 * 0.8


# ---------------------------------------------------------------------------------------------
# Graphs and oracles
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def town() -> StreetGraph:
    return tiny_town_streets()


@pytest.fixture(scope="module")
def monaco() -> StreetGraph:
    return monaco_streets()


@pytest.fixture(scope="module")
def grid() -> StreetGraph:
    return one_way_grid()


def node(graph: StreetGraph, i: int, j: int) -> int:
    """Node index of tiny-town intersection (i, j) (OSM node 10ij)."""
    return int(np.flatnonzero(graph.node_osm_id == 1000 + 10 * i + j)[0])


def lonlat(i: float, j: float) -> tuple[float, float]:
    """(lon, lat) of tiny-town grid position (i, j); fractions lie between intersections."""
    return 7.5 + 0.0025 * i, 43.8 + 0.0018 * j


def simple_edges(graph: StreetGraph, cost: np.ndarray):
    """(tail, head, cost) of the allowed edges, the cheapest of parallel ones only."""
    ok = np.isfinite(cost)
    tail, head, c = graph.edge_tail[ok], graph.indices[ok], cost[ok]
    order = np.lexsort((c, head, tail))
    tail, head, c = tail[order], head[order], c[order]
    first = np.r_[True, (np.diff(tail) != 0) | (np.diff(head) != 0)]
    return tail[first], head[first], c[first]


def scipy_costs(graph: StreetGraph, cost: np.ndarray, sources, *, reverse=False) -> np.ndarray:
    tail, head, c = simple_edges(graph, cost)
    if reverse:
        tail, head = head, tail
    matrix = scipy.sparse.csr_array((c, (tail, head)), shape=(graph.n_nodes, graph.n_nodes))
    return scipy.sparse.csgraph.dijkstra(matrix, directed=True, indices=np.asarray(sources))


def networkx_graph(graph: StreetGraph, cost: np.ndarray) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    tail, head, c = simple_edges(graph, cost)
    g.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), c.tolist(), strict=True))
    return g


def networkx_cost(g: nx.DiGraph, s: int, t: int) -> float:
    try:
        return nx.bidirectional_dijkstra(g, s, t)[0]
    except nx.NetworkXNoPath:
        return math.inf


def assert_same_costs(got, expected, rtol=1e-6):
    got, expected = np.asarray(got), np.asarray(expected)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=rtol, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# Correctness against networkx and scipy
# ---------------------------------------------------------------------------------------------
@needs_monaco
@pytest.mark.slow
@pytest.mark.parametrize("mode", list(Mode), ids=lambda m: m.name)
def test_monaco_costs_equal_networkx_and_scipy_for_500_random_pairs(monaco, mode):
    rng = np.random.default_rng(20 + mode)
    sources = rng.integers(0, monaco.n_nodes, 500)
    targets = rng.integers(0, monaco.n_nodes, 500)
    profile = StreetProfile(mode)
    cost = street.edge_costs(monaco, profile)
    by_scipy = scipy_costs(monaco, cost, sources)[np.arange(500), targets]
    g = networkx_graph(monaco, cost)
    by_networkx = np.array([networkx_cost(g, s, t) for s, t in zip(sources.tolist(), targets.tolist(),
                                                                   strict=True)])
    assert_same_costs(by_networkx, by_scipy, rtol=1e-12)
    # Random nodes of a real city: many lie outside the bike and car components.
    assert 0 < np.isinf(by_scipy).sum() < 500
    for method in METHODS:
        assert_same_costs(street.pair_costs(monaco, profile, sources, targets, method=method),
                          by_scipy)
    matrix = street.many_to_many(monaco, profile, sources[:20], targets)
    assert_same_costs(matrix, scipy_costs(monaco, cost, sources[:20])[:, targets])


@needs_monaco
def test_monaco_reverse_search_equals_scipy_on_the_transposed_graph(monaco):
    profile = StreetProfile(Mode.CAR)
    cost = street.edge_costs(monaco, profile)
    target = int(np.flatnonzero(monaco.node_in_component[Mode.CAR])[100])
    back = street.search(monaco, profile, target, reverse=True)
    assert_same_costs(back.cost, scipy_costs(monaco, cost, [target], reverse=True)[0])
    # Following pred_edge from any node leads to the target at the cost announced.
    start = int(np.flatnonzero(np.isfinite(back.cost))[-1])
    total, v = 0.0, start
    while back.pred_edge[v] != street.NO_PREDECESSOR:
        e = back.pred_edge[v]
        assert monaco.edge_tail[e] == v
        total += cost[e]
        v = monaco.indices[e]
    assert v == target
    assert total == pytest.approx(back.cost[start], rel=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_agrees_with_scipy_on_a_grid_with_one_way_streets(grid, method):
    rng = np.random.default_rng(3)
    n = grid.n_nodes
    for mode in Mode:
        # Random pairs, plus every node outside the mode's component as a source and a target.
        outside = np.flatnonzero(~grid.node_in_component[mode])
        sources = np.r_[rng.integers(0, n, 300), outside, rng.integers(0, n, outside.size)]
        targets = np.r_[rng.integers(0, n, 300), rng.integers(0, n, outside.size), outside]
        profile = StreetProfile(mode)
        expected = scipy_costs(grid, street.edge_costs(grid, profile), sources)[
            np.arange(sources.size), targets]
        got = street.pair_costs(grid, profile, sources, targets, method=method)
        assert_same_costs(got, expected)
        if mode == Mode.CAR:
            assert np.isinf(expected).sum() >= 10, "the grid should have unreachable pairs"


def test_one_to_many_and_forward_search_equal_scipy_and_stop_at_the_limit(grid):
    profile = StreetProfile(Mode.BICYCLE)
    cost = street.edge_costs(grid, profile)
    source = int(np.flatnonzero(grid.node_in_component[Mode.BICYCLE])[0])
    full = scipy_costs(grid, cost, [source])[0]
    targets = np.arange(0, grid.n_nodes, 7)
    assert_same_costs(street.one_to_many(grid, profile, source, targets), full[targets])
    assert_same_costs(street.search(grid, profile, source).cost, full)
    limit = float(np.median(full[np.isfinite(full)]))
    limited = street.search(grid, profile, source, max_cost=limit)
    assert_same_costs(limited.cost, np.where(full <= limit, full, np.inf))
    assert_same_costs(street.one_to_many(grid, profile, source, targets, max_cost=limit),
                      np.where(full[targets] <= limit, full[targets], np.inf))


def test_multi_source_search_starts_each_source_at_its_own_cost(grid):
    profile = StreetProfile(Mode.WALK)
    cost = street.edge_costs(grid, profile)
    sources, offsets = np.array([0, 200, 431]), np.array([50.0, 0.0, 120.0])
    by_source = scipy_costs(grid, cost, sources)
    expected = np.min(by_source + offsets[:, None], axis=0)
    assert_same_costs(street.search(grid, profile, sources, offsets).cost, expected)


def test_many_to_many_reverse_gives_costs_from_targets_to_sources(grid):
    profile = StreetProfile(Mode.CAR)
    sources, targets = np.array([5, 77, 300]), np.array([1, 2, 150, 400])
    forward = street.many_to_many(grid, profile, targets, sources)
    backward = street.many_to_many(grid, profile, sources, targets, reverse=True)
    assert_same_costs(backward, forward.T)


# ---------------------------------------------------------------------------------------------
# The tiny town by hand: one-way streets, contraflow, footways, profiles
# ---------------------------------------------------------------------------------------------
def test_cars_and_bikes_go_around_a_one_way_street_that_walkers_take(town):
    # Rue Haute (row 2) is one-way east for cars and bikes. From (3, 2) to (1, 2) they go south
    # on Rue des Jardins, west on Avenue de la Gare and north on Rue des Écoles.
    detour = [("Rue des Jardins", BLOCK_NS_M), ("Avenue de la Gare", 2 * BLOCK_EW_M),
              ("Rue des Écoles", BLOCK_NS_M)]
    car = street.shortest_path(town, StreetProfile(Mode.CAR), node(town, 3, 2), node(town, 1, 2))
    assert [name for name, _ in car.streets] == [name for name, _ in detour]
    assert [m for _, m in car.streets] == pytest.approx([m for _, m in detour], rel=1e-4)
    assert car.duration_s == pytest.approx(2 * BLOCK_NS_M / RESIDENTIAL_MPS
                                           + 2 * BLOCK_EW_M / PRIMARY_MPS, rel=1e-4)
    bike = street.shortest_path(town, StreetProfile(Mode.BICYCLE), node(town, 3, 2), node(town, 1, 2))
    assert bike.streets == car.streets
    assert bike.duration_s == pytest.approx(bike.length_m / 4.5)
    walk = street.shortest_path(town, StreetProfile(Mode.WALK), node(town, 3, 2), node(town, 1, 2))
    assert [name for name, _ in walk.streets] == ["Rue Haute"]
    assert walk.length_m == pytest.approx(2 * BLOCK_EW_M, rel=1e-4)
    assert walk.duration_s == pytest.approx(2 * BLOCK_EW_M / 1.3, rel=1e-4)


def test_a_bike_rides_the_contraflow_of_rue_du_marche_where_a_car_goes_around(town):
    # Rue du Marché is one-way north for cars, two-way for bikes (oneway:bicycle=no).
    south = (node(town, 2, 2), node(town, 2, 1))
    bike = street.shortest_path(town, StreetProfile(Mode.BICYCLE), *south)
    assert bike.streets == ((("Rue du Marché", pytest.approx(BLOCK_NS_M, rel=1e-4))),)
    assert bike.duration_s == pytest.approx(BLOCK_NS_M / 4.5, rel=1e-4)
    car = street.shortest_path(town, StreetProfile(Mode.CAR), *south)
    assert [name for name, _ in car.streets] == ["Rue Haute", "Rue des Jardins", "Avenue de la Gare"]
    assert car.length_m == pytest.approx(2 * BLOCK_EW_M + BLOCK_NS_M, rel=1e-4)
    assert car.duration_s == pytest.approx((BLOCK_EW_M + BLOCK_NS_M) / RESIDENTIAL_MPS
                                           + BLOCK_EW_M / PRIMARY_MPS, rel=1e-4)


def test_walkers_take_the_footway_that_cars_and_bikes_cannot_use(town):
    ends = (node(town, 1, 2), node(town, 1, 3))
    walk = street.shortest_path(town, StreetProfile(Mode.WALK), *ends)
    assert [name for name, _ in walk.streets] == ["Passage des Fleurs"]
    assert walk.duration_s == pytest.approx(BLOCK_NS_M / 1.3, rel=1e-4)
    for mode in (Mode.CAR, Mode.BICYCLE):
        path = street.shortest_path(town, StreetProfile(mode), *ends)
        assert [name for name, _ in path.streets] == ["Rue Haute", "Rue du Marché", "Rue du Canal"]
        assert path.length_m == pytest.approx(2 * BLOCK_EW_M + BLOCK_NS_M, rel=1e-4)
    # A point on the footway snaps onto it for walkers, onto a street for cars.
    mid = lonlat(1, 2.5)
    assert street.snap(town, *mid, Mode.WALK).distance_m == pytest.approx(0, abs=1e-6)
    car_snap = street.snap(town, *mid, Mode.CAR)
    assert car_snap.distance_m == pytest.approx(BLOCK_NS_M / 2, rel=1e-3)


def test_bike_lane_preference_trades_a_little_time_for_a_bike_lane(town):
    # From 8 m east of (1, 0) on Route du Sud to (4, 1). Fastest: stay on streets without a bike
    # lane (794 m). With preference 0.5: back to (1, 0), up Rue des Écoles and along the
    # eastbound lane of Avenue de la Gare (810 m, 3.6 s longer, 208 m without a lane).
    start, end = lonlat(1.04, 0), lonlat(4, 1)
    fastest = street.route_points(town, start, end, StreetProfile(Mode.BICYCLE))
    assert fastest.length_m == pytest.approx(3 * BLOCK_EW_M - 0.04 * BLOCK_EW_M + BLOCK_NS_M, rel=1e-4)
    assert fastest.cost == pytest.approx(fastest.duration_s)
    safer = street.route_points(town, start, end,
                                StreetProfile(Mode.BICYCLE, bike_lane_preference=0.5))
    assert [name for name, _ in safer.streets] == ["Route du Sud", "Rue des Écoles", "Avenue de la Gare"]
    off_lane_m = 0.04 * BLOCK_EW_M + BLOCK_NS_M
    lane_m = safer.streets[2][1]
    assert safer.length_m == pytest.approx(off_lane_m + lane_m, rel=1e-6)
    assert lane_m == pytest.approx(3 * BLOCK_EW_M, rel=1e-4)
    # The path reports real time; the search minimised the generalized cost.
    assert safer.duration_s == pytest.approx(safer.length_m / 4.5, rel=1e-6)
    assert safer.cost == pytest.approx((1.5 * off_lane_m + lane_m) / 4.5, rel=1e-4)
    assert safer.duration_s - fastest.duration_s == pytest.approx(3.57, abs=0.05)


def test_walking_speed_scales_times_and_steps_stay_twice_as_slow(town):
    slow = StreetProfile(Mode.WALK, walk_speed_mps=1.0)
    stairs = street.shortest_path(town, slow, node(town, 3, 2), node(town, 3, 3))
    assert stairs.streets[0][0] == "Escalier de la Tour"
    assert stairs.duration_s == pytest.approx(2 * BLOCK_NS_M / 1.0, rel=1e-4)
    a, b = node(town, 0, 0), node(town, 4, 3)
    assert street.one_to_one(town, slow, a, b) == pytest.approx(
        1.3 * street.one_to_one(town, StreetProfile(Mode.WALK), a, b))


def test_profiles_reject_nonsense_parameters():
    with pytest.raises(ValueError, match="walk_speed_mps"):
        StreetProfile(Mode.WALK, walk_speed_mps=0)
    with pytest.raises(ValueError, match="bike_lane_preference"):
        StreetProfile(Mode.BICYCLE, bike_lane_preference=-0.1)
    with pytest.raises(ValueError, match="mode"):
        StreetProfile(7)


def test_queries_name_the_bad_argument(town):
    profile = StreetProfile(Mode.WALK)
    with pytest.raises(ValueError, match="target_nodes: node index 999"):
        street.pair_costs(town, profile, [0], [999])
    with pytest.raises(ValueError, match="source_cost"):
        street.search(town, profile, [0], [-1.0])
    with pytest.raises(ValueError, match="method"):
        street.one_to_one(town, profile, 0, 1, method="dijkstar")
    with pytest.raises(ValueError, match="max_cost"):
        street.one_to_one(town, profile, 0, 1, max_cost=-5)


def test_a_cost_limit_leaves_farther_targets_unreached(town):
    profile = StreetProfile(Mode.WALK)
    a, b = node(town, 0, 0), node(town, 1, 0)  # one block: 154.3 s
    for method in METHODS:
        assert street.one_to_one(town, profile, a, b, max_cost=160, method=method) == pytest.approx(
            BLOCK_EW_M / 1.3, rel=1e-4)
        assert street.one_to_one(town, profile, a, b, max_cost=150, method=method) == UNREACHED


# ---------------------------------------------------------------------------------------------
# Snapping and routes between points
# ---------------------------------------------------------------------------------------------
def test_a_point_too_far_from_the_streets_is_not_accessible(town):
    far = (7.5050, 43.8150)  # about 1 km north of Rue du Canal
    with pytest.raises(LocationNotAccessible) as info:
        street.snap(town, *far, Mode.WALK)
    assert info.value.code == LOCATION_NOT_ACCESSIBLE == "LOCATION_NOT_ACCESSIBLE"
    assert info.value.distance_m > 500
    with pytest.raises(LocationNotAccessible):
        street.route_points(town, far, lonlat(0, 0), StreetProfile(Mode.WALK))
    # 300 m north of Rue du Canal: beyond a 250 m limit, within the default 500 m.
    near = (7.5050, 43.8054 + 300 / 111_195)
    assert street.snap(town, *near, Mode.WALK).distance_m == pytest.approx(300, rel=2e-3)
    with pytest.raises(LocationNotAccessible):
        street.snap(town, *near, Mode.WALK, max_distance_m=250)
    many = street.snap_many(town, [near[0], far[0]], [near[1], far[1]], Mode.WALK)
    assert many.accessible.tolist() == [True, False]


def test_origin_equal_to_destination_is_a_zero_route(town):
    for point in (lonlat(0.5, 1), lonlat(2, 1)):   # mid-segment, and exactly on a node
        for mode in Mode:
            path = street.route_points(town, point, point, StreetProfile(mode))
            assert (path.cost, path.length_m, path.duration_s) == (0.0, 0.0, 0.0)
            assert path.geojson()["coordinates"][0] == path.geojson()["coordinates"][-1]
    assert street.one_to_one(town, StreetProfile(Mode.CAR), 3, 3) == 0.0


def test_two_points_on_one_segment_go_straight_along_it_unless_one_way(town):
    # Two points on Rue Haute (one-way east), at (0.2, 2) and (0.7, 2): half a block apart.
    west, east = lonlat(0.2, 2), lonlat(0.7, 2)
    walk = street.route_points(town, east, west, StreetProfile(Mode.WALK))
    assert walk.length_m == pytest.approx(0.5 * BLOCK_EW_M, rel=1e-4)
    assert walk.node_idx.size == 0 and walk.streets[0][0] == "Rue Haute"
    car_east = street.route_points(town, west, east, StreetProfile(Mode.CAR))
    assert car_east.length_m == pytest.approx(0.5 * BLOCK_EW_M, rel=1e-4)
    assert car_east.duration_s == pytest.approx(0.5 * BLOCK_EW_M / RESIDENTIAL_MPS, rel=1e-4)
    # Westward a car may not drive up Rue Haute: on east to (1, 2), then round the block by
    # Rue des Écoles, Avenue de la Gare and Rue de l'Ouest, and back onto Rue Haute.
    car_west = street.route_points(town, east, west, StreetProfile(Mode.CAR))
    assert [name for name, _ in car_west.streets] == [
        "Rue Haute", "Rue des Écoles", "Avenue de la Gare", "Rue de l'Ouest", "Rue Haute"]
    assert car_west.length_m == pytest.approx(1.5 * BLOCK_EW_M + 2 * BLOCK_NS_M, rel=1e-4)
    assert street.point_costs(
        town, street.snap_many(town, [east[0], west[0]], [east[1], west[1]], Mode.CAR),
        street.snap_many(town, [west[0], east[0]], [west[1], east[1]], Mode.CAR),
        StreetProfile(Mode.CAR)).tolist() == pytest.approx([car_west.cost, car_east.cost])


def test_a_route_between_points_counts_the_partial_edges(town):
    # From a quarter block east of (0, 1) to a quarter block north of (4, 2) by car.
    path = street.route_points(town, lonlat(0.25, 1), lonlat(4, 2.25), StreetProfile(Mode.CAR))
    assert [name for name, _ in path.streets] == ["Avenue de la Gare", "Avenue de l'Est"]
    assert path.streets[0][1] == pytest.approx(3.75 * BLOCK_EW_M, rel=1e-4)
    assert path.streets[1][1] == pytest.approx(1.25 * BLOCK_NS_M, rel=1e-4)
    assert path.duration_s == pytest.approx(3.75 * BLOCK_EW_M / PRIMARY_MPS
                                            + 1.25 * BLOCK_NS_M / (40 / 3.6 * 0.8), rel=1e-4)
    assert (path.lon[0], path.lat[0]) == pytest.approx(lonlat(0.25, 1))
    assert (path.lon[-1], path.lat[-1]) == pytest.approx(lonlat(4, 2.25))
    assert path.edge_fraction[0] == pytest.approx(0.75, rel=1e-3)
    assert path.edge_fraction[-1] == pytest.approx(0.25, rel=1e-3)
    for method in METHODS:
        other = street.route_points(town, lonlat(0.25, 1), lonlat(4, 2.25), StreetProfile(Mode.CAR),
                                    method=method)
        assert other.cost == pytest.approx(path.cost)
        assert other.edge_idx.tolist() == path.edge_idx.tolist()


def test_snapping_finds_the_nearest_segment_like_brute_force(grid):
    rng = np.random.default_rng(11)
    lon = rng.uniform(grid.node_lon.min() - 0.002, grid.node_lon.max() + 0.002, 400)
    lat = rng.uniform(grid.node_lat.min() - 0.002, grid.node_lat.max() + 0.002, 400)
    for mode in Mode:
        snaps = street.snap_many(grid, lon, lat, mode, max_distance_m=1e9)
        comp = grid.node_in_component[mode]
        ok = (np.isfinite(grid.cost_s(mode)) & comp[grid.edge_tail] & comp[grid.indices])
        ax, ay = grid.node_x_m[grid.edge_tail[ok]], grid.node_y_m[grid.edge_tail[ok]]
        dx, dy = grid.node_x_m[grid.indices[ok]] - ax, grid.node_y_m[grid.indices[ok]] - ay
        px, py = grid.projection.to_xy_m(lon, lat)
        t = np.clip(((px[:, None] - ax) * dx + (py[:, None] - ay) * dy) / (dx * dx + dy * dy), 0, 1)
        brute = np.hypot(ax + t * dx - px[:, None], ay + t * dy - py[:, None]).min(axis=1)
        np.testing.assert_allclose(snaps.distance_m, brute, rtol=1e-9, atol=1e-6)
        assert comp[snaps.tail_node].all() and comp[snaps.head_node].all()


def test_snapping_finds_a_long_edge_far_from_every_node():
    # One 6 km street with nodes only at its ends, and a short one near its west end: a point
    # 30 m from the long street's middle is 3 km from every node.
    lon = np.array([7.40, 7.40 + 6000 / 80_300, 7.40, 7.40 + 0.0002])
    lat = np.array([43.70, 43.70, 43.7005, 43.7005])
    graph = StreetGraph.from_edges(
        node_lon=lon, node_lat=lat, edge_tail=[0, 1, 2, 3, 0, 2], edge_head=[1, 0, 3, 2, 2, 0],
        edge_length_m=[6000, 6000, 16, 16, 55, 55], walk_time_s=np.full(6, 10.0),
        bike_time_s=np.full(6, 5.0), car_time_s=np.full(6, 1.0))
    mid_lon = (lon[0] + lon[1]) / 2
    s = street.snap(graph, mid_lon, 43.70 + 30 / 111_200, Mode.WALK)
    assert {s.tail_node, s.head_node} == {0, 1}
    assert s.distance_m == pytest.approx(30, rel=5e-3)
    assert s.lon == pytest.approx(mid_lon)


# ---------------------------------------------------------------------------------------------
# Isochrones
# ---------------------------------------------------------------------------------------------
def test_isochrone_reaches_the_nodes_within_the_time_and_cuts_the_edges_there(town):
    profile = StreetProfile(Mode.WALK)
    origin = node(town, 0, 0)
    iso = street.isochrone(town, profile, origin, 200.0)
    everything = street.search(town, profile, origin).cost
    assert sorted(iso.node_idx.tolist()) == sorted(np.flatnonzero(everything <= 200).tolist())
    assert node(town, 1, 0) in iso.node_idx and node(town, 0, 1) in iso.node_idx
    assert node(town, 1, 1) not in iso.node_idx
    # Along Route du Sud from (1, 0): 200 - 154.34 s of walking, as a share of the next block.
    e = int(np.flatnonzero((town.edge_tail == node(town, 1, 0)) & (town.indices == node(town, 2, 0)))[0])
    share = iso.edge_end[iso.edge_idx == e]
    assert share.tolist() == pytest.approx([(200 - BLOCK_EW_M / 1.3) / (BLOCK_EW_M / 1.3)], rel=1e-3)
    points = street.isochrone_geojson_points(town, iso)
    assert len(points["features"]) == iso.node_idx.size
    assert points["features"][0]["properties"]["time_s"] == 0.0


def test_isochrone_polygon_covers_the_reached_streets_and_nothing_far(town):
    profile = StreetProfile(Mode.WALK)
    origin = street.snap(town, *lonlat(2, 1.5), Mode.WALK)
    iso = street.isochrone(town, profile, origin, 240.0)
    area = shapely.geometry.shape(street.isochrone_polygon(town, iso))
    assert area.is_valid and area.area > 0
    starts, ends = street.isochrone_segments(town, iso)
    reached = shapely.MultiLineString([[tuple(a), tuple(b)] for a, b in zip(starts, ends, strict=True)])
    assert area.buffer(1e-7).covers(reached)
    assert area.contains(shapely.Point(origin.lon, origin.lat))
    assert not area.contains(shapely.Point(*lonlat(0, 3)))   # 4 blocks of walking away
    # Reverse: where one can start to arrive here within the time. Rue du Marché is two-way on
    # foot, so walking there and back are alike.
    back = street.isochrone(town, profile, origin, 240.0, reverse=True)
    assert sorted(back.node_idx.tolist()) == sorted(iso.node_idx.tolist())


@needs_monaco
@pytest.mark.parametrize("mode", [Mode.CAR, Mode.BICYCLE], ids=lambda m: m.name)
def test_monaco_point_to_point_costs_equal_an_oracle_over_the_segment_ends(monaco, mode):
    # Oracle: leave the origin's segment by either end the mode may take, arrive on the
    # destination's segment from either end, with scipy's costs in between; or go straight along
    # a shared segment.
    rng = np.random.default_rng(5)
    n = 60
    lon = rng.uniform(monaco.node_lon.min(), monaco.node_lon.max(), 2 * n)
    lat = rng.uniform(monaco.node_lat.min(), monaco.node_lat.max(), 2 * n)
    profile = StreetProfile(mode)
    cost = street.edge_costs(monaco, profile)
    snaps = street.snap_many(monaco, lon, lat, mode, max_distance_m=1e9)
    origins = street.snap_many(monaco, lon[:n], lat[:n], mode, max_distance_m=1e9)
    destinations = street.snap_many(monaco, lon[n:], lat[n:], mode, max_distance_m=1e9)

    def way_cost(a, b):  # cheapest edge a -> b for the mode, inf if none
        found = cost[(monaco.edge_tail == a) & (monaco.indices == b)]
        return found.min() if found.size else math.inf

    def part(share, c):
        return share * c if math.isfinite(c) else math.inf

    expected = []
    for i in range(n):
        o, d = snaps[i], snaps[n + i]
        leave = [(o.head_node, part(1 - o.fraction, way_cost(o.tail_node, o.head_node))),
                 (o.tail_node, part(o.fraction, way_cost(o.head_node, o.tail_node)))]
        arrive = [(d.tail_node, part(d.fraction, way_cost(d.tail_node, d.head_node))),
                  (d.head_node, part(1 - d.fraction, way_cost(d.head_node, d.tail_node)))]
        dist = scipy_costs(monaco, cost, [leave[0][0], leave[1][0]])
        best = min(c1 + dist[k][node2] + c2 for k, (_, c1) in enumerate(leave) for node2, c2 in arrive)
        if {o.tail_node, o.head_node} == {d.tail_node, d.head_node}:
            f = d.fraction if d.tail_node == o.tail_node else 1 - d.fraction
            along = (part(f - o.fraction, way_cost(o.tail_node, o.head_node)) if f >= o.fraction
                     else part(o.fraction - f, way_cost(o.head_node, o.tail_node)))
            best = min(best, along)
        expected.append(best)
    assert np.isfinite(expected).all()  # snapped points share the mode's component
    for method in METHODS:
        assert_same_costs(street.point_costs(monaco, origins, destinations, profile, method=method),
                          expected)
    for i in range(0, n, 6):
        path = street.route(monaco, origins[i], destinations[i], profile)
        assert path.cost == pytest.approx(expected[i], rel=1e-9)
        assert path.duration_s == pytest.approx(path.cost, rel=1e-9)
        assert path.length_m == pytest.approx(
            float(np.sum(monaco.edge_length_m[path.edge_idx] * path.edge_fraction)), rel=1e-9)
