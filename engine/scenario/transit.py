"""Transit modifications: ``adjust-frequency``, ``remove-route``, ``remove-stop``.

* ``adjust-frequency``, ``remove-route`` and ``remove-stop`` edit the trips
  (:func:`engine.transit.build.trips_of`) and rebuild the RAPTOR timetable
  (:func:`engine.transit.build.timetable_from_trips`); footpaths, stops, lines and calendars
  are kept as they are (``adjust-frequency`` adds a calendar per pattern it changes).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from engine.model import Network, Timetable
from engine.scenario.base import Change, Modification, ScenarioError, _plural
from engine.scenario.fields import _hhmm, _ids, _positive, parse_time_s
from engine.scenario.lookups import _close_matches, _line_label, _need_timetable, line_index
from engine.scenario.timetable import _concat_trips, _select_trips, rebuild_timetable
from engine.transit.build import TripStopTimes, trips_of


@dataclass(frozen=True, eq=False)
class AdjustFrequency(Modification):
    """Run a route every ``headway_min`` minutes between ``start`` and ``end`` (``adjust-frequency``).

    ``start``/``end``: "HH:MM" service-day times; trips *leaving their first stop* in
    ``[start, end)`` are replaced. For each pattern of the route (a stop sequence: each
    direction, each variant) with trips leaving in the window, those trips are removed and
    copies of a template trip leave at ``start``, ``start + headway``, ... up to before ``end``,
    with the template's running times. Days that ran different trips get their own template
    (their first trip in the window: a Saturday keeps Saturday running times) and a new calendar
    (feeds often spread one day's trips over several calendars). ``template_trip`` (a trip_id)
    forces the template and restricts the change to its own pattern.
    """

    route: str
    start: object
    end: object
    headway_min: float
    template_trip: str | None = None
    kind: ClassVar[str] = "adjust-frequency"

    def __post_init__(self):
        if not isinstance(self.route, str | int) or not str(self.route).strip():
            raise ScenarioError(self.kind, "route", f"expected a route id, got {self.route!r}")
        object.__setattr__(self, "route", str(self.route).strip())
        object.__setattr__(self, "headway_min",
                           _positive(self.headway_min, kind=self.kind, field_name="headway_min"))
        s = parse_time_s(self.start, kind=self.kind, field_name="start")
        e = parse_time_s(self.end, kind=self.kind, field_name="end")
        if e <= s:
            raise ScenarioError(self.kind, "end", f"must be after start ({_hhmm(s)}), got {_hhmm(e)}")
        object.__setattr__(self, "start", _hhmm(s))
        object.__setattr__(self, "end", _hhmm(e))
        if self.headway_min * 60 < 1:
            raise ScenarioError(self.kind, "headway_min",
                                f"must be at least one second, got {self.headway_min!r}")
        if self.template_trip is not None:
            object.__setattr__(self, "template_trip", str(self.template_trip))

    @property
    def start_s(self) -> int:
        return parse_time_s(self.start, kind=self.kind, field_name="start")

    @property
    def end_s(self) -> int:
        return parse_time_s(self.end, kind=self.kind, field_name="end")

    @property
    def headway_s(self) -> int:
        return max(1, int(round(self.headway_min * 60)))

    def _plan(self, tt: Timetable, trips: TripStopTimes):
        """(line, [(template trip, trips of its pattern in the window, service days)])."""
        line = line_index(tt, self.route, kind=self.kind)
        of_line = np.asarray(trips.trip_line_idx) == line
        if not of_line.any():
            raise ScenarioError(self.kind, "route", f"{_line_label(tt, line)} has no trips left to copy")
        patterns = _patterns_in_window(trips, of_line, self.start_s, self.end_s)
        if self.template_trip is not None:
            return line, [self._forced_template(tt, trips, line, of_line, patterns)]
        if not patterns:
            raise ScenarioError(self.kind, "start",
                                f"{_line_label(tt, line)} has no trip leaving between {self.start} and "
                                f"{self.end} to copy: widen the window or give template_trip")
        return line, [step for members in patterns.values()
                      for step in _daily_templates(tt, trips, members)]

    def _forced_template(self, tt: Timetable, trips: TripStopTimes, line: int, of_line: np.ndarray,
                         patterns: dict[bytes, list[int]]):
        """(``template_trip``, the trips of its pattern in the window, the days they or it run)."""
        hit = np.flatnonzero(np.asarray(trips.trip_ids).astype(str) == self.template_trip)
        if hit.size == 0:
            raise ScenarioError(self.kind, "template_trip", f"unknown trip {self.template_trip!r}")
        t = int(hit[0])
        if not of_line[t]:
            raise ScenarioError(self.kind, "template_trip", f"trip {self.template_trip!r} does not "
                                f"belong to {_line_label(tt, line)}")
        off = np.asarray(trips.st_offsets, dtype=np.int64)
        members = patterns.get(np.asarray(trips.st_stop_idx)[off[t]:off[t + 1]].tobytes(), [])
        active = np.asarray(tt.service_active, dtype=bool)
        svc = np.asarray(trips.trip_service_idx)
        days = active[svc[members]].any(axis=0) if members else active[svc[t]]
        return t, members, days

    def validate(self, network: Network) -> None:
        tt = _need_timetable(network, self.kind, "route")
        self._plan(tt, trips_of(tt))

    def apply(self, network: Network) -> tuple[Network, Change]:
        tt = _need_timetable(network, self.kind, "route")
        trips = trips_of(tt)
        line, plan = self._plan(tt, trips)
        departures = np.arange(self.start_s, self.end_s, self.headway_s, dtype=np.int64)
        remove, added, new_days = _replace_trips(trips, plan, departures, tt.service_ids.shape[0])
        timetable = rebuild_timetable(self._with_calendars(tt, new_days),
                                      _concat_trips(_select_trips(trips, ~remove), added))
        change = self._change(tt, trips, line, plan, remove, added, new_days, departures)
        return dataclasses.replace(network, timetable=timetable), change

    def _with_calendars(self, tt: Timetable, new_days: list[np.ndarray]) -> Timetable:
        """``tt`` with one new calendar per daily timetable of the plan (service days given)."""
        tag = re.sub(r"[^A-Za-z0-9_.-]", "_", self.route)
        service_ids = np.concatenate([np.asarray(tt.service_ids).astype(str),
                                      [f"scenario:{tag}:{self.start}-{self.end}:{i}"
                                       for i in range(len(new_days))]])
        service_active = np.vstack([np.asarray(tt.service_active, dtype=bool),
                                    np.asarray(new_days, dtype=bool)])
        return dataclasses.replace(tt, service_ids=service_ids, service_active=service_active)

    def _change(self, tt: Timetable, trips: TripStopTimes, line: int, plan: list, remove: np.ndarray,
                added: TripStopTimes, new_days: list[np.ndarray], departures: np.ndarray) -> Change:
        """What the change did, counted per service day and in the feed's trip records."""
        svc = np.asarray(trips.trip_service_idx)
        active = np.asarray(tt.service_active, dtype=bool)
        n_added, n_removed = added.n_trips, int(remove.sum())
        # per service day (calendars are often one per date: totals over the feed mislead)
        added_day = int((np.asarray(new_days, dtype=np.int64).sum(axis=0) * departures.size).max())
        removed_by_service = np.bincount(svc[remove], minlength=active.shape[0])
        removed_day = int((removed_by_service @ active.astype(np.int64)).max())
        n_patterns = len({trips_key for trips_key in (tuple(m) for _, m, _ in plan)})
        msg = (f"adds {_plural(added_day, 'trip')} a day to {_line_label(tt, line)}, every "
               f"{self.headway_min:g} min between {self.start} and {self.end}, replacing "
               f"{removed_day:,} ({_plural(n_patterns, 'pattern')}, {_plural(len(plan), 'daily timetable')}; "
               f"{n_added:,} trip records added and {n_removed:,} removed from the feed's calendar)")
        return Change(self.kind, msg, {"trips_added": n_added, "trips_removed": n_removed,
                                       "patterns": n_patterns, "daily_timetables": len(plan),
                                       "trips_added_per_day": added_day,
                                       "trips_removed_per_day": removed_day})


def _patterns_in_window(trips: TripStopTimes, of_line: np.ndarray, start_s: int, end_s: int
                        ) -> dict[bytes, list[int]]:
    """Stop sequence -> trips of the line leaving their first stop in [start_s, end_s), by
    departure."""
    off = np.asarray(trips.st_offsets, dtype=np.int64)
    first_dep = np.asarray(trips.st_departure_s)[off[:-1]]
    in_window = of_line & (first_dep >= start_s) & (first_dep < end_s)
    stops = np.asarray(trips.st_stop_idx)
    patterns: dict[bytes, list[int]] = {}
    for t in np.flatnonzero(in_window)[np.argsort(first_dep[in_window], kind="stable")]:
        patterns.setdefault(stops[off[t]:off[t + 1]].tobytes(), []).append(int(t))
    return patterns


def _daily_templates(tt: Timetable, trips: TripStopTimes, members: list[int]):
    """(template, members, days) per group of service days that run the same trips of one
    pattern in the window: each day keeps the running times of its own first trip (a
    Saturday's, not a weekday's)."""
    active = np.asarray(tt.service_active, dtype=bool)[np.asarray(trips.trip_service_idx)[members]]
    groups: dict[bytes, list[int]] = {}
    for day in np.flatnonzero(active.any(axis=0)):
        groups.setdefault(np.packbits(active[:, day]).tobytes(), []).append(int(day))
    out = []
    for days in groups.values():
        running = np.flatnonzero(active[:, days[0]])       # members sorted by departure
        mask = np.zeros(active.shape[1], dtype=bool)
        mask[days] = True
        out.append((members[int(running[0])], members, mask))
    # the same members may be listed by several groups: removing them once is enough
    return out


def _replace_trips(trips: TripStopTimes, plan: list, departures: np.ndarray, first_service_idx: int):
    """(trips to remove, the copies added, their service days): step i of the plan removes its
    members and adds copies of its template leaving at ``departures``, on new calendar
    ``first_service_idx + i``."""
    remove = np.zeros(trips.n_trips, dtype=bool)
    new_days, parts = [], []
    for template, members, days in plan:
        remove[members] = True
        new_days.append(days)
        parts.append(_trip_copies(trips, template, departures, first_service_idx + len(parts)))
    added = parts[0]
    for part in parts[1:]:
        added = _concat_trips(added, part)
    return remove, added, new_days


def _trip_copies(trips: TripStopTimes, t: int, departures: np.ndarray, service_idx: int
                 ) -> TripStopTimes:
    """Copies of trip t leaving its first stop at ``departures``, with its running times."""
    off = np.asarray(trips.st_offsets, dtype=np.int64)
    a, b = off[t], off[t + 1]
    k, n = int(b - a), departures.size
    shift = (departures - int(trips.st_departure_s[a]))[:, None]
    base_id = str(trips.trip_ids[t])

    def times(name):
        block = np.asarray(getattr(trips, name), dtype=np.int64)[a:b][None, :] + shift
        return block.ravel().astype(np.int32)

    return TripStopTimes(
        trip_ids=np.array([f"{base_id}+{_hhmm(d)}" for d in departures], dtype=str),
        trip_line_idx=np.full(n, trips.trip_line_idx[t], dtype=np.int32),
        trip_service_idx=np.full(n, service_idx, dtype=np.int32),
        trip_wheelchair=np.full(n, trips.trip_wheelchair[t], dtype=np.int8),
        trip_bikes_allowed=np.full(n, trips.trip_bikes_allowed[t], dtype=np.int8),
        trip_headsign=np.full(n, trips.trip_headsign[t], dtype=np.asarray(trips.trip_headsign).dtype),
        st_offsets=np.arange(n + 1, dtype=np.int64) * k,
        st_stop_idx=np.tile(np.asarray(trips.st_stop_idx)[a:b], n),
        st_arrival_s=times("st_arrival_s"), st_departure_s=times("st_departure_s"),
        st_can_board=np.tile(np.asarray(trips.st_can_board)[a:b], n),
        st_can_alight=np.tile(np.asarray(trips.st_can_alight)[a:b], n))


@dataclass(frozen=True, eq=False)
class RemoveRoute(Modification):
    """Remove every trip of routes (GTFS route_id, or a unique short name) (``remove-route``)."""

    routes: tuple
    kind: ClassVar[str] = "remove-route"

    def __post_init__(self):
        object.__setattr__(self, "routes", _ids(self.routes, kind=self.kind, field_name="routes"))

    def validate(self, network: Network) -> None:
        tt = _need_timetable(network, self.kind, "routes")
        lines = [line_index(tt, r, kind=self.kind, field_name="routes") for r in self.routes]
        running = np.isin(np.asarray(tt.route_line_idx), lines)
        for r, line in zip(self.routes, lines, strict=True):
            if not (np.asarray(tt.route_line_idx)[running] == line).any():
                raise ScenarioError(self.kind, "routes", f"route {r!r} has no trips (already removed?)")

    def apply(self, network: Network) -> tuple[Network, Change]:
        self.validate(network)
        tt = network.timetable
        lines = np.unique([line_index(tt, r, kind=self.kind, field_name="routes") for r in self.routes])
        trips = trips_of(tt)
        remove = np.isin(np.asarray(trips.trip_line_idx), lines)
        timetable = rebuild_timetable(tt, _select_trips(trips, ~remove))
        labels = ", ".join(_line_label(tt, int(line)) for line in lines)
        msg = f"removes {labels} ({_plural(int(remove.sum()), 'trip')})"
        return dataclasses.replace(network, timetable=timetable), Change(
            self.kind, msg, {"routes_removed": int(lines.size), "trips_removed": int(remove.sum())})


@dataclass(frozen=True, eq=False)
class RemoveStop(Modification):
    """Trips no longer call at these stops (a station: all its stops) (``remove-stop``).

    Times at the other stops are unchanged; a trip left with fewer than two stops is dropped.
    """

    stops: tuple
    kind: ClassVar[str] = "remove-stop"

    def __post_init__(self):
        object.__setattr__(self, "stops", _ids(self.stops, kind=self.kind, field_name="stops"))

    def _stop_idx(self, tt: Timetable) -> np.ndarray:
        ids = np.asarray(tt.stop_ids).astype(str)
        index = {s: i for i, s in enumerate(ids)}
        out = []
        for sid in self.stops:
            if sid not in index:
                raise ScenarioError(self.kind, "stops", f"unknown stop {sid!r}{_close_matches(sid, ids)}")
            out.append(index[sid])
        out = np.asarray(out, dtype=np.int64)
        children = np.flatnonzero(np.isin(np.asarray(tt.stop_parent_idx), out))
        return np.union1d(out, children)

    def validate(self, network: Network) -> None:
        tt = _need_timetable(network, self.kind, "stops")
        idx = self._stop_idx(tt)
        served = np.diff(np.asarray(tt.stop_route_offsets))[idx] > 0
        if not served.any():
            raise ScenarioError(self.kind, "stops", f"no trip calls at {', '.join(self.stops)}")

    def apply(self, network: Network) -> tuple[Network, Change]:
        self.validate(network)
        tt = network.timetable
        idx = self._stop_idx(tt)
        trips = trips_of(tt)
        off = np.asarray(trips.st_offsets, dtype=np.int64)
        hit = np.isin(np.asarray(trips.st_stop_idx), idx)
        trip_of_st = np.repeat(np.arange(trips.n_trips), np.diff(off))
        left = np.bincount(trip_of_st[~hit], minlength=trips.n_trips)
        touched = np.bincount(trip_of_st[hit], minlength=trips.n_trips) > 0
        keep_trip = left >= 2
        timetable = rebuild_timetable(tt, _select_trips(trips, keep_trip, ~hit))
        names = ", ".join(sorted({str(tt.stop_name[i]) or str(tt.stop_ids[i]) for i in idx}))
        dropped = int((~keep_trip).sum())
        msg = f"removes stop {names} from {_plural(int(touched.sum()), 'trip')}"
        if dropped:
            msg += f" ({_plural(dropped, 'trip')} left with fewer than two stops dropped)"
        return dataclasses.replace(network, timetable=timetable), Change(
            self.kind, msg, {"stops_removed": int(idx.size), "trips_touched": int(touched.sum()),
                             "trips_dropped": dropped})
