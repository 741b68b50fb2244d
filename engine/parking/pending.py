"""Drivers already sent to a facility: recommendation-aware availability (no herding).

A planner that forecasts well still sends every driver who asks at 15:20 to the same best car
park, and so fills it: the forecast (fitted on a history without the app's advice) does not know
about the drivers the app itself has just sent there. :class:`PendingArrivals` is the table of
recommendations given (facility, expected arrival instant, weight; never who asked) and answers
"how many of the drivers sent there will be parked there at t".

The model
---------
*Parked at t.* A driver sent to facility f with expected arrival ``a`` is parked there at ``t``
with probability ``Phi((t - a) / arrival_spread_s) * exp(-max(t - a, 0) / mean_stay_s)``:

* the arrival instant is uncertain (traffic, the time to leave): a normal error of
  ``arrival_spread_s`` (5 min by default, an assumption), so a driver due at the same minute as
  you counts for half (one of you is there first), one due 10 min earlier almost fully;
* the stay is exponential with mean ``mean_stay_s`` (2 h by default: the order of the mean
  stay in a French city-centre car park; an assumption, a parameter of the API and the bench).

A forecast resting on a live count read at ``t_obs`` already holds the drivers who arrived
before it: only arrivals after it are added, ``Phi((t - a) / s) - Phi((t_obs - a) / s)`` instead
of ``Phi((t - a) / s)`` (``since_utc_s`` of :meth:`PendingArrivals.drivers_at`).

*Compliance.* Not everyone told to go to f goes there, and some would have gone there anyway
(they are already in the history the profile was fitted on): the extra cars are
``compliance_share`` (0.5 by default) times the drivers sent. The share is a parameter, and
:func:`estimate_compliance` learns it from how observed occupancy moved after recommendations
compared with the forecast made without them.

*Subtraction.* The expected free spaces at t lose the expected extra cars ``k``, and p_free is
scaled by the chance that the free count exceeds the threshold by ``k`` more spaces, under the
forecaster's own distribution of the count (log-normal on ``free + c``, ``c`` = 10 % of the
capacity, with the forecast's mean and standard deviation; :func:`subtract_pending`). With
``k = 0`` the forecast is unchanged; a facility of unknown occupancy (no mean) is left as it is.

*Spreading.* Once the drivers already sent to the best facility take a noticeable part of its
room (their extra cars at least ``spread_from_share``, 10 %, of the free spaces the forecast
gave without them: below that, what is best for each driver is best for all, and a lone driver
gets what a planner without recommendations gives), the driver is sent, among the facilities
whose expected door-to-door time is within ``spread_within_s`` (2 min by default) of the best,
to one with probability proportional to its expected free spaces after the pending arrivals
(:func:`spread_choice`). The draw is
deterministic: ``u = frac((n + 1) * golden ratio)``, ``n`` the number of recommendations
already pending at those candidates, so that a stream of drivers to the same area is split in
proportion to the room (the golden-ratio sequence is equidistributed), and a test or a replay
gives the same answer. A resident thus never gets a car park more than ``spread_within_s``
worse in expectation than the best.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from engine.parking.profile import LEVEL_OFFSET_SHARE

DEFAULT_COMPLIANCE_SHARE = 0.5
"""Extra cars per driver sent (the share who follow the advice and would have gone elsewhere)."""

DEFAULT_MEAN_STAY_S = 2 * 3600.0
"""Mean parking duration of a driver sent (exponential stays; an assumption)."""

DEFAULT_ARRIVAL_SPREAD_S = 300.0
"""Standard deviation of a driver's arrival instant around the expected one (s)."""

DEFAULT_SPREAD_WITHIN_S = 120.0
"""Facilities within this many seconds of the best expected total share the drivers."""

DEFAULT_SPREAD_FROM_SHARE = 0.1
"""Drivers are spread once the extra cars already sent to the best facility are this share of
its expected free spaces without them."""

