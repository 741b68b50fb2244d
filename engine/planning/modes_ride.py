"""The ride modes: ``PARK_AND_RIDE`` (drive, park, walk to a stop, ride, walk) and
``BIKE_AND_RIDE`` (cycle, lock the bike, walk to a stop, ride, walk).

Each stop's access time is the best over the facilities within ``park_ride_walk_m`` of it of
the vehicle leg + parking + walk (engine.planning.links gives the facility-to-stop walks); one
RAPTOR run takes them all (two for an arrive-by park-and-ride); each journey's walk from the
origin is then replaced by the vehicle, park and walk legs through the facility it used.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from engine import transit
from engine.model import ParkingKind
from engine.parking.choice import (
    BIKE_KINDS,
    CAR_KINDS,
    FacilityChoice,
    Outlook,
    avoided_reason,
    outlook,
    rank,
)
from engine.planning.itinerary import Itinerary, Leg, journeys_to_itineraries, stop_place
from engine.planning.legs import bike_lane_share, ceil_s, facility_place, make_leg, node_place, walk_stop_path
from engine.planning.links import stop_links
from engine.planning.modes_car import parking_object
from engine.planning.modes_transit import no_connection, transit_journeys
from engine.planning.pareto import Candidate
from engine.planning.query import Query, street_facilities
from engine.planning.reasons import (
    DOMINATED,
    NO_BIKE_PARKING,
    NO_PARKING_AVAILABLE,
    NO_TRANSIT_CONNECTION,
    LeftOut,
)
from engine.planning.street_trees import StreetTree


def _replace_access(q: Query, it: Itinerary, access_stop: int, access_s: int, first_legs: list[Leg]
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


class _RideLinks(NamedTuple):
    """Facility -> stop walks usable for a ride mode (:func:`_ride_links`), one row per link."""

    stop: np.ndarray       # link -> stop_idx
    walk_s: np.ndarray     # link -> walk (s) at the traveller's speed
    walk_m: np.ndarray     # link -> walk (m)
    fac: np.ndarray        # the links' facilities, each once (facility_idx)
    inverse: np.ndarray    # link -> row in fac


@dataclass(frozen=True)
class _ParkRideAccess:
    """Each stop's access by car, parking and walk for one departure, as given to RAPTOR."""

    view: Outlook          # the forecast at each facility (row in fac) on arrival
    stops: np.ndarray      # stop_idx with an access
    secs: np.ndarray       # stop -> access time (whole s)
    access_of_stop: dict   # stop_idx -> access time (s)
    link_of_stop: dict     # stop_idx -> the link giving it


def park_and_ride_mode(q: Query) -> list[Candidate]:
    q.need_streets("driving")
    q.router()
    pk = q.network.parking
    links = _ride_links(q, CAR_KINDS)
    if links.stop.size == 0:
        raise LeftOut(NO_PARKING_AVAILABLE, f"no car park lies within {q.options.park_ride_walk_m:,.0f} m "
                      "on foot of a stop (and farther from the destination)")
    car = q.car_tree()
    drive_s = car.times_to(np.asarray(pk.car_node_idx)[links.fac])
    if not np.isfinite(drive_s).any():
        raise LeftOut(NO_PARKING_AVAILABLE, "no park-and-ride car park is reachable by car")
    depart_utc = _park_ride_departure_utc_s(q, links, drive_s) if q.arrive_by else q.utc_s
    acc = _park_ride_access(q, links, drive_s, depart_utc)
    js = transit_journeys(q, (acc.stops, acc.secs))
    if js.n_journeys == 0:
        raise LeftOut(NO_TRANSIT_CONNECTION, no_connection(q, "from a park-and-ride"))
    its = journeys_to_itineraries(q.transit_network, js, q.origin, q.destination, origin_walk=None,
                                  destination_walk=q.egress(), walk_speed_mps=q.options.walk_speed_mps)
    direct_walk_s = _walk_to_destination_s(q, np.asarray(pk.walk_node_idx)[links.fac])
    out = []
    for j, it in enumerate(its):
        stop = int(js.leg_to_stop[js.leg_offsets[j]])
        it2, row = _park_ride_itinerary(q, it, stop, links, car, drive_s, acc)
        if direct_walk_s[row] <= it2.end_s - it2.legs[1].end_s:
            continue   # walking from the car park is as quick: that is the CAR_PARK itinerary
        risk = 1.0 - float(acc.view.p_free[row])
        out.append(Candidate("PARK_AND_RIDE", it2, parking_risk=risk))
    if not out:
        raise LeftOut(DOMINATED, "walking from the car park is as quick as riding on from it: "
                      "see CAR_PARK")
    return out


