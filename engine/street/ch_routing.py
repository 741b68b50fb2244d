"""Routing between points (lon/lat or snapped) on the contraction hierarchy: the same answers as
:mod:`engine.street.routing` (:func:`route`, :func:`route_points`, :func:`point_costs`), with
grid snapping (:func:`engine.street.snap_grid.snap_points`), elimination-tree queries and path
unpacking in numba, plus a bucket many-to-many between snapped points (:func:`ch_point_matrix`).
"""
from __future__ import annotations

import math

import numpy as np

from engine.model import StreetGraph
from engine.street.ch import _ch_search_between, _run_matrix, _run_pairs, metric
from engine.street.constants import UNREACHED
from engine.street.paths import StreetPath
from engine.street.profiles import StreetProfile, _profile_arrays
from engine.street.routing import _assemble_route, _point_queries
from engine.street.searches import _check_limit
from engine.street.snap_grid import snap_points
from engine.street.snapping import DEFAULT_MAX_SNAP_M, LocationNotAccessible, Snap, Snaps, _links


def _check_snaps(name: str, profile: StreetProfile, *snaps) -> None:
    for s in snaps:
        if s.mode != profile.mode:
            raise ValueError(f"{name}: points were snapped for {s.mode.name}, profile is "
                             f"{profile.mode.name}")


def ch_route(graph: StreetGraph, origin: Snap, destination: Snap, profile: StreetProfile, *,
             max_cost: float = math.inf) -> StreetPath | None:
    """The least-cost path between two snapped points on the hierarchy; same as
    :func:`engine.street.route` (None when none exists within max_cost)."""
    _check_snaps("ch_route", profile, origin, destination)
    max_cost = _check_limit(max_cost)
    cost = _profile_arrays(graph, profile).cost
    lo, ld = _links(graph, cost, origin), _links(graph, cost, destination)
    src_nodes, src_cost = lo.sources(origin)
    tgt_nodes, tgt_cost = ld.targets(destination)
    best, edges, first = _ch_search_between(graph, metric(graph, profile), src_nodes, src_cost,
                                            tgt_nodes, tgt_cost, max_cost)
    return _assemble_route(graph, profile, origin, destination, lo, ld, best, edges, first, max_cost)


def ch_route_points(graph: StreetGraph, from_lonlat: tuple[float, float],
                    to_lonlat: tuple[float, float], profile: StreetProfile, *,
                    max_snap_m: float = DEFAULT_MAX_SNAP_M, max_cost: float = math.inf
                    ) -> StreetPath | None:
    """Snap two (lon, lat) points for the profile's mode and route between them on the hierarchy;
    same as :func:`engine.street.route_points`. Raises :class:`LocationNotAccessible` when either
    point is farther than ``max_snap_m`` from the mode's streets."""
    snaps = snap_points(graph, [from_lonlat[0], to_lonlat[0]], [from_lonlat[1], to_lonlat[1]],
                        profile.mode, max_distance_m=max_snap_m)
    for i in range(2):
        if snaps.edge_idx[i] < 0:
            raise LocationNotAccessible(snaps.input_lon[i], snaps.input_lat[i], profile.mode,
                                        snaps.distance_m[i], max_snap_m)
    return ch_route(graph, snaps[0], snaps[1], profile, max_cost=max_cost)


def ch_point_costs(graph: StreetGraph, origins: Snaps, destinations: Snaps, profile_or_costs,
                   profile: StreetProfile | None = None, *, max_cost: float = math.inf) -> np.ndarray:
    """Cost (s) between snapped points pairwise (origins[i] -> destinations[i]) in one kernel call;
    same as :func:`engine.street.point_costs`. ``profile_or_costs`` is a StreetProfile (or, with
    ``profile`` naming the mode's profile for the links, a CchMetric of scenario costs)."""
    if len(origins) != len(destinations):
        raise ValueError(f"ch_point_costs: {len(origins)} origins but {len(destinations)} destinations")
    profile = profile_or_costs if profile is None else profile
    _check_snaps("ch_point_costs", profile, origins, destinations)
    max_cost = _check_limit(max_cost)
    met = metric(graph, profile_or_costs)
    out = np.full(len(origins), UNREACHED)
    ok = np.flatnonzero(origins.accessible & destinations.accessible)
    if ok.size == 0:
        return out
    ptr, src_node, src_cost, tgt_node, tgt_cost, direct = _point_queries(
        graph, _profile_arrays(graph, profile).cost, origins, destinations, ok)
    found = _run_pairs(graph, met, ptr, src_node, src_cost, ptr, tgt_node, tgt_cost, max_cost)
    out[ok] = np.minimum(found, np.where(direct <= max_cost, direct, np.inf))
    return out


