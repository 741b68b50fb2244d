"""Street searches from or towards a snapped point, and the legs read off them.

A point snapped to a segment joins the graph at the segment's ends (:func:`point_ends`, with
the partial costs and times of the share of the edge walked); a :class:`StreetTree` is one
search from those ends (forward, from the origin) or towards them (backward, to the
destination) and gives the travel time to many nodes at once or the path to one
(:class:`StreetLeg`), traced by the kernels of ``engine.planning.tree_kernels``.

The stretch between the given point and the street it snapped to (``Snap.distance_m``) is
walked straight at the traveller's walking speed, whatever the mode (a cyclist pushes the bike
to the street, a driver walks to the car), as ``engine.planning.access`` counts it for transit:
every time read off a tree includes it, and every path starts (or ends) at the given point with
it counted in its length (OpenTripPlanner likewise starts a leg's geometry at the given point).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine import street
from engine.planning.tree_kernels import trace_tree, tree_times


@dataclass(frozen=True)
class PointEnds:
    """How a snapped point joins the graph for one profile: nodes and partial costs/times."""

    snap: street.Snap
    nodes: np.ndarray          # the segment's end nodes used (int32)
    cost: np.ndarray           # generalized cost between the point and each node (s)
    time_s: np.ndarray         # travel time between the point and each node (s)
    edge: np.ndarray           # the edge walked for it
    fraction: np.ndarray       # share of that edge
    off_street_m: float = 0.0  # between the given point and the street, walked straight
    off_street_s: float = 0.0  # its time at the walking speed (in every time of the tree)


def point_ends(graph, profile: street.StreetProfile, s: street.Snap, *, leaving: bool,
               walk_speed_mps: float | None = None) -> PointEnds:
    """The point's links to its segment's ends: as a source (``leaving``) or as a target, with
    the walk (m, s) between the given point and the street at ``walk_speed_mps`` (default: the
    profile's)."""
    cost = street.edge_costs(graph, profile)
    times = street.edge_times(graph, profile)
    tail, head = s.tail_node, s.head_node
    lo, hi = int(graph.indptr[head]), int(graph.indptr[head + 1])
    back = lo + np.flatnonzero(np.asarray(graph.indices[lo:hi]) == tail)
    back = back[np.isfinite(cost[back])]
    fwd = s.edge_idx if math.isfinite(cost[s.edge_idx]) else -1
    bwd = int(back[np.argmin(cost[back])]) if back.size else -1
    f = s.fraction
    nodes, costs, secs, edges, fracs = [], [], [], [], []
    # (node, edge, share): leaving reaches head along fwd and tail along bwd; arriving comes from
    # tail along fwd and from head along bwd.
    pieces = ((head, fwd, 1 - f), (tail, bwd, f)) if leaving else ((tail, fwd, f), (head, bwd, 1 - f))
    for node, e, share in pieces:
        if e >= 0:
            nodes.append(node)
            costs.append(share * cost[e])
            secs.append(share * times[e])
            edges.append(e)
            fracs.append(share)
    speed = float(walk_speed_mps if walk_speed_mps is not None else profile.walk_speed_mps)
    return PointEnds(s, np.asarray(nodes, dtype=np.int32), np.asarray(costs, dtype=np.float64),
                     np.asarray(secs, dtype=np.float64), np.asarray(edges, dtype=np.int32),
                     np.asarray(fracs, dtype=np.float64), off_street_m=float(s.distance_m),
                     off_street_s=float(s.distance_m) / speed)


@dataclass(frozen=True)
class StreetTree:
    """A search from a snapped point (forward) or towards it (backward), with its times."""

    graph: object
    profile: street.StreetProfile
    ends: PointEnds
    search: street.StreetSearch
    backward: bool

    def times_to(self, nodes: np.ndarray) -> np.ndarray:
        """Travel time (s) between the given point and each node (inf when not reached), the
        walk between the point and the street included."""
        nodes = np.asarray(nodes, dtype=np.int64)
        out = np.full(nodes.size, np.inf)
        reached = (nodes >= 0) & np.isfinite(self.search.cost[np.maximum(nodes, 0)])
        if not reached.any():
            return out
        g = self.graph
        root_time = np.full(g.n_nodes, np.inf)
        root_time[self.ends.nodes] = self.ends.time_s
        step = np.asarray(g.indices if self.backward else g.edge_tail, dtype=np.int32)
        times = np.ascontiguousarray(street.edge_times(g, self.profile))
        part = np.empty(int(reached.sum()))
        tree_times(self.search.pred_edge, step, times, root_time,
                   nodes[reached].astype(np.int32), part)
        out[reached] = part + self.ends.off_street_s
        return out

    def path(self, node: int) -> StreetLeg:
        """The path between the given point and ``node`` (point first for a forward tree, node
        first for a backward one), from or to the given point itself: the walk between it and
        the street is in the geometry, the length and the duration."""
        g = self.graph
        step = np.asarray(g.indices if self.backward else g.edge_tail, dtype=np.int32)
        buf = np.empty(max(g.n_nodes, 1), dtype=np.int32)
        k = trace_tree(self.search.pred_edge, step, int(node), buf)
        edges = buf[:k]
        root = int(step[edges[-1]]) if k else int(node)
        i = int(np.flatnonzero(self.ends.nodes == root)[0])
        if self.backward:        # node -> ... -> root -> point
            order = edges
            nodes = np.r_[int(node), np.asarray(g.indices)[order]] if k else np.array([node])
        else:                    # point -> root -> ... -> node
            order = edges[::-1]
            nodes = np.r_[root, np.asarray(g.indices)[order]] if k else np.array([node])
        lengths = np.asarray(g.edge_length_m)[order]
        times = street.edge_times(g, self.profile)[order]
        part_m = float(self.ends.fraction[i] * g.edge_length_m[self.ends.edge[i]])
        lon, lat = np.asarray(g.node_lon)[nodes], np.asarray(g.node_lat)[nodes]
        s, off = self.ends.snap, self.ends
        end_lon, end_lat = [s.lon], [s.lat]     # the snapped spot, then the given point if apart
        if off.off_street_m > 0:
            end_lon, end_lat = [s.lon, s.input_lon], [s.lat, s.input_lat]
        if self.backward:
            lon, lat = np.r_[lon, end_lon], np.r_[lat, end_lat]
        else:
            lon, lat = np.r_[end_lon[::-1], lon], np.r_[end_lat[::-1], lat]
        all_edges = np.r_[order, self.ends.edge[i]] if self.backward else np.r_[self.ends.edge[i], order]
        all_m = np.r_[lengths, part_m] if self.backward else np.r_[part_m, lengths]
        return StreetLeg(lon=lon, lat=lat, length_m=float(lengths.sum()) + part_m + off.off_street_m,
                         duration_s=(float(times.sum()) + float(self.ends.time_s[i])
                                     + off.off_street_s),
                         edges=all_edges.astype(np.int32), edge_m=all_m,
                         off_street_m=off.off_street_m)


@dataclass(frozen=True)
class StreetLeg:
    """A path read off a tree: geometry from (to) the given point, metres and seconds with the
    walk between the point and the street (``off_street_m``, at the walking speed) included;
    ``edges``/``edge_m`` are the street edges used and the metres of each."""

    lon: np.ndarray
    lat: np.ndarray
    length_m: float
    duration_s: float
    edges: np.ndarray
    edge_m: np.ndarray
    off_street_m: float = 0.0
