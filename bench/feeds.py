"""Live-feed benchmark: a real ``trajet serve --feed`` against real local feed servers that change
and misbehave on a script, with /plan under load while one feed hangs for 20 s.

    python bench/feeds.py            # about 2.5 minutes

Feeds (tests/feed_server.py, ``http.server`` in a thread): Montpellier's 24 NGSI car parks
(``ngsi``), its 57 Vélomagg docking stations (``ngsi``), the same car parks as OpenDataSoft v2.1
records (``ods``, through a field mapping) and Helsinki's GBFS system (``gbfs``, ttl 2 s). The
server: the test town bundle with those facilities, 2 gunicorn workers, ``--feed-every 1s``,
the default 10 s poll timeout, a 5 MB size cap. The script:

1. **good**: every few seconds the city updates (new instants, new counts);
2. **bad**: the car parks answer an HTML maintenance page, the stations 500, the ODS records
   50 MB, the GBFS station status lies (a negative count, a report an hour ahead, a duplicate
   id, a station not in station_information); then everything recovers with new readings;
3. **slow**: the stations feed answers after 20 s (each poll times out) while 4 clients send
   /plan requests for 25 s; the same load without a slow feed just before is the baseline;
4. **recover** and a last update.

Figures: polls that succeeded and failed (each failure handled: reported in /api/v1/info, the
server answering), readings accepted / duplicates / refused by reason, 304 revalidations, the
p95 of /plan during the slow feed against the baseline, API errors (5xx) and ``readings_lost``:
every valid reading of every JSON document the feed servers sent (checked with the same rules,
at the instant it was sent) that is not in the SQLite file at the end. It must be 0.
The last line is one JSON object of the figures.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.api.live_server import LiveServer, get  # noqa: E402
from tests.feed_server import ODS_MAPPING, FeedServer, feeds_bundle  # noqa: E402

PLAN = "/api/v1/plan?from={a}&to={b}&modes=WALK,TRANSIT&datetime=2026-01-06T{hh}:{mm}"
POINTS = ["43.7300,7.4200", "43.7340,7.4262", "43.7345,7.4200", "43.7300,7.4262", "43.7320,7.4230"]


def _plan_urls(n: int, seed: int = 7) -> list[str]:
    rng = np.random.default_rng(seed)
    urls = []
    for _ in range(n):
        a, b = rng.choice(len(POINTS), 2, replace=False)
        minute = int(rng.integers(7 * 60, 20 * 60))
        urls.append(PLAN.format(a=POINTS[a], b=POINTS[b], hh=f"{minute // 60:02d}", mm=f"{minute % 60:02d}"))
    return urls


def load(port: int, seconds: float, clients: int = 4) -> tuple[np.ndarray, Counter]:
    """/plan latencies (s) and status counts of ``clients`` threads for ``seconds``."""
    urls = _plan_urls(200)
    latencies: list[float] = []
    codes: Counter = Counter()
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()

    def client(k: int):
        i = k
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                status = get(port, urls[i % len(urls)], 30.0)[0]
            except OSError:
                status = 0
            with lock:
                latencies.append(time.perf_counter() - t0)
                codes[status] += 1
            i += clients
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return np.asarray(latencies), codes


def info_feeds(port: int) -> list[dict]:
    return json.loads(get(port, "/api/v1/info", 10.0)[1])["live_feeds"]


def step(feeds: FeedServer, seconds: float, every_s: float = 3.0, *, update: bool = True) -> None:
    """Let ``seconds`` pass, the city updating every ``every_s`` (new instants and counts)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if update:
            feeds.observed_at = time.time() - 5
            feeds.variant += 1
        time.sleep(min(every_s, max(0.0, end - time.monotonic())))


def lying_status(doc: dict) -> dict:
    stations = doc["data"]["stations"]
    stations[0]["num_bikes_available"] = -3
    stations[1]["last_reported"] = int(time.time()) + 3600
    stations.append({**stations[2], "num_docks_available": 1})
    stations.append({**stations[2], "station_id": "999"})
    return doc


def expected_readings(feeds: FeedServer, bundle: Path) -> set[tuple[str, int]]:
    """(facility_id, time_utc_s) of every valid reading in a document the servers sent."""
    from api.config import ApiConfig
    from api.observation_checks import Facilities, ObservationRules, check_reading
    from loaders.bundle import load_parking
    from loaders.gbfs import read_gbfs
    from loaders.live_feeds import OdsMapping, readings_from_gbfs, readings_from_ngsi, readings_from_ods

    parking, tz = load_parking(bundle, verify=False)
    facilities, config = Facilities.of(parking, tz), ApiConfig()
    latest: dict[str, bytes] = {}
    out: set[tuple[str, int]] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for path, body, when in feeds.served:
            doc = json.loads(body)
            if path == "/ngsi/parking" or path == "/ngsi/bikes":
                readings, _ = readings_from_ngsi(doc, path)
            elif path == "/ods/parking":
                readings, _ = readings_from_ods(doc, OdsMapping.parse(ODS_MAPPING), path, int(when))
            else:
                latest[Path(path).stem] = body   # the server reads a system once a round has all files
                if len(latest) < 4:
                    continue
                folder = Path(tmp)
                for n, b in latest.items():
                    (folder / f"{n}.json").write_bytes(b)
                gbfs = json.loads(latest["gbfs"])
                for entry in gbfs["data"]["en"]["feeds"]:
                    entry["url"] = f"{entry['name']}.json"
                (folder / "gbfs.json").write_text(json.dumps(gbfs))
                readings, _ = readings_from_gbfs(read_gbfs(folder))
            rules = ObservationRules.of(config, int(when))
            for r in readings:
                if check_reading(facilities, r.as_item(), rules, lambda *a: None) is not None:
                    out.add((r.facility_id, r.time_utc_s))
    return out


