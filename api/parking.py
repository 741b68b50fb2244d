"""``/api/v1/parking``: car parks with their forecast, and live occupancy updates.

``GET /api/v1/parking?at=ISO`` lists every facility as GeoJSON with its capacity, its last live
observation (at or before ``at``) and the forecast at ``at`` by :func:`engine.parking.forecast`:
expected free spaces, p(free), expected search time and what the forecast rests on (``live``,
``profile`` or ``unknown``). Live observations count when they are recent at the server's clock.

``POST /api/v1/parking/observations`` takes ``{"observations": [{facility_id, timestamp,
free_spaces | occupied, capacity?}, ...]}`` behind ``Authorization: Bearer <ingest_token>``.
Without a configured token the endpoint answers 403 ``INGEST_DISABLED``. The whole batch is
checked before anything is stored; every problem is reported (422, the first in ``code``/
``field``, all of them in ``errors``, each naming ``observations[i].field``). Accepted rows go to
SQLite and are visible to the next request of every worker.
"""
from __future__ import annotations

import functools
import hmac

import marshmallow as ma
import numpy as np
from flask import request
from flask_smorest import Blueprint

from api import schemas
from api.config import ApiConfig
from api.errors import ApiError
from api.observations import Observation
from api.state import Loaded, app_state
from api.timeutil import iso, localize, to_utc_s
from engine.model import UNKNOWN_CAPACITY, ParkingKind


def _forecast(loaded: Loaded, at_utc_s: int, now_utc_s: int):
    """Every facility's forecast at ``at_utc_s`` (engine.parking), live observations included."""
    return loaded.live.forecast(at_utc_s, now_utc_s)


def _number(value: float, digits: int) -> float | None:
    return None if not np.isfinite(value) else round(float(value), digits)


def _feature(loaded: Loaded, i: int, last: tuple, forecast) -> dict:
    pk = loaded.network.parking
    tz = loaded.network.timezone
    cap = int(pk.capacity[i])
    t_last, free_last, cap_last = (int(a[i]) for a in last)
    observation = None
    if t_last >= 0:
        observation = {"time": iso(t_last, tz), "free_spaces": free_last,
                       "capacity": cap_last if cap_last > 0 else None}
    fc = {"free_spaces": _number(forecast.expected_free[i], 1),
          "free_spaces_std": _number(forecast.free_std[i], 1),
          "p_free": _number(forecast.p_free[i], 3),
          "expected_search_s": _number(forecast.expected_search_s[i], 0),
          "basis": str(forecast.basis_names()[i])}
    kind = int(pk.kind[i])
    return {"type": "Feature", "id": str(pk.facility_ids[i]),
            "geometry": {"type": "Point", "coordinates": [round(float(pk.lon[i]), 6),
                                                          round(float(pk.lat[i]), 6)]},
            "properties": {
                "id": str(pk.facility_ids[i]), "name": str(pk.facility_name[i]),
                "kind": ParkingKind(kind).name if kind in ParkingKind._value2member_map_ else str(kind),
                "capacity": None if cap == UNKNOWN_CAPACITY else cap,
                "forecast": fc,
                "free_spaces": fc["free_spaces"],
                "p_free": fc["p_free"],
                "last_observation": observation,
                "last_observation_time": observation["time"] if observation else None,
            }}


