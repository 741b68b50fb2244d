"""The live feed's state: each facility's latest observation and its filtered deviation.

:class:`LiveObservations` is updated in place as the feed reports; with the parking given, each
new observation also advances the facility's Kalman state (:mod:`engine.parking.deviation`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.model import Parking
from engine.parking.deviation import NO_OBSERVATION, DeviationState, _assimilate_rows

SILENCE_RESTARTS_RUN_S = 3 * 3600
"""A reading after this long without one starts a new run of its count: a feed that resumes with
the count it last had (a bundle's history ending months ago, a feed down for a night) says nothing
about a stuck sensor, which is a count repeated by readings that keep coming."""


@dataclass(frozen=True)
class LiveObservations:
    """The latest live observation of each facility, updated in place as the feed reports.

    Arrays are indexed by facility_idx; a facility without observation has ``time_utc_s``
    ``NO_OBSERVATION`` and NaN ``free_spaces``. ``deviation`` is the filtered deviation from the
    profile, advanced by :meth:`update` when it is given the parking (else forecasts use the
    latest observation alone). ``unchanged_since_utc_s`` tells a stuck sensor: a count unchanged
    for more than ``STUCK_AFTER_S`` is not used.
    """

    time_utc_s: np.ndarray          # facility_idx -> instant of the observation (int64 s since epoch)
    free_spaces: np.ndarray         # facility_idx -> free spaces observed (float64), NaN if none
    capacity: np.ndarray            # facility_idx -> capacity reported with it (int32), -1 unknown
    full: np.ndarray                # facility_idx -> the operator reported it full (bool)
    unchanged_since_utc_s: np.ndarray  # facility_idx -> first observation of the current count
    deviation: DeviationState       # facility_idx -> Kalman state of the deviation

    @classmethod
    def empty(cls, n_facilities: int) -> LiveObservations:
        return cls(time_utc_s=np.full(n_facilities, NO_OBSERVATION, dtype=np.int64),
                   free_spaces=np.full(n_facilities, np.nan),
                   capacity=np.full(n_facilities, -1, dtype=np.int32),
                   full=np.zeros(n_facilities, dtype=bool),
                   unchanged_since_utc_s=np.full(n_facilities, NO_OBSERVATION, dtype=np.int64),
                   deviation=DeviationState.empty(n_facilities))

    @classmethod
    def from_history(cls, parking: Parking, until_utc_s=None) -> LiveObservations:
        """Start a live feed from ``parking.history``: each facility's latest observation at or
        before ``until_utc_s`` (default: all), with its deviation filtered through the history.

        Raises ValueError when the parking has no history.
        """
        history = parking.history
        if history is None:
            raise ValueError("LiveObservations.from_history: the parking has no history")
        live = cls.empty(parking.n_facilities)
        t = np.asarray(history.time_utc_s, dtype=np.int64)
        rows = np.flatnonzero(t <= (np.iinfo(np.int64).max if until_utc_s is None else until_utc_s))
        full = (np.asarray(history.free_spaces)[rows] == 0) if history.status_full is None else (
            np.asarray(history.status_full, dtype=bool)[rows])
        live.update(np.asarray(history.facility_idx)[rows], t[rows],
                    np.asarray(history.free_spaces)[rows], np.asarray(history.capacity)[rows], full,
                    parking=parking)
        return live

    @property
    def n_facilities(self) -> int:
        return int(self.time_utc_s.shape[0])

    def update(self, facility_idx, time_utc_s, free_spaces, capacity=None, full=None, *,
               parking: Parking | None = None) -> int:
        """Record observations (arrays or scalars); each facility keeps its newest one.

        Observations not newer than the one held are ignored. With ``parking`` (its profile and
        capacity), every new observation also advances the facility's deviation state, in time
        order. Returns how many observations were new. Raises ValueError naming the argument for
        an unknown facility_idx, a negative or NaN free_spaces, or arrays of different lengths.
        """
        f, t, x, c, full = self._checked_rows(facility_idx, time_utc_s, free_spaces, capacity, full)
        order = np.lexsort((t, f))
        order = order[t[order] > self.time_utc_s[f[order]]]
        if order.size == 0:
            return 0
        if parking is not None and parking.profile is not None:
            _assimilate_rows(parking.profile, parking.capacity, f[order], t[order], x[order],
                             full[order], self.deviation, None)
        since, last = self._unchanged_since(f[order], t[order], x[order])
        pick = order[last]
        self.unchanged_since_utc_s[f[pick]] = since[last]
        self.time_utc_s[f[pick]] = t[pick]
        self.free_spaces[f[pick]] = x[pick]
        self.capacity[f[pick]] = c[pick]
        self.full[f[pick]] = full[pick]
        return int(order.size)

    def _checked_rows(self, facility_idx, time_utc_s, free_spaces, capacity, full):
        """(facility_idx, time, free spaces, capacity, full) broadcast to one length and checked
        (the errors of :meth:`update`)."""
        f = np.atleast_1d(np.asarray(facility_idx, dtype=np.int64))
        try:
            t, x, c, full = np.broadcast_arrays(
                f, np.asarray(time_utc_s, dtype=np.int64), np.asarray(free_spaces, dtype=np.float64),
                np.asarray(-1 if capacity is None else capacity, dtype=np.int32),
                np.asarray(False if full is None else full, dtype=bool))[1:]
        except ValueError:
            raise ValueError("LiveObservations.update: facility_idx, time_utc_s, free_spaces, "
                             "capacity and full must have one length") from None
        if f.size and (f.min() < 0 or f.max() >= self.n_facilities):
            raise ValueError(f"LiveObservations.update: facility_idx must be in "
                             f"0..{self.n_facilities - 1}")
        if np.isnan(x).any() or (x < 0).any():
            raise ValueError("LiveObservations.update: free_spaces must be >= 0 and not NaN")
        return f, t, x, c, full

    def _unchanged_since(self, fs, ts, xs) -> tuple[np.ndarray, np.ndarray]:
        """(row -> first instant of its facility's current count, row is its facility's last) of
        new observations sorted by facility, then time, following on the counts held."""
        rows = np.arange(fs.size)
        first = np.ones(fs.size, dtype=bool)
        first[1:] = fs[1:] != fs[:-1]
        previous = np.empty(fs.size)
        previous[1:] = xs[:-1]
        previous[first] = self.free_spaces[fs[first]]     # NaN (none yet) differs from any count
        previous_t = np.empty(fs.size, dtype=np.int64)
        previous_t[1:] = ts[:-1]
        previous_t[first] = self.time_utc_s[fs[first]]
        changed = (xs != previous) | (ts - previous_t > SILENCE_RESTARTS_RUN_S)
        group_first = np.maximum.accumulate(np.where(first, rows, 0))
        last_change = np.maximum.accumulate(np.where(changed, rows, -1))
        since = np.where(last_change >= group_first, ts[np.maximum(last_change, 0)],
                         self.unchanged_since_utc_s[fs])
        last = np.ones(fs.size, dtype=bool)
        last[:-1] = first[1:]             # the next row starts another facility
        return since, last
