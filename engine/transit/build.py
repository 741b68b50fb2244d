"""Build a RAPTOR :class:`~engine.model.Timetable` from plain trips and stop times.

Loaders (GTFS), scenarios (a new headway) and synthetic benchmarks all describe service the same
way: stops, lines, trips, and each trip's ordered stop times. This module groups trips into
*routes* (patterns) as RAPTOR needs them:

1. trips of one line with the same stop sequence and the same pick-up/drop-off permissions form a
   candidate pattern;
2. the candidate's trips are sorted by departure and split, first fit, into sub-patterns in which
   no trip overtakes another at any stop (RAPTOR's binary search for the earliest trip relies on
   it);
3. stop times are laid out stop-major inside each route, and stop -> routes and footpaths are
   indexed in CSR form.

Everything is numpy; the only Python loop runs once per trip at build time.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from engine.model import NO_INDEX, Timetable


@dataclass(frozen=True)
class TripStopTimes:
    """Trips and their stop times before grouping into patterns.

    Stop times are sorted by trip, then by stop sequence: trip t's stop times are
    ``st_offsets[t]:st_offsets[t + 1]``.
    """

    trip_ids: np.ndarray            # trip -> id (str)
    trip_line_idx: np.ndarray       # trip -> line_idx (int32)
    trip_service_idx: np.ndarray    # trip -> service_idx (int32)
    trip_wheelchair: np.ndarray     # trip -> 0 unknown, 1 yes, 2 no (int8)
    trip_bikes_allowed: np.ndarray  # trip -> 0 unknown, 1 yes, 2 no (int8)
    trip_headsign: np.ndarray       # trip -> str
    st_offsets: np.ndarray          # trip -> first stop time (len n_trips + 1, int64)
    st_stop_idx: np.ndarray         # stop time -> stop_idx (int32)
    st_arrival_s: np.ndarray        # stop time -> seconds after midnight of the service day (int32)
    st_departure_s: np.ndarray      # stop time -> seconds after midnight of the service day (int32)
    st_can_board: np.ndarray        # stop time -> pick-up allowed (bool)
    st_can_alight: np.ndarray       # stop time -> drop-off allowed (bool)

    @property
    def n_trips(self) -> int:
        return int(self.trip_ids.shape[0])


def _csr(keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, order): stable sort of ``keys`` and the CSR offsets of each key 0..n_keys-1."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n_keys) if keys.size else np.zeros(n_keys, dtype=np.int64)
    offsets = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets, order


def _check_trips(trips: TripStopTimes, n_stops: int) -> None:
    n = trips.n_trips
    off = np.asarray(trips.st_offsets)
    if off.shape != (n + 1,) or off[0] != 0 or (np.diff(off) < 0).any():
        raise ValueError("timetable_from_trips: st_offsets must be non-decreasing, start at 0, "
                         "with one entry per trip plus one")
    m = int(off[-1])
    for name in ("st_stop_idx", "st_arrival_s", "st_departure_s", "st_can_board", "st_can_alight"):
        if np.shape(getattr(trips, name)) != (m,):
            raise ValueError(f"timetable_from_trips: {name} must have {m} entries")
    if (np.diff(off) < 2).any():
        bad = int(np.flatnonzero(np.diff(off) < 2)[0])
        raise ValueError(f"timetable_from_trips: trip {str(trips.trip_ids[bad])!r} has fewer than "
                         "two stop times")
    stops = np.asarray(trips.st_stop_idx)
    if m and (stops.min() < 0 or stops.max() >= n_stops):
        raise ValueError("timetable_from_trips: st_stop_idx out of range")
    arr = np.asarray(trips.st_arrival_s, dtype=np.int64)
    dep = np.asarray(trips.st_departure_s, dtype=np.int64)
    if (dep < arr).any():
        k = int(np.flatnonzero(dep < arr)[0])
        trip = int(np.searchsorted(off, k, side="right") - 1)
        raise ValueError(f"timetable_from_trips: trip {str(trips.trip_ids[trip])!r} departs before it "
                         "arrives at one of its stops")
    # next arrival must not precede this departure, within a trip
    same_trip = np.ones(max(m - 1, 0), dtype=bool)
    same_trip[off[1:-1] - 1] = False
    back = same_trip & (arr[1:] < dep[:-1])
    if back.any():
        k = int(np.flatnonzero(back)[0])
        trip = int(np.searchsorted(off, k, side="right") - 1)
        raise ValueError(f"timetable_from_trips: trip {str(trips.trip_ids[trip])!r} goes back in time "
                         "between two consecutive stops")


def _split_fifo(arr: np.ndarray, dep: np.ndarray) -> list[list[int]]:
    """First-fit split of trips (rows, sorted by first departure) into non-overtaking groups.

    ``arr``/``dep`` are (n_trips, n_stops). A trip joins the first group whose last trip it does
    not overtake, i.e. it is at least as late at every stop.
    """
    groups: list[list[int]] = []
    last_arr: list[np.ndarray] = []
    last_dep: list[np.ndarray] = []
    for t in range(arr.shape[0]):
        for g in range(len(groups)):
            if (arr[t] >= last_arr[g]).all() and (dep[t] >= last_dep[g]).all():
                groups[g].append(t)
                last_arr[g], last_dep[g] = arr[t], dep[t]
                break
        else:
            groups.append([t])
            last_arr.append(arr[t])
            last_dep.append(dep[t])
    return groups


def timetable_from_trips(
    *,
    stop_ids, stop_name, stop_lon, stop_lat, stop_location_type=None, stop_parent_idx=None,
    stop_wheelchair=None, stop_min_transfer_s=None,
    line_ids, line_short_name, line_long_name, line_type, line_color=None, line_text_color=None,
    line_agency=None,
    trips: TripStopTimes,
    service_ids, service_first_day: int, service_active,
    transfer_from_stop=(), transfer_to_stop=(), transfer_time_s=(),
    forbidden_from_stop=(), forbidden_to_stop=(),
    timezone: str, feed_ids: tuple = (),
) -> Timetable:
    """Group trips into RAPTOR routes and lay the timetable out in flat arrays.

    Stop-level and line-level arguments are arrays indexed by stop_idx and line_idx; optional
    ones default to "unknown"/empty. Footpaths (``transfer_*``) may come in any order and are
    indexed by from-stop. Raises ValueError naming the argument for inconsistent input (a trip
    with fewer than two stop times, times going backwards, indices out of range).
    """
    stop_ids = np.asarray(stop_ids, dtype=str)
    n_stops = stop_ids.shape[0]
    n_lines = len(line_ids)
    _check_trips(trips, n_stops)
    trips = _typed(trips)
    if trips.trip_line_idx.size and (trips.trip_line_idx.min() < 0
                                     or trips.trip_line_idx.max() >= n_lines):
        raise ValueError("timetable_from_trips: trip_line_idx out of range")

    # 1. candidate patterns: same line, stop sequence and permissions
    # 2. sort by departure, split into FIFO routes; deterministic order of routes
    route_trips = _fifo_routes(trips, _candidate_patterns(trips))
    routes = _route_offsets(trips, route_trips)
    routes.update(_lay_out_stop_times(trips, route_trips, routes["route_stop_offsets"],
                                      routes["stop_time_offsets"]))
    # 3. stop -> (route, position), and footpaths by from-stop
    stop_routes = _stop_route_index(routes["route_stops"], routes["route_stop_offsets"], n_stops)
    footpaths = _footpath_index(transfer_from_stop, transfer_to_stop, transfer_time_s, n_stops)

    def stop_array(value, default, dtype):
        if value is None:
            return np.full(n_stops, default, dtype=dtype)
        value = np.asarray(value, dtype=dtype)
        if value.shape != (n_stops,):
            raise ValueError(f"timetable_from_trips: stop array has shape {value.shape}, "
                             f"expected ({n_stops},)")
        return value

    def line_array(value, default, dtype):
        return np.full(n_lines, default, dtype=dtype) if value is None else np.asarray(value, dtype)

    return Timetable(
        stop_ids=stop_ids,
        stop_name=np.asarray(stop_name, dtype=str),
        stop_lon=np.asarray(stop_lon, dtype=np.float64),
        stop_lat=np.asarray(stop_lat, dtype=np.float64),
        stop_location_type=stop_array(stop_location_type, 0, np.int8),
        stop_parent_idx=stop_array(stop_parent_idx, NO_INDEX, np.int32),
        stop_wheelchair=stop_array(stop_wheelchair, 0, np.int8),
        stop_min_transfer_s=stop_array(stop_min_transfer_s, -1, np.int32),
        line_ids=np.asarray(line_ids, dtype=str),
        line_short_name=np.asarray(line_short_name, dtype=str),
        line_long_name=np.asarray(line_long_name, dtype=str),
        line_type=np.asarray(line_type, dtype=np.int16),
        line_color=line_array(line_color, "", str),
        line_text_color=line_array(line_text_color, "", str),
        line_agency=line_array(line_agency, "", str),
        **routes,
        **_trips_in_route_order(trips, route_trips),
        **stop_routes,
        **footpaths,
        forbidden_from_stop=np.asarray(forbidden_from_stop, dtype=np.int32),
        forbidden_to_stop=np.asarray(forbidden_to_stop, dtype=np.int32),
        service_ids=np.asarray(service_ids, dtype=str),
        service_first_day=int(service_first_day),
        service_active=np.asarray(service_active, dtype=bool),
        timezone=str(timezone),
        feed_ids=tuple(feed_ids),
    )


# ---------------------------------------------------------------------------------------------
# The steps of timetable_from_trips
# ---------------------------------------------------------------------------------------------
def _typed(trips: TripStopTimes) -> TripStopTimes:
    """``trips`` with the stop-time arrays and trip lines in the dtypes the steps below index."""
    return dataclasses.replace(
        trips,
        trip_line_idx=np.asarray(trips.trip_line_idx, dtype=np.int32),
        st_offsets=np.asarray(trips.st_offsets, dtype=np.int64),
        st_stop_idx=np.asarray(trips.st_stop_idx, dtype=np.int32),
        st_arrival_s=np.asarray(trips.st_arrival_s, dtype=np.int32),
        st_departure_s=np.asarray(trips.st_departure_s, dtype=np.int32),
        st_can_board=np.asarray(trips.st_can_board, dtype=bool),
        st_can_alight=np.asarray(trips.st_can_alight, dtype=bool))


def _candidate_patterns(trips: TripStopTimes) -> dict[bytes, list[int]]:
    """Trips grouped by line, stop sequence and pick-up/drop-off permissions (in trip order)."""
    off, trip_line = trips.st_offsets, trips.trip_line_idx
    candidates: dict[bytes, list[int]] = {}
    for t in range(trips.n_trips):
        a, b = off[t], off[t + 1]
        key = (trip_line[t].tobytes() + trips.st_stop_idx[a:b].tobytes()
               + trips.st_can_board[a:b].tobytes() + trips.st_can_alight[a:b].tobytes())
        candidates.setdefault(key, []).append(t)
    return candidates


def _fifo_routes(trips: TripStopTimes, candidates: dict[bytes, list[int]]) -> list[np.ndarray]:
    """Each candidate's trips sorted by departure and split into non-overtaking routes: route ->
    its trips in order. Routes come by line, then by first trip (deterministic)."""
    off, trip_line = trips.st_offsets, trips.trip_line_idx
    route_trips: list[np.ndarray] = []
    for members in sorted(candidates.values(), key=lambda ts: (trip_line[ts[0]], ts[0])):
        members = np.asarray(members)
        k = int(off[members[0] + 1] - off[members[0]])
        idx = off[members][:, None] + np.arange(k)[None, :]
        arr, dep = trips.st_arrival_s[idx], trips.st_departure_s[idx]
        order = np.lexsort(tuple(dep[:, j] for j in range(k - 1, -1, -1)))
        members, arr, dep = members[order], arr[order], dep[order]
        for group in _split_fifo(arr, dep):
            route_trips.append(members[group])
    return route_trips


def _route_offsets(trips: TripStopTimes, route_trips: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Timetable fields: each route's line, and its CSR offsets into stops, trips and stop times."""
    off = trips.st_offsets
    n_routes = len(route_trips)
    route_line_idx = np.zeros(n_routes, dtype=np.int32)
    route_stop_offsets = np.zeros(n_routes + 1, dtype=np.int32)
    route_trip_offsets = np.zeros(n_routes + 1, dtype=np.int32)
    stop_time_offsets = np.zeros(n_routes + 1, dtype=np.int64)
    for r, members in enumerate(route_trips):
        k = int(off[members[0] + 1] - off[members[0]])
        route_line_idx[r] = trips.trip_line_idx[members[0]]
        route_stop_offsets[r + 1] = route_stop_offsets[r] + k
        route_trip_offsets[r + 1] = route_trip_offsets[r] + len(members)
        stop_time_offsets[r + 1] = stop_time_offsets[r] + k * len(members)
    trip_route_idx = np.repeat(np.arange(n_routes, dtype=np.int32),
                               np.diff(route_trip_offsets).astype(np.int64))
    return dict(route_line_idx=route_line_idx, route_stop_offsets=route_stop_offsets,
                route_trip_offsets=route_trip_offsets, stop_time_offsets=stop_time_offsets,
                trip_route_idx=trip_route_idx)


