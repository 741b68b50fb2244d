"""Which car park to drive to: expected door-to-door time given the availability forecast.

The planner (``engine.planning.planner``) measures, for every candidate facility, the drive from the
origin to its entrance and the walk from its pedestrian exit to the destination (one street
search each way, whatever the number of facilities). This module turns those arrays into a
choice:

* **Arrival at the facility.** Depart-at: ``depart + drive``. Arrive-by: the latest arrival at the
  facility that still reaches the destination in time, ``arrive_by - walk - park - search``,
  where the search time depends on the forecast at that very instant; it is found by fixed-point
  iteration from no search time, until the instants move by less than a second (at most
  :data:`ARRIVE_BY_ITERATIONS` rounds: the search time is at most ``SearchTimeModel.full_wait_s``,
  8 min, and changes less than the instant does, so the iteration contracts).
* **Forecast.** One vectorised call to :func:`engine.parking.forecast` at those instants gives
  p_free (the chance that a driver arriving then can enter and park), the expected free spaces
  and the expected search time (``SearchTimeModel``: the wait or cruising when full, weighted by
  p_full, plus the search inside a nearly full car park).
* **Expected total** = drive + expected search + ``park_s`` (manoeuvre into a space and walk out of
  the facility: 2 min, an assumption) + walk, plus, when the planner gives the drives between
  candidates, the *diversion*: a driver who finds the facility full (probability 1 - p_free)
  drives on to the best other candidate (drive between the two + its expected search + its
  walk) instead of walking from this one, so
  ``total_i += (1 - p_i) * (min_j [drive_ij + search_j + walk_j] - walk_i)``. This is DESIGN.md's
  "p(full) x (search or detour to the next choice)": without it a car park with a short walk but a
  long way round to any alternative looks as safe as one next to three others.
* **Congestion.** A facility whose p_free at the arrival instant is below ``min_p_free`` (0.2) is
  *avoided*: never proposed, and listed (with its forecast and a sentence) when a static planner
  would have preferred it, i.e. when it is nearer the destination on foot or quicker ignoring
  occupancy than the facility chosen.
* **Choice.** The facility with the least expected total among the others; ties go to the higher
  p_free, then to the lower facility index.
* **Drivers already sent** (``pending``, :mod:`engine.parking.pending`): when given, the forecast
  loses the expected extra cars of the drivers the planner has already sent to each facility
  (their p_free, free spaces and search time move accordingly), and when other drivers are
  heading to the best facility the choice is spread among the facilities within
  ``pending.spread_within_s`` of it, in proportion to their expected room
  (:func:`engine.parking.pending.spread_choice`). Without it the choice is today's.
* **Fallback.** When the chosen facility's p_free is below ``fallback_below_p_free`` (0.8), the
  next best facility by expected total among those with a strictly higher p_free is named, so
  that the driver knows where to go if it is full.

Facilities of unknown occupancy (no profile, no live data) have p_free 0.5 (``engine.parking``):
they are never avoided at the default threshold, and their 4-minute expected search ranks them
behind a facility known to have room.

*Calibration.* p_free comes from ``engine.parking.forecast`` as it is, so the map, the API and
the planner agree; a forecast resting on the profile alone is already blended there with the
share of that hour's readings that found a space (a point mass at "full" is outside the level
model: see ``engine.parking.forecasting``, *Point mass at full*).
"""
from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass, field

import numpy as np

from engine.model import Parking, ParkingKind
from engine.parking.forecasting import ForecastBasis, forecast
from engine.parking.live import LiveObservations
from engine.parking.pending import NO_SINCE, PendingArrivals, spread_choice, subtract_pending
from engine.parking.search_time import SearchTimeModel

DEFAULT_MIN_P_FREE = 0.2
"""Facilities with a lower p_free at the arrival instant are avoided (never proposed)."""

DEFAULT_FALLBACK_BELOW_P_FREE = 0.8
"""A chosen facility with a lower p_free gets a named fallback."""

