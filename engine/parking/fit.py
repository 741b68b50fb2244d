"""Fitting the occupancy profile from a history: :func:`fit_occupancy_profile`.

Per facility, day type and time-of-day bin: the mean and spread of the free spaces and of the
level, the share of readings that found a space; per facility: the full threshold (a probit on
the level); for the whole network: how long "full" lasts and the correlation of deviations from
the profile. The model is described in :mod:`engine.parking.forecasting`.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.special

from engine.model import DayType, OccupancyHistory, OccupancyProfile
from engine.parking.deviation import _rho
from engine.parking.kernels import _DEVIATION_CLIP
from engine.parking.local_time import _SECONDS_PER_DAY, _zone, day_types, local_day_and_second
from engine.parking.profile import (
    _EMPTY_THRESHOLD,
    _LEVEL_STD_FLOOR,
    _deviation_scales,
    _empty_threshold_spread,
    level_offsets,
    profile_values,
)
from engine.parking.readings import STUCK_AFTER_S, usable_readings

DEFAULT_BIN_S = 3600
"""Width of a profile bin (s): Montpellier's feed reports about once an hour."""


MIN_FULL_EVENTS = 3
"""Full reports a facility needs before its own full threshold is fitted."""


# A bin's variance is shrunk towards its facility and day type's pooled within-bin variance with
# this weight (pseudo-observations): single-observation bins get a sensible spread.
_VARIANCE_PRIOR_N = 3.0


# Lags (hours) at which the correlation of deviations is measured to fit rho(h).
_CORRELATION_LAGS_H = (0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 10, 12, 18, 24, 36, 48, 72, 96, 120,
                       168, 240, 336)
_MIN_CORRELATION_PAIRS = 200
_MIN_NUGGET = 0.5


# Full readings (times lags) needed to fit how long "full" lasts; fewer: the default stands.
_MIN_FULL_PERSISTENCE_PAIRS = 30


