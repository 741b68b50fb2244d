"""``trajet serve --feed`` for real (gunicorn, the feeds process beside it) against the local feed
server: readings land in the SQLite file, a feed that answers after 20 s times out while /plan
keeps answering quickly, and a new server process on the same database serves what was stored."""
from __future__ import annotations

import json
import sqlite3
import threading
import time

import numpy as np
import pytest

from tests.api.live_server import LiveServer, get
from tests.feed_server import AVAILABLE, FeedServer, feeds_bundle

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="../shared/data (montpellier, gbfs) is missing")
PLAN = "/api/v1/plan?from=43.7300,7.4200&to=43.7340,7.4262&modes=WALK,TRANSIT&datetime=2026-01-06T09:00"


def _info(port):
    status, body, _ = get(port, "/api/v1/info")
    assert status == 200
    return json.loads(body)


def _wait(port, check, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        feeds = _info(port)["live_feeds"]
        if check(feeds):
            return feeds
        assert time.monotonic() < deadline, feeds
        time.sleep(0.2)


def test_serve_polls_feeds_in_its_own_process_and_plans_go_on_during_a_slow_feed(tmp_path):
    bundle = feeds_bundle(tmp_path / "feeds-town")
    feeds = FeedServer(gbfs_ttl_s=1)
    feeds.slow_s = 20.0
    feeds.mode["/ngsi/bikes"] = "slow"
    db = tmp_path / "obs.sqlite"
    env = {"TRAJET_FEEDS_TIMEOUT_S": "2", "TRAJET_OBSERVATIONS_DB": str(db)}
    server = LiveServer(bundle, tmp_path / "serve.log", workers=2, env=env, extra_args=(
        "--feed", f"ngsi={feeds.url}/ngsi/parking", "--feed", f"ngsi={feeds.url}/ngsi/bikes",
        "--feed", f"gbfs={feeds.url}/gbfs/helsinki/gbfs.json", "--feed-every", "1s"))
    try:
        server.start()
        status = _wait(server.port, lambda f: f[0]["accepted"] == 24 and f[2]["accepted"] > 0
                       and "cannot be fetched" in (f[1]["last_error"] or ""))
        assert status[1]["accepted"] == 0 and status[2]["kind"] == "gbfs"
        with sqlite3.connect(db) as conn:
            stored = conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
        assert stored == 24 + status[2]["accepted"]
        # /plan under load while the bikes feed hangs for 20 s at each poll
        latencies, codes = [], []

        def client():
            for _ in range(15):
                t0 = time.perf_counter()
                codes.append(get(server.port, PLAN, 30.0)[0])
                latencies.append(time.perf_counter() - t0)
        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(codes) == {200}
        assert float(np.percentile(latencies, 95)) < 2.0
        feeds.mode.pop("/ngsi/bikes")
        _wait(server.port, lambda f: f[1]["accepted"] == 57, timeout_s=60)
    finally:
        server.stop()
    # a new server process on the same database, without feeds
    again = LiveServer(bundle, tmp_path / "serve2.log", workers=1, env={"TRAJET_OBSERVATIONS_DB": str(db)})
    try:
        again.start()
        info = _info(again.port)
        assert info["live_feeds"] is None and info["live_observations"] >= 24 + 57
        doc = json.loads(get(again.port, "/api/v1/parking")[1])
        antigone = next(f for f in doc["features"] if f["id"] == "urn:ngsi-ld:parking:001")
        assert antigone["properties"]["last_observation"]["free_spaces"] == 157
    finally:
        again.stop()
        feeds.close()
