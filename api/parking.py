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
from api.observation_checks import Facilities, ObservationRules, check_reading
from api.observations import Conflict, Observation
from api.state import Loaded, app_state
from api.timeutil import iso, localize, to_utc_s
from engine.model import UNKNOWN_CAPACITY, ParkingKind


def _forecast(loaded: Loaded, at_utc_s: int, now_utc_s: int):
    """Every facility's forecast at ``at_utc_s`` (engine.parking), live observations included."""
    return loaded.live.forecast(at_utc_s, now_utc_s)


def _number(value: float, digits: int) -> float | None:
    return None if not np.isfinite(value) else round(float(value), digits)


def _feature(loaded: Loaded, i: int, last: tuple, forecast, is_zone: np.ndarray) -> dict:
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
                "capacity_estimated": bool(pk.capacity_estimated[i])
                if pk.capacity_estimated is not None else False,
                "street_zone": bool(is_zone[i]),  # drawn as a line by /parking/zones
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


def check_observations(loaded: Loaded, items: list[dict], rules: ObservationRules
                       ) -> tuple[list[Observation], list[dict]]:
    """(observations, problems) of a parsed batch, by :func:`api.observation_checks.check_reading`
    (the rules the live-feed pollers apply too); problems name ``observations[i].field``."""
    network = loaded.network
    facilities = Facilities.of(network.parking, network.timezone, index_of=loaded.live.facility_idx)
    problems: list[dict] = []
    out: list[Observation] = []
    for i, item in enumerate(items):
        def bad(name, code, message, i=i):
            problems.append({"code": code, "message": f"observation {i}: {message}",
                             "field": f"observations[{i}].{name}"})
        reading = {"facility_id": item["facility_id"],
                   "time_utc_s": to_utc_s(localize(item["timestamp"], network.timezone)),
                   "free_spaces": item["free_spaces"], "occupied": item["occupied"],
                   "capacity": item["capacity"]}
        observation = check_reading(facilities, reading, rules, bad)
        if observation is not None:
            out.append(observation)
    return out, problems


def _conflict_error(conflicts: list[Conflict], tz: str) -> ApiError:
    """409 CONFLICT naming each item that contradicts a stored observation (nothing stored)."""
    problems = []
    for c in conflicts:
        old = c.existing
        problems.append({"code": "CONFLICT", "field": f"observations[{c.item}]", "message": (
            f"observation {c.item}: facility {old.facility_id} already has an observation at "
            f"{iso(old.time_utc_s, tz)} with free_spaces {old.free_spaces} and capacity "
            f"{old.capacity} (id {c.existing_id}); a stored observation is never replaced, and an "
            "exact repeat is accepted as a duplicate. Nothing of this request was stored")})
    first = problems[0]
    return ApiError("CONFLICT", first["message"], first["field"],
                    errors=problems if len(problems) > 1 else None)


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
        pk = loaded.network.parking
        is_zone = np.zeros(pk.n_facilities, dtype=bool)
        if pk.zones is not None:
            is_zone[np.asarray(pk.zones.facility_idx)] = True
        features = [_feature(loaded, i, last, forecast, is_zone) for i in range(pk.n_facilities)]
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
        rules = ObservationRules.of(state.config, int(state.clock()))
        observations, problems = check_observations(loaded, body["observations"], rules)
        if problems:
            first = problems[0]
            raise ApiError(first["code"], first["message"], first["field"],
                           errors=problems if len(problems) > 1 else None)
        result = loaded.store.add_unique(observations)
        if result.conflicts:
            raise _conflict_error(result.conflicts, loaded.network.timezone)
        loaded.live.sync()
        return {"accepted": len(result.ids), "ids": result.ids, "duplicates": result.duplicates}

    return blp
