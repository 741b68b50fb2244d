"""Service days: GTFS time (seconds after a service day's reference, local noon minus 12 h),
the shift between consecutive days' frames, the feed's calendar span, and which trips run on a
query day and the day before.
"""
from __future__ import annotations

import datetime as _dt
import functools
import zoneinfo

import numpy as np

from engine.model import Timetable
from engine.transit.errors import OutsideServicePeriod


def day_of(date: _dt.date) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return (date - _dt.date(1970, 1, 1)).days


def service_day_reference(timezone: str, day: int) -> _dt.datetime:
    """The instant from which a service day's times count: local noon minus 12 h (GTFS)."""
    date = _dt.date(1970, 1, 1) + _dt.timedelta(days=int(day))
    noon = _dt.datetime(date.year, date.month, date.day, 12, tzinfo=zoneinfo.ZoneInfo(timezone))
    return (noon.astimezone(_dt.UTC) - _dt.timedelta(hours=12)).astimezone(noon.tzinfo)


def to_service_time(timezone: str, when: _dt.datetime) -> tuple[int, int]:
    """(service day, seconds after its reference) of an aware or naive local datetime.

    The service day is the local calendar date of ``when``; naive datetimes are read in
    ``timezone``.
    """
    tz = zoneinfo.ZoneInfo(timezone)
    when = when.replace(tzinfo=tz) if when.tzinfo is None else when.astimezone(tz)
    day = day_of(when.date())
    ref = service_day_reference(timezone, day).astimezone(_dt.UTC)
    return day, int(round((when.astimezone(_dt.UTC) - ref).total_seconds()))


def from_service_time(timezone: str, day: int, seconds: int) -> _dt.datetime:
    """The local aware datetime of ``seconds`` after service day ``day``'s reference."""
    ref = service_day_reference(timezone, day)
    return (ref.astimezone(_dt.UTC) + _dt.timedelta(seconds=int(seconds))).astimezone(ref.tzinfo)


@functools.lru_cache(maxsize=512)
def previous_day_shift_s(timezone: str, day: int) -> int:
    """Seconds between the references of service days ``day - 1`` and ``day`` (86,400 but on
    daylight-saving changes): what a previous-day trip's times lose in ``day``'s frame."""
    # in UTC: aware datetimes sharing a tzinfo subtract as wall-clock times
    a = service_day_reference(timezone, day - 1).astimezone(_dt.UTC)
    b = service_day_reference(timezone, day).astimezone(_dt.UTC)
    return int(round((b - a).total_seconds()))



def service_period(tt: Timetable) -> tuple[int, int] | None:
    """(first, last) service day of the feed's calendar span, or None when no trip runs on any
    day of the timetable."""
    # the span, not the days with trips: a date inside it with no trip is "no connection", not
    # "outside the service period"
    return ((tt.service_first_day, tt.service_first_day + tt.n_days - 1)
            if tt.n_days and np.asarray(tt.service_active).any() else None)


def check_service_day(period: tuple[int, int] | None, day: int) -> None:
    """Raise OutsideServicePeriod unless ``day`` is within ``period`` (:func:`service_period`;
    the day after the last one is accepted too: trips of the last day may run past midnight)."""
    if period is None or not period[0] <= day <= period[1] + 1:
        raise OutsideServicePeriod(day, *(period or (None, None)))


def trips_running(tt: Timetable, day: int, wheelchair: bool, trip_order: np.ndarray | None) -> np.ndarray:
    """trip_idx -> uint8 bits: 1 if the trip runs on service ``day``, 2 if on ``day - 1`` (0 for
    trips not marked wheelchair-accessible when ``wheelchair``). ``trip_order`` (a search
    direction's trip_idx -> timetable trip_idx, None for identity) reorders the result."""
    active = np.asarray(tt.service_active)
    svc = np.asarray(tt.trip_service_idx)
    mask = np.zeros(tt.n_trips, dtype=np.uint8)
    for bit, dd in ((1, day), (2, day - 1)):
        col = dd - tt.service_first_day
        if 0 <= col < tt.n_days:
            mask |= np.where(active[svc, col], bit, 0).astype(np.uint8)
    if wheelchair:
        mask[np.asarray(tt.trip_wheelchair) != 1] = 0
    if trip_order is not None:
        mask = mask[trip_order]
    return np.ascontiguousarray(mask)
