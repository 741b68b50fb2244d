"""loaders/osm/: the tiny town checked by hand, Monaco's real extract, and bad input."""
from __future__ import annotations

import bz2
import csv
import io
import math
import zipfile
from pathlib import Path

import numpy as np
import osmium
import pytest

from engine.model import LocalProjection, Mode, haversine_m
from loaders.osm import (
    CAR_SPEED_FACTOR,
    FACILITY_COLUMNS,
    STEPS_WALK_FACTOR,
    disconnected_node_counts,
    parse_capacity,
    parse_maxspeed_kmh,
    street_graph_from_osm,
    way_rules,
)
from loaders.report import BuildReport, LoaderError

ROOT = Path(__file__).resolve().parents[2]
TINY_TOWN = ROOT / "data_samples" / "tiny_town" / "tiny_town.osm"
SHARED = ROOT / ".." / "shared" / "data"
MONACO_PBF = SHARED / "monaco" / "monaco.osm.pbf"
MONACO_GTFS = SHARED / "monaco" / "monaco-gtfs.zip"

needs_monaco = pytest.mark.skipif(not MONACO_PBF.exists(), reason="../shared/data/monaco missing")

# Grid spacing of the tiny town (haversine, checked by hand: 0.0025 deg of lon at 43.8 N and
# 0.0018 deg of lat).
BLOCK_EW_M = 200.6405
BLOCK_NS_M = 200.1511


def grid(i: int, j: int) -> int:
    """OSM id of tiny-town intersection (i, j) (see data_samples/tiny_town/README.md)."""
    return 1000 + 10 * i + j


# ---------------------------------------------------------------------------------------------
# The tiny town
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def town():
    report = BuildReport()
    extract = street_graph_from_osm(TINY_TOWN, report)
    return extract, report


def edge(graph, from_osm: int, to_osm: int) -> int:
    """Index of the directed edge between two OSM nodes (exactly one must exist)."""
    tail = np.flatnonzero(graph.node_osm_id == from_osm)
    head = np.flatnonzero(graph.node_osm_id == to_osm)
    assert tail.size == 1 and head.size == 1, (from_osm, to_osm)
    found = np.flatnonzero((graph.edge_tail == tail[0]) & (graph.indices == head[0]))
    assert found.size == 1, f"{found.size} edges {from_osm} -> {to_osm}"
    return int(found[0])


def modes(graph, e: int) -> set[str]:
    return {m.name for m in Mode if np.isfinite(graph.cost_s(m)[e])}


def test_tiny_town_has_every_way_node_and_both_directions_of_every_segment(town):
    extract, report = town
    g = extract.street
    # 20 intersections + 6 other street nodes; 37 segments, all walkable both ways.
    assert g.n_nodes == 26 and g.n_edges == 74
    assert sorted(g.node_osm_id[:20]) == [grid(i, j) for i in range(5) for j in range(4)]
    assert (g.n_edges_allowed(Mode.WALK), g.n_edges_allowed(Mode.BICYCLE),
            g.n_edges_allowed(Mode.CAR)) == (74, 64, 54)
    # Every node a mode reaches is in its strongly connected component: bikes miss the private
    # dead end 2005, cars also the cycleway's nodes 2004 and (3, 3).
    assert disconnected_node_counts(g) == {Mode.WALK: (0, 26), Mode.BICYCLE: (0, 25),
                                           Mode.CAR: (0, 23)}
    assert g.node_in_component.sum(axis=1).tolist() == [26, 25, 23]
    assert not any(n.code == "disconnected_nodes" for n in report.notices)


def test_intermediate_nodes_split_the_avenue_into_shorter_edges(town):
    g = town[0].street
    # Avenue de la Gare: (1, 1) -> 2001 -> (2, 1): two edges of half a block each.
    first, second = edge(g, grid(1, 1), 2001), edge(g, 2001, grid(2, 1))
    block_m = haversine_m(7.5025, 43.8018, 7.5050, 43.8018)  # row 1 is a little further north
    assert block_m == pytest.approx(200.6344, abs=1e-4)
    assert g.edge_length_m[first] == pytest.approx(block_m / 2, rel=1e-9)
    assert g.edge_length_m[first] + g.edge_length_m[second] == pytest.approx(block_m, rel=1e-9)
    assert g.way_name[g.edge_way_idx[first]] == "Avenue de la Gare"
    assert g.way_highway[g.edge_way_idx[first]] == "primary"
    assert g.way_osm_id[g.edge_way_idx[first]] == 102


