"""``/api/v1/plan`` and ``/api/v1/isochrone``: parse and check the query, call the engine, serialise.

The views are thin: :meth:`PlanQuery.from_args` turns the validated query parameters into a
query in the network's terms (lon/lat, an aware local datetime, the service day and its seconds)
and applies the checks that need the network (swapped coordinates, points outside the network),
then :func:`_run_plan` / :func:`_run_isochrone` call the engine on the compute pool within the
request time budget: :meth:`api.state.AppState.run` hands them a deadline that the engine's
searches check, so a request over budget stops computing and answers 503 TIME_BUDGET_EXCEEDED.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint

from api import schemas
from api.bikeshare import bike_share_feed
from api.config import ApiConfig
from api.errors import ApiError
from api.serialize import plan_to_json
from api.state import Loaded, app_state
from api.timeutil import default_departure, localize, service_day_and_seconds
from engine.deadline import Deadline, DeadlineExceeded, check
from engine.model import Network
from engine.parking.bikes import BikeShareLive
from engine.planning.bounds import COORDINATES_SWAPPED, coordinates_swapped, swapped_message
from engine.planning.isochrone import IsochroneUnavailable, reachable_area
from engine.planning.options import PlanOptions
from engine.planning.planner import plan_trip
from engine.planning.reasons import OUTSIDE_SERVICE_PERIOD, default_modes
from engine.transit import OutsideServicePeriod

BBOX_MARGIN_DEG = 0.02
"""Points this far outside the network's bbox still count as inside (snapping decides)."""
DEFAULTS = PlanOptions()
"""Options an endpoint does not take (the isochrone's max_transfers...) keep the planner's default."""


@dataclass(frozen=True)
class PlanQuery:
    """A plan request in the network's terms. Coordinates are WGS84 degrees."""

    origin_lon: float
    origin_lat: float
    destination_lon: float | None
    destination_lat: float | None
    when: dt.datetime             # aware, in the feed's timezone
    service_day: int              # days since 1970-01-01
    time_s: int                   # seconds after the service day's GTFS midnight
    arrive_by: bool
    modes: tuple[str, ...]
    walk_speed_mps: float
    bike_speed_mps: float
    max_transfers: int
    max_walk_m: float
    bike_lane_preference: float
    num_itineraries: int
    window_s: int
    wheelchair: bool
    minutes: int = 0              # isochrones only
    datetime_defaulted: bool = False
    notes: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: dict, loaded: Loaded, *, now_utc_s: float) -> PlanQuery:
        """The query of validated arguments; raises ApiError 422 COORDINATES_SWAPPED."""
        network = loaded.network
        olat, olon = args["origin"]
        _check_not_swapped(network, olat, olon, "from")
        dlat = dlon = None
        if args.get("destination") is not None:
            dlat, dlon = args["destination"]
            _check_not_swapped(network, dlat, dlon, "to")
        notes: list[str] = []
        if args.get("datetime") is None:
            tt = network.timetable
            when, note = default_departure(network.timezone,
                                           None if tt is None else tt.service_active,
                                           0 if tt is None else tt.service_first_day, now_utc_s)
            if note:
                notes.append(note)
            defaulted = True
        else:
            when = localize(args["datetime"], network.timezone)
            defaulted = False
        day, time_s = service_day_and_seconds(when)
        return cls(origin_lon=olon, origin_lat=olat, destination_lon=dlon, destination_lat=dlat,
                   when=when, service_day=day, time_s=time_s,
                   arrive_by=bool(args.get("arrive_by", False)), modes=tuple(args["modes"]),
                   walk_speed_mps=float(args["walk_speed"]),
                   bike_speed_mps=float(args.get("bike_speed", DEFAULTS.bike_speed_mps)),
                   max_transfers=int(args.get("max_transfers", DEFAULTS.max_transfers)),
                   max_walk_m=float(args["max_walk_m"]),
                   bike_lane_preference=float(args.get("bike_lane_preference",
                                                       DEFAULTS.bike_lane_preference)),
                   num_itineraries=int(args.get("num_itineraries", DEFAULTS.num_itineraries)),
                   window_s=int(args.get("window_min", 0)) * 60,
                   wheelchair=bool(args.get("wheelchair", DEFAULTS.wheelchair)),
                   minutes=int(args.get("minutes", 0)), datetime_defaulted=defaulted,
                   notes=tuple(notes))

    def echo(self) -> dict:
        """The request as understood, for the response."""
        out = asdict(self)
        out["when"] = self.when.isoformat(timespec="seconds")
        out["modes"] = list(self.modes)
        out["notes"] = list(self.notes)
        out["from"] = {"lat": self.origin_lat, "lon": self.origin_lon}
        out["to"] = (None if self.destination_lat is None
                     else {"lat": self.destination_lat, "lon": self.destination_lon})
        for key in ("origin_lon", "origin_lat", "destination_lon", "destination_lat"):
            del out[key]
        return out


