"""``BIKE_SHARE``: walk to a station (or a free-floating bike) likely to have a bike on arrival,
ride, dock at a station likely to have a free dock near the destination, walk.

Searches, per query: the forward walk search from the origin and the backward one from the
destination (shared with the other modes, :class:`engine.planning.query.Query`), one
``street.many_to_many`` kernel call for the rides between the ``MAX_PICKUPS`` nearest pick-ups
and ``MAX_DOCKS`` nearest docks (one per riding speed), one for the walks between pick-ups and
one for the rides between docks (what going on to the next station costs), and one path each for
the three legs. No Python loop over edges or nodes.

The choice is :func:`engine.parking.choice.rank`, the car parks' rule, twice: the pick-up with
p(bike) as its p_free, the walk there as its "drive", the rest of the trip (ride to the best
likely dock, dock, walk) as its "walk" and the walks between pick-ups as the diversion when it
has no bike; then the dock with p(dock), the walk + ride to it as its "drive", the walk to the
destination and the rides between docks. p(bike) and p(dock) come from
:func:`engine.parking.bikes.station_outlook` (free bikes: :func:`engine.parking.bikes.free_bike_p`).
The expected extra time (search and diversion) of each end is in the ride leg.

Arrive-by: the depart-at plan leaving at the arrival time minus the static duration (no
unavailability), shifted to end on time; the forecasts are made for that departure (they move by
the expected extra time only, a few minutes).

Transit: ``bike_share_transit`` (first leg: bike share to a dock near a stop, walk, ride transit)
and ``transit_bike_share`` (last leg) follow ``BIKE_AND_RIDE`` (``engine.planning.modes_ride``).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from engine import street
from engine.model import NO_INDEX, Mode, ParkingKind
from engine.parking.bikes import PEDAL_BIKE_SPEED_MPS, free_bike_p, station_outlook
from engine.parking.choice import NO_CHOICE, FacilityChoice, Outlook, rank
from engine.planning import bikeshare_words as words
from engine.planning.itinerary import Itinerary, Place
from engine.planning.legs import ceil_s, facility_place, make_leg
from engine.planning.pareto import Candidate
from engine.planning.query import Query, street_facilities
from engine.planning.reasons import NO_BIKE_SHARE, LeftOut

BIKE_UNLOCK_S = 60.0
"""Seconds to take a bike out (app or card, unlock, adjust the saddle): an assumption."""

BIKE_DOCK_S = 60.0
"""Seconds to dock a bike and see the dock confirm it: an assumption."""

MAX_PICKUPS = 8
"""Pick-up candidates (nearest on foot) weighed per query."""

MAX_DOCKS = 8
"""Drop-off candidates (nearest on foot to the destination) weighed per query."""

FREE_BIKE_SNAP_M = 100.0
"""A free-floating bike farther than this from a street is left out."""


@dataclass(frozen=True)
class Ends:
    """Pick-up or drop-off candidates: stations (``facility_idx`` >= 0) or free bikes."""

    facility_idx: np.ndarray   # row -> facility_idx, NO_INDEX for a free bike
    bike_row: np.ndarray       # row -> row of engine.parking.bikes.FreeBikes, NO_INDEX for a station
    walk_node: np.ndarray      # row -> street node on foot
    bike_node: np.ndarray      # row -> street node on the bike
    walk_s: np.ndarray         # row -> walk from the origin (pick-ups) or to the destination (docks)
    speed_mps: np.ndarray      # row -> riding speed of the bike taken there
    vehicle: tuple             # row -> vehicle type name

    def take(self, rows: np.ndarray) -> Ends:
        return Ends(*(np.asarray(getattr(self, f.name))[rows] for f in dataclasses.fields(self)
                      if f.name != "vehicle"), vehicle=tuple(self.vehicle[int(r)] for r in rows))

    @property
    def size(self) -> int:
        return int(self.facility_idx.size)


def system_bike(network, facility_id: str) -> tuple[float, str]:
    """(riding speed, vehicle type name) of a station's bikes: the system's pedal bike when it
    has one (the common case), else its slowest bicycle type; a pedal city bike by default."""
    systems = (network.metadata or {}).get("bike_share", {}).get("systems", {})
    system_id = facility_id[5:].split("/", 1)[0] if facility_id.startswith("gbfs:") else ""
    types = [t for t in systems.get(system_id, {}).get("vehicle_types", []) if t.get("bike_mode")]
    if not types:
        return PEDAL_BIKE_SPEED_MPS, "bicycle"
    slowest = min(types, key=lambda t: (t["speed_mps"] != PEDAL_BIKE_SPEED_MPS, t["speed_mps"]))
    return float(slowest["speed_mps"]), str(slowest["name"])


def stations_near(q: Query, walk_tree, *, nearest: int) -> Ends:
    """The ``nearest`` bike-share stations on foot (walk tree from the origin or to the
    destination), within ``max_walk_m``."""
    pk = q.network.parking
    fac = street_facilities(pk, (ParkingKind.BIKE_SHARE,), vehicle=True)
    walk_s = walk_tree.times_to(np.asarray(pk.walk_node_idx)[fac])
    ok = np.isfinite(walk_s)
    fac, walk_s = fac[ok], walk_s[ok]
    bikes = [system_bike(q.network, str(pk.facility_ids[f])) for f in fac]
    ends = Ends(facility_idx=fac.astype(np.int64), bike_row=np.full(fac.size, NO_INDEX),
                walk_node=np.asarray(pk.walk_node_idx)[fac].astype(np.int64),
                bike_node=np.asarray(pk.car_node_idx)[fac].astype(np.int64), walk_s=walk_s,
                speed_mps=np.array([b[0] for b in bikes]), vehicle=tuple(b[1] for b in bikes))
    return ends.take(np.argsort(walk_s, kind="stable")[:nearest])


def _free_bikes(q: Query, walk_tree) -> Ends:
    """Free-floating bikes of the latest snapshot reachable on foot from the origin."""
    fb = q.bike_share.free_bikes if q.bike_share is not None else None
    if fb is None or fb.n_bikes == 0:
        return Ends(*(np.zeros(0, dtype=np.int64),) * 4, np.zeros(0), np.zeros(0), ())
    g = q.graph
    nodes = []
    for mode in (Mode.WALK, Mode.BICYCLE):
        s = street.snap_points(g, fb.lon, fb.lat, mode, max_distance_m=FREE_BIKE_SNAP_M)
        nodes.append(np.where(s.accessible, np.where(np.nan_to_num(s.fraction) < 0.5, s.tail_node,
                                                     s.head_node), NO_INDEX).astype(np.int64))
    ok = (nodes[0] != NO_INDEX) & (nodes[1] != NO_INDEX)
    walk_s = np.full(fb.n_bikes, np.inf)
    walk_s[ok] = walk_tree.times_to(nodes[0][ok])
    rows = np.flatnonzero(np.isfinite(walk_s))
    return Ends(facility_idx=np.full(rows.size, NO_INDEX), bike_row=rows, walk_node=nodes[0][rows],
                bike_node=nodes[1][rows], walk_s=walk_s[rows], speed_mps=np.asarray(fb.speed_mps)[rows],
                vehicle=tuple(str(fb.type_name[r]) or "bicycle" for r in rows))


def pickups(q: Query) -> Ends:
    """The ``MAX_PICKUPS`` stations and free bikes nearest the origin on foot."""
    walk = q.walk_from_origin_tree()
    stations, free = stations_near(q, walk, nearest=MAX_PICKUPS), _free_bikes(q, walk)
    both = Ends(*(np.r_[getattr(stations, f), getattr(free, f)] for f in
                  ("facility_idx", "bike_row", "walk_node", "bike_node", "walk_s", "speed_mps")),
                vehicle=stations.vehicle + free.vehicle)
    return both.take(np.argsort(both.walk_s, kind="stable")[:MAX_PICKUPS])


def street_matrix(q: Query, profile: street.StreetProfile, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len a, len b) street costs (s) between nodes, inf where there is no way."""
    if a.size == 0 or b.size == 0:
        return np.full((a.size, b.size), np.inf)
    m = street.many_to_many(q.graph, profile, a.astype(np.int32), b.astype(np.int32),
                            deadline=q.deadline)
    return np.where(m >= street.UNREACHED, np.inf, m)


