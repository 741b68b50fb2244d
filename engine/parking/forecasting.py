"""Parking availability: an occupancy profile fitted from history, blended with live observations.

The model
---------
*Scale.* The forecaster works on the *level* ``y = log(free + c)`` of a facility, with
``c = LEVEL_OFFSET_SHARE * capacity`` (10 %). Counts near 0 vary less than counts near capacity
and a Gaussian on free spaces puts too much weight on "no space left" (on Montpellier's history
it forecast three times as many full car parks as there were); on the level the Gaussian tails
are calibrated (see the bench's reliability table).

*Profile.* For facility f, day type d (weekday, Saturday, Sunday or public holiday, in the
facility's local time) and time-of-day bin b (an hour by default), the profile holds the mean
and standard deviation of the level (``level_mean``, ``level_std``) and, for display, of the free
spaces (``free_mean``, ``free_std``). Between bin centres it is interpolated linearly (across
midnight into the neighbouring day and its day type): 10:45 mixes the 10:00 and 11:00 bins.

*Deviation.* An observation at t0 deviates from the profile by
``z0 = (y0 - mu(t0)) / sqrt(sd(t0) * scale)``, with ``scale`` the facility's typical level spread
(the unit mixes the hour's spread and the facility's: see :func:`_deviation`); ``z0`` is clipped
to +-6 units (robustness to glitches), but never to less than 2.5 in level units (the whole range
from "full" to "empty" is log(11) = 2.4: where the profile is tight, as in an hour that is always
full, six units are a few spaces and a fresh reading of room must not be cut back to "full"),
and never downwards for readings at or below the full threshold. Deviations
persist: a car park emptier than usual at 9:00 is likely emptier than usual at 10:00 and, less
so, tomorrow (the summer holidays are a weeks-long deviation). Their correlation after a lag h,
fitted on the history, is

    rho(h) = nugget * (w * exp(-h / tau_short) + (1 - w) * exp(-h / tau_long))

i.e. a short-lived part (tau_short: hours), a long-lived part (tau_long: days; about two weeks
on Montpellier), and a share ``1 - nugget`` of noise in each observation. A two-state Kalman
filter (one AR(1) state per part) follows each facility's deviation through its observations
(``LiveObservations.update`` with the parking, or :func:`deviation_states` over a history);
with a single observation it reduces to ``E[z(t0 + h)] = rho(h) * z0``. The long-lived part is
how the forecaster adapts to a new regime (school holidays, works, a new tariff) from the live
feed alone, without a calendar of such periods. The forecast of the level at t is Gaussian with
mean ``m = mu(t) + sqrt(sd(t) * scale) * E[z(t)]`` and standard deviation
``s = sd(t) * sqrt(Var[z(t)])``; back on the count, the expected free spaces are the log-normal
mean ``exp(m + s^2 / 2) - c``, clipped to [0, capacity]. Without a usable observation ``z`` is 0
with variance 1: the profile.

*Full.* Operators report a car park full before the count reaches 0 (Montpellier's feed says
"Full" at 5-10 free spaces in a 64-space car park). Each facility gets a probit threshold fitted
on its history, ``P(full | free = x) = Phi((log(k + c) - log(x + c)) / s_k)`` (k = 0.5 space,
i.e. "full means no space left", for a facility with fewer than ``MIN_FULL_EVENTS`` full
reports). Integrated over the forecast: ``p_full = Phi((log(k + c) - m) / sqrt(s^2 + s_k^2))``;
``p_free = 1 - p_full`` is the probability that a driver arriving at t can enter and park.
Being full is also a *state* that lasts: after a fresh reading at or below the threshold (or
reported "Full"), ``p_full >= exp(-h / full_persistence_s)``, the time constant fitted on the
history as P(still full h later | full now) (35 min on Montpellier January-June; 50 min by
default). On the level scale "0 free" and "3 free" are close, so without this floor a car park
that has just reported full could still look 50-90 % likely to have a space ten minutes later.

*Point mass at full.* A car park that sits at exactly 0 free for hours (a point mass at "full")
is outside the Gaussian family: the level model would give Monaco's derived Parking du Casino
p_free 0.68 at 15:30 where a third of the readings in that hour found a space. A forecast resting
on the profile alone therefore blends the parametric p_free with the share of the bin's readings
that found a space (``OccupancyProfile.p_free``, n readings):
``p = (n * p_observed + PROFILE_PRIOR_N * p_model) / (n + PROFILE_PRIOR_N)``. Forecasts with a
fresh live observation are not blended: the observation says more than the hour's history.

*Unknown.* A facility without profile (no history, or a stuck sensor) and without a recent
observation is *unknown*: ``expected_free`` and ``free_std`` are NaN and ``p_free`` is
``UNKNOWN_P_FREE`` = 0.5, neither "full" (which would exclude it) nor "surely free" (which would
prefer it to a facility known to have room): a planner avoiding facilities below p_free 0.2 keeps
it as a fall-back, and its expected search time (4 min) ranks it behind known free ones. An
observation older than ``STALE_AFTER_S`` (3 h) before *now* is ignored. With an observation but
no profile, the forecast is the observation (persistence), its p_full fading with rho(h) towards
the unknown prior.

*Search time.* :class:`SearchTimeModel`: (1 - p_free) x 8 min (the order of Shoup's average
cruising time) plus, when there is room, up to 2 min of searching in a car park more than 85 %
occupied.

Everything here is numpy, scipy and numba; local time comes from :mod:`zoneinfo`; public holidays
are given by the caller as local dates (``loaders.calendar_days.public_holidays``).
"""
from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