def _inside(network: Network, lat: float, lon: float) -> bool:
    min_lon, min_lat, max_lon, max_lat = network.bbox
    m = BBOX_MARGIN_DEG
    return min_lon - m <= lon <= max_lon + m and min_lat - m <= lat <= max_lat + m


def _check_not_swapped(network: Network, lat: float, lon: float, name: str) -> None:
    # the check the CLI makes too (engine.planning.bounds)
    if coordinates_swapped(network, lon, lat, DEFAULTS.bbox_margin_m):
        raise ApiError(COORDINATES_SWAPPED, swapped_message(name, lat, lon), field=name)


def _outside_bounds(network: Network, query: PlanQuery) -> str | None:
    """Which endpoint of the query lies outside the network, or None."""
    if not _inside(network, query.origin_lat, query.origin_lon):
        return "from"
    if query.destination_lat is not None and not _inside(network, query.destination_lat,
                                                          query.destination_lon):
        return "to"
    return None


def _plan_options(query: PlanQuery) -> PlanOptions:
    return PlanOptions(walk_speed_mps=query.walk_speed_mps, bike_speed_mps=query.bike_speed_mps,
                       bike_lane_preference=query.bike_lane_preference, max_walk_m=query.max_walk_m,
                       max_transfers=query.max_transfers, wheelchair=query.wheelchair,
                       window_s=query.window_s, num_itineraries=query.num_itineraries)


def _run_plan(network: Network, query: PlanQuery, loaded: Loaded, now_utc_s: float,
              lang: str | None = None, bike_share: BikeShareLive | None = None,
              deadline: Deadline | None = None
              ) -> tuple[list[dict], str | None, str | None, dict | None]:
    """(itineraries as JSON, no-route code, message, modes left out) for one query; on the
    real-time state when the server has feeds (a plan that fails on it is made without it:
    nothing in a feed may cause a 500). Raises DeadlineExceeded once ``deadline`` has passed."""
    when = {"arrive_by" if query.arrive_by else "depart_at": query.when}

    sent = loaded.recommendations
    pending = None if sent is None else sent.pending(int(now_utc_s))

    def run(realtime):
        return plan_trip(network, (query.origin_lon, query.origin_lat),
                         (query.destination_lon, query.destination_lat), modes=query.modes,
                         options=_plan_options(query), live=loaded.live.snapshot(),
                         now_utc_s=int(now_utc_s), realtime=realtime, deadline=deadline,
                         bike_share=bike_share, pending=pending, **when)

    realtime = loaded.realtime.current() if loaded.realtime is not None else None
    try:
        result = run(realtime)
    except DeadlineExceeded:
        raise
    except Exception:
        if realtime is None:
            raise
        logging.getLogger("trajet.api").exception("trajet: planning on the real-time state failed")
        result = run(None)
    if sent is not None:
        sent.record_plan(result, network.timezone, int(now_utc_s))
    out = plan_to_json(result, lang=lang)
    return out["itineraries"], out["code"], out["message"], out.get("left_out")


