"""Local time and day types of UTC instants, for a facility's IANA time zone.

The occupancy profile follows local days and hours: a weekday, a Saturday or a Sunday/public
holiday (:class:`engine.model.DayType`), and wall-clock seconds after local midnight. The numba
twins of these functions (``_local_time``, ``_day_type``) are in :mod:`engine.parking.kernels`;
they read the offset table built here.
"""
from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

import numpy as np

from engine.model import DayType

_SECONDS_PER_DAY = 86_400
_SECONDS_PER_YEAR = 31_556_952  # mean Gregorian year: locates an instant's year for the tz table


def _zone(timezone: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"timezone {timezone!r} is not an IANA time zone name "
                         "(e.g. 'Europe/Paris')") from None


def _offset_s(zone: zoneinfo.ZoneInfo, t: int) -> int:
    return int(dt.datetime.fromtimestamp(t, zone).utcoffset().total_seconds())


@functools.lru_cache(maxsize=64)
def _offset_table(timezone: str, first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray]:
    """(transition instants, offset from each on) of a zone over whole UTC years.

    Entry 0 starts at the smallest int64 and holds the offset at the start of ``first_year``;
    each later entry is an instant (s since epoch) where the UTC offset changes, found to the
    second by bisection between 6-hourly probes.
    """
    zone = _zone(timezone)
    start = int(dt.datetime(first_year, 1, 1, tzinfo=dt.UTC).timestamp())
    end = int(dt.datetime(last_year + 1, 1, 1, tzinfo=dt.UTC).timestamp())
    step = 6 * 3600
    instants = [np.iinfo(np.int64).min]
    offsets = [_offset_s(zone, start)]
    t_prev, off_prev = start, offsets[0]
    for t in range(start + step, end + step, step):
        off = _offset_s(zone, t)
        if off != off_prev:
            lo, hi = t_prev, t          # offset(lo) == off_prev != offset(hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_s(zone, mid) == off_prev:
                    lo = mid
                else:
                    hi = mid
            instants.append(hi)
            offsets.append(off)
        t_prev, off_prev = t, off
    return np.asarray(instants, dtype=np.int64), np.asarray(offsets, dtype=np.int64)


def _offset_table_for(timezone: str, time_utc_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The offset table covering every instant given (plus a year either side)."""
    if time_utc_s.size == 0:
        return _offset_table(timezone, 1970, 1970)
    first = 1970 + int(time_utc_s.min()) // _SECONDS_PER_YEAR - 1
    last = 1970 + int(time_utc_s.max()) // _SECONDS_PER_YEAR + 1
    return _offset_table(timezone, first, last)


def local_day_and_second(time_utc_s, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """(local date as days since 1970-01-01, seconds after local midnight) of UTC instants.

    "Seconds after local midnight" is wall-clock time: on a daylight-saving day 10:00 is 36,000
    whatever the length of the day. Raises ValueError for an unknown time zone.
    """
    t = np.asarray(time_utc_s, dtype=np.int64)
    transitions, offsets = _offset_table_for(timezone, t)
    local = t + offsets[np.searchsorted(transitions, t, side="right") - 1]
    day = np.floor_divide(local, _SECONDS_PER_DAY)
    return day, local - day * _SECONDS_PER_DAY


def day_types(day, holiday_days=()) -> np.ndarray:
    """DayType (int8) of local dates (days since 1970-01-01): holidays count as Sundays."""
    day = np.asarray(day, dtype=np.int64)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    out = np.where(weekday == 6, DayType.SUNDAY_HOLIDAY,
                   np.where(weekday == 5, DayType.SATURDAY, DayType.WEEKDAY)).astype(np.int8)
    out[np.isin(day, np.asarray(holiday_days, dtype=np.int64))] = DayType.SUNDAY_HOLIDAY
    return out
