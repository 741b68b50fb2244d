"""Bike share as the first or the last leg of a transit trip (itineraries of mode ``BIKE_SHARE``),
and the mode's entry, :func:`bike_share_mode` (the direct trip and these two).

*First leg* (:func:`bike_share_then_transit`): the pick-up is ranked as in the direct trip
(``engine.planning.modes_bikeshare.choose``'s rule: :func:`engine.parking.choice.rank` with
p(bike) and the walks between pick-ups), the rest of the trip being the best ride to a station
within ``park_ride_walk_m`` of a stop (``engine.planning.links.stop_links``) plus that walk. Each
stop's access time is then the best over its stations of walk + unlock + expected search + ride
+ dock + expected search for a dock + walk, stations whose p(dock) is under the threshold left
out; one RAPTOR run takes them all, as ``BIKE_AND_RIDE`` does (``modes_ride``). Arrive-by: a first
RAPTOR run with the static access (no unavailability) gives the departure the forecasts are made
for, as park-and-ride does.

*Last leg* (:func:`transit_then_bike_share`): each stop near a station gets an egress time: walk
to the station, unlock, expected search for a bike, ride to the best likely dock near the
destination, dock, walk. p(bike) is forecast for the arrival of a first RAPTOR run with walking
egress (the instant the traveller would reach that part of the city), stations under the
threshold left out; a second RAPTOR run takes the egress times.

Rides are ``street.many_to_many`` kernel calls (forward from the pick-up, or backward from the
docks near the destination: one search per dock, not per station).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from engine.model import ParkingKind
from engine.parking.choice import rank
from engine.planning import modes_bikeshare as bs
from engine.planning.itinerary import Itinerary, Leg, journeys_to_itineraries, stop_place
from engine.planning.legs import ceil_s, make_leg, walk_stop_path
from engine.planning.links import stop_links
from engine.planning.modes_ride import _best_access, _replace_access
from engine.planning.modes_transit import transit_journeys
from engine.planning.pareto import Candidate
from engine.planning.query import Query
from engine.planning.reasons import NO_BIKE_SHARE, LeftOut


def _station_links(q: Query):
    """(stop, walk s, walk m, station facility_idx) of the walks between stations and stops."""
    links = stop_links(q.network, q.options.park_ride_walk_m)
    kind = np.asarray(q.network.parking.kind)[links.facility_idx]
    keep = np.flatnonzero(kind == int(ParkingKind.BIKE_SHARE))
    speed = q.graph.walk_speed_mps / q.options.walk_speed_mps
    return (links.stop_idx[keep], links.walk_s[keep] * speed, links.walk_m[keep],
            links.facility_idx[keep].astype(np.int64))


def _station_ends(q: Query, fac: np.ndarray) -> bs.Ends:
    pk = q.network.parking
    bikes = [bs.system_bike(q.network, str(pk.facility_ids[f])) for f in fac]
    return bs.Ends(facility_idx=fac, bike_row=np.full(fac.size, -1),
                   walk_node=np.asarray(pk.walk_node_idx)[fac].astype(np.int64),
                   bike_node=np.asarray(pk.car_node_idx)[fac].astype(np.int64), walk_s=np.zeros(fac.size),
                   speed_mps=np.array([b[0] for b in bikes]), vehicle=tuple(b[1] for b in bikes))


def _dock_choice(q: Query, docks: bs.Ends, drive_s: np.ndarray, walk_s: np.ndarray, depart_utc_s: int):
    """(FacilityChoice, StationOutlook) of docks reached after ``drive_s`` with ``walk_s`` on."""
    at = depart_utc_s + np.round(drive_s).astype(np.int64)
    view, so = bs.dock_view(q, docks, at)
    policy = dataclasses.replace(q.options.parking, park_s=bs.BIKE_DOCK_S)
    return rank(view, drive_s, walk_s, policy=policy, depart_utc_s=depart_utc_s), so


def _ride_leg(q: Query, plan: bs.Plan, start_s: int) -> tuple[list[Leg], dict]:
    """WALK to the pick-up and the ride to the dock of ``plan`` from ``start_s``."""
    i, j = int(plan.pick_choice.chosen), int(plan.dock_choice.chosen)
    walk1 = q.walk_from_origin_tree().path(int(plan.pick.walk_node[i]))
    ride = bs.street.shortest_path(q.graph, bs.bike_profile(q, plan.pick.speed_mps[i]),
                                   int(plan.pick.bike_node[i]), int(plan.docks.bike_node[j]),
                                   deadline=q.deadline)
    if ride is None:
        raise LeftOut(NO_BIKE_SHARE, "no way by bike between the chosen stations")
    a, b = bs.place_of(q, plan.pick, i), bs.place_of(q, plan.docks, j)
    info = _info(q, plan, ride.duration_s)
    t1 = start_s + ceil_s(walk1.duration_s)
    t2 = t1 + ceil_s(bs.BIKE_UNLOCK_S + ride.duration_s + bs.BIKE_DOCK_S + info["extra_s"])
    return [make_leg("WALK", q.origin, a, start_s, t1, walk1),
            _ride(a, b, t1, t2, ride, info)], info


def _ride(a, b, t1: int, t2: int, path, info: dict) -> Leg:
    return make_leg("BICYCLE", a, b, t1, t2, lon=np.r_[a.lon, path.lon, b.lon],
                    lat=np.r_[a.lat, path.lat, b.lat], distance_m=path.length_m, extra={"bike_share": info})


def _info(q: Query, plan: bs.Plan, ride_s: float) -> dict:
    i = int(plan.pick_choice.chosen)
    pickup, dropoff = bs.end_object(q, plan, bs.words.PICKUP), bs.end_object(q, plan, bs.words.DROPOFF)
    return {"pickup": pickup, "dropoff": dropoff, "p_bike": pickup["p_bike"], "p_dock": dropoff["p_dock"],
            "vehicle_type": {"name": plan.pick.vehicle[i],
                             "speed_mps": round(float(plan.pick.speed_mps[i]), 2)},
            "unlock_s": bs.BIKE_UNLOCK_S, "dock_s": bs.BIKE_DOCK_S, "ride_s": round(float(ride_s), 1),
            "extra_s": pickup["expected_extra_s"] + dropoff["expected_extra_s"]}


def bike_share_then_transit(q: Query) -> list[Candidate]:
    q.router()
    l_stop, l_walk_s, l_walk_m, l_fac = _station_links(q)
    if l_stop.size == 0:
        raise LeftOut(NO_BIKE_SHARE, "no bike-share station lies near a stop")
    pick = bs.pickups(q)
    fac, inverse = np.unique(l_fac, return_inverse=True)
    docks = _station_ends(q, fac)
    ride = bs.rides(q, pick, docks)
    best_link = np.full(fac.size, np.inf)
    np.minimum.at(best_link, inverse, l_walk_s)
    rest = (ride + bs.BIKE_DOCK_S + best_link[None, :]).min(axis=1)
    ok = np.flatnonzero(np.isfinite(rest) & np.isfinite(pick.walk_s))
    if ok.size == 0:
        raise LeftOut(NO_BIKE_SHARE, "no bike-share station near the origin is linked by bike to one "
                      "near a stop")
    pick, ride, rest = pick.take(ok), ride[ok], rest[ok]
    t0 = _arrive_by_departure_utc_s(q, pick, ride, (l_stop, l_walk_s, inverse)) if q.arrive_by else q.utc_s
    view, pick_so = bs.pickup_view(q, pick, t0 + np.round(pick.walk_s).astype(np.int64))
    policy = dataclasses.replace(q.options.parking, park_s=bs.BIKE_UNLOCK_S)
    between = bs.street_matrix(q, q.walk, pick.walk_node, pick.walk_node)
    pick_choice = rank(view, pick.walk_s, rest, policy=policy, depart_utc_s=t0, drive_between_s=between)
    i = bs.chosen_row(q, pick_choice, pick, pick_so, bs.words.PICKUP, "a bike on arrival near the origin")
    drive = pick.walk_s[i] + bs.BIKE_UNLOCK_S + view.expected_search_s[i] + ride[i]
    dview, _ = bs.dock_view(q, docks, t0 + np.round(np.nan_to_num(drive, posinf=0)).astype(np.int64))
    usable = np.isfinite(drive) & (dview.p_free >= q.options.parking.min_p_free)
    per_dock = np.where(usable, drive + bs.BIKE_DOCK_S + dview.expected_search_s, np.inf)
    # a stop the traveller walks to from the destination is the direct trip's (no ride between)
    per_link = np.where(np.isin(l_stop, q.egress().stops), np.inf, per_dock[inverse] + l_walk_s)
    stops, secs, pick_link = _best_access(l_stop, per_link, q.network.timetable.n_stops)
    if stops.size == 0:
        raise LeftOut(NO_BIKE_SHARE, "every bike-share station near a stop is likely to have no free dock")
    js = transit_journeys(q, (stops, secs))
    its = journeys_to_itineraries(q.transit_network, js, q.origin, q.destination, origin_walk=None,
                                  destination_walk=q.egress(), walk_speed_mps=q.options.walk_speed_mps)
    out = []
    for j, it in enumerate(its):
        s = int(js.leg_to_stop[js.leg_offsets[j]])
        k = int(np.flatnonzero(stops == s)[0])
        rows = np.flatnonzero((l_stop == s) & np.isfinite(per_dock[inverse]))
        sub = docks.take(inverse[rows])
        dock_choice, dock_so = _dock_choice(q, sub, drive[inverse[rows]], l_walk_s[rows], t0)
        chosen = int(np.flatnonzero(rows == pick_link[k])[0])
        dock_choice = dataclasses.replace(dock_choice, chosen=chosen)
        plan = bs.Plan(pick, sub, pick_choice, dock_choice, pick_so, dock_so, ride)
        first, info = _ride_leg(q, plan, 0 if q.arrive_by else q.time_s)
        f = int(sub.facility_idx[chosen])
        lon, lat, metres = walk_stop_path(q, f, s, float(l_walk_m[rows[chosen]]))
        t2 = first[-1].end_s
        first.append(make_leg("WALK", first[-1].to_place, stop_place(q.network, s), t2,
                              t2 + ceil_s(l_walk_s[rows[chosen]]), distance_m=metres, lon=lon, lat=lat))
        it2 = _replace_access(q, it, s, int(secs[k]), first)
        out.append(Candidate("BIKE_SHARE", it2, parking_risk=1.0 - info["p_bike"] * info["p_dock"]))
    return out


def _arrive_by_departure_utc_s(q: Query, pick: bs.Ends, ride: np.ndarray, links) -> int:
    """Arrive-by, pass 1: RAPTOR with the static bike-share access (no unavailability) to learn
    when the traveller must leave (UTC s), as park-and-ride does; the forecasts are then made for
    that departure."""
    l_stop, l_walk_s, inverse = links
    static = (pick.walk_s[:, None] + bs.BIKE_UNLOCK_S + ride + bs.BIKE_DOCK_S).min(axis=0)
    stops, secs, _ = _best_access(l_stop, static[inverse] + l_walk_s, q.network.timetable.n_stops)
    js = transit_journeys(q, (stops, secs)) if stops.size else None
    if js is None or js.n_journeys == 0:
        raise LeftOut(NO_BIKE_SHARE, "no transit connection from a bike-share station near a stop")
    return int(q.utc(int(np.max(js.depart_s))))


def _rides_to_docks(q: Query, picks: bs.Ends, docks: bs.Ends) -> np.ndarray:
    """(pick-ups, docks) riding costs (s): backward searches from the docks (one per dock and
    riding speed), inf from a station to itself."""
    out = np.full((picks.size, docks.size), np.inf)
    for speed in np.unique(picks.speed_mps):
        rows = np.flatnonzero(picks.speed_mps == speed)
        m = bs.street.many_to_many(q.graph, bs.bike_profile(q, speed), docks.bike_node.astype(np.int32),
                                   picks.bike_node[rows].astype(np.int32), reverse=True, deadline=q.deadline)
        out[rows] = np.where(m >= bs.street.UNREACHED, np.inf, m).T
    out[picks.facility_idx[:, None] == docks.facility_idx[None, :]] = np.inf
    return out


def _egress_search(q: Query, egress):
    """RAPTOR from the walks to the stops to the bike-share egress of each stop."""
    return q.router().search(q.access().access, egress, q.day, q.time_s, options=q.transit_opts,
                             arrive_by=q.arrive_by, deadline=q.deadline)


def transit_then_bike_share(q: Query) -> list[Candidate]:
    q.router()
    l_stop, l_walk_s, l_walk_m, l_fac = _station_links(q)
    docks = bs.stations_near(q, q.walk_to_destination_tree(), nearest=bs.MAX_DOCKS)
    if l_stop.size == 0 or docks.size == 0:
        raise LeftOut(NO_BIKE_SHARE, "no bike-share station near a stop, or none near the destination")
    fac, inverse = np.unique(l_fac, return_inverse=True)
    picks = _station_ends(q, fac)
    ride = _rides_to_docks(q, picks, docks)
    rest = (ride + bs.BIKE_DOCK_S + docks.walk_s[None, :]).min(axis=1)
    first = transit_journeys(q, q.access().access)
    if first.n_journeys == 0:
        raise LeftOut(NO_BIKE_SHARE, "no transit connection to ride before the bike")
    at = int(q.utc(int(np.min(first.arrive_s) if not q.arrive_by else np.max(first.arrive_s))))
    view, pick_so = bs.pickup_view(q, picks, np.full(picks.size, at, dtype=np.int64))
    usable = np.isfinite(rest) & (view.p_free >= q.options.parking.min_p_free)
    per_pick = np.where(usable, bs.BIKE_UNLOCK_S + view.expected_search_s + rest, np.inf)
    # a stop the traveller walks to from the origin is the direct trip's (no ride before)
    per_link = np.where(np.isin(l_stop, q.access().stops), np.inf, l_walk_s + per_pick[inverse])
    stops, secs, link_of = _best_access(l_stop, per_link, q.network.timetable.n_stops)
    if stops.size == 0:
        raise LeftOut(NO_BIKE_SHARE, "every bike-share station near the stops is likely to have no bike")
    js = _egress_search(q, (stops, secs))
    its = journeys_to_itineraries(q.transit_network, js, q.origin, q.destination, origin_walk=q.access(),
                                  destination_walk=None, walk_speed_mps=q.options.walk_speed_mps)
    out = []
    for j, it in enumerate(its):
        s = int(js.leg_from_stop[js.leg_offsets[j + 1] - 1])
        k = int(np.flatnonzero(stops == s)[0])
        it2, info = _with_bike_share_egress(q, it, s, int(secs[k]), link_of[k], picks, docks, ride,
                                            (l_stop, l_walk_s, l_walk_m, inverse))
        out.append(Candidate("BIKE_SHARE", it2, parking_risk=1.0 - info["p_bike"] * info["p_dock"]))
    return out


def _with_bike_share_egress(q: Query, it: Itinerary, s: int, egress_s: int, link: int, picks, docks, ride,
                            links) -> tuple[Itinerary, dict]:
    """The itinerary with its walk from stop ``s`` replaced by WALK to the station, the ride,
    WALK to the destination; the pick-up ranked among the stations of ``s`` at the arrival."""
    l_stop, l_walk_s, l_walk_m, inverse = links
    legs = list(it.legs)
    while legs and legs[-1].mode == "WALK" and legs[-1].to_place is q.destination:
        legs.pop()
    t_stop = legs[-1].end_s + max(it.end_s - egress_s - legs[-1].end_s, 0)
    rows = np.flatnonzero(l_stop == s)
    sub = picks.take(inverse[rows])
    sub = dataclasses.replace(sub, walk_s=l_walk_s[rows])
    t_utc = int(q.utc(t_stop))
    view, so = bs.pickup_view(q, sub, t_utc + np.round(sub.walk_s).astype(np.int64))
    rest = (ride[inverse[rows]] + bs.BIKE_DOCK_S + docks.walk_s[None, :]).min(axis=1)
    policy = dataclasses.replace(q.options.parking, park_s=bs.BIKE_UNLOCK_S)
    pick_choice = rank(view, sub.walk_s, rest, policy=policy, depart_utc_s=t_utc)
    pick_choice = dataclasses.replace(pick_choice, chosen=int(np.flatnonzero(rows == link)[0]))
    i = int(pick_choice.chosen)
    drive = sub.walk_s[i] + bs.BIKE_UNLOCK_S + view.expected_search_s[i] + ride[inverse[rows[i]]]
    reach = np.flatnonzero(np.isfinite(drive))
    dk = docks.take(reach)
    dock_choice, dock_so = _dock_choice(q, dk, drive[reach], dk.walk_s, t_utc)
    plan = bs.Plan(sub, dk, pick_choice, dock_choice, so, dock_so, ride)
    f = int(sub.facility_idx[i])
    lon, lat, metres = walk_stop_path(q, f, s, float(l_walk_m[rows[i]]))
    a, b = bs.place_of(q, sub, i), bs.place_of(q, dk, int(dock_choice.chosen))
    path = bs.street.shortest_path(q.graph, bs.bike_profile(q, sub.speed_mps[i]), int(sub.bike_node[i]),
                                   int(dk.bike_node[int(dock_choice.chosen)]), deadline=q.deadline)
    walk2 = q.walk_to_destination_tree().path(int(dk.walk_node[int(dock_choice.chosen)]))
    info = _info(q, plan, path.duration_s)
    t1 = t_stop + ceil_s(sub.walk_s[i])
    t2 = t1 + ceil_s(bs.BIKE_UNLOCK_S + path.duration_s + bs.BIKE_DOCK_S + info["extra_s"])
    tail = [make_leg("WALK", stop_place(q.network, s), a, t_stop, t1, distance_m=metres, lon=lon[::-1],
                     lat=lat[::-1]),
            _ride(a, b, t1, t2, path, info),
            make_leg("WALK", b, q.destination, t2, t2 + ceil_s(walk2.duration_s), walk2)]
    if q.arrive_by:
        shift = it.end_s - tail[-1].end_s
        tail = [dataclasses.replace(leg, start_s=leg.start_s + shift, end_s=leg.end_s + shift)
                for leg in tail]
    return Itinerary(it.service_day, tuple(legs + tail)), info


def bike_share_mode(q: Query) -> list[Candidate]:
    """The direct trip and, on a network with a timetable, bike share before or after transit
    (this module); LeftOut with the direct trip's reason when
    none has an itinerary."""
    out, reason = [], None
    builders = [bs.direct_bike_share]
    if q.network.timetable is not None:
        builders += [bike_share_then_transit, transit_then_bike_share]
    for build in builders:
        try:
            out += build(q)
        except LeftOut as exc:
            reason = reason or exc
    if not out:
        raise reason
    return out
