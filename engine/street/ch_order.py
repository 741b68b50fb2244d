"""The metric-independent half of the customizable contraction hierarchy (CCH): a nested
dissection order of the street graph's nodes and the chordal graph that contracting them in
that order gives (Dibbelt, Strasser & Wagner, "Customizable Contraction Hierarchies", 2016).

* :func:`_nested_dissection` ranks the nodes: every cell of a recursive geometric bisection puts
  its separator on top (highest ranks) and orders its two halves below it. The cut is the one
  with the fewest crossing streets among four directions (east-west, north-south and both
  diagonals) and any split between 25 % and 75 % of the cell's nodes ("inertial flow" without
  the flow): cheap, and street networks have small geometric separators.
* :func:`_chordal_completion` contracts the nodes in rank order: the upward neighbours of a node
  become a clique, kept in CSR form over ranks (``up_indptr``, ``up_head``, both ends as ranks,
  heads ascending). The parent of a node in the elimination tree is its lowest upward neighbour.
* :func:`_edge_arcs` maps every directed edge of the graph to its arc and direction, so a metric
  (a cost per edge) can be loaded into arc weights without searching.

Both kernels depend only on the topology and node positions, so one order serves every mode and
every scenario that only changes costs; per-metric work lives in :mod:`engine.street.ch_kernels`.
"""
from __future__ import annotations

import numba
import numpy as np

_DIRECTIONS = np.array([[1.0, 0.0], [0.0, 1.0], [0.7071067811865476, 0.7071067811865476],
                        [0.7071067811865476, -0.7071067811865476]])
_MIN_SHARE = 0.25   # a cut leaves at least this share of the cell's nodes on each side


@numba.njit(cache=True, nogil=True)
def _undirected_csr(n, tail, head):
    """Symmetric CSR (no self-loops, duplicates kept) of the directed edges."""
    deg = np.zeros(n + 1, dtype=np.int64)
    for e in range(tail.shape[0]):
        if tail[e] != head[e]:
            deg[tail[e] + 1] += 1
            deg[head[e] + 1] += 1
    indptr = np.cumsum(deg)
    fill = indptr[:-1].copy()
    adj = np.empty(indptr[n], dtype=np.int32)
    for e in range(tail.shape[0]):
        a, b = tail[e], head[e]
        if a != b:
            adj[fill[a]] = b
            fill[a] += 1
            adj[fill[b]] = a
            fill[b] += 1
    return indptr, adj


@numba.njit(cache=True, nogil=True)
def _best_cut(cell_nodes, cell_id, cell_of, indptr, adj, x, y, directions, pos, diff):
    """(direction, split, crossing edges) of the best balanced straight cut of one cell.

    ``pos`` (per node) and ``diff`` (per cell slot) are scratch arrays."""
    k = cell_nodes.shape[0]
    lo_split = max(1, int(k * _MIN_SHARE))
    hi_split = max(lo_split, min(k - 1, int(k * (1.0 - _MIN_SHARE)) + 1))
    best_dir, best_split, best_cut = 0, k // 2, np.iinfo(np.int64).max
    proj = np.empty(k)
    for d in range(directions.shape[0]):
        for i in range(k):
            v = cell_nodes[i]
            proj[i] = x[v] * directions[d, 0] + y[v] * directions[d, 1]
        order = np.argsort(proj, kind="mergesort")
        for i in range(k):
            pos[cell_nodes[order[i]]] = i
        diff[:k + 2] = 0
        for i in range(k):
            u = cell_nodes[i]
            for a in range(indptr[u], indptr[u + 1]):
                v = adj[a]
                if v > u and cell_of[v] == cell_id:
                    p, q = pos[u], pos[v]
                    if p > q:
                        p, q = q, p
                    diff[p + 1] += 1   # the cut "first s nodes | rest" crosses it for p < s <= q
                    diff[q + 1] -= 1
        cut = 0
        for s in range(1, hi_split + 1):
            cut += diff[s]
            if s >= lo_split and cut < best_cut:
                best_dir, best_split, best_cut = d, s, cut
    return best_dir, best_split, best_cut


@numba.njit(cache=True, nogil=True)
def _crossing_graph(nodes, cid, cell_of, indptr, adj, side, loc):
    """The bipartite graph of the edges crossing a cut of a cell: (left nodes (side 0), right
    nodes (side 1), CSR ptr and right-local neighbours of each left node); ``loc`` maps each
    endpoint to its local index (the caller resets it)."""
    k = nodes.shape[0]
    left, right = np.empty(k, np.int64), np.empty(k, np.int64)
    n_l, n_r, m = 0, 0, 0
    for i in range(k):
        u = nodes[i]
        if side[u] != 0:
            continue
        for a in range(indptr[u], indptr[u + 1]):
            v = adj[a]
            if cell_of[v] == cid and side[v] == 1:
                if loc[u] < 0:
                    loc[u] = n_l
                    left[n_l] = u
                    n_l += 1
                if loc[v] < 0:
                    loc[v] = n_r
                    right[n_r] = v
                    n_r += 1
                m += 1
    ptr = np.zeros(n_l + 1, np.int64)
    nbr = np.empty(m, np.int64)
    j = 0
    for li in range(n_l):
        u = left[li]
        for a in range(indptr[u], indptr[u + 1]):
            v = adj[a]
            if cell_of[v] == cid and side[v] == 1:
                nbr[j] = loc[v]
                j += 1
        ptr[li + 1] = j
    return left[:n_l], right[:n_r], ptr, nbr


