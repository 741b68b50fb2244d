"""Walking to and from transit: which stops a place reaches on foot, how long it takes, by what path.

:func:`walk_access` turns a WGS84 point into RAPTOR's access (or egress) list, the stops within
``max_walk_s`` of walking with their times, and keeps what is needed to draw each walk:

* with a street graph, the point snaps to the nearest node of the walk component (at most
  ``max_snap_m`` away; farther is :class:`LocationNotAccessible`), a Dijkstra over the walk costs
  (scipy, limited to ``max_walk_s``) reaches street nodes, and each stop linked to a reached node
  (``Network.stop_walk_node_idx``) gets the walk plus its link ``stop_walk_offset_m``. An egress
  search runs on the reversed graph, so one-way footways are walked the right way;
* without streets, or for stops linked to no node, the straight-line distance times
  ``Network.walk_detour_factor``.

The snap distance and the stop links are walked straight at ``walk_speed_mps``; street edges use
their stored walk times rescaled from the graph's walking speed.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
from scipy.spatial import cKDTree

from engine.model import NO_INDEX, Mode, Network

DEFAULT_MAX_WALK_S = 15 * 60
DEFAULT_MAX_SNAP_M = 500.0
DEFAULT_WALK_SPEED_MPS = 1.3


class LocationNotAccessible(ValueError):
    """A point too far from any walkable street (or outside the network)."""

    code = "LOCATION_NOT_ACCESSIBLE"

    def __init__(self, lon: float, lat: float, distance_m: float, max_snap_m: float):
        self.lon, self.lat, self.distance_m = lon, lat, distance_m
        super().__init__(f"({lat:.6f}, {lon:.6f}) is {distance_m:,.0f} m from the nearest walkable "
                         f"street (at most {max_snap_m:,.0f} m)")


@dataclass(frozen=True)
class WalkAccess:
    """Stops reached on foot from (or, for egress, towards) a point.

    ``stops``/``seconds`` are RAPTOR's access list; ``distance_m`` the walking distance to each.
    ``path_nodes(i)`` gives the street nodes walked to reach ``stops[i]`` (in walking order).
    """

    lon: float
    lat: float
    reverse: bool                   # True: walks lead from the stops to the point (egress)
    stops: np.ndarray               # int32 stop_idx
    seconds: np.ndarray             # int32 walking seconds (rounded up)
    distance_m: np.ndarray          # float64 metres walked
    snap_node: int                  # street node the point snapped to, or NO_INDEX
    snap_m: float                   # straight metres between the point and that node
    stop_node: np.ndarray           # int32 street node of each stop's walk, or NO_INDEX
    predecessors: np.ndarray | None  # node -> previous node on the search tree (scipy), or None

    @property
    def access(self) -> tuple[np.ndarray, np.ndarray]:
        return self.stops, self.seconds

    def path_nodes(self, i: int) -> np.ndarray:
        """Street nodes from the point to ``stops[i]`` (or from the stop to the point for an
        egress), empty when the walk is a straight line."""
        node = int(self.stop_node[i])
        if self.predecessors is None or node == NO_INDEX:
            return np.zeros(0, dtype=np.int64)
        path = np.asarray(_tree_path(self.predecessors, node, self.snap_node), dtype=np.int64)
        # the tree grows from the point: an access walk goes point -> stop, an egress stop -> point
        return path if self.reverse else path[::-1]


def _csr(rows: np.ndarray, cols: np.ndarray, n: int, *data: np.ndarray):
    """CSR (indptr, indices, *data) of edges given by rows/cols, sorted by row then column."""
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return (indptr, cols[order].astype(np.int32), *[d[order] for d in data])


class _WalkGraph:
    """Per-network walking data: the walk graph forward and reversed (seconds at the graph's
    speed, and metres), and a KD-tree of the walk component's nodes."""

    def __init__(self, network: Network):
        g = network.street
        cost = np.asarray(g.cost_s(Mode.WALK))
        ok = np.isfinite(cost)
        tail, head = g.edge_tail[ok].astype(np.int64), g.indices[ok].astype(np.int64)
        w, length = cost[ok], np.asarray(g.edge_length_m)[ok]
        order = np.lexsort((w, head, tail))  # parallel edges: keep the quickest
        tail, head, w, length = tail[order], head[order], w[order], length[order]
        first = np.ones(tail.shape[0], dtype=bool)
        first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
        # scipy reads stored zeros as missing edges: lift them to a negligible cost
        tail, head, w, length = tail[first], head[first], np.maximum(w[first], 1e-6), length[first]
        n = g.n_nodes
        self.n = n
        self.forward = _csr(tail, head, n, w, length)
        self.backward = _csr(head, tail, n, w, length)
        self.walk_nodes = np.flatnonzero(g.node_in_component[Mode.WALK])
        self.tree = (cKDTree(np.column_stack([g.node_x_m[self.walk_nodes],
                                              g.node_y_m[self.walk_nodes]]))
                     if self.walk_nodes.size else None)
        self.speed_mps = g.walk_speed_mps

    def matrix(self, reverse: bool) -> scipy.sparse.csr_matrix:
        indptr, indices, w, _ = self.backward if reverse else self.forward
        return scipy.sparse.csr_matrix((w, indices, indptr), shape=(self.n, self.n))