def test_the_one_way_street_is_one_way_for_cars_and_bikes_but_walkable_both_ways(town):
    g = town[0].street
    east, west = edge(g, grid(1, 2), grid(2, 2)), edge(g, grid(2, 2), grid(1, 2))  # Rue Haute
    assert modes(g, east) == {"WALK", "BICYCLE", "CAR"}
    assert modes(g, west) == {"WALK"}
    assert g.walk_time_s[west] == pytest.approx(BLOCK_EW_M / 1.3, rel=1e-4)


def test_the_contraflow_street_is_one_way_for_cars_two_way_for_bikes_with_a_lane_south(town):
    g = town[0].street
    north, south = edge(g, grid(2, 0), grid(2, 1)), edge(g, grid(2, 1), grid(2, 0))  # Rue du Marché
    assert modes(g, north) == {"WALK", "BICYCLE", "CAR"}
    assert modes(g, south) == {"WALK", "BICYCLE"}
    assert not g.edge_is_bike_lane[north] and g.edge_is_bike_lane[south]
    assert g.bike_time_s[south] == pytest.approx(BLOCK_NS_M / 4.5, rel=1e-4)


def test_the_footway_is_walk_only_and_the_steps_cost_twice_the_walk(town):
    g = town[0].street
    for a, b in ((grid(1, 2), grid(1, 3)), (grid(1, 3), grid(1, 2))):  # Passage des Fleurs
        e = edge(g, a, b)
        assert modes(g, e) == {"WALK"}
        assert g.walk_time_s[e] == pytest.approx(BLOCK_NS_M / 1.3, rel=1e-4)  # 153.96 s
    up = edge(g, grid(3, 2), grid(3, 3))  # Escalier de la Tour, same length
    assert modes(g, up) == {"WALK"}
    assert g.way_highway[g.edge_way_idx[up]] == "steps"
    assert g.walk_time_s[up] == pytest.approx(STEPS_WALK_FACTOR * BLOCK_NS_M / 1.3, rel=1e-4)
    assert g.walk_time_s[up] == pytest.approx(307.92, abs=0.01)


def test_car_times_follow_maxspeed_mph_none_and_the_lowest_of_several(town):
    g = town[0].street
    factor_mps = CAR_SPEED_FACTOR / 3.6
    sud = edge(g, grid(0, 0), grid(1, 0))          # "50 mph" = 80.47 km/h
    assert g.car_time_s[sud] == pytest.approx(BLOCK_EW_M / (80.4672 * factor_mps), rel=1e-4)
    assert g.car_time_s[sud] == pytest.approx(11.22, abs=0.01)
    est = edge(g, grid(4, 0), grid(4, 1))          # "none" on a tertiary: class fallback 40 km/h
    assert g.car_time_s[est] == pytest.approx(BLOCK_NS_M / (40 * factor_mps), rel=1e-4)
    jardins = edge(g, grid(3, 1), grid(3, 0))      # "30;50": the lowest, 30 km/h
    assert g.car_time_s[jardins] == pytest.approx(BLOCK_NS_M / (30 * factor_mps), rel=1e-4)
    canal = edge(g, grid(0, 3), grid(1, 3))        # no maxspeed on a residential: 30 km/h
    assert g.car_time_s[canal] == pytest.approx(BLOCK_EW_M / (30 * factor_mps), rel=1e-4)
    for cost in (g.walk_time_s, g.bike_time_s, g.car_time_s):
        assert not np.isnan(cost).any() and (cost > 0).all()


def test_the_private_service_road_is_walkable_but_closed_to_cars_and_bikes(town):
    g = town[0].street
    for a, b in ((grid(3, 0), 2005), (2005, grid(3, 0))):  # Allée des Résidents, foot=yes
        assert modes(g, edge(g, a, b)) == {"WALK"}


