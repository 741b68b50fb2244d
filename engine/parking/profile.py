"""Reading a fitted occupancy profile: its values at instants and the level scale the kernels use.

The level of a facility is ``log(free + c)``, ``c = LEVEL_OFFSET_SHARE * capacity`` (see
:mod:`engine.parking.forecasting` for the model). A profile fitted by
:func:`engine.parking.fit.fit_occupancy_profile` holds its level arrays; an older one is
converted by the delta method (:func:`_scale`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from engine.model import OccupancyProfile
from engine.parking.kernels import _profile_values
from engine.parking.local_time import _offset_table_for

LEVEL_OFFSET_SHARE = 0.1
"""c of the level log(free + c), as a share of capacity (at least 1 space). Chosen on a
validation split inside the training period (fit January-April, score May-June, with the
single-observation blend): offsets from 0.02 to 0.5 all calibrate p_full where a Gaussian on the
count over-forecast "full" by 2-3 times; larger offsets give a slightly lower MAE, smaller ones
a slightly lower Brier score."""


# Threshold of "full" for a facility without enough full reports: no space left (0.5 space),
# with a spread of a quarter of a space.
_EMPTY_THRESHOLD = 0.5
_EMPTY_THRESHOLD_SPREAD_SPACES = 0.25


# Spread floors: a count is never known better than a space or 1 % of capacity; a level (log)
# never better than 1 %.
_LEVEL_STD_FLOOR = 0.01


def profile_values(profile: OccupancyProfile, facility_idx, time_utc_s, *,
                   level: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) of the profile at instants, interpolated between bin centres.

    Free spaces by default; the level log(free + c) with ``level=True``. NaN for a facility
    without profile. ``facility_idx`` and ``time_utc_s`` broadcast.
    """
    f, t = np.broadcast_arrays(np.asarray(facility_idx, dtype=np.int64),
                               np.asarray(time_utc_s, dtype=np.int64))
    f, t = np.ascontiguousarray(f.ravel()), np.ascontiguousarray(t.ravel())
    transitions, offsets = _offset_table_for(profile.timezone, t)
    if level:
        scale = _scale(profile, np.zeros(profile.free_mean.shape[0]))
        mean_arr, std_arr = scale.level_mean, scale.level_std
    else:
        mean_arr, std_arr = np.asarray(profile.free_mean), np.asarray(profile.free_std)
    mean = np.empty(f.size)
    std = np.empty(f.size)
    _profile_values(mean_arr, std_arr, f, t, transitions, offsets, int(profile.bin_s),
                    _holidays_of(profile), mean, std)
    return mean, std


def _holidays_of(profile: OccupancyProfile) -> np.ndarray:
    return np.ascontiguousarray(profile.holiday_days, dtype=np.int64)


def level_offsets(capacity, max_free_seen=None) -> np.ndarray:
    """c of the level log(free + c) per facility: 10 % of capacity, at least 1 space.

    A facility of unknown capacity (<= 0) uses the most free spaces seen instead, if given.
    """
    cap = np.asarray(capacity, dtype=np.float64)
    if max_free_seen is not None:
        cap = np.where(cap > 0, cap, np.asarray(max_free_seen, dtype=np.float64))
    return np.maximum(1.0, LEVEL_OFFSET_SHARE * np.nan_to_num(cap, nan=0.0))


@dataclass(frozen=True)
class _Scale:
    """The arrays the kernels read, in the dtypes they expect."""

    level_mean: np.ndarray
    level_std: np.ndarray
    offset: np.ndarray
    threshold: np.ndarray
    spread: np.ndarray
    deviation_scale: np.ndarray


def _scale(profile: OccupancyProfile, capacity: np.ndarray) -> _Scale:
    """The level arrays of a profile; derived from free_mean/free_std if it has none."""
    n_fac = profile.free_mean.shape[0]
    offset = (np.asarray(profile.level_offset, dtype=np.float64)
              if profile.level_offset.shape == (n_fac,) else level_offsets(capacity))
    if profile.level_mean.shape == profile.free_mean.shape:
        level_mean, level_std = np.asarray(profile.level_mean), np.asarray(profile.level_std)
    else:  # a profile built without levels: the delta method from free spaces
        base = np.asarray(profile.free_mean, dtype=np.float64) + offset[:, None, None]
        level_mean = np.log(base).astype(np.float32)
        level_std = np.maximum(np.asarray(profile.free_std) / base, _LEVEL_STD_FLOOR).astype(np.float32)
    if profile.full_threshold.shape == (n_fac,) and profile.full_spread.shape == (n_fac,):
        threshold = np.asarray(profile.full_threshold, dtype=np.float64)
        spread = np.asarray(profile.full_spread, dtype=np.float64)
    else:
        threshold = np.full(n_fac, _EMPTY_THRESHOLD)
        spread = _empty_threshold_spread(offset)
    if profile.deviation_scale.shape == (n_fac,):
        deviation_scale = np.asarray(profile.deviation_scale, dtype=np.float64)
    else:
        deviation_scale = _deviation_scales(level_std)
    return _Scale(level_mean, level_std, offset, threshold, spread, deviation_scale)


def _deviation_scales(level_std: np.ndarray) -> np.ndarray:
    """facility -> root mean square of its level std over bins (1 for a facility without any)."""
    var = np.asarray(level_std, dtype=np.float64).reshape(level_std.shape[0], -1) ** 2
    have = np.isfinite(var)
    n = have.sum(axis=1)
    rms = np.sqrt(np.where(have, var, 0.0).sum(axis=1) / np.maximum(n, 1))
    return np.where(n > 0, rms, 1.0)


def _empty_threshold_spread(offset: np.ndarray) -> np.ndarray:
    # A quarter of a space at the threshold, in level units (d log(x + c) = dx / (x + c)).
    return _EMPTY_THRESHOLD_SPREAD_SPACES / (_EMPTY_THRESHOLD + offset)


def observed_p_free(profile: OccupancyProfile | None, facility_idx, at_utc_s
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(share of readings not full, readings behind it) of the profile bin at each instant.

    Interpolated between bin centres like the rest of the profile; NaN and 0 where the profile
    has no readings.
    """
    f = np.asarray(facility_idx, dtype=np.int64)
    if profile is None:
        return np.full(f.shape, np.nan), np.zeros(f.shape)
    # profile_values interpolates the arrays it reads as mean and spread: hand it these two
    shadow = dataclasses.replace(profile, free_mean=profile.p_free,
                                 free_std=np.asarray(profile.n_observations, dtype=np.float32))
    share, n = profile_values(shadow, f, at_utc_s)
    return share, np.nan_to_num(n)
