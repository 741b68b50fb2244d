"""The numba kernels of the customizable contraction hierarchy: customization and queries.

Nodes are numbered by rank here (0 = contracted first). Arc ``a`` of the chordal graph joins
``arc_tail[a]`` (lower) to ``up_head[a]`` (higher); a metric gives it two weights: ``up_w[a]``,
the cost of going from the lower node to the higher, and ``dn_w[a]``, from the higher to the
lower. ``up_mid[a]`` / ``dn_mid[a]`` is the node of the lower triangle a shortcut goes through
(-1 when the weight is that of a street edge, ``up_edge`` / ``dn_edge``), which is all that path
unpacking needs.

* ``_customize``: basic customization: arcs take their edges' costs, then every lower triangle
  (u below v below w) relaxes the arc v-w in both directions, lowest u first. Afterwards every
  shortest path has an up-down path of the same cost in the hierarchy, so queries are exact.
* ``_et_query``: the elimination-tree query. The forward search from the sources visits exactly
  their ancestors in the elimination tree, in rank order, relaxing upward arcs; the backward
  search from the targets likewise; no priority queue. Both run interleaved by rank so a node
  whose cost already reaches the best meeting cost relaxes nothing (pruning).
* ``_pairs_kernel``, ``_bucket_matrix``: many queries in one call; many-to-many keeps one
  bucket of (target, cost) per node from the backward searches and scans them from each forward
  search (Knopp et al., 2007).
* ``_unpack``: shortcuts to street edges with an explicit stack (no recursion, no Python).
"""
from __future__ import annotations

import numba
import numpy as np

NO_ARC = -1


@numba.njit(cache=True, nogil=True)
def _arc_between(up_indptr, up_head, lo, hi):
    """The arc joining ranks lo < hi (it exists: the graph is chordal)."""
    s, t = up_indptr[lo], up_indptr[lo + 1]
    return s + np.searchsorted(up_head[s:t], hi)


@numba.njit(cache=True, nogil=True)
def _customize(up_indptr, up_head, edge_arc, edge_down, cost, up_w, dn_w, up_mid, dn_mid,
               up_edge, dn_edge):
    """Fill the arc weights of one metric (cost per street edge, inf = not allowed)."""
    n = up_indptr.shape[0] - 1
    up_w[:] = np.inf
    dn_w[:] = np.inf
    up_mid[:] = -1
    dn_mid[:] = -1
    up_edge[:] = -1
    dn_edge[:] = -1
    for e in range(cost.shape[0]):
        a = edge_arc[e]
        c = cost[e]
        if a < 0 or not c < np.inf:
            continue
        if edge_down[e]:
            if c < dn_w[a]:
                dn_w[a] = c
                dn_edge[a] = e
        elif c < up_w[a]:
            up_w[a] = c
            up_edge[a] = e
    slot = np.empty(n, dtype=np.int64)
    for u in range(n):
        s, t = up_indptr[u], up_indptr[u + 1]
        for i in range(s, t):
            v = up_head[i]
            ui, di = up_w[i], dn_w[i]     # u -> v, v -> u
            if ui == np.inf and di == np.inf:
                continue
            for b in range(up_indptr[v], up_indptr[v + 1]):
                slot[up_head[b]] = b
            for j in range(i + 1, t):
                b = slot[up_head[j]]      # arc v -> w, w = up_head[j] above v
                c = di + up_w[j]          # v -> u -> w
                if c < up_w[b]:
                    up_w[b] = c
                    up_mid[b] = u
                c = dn_w[j] + ui          # w -> u -> v
                if c < dn_w[b]:
                    dn_w[b] = c
                    dn_mid[b] = u


@numba.njit(cache=True, nogil=True)
def _perfect(up_indptr, up_head, up_w, dn_w, up_mid, dn_mid):
    """Perfect customization: every arc weight becomes the exact least cost between its ends.

    Nodes top-down; for node v and two upward neighbours w1 < w2 (arc w1-w2 already exact),
    the arcs v-w2 (through w1, an intermediate triangle) and v-w1 (through w2, an upper one)
    relax in both directions. The first hop of a least-cost way from v to w goes up to some
    neighbour x and the rest stays above v, so min over x of (v -> x) + exact(x -> w) is exact.
    ``*_mid`` then names the node a weight goes through, above or below.
    """
    n = up_indptr.shape[0] - 1
    slot = np.empty(n, dtype=np.int64)
    for v in range(n - 1, -1, -1):
        s, t = up_indptr[v], up_indptr[v + 1]
        for i in range(s, t):
            w1 = up_head[i]
            for b in range(up_indptr[w1], up_indptr[w1 + 1]):
                slot[up_head[b]] = b
            for j in range(i + 1, t):
                w2 = up_head[j]
                b = slot[w2]
                c = up_w[i] + up_w[b]          # v -> w1 -> w2
                if c < up_w[j]:
                    up_w[j] = c
                    up_mid[j] = w1
                c = dn_w[b] + dn_w[i]          # w2 -> w1 -> v
                if c < dn_w[j]:
                    dn_w[j] = c
                    dn_mid[j] = w1
                c = up_w[j] + dn_w[b]          # v -> w2 -> w1
                if c < up_w[i]:
                    up_w[i] = c
                    up_mid[i] = w2
                c = up_w[b] + dn_w[j]          # w1 -> w2 -> v
                if c < dn_w[i]:
                    dn_w[i] = c
                    dn_mid[i] = w2


