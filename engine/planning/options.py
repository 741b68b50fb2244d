"""Every option of a plan, with its default, defined once.

:class:`PlanOptions` is the single place where trajet's defaults live: the planner, the matrix,
the isochrones, the CLI options (``api/cli``) and the API schemas (``api/schemas.py``) all read
their defaults from here, so ``trajet plan --help`` and the OpenAPI document show the same values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from engine import transit
from engine.parking.choice import ParkingPolicy
from engine.planning.access import DEFAULT_MAX_SNAP_M

DEFAULT_MAX_WALK_M = 1500.0
DEFAULT_PARK_RIDE_WALK_M = 400.0
DEFAULT_BIKE_LOCK_S = 60.0
DEFAULT_NUM_ITINERARIES = 5
DEFAULT_BBOX_MARGIN_M = 2000.0
DEFAULT_WINDOW_MIN = 30
"""Departure window (minutes) a traveller's plan request gets from the CLI and the API when it
names none: enough for a few departures of a frequent line ("leave at 8:05, 8:20, 8:35") at a cost
of a few range-RAPTOR rounds per departure. ``PlanOptions.window_s`` stays 0 (one departure) for
the matrix, the isochrones and direct callers."""


@dataclass(frozen=True)
class PlanOptions:
    """How the traveller moves and what the planner returns. Distances in metres, times in s.

    ``max_walk_m`` bounds each walk to or from transit and from a car park to the destination;
    ``park_ride_walk_m`` the walk from a car park or bicycle parking to a stop for
    park-and-ride and bike-and-ride; ``window_s`` > 0 asks transit for every departure in that
    window after the departure (before the arrival for arrive-by). Raises ValueError naming the
    field when a value is out of range.
    """

    walk_speed_mps: float = 1.3
    bike_speed_mps: float = 4.5
    bike_lane_preference: float = 0.5  # a resident expects bike lanes to be preferred
    max_walk_m: float = DEFAULT_MAX_WALK_M
    park_ride_walk_m: float = DEFAULT_PARK_RIDE_WALK_M
    bike_lock_s: float = DEFAULT_BIKE_LOCK_S
    # 8 (R5 allows 8 rides, OpenTripPlanner 12 transfers): 5 cut 85 of 200 earliest arrivals on a
    # synthetic city of 3.1M stop_times
    max_transfers: int = transit.DEFAULT_MAX_TRANSFERS
    transfer_slack_s: int = transit.DEFAULT_TRANSFER_SLACK_S
    transit_modes: frozenset | None = None
    wheelchair: bool = False
    window_s: int = 0
    num_itineraries: int = DEFAULT_NUM_ITINERARIES
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    bbox_margin_m: float = DEFAULT_BBOX_MARGIN_M
    parking: ParkingPolicy = field(default_factory=ParkingPolicy)

    def __post_init__(self):
        positive = ("walk_speed_mps", "bike_speed_mps")
        non_negative = ("bike_lane_preference", "max_walk_m", "park_ride_walk_m", "bike_lock_s",
                        "max_snap_m", "bbox_margin_m")
        for name in positive + non_negative:
            value = float(getattr(self, name))
            ok = value > 0 if name in positive else value >= 0
            if not (math.isfinite(value) and ok):
                raise ValueError(f"PlanOptions: {name} must be {'> 0' if name in positive else '>= 0'},"
                                 f" got {value}")
            object.__setattr__(self, name, value)
        for name, low in (("window_s", 0), ("num_itineraries", 1), ("max_transfers", 0),
                          ("transfer_slack_s", 0)):
            value = getattr(self, name)
            if int(value) != value or value < low:
                raise ValueError(f"PlanOptions: {name} must be an integer >= {low}, got {value}")
            object.__setattr__(self, name, int(value))
        if not isinstance(self.parking, ParkingPolicy):
            raise ValueError("PlanOptions: parking must be a ParkingPolicy")

    def transit_options(self) -> transit.TransitOptions:
        return transit.TransitOptions(max_transfers=self.max_transfers,
                                      transfer_slack_s=self.transfer_slack_s,
                                      walk_speed_mps=self.walk_speed_mps, modes=self.transit_modes,
                                      wheelchair=self.wheelchair)