EXPIRE_AFTER_STAYS = 6.0
"""A recommendation older than this many mean stays (past its arrival) counts for nothing
(e^-6 = 0.25 %) and is dropped."""

FULL_THRESHOLD_SPACES = 0.5
"""Free spaces at or below which a driver cannot park (``engine.parking`` without a fitted
threshold): the survival of the count is taken above it."""

NO_SINCE = np.iinfo(np.int64).min
"""``since_utc_s`` of a row without a live count: every driver sent counts."""

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True)
class PendingArrivals:
    """Recommendations given: one row per driver sent (or share of one), and the model's
    parameters (module docstring). Raises ValueError naming the field when out of range."""

    facility_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # row -> facility
    arrive_utc_s: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # row -> arrival (s)
    weight: np.ndarray = field(default_factory=lambda: np.zeros(0))                  # row -> drivers (0..1)
    compliance_share: float = DEFAULT_COMPLIANCE_SHARE
    mean_stay_s: float = DEFAULT_MEAN_STAY_S
    arrival_spread_s: float = DEFAULT_ARRIVAL_SPREAD_S
    spread_within_s: float = DEFAULT_SPREAD_WITHIN_S
    spread_from_share: float = DEFAULT_SPREAD_FROM_SHARE

    def __post_init__(self):
        f = np.asarray(self.facility_idx, dtype=np.int64).ravel()
        at = np.asarray(self.arrive_utc_s, dtype=np.int64).ravel()
        w = np.asarray(self.weight, dtype=np.float64).ravel()
        if not f.shape == at.shape == w.shape:
            raise ValueError(f"PendingArrivals: facility_idx, arrive_utc_s and weight have lengths "
                             f"{f.size}, {at.size}, {w.size}")
        if w.size and not (np.all(np.isfinite(w)) and w.min() >= 0):
            raise ValueError("PendingArrivals: weight must be finite and >= 0")
        if not 0.0 <= float(self.compliance_share) <= 1.0:
            raise ValueError(f"PendingArrivals: compliance_share must be between 0 and 1, "
                             f"got {self.compliance_share}")
        for name in ("mean_stay_s", "arrival_spread_s"):
            if not (math.isfinite(float(getattr(self, name))) and float(getattr(self, name)) > 0):
                raise ValueError(f"PendingArrivals: {name} must be > 0 seconds, got {getattr(self, name)}")
        if not 0.0 <= float(self.spread_from_share) <= 1.0:
            raise ValueError(f"PendingArrivals: spread_from_share must be between 0 and 1, "
                             f"got {self.spread_from_share}")
        if not float(self.spread_within_s) >= 0:
            raise ValueError(f"PendingArrivals: spread_within_s must be >= 0, got {self.spread_within_s}")
        for name, value in (("facility_idx", f), ("arrive_utc_s", at), ("weight", w)):
            object.__setattr__(self, name, value)

    @property
    def n_rows(self) -> int:
        return int(self.facility_idx.shape[0])

    def added(self, facility_idx, arrive_utc_s, weight=1.0) -> PendingArrivals:
        """A copy with more rows (arrays or scalars broadcast to one length)."""
        f, at, w = np.broadcast_arrays(np.atleast_1d(np.asarray(facility_idx, np.int64)),
                                       np.atleast_1d(np.asarray(arrive_utc_s, np.int64)),
                                       np.atleast_1d(np.asarray(weight, np.float64)))
        return _replace_rows(self, np.r_[self.facility_idx, f], np.r_[self.arrive_utc_s, at],
                             np.r_[self.weight, w])

    def expired(self, now_utc_s: int) -> PendingArrivals:
        """A copy without the rows whose arrival is more than ``EXPIRE_AFTER_STAYS`` mean stays
        before ``now_utc_s`` (they count for nothing any more)."""
        keep = self.arrive_utc_s >= int(now_utc_s) - EXPIRE_AFTER_STAYS * self.mean_stay_s
        return _replace_rows(self, self.facility_idx[keep], self.arrive_utc_s[keep], self.weight[keep])

    def drivers_at(self, facility_idx, at_utc_s, since_utc_s=None) -> np.ndarray:
        """row -> expected number of drivers sent to ``facility_idx[row]`` who are parked there
        at ``at_utc_s[row]`` (one instant each, or one for all), before compliance; with
        ``since_utc_s`` (per row or one; ``NO_SINCE`` for none), only those who arrived after
        it (a live count read then holds the others)."""
        f = np.atleast_1d(np.asarray(facility_idx, dtype=np.int64)).ravel()
        at = np.broadcast_to(np.asarray(at_utc_s, dtype=np.int64), f.shape)
        since = np.broadcast_to(np.asarray(NO_SINCE if since_utc_s is None else since_utc_s,
                                           dtype=np.int64), f.shape)
        out = np.zeros(f.size)
        if self.n_rows == 0 or f.size == 0:
            return out
        for fac in np.unique(f):
            mine = self.facility_idx == fac
            if not mine.any():
                continue
            rows = f == fac
            lag_s = (at[rows][:, None] - self.arrive_utc_s[mine][None, :]).astype(np.float64)
            seen_s = (since[rows][:, None] - self.arrive_utc_s[mine][None, :]).astype(np.float64)
            came = ndtr(lag_s / self.arrival_spread_s) - np.where(
                since[rows][:, None] == NO_SINCE, 0.0, ndtr(seen_s / self.arrival_spread_s))
            there = np.clip(came, 0.0, None) * np.exp(-np.maximum(lag_s, 0.0) / self.mean_stay_s)
            out[rows] = there @ self.weight[mine]
        return out

    def cars_at(self, facility_idx, at_utc_s) -> np.ndarray:
        """row -> expected extra cars: ``compliance_share`` x :meth:`drivers_at`."""
        return self.compliance_share * self.drivers_at(facility_idx, at_utc_s)

    def crowds(self, drivers: float, expected_free_after: float) -> bool:
        """Whether ``drivers`` sent to a facility whose expected free spaces after their cars are
        ``expected_free_after`` take at least ``spread_from_share`` of its room (NaN: unknown
        room, spread as soon as one driver is heading there)."""
        cars = self.compliance_share * float(drivers)
        if cars <= 0 or float(drivers) < 0.5:
            return False
        if not math.isfinite(float(expected_free_after)):
            return True
        return cars >= self.spread_from_share * (float(expected_free_after) + cars)

    def spread_u(self, facility_idx) -> float:
        """The deterministic draw in [0, 1) of the next driver choosing among ``facility_idx``:
        the golden-ratio sequence indexed by the rows pending at those facilities."""
        n = int(np.isin(self.facility_idx, np.asarray(facility_idx, dtype=np.int64)).sum())
        return float(((n + 1) * _GOLDEN) % 1.0)


