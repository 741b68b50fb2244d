"""Snapping: points (lon/lat) onto the nearest segment of the mode's largest strongly connected
component, through a KD-tree of sample points along the segments, and how a snapped point links
to the two ends of its segment."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.spatial

from engine.model import Mode, StreetGraph
from engine.street.graph_cache import _cache_of, _topology
from engine.street.kernels import _best_edges_between

LOCATION_NOT_ACCESSIBLE = "LOCATION_NOT_ACCESSIBLE"
"""Reason code when a point is farther than the maximum snap distance from the mode's streets."""

DEFAULT_MAX_SNAP_M = 500.0


# Spacing of the sample points along segments in the snapping KD-tree. Any segment within
# distance d of a point has a sample within d + spacing / 2, which is what makes the snap exact.
_SNAP_SAMPLE_SPACING_M = 25.0


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


@dataclass(frozen=True)
class _SnapIndex:
    seg_edge: np.ndarray      # segment -> a directed edge the mode may use (int32)
    tree: scipy.spatial.cKDTree
    sample_seg: np.ndarray    # tree point -> segment


def _snap_index(graph: StreetGraph, mode: Mode) -> _SnapIndex:
    return _cache_of(graph).snap_index.get(mode, lambda: _compute_snap_index(graph, mode))


def _mode_segments(graph: StreetGraph, mode: Mode) -> np.ndarray:
    """segment -> a directed edge the mode may use (int32), one segment per unordered node pair
    of the mode's largest strongly connected component, ordered by (low node, high node)."""
    tail = np.asarray(graph.edge_tail)
    head = np.asarray(graph.indices)
    comp = np.asarray(graph.node_in_component[mode])
    ok = np.isfinite(graph.cost_s(mode)) & comp[tail] & comp[head] & (tail != head)
    edges = np.flatnonzero(ok)
    # One segment per unordered node pair: both directions of a street share its geometry.
    lo = np.minimum(tail[edges], head[edges]).astype(np.int64)
    hi = np.maximum(tail[edges], head[edges]).astype(np.int64)
    _, first = np.unique(lo * graph.n_nodes + hi, return_index=True)
    return edges[first].astype(np.int32)


def _compute_snap_index(graph: StreetGraph, mode: Mode) -> _SnapIndex:
    tail = np.asarray(graph.edge_tail)
    head = np.asarray(graph.indices)
    seg_edge = _mode_segments(graph, mode)
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