@numba.njit(cache=True, nogil=True)
def _needed(up_indptr, up_head, up_w, dn_w, keep_up, keep_dn, upper):
    """Which arc directions an upward query needs after perfect customization.

    A direction v -> w is dropped when it is infinite, or when an intermediate triangle
    (v < z < w) gives the same cost through two arcs of positive cost: the ascending way through
    z replaces it, and since both parts are strictly cheaper, replacing repeatedly ends.
    With ``upper``, an upper triangle (z above both ends) drops it too: what remains is then the
    metric-dependent contraction hierarchy of the order (Dibbelt, Strasser & Wagner 2016, 5.3),
    whose upward searches are as exact and much smaller.
    """
    n = up_indptr.shape[0] - 1
    slot = np.empty(n, dtype=np.int64)
    for a in range(up_head.shape[0]):
        keep_up[a] = up_w[a] < np.inf
        keep_dn[a] = dn_w[a] < np.inf
    for v in range(n):
        s, t = up_indptr[v], up_indptr[v + 1]
        for i in range(s, t):
            w1 = up_head[i]
            for b in range(up_indptr[w1], up_indptr[w1 + 1]):
                slot[up_head[b]] = b
            for j in range(i + 1, t):
                b = slot[up_head[j]]
                if keep_up[j] and up_w[i] > 0 and up_w[b] > 0 and up_w[i] + up_w[b] == up_w[j]:
                    keep_up[j] = False
                if keep_dn[j] and dn_w[i] > 0 and dn_w[b] > 0 and dn_w[b] + dn_w[i] == dn_w[j]:
                    keep_dn[j] = False
                if upper:   # arc v-w1 through w2, above both
                    if keep_up[i] and up_w[j] > 0 and dn_w[b] > 0 and up_w[j] + dn_w[b] == up_w[i]:
                        keep_up[i] = False
                    if keep_dn[i] and up_w[b] > 0 and dn_w[j] > 0 and up_w[b] + dn_w[j] == dn_w[i]:
                        keep_dn[i] = False


@numba.njit(cache=True, nogil=True, inline="always")
def _collect(parent, nodes, offsets, dist, pred, mark, order, count):
    """Seed a search with (node, cost) pairs and list the ancestors it will visit, by rank."""
    k = count
    seeds = 0
    for i in range(nodes.shape[0]):
        v = nodes[i]
        c = offsets[i]
        if not c < np.inf:
            continue
        seeds += 1
        if c < dist[v]:
            dist[v] = c
            pred[v] = -1
        while v >= 0 and not mark[v]:
            mark[v] = True
            order[k] = v
            k += 1
            v = parent[v]
    if seeds > 1:   # one seed's chain is already ascending (a parent ranks above its child)
        order[count:k].sort()
    return k


@numba.njit(cache=True, nogil=True, inline="always")
def _reset(order, k, dist, mark):
    for i in range(k):
        v = order[i]
        dist[v] = np.inf
        mark[v] = False


@numba.njit(cache=True, nogil=True, inline="always")
def _relax(ptr, head, w, arc, v, dv, dist, pred):
    for a in range(ptr[v], ptr[v + 1]):
        x = head[a]
        c = dv + w[a]
        if c < dist[x]:
            dist[x] = c
            pred[x] = arc[a]


