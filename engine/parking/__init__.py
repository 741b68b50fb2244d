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

import dataclasses
import datetime as dt
import enum
import functools
import math
import zoneinfo
from dataclasses import dataclass

import numba
import numpy as np
import scipy.optimize
import scipy.special

from engine.model import DayType, OccupancyHistory, OccupancyProfile, Parking

DEFAULT_BIN_S = 3600
"""Width of a profile bin (s): Montpellier's feed reports about once an hour."""

STALE_AFTER_S = 3 * 3600
"""A live observation older than this before *now* is ignored (the feed has stopped for it)."""

STUCK_AFTER_S = 2 * 86_400
"""A count that does not change for this long is a stuck sensor: left out of the fit, and a live
count unchanged for longer is not used (Montpellier has six car parks whose count never changes)."""

UNKNOWN_P_FREE = 0.5
"""p_free of an unknown facility: neither full nor surely free (see the module docstring)."""

MIN_FULL_EVENTS = 3
"""Full reports a facility needs before its own full threshold is fitted."""

LEVEL_OFFSET_SHARE = 0.1
"""c of the level log(free + c), as a share of capacity (at least 1 space). Chosen on a
validation split inside the training period (fit January-April, score May-June, with the
single-observation blend): offsets from 0.02 to 0.5 all calibrate p_full where a Gaussian on the
count over-forecast "full" by 2-3 times; larger offsets give a slightly lower MAE, smaller ones
a slightly lower Brier score."""

NO_OBSERVATION = -1
"""Time of "no observation" in ``LiveObservations`` and :class:`DeviationState`."""

# Threshold of "full" for a facility without enough full reports: no space left (0.5 space),
# with a spread of a quarter of a space.
_EMPTY_THRESHOLD = 0.5
_EMPTY_THRESHOLD_SPREAD_SPACES = 0.25
# A bin's variance is shrunk towards its facility and day type's pooled within-bin variance with
# this weight (pseudo-observations): single-observation bins get a sensible spread.
_VARIANCE_PRIOR_N = 3.0
# Spread floors: a count is never known better than a space or 1 % of capacity; a level (log)
# never better than 1 %.
_LEVEL_STD_FLOOR = 0.01
# Lags (hours) at which the correlation of deviations is measured to fit rho(h).
_CORRELATION_LAGS_H = (0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 10, 12, 18, 24, 36, 48, 72, 96, 120,
                       168, 240, 336)
_MIN_CORRELATION_PAIRS = 200
_MIN_NUGGET = 0.5
PROFILE_PRIOR_N = 10.0
"""Pseudo-observations of the parametric p_free when a profile-only forecast is blended with the
observed share of readings that found a space in that bin."""
# Full readings (times lags) needed to fit how long "full" lasts; fewer: the default stands.
_MIN_FULL_PERSISTENCE_PAIRS = 30
# Level spread assumed for a facility with an observation but no profile: log(1.1 cap / 0.1 cap)
# = 2.4 is the whole range; 0.7 is the spread of a uniform level over it.
_NO_PROFILE_LEVEL_SPREAD = 0.7
# A deviation beyond this many units is clipped (robust Kalman update): far outside the Gaussian
# model, such a reading is as likely a glitch or an event as a new level; unclipped, one bad
# reading would bend forecasts for weeks through the long-lived part.
_DEVIATION_CLIP = 6.0
_DEVIATION_CLIP_LEVEL = 2.5   # ... but never closer than this to the profile, in level units
_SECONDS_PER_DAY = 86_400
_SECONDS_PER_YEAR = 31_556_952  # mean Gregorian year: locates an instant's year for the tz table


