"""The one set of rules a live occupancy reading must meet before it is stored.

Used by ``POST /api/v1/parking/observations`` (:mod:`api.parking`, which reports every problem
as a 422 naming ``observations[i].field``) and by the live-feed pollers (:mod:`api.feeds`, which
count each refused reading under its code, lower-cased): one function, :func:`check_reading`,
so a reading polled from a city's feed and one posted by hand are judged alike.

A reading is a dict ``{facility_id, time_utc_s, free_spaces, occupied, capacity}`` (counts are
ints or None; give free_spaces or occupied). The rules, each with the code it reports:

* the facility is one of the bundle's (``UNKNOWN_FACILITY``);
* the instant is not further in the future than ``future_tolerance_s`` (clock skew;
  ``FUTURE_TIMESTAMP``) nor older than ``max_observation_age_s`` (``STALE_TIMESTAMP``);
* every count is an integer (``INVALID_VALUE``: a NaN, a float or text never reaches the
  store), not negative (``NEGATIVE_VALUE``), at most int32 (``OUT_OF_RANGE``), a capacity is
  positive, and free_spaces or occupied is given (``MISSING_VALUE``);
* a capacity sent is at most ``max_capacity_factor`` x the facility's known capacity, or
  ``max_unknown_capacity`` when it has none (``OUT_OF_RANGE``); free spaces are at most the
  capacity (``EXCEEDS_CAPACITY``), occupied too, free + occupied as well
  (``INCONSISTENT_VALUES``); occupied needs a capacity (``CAPACITY_UNKNOWN``).

Duplicates and conflicts (the same facility and instant stored before) are the store's to find,
in the same transaction as the insert (:meth:`api.observations.ObservationStore.add_unique`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from api.config import INT32_MAX, ApiConfig
from api.observations import Observation
from api.timeutil import iso

Bad = Callable[[str, str, str], None]
"""Reports one problem: ``bad(field, CODE, message)``."""


@dataclass(frozen=True)
class ObservationRules:
    """The limits a reading must meet (from :class:`api.config.ApiConfig`) at ``now_utc_s``."""

    now_utc_s: int
    future_tolerance_s: int
    max_age_s: int
    capacity_factor: float
    unknown_capacity: int

    @classmethod
    def of(cls, config: ApiConfig, now_utc_s: int) -> ObservationRules:
        return cls(int(now_utc_s), config.future_tolerance_s, config.max_observation_age_s,
                   config.max_capacity_factor, config.max_unknown_capacity)

    def capacity_limit(self, known: int | None) -> tuple[int, str]:
        """(the highest capacity accepted, why) for a facility of known capacity ``known``."""
        if known is None:
            return self.unknown_capacity, ("the most accepted for a facility of unknown capacity "
                                           "(max_unknown_capacity)")
        return int(known * self.capacity_factor), (
            f"{self.capacity_factor:g} x this facility's known capacity ({known}) "
            "(max_capacity_factor)")


class Facilities:
    """The bundle's facilities as the checks see them: id -> index, known capacities, timezone.

    ``index_of`` maps an id to its facility_idx (None: not in the bundle); ``capacity`` holds
    spaces per facility_idx (<= 0: unknown). Built from :class:`engine.model.Parking`.
    """

    def __init__(self, facility_ids, capacity, timezone: str,
                 index_of: Callable[[str], int | None] | None = None):
        self.ids = np.asarray(facility_ids)
        self.capacity = np.asarray(capacity)
        self.timezone = timezone
        if index_of is None:
            index = {str(f): i for i, f in enumerate(self.ids.tolist())}
            index_of = index.get
        self.index_of = index_of

    @classmethod
    def of(cls, parking, timezone: str, index_of=None) -> Facilities:
        return cls(parking.facility_ids, parking.capacity, timezone, index_of)

    def known_capacity(self, idx: int) -> int | None:
        cap = int(self.capacity[idx])
        return cap if cap > 0 else None


def check_reading(facilities: Facilities, reading: dict, rules: ObservationRules,
                  bad: Bad) -> Observation | None:
    """The observation of one reading, or None after reporting its problems through ``bad``."""
    idx = facilities.index_of(str(reading["facility_id"]))
    if idx is None:
        bad("facility_id", "UNKNOWN_FACILITY", f"no facility {str(reading['facility_id'])[:80]!r} "
            "in this network (see GET /api/v1/parking)")
    ok = _check_time(reading["time_utc_s"], facilities.timezone, rules, bad)
    ok &= _check_counts(reading, bad)
    if not ok or idx is None:
        return None
    free = _free_spaces(reading, facilities.known_capacity(idx), rules, bad)
    if free is None:
        return None
    return Observation(facility_id=str(facilities.ids[idx]), time_utc_s=int(reading["time_utc_s"]),
                       free_spaces=int(free), capacity=reading["capacity"],
                       received_utc_s=rules.now_utc_s)


def _check_time(t, tz: str, rules: ObservationRules, bad: Bad) -> bool:
    """Not further in the future than the clock tolerance, not older than the age window."""
    if type(t) is not int:
        bad("timestamp", "INVALID_VALUE", f"the instant {str(t)[:24]} is not whole seconds")
        return False
    now = rules.now_utc_s
    if t > now + rules.future_tolerance_s:
        bad("timestamp", "FUTURE_TIMESTAMP", f"{iso(t, tz)} lies {t - now} s in the future "
            f"(tolerance {rules.future_tolerance_s} s)")
        return False
    if t < now - rules.max_age_s:
        bad("timestamp", "STALE_TIMESTAMP", f"{iso(t, tz)} is older than "
            f"{_duration(rules.max_age_s)} (max_observation_age_s = {rules.max_age_s}); only "
            "recent observations are taken")
        return False
    return True


def _duration(seconds: int) -> str:
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400} days"
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds} s"


def _check_counts(reading: dict, bad: Bad) -> bool:
    """Every count given is an int32 >= 0 (capacity > 0), and free_spaces or occupied is given."""
    ok = True
    for name in ("free_spaces", "occupied", "capacity"):
        value = reading[name]
        if value is None:
            continue
        if type(value) is not int:   # NaN, inf, 3.5, "12": never stored
            bad(name, "INVALID_VALUE", f"{name} ({str(value)[:24]}) is not a whole number")
        elif value < 0:
            bad(name, "NEGATIVE_VALUE", f"{name} is negative ({str(value)[:24]})")
        elif value > INT32_MAX:
            bad(name, "OUT_OF_RANGE", f"{name} ({str(value)[:24]}) is beyond {INT32_MAX}")
        elif name == "capacity" and value == 0:
            bad(name, "OUT_OF_RANGE", "capacity must be positive")
        else:
            continue
        ok = False
    if reading["free_spaces"] is None and reading["occupied"] is None:
        bad("free_spaces", "MISSING_VALUE", "give free_spaces or occupied")
        ok = False
    return ok


def _free_spaces(reading: dict, known: int | None, rules: ObservationRules, bad: Bad) -> int | None:
    """The free spaces the reading says, checked against its capacity (sent, else the
    facility's, else the cap for unknown capacities); None after reporting a problem."""
    free, occupied, capacity = reading["free_spaces"], reading["occupied"], reading["capacity"]
    if capacity is not None:
        limit, why = rules.capacity_limit(known)
        if capacity > limit:
            bad("capacity", "OUT_OF_RANGE", f"capacity {capacity} exceeds {limit}, {why}")
            return None
    cap = capacity if capacity is not None else known
    if free is None:
        if cap is None:
            bad("occupied", "CAPACITY_UNKNOWN", "occupied needs a capacity (this facility's "
                "is unknown): give capacity or free_spaces")
            return None
        if occupied > cap:
            bad("occupied", "EXCEEDS_CAPACITY", f"occupied ({occupied}) exceeds the capacity ({cap})")
            return None
        return cap - occupied
    if cap is None:
        limit, why = rules.capacity_limit(None)
        if free > limit:
            bad("free_spaces", "OUT_OF_RANGE", f"free_spaces {free} exceeds {limit}, {why}")
            return None
    elif free > cap:
        bad("free_spaces", "EXCEEDS_CAPACITY", f"free_spaces ({free}) exceeds the capacity "
            f"({cap}); send capacity if it changed")
        return None
    elif occupied is not None and free + occupied > cap:
        bad("occupied", "INCONSISTENT_VALUES", f"free_spaces + occupied ({free + occupied}) "
            f"exceeds the capacity ({cap})")
        return None
    return free


__all__ = ["Facilities", "ObservationRules", "check_reading"]