def _park_ride_departure_utc_s(q: Query, links: _RideLinks, drive_s: np.ndarray) -> int:
    """Arrive-by, pass 1: RAPTOR with the drive and parking but no search time, to learn when
    the traveller must leave (UTC s); the search times are then forecast from that departure."""
    policy = q.options.parking
    per_fac = np.where(np.isfinite(drive_s), drive_s + policy.park_s, np.inf)
    stops, secs, _ = _best_access(links.stop, per_fac[links.inverse] + links.walk_s,
                                  q.network.timetable.n_stops)
    if stops.size == 0:
        raise LeftOut(NO_PARKING_AVAILABLE, "no park-and-ride car park is reachable by car")
    js = transit_journeys(q, (stops, secs))
    if js.n_journeys == 0:
        raise LeftOut(NO_TRANSIT_CONNECTION, no_connection(q, "from a park-and-ride"))
    return int(q.utc(int(np.max(js.depart_s))))


def _park_ride_access(q: Query, links: _RideLinks, drive_s: np.ndarray, depart_utc_s: int
                      ) -> _ParkRideAccess:
    """Each stop's access leaving at ``depart_utc_s``: the best over its facilities of drive +
    expected search + park + walk, facilities under the p_free threshold left out. Raises
    LeftOut (NO_PARKING_AVAILABLE) naming a few of them when none is left."""
    pk, policy = q.network.parking, q.options.parking
    reachable = np.isfinite(drive_s)
    view = outlook(pk, links.fac, depart_utc_s + np.round(np.where(reachable, drive_s, 0)).astype(np.int64),
                   policy=policy, live=q.live, now_utc_s=q.now_utc_s, pending=q.pending)
    usable = reachable & (view.p_free >= policy.min_p_free)
    per_fac = np.where(usable, drive_s + view.expected_search_s + policy.park_s, np.inf)
    stops, secs, pick = _best_access(links.stop, per_fac[links.inverse] + links.walk_s,
                                     q.network.timetable.n_stops)
    if stops.size == 0:
        rows = np.flatnonzero(reachable & ~usable)
        names = "; ".join(avoided_reason(pk, view, int(r), q.tz, min_p_free=policy.min_p_free)
                          for r in rows[:3])
        raise LeftOut(NO_PARKING_AVAILABLE, f"every park-and-ride car park is likely full on "
                      f"arrival: {names}")
    return _ParkRideAccess(view, stops, secs,
                           access_of_stop=dict(zip(stops.tolist(), secs.tolist(), strict=True)),
                           link_of_stop=dict(zip(stops.tolist(), pick.tolist(), strict=True)))


