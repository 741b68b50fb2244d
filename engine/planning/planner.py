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
* ``BIKE_SHARE`` (planned when named): walk to a bike-share station (or a free-floating bike)
  likely to have a bike on arrival, ride, dock at a station likely to have a free dock near the
  destination, walk; and bike share as the first or last leg of a transit trip
  (``engine.planning.modes_bikeshare``). p(bike) and p(dock) come from
  ``engine.parking.bikes``; the choice is ``engine.parking.choice.rank``, as for car parks.

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

Where it lives: the modes and reason codes in ``engine.planning.reasons``; the per-network
preparation in ``engine.planning.links``; the query's shared searches in
``engine.planning.query`` (street trees in ``engine.planning.street_trees``, legs in
``engine.planning.legs``); each mode's builder in ``engine.planning.modes_street``,
``modes_car``, ``modes_ride`` and ``modes_transit``; the selection in
``engine.planning.pareto``. This module is the entry point.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable

import numpy as np

from engine import transit
from engine.deadline import Deadline, check
from engine.model import Network
from engine.parking import LiveObservations
from engine.parking.bikes import BikeShareLive
from engine.parking.choice import CAR_KINDS
from engine.parking.pending import PendingArrivals
from engine.planning.itinerary import PlanResult
from engine.planning.links import prepare
from engine.planning.modes_bikeshare_transit import bike_share_mode
from engine.planning.modes_car import car_park_mode
from engine.planning.modes_ride import bike_and_ride_mode, park_and_ride_mode
from engine.planning.modes_street import bicycle_mode, walk_mode
from engine.planning.modes_transit import transit_mode
from engine.planning.options import PlanOptions
from engine.planning.pareto import Candidate, select_candidates
from engine.planning.query import Query, as_instant, is_outside, location, street_facilities
from engine.planning.realtime import RealtimeState
from engine.planning.realtime_legs import annotate_itineraries
from engine.planning.reasons import (
    ALL_MODES,
    CODE_PRIORITY,
    DOMINATED,
    MODES,
    NO_ROUTE,
    OUTSIDE_BOUNDS,
    LeftOut,
    ModeLeftOut,
)


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
        plan_trip(network, ends[0], ends[1], modes=ALL_MODES, **when)


