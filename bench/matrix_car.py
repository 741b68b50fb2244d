"""A 5,000 x 5,000 door-to-door car matrix over Porto Alegre (issue 16): ``travel_time_matrix``
with ``modes="CAR"`` on the street contraction hierarchy, its time and peak memory.

    /usr/bin/time -v python bench/matrix_car.py [--points 5000] [--check 20]

Porto Alegre's streets (``../shared/data/porto_alegre/poa_osm.pbf``) are read, the hierarchy is
built (order + the car metric), and the points are random positions within 30 m of random
nodes of the car network's largest component (so each snaps), the same set for origins and
destinations. The matrix runs as ``trajet matrix --modes CAR`` runs it (chunks of origins,
the destinations' buckets filled once). ``--check`` origins are recomputed with the Dijkstra
searches (a copy of the graph without the hierarchy) and must agree exactly. Peak memory is
the process's maximum resident set (``ru_maxrss``; ``/usr/bin/time -v`` reports the same).
The last line is one JSON object of headline figures.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from engine import street  # noqa: E402
from engine.model import Mode, Network  # noqa: E402
from engine.planning.matrix import travel_time_matrix  # noqa: E402

POA_PBF = ROOT / ".." / "shared" / "data" / "porto_alegre" / "poa_osm.pbf"


def poa_network() -> Network:
    from loaders.osm import street_graph_from_osm
    from loaders.report import BuildReport

    g = street_graph_from_osm(POA_PBF, BuildReport()).street
    lon, lat = np.asarray(g.node_lon), np.asarray(g.node_lat)
    return Network(timezone="America/Sao_Paulo", projection=g.projection, street=g,
                   bbox=(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())))


def car_points(net: Network, n: int, rng) -> np.ndarray:
    g = net.street
    nodes = rng.choice(np.flatnonzero(g.node_in_component[Mode.CAR]), n)
    lon, lat = g.projection.to_lonlat(g.node_x_m[nodes] + rng.uniform(-30, 30, n),
                                      g.node_y_m[nodes] + rng.uniform(-30, 30, n))
    return np.column_stack([lon, lat])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=5000, help="origins = destinations (default 5000)")
    parser.add_argument("--check", type=int, default=20, help="origins checked against Dijkstra")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    net = poa_network()
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    build = street.prepare_hierarchy(net.street, (Mode.CAR,))
    t_ch = time.perf_counter() - t0
    pts = car_points(net, args.points, rng)
    when = dt.datetime(2026, 1, 12, 8)
    warm = travel_time_matrix(net, pts[:2], pts[:2], departure=when, modes="CAR")   # compile
    assert warm.travel_time_s.shape == (2, 2)
    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    res = travel_time_matrix(net, pts, pts, departure=when, modes="CAR")
    t_matrix = time.perf_counter() - t0
    rss_peak = peak_rss_mb()
    tt = res.travel_time_s
    reached = float(np.isfinite(tt).mean())
    plain = dataclasses.replace(net, street=dataclasses.replace(net.street,
                                                                indices=np.array(net.street.indices)))
    rows = rng.choice(args.points, args.check, replace=False)
    t0 = time.perf_counter()
    ref = travel_time_matrix(plain, pts[rows], pts, departure=when, modes="CAR").travel_time_s
    t_ref = time.perf_counter() - t0
    mismatches = int((~((ref == tt[rows]) | (np.isnan(ref) & np.isnan(tt[rows])))).sum())
    n = args.points
    print(f"Porto Alegre: {net.street.n_nodes:,} nodes, {net.street.n_edges:,} edges; read {t_read:.1f} s; "
          f"hierarchy (order + car metric) {t_ch:.2f} s {build}")
    print(f"CAR matrix {n:,} x {n:,}: {t_matrix:.1f} s ({t_matrix / n / n * 1e6:.2f} µs per pair), "
          f"{reached:.1%} reached within 2 h; peak RSS {rss_peak:.0f} MB "
          f"(before the matrix {rss_before:.0f} MB)")
    print(f"check: {args.check} origins x {n:,} by Dijkstra in {t_ref:.1f} s "
          f"({t_ref / args.check * n / 60:.1f} min for the whole matrix at that rate): "
          f"{mismatches} mismatches")
    print(json.dumps({"points": n, "matrix_s": round(t_matrix, 2),
                      "us_per_pair": round(t_matrix / n / n * 1e6, 3),
                      "peak_rss_mb": round(rss_peak, 0), "reached_share": round(reached, 4),
                      "ch_build_s": round(t_ch, 2), "dijkstra_rows_s": round(t_ref, 2),
                      "check_origins": args.check, "mismatches": mismatches}))


if __name__ == "__main__":
    main()
