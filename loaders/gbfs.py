"""GBFS bike-share feeds (v2.x and v3.0) as plain records, found from their ``gbfs.json``.

The source is a folder holding ``gbfs.json``, the path of a ``gbfs.json`` or its http(s) URL.
Auto-discovery reads the feed list (v2.x: ``data.<language>.feeds[]``, the language asked for or
the first one; v3.0: ``data.feeds[]``) and each listed file it knows: ``system_information``,
``station_information``, ``station_status``, ``vehicle_types``, ``free_bike_status`` (v2) or
``vehicle_status`` (v3), ``system_pricing_plans`` (kept as raw dicts). A listed URL is taken as
given when absolute http(s), joined to the ``gbfs.json`` location when relative; any other scheme
(the ``file:src/test/...`` URLs of OpenTripPlanner's fixtures) is looked up by its file name next
to ``gbfs.json``. Each file's ``last_updated`` (POSIX s) and ``ttl`` (s) are kept: a poller must
not ask again before ``ttl`` has passed.

Each entity that breaks a rule is left out and counted under a named code (see ``CODES``), with a
few ids for each; the first of two stations (or vehicles, or vehicle types) with one id is kept.
Nothing here raises on a bad entity. :class:`GbfsFeedError` is raised only when the feed cannot be
read at all (``gbfs.json`` or a listed file that cannot be fetched, is not JSON, has no ``data``;
a ``gbfs.json`` without a feed list), with a message naming the source.

Reading bytes is ``loaders.gtfs_rt.fetch_bytes`` (timeout, ``max_bytes`` cap per file).
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import ClassVar

from loaders.gtfs_rt import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S, RealtimeFeedError, fetch_bytes
from loaders.rejections import RejectionReport

KNOWN_FILES = ("system_information", "station_information", "station_status", "vehicle_types",
               "free_bike_status", "vehicle_status", "system_pricing_plans")
BIKE_FORM_FACTORS = frozenset({"bicycle", "cargo_bicycle"})   # what the bike mode may ride
ELECTRIC_PROPULSIONS = frozenset({"electric_assist", "electric"})

CODES = {
    "duplicate_station_id": "a station listed again under an id already seen (the first is kept)",
    "duplicate_vehicle_id": "a vehicle listed again under an id already seen (the first is kept)",
    "duplicate_vehicle_type_id": "a vehicle type listed again (the first is kept)",
    "missing_required_field": "a required field absent, null or empty",
    "invalid_value": "a field of the wrong type (text for a number, 2 for a boolean)",
    "invalid_coordinates": "lat not in [-90, 90] or lon not in [-180, 180]",
    "negative_count": "a capacity or a count below zero",
    "status_for_unknown_station": "a station_status for a station not in station_information",
    "unknown_vehicle_type": "a vehicle_type_id not in vehicle_types (a station keeps its other counts)",
    "not_an_object": "an entity that is not a JSON object",
}


class GbfsFeedError(ValueError):
    """A GBFS feed that cannot be read at all; the message names the source."""


class _Bad(Exception):
    """One entity breaks a rule: ``code`` (a key of CODES). Caught per entity, never escapes."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class FileInfo:
    """One file of the feed: where it was read, its ``last_updated`` (POSIX s) and ``ttl`` (s)."""

    name: str
    url: str
    last_updated_utc_s: int | None
    ttl_s: int | None
    version: str | None


@dataclass(frozen=True)
class SystemInformation:
    system_id: str
    name: str
    timezone: str
    language: str | None = None


@dataclass(frozen=True)
class Station:
    station_id: str
    name: str
    lat: float                       # degrees WGS84
    lon: float
    capacity: int | None = None      # docks and bikes it can hold; None when not given
    is_virtual_station: bool = False
    address: str | None = None
    region_id: str | None = None