def test_bike_lane_flags_follow_the_side_and_direction_of_the_lane(town):
    g = town[0].street
    # Avenue de la Gare: cycleway:right=lane on a two-way street -> eastbound only.
    assert g.edge_is_bike_lane[edge(g, grid(0, 1), grid(1, 1))]
    assert not g.edge_is_bike_lane[edge(g, grid(1, 1), grid(0, 1))]
    # Piste du Canal (highway=cycleway): both ways.
    assert g.edge_is_bike_lane[edge(g, grid(3, 3), grid(4, 3))]
    assert g.edge_is_bike_lane[edge(g, grid(4, 3), grid(3, 3))]
    # Route du Sud: none. In all: avenue 6 + Rue du Marché 4 (south) + cycleway 3 x 2.
    assert not g.edge_is_bike_lane[edge(g, grid(0, 0), grid(1, 0))]
    assert int(g.edge_is_bike_lane.sum()) == 16
    assert np.isfinite(g.bike_time_s[g.edge_is_bike_lane]).all()


def test_car_parks_and_bicycle_parking_come_with_names_kinds_capacities_and_entrances(town):
    extract, report = town
    f = extract.facilities
    assert tuple(f.columns) == FACILITY_COLUMNS
    assert f["facility_id"].tolist() == ["osm:node/3001", "osm:node/3002", "osm:node/3003",
                                         "osm:node/3004"]
    assert f["name"].tolist() == ["Parking Centre", "Parking Gare", "Parking Relais",
                                  "Bicycle parking (OSM node 3004)"]
    assert f["kind"].tolist() == ["car_park", "car_park", "park_and_ride", "bike_parking"]
    assert f["capacity"].tolist() == [120.0, 60.0, 200.0, 10.0]
    assert f["lon"].tolist() == [7.5052, 7.5098, 7.4995, 7.5003]
    assert f["lat"].tolist() == [43.8038, 43.8020, 43.7995, 43.8019]
    assert (f["source"] == "osm").all()
    # Entrances: Centre's on Rue du Marché (79 m away), Relais's at the end of its access road.
    assert f["entrance_lon"].iloc[0] == 7.5050 and f["entrance_lat"].iloc[0] == 43.8045
    assert math.isnan(f["entrance_lon"].iloc[1]) and math.isnan(f["entrance_lat"].iloc[1])
    assert (f["entrance_lon"].iloc[2], f["entrance_lat"].iloc[2]) == (7.4997, 43.7997)
    # The private Parking Résidence des Pins is dropped, and counted.
    assert report.dropped[("parking facilities (car_park)", "access=private or access=no")] == 1


def test_a_given_projection_and_speeds_are_used(town):
    proj = LocalProjection(7.5, 43.8)
    g = street_graph_from_osm(TINY_TOWN, BuildReport(), walk_speed_mps=1.0, bike_speed_mps=5.0,
                              projection=proj).street
    assert g.projection == proj and (g.walk_speed_mps, g.bike_speed_mps) == (1.0, 5.0)
    e = edge(g, grid(0, 0), grid(1, 0))
    x_m, y_m = proj.to_xy_m(7.5025, 43.8)
    assert (g.node_x_m[g.indices[e]], g.node_y_m[g.indices[e]]) == (x_m, y_m)
    assert x_m == pytest.approx(BLOCK_EW_M, rel=LocalProjection.MAX_SCALE_ERROR)
    assert g.walk_time_s[e] == pytest.approx(BLOCK_EW_M, rel=1e-4)
    assert g.bike_time_s[e] == pytest.approx(BLOCK_EW_M / 5.0, rel=1e-4)
    with pytest.raises(ValueError, match="walk_speed_mps"):
        street_graph_from_osm(TINY_TOWN, BuildReport(), walk_speed_mps=0)


def test_the_generator_script_reproduces_the_committed_file():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_tiny_town",
                                                  TINY_TOWN.with_name("make_tiny_town.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.tiny_town_xml() == TINY_TOWN.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Tag rules
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "kmh"), [
    ("50", 50.0), ("50 mph", 80.4672), ("50mph", 80.4672), ("30 km/h", 30.0), ("10 knots", 18.52),
    ("30;50", 30.0), ("50;30", 30.0), ("none", None), ("signals", None), ("variable", None),
    ("walk", 6.0), ("FR:urban", 50.0), ("fr:rural", 80.0), ("RU:rural", 90.0),
    ("RU:urban", 60.0), ("DE:motorway", None), ("DE:zone30", 30.0), ("zone:30", 30.0),
    ("IT:urban", 50.0), ("GB:nsl_single", 96.56), ("none;50", 50.0),
])
def test_maxspeed_values_parse_to_kmh(value, kmh):
    assert parse_maxspeed_kmh(value) == (None if kmh is None else pytest.approx(kmh))


