"""Journeys out of the labels (numba kernels): follow a target's recorded labels back into legs,
then turn the kernel's leg rows into a :class:`~engine.transit.journeys.JourneySet`'s columns.

A leg row holds ``_N_LEG_FIELDS`` int32: kind, from, to, depart, arrive, trip, board_pos,
alight_pos, layer.
"""
from __future__ import annotations

import numba
import numpy as np

from engine.transit.journeys import _N_LEG_FIELDS, LEG_ACCESS, LEG_EGRESS, LEG_RIDE, LEG_TRANSFER
from engine.transit.labels import _KIND_FOOT, _KIND_VEHICLE, FROM_ACCESS, UNREACHED


@numba.njit(cache=True, nogil=True)
def _append_leg(legs, n_legs, kind, from_stop, to_stop, dep, arr, trip, bpos, apos, layer):
    if n_legs >= legs.shape[0]:
        bigger = np.empty((legs.shape[0] * 2, _N_LEG_FIELDS), dtype=np.int32)
        bigger[:n_legs] = legs[:n_legs]
        legs = bigger
    legs[n_legs, 0] = kind
    legs[n_legs, 1] = from_stop
    legs[n_legs, 2] = to_stop
    legs[n_legs, 3] = dep
    legs[n_legs, 4] = arr
    legs[n_legs, 5] = trip
    legs[n_legs, 6] = bpos
    legs[n_legs, 7] = apos
    legs[n_legs, 8] = layer
    return legs, n_legs + 1



@numba.njit(cache=True, nogil=True)
def _reconstruct(k, stop, kind, via, tau, legs, n_legs,
                 route_stop_offsets, route_stops, route_trip_offsets, stop_time_offsets,
                 arrival_s, departure_s, trip_route_idx, fp_offsets, fp_to, fp_time_s,
                 stop_slack_s, day_shift_s, egress_s_by_stop, access_stop, access_s,
                 v_time, v_trip, v_bpos, v_apos, v_layer, f_time, f_from):
    """Follow the recorded labels back from the target of round k; append the journey's legs in
    travel order. Returns (legs, n_legs, latest departure from the origin, number of rides).

    Labels only ever improve, so every predecessor found is at least as early as the one the
    label was built on: the journey is feasible even if labels changed since.
    """
    start = n_legs
    j = k
    p = stop
    if kind == _KIND_VEHICLE:
        at = v_time[k, stop]
        legs, n_legs = _append_leg(legs, n_legs, LEG_EGRESS, stop, -1, at,
                                   at + egress_s_by_stop[stop], -1, -1, -1, 0)
    else:  # the last footpath, from `via` (a vehicle label of round k), is not a label itself
        w = 0
        for e in range(fp_offsets[via], fp_offsets[via + 1]):
            if fp_to[e] == stop:
                w = fp_time_s[e]
                break
        at = v_time[k, via] + w
        legs, n_legs = _append_leg(legs, n_legs, LEG_EGRESS, stop, -1, at,
                                   at + egress_s_by_stop[stop], -1, -1, -1, 0)
        legs, n_legs = _append_leg(legs, n_legs, LEG_TRANSFER, via, stop, at - w, at, -1, -1, -1, 0)
        p = via
        kind = _KIND_VEHICLE
    n_rides = 0
    first_ride_dep = 0
    lead_s = 0
    while True:
        if kind == _KIND_FOOT:
            u = f_from[j, p]
            if u == FROM_ACCESS:
                lead_s = f_time[j, p] - tau
                legs, n_legs = _append_leg(legs, n_legs, LEG_ACCESS, -1, p, tau, f_time[j, p],
                                           -1, -1, -1, 0)
                break
            w = 0
            for e in range(fp_offsets[u], fp_offsets[u + 1]):
                if fp_to[e] == p:
                    w = fp_time_s[e]
                    break
            if j == 0:
                # a footpath right after the access: u's own access time, not its best label
                acc_u = UNREACHED
                for i in range(access_stop.shape[0]):
                    if access_stop[i] == u and access_s[i] < acc_u:
                        acc_u = access_s[i]
                legs, n_legs = _append_leg(legs, n_legs, LEG_TRANSFER, u, p, tau + acc_u,
                                           tau + acc_u + w, -1, -1, -1, 0)
                legs, n_legs = _append_leg(legs, n_legs, LEG_ACCESS, -1, u, tau, tau + acc_u,
                                           -1, -1, -1, 0)
                lead_s = acc_u + w
                break
            tu = v_time[j, u]
            legs, n_legs = _append_leg(legs, n_legs, LEG_TRANSFER, u, p, tu, tu + w, -1, -1, -1, 0)
            p = u
            kind = _KIND_VEHICLE
        else:
            trip = v_trip[j, p]
            layer = v_layer[j, p]
            bpos = v_bpos[j, p]
            apos = v_apos[j, p]
            r = trip_route_idx[trip]
            t0 = route_trip_offsets[r]
            n_tr = route_trip_offsets[r + 1] - t0
            b0 = stop_time_offsets[r]
            shift = day_shift_s if layer == 1 else 0
            q = route_stops[route_stop_offsets[r] + bpos]
            d = departure_s[b0 + bpos * n_tr + (trip - t0)] - shift
            a = arrival_s[b0 + apos * n_tr + (trip - t0)] - shift
            legs, n_legs = _append_leg(legs, n_legs, LEG_RIDE, q, p, d, a, trip, bpos, apos, layer)
            n_rides += 1
            first_ride_dep = d
            found = False
            for i in range(j - 1, -1, -1):
                if f_time[i, q] <= d:
                    kind = _KIND_FOOT
                    j = i
                    found = True
                    break
                slack = stop_slack_s[q]
                if i >= 1 and slack >= 0 and v_time[i, q] != UNREACHED and v_time[i, q] + slack <= d:
                    kind = _KIND_VEHICLE
                    j = i
                    found = True
                    break
            p = q
            if not found:  # cannot happen while labels are consistent; keep the output sane
                break
    # reverse the legs into travel order
    lo = start
    hi = n_legs - 1
    while lo < hi:
        for f in range(_N_LEG_FIELDS):
            tmp = legs[lo, f]
            legs[lo, f] = legs[hi, f]
            legs[hi, f] = tmp
        lo += 1
        hi -= 1
    return legs, n_legs, first_ride_dep - lead_s, n_rides



