"""Bike lanes: reading GeoJSON with its statuses, rejecting bad coordinates, marking street edges."""
import json
from pathlib import Path

import numpy as np
import pytest

from engine.model import StreetGraph, haversine_m
from loaders.bike_lanes import edges_along_lines, mark_bike_lanes, read_bike_lanes
from loaders.report import BuildReport, LoaderError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".." / "shared" / "data"
VELOLIGNES = DATA / "montpellier" / "bike_lanes_velolignes_2024"
TINY_OSM = ROOT / "data_samples" / "tiny_town" / "tiny_town.osm"
MONACO_PBF = DATA / "monaco" / "monaco.osm.pbf"

LAT_M = 1 / 111_120  # degrees of latitude per metre, near enough for offsets of a few metres


def grid_town(extra_nodes=()) -> StreetGraph:
    """The tiny-town street grid (5 x 4 intersections) as a StreetGraph, every street two-way.

    Node (i, j) is i + 5 j at lon 7.5 + 0.0025 i, lat 43.8 + 0.0018 j. ``extra_nodes`` are
    (lon, lat, i, j) stubs: an extra node joined both ways to intersection (i, j).
    """
    lon, lat, tail, head = [], [], [], []
    for j in range(4):
        for i in range(5):
            lon.append(7.5 + 0.0025 * i)
            lat.append(43.8 + 0.0018 * j)
    for j in range(4):
        for i in range(5):
            n = i + 5 * j
            if i < 4:
                tail += [n, n + 1]
                head += [n + 1, n]
            if j < 3:
                tail += [n, n + 5]
                head += [n + 5, n]
    for s_lon, s_lat, i, j in extra_nodes:
        lon.append(s_lon)
        lat.append(s_lat)
        tail += [len(lon) - 1, i + 5 * j]
        head += [i + 5 * j, len(lon) - 1]
    lon, lat = np.array(lon), np.array(lat)
    tail, head = np.array(tail), np.array(head)
    length = haversine_m(lon[tail], lat[tail], lon[head], lat[head])
    return StreetGraph.from_edges(node_lon=lon, node_lat=lat, edge_tail=tail, edge_head=head,
                                  edge_length_m=length, walk_time_s=length / 1.3,
                                  bike_time_s=length / 4.5, car_time_s=length / 13.9)


def write_geojson(path: Path, features) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def line_feature(coords, **props):
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "LineString", "coordinates": coords}}


def flagged_pairs(street: StreetGraph) -> set:
    e = np.flatnonzero(street.edge_is_bike_lane)
    return {(int(a), int(b)) for a, b in zip(street.edge_tail[e], street.indices[e], strict=True)}


# --- reading ----------------------------------------------------------------------------------
def test_velolignes_read_all_194_features_with_their_status_and_type():
    report = BuildReport()
    lanes = read_bike_lanes([VELOLIGNES], report)
    assert len(lanes) == 194 and lanes["file"].nunique() == 16
    assert lanes["status"].value_counts().to_dict() == {"done": 91, "planned": 59,
                                                        "postponed": 32, "wip": 12}
    types = lanes["type"].value_counts().to_dict()
    assert types["bidirectionnelle"] == 46 and types["bilaterale"] == 26
    assert types["voie-verte"] == 22 and types["inconnu"] == 83
    # Only built lanes are kept by default; the others are counted, not errors.
    assert lanes["kept"].sum() == 91
    assert report.dropped[("bike lane features", "status planned")] == 59
    assert report.dropped[("bike lane features", "status postponed")] == 32
    assert report.dropped[("bike lane features", "status wip")] == 12
    assert lanes.loc[lanes["kept"], "properties"].iloc[0]["status"] == "done"


def test_statuses_filter_can_keep_works_in_progress_too():
    lanes = read_bike_lanes(sorted(VELOLIGNES.glob("*.json")), BuildReport(),
                            statuses=("done", "wip"))
    assert lanes["kept"].sum() == 91 + 12