@pytest.mark.parametrize("value", ["sign", "0", "fast", "-30", "FR:nowhere", "999", ""])
def test_unreadable_maxspeed_values_raise(value):
    with pytest.raises(ValueError):
        parse_maxspeed_kmh(value)


def test_an_unreadable_maxspeed_falls_back_to_the_class_speed_with_a_warning():
    warnings = []
    rules = way_rules({"highway": "primary", "maxspeed": "sign"},
                      lambda code, key, value: warnings.append((code, key, value)))
    assert rules.car_kmh == (50.0, 50.0)
    assert warnings == [("invalid_maxspeed", "maxspeed", "sign")]
    assert way_rules({"highway": "primary", "maxspeed:forward": "70", "maxspeed": "50"}
                     ).car_kmh == (70.0, 50.0)
    assert way_rules({"highway": "residential", "maxspeed:type": "FR:zone30"}).car_kmh == (30.0, 30.0)


@pytest.mark.parametrize(("value", "spaces"), [
    ("120", 120.0), (" 120 ", 120.0), ("~120", 120.0), ("ca. 50", 50.0), ("1 200", 1200.0),
    ("1,200", 1200.0), ("80 places", 80.0),
])
def test_capacity_values_parse(value, spaces):
    assert parse_capacity(value) == spaces


@pytest.mark.parametrize("value", ["many", "0", "10;20", "-5", "1.5", ""])
def test_unreadable_capacity_values_raise(value):
    with pytest.raises(ValueError):
        parse_capacity(value)


def allowed(tags: dict) -> dict[str, tuple[bool, bool]]:
    r = way_rules(tags)
    return {"walk": r.walk, "bike": r.bike, "car": r.car, "lane": r.bike_lane}


BOTH, FWD, BWD, NONE = (True, True), (True, False), (False, True), (False, False)


@pytest.mark.parametrize(("tags", "expected"), [
    ({"highway": "motorway"}, {"walk": NONE, "bike": NONE, "car": FWD}),        # implied oneway
    ({"highway": "motorway", "oneway": "no"}, {"car": BOTH}),
    ({"highway": "motorway", "access": "yes"}, {"walk": NONE}),                 # generic can't grant
    ({"highway": "trunk"}, {"walk": NONE, "bike": NONE, "car": BOTH}),
    ({"highway": "trunk", "bicycle": "yes"}, {"bike": BOTH}),
    ({"highway": "residential", "junction": "roundabout"}, {"walk": BOTH, "bike": FWD, "car": FWD}),
    ({"highway": "residential", "oneway": "-1"}, {"bike": BWD, "car": BWD}),
    ({"highway": "residential", "oneway": "true"}, {"car": FWD}),
    ({"highway": "residential", "oneway": "reversible"}, {"walk": BOTH, "bike": NONE, "car": NONE}),
    ({"highway": "residential", "access": "private"}, {"walk": NONE, "bike": NONE, "car": NONE}),
    ({"highway": "residential", "access": "destination"}, {"walk": BOTH, "car": BOTH}),
    ({"highway": "service", "access": "no", "bicycle": "yes"}, {"walk": NONE, "bike": BOTH,
                                                                "car": NONE}),
    ({"highway": "service", "motor_vehicle": "private"}, {"walk": BOTH, "car": NONE}),
    ({"highway": "service", "vehicle": "no"}, {"bike": NONE, "car": NONE}),
    ({"highway": "service", "access": "delivery"}, {"car": BOTH}),
    ({"highway": "footway"}, {"walk": BOTH, "bike": NONE, "car": NONE}),
    ({"highway": "footway", "bicycle": "designated"}, {"bike": BOTH, "lane": BOTH}),
    ({"highway": "pedestrian", "area": "yes"}, {"walk": BOTH, "bike": NONE}),
    ({"highway": "path"}, {"walk": BOTH, "bike": BOTH, "lane": NONE}),
    ({"highway": "path", "foot": "no"}, {"walk": NONE, "bike": BOTH}),
    ({"highway": "cycleway"}, {"walk": BOTH, "bike": BOTH, "car": NONE, "lane": BOTH}),
    ({"highway": "cycleway", "oneway": "yes"}, {"walk": BOTH, "bike": FWD, "lane": FWD}),
    ({"highway": "footway", "oneway:foot": "yes"}, {"walk": FWD}),
    ({"highway": "steps"}, {"walk": BOTH, "bike": NONE}),
    ({"highway": "steps", "ramp:bicycle": "yes"}, {"bike": BOTH, "lane": NONE}),
    # Contraflow taggings.
    ({"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"},
     {"bike": BOTH, "car": FWD, "lane": NONE}),
    ({"highway": "residential", "oneway": "yes", "cycleway": "opposite"},
     {"bike": BOTH, "lane": NONE}),
    ({"highway": "residential", "oneway": "yes", "cycleway": "opposite_lane"},
     {"bike": BOTH, "car": FWD, "lane": BWD}),
    ({"highway": "residential", "oneway": "-1", "cycleway": "opposite_track"},
     {"bike": BOTH, "car": BWD, "lane": FWD}),
    ({"highway": "residential", "oneway": "yes", "cycleway:left": "opposite_lane"},
     {"bike": BOTH, "lane": BWD}),
    ({"highway": "residential", "oneway": "yes", "cycleway:right": "lane",
      "cycleway:right:oneway": "-1"}, {"bike": BOTH, "lane": BWD}),
    # Lanes on one-way and two-way roads.
    ({"highway": "residential", "oneway": "yes", "cycleway:right": "lane"},
     {"bike": FWD, "lane": FWD}),
    ({"highway": "residential", "oneway": "yes", "cycleway:left": "lane"},
     {"bike": FWD, "lane": FWD}),
    ({"highway": "secondary", "cycleway:left": "lane"}, {"lane": BWD}),
    ({"highway": "secondary", "cycleway:right": "track"}, {"lane": FWD}),
    ({"highway": "secondary", "cycleway:both": "lane"}, {"lane": BOTH}),
    ({"highway": "secondary", "cycleway": "lane"}, {"lane": BOTH}),
    ({"highway": "secondary", "cycleway:right": "lane", "cycleway:right:oneway": "no"},
     {"lane": BOTH}),
    ({"highway": "secondary", "cycleway": "shared_lane"}, {"lane": NONE}),
    ({"highway": "secondary", "cycleway": "share_busway"}, {"lane": BOTH}),
    ({"highway": "secondary", "cycleway": "separate"}, {"lane": NONE}),
    ({"highway": "secondary", "bicycle": "designated"}, {"lane": NONE}),   # a permission only
    ({"highway": "secondary", "bicycle": "dismount", "cycleway": "lane"}, {"bike": BOTH,
                                                                          "lane": NONE}),
])
def test_way_rules_per_mode_and_direction(tags, expected):
    got = allowed(tags)
    assert {k: got[k] for k in expected} == expected