def ch_point_matrix(graph: StreetGraph, origins: Snaps, destinations: Snaps, profile: StreetProfile,
                    *, max_cost: float = math.inf) -> np.ndarray:
    """(len(origins), len(destinations)) costs (s) between snapped points by bucket many-to-many:
    entry [i, j] equals ``point_costs`` of (origins[i], destinations[j]). UNREACHED for points
    not accessible and pairs without a path within max_cost."""
    _check_snaps("ch_point_matrix", profile, origins, destinations)
    max_cost = _check_limit(max_cost)
    cost = _profile_arrays(graph, profile).cost
    out = np.full((len(origins), len(destinations)), UNREACHED)
    oi = np.flatnonzero(origins.accessible)
    di = np.flatnonzero(destinations.accessible)
    if oi.size == 0 or di.size == 0:
        return out
    # one side's candidate (node, offset) lists from the pairwise helper, pairing each with itself
    src = _point_queries(graph, cost, origins, origins, oi)
    tgt = _point_queries(graph, cost, destinations, destinations, di)
    found = _run_matrix(graph, metric(graph, profile), src[0], src[1], src[2], tgt[0], tgt[3], tgt[4],
                        max_cost)
    out[np.ix_(oi, di)] = found
    _direct_pairs(graph, cost, origins, destinations, oi, di, out, max_cost)
    return out


def _direct_pairs(graph, cost, origins: Snaps, destinations: Snaps, oi, di, out, max_cost) -> None:
    """Lower out[i, j] to the direct way along a segment shared by origin i and destination j."""
    o_seg = np.minimum(origins.tail_node[oi], origins.head_node[oi]).astype(np.int64) * graph.n_nodes \
        + np.maximum(origins.tail_node[oi], origins.head_node[oi])
    d_seg = np.minimum(destinations.tail_node[di], destinations.head_node[di]).astype(np.int64) \
        * graph.n_nodes + np.maximum(destinations.tail_node[di], destinations.head_node[di])
    shared = np.intersect1d(o_seg, d_seg)
    if shared.size == 0:
        return
    rows = oi[np.isin(o_seg, shared)]
    cols = di[np.isin(d_seg, shared)]
    ri, ci = np.meshgrid(rows, cols, indexing="ij")
    ri, ci = ri.ravel(), ci.ravel()
    pairs = np.flatnonzero(_seg_key(graph, origins, ri) == _seg_key(graph, destinations, ci))
    if pairs.size == 0:
        return
    ri, ci = ri[pairs], ci[pairs]
    d = _direct_costs(graph, cost, origins, destinations, ri, ci)
    d = np.where(d <= max_cost, d, np.inf)
    out[ri, ci] = np.minimum(out[ri, ci], d)


def _seg_key(graph, snaps: Snaps, idx) -> np.ndarray:
    lo = np.minimum(snaps.tail_node[idx], snaps.head_node[idx]).astype(np.int64)
    return lo * graph.n_nodes + np.maximum(snaps.tail_node[idx], snaps.head_node[idx])


def _direct_costs(graph, cost, origins: Snaps, destinations: Snaps, ri, ci) -> np.ndarray:
    """Direct costs along the shared segment of pairs (origins[ri], destinations[ci])."""
    sub_o = _take(origins, ri)
    sub_d = _take(destinations, ci)
    return _point_queries(graph, cost, sub_o, sub_d, np.arange(ri.size))[5]


def _take(s: Snaps, idx) -> Snaps:
    return Snaps(mode=s.mode, edge_idx=s.edge_idx[idx], tail_node=s.tail_node[idx],
                 head_node=s.head_node[idx], fraction=s.fraction[idx], lon=s.lon[idx], lat=s.lat[idx],
                 distance_m=s.distance_m[idx], input_lon=s.input_lon[idx], input_lat=s.input_lat[idx],
                 max_distance_m=s.max_distance_m)