DEFAULT_PARK_S = 120.0
"""Seconds to manoeuvre into a space and walk out of the facility (an assumption)."""

ARRIVE_BY_ITERATIONS = 5
"""Most fixed-point rounds that find the facility arrival instant of an arrive-by query (it
stops when the instants move by less than a second; three or four rounds where occupancy
changes fast, as a car park fills up)."""

CAR_KINDS = (ParkingKind.CAR_PARK, ParkingKind.PARK_AND_RIDE, ParkingKind.ON_STREET)
"""Facilities a car can be left at."""

BIKE_KINDS = (ParkingKind.BIKE_PARKING, ParkingKind.BIKE_SHARE)
"""Facilities a bicycle can be left at."""

NO_CHOICE = -1
"""``FacilityChoice.chosen``/``fallback`` when there is none."""



@dataclass(frozen=True)
class ParkingPolicy:
    """How the planner weighs parking. Raises ValueError naming the field when out of range."""

    min_p_free: float = DEFAULT_MIN_P_FREE
    fallback_below_p_free: float = DEFAULT_FALLBACK_BELOW_P_FREE
    park_s: float = DEFAULT_PARK_S
    search: SearchTimeModel = field(default_factory=SearchTimeModel)

    def __post_init__(self):
        for name in ("min_p_free", "fallback_below_p_free"):
            value = float(getattr(self, name))
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"ParkingPolicy: {name} must be between 0 and 1, got {value}")
            object.__setattr__(self, name, value)
        park_s = float(self.park_s)
        if not (math.isfinite(park_s) and park_s >= 0):
            raise ValueError(f"ParkingPolicy: park_s must be >= 0 seconds, got {park_s}")
        object.__setattr__(self, "park_s", park_s)


@dataclass(frozen=True)
class Outlook:
    """Forecast availability of facilities at given arrival instants, one row per facility."""

    facility_idx: np.ndarray        # row -> facility_idx (int32)
    arrive_utc_s: np.ndarray        # row -> arrival at the facility (int64 s since epoch)
    p_free: np.ndarray              # row -> probability of finding a space (0..1)
    expected_free: np.ndarray       # row -> expected free spaces, NaN when unknown
    occupancy: np.ndarray           # row -> expected occupied share 0..1, NaN when unknown
    expected_search_s: np.ndarray   # row -> expected search or queue time (s)
    basis: np.ndarray               # row -> engine.parking.ForecastBasis (int8)
    pending_drivers: np.ndarray | None = None          # row -> drivers already sent, parked then
    search_without_pending_s: np.ndarray | None = None  # row -> expected search ignoring them (s)


def outlook(parking: Parking, facility_idx, arrive_utc_s, *, policy: ParkingPolicy = ParkingPolicy(),
            live: LiveObservations | None = None, now_utc_s=None,
            pending: PendingArrivals | None = None) -> Outlook:
    """Availability of ``facility_idx`` at ``arrive_utc_s`` (one instant each or one for all).

    One call to :func:`engine.parking.forecast`; ``live``/``now_utc_s`` are passed on.
    ``pending``: drivers already sent, whose expected extra cars are taken off the forecast
    (:func:`engine.parking.pending.subtract_pending`).
    """
    f = np.asarray(facility_idx, dtype=np.int64).ravel()
    at = np.broadcast_to(np.asarray(arrive_utc_s, dtype=np.int64), f.shape).copy()
    if f.size == 0:
        empty = np.zeros(0)
        return Outlook(f.astype(np.int32), at, empty, empty, empty, empty, np.zeros(0, np.int8))
    fc = forecast(parking, f, at, live=live, now_utc_s=now_utc_s, search=policy.search)
    cap = np.asarray(parking.capacity, dtype=np.float64)[f]
    occupancy = np.clip(np.where(cap > 0, 1.0 - fc.expected_free / np.where(cap > 0, cap, 1.0),
                                 np.nan), 0.0, 1.0)
    p_free, search_s, free = fc.p_free, fc.expected_search_s, fc.expected_free
    drivers = base_search_s = None
    if pending is not None:
        # a live count already holds the drivers who arrived before it was read (a count read
        # after the arrival instant, as when replaying a history, holds none of them)
        since = None
        if live is not None:
            read = live.time_utc_s[f]
            since = np.where((fc.basis == ForecastBasis.LIVE) & (read <= at), read, NO_SINCE)
        drivers = pending.drivers_at(f, at, since)
        free, p_free = subtract_pending(free, fc.free_std, p_free, cap,
                                        pending.compliance_share * drivers)
        occupancy = np.clip(np.where(cap > 0, 1.0 - free / np.where(cap > 0, cap, 1.0), np.nan),
                            0.0, 1.0)
        base_search_s = search_s
        search_s = np.where(drivers > 0, policy.search.expected_s(p_free, occupancy), search_s)
    return Outlook(facility_idx=f.astype(np.int32), arrive_utc_s=at, p_free=p_free,
                   expected_free=free, occupancy=occupancy,
                   expected_search_s=search_s, basis=fc.basis, pending_drivers=drivers,
                   search_without_pending_s=base_search_s)


