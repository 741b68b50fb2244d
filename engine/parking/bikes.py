"""Bike-share stations: bikes and docks available on arrival, with the car parks' forecaster.

A bike-share station is a parking facility of kind ``ParkingKind.BIKE_SHARE``. Its readings use
the shared encoding of every live source (``loaders.gbfs.station_facility_id``): ``free_spaces``
= docks available, ``capacity`` = bikes + docks available, so ``capacity - free_spaces`` is the
bikes available. Two questions, one forecaster (:func:`engine.parking.forecast`: profile per day
type and hour, Kalman deviation from the latest reading):

* **p(dock)** at drop-off = p(free >= 1): the forecast of the station itself (its profile is
  ``Parking.profile``, fitted with the car parks', its live state the car parks' live state);
* **p(bike)** at pick-up = p(occupied >= 1): the same forecaster on the *mirrored* station,
  whose free spaces are the bikes (:func:`mirror_history`, :func:`bikes_view`; its profile is
  ``Parking.bikes_profile``, fitted at build time by :func:`fit_bikes_profile`, its live state a
  second :class:`LiveObservations` fed with the mirrored readings by :func:`mirror_readings`).

*Too little history.* A station whose profile rests on fewer than ``MIN_PROFILE_READINGS``
readings (a new station, a feed polled for a day) is not forecast from it: its latest reading
decays towards "unknown" with a half-life of ``READING_HALF_LIFE_S`` (30 min): with w =
0.5 ** (h / half-life) h seconds after the reading, p = w * [count >= 1] + (1 - w) *
``UNKNOWN_P_FREE``. Half an hour is the order of a station's turnover at rush hour (a bike
taken or returned every few minutes at a busy station); past two hours a reading says almost
nothing. Without a reading such a station is unknown (p = 0.5). :func:`station_outlook` says
which rows were decayed so that the planner's words can say so.

*Live flags.* A station not renting (``is_renting`` false in the latest GBFS snapshot, or not
installed) has p(bike) = 0; not returning, p(dock) = 0 (:class:`StationFlags`).

*Free-floating bikes* (``free_bike_status`` / ``vehicle_status``): a bike seen at a position is
available now; the chance it is still there decays with ``FREE_BIKE_HALF_LIFE_S`` (15 min)
after the snapshot (:class:`FreeBikes`, :func:`free_bike_p`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from engine.cache import PerObject
from engine.model import OccupancyHistory, OccupancyProfile, Parking, ParkingKind
from engine.parking.deviation import NO_OBSERVATION
from engine.parking.fit import fit_occupancy_profile
from engine.parking.forecasting import STALE_AFTER_S, UNKNOWN_P_FREE, ForecastBasis, forecast
from engine.parking.live import LiveObservations

READING_HALF_LIFE_S = 1800.0
"""Half-life (s) of a station reading's information when the station has too little history."""

FREE_BIKE_HALF_LIFE_S = 900.0
"""Half-life (s) of the chance that a free-floating bike seen in a snapshot is still there."""

MIN_PROFILE_READINGS = 168
"""Readings (a week of hourly ones) a station's profile needs before it is trusted over the
decaying latest reading."""


def bike_share_idx(parking: Parking) -> np.ndarray:
    """facility_idx of the bike-share stations."""
    return np.flatnonzero(np.asarray(parking.kind) == int(ParkingKind.BIKE_SHARE))


