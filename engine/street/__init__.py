"""Street routing: shortest paths, snapping, paths and isochrones on a :class:`StreetGraph`.

The searches are numba kernels over the graph's CSR arrays and one cost array per profile:

* ``_dijkstra``: multi-source Dijkstra with an indexed 4-ary heap, early exit when every target
  is settled (one-to-many) or when no cheaper way to a target can remain (one-to-one with
  offsets at the targets), and a cost limit. The same kernel runs on the reversed CSR for
  backward searches ("from every node to this point", arrive-by).
* ``_astar``: the same search led by a lower bound: the straight line (see
  :func:`_astar_cost_per_m`) and, for method ``alt``, landmarks (ALT: Goldberg & Harrelson's
  triangle-inequality bounds from 16 landmarks per mode, the 4 best for each query).
* ``_bidirectional``: Dijkstra from both ends at once, stopping when the two frontier keys add up
  to the best meeting cost found.

Search state lives in preallocated per-thread workspaces; a search resets only the nodes the
previous search touched, so a short query on a 250,000-node graph costs what it explores, not
``O(n)``. Batched entry points (:func:`pair_costs`, :func:`point_costs`, :func:`many_to_many`)
run many queries in one kernel call, arrays in and arrays out.

Which method wins (``bench/street.py``): ALT everywhere once its tables exist (about 0.5 s per
mode on Monaco, 1-2 s on a 250,000-node grid), 5-20x fewer nodes settled than Dijkstra; without
them, straight-line A* on grids and for walking (uniform speed, tight bound), bidirectional
Dijkstra for cars on real streets (speeds vary, so the straight-line bound is loose). The default
``auto`` uses ALT when the tables exist or a batch is large enough to pay for them, else A*.

Points (lon/lat) snap to the nearest segment of the mode's largest strongly connected component
(:func:`snap`, :func:`snap_many`); a search then starts from both ends of that segment with the
partial edge costs, and a route on a single segment takes the direct way along it when allowed.

Costs are seconds of travel time, except that a bicycle profile with ``bike_lane_preference``
p > 0 pays ``(1 + p)`` times the travel time on edges without a bike lane: searches minimise that
*generalized cost*; paths report real travel time (``duration_s``) and length separately.
Isochrones (:func:`isochrone`) measure travel time and come back as nodes, GeoJSON points, edge
pieces, or an alpha-shape polygon built with scipy.spatial (the engine does not use shapely).
Turn restrictions are not applied (the OSM loader does not read them).
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
import scipy.spatial

from engine.cache import Memo, PerObject
from engine.model import Mode, StreetGraph

UNREACHED = math.inf
"""Cost of a node or target a search did not reach (within its limit)."""

NO_PREDECESSOR = -1
"""Predecessor edge of a source node or of a node not reached."""

LOCATION_NOT_ACCESSIBLE = "LOCATION_NOT_ACCESSIBLE"
"""Reason code when a point is farther than the maximum snap distance from the mode's streets."""

DEFAULT_MAX_SNAP_M = 500.0

METHODS = ("dijkstra", "astar", "alt", "bidirectional")
"""One-to-one search methods (same results): plain, A* with the straight-line bound, A* with
landmarks (ALT, preprocessed per graph and mode on first use), bidirectional Dijkstra.
See ``bench/street.py`` for which wins where."""

DEFAULT_METHOD = "auto"
"""``auto``: ALT when the mode's landmarks are built (see :func:`prepare`) or the call has at least
``AUTO_LANDMARK_QUERIES`` queries (worth building them), else A* with the straight-line bound."""

AUTO_LANDMARK_QUERIES = 64

_NOT_IN_HEAP = -1   # pos[] of a node never pushed (or reset)
_SETTLED = -2       # pos[] of a node popped with its final cost

# Spacing of the sample points along segments in the snapping KD-tree. Any segment within
# distance d of a point has a sample within d + spacing / 2, which is what makes the snap exact.
_SNAP_SAMPLE_SPACING_M = 25.0

# Float rounding may break the triangle inequality of straight-line bounds by a few ulps; shrink
# the A* bound so it never overestimates.
_ASTAR_SAFETY = 1.0 - 1e-9

_MAX_CACHED_PROFILES = 16

# Landmarks (ALT): how many per mode, how many a query uses, and the relative rounding of the
# float32 distance table (2**-24 per value, doubled for safety).
N_LANDMARKS = 16
N_ACTIVE_LANDMARKS = 4
_LM_EPS = 1.2e-7


class LocationNotAccessible(ValueError):
    """A point farther than the maximum snap distance from every street the mode may use."""

    code = LOCATION_NOT_ACCESSIBLE

    def __init__(self, lon: float, lat: float, mode: Mode, distance_m: float, max_distance_m: float):
        self.lon, self.lat, self.mode = float(lon), float(lat), Mode(mode)
        self.distance_m, self.max_distance_m = float(distance_m), float(max_distance_m)
        super().__init__(
            f"point lon={self.lon:.6f} lat={self.lat:.6f} is about {self.distance_m:,.0f} m from the nearest "
            f"street {self.mode.name} may use (maximum {self.max_distance_m:.0f} m) "
            f"[{LOCATION_NOT_ACCESSIBLE}]")


# ---------------------------------------------------------------------------------------------
# Profiles and cost arrays
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StreetProfile:
    """How one traveller moves on the streets.

    ``walk_speed_mps`` and ``bike_speed_mps`` rescale the graph's stored walk and bike times
    (which keep their per-edge shape: steps stay slower than flat ground). Car times come from
    the graph. ``bike_lane_preference`` p >= 0 makes every bike edge without a bike lane cost
    ``(1 + p)`` times its travel time: p = 0.25 accepts a detour of up to 25 % of the time spent
    off bike lanes to ride on them. Raises ValueError naming the parameter when out of range.
    """

    mode: Mode
    walk_speed_mps: float = 1.3
    bike_speed_mps: float = 4.5
    bike_lane_preference: float = 0.0

    def __post_init__(self):
        try:
            object.__setattr__(self, "mode", Mode(self.mode))
        except ValueError:
            raise ValueError(f"StreetProfile: mode must be one of {[m.name for m in Mode]}, "
                             f"got {self.mode!r}") from None
        for name in ("walk_speed_mps", "bike_speed_mps"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"StreetProfile: {name} must be a positive number, got {value}")
            object.__setattr__(self, name, value)
        p = float(self.bike_lane_preference)
        if not (math.isfinite(p) and p >= 0):
            raise ValueError(f"StreetProfile: bike_lane_preference must be >= 0, got {p}")
        object.__setattr__(self, "bike_lane_preference", p)


@dataclass(frozen=True)
class _ProfileArrays:
    cost: np.ndarray          # edge_idx -> generalized cost (s), inf = not allowed
    rev_cost: np.ndarray      # reversed-CSR slot -> cost of the forward edge rev_edge[slot]
    time_s: np.ndarray        # edge_idx -> travel time (s), inf = not allowed
    rev_time_s: np.ndarray    # reversed-CSR slot -> travel time
    astar_cost_per_m: float   # lower bound of cost per metre of straight line
    lm_scale: float           # profile cost / stored cost of the mode is at least this


class _GraphCache:
    """Per-graph derived data (cost arrays per profile, snapping trees), dropped with the graph."""

    def __init__(self):
        self.profiles: Memo = Memo(size=_MAX_CACHED_PROFILES)   # StreetProfile -> _ProfileArrays
        self.snap_index: Memo = Memo()                          # Mode -> _SnapIndex
        self.landmarks: Memo = Memo()                           # Mode -> ALT table
        self.chord_m: np.ndarray | None = None
        self.topology: _Topology | None = None


_cache_of = PerObject(lambda graph: _GraphCache())
"""The _GraphCache of a StreetGraph (kept while the graph lives)."""


@dataclass(frozen=True)
class _Topology:
    """The graph's arrays as plain ndarrays (bundles hand out memory maps) for the kernels."""

    indptr: np.ndarray
    indices: np.ndarray
    edge_tail: np.ndarray
    rev_indptr: np.ndarray
    rev_indices: np.ndarray
    rev_edge: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray


def _topology(graph: StreetGraph) -> _Topology:
    cache = _cache_of(graph)
    if cache.topology is None:
        def arr(a, dtype):
            return np.ascontiguousarray(np.asarray(a), dtype=dtype)
        cache.topology = _Topology(
            indptr=arr(graph.indptr, np.int32), indices=arr(graph.indices, np.int32),
            edge_tail=arr(graph.edge_tail, np.int32), rev_indptr=arr(graph.rev_indptr, np.int32),
            rev_indices=arr(graph.rev_indices, np.int32), rev_edge=arr(graph.rev_edge, np.int32),
            node_x=arr(graph.node_x_m, np.float64), node_y=arr(graph.node_y_m, np.float64))
    return cache.topology