@numba.njit(cache=True, nogil=True)
def _max_matching(n_l, n_r, ptr, nbr):
    """(match of each left, match of each right; -1 unmatched): augmenting paths (Kuhn), with
    an explicit stack (cuts cross tens to hundreds of streets)."""
    match_l, match_r = np.full(n_l, -1, np.int64), np.full(n_r, -1, np.int64)
    seen = np.full(n_r, -1, np.int64)
    stack, via, it = np.empty(n_l + 1, np.int64), np.empty(n_l + 1, np.int64), np.empty(n_l, np.int64)
    for root in range(n_l):
        depth, found = 0, -1
        stack[0] = root
        it[root] = ptr[root]
        while depth >= 0 and found < 0:
            lv = stack[depth]
            advanced = False
            while it[lv] < ptr[lv + 1]:
                r = nbr[it[lv]]
                it[lv] += 1
                if seen[r] == root:
                    continue
                seen[r] = root
                via[depth] = r
                if match_r[r] < 0:
                    found = depth
                    break
                depth += 1
                stack[depth] = match_r[r]
                it[match_r[r]] = ptr[match_r[r]]
                advanced = True
                break
            if found < 0 and not advanced:
                depth -= 1
        for d in range(found, -1, -1):     # flip the augmenting path
            match_l[stack[d]] = via[d]
            match_r[via[d]] = stack[d]
    return match_l, match_r


@numba.njit(cache=True, nogil=True)
def _min_vertex_separator(nodes, cid, cell_of, indptr, adj, side, loc):
    """Mark (side 2) a minimum vertex cover of the edges crossing the cut between sides 0 and 1
    of a cell: the smallest separator this cut allows (König: from a maximum matching, the left
    nodes not reached by alternating paths from unmatched left nodes, and the right nodes
    reached), never larger than either side's endpoints."""
    left, right, ptr, nbr = _crossing_graph(nodes, cid, cell_of, indptr, adj, side, loc)
    n_l, n_r = left.shape[0], right.shape[0]
    match_l, match_r = _max_matching(n_l, n_r, ptr, nbr)
    in_z_l, in_z_r = np.zeros(n_l, np.bool_), np.zeros(n_r, np.bool_)
    queue = np.empty(n_l, np.int64)
    q_end = 0
    for li in range(n_l):
        if match_l[li] < 0:
            in_z_l[li] = True
            queue[q_end] = li
            q_end += 1
    q = 0
    while q < q_end:
        li = queue[q]
        q += 1
        for j in range(ptr[li], ptr[li + 1]):
            r = nbr[j]
            if in_z_r[r] or match_l[li] == r:
                continue
            in_z_r[r] = True
            back = match_r[r]
            if back >= 0 and not in_z_l[back]:
                in_z_l[back] = True
                queue[q_end] = back
                q_end += 1
    for li in range(n_l):
        if not in_z_l[li]:
            side[left[li]] = 2
        loc[left[li]] = -1
    for r in range(n_r):
        if in_z_r[r]:
            side[right[r]] = 2
        loc[right[r]] = -1


@numba.njit(cache=True, nogil=True)
def _nested_dissection(n, tail, head, x, y, directions):
    """rank[node] (0 = contracted first) from recursive geometric bisection with separators."""
    indptr, adj = _undirected_csr(n, tail, head)
    rank = np.full(n, -1, dtype=np.int64)
    cell_of = np.zeros(n, dtype=np.int64)
    pos = np.zeros(n, dtype=np.int64)
    side = np.zeros(n, dtype=np.int8)   # 0 / 1 half, 2 separator
    diff = np.zeros(n + 2, dtype=np.int64)
    loc = np.full(n, -1, dtype=np.int64)    # scratch of _min_vertex_separator
    perm = np.arange(n).astype(np.int64)   # cells are ranges of perm
    # stack of cells: (start in perm, size, id, highest rank + 1 of the cell)
    stack = np.empty((2 * n + 2, 4), dtype=np.int64)
    stack[0] = (0, n, 0, n)
    top, next_id = 1, 1
    while top > 0:
        top -= 1
        start, k, cid, hi_rank = stack[top]
        nodes = perm[start:start + k]
        if k <= 2:
            for i in range(k):
                rank[nodes[i]] = hi_rank - k + i
            continue
        d, split, cut = _best_cut(nodes, cid, cell_of, indptr, adj, x, y, directions, pos, diff)
        # pos[] holds the last direction's order: recompute it for the chosen one
        proj = np.empty(k)
        for i in range(k):
            proj[i] = x[nodes[i]] * directions[d, 0] + y[nodes[i]] * directions[d, 1]
        order = np.argsort(proj, kind="mergesort")
        for i in range(k):
            side[nodes[order[i]]] = 0 if i < split else 1
        _min_vertex_separator(nodes, cid, cell_of, indptr, adj, side, loc)
        # lay the cell out again as [half 0 | half 1 | separator]
        buf = nodes.copy()
        counts = np.zeros(3, dtype=np.int64)
        for i in range(k):
            counts[side[buf[i]]] += 1
        fill = np.array([0, counts[0], counts[0] + counts[1]], dtype=np.int64)
        for i in range(k):
            s = side[buf[i]]
            nodes[fill[s]] = buf[i]
            fill[s] += 1
        n_sep = counts[2]
        for i in range(n_sep):
            rank[nodes[k - n_sep + i]] = hi_rank - n_sep + i
        base = hi_rank - k
        for h in range(2):
            size = counts[h]
            if size == 0:
                continue
            off = 0 if h == 0 else counts[0]
            for i in range(size):
                cell_of[nodes[off + i]] = next_id
            stack[top] = (start + off, size, next_id, base + off + size)
            top += 1
            next_id += 1
    return rank