def _park_ride_itinerary(q: Query, it: Itinerary, s: int, links: _RideLinks, car: StreetTree,
                         drive_s: np.ndarray, acc: _ParkRideAccess) -> tuple[Itinerary, int]:
    """A RAPTOR itinerary boarding at stop ``s`` with its access walk replaced by the drive,
    the parking and the walk to ``s`` through the facility giving its access; and that
    facility's row in ``links.fac``."""
    net, pk, policy = q.network, q.network.parking, q.options.parking
    link = acc.link_of_stop[s]
    row = int(links.inverse[link])
    f = int(links.fac[row])
    walk_here_s = float(links.walk_s[link])
    choice = _pr_choice(links.fac, drive_s, acc.view, policy, links.stop, links.walk_s, links.inverse, s)
    crow = int(np.flatnonzero(choice.facility_idx == f)[0])
    car_node = int(pk.car_node_idx[f])
    drive_leg = car.path(car_node)
    place = facility_place(net, f)
    entrance = node_place(q.graph, car_node, f"{place.name} (entrance)")
    d_drive = ceil_s(drive_leg.duration_s)
    d_park = ceil_s(float(acc.view.expected_search_s[row]) + policy.park_s)
    # the walk absorbs the rounding, so that the legs take exactly the access time given
    d_walk = max(acc.access_of_stop[s] - d_drive - d_park, 0) if walk_here_s > 0 else 0
    t0 = q.time_s if not q.arrive_by else 0
    t1, t2 = t0 + d_drive, t0 + d_drive + d_park
    stop_p = stop_place(net, s)
    lon, lat, metres = walk_stop_path(q, f, s, float(links.walk_m[link]))
    note = (f"The car stays at {place.name}: the return trip must come back to it "
            f"(by transit to {stop_p.name}, then on foot).")
    parking = parking_object(q, choice, crow, fallback_row=choice.fallback, return_trip=note)
    first = [
        make_leg("CAR", q.origin, entrance, t0, t1, drive_leg, extra={"parking_id": place.parking_id}),
        make_leg("PARK", entrance, place, t1, t2, lon=[entrance.lon, place.lon],
                 lat=[entrance.lat, place.lat], extra={"parking": parking}),
        make_leg("WALK", place, stop_p, t2, t2 + d_walk, distance_m=metres, lon=lon, lat=lat),
    ]
    return _replace_access(q, it, s, acc.access_of_stop[s], first), row


def _walk_to_destination_s(q: Query, walk_nodes: np.ndarray) -> np.ndarray:
    """Walking time (s) from each node to the destination within max_walk_m, inf beyond."""
    try:
        return q.walk_to_destination_tree().times_to(walk_nodes)
    except LeftOut:
        return np.full(np.shape(walk_nodes), np.inf)


def _ride_links(q: Query, kinds) -> _RideLinks:
    """Facility -> stop walks usable for park-and-ride (``kinds``: car or bicycle facilities):
    (stop, walk s at the traveller's speed, walk m, unique facilities, link -> facility row).

    A link is left out when walking straight from the facility to the destination takes no
    longer than walking to the stop plus the shortest walk from any stop to the destination:
    riding on from it cannot be quicker (a car park next to the destination is CAR_PARK's).
    """
    net, pk, o = q.network, q.network.parking, q.options
    links = stop_links(net, o.park_ride_walk_m)
    fac_ok = np.zeros(pk.n_facilities, dtype=bool)
    fac_ok[street_facilities(pk, kinds, vehicle=True)] = True
    keep = np.flatnonzero(fac_ok[links.facility_idx])
    speed = q.graph.walk_speed_mps if q.graph is not None else transit.DEFAULT_WALK_SPEED_MPS
    walk_s = links.walk_s[keep] * (speed / o.walk_speed_mps)
    egress = q.egress()
    egress_min_s = float(np.min(egress.seconds)) if egress.seconds.size else np.inf
    direct_s = _walk_to_destination_s(q, np.asarray(pk.walk_node_idx)[links.facility_idx[keep]])
    useful = direct_s > walk_s + egress_min_s
    keep, walk_s = keep[useful], walk_s[useful]
    fac, inverse = np.unique(links.facility_idx[keep], return_inverse=True)
    return _RideLinks(links.stop_idx[keep], walk_s, links.walk_m[keep], fac, inverse)


