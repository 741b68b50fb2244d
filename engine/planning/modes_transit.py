"""``TRANSIT``: walk to the stops, ride (RAPTOR, range RAPTOR with a window), walk from them;
and the RAPTOR call the ride modes (``engine.planning.modes_ride``) share."""
from __future__ import annotations

import datetime as dt
import zoneinfo

from engine import transit
from engine.planning.itinerary import journeys_to_itineraries
from engine.planning.pareto import Candidate
from engine.planning.query import Query
from engine.planning.reasons import NO_TRANSIT_CONNECTION, OUTSIDE_SERVICE_PERIOD, LeftOut


def transit_journeys(q: Query, access, *, window_s: int = 0):
    router = q.router()
    egress = q.egress().access
    try:
        return router.search(access, egress, q.day, q.time_s, options=q.transit_opts,
                             window_s=window_s, arrive_by=q.arrive_by, deadline=q.deadline)
    except transit.OutsideServicePeriod as exc:
        raise LeftOut(OUTSIDE_SERVICE_PERIOD, str(exc)) from None


def transit_mode(q: Query) -> list[Candidate]:
    q.router()
    acc = q.access()
    egress = q.egress()
    js = transit_journeys(q, acc.access, window_s=q.options.window_s)
    if js.n_journeys == 0:
        raise LeftOut(NO_TRANSIT_CONNECTION, no_connection(q, "walking to and from the stops"))
    its = journeys_to_itineraries(q.transit_network, js, q.origin, q.destination, origin_walk=acc,
                                  destination_walk=egress, walk_speed_mps=q.options.walk_speed_mps)
    return [Candidate("TRANSIT", it) for it in its]


def no_connection(q: Query, how: str) -> str:
    when = "arriving by" if q.arrive_by else "leaving at"
    hhmm = dt.datetime.fromtimestamp(q.utc_s, tz=zoneinfo.ZoneInfo(q.tz)).strftime("%Y-%m-%d %H:%M")
    return f"no transit connection {how} {when} {hhmm}"
