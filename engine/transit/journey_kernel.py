"""The journey kernel: :func:`_raptor` answers every journey query (earliest arrival with the
Pareto set of (arrival, number of trips), range RAPTOR, and arrive-by on the reversed timetable),
and :func:`_window_departures` finds the departures range RAPTOR runs.

The kernel records, for each label, how it was reached and writes each Pareto-optimal journey's
legs into flat output arrays (:mod:`engine.transit.reconstruct`).
"""
from __future__ import annotations

import numba
import numpy as np

from engine.transit.journeys import _N_LEG_FIELDS
from engine.transit.labels import _N_COMP, NO_PREDECESSOR, UNREACHED
from engine.transit.reconstruct import _reconstruct
from engine.transit.rounds import (
    _access_labels,
    _access_steps,
    _lower_bound,
    _round_work,
    _routes_to_scan,
    _scan_routes,
    _transfer_labels,
)


@numba.njit(cache=True, nogil=True)
def _raptor(route_stop_offsets, route_stops, route_can_board, route_can_alight, route_trip_offsets,
            stop_time_offsets, arrival_s, departure_s, trip_route_idx,
            stop_route_offsets, stop_route_idx, stop_route_pos,
            fp_offsets, fp_to, fp_time_s, stop_slack_s,
            trip_active, route_ok, stop_ok, day_shift_s,
            access_stop, access_s, egress_s_by_stop, departures_s, mark_offsets, mark_stops,
            max_trips, max_duration_s, stop_flag):
    """RAPTOR rounds for each departure time in ``departures_s`` (processed in the given order,
    latest first for range RAPTOR), labels kept between departures.

    Returns (journey array (n, 4): depart, arrive, n_trips, first leg; legs (m, 9); n_legs).
    ``trip_active`` bit 1: the trip runs on the query day, bit 2: on the day before (its times
    minus ``day_shift_s`` in the query's frame). ``stop_slack_s`` < 0 forbids same-stop transfers.

    Departure i marks, in round 0, the stops ``mark_stops[mark_offsets[i]:mark_offsets[i + 1]]``
    or, when that group is empty, every access (and footpath) stop it improves. Range RAPTOR
    passes the stops where a trip leaves exactly at that time: every other trip catchable then
    was catchable at the previous (later) departure, whose labels are kept, so scanning it again
    could improve nothing.

    Once ``stop_flag[0]`` is set (a deadline: read before each round) the search stops and
    returns what it has; the caller then raises.
    """
    n_stops = stop_route_offsets.shape[0] - 1
    n_routes = route_stop_offsets.shape[0] - 1
    n_rows = max_trips + 1
    best_vehicle = np.full((n_rows, n_stops), UNREACHED, dtype=np.int32)
    best_board = np.full((n_rows, n_stops), UNREACHED, dtype=np.int32)
    v_time = np.full((n_rows, n_stops), UNREACHED, dtype=np.int32)
    v_trip = np.empty((n_rows, n_stops), dtype=np.int32)
    v_bpos = np.empty((n_rows, n_stops), dtype=np.int32)
    v_apos = np.empty((n_rows, n_stops), dtype=np.int32)
    v_layer = np.empty((n_rows, n_stops), dtype=np.int8)
    f_time = np.full((n_rows, n_stops), UNREACHED, dtype=np.int32)
    f_from = np.empty((n_rows, n_stops), dtype=np.int32)
    target = np.full(n_rows, UNREACHED, dtype=np.int32)
    target_before = np.empty(n_rows, dtype=np.int32)
    target_stop = np.full(n_rows, NO_PREDECESSOR, dtype=np.int32)
    target_kind = np.zeros(n_rows, dtype=np.int8)
    target_via = np.full(n_rows, NO_PREDECESSOR, dtype=np.int32)  # footpath source of a foot target
    first_pos, queue, marked, is_marked, improved, is_improved = _round_work(n_stops, n_routes)
    routes = (route_stop_offsets, route_stops, route_can_board, route_can_alight, route_trip_offsets,
              stop_time_offsets, arrival_s, departure_s)
    no_comp = np.empty((0, 0, _N_COMP), dtype=np.int32)     # (the matrix's time breakdown)
    no_reach = np.empty(0, dtype=np.int32)
    no_reach_comp = np.empty((0, _N_COMP), dtype=np.int32)
    no_reach_flags = np.empty(0, dtype=np.bool_)
    steps, n_direct = _access_steps(access_stop, access_s, fp_offsets, fp_to, fp_time_s, stop_ok,
                                    max_duration_s)
    journeys = np.empty((max(4, 2 * n_rows), 4), dtype=np.int32)
    n_journeys = 0
    legs = np.empty((64, _N_LEG_FIELDS), dtype=np.int32)
    n_legs = 0

    for dep_i in range(departures_s.shape[0]):
        if stop_flag[0]:
            break
        tau = departures_s[dep_i]
        horizon = tau + max_duration_s
        target_before[:] = target
        mark_given = mark_offsets[dep_i + 1] > mark_offsets[dep_i]
        n_marked = _access_labels(tau, horizon, steps, n_direct, best_board, f_time, f_from, no_comp,
                                  not mark_given, marked, is_marked)
        if mark_given:
            for j in range(mark_offsets[dep_i], mark_offsets[dep_i + 1]):
                s = mark_stops[j]
                if best_board[0, s] != UNREACHED and not is_marked[s]:
                    is_marked[s] = True
                    marked[n_marked] = s
                    n_marked += 1

        for k in range(1, n_rows):
            if n_marked == 0 or stop_flag[0]:
                break
            # routes through the stops marked in round k - 1, from their first marked position
            n_queue = _routes_to_scan(marked, n_marked, is_marked, stop_route_offsets, stop_route_idx,
                                      stop_route_pos, route_ok, first_pos, queue)
            n_improved, _ = _scan_routes(
                k, queue, n_queue, first_pos, routes, trip_active, stop_ok, day_shift_s, horizon,
                best_board, best_vehicle, v_time, v_trip, v_bpos, v_apos, v_layer, improved,
                is_improved, egress_s_by_stop, target, target_stop, target_kind, no_comp, no_comp,
                no_reach, no_reach_comp, no_reach, no_reach_flags, 0)
            n_marked, _ = _transfer_labels(
                k, improved, n_improved, is_improved, v_time, stop_slack_s, fp_offsets, fp_to,
                fp_time_s, stop_ok, horizon, best_board, f_time, f_from, marked, is_marked,
                egress_s_by_stop, target, target_stop, target_kind, target_via, no_comp, no_comp,
                no_reach, no_reach_comp, no_reach, no_reach_flags, 0)
        for i in range(n_marked):
            is_marked[marked[i]] = False

        # journeys that improved a round's target label this departure and beat fewer trips
        for k in range(1, n_rows):
            if target[k] < target_before[k] and target[k] < target[k - 1]:
                if n_journeys >= journeys.shape[0]:
                    bigger = np.empty((journeys.shape[0] * 2, 4), dtype=np.int32)
                    bigger[:n_journeys] = journeys[:n_journeys]
                    journeys = bigger
                first_leg = n_legs
                legs, n_legs, depart, n_rides = _reconstruct(
                    k, target_stop[k], target_kind[k], target_via[k], tau, legs, n_legs,
                    route_stop_offsets, route_stops, route_trip_offsets, stop_time_offsets,
                    arrival_s, departure_s, trip_route_idx, fp_offsets, fp_to, fp_time_s,
                    stop_slack_s, day_shift_s, egress_s_by_stop, access_stop, access_s,
                    v_time, v_trip, v_bpos, v_apos, v_layer, f_time, f_from)
                journeys[n_journeys, 0] = depart
                journeys[n_journeys, 1] = target[k]
                journeys[n_journeys, 2] = n_rides
                journeys[n_journeys, 3] = first_leg
                n_journeys += 1
    return journeys[:n_journeys], legs, n_legs