def _chord_m(graph: StreetGraph) -> np.ndarray:
    cache = _cache_of(graph)
    if cache.chord_m is None:
        dx = graph.node_x_m[graph.indices] - graph.node_x_m[graph.edge_tail]
        dy = graph.node_y_m[graph.indices] - graph.node_y_m[graph.edge_tail]
        cache.chord_m = np.hypot(dx, dy)
    return cache.chord_m


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _profile_arrays(graph: StreetGraph, profile: StreetProfile) -> _ProfileArrays:
    if not isinstance(profile, StreetProfile):
        raise TypeError(f"profile must be a StreetProfile, got {type(profile).__name__}")
    return _cache_of(graph).profiles.get(profile, lambda: _compute_profile_arrays(graph, profile))


def _compute_profile_arrays(graph: StreetGraph, profile: StreetProfile) -> _ProfileArrays:
    stored = np.asarray(graph.cost_s(profile.mode), dtype=np.float64)
    if profile.mode == Mode.WALK:
        time_s_scale = graph.walk_speed_mps / profile.walk_speed_mps
    elif profile.mode == Mode.BICYCLE:
        time_s_scale = graph.bike_speed_mps / profile.bike_speed_mps
    else:
        time_s_scale = 1.0
    time_s = stored * time_s_scale
    cost = time_s
    if profile.mode == Mode.BICYCLE and profile.bike_lane_preference > 0:
        cost = np.where(np.asarray(graph.edge_is_bike_lane, dtype=bool), time_s,
                        time_s * (1.0 + profile.bike_lane_preference))
    rev_edge = np.asarray(graph.rev_edge)
    return _ProfileArrays(cost=_readonly(cost), rev_cost=_readonly(cost[rev_edge]),
                          time_s=_readonly(time_s), rev_time_s=_readonly(time_s[rev_edge]),
                          astar_cost_per_m=_astar_cost_per_m(cost, _chord_m(graph)),
                          lm_scale=float(time_s_scale) * _ASTAR_SAFETY)


def _astar_cost_per_m(cost: np.ndarray, chord_m: np.ndarray) -> float:
    """The largest c with cost(e) >= c * chord(e) for every allowed edge.

    ``chord`` is the straight-line length of the edge in the graph's projection, so by the
    triangle inequality c * |v - goal| (in the same projection) never exceeds the cost of any
    path from v to the goal: a consistent A* bound that does not depend on how edge lengths were
    measured, nor on the projection's scale error. Degenerate (zero-length) edges bound nothing.
    """
    ok = np.isfinite(cost) & (chord_m > 0)
    if not ok.any():
        return 0.0
    return float(np.min(cost[ok] / chord_m[ok])) * _ASTAR_SAFETY


def edge_costs(graph: StreetGraph, profile: StreetProfile) -> np.ndarray:
    """Generalized cost (s) of every edge for a profile, inf where the mode may not go.

    Travel time at the profile's speeds, times ``1 + bike_lane_preference`` on bike edges without
    a bike lane. Cached per (graph, profile); the array is read-only.
    """
    return _profile_arrays(graph, profile).cost


def edge_times(graph: StreetGraph, profile: StreetProfile) -> np.ndarray:
    """Travel time (s) of every edge at the profile's speeds, inf where the mode may not go."""
    return _profile_arrays(graph, profile).time_s


# ---------------------------------------------------------------------------------------------
# Workspaces: preallocated search state, reset lazily through a list of touched nodes
# ---------------------------------------------------------------------------------------------
# fbuf rows: 0 dist, 1 heap key, 2 target offset (inf = not a target), 3 A* bound
# ibuf rows: 0 predecessor (edge or reversed slot), 1 heap position / state, 2 heap node, 3 touched
_F_DIST, _F_KEY, _F_TARGET, _F_BOUND = 0, 1, 2, 3
_I_PRED, _I_POS, _I_HEAP, _I_TOUCHED = 0, 1, 2, 3


class _Workspace:
    __slots__ = ("fbuf", "ibuf", "count")

    def __init__(self, n: int):
        self.fbuf = np.empty((4, n), dtype=np.float64)
        self.fbuf[_F_DIST] = np.inf
        self.fbuf[_F_TARGET] = np.inf
        self.ibuf = np.empty((4, n), dtype=np.int32)
        self.ibuf[_I_PRED] = NO_PREDECESSOR
        self.ibuf[_I_POS] = _NOT_IN_HEAP
        self.count = np.zeros(1, dtype=np.int64)  # nodes touched by the last search


_local = threading.local()


def _workspaces(n: int) -> tuple[_Workspace, _Workspace]:
    """(forward, backward) workspaces of this thread for graphs of n nodes."""
    spaces = getattr(_local, "spaces", None)
    if spaces is None:
        spaces = _local.spaces = {}
    ws = spaces.get(n)
    if ws is None:
        if len(spaces) >= 4:  # a thread serving many graph sizes keeps the last few
            spaces.pop(next(iter(spaces)))
        ws = spaces[n] = (_Workspace(n), _Workspace(n))
    return ws


