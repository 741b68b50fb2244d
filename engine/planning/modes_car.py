"""``CAR_PARK``: drive to a car park (or an on-street zone), park, walk to the destination.

When street zones are among the candidates, ``engine.planning.zone_route`` plans a search route
over the nearest ones; the itinerary parks in its first zone and carries the route (which zones
next, where to go when all are full) when its expected total is no worse than the car park.

One car search from the origin (:meth:`Query.car_tree`) and one backward walk search from the
destination give each facility's drive and walk; ``engine.parking.choice.choose_facility``
chooses among them with the forecast. :func:`parking_object` writes what the PARK leg says
about the choice (why this one, those avoided, the fallback), for park-and-ride too.
"""
from __future__ import annotations

import math

import numpy as np

from engine import street
from engine.parking.choice import (
    CAR_KINDS,
    NO_CHOICE,
    FacilityChoice,
    avoided_reason,
    choose_facility,
    chosen_reason,
    facility_summary,
    heading_note,
)
from engine.planning.itinerary import Itinerary
from engine.planning.legs import ceil_s, facility_place, make_leg, node_place
from engine.planning.links import drive_between
from engine.planning.pareto import Candidate
from engine.planning.query import Query, street_facilities
from engine.planning.reasons import NO_PARKING_AVAILABLE, LeftOut
from engine.planning.zone_route import advice_object, better_than_car_park, zone_advice


def _avoided_entry(q: Query, choice: FacilityChoice, row: int) -> dict:
    pk = q.network.parking
    return {**facility_summary(pk, choice, row, q.tz),
            "reason": avoided_reason(pk, choice.outlook, row, q.tz,
                                     min_p_free=q.options.parking.min_p_free)}


def parking_object(q: Query, choice: FacilityChoice, row: int, *, avoided_rows=None,
                   fallback_row: int = NO_CHOICE, return_trip: str | None = None) -> dict:
    pk = q.network.parking
    obj = facility_summary(pk, choice, row, q.tz)
    obj["why"] = chosen_reason(pk, choice.outlook, row, choice.walk_s[row])
    note = heading_note(pk, choice, row)
    if note:
        obj["why"] = f"{note}: {obj['why']}"
    rows = choice.listed_avoided if avoided_rows is None else avoided_rows
    obj["avoided"] = [_avoided_entry(q, choice, int(r)) for r in rows]
    if fallback_row != NO_CHOICE:
        fb = facility_summary(pk, choice, fallback_row, q.tz)
        a = int(pk.car_node_idx[choice.facility_idx[row]])
        b = int(pk.car_node_idx[choice.facility_idx[fallback_row]])
        drive = street.fast_one_to_one(q.graph, q.car, a, b, deadline=q.deadline)
        fb["drive_from_chosen_s"] = round(drive, 1) if math.isfinite(drive) else None
        fb["reason"] = chosen_reason(pk, choice.outlook, fallback_row, choice.walk_s[fallback_row])
        obj["fallback"] = fb
    else:
        obj["fallback"] = None
    if return_trip:
        obj["return_trip"] = return_trip
    return obj


def car_park_mode(q: Query) -> list[Candidate]:
    q.need_streets("driving")
    net = q.network
    pk = net.parking
    fac = street_facilities(pk, CAR_KINDS, vehicle=True)
    if fac.size == 0:
        raise LeftOut(NO_PARKING_AVAILABLE, "the network has no car park linked to the streets")
    car = q.car_tree()
    walk = q.walk_to_destination_tree()
    drive_s = car.times_to(np.asarray(pk.car_node_idx)[fac])
    walk_s = walk.times_to(np.asarray(pk.walk_node_idx)[fac])
    kw = ({"arrive_by_utc_s": q.utc_s} if q.arrive_by else {"depart_utc_s": q.utc_s})
    near = np.isfinite(drive_s) & np.isfinite(walk_s)
    between = np.full((fac.size, fac.size), np.inf)
    between[np.ix_(near, near)] = drive_between(net, q.car, fac[near], deadline=q.deadline)
    choice = choose_facility(pk, fac, drive_s, walk_s, policy=q.options.parking, live=q.live,
                             now_utc_s=q.now_utc_s, drive_between_s=between, pending=q.pending, **kw)
    if choice.n_candidates == 0:
        raise LeftOut(NO_PARKING_AVAILABLE, f"no car park within {q.options.max_walk_m:,.0f} m on "
                      "foot of the destination is reachable by car")
    base_utc_s = (q.utc_s if not q.arrive_by
                  else int(choice.depart_utc_s.min()) if choice.n_candidates else q.utc_s)
    advice = zone_advice(pk, choice, between[np.ix_(near, near)], base_utc_s=base_utc_s,
                         policy=q.options.parking, live=q.live, now_utc_s=q.now_utc_s)
    if better_than_car_park(advice, choice):
        return [_zone_route_itinerary(q, choice, advice, car, walk, base_utc_s)]
    if choice.chosen == NO_CHOICE:
        rows = np.flatnonzero(choice.avoided)
        rows = rows[np.argsort(choice.walk_s[rows], kind="stable")]
        avoided = tuple(_avoided_entry(q, choice, int(r)) for r in rows)
        names = "; ".join(a["reason"] for a in avoided[:3])
        raise LeftOut(NO_PARKING_AVAILABLE, f"every car park within {q.options.max_walk_m:,.0f} m "
                      f"of the destination is likely full on arrival: {names}", avoided)
    row = choice.chosen
    parking = parking_object(q, choice, row, fallback_row=choice.fallback)
    itinerary = _park_itinerary(q, choice, row, car, walk, float(choice.outlook.expected_search_s[row]),
                                parking)
    return [Candidate("CAR_PARK", itinerary, parking_risk=1.0 - float(choice.outlook.p_free[row]))]


