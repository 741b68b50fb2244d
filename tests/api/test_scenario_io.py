"""Scenario and places files, the comparison summary, and the `trajet scenario` and `trajet matrix`
commands, with every example scenario of scenarios/ run end to end on Monaco."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from api.cli import main
from api.scenario_io import (
    Places,
    ScenarioFileError,
    difference_table,
    load_scenario_file,
    read_places,
    summarise,
)

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------------
def test_places_from_csv_with_weights(tmp_path):
    f = _write(tmp_path / "jobs.csv", "id,name,longitude,latitude,weight\nA,Casino,7.4275,43.7394,120\n"
                                      "B,Port,7.4221,43.7352,35.5\n")
    p = read_places(f)
    assert list(p.ids) == ["A", "B"] and p.has_weights
    np.testing.assert_array_equal(p.weight, [120, 35.5])
    np.testing.assert_array_equal(p.lonlat, [[7.4275, 43.7394], [7.4221, 43.7352]])


def test_places_from_geojson(tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "p1", "geometry": {"type": "Point", "coordinates": [7.42, 43.73]},
         "properties": {}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [7.43, 43.74]},
         "properties": {"id": "p2", "weight": 4}}]}
    p = read_places(_write(tmp_path / "p.geojson", json.dumps(doc)))
    assert list(p.ids) == ["p1", "p2"] and list(p.weight) == [1, 4] and p.has_weights


@pytest.mark.parametrize(("text", "words"), [
    ("id,x_coord,lat\nA,7.4,43.7\n", "no lon column: expected one of ['lon', 'lng', 'longitude', 'x'], "
                                     "found ['id', 'x_coord', 'lat']"),
    ("id,lon,lat\nA,7.4,43.7\nB,seven,43.7\n", "row 3, column 'lon': 'seven' is not a number"),
    ("id,lon,lat\nA,7.4,43.7\nA,7.5,43.7\n", "row 3, column 'id': id 'A' appears twice (rows 2 and 3)"),
    ("id,lon,lat\nA,43.7,97.4\n", "row 2, column 'lat': 97.4 is not a lat in degrees"),
    ("id,lon,lat,weight\nA,7.4,43.7,-3\n", "row 2, column 'weight': -3.0 is not a weight >= 0"),
])
def test_bad_places_files_name_the_row_and_column(tmp_path, text, words):
    f = _write(tmp_path / "places.csv", text)
    with pytest.raises(ScenarioFileError) as err:
        read_places(f)
    assert str(err.value) == f"{f}, {words}" or words in str(err.value)
    assert str(f) in str(err.value)


# ---------------------------------------------------------------------------------------------
# Scenario files
# ---------------------------------------------------------------------------------------------
GOOD = """name: test
bundle: ../bundles/x
origins: stops
destinations: {grid: {spacing_m: 300}}
departure: "2026-01-10T15:00"
modes: [WALK, TRANSIT]
window_min: 10
percentiles: [25, 75]
max_time_min: 40
options: {walk_speed_mps: 1.2, max_transfers: 2, max_walk_m: 800, parking: {min_p_free: 0.3}}
modifications:
  - {type: remove-route, route: "1"}
  - {type: adjust-frequency, route: "2", start: "14:00", end: "18:00", headway_min: 6}
