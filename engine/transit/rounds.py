"""The rules of a RAPTOR round, as numba helpers shared by the journey kernel
(:mod:`engine.transit.journey_kernel`) and the many-to-many kernel
(:mod:`engine.transit.matrix_kernel`).

Labels are per round with "at most k trips" semantics (rows never increase with k), which keeps
the Pareto set exact under range RAPTOR and a transfer limit.

numba's on-disk cache does not notice edits to a helper from the kernels that inline it (they
live in other files): after changing this file, delete the kernels' cache (``__pycache__``).
"""
from __future__ import annotations

import numba
import numpy as np

from engine.transit.labels import (
    _COMP_ACCESS,
    _COMP_RIDE,
    _COMP_TRIPS,
    _COMP_WALK,
    _KIND_FOOT,
    _KIND_VEHICLE,
    _N_COMP,
    FROM_ACCESS,
    UNREACHED,
)

# The helpers below hold what a round *is*: where one may first board (round 0), which routes to
# scan and from where, which trip one catches and where it arrives (and the target of a journey
# search), how one changes (same stop with its slack, or one footpath). Labels are per round k
# with "at most k trips" semantics; both kernels keep
#   best_board[k, s]    earliest time one may board at s having taken <= k trips
#   best_vehicle[k, s]  earliest arrival at s by the k-th trip (or fewer); v_time[k, s] if set in k
#   target[k]           earliest arrival at the destination (UNREACHED, never lowered, without one)
# and, as each needs (an empty array: not kept, never read):
#   journeys: v_trip, v_bpos, v_apos, v_layer [k, s], the ride that set best_vehicle in round k,
#             and f_time, f_from [k, s], the walk (access or footpath) that set best_board;
#   components (the matrix's time breakdown, _COMP_*): board_comp/v_comp [k, s] of each label,
#             and the earliest arrival at each stop after a ride (reach_s, with its components,
#             the list of stops reached).
# So one set of helpers serves both kernels without callbacks.
# Speed: the helpers are inlined (numba inline="always"), each called once per round. Inside
# their hot loops, lowering a label's rows, marking a stop and the binary search are written out
# by hand: an inlined numba function that takes arrays pays reference counting at every call
# (helpers there cost about 20 % on a Montpellier query), and a plain call is slower still.

# an access step (from _access_steps)
_ST_FROM = 0          # stop walked from by a footpath (-1: straight from the origin)
_ST_TO = 1            # stop where one may board
_ST_SECS = 2          # seconds after leaving the origin
_N_ST_FIELDS = 3


@numba.njit(cache=True, nogil=True, inline="always")
def _lower_rows_1d(row, k, value):
    """row[j] = min(row[j], value) for every round j >= k."""
    for j in range(k, row.shape[0]):
        if row[j] > value:
            row[j] = value
        else:
            break


