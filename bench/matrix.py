"""Travel-time matrix benchmark: 1,000 x 1,000 stop-to-stop transit on Montpellier, on one core,
two worker processes and a Dask LocalCluster of two workers.

    python bench/matrix.py            # about 1-2 minutes (plus ~10 s once to build the bundle)
    python bench/matrix.py --quick    # 300 x 300

The Montpellier bundle (TaM GTFS, 339,023 stop_times, no street graph: walking is the straight
line times 1.3) is built from the sample recipe as ``trajet build --sample montpellier`` does and
cached under ``bench/cache/``. Origins and destinations are 1,000 served stops drawn at random
(seed 1); the departure is Tuesday 2024-01-16 08:00, once at that minute and once for every
minute of a 60-minute window (median and percentiles 25/75: range RAPTOR runs the 60 minutes as
one search that keeps its labels).

Each executor opens one pool and runs every matrix on it: the first run is *cold* (worker
processes start, load the bundle, load the compiled kernels), the next ones *warm* (what a pool
kept open across matrices costs per matrix: ``trajet scenario run`` computes baseline and
scenario on one pool; a Dask cluster is long-lived). The speed-ups use the best of three warm
runs; pool start-up and the cold run are printed beside them. Every table is checked equal to the
in-process one. The machine's load average is printed: other work on it
slows the parallel runs most.

Peer: there is no runnable matrix peer here (r5py needs a JDK 21 and a download at import; see
``/work/shared/PEERS.md``). The reference is trajet itself asked pair by pair: one RAPTOR
earliest-arrival query per origin-destination pair (``TransitRouter.earliest_arrival`` with the
same access and egress lists), timed on 300 random pairs and scaled to the 1,000,000 pairs.

The last line is one JSON object of headline figures.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from api.batch import MatrixJob, open_pool, run_matrix  # noqa: E402
from api.scenario_io import stop_places  # noqa: E402
from engine.planning.access import walk_access  # noqa: E402
from engine.planning.matrix import travel_time_matrix  # noqa: E402
from engine.transit import router_for, to_service_time  # noqa: E402
from loaders.bundle import load_bundle  # noqa: E402

CACHE = ROOT / "bench" / "cache"
DEPARTURE = dt.datetime(2024, 1, 16, 8, 0)   # a Tuesday in TaM's service period


def montpellier_bundle() -> Path:
    """The Montpellier sample bundle, built once into bench/cache/."""
    from loaders.build import build_sample

    out = CACHE / "montpellier"
    if not (out / "manifest.json").exists():
        t0 = time.perf_counter()
        build_sample("montpellier", out)
        print(f"built {out} in {time.perf_counter() - t0:.1f} s")
    return out


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def time_executor(jobs: dict, executor: str, workers: int, references: dict, repeats: int) -> dict:
    """Open one pool; time its first (cold) run of the single-departure matrix, then the best of
    ``repeats`` warm runs of each job; check every table against the in-process one."""
    out = {"warm": {}}
    t0 = time.perf_counter()
    with open_pool(executor, workers=workers) as pool:
        out["start_s"] = time.perf_counter() - t0
        for window, job in jobs.items():
            times = []
            for _ in range(repeats + (1 if window == 0 else 0)):
                t = time.perf_counter()
                table, report = run_matrix(job, pool=pool)
                times.append(time.perf_counter() - t)
                pd.testing.assert_frame_equal(table, references[window])
            if window == 0:
                out["cold_s"] = times.pop(0)
            out["warm"][window] = min(times)
            out[f"chunks_{window}"] = (report.n_chunks, report.chunk_size)
    return out


def pairwise_seconds_per_pair(network, places, n_pairs: int, seed: int = 2) -> float:
    """Mean seconds of one earliest-arrival query per pair (access and egress as the matrix)."""
    router = router_for(network.timetable)
    day, time_s = to_service_time(network.timezone, DEPARTURE)
    rng = np.random.default_rng(seed)
    pairs = rng.integers(0, len(places), size=(n_pairs, 2))
    access = [walk_access(network, x, y).access for x, y in zip(places.lon, places.lat, strict=True)]
    egress = [walk_access(network, x, y, reverse=True).access
              for x, y in zip(places.lon, places.lat, strict=True)]
    router.earliest_arrival(access[0], egress[1], day, time_s)  # compiled before timing
    t = time.perf_counter()
    for i, j in pairs:
        router.earliest_arrival(access[i], egress[j], day, time_s)
    return (time.perf_counter() - t) / n_pairs


def main() -> None:
    parser = argparse.ArgumentParser(description="trajet travel-time matrix benchmark")
    parser.add_argument("--quick", action="store_true", help="300 x 300 instead of 1,000 x 1,000")
    parser.add_argument("--stops", type=int, default=None, help="origins = destinations = this many stops")
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per configuration (best kept)")
    args = parser.parse_args()
    n = args.stops or (300 if args.quick else 1000)

    bundle = montpellier_bundle()
    network = load_bundle(bundle)
    places = stop_places(network, sample=n, seed=1)
    tt = network.timetable
    print(f"Montpellier: {tt.n_stops:,} stops, {tt.n_stop_times:,} stop_times; {len(places):,} x "
          f"{len(places):,} stop-to-stop transit matrix, departure {DEPARTURE:%a %Y-%m-%d %H:%M}")
    print(f"machine: {os.cpu_count()} CPUs, load average {load_average()} (other work on the machine "
          "slows the parallel runs)")

    # compile (or load from the numba cache) once in this process, outside every timing
    travel_time_matrix(network, places.lonlat[:2], places.lonlat[:2], departure=DEPARTURE, modes=["TRANSIT"],
                       window_min=2)

    jobs = {window: MatrixJob(bundle=str(bundle), origins=places, destinations=places,
                              departures=(DEPARTURE,), modes=("TRANSIT",), window_min=window,
                              percentiles=(25, 75) if window else ())
            for window in (0, 60)}
    references, serial = {}, {}
    for window, job in jobs.items():
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            references[window], _ = run_matrix(job, executor="serial")
            times.append(time.perf_counter() - t)
        serial[window] = min(times)
        reach = float(references[window]["travel_time_s"].notna().mean())
        print(f"window {window:>2} min: {100 * reach:.1f} % of pairs reachable within 2 h")
    configs = (("process pool, 1 worker", "process", 1), ("process pool, 2 workers", "process", 2),
               ("Dask LocalCluster, 2 workers", "dask", 2))
    results = {(executor, workers): time_executor(jobs, executor, workers, references, args.repeats)
               for _, executor, workers in configs}

    print()
    print(f"{'executor':<30} {'pool start':>10} {'1st run':>8} {'single dep.':>11} {'orig/s':>7} "
          f"{'60-min window':>13} {'orig/s':>7}")
    print(f"{'in-process (1 core)':<30} {'':>10} {'':>8} {serial[0]:>10.2f}s {n / serial[0]:>7,.0f} "
          f"{serial[60]:>12.2f}s {n / serial[60]:>7,.0f}")
    for name, executor, workers in configs:
        r = results[(executor, workers)]
        w0, w60 = r["warm"][0], r["warm"][60]
        print(f"{name:<30} {r['start_s']:>9.2f}s {r['cold_s']:>7.2f}s {w0:>10.2f}s {n / w0:>7,.0f} "
              f"{w60:>12.2f}s {n / w60:>7,.0f}")
    pc, dc = results[("process", 2)]["chunks_0"], results[("dask", 2)]["chunks_0"]
    print(f"(default chunks on 2 workers: process pool {pc[0]} of {pc[1]} origins, Dask {dc[0]} of {dc[1]}; "
          f"times are the best of {args.repeats} runs on an open pool; '1st run' is "
          "the first matrix of a new pool: workers start, load the bundle and the compiled kernels)")

    figures = {}
    print()
    p1, p2, dk = results[("process", 1)], results[("process", 2)], results[("dask", 2)]
    for window in (0, 60):
        speedup = p1["warm"][window] / p2["warm"][window]
        dask_ratio = dk["warm"][window] / p2["warm"][window]
        tag = "window60" if window else "single"
        print(f"{'60-min window' if window else 'single departure'}: 1 -> 2 processes x{speedup:.2f} "
              f"(target >= 1.7); Dask LocalCluster / process pool time {dask_ratio:.2f} (target <= 1.15)")
        figures.update({
            f"{tag}_s_2proc": round(p2["warm"][window], 2),
            f"{tag}_origins_per_s_2proc": round(n / p2["warm"][window], 1),
            f"{tag}_origins_per_s_1proc": round(n / p1["warm"][window], 1),
            f"{tag}_speedup_1_to_2_proc": round(speedup, 2),
            f"{tag}_dask_vs_process_time": round(dask_ratio, 2),
        })
    cold1 = p1["start_s"] + p1["cold_s"]
    cold2 = p2["start_s"] + p2["cold_s"]
    cold_dask = dk["start_s"] + dk["cold_s"]
    print(f"cold, pool start and first single-departure matrix: 1 process {cold1:.2f} s, 2 processes "
          f"{cold2:.2f} s (x{cold1 / cold2:.2f}), Dask {cold_dask:.2f} s ({cold_dask / cold2:.2f} of the "
          "process pool)")
    figures.update(cold_speedup_1_to_2_proc=round(cold1 / cold2, 2),
                   cold_dask_vs_process_time=round(cold_dask / cold2, 2))

    per_pair_s = pairwise_seconds_per_pair(network, places, 300)
    pairwise_total = per_pair_s * n * n
    serial_single = serial[0]
    print(f"pair by pair (RAPTOR earliest arrival per pair): {1e3 * per_pair_s:.2f} ms per pair, about "
          f"{pairwise_total:,.0f} s for {n * n:,} pairs; the matrix on one core: {serial_single:.1f} s "
          f"(x{pairwise_total / serial_single:,.0f})")
    figures.update(stops=n, pairwise_ms_per_pair=round(1e3 * per_pair_s, 3),
                   speedup_vs_pairwise_raptor=round(pairwise_total / serial_single, 1),
                   load_average=load_average())
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