def _run_isochrone(network: Network, query: PlanQuery, loaded: Loaded,
                   deadline: Deadline | None = None) -> dict:
    """GeoJSON FeatureCollection of the area reachable within ``query.minutes``: one polygon
    feature per mode asked, with the reached street nodes' count and the mode in properties.
    Raises DeadlineExceeded once ``deadline`` has passed."""
    features, codes = [], []
    options = _plan_options(query)
    for mode in query.modes:
        check(deadline, f"the {mode} isochrone")
        try:
            iso = reachable_area(network, (query.origin_lon, query.origin_lat), query.when,
                                 mode=mode, max_time_s=query.minutes * 60, options=options,
                                 deadline=deadline)
        except IsochroneUnavailable as exc:
            codes.append(exc.code)
            continue
        except OutsideServicePeriod:
            # a date the timetable does not cover is an answer, as it is for /plan: no area
            codes.append(OUTSIDE_SERVICE_PERIOD)
            continue
        features.append({"type": "Feature", "geometry": iso.polygon,
                         "properties": {"mode": mode, "minutes": query.minutes,
                                        "nodes_reached": iso.n_nodes,
                                        "stops_reached": iso.n_stops}})
    return {"type": "FeatureCollection", "features": features,
            "code": None if features else (codes[0] if codes else "NO_ISOCHRONE")}


def _language(args: dict) -> str | None:
    """The language of alert texts: ``lang``, else the best of Accept-Language, else None."""
    if args.get("lang"):
        return args["lang"]
    from flask import request

    best = request.accept_languages.best
    return best if best and best != "*" else None


def make_blueprint(config: ApiConfig) -> Blueprint:
    blp = Blueprint("plan", __name__, url_prefix="/api/v1",
                    description="Trip planning and isochrones")

    @blp.get("/plan")
    @blp.arguments(schemas.plan_args_schema(config), location="query", unknown=ma.RAISE)
    @blp.response(200, schemas.PlanResponseSchema)
    def plan(args):
        """Itineraries between two points: walk, bike, car + parking, transit and combinations.

        "No route" is a normal answer: an empty list with a reason ``code``.
        """
        state = app_state()
        loaded = state.require()
        if "modes" not in request.args:     # the CLI's rule too
            args = {**args, "modes": default_modes(loaded.network)}
        query = PlanQuery.from_args(args, loaded, now_utc_s=state.clock())
        response = {"request": query.echo(), "itineraries": [], "code": None, "message": None,
                    "notes": list(query.notes)}
        outside = _outside_bounds(loaded.network, query)
        if outside:
            response.update(code="OUTSIDE_BOUNDS",
                            message=f"'{outside}' lies outside the area this network covers")
            return response
        bike_share = bike_share_feed(loaded).live() if "BIKE_SHARE" in query.modes else None
        itineraries, code, message, left_out = state.run(_run_plan, loaded.network, query, loaded,
                                                         state.clock(), _language(args), bike_share)
        response.update(itineraries=itineraries, code=code, message=message)
        if left_out:
            response["left_out"] = left_out
        return response

    @blp.get("/isochrone")
    @blp.arguments(schemas.isochrone_args_schema(config), location="query", unknown=ma.RAISE)
    @blp.response(200, schemas.IsochroneResponseSchema)
    def isochrone(args):
        """The area reachable from a point within ``minutes``, as GeoJSON polygons."""
        state = app_state()
        loaded = state.require()
        query = PlanQuery.from_args({**args, "destination": None}, loaded,
                                    now_utc_s=state.clock())
        if _outside_bounds(loaded.network, query):
            return {"type": "FeatureCollection", "features": [], "request": query.echo(),
                    "code": "OUTSIDE_BOUNDS"}
        result = state.run(_run_isochrone, loaded.network, query, loaded)
        return {**result, "request": query.echo()}

    return blp
