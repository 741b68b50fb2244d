"""Contraction-hierarchy part of bench/street.py: trajet's CCH against Dijkstra (exactness),
OSRM CH (one-to-one from coordinates, one-to-1,000 table) and pandana (batched pairs), on Porto
Alegre's streets and the 250,000-node grid. Run through bench/street.py.

OSRM runs in its own Python >= 3.12 venv (bench/.venv312, ``pip install osrm-bindings``); its
foot and car graphs are extracted and contracted once into bench/cache/osrm/<profile>/ with the
Lua profiles the wheel ships. bench/osrm_worker.py times the calls in that venv.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from engine import street
from engine.model import Mode, StreetGraph
from engine.street import StreetProfile

ROOT = Path(__file__).resolve().parents[1]
POA_PBF = ROOT / ".." / "shared" / "data" / "porto_alegre" / "poa_osm.pbf"
VENV312 = ROOT / "bench" / ".venv312"
OSRM_CACHE = ROOT / "bench" / "cache" / "osrm"
OSRM_PROFILE = {Mode.WALK: "foot", Mode.CAR: "car"}


def hierarchy_build(graph: StreetGraph, modes) -> dict:
    """Seconds to order the graph and customise each mode, and the hierarchy's bytes."""
    timings = street.prepare_hierarchy(graph, modes)
    topology, metrics = street.built_hierarchy(graph)
    nbytes = sum(a.nbytes for a in topology.arrays().values())
    nbytes += sum(a.nbytes for m in metrics.values() for a in m.arrays().values())
    timings["total_s"] = sum(timings.values())
    timings["bytes"] = nbytes
    return timings


def count_mismatches(got, expected, rtol: float = 1e-6) -> int:
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    both_inf = np.isinf(got) & np.isinf(expected)
    close = np.isclose(got, expected, rtol=rtol, atol=1e-9) | both_inf
    return int((~close).sum())


def node_mismatches(graph: StreetGraph, mode: Mode, n: int, rng) -> int:
    """CCH vs Dijkstra over n random node pairs (any nodes: unreachable pairs included)."""
    profile = StreetProfile(mode)
    s, t = rng.integers(0, graph.n_nodes, n), rng.integers(0, graph.n_nodes, n)
    return count_mismatches(street.ch_pair_costs(graph, profile, s, t),
                            street.pair_costs(graph, profile, s, t, method="dijkstra"))


