"""The two halves of bike share meet: a GBFS feed polled by the server (api.feeds) feeds the
bike-share stations of a bundle built with ``--gbfs`` (api.bikeshare) and the BIKE_SHARE plans.

The bundle is the Helsinki stations on a generated street grid (tests/bikeshare_city.py); the feed
is the same Helsinki system served by a real local HTTP server (tests/feed_server.py) whose
readings are stamped "now", so the readings land in SQLite, the poller's snapshot folder gives
the live flags, and the forecast near now is the live reading.
"""
from __future__ import annotations

import datetime as dt
import time
import zoneinfo

import pytest

from loaders.gbfs import read_gbfs
from tests.bikeshare_city import build_city, facility
from tests.feed_server import AVAILABLE, FeedServer

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="../shared/data (montpellier, gbfs) is missing")


@pytest.fixture(scope="module")
def city_bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bikeshare-feeds")
    build_city(folder)
    return folder / "bundle"


@pytest.fixture
def polled(city_bundle, tmp_path):
    from api.app import create_app

    server = FeedServer(gbfs_ttl_s=1)
    app = create_app({"bundle_dir": city_bundle, "observations_db": tmp_path / "obs.sqlite",
                      "realtime_state_dir": tmp_path / "state", "load_in_background": False,
                      "feeds": (f"gbfs={server.url}/gbfs/helsinki/gbfs.json",),
                      "feeds_every_s": 0.3, "feeds_timeout_s": 2.0, "feeds_poll_in_app": True})
    yield app, server
    app.extensions["trajet"].close()
    server.close()


def _wait_accepted(client, timeout_s=30.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        feed = client.get("/api/v1/info").get_json()["live_feeds"][0]
        if feed["accepted"] > 0:
            return feed
        assert time.monotonic() < deadline, feed
        time.sleep(0.1)


def test_polled_gbfs_counts_reach_the_stations_and_the_plans(polled):
    app, server = polled
    client = app.test_client()
    feed = _wait_accepted(client)
    served = read_gbfs(server.url + "/gbfs/helsinki/gbfs.json")
    assert feed["accepted"] == len(served.station_status)
    tz = zoneinfo.ZoneInfo(served.system.timezone)
    soon = (dt.datetime.now(tz) + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    deadline = time.monotonic() + 20
    while True:     # the snapshot folder is read by the worker once the poller has written it
        body = client.get(f"/api/v1/bikeshare/stations?at={soon}").get_json()
        stations = {f["id"]: f["properties"] for f in body["features"]}
        if all(s.get("bikes_now") is not None for s in stations.values() if s["kind"] == "BIKE_SHARE"):
            break
        assert time.monotonic() < deadline, stations
        time.sleep(0.2)
    for status in served.station_status:
        s = stations[facility(status.station_id)]
        assert (s["bikes_now"], s["docks_now"]) == (status.num_bikes_available, status.num_docks_available)
        assert s["renting"] is status.is_renting
        if not status.is_renting:
            assert s["p_bike"] == 0
    live = [s for s in stations.values() if s["kind"] == "BIKE_SHARE" and s["renting"]]
    assert live and all(s["bikes_basis"] == "live" for s in live)
