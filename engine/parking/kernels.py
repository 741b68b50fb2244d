"""numba kernels of the occupancy forecaster: local time, the profile at an instant, the deviation
from it, the two-state Kalman filter, and the forecast of every (facility, instant) row.

The Python faces are in the sibling modules (:mod:`engine.parking.profile`,
:mod:`engine.parking.deviation`, :mod:`engine.parking.forecasting`); the model is described in
:mod:`engine.parking.forecasting`. Kernels take flat arrays and write into ``*_out`` arrays.
"""
from __future__ import annotations

import math

import numba
import numpy as np

# Level spread assumed for a facility with an observation but no profile: log(1.1 cap / 0.1 cap)
# = 2.4 is the whole range; 0.7 is the spread of a uniform level over it.
_NO_PROFILE_LEVEL_SPREAD = 0.7
# A deviation beyond this many units is clipped (robust Kalman update): far outside the Gaussian
# model, such a reading is as likely a glitch or an event as a new level; unclipped, one bad
# reading would bend forecasts for weeks through the long-lived part.
_DEVIATION_CLIP = 6.0
_DEVIATION_CLIP_LEVEL = 2.5   # ... but never closer than this to the profile, in level units


@numba.njit(cache=True, nogil=True)
def _day_type(day, holiday_days):
    i = np.searchsorted(holiday_days, day)
    if i < holiday_days.shape[0] and holiday_days[i] == day:
        return 2
    weekday = (day + 3) % 7
    if weekday == 6:
        return 2
    if weekday == 5:
        return 1
    return 0


@numba.njit(cache=True, nogil=True)
def _local_time(t, tz_transitions, tz_offsets):
    local = t + tz_offsets[np.searchsorted(tz_transitions, t, side="right") - 1]
    day = local // 86_400
    return day, local - day * 86_400


@numba.njit(cache=True, nogil=True)
def _profile_at(free_mean, free_std, f, day, second, bin_s, holiday_days):
    """(mean, std) of facility f's profile at a local instant, interpolated between bin centres."""
    n_bins = free_mean.shape[2]
    u = second / bin_s - 0.5
    b0 = int(math.floor(u))
    w = u - b0
    day0 = day
    day1 = day
    b1 = b0 + 1
    if b0 < 0:
        b0 += n_bins
        day0 = day - 1
    if b1 >= n_bins:
        b1 -= n_bins
        day1 = day + 1
    d0 = _day_type(day0, holiday_days)
    d1 = _day_type(day1, holiday_days)
    mean = (1.0 - w) * free_mean[f, d0, b0] + w * free_mean[f, d1, b1]
    std = (1.0 - w) * free_std[f, d0, b0] + w * free_std[f, d1, b1]
    return mean, std


@numba.njit(cache=True, nogil=True)
def _profile_values(mean, std, facility_idx, time_utc_s, tz_transitions, tz_offsets, bin_s,
                    holiday_days, mean_out, std_out):
    for i in range(facility_idx.shape[0]):
        day, second = _local_time(time_utc_s[i], tz_transitions, tz_offsets)
        mean_out[i], std_out[i] = _profile_at(mean, std, facility_idx[i], day, second, bin_s,
                                              holiday_days)


@numba.njit(cache=True, nogil=True)
def _deviation(level, mean, std, deviation_scale, threshold_level):
    """The deviation of a level from the profile, in units of sqrt(std x facility scale), clipped.

    The unit is the geometric mean of the bin's spread and the facility's typical spread: a
    deviation measured in the bin's own spread alone overshoots when carried from a calm hour
    (7:00) to a busy one (11:00), one measured in the facility's spread alone ignores that busy
    hours vary more. On a validation split inside the training period (fit January-April, score
    May-June) the mix beat both pure forms on MAE at every horizon. Deviations are clipped to
    +-_DEVIATION_CLIP, except a reading at or below the full threshold: "full" is the one signal
    a parking forecast must not discard, and believing a false one only costs a detour.
    """
    unit = math.sqrt(std * deviation_scale)
    z = (level - mean) / unit
    # The clip never binds within _DEVIATION_CLIP_LEVEL of the profile: where the profile is
    # tight (a car park always full at 15:00) a handful of units is a few spaces, and a fresh
    # reading of 90 free would be cut back to "full".
    clip = max(_DEVIATION_CLIP, _DEVIATION_CLIP_LEVEL / unit)
    if level <= threshold_level:
        return min(z, clip)
    return min(max(z, -clip), clip)


