"""Instants at the API's edge: ISO 8601 in, the feed's timezone, service days and their seconds.

Inside, the engine counts seconds after midnight of a service day (GTFS's "noon minus 12 h") and
days since 1970-01-01; outside, people and clients write ISO 8601 with or without an offset. A
time without offset is local time of the feed's timezone.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

EPOCH_DAY = dt.date(1970, 1, 1).toordinal()
MIN_YEAR, MAX_YEAR = 1970, 2100


def zone(timezone: str) -> dt.tzinfo:
    """The tzinfo of an IANA name; UTC for an unknown or empty name (the bundle was checked)."""
    try:
        return ZoneInfo(timezone) if timezone else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def parse_iso(text: str) -> dt.datetime:
    """A datetime from ISO 8601 text (naive when the text has no offset).

    Raises ValueError with a message fit for a user for malformed text or a year outside
    1970..2100.
    """
    text = text.strip()
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        try:  # a bare date means its midnight
            value = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO 8601 date-time "
                             "(e.g. 2026-01-12T08:30 or 2026-01-12T08:30:00+01:00)") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"{text!r} lies outside the years {MIN_YEAR}-{MAX_YEAR}")
    return value


def localize(value: dt.datetime, timezone: str) -> dt.datetime:
    """An aware datetime in the feed's timezone; naive input is read as local time there.

    A local time that does not exist (the hour skipped in spring) or is ambiguous (autumn)
    takes the offset before the change, as zoneinfo's ``fold=0`` does.
    """
    tz = zone(timezone)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(tz)


def to_utc_s(value: dt.datetime) -> int:
    """Seconds since the Unix epoch of an aware datetime."""
    return int(value.timestamp())


def from_utc_s(utc_s: float, timezone: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(utc_s), zone(timezone))


def iso(utc_s: float, timezone: str) -> str:
    """ISO 8601 with the feed's offset, to the second."""
    return from_utc_s(utc_s, timezone).isoformat(timespec="seconds")


def day_to_iso(day: int) -> str:
    """Days since 1970-01-01 -> 'YYYY-MM-DD'."""
    return dt.date.fromordinal(EPOCH_DAY + int(day)).isoformat()


def service_day_and_seconds(local: dt.datetime) -> tuple[int, int]:
    """(service day as days since 1970-01-01, seconds after its GTFS midnight) of a local time.

    GTFS measures from "noon minus 12 h", which differs from midnight on days with a DST change;
    the seconds are counted from there so they match stop_times on those days too.
    """
    day = local.date()
    tz = local.tzinfo
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=tz)
    origin_utc_s = noon.timestamp() - 12 * 3600
    return day.toordinal() - EPOCH_DAY, int(round(local.timestamp() - origin_utc_s))


def default_departure(timezone: str, service_active: np.ndarray | None, first_day: int,
                      now_utc_s: float) -> tuple[dt.datetime, str | None]:
    """When to plan when the user said nothing: now if the feed runs today, else the next day
    the feed covers (at the same local time of day), else its last day; with a note saying so.
    """
    now = from_utc_s(now_utc_s, timezone)
    if service_active is None or np.asarray(service_active).size == 0:
        return now, None
    active_days = np.flatnonzero(np.asarray(service_active).any(axis=0)) + int(first_day)
    if active_days.size == 0:
        return now, None
    today = now.date().toordinal() - EPOCH_DAY
    if today in set(active_days.tolist()):
        return now, None
    later = active_days[active_days > today]
    target = int(later[0]) if later.size else int(active_days[-1])
    day = dt.date.fromordinal(EPOCH_DAY + target)
    when = dt.datetime.combine(day, now.time().replace(microsecond=0), tzinfo=now.tzinfo)
    when = when.astimezone(now.tzinfo)
    note = (f"the timetable has no service today ({now.date().isoformat()}); planning for "
            f"{day.isoformat()}, the {'next' if later.size else 'last'} day it covers")
    return when, note
