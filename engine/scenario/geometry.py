"""Which points and street edges lie inside a polygon (even-odd rule, in the network's metric
projection): the selection of ``set-car-speed`` and ``close-street``."""
from __future__ import annotations

import numba
import numpy as np

from engine.model import Network


@numba.njit(cache=True)
def _points_in_rings(px, py, ring_offsets, vx, vy, out):
    """Even-odd test of points against rings (outer rings and holes alike). Writes ``out``.

    Ring r's vertices are ``vx/vy[ring_offsets[r]:ring_offsets[r + 1]]`` (closed implicitly).
    """
    for i in range(px.shape[0]):
        x = px[i]
        y = py[i]
        inside = False
        for r in range(ring_offsets.shape[0] - 1):
            a = ring_offsets[r]
            b = ring_offsets[r + 1]
            j = b - 1
            for k in range(a, b):
                if (vy[k] > y) != (vy[j] > y):
                    cross_x = vx[j] + (y - vy[j]) * (vx[k] - vx[j]) / (vy[k] - vy[j])
                    if x < cross_x:
                        inside = not inside
                j = k
        out[i] = inside


def points_in_polygon(network: Network, rings, lon, lat) -> np.ndarray:
    """Bool mask: which lon/lat points (degrees) lie inside the rings (even-odd rule)."""
    proj = network.projection
    vx, vy, offsets = [], [], [0]
    for ring in rings:
        arr = np.asarray(ring, dtype=np.float64)
        x, y = proj.to_xy_m(arr[:, 0], arr[:, 1])
        vx.append(np.atleast_1d(x))
        vy.append(np.atleast_1d(y))
        offsets.append(offsets[-1] + arr.shape[0])
    px, py = proj.to_xy_m(lon, lat)
    px, py = np.atleast_1d(px).astype(np.float64), np.atleast_1d(py).astype(np.float64)
    out = np.zeros(px.shape[0], dtype=np.bool_)
    _points_in_rings(px, py, np.asarray(offsets, dtype=np.int64), np.concatenate(vx),
                     np.concatenate(vy), out)
    return out


def edges_in_polygon(network: Network, rings) -> np.ndarray:
    """Bool mask over street edges: the edge's midpoint lies inside the rings."""
    sg = network.street
    mid_x = (np.asarray(sg.node_x_m)[sg.edge_tail] + np.asarray(sg.node_x_m)[sg.indices]) / 2
    mid_y = (np.asarray(sg.node_y_m)[sg.edge_tail] + np.asarray(sg.node_y_m)[sg.indices]) / 2
    lon, lat = sg.projection.to_lonlat(mid_x, mid_y)
    return points_in_polygon(network, rings, lon, lat)
