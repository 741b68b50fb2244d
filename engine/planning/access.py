"""Walking to and from transit: which stops a place reaches on foot, how long it takes, by what path.

:func:`walk_access` turns a WGS84 point into RAPTOR's access (or egress) list, the stops within
``max_walk_s`` of walking with their times, and keeps the search tree to draw each walk:

* with a street graph, the point snaps to the nearest walkable street segment
  (:func:`engine.street.snap`, at most ``max_snap_m`` away, else
  :class:`~engine.street.LocationNotAccessible`); a walk search (:func:`engine.street.search`,
  limited to ``max_walk_s``) leaves from both ends of that segment, and each stop linked to a
  reached node (``Network.stop_walk_node_idx``) gets the walk plus its link
  ``stop_walk_offset_m``. An egress search runs on the reversed graph, so one-way footways are
  walked the right way;
* without streets, or for stops linked to no node, the straight-line distance times
  ``Network.walk_detour_factor``.

The stretch between the point and the street and the stops' links are walked straight at
``walk_speed_mps``; streets use their stored walk times rescaled to that speed (steps stay slow).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import street as streets
from engine.deadline import Deadline
from engine.model import NO_INDEX, Mode, Network
from engine.street import LocationNotAccessible, StreetProfile

__all__ = ["DEFAULT_MAX_WALK_S", "DEFAULT_MAX_SNAP_M", "LocationNotAccessible", "WalkAccess",
           "walk_access", "walk_path"]

DEFAULT_MAX_WALK_S = 15 * 60
DEFAULT_MAX_SNAP_M = streets.DEFAULT_MAX_SNAP_M
DEFAULT_WALK_SPEED_MPS = 1.3


@dataclass(frozen=True, eq=False)
class WalkAccess:
    """Stops reached on foot from (or, for an egress, towards) a point.

    ``stops``/``seconds`` are RAPTOR's access list. :meth:`walk` gives the path and length of
    the walk to (from) one of them.
    """

    network: Network
    lon: float
    lat: float
    reverse: bool                       # True: walks lead from the stops to the point (egress)
    stops: np.ndarray                   # int32 stop_idx
    seconds: np.ndarray                 # int32 walking seconds (rounded up)
    snap: streets.Snap | None           # where the point meets the streets (None without)
    tree: streets.StreetSearch | None   # the walk search from (to) the snapped point

    @property
    def access(self) -> tuple[np.ndarray, np.ndarray]:
        return self.stops, self.seconds

    def walk(self, stop_idx: int) -> tuple[np.ndarray, np.ndarray, float]:
        """(lon, lat, metres) of the walk between the point and a stop of ``stops``, in walking
        order: point -> stop for an access, stop -> point for an egress."""
        net = self.network
        tt = net.timetable
        stop_ll = (float(tt.stop_lon[stop_idx]), float(tt.stop_lat[stop_idx]))
        node = (int(net.stop_walk_node_idx[stop_idx])
                if np.shape(net.stop_walk_node_idx) == (tt.n_stops,) else NO_INDEX)
        if self.tree is None or node == NO_INDEX or not np.isfinite(self.tree.cost[node]):
            lon, lat = np.array([self.lon, stop_ll[0]]), np.array([self.lat, stop_ll[1]])
            metres = _straight_m(net, self.lon, self.lat, *stop_ll) * net.walk_detour_factor
            return (lon[::-1], lat[::-1], metres) if self.reverse else (lon, lat, metres)
        g = net.street
        nodes, metres = _tree_path(net, self.tree, node)       # from the stop's node to the snap
        s = self.snap
        first = int(nodes[-1])
        # the part of the snapped segment between the node where the walk joins it and the point
        along = s.fraction if first == s.tail_node else 1.0 - s.fraction
        metres += along * float(g.edge_length_m[s.edge_idx]) + s.distance_m
        metres += float(net.stop_walk_offset_m[stop_idx])
        lon = np.concatenate([[stop_ll[0]], g.node_lon[nodes], [s.lon, self.lon]])
        lat = np.concatenate([[stop_ll[1]], g.node_lat[nodes], [s.lat, self.lat]])
        return (lon, lat, metres) if self.reverse else (lon[::-1], lat[::-1], metres)


def _straight_m(network: Network, lon_a, lat_a, lon_b, lat_b) -> float:
    xa, ya = network.projection.to_xy_m(lon_a, lat_a)
    xb, yb = network.projection.to_xy_m(lon_b, lat_b)
    return float(np.hypot(xa - xb, ya - yb))


def _tree_path(network: Network, tree: streets.StreetSearch, node: int) -> tuple[np.ndarray, float]:
    """Nodes from ``node`` back to the search's source along its tree, and the metres walked."""
    g = network.street
    nodes, metres = [node], 0.0
    while True:
        e = int(tree.pred_edge[nodes[-1]])
        if e < 0:
            break
        metres += float(g.edge_length_m[e])
        # forward tree: the edge enters the node; reversed tree: it leaves the node
        nodes.append(int(g.indices[e]) if tree.reverse else int(g.edge_tail[e]))
    return np.asarray(nodes, dtype=np.int64), metres


