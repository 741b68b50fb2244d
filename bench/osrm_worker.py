"""OSRM side of bench/street.py, run by the Python >= 3.12 venv that has ``osrm-bindings``.

    bench/.venv312/bin/python bench/osrm_worker.py JOB.json

JOB.json: {"osrm": path to the .osrm base, "pairs": [[lon0, lat0, lon1, lat1], ...],
"table_sources": [[lon, lat]], "table_destinations": [[lon, lat], ...], "table_repeats": n}.
Prints one JSON line: per-call seconds and durations of the route calls (CH, overview
"simplified" as OSRM serves by default), and seconds of each 1 x N table call.
"""
from __future__ import annotations

import json
import sys
import time

import osrm


def main() -> None:
    job = json.loads(open(sys.argv[1], encoding="utf-8").read())
    engine = osrm.OSRM(algorithm="CH", storage_config=job["osrm"], use_shared_memory=False,
                       max_locations_distance_table=100_000)
    route_s, durations = [], []
    for lon0, lat0, lon1, lat1 in job["pairs"][:5]:   # warm the caches
        engine.Route(osrm.RouteParameters(coordinates=[(lon0, lat0), (lon1, lat1)]))
    for lon0, lat0, lon1, lat1 in job["pairs"]:
        params = osrm.RouteParameters(coordinates=[(lon0, lat0), (lon1, lat1)])
        t0 = time.perf_counter()
        try:
            res = engine.Route(params)
            durations.append(float(res["routes"][0]["duration"]))
        except Exception:  # noqa: BLE001  (no route: OSRM raises)
            durations.append(None)
        route_s.append(time.perf_counter() - t0)
    table_s = []
    coords = job["table_sources"] + job["table_destinations"]
    for _ in range(job.get("table_repeats", 3)):
        params = osrm.TableParameters(coordinates=coords, sources=list(range(len(job["table_sources"]))),
                                      destinations=list(range(len(job["table_sources"]), len(coords))))
        t0 = time.perf_counter()
        engine.Table(params)
        table_s.append(time.perf_counter() - t0)
    print(json.dumps({"route_s": route_s, "durations_s": durations, "table_s": table_s}))


if __name__ == "__main__":
    main()
