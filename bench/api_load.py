"""Load test of the API: mixed /api/v1/plan requests against `trajet serve` on loopback.

    python bench/api_load.py                       # Monaco sample, 8 clients, 60 s
    python bench/api_load.py --seconds 10 --clients 4 --bundle bundles/monaco

Starts ``trajet serve BUNDLE`` (gunicorn, ``--workers`` processes) on a free 127.0.0.1 port,
waits for /readyz, then runs ``--clients`` threads, each with its own keep-alive HTTP connection,
sending plan requests for ``--seconds``: origins and destinations drawn from the walkable street
nodes of the bundle, modes mixed (walk+transit, walk, bike, car+parking, park-and-ride), departure
and arrive-by times spread over a service day the timetable covers. Every answer must be a 200
(an empty itinerary list with a reason code is a 200); anything else counts as an error.

Prints a table, then as the last line one JSON object: requests per second, p50/p95/p99 latency
in ms, the error count. The target is p95 < 300 ms with 8 clients on 2 cores. Exits 1 when any
request failed. The request loop is bounded in time and touches only 127.0.0.1.

    python bench/api_load.py --mixed --seconds 20   # issue 17: do heavy clients stall light ones?

``--mixed`` runs light requests (walk + transit plans between points near stops) at 8 and 32
clients, each time alone and then beside 4 clients sending heavy isochrones (the two costliest
modes, WALK,TRANSIT, at the longest budget, 90 min, with 10 km of walking), and prints the light
p95 both ways.
Last line: ``light_p95_ms_alone_8``, ``light_p95_ms_with_heavy_8``, ``heavy_slowdown_ratio_8``
(and the same for 32), the heavy requests' status counts. Target: ratio < 2.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODE_MIX = [("WALK,TRANSIT", 0.4), ("WALK", 0.15), ("BICYCLE", 0.15), ("CAR_PARK", 0.15),
            ("PARK_AND_RIDE,WALK,TRANSIT", 0.15)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _trajet() -> str:
    beside = Path(sys.executable).with_name("trajet")
    return str(beside) if beside.exists() else "trajet"


def ensure_bundle(bundle: Path, sample: str) -> None:
    if (bundle / "manifest.json").exists():
        return
    print(f"building the {sample} sample into {bundle} ...", file=sys.stderr)
    subprocess.run([_trajet(), "build", "--sample", sample, "--out", str(bundle), "--quiet"],
                   check=True, cwd=ROOT)


def start_server(bundle: Path, port: int, workers: int, threads: int, log_path: Path):
    log = open(log_path, "w")  # noqa: SIM115 (closed by the caller)
    env = {**os.environ, "TRAJET_OBSERVATIONS_DB": str(log_path.with_suffix(".sqlite")),
           "PYTHONPATH": str(ROOT)}  # this checkout's code, whatever the installed script points at
    proc = subprocess.Popen([_trajet(), "serve", str(bundle), "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(workers), "--threads", str(threads)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    ready_in_a_row = 0  # each worker loads (and warms up) on its own: wait until all answer ready
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"trajet serve exited early; see {log_path}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            ok = conn.getresponse().status == 200
            conn.close()
        except OSError:
            ok = False
        ready_in_a_row = ready_in_a_row + 1 if ok else 0
        if ready_in_a_row >= 10 * workers:
            return proc, log
        time.sleep(0.05 if ok else 0.3)
    proc.terminate()
    raise SystemExit(f"trajet serve was not ready within 120 s; see {log_path}")


def make_requests(bundle: Path, port: int, n: int, seed: int) -> list[str]:
    """``n`` plan URLs with endpoints on walkable street nodes and mixed modes and times."""
    from engine.model import Mode
    from loaders.bundle import load_bundle

    network = load_bundle(bundle, verify=False)
    rng = np.random.default_rng(seed)
    if network.street is not None:
        sg = network.street
        walkable = np.flatnonzero(np.asarray(sg.node_in_component[Mode.WALK]))
        lon, lat = np.asarray(sg.node_lon)[walkable], np.asarray(sg.node_lat)[walkable]
    else:
        lon, lat = np.asarray(network.timetable.stop_lon), np.asarray(network.timetable.stop_lat)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/api/v1/info")
    info = json.loads(conn.getresponse().read())
    conn.close()
    day = info["suggested_departure"]["datetime"][:10]
    modes, weights = zip(*MODE_MIX, strict=True)
    urls = []
    for _ in range(n):
        a, b = rng.choice(len(lon), 2, replace=False)
        minute = int(rng.integers(6 * 60, 21 * 60))
        params = {"from": f"{lat[a]:.6f},{lon[a]:.6f}", "to": f"{lat[b]:.6f},{lon[b]:.6f}",
                  "datetime": f"{day}T{minute // 60:02d}:{minute % 60:02d}",
                  "modes": str(rng.choice(modes, p=np.asarray(weights))),
                  "num_itineraries": "3"}
        if rng.random() < 0.2:
            params["arrive_by"] = "true"
        urls.append("/api/v1/plan?" + urllib.parse.urlencode(params))
    return urls


def run_clients(port: int, urls: list[str], clients: int, seconds: float):
    """Latencies (s) and status counts of every request sent by ``clients`` threads."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[Counter] = [Counter() for _ in range(clients)]
    failures: list[str] = []
    stop_at = time.monotonic() + seconds

    def client(k: int):
        rnd = random.Random(k)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            url = urls[rnd.randrange(len(urls))]
            t0 = time.perf_counter()
            try:
                conn.request("GET", url)
                response = conn.getresponse()
                body = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                status, body = 0, str(exc).encode()
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            latencies[k].append(time.perf_counter() - t0)
            statuses[k][status] += 1
            if status != 200 and len(failures) < 5:
                failures.append(f"{status} {url}\n    {body[:300].decode(errors='replace')}")
        conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return np.concatenate([np.asarray(x) for x in latencies]), sum(statuses, Counter()), failures, wall


