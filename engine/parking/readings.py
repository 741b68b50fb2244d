"""Which occupancy readings can be trusted: impossible counts, capacity glitches, stuck sensors.

Used by the fitter (:mod:`engine.parking.fit`) and by scenarios that refit a profile; the
forecaster applies the same stuck-sensor rule to live counts (``STUCK_AFTER_S``).
"""
from __future__ import annotations

import numpy as np

STUCK_AFTER_S = 2 * 86_400
"""A count that does not change for this long is a stuck sensor: left out of the fit, and a live
count unchanged for longer is not used (Montpellier has six car parks whose count never changes)."""


def unchanged_since(facility_idx, time_utc_s, free_spaces) -> np.ndarray:
    """Row -> instant (s) since which its facility's count has not changed.

    Rows sorted by facility, then time (as in OccupancyHistory).
    """
    facility_idx, free_spaces = np.asarray(facility_idx), np.asarray(free_spaces)
    time_utc_s = np.asarray(time_utc_s, dtype=np.int64)
    starts = _run_starts(facility_idx, free_spaces)
    return time_utc_s[starts][np.cumsum(starts) - 1]


def _run_starts(facility_idx, free_spaces) -> np.ndarray:
    """Rows (sorted by facility, then time) where a run of one unchanged count begins."""
    starts = np.ones(facility_idx.size, dtype=bool)
    starts[1:] = (facility_idx[1:] != facility_idx[:-1]) | (free_spaces[1:] != free_spaces[:-1])
    return starts


def _stuck_mask(facility_idx, time_utc_s, free_spaces, stuck_after_s) -> np.ndarray:
    """Observations inside a run of one unchanged count lasting longer than ``stuck_after_s``."""
    n = facility_idx.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    starts = _run_starts(facility_idx, free_spaces)
    run = np.cumsum(starts) - 1
    ends = np.append(np.flatnonzero(starts)[1:], n) - 1
    span = time_utc_s[ends] - time_utc_s[starts]
    return span[run] > stuck_after_s


def usable_readings(facility_idx, time_utc_s, free_spaces, reported_capacity, capacity,
                    stuck_after_s: float = STUCK_AFTER_S) -> np.ndarray:
    """Which readings the fitter uses (rows sorted by facility, then time): not the impossible
    counts (negative, NaN, above the capacity in force), not those reported with a capacity
    more than twice or under half the facility's (a glitch), not a stuck sensor's (one count
    for longer than ``stuck_after_s``). ``reported_capacity`` <= 0: none reported with the row;
    ``capacity``: the facility's, per row."""
    x = np.asarray(free_spaces, dtype=np.float64)
    cap_obs = np.asarray(reported_capacity, dtype=np.float64)
    cap_f = np.asarray(capacity, dtype=np.float64)
    cap_now = np.where(cap_obs > 0, cap_obs, cap_f)
    valid = (x >= 0) & ~np.isnan(x) & np.where(cap_now > 0, x <= cap_now, True)
    valid &= ~((cap_obs > 0) & (cap_f > 0) & ((cap_obs > 2 * cap_f) | (2 * cap_obs < cap_f)))
    valid &= ~_stuck_mask(np.asarray(facility_idx), np.asarray(time_utc_s, dtype=np.int64), x,
                          stuck_after_s)
    return valid