def test_null_and_non_line_geometries_are_skipped_and_counted(tmp_path):
    path = write_geojson(tmp_path / "mixed.geojson", [
        line_feature([[7.5, 43.8], [7.501, 43.8]], status="done"),
        {"type": "Feature", "properties": {"status": "done"}, "geometry": None},
        {"type": "Feature", "properties": {"status": "done"},
         "geometry": {"type": "Point", "coordinates": [7.5, 43.8]}},
        {"type": "Feature", "properties": {"status": "done"},
         "geometry": {"type": "MultiLineString",
                      "coordinates": [[[7.5, 43.8], [7.5, 43.801]], [[7.6, 43.8], [7.6, 43.9]]]}},
    ])
    report = BuildReport()
    lanes = read_bike_lanes([path], report)
    assert lanes["kept"].tolist() == [True, False, False, True]
    assert report.dropped[("bike lane features", "null geometry")] == 1
    assert report.dropped[("bike lane features", "not a line (Point)")] == 1


def test_a_lane_without_status_is_kept_with_a_warning_or_skipped_on_request(tmp_path):
    path = write_geojson(tmp_path / "nostatus.json", [line_feature([[7.5, 43.8], [7.501, 43.8]])])
    report = BuildReport()
    assert read_bike_lanes([path], report)["kept"].tolist() == [True]
    assert report.counts[("nostatus.json", "missing_status")] == 1
    report = BuildReport()
    assert read_bike_lanes([path], report, keep_missing_status=False)["kept"].tolist() == [False]
    assert report.dropped[("bike lane features", "no status")] == 1


def test_a_single_feature_file_is_read(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(line_feature([[7.5, 43.8], [7.501, 43.8]], status="done")))
    assert len(read_bike_lanes([path], BuildReport())) == 1


def test_projected_metres_are_rejected_naming_the_file_and_feature(tmp_path):
    path = write_geojson(tmp_path / "lambert93.json", [
        line_feature([[3.87, 43.6], [3.88, 43.6]], status="done"),
        line_feature([[770_000.0, 6_280_000.0], [770_100.0, 6_280_050.0]], status="done"),
    ])
    with pytest.raises(LoaderError) as err:
        read_bike_lanes([path], BuildReport())
    notice = err.value.notice
    assert notice.code == "invalid_coordinates" and notice.file == "lambert93.json"
    assert notice.row == 2 and "index 1" in notice.message and "projected" in notice.message


def test_latitude_first_is_rejected_when_the_second_value_exceeds_90(tmp_path):
    path = write_geojson(tmp_path / "latlon.json",
                         [line_feature([[35.68, 139.69], [35.69, 139.70]], status="done")])
    with pytest.raises(LoaderError) as err:
        read_bike_lanes([path], BuildReport())
    assert err.value.notice.code == "invalid_coordinates"
    assert "(latitude, longitude)" in err.value.notice.message


def test_latitude_first_is_rejected_when_only_the_swap_falls_on_the_streets(tmp_path):
    # Both readings are valid degrees; only (lat, lon) lands on the tiny town's streets.
    street = grid_town()
    path = write_geojson(tmp_path / "swapped.json",
                         [line_feature([[43.8018, 7.5], [43.8018, 7.51]], status="done")])
    with pytest.raises(LoaderError) as err:
        mark_bike_lanes(street, [path], BuildReport())
    assert err.value.notice.code == "invalid_coordinates" and err.value.notice.row == 1
    assert "longitude first" in err.value.notice.message


def test_invalid_json_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(LoaderError) as err:
        read_bike_lanes([path], BuildReport())
    assert err.value.notice.code == "invalid_json" and err.value.notice.file == "broken.json"


