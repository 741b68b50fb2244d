"""Real-time overlays: a timetable copy for one service day with trip updates, cancellations and
closures applied, which RAPTOR reads unchanged (``router_for(overlay.timetable)``).

The engine takes plain inputs (:class:`RealtimeUpdates`: trips, stops and lines by index, times
in service-day seconds); ``loaders.realtime_adapter`` resolves a GTFS-Realtime feed into them.
:func:`apply_realtime` builds the overlay off to the side (the static timetable is not touched),
so a caller swaps it in atomically:

* **Switched off, day by day.** An updated, cancelled or NO_SERVICE trip keeps its place in its
  static route but gets a service whose row is its own service's row with the update's day
  cleared (rows appended to ``service_active``): it still runs on every other day.
* **Re-added.** Each updated trip is appended as a new trip active on its service day only (one
  appended service row per day), with its real-time times (:mod:`engine.transit.realtime_times`
  states the GTFS-Realtime rules) and no boarding or alighting at SKIPPED stops.
* **Overtaking.** The re-added trips are grouped into new routes appended after the static
  ones, by the same steps as a build (same line, stops and permissions; sorted by departure;
  first-fit FIFO split), so RAPTOR's no-overtaking invariant holds: a trip whose real-time times
  overtake another re-added trip lands in a route of its own, and none can overtake a static
  trip because none shares a route with one. The report counts the trips that overtake a trip of
  their scheduled pattern on their day (``overtaking_trips``: they would have broken the
  invariant had they been updated in place) and the routes the FIFO split added.
* **Closures.** A NO_SERVICE stop loses boarding and alighting at every route position (its
  child stops too); a NO_SERVICE line or trip is switched off on the overlay's day.
* The stop -> routes index is rebuilt; ``original_trip_idx`` maps every trip of the overlay to
  its scheduled trip (identity for static trips).

The overlay is meant for queries on its day (and the next day's early hours, through the
previous-day layer): closed stops are closed on every day of the copy.
"""
from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from engine.model import Timetable
from engine.transit.build import TripStopTimes, routes_from_trips, stop_route_index
from engine.transit.realtime_times import StopTimeChange, realtime_times

__all__ = ["StopTimeChange", "TripDelayUpdate", "TripCancellation", "RealtimeUpdates",
           "RealtimeReport", "RealtimeOverlay", "apply_realtime", "trip_stop_times"]


@dataclass(frozen=True)
class TripDelayUpdate:
    """Real-time times of one scheduled trip on one service day (days since 1970-01-01)."""

    trip_idx: int
    service_day: int
    stops: tuple[StopTimeChange, ...] = ()
    trip_delay_s: int | None = None     # TripUpdate.delay: holds until the first stop update


@dataclass(frozen=True)
class TripCancellation:
    """A scheduled trip that does not run on one service day (CANCELED, DELETED)."""

    trip_idx: int
    service_day: int


@dataclass(frozen=True)
class RealtimeUpdates:
    """Everything an overlay applies, as engine indices. ``unmatched`` and ``ignored`` are the
    counts of what the adapter could not resolve or leaves out on purpose (ADDED trips...),
    carried into the overlay's report."""

    trips: tuple[TripDelayUpdate, ...] = ()
    cancelled: tuple[TripCancellation, ...] = ()
    closed_stops: tuple[int, ...] = ()   # NO_SERVICE stops (stop_idx)
    closed_lines: tuple[int, ...] = ()   # NO_SERVICE GTFS routes (line_idx), on the overlay's day
    closed_trips: tuple[int, ...] = ()   # NO_SERVICE trips (trip_idx), on the overlay's day
    unmatched: Mapping[str, int] = field(default_factory=dict)
    ignored: Mapping[str, int] = field(default_factory=dict)


@dataclass
class RealtimeReport:
    """What an overlay applied, and what it could not (counts by reason)."""

    applied: int = 0              # trips re-added with real-time times
    cancelled: int = 0            # trips switched off (CANCELED, NO_SERVICE trip or line)
    skipped_stops: int = 0        # SKIPPED stop times
    overtaking_trips: int = 0     # re-added trips overtaking a trip of their scheduled pattern
    extra_patterns: int = 0       # routes added by the FIFO split beyond one per stop pattern
    clamped_times: int = 0        # times raised so that a trip never goes back in time
    closed_stops: int = 0         # stops closed (children of closed stations included)
    closed_lines: int = 0
    apply_ms: float = 0.0
    unmatched: Counter = field(default_factory=Counter)
    ignored: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["unmatched"] = dict(sorted(self.unmatched.items()))
        out["ignored"] = dict(sorted(self.ignored.items()))
        out["apply_ms"] = round(self.apply_ms, 2)
        return out