@dataclass(frozen=True)
class FacilityChoice:
    """The candidates of one car trip, their forecast, and which one is chosen.

    Row arrays are indexed by candidate (not facility_idx). ``chosen`` and ``fallback`` are rows or
    NO_CHOICE; ``avoided`` marks rows under the p_free threshold; ``listed_avoided`` the avoided
    rows a static planner would have preferred, nearest on foot first.
    """

    facility_idx: np.ndarray        # row -> facility_idx
    drive_s: np.ndarray             # row -> origin to the facility entrance (s)
    walk_s: np.ndarray              # row -> facility exit to the destination (s)
    outlook: Outlook                # row -> forecast at the facility arrival instant
    total_s: np.ndarray             # row -> drive + expected search + park + walk (s)
    static_s: np.ndarray            # row -> drive + park + walk: what a static planner weighs (s)
    avoided: np.ndarray             # row -> p_free below the policy's threshold (bool)
    chosen: int
    fallback: int
    listed_avoided: np.ndarray      # rows, avoided and preferred by a static planner
    depart_utc_s: np.ndarray        # row -> departure from the origin (s since epoch)
    arrive_utc_s: np.ndarray        # row -> expected arrival at the destination (s since epoch)

    @property
    def n_candidates(self) -> int:
        return int(self.facility_idx.shape[0])


def choose_facility(parking: Parking, facility_idx, drive_s, walk_s, *, depart_utc_s: int | None = None,
                    arrive_by_utc_s: int | None = None, policy: ParkingPolicy = ParkingPolicy(),
                    live: LiveObservations | None = None, now_utc_s=None,
                    drive_between_s=None, pending: PendingArrivals | None = None) -> FacilityChoice:
    """Forecast every candidate at its arrival instant and choose one (module docstring).

    ``facility_idx``, ``drive_s`` and ``walk_s`` are aligned arrays (seconds; inf = unreachable,
    such rows are dropped). Give exactly one of ``depart_utc_s`` and ``arrive_by_utc_s``.
    ``drive_between_s`` (optional, candidates x candidates, seconds, inf = no way) is the drive
    from each candidate's entrance to each other's: it prices the diversion when one is full.
    ``pending``: drivers already sent (module docstring, *Drivers already sent*).
    Raises ValueError for arrays of different lengths or a missing/double time.
    """
    if (depart_utc_s is None) == (arrive_by_utc_s is None):
        raise ValueError("choose_facility: give exactly one of depart_utc_s and arrive_by_utc_s")
    f = np.asarray(facility_idx, dtype=np.int64).ravel()
    drive = np.asarray(drive_s, dtype=np.float64).ravel()
    walk = np.asarray(walk_s, dtype=np.float64).ravel()
    if not f.shape == drive.shape == walk.shape:
        raise ValueError(f"choose_facility: facility_idx, drive_s and walk_s have lengths "
                         f"{f.size}, {drive.size}, {walk.size}")
    ok = np.isfinite(drive) & np.isfinite(walk)
    f, drive, walk = f[ok], drive[ok], walk[ok]
    if drive_between_s is not None:
        drive_between_s = np.asarray(drive_between_s, dtype=np.float64)
        if drive_between_s.shape != (ok.size, ok.size):
            raise ValueError(f"choose_facility: drive_between_s has shape {drive_between_s.shape}, "
                             f"expected ({ok.size}, {ok.size})")
        drive_between_s = drive_between_s[np.ix_(ok, ok)]
    if depart_utc_s is not None:
        at = int(depart_utc_s) + np.round(drive).astype(np.int64)
        view = outlook(parking, f, at, policy=policy, live=live, now_utc_s=now_utc_s,
                       pending=pending)
    else:
        search_s = np.zeros(f.size)
        at = np.zeros(f.size, dtype=np.int64)
        for _ in range(ARRIVE_BY_ITERATIONS):
            previous = at
            at = int(arrive_by_utc_s) - np.round(walk + policy.park_s + search_s).astype(np.int64)
            if f.size and np.abs(at - previous).max() < 1:
                break
            view = outlook(parking, f, at, policy=policy, live=live, now_utc_s=now_utc_s,
                       pending=pending)
            search_s = view.expected_search_s
    return rank(view, drive, walk, policy=policy, depart_utc_s=depart_utc_s,
                arrive_by_utc_s=arrive_by_utc_s, drive_between_s=drive_between_s,
                pending=pending)


