"""GTFS-Realtime records (``loaders.gtfs_rt``) resolved against a loaded Timetable into the
engine's real-time inputs (``engine.transit.realtime``), and the overlay built from them.

What resolving means:

* **Trips**: by ``trip_id``; a frequency-based trip (``"id@HH:MM:SS"`` in the timetable) by
  ``trip_id`` plus ``start_time``. CANCELED and DELETED trips are cancelled; ADDED, NEW,
  DUPLICATED and REPLACEMENT trips are counted under ``ignored`` (not supported: they need trips
  the static feed does not have); UNSCHEDULED is treated as SCHEDULED.
* **Service day**: the update's ``start_date`` when given; otherwise the day, among the feed
  time's local date and the day before, on which the trip's scheduled run is nearest to (at best
  around) the feed time, among the days its service runs.
* **Stops**: the timetable knows positions along a trip, not GTFS ``stop_sequence`` values (they
  are not kept in the bundle). An update is matched by ``stop_id`` (the stop itself or its parent
  station) at the first position at or after the previous update's, so loops resolve in order; an
  update with a stop_sequence but no stop_id cannot be placed and is counted
  (``stop_sequence_without_stop_id``).
* **Times**: POSIX seconds become seconds after the service day's reference (local noon minus
  12 h) in the timetable's timezone.
* **Alerts** with effect NO_SERVICE, active at the feed time: informed stops are closed, routes
  (alone) and trips switched off for the day; other informed entities are counted as ignored.
* **Staleness**: a feed older than ``max_age_s`` (None: never, the default for a file given
  explicitly; servers pass :data:`DEFAULT_SERVER_MAX_AGE_S`) is ignored and reported stale.

Everything unresolved is counted under a reason in :class:`ResolveReport`; nothing raises.
"""
from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.cache import PerObject
from engine.model import Timetable
from engine.transit.realtime import (
    RealtimeOverlay,
    RealtimeUpdates,
    StopTimeChange,
    TripCancellation,
    TripDelayUpdate,
    apply_realtime,
)
from engine.transit.service_days import day_of, service_day_reference, to_service_time
from loaders.gtfs_rt import Alert, KnownIds, RealtimeFeed, StopTimeEvent, TripUpdate

DEFAULT_SERVER_MAX_AGE_S = 300.0
IGNORED_TRIP_RELATIONSHIPS = ("ADDED", "NEW", "DUPLICATED", "REPLACEMENT")


@dataclass
class ResolveReport:
    """What resolving feeds against a timetable did: the day, the stale feeds, the counts."""

    day: int | None = None
    reference_utc_s: float | None = None
    stale_feeds: list[str] = field(default_factory=list)
    feed_ages_s: dict[str, float | None] = field(default_factory=dict)
    unmatched: Counter = field(default_factory=Counter)
    ignored: Counter = field(default_factory=Counter)

    @property
    def stale(self) -> bool:
        return bool(self.stale_feeds)

    def as_dict(self) -> dict:
        return {"day": self.day, "reference_utc_s": self.reference_utc_s,
                "stale_feeds": list(self.stale_feeds), "feed_ages_s": dict(self.feed_ages_s),
                "unmatched": dict(sorted(self.unmatched.items())),
                "ignored": dict(sorted(self.ignored.items()))}


class _Ids:
    """The timetable's id maps, built once per timetable."""

    def __init__(self, tt: Timetable):
        self.trip = {str(t): i for i, t in enumerate(np.asarray(tt.trip_ids))}
        self.frequency_templates = {t.split("@", 1)[0] for t in self.trip if "@" in t}
        self.stop = {str(s): i for i, s in enumerate(np.asarray(tt.stop_ids))}
        self.line = {str(s): i for i, s in enumerate(np.asarray(tt.line_ids))}
        self._tt = tt
        self._route_stops: dict[int, tuple[list[str], list[str | None]]] = {}

    def route_stop_ids(self, route_idx: int) -> tuple[list[str], list[str | None]]:
        """(stop id, parent station id or None) of each position of a route (cached)."""
        if route_idx not in self._route_stops:
            tt = self._tt
            s0, s1 = int(tt.route_stop_offsets[route_idx]), int(tt.route_stop_offsets[route_idx + 1])
            stops = np.asarray(tt.route_stops[s0:s1])
            parents = np.asarray(tt.stop_parent_idx)[stops]
            self._route_stops[route_idx] = (
                [str(s) for s in np.asarray(tt.stop_ids)[stops]],
                [str(tt.stop_ids[p]) if p >= 0 else None for p in parents])
        return self._route_stops[route_idx]


_IDS = PerObject(_Ids, size=4)