@dataclass(frozen=True)
class RealtimeOverlay:
    """A timetable with real-time updates applied for ``day`` (see the module docstring)."""

    timetable: Timetable
    day: int
    original_trip_idx: np.ndarray   # overlay trip_idx -> static trip_idx (identity for static trips)
    trip_realtime_day: np.ndarray   # overlay trip_idx -> service day of a re-added trip, -1 if static
    cancelled_trip_idx: np.ndarray  # static trip_idx switched off without a replacement (int32)
    cancelled_day: np.ndarray       # ... and the service day it does not run on (int32)
    n_static_trips: int
    n_static_routes: int
    report: RealtimeReport

    def is_realtime(self, trip_idx: int) -> bool:
        """True for a re-added trip (its times are real-time ones)."""
        return int(trip_idx) >= self.n_static_trips


def trip_stop_times(tt: Timetable, trip_idx: int) -> tuple[np.ndarray, ...]:
    """(stop_idx, arrival_s, departure_s, can_board, can_alight) of one trip, in travel order."""
    r = int(tt.trip_route_idx[trip_idx])
    b0, k, n = tt.route_block(r)
    j = int(trip_idx) - int(tt.route_trip_offsets[r])
    s0 = int(tt.route_stop_offsets[r])
    idx = b0 + np.arange(k) * n + j
    return (np.asarray(tt.route_stops[s0:s0 + k]), np.asarray(tt.arrival_s)[idx],
            np.asarray(tt.departure_s)[idx], np.asarray(tt.route_stop_can_board[s0:s0 + k]),
            np.asarray(tt.route_stop_can_alight[s0:s0 + k]))


def _runs_on(tt: Timetable, trip_idx: int, day: int) -> bool:
    col = int(day) - int(tt.service_first_day)
    return 0 <= col < tt.n_days and bool(tt.service_active[tt.trip_service_idx[trip_idx], col])


# ---------------------------------------------------------------------------------------------
# apply_realtime and its steps
# ---------------------------------------------------------------------------------------------
def apply_realtime(timetable: Timetable, day: int, updates: RealtimeUpdates) -> RealtimeOverlay:
    """The overlay of ``updates`` on ``timetable`` for service ``day`` (days since 1970-01-01).

    Updates that cannot apply (trip or stop index out of range, a trip not running on the
    update's day, positions out of range) are counted in ``report.unmatched`` and left out;
    nothing in ``updates`` raises. A cancellation wins over an update of the same trip and day;
    of two updates of one trip and day the last wins. Costs one pass over the updated trips plus
    copies of the route arrays (milliseconds on a city's timetable).
    """
    t0 = time.perf_counter()
    tt = timetable
    report = RealtimeReport(unmatched=Counter(updates.unmatched), ignored=Counter(updates.ignored))
    off = _switched_off(tt, day, updates, report)
    kept = _kept_updates(tt, updates, off, report)
    cancelled = sorted((t, d) for t, days in off.items() for d in days)
    new_trips, new_days, skipped_total, clamped = _realtime_trip_stop_times(tt, kept)
    for update in kept:
        off.setdefault(update.trip_idx, set()).add(update.service_day)
    services = _services(tt, off, new_days)
    fields, route_trips = _appended_routes(tt, new_trips, services.pop("new_trip_service_idx"))
    services["trip_service_idx"] = np.concatenate([services["trip_service_idx"],
                                                   fields.pop("new_trip_service_idx")])
    fields.update(services)
    closed = _closed_stops(tt, updates.closed_stops, report)
    if closed.size:
        closed_pos = np.isin(fields["route_stops"], closed)
        fields["route_stop_can_board"] = fields["route_stop_can_board"] & ~closed_pos
        fields["route_stop_can_alight"] = fields["route_stop_can_alight"] & ~closed_pos
    overlay_tt = dataclasses.replace(tt, **fields)
    order = np.concatenate(route_trips) if route_trips else np.zeros(0, dtype=np.int64)
    kept_in_order = [kept[i] for i in order.tolist()]
    report.applied, report.cancelled = len(kept), len(cancelled)
    report.skipped_stops, report.clamped_times = skipped_total, clamped
    report.overtaking_trips = _count_overtaking(tt, kept, new_trips, set(cancelled))
    report.extra_patterns = _extra_patterns(overlay_tt, tt.n_routes)
    overlay = RealtimeOverlay(
        timetable=overlay_tt, day=int(day),
        original_trip_idx=np.concatenate([np.arange(tt.n_trips, dtype=np.int32),
                                          np.array([u.trip_idx for u in kept_in_order], dtype=np.int32)]),
        trip_realtime_day=np.concatenate([np.full(tt.n_trips, -1, dtype=np.int32),
                                          np.array([u.service_day for u in kept_in_order], dtype=np.int32)]),
        cancelled_trip_idx=np.array([t for t, _ in cancelled], dtype=np.int32),
        cancelled_day=np.array([d for _, d in cancelled], dtype=np.int32),
        n_static_trips=tt.n_trips, n_static_routes=tt.n_routes, report=report)
    report.apply_ms = (time.perf_counter() - t0) * 1000.0
    return overlay


