"""engine/street/ch*.py: the customizable contraction hierarchy answers exactly what the Dijkstra
searches answer (tiny town, Monaco, a grid with one-way streets and unreachable pairs), its
paths are real paths of that cost, re-customization after a cost change equals a fresh Dijkstra,
and grid snapping equals the KD-tree snapping."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import street
from engine.model import Mode, StreetGraph
from engine.street import StreetProfile
from tests.engine.street_graphs import monaco_streets, one_way_grid, tiny_town_streets

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def town() -> StreetGraph:
    return tiny_town_streets()


@pytest.fixture(scope="module")
def monaco() -> StreetGraph:
    return monaco_streets()


@pytest.fixture(scope="module")
def grid() -> StreetGraph:
    return one_way_grid()


def assert_same(got, expected):
    got, expected = np.asarray(got), np.asarray(expected)
    assert np.array_equal(np.isinf(got), np.isinf(expected))
    fin = np.isfinite(expected)
    np.testing.assert_allclose(got[fin], expected[fin], rtol=1e-6, atol=1e-9)


def assert_real_path(graph, profile, path, source, target):
    e = path.edge_idx
    assert np.all(graph.indices[e[:-1]] == graph.edge_tail[e[1:]])
    if e.size:
        assert graph.edge_tail[e[0]] == source and graph.indices[e[-1]] == target
    assert street.edge_costs(graph, profile)[e].sum() == pytest.approx(path.cost, rel=1e-9)


@pytest.mark.parametrize("name", ["town", "grid", "monaco"])
@pytest.mark.parametrize("mode", list(Mode))
def test_hierarchy_costs_equal_dijkstra_pairs_matrices_and_paths(request, name, mode):
    graph = request.getfixturevalue(name)
    profile = StreetProfile(mode)
    rng = np.random.default_rng(7)
    n = 400
    sources, targets = rng.integers(0, graph.n_nodes, n), rng.integers(0, graph.n_nodes, n)
    expected = street.pair_costs(graph, profile, sources, targets, method="dijkstra")
    assert_same(street.ch_pair_costs(graph, profile, sources, targets), expected)
    assert_same(street.ch_many_to_many(graph, profile, sources[:15], targets[:40]),
                street.many_to_many(graph, profile, sources[:15], targets[:40]))
    for s, t in zip(sources[:10], targets[:10], strict=True):
        path = street.ch_shortest_path(graph, profile, int(s), int(t))
        ref = street.shortest_path(graph, profile, int(s), int(t), method="dijkstra")
        assert (path is None) == (ref is None)
        if path is not None:
            assert path.cost == pytest.approx(ref.cost, rel=1e-6)
            assert_real_path(graph, profile, path, s, t)


def test_one_way_streets_and_unreachable_pairs_are_directed(grid):
    profile = StreetProfile(Mode.CAR)
    comp = grid.node_in_component[Mode.CAR]
    inside, outside = np.flatnonzero(comp), np.flatnonzero(~comp)
    assert outside.size, "the fixture should leave some nodes out of the car component"
    s = np.r_[inside[:20], outside[:20]]
    t = np.r_[outside[:20], inside[:20]]
    expected = street.pair_costs(grid, profile, s, t, method="dijkstra")
    assert np.isinf(expected).any()
    assert_same(street.ch_pair_costs(grid, profile, s, t), expected)
    one_way = np.flatnonzero(np.isfinite(grid.car_time_s)
                             & ~np.isfinite(street.edge_costs(grid, StreetProfile(Mode.CAR))[grid.rev_edge]))
    a, b = grid.edge_tail[one_way[:30]], grid.indices[one_way[:30]]
    assert_same(street.ch_pair_costs(grid, profile, b, a),
                street.pair_costs(grid, profile, b, a, method="dijkstra"))


def test_max_cost_leaves_farther_pairs_unreached(town):
    profile = StreetProfile(Mode.WALK)
    nodes = np.arange(town.n_nodes)
    full = street.ch_pair_costs(town, profile, np.zeros_like(nodes), nodes)
    limit = float(np.median(full[np.isfinite(full)]))
    assert_same(street.ch_pair_costs(town, profile, np.zeros_like(nodes), nodes, max_cost=limit),
                np.where(full <= limit, full, np.inf))


def test_recustomizing_after_a_cost_change_equals_a_fresh_dijkstra(monaco):
    rng = np.random.default_rng(3)
    slower = np.asarray(monaco.car_time_s) * rng.uniform(1.0, 3.0, monaco.n_edges)
    slower[rng.random(monaco.n_edges) < 0.05] = np.inf     # closures
    scenario = monaco.with_costs(car_time_s=slower)
    assert street.hierarchy(scenario) is street.hierarchy(monaco)   # the order is reused
    metric = street.customize(scenario, slower)
    s, t = rng.integers(0, monaco.n_nodes, 300), rng.integers(0, monaco.n_nodes, 300)
    expected = street.pair_costs(scenario, StreetProfile(Mode.CAR), s, t, method="dijkstra")
    assert_same(street.ch_pair_costs(scenario, metric, s, t), expected)
    assert_same(street.ch_pair_costs(scenario, StreetProfile(Mode.CAR), s, t), expected)


def test_bike_lane_preference_customizes_its_own_metric(town):
    profile = StreetProfile(Mode.BICYCLE, bike_lane_preference=0.5)
    n = town.n_nodes
    s, t = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    assert_same(street.ch_pair_costs(town, profile, s, t),
                street.pair_costs(town, profile, s, t, method="dijkstra"))


@pytest.mark.parametrize("name", ["town", "monaco"])
def test_points_route_and_costs_equal_the_dijkstra_routing(request, name):
    graph = request.getfixturevalue(name)
    rng = np.random.default_rng(11)
    lon = rng.uniform(graph.node_lon.min(), graph.node_lon.max(), 60)
    lat = rng.uniform(graph.node_lat.min(), graph.node_lat.max(), 60)
    for mode in Mode:
        profile = StreetProfile(mode)
        a = street.snap_many(graph, lon, lat, mode)
        b = street.snap_points(graph, lon, lat, mode)
        assert np.array_equal(a.edge_idx, b.edge_idx)
        ok = a.accessible
        np.testing.assert_allclose(b.fraction[ok], a.fraction[ok], atol=1e-12)
        np.testing.assert_allclose(b.distance_m[ok], a.distance_m[ok], atol=1e-9)
        o, d = a, street.snap_many(graph, lon[::-1], lat[::-1], mode)
        assert_same(street.ch_point_costs(graph, o, d, profile), street.point_costs(graph, o, d, profile))
        assert_same(street.ch_point_matrix(graph, o, d, profile)[np.arange(60), np.arange(60)],
                    street.point_costs(graph, o, d, profile))
        for i in np.flatnonzero(ok)[:5]:
            frm, to = (lon[i], lat[i]), (lon[-1 - i], lat[-1 - i])
            try:
                ref = street.route_points(graph, frm, to, profile, method="dijkstra")
            except street.LocationNotAccessible:
                continue
            got = street.ch_route_points(graph, frm, to, profile)
            assert (got is None) == (ref is None)
            if got is not None:
                assert got.cost == pytest.approx(ref.cost, rel=1e-6)
                assert got.duration_s == pytest.approx(got.duration_s, rel=1e-6)


def test_same_segment_points_go_straight_along_it(town):
    profile = StreetProfile(Mode.WALK)
    e = int(np.flatnonzero(np.isfinite(town.walk_time_s))[0])
    a, b = town.edge_tail[e], town.indices[e]
    lon = town.node_lon[a] + np.array([0.25, 0.75]) * (town.node_lon[b] - town.node_lon[a])
    lat = town.node_lat[a] + np.array([0.25, 0.75]) * (town.node_lat[b] - town.node_lat[a])
    snaps = street.snap_points(town, lon, lat, Mode.WALK)
    ref = street.point_costs(town, snaps, snaps.__class__(**{**snaps.__dict__}), profile)
    assert_same(street.ch_point_matrix(town, snaps, snaps, profile).diagonal(), ref)
    got = street.ch_route_points(town, (lon[0], lat[0]), (lon[1], lat[1]), profile)
    want = street.route_points(town, (lon[0], lat[0]), (lon[1], lat[1]), profile)
    assert got.cost == pytest.approx(want.cost) and got.edge_idx.size == 1


def test_queries_reject_bad_arguments(town):
    profile = StreetProfile(Mode.WALK)
    with pytest.raises(ValueError, match="source_nodes"):
        street.ch_pair_costs(town, profile, [town.n_nodes], [0])
    with pytest.raises(ValueError, match="costs"):
        street.customize(town, np.full(town.n_edges, -1.0))
    with pytest.raises(street.LocationNotAccessible):
        street.ch_route_points(town, (0.0, 0.0), (0.0, 0.0), profile)


def test_a_bundle_stores_the_hierarchy_and_loading_attaches_it(town, tmp_path):
    from engine.model import Network
    from loaders.bundle import load_bundle, save_bundle

    street.prepare_hierarchy(town)
    network = Network(timezone="UTC", projection=town.projection, bbox=(0.0, 0.0, 1.0, 1.0), street=town)
    save_bundle(network, tmp_path / "b")
    loaded = load_bundle(tmp_path / "b")
    built = street.built_hierarchy(loaded.street)
    assert built is not None and set(built[1]) == set(Mode)
    assert np.array_equal(built[0].rank, street.hierarchy(town).rank)
    n = town.n_nodes
    s, t = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    for mode in Mode:
        assert_same(street.ch_pair_costs(loaded.street, StreetProfile(mode), s, t),
                    street.pair_costs(town, StreetProfile(mode), s, t, method="dijkstra"))
