"""GTFS-Realtime feeds (trip updates, service alerts, vehicle positions) as plain records.

A FeedMessage is read with ``gtfs-realtime-bindings`` from protobuf bytes, a ``.pb`` file, a file
in the protobuf JSON mapping (``.json``) or an http(s) URL, and checked against the static feed's
ids. Each entity that breaks a rule of the transitland GTFS-RT validator is left out and counted
under the rule's code (``E001`` timestamps not in POSIX seconds, ``E002`` stop_time_updates out of
stop_sequence order, ``E003`` unknown trip_id, ``E011`` unknown stop_id, ``E020`` bad start_time,
``E022`` times going backwards, ``E026`` position out of range); the rest of the feed applies.

Nothing here raises on a bad entity. :class:`RealtimeFeedError` is raised only for a feed that
cannot be read at all (not a FeedMessage, a DIFFERENTIAL feed, an HTTP error, a timeout, a body
over ``max_bytes``), with a message naming the source.

Times stay as the feed gives them: POSIX seconds (UTC). Turning them into seconds of a service day
is the engine's job (``engine.transit.realtime``), which knows the timezone.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as pb

from loaders.rejections import RejectionReport

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_TIMEOUT_S = 10.0
POSIX_S_MAX = 4_102_444_800  # 2100-01-01: a larger timestamp is in ms or µs (E001)
POSIX_S_MIN = 946_684_800    # 2000-01-01: a smaller positive one is not a feed's clock (E001)
_START_TIME = re.compile(r"^\d{1,2}:[0-5]\d:[0-5]\d$")
_START_DATE = re.compile(r"^\d{8}$")

CODES = {
    "E001": "timestamp not in POSIX seconds",
    "E002": "stop_time_updates not strictly ordered by stop_sequence",
    "E003": "trip_id not in the static feed",
    "E011": "stop_id not in the static feed",
    "E020": "start_time not HH:MM:SS",
    "E021": "start_date not YYYYMMDD",
    "E022": "stop times going backwards along the trip",
    "E026": "latitude or longitude out of range",
    "EMPTY_ENTITY": "entity with no trip update, alert or vehicle position",
}


class RealtimeFeedError(ValueError):
    """A feed that cannot be read at all; the message names the source."""


@dataclass(frozen=True)
class KnownIds:
    """The static feed's ids an update may name (E003, E011 are checked against them)."""

    trip_ids: frozenset[str] = frozenset()
    stop_ids: frozenset[str] = frozenset()
    route_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StopTimeEvent:
    """An arrival or a departure: ``delay_s`` and/or ``time_utc_s`` (None when absent)."""

    delay_s: int | None = None
    time_utc_s: int | None = None
    uncertainty_s: int | None = None


@dataclass(frozen=True)
class StopTimeUpdate:
    stop_sequence: int | None
    stop_id: str | None
    arrival: StopTimeEvent | None
    departure: StopTimeEvent | None
    relationship: str = "SCHEDULED"  # SCHEDULED, SKIPPED, NO_DATA, UNSCHEDULED


@dataclass(frozen=True)
class TripUpdate:
    entity_id: str
    trip_id: str | None
    route_id: str | None
    start_date: str | None        # YYYYMMDD of the service day, when given
    start_time: str | None        # HH:MM:SS (may exceed 24:00:00), when given
    relationship: str             # SCHEDULED, CANCELED, ADDED, DUPLICATED, UNSCHEDULED, DELETED
    vehicle_id: str | None
    timestamp_utc_s: int | None
    delay_s: int | None           # trip-level delay (experimental field), when given
    stop_time_updates: tuple[StopTimeUpdate, ...] = ()


@dataclass(frozen=True)
class InformedEntity:
    agency_id: str | None = None
    route_id: str | None = None
    route_type: int | None = None
    trip_id: str | None = None
    stop_id: str | None = None


@dataclass(frozen=True)
class Alert:
    entity_id: str
    active_periods: tuple[tuple[int | None, int | None], ...]  # (start, end) POSIX s; None = open
    informed: tuple[InformedEntity, ...]
    cause: str
    effect: str
    header_text: dict[str, str]       # language ("" when unstated) -> text
    description_text: dict[str, str]
    url: dict[str, str]