def _switched_off(tt: Timetable, day: int, updates: RealtimeUpdates,
                  report: RealtimeReport) -> dict[int, set[int]]:
    """trip_idx -> service days it no longer runs on: cancellations, NO_SERVICE trips and lines."""
    off: dict[int, set[int]] = {}

    def switch_off(trip: int, d: int) -> None:
        if not 0 <= trip < tt.n_trips:
            report.unmatched["trip_out_of_range"] += 1
        elif not _runs_on(tt, trip, d):
            report.unmatched["trip_not_running_that_day"] += 1
        else:
            off.setdefault(trip, set()).add(int(d))

    for c in updates.cancelled:
        switch_off(int(c.trip_idx), int(c.service_day))
    for trip in updates.closed_trips:
        switch_off(int(trip), int(day))
    lines = np.asarray(updates.closed_lines, dtype=np.int64)
    lines = lines[(lines >= 0) & (lines < tt.line_ids.shape[0])]
    report.closed_lines = int(np.unique(lines).size)
    if lines.size:
        on_line = np.isin(np.asarray(tt.route_line_idx)[tt.trip_route_idx], lines)
        col = int(day) - int(tt.service_first_day)
        if 0 <= col < tt.n_days:
            on_line &= np.asarray(tt.service_active)[tt.trip_service_idx, col]
            for trip in np.flatnonzero(on_line).tolist():
                off.setdefault(trip, set()).add(int(day))
    return off


def _kept_updates(tt: Timetable, updates: RealtimeUpdates, off: dict[int, set[int]],
                  report: RealtimeReport) -> list[TripDelayUpdate]:
    """The trip updates that apply: the trip runs that day, positions in range, not cancelled;
    the last of several for one trip and day."""
    by_key: dict[tuple[int, int], TripDelayUpdate] = {}
    for u in updates.trips:
        trip, d = int(u.trip_idx), int(u.service_day)
        if not 0 <= trip < tt.n_trips:
            report.unmatched["trip_out_of_range"] += 1
            continue
        if not _runs_on(tt, trip, d):
            report.unmatched["trip_not_running_that_day"] += 1
            continue
        if d in off.get(trip, ()):
            report.ignored["update_of_cancelled_trip"] += 1
            continue
        r = int(tt.trip_route_idx[trip])
        k = int(tt.route_stop_offsets[r + 1] - tt.route_stop_offsets[r])
        positions = [s.position for s in u.stops]
        if any(not 0 <= p < k for p in positions) or len(set(positions)) != len(positions):
            report.unmatched["stop_position_out_of_range"] += 1
            continue
        if (trip, d) in by_key:
            report.ignored["duplicate_trip_update"] += 1
        by_key[(trip, d)] = u
    return list(by_key.values())


