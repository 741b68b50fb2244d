"""Bucket many-to-many on the contraction hierarchy with the targets' buckets kept apart from the
sources' scans: a matrix computed a chunk of origins at a time (``engine.planning.matrix``) fills
its destinations' buckets once and scans them for every chunk.

Sources and targets are CSR lists of (street node, starting cost) per query, as
:func:`engine.street.ch.ch_pair_costs` takes them: a snapped point starts from both ends of its
segment with the partial edge costs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.model import StreetGraph
from engine.street.ch import CchMetric, _workspace, hierarchy, in_threads
from engine.street.ch_kernels import _bucket_scan, _fill_buckets
from engine.street.searches import _check_limit


@dataclass(frozen=True)
class CchBuckets:
    """The backward upward searches of a target list: per node (rank) ``start`` ->
    (``target`` index, ``cost`` s from the node to it), within ``max_cost``."""

    metric: CchMetric
    start: np.ndarray
    target: np.ndarray
    cost: np.ndarray
    n_targets: int
    max_cost: float


def _lists(ptr, node, cost, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ptr = np.ascontiguousarray(ptr, dtype=np.int64)
    node = np.ascontiguousarray(node, dtype=np.int64)
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    if ptr.ndim != 1 or ptr.size < 1 or ptr[0] != 0 or ptr[-1] != node.size or node.size != cost.size:
        raise ValueError(f"{name}: expected CSR lists (ptr from 0 to len(nodes), one cost per node)")
    if np.isnan(cost).any() or (cost < 0).any():
        raise ValueError(f"{name}: starting costs must be >= 0 seconds (inf = skip), got NaN or negative")
    return ptr, node, cost


def ch_buckets(graph: StreetGraph, met: CchMetric, tgt_ptr, tgt_node, tgt_cost, *,
               max_cost: float = np.inf) -> CchBuckets:
    """Fill the buckets of target queries ``tgt_ptr`` -> (``tgt_node``, ``tgt_cost``: cost (s)
    from the node to the target). Raises ValueError for malformed lists or nodes outside the graph."""
    tgt_ptr, tgt_node, tgt_cost = _lists(tgt_ptr, tgt_node, tgt_cost, "ch_buckets")
    if tgt_node.size and (tgt_node.min() < 0 or tgt_node.max() >= graph.n_nodes):
        raise ValueError("ch_buckets: a target node is outside the graph")
    max_cost = _check_limit(max_cost)
    topo = hierarchy(graph)
    ws = _workspace(graph.n_nodes)
    start, target, cost = _fill_buckets(met.b_ptr, met.b_head, met.b_w, met.b_arc, topo.parent, tgt_ptr,
                                        topo.rank[tgt_node], tgt_cost, max_cost,
                                        ws.db, ws.pb, ws.mb, ws.ob)
    return CchBuckets(metric=met, start=start, target=target, cost=cost, n_targets=tgt_ptr.size - 1,
                      max_cost=max_cost)


def ch_scan(graph: StreetGraph, buckets: CchBuckets, src_ptr, src_node, src_cost) -> np.ndarray:
    """(n_sources, n_targets) least costs (s) from each source query to each target of
    ``buckets`` (inf where none within the buckets' ``max_cost``); equal to the Dijkstra searches."""
    src_ptr, src_node, src_cost = _lists(src_ptr, src_node, src_cost, "ch_scan")
    if src_node.size and (src_node.min() < 0 or src_node.max() >= graph.n_nodes):
        raise ValueError("ch_scan: a source node is outside the graph")
    topo = hierarchy(graph)
    met = buckets.metric
    out = np.empty((src_ptr.size - 1, buckets.n_targets))
    src_rank = topo.rank[src_node]

    def run(lo: int, hi: int) -> None:
        ws = _workspace(graph.n_nodes)
        s0, s1 = src_ptr[lo], src_ptr[hi]
        _bucket_scan(met.f_ptr, met.f_head, met.f_w, met.f_arc, topo.parent, src_ptr[lo:hi + 1] - s0,
                     src_rank[s0:s1], src_cost[s0:s1], buckets.max_cost, buckets.start,
                     buckets.target, buckets.cost, ws.df, ws.pf, ws.mf, ws.of, out[lo:hi])

    if out.size:
        in_threads(out.shape[0], run)
    return out
