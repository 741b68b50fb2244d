"""The real-time state a plan reads: the overlay timetable, service alerts, vehicle positions,
the uncertainty of the updates and the delays learnt so far, all as engine-side plain data.

``loaders.realtime_adapter.state_from_feeds`` builds a :class:`RealtimeState` from GTFS-Realtime
feeds; :func:`engine.planning.plan_trip` (``realtime=``) plans transit on the overlay's timetable
on the overlay's service day (the static one on any other day) and annotates every transit leg
with a :class:`LegRealtime` (``engine.planning.realtime_legs``).

Alerts are resolved to indices: each informed entity is an :class:`AlertScope` whose given
fields must all match a leg (an agency stands for its lines). NO_SERVICE alerts are applied by
the overlay (closures); the others are attached to the legs they concern.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from engine.model import Timetable
from engine.planning.reliability import DEFAULT_DELAY_MODEL, DelayModel
from engine.transit.realtime import RealtimeOverlay, RealtimeUpdates, trip_stop_times


@dataclass(frozen=True)
class AlertScope:
    """One informed entity of an alert; ``None`` fields match anything."""

    line_idx: frozenset[int] | None = None   # a route, or every line of an agency
    route_type: int | None = None
    trip_idx: int | None = None               # a static trip
    stop_idx: frozenset[int] | None = None    # a stop, or a station and its stops

    def matches(self, line_idx: int, route_type: int, trip_idx: int, stops: set[int]) -> bool:
        return ((self.line_idx is None or line_idx in self.line_idx)
                and (self.route_type is None or route_type == self.route_type)
                and (self.trip_idx is None or trip_idx == self.trip_idx)
                and (self.stop_idx is None or not self.stop_idx.isdisjoint(stops)))


def pick_language(texts: Mapping[str, str], lang: str | None) -> str | None:
    """The text of ``texts`` (language -> text) in ``lang`` (exact, then the same primary
    language: ``fr`` for ``fr-CA`` and back), else the feed's unstated language (key ""), else
    English, else any; None when there is none."""
    if not texts:
        return None
    if lang:
        want = lang.strip().lower()
        for key, text in texts.items():
            if key.lower() == want:
                return text
        primary = want.split("-")[0]
        for key, text in texts.items():
            if key.lower().split("-")[0] == primary:
                return text
    if "" in texts:
        return texts[""]
    for key, text in texts.items():
        if key.lower().split("-")[0] == "en":
            return text
    return next(iter(texts.values()))


@dataclass(frozen=True, eq=False)
class ServiceAlert:
    """A service alert (GTFS-Realtime Alert) resolved to engine indices."""

    alert_id: str
    scopes: tuple[AlertScope, ...]
    active_periods: tuple[tuple[int | None, int | None], ...] = ()   # POSIX s; () = always
    cause: str = "UNKNOWN_CAUSE"
    effect: str = "UNKNOWN_EFFECT"
    header_text: Mapping[str, str] = field(default_factory=dict)       # language -> text
    description_text: Mapping[str, str] = field(default_factory=dict)
    url: Mapping[str, str] = field(default_factory=dict)

    def active(self, start_utc_s: float, end_utc_s: float) -> bool:
        """True when one active period overlaps [start, end] (always, without periods)."""
        return not self.active_periods or any(
            (a is None or a <= end_utc_s) and (b is None or start_utc_s < b)
            for a, b in self.active_periods)

    def as_dict(self, lang: str | None = None) -> dict:
        """JSON-able: id, effect, cause and the texts in ``lang`` (see :func:`pick_language`)."""
        return {"id": self.alert_id, "effect": self.effect, "cause": self.cause,
                "header_text": pick_language(self.header_text, lang),
                "description_text": pick_language(self.description_text, lang),
                "url": pick_language(self.url, lang)}


@dataclass(frozen=True)
class VehicleInfo:
    """A vehicle position resolved to engine indices (-1: unknown)."""

    vehicle_id: str
    label: str | None
    trip_idx: int          # static trip_idx
    line_idx: int
    lon: float | None
    lat: float | None
    bearing_deg: float | None = None
    stop_idx: int = -1     # the stop it is at or heading to
    status: str | None = None   # STOPPED_AT, IN_TRANSIT_TO, INCOMING_AT
    timestamp_utc_s: int | None = None


@dataclass(frozen=True)
class LegRealtime:
    """What real-time data says about one transit leg (times: the itinerary's service-day
    seconds, like the leg's own)."""

    realtime: bool                    # the leg's times are real-time predictions
    scheduled_start_s: int
    scheduled_end_s: int
    departure_delay_s: int            # start_s - scheduled_start_s
    delay_s: int                      # arrival delay: end_s - scheduled_end_s
    arrival_uncertainty_s: int | None = None
    alerts: tuple[ServiceAlert, ...] = ()
    vehicle: VehicleInfo | None = None
    vehicle_stops_away: int | None = None   # stops the boarded trip's vehicle has yet to serve


@dataclass(frozen=True)
class CancelledTrip:
    """A cancelled trip the schedule would have had the traveller take (see realtime_legs)."""

    trip_id: str
    route_name: str
    stop_name: str
    scheduled_departure_s: int        # the itinerary's service-day seconds
    leg_index: int                    # the leg that replaces it

    def message(self, hhmm: str) -> str:
        return (f"the {hhmm} {self.route_name} from {self.stop_name} (trip {self.trip_id}) is "
                "cancelled; this itinerary takes a later vehicle")


@dataclass(frozen=True, eq=False)
class RealtimeState:
    """Everything real-time a plan reads. Any part may be absent (an alerts-only feed...)."""

    overlay: RealtimeOverlay | None = None
    alerts: tuple[ServiceAlert, ...] = ()
    vehicles: tuple[VehicleInfo, ...] = ()
    # (static trip_idx, service day) -> ((position, arrival uncertainty s), ...) by position
    uncertainty: Mapping[tuple[int, int], tuple[tuple[int, int], ...]] = field(default_factory=dict)
    delays: DelayModel = DEFAULT_DELAY_MODEL

    def timetable_for(self, static: Timetable, day: int) -> Timetable:
        """The timetable transit uses on service ``day``: the overlay's on its day."""
        if self.overlay is not None and self.overlay.day == int(day):
            return self.overlay.timetable
        return static

    def arrival_uncertainty_s(self, trip_idx: int, day: int, position: int) -> int | None:
        """The uncertainty of the last update at or before ``position`` that gave one (it holds
        downstream, like the delay), or None."""
        found = None
        for pos, u in self.uncertainty.get((int(trip_idx), int(day)), ()):
            if pos > position:
                break
            found = u
        return found


def uncertainty_index(updates: RealtimeUpdates) -> dict[tuple[int, int], tuple[tuple[int, int], ...]]:
    """(trip, day) -> ((position, arrival uncertainty s), ...) of the updates that give one."""
    out: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}
    for u in updates.trips:
        pairs = sorted((c.position, int(c.arrival_uncertainty_s)) for c in u.stops
                       if c.arrival_uncertainty_s is not None)
        if pairs:
            out[(int(u.trip_idx), int(u.service_day))] = tuple(pairs)
    return out


def observed_delays(overlay: RealtimeOverlay, static: Timetable) -> dict[int, np.ndarray]:
    """GTFS route_type -> the arrival delays (s) of the overlay's real-time trips at every stop
    after their first (what :class:`DelayModel` learns from)."""
    tt = overlay.timetable
    out: dict[int, list[np.ndarray]] = {}
    for trip in range(overlay.n_static_trips, tt.n_trips):
        orig = int(overlay.original_trip_idx[trip])
        _, rt_arr, _, _, _ = trip_stop_times(tt, trip)
        _, s_arr, _, _, _ = trip_stop_times(static, orig)
        route_type = int(static.line_type[static.route_line_idx[static.trip_route_idx[orig]]])
        out.setdefault(route_type, []).append((rt_arr - s_arr)[1:].astype(np.int64))
    return {k: np.concatenate(v) for k, v in out.items()}


__all__ = ["AlertScope", "CancelledTrip", "LegRealtime", "RealtimeState", "ServiceAlert",
           "VehicleInfo", "observed_delays", "pick_language", "uncertainty_index"]