def bike_profile(q: Query, speed_mps: float) -> street.StreetProfile:
    """The traveller's bicycle profile (bike-lane preference) at a shared bike's speed."""
    return street.StreetProfile(Mode.BICYCLE, walk_speed_mps=q.options.walk_speed_mps,
                                bike_speed_mps=float(speed_mps),
                                bike_lane_preference=q.options.bike_lane_preference)


def rides(q: Query, pick: Ends, docks: Ends) -> np.ndarray:
    """(pick-ups, docks) riding costs (s), one kernel call per riding speed; inf from a station
    to itself."""
    out = np.full((pick.size, docks.size), np.inf)
    for speed in np.unique(pick.speed_mps):
        rows = np.flatnonzero(pick.speed_mps == speed)
        out[rows] = street_matrix(q, bike_profile(q, speed), pick.bike_node[rows], docks.bike_node)
    # taking a bike to dock it where it was taken is no ride (walking there is the WALK mode)
    same = pick.facility_idx[:, None] == docks.facility_idx[None, :]
    out[same & (pick.facility_idx[:, None] >= 0)] = np.inf
    return out


def pickup_view(q: Query, pick: Ends, at_utc_s: np.ndarray):
    """(Outlook with p(bike) as p_free, its rows' station outlook or None) of the pick-ups."""
    pk = q.network.parking
    p = np.zeros(pick.size)
    expected = np.full(pick.size, np.nan)
    basis = np.full(pick.size, 2, dtype=np.int8)       # a free bike is seen live
    st = pick.facility_idx >= 0
    so = station_outlook(pk, pick.facility_idx[st], at_utc_s[st], docks_live=q.live,
                         bike_share=q.bike_share, now_utc_s=q.now_utc_s)
    p[st], expected[st], basis[st] = so.p_bike, so.expected_bikes, so.bikes_basis
    if (~st).any():
        fb = q.bike_share.free_bikes
        p[~st] = free_bike_p(np.asarray(fb.seen_utc_s)[pick.bike_row[~st]], at_utc_s[~st])
        expected[~st] = p[~st]
    ids = np.where(st, pick.facility_idx, pk.n_facilities + pick.bike_row)
    return _outlook(q, ids, at_utc_s, p, expected, basis), so