def _zone_route_itinerary(q: Query, choice: FacilityChoice, advice, car, walk, base_utc_s: int
                          ) -> Candidate:
    """The car trip parking in the first zone of the search route, the route in the PARK leg."""
    pk = q.network.parking
    row = int(advice.rows[0])
    nodes = [int(pk.car_node_idx[choice.facility_idx[r]]) for r in advice.rows]
    lon, lat = [np.asarray([q.graph.node_lon[nodes[0]]])], [np.asarray([q.graph.node_lat[nodes[0]]])]
    for a, b in zip(nodes[:-1], nodes[1:], strict=True):
        path = street.shortest_path(q.graph, q.car, a, b, deadline=q.deadline)
        if path is not None:
            lon.append(np.asarray(path.lon))
            lat.append(np.asarray(path.lat))
    # the car parks passed over still matter; the route's own zones are in the route
    zone_rows = set(np.flatnonzero(np.isin(choice.facility_idx, pk.zones.facility_idx)).tolist())
    avoided = [int(r) for r in choice.listed_avoided if int(r) not in zone_rows]
    parking = parking_object(q, choice, row, avoided_rows=avoided, fallback_row=advice.giveup_row)
    parking["search_route"] = advice_object(pk, choice, advice, q.tz, base_utc_s,
                                            (np.concatenate(lon), np.concatenate(lat)))
    parking["why"] = parking["search_route"]["advice"]
    first = parking["search_route"]["zones"][0]   # the route's reading of the first zone
    parking.update(p_space_free=first["p_space_free"], forecast_basis=first["p_basis"],
                   expected_search_s=round(advice.route.expected_search_s, 1))
    itinerary = _park_itinerary(q, choice, row, car, walk, advice.route.expected_search_s, parking)
    return Candidate("CAR_PARK", itinerary, parking_risk=advice.route.p_street_full)


def _park_itinerary(q: Query, choice: FacilityChoice, row: int, car, walk, search_s: float,
                    parking: dict) -> Itinerary:
    """Drive to the facility of ``row``, park (``search_s`` expected search), walk on."""
    net, pk = q.network, q.network.parking
    f = int(choice.facility_idx[row])
    car_node, walk_node = int(pk.car_node_idx[f]), int(pk.walk_node_idx[f])
    drive_leg, walk_leg = car.path(car_node), walk.path(walk_node)
    park_s = q.options.parking.park_s
    d_drive, d_park = ceil_s(drive_leg.duration_s), ceil_s(search_s + park_s)
    d_walk = ceil_s(walk_leg.duration_s)
    if q.arrive_by:
        t3 = q.time_s
        t0 = t3 - d_walk - d_park - d_drive
    else:
        t0 = q.time_s
    t1, t2 = t0 + d_drive, t0 + d_drive + d_park
    t3 = t2 + d_walk
    place = facility_place(net, f)
    entrance = node_place(q.graph, car_node, f"{place.name} (entrance)")
    legs = (
        make_leg("CAR", q.origin, entrance, t0, t1, drive_leg, extra={"parking_id": place.parking_id}),
        make_leg("PARK", entrance, place, t1, t2, lon=[entrance.lon, place.lon],
                 lat=[entrance.lat, place.lat], extra={"parking": parking}),
        make_leg("WALK", place, q.destination, t2, t3, distance_m=walk_leg.length_m,
                 lon=np.r_[place.lon, walk_leg.lon], lat=np.r_[place.lat, walk_leg.lat]),
    )
    return Itinerary(q.day, legs)
