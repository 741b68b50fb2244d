"""A real local HTTP server of live occupancy feeds, and a bundle whose facilities they name.

:class:`FeedServer` (``http.server`` in a thread) serves Montpellier's NGSI car parks
(``/ngsi/parking``) and Vélomagg docking stations (``/ngsi/bikes``), Helsinki's GBFS system
(``/gbfs/helsinki/gbfs.json`` and its files, the listed URLs rewritten to this server) and an
OpenDataSoft v2.1 rendering of the car parks (``/ods/parking``). Each document is rebuilt on every
request from the fixture file with the instants of :attr:`FeedServer.observed_at` (a test moves it
to make the feed "update", or leaves it to make the feed stop updating) and the edits in
:attr:`FeedServer.edits` (path -> function changing the document). :attr:`FeedServer.mode` (path ->
mode) makes one path misbehave: ``html`` (a maintenance page), ``huge`` (50 MB without
Content-Length), ``slow`` (answers after :attr:`slow_s`), ``500``, ``not_modified_only``. Every
answer carries an ETag of its body and honours ``If-None-Match`` (304); :attr:`hits` counts
requests and :attr:`conditional` the 304s, per path; :attr:`served` keeps every JSON document
sent (or revalidated) with its path and instant. :attr:`variant` moves the counts (car parks'
free spaces, stations' bikes) so that an update changes values as well as instants.

:func:`feeds_bundle` saves the test town of ``tests/api/conftest.py`` with these facilities
instead of its car parks: the 24 car parks and 57 docking stations of the NGSI files (ids and
capacities from them) and the Helsinki GBFS stations (``gbfs:<system_id>/<station_id>``, BIKE_SHARE),
placed on the town's street nodes (their own coordinates are far from the town's).
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import http.server
import json
import threading
import time
from pathlib import Path

import numpy as np

from tests.conftest import SHARED_DATA

PARKING = SHARED_DATA / "montpellier" / "parking"
HELSINKI = SHARED_DATA / "gbfs" / "helsinki"
AVAILABLE = (PARKING / "data_parking.json").is_file() and (HELSINKI / "gbfs.json").is_file()
GBFS_FILES = ("system_information", "station_information", "station_status")


def iso_utc(t_utc_s: float) -> str:
    return dt.datetime.fromtimestamp(int(t_utc_s), dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _restamp_ngsi(entities: list, when: str) -> list:
    for entity in entities:
        for attr in entity.values():
            stamp = attr.get("metadata", {}).get("timestamp") if isinstance(attr, dict) else None
            if isinstance(stamp, dict):
                stamp["value"] = when
    return entities


def ngsi_parking(t_utc_s: float, variant: int = 0) -> list:
    """The car parks at ``t_utc_s``; ``variant`` k moves each one's free spaces by 7k (mod capacity)."""
    doc = _restamp_ngsi(json.loads((PARKING / "data_parking.json").read_text()), iso_utc(t_utc_s))
    for e in doc:
        total = e["totalSpotNumber"]["value"]
        e["availableSpotNumber"]["value"] = (e["availableSpotNumber"]["value"] + 7 * variant) % (total + 1)
    return doc


def ngsi_bikes(t_utc_s: float, variant: int = 0) -> list:
    """The docking stations at ``t_utc_s``; ``variant`` k moves k bikes (mod capacity)."""
    doc = _restamp_ngsi(json.loads((PARKING / "data_bikestation.json").read_text()), iso_utc(t_utc_s))
    for e in doc:
        total = e["totalSlotNumber"]["value"]
        bikes = (e["availableBikeNumber"]["value"] + variant) % (total + 1)
        e["availableBikeNumber"]["value"], e["freeSlotNumber"]["value"] = bikes, total - bikes
    return doc


def ods_parking(t_utc_s: float, variant: int = 0) -> dict:
    """The NGSI car parks as an OpenDataSoft v2.1 answer (fields id, libres, total, maj)."""
    results = [{"id": e["id"], "nom": e["name"]["value"], "libres": e["availableSpotNumber"]["value"],
                "total": e["totalSpotNumber"]["value"], "maj": iso_utc(t_utc_s)}
               for e in ngsi_parking(t_utc_s, variant)]
    return {"total_count": len(results), "results": results}


ODS_MAPPING = "facility=id,free=libres,capacity=total,time=maj"


def gbfs_file(name: str, t_utc_s: float, base_url: str, ttl_s: int, variant: int = 0) -> dict:
    doc = json.loads((HELSINKI / f"{name}.json").read_text())
    doc["last_updated"], doc["ttl"] = int(t_utc_s), ttl_s
    if name == "gbfs":
        for feeds in doc["data"].values():
            for entry in feeds["feeds"]:
                entry["url"] = f"{base_url}/gbfs/helsinki/{entry['name']}.json"
    if name == "station_status":
        for station in doc["data"]["stations"]:
            station["last_reported"] = int(t_utc_s)
            bikes, docks = station.get("num_bikes_available"), station.get("num_docks_available")
            if isinstance(bikes, int) and isinstance(docks, int) and bikes >= 0 and docks >= 0:
                total = bikes + docks
                station["num_bikes_available"] = (bikes + variant) % (total + 1)
                station["num_docks_available"] = total - station["num_bikes_available"]
    return doc


def helsinki_station_ids() -> tuple[str, list[tuple[str, int]]]:
    """(system_id, [(station_id, capacity)]) of the stations loaders.gbfs keeps."""
    from loaders.gbfs import read_gbfs

    feed = read_gbfs(HELSINKI)
    return feed.system.system_id, [(s.station_id, s.capacity or 30) for s in feed.stations]


