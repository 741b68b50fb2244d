"""Parking: NGSI and French-schema facilities, occupancy histories, and linking into Parking."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.model import NO_INDEX, UNKNOWN_CAPACITY, ParkingKind, StreetGraph, haversine_m
from loaders.parking import (
    FACILITY_COLUMNS,
    HISTORY_COLUMNS,
    OCCUPANCY_PRESETS,
    facilities_frame,
    facilities_from_file,
    facilities_from_fr_csv,
    facilities_from_ngsi,
    names_similar,
    normalize_name,
    occupancy_from_csv,
    parking_from_records,
)
from loaders.report import BuildReport, LoaderError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".." / "shared" / "data"
MTP = DATA / "montpellier" / "parking"
FR_SCHEMA = DATA / "schemas" / "parking_schema_fr"
TINY = ROOT / "data_samples" / "tiny_town"
MONACO = ROOT / "data_samples" / "monaco"


def utc(text: str) -> int:
    return int(pd.Timestamp(text).timestamp())


@pytest.fixture(scope="module")
def montpellier_history():
    report = BuildReport()
    history = occupancy_from_csv(MTP / "parkings_montpellier_2026.csv", report,
                                 preset="montpellier")
    return history, report


@pytest.fixture(scope="module")
def montpellier_facilities():
    report = BuildReport()
    return pd.concat([facilities_from_ngsi(MTP / "data_parking.json", report),
                      facilities_from_ngsi(MTP / "data_bikestation.json", report)],
                     ignore_index=True)


def small_town(walk_only_node=None) -> StreetGraph:
    """A 3 x 3 street grid at the tiny town's spacing (200 m), two-way for every mode.

    ``walk_only_node`` (lon, lat) adds a footway node linked both ways to the centre node 4.
    """
    lon = [7.5 + 0.0025 * (k % 3) for k in range(9)]
    lat = [43.8 + 0.0018 * (k // 3) for k in range(9)]
    tail, head = [], []
    for k in range(9):
        if k % 3 < 2:
            tail += [k, k + 1]
            head += [k + 1, k]
        if k < 6:
            tail += [k, k + 3]
            head += [k + 3, k]
    car_ok = [True] * len(tail)
    if walk_only_node is not None:
        lon.append(walk_only_node[0])
        lat.append(walk_only_node[1])
        tail += [9, 4]
        head += [4, 9]
        car_ok += [False, False]
    lon, lat, tail, head = map(np.array, (lon, lat, tail, head))
    length = haversine_m(lon[tail], lat[tail], lon[head], lat[head])
    car = np.where(car_ok, length / 13.9, np.inf)
    bike = np.where(car_ok, length / 4.5, np.inf)
    return StreetGraph.from_edges(node_lon=lon, node_lat=lat, edge_tail=tail, edge_head=head,
                                  edge_length_m=length, walk_time_s=length / 1.3,
                                  bike_time_s=bike, car_time_s=car)


# --- NGSI -------------------------------------------------------------------------------------
def test_ngsi_montpellier_car_parks_have_names_capacities_and_locations():
    report = BuildReport()
    df = facilities_from_ngsi(MTP / "data_parking.json", report)
    assert list(df.columns[:len(FACILITY_COLUMNS)]) == list(FACILITY_COLUMNS)
    assert len(df) == 24 and set(df["kind"]) == {"car_park"} and set(df["source"]) == {"ngsi"}
    antigone = df.set_index("name").loc["Antigone"]
    assert antigone["facility_id"] == "urn:ngsi-ld:parking:001"
    assert antigone["capacity"] == 239
    assert antigone["lon"] == pytest.approx(3.88881893, abs=1e-9)
    assert antigone["lat"] == pytest.approx(43.60871606, abs=1e-9)
    # The snapshot's live values, to seed live observations.
    assert antigone["observed_free"] == 157 and antigone["observed_status"] == "Open"
    assert antigone["observed_at_utc_s"] == utc("2026-01-04T17:35:07Z")
    assert df["capacity"].sum() == 11_991 and np.isnan(df["entrance_lon"]).all()
    assert not report.notices


def test_ngsi_bike_stations_are_bike_share_with_docks_and_bikes():
    df = facilities_from_file(MTP / "data_bikestation.json", BuildReport())
    assert len(df) == 57 and set(df["kind"]) == {"bike_share"}
    first = df.iloc[0]
    # No 'name' attribute: the address names the station.
    assert first["name"] == "Rue Jules Ferry - Gare Saint-Roch"
    assert first["capacity"] == 12 and first["observed_free"] == 9 and first["observed_bikes"] == 3
    assert first["observed_at_utc_s"] == utc("2025-12-21T23:51:07Z")


def test_ngsi_key_values_park_and_ride_entrances_and_skipped_entities(tmp_path):
    entities = [
        {"id": "P+R-Nord", "type": "OffStreetParking", "name": "Relais Nord",
         "category": ["parkAndRide", "public"], "totalSpotNumber": 450,
         "availableSpotNumber": 120, "dateObserved": "2026-02-03T07:00:00Z",
         "location": {"type": "Point", "coordinates": [3.85, 43.63]},
         "refParkingAccess": ["acc-exit", "acc-in"]},
        {"id": "acc-in", "type": "ParkingAccess", "category": ["entrance"],
         "location": {"type": "Point", "coordinates": [3.8505, 43.6302]}},
        {"id": "acc-exit", "type": "ParkingAccess", "category": ["exit"],
         "location": {"type": "Point", "coordinates": [3.8495, 43.6298]}},
        {"id": "zone-7", "type": "OnStreetParking", "name": "Zone 7",
         "location": {"type": "Polygon", "coordinates": [[[3.0, 43.0], [3.002, 43.0],
                                                          [3.002, 43.002], [3.0, 43.002],
                                                          [3.0, 43.0]]]}},
        {"id": "spot-1", "type": "ParkingSpot",
         "location": {"type": "Point", "coordinates": [3.85, 43.63]}},
        {"id": "nowhere", "type": "OffStreetParking", "name": "Nowhere", "totalSpotNumber": 10},
    ]
    path = tmp_path / "kv.json"
    path.write_text(json.dumps(entities))
    report = BuildReport()
    df = facilities_from_ngsi(path, report).set_index("facility_id")
    assert df.loc["P+R-Nord", "kind"] == "park_and_ride"
    assert (df.loc["P+R-Nord", "entrance_lon"], df.loc["P+R-Nord", "entrance_lat"]) == \
        (3.8505, 43.6302)
    assert df.loc["P+R-Nord", "observed_at_utc_s"] == utc("2026-02-03T07:00:00Z")
    assert df.loc["zone-7", "kind"] == "on_street"
    assert df.loc["zone-7", "lon"] == pytest.approx(3.001)
    assert np.isnan(df.loc["zone-7", "capacity"])
    assert len(df) == 2
    assert report.dropped[("kv.json entities", "unsupported type ParkingSpot")] == 1
    assert report.dropped[("kv.json entities", "no valid location")] == 1
    assert report.counts[("kv.json", "invalid_coordinates")] == 1


def test_ngsi_invalid_json_names_the_file(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text('[{"id": "a", "type": "OffStreetParking",')
    with pytest.raises(LoaderError) as err:
        facilities_from_ngsi(path, BuildReport())
    assert err.value.notice.code == "invalid_json" and err.value.notice.file == "cut.json"


# --- French national schema -------------------------------------------------------------------
def test_french_schema_valid_example_loads_as_park_and_ride():
    report = BuildReport()
    df = facilities_from_fr_csv(FR_SCHEMA / "exemple-valide.csv", report)
    assert df["facility_id"].tolist() == ["75114-P-001", "75114-P-002"]
    assert df["kind"].tolist() == ["park_and_ride"] * 2  # nb_pr = 250 > 0
    assert df["capacity"].tolist() == [325, 325] and df["name"].tolist() == ["REPUBLIQUE"] * 2
    assert (df["lon"].iloc[0], df["lat"].iloc[0]) == (1.452323, 46.59698)
    assert set(df["source"]) == {"fr_schema"} and not report.notices


def test_french_schema_invalid_example_warns_by_row_and_column():
    report = BuildReport()
    df = facilities_from_fr_csv(FR_SCHEMA / "exemple-invalide.csv", report)
    assert len(df) == 1  # still usable: the violations do not touch position or capacity
    found = {(n.row, n.column, n.code) for n in report.notices}
    # rows are file lines, the header being line 1 (as GTFS notices count them)
    assert found == {(2, "id", "invalid_value"), (2, "num_siret", "invalid_value"),
                     (2, "tarif_pmr", "invalid_value")}
    assert "P-001" in str(report.notices[0]) and "pattern" in str(report.notices[0])


def test_french_schema_bad_coordinates_and_repeated_ids_drop_rows(tmp_path):
    path = tmp_path / "parkings.csv"
    path.write_text("id;nom;nb_places;nb_pr;nb_velo;Xlong;Ylat\n"
                    "34172-P-001;GARE;300;0;20;3,8789;43,6040\n"
                    "34172-P-002;LOIN;100;;;652000;6862000\n"
                    "34172-P-001;GARE BIS;50;;;3.8790;43.6041\n"
                    "34172-P-003;ABRI VELO;0;;40;3.8800;43.6050\n"
                    "34172-P-004;SANS PLACES;beaucoup;;;3.8810;43.6060\n", encoding="utf-8")
    report = BuildReport()
    df = facilities_from_fr_csv(path, report)
    assert df["facility_id"].tolist() == ["34172-P-001", "34172-P-003", "34172-P-004"]
    assert df["kind"].tolist() == ["car_park", "bike_parking", "car_park"]
    assert df["lon"].iloc[0] == 3.8789  # decimal comma accepted
    assert df["capacity"].iloc[1] == 40 and np.isnan(df["capacity"].iloc[2])
    assert report.dropped[("parkings.csv rows", "invalid coordinates")] == 1
    assert report.dropped[("parkings.csv rows", "duplicate id")] == 1
    bad_xy = next(n for n in report.notices if n.code == "invalid_coordinates")
    assert (bad_xy.row, bad_xy.column) == (3, "Xlong")  # file line 3: LOIN
    bad_count = next(n for n in report.notices if n.column == "nb_places")
    assert bad_count.row == 6 and "beaucoup" in bad_count.message


def test_french_schema_without_coordinates_is_refused(tmp_path):
    path = tmp_path / "nocoords.csv"
    path.write_text("id,nom,nb_places\n34172-P-001,GARE,300\n")
    with pytest.raises(LoaderError) as err:
        facilities_from_fr_csv(path, BuildReport())
    assert err.value.notice.code == "missing_required_column"
    assert err.value.notice.column == "Xlong" and err.value.notice.file == "nocoords.csv"


# --- occupancy history ------------------------------------------------------------------------
def test_montpellier_history_reads_all_rows_and_counts_every_repair(montpellier_history):
    history, report = montpellier_history
    assert list(history.columns) == list(HISTORY_COLUMNS)
    # 90,576 rows read; the only drops are Vicarello's two 1000-space glitches.
    assert len(history) == 90_574 and history["facility_key"].nunique() == 24
    assert dict(report.dropped) == {
        ("parkings_montpellier_2026.csv rows", "implausible capacity jump"): 2}
    file = "parkings_montpellier_2026.csv"
    assert report.counts[(file, "implausible_capacity")] == 2
    # 141 rows say Full; 138 of them still count free spaces (Foch up to 250): set to 0.
    assert report.counts[(file, "full_status_with_free_spaces")] == 138
    assert (history["status"] == "Full").sum() == 141
    assert history.loc[history["status"] == "Full", "full"].all()
    assert history.loc[history["status"] == "Full", "free_spaces"].max() == 250
    # Six car parks report the same free count for seven months: warned, kept.
    stuck = {n.message.split("'")[1] for n in report.notices if n.code == "constant_series"}
    assert stuck == {"Gaumont EST", "Gaumont OUEST", "Gaumont-Circe", "Pitot", "Polygone",
                     "Triangle"}
    for code in ("invalid_timestamp", "duplicate_row", "conflicting_duplicate",
                 "count_above_capacity", "capacity_filled", "ambiguous_local_time",
                 "nonexistent_local_time"):
        assert report.counts[(file, code)] == 0, code
    assert history["time_utc_s"].dtype == np.int64 and not history.isna().any().any()
    assert (history["free_spaces"] <= history["capacity"]).all()


def test_montpellier_local_times_become_utc(montpellier_history):
    history, _ = montpellier_history
    antigone = history[history["facility_key"] == "Antigone"]
    # First reading 2026-01-12 14:06:16 in Paris (CET, UTC+1); a July one is CEST (UTC+2).
    assert antigone["time_utc_s"].iloc[0] == utc("2026-01-12T13:06:16Z")
    assert antigone["free_spaces"].iloc[0] == 129 and antigone["capacity"].iloc[0] == 239
    assert utc("2026-07-01T10:00:00Z") - 3600 < antigone["time_utc_s"].iloc[-1]
    assert history["time_utc_s"].max() == utc("2026-08-09T08:29:53Z")


def test_vicarello_glitch_is_dropped_and_its_capacity_changes_kept(montpellier_history):
    history, report = montpellier_history
    vicarello = history[history["facility_key"] == "Vicarello"]
    assert len(vicarello) == 3_774 - 2
    assert set(vicarello["capacity"]) == {54, 64}   # 54 is within 2x of the median (64)
    glitch = next(n for n in report.notices if n.code == "implausible_capacity")
    assert glitch.row == 82_075 and "Vicarello" in glitch.message  # line 82,075 of the file


def test_generic_layout_converts_occupied_to_free_with_offsets_and_epochs(tmp_path):
    path = tmp_path / "occ.csv"
    path.write_text("code,capacity,occupancy,last_updated\n"
                    "P1,100,40,2026-03-02T08:00:00+01:00\n"
                    "P1,100,120,2026-03-02T09:00:00Z\n"
                    "P2,50,10,1772434800\n"
                    "P2,50,12,2026-03-02 09:00:00\n")
    report = BuildReport()
    h = occupancy_from_csv(path, report, preset="generic", timezone="Europe/Paris")
    assert h["facility_key"].tolist() == ["P1", "P1", "P2", "P2"]
    assert h["time_utc_s"].tolist() == [utc("2026-03-02T07:00Z"), utc("2026-03-02T09:00Z"),
                                        1772434800, utc("2026-03-02T08:00Z")]
    assert h["free_spaces"].tolist() == [60, 0, 40, 38]   # 120 occupied of 100: clamped to 0
    assert h["status"].tolist() == [""] * 4
    assert report.counts[("occ.csv", "count_above_capacity")] == 1


def test_a_layout_by_flags_only_loads_another_citys_file(tmp_path):
    path = tmp_path / "city.csv"
    path.write_text("when;site;taken;total;state\n"
                    "02/03/2026 08:00;Nord;30;90;OPEN\n"
                    "02/03/2026 09:00;Nord;90;90;COMPLET\n")
    h = occupancy_from_csv(path, BuildReport(), timestamp_col="when", facility_col="site",
                           occupied_col="taken", capacity_col="total", status_col="state",
                           timestamp_format="%d/%m/%Y %H:%M", full_status_values=("COMPLET",))
    assert h["free_spaces"].tolist() == [60, 0]
    assert h["time_utc_s"].tolist() == [utc("2026-03-02T07:00Z"), utc("2026-03-02T08:00Z")]
    assert h["status"].tolist() == ["OPEN", "COMPLET"]


def test_the_preset_is_found_from_the_header_when_not_given(tmp_path):
    path = tmp_path / "occ.csv"
    path.write_text("code,capacity,occupancy,last_updated\nP1,100,40,1772438400\n")
    assert occupancy_from_csv(path, BuildReport())["free_spaces"].tolist() == [60]
    assert set(OCCUPANCY_PRESETS) >= {"montpellier", "generic"}


def test_daylight_saving_gaps_and_repeats_are_resolved_and_counted(tmp_path):
    path = tmp_path / "dst.csv"
    path.write_text("fecha_lectura,nombre_parking,plazas_libres,capacidad_total,estado\n"
                    "2026-03-29 01:30:00,A,10,100,Open\n"
                    "2026-03-29 02:30:00,A,11,100,Open\n"    # does not exist in Paris
                    "2026-03-29 03:30:00,A,12,100,Open\n"
                    "2026-10-25 01:30:00,A,20,100,Open\n"
                    "2026-10-25 02:15:00,A,21,100,Open\n"    # summer time (first pass)
                    "2026-10-25 02:45:00,A,22,100,Open\n"
                    "2026-10-25 02:15:00,A,23,100,Open\n"    # winter time (clock went back)
                    "2026-10-25 02:45:00,A,24,100,Open\n"
                    "2026-10-25 03:15:00,A,25,100,Open\n")
    report = BuildReport()
    h = occupancy_from_csv(path, report, preset="montpellier")
    assert h["time_utc_s"].tolist() == [
        utc("2026-03-29T00:30Z"), utc("2026-03-29T01:00Z"), utc("2026-03-29T01:30Z"),
        utc("2026-10-24T23:30Z"), utc("2026-10-25T00:15Z"), utc("2026-10-25T00:45Z"),
        utc("2026-10-25T01:15Z"), utc("2026-10-25T01:45Z"), utc("2026-10-25T02:15Z")]
    assert h["free_spaces"].tolist() == [10, 11, 12, 20, 21, 22, 23, 24, 25]
    assert report.counts[("dst.csv", "nonexistent_local_time")] == 1
    assert report.counts[("dst.csv", "ambiguous_local_time")] == 4


def test_bad_values_are_dropped_or_clamped_and_counted(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("fecha_lectura,nombre_parking,plazas_libres,capacidad_total,estado\n"
                    "2026-02-02 08:00:00,A,10,100,Open\n"
                    "2026-02-02 08:00:00,A,10,100,Open\n"      # exact duplicate
                    "2026-02-02T07:00:00Z,A,10,100,Open\n"     # the same reading, in UTC
                    "2026-02-02 09:00:00,A,-4,100,Open\n"      # negative
                    "2026-02-02 10:00:00,A,130,100,Open\n"     # free above capacity
                    "2026-02-02 11:00:00,A,20,0,Open\n"        # capacity 0: the usual 100
                    "2026-02-02 12:00:00,A,30,,Open\n"         # capacity missing: the usual 100
                    "yesterday,A,40,100,Open\n"                # unparseable time
                    "2026-02-02 13:00:00,A,lots,100,Open\n"    # unparseable count
                    "2026-02-02 14:00:00,A,5,100,Open\n"
                    "2026-02-02 14:00:00,A,6,100,Open\n"       # same instant, new value: kept
                    "2026-02-02 15:00:00,A,7,1000,Open\n"      # capacity jump: glitch
                    "2026-02-02 08:00:00,B,1,,Open\n"          # no capacity anywhere for B
                    "2026-02-02 08:00:00,,1,10,Open\n")        # no facility
    report = BuildReport()
    h = occupancy_from_csv(path, report, preset="montpellier")
    assert h["free_spaces"].tolist() == [10, 100, 20, 30, 6]
    assert h["capacity"].tolist() == [100] * 5
    what = "bad.csv rows"
    assert dict(report.dropped) == {
        (what, "exact duplicate"): 2, (what, "negative plazas_libres"): 1,
        (what, "unparseable timestamp"): 1, (what, "unparseable plazas_libres"): 1,
        (what, "same facility and time, different values"): 1,
        (what, "implausible capacity jump"): 1, (what, "no capacity"): 1,
        (what, "empty facility key"): 1}
    assert report.counts[("bad.csv", "count_above_capacity")] == 1
    assert report.counts[("bad.csv", "capacity_filled")] == 2
    bad_time = next(n for n in report.notices if n.code == "invalid_timestamp")
    assert bad_time.row == 9 and "yesterday" in bad_time.message  # line 9: "yesterday,A,..."


def test_a_missing_column_names_the_file_and_column(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("fecha_lectura,nombre_parking,capacidad_total\n2026-02-02 08:00:00,A,10\n")
    with pytest.raises(LoaderError) as err:
        occupancy_from_csv(path, BuildReport(), preset="montpellier")
    assert err.value.notice.code == "missing_required_column"
    assert (err.value.notice.file, err.value.notice.column) == ("short.csv", "plazas_libres")


def test_an_unknown_timezone_is_refused_before_reading(tmp_path):
    path = tmp_path / "occ.csv"
    path.write_text("code,capacity,occupancy,last_updated\nP1,100,40,2026-03-02 08:00\n")
    with pytest.raises(LoaderError) as err:
        occupancy_from_csv(path, BuildReport(), preset="generic", timezone="Europe/Montpelier")
    assert err.value.notice.code == "invalid_timezone"


# --- facilities + history -> Parking ----------------------------------------------------------
def test_all_24_montpellier_history_names_match_their_ngsi_car_parks(montpellier_history,
                                                                     montpellier_facilities):
    history, _ = montpellier_history
    report = BuildReport()
    parking = parking_from_records(montpellier_facilities, history, street=None, report=report)
    assert parking.n_facilities == 24 + 57
    h = parking.history
    assert h.n_observations == 90_574 and not report.dropped
    matched = set(parking.facility_name[np.unique(h.facility_idx)])
    assert len(matched) == 24
    # 'Comedie' and 'Corum' also name bike stations: the capacity tells the car park apart.
    assert set(parking.kind[np.unique(h.facility_idx)]) == {ParkingKind.CAR_PARK}
    order = np.lexsort((h.time_utc_s, h.facility_idx))
    assert (order == np.arange(h.n_observations)).all()
    assert (parking.car_node_idx == NO_INDEX).all() and (parking.walk_node_idx == NO_INDEX).all()
    assert parking.capacity[parking.facility_name == "Polygone"].tolist() == [1911]


def test_facilities_link_to_car_and_walk_nodes_and_entrances_steer_the_car_node():
    # A footway node 10 m from Parking Centre: pedestrians leave there, cars cannot reach it.
    centre = (7.5030, 43.8019)
    street = small_town(walk_only_node=(7.5031, 43.8019))
    facilities = facilities_frame([
        dict(facility_id="c", name="Parking Centre", kind="car_park", lon=centre[0],
             lat=centre[1], capacity=120, source="osm"),
        dict(facility_id="g", name="Parking Gare", kind="car_park", lon=7.5049, lat=43.8001,
             capacity=60, entrance_lon=7.5002, entrance_lat=43.8035, source="osm"),
        dict(facility_id="far", name="Far", kind="park_and_ride", lon=7.5, lat=43.81,
             capacity=np.nan, source="osm"),
        dict(facility_id="b", name="Racks", kind="bike_parking", lon=7.5001, lat=43.8001,
             capacity=10, source="osm"),
    ])
    report = BuildReport()
    p = parking_from_records(facilities, None, street=street, report=report)
    assert p.car_node_idx.tolist() == [4, 6, NO_INDEX, 0]
    assert p.walk_node_idx.tolist() == [9, 2, NO_INDEX, 0]
    assert p.kind.tolist() == [ParkingKind.CAR_PARK, ParkingKind.CAR_PARK,
                               ParkingKind.PARK_AND_RIDE, ParkingKind.BIKE_PARKING]
    assert p.capacity.tolist() == [120, 60, UNKNOWN_CAPACITY, 10]
    assert report.counts[("", "facility_too_far_from_street")] == 2  # vehicle and walking
    assert p.history is None


def test_the_same_car_park_in_osm_and_ngsi_is_merged_and_history_matches_either_name():
    facilities = facilities_frame([
        dict(facility_id="osm:node/1", name="Parking Antigone", kind="car_park", lon=3.88890,
             lat=43.60880, capacity=np.nan, source="osm"),
        dict(facility_id="urn:1", name="Antigone", kind="car_park", lon=3.88881893,
             lat=43.60871606, capacity=239, source="ngsi"),
        # Same place, same source, two records: both kept (Circe / Gaumont-Circe).
        dict(facility_id="urn:11", name="Circe", kind="car_park", lon=3.9178495,
             lat=43.60495377, capacity=1200, source="ngsi"),
        dict(facility_id="urn:25", name="Gaumont-Circe", kind="car_park", lon=3.9178495,
             lat=43.60495377, capacity=500, source="ngsi"),
        # Close but differently named: not merged.
        dict(facility_id="osm:node/2", name="Parking Odysseum", kind="car_park", lon=3.91790,
             lat=43.60500, capacity=np.nan, source="osm"),
    ])
    history = pd.DataFrame({"facility_key": ["ANTIGONE", "Circe", "Nowhere"],
                            "time_utc_s": [100, 100, 100], "free_spaces": [10, 20, 30],
                            "capacity": [239, 1200, 40], "status": ["", "", ""]})
    report = BuildReport()
    p = parking_from_records(facilities, history, street=None, report=report)
    assert p.facility_ids.tolist() == ["osm:node/1", "urn:11", "urn:25", "osm:node/2"]
    assert p.capacity.tolist() == [239, 1200, 500, UNKNOWN_CAPACITY]
    assert report.dropped[("parking facilities", "same place in another source (merged)")] == 1
    assert p.history.facility_idx.tolist() == [0, 1]
    assert report.dropped[("occupancy history rows", "facility key not matched")] == 1
    unmatched = next(n for n in report.notices if n.code == "unmatched_facility_key")
    assert "'Nowhere'" in unmatched.message


def test_history_capacity_fills_an_unknown_facility_capacity():
    facilities = facilities_frame([dict(facility_id="x", name="Épinette", kind="car_park",
                                        lon=3.0, lat=43.0, capacity=np.nan, source="osm")])
    history = pd.DataFrame({"facility_key": ["epinette"] * 3, "time_utc_s": [3, 1, 2],
                            "free_spaces": [1, 2, 3], "capacity": [80, 90, 90],
                            "status": [""] * 3})
    p = parking_from_records(facilities, history, report=BuildReport())
    assert p.capacity.tolist() == [90]
    assert p.history.time_utc_s.tolist() == [1, 2, 3] and p.history.free_spaces.tolist() == [2, 3, 1]


def test_names_compare_without_case_accents_or_generic_words():
    assert normalize_name("  Comédie ") == "comedie"
    assert names_similar("Parking de la Comédie", "COMEDIE")
    assert names_similar("Parking du Casino", "Casino")
    assert not names_similar("Circe", "Gaumont Est") and not names_similar("", "Parking")


# --- samples ----------------------------------------------------------------------------------
def test_tiny_town_occupancy_loads_with_the_generic_preset():
    report = BuildReport()
    h = occupancy_from_csv(TINY / "parking_occupancy.csv", report, preset="generic")
    assert set(h["facility_key"]) == {"Parking Centre", "Parking Gare", "Parking Relais"}
    assert not report.dropped
    local = pd.to_datetime(h["time_utc_s"], unit="s", utc=True).dt.tz_convert("Europe/Paris")
    assert local.min() == pd.Timestamp("2026-01-05 00:00", tz="Europe/Paris")
    assert local.max() == pd.Timestamp("2026-03-01 23:00", tz="Europe/Paris")
    assert len(h) == 3 * 8 * 7 * 24
    centre = h["facility_key"] == "Parking Centre"
    weekday = local.dt.day_of_week < 5
    afternoon = local.dt.hour.between(14, 17)
    assert (h.loc[centre & weekday & afternoon, "free_spaces"] == 0).all()
    ten = h.loc[centre & weekday & (local.dt.hour == 10), "free_spaces"]
    assert 70 <= ten.mean() <= 90
    assert (h.loc[~centre, "free_spaces"] > 0).all()
    assert h.loc[centre, "capacity"].eq(120).all()


def test_monaco_derived_occupancy_loads_and_casino_fills_up_on_weekday_afternoons():
    report = BuildReport()
    h = occupancy_from_csv(MONACO / "parking_occupancy_derived.csv", report, preset="generic")
    assert not report.dropped and h["facility_key"].nunique() == 29
    local = pd.to_datetime(h["time_utc_s"], unit="s", utc=True).dt.tz_convert("Europe/Paris")
    # The GTFS service period (2025-12-20 to 2026-02-13) and two weeks before, hourly.
    assert local.min() == pd.Timestamp("2025-12-06 00:00", tz="Europe/Paris")
    assert local.max() == pd.Timestamp("2026-02-14 23:00", tz="Europe/Paris")
    assert len(h) == 29 * 71 * 24
    car_parks = pd.read_csv(MONACO / "derived_car_parks.csv")
    casino = car_parks.loc[car_parks["name"] == "Parking du Casino"].iloc[0]
    assert casino["saturated"] and casino["montpellier_profile"] == "Arc de Triomphe"
    assert car_parks["saturated"].sum() == 2
    rows = h["facility_key"] == casino["code"]
    afternoon = rows & (local.dt.day_of_week <= 5) & local.dt.hour.between(14, 17)
    night = rows & local.dt.hour.between(2, 5)
    assert (h.loc[afternoon, "free_spaces"] == 0).mean() > 0.6
    assert (h.loc[night, "free_spaces"] == 0).mean() < 0.1
    # The other car parks keep Montpellier's unscaled shapes: rarely full.
    others = ~h["facility_key"].isin(car_parks.loc[car_parks["saturated"], "code"])
    assert (h.loc[others, "free_spaces"] == 0).mean() < 0.01


def test_tiny_town_car_parks_link_to_their_entrances_and_get_their_history():
    from loaders.osm import street_graph_from_osm

    report = BuildReport()
    extract = street_graph_from_osm(TINY / "tiny_town.osm", report)
    history = occupancy_from_csv(TINY / "parking_occupancy.csv", report, preset="generic")
    p = parking_from_records(extract.facilities, history, street=extract.street, report=report)
    osm_id = extract.street.node_osm_id
    by_name = {n: i for i, n in enumerate(p.facility_name)}
    centre, relais = by_name["Parking Centre"], by_name["Parking Relais"]
    # Cars enter Parking Centre at its mapped entrance (node 2003 on Rue du Marché); pedestrians
    # leave at the nearest walkable node, intersection (2, 2).
    assert osm_id[p.car_node_idx[centre]] == 2003 and osm_id[p.walk_node_idx[centre]] == 1022
    assert osm_id[p.car_node_idx[relais]] == 2006
    assert p.kind[relais] == ParkingKind.PARK_AND_RIDE
    assert np.bincount(p.history.facility_idx, minlength=p.n_facilities).tolist() == \
        [1344 if n.startswith("Parking ") else 0 for n in p.facility_name]
    assert not report.dropped.get(("occupancy history rows", "facility key not matched"))


def test_every_derived_monaco_series_matches_an_osm_car_park():
    from loaders.osm import street_graph_from_osm

    report = BuildReport()
    extract = street_graph_from_osm(DATA / "monaco" / "monaco.osm.pbf", report)
    history = occupancy_from_csv(MONACO / "parking_occupancy_derived.csv", report,
                                 preset="generic")
    p = parking_from_records(extract.facilities, history, street=extract.street, report=report)
    assert p.history.n_observations == 49_416
    assert np.unique(p.history.facility_idx).size == 29
    assert report.counts[("<history>", "unmatched_facility_key")] == 0
    car = np.isin(p.kind, (ParkingKind.CAR_PARK, ParkingKind.PARK_AND_RIDE))
    assert car.sum() == 29 and (p.car_node_idx[car] != NO_INDEX).all()
    # The derived series' capacities fill the car parks OSM leaves without one.
    assert p.capacity[p.facility_name == "Parking du Casino"].tolist() == [437]


def test_parking_csv_warnings_name_file_lines_past_blank_lines_and_quoted_line_breaks(tmp_path):
    # line 1 header; 2 fine; 3 blank; 4-5 one record whose quoted name spans two lines; 6 bad count
    path = tmp_path / "lines.csv"
    path.write_text("id;nom;nb_places;nb_pr;nb_velo;Xlong;Ylat\n"
                    "34172-P-001;GARE;300;0;20;3.8789;43.6040\n"
                    "\n"
                    '34172-P-002;"HALLES\nNORD";100;;;3.8790;43.6041\n'
                    "34172-P-003;SANS PLACES;beaucoup;;;3.8810;43.6060\n", encoding="utf-8")
    report = BuildReport()
    df = facilities_from_fr_csv(path, report)
    assert df["facility_id"].tolist() == ["34172-P-001", "34172-P-002", "34172-P-003"]
    bad_count = next(n for n in report.notices if n.column == "nb_places")
    assert (bad_count.file, bad_count.row) == ("lines.csv", 6)
    history = tmp_path / "occ.csv"
    history.write_text("fecha_lectura,nombre_parking,plazas_libres,capacidad_total,estado\n"
                       "2026-02-02 08:00:00,A,10,100,Open\n\n"
                       "yesterday,A,40,100,Open\n")
    report = BuildReport()
    occupancy_from_csv(history, report, preset="montpellier")
    bad_time = next(n for n in report.notices if n.code == "invalid_timestamp")
    assert bad_time.row == 4