def _pr_choice(fac, drive_s, view: Outlook, policy, l_stop, l_walk_s, inverse, stop) -> FacilityChoice:
    """The facilities serving one stop, ranked as for CAR_PARK with the walk to that stop: the
    words (facilities passed over, fallback) of a park-and-ride itinerary."""
    rows = np.flatnonzero(l_stop == stop)
    frow = inverse[rows]
    ok = np.isfinite(drive_s[frow])
    rows, frow = rows[ok], frow[ok]
    sub = Outlook(*(None if getattr(view, name) is None else np.asarray(getattr(view, name))[frow]
                    for name in ("facility_idx", "arrive_utc_s", "p_free", "expected_free",
                                 "occupancy", "expected_search_s", "basis", "pending_drivers",
                                 "search_without_pending_s")))
    return rank(sub, drive_s[frow], l_walk_s[rows], policy=policy)


def bike_and_ride_mode(q: Query) -> list[Candidate]:
    net, pk = q.network, q.network.parking
    kinds = np.asarray(pk.kind)
    if not np.isin(kinds, [int(k) for k in BIKE_KINDS]).any():
        raise LeftOut(NO_BIKE_PARKING, "the network has no bicycle parking or bike-share station")
    q.need_streets("cycling")
    q.router()
    o = q.options
    l_stop, l_walk_s, l_walk_m, fac, inverse = _ride_links(q, BIKE_KINDS)
    if l_stop.size == 0:
        raise LeftOut(NO_BIKE_PARKING, f"no bicycle parking lies within {o.park_ride_walk_m:,.0f} m "
                      "on foot of a stop (and farther from the destination)")
    nodes = np.asarray(pk.car_node_idx)[fac]
    bike = q.bike_tree(nodes.astype(np.int32))
    ride_s = bike.times_to(nodes)
    if not np.isfinite(ride_s).any():
        raise LeftOut(NO_BIKE_PARKING, "no bicycle parking near a stop is reachable by bicycle")
    stops, secs, pick = _best_access(l_stop, ride_s[inverse] + o.bike_lock_s + l_walk_s,
                                     net.timetable.n_stops)
    js = transit_journeys(q, (stops, secs))
    if js.n_journeys == 0:
        raise LeftOut(NO_TRANSIT_CONNECTION, no_connection(q, "from a bicycle parking"))
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
        place = facility_place(net, f)
        arrive = node_place(q.graph, node, place.name)
        d_ride, d_lock = ceil_s(ride.duration_s), ceil_s(o.bike_lock_s)
        d_walk = max(access_of_stop[s] - d_ride - d_lock, 0)
        t0 = q.time_s if not q.arrive_by else 0
        t1, t2 = t0 + d_ride, t0 + d_ride + d_lock
        stop_p = stop_place(net, s)
        lon, lat, metres = walk_stop_path(q, f, s, float(l_walk_m[link]))
        lock = {"facility_id": place.parking_id, "name": place.name,
                "kind": ParkingKind(int(pk.kind[f])).name, "lock_s": d_lock,
                "return_trip": f"The bicycle stays at {place.name}: the return trip must come back "
                               "to it."}
        first = [
            make_leg("BICYCLE", q.origin, arrive, t0, t1, ride,
                     extra={"bike_lane_share": round(bike_lane_share(q.graph, ride), 3)}),
            make_leg("PARK", arrive, place, t1, t2, lon=[arrive.lon, place.lon], lat=[arrive.lat, place.lat],
                     extra={"bike_parking": lock}),
            make_leg("WALK", place, stop_p, t2, t2 + d_walk, distance_m=metres, lon=lon, lat=lat),
        ]
        it2 = _replace_access(q, it, s, access_of_stop[s], first)
        if direct_walk_s[inverse[link]] <= it2.end_s - it2.legs[1].end_s:
            continue   # walking from the bicycle parking is as quick as riding on
        out.append(Candidate("BIKE_AND_RIDE", it2))
    if not out:
        raise LeftOut(DOMINATED, "walking on from the bicycle parking is as quick as riding on "
                      "from it")
    return out
