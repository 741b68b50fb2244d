"""Live occupancy feeds polled by the app (api/feeds.py, ``feeds_poll_in_app``) from a real local
HTTP server (tests/feed_server.py): Montpellier's NGSI car parks and docking stations, an
OpenDataSoft rendering, Helsinki's GBFS system. Readings land in SQLite through the POST's checks,
survive a restart and move the forecast; every misbehaviour is counted by reason in /api/v1/info
and leaves the stored state and the server answering."""
from __future__ import annotations

import sqlite3
import time

import pytest

from api.feeds import gbfs_snapshot_dirs
from loaders.gbfs import read_gbfs
from tests.feed_server import AVAILABLE, ODS_MAPPING, FeedServer, feeds_bundle
from tests.loaders.test_gbfs import v3_system  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="../shared/data (montpellier, gbfs) is missing")
EVERY_S = 0.3


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return feeds_bundle(tmp_path_factory.mktemp("bundles") / "feeds-town")


@pytest.fixture
def server():
    s = FeedServer(gbfs_ttl_s=1)
    yield s
    s.close()


@pytest.fixture
def make(bundle, tmp_path):
    apps = []

    def factory(feeds, **overrides):
        from api.app import create_app

        app = create_app({"bundle_dir": bundle, "observations_db": tmp_path / "obs.sqlite",
                          "load_in_background": False, "feeds": tuple(feeds),
                          "feeds_every_s": EVERY_S, "feeds_timeout_s": 1.0,
                          "feeds_poll_in_app": True, **overrides})
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["trajet"].close()


def _wait(client, check, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while True:
        feeds = client.get("/api/v1/info").get_json()["live_feeds"]
        if check(feeds):
            return feeds
        assert time.monotonic() < deadline, feeds
        time.sleep(0.1)


def _rows(db, facility_prefix=""):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM observations WHERE facility_id LIKE ?",
                            (facility_prefix + "%",)).fetchone()[0]


def _feature(client, facility_id, at=None):
    doc = client.get("/api/v1/parking" + (f"?at={at}" if at else "")).get_json()
    return next(f["properties"] for f in doc["features"] if f["id"] == facility_id)


def test_ngsi_readings_land_in_sqlite_move_the_forecast_and_survive_a_restart(make, server, tmp_path):
    server.mode["/ngsi/parking"] = "500"
    app = make([f"ngsi={server.url}/ngsi/parking", f"ngsi={server.url}/ngsi/bikes"])
    client = app.test_client()
    before = _feature(client, "urn:ngsi-ld:parking:001")["forecast"]    # the profile alone
    assert before["basis"] == "profile" and 90 <= before["free_spaces"] <= 210
    _wait(client, lambda f: f[0]["last_error"] is not None)   # the first poll met the 500
    server.mode.pop("/ngsi/parking")
    feeds = _wait(client, lambda f: f[0]["accepted"] == 24 and f[1]["accepted"] == 57, timeout_s=30)
    assert _rows(tmp_path / "obs.sqlite") == 24 + 57
    assert feeds[0]["kind"] == "ngsi" and feeds[0]["consecutive_errors"] == 0
    assert "HTTP 500" in feeds[0]["last_error"]       # the last error stays on record
    assert feeds[0]["age_s"] == pytest.approx(30, abs=5)
    antigone = _feature(client, "urn:ngsi-ld:parking:001")
    assert antigone["forecast"]["basis"] == "live" and antigone["last_observation"]["free_spaces"] == 157
    assert abs(antigone["free_spaces"] - 157) < abs(before["free_spaces"] - 157)   # moved to the reading
    station = _feature(client, "urn:ngsi-ld:station:001")
    assert station["last_observation"]["free_spaces"] == 9 and station["last_observation"]["capacity"] == 12
    # unchanged: polled again, 304 (ETag) or duplicates, nothing stored twice
    _wait(client, lambda f: server.conditional.get("/ngsi/parking", 0) >= 2)
    assert _rows(tmp_path / "obs.sqlite") == 81
    # the city updates: Antigone fills up; the forecast follows
    server.edits["/ngsi/parking"] = lambda doc: [
        {**e, "availableSpotNumber": {**e["availableSpotNumber"], "value": 3}}
        if e["id"] == "urn:ngsi-ld:parking:001" else e for e in doc]
    server.observed_at = time.time() - 5
    _wait(client, lambda f: f[0]["accepted"] == 48 and f[1]["accepted"] == 114)
    after = _feature(client, "urn:ngsi-ld:parking:001")
    assert after["free_spaces"] < antigone["free_spaces"] and after["p_free"] <= antigone["p_free"]
    assert after["last_observation"]["free_spaces"] == 3
    app.extensions["trajet"].close()
    # a new app on the same database, without feeds: everything is there
    restarted = make([])
    info = restarted.test_client().get("/api/v1/info").get_json()
    assert info["live_observations"] == (24 + 57) * 2 and info["live_feeds"] is None
    again = _feature(restarted.test_client(), "urn:ngsi-ld:parking:001")
    assert again["last_observation"]["free_spaces"] == 3 and again["forecast"] == after["forecast"]