@numba.njit(cache=True, nogil=True)
def _finish_journeys(journeys, legs, backward, route_stop_offsets, trip_route_idx, trip_order):
    """Kernel output -> JourneySet columns: a backward search's legs back into travel order
    (times negated, ends swapped, trips and positions mapped to the forward timetable), then
    waiting moved to the stops: leave the origin just in time for the first ride, walk a
    transfer or the egress as soon as the previous leg arrives."""
    n = journeys.shape[0]
    m = legs.shape[0]
    offsets = np.empty(n + 1, dtype=np.int64)
    for j in range(n):
        offsets[j] = journeys[j, 3]
    offsets[n] = m
    kind = np.empty(m, dtype=np.int8)
    frm = np.empty(m, dtype=np.int32)
    to = np.empty(m, dtype=np.int32)
    dep = np.empty(m, dtype=np.int32)
    arr = np.empty(m, dtype=np.int32)
    trip = np.empty(m, dtype=np.int32)
    bpos = np.empty(m, dtype=np.int32)
    apos = np.empty(m, dtype=np.int32)
    day_offset = np.empty(m, dtype=np.int8)
    for j in range(n):
        lo = offsets[j]
        hi = offsets[j + 1]
        for i in range(lo, hi):
            src = (lo + hi - 1 - i) if backward else i
            k = legs[src, 0]
            t = legs[src, 5]
            if backward:
                if k == LEG_ACCESS:
                    k = LEG_EGRESS
                elif k == LEG_EGRESS:
                    k = LEG_ACCESS
                frm[i] = legs[src, 2]
                to[i] = legs[src, 1]
                dep[i] = -legs[src, 4]
                arr[i] = -legs[src, 3]
                if t >= 0:
                    r = trip_route_idx[t]
                    n_pos = route_stop_offsets[r + 1] - route_stop_offsets[r]
                    bpos[i] = n_pos - 1 - legs[src, 7]
                    apos[i] = n_pos - 1 - legs[src, 6]
                    t = trip_order[t]
                else:
                    bpos[i] = -1
                    apos[i] = -1
            else:
                frm[i] = legs[src, 1]
                to[i] = legs[src, 2]
                dep[i] = legs[src, 3]
                arr[i] = legs[src, 4]
                bpos[i] = legs[src, 6]
                apos[i] = legs[src, 7]
            kind[i] = k
            trip[i] = t
            day_offset[i] = -legs[src, 8]
        # re-time: a footpath right after the access and the access end at the next departure
        first_ride = lo
        while first_ride < hi and kind[first_ride] != LEG_RIDE:
            first_ride += 1
        for i in range(first_ride - 1, lo - 1, -1):
            dur = arr[i] - dep[i]
            arr[i] = dep[i + 1]
            dep[i] = arr[i] - dur
        for i in range(first_ride + 1, hi):
            if kind[i] != LEG_RIDE:
                dur = arr[i] - dep[i]
                dep[i] = arr[i - 1]
                arr[i] = dep[i] + dur
    depart = np.empty(n, dtype=np.int32)
    arrive = np.empty(n, dtype=np.int32)
    n_trips = np.empty(n, dtype=np.int32)
    for j in range(n):
        depart[j] = dep[offsets[j]]
        arrive[j] = arr[offsets[j + 1] - 1]
        n_trips[j] = journeys[j, 2]
    return depart, arrive, n_trips, offsets, kind, frm, to, dep, arr, trip, bpos, apos, day_offset