def known_ids(timetable: Timetable) -> KnownIds:
    """The ids a feed may name (for ``read_feed(..., known=...)``): trip ids (frequency-based
    trips by their GTFS trip_id), stop ids and route ids."""
    ids = _IDS(timetable)
    trips = {t.split("@", 1)[0] for t in ids.trip}
    return KnownIds(trip_ids=frozenset(trips), stop_ids=frozenset(ids.stop),
                    route_ids=frozenset(ids.line))


def _hhmmss(text: str) -> str:
    h, m, s = text.split(":")
    return f"{int(h):02d}:{m}:{s}"


def _trip_idx(ids: _Ids, update: TripUpdate, report: ResolveReport) -> int | None:
    if update.trip_id is None:
        report.unmatched["no_trip_id"] += 1
        return None
    if update.trip_id in ids.trip:
        return ids.trip[update.trip_id]
    if update.trip_id in ids.frequency_templates:
        if update.start_time is None:
            report.unmatched["frequency_trip_without_start_time"] += 1
            return None
        key = f"{update.trip_id}@{_hhmmss(update.start_time)}"
        if key in ids.trip:
            return ids.trip[key]
        report.unmatched["frequency_trip_start_time_unknown"] += 1
        return None
    report.unmatched["unknown_trip"] += 1
    return None


def _service_day(tt: Timetable, trip: int, update: TripUpdate, reference_utc_s: float,
                 report: ResolveReport) -> int | None:
    """The update's service day (see the module docstring), or None (counted)."""
    if update.start_date is not None:
        try:
            return day_of(dt.datetime.strptime(update.start_date, "%Y%m%d").date())
        except ValueError:
            report.unmatched["bad_start_date"] += 1
            return None
    when = dt.datetime.fromtimestamp(reference_utc_s, dt.UTC)
    today, _ = to_service_time(tt.timezone, when)
    r = int(tt.trip_route_idx[trip])
    b0, k, n = tt.route_block(r)
    j = trip - int(tt.route_trip_offsets[r])
    first_s, last_s = int(tt.departure_s[b0 + j]), int(tt.arrival_s[b0 + (k - 1) * n + j])
    best, best_gap = None, None
    for d in (today, today - 1):
        col = d - tt.service_first_day
        if not (0 <= col < tt.n_days and tt.service_active[tt.trip_service_idx[trip], col]):
            continue
        t = reference_utc_s - service_day_reference(tt.timezone, d).timestamp()
        gap = max(first_s - t, t - last_s, 0.0)
        if best_gap is None or gap < best_gap:
            best, best_gap = d, gap
    if best is None:
        report.unmatched["trip_not_running_near_feed_time"] += 1
    return best


def _event(event: StopTimeEvent | None, ref_utc_s: float) -> tuple[int | None, int | None]:
    """(delay_s, absolute service-day seconds) of an event."""
    if event is None:
        return None, None
    absolute = None if event.time_utc_s is None else int(round(event.time_utc_s - ref_utc_s))
    return event.delay_s, absolute


def _stop_changes(tt: Timetable, ids: _Ids, trip: int, day: int, update: TripUpdate,
                  report: ResolveReport) -> tuple[StopTimeChange, ...]:
    """The update's stop time updates placed at positions along the trip (by stop_id, in order)."""
    own, parent = ids.route_stop_ids(int(tt.trip_route_idx[trip]))
    ref_utc_s = service_day_reference(tt.timezone, day).timestamp()
    changes, cursor = [], 0
    for stu in update.stop_time_updates:
        if stu.stop_id is None:
            report.unmatched["stop_sequence_without_stop_id"] += 1
            continue
        pos = next((i for i in range(cursor, len(own)) if stu.stop_id in (own[i], parent[i])), None)
        if pos is None:
            report.unmatched["stop_not_on_trip"] += 1
            continue
        cursor = pos + 1
        arr_delay, arr_s = _event(stu.arrival, ref_utc_s)
        dep_delay, dep_s = _event(stu.departure, ref_utc_s)
        uncertainty = next((e.uncertainty_s for e in (stu.arrival, stu.departure)
                            if e is not None and e.uncertainty_s is not None), None)
        changes.append(StopTimeChange(position=pos, arrival_delay_s=arr_delay, arrival_s=arr_s,
                                      departure_delay_s=dep_delay, departure_s=dep_s,
                                      skipped=stu.relationship == "SKIPPED",
                                      no_data=stu.relationship == "NO_DATA",
                                      arrival_uncertainty_s=uncertainty))
    return tuple(changes)