class ForecastBasis(enum.IntEnum):
    """What a forecast rests on; stored in ``ParkingForecast.basis``."""

    UNKNOWN = 0   # no profile and no recent observation: the neutral prior
    PROFILE = 1   # the fitted profile only
    LIVE = 2      # a recent live observation (blended with the profile when there is one)


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
        order = np.lexsort((t, f))
        order = order[t[order] > self.time_utc_s[f[order]]]
        if order.size == 0:
            return 0
        if parking is not None and parking.profile is not None:
            _assimilate_rows(parking.profile, parking.capacity, f[order], t[order], x[order],
                             full[order], self.deviation, None)
        fs, ts, xs = f[order], t[order], x[order]
        rows = np.arange(order.size)
        first = np.ones(order.size, dtype=bool)
        first[1:] = fs[1:] != fs[:-1]
        previous = np.empty(order.size)
        previous[1:] = xs[:-1]
        previous[first] = self.free_spaces[fs[first]]     # NaN (none yet) differs from any count
        changed = xs != previous
        group_first = np.maximum.accumulate(np.where(first, rows, 0))
        last_change = np.maximum.accumulate(np.where(changed, rows, -1))
        since = np.where(last_change >= group_first, ts[np.maximum(last_change, 0)],
                         self.unchanged_since_utc_s[fs])
        last = np.ones(order.size, dtype=bool)
        last[:-1] = ~first[1:]
        pick = order[last]
        self.unchanged_since_utc_s[f[pick]] = since[last]
        self.time_utc_s[f[pick]] = t[pick]
        self.free_spaces[f[pick]] = x[pick]
        self.capacity[f[pick]] = c[pick]
        self.full[f[pick]] = full[pick]
        return int(order.size)


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


# ---------------------------------------------------------------------------------------------
# Local time
# ---------------------------------------------------------------------------------------------
def _zone(timezone: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"timezone {timezone!r} is not an IANA time zone name "
                         "(e.g. 'Europe/Paris')") from None


def _offset_s(zone: zoneinfo.ZoneInfo, t: int) -> int:
    return int(dt.datetime.fromtimestamp(t, zone).utcoffset().total_seconds())


@functools.lru_cache(maxsize=64)
def _offset_table(timezone: str, first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray]:
    """(transition instants, offset from each on) of a zone over whole UTC years.

    Entry 0 starts at the smallest int64 and holds the offset at the start of ``first_year``;
    each later entry is an instant (s since epoch) where the UTC offset changes, found to the
    second by bisection between 6-hourly probes.
    """
    zone = _zone(timezone)
    start = int(dt.datetime(first_year, 1, 1, tzinfo=dt.UTC).timestamp())
    end = int(dt.datetime(last_year + 1, 1, 1, tzinfo=dt.UTC).timestamp())
    step = 6 * 3600
    instants = [np.iinfo(np.int64).min]
    offsets = [_offset_s(zone, start)]
    t_prev, off_prev = start, offsets[0]
    for t in range(start + step, end + step, step):
        off = _offset_s(zone, t)
        if off != off_prev:
            lo, hi = t_prev, t          # offset(lo) == off_prev != offset(hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_s(zone, mid) == off_prev:
                    lo = mid
                else:
                    hi = mid
            instants.append(hi)
            offsets.append(off)
        t_prev, off_prev = t, off
    return np.asarray(instants, dtype=np.int64), np.asarray(offsets, dtype=np.int64)