HEAVY_CLIENTS = 4


def light_requests(bundle: Path, port: int, n: int, seed: int) -> tuple[list[str], str]:
    """(``n`` walk+transit plan URLs between points within 150 m of stops, the heaviest accepted
    isochrone URL from the network's centre)."""
    from loaders.bundle import load_bundle

    network = load_bundle(bundle, verify=False)
    tt = network.timetable
    rng = np.random.default_rng(seed)
    lon, lat = np.asarray(tt.stop_lon), np.asarray(tt.stop_lat)
    keep = (lon != 0) & (lat != 0)
    lon, lat = lon[keep], lat[keep]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/api/v1/info")
    info = json.loads(conn.getresponse().read())
    conn.close()
    day = info["suggested_departure"]["datetime"][:10]
    urls = []
    for _ in range(n):
        a, b = rng.choice(len(lon), 2, replace=False)
        jitter = rng.uniform(-0.001, 0.001, 4)  # about 100 m
        minute = int(rng.integers(7 * 60, 20 * 60))
        params = {"from": f"{lat[a] + jitter[0]:.6f},{lon[a] + jitter[1]:.6f}",
                  "to": f"{lat[b] + jitter[2]:.6f},{lon[b] + jitter[3]:.6f}",
                  "datetime": f"{day}T{minute // 60:02d}:{minute % 60:02d}", "modes": "WALK,TRANSIT"}
        urls.append("/api/v1/plan?" + urllib.parse.urlencode(params))
    min_lon, min_lat, max_lon, max_lat = info["bbox"]
    heavy = "/api/v1/isochrone?" + urllib.parse.urlencode({
        "from": f"{(min_lat + max_lat) / 2:.6f},{(min_lon + max_lon) / 2:.6f}",
        "modes": "WALK,TRANSIT", "minutes": "90", "max_walk_m": "10000", "datetime": f"{day}T08:30"})
    return urls, heavy


def run_heavy(port: int, url: str, stop: threading.Event, statuses: Counter) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        try:
            conn.request("GET", url)
            response = conn.getresponse()
            response.read()
            statuses[response.status] += 1
        except (OSError, http.client.HTTPException):
            statuses[0] += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.close()