@numba.njit(cache=True)
def _tree_metres(order, pred, indptr, indices, length_m, metres_out):
    """Metres from the search root along the predecessor tree, for nodes in ``order`` (by
    increasing search time, so a node's predecessor comes first)."""
    for v in order:
        u = pred[v]
        if u < 0:
            metres_out[v] = 0.0
            continue
        for e in range(indptr[u], indptr[u + 1]):
            if indices[e] == v:
                metres_out[v] = metres_out[u] + length_m[e]
                break


def _search(wg: _WalkGraph, source: int, reverse: bool, limit_s: float):
    """Walk Dijkstra from a node: (seconds at the graph's speed, predecessors, metres)."""
    street_s, pred = scipy.sparse.csgraph.dijkstra(wg.matrix(reverse), indices=source,
                                                   limit=limit_s, return_predecessors=True)
    reached = np.flatnonzero(np.isfinite(street_s))
    order = reached[np.argsort(street_s[reached], kind="stable")]
    indptr, indices, _, length = wg.backward if reverse else wg.forward
    metres = np.full(wg.n, np.inf)
    _tree_metres(order, pred, indptr, indices, length, metres)
    return street_s, pred, metres


_GRAPHS: dict[int, tuple[Network, _WalkGraph]] = {}
_GRAPHS_LOCK = threading.Lock()


def _walk_graph(network: Network) -> _WalkGraph:
    key = id(network.street)
    with _GRAPHS_LOCK:
        hit = _GRAPHS.get(key)
        if hit is not None and hit[0].street is network.street:
            return hit[1]
    graph = _WalkGraph(network)
    with _GRAPHS_LOCK:
        _GRAPHS[key] = (network, graph)
        while len(_GRAPHS) > 8:
            _GRAPHS.pop(next(iter(_GRAPHS)))
    return graph


def snap(network: Network, lon: float, lat: float, *, max_snap_m: float = DEFAULT_MAX_SNAP_M
         ) -> tuple[int, float]:
    """(nearest walk-component node, straight distance in metres); raises LocationNotAccessible."""
    wg = _walk_graph(network)
    if wg.tree is None:
        raise LocationNotAccessible(lon, lat, float("inf"), max_snap_m)
    x, y = network.projection.to_xy_m(lon, lat)
    dist, pos = wg.tree.query([float(x), float(y)])
    if dist > max_snap_m:
        raise LocationNotAccessible(lon, lat, float(dist), max_snap_m)
    return int(wg.walk_nodes[pos]), float(dist)


