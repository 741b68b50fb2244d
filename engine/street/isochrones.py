"""Isochrones: what a mode reaches within a travel time, as nodes, GeoJSON points or edge pieces
(the polygon is in :mod:`engine.street.polygon`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.deadline import Deadline
from engine.model import StreetGraph
from engine.street.graph_cache import _topology
from engine.street.profiles import StreetProfile, _profile_arrays
from engine.street.searches import _as_nodes, _check_limit, search
from engine.street.snapping import Snap, _links


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
              reverse: bool = False, origin_time_s=None, deadline: Deadline | None = None
              ) -> Isochrone:
    """Every node and piece of street reachable within ``max_time_s`` seconds of travel.

    ``origin`` is a :class:`Snap` or one or more node indices, reached at ``origin_time_s``
    seconds (default 0; e.g. the stops a traveller gets off at). Isochrones measure travel time at
    the profile's speeds (a bike-lane preference changes which way is preferred, not how far one
    gets in T seconds). ``reverse`` gives everything from which the origin is reached within T.
    Raises DeadlineExceeded once ``deadline`` (None: no limit) has passed.
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
    res = search(graph, profile, nodes, costs, max_cost=max_time_s, reverse=reverse, use_time=True,
                 deadline=deadline)
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