def _realtime_trip_stop_times(tt: Timetable, kept: list[TripDelayUpdate]
                              ) -> tuple[TripStopTimes, list[int], int, int]:
    """The re-added trips as TripStopTimes (one per kept update, in order), the service day of
    each, the number of SKIPPED stop times and of clamped times."""
    offsets = [0]
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("stop", "arr", "dep", "board", "alight")}
    n_skipped = n_clamped = 0
    for u in kept:
        stops, arr, dep, board, alight = trip_stop_times(tt, u.trip_idx)
        rt_arr, rt_dep, skipped, clamped = realtime_times(arr, dep, u.stops, u.trip_delay_s)
        n_skipped += int(skipped.sum())
        n_clamped += clamped
        cols["stop"].append(stops)
        cols["arr"].append(rt_arr)
        cols["dep"].append(rt_dep)
        cols["board"].append(board & ~skipped)
        cols["alight"].append(alight & ~skipped)
        offsets.append(offsets[-1] + stops.shape[0])
    trips = np.array([u.trip_idx for u in kept], dtype=np.int64)

    def cat(name: str, dtype) -> np.ndarray:
        return np.concatenate(cols[name]).astype(dtype) if kept else np.zeros(0, dtype=dtype)

    new = TripStopTimes(
        trip_ids=np.asarray(tt.trip_ids)[trips],
        trip_line_idx=np.asarray(tt.route_line_idx)[np.asarray(tt.trip_route_idx)[trips]],
        trip_service_idx=np.zeros(len(kept), dtype=np.int32),  # set by _services
        trip_wheelchair=np.asarray(tt.trip_wheelchair)[trips],
        trip_bikes_allowed=np.asarray(tt.trip_bikes_allowed)[trips],
        trip_headsign=np.asarray(tt.trip_headsign)[trips],
        st_offsets=np.asarray(offsets, dtype=np.int64), st_stop_idx=cat("stop", np.int32),
        st_arrival_s=cat("arr", np.int32), st_departure_s=cat("dep", np.int32),
        st_can_board=cat("board", bool), st_can_alight=cat("alight", bool))
    return new, [int(u.service_day) for u in kept], n_skipped, n_clamped


def _services(tt: Timetable, off: dict[int, set[int]], new_days: list[int]) -> dict:
    """Timetable fields ``service_ids``, ``service_active``, ``trip_service_idx`` with rows
    appended: one per (static service, days cleared) of the switched-off trips, one per day of
    the re-added trips; and ``new_trip_service_idx`` (re-added trip -> service_idx)."""
    active = np.asarray(tt.service_active)
    ids = [str(s) for s in np.asarray(tt.service_ids)]
    rows: list[np.ndarray] = []
    trip_service = np.asarray(tt.trip_service_idx, dtype=np.int32).copy()
    row_of: dict = {}
    for trip, days in sorted(off.items()):
        svc = int(trip_service[trip])
        key = (svc, tuple(sorted(days)))
        if key not in row_of:
            row = active[svc].copy()
            row[[d - tt.service_first_day for d in key[1]]] = False
            row_of[key] = len(ids)
            rows.append(row)
            ids.append(f"{ids[svc]}~realtime-off-" + "-".join(str(d) for d in key[1]))
        trip_service[trip] = row_of[key]
    new_service = np.zeros(len(new_days), dtype=np.int32)
    for i, d in enumerate(new_days):
        if ("day", d) not in row_of:
            row = np.zeros(tt.n_days, dtype=bool)
            row[d - tt.service_first_day] = True
            row_of[("day", d)] = len(ids)
            rows.append(row)
            ids.append(f"realtime-{d}")
        new_service[i] = row_of[("day", d)]
    service_active = np.vstack([active, *rows]) if rows else active
    return dict(service_ids=np.asarray(ids, dtype=str), service_active=service_active,
                trip_service_idx=trip_service, new_trip_service_idx=new_service)


def _appended_routes(tt: Timetable, new: TripStopTimes, new_service: np.ndarray
                     ) -> tuple[dict, list[np.ndarray]]:
    """Timetable fields with the re-added trips' routes appended after the static ones (trip,
    route and stop-time indices shifted), the stop -> routes index rebuilt; and the re-added
    trips of each new route (indices into ``new``)."""
    new = dataclasses.replace(new, trip_service_idx=new_service)
    routes, trips, route_trips = routes_from_trips(new, tt.n_stops)
    n_st = np.int64(tt.n_stop_times)

    def shifted(name: str, by) -> np.ndarray:
        old = np.asarray(getattr(tt, name))
        return np.concatenate([old, np.asarray(routes[name][1:]).astype(old.dtype) + by])

    fields = dict(
        route_line_idx=np.concatenate([tt.route_line_idx, routes["route_line_idx"]]).astype(np.int32),
        route_stop_offsets=shifted("route_stop_offsets", tt.route_stop_offsets[-1]),
        route_trip_offsets=shifted("route_trip_offsets", tt.route_trip_offsets[-1]),
        stop_time_offsets=shifted("stop_time_offsets", n_st),
        route_stops=np.concatenate([tt.route_stops, routes["route_stops"]]).astype(np.int32),
        route_stop_can_board=np.concatenate([tt.route_stop_can_board, routes["route_stop_can_board"]]),
        route_stop_can_alight=np.concatenate([tt.route_stop_can_alight, routes["route_stop_can_alight"]]),
        arrival_s=np.concatenate([tt.arrival_s, routes["arrival_s"]]).astype(np.int32),
        departure_s=np.concatenate([tt.departure_s, routes["departure_s"]]).astype(np.int32),
        trip_route_idx=np.concatenate([tt.trip_route_idx,
                                       routes["trip_route_idx"] + tt.n_routes]).astype(np.int32),
        trip_ids=np.concatenate([tt.trip_ids, trips["trip_ids"]]).astype(str),
        trip_wheelchair=np.concatenate([tt.trip_wheelchair, trips["trip_wheelchair"]]).astype(np.int8),
        trip_bikes_allowed=np.concatenate([tt.trip_bikes_allowed,
                                           trips["trip_bikes_allowed"]]).astype(np.int8),
        trip_headsign=np.concatenate([tt.trip_headsign, trips["trip_headsign"]]).astype(str),
        new_trip_service_idx=trips["trip_service_idx"])
    fields.update(stop_route_index(fields["route_stops"], fields["route_stop_offsets"], tt.n_stops))
    return fields, route_trips