def rank(view: Outlook, drive_s, walk_s, *, policy: ParkingPolicy = ParkingPolicy(),
         depart_utc_s: int | None = None, arrive_by_utc_s: int | None = None,
         drive_between_s=None, pending: PendingArrivals | None = None) -> FacilityChoice:
    """Choose among candidates whose forecast is ``view`` (rows aligned with ``drive_s`` and
    ``walk_s``): the rules of the module docstring. With neither time given, the
    ``depart_utc_s``/``arrive_utc_s`` of the result are 0 (walks to a stop, say).
    ``drive_between_s`` (rows x rows, seconds) adds the expected diversion when full.
    ``pending`` (with ``view`` made with it) spreads the choice (:func:`spread_among`)."""
    f = np.asarray(view.facility_idx, dtype=np.int64)
    drive = np.asarray(drive_s, dtype=np.float64)
    walk = np.asarray(walk_s, dtype=np.float64)
    static = drive + policy.park_s + walk
    total = static + view.expected_search_s
    avoided = view.p_free < policy.min_p_free
    if drive_between_s is not None and f.size > 1:
        onward = np.array(drive_between_s, dtype=np.float64, copy=True)
        onward += (view.expected_search_s + walk)[None, :]
        onward[:, avoided] = np.inf                    # nobody diverts to a likely full one
        np.fill_diagonal(onward, np.inf)
        best = onward.min(axis=1)
        # no reachable alternative: the wait in SearchTimeModel is all a full one costs
        total = total + (1.0 - view.p_free) * np.where(np.isfinite(best), best - walk, 0.0)
    rows = np.arange(f.size)
    # least expected total, then the higher p_free, then the lower facility index
    order = np.lexsort((f, -view.p_free, total))
    usable = order[~avoided[order]]
    chosen = int(usable[0]) if usable.size else NO_CHOICE
    if pending is not None and chosen != NO_CHOICE:
        chosen = spread_among(view, f, usable, total, pending)
    fallback = NO_CHOICE
    if chosen != NO_CHOICE and view.p_free[chosen] < policy.fallback_below_p_free:
        better = usable[view.p_free[usable] > view.p_free[chosen]]
        fallback = int(better[0]) if better.size else NO_CHOICE
    listed = rows[passed_over(avoided, walk, static, chosen)]
    listed = listed[np.lexsort((f[listed], walk[listed]))]
    if depart_utc_s is not None:
        depart = np.full(f.size, int(depart_utc_s), dtype=np.int64)
        arrive = depart + np.round(total).astype(np.int64)
    elif arrive_by_utc_s is not None:
        arrive = np.full(f.size, int(arrive_by_utc_s), dtype=np.int64)
        depart = arrive - np.round(total).astype(np.int64)
    else:
        depart = arrive = np.zeros(f.size, dtype=np.int64)
    return FacilityChoice(facility_idx=f.astype(np.int32), drive_s=drive, walk_s=walk, outlook=view,
                          total_s=total, static_s=static, avoided=avoided, chosen=chosen,
                          fallback=fallback, listed_avoided=listed, depart_utc_s=depart,
                          arrive_utc_s=arrive)