import numpy as np

from engine.model import DayType, OccupancyProfile, Parking
from engine.parking.deviation import NO_OBSERVATION, DeviationState
from engine.parking.kernels import _forecast_kernel
from engine.parking.live import LiveObservations
from engine.parking.local_time import _SECONDS_PER_DAY, _offset_table_for
from engine.parking.profile import _holidays_of, _scale, observed_p_free
from engine.parking.readings import STUCK_AFTER_S
from engine.parking.search_time import SearchTimeModel

STALE_AFTER_S = 3 * 3600
"""A live observation older than this before *now* is ignored (the feed has stopped for it)."""


UNKNOWN_P_FREE = 0.5
"""p_free of an unknown facility: neither full nor surely free (see the module docstring)."""


PROFILE_PRIOR_N = 10.0
"""Pseudo-observations of the parametric p_free when a profile-only forecast is blended with the
observed share of readings that found a space in that bin."""


_DEFAULT_SEARCH = SearchTimeModel()   # frozen: one instance is every call's default


class ForecastBasis(enum.IntEnum):
    """What a forecast rests on; stored in ``ParkingForecast.basis``."""

    UNKNOWN = 0   # no profile and no recent observation: the neutral prior
    PROFILE = 1   # the fitted profile only
    LIVE = 2      # a recent live observation (blended with the profile when there is one)


@dataclass(frozen=True)
class ParkingForecast:
    """Forecast availability, one row per (facility, instant) asked for."""

    facility_idx: np.ndarray        # row -> facility_idx (int32)
    at_utc_s: np.ndarray            # row -> instant forecast (int64 s since epoch)
    expected_free: np.ndarray       # row -> expected free spaces (float64), NaN when unknown
    free_std: np.ndarray            # row -> standard deviation of free spaces, NaN when unknown
    p_free: np.ndarray              # row -> probability that a driver can enter and park (0..1)
    p_full: np.ndarray              # row -> 1 - p_free: reported full or no space left
    expected_search_s: np.ndarray   # row -> expected search or queue time (s), SearchTimeModel
    basis: np.ndarray               # row -> ForecastBasis (int8)

    BASIS_NAMES = tuple(b.name.lower() for b in ForecastBasis)  # 'unknown', 'profile', 'live'

    def basis_names(self) -> np.ndarray:
        """row -> 'unknown', 'profile' or 'live'."""
        return np.asarray(self.BASIS_NAMES)[self.basis]


