"""Batch snapping at the speed of a search: a uniform grid of cells over the mode's street
segments (each segment listed in every cell its bounding box overlaps) and one numba kernel that
snaps many points, searching rings of cells outward until no unseen segment can be nearer.

:func:`snap_points` gives the same :class:`Snaps` as :func:`engine.street.snapping.snap_many`
for every accessible point (the same segments, the nearest by exact point-to-segment projection,
the lowest segment on ties), without the KD-tree's Python-level candidate lists; for a point
beyond the maximum distance ``distance_m`` is a lower bound, as there.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from engine.model import Mode, StreetGraph
from engine.street.graph_cache import _cache_of, _topology
from engine.street.snapping import DEFAULT_MAX_SNAP_M, Snaps, _mode_segments

_TARGET_SEGMENTS_PER_CELL = 2.0
_MIN_CELL_M = 20.0
_MAX_CELLS = 4_000_000


@dataclass(frozen=True)
class _SnapGrid:
    seg_edge: np.ndarray     # segment -> edge (int32), as in snapping._SnapIndex
    seg_xy: np.ndarray       # (4, n_seg): ax, ay, bx, by in metres
    origin_xy: np.ndarray    # (2,) south-west corner of cell (0, 0)
    cell_m: float
    n_cols: int
    n_rows: int
    cell_ptr: np.ndarray     # cell -> first slot in cell_seg (int64, n_cols * n_rows + 1)
    cell_seg: np.ndarray     # slot -> segment (int32)


@numba.njit(cache=True, nogil=True)
def _fill_cells(seg_xy, x0, y0, cell_m, n_cols, n_rows):
    """CSR cell -> segments over the cells each segment's bounding box overlaps."""
    n_seg = seg_xy.shape[1]
    count = np.zeros(n_cols * n_rows + 1, dtype=np.int64)
    for pass_ in range(2):
        if pass_ == 1:
            ptr = np.cumsum(count)
            fill = ptr[:-1].copy()
            out = np.empty(ptr[-1], dtype=np.int32)
        for s in range(n_seg):
            c0 = int((min(seg_xy[0, s], seg_xy[2, s]) - x0) / cell_m)
            c1 = int((max(seg_xy[0, s], seg_xy[2, s]) - x0) / cell_m)
            r0 = int((min(seg_xy[1, s], seg_xy[3, s]) - y0) / cell_m)
            r1 = int((max(seg_xy[1, s], seg_xy[3, s]) - y0) / cell_m)
            for r in range(max(r0, 0), min(r1, n_rows - 1) + 1):
                for c in range(max(c0, 0), min(c1, n_cols - 1) + 1):
                    cell = r * n_cols + c
                    if pass_ == 0:
                        count[cell + 1] += 1
                    else:
                        out[fill[cell]] = s
                        fill[cell] += 1
    return ptr, out


def _snap_grid(graph: StreetGraph, mode: Mode) -> _SnapGrid:
    return _cache_of(graph).snap_index.get(("grid", Mode(mode)), lambda: _build_snap_grid(graph, mode))


