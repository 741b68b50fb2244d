"""Request and response schemas: the objects that validate requests ARE the OpenAPI document.

flask-smorest hands these marshmallow schemas both to webargs (which parses and validates each
request with them) and to apispec (which writes ``/api/v1/openapi.json`` from them), so the docs
cannot drift from the code. Query schemas whose bounds come from the configuration are built per
app by the ``*_args_schema(config)`` factories, so the documented maximum is the enforced one.

Validation messages carry their error code (``"CODE: text"``, see :mod:`api.errors`).
Every default of a plan option is read from :class:`engine.planning.options.PlanOptions` (and its
``DEFAULT_*`` constants), so the OpenAPI document, ``trajet plan --help`` and the planner agree.
"""
from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import fields, validate
from webargs.fields import DelimitedList

from api.config import ApiConfig
from api.errors import problem
from api.timeutil import MAX_YEAR, MIN_YEAR, parse_iso
from engine.planning.options import DEFAULT_WINDOW_MIN, PlanOptions
from engine.planning.reasons import ALL_MODES, MODES

MODE_ALIASES = {"CAR": "CAR_PARK", "BIKE": "BICYCLE", "FOOT": "WALK", "PR": "PARK_AND_RIDE",
                "BUS": "TRANSIT", "PT": "TRANSIT"}
DEFAULT_MODES = ("WALK", "TRANSIT")
DEFAULTS = PlanOptions()
"""The planner's defaults: every ``load_default`` of a plan option below comes from here."""
INT32_MAX = 2**31 - 1
"""Largest count an observation may carry (SQLite and the engine's arrays hold int32)."""

# The OpenAPI document states every bound the API enforces, so that any request valid by the
# document is accepted (schemathesis' positive data acceptance). Bounds a marshmallow validator
# cannot carry into the document (a coordinate pair in one string, a calendar date) are regular
# expressions, ASCII digits only, written out below and enforced by the fields that state them.
_LAT = r"[-+]?(90(\.0+)?|[1-8]?[0-9](\.[0-9]+)?)"                        # -90..90
_LON = r"[-+]?(180(\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]+)?)"          # -180..180
COORD_PATTERN = rf"^{_LAT},{_LON}$"
"""``lat,lon`` in WGS84 degrees, each in range, no spaces (the parser also takes spaces)."""


def _datetime_pattern(first_year: int, last_year: int) -> str:
    """ISO 8601 ``YYYY-MM-DD[(T| )hh:mm[:ss[.ffffff]]][Z|(+|-)hh:mm]`` with real calendar dates in
    ``first_year..last_year`` (29 February in leap years only). Only decades 1970..2100 are
    spelled out, which covers :data:`api.timeutil.MIN_YEAR`..:data:`MAX_YEAR`."""
    if (first_year, last_year) != (1970, 2100):
        raise ValueError("the date-time pattern is written for the years 1970..2100")
    year = r"(19[7-9][0-9]|20[0-9][0-9]|2100)"
    leap_year = r"(19(7[26]|8[048]|9[26])|20([02468][048]|[13579][26]))"      # 2000 yes, 2100 no
    month_day = (r"((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"                   # every month: 1..28
                 r"|(0[13-9]|1[0-2])-(29|30)"                                  # all but February
                 r"|(0[13578]|1[02])-31)")                                     # the 31-day months
    date = rf"({year}-{month_day}|{leap_year}-02-29)"
    time = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    offset = r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
    return rf"^{date}([T ]{time}{offset}?)?$"


DATETIME_PATTERN = _datetime_pattern(MIN_YEAR, MAX_YEAR)
LANG_PATTERN = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,4}$"
"""A BCP 47 language tag as alert translations carry them (en, fr, en-US, zh-Hant-TW)."""
_DATETIME_RE = re.compile(DATETIME_PATTERN, re.ASCII)


def _range(name: str, low, high, *, high_code: str = "OUT_OF_RANGE", unit: str = ""):
    """Two Range validators (so the code says which bound), documented as minimum/maximum."""
    return [
        validate.Range(min=low, error=problem("OUT_OF_RANGE", f"{name} must be at least {low}{unit}")),
        validate.Range(max=high, error=problem(high_code, f"{name} must be at most {high}{unit}")),
    ]


