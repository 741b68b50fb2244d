"""The numba search kernels over the graph's CSR arrays and one cost array per profile.

* ``_dijkstra``: multi-source Dijkstra with an indexed 4-ary heap, early exit when every target
  is settled (one-to-many) or when no cheaper way to a target can remain (one-to-one with
  offsets at the targets), and a cost limit. The same kernel runs on the reversed CSR for
  backward searches ("from every node to this point", arrive-by).
* ``_astar``: the same search led by a lower bound: the straight line (see
  :func:`engine.street.profiles._astar_cost_per_m`) and, for method ``alt``, landmarks (ALT:
  Goldberg & Harrelson's triangle-inequality bounds from 16 landmarks per mode, the 4 best for
  each query).
* ``_bidirectional``: Dijkstra from both ends at once, stopping when the two frontier keys add up
  to the best meeting cost found.
* ``_pairs_kernel`` and ``_many_to_many_kernel`` run many queries in one call; ``_trace`` and
  ``_best_edges_between`` serve paths and snapped points.

Search state lives in the workspaces of :mod:`engine.street.workspace`.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from engine.deadline import CHECK_MASK
from engine.street.constants import _LM_EPS, N_ACTIVE_LANDMARKS, NO_PREDECESSOR
from engine.street.workspace import (
    _F_BOUND,
    _F_DIST,
    _F_KEY,
    _F_TARGET,
    _I_HEAP,
    _I_POS,
    _I_PRED,
    _I_TOUCHED,
    _NOT_IN_HEAP,
    _SETTLED,
)


# The priority queue is an indexed 4-ary heap on two flat arrays (keys, nodes) plus each node's
# slot in it (``pos``), so a node is in the heap at most once and its key can be lowered in place.
# Four children per slot halve the depth of a binary heap and measured about 1.8x faster here.
@numba.njit(cache=True, nogil=True, inline="always")
def _heap_push(heap_node, heap_key, pos, size, v, key):
    """Insert v with key, or lower the key of v already in the heap; returns the heap size."""
    i = pos[v]
    if i < 0:
        i = size
        size += 1
    while i > 0:
        parent = (i - 1) >> 2
        parent_key = heap_key[parent]
        if parent_key <= key:
            break
        parent_node = heap_node[parent]
        heap_node[i] = parent_node
        heap_key[i] = parent_key
        pos[parent_node] = i
        i = parent
    heap_node[i] = v
    heap_key[i] = key
    pos[v] = i
    return size


@numba.njit(cache=True, nogil=True, inline="always")
def _heap_pop(heap_node, heap_key, pos, size):
    """Remove the node of smallest key, mark it settled; returns (node, new size)."""
    top = heap_node[0]
    pos[top] = _SETTLED
    size -= 1
    if size > 0:
        node = heap_node[size]
        key = heap_key[size]
        i = 0
        while True:
            first = 4 * i + 1
            if first >= size:
                break
            child = first
            child_key = heap_key[first]
            for c in range(first + 1, min(first + 4, size)):
                if heap_key[c] < child_key:
                    child_key = heap_key[c]
                    child = c
            if child_key >= key:
                break
            child_node = heap_node[child]
            heap_node[i] = child_node
            heap_key[i] = child_key
            pos[child_node] = i
            i = child
        heap_node[i] = node
        heap_key[i] = key
        pos[node] = i
    return top, size


@numba.njit(cache=True, nogil=True)
def _reset(fbuf, ibuf, count):
    dist = fbuf[_F_DIST]
    pred = ibuf[_I_PRED]
    pos = ibuf[_I_POS]
    touched = ibuf[_I_TOUCHED]
    for i in range(count[0]):
        v = touched[i]
        dist[v] = np.inf
        pred[v] = NO_PREDECESSOR
        pos[v] = _NOT_IN_HEAP
    count[0] = 0


@numba.njit(cache=True, nogil=True)
def _seed(source_nodes, source_cost, max_cost, dist, pred, pos, heap_node, heap_key, touched,
          key_bound):
    """Push the sources (cheapest offset per node); key_bound (or None) adds an A* bound."""
    n_touched = 0
    size = 0
    for i in range(source_nodes.shape[0]):
        v = source_nodes[i]
        c = source_cost[i]
        if c < dist[v] and c <= max_cost:
            if dist[v] == np.inf:
                touched[n_touched] = v
                n_touched += 1
            dist[v] = c
            pred[v] = NO_PREDECESSOR
            key = c if key_bound is None else c + key_bound[v]
            size = _heap_push(heap_node, heap_key, pos, size, v, key)
    return size, n_touched


@numba.njit(cache=True, nogil=True)
def _dijkstra(indptr, indices, cost, source_nodes, source_cost, target_nodes, target_cost,
              stop_at_best, max_cost, fbuf, ibuf, count, stop_flag):
    """Multi-source Dijkstra over a CSR graph (forward or reversed).

    Sources start at ``source_cost``; ``cost[slot]`` is the cost of CSR slot ``slot``. Without
    targets the search settles everything within ``max_cost``. With targets it stops when all
    target nodes are settled or, if ``stop_at_best``, as soon as no remaining node can beat the
    best ``dist[t] + target_cost`` (one-to-one between points). Writes dist and predecessor slots
    into the workspace; returns (best target cost or inf, best target node or -1). Stops early,
    with what it has, once ``stop_flag[0]`` is set (read every CHECK_MASK + 1 pops: a deadline).
    """
    _reset(fbuf, ibuf, count)
    dist = fbuf[_F_DIST]
    heap_key = fbuf[_F_KEY]
    target_mark = fbuf[_F_TARGET]
    pred = ibuf[_I_PRED]
    pos = ibuf[_I_POS]
    heap_node = ibuf[_I_HEAP]
    touched = ibuf[_I_TOUCHED]
    size, n_touched = _seed(source_nodes, source_cost, max_cost, dist, pred, pos, heap_node,
                            heap_key, touched, None)
    remaining = 0
    for i in range(target_nodes.shape[0]):
        t = target_nodes[i]
        if target_cost[i] == np.inf:
            continue  # a target side the mode cannot use
        if target_mark[t] == np.inf:
            remaining += 1
            target_mark[t] = target_cost[i]
        elif target_cost[i] < target_mark[t]:
            target_mark[t] = target_cost[i]
    has_targets = remaining > 0
    best = np.inf
    best_node = -1
    n_pops = 0
    while size > 0:
        key = heap_key[0]
        if key > max_cost or (stop_at_best and key >= best):
            break
        n_pops += 1
        if (n_pops & CHECK_MASK) == 0 and stop_flag[0]:
            break
        u, size = _heap_pop(heap_node, heap_key, pos, size)
        du = dist[u]
        if has_targets:
            offset = target_mark[u]
            if offset < np.inf:
                if du + offset < best:
                    best = du + offset
                    best_node = u
                remaining -= 1
                if remaining == 0:
                    break
        for slot in range(indptr[u], indptr[u + 1]):
            nd = du + cost[slot]
            v = indices[slot]
            if nd < dist[v] and nd <= max_cost:
                if dist[v] == np.inf:
                    touched[n_touched] = v
                    n_touched += 1
                dist[v] = nd
                pred[v] = slot
                size = _heap_push(heap_node, heap_key, pos, size, v, nd)
    for i in range(target_nodes.shape[0]):
        target_mark[target_nodes[i]] = np.inf
    count[0] = n_touched
    if best > max_cost:
        return np.inf, -1
    return best, best_node


@numba.njit(cache=True, nogil=True, inline="always")
def _lower_bound(v, node_x, node_y, cost_per_m, goal_x, goal_y, lm, lm_active, lm_to_target,
                 lm_from_target, target_off, lm_scale):
    """Lower bound (s) of the cost from v to the cheapest target (offset included).

    The straight-line bound toward the goal point, and with landmarks (ALT) the triangle
    inequality: d(v, t) >= d(l, t) - d(l, v) and d(v, t) >= d(v, l) - d(t, l) for each active
    landmark l, shrunk by the float32 rounding of the table and scaled to the profile.
    """
    h = cost_per_m * math.sqrt((node_x[v] - goal_x) ** 2 + (node_y[v] - goal_y) ** 2)
    n_active = lm_active.shape[0]
    if n_active > 0:
        n_lm = lm.shape[1] // 2
        best = np.inf
        for j in range(target_off.shape[0]):
            b = 0.0
            for a in range(n_active):
                lmk = lm_active[a]
                # NaN (both infinite: no information) fails the comparisons and is skipped.
                x = lm_to_target[j, a] * (1.0 - _LM_EPS) - lm[v, lmk] * (1.0 + _LM_EPS)
                if x > b:
                    b = x
                y = lm[v, n_lm + lmk] * (1.0 - _LM_EPS) - lm_from_target[j, a] * (1.0 + _LM_EPS)
                if y > b:
                    b = y
            b = b * lm_scale + target_off[j]
            if b < best:
                best = b
        if best > h:
            h = best
    return h


@numba.njit(cache=True, nogil=True)
def _pick_landmarks(lm, n_active, source_nodes, source_cost, target_nodes, target_cost):
    """The n_active landmarks giving the best bound between the cheapest source and target."""
    n_lm = lm.shape[1] // 2
    if n_active <= 0 or n_lm == 0 or source_nodes.shape[0] == 0 or target_nodes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    s = source_nodes[np.argmin(source_cost)]
    t = target_nodes[np.argmin(target_cost)]
    score = np.empty(n_lm)
    for lmk in range(n_lm):
        x = lm[t, lmk] - lm[s, lmk]
        y = lm[s, n_lm + lmk] - lm[t, n_lm + lmk]
        best = -np.inf
        if x > best:
            best = x
        if y > best:
            best = y
        score[lmk] = best
    order = np.argsort(-score)
    return order[:min(n_active, n_lm)].copy()


@numba.njit(cache=True, nogil=True)
def _astar(indptr, indices, cost, node_x, node_y, cost_per_m, goal_x, goal_y, lm, lm_scale,
           n_active, source_nodes, source_cost, target_nodes, target_cost, max_cost,
           fbuf, ibuf, count, stop_flag):
    """A* from sources to the cheapest of the targets (offsets included), toward (goal_x, goal_y).

    The straight-line bound ``cost_per_m * |v - goal|`` is consistent when every target offset
    is at least ``cost_per_m`` times the target node's straight-line distance to the goal (true
    for the partial edges of a snapped point). With a landmark table ``lm`` (n, 2L) and
    ``n_active`` > 0 the bound is the larger of that and the ALT bound of the n_active best
    landmarks for this query. A node whose cost improves after it was settled is searched again,
    so an admissible bound suffices. Returns (best cost or inf, best target node or -1). Stops
    early once ``stop_flag[0]`` is set, like :func:`_dijkstra`.
    """
    _reset(fbuf, ibuf, count)
    dist = fbuf[_F_DIST]
    heap_key = fbuf[_F_KEY]
    target_mark = fbuf[_F_TARGET]
    bound = fbuf[_F_BOUND]
    pred = ibuf[_I_PRED]
    pos = ibuf[_I_POS]
    heap_node = ibuf[_I_HEAP]
    touched = ibuf[_I_TOUCHED]
    n_targets = 0
    for i in range(target_nodes.shape[0]):
        if target_cost[i] < np.inf:
            n_targets += 1
    tgt_off = np.empty(n_targets)
    tgt_node = np.empty(n_targets, dtype=np.int64)
    k = 0
    for i in range(target_nodes.shape[0]):
        if target_cost[i] < np.inf:
            tgt_off[k] = target_cost[i]
            tgt_node[k] = target_nodes[i]
            k += 1
    active = _pick_landmarks(lm, n_active, source_nodes, source_cost, tgt_node, tgt_off)
    n_lm = lm.shape[1] // 2
    to_t = np.empty((n_targets, active.shape[0]))
    from_t = np.empty((n_targets, active.shape[0]))
    for j in range(n_targets):
        for a in range(active.shape[0]):
            to_t[j, a] = lm[tgt_node[j], active[a]]
            from_t[j, a] = lm[tgt_node[j], n_lm + active[a]]
    for i in range(source_nodes.shape[0]):
        v = source_nodes[i]
        bound[v] = _lower_bound(v, node_x, node_y, cost_per_m, goal_x, goal_y, lm, active, to_t,
                                from_t, tgt_off, lm_scale)
    size, n_touched = _seed(source_nodes, source_cost, max_cost, dist, pred, pos, heap_node,
                            heap_key, touched, bound)
    for j in range(n_targets):
        t = tgt_node[j]
        if tgt_off[j] < target_mark[t]:
            target_mark[t] = tgt_off[j]
    best = np.inf
    best_node = -1
    n_pops = 0
    while size > 0:
        key = heap_key[0]
        if key > max_cost or key >= best:
            break
        n_pops += 1
        if (n_pops & CHECK_MASK) == 0 and stop_flag[0]:
            break
        u, size = _heap_pop(heap_node, heap_key, pos, size)
        du = dist[u]
        offset = target_mark[u]
        if offset < np.inf and du + offset < best:
            best = du + offset
            best_node = u
        for slot in range(indptr[u], indptr[u + 1]):
            nd = du + cost[slot]
            v = indices[slot]
            if nd < dist[v]:
                if dist[v] == np.inf:
                    h = _lower_bound(v, node_x, node_y, cost_per_m, goal_x, goal_y, lm, active,
                                     to_t, from_t, tgt_off, lm_scale)
                    bound[v] = h
                    if h == np.inf or nd + h > max_cost:
                        continue  # the targets are out of reach (or beyond the limit) from v
                    touched[n_touched] = v
                    n_touched += 1
                dist[v] = nd
                pred[v] = slot
                size = _heap_push(heap_node, heap_key, pos, size, v, nd + bound[v])
    for j in range(n_targets):
        target_mark[tgt_node[j]] = np.inf
    count[0] = n_touched
    if best > max_cost:
        return np.inf, -1
    return best, best_node


@numba.njit(cache=True, nogil=True)
def _bidirectional(indptr, indices, cost, rev_indptr, rev_indices, rev_cost, rev_edge,
                   source_nodes, source_cost, target_nodes, target_cost, max_cost,
                   fbuf_f, ibuf_f, count_f, fbuf_b, ibuf_b, count_b, meet, stop_flag):
    """Bidirectional Dijkstra from the sources (forward) and the targets (backward, offsets).

    Expands the side whose frontier key is smaller and stops when the two keys add up to at
    least the best meeting cost mu. Predecessors are forward edge ids on both sides (backward:
    the edge leaving the node toward the targets). Writes the best meeting into ``meet``:
    (forward-side node, joining edge or -1 for a meeting at a node, backward-side node).
    Returns mu, or inf when no path within ``max_cost`` exists. Stops early once
    ``stop_flag[0]`` is set, like :func:`_dijkstra`.
    """
    _reset(fbuf_f, ibuf_f, count_f)
    _reset(fbuf_b, ibuf_b, count_b)
    dist_f = fbuf_f[_F_DIST]
    key_f = fbuf_f[_F_KEY]
    pred_f = ibuf_f[_I_PRED]
    pos_f = ibuf_f[_I_POS]
    heap_f = ibuf_f[_I_HEAP]
    touched_f = ibuf_f[_I_TOUCHED]
    dist_b = fbuf_b[_F_DIST]
    key_b = fbuf_b[_F_KEY]
    pred_b = ibuf_b[_I_PRED]
    pos_b = ibuf_b[_I_POS]
    heap_b = ibuf_b[_I_HEAP]
    touched_b = ibuf_b[_I_TOUCHED]
    size_f, n_f = _seed(source_nodes, source_cost, max_cost, dist_f, pred_f, pos_f, heap_f, key_f,
                        touched_f, None)
    size_b, n_b = _seed(target_nodes, target_cost, max_cost, dist_b, pred_b, pos_b, heap_b, key_b,
                        touched_b, None)
    mu = np.inf
    meet[0] = -1
    meet[1] = -1
    meet[2] = -1
    for i in range(source_nodes.shape[0]):
        v = source_nodes[i]
        if dist_f[v] + dist_b[v] < mu:
            mu = dist_f[v] + dist_b[v]
            meet[0] = v
            meet[2] = v
    n_pops = 0
    while size_f > 0 and size_b > 0:
        top_f = key_f[0]
        top_b = key_b[0]
        if top_f + top_b >= mu or top_f + top_b > max_cost:
            break
        n_pops += 1
        if (n_pops & CHECK_MASK) == 0 and stop_flag[0]:
            break
        if top_f <= top_b:
            u, size_f = _heap_pop(heap_f, key_f, pos_f, size_f)
            du = dist_f[u]
            for e in range(indptr[u], indptr[u + 1]):
                nd = du + cost[e]
                v = indices[e]
                through = nd + dist_b[v]
                if through < mu:
                    mu = through
                    meet[0] = u
                    meet[1] = e
                    meet[2] = v
                if nd < dist_f[v] and nd <= max_cost:
                    if dist_f[v] == np.inf:
                        touched_f[n_f] = v
                        n_f += 1
                    dist_f[v] = nd
                    pred_f[v] = e
                    size_f = _heap_push(heap_f, key_f, pos_f, size_f, v, nd)
        else:
            u, size_b = _heap_pop(heap_b, key_b, pos_b, size_b)
            du = dist_b[u]
            for slot in range(rev_indptr[u], rev_indptr[u + 1]):
                nd = du + rev_cost[slot]
                v = rev_indices[slot]
                through = nd + dist_f[v]
                if through < mu:
                    mu = through
                    meet[0] = v
                    meet[1] = rev_edge[slot]
                    meet[2] = u
                if nd < dist_b[v] and nd <= max_cost:
                    if dist_b[v] == np.inf:
                        touched_b[n_b] = v
                        n_b += 1
                    dist_b[v] = nd
                    pred_b[v] = rev_edge[slot]
                    size_b = _heap_push(heap_b, key_b, pos_b, size_b, v, nd)
    count_f[0] = n_f
    count_b[0] = n_b
    if mu > max_cost:
        return np.inf
    return mu


@numba.njit(cache=True, nogil=True)
def _pairs_kernel(method, indptr, indices, cost, rev_indptr, rev_indices, rev_cost, rev_edge,
                  node_x, node_y, cost_per_m, lm, lm_scale, q_src_ptr, q_src_node, q_src_cost,
                  q_tgt_ptr, q_tgt_node, q_tgt_cost, q_goal_x, q_goal_y, max_cost,
                  fbuf_f, ibuf_f, count_f, fbuf_b, ibuf_b, count_b, out_cost, stop_flag):
    """Cheapest cost of each query q: from its sources q_src_*[q_src_ptr[q]:q_src_ptr[q+1]] to
    its targets (with offsets); method 0 Dijkstra, 1 A* (straight line toward q_goal_x/y),
    2 A* with landmarks ``lm`` as well, 3 bidirectional Dijkstra. Once ``stop_flag[0]`` is set
    the remaining queries are skipped (their ``out_cost`` is left unwritten)."""
    meet = np.empty(3, dtype=np.int64)
    for q in range(q_src_ptr.shape[0] - 1):
        if stop_flag[0]:
            break
        s0, s1 = q_src_ptr[q], q_src_ptr[q + 1]
        t0, t1 = q_tgt_ptr[q], q_tgt_ptr[q + 1]
        if method == 0:
            best, _ = _dijkstra(indptr, indices, cost, q_src_node[s0:s1], q_src_cost[s0:s1],
                                q_tgt_node[t0:t1], q_tgt_cost[t0:t1], True, max_cost,
                                fbuf_f, ibuf_f, count_f, stop_flag)
        elif method == 1 or method == 2:
            best, _ = _astar(indptr, indices, cost, node_x, node_y, cost_per_m, q_goal_x[q],
                             q_goal_y[q], lm, lm_scale, N_ACTIVE_LANDMARKS if method == 2 else 0,
                             q_src_node[s0:s1], q_src_cost[s0:s1], q_tgt_node[t0:t1],
                             q_tgt_cost[t0:t1], max_cost, fbuf_f, ibuf_f, count_f, stop_flag)
        else:
            best = _bidirectional(indptr, indices, cost, rev_indptr, rev_indices, rev_cost, rev_edge,
                                  q_src_node[s0:s1], q_src_cost[s0:s1], q_tgt_node[t0:t1],
                                  q_tgt_cost[t0:t1], max_cost, fbuf_f, ibuf_f, count_f,
                                  fbuf_b, ibuf_b, count_b, meet, stop_flag)
        out_cost[q] = best


@numba.njit(cache=True, nogil=True)
def _many_to_many_kernel(indptr, indices, cost, source_nodes, target_nodes, max_cost,
                         fbuf, ibuf, count, out_cost, stop_flag):
    """out_cost[i, j] = cost from source_nodes[i] to target_nodes[j] (inf if not within max_cost).
    Once ``stop_flag[0]`` is set the remaining rows are left unwritten."""
    zero = np.zeros(1, dtype=np.float64)
    target_zero = np.zeros(target_nodes.shape[0], dtype=np.float64)
    dist = fbuf[_F_DIST]
    pos = ibuf[_I_POS]
    for i in range(source_nodes.shape[0]):
        if stop_flag[0]:
            break
        _dijkstra(indptr, indices, cost, source_nodes[i:i + 1], zero, target_nodes, target_zero,
                  False, max_cost, fbuf, ibuf, count, stop_flag)
        for j in range(target_nodes.shape[0]):
            t = target_nodes[j]
            out_cost[i, j] = dist[t] if pos[t] == _SETTLED else np.inf


@numba.njit(cache=True, nogil=True)
def _trace(pred, step_node, node, out_edges):
    """Follow predecessor edges from node until a source; returns how many edges were written.

    Forward trees: step_node = edge_tail (go back to the tail). Backward trees: step_node =
    indices (go on to the head).
    """
    k = 0
    e = pred[node]
    while e >= 0:
        out_edges[k] = e
        k += 1
        node = step_node[e]
        e = pred[node]
    return k


@numba.njit(cache=True, nogil=True)
def _best_edges_between(indptr, indices, cost, tails, heads, out_edge, out_cost):
    """For each pair i, the cheapest edge tails[i] -> heads[i] (or -1) and its cost (or inf)."""
    for i in range(tails.shape[0]):
        best = np.inf
        best_e = -1
        for e in range(indptr[tails[i]], indptr[tails[i] + 1]):
            if indices[e] == heads[i] and cost[e] < best:
                best = cost[e]
                best_e = e
        out_edge[i] = best_e
        out_cost[i] = best