# ---------------------------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------------------------
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
              stop_at_best, max_cost, fbuf, ibuf, count):
    """Multi-source Dijkstra over a CSR graph (forward or reversed).

    Sources start at ``source_cost``; ``cost[slot]`` is the cost of CSR slot ``slot``. Without
    targets the search settles everything within ``max_cost``. With targets it stops when all
    target nodes are settled or, if ``stop_at_best``, as soon as no remaining node can beat the
    best ``dist[t] + target_cost`` (one-to-one between points). Writes dist and predecessor slots
    into the workspace; returns (best target cost or inf, best target node or -1).
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
    while size > 0:
        key = heap_key[0]
        if key > max_cost or (stop_at_best and key >= best):
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
           fbuf, ibuf, count):
    """A* from sources to the cheapest of the targets (offsets included), toward (goal_x, goal_y).

    The straight-line bound ``cost_per_m * |v - goal|`` is consistent when every target offset
    is at least ``cost_per_m`` times the target node's straight-line distance to the goal (true
    for the partial edges of a snapped point). With a landmark table ``lm`` (n, 2L) and
    ``n_active`` > 0 the bound is the larger of that and the ALT bound of the n_active best
    landmarks for this query. A node whose cost improves after it was settled is searched again,
    so an admissible bound suffices. Returns (best cost or inf, best target node or -1).
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
    while size > 0:
        key = heap_key[0]
        if key > max_cost or key >= best:
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
                   fbuf_f, ibuf_f, count_f, fbuf_b, ibuf_b, count_b, meet):
    """Bidirectional Dijkstra from the sources (forward) and the targets (backward, offsets).

    Expands the side whose frontier key is smaller and stops when the two keys add up to at
    least the best meeting cost mu. Predecessors are forward edge ids on both sides (backward:
    the edge leaving the node toward the targets). Writes the best meeting into ``meet``:
    (forward-side node, joining edge or -1 for a meeting at a node, backward-side node).
    Returns mu, or inf when no path within ``max_cost`` exists.
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
    while size_f > 0 and size_b > 0:
        top_f = key_f[0]
        top_b = key_b[0]
        if top_f + top_b >= mu or top_f + top_b > max_cost:
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


_METHOD_CODE = {name: i for i, name in enumerate(METHODS)}


@numba.njit(cache=True, nogil=True)
def _pairs_kernel(method, indptr, indices, cost, rev_indptr, rev_indices, rev_cost, rev_edge,
                  node_x, node_y, cost_per_m, lm, lm_scale, q_src_ptr, q_src_node, q_src_cost,
                  q_tgt_ptr, q_tgt_node, q_tgt_cost, q_goal_x, q_goal_y, max_cost,
                  fbuf_f, ibuf_f, count_f, fbuf_b, ibuf_b, count_b, out_cost):
    """Cheapest cost of each query q: from its sources q_src_*[q_src_ptr[q]:q_src_ptr[q+1]] to
    its targets (with offsets); method 0 Dijkstra, 1 A* (straight line toward q_goal_x/y),
    2 A* with landmarks ``lm`` as well, 3 bidirectional Dijkstra."""
    meet = np.empty(3, dtype=np.int64)
    for q in range(q_src_ptr.shape[0] - 1):
        s0, s1 = q_src_ptr[q], q_src_ptr[q + 1]
        t0, t1 = q_tgt_ptr[q], q_tgt_ptr[q + 1]
        if method == 0:
            best, _ = _dijkstra(indptr, indices, cost, q_src_node[s0:s1], q_src_cost[s0:s1],
                                q_tgt_node[t0:t1], q_tgt_cost[t0:t1], True, max_cost,
                                fbuf_f, ibuf_f, count_f)
        elif method == 1 or method == 2:
            best, _ = _astar(indptr, indices, cost, node_x, node_y, cost_per_m, q_goal_x[q],
                             q_goal_y[q], lm, lm_scale, N_ACTIVE_LANDMARKS if method == 2 else 0,
                             q_src_node[s0:s1], q_src_cost[s0:s1], q_tgt_node[t0:t1],
                             q_tgt_cost[t0:t1], max_cost, fbuf_f, ibuf_f, count_f)
        else:
            best = _bidirectional(indptr, indices, cost, rev_indptr, rev_indices, rev_cost, rev_edge,
                                  q_src_node[s0:s1], q_src_cost[s0:s1], q_tgt_node[t0:t1],
                                  q_tgt_cost[t0:t1], max_cost, fbuf_f, ibuf_f, count_f,
                                  fbuf_b, ibuf_b, count_b, meet)
        out_cost[q] = best


@numba.njit(cache=True, nogil=True)
def _many_to_many_kernel(indptr, indices, cost, source_nodes, target_nodes, max_cost,
                         fbuf, ibuf, count, out_cost):
    """out_cost[i, j] = cost from source_nodes[i] to target_nodes[j] (inf if not within max_cost)."""
    zero = np.zeros(1, dtype=np.float64)
    target_zero = np.zeros(target_nodes.shape[0], dtype=np.float64)
    dist = fbuf[_F_DIST]
    pos = ibuf[_I_POS]
    for i in range(source_nodes.shape[0]):
        _dijkstra(indptr, indices, cost, source_nodes[i:i + 1], zero, target_nodes, target_zero,
                  False, max_cost, fbuf, ibuf, count)
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


# ---------------------------------------------------------------------------------------------
# Landmarks (ALT)
# ---------------------------------------------------------------------------------------------
_NO_LANDMARKS = np.zeros((0, 0), dtype=np.float32)


def _landmarks(graph: StreetGraph, mode: Mode, n_landmarks: int = N_LANDMARKS) -> np.ndarray:
    """(n_nodes, 2L) float32: cost from each of L landmarks to every node, then to them.

    Costs are the graph's stored ones for the mode (a profile's costs are at least its
    ``lm_scale`` times those). Landmarks are chosen by farthest selection within the mode's
    largest component: each new one is the node farthest from those already chosen. Takes 2L
    full searches, once per graph and mode (about 1 s on a 250,000-node grid).
    """
    mode = Mode(mode)
    return _cache_of(graph).landmarks.get(mode, lambda: _compute_landmarks(graph, mode, n_landmarks))


def _compute_landmarks(graph: StreetGraph, mode: Mode, n_landmarks: int) -> np.ndarray:
    n = graph.n_nodes
    comp = np.flatnonzero(np.asarray(graph.node_in_component[mode]))
    n_lm = min(n_landmarks, comp.size)
    table = np.full((n, 2 * n_lm), np.inf, dtype=np.float32)
    if n_lm:
        topo = _topology(graph)
        cost = np.ascontiguousarray(graph.cost_s(mode), dtype=np.float64)
        rev_cost = cost[topo.rev_edge]
        ws, _ = _workspaces(n)
        none = np.zeros(0, dtype=np.int32)

        def full_search(node, indptr, indices, c):
            _dijkstra(indptr, indices, c, np.array([node], dtype=np.int32), np.zeros(1), none,
                      np.zeros(0), False, np.inf, ws.fbuf, ws.ibuf, ws.count)
            return ws.fbuf[_F_DIST].copy()

        # Start from the component node nearest the centre of the component's bounding box.
        x, y = topo.node_x[comp], topo.node_y[comp]
        centre = comp[np.argmin(np.hypot(x - (x.min() + x.max()) / 2, y - (y.min() + y.max()) / 2))]
        nearest = full_search(centre, topo.indptr, topo.indices, cost)
        for i in range(n_lm):
            lmk = comp[np.argmax(np.where(np.isfinite(nearest[comp]), nearest[comp], -1.0))]
            fwd = full_search(lmk, topo.indptr, topo.indices, cost)
            table[:, i] = fwd
            table[:, n_lm + i] = full_search(lmk, topo.rev_indptr, topo.rev_indices, rev_cost)
            nearest = fwd if i == 0 else np.minimum(nearest, fwd)
    table.setflags(write=False)
    return table


def prepare(graph: StreetGraph, modes=tuple(Mode), *, landmarks: bool = True) -> None:
    """Build what queries would otherwise build on first use: snapping trees and, with
    ``landmarks``, the ALT tables of the given modes (for a server, at start-up)."""
    for mode in modes:
        _snap_index(graph, Mode(mode))
        if landmarks:
            _landmarks(graph, Mode(mode))


# ---------------------------------------------------------------------------------------------
# Node-level searches
# ---------------------------------------------------------------------------------------------
def _as_nodes(graph: StreetGraph, nodes, name: str) -> np.ndarray:
    if isinstance(nodes, int | np.integer) and not isinstance(nodes, bool):  # the common scalar
        if 0 <= nodes < graph.n_nodes:
            return np.array([nodes], dtype=np.int32)
        raise ValueError(f"{name}: node index {nodes} is outside the graph (0..{graph.n_nodes - 1})")
    arr = np.atleast_1d(np.asarray(nodes))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a node index or a 1-d sequence of them")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer node indices, got {arr.dtype}")
    arr = arr.astype(np.int32, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= graph.n_nodes):
        bad = arr[(arr < 0) | (arr >= graph.n_nodes)][0]
        raise ValueError(f"{name}: node index {bad} is outside the graph (0..{graph.n_nodes - 1})")
    return np.ascontiguousarray(arr)


def _as_costs(values, n: int, name: str) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=np.float64)
    arr = np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)))
    if np.isnan(arr).any() or (arr < 0).any():
        raise ValueError(f"{name} must be >= 0 (seconds), got NaN or negative values")
    return arr


def _check_limit(max_cost: float) -> float:
    max_cost = float(max_cost)
    if math.isnan(max_cost) or max_cost < 0:
        raise ValueError(f"max_cost must be >= 0 seconds (or inf), got {max_cost}")
    return max_cost


@dataclass(frozen=True)
class StreetSearch:
    """Result of :func:`search`: cost at every node and the shortest-path tree.

    ``cost[v]`` is the least cost (s) from the sources to v (to the sources when ``reverse``),
    UNREACHED if v was not settled. ``pred_edge[v]`` is the edge that enters v on its best path
    (reverse: the edge that leaves v toward the sources), NO_PREDECESSOR at sources and
    unreached nodes.
    """

    profile: StreetProfile
    reverse: bool
    cost: np.ndarray
    pred_edge: np.ndarray

    def reached(self) -> np.ndarray:
        """Indices of the nodes reached, by increasing cost."""
        nodes = np.flatnonzero(np.isfinite(self.cost))
        return nodes[np.argsort(self.cost[nodes], kind="stable")]


def search(graph: StreetGraph, profile: StreetProfile, source_nodes, source_cost=None, *,
           target_nodes=None, max_cost: float = math.inf, reverse: bool = False,
           use_time: bool = False) -> StreetSearch:
    """Multi-source Dijkstra from nodes (each starting at ``source_cost`` s, default 0).

    With ``target_nodes`` the search stops once all of them are settled (other nodes may then
    be left UNREACHED); with ``max_cost`` it settles only nodes within that cost. ``reverse``
    searches the reversed graph: ``cost[v]`` is then the least cost from v *to* the sources
    ("everything that reaches this point"). ``use_time`` minimises travel time instead of the
    generalized cost (they differ only with a bike-lane preference).
    Raises ValueError naming the argument for a node outside the graph or a negative cost.
    """
    sources = _as_nodes(graph, source_nodes, "source_nodes")
    offsets = _as_costs(source_cost, sources.size, "source_cost")
    targets = (np.zeros(0, dtype=np.int32) if target_nodes is None
               else _as_nodes(graph, target_nodes, "target_nodes"))
    max_cost = _check_limit(max_cost)
    arrays = _profile_arrays(graph, profile)
    ws, _ = _workspaces(graph.n_nodes)
    topo = _topology(graph)
    if reverse:
        indptr, indices = topo.rev_indptr, topo.rev_indices
        cost = arrays.rev_time_s if use_time else arrays.rev_cost
    else:
        indptr, indices = topo.indptr, topo.indices
        cost = arrays.time_s if use_time else arrays.cost
    _dijkstra(indptr, indices, cost, sources, offsets, targets, np.zeros(targets.size), False,
              max_cost, ws.fbuf, ws.ibuf, ws.count)
    touched = ws.ibuf[_I_TOUCHED, :ws.count[0]]
    settled = touched[ws.ibuf[_I_POS, touched] == _SETTLED]
    cost_out = np.full(graph.n_nodes, UNREACHED)
    cost_out[settled] = ws.fbuf[_F_DIST, settled]
    pred = np.full(graph.n_nodes, NO_PREDECESSOR, dtype=np.int32)
    slots = ws.ibuf[_I_PRED, settled]
    if reverse:
        slots = np.where(slots >= 0, topo.rev_edge[np.maximum(slots, 0)], NO_PREDECESSOR)
    pred[settled] = slots
    return StreetSearch(profile=profile, reverse=reverse, cost=cost_out, pred_edge=pred)


def one_to_many(graph: StreetGraph, profile: StreetProfile, source_node: int, target_nodes, *,
                max_cost: float = math.inf, reverse: bool = False) -> np.ndarray:
    """Cost (s) from one node to each target node (from each target to it when ``reverse``).

    One search that stops when every target is settled; UNREACHED where not within max_cost.
    """
    costs = many_to_many(graph, profile, [source_node], target_nodes, max_cost=max_cost,
                         reverse=reverse)
    return costs[0]


def many_to_many(graph: StreetGraph, profile: StreetProfile, source_nodes, target_nodes, *,
                 max_cost: float = math.inf, reverse: bool = False) -> np.ndarray:
    """(n_sources, n_targets) matrix of costs (s), one early-stopping search per source.

    ``reverse`` gives cost from each target to each source instead (searches on the reversed
    graph), still indexed [source, target]. UNREACHED where not within max_cost.
    """
    sources = _as_nodes(graph, source_nodes, "source_nodes")
    targets = _as_nodes(graph, target_nodes, "target_nodes")
    max_cost = _check_limit(max_cost)
    arrays = _profile_arrays(graph, profile)
    ws, _ = _workspaces(graph.n_nodes)
    out = np.empty((sources.size, targets.size), dtype=np.float64)
    topo = _topology(graph)
    if reverse:
        _many_to_many_kernel(topo.rev_indptr, topo.rev_indices, arrays.rev_cost, sources, targets,
                             max_cost, ws.fbuf, ws.ibuf, ws.count, out)
    else:
        _many_to_many_kernel(topo.indptr, topo.indices, arrays.cost, sources, targets, max_cost,
                             ws.fbuf, ws.ibuf, ws.count, out)
    return out


def _resolve_method(graph: StreetGraph, mode: Mode, method: str, n_queries: int) -> str:
    if method == "auto":
        if n_queries >= AUTO_LANDMARK_QUERIES or _cache_of(graph).landmarks.peek(mode) is not None:
            return "alt"
        return "astar"
    if method not in _METHOD_CODE:
        raise ValueError(f"method must be 'auto' or one of {METHODS}, got {method!r}")
    return method


def _run_pairs(graph, profile, method, q_src_ptr, q_src_node, q_src_cost, q_tgt_ptr, q_tgt_node,
               q_tgt_cost, q_goal_x, q_goal_y, max_cost) -> np.ndarray:
    method = _resolve_method(graph, profile.mode, method, q_src_ptr.size - 1)
    arrays = _profile_arrays(graph, profile)
    lm = _landmarks(graph, profile.mode) if method == "alt" else _NO_LANDMARKS
    ws_f, ws_b = _workspaces(graph.n_nodes)
    out = np.empty(q_src_ptr.size - 1, dtype=np.float64)
    topo = _topology(graph)
    _pairs_kernel(_METHOD_CODE[method], topo.indptr, topo.indices, arrays.cost, topo.rev_indptr,
                  topo.rev_indices, arrays.rev_cost, topo.rev_edge, topo.node_x, topo.node_y,
                  arrays.astar_cost_per_m, lm, arrays.lm_scale, q_src_ptr, q_src_node, q_src_cost,
                  q_tgt_ptr, q_tgt_node, q_tgt_cost, q_goal_x, q_goal_y, max_cost,
                  ws_f.fbuf, ws_f.ibuf, ws_f.count, ws_b.fbuf, ws_b.ibuf, ws_b.count, out)
    return out


def pair_costs(graph: StreetGraph, profile: StreetProfile, source_nodes, target_nodes, *,
               max_cost: float = math.inf, method: str = DEFAULT_METHOD) -> np.ndarray:
    """Cost (s) of each (source_nodes[i], target_nodes[i]) pair, all in one kernel call.

    ``method`` is "auto" or one of METHODS; all give the same costs. UNREACHED where there is no path
    within ``max_cost``. Raises ValueError for nodes outside the graph or arrays of unequal size.
    """
    sources = _as_nodes(graph, source_nodes, "source_nodes")
    targets = _as_nodes(graph, target_nodes, "target_nodes")
    if sources.size != targets.size:
        raise ValueError(f"pair_costs: {sources.size} source_nodes but {targets.size} target_nodes")
    ptr = np.arange(sources.size + 1, dtype=np.int64)
    zeros = np.zeros(sources.size)
    topo = _topology(graph)
    return _run_pairs(graph, profile, method, ptr, sources, zeros, ptr, targets, zeros,
                      topo.node_x[targets], topo.node_y[targets], _check_limit(max_cost))


def one_to_one(graph: StreetGraph, profile: StreetProfile, source_node: int, target_node: int, *,
               max_cost: float = math.inf, method: str = DEFAULT_METHOD) -> float:
    """Cost (s) from one node to another, UNREACHED when there is no path within max_cost."""
    return float(pair_costs(graph, profile, [source_node], [target_node], max_cost=max_cost,
                            method=method)[0])


# ---------------------------------------------------------------------------------------------
# Snapping
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _SnapIndex:
    seg_edge: np.ndarray      # segment -> a directed edge the mode may use (int32)
    tree: scipy.spatial.cKDTree
    sample_seg: np.ndarray    # tree point -> segment


def _snap_index(graph: StreetGraph, mode: Mode) -> _SnapIndex:
    return _cache_of(graph).snap_index.get(mode, lambda: _compute_snap_index(graph, mode))


def _compute_snap_index(graph: StreetGraph, mode: Mode) -> _SnapIndex:
    tail = np.asarray(graph.edge_tail)
    head = np.asarray(graph.indices)
    comp = np.asarray(graph.node_in_component[mode])
    ok = np.isfinite(graph.cost_s(mode)) & comp[tail] & comp[head] & (tail != head)
    edges = np.flatnonzero(ok)
    # One segment per unordered node pair: both directions of a street share its geometry.
    lo = np.minimum(tail[edges], head[edges]).astype(np.int64)
    hi = np.maximum(tail[edges], head[edges]).astype(np.int64)
    _, first = np.unique(lo * graph.n_nodes + hi, return_index=True)
    seg_edge = edges[first].astype(np.int32)
    x, y = np.asarray(graph.node_x_m), np.asarray(graph.node_y_m)
    ax, ay = x[tail[seg_edge]], y[tail[seg_edge]]
    bx, by = x[head[seg_edge]], y[head[seg_edge]]
    # Samples at both ends and every <= spacing in between, per segment.
    n_steps = np.maximum(1, np.ceil(np.hypot(bx - ax, by - ay) / _SNAP_SAMPLE_SPACING_M)).astype(np.int64)
    sample_seg = np.repeat(np.arange(seg_edge.size, dtype=np.int64), n_steps + 1)
    starts = np.cumsum(n_steps + 1) - (n_steps + 1)
    step = np.arange(sample_seg.size) - np.repeat(starts, n_steps + 1)
    t = step / np.repeat(n_steps, n_steps + 1)
    px = ax[sample_seg] + t * (bx - ax)[sample_seg]
    py = ay[sample_seg] + t * (by - ay)[sample_seg]
    tree = scipy.spatial.cKDTree(np.column_stack([px, py]) if px.size else np.zeros((0, 2)))
    return _SnapIndex(seg_edge=seg_edge, tree=tree, sample_seg=sample_seg.astype(np.int32))


@dataclass(frozen=True)
class Snap:
    """A point placed on the street graph for one mode.

    It lies on ``edge_idx`` (an edge the mode may use, from ``tail_node`` to ``head_node``) at
    ``fraction`` of its length from the tail; ``lon``/``lat`` is that spot and ``distance_m`` its
    distance to the original point (``input_lon``/``input_lat``).
    """

    mode: Mode
    edge_idx: int
    tail_node: int
    head_node: int
    fraction: float
    lon: float
    lat: float
    distance_m: float
    input_lon: float
    input_lat: float


@dataclass(frozen=True)
class Snaps:
    """Vectorized snapping result; ``edge_idx`` is -1 where the point is not accessible."""

    mode: Mode
    edge_idx: np.ndarray
    tail_node: np.ndarray
    head_node: np.ndarray
    fraction: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    distance_m: np.ndarray     # to the nearest usable street (beyond the maximum: within 12.5 m)
    input_lon: np.ndarray
    input_lat: np.ndarray
    max_distance_m: float

    @property
    def accessible(self) -> np.ndarray:
        return self.edge_idx >= 0

    def __len__(self) -> int:
        return int(self.edge_idx.size)

    def __getitem__(self, i: int) -> Snap:
        if self.edge_idx[i] < 0:
            raise LocationNotAccessible(self.input_lon[i], self.input_lat[i], self.mode,
                                        self.distance_m[i], self.max_distance_m)
        return Snap(mode=self.mode, edge_idx=int(self.edge_idx[i]), tail_node=int(self.tail_node[i]),
                    head_node=int(self.head_node[i]), fraction=float(self.fraction[i]),
                    lon=float(self.lon[i]), lat=float(self.lat[i]),
                    distance_m=float(self.distance_m[i]), input_lon=float(self.input_lon[i]),
                    input_lat=float(self.input_lat[i]))


def snap_many(graph: StreetGraph, lon, lat, mode: Mode, *,
              max_distance_m: float = DEFAULT_MAX_SNAP_M) -> Snaps:
    """Snap many lon/lat points (degrees) to the nearest street segment the mode may use.

    Only segments of the mode's largest strongly connected component count, so every snapped
    point can reach every other. The nearest segment is exact: the KD-tree holds sample points
    at most 25 m apart along every segment, so a segment at distance d from the point has a
    sample within d + 12.5 m; all samples within (nearest sample distance + 12.5 m) are checked
    by exact point-to-segment projection. Points farther than ``max_distance_m`` get
    ``edge_idx = -1`` (not accessible). Raises ValueError for NaN coordinates or a negative
    maximum.
    """
    mode = Mode(mode)
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if lon.shape != lat.shape or lon.ndim != 1:
        raise ValueError("snap_many: lon and lat must be 1-d arrays of equal length")
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise ValueError("snap_many: lon/lat must be finite numbers")
    if not (max_distance_m >= 0):
        raise ValueError(f"max_distance_m must be >= 0, got {max_distance_m}")
    n = lon.size
    edge_out = np.full(n, -1, dtype=np.int32)
    frac_out = np.full(n, np.nan)
    dist_out = np.full(n, np.inf)
    index = _snap_index(graph, mode)
    px, py = graph.projection.to_xy_m(lon, lat)
    px, py = np.atleast_1d(px), np.atleast_1d(py)
    if index.tree.n > 0 and n > 0:
        pts = np.column_stack([px, py])
        d1, _ = index.tree.query(pts, k=1)
        half = _SNAP_SAMPLE_SPACING_M / 2
        # Points whose nearest street is surely beyond the maximum skip the exact stage.
        near = np.flatnonzero(d1 - half <= max_distance_m)
        if near.size:
            hits = index.tree.query_ball_point(pts[near], d1[near] * (1 + 1e-9) + half)
            counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=near.size)
            samples = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])
            owner = np.repeat(np.arange(near.size), counts)
            seg = index.sample_seg[samples]
            e = index.seg_edge[seg]
            x, y = np.asarray(graph.node_x_m), np.asarray(graph.node_y_m)
            ax, ay = x[graph.edge_tail[e]], y[graph.edge_tail[e]]
            dx, dy = x[graph.indices[e]] - ax, y[graph.indices[e]] - ay
            qx, qy = px[near][owner], py[near][owner]
            len2 = dx * dx + dy * dy
            f = np.clip(((qx - ax) * dx + (qy - ay) * dy) / np.where(len2 > 0, len2, 1.0), 0.0, 1.0)
            d = np.hypot(ax + f * dx - qx, ay + f * dy - qy)
            order = np.lexsort((seg, d, owner))   # per point: nearest, then lowest segment
            first = order[np.r_[0, np.flatnonzero(np.diff(owner[order])) + 1]]
            pick = near[owner[first]]
            edge_out[pick] = e[first]
            frac_out[pick] = f[first]
            dist_out[pick] = d[first]
        far = np.setdiff1d(np.arange(n), near)
        dist_out[far] = d1[far] - half  # a lower bound is enough to say "too far"
    edge_out[dist_out > max_distance_m] = -1
    tail = np.where(edge_out >= 0, graph.edge_tail[np.maximum(edge_out, 0)], -1).astype(np.int32)
    head = np.where(edge_out >= 0, graph.indices[np.maximum(edge_out, 0)], -1).astype(np.int32)
    ok = edge_out >= 0
    sx = np.where(ok, graph.node_x_m[np.maximum(tail, 0)] * (1 - np.nan_to_num(frac_out))
                  + graph.node_x_m[np.maximum(head, 0)] * np.nan_to_num(frac_out), np.nan)
    sy = np.where(ok, graph.node_y_m[np.maximum(tail, 0)] * (1 - np.nan_to_num(frac_out))
                  + graph.node_y_m[np.maximum(head, 0)] * np.nan_to_num(frac_out), np.nan)
    slon, slat = graph.projection.to_lonlat(sx, sy)
    return Snaps(mode=mode, edge_idx=edge_out, tail_node=tail, head_node=head,
                 fraction=np.where(ok, frac_out, np.nan), lon=np.atleast_1d(slon),
                 lat=np.atleast_1d(slat), distance_m=dist_out, input_lon=lon, input_lat=lat,
                 max_distance_m=float(max_distance_m))


def snap(graph: StreetGraph, lon: float, lat: float, mode: Mode, *,
         max_distance_m: float = DEFAULT_MAX_SNAP_M) -> Snap:
    """Snap one lon/lat point (degrees) to the nearest street segment the mode may use.

    Raises :class:`LocationNotAccessible` (code LOCATION_NOT_ACCESSIBLE) when the nearest one is
    farther than ``max_distance_m`` metres.
    """
    snaps = snap_many(graph, [lon], [lat], mode, max_distance_m=max_distance_m)
    if snaps.edge_idx[0] < 0:
        raise LocationNotAccessible(lon, lat, mode, snaps.distance_m[0], max_distance_m)
    return snaps[0]


@dataclass(frozen=True)
class _Links:
    """How a snapped point connects to the two ends of its segment, for one profile."""

    fwd_edge: int     # cheapest edge tail -> head (or -1)
    bwd_edge: int     # cheapest edge head -> tail (or -1)
    fwd_cost: float
    bwd_cost: float

    def sources(self, s: Snap) -> tuple[np.ndarray, np.ndarray]:
        """Nodes reached from the point and their costs (leaving along the segment)."""
        nodes, costs = [], []
        if self.fwd_edge >= 0:
            nodes.append(s.head_node)
            costs.append((1.0 - s.fraction) * self.fwd_cost)
        if self.bwd_edge >= 0:
            nodes.append(s.tail_node)
            costs.append(s.fraction * self.bwd_cost)
        return np.asarray(nodes, dtype=np.int32), np.asarray(costs, dtype=np.float64)

    def targets(self, s: Snap) -> tuple[np.ndarray, np.ndarray]:
        """Nodes from which the point is reached and the remaining cost along the segment."""
        nodes, costs = [], []
        if self.fwd_edge >= 0:
            nodes.append(s.tail_node)
            costs.append(s.fraction * self.fwd_cost)
        if self.bwd_edge >= 0:
            nodes.append(s.head_node)
            costs.append((1.0 - s.fraction) * self.bwd_cost)
        return np.asarray(nodes, dtype=np.int32), np.asarray(costs, dtype=np.float64)


def _links(graph: StreetGraph, cost: np.ndarray, s: Snap) -> _Links:
    tails = np.array([s.tail_node, s.head_node], dtype=np.int32)
    heads = np.array([s.head_node, s.tail_node], dtype=np.int32)
    edge = np.empty(2, dtype=np.int32)
    c = np.empty(2)
    topo = _topology(graph)
    _best_edges_between(topo.indptr, topo.indices, cost, tails, heads, edge, c)
    return _Links(int(edge[0]), int(edge[1]), float(c[0]), float(c[1]))


# ---------------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StreetPath:
    """A path on the streets, from a point (or node) to a point (or node).

    ``edge_idx`` lists the edges used in order, each for ``edge_fraction`` of its length (below 1
    only for the first and last edge of a path between snapped points). ``node_idx`` lists the
    street nodes passed. ``lon``/``lat`` is the geometry (degrees) including the snapped ends.
    ``cost`` is the generalized cost the search minimised; ``duration_s`` the travel time at the
    profile's speeds; ``streets`` the consecutive stretches by street name ('' when OSM has
    none) with their lengths in metres, like turn-by-turn steps.
    """

    profile: StreetProfile
    node_idx: np.ndarray
    edge_idx: np.ndarray
    edge_fraction: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    length_m: float
    duration_s: float
    cost: float
    streets: tuple[tuple[str, float], ...]

    def geojson(self) -> dict:
        """The geometry as a GeoJSON LineString (a point repeated when the path is empty)."""
        coords = [[float(x), float(y)] for x, y in zip(self.lon, self.lat, strict=True)]
        if len(coords) == 1:
            coords = coords * 2
        return {"type": "LineString", "coordinates": coords}


def _make_path(graph: StreetGraph, profile: StreetProfile, cost: float, nodes: np.ndarray,
               edges: np.ndarray, fractions: np.ndarray, start_lonlat=None, end_lonlat=None
               ) -> StreetPath:
    arrays = _profile_arrays(graph, profile)
    edges = np.asarray(edges, dtype=np.int32)
    fractions = np.asarray(fractions, dtype=np.float64)
    lengths = np.asarray(graph.edge_length_m)[edges] * fractions
    durations = arrays.time_s[edges] * fractions
    lon = np.asarray(graph.node_lon)[nodes]
    lat = np.asarray(graph.node_lat)[nodes]
    if start_lonlat is not None:
        lon, lat = np.r_[start_lonlat[0], lon], np.r_[start_lonlat[1], lat]
    if end_lonlat is not None:
        lon, lat = np.r_[lon, end_lonlat[0]], np.r_[lat, end_lonlat[1]]
    if lon.size > 1:  # drop repeated points (a snap exactly on a node)
        keep = np.r_[True, (np.diff(lon) != 0) | (np.diff(lat) != 0)]
        lon, lat = lon[keep], lat[keep]
    streets: tuple = ()
    used = lengths > 0
    if used.any():
        names = np.asarray(graph.way_name)[np.asarray(graph.edge_way_idx)[edges[used]]]
        starts = np.r_[0, np.flatnonzero(names[1:] != names[:-1]) + 1]
        sums = np.add.reduceat(lengths[used], starts)
        streets = tuple((str(names[i]), float(s)) for i, s in zip(starts, sums, strict=True))
    return StreetPath(profile=profile, node_idx=np.asarray(nodes, dtype=np.int32), edge_idx=edges,
                      edge_fraction=fractions, lon=lon, lat=lat, length_m=float(lengths.sum()),
                      duration_s=float(durations.sum()), cost=float(cost), streets=streets)


def _path_edges(graph: StreetGraph, ws_f: _Workspace, end_node: int, forward_tree: bool = True
                ) -> np.ndarray:
    buf = np.empty(max(ws_f.count[0], 1), dtype=np.int32)
    topo = _topology(graph)
    k = _trace(ws_f.ibuf[_I_PRED], topo.edge_tail if forward_tree else topo.indices, end_node, buf)
    return buf[:k][::-1].copy() if forward_tree else buf[:k].copy()


def _nodes_of(graph: StreetGraph, edges: np.ndarray, first_node: int) -> np.ndarray:
    return np.r_[np.int32(first_node), np.asarray(graph.indices)[edges]].astype(np.int32)


def _search_between(graph, profile, src_nodes, src_cost, tgt_nodes, tgt_cost, goal_xy, max_cost,
                    method) -> tuple[float, np.ndarray, int]:
    """(cost, forward edges of the path, first node) of the cheapest source -> target way."""
    method = _resolve_method(graph, profile.mode, method, 1)
    arrays = _profile_arrays(graph, profile)
    ws_f, ws_b = _workspaces(graph.n_nodes)
    topo = _topology(graph)
    if method == "bidirectional":
        meet = np.empty(3, dtype=np.int64)
        best = _bidirectional(topo.indptr, topo.indices, arrays.cost, topo.rev_indptr,
                              topo.rev_indices, arrays.rev_cost, topo.rev_edge, src_nodes, src_cost,
                              tgt_nodes, tgt_cost, max_cost, ws_f.fbuf, ws_f.ibuf, ws_f.count,
                              ws_b.fbuf, ws_b.ibuf, ws_b.count, meet)
        if not math.isfinite(best):
            return UNREACHED, np.zeros(0, np.int32), -1
        u, e, v = (int(x) for x in meet)
        head = _path_edges(graph, ws_f, u)
        tail = _path_edges(graph, ws_b, v, forward_tree=False)
        edges = np.r_[head, [e] if e >= 0 else [], tail].astype(np.int32)
    else:
        if method in ("astar", "alt"):
            lm = _landmarks(graph, profile.mode) if method == "alt" else _NO_LANDMARKS
            best, end = _astar(topo.indptr, topo.indices, arrays.cost, topo.node_x,
                               topo.node_y, arrays.astar_cost_per_m, goal_xy[0], goal_xy[1], lm,
                               arrays.lm_scale, N_ACTIVE_LANDMARKS if method == "alt" else 0,
                               src_nodes, src_cost, tgt_nodes, tgt_cost, max_cost, ws_f.fbuf,
                               ws_f.ibuf, ws_f.count)
        elif method == "dijkstra":
            best, end = _dijkstra(topo.indptr, topo.indices, arrays.cost, src_nodes, src_cost,
                                  tgt_nodes, tgt_cost, True, max_cost, ws_f.fbuf, ws_f.ibuf,
                                  ws_f.count)
        else:
            raise AssertionError(method)
        if not math.isfinite(best):
            return UNREACHED, np.zeros(0, np.int32), -1
        edges = _path_edges(graph, ws_f, int(end))
        u = int(end)
    first = int(graph.edge_tail[edges[0]]) if edges.size else u
    return float(best), edges, first


def shortest_path(graph: StreetGraph, profile: StreetProfile, source_node: int, target_node: int, *,
                  max_cost: float = math.inf, method: str = DEFAULT_METHOD) -> StreetPath | None:
    """The least-cost path between two nodes, or None when none exists within max_cost."""
    s = _as_nodes(graph, source_node, "source_node")
    t = _as_nodes(graph, target_node, "target_node")
    zero = np.zeros(1)
    goal = (float(graph.node_x_m[t[0]]), float(graph.node_y_m[t[0]]))
    best, edges, first = _search_between(graph, profile, s, zero, t, zero, goal,
                                         _check_limit(max_cost), method)
    if not math.isfinite(best):
        return None
    return _make_path(graph, profile, best, _nodes_of(graph, edges, first), edges,
                      np.ones(edges.size))


def route(graph: StreetGraph, origin: Snap, destination: Snap, profile: StreetProfile, *,
          max_cost: float = math.inf, method: str = DEFAULT_METHOD) -> StreetPath | None:
    """The least-cost path between two snapped points, or None when none exists within max_cost.

    The search starts from both ends of the origin's segment (as far as the mode may travel
    them: only forward on a one-way street) with the partial edge costs, and ends likewise at the
    destination's segment. Two points on the same segment also consider the direct way along it.
    """
    for name, s in (("origin", origin), ("destination", destination)):
        if not isinstance(s, Snap):
            raise TypeError(f"route: {name} must be a Snap (see snap()), got {type(s).__name__}")
        if s.mode != profile.mode:
            raise ValueError(f"route: {name} was snapped for {s.mode.name}, profile is "
                             f"{profile.mode.name}")
    max_cost = _check_limit(max_cost)
    cost = _profile_arrays(graph, profile).cost
    lo, ld = _links(graph, cost, origin), _links(graph, cost, destination)
    src_nodes, src_cost = lo.sources(origin)
    tgt_nodes, tgt_cost = ld.targets(destination)
    goal = graph.projection.to_xy_m(destination.lon, destination.lat)
    best, edges, first = _search_between(graph, profile, src_nodes, src_cost, tgt_nodes, tgt_cost,
                                         (float(goal[0]), float(goal[1])), max_cost, method)
    start, end = (origin.lon, origin.lat), (destination.lon, destination.lat)
    direct = _direct_along_segment(origin, destination, lo)
    if direct is not None and direct[0] <= best and direct[0] <= max_cost:
        d_cost, d_edge, d_frac = direct
        return _make_path(graph, profile, d_cost, np.zeros(0, np.int32), [d_edge], [d_frac],
                          start, end)
    if not math.isfinite(best):
        return None
    nodes = _nodes_of(graph, edges, first)
    # The first and last partial edges: which end of each segment the path used.
    if first == origin.head_node and lo.fwd_edge >= 0:
        e0, f0 = lo.fwd_edge, 1.0 - origin.fraction
    else:
        e0, f0 = lo.bwd_edge, origin.fraction
    last = int(nodes[-1])
    if last == destination.tail_node and ld.fwd_edge >= 0:
        e1, f1 = ld.fwd_edge, destination.fraction
    else:
        e1, f1 = ld.bwd_edge, 1.0 - destination.fraction
    all_edges = np.r_[e0, edges, e1].astype(np.int32)
    fractions = np.r_[f0, np.ones(edges.size), f1]
    used = fractions > 0  # a point exactly on a node does not use its partial edge
    all_edges, fractions = all_edges[used], fractions[used]
    return _make_path(graph, profile, best, nodes, all_edges, fractions, start, end)


def _direct_along_segment(origin: Snap, destination: Snap, links: _Links):
    """(cost, edge, fraction) of going straight along a segment both points lie on, or None."""
    same = {origin.tail_node, origin.head_node} == {destination.tail_node, destination.head_node}
    if not same:
        return None
    f_dest = (destination.fraction if destination.tail_node == origin.tail_node
              else 1.0 - destination.fraction)
    options = []
    if f_dest >= origin.fraction and links.fwd_edge >= 0:
        options.append(((f_dest - origin.fraction) * links.fwd_cost, links.fwd_edge,
                        f_dest - origin.fraction))
    if f_dest <= origin.fraction and links.bwd_edge >= 0:
        options.append(((origin.fraction - f_dest) * links.bwd_cost, links.bwd_edge,
                        origin.fraction - f_dest))
    return min(options) if options else None


def route_points(graph: StreetGraph, from_lonlat: tuple[float, float],
                 to_lonlat: tuple[float, float], profile: StreetProfile, *,
                 max_snap_m: float = DEFAULT_MAX_SNAP_M, max_cost: float = math.inf,
                 method: str = DEFAULT_METHOD) -> StreetPath | None:
    """Snap two (lon, lat) points (degrees) for the profile's mode and route between them.

    Raises :class:`LocationNotAccessible` when either point is farther than ``max_snap_m`` from
    the mode's streets; returns None when no path exists within ``max_cost``.
    """
    origin = snap(graph, from_lonlat[0], from_lonlat[1], profile.mode, max_distance_m=max_snap_m)
    destination = snap(graph, to_lonlat[0], to_lonlat[1], profile.mode, max_distance_m=max_snap_m)
    return route(graph, origin, destination, profile, max_cost=max_cost, method=method)


def point_costs(graph: StreetGraph, origins: Snaps, destinations: Snaps, profile: StreetProfile, *,
                max_cost: float = math.inf, method: str = DEFAULT_METHOD) -> np.ndarray:
    """Cost (s) between snapped points pairwise (origins[i] -> destinations[i]) in one kernel call.

    Not-accessible points and pairs without a path within max_cost give UNREACHED.
    """
    if len(origins) != len(destinations):
        raise ValueError(f"point_costs: {len(origins)} origins but {len(destinations)} destinations")
    for name, s in (("origins", origins), ("destinations", destinations)):
        if s.mode != profile.mode:
            raise ValueError(f"point_costs: {name} were snapped for {s.mode.name}, profile is "
                             f"{profile.mode.name}")
    max_cost = _check_limit(max_cost)
    cost = _profile_arrays(graph, profile).cost
    topo = _topology(graph)
    out = np.full(len(origins), UNREACHED)
    ok = np.flatnonzero(origins.accessible & destinations.accessible)
    n = ok.size
    if n == 0:
        return out

    def links(s: Snaps):
        tails, heads = s.tail_node[ok].astype(np.int32), s.head_node[ok].astype(np.int32)
        edge = np.empty(2 * n, dtype=np.int32)
        c = np.empty(2 * n)
        _best_edges_between(topo.indptr, topo.indices, cost, np.r_[tails, heads], np.r_[heads, tails],
                            edge, c)
        return tails, heads, c[:n], c[n:]   # inf where the mode may not go that way

    ot, oh, ofwd, obwd = links(origins)
    dt, dh, dfwd, dbwd = links(destinations)
    fo, fd = origins.fraction[ok], destinations.fraction[ok]

    def part(share, c):  # share of an edge's cost; inf (not 0 * inf = NaN) where not allowed
        return np.where(np.isfinite(c), share * np.where(np.isfinite(c), c, 0.0), np.inf)

    # Two candidate nodes per side; an infinite offset is skipped by the kernels.
    src_node = np.column_stack([oh, ot]).reshape(-1)
    src_cost = np.column_stack([part(1 - fo, ofwd), part(fo, obwd)]).reshape(-1)
    tgt_node = np.column_stack([dt, dh]).reshape(-1)
    tgt_cost = np.column_stack([part(fd, dfwd), part(1 - fd, dbwd)]).reshape(-1)
    ptr = np.arange(0, 2 * n + 1, 2, dtype=np.int64)
    gx, gy = graph.projection.to_xy_m(destinations.lon[ok], destinations.lat[ok])
    found = _run_pairs(graph, profile, method, ptr, src_node, src_cost, ptr, tgt_node, tgt_cost,
                       np.atleast_1d(gx), np.atleast_1d(gy), max_cost)
    # Same segment: the direct way along it.
    same = (np.minimum(ot, oh) == np.minimum(dt, dh)) & (np.maximum(ot, oh) == np.maximum(dt, dh))
    f_dest = np.where(dt == ot, fd, 1 - fd)
    direct = np.where(f_dest >= fo, part(f_dest - fo, ofwd), part(fo - f_dest, obwd))
    direct = np.where(same & (direct <= max_cost), direct, np.inf)
    out[ok] = np.minimum(found, direct)
    return out


# ---------------------------------------------------------------------------------------------
# Isochrones
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Isochrone:
    """What a mode reaches within ``max_time_s`` seconds of travel (or reaches from, if reverse).

    ``node_idx``/``time_s``: nodes reached and their travel times (s), by increasing time.
    ``edge_idx`` with ``edge_start``/``edge_end``: the pieces of street travelled within the time,
    as fractions of each edge's length from its tail (0 <= start < end <= 1).
    """

    profile: StreetProfile
    max_time_s: float
    reverse: bool
    node_idx: np.ndarray
    time_s: np.ndarray
    edge_idx: np.ndarray
    edge_start: np.ndarray
    edge_end: np.ndarray


def isochrone(graph: StreetGraph, profile: StreetProfile, origin, max_time_s: float, *,
              reverse: bool = False, origin_time_s=None) -> Isochrone:
    """Every node and piece of street reachable within ``max_time_s`` seconds of travel.

    ``origin`` is a :class:`Snap` or one or more node indices, reached at ``origin_time_s``
    seconds (default 0; e.g. the stops a traveller gets off at). Isochrones measure travel time at
    the profile's speeds (a bike-lane preference changes which way is preferred, not how far one
    gets in T seconds). ``reverse`` gives everything from which the origin is reached within T.
    """
    max_time_s = _check_limit(max_time_s)
    time_s = _profile_arrays(graph, profile).time_s
    pieces = []  # (edge, start, end) on the origin's own segment
    if isinstance(origin, Snap):
        if origin.mode != profile.mode:
            raise ValueError(f"isochrone: origin was snapped for {origin.mode.name}, profile is "
                             f"{profile.mode.name}")
        lk = _links(graph, time_s, origin)
        nodes, costs = lk.targets(origin) if reverse else lk.sources(origin)
        # Where the origin lies along each direction's edge, from that edge's tail.
        for edge, at in ((lk.fwd_edge, origin.fraction), (lk.bwd_edge, 1.0 - origin.fraction)):
            if edge < 0:
                continue
            reach = max_time_s / time_s[edge] if time_s[edge] > 0 else 1.0
            pieces.append((edge, max(0.0, at - reach), at) if reverse
                          else (edge, at, min(1.0, at + reach)))
    else:
        nodes = _as_nodes(graph, origin, "origin")
        costs = (np.zeros(nodes.size) if origin_time_s is None
                 else np.broadcast_to(np.asarray(origin_time_s, dtype=np.float64), nodes.shape))
    res = search(graph, profile, nodes, costs, max_cost=max_time_s, reverse=reverse, use_time=True)
    reached = res.reached()
    topo = _topology(graph)
    # Pieces of edges leaving reached nodes (entering them, when reverse) within the time.
    start_time = res.cost[topo.indices] if reverse else res.cost[topo.edge_tail]
    edges = np.flatnonzero(np.isfinite(start_time) & np.isfinite(time_s))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(time_s[edges] > 0, (max_time_s - start_time[edges]) / time_s[edges], 1.0)
    share = np.clip(share, 0.0, 1.0)
    keep = share > 0
    edges, share = edges[keep], share[keep]
    lo, hi = (1.0 - share, np.ones(share.size)) if reverse else (np.zeros(share.size), share)
    if pieces:
        edges = np.r_[edges, [p[0] for p in pieces]]
        lo = np.r_[lo, [p[1] for p in pieces]]
        hi = np.r_[hi, [p[2] for p in pieces]]
    return Isochrone(profile=profile, max_time_s=max_time_s, reverse=reverse,
                     node_idx=reached.astype(np.int32), time_s=res.cost[reached],
                     edge_idx=edges.astype(np.int32), edge_start=lo, edge_end=hi)


def isochrone_geojson_points(graph: StreetGraph, iso: Isochrone) -> dict:
    """The reached nodes as a GeoJSON FeatureCollection of Points with ``node_idx``, ``time_s``."""
    lon = np.asarray(graph.node_lon)[iso.node_idx]
    lat = np.asarray(graph.node_lat)[iso.node_idx]
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
         "properties": {"node_idx": int(n), "time_s": float(t)}}
        for x, y, n, t in zip(lon, lat, iso.node_idx, iso.time_s, strict=True)]}


def _piece_ends(graph: StreetGraph, iso: Isochrone, x: np.ndarray, y: np.ndarray):
    tail = np.asarray(graph.edge_tail)[iso.edge_idx]
    head = np.asarray(graph.indices)[iso.edge_idx]
    dx, dy = x[head] - x[tail], y[head] - y[tail]
    return (x[tail] + iso.edge_start * dx, y[tail] + iso.edge_start * dy,
            x[tail] + iso.edge_end * dx, y[tail] + iso.edge_end * dy)


def isochrone_segments(graph: StreetGraph, iso: Isochrone) -> tuple[np.ndarray, np.ndarray]:
    """Reached street pieces as (start, end) lon/lat pairs: two arrays of shape (k, 2).

    Buffer them (e.g. with shapely in the API layer) for a street-following area.
    """
    ax, ay, bx, by = _piece_ends(graph, iso, np.asarray(graph.node_lon), np.asarray(graph.node_lat))
    return np.column_stack([ax, ay]), np.column_stack([bx, by])


@numba.njit(cache=True)
def _trace_rings(n_points, edge_from, edge_to, px, py):
    """Chain directed boundary edges (interior on their left) into closed rings.

    At a vertex with several outgoing edges (two areas touching at a point) take the first one
    clockwise from the way back, which keeps each ring on its own area. Returns the edge order
    (ring after ring) and the ring start offsets.
    """
    m = edge_from.shape[0]
    start = np.zeros(n_points + 1, dtype=np.int64)
    for i in range(m):
        start[edge_from[i] + 1] += 1
    for v in range(n_points):
        start[v + 1] += start[v]
    fill = start[:-1].copy()
    out_edges = np.empty(m, dtype=np.int64)
    for i in range(m):
        out_edges[fill[edge_from[i]]] = i
        fill[edge_from[i]] += 1
    used = np.zeros(m, dtype=np.bool_)
    order = np.empty(m, dtype=np.int64)
    ring_start = np.empty(m + 1, dtype=np.int64)
    n_rings = 0
    k = 0
    for first in range(m):
        if used[first]:
            continue
        ring_start[n_rings] = k
        e = first
        while True:
            used[e] = True
            order[k] = e
            k += 1
            v = edge_to[e]
            u = edge_from[e]
            back = math.atan2(py[u] - py[v], px[u] - px[v])
            best = -1
            best_turn = 10.0
            for j in range(start[v], start[v + 1]):
                cand = out_edges[j]
                if used[cand]:
                    continue
                w = edge_to[cand]
                turn = (back - math.atan2(py[w] - py[v], px[w] - px[v])) % (2 * math.pi)
                if turn == 0.0:
                    turn = 2 * math.pi
                if turn < best_turn:
                    best_turn = turn
                    best = cand
            if best < 0:
                break
            e = best
        n_rings += 1
    ring_start[n_rings] = k
    return order, ring_start[:n_rings + 1]


def isochrone_polygon(graph: StreetGraph, iso: Isochrone, *, alpha_m: float = 150.0,
                      buffer_m: float = 30.0, spacing_m: float = 50.0) -> dict:
    """The reached area as a GeoJSON MultiPolygon (lon/lat), an alpha shape of the reached streets.

    Points are taken every ``spacing_m`` along the reached street pieces, each widened into a
    small diamond of radius ``buffer_m`` (so a lone street still gets an area); the polygon is
    the union of the Delaunay triangles of those points whose sides are all at most ``alpha_m``
    (scipy.spatial; the engine does not depend on shapely). Holes are kept. Raises ValueError
    unless 0 < buffer_m < alpha_m / 2 and spacing_m > 0.
    """
    if not (0 < buffer_m < alpha_m / 2) or not spacing_m > 0:
        raise ValueError("isochrone_polygon: need 0 < buffer_m < alpha_m / 2 and spacing_m > 0")
    x, y = np.asarray(graph.node_x_m), np.asarray(graph.node_y_m)
    ax, ay, bx, by = _piece_ends(graph, iso, x, y)
    steps = np.maximum(1, np.ceil(np.hypot(bx - ax, by - ay) / spacing_m)).astype(np.int64)
    owner = np.repeat(np.arange(iso.edge_idx.size), steps + 1)
    pos = np.arange(owner.size) - np.repeat(np.cumsum(steps + 1) - (steps + 1), steps + 1)
    t = pos / np.repeat(steps, steps + 1)
    sx = np.r_[ax[owner] + t * (bx - ax)[owner], x[iso.node_idx]]
    sy = np.r_[ay[owner] + t * (by - ay)[owner], y[iso.node_idx]]
    if sx.size == 0:
        return {"type": "MultiPolygon", "coordinates": []}
    pts = np.unique(np.round(np.column_stack([sx, sy]), 3), axis=0)
    diamond = np.array([[0, 0], [buffer_m, 0], [0, buffer_m], [-buffer_m, 0], [0, -buffer_m]])
    pts = np.unique((pts[:, None, :] + diamond[None, :, :]).reshape(-1, 2), axis=0)
    tri = scipy.spatial.Delaunay(pts)
    simp = tri.simplices.copy()
    nbr = tri.neighbors.copy()
    p = pts[simp]
    area2 = ((p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1])
             - (p[:, 2, 0] - p[:, 0, 0]) * (p[:, 1, 1] - p[:, 0, 1]))
    cw = area2 < 0  # make every triangle counter-clockwise
    simp[cw, 1], simp[cw, 2] = simp[cw, 2].copy(), simp[cw, 1].copy()
    nbr[cw, 1], nbr[cw, 2] = nbr[cw, 2].copy(), nbr[cw, 1].copy()
    p = pts[simp]
    side = np.max(np.linalg.norm(p - np.roll(p, -1, axis=1), axis=2), axis=1)
    keep = (side <= alpha_m) & (np.abs(area2) > 1e-9)
    if not keep.any():
        return {"type": "MultiPolygon", "coordinates": []}
    # Boundary: sides of kept triangles whose neighbour is missing or dropped. The side
    # opposite vertex j runs from vertex j+1 to vertex j+2 (interior on its left).
    nbr_kept = np.where(nbr >= 0, keep[np.maximum(nbr, 0)], False)
    tri_idx, j = np.nonzero(keep[:, None] & ~nbr_kept)
    edge_from = simp[tri_idx, (j + 1) % 3]
    edge_to = simp[tri_idx, (j + 2) % 3]
    order, ring_start = _trace_rings(pts.shape[0], edge_from, edge_to, pts[:, 0], pts[:, 1])
    # Which area (edge-connected kept triangles) each ring bounds, to put holes in their shell.
    kept_idx = np.flatnonzero(keep)
    renum = np.full(simp.shape[0], -1)
    renum[kept_idx] = np.arange(kept_idx.size)
    a_rows, a_cols = np.nonzero(nbr_kept[kept_idx])
    adj = scipy.sparse.coo_matrix((np.ones(a_rows.size), (a_rows, renum[nbr[kept_idx][a_rows, a_cols]])),
                                  shape=(kept_idx.size, kept_idx.size))
    _, area_label = scipy.sparse.csgraph.connected_components(adj, directed=False)
    lon, lat = graph.projection.to_lonlat(pts[:, 0], pts[:, 1])
    shells: dict[int, list] = {}
    holes: dict[int, list] = {}
    for r in range(ring_start.size - 1):
        ring_edges = order[ring_start[r]:ring_start[r + 1]]
        verts = np.r_[edge_from[ring_edges], edge_from[ring_edges[0]]]
        vx, vy = pts[verts, 0], pts[verts, 1]
        signed = float(np.sum(vx[:-1] * vy[1:] - vx[1:] * vy[:-1]))
        coords = np.column_stack([lon[verts], lat[verts]]).tolist()
        label = int(area_label[renum[tri_idx[ring_edges[0]]]])
        (shells if signed > 0 else holes).setdefault(label, []).append(coords)
    polygons = []
    for label, rings in shells.items():
        for i, shell in enumerate(rings):
            polygons.append([shell] + (holes.get(label, []) if i == 0 else []))
    return {"type": "MultiPolygon", "coordinates": polygons}