def test_non_routable_highways_and_pushed_bikes():
    assert way_rules({"highway": "construction"}) is None
    assert way_rules({"highway": "proposed"}) is None
    assert way_rules({"building": "yes"}) is None
    assert way_rules({"highway": "pedestrian", "bicycle": "dismount"}).bike_pushed
    assert way_rules({"highway": "steps"}).walk_factor == STEPS_WALK_FACTOR
    warnings = []
    assert way_rules({"highway": "residential", "oneway": "perhaps"},
                     lambda *a: warnings.append(a)).car == BOTH
    assert warnings == [("invalid_oneway", "oneway", "perhaps")]


def test_pushed_bikes_on_dismount_ways_take_walking_time(tmp_path):
    # Way ids out of order (as hand-edited files often are) must load too.
    osm = tmp_path / "dismount.osm"
    osm.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        '<node id="1" lat="43.8" lon="7.5"/><node id="2" lat="43.8" lon="7.501"/>'
        '<node id="3" lat="43.8" lon="7.502"/>'
        '<way id="9"><nd ref="1"/><nd ref="2"/><tag k="highway" v="pedestrian"/>'
        '<tag k="bicycle" v="dismount"/></way>'
        '<way id="8"><nd ref="2"/><nd ref="3"/><tag k="highway" v="construction"/></way>'
        '<way id="7"><nd ref="2"/><nd ref="3"/><tag k="highway" v="service"/>'
        '<tag k="access" v="private"/></way>'
        '</osm>', encoding="utf-8")
    report = BuildReport()
    g = street_graph_from_osm(osm, report).street
    assert g.n_nodes == 2 and g.n_edges == 2
    np.testing.assert_allclose(g.bike_time_s, g.walk_time_s)
    assert g.walk_time_s[0] == pytest.approx(haversine_m(7.5, 43.8, 7.501, 43.8) / 1.3)
    assert report.dropped[("highway ways", "highway=construction is not routable")] == 1
    assert report.dropped[("highway ways", "no mode may use them (access tags)")] == 1