def _closed_stops(tt: Timetable, stops, report: RealtimeReport) -> np.ndarray:
    """The closed stops with the children of closed stations (stop_idx, int32, sorted)."""
    closed = np.asarray(stops, dtype=np.int64)
    out_of_range = (closed < 0) | (closed >= tt.n_stops)
    if out_of_range.any():
        report.unmatched["stop_out_of_range"] += int(out_of_range.sum())
    closed = np.unique(closed[~out_of_range])
    if closed.size:
        children = np.flatnonzero(np.isin(np.asarray(tt.stop_parent_idx), closed))
        closed = np.union1d(closed, children)
    report.closed_stops = int(closed.size)
    return closed.astype(np.int32)


def _count_overtaking(tt: Timetable, kept: list[TripDelayUpdate], new: TripStopTimes,
                      cancelled: set[tuple[int, int]]) -> int:
    """How many re-added trips overtake (or are overtaken by) a trip of their scheduled pattern
    running on their day, the other trip taken with its real-time times when it has some."""
    row_of = {(u.trip_idx, u.service_day): i for i, u in enumerate(kept)}
    off = np.asarray(new.st_offsets)
    runs_by_day: dict[int, np.ndarray] = {}
    n_overtaking = 0
    for i, u in enumerate(kept):
        day = u.service_day
        if day not in runs_by_day:
            col = day - int(tt.service_first_day)
            runs_by_day[day] = np.asarray(tt.service_active)[np.asarray(tt.trip_service_idx), col]
        r = int(tt.trip_route_idx[u.trip_idx])
        b0, k, n = tt.route_block(r)
        t0 = int(tt.route_trip_offsets[r])
        others = runs_by_day[day][t0:t0 + n].copy()
        others[u.trip_idx - t0] = False
        for t in range(t0, t0 + n):
            if (t, day) in cancelled:
                others[t - t0] = False
        if not others.any():
            continue
        arr = np.asarray(tt.arrival_s[b0:b0 + k * n]).reshape(k, n).T[others]
        dep = np.asarray(tt.departure_s[b0:b0 + k * n]).reshape(k, n).T[others]
        for row, j in enumerate(np.flatnonzero(others).tolist()):
            if (t0 + j, day) in row_of:   # another re-added trip: its real-time times
                a = off[row_of[(t0 + j, day)]]
                arr[row], dep[row] = new.st_arrival_s[a:a + k], new.st_departure_s[a:a + k]
        a = off[i]
        my_arr, my_dep = new.st_arrival_s[a:a + k], new.st_departure_s[a:a + k]
        later = (arr >= my_arr).all(axis=1) & (dep >= my_dep).all(axis=1)
        earlier = (arr <= my_arr).all(axis=1) & (dep <= my_dep).all(axis=1)
        n_overtaking += bool((~(later | earlier)).any())
    return n_overtaking


def _extra_patterns(tt: Timetable, n_static_routes: int) -> int:
    """Appended routes sharing line, stops and permissions with an earlier appended route: the
    routes the FIFO split added for overtaking trips."""
    seen: set[bytes] = set()
    extra = 0
    for r in range(n_static_routes, tt.n_routes):
        a, b = int(tt.route_stop_offsets[r]), int(tt.route_stop_offsets[r + 1])
        key = (np.int32(tt.route_line_idx[r]).tobytes() + np.asarray(tt.route_stops[a:b]).tobytes()
               + np.asarray(tt.route_stop_can_board[a:b]).tobytes()
               + np.asarray(tt.route_stop_can_alight[a:b]).tobytes())
        extra += key in seen
        seen.add(key)
    return extra