def dock_view(q: Query, docks: Ends, at_utc_s: np.ndarray):
    so = station_outlook(q.network.parking, docks.facility_idx, at_utc_s, docks_live=q.live,
                         bike_share=q.bike_share, now_utc_s=q.now_utc_s)
    return _outlook(q, docks.facility_idx, at_utc_s, so.p_dock, so.expected_docks, so.docks_basis), so


def _outlook(q: Query, ids, at, p, expected, basis) -> Outlook:
    search_s = q.options.parking.search.expected_s(p, np.full(p.size, np.nan))
    return Outlook(facility_idx=np.asarray(ids, dtype=np.int32), arrive_utc_s=np.asarray(at, np.int64),
                   p_free=np.asarray(p, dtype=np.float64), expected_free=expected,
                   occupancy=np.full(p.size, np.nan), expected_search_s=search_s,
                   basis=np.asarray(basis, dtype=np.int8))


@dataclass(frozen=True)
class Plan:
    """The two choices of one bike-share trip leaving at ``depart_utc_s``."""

    pick: Ends
    docks: Ends
    pick_choice: FacilityChoice
    dock_choice: FacilityChoice
    pick_outlook: object           # engine.parking.bikes.StationOutlook of the station rows
    dock_outlook: object
    ride_s: np.ndarray             # (pick-ups, docks) riding cost (s)