def _lay_out_stop_times(trips: TripStopTimes, route_trips: list[np.ndarray],
                        route_stop_offsets: np.ndarray, stop_time_offsets: np.ndarray
                        ) -> dict[str, np.ndarray]:
    """Timetable fields: each route's stops with their permissions, and its stop times laid out
    stop-major ([stop0: trip0..tripN, stop1: ...])."""
    off = trips.st_offsets
    route_stops = np.zeros(route_stop_offsets[-1], dtype=np.int32)
    can_board = np.zeros(route_stop_offsets[-1], dtype=bool)
    can_alight = np.zeros(route_stop_offsets[-1], dtype=bool)
    arrival_s = np.zeros(stop_time_offsets[-1], dtype=np.int32)
    departure_s = np.zeros(stop_time_offsets[-1], dtype=np.int32)
    for r, members in enumerate(route_trips):
        first = off[members[0]]
        k = int(route_stop_offsets[r + 1] - route_stop_offsets[r])
        s0 = route_stop_offsets[r]
        route_stops[s0:s0 + k] = trips.st_stop_idx[first:first + k]
        can_board[s0:s0 + k] = trips.st_can_board[first:first + k]
        can_alight[s0:s0 + k] = trips.st_can_alight[first:first + k]
        idx = off[members][None, :] + np.arange(k)[:, None]  # (stop, trip): stop-major
        b0 = stop_time_offsets[r]
        arrival_s[b0:b0 + idx.size] = trips.st_arrival_s[idx].ravel()
        departure_s[b0:b0 + idx.size] = trips.st_departure_s[idx].ravel()
    return dict(route_stops=route_stops, route_stop_can_board=can_board,
                route_stop_can_alight=can_alight, arrival_s=arrival_s, departure_s=departure_s)