def print_table(feeds: list[dict]) -> None:
    print(f"{'feed':<6} {'path':<30} {'ok':>4} {'fail':>4} {'stored':>7} {'dupl':>6}  refused by reason")
    for f in feeds:
        reasons = ", ".join(f"{c} {v['count']}" for c, v in f["rejected"].items()) or "-"
        path = "/" + f["url"].split("/", 3)[-1]
        print(f"{f['kind']:<6} {path:<30} {f['polls_ok']:>4} {f['polls_failed']:>4} "
              f"{f['accepted']:>7} {f['duplicates']:>6}  {reasons}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slow-load-s", type=float, default=25.0,
                        help="seconds of /plan load during the slow feed")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="trajet-bench-feeds-"))
    bundle = feeds_bundle(work / "feeds-town")
    feeds = FeedServer(gbfs_ttl_s=2)
    feeds.slow_s = 20.0
    db = work / "obs.sqlite"
    server = LiveServer(bundle, work / "serve.log", workers=2, env={
        "TRAJET_OBSERVATIONS_DB": str(db), "TRAJET_FEEDS_MAX_BYTES": str(5 * 1024 * 1024)}, extra_args=(
        "--feed", f"ngsi={feeds.url}/ngsi/parking", "--feed", f"ngsi={feeds.url}/ngsi/bikes",
        "--feed", f"ods={feeds.url}/ods/parking#{ODS_MAPPING}",
        "--feed", f"gbfs={feeds.url}/gbfs/helsinki/gbfs.json", "--feed-every", "1s"))
    t_start = time.monotonic()
    server.start()
    phases = {}
    try:
        t0 = time.monotonic()
        step(feeds, 12)
        phases["good_s"] = time.monotonic() - t0
        feeds.mode.update({"/ngsi/parking": "html", "/ngsi/bikes": "500", "/ods/parking": "huge"})
        feeds.edits["/gbfs/helsinki/station_status.json"] = lying_status
        step(feeds, 12)
        feeds.mode.clear()
        feeds.edits.clear()
        step(feeds, 20)                          # recovery (the back-off waits up to 8 s)
        baseline, base_codes = load(server.port, 10.0)
        feeds.mode["/ngsi/bikes"] = "slow"
        time.sleep(1.5)                          # a poll of the slow feed is under way
        slow, slow_codes = load(server.port, args.slow_load_s)
        slow_status = info_feeds(server.port)[1]
        feeds.mode.clear()
        step(feeds, 25)                          # recover (the slow feed's back-off) and update
        feeds.observed_at, feeds.variant = time.time() - 5, feeds.variant + 1
        time.sleep(6)
        status = info_feeds(server.port)
    finally:
        server.stop()
        feeds.close()
    with sqlite3.connect(db) as conn:
        stored = set(conn.execute("SELECT facility_id, time_utc_s FROM observations").fetchall())
    expected = expected_readings(feeds, bundle)
    lost = expected - stored
    print_table(status)
    api_5xx = sum(n for code, n in (base_codes + slow_codes).items() if code >= 500 or code == 0)
    figures = {
        "polls_ok": sum(f["polls_ok"] for f in status),
        "polls_failed_handled": sum(f["polls_failed"] for f in status),
        "readings_accepted": sum(f["accepted"] for f in status),
        "readings_duplicate": sum(f["duplicates"] for f in status),
        "readings_refused": sum(v["count"] for f in status for v in f["rejected"].values()),
        "refused_by_reason": dict(sum((Counter({c: v["count"] for c, v in f["rejected"].items()})
                                       for f in status), Counter())),
        "not_modified_304": sum(feeds.conditional.values()),
        "valid_readings_served": len(expected),
        "rows_in_sqlite": len(stored),
        "readings_lost": len(lost),
        "rows_not_served": len(stored - expected),
        "requests_baseline_p95_ms": round(float(np.percentile(baseline, 95)) * 1000, 1),
        "requests_during_slow_feed_p95_ms": round(float(np.percentile(slow, 95)) * 1000, 1),
        "requests_during_slow_feed": int(slow.size),
        "slow_feed_error": slow_status["last_error"],
        "api_errors_5xx": api_5xx,
        "wall_s": round(time.monotonic() - t_start, 1),
    }
    print(f"\n/plan p95: {figures['requests_baseline_p95_ms']} ms baseline, "
          f"{figures['requests_during_slow_feed_p95_ms']} ms while a feed hangs 20 s "
          f"({figures['requests_during_slow_feed']} requests, {api_5xx} errors)")
    print(f"valid readings served {len(expected)}, in SQLite {len(stored)}, lost {len(lost)}"
          + (f" e.g. {sorted(lost)[:3]}" if lost else ""))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
