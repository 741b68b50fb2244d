"""On-street parking zones from OSM street tags: each scheme on hand-made ways, the space estimate,
the exclusions, and Porto Alegre's real tags."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.model import ZONE_LEFT, ZONE_RIGHT, ParkingKind
from loaders.osm import street_graph_from_osm
from loaders.osm.street_parking import (
    JUNCTION_MARGIN_M,
    SPACE_LENGTH_M,
    estimated_spaces,
    parse_duration_s,
    side_rules,
)
from loaders.report import BuildReport
from tests.conftest import SHARED_DATA

# A straight east-west street of 101.0 m at the equator (haversine on the mean Earth radius),
# so 91 m of kerb once the two 5 m junction margins are off.
LON_101M = 101.0 / 111_195.08
LON_100M = 100.0 / 111_319.49


def _street_osm(tmp_path, tags: dict[str, str], name="Rua Teste"):
    osm = tmp_path / "street.osm"
    tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in {"highway": "residential",
                                                             "name": name, **tags}.items())
    osm.write_text('<?xml version="1.0"?><osm version="0.6">'
                   '<node id="1" lat="0.0" lon="0.0"/>'
                   f'<node id="2" lat="0.0" lon="{LON_101M:.9f}"/>'
                   f'<way id="7"><nd ref="1"/><nd ref="2"/>{tag_xml}</way></osm>')
    return osm


def _zones(tmp_path, tags):
    report = BuildReport()
    extract = street_graph_from_osm(_street_osm(tmp_path, tags), report)
    return {z["facility_id"]: z for z in extract.street_zones}, report


def test_the_space_estimate_takes_the_junction_margins_and_the_bay_length():
    # 100 m of kerb, 5 m kept free at each junction: 90 m / 5.5 m = 16.4 parallel bays.
    assert estimated_spaces(100.0, "parallel") == 16
    assert estimated_spaces(100.0, "diagonal") == 29          # 90 / 3.1
    assert estimated_spaces(100.0, "perpendicular") == 36     # 90 / 2.5
    assert estimated_spaces(2 * JUNCTION_MARGIN_M + 5.0, "parallel") == 0
    assert SPACE_LENGTH_M["parallel"] == 5.5


def test_old_lane_scheme_both_sides_with_a_side_override(tmp_path):
    zones, _ = _zones(tmp_path, {"parking:lane:both": "parallel",
                                 "parking:lane:left": "perpendicular",
                                 "parking:condition:both": "ticket",
                                 "parking:condition:right:maxstay": "2 h"})
    left, right = zones["osm:way/7:left"], zones["osm:way/7:right"]
    assert (left["side"], right["side"]) == (ZONE_LEFT, ZONE_RIGHT)
    assert left["capacity"] == 36 and right["capacity"] == 16
    assert left["capacity_estimated"] and right["capacity_estimated"]
    assert left["fee"] == right["fee"] == 1
    assert right["maxstay_s"] == 7200.0 and math.isinf(left["maxstay_s"])
    assert left["name"] == "Rua Teste, left side"
    assert left["length_m"] == pytest.approx(101.0, abs=0.1)


def test_old_scheme_exclusions_are_counted(tmp_path):
    zones, report = _zones(tmp_path, {"parking:lane:left": "no_stopping",
                                      "parking:lane:right": "parallel",
                                      "parking:condition:right": "residents"})
    assert zones == {}
    dropped = {d["reason"]: d["count"] for d in report.to_json()["dropped"]}
    assert dropped["parking:lane:left=no_stopping"] == 1
    assert dropped["parking:condition=residents"] == 1


def test_an_explicit_capacity_is_not_an_estimate(tmp_path):
    zones, _ = _zones(tmp_path, {"parking:lane:right": "diagonal",
                                 "parking:condition:right:capacity": "11",
                                 "parking:condition:right": "free"})
    right = zones["osm:way/7:right"]
    assert right["capacity"] == 11 and not right["capacity_estimated"] and right["fee"] == 0


def test_2022_scheme_orientation_fee_maxstay_and_restriction(tmp_path):
    zones, report = _zones(tmp_path, {"parking:both": "lane",
                                      "parking:both:orientation": "diagonal",
                                      "parking:right:fee": "yes", "parking:right:maxstay": "90 min",
                                      "parking:left:restriction": "loading_only"})
    assert list(zones) == ["osm:way/7:right"]
    right = zones["osm:way/7:right"]
    assert right["capacity"] == 29 and right["fee"] == 1 and right["maxstay_s"] == 5400.0
    dropped = {d["reason"]: d["count"] for d in report.to_json()["dropped"]}
    assert dropped["restriction=loading_only"] == 1


def test_2022_scheme_wins_over_the_old_one_and_private_access_excludes(tmp_path):
    zones, _ = _zones(tmp_path, {"parking:lane:both": "no_parking", "parking:right": "half_on_kerb",
                                 "parking:left": "street_side", "parking:left:access": "private"})
    assert list(zones) == ["osm:way/7:right"]
    assert zones["osm:way/7:right"]["capacity"] == 16


def test_the_wiki_placeholder_side_reads_as_both():
    rules = side_rules({"parking:side": "lane", "parking:side:orientation": "perpendicular"},
                       "left")
    assert rules["allowed"] and rules["orientation"] == "perpendicular"
    assert side_rules({"parking:left": "separate"}, "left") is None
    assert side_rules({"highway": "residential"}, "right") is None


def test_zone_lines_are_drawn_on_their_side_and_trimmed():
    from loaders.osm.street_parking import _side_line

    lon = np.array([0.0, LON_100M])
    lat = np.array([0.0, 0.0])
    left_lon, left_lat = _side_line(lon, lat, "left")
    right_lon, right_lat = _side_line(lon, lat, "right")
    # Heading east, left is north.
    assert min(left_lat) > 0 > max(right_lat)
    assert left_lat[0] * 111_000 == pytest.approx(4.0, abs=0.1)
    assert left_lon[0] * 111_319.49 == pytest.approx(5.0, abs=0.1)


def test_durations():
    assert parse_duration_s("2 h") == 7200.0
    assert parse_duration_s("30") == 1800.0
    assert parse_duration_s("01:30") == 5400.0
    with pytest.raises(ValueError):
        parse_duration_s("all day")


POA = SHARED_DATA / "porto_alegre" / "poa_osm.pbf"


@pytest.mark.skipif(not POA.exists(), reason="../shared/data/porto_alegre is not beside the checkout")
def test_porto_alegre_tags_give_about_a_hundred_zones():
    report = BuildReport()
    extract = street_graph_from_osm(POA, report)
    zones = extract.street_zones
    # 101 sides allow parking (parallel, diagonal, perpendicular), with 2,819 estimated or tagged
    # spaces; most tagged sides are no_parking / no_stopping.
    assert len(zones) == 101
    assert sum(z["capacity"] for z in zones) == 2819
    assert sum(not z["capacity_estimated"] for z in zones) == 2      # capacity=11 tagged twice
    assert sum(z["fee"] == 1 for z in zones) > 0
    dropped = {d["reason"]: d["count"] for d in report.to_json()["dropped"]
               if d["what"] == "on-street parking sides"}
    assert dropped["parking:lane:left=no_stopping"] == 278
    assert ParkingKind.ON_STREET == 2
