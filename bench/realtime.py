"""Real-time overlay benchmark: BART with its GTFS-Realtime trip updates (2019-08-07 10:45 local).

    python bench/realtime.py            # about 20 s

1. **Apply**: reading the feed (``read_feed``), resolving it against the timetable
   (``updates_from_feeds``) and building the overlay (``apply_realtime``: switch-off rows, the
   re-added trips in new FIFO patterns, the stop -> routes index); median of repeated runs.
   ``apply_ms`` is resolve + apply (what a server does per poll once the feed is read).
2. **Queries**: the same earliest-arrival queries (random served stop pairs, departures
   10:00-12:00 on the feed's day) on the static timetable and on the overlay, interleaved, warm
   routers; p50 and p90 per query through ``TransitRouter.earliest_arrival``. The overlay's first
   query (router set-up: its arrays and day mask) is shown apart.
3. **Staleness**: the same feed read one hour after its header time with a 5-minute maximum
   age is ignored (``stale_feed_ignored``).

The last line is one JSON object of the figures.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import transit as T  # noqa: E402
from engine.transit.realtime import apply_realtime  # noqa: E402
from loaders.build import BuildOptions, build_network  # noqa: E402
from loaders.gtfs_rt import read_feed  # noqa: E402
from loaders.realtime_adapter import (  # noqa: E402
    DEFAULT_SERVER_MAX_AGE_S,
    known_ids,
    updates_from_feeds,
)
from loaders.report import BuildReport  # noqa: E402

RT = ROOT.parent / "shared" / "data" / "gtfs_rt"
N_APPLY = 30
N_QUERIES = 400
DAY = T.day_of(dt.date(2019, 8, 7))


def _median_ms(fn, n: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(np.median(times)), out


def _queries(tt, n: int, seed: int = 42) -> list[tuple[int, int, int]]:
    served = np.flatnonzero(np.diff(tt.stop_route_offsets) > 0)
    rng = np.random.default_rng(seed)
    return [(*(int(s) for s in rng.choice(served, 2, replace=False)), int(rng.integers(10 * 3600, 12 * 3600)))
            for _ in range(n)]


def main() -> dict:
    network, _ = build_network(BuildOptions(gtfs=[RT / "bart-rt.zip"], progress=False), BuildReport())
    tt = network.timetable
    known = known_ids(tt)
    read_ms, feed = _median_ms(lambda: read_feed(RT / "bart-trip-updates.pb", known=known), N_APPLY)
    resolve_ms, (updates, day, _) = _median_ms(lambda: updates_from_feeds(tt, feed), N_APPLY)
    engine_ms, overlay = _median_ms(lambda: apply_realtime(tt, day, updates), N_APPLY)

    static_router = T.router_for(tt)
    pairs = _queries(tt, N_QUERIES)
    static_router.earliest_arrival([(pairs[0][0], 0)], [(pairs[0][1], 0)], DAY, pairs[0][2])
    t0 = time.perf_counter()
    rt_router = T.router_for(overlay.timetable)
    rt_router.earliest_arrival([(pairs[0][0], 0)], [(pairs[0][1], 0)], DAY, pairs[0][2])
    first_rt_ms = (time.perf_counter() - t0) * 1000.0
    static_ms, rt_ms = [], []
    for _ in range(2):  # the first pass warms both; the second is measured
        static_ms.clear()
        rt_ms.clear()
        for o, d, depart in pairs:
            for router, out in ((static_router, static_ms), (rt_router, rt_ms)):
                t0 = time.perf_counter()
                router.earliest_arrival([(o, 0)], [(d, 0)], DAY, depart)
                out.append((time.perf_counter() - t0) * 1000.0)

    later = float(feed.timestamp_utc_s) + 3600.0
    stale_updates, _, stale_report = updates_from_feeds(tt, feed, now_utc_s=later,
                                                        max_age_s=DEFAULT_SERVER_MAX_AGE_S)
    stale_ignored = stale_report.stale and not stale_updates.trips

    r = overlay.report
    figures = {
        "feed": "bart-trip-updates.pb", "stop_times": tt.n_stop_times, "trips": tt.n_trips,
        "routes_static": tt.n_routes, "routes_realtime": overlay.timetable.n_routes,
        "trip_updates_applied": r.applied, "added_ignored": r.ignored.get("ADDED_trip", 0),
        "overtaking_trips": r.overtaking_trips, "extra_patterns": r.extra_patterns,
        "clamped_times": r.clamped_times,
        "read_ms": round(read_ms, 2), "resolve_ms": round(resolve_ms, 2),
        "apply_engine_ms": round(engine_ms, 2), "apply_ms": round(resolve_ms + engine_ms, 2),
        "first_query_ms_realtime": round(first_rt_ms, 2), "n_queries": len(pairs),
        "query_ms_p50_static": round(float(np.percentile(static_ms, 50)), 3),
        "query_ms_p50_realtime": round(float(np.percentile(rt_ms, 50)), 3),
        "query_ms_p90_static": round(float(np.percentile(static_ms, 90)), 3),
        "query_ms_p90_realtime": round(float(np.percentile(rt_ms, 90)), 3),
        "stale_feed_ignored": bool(stale_ignored),
    }
    figures["realtime_over_static_p50"] = round(figures["query_ms_p50_realtime"]
                                                / figures["query_ms_p50_static"], 3)
    rows = [("read the feed (ms)", "read_ms"), ("resolve against the timetable (ms)", "resolve_ms"),
            ("apply_realtime (ms)", "apply_engine_ms"), ("apply_ms = resolve + apply", "apply_ms"),
            ("trip updates applied", "trip_updates_applied"), ("ADDED trips ignored", "added_ignored"),
            ("overtaking trips / extra patterns", None),
            ("routes static -> with overlay", None),
            ("router set-up + first query on the overlay (ms)", "first_query_ms_realtime"),
            ("query p50 static / realtime (ms)", None), ("query p90 static / realtime (ms)", None),
            ("stale feed ignored", "stale_feed_ignored")]
    print(f"BART, {tt.n_stop_times:,} stop_times, {tt.n_trips:,} trips, {len(pairs)} queries")
    for label, key in rows:
        if key is not None:
            value = figures[key]
        elif label.startswith("overtaking"):
            value = f"{figures['overtaking_trips']} / {figures['extra_patterns']}"
        elif label.startswith("routes"):
            value = f"{figures['routes_static']} -> {figures['routes_realtime']}"
        elif "p50" in label:
            value = (f"{figures['query_ms_p50_static']} / {figures['query_ms_p50_realtime']} "
                     f"(x{figures['realtime_over_static_p50']})")
        else:
            value = f"{figures['query_ms_p90_static']} / {figures['query_ms_p90_realtime']}"
        print(f"  {label:<48} {value}")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