@numba.njit(cache=True, nogil=True, inline="always")
def _lower_bound(values, lo, hi, key):
    """First index i in [lo, hi) with values[i] >= key (values sorted), or hi."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True, nogil=True)
def _access_steps(access_stop, access_s, fp_offsets, fp_to, fp_time_s, stop_ok, max_duration_s):
    """Where a journey may first board and how many seconds after leaving the origin: every
    allowed access stop, then one footpath from each (to an allowed stop, within
    ``max_duration_s``). Returns (steps (n, 3), see ``_ST_*``; how many access stops lead). The
    same for every departure time: computed once per origin."""
    n = 0
    for i in range(access_stop.shape[0]):
        s = access_stop[i]
        if stop_ok[s]:
            n += 1 + fp_offsets[s + 1] - fp_offsets[s]
    steps = np.empty((n, _N_ST_FIELDS), dtype=np.int32)
    n = 0
    for i in range(access_stop.shape[0]):
        s = access_stop[i]
        if stop_ok[s]:
            steps[n, _ST_FROM] = -1
            steps[n, _ST_TO] = s
            steps[n, _ST_SECS] = access_s[i]
            n += 1
    n_direct = n
    for i in range(access_stop.shape[0]):
        s = access_stop[i]
        if not stop_ok[s]:
            continue
        for j in range(fp_offsets[s], fp_offsets[s + 1]):
            v = fp_to[j]
            secs = access_s[i] + fp_time_s[j]
            if secs <= max_duration_s and stop_ok[v]:
                steps[n, _ST_FROM] = s
                steps[n, _ST_TO] = v
                steps[n, _ST_SECS] = secs
                n += 1
    return steps[:n], n_direct


@numba.njit(cache=True, nogil=True, inline="always")
def _access_labels(tau, horizon, steps, n_direct, best_board, f_time, f_from, board_comp, mark,
                   marked, is_marked):
    """Round 0 for a departure at ``tau``: the access steps (of _access_steps) that improve
    ``best_board`` by ``horizon``, with their walk labels or components (when kept); marks those
    stops when ``mark``. Returns the number of marked stops."""
    paths = f_time.shape[0] > 0
    comps = board_comp.shape[0] > 0
    n_rows = best_board.shape[0]
    n_marked = 0
    for i in range(steps.shape[0]):
        s = steps[i, _ST_TO]
        t = tau + steps[i, _ST_SECS]
        if t > horizon:
            continue
        end = 0
        while end < n_rows and best_board[end, s] > t:
            best_board[end, s] = t
            if comps:
                for c in range(_N_COMP):
                    board_comp[end, s, c] = 0
                board_comp[end, s, _COMP_ACCESS] = steps[i, _ST_SECS]
            end += 1
        if end > 0:
            if paths:
                f_time[0, s] = t
                f_from[0, s] = FROM_ACCESS if i < n_direct else steps[i, _ST_FROM]
            if mark and not is_marked[s]:
                is_marked[s] = True
                marked[n_marked] = s
                n_marked += 1
    return n_marked


@numba.njit(cache=True, nogil=True)
def _round_work(n_stops, n_routes):
    """The work arrays of the rounds: (first_pos, queue) of routes to scan, (marked, is_marked)
    stops to scan from, (improved, is_improved) stops reached by a ride this round."""
    return (np.full(n_routes, -1, dtype=np.int32), np.empty(n_routes, dtype=np.int32),
            np.empty(n_stops, dtype=np.int32), np.zeros(n_stops, dtype=np.bool_),
            np.empty(n_stops, dtype=np.int32), np.zeros(n_stops, dtype=np.bool_))


@numba.njit(cache=True, nogil=True, inline="always")
def _routes_to_scan(marked, n_marked, is_marked, stop_route_offsets, stop_route_idx, stop_route_pos,
                    route_ok, first_pos, queue):
    """The allowed routes through the marked stops (which are unmarked), each once in ``queue``
    with its first marked position in ``first_pos`` (-1 elsewhere). Returns the count."""
    n_queue = 0
    for i in range(n_marked):
        s = marked[i]
        is_marked[s] = False
        for j in range(stop_route_offsets[s], stop_route_offsets[s + 1]):
            r = stop_route_idx[j]
            if not route_ok[r]:
                continue
            p = stop_route_pos[j]
            if first_pos[r] < 0:
                queue[n_queue] = r
                n_queue += 1
                first_pos[r] = p
            elif p < first_pos[r]:
                first_pos[r] = p
    return n_queue


@numba.njit(cache=True, nogil=True, inline="always")
def _scan_routes(k, queue, n_queue, first_pos, routes, trip_active, stop_ok, day_shift_s, horizon,
                 best_board, best_vehicle, v_time, v_trip, v_bpos, v_apos, v_layer, improved,
                 is_improved, egress_s_by_stop, target, target_stop, target_kind,
                 board_comp, v_comp, reach_s, reach_comp, reach_list, is_reach, n_reach):
    """Round k's route scans: each queued route from its first marked position (``first_pos``,
    reset to -1), following one current trip per day layer (a previous-day trip's times count
    minus ``day_shift_s``). At each allowed stop, alight (where allowed) from the quicker of the
    two into round k's labels if that beats them, the target and ``horizon``; then hop on
    (where allowed) an earlier trip catchable from round k - 1's ``best_board``. Improved stops
    join ``improved`` (from empty); a stop with an egress updates the target.

    ``routes``: the timetable's (route_stop_offsets, route_stops, route_can_board,
    route_can_alight, route_trip_offsets, stop_time_offsets, arrival_s, departure_s). With
    components (``board_comp`` not empty), a ride's label gets those of the label it was boarded
    from, plus the ride and a trip, and an arrival before ``reach_s`` updates it, ``reach_comp``
    and the list ``reach_list[:n_reach]``. Returns (number of improved stops, n_reach). (At most
    30 arguments: CPython passes more through a tuple, and numba cannot inline such a call.)"""
    (route_stop_offsets, route_stops, route_can_board, route_can_alight, route_trip_offsets,
     stop_time_offsets, arrival_s, departure_s) = routes
    paths = v_trip.shape[0] > 0
    comps = board_comp.shape[0] > 0
    n_rows = best_vehicle.shape[0]
    n_improved = 0
    for qi in range(n_queue):
        r = queue[qi]
        p0 = first_pos[r]
        first_pos[r] = -1
        rs0 = route_stop_offsets[r]
        n_pos = route_stop_offsets[r + 1] - rs0
        t0 = route_trip_offsets[r]
        n_tr = route_trip_offsets[r + 1] - t0
        b0 = stop_time_offsets[r]
        cur0 = -1   # current trip (index in route) of the query day
        cur1 = -1   # current trip of the previous day
        bpos0 = 0   # where they were boarded
        bpos1 = 0
        bdep0 = 0   # and their departure there (in the query's frame)
        bdep1 = 0
        for pos in range(p0, n_pos):
            s = route_stops[rs0 + pos]
            base = b0 + pos * n_tr
            if not stop_ok[s]:
                continue
            if (cur0 >= 0 or cur1 >= 0) and route_can_alight[rs0 + pos]:
                a = UNREACHED
                layer = 0
                if cur0 >= 0:
                    a = arrival_s[base + cur0]
                if cur1 >= 0:
                    a1 = arrival_s[base + cur1] - day_shift_s
                    if a1 < a:
                        a = a1
                        layer = 1
                if a < best_vehicle[k, s] and a < target[k] and a <= horizon:
                    trip = cur0 if layer == 0 else cur1
                    bpos = bpos0 if layer == 0 else bpos1
                    j = k
                    while j < n_rows and best_vehicle[j, s] > a:
                        best_vehicle[j, s] = a
                        j += 1
                    v_time[k, s] = a
                    if paths:
                        v_trip[k, s] = t0 + trip
                        v_bpos[k, s] = bpos
                        v_apos[k, s] = pos
                        v_layer[k, s] = layer
                    if not is_improved[s]:
                        is_improved[s] = True
                        improved[n_improved] = s
                        n_improved += 1
                    e = egress_s_by_stop[s]
                    if e >= 0 and a + e < target[k]:
                        _lower_rows_1d(target, k, a + e)
                        target_stop[k] = s
                        target_kind[k] = _KIND_VEHICLE
                    if comps:
                        b = route_stops[rs0 + bpos]
                        for c in range(_N_COMP):
                            v_comp[k, s, c] = board_comp[k - 1, b, c]
                        v_comp[k, s, _COMP_RIDE] += a - (bdep0 if layer == 0 else bdep1)
                        v_comp[k, s, _COMP_TRIPS] += 1
                        if a < reach_s[s]:
                            reach_s[s] = a
                            for c in range(_N_COMP):
                                reach_comp[s, c] = v_comp[k, s, c]
                            if not is_reach[s]:
                                is_reach[s] = True
                                reach_list[n_reach] = s
                                n_reach += 1
            if route_can_board[rs0 + pos]:
                ready = best_board[k - 1, s]
                if ready != UNREACHED:
                    # the earliest trip of each layer catchable here, if earlier than the current
                    for layer in range(2):
                        cur = cur0 if layer == 0 else cur1
                        need = ready + layer * day_shift_s
                        hi = n_tr if cur < 0 else cur
                        if hi == 0 or departure_s[base + hi - 1] < need:
                            continue
                        lo = base
                        top = base + hi
                        while lo < top:   # the first departure >= need (binary search)
                            mid = (lo + top) >> 1
                            if departure_s[mid] < need:
                                lo = mid + 1
                            else:
                                top = mid
                        t = lo - base
                        while t < hi and (trip_active[t0 + t] & (layer + 1)) == 0:
                            t += 1
                        if t < hi:
                            if layer == 0:
                                cur0 = t
                                bpos0 = pos
                                bdep0 = departure_s[base + t]
                            else:
                                cur1 = t
                                bpos1 = pos
                                bdep1 = departure_s[base + t] - day_shift_s
    return n_improved, n_reach


@numba.njit(cache=True, nogil=True, inline="always")
def _transfer_labels(k, improved, n_improved, is_improved, v_time, stop_slack_s, fp_offsets, fp_to,
                     fp_time_s, stop_ok, horizon, best_board, f_time, f_from, marked, is_marked,
                     egress_s_by_stop, target, target_stop, target_kind, target_via,
                     board_comp, v_comp, reach_s, reach_comp, reach_list, is_reach, n_reach):
    """Round k's transfers from the stops its rides improved (their ``is_improved`` flags are
    cleared): first staying at each stop, boarding its slack later (never where forbidden:
    slack < 0), then one footpath from each, to an allowed stop by ``horizon`` and before the
    target (a stop with an egress updates the target first: a walk-only label may beat the
    footpath's arrival there, but it is no journey). Improved boarding labels are marked.

    With components (``board_comp`` not empty), a boarding label gets those of the ride it
    follows, a footpath's time added to the transfer walk, and a footpath arriving before
    ``reach_s`` updates it, ``reach_comp`` and the list ``reach_list[:n_reach]``. Returns (number
    of marked stops, n_reach)."""
    paths = f_time.shape[0] > 0
    comps = board_comp.shape[0] > 0
    n_rows = best_board.shape[0]
    n_marked = 0
    for i in range(n_improved):
        s = improved[i]
        slack = stop_slack_s[s]
        if slack < 0:
            continue
        t = v_time[k, s] + slack
        end = k
        while end < n_rows and best_board[end, s] > t:
            best_board[end, s] = t
            if comps:
                for c in range(_N_COMP):
                    board_comp[end, s, c] = v_comp[k, s, c]
            end += 1
        if end > k and not is_marked[s]:
            is_marked[s] = True
            marked[n_marked] = s
            n_marked += 1
    for i in range(n_improved):
        s = improved[i]
        is_improved[s] = False
        a = v_time[k, s]
        for j in range(fp_offsets[s], fp_offsets[s + 1]):
            v = fp_to[j]
            t = a + fp_time_s[j]
            if t >= target[k] or t > horizon or not stop_ok[v]:
                continue
            e = egress_s_by_stop[v]
            if e >= 0 and t + e < target[k]:
                _lower_rows_1d(target, k, t + e)
                target_stop[k] = v
                target_kind[k] = _KIND_FOOT
                target_via[k] = s
            if comps and t < reach_s[v]:
                reach_s[v] = t
                for c in range(_N_COMP):
                    reach_comp[v, c] = v_comp[k, s, c]
                reach_comp[v, _COMP_WALK] += fp_time_s[j]
                if not is_reach[v]:
                    is_reach[v] = True
                    reach_list[n_reach] = v
                    n_reach += 1
            end = k
            while end < n_rows and best_board[end, v] > t:
                best_board[end, v] = t
                if comps:
                    for c in range(_N_COMP):
                        board_comp[end, v, c] = v_comp[k, s, c]
                    board_comp[end, v, _COMP_WALK] += fp_time_s[j]
                end += 1
            if end > k:
                if paths:
                    f_time[k, v] = t
                    f_from[k, v] = s
                if not is_marked[v]:
                    is_marked[v] = True
                    marked[n_marked] = v
                    n_marked += 1
    return n_marked, n_reach

