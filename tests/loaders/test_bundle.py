"""Bundles round-trip every array and refuse corrupted, truncated or foreign folders clearly."""
import json

import numpy as np
import pytest

from engine.model import LocalProjection, Network, StreetGraph
from loaders.bundle import FORMAT_VERSION, BundleError, load_bundle, save_bundle


def _network():
    street = StreetGraph.from_edges(
        node_lon=[7.40, 7.41, 7.42], node_lat=[43.70, 43.70, 43.71], edge_tail=[0, 1, 1],
        edge_head=[1, 0, 2], edge_length_m=[806.0, 806.0, 1100.0], walk_time_s=[620, 620, 846],
        bike_time_s=[180, np.inf, 245], car_time_s=[60, 60, 80], way_osm_id=[11, 12],
        edge_way_idx=[0, 0, 1], way_name=["Rue A", "Quai B"], way_highway=["primary", "footway"])
    return Network(timezone="Europe/Monaco", projection=street.projection,
                   bbox=(7.40, 43.70, 7.42, 43.71), street=street, metadata={"note": "é"})


def test_a_saved_bundle_loads_back_equal_and_read_only(tmp_path):
    net = _network()
    save_bundle(net, tmp_path / "b", counts={"street_nodes": 3})
    back = load_bundle(tmp_path / "b")
    assert back.timezone == "Europe/Monaco" and back.bbox == (7.40, 43.70, 7.42, 43.71)
    assert back.metadata == {"note": "é"}
    assert isinstance(back.projection, LocalProjection)
    np.testing.assert_array_equal(back.street.indptr, net.street.indptr)
    np.testing.assert_array_equal(back.street.bike_time_s, net.street.bike_time_s)
    assert list(back.street.way_name) == ["Rue A", "Quai B"]
    assert back.timetable is None and back.parking.n_facilities == 0
    assert not back.street.indices.flags.writeable  # memory-mapped, shared between processes


def test_rebuilding_replaces_the_old_bundle_atomically(tmp_path):
    save_bundle(_network(), tmp_path / "b")
    save_bundle(_network(), tmp_path / "b", counts={"again": 1})
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["counts"] == {"again": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["b"]  # no temporary folder left behind


def test_an_altered_array_is_named(tmp_path):
    save_bundle(_network(), tmp_path / "b")
    target = tmp_path / "b" / "street" / "car_time_s.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="car_time_s.npy does not match its sha256"):
        load_bundle(tmp_path / "b")


def test_a_truncated_array_is_named(tmp_path):
    save_bundle(_network(), tmp_path / "b")
    target = tmp_path / "b" / "street" / "indices.npy"
    target.write_bytes(target.read_bytes()[:40])
    with pytest.raises(BundleError, match="indices.npy is truncated"):
        load_bundle(tmp_path / "b", verify=False)


def test_an_older_format_asks_for_a_rebuild(tmp_path):
    save_bundle(_network(), tmp_path / "b")
    manifest_path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = FORMAT_VERSION - 1
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="rebuild it with `trajet build`"):
        load_bundle(tmp_path / "b")


def test_a_folder_without_manifest_is_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match="is not a trajet bundle"):
        load_bundle(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(BundleError, match="corrupted"):
        load_bundle(tmp_path)