def test_ods_records_through_the_mapping(make, server, tmp_path):
    client = make([f"ods={server.url}/ods/parking?apikey=SECRET#{ODS_MAPPING}"]).test_client()
    feeds = _wait(client, lambda f: f[0]["accepted"] == 24)
    assert "SECRET" not in feeds[0]["url"] and feeds[0]["url"].endswith("/ods/parking")
    assert feeds[0]["mapping"] == ODS_MAPPING
    assert _rows(tmp_path / "obs.sqlite", "urn:ngsi-ld:parking:") == 24


def test_readings_that_lie_are_refused_by_reason_and_never_stored(make, server, tmp_path):
    def lie(doc):
        out = []
        for e in doc:
            e = dict(e)
            if e["id"] == "urn:ngsi-ld:parking:001":
                e["availableSpotNumber"] = {**e["availableSpotNumber"], "value": -5}
            elif e["id"] == "urn:ngsi-ld:parking:003":
                e["availableSpotNumber"] = {**e["availableSpotNumber"], "value": 100_000}
            elif e["id"] == "urn:ngsi-ld:parking:004":
                e["availableSpotNumber"] = {"type": "Number", "value": 5, "metadata": {
                    "timestamp": {"type": "DateTime", "value": "2099-01-01T00:00:00.000Z"}}}
            elif e["id"] == "urn:ngsi-ld:parking:005":
                e["availableSpotNumber"] = {**e["availableSpotNumber"], "value": "NaN"}
            out.append(e)
        out.append({**out[-1], "id": "urn:ngsi-ld:parking:not-in-the-bundle"})
        out.append(dict(out[-2]))   # the last entity again: a duplicate id
        return out
    server.edits["/ngsi/parking"] = lie
    client = make([f"ngsi={server.url}/ngsi/parking"]).test_client()
    feed = _wait(client, lambda f: f[0]["accepted"] == 20)[0]
    rejected = {code: v["count"] for code, v in feed["rejected"].items()}
    assert rejected == {"negative_value": 1, "exceeds_capacity": 1, "future_timestamp": 1,
                        "invalid_value": 1, "unknown_facility": 1, "duplicate_entity_id": 1}
    assert feed["rejected"]["unknown_facility"]["examples"] == ["urn:ngsi-ld:parking:not-in-the-bundle"]
    with sqlite3.connect(tmp_path / "obs.sqlite") as conn:
        rows = conn.execute("SELECT facility_id, free_spaces FROM observations").fetchall()
    assert len(rows) == 20 and all(0 <= free for _, free in rows)
    assert not {"urn:ngsi-ld:parking:001", "urn:ngsi-ld:parking:not-in-the-bundle"} & {f for f, _ in rows}


