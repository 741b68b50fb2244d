"""``/api/v1/parking/zones`` and ``/api/v1/parking/forecast``: the street zones drawn by
p(free) at an instant, and one facility's forecast over a day (the chart of the page's popups).

``GET /api/v1/parking/zones?at=ISO`` is a GeoJSON FeatureCollection of the street zones' lines
with their spaces (``capacity_estimated`` when guessed from the kerb length), fee, longest stay
and p(free) at ``at``. A zone with no occupancy data gets the prior of
``engine.planning.zone_route`` (``p_basis`` ``prior``), the same the planner uses.

``GET /api/v1/parking/forecast?facility=ID&date=YYYY-MM-DD[&at=ISO]`` gives the forecast every 15
minutes of that local day: expected free spaces with an 80 % band (expected +- 1.28 standard
deviations, within 0..capacity), p(free), and ``at`` (the instant the page marks). 404
``NOT_FOUND`` for an unknown facility.
"""
from __future__ import annotations

import datetime as dt
import math

import marshmallow as ma
import numpy as np
from flask_smorest import Blueprint
from marshmallow import fields

from api.config import ApiConfig
from api.errors import ApiError
from api.schemas import FeatureCollectionSchema, IsoDateTime, _Open, _Strict
from api.state import Loaded, app_state
from api.timeutil import iso, localize, to_utc_s
from engine.model import ZONE_LEFT, ZONE_RIGHT, ParkingKind
from engine.planning.zone_route import prior_p_free

STEP_S = 900
"""The day chart's step (s)."""

BAND_Z = 1.2816
"""Standard normal quantile of the 80 % band's upper edge."""


class ZoneArgs(_Strict):
    at = IsoDateTime(load_default=None, metadata={
        "description": "Instant whose p(free) colours the zones, ISO 8601 (default: now)"})


class DayForecastArgs(_Strict):
    facility = fields.String(required=True, validate=ma.validate.Length(min=1, max=200), metadata={
        "description": "The facility's id (as GET /api/v1/parking lists it)",
        "pattern": "^.{1,200}$", "example": "osm:way/27126617:right"})
    date = IsoDateTime(required=True, metadata={
        "description": "Local day of the chart, YYYY-MM-DD (a date-time is read as its day)"})
    at = IsoDateTime(load_default=None, metadata={
        "description": "Instant to mark on the chart, ISO 8601 (default: none)"})


class ForecastPointSchema(_Open):
    time = fields.String(required=True)
    free_spaces = fields.Float(required=True, allow_none=True)
    free_low = fields.Float(required=True, allow_none=True)
    free_high = fields.Float(required=True, allow_none=True)
    p_free = fields.Float(required=True, allow_none=True)


class DayForecastSchema(_Open):
    facility_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    date = fields.String(required=True)
    capacity = fields.Integer(required=True, allow_none=True)
    capacity_estimated = fields.Boolean(required=True)
    basis = fields.String(required=True, metadata={
        "description": "live, profile, or prior/unknown when no occupancy data exists"})
    at = fields.String(required=True, allow_none=True)
    points = fields.List(fields.Nested(ForecastPointSchema), required=True)


def _estimated(loaded: Loaded) -> np.ndarray:
    pk = loaded.network.parking
    flags = pk.capacity_estimated
    return (np.asarray(flags, dtype=bool) if flags is not None
            else np.zeros(pk.n_facilities, dtype=bool))


def _p_with_prior(loaded: Loaded, f: np.ndarray, p: np.ndarray, basis: np.ndarray
                  ) -> tuple[np.ndarray, list]:
    """p(free) with the prior for street zones without data, and each row's basis name."""
    pk = loaded.network.parking
    zones = set(np.asarray(pk.zones.facility_idx).tolist()) if pk.zones is not None else set()
    is_zone = np.array([int(i) in zones for i in f], dtype=bool)
    unknown = np.asarray(basis) == "unknown"
    use_prior = is_zone & unknown
    p = np.where(use_prior, prior_p_free(np.maximum(np.asarray(pk.capacity)[f], 1)), p)
    names = np.where(use_prior, "prior", basis).tolist()
    return p, names


