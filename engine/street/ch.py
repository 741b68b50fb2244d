"""Customizable contraction hierarchy (CCH): the Python face of exact street queries at
hierarchy speed.

A CCH has two halves (Dibbelt, Strasser & Wagner 2016):

* the **topology** (:class:`CchTopology`, :func:`hierarchy`): a nested dissection order of the
  nodes and the chordal graph it gives, built once per street graph from its topology and node
  positions alone (:mod:`engine.street.ch_order`), shared by every mode and every scenario graph
  made with ``StreetGraph.with_costs`` (they share the topology arrays);
* a **metric** (:class:`CchMetric`, :func:`customize`): the arc weights of one cost array
  (walk, bike with or without a lane preference, car, or a scenario's costs), computed from the
  topology in about a second on a city. A scenario that changes costs re-customises; it never
  needs a new order.

Queries (:func:`ch_pair_costs`, :func:`ch_many_to_many`, :func:`ch_shortest_path`) take a
``StreetProfile``, a ``CchMetric`` or a cost array per edge, and return exactly what the
Dijkstra searches of :mod:`engine.street.searches` return (costs equal to float rounding;
UNREACHED where there is no path). One-way streets are respected: every arc has a weight per
direction. Nodes outside a mode's component simply have infinite arcs.

A bundle stores the topology and the default metric of each mode (``loaders/bundle.py``);
:func:`attach_hierarchy` hands them to a loaded graph so that queries skip the build.
"""
from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from engine.cache import Memo, PerObject
from engine.model import Mode, StreetGraph
from engine.street.ch_kernels import (
    _bucket_matrix,
    _customize,
    _et_query,
    _needed,
    _pairs_kernel,
    _path_edges,
    _perfect,
)
from engine.street.ch_order import _chordal_completion, _edge_arcs, nested_dissection_rank
from engine.street.constants import UNREACHED
from engine.street.profiles import StreetProfile, edge_costs
from engine.street.searches import _as_nodes, _check_limit


@dataclass(frozen=True)
class CchTopology:
    """The metric-independent hierarchy of a street graph; nodes inside are ranks.

    ``rank[node]`` and ``node_of_rank[rank]``; arcs ``up_indptr`` (per rank, int64) ->
    ``up_head`` (higher rank, ascending) with ``arc_tail`` (lower rank); ``parent[rank]`` in
    the elimination tree (-1 at roots); ``edge_arc[edge]`` (-1 for a self-loop) and
    ``edge_down[edge]`` (the edge runs from the higher rank to the lower).
    """

    rank: np.ndarray
    node_of_rank: np.ndarray
    up_indptr: np.ndarray
    up_head: np.ndarray
    arc_tail: np.ndarray
    parent: np.ndarray
    edge_arc: np.ndarray
    edge_down: np.ndarray

    @property
    def n_arcs(self) -> int:
        return int(self.up_head.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by field name (what a bundle stores)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class CchMetric:
    """Arc weights of one cost array over a :class:`CchTopology`, after perfect customization.

    ``up_w[arc]``: least cost from the arc's lower node to its higher; ``dn_w`` the other way
    (inf = no way). ``up_mid`` / ``dn_mid``: the node (rank) a weight passes through, -1 when it
    is the street edge ``up_edge`` / ``dn_edge``. The query graphs keep only the arc directions
    a query needs: ``f_ptr`` (per rank) -> ``f_head``, ``f_w``, ``f_arc`` for the forward
    (upward) search, ``b_*`` likewise for the backward search.
    """

    up_w: np.ndarray
    dn_w: np.ndarray
    up_mid: np.ndarray
    dn_mid: np.ndarray
    up_edge: np.ndarray
    dn_edge: np.ndarray
    f_ptr: np.ndarray
    f_head: np.ndarray
    f_w: np.ndarray
    f_arc: np.ndarray
    b_ptr: np.ndarray
    b_head: np.ndarray
    b_w: np.ndarray
    b_arc: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def query_graphs(self) -> tuple:
        return (self.f_ptr, self.f_head, self.f_w, self.f_arc, self.b_ptr, self.b_head, self.b_w,
                self.b_arc)


def _c(a, dtype) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a), dtype=dtype)