def test_parking_ways_relations_and_unreadable_capacities(tmp_path):
    osm = tmp_path / "lots.osm"
    square = [(1, 7.500, 43.800), (2, 7.502, 43.800), (3, 7.502, 43.801), (4, 7.500, 43.801)]
    nodes = "".join(f'<node id="{i}" lat="{lat}" lon="{lon}"/>' for i, lon, lat in square)
    nodes += ('<node id="5" lat="43.8005" lon="7.5015"><tag k="amenity" v="parking_entrance"/>'
              '</node><node id="6" lat="43.8006" lon="7.5016"><tag k="amenity" '
              'v="parking_entrance"/></node><node id="7" lat="43.9" lon="7.6">'
              '<tag k="amenity" v="parking_entrance"/></node>')
    ring = "".join(f'<nd ref="{i}"/>' for i in (1, 2, 3, 4, 1))
    osm.write_text(
        f'<?xml version="1.0"?><osm version="0.6">{nodes}'
        f'<way id="10">{ring}<tag k="amenity" v="parking"/><tag k="capacity" v="lots"/>'
        '<tag k="parking" v="street_side"/></way>'
        f'<way id="11">{ring}<tag k="highway" v="service"/></way>'
        f'<way id="12">{ring}</way>'
        '<relation id="20"><member type="way" ref="12" role="outer"/>'
        '<tag k="type" v="multipolygon"/><tag k="amenity" v="bicycle_parking"/>'
        '<tag k="name" v="Abri vélos"/></relation>'
        '<relation id="21"><member type="way" ref="12" role="outer"/>'
        '<tag k="type" v="multipolygon"/><tag k="amenity" v="parking"/></relation>'
        '</osm>', encoding="utf-8")
    report = BuildReport()
    f = street_graph_from_osm(osm, report).facilities.set_index("facility_id")
    assert sorted(f.index) == ["osm:relation/20", "osm:relation/21", "osm:way/10"]
    assert f.loc["osm:way/10", "kind"] == "on_street"
    assert math.isnan(f.loc["osm:way/10", "capacity"])
    assert f.loc["osm:way/10", "name"] == "Parking (OSM way 10)"
    assert f.loc["osm:relation/20", "name"] == "Abri vélos"
    assert f.loc["osm:relation/20", "kind"] == "bike_parking"
    for fid in f.index:  # centroid of the square
        assert (f.loc[fid, "lon"], f.loc[fid, "lat"]) == (pytest.approx(7.501), pytest.approx(43.8005))
    # The car park (relation 21) takes the nearer of its two entrances; the far one belongs to none.
    assert (f.loc["osm:relation/21", "entrance_lon"], f.loc["osm:relation/21", "entrance_lat"]) == (
        7.5015, 43.8005)
    assert math.isnan(f.loc["osm:way/10", "entrance_lon"])  # on-street: no entrance
    assert report.counts[(str(osm), "invalid_capacity")] == 1
    assert report.dropped[("parking_entrance nodes", "no car park within 150 m")] == 1
    assert report.dropped[("parking_entrance nodes",
                           "the car park has a nearer entrance (one kept per car park)")] == 1


# ---------------------------------------------------------------------------------------------
# Monaco
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def monaco():
    report = BuildReport()
    return street_graph_from_osm(MONACO_PBF, report), report


@pytest.fixture(scope="module")
def monaco_xml(tmp_path_factory):
    """Monaco's PBF converted to .osm and .osm.bz2 with pyosmium."""
    folder = tmp_path_factory.mktemp("monaco")
    xml = folder / "monaco.osm"
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(MONACO_PBF)):
            writer.add(obj)
    packed = folder / "monaco.osm.bz2"
    packed.write_bytes(bz2.compress(xml.read_bytes(), compresslevel=1))
    return xml, packed