def mirror_readings(parking: Parking, facility_idx, free_spaces, capacity
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keep, bikes, capacity) of readings under the shared encoding: rows of bike-share stations
    whose capacity (given, else the station's) is known and not below the free docks; bikes =
    capacity - free docks. Arrays are aligned with the input (``keep`` selects)."""
    f = np.asarray(facility_idx, dtype=np.int64)
    free = np.asarray(free_spaces, dtype=np.float64)
    cap = np.asarray(capacity, dtype=np.float64)
    cap = np.where(cap > 0, cap, np.asarray(parking.capacity, dtype=np.float64)[f])
    is_station = np.asarray(parking.kind)[f] == int(ParkingKind.BIKE_SHARE)
    keep = is_station & (cap > 0) & np.isfinite(free) & (free >= 0) & (free <= cap)
    return keep, cap - free, cap


def mirror_history(parking: Parking) -> OccupancyHistory | None:
    """The bike-share rows of ``parking.history`` with bikes as the free spaces (None: none)."""
    h = parking.history
    if h is None or h.n_observations == 0:
        return None
    keep, bikes, cap = mirror_readings(parking, h.facility_idx, h.free_spaces, h.capacity)
    if not keep.any():
        return None
    return OccupancyHistory(facility_idx=np.asarray(h.facility_idx, dtype=np.int32)[keep],
                            time_utc_s=np.asarray(h.time_utc_s, dtype=np.int64)[keep],
                            free_spaces=bikes[keep].astype(np.int32),
                            capacity=cap[keep].astype(np.int32))


def fit_bikes_profile(parking: Parking, timezone: str, *, holiday_days=()) -> OccupancyProfile | None:
    """The profile of bikes available at each bike-share station (None without bike-share
    history), fitted like the car parks' on :func:`mirror_history`."""
    mirrored = mirror_history(parking)
    if mirrored is None:
        return None
    return fit_occupancy_profile(mirrored, parking.capacity, timezone, holiday_days=holiday_days)


_VIEWS = PerObject(lambda parking: dataclasses.replace(
    parking, history=mirror_history(parking), profile=parking.bikes_profile), size=4)


def bikes_view(parking: Parking) -> Parking:
    """The parking with bikes as the free spaces of bike-share stations (history mirrored, the
    bikes profile as its profile): what the forecaster is given to answer p(bike)."""
    return _VIEWS(parking)


def bikes_live_from_history(parking: Parking) -> LiveObservations:
    """A live state of bikes started from the mirrored history (empty without one)."""
    view = bikes_view(parking)
    if view.history is None:
        return LiveObservations.empty(parking.n_facilities)
    return LiveObservations.from_history(view)


@dataclass(frozen=True)
class StationFlags:
    """The latest GBFS snapshot's switches, per facility_idx (True for facilities it does not
    name: only a station the feed says is closed is closed)."""

    renting: np.ndarray             # facility_idx -> bikes may be taken (installed and renting)
    returning: np.ndarray           # facility_idx -> bikes may be returned

    @classmethod
    def all_open(cls, n_facilities: int) -> StationFlags:
        return cls(np.ones(n_facilities, dtype=bool), np.ones(n_facilities, dtype=bool))


@dataclass(frozen=True)
class FreeBikes:
    """Free-floating bikes of the latest snapshot (not reserved, not disabled, bicycles only)."""

    vehicle_id: np.ndarray          # bike -> id (str)
    lon: np.ndarray                 # bike -> degrees WGS84
    lat: np.ndarray
    seen_utc_s: np.ndarray          # bike -> instant it was seen there (int64 s since epoch)
    speed_mps: np.ndarray           # bike -> riding speed of its type (see modes_bikeshare)
    type_name: np.ndarray           # bike -> vehicle type name or id ('' unknown)

    @property
    def n_bikes(self) -> int:
        return int(self.lon.shape[0])

    @classmethod
    def empty(cls) -> FreeBikes:
        return cls(np.zeros(0, dtype=str), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64),
                   np.zeros(0), np.zeros(0, dtype=str))


@dataclass(frozen=True)
class BikeShareLive:
    """What the planner knows live about bike share beside the docks' live state (the car
    parks' :class:`LiveObservations`): the bikes' live state, the snapshot's flags, free bikes."""

    bikes: LiveObservations | None = None
    flags: StationFlags | None = None
    free_bikes: FreeBikes = dataclasses.field(default_factory=FreeBikes.empty)


def free_bike_p(seen_utc_s, at_utc_s, half_life_s: float = FREE_BIKE_HALF_LIFE_S) -> np.ndarray:
    """Chance that a free-floating bike seen at ``seen_utc_s`` is still there at ``at_utc_s``."""
    age = np.maximum(np.asarray(at_utc_s, dtype=np.float64) - np.asarray(seen_utc_s, dtype=np.float64), 0)
    return 0.5 ** (age / float(half_life_s))


@dataclass(frozen=True)
class StationOutlook:
    """Bikes and docks of stations at given instants, one row per (station, instant)."""

    facility_idx: np.ndarray        # row -> facility_idx (int32)
    at_utc_s: np.ndarray            # row -> instant (int64 s since epoch)
    p_bike: np.ndarray              # row -> probability of at least one bike (0..1)
    p_dock: np.ndarray              # row -> probability of at least one free dock (0..1)
    expected_bikes: np.ndarray      # row -> expected bikes, NaN when unknown
    expected_docks: np.ndarray      # row -> expected free docks, NaN when unknown
    bikes_basis: np.ndarray         # row -> ForecastBasis of p_bike (int8)
    docks_basis: np.ndarray         # row -> ForecastBasis of p_dock (int8)
    decayed: np.ndarray             # row -> too little bikes history: p_bike is a decaying reading
    docks_decayed: np.ndarray       # row -> too little docks history: p_dock is a decaying reading
    reading_age_s: np.ndarray       # row -> at - latest reading (s), NaN without one
    closed_renting: np.ndarray      # row -> the snapshot says no renting (bool)
    closed_returning: np.ndarray    # row -> the snapshot says no returns (bool)


def _thin(profile: OccupancyProfile | None, f: np.ndarray) -> np.ndarray:
    """Rows whose station's profile rests on fewer than MIN_PROFILE_READINGS readings."""
    if profile is None or profile.n_observations.shape[0] == 0:
        return np.ones(f.size, dtype=bool)
    per_facility = np.asarray(profile.n_observations).reshape(profile.n_observations.shape[0], -1).sum(axis=1)
    return per_facility[f] < MIN_PROFILE_READINGS