@numba.njit(cache=True, nogil=True)
def _window_departures(access_stop, access_s, window_start_s, window_end_s,
                       route_stop_offsets, route_can_board, route_trip_offsets, stop_time_offsets,
                       departure_s, stop_route_offsets, stop_route_idx, stop_route_pos,
                       trip_active, route_ok, stop_ok, day_shift_s):
    """Every time in [window_start_s, window_end_s] at which leaving the origin catches a trip
    exactly (a boardable departure minus the access time), latest first, with the stops where
    those trips leave: (times, CSR offsets into stops, stops)."""
    when = np.empty(64, dtype=np.int64)
    where = np.empty(64, dtype=np.int32)
    n = 0
    for i in range(access_stop.shape[0]):
        s = access_stop[i]
        if not stop_ok[s]:
            continue
        acc = access_s[i]
        for j in range(stop_route_offsets[s], stop_route_offsets[s + 1]):
            r = stop_route_idx[j]
            pos = stop_route_pos[j]
            if not route_ok[r] or not route_can_board[route_stop_offsets[r] + pos]:
                continue
            t0 = route_trip_offsets[r]
            n_tr = route_trip_offsets[r + 1] - t0
            base = stop_time_offsets[r] + pos * n_tr
            for layer in range(2):
                shift = day_shift_s if layer == 1 else 0
                bit = 1 << layer
                t = _lower_bound(departure_s, base, base + n_tr, window_start_s + acc + shift) - base
                while t < n_tr:
                    leave = departure_s[base + t] - shift - acc
                    if leave > window_end_s:
                        break
                    if trip_active[t0 + t] & bit:
                        if n >= when.shape[0]:
                            w2 = np.empty(when.shape[0] * 2, dtype=np.int64)
                            s2 = np.empty(when.shape[0] * 2, dtype=np.int32)
                            w2[:n] = when[:n]
                            s2[:n] = where[:n]
                            when, where = w2, s2
                        when[n] = leave
                        where[n] = s
                        n += 1
                    t += 1
    order = np.argsort(-when[:n], kind="mergesort")
    times = np.empty(n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    stops = np.empty(n, dtype=np.int32)
    m = 0
    for k in range(n):
        i = order[k]
        if m == 0 or times[m - 1] != when[i]:
            times[m] = when[i]
            m += 1
            offsets[m] = offsets[m - 1]
        stops[offsets[m]] = where[i]
        offsets[m] += 1
    return times[:m].copy(), offsets[:m + 1].copy(), stops
