"""Reading GBFS feeds (loaders/gbfs.py): OpenTripPlanner's Helsinki, Lillestrøm and duplicate-station
fixtures, a hand-written v3.0 system with free-floating e-bikes, broken feeds, and a real local
HTTP server (http.server in a thread) serving the Helsinki folder or answering 500."""
from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

import pytest

from loaders.gbfs import GbfsFeedError, read_gbfs
from tests.conftest import SHARED_DATA

GBFS = SHARED_DATA / "gbfs"
pytestmark = pytest.mark.skipif(not GBFS.is_dir(), reason="../shared/data/gbfs is missing")


# ---------------------------------------------------------------------------------------------
# The real fixtures
# ---------------------------------------------------------------------------------------------
def test_helsinki_keeps_its_five_whole_stations_and_names_the_broken_ones():
    feed = read_gbfs(GBFS / "helsinki")
    assert feed.system.system_id == "HSL_FI_Helsinki"
    assert feed.system.timezone == "Europe/Helsinki"
    assert feed.language == "en"
    # 006 and 007 have no station_id, 008 and 009 no name, 010 no lat/lon: left out, and their
    # statuses then name stations that are not there.
    assert [s.station_id for s in feed.stations] == ["001", "002", "003", "004", "005"]
    assert feed.report.rejected == {"missing_required_field": 5, "status_for_unknown_station": 5}
    assert feed.report.examples["status_for_unknown_station"] == ["006", "007", "008", "009", "010"]
    kaivopuisto = feed.station("001")
    assert (kaivopuisto.name, kaivopuisto.capacity) == ("Kaivopuisto", 30)
    assert kaivopuisto.lat == pytest.approx(60.155444793821)
    status = feed.status("001")
    assert (status.num_bikes_available, status.num_docks_available) == (2, 29)
    assert status.is_renting and status.is_returning and status.last_reported_utc_s == 1631517287
    # Viiskulma (004) has 11 bikes but neither rents nor returns (Helsinki writes 0/1 for booleans).
    assert feed.status("004").num_bikes_available == 11 and not feed.status("004").is_renting
    assert feed.files["station_status"].ttl_s == 60
    assert feed.files["station_status"].last_updated_utc_s == 1631517710
    assert feed.min_ttl_s() == 60


def test_lillestrom_reads_vehicle_types_pricing_and_counts_by_type():
    feed = read_gbfs(GBFS / "lillestrombysykkel")
    assert (feed.version, feed.language, feed.system.name) == ("2.2", "nb", "Lillestrøm bysykkel")
    assert len(feed.stations) == 6 and len(feed.station_status) == 6
    assert not feed.report.rejected
    torvgata = feed.station("YLS:VehicleSharingParkingArea:3")
    assert (torvgata.name, torvgata.capacity, torvgata.address) == ("TORVGATA", 3, "Torvgata 8, Lillestrøm")
    status = feed.status("YLS:VehicleSharingParkingArea:3")
    assert (status.num_bikes_available, status.num_docks_available) == (10, 10)
    assert status.vehicle_types_available == (("YLS:VehicleType:CityBike", 10),)
    (city_bike,) = feed.vehicle_types
    assert (city_bike.form_factor, city_bike.propulsion_type) == ("bicycle", "human")
    assert city_bike.is_bicycle and not city_bike.is_ebike
    assert feed.bike_type_ids() == {"YLS:VehicleType:CityBike"}
    assert [p["name"] for p in feed.pricing_plans] == ["sesongkort", "3-dagerskort"]
    assert feed.pricing_plans[0]["currency"] == "NOK" and feed.pricing_plans[0]["price"] == 50.0
    assert feed.files["vehicle_types"].ttl_s == 15
    assert feed.files["system_pricing_plans"].ttl_s == 18143
    assert feed.min_ttl_s() == 15   # gbfs.json's and vehicle_types' ttl