# --- marking edges ----------------------------------------------------------------------------
def test_a_lane_along_avenue_de_la_gare_flags_exactly_its_edges_both_ways(tmp_path):
    # Row j = 1 of the grid, drawn 3 m north of the centre line; a stub 6 m north of (2, 1)
    # starts a crossing street: its short edge lies within reach of the lane but crosses it.
    street = grid_town(extra_nodes=[(7.505, 43.8018 + 6 * LAT_M, 2, 1)])
    lane = [[7.5 + 0.0025 * i, 43.8018 + 3 * LAT_M] for i in range(5)]
    path = write_geojson(tmp_path / "gare.json",
                         [line_feature(lane, status="done", type="bidirectionnelle")])
    report = BuildReport()
    marked, summary = mark_bike_lanes(street, [path], report)
    row1 = {(5 + i, 6 + i) for i in range(4)} | {(6 + i, 5 + i) for i in range(4)}
    assert flagged_pairs(marked) == row1
    assert summary.features_read == 1 and summary.features_kept == 1
    assert summary.edges_matched == 8 and summary.edges_newly_marked == 8
    assert summary.kept_length_m == pytest.approx(4 * 201.1, abs=1.0)
    # Without the direction test, the stub's two edges would be flagged too.
    import shapely.geometry

    no_angle = edges_along_lines(street, [shapely.geometry.LineString(lane)], max_angle_deg=91)
    assert no_angle.sum() == 10
    # Copy-on-write: the input graph is untouched and the topology shared.
    assert not street.edge_is_bike_lane.any() and marked.indices is street.indices


def test_a_lane_too_far_from_the_street_flags_nothing(tmp_path):
    street = grid_town()
    lane = [[7.5, 43.8018 + 20 * LAT_M], [7.51, 43.8018 + 20 * LAT_M]]
    path = write_geojson(tmp_path / "far.json", [line_feature(lane, status="done")])
    marked, summary = mark_bike_lanes(street, [path], BuildReport())
    assert summary.edges_matched == 0 and not marked.edge_is_bike_lane.any()


def test_a_partial_lane_flags_only_the_blocks_it_covers(tmp_path):
    street = grid_town()
    lane = [[7.5025, 43.8036 - 4 * LAT_M], [7.5075, 43.8036 - 4 * LAT_M]]  # (1,2) -> (3,2)
    path = write_geojson(tmp_path / "haute.json", [line_feature(lane, status="done")])
    marked, _ = mark_bike_lanes(street, [path], BuildReport())
    assert flagged_pairs(marked) == {(11, 12), (12, 11), (12, 13), (13, 12)}


def test_planned_lanes_flag_nothing_and_existing_flags_are_kept(tmp_path):
    street = grid_town()
    old = np.zeros(street.n_edges, dtype=bool)
    old[0] = True
    street = street.with_costs(edge_is_bike_lane=old)
    lane = [[7.5 + 0.0025 * i, 43.8018] for i in range(5)]
    path = write_geojson(tmp_path / "planned.json", [line_feature(lane, status="planned")])
    marked, summary = mark_bike_lanes(street, [path], BuildReport())
    assert summary.features_kept == 0 and summary.features_skipped == {"status planned": 1}
    assert marked.edge_is_bike_lane.tolist() == old.tolist()


def test_edges_bikes_may_not_use_are_not_flagged():
    street = grid_town()
    bike = street.bike_time_s.copy()
    wrong_way = int(np.flatnonzero((street.edge_tail == 6) & (street.indices == 5))[0])
    bike[wrong_way] = np.inf
    street = street.with_costs(bike_time_s=bike)
    import shapely.geometry

    lane = shapely.geometry.LineString([(7.5 + 0.0025 * i, 43.8018) for i in range(5)])
    matched = edges_along_lines(street, [lane])
    assert matched.sum() == 7 and not matched[wrong_way]
    assert edges_along_lines(street, [lane], bike_edges_only=False).sum() == 8


def test_montpellier_lanes_lie_outside_a_street_graph_elsewhere_and_are_counted():
    report = BuildReport()
    marked, summary = mark_bike_lanes(grid_town(), [VELOLIGNES], report)
    assert summary.files_read == 16 and summary.features_read == 194
    assert summary.features_kept == 91 and summary.features_outside_streets == 91
    assert summary.edges_matched == 0
    assert report.counts[("anneau.json", "bike_lanes_outside_streets")] == 91


# --- on the OSM samples (need loaders.osm) ----------------------------------------------------
def _osm_loader():
    try:
        from loaders.osm import street_graph_from_osm
    except ImportError:
        pytest.skip("loaders.osm is not on this branch yet (written by the OSM helper)")
    return street_graph_from_osm


