"""One plan_trip call's query: its instants, its two places, and the pieces several modes share.

:class:`Query` computes on first use, once per call, what more than one mode needs: the snaps of
the origin and destination, the car search to every car park, the backward walk search from the
destination, the transit router and the walks to and from the stops. A piece that fails (no
street graph, a point too far from the streets, a day without service) raises
:class:`engine.planning.reasons.LeftOut` for every mode that asks for it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import zoneinfo

import numpy as np

from engine import street, transit
from engine.cache import PerObject
from engine.deadline import Deadline
from engine.model import NO_INDEX, Mode, Network
from engine.parking.choice import CAR_KINDS
from engine.planning.access import LocationNotAccessible as AccessNotAccessible
from engine.planning.access import walk_access
from engine.planning.itinerary import Place, Point, StopRef, stop_place
from engine.planning.options import PlanOptions
from engine.planning.reasons import (
    LOCATION_NOT_ACCESSIBLE,
    NO_STREET_NETWORK,
    NO_TRANSIT_CONNECTION,
    OUTSIDE_SERVICE_PERIOD,
    LeftOut,
)
from engine.planning.street_trees import StreetTree, point_ends


def as_instant(value, timezone: str) -> int:
    """Seconds since the Unix epoch of an int/float instant or a datetime (naive: local)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
        return int(round(value.timestamp()))
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"plan_trip: a time must be epoch seconds or a datetime, got {type(value).__name__}")
    if not math.isfinite(float(value)):
        raise ValueError("plan_trip: the time must be finite")
    return int(round(float(value)))


def service_time(timezone: str, utc_s: int) -> tuple[int, int]:
    """(service day, seconds after its reference) of an instant: the local calendar date's
    service day (days since 1970-01-01) and the seconds since local noon minus 12 h."""
    local = dt.datetime.fromtimestamp(int(utc_s), tz=zoneinfo.ZoneInfo(timezone))
    return transit.to_service_time(timezone, local)


def location(network: Network, where, default_name: str) -> Place:
    if isinstance(where, StopRef):
        tt = network.timetable
        if tt is None:
            raise transit.UnknownStop(where.stop_id)
        idx = transit.router_for(tt).stop_idx(where.stop_id)
        return stop_place(network, idx)
    if isinstance(where, Point):
        lon, lat, name = where.lon, where.lat, where.name
    else:
        try:
            lon, lat = where
        except (TypeError, ValueError):
            raise TypeError(f"plan_trip: a location is a Point, a StopRef or (lon, lat), got {where!r}"
                           ) from None
        name = ""
    lon, lat = float(lon), float(lat)
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"plan_trip: ({lon}, {lat}) is not a WGS84 lon/lat")
    return Place(name=name or default_name, lon=lon, lat=lat)


def is_outside(network: Network, p: Place, margin_m: float) -> bool:
    min_lon, min_lat, max_lon, max_lat = network.bbox
    mx, my = network.projection.metres_per_degree
    return not (min_lon - margin_m / mx <= p.lon <= max_lon + margin_m / mx
                and min_lat - margin_m / my <= p.lat <= max_lat + margin_m / my)