@needs_monaco
def test_monaco_counts_per_mode_are_stable(monaco):
    extract, report = monaco
    g = extract.street
    assert (g.n_nodes, g.n_edges) == (13_756, 30_050)
    assert (g.n_edges_allowed(Mode.WALK), g.n_edges_allowed(Mode.BICYCLE),
            g.n_edges_allowed(Mode.CAR)) == (29_498, 10_602, 10_082)
    assert disconnected_node_counts(g) == {Mode.WALK: (393, 13_372), Mode.BICYCLE: (887, 6_886),
                                           Mode.CAR: (821, 6_669)}
    assert report.counts[(str(MONACO_PBF), "disconnected_nodes")] == 393 + 887 + 821
    assert report.counts[(str(MONACO_PBF), "turn_restrictions_ignored")] == 46
    assert report.dropped[("highway ways", "highway=raceway is not routable")] == 7
    assert report.dropped[("highway ways", "highway=construction is not routable")] == 1
    assert report.dropped[("highway ways", "no mode may use them (access tags)")] == 61
    assert g.edge_length_m.sum() == pytest.approx(307_801.41, abs=0.01)
    assert np.isfinite(g.edge_length_m).all() and (g.edge_length_m > 0).all()
    for cost in (g.walk_time_s, g.bike_time_s, g.car_time_s):
        assert not np.isnan(cost).any() and (cost > 0).all()
    # Monaco has no highway=cycleway; its lanes are cycleway:left/right=lane on 13 ways.
    assert int(g.edge_is_bike_lane.sum()) == 83
    assert set(g.way_highway) >= {"primary", "residential", "footway", "steps", "service"}
    assert "Boulevard Princesse Charlotte" in set(g.way_name)


@needs_monaco
def test_monaco_covers_every_gtfs_stop(monaco):
    g = monaco[0].street
    with zipfile.ZipFile(MONACO_GTFS) as feed:
        rows = list(csv.DictReader(io.TextIOWrapper(feed.open("stops.txt"), encoding="utf-8-sig")))
    lon = np.array([float(r["stop_lon"]) for r in rows])
    lat = np.array([float(r["stop_lat"]) for r in rows])
    assert len(rows) == 98
    assert (lon >= g.node_lon.min()).all() and (lon <= g.node_lon.max()).all()
    assert (lat >= g.node_lat.min()).all() and (lat <= g.node_lat.max()).all()


@needs_monaco
def test_monaco_car_parks_are_found_with_entrances(monaco):
    extract, report = monaco
    f = extract.facilities
    cars = f[f["kind"] == "car_park"]
    # 31 amenity=parking nodes + "parking;fuel" (Pitstop) = 32, of which 3 private are dropped.
    assert len(cars) == 29
    assert report.dropped[("parking facilities (car_park)", "access=private or access=no")] == 3
    assert (f["kind"] == "bike_share").sum() == 2
    casino = f[f["name"] == "Parking du Casino"].iloc[0]
    assert casino["facility_id"] == "osm:node/1876870084"
    assert (casino["lon"], casino["lat"]) == (pytest.approx(7.425867, abs=1e-6),
                                              pytest.approx(43.739942, abs=1e-6))
    assert haversine_m(casino["lon"], casino["lat"], casino["entrance_lon"],
                       casino["entrance_lat"]) < 150
    assert "Pitstop" in set(cars["name"])
    assert sorted(f["capacity"].dropna().tolist()) == [7.0, 9.0, 84.0, 100.0]
    assert int(f["entrance_lon"].notna().sum()) == 15
    # 59 entrances: 2 private, 15 with no car park within 150 m, 27 beside a nearer one, 15 kept.
    assert report.dropped[("parking_entrance nodes", "no car park within 150 m")] == 15
    assert report.dropped[("parking_entrance nodes", "access=private or access=no")] == 2


@needs_monaco
def test_monaco_reads_the_same_from_pbf_osm_and_osm_bz2(monaco, monaco_xml):
    reference = monaco[0]
    for path in monaco_xml:
        other = street_graph_from_osm(path, BuildReport())
        g, h = reference.street, other.street
        assert (h.n_nodes, h.n_edges) == (g.n_nodes, g.n_edges)
        assert all(h.n_edges_allowed(m) == g.n_edges_allowed(m) for m in Mode)
        assert h.edge_length_m.sum() == pytest.approx(g.edge_length_m.sum(), rel=1e-12)
        np.testing.assert_array_equal(h.node_osm_id, g.node_osm_id)
        np.testing.assert_array_equal(h.indices, g.indices)
        np.testing.assert_array_equal(h.car_time_s, g.car_time_s)
        assert other.facilities.equals(reference.facilities)


