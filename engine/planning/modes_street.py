"""The street-only modes: ``WALK`` (one walking route; the straight line times the detour
factor when the network has no streets) and ``BICYCLE`` (one cycling route, with the share of
it on bike lanes). Both start and end at the given points: the stretches between them and the
streets they snapped to are walked straight at the walking speed (a cyclist pushes the bike) and
count in the leg's metres and time (``engine.planning.street_trees``). The route runs on the street
contraction hierarchy when the bundle has one and the profile's metric is ready
(``engine.street.fast_route``), else on the searches; the cost is the same."""
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
    path = street.fast_route(q.graph, q.snap("origin", Mode.WALK), q.snap("destination", Mode.WALK),
                             q.walk, deadline=q.deadline)
    if path is None:
        raise LeftOut(NO_ROUTE, "no walking path joins the origin and the destination")
    lon, lat, off_m = _door_to_door(q, path, Mode.WALK)
    start, end = q.span(path.duration_s + off_m / q.options.walk_speed_mps)
    leg = make_leg("WALK", o, d, start, end, distance_m=path.length_m + off_m, lon=lon, lat=lat)
    return [Candidate("WALK", Itinerary(q.day, (leg,)))]


def _door_to_door(q: Query, path: street.StreetPath, mode: Mode) -> tuple[np.ndarray, np.ndarray, float]:
    """(lon, lat, metres off the street) of ``path`` from the given origin to the given
    destination: the straight stretches between each and the street it snapped to added."""
    o, d = q.snap("origin", mode), q.snap("destination", mode)
    lon, lat = np.asarray(path.lon, dtype=np.float64), np.asarray(path.lat, dtype=np.float64)
    if o.distance_m > 0:
        lon, lat = np.r_[o.input_lon, lon], np.r_[o.input_lat, lat]
    if d.distance_m > 0:
        lon, lat = np.r_[lon, d.input_lon], np.r_[lat, d.input_lat]
    return lon, lat, float(o.distance_m + d.distance_m)


def bicycle_mode(q: Query) -> list[Candidate]:
    q.need_streets("cycling")
    path = street.fast_route(q.graph, q.snap("origin", Mode.BICYCLE),
                             q.snap("destination", Mode.BICYCLE), q.bike, deadline=q.deadline)
    if path is None:
        raise LeftOut(NO_ROUTE, "no cycling path joins the origin and the destination")
    lon, lat, off_m = _door_to_door(q, path, Mode.BICYCLE)
    start, end = q.span(path.duration_s + off_m / q.options.walk_speed_mps)
    lanes = np.asarray(q.graph.edge_is_bike_lane)[np.asarray(path.edge_idx)]
    seg_m = np.asarray(q.graph.edge_length_m)[np.asarray(path.edge_idx)] * np.asarray(path.edge_fraction)
    share = float(seg_m[lanes].sum() / seg_m.sum()) if seg_m.sum() > 0 else 0.0
    leg = make_leg("BICYCLE", q.origin, q.destination, start, end, distance_m=path.length_m + off_m,
                   lon=lon, lat=lat, extra={"bike_lane_share": round(share, 3)}, off_street_m=off_m)
    return [Candidate("BICYCLE", Itinerary(q.day, (leg,)))]