def build_hierarchy(graph: StreetGraph) -> CchTopology:
    """Order the nodes (nested dissection) and build the chordal graph: a new CchTopology.

    Seconds on a city (about 0.5 s for 40,000 nodes once numba has compiled). Prefer
    :func:`hierarchy`, which caches it.
    """
    tail = _c(graph.edge_tail, np.int64)
    head = _c(graph.indices, np.int64)
    rank = nested_dissection_rank(graph.n_nodes, tail, head, graph.node_x_m, graph.node_y_m)
    up_indptr, up_head = _chordal_completion(graph.n_nodes, rank[tail], rank[head])
    edge_arc, edge_down = _edge_arcs(rank, tail, head, up_indptr, up_head)
    n = graph.n_nodes
    deg = np.diff(up_indptr)
    parent = np.full(n, -1, dtype=np.int64)
    has_up = deg > 0
    parent[has_up] = up_head[up_indptr[:-1][has_up]]
    node_of_rank = np.empty(n, dtype=np.int32)
    node_of_rank[rank] = np.arange(n, dtype=np.int32)
    return CchTopology(rank=rank.astype(np.int32), node_of_rank=node_of_rank, up_indptr=up_indptr,
                       up_head=up_head, arc_tail=np.repeat(np.arange(n, dtype=np.int32), deg),
                       parent=parent, edge_arc=edge_arc, edge_down=edge_down)


# The topology is cached by the graph's head array, which StreetGraph.with_costs shares: a
# scenario graph reuses its base graph's order. Metrics are cached per (graph, profile): a
# scenario graph has other costs under the same profile.
_topologies: PerObject = PerObject(lambda indices: _Holder())
_metrics: PerObject = PerObject(lambda graph: Memo(size=16))
_lock = threading.Lock()


_PRUNE_UPPER = True


class _Holder:
    __slots__ = ("topology",)

    def __init__(self):
        self.topology: CchTopology | None = None


def hierarchy(graph: StreetGraph) -> CchTopology:
    """The graph's CchTopology: attached from its bundle, or built on first use and kept."""
    holder = _topologies(graph.indices)
    if holder.topology is None:
        topo = build_hierarchy(graph)
        with _lock:
            if holder.topology is None:
                holder.topology = topo
    return holder.topology


def customize(graph: StreetGraph, costs: np.ndarray) -> CchMetric:
    """The CchMetric of a cost array (seconds per edge, inf = not allowed) on the graph's
    hierarchy. Raises ValueError for a wrong shape or negative/NaN costs."""
    costs = np.ascontiguousarray(np.asarray(costs, dtype=np.float64))
    if costs.shape != (graph.n_edges,):
        raise ValueError(f"customize: costs has shape {costs.shape}, expected ({graph.n_edges},)")
    if np.isnan(costs).any() or (costs < 0).any():
        raise ValueError("customize: costs must be >= 0 seconds (inf = not allowed), got NaN or negative")
    topo = hierarchy(graph)
    m = topo.n_arcs
    up_w, dn_w = np.empty(m), np.empty(m)
    up_mid, dn_mid = np.empty(m, np.int32), np.empty(m, np.int32)
    up_edge, dn_edge = np.empty(m, np.int32), np.empty(m, np.int32)
    _customize(topo.up_indptr, topo.up_head, topo.edge_arc, topo.edge_down, costs, up_w, dn_w,
               up_mid, dn_mid, up_edge, dn_edge)
    _perfect(topo.up_indptr, topo.up_head, up_w, dn_w, up_mid, dn_mid)
    keep_up, keep_dn = np.empty(m, dtype=np.bool_), np.empty(m, dtype=np.bool_)
    _needed(topo.up_indptr, topo.up_head, up_w, dn_w, keep_up, keep_dn, _PRUNE_UPPER)
    f = _query_graph(topo, keep_up, up_w)
    b = _query_graph(topo, keep_dn, dn_w)
    return CchMetric(up_w=up_w, dn_w=dn_w, up_mid=up_mid, dn_mid=dn_mid, up_edge=up_edge,
                     dn_edge=dn_edge, f_ptr=f[0], f_head=f[1], f_w=f[2], f_arc=f[3], b_ptr=b[0],
                     b_head=b[1], b_w=b[2], b_arc=b[3])


def has_hierarchy(graph: StreetGraph) -> bool:
    """Whether the graph's hierarchy exists (attached from its bundle, built by
    :func:`prepare_hierarchy` or by an earlier query, or shared with the graph a scenario graph
    was made from); checking builds nothing."""
    return _topologies(graph.indices).topology is not None


