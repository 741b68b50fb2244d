"""Synthetic street graphs for benchmarks and tests: a jittered grid with a city's quirks.

``grid_street_graph(500, 500)`` is a 250,000-node graph with about a million directed edges:
streets with random speeds and slightly curved lengths, some one-way streets (half of them with
a bike contraflow), some footways cars and bikes may not use, and bike lanes on some streets.
Deterministic for a given seed.
"""
from __future__ import annotations

import numpy as np

from engine.model import LocalProjection, StreetGraph

CAR_SPEEDS_MPS = np.array([8.33, 11.11, 13.89, 16.67])  # 30, 40, 50, 60 km/h


def grid_street_graph(n_cols: int, n_rows: int, *, spacing_m: float = 100.0, seed: int = 0,
                      one_way_share: float = 0.15, contraflow_share: float = 0.5,
                      footway_share: float = 0.05, bike_lane_share: float = 0.2,
                      walk_speed_mps: float = 1.3, bike_speed_mps: float = 4.5,
                      lon0_deg: float = 7.42, lat0_deg: float = 43.73) -> StreetGraph:
    """A jittered ``n_cols`` x ``n_rows`` street grid as a StreetGraph.

    Node (i, j) has index ``j * n_cols + i`` and lies near (i * spacing_m, j * spacing_m) metres
    from the south-west corner (jitter up to 15 % of the spacing). Each street segment joins
    4-neighbours; its length is its chord times 1.0-1.15, its car speed one of CAR_SPEEDS_MPS.
    One-way segments run from the lower to the higher node index (cars only that way; bikes
    both ways on a ``contraflow_share`` of them); footways are walk-only. Rows are ways named
    "Row j", columns "Column i".
    """
    if n_cols < 2 or n_rows < 2:
        raise ValueError("grid_street_graph: need at least 2 x 2 nodes")
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(n_cols), np.arange(n_rows))
    x = (ii.ravel() + rng.uniform(-0.15, 0.15, ii.size)) * spacing_m
    y = (jj.ravel() + rng.uniform(-0.15, 0.15, ii.size)) * spacing_m
    node = np.arange(n_cols * n_rows).reshape(n_rows, n_cols)
    a = np.r_[node[:, :-1].ravel(), node[:-1, :].ravel()]      # horizontal, then vertical
    b = np.r_[node[:, 1:].ravel(), node[1:, :].ravel()]
    way = np.r_[np.repeat(np.arange(n_rows), n_cols - 1), n_rows + np.tile(np.arange(n_cols), n_rows - 1)]
    n_seg = a.size
    length = np.hypot(x[b] - x[a], y[b] - y[a]) * rng.uniform(1.0, 1.15, n_seg)
    speed = rng.choice(CAR_SPEEDS_MPS, n_seg)
    footway = rng.random(n_seg) < footway_share
    one_way = ~footway & (rng.random(n_seg) < one_way_share)
    contraflow = one_way & (rng.random(n_seg) < contraflow_share)
    bike_lane = ~footway & (rng.random(n_seg) < bike_lane_share)
    walk = length / walk_speed_mps
    bike = np.where(footway, np.inf, length / bike_speed_mps)
    car = np.where(footway, np.inf, length / speed)
    bike_back = np.where(one_way & ~contraflow, np.inf, bike)
    car_back = np.where(one_way, np.inf, car)
    projection = LocalProjection(lon0_deg, lat0_deg)
    lon, lat = projection.to_lonlat(x - x.mean(), y - y.mean())
    names = np.array([f"Row {j}" for j in range(n_rows)] + [f"Column {i}" for i in range(n_cols)])
    return StreetGraph.from_edges(
        node_lon=lon, node_lat=lat, edge_tail=np.r_[a, b], edge_head=np.r_[b, a],
        edge_length_m=np.r_[length, length], walk_time_s=np.r_[walk, walk],
        bike_time_s=np.r_[bike, bike_back], car_time_s=np.r_[car, car_back],
        edge_is_bike_lane=np.r_[bike_lane, bike_lane], edge_way_idx=np.r_[way, way],
        way_osm_id=np.arange(names.size, dtype=np.int64), way_name=names,
        way_highway=np.full(names.size, "residential"), projection=projection,
        walk_speed_mps=walk_speed_mps, bike_speed_mps=bike_speed_mps)
