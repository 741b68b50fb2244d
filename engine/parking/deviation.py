"""Deviations from the profile: their fitted correlation and the Kalman filter that follows them.

A car park emptier than usual at 9:00 is likely emptier than usual at 10:00 and, less so,
tomorrow. The deviation (in level units, see :func:`engine.parking.kernels._deviation`) is the
sum of a short-lived and a long-lived AR(1) part plus noise; :class:`DeviationState` holds the
filtered parts of each facility (or each history row), :func:`deviation_states` runs a history
through the filter. The model is described in :mod:`engine.parking.forecasting`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.model import OccupancyHistory, OccupancyProfile, Parking
from engine.parking.kernels import _assimilate_kernel
from engine.parking.local_time import _offset_table_for
from engine.parking.profile import _holidays_of, _scale

NO_OBSERVATION = -1
"""Time of "no observation" in ``LiveObservations`` and :class:`DeviationState`."""


@dataclass(frozen=True)
class DeviationState:
    """Kalman state of deviations from the profile (level standard deviations), one per row.

    ``short`` and ``long`` are the estimated short- and long-lived parts of the deviation at
    ``time_utc_s`` (the last observation assimilated); ``cov`` their covariance
    (var short, cov, var long).
    """

    time_utc_s: np.ndarray          # -> instant of the state (int64), NO_OBSERVATION if none
    short: np.ndarray               # -> short-lived part (float64)
    long: np.ndarray                # -> long-lived part (float64)
    cov: np.ndarray                 # -> (n, 3) float64: var short, cov short-long, var long

    @classmethod
    def empty(cls, n: int) -> DeviationState:
        return cls(time_utc_s=np.full(n, NO_OBSERVATION, dtype=np.int64), short=np.zeros(n),
                   long=np.zeros(n), cov=np.zeros((n, 3)))

    def take(self, rows) -> DeviationState:
        """The states of some rows (an index array)."""
        return DeviationState(self.time_utc_s[rows], self.short[rows], self.long[rows],
                              self.cov[rows])


def deviation_correlation(profile: OccupancyProfile, lag_s) -> np.ndarray:
    """rho(lag): the fitted correlation of deviations from the profile after ``lag_s`` seconds."""
    h = np.maximum(np.asarray(lag_s, dtype=np.float64), 0.0)
    return _rho(h, profile.deviation_nugget, profile.deviation_short_weight,
                profile.deviation_short_s, profile.deviation_long_s)


def _rho(h, nugget, short_weight, short_s, long_s):
    return nugget * (short_weight * np.exp(-h / short_s) + (1.0 - short_weight) * np.exp(-h / long_s))


def _assimilate_rows(profile: OccupancyProfile, capacity, facility_idx, time_utc_s, free_spaces,
                     reported_full, state: DeviationState, rows: DeviationState | None) -> None:
    capacity = np.ascontiguousarray(capacity, dtype=np.float64)
    scale = _scale(profile, capacity)
    f = np.ascontiguousarray(facility_idx, dtype=np.int64)
    t = np.ascontiguousarray(time_utc_s, dtype=np.int64)
    transitions, offsets = _offset_table_for(profile.timezone, t)
    out = rows if rows is not None else DeviationState.empty(0)
    _assimilate_kernel(scale.level_mean, scale.level_std, scale.offset, scale.threshold,
                       int(profile.bin_s), _holidays_of(profile), transitions, offsets, capacity,
                       f, t, np.ascontiguousarray(free_spaces, dtype=np.float64),
                       np.ascontiguousarray(reported_full, dtype=np.bool_), scale.deviation_scale,
                       float(profile.deviation_nugget), float(profile.deviation_short_weight),
                       float(profile.deviation_short_s), float(profile.deviation_long_s),
                       state.time_utc_s, state.short, state.long, state.cov,
                       rows is not None, out.time_utc_s, out.short, out.long, out.cov)


def deviation_states(parking: Parking, history: OccupancyHistory | None = None) -> DeviationState:
    """The filtered deviation after each observation of a history (default ``parking.history``).

    Row i is the facility's state once observations up to row i are assimilated: the state a
    live feed would hold at that instant. Use it to evaluate forecasts on a past period, or
    ``LiveObservations.from_history`` to start a live feed from recent history. Raises
    ValueError when the parking has no profile or the history is not sorted by facility, time.
    """
    history = parking.history if history is None else history
    if parking.profile is None or history is None:
        raise ValueError("deviation_states: the parking needs a profile and a history")
    f = np.asarray(history.facility_idx, dtype=np.int64)
    t = np.asarray(history.time_utc_s, dtype=np.int64)
    if f.size > 1 and np.any((np.diff(f) < 0) | ((np.diff(f) == 0) & (np.diff(t) < 0))):
        raise ValueError("deviation_states: history must be sorted by facility, then time")
    full = ((np.asarray(history.free_spaces) == 0) if history.status_full is None
            else np.asarray(history.status_full, dtype=bool))
    rows = DeviationState.empty(f.size)
    _assimilate_rows(parking.profile, parking.capacity, f, t, history.free_spaces, full,
                     DeviationState.empty(parking.n_facilities), rows)
    return rows


# ---------------------------------------------------------------------------------------------