def _zone_feature(loaded: Loaded, z: int, p: float, basis: str, free: float, estimated) -> dict:
    pk, zones = loaded.network.parking, loaded.network.parking.zones
    f = int(zones.facility_idx[z])
    lon, lat = zones.line(z)
    maxstay = float(zones.maxstay_s[z])
    return {"type": "Feature", "id": str(pk.facility_ids[f]),
            "geometry": {"type": "LineString",
                         "coordinates": [[round(float(a), 6), round(float(b), 6)]
                                         for a, b in zip(lon, lat, strict=True)]},
            "properties": {
                "id": str(pk.facility_ids[f]), "name": str(pk.facility_name[f]),
                "street": str(zones.street_name[z]),
                "side": {ZONE_LEFT: "left", ZONE_RIGHT: "right"}.get(int(zones.side[z])),
                "capacity": int(pk.capacity[f]), "capacity_estimated": bool(estimated[f]),
                "fee": {1: True, 0: False}.get(int(zones.fee[z])),
                "maxstay_s": None if math.isinf(maxstay) else maxstay,
                "p_free": round(float(p), 3), "p_basis": basis,
                "free_spaces": None if not np.isfinite(free) else round(float(free), 1)}}


def _day_points(loaded: Loaded, f: int, day: dt.date, now_utc_s: int) -> tuple[list, str]:
    """The chart's points over the local day, and the forecast's basis at midday."""
    tz = loaded.network.timezone
    start = to_utc_s(localize(dt.datetime.combine(day, dt.time()), tz))
    end = to_utc_s(localize(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), tz))
    at = np.arange(start, end + 1, STEP_S, dtype=np.int64)
    fc = loaded.live.forecast_at(np.full(at.size, f), at, now_utc_s)
    cap = float(loaded.network.parking.capacity[f])
    p, basis = _p_with_prior(loaded, np.full(at.size, f), fc.p_free, fc.basis_names())
    low = np.clip(fc.expected_free - BAND_Z * fc.free_std, 0, cap if cap > 0 else np.inf)
    high = np.clip(fc.expected_free + BAND_Z * fc.free_std, 0, cap if cap > 0 else np.inf)

    def num(x):
        return None if not np.isfinite(x) else round(float(x), 1)

    points = [{"time": iso(int(t), tz), "free_spaces": num(fc.expected_free[i]),
               "free_low": num(low[i]), "free_high": num(high[i]),
               "p_free": round(float(p[i]), 3)} for i, t in enumerate(at)]
    return points, basis[at.size // 2]


def make_blueprint(config: ApiConfig) -> Blueprint:
    blp = Blueprint("parking_zones", __name__, url_prefix="/api/v1",
                    description="Street parking zones, and a facility's forecast over a day")

    @blp.get("/parking/zones")
    @blp.arguments(ZoneArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
    @blp.response(200, FeatureCollectionSchema)
    def street_zones(at):
        """Street parking zones as GeoJSON lines, with p(free) at ``at``."""
        state = app_state()
        loaded = state.require()
        now_utc_s = int(state.clock())
        at_utc_s = now_utc_s if at is None else to_utc_s(localize(at, loaded.network.timezone))
        pk = loaded.network.parking
        if pk.zones is None:
            return {"type": "FeatureCollection", "features": [],
                    "at": iso(at_utc_s, loaded.network.timezone)}
        f = np.asarray(pk.zones.facility_idx, dtype=np.int64)
        fc = loaded.live.forecast_at(f, np.full(f.size, at_utc_s), now_utc_s)
        p, basis = _p_with_prior(loaded, f, fc.p_free, fc.basis_names())
        estimated = _estimated(loaded)
        features = [_zone_feature(loaded, z, p[z], basis[z], fc.expected_free[z], estimated)
                    for z in range(f.size)]
        return {"type": "FeatureCollection", "features": features,
                "at": iso(at_utc_s, loaded.network.timezone)}

    @blp.get("/parking/forecast")
    @blp.arguments(DayForecastArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
    @blp.response(200, DayForecastSchema)
    def day_forecast(facility, date, at):
        """One facility's forecast over a local day: expected free spaces, 80 % band, p(free)."""
        state = app_state()
        loaded = state.require()
        f = loaded.live.facility_idx(facility)
        if f is None:
            raise ApiError("NOT_FOUND", f"no parking facility {facility[:80]!r} in this network "
                           "(see GET /api/v1/parking)", field="facility", status=404)
        pk, tz = loaded.network.parking, loaded.network.timezone
        date = date.date()
        points, basis = _day_points(loaded, f, date, int(state.clock()))
        cap = int(pk.capacity[f])
        kind = int(pk.kind[f])
        return {"facility_id": str(pk.facility_ids[f]), "name": str(pk.facility_name[f]),
                "kind": _kind_name(kind), "date": date.isoformat(),
                "capacity": cap if cap > 0 else None,
                "capacity_estimated": bool(_estimated(loaded)[f]), "basis": basis,
                "at": None if at is None else iso(to_utc_s(localize(at, tz)), tz),
                "points": points}

    return blp


def _kind_name(kind: int) -> str:
    return ParkingKind(kind).name if kind in ParkingKind._value2member_map_ else str(kind)

