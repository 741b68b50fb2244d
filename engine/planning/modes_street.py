"""The street-only modes: ``WALK`` (one walking route; the straight line times the detour
factor when the network has no streets) and ``BICYCLE`` (one cycling route, with the share of
it on bike lanes)."""
from __future__ import annotations

import numpy as np

from engine import street
from engine.model import Mode, haversine_m
from engine.planning.itinerary import Itinerary
from engine.planning.legs import make_leg
from engine.planning.pareto import Candidate
from engine.planning.query import Query
from engine.planning.reasons import NO_ROUTE, LeftOut


def walk_mode(q: Query) -> list[Candidate]:
    o, d = q.origin, q.destination
    if q.graph is None:
        metres = float(haversine_m(o.lon, o.lat, d.lon, d.lat)) * q.network.walk_detour_factor
        start, end = q.span(metres / q.options.walk_speed_mps)
        return [Candidate("WALK", Itinerary(q.day, (make_leg("WALK", o, d, start, end, distance_m=metres),)))]
    path = street.route(q.graph, q.snap("origin", Mode.WALK), q.snap("destination", Mode.WALK), q.walk,
                        deadline=q.deadline)
    if path is None:
        raise LeftOut(NO_ROUTE, "no walking path joins the origin and the destination")
    start, end = q.span(path.duration_s)
    leg = make_leg("WALK", o, d, start, end, distance_m=path.length_m, lon=path.lon, lat=path.lat)
    return [Candidate("WALK", Itinerary(q.day, (leg,)))]


def bicycle_mode(q: Query) -> list[Candidate]:
    q.need_streets("cycling")
    path = street.route(q.graph, q.snap("origin", Mode.BICYCLE), q.snap("destination", Mode.BICYCLE),
                        q.bike, deadline=q.deadline)
    if path is None:
        raise LeftOut(NO_ROUTE, "no cycling path joins the origin and the destination")
    start, end = q.span(path.duration_s)
    lanes = np.asarray(q.graph.edge_is_bike_lane)[np.asarray(path.edge_idx)]
    seg_m = np.asarray(q.graph.edge_length_m)[np.asarray(path.edge_idx)] * np.asarray(path.edge_fraction)
    share = float(seg_m[lanes].sum() / seg_m.sum()) if seg_m.sum() > 0 else 0.0
    leg = make_leg("BICYCLE", q.origin, q.destination, start, end, distance_m=path.length_m, lon=path.lon,
                   lat=path.lat, extra={"bike_lane_share": round(share, 3)})
    return [Candidate("BICYCLE", Itinerary(q.day, (leg,)))]