def _trips_in_route_order(trips: TripStopTimes, route_trips: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Timetable fields: the per-trip arrays, reordered so trip_idx runs route by route."""
    new_trip_order = np.concatenate(route_trips) if route_trips else np.zeros(0, dtype=np.int64)
    return dict(
        trip_ids=np.asarray(trips.trip_ids, dtype=str)[new_trip_order],
        trip_service_idx=np.asarray(trips.trip_service_idx, dtype=np.int32)[new_trip_order],
        trip_wheelchair=np.asarray(trips.trip_wheelchair, dtype=np.int8)[new_trip_order],
        trip_bikes_allowed=np.asarray(trips.trip_bikes_allowed, dtype=np.int8)[new_trip_order],
        trip_headsign=np.asarray(trips.trip_headsign, dtype=str)[new_trip_order])


def _stop_route_index(route_stops: np.ndarray, route_stop_offsets: np.ndarray,
                      n_stops: int) -> dict[str, np.ndarray]:
    """Timetable fields: stop -> (route, position), sorted by stop then route."""
    n_routes = route_stop_offsets.shape[0] - 1
    pos_route = np.repeat(np.arange(n_routes, dtype=np.int32),
                          np.diff(route_stop_offsets).astype(np.int64))
    pos_in_route = (np.arange(route_stops.shape[0], dtype=np.int32)
                    - route_stop_offsets[pos_route].astype(np.int32))
    stop_route_offsets, order = _csr(route_stops.astype(np.int64), n_stops)
    return dict(stop_route_offsets=stop_route_offsets.astype(np.int32),
                stop_route_idx=pos_route[order], stop_route_pos=pos_in_route[order])


def _footpath_index(transfer_from_stop, transfer_to_stop, transfer_time_s,
                    n_stops: int) -> dict[str, np.ndarray]:
    """Timetable fields: footpaths by from-stop (then to-stop), duplicates keeping the shortest
    time. Raises ValueError for arrays of different lengths, stops out of range, negative times."""
    t_from = np.asarray(transfer_from_stop, dtype=np.int64)
    t_to = np.asarray(transfer_to_stop, dtype=np.int64)
    t_time = np.asarray(transfer_time_s, dtype=np.int64)
    if not (t_from.shape == t_to.shape == t_time.shape):
        raise ValueError("timetable_from_trips: transfer_* arrays differ in length")
    if t_from.size and (min(t_from.min(), t_to.min()) < 0
                        or max(t_from.max(), t_to.max()) >= n_stops):
        raise ValueError("timetable_from_trips: transfer stop index out of range")
    if (t_time < 0).any():
        raise ValueError("timetable_from_trips: transfer_time_s must be >= 0")
    tord = np.lexsort((t_time, t_to, t_from))
    t_from, t_to, t_time = t_from[tord], t_to[tord], t_time[tord]
    keep = np.ones(t_from.shape[0], dtype=bool)
    keep[1:] = (t_from[1:] != t_from[:-1]) | (t_to[1:] != t_to[:-1])
    t_from, t_to, t_time = t_from[keep], t_to[keep], t_time[keep]
    transfer_offsets, _ = _csr(t_from, n_stops)
    return dict(transfer_offsets=transfer_offsets.astype(np.int32),
                transfer_to_stop=t_to.astype(np.int32), transfer_time_s=t_time.astype(np.int32))


def trips_of(tt: Timetable) -> TripStopTimes:
    """The inverse of :func:`timetable_from_trips`: every trip with its stop times.

    Trips come in the timetable's trip_idx order. Used by scenarios that add or remove trips and
    rebuild the timetable.
    """
    n_trips = tt.n_trips
    lengths = np.zeros(n_trips, dtype=np.int64)
    for r in range(tt.n_routes):
        a, b = tt.route_trip_offsets[r], tt.route_trip_offsets[r + 1]
        lengths[a:b] = tt.route_stop_offsets[r + 1] - tt.route_stop_offsets[r]
    st_offsets = np.zeros(n_trips + 1, dtype=np.int64)
    np.cumsum(lengths, out=st_offsets[1:])
    m = int(st_offsets[-1])
    st_stop = np.zeros(m, dtype=np.int32)
    st_arr = np.zeros(m, dtype=np.int32)
    st_dep = np.zeros(m, dtype=np.int32)
    st_board = np.zeros(m, dtype=bool)
    st_alight = np.zeros(m, dtype=bool)
    for r in range(tt.n_routes):
        b0, k, n = tt.route_block(r)
        t0 = int(tt.route_trip_offsets[r])
        s0 = int(tt.route_stop_offsets[r])
        # stop-major block (k, n) -> trip-major rows
        arr = np.asarray(tt.arrival_s[b0:b0 + k * n]).reshape(k, n).T
        dep = np.asarray(tt.departure_s[b0:b0 + k * n]).reshape(k, n).T
        dest = st_offsets[t0:t0 + n][:, None] + np.arange(k)[None, :]
        st_arr[dest] = arr
        st_dep[dest] = dep
        st_stop[dest] = np.asarray(tt.route_stops[s0:s0 + k])[None, :]
        st_board[dest] = np.asarray(tt.route_stop_can_board[s0:s0 + k])[None, :]
        st_alight[dest] = np.asarray(tt.route_stop_can_alight[s0:s0 + k])[None, :]
    return TripStopTimes(
        trip_ids=np.asarray(tt.trip_ids), trip_line_idx=np.asarray(tt.route_line_idx)[tt.trip_route_idx],
        trip_service_idx=np.asarray(tt.trip_service_idx), trip_wheelchair=np.asarray(tt.trip_wheelchair),
        trip_bikes_allowed=np.asarray(tt.trip_bikes_allowed), trip_headsign=np.asarray(tt.trip_headsign),
        st_offsets=st_offsets, st_stop_idx=st_stop, st_arrival_s=st_arr, st_departure_s=st_dep,
        st_can_board=st_board, st_can_alight=st_alight)


def merge_footpaths(tt: Timetable, from_stop, to_stop, time_s) -> Timetable:
    """A copy of ``tt`` with extra footpaths; pairs it already has keep their time.

    Used at build time to add walking transfers between nearby stops to the transfers.txt ones
    (which win: a feed's explicit transfer time beats a computed walk).
    """
    old_from = np.repeat(np.arange(tt.n_stops, dtype=np.int64),
                         np.diff(np.asarray(tt.transfer_offsets)).astype(np.int64))
    old_to = np.asarray(tt.transfer_to_stop, dtype=np.int64)
    new_from = np.asarray(from_stop, dtype=np.int64)
    new_to = np.asarray(to_stop, dtype=np.int64)
    new_time = np.asarray(time_s, dtype=np.int64)
    if not (new_from.shape == new_to.shape == new_time.shape):
        raise ValueError("merge_footpaths: from_stop, to_stop and time_s differ in length")
    if new_from.size and (min(new_from.min(), new_to.min()) < 0
                          or max(new_from.max(), new_to.max()) >= tt.n_stops):
        raise ValueError("merge_footpaths: stop index out of range")
    known = set(zip(old_from.tolist(), old_to.tolist(), strict=True))
    fresh = np.array([(f, t) not in known for f, t in zip(new_from.tolist(), new_to.tolist(),
                                                          strict=True)], dtype=bool)
    all_from = np.concatenate([old_from, new_from[fresh]])
    all_to = np.concatenate([old_to, new_to[fresh]])
    all_time = np.concatenate([np.asarray(tt.transfer_time_s, dtype=np.int64), new_time[fresh]])
    order = np.lexsort((all_time, all_to, all_from))
    all_from, all_to, all_time = all_from[order], all_to[order], all_time[order]
    keep = np.ones(all_from.shape[0], dtype=bool)
    keep[1:] = (all_from[1:] != all_from[:-1]) | (all_to[1:] != all_to[:-1])
    offsets, _ = _csr(all_from[keep], tt.n_stops)
    return dataclasses.replace(tt, transfer_offsets=offsets.astype(np.int32),
                               transfer_to_stop=all_to[keep].astype(np.int32),
                               transfer_time_s=all_time[keep].astype(np.int32))


def routes_from_trips(trips: TripStopTimes, n_stops: int) -> tuple[dict, dict, list[np.ndarray]]:
    """The route-level and trip-level Timetable fields of ``trips`` on their own, laid out as
    :func:`timetable_from_trips` lays them out (candidate patterns, FIFO split, stop-major stop
    times), and each route's trips (indices into ``trips``, in route order).

    Used to append trips to an existing timetable as new routes (real-time overlays). Raises
    ValueError like :func:`timetable_from_trips` for inconsistent trips.
    """
    _check_trips(trips, n_stops)
    trips = _typed(trips)
    route_trips = _fifo_routes(trips, _candidate_patterns(trips))
    routes = _route_offsets(trips, route_trips)
    routes.update(_lay_out_stop_times(trips, route_trips, routes["route_stop_offsets"],
                                      routes["stop_time_offsets"]))
    return routes, _trips_in_route_order(trips, route_trips), route_trips


def stop_route_index(route_stops: np.ndarray, route_stop_offsets: np.ndarray,
                     n_stops: int) -> dict[str, np.ndarray]:
    """Timetable fields ``stop_route_offsets``, ``stop_route_idx``, ``stop_route_pos``: stop ->
    (route, position), sorted by stop then route (rebuilt when routes are appended)."""
    return _stop_route_index(np.asarray(route_stops), np.asarray(route_stop_offsets), n_stops)