def _replace_rows(p: PendingArrivals, f, at, w) -> PendingArrivals:
    return PendingArrivals(f, at, w, compliance_share=p.compliance_share, mean_stay_s=p.mean_stay_s,
                           arrival_spread_s=p.arrival_spread_s, spread_within_s=p.spread_within_s,
                           spread_from_share=p.spread_from_share)


def subtract_pending(expected_free, free_std, p_free, capacity, cars) -> tuple[np.ndarray, np.ndarray]:
    """(expected free spaces, p_free) once ``cars`` more cars are expected (row-aligned arrays).

    The free count is taken log-normal on ``free + c`` (``c`` = ``LEVEL_OFFSET_SHARE`` x
    capacity, at least 1) with the forecast's mean and standard deviation; p_free is multiplied
    by ``P(free > threshold + cars) / P(free > threshold)`` under it. Rows with an unknown mean
    (NaN) are returned unchanged; so are rows with no cars.
    """
    mean = np.asarray(expected_free, dtype=np.float64)
    sd = np.nan_to_num(np.asarray(free_std, dtype=np.float64), nan=0.0)
    p = np.asarray(p_free, dtype=np.float64)
    k = np.asarray(cars, dtype=np.float64)
    c = np.maximum(1.0, LEVEL_OFFSET_SHARE * np.nan_to_num(np.asarray(capacity, np.float64), nan=0.0))
    known = np.isfinite(mean) & (k > 0)
    new_free = np.where(known, np.maximum(np.nan_to_num(mean) - k, 0.0), mean)
    base = np.maximum(np.nan_to_num(mean), 0.0) + c
    s2 = np.log1p((sd / base) ** 2)
    s = np.sqrt(np.maximum(s2, 1e-6))
    m = np.log(base) - s2 / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        before = 1.0 - ndtr((np.log(FULL_THRESHOLD_SPACES + c) - m) / s)
        after = 1.0 - ndtr((np.log(FULL_THRESHOLD_SPACES + c + k) - m) / s)
        ratio = np.where(before > 1e-12, after / before, 0.0)
    new_p = np.where(known, p * np.clip(ratio, 0.0, 1.0), p)
    return new_free, new_p