def choose(q: Query, pick: Ends, docks: Ends, depart_utc_s: int) -> Plan:
    """Rank pick-ups, then docks (module docstring). Raises LeftOut NO_BIKE_SHARE, with the
    reasons of the stations passed over, when every candidate is unlikely."""
    policy = q.options.parking
    ride = rides(q, pick, docks)
    to_dock = pick.walk_s[:, None] + BIKE_UNLOCK_S + ride
    first_at = depart_utc_s + np.round(np.nan_to_num(to_dock.min(axis=0), posinf=0)).astype(np.int64)
    est_docks, _ = dock_view(q, docks, first_at)
    likely = est_docks.p_free >= policy.min_p_free
    cols = likely if likely.any() else np.ones(docks.size, dtype=bool)
    rest = (ride[:, cols] + BIKE_DOCK_S + docks.walk_s[cols][None, :]).min(axis=1)
    linked = np.flatnonzero(np.isfinite(rest))
    if linked.size == 0:
        raise LeftOut(NO_BIKE_SHARE, "no bike-share station near the origin is linked by bike to one "
                      "near the destination")
    pick, ride, rest = pick.take(linked), ride[linked], rest[linked]
    at = depart_utc_s + np.round(np.nan_to_num(pick.walk_s, posinf=0)).astype(np.int64)
    view, pick_so = pickup_view(q, pick, at)
    between = street_matrix(q, q.walk, pick.walk_node, pick.walk_node)
    pick_choice = rank(view, pick.walk_s, rest, policy=dataclasses.replace(policy, park_s=BIKE_UNLOCK_S),
                       depart_utc_s=depart_utc_s, drive_between_s=between)
    i = chosen_row(q, pick_choice, pick, pick_so, words.PICKUP, "a bike on arrival near the origin")
    drive = pick.walk_s[i] + BIKE_UNLOCK_S + pick_choice.outlook.expected_search_s[i] + ride[i]
    reach = np.flatnonzero(np.isfinite(drive))          # not the pick-up itself, linked by bike
    docks, drive, ride = docks.take(reach), drive[reach], ride[:, reach]
    dock_at = depart_utc_s + np.round(np.nan_to_num(drive, posinf=0)).astype(np.int64)
    dview, dock_so = dock_view(q, docks, dock_at)
    dock_between = street_matrix(q, bike_profile(q, pick.speed_mps[i]), docks.bike_node, docks.bike_node)
    dock_choice = rank(dview, drive, docks.walk_s, policy=dataclasses.replace(policy, park_s=BIKE_DOCK_S),
                       depart_utc_s=depart_utc_s, drive_between_s=dock_between)
    chosen_row(q, dock_choice, docks, dock_so, words.DROPOFF, "a free dock on arrival near the destination")
    return Plan(pick, docks, pick_choice, dock_choice, pick_so, dock_so, ride)


def chosen_row(q: Query, choice: FacilityChoice, ends: Ends, so, side, what: str) -> int:
    if choice.chosen != NO_CHOICE:
        return int(choice.chosen)
    rows = np.flatnonzero(choice.avoided)
    reasons = "; ".join(_avoided(q, choice, ends, so, side, int(r), None) for r in rows[:3])
    raise LeftOut(NO_BIKE_SHARE, f"no bike-share station within {q.options.max_walk_m:,.0f} m on foot "
                  f"is likely to have {what}: {reasons or 'none is reachable'}")


def _station_row(ends: Ends, so, row: int) -> int | None:
    """Row of ``so`` (the station outlook of the station rows of ``ends``) for candidate ``row``."""
    if ends.facility_idx[row] < 0:
        return None
    return int(np.count_nonzero(ends.facility_idx[:row] >= 0))