class LatLon(fields.String):
    """``lat,lon`` in WGS84 degrees -> (lat, lon) floats. The document states the ranges as
    :data:`COORD_PATTERN`; the parser also takes spaces around the numbers."""

    def __init__(self, **kwargs):
        metadata = {"pattern": COORD_PATTERN, "example": "43.7384,7.4246",
                    **kwargs.pop("metadata", {})}
        metadata["description"] = (metadata.get("description", "'lat,lon'") + "; latitude -90..90, "
                                   "longitude -180..180 degrees")
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        name = self.data_key or attr
        parts = text.split(",")
        try:
            if len(parts) != 2:
                raise ValueError
            lat, lon = float(parts[0]), float(parts[1])
            if lat != lat or lon != lon or abs(lat) == float("inf") or abs(lon) == float("inf"):
                raise ValueError
        except ValueError:
            raise ma.ValidationError(problem(
                "MALFORMED_COORDINATES", f"{name} must be 'lat,lon' in degrees, e.g. 43.7384,7.4246; "
                f"got {text[:60]!r}")) from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ma.ValidationError(problem(
                "COORDINATES_OUT_OF_RANGE", f"{name}: latitude must lie in -90..90 and longitude in "
                f"-180..180 (order 'lat,lon'); got {lat:g},{lon:g}"))
        return (lat, lon)


class IsoDateTime(fields.String):
    """ISO 8601 date-time, with or without offset -> datetime (naive without offset).

    The grammar is :data:`DATETIME_PATTERN` (the document states it): a date, or a date and a
    time to the minute or second, then an optional ``Z`` or ``+hh:mm`` offset, years 1970..2100.
    """

    def __init__(self, **kwargs):
        metadata = {"example": "2026-01-12T08:30:00+01:00", "pattern": DATETIME_PATTERN,
                    "description": "ISO 8601; without an offset it is local time of the feed's "
                                   "timezone", **kwargs.pop("metadata", {})}
        metadata["description"] += (f" (years {MIN_YEAR}-{MAX_YEAR}; a date alone means its "
                                    "midnight)")
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        name = self.data_key or attr
        try:
            parsed = parse_iso(text)
        except ValueError as exc:
            raise ma.ValidationError(problem("MALFORMED_DATETIME", f"{name}: {exc}")) from None
        if not _DATETIME_RE.match(text.strip()):
            raise ma.ValidationError(problem(
                "MALFORMED_DATETIME", f"{name}: {text[:60]!r} is not an ISO 8601 date-time of the "
                "form 2026-01-12T08:30, 2026-01-12T08:30:00+01:00 or 2026-01-12"))
        return parsed


class ModeName(fields.String):
    """One mode (case-insensitive, aliases accepted) -> its canonical name among ``allowed``
    (:data:`ALL_MODES` for plans, :data:`MODES` for isochrones: BIKE_SHARE has none).
    The document states the canonical names as an enum."""

    def __init__(self, allowed=ALL_MODES, **kwargs):
        self.allowed = tuple(allowed)
        super().__init__(metadata={"enum": list(self.allowed)}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs).strip()
        name = MODE_ALIASES.get(raw.upper(), raw.upper())
        if name not in self.allowed:
            raise ma.ValidationError(problem(
                "UNKNOWN_MODE", f"{raw[:40]!r} is not a mode; use {', '.join(self.allowed)}"))
        return name