class Query:
    """Everything one plan_trip call computes once and several modes share. Its searches stop
    with DeadlineExceeded once ``deadline`` (None: no limit) has passed."""

    def __init__(self, network: Network, origin: Place, destination: Place, utc_s: int,
                 arrive_by: bool, options: PlanOptions, live, now_utc_s, realtime=None, *,
                 deadline: Deadline | None = None, bike_share=None, pending=None):
        self.network = network
        self.graph = network.street if network.street is not None and network.street.n_nodes else None
        self.origin, self.destination = origin, destination
        self.utc_s, self.arrive_by, self.options = utc_s, arrive_by, options
        self.live, self.now_utc_s = live, now_utc_s
        self.bike_share = bike_share   # engine.parking.bikes.BikeShareLive, or None
        self.pending = pending      # engine.parking.pending.PendingArrivals: drivers already sent
        self.deadline = deadline
        self.tz = network.timezone
        self.day, self.time_s = service_time(self.tz, utc_s)
        self.ref_utc_s = utc_s - self.time_s
        o = options
        self.walk = street.StreetProfile(Mode.WALK, walk_speed_mps=o.walk_speed_mps)
        self.bike = street.StreetProfile(Mode.BICYCLE, bike_speed_mps=o.bike_speed_mps,
                                         bike_lane_preference=o.bike_lane_preference)
        self.car = street.StreetProfile(Mode.CAR)
        self._memo: dict = {}
        self.transit_opts = o.transit_options()
        # real-time: transit runs on the overlay's timetable on its day; every street cache
        # stays keyed on the static network (the overlay only changes trips)
        self.realtime = realtime
        self.timetable = (realtime.timetable_for(network.timetable, self.day)
                          if realtime is not None and network.timetable is not None
                          else network.timetable)

    # -- shared pieces, computed on first use -------------------------------------------------
    def memo(self, key, make):
        if key not in self._memo:
            try:
                self._memo[key] = (True, make())
            except LeftOut as exc:
                self._memo[key] = (False, exc)
        ok, value = self._memo[key]
        if not ok:
            raise value
        return value

    def need_streets(self, what: str):
        if self.graph is None:
            raise LeftOut(NO_STREET_NETWORK, f"the network has no street graph: no {what}")

    def snap(self, which: str, mode: Mode) -> street.Snap:
        def make():
            self.need_streets(mode.name.lower())
            p = self.origin if which == "origin" else self.destination
            try:
                return street.snap(self.graph, p.lon, p.lat, mode, max_distance_m=self.options.max_snap_m)
            except street.LocationNotAccessible as exc:
                raise LeftOut(LOCATION_NOT_ACCESSIBLE, f"the {which} {exc}") from None
        return self.memo(("snap", which, mode), make)

    def car_tree(self) -> StreetTree:
        """Forward car search from the origin to every car facility entrance."""
        def make():
            s = self.snap("origin", Mode.CAR)
            ends = point_ends(self.graph, self.car, s, leaving=True,
                              walk_speed_mps=self.options.walk_speed_mps)
            pk = self.network.parking
            targets = street_facilities(pk, CAR_KINDS, vehicle=True)
            nodes = np.asarray(pk.car_node_idx)[targets]
            res = street.search(self.graph, self.car, ends.nodes, ends.cost,
                                target_nodes=nodes if nodes.size else None, deadline=self.deadline)
            return StreetTree(self.graph, self.car, ends, res, backward=False)
        return self.memo("car_tree", make)

    def bike_tree(self, targets: np.ndarray) -> StreetTree:
        def make():
            s = self.snap("origin", Mode.BICYCLE)
            ends = point_ends(self.graph, self.bike, s, leaving=True,
                              walk_speed_mps=self.options.walk_speed_mps)
            res = street.search(self.graph, self.bike, ends.nodes, ends.cost,
                                target_nodes=targets if targets.size else None, deadline=self.deadline)
            return StreetTree(self.graph, self.bike, ends, res, backward=False)
        return self.memo("bike_tree", make)

    def walk_to_destination_tree(self) -> StreetTree:
        """Backward walk search from the destination, within ``max_walk_m``."""
        def make():
            s = self.snap("destination", Mode.WALK)
            ends = point_ends(self.graph, self.walk, s, leaving=False,
                              walk_speed_mps=self.options.walk_speed_mps)
            # the walk between the destination and its street counts within max_walk_m
            limit = max(self.options.max_walk_m / self.options.walk_speed_mps - ends.off_street_s, 0.0)
            res = street.search(self.graph, self.walk, ends.nodes, ends.cost, max_cost=limit,
                                reverse=True, deadline=self.deadline)
            return StreetTree(self.graph, self.walk, ends, res, backward=True)
        return self.memo("walk_tree", make)

    def walk_from_origin_tree(self) -> StreetTree:
        """Forward walk search from the origin, within ``max_walk_m`` (to bike-share stations)."""
        def make():
            s = self.snap("origin", Mode.WALK)
            ends = point_ends(self.graph, self.walk, s, leaving=True,
                              walk_speed_mps=self.options.walk_speed_mps)
            limit = max(self.options.max_walk_m / self.options.walk_speed_mps - ends.off_street_s, 0.0)
            res = street.search(self.graph, self.walk, ends.nodes, ends.cost, max_cost=limit,
                                deadline=self.deadline)
            return StreetTree(self.graph, self.walk, ends, res, backward=False)
        return self.memo("walk_from_origin_tree", make)

    @property
    def transit_network(self) -> Network:
        """The network whose timetable the journeys index (the overlay's, with real time)."""
        if self.timetable is self.network.timetable:
            return self.network
        return _with_timetable(self.network, self.timetable)

    def router(self) -> transit.TransitRouter:
        def make():
            tt = self.timetable
            if tt is None:
                raise LeftOut(NO_TRANSIT_CONNECTION, "the network has no timetable")
            router = transit.router_for(tt)
            try:
                router.check_day(self.day)
            except transit.OutsideServicePeriod as exc:
                raise LeftOut(OUTSIDE_SERVICE_PERIOD, str(exc)) from None
            return router
        return self.memo("router", make)

    def egress(self):
        """Walk from stops to the destination (engine.planning.access), shared by the transit modes."""
        def make():
            return self._walk_access(self.destination, reverse=True, which="destination")
        return self.memo("egress", make)

    def access(self):
        def make():
            return self._walk_access(self.origin, reverse=False, which="origin")
        return self.memo("access", make)

    def _walk_access(self, p: Place, reverse: bool, which: str):
        o = self.options
        try:
            return walk_access(self.network, p.lon, p.lat, reverse=reverse,
                               max_walk_s=o.max_walk_m / o.walk_speed_mps,
                               walk_speed_mps=o.walk_speed_mps, max_snap_m=o.max_snap_m,
                               deadline=self.deadline)
        except AccessNotAccessible as exc:
            raise LeftOut(LOCATION_NOT_ACCESSIBLE, f"the {which} {exc}") from None

    # -- times ----------------------------------------------------------------------------------
    def utc(self, service_s) -> np.ndarray:
        return self.ref_utc_s + np.asarray(service_s, dtype=np.int64)

    def span(self, duration_s: float) -> tuple[int, int]:
        """(start, end) of a single-leg trip of ``duration_s`` at the query time."""
        d = int(math.ceil(duration_s - 1e-9))
        return (self.time_s - d, self.time_s) if self.arrive_by else (self.time_s, self.time_s + d)


_VIEWS = PerObject(lambda network, tt: dataclasses.replace(network, timetable=tt), size=4)


def _with_timetable(network: Network, tt) -> Network:
    """``network`` with ``tt`` for its timetable, one view per (network, timetable)."""
    return _VIEWS(network, tt)


def street_facilities(parking, kinds, *, vehicle: bool) -> np.ndarray:
    """facility_idx of the given kinds linked to the streets (vehicle node and walk node)."""
    kind = np.asarray(parking.kind)
    ok = np.isin(kind, [int(k) for k in kinds]) & (np.asarray(parking.walk_node_idx) != NO_INDEX)
    if vehicle:
        ok &= np.asarray(parking.car_node_idx) != NO_INDEX
    return np.flatnonzero(ok)
