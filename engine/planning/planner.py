"""The multimodal planner: walk, bike, car + parking, transit and their combinations, explained.

:func:`plan_trip` composes street searches (``engine.street``), the parking forecast
(``engine.parking``, ``engine.parking.choice``) and RAPTOR (``engine.transit``) into itineraries
(``engine.planning.itinerary``) for the modes asked:

* ``WALK`` and ``BICYCLE``: one street route each (the bicycle with its bike-lane preference).
* ``TRANSIT``: walk access and egress (``engine.planning.access``), RAPTOR (range RAPTOR with a window).
* ``CAR_PARK``: drive to a car park (or an on-street zone), park, walk to the destination. One car
  search from the origin to every facility entrance and one backward walk search from the
  destination to every facility exit (within ``max_walk_m``) give the drive and walk of each
  facility; the forecast at the predicted arrival instant gives p_free and the expected search
  time; ``engine.parking.choice`` chooses the least expected total, never a facility whose
  p_free is below the threshold (0.2), lists the ones it avoided and names a fallback when the
  chosen one's p_free is below 0.8.
* ``PARK_AND_RIDE``: drive to a park-and-ride, or to any car park within ``park_ride_walk_m`` on
  foot of a stop, park, walk to the stop, ride, walk. Each stop's access time is the best over
  its facilities of drive + expected search + park + walk (facilities under the threshold left
  out); one RAPTOR run takes them all. The car stays at the facility: the itinerary says so.
* ``BIKE_AND_RIDE``: cycle to a bicycle parking (or a bike-share station) within
  ``park_ride_walk_m`` of a stop, lock the bike (``bike_lock_s``), walk to the stop, ride, walk.

Times. The query instant is an int (seconds since the Unix epoch) or an aware datetime (a naive
one is read in the network's timezone). Itineraries count seconds after the reference of the
service day containing it (local noon minus 12 h, as GTFS does; ``engine.transit``), like the
transit itineraries; parking forecasts take UTC instants (reference + seconds). A depart-at
park-and-ride or bike-and-ride itinerary leaves at the asked time (the forecast was made for
that drive) and waits at the stop when it is early. Arrive-by park-and-ride runs RAPTOR twice:
first with no search time, to learn when the traveller must leave, then with the search times
forecast for arriving at each facility after leaving then.

Choosing what to show. Every mode gives its candidates; a candidate is kept when no other is at
least as good on all of (arrival, or departure for arrive-by; transfers; walking distance;
parking risk = 1 - p_free of the car park used) and better on one; with a transit ``window_s``,
the other end of the trip counts too, so that later departures in the window are kept. Options
are distinct: going from the fastest, one within :data:`PARETO_SLACK` (a minute, 100 m of
walking, 5 points of risk) of an option kept on every criterion is dropped as its near-duplicate
(driving past the destination to ride a bus back for 40 m less walking, say). Among
those kept, the labels ``fastest``, ``fewest transfers``, ``least walking`` and ``no car park
risk`` (the fastest itinerary that needs no car park, when some kept itinerary needs one) go to
the best of each, and ``num_itineraries`` are returned, labelled ones first. A mode asked for
that ends with no itinerary is in ``PlanResult.left_out`` with a reason code (``LOCATION_NOT_ACCESSIBLE``,
``OUTSIDE_SERVICE_PERIOD``, ``NO_TRANSIT_CONNECTION``, ``NO_PARKING_AVAILABLE``,
``NO_BIKE_PARKING``, ``NO_STREET_NETWORK``, ``NO_ROUTE``, ``DOMINATED``, ``NOT_SELECTED``).
A point outside the network's bounding box (plus ``bbox_margin_m``) answers ``OUTSIDE_BOUNDS``.

Performance: per query one search per mode and direction (never one per facility), one forecast
call per car mode, one RAPTOR run per transit-based mode (two for arrive-by park-and-ride), and
a numba kernel to trace paths out of the search trees. :func:`prepare` builds, once per network,
the street landmarks, snapping trees, transit router and the facility-to-stop walks.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

import numba
import numpy as np

from engine import street, transit
from engine.cache import Memo, PerObject
from engine.model import NO_INDEX, Mode, Network, ParkingKind, haversine_m
from engine.parking import LiveObservations
from engine.parking.choice import (
    BIKE_KINDS,
    CAR_KINDS,
    NO_CHOICE,
    FacilityChoice,
    Outlook,
    avoided_reason,
    choose_facility,
    chosen_reason,
    facility_label,
    facility_summary,
    outlook,
    rank,
)
from engine.planning.access import LocationNotAccessible as AccessNotAccessible
from engine.planning.access import walk_access
from engine.planning.itinerary import (
    Itinerary,
    Leg,
    Place,
    PlanResult,
    Point,
    StopRef,
    journeys_to_itineraries,
    stop_place,
)
from engine.planning.options import DEFAULT_PARK_RIDE_WALK_M, PlanOptions

MODES = ("WALK", "BICYCLE", "CAR_PARK", "PARK_AND_RIDE", "BIKE_AND_RIDE", "TRANSIT")
"""Modes of :func:`plan_trip`, in the order their itineraries are built."""

# Reason codes of an empty answer or of a mode left out.
LOCATION_NOT_ACCESSIBLE = "LOCATION_NOT_ACCESSIBLE"
OUTSIDE_BOUNDS = "OUTSIDE_BOUNDS"
OUTSIDE_SERVICE_PERIOD = "OUTSIDE_SERVICE_PERIOD"
NO_TRANSIT_CONNECTION = "NO_TRANSIT_CONNECTION"
NO_PARKING_AVAILABLE = "NO_PARKING_AVAILABLE"
NO_BIKE_PARKING = "NO_BIKE_PARKING"
NO_STREET_NETWORK = "NO_STREET_NETWORK"
NO_ROUTE = "NO_ROUTE"
DOMINATED = "DOMINATED"
NOT_SELECTED = "NOT_SELECTED"

# When no itinerary is left, the answer's code is the first of these among the modes' reasons.
_CODE_PRIORITY = (LOCATION_NOT_ACCESSIBLE, OUTSIDE_SERVICE_PERIOD, NO_PARKING_AVAILABLE,
                  NO_TRANSIT_CONNECTION, NO_BIKE_PARKING, NO_STREET_NETWORK, NO_ROUTE)

LABELS = ("fastest", "fewest transfers", "least walking", "no car park risk")

PARETO_SLACK = (60.0, 0.0, 100.0, 0.05)
"""Differences too small to make an option distinct, per criterion: a minute, no transfer,
100 m of walking, 5 points of parking risk (see :func:`plan_trip`)."""

# ---------------------------------------------------------------------------------------------
# Options and results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModeLeftOut:
    """Why a mode asked for has no itinerary: a reason code, a sentence, and for the car modes
    the facilities avoided (``facility_summary`` dicts with a ``reason``)."""

    code: str
    message: str
    avoided: tuple = ()


class _LeftOut(Exception):
    def __init__(self, code: str, message: str, avoided: tuple = ()):
        super().__init__(message)
        self.reason = ModeLeftOut(code, message, tuple(avoided))


@dataclass(eq=False)
class _Candidate:
    mode: str
    itinerary: Itinerary
    parking_risk: float = 0.0


# ---------------------------------------------------------------------------------------------
# Per-network preparation (cached)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _StopLinks:
    """Walks from facility exits to stops, sorted by facility: (facility, stop, s, m)."""

    facility_idx: np.ndarray     # link -> facility_idx (int32)
    stop_idx: np.ndarray         # link -> stop_idx (int32)
    walk_s: np.ndarray           # link -> seconds at the street graph's walking speed
    walk_m: np.ndarray           # link -> metres


class _NetworkCache:
    def __init__(self):
        self.links: Memo = Memo()          # walk radius (m) -> _StopLinks
        self.car_between: Memo = Memo()    # facility -> drive (s) to every facility


_cache_of = PerObject(lambda network: _NetworkCache())
"""The _NetworkCache of a Network (kept while the network lives)."""


def prepare(network: Network, *, park_ride_walk_m: float = DEFAULT_PARK_RIDE_WALK_M) -> None:
    """Build once what queries would build on first use: the street landmarks and snapping trees
    of every mode, the transit router, and the facility-to-stop walks (for a server's start-up
    and for benchmarks)."""
    if network.street is not None and network.street.n_nodes:
        street.prepare(network.street, tuple(Mode))
    if network.timetable is not None:
        transit.router_for(network.timetable)
    _stop_links(network, park_ride_walk_m)


def warm_up(network: Network) -> None:
    """:func:`prepare`, then plan once with every mode, depart-at and arrive-by, between two
    stops (or two street nodes) on the network's first service day: every numba kernel a plan
    uses is compiled (or loaded from numba's cache) before the first real query, so a server's
    first answer does not wait for the compiler. Whatever the plan answers is ignored."""
    prepare(network)
    tt = network.timetable
    if tt is not None and tt.n_stops >= 2 and tt.service_period_days() is not None:
        served = np.flatnonzero(np.diff(np.asarray(tt.stop_route_offsets)) > 0)
        a, b = (served[0], served[-1]) if served.size >= 2 else (0, tt.n_stops - 1)
        ends = [(float(tt.stop_lon[i]), float(tt.stop_lat[i])) for i in (a, b)]
        day = tt.service_period_days()[0]
    elif network.street is not None and network.street.n_nodes >= 2:
        g = network.street
        ends = [(float(g.node_lon[i]), float(g.node_lat[i])) for i in (0, g.n_nodes - 1)]
        day = int(time.time() // 86_400)
    else:
        return
    noon_utc_s = day * 86_400 + 12 * 3600
    for when in ({"depart_at": noon_utc_s}, {"arrive_by": noon_utc_s}):
        plan_trip(network, ends[0], ends[1], modes=MODES, **when)


def _drive_between(network: Network, profile: street.StreetProfile, facility_idx: np.ndarray
                   ) -> np.ndarray:
    """(n, n) drive times (s) between the car entrances of facilities (inf: no way).

    Rows are cached per network: a facility's row is one car search to every facility's
    entrance, done the first time a query has it among its candidates.
    """
    pk = network.parking
    cache = _cache_of(network)
    nodes = np.asarray(pk.car_node_idx)
    linked = np.flatnonzero(nodes != NO_INDEX)
    rows = []

    def drives_from(f: int) -> np.ndarray:
        row = np.full(pk.n_facilities, np.inf)
        if nodes[f] != NO_INDEX:
            costs = street.one_to_many(network.street, profile, int(nodes[f]), nodes[linked])
            row[linked] = np.where(costs >= street.UNREACHED, np.inf, costs)
        return row

    for f in np.asarray(facility_idx, dtype=np.int64).tolist():
        rows.append(cache.car_between.get(f, lambda f=f: drives_from(f))[facility_idx])
    return np.array(rows).reshape(len(rows), len(facility_idx))


def _served_stops(network: Network) -> np.ndarray:
    tt = network.timetable
    return np.flatnonzero(np.diff(np.asarray(tt.stop_route_offsets)) > 0)


def _stop_links(network: Network, radius_m: float) -> _StopLinks:
    """Stops within ``radius_m`` on foot of each facility's exit (car and bicycle facilities).

    On the streets (one limited search per facility, once per network and radius): street time
    from the facility's walk node to the stop's node, plus the stop's link at walking speed.
    Stops or facilities without a street node: straight line times the detour factor.
    """
    key = float(radius_m)
    return _cache_of(network).links.get(key, lambda: _compute_stop_links(network, key))


def _compute_stop_links(network: Network, radius_m: float) -> _StopLinks:
    pk = network.parking
    tt = network.timetable
    empty = _StopLinks(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0), np.zeros(0))
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
        return _StopLinks(np.concatenate(parts_f), np.concatenate(parts_s), np.concatenate(parts_t),
                          np.concatenate(parts_m))
    return empty


# ---------------------------------------------------------------------------------------------
# Paths out of search trees
# ---------------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _trace_tree(pred_edge, step_node, node, out_edges):
    """Edges from ``node`` to the root of a search tree, following ``pred_edge`` and stepping to
    ``step_node[edge]`` (the tail for a forward tree, the head for a backward one). Returns the
    count written into ``out_edges`` (in the order walked: from ``node`` towards the root)."""
    k = 0
    while pred_edge[node] >= 0 and k < out_edges.shape[0]:
        e = pred_edge[node]
        out_edges[k] = e
        k += 1
        node = step_node[e]
    return k


@numba.njit(cache=True)
def _tree_times(pred_edge, step_node, edge_time_s, root_time_s, targets, out_s):
    """Travel time (s) from the root to each target along a search tree (whose costs may be
    generalized costs): the edge times summed, plus the root's own time offset."""
    for i in range(targets.shape[0]):
        v = targets[i]
        if v < 0:
            out_s[i] = np.inf
            continue
        total = 0.0
        steps = 0
        while pred_edge[v] >= 0 and steps < pred_edge.shape[0]:
            e = pred_edge[v]
            total += edge_time_s[e]
            v = step_node[e]
            steps += 1
        out_s[i] = total + root_time_s[v]


@dataclass(frozen=True)
class _Ends:
    """How a snapped point joins the graph for one profile: nodes and partial costs/times."""

    snap: street.Snap
    nodes: np.ndarray          # the segment's end nodes used (int32)
    cost: np.ndarray           # generalized cost between the point and each node (s)
    time_s: np.ndarray         # travel time between the point and each node (s)
    edge: np.ndarray           # the edge walked for it
    fraction: np.ndarray       # share of that edge


def _ends(graph, profile: street.StreetProfile, s: street.Snap, *, leaving: bool) -> _Ends:
    """The point's links to its segment's ends: as a source (``leaving``) or as a target."""
    cost = street.edge_costs(graph, profile)
    times = street.edge_times(graph, profile)
    tail, head = s.tail_node, s.head_node
    lo, hi = int(graph.indptr[head]), int(graph.indptr[head + 1])
    back = lo + np.flatnonzero(np.asarray(graph.indices[lo:hi]) == tail)
    back = back[np.isfinite(cost[back])]
    fwd = s.edge_idx if math.isfinite(cost[s.edge_idx]) else -1
    bwd = int(back[np.argmin(cost[back])]) if back.size else -1
    f = s.fraction
    nodes, costs, secs, edges, fracs = [], [], [], [], []
    # (node, edge, share): leaving reaches head along fwd and tail along bwd; arriving comes from
    # tail along fwd and from head along bwd.
    pieces = ((head, fwd, 1 - f), (tail, bwd, f)) if leaving else ((tail, fwd, f), (head, bwd, 1 - f))
    for node, e, share in pieces:
        if e >= 0:
            nodes.append(node)
            costs.append(share * cost[e])
            secs.append(share * times[e])
            edges.append(e)
            fracs.append(share)
    return _Ends(s, np.asarray(nodes, dtype=np.int32), np.asarray(costs, dtype=np.float64),
                 np.asarray(secs, dtype=np.float64), np.asarray(edges, dtype=np.int32),
                 np.asarray(fracs, dtype=np.float64))


@dataclass(frozen=True)
class _Tree:
    """A search from a snapped point (forward) or towards it (backward), with its times."""

    graph: object
    profile: street.StreetProfile
    ends: _Ends
    search: street.StreetSearch
    backward: bool

    def times_to(self, nodes: np.ndarray) -> np.ndarray:
        """Travel time (s) between the point and each node (inf when not reached)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        out = np.full(nodes.size, np.inf)
        reached = (nodes >= 0) & np.isfinite(self.search.cost[np.maximum(nodes, 0)])
        if not reached.any():
            return out
        g = self.graph
        root_time = np.full(g.n_nodes, np.inf)
        root_time[self.ends.nodes] = self.ends.time_s
        step = np.asarray(g.indices if self.backward else g.edge_tail, dtype=np.int32)
        times = np.ascontiguousarray(street.edge_times(g, self.profile))
        part = np.empty(int(reached.sum()))
        _tree_times(self.search.pred_edge, step, times, root_time,
                    nodes[reached].astype(np.int32), part)
        out[reached] = part
        return out

    def path(self, node: int) -> _StreetLeg:
        """The path between the point and ``node`` (point first for a forward tree, node first
        for a backward one)."""
        g = self.graph
        step = np.asarray(g.indices if self.backward else g.edge_tail, dtype=np.int32)
        buf = np.empty(max(g.n_nodes, 1), dtype=np.int32)
        k = _trace_tree(self.search.pred_edge, step, int(node), buf)
        edges = buf[:k]
        root = int(step[edges[-1]]) if k else int(node)
        i = int(np.flatnonzero(self.ends.nodes == root)[0])
        if self.backward:        # node -> ... -> root -> point
            order = edges
            nodes = np.r_[int(node), np.asarray(g.indices)[order]] if k else np.array([node])
        else:                    # point -> root -> ... -> node
            order = edges[::-1]
            nodes = np.r_[root, np.asarray(g.indices)[order]] if k else np.array([node])
        lengths = np.asarray(g.edge_length_m)[order]
        times = street.edge_times(g, self.profile)[order]
        part_m = float(self.ends.fraction[i] * g.edge_length_m[self.ends.edge[i]])
        lon, lat = np.asarray(g.node_lon)[nodes], np.asarray(g.node_lat)[nodes]
        s = self.ends.snap
        if self.backward:
            lon, lat = np.r_[lon, s.lon], np.r_[lat, s.lat]
        else:
            lon, lat = np.r_[s.lon, lon], np.r_[s.lat, lat]
        all_edges = np.r_[order, self.ends.edge[i]] if self.backward else np.r_[self.ends.edge[i], order]
        all_m = np.r_[lengths, part_m] if self.backward else np.r_[part_m, lengths]
        return _StreetLeg(lon=lon, lat=lat, length_m=float(lengths.sum()) + part_m,
                          duration_s=float(times.sum()) + float(self.ends.time_s[i]),
                          edges=all_edges.astype(np.int32), edge_m=all_m)


@dataclass(frozen=True)
class _StreetLeg:
    lon: np.ndarray
    lat: np.ndarray
    length_m: float
    duration_s: float
    edges: np.ndarray
    edge_m: np.ndarray


# ---------------------------------------------------------------------------------------------
# The query
# ---------------------------------------------------------------------------------------------
def _as_instant(value, timezone: str) -> int:
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


def _location(network: Network, where, default_name: str) -> Place:
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


def _outside(network: Network, p: Place, margin_m: float) -> bool:
    min_lon, min_lat, max_lon, max_lat = network.bbox
    mx, my = network.projection.metres_per_degree
    return not (min_lon - margin_m / mx <= p.lon <= max_lon + margin_m / mx
                and min_lat - margin_m / my <= p.lat <= max_lat + margin_m / my)


class _Query:
    """Everything one plan_trip call computes once and several modes share."""

    def __init__(self, network: Network, origin: Place, destination: Place, utc_s: int,
                 arrive_by: bool, options: PlanOptions, live, now_utc_s):
        self.network = network
        self.graph = network.street if network.street is not None and network.street.n_nodes else None
        self.origin, self.destination = origin, destination
        self.utc_s, self.arrive_by, self.options = utc_s, arrive_by, options
        self.live, self.now_utc_s = live, now_utc_s
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

    # -- shared pieces, computed on first use -------------------------------------------------
    def memo(self, key, make):
        if key not in self._memo:
            try:
                self._memo[key] = (True, make())
            except _LeftOut as exc:
                self._memo[key] = (False, exc)
        ok, value = self._memo[key]
        if not ok:
            raise value
        return value

    def need_streets(self, what: str):
        if self.graph is None:
            raise _LeftOut(NO_STREET_NETWORK, f"the network has no street graph: no {what}")

    def snap(self, which: str, mode: Mode) -> street.Snap:
        def make():
            self.need_streets(mode.name.lower())
            p = self.origin if which == "origin" else self.destination
            try:
                return street.snap(self.graph, p.lon, p.lat, mode, max_distance_m=self.options.max_snap_m)
            except street.LocationNotAccessible as exc:
                raise _LeftOut(LOCATION_NOT_ACCESSIBLE, f"the {which} {exc}") from None
        return self.memo(("snap", which, mode), make)

    def car_tree(self) -> _Tree:
        """Forward car search from the origin to every car facility entrance."""
        def make():
            s = self.snap("origin", Mode.CAR)
            ends = _ends(self.graph, self.car, s, leaving=True)
            pk = self.network.parking
            targets = _facilities(pk, CAR_KINDS, vehicle=True)
            nodes = np.asarray(pk.car_node_idx)[targets]
            res = street.search(self.graph, self.car, ends.nodes, ends.cost,
                                target_nodes=nodes if nodes.size else None)
            return _Tree(self.graph, self.car, ends, res, backward=False)
        return self.memo("car_tree", make)

    def bike_tree(self, targets: np.ndarray) -> _Tree:
        def make():
            s = self.snap("origin", Mode.BICYCLE)
            ends = _ends(self.graph, self.bike, s, leaving=True)
            res = street.search(self.graph, self.bike, ends.nodes, ends.cost,
                                target_nodes=targets if targets.size else None)
            return _Tree(self.graph, self.bike, ends, res, backward=False)
        return self.memo("bike_tree", make)

    def walk_to_destination_tree(self) -> _Tree:
        """Backward walk search from the destination, within ``max_walk_m``."""
        def make():
            s = self.snap("destination", Mode.WALK)
            ends = _ends(self.graph, self.walk, s, leaving=False)
            limit = self.options.max_walk_m / self.options.walk_speed_mps
            res = street.search(self.graph, self.walk, ends.nodes, ends.cost, max_cost=limit,
                                reverse=True)
            return _Tree(self.graph, self.walk, ends, res, backward=True)
        return self.memo("walk_tree", make)

    def router(self) -> transit.TransitRouter:
        def make():
            tt = self.network.timetable
            if tt is None:
                raise _LeftOut(NO_TRANSIT_CONNECTION, "the network has no timetable")
            router = transit.router_for(tt)
            try:
                router.check_day(self.day)
            except transit.OutsideServicePeriod as exc:
                raise _LeftOut(OUTSIDE_SERVICE_PERIOD, str(exc)) from None
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
                               walk_speed_mps=o.walk_speed_mps, max_snap_m=o.max_snap_m)
        except AccessNotAccessible as exc:
            raise _LeftOut(LOCATION_NOT_ACCESSIBLE, f"the {which} {exc}") from None

    # -- times ----------------------------------------------------------------------------------
    def utc(self, service_s) -> np.ndarray:
        return self.ref_utc_s + np.asarray(service_s, dtype=np.int64)

    def span(self, duration_s: float) -> tuple[int, int]:
        """(start, end) of a single-leg trip of ``duration_s`` at the query time."""
        d = int(math.ceil(duration_s - 1e-9))
        return (self.time_s - d, self.time_s) if self.arrive_by else (self.time_s, self.time_s + d)


def _facilities(parking, kinds, *, vehicle: bool) -> np.ndarray:
    """facility_idx of the given kinds linked to the streets (vehicle node and walk node)."""
    kind = np.asarray(parking.kind)
    ok = np.isin(kind, [int(k) for k in kinds]) & (np.asarray(parking.walk_node_idx) != NO_INDEX)
    if vehicle:
        ok &= np.asarray(parking.car_node_idx) != NO_INDEX
    return np.flatnonzero(ok)


# ---------------------------------------------------------------------------------------------
# Legs
# ---------------------------------------------------------------------------------------------
def _leg(mode: str, a: Place, b: Place, start_s: int, end_s: int, sl: _StreetLeg | None = None,
         *, distance_m: float | None = None, lon=None, lat=None, extra: dict | None = None) -> Leg:
    if sl is not None:
        lon, lat, distance_m = sl.lon, sl.lat, sl.length_m
    if lon is None:
        lon, lat = np.array([a.lon, b.lon]), np.array([a.lat, b.lat])
    return Leg(mode=mode, from_place=a, to_place=b, start_s=int(start_s), end_s=int(end_s),
               distance_m=float(distance_m or 0.0), geometry_lon=np.asarray(lon, dtype=np.float64),
               geometry_lat=np.asarray(lat, dtype=np.float64), extra=extra or {})


def _secs(x: float) -> int:
    return int(math.ceil(float(x) - 1e-9))


def _facility_place(network: Network, f: int) -> Place:
    pk = network.parking
    return Place(name=facility_label(pk, f), lon=float(pk.lon[f]), lat=float(pk.lat[f]),
                 parking_id=str(pk.facility_ids[f]))


def _node_place(graph, node: int, name: str) -> Place:
    return Place(name=name, lon=float(graph.node_lon[node]), lat=float(graph.node_lat[node]))


def _bike_lane_share(graph, sl: _StreetLeg) -> float:
    if sl.length_m <= 0 or sl.edges.size == 0:
        return 0.0
    lanes = np.asarray(graph.edge_is_bike_lane)[sl.edges]
    return float(np.sum(sl.edge_m[lanes]) / max(np.sum(sl.edge_m), 1e-9))


def _walk_stop_path(q: _Query, f: int, stop: int, walk_m_fallback: float
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
        p = street.shortest_path(g, q.walk, node, s_node)
        if p is not None:
            off = float(np.asarray(net.stop_walk_offset_m)[stop])
            return np.r_[f_lon, p.lon, s_lon], np.r_[f_lat, p.lat, s_lat], float(p.length_m) + off
    return np.array([f_lon, s_lon]), np.array([f_lat, s_lat]), float(walk_m_fallback)


# ---------------------------------------------------------------------------------------------
# Modes
# ---------------------------------------------------------------------------------------------
def _walk_mode(q: _Query) -> list[_Candidate]:
    o, d = q.origin, q.destination
    if q.graph is None:
        metres = float(haversine_m(o.lon, o.lat, d.lon, d.lat)) * q.network.walk_detour_factor
        start, end = q.span(metres / q.options.walk_speed_mps)
        return [_Candidate("WALK", Itinerary(q.day, (_leg("WALK", o, d, start, end, distance_m=metres),)))]
    path = street.route(q.graph, q.snap("origin", Mode.WALK), q.snap("destination", Mode.WALK), q.walk)
    if path is None:
        raise _LeftOut(NO_ROUTE, "no walking path joins the origin and the destination")
    start, end = q.span(path.duration_s)
    leg = _leg("WALK", o, d, start, end, distance_m=path.length_m, lon=path.lon, lat=path.lat)
    return [_Candidate("WALK", Itinerary(q.day, (leg,)))]


def _bicycle_mode(q: _Query) -> list[_Candidate]:
    q.need_streets("cycling")
    path = street.route(q.graph, q.snap("origin", Mode.BICYCLE), q.snap("destination", Mode.BICYCLE),
                        q.bike)
    if path is None:
        raise _LeftOut(NO_ROUTE, "no cycling path joins the origin and the destination")
    start, end = q.span(path.duration_s)
    lanes = np.asarray(q.graph.edge_is_bike_lane)[np.asarray(path.edge_idx)]
    seg_m = np.asarray(q.graph.edge_length_m)[np.asarray(path.edge_idx)] * np.asarray(path.edge_fraction)
    share = float(seg_m[lanes].sum() / seg_m.sum()) if seg_m.sum() > 0 else 0.0
    leg = _leg("BICYCLE", q.origin, q.destination, start, end, distance_m=path.length_m, lon=path.lon,
               lat=path.lat, extra={"bike_lane_share": round(share, 3)})
    return [_Candidate("BICYCLE", Itinerary(q.day, (leg,)))]


def _avoided_entry(q: _Query, choice: FacilityChoice, row: int) -> dict:
    pk = q.network.parking
    return {**facility_summary(pk, choice, row, q.tz),
            "reason": avoided_reason(pk, choice.outlook, row, q.tz,
                                     min_p_free=q.options.parking.min_p_free)}


def _parking_object(q: _Query, choice: FacilityChoice, row: int, *, avoided_rows=None,
                    fallback_row: int = NO_CHOICE, return_trip: str | None = None) -> dict:
    pk = q.network.parking
    obj = facility_summary(pk, choice, row, q.tz)
    obj["why"] = chosen_reason(pk, choice.outlook, row, choice.walk_s[row])
    rows = choice.listed_avoided if avoided_rows is None else avoided_rows
    obj["avoided"] = [_avoided_entry(q, choice, int(r)) for r in rows]
    if fallback_row != NO_CHOICE:
        fb = facility_summary(pk, choice, fallback_row, q.tz)
        a = int(pk.car_node_idx[choice.facility_idx[row]])
        b = int(pk.car_node_idx[choice.facility_idx[fallback_row]])
        drive = street.one_to_one(q.graph, q.car, a, b)
        fb["drive_from_chosen_s"] = round(drive, 1) if math.isfinite(drive) else None
        fb["reason"] = chosen_reason(pk, choice.outlook, fallback_row, choice.walk_s[fallback_row])
        obj["fallback"] = fb
    else:
        obj["fallback"] = None
    if return_trip:
        obj["return_trip"] = return_trip
    return obj


def _car_park_mode(q: _Query) -> list[_Candidate]:
    q.need_streets("driving")
    net = q.network
    pk = net.parking
    fac = _facilities(pk, CAR_KINDS, vehicle=True)
    if fac.size == 0:
        raise _LeftOut(NO_PARKING_AVAILABLE, "the network has no car park linked to the streets")
    car = q.car_tree()
    walk = q.walk_to_destination_tree()
    drive_s = car.times_to(np.asarray(pk.car_node_idx)[fac])
    walk_s = walk.times_to(np.asarray(pk.walk_node_idx)[fac])
    kw = ({"arrive_by_utc_s": q.utc_s} if q.arrive_by else {"depart_utc_s": q.utc_s})
    near = np.isfinite(drive_s) & np.isfinite(walk_s)
    between = np.full((fac.size, fac.size), np.inf)
    between[np.ix_(near, near)] = _drive_between(net, q.car, fac[near])
    choice = choose_facility(pk, fac, drive_s, walk_s, policy=q.options.parking, live=q.live,
                             now_utc_s=q.now_utc_s, drive_between_s=between, **kw)
    if choice.n_candidates == 0:
        raise _LeftOut(NO_PARKING_AVAILABLE, f"no car park within {q.options.max_walk_m:,.0f} m on "
                       "foot of the destination is reachable by car")
    if choice.chosen == NO_CHOICE:
        rows = np.flatnonzero(choice.avoided)
        rows = rows[np.argsort(choice.walk_s[rows], kind="stable")]
        avoided = tuple(_avoided_entry(q, choice, int(r)) for r in rows)
        names = "; ".join(a["reason"] for a in avoided[:3])
        raise _LeftOut(NO_PARKING_AVAILABLE, f"every car park within {q.options.max_walk_m:,.0f} m "
                       f"of the destination is likely full on arrival: {names}", avoided)
    row = choice.chosen
    f = int(choice.facility_idx[row])
    car_node, walk_node = int(pk.car_node_idx[f]), int(pk.walk_node_idx[f])
    drive_leg, walk_leg = car.path(car_node), walk.path(walk_node)
    search_s = float(choice.outlook.expected_search_s[row])
    park_s = q.options.parking.park_s
    d_drive, d_park = _secs(drive_leg.duration_s), _secs(search_s + park_s)
    d_walk = _secs(walk_leg.duration_s)
    if q.arrive_by:
        t3 = q.time_s
        t0 = t3 - d_walk - d_park - d_drive
    else:
        t0 = q.time_s
    t1, t2 = t0 + d_drive, t0 + d_drive + d_park
    t3 = t2 + d_walk
    place = _facility_place(net, f)
    entrance = _node_place(q.graph, car_node, f"{place.name} (entrance)")
    parking = _parking_object(q, choice, row, fallback_row=choice.fallback)
    legs = (
        _leg("CAR", q.origin, entrance, t0, t1, drive_leg, extra={"parking_id": place.parking_id}),
        _leg("PARK", entrance, place, t1, t2, lon=[entrance.lon, place.lon], lat=[entrance.lat, place.lat],
             extra={"parking": parking}),
        _leg("WALK", place, q.destination, t2, t3, distance_m=walk_leg.length_m,
             lon=np.r_[place.lon, walk_leg.lon], lat=np.r_[place.lat, walk_leg.lat]),
    )
    risk = 1.0 - float(choice.outlook.p_free[row])
    return [_Candidate("CAR_PARK", Itinerary(q.day, legs), parking_risk=risk)]


def _replace_access(q: _Query, it: Itinerary, access_stop: int, access_s: int, first_legs: list[Leg]
                    ) -> Itinerary:
    """Swap the itinerary's access walk (origin -> stop, maybe merged with a footpath) for
    ``first_legs`` (vehicle, park, walk to ``access_stop``); ``access_s`` is the access time
    RAPTOR was given for that stop."""
    legs = list(it.legs)
    head = legs[0]
    tail_walk = None
    if head.mode == "WALK" and head.from_place is q.origin:
        legs = legs[1:]
        if head.to_place.stop_idx != access_stop:    # the access walk merged with a footpath
            tail_walk = head
    last = first_legs[-1]
    if tail_walk is not None:
        footpath_s = max(head.duration_s - int(access_s), 0)
        extra_m = float(head.distance_m)
        last = Leg(mode="WALK", from_place=last.from_place, to_place=tail_walk.to_place,
                   start_s=last.start_s, end_s=last.end_s + footpath_s,
                   distance_m=last.distance_m + extra_m,
                   geometry_lon=np.r_[last.geometry_lon, tail_walk.geometry_lon[2:]],
                   geometry_lat=np.r_[last.geometry_lat, tail_walk.geometry_lat[2:]])
    first = [*first_legs[:-1], last]
    board = legs[0].start_s if legs else first[-1].end_s
    if q.arrive_by:   # run backwards from the first ride
        shift = board - first[-1].end_s
        first = [dataclasses.replace(leg, start_s=leg.start_s + shift, end_s=leg.end_s + shift)
                 for leg in first]
    return Itinerary(it.service_day, tuple(first + legs))


def _transit_journeys(q: _Query, access, *, window_s: int = 0):
    router = q.router()
    egress = q.egress().access
    try:
        return router.search(access, egress, q.day, q.time_s, options=q.transit_opts,
                             window_s=window_s, arrive_by=q.arrive_by)
    except transit.OutsideServicePeriod as exc:
        raise _LeftOut(OUTSIDE_SERVICE_PERIOD, str(exc)) from None


def _transit_mode(q: _Query) -> list[_Candidate]:
    q.router()
    acc = q.access()
    egress = q.egress()
    js = _transit_journeys(q, acc.access, window_s=q.options.window_s)
    if js.n_journeys == 0:
        raise _LeftOut(NO_TRANSIT_CONNECTION, _no_connection(q, "walking to and from the stops"))
    its = journeys_to_itineraries(q.network, js, q.origin, q.destination, origin_walk=acc,
                                  destination_walk=egress, walk_speed_mps=q.options.walk_speed_mps)
    return [_Candidate("TRANSIT", it) for it in its]


def _no_connection(q: _Query, how: str) -> str:
    when = "arriving by" if q.arrive_by else "leaving at"
    hhmm = dt.datetime.fromtimestamp(q.utc_s, tz=zoneinfo.ZoneInfo(q.tz)).strftime("%Y-%m-%d %H:%M")
    return f"no transit connection {how} {when} {hhmm}"


def _best_access(links_stop, access_s, n_stops):
    """Per stop, the least access time and the link giving it: (stops, seconds, link rows)."""
    ok = np.isfinite(access_s)
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int64)
    order = rows[np.lexsort((rows, access_s[rows]))]
    stops, first = np.unique(links_stop[order], return_index=True)
    pick = order[first]
    secs = np.ceil(access_s[pick] - 1e-9).astype(np.int32)
    return stops.astype(np.int32), secs, pick


def _park_and_ride_mode(q: _Query) -> list[_Candidate]:
    q.need_streets("driving")
    q.router()
    net, pk = q.network, q.network.parking
    o = q.options
    l_stop, l_walk_s, l_walk_m, fac, inverse = _ride_links(q, CAR_KINDS)
    if l_stop.size == 0:
        raise _LeftOut(NO_PARKING_AVAILABLE, f"no car park lies within {o.park_ride_walk_m:,.0f} m "
                       "on foot of a stop (and farther from the destination)")
    car = q.car_tree()
    drive_s = car.times_to(np.asarray(pk.car_node_idx)[fac])
    reachable = np.isfinite(drive_s)
    if not reachable.any():
        raise _LeftOut(NO_PARKING_AVAILABLE, "no park-and-ride car park is reachable by car")
    policy = o.parking

    def access_for(depart_utc_s: int):
        view = outlook(pk, fac, depart_utc_s + np.round(np.where(reachable, drive_s, 0)).astype(np.int64),
                       policy=policy, live=q.live, now_utc_s=q.now_utc_s)
        usable = reachable & (view.p_free >= policy.min_p_free)
        per_fac = np.where(usable, drive_s + view.expected_search_s + policy.park_s, np.inf)
        stops, secs, pick = _best_access(l_stop, per_fac[inverse] + l_walk_s, net.timetable.n_stops)
        return view, usable, stops, secs, pick

    if q.arrive_by:   # pass 1: no search time, to learn when to leave
        per_fac = np.where(reachable, drive_s + policy.park_s, np.inf)
        stops, secs, _ = _best_access(l_stop, per_fac[inverse] + l_walk_s, net.timetable.n_stops)
        if stops.size == 0:
            raise _LeftOut(NO_PARKING_AVAILABLE, "no park-and-ride car park is reachable by car")
        js = _transit_journeys(q, (stops, secs))
        if js.n_journeys == 0:
            raise _LeftOut(NO_TRANSIT_CONNECTION, _no_connection(q, "from a park-and-ride"))
        depart_utc = int(q.utc(int(np.max(js.depart_s))))
    else:
        depart_utc = q.utc_s
    view, usable, stops, secs, pick = access_for(depart_utc)
    if stops.size == 0:
        rows = np.flatnonzero(reachable & ~usable)
        names = "; ".join(avoided_reason(pk, view, int(r), q.tz, min_p_free=policy.min_p_free)
                          for r in rows[:3])
        raise _LeftOut(NO_PARKING_AVAILABLE, f"every park-and-ride car park is likely full on "
                       f"arrival: {names}")
    js = _transit_journeys(q, (stops, secs))
    if js.n_journeys == 0:
        raise _LeftOut(NO_TRANSIT_CONNECTION, _no_connection(q, "from a park-and-ride"))
    access_of_stop = dict(zip(stops.tolist(), secs.tolist(), strict=True))
    link_of_stop = dict(zip(stops.tolist(), pick.tolist(), strict=True))
    egress = q.egress()
    its = journeys_to_itineraries(net, js, q.origin, q.destination, origin_walk=None,
                                  destination_walk=egress, walk_speed_mps=o.walk_speed_mps)
    direct_walk_s = _walk_to_destination_s(q, np.asarray(pk.walk_node_idx)[fac])
    out = []
    for j, it in enumerate(its):
        s = int(js.leg_to_stop[js.leg_offsets[j]])
        link = link_of_stop[s]
        row = int(inverse[link])
        f = int(fac[row])
        walk_here_s = float(l_walk_s[link])
        choice = _pr_choice(fac, drive_s, view, policy, l_stop, l_walk_s, inverse, s)
        crow = int(np.flatnonzero(choice.facility_idx == f)[0])
        car_node = int(pk.car_node_idx[f])
        drive_leg = car.path(car_node)
        place = _facility_place(net, f)
        entrance = _node_place(q.graph, car_node, f"{place.name} (entrance)")
        d_drive = _secs(drive_leg.duration_s)
        d_park = _secs(float(view.expected_search_s[row]) + policy.park_s)
        # the walk absorbs the rounding, so that the legs take exactly the access time given
        d_walk = max(access_of_stop[s] - d_drive - d_park, 0) if walk_here_s > 0 else 0
        t0 = q.time_s if not q.arrive_by else 0
        t1, t2 = t0 + d_drive, t0 + d_drive + d_park
        stop_p = stop_place(net, s)
        lon, lat, metres = _walk_stop_path(q, f, s, float(l_walk_m[link]))
        note = (f"The car stays at {place.name}: the return trip must come back to it "
                f"(by transit to {stop_p.name}, then on foot).")
        parking = _parking_object(q, choice, crow, fallback_row=choice.fallback, return_trip=note)
        first = [
            _leg("CAR", q.origin, entrance, t0, t1, drive_leg, extra={"parking_id": place.parking_id}),
            _leg("PARK", entrance, place, t1, t2, lon=[entrance.lon, place.lon],
                 lat=[entrance.lat, place.lat], extra={"parking": parking}),
            _leg("WALK", place, stop_p, t2, t2 + d_walk, distance_m=metres, lon=lon, lat=lat),
        ]
        it2 = _replace_access(q, it, s, access_of_stop[s], first)
        if direct_walk_s[row] <= it2.end_s - it2.legs[1].end_s:
            continue   # walking from the car park is as quick: that is the CAR_PARK itinerary
        risk = 1.0 - float(view.p_free[row])
        out.append(_Candidate("PARK_AND_RIDE", it2, parking_risk=risk))
    if not out:
        raise _LeftOut(DOMINATED, "walking from the car park is as quick as riding on from it: "
                       "see CAR_PARK")
    return out


def _walk_to_destination_s(q: _Query, walk_nodes: np.ndarray) -> np.ndarray:
    """Walking time (s) from each node to the destination within max_walk_m, inf beyond."""
    try:
        return q.walk_to_destination_tree().times_to(walk_nodes)
    except _LeftOut:
        return np.full(np.shape(walk_nodes), np.inf)


def _ride_links(q: _Query, kinds) -> tuple[np.ndarray, ...]:
    """Facility -> stop walks usable for park-and-ride (``kinds``: car or bicycle facilities):
    (stop, walk s at the traveller's speed, walk m, unique facilities, link -> facility row).

    A link is left out when walking straight from the facility to the destination takes no
    longer than walking to the stop plus the shortest walk from any stop to the destination:
    riding on from it cannot be quicker (a car park next to the destination is CAR_PARK's).
    """
    net, pk, o = q.network, q.network.parking, q.options
    links = _stop_links(net, o.park_ride_walk_m)
    fac_ok = np.zeros(pk.n_facilities, dtype=bool)
    fac_ok[_facilities(pk, kinds, vehicle=True)] = True
    keep = np.flatnonzero(fac_ok[links.facility_idx])
    speed = q.graph.walk_speed_mps if q.graph is not None else transit.DEFAULT_WALK_SPEED_MPS
    walk_s = links.walk_s[keep] * (speed / o.walk_speed_mps)
    egress = q.egress()
    egress_min_s = float(np.min(egress.seconds)) if egress.seconds.size else np.inf
    direct_s = _walk_to_destination_s(q, np.asarray(pk.walk_node_idx)[links.facility_idx[keep]])
    useful = direct_s > walk_s + egress_min_s
    keep, walk_s = keep[useful], walk_s[useful]
    fac, inverse = np.unique(links.facility_idx[keep], return_inverse=True)
    return links.stop_idx[keep], walk_s, links.walk_m[keep], fac, inverse


def _pr_choice(fac, drive_s, view: Outlook, policy, l_stop, l_walk_s, inverse, stop) -> FacilityChoice:
    """The facilities serving one stop, ranked as for CAR_PARK with the walk to that stop: the
    words (facilities passed over, fallback) of a park-and-ride itinerary."""
    rows = np.flatnonzero(l_stop == stop)
    frow = inverse[rows]
    ok = np.isfinite(drive_s[frow])
    rows, frow = rows[ok], frow[ok]
    sub = Outlook(*(np.asarray(getattr(view, name))[frow] for name in
                    ("facility_idx", "arrive_utc_s", "p_free", "expected_free", "occupancy",
                     "expected_search_s", "basis")))
    return rank(sub, drive_s[frow], l_walk_s[rows], policy=policy)


def _bike_and_ride_mode(q: _Query) -> list[_Candidate]:
    net, pk = q.network, q.network.parking
    kinds = np.asarray(pk.kind)
    if not np.isin(kinds, [int(k) for k in BIKE_KINDS]).any():
        raise _LeftOut(NO_BIKE_PARKING, "the network has no bicycle parking or bike-share station")
    q.need_streets("cycling")
    q.router()
    o = q.options
    l_stop, l_walk_s, l_walk_m, fac, inverse = _ride_links(q, BIKE_KINDS)
    if l_stop.size == 0:
        raise _LeftOut(NO_BIKE_PARKING, f"no bicycle parking lies within {o.park_ride_walk_m:,.0f} m "
                       "on foot of a stop (and farther from the destination)")
    nodes = np.asarray(pk.car_node_idx)[fac]
    bike = q.bike_tree(nodes.astype(np.int32))
    ride_s = bike.times_to(nodes)
    if not np.isfinite(ride_s).any():
        raise _LeftOut(NO_BIKE_PARKING, "no bicycle parking near a stop is reachable by bicycle")
    stops, secs, pick = _best_access(l_stop, ride_s[inverse] + o.bike_lock_s + l_walk_s,
                                     net.timetable.n_stops)
    js = _transit_journeys(q, (stops, secs))
    if js.n_journeys == 0:
        raise _LeftOut(NO_TRANSIT_CONNECTION, _no_connection(q, "from a bicycle parking"))
    access_of_stop = dict(zip(stops.tolist(), secs.tolist(), strict=True))
    link_of_stop = dict(zip(stops.tolist(), pick.tolist(), strict=True))
    its = journeys_to_itineraries(net, js, q.origin, q.destination, origin_walk=None,
                                  destination_walk=q.egress(), walk_speed_mps=o.walk_speed_mps)
    direct_walk_s = _walk_to_destination_s(q, np.asarray(pk.walk_node_idx)[fac])
    out = []
    for j, it in enumerate(its):
        s = int(js.leg_to_stop[js.leg_offsets[j]])
        link = link_of_stop[s]
        f = int(fac[inverse[link]])
        node = int(pk.car_node_idx[f])
        ride = bike.path(node)
        place = _facility_place(net, f)
        arrive = _node_place(q.graph, node, place.name)
        d_ride, d_lock = _secs(ride.duration_s), _secs(o.bike_lock_s)
        d_walk = max(access_of_stop[s] - d_ride - d_lock, 0)
        t0 = q.time_s if not q.arrive_by else 0
        t1, t2 = t0 + d_ride, t0 + d_ride + d_lock
        stop_p = stop_place(net, s)
        lon, lat, metres = _walk_stop_path(q, f, s, float(l_walk_m[link]))
        lock = {"facility_id": place.parking_id, "name": place.name,
                "kind": ParkingKind(int(pk.kind[f])).name, "lock_s": d_lock,
                "return_trip": f"The bicycle stays at {place.name}: the return trip must come back "
                               "to it."}
        first = [
            _leg("BICYCLE", q.origin, arrive, t0, t1, ride,
                 extra={"bike_lane_share": round(_bike_lane_share(q.graph, ride), 3)}),
            _leg("PARK", arrive, place, t1, t2, lon=[arrive.lon, place.lon], lat=[arrive.lat, place.lat],
                 extra={"bike_parking": lock}),
            _leg("WALK", place, stop_p, t2, t2 + d_walk, distance_m=metres, lon=lon, lat=lat),
        ]
        it2 = _replace_access(q, it, s, access_of_stop[s], first)
        if direct_walk_s[inverse[link]] <= it2.end_s - it2.legs[1].end_s:
            continue   # walking from the bicycle parking is as quick as riding on
        out.append(_Candidate("BIKE_AND_RIDE", it2))
    if not out:
        raise _LeftOut(DOMINATED, "walking on from the bicycle parking is as quick as riding on "
                       "from it")
    return out


def car_park_times(network: Network, origin, destination, *, options: PlanOptions | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(facility_idx, drive_s, walk_s) of every car facility linked to the streets: the drive
    from the origin to its entrance and the walk from it to the destination (inf beyond
    ``max_walk_m``), exactly as CAR_PARK measures them (for benchmarks and comparisons).
    Raises ValueError when the network has no streets or a point is not accessible."""
    options = options or PlanOptions()
    q = _Query(network, _location(network, origin, "Origin"),
               _location(network, destination, "Destination"), 0, False, options, None, None)
    try:
        fac = _facilities(network.parking, CAR_KINDS, vehicle=True)
        drive = q.car_tree().times_to(np.asarray(network.parking.car_node_idx)[fac])
        walk = q.walk_to_destination_tree().times_to(np.asarray(network.parking.walk_node_idx)[fac])
    except _LeftOut as exc:
        raise ValueError(exc.reason.message) from None
    return fac, drive, walk


_MODE_BUILDERS = {"WALK": _walk_mode, "BICYCLE": _bicycle_mode, "CAR_PARK": _car_park_mode,
                  "PARK_AND_RIDE": _park_and_ride_mode, "BIKE_AND_RIDE": _bike_and_ride_mode,
                  "TRANSIT": _transit_mode}


# ---------------------------------------------------------------------------------------------
# Pareto filter and labels
# ---------------------------------------------------------------------------------------------
def _active_m(it) -> float:
    """Metres the traveller covers under their own power: walking plus cycling."""
    cycled = sum(float(leg.distance_m) for leg in it.legs if leg.mode == "BICYCLE")
    return float(it.walk_distance_m) + cycled


def _criteria(c: _Candidate, arrive_by: bool, window: bool) -> tuple[float, ...]:
    """(arrival, or minus the departure for arrive-by; transfers; walking and cycling m; parking
    risk), all to minimise; with a transit window, the other end of the trip too (a later
    departure, an earlier arrival), so that the departures of the window are not dominated by
    the first. Cycling counts with walking as effort: were it free, a bicycle would dominate
    nearly every option in a compact city and a driver asking to compare would see only it."""
    it = c.itinerary
    time_key = -it.start_s if arrive_by else it.end_s
    keys = (float(time_key), float(it.transfers), round(_active_m(it), 1),
            round(float(c.parking_risk), 3))
    if window:
        keys += (float(it.end_s if arrive_by else -it.start_s),)
    return keys


def _dominates(a, b) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


def _near_dominates(a, b, slack) -> bool:
    """a is within the slack of b on every criterion and at least as good on one: b adds
    nothing distinct (a equal to b counts)."""
    return (all(x <= y + e for x, y, e in zip(a, b, slack, strict=True))
            and any(x <= y for x, y in zip(a, b, strict=True)))


def _signature(c: _Candidate) -> tuple:
    return (c.mode,) + tuple((leg.mode, leg.trip_id, leg.from_place.name, leg.to_place.name,
                              leg.start_s, leg.end_s) for leg in c.itinerary.legs)


def _select(candidates: list[_Candidate], *, arrive_by: bool, window: bool, num_itineraries: int
            ) -> tuple[list[tuple[_Candidate, tuple[str, ...]]], dict]:
    """(kept candidates with their labels, {mode: (code, dominating mode)} for the others)."""
    unique: dict = {}
    for c in candidates:
        unique.setdefault(_signature(c), c)
    cands = list(unique.values())
    keys = [_criteria(c, arrive_by, window) for c in cands]
    front = [i for i, k in enumerate(keys)
             if not any(_dominates(keys[j], k) for j in range(len(cands)) if j != i)]
    # distinct options: going through the front from the fastest, an option within the slack of
    # one already kept on every criterion (and worse on one) is a near-duplicate of it
    slack = PARETO_SLACK + ((PARETO_SLACK[0],) if window else ())
    pareto: list[int] = []
    for i in sorted(front, key=lambda i: keys[i]):
        if not any(_near_dominates(keys[j], keys[i], slack) for j in pareto):
            pareto.append(i)
    labels: dict[int, list[str]] = {i: [] for i in pareto}
    if pareto:
        def best(key, among):
            return min(among, key=key)
        labels[best(lambda i: (keys[i][0], keys[i][1], keys[i][2], keys[i][3]), pareto)].append("fastest")
        labels[best(lambda i: (keys[i][1], keys[i][0], keys[i][2], keys[i][3]), pareto)].append(
            "fewest transfers")
        labels[best(lambda i: (keys[i][2], keys[i][0], keys[i][1], keys[i][3]), pareto)].append(
            "least walking")
        risky = [i for i in pareto if keys[i][3] > 0]
        safe = [i for i in pareto if keys[i][3] == 0]
        if risky and safe:
            labels[best(lambda i: (keys[i][0], keys[i][1], keys[i][2]), safe)].append("no car park risk")
    labelled = [i for i in pareto if labels[i]]
    labelled.sort(key=lambda i: min(LABELS.index(lab) for lab in labels[i]))
    rest = sorted((i for i in pareto if not labels[i]), key=lambda i: keys[i])
    chosen = (labelled + rest)[:num_itineraries]
    chosen.sort(key=lambda i: keys[i])
    kept = [(cands[i], tuple(labels[i])) for i in chosen]
    kept_modes = {cands[i].mode for i in chosen}
    in_front = {cands[i].mode for i in pareto}
    why: dict = {}
    for i, c in enumerate(cands):
        if c.mode in kept_modes or c.mode in why:
            continue
        if c.mode in in_front:
            why[c.mode] = (NOT_SELECTED, None)
            continue
        # dominated, or a near-duplicate of one kept
        by = next((j for j in pareto if _near_dominates(keys[j], keys[i], slack)), None)
        why[c.mode] = (DOMINATED, cands[by].mode if by is not None else None)
    return kept, why


# ---------------------------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------------------------
def _parse_modes(modes) -> tuple[str, ...]:
    if isinstance(modes, str):
        modes = modes.split(",")
    out: list[str] = []
    for m in modes:
        name = str(m).strip().upper()
        if not name:
            continue
        if name not in MODES:
            raise ValueError(f"plan_trip: unknown mode {m!r}; modes are {', '.join(MODES)}")
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError("plan_trip: no mode given")
    return tuple(out)


def plan_trip(network: Network, origin, destination, *, depart_at=None, arrive_by=None,
              modes: Iterable[str] | str = MODES, options: PlanOptions | None = None,
              live: LiveObservations | None = None, now_utc_s: int | None = None) -> PlanResult:
    """Itineraries from ``origin`` to ``destination`` in the ``modes`` asked, best few first.

    ``origin``/``destination``: an ``engine.planning.itinerary.Point``, a ``StopRef`` (the stop's
    position) or a (lon, lat) tuple in WGS84 degrees. Give exactly one of ``depart_at`` and
    ``arrive_by``: epoch seconds (UTC) or a datetime (naive = local time of the network).
    ``live``/``now_utc_s``: live parking observations and the current instant, passed to the
    forecast. Returns a PlanResult whose itineraries carry the planner mode and labels; an empty
    answer has a reason code and every mode left out its reason (module docstring).
    Raises ValueError/TypeError for arguments no user input should produce (unknown mode, both
    or neither time given, a malformed location).
    """
    options = options or PlanOptions()
    modes = _parse_modes(modes)
    if (depart_at is None) == (arrive_by is None):
        raise ValueError("plan_trip: give exactly one of depart_at and arrive_by")
    tz = network.timezone
    utc_s = _as_instant(depart_at if arrive_by is None else arrive_by, tz)
    try:
        o_place = _location(network, origin, "Origin")
        d_place = _location(network, destination, "Destination")
    except transit.UnknownStop as exc:
        return PlanResult((), tz, exc.code, str(exc))
    for which, p in (("origin", o_place), ("destination", d_place)):
        if _outside(network, p, options.bbox_margin_m):
            msg = (f"the {which} (lat {p.lat:.5f}, lon {p.lon:.5f}) lies outside the area this "
                   "network covers")
            return PlanResult((), tz, OUTSIDE_BOUNDS, msg,
                              left_out={m: ModeLeftOut(OUTSIDE_BOUNDS, msg) for m in modes})
    q = _Query(network, o_place, d_place, utc_s, arrive_by is not None, options, live, now_utc_s)
    candidates: list[_Candidate] = []
    left_out: dict[str, ModeLeftOut] = {}
    for mode in modes:
        try:
            found = _MODE_BUILDERS[mode](q)
        except _LeftOut as exc:
            left_out[mode] = exc.reason
            continue
        candidates.extend(found)
    kept, why = _select(candidates, arrive_by=q.arrive_by, window=options.window_s > 0,
                        num_itineraries=options.num_itineraries)
    for mode, (code, dom) in why.items():
        if code == DOMINATED:
            msg = (f"every {mode} itinerary is dominated by the {dom} one: it "
                   + ("leaves no later" if q.arrive_by else "arrives no earlier")
                   + ", with no fewer transfers, no less walking or cycling and no less parking risk "
                   "(or "
                   "by less than a minute, 100 m of walking and 5 points of risk)")
        else:
            msg = f"{mode} is among the best options but beyond the {options.num_itineraries} asked for"
        left_out[mode] = ModeLeftOut(code, msg)
    itineraries = tuple(dataclasses.replace(c.itinerary, mode=c.mode, labels=labels,
                                            parking_risk=round(c.parking_risk, 3))
                        for c, labels in kept)
    left_out = {m: left_out[m] for m in modes if m in left_out}
    if itineraries:
        return PlanResult(itineraries, tz, left_out=left_out)
    codes = [r.code for r in left_out.values()]
    code = next((c for c in _CODE_PRIORITY if c in codes), codes[0] if codes else NO_ROUTE)
    message = "; ".join(f"{m}: {r.message}" for m, r in left_out.items())
    return PlanResult((), tz, code, message, left_out=left_out)
