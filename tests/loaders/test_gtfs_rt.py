"""Reading GTFS-Realtime feeds (loaders/gtfs_rt.py): the real BART and Caltrain feeds, the
transitland validator's error cases, and a real local HTTP server that misbehaves."""
from __future__ import annotations

import csv
import http.server
import io
import threading
import time
import zipfile
from pathlib import Path

import pytest

from loaders.gtfs_rt import KnownIds, RealtimeFeedError, read_feed
from tests.conftest import SHARED_DATA

RT = SHARED_DATA / "gtfs_rt"
pytestmark = pytest.mark.skipif(not RT.is_dir(), reason="../shared/data/gtfs_rt is missing")


def _ids(zip_path: Path, table: str, column: str) -> frozenset[str]:
    with zipfile.ZipFile(zip_path) as feed, feed.open(table) as handle:
        return frozenset(row[column] for row in csv.DictReader(io.TextIOWrapper(handle, "utf-8-sig")))


@pytest.fixture(scope="module")
def caltrain_ids() -> KnownIds:
    return KnownIds(trip_ids=_ids(RT / "ct.zip", "trips.txt", "trip_id"),
                    stop_ids=_ids(RT / "ct.zip", "stops.txt", "stop_id"),
                    route_ids=_ids(RT / "ct.zip", "routes.txt", "route_id"))


def test_bart_trip_updates_keep_delays_and_absolute_times():
    feed = read_feed(RT / "bart-trip-updates.pb")
    assert feed.timestamp_utc_s == 1565199921  # 2019-08-07 17:45:21 UTC
    # 91 updates: 9 (eBART's Antioch shuttle) give stop_sequence 1 twice: E002, left out.
    assert len(feed.trip_updates) == 82
    assert feed.report.rejected == {"E002": 9}
    first = feed.trip_updates[0]
    assert first.trip_id == "1011112WKDY" and first.relationship == "SCHEDULED"
    daly = first.stop_time_updates[0]
    assert (daly.stop_sequence, daly.stop_id) == (1, "DALY")
    assert (daly.arrival.delay_s, daly.arrival.time_utc_s, daly.arrival.uncertainty_s) == (29, 1565201526, 30)
    assert daly.departure.time_utc_s == 1565201626


def test_bart_alert_is_agency_wide_with_english_text():
    (alert,) = read_feed(RT / "bart-alerts.pb").alerts
    assert (alert.cause, alert.effect) == ("MEDICAL_EMERGENCY", "SIGNIFICANT_DELAYS")
    assert alert.informed[0].agency_id == "BART" and alert.active_periods == ()
    assert alert.header_text["en-US"].startswith("There is a major delay at Montgomery St.")
    assert alert.url == {"en-US": "http://www.bart.gov/schedules/advisories"}


def test_caltrain_feeds_read_clean(caltrain_ids):
    updates = read_feed(RT / "ct-trip-updates.pb", known=caltrain_ids)
    assert len(updates.trip_updates) == 19 and not updates.report.rejected
    assert updates.trip_updates[0].start_time == "15:37:00"
    assert updates.trip_updates[0].start_date == "20231107"
    positions = read_feed(RT / "ct-vehicle-positions.pb", known=caltrain_ids)
    assert len(positions.vehicles) == 14 and not positions.report.rejected
    vehicle = positions.vehicles[0]
    assert vehicle.trip_id == "124" and vehicle.lat == pytest.approx(37.3704605)
    empty = read_feed(RT / "ct-service-alerts.pb")
    assert (empty.alerts, empty.trip_updates, empty.vehicles) == ((), (), ())


ERROR_CASES = sorted(p.name for p in (RT / "errors").glob("*.json")) if RT.is_dir() else []


@pytest.mark.parametrize("case", ERROR_CASES)
def test_each_validator_error_is_counted_under_its_code(case, caltrain_ids):
    code = case.split(".")[0]
    feed = read_feed(RT / "errors" / case, known=caltrain_ids)
    assert feed.report.rejected[code] >= 1, feed.report.as_dict()
    assert set(feed.report.rejected) == {code}
    assert feed.report.as_dict()["rejected"][code]["examples"]


def test_a_bad_entity_does_not_stop_the_rest(caltrain_ids):
    good = (RT / "ct-trip-updates.pb").read_bytes()
    from google.transit import gtfs_realtime_pb2 as pb

    message = pb.FeedMessage()
    message.ParseFromString(good)
    message.entity[0].trip_update.trip.trip_id = "no-such-trip"
    feed = read_feed(message.SerializeToString(), known=caltrain_ids)
    assert feed.report.rejected == {"E003": 1}
    assert len(feed.trip_updates) == 18


def test_unreadable_feeds_say_what_and_where(tmp_path):
    with pytest.raises(RealtimeFeedError, match=r"invalid\.pb: not a GTFS-Realtime FeedMessage"):
        read_feed(RT / "invalid.pb")
    with pytest.raises(RealtimeFeedError, match="no such file"):
        read_feed(tmp_path / "missing.pb")
    from google.transit import gtfs_realtime_pb2 as pb

    message = pb.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.incrementality = pb.FeedHeader.DIFFERENTIAL
    with pytest.raises(RealtimeFeedError, match="DIFFERENTIAL feeds are not supported"):
        read_feed(message.SerializeToString(), name="diff.pb")


class _Misbehaving(http.server.BaseHTTPRequestHandler):
    """/ok: the BART feed; /error: 500; /slow: answers after 3 s; /huge: 50 MB."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path == "/error":
            self.send_error(500, "upstream broke")
            return
        if self.path == "/slow":
            time.sleep(3)
        body = (RT / "bart-trip-updates.pb").read_bytes()
        if self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
            chunk = b"\0" * (1024 * 1024)
            try:
                for _ in range(50):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def feed_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Misbehaving)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_feeds_over_http_and_their_failures(feed_server):
    assert len(read_feed(f"{feed_server}/ok").trip_updates) == 82
    with pytest.raises(RealtimeFeedError, match="HTTP 500"):
        read_feed(f"{feed_server}/error")
    started = time.monotonic()
    with pytest.raises(RealtimeFeedError, match="cannot be fetched"):
        read_feed(f"{feed_server}/slow", timeout_s=0.5)
    assert time.monotonic() - started < 2.5
    with pytest.raises(RealtimeFeedError, match="larger than 1,048,576 bytes"):
        read_feed(f"{feed_server}/huge", max_bytes=1024 * 1024)
