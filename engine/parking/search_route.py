"""The search route: the order in which a driver should pass the street zones near the
destination, to park and walk in the least expected time.

Model
-----
A driver heads for zone ``z1``; on reaching it (at ``t1`` seconds after leaving) it has a free
space with probability ``p(z1, t1)``: the driver parks (``park_s``) and walks to the destination
(``walk_s[z1]``). Otherwise the driver drives on to ``z2``, and so on; after the last zone ``zm``
of the route, the driver gives up the street (``giveup_drive_s[zm]``: drive to the best car park
and its expected search, or a cruising allowance) and walks ``giveup_walk_s[zm]``. With
``P0 = 1`` and ``Pi = P(i-1) * (1 - p(zi, ti))`` (the chance the first ``i`` zones are all full),

    E = sum_i P(i-1) * [drive(z(i-1), zi) + p(zi, ti) * (park_s + walk_s[zi])]
        + Pm * (giveup_drive_s[zm] + park_s + giveup_walk_s[zm])

where ``drive(z0, z1)`` is the drive from the origin and ``ti`` the time the driver passes ``zi``
(the sum of the drives before it: each zone's p(free) is read at that instant, so a street that
fills up at 15:30 counts as full for a driver passing at 15:35). Zones are taken as independent
(neighbouring streets are in truth correlated: this flatters a long route a little).

Search
------
The best route over the ``K`` candidates is found exactly by a depth-first enumeration of the
ordered routes of up to ``max_zones`` zones (every prefix is itself a route that gives up after
its last zone), pruned by a bound: the accumulated part of ``E`` only grows as zones are added,
so a prefix whose accumulated part already exceeds the best complete route is dropped. ``K`` is
small (6 by default: at most 1,956 prefixes; 10 is the most allowed), so the enumeration takes
microseconds in numba, and being exact it needs no lookahead heuristic.

Times are seconds; p(free) is given per zone on a grid of instants after departure
(``p_free_bins[k, b]`` at ``b * bin_s``), read by linear interpolation, held flat past the last.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

MAX_ZONES = 10
"""Most candidates a search route enumerates (10! orders are already millions of prefixes)."""

DEFAULT_ROUTE_ZONES = 6
"""Candidates the planner passes by default: the zones nearest the destination on foot."""


@numba.njit(cache=True)
def _p_at(p_free_bins, k, t_s, bin_s):
    """p(free) of zone k at t_s seconds after departure: linear between bins, flat past the ends."""
    n_bins = p_free_bins.shape[1]
    x = t_s / bin_s
    if x <= 0.0:
        return p_free_bins[k, 0]
    b = int(x)
    if b >= n_bins - 1:
        return p_free_bins[k, n_bins - 1]
    w = x - b
    return (1.0 - w) * p_free_bins[k, b] + w * p_free_bins[k, b + 1]


@numba.njit(cache=True)
def _best_route(first_s, between_s, walk_s, p_free_bins, bin_s, park_s, giveup_drive_s,
                giveup_walk_s, max_len, order_out):
    """Exact least expected time route (module docstring). Writes the zones in visiting order
    into order_out[:n] and returns (expected total s, n); n = 0 when no zone is reachable."""
    k_total = first_s.shape[0]
    best = np.inf
    best_len = 0
    path = np.empty(max_len, np.int64)
    cand = np.zeros(max_len + 1, np.int64)
    used = np.zeros(k_total, np.bool_)
    acc = np.zeros(max_len + 1)
    reach = np.ones(max_len + 1)
    clock = np.zeros(max_len + 1)
    depth = 0
    while depth >= 0:
        if depth == max_len or cand[depth] >= k_total:
            depth -= 1                      # every zone tried at this depth: back up
            if depth >= 0:
                used[path[depth]] = False
                cand[depth] += 1
            continue
        k = cand[depth]
        leg = first_s[k] if depth == 0 else between_s[path[depth - 1], k]
        if used[k] or not np.isfinite(leg):
            cand[depth] += 1
            continue
        t = clock[depth] + leg
        p = _p_at(p_free_bins, k, t, bin_s)
        a = acc[depth] + reach[depth] * (leg + p * (park_s + walk_s[k]))
        if a >= best:                       # the accumulated part only grows: prune
            cand[depth] += 1
            continue
        r = reach[depth] * (1.0 - p)
        total = a + r * (giveup_drive_s[k] + park_s + giveup_walk_s[k])
        path[depth] = k
        if total < best:
            best = total
            best_len = depth + 1
            for i in range(depth + 1):
                order_out[i] = path[i]
        used[k] = True
        acc[depth + 1] = a
        reach[depth + 1] = r
        clock[depth + 1] = t
        depth += 1
        cand[depth] = 0
    return best, best_len


@dataclass(frozen=True)
class SearchRoute:
    """The best route over the candidate zones and what to expect along it.

    Arrays run over the zones of the route in visiting order; ``order`` holds candidate rows.
    """

    order: np.ndarray               # stop -> candidate row (int64)
    pass_s: np.ndarray              # stop -> seconds after departure when the driver passes it
    p_free: np.ndarray              # stop -> p(free) at that instant
    p_reach: np.ndarray             # stop -> chance the driver gets that far (earlier ones full)
    expected_total_s: float         # departure to the destination, expected (s)
    expected_walk_s: float          # expected walk after parking (s)
    expected_search_s: float        # expected time past the first zone until parked (s)
    p_street_full: float            # chance every zone of the route is full (the driver gives up)

    @property
    def n_stops(self) -> int:
        return int(self.order.shape[0])


def _checked(name: str, value, shape) -> np.ndarray:
    arr = np.ascontiguousarray(value, dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"search_route: {name} has shape {arr.shape}, expected {shape}")
    if np.isnan(arr).any() or (arr < 0).any():
        raise ValueError(f"search_route: {name} must be >= 0 seconds (inf = unreachable), no NaN")
    return arr


def search_route(first_s, between_s, walk_s, p_free_bins, *, bin_s: float, park_s: float,
                 giveup_drive_s, giveup_walk_s, max_zones: int = DEFAULT_ROUTE_ZONES
                 ) -> SearchRoute | None:
    """The route over ``K`` candidate zones that minimises the expected time to park and walk.

    ``first_s`` (K,) drive from the origin to each zone; ``between_s`` (K, K) drive between zones
    (inf: no way); ``walk_s`` (K,) walk from each zone to the destination; ``p_free_bins`` (K, B)
    p(free) of each zone at ``b * bin_s`` seconds after departure; ``giveup_drive_s`` and
    ``giveup_walk_s`` (K,) what giving up after a zone costs (drive and search, then walk);
    ``park_s`` the manoeuvre. Routes hold at most ``max_zones`` zones (1..MAX_ZONES).
    Returns None when no zone is reachable. Raises ValueError naming the argument for bad shapes,
    negative or NaN times, p outside [0, 1], K above MAX_ZONES.
    """
    first = np.ascontiguousarray(first_s, dtype=np.float64).ravel()
    k = first.size
    if k > MAX_ZONES:
        raise ValueError(f"search_route: {k} candidate zones, at most {MAX_ZONES} are enumerated")
    if not 1 <= int(max_zones) <= MAX_ZONES:
        raise ValueError(f"search_route: max_zones must be 1..{MAX_ZONES}, got {max_zones}")
    between = _checked("between_s", between_s, (k, k))
    first = _checked("first_s", first, (k,))
    walk = _checked("walk_s", walk_s, (k,))
    g_drive = _checked("giveup_drive_s", giveup_drive_s, (k,))
    g_walk = _checked("giveup_walk_s", giveup_walk_s, (k,))
    p = np.ascontiguousarray(p_free_bins, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != k or p.shape[1] < 1:
        raise ValueError(f"search_route: p_free_bins has shape {p.shape}, expected ({k}, bins)")
    if not ((p >= 0) & (p <= 1)).all():
        raise ValueError("search_route: p_free_bins must be probabilities in [0, 1]")
    if not (math.isfinite(bin_s) and bin_s > 0 and math.isfinite(park_s) and park_s >= 0):
        raise ValueError(f"search_route: bin_s must be > 0 and park_s >= 0, got {bin_s}, {park_s}")
    if k == 0:
        return None
    order = np.empty(min(int(max_zones), k), dtype=np.int64)
    total, n = _best_route(first, between, walk, p, float(bin_s), float(park_s), g_drive, g_walk,
                           min(int(max_zones), k), order)
    if n == 0:
        return None
    return _describe(order[:n], first, between, walk, p, float(bin_s), float(park_s), g_walk,
                     float(total))


def _describe(order, first, between, walk, p_bins, bin_s, park_s, g_walk, total) -> SearchRoute:
    """The route's instants, probabilities and expected walk and search (module docstring)."""
    n = order.size
    pass_s, p_free, p_reach = np.zeros(n), np.zeros(n), np.zeros(n)
    clock, reach, exp_walk = 0.0, 1.0, 0.0
    for i, k in enumerate(order):
        clock += first[k] if i == 0 else between[order[i - 1], k]
        p = float(_p_at(p_bins, int(k), clock, bin_s))
        pass_s[i], p_free[i], p_reach[i] = clock, p, reach
        exp_walk += reach * p * walk[k]
        reach *= 1.0 - p
    exp_walk += reach * g_walk[order[-1]]
    search = total - first[order[0]] - park_s - exp_walk
    return SearchRoute(order=order.copy(), pass_s=pass_s, p_free=p_free, p_reach=p_reach,
                       expected_total_s=total, expected_walk_s=exp_walk,
                       expected_search_s=max(0.0, search), p_street_full=reach)
