"""What the planner builds once per network and keeps while the network lives: the walks from
car parks and bicycle parkings to the stops near them (park-and-ride, bike-and-ride), the drives
between car parks (a diversion when one is full), and :func:`prepare`, which builds them and the
street and transit indexes ahead of the first query.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import street, transit
from engine.cache import Memo, PerObject
from engine.deadline import Deadline
from engine.model import NO_INDEX, Mode, Network, haversine_m
from engine.parking.choice import BIKE_KINDS, CAR_KINDS
from engine.planning.options import DEFAULT_PARK_RIDE_WALK_M, PlanOptions


@dataclass(frozen=True)
class StopLinks:
    """Walks from facility exits to stops, sorted by facility: (facility, stop, s, m)."""

    facility_idx: np.ndarray     # link -> facility_idx (int32)
    stop_idx: np.ndarray         # link -> stop_idx (int32)
    walk_s: np.ndarray           # link -> seconds at the street graph's walking speed
    walk_m: np.ndarray           # link -> metres


class _NetworkCache:
    def __init__(self):
        self.links: Memo = Memo()          # walk radius (m) -> StopLinks
        self.car_between: Memo = Memo()    # facility -> drive (s) to every facility


_cache_of = PerObject(lambda network: _NetworkCache())
"""The _NetworkCache of a Network (kept while the network lives)."""


def prepare(network: Network, *, park_ride_walk_m: float = DEFAULT_PARK_RIDE_WALK_M) -> None:
    """Build once what queries would build on first use: the street landmarks and snapping trees
    of every mode, the transit router, and the facility-to-stop walks (for a server's start-up
    and for benchmarks). When the street graph has its contraction hierarchy, the metrics of the
    planner's default profiles are customised too (a bundle stores those of the graph's stored
    costs only; the default bike-lane preference is another metric), so that single queries use it."""
    if network.street is not None and network.street.n_nodes:
        street.prepare(network.street, tuple(Mode))
        if street.has_hierarchy(network.street):
            o = PlanOptions()
            for profile in (street.StreetProfile(Mode.WALK, walk_speed_mps=o.walk_speed_mps),
                            street.StreetProfile(Mode.BICYCLE, bike_speed_mps=o.bike_speed_mps,
                                                 bike_lane_preference=o.bike_lane_preference),
                            street.StreetProfile(Mode.CAR)):
                street.ready_metric(network.street, profile, customise=True)
    if network.timetable is not None:
        transit.router_for(network.timetable)
    stop_links(network, park_ride_walk_m)


def drive_between(network: Network, profile: street.StreetProfile, facility_idx: np.ndarray, *,
                  deadline: Deadline | None = None) -> np.ndarray:
    """(n, n) drive times (s) between the car entrances of facilities (inf: no way).

    Rows are cached per network: a facility's row is one car search to every facility's
    entrance, done the first time a query has it among its candidates (a search stopped by
    ``deadline`` caches nothing).
    """
    pk = network.parking
    cache = _cache_of(network)
    nodes = np.asarray(pk.car_node_idx)
    linked = np.flatnonzero(nodes != NO_INDEX)
    rows = []

    def drives_from(f: int) -> np.ndarray:
        row = np.full(pk.n_facilities, np.inf)
        if nodes[f] != NO_INDEX:
            costs = street.fast_many_to_many(network.street, profile, [int(nodes[f])], nodes[linked],
                                             deadline=deadline)[0]
            row[linked] = np.where(costs >= street.UNREACHED, np.inf, costs)
        return row

    for f in np.asarray(facility_idx, dtype=np.int64).tolist():
        rows.append(cache.car_between.get(f, lambda f=f: drives_from(f))[facility_idx])
    return np.array(rows).reshape(len(rows), len(facility_idx))


def _served_stops(network: Network) -> np.ndarray:
    tt = network.timetable
    return np.flatnonzero(np.diff(np.asarray(tt.stop_route_offsets)) > 0)


def stop_links(network: Network, radius_m: float) -> StopLinks:
    """Stops within ``radius_m`` on foot of each facility's exit (car and bicycle facilities).

    On the streets (one limited search per facility, once per network and radius): street time
    from the facility's walk node to the stop's node, plus the stop's link at walking speed.
    Stops or facilities without a street node: straight line times the detour factor.
    """
    key = float(radius_m)
    return _cache_of(network).links.get(key, lambda: _compute_stop_links(network, key))


def _compute_stop_links(network: Network, radius_m: float) -> StopLinks:
    pk = network.parking
    tt = network.timetable
    empty = StopLinks(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0), np.zeros(0))
    if tt is None or pk.n_facilities == 0:
        return empty
    served = _served_stops(network)
    g = network.street
    speed = g.walk_speed_mps if g is not None else transit.DEFAULT_WALK_SPEED_MPS
    kinds = np.asarray(pk.kind)
    facilities = np.flatnonzero(np.isin(kinds, [int(k) for k in CAR_KINDS + BIKE_KINDS]))
    stop_node = (np.asarray(network.stop_walk_node_idx)[served]
                 if np.shape(network.stop_walk_node_idx) == (tt.n_stops,)
                 else np.full(served.size, NO_INDEX))
    stop_off = (np.asarray(network.stop_walk_offset_m)[served]
                if np.shape(network.stop_walk_offset_m) == (tt.n_stops,) else np.zeros(served.size))
    straight = haversine_m(np.asarray(pk.lon)[facilities, None], np.asarray(pk.lat)[facilities, None],
                           np.asarray(tt.stop_lon)[served][None, :],
                           np.asarray(tt.stop_lat)[served][None, :]) * network.walk_detour_factor
    parts_f, parts_s, parts_t, parts_m = [], [], [], []
    profile = street.StreetProfile(Mode.WALK, walk_speed_mps=speed)
    walk_nodes = np.asarray(pk.walk_node_idx)
    for row, f in enumerate(facilities):   # once per network: a few hundred facilities at most
        metres = straight[row].copy()
        node = int(walk_nodes[f])
        if g is not None and node != NO_INDEX:
            tree = street.search(g, profile, node, max_cost=radius_m / speed)
            linked = stop_node != NO_INDEX
            on_street = np.full(served.size, np.inf)
            on_street[linked] = tree.cost[stop_node[linked]] * speed + stop_off[linked]
            metres = np.where(linked, on_street, metres)
        near = np.flatnonzero(metres <= radius_m)
        parts_f.append(np.full(near.size, f, dtype=np.int32))
        parts_s.append(served[near].astype(np.int32))
        parts_m.append(metres[near])
        parts_t.append(metres[near] / speed)
    if parts_f:
        return StopLinks(np.concatenate(parts_f), np.concatenate(parts_s), np.concatenate(parts_t),
                         np.concatenate(parts_m))
    return empty