class Modes(DelimitedList):
    """Comma-separated modes -> tuple of canonical names, each once, in the order given.

    Documented as an array of ``allowed`` (``style: form, explode: false``: ``WALK,TRANSIT``)."""

    def __init__(self, allowed=ALL_MODES, **kwargs):
        metadata = {"example": list(DEFAULT_MODES), "default": list(DEFAULT_MODES),
                    "description": "Comma-separated modes among " + ", ".join(allowed)
                    + " (also accepted: lower case and the aliases "
                    + ", ".join(f"{k}={v}" for k, v in MODE_ALIASES.items()) + ")",
                    **kwargs.pop("metadata", {})}
        super().__init__(ModeName(allowed), metadata=metadata, validate=validate.Length(
            min=1, error=problem("UNKNOWN_MODE", f"give at least one mode among {', '.join(allowed)}")),
            **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            names = super()._deserialize(value, attr, data, **kwargs)
        except ma.ValidationError as exc:
            # the list reports {index: [message]}: name the parameter, as for any other field
            messages = exc.messages
            while isinstance(messages, dict | list) and messages:
                messages = next(iter(messages.values())) if isinstance(messages, dict) else messages[0]
            raise ma.ValidationError(messages) from None
        return tuple(dict.fromkeys(names))


# ---------------------------------------------------------------------------------------------
# Query schemas (built per app: their bounds come from the configuration)
# ---------------------------------------------------------------------------------------------
class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


def _walk_speed(**kwargs) -> fields.Float:
    return fields.Float(load_default=DEFAULTS.walk_speed_mps,
                        validate=_range("walk_speed", 0.3, 3.0, unit=" m/s"), **kwargs)


def _bike_speed(**kwargs) -> fields.Float:
    return fields.Float(load_default=DEFAULTS.bike_speed_mps,
                        validate=_range("bike_speed", 1.0, 12.0, unit=" m/s"), **kwargs)


def _max_walk_m(config: ApiConfig, **kwargs) -> fields.Integer:
    return fields.Integer(load_default=min(round(DEFAULTS.max_walk_m), config.max_walk_m),
                          validate=_range("max_walk_m", 0, config.max_walk_m, unit=" m"), **kwargs)


def plan_args_schema(config: ApiConfig) -> type[ma.Schema]:
    """The query parameters of GET /api/v1/plan, bounded by ``config``."""

    class PlanArgs(_Strict):
        origin = LatLon(data_key="from", required=True,
                        metadata={"description": "Origin, 'lat,lon' (WGS84 degrees)"})
        destination = LatLon(data_key="to", required=True,
                             metadata={"description": "Destination, 'lat,lon' (WGS84 degrees)"})
        datetime = IsoDateTime(load_default=None, metadata={
            "description": "Departure (or arrival with arrive_by) time, ISO 8601; without an "
                           "offset it is local time of the feed's timezone. Default: now, or the "
                           "next day the timetable covers when it has no service today."})
        arrive_by = fields.Boolean(load_default=False, metadata={
            "description": "datetime is the latest arrival instead of the departure"})
        modes = Modes(load_default=DEFAULT_MODES)
        walk_speed = _walk_speed(metadata={"description": "Walking speed, m/s"})
        bike_speed = _bike_speed(metadata={"description": "Cycling speed, m/s"})
        max_transfers = fields.Integer(load_default=min(DEFAULTS.max_transfers, config.max_transfers),
                                       validate=_range("max_transfers", 0, config.max_transfers))
        max_walk_m = _max_walk_m(config, metadata={"description": "Longest walk of one access, "
                                                                  "egress or transfer leg, metres"})
        bike_lane_preference = fields.Float(load_default=DEFAULTS.bike_lane_preference, validate=_range(
            "bike_lane_preference", 0.0, 1.0), metadata={
            "description": "0: cycle on any street; 1: go far out of the way for bike lanes"})
        num_itineraries = fields.Integer(load_default=min(DEFAULTS.num_itineraries,
                                                          config.max_itineraries),
                                         validate=_range("num_itineraries", 1, config.max_itineraries,
                                                         high_code="TOO_MANY_ITINERARIES"))
        window_min = fields.Integer(load_default=min(DEFAULT_WINDOW_MIN, config.max_window_min),
                                    validate=_range("window_min", 0, config.max_window_min,
                                                    high_code="WINDOW_TOO_LONG", unit=" min"),
                                    metadata={"description": "Transit departures within this many "
                                                             "minutes after datetime (before it, "
                                                             "arriving by) are offered"})
        wheelchair = fields.Boolean(load_default=DEFAULTS.wheelchair, metadata={
            "description": "Only wheelchair-accessible stops and trips, no steps"})
        lang = fields.String(load_default=None, validate=validate.Regexp(LANG_PATTERN), metadata={
            "pattern": LANG_PATTERN, "example": "en-US",
            "description": "Language of real-time alert texts (BCP 47, e.g. fr); default: "
                           "Accept-Language, then the feed's"})

    return PlanArgs


def isochrone_args_schema(config: ApiConfig) -> type[ma.Schema]:
    """The query parameters of GET /api/v1/isochrone, bounded by ``config``."""

    class IsochroneArgs(_Strict):
        origin = LatLon(data_key="from", required=True,
                        metadata={"description": "Origin, 'lat,lon' (WGS84 degrees)"})
        datetime = IsoDateTime(load_default=None, metadata={
            "description": "Departure time, ISO 8601 (default: as for /plan)"})
        modes = Modes(MODES, load_default=DEFAULT_MODES)
        minutes = fields.Integer(load_default=min(15, config.max_isochrone_minutes),
                                 validate=_range("minutes", 1, config.max_isochrone_minutes,
                                                 high_code="TOO_MANY_MINUTES", unit=" min"),
                                 metadata={"description": "Travel-time budget, minutes"})
        walk_speed = _walk_speed()
        bike_speed = _bike_speed()
        max_walk_m = _max_walk_m(config)
        wheelchair = fields.Boolean(load_default=DEFAULTS.wheelchair)

    return IsochroneArgs


def stops_args_schema(config: ApiConfig) -> type[ma.Schema]:
    """The query parameters of GET /api/v1/stops, bounded by ``config``."""

    class StopsArgs(_Strict):
        near = LatLon(load_default=None, metadata={
            "description": "Centre 'lat,lon'; without it every stop is listed"})
        radius = fields.Integer(load_default=min(500, config.max_stops_radius_m),
                                validate=_range("radius", 1, config.max_stops_radius_m,
                                                high_code="RADIUS_TOO_LARGE", unit=" m"),
                                metadata={"description": "Search radius around near, metres"})
        limit = fields.Integer(load_default=config.max_stops_results,
                               validate=_range("limit", 1, config.max_stops_results),
                               metadata={"description": "Most stops returned (nearest first)"})

    return StopsArgs


class ParkingArgs(_Strict):
    at = IsoDateTime(load_default=None, metadata={
        "description": "Forecast instant, ISO 8601 (default: now)"})


# ---------------------------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------------------------
_COUNT_BOUNDS = {"minimum": 0, "maximum": INT32_MAX}
"""Documented bounds of the counts; the checks that need the facility (negative values, a count
above its capacity) run in :func:`api.observation_checks.check_reading` (through
:func:`api.parking.check_observations`, which reports every problem of a batch at once)."""


class ObservationItem(_Strict):
    facility_id = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                metadata={"description": "A facility id of /api/v1/parking"})
    timestamp = IsoDateTime(required=True, metadata={
        "description": "When it was observed, ISO 8601 (feed's local time without offset)"})
    free_spaces = fields.Integer(load_default=None, allow_none=True, strict=True, metadata={
        "description": "Free spaces (give this or occupied)", **_COUNT_BOUNDS})
    occupied = fields.Integer(load_default=None, allow_none=True, strict=True, metadata={
        "description": "Occupied spaces (needs a known capacity)", **_COUNT_BOUNDS})
    capacity = fields.Integer(load_default=None, allow_none=True, strict=True, metadata={
        "description": "Spaces in service at that time, optional", **_COUNT_BOUNDS, "minimum": 1})


