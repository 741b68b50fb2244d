"""Itineraries: journeys turned into legs people can follow, and the walk + transit plan.

The shape follows OpenTripPlanner and MOTIS: an :class:`Itinerary` is a sequence of
:class:`Leg` objects, each going from one :class:`Place` to another in one mode (WALK, a transit
mode such as BUS or TRAM from the GTFS route_type; the multimodal planner adds BICYCLE, CAR and
PARK legs later). Times are seconds after the reference of the itinerary's service day (local noon
minus 12 h; see :func:`engine.transit.to_service_time`), which the API turns into ISO 8601 times
in the feed's timezone (``api/serialize.py``); a transit leg also names the service day its trip
belongs to (the day before for a trip past midnight).

:func:`plan_walk_transit` answers a WALK/TRANSIT query end to end: stops or points in, access and
egress walks (``engine.planning.access``), RAPTOR (``engine.transit``), legs out. Problems a user can cause
are answers, not exceptions: a :class:`PlanResult` with no itinerary carries a reason ``code``
(``OUTSIDE_SERVICE_PERIOD``, ``UNKNOWN_STOP``, ``LOCATION_NOT_ACCESSIBLE``,
``NO_TRANSIT_CONNECTION``) and a message naming the culprit.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from engine import street as streets
from engine import transit
from engine.model import NO_INDEX, Mode, Network, haversine_m
from engine.planning.access import (
    DEFAULT_MAX_WALK_S,
    LocationNotAccessible,
    WalkAccess,
    walk_access,
    walk_path,
)
from engine.planning.realtime import CancelledTrip, LegRealtime
from engine.planning.reliability import TransferReliability

WALK = "WALK"


@dataclass(frozen=True)
class Place:
    """Where a leg starts or ends: a stop, a point given by the user, or (later) a car park."""

    name: str
    lon: float
    lat: float
    stop_id: str | None = None
    stop_idx: int = NO_INDEX
    parking_id: str | None = None


@dataclass(frozen=True, eq=False)
class Route:
    """The line a transit leg rides (GTFS route)."""

    route_id: str
    short_name: str
    long_name: str
    route_type: int
    color: str          # 'RRGGBB' or ''
    text_color: str
    agency: str


@dataclass(frozen=True, eq=False)
class Leg:
    """One part of an itinerary in one mode. Times: seconds after the itinerary's service day
    reference; geometry: WGS84 lon/lat arrays (a GeoJSON LineString once serialised)."""

    mode: str
    from_place: Place
    to_place: Place
    start_s: int
    end_s: int
    distance_m: float
    geometry_lon: np.ndarray
    geometry_lat: np.ndarray
    route: Route | None = None
    trip_id: str | None = None
    headsign: str | None = None
    trip_service_day: int | None = None      # days since 1970-01-01 of the trip's service day
    intermediate_stops: tuple[Place, ...] = ()
    extra: dict = field(default_factory=dict)  # mode-specific details (the planner's parking...)
    # metres of a vehicle leg (BICYCLE, CAR) walked between a given point and the street, already
    # in distance_m and the leg's time; they count as walking (Itinerary.walk_distance_m)
    off_street_m: float = 0.0
    trip_idx: int = NO_INDEX                   # the timetable's trip_idx of a transit leg
    board_pos: int = -1                        # positions of the boarding and alighting stops
    alight_pos: int = -1                       # along the trip
    realtime: LegRealtime | None = None        # real-time times, alerts (engine.planning.realtime_legs)

    @property
    def duration_s(self) -> int:
        return int(self.end_s - self.start_s)

    @property
    def is_transit(self) -> bool:
        return self.route is not None


@dataclass(frozen=True, eq=False)
class Itinerary:
    """Legs in travel order, on service day ``service_day`` (days since 1970-01-01)."""

    service_day: int
    legs: tuple[Leg, ...]
    mode: str = ""                  # the planner's mode (engine.planning.planner): WALK, CAR_PARK...
    labels: tuple[str, ...] = ()    # "fastest", "fewest transfers", ... (engine.planning.planner)
    parking_risk: float = 0.0       # 1 - p_free of the car park used, 0 without one
    cancelled: tuple[CancelledTrip, ...] = ()          # real-time: trips the schedule would use
    transfer_reliability: tuple[TransferReliability, ...] = ()   # real-time plans only
    reliability: str = ""           # "robust", "tight connection: 70 %" (real-time plans only)

    @property
    def start_s(self) -> int:
        return int(self.legs[0].start_s)

    @property
    def end_s(self) -> int:
        return int(self.legs[-1].end_s)

    @property
    def duration_s(self) -> int:
        return self.end_s - self.start_s

    @property
    def transfers(self) -> int:
        return max(sum(leg.is_transit for leg in self.legs) - 1, 0)

    @property
    def walk_distance_m(self) -> float:
        """Metres on foot: the WALK legs and the walks between the given points and the street
        at the ends of a vehicle leg."""
        return float(sum(leg.distance_m if leg.mode == WALK else leg.off_street_m for leg in self.legs))


@dataclass(frozen=True)
class PlanResult:
    """Itineraries, or none and the reason (``code``) with a message for people."""

    itineraries: tuple[Itinerary, ...]
    timezone: str
    code: str | None = None
    message: str = ""
    left_out: dict = field(default_factory=dict)  # mode -> engine.planning.reasons.ModeLeftOut

    @property
    def ok(self) -> bool:
        return self.code is None


@dataclass(frozen=True)
class StopRef:
    """A GTFS stop id (a station id stands for its stops)."""

    stop_id: str


@dataclass(frozen=True)
class Point:
    """A WGS84 point."""

    lon: float
    lat: float
    name: str = ""


Location = StopRef | Point


# ---------------------------------------------------------------------------------------------
# Journeys -> legs
# ---------------------------------------------------------------------------------------------
def stop_place(network: Network, stop_idx: int) -> Place:
    tt = network.timetable
    return Place(name=str(tt.stop_name[stop_idx]), lon=float(tt.stop_lon[stop_idx]),
                 lat=float(tt.stop_lat[stop_idx]), stop_id=str(tt.stop_ids[stop_idx]),
                 stop_idx=int(stop_idx))


def _line(lon_a, lat_a, lon_b, lat_b) -> tuple[np.ndarray, np.ndarray]:
    return np.array([lon_a, lon_b], dtype=np.float64), np.array([lat_a, lat_b], dtype=np.float64)


def _walk_between_stops(network: Network, a: int, b: int, walk_speed_mps: float):
    """(lon, lat, metres) of the walk from stop a to stop b: on the streets when both are linked
    to the walk graph, else straight (times the detour factor for the distance)."""
    tt = network.timetable
    pa, pb = (float(tt.stop_lon[a]), float(tt.stop_lat[a])), (float(tt.stop_lon[b]), float(tt.stop_lat[b]))
    if network.street is not None and np.shape(network.stop_walk_node_idx) == (tt.n_stops,):
        na, nb = int(network.stop_walk_node_idx[a]), int(network.stop_walk_node_idx[b])
        if na != NO_INDEX and nb != NO_INDEX:
            path = walk_path(network, na, nb, walk_speed_mps=walk_speed_mps)
            if path is not None:
                g = network.street
                nodes = path.node_idx if path.node_idx.size else np.array([na])
                lon = np.concatenate([[pa[0]], g.node_lon[nodes], [pb[0]]])
                lat = np.concatenate([[pa[1]], g.node_lat[nodes], [pb[1]]])
                off = np.asarray(network.stop_walk_offset_m)
                return lon, lat, float(path.length_m + off[a] + off[b])
    lon, lat = _line(*pa, *pb)
    straight = float(haversine_m(pa[0], pa[1], pb[0], pb[1]))
    return lon, lat, straight * network.walk_detour_factor


def _route_of(network: Network, trip_idx: int) -> Route:
    tt = network.timetable
    line = int(tt.route_line_idx[tt.trip_route_idx[trip_idx]])
    return Route(route_id=str(tt.line_ids[line]), short_name=str(tt.line_short_name[line]),
                 long_name=str(tt.line_long_name[line]), route_type=int(tt.line_type[line]),
                 color=str(tt.line_color[line]), text_color=str(tt.line_text_color[line]),
                 agency=str(tt.line_agency[line]))


def _ride_leg(network: Network, js: transit.JourneySet, i: int) -> Leg:
    tt = network.timetable
    trip = int(js.leg_trip_idx[i])
    r = int(tt.trip_route_idx[trip])
    s0 = int(tt.route_stop_offsets[r])
    bpos, apos = int(js.leg_board_pos[i]), int(js.leg_alight_pos[i])
    stops = np.asarray(tt.route_stops[s0 + bpos:s0 + apos + 1])
    lon = np.asarray(tt.stop_lon[stops], dtype=np.float64)
    lat = np.asarray(tt.stop_lat[stops], dtype=np.float64)
    metres = float(haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:]).sum()) if stops.size > 1 else 0.0
    route = _route_of(network, trip)
    return Leg(mode=transit.route_mode(route.route_type), from_place=stop_place(network, int(stops[0])),
               to_place=stop_place(network, int(stops[-1])), start_s=int(js.leg_depart_s[i]),
               end_s=int(js.leg_arrive_s[i]), distance_m=metres, geometry_lon=lon, geometry_lat=lat,
               route=route, trip_id=str(tt.trip_ids[trip]), headsign=str(tt.trip_headsign[trip]),
               trip_service_day=js.day + int(js.leg_day_offset[i]), trip_idx=trip,
               board_pos=bpos, alight_pos=apos,
               intermediate_stops=tuple(stop_place(network, int(s)) for s in stops[1:-1]))


def _same_place(network: Network, stop_idx: int, place_stop_idx: int) -> bool:
    """The stop is the place's stop, or one of the stops of the place's station."""
    return stop_idx == place_stop_idx or int(network.timetable.stop_parent_idx[stop_idx]) == place_stop_idx


def _merge_walks(legs: list[Leg]) -> list[Leg]:
    """Consecutive walk legs become one (an access walk and a footpath, say)."""
    out: list[Leg] = []
    for leg in legs:
        if out and leg.mode == WALK and out[-1].mode == WALK:
            prev = out[-1]
            out[-1] = Leg(mode=WALK, from_place=prev.from_place, to_place=leg.to_place,
                          start_s=prev.start_s, end_s=leg.end_s,
                          distance_m=prev.distance_m + leg.distance_m,
                          geometry_lon=np.concatenate([prev.geometry_lon, leg.geometry_lon[1:]]),
                          geometry_lat=np.concatenate([prev.geometry_lat, leg.geometry_lat[1:]]))
        else:
            out.append(leg)
    return out


def journeys_to_itineraries(network: Network, js: transit.JourneySet, origin: Place,
                            destination: Place, *, origin_walk: WalkAccess | None = None,
                            destination_walk: WalkAccess | None = None,
                            walk_speed_mps: float = transit.DEFAULT_WALK_SPEED_MPS) -> list[Itinerary]:
    """Legs of every journey of ``js``. ``origin_walk``/``destination_walk`` are the access and
    egress searches when the ends are points (None when they are stops)."""
    out = []
    for j in range(js.n_journeys):
        legs: list[Leg] = []
        for i in js.legs(j):
            kind = int(js.leg_kind[i])
            dep, arr = int(js.leg_depart_s[i]), int(js.leg_arrive_s[i])
            if kind == transit.LEG_RIDE:
                legs.append(_ride_leg(network, js, i))
            elif kind == transit.LEG_TRANSFER:
                a, b = int(js.leg_from_stop[i]), int(js.leg_to_stop[i])
                lon, lat, metres = _walk_between_stops(network, a, b, walk_speed_mps)
                legs.append(Leg(WALK, stop_place(network, a), stop_place(network, b), dep, arr,
                                metres, lon, lat))
            elif kind == transit.LEG_ACCESS:
                s = int(js.leg_to_stop[i])
                if origin_walk is None:
                    if arr > dep or not _same_place(network, s, origin.stop_idx):
                        p = stop_place(network, s)
                        lon, lat = _line(origin.lon, origin.lat, p.lon, p.lat)
                        legs.append(Leg(WALK, origin, p, dep, arr, 0.0, lon, lat))
                    continue
                lon, lat, metres = origin_walk.walk(s)
                legs.append(Leg(WALK, origin, stop_place(network, s), dep, arr, metres, lon, lat))
            else:  # egress
                s = int(js.leg_from_stop[i])
                if destination_walk is None:
                    if arr > dep or not _same_place(network, s, destination.stop_idx):
                        p = stop_place(network, s)
                        lon, lat = _line(p.lon, p.lat, destination.lon, destination.lat)
                        legs.append(Leg(WALK, p, destination, dep, arr, 0.0, lon, lat))
                    continue
                lon, lat, metres = destination_walk.walk(s)
                legs.append(Leg(WALK, stop_place(network, s), destination, dep, arr, metres, lon, lat))
        out.append(Itinerary(service_day=js.day, legs=tuple(_merge_walks(legs))))
    return out


# ---------------------------------------------------------------------------------------------
# Walk + transit plan
# ---------------------------------------------------------------------------------------------
def _straight_m(network: Network, lon_a, lat_a, lon_b, lat_b) -> float:
    xa, ya = network.projection.to_xy_m(lon_a, lat_a)
    xb, yb = network.projection.to_xy_m(lon_b, lat_b)
    return float(np.hypot(xa - xb, ya - yb))


def _direct_walk(network: Network, origin: Place, destination: Place, walk_speed_mps: float,
                 max_walk_s: float) -> tuple[np.ndarray, np.ndarray, float, float] | None:
    """(lon, lat, metres, seconds) of walking all the way, or None beyond ``max_walk_s``."""
    if network.street is not None and network.street.n_nodes:
        profile = streets.StreetProfile(Mode.WALK, walk_speed_mps=walk_speed_mps)
        try:
            path = streets.route_points(network.street, (origin.lon, origin.lat),
                                        (destination.lon, destination.lat), profile,
                                        max_cost=max_walk_s)
        except LocationNotAccessible:
            return None
        if path is None:
            return None
        # the stretches between each point and the street it snapped to, walked straight
        ends_m = (_straight_m(network, origin.lon, origin.lat, path.lon[0], path.lat[0])
                  + _straight_m(network, destination.lon, destination.lat, path.lon[-1],
                                path.lat[-1]))
        lon = np.concatenate([[origin.lon], path.lon, [destination.lon]])
        lat = np.concatenate([[origin.lat], path.lat, [destination.lat]])
        metres = path.length_m + ends_m
        seconds = path.duration_s + ends_m / walk_speed_mps
    else:
        metres = float(haversine_m(origin.lon, origin.lat, destination.lon, destination.lat)
                       ) * network.walk_detour_factor
        seconds = metres / walk_speed_mps
        lon, lat = _line(origin.lon, origin.lat, destination.lon, destination.lat)
    return (lon, lat, metres, seconds) if seconds <= max_walk_s else None


def _resolve(network: Network, router: transit.TransitRouter, where: Location, *, egress: bool,
             max_walk_s: float, walk_speed_mps: float):
    """(Place, access list, WalkAccess or None) of an origin or a destination."""
    if isinstance(where, StopRef):
        stops, secs = router.stop_access(where.stop_id)
        return stop_place(network, int(stops[0])), (stops, secs), None
    walk = walk_access(network, where.lon, where.lat, reverse=egress, max_walk_s=max_walk_s,
                       walk_speed_mps=walk_speed_mps)
    name = where.name or ("Destination" if egress else "Origin")
    return Place(name=name, lon=float(where.lon), lat=float(where.lat)), walk.access, walk


def _on_realtime(network: Network, realtime, day: int) -> Network:
    """``network`` with the timetable transit uses on ``day``: the real-time overlay's on its day."""
    if realtime is None or network.timetable is None:
        return network
    tt = realtime.timetable_for(network.timetable, day)
    return network if tt is network.timetable else dataclasses.replace(network, timetable=tt)


