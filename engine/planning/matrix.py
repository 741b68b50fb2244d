"""Travel-time matrices: many origins to many destinations, by walking, cycling, car + parking, transit.

:func:`travel_time_matrix` answers "how long from each origin to each destination, leaving at
this time" (a long table in the API, like r5py's ``TravelTimeMatrix``), optionally for every
minute of a departure window, summarised by percentiles. Modes:

* ``WALK``, ``BICYCLE``: one street search per origin (``engine.street.search`` from both ends
  of the origin's snapped segment, partial edge costs as :func:`engine.street.point_costs`
  counts them), then every destination read off the search tree. As in the planner's
  itineraries, the stretches between each point and the street it snapped to are walked
  straight at ``walk_speed_mps`` (pushing the bike) and count in every time, car park drives
  and walks included. With a bike-lane preference
  the search minimises generalized cost and the time is the travel time along that path.
  When the street graph has its contraction hierarchy (``trajet build --street-hierarchy``,
  sample bundles) and the profile's cost is its time (walking, driving, cycling without a
  bike-lane preference), the same times come from a bucket many-to-many on it instead
  (``engine.planning.matrix_ch``): the destinations' buckets once per destination set, one
  upward search per origin. A profile whose metric is not customised yet (another walking
  speed, a scenario's street costs) is customised first, once per graph and profile.
  Without a street graph, walking is the straight line times ``Network.walk_detour_factor``.
* ``CAR``: driving door to door, as r5py's ``CAR``: the origin's and destination's snapped
  car segments joined by the least-time drive, the walks between each point and its street
  added at ``walk_speed_mps``, and nothing for parking (no car park is sought and no
  ``park_s`` is added: ask for ``CAR_PARK`` for that). Points snap to the car network.
* ``CAR_PARK``: drive to a car park, park, walk, as ``engine.planning.planner`` plans it. One car search
  per origin reaches every car facility's entrance; one walk search per facility (cached per
  destination set, within ``max_walk_m``) reaches every destination; the forecast at each
  facility's arrival instant (``engine.parking.choice.outlook``) gives p_free and the expected
  search time. Each pair takes the facility ``engine.parking.choice.choose_facility`` would
  choose (least expected ``drive + search + park + walk``, plus the diversion to the next car
  park when full, among those not avoided for a p_free below the policy's threshold) and counts
  its legs in whole seconds as the itinerary does. Parking
  forecasts move over hours, not minutes: in a departure window the car time of the first
  minute stands for all.
* ``TRANSIT``: walk access (``engine.planning.access.walk_access``), RAPTOR to *every* stop, walk egress
  to every destination: ``engine.transit.TransitRouter.arrival_matrix``, a kernel built from the
  same RAPTOR rounds as the journey search (service-day layers, transfer slack, one footpath
  after each ride and after the access, the transfer limit) but without a target. It runs the
  rounds once per minute of the window, latest first, keeping its labels between minutes (range
  RAPTOR: a later departure's journeys are upper bounds for an earlier one), and reads every
  destination's arrival off the stops improved in that minute through egress lists built once
  per destination set. The direct walk is not a transit journey: ask for ``WALK`` too to allow it.

Several modes give the least time over them, per pair and per minute. Travel time counts from
the requested departure (waiting at the origin included), in whole seconds; NaN where
unreachable within ``max_time_s``. With a window, the statistic of a pair is over the
``window_min`` departures at ``departure + 0, 1, ... window_min - 1`` minutes; percentiles take
the nearest observed value (a pair unreachable at more than p % of the minutes is NaN at p).

The breakdown (transit and the requested departure only) splits the time of the best journey:
``access_s`` (walk to the first stop, and a footpath right after it), ``wait_s`` (at the origin
and at stops), ``ride_s`` (in vehicles), ``transfer_walk_s`` (footpaths between rides),
``egress_s`` (last stop to the destination) and ``transfers``.

Work is chunked over origins (:data:`CHUNK_ORIGINS` at a time) so memory stays bounded; the
executors in ``api.batch`` call :func:`travel_time_matrix` on slices of origins.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from engine import street as streets
from engine import transit
from engine.cache import Memo, PerObject
from engine.deadline import Deadline, check
from engine.model import NO_INDEX, Mode, Network, haversine_m
from engine.parking.choice import CAR_KINDS, outlook
from engine.planning import matrix_ch
from engine.planning.access import LocationNotAccessible, walk_access
from engine.planning.matrix_kernels import car_choice, cheapest_edges, times_along_tree, window_stats
from engine.planning.options import PlanOptions

MODES = ("WALK", "BICYCLE", "CAR", "CAR_PARK", "TRANSIT")
"""Modes a matrix can be asked for."""

CHUNK_ORIGINS = 32
"""Origins per kernel call inside :func:`travel_time_matrix` (bounds the window's memory)."""

BREAKDOWN_FIELDS = ("access_s", "wait_s", "ride_s", "transfer_walk_s", "egress_s", "transfers")

DEFAULT_MAX_TIME_S = 2 * 3600

UNREACHED = transit.UNREACHED


class MatrixError(ValueError):
    """A matrix query that cannot be answered: names the argument."""


@dataclass(frozen=True)
class MatrixResult:
    """Travel times (s) from each origin (rows) to each destination (columns).

    ``travel_time_s``: at the departure, or the median over the window; NaN = unreachable.
    ``percentile_s[p]``: per requested percentile. ``breakdown[name]``: see
    :data:`BREAKDOWN_FIELDS` (NaN where the pair has no transit journey or another mode wins).
    ``best_mode``: index into ``modes`` of the mode giving ``travel_time_s`` at the departure
    (-1 when unreachable).
    """

    modes: tuple
    departure: _dt.datetime
    window_min: int
    travel_time_s: np.ndarray
    percentile_s: dict = field(default_factory=dict)
    breakdown: dict = field(default_factory=dict)
    best_mode: np.ndarray | None = None


# ---------------------------------------------------------------------------------------------
# Transit: RAPTOR to every stop, then to every destination
# ---------------------------------------------------------------------------------------------
def _csr_lists(lists: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts = np.array([a.shape[0] for a, _ in lists], dtype=np.int64)
    offsets = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    stops = np.concatenate([a for a, _ in lists]).astype(np.int32) if lists else np.zeros(0, np.int32)
    secs = np.concatenate([b for _, b in lists]).astype(np.int32) if lists else np.zeros(0, np.int32)
    return offsets, stops, secs


def _walk_lists(network: Network, lon: np.ndarray, lat: np.ndarray, *, reverse: bool,
                options: PlanOptions, deadline: Deadline | None = None
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Access (or egress) list of each point (walks up to ``max_walk_m``, as the planner's);
    empty for a point too far from the streets."""
    out = []
    max_walk_s = options.max_walk_m / options.walk_speed_mps
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        try:
            w = walk_access(network, x, y, reverse=reverse, max_walk_s=max_walk_s,
                            walk_speed_mps=options.walk_speed_mps, max_snap_m=options.max_snap_m,
                            deadline=deadline)
            out.append((w.stops, w.seconds))
        except LocationNotAccessible:
            out.append((np.zeros(0, np.int32), np.zeros(0, np.int32)))
    return out


_CACHE = PerObject(lambda *objs: Memo(size=8))
"""Per-process cache of destination-side data (egress lists, facility walks): a few recent
destination sets per tuple of network objects they were computed on."""


def _points_key(lon: np.ndarray, lat: np.ndarray) -> bytes:
    import hashlib

    return hashlib.sha1(np.ascontiguousarray(np.column_stack([lon, lat])).tobytes()).digest()


def _egress_by_stop(network: Network, lon, lat, options: PlanOptions,
                    deadline: Deadline | None = None):
    """(offsets, dest, secs): for each stop, the destinations one walks to from it, and how long."""
    key = ("egress", _points_key(lon, lat), options.max_walk_m, options.walk_speed_mps,
           options.max_snap_m)

    def compute():
        lists = _walk_lists(network, lon, lat, reverse=True, options=options, deadline=deadline)
        stop = np.concatenate([s for s, _ in lists]).astype(np.int64) if lists else np.zeros(0, np.int64)
        secs = np.concatenate([t for _, t in lists]).astype(np.int32) if lists else np.zeros(0, np.int32)
        dest = np.repeat(np.arange(len(lists)), [s.shape[0] for s, _ in lists]).astype(np.int32)
        order = np.lexsort((secs, dest, stop))
        offsets = np.zeros(network.timetable.n_stops + 1, dtype=np.int64)
        np.cumsum(np.bincount(stop, minlength=network.timetable.n_stops), out=offsets[1:])
        return offsets, np.ascontiguousarray(dest[order]), np.ascontiguousarray(secs[order])

    return _CACHE(network.street, network.timetable).get(key, compute)


def _transit_times(network: Network, origins, destinations, day: int, departures_s: np.ndarray,
                   max_time_s: int, options: PlanOptions, breakdown: bool,
                   deadline: Deadline | None = None):
    """(arrivals (n_o, n_dep, n_d) int32 with departures latest first, those departures,
    components (n_o, n_d, 5) at the earliest departure) by transit."""
    router = transit.router_for(network.timetable)
    router.check_day(day)   # before the walks
    egress = _egress_by_stop(network, destinations[0], destinations[1], options, deadline)
    access = _csr_lists(_walk_lists(network, origins[0], origins[1], reverse=False, options=options,
                                    deadline=deadline))
    deps, arrival, comp = router.arrival_matrix(
        access, egress, destinations[0].shape[0], day, departures_s,
        options=options.transit_options(), max_time_s=int(max_time_s), deadline=deadline)
    return arrival, deps, (comp if breakdown else None)


def stop_arrival_times(network: Network, origin_lonlat, when, *, options: PlanOptions | None = None,
                       max_time_s: float = 3 * 3600, deadline: Deadline | None = None) -> np.ndarray:
    """Seconds from leaving ``origin_lonlat`` (WGS84 lon, lat) at ``when`` (an aware datetime) to
    arriving at every stop by walk + transit: (n_stops,) float, inf where not reached within
    ``max_time_s``. The one-to-all RAPTOR of the matrices, for transit isochrones.

    Raises engine.transit.OutsideServicePeriod for a day without service, DeadlineExceeded once
    ``deadline`` (None: no limit) has passed.
    """
    options = options or PlanOptions()
    day, depart_s = transit.to_service_time(network.timezone, when)
    router = transit.router_for(network.timetable)
    router.check_day(day)   # before the walk
    n = network.timetable.n_stops
    # every stop is its own destination, reached with no egress
    egress = (np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int32), np.zeros(n, dtype=np.int32))
    lon, lat = np.array([float(origin_lonlat[0])]), np.array([float(origin_lonlat[1])])
    access = _csr_lists(_walk_lists(network, lon, lat, reverse=False, options=options,
                                    deadline=deadline))
    _, arrival, _ = router.arrival_matrix(access, egress, n, day, [depart_s],
                                          options=options.transit_options(), max_time_s=int(max_time_s),
                                          deadline=deadline)
    out = arrival[0, 0].astype(np.float64) - depart_s
    out[arrival[0, 0] == UNREACHED] = np.inf
    out[out > max_time_s] = np.inf
    return out


def _nearest_ranks(n: int, pcts: Sequence[float]) -> np.ndarray:
    """Indices into n sorted values of numpy's "nearest" percentiles (ties of .5 to the even one)."""
    idx = np.arange(n, dtype=np.float64)
    return np.asarray([int(np.percentile(idx, p, method="nearest")) for p in pcts], dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# Streets: one search per origin, every destination read off the tree
# ---------------------------------------------------------------------------------------------
def _part(share, c):
    """A share of an edge's cost; inf (not 0 * inf = NaN) where the edge may not be used."""
    return np.where(np.isfinite(c), share * np.where(np.isfinite(c), c, 0.0), np.inf)


@dataclass(frozen=True)
class _Ends:
    """Snapped points with the cost and time of each way along their segment."""

    ok: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    fraction: np.ndarray
    fwd_cost: np.ndarray     # tail -> head: the snapped edge (inf: not allowed that way)
    bwd_cost: np.ndarray     # head -> tail: the cheapest such edge
    fwd_time: np.ndarray
    bwd_time: np.ndarray
    off_s: np.ndarray        # walking between the given point and the street (s)


def _ends(graph, profile: streets.StreetProfile, lon, lat, max_snap_m: float,
          walk_speed_mps: float) -> _Ends:
    """Snap points for the profile's mode and read their segments' costs, as the planner does
    (``engine.planning.street_trees.point_ends``: the snapped edge one way, the cheapest edge
    back the other way; the snap distance walked at ``walk_speed_mps``)."""
    snaps = streets.snap_many(graph, lon, lat, profile.mode, max_distance_m=max_snap_m)
    ok = snaps.accessible
    edge = np.where(ok, snaps.edge_idx, 0)
    tail = np.where(ok, snaps.tail_node, 0).astype(np.int32)
    head = np.where(ok, snaps.head_node, 0).astype(np.int32)
    cost = streets.edge_costs(graph, profile)
    time_s = streets.edge_times(graph, profile)
    bwd_cost = np.empty(tail.size)
    cheapest_edges(graph.indptr, graph.indices, cost, head, tail, bwd_cost)
    # the time of the cheapest edge back (a parallel edge may be quicker but dearer)
    bwd_time = np.full(tail.size, np.inf)
    for i in np.flatnonzero(ok & np.isfinite(bwd_cost)):
        lo, hi = int(graph.indptr[head[i]]), int(graph.indptr[head[i] + 1])
        back = lo + np.flatnonzero(np.asarray(graph.indices[lo:hi]) == tail[i])
        back = back[np.isfinite(cost[back])]
        bwd_time[i] = time_s[int(back[np.argmin(cost[back])])]
    return _Ends(ok=ok, tail=tail, head=head, fraction=np.where(ok, snaps.fraction, 0.0),
                 fwd_cost=np.where(ok, cost[edge], np.inf), bwd_cost=bwd_cost,
                 fwd_time=np.where(ok, time_s[edge], np.inf), bwd_time=bwd_time,
                 off_s=np.where(ok, snaps.distance_m / walk_speed_mps, np.inf))


def _generalized(profile: streets.StreetProfile) -> bool:
    """Whether the profile's search cost differs from travel time (a bike-lane preference)."""
    return profile.mode == Mode.BICYCLE and profile.bike_lane_preference > 0


def _search(graph, profile, nodes, cost, time_s, limit, deadline: Deadline | None = None):
    """One street search from ``nodes`` at ``cost`` (``time_s`` s): (cost, time) at every node."""
    keep = np.isfinite(cost)
    res = streets.search(graph, profile, np.asarray(nodes)[keep], np.asarray(cost)[keep], max_cost=limit,
                         deadline=deadline)
    if not _generalized(profile):
        return res.cost, res.cost
    node_time = np.full(graph.n_nodes, np.inf)
    node_time[np.asarray(nodes)[keep]] = np.asarray(time_s)[keep]
    times_along_tree(res.reached(), res.pred_edge, graph.edge_tail, streets.edge_times(graph, profile),
                     node_time)
    return res.cost, node_time


def _to_points(node_cost, node_time, t: _Ends):
    """(cost, time) to each snapped point: along its segment from its tail or back from its head
    (the time then on foot to the given point included)."""
    via_tail = node_cost[t.tail] + _part(t.fraction, t.fwd_cost)
    via_head = node_cost[t.head] + _part(1 - t.fraction, t.bwd_cost)
    cost = np.minimum(via_tail, via_head)
    tm = np.where(via_tail <= via_head, node_time[t.tail] + _part(t.fraction, t.fwd_time),
                  node_time[t.head] + _part(1 - t.fraction, t.bwd_time)) + t.off_s
    return np.where(t.ok, cost, np.inf), np.where(t.ok, tm, np.inf)


def _limit(profile: streets.StreetProfile, max_time_s: float) -> float:
    # a generalized cost is at least the travel time and at most (1 + p) times it
    return max_time_s * (1.0 + profile.bike_lane_preference) if _generalized(profile) else max_time_s


def _street_times(network: Network, profile: streets.StreetProfile, origins, destinations,
                  max_time_s: float, max_snap_m: float, walk_speed_mps: float,
                  deadline: Deadline | None = None) -> np.ndarray:
    """(n_o, n_d) travel time (s, inf unreachable) along least-cost street paths, point to point,
    as ``engine.street.route`` finds them, with the walks between the points and the streets."""
    graph = network.street
    n_o, n_d = origins[0].shape[0], destinations[0].shape[0]
    out = np.full((n_o, n_d), np.inf)
    if graph is None or graph.n_nodes == 0:
        if profile.mode != Mode.WALK:
            raise MatrixError(f"modes: {profile.mode.name} needs a street graph; this network has none")
        metres = haversine_m(origins[0][:, None], origins[1][:, None], destinations[0][None, :],
                             destinations[1][None, :]) * network.walk_detour_factor
        out = metres / profile.walk_speed_mps
        return np.where(out <= max_time_s, out, np.inf)
    o = _ends(graph, profile, origins[0], origins[1], max_snap_m, walk_speed_mps)
    limit = _limit(profile, max_time_s)
    on_hierarchy = _on_hierarchy(graph, profile, destinations, limit, max_snap_m, walk_speed_mps)
    if on_hierarchy is not None:
        check(deadline, f"{n_o} x {n_d} {profile.mode.name.lower()} street times")
        out = matrix_ch.street_times(graph, on_hierarchy[0], o, on_hierarchy[1], limit)
        return np.where(out <= max_time_s, out, np.inf)
    t = _ends(graph, profile, destinations[0], destinations[1], max_snap_m, walk_speed_mps)
    for i in np.flatnonzero(o.ok):
        f = o.fraction[i]
        node_cost, node_time = _search(
            graph, profile, [o.head[i], o.tail[i]],
            [_part(1 - f, o.fwd_cost[i]), _part(f, o.bwd_cost[i])],
            [_part(1 - f, o.fwd_time[i]), _part(f, o.bwd_time[i])], limit, deadline)
        cost, tm = _to_points(node_cost, node_time, t)
        # same segment: the direct way along it when cheaper
        same = ((np.minimum(o.tail[i], o.head[i]) == np.minimum(t.tail, t.head))
                & (np.maximum(o.tail[i], o.head[i]) == np.maximum(t.tail, t.head)) & t.ok)
        if same.any():
            f_dest = np.where(t.tail == o.tail[i], t.fraction, 1 - t.fraction)
            forward = f_dest >= f
            d_cost = np.where(forward, _part(f_dest - f, o.fwd_cost[i]), _part(f - f_dest, o.bwd_cost[i]))
            d_time = np.where(forward, _part(f_dest - f, o.fwd_time[i]), _part(f - f_dest, o.bwd_time[i]))
            better = same & (d_cost <= cost)
            tm = np.where(better, d_time + t.off_s, tm)
            cost = np.where(better, d_cost, cost)
        out[i] = np.where(cost <= limit, tm + o.off_s[i], np.inf)
    return np.where(out <= max_time_s, out, np.inf)


def _on_hierarchy(graph, profile: streets.StreetProfile, destinations, limit: float, max_snap_m: float,
                  walk_speed_mps: float):
    """(buckets, snapped destinations) to compute street times on the contraction hierarchy
    (cached per destination set), or None to run the searches: the graph has no hierarchy, or
    the profile's cost is not its time (a bike-lane preference). A metric not customised yet
    (another speed, a scenario's costs) is customised here, once: a matrix pays for it."""
    if _generalized(profile):
        return None
    met = streets.ready_metric(graph, profile, customise=True)
    if met is None:
        return None
    lon, lat = destinations
    key = ("ch-buckets", _points_key(lon, lat), max_snap_m, walk_speed_mps, float(limit))

    def compute():
        t = _ends(graph, profile, lon, lat, max_snap_m, walk_speed_mps)
        return matrix_ch.destination_buckets(graph, met, t, limit), t

    return _CACHE(graph, met).get(key, compute)


def _node_times(network: Network, profile: streets.StreetProfile, origins, nodes: np.ndarray,
                max_time_s: float, max_snap_m: float, walk_speed_mps: float,
                deadline: Deadline | None = None) -> np.ndarray:
    """(n_o, n_nodes) travel time (s) from each point to each street node, the walk from the
    point to the street included."""
    graph = network.street
    o = _ends(graph, profile, origins[0], origins[1], max_snap_m, walk_speed_mps)
    out = np.full((origins[0].shape[0], nodes.size), np.inf)
    for i in np.flatnonzero(o.ok):
        f = o.fraction[i]
        node_cost, node_time = _search(
            graph, profile, [o.head[i], o.tail[i]],
            [_part(1 - f, o.fwd_cost[i]), _part(f, o.bwd_cost[i])],
            [_part(1 - f, o.fwd_time[i]), _part(f, o.bwd_time[i])], _limit(profile, max_time_s),
            deadline)
        node_s = node_time[nodes] + o.off_s[i]
        out[i] = np.where(node_s <= max_time_s, node_s, np.inf)
    return out


# ---------------------------------------------------------------------------------------------
# Car + parking
# ---------------------------------------------------------------------------------------------
def _car_facilities(network: Network) -> np.ndarray:
    """Car facilities linked to the streets both ways (as the planner takes them)."""
    pk = network.parking
    ok = (np.isin(np.asarray(pk.kind), [int(k) for k in CAR_KINDS])
          & (np.asarray(pk.car_node_idx) != NO_INDEX) & (np.asarray(pk.walk_node_idx) != NO_INDEX))
    return np.flatnonzero(ok)


def _facility_walks(network: Network, fac: np.ndarray, destinations, options: PlanOptions,
                    deadline: Deadline | None = None) -> np.ndarray:
    """(n_fac, n_d) walking time (s) from each facility's pedestrian exit to each destination,
    within ``max_walk_m`` (inf beyond); cached per destination set."""
    graph = network.street
    lon, lat = destinations
    key = ("facility-walks", _points_key(lon, lat), fac.tobytes(), options.walk_speed_mps,
           options.max_snap_m, options.max_walk_m)

    def compute():
        profile = streets.StreetProfile(Mode.WALK, walk_speed_mps=options.walk_speed_mps)
        limit = options.max_walk_m / options.walk_speed_mps
        t = _ends(graph, profile, lon, lat, options.max_snap_m, options.walk_speed_mps)
        out = np.full((fac.size, lon.size), np.inf)
        for row, node in enumerate(np.asarray(network.parking.walk_node_idx)[fac]):
            node_cost, node_time = _search(graph, profile, [node], [0.0], [0.0], limit, deadline)
            _, tm = _to_points(node_cost, node_time, t)    # walking: cost = time, snap walk included
            out[row] = np.where(tm <= limit, tm, np.inf)
        return out

    return _CACHE(graph, network.parking).get(key, compute)


def _drive_between(network: Network, fac: np.ndarray, deadline: Deadline | None = None) -> np.ndarray:
    """(n_fac, n_fac) drive (s) between the car entrances of facilities (inf: no way), as the
    planner prices a diversion when a car park is full; cached per network."""
    graph, pk = network.street, network.parking
    key = ("drive-between", fac.tobytes())

    def compute():
        car = streets.StreetProfile(Mode.CAR)
        nodes = np.asarray(pk.car_node_idx)[fac].astype(np.int64)
        costs = streets.fast_many_to_many(graph, car, nodes, nodes, deadline=deadline)
        return np.where(costs >= streets.UNREACHED, np.inf, costs)

    return _CACHE(graph, pk).get(key, compute)


def _car_park_times(network: Network, origins, destinations, depart_utc_s: int, max_time_s: float,
                    options: PlanOptions, deadline: Deadline | None = None) -> np.ndarray:
    """(n_o, n_d) door-to-door time (s) by car to the car park the planner would choose, then on
    foot (``engine.parking.choice.choose_facility``, with the diversion when full priced by the
    drives between car parks), counted as the planner's legs are (whole seconds each)."""
    graph = network.street
    if graph is None:
        raise MatrixError("modes: CAR_PARK needs a street graph; this network has none")
    pk = network.parking
    policy = options.parking
    n_o, n_d = origins[0].shape[0], destinations[0].shape[0]
    fac = _car_facilities(network)
    if fac.size == 0:
        return np.full((n_o, n_d), np.inf)
    drive = _node_times(network, streets.StreetProfile(Mode.CAR), origins,
                        np.asarray(pk.car_node_idx)[fac].astype(np.int64), np.inf,
                        options.max_snap_m, options.walk_speed_mps, deadline)  # (n_o, n_fac)
    walk = _facility_walks(network, fac, destinations, options, deadline)      # (n_fac, n_d)
    ok = np.isfinite(drive)
    at = depart_utc_s + np.round(np.where(ok, drive, 0.0)).astype(np.int64)
    view = outlook(pk, np.broadcast_to(fac[None, :], drive.shape).ravel(), at.ravel(), policy=policy)
    p_free = np.ascontiguousarray(view.p_free.reshape(drive.shape))
    search_s = np.ascontiguousarray(view.expected_search_s.reshape(drive.shape))
    chosen = np.empty((n_o, n_d), dtype=np.int64)
    car_choice(np.ascontiguousarray(drive), search_s, p_free, np.ascontiguousarray(walk),
                _drive_between(network, fac, deadline), float(policy.min_p_free), float(policy.park_s),
                chosen)
    c = np.maximum(chosen, 0)
    rows = np.arange(n_o)[:, None]
    secs = (_secs(drive[rows, c]) + _secs(search_s[rows, c] + policy.park_s)
            + _secs(walk[c, np.arange(n_d)[None, :]]))
    secs = np.where(chosen >= 0, secs, np.inf)
    return np.where(secs <= max_time_s, secs, np.inf)


def _secs(x) -> np.ndarray:
    """Whole seconds, rounded up, as itinerary legs count them (0, never -0, for no time)."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(np.isfinite(x), np.ceil(x - 1e-9), np.inf) + 0.0   # + 0.0 turns -0.0 into 0.0


# ---------------------------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------------------------
def _as_points(points, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise MatrixError(f"{name}: expected (lon, lat) pairs") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise MatrixError(f"{name}: expected an (n, 2) array of lon, lat; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise MatrixError(f"{name}: coordinates must be finite")
    return np.ascontiguousarray(arr[:, 0]), np.ascontiguousarray(arr[:, 1])


def parse_modes(modes) -> tuple[str, ...]:
    """Mode names, upper case, checked against :data:`MODES` (order kept, duplicates dropped)."""
    names = [modes] if isinstance(modes, str) else list(modes)
    out = []
    for m in names:
        for part in str(m).split(","):
            key = part.strip().upper()
            if not key:
                continue
            key = {"BIKE": "BICYCLE"}.get(key, key)
            if key not in MODES:
                raise MatrixError(f"modes: unknown mode {part.strip()!r}; one of {', '.join(MODES)}")
            if key not in out:
                out.append(key)
    if not out:
        raise MatrixError(f"modes: give at least one of {', '.join(MODES)}")
    return tuple(out)


def travel_time_matrix(network: Network, origins, destinations, *, departure: _dt.datetime,
                       modes=("TRANSIT",), window_min: int = 0, percentiles: Sequence[float] = (),
                       max_time_s: float = DEFAULT_MAX_TIME_S, breakdown: bool = False,
                       options: PlanOptions | None = None,
                       deadline: Deadline | None = None) -> MatrixResult:
    """Travel times (s) from every origin to every destination (see the module docstring).

    ``options``: the planner's :class:`engine.planning.PlanOptions` (speeds, bike-lane preference,
    ``max_walk_m`` to and from transit and from a car park, snapping, transfers, the parking
    policy); its ``window_s`` and ``num_itineraries`` play no part here. Points outside the
    network's bounding box (plus ``bbox_margin_m``) are unreachable, as the planner says
    OUTSIDE_BOUNDS.

    ``origins``/``destinations``: (n, 2) arrays of lon, lat (degrees). ``departure``: an aware
    datetime, or a naive one read in the network's timezone. ``modes``: names from
    :data:`MODES` (or a comma-separated string). ``window_min`` > 0: the departures of every
    minute in ``[departure, departure + window_min)``; ``travel_time_s`` is then their median
    and ``percentiles`` (0-100) are reported too. ``breakdown``: transit components of the
    journey at ``departure``. Raises MatrixError naming the argument for bad input,
    ``engine.transit.OutsideServicePeriod`` when TRANSIT is asked for a day without service, and
    DeadlineExceeded once ``deadline`` (None: no limit) has passed.
    """
    q = _check_query(network, origins, destinations, departure=departure, modes=modes,
                     window_min=window_min, percentiles=percentiles, max_time_s=max_time_s,
                     breakdown=breakdown, options=options, deadline=deadline)
    n_o, n_d = q.origins[0].shape[0], q.destinations[0].shape[0]
    out = _Tables.empty(n_o, n_d, q.pcts, breakdown)
    for lo in range(0, n_o, CHUNK_ORIGINS):
        hi = min(lo + CHUNK_ORIGINS, n_o)
        check(deadline, f"a {n_o} x {n_d} travel-time matrix")
        _fill_chunk(network, q, lo, hi, out)
    _blank_outside(network, q, out)
    return MatrixResult(modes=q.modes, departure=q.departure, window_min=q.window_min,
                        travel_time_s=out.median, percentile_s=out.pct, breakdown=out.parts,
                        best_mode=out.best_mode)


@dataclass(frozen=True)
class _MatrixQuery:
    """A matrix query's arguments, checked, with its departures in service time."""

    modes: tuple
    options: PlanOptions
    origins: tuple            # (lon, lat) arrays, degrees
    destinations: tuple       # (lon, lat) arrays, degrees
    departure: _dt.datetime   # aware
    depart_utc_s: int
    day: int                  # service day of the departure
    departures_s: np.ndarray  # every minute of the window, s after the service day's reference
    window_min: int
    pcts: tuple
    max_time_s: float
    breakdown: bool
    deadline: Deadline | None = None

    @property
    def stat_pcts(self) -> tuple:
        """Percentiles the window statistic computes: the median, then those asked for."""
        return ((50.0,) + self.pcts) if self.window_min else ()


def _check_query(network: Network, origins, destinations, *, departure, modes, window_min, percentiles,
                 max_time_s, breakdown, options, deadline=None) -> _MatrixQuery:
    """The arguments of :func:`travel_time_matrix`, checked in the order of its signature
    (MatrixError naming the first one wrong), with the departures in service time."""
    modes = parse_modes(modes)
    options = PlanOptions() if options is None else options
    if not isinstance(options, PlanOptions):
        raise MatrixError(f"options: expected engine.planning.PlanOptions, got {type(options).__name__}")
    o_lon, o_lat = _as_points(origins, "origins")
    d_lon, d_lat = _as_points(destinations, "destinations")
    if not isinstance(departure, _dt.datetime):
        raise MatrixError(f"departure: expected a datetime, got {departure!r}")
    if int(window_min) != window_min or window_min < 0:
        raise MatrixError(f"window_min: expected a whole number of minutes >= 0, got {window_min!r}")
    window_min = int(window_min)
    pcts = tuple(float(p) for p in percentiles)
    if any(not 0 <= p <= 100 for p in pcts):
        raise MatrixError(f"percentiles: each must be between 0 and 100, got {list(percentiles)}")
    if not (max_time_s > 0):
        raise MatrixError(f"max_time_s: must be > 0, got {max_time_s!r}")
    if breakdown and "TRANSIT" not in modes:
        raise MatrixError("breakdown: only transit journeys have a breakdown; add TRANSIT to modes")
    if "TRANSIT" in modes and network.timetable is None:
        raise MatrixError("modes: TRANSIT needs a timetable; this network has none")
    tz = network.timezone
    day, depart_s = transit.to_service_time(tz, departure)
    aware = departure if departure.tzinfo else departure.replace(tzinfo=_zone(tz))
    departures_s = depart_s + 60 * np.arange(max(window_min, 1), dtype=np.int64)
    return _MatrixQuery(modes=modes, options=options, origins=(o_lon, o_lat), destinations=(d_lon, d_lat),
                        departure=aware, depart_utc_s=int(aware.timestamp()), day=day,
                        departures_s=departures_s, window_min=window_min, pcts=pcts,
                        max_time_s=max_time_s, breakdown=breakdown, deadline=deadline)


@dataclass(frozen=True)
class _Tables:
    """The result's (n_o, n_d) tables, filled a chunk of origins at a time."""

    median: np.ndarray        # travel time (s), or its median over the window; NaN unreachable
    pct: dict                 # percentile -> table
    best_mode: np.ndarray     # index into modes, -1 unreachable (int8)
    parts: dict               # BREAKDOWN_FIELDS name -> table (empty without a breakdown)

    @classmethod
    def empty(cls, n_o: int, n_d: int, pcts: tuple, breakdown: bool) -> _Tables:
        return cls(median=np.full((n_o, n_d), np.nan),
                   pct={p: np.full((n_o, n_d), np.nan) for p in pcts},
                   best_mode=np.full((n_o, n_d), -1, dtype=np.int8),
                   parts=({name: np.full((n_o, n_d), np.nan) for name in BREAKDOWN_FIELDS}
                          if breakdown else {}))


def _fill_chunk(network: Network, q: _MatrixQuery, lo: int, hi: int, out: _Tables) -> None:
    """Rows ``lo:hi`` of every table: the time-independent modes, then transit over the window,
    the statistics and, for transit winners, the breakdown."""
    orig = (q.origins[0][lo:hi], q.origins[1][lo:hi])
    const, const_mode = _street_mode_times(network, q, orig)
    n_d = q.destinations[0].shape[0]
    first = np.where(const <= q.max_time_s, const, np.inf)
    stats = np.broadcast_to(first, (len(q.stat_pcts), hi - lo, n_d))
    comp = None
    winner = const_mode
    if "TRANSIT" in q.modes:
        first, stats, comp, winner = _with_transit(network, q, orig, const, const_mode)
    out.best_mode[lo:hi] = np.where(np.isfinite(first), winner, -1)
    if q.window_min:
        out.median[lo:hi] = np.where(np.isfinite(stats[0]), stats[0], np.nan)
        for j, p in enumerate(q.pcts, start=1):
            out.pct[p][lo:hi] = np.where(np.isfinite(stats[j]), stats[j], np.nan)
    else:
        out.median[lo:hi] = np.where(np.isfinite(first), first, np.nan)
        for p in q.pcts:
            out.pct[p][lo:hi] = out.median[lo:hi]
    if q.breakdown and comp is not None:
        _write_breakdown(out.parts, lo, hi, first, winner == q.modes.index("TRANSIT"), comp)


def _street_mode_times(network: Network, q: _MatrixQuery, orig) -> tuple[np.ndarray, np.ndarray]:
    """(time (s, inf unreachable), index into modes) of the quickest of the time-independent
    modes from the origins ``orig`` to every destination (the first in ``modes`` on ties)."""
    options = q.options
    walk_profile = streets.StreetProfile(Mode.WALK, walk_speed_mps=options.walk_speed_mps)
    bike_profile = streets.StreetProfile(Mode.BICYCLE, bike_speed_mps=options.bike_speed_mps,
                                         bike_lane_preference=options.bike_lane_preference)
    n_o, n_d = orig[0].shape[0], q.destinations[0].shape[0]
    const = np.full((n_o, n_d), np.inf)
    const_mode = np.full((n_o, n_d), -1, dtype=np.int8)
    for mode in (m for m in q.modes if m != "TRANSIT"):
        if mode == "WALK":
            times = _street_times(network, walk_profile, orig, q.destinations, q.max_time_s,
                                  options.max_snap_m, options.walk_speed_mps, q.deadline)
        elif mode == "BICYCLE":
            times = _street_times(network, bike_profile, orig, q.destinations, q.max_time_s,
                                  options.max_snap_m, options.walk_speed_mps, q.deadline)
        elif mode == "CAR":
            times = _street_times(network, streets.StreetProfile(Mode.CAR), orig, q.destinations,
                                  q.max_time_s, options.max_snap_m, options.walk_speed_mps, q.deadline)
        else:
            times = _car_park_times(network, orig, q.destinations, q.depart_utc_s, q.max_time_s, options,
                                    q.deadline)
        times = _secs(times)
        better = times < const
        const = np.where(better, times, const)
        const_mode = np.where(better, q.modes.index(mode), const_mode).astype(np.int8)
    return const, const_mode


def _with_transit(network: Network, q: _MatrixQuery, orig, const: np.ndarray, const_mode: np.ndarray):
    """(time at the departure, statistics over the window, transit components, winning mode):
    transit at every minute of the window against the time-independent modes ``const``."""
    n_o, n_d = orig[0].shape[0], q.destinations[0].shape[0]
    arrival, deps, comp = _transit_times(network, orig, q.destinations, q.day, q.departures_s,
                                         int(q.max_time_s), q.options, q.breakdown, q.deadline)
    first = np.empty((n_o, n_d))
    stats = np.empty((len(q.stat_pcts), n_o, n_d))
    ranks = _nearest_ranks(q.departures_s.shape[0], q.stat_pcts)
    window_stats(arrival, deps, const, float(q.max_time_s), ranks, first, stats)
    t_idx = q.modes.index("TRANSIT")
    a0 = arrival[:, -1, :]
    t0 = np.where(a0 == UNREACHED, np.inf, a0.astype(np.float64) - deps[-1])
    transit_wins = (t0 < const) | ((t0 == const) & (t_idx < const_mode))
    winner = np.where(transit_wins, t_idx, const_mode).astype(np.int8)
    return first, stats, comp, winner


def _write_breakdown(parts: dict, lo: int, hi: int, first: np.ndarray, transit_won: np.ndarray,
                     comp: np.ndarray) -> None:
    """The components of the transit journey at the departure, where it is the quickest."""
    wins = np.isfinite(first) & transit_won & (comp[..., 4] >= 0)
    total = np.where(wins, first, np.nan)
    access, ride, walk, egress, trips = (comp[..., c].astype(np.float64) for c in range(5))
    parts["access_s"][lo:hi] = np.where(wins, access, np.nan)
    parts["ride_s"][lo:hi] = np.where(wins, ride, np.nan)
    parts["transfer_walk_s"][lo:hi] = np.where(wins, walk, np.nan)
    parts["egress_s"][lo:hi] = np.where(wins, egress, np.nan)
    parts["transfers"][lo:hi] = np.where(wins, np.maximum(trips - 1, 0), np.nan)
    parts["wait_s"][lo:hi] = total - np.where(wins, access + ride + walk + egress, np.nan)


def _blank_outside(network: Network, q: _MatrixQuery, out: _Tables) -> None:
    """Pairs with an end outside the network's bounding box (plus ``bbox_margin_m``) are
    unreachable, as the planner says OUTSIDE_BOUNDS."""
    margin_m = q.options.bbox_margin_m
    outside = ~(_inside(network, *q.origins, margin_m)[:, None]
                & _inside(network, *q.destinations, margin_m)[None, :])
    if outside.any():
        for arr in (out.median, *out.pct.values(), *out.parts.values()):
            arr[outside] = np.nan
        out.best_mode[outside] = -1


def _inside(network: Network, lon: np.ndarray, lat: np.ndarray, margin_m: float) -> np.ndarray:
    """Points within the network's bounding box plus ``margin_m`` (the planner's OUTSIDE_BOUNDS)."""
    min_lon, min_lat, max_lon, max_lat = network.bbox
    mx, my = network.projection.metres_per_degree
    return ((min_lon - margin_m / mx <= lon) & (lon <= max_lon + margin_m / mx)
            & (min_lat - margin_m / my <= lat) & (lat <= max_lat + margin_m / my))


def _zone(tz: str):
    import zoneinfo

    return zoneinfo.ZoneInfo(tz)


__all__ = ["MODES", "BREAKDOWN_FIELDS", "CHUNK_ORIGINS", "DEFAULT_MAX_TIME_S", "MatrixError",
           "MatrixResult", "parse_modes", "travel_time_matrix"]