def random_points(graph: StreetGraph, mode: Mode, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """n points within 30 m of a random node of the mode's component."""
    nodes = rng.choice(np.flatnonzero(graph.node_in_component[mode]), n)
    dx, dy = rng.uniform(-30, 30, n), rng.uniform(-30, 30, n)
    return graph.projection.to_lonlat(graph.node_x_m[nodes] + dx, graph.node_y_m[nodes] + dy)


def per_call(fn, items) -> np.ndarray:
    out = np.empty(len(items))
    for i, item in enumerate(items):
        t0 = time.perf_counter()
        fn(item)
        out[i] = time.perf_counter() - t0
    return out


def from_coordinates(table, label: str, graph: StreetGraph, mode: Mode, n: int, rng) -> dict:
    """One-to-one routes from coordinates: CCH vs the Dijkstra-family route_points."""
    profile = StreetProfile(mode)
    lon, lat = random_points(graph, mode, 2 * n, rng)
    pairs = [((lon[i], lat[i]), (lon[n + i], lat[n + i])) for i in range(n)]
    street.ch_route_points(graph, *pairs[0], profile)   # warm
    street.route_points(graph, *pairs[0], profile)
    ch_calls = per_call(lambda q: street.ch_route_points(graph, q[0], q[1], profile), pairs)
    old_calls = per_call(lambda q: street.route_points(graph, q[0], q[1], profile), pairs)
    ch_cost = np.array([_cost(street.ch_route_points(graph, a, b, profile)) for a, b in pairs])
    ref_cost = np.array([_cost(street.route_points(graph, a, b, profile, method="dijkstra"))
                         for a, b in pairs])
    table.add(label, mode.name, "trajet ch_route_points (snap + CCH + path)", ch_calls)
    table.add(label, mode.name, "trajet route_points (auto: ALT/A*)", old_calls)
    return {"pairs": pairs, "ch_ms": float(np.median(ch_calls) * 1e3),
            "route_points_ms": float(np.median(old_calls) * 1e3),
            "mismatches": count_mismatches(ch_cost, ref_cost),
            "durations_s": np.array([_duration(street.ch_route_points(graph, a, b, profile))
                                     for a, b in pairs])}


def _cost(path) -> float:
    return np.inf if path is None else path.cost


def _duration(path) -> float:
    return np.nan if path is None else path.duration_s


def one_to_many_points(table, label: str, graph: StreetGraph, mode: Mode, rng, n_targets: int = 1000,
                       repeats: int = 5) -> dict:
    """One point to 1,000 points from coordinates (snapping included): CCH buckets vs point_costs."""
    profile = StreetProfile(mode)
    lon, lat = random_points(graph, mode, n_targets + 1, rng)

    def run():
        o = street.snap_points(graph, lon[:1], lat[:1], mode)
        d = street.snap_points(graph, lon[1:], lat[1:], mode)
        return street.ch_point_matrix(graph, o, d, profile)[0]

    got = run()
    o = street.snap_many(graph, np.repeat(lon[:1], n_targets), np.repeat(lat[:1], n_targets), mode)
    d = street.snap_many(graph, lon[1:], lat[1:], mode)
    mism = count_mismatches(got, street.point_costs(graph, o, d, profile, method="dijkstra"))
    calls = per_call(lambda _: run(), range(repeats))
    table.add(label, mode.name, f"trajet snap + ch_point_matrix 1 x {n_targets}", calls)
    return {"ms": float(np.median(calls) * 1e3), "mismatches": mism,
            "sources": [[float(lon[0]), float(lat[0])]],
            "destinations": [[float(a), float(b)] for a, b in zip(lon[1:], lat[1:], strict=True)]}


def batched_pairs(table, label: str, graph: StreetGraph, mode: Mode, n: int, rng) -> dict:
    profile = StreetProfile(mode)
    comp = np.flatnonzero(graph.node_in_component[mode])
    s, t = rng.choice(comp, n), rng.choice(comp, n)
    street.ch_pair_costs(graph, profile, s[:2], t[:2])
    t0 = time.perf_counter()
    costs = street.ch_pair_costs(graph, profile, s, t)
    per_pair = (time.perf_counter() - t0) / n
    table.add(label, mode.name, "trajet ch_pair_costs, batched", per_pair, f"{n:,} pairs")
    return {"sources": s, "targets": t, "costs": costs, "us": per_pair * 1e6}


def osrm_available() -> str | None:
    """None when OSRM can run, else why not."""
    if not (VENV312 / "bin" / "python").exists():
        return (f"{VENV312} missing: python3.12 -m venv bench/.venv312 && "
                "bench/.venv312/bin/pip install osrm-bindings")
    return None


def osrm_prepare(mode: Mode) -> tuple[Path | None, float | None]:
    """The .osrm base of a profile (extract + contract once; seconds when done now)."""
    import shutil

    folder = OSRM_CACHE / OSRM_PROFILE[mode]
    base = folder / "poa.osrm"
    if (folder / "poa.osrm.hsgr").exists():
        return base, None
    pkg = next((VENV312 / "lib").glob("python3.*/site-packages/osrm"))
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(POA_PBF, folder / "poa.osm.pbf")
    t0 = time.perf_counter()
    for cmd in ([str(pkg / "bin" / "osrm-extract"), "-p",
                 str(pkg / "share" / "profiles" / f"{OSRM_PROFILE[mode]}.lua"), "poa.osm.pbf"],
                [str(pkg / "bin" / "osrm-contract"), "poa.osrm"]):
        subprocess.run(cmd, cwd=folder, check=True, capture_output=True)
    return base, time.perf_counter() - t0


def osrm_run(base: Path, pairs, sources, destinations) -> dict:
    job = {"osrm": str(base), "pairs": [[a[0], a[1], b[0], b[1]] for a, b in pairs],
           "table_sources": sources, "table_destinations": destinations, "table_repeats": 5}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(job, f)
    out = subprocess.run([str(VENV312 / "bin" / "python"), str(ROOT / "bench" / "osrm_worker.py"),
                          f.name], capture_output=True, text=True, check=True)
    Path(f.name).unlink()
    return json.loads(out.stdout.strip().splitlines()[-1])


def pandana_batched(graph: StreetGraph, mode: Mode, sources, targets, ours) -> dict | None:
    try:
        import pandana
        import pandas as pd
    except ImportError:
        print("pandana not installed: skipping it", file=sys.stderr)
        return None
    from bench.street import quiet_stdout, simple_edges

    tail, head, c = simple_edges(graph, street.edge_costs(graph, StreetProfile(mode)))
    nodes = pd.Index(np.arange(graph.n_nodes))
    t0 = time.perf_counter()
    with quiet_stdout():
        net = pandana.Network(pd.Series(graph.node_x_m, index=nodes), pd.Series(graph.node_y_m, index=nodes),
                              pd.Series(tail), pd.Series(head), pd.DataFrame({"cost": c}), twoway=False)
    prep_s = time.perf_counter() - t0
    theirs = np.asarray(net.shortest_path_lengths(sources.tolist(), targets.tolist()), dtype=float)
    agree = count_mismatches(theirs, ours, rtol=1e-3) == 0   # pandana rounds weights to 1/1000
    t0 = time.perf_counter()
    net.shortest_path_lengths(sources.tolist(), targets.tolist())
    return {"prep_s": prep_s, "us": (time.perf_counter() - t0) / len(sources) * 1e6, "agree": agree}


def bench_porto_alegre(table, rng, n_pairs: int = 200) -> dict:
    from loaders.osm import street_graph_from_osm
    from loaders.report import BuildReport

    graph = street_graph_from_osm(POA_PBF, BuildReport()).street
    label = "poa"
    print(f"porto alegre: {graph.n_nodes:,} nodes, {graph.n_edges:,} edges", file=sys.stderr)
    build = hierarchy_build(graph, list(Mode))
    for key, value in build.items():
        if key.endswith("_s"):
            table.add(label, "-", f"CCH {key[:-2].replace('_', ' ')} (once)", value)
    out = {"poa_ch_build_s": build["total_s"], "poa_ch_bytes": build["bytes"],
           "poa_ch_order_s": build["order_s"]}
    mismatches = sum(node_mismatches(graph, mode, 1000, rng) for mode in Mode)
    reason = osrm_available()
    ratios = []
    for mode in (Mode.WALK, Mode.CAR):
        fc = from_coordinates(table, label, graph, mode, n_pairs, rng)
        mismatches += fc["mismatches"]
        om = one_to_many_points(table, label, graph, mode, rng)
        mismatches += om["mismatches"]
        key = f"poa_{mode.name.lower()}"
        out[f"{key}_from_coords_ms_p50"] = fc["ch_ms"]
        out[f"{key}_route_points_ms_p50"] = fc["route_points_ms"]
        out[f"{key}_one_to_1000_ms"] = om["ms"]
        if reason is None:
            base, prep = osrm_prepare(mode)
            r = osrm_run(base, fc["pairs"], om["sources"], om["destinations"])
            route_ms = float(np.median(r["route_s"]) * 1e3)
            table.add(label, mode.name, "OSRM CH Route from coordinates", np.asarray(r["route_s"]))
            table.add(label, mode.name, "OSRM CH Table 1 x 1000", np.asarray(r["table_s"]))
            out[f"{key}_osrm_route_ms_p50"] = route_ms
            out[f"{key}_osrm_table_ms"] = float(np.median(r["table_s"]) * 1e3)
            out[f"{key}_from_coords_ratio_vs_osrm_ch"] = fc["ch_ms"] / route_ms
            out[f"{key}_one_to_1000_ratio_vs_osrm"] = om["ms"] / out[f"{key}_osrm_table_ms"]
            if prep is not None:
                out[f"{key}_osrm_prepare_s"] = prep
            ratios.append(fc["ch_ms"] / route_ms)
    if reason is not None:
        print(f"OSRM skipped: {reason}", file=sys.stderr)
        out["osrm_skipped"] = reason
    out["from_coords_ratio_vs_osrm_ch"] = max(ratios) if ratios else None
    bp = batched_pairs(table, label, graph, Mode.WALK, 2000, rng)
    pd_res = pandana_batched(graph, Mode.WALK, bp["sources"], bp["targets"], bp["costs"])
    out["poa_ch_batched_us"] = bp["us"]
    if pd_res:
        table.add(label, "WALK", "pandana shortest_path_lengths, batched", pd_res["us"] * 1e-6, "2,000 pairs")
        table.add(label, "WALK", "pandana CH preprocessing (once)", pd_res["prep_s"])
        out["poa_pandana_batched_us"] = pd_res["us"]
        out["batch_ratio_vs_pandana"] = bp["us"] / pd_res["us"]
        out["pandana_agrees"] = pd_res["agree"]
    out["mismatches"] = mismatches
    return out


def bench_grid_ch(table, graph: StreetGraph, rng, n_pairs: int = 40) -> dict:
    """The hierarchy on the grid: build, exactness, one-to-one from coordinates, batched pairs.
    OSRM and pandana are not run on grids (their contraction takes many minutes, PEERS.md)."""
    label = f"grid {graph.n_nodes // 1000}k"
    modes = [Mode.CAR, Mode.WALK]
    build = hierarchy_build(graph, modes)
    for key, value in build.items():
        if key.endswith("_s"):
            table.add(label, "-", f"CCH {key[:-2].replace('_', ' ')} (once)", value)
    out = {"grid_ch_build_s": build["total_s"], "grid_ch_bytes": build["bytes"]}
    mismatches = 0
    for mode in modes:
        mismatches += node_mismatches(graph, mode, 1000, rng)
        fc = from_coordinates(table, label, graph, mode, n_pairs, rng)
        mismatches += fc["mismatches"]
        bp = batched_pairs(table, label, graph, mode, 500, rng)
        key = f"grid_{mode.name.lower()}"
        out[f"{key}_ch_from_coords_ms_p50"] = fc["ch_ms"]
        out[f"{key}_route_points_ms_p50"] = fc["route_points_ms"]
        out[f"{key}_ch_batched_us"] = bp["us"]
    out["grid_mismatches"] = mismatches
    return out
