"""The legs of the planner's itineraries and the places they join: a leg from a street path or
a straight line, whole seconds, car park and street-node places, the share of a ride on bike
lanes, and the walk from a facility's exit to a stop.
"""
from __future__ import annotations

import math

import numpy as np

from engine import street
from engine.model import NO_INDEX, Network
from engine.parking.choice import facility_label
from engine.planning.itinerary import Leg, Place
from engine.planning.query import Query
from engine.planning.street_trees import StreetLeg


def make_leg(mode: str, a: Place, b: Place, start_s: int, end_s: int, sl: StreetLeg | None = None,
             *, distance_m: float | None = None, lon=None, lat=None, extra: dict | None = None,
             off_street_m: float = 0.0) -> Leg:
    """A leg from a street path ``sl`` (its geometry, metres and the walk between a given point
    and the street) or from the geometry and metres given (a straight line by default).
    ``off_street_m``: metres of a vehicle leg walked off the street (in ``distance_m``)."""
    if sl is not None:
        lon, lat, distance_m, off_street_m = sl.lon, sl.lat, sl.length_m, sl.off_street_m
    if lon is None:
        lon, lat = np.array([a.lon, b.lon]), np.array([a.lat, b.lat])
    return Leg(mode=mode, from_place=a, to_place=b, start_s=int(start_s), end_s=int(end_s),
               distance_m=float(distance_m or 0.0), geometry_lon=np.asarray(lon, dtype=np.float64),
               geometry_lat=np.asarray(lat, dtype=np.float64), extra=extra or {},
               off_street_m=float(off_street_m))


def ceil_s(x: float) -> int:
    return int(math.ceil(float(x) - 1e-9))


def facility_place(network: Network, f: int) -> Place:
    pk = network.parking
    return Place(name=facility_label(pk, f), lon=float(pk.lon[f]), lat=float(pk.lat[f]),
                 parking_id=str(pk.facility_ids[f]))


def node_place(graph, node: int, name: str) -> Place:
    return Place(name=name, lon=float(graph.node_lon[node]), lat=float(graph.node_lat[node]))


def bike_lane_share(graph, sl: StreetLeg) -> float:
    if sl.length_m <= 0 or sl.edges.size == 0:
        return 0.0
    lanes = np.asarray(graph.edge_is_bike_lane)[sl.edges]
    return float(np.sum(sl.edge_m[lanes]) / max(np.sum(sl.edge_m), 1e-9))


def walk_stop_path(q: Query, f: int, stop: int, walk_m_fallback: float
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """(lon, lat, metres) of the walk from facility f's exit to a stop."""
    net, g = q.network, q.graph
    tt = net.timetable
    node = int(net.parking.walk_node_idx[f])
    s_node = (int(net.stop_walk_node_idx[stop]) if np.shape(net.stop_walk_node_idx) == (tt.n_stops,)
              else NO_INDEX)
    f_lon, f_lat = float(net.parking.lon[f]), float(net.parking.lat[f])
    s_lon, s_lat = float(tt.stop_lon[stop]), float(tt.stop_lat[stop])
    if g is not None and node != NO_INDEX and s_node != NO_INDEX:
        p = street.shortest_path(g, q.walk, node, s_node, deadline=q.deadline)
        if p is not None:
            off = float(np.asarray(net.stop_walk_offset_m)[stop])
            return np.r_[f_lon, p.lon, s_lon], np.r_[f_lat, p.lat, s_lat], float(p.length_m) + off
    return np.array([f_lon, s_lon]), np.array([f_lat, s_lat]), float(walk_m_fallback)
