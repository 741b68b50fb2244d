"""The many-to-many kernel (travel-time matrices, isochrones): :func:`_raptor_matrix` runs the
rounds of the journey kernel from many origins to every stop and on to many destinations,
without a target and with a time breakdown per label."""
from __future__ import annotations

import numba
import numpy as np

from engine.transit.labels import (
    _COMP_ACCESS,
    _COMP_RIDE,
    _COMP_TRIPS,
    _COMP_WALK,
    _N_COMP,
    UNREACHED,
)
from engine.transit.rounds import (
    _access_labels,
    _access_steps,
    _round_work,
    _routes_to_scan,
    _scan_routes,
    _transfer_labels,
)

MATRIX_COMPONENTS = ("access_s", "ride_s", "transfer_walk_s", "egress_s", "trips")
"""What :meth:`TransitRouter.arrival_matrix` breaks each best journey into, in this order."""


@numba.njit(cache=True, nogil=True)
def _raptor_matrix(route_stop_offsets, route_stops, route_can_board, route_can_alight,
                   route_trip_offsets, stop_time_offsets, arrival_s, departure_s,
                   stop_route_offsets, stop_route_idx, stop_route_pos,
                   fp_offsets, fp_to, fp_time_s, stop_slack_s,
                   trip_active, route_ok, stop_ok, day_shift_s,
                   acc_offsets, acc_stop, acc_s, eg_offsets, eg_dest, eg_s,
                   departures_s, max_trips, max_time_s, out_arrival, out_comp, stop_flag):
    """Range RAPTOR from each origin to every destination: the rounds of :func:`_raptor`
    without a target, each label carrying the components of its journey, and per destination
    the best arrival through its egress lists.

    Origin o's access list is ``acc_stop/acc_s[acc_offsets[o]:acc_offsets[o + 1]]``; stop s's
    egress list ``eg_dest/eg_s[eg_offsets[s]:eg_offsets[s + 1]]``. ``departures_s`` are processed
    in the given order (latest first) with labels kept. Writes ``out_arrival[o, i, d]`` (arrival
    at destination d leaving at ``departures_s[i]``, UNREACHED if none) and, for the last
    departure, ``out_comp[o, d]`` = (access, ride, transfer walk, egress, trips) of that journey
    (-1 when none). Once ``stop_flag[0]`` is set (a deadline: read before each round) the
    search stops, leaving the outputs partly unwritten; the caller then raises.
    """
    n_stops = stop_route_offsets.shape[0] - 1
    n_routes = route_stop_offsets.shape[0] - 1
    n_orig = acc_offsets.shape[0] - 1
    n_dest = out_arrival.shape[2]
    n_rows = max_trips + 1
    best_board = np.empty((n_rows, n_stops), dtype=np.int32)
    board_comp = np.zeros((n_rows, n_stops, _N_COMP), dtype=np.int32)
    best_vehicle = np.empty((n_rows, n_stops), dtype=np.int32)
    v_time = np.empty((n_rows, n_stops), dtype=np.int32)
    v_comp = np.zeros((n_rows, n_stops, _N_COMP), dtype=np.int32)
    # no journeys to rebuild: no ride or walk labels
    no_path = np.empty((0, 0), dtype=np.int32)
    no_layer = np.empty((0, 0), dtype=np.int8)
    # no target: every stop is reached
    no_egress = np.full(n_stops, -1, dtype=np.int32)
    target = np.full(n_rows, UNREACHED, dtype=np.int32)
    target_stop = np.empty(n_rows, dtype=np.int32)
    target_kind = np.empty(n_rows, dtype=np.int8)
    target_via = np.empty(n_rows, dtype=np.int32)
    arr_any = np.empty(n_stops, dtype=np.int32)            # after >= 1 trip, maybe a footpath
    any_comp = np.zeros((n_stops, _N_COMP), dtype=np.int32)
    dest_best = np.empty(n_dest, dtype=np.int32)
    dest_comp = np.zeros((n_dest, _N_COMP + 1), dtype=np.int32)
    first_pos, queue, marked, is_marked, improved, is_improved = _round_work(n_stops, n_routes)
    any_list = np.empty(n_stops, dtype=np.int32)
    is_any = np.zeros(n_stops, dtype=np.bool_)
    routes = (route_stop_offsets, route_stops, route_can_board, route_can_alight, route_trip_offsets,
              stop_time_offsets, arrival_s, departure_s)

    for o in range(n_orig):
        if stop_flag[0]:
            break
        best_board[:, :] = UNREACHED
        best_vehicle[:, :] = UNREACHED
        arr_any[:] = UNREACHED
        dest_best[:] = UNREACHED
        a0 = acc_offsets[o]
        a1 = acc_offsets[o + 1]
        steps, n_direct = _access_steps(acc_stop[a0:a1], acc_s[a0:a1], fp_offsets, fp_to, fp_time_s,
                                        stop_ok, max_time_s)
        for dep_i in range(departures_s.shape[0]):
            tau = departures_s[dep_i]
            horizon = tau + max_time_s
            n_any = 0
            n_marked = _access_labels(tau, horizon, steps, n_direct, best_board, no_path, no_path,
                                      board_comp, True, marked, is_marked)

            for k in range(1, n_rows):
                if n_marked == 0 or stop_flag[0]:
                    break
                n_queue = _routes_to_scan(marked, n_marked, is_marked, stop_route_offsets,
                                          stop_route_idx, stop_route_pos, route_ok, first_pos, queue)
                n_improved, n_any = _scan_routes(
                    k, queue, n_queue, first_pos, routes, trip_active, stop_ok, day_shift_s, horizon,
                    best_board, best_vehicle, v_time, no_path, no_path, no_path, no_layer, improved,
                    is_improved, no_egress, target, target_stop, target_kind, board_comp, v_comp,
                    arr_any, any_comp, any_list, is_any, n_any)
                n_marked, n_any = _transfer_labels(
                    k, improved, n_improved, is_improved, v_time, stop_slack_s, fp_offsets, fp_to,
                    fp_time_s, stop_ok, horizon, best_board, no_path, no_path, marked, is_marked,
                    no_egress, target, target_stop, target_kind, target_via, board_comp, v_comp,
                    arr_any, any_comp, any_list, is_any, n_any)
            for i in range(n_marked):
                is_marked[marked[i]] = False
            # egress: destinations from the stops improved at this departure
            for i in range(n_any):
                s = any_list[i]
                is_any[s] = False
                a = arr_any[s]
                for j in range(eg_offsets[s], eg_offsets[s + 1]):
                    d = eg_dest[j]
                    t = a + eg_s[j]
                    if t < dest_best[d]:
                        dest_best[d] = t
                        # in the order of MATRIX_COMPONENTS
                        dest_comp[d, 0] = any_comp[s, _COMP_ACCESS]
                        dest_comp[d, 1] = any_comp[s, _COMP_RIDE]
                        dest_comp[d, 2] = any_comp[s, _COMP_WALK]
                        dest_comp[d, 3] = eg_s[j]
                        dest_comp[d, 4] = any_comp[s, _COMP_TRIPS]
            for d in range(n_dest):
                out_arrival[o, dep_i, d] = dest_best[d]
        for d in range(n_dest):
            for c in range(_N_COMP + 1):
                out_comp[o, d, c] = dest_comp[d, c] if dest_best[d] != UNREACHED else -1

