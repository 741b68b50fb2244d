"""Readings of an OpenDataSoft records poll, through a field mapping.

Shapes: Explore API v2.1 (``{"results": [{field: value, ...}]}``), the v1 records API
(``{"records": [{"fields": {...}, "record_timestamp": ...}]}``) and a plain JSON list of
objects. :class:`OdsMapping` names the field of each role: ``facility`` (required), ``free``
and/or ``occupied`` (one of them required), ``capacity``, ``time``; a dotted name reaches into
nested objects (``fields.nb_places``). ``time`` values may be ISO 8601 (naive: UTC) or POSIX
seconds (milliseconds when above 10^11). Without a ``time`` field the reading's instant is the
v1 ``record_timestamp``, else the instant the body was received.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from loaders.live_feeds.readings import Bad, LiveFeedError, LiveFeedReport, Reading, whole_count

ROLES = ("facility", "free", "occupied", "capacity", "time")
_MS_THRESHOLD = 10**11   # POSIX values above this are milliseconds (year 5138 in seconds)


@dataclass(frozen=True)
class OdsMapping:
    """The record field of each role (None: not in the feed)."""

    facility: str
    free: str | None = None
    occupied: str | None = None
    capacity: str | None = None
    time: str | None = None

    @classmethod
    def parse(cls, text: str) -> OdsMapping:
        """``facility=id,free=nb_places_libres,capacity=nb_places,time=date_maj`` -> a mapping.

        Raises ValueError naming the role for an unknown role, a pair that is not ROLE=FIELD, a
        missing ``facility`` or neither ``free`` nor ``occupied``.
        """
        values: dict[str, str] = {}
        for pair in filter(None, (p.strip() for p in text.split(","))):
            role, sep, field = (s.strip() for s in pair.partition("="))
            if not sep or not field:
                raise ValueError(f"{pair!r} is not ROLE=FIELD")
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
            values[role] = field
        if "facility" not in values:
            raise ValueError("the mapping needs facility=FIELD")
        if "free" not in values and "occupied" not in values:
            raise ValueError("the mapping needs free=FIELD or occupied=FIELD")
        return cls(**values)

    def describe(self) -> str:
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                        if getattr(self, f.name) is not None)


def readings_from_ods(document, mapping: OdsMapping, source: str, received_utc_s: int
                      ) -> tuple[list[Reading], LiveFeedReport]:
    """The readings of an OpenDataSoft document. LiveFeedError when it holds no records list."""
    records, v1 = _records(document, source)
    report = LiveFeedReport()
    readings, seen = [], set()
    for index, record in enumerate(records):
        label = f"#{index}"
        try:
            if not isinstance(record, dict):
                raise Bad("not_an_object")
            fields_ = record.get("fields") if v1 and isinstance(record.get("fields"), dict) else record
            fallback = _instant(record.get("record_timestamp")) if v1 else None
            reading = _reading(fields_, mapping, fallback or received_utc_s)
        except Bad as bad:
            report.reject(bad.code, label)
            continue
        key = (reading.facility_id, reading.time_utc_s)
        if key in seen:
            report.reject("duplicate_entity_id", reading.facility_id)
            continue
        seen.add(key)
        readings.append(reading)
    return readings, report


def _records(document, source: str) -> tuple[list, bool]:
    """(the records, whether they are v1 ``records[].fields``)."""
    if isinstance(document, list):
        return document, False
    if isinstance(document, dict):
        if isinstance(document.get("results"), list):
            return document["results"], False
        if isinstance(document.get("records"), list):
            return document["records"], True
    raise LiveFeedError(f"{source}: not OpenDataSoft records (expected 'results' (v2.1), "
                        "'records' (v1) or a JSON list of objects)")


def _field(record: dict, name: str | None):
    """The value at a dotted field name (None when absent)."""
    if name is None:
        return None
    value = record
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _reading(record: dict, mapping: OdsMapping, default_time_utc_s: int) -> Reading:
    facility = _field(record, mapping.facility)
    if facility is None or str(facility).strip() == "":
        raise Bad("missing_id")
    if mapping.time is not None:
        raw_time = _field(record, mapping.time)
        if raw_time is None:
            raise Bad("missing_timestamp")
        time_utc_s = _instant(raw_time)
        if time_utc_s is None:
            raise Bad("invalid_timestamp")
    else:
        time_utc_s = int(default_time_utc_s)
    free = whole_count(_field(record, mapping.free))
    occupied = whole_count(_field(record, mapping.occupied))
    if free is None and occupied is None:
        raise Bad("missing_value")
    return Reading(facility_id=str(facility).strip(), time_utc_s=time_utc_s, free_spaces=free,
                   occupied=occupied, capacity=whole_count(_field(record, mapping.capacity)))


def _instant(value) -> int | None:
    """POSIX seconds of an ISO 8601 text (naive: UTC) or a POSIX number (s or ms); None if neither."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return int(value / 1000 if abs(value) > _MS_THRESHOLD else value)
    if isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return int(when.timestamp())
    return None
