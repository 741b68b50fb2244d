"""Routing between snapped points: one path (:func:`route`, :func:`route_points`) or the costs of
many pairs in one kernel call (:func:`point_costs`). A search starts from both ends of the
origin's segment with the partial edge costs; a route on a single segment takes the direct way
along it when allowed."""
from __future__ import annotations

import math

import numpy as np

from engine.deadline import Deadline
from engine.model import StreetGraph
from engine.street.constants import DEFAULT_METHOD, UNREACHED
from engine.street.graph_cache import _topology
from engine.street.kernels import _best_edges_between
from engine.street.paths import StreetPath, _make_path, _nodes_of, _search_between
from engine.street.profiles import StreetProfile, _profile_arrays
from engine.street.searches import _check_limit, _run_pairs
from engine.street.snapping import DEFAULT_MAX_SNAP_M, Snap, Snaps, _Links, _links, snap


def route(graph: StreetGraph, origin: Snap, destination: Snap, profile: StreetProfile, *,
          max_cost: float = math.inf, method: str = DEFAULT_METHOD,
          deadline: Deadline | None = None) -> StreetPath | None:
    """The least-cost path between two snapped points, or None when none exists within max_cost.

    The search starts from both ends of the origin's segment (as far as the mode may travel
    them: only forward on a one-way street) with the partial edge costs, and ends likewise at the
    destination's segment. Two points on the same segment also consider the direct way along it.
    Raises DeadlineExceeded once ``deadline`` (None: no limit) has passed.
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
                                         (float(goal[0]), float(goal[1])), max_cost, method,
                                         deadline)
    return _assemble_route(graph, profile, origin, destination, lo, ld, best, edges, first, max_cost)


def _assemble_route(graph: StreetGraph, profile: StreetProfile, origin: Snap, destination: Snap,
                    lo: _Links, ld: _Links, best: float, edges: np.ndarray, first: int,
                    max_cost: float) -> StreetPath | None:
    """The StreetPath of a search between two snapped points (or the direct way along a shared
    segment when cheaper), with the partial first and last edges; None when there is none."""
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
    all_edges = np.empty(edges.size + 2, dtype=np.int32)
    all_edges[0], all_edges[1:-1], all_edges[-1] = e0, edges, e1
    fractions = np.ones(edges.size + 2)
    fractions[0], fractions[-1] = f0, f1
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
                 method: str = DEFAULT_METHOD, deadline: Deadline | None = None) -> StreetPath | None:
    """Snap two (lon, lat) points (degrees) for the profile's mode and route between them.

    Raises :class:`LocationNotAccessible` when either point is farther than ``max_snap_m`` from
    the mode's streets; returns None when no path exists within ``max_cost``.
    """
    origin = snap(graph, from_lonlat[0], from_lonlat[1], profile.mode, max_distance_m=max_snap_m)
    destination = snap(graph, to_lonlat[0], to_lonlat[1], profile.mode, max_distance_m=max_snap_m)
    return route(graph, origin, destination, profile, max_cost=max_cost, method=method,
                 deadline=deadline)


def point_costs(graph: StreetGraph, origins: Snaps, destinations: Snaps, profile: StreetProfile, *,
                max_cost: float = math.inf, method: str = DEFAULT_METHOD,
                deadline: Deadline | None = None) -> np.ndarray:
    """Cost (s) between snapped points pairwise (origins[i] -> destinations[i]) in one kernel call.

    Not-accessible points and pairs without a path within max_cost give UNREACHED. Raises
    DeadlineExceeded once ``deadline`` (None: no limit) has passed.
    """
    if len(origins) != len(destinations):
        raise ValueError(f"point_costs: {len(origins)} origins but {len(destinations)} destinations")
    for name, s in (("origins", origins), ("destinations", destinations)):
        if s.mode != profile.mode:
            raise ValueError(f"point_costs: {name} were snapped for {s.mode.name}, profile is "
                             f"{profile.mode.name}")
    max_cost = _check_limit(max_cost)
    cost = _profile_arrays(graph, profile).cost
    out = np.full(len(origins), UNREACHED)
    ok = np.flatnonzero(origins.accessible & destinations.accessible)
    if ok.size == 0:
        return out
    ptr, src_node, src_cost, tgt_node, tgt_cost, direct = _point_queries(graph, cost, origins,
                                                                         destinations, ok)
    gx, gy = graph.projection.to_xy_m(destinations.lon[ok], destinations.lat[ok])
    found = _run_pairs(graph, profile, method, ptr, src_node, src_cost, ptr, tgt_node, tgt_cost,
                       np.atleast_1d(gx), np.atleast_1d(gy), max_cost, deadline)
    direct = np.where(direct <= max_cost, direct, np.inf)
    out[ok] = np.minimum(found, direct)
    return out


def _part(share, c):
    """share of an edge's cost; inf (not 0 * inf = NaN) where not allowed."""
    return np.where(np.isfinite(c), share * np.where(np.isfinite(c), c, 0.0), np.inf)


def _point_queries(graph: StreetGraph, cost: np.ndarray, origins: Snaps, destinations: Snaps,
                   ok: np.ndarray) -> tuple:
    """The queries of snapped pairs ``ok``: (ptr, source nodes, their costs, target nodes, their
    costs) with two candidate nodes per side (an infinite offset is skipped by the kernels), and
    the direct cost along a shared segment (inf where the pair shares none)."""
    topo = _topology(graph)
    n = ok.size

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
    part = _part
    src_node = np.column_stack([oh, ot]).reshape(-1)
    src_cost = np.column_stack([part(1 - fo, ofwd), part(fo, obwd)]).reshape(-1)
    tgt_node = np.column_stack([dt, dh]).reshape(-1)
    tgt_cost = np.column_stack([part(fd, dfwd), part(1 - fd, dbwd)]).reshape(-1)
    ptr = np.arange(0, 2 * n + 1, 2, dtype=np.int64)
    # Same segment: the direct way along it.
    same = (np.minimum(ot, oh) == np.minimum(dt, dh)) & (np.maximum(ot, oh) == np.maximum(dt, dh))
    f_dest = np.where(dt == ot, fd, 1 - fd)
    direct = np.where(f_dest >= fo, part(f_dest - fo, ofwd), part(fo - f_dest, obwd))
    return ptr, src_node, src_cost, tgt_node, tgt_cost, np.where(same, direct, np.inf)
