"""Street-zone occupancy from kerbside records: bay sensor stays and meter payments, counted at
regular instants (the zone readings the forecaster then fits like a car park's).

* **Bay sensors** give each stay (arrival, departure) of each bay: a zone's occupied spaces at
  ``t`` are the stays with ``arrival <= t < departure``.
* **Meter payments** give each paid session (start, paid duration): the active paid sessions at
  ``t`` count only the drivers who paid. Occupancy is estimated as ``active / compliance``
  (SFMTA's SFpark evaluation and Jordon et al. 2021 estimate kerbside occupancy from payments
  this way): ``compliance`` is the share of parked cars that hold a valid payment (unpaid stays,
  permits, placards lower it; prepaid time left running after a car leaves raises the apparent
  share), a parameter to be set from a local count. The estimate is clipped to the zone's spaces.

Times are seconds (any common origin: UTC epoch seconds in practice).
"""
from __future__ import annotations

import math

import numpy as np


def active_counts(zone_idx, start_s, end_s, n_zones: int, at_s) -> np.ndarray:
    """(n_zones, n_instants) number of intervals ``[start, end)`` of each zone active at each
    instant ``at_s``. Raises ValueError for arrays of different lengths, a zone index outside
    ``0..n_zones-1`` or an interval ending before it starts."""
    zone = np.asarray(zone_idx, dtype=np.int64).ravel()
    start = np.asarray(start_s, dtype=np.float64).ravel()
    end = np.asarray(end_s, dtype=np.float64).ravel()
    at = np.asarray(at_s, dtype=np.float64).ravel()
    if not zone.shape == start.shape == end.shape:
        raise ValueError(f"active_counts: zone_idx, start_s, end_s have lengths {zone.size}, "
                         f"{start.size}, {end.size}")
    if zone.size and (zone.min() < 0 or zone.max() >= n_zones):
        raise ValueError(f"active_counts: zone_idx must be in 0..{n_zones - 1}")
    if (end < start).any():
        raise ValueError("active_counts: an interval ends before it starts")
    out = np.zeros((n_zones, at.size), dtype=np.int64)
    order = np.argsort(zone, kind="stable")
    bounds = np.searchsorted(zone[order], np.arange(n_zones + 1))
    for z in range(n_zones):
        rows = order[bounds[z]:bounds[z + 1]]
        if rows.size:
            starts, ends = np.sort(start[rows]), np.sort(end[rows])
            out[z] = (np.searchsorted(starts, at, side="right")
                      - np.searchsorted(ends, at, side="right"))
    return out


def occupied_from_payments(active_paid, spaces, compliance: float) -> np.ndarray:
    """Estimated occupied spaces (float) from active paid sessions: ``active / compliance``,
    clipped to ``[0, spaces]``. ``active_paid`` is (zones, instants), ``spaces`` (zones,).
    Raises ValueError when ``compliance`` is not in (0, 1]."""
    if not (math.isfinite(compliance) and 0.0 < compliance <= 1.0):
        raise ValueError(f"occupied_from_payments: compliance must be in (0, 1], got {compliance}")
    active = np.asarray(active_paid, dtype=np.float64)
    cap = np.asarray(spaces, dtype=np.float64).reshape(-1, 1)
    return np.clip(active / compliance, 0.0, cap)
