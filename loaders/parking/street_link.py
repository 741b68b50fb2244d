"""Facilities linked to the street graph: the node where the vehicle enters and the node where the
pedestrian leaves."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from engine.model import NO_INDEX, LocalProjection, Mode, StreetGraph
from loaders.parking.schema import BIKE_KINDS
from loaders.report import BuildReport, quoted

MAX_LINK_M = 300.0
"""A facility farther than this from every node of a mode's component is not linked for it."""


def _nearest_nodes(street: StreetGraph, mode: Mode, x: np.ndarray, y: np.ndarray,
                   max_link_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Nearest node of the mode's component to each point: (node_idx or NO_INDEX, metres)."""
    nodes = np.flatnonzero(street.node_in_component[mode])
    out = np.full(x.shape[0], NO_INDEX, dtype=np.int32)
    dist = np.full(x.shape[0], np.inf)
    if nodes.size == 0 or x.size == 0:
        return out, dist
    tree = cKDTree(np.column_stack([street.node_x_m[nodes], street.node_y_m[nodes]]))
    dist, pos = tree.query(np.column_stack([x, y]))
    ok = dist <= max_link_m
    out[ok] = nodes[pos[ok]]
    return out, dist


def _link_to_streets(df: pd.DataFrame, x: np.ndarray, y: np.ndarray, street: StreetGraph | None,
                     projection: LocalProjection, max_link_m: float,
                     report: BuildReport) -> tuple[np.ndarray, np.ndarray]:
    """(vehicle node, walking node) of each facility; NO_INDEX beyond ``max_link_m`` (warned) or
    without a street graph.

    The vehicle node is the nearest node of the CAR component (the BICYCLE component for bike
    kinds) to the entrance, or to the facility point when it has none; the walking node the
    nearest WALK component node to the facility point (``x``, ``y``: metres in ``projection``).
    """
    n = len(df)
    car_node = np.full(n, NO_INDEX, dtype=np.int32)
    walk_node = np.full(n, NO_INDEX, dtype=np.int32)
    if street is not None and n:
        ent_lon, ent_lat = df["entrance_lon"].to_numpy(), df["entrance_lat"].to_numpy()
        has_ent = np.isfinite(ent_lon) & np.isfinite(ent_lat)
        ex, ey = projection.to_xy_m(np.where(has_ent, ent_lon, df["lon"]),
                                    np.where(has_ent, ent_lat, df["lat"]))
        is_bike = df["kind"].isin(BIKE_KINDS).to_numpy()
        for mode, mask in ((Mode.CAR, ~is_bike), (Mode.BICYCLE, is_bike)):
            if mask.any():
                car_node[mask], _ = _nearest_nodes(street, mode, np.atleast_1d(ex)[mask],
                                                   np.atleast_1d(ey)[mask], max_link_m)
        walk_node[:], _ = _nearest_nodes(street, Mode.WALK, x, y, max_link_m)
        for what, nodes in (("vehicle", car_node), ("walking", walk_node)):
            far = nodes == NO_INDEX
            if far.any():
                first = int(np.flatnonzero(far)[0])
                report.warn("facility_too_far_from_street", f"{int(far.sum())} facilities lie more "
                            f"than {max_link_m:.0f} m from the {what} street network (e.g. "
                            f"{quoted(df['name'].iat[first])}): not linked for {what}",
                            count=int(far.sum()))
    elif n:
        report.warn("facilities_not_linked", f"no street graph: {n} facilities are not linked "
                    "to streets", count=n)
    return car_node, walk_node
