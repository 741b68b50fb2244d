"""The area an isochrone reaches as a GeoJSON MultiPolygon: an alpha shape of the reached
streets built with scipy.spatial (the engine does not use shapely)."""
from __future__ import annotations

import math

import numba
import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
import scipy.spatial

from engine.deadline import Deadline, check
from engine.model import StreetGraph
from engine.street.isochrones import Isochrone, _piece_ends


@numba.njit(cache=True, nogil=True)
def _trace_rings(n_points, edge_from, edge_to, px, py):
    """Chain directed boundary edges (interior on their left) into closed rings.

    At a vertex with several outgoing edges (two areas touching at a point) take the first one
    clockwise from the way back, which keeps each ring on its own area. Returns the edge order
    (ring after ring) and the ring start offsets.
    """
    m = edge_from.shape[0]
    start = np.zeros(n_points + 1, dtype=np.int64)
    for i in range(m):
        start[edge_from[i] + 1] += 1
    for v in range(n_points):
        start[v + 1] += start[v]
    fill = start[:-1].copy()
    out_edges = np.empty(m, dtype=np.int64)
    for i in range(m):
        out_edges[fill[edge_from[i]]] = i
        fill[edge_from[i]] += 1
    used = np.zeros(m, dtype=np.bool_)
    order = np.empty(m, dtype=np.int64)
    ring_start = np.empty(m + 1, dtype=np.int64)
    n_rings = 0
    k = 0
    for first in range(m):
        if used[first]:
            continue
        ring_start[n_rings] = k
        e = first
        while True:
            used[e] = True
            order[k] = e
            k += 1
            v = edge_to[e]
            u = edge_from[e]
            back = math.atan2(py[u] - py[v], px[u] - px[v])
            best = -1
            best_turn = 10.0
            for j in range(start[v], start[v + 1]):
                cand = out_edges[j]
                if used[cand]:
                    continue
                w = edge_to[cand]
                turn = (back - math.atan2(py[w] - py[v], px[w] - px[v])) % (2 * math.pi)
                if turn == 0.0:
                    turn = 2 * math.pi
                if turn < best_turn:
                    best_turn = turn
                    best = cand
            if best < 0:
                break
            e = best
        n_rings += 1
    ring_start[n_rings] = k
    return order, ring_start[:n_rings + 1]