@numba.njit(cache=True, nogil=True)
def _kf_predict(a, b, paa, pab, pbb, dt_s, var_short, var_long, short_s, long_s):
    """Advance the two AR(1) parts of the deviation by dt_s seconds."""
    fa = math.exp(-dt_s / short_s)
    fb = math.exp(-dt_s / long_s)
    return (a * fa, b * fb, paa * fa * fa + var_short * (1.0 - fa * fa), pab * fa * fb,
            pbb * fb * fb + var_long * (1.0 - fb * fb))


@numba.njit(cache=True, nogil=True)
def _kf_update(a, b, paa, pab, pbb, z, var_noise):
    """Assimilate an observed deviation z = short + long + noise."""
    s = paa + pbb + 2.0 * pab + var_noise
    ka = (paa + pab) / s
    kb = (pab + pbb) / s
    innovation = z - a - b
    return (a + ka * innovation, b + kb * innovation, paa - ka * ka * s, pab - ka * kb * s,
            pbb - kb * kb * s)


@numba.njit(cache=True, nogil=True)
def _assimilate_kernel(level_mean, level_std, level_offset, full_threshold, bin_s, holiday_days,
                       tz_transitions, tz_offsets, capacity, facility_idx, time_utc_s,
                       free_spaces, reported_full, deviation_scale, nugget, short_weight, short_s,
                       long_s, st_time, st_short, st_long, st_cov,
                       write_rows, row_time, row_short, row_long, row_cov):
    """Run each row's observation through its facility's filter (state arrays updated in place).

    Rows must be in time order within a facility; a row not newer than the facility's state,
    with an impossible count or at a facility without profile changes nothing. With write_rows,
    row_* receive the facility's state after each row.
    """
    var_short = nugget * short_weight
    var_long = nugget * (1.0 - short_weight)
    var_noise = 1.0 - nugget
    for i in range(facility_idx.shape[0]):
        f = facility_idx[i]
        t = time_utc_s[i]
        x = free_spaces[i]
        cap = capacity[f]
        if t > st_time[f] and x >= 0 and (cap <= 0 or x <= cap):
            day, second = _local_time(t, tz_transitions, tz_offsets)
            mean, std = _profile_at(level_mean, level_std, f, day, second, bin_s, holiday_days)
            if not math.isnan(mean):
                if reported_full[i]:
                    x = min(x, math.floor(full_threshold[f]))
                z = _deviation(math.log(x + level_offset[f]), mean, std, deviation_scale[f],
                               math.log(full_threshold[f] + level_offset[f]))
                if st_time[f] == -1:
                    a, b, paa, pab, pbb = 0.0, 0.0, var_short, 0.0, var_long
                else:
                    a, b, paa, pab, pbb = _kf_predict(
                        st_short[f], st_long[f], st_cov[f, 0], st_cov[f, 1], st_cov[f, 2],
                        t - st_time[f], var_short, var_long, short_s, long_s)
                a, b, paa, pab, pbb = _kf_update(a, b, paa, pab, pbb, z, var_noise)
                st_time[f] = t
                st_short[f] = a
                st_long[f] = b
                st_cov[f, 0] = paa
                st_cov[f, 1] = pab
                st_cov[f, 2] = pbb
        if write_rows:
            row_time[i] = st_time[f]
            row_short[i] = st_short[f]
            row_long[i] = st_long[f]
            row_cov[i, 0] = st_cov[f, 0]
            row_cov[i, 1] = st_cov[f, 1]
            row_cov[i, 2] = st_cov[f, 2]


@numba.njit(cache=True, nogil=True)
def _normal_cdf(z):
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


