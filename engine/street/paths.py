"""Paths: the least-cost path between nodes or snapped ends as a :class:`StreetPath` (edges,
geometry, length, duration, street names)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.deadline import Deadline, check, flag_of
from engine.model import StreetGraph
from engine.street.constants import DEFAULT_METHOD, N_ACTIVE_LANDMARKS, UNREACHED
from engine.street.graph_cache import _path_arrays, _topology
from engine.street.kernels import _astar, _bidirectional, _dijkstra, _trace
from engine.street.landmarks import _NO_LANDMARKS, _landmarks
from engine.street.path_kernels import _path_geometry
from engine.street.profiles import StreetProfile, _profile_arrays
from engine.street.searches import _as_nodes, _check_limit, _resolve_method
from engine.street.workspace import _I_PRED, _Workspace, _workspaces


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
    """The StreetPath of edges (each used for its fraction) through nodes, from start_lonlat to
    end_lonlat when given (lon, lat degrees), costing ``cost``."""
    arrays = _profile_arrays(graph, profile)
    edges = np.ascontiguousarray(edges, dtype=np.int32)
    fractions = np.ascontiguousarray(fractions, dtype=np.float64)
    nodes = np.ascontiguousarray(nodes, dtype=np.int32)
    length_m, way, name_id, node_lon, node_lat = _path_arrays(graph)
    ends = np.array([start_lonlat[0] if start_lonlat is not None else 0.0,
                     start_lonlat[1] if start_lonlat is not None else 0.0,
                     end_lonlat[0] if end_lonlat is not None else 0.0,
                     end_lonlat[1] if end_lonlat is not None else 0.0], dtype=np.float64)
    n, m = edges.size, nodes.size + 2
    lengths, durations, sums = np.empty(n), np.empty(n), np.empty(n)
    lon, lat, starts = np.empty(m), np.empty(m), np.empty(n, dtype=np.int64)
    n_pts, n_st = _path_geometry(edges, fractions, nodes, length_m, arrays.time_s, way, name_id,
                                 node_lon, node_lat, ends, start_lonlat is not None,
                                 end_lonlat is not None, lengths, durations, lon, lat, starts, sums)
    streets: tuple = ()
    if n_st:
        used = np.flatnonzero(lengths > 0)
        names = np.asarray(graph.way_name)[way[edges[used[starts[:n_st]]]]]
        streets = tuple(zip(names.tolist(), sums[:n_st].tolist(), strict=True))
    return StreetPath(profile=profile, node_idx=nodes, edge_idx=edges, edge_fraction=fractions,
                      lon=lon[:n_pts].copy(), lat=lat[:n_pts].copy(), length_m=float(lengths.sum()),
                      duration_s=float(durations.sum()), cost=float(cost), streets=streets)


def _path_edges(graph: StreetGraph, ws_f: _Workspace, end_node: int, forward_tree: bool = True
                ) -> np.ndarray:
    buf = np.empty(max(ws_f.count[0], 1), dtype=np.int32)
    topo = _topology(graph)
    k = _trace(ws_f.ibuf[_I_PRED], topo.edge_tail if forward_tree else topo.indices, end_node, buf)
    return buf[:k][::-1].copy() if forward_tree else buf[:k].copy()


def _nodes_of(graph: StreetGraph, edges: np.ndarray, first_node: int) -> np.ndarray:
    out = np.empty(edges.size + 1, dtype=np.int32)
    out[0] = first_node
    out[1:] = np.asarray(graph.indices)[edges]
    return out


def _search_between(graph, profile, src_nodes, src_cost, tgt_nodes, tgt_cost, goal_xy, max_cost,
                    method, deadline: Deadline | None = None) -> tuple[float, np.ndarray, int]:
    """(cost, forward edges of the path, first node) of the cheapest source -> target way.
    Raises DeadlineExceeded once ``deadline`` has passed."""
    what = f"a {profile.mode.name.lower()} route search"
    check(deadline, what)
    method = _resolve_method(graph, profile.mode, method, 1)
    arrays = _profile_arrays(graph, profile)
    ws_f, ws_b = _workspaces(graph.n_nodes)
    topo = _topology(graph)
    stop_flag = flag_of(deadline)
    if method == "bidirectional":
        meet = np.empty(3, dtype=np.int64)
        best = _bidirectional(topo.indptr, topo.indices, arrays.cost, topo.rev_indptr,
                              topo.rev_indices, arrays.rev_cost, topo.rev_edge, src_nodes, src_cost,
                              tgt_nodes, tgt_cost, max_cost, ws_f.fbuf, ws_f.ibuf, ws_f.count,
                              ws_b.fbuf, ws_b.ibuf, ws_b.count, meet, stop_flag)
        check(deadline, what)
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
                               ws_f.ibuf, ws_f.count, stop_flag)
        elif method == "dijkstra":
            best, end = _dijkstra(topo.indptr, topo.indices, arrays.cost, src_nodes, src_cost,
                                  tgt_nodes, tgt_cost, True, max_cost, ws_f.fbuf, ws_f.ibuf,
                                  ws_f.count, stop_flag)
        else:
            raise AssertionError(method)
        check(deadline, what)
        if not math.isfinite(best):
            return UNREACHED, np.zeros(0, np.int32), -1
        edges = _path_edges(graph, ws_f, int(end))
        u = int(end)
    first = int(graph.edge_tail[edges[0]]) if edges.size else u
    return float(best), edges, first


def shortest_path(graph: StreetGraph, profile: StreetProfile, source_node: int, target_node: int, *,
                  max_cost: float = math.inf, method: str = DEFAULT_METHOD,
                  deadline: Deadline | None = None) -> StreetPath | None:
    """The least-cost path between two nodes, or None when none exists within max_cost.
    Raises DeadlineExceeded once ``deadline`` (None: no limit) has passed."""
    s = _as_nodes(graph, source_node, "source_node")
    t = _as_nodes(graph, target_node, "target_node")
    zero = np.zeros(1)
    goal = (float(graph.node_x_m[t[0]]), float(graph.node_y_m[t[0]]))
    best, edges, first = _search_between(graph, profile, s, zero, t, zero, goal,
                                         _check_limit(max_cost), method, deadline)
    if not math.isfinite(best):
        return None
    return _make_path(graph, profile, best, _nodes_of(graph, edges, first), edges,
                      np.ones(edges.size))