@numba.njit(cache=True, nogil=True)
def _et_query(f_ptr, f_head, f_w, f_arc, b_ptr, b_head, b_w, b_arc, parent, src, src_cost, tgt,
              tgt_cost, max_cost, df, db, pf, pb, mf, mb, of, ob, meet):
    """Least cost from the sources to the targets (with their offsets), inf if above max_cost.

    ``f_*`` is the upward graph of the forward search (arcs kept for the up direction), ``b_*``
    that of the backward search. ``meet[0]`` gets the meeting node (or -1); ``pf`` / ``pb`` (arc
    ids, -1 where a search was seeded) then lead back to a source / on to a target. Leaves the
    workspace reset except ``pf``, ``pb``.
    """
    kf = _collect(parent, src, src_cost, df, pf, mf, of, 0)
    kb = _collect(parent, tgt, tgt_cost, db, pb, mb, ob, 0)
    best = np.inf
    best_v = -1
    i = 0
    j = 0
    while i < kf or j < kb:
        if j >= kb or (i < kf and of[i] <= ob[j]):
            v = of[i]
            i += 1
            if j < kb and ob[j] == v:
                j += 1
                c = df[v] + db[v]
                if c < best:
                    best = c
                    best_v = v
                if db[v] < best and db[v] <= max_cost:
                    _relax(b_ptr, b_head, b_w, b_arc, v, db[v], db, pb)
            if df[v] < best and df[v] <= max_cost:
                _relax(f_ptr, f_head, f_w, f_arc, v, df[v], df, pf)
        else:
            v = ob[j]
            j += 1
            if db[v] < best and db[v] <= max_cost:
                _relax(b_ptr, b_head, b_w, b_arc, v, db[v], db, pb)
    _reset(of, kf, df, mf)
    _reset(ob, kb, db, mb)
    meet[0] = best_v
    if best > max_cost:
        meet[0] = -1
        return np.inf
    return best


@numba.njit(cache=True, nogil=True)
def _pairs_kernel(f_ptr, f_head, f_w, f_arc, b_ptr, b_head, b_w, b_arc, parent, src_ptr, src_node,
                  src_cost, tgt_ptr, tgt_node, tgt_cost, max_cost, df, db, pf, pb, mf, mb, of, ob,
                  out):
    """out[q] = cost of query q (sources src_ptr[q]:src_ptr[q+1], targets likewise)."""
    meet = np.empty(1, dtype=np.int64)
    for q in range(out.shape[0]):
        out[q] = _et_query(f_ptr, f_head, f_w, f_arc, b_ptr, b_head, b_w, b_arc, parent,
                           src_node[src_ptr[q]:src_ptr[q + 1]], src_cost[src_ptr[q]:src_ptr[q + 1]],
                           tgt_node[tgt_ptr[q]:tgt_ptr[q + 1]], tgt_cost[tgt_ptr[q]:tgt_ptr[q + 1]],
                           max_cost, df, db, pf, pb, mf, mb, of, ob, meet)


@numba.njit(cache=True, nogil=True)
def _upward(ptr, head, w, arc, parent, nodes, offsets, max_cost, dist, pred, mark, order):
    """One upward elimination-tree search; returns how many nodes it visited (listed in
    ``order``, costs in ``dist``; the caller resets)."""
    k = _collect(parent, nodes, offsets, dist, pred, mark, order, 0)
    for i in range(k):
        v = order[i]
        if dist[v] <= max_cost:
            _relax(ptr, head, w, arc, v, dist[v], dist, pred)
    return k


@numba.njit(cache=True, nogil=True)
def _fill_buckets(b_ptr, b_head, b_w, b_arc, parent, tgt_ptr, tgt_node, tgt_cost, max_cost, db, pb,
                  mb, ob):
    """Per-node buckets (CSR by node: start, target, cost) of the backward searches."""
    n = parent.shape[0]
    count = np.zeros(n + 1, dtype=np.int64)
    start = np.zeros(n + 1, dtype=np.int64)
    b_tgt = np.empty(0, dtype=np.int32)
    b_cost = np.empty(0)
    fill = np.empty(0, dtype=np.int64)
    for pass_ in range(2):    # count, then fill
        if pass_ == 1:
            start = np.cumsum(count)
            fill = start[:-1].copy()
            b_tgt = np.empty(start[n], dtype=np.int32)
            b_cost = np.empty(start[n])
        for j in range(tgt_ptr.shape[0] - 1):
            s, t = tgt_ptr[j], tgt_ptr[j + 1]
            k = _upward(b_ptr, b_head, b_w, b_arc, parent, tgt_node[s:t], tgt_cost[s:t], max_cost,
                        db, pb, mb, ob)
            for i in range(k):
                v = ob[i]
                if db[v] <= max_cost:
                    if pass_ == 0:
                        count[v + 1] += 1
                    else:
                        b_tgt[fill[v]] = j
                        b_cost[fill[v]] = db[v]
                        fill[v] += 1
            _reset(ob, k, db, mb)
    return start, b_tgt, b_cost


