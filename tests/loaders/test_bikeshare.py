"""``trajet build --gbfs``: bike-share stations as parking facilities, system metadata, snapshots.

The Helsinki build places the real stations on a generated street grid around their coordinates
(tests/bikeshare_city.py), not on Helsinki's streets.
"""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from api.cli import main as cli
from engine.model import NO_INDEX, Mode, ParkingKind
from engine.parking.bikes import PEDAL_BIKE_SPEED_MPS
from loaders.bikeshare import read_system, snapshot_state
from loaders.bundle import load_bundle
from loaders.gbfs import read_gbfs
from loaders.report import BuildReport, LoaderError
from tests.bikeshare_city import (
    DUPLICATES,
    HELSINKI,
    LILLESTROM,
    SYSTEM,
    build_city,
    facility,
    write_grid_osm,
)


@pytest.fixture(scope="module")
def city_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bikeshare-build")
    build_city(folder)
    return folder


def test_helsinki_stations_become_linked_bike_share_facilities(city_dir):
    network = load_bundle(city_dir / "bundle")
    pk = network.parking
    assert pk.facility_ids.tolist() == [facility(s) for s in ("001", "002", "003", "004", "005")]
    assert pk.facility_name.tolist() == ["Kaivopuisto", "Laivasillankatu", "Kapteeninpuistikko",
                                         "Viiskulma", "Sepänkatu"]
    assert (pk.kind == ParkingKind.BIKE_SHARE).all() and pk.capacity.tolist() == [30, 13, 16, 14, 32]
    g = network.street
    assert (pk.car_node_idx != NO_INDEX).all() and (pk.walk_node_idx != NO_INDEX).all()
    assert g.node_in_component[Mode.BICYCLE][pk.car_node_idx].all()
    assert g.node_in_component[Mode.WALK][pk.walk_node_idx].all()
    # the history became both profiles: docks (the parking's) and bikes (mirrored)
    assert pk.history.n_observations == 5 * 4 * 7 * 48
    assert pk.bikes_profile is not None and np.isfinite(pk.bikes_profile.free_mean).all()
    system = network.metadata["bike_share"]["systems"][SYSTEM]
    assert system["name"] == "HSL Bikes Share" and system["stations"] == 5


def test_entities_the_reader_left_out_are_warned():
    report = BuildReport()
    rows, system_id, _ = read_system(HELSINKI, report)
    assert system_id == SYSTEM and len(rows) == 5
    codes = {n.code for n in report.warnings}
    assert "gbfs_missing_required_field" in codes


def test_lillestrom_keeps_vehicle_types_with_their_speed_and_raw_pricing():
    rows, system_id, meta = read_system(LILLESTROM, BuildReport())
    assert system_id == "lillestrombysykkel" and len(rows) == 6
    assert rows["facility_id"].str.startswith("gbfs:lillestrombysykkel/").all()
    (bike,) = meta["vehicle_types"]
    assert bike["bike_mode"] and bike["speed_mps"] == PEDAL_BIKE_SPEED_MPS
    assert meta["pricing_plans"] and meta["pricing_plans"][0]["currency"] == "NOK"


def test_a_station_listed_twice_is_kept_once_and_warned():
    report = BuildReport()
    rows, system_id, _ = read_system(DUPLICATES, report)
    assert system_id == "test_duplicate_system"
    assert rows["facility_id"].is_unique and len(rows) == 3
    assert "gbfs_duplicate_station_id" in {n.code for n in report.warnings}


def test_a_gbfs_source_that_cannot_be_read_is_a_clear_build_error(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(LoaderError, match="--gbfs .*nowhere: cannot read the GBFS feed") as err:
        read_system(missing, BuildReport())
    assert err.value.notice.code == "unreadable_gbfs"
    osm = write_grid_osm(tmp_path / "grid.osm")
    result = CliRunner().invoke(cli, ["build", "--osm", str(osm), "--gbfs", str(missing), "--timezone",
                                      "Europe/Helsinki", "--out", str(tmp_path / "b"), "--quiet"])
    assert result.exit_code == 1
    assert f"--gbfs {missing}: cannot read the GBFS feed" in result.output
    assert "Traceback" not in result.output


def test_the_snapshot_gives_flags_counts_and_readings_in_the_shared_encoding(city_dir):
    network = load_bundle(city_dir / "bundle")
    snap = snapshot_state(network.parking, [read_gbfs(HELSINKI)])
    assert snap.flags.renting.tolist() == [True, True, True, False, True]     # 004 is not renting
    assert snap.flags.returning.tolist() == [True, True, True, False, True]   # nor returning
    assert snap.bikes_now.tolist() == [2, 6, 7, 11, 3]
    f, t, free, cap = snap.readings
    assert free.tolist() == [29, 7, 9, 4, 29] and (cap - free).tolist() == [2, 6, 7, 11, 3]
    assert t[0] == 1631517287 and snap.free_bikes.n_bikes == 0


def test_a_bundle_from_before_the_bikes_profile_still_loads(city_dir, tmp_path):
    import json
    import shutil

    old = tmp_path / "old"
    shutil.copytree(city_dir / "bundle", old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["network"]["fields"]["parking"]["fields"]["bikes_profile"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    network = load_bundle(old)
    assert network.parking.bikes_profile is None and network.parking.n_facilities == 5
