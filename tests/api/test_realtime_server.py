"""The server with GTFS-Realtime feeds polled from a real local HTTP server (http.server in a
thread) serving BART's trip updates and alert, then answering 500, timing out, sending 50 MB and
sending garbage: plans keep the last good overlay, /api/v1/info says what happened, nothing
answers 500. Also: ETag revalidation, a stale feed ignored and reported, /api/v1/vehicles."""
from __future__ import annotations

import http.server
import threading
import time

import numpy as np
import pytest

from tests.bart_rt import AVAILABLE, RT, bart_rt_bundle

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="../shared/data/gtfs_rt is missing")


class FeedServer:
    """/tu and /alerts: BART's feeds while ``mode`` is "good"; else an error of that kind."""

    def __init__(self):
        self.mode = "good"
        self.conditional = 0
        bodies = {"/tu": (RT / "bart-trip-updates.pb").read_bytes(),
                  "/alerts": (RT / "bart-alerts.pb").read_bytes()}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path
                if outer.mode == "good" or path == "/alerts":
                    if self.headers.get("If-None-Match") == '"v1"':
                        outer.conditional += 1
                        self.send_response(304)
                        self.end_headers()
                        return
                    body = bodies[path]
                    self.send_response(200)
                    self.send_header("ETag", '"v1"')
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif outer.mode == "500":
                    self.send_error(500)
                elif outer.mode == "slow":
                    time.sleep(3)
                    self.send_error(503)
                elif outer.mode == "huge":   # 50 MB, no Content-Length: the cap must cut it
                    self.send_response(200)
                    self.end_headers()
                    try:
                        for _ in range(50):
                            self.wfile.write(b"\0" * (1 << 20))
                    except OSError:
                        pass
                else:                         # garbage: not a FeedMessage
                    body = b"<html>maintenance</html>"
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture(scope="module")
def bundle(bundles_dir):
    return bart_rt_bundle(bundles_dir)


@pytest.fixture
def feeds():
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture
def make(bundle, tmp_path):
    apps = []

    def factory(urls, **overrides):
        from api.app import create_app

        app = create_app({"bundle_dir": bundle, "observations_db": tmp_path / "obs.sqlite",
                          "load_in_background": False, "realtime_feeds": tuple(urls),
                          "realtime_every_s": 0.2, "realtime_timeout_s": 1.0,
                          "realtime_max_age_s": 0, "realtime_poll_in_app": True, **overrides})
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["trajet"].close()


def _wait(client, check, timeout_s=25.0):
    deadline = time.monotonic() + timeout_s
    while True:
        info = client.get("/api/v1/info").get_json()["realtime"]
        if check(info):
            return info
        assert time.monotonic() < deadline, info
        time.sleep(0.1)


def _plan(client, app):
    tt = app.extensions["trajet"].loaded.network.timetable

    def ll(stop_id):
        i = int(np.flatnonzero(np.asarray(tt.stop_ids) == stop_id)[0])
        return f"{tt.stop_lat[i]:.6f},{tt.stop_lon[i]:.6f}"

    r = client.get(f"/api/v1/plan?from={ll('SFIA')}&to={ll('DUBL')}&datetime=2019-08-07T10:45"
                   "&modes=TRANSIT&lang=fr")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _realtime_legs(doc):
    return [leg for it in doc["itineraries"] for leg in it["legs"] if leg.get("realtime")]


def test_the_server_keeps_the_last_good_overlay_through_every_failure(make, feeds):
    app = make([feeds.url + "/tu", feeds.url + "/alerts"])
    client = app.test_client()
    info = _wait(client, lambda i: (i["applied"] or {}).get("applied") == 64)
    tu = info["feeds"][0]
    assert tu["rejected"]["E003"]["count"] == 18 and tu["stale"] is False
    assert tu["last_error"] is None and tu["last_success_utc_s"] is not None
    assert info["alerts"] == 1 and info["delay_model"]["1"]["used"] is True
    doc = _plan(client, app)
    assert _realtime_legs(doc) and doc["itineraries"][0]["reliability"]
    ride = next(leg for leg in doc["itineraries"][0]["legs"] if "trip_id" in leg)
    assert ride["alerts"][0]["effect"] == "SIGNIFICANT_DELAYS"
    _wait(client, lambda i: feeds.conditional > 0, 10)   # revalidated with If-None-Match: 304
    for mode, words in (("500", "HTTP 500"), ("slow", "cannot be fetched"), ("huge", "cap"),
                        ("garbage", "not a GTFS-Realtime FeedMessage")):
        feeds.mode = mode
        info = _wait(client, lambda i, w=words: w in (i["feeds"][0]["last_error"] or ""))
        assert info["feeds"][0]["loaded"] is True and info["applied"]["applied"] == 64
        assert info["feeds"][1]["last_error"] is None              # the alerts feed still fine
        assert _realtime_legs(_plan(client, app))                   # the last good overlay
    assert info["feeds"][0]["consecutive_errors"] >= 4
    feeds.mode = "good"
    info = _wait(client, lambda i: i["feeds"][0]["consecutive_errors"] == 0)


def test_a_stale_feed_is_ignored_and_reported(make, feeds):
    app = make([feeds.url + "/tu"], realtime_max_age_s=300)
    client = app.test_client()
    info = _wait(client, lambda i: i["feeds"][0]["loaded"])
    assert info["feeds"][0]["stale"] is True and info["feeds"][0]["age_s"] > 300
    assert info["applied"]["applied"] == 0
    assert not _realtime_legs(_plan(client, app))


def test_vehicles_endpoint_and_no_feeds(make, feeds, bundle, tmp_path):
    app = make([feeds.url + "/tu"])
    client = app.test_client()
    r = client.get("/api/v1/vehicles?route=01")
    assert r.status_code == 200 and r.get_json() == {"vehicles": [], "count": 0}
    assert client.get("/api/v1/vehicles?bogus=1").status_code in (400, 422)