def _resolve_trip_update(tt: Timetable, ids: _Ids, update: TripUpdate, reference_utc_s: float,
                         report: ResolveReport, trips: list, cancelled: list) -> None:
    if update.relationship in IGNORED_TRIP_RELATIONSHIPS:
        report.ignored[f"{update.relationship}_trip"] += 1
        return
    trip = _trip_idx(ids, update, report)
    if trip is None:
        return
    day = _service_day(tt, trip, update, reference_utc_s, report)
    if day is None:
        return
    if update.relationship in ("CANCELED", "DELETED"):
        cancelled.append(TripCancellation(trip_idx=trip, service_day=day))
        return
    changes = _stop_changes(tt, ids, trip, day, update, report)
    if not changes and update.delay_s is None:
        report.unmatched["trip_update_without_usable_stop"] += 1
        return
    trips.append(TripDelayUpdate(trip_idx=trip, service_day=day, stops=changes,
                                 trip_delay_s=update.delay_s))


def _active(alert: Alert, at_utc_s: float) -> bool:
    return not alert.active_periods or any(
        (start is None or start <= at_utc_s) and (end is None or at_utc_s < end)
        for start, end in alert.active_periods)


def _resolve_alert(ids: _Ids, alert: Alert, reference_utc_s: float, report: ResolveReport,
                   closures: dict[str, list[int]]) -> None:
    if alert.effect != "NO_SERVICE" or not _active(alert, reference_utc_s):
        return
    for e in alert.informed:
        if e.trip_id is not None:
            kind, table, key = "trips", ids.trip, e.trip_id
        elif e.stop_id is not None and e.route_id is None:
            kind, table, key = "stops", ids.stop, e.stop_id
        elif e.route_id is not None and e.stop_id is None:
            kind, table, key = "lines", ids.line, e.route_id
        else:
            report.ignored["no_service_entity_not_supported"] += 1
            continue
        if key in table:
            closures[kind].append(table[key])
        else:
            report.unmatched[f"no_service_unknown_{kind[:-1]}"] += 1


def _reference_time(feeds: Sequence[RealtimeFeed], now_utc_s: float | None) -> float:
    if now_utc_s is not None:
        return float(now_utc_s)
    stamps = [f.timestamp_utc_s for f in feeds if f.timestamp_utc_s is not None]
    return float(max(stamps)) if stamps else time.time()


def updates_from_feeds(timetable: Timetable, feeds: RealtimeFeed | Sequence[RealtimeFeed], *,
                       now_utc_s: float | None = None, max_age_s: float | None = None
                       ) -> tuple[RealtimeUpdates, int, ResolveReport]:
    """The engine inputs of ``feeds`` on ``timetable``, the overlay's day, and the report.

    ``now_utc_s`` (POSIX s) is the time the overlay is for; by default the newest feed header's
    time (the clock when a feed has none). ``max_age_s``: a feed whose header is older than this
    at ``now_utc_s`` (or, without it, the wall clock) is ignored and reported stale.
    """
    feeds = [feeds] if isinstance(feeds, RealtimeFeed) else list(feeds)
    report = ResolveReport()
    wall = time.time() if now_utc_s is None else float(now_utc_s)
    fresh = []
    for feed in feeds:
        age = feed.age_s(wall)
        report.feed_ages_s[feed.source] = age
        if max_age_s is not None and (age is None or age > max_age_s):
            report.stale_feeds.append(feed.source)
        else:
            fresh.append(feed)
    reference = _reference_time(fresh or feeds, now_utc_s)
    day, _ = to_service_time(timetable.timezone, dt.datetime.fromtimestamp(reference, dt.UTC))
    report.day, report.reference_utc_s = day, reference
    ids = _IDS(timetable)
    trips: list[TripDelayUpdate] = []
    cancelled: list[TripCancellation] = []
    closures: dict[str, list[int]] = {"stops": [], "lines": [], "trips": []}
    for feed in fresh:
        for update in feed.trip_updates:
            _resolve_trip_update(timetable, ids, update, reference, report, trips, cancelled)
        for alert in feed.alerts:
            _resolve_alert(ids, alert, reference, report, closures)
    updates = RealtimeUpdates(trips=tuple(trips), cancelled=tuple(cancelled),
                              closed_stops=tuple(closures["stops"]), closed_lines=tuple(closures["lines"]),
                              closed_trips=tuple(closures["trips"]), unmatched=dict(report.unmatched),
                              ignored=dict(report.ignored))
    return updates, day, report


def overlay_from_feeds(timetable: Timetable, feeds: RealtimeFeed | Sequence[RealtimeFeed], *,
                       now_utc_s: float | None = None, max_age_s: float | None = None
                       ) -> tuple[RealtimeOverlay, ResolveReport]:
    """:func:`updates_from_feeds` then ``apply_realtime``: the overlay and the resolve report
    (the overlay's own report carries the resolve counts too)."""
    updates, day, report = updates_from_feeds(timetable, feeds, now_utc_s=now_utc_s,
                                              max_age_s=max_age_s)
    return apply_realtime(timetable, day, updates), report