def _name(q: Query, ends: Ends, row: int) -> str:
    f = int(ends.facility_idx[row])
    if f >= 0:
        return facility_place(q.network, f).name
    fb = q.bike_share.free_bikes
    return f"{ends.vehicle[row]} {fb.vehicle_id[ends.bike_row[row]]} (free-floating)"


def _avoided(q: Query, choice: FacilityChoice, ends: Ends, so, side, row: int, chosen: int | None) -> str:
    k = _station_row(ends, so, row)
    closed = k is not None and bool((so.closed_renting if side is words.PICKUP else so.closed_returning)[k])
    decayed = k is not None and bool((so.decayed if side is words.PICKUP else so.docks_decayed)[k])
    age = float(so.reading_age_s[k]) if k is not None else math.nan
    further = 0.0 if chosen is None else (ends.walk_s[chosen] - ends.walk_s[row]) * q.options.walk_speed_mps
    return words.avoided_reason(side, _name(q, ends, row), choice, row, q.tz, closed=closed,
                                decayed=decayed, age_s=age,
                                chosen_name=None if chosen is None else _name(q, ends, chosen),
                                further_m=float(further))


def end_object(q: Query, plan: Plan, side) -> dict:
    """JSON-able description of the chosen pick-up or drop-off, with the stations passed over."""
    pickup = side is words.PICKUP
    ends, choice = (plan.pick, plan.pick_choice) if pickup else (plan.docks, plan.dock_choice)
    so = plan.pick_outlook if pickup else plan.dock_outlook
    row = int(choice.chosen)
    k = _station_row(ends, so, row)
    decayed = k is not None and bool((so.decayed if pickup else so.docks_decayed)[k])
    age = float(so.reading_age_s[k]) if k is not None else math.nan
    view = choice.outlook
    f = int(ends.facility_idx[row])
    expected = float(view.expected_free[row])
    out = {"kind": "station" if f >= 0 else "free_bike",
           "facility_id": str(q.network.parking.facility_ids[f]) if f >= 0 else None,
           "vehicle_id": None if f >= 0 else str(q.bike_share.free_bikes.vehicle_id[ends.bike_row[row]]),
           "name": _name(q, ends, row),
           ("p_bike" if pickup else "p_dock"): round(float(view.p_free[row]), 3),
           ("expected_bikes" if pickup else "expected_docks"):
               None if not math.isfinite(expected) else round(expected, 1),
           "forecast_basis": ("decaying_reading" if decayed else
                              ["unknown", "profile", "live"][int(view.basis[row])]),
           "expected_extra_s": round(float(choice.total_s[row] - choice.static_s[row]), 1),
           "why": words.chosen_reason(side, _name(q, ends, row), choice, row,
                                      ends.walk_s[row], q.tz, decayed=decayed, age_s=age)}
    out["avoided"] = [{"name": _name(q, ends, int(r)),
                       "facility_id": (str(q.network.parking.facility_ids[ends.facility_idx[r]])
                                       if ends.facility_idx[r] >= 0 else None),
                       ("p_bike" if pickup else "p_dock"): round(float(view.p_free[r]), 3),
                       "reason": _avoided(q, choice, ends, so, side, int(r), row)}
                      for r in choice.listed_avoided]
    return out


def place_of(q: Query, ends: Ends, row: int) -> Place:
    f = int(ends.facility_idx[row])
    if f >= 0:
        return facility_place(q.network, f)
    fb = q.bike_share.free_bikes
    b = int(ends.bike_row[row])
    return Place(name=_name(q, ends, row), lon=float(fb.lon[b]), lat=float(fb.lat[b]))


