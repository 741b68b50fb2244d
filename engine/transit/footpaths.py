"""Walking transfers between nearby stops, computed once at build time.

:func:`compute_footpaths` pairs every two stops that routes serve and that lie within
``radius_m`` of each other (straight line, in the network's local projection), and gives each
pair a walking time:

* with a street graph, the quickest walk on it (:func:`engine.street.one_to_many` from the
  stop's linked node to its partners' nodes, limited to ``max_detour`` times the radius) plus
  the two stops' links to their nodes; a pair with no such walk gets no footpath (a river or a
  railway between two close stops is a real obstacle);
* without streets (or for a stop linked to none), the straight-line distance times
  ``network.walk_detour_factor``.

Times are whole seconds at ``walk_speed_mps``, rounded up, and never below ``min_time_s``
(60 s, the default same-stop transfer slack of :mod:`engine.transit`: changing to the stop next
door should not be quicker than changing at the same stop). The build merges the result with the
feed's transfers.txt, whose times win (``engine.transit.build.merge_footpaths``).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from engine import street as streets
from engine.model import NO_INDEX, Mode, Network

DEFAULT_RADIUS_M = 400.0
DEFAULT_MIN_TIME_S = 60
DEFAULT_MAX_DETOUR = 2.0


def served_stops(network: Network) -> np.ndarray:
    """stop_idx of the stops at least one route serves."""
    tt = network.timetable
    return np.flatnonzero(np.diff(np.asarray(tt.stop_route_offsets)) > 0)


def compute_footpaths(network: Network, radius_m: float = DEFAULT_RADIUS_M,
                      walk_speed_mps: float = 1.3, *, min_time_s: int = DEFAULT_MIN_TIME_S,
                      max_detour: float = DEFAULT_MAX_DETOUR
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Footpaths between served stops within ``radius_m``: (from_stop, to_stop, time_s) int32.

    Both directions are returned (a one-way street does not stop a walker, but the walk costs
    may differ by direction). Raises ValueError when the network has no timetable or a
    parameter is not positive.
    """
    if network.timetable is None:
        raise ValueError("compute_footpaths: the network has no timetable")
    if not radius_m > 0 or not walk_speed_mps > 0 or not max_detour >= 1:
        raise ValueError("compute_footpaths: radius_m and walk_speed_mps must be > 0, "
                         "max_detour >= 1")
    tt = network.timetable
    stops = served_stops(network)
    empty = np.zeros(0, dtype=np.int32)
    if stops.size < 2:
        return empty, empty.copy(), empty.copy()
    x, y = network.projection.to_xy_m(tt.stop_lon[stops], tt.stop_lat[stops])
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(radius_m, output_type="ndarray")
    if pairs.size == 0:
        return empty, empty.copy(), empty.copy()
    pairs = np.concatenate([pairs, pairs[:, ::-1]])
    a, b = pairs[:, 0], pairs[:, 1]
    straight_m = np.hypot(x[a] - x[b], y[a] - y[b])
    time_s = straight_m * network.walk_detour_factor / walk_speed_mps
    keep = np.ones(a.shape[0], dtype=bool)

    street = network.street
    node = (np.asarray(network.stop_walk_node_idx)[stops]
            if street is not None and np.shape(network.stop_walk_node_idx) == (tt.n_stops,)
            else np.full(stops.shape[0], NO_INDEX))
    linked = (node[a] != NO_INDEX) & (node[b] != NO_INDEX)
    if linked.any():
        offset_m = np.asarray(network.stop_walk_offset_m)[stops]
        profile = streets.StreetProfile(Mode.WALK, walk_speed_mps=walk_speed_mps)
        limit_s = radius_m * max_detour / walk_speed_mps
        idx = np.flatnonzero(linked)
        street_s = np.full(idx.shape[0], np.inf)
        src = node[a[idx]]
        order = np.argsort(src, kind="stable")
        bounds = np.flatnonzero(np.r_[True, src[order][1:] != src[order][:-1], True])
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):  # one search per source node
            rows = order[lo:hi]
            street_s[rows] = streets.one_to_many(street, profile, int(src[rows[0]]),
                                                 node[b[idx[rows]]], max_cost=limit_s)
        time_s[idx] = street_s + (offset_m[a[idx]] + offset_m[b[idx]]) / walk_speed_mps
        keep[idx] = np.isfinite(street_s)
    time_s = np.maximum(np.ceil(time_s[keep] - 1e-9), min_time_s)
    return (stops[a[keep]].astype(np.int32), stops[b[keep]].astype(np.int32),
            time_s.astype(np.int32))