def car_park_times(network: Network, origin, destination, *, options: PlanOptions | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(facility_idx, drive_s, walk_s) of every car facility linked to the streets: the drive
    from the origin to its entrance and the walk from it to the destination (inf beyond
    ``max_walk_m``), exactly as CAR_PARK measures them (for benchmarks and comparisons).
    Raises ValueError when the network has no streets or a point is not accessible."""
    options = options or PlanOptions()
    q = Query(network, location(network, origin, "Origin"),
              location(network, destination, "Destination"), 0, False, options, None, None)
    try:
        fac = street_facilities(network.parking, CAR_KINDS, vehicle=True)
        drive = q.car_tree().times_to(np.asarray(network.parking.car_node_idx)[fac])
        walk = q.walk_to_destination_tree().times_to(np.asarray(network.parking.walk_node_idx)[fac])
    except LeftOut as exc:
        raise ValueError(exc.reason.message) from None
    return fac, drive, walk


_MODE_BUILDERS = {"WALK": walk_mode, "BICYCLE": bicycle_mode, "CAR_PARK": car_park_mode,
                  "PARK_AND_RIDE": park_and_ride_mode, "BIKE_AND_RIDE": bike_and_ride_mode,
                  "BIKE_SHARE": bike_share_mode, "TRANSIT": transit_mode}


def _parse_modes(modes) -> tuple[str, ...]:
    if isinstance(modes, str):
        modes = modes.split(",")
    out: list[str] = []
    for m in modes:
        name = str(m).strip().upper()
        if not name:
            continue
        if name not in ALL_MODES:
            raise ValueError(f"plan_trip: unknown mode {m!r}; modes are {', '.join(ALL_MODES)}")
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError("plan_trip: no mode given")
    return tuple(out)


def plan_trip(network: Network, origin, destination, *, depart_at=None, arrive_by=None,
              modes: Iterable[str] | str = MODES, options: PlanOptions | None = None,
              live: LiveObservations | None = None, now_utc_s: int | None = None,
              realtime: RealtimeState | None = None, deadline: Deadline | None = None,
              bike_share: BikeShareLive | None = None,
              pending: PendingArrivals | None = None) -> PlanResult:
    """Itineraries from ``origin`` to ``destination`` in the ``modes`` asked, best few first.

    ``origin``/``destination``: an ``engine.planning.itinerary.Point``, a ``StopRef`` (the stop's
    position) or a (lon, lat) tuple in WGS84 degrees. Give exactly one of ``depart_at`` and
    ``arrive_by``: epoch seconds (UTC) or a datetime (naive = local time of the network).
    ``live``/``now_utc_s``: live parking observations and the current instant, passed to the
    forecast. ``realtime``: GTFS-Realtime state (``engine.planning.realtime``): transit runs on
    its overlay on the overlay's day, and every itinerary is annotated (scheduled times and
    delays, alerts, vehicles, cancelled trips, transfer reliability;
    ``engine.planning.realtime_legs``). ``bike_share``: the bikes' live state, the latest GBFS
    snapshot's station flags and free-floating bikes (``engine.parking.bikes.BikeShareLive``);
    the docks' live state is ``live``. ``pending``: drivers the server has already sent to
    each car park (``engine.parking.pending``): the car modes' forecasts take their cars off and
    the car park choice spreads drivers by room. Returns a PlanResult whose itineraries carry the
    planner mode and labels; an empty answer has a reason code and every mode left out its
    reason (module docstring).
    Raises ValueError/TypeError for arguments no user input should produce (unknown mode, both
    or neither time given, a malformed location), and :class:`engine.deadline.DeadlineExceeded`
    once ``deadline`` (None: no limit) has passed: every search checks it, and so does the loop
    over the modes.
    """
    options = options or PlanOptions()
    modes = _parse_modes(modes)
    if (depart_at is None) == (arrive_by is None):
        raise ValueError("plan_trip: give exactly one of depart_at and arrive_by")
    tz = network.timezone
    utc_s = as_instant(depart_at if arrive_by is None else arrive_by, tz)
    try:
        o_place = location(network, origin, "Origin")
        d_place = location(network, destination, "Destination")
    except transit.UnknownStop as exc:
        return PlanResult((), tz, exc.code, str(exc))
    for which, p in (("origin", o_place), ("destination", d_place)):
        if is_outside(network, p, options.bbox_margin_m):
            msg = (f"the {which} (lat {p.lat:.5f}, lon {p.lon:.5f}) lies outside the area this "
                   "network covers")
            return PlanResult((), tz, OUTSIDE_BOUNDS, msg,
                              left_out={m: ModeLeftOut(OUTSIDE_BOUNDS, msg) for m in modes})
    q = Query(network, o_place, d_place, utc_s, arrive_by is not None, options, live, now_utc_s,
              realtime=realtime, deadline=deadline, bike_share=bike_share, pending=pending)
    candidates: list[Candidate] = []
    left_out: dict[str, ModeLeftOut] = {}
    for mode in modes:
        check(deadline, f"the {mode} plan")
        try:
            found = _MODE_BUILDERS[mode](q)
        except LeftOut as exc:
            left_out[mode] = exc.reason
            continue
        candidates.extend(found)
    kept, why = select_candidates(candidates, arrive_by=q.arrive_by, window=options.window_s > 0,
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
    if realtime is not None and network.timetable is not None:
        itineraries = annotate_itineraries(itineraries, network, realtime,
                                           transfer_slack_s=options.transfer_slack_s,
                                           depart_s=None if q.arrive_by else q.time_s)
    left_out = {m: left_out[m] for m in modes if m in left_out}
    if itineraries:
        return PlanResult(itineraries, tz, left_out=left_out)
    codes = [r.code for r in left_out.values()]
    code = next((c for c in CODE_PRIORITY if c in codes), codes[0] if codes else NO_ROUTE)
    message = "; ".join(f"{m}: {r.message}" for m, r in left_out.items())
    return PlanResult((), tz, code, message, left_out=left_out)


__all__ = ["MODES", "PlanOptions", "car_park_times", "plan_trip", "prepare", "warm_up"]