def forecast_from_observations(profile: OccupancyProfile | None, capacity, facility_idx, at_utc_s,
                               *, obs_time_utc_s=None, obs_free_spaces=None, obs_full=None,
                               obs_unchanged_since_utc_s=None,
                               obs_state: DeviationState | None = None, now_utc_s=None,
                               stale_after_s: float = STALE_AFTER_S,
                               stuck_after_s: float = STUCK_AFTER_S,
                               unknown_p_free: float = UNKNOWN_P_FREE,
                               search: SearchTimeModel = _DEFAULT_SEARCH) -> ParkingForecast:
    """Forecast rows (facility, instant), each with its own latest observation (or none).

    ``facility_idx``, ``at_utc_s``, ``obs_time_utc_s`` (NO_OBSERVATION for none),
    ``obs_free_spaces`` (NaN for none), ``obs_full`` (reported full),
    ``obs_unchanged_since_utc_s`` (first observation of that count: older than ``stuck_after_s``
    before now means a stuck sensor, ignored) and ``now_utc_s`` broadcast to one length;
    ``obs_state`` (one row each, e.g. from :func:`deviation_states`) is the filtered deviation
    up to that observation (without it the observation is used alone).
    ``now_utc_s``, the instant the question is asked (to judge staleness), defaults to the
    newest observation given. ``capacity`` is facility_idx -> spaces (<= 0 unknown); ``profile``
    None means no facility has one. Raises ValueError naming the argument for a facility_idx
    outside ``capacity``, a profile of another number of facilities or an ``obs_state`` of
    another length.
    """
    capacity = np.ascontiguousarray(capacity, dtype=np.float64)
    n_fac = capacity.shape[0]
    f, at, t0, x0, full0, since, now = _observation_rows(
        facility_idx, at_utc_s, obs_time_utc_s, obs_free_spaces, obs_full,
        obs_unchanged_since_utc_s, now_utc_s)
    n = f.size
    if n and (f.min() < 0 or f.max() >= n_fac):
        raise ValueError(f"forecast: facility_idx must be in 0..{n_fac - 1}")
    if profile is None:
        profile = _empty_profile(n_fac)
    elif profile.free_mean.shape[0] != n_fac:
        raise ValueError(f"forecast: the profile has {profile.free_mean.shape[0]} facilities, "
                         f"capacity {n_fac}")
    if obs_state is None:
        obs_state = DeviationState.empty(n)
    elif obs_state.time_utc_s.shape != (n,):
        raise ValueError(f"forecast: obs_state has {obs_state.time_utc_s.shape[0]} rows, "
                         f"expected {n}")
    scale = _scale(profile, capacity)
    transitions, offsets = _offset_table_for(profile.timezone,
                                             np.concatenate((at, t0[t0 != NO_OBSERVATION])))
    expected_free, free_std, p_full, search_s = (np.empty(n) for _ in range(4))
    basis = np.empty(n, dtype=np.int8)
    _forecast_kernel(scale.level_mean, scale.level_std, scale.offset, scale.threshold,
                     scale.spread, int(profile.bin_s), _holidays_of(profile), transitions,
                     offsets, capacity, f, at, t0, x0, full0, since, float(stuck_after_s),
                     np.ascontiguousarray(obs_state.time_utc_s, dtype=np.int64),
                     np.ascontiguousarray(obs_state.short, dtype=np.float64),
                     np.ascontiguousarray(obs_state.long, dtype=np.float64),
                     np.ascontiguousarray(obs_state.cov, dtype=np.float64), scale.deviation_scale, now,
                     float(stale_after_s), float(profile.deviation_nugget),
                     float(profile.deviation_short_weight), float(profile.deviation_short_s),
                     float(profile.deviation_long_s), float(profile.full_persistence_s),
                     float(unknown_p_free), float(search.full_wait_s),
                     float(search.busy_search_s), float(search.busy_occupancy),
                     expected_free, free_std, p_full, search_s, basis)
    _blend_profile_only(profile, capacity, f, at, basis == ForecastBasis.PROFILE, expected_free,
                        p_full, search_s, search)
    return ParkingForecast(facility_idx=f.astype(np.int32), at_utc_s=at, expected_free=expected_free,
                           free_std=free_std, p_free=1.0 - p_full, p_full=p_full,
                           expected_search_s=search_s, basis=basis)


def _observation_rows(facility_idx, at_utc_s, obs_time_utc_s, obs_free_spaces, obs_full,
                      obs_unchanged_since_utc_s, now_utc_s):
    """(facility_idx, at, obs time, obs free, obs full, obs unchanged since, now): the arguments
    of :func:`forecast_from_observations` broadcast to one length, defaults filled in (``now``:
    the newest observation given). Raises ValueError naming an argument of another length."""
    t0 = np.asarray(NO_OBSERVATION if obs_time_utc_s is None else obs_time_utc_s, dtype=np.int64)
    if now_utc_s is None:
        seen = t0[t0 != NO_OBSERVATION]
        now_utc_s = int(seen.max()) if seen.size else 0
    f = np.atleast_1d(np.asarray(facility_idx, dtype=np.int64)).ravel()
    n = f.size if f.size != 1 else max(1, np.size(at_utc_s))
    f = _rows(f, n, np.int64, "facility_idx")
    at = _rows(at_utc_s, n, np.int64, "at_utc_s")
    t0 = _rows(t0, n, np.int64, "obs_time_utc_s")
    x0 = _rows(np.nan if obs_free_spaces is None else obs_free_spaces, n, np.float64, "obs_free_spaces")
    full0 = _rows(False if obs_full is None else obs_full, n, np.bool_, "obs_full")
    since = _rows(NO_OBSERVATION if obs_unchanged_since_utc_s is None else obs_unchanged_since_utc_s,
                  n, np.int64, "obs_unchanged_since_utc_s")
    now = _rows(now_utc_s, n, np.int64, "now_utc_s")
    return f, at, t0, x0, full0, since, now


