"""What `trajet route`, `trajet plan`, `trajet matrix` and /api/v1/plan say on the grid town of
tests/api/conftest.py when the network or the input is not what they expect (issue 17 items 11
and 14): coordinates given lon,lat, a stop id without its feed's prefix, a network without a
timetable, a trip of no time.
"""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner

from api.cli import main
from loaders.bundle import save_bundle
from tests.api.conftest import make_network, node_lonlat

DEPART = "2026-01-14T10:00"


@pytest.fixture(scope="module")
def street_only(tmp_path_factory):
    """The grid town's streets and car parks, no timetable."""
    network = dataclasses.replace(make_network(), timetable=None,
                                  stop_walk_node_idx=np.zeros(0, dtype=np.int32),
                                  stop_walk_offset_m=np.zeros(0))
    return save_bundle(network, tmp_path_factory.mktemp("bundles") / "streets")


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    """The grid town as a merged network names its stops: "grid:A", "grid:B", "grid:C"."""
    network = make_network()
    tt = dataclasses.replace(network.timetable, stop_ids=np.array(["grid:A", "grid:B", "grid:C"]))
    return save_bundle(dataclasses.replace(network, timetable=tt),
                       tmp_path_factory.mktemp("bundles") / "merged")


def cli(*args):
    return CliRunner().invoke(main, [*map(str, args)])


def latlon(row: int, col: int, swapped: bool = False) -> str:
    lon, lat = node_lonlat(row, col)
    return f"{lon:.6f},{lat:.6f}" if swapped else f"{lat:.6f},{lon:.6f}"


# ---------------------------------------------------------------------------------------------
# Item 11: the messages
# ---------------------------------------------------------------------------------------------
def test_route_with_lon_lat_swapped_says_so_as_the_api_does(street_only):
    result = cli("route", street_only, "--from", latlon(1, 1, swapped=True), "--to", latlon(3, 3))
    assert result.exit_code == 2, result.output
    assert "COORDINATES_SWAPPED" in result.output
    assert "--from=" in result.output and "the order is 'lat,lon'" in result.output
    assert "from a street" not in result.output


def test_plan_with_lon_lat_swapped_says_so(street_only):
    result = cli("plan", street_only, "--from", latlon(1, 1), "--to", latlon(3, 3, swapped=True),
                 "--depart", DEPART)
    assert result.exit_code == 2, result.output
    assert "COORDINATES_SWAPPED" in result.output and "--to=" in result.output


def test_the_api_and_the_cli_share_the_swapped_check(make_app):
    client = make_app().test_client()
    lon, lat = node_lonlat(1, 1)
    body = client.get(f"/api/v1/plan?from={lon},{lat}&to={latlon(3, 3)}").get_json()
    assert body["code"] == "COORDINATES_SWAPPED"
    assert "the order is 'lat,lon'" in body["message"]


def test_an_unprefixed_stop_id_suggests_the_merged_one(merged):
    result = cli("plan", merged, "--from", "stop:A", "--to", "stop:C", "--depart", DEPART)
    assert result.exit_code == 1
    assert "unknown stop id 'A'; did you mean 'grid:A'?" in result.output
    result = cli("plan", merged, "--from", "stop:grid:A", "--to", "stop:C", "--depart", DEPART,
                 "--modes", "TRANSIT,BICYCLE", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["message"] == "unknown stop id 'C'; did you mean 'grid:C'?"


def test_an_unknown_stop_id_without_a_likely_one_says_only_that(merged):
    result = cli("plan", merged, "--from", "stop:Z", "--to", "stop:C", "--depart", DEPART, "--json")
    assert json.loads(result.output)["message"] == "unknown stop id 'Z'"


# ---------------------------------------------------------------------------------------------
# Item 14: a street-only network, and no time at all
# ---------------------------------------------------------------------------------------------
def test_plan_on_a_street_only_network_defaults_to_walking_and_cycling(street_only):
    result = cli("plan", street_only, "--from", latlon(1, 1), "--to", latlon(3, 4), "--depart", DEPART,
                 "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert {it["mode"] for it in body["itineraries"]} <= {"WALK", "BICYCLE"}
    assert body["itineraries"] and "TRANSIT" not in body.get("left_out", {})
    # a mode asked for by name is still answered as asked
    result = cli("plan", street_only, "--from", latlon(1, 1), "--to", latlon(3, 4), "--depart", DEPART,
                 "--modes", "TRANSIT")
    assert result.exit_code == 1 and "NO_TRANSIT_CONNECTION" in result.output


def test_the_api_plan_on_a_street_only_network_defaults_the_same_way(make_app, street_only):
    client = make_app(bundle_dir=street_only).test_client()
    body = client.get(f"/api/v1/plan?from={latlon(1, 1)}&to={latlon(3, 4)}"
                      "&datetime=2026-01-14T10:00").get_json()
    assert body["code"] is None and body["itineraries"]
    assert body["request"]["modes"] == ["WALK", "BICYCLE"]
    assert "TRANSIT" not in (body.get("left_out") or {})


def test_matrix_never_writes_negative_zero(street_only, tmp_path):
    places = tmp_path / "places.csv"
    lon, lat = node_lonlat(2, 2)
    places.write_text(f"id,lat,lon\nhere,{lat},{lon}\n")
    out = tmp_path / "times.csv"
    result = cli("matrix", street_only, "--origins", places, "--destinations", places,
                 "--departure", DEPART, "--modes", "WALK", "--serial", "--quiet", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines() == ["from_id,to_id,travel_time_s", "here,here,0"]