def walk_access(network: Network, lon: float, lat: float, *, reverse: bool = False,
                max_walk_s: float = DEFAULT_MAX_WALK_S,
                walk_speed_mps: float = DEFAULT_WALK_SPEED_MPS,
                max_snap_m: float = DEFAULT_MAX_SNAP_M) -> WalkAccess:
    """Stops within ``max_walk_s`` of walking from the point (to it with ``reverse``).

    Raises LocationNotAccessible when the network has streets and the point is more than
    ``max_snap_m`` from the walk component, ValueError for a non-positive speed or limit.
    """
    if not walk_speed_mps > 0 or not max_walk_s >= 0:
        raise ValueError("walk_access: walk_speed_mps must be > 0 and max_walk_s >= 0")
    tt = network.timetable
    n_stops = tt.n_stops if tt is not None else 0
    x, y = network.projection.to_xy_m(lon, lat)
    stop_x, stop_y = (network.projection.to_xy_m(tt.stop_lon, tt.stop_lat) if n_stops
                      else (np.zeros(0), np.zeros(0)))
    served = (np.diff(np.asarray(tt.stop_route_offsets)) > 0) if n_stops else np.zeros(0, bool)
    straight_m = np.hypot(stop_x - x, stop_y - y)
    secs = np.full(n_stops, np.inf)
    dist = np.full(n_stops, np.inf)
    stop_node = np.full(n_stops, NO_INDEX, dtype=np.int64)
    snap_node, snap_m, pred = NO_INDEX, 0.0, None
    linked = np.zeros(n_stops, dtype=bool)

    if network.street is not None and network.street.n_nodes:
        wg = _walk_graph(network)
        snap_node, snap_m = snap(network, lon, lat, max_snap_m=max_snap_m)
        scale = wg.speed_mps / walk_speed_mps
        budget_s = max_walk_s - snap_m / walk_speed_mps
        if budget_s >= 0 and n_stops:
            street_s, pred, metres = _search(wg, snap_node, reverse, budget_s / scale)
            node_of_stop = np.asarray(network.stop_walk_node_idx)
            linked = node_of_stop != NO_INDEX
            safe = np.maximum(node_of_stop, 0)
            reached = linked & np.isfinite(street_s[safe])
            offset = np.asarray(network.stop_walk_offset_m)
            idx = np.flatnonzero(reached)
            secs[idx] = street_s[node_of_stop[idx]] * scale + (snap_m + offset[idx]) / walk_speed_mps
            dist[idx] = snap_m + offset[idx] + metres[node_of_stop[idx]]
            stop_node[idx] = node_of_stop[idx]
    # straight line for stops without a street link (or networks without streets)
    free = ~linked & served if n_stops else np.zeros(0, bool)
    line_m = straight_m * network.walk_detour_factor
    line_s = line_m / walk_speed_mps
    take = free & (line_s <= max_walk_s)
    secs[take] = line_s[take]
    dist[take] = line_m[take]
    keep = np.flatnonzero(served & (secs <= max_walk_s)) if n_stops else np.zeros(0, np.int64)
    return WalkAccess(lon=float(lon), lat=float(lat), reverse=reverse,
                      stops=keep.astype(np.int32),
                      seconds=np.ceil(secs[keep] - 1e-9).astype(np.int32),
                      distance_m=dist[keep], snap_node=int(snap_node), snap_m=float(snap_m),
                      stop_node=stop_node[keep].astype(np.int32), predecessors=pred)


def _tree_path(pred: np.ndarray, node: int, root: int) -> list[int]:
    """Nodes from ``node`` back to the search root along the predecessor tree."""
    path = [node]
    while path[-1] != root:
        prev = int(pred[path[-1]])
        if prev < 0:
            break
        path.append(prev)
    return path


def walk_path(network: Network, from_node: int, to_node: int, *,
              walk_speed_mps: float = DEFAULT_WALK_SPEED_MPS, limit_s: float = np.inf
              ) -> tuple[np.ndarray, float, float]:
    """Quickest walk between two street nodes: (nodes in walking order, metres, seconds at
    ``walk_speed_mps``); an empty node array and inf when there is none within ``limit_s``
    (seconds at the graph's walking speed)."""
    if from_node == to_node:
        return np.asarray([from_node], dtype=np.int64), 0.0, 0.0
    wg = _walk_graph(network)
    street_s, pred, metres = _search(wg, from_node, False, limit_s)
    if not np.isfinite(street_s[to_node]):
        return np.zeros(0, dtype=np.int64), float("inf"), float("inf")
    nodes = _tree_path(pred, to_node, from_node)[::-1]
    return (np.asarray(nodes, dtype=np.int64), float(metres[to_node]),
            float(street_s[to_node]) * wg.speed_mps / walk_speed_mps)