def observations_body_schema(config: ApiConfig) -> type[ma.Schema]:
    class ObservationsBody(_Strict):
        observations = fields.List(fields.Nested(ObservationItem), required=True, validate=[
            validate.Length(min=1, error=problem("MISSING_PARAMETER", "observations is empty")),
            validate.Length(max=config.max_observations_per_post, error=problem(
                "TOO_MANY_ITEMS", f"at most {config.max_observations_per_post} observations per "
                "request"))])

    return ObservationsBody


# ---------------------------------------------------------------------------------------------
# Responses (documentation and, for schemathesis, the contract every response must meet)
# ---------------------------------------------------------------------------------------------
class _Open(ma.Schema):
    """A response schema that documents the keys it names and passes the others through."""

    class Meta:
        unknown = ma.INCLUDE
        ordered = True

    @ma.post_dump(pass_original=True)
    def _keep_undeclared(self, data, original, **kwargs):
        if isinstance(original, dict):
            for key, value in original.items():
                data.setdefault(key, value)
        return data


class GeometrySchema(_Open):
    type = fields.String(required=True)
    coordinates = fields.Raw(required=True)


class FeatureSchema(_Open):
    id = fields.String()
    type = fields.String(required=True, validate=validate.OneOf(["Feature"]))
    geometry = fields.Nested(GeometrySchema, required=True, allow_none=True)
    properties = fields.Dict(required=True)