def _decay(live: LiveObservations | None, f, at, now_utc_s, p, expected, basis, rows) -> np.ndarray:
    """Overwrite ``rows`` with the decaying latest reading (module docstring), in place; returns
    the age (s) of the reading used per row (NaN without one)."""
    age = np.full(f.size, np.nan)
    if not rows.any():
        return age
    if live is None:
        t0, x0 = np.full(f.size, NO_OBSERVATION), np.full(f.size, np.nan)
    else:
        t0, x0 = np.asarray(live.time_utc_s)[f], np.asarray(live.free_spaces)[f]
    seen = rows & (t0 != NO_OBSERVATION) & (t0 >= now_utc_s - STALE_AFTER_S)
    h = np.maximum(at - t0, 0).astype(np.float64)
    w = np.where(seen, 0.5 ** (h / READING_HALF_LIFE_S), 0.0)
    p[rows] = (w * (x0 >= 1) + (1 - w) * UNKNOWN_P_FREE)[rows]
    expected[rows] = np.where(seen, x0, np.nan)[rows]
    basis[rows] = np.where(seen, ForecastBasis.LIVE, ForecastBasis.UNKNOWN)[rows]
    age[seen] = h[seen]
    return age


def station_outlook(parking: Parking, facility_idx, at_utc_s, *, docks_live: LiveObservations | None = None,
                    bike_share: BikeShareLive | None = None, now_utc_s: int | None = None
                    ) -> StationOutlook:
    """p(bike), p(dock) and the expected counts of bike-share stations at instants (module
    docstring): two calls of :func:`engine.parking.forecast`, the decay of thin histories, the
    snapshot's flags. ``facility_idx`` and ``at_utc_s`` broadcast to one length; ``now_utc_s``
    judges staleness (default: the instant asked). Raises ValueError from the forecaster for a
    facility_idx out of range."""
    f = np.atleast_1d(np.asarray(facility_idx, dtype=np.int64))
    at = np.broadcast_to(np.asarray(at_utc_s, dtype=np.int64), f.shape).copy()
    bike_share = bike_share or BikeShareLive()
    now = int(at.min()) if now_utc_s is None and f.size else int(now_utc_s or 0)
    if f.size == 0:
        z = np.zeros(0)
        zb = np.zeros(0, dtype=bool)
        return StationOutlook(f.astype(np.int32), at, z, z, z, z, np.zeros(0, np.int8),
                              np.zeros(0, np.int8), zb, zb, z, zb, zb)
    docks = forecast(parking, f, at, live=docks_live, now_utc_s=now)
    view = bikes_view(parking)
    bikes = forecast(view, f, at, live=bike_share.bikes, now_utc_s=now)
    p_dock, p_bike = docks.p_free.copy(), bikes.p_free.copy()
    n_docks, n_bikes = docks.expected_free.copy(), bikes.expected_free.copy()
    b_docks, b_bikes = docks.basis.copy(), bikes.basis.copy()
    thin_d, thin_b = _thin(parking.profile, f), _thin(parking.bikes_profile, f)
    docks_age = _decay(docks_live, f, at, now, p_dock, n_docks, b_docks, thin_d)
    age = _decay(bike_share.bikes, f, at, now, p_bike, n_bikes, b_bikes, thin_b)
    flags = bike_share.flags or StationFlags.all_open(parking.n_facilities)
    closed_r, closed_d = ~np.asarray(flags.renting)[f], ~np.asarray(flags.returning)[f]
    p_bike[closed_r] = 0.0
    p_dock[closed_d] = 0.0
    return StationOutlook(facility_idx=f.astype(np.int32), at_utc_s=at, p_bike=p_bike, p_dock=p_dock,
                          expected_bikes=n_bikes, expected_docks=n_docks, bikes_basis=b_bikes,
                          docks_basis=b_docks, decayed=np.isfinite(age),
                          docks_decayed=np.isfinite(docks_age),
                          reading_age_s=age,
                          closed_renting=closed_r, closed_returning=closed_d)


# ---------------------------------------------------------------------------------------------
# Riding speeds of the vehicle types the bike-share mode may ride
# ---------------------------------------------------------------------------------------------
PEDAL_BIKE_SPEED_MPS = 4.2
"""A shared city bike (heavy, upright, three gears): about 15 km/h."""

EBIKE_SPEED_MPS = 5.5
"""A shared e-bike: about 20 km/h (EU pedelecs stop assisting at 25 km/h; riders in traffic
average less)."""

CARGO_BIKE_SPEED_MPS = 3.6
"""A shared cargo bike: about 13 km/h."""

BIKE_FORM_FACTORS = ("bicycle", "cargo_bicycle")
"""GBFS form factors the bike-share mode may ride (scooters, mopeds and cars are left out)."""


def vehicle_speed_mps(form_factor: str, propulsion_type: str) -> float | None:
    """Riding speed (m/s) of a GBFS vehicle type, None when the bike mode may not ride it."""
    if form_factor not in BIKE_FORM_FACTORS:
        return None
    if form_factor == "cargo_bicycle":
        return CARGO_BIKE_SPEED_MPS
    return EBIKE_SPEED_MPS if propulsion_type in ("electric_assist", "electric") else PEDAL_BIKE_SPEED_MPS
