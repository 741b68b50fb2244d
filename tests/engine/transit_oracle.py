"""An independent oracle for the RAPTOR tests: a plain connection scan, one pass per trip count.

It shares no code with ``engine/transit/``. It reads the day's connections (each trip's
consecutive stop pairs, trips of the day before moved by the day's shift), the footpaths and the
per-stop transfer times, and applies the same journey definition:

  access, at most one footpath, a trip, then any number of (same-stop change with the stop's
  transfer time, or one footpath; a trip), then at most one footpath, egress.

``pass k`` computes, for every stop, the earliest arrival by vehicle using at most k trips,
boarding only where the stop was ready after at most k-1 trips; the arrival at the destination
with at most k trips gives the Pareto set of (arrival, trips).
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

INF = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class Connections:
    """One service day's connections, sorted by departure time."""

    dep_stop: np.ndarray
    arr_stop: np.ndarray
    dep_s: np.ndarray
    arr_s: np.ndarray
    trip: np.ndarray        # key of (trip, day): connections of one vehicle run share it
    can_board: np.ndarray   # pick-up allowed at dep_stop
    can_alight: np.ndarray  # drop-off allowed at arr_stop
    n_trip_keys: int


def connections_of_day(trip_stops, trip_arr, trip_dep, trip_board, trip_alight, trip_runs_on_day,
                       trip_runs_on_prev_day, prev_day_shift_s=86_400, keep_trip=None) -> Connections:
    """Connections of a day from per-trip lists (one list per trip: stops, arrival and departure
    times in the trip's own service day, pick-up and drop-off flags).

    ``trip_runs_on_day``/``trip_runs_on_prev_day`` are booleans per trip; trips of the previous
    day have their times reduced by ``prev_day_shift_s``. ``keep_trip`` filters trips (modes,
    wheelchair).
    """
    cols = {k: [] for k in ("ds", "as_", "dt", "at", "tr", "cb", "ca")}
    key = 0
    for t in range(len(trip_stops)):
        if keep_trip is not None and not keep_trip[t]:
            continue
        for runs, shift in ((trip_runs_on_day[t], 0), (trip_runs_on_prev_day[t], prev_day_shift_s)):
            if not runs:
                continue
            st = np.asarray(trip_stops[t])
            arr = np.asarray(trip_arr[t], dtype=np.int64) - shift
            dep = np.asarray(trip_dep[t], dtype=np.int64) - shift
            cols["ds"].append(st[:-1])
            cols["as_"].append(st[1:])
            cols["dt"].append(dep[:-1])
            cols["at"].append(arr[1:])
            cols["tr"].append(np.full(st.shape[0] - 1, key))
            cols["cb"].append(np.asarray(trip_board[t])[:-1])
            cols["ca"].append(np.asarray(trip_alight[t])[1:])
            key += 1
    if key == 0:
        z = np.zeros(0, dtype=np.int64)
        return Connections(z, z, z, z, z, np.zeros(0, bool), np.zeros(0, bool), 0)
    c = {k: np.concatenate(v) for k, v in cols.items()}
    order = np.argsort(c["dt"], kind="stable")
    return Connections(c["ds"][order].astype(np.int64), c["as_"][order].astype(np.int64),
                       c["dt"][order], c["at"][order], c["tr"][order].astype(np.int64),
                       c["cb"][order].astype(bool), c["ca"][order].astype(bool), key)


