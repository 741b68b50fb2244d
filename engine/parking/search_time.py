"""Time a driver spends finding a space at a facility: :class:`SearchTimeModel`.

(1 - p_free) x 8 min (the order of Shoup's average cruising time) plus, when there is room, up
to 2 min of searching in a car park more than 85 % occupied. The forecast kernel
(:func:`engine.parking.kernels._forecast_kernel`) applies the same rule row by row.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SearchTimeModel:
    """Time (s) a driver spends finding a space at a facility, and its expectation.

    Realised time: ``full_wait_s`` when the facility is full on arrival (queueing at the entrance
    or cruising for another space); otherwise the search inside the facility, 0 up to
    ``busy_occupancy`` occupied and rising linearly to ``busy_search_s`` at 100 % occupied.
    Expected time: ``(1 - p_free) * full_wait_s + p_free * busy search at the expected occupancy``.
    It is 0 when a facility is surely free and not busy, and grows as p_free falls (strictly,
    as ``full_wait_s > busy_search_s``).

    Constants: ``full_wait_s`` = 480 s is the order of the mean cruising time over the studies
    Shoup reviews (Shoup 2006, "Cruising for parking", Transport Policy 13: several minutes,
    about 8 on average). van Ommeren, Wentink & Rietveld (2012, "Empirical evidence on cruising
    for parking", Transportation Research A 46) find that most trips do not cruise at all and
    the average per trip is well under a minute: hence no search cost while a car park has room
    and is below ``busy_occupancy`` = 0.85, Shoup's target occupancy at which a space or two per
    block stays free. ``busy_search_s`` = 120 s (circling the levels of a nearly full car park)
    is an assumption.
    """

    full_wait_s: float = 480.0
    busy_search_s: float = 120.0
    busy_occupancy: float = 0.85

    def realised_s(self, is_full, occupancy_share) -> np.ndarray:
        """Search time (s) of a driver arriving when the facility is (not) full at that occupancy.

        ``occupancy_share`` is occupied / capacity (0..1; NaN counts as not busy).
        """
        busy = _busy_search_s(np.asarray(occupancy_share, dtype=np.float64), self.busy_search_s,
                              self.busy_occupancy)
        return np.where(np.asarray(is_full, dtype=bool), self.full_wait_s, busy)

    def expected_s(self, p_free, occupancy_share) -> np.ndarray:
        """Expected search time (s) given p_free and the expected occupied share (0..1)."""
        p_free = np.clip(np.asarray(p_free, dtype=np.float64), 0.0, 1.0)
        busy = _busy_search_s(np.asarray(occupancy_share, dtype=np.float64), self.busy_search_s,
                              self.busy_occupancy)
        return (1.0 - p_free) * self.full_wait_s + p_free * busy


def _busy_search_s(occupancy_share: np.ndarray, busy_search_s: float, busy_occupancy: float):
    ramp = (np.nan_to_num(occupancy_share, nan=0.0) - busy_occupancy) / (1.0 - busy_occupancy)
    return busy_search_s * np.clip(ramp, 0.0, 1.0)
