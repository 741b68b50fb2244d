"""What the planner answers besides itineraries: its modes, the reason codes of a mode left out
or of an empty answer, and the exception a mode's builder raises to leave itself out.

Used by every mode builder (``engine.planning.modes_*``), by the selection of options
(``engine.planning.pareto``) and by :func:`engine.planning.planner.plan_trip`.
"""
from __future__ import annotations

from dataclasses import dataclass

MODES = ("WALK", "BICYCLE", "CAR_PARK", "PARK_AND_RIDE", "BIKE_AND_RIDE", "TRANSIT")
"""Modes :func:`plan_trip` plans when none are named, in the order their itineraries are built."""

ALL_MODES = MODES + ("BIKE_SHARE",)
"""Every mode :func:`plan_trip` accepts: :data:`MODES` and ``BIKE_SHARE`` (bike-share stations or
free-floating bikes: walk, ride, dock, walk; also as the first or last leg of a transit trip),
which is planned when named, as it needs a bike-share system in the network."""

# Reason codes of an empty answer or of a mode left out.
LOCATION_NOT_ACCESSIBLE = "LOCATION_NOT_ACCESSIBLE"
OUTSIDE_BOUNDS = "OUTSIDE_BOUNDS"
OUTSIDE_SERVICE_PERIOD = "OUTSIDE_SERVICE_PERIOD"
NO_TRANSIT_CONNECTION = "NO_TRANSIT_CONNECTION"
NO_PARKING_AVAILABLE = "NO_PARKING_AVAILABLE"
NO_BIKE_PARKING = "NO_BIKE_PARKING"
NO_BIKE_SHARE = "NO_BIKE_SHARE"   # no station (or free bike) likely to have a bike, or a dock
NO_STREET_NETWORK = "NO_STREET_NETWORK"
NO_ROUTE = "NO_ROUTE"
DOMINATED = "DOMINATED"
NOT_SELECTED = "NOT_SELECTED"

# When no itinerary is left, the answer's code is the first of these among the modes' reasons.
CODE_PRIORITY = (LOCATION_NOT_ACCESSIBLE, OUTSIDE_SERVICE_PERIOD, NO_PARKING_AVAILABLE,
                 NO_TRANSIT_CONNECTION, NO_BIKE_PARKING, NO_BIKE_SHARE, NO_STREET_NETWORK, NO_ROUTE)


@dataclass(frozen=True)
class ModeLeftOut:
    """Why a mode asked for has no itinerary: a reason code, a sentence, and for the car modes
    the facilities avoided (``facility_summary`` dicts with a ``reason``)."""

    code: str
    message: str
    avoided: tuple = ()


class LeftOut(Exception):
    """Raised by a mode's builder (and by :class:`engine.planning.query.Query`) when the mode
    has no itinerary; ``reason`` says why."""

    def __init__(self, code: str, message: str, avoided: tuple = ()):
        super().__init__(message)
        self.reason = ModeLeftOut(code, message, tuple(avoided))


DEFAULT_MODES = ("WALK", "TRANSIT")
"""Modes of a plan that names none (``trajet plan``, ``/api/v1/plan``), on a network with a
timetable; :func:`default_modes` says what a network without one gets."""


def default_modes(network) -> tuple[str, ...]:
    """The modes a plan gets when it names none: :data:`DEFAULT_MODES`, or on a network without
    a timetable walking and (when it has streets) cycling, so that a street-only network answers
    instead of failing NO_TRANSIT_CONNECTION."""
    if network.timetable is not None:
        return DEFAULT_MODES
    streets = network.street is not None and network.street.n_nodes > 0
    return ("WALK", "BICYCLE") if streets else ("WALK",)