class FeatureCollectionSchema(_Open):
    type = fields.String(required=True, validate=validate.OneOf(["FeatureCollection"]))
    features = fields.List(fields.Nested(FeatureSchema), required=True)


class ParkingPropertiesSchema(_Open):
    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={
        "description": "CAR_PARK, PARK_AND_RIDE, ON_STREET, BIKE_PARKING or BIKE_SHARE"})
    capacity = fields.Integer(required=True, allow_none=True)
    free_spaces = fields.Float(required=True, allow_none=True, metadata={
        "description": "Forecast free spaces at `at` (null without a forecast)"})
    p_free = fields.Float(required=True, allow_none=True, metadata={
        "description": "Forecast probability that a space is free at `at`"})
    forecast = fields.Dict(required=True, metadata={
        "description": "free_spaces, free_spaces_std, p_free, expected_search_s and basis "
                       "(live, profile or unknown)"})
    last_observation = fields.Dict(required=True, allow_none=True, metadata={
        "description": "The last live observation at or before `at`: {time, free_spaces, capacity}"})
    last_observation_time = fields.String(required=True, allow_none=True)


class ParkingFeatureSchema(FeatureSchema):
    properties = fields.Nested(ParkingPropertiesSchema, required=True)


class ParkingResponseSchema(FeatureCollectionSchema):
    features = fields.List(fields.Nested(ParkingFeatureSchema), required=True)
    at = fields.String(required=True, metadata={"description": "The forecast instant (ISO 8601)"})


class BikeSharePropertiesSchema(_Open):
    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "BIKE_SHARE (a station) or FREE_BIKE"})
    p_bike = fields.Float(required=True, allow_none=True, metadata={
        "description": "Probability of at least one bike at `at` (a free bike: that it is still there)"})
    p_dock = fields.Float(allow_none=True, metadata={
        "description": "Probability of at least one free dock at `at`"})
    capacity = fields.Integer(allow_none=True)
    bikes_now = fields.Integer(allow_none=True, metadata={"description": "Bikes in the latest GBFS snapshot"})
    docks_now = fields.Integer(allow_none=True, metadata={"description": "Free docks in the latest snapshot"})
    expected_bikes = fields.Float(allow_none=True)
    expected_docks = fields.Float(allow_none=True)
    bikes_basis = fields.String(metadata={"description": "live, profile, decaying_reading or unknown"})
    docks_basis = fields.String(metadata={"description": "live, profile, decaying_reading or unknown"})


class BikeShareFeatureSchema(FeatureSchema):
    properties = fields.Nested(BikeSharePropertiesSchema, required=True)


class BikeShareResponseSchema(FeatureCollectionSchema):
    features = fields.List(fields.Nested(BikeShareFeatureSchema), required=True)
    at = fields.String(required=True, metadata={"description": "The forecast instant (ISO 8601)"})


class ServicePeriodSchema(ma.Schema):
    start = fields.String(required=True)
    end = fields.String(required=True)


class SuggestedDepartureSchema(ma.Schema):
    datetime = fields.String(required=True, metadata={
        "description": "Now, or the same time on the next day the timetable covers"})
    note = fields.String(required=True, allow_none=True)


