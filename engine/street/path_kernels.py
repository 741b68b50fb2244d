"""The geometry of a street path in one numba loop: per-edge lengths and durations, the point
list with the snapped ends and without repeated points, and the stretches by street name. A
route from coordinates is a fraction of a millisecond; two dozen numpy calls on short arrays
were a third of it."""
from __future__ import annotations

import numba


@numba.njit(cache=True, nogil=True)
def _path_geometry(edges, fractions, nodes, edge_length_m, time_s, edge_way, way_name_id, node_lon,
                   node_lat, ends, has_start, has_end, lengths, durations, out_lon, out_lat, starts,
                   sums):
    """Fill lengths/durations (per edge), out_lon/out_lat (the points: ``ends`` = start lon, lat,
    end lon, lat, used when ``has_start`` / ``has_end``; a point equal to the one before is
    dropped) and the stretches (first used-edge index ``starts``, metres ``sums``) of consecutive
    used edges (length > 0) on ways of one name. Returns (points, stretches)."""
    n_pts = 0
    n_all = nodes.shape[0] + (1 if has_start else 0) + (1 if has_end else 0)
    for i in range(n_all):
        if has_start and i == 0:
            x, y = ends[0], ends[1]
        elif has_end and i == n_all - 1:
            x, y = ends[2], ends[3]
        else:
            v = nodes[i - (1 if has_start else 0)]
            x, y = node_lon[v], node_lat[v]
        if n_pts > 0 and out_lon[n_pts - 1] == x and out_lat[n_pts - 1] == y:
            continue
        out_lon[n_pts], out_lat[n_pts] = x, y
        n_pts += 1
    n_st = 0
    used = 0
    last_name = -1
    for i in range(edges.shape[0]):
        e = edges[i]
        lengths[i] = edge_length_m[e] * fractions[i]
        durations[i] = time_s[e] * fractions[i]
        if not lengths[i] > 0:
            continue
        name = way_name_id[edge_way[e]]
        if used == 0 or name != last_name:
            starts[n_st] = used
            sums[n_st] = 0.0
            n_st += 1
            last_name = name
        sums[n_st - 1] += lengths[i]
        used += 1
    return n_pts, n_st
