"""GTFS-Realtime feeds resolved into the planner's real-time state
(:class:`engine.planning.realtime.RealtimeState`): the overlay (``loaders.realtime_adapter``),
the service alerts and vehicle positions as engine indices, the updates' uncertainties, and the
delays seen (fed to the learnt delay model of ``engine.planning.reliability``).

Resolving alerts: each informed entity becomes an :class:`AlertScope`. An ``agency_id`` stands
for the lines of that agency: the timetable keeps agency names, not ids, so an agency_id
matches the lines whose agency name equals it, and in a timetable with a single agency it
matches every line. A route_id, trip_id or stop_id the timetable does not know makes the entity
unresolvable (counted under ``alert_entity_unknown``); an alert none of whose entities resolves
is left out. A stop that is a station stands for its stops too. Vehicles resolve their trip (or,
without it, their route) and stop; unknown ids become -1.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.model import Timetable
from engine.planning.realtime import (
    AlertScope,
    RealtimeState,
    ServiceAlert,
    VehicleInfo,
    observed_delays,
    uncertainty_index,
)
from engine.planning.reliability import DEFAULT_DELAY_MODEL, DelayModel
from engine.transit.realtime import apply_realtime
from loaders.gtfs_rt import Alert, InformedEntity, RealtimeFeed, VehiclePosition
from loaders.realtime_adapter import _IDS, ResolveReport, updates_from_feeds


@dataclass
class StateReport:
    """What building a state did: the resolve report, the overlay's, alerts and vehicles kept."""

    resolve: ResolveReport
    overlay: dict = field(default_factory=dict)
    alerts: int = 0
    vehicles: int = 0
    unmatched: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"resolve": self.resolve.as_dict(), "overlay": self.overlay, "alerts": self.alerts,
                "vehicles": self.vehicles, "unmatched": dict(sorted(self.unmatched.items()))}


def _children(tt: Timetable) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for s, p in enumerate(np.asarray(tt.stop_parent_idx).tolist()):
        if p >= 0:
            out.setdefault(p, []).append(s)
    return out


def _agency_lines(tt: Timetable, agency_id: str) -> frozenset[int] | None:
    names = np.asarray(tt.line_agency).astype(str)
    if np.unique(names).size <= 1:
        return frozenset(range(names.size))
    hit = np.flatnonzero(names == agency_id)
    return frozenset(hit.tolist()) if hit.size else None


def _scope(tt: Timetable, ids, e: InformedEntity, children: dict[int, list[int]]) -> AlertScope | None:
    """The entity as an AlertScope, or None when it names something the timetable lacks."""
    lines = trip = stops = None
    if e.agency_id is not None:
        lines = _agency_lines(tt, e.agency_id)
        if lines is None:
            return None
    if e.route_id is not None:
        if e.route_id not in ids.line:
            return None
        line = ids.line[e.route_id]
        lines = frozenset({line}) if lines is None or line in lines else frozenset()
    if e.trip_id is not None:
        trip = ids.trip.get(e.trip_id)
        if trip is None:
            return None
    if e.stop_id is not None:
        stop = ids.stop.get(e.stop_id)
        if stop is None:
            return None
        stops = frozenset([stop, *children.get(stop, [])])
    return AlertScope(line_idx=lines, route_type=e.route_type, trip_idx=trip, stop_idx=stops)


def service_alerts(tt: Timetable, alerts: Sequence[Alert], unmatched: Counter) -> tuple[ServiceAlert, ...]:
    """Alerts resolved against ``tt`` (module docstring); unresolvable entities counted."""
    ids = _IDS(tt)
    children = _children(tt)
    out = []
    for a in alerts:
        scopes = []
        for e in a.informed:
            scope = _scope(tt, ids, e, children)
            if scope is None:
                unmatched["alert_entity_unknown"] += 1
            else:
                scopes.append(scope)
        if scopes:
            out.append(ServiceAlert(alert_id=a.entity_id, scopes=tuple(scopes),
                                    active_periods=a.active_periods, cause=a.cause, effect=a.effect,
                                    header_text=dict(a.header_text),
                                    description_text=dict(a.description_text), url=dict(a.url)))
        elif a.informed:
            unmatched["alert_without_known_entity"] += 1
    return tuple(out)


def vehicle_infos(tt: Timetable, vehicles: Sequence[VehiclePosition]) -> tuple[VehicleInfo, ...]:
    """Vehicle positions with their trip, line and stop as indices (-1 when unknown)."""
    ids = _IDS(tt)
    out = []
    for v in vehicles:
        trip = ids.trip.get(v.trip_id, -1) if v.trip_id else -1
        if trip >= 0:
            line = int(tt.route_line_idx[tt.trip_route_idx[trip]])
        else:
            line = ids.line.get(v.route_id, -1) if v.route_id else -1
        out.append(VehicleInfo(vehicle_id=v.vehicle_id or v.entity_id, label=v.label, trip_idx=trip,
                               line_idx=line, lon=v.lon, lat=v.lat, bearing_deg=v.bearing_deg,
                               stop_idx=ids.stop.get(v.stop_id, -1) if v.stop_id else -1,
                               status=v.current_status, timestamp_utc_s=v.timestamp_utc_s))
    return tuple(out)


def state_from_feeds(timetable: Timetable, feeds: RealtimeFeed | Sequence[RealtimeFeed], *,
                     now_utc_s: float | None = None, max_age_s: float | None = None,
                     delays: DelayModel = DEFAULT_DELAY_MODEL) -> tuple[RealtimeState, StateReport]:
    """The real-time state of ``feeds`` on ``timetable``: overlay (trip updates and NO_SERVICE
    alerts), alerts, vehicles, uncertainties, and ``delays`` with the overlay's delays added.
    Stale feeds (older than ``max_age_s``) contribute nothing. Never raises on feed content."""
    feeds = [feeds] if isinstance(feeds, RealtimeFeed) else list(feeds)
    updates, day, resolve = updates_from_feeds(timetable, feeds, now_utc_s=now_utc_s,
                                               max_age_s=max_age_s)
    overlay = apply_realtime(timetable, day, updates)
    fresh = [f for f in feeds if f.source not in resolve.stale_feeds]
    report = StateReport(resolve=resolve, overlay=overlay.report.as_dict())
    alerts = service_alerts(timetable, [a for f in fresh for a in f.alerts], report.unmatched)
    vehicles = vehicle_infos(timetable, [v for f in fresh for v in f.vehicles])
    report.alerts, report.vehicles = len(alerts), len(vehicles)
    model = delays.with_samples(observed_delays(overlay, timetable))
    state = RealtimeState(overlay=overlay, alerts=alerts, vehicles=vehicles,
                          uncertainty=uncertainty_index(updates), delays=model)
    return state, report


__all__ = ["StateReport", "service_alerts", "state_from_feeds", "vehicle_infos"]