@numba.njit(cache=True)
def _scan(dep_stop, arr_stop, dep_s, arr_s, trip, can_board, can_alight, n_keys, n_stops,
          fp_from, fp_to, fp_time, change_s, origin_stop, origin_s, dest_stop, dest_s, depart,
          max_trips, horizon):
    ready = np.full(n_stops, INF, dtype=np.int64)
    for i in range(origin_stop.shape[0]):
        t = depart + origin_s[i]
        if t < ready[origin_stop[i]]:
            ready[origin_stop[i]] = t
    for e in range(fp_from.shape[0]):  # one footpath after the access
        for i in range(origin_stop.shape[0]):
            if origin_stop[i] == fp_from[e]:
                t = depart + origin_s[i] + fp_time[e]
                if t < ready[fp_to[e]]:
                    ready[fp_to[e]] = t
    best = np.full(max_trips + 1, INF, dtype=np.int64)
    start = np.searchsorted(dep_s, depart)
    for k in range(1, max_trips + 1):
        on = np.zeros(n_keys, dtype=np.bool_)
        vehicle = np.full(n_stops, INF, dtype=np.int64)
        for c in range(start, dep_s.shape[0]):
            if not on[trip[c]] and can_board[c] and ready[dep_stop[c]] <= dep_s[c]:
                on[trip[c]] = True
            if on[trip[c]] and can_alight[c] and arr_s[c] < vehicle[arr_stop[c]]:
                vehicle[arr_stop[c]] = arr_s[c]
        foot = np.full(n_stops, INF, dtype=np.int64)
        for e in range(fp_from.shape[0]):
            if vehicle[fp_from[e]] < INF:
                t = vehicle[fp_from[e]] + fp_time[e]
                if t < foot[fp_to[e]]:
                    foot[fp_to[e]] = t
        b = best[k - 1]
        for i in range(dest_stop.shape[0]):
            d = dest_stop[i]
            t = min(vehicle[d], foot[d])
            if t < INF and t + dest_s[i] < b and t + dest_s[i] <= horizon:
                b = t + dest_s[i]
        best[k] = b
        for s in range(n_stops):
            if vehicle[s] < INF and change_s[s] >= 0 and vehicle[s] + change_s[s] < ready[s]:
                ready[s] = vehicle[s] + change_s[s]
            if foot[s] < ready[s]:
                ready[s] = foot[s]
    return best


@dataclass(frozen=True)
class Oracle:
    """Connection-scan answers for one service day."""

    conn: Connections
    n_stops: int
    fp_from: np.ndarray
    fp_to: np.ndarray
    fp_time: np.ndarray
    change_s: np.ndarray      # per stop: same-stop transfer time, -1 when forbidden

    def best_by_trips(self, origin, destination, depart_s, max_trips, max_duration_s=86_400):
        """best[k] = earliest arrival with at most k trips (INF when none), k = 0..max_trips."""
        o_stop, o_s = (np.asarray([p[0] for p in origin], np.int64),
                       np.asarray([p[1] for p in origin], np.int64))
        d_stop, d_s = (np.asarray([p[0] for p in destination], np.int64),
                       np.asarray([p[1] for p in destination], np.int64))
        c = self.conn
        return _scan(c.dep_stop, c.arr_stop, c.dep_s, c.arr_s, c.trip, c.can_board, c.can_alight,
                     max(c.n_trip_keys, 1), self.n_stops, self.fp_from, self.fp_to, self.fp_time,
                     self.change_s, o_stop, o_s, d_stop, d_s, int(depart_s), int(max_trips),
                     int(depart_s) + int(max_duration_s))

    def pareto(self, origin, destination, depart_s, max_trips, max_duration_s=86_400):
        """[(n_trips, arrival)] non-dominated, fewest trips first."""
        best = self.best_by_trips(origin, destination, depart_s, max_trips, max_duration_s)
        return [(k, int(best[k])) for k in range(1, max_trips + 1)
                if best[k] < INF and best[k] < best[k - 1]]

    def latest_departure(self, origin, destination, arrive_s, n_trips, earliest_s):
        """Latest departure >= earliest_s arriving by arrive_s with at most n_trips, or None
        (bisection on the forward scan, which is monotone in the departure time)."""
        def ok(t):
            return self.best_by_trips(origin, destination, t, n_trips)[n_trips] <= arrive_s
        lo, hi = int(earliest_s), int(arrive_s)
        if not ok(lo):
            return None
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if ok(mid):
                lo = mid
            else:
                hi = mid - 1
        return lo


def oracle_from_lists(n_stops, trip_stops, trip_arr, trip_dep, trip_board, trip_alight,
                      runs_today, runs_yesterday, footpaths, change_s, prev_day_shift_s=86_400,
                      keep_trip=None) -> Oracle:
    """Build an Oracle from plain lists; footpaths is [(from, to, seconds)] between different
    stops (forbidden pairs already left out), change_s the per-stop same-stop transfer time."""
    conn = connections_of_day(trip_stops, trip_arr, trip_dep, trip_board, trip_alight, runs_today,
                              runs_yesterday, prev_day_shift_s, keep_trip)
    fp = np.asarray(footpaths, dtype=np.int64).reshape(-1, 3)
    return Oracle(conn, int(n_stops), fp[:, 0].copy(), fp[:, 1].copy(), fp[:, 2].copy(),
                  np.asarray(change_s, dtype=np.int64))
