"""JSON shapes of engine results: itineraries with ISO 8601 times in the feed's timezone.

The shape follows DESIGN.md (OTP/MOTIS-like)::

    {"code": null, "message": "", "timezone": "Europe/Paris",
     "itineraries": [{"start_time": "2024-01-08T08:02:11+01:00", "end_time": ..., "duration_s": ...,
                      "transfers": 1, "walk_distance_m": 412.0,
                      "legs": [{"mode": "WALK" | "BUS" | "TRAM" | ..., "from": {...}, "to": {...},
                                "start_time": ..., "end_time": ..., "duration_s": ...,
                                "distance_m": ..., "geometry": {"type": "LineString", ...},
                                # transit legs only:
                                "route": {...}, "route_id": ..., "trip_id": ...,
                                "headsign": ..., "service_date": "2024-01-07",
                                "intermediate_stops": [...]}]}]}

``from``/``to`` are places: ``name``, ``lon``, ``lat``, and ``stop_id`` for a stop (``parking_id``
for a car park). A transit leg's times are its scheduled departure and arrival; its
``service_date`` is the GTFS service day the trip belongs to (the day before, for a trip past
midnight).

Plans made with real-time data (``plan_trip(..., realtime=...)``) add, on each transit leg,
``realtime`` (true when its times are predictions), ``scheduled_start_time``,
``scheduled_end_time``, ``delay_s`` (arrival), ``departure_delay_s``, ``alerts`` (``id``,
``effect``, ``cause``, ``header_text``, ``description_text``, ``url`` in the language asked for,
falling back to the feed's), and ``vehicle_stops_away``/``vehicle`` when the boarded trip's
vehicle is known; on each itinerary ``notices`` (``TRIP_CANCELLED``: a trip the schedule would
have used), ``transfer_reliability`` (per transfer: ``p``, ``slack_s``, ``basis``) and
``reliability`` (``robust`` or ``tight connection: 70 %``).
"""
from __future__ import annotations

import datetime as dt

from engine.planning.itinerary import Itinerary, Leg, Place, PlanResult
from engine.transit import from_service_time


def _place(p: Place) -> dict:
    out = {"name": p.name, "lon": round(p.lon, 7), "lat": round(p.lat, 7)}
    if p.stop_id is not None:
        out["stop_id"] = p.stop_id
    if p.parking_id is not None:
        out["parking_id"] = p.parking_id
    return out


def iso_time(tz: str, day: int, seconds: int) -> str:
    """ISO 8601 local time (with offset) of ``seconds`` after service day ``day``'s reference."""
    return from_service_time(tz, day, seconds).isoformat()


def _realtime_json(leg: Leg, day: int, tz: str, lang: str | None) -> dict:
    rt = leg.realtime
    out = {"realtime": rt.realtime,
           "scheduled_start_time": iso_time(tz, day, rt.scheduled_start_s),
           "scheduled_end_time": iso_time(tz, day, rt.scheduled_end_s),
           "delay_s": rt.delay_s, "departure_delay_s": rt.departure_delay_s,
           "alerts": [a.as_dict(lang) for a in rt.alerts]}
    if rt.arrival_uncertainty_s is not None:
        out["arrival_uncertainty_s"] = rt.arrival_uncertainty_s
    if rt.vehicle is not None:
        v = rt.vehicle
        out["vehicle"] = {"id": v.vehicle_id, "label": v.label, "lon": v.lon, "lat": v.lat,
                          "status": v.status}
        out["vehicle_stops_away"] = rt.vehicle_stops_away
    return out


def leg_to_json(leg: Leg, day: int, tz: str, lang: str | None = None) -> dict:
    out = {
        "mode": leg.mode,
        "from": _place(leg.from_place),
        "to": _place(leg.to_place),
        "start_time": iso_time(tz, day, leg.start_s),
        "end_time": iso_time(tz, day, leg.end_s),
        "duration_s": leg.duration_s,
        "distance_m": round(float(leg.distance_m), 1),
        "geometry": {"type": "LineString",
                     "coordinates": [[round(float(x), 7), round(float(y), 7)]
                                     for x, y in zip(leg.geometry_lon, leg.geometry_lat, strict=True)]},
    }
    if leg.route is not None:
        r = leg.route
        out["route"] = {"route_id": r.route_id, "short_name": r.short_name,
                        "long_name": r.long_name, "type": r.route_type, "color": r.color,
                        "text_color": r.text_color, "agency": r.agency}
        out["route_id"] = r.route_id
        out["trip_id"] = leg.trip_id
        out["headsign"] = leg.headsign
        if leg.trip_service_day is not None:
            out["service_date"] = (dt.date(1970, 1, 1)
                                   + dt.timedelta(days=int(leg.trip_service_day))).isoformat()
        out["intermediate_stops"] = [_place(p) for p in leg.intermediate_stops]
    if leg.realtime is not None:
        out.update(_realtime_json(leg, day, tz, lang))
    if leg.extra:
        out.update(leg.extra)
    return out


def _realtime_itinerary_json(it: Itinerary, tz: str) -> dict:
    notices = []
    for c in it.cancelled:
        hhmm = from_service_time(tz, it.service_day, c.scheduled_departure_s).strftime("%H:%M")
        notices.append({"type": "TRIP_CANCELLED", "trip_id": c.trip_id, "route": c.route_name,
                        "stop": c.stop_name, "leg": c.leg_index,
                        "scheduled_departure": iso_time(tz, it.service_day, c.scheduled_departure_s),
                        "message": c.message(hhmm)})
    return {"notices": notices, "transfer_reliability": [t.as_dict() for t in it.transfer_reliability],
            "reliability": it.reliability}


def itinerary_to_json(it: Itinerary, tz: str, lang: str | None = None) -> dict:
    """One itinerary as a JSON-able dict, times in ``tz`` (the feed's timezone). Itineraries of
    the multimodal planner also carry ``mode`` (CAR_PARK, PARK_AND_RIDE...), ``labels``
    ("fastest"...) and ``parking_risk`` (1 - p_free of the car park used)."""
    out = {
        "start_time": iso_time(tz, it.service_day, it.start_s),
        "end_time": iso_time(tz, it.service_day, it.end_s),
        "duration_s": it.duration_s,
        "transfers": it.transfers,
        "walk_distance_m": round(it.walk_distance_m, 1),
        "legs": [leg_to_json(leg, it.service_day, tz, lang) for leg in it.legs],
    }
    if it.reliability:
        out.update(_realtime_itinerary_json(it, tz))
    if it.mode:
        out.update(mode=it.mode, labels=list(it.labels), parking_risk=round(float(it.parking_risk), 3))
    return out


def plan_to_json(result: PlanResult, lang: str | None = None) -> dict:
    """A PlanResult: its itineraries, or an empty list with the reason code and message; with
    the multimodal planner, ``left_out`` says why each mode asked for has no itinerary
    (``{mode: {"code", "message", "avoided"}}``, ``avoided`` listing the car parks passed over).
    ``lang``: the language of alert texts (a BCP 47 tag; the feed's own when absent)."""
    out = {"code": result.code, "message": result.message, "timezone": result.timezone,
           "itineraries": [itinerary_to_json(it, result.timezone, lang) for it in result.itineraries]}
    if result.left_out:
        out["left_out"] = {mode: {"code": why.code, "message": why.message,
                                  "avoided": list(why.avoided)}
                           for mode, why in result.left_out.items()}
    return out