def _blend_profile_only(profile: OccupancyProfile, capacity: np.ndarray, f, at, from_profile,
                        expected_free, p_full, search_s, search: SearchTimeModel) -> None:
    """Calibrate p_full (and so the search time) of the rows ``from_profile``, in place.

    Forecasts resting on the profile alone (module docstring, *Point mass at full*) are blended
    with the share of that hour's readings that were full.
    """
    if not from_profile.any():
        return
    share, n_obs = observed_p_free(profile, f[from_profile], at[from_profile])
    known = np.isfinite(share) & (n_obs > 0)
    p_model = 1.0 - p_full[from_profile]
    p_blend = np.where(known, (n_obs * np.nan_to_num(share) + PROFILE_PRIOR_N * p_model)
                       / (n_obs + PROFILE_PRIOR_N), p_model)
    p_full[from_profile] = 1.0 - p_blend
    cap = np.asarray(capacity, dtype=np.float64)[f[from_profile]]
    occupancy = np.where(cap > 0, 1.0 - expected_free[from_profile] / np.where(cap > 0, cap, 1.0),
                         np.nan)
    search_s[from_profile] = search.expected_s(p_blend, occupancy)


def _rows(value, n: int, dtype, name: str) -> np.ndarray:
    """A contiguous 1-D array of n rows from a scalar or an array of n values."""
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return np.full(n, arr, dtype=dtype)
    arr = np.ascontiguousarray(arr.ravel())
    if arr.shape[0] != n:
        raise ValueError(f"forecast: {name} has {arr.shape[0]} values, expected 1 or {n}")
    return arr


@functools.lru_cache(maxsize=8)
def _empty_profile(n_facilities: int) -> OccupancyProfile:
    nan = np.full((n_facilities, len(DayType), 1), np.nan, dtype=np.float32)
    return OccupancyProfile(bin_s=_SECONDS_PER_DAY, free_mean=nan, free_std=nan, p_free=nan,
                            occupancy_mean=nan, n_observations=np.zeros(nan.shape, dtype=np.int32))


def forecast(parking: Parking, facility_idx, at_utc_s, *, live: LiveObservations | None = None,
             now_utc_s=None, stale_after_s: float = STALE_AFTER_S,
             stuck_after_s: float = STUCK_AFTER_S, unknown_p_free: float = UNKNOWN_P_FREE,
             search: SearchTimeModel = _DEFAULT_SEARCH) -> ParkingForecast:
    """Availability of facilities at an instant: expected free spaces, p_free, search time.

    ``facility_idx``: an array of facility_idx, or None for every facility. ``at_utc_s``: the
    instant (s since epoch; a scalar, or an array matching ``facility_idx``). ``live``: the latest
    observations (and their filtered deviation), used when younger than ``stale_after_s`` at
    ``now_utc_s`` (default: the newest observation in ``live``, the feed's own clock) and whose
    count changed within ``stuck_after_s``. Example::

        fc = forecast(network.parking, None, arrival_utc_s, live=live, now_utc_s=now)
        usable = fc.p_free >= 0.2

    Raises ValueError naming the argument for a facility_idx out of range or a ``live`` of
    another size.
    """
    n_fac = parking.n_facilities
    f = np.arange(n_fac) if facility_idx is None else np.asarray(facility_idx, dtype=np.int64)
    if live is None:
        return forecast_from_observations(parking.profile, parking.capacity, f, at_utc_s,
                                          now_utc_s=now_utc_s, stale_after_s=stale_after_s,
                                          unknown_p_free=unknown_p_free, search=search)
    if live.n_facilities != n_fac:
        raise ValueError(f"forecast: live has {live.n_facilities} facilities, parking {n_fac}")
    if now_utc_s is None:
        seen = live.time_utc_s[live.time_utc_s != NO_OBSERVATION]
        now_utc_s = int(seen.max()) if seen.size else 0
    if facility_idx is None:    # every facility: the live arrays as they are (no copies)
        t0, x0, full0, state = live.time_utc_s, live.free_spaces, live.full, live.deviation
        since = live.unchanged_since_utc_s
    else:
        f = np.atleast_1d(f)
        if f.size and (f.min() < 0 or f.max() >= n_fac):
            raise ValueError(f"forecast: facility_idx must be in 0..{n_fac - 1}")
        t0, x0, full0 = live.time_utc_s[f], live.free_spaces[f], live.full[f]
        since = live.unchanged_since_utc_s[f]
        state = live.deviation.take(f)
    return forecast_from_observations(
        parking.profile, parking.capacity, f, at_utc_s, obs_time_utc_s=t0, obs_free_spaces=x0,
        obs_full=full0, obs_unchanged_since_utc_s=since, obs_state=state, now_utc_s=now_utc_s,
        stale_after_s=stale_after_s, stuck_after_s=stuck_after_s, unknown_p_free=unknown_p_free,
        search=search)