def _offset_table_for(timezone: str, time_utc_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The offset table covering every instant given (plus a year either side)."""
    if time_utc_s.size == 0:
        return _offset_table(timezone, 1970, 1970)
    first = 1970 + int(time_utc_s.min()) // _SECONDS_PER_YEAR - 1
    last = 1970 + int(time_utc_s.max()) // _SECONDS_PER_YEAR + 1
    return _offset_table(timezone, first, last)


def local_day_and_second(time_utc_s, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """(local date as days since 1970-01-01, seconds after local midnight) of UTC instants.

    "Seconds after local midnight" is wall-clock time: on a daylight-saving day 10:00 is 36,000
    whatever the length of the day. Raises ValueError for an unknown time zone.
    """
    t = np.asarray(time_utc_s, dtype=np.int64)
    transitions, offsets = _offset_table_for(timezone, t)
    local = t + offsets[np.searchsorted(transitions, t, side="right") - 1]
    day = np.floor_divide(local, _SECONDS_PER_DAY)
    return day, local - day * _SECONDS_PER_DAY


def day_types(day, holiday_days=()) -> np.ndarray:
    """DayType (int8) of local dates (days since 1970-01-01): holidays count as Sundays."""
    day = np.asarray(day, dtype=np.int64)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    out = np.where(weekday == 6, DayType.SUNDAY_HOLIDAY,
                   np.where(weekday == 5, DayType.SATURDAY, DayType.WEEKDAY)).astype(np.int8)
    out[np.isin(day, np.asarray(holiday_days, dtype=np.int64))] = DayType.SUNDAY_HOLIDAY
    return out


@numba.njit(cache=True)
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


@numba.njit(cache=True)
def _local_time(t, tz_transitions, tz_offsets):
    local = t + tz_offsets[np.searchsorted(tz_transitions, t, side="right") - 1]
    day = local // 86_400
    return day, local - day * 86_400


@numba.njit(cache=True)
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


@numba.njit(cache=True)
def _profile_values(mean, std, facility_idx, time_utc_s, tz_transitions, tz_offsets, bin_s,
                    holiday_days, mean_out, std_out):
    for i in range(facility_idx.shape[0]):
        day, second = _local_time(time_utc_s[i], tz_transitions, tz_offsets)
        mean_out[i], std_out[i] = _profile_at(mean, std, facility_idx[i], day, second, bin_s,
                                              holiday_days)


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


@numba.njit(cache=True)
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


def _empty_threshold_spread(offset: np.ndarray) -> np.ndarray:
    # A quarter of a space at the threshold, in level units (d log(x + c) = dx / (x + c)).
    return _EMPTY_THRESHOLD_SPREAD_SPACES / (_EMPTY_THRESHOLD + offset)


# ---------------------------------------------------------------------------------------------
# Deviation filter
# ---------------------------------------------------------------------------------------------
def deviation_correlation(profile: OccupancyProfile, lag_s) -> np.ndarray:
    """rho(lag): the fitted correlation of deviations from the profile after ``lag_s`` seconds."""
    h = np.maximum(np.asarray(lag_s, dtype=np.float64), 0.0)
    return _rho(h, profile.deviation_nugget, profile.deviation_short_weight,
                profile.deviation_short_s, profile.deviation_long_s)


def _rho(h, nugget, short_weight, short_s, long_s):
    return nugget * (short_weight * np.exp(-h / short_s) + (1.0 - short_weight) * np.exp(-h / long_s))


@numba.njit(cache=True)
def _kf_predict(a, b, paa, pab, pbb, dt_s, var_short, var_long, short_s, long_s):
    """Advance the two AR(1) parts of the deviation by dt_s seconds."""
    fa = math.exp(-dt_s / short_s)
    fb = math.exp(-dt_s / long_s)
    return (a * fa, b * fb, paa * fa * fa + var_short * (1.0 - fa * fa), pab * fa * fb,
            pbb * fb * fb + var_long * (1.0 - fb * fb))


@numba.njit(cache=True)
def _kf_update(a, b, paa, pab, pbb, z, var_noise):
    """Assimilate an observed deviation z = short + long + noise."""
    s = paa + pbb + 2.0 * pab + var_noise
    ka = (paa + pab) / s
    kb = (pab + pbb) / s
    innovation = z - a - b
    return (a + ka * innovation, b + kb * innovation, paa - ka * ka * s, pab - ka * kb * s,
            pbb - kb * kb * s)


@numba.njit(cache=True)
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
# Fitting
# ---------------------------------------------------------------------------------------------
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
    f, t, x, cap_obs, status_full = f[order], t[order], x[order], cap_obs[order], status_full[order]
    holidays = np.unique(np.asarray(holiday_days, dtype=np.int64))

    valid = usable_readings(f, t, x, cap_obs, capacity[f], stuck_after_s)
    excluded = np.bincount(f[~valid], minlength=n_fac).astype(np.int32)
    f, t, x, cap_obs, status_full = f[valid], t[valid], x[valid], cap_obs[valid], status_full[valid]
    full = (x == 0) | status_full
    max_free = np.zeros(n_fac)
    np.maximum.at(max_free, f, x)
    offset = level_offsets(capacity, max_free)
    level = np.log(x + offset[f])

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

    threshold = np.full(n_fac, _EMPTY_THRESHOLD)
    spread = _empty_threshold_spread(offset)
    bounds = np.searchsorted(f, np.arange(n_fac + 1))
    for fac in range(n_fac):
        lo, hi = bounds[fac], bounds[fac + 1]
        if full[lo:hi].sum() >= MIN_FULL_EVENTS and not full[lo:hi].all():
            threshold[fac], spread[fac] = _fit_full_threshold(
                level[lo:hi], full[lo:hi], offset[fac], float(level[lo:hi].max()))

    profile = OccupancyProfile(
        bin_s=bin_s, free_mean=free_mean.astype(np.float32), free_std=free_std.astype(np.float32),
        p_free=p_free.reshape(shape).astype(np.float32),
        occupancy_mean=occupancy.reshape(shape).astype(np.float32),
        n_observations=n.reshape(shape).astype(np.int32),
        fitted_from_utc_s=int(t.min()) if t.size else 0,
        fitted_to_utc_s=int(t.max()) if t.size else 0,
        timezone=timezone, holiday_days=holidays, level_offset=offset.astype(np.float32),
        level_mean=level_mean.astype(np.float32), level_std=level_std.astype(np.float32),
        full_threshold=threshold.astype(np.float32), full_spread=spread.astype(np.float32),
        deviation_scale=_deviation_scales(level_std).astype(np.float32),
        excluded_observations=excluded)
    full_all = ((np.asarray(history.free_spaces) == 0) if history.status_full is None
                else np.asarray(history.status_full, dtype=bool))
    order = np.lexsort((np.asarray(history.time_utc_s), np.asarray(history.facility_idx)))
    tau = _fit_full_persistence(np.asarray(history.facility_idx)[order],
                                np.asarray(history.time_utc_s, dtype=np.int64)[order],
                                full_all[order])
    if tau is not None:
        profile = dataclasses.replace(profile, full_persistence_s=tau)
    fitted = _fit_correlation(profile, f, t, level)
    if fitted is not None:
        nugget, short_weight, short_s, long_s = fitted
        profile = dataclasses.replace(profile, deviation_nugget=nugget,
                                      deviation_short_weight=short_weight,
                                      deviation_short_s=short_s, deviation_long_s=long_s)
    return profile


# ---------------------------------------------------------------------------------------------
# Forecasting
# ---------------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _normal_cdf(z):
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


@numba.njit(cache=True)
def _forecast_kernel(level_mean, level_std, level_offset, full_threshold, full_spread, bin_s,
                     holiday_days, tz_transitions, tz_offsets, capacity,
                     facility_idx, at_utc_s, obs_time_utc_s, obs_free, obs_full, obs_since,
                     stuck_after_s, st_time, st_short, st_long, st_cov, deviation_scale,
                     now_utc_s, stale_after_s,
                     nugget, short_weight, short_s, long_s, full_persistence_s, unknown_p_free,
                     full_wait_s, busy_search_s, busy_occupancy,
                     expected_free_out, free_std_out, p_full_out, search_out, basis_out):
    """One forecast per row (see the module docstring). Writes the *_out arrays."""
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


def forecast_from_observations(profile: OccupancyProfile | None, capacity, facility_idx, at_utc_s,
                               *, obs_time_utc_s=None, obs_free_spaces=None, obs_full=None,
                               obs_unchanged_since_utc_s=None,
                               obs_state: DeviationState | None = None, now_utc_s=None,
                               stale_after_s: float = STALE_AFTER_S,
                               stuck_after_s: float = STUCK_AFTER_S,
                               unknown_p_free: float = UNKNOWN_P_FREE,
                               search: SearchTimeModel = SearchTimeModel()) -> ParkingForecast:
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
    from_profile = basis == ForecastBasis.PROFILE
    if from_profile.any():
        # Calibrate p_full of forecasts resting on the profile alone (module docstring, *Point
        # mass at full*): blend with the share of that hour's readings that were full.
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
    return ParkingForecast(facility_idx=f.astype(np.int32), at_utc_s=at, expected_free=expected_free,
                           free_std=free_std, p_free=1.0 - p_full, p_full=p_full,
                           expected_search_s=search_s, basis=basis)


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
             search: SearchTimeModel = SearchTimeModel()) -> ParkingForecast:
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
