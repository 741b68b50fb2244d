"""Planning: composes street, transit and parking searches into trips people can take.

The package owns the multimodal planner (:func:`plan_trip`, its modes, reason codes and the
choice among options), travel-time matrices (:func:`travel_time_matrix`), isochrones
(:func:`reachable_area`), the walks to and from transit stops (:func:`walk_access`), the
itineraries they produce, and :class:`PlanOptions`, where every default is defined once.
"""
from engine.planning.options import PlanOptions  # noqa: I001  (options and access first: no cycles)
from engine.planning.access import LocationNotAccessible, WalkAccess, walk_access, walk_path
from engine.planning.itinerary import (
    Itinerary,
    Leg,
    Place,
    PlanResult,
    Point,
    Route,
    StopRef,
    journeys_to_itineraries,
    plan_walk_transit,
)
from engine.planning.reasons import (
    ALL_MODES,
    DOMINATED,
    LOCATION_NOT_ACCESSIBLE,
    MODES,
    NO_BIKE_PARKING,
    NO_BIKE_SHARE,
    NO_PARKING_AVAILABLE,
    NO_ROUTE,
    NO_STREET_NETWORK,
    NO_TRANSIT_CONNECTION,
    NOT_SELECTED,
    OUTSIDE_BOUNDS,
    OUTSIDE_SERVICE_PERIOD,
    ModeLeftOut,
)
from engine.planning.pareto import LABELS, PARETO_SLACK
from engine.planning.links import prepare
from engine.planning.planner import car_park_times, plan_trip, warm_up
from engine.planning.matrix import (
    BREAKDOWN_FIELDS,
    MatrixError,
    MatrixResult,
    stop_arrival_times,
    travel_time_matrix,
)
from engine.planning.isochrone import IsochroneUnavailable, ReachableArea, reachable_area

__all__ = [
    "ALL_MODES", "NO_BIKE_SHARE",
    "BREAKDOWN_FIELDS", "DOMINATED", "LABELS", "LOCATION_NOT_ACCESSIBLE", "MODES", "NO_BIKE_PARKING",
    "NO_PARKING_AVAILABLE", "NO_ROUTE", "NO_STREET_NETWORK", "NO_TRANSIT_CONNECTION", "NOT_SELECTED",
    "OUTSIDE_BOUNDS", "OUTSIDE_SERVICE_PERIOD", "PARETO_SLACK", "IsochroneUnavailable", "Itinerary",
    "Leg", "LocationNotAccessible", "MatrixError", "MatrixResult", "ModeLeftOut", "Place",
    "PlanOptions", "PlanResult", "Point", "ReachableArea", "Route", "StopRef", "WalkAccess",
    "car_park_times", "journeys_to_itineraries", "plan_trip", "plan_walk_transit", "prepare",
    "reachable_area", "stop_arrival_times", "travel_time_matrix", "walk_access", "walk_path",
    "warm_up",
]