def _annotated(itineraries: list[Itinerary], static_network: Network, realtime,
               transfer_slack_s: int, depart_s: int | None) -> list[Itinerary]:
    """engine.planning.realtime_legs' annotations (imported here: it uses this module's types)."""
    from engine.planning.realtime_legs import annotate_itineraries

    return list(annotate_itineraries(itineraries, static_network, realtime,
                                     transfer_slack_s=transfer_slack_s, depart_s=depart_s))


def plan_walk_transit(network: Network, origin: Location, destination: Location, *, day: int,
                      time_s: int, arrive_by: bool = False, window_s: int = 0,
                      modes: Iterable[str] = ("WALK", "TRANSIT"),
                      options: transit.TransitOptions = transit.DEFAULT_OPTIONS,
                      max_walk_s: float = DEFAULT_MAX_WALK_S, realtime=None) -> PlanResult:
    """Walk and transit itineraries between two locations on service day ``day``.

    ``time_s`` (seconds after the day's reference) is the departure, or with ``arrive_by`` the
    latest arrival; ``window_s`` > 0 asks for every departure in that window (range RAPTOR).
    Transit itineraries are the Pareto set over (arrival or departure, transfers); a walk-only
    itinerary is added when WALK is among ``modes`` and the walk takes at most ``max_walk_s``
    or beats every transit itinerary. ``realtime`` (``engine.planning.realtime.RealtimeState``):
    transit on its overlay on its day, legs annotated (``engine.planning.realtime_legs``).
    Raises ValueError for unknown modes; everything a user
    can get wrong comes back as a PlanResult code.
    """
    modes = {m.upper() for m in modes}
    unknown = modes - {"WALK", "TRANSIT"}
    if unknown:
        raise ValueError(f"plan_walk_transit: unsupported modes {sorted(unknown)} (WALK, TRANSIT)")
    tz = network.timezone
    static_network = network
    network = _on_realtime(network, realtime, day)
    tt = network.timetable
    if "TRANSIT" in modes and tt is None:
        return PlanResult((), tz, "NO_TRANSIT_CONNECTION", "the network has no timetable")
    router = transit.router_for(tt) if tt is not None else None
    try:
        if router is not None:
            o_place, o_access, o_walk = _resolve(network, router, origin, egress=False,
                                                 max_walk_s=max_walk_s,
                                                 walk_speed_mps=options.walk_speed_mps)
            d_place, d_access, d_walk = _resolve(network, router, destination, egress=True,
                                                 max_walk_s=max_walk_s,
                                                 walk_speed_mps=options.walk_speed_mps)
        else:
            if not (isinstance(origin, Point) and isinstance(destination, Point)):
                return PlanResult((), tz, "UNKNOWN_STOP", "the network has no stops")
            o_place = Place(origin.name or "Origin", origin.lon, origin.lat)
            d_place = Place(destination.name or "Destination", destination.lon, destination.lat)
            for p in (o_place, d_place):
                if network.street is not None:
                    streets.snap(network.street, p.lon, p.lat, Mode.WALK)
        itineraries: list[Itinerary] = []
        if "TRANSIT" in modes:
            js = router.search(o_access, d_access, day, time_s, options=options,
                               window_s=window_s, arrive_by=arrive_by)
            itineraries = journeys_to_itineraries(network, js, o_place, d_place,
                                                  origin_walk=o_walk, destination_walk=d_walk,
                                                  walk_speed_mps=options.walk_speed_mps)
    except transit.TransitQueryError as exc:
        return PlanResult((), tz, exc.code, str(exc))
    except LocationNotAccessible as exc:
        return PlanResult((), tz, streets.LOCATION_NOT_ACCESSIBLE, str(exc))

    if "WALK" in modes:
        fastest = min((it.duration_s for it in itineraries), default=np.inf)
        walk = _direct_walk(network, o_place, d_place, options.walk_speed_mps,
                            max(max_walk_s, fastest))
        if walk is not None:
            lon, lat, metres, seconds = walk
            seconds = int(np.ceil(seconds))
            start, end = (time_s - seconds, time_s) if arrive_by else (time_s, time_s + seconds)
            itineraries.append(Itinerary(day, (Leg(WALK, o_place, d_place, start, end, metres,
                                                   lon, lat),)))
    if not itineraries:
        what = "transit" if "TRANSIT" in modes else "walking"
        return PlanResult((), tz, "NO_TRANSIT_CONNECTION" if "TRANSIT" in modes else "NO_WALK_ROUTE",
                          f"no {what} itinerary from {o_place.name} to {d_place.name} "
                          f"{'arriving by' if arrive_by else 'leaving at or after'} the given time")
    if realtime is not None and static_network.timetable is not None:
        itineraries = _annotated(itineraries, static_network, realtime, options.transfer_slack_s,
                                 None if arrive_by else time_s)
    if arrive_by:
        itineraries.sort(key=lambda it: (-it.start_s, it.transfers, it.end_s))
    else:
        itineraries.sort(key=lambda it: (it.start_s if window_s else 0, it.end_s, it.transfers))
    return PlanResult(tuple(itineraries), tz)