def _build_snap_grid(graph: StreetGraph, mode: Mode) -> _SnapGrid:
    seg_edge = _mode_segments(graph, mode)
    x, y = np.asarray(graph.node_x_m), np.asarray(graph.node_y_m)
    tail, head = np.asarray(graph.edge_tail)[seg_edge], np.asarray(graph.indices)[seg_edge]
    seg_xy = np.ascontiguousarray(np.vstack([x[tail], y[tail], x[head], y[head]]))
    if seg_edge.size == 0:
        seg_xy = np.zeros((4, 0))
        x0 = y0 = 0.0
        width = height = 1.0
    else:
        x0, y0 = float(seg_xy[[0, 2]].min()), float(seg_xy[[1, 3]].min())
        width = max(float(seg_xy[[0, 2]].max()) - x0, 1.0)
        height = max(float(seg_xy[[1, 3]].max()) - y0, 1.0)
    cell_m = max(_MIN_CELL_M, float(np.sqrt(width * height * _TARGET_SEGMENTS_PER_CELL
                                            / max(seg_edge.size, 1))),
                 float(np.sqrt(width * height / _MAX_CELLS)))
    n_cols, n_rows = int(width // cell_m) + 1, int(height // cell_m) + 1
    ptr, cell_seg = _fill_cells(seg_xy, x0, y0, cell_m, n_cols, n_rows)
    return _SnapGrid(seg_edge=seg_edge, seg_xy=seg_xy, origin_xy=np.array([x0, y0]), cell_m=cell_m,
                     n_cols=n_cols, n_rows=n_rows, cell_ptr=ptr, cell_seg=cell_seg)


@numba.njit(cache=True, nogil=True, inline="always")
def _scan_cell(cell_ptr, cell_seg, seg_xy, cell, qx, qy, best):
    """Update best = [distance, segment, fraction] with the segments of one cell."""
    for i in range(cell_ptr[cell], cell_ptr[cell + 1]):
        s = cell_seg[i]
        ax, ay = seg_xy[0, s], seg_xy[1, s]
        dx, dy = seg_xy[2, s] - ax, seg_xy[3, s] - ay
        len2 = dx * dx + dy * dy
        f = ((qx - ax) * dx + (qy - ay) * dy) / (len2 if len2 > 0 else 1.0)
        f = min(max(f, 0.0), 1.0)
        d = np.hypot(ax + f * dx - qx, ay + f * dy - qy)
        if d < best[0] or (d == best[0] and s < best[1]):
            best[0], best[1], best[2] = d, s, f


@numba.njit(cache=True, nogil=True)
def _snap_kernel(px, py, max_d, seg_xy, x0, y0, cell_m, n_cols, n_rows, cell_ptr, cell_seg,
                 out_seg, out_f, out_d):
    """Nearest segment of each point (or -1 beyond max_d, with a lower bound of its distance).

    Rings of cells around the point's cell (clamped into the grid: the distance to any cell is
    then still at least that from the clamped point) are scanned until ring r's lower bound
    (r - 1) * cell_m exceeds the best distance, or the maximum distance."""
    best = np.empty(3)
    for p in range(px.shape[0]):
        qx, qy = px[p], py[p]
        c = min(max(int((qx - x0) / cell_m), 0), n_cols - 1) if qx > x0 else 0
        r = min(max(int((qy - y0) / cell_m), 0), n_rows - 1) if qy > y0 else 0
        best[0], best[1], best[2] = np.inf, -1.0, np.nan
        ring = 0
        lower = 0.0
        while ring <= max(n_cols, n_rows):
            lower = (ring - 1) * cell_m
            if lower > best[0] or lower > max_d:
                break
            for rr in range(r - ring, r + ring + 1):
                if rr < 0 or rr >= n_rows:
                    continue
                edge_row = rr == r - ring or rr == r + ring
                step = 1 if edge_row else 2 * ring
                cc = c - ring
                while cc <= c + ring:
                    if 0 <= cc < n_cols:
                        _scan_cell(cell_ptr, cell_seg, seg_xy, rr * n_cols + cc, qx, qy, best)
                    cc += step if step > 0 else 1
            ring += 1
        if best[0] <= max_d:
            out_seg[p], out_f[p], out_d[p] = int(best[1]), best[2], best[0]
        else:
            out_seg[p], out_f[p], out_d[p] = -1, np.nan, min(best[0], max(lower, 0.0))


@numba.njit(cache=True, nogil=True)
def _snap_ends(seg, frac, seg_edge, edge_tail, indices, node_x, node_y, edge, tail, head, f_out, sx, sy):
    """The edge, its end nodes and the snapped position (m) of each snapped segment (-1 and NaN
    for points not snapped): the per-point steps after :func:`_snap_kernel`, in one loop rather
    than a dozen numpy calls on tiny arrays (a route from coordinates snaps two points)."""
    for p in range(seg.shape[0]):
        if seg[p] < 0:
            edge[p], tail[p], head[p] = -1, -1, -1
            f_out[p], sx[p], sy[p] = np.nan, np.nan, np.nan
            continue
        e = seg_edge[seg[p]]
        a, b = edge_tail[e], indices[e]
        f = frac[p]
        edge[p], tail[p], head[p], f_out[p] = e, a, b, f
        sx[p] = node_x[a] * (1 - f) + node_x[b] * f
        sy[p] = node_y[a] * (1 - f) + node_y[b] * f


def snap_points(graph: StreetGraph, lon, lat, mode: Mode, *,
                max_distance_m: float = DEFAULT_MAX_SNAP_M) -> Snaps:
    """Snap many lon/lat points (degrees) to the nearest street segment the mode may use.

    Same answers as :func:`engine.street.snapping.snap_many` (see the module docstring), from a
    grid index built once per (graph, mode) and one kernel call. Raises ValueError for NaN
    coordinates, arrays of unequal length or a negative maximum.
    """
    mode = Mode(mode)
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if lon.shape != lat.shape or lon.ndim != 1:
        raise ValueError("snap_points: lon and lat must be 1-d arrays of equal length")
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise ValueError("snap_points: lon/lat must be finite numbers")
    if not (max_distance_m >= 0):
        raise ValueError(f"max_distance_m must be >= 0, got {max_distance_m}")
    grid = _snap_grid(graph, mode)
    px, py = graph.projection.to_xy_m(lon, lat)
    px, py = np.atleast_1d(px), np.atleast_1d(py)
    n = lon.size
    seg, frac, dist = np.empty(n, dtype=np.int64), np.empty(n), np.empty(n)
    _snap_kernel(px, py, float(max_distance_m), grid.seg_xy, grid.origin_xy[0], grid.origin_xy[1],
                 grid.cell_m, grid.n_cols, grid.n_rows, grid.cell_ptr, grid.cell_seg, seg, frac, dist)
    topo = _topology(graph)
    edge, tail, head = np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n, np.int32)
    f_out, sx, sy = np.empty(n), np.empty(n), np.empty(n)
    _snap_ends(seg, frac, grid.seg_edge, topo.edge_tail, topo.indices, topo.node_x, topo.node_y, edge, tail,
               head, f_out, sx, sy)
    slon, slat = graph.projection.to_lonlat(sx, sy)
    return Snaps(mode=mode, edge_idx=edge, tail_node=tail, head_node=head,
                 fraction=f_out, lon=np.atleast_1d(slon), lat=np.atleast_1d(slat),
                 distance_m=dist, input_lon=lon, input_lat=lat, max_distance_m=float(max_distance_m))