CUSTOMISE_MAX_ARCS = 2_000_000
""":func:`ready_metric` customises a missing metric only on a hierarchy of at most this many arcs:
Porto Alegre's (39k nodes, 0.23 M arcs) customises in about 0.1 s per mode, the 250,000-node
grid's (no small separators) in 30-70 s, more than the searches it would save."""


def ready_metric(graph: StreetGraph, profile: StreetProfile, *, customise: bool = False
                 ) -> CchMetric | None:
    """The CchMetric that answers ``profile`` on the graph's hierarchy, or None when the caller
    should use the Dijkstra/ALT searches instead.

    None when the graph has no hierarchy (it is never built here: ordering a city takes
    seconds). When the profile's metric is not customised yet (another walking speed, a bike-lane
    preference, a scenario graph's own costs), ``customise`` customises it now and keeps it
    (about 0.01 s on Monaco, 0.1 s per mode on Porto Alegre: what a matrix pays once) when the
    hierarchy has at most :data:`CUSTOMISE_MAX_ARCS` arcs; otherwise, and without
    ``customise``, the answer is None, so a single query never waits for a customization.
    """
    if not has_hierarchy(graph):
        return None
    found = _metrics(graph).peek(profile)
    if found is None and customise and hierarchy(graph).n_arcs <= CUSTOMISE_MAX_ARCS:
        return metric(graph, profile)
    return found


def _query_graph(topo: CchTopology, keep: np.ndarray, w: np.ndarray) -> tuple:
    """(ptr, head, weight, arc) of the kept arc directions, by lower rank (arcs are sorted so)."""
    arcs = np.flatnonzero(keep)
    ptr = np.zeros(topo.rank.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(topo.arc_tail[arcs], minlength=topo.rank.size), out=ptr[1:])
    return ptr, topo.up_head[arcs].copy(), w[arcs].copy(), arcs.astype(np.int32)


def _stored_profile(graph: StreetGraph, mode: Mode) -> StreetProfile:
    """The profile whose costs are the graph's stored cost array of a mode (what bundles keep)."""
    return StreetProfile(mode, walk_speed_mps=graph.walk_speed_mps, bike_speed_mps=graph.bike_speed_mps)


def attach_hierarchy(graph: StreetGraph, topology: CchTopology,
                     metrics: dict[Mode, CchMetric] | None = None) -> None:
    """Hand a stored topology (and the metrics of the graph's stored mode costs) to a graph,
    so queries use them instead of building. Raises ValueError when they do not fit the graph."""
    if topology.rank.shape != (graph.n_nodes,) or topology.edge_arc.shape != (graph.n_edges,):
        raise ValueError("attach_hierarchy: the hierarchy was built for another graph")
    _topologies(graph.indices).topology = topology
    memo = _metrics(graph)
    for mode, metric in (metrics or {}).items():
        if metric.up_w.shape != (topology.n_arcs,):
            raise ValueError(f"attach_hierarchy: the {Mode(mode).name} metric does not fit the hierarchy")
        memo.get(_stored_profile(graph, Mode(mode)), lambda m=metric: m)


def metric(graph: StreetGraph, profile_or_costs) -> CchMetric:
    """The CchMetric of a StreetProfile (cached), a CchMetric (as is) or a cost array."""
    if isinstance(profile_or_costs, CchMetric):
        return profile_or_costs
    if isinstance(profile_or_costs, StreetProfile):
        memo = _metrics(graph)
        return memo.get(profile_or_costs, lambda: customize(graph, edge_costs(graph, profile_or_costs)))
    if isinstance(profile_or_costs, Mode):
        raise TypeError("pass StreetProfile(mode), not a Mode")
    return customize(graph, profile_or_costs)


class _ChWorkspace:
    """Per-thread search state of the hierarchy queries (reset by each query itself)."""

    __slots__ = ("df", "db", "pf", "pb", "mf", "mb", "of", "ob", "meet", "path", "chain", "stack")

    def __init__(self, n: int):
        self.df, self.db = np.full(n, np.inf), np.full(n, np.inf)
        self.pf, self.pb = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
        self.mf, self.mb = np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_)
        self.of, self.ob = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        self.meet = np.empty(1, dtype=np.int64)
        self.path = np.empty(n, dtype=np.int32)    # the street edges of the last path unpacked
        self.chain = np.empty(n, dtype=np.int64)   # scratch of the unpacking
        self.stack = np.empty((n + 2, 2), dtype=np.int64)

    def state(self) -> tuple:
        return self.df, self.db, self.pf, self.pb, self.mf, self.mb, self.of, self.ob