class LiveFeedSchema(_Open):
    kind = fields.String(required=True, metadata={"description": "ngsi, ods or gbfs"})
    url = fields.String(required=True, metadata={"description": "Without credentials or query"})
    every_s = fields.Float(required=True, metadata={
        "description": "Seconds between polls (GBFS: at least the feed's ttl)"})
    last_success_utc_s = fields.Float(required=True, allow_none=True)
    last_error = fields.String(required=True, allow_none=True)
    age_s = fields.Float(required=True, allow_none=True, metadata={
        "description": "Seconds since the instant of the newest reading"})
    stale = fields.Boolean(required=True, metadata={
        "description": "No new reading or no good poll for stale_after_s (feeds_stale_factor x every_s)"})
    stale_after_s = fields.Float(required=True)
    accepted = fields.Integer(required=True, metadata={"description": "Readings stored"})
    duplicates = fields.Integer(required=True, metadata={
        "description": "Readings already stored (polled again unchanged)"})
    rejected = fields.Dict(required=True, metadata={
        "description": "Readings and entities refused or left out: code -> {count, meaning, examples}"})


class InfoSchema(_Open):
    data_version = fields.String(required=True, metadata={
        "description": "Changes whenever the bundle is rebuilt (first hex digits of the manifest's "
                       "sha256)"})
    format_version = fields.Integer(required=True)
    built_at_utc = fields.String(required=True)
    timezone = fields.String(required=True)
    bbox = fields.List(fields.Float(), required=True, metadata={
        "description": "[min_lon, min_lat, max_lon, max_lat]"})
    service_period = fields.Nested(ServicePeriodSchema, allow_none=True, required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True, metadata={
        "description": "What the bundle holds (trajet info): stops, trips, street_nodes..."})
    feeds = fields.List(fields.String(), required=True)
    live_observations = fields.Integer(required=True)
    recommendations = fields.Dict(allow_none=True, metadata={
        "description": "Drivers sent to car parks and still counted (pending), and the compliance "
                       "share used; null when recommendations are off (docs/recommendations.md)"})
    ingest_enabled = fields.Boolean(required=True)
    suggested_departure = fields.Nested(SuggestedDepartureSchema, required=True)
    limits = fields.Dict(required=True)
    live_feeds = fields.List(fields.Nested(LiveFeedSchema), required=True, allow_none=True, metadata={
        "description": "Each live occupancy feed polled (trajet serve --feed), null without any"})


class HealthSchema(ma.Schema):
    status = fields.String(required=True)


class ReadySchema(_Open):
    status = fields.String(required=True)
    data_version = fields.String()
    loaded_in_s = fields.Float()


class PlaceSchema(_Open):
    name = fields.String(allow_none=True)
    lon = fields.Float(required=True)
    lat = fields.Float(required=True)


class LegSchema(_Open):
    mode = fields.String(required=True)
    geometry = fields.Dict(allow_none=True)


class ItinerarySchema(_Open):
    start_time = fields.String(required=True)
    end_time = fields.String(required=True)
    duration_s = fields.Float(required=True)
    legs = fields.List(fields.Nested(LegSchema), required=True)


class PlanResponseSchema(_Open):
    request = fields.Dict(required=True, metadata={"description": "The request as parsed"})
    itineraries = fields.List(fields.Nested(ItinerarySchema), required=True)
    code = fields.String(allow_none=True, required=True, metadata={
        "description": "Why the list is empty (OUTSIDE_SERVICE_PERIOD, LOCATION_NOT_ACCESSIBLE, "
                       "OUTSIDE_BOUNDS, NO_TRANSIT_CONNECTION...), null when it is not"})
    message = fields.String(allow_none=True)
    notes = fields.List(fields.String(), required=True)


class IsochroneResponseSchema(FeatureCollectionSchema):
    request = fields.Dict(required=True)
    code = fields.String(allow_none=True, metadata={"description": "Why it is empty, if it is"})


class ObservationsAcceptedSchema(ma.Schema):
    accepted = fields.Integer(required=True)
    ids = fields.List(fields.Integer(), required=True)
    duplicates = fields.Integer(required=True, metadata={
        "description": "Items that repeated a stored observation exactly (not stored again)"})
