"""`trajet route`: the street path summary between two points of a bundle's tiny town."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from api.cli import main
from engine.model import Network
from loaders.bundle import save_bundle
from loaders.osm import street_graph_from_osm
from loaders.report import BuildReport

ROOT = Path(__file__).resolve().parents[2]
TINY_TOWN = ROOT / "data_samples" / "tiny_town" / "tiny_town.osm"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    graph = street_graph_from_osm(TINY_TOWN, BuildReport()).street
    bbox = (float(np.min(graph.node_lon)), float(np.min(graph.node_lat)),
            float(np.max(graph.node_lon)), float(np.max(graph.node_lat)))
    network = Network(timezone="Europe/Paris", projection=graph.projection, bbox=bbox, street=graph)
    return save_bundle(network, tmp_path_factory.mktemp("bundles") / "tiny_town")


def run(*args):
    return CliRunner().invoke(main, ["route", *map(str, args)])


def test_route_prints_distance_time_and_streets(bundle):
    # From 11 m north of (0, 0) to (4, 3) by bike: up Rue de l'Ouest, along Rue du Canal and
    # Piste du Canal: 3 blocks north less 11.12 m (589.33 m), 4 east (802.56 m) at 4.5 m/s.
    # Bike lanes not preferred (the default, 0.5, takes the as long Avenue de la Gare's lane).
    result = run(bundle, "--from", "43.8001,7.5000", "--to", "43.8054,7.5100", "--mode", "bicycle",
                 "--bike-lane-preference", "0")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "BICYCLE: 1,392 m in 5 min 09 s (309 s)"
    assert [line.split(" m  ")[1] for line in lines[3:]] == [
        "Rue de l'Ouest", "Rue du Canal", "Piste du Canal"]


def test_route_json_has_the_geometry_and_the_snapped_ends(bundle):
    result = run(bundle, "--from", "43.8001,7.5001", "--to", "43.8054,7.5100", "--mode", "CAR",
                 "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["mode"] == "CAR"
    assert out["from"]["lat"] == pytest.approx(43.8001) and out["from"]["lon"] == pytest.approx(7.5)
    assert out["from"]["snap_distance_m"] == pytest.approx(8.03, abs=0.01)
    # Route du Sud (50 mph) east, then Avenue de l'Est (40 km/h class speed) north.
    assert [s["name"] for s in out["streets"]] == ["Rue de l'Ouest", "Route du Sud", "Avenue de l'Est"]
    assert out["distance_m"] == pytest.approx(1414.13, abs=0.05)
    assert out["duration_s"] == pytest.approx(11.12 / 6.667 + 802.56 / 17.88 + 600.45 / 8.889, abs=0.1)
    coords = out["geometry"]["coordinates"]
    assert coords[0] == pytest.approx([7.5, 43.8001]) and coords[-1] == pytest.approx([7.51, 43.8054])


def test_route_from_a_point_far_from_any_street_says_location_not_accessible(bundle):
    result = run(bundle, "--from", "43.9000,7.5000", "--to", "43.8054,7.5100", "--json")
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["path"] is None and out["error"]["code"] == "LOCATION_NOT_ACCESSIBLE"
    plain = run(bundle, "--from", "43.9000,7.5000", "--to", "43.8054,7.5100")
    assert plain.exit_code == 1 and "LOCATION_NOT_ACCESSIBLE" in plain.output


def test_route_rejects_a_bad_point_a_bad_speed_and_a_missing_bundle(bundle, tmp_path):
    bad_point = run(bundle, "--from", "43.8", "--to", "43.8054,7.5100")
    assert bad_point.exit_code == 2 and "LAT,LON" in bad_point.output
    bad_speed = run(bundle, "--from", "43.8,7.5", "--to", "43.8054,7.51", "--walk-speed", "-1")
    assert bad_speed.exit_code == 2 and "walk_speed_mps" in bad_speed.output
    missing = run(tmp_path / "nothing", "--from", "43.8,7.5", "--to", "43.8054,7.51")
    assert missing.exit_code == 2 and "not a trajet bundle" in missing.output