def test_a_lane_along_the_tiny_towns_avenue_de_la_gare_flags_only_that_avenue(tmp_path):
    street_graph_from_osm = _osm_loader()
    if not TINY_OSM.exists():
        pytest.skip("data_samples/tiny_town/tiny_town.osm is not on this branch yet")
    street = street_graph_from_osm(TINY_OSM, BuildReport()).street
    lane = [[7.5 + 0.0025 * i, 43.8018 + 3 * LAT_M] for i in range(5)]
    path = write_geojson(tmp_path / "gare.json", [line_feature(lane, status="done")])
    marked, summary = mark_bike_lanes(street, [path], BuildReport())
    way_name = street.way_name[street.edge_way_idx]
    on_avenue = np.flatnonzero(way_name == "Avenue de la Gare")
    # The avenue has 6 segments (nodes 2001, 2002
    # between intersections), 12 directed edges; OSM already flags the 6 eastbound ones
    # (cycleway:right=lane): the lane adds the 6 westbound ones.
    assert on_avenue.size == 12 and street.edge_is_bike_lane[on_avenue].sum() == 6
    assert marked.edge_is_bike_lane[on_avenue].all()
    newly = np.flatnonzero(marked.edge_is_bike_lane & ~street.edge_is_bike_lane)
    assert set(way_name[newly]) == {"Avenue de la Gare"} and newly.size == 6
    assert summary.edges_matched == 12 and summary.edges_newly_marked == 6
    # The crossing streets (Rue des Écoles, Rue du Marché, ...) keep their flags.
    others = np.setdiff1d(np.arange(street.n_edges), on_avenue)
    assert (marked.edge_is_bike_lane[others] == street.edge_is_bike_lane[others]).all()


def test_a_lane_along_boulevard_albert_1er_in_monaco_flags_that_boulevard(tmp_path):
    street_graph_from_osm = _osm_loader()
    import osmium
    import shapely
    import shapely.geometry

    street = street_graph_from_osm(MONACO_PBF, BuildReport()).street
    # The lane: the boulevard's own OSM ways (one-way, 2 lanes, along the port), drawn 3 m to
    # their right, in WGS84.
    proj = street.projection

    def to_xy(a):
        return np.column_stack(proj.to_xy_m(a[:, 0], a[:, 1]))

    def to_lonlat(a):
        return np.column_stack(proj.to_lonlat(a[:, 0], a[:, 1]))

    features = []
    for way in (osmium.FileProcessor(str(MONACO_PBF)).with_locations()
                .with_filter(osmium.filter.KeyFilter("highway"))):
        if (way.is_way() and way.tags.get("name") == "Boulevard Albert 1er"
                and way.tags.get("highway") == "secondary"):
            centre = shapely.geometry.LineString([(n.lon, n.lat) for n in way.nodes])
            lane = shapely.transform(shapely.transform(centre, to_xy).offset_curve(-3.0),
                                     to_lonlat)
            features.append(line_feature(shapely.get_coordinates(lane).tolist(), status="done",
                                         type="bilaterale"))
    assert len(features) == 4
    path = write_geojson(tmp_path / "albert1er.geojson", features)
    marked, summary = mark_bike_lanes(street, [path], BuildReport())
    matched = marked.edge_is_bike_lane & ~street.edge_is_bike_lane
    way_name = street.way_name[street.edge_way_idx]
    boulevard = ((way_name == "Boulevard Albert 1er")
                 & (street.way_highway[street.edge_way_idx] == "secondary")
                 & np.isfinite(street.bike_time_s))
    assert boulevard.sum() == 62 and matched[boulevard].all()
    # Beside it only the two edges where it enters the Sainte-Dévote roundabout: 12 m in all.
    others = matched & ~boulevard
    assert set(way_name[others]) == {"Rond-Point Sainte-Dévote"} and others.sum() == 2
    assert street.edge_length_m[others].sum() < 15
    assert summary.edges_matched == 64
