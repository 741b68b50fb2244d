"""Public transit: RAPTOR journeys and travel-time matrices over the flat timetable, and the
building of that timetable.

The package owns, one idea a module:

* ``router``: the Python face, :class:`TransitRouter` and the verbs :func:`earliest_arrival`,
  :func:`range_query`, :func:`latest_departure`, :func:`router_for` (its docstring states the
  semantics every query follows);
* ``options``: :class:`TransitOptions` and its defaults, transit mode names;
* ``service_days``: GTFS service-day time, calendar span, trips running on a day;
* ``journeys``: :class:`JourneySet`, the flat journeys a query returns, and the leg kinds;
* ``errors``: the query errors with the API's reason codes;
* ``inputs``: the arrays a kernel reads (per search direction, per query);
* kernels (numba): ``labels`` (what a label holds), ``rounds`` (the rules of a round),
  ``journey_kernel``, ``matrix_kernel``, ``reconstruct`` (labels back into legs);
* ``build``: timetables from plain trips; ``footpaths``: walking transfers at build time;
* ``realtime``: real-time overlays (a timetable copy with trip updates, cancellations and
  closures for one service day) and ``realtime_times``: the GTFS-Realtime propagation rules.
"""
from engine.transit.errors import OutsideServicePeriod, TransitQueryError, UnknownStop
from engine.transit.inputs import KernelInputs
from engine.transit.journeys import LEG_ACCESS, LEG_EGRESS, LEG_RIDE, LEG_TRANSFER, JourneySet
from engine.transit.labels import FROM_ACCESS, NO_PREDECESSOR, UNREACHED
from engine.transit.matrix_kernel import MATRIX_COMPONENTS
from engine.transit.options import (
    DEFAULT_MAX_TRANSFERS,
    DEFAULT_OPTIONS,
    DEFAULT_TRANSFER_SLACK_S,
    DEFAULT_WALK_SPEED_MPS,
    ROUTE_MODES,
    TransitOptions,
    route_mode,
)
from engine.transit.realtime import (
    RealtimeOverlay,
    RealtimeReport,
    RealtimeUpdates,
    StopTimeChange,
    TripCancellation,
    TripDelayUpdate,
    apply_realtime,
)
from engine.transit.router import (
    Access,
    TransitRouter,
    as_access,
    earliest_arrival,
    latest_departure,
    range_query,
    router_for,
)
from engine.transit.service_days import (
    day_of,
    from_service_time,
    previous_day_shift_s,
    service_day_reference,
    to_service_time,
)

__all__ = [
    "UNREACHED", "NO_PREDECESSOR", "FROM_ACCESS", "LEG_ACCESS", "LEG_RIDE", "LEG_TRANSFER",
    "LEG_EGRESS", "DEFAULT_TRANSFER_SLACK_S", "DEFAULT_MAX_TRANSFERS", "DEFAULT_WALK_SPEED_MPS",
    "ROUTE_MODES", "DEFAULT_OPTIONS", "route_mode", "TransitQueryError", "OutsideServicePeriod",
    "UnknownStop",
    "day_of", "service_day_reference", "to_service_time", "from_service_time",
    "previous_day_shift_s", "TransitOptions", "JourneySet", "Access", "as_access", "KernelInputs",
    "MATRIX_COMPONENTS", "TransitRouter",
    "router_for", "earliest_arrival", "range_query", "latest_departure",
    "apply_realtime", "RealtimeOverlay", "RealtimeReport", "RealtimeUpdates", "StopTimeChange",
    "TripCancellation", "TripDelayUpdate",
]