def _require_token(view):
    """401/403 before the body is even read: ingest needs the configured bearer token."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = app_state().config.ingest_token
        if token is None:
            raise ApiError("INGEST_DISABLED", "live observations are disabled on this server (no "
                           "ingest_token configured; set TRAJET_INGEST_TOKEN)")
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                 token.encode()):
            raise ApiError("UNAUTHORIZED", "missing or wrong bearer token (Authorization: Bearer "
                           "<token>)", field="Authorization",
                           headers={"WWW-Authenticate": 'Bearer realm="trajet"'})
        return view(*args, **kwargs)
    return wrapper


def check_observations(loaded: Loaded, items: list[dict], *, now_utc_s: int,
                       future_tolerance_s: int) -> tuple[list[Observation], list[dict]]:
    """(observations, problems) of a parsed batch; problems name ``observations[i].field``."""
    pk = loaded.network.parking
    tz = loaded.network.timezone
    problems: list[dict] = []
    out: list[Observation] = []

    def bad(i, name, code, message):
        problems.append({"code": code, "message": f"observation {i}: {message}",
                         "field": f"observations[{i}].{name}"})

    for i, item in enumerate(items):
        n_before = len(problems)
        idx = loaded.live.facility_idx(item["facility_id"])
        if idx is None:
            bad(i, "facility_id", "UNKNOWN_FACILITY",
                f"no facility {item['facility_id'][:80]!r} in this network (see GET /api/v1/parking)")
        when = localize(item["timestamp"], tz)
        t = to_utc_s(when)
        if t > now_utc_s + future_tolerance_s:
            bad(i, "timestamp", "FUTURE_TIMESTAMP",
                f"{when.isoformat()} lies {t - now_utc_s} s in the future (tolerance "
                f"{future_tolerance_s} s)")
        free, occupied, capacity = item["free_spaces"], item["occupied"], item["capacity"]
        for name, value in (("free_spaces", free), ("occupied", occupied), ("capacity", capacity)):
            if value is not None and value < 0:
                bad(i, name, "NEGATIVE_VALUE", f"{name} is negative ({value})")
        if capacity == 0:
            bad(i, "capacity", "OUT_OF_RANGE", "capacity must be positive")
        if free is None and occupied is None:
            bad(i, "free_spaces", "MISSING_VALUE", "give free_spaces or occupied")
        if len(problems) > n_before:
            continue
        known_cap = capacity if capacity is not None else (
            int(pk.capacity[idx]) if int(pk.capacity[idx]) > 0 else None)
        if free is None:
            if known_cap is None:
                bad(i, "occupied", "CAPACITY_UNKNOWN", "occupied needs a capacity (this facility's "
                    "is unknown): give capacity or free_spaces")
                continue
            if occupied > known_cap:
                bad(i, "occupied", "EXCEEDS_CAPACITY", f"occupied ({occupied}) exceeds the capacity "
                    f"({known_cap})")
                continue
            free = known_cap - occupied
        elif known_cap is not None and free > known_cap:
            bad(i, "free_spaces", "EXCEEDS_CAPACITY", f"free_spaces ({free}) exceeds the capacity "
                f"({known_cap}); send capacity if it changed")
            continue
        elif occupied is not None and known_cap is not None and free + occupied > known_cap:
            bad(i, "occupied", "INCONSISTENT_VALUES", f"free_spaces + occupied ({free + occupied}) "
                f"exceeds the capacity ({known_cap})")
            continue
        out.append(Observation(facility_id=str(pk.facility_ids[idx]), time_utc_s=t,
                               free_spaces=int(free), capacity=capacity, received_utc_s=now_utc_s))
    return out, problems


def make_blueprint(config: ApiConfig) -> Blueprint:
    blp = Blueprint("parking", __name__, url_prefix="/api/v1",
                    description="Car parks: forecast availability and live occupancy updates")

    @blp.get("/parking")
    @blp.arguments(schemas.ParkingArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
    @blp.response(200, schemas.ParkingResponseSchema)
    def parking(at):
        """Car parks as GeoJSON: capacity, forecast free spaces and p(free) at ``at``, and the
        time of the last live observation."""
        state = app_state()
        loaded = state.require()
        now_utc_s = int(state.clock())
        at_utc_s = now_utc_s if at is None else to_utc_s(localize(at, loaded.network.timezone))
        last = loaded.live.latest(at_utc_s)
        forecast = _forecast(loaded, at_utc_s, now_utc_s)
        features = [_feature(loaded, i, last, forecast)
                    for i in range(loaded.network.parking.n_facilities)]
        return {"type": "FeatureCollection", "features": features,
                "at": iso(at_utc_s, loaded.network.timezone)}

    @blp.post("/parking/observations")
    @_require_token
    @blp.arguments(schemas.observations_body_schema(config), location="json")
    @blp.response(201, schemas.ObservationsAcceptedSchema)
    @blp.doc(security=[{"bearerAuth": []}])
    def post_observations(body):
        """Store live occupancy observations (all or none); the forecaster uses them at once."""
        state = app_state()
        loaded = state.require()
        if loaded.store is None:
            raise ApiError("INGEST_DISABLED", "no observations database is configured")
        now_utc_s = int(state.clock())
        observations, problems = check_observations(
            loaded, body["observations"], now_utc_s=now_utc_s,
            future_tolerance_s=state.config.future_tolerance_s)
        if problems:
            first = problems[0]
            raise ApiError(first["code"], first["message"], first["field"],
                           errors=problems if len(problems) > 1 else None)
        ids = loaded.store.add(observations)
        loaded.live.sync()
        return {"accepted": len(ids), "ids": ids}

    return blp