@needs_monaco
def test_monaco_segments_lengths_and_car_directions_match_osmnx(monaco, monaco_xml):
    # osmnx as an independent oracle: same segments for the ways we keep, same great-circle
    # lengths (its Earth radius differs by 0.2 m), and its car oneway logic gives the same
    # directed car edges (Monaco has no motorway, whose implied oneway osmnx ignores).
    ox = pytest.importorskip("osmnx")
    graph = ox.graph_from_xml(monaco_xml[0], simplify=False, retain_all=True)
    g = monaco[0].street
    ids = g.node_osm_id
    ours = {}
    for tail, head, length in zip(ids[g.edge_tail], ids[g.indices], g.edge_length_m, strict=True):
        ours[(min(tail, head), max(tail, head))] = length
    kept = set(g.way_osm_id.tolist())
    theirs = {(min(u, v), max(u, v)): d["length"] for u, v, d in graph.edges(data=True)
              if d["osmid"] in kept}
    assert set(theirs) == set(ours)
    keys = list(ours)
    np.testing.assert_allclose([ours[k] for k in keys], [theirs[k] for k in keys], rtol=1e-6)
    car = np.isfinite(g.car_time_s)
    car_ways = set(g.way_osm_id[np.unique(g.edge_way_idx[car])].tolist())
    ours_car = set(zip(ids[g.edge_tail[car]].tolist(), ids[g.indices[car]].tolist(), strict=True))
    theirs_car = {(u, v) for u, v, d in graph.edges(data=True) if d["osmid"] in car_ways}
    assert ours_car == theirs_car


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
def expect_loader_error(path, code: str, words: str) -> LoaderError:
    with pytest.raises(LoaderError) as caught:
        street_graph_from_osm(path, BuildReport())
    err = caught.value
    assert err.notice.code == code
    assert err.notice.file == str(path)
    assert words in str(err)
    assert f"[{code}]" in str(err)
    return err


def test_a_missing_file_is_named(tmp_path):
    expect_loader_error(tmp_path / "nowhere.osm.pbf", "osm_unreadable", "no such file")


def test_an_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.osm"
    empty.write_bytes(b"")
    expect_loader_error(empty, "osm_unreadable", "empty")


@needs_monaco
def test_a_gtfs_zip_renamed_osm_pbf_is_refused(tmp_path):
    fake = tmp_path / "city.osm.pbf"
    fake.write_bytes(MONACO_GTFS.read_bytes())
    expect_loader_error(fake, "osm_unreadable", "ZIP archive")


def test_a_text_file_is_refused(tmp_path):
    fake = tmp_path / "notes.osm"
    fake.write_text("stop_id,stop_name\n1,Gare\n", encoding="utf-8")
    expect_loader_error(fake, "osm_unreadable", "neither OSM XML nor OSM PBF")


def test_truncated_xml_is_refused(tmp_path):
    cut = tmp_path / "cut.osm"
    cut.write_bytes(TINY_TOWN.read_bytes()[:3000])
    expect_loader_error(cut, "osm_unreadable", "XML parsing error")


@needs_monaco
def test_truncated_pbf_and_bz2_are_refused(tmp_path, monaco_xml):
    pbf = tmp_path / "cut.osm.pbf"
    pbf.write_bytes(MONACO_PBF.read_bytes()[:50_000])
    expect_loader_error(pbf, "osm_unreadable", "truncated")
    data = monaco_xml[1].read_bytes()
    for size in (2_000, len(data) * 9 // 10):  # inside the first bzip2 block, and a later one
        packed = tmp_path / f"cut{size}.osm.bz2"
        packed.write_bytes(data[:size])
        expect_loader_error(packed, "osm_unreadable", "truncated")


def test_an_extract_without_streets_is_refused(tmp_path):
    osm = tmp_path / "lonely.osm"
    osm.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="43.8" lon="7.5">'
                   '<tag k="amenity" v="parking"/></node><way id="2"><nd ref="1"/>'
                   '<tag k="building" v="yes"/></way></osm>', encoding="utf-8")
    expect_loader_error(osm, "osm_no_streets", "no way that walkers")


def test_the_format_comes_from_the_content_not_the_file_name(tmp_path):
    renamed = tmp_path / "town.osm.pbf"
    renamed.write_bytes(TINY_TOWN.read_bytes())
    g = street_graph_from_osm(renamed, BuildReport()).street
    assert (g.n_nodes, g.n_edges) == (26, 74)