def isochrone_polygon(graph: StreetGraph, iso: Isochrone, *, alpha_m: float = 150.0,
                      buffer_m: float = 30.0, spacing_m: float = 50.0,
                      deadline: Deadline | None = None) -> dict:
    """The reached area as a GeoJSON MultiPolygon (lon/lat), an alpha shape of the reached streets.

    Points are taken every ``spacing_m`` along the reached street pieces, each widened into a
    small diamond of radius ``buffer_m`` (so a lone street still gets an area); the polygon is
    the union of the Delaunay triangles of those points whose sides are all at most ``alpha_m``
    (scipy.spatial; the engine does not depend on shapely). Holes are kept. Raises ValueError
    unless 0 < buffer_m < alpha_m / 2 and spacing_m > 0, DeadlineExceeded once ``deadline``
    (None: no limit) has passed (checked between the steps).
    """
    if not (0 < buffer_m < alpha_m / 2) or not spacing_m > 0:
        raise ValueError("isochrone_polygon: need 0 < buffer_m < alpha_m / 2 and spacing_m > 0")
    x, y = np.asarray(graph.node_x_m), np.asarray(graph.node_y_m)
    ax, ay, bx, by = _piece_ends(graph, iso, x, y)
    steps = np.maximum(1, np.ceil(np.hypot(bx - ax, by - ay) / spacing_m)).astype(np.int64)
    owner = np.repeat(np.arange(iso.edge_idx.size), steps + 1)
    pos = np.arange(owner.size) - np.repeat(np.cumsum(steps + 1) - (steps + 1), steps + 1)
    t = pos / np.repeat(steps, steps + 1)
    sx = np.r_[ax[owner] + t * (bx - ax)[owner], x[iso.node_idx]]
    sy = np.r_[ay[owner] + t * (by - ay)[owner], y[iso.node_idx]]
    if sx.size == 0:
        return {"type": "MultiPolygon", "coordinates": []}
    pts = np.unique(np.round(np.column_stack([sx, sy]), 3), axis=0)
    diamond = np.array([[0, 0], [buffer_m, 0], [0, buffer_m], [-buffer_m, 0], [0, -buffer_m]])
    pts = np.unique((pts[:, None, :] + diamond[None, :, :]).reshape(-1, 2), axis=0)
    what = f"the isochrone's polygon ({pts.shape[0]} points)"
    check(deadline, what)
    tri = scipy.spatial.Delaunay(pts)
    check(deadline, what)
    simp = tri.simplices.copy()
    nbr = tri.neighbors.copy()
    p = pts[simp]
    area2 = ((p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1])
             - (p[:, 2, 0] - p[:, 0, 0]) * (p[:, 1, 1] - p[:, 0, 1]))
    cw = area2 < 0  # make every triangle counter-clockwise
    simp[cw, 1], simp[cw, 2] = simp[cw, 2].copy(), simp[cw, 1].copy()
    nbr[cw, 1], nbr[cw, 2] = nbr[cw, 2].copy(), nbr[cw, 1].copy()
    p = pts[simp]
    side = np.max(np.linalg.norm(p - np.roll(p, -1, axis=1), axis=2), axis=1)
    keep = (side <= alpha_m) & (np.abs(area2) > 1e-9)
    if not keep.any():
        return {"type": "MultiPolygon", "coordinates": []}
    # Boundary: sides of kept triangles whose neighbour is missing or dropped. The side
    # opposite vertex j runs from vertex j+1 to vertex j+2 (interior on its left).
    nbr_kept = np.where(nbr >= 0, keep[np.maximum(nbr, 0)], False)
    tri_idx, j = np.nonzero(keep[:, None] & ~nbr_kept)
    edge_from = simp[tri_idx, (j + 1) % 3]
    edge_to = simp[tri_idx, (j + 2) % 3]
    order, ring_start = _trace_rings(pts.shape[0], edge_from, edge_to, pts[:, 0], pts[:, 1])
    check(deadline, what)
    # Which area (edge-connected kept triangles) each ring bounds, to put holes in their shell.
    kept_idx = np.flatnonzero(keep)
    renum = np.full(simp.shape[0], -1)
    renum[kept_idx] = np.arange(kept_idx.size)
    a_rows, a_cols = np.nonzero(nbr_kept[kept_idx])
    adj = scipy.sparse.coo_matrix((np.ones(a_rows.size), (a_rows, renum[nbr[kept_idx][a_rows, a_cols]])),
                                  shape=(kept_idx.size, kept_idx.size))
    _, area_label = scipy.sparse.csgraph.connected_components(adj, directed=False)
    lon, lat = graph.projection.to_lonlat(pts[:, 0], pts[:, 1])
    shells: dict[int, list] = {}
    holes: dict[int, list] = {}
    for r in range(ring_start.size - 1):
        ring_edges = order[ring_start[r]:ring_start[r + 1]]
        verts = np.r_[edge_from[ring_edges], edge_from[ring_edges[0]]]
        vx, vy = pts[verts, 0], pts[verts, 1]
        signed = float(np.sum(vx[:-1] * vy[1:] - vx[1:] * vy[:-1]))
        coords = np.column_stack([lon[verts], lat[verts]]).tolist()
        label = int(area_label[renum[tri_idx[ring_edges[0]]]])
        (shells if signed > 0 else holes).setdefault(label, []).append(coords)
    polygons = []
    for label, rings in shells.items():
        for i, shell in enumerate(rings):
            polygons.append([shell] + (holes.get(label, []) if i == 0 else []))
    return {"type": "MultiPolygon", "coordinates": polygons}
