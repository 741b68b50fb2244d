"""Street routing benchmark: trajet's one-to-one, one-to-many and batched queries against
networkx, scipy.sparse.csgraph and pandana, on Monaco's real streets and a 250,000-node grid;
then trajet's contraction hierarchy (CCH) against Dijkstra, OSRM CH and pandana on Porto Alegre
and the grid (bench/street_ch.py).

    python bench/street.py [--grid 500] [--pairs 200] [--grid-pairs 40] [--no-ch]

Every engine answers the same random node pairs (both ends in the mode's largest component) on
the same cost arrays, and every answer is checked against scipy's before any time is reported.
Times are per-query medians of separate calls, except "batched" (one call for all pairs: mean
per query). numba kernels are compiled (or loaded from cache) before timing; ALT landmark tables
are built before timing and their build time is reported on its own line. pandana (contraction
hierarchies) runs on Monaco only: its preprocessing takes minutes on grids.
The last line is one JSON object of headline figures; the hierarchy's are
``from_coords_ratio_vs_osrm_ch`` (trajet CCH route from coordinates / OSRM CH route, p50, the
worse of foot and car), ``batch_ratio_vs_pandana`` (batched per pair, walk), ``ch_build_s``
(order + customization of Porto Alegre's three modes) and ``mismatches`` (CCH vs Dijkstra over
1,000 random node pairs per mode and graph, plus every from-coordinates and one-to-1,000 answer).
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse  # noqa: E402
import scipy.sparse.csgraph  # noqa: E402

from bench import street_ch  # noqa: E402
from bench.synthetic import grid_street_graph  # noqa: E402
from engine import street  # noqa: E402
from engine.model import Mode, StreetGraph  # noqa: E402
from engine.street import StreetProfile  # noqa: E402

MONACO_PBF = ROOT / ".." / "shared" / "data" / "monaco" / "monaco.osm.pbf"


def simple_edges(graph: StreetGraph, cost: np.ndarray):
    """(tail, head, cost) of allowed edges, keeping the cheapest of parallel ones (as the
    peers' graph types need)."""
    ok = np.isfinite(cost)
    tail, head, c = graph.edge_tail[ok], graph.indices[ok], cost[ok]
    order = np.lexsort((c, head, tail))
    tail, head, c = tail[order], head[order], c[order]
    first = np.r_[True, (np.diff(tail) != 0) | (np.diff(head) != 0)]
    return tail[first].astype(np.int64), head[first].astype(np.int64), c[first]


@contextlib.contextmanager
def quiet_stdout():
    """Send file descriptor 1 to /dev/null for a while (C and C++ code writing to it too)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def per_call(fn, items) -> np.ndarray:
    """Seconds of each fn(item) call."""
    out = np.empty(len(items))
    for i, item in enumerate(items):
        t0 = time.perf_counter()
        fn(item)
        out[i] = time.perf_counter() - t0
    return out


def check(name: str, got, expected, rtol: float = 1e-6) -> None:
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    same_inf = np.array_equal(np.isinf(got), np.isinf(expected))
    fin = np.isfinite(expected)
    if not same_inf or not np.allclose(got[fin], expected[fin], rtol=rtol, atol=1e-6):
        raise SystemExit(f"bench/street.py: {name} disagrees with scipy; not reporting times")


def pairs_in_component(graph: StreetGraph, mode: Mode, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    comp = np.flatnonzero(graph.node_in_component[mode])
    return rng.choice(comp, n), rng.choice(comp, n)


class Table:
    """Rows of (graph, mode, what, median ms, mean ms, note); batched rows have a mean only."""

    def __init__(self):
        self.rows = []

    def add(self, graph, mode, what, seconds, note=""):
        seconds = np.atleast_1d(np.asarray(seconds, dtype=float))
        p50 = float(np.median(seconds) * 1e3) if seconds.size > 1 else math.nan
        self.rows.append((graph, mode, what, p50, float(seconds.mean() * 1e3), note))

    def print(self):
        print(f"{'graph':<10} {'mode':<8} {'what':<48} {'p50 ms':>9} {'mean ms':>9}  note")
        for graph, mode, what, p50, mean, note in self.rows:
            p50_text = f"{p50:9.4f}" if not math.isnan(p50) else f"{'':9}"
            print(f"{graph:<10} {mode:<8} {what:<48} {p50_text} {mean:9.4f}  {note}")


def bench_one_to_one(table: Table, label: str, graph: StreetGraph, mode: Mode, n_pairs: int, rng,
                     with_networkx: bool = True) -> dict:
    profile = StreetProfile(mode)
    cost = street.edge_costs(graph, profile)
    sources, targets = pairs_in_component(graph, mode, n_pairs, rng)
    tail, head, c = simple_edges(graph, cost)
    matrix = scipy.sparse.csr_array((c, (tail, head)), shape=(graph.n_nodes, graph.n_nodes))
    # Truth first (scipy), then every engine is checked against it.
    truth = np.array([scipy.sparse.csgraph.dijkstra(matrix, indices=int(s))[int(t)]
                      for s, t in zip(sources[:5], targets[:5], strict=True)])
    t0 = time.perf_counter()
    street.prepare(graph, [mode])
    prep_s = time.perf_counter() - t0
    table.add(label, mode.name, "prepare: ALT landmarks + snap tree (once)", prep_s,
              f"{street.N_LANDMARKS} landmarks")
    out = {"prepare_s": prep_s}
    results = {}
    for method in street.METHODS:
        street.pair_costs(graph, profile, sources[:2], targets[:2], method=method)  # warm
        costs = street.pair_costs(graph, profile, sources, targets, method=method)
        check(f"{label} {mode.name} {method}", costs[:5], truth)
        results[method] = costs
        calls = per_call(lambda q, m=method: street.one_to_one(graph, profile, int(q[0]), int(q[1]),
                                                               method=m),
                         list(zip(sources, targets, strict=True)))
        t0 = time.perf_counter()
        street.pair_costs(graph, profile, sources, targets, method=method)
        batched = (time.perf_counter() - t0) / n_pairs
        table.add(label, mode.name, f"trajet {method}, one call per query", calls)
        table.add(label, mode.name, f"trajet {method}, batched", batched, "one call, all pairs")
        out[f"{method}_ms"] = float(np.median(calls) * 1e3)
        out[f"{method}_batched_ms"] = batched * 1e3
    reference = results["dijkstra"]
    for method, costs in results.items():
        check(f"{label} {mode.name} {method} vs dijkstra", costs, reference)
    # scipy: with a limit equal to the answer (its best case) and a full search.
    limit_calls, full_calls = [], []
    for s, t, answer in zip(sources, targets, reference, strict=True):
        t0 = time.perf_counter()
        d = scipy.sparse.csgraph.dijkstra(matrix, indices=int(s), limit=answer * (1 + 1e-9))
        limit_calls.append(time.perf_counter() - t0)
        check(f"{label} scipy limit", [d[t]], [answer])
    for s in sources[:min(20, n_pairs)]:
        t0 = time.perf_counter()
        scipy.sparse.csgraph.dijkstra(matrix, indices=int(s))
        full_calls.append(time.perf_counter() - t0)
    out["scipy_limit_ms"] = float(np.median(limit_calls) * 1e3)
    out["scipy_full_ms"] = float(np.median(full_calls) * 1e3)
    table.add(label, mode.name, "scipy csgraph dijkstra(indices, limit=answer)", limit_calls)
    table.add(label, mode.name, "scipy csgraph dijkstra(indices), full search", full_calls,
              f"{len(full_calls)} sources")
    if with_networkx:
        g = nx.DiGraph()
        g.add_nodes_from(range(graph.n_nodes))
        g.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), c.tolist(), strict=True))
        nx_calls = []
        for s, t, answer in zip(sources, targets, reference, strict=True):
            t0 = time.perf_counter()
            d = nx.dijkstra_path_length(g, int(s), int(t))
            nx_calls.append(time.perf_counter() - t0)
            check(f"{label} networkx", [d], [answer])
        out["networkx_ms"] = float(np.median(nx_calls) * 1e3)
        table.add(label, mode.name, "networkx dijkstra_path_length", nx_calls)
        del g
        gc.collect()
    best = out["alt_ms"]
    out["speedup_vs_scipy_limit"] = out["scipy_limit_ms"] / best
    if with_networkx:
        out["speedup_vs_networkx"] = out["networkx_ms"] / best
    return out


def bench_one_to_many(table: Table, label: str, graph: StreetGraph, mode: Mode, rng,
                      n_targets: int = 1000, n_sources: int = 10) -> dict:
    profile = StreetProfile(mode)
    comp = np.flatnonzero(graph.node_in_component[mode])
    sources = rng.choice(comp, n_sources)
    targets = rng.choice(comp, n_targets, replace=False)
    street.one_to_many(graph, profile, int(sources[0]), targets)   # warm
    many = per_call(lambda s: street.one_to_many(graph, profile, int(s), targets), sources)
    full = per_call(lambda s: street.search(graph, profile, int(s)), sources)
    table.add(label, mode.name, f"trajet one_to_many, {n_targets} targets", many)
    table.add(label, mode.name, "trajet search, full single source", full)
    return {"one_to_many_ms": float(np.median(many) * 1e3), "full_search_ms": float(np.median(full) * 1e3),
            "one_to_many_over_full_search": float(np.median(many) / np.median(full))}


def bench_overhead(table: Table, graph: StreetGraph) -> dict:
    """Python cost of a query that does no work (source = target), per call and batched."""
    profile = StreetProfile(Mode.WALK)
    nodes = np.flatnonzero(graph.node_in_component[Mode.WALK])[:10_000]
    street.one_to_one(graph, profile, int(nodes[0]), int(nodes[0]))
    calls = per_call(lambda v: street.one_to_one(graph, profile, int(v), int(v)), nodes[:2000])
    t0 = time.perf_counter()
    street.pair_costs(graph, profile, nodes, nodes)
    batched = (time.perf_counter() - t0) / nodes.size
    table.add("overhead", "WALK", "one_to_one(v, v): a query with no work", calls)
    table.add("overhead", "WALK", "pair_costs(v, v), batched", batched, f"{nodes.size:,} pairs")
    return {"call_overhead_us": float(np.median(calls) * 1e6), "batched_overhead_us": batched * 1e6}


def bench_pandana(table: Table, graph: StreetGraph, mode: Mode, n_pairs: int, rng) -> dict | None:
    try:
        import pandana
        import pandas as pd
    except ImportError:
        print("pandana not installed (pip install -e '.[bench]'): skipping it", file=sys.stderr)
        return None
    profile = StreetProfile(mode)
    cost = street.edge_costs(graph, profile)
    tail, head, c = simple_edges(graph, cost)
    nodes = pd.Index(np.arange(graph.n_nodes))
    t0 = time.perf_counter()
    with quiet_stdout():  # its C++ part prints progress on stdout, which holds our table
        net = pandana.Network(pd.Series(graph.node_x_m, index=nodes),
                              pd.Series(graph.node_y_m, index=nodes), pd.Series(tail), pd.Series(head),
                              pd.DataFrame({"cost": c}), twoway=False)
    prep_s = time.perf_counter() - t0
    sources, targets = pairs_in_component(graph, mode, n_pairs, rng)
    ours = street.pair_costs(graph, profile, sources, targets, method="alt")
    theirs = np.asarray(net.shortest_path_lengths(sources.tolist(), targets.tolist()), dtype=float)
    # pandana keeps edge weights to 1/1000 (integers inside its CH): about 1e-4 relative.
    check("pandana", theirs, ours, rtol=1e-3)
    calls = per_call(lambda q: net.shortest_path_length(int(q[0]), int(q[1])),
                     list(zip(sources, targets, strict=True)))
    t0 = time.perf_counter()
    net.shortest_path_lengths(sources.tolist(), targets.tolist())
    batched = (time.perf_counter() - t0) / n_pairs
    t0 = time.perf_counter()
    street.pair_costs(graph, profile, sources, targets, method="alt")
    ours_batched = (time.perf_counter() - t0) / n_pairs
    table.add("monaco", mode.name, "pandana CH preprocessing (once)", prep_s)
    table.add("monaco", mode.name, "pandana shortest_path_length, one call", calls)
    table.add("monaco", mode.name, "pandana shortest_path_lengths, batched", batched,
              f"{n_pairs:,} pairs")
    table.add("monaco", mode.name, "trajet pair_costs (alt), batched, same pairs", ours_batched,
              f"{n_pairs:,} pairs")
    return {"pandana_prepare_s": prep_s, "pandana_call_ms": float(np.median(calls) * 1e3),
            "pandana_batched_us": batched * 1e6, "trajet_batched_us": ours_batched * 1e6,
            "trajet_batched_over_pandana": ours_batched / batched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", type=int, default=500, help="grid side: N x N nodes (default 500)")
    parser.add_argument("--pairs", type=int, default=200, help="random pairs on Monaco")
    parser.add_argument("--grid-pairs", type=int, default=40, help="random pairs on the grid")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-ch", action="store_true", help="skip the contraction hierarchy part")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    table = Table()
    headline: dict = {}

    if MONACO_PBF.exists():
        from loaders.osm import street_graph_from_osm
        from loaders.report import BuildReport
        monaco = street_graph_from_osm(MONACO_PBF, BuildReport()).street
        print(f"monaco: {monaco.n_nodes:,} nodes, {monaco.n_edges:,} edges", file=sys.stderr)
        for mode in Mode:
            r = bench_one_to_one(table, "monaco", monaco, mode, args.pairs, rng)
            headline[f"monaco_{mode.name.lower()}_one_to_one_ms_p50"] = round(r["alt_ms"], 4)
            headline[f"monaco_{mode.name.lower()}_speedup_vs_networkx"] = round(r["speedup_vs_networkx"], 1)
            headline[f"monaco_{mode.name.lower()}_speedup_vs_scipy_limit"] = round(
                r["speedup_vs_scipy_limit"], 2)
        r = bench_one_to_many(table, "monaco", monaco, Mode.WALK, rng)
        headline["monaco_one_to_many_over_full_search"] = round(r["one_to_many_over_full_search"], 2)
        pd_result = bench_pandana(table, monaco, Mode.WALK, 2000, rng)
        if pd_result:
            headline["pandana_batched_us_per_query"] = round(pd_result["pandana_batched_us"], 2)
            headline["pandana_call_ms"] = round(pd_result["pandana_call_ms"], 3)
            headline["trajet_batched_us_per_query"] = round(pd_result["trajet_batched_us"], 2)
            headline["trajet_batched_over_pandana"] = round(pd_result["trajet_batched_over_pandana"], 2)
        headline.update({k: round(v, 3) for k, v in bench_overhead(table, monaco).items()})
    else:
        print(f"{MONACO_PBF} missing: Monaco and pandana rows skipped", file=sys.stderr)

    ch: dict = {}
    if not args.no_ch and street_ch.POA_PBF.exists():
        ch.update(street_ch.bench_porto_alegre(table, rng))
    elif not args.no_ch:
        print(f"{street_ch.POA_PBF} missing: Porto Alegre rows skipped", file=sys.stderr)

    t0 = time.perf_counter()
    grid = grid_street_graph(args.grid, args.grid, seed=args.seed)
    label = f"grid {grid.n_nodes // 1000}k"
    print(f"{label}: {grid.n_nodes:,} nodes, {grid.n_edges:,} edges, built in "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    headline["grid_nodes"] = grid.n_nodes
    for mode in (Mode.CAR, Mode.WALK):
        r = bench_one_to_one(table, label, grid, mode, args.grid_pairs, rng)
        key = f"grid_{mode.name.lower()}"
        headline[f"{key}_one_to_one_ms_p50"] = round(r["alt_ms"], 4)
        headline[f"{key}_speedup_vs_networkx"] = round(r["speedup_vs_networkx"], 1)
        headline[f"{key}_speedup_vs_scipy_limit"] = round(r["speedup_vs_scipy_limit"], 2)
        headline[f"{key}_speedup_vs_scipy_full"] = round(r["scipy_full_ms"] / r["alt_ms"], 2)
        headline[f"{key}_prepare_s"] = round(r["prepare_s"], 2)
        for method in ("dijkstra", "astar", "bidirectional"):
            headline[f"{key}_{method}_ms_p50"] = round(r[f"{method}_ms"], 3)
    r = bench_one_to_many(table, label, grid, Mode.CAR, rng)
    headline["grid_one_to_many_1000_ms"] = round(r["one_to_many_ms"], 2)
    headline["grid_full_search_ms"] = round(r["full_search_ms"], 2)
    headline["grid_one_to_many_over_full_search"] = round(r["one_to_many_over_full_search"], 2)
    if not args.no_ch:
        ch.update(street_ch.bench_grid_ch(table, grid, rng, args.grid_pairs))
        headline.update({k: round(v, 4) if isinstance(v, float) else v for k, v in ch.items()})
        headline["ch_build_s"] = headline.get("poa_ch_build_s")
        headline["mismatches"] = ch.get("mismatches", 0) + ch.get("grid_mismatches", 0)

    table.print()
    print(json.dumps({k: (None if isinstance(v, float) and math.isnan(v) else v)
                      for k, v in headline.items()}))


if __name__ == "__main__":
    main()