def _itinerary(q: Query, plan: Plan, start_s: int) -> Itinerary:
    """WALK to the pick-up, the ride (unlock, expected extra times and docking included), WALK."""
    i, j = int(plan.pick_choice.chosen), int(plan.dock_choice.chosen)
    pick, docks = plan.pick, plan.docks
    walk1 = q.walk_from_origin_tree().path(int(pick.walk_node[i]))
    walk2 = q.walk_to_destination_tree().path(int(docks.walk_node[j]))
    profile = bike_profile(q, pick.speed_mps[i])
    ride = street.shortest_path(q.graph, profile, int(pick.bike_node[i]), int(docks.bike_node[j]),
                                deadline=q.deadline)
    if ride is None:
        raise LeftOut(NO_BIKE_SHARE, "no way by bike between the chosen stations")
    a, b = place_of(q, pick, i), place_of(q, docks, j)
    pickup, dropoff = end_object(q, plan, words.PICKUP), end_object(q, plan, words.DROPOFF)
    extra_s = pickup["expected_extra_s"] + dropoff["expected_extra_s"]
    t1 = start_s + ceil_s(walk1.duration_s)
    t2 = t1 + ceil_s(BIKE_UNLOCK_S + ride.duration_s + BIKE_DOCK_S + extra_s)
    t3 = t2 + ceil_s(walk2.duration_s)
    info = {"pickup": pickup, "dropoff": dropoff, "p_bike": pickup["p_bike"], "p_dock": dropoff["p_dock"],
            "vehicle_type": {"name": pick.vehicle[i], "speed_mps": round(float(pick.speed_mps[i]), 2)},
            "unlock_s": BIKE_UNLOCK_S, "dock_s": BIKE_DOCK_S, "ride_s": round(float(ride.duration_s), 1)}
    legs = (make_leg("WALK", q.origin, a, start_s, t1, walk1),
            make_leg("BICYCLE", a, b, t1, t2, lon=np.r_[a.lon, ride.lon, b.lon],
                     lat=np.r_[a.lat, ride.lat, b.lat], distance_m=ride.length_m,
                     extra={"bike_share": info}),
            make_leg("WALK", b, q.destination, t2, t3, walk2))
    return Itinerary(q.day, legs)


def direct_bike_share(q: Query) -> list[Candidate]:
    """Walk, ride, walk (module docstring)."""
    q.need_streets("bike share")
    pk = q.network.parking
    has_free = q.bike_share is not None and q.bike_share.free_bikes.n_bikes > 0
    if not (np.asarray(pk.kind) == int(ParkingKind.BIKE_SHARE)).any() and not has_free:
        raise LeftOut(NO_BIKE_SHARE, "the network has no bike-share station (build with --gbfs)")
    pick = pickups(q)
    if pick.size == 0:
        raise LeftOut(NO_BIKE_SHARE, f"no bike-share station or free bike within "
                      f"{q.options.max_walk_m:,.0f} m on foot of the origin")
    docks = stations_near(q, q.walk_to_destination_tree(), nearest=MAX_DOCKS)
    if docks.size == 0:
        raise LeftOut(NO_BIKE_SHARE, f"no bike-share station within {q.options.max_walk_m:,.0f} m "
                      "on foot of the destination")
    depart = q.utc_s
    if q.arrive_by:
        ride = rides(q, pick, docks)
        static = (pick.walk_s[:, None] + BIKE_UNLOCK_S + ride + BIKE_DOCK_S + docks.walk_s[None, :]).min()
        if not math.isfinite(static):
            raise LeftOut(NO_BIKE_SHARE, "no bike-share station near the origin is linked by bike to "
                          "one near the destination")
        depart = q.utc_s - int(math.ceil(static))
    plan = choose(q, pick, docks, depart)
    it = _itinerary(q, plan, q.time_s - (q.utc_s - depart))
    if q.arrive_by:
        shift = q.time_s - it.end_s
        it = Itinerary(it.service_day, tuple(dataclasses.replace(leg, start_s=leg.start_s + shift,
                                                                 end_s=leg.end_s + shift) for leg in it.legs))
    info = it.legs[1].extra["bike_share"]
    return [Candidate("BIKE_SHARE", it, parking_risk=1.0 - info["p_bike"] * info["p_dock"])]