@dataclass(frozen=True)
class StationStatus:
    station_id: str
    num_bikes_available: int
    num_docks_available: int | None  # None when not given (virtual stations may omit it)
    is_installed: bool
    is_renting: bool
    is_returning: bool
    last_reported_utc_s: int | None
    num_bikes_disabled: int | None = None
    num_docks_disabled: int | None = None
    vehicle_types_available: tuple[tuple[str, int], ...] = ()  # (vehicle_type_id, count)


@dataclass(frozen=True)
class VehicleType:
    vehicle_type_id: str
    form_factor: str                 # bicycle, cargo_bicycle, car, moped, scooter(_standing...), other
    propulsion_type: str             # human, electric_assist, electric, combustion, ...
    max_range_meters: float | None = None
    name: str | None = None

    @property
    def is_bicycle(self) -> bool:
        """A bicycle (pedal or electric): what the bike-share mode may ride."""
        return self.form_factor in BIKE_FORM_FACTORS

    @property
    def is_ebike(self) -> bool:
        return self.is_bicycle and self.propulsion_type in ELECTRIC_PROPULSIONS


@dataclass(frozen=True)
class Vehicle:
    """A vehicle of ``free_bike_status`` (v2, ``bike_id``) or ``vehicle_status`` (v3)."""

    vehicle_id: str
    lat: float | None                # None for a vehicle docked at ``station_id`` (v3)
    lon: float | None
    is_reserved: bool
    is_disabled: bool
    vehicle_type_id: str | None = None
    station_id: str | None = None
    current_range_meters: float | None = None
    last_reported_utc_s: int | None = None


@dataclass
class GbfsReport(RejectionReport):
    """What was left out of a GBFS system, by code, with a few ids for each."""

    MEANINGS: ClassVar[dict[str, str]] = CODES


@dataclass(frozen=True)
class GbfsFeed:
    source: str
    version: str | None
    language: str | None
    files: dict[str, FileInfo]       # file name -> where and when, for each file read
    system: SystemInformation | None
    stations: tuple[Station, ...]
    station_status: tuple[StationStatus, ...]
    vehicle_types: tuple[VehicleType, ...]
    vehicles: tuple[Vehicle, ...]
    pricing_plans: tuple[dict, ...]
    report: GbfsReport

    def station(self, station_id: str) -> Station | None:
        return next((s for s in self.stations if s.station_id == station_id), None)

    def status(self, station_id: str) -> StationStatus | None:
        return next((s for s in self.station_status if s.station_id == station_id), None)

    def bike_type_ids(self) -> frozenset[str]:
        """The vehicle types the bike mode may ride (bicycles and e-bikes)."""
        return frozenset(t.vehicle_type_id for t in self.vehicle_types if t.is_bicycle)

    def min_ttl_s(self) -> int | None:
        """The shortest ``ttl`` of the files read: how long a poller should wait (None: not given)."""
        ttls = [f.ttl_s for f in self.files.values() if f.ttl_s is not None]
        return min(ttls) if ttls else None


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------
def _is_url(text: str) -> bool:
    return re.match(r"^https?://", text, re.IGNORECASE) is not None


def _discovery_location(source: str | Path) -> str:
    """The URL or path of ``gbfs.json`` for a folder, a file or a URL."""
    text = str(source)
    if _is_url(text):
        return text
    path = Path(text)
    return str(path / "gbfs.json") if path.is_dir() else text


def _resolve(listed_url: str, discovery: str) -> str:
    """Where to read a file listed in ``gbfs.json`` located at ``discovery``."""
    if _is_url(listed_url):
        return listed_url
    scheme = urllib.parse.urlsplit(listed_url).scheme
    if scheme and len(scheme) > 1:   # file:, ftp:...: only the file name is trusted, next to gbfs.json
        listed_url = PurePosixPath(urllib.parse.urlsplit(listed_url).path).name
    if _is_url(discovery):
        return urllib.parse.urljoin(discovery, listed_url)
    return str(Path(discovery).parent / listed_url)