def test_a_feed_that_stops_updating_turns_stale_and_one_that_resumes_is_fresh(make, server):
    server.observed_at = time.time()
    client = make([f"ngsi={server.url}/ngsi/parking"], feeds_stale_factor=10).test_client()
    feed = _wait(client, lambda f: f[0]["accepted"] == 24)[0]
    assert feed["stale"] is False and feed["stale_after_s"] == pytest.approx(10 * EVERY_S)
    feed = _wait(client, lambda f: f[0]["stale"])[0]          # same instants, poll after poll
    assert feed["last_error"] is None and feed["duplicates"] + feed["accepted"] >= 24
    server.observed_at = time.time() + 1
    _wait(client, lambda f: not f[0]["stale"] and f[0]["accepted"] == 48)


@pytest.mark.parametrize("mode, words", [("html", "HTML"), ("huge", "cap"), ("500", "HTTP 500"),
                                         ("slow", "cannot be fetched")])
def test_a_failing_feed_is_reported_keeps_what_was_stored_and_recovers(make, server, tmp_path, mode, words):
    server.slow_s = 3.0
    app = make([f"ngsi={server.url}/ngsi/parking", f"ngsi={server.url}/ngsi/bikes"],
               feeds_max_bytes=5_000_000)
    client = app.test_client()
    _wait(client, lambda f: f[0]["accepted"] == 24)
    server.mode["/ngsi/parking"] = mode
    server.observed_at += 60
    feeds = _wait(client, lambda f: words in (f[0]["last_error"] or "") and f[0]["consecutive_errors"] >= 2)
    assert feeds[0]["accepted"] == 24 and _rows(tmp_path / "obs.sqlite", "urn:ngsi-ld:parking") == 24
    assert feeds[1]["last_error"] is None                   # the other feed goes on
    assert client.get("/api/v1/parking").status_code == 200
    if mode == "500":   # back-off: the waits double, so far fewer polls than every 0.3 s
        hits = server.hits["/ngsi/parking"]
        time.sleep(2.0)
        assert server.hits["/ngsi/parking"] - hits <= 3
    server.mode.pop("/ngsi/parking")
    feeds = _wait(client, lambda f: f[0]["accepted"] == 48, timeout_s=30)
    assert feeds[0]["consecutive_errors"] == 0 and feeds[0]["polls_failed"] >= 2


def test_gbfs_stations_are_stored_snapshotted_and_polled_within_their_ttl(make, server, tmp_path):
    app = make([f"gbfs={server.url}/gbfs/helsinki/gbfs.json"])
    client = app.test_client()
    feed = _wait(client, lambda f: f[0]["accepted"] > 0)[0]
    system = read_gbfs(server.url + "/gbfs/helsinki/gbfs.json")
    n_good = len(system.station_status)
    assert feed["accepted"] == n_good and feed["system_id"] == system.system.system_id
    assert feed["ttl_s"] == 1 and feed["every_s"] == 1.0             # max(--feed-every 0.3, ttl 1)
    rejected = {code: v["count"] for code, v in feed["rejected"].items()}
    assert rejected == {code: n for code, n in system.report.rejected.items()}
    assert _rows(tmp_path / "obs.sqlite", "gbfs:") == n_good
    # the snapshot folder: read like the bundle reads a system, files local
    state = app.extensions["trajet"].config.realtime_state_path
    (folder,) = gbfs_snapshot_dirs(state)
    assert folder.name == system.system.system_id
    local = read_gbfs(folder)
    assert len(local.station_status) == n_good and all(not f.url.startswith("http")
                                                       for f in local.files.values())
    # ttl respected: station_status asked at most once a second although --feed-every is 0.3 s
    hits, t0 = server.hits["/gbfs/helsinki/station_status.json"], time.monotonic()
    time.sleep(3.0)
    asked = server.hits["/gbfs/helsinki/station_status.json"] - hits
    assert 1 <= asked <= (time.monotonic() - t0) / 1.0 + 1
    mtime = folder.stat().st_mtime_ns
    server.observed_at += 60
    _wait(client, lambda f: f[0]["accepted"] == 2 * n_good)
    assert folder.stat().st_mtime_ns != mtime                     # a new snapshot, same path


