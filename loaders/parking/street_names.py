"""Unnamed OSM facilities named by their street: "Car park on Rua Grimaldi" rather than
"Parking (OSM node 123)", which tells a resident nothing."""
from __future__ import annotations

import dataclasses
import re

import numpy as np
from scipy.spatial import cKDTree

from engine.model import Parking, ParkingKind, StreetGraph

STREET_NAME_MAX_M = 150.0
"""A facility farther than this from every named street keeps its generated name."""

_GENERATED = re.compile(r"^(Parking|Park and ride|Bicycle parking|Bike share station) "
                        r"\(OSM (node|way|relation) \d+\)$")
_LABEL = {ParkingKind.CAR_PARK: "Car park", ParkingKind.PARK_AND_RIDE: "Park and ride",
          ParkingKind.ON_STREET: "Street parking", ParkingKind.BIKE_PARKING: "Bicycle parking",
          ParkingKind.BIKE_SHARE: "Bike share station"}


def named_by_street(parking: Parking, street: StreetGraph | None) -> Parking:
    """``parking`` with each generated OSM name replaced by "<Kind> on <nearest named street>"
    (the nearest edge midpoint of a named way within STREET_NAME_MAX_M); others unchanged."""
    names = np.asarray(parking.facility_name).astype(object)
    todo = np.flatnonzero([bool(_GENERATED.match(str(n))) for n in names])
    if street is None or todo.size == 0 or street.n_edges == 0:
        return parking
    way_name = np.asarray(street.way_name)[np.asarray(street.edge_way_idx)]
    named = np.flatnonzero(way_name != "")
    if named.size == 0:
        return parking
    tail, head = np.asarray(street.edge_tail)[named], np.asarray(street.indices)[named]
    mid = np.column_stack([(street.node_x_m[tail] + street.node_x_m[head]) / 2,
                           (street.node_y_m[tail] + street.node_y_m[head]) / 2])
    x, y = street.projection.to_xy_m(np.asarray(parking.lon)[todo], np.asarray(parking.lat)[todo])
    dist, pos = cKDTree(mid).query(np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]))
    for f, d, p in zip(todo, dist, pos, strict=True):
        if d <= STREET_NAME_MAX_M:
            names[f] = f"{_LABEL[ParkingKind(int(parking.kind[f]))]} on {way_name[named[p]]}"
    return dataclasses.replace(parking, facility_name=names.astype(str))