def run_mixed(args, port: int) -> int:
    """Light p95 alone and beside HEAVY_CLIENTS heavy isochrone clients, at 8 and 32 clients."""
    urls, heavy_url = light_requests(args.bundle, port, 2_000, args.seed)
    if args.warmup > 0:
        run_clients(port, urls, 8, args.warmup)
    result: dict = {"heavy_clients": HEAVY_CLIENTS, "heavy_request": heavy_url,
                    "seconds": args.seconds, "workers": args.workers, "threads": args.threads}
    heavy_statuses: Counter = Counter()
    errors = 0
    print(f"{'clients':>8} {'heavy':>6} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for clients in (8, 32):
        for with_heavy in (False, True):
            stop = threading.Event()
            heavy = [threading.Thread(target=run_heavy, args=(port, heavy_url, stop, heavy_statuses))
                     for _ in range(HEAVY_CLIENTS if with_heavy else 0)]
            for t in heavy:
                t.start()
            lat, statuses, failures, _ = run_clients(port, urls, clients, args.seconds)
            stop.set()
            for t in heavy:
                t.join(120)
            errors += int(lat.size) - statuses.get(200, 0)
            p50, p95 = (float(np.percentile(lat, q) * 1000) for q in (50, 95))
            print(f"{clients:>8} {HEAVY_CLIENTS if with_heavy else 0:>6} {lat.size:>9} {p50:>8.1f} "
                  f"{p95:>8.1f} {lat.max() * 1000:>8.1f}")
            for f in failures:
                print("failed:", f)
            key = "with_heavy" if with_heavy else "alone"
            result[f"light_p95_ms_{key}_{clients}"] = round(p95, 1)
        result[f"heavy_slowdown_ratio_{clients}"] = round(
            result[f"light_p95_ms_with_heavy_{clients}"] / result[f"light_p95_ms_alone_{clients}"], 2)
    result["heavy_statuses"] = {str(k): v for k, v in sorted(heavy_statuses.items())}
    result["light_errors"] = errors
    result["ratio_under_2"] = bool(max(result["heavy_slowdown_ratio_8"],
                                       result["heavy_slowdown_ratio_32"]) < 2)
    print(json.dumps(result))
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "bundles" / "monaco")
    parser.add_argument("--sample", default="monaco", help="sample to build when --bundle is missing")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=32, help="threads per worker")
    parser.add_argument("--mixed", action="store_true",
                        help="light plans at 8 and 32 clients, alone and beside 4 heavy isochrones")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of requests not counted")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    ensure_bundle(args.bundle, args.sample)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    proc, log = start_server(args.bundle, port, args.workers, args.threads, out / "api_load_server.log")
    try:
        if args.mixed:
            return run_mixed(args, port)
        urls = make_requests(args.bundle, port, 2_000, args.seed)
        if args.warmup > 0:  # numba compiles (or loads its cache) in each worker on first use
            run_clients(port, urls, args.clients, args.warmup)
        lat, statuses, failures, wall = run_clients(port, urls, args.clients, args.seconds)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

    n = int(lat.size)
    errors = n - statuses.get(200, 0)
    p50, p95, p99 = (float(np.percentile(lat, q) * 1000) if n else float("nan") for q in (50, 95, 99))
    rps = n / wall if wall > 0 else 0.0
    print(f"trajet serve {args.bundle} ({args.workers} workers x {args.threads} threads), "
          f"{args.clients} clients for {args.seconds:g} s on 127.0.0.1")
    print(f"{'requests':>10} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'errors':>7}")
    print(f"{n:>10} {rps:>8.1f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} "
          f"{(lat.max() * 1000 if n else float('nan')):>8.1f} {errors:>7}")
    print("status counts:", dict(sorted(statuses.items())))
    for f in failures:
        print("failed:", f)
    print(json.dumps({"api_plan_requests": n, "api_plan_rps": round(rps, 1),
                      "api_plan_p50_ms": round(p50, 1), "api_plan_p95_ms": round(p95, 1),
                      "api_plan_p99_ms": round(p99, 1), "api_plan_errors": errors,
                      "clients": args.clients, "seconds": args.seconds,
                      "p95_under_300_ms": bool(p95 < 300)}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