_local = threading.local()


def _workspace(n: int) -> _ChWorkspace:
    spaces = getattr(_local, "spaces", None)
    if spaces is None:
        spaces = _local.spaces = {}
    ws = spaces.get(n)
    if ws is None:
        if len(spaces) >= 4:
            spaces.pop(next(iter(spaces)))
        ws = spaces[n] = _ChWorkspace(n)
    return ws


MIN_QUERIES_PER_THREAD = 512
"""A batch of queries (pairs, or the sources of a bucket scan) is split over threads (the kernels
release the GIL; each thread has its own workspace) once each thread gets at least this many,
as pandana's batched queries run on OpenMP threads."""

_pool_lock = threading.Lock()
_pool: list = []


def _n_threads() -> int:
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 8))
    except AttributeError:   # not on Linux
        return max(1, min(os.cpu_count() or 1, 8))


def in_threads(n_queries: int, run) -> None:
    """``run(lo, hi)`` over slices of ``range(n_queries)``: in this thread for a small batch, else
    over a shared pool of threads (one slice per thread). ``run`` writes its own slice."""
    threads = min(_n_threads(), n_queries // MIN_QUERIES_PER_THREAD)
    if threads <= 1:
        run(0, n_queries)
        return
    with _pool_lock:
        if not _pool:
            _pool.append(ThreadPoolExecutor(max_workers=_n_threads(), thread_name_prefix="trajet-ch"))
    bounds = np.linspace(0, n_queries, threads + 1).astype(np.int64)
    futures = [_pool[0].submit(run, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    for f in futures:
        f.result()


def _run_pairs(graph, met, src_ptr, src_node, src_cost, tgt_ptr, tgt_node, tgt_cost, max_cost):
    """Costs of queries given as CSR lists of (node, offset) per side; nodes are node indices."""
    topo = hierarchy(graph)
    out = np.empty(src_ptr.size - 1)
    src_rank, tgt_rank = topo.rank[src_node], topo.rank[tgt_node]
    graphs = met.query_graphs()

    def run(lo: int, hi: int) -> None:
        s0, s1, t0, t1 = src_ptr[lo], src_ptr[hi], tgt_ptr[lo], tgt_ptr[hi]
        _pairs_kernel(*graphs, topo.parent, src_ptr[lo:hi + 1] - s0, src_rank[s0:s1], src_cost[s0:s1],
                      tgt_ptr[lo:hi + 1] - t0, tgt_rank[t0:t1], tgt_cost[t0:t1], max_cost,
                      *_workspace(graph.n_nodes).state(), out[lo:hi])

    in_threads(out.size, run)
    return out


def _run_matrix(graph, met, src_ptr, src_node, src_cost, tgt_ptr, tgt_node, tgt_cost, max_cost):
    topo = hierarchy(graph)
    out = np.empty((src_ptr.size - 1, tgt_ptr.size - 1))
    if out.size:
        _bucket_matrix(*met.query_graphs(), topo.parent, src_ptr,
                       topo.rank[src_node], src_cost, tgt_ptr, topo.rank[tgt_node], tgt_cost,
                       max_cost, *_workspace(graph.n_nodes).state(), out)
    return out


def ch_pair_costs(graph: StreetGraph, profile_or_costs, source_nodes, target_nodes, *,
                  max_cost: float = math.inf) -> np.ndarray:
    """Cost (s) of each (source_nodes[i], target_nodes[i]) pair, all in one kernel call.

    Equal to :func:`engine.street.pair_costs` (UNREACHED where no path within ``max_cost``).
    ``profile_or_costs``: a StreetProfile, a CchMetric or a cost array per edge (customised for
    this call: keep the CchMetric of :func:`customize` to reuse it). Raises ValueError for
    nodes outside the graph or arrays of unequal size.
    """
    sources = _as_nodes(graph, source_nodes, "source_nodes")
    targets = _as_nodes(graph, target_nodes, "target_nodes")
    if sources.size != targets.size:
        raise ValueError(f"ch_pair_costs: {sources.size} source_nodes but {targets.size} target_nodes")
    ptr = np.arange(sources.size + 1, dtype=np.int64)
    zeros = np.zeros(sources.size)
    return _run_pairs(graph, metric(graph, profile_or_costs), ptr, sources, zeros, ptr, targets,
                      zeros, _check_limit(max_cost))


def ch_many_to_many(graph: StreetGraph, profile_or_costs, source_nodes, target_nodes, *,
                    max_cost: float = math.inf) -> np.ndarray:
    """(n_sources, n_targets) matrix of costs (s) by bucket-based many-to-many on the hierarchy.

    Equal to :func:`engine.street.many_to_many`; one upward search per source and per target,
    whatever the matrix size. UNREACHED where no path within ``max_cost``.
    """
    sources = _as_nodes(graph, source_nodes, "source_nodes")
    targets = _as_nodes(graph, target_nodes, "target_nodes")
    s_ptr = np.arange(sources.size + 1, dtype=np.int64)
    t_ptr = np.arange(targets.size + 1, dtype=np.int64)
    return _run_matrix(graph, metric(graph, profile_or_costs), s_ptr, sources, np.zeros(sources.size),
                       t_ptr, targets, np.zeros(targets.size), _check_limit(max_cost))


def _ch_search_between(graph, met, src_nodes, src_cost, tgt_nodes, tgt_cost, max_cost
                       ) -> tuple[float, np.ndarray, int]:
    """(cost, street edges of the path in order, first node) of the cheapest source -> target
    way, like ``engine.street.paths._search_between``; (UNREACHED, [], -1) when none."""
    topo = hierarchy(graph)
    ws = _workspace(graph.n_nodes)
    best = _et_query(*met.query_graphs(), topo.parent,
                     topo.rank[src_nodes], np.asarray(src_cost, dtype=np.float64),
                     topo.rank[tgt_nodes], np.asarray(tgt_cost, dtype=np.float64), max_cost,
                     *ws.state(), ws.meet)
    if not math.isfinite(best):
        return UNREACHED, np.zeros(0, np.int32), -1
    k, first, _ = _path_edges(topo.up_indptr, topo.up_head, topo.arc_tail, met.up_mid, met.dn_mid,
                              met.up_edge, met.dn_edge, int(ws.meet[0]), ws.pf, ws.pb, ws.path,
                              ws.chain, ws.stack)
    return float(best), ws.path[:k].copy(), int(topo.node_of_rank[first])


def ch_shortest_path(graph: StreetGraph, profile: StreetProfile, source_node: int, target_node: int,
                     *, max_cost: float = math.inf):
    """The least-cost path between two nodes on the hierarchy (a StreetPath), or None when none
    exists within max_cost. Same cost as :func:`engine.street.shortest_path`."""
    from engine.street.paths import _make_path, _nodes_of

    s = _as_nodes(graph, source_node, "source_node")
    t = _as_nodes(graph, target_node, "target_node")
    zero = np.zeros(1)
    best, edges, first = _ch_search_between(graph, metric(graph, profile), s, zero, t, zero,
                                            _check_limit(max_cost))
    if not math.isfinite(best):
        return None
    if first < 0 or not edges.size:
        first = int(s[0])
    return _make_path(graph, profile, best, _nodes_of(graph, edges, first), edges, np.ones(edges.size))


def prepare_hierarchy(graph: StreetGraph, modes=tuple(Mode)) -> dict:
    """Build the hierarchy and the default metric of each mode now; returns seconds per step
    (``order_s`` and ``customize_<mode>_s``)."""
    timings = {}
    t0 = time.perf_counter()
    hierarchy(graph)
    timings["order_s"] = time.perf_counter() - t0
    for mode in modes:
        t0 = time.perf_counter()
        metric(graph, _stored_profile(graph, Mode(mode)))
        timings[f"customize_{Mode(mode).name.lower()}_s"] = time.perf_counter() - t0
    return timings


def stored_metrics(graph: StreetGraph, modes=tuple(Mode)) -> dict[Mode, CchMetric]:
    """The metrics of the graph's stored mode costs (what a bundle keeps)."""
    return {Mode(mode): metric(graph, _stored_profile(graph, Mode(mode))) for mode in modes}


def built_hierarchy(graph: StreetGraph) -> tuple[CchTopology, dict[Mode, CchMetric]] | None:
    """(topology, metrics of the stored mode costs already customised) when the graph's hierarchy
    exists (built or attached), else None; builds nothing."""
    holder = _topologies(graph.indices)
    if holder.topology is None:
        return None
    memo = _metrics(graph)
    found = {mode: memo.peek(_stored_profile(graph, mode)) for mode in Mode}
    return holder.topology, {mode: m for mode, m in found.items() if m is not None}