class FeedServer:
    """The feeds over real HTTP (module docstring)."""

    def __init__(self, *, gbfs_ttl_s: int = 60):
        self.observed_at = time.time() - 30
        self.variant = 0
        self.served: list[tuple[str, bytes, float]] = []   # (path, body, when) of 200 documents
        self.gbfs_ttl_s = gbfs_ttl_s
        self.edits: dict = {}
        self.mode: dict[str, str] = {}
        self.slow_s = 20.0
        self.hits: dict[str, int] = {}
        self.conditional: dict[str, int] = {}
        self._lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer._answer(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def document(self, path: str):
        t, k = self.observed_at, self.variant
        if path == "/ngsi/parking":
            doc = ngsi_parking(t, k)
        elif path == "/ngsi/bikes":
            doc = ngsi_bikes(t, k)
        elif path == "/ods/parking":
            doc = ods_parking(t, k)
        elif path.startswith("/gbfs/helsinki/"):
            doc = gbfs_file(Path(path).stem, t, self.url, self.gbfs_ttl_s, k)
        else:
            return None
        edit = self.edits.get(path)
        return edit(copy.deepcopy(doc)) if edit else doc

    def _answer(self, handler) -> None:
        path = handler.path.split("?")[0]
        with self._lock:
            self.hits[path] = self.hits.get(path, 0) + 1
        mode = self.mode.get(path, "good")
        try:
            if mode == "500":
                handler.send_error(500)
            elif mode == "slow":
                time.sleep(self.slow_s)
                self._send(handler, path, b"[]")
            elif mode == "huge":
                handler.send_response(200)
                handler.end_headers()
                for _ in range(50):
                    handler.wfile.write(b" " * (1 << 20))
            elif mode == "html":
                self._send(handler, path, b"<!DOCTYPE html><html><body>Maintenance</body></html>")
            else:
                doc = self.document(path)
                if doc is None:
                    handler.send_error(404)
                else:
                    body = json.dumps(doc).encode()
                    with self._lock:
                        self.served.append((path, body, time.time()))
                    self._send(handler, path, body)
        except OSError:   # the client gave up (timeout, size cap): nothing to answer
            pass

    def _send(self, handler, path: str, body: bytes) -> None:
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if handler.headers.get("If-None-Match") == etag:
            with self._lock:
                self.conditional[path] = self.conditional.get(path, 0) + 1
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("ETag", etag)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _facilities() -> tuple[list[str], list[str], list[int], list[int]]:
    """(ids, names, kinds, capacities) of the NGSI car parks and stations and Helsinki's stations."""
    from engine.model import ParkingKind
    from loaders.gbfs import station_facility_id

    ids, names, kinds, caps = [], [], [], []
    for e in json.loads((PARKING / "data_parking.json").read_text()):
        ids.append(e["id"])
        names.append(e["name"]["value"])
        kinds.append(int(ParkingKind.CAR_PARK))
        caps.append(int(e["totalSpotNumber"]["value"]))
    for e in json.loads((PARKING / "data_bikestation.json").read_text()):
        ids.append(e["id"])
        names.append(e["address"]["value"].get("streetAddress", e["id"]))
        kinds.append(int(ParkingKind.BIKE_SHARE))
        caps.append(int(e["totalSlotNumber"]["value"]))
    system_id, stations = helsinki_station_ids()
    for station_id, capacity in stations:
        ids.append(station_facility_id(system_id, station_id))
        names.append(station_id)
        kinds.append(int(ParkingKind.BIKE_SHARE))
        caps.append(int(capacity))
    return ids, names, kinds, caps


def feeds_bundle(out: Path) -> Path:
    """The test town with the feeds' facilities (module docstring), saved at ``out`` (once)."""
    from engine.model import Parking
    from engine.parking import fit_occupancy_profile
    from loaders.bundle import save_bundle
    from tests.api.conftest import make_network

    if (out / "manifest.json").exists():
        return out
    network = make_network()
    ids, names, kinds, caps = _facilities()
    n = len(ids)
    street = network.street
    nodes = np.arange(n, dtype=np.int32) % int(np.asarray(street.node_lon).shape[0])
    parking = Parking(facility_ids=np.array(ids), facility_name=np.array(names),
                      kind=np.array(kinds, dtype=np.int8), lon=np.asarray(street.node_lon)[nodes],
                      lat=np.asarray(street.node_lat)[nodes], capacity=np.array(caps, dtype=np.int32),
                      car_node_idx=nodes, walk_node_idx=nodes, source=np.array(["test"] * n))
    history = _history(np.array(caps, dtype=np.int32))
    profile = fit_occupancy_profile(history, parking.capacity, network.timezone)
    parking = dataclasses.replace(parking, history=history, profile=profile)
    save_bundle(dataclasses.replace(network, parking=parking), out)
    return out


def _history(capacity: np.ndarray, days: int = 28):
    """Hourly history of the first car park (Antigone) over the ``days`` before today: 100 free
    on weekdays 08:00-17:59, 200 otherwise (a profile for the forecaster to start from)."""
    from engine.model import OccupancyHistory

    end = int(time.time() // 3600 * 3600) - 86_400
    t = np.arange(end - days * 86_400, end, 3600, dtype=np.int64)
    local = [dt.datetime.fromtimestamp(int(x), dt.UTC) for x in t]
    free = np.array([100 if (d.weekday() < 5 and 8 <= d.hour < 18) else 200 for d in local],
                    dtype=np.int32)
    return OccupancyHistory(facility_idx=np.zeros(t.size, dtype=np.int32), time_utc_s=t,
                            free_spaces=free, capacity=np.full(t.size, capacity[0], dtype=np.int32))