def spread_among(view: Outlook, facility_idx: np.ndarray, usable: np.ndarray, total_s: np.ndarray,
                 pending: PendingArrivals) -> int:
    """The row chosen among ``usable`` (best first) once drivers have been sent: the best while
    the drivers heading to it take little of its room (``PendingArrivals.crowds``: so a lone
    driver gets what a planner without recommendations gives), else
    :func:`engine.parking.pending.spread_choice` among those within ``pending.spread_within_s``
    of it, by expected room."""
    best = int(usable[0])
    if view.pending_drivers is None or not pending.crowds(view.pending_drivers[best],
                                                          view.expected_free[best]):
        return best
    u = pending.spread_u(facility_idx[usable])
    return spread_choice(usable, total_s, view.expected_free, pending.spread_within_s, u)


def passed_over(avoided: np.ndarray, walk_s: np.ndarray, static_s: np.ndarray, chosen: int
                ) -> np.ndarray:
    """Rows worth telling the traveller about: facilities a static planner would have preferred
    (nearer the destination on foot, or quicker ignoring occupancy) that were avoided (p_free
    under the threshold), or that lost to the chosen one only through their expected search."""
    if chosen == NO_CHOICE:
        return avoided.copy()
    quicker = static_s < static_s[chosen]
    nearer = walk_s < walk_s[chosen]
    not_chosen = np.arange(avoided.size) != chosen
    return (avoided & (quicker | nearer)) | (~avoided & quicker & not_chosen)


# ---------------------------------------------------------------------------------------------
# Words: what the itinerary says about a facility
# ---------------------------------------------------------------------------------------------
def local_hhmm(timezone: str, utc_s: int) -> str:
    """Local wall-clock time "HH:MM" of an instant in an IANA zone."""
    when = dt.datetime.fromtimestamp(int(utc_s), tz=zoneinfo.ZoneInfo(timezone))
    return when.strftime("%H:%M")


def chance_words(p: float, thing: str = "space") -> str:
    """"70% chance of a space"; above 99 % "almost certainly a space", below 1 % "almost never
    a space" (a forecast is never sure: "100%" would overstate it). ``thing``: what is hoped
    for ("space", "bike", "free dock")."""
    p = float(p)
    if p > 0.99:
        return f"almost certainly a {thing}"
    if p < 0.01:
        return f"almost never a {thing}"
    return f"{round(100 * p)}% chance of a {thing}"


def _minutes(seconds: float) -> str:
    return f"{max(1, round(float(seconds) / 60))} min"


def facility_label(parking: Parking, facility_idx: int) -> str:
    """The facility's name, or its id when it has none."""
    name = str(parking.facility_name[facility_idx]).strip()
    return name or str(parking.facility_ids[facility_idx])


def avoided_reason(parking: Parking, view: Outlook, row: int, timezone: str, *,
                   min_p_free: float = DEFAULT_MIN_P_FREE) -> str:
    """Why a facility was not chosen, e.g. "Parking du Casino is usually full at 15:30 (12%
    chance of a space)" under the threshold, or "... is often full at 15:30 (34% chance of a
    space, 5 min expected to find one)" when it lost on expected search time."""
    name = facility_label(parking, int(view.facility_idx[row]))
    when = local_hhmm(timezone, int(view.arrive_utc_s[row]))
    p = float(view.p_free[row])
    live = view.basis[row] == ForecastBasis.LIVE
    others = _others_heading(view, row)
    if p < min_p_free:
        how = "is expected to be full" if live else "is usually full"
        return f"{name} {how} at {when} ({chance_words(p)}{others})"
    how = ("is likely to be full" if live else "is often full") if p < 0.5 else "may be full"
    return (f"{name} {how} at {when} ({chance_words(p)}, "
            f"{_minutes(view.expected_search_s[row])} expected to find one{others})")