@numba.njit(cache=True, nogil=True)
def _forecast_kernel(level_mean, level_std, level_offset, full_threshold, full_spread, bin_s,
                     holiday_days, tz_transitions, tz_offsets, capacity,
                     facility_idx, at_utc_s, obs_time_utc_s, obs_free, obs_full, obs_since,
                     stuck_after_s, st_time, st_short, st_long, st_cov, deviation_scale,
                     now_utc_s, stale_after_s,
                     nugget, short_weight, short_s, long_s, full_persistence_s, unknown_p_free,
                     full_wait_s, busy_search_s, busy_occupancy,
                     expected_free_out, free_std_out, p_full_out, search_out, basis_out):
    """One forecast per row (see engine.parking.forecasting's docstring). Writes the *_out arrays."""
    var_short = nugget * short_weight
    var_long = nugget * (1.0 - short_weight)
    var_noise = 1.0 - nugget
    for i in range(facility_idx.shape[0]):
        f = facility_idx[i]
        t = at_utc_s[i]
        cap = capacity[f]
        c = level_offset[f]
        k = full_threshold[f]
        threshold_level = math.log(k + c)
        s_k = full_spread[f]
        t0 = obs_time_utc_s[i]
        x0 = obs_free[i]
        have_obs = t0 != -1 and x0 >= 0 and (cap <= 0 or x0 <= cap)  # False for NaN
        if have_obs and obs_full[i]:
            x0 = min(x0, math.floor(k))   # the reserve left when reported full is not for us
        ts = st_time[i]
        have_state = ts != -1
        latest = max(t0 if have_obs else -1, ts if have_state else -1)
        stuck = obs_since[i] != -1 and now_utc_s[i] - obs_since[i] > stuck_after_s
        fresh = latest != -1 and now_utc_s[i] - latest <= stale_after_s and not stuck
        day, second = _local_time(t, tz_transitions, tz_offsets)
        mean, std = _profile_at(level_mean, level_std, f, day, second, bin_s, holiday_days)
        m = math.nan
        s = math.nan
        expected = math.nan
        spread = math.nan
        p_full = 1.0 - unknown_p_free
        basis = 0
        if not math.isnan(mean):
            mz = 0.0
            vz = 1.0
            basis = 1
            if fresh:
                a, b, paa, pab, pbb = 0.0, 0.0, var_short, 0.0, var_long
                t_ref = -1
                if have_state:
                    a, b = st_short[i], st_long[i]
                    paa, pab, pbb = st_cov[i, 0], st_cov[i, 1], st_cov[i, 2]
                    t_ref = ts
                if have_obs and (not have_state or t0 > ts):
                    day0, second0 = _local_time(t0, tz_transitions, tz_offsets)
                    mean0, std0 = _profile_at(level_mean, level_std, f, day0, second0, bin_s,
                                              holiday_days)
                    if not math.isnan(mean0):
                        if have_state:
                            a, b, paa, pab, pbb = _kf_predict(a, b, paa, pab, pbb, t0 - ts,
                                                              var_short, var_long, short_s, long_s)
                        z0 = _deviation(math.log(x0 + c), mean0, std0, deviation_scale[f],
                                        threshold_level)
                        a, b, paa, pab, pbb = _kf_update(a, b, paa, pab, pbb, z0, var_noise)
                        t_ref = t0
                if t_ref != -1:
                    a, b, paa, pab, pbb = _kf_predict(a, b, paa, pab, pbb, max(t - t_ref, 0),
                                                      var_short, var_long, short_s, long_s)
                    mz = a + b
                    vz = paa + pbb + 2.0 * pab + var_noise
                    basis = 2
            m = mean + math.sqrt(std * deviation_scale[f]) * mz
            s = std * math.sqrt(max(vz, 0.0))
            expected = math.exp(m + 0.5 * s * s) - c
            spread = math.sqrt(math.expm1(s * s)) * math.exp(m + 0.5 * s * s)
            expected = max(expected, 0.0)
            if cap > 0:
                expected = min(expected, cap)
            p_full = _normal_cdf((threshold_level - m) / math.sqrt(s * s + s_k * s_k))
            if fresh and have_obs and (obs_full[i] or x0 <= k):
                # A fresh "full" persists as a state, not as a level: the level model blurs the
                # few spaces around the threshold, so the chance the car park is still full is
                # at least the short-lived persistence of deviations.
                p_full = max(p_full, math.exp(-max(t - t0, 0) / full_persistence_s))
        elif fresh and have_obs:
            # No profile: persistence, its information fading with the correlation of deviations.
            h = max(t - t0, 0)
            rho = nugget * (short_weight * math.exp(-h / short_s)
                            + (1.0 - short_weight) * math.exp(-h / long_s))
            m = math.log(x0 + c)
            s = _NO_PROFILE_LEVEL_SPREAD * math.sqrt(max(1.0 - rho * rho, 0.0))
            expected = x0
            spread = (x0 + c) * math.sqrt(math.expm1(s * s))
            p_live = _normal_cdf((threshold_level - m) / math.sqrt(s * s + s_k * s_k))
            p_full = rho * p_live + (1.0 - rho) * (1.0 - unknown_p_free)
            basis = 2
        busy = 0.0
        if cap > 0 and not math.isnan(expected):
            ramp = ((1.0 - expected / cap) - busy_occupancy) / (1.0 - busy_occupancy)
            busy = busy_search_s * min(max(ramp, 0.0), 1.0)
        expected_free_out[i] = expected
        free_std_out[i] = spread
        p_full_out[i] = p_full
        search_out[i] = p_full * full_wait_s + (1.0 - p_full) * busy
        basis_out[i] = basis