def test_a_station_listed_twice_is_reported_and_the_first_kept():
    feed = read_gbfs(GBFS / "duplicate-stations-v2")
    assert [s.station_id for s in feed.station_status] == ["station_1", "station_duplicate", "station_3"]
    assert feed.report.rejected == {"duplicate_station_id": 1}
    assert feed.report.examples["duplicate_station_id"] == ["station_duplicate"]
    assert feed.status("station_duplicate").num_bikes_available == 10   # the first, not the 8
    assert feed.station("station_duplicate").capacity == 15
    reported = feed.report.as_dict()["rejected"]["duplicate_station_id"]
    assert reported["count"] == 1 and "first is kept" in reported["meaning"]


def test_the_language_can_be_chosen_and_a_missing_one_is_named():
    assert read_gbfs(GBFS / "lillestrombysykkel", language="nb").language == "nb"
    with pytest.raises(GbfsFeedError, match="no feeds in language 'en'"):
        read_gbfs(GBFS / "lillestrombysykkel", language="en")


# ---------------------------------------------------------------------------------------------
# A hand-written v3.0 system
# ---------------------------------------------------------------------------------------------
def _write(folder: Path, name: str, data: dict, *, ttl: int = 60, version: str = "3.0",
           last_updated="2026-12-04T10:00:00Z") -> None:
    document = {"last_updated": last_updated, "ttl": ttl, "version": version, "data": data}
    (folder / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")


@pytest.fixture()
def v3_system(tmp_path: Path) -> Path:
    names = ["system_information", "station_information", "station_status", "vehicle_types",
             "vehicle_status"]
    _write(tmp_path, "gbfs", {"feeds": [{"name": n, "url": f"{n}.json"} for n in names]}, ttl=30)
    _write(tmp_path, "system_information", {
        "system_id": "demo", "languages": ["fr", "en"], "timezone": "Europe/Paris",
        "name": [{"text": "Vélo Démo", "language": "fr"}, {"text": "Demo Bike", "language": "en"}]})
    _write(tmp_path, "station_information", {"stations": [
        {"station_id": "S1", "name": [{"text": "Comédie", "language": "fr"}], "lat": 43.6085,
         "lon": 3.8800, "capacity": 12},
        {"station_id": "S2", "name": [{"text": "Gare", "language": "fr"}], "lat": 43.6045,
         "lon": 3.8800, "capacity": 8, "is_virtual_station": True}]})
    _write(tmp_path, "station_status", {"stations": [
        {"station_id": "S1", "num_vehicles_available": 4, "num_docks_available": 8,
         "is_installed": True, "is_renting": True, "is_returning": True,
         "last_reported": "2026-12-04T09:59:00Z",
         "vehicle_types_available": [{"vehicle_type_id": "ebike", "count": 3},
                                     {"vehicle_type_id": "pedal", "count": 1},
                                     {"vehicle_type_id": "hoverboard", "count": 2}]},
        {"station_id": "S2", "num_vehicles_available": -1, "num_docks_available": 8,
         "is_installed": True, "is_renting": True, "is_returning": True}]})
    _write(tmp_path, "vehicle_types", {"vehicle_types": [
        {"vehicle_type_id": "pedal", "form_factor": "bicycle", "propulsion_type": "human"},
        {"vehicle_type_id": "ebike", "form_factor": "bicycle", "propulsion_type": "electric_assist",
         "max_range_meters": 60000, "name": [{"text": "VAE", "language": "fr"}]},
        {"vehicle_type_id": "scooter", "form_factor": "scooter_standing", "propulsion_type": "electric",
         "max_range_meters": 25000}]})
    _write(tmp_path, "vehicle_status", {"vehicles": [
        {"vehicle_id": "v1", "lat": 43.61, "lon": 3.87, "is_reserved": False, "is_disabled": False,
         "vehicle_type_id": "ebike", "current_range_meters": 41000},
        {"vehicle_id": "v2", "station_id": "S1", "is_reserved": False, "is_disabled": False,
         "vehicle_type_id": "pedal"},
        {"vehicle_id": "v3", "lat": 43.60, "lon": 3.86, "is_reserved": True, "is_disabled": False,
         "vehicle_type_id": "scooter"},
        {"vehicle_id": "v1", "lat": 43.62, "lon": 3.88, "is_reserved": False, "is_disabled": False,
         "vehicle_type_id": "ebike"},
        {"vehicle_id": "v4", "lat": 999, "lon": 3.88, "is_reserved": False, "is_disabled": False},
        {"vehicle_id": "v5", "lat": 43.6, "lon": 3.88, "is_reserved": False, "is_disabled": False,
         "vehicle_type_id": "unicycle"}]})
    return tmp_path


def test_a_v3_system_reads_free_floating_ebikes_and_localized_names(v3_system: Path):
    feed = read_gbfs(v3_system)
    assert (feed.version, feed.language) == ("3.0", None)
    assert feed.system.name == "Vélo Démo" and feed.system.timezone == "Europe/Paris"
    assert [s.name for s in feed.stations] == ["Comédie", "Gare"]
    assert feed.station("S2").is_virtual_station
    assert feed.files["gbfs"].last_updated_utc_s == 1796378400   # 2026-12-04T10:00:00Z
    assert feed.files["gbfs"].ttl_s == 30
    ebike = next(t for t in feed.vehicle_types if t.vehicle_type_id == "ebike")
    assert ebike.is_ebike and ebike.max_range_meters == 60000 and ebike.name == "VAE"
    assert feed.bike_type_ids() == {"pedal", "ebike"}   # the scooter is not for the bike mode
    s1 = feed.status("S1")
    assert s1.num_bikes_available == 4 and s1.last_reported_utc_s == 1796378340
    assert s1.vehicle_types_available == (("ebike", 3), ("pedal", 1))   # hoverboard dropped
    assert feed.status("S2") is None                                   # -1 vehicles
    assert [v.vehicle_id for v in feed.vehicles] == ["v1", "v2", "v3"]
    v1, v2, v3 = feed.vehicles
    assert (v1.lat, v1.lon, v1.current_range_meters, v1.vehicle_type_id) == (43.61, 3.87, 41000, "ebike")
    assert (v2.station_id, v2.lat) == ("S1", None)                     # docked: no position of its own
    assert v3.is_reserved
    assert feed.report.rejected == {"negative_count": 1, "unknown_vehicle_type": 2,
                                    "duplicate_vehicle_id": 1, "invalid_coordinates": 1}
    assert feed.report.examples["unknown_vehicle_type"] == ["S1/hoverboard", "v5"]
    assert feed.report.examples["invalid_coordinates"] == ["v4"]


def test_v2_free_bike_status_reads_bike_ids(tmp_path: Path):
    _write(tmp_path, "gbfs", {"de": {"feeds": [{"name": "free_bike_status",
                                                "url": "file:elsewhere/free_bike_status.json"}]}},
           version="2.3", last_updated=1700000000)
    _write(tmp_path, "free_bike_status", {"bikes": [
        {"bike_id": "b1", "lat": 52.5, "lon": 13.4, "is_reserved": 0, "is_disabled": 0},
        {"bike_id": "", "lat": 52.5, "lon": 13.4, "is_reserved": 0, "is_disabled": 0}]},
        version="2.3", last_updated=1700000000)
    feed = read_gbfs(tmp_path / "gbfs.json")
    assert [(v.vehicle_id, v.lat, v.is_reserved) for v in feed.vehicles] == [("b1", 52.5, False)]
    assert feed.report.rejected == {"missing_required_field": 1}
    assert feed.system is None and feed.stations == ()
    assert feed.files["free_bike_status"].last_updated_utc_s == 1700000000


# ---------------------------------------------------------------------------------------------
# Feeds that cannot be read, entities that break rules
# ---------------------------------------------------------------------------------------------
def test_a_gbfs_json_that_is_not_json_names_the_file(tmp_path: Path):
    (tmp_path / "gbfs.json").write_text("<html>maintenance</html>")
    with pytest.raises(GbfsFeedError, match=r"gbfs\.json: not JSON"):
        read_gbfs(tmp_path)


def test_a_gbfs_json_without_feeds_is_refused(tmp_path: Path):
    _write(tmp_path, "gbfs", {"en": {"no_feeds": []}})
    with pytest.raises(GbfsFeedError, match="no feed list"):
        read_gbfs(tmp_path)
    (tmp_path / "gbfs.json").write_text(json.dumps({"ttl": 60}))
    with pytest.raises(GbfsFeedError, match="no 'data' object"):
        read_gbfs(tmp_path)


def test_a_missing_folder_or_listed_file_is_named(tmp_path: Path):
    with pytest.raises(GbfsFeedError, match="no such file"):
        read_gbfs(tmp_path / "nowhere")
    _write(tmp_path, "gbfs", {"en": {"feeds": [{"name": "station_status", "url": "station_status.json"}]}})
    with pytest.raises(GbfsFeedError, match=r"station_status\.json: no such file"):
        read_gbfs(tmp_path)


def test_bad_stations_are_left_out_and_counted_never_raised(tmp_path: Path):
    _write(tmp_path, "gbfs", {"en": {"feeds": [{"name": "station_information",
                                                "url": "station_information.json"}]}}, version="2.3")
    _write(tmp_path, "station_information", {"stations": [
        {"station_id": "ok", "name": "Fine", "lat": 60.1, "lon": 24.9, "capacity": 10},
        {"station_id": "far", "name": "Off the map", "lat": 999, "lon": 24.9},
        {"station_id": "neg", "name": "Negative", "lat": 60.1, "lon": 24.9, "capacity": -3},
        {"station_id": "txt", "name": "Text", "lat": "sixty", "lon": 24.9},
        {"station_id": "nan", "name": "NaN", "lat": float("nan"), "lon": 24.9},
        "not an object"]}, version="2.3")
    feed = read_gbfs(tmp_path)
    assert [s.station_id for s in feed.stations] == ["ok"]
    assert feed.report.rejected == {"invalid_coordinates": 1, "negative_count": 1, "invalid_value": 2,
                                    "not_an_object": 1}
    assert feed.report.examples["invalid_coordinates"] == ["far"]


# ---------------------------------------------------------------------------------------------
# Over real HTTP
# ---------------------------------------------------------------------------------------------
class _Server:
    """http.server in a thread: the Helsinki folder, or 500 for every path (or for one)."""

    def __init__(self, folder: Path, fail: str | None = None):
        outer = self
        self.requests: list[str] = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                if fail is not None and (fail == "*" or self.path.endswith(fail)):
                    self.send_error(500)
                    return
                super().do_GET()

        handler = functools.partial(Handler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def serve():
    servers = []

    def start(folder: Path, fail: str | None = None) -> _Server:
        servers.append(_Server(folder, fail))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_helsinki_over_http_reads_as_from_the_folder(serve):
    server = serve(GBFS / "helsinki")
    feed = read_gbfs(f"{server.url}/gbfs.json", timeout_s=5)
    local = read_gbfs(GBFS / "helsinki")
    assert feed.stations == local.stations and feed.station_status == local.station_status
    assert feed.report.rejected == local.report.rejected
    # gbfs.json lists file:src/test/... URLs: each is asked for by name next to gbfs.json.
    assert sorted(server.requests) == ["/gbfs.json", "/station_information.json", "/station_status.json",
                                       "/system_information.json"]
    assert feed.files["station_status"].url == f"{server.url}/station_status.json"
    assert feed.status("002").num_bikes_available == 6


def test_a_server_answering_500_is_named(serve):
    server = serve(GBFS / "helsinki", fail="*")
    with pytest.raises(GbfsFeedError, match=r"127\.0\.0\.1:\d+/gbfs\.json: HTTP 500"):
        read_gbfs(f"{server.url}/gbfs.json", timeout_s=5)
    partial = serve(GBFS / "helsinki", fail="station_status.json")
    with pytest.raises(GbfsFeedError, match=r"station_status\.json: HTTP 500"):
        read_gbfs(f"{partial.url}/gbfs.json", timeout_s=5)


def test_a_body_over_the_cap_is_refused(serve):
    server = serve(GBFS / "helsinki")
    with pytest.raises(GbfsFeedError, match="larger than 100 bytes"):
        read_gbfs(f"{server.url}/gbfs.json", max_bytes=100, timeout_s=5)
