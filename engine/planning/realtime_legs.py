"""Itineraries planned on a real-time state, annotated: each transit leg's scheduled times and
delays, the alerts that concern it, the vehicle of its trip; each itinerary's cancelled trips
and the reliability of its transfers.

* **Scheduled times and delays**: a leg on a re-added (real-time) trip of the overlay compares
  its times with its scheduled trip's at the same positions; a leg on a static trip has delay 0
  and ``realtime`` False.
* **Alerts**: every alert whose effect is not NO_SERVICE (the overlay applies those), active at
  some instant of the leg (its active periods overlap [start, end]; no period: always) and with
  an informed entity matching the leg: its line (a route, or an agency's lines), its route_type,
  its (scheduled) trip, or its boarding or alighting stop (or their stations).
* **Vehicle**: a position of the leg's trip. ``vehicle_stops_away`` counts the stops it has yet
  to serve before the boarding stop: ``board - p`` when it is STOPPED_AT position p (0: it is
  there), ``board - p + 1`` when it is IN_TRANSIT_TO or INCOMING_AT p; without a stop, p is
  the trip's stop nearest to the position. A vehicle past the boarding stop gives None.
* **Cancelled trips**: a cancelled trip of a leg's line that calls at the leg's boarding stop
  and later at its alighting stop, scheduled to leave the boarding stop between the moment the
  traveller reaches it (the previous leg's end; for the first ride, the depart-at query time
  plus the walk to the stop, or with arrive-by :data:`ARRIVE_BY_LOOKBACK_S` before the leg)
  and the leg's departure: the trip the schedule would have had them take. (Itineraries that avoid
  a cancelled line altogether get no notice.)
* **Reliability**: ``engine.planning.reliability`` for each pair of consecutive transit legs;
  the transfer time is the walking between them (``transfer_slack_s`` when they share a stop).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from engine.model import Network, Timetable, haversine_m
from engine.planning.realtime import CancelledTrip, LegRealtime, RealtimeState, VehicleInfo
from engine.planning.reliability import (
    TransferReliability,
    reliability_label,
    transfer_probability,
)
from engine.transit.realtime import RealtimeOverlay, trip_stop_times
from engine.transit.service_days import service_day_reference

ARRIVE_BY_LOOKBACK_S = 30 * 60


def annotate_itineraries(itineraries, network: Network, state: RealtimeState, *,
                         transfer_slack_s: int, depart_s: int | None = None) -> tuple:
    """``itineraries`` (``engine.planning.itinerary.Itinerary``; not imported: that module
    calls this one) with real-time annotations (module docstring). ``network`` is the static
    network; the itineraries' trip indices are those of ``state.timetable_for`` their day.
    ``depart_s``: a depart-at query's time (service-day seconds of the itineraries' day); None
    for arrive-by."""
    out = []
    for it in itineraries:
        if not any(leg.is_transit for leg in it.legs):
            out.append(it)
            continue
        tt = state.timetable_for(network.timetable, it.service_day)
        overlay = state.overlay if (state.overlay is not None
                                    and tt is state.overlay.timetable) else None
        ref_utc_s = service_day_reference(network.timezone, it.service_day).timestamp()
        legs = tuple(_annotate_leg(leg, network.timetable, tt, overlay, state, ref_utc_s)
                     if leg.is_transit and leg.trip_idx >= 0 else leg for leg in it.legs)
        transfers = tuple(_transfers(legs, network.timetable, state, transfer_slack_s))
        out.append(dataclasses.replace(
            it, legs=legs,
            cancelled=tuple(_cancelled(it, legs, network.timetable, overlay, depart_s)),
            transfer_reliability=transfers, reliability=reliability_label(transfers)))
    return tuple(out)


def _static_trip(overlay: RealtimeOverlay | None, trip_idx: int) -> int:
    return int(overlay.original_trip_idx[trip_idx]) if overlay is not None else int(trip_idx)


def _annotate_leg(leg, static: Timetable, tt: Timetable, overlay: RealtimeOverlay | None,
                  state: RealtimeState, ref_utc_s: float):
    trip = int(leg.trip_idx)
    orig = _static_trip(overlay, trip)
    is_rt = overlay is not None and overlay.is_realtime(trip)
    dep_delay = arr_delay = 0
    if is_rt:
        _, rt_arr, rt_dep, _, _ = trip_stop_times(tt, trip)
        _, s_arr, s_dep, _, _ = trip_stop_times(static, orig)
        dep_delay = int(rt_dep[leg.board_pos] - s_dep[leg.board_pos])
        arr_delay = int(rt_arr[leg.alight_pos] - s_arr[leg.alight_pos])
    line = int(static.route_line_idx[static.trip_route_idx[orig]])
    route_type = int(static.line_type[line])
    stops = {int(leg.from_place.stop_idx), int(leg.to_place.stop_idx)}
    stops |= {int(static.stop_parent_idx[s]) for s in list(stops) if s >= 0}
    start_utc, end_utc = ref_utc_s + leg.start_s, ref_utc_s + leg.end_s
    alerts = tuple(a for a in state.alerts
                   if a.effect != "NO_SERVICE" and a.active(start_utc, end_utc)
                   and any(s.matches(line, route_type, orig, stops) for s in a.scopes))
    day = leg.trip_service_day if leg.trip_service_day is not None else -1
    vehicle, away = _vehicle(static, orig, leg.board_pos, state.vehicles)
    info = LegRealtime(realtime=is_rt, scheduled_start_s=int(leg.start_s) - dep_delay,
                       scheduled_end_s=int(leg.end_s) - arr_delay, departure_delay_s=dep_delay,
                       delay_s=arr_delay,
                       arrival_uncertainty_s=(state.arrival_uncertainty_s(orig, day, leg.alight_pos)
                                              if is_rt else None),
                       alerts=alerts, vehicle=vehicle, vehicle_stops_away=away)
    return dataclasses.replace(leg, realtime=info)


def _vehicle(static: Timetable, orig: int, board_pos: int, vehicles: tuple[VehicleInfo, ...]
             ) -> tuple[VehicleInfo | None, int | None]:
    """The vehicle of trip ``orig`` and how many stops it has yet to serve before ``board_pos``."""
    mine = [v for v in vehicles if v.trip_idx == orig]
    if not mine:
        return None, None
    v = max(mine, key=lambda x: x.timestamp_utc_s or 0)
    stops, *_ = trip_stop_times(static, orig)
    parents = np.asarray(static.stop_parent_idx)[stops]
    ahead = 1
    if v.stop_idx >= 0 and np.any((stops[:board_pos + 1] == v.stop_idx)
                                  | (parents[:board_pos + 1] == v.stop_idx)):
        hits = np.flatnonzero((stops[:board_pos + 1] == v.stop_idx)
                              | (parents[:board_pos + 1] == v.stop_idx))
        pos = int(hits[-1])
        ahead = 0 if v.status == "STOPPED_AT" else 1
    elif v.stop_idx >= 0:
        return v, None                  # its stop is past the boarding stop
    elif v.lon is not None and v.lat is not None:
        d = haversine_m(v.lon, v.lat, np.asarray(static.stop_lon)[stops], np.asarray(static.stop_lat)[stops])
        pos, ahead = int(np.argmin(d)), 0
        if pos > board_pos:
            return v, None
    else:
        return v, None
    return v, int(board_pos - pos + ahead)


def _cancelled(it, legs: tuple, static: Timetable,
               overlay: RealtimeOverlay | None, depart_s: int | None) -> list[CancelledTrip]:
    if overlay is None or not overlay.cancelled_trip_idx.size:
        return []
    out = []
    first = next(i for i, leg in enumerate(legs) if leg.is_transit)
    before_s = sum(leg.duration_s for leg in legs[:first])
    reach_s = (legs[first].start_s - ARRIVE_BY_LOOKBACK_S if depart_s is None
               else min(int(depart_s) + before_s, legs[first].start_s))
    trip_route = np.asarray(static.trip_route_idx)[overlay.cancelled_trip_idx]
    trip_line = np.asarray(static.route_line_idx)[trip_route]
    for i, leg in enumerate(legs):
        if leg.is_transit and leg.trip_idx >= 0:
            orig = _static_trip(overlay, int(leg.trip_idx))
            line = int(static.route_line_idx[static.trip_route_idx[orig]])
            for j in np.flatnonzero(trip_line == line).tolist():
                found = _would_have_taken(static, int(overlay.cancelled_trip_idx[j]),
                                          int(overlay.cancelled_day[j]) - it.service_day, leg, reach_s)
                if found is not None:
                    out.append(CancelledTrip(
                        trip_id=str(static.trip_ids[overlay.cancelled_trip_idx[j]]),
                        route_name=leg.route.short_name or leg.route.long_name,
                        stop_name=leg.from_place.name, scheduled_departure_s=found, leg_index=i))
        if i >= first:
            reach_s = leg.end_s
    return out


def _would_have_taken(static: Timetable, trip: int, day_shift: int, leg, reach_s: int) -> int | None:
    """The scheduled departure (itinerary seconds) of cancelled ``trip`` from the leg's boarding
    stop when it also serves the alighting stop later and leaves within [reach_s, leg start]."""
    stops, _, dep, board, alight = trip_stop_times(static, trip)
    b = np.flatnonzero((stops == leg.from_place.stop_idx) & board)
    if not b.size:
        return None
    a = np.flatnonzero((stops == leg.to_place.stop_idx) & alight)
    if not a.size or a[-1] <= b[0]:
        return None
    t = int(dep[b[0]]) + 86_400 * day_shift
    return t if reach_s <= t <= leg.start_s else None


def _transfers(legs: tuple, static: Timetable, state: RealtimeState,
               transfer_slack_s: int) -> list[TransferReliability]:
    out = []
    rides = [i for i, leg in enumerate(legs) if leg.is_transit]
    for a, b in zip(rides, rides[1:], strict=False):
        walk_s = sum(legs[k].duration_s for k in range(a + 1, b))
        incoming, outgoing = legs[a], legs[b]
        change_s = walk_s if b > a + 1 else int(transfer_slack_s)
        slack = int(outgoing.start_s - incoming.end_s - change_s)
        info = incoming.realtime
        realtime = info is not None and info.realtime
        p, basis = transfer_probability(
            slack, route_type=incoming.route.route_type, model=state.delays, realtime=realtime,
            known_delay_s=info.delay_s if info is not None else 0,
            uncertainty_s=info.arrival_uncertainty_s if info is not None else None)
        out.append(TransferReliability(from_leg=a, to_leg=b, stop_id=incoming.to_place.stop_id,
                                       slack_s=slack, p=p, basis=basis))
    return out


__all__ = ["annotate_itineraries"]