def _read_json(location: str, *, max_bytes: int, timeout_s: float) -> dict:
    """A GBFS file's top-level object (``data`` present); GbfsFeedError naming ``location``."""
    try:
        body = fetch_bytes(location, max_bytes=max_bytes, timeout_s=timeout_s)
    except RealtimeFeedError as exc:
        raise GbfsFeedError(str(exc)) from None
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise GbfsFeedError(f"{location}: not JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise GbfsFeedError(f"{location}: not a GBFS file (no 'data' object)")
    return document


def _file_info(name: str, location: str, document: dict) -> FileInfo:
    def _int(value):
        return int(value) if isinstance(value, int | float) and math.isfinite(value) else None
    last_updated = document.get("last_updated")
    if isinstance(last_updated, str):   # v3.0 gives an RFC 3339 date-time
        last_updated = _rfc3339_s(last_updated)
    version = document.get("version")
    return FileInfo(name=name, url=location, last_updated_utc_s=_int(last_updated),
                    ttl_s=_int(document.get("ttl")), version=None if version is None else str(version))


def _rfc3339_s(text: str) -> int | None:
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _feed_list(document: dict, location: str, language: str | None) -> tuple[list, str | None]:
    """The ``feeds`` list of a discovery file and the language chosen (None for v3.0)."""
    data = document["data"]
    if isinstance(data.get("feeds"), list):
        return data["feeds"], None
    languages = [lang for lang, value in data.items()
                 if isinstance(value, dict) and isinstance(value.get("feeds"), list)]
    if not languages:
        raise GbfsFeedError(f"{location}: no feed list (data.feeds or data.<language>.feeds)")
    if language is None:
        return data[languages[0]]["feeds"], languages[0]
    if language not in languages:
        raise GbfsFeedError(f"{location}: no feeds in language {language!r} (has {', '.join(languages)})")
    return data[language]["feeds"], language


def discover(source: str | Path, *, language: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
             timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[dict[str, str], FileInfo, str | None]:
    """The known files a ``gbfs.json`` lists (name -> where to read it), its own FileInfo, the language.

    Raises GbfsFeedError when ``gbfs.json`` cannot be read or lists no feeds.
    """
    location = _discovery_location(source)
    document = _read_json(location, max_bytes=max_bytes, timeout_s=timeout_s)
    listed, chosen = listed_files(document, location, language=language)
    return listed, _file_info("gbfs", location, document), chosen


def listed_files(document: dict, location: str, *, language: str | None = None
                 ) -> tuple[dict[str, str], str | None]:
    """The known files a parsed ``gbfs.json`` (read from ``location``) lists, name -> where to
    read each, and the language chosen (None for v3.0). Raises GbfsFeedError without a feed list."""
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise GbfsFeedError(f"{location}: not a GBFS file (no 'data' object)")
    feeds, chosen = _feed_list(document, location, language)
    listed: dict[str, str] = {}
    for entry in feeds:
        if isinstance(entry, dict) and entry.get("name") in KNOWN_FILES and isinstance(entry.get("url"), str):
            listed.setdefault(entry["name"], _resolve(entry["url"], location))
    return listed, chosen


# ---------------------------------------------------------------------------------------------
# Checking fields
# ---------------------------------------------------------------------------------------------
def _required(entity: dict, name: str):
    value = entity.get(name)
    if value is None or value == "" or value == []:
        raise _Bad("missing_required_field")
    return value


def _text(value, language: str | None = None) -> str:
    """A string, or the chosen language's (else the first) text of a v3.0 localized list."""
    if isinstance(value, list):
        texts = [v for v in value if isinstance(v, dict) and isinstance(v.get("text"), str)]
        if not texts:
            raise _Bad("invalid_value")
        chosen = next((v for v in texts if v.get("language") == language), texts[0])
        return chosen["text"]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Bad("invalid_value")
    return str(value)


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Bad("invalid_value")
    return float(value)


def _count(value) -> int:
    number = _number(value)
    if number < 0:
        raise _Bad("negative_count")
    return int(number)


def _flag(value) -> bool:
    """A GBFS boolean; 0 and 1 are accepted (Helsinki's feed gives them)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _Bad("invalid_value")


def _optional(entity: dict, name: str, convert):
    value = entity.get(name)
    return None if value is None else convert(value)


def _coordinates(entity: dict, *, required: bool = True) -> tuple[float | None, float | None]:
    if not required and entity.get("lat") is None and entity.get("lon") is None:
        return None, None
    lat, lon = _number(_required(entity, "lat")), _number(_required(entity, "lon"))
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise _Bad("invalid_coordinates")
    return lat, lon


def _entity_id(entity, key: str, index: int) -> str:
    value = entity.get(key) if isinstance(entity, dict) else None
    return str(value) if value not in (None, "") else f"#{index}"


def _keep_valid(entities, key: str, parse, report: GbfsReport, duplicate_code: str,
                id_field: str | None = None) -> list:
    """Each entity parsed by ``parse``; a bad one or a repeated id counted in ``report`` and left out.

    ``key`` names the id in the JSON (for the report), ``id_field`` the record's (default: ``key``).
    """
    kept, seen = [], set()
    for index, entity in enumerate(entities if isinstance(entities, list) else []):
        label = _entity_id(entity, key, index)
        try:
            if not isinstance(entity, dict):
                raise _Bad("not_an_object")
            record = parse(entity)
        except _Bad as bad:
            report.reject(bad.code, label)
            continue
        record_id = getattr(record, id_field or key)
        if record_id in seen:
            report.reject(duplicate_code, record_id)
            continue
        seen.add(record_id)
        kept.append(record)
    return kept


# ---------------------------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------------------------
def _system(data: dict, language: str | None) -> SystemInformation:
    return SystemInformation(system_id=_text(_required(data, "system_id")),
                             name=_text(_required(data, "name"), language),
                             timezone=_text(_required(data, "timezone")),
                             language=_optional(data, "language", _text))


def _station(entity: dict, language: str | None) -> Station:
    station_id = _text(_required(entity, "station_id"))
    name = _text(_required(entity, "name"), language)
    if not name.strip():
        raise _Bad("missing_required_field")
    lat, lon = _coordinates(entity)
    return Station(station_id=station_id, name=name, lat=lat, lon=lon,
                   capacity=_optional(entity, "capacity", _count),
                   is_virtual_station=bool(_optional(entity, "is_virtual_station", _flag)),
                   address=_optional(entity, "address", _text),
                   region_id=_optional(entity, "region_id", _text))


def _types_available(entity: dict) -> tuple[tuple[str, int], ...]:
    entries = entity.get("vehicle_types_available") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _Bad("invalid_value")
    return tuple((_text(_required(e, "vehicle_type_id")), _count(_required(e, "count"))) for e in entries)


def _station_status(entity: dict) -> StationStatus:
    # v3.0 names the count of vehicles num_vehicles_available; v2.x num_bikes_available.
    bikes = entity.get("num_bikes_available", entity.get("num_vehicles_available"))
    if bikes is None:
        raise _Bad("missing_required_field")
    return StationStatus(
        station_id=_text(_required(entity, "station_id")), num_bikes_available=_count(bikes),
        num_docks_available=_optional(entity, "num_docks_available", _count),
        is_installed=_flag(_required_flag(entity, "is_installed")),
        is_renting=_flag(_required_flag(entity, "is_renting")),
        is_returning=_flag(_required_flag(entity, "is_returning")),
        last_reported_utc_s=_optional(entity, "last_reported", _timestamp),
        num_bikes_disabled=_optional(entity, "num_bikes_disabled" if "num_bikes_disabled" in entity
                                     else "num_vehicles_disabled", _count),
        num_docks_disabled=_optional(entity, "num_docks_disabled", _count),
        vehicle_types_available=_types_available(entity))


def _required_flag(entity: dict, name: str):
    value = entity.get(name)
    if value is None:
        raise _Bad("missing_required_field")
    return value


def _timestamp(value) -> int:
    """POSIX seconds (v2.x) or an RFC 3339 date-time (v3.0)."""
    if isinstance(value, str):
        seconds = _rfc3339_s(value)
        if seconds is None:
            raise _Bad("invalid_value")
        return seconds
    return int(_number(value))


def _vehicle_type(entity: dict, language: str | None) -> VehicleType:
    return VehicleType(vehicle_type_id=_text(_required(entity, "vehicle_type_id")),
                       form_factor=_text(_required(entity, "form_factor")),
                       propulsion_type=_text(_required(entity, "propulsion_type")),
                       max_range_meters=_optional(entity, "max_range_meters", _number),
                       name=_optional(entity, "name", lambda v: _text(v, language)))


def _vehicle(entity: dict) -> Vehicle:
    vehicle_id = entity.get("vehicle_id", entity.get("bike_id"))
    if vehicle_id in (None, ""):
        raise _Bad("missing_required_field")
    station_id = _optional(entity, "station_id", _text)
    lat, lon = _coordinates(entity, required=station_id is None)
    return Vehicle(vehicle_id=_text(vehicle_id), lat=lat, lon=lon,
                   is_reserved=_flag(_required_flag(entity, "is_reserved")),
                   is_disabled=_flag(_required_flag(entity, "is_disabled")),
                   vehicle_type_id=_optional(entity, "vehicle_type_id", _text), station_id=station_id,
                   current_range_meters=_optional(entity, "current_range_meters", _number),
                   last_reported_utc_s=_optional(entity, "last_reported", _timestamp))


# ---------------------------------------------------------------------------------------------
# Cross-file checks
# ---------------------------------------------------------------------------------------------
def _statuses_of_known_stations(statuses: list[StationStatus], stations: list[Station] | None,
                                report: GbfsReport) -> list[StationStatus]:
    """Statuses whose station is in station_information (all when that file was not read)."""
    if stations is None:
        return statuses
    known = {s.station_id for s in stations}
    kept = []
    for status in statuses:
        if status.station_id in known:
            kept.append(status)
        else:
            report.reject("status_for_unknown_station", status.station_id)
    return kept


def _known_types_only(statuses: list[StationStatus], vehicles: list[Vehicle],
                      type_ids: frozenset[str] | None, report: GbfsReport
                      ) -> tuple[list[StationStatus], list[Vehicle]]:
    """A vehicle of an unknown type is left out; a station keeps its counts of known types only."""
    if type_ids is None:
        return statuses, vehicles
    kept_statuses = []
    for status in statuses:
        entries = tuple(e for e in status.vehicle_types_available if e[0] in type_ids)
        for type_id, _ in set(status.vehicle_types_available) - set(entries):
            report.reject("unknown_vehicle_type", f"{status.station_id}/{type_id}")
        kept_statuses.append(status if len(entries) == len(status.vehicle_types_available) else
                             _replace_types(status, entries))
    kept_vehicles = []
    for vehicle in vehicles:
        if vehicle.vehicle_type_id is not None and vehicle.vehicle_type_id not in type_ids:
            report.reject("unknown_vehicle_type", vehicle.vehicle_id)
        else:
            kept_vehicles.append(vehicle)
    return kept_statuses, kept_vehicles


def _replace_types(status: StationStatus, entries: tuple[tuple[str, int], ...]) -> StationStatus:
    return replace(status, vehicle_types_available=entries)


# ---------------------------------------------------------------------------------------------
# The feed
# ---------------------------------------------------------------------------------------------
def _read_listed(listed: dict[str, str], *, max_bytes: int, timeout_s: float
                 ) -> tuple[dict[str, dict], dict[str, FileInfo]]:
    """Each listed file's ``data`` object and FileInfo; GbfsFeedError for one that cannot be read."""
    data, files = {}, {}
    for name, location in listed.items():
        document = _read_json(location, max_bytes=max_bytes, timeout_s=timeout_s)
        data[name], files[name] = document["data"], _file_info(name, location, document)
    return data, files


def _system_or_none(data: dict | None, language: str | None, report: GbfsReport
                    ) -> SystemInformation | None:
    if data is None:
        return None
    try:
        return _system(data, language)
    except _Bad as bad:
        report.reject(bad.code, "system_information")
        return None


def station_facility_id(system_id: str, station_id: str) -> str:
    """The parking facility id of a bike-share station: ``gbfs:<system_id>/<station_id>``.

    One rule for the bundle (stations as ``ParkingKind.BIKE_SHARE`` facilities) and the live
    poller (its readings stored against that id), so a rebuilt bundle keeps its history. A station
    reading is stored as a parking observation with ``free_spaces`` = docks available and
    ``capacity`` = bikes + docks available, so ``capacity - free_spaces`` is the bikes available.
    """
    return f"gbfs:{system_id}/{station_id}"


def read_gbfs(source: str | Path, *, language: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
              timeout_s: float = DEFAULT_TIMEOUT_S) -> GbfsFeed:
    """Read and check one GBFS system from its ``gbfs.json`` (a folder, a path or an http(s) URL).

    ``language`` picks a v2.x feed list (default: the first); ``max_bytes`` and ``timeout_s`` apply
    to each file. Raises GbfsFeedError only when the feed as a whole cannot be read.
    """
    listed, discovery_info, chosen = discover(source, language=language, max_bytes=max_bytes,
                                              timeout_s=timeout_s)
    data, files = _read_listed(listed, max_bytes=max_bytes, timeout_s=timeout_s)
    files = {"gbfs": discovery_info, **files}
    report = GbfsReport()
    system = _system_or_none(data.get("system_information"), chosen, report)
    stations = None
    if "station_information" in data:
        stations = _keep_valid(data["station_information"].get("stations"), "station_id",
                               lambda e: _station(e, chosen), report, "duplicate_station_id")
    statuses = _keep_valid(data.get("station_status", {}).get("stations"), "station_id",
                           _station_status, report, "duplicate_station_id")
    statuses = _statuses_of_known_stations(statuses, stations, report)
    types = None
    if "vehicle_types" in data:
        types = _keep_valid(data["vehicle_types"].get("vehicle_types"), "vehicle_type_id",
                            lambda e: _vehicle_type(e, chosen), report, "duplicate_vehicle_type_id")
    vehicle_data = data.get("vehicle_status") or data.get("free_bike_status") or {}
    raw_vehicles = vehicle_data.get("vehicles", vehicle_data.get("bikes"))
    vehicles = _keep_valid(raw_vehicles, "vehicle_id" if "vehicles" in vehicle_data else "bike_id",
                           _vehicle, report, "duplicate_vehicle_id", id_field="vehicle_id")
    statuses, vehicles = _known_types_only(
        statuses, vehicles, None if types is None else frozenset(t.vehicle_type_id for t in types), report)
    plans = data.get("system_pricing_plans", {}).get("plans") or []
    return GbfsFeed(source=str(source), version=discovery_info.version or _first_version(files),
                    language=chosen, files=files, system=system, stations=tuple(stations or ()),
                    station_status=tuple(statuses), vehicle_types=tuple(types or ()),
                    vehicles=tuple(vehicles),
                    pricing_plans=tuple(p for p in plans if isinstance(p, dict)), report=report)


def _first_version(files: dict[str, FileInfo]) -> str | None:
    return next((f.version for f in files.values() if f.version), None)
