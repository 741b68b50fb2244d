"""Street-level advice for a car trip: which street zones to try, in which order, and where to go
if they are all full (``engine.parking.search_route`` finds the order).

The candidates are the ``DEFAULT_ROUTE_ZONES`` street zones nearest the destination on foot among
the car trip's candidates (drive and walk already measured by ``modes_car``). Each zone's p(free)
is the forecast (``engine.parking``) on a grid of instants after departure, so the route reads it
when the driver passes. A zone without any occupancy data (the common case: kerbside is rarely
counted) gets a prior: the street's occupied share is uncertain, Beta-distributed with mean
:data:`PRIOR_OCCUPANCY` (0.85, the usual occupancy of busy unpriced kerbside: Shoup 2005) and
concentration :data:`PRIOR_CONCENTRATION` (10: streets differ, some full, some with room), and a
driver finds a space unless all ``n`` are taken: ``p = 1 - B(a + n, b) / B(a, b)`` with
``a = 0.85 * 10``, ``b = 0.15 * 10``. A 3-space zone gets 36 %, a 32-space one 89 %, a
74-space one 96 %: never "almost certain" on a guess. The forecast says so (``p_basis``
``prior``).

Giving up the street after the last zone costs the drive from it to the best car-park candidate
plus that car park's expected search and walk; without one, ``SearchTimeModel.full_wait_s`` of
cruising and the last zone's walk. The route is advised when its expected total is no worse
than the car park the forecast alone would choose.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from engine.model import ZONE_LEFT, ZONE_RIGHT, Parking
from engine.parking.choice import (
    NO_CHOICE,
    FacilityChoice,
    chance_words,
    facility_label,
    local_hhmm,
    outlook,
)
from engine.parking.forecasting import ForecastBasis
from engine.parking.search_route import DEFAULT_ROUTE_ZONES, SearchRoute, search_route

PRIOR_OCCUPANCY = 0.85
"""Mean occupied share of a street zone with no occupancy data."""

PRIOR_CONCENTRATION = 10.0
"""a + b of the Beta prior of a zone's occupied share (lower: streets differ more)."""

ADVICE_MIN_P_REACH = 0.02
"""Zones the driver reaches with a lower chance are kept in the route's list but left out of
the sentence (they matter only when every earlier zone is full)."""

ROUTE_BIN_S = 300.0
"""Grid step (s) of the p(free) read along the route."""

ROUTE_HORIZON_S = 3600.0
"""The grid covers this long after departure (later passes read its last value)."""


@dataclass(frozen=True)
class ZoneAdvice:
    """The advised route: candidate rows of its zones in order, and what giving up means."""

    route: SearchRoute
    rows: np.ndarray            # route stop -> choice row
    p_basis: list               # route stop -> "live" | "profile" | "prior"
    giveup_row: int             # choice row of the car park to go to when all are full, or NO_CHOICE


def prior_p_free(spaces) -> np.ndarray:
    """p(free) of zones of ``spaces`` spaces with no occupancy data (module docstring)."""
    n = np.asarray(spaces, dtype=np.float64)
    a = PRIOR_OCCUPANCY * PRIOR_CONCENTRATION
    b = PRIOR_CONCENTRATION - a
    log_all_taken = gammaln(a + n) + gammaln(a + b) - gammaln(a) - gammaln(a + b + n)
    return 1.0 - np.exp(log_all_taken)


