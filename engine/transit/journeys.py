"""The journeys a query returns: leg kinds and :class:`JourneySet`, flat arrays with no Python
object per journey or leg.

The kernels write legs as rows of ``_N_LEG_FIELDS`` int32 (see :mod:`engine.transit.reconstruct`);
:func:`engine.transit.reconstruct._finish_journeys` turns them into a JourneySet's columns.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Leg kinds in a JourneySet.
LEG_ACCESS = 0      # origin -> first boarding stop (from the access list)
LEG_RIDE = 1        # one trip from a boarding stop to an alighting stop
LEG_TRANSFER = 2    # a footpath between two stops
LEG_EGRESS = 3      # last stop -> destination (from the egress list)

_N_LEG_FIELDS = 9   # kind, from, to, depart, arrive, trip, board_pos, alight_pos, layer


@dataclass(frozen=True)
class JourneySet:
    """Journeys found by one query, as flat arrays (no Python object per journey or leg).

    Times are seconds after the reference of the query's service day ``day``. A ride on a trip
    of the previous service day has ``leg_day_offset`` -1 and its times already moved into
    ``day``'s frame (subtract ``previous_day_shift_s`` to get its scheduled times). Journey j's
    legs are ``leg_offsets[j]:leg_offsets[j + 1]``, in travel order: access, then rides and
    transfers, then egress. ``depart_s`` is the latest time one can leave the origin (the first
    ride's departure minus its access time); an access leg keeps the time it was searched at.
    """

    day: int
    previous_day_shift_s: int
    depart_s: np.ndarray        # journey -> latest departure from the origin (int32)
    arrive_s: np.ndarray        # journey -> arrival at the destination (int32)
    n_trips: np.ndarray         # journey -> number of rides (transfers + 1)
    leg_offsets: np.ndarray     # journey -> first leg (len n_journeys + 1)
    leg_kind: np.ndarray        # leg -> LEG_ACCESS / LEG_RIDE / LEG_TRANSFER / LEG_EGRESS
    leg_from_stop: np.ndarray   # leg -> stop_idx (-1 for the origin)
    leg_to_stop: np.ndarray     # leg -> stop_idx (-1 for the destination)
    leg_depart_s: np.ndarray    # leg -> departure (ride: scheduled departure at the boarding stop)
    leg_arrive_s: np.ndarray    # leg -> arrival (ride: scheduled arrival at the alighting stop)
    leg_trip_idx: np.ndarray    # leg -> trip_idx of a ride, else -1
    leg_board_pos: np.ndarray   # leg -> position of the boarding stop in the ride's route
    leg_alight_pos: np.ndarray  # leg -> position of the alighting stop in the ride's route
    leg_day_offset: np.ndarray  # leg -> 0 (trip of `day`) or -1 (trip of the previous day)

    @property
    def n_journeys(self) -> int:
        return int(self.depart_s.shape[0])

    @property
    def transfers(self) -> np.ndarray:
        return np.maximum(self.n_trips - 1, 0)

    def earliest(self) -> int:
        """Index of the journey arriving first (fewest trips among ties); -1 when empty."""
        if self.n_journeys == 0:
            return -1
        return int(np.lexsort((self.n_trips, self.arrive_s))[0])

    def legs(self, j: int) -> range:
        return range(int(self.leg_offsets[j]), int(self.leg_offsets[j + 1]))

