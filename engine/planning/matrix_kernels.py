"""Numba kernels of the travel-time matrices (``engine.planning.matrix``): the window statistics
of transit against the other modes, the cheapest edge between two nodes, times along a street
search tree, and the car park each origin-destination pair would choose."""
from __future__ import annotations

import numba
import numpy as np

from engine.transit import UNREACHED


@numba.njit(cache=True, nogil=True)
def window_stats(arrival, deps, const_s, max_time_s, ranks, first_out, stats_out):
    """Per pair: travel time (s) at each departure, the quicker of transit (``arrival`` minus
    the departure, UNREACHED = none) and the time-independent modes (``const_s``), inf beyond
    ``max_time_s``; writes the time at the earliest departure (the last, ``deps`` being latest
    first) and the sorted times at ``ranks`` (nearest-rank percentiles)."""
    n_o, n_dep, n_d = arrival.shape
    buf = np.empty(n_dep)
    for o in range(n_o):
        for d in range(n_d):
            c = const_s[o, d]
            for k in range(n_dep):
                a = arrival[o, k, d]
                t = np.inf if a == UNREACHED else float(a - deps[k])
                if c < t:
                    t = c
                if t > max_time_s:
                    t = np.inf
                buf[k] = t
            first_out[o, d] = buf[n_dep - 1]
            if ranks.shape[0]:
                buf.sort()
                for j in range(ranks.shape[0]):
                    stats_out[j, o, d] = buf[ranks[j]]


@numba.njit(cache=True, nogil=True)
def cheapest_edges(indptr, indices, cost, tails, heads, out_cost):
    """out_cost[i] = least cost of an edge tails[i] -> heads[i] (inf when there is none)."""
    for i in range(tails.shape[0]):
        best = np.inf
        for e in range(indptr[tails[i]], indptr[tails[i] + 1]):
            if indices[e] == heads[i] and cost[e] < best:
                best = cost[e]
        out_cost[i] = best


@numba.njit(cache=True, nogil=True)
def times_along_tree(order, pred_edge, edge_tail, time_s, time_out):
    """Travel time along the search tree, nodes in order of cost (sources keep their time)."""
    for v in order:
        e = pred_edge[v]
        if e >= 0:
            time_out[v] = time_out[edge_tail[e]] + time_s[e]


@numba.njit(cache=True, nogil=True)
def car_choice(drive, search, p_free, walk, between, min_p_free, park_s, chosen_out):
    """For each origin o and destination d, the facility ``engine.parking.choice.choose_facility``
    chooses among those reachable both ways: the least expected total
    ``drive + park + walk + search`` plus the diversion when full,
    ``(1 - p_free) * (min over the others not avoided of [drive between + their search + their
    walk] - walk)``, never one with p_free below ``min_p_free``; ties to the higher p_free, then
    the lower index. Writes the facility's column, or -1."""
    n_o, n_f = drive.shape
    n_d = walk.shape[1]
    for o in range(n_o):
        for d in range(n_d):
            best_total = np.inf
            best_p = -1.0
            best_i = -1
            for i in range(n_f):
                if not (np.isfinite(drive[o, i]) and np.isfinite(walk[i, d])):
                    continue
                if p_free[o, i] < min_p_free:
                    continue
                total = (drive[o, i] + park_s + walk[i, d]) + search[o, i]
                onward = np.inf
                for j in range(n_f):
                    if j == i or p_free[o, j] < min_p_free:
                        continue
                    if not (np.isfinite(drive[o, j]) and np.isfinite(walk[j, d])):
                        continue
                    v = between[i, j] + (search[o, j] + walk[j, d])
                    if v < onward:
                        onward = v
                if np.isfinite(onward):
                    total = total + (1.0 - p_free[o, i]) * (onward - walk[i, d])
                if total < best_total or (total == best_total and p_free[o, i] > best_p):
                    best_total = total
                    best_p = p_free[o, i]
                    best_i = i
            chosen_out[o, d] = best_i