def spread_choice(order: np.ndarray, total_s: np.ndarray, room: np.ndarray, within_s: float,
                  u: float) -> int:
    """The row chosen among ``order`` (usable rows, best first): among those whose ``total_s``
    is within ``within_s`` of the first, the one whose share of the summed ``room`` (expected
    free spaces after pending arrivals; NaN and negatives count 0) contains ``u`` in [0, 1).
    The first row when there is nothing to share. Raises ValueError for an empty ``order``."""
    order = np.asarray(order, dtype=np.int64)
    if order.size == 0:
        raise ValueError("spread_choice: no usable row")
    best = int(order[0])
    near = order[np.asarray(total_s)[order] <= float(np.asarray(total_s)[best]) + float(within_s)]
    weight = np.clip(np.nan_to_num(np.asarray(room, dtype=np.float64)[near], nan=0.0), 0.0, None)
    if near.size < 2 or weight.sum() <= 0:
        return best
    edges = np.cumsum(weight) / weight.sum()
    return int(near[min(int(np.searchsorted(edges, u, side="right")), near.size - 1)])


@dataclass(frozen=True)
class ComplianceEstimate:
    """A compliance share fitted by :func:`estimate_compliance`."""

    share: float      # clipped to 0..1
    stderr: float     # standard error of the unclipped least-squares slope
    n: int            # observations used


def estimate_compliance(sent_cars, excess_occupied) -> ComplianceEstimate:
    """The compliance share from ``n`` observed windows (facility, interval).

    ``sent_cars``: drivers sent there who would be parked at the end of the window (the
    :meth:`PendingArrivals.drivers_at` of the recommendations, compliance 1), minus the same at
    its start. ``excess_occupied``: the observed change in occupied spaces over the window minus
    the change the forecast without recommendations expected. The model is
    ``excess = compliance x sent + noise``; the least-squares slope through the origin is
    ``sum(sent * excess) / sum(sent^2)``, with standard error ``sigma / sqrt(sum(sent^2))``.
    Raises ValueError for arrays of different lengths or no window with drivers sent.
    """
    x = np.asarray(sent_cars, dtype=np.float64).ravel()
    y = np.asarray(excess_occupied, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"estimate_compliance: sent_cars has {x.size} values, excess_occupied {y.size}")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    sxx = float(x @ x)
    if sxx <= 0:
        raise ValueError("estimate_compliance: no window with drivers sent")
    slope = float(x @ y) / sxx
    resid = y - slope * x
    dof = max(x.size - 1, 1)
    stderr = math.sqrt(float(resid @ resid) / dof / sxx)
    return ComplianceEstimate(share=min(max(slope, 0.0), 1.0), stderr=stderr, n=int(x.size))