def _bin_stats(key: np.ndarray, values: np.ndarray, n: np.ndarray, n_bins: int):
    """(mean, std) per bin; variances shrunk towards the pooled within-bin variance of the row."""
    size = n.size
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(key, values, minlength=size) / n
        sq_dev = np.bincount(key, (values - mean[key]) ** 2, minlength=size)
        row = np.arange(size) // n_bins          # (facility, day type)
        dof = np.maximum(n - 1, 0)
        pooled = (np.bincount(row, sq_dev, minlength=size // n_bins)
                  / np.maximum(np.bincount(row, dof, minlength=size // n_bins), 1))
        var = (sq_dev + _VARIANCE_PRIOR_N * pooled[row]) / (dof + _VARIANCE_PRIOR_N)
    mean[n == 0] = np.nan
    var[n == 0] = np.nan
    return mean, np.sqrt(var)


def _fill_missing_bins(arrays: list[np.ndarray], n: np.ndarray) -> None:
    """Fill bins without observations: neighbours of the same day type, then other day types."""
    n_fac, n_types, n_bins = n.shape
    max_gap = max(1, n_bins // 8)  # interpolate over gaps up to 3 hours
    bins = np.arange(n_bins)
    for f in range(n_fac):
        for d in range(n_types):
            have = n[f, d] > 0
            if have.all() or not have.any():
                continue
            known = np.flatnonzero(have)
            dist = np.abs(bins[:, None] - known[None, :])
            dist = np.minimum(dist, n_bins - dist).min(axis=1)  # circular distance to data
            fill = ~have & (dist <= max_gap)
            for arr in arrays:
                arr[f, d, fill] = np.interp(bins[fill], known, arr[f, d, known], period=n_bins)
    donors = {DayType.WEEKDAY: (DayType.SATURDAY, DayType.SUNDAY_HOLIDAY),
              DayType.SATURDAY: (DayType.WEEKDAY, DayType.SUNDAY_HOLIDAY),
              DayType.SUNDAY_HOLIDAY: (DayType.SATURDAY, DayType.WEEKDAY)}
    for d, order in donors.items():
        for donor in order:
            take = np.isnan(arrays[0][:, d]) & ~np.isnan(arrays[0][:, donor])
            for arr in arrays:
                arr[:, d][take] = arr[:, donor][take]


def _fit_full_threshold(level: np.ndarray, full: np.ndarray, offset: float,
                        top_level: float) -> tuple[float, float]:
    """(k spaces, s_k level units) of P(full | level y) = Phi((log(k + c) - y) / s_k), by ML."""
    s_min = float(_empty_threshold_spread(np.asarray(offset)))
    y = full.astype(bool)

    def nll(params):
        kl, log_s = params
        zz = (kl - level) / math.exp(log_s)
        return -(scipy.special.log_ndtr(zz[y]).sum() + scipy.special.log_ndtr(-zz[~y]).sum())

    low = math.log(_EMPTY_THRESHOLD + offset)
    k0 = max(float(np.median(level[y])), low)
    s0 = max(s_min, float(np.std(level[y])))
    res = scipy.optimize.minimize(nll, x0=(k0, math.log(s0)), method="L-BFGS-B",
                                  bounds=((low, max(top_level, low + 1e-6)),
                                          (math.log(s_min), math.log(10.0))))
    kl, log_s = res.x
    return float(math.exp(kl) - offset), float(math.exp(log_s))


def _fit_correlation(profile: OccupancyProfile, facility_idx, time_utc_s, level):
    """Fit rho(h) to the correlation of level deviations at lags (pooled over facilities).

    Returns (nugget, short_weight, short_s, long_s), or None with too few pairs or a history
    that barely deviates from its own profile: there the correlation of noise at the spread floor
    says nothing about how long a real deviation lasts, and the defaults (fitted on Montpellier)
    stand. The nugget is kept >= _MIN_NUGGET: a count read by a car park's barrier is mostly
    signal, so a fresh "full" must not be written off as noise.
    """
    mean, std = profile_values(profile, facility_idx, time_utc_s, level=True)
    ok = np.isfinite(mean) & (std > 0)
    if not ok.any() or np.median(std[ok]) <= 1.5 * _LEVEL_STD_FLOOR:
        return None
    f, t = facility_idx[ok], time_utc_s[ok]
    scale = _deviation_scales(profile.level_std)[f]
    z = np.clip((level[ok] - mean[ok]) / np.sqrt(std[ok] * scale), -_DEVIATION_CLIP, _DEVIATION_CLIP)
    if z.size < 2:
        return None
    key = f.astype(np.int64) * (1 << 40) + (t - t.min())   # sorted: by facility, then time
    lags, corr, weight = [], [], []
    for lag_h in _CORRELATION_LAGS_H:
        lag = int(lag_h * 3600)
        j = np.searchsorted(key, key + lag)               # first observation at least lag later
        i = np.flatnonzero(j < key.size)
        j = j[i]
        good = (f[j] == f[i]) & (t[j] - t[i] <= lag + max(1800, lag // 10))
        i, j = i[good], j[good]
        if i.size < _MIN_CORRELATION_PAIRS:
            continue
        den = math.sqrt(float(np.dot(z[i], z[i])) * float(np.dot(z[j], z[j])))
        if den > 0:
            lags.append(float(np.mean(t[j] - t[i])))
            corr.append(float(np.dot(z[i], z[j])) / den)
            weight.append(math.sqrt(i.size))
    if len(lags) < 4:
        return None
    lags, corr, weight = map(np.asarray, (lags, corr, weight))
    res = scipy.optimize.least_squares(
        lambda p: weight * (_rho(lags, *p) - corr),
        x0=(0.95, 0.5, 4 * 3600.0, 5 * 86_400.0),
        bounds=((_MIN_NUGGET, 0.0, 600.0, 6 * 3600.0), (1.0, 1.0, 2 * 86_400.0, 120 * 86_400.0)),
        x_scale=(0.1, 0.1, 3600.0, 86_400.0))
    return tuple(float(v) for v in res.x)


def _fit_full_persistence(facility_idx, time_utc_s, full) -> float | None:
    """Time constant (s) of P(still full h later | full now) ~ exp(-h / tau), from the history.

    Pairs (a full reading, the first reading of the same facility at least h later) at several
    lags; None with fewer than _MIN_FULL_PERSISTENCE_PAIRS pairs (the default stands).
    """
    if not full.any():
        return None
    key = facility_idx.astype(np.int64) * (1 << 40) + (time_utc_s - time_utc_s.min())
    lags, share, weight = [], [], []
    for lag_h in (0.25, 0.5, 1, 1.5, 2, 3, 4, 6):
        lag = int(lag_h * 3600)
        j = np.searchsorted(key, key + lag)
        i = np.flatnonzero((j < key.size) & full)
        j = j[i]
        good = (facility_idx[j] == facility_idx[i]) & (time_utc_s[j] - time_utc_s[i] <= lag + 1800)
        i, j = i[good], j[good]
        if i.size:
            lags.append(float(np.mean(time_utc_s[j] - time_utc_s[i])))
            share.append(float(full[j].mean()))
            weight.append(math.sqrt(i.size))
    if sum(w * w for w in weight) < _MIN_FULL_PERSISTENCE_PAIRS:
        return None
    lags, share, weight = map(np.asarray, (lags, share, weight))
    res = scipy.optimize.least_squares(lambda p: weight * (np.exp(-lags / p[0]) - share),
                                       x0=(3600.0,), bounds=((300.0,), (12 * 3600.0,)),
                                       x_scale=(3600.0,))
    return float(res.x[0])


def fit_occupancy_profile(history: OccupancyHistory, capacity, timezone: str, *,
                          bin_s: int = DEFAULT_BIN_S, holiday_days=(),
                          stuck_after_s: float = STUCK_AFTER_S) -> OccupancyProfile:
    """Fit the occupancy profile, full thresholds and deviation correlation from a history.

    ``capacity`` is facility_idx -> spaces (``Parking.capacity``; <= 0 unknown); ``timezone`` the
    IANA zone whose local days and hours the profile follows; ``holiday_days`` local dates (days
    since 1970-01-01) that count as Sundays: give them for the fitted period *and* the period
    to be forecast (they are stored in the profile). Full means ``free_spaces == 0`` or
    ``history.status_full``.

    Observations are left out (and counted in ``excluded_observations``) when the count is
    negative or above the capacity reported with it (else the facility's), when that capacity is
    more than twice or less than half the facility's (a glitch: Montpellier reports 1000 spaces
    for a 64-space car park for a few hours), or inside a run of an unchanged count longer than
    ``stuck_after_s`` (a stuck sensor). A facility left without observations has a NaN profile:
    unknown to the forecaster.

    Raises ValueError naming the argument for an unknown time zone, a ``bin_s`` that does not
    divide a day, arrays of different lengths or a facility_idx outside ``capacity``.
    """
    capacity = np.asarray(capacity, dtype=np.int64)
    n_fac = capacity.shape[0]
    bin_s = int(bin_s)
    if bin_s <= 0 or _SECONDS_PER_DAY % bin_s:
        raise ValueError(f"fit_occupancy_profile: bin_s={bin_s} must divide 86400")
    _zone(timezone)
    f, t, x, cap_obs, status_full = _sorted_history(history, n_fac)
    holidays = np.unique(np.asarray(holiday_days, dtype=np.int64))

    valid = usable_readings(f, t, x, cap_obs, capacity[f], stuck_after_s)
    excluded = np.bincount(f[~valid], minlength=n_fac).astype(np.int32)
    f, t, x, cap_obs, status_full = f[valid], t[valid], x[valid], cap_obs[valid], status_full[valid]
    full = (x == 0) | status_full
    max_free = np.zeros(n_fac)
    np.maximum.at(max_free, f, x)
    offset = level_offsets(capacity, max_free)
    level = np.log(x + offset[f])

    bins = _BinnedHistory.of(f, t, x, level, full, cap_obs, capacity, timezone, holidays, bin_s)
    threshold, spread = _fit_full_thresholds(f, level, full, offset)
    profile = OccupancyProfile(
        bin_s=bin_s, free_mean=bins.free_mean.astype(np.float32),
        free_std=bins.free_std.astype(np.float32), p_free=bins.p_free.astype(np.float32),
        occupancy_mean=bins.occupancy.astype(np.float32), n_observations=bins.n.astype(np.int32),
        fitted_from_utc_s=int(t.min()) if t.size else 0,
        fitted_to_utc_s=int(t.max()) if t.size else 0,
        timezone=timezone, holiday_days=holidays, level_offset=offset.astype(np.float32),
        level_mean=bins.level_mean.astype(np.float32), level_std=bins.level_std.astype(np.float32),
        full_threshold=threshold.astype(np.float32), full_spread=spread.astype(np.float32),
        deviation_scale=_deviation_scales(bins.level_std).astype(np.float32),
        excluded_observations=excluded)
    profile = _with_full_persistence(profile, history)
    return _with_deviation_correlation(profile, f, t, level)


def _sorted_history(history: OccupancyHistory, n_fac: int):
    """(facility_idx, time_utc_s, free_spaces, capacity, status_full) of a history, checked and
    sorted by facility, then time. Raises ValueError naming the array that does not fit."""
    f = np.asarray(history.facility_idx, dtype=np.int64)
    t = np.asarray(history.time_utc_s, dtype=np.int64)
    x = np.asarray(history.free_spaces, dtype=np.float64)
    cap_obs = np.asarray(history.capacity, dtype=np.float64)
    status_full = (np.zeros(f.size, dtype=bool) if history.status_full is None
                   else np.asarray(history.status_full, dtype=bool))
    for name, arr in (("time_utc_s", t), ("free_spaces", x), ("capacity", cap_obs),
                      ("status_full", status_full)):
        if arr.shape != f.shape:
            raise ValueError(f"fit_occupancy_profile: history.{name} has shape {arr.shape}, "
                             f"expected {f.shape}")
    if f.size and (f.min() < 0 or f.max() >= n_fac):
        raise ValueError(f"fit_occupancy_profile: history.facility_idx must be in 0..{n_fac - 1} "
                         "(one capacity per facility)")
    order = np.lexsort((t, f))
    return f[order], t[order], x[order], cap_obs[order], status_full[order]


@dataclass(frozen=True)
class _BinnedHistory:
    """The profile's per-bin arrays, (facility, day type, bin) each, missing bins filled."""

    n: np.ndarray               # readings in the bin (float64)
    free_mean: np.ndarray
    free_std: np.ndarray
    level_mean: np.ndarray
    level_std: np.ndarray
    p_free: np.ndarray          # share of the bin's readings not full
    occupancy: np.ndarray       # mean occupied share, over readings with a reported capacity

    @classmethod
    def of(cls, f, t, x, level, full, cap_obs, capacity, timezone: str, holidays,
           bin_s: int) -> _BinnedHistory:
        n_fac = capacity.shape[0]
        n_bins = _SECONDS_PER_DAY // bin_s
        n_types = len(DayType)
        shape = (n_fac, n_types, n_bins)
        day, second = local_day_and_second(t, timezone)
        key = (f * n_types + day_types(day, holidays)) * n_bins + second // bin_s
        n = np.bincount(key, minlength=n_fac * n_types * n_bins).astype(np.float64)
        free_mean, free_std = _bin_stats(key, x, n, n_bins)
        level_mean, level_std = _bin_stats(key, level, n, n_bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            has_cap = cap_obs > 0
            occupancy = (np.bincount(key[has_cap], 1.0 - x[has_cap] / cap_obs[has_cap], minlength=n.size)
                         / np.bincount(key[has_cap], minlength=n.size))
            p_free = 1.0 - np.bincount(key, full, minlength=n.size) / n
        arrays = [a.reshape(shape) for a in (free_mean, free_std, level_mean, level_std)]
        free_mean, free_std, level_mean, level_std = arrays
        floor = np.maximum(1.0, 0.01 * np.maximum(capacity, 0))[:, None, None]
        np.maximum(free_std, floor, out=free_std)       # NaN stays NaN
        np.maximum(level_std, _LEVEL_STD_FLOOR, out=level_std)
        _fill_missing_bins(arrays, n.reshape(shape))
        return cls(n.reshape(shape), free_mean, free_std, level_mean, level_std,
                   p_free.reshape(shape), occupancy.reshape(shape))


def _fit_full_thresholds(f, level, full, offset) -> tuple[np.ndarray, np.ndarray]:
    """(k spaces, s_k level units) per facility: fitted where it has MIN_FULL_EVENTS full
    readings (and not only full ones), "no space left" otherwise. Rows sorted by facility."""
    n_fac = offset.shape[0]
    threshold = np.full(n_fac, _EMPTY_THRESHOLD)
    spread = _empty_threshold_spread(offset)
    bounds = np.searchsorted(f, np.arange(n_fac + 1))
    for fac in range(n_fac):
        lo, hi = bounds[fac], bounds[fac + 1]
        if full[lo:hi].sum() >= MIN_FULL_EVENTS and not full[lo:hi].all():
            threshold[fac], spread[fac] = _fit_full_threshold(
                level[lo:hi], full[lo:hi], offset[fac], float(level[lo:hi].max()))
    return threshold, spread


def _with_full_persistence(profile: OccupancyProfile, history: OccupancyHistory) -> OccupancyProfile:
    """The profile with how long "full" lasts fitted on every reading of the history (the
    default kept when there are too few)."""
    full_all = ((np.asarray(history.free_spaces) == 0) if history.status_full is None
                else np.asarray(history.status_full, dtype=bool))
    order = np.lexsort((np.asarray(history.time_utc_s), np.asarray(history.facility_idx)))
    tau = _fit_full_persistence(np.asarray(history.facility_idx)[order],
                                np.asarray(history.time_utc_s, dtype=np.int64)[order],
                                full_all[order])
    if tau is not None:
        profile = dataclasses.replace(profile, full_persistence_s=tau)
    return profile


def _with_deviation_correlation(profile: OccupancyProfile, f, t, level) -> OccupancyProfile:
    """The profile with rho(h) fitted on the usable readings (the defaults kept when it cannot)."""
    fitted = _fit_correlation(profile, f, t, level)
    if fitted is not None:
        nugget, short_weight, short_s, long_s = fitted
        profile = dataclasses.replace(profile, deviation_nugget=nugget,
                                      deviation_short_weight=short_weight,
                                      deviation_short_s=short_s, deviation_long_s=long_s)
    return profile