def _drivers(view: Outlook, row: int) -> int:
    """Drivers already sent to the facility of ``row`` and there at its arrival (rounded)."""
    return 0 if view.pending_drivers is None else int(round(float(view.pending_drivers[row])))


def _others_heading(view: Outlook, row: int) -> str:
    n = _drivers(view, row)
    if n < 1:
        return ""
    return f", {n} other driver{'s' if n > 1 else ''} heading there"


def heading_note(parking: Parking, choice: FacilityChoice, row: int) -> str | None:
    """"3 other drivers are heading to Parking Comédie; Parking Corum is the better bet": said
    when a facility that would have been at least as good as the chosen one (``row``) without
    the drivers already sent there lost because of them; None otherwise."""
    view = choice.outlook
    if view.pending_drivers is None or view.search_without_pending_s is None:
        return None
    base_total = choice.static_s + view.search_without_pending_s
    n = np.round(view.pending_drivers)
    lost = (n >= 1) & (base_total <= choice.total_s[row]) & (np.arange(n.size) != row)
    if not lost.any():
        return None
    other = int(np.flatnonzero(lost)[np.argmin(base_total[lost])])
    k = int(n[other])
    verb = "drivers are" if k > 1 else "driver is"
    return (f"{k} other {verb} heading to {facility_label(parking, int(view.facility_idx[other]))}; "
            f"{facility_label(parking, int(view.facility_idx[row]))} is the better bet")


def chosen_reason(parking: Parking, view: Outlook, row: int, walk_s: float) -> str:
    """"Parking des Pêcheurs, 4 min walk, has 80% chance of a space" ("..., almost certainly has
    a space" above 99 %, "almost never has a space" below 1 %)."""
    name = facility_label(parking, int(view.facility_idx[row]))
    if view.basis[row] == ForecastBasis.UNKNOWN:
        return f"{name}, {_minutes(walk_s)} walk, occupancy unknown"
    p = float(view.p_free[row])
    words = chance_words(p)
    has = f"has {words}" if 0.01 <= p <= 0.99 else words.replace(" a space", " has a space")
    return f"{name}, {_minutes(walk_s)} walk, {has}"


def facility_summary(parking: Parking, choice: FacilityChoice, row: int, timezone: str) -> dict:
    """JSON-able description of one candidate: id, name, forecast, times."""
    view = choice.outlook
    f = int(view.facility_idx[row])
    free = float(view.expected_free[row])
    occ = float(view.occupancy[row])
    return {
        "facility_id": str(parking.facility_ids[f]),
        "name": facility_label(parking, f),
        "kind": ParkingKind(int(parking.kind[f])).name,
        "lon": float(parking.lon[f]), "lat": float(parking.lat[f]),
        "capacity": int(parking.capacity[f]) if int(parking.capacity[f]) > 0 else None,
        "arrival_local": local_hhmm(timezone, int(view.arrive_utc_s[row])),
        "p_space_free": round(float(view.p_free[row]), 3),
        "expected_free_spaces": None if math.isnan(free) else round(free, 1),
        "expected_occupancy": None if math.isnan(occ) else round(occ, 3),
        "expected_search_s": round(float(view.expected_search_s[row]), 1),
        "forecast_basis": ForecastBasis(int(view.basis[row])).name.lower(),
        "drive_s": round(float(choice.drive_s[row]), 1),
        "walk_s": round(float(choice.walk_s[row]), 1),
        "expected_total_s": round(float(choice.total_s[row]), 1),
        "below_threshold": bool(choice.avoided[row]),
        **({} if view.pending_drivers is None
           else {"drivers_heading_there": round(float(view.pending_drivers[row]), 1)}),
    }
