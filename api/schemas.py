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

import marshmallow as ma
from marshmallow import fields, validate

from api.config import ApiConfig
from api.errors import problem
from api.timeutil import parse_iso
from engine.planning.options import DEFAULT_WINDOW_MIN, PlanOptions

MODES = ("WALK", "BICYCLE", "CAR_PARK", "PARK_AND_RIDE", "BIKE_AND_RIDE", "TRANSIT")
MODE_ALIASES = {"CAR": "CAR_PARK", "BIKE": "BICYCLE", "FOOT": "WALK", "PR": "PARK_AND_RIDE",
                "BUS": "TRANSIT", "PT": "TRANSIT"}
DEFAULT_MODES = ("WALK", "TRANSIT")
DEFAULTS = PlanOptions()
"""The planner's defaults: every ``load_default`` of a plan option below comes from here."""
_COORD_PATTERN = r"^\s*[-+]?\d{1,3}(\.\d+)?\s*,\s*[-+]?\d{1,3}(\.\d+)?\s*$"


def _range(name: str, low, high, *, high_code: str = "OUT_OF_RANGE", unit: str = ""):
    """Two Range validators (so the code says which bound), documented as minimum/maximum."""
    return [
        validate.Range(min=low, error=problem("OUT_OF_RANGE", f"{name} must be at least {low}{unit}")),
        validate.Range(max=high, error=problem(high_code, f"{name} must be at most {high}{unit}")),
    ]


class LatLon(fields.String):
    """``lat,lon`` in WGS84 degrees -> (lat, lon) floats."""

    def __init__(self, **kwargs):
        metadata = {"pattern": _COORD_PATTERN, "example": "43.7384,7.4246",
                    **kwargs.pop("metadata", {})}
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
    """ISO 8601 date-time, with or without offset -> datetime (naive without offset)."""

    def __init__(self, **kwargs):
        metadata = {"example": "2026-01-12T08:30:00+01:00",
                    "description": "ISO 8601; without an offset it is local time of the feed's "
                                   "timezone", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parse_iso(text)
        except ValueError as exc:
            raise ma.ValidationError(problem("MALFORMED_DATETIME", f"{self.data_key or attr}: {exc}")
                                     ) from None


class Modes(fields.String):
    """Comma-separated modes (case-insensitive, aliases accepted) -> tuple of canonical names."""

    def __init__(self, **kwargs):
        metadata = {"pattern": r"^\s*[A-Za-z_]+(\s*,\s*[A-Za-z_]+)*\s*$",
                    "example": ",".join(DEFAULT_MODES), "default": ",".join(DEFAULT_MODES),
                    "description": "Comma-separated modes among " + ", ".join(MODES)
                    + " (aliases: " + ", ".join(f"{k}={v}" for k, v in MODE_ALIASES.items()) + ")",
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        out: list[str] = []
        for raw in text.split(","):
            name = raw.strip().upper()
            name = MODE_ALIASES.get(name, name)
            if name not in MODES:
                raise ma.ValidationError(problem(
                    "UNKNOWN_MODE", f"{raw.strip()[:40]!r} is not a mode; use "
                    f"{', '.join(MODES)}"))
            if name not in out:
                out.append(name)
        return tuple(out)


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
        lang = fields.String(load_default=None, validate=validate.Length(max=35), metadata={
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
        modes = Modes(load_default=DEFAULT_MODES)
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
class ObservationItem(_Strict):
    facility_id = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                metadata={"description": "A facility id of /api/v1/parking"})
    timestamp = IsoDateTime(required=True, metadata={
        "description": "When it was observed, ISO 8601 (feed's local time without offset)"})
    free_spaces = fields.Integer(load_default=None, allow_none=True, strict=True,
                                 metadata={"description": "Free spaces (give this or occupied)"})
    occupied = fields.Integer(load_default=None, allow_none=True, strict=True,
                              metadata={"description": "Occupied spaces (needs a known capacity)"})
    capacity = fields.Integer(load_default=None, allow_none=True, strict=True,
                              metadata={"description": "Spaces in service at that time, optional"})


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


class ServicePeriodSchema(ma.Schema):
    start = fields.String(required=True)
    end = fields.String(required=True)


class SuggestedDepartureSchema(ma.Schema):
    datetime = fields.String(required=True, metadata={
        "description": "Now, or the same time on the next day the timetable covers"})
    note = fields.String(required=True, allow_none=True)


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
    ingest_enabled = fields.Boolean(required=True)
    suggested_departure = fields.Nested(SuggestedDepartureSchema, required=True)
    limits = fields.Dict(required=True)


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
