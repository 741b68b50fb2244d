"""/api/v1/info describes the bundle; /api/v1/network draws its streets as merged, rounded lines."""
import datetime as dt
import gzip
import json

from tests.api.conftest import LAT0, LON0, N


def _at(app, iso):
    app.extensions["trajet"].clock = lambda: dt.datetime.fromisoformat(iso).timestamp()


def test_info_gives_timezone_bbox_service_period_and_a_data_version(make_app):
    app = make_app()
    _at(app, "2026-01-12T08:30:00+01:00")
    info = app.test_client().get("/api/v1/info").get_json()
    assert info["timezone"] == "Europe/Monaco"
    assert info["bbox"][:2] == [LON0, LAT0]
    assert info["service_period"] == {"start": "2026-01-05", "end": "2026-02-28"}
    assert info["counts"] == {"street_nodes": 36, "stops": 3}
    assert len(info["data_version"]) == 16 and info["format_version"] == 1
    assert info["suggested_departure"] == {"datetime": "2026-01-12T08:30+01:00", "note": None}
    assert info["ingest_enabled"] is False and info["live_observations"] == 0


def test_the_suggested_departure_moves_to_a_day_the_timetable_covers(make_app):
    app = make_app()
    client = app.test_client()
    _at(app, "2025-12-01T07:15:00+01:00")  # before the feed starts: its first day, same time
    before = client.get("/api/v1/info").get_json()["suggested_departure"]
    assert before["datetime"] == "2026-01-05T07:15+01:00"
    assert "no service today (2025-12-01)" in before["note"] and "next day" in before["note"]
    _at(app, "2026-06-01T18:00:00+02:00")  # after it ends: its last day
    after = client.get("/api/v1/info").get_json()["suggested_departure"]
    assert after["datetime"] == "2026-02-28T18:00+01:00" and "last day" in after["note"]


def test_each_way_becomes_one_line_with_rounded_coordinates(make_app):
    # simplification off: every row and column keeps its 6 nodes
    client = make_app(network_simplify_m=0).test_client()
    fc = json.loads(client.get("/api/v1/network").data)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 2 * N
    by_name = {f["properties"]["name"]: f for f in fc["features"]}
    row0 = by_name["Row 0"]["geometry"]
    assert row0["type"] == "LineString" and len(row0["coordinates"]) == N
    assert sorted(row0["coordinates"])[0] == [7.42, 43.73]
    assert all(len(str(c).split(".")[1]) <= 5 for pt in row0["coordinates"] for c in pt)
    assert by_name["Row 1"]["properties"]["bike_lane"] is True
    assert by_name["Row 0"]["properties"]["bike_lane"] is False
    assert by_name["Column 0"]["properties"] == {"highway": "footway", "name": "Column 0",
                                                 "bike_lane": False, "car": False}


def test_straight_ways_simplify_to_their_two_ends(client):
    fc = json.loads(client.get("/api/v1/network").data)
    row0 = next(f for f in fc["features"] if f["properties"]["name"] == "Row 0")
    assert sorted(row0["geometry"]["coordinates"]) == [[7.42, 43.73], [7.42621, 43.73]]


def test_the_network_is_cached_with_an_etag_and_gzipped_on_request(client):
    first = client.get("/api/v1/network")
    etag = first.headers["ETag"]
    assert first.headers["Content-Type"] == "application/geo+json"
    again = client.get("/api/v1/network", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    zipped = client.get("/api/v1/network", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == first.data