def test_gbfs_duplicates_unknown_stations_negative_counts_and_future_reports(make, server, tmp_path):
    def lie(doc):
        stations = doc["data"]["stations"]
        stations[0]["num_bikes_available"] = -3                       # negative
        stations[1]["last_reported"] = int(time.time()) + 3600         # an hour ahead
        stations.append({**stations[2], "num_docks_available": 1})    # the same id again
        stations.append({**stations[2], "station_id": "999"})         # not in station_information
        return doc
    server.edits["/gbfs/helsinki/station_status.json"] = lie
    client = make([f"gbfs={server.url}/gbfs/helsinki/gbfs.json"]).test_client()
    feed = _wait(client, lambda f: f[0]["accepted"] > 0)[0]
    rejected = {code: v["count"] for code, v in feed["rejected"].items()}
    assert rejected["negative_count"] == 1 and rejected["future_timestamp"] == 1
    assert rejected["duplicate_station_id"] == 1 and rejected["status_for_unknown_station"] >= 1
    with sqlite3.connect(tmp_path / "obs.sqlite") as conn:
        stored = conn.execute("SELECT COUNT(*), MAX(time_utc_s) FROM observations").fetchone()
    assert stored[0] == feed["accepted"] and stored[1] <= time.time() + 300


def test_html_for_gbfs_keeps_the_last_snapshot(make, server):
    app = make([f"gbfs={server.url}/gbfs/helsinki/gbfs.json"])
    client = app.test_client()
    _wait(client, lambda f: f[0]["accepted"] > 0)
    (folder,) = gbfs_snapshot_dirs(app.extensions["trajet"].config.realtime_state_path)
    server.mode["/gbfs/helsinki/station_status.json"] = "html"
    server.observed_at += 60
    feed = _wait(client, lambda f: "HTML" in (f[0]["last_error"] or ""))[0]
    assert feed["consecutive_errors"] >= 1 and read_gbfs(folder).station_status


def test_bad_feed_options_are_named(make, bundle, tmp_path):
    from api.app import create_app
    from api.config import ConfigError

    for feeds, words in ((["rss=http://x"], "KIND"), (["ods=http://x/records"], "mapping"),
                         (["ngsi=http://x#free=a"], "only ods"), (["ods=http://x#free=a"], "facility")):
        with pytest.raises(ConfigError, match=words):
            create_app({"bundle_dir": bundle, "feeds": tuple(feeds)})


def test_a_v3_snapshot_is_published_atomically_and_listed(tmp_path, v3_system):  # noqa: F811
    from api.feeds import _publish_snapshot, _write_snapshot

    bodies = {p.stem: p.read_bytes() for p in v3_system.glob("*.json")}
    state = tmp_path / "state"
    versions = []
    for k in range(3):
        folder = state / "gbfs-versions" / f"feed-0.{k}.1"
        folder.mkdir(parents=True)
        _write_snapshot(folder, bodies)
        _publish_snapshot(state, "demo", folder)
        versions.append(folder)
        (listed,) = gbfs_snapshot_dirs(state)
        assert listed == state / "gbfs" / "demo" and listed.resolve() == folder.resolve()
        feed = read_gbfs(listed)
        assert feed.system.system_id == "demo" and feed.vehicles
    assert [v.exists() for v in versions] == [False, True, True]   # the two newest are kept
    assert gbfs_snapshot_dirs(tmp_path / "nothing") == []


def test_serve_names_a_bad_feed_option(bundle):
    from click.testing import CliRunner

    from api.cli import main

    cases = ((["--feed", "csv=http://x"], "KIND"),
             (["--feed", "ngsi=http://x", "--feed-every", "0s"], "--feed-every"))
    for args, words in cases:
        result = CliRunner().invoke(main, ["serve", str(bundle), *args])
        assert result.exit_code == 2 and words in result.output, result.output
