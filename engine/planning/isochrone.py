"""Isochrones: the area reachable from a point within a time budget, per mode.

Street modes run one search on the street graph (``engine.street.isochrone``): WALK and BICYCLE at
the traveller's speed, CAR_PARK as the area a driver reaches. TRANSIT combines walking and
public transport: walk access to the stops, the earliest arrival at every stop by RAPTOR
(``engine.planning.matrix`` runs it one-to-all), then walking on from every stop reached with the time
left; the area is what any of those reach. The polygon is the alpha shape of the reached street
pieces (``engine.street.isochrone_polygon``). As in itineraries and matrices, the stretch between
the origin and the street it snapped to is walked straight at ``walk_speed_mps`` (for every
mode): it is spent before the street search starts and counts in every time.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np

from engine import street, transit
from engine.deadline import Deadline
from engine.model import NO_INDEX, Mode, Network
from engine.planning.options import PlanOptions

STREET_MODES = {"WALK": Mode.WALK, "BICYCLE": Mode.BICYCLE, "CAR_PARK": Mode.CAR}


class IsochroneUnavailable(ValueError):
    """No isochrone for this query; ``code`` says why (e.g. LOCATION_NOT_ACCESSIBLE)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ReachableArea:
    """The reached area as GeoJSON (lon/lat MultiPolygon) and what it is made of."""

    polygon: dict
    n_nodes: int                   # street nodes reached within the budget
    n_stops: int                   # transit stops reached within the budget (0 for street modes)
    node_idx: np.ndarray           # reached street nodes
    time_s: np.ndarray             # seconds from the departure to each reached node


def _profile(mode: Mode, options: PlanOptions) -> street.StreetProfile:
    return street.StreetProfile(mode, walk_speed_mps=options.walk_speed_mps,
                                bike_speed_mps=options.bike_speed_mps)


def _snap(network: Network, lonlat, mode: Mode, options: PlanOptions) -> street.Snap:
    try:
        return street.snap(network.street, lonlat[0], lonlat[1], mode, max_distance_m=options.max_snap_m)
    except street.LocationNotAccessible as exc:
        raise IsochroneUnavailable(exc.code, str(exc)) from None


def _from_point(graph, profile: street.StreetProfile, s: street.Snap, max_time_s: float,
                walk_speed_mps: float, deadline: Deadline | None = None) -> street.Isochrone:
    """The street isochrone of a snapped origin, the walk from the given point to the street
    spent first: nothing is reached when that walk alone takes the whole budget."""
    off_s = s.distance_m / walk_speed_mps
    iso = street.isochrone(graph, profile, s, max(max_time_s - off_s, 0.0), deadline=deadline)
    if off_s >= max_time_s:
        none_i, none_f = np.zeros(0, dtype=np.int32), np.zeros(0)
        return dataclasses.replace(iso, max_time_s=max_time_s, node_idx=none_i, time_s=none_f,
                                   edge_idx=none_i, edge_start=none_f, edge_end=none_f)
    return dataclasses.replace(iso, max_time_s=max_time_s, time_s=iso.time_s + off_s)


def reachable_area(network: Network, origin_lonlat, when: dt.datetime, *, mode: str,
                   max_time_s: float, options: PlanOptions | None = None,
                   deadline: Deadline | None = None) -> ReachableArea:
    """Everything reachable from ``origin_lonlat`` (WGS84 lon, lat) within ``max_time_s``.

    ``when`` is the departure (aware datetime, used by TRANSIT). Raises IsochroneUnavailable
    with a code for a network without streets (NO_STREET_NETWORK), an origin too far from the
    streets (LOCATION_NOT_ACCESSIBLE), a TRANSIT isochrone on a day outside the timetable's
    service period (OUTSIDE_SERVICE_PERIOD, as the planner leaves TRANSIT out) or a mode that
    has no isochrone (MODE_NOT_SUPPORTED); ValueError for a non-positive budget; and
    DeadlineExceeded once ``deadline`` (None: no limit) has passed.
    """
    options = options or PlanOptions()
    if not max_time_s > 0:
        raise ValueError(f"reachable_area: max_time_s must be > 0, got {max_time_s}")
    if network.street is None or network.street.n_nodes == 0:
        raise IsochroneUnavailable("NO_STREET_NETWORK", "this network has no streets to draw an "
                                   "isochrone on")
    graph = network.street
    if mode in STREET_MODES:
        m = STREET_MODES[mode]
        profile = _profile(m, options)
        iso = _from_point(graph, profile, _snap(network, origin_lonlat, m, options), max_time_s,
                          options.walk_speed_mps, deadline)
        return ReachableArea(street.isochrone_polygon(graph, iso, deadline=deadline),
                             int(iso.node_idx.size), 0, iso.node_idx, iso.time_s)
    if mode == "TRANSIT":
        try:
            return _transit_area(network, origin_lonlat, when, max_time_s, options, deadline)
        except transit.OutsideServicePeriod as exc:
            raise IsochroneUnavailable(exc.code, str(exc)) from None
    raise IsochroneUnavailable("MODE_NOT_SUPPORTED", f"no isochrone for {mode}: ask for WALK, "
                               "BICYCLE, CAR_PARK or TRANSIT")


def _transit_area(network: Network, origin_lonlat, when: dt.datetime, max_time_s: float,
                  options: PlanOptions, deadline: Deadline | None) -> ReachableArea:
    """Walk + transit + walk within the budget (module docstring)."""
    from engine.planning import matrix

    graph = network.street
    walk = _profile(Mode.WALK, options)
    parts = [_from_point(graph, walk, _snap(network, origin_lonlat, Mode.WALK, options), max_time_s,
                         options.walk_speed_mps, deadline)]
    tt = network.timetable
    n_stops = 0
    stop_node = np.asarray(network.stop_walk_node_idx)
    if tt is not None and stop_node.shape == (tt.n_stops,):
        stop_s = matrix.stop_arrival_times(network, origin_lonlat, when, options=options,
                                           max_time_s=max_time_s, deadline=deadline)
        linked = np.flatnonzero(np.isfinite(stop_s) & (stop_s < max_time_s)
                                & (stop_node != NO_INDEX))
        n_stops = int(linked.size)
        if linked.size:
            offset_s = np.asarray(network.stop_walk_offset_m)[linked] / options.walk_speed_mps
            parts.append(street.isochrone(graph, walk, stop_node[linked], max_time_s,
                                          origin_time_s=stop_s[linked] + offset_s, deadline=deadline))
    times = np.full(graph.n_nodes, np.inf)
    for part in parts:
        np.minimum.at(times, part.node_idx, part.time_s)
    reached = np.flatnonzero(np.isfinite(times))
    area = street.Isochrone(profile=walk, max_time_s=max_time_s, reverse=False,
                            node_idx=reached.astype(np.int32), time_s=times[reached],
                            edge_idx=np.concatenate([p.edge_idx for p in parts]),
                            edge_start=np.concatenate([p.edge_start for p in parts]),
                            edge_end=np.concatenate([p.edge_end for p in parts]))
    return ReachableArea(street.isochrone_polygon(graph, area, deadline=deadline), int(reached.size),
                         n_stops, reached, times[reached])