def _p_grid(parking: Parking, facility_idx: np.ndarray, base_utc_s: int, policy, live, now_utc_s
            ) -> tuple[np.ndarray, list]:
    """p(free) (zones x bins) from ``base_utc_s`` every ROUTE_BIN_S, and each zone's basis."""
    n_bins = int(ROUTE_HORIZON_S // ROUTE_BIN_S) + 1
    grid = np.empty((facility_idx.size, n_bins))
    basis = np.empty((facility_idx.size, n_bins), dtype=np.int8)
    for b in range(n_bins):
        view = outlook(parking, facility_idx, base_utc_s + int(b * ROUTE_BIN_S), policy=policy,
                       live=live, now_utc_s=now_utc_s)
        grid[:, b], basis[:, b] = view.p_free, view.basis
    spaces = np.maximum(np.asarray(parking.capacity)[facility_idx], 1).astype(np.float64)
    unknown = basis == ForecastBasis.UNKNOWN
    prior = np.broadcast_to(prior_p_free(spaces)[:, None], grid.shape)
    grid = np.where(unknown, prior, grid)
    names = []
    for k in range(facility_idx.size):
        b = int(basis[k, 0])
        names.append("prior" if b == ForecastBasis.UNKNOWN
                     else "live" if b == ForecastBasis.LIVE else "profile")
    return np.clip(grid, 0.0, 1.0), names


def _giveup(choice: FacilityChoice, is_zone: np.ndarray, zrows: np.ndarray, between: np.ndarray,
            full_wait_s: float) -> tuple[np.ndarray, np.ndarray, int]:
    """(drive and search, walk) after giving up at each zone, and the car-park row used most
    (not a street zone, not avoided), or NO_CHOICE when cruising is all that is left."""
    others = np.flatnonzero(~is_zone & ~choice.avoided)
    drive = np.full(zrows.size, full_wait_s)
    walk = choice.walk_s[zrows].copy()
    if others.size == 0:
        return drive, walk, NO_CHOICE
    search = choice.outlook.expected_search_s[others]
    cost = between[np.ix_(zrows, others)] + search[None, :] + choice.walk_s[others][None, :]
    best = np.argmin(cost, axis=1)
    ok = np.isfinite(cost[np.arange(zrows.size), best])
    drive[ok] = (between[zrows, others[best]] + search[best])[ok]
    walk[ok] = choice.walk_s[others[best]][ok]
    counts = np.bincount(best[ok], minlength=others.size) if ok.any() else np.zeros(1, int)
    return drive, walk, int(others[int(np.argmax(counts))]) if ok.any() else NO_CHOICE


def zone_advice(parking: Parking, choice: FacilityChoice, between: np.ndarray, *, base_utc_s: int,
                policy, live=None, now_utc_s=None) -> ZoneAdvice | None:
    """The search route over the street zones among ``choice``'s candidates, or None when there
    is none (no zone, none reachable). ``between`` (candidates x candidates, s) are the drives
    between candidates; ``base_utc_s`` the departure."""
    if parking.zones is None or choice.n_candidates == 0:
        return None
    is_zone = np.isin(choice.facility_idx, np.asarray(parking.zones.facility_idx))
    zrows = np.flatnonzero(is_zone)
    if zrows.size == 0:
        return None
    zrows = zrows[np.lexsort((zrows, choice.walk_s[zrows]))][:DEFAULT_ROUTE_ZONES]
    grid, basis = _p_grid(parking, choice.facility_idx[zrows].astype(np.int64), base_utc_s, policy,
                          live, now_utc_s)
    g_drive, g_walk, giveup_row = _giveup(choice, is_zone, zrows, between,
                                          policy.search.full_wait_s)
    route = search_route(choice.drive_s[zrows], between[np.ix_(zrows, zrows)],
                         choice.walk_s[zrows], grid, bin_s=ROUTE_BIN_S, park_s=policy.park_s,
                         giveup_drive_s=g_drive, giveup_walk_s=g_walk)
    if route is None:
        return None
    return ZoneAdvice(route=route, rows=zrows[route.order],
                      p_basis=[basis[int(k)] for k in route.order], giveup_row=giveup_row)


def better_than_car_park(advice: ZoneAdvice | None, choice: FacilityChoice) -> bool:
    """Whether the street route is advised over the forecast's chosen facility."""
    if advice is None:
        return False
    if choice.chosen == NO_CHOICE:
        return True
    return advice.route.expected_total_s <= float(choice.total_s[choice.chosen]) + 1e-6


def advice_object(parking: Parking, choice: FacilityChoice, advice: ZoneAdvice, timezone: str,
                  base_utc_s: int, geometry: tuple[np.ndarray, np.ndarray]) -> dict:
    """What the PARK leg says about the route: the sentence, the zones in order, the figures."""
    route, zones = advice.route, parking.zones
    zone_of = {int(f): z for z, f in enumerate(np.asarray(zones.facility_idx))}
    stops, words = [], []
    for i, row in enumerate(advice.rows):
        f = int(choice.facility_idx[row])
        z = zone_of[f]
        p = float(route.p_free[i])
        name = facility_label(parking, f)
        street = str(zones.street_name[z]) or name  # "right side" means nothing at the wheel
        if route.p_reach[i] >= ADVICE_MIN_P_REACH:
            words.append(f"{'park in' if i == 0 else 'else continue to'} {street} "
                         f"({chance_words(p)})")
        stops.append({
            "facility_id": str(parking.facility_ids[f]), "name": name,
            "street": street,
            "side": {ZONE_LEFT: "left", ZONE_RIGHT: "right"}.get(int(zones.side[z])),
            "capacity": int(parking.capacity[f]), "capacity_estimated": _estimated(parking, f),
            "fee": {1: True, 0: False}.get(int(zones.fee[z])),
            "maxstay_s": None if math.isinf(zones.maxstay_s[z]) else float(zones.maxstay_s[z]),
            "pass_local": local_hhmm(timezone, base_utc_s + int(round(route.pass_s[i]))),
            "p_space_free": round(p, 3), "p_basis": advice.p_basis[i],
            "p_reach": round(float(route.p_reach[i]), 3), "walk_s": round(float(choice.walk_s[row]), 1),
        })
    then = (facility_label(parking, int(choice.facility_idx[advice.giveup_row]))
            if advice.giveup_row != NO_CHOICE else None)
    words.append(f"else {'go to ' + then if then else 'keep looking in the streets nearby'}")
    sentence = ", ".join(words)
    return {
        "advice": sentence[0].upper() + sentence[1:] + ".",
        "zones": stops, "then": then,
        "p_all_full": round(route.p_street_full, 3),
        "expected_total_s": round(route.expected_total_s, 1),
        "expected_search_s": round(route.expected_search_s, 1),
        "expected_walk_s": round(route.expected_walk_s, 1),
        "geometry": {"type": "LineString",
                     "coordinates": [[round(float(a), 6), round(float(b), 6)]
                                     for a, b in zip(*geometry, strict=True)]},
    }


def _estimated(parking: Parking, f: int) -> bool:
    flags = parking.capacity_estimated
    return bool(flags[f]) if flags is not None else False