@numba.njit(cache=True, nogil=True)
def _grow(a, need):
    if need <= a.shape[0]:
        return a
    out = np.empty(max(need, 2 * a.shape[0]), dtype=a.dtype)
    out[:a.shape[0]] = a
    return out


@numba.njit(cache=True, nogil=True)
def _chordal_completion(n, tail_rank, head_rank):
    """(up_indptr, up_head) of the graph that contracting nodes 0..n-1 (ranks) in order gives.

    Pending upward neighbours of each node wait in a linked list; contracting v sorts and
    deduplicates its list (its final upward neighbours), then hands all but the lowest, p, to p:
    the clique they form is then completed when p is contracted.
    """
    m = tail_rank.shape[0]
    head_of = -np.ones(n, dtype=np.int64)            # first pool entry of each node's list
    pool_val = np.empty(max(2 * m, 16), dtype=np.int64)
    pool_next = np.empty(max(2 * m, 16), dtype=np.int64)
    used = 0
    for e in range(m):
        a, b = tail_rank[e], head_rank[e]
        if a == b:
            continue
        lo, hi = (a, b) if a < b else (b, a)
        pool_val[used] = hi
        pool_next[used] = head_of[lo]
        head_of[lo] = used
        used += 1
    up_indptr = np.zeros(n + 1, dtype=np.int64)
    up_head = np.empty(max(2 * m, 16), dtype=np.int32)
    n_arcs = 0
    mark = -np.ones(n, dtype=np.int64)
    scratch = np.empty(n, dtype=np.int64)
    for v in range(n):
        k = 0
        i = head_of[v]
        while i >= 0:
            w = pool_val[i]
            if mark[w] != v:
                mark[w] = v
                scratch[k] = w
                k += 1
            i = pool_next[i]
        nb = np.sort(scratch[:k])
        up_head = _grow(up_head, n_arcs + k)
        for j in range(k):
            up_head[n_arcs + j] = nb[j]
        n_arcs += k
        up_indptr[v + 1] = n_arcs
        if k > 1:
            p = nb[0]
            pool_val = _grow(pool_val, used + k - 1)
            pool_next = _grow(pool_next, used + k - 1)
            for j in range(1, k):
                pool_val[used] = nb[j]
                pool_next[used] = head_of[p]
                head_of[p] = used
                used += 1
    return up_indptr, up_head[:n_arcs].copy()


@numba.njit(cache=True, nogil=True)
def _edge_arcs(rank, tail, head, up_indptr, up_head):
    """(arc of each edge or -1 for a self-loop, True where the edge runs down: high -> low rank)."""
    m = tail.shape[0]
    arc = np.empty(m, dtype=np.int32)
    down = np.zeros(m, dtype=np.bool_)
    for e in range(m):
        a, b = rank[tail[e]], rank[head[e]]
        if a == b:
            arc[e] = -1
            continue
        lo, hi = (a, b) if a < b else (b, a)
        down[e] = a > b
        s, t = up_indptr[lo], up_indptr[lo + 1]
        arc[e] = s + np.searchsorted(up_head[s:t], hi)
    return arc, down


def nested_dissection_rank(n: int, tail: np.ndarray, head: np.ndarray, x_m: np.ndarray,
                           y_m: np.ndarray) -> np.ndarray:
    """rank[node] of a nested dissection order (int64, a permutation of 0..n-1)."""
    return _nested_dissection(n, np.ascontiguousarray(tail, dtype=np.int64),
                              np.ascontiguousarray(head, dtype=np.int64),
                              np.ascontiguousarray(x_m, dtype=np.float64),
                              np.ascontiguousarray(y_m, dtype=np.float64), _DIRECTIONS)
