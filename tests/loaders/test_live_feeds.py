"""Live-feed readers (loaders/live_feeds): Montpellier's NGSI car parks and Vélomagg stations,
NGSI-LD and keyValues forms, OpenDataSoft v2.1/v1 records through a mapping, GBFS station status,
and bodies that are not feeds."""
from __future__ import annotations

import json

import pytest

from loaders.gbfs import read_gbfs
from loaders.live_feeds import (
    LiveFeedError,
    OdsMapping,
    parse_json,
    readings_from_gbfs,
    readings_from_ngsi,
    readings_from_ods,
)
from tests.conftest import SHARED_DATA

PARKING = SHARED_DATA / "montpellier" / "parking"
pytestmark = pytest.mark.skipif(not PARKING.is_dir(), reason="../shared/data/montpellier is missing")


def _doc(name):
    return json.loads((PARKING / name).read_text())


def test_montpellier_car_parks_read_with_the_builds_ids_and_timestamps():
    readings, report = readings_from_ngsi(_doc("data_parking.json"), "data_parking.json")
    assert len(readings) == 24 and not report.rejected
    antigone = readings[0]
    assert antigone.facility_id == "urn:ngsi-ld:parking:001"
    assert (antigone.free_spaces, antigone.capacity) == (157, 239)
    assert antigone.time_utc_s == 1767548107    # 2026-01-04T17:35:07Z, the attribute's timestamp


def test_velomagg_stations_follow_the_bike_share_rule():
    readings, report = readings_from_ngsi(_doc("data_bikestation.json"), "data_bikestation.json")
    assert len(readings) == 57 and not report.rejected
    first = readings[0]    # 3 bikes, 9 free slots: free docks 9, capacity 3 + 9
    assert (first.facility_id, first.free_spaces, first.capacity) == ("urn:ngsi-ld:station:001", 9, 12)


def test_ngsi_ld_key_values_duplicates_and_broken_entities_are_counted():
    doc = [
        {"id": "urn:a", "type": "OffStreetParking",
         "availableSpotNumber": {"type": "Property", "value": 12, "observedAt": "2026-12-04T10:00:00Z"},
         "totalSpotNumber": {"type": "Property", "value": 40}},
        {"id": "urn:b", "type": "OffStreetParking", "availableSpotNumber": 7, "totalSpotNumber": 30,
         "dateObserved": "2026-12-04T10:00:00Z"},                       # keyValues
        {"id": "urn:a", "type": "OffStreetParking", "availableSpotNumber": 1,
         "dateObserved": "2026-12-04T10:00:00Z"},                       # the same id again
        {"id": "urn:c", "type": "OffStreetParking", "availableSpotNumber": 3},   # no instant
        {"id": "urn:d", "type": "OffStreetParking", "availableSpotNumber": "many",
         "dateObserved": "2026-12-04T10:00:00Z"},
        {"id": "urn:e", "type": "ParkingSpot"}, "text", {"id": "acc", "type": "ParkingAccess"},
    ]
    readings, report = readings_from_ngsi(doc, "x")
    assert [(r.facility_id, r.free_spaces, r.capacity) for r in readings] == [("urn:a", 12, 40),
                                                                              ("urn:b", 7, 30)]
    assert readings[0].time_utc_s == readings[1].time_utc_s == 1796378400
    assert dict(report.rejected) == {"duplicate_entity_id": 1, "missing_timestamp": 1,
                                     "invalid_value": 1, "unsupported_entity_type": 1,
                                     "not_an_object": 1}


def test_ods_v21_and_v1_records_through_a_mapping():
    mapping = OdsMapping.parse("facility=id, free=nb_places_libres, capacity=nb_places, time=date_maj")
    v21 = {"total_count": 3, "results": [
        {"id": "P1", "nb_places_libres": 20, "nb_places": 300, "date_maj": "2026-12-04T11:00:00+01:00"},
        {"id": "P2", "nb_places_libres": 4.0, "nb_places": None, "date_maj": 1796378400000},
        {"id": "P3", "nb_places_libres": 4.5, "date_maj": "2026-12-04T10:00:00"},
        {"nb_places_libres": 1, "date_maj": "2026-12-04T10:00:00"},
        {"id": "P4", "nb_places_libres": 1, "date_maj": "yesterday"}]}
    readings, report = readings_from_ods(v21, mapping, "x", received_utc_s=0)
    assert [(r.facility_id, r.time_utc_s, r.free_spaces, r.capacity) for r in readings] == [
        ("P1", 1796378400, 20, 300), ("P2", 1796378400, 4, None)]
    assert dict(report.rejected) == {"invalid_value": 1, "missing_id": 1, "invalid_timestamp": 1}
    v1 = {"records": [{"fields": {"ident": "P1", "occ": 280}, "record_timestamp": "2026-12-04T10:00:00Z"}]}
    readings, _ = readings_from_ods(v1, OdsMapping.parse("facility=ident,occupied=occ"), "x", 5)
    assert (readings[0].occupied, readings[0].free_spaces, readings[0].time_utc_s) == (280, None, 1796378400)
    plain = [{"where": {"id": "Z"}, "free": 2}]
    readings, _ = readings_from_ods(plain, OdsMapping.parse("facility=where.id,free=free"), "x", 77)
    assert (readings[0].facility_id, readings[0].time_utc_s) == ("Z", 77)   # no time field: received


@pytest.mark.parametrize("text, words", [("free=a", "facility"), ("facility=a", "free=FIELD or"),
                                         ("facility=a,colour=b", "unknown role"), ("facility", "ROLE=FIELD")])
def test_a_bad_mapping_is_named(text, words):
    with pytest.raises(ValueError, match=words):
        OdsMapping.parse(text)


@pytest.mark.parametrize("body, words", [(b"<html><body>maintenance</body></html>", "HTML"),
                                         (b"{not json", "not JSON"), (b"\xff\xfe", "UTF-8")])
def test_a_body_that_is_not_json_is_named(body, words):
    with pytest.raises(LiveFeedError, match=words):
        parse_json(body, "http://x/feed")


def test_documents_of_the_wrong_shape_are_refused():
    with pytest.raises(LiveFeedError, match="NGSI"):
        readings_from_ngsi({"a": 1}, "x")
    with pytest.raises(LiveFeedError, match="OpenDataSoft"):
        readings_from_ods({"a": 1}, OdsMapping.parse("facility=a,free=b"), "x", 0)


def test_gbfs_station_status_becomes_readings_of_the_station_facilities():
    feed = read_gbfs(SHARED_DATA / "gbfs" / "helsinki")
    readings, report = readings_from_gbfs(feed)
    assert readings and all(r.facility_id.startswith("gbfs:") for r in readings)
    status = feed.station_status[0]
    first = readings[0]
    assert first.facility_id == f"gbfs:{feed.system.system_id}/{status.station_id}"
    assert first.free_spaces == status.num_docks_available
    assert first.capacity == status.num_bikes_available + status.num_docks_available
    assert sum(report.rejected.values()) == sum(feed.report.rejected.values())