"""


def test_a_scenario_file_is_read_and_checked(tmp_path):
    sf = load_scenario_file(_write(tmp_path / "s.yaml", GOOD))
    assert sf.modes == ("WALK", "TRANSIT") and sf.window_min == 10 and sf.max_time_s == 2400
    assert sf.bundle == tmp_path.parent / "bundles" / "x"
    assert sf.options.walk_speed_mps == 1.2 and sf.options.transit_options().walk_speed_mps == 1.2
    assert sf.options.max_transfers == 2 and sf.options.max_walk_m == 800
    assert sf.options.parking.min_p_free == 0.3
    assert [m.kind for m in sf.scenario.modifications] == ["remove-route", "adjust-frequency"]
    # the same content as JSON
    import yaml

    sj = load_scenario_file(_write(tmp_path / "s.json", json.dumps(yaml.safe_load(GOOD))))
    assert sj.modification_specs == sf.modification_specs and sj.departures == sf.departures


@pytest.mark.parametrize(("change", "field", "words"), [
    (("window_min: 10", "window_min: -1"), "window_min", "whole minutes >= 0"),
    (("modes: [WALK, TRANSIT]", "modes: [WALK, HOVERCRAFT]"), "modes", "unknown mode 'HOVERCRAFT'"),
    (('departure: "2026-01-10T15:00"', 'departure: "Saturday"'), "departure", "not an ISO 8601"),
    (("headway_min: 6", "headway_min: 0"), "modifications[1].headway_min", "must be > 0"),
    (("max_transfers: 2", "max_transfer: 2"), "options.max_transfer", "unknown option"),
    (("name: test", "name: test\ncolour: red"), "colour", "unknown field"),
])
def test_bad_scenario_files_name_the_field(tmp_path, change, field, words):
    f = _write(tmp_path / "s.yaml", GOOD.replace(*change))
    with pytest.raises(ScenarioFileError) as err:
        load_scenario_file(f)
    assert err.value.field == field and words in str(err.value) and str(f) in str(err.value)


# ---------------------------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------------------------
def test_the_summary_counts_changes_and_weighted_accessibility():
    base = pd.DataFrame({"from_id": ["o"] * 3, "to_id": ["x", "y", "z"],
                         "travel_time_s": [600.0, 1000.0, np.nan]})
    scen = pd.DataFrame({"from_id": ["o"] * 3, "to_id": ["x", "y", "z"],
                         "travel_time_s": [300.0, 1200.0, 2000.0]})
    dest = Places(np.array(["x", "y", "z"]), np.zeros(3), np.zeros(3), np.array([10.0, 5.0, 1.0]), True)
    diff = difference_table(base, scen)
    assert list(diff["change_s"].iloc[:2]) == [-300.0, 200.0] and np.isnan(diff["change_s"].iloc[2])
    s = summarise(diff, dest)
    assert s["mean_change_s"] == -50.0 and s["share_improved"] == 0.5 and s["share_worse"] == 0.5
    assert s["pairs_gained"] == 1 and s["pairs_lost"] == 0
    acc = s["accessibility"]
    assert acc["weighted"] is True
    assert acc["within_15_min"] == {"baseline": 10.0, "scenario": 10.0, "change": 0.0, "change_pct": 0.0}
    assert acc["within_30_min"]["baseline"] == 15.0 and acc["within_30_min"]["scenario"] == 15.0
    assert acc["within_45_min"] == {"baseline": 15.0, "scenario": 16.0, "change": 1.0, "change_pct": 6.67}


# ---------------------------------------------------------------------------------------------
# The commands, on the example scenarios
# ---------------------------------------------------------------------------------------------
def _run_scenario(name: str, bundle, out: Path):
    result = CliRunner().invoke(main, ["scenario", "run", str(SCENARIOS / name), "--bundle", str(bundle),
                                       "--out", str(out), "--serial", "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (out / "change_map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for table in ("baseline", "scenario", "difference"):
        assert (out / f"{table}.parquet").is_file()
    assert not (out / "chunks").exists()
    return result.output, summary


def test_example_closing_parking_du_casino(monaco_bundle, tmp_path):
    output, s = _run_scenario("monaco-close-casino.yaml", monaco_bundle, tmp_path)
    assert "0. close-parking: closes 1 car park (Parking du Casino)" in output
    assert s["changes"][0]["facilities_closed"] == 1
    # on a Saturday at 15:00 the Casino has a 47 % chance of a space and ~5 min of expected
    # search: the planner already sends every driver elsewhere, so closing it changes nothing
    assert s["pairs"] == s["pairs_reachable_baseline"] == s["pairs_reachable_scenario"]
    assert s["share_improved"] == 0 and s["share_worse"] == 0 and s["mean_change_s"] == 0
    diff = pd.read_parquet(tmp_path / "difference.parquet")
    assert len(diff) == s["pairs"] and (diff["change_s"].dropna() == 0).all()


def test_example_line_1_every_9_minutes(monaco_bundle, tmp_path):
    output, s = _run_scenario("monaco-line1-every-9-min.yaml", monaco_bundle, tmp_path)
    assert "adds 54 trips a day to route 1, every 9 min between 14:00 and 18:00" in output
    assert s["share_improved"] > 0.2 and s["mean_change_s"] < 0
    assert s["accessibility"]["within_15_min"]["change"] > 0
    base = pd.read_parquet(tmp_path / "baseline.parquet")
    assert {"travel_time_p25_s", "travel_time_p75_s"} <= set(base.columns)


def test_example_two_way_bike_lane_on_boulevard_albert_1er(monaco_bundle, tmp_path):
    output, s = _run_scenario("monaco-port-bike-lane.yaml", monaco_bundle, tmp_path)
    assert s["changes"][0]["edges_opened"] > 50
    # southbound cyclists along the port gain; nobody loses (a lane only adds a way)
    assert s["share_improved"] > 0 and s["share_worse"] == 0


def test_scenario_check_reports_a_bad_id(monaco_bundle, tmp_path):
    f = _write(tmp_path / "bad.yaml", "origins: stops\ndestinations: stops\ndeparture: 2026-01-10T15:00\n"
                                      "modifications:\n  - {type: close-parking, facility: osm:node/1}\n")
    result = CliRunner().invoke(main, ["scenario", "check", str(f), "--bundle", str(monaco_bundle)])
    assert result.exit_code == 2
    assert "modification 0 (close-parking), field 'facilities': unknown parking facility 'osm:node/1'" \
        in result.output


def test_trajet_matrix_writes_a_long_table(monaco_bundle, tmp_path):
    places = _write(tmp_path / "places.csv", "id,lon,lat\ncasino,7.4275,43.7394\nport,7.4221,43.7352\n"
                                             "fontvieille,7.4160,43.7290\n")
    out = tmp_path / "m.csv"
    result = CliRunner().invoke(main, ["matrix", str(monaco_bundle), "--origins", str(places),
                                       "--destinations", "stops", "--departure", "2026-01-10T15:00",
                                       "--modes", "WALK,TRANSIT", "--breakdown", "--serial", "--quiet",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 x 97 pairs (WALK, TRANSIT)" in result.output
    df = pd.read_csv(out)
    assert len(df) == 3 * 97 and list(df.columns[:3]) == ["from_id", "to_id", "travel_time_s"]
    assert {"access_s", "wait_s", "ride_s", "transfer_walk_s", "egress_s", "transfers"} <= set(df.columns)
    assert not (tmp_path / "m.csv.chunks").exists()
    bad = CliRunner().invoke(main, ["matrix", str(monaco_bundle), "--origins", "grid:-5", "--destinations",
                                    "stops", "--departure", "2026-01-10T15:00", "--out", str(out)])
    assert bad.exit_code == 2 and "grid.spacing_m" in bad.output
