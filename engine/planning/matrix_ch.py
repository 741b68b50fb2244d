"""Street matrices on the contraction hierarchy: the times of ``engine.planning.matrix``'s street
modes (walking, cycling without a bike-lane preference, driving door to door) by bucket
many-to-many (``engine.street.ch_buckets`` once per destination set, ``engine.street.ch_scan``
per chunk of origins) instead of one Dijkstra search per origin.

Equal to the searches: each snapped point starts (or ends) at both ends of its segment with the
partial edge costs the searches use, pairs on a shared segment take the direct way along it when
cheaper, and the walk between each point and its street is added. Only for profiles whose cost
is their travel time (a bike-lane preference makes the searched cost differ from the time
reported: the matrix then keeps its searches, which follow the tree for the time).
"""
from __future__ import annotations

import numpy as np

from engine import street as streets


def _part(share, c):
    """A share of an edge's cost; inf (not 0 * inf = NaN) where the edge may not be used."""
    return np.where(np.isfinite(c), share * np.where(np.isfinite(c), c, 0.0), np.inf)


def point_lists(ends, *, leaving: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ptr, nodes, costs) CSR lists of snapped points (``engine.planning.matrix._Ends``), two
    candidate nodes each: leaving a point, its segment's head (forward part) and tail (backward
    part); arriving, from its tail and from its head. Points not accessible get inf (skipped)."""
    f = ends.fraction
    if leaving:
        nodes = np.column_stack([ends.head, ends.tail])
        costs = np.column_stack([_part(1 - f, ends.fwd_cost), _part(f, ends.bwd_cost)])
    else:
        nodes = np.column_stack([ends.tail, ends.head])
        costs = np.column_stack([_part(f, ends.fwd_cost), _part(1 - f, ends.bwd_cost)])
    costs[~ends.ok] = np.inf
    ptr = np.arange(0, 2 * f.size + 1, 2, dtype=np.int64)
    return ptr, nodes.reshape(-1).astype(np.int32), costs.reshape(-1)


def destination_buckets(graph, metric, dest_ends, limit_s: float) -> streets.CchBuckets:
    """The buckets of a destination set, within ``limit_s``."""
    return streets.ch_buckets(graph, metric, *point_lists(dest_ends, leaving=False), max_cost=limit_s)


def _segment_key(graph, ends) -> np.ndarray:
    lo = np.minimum(ends.tail, ends.head).astype(np.int64)
    return lo * graph.n_nodes + np.maximum(ends.tail, ends.head)


def _direct_costs(graph, o, t, cost: np.ndarray) -> None:
    """Lower cost[i, j] to the direct way along a segment origin i and destination j share."""
    o_key = np.where(o.ok, _segment_key(graph, o), -1)
    t_key = np.where(t.ok, _segment_key(graph, t), -2)
    order = np.argsort(t_key, kind="stable")
    sorted_key = t_key[order]
    lo = np.searchsorted(sorted_key, o_key, side="left")
    hi = np.searchsorted(sorted_key, o_key, side="right")
    count = hi - lo
    if not count.any():
        return
    rows = np.repeat(np.arange(o_key.size), count)
    starts = np.repeat(lo - np.r_[0, np.cumsum(count)[:-1]], count)
    cols = order[starts + np.arange(rows.size)]
    f = o.fraction[rows]
    f_dest = np.where(t.tail[cols] == o.tail[rows], t.fraction[cols], 1 - t.fraction[cols])
    d = np.where(f_dest >= f, _part(f_dest - f, o.fwd_cost[rows]), _part(f - f_dest, o.bwd_cost[rows]))
    cost[rows, cols] = np.minimum(cost[rows, cols], d)


def street_times(graph, buckets: streets.CchBuckets, o, t, limit_s: float) -> np.ndarray:
    """(n_o, n_d) travel time (s, inf beyond ``limit_s`` of street travel) from the snapped
    origins ``o`` to the destinations ``t`` whose buckets are ``buckets``, the walks between
    the points and the streets included (as ``engine.planning.matrix._street_times``)."""
    cost = streets.ch_scan(graph, buckets, *point_lists(o, leaving=True))
    _direct_costs(graph, o, t, cost)
    return np.where(cost <= limit_s, cost + t.off_s[None, :] + o.off_s[:, None], np.inf)