def _segment_ends(network: Network, s: streets.Snap, profile: StreetProfile, reverse: bool):
    """Street nodes at the two ends of the snapped segment and the walking seconds between them
    and the point (towards the nodes; towards the point for an egress)."""
    g = network.street
    times = streets.edge_times(g, profile)
    t_fwd = float(times[s.edge_idx])                      # tail -> head
    back = np.flatnonzero(np.asarray(g.indices[g.indptr[s.head_node]:g.indptr[s.head_node + 1]])
                          == s.tail_node) + g.indptr[s.head_node]
    t_back = float(times[back].min()) if back.size else np.inf  # head -> tail
    nodes, costs = [], []
    # leaving the point: to the head along tail->head, to the tail along head->tail;
    # reaching the point (egress): from the tail along tail->head, from the head along head->tail
    to_head, to_tail = ((t_back, t_fwd) if reverse else (t_fwd, t_back))
    if np.isfinite(to_head):
        nodes.append(s.head_node)
        costs.append((1.0 - s.fraction) * to_head)
    if np.isfinite(to_tail):
        nodes.append(s.tail_node)
        costs.append(s.fraction * to_tail)
    return np.asarray(nodes, dtype=np.int32), np.asarray(costs, dtype=np.float64)


def walk_access(network: Network, lon: float, lat: float, *, reverse: bool = False,
                max_walk_s: float = DEFAULT_MAX_WALK_S,
                walk_speed_mps: float = DEFAULT_WALK_SPEED_MPS,
                max_snap_m: float = DEFAULT_MAX_SNAP_M, deadline: Deadline | None = None) -> WalkAccess:
    """Stops (served by a route) within ``max_walk_s`` of walking from the point (to it with
    ``reverse``).

    Raises LocationNotAccessible when the network has streets and the point is more than
    ``max_snap_m`` from a walkable one, ValueError for a non-positive speed or a negative limit,
    DeadlineExceeded once ``deadline`` (None: no limit) has passed.
    """
    if not walk_speed_mps > 0 or not max_walk_s >= 0:
        raise ValueError("walk_access: walk_speed_mps must be > 0 and max_walk_s >= 0")
    tt = network.timetable
    n_stops = tt.n_stops if tt is not None else 0
    secs = np.full(n_stops, np.inf)
    linked = np.zeros(n_stops, dtype=bool)
    snap, tree = None, None
    if network.street is not None and network.street.n_nodes:
        profile = StreetProfile(Mode.WALK, walk_speed_mps=walk_speed_mps)
        snap = streets.snap(network.street, lon, lat, Mode.WALK, max_distance_m=max_snap_m)
        budget_s = max_walk_s - snap.distance_m / walk_speed_mps
        if budget_s >= 0 and n_stops:
            nodes, costs = _segment_ends(network, snap, profile, reverse)
            tree = streets.search(network.street, profile, nodes, costs, max_cost=budget_s,
                                  reverse=reverse, use_time=True, deadline=deadline)
            node_of_stop = np.asarray(network.stop_walk_node_idx)
            linked = node_of_stop != NO_INDEX
            idx = np.flatnonzero(linked)
            walk_s = tree.cost[node_of_stop[idx]]
            secs[idx] = (walk_s + (snap.distance_m + np.asarray(network.stop_walk_offset_m)[idx])
                         / walk_speed_mps)
    if n_stops:
        # straight lines for stops without a street link (all of them without streets)
        x, y = network.projection.to_xy_m(lon, lat)
        sx, sy = network.projection.to_xy_m(tt.stop_lon, tt.stop_lat)
        line_s = np.hypot(sx - x, sy - y) * network.walk_detour_factor / walk_speed_mps
        secs = np.where(linked, secs, line_s)
        served = np.diff(np.asarray(tt.stop_route_offsets)) > 0
        keep = np.flatnonzero(served & (secs <= max_walk_s))
    else:
        keep = np.zeros(0, dtype=np.int64)
    return WalkAccess(network=network, lon=float(lon), lat=float(lat), reverse=reverse,
                      stops=keep.astype(np.int32),
                      seconds=np.ceil(secs[keep] - 1e-9).astype(np.int32), snap=snap, tree=tree)


def walk_path(network: Network, from_node: int, to_node: int, *,
              walk_speed_mps: float = DEFAULT_WALK_SPEED_MPS, max_walk_s: float = np.inf
              ) -> streets.StreetPath | None:
    """Quickest walk between two street nodes (:func:`engine.street.shortest_path`), or None."""
    profile = StreetProfile(Mode.WALK, walk_speed_mps=walk_speed_mps)
    return streets.shortest_path(network.street, profile, int(from_node), int(to_node),
                                 max_cost=max_walk_s)