@dataclass(frozen=True)
class VehiclePosition:
    entity_id: str
    vehicle_id: str | None
    label: str | None
    trip_id: str | None
    route_id: str | None
    lon: float | None
    lat: float | None
    bearing_deg: float | None
    stop_id: str | None
    current_stop_sequence: int | None
    current_status: str | None
    timestamp_utc_s: int | None


@dataclass
class FeedReport(RejectionReport):
    """What was left out of a feed, by validator code, with a few entity ids for each."""

    MEANINGS: ClassVar[dict[str, str]] = CODES
    ignored: Counter = field(default_factory=Counter)  # kept out on purpose (e.g. ADDED trips)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "ignored": dict(sorted(self.ignored.items()))}


@dataclass(frozen=True)
class RealtimeFeed:
    source: str
    timestamp_utc_s: int | None       # the header's; None when absent or not POSIX seconds
    trip_updates: tuple[TripUpdate, ...]
    alerts: tuple[Alert, ...]
    vehicles: tuple[VehiclePosition, ...]
    report: FeedReport

    def age_s(self, now_utc_s: float) -> float | None:
        return None if self.timestamp_utc_s is None else now_utc_s - self.timestamp_utc_s


# ---------------------------------------------------------------------------------------------
# Reading bytes
# ---------------------------------------------------------------------------------------------
def fetch_bytes(source: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> bytes:
    """The bytes of a file or an http(s) URL, at most ``max_bytes`` (RealtimeFeedError past it)."""
    text = str(source)
    if re.match(r"^https?://", text):
        try:
            with urllib.request.urlopen(text, timeout=timeout_s) as response:  # noqa: S310
                body = response.read(max_bytes + 1)
        except urllib.error.HTTPError as exc:
            raise RealtimeFeedError(f"{text}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RealtimeFeedError(f"{text}: cannot be fetched ({reason})") from None
    else:
        path = Path(text)
        if not path.is_file():
            raise RealtimeFeedError(f"{text}: no such file")
        with path.open("rb") as handle:
            body = handle.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise RealtimeFeedError(f"{text}: larger than {max_bytes:,} bytes")
    return body


def parse_message(body: bytes, source: str) -> pb.FeedMessage:
    """A FeedMessage from protobuf bytes or its JSON mapping; RealtimeFeedError naming ``source``."""
    message = pb.FeedMessage()
    stripped = body.lstrip()
    try:
        if stripped[:1] == b"{":
            json_format.Parse(stripped.decode("utf-8"), message, ignore_unknown_fields=True)
        else:
            message.ParseFromString(body)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError, RecursionError) as exc:
        raise RealtimeFeedError(f"{source}: not a GTFS-Realtime FeedMessage ({exc})") from None
    if not message.HasField("header"):
        raise RealtimeFeedError(f"{source}: not a GTFS-Realtime FeedMessage (no header)")
    if message.header.incrementality == pb.FeedHeader.DIFFERENTIAL:
        raise RealtimeFeedError(f"{source}: DIFFERENTIAL feeds are not supported; "
                                "give the FULL_DATASET feed")
    return message


def read_feed(source: str | Path | bytes, *, known: KnownIds | None = None,
              max_bytes: int = DEFAULT_MAX_BYTES, timeout_s: float = DEFAULT_TIMEOUT_S,
              name: str | None = None) -> RealtimeFeed:
    """Read and check one GTFS-Realtime feed (any mix of the three entity kinds).

    ``known`` holds the static feed's ids (without it, E003 and E011 are not checked). Raises
    RealtimeFeedError only when the feed as a whole cannot be read.
    """
    if isinstance(source, bytes | bytearray):
        body, label = bytes(source), name or "<bytes>"
    else:
        body, label = fetch_bytes(source, max_bytes=max_bytes, timeout_s=timeout_s), name or str(source)
    return feed_from_message(parse_message(body, label), label, known=known)


# ---------------------------------------------------------------------------------------------
# Checking entities
# ---------------------------------------------------------------------------------------------
def _posix(value: int) -> bool:
    return value == 0 or POSIX_S_MIN <= value <= POSIX_S_MAX


def _opt_field(message, name: str):
    return getattr(message, name) if message.HasField(name) else None


def _event(message, parent, name: str) -> StopTimeEvent | None:
    if not parent.HasField(name):
        return None
    return StopTimeEvent(delay_s=_opt_field(message, "delay"), time_utc_s=_opt_field(message, "time"),
                         uncertainty_s=_opt_field(message, "uncertainty"))


def _enum_name(enum_type, value: int) -> str:
    try:
        return enum_type.Name(value)
    except ValueError:
        return str(value)


def _stop_time_update(message) -> StopTimeUpdate:
    relationship = _enum_name(pb.TripUpdate.StopTimeUpdate.ScheduleRelationship,
                              message.schedule_relationship)
    return StopTimeUpdate(stop_sequence=_opt_field(message, "stop_sequence"),
                          stop_id=_opt_field(message, "stop_id"),
                          arrival=_event(message.arrival, message, "arrival"),
                          departure=_event(message.departure, message, "departure"),
                          relationship=relationship)


def _trip_update_error(update: TripUpdate, known: KnownIds | None) -> str | None:
    """The first validator code the update breaks, or None."""
    if update.timestamp_utc_s is not None and not _posix(update.timestamp_utc_s):
        return "E001"
    if update.start_time is not None and not _START_TIME.match(update.start_time):
        return "E020"
    if update.start_date is not None and not _START_DATE.match(update.start_date):
        return "E021"
    if (known is not None and known.trip_ids and update.trip_id is not None
            and update.relationship not in ("ADDED", "NEW", "DUPLICATED")
            and update.trip_id not in known.trip_ids):
        return "E003"
    sequences = [u.stop_sequence for u in update.stop_time_updates if u.stop_sequence is not None]
    if any(b <= a for a, b in zip(sequences, sequences[1:], strict=False)):
        return "E002"
    times: list[int] = []
    for u in update.stop_time_updates:
        if known is not None and known.stop_ids and u.stop_id is not None and u.stop_id not in known.stop_ids:
            return "E011"
        for event in (u.arrival, u.departure):
            if event is not None and event.time_utc_s is not None:
                if not _posix(event.time_utc_s):
                    return "E001"
                times.append(event.time_utc_s)
    if any(b < a for a, b in zip(times, times[1:], strict=False)):
        return "E022"
    return None


def _trip_update(entity) -> TripUpdate:
    message = entity.trip_update
    trip = message.trip
    return TripUpdate(
        entity_id=entity.id, trip_id=_opt_field(trip, "trip_id"), route_id=_opt_field(trip, "route_id"),
        start_date=_opt_field(trip, "start_date"), start_time=_opt_field(trip, "start_time"),
        relationship=_enum_name(pb.TripDescriptor.ScheduleRelationship, trip.schedule_relationship),
        vehicle_id=message.vehicle.id if message.HasField("vehicle") and message.vehicle.id else None,
        timestamp_utc_s=_opt_field(message, "timestamp"), delay_s=_opt_field(message, "delay"),
        stop_time_updates=tuple(_stop_time_update(u) for u in message.stop_time_update))


def _translations(message, parent, name: str) -> dict[str, str]:
    if not parent.HasField(name):
        return {}
    return {t.language or "": t.text for t in message.translation}


def _alert(entity) -> Alert:
    message = entity.alert
    periods = tuple((p.start if p.HasField("start") else None, p.end if p.HasField("end") else None)
                    for p in message.active_period)
    informed = tuple(InformedEntity(agency_id=_opt_field(e, "agency_id"), route_id=_opt_field(e, "route_id"),
                                    route_type=_opt_field(e, "route_type"),
                                    trip_id=e.trip.trip_id if e.HasField("trip") and e.trip.trip_id else None,
                                    stop_id=_opt_field(e, "stop_id"))
                     for e in message.informed_entity)
    return Alert(entity_id=entity.id, active_periods=periods, informed=informed,
                 cause=_enum_name(pb.Alert.Cause, message.cause),
                 effect=_enum_name(pb.Alert.Effect, message.effect),
                 header_text=_translations(message.header_text, message, "header_text"),
                 description_text=_translations(message.description_text, message, "description_text"),
                 url=_translations(message.url, message, "url"))


def _vehicle(entity) -> VehiclePosition:
    message = entity.vehicle
    position = message.position if message.HasField("position") else None
    return VehiclePosition(
        entity_id=entity.id,
        vehicle_id=message.vehicle.id if message.HasField("vehicle") and message.vehicle.id else None,
        label=message.vehicle.label if message.HasField("vehicle") and message.vehicle.label else None,
        trip_id=message.trip.trip_id if message.HasField("trip") and message.trip.trip_id else None,
        route_id=message.trip.route_id if message.HasField("trip") and message.trip.route_id else None,
        lon=position.longitude if position is not None else None,
        lat=position.latitude if position is not None else None,
        bearing_deg=_opt_field(position, "bearing") if position is not None else None,
        stop_id=_opt_field(message, "stop_id"),
        current_stop_sequence=_opt_field(message, "current_stop_sequence"),
        current_status=(_enum_name(pb.VehiclePosition.VehicleStopStatus, message.current_status)
                        if message.HasField("current_status") else None),
        timestamp_utc_s=_opt_field(message, "timestamp"))


def _vehicle_error(vehicle: VehiclePosition, known: KnownIds | None) -> str | None:
    if vehicle.timestamp_utc_s is not None and not _posix(vehicle.timestamp_utc_s):
        return "E001"
    if vehicle.lat is not None and not (-90 <= vehicle.lat <= 90 and -180 <= vehicle.lon <= 180
                                        and vehicle.lat != 0 and vehicle.lon != 0):
        return "E026"  # 0 is protobuf's unset value: a position at 0 deg is an unset one
    if known is not None and known.trip_ids and vehicle.trip_id and vehicle.trip_id not in known.trip_ids:
        return "E003"
    if known is not None and known.stop_ids and vehicle.stop_id and vehicle.stop_id not in known.stop_ids:
        return "E011"
    return None


def feed_from_message(message: pb.FeedMessage, source: str, *, known: KnownIds | None = None
                      ) -> RealtimeFeed:
    """Plain records from a parsed FeedMessage, each bad entity left out and counted."""
    report = FeedReport()
    header_ts = message.header.timestamp if message.header.HasField("timestamp") else None
    if header_ts is not None and not _posix(header_ts):
        report.reject("E001", "header")
        header_ts = None
    trip_updates, alerts, vehicles = [], [], []
    for entity in message.entity:
        if entity.is_deleted:
            report.ignored["is_deleted"] += 1
            continue
        found = False
        if entity.HasField("trip_update"):
            found = True
            update = _trip_update(entity)
            code = _trip_update_error(update, known)
            if code:
                report.reject(code, entity.id)
            else:
                trip_updates.append(update)
        if entity.HasField("alert"):
            found = True
            alerts.append(_alert(entity))
        if entity.HasField("vehicle"):
            found = True
            vehicle = _vehicle(entity)
            code = _vehicle_error(vehicle, known)
            if code:
                report.reject(code, entity.id)
            else:
                vehicles.append(vehicle)
        if not found:
            report.reject("EMPTY_ENTITY", entity.id)
    return RealtimeFeed(source=source, timestamp_utc_s=header_ts, trip_updates=tuple(trip_updates),
                        alerts=tuple(alerts), vehicles=tuple(vehicles), report=report)


def read_feeds(sources: Iterable[str | Path], *, known: KnownIds | None = None, **kwargs
               ) -> list[RealtimeFeed]:
    """Several feeds (trip updates, alerts, positions are often separate URLs)."""
    return [read_feed(source, known=known, **kwargs) for source in sources]