@numba.njit(cache=True, nogil=True)
def _bucket_matrix(f_ptr, f_head, f_w, f_arc, b_ptr, b_head, b_w, b_arc, parent, src_ptr, src_node,
                   src_cost, tgt_ptr, tgt_node, tgt_cost, max_cost, df, db, pf, pb, mf, mb, of, ob,
                   out):
    """out[i, j] = cost from source query i to target query j (inf above max_cost): backward
    searches fill per-node buckets; each forward search scans the buckets of its nodes."""
    start, b_tgt, b_cost = _fill_buckets(b_ptr, b_head, b_w, b_arc, parent, tgt_ptr, tgt_node,
                                         tgt_cost, max_cost, db, pb, mb, ob)
    _bucket_scan(f_ptr, f_head, f_w, f_arc, parent, src_ptr, src_node, src_cost, max_cost, start,
                 b_tgt, b_cost, df, pf, mf, of, out)


@numba.njit(cache=True, nogil=True)
def _bucket_scan(f_ptr, f_head, f_w, f_arc, parent, src_ptr, src_node, src_cost, max_cost, start,
                 b_tgt, b_cost, df, pf, mf, of, out):
    """The forward half of :func:`_bucket_matrix` over buckets filled once (a matrix computed a
    chunk of sources at a time reuses its targets' buckets)."""
    out[:, :] = np.inf
    for q in range(src_ptr.shape[0] - 1):
        s, t = src_ptr[q], src_ptr[q + 1]
        k = _upward(f_ptr, f_head, f_w, f_arc, parent, src_node[s:t], src_cost[s:t], max_cost,
                    df, pf, mf, of)
        row = out[q]
        for i in range(k):
            v = of[i]
            dv = df[v]
            if dv > max_cost:
                continue
            for b in range(start[v], start[v + 1]):
                c = dv + b_cost[b]
                if c < row[b_tgt[b]]:
                    row[b_tgt[b]] = c
        _reset(of, k, df, mf)
        for j in range(row.shape[0]):
            if row[j] > max_cost:
                row[j] = np.inf


@numba.njit(cache=True, nogil=True)
def _unpack_hop(up_indptr, up_head, up_mid, dn_mid, up_edge, dn_edge, a, b, stack, out, k):
    """Append the street edges of the arc hop a -> b (nodes as ranks) to out[k:], in order.

    A hop whose weight came through a middle node m (below, between or above its ends) is
    a -> m then m -> b; one that came from a street edge is that edge."""
    stack[0, 0], stack[0, 1] = a, b
    top = 1
    while top > 0:
        top -= 1
        x, y = stack[top, 0], stack[top, 1]
        down = x > y
        arc = _arc_between(up_indptr, up_head, y, x) if down else _arc_between(up_indptr, up_head, x, y)
        mid = dn_mid[arc] if down else up_mid[arc]
        if mid < 0:
            out[k] = dn_edge[arc] if down else up_edge[arc]
            k += 1
            continue
        stack[top, 0], stack[top, 1] = mid, y        # second half first: the stack is LIFO
        stack[top + 1, 0], stack[top + 1, 1] = x, mid
        top += 2
    return k


@numba.njit(cache=True, nogil=True)
def _path_edges(up_indptr, up_head, arc_tail, up_mid, dn_mid, up_edge, dn_edge, meet, pf, pb, out,
                chain, stack):
    """Street edges of the path found by the last ``_et_query`` (meeting at ``meet``) into out;
    returns (number of edges, first node, last node), nodes as ranks. A node whose predecessor
    arc is -1 is where the search was seeded (a source, or a target going backward). ``chain``
    (n) and ``stack`` (n + 2, 2) are scratch (int64), kept by the caller: allocating them per
    route cost more than unpacking it."""
    n_up = 0
    v = meet
    while pf[v] >= 0:      # forward half, from the meeting node back to a source
        chain[n_up] = v
        n_up += 1
        v = arc_tail[pf[v]]
    first = v
    k = 0
    for i in range(n_up - 1, -1, -1):
        w = chain[i]
        k = _unpack_hop(up_indptr, up_head, up_mid, dn_mid, up_edge, dn_edge, arc_tail[pf[w]], w,
                        stack, out, k)
    v = meet
    while pb[v] >= 0:      # backward half, from the meeting node on to a target
        w = arc_tail[pb[v]]
        k = _unpack_hop(up_indptr, up_head, up_mid, dn_mid, up_edge, dn_edge, v, w, stack, out, k)
        v = w
    return k, first, v
