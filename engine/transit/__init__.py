"""Public transit routing: RAPTOR (Delling, Pajor & Werneck, 2012) over the flat timetable.

One numba kernel, :func:`_raptor`, answers every journey query:

* **earliest arrival** for a departure time, with the **Pareto set** of (arrival, number of
  trips) that RAPTOR's rounds give: round k holds the best arrival using at most k trips;
* **range RAPTOR** (rRAPTOR): every departure in a window, latest first, reusing the labels of
  the later departures (they stay valid upper bounds for earlier ones), Pareto over
  (departure, arrival, transfers). The departures are the exact times at which leaving catches
  a trip (at an access stop or one footpath further) plus the window's end, so the answer is
  the Pareto set over every departure time in the window; each journey is reported with the
  latest time one can leave for it (past the window's end for what the last departure waits
  for);
* **arrive-by** (latest departure for a required arrival): the same kernel run on the *reversed*
  timetable, a derived array set built once per timetable (routes' stop order reversed, trips
  reversed, times negated, footpaths transposed). Negated times turn "latest departure" into
  "earliest arrival", so no second algorithm exists.

A second kernel, :func:`_raptor_matrix` (:meth:`TransitRouter.arrival_matrix`, behind the
travel-time matrices and transit isochrones), runs the same rounds from many origins to every
stop and on to many destinations, without a target and with a time breakdown per label. Both
are built from the same round helpers (access, route scan, transfers), so the rules below hold
for both.

Semantics (the oracle in ``tests/engine/transit_oracle.py`` implements the same definitions):

* **Service days.** A query on service day D (days since 1970-01-01) at ``depart_s`` seconds
  after D's reference (local noon minus 12 h, as GTFS defines it) uses the trips active on D and
  the trips active on D-1 with their times moved into D's frame (minus the length of day D-1,
  86,400 s except across a daylight-saving change). Both are *layers* of the same routes: the
  route scan follows one current trip per layer, so nothing is copied per query. Which trips run
  is a per-(date, wheelchair) bitmask, cached.
* **Transfers.** Boarding at the stop where one alighted needs the stop's minimum transfer time
  (``Timetable.stop_min_transfer_s``, from transfers.txt) or else ``TransitOptions.
  transfer_slack_s`` (60 s by default: stepping off one bus onto another leaving the same second
  is not a real connection; OTP calls this "transferSlack"). A footpath's time (transfers.txt
  ``min_transfer_time`` between two stops, or the walk computed at build time) already covers
  the change, so no slack is added on top of it. Only one footpath follows each trip (footpaths
  are not chained). transfers.txt ``transfer_type`` 3 is honoured: a same-stop pair forbids
  alighting and boarding again at that stop, a pair of different stops removes that footpath.
* **Access and egress** are lists of (stop_idx, seconds): the street search provides them, or a
  stop id gives its stop (a station its stops) at 0 s. A journey is: access, at most one
  footpath, a trip, then any number of (transfer: same stop or one footpath, trip), then at
  most one footpath, egress. Footpaths at both ends make the search symmetric in time, so
  arrive-by and depart-at answer the same question. Journeys without any trip are not RAPTOR's
  business (the planner offers walking).

* **Errors.** A day outside the feed's calendar span (the day after its last day is accepted:
  that day's trips run past midnight) raises :class:`OutsideServicePeriod` naming the valid
  range; an unknown stop id :class:`UnknownStop`; both carry the API's reason ``code``. A day
  inside the span with no service simply gives no journey.

Labels are per round with "at most k trips" semantics (rows never increase with k), which keeps
the Pareto set exact under range RAPTOR and a transfer limit. The kernel records, for each label,
how it was reached and writes each Pareto-optimal journey's legs into flat output arrays.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import threading
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

import numba
import numpy as np

from engine.cache import Memo, PerObject
from engine.model import Timetable

UNREACHED = np.iinfo(np.int32).max
"""Arrival time (s) of a stop or target not reached."""

NO_PREDECESSOR = -1
"""Trip or stop index of a label that has no predecessor recorded."""

FROM_ACCESS = -2
"""Predecessor of a round-0 label: the origin, through the access list."""

# Leg kinds in a JourneySet.
LEG_ACCESS = 0      # origin -> first boarding stop (from the access list)
LEG_RIDE = 1        # one trip from a boarding stop to an alighting stop
LEG_TRANSFER = 2    # a footpath between two stops
LEG_EGRESS = 3      # last stop -> destination (from the egress list)

_KIND_VEHICLE = 0   # a label reached by alighting from a trip
_KIND_FOOT = 1      # a label reached on foot (access or footpath)

_N_LEG_FIELDS = 9   # kind, from, to, depart, arrive, trip, board_pos, alight_pos, layer

DEFAULT_TRANSFER_SLACK_S = 60
"""Same-stop transfer time (s) where transfers.txt gives none; see the module docstring."""

DEFAULT_MAX_TRANSFERS = 8
DEFAULT_WALK_SPEED_MPS = 1.3
"""Walking speed at which footpaths are computed at build time (engine.transit.footpaths)."""

ROUTE_MODES = ("TRAM", "SUBWAY", "RAIL", "BUS", "FERRY", "CABLE_TRAM", "GONDOLA", "FUNICULAR",
               "TROLLEYBUS", "MONORAIL", "COACH", "TAXI", "AIRPLANE")


def route_mode(route_type: int) -> str:
    """The transit mode name of a GTFS route_type, basic (0-12) or extended (100-1700).

    >>> route_mode(3), route_mode(900), route_mode(715)
    ('BUS', 'TRAM', 'BUS')
    """
    t = int(route_type)
    basic = {0: "TRAM", 1: "SUBWAY", 2: "RAIL", 3: "BUS", 4: "FERRY", 5: "CABLE_TRAM",
             6: "GONDOLA", 7: "FUNICULAR", 11: "TROLLEYBUS", 12: "MONORAIL"}
    if t in basic:
        return basic[t]
    hundreds = t // 100
    extended = {1: "RAIL", 2: "COACH", 4: "SUBWAY", 5: "SUBWAY", 6: "SUBWAY", 7: "BUS", 8: "TROLLEYBUS",
                9: "TRAM", 10: "FERRY", 11: "AIRPLANE", 12: "FERRY", 13: "GONDOLA", 14: "FUNICULAR",
                15: "TAXI", 16: "TAXI", 17: "BUS"}
    return extended.get(hundreds, "BUS")


# ---------------------------------------------------------------------------------------------
# Errors (the API maps their ``code`` to a reason code of an empty answer)
# ---------------------------------------------------------------------------------------------
class TransitQueryError(ValueError):
    """A query the timetable cannot answer; ``code`` is the API's reason code."""

    code = "INVALID_QUERY"


class OutsideServicePeriod(TransitQueryError):
    """The query date is outside the feed's service period (``first_day``..``last_day``)."""

    code = "OUTSIDE_SERVICE_PERIOD"

    def __init__(self, day: int, first_day: int | None, last_day: int | None):
        self.day, self.first_day, self.last_day = day, first_day, last_day
        if first_day is None:
            msg = f"no trip runs on any day of this timetable (asked for {_iso_day(day)})"
        else:
            msg = (f"{_iso_day(day)} is outside the service period of the timetable: "
                   f"{_iso_day(first_day)} to {_iso_day(last_day)}")
        super().__init__(msg)


class UnknownStop(TransitQueryError, KeyError):
    """A stop id that the timetable does not have."""

    code = "UNKNOWN_STOP"

    def __init__(self, stop_id: str):
        self.stop_id = stop_id
        super().__init__(f"unknown stop id {stop_id!r}")

    def __str__(self) -> str:  # KeyError would quote the message again
        return self.args[0]


def _iso_day(day: int) -> str:
    return (_dt.date(1970, 1, 1) + _dt.timedelta(days=int(day))).isoformat()


# ---------------------------------------------------------------------------------------------
# Service-day time
# ---------------------------------------------------------------------------------------------
def day_of(date: _dt.date) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return (date - _dt.date(1970, 1, 1)).days


def service_day_reference(timezone: str, day: int) -> _dt.datetime:
    """The instant from which a service day's times count: local noon minus 12 h (GTFS)."""
    date = _dt.date(1970, 1, 1) + _dt.timedelta(days=int(day))
    noon = _dt.datetime(date.year, date.month, date.day, 12, tzinfo=zoneinfo.ZoneInfo(timezone))
    return (noon.astimezone(_dt.UTC) - _dt.timedelta(hours=12)).astimezone(noon.tzinfo)


def to_service_time(timezone: str, when: _dt.datetime) -> tuple[int, int]:
    """(service day, seconds after its reference) of an aware or naive local datetime.

    The service day is the local calendar date of ``when``; naive datetimes are read in
    ``timezone``.
    """
    tz = zoneinfo.ZoneInfo(timezone)
    when = when.replace(tzinfo=tz) if when.tzinfo is None else when.astimezone(tz)
    day = day_of(when.date())
    ref = service_day_reference(timezone, day).astimezone(_dt.UTC)
    return day, int(round((when.astimezone(_dt.UTC) - ref).total_seconds()))


def from_service_time(timezone: str, day: int, seconds: int) -> _dt.datetime:
    """The local aware datetime of ``seconds`` after service day ``day``'s reference."""
    ref = service_day_reference(timezone, day)
    return (ref.astimezone(_dt.UTC) + _dt.timedelta(seconds=int(seconds))).astimezone(ref.tzinfo)


@functools.lru_cache(maxsize=512)
def previous_day_shift_s(timezone: str, day: int) -> int:
    """Seconds between the references of service days ``day - 1`` and ``day`` (86,400 but on
    daylight-saving changes): what a previous-day trip's times lose in ``day``'s frame."""
    # in UTC: aware datetimes sharing a tzinfo subtract as wall-clock times
    a = service_day_reference(timezone, day - 1).astimezone(_dt.UTC)
    b = service_day_reference(timezone, day).astimezone(_dt.UTC)
    return int(round((b - a).total_seconds()))


# ---------------------------------------------------------------------------------------------
# Options and results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TransitOptions:
    """Query options.

    ``modes``: transit mode names (see :data:`ROUTE_MODES`, :func:`route_mode`) allowed, None for
    all. ``wheelchair``: only trips and stops marked accessible (GTFS value 1; unknown counts as
    not accessible). ``walk_speed_mps`` scales footpath times, which are stored at
    :data:`DEFAULT_WALK_SPEED_MPS` (transfers.txt minimum times are scaled with them).
    """

    max_transfers: int = DEFAULT_MAX_TRANSFERS
    transfer_slack_s: int = DEFAULT_TRANSFER_SLACK_S
    walk_speed_mps: float = DEFAULT_WALK_SPEED_MPS
    modes: frozenset | None = None
    wheelchair: bool = False
    max_duration_s: int = 24 * 3600

    def __post_init__(self):
        if not 0 <= self.max_transfers <= 30:
            raise ValueError(f"max_transfers must be between 0 and 30, got {self.max_transfers}")
        if self.transfer_slack_s < 0:
            raise ValueError(f"transfer_slack_s must be >= 0, got {self.transfer_slack_s}")
        if not self.walk_speed_mps > 0:
            raise ValueError(f"walk_speed_mps must be > 0, got {self.walk_speed_mps}")
        if self.max_duration_s <= 0:
            raise ValueError(f"max_duration_s must be > 0, got {self.max_duration_s}")
        if self.modes is not None:
            modes = frozenset(str(m).upper() for m in self.modes)
            unknown = modes - set(ROUTE_MODES)
            if unknown:
                raise ValueError(f"unknown transit modes {sorted(unknown)}; known: {list(ROUTE_MODES)}")
            object.__setattr__(self, "modes", modes)


DEFAULT_OPTIONS = TransitOptions()


@dataclass(frozen=True)
class JourneySet:
    """Journeys found by one query, as flat arrays (no Python object per journey or leg).

    Times are seconds after the reference of the query's service day ``day``. A ride on a trip
    of the previous service day has ``leg_day_offset`` -1 and its times already moved into
    ``day``'s frame (subtract ``previous_day_shift_s`` to get its scheduled times). Journey j's
    legs are ``leg_offsets[j]:leg_offsets[j + 1]``, in travel order: access, then rides and
    transfers, then egress. ``depart_s`` is the latest time one can leave the origin (the first
    ride's departure minus its access time); an access leg keeps the time it was searched at.
    """

    day: int
    previous_day_shift_s: int
    depart_s: np.ndarray        # journey -> latest departure from the origin (int32)
    arrive_s: np.ndarray        # journey -> arrival at the destination (int32)
    n_trips: np.ndarray         # journey -> number of rides (transfers + 1)
    leg_offsets: np.ndarray     # journey -> first leg (len n_journeys + 1)
    leg_kind: np.ndarray        # leg -> LEG_ACCESS / LEG_RIDE / LEG_TRANSFER / LEG_EGRESS
    leg_from_stop: np.ndarray   # leg -> stop_idx (-1 for the origin)
    leg_to_stop: np.ndarray     # leg -> stop_idx (-1 for the destination)
    leg_depart_s: np.ndarray    # leg -> departure (ride: scheduled departure at the boarding stop)
    leg_arrive_s: np.ndarray    # leg -> arrival (ride: scheduled arrival at the alighting stop)
    leg_trip_idx: np.ndarray    # leg -> trip_idx of a ride, else -1
    leg_board_pos: np.ndarray   # leg -> position of the boarding stop in the ride's route
    leg_alight_pos: np.ndarray  # leg -> position of the alighting stop in the ride's route
    leg_day_offset: np.ndarray  # leg -> 0 (trip of `day`) or -1 (trip of the previous day)

    @property
    def n_journeys(self) -> int:
        return int(self.depart_s.shape[0])

    @property
    def transfers(self) -> np.ndarray:
        return np.maximum(self.n_trips - 1, 0)

    def earliest(self) -> int:
        """Index of the journey arriving first (fewest trips among ties); -1 when empty."""
        if self.n_journeys == 0:
            return -1
        return int(np.lexsort((self.n_trips, self.arrive_s))[0])

    def legs(self, j: int) -> range:
        return range(int(self.leg_offsets[j]), int(self.leg_offsets[j + 1]))


# ---------------------------------------------------------------------------------------------
# The rules of a RAPTOR round, shared by the kernels (journeys: _raptor; many-to-many: _raptor_matrix)
# ---------------------------------------------------------------------------------------------
# The helpers below hold what a round *is*: where one may first board (round 0), which routes to
# scan and from where, which trip one catches and where it arrives (and the target of a journey
# search), how one changes (same stop with its slack, or one footpath). Labels are per round k
# with "at most k trips" semantics; both kernels keep
#   best_board[k, s]    earliest time one may board at s having taken <= k trips
#   best_vehicle[k, s]  earliest arrival at s by the k-th trip (or fewer); v_time[k, s] if set in k
#   target[k]           earliest arrival at the destination (UNREACHED, never lowered, without one)
# and, as each needs (an empty array: not kept, never read):
#   journeys: v_trip, v_bpos, v_apos, v_layer [k, s], the ride that set best_vehicle in round k,
#             and f_time, f_from [k, s], the walk (access or footpath) that set best_board;
#   components (the matrix's time breakdown, _COMP_*): board_comp/v_comp [k, s] of each label,
#             and the earliest arrival at each stop after a ride (reach_s, with its components,
#             the list of stops reached).
# So one set of helpers serves both kernels without callbacks.
# Speed: the helpers are inlined (numba inline="always"), each called once per round. Inside
# their hot loops, lowering a label's rows, marking a stop and the binary search are written out
# by hand: an inlined numba function that takes arrays pays reference counting at every call
# (helpers there cost about 20 % on a Montpellier query), and a plain call is slower still.

# an access step (from _access_steps)
_ST_FROM = 0          # stop walked from by a footpath (-1: straight from the origin)
_ST_TO = 1            # stop where one may board
_ST_SECS = 2          # seconds after leaving the origin
_N_ST_FIELDS = 3

# the components of a label's journey (the matrix's time breakdown), when a kernel keeps them
_COMP_ACCESS = 0      # seconds walking to the first stop (with a footpath right after)
_COMP_RIDE = 1        # seconds in vehicles
_COMP_WALK = 2        # seconds of footpaths between rides
_COMP_TRIPS = 3       # number of trips
_N_COMP = 4


@numba.njit(cache=True, inline="always")
def _lower_rows_1d(row, k, value):
    """row[j] = min(row[j], value) for every round j >= k."""
    for j in range(k, row.shape[0]):
        if row[j] > value:
            row[j] = value
        else:
            break


@numba.njit(cache=True, inline="always")
def _lower_bound(values, lo, hi, key):
    """First index i in [lo, hi) with values[i] >= key (values sorted), or hi."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True)
def _access_steps(access_stop, access_s, fp_offsets, fp_to, fp_time_s, stop_ok, max_duration_s):
    """Where a journey may first board and how many seconds after leaving the origin: every
    allowed access stop, then one footpath from each (to an allowed stop, within
    ``max_duration_s``). Returns (steps (n, 3), see ``_ST_*``; how many access stops lead). The
    same for every departure time: computed once per origin."""
    n = 0
    for i in range(access_stop.shape[0]):
        s = access_stop[i]
        if stop_ok[s]:
            n += 1 + fp_offsets[s + 1] - fp_offsets[s]
    steps = np.empty((n, _N_ST_FIELDS), dtype=np.int32)
    n = 0
    for i in range(access_stop.shape[0]):
        s = access_stop[i]
        if stop_ok[s]:
            steps[n, _ST_FROM] = -1
            steps[n, _ST_TO] = s
            steps[n, _ST_SECS] = access_s[i]
            n += 1
    n_direct = n
    for i in range(access_stop.shape[0]):
        s = access_stop[i]
        if not stop_ok[s]:
            continue
        for j in range(fp_offsets[s], fp_offsets[s + 1]):
            v = fp_to[j]
            secs = access_s[i] + fp_time_s[j]
            if secs <= max_duration_s and stop_ok[v]:
                steps[n, _ST_FROM] = s
                steps[n, _ST_TO] = v
                steps[n, _ST_SECS] = secs
                n += 1
    return steps[:n], n_direct


@numba.njit(cache=True, inline="always")
def _access_labels(tau, horizon, steps, n_direct, best_board, f_time, f_from, board_comp, mark,
                   marked, is_marked):
    """Round 0 for a departure at ``tau``: the access steps (of _access_steps) that improve
    ``best_board`` by ``horizon``, with their walk labels or components (when kept); marks those
    stops when ``mark``. Returns the number of marked stops."""
    paths = f_time.shape[0] > 0
    comps = board_comp.shape[0] > 0
    n_rows = best_board.shape[0]
    n_marked = 0
    for i in range(steps.shape[0]):
        s = steps[i, _ST_TO]
        t = tau + steps[i, _ST_SECS]
        if t > horizon:
            continue
        end = 0
        while end < n_rows and best_board[end, s] > t:
            best_board[end, s] = t
            if comps:
                for c in range(_N_COMP):
                    board_comp[end, s, c] = 0
                board_comp[end, s, _COMP_ACCESS] = steps[i, _ST_SECS]
            end += 1
        if end > 0:
            if paths:
                f_time[0, s] = t
                f_from[0, s] = FROM_ACCESS if i < n_direct else steps[i, _ST_FROM]
            if mark and not is_marked[s]:
                is_marked[s] = True
                marked[n_marked] = s
                n_marked += 1
    return n_marked


@numba.njit(cache=True)
def _round_work(n_stops, n_routes):
    """The work arrays of the rounds: (first_pos, queue) of routes to scan, (marked, is_marked)
    stops to scan from, (improved, is_improved) stops reached by a ride this round."""
    return (np.full(n_routes, -1, dtype=np.int32), np.empty(n_routes, dtype=np.int32),
            np.empty(n_stops, dtype=np.int32), np.zeros(n_stops, dtype=np.bool_),
            np.empty(n_stops, dtype=np.int32), np.zeros(n_stops, dtype=np.bool_))


@numba.njit(cache=True, inline="always")
def _routes_to_scan(marked, n_marked, is_marked, stop_route_offsets, stop_route_idx, stop_route_pos,
                    route_ok, first_pos, queue):
    """The allowed routes through the marked stops (which are unmarked), each once in ``queue``
    with its first marked position in ``first_pos`` (-1 elsewhere). Returns the count."""
    n_queue = 0
    for i in range(n_marked):
        s = marked[i]
        is_marked[s] = False
        for j in range(stop_route_offsets[s], stop_route_offsets[s + 1]):
            r = stop_route_idx[j]
            if not route_ok[r]:
                continue
            p = stop_route_pos[j]
            if first_pos[r] < 0:
                queue[n_queue] = r
                n_queue += 1
                first_pos[r] = p
            elif p < first_pos[r]:
                first_pos[r] = p
    return n_queue


@numba.njit(cache=True, inline="always")
def _scan_routes(k, queue, n_queue, first_pos, routes, trip_active, stop_ok, day_shift_s, horizon,
                 best_board, best_vehicle, v_time, v_trip, v_bpos, v_apos, v_layer, improved,
                 is_improved, egress_s_by_stop, target, target_stop, target_kind,
                 board_comp, v_comp, reach_s, reach_comp, reach_list, is_reach, n_reach):
    """Round k's route scans: each queued route from its first marked position (``first_pos``,
    reset to -1), following one current trip per day layer (a previous-day trip's times count
    minus ``day_shift_s``). At each allowed stop, alight (where allowed) from the quicker of the
    two into round k's labels if that beats them, the target and ``horizon``; then hop on
    (where allowed) an earlier trip catchable from round k - 1's ``best_board``. Improved stops
    join ``improved`` (from empty); a stop with an egress updates the target.

    ``routes``: the timetable's (route_stop_offsets, route_stops, route_can_board,
    route_can_alight, route_trip_offsets, stop_time_offsets, arrival_s, departure_s). With
    components (``board_comp`` not empty), a ride's label gets those of the label it was boarded
    from, plus the ride and a trip, and an arrival before ``reach_s`` updates it, ``reach_comp``
    and the list ``reach_list[:n_reach]``. Returns (number of improved stops, n_reach). (At most
    30 arguments: CPython passes more through a tuple, and numba cannot inline such a call.)"""
    (route_stop_offsets, route_stops, route_can_board, route_can_alight, route_trip_offsets,
     stop_time_offsets, arrival_s, departure_s) = routes
    paths = v_trip.shape[0] > 0
    comps = board_comp.shape[0] > 0
    n_rows = best_vehicle.shape[0]
    n_improved = 0
    for qi in range(n_queue):
        r = queue[qi]
        p0 = first_pos[r]
        first_pos[r] = -1
        rs0 = route_stop_offsets[r]
        n_pos = route_stop_offsets[r + 1] - rs0
        t0 = route_trip_offsets[r]
        n_tr = route_trip_offsets[r + 1] - t0
        b0 = stop_time_offsets[r]
        cur0 = -1   # current trip (index in route) of the query day
        cur1 = -1   # current trip of the previous day
        bpos0 = 0   # where they were boarded
        bpos1 = 0
        bdep0 = 0   # and their departure there (in the query's frame)
        bdep1 = 0
        for pos in range(p0, n_pos):
            s = route_stops[rs0 + pos]
            base = b0 + pos * n_tr
            if not stop_ok[s]:
                continue
            if (cur0 >= 0 or cur1 >= 0) and route_can_alight[rs0 + pos]:
                a = UNREACHED
                layer = 0
                if cur0 >= 0:
                    a = arrival_s[base + cur0]
                if cur1 >= 0:
                    a1 = arrival_s[base + cur1] - day_shift_s
                    if a1 < a:
                        a = a1
                        layer = 1
                if a < best_vehicle[k, s] and a < target[k] and a <= horizon:
                    trip = cur0 if layer == 0 else cur1
                    bpos = bpos0 if layer == 0 else bpos1
                    j = k
                    while j < n_rows and best_vehicle[j, s] > a:
                        best_vehicle[j, s] = a
                        j += 1
                    v_time[k, s] = a
                    if paths:
                        v_trip[k, s] = t0 + trip
                        v_bpos[k, s] = bpos
                        v_apos[k, s] = pos
                        v_layer[k, s] = layer
                    if not is_improved[s]:
                        is_improved[s] = True
                        improved[n_improved] = s
                        n_improved += 1
                    e = egress_s_by_stop[s]
                    if e >= 0 and a + e < target[k]:
                        _lower_rows_1d(target, k, a + e)
                        target_stop[k] = s
                        target_kind[k] = _KIND_VEHICLE
                    if comps:
                        b = route_stops[rs0 + bpos]
                        for c in range(_N_COMP):
                            v_comp[k, s, c] = board_comp[k - 1, b, c]
                        v_comp[k, s, _COMP_RIDE] += a - (bdep0 if layer == 0 else bdep1)
                        v_comp[k, s, _COMP_TRIPS] += 1
                        if a < reach_s[s]:
                            reach_s[s] = a
                            for c in range(_N_COMP):
                                reach_comp[s, c] = v_comp[k, s, c]
                            if not is_reach[s]:
                                is_reach[s] = True
                                reach_list[n_reach] = s
                                n_reach += 1
            if route_can_board[rs0 + pos]:
                ready = best_board[k - 1, s]
                if ready != UNREACHED:
                    # the earliest trip of each layer catchable here, if earlier than the current
                    for layer in range(2):
                        cur = cur0 if layer == 0 else cur1
                        need = ready + layer * day_shift_s
                        hi = n_tr if cur < 0 else cur
                        if hi == 0 or departure_s[base + hi - 1] < need:
                            continue
                        lo = base
                        top = base + hi
                        while lo < top:   # the first departure >= need (binary search)
                            mid = (lo + top) >> 1
                            if departure_s[mid] < need:
                                lo = mid + 1
                            else:
                                top = mid
                        t = lo - base
                        while t < hi and (trip_active[t0 + t] & (layer + 1)) == 0:
                            t += 1
                        if t < hi:
                            if layer == 0:
                                cur0 = t
                                bpos0 = pos
                                bdep0 = departure_s[base + t]
                            else:
                                cur1 = t
                                bpos1 = pos
                                bdep1 = departure_s[base + t] - day_shift_s
    return n_improved, n_reach


@numba.njit(cache=True, inline="always")
def _transfer_labels(k, improved, n_improved, is_improved, v_time, stop_slack_s, fp_offsets, fp_to,
                     fp_time_s, stop_ok, horizon, best_board, f_time, f_from, marked, is_marked,
                     egress_s_by_stop, target, target_stop, target_kind, target_via,
                     board_comp, v_comp, reach_s, reach_comp, reach_list, is_reach, n_reach):
    """Round k's transfers from the stops its rides improved (their ``is_improved`` flags are
    cleared): first staying at each stop, boarding its slack later (never where forbidden:
    slack < 0), then one footpath from each, to an allowed stop by ``horizon`` and before the
    target (a stop with an egress updates the target first: a walk-only label may beat the
    footpath's arrival there, but it is no journey). Improved boarding labels are marked.

    With components (``board_comp`` not empty), a boarding label gets those of the ride it
    follows, a footpath's time added to the transfer walk, and a footpath arriving before
    ``reach_s`` updates it, ``reach_comp`` and the list ``reach_list[:n_reach]``. Returns (number
    of marked stops, n_reach)."""
    paths = f_time.shape[0] > 0
    comps = board_comp.shape[0] > 0
    n_rows = best_board.shape[0]
    n_marked = 0
    for i in range(n_improved):
        s = improved[i]
        slack = stop_slack_s[s]
        if slack < 0:
            continue
        t = v_time[k, s] + slack
        end = k
        while end < n_rows and best_board[end, s] > t:
            best_board[end, s] = t
            if comps:
                for c in range(_N_COMP):
                    board_comp[end, s, c] = v_comp[k, s, c]
            end += 1
        if end > k and not is_marked[s]:
            is_marked[s] = True
            marked[n_marked] = s
            n_marked += 1
    for i in range(n_improved):
        s = improved[i]
        is_improved[s] = False
        a = v_time[k, s]
        for j in range(fp_offsets[s], fp_offsets[s + 1]):
            v = fp_to[j]
            t = a + fp_time_s[j]
            if t >= target[k] or t > horizon or not stop_ok[v]:
                continue
            e = egress_s_by_stop[v]
            if e >= 0 and t + e < target[k]:
                _lower_rows_1d(target, k, t + e)
                target_stop[k] = v
                target_kind[k] = _KIND_FOOT
                target_via[k] = s
            if comps and t < reach_s[v]:
                reach_s[v] = t
                for c in range(_N_COMP):
                    reach_comp[v, c] = v_comp[k, s, c]
                reach_comp[v, _COMP_WALK] += fp_time_s[j]
                if not is_reach[v]:
                    is_reach[v] = True
                    reach_list[n_reach] = v
                    n_reach += 1
            end = k
            while end < n_rows and best_board[end, v] > t:
                best_board[end, v] = t
                if comps:
                    for c in range(_N_COMP):
                        board_comp[end, v, c] = v_comp[k, s, c]
                    board_comp[end, v, _COMP_WALK] += fp_time_s[j]
                end += 1
            if end > k:
                if paths:
                    f_time[k, v] = t
                    f_from[k, v] = s
                if not is_marked[v]:
                    is_marked[v] = True
                    marked[n_marked] = v
                    n_marked += 1
    return n_marked, n_reach


# ---------------------------------------------------------------------------------------------
# The journey kernel
# ---------------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _append_leg(legs, n_legs, kind, from_stop, to_stop, dep, arr, trip, bpos, apos, layer):
    if n_legs >= legs.shape[0]:
        bigger = np.empty((legs.shape[0] * 2, _N_LEG_FIELDS), dtype=np.int32)
        bigger[:n_legs] = legs[:n_legs]
        legs = bigger
    legs[n_legs, 0] = kind
    legs[n_legs, 1] = from_stop
    legs[n_legs, 2] = to_stop
    legs[n_legs, 3] = dep
    legs[n_legs, 4] = arr
    legs[n_legs, 5] = trip
    legs[n_legs, 6] = bpos
    legs[n_legs, 7] = apos
    legs[n_legs, 8] = layer
    return legs, n_legs + 1


@numba.njit(cache=True)
def _raptor(route_stop_offsets, route_stops, route_can_board, route_can_alight, route_trip_offsets,
            stop_time_offsets, arrival_s, departure_s, trip_route_idx,
            stop_route_offsets, stop_route_idx, stop_route_pos,
            fp_offsets, fp_to, fp_time_s, stop_slack_s,
            trip_active, route_ok, stop_ok, day_shift_s,
            access_stop, access_s, egress_s_by_stop, departures_s, mark_offsets, mark_stops,
            max_trips, max_duration_s):
    """RAPTOR rounds for each departure time in ``departures_s`` (processed in the given order,
    latest first for range RAPTOR), labels kept between departures.

    Returns (journey array (n, 4): depart, arrive, n_trips, first leg; legs (m, 9); n_legs).
    ``trip_active`` bit 1: the trip runs on the query day, bit 2: on the day before (its times
    minus ``day_shift_s`` in the query's frame). ``stop_slack_s`` < 0 forbids same-stop transfers.

    Departure i marks, in round 0, the stops ``mark_stops[mark_offsets[i]:mark_offsets[i + 1]]``
    or, when that group is empty, every access (and footpath) stop it improves. Range RAPTOR
    passes the stops where a trip leaves exactly at that time: every other trip catchable then
    was catchable at the previous (later) departure, whose labels are kept, so scanning it again
    could improve nothing.
    """
    n_stops = stop_route_offsets.shape[0] - 1
    n_routes = route_stop_offsets.shape[0] - 1
    n_rows = max_trips + 1
    best_vehicle = np.full((n_rows, n_stops), UNREACHED, dtype=np.int32)
    best_board = np.full((n_rows, n_stops), UNREACHED, dtype=np.int32)
    v_time = np.full((n_rows, n_stops), UNREACHED, dtype=np.int32)
    v_trip = np.empty((n_rows, n_stops), dtype=np.int32)
    v_bpos = np.empty((n_rows, n_stops), dtype=np.int32)
    v_apos = np.empty((n_rows, n_stops), dtype=np.int32)
    v_layer = np.empty((n_rows, n_stops), dtype=np.int8)
    f_time = np.full((n_rows, n_stops), UNREACHED, dtype=np.int32)
    f_from = np.empty((n_rows, n_stops), dtype=np.int32)
    target = np.full(n_rows, UNREACHED, dtype=np.int32)
    target_before = np.empty(n_rows, dtype=np.int32)
    target_stop = np.full(n_rows, NO_PREDECESSOR, dtype=np.int32)
    target_kind = np.zeros(n_rows, dtype=np.int8)
    target_via = np.full(n_rows, NO_PREDECESSOR, dtype=np.int32)  # footpath source of a foot target
    first_pos, queue, marked, is_marked, improved, is_improved = _round_work(n_stops, n_routes)
    routes = (route_stop_offsets, route_stops, route_can_board, route_can_alight, route_trip_offsets,
              stop_time_offsets, arrival_s, departure_s)
    no_comp = np.empty((0, 0, _N_COMP), dtype=np.int32)     # (the matrix's time breakdown)
    no_reach = np.empty(0, dtype=np.int32)
    no_reach_comp = np.empty((0, _N_COMP), dtype=np.int32)
    no_reach_flags = np.empty(0, dtype=np.bool_)
    steps, n_direct = _access_steps(access_stop, access_s, fp_offsets, fp_to, fp_time_s, stop_ok,
                                    max_duration_s)
    journeys = np.empty((max(4, 2 * n_rows), 4), dtype=np.int32)
    n_journeys = 0
    legs = np.empty((64, _N_LEG_FIELDS), dtype=np.int32)
    n_legs = 0

    for dep_i in range(departures_s.shape[0]):
        tau = departures_s[dep_i]
        horizon = tau + max_duration_s
        target_before[:] = target
        mark_given = mark_offsets[dep_i + 1] > mark_offsets[dep_i]
        n_marked = _access_labels(tau, horizon, steps, n_direct, best_board, f_time, f_from, no_comp,
                                  not mark_given, marked, is_marked)
        if mark_given:
            for j in range(mark_offsets[dep_i], mark_offsets[dep_i + 1]):
                s = mark_stops[j]
                if best_board[0, s] != UNREACHED and not is_marked[s]:
                    is_marked[s] = True
                    marked[n_marked] = s
                    n_marked += 1

        for k in range(1, n_rows):
            if n_marked == 0:
                break
            # routes through the stops marked in round k - 1, from their first marked position
            n_queue = _routes_to_scan(marked, n_marked, is_marked, stop_route_offsets, stop_route_idx,
                                      stop_route_pos, route_ok, first_pos, queue)
            n_improved, _ = _scan_routes(
                k, queue, n_queue, first_pos, routes, trip_active, stop_ok, day_shift_s, horizon,
                best_board, best_vehicle, v_time, v_trip, v_bpos, v_apos, v_layer, improved,
                is_improved, egress_s_by_stop, target, target_stop, target_kind, no_comp, no_comp,
                no_reach, no_reach_comp, no_reach, no_reach_flags, 0)
            n_marked, _ = _transfer_labels(
                k, improved, n_improved, is_improved, v_time, stop_slack_s, fp_offsets, fp_to,
                fp_time_s, stop_ok, horizon, best_board, f_time, f_from, marked, is_marked,
                egress_s_by_stop, target, target_stop, target_kind, target_via, no_comp, no_comp,
                no_reach, no_reach_comp, no_reach, no_reach_flags, 0)
        for i in range(n_marked):
            is_marked[marked[i]] = False

        # journeys that improved a round's target label this departure and beat fewer trips
        for k in range(1, n_rows):
            if target[k] < target_before[k] and target[k] < target[k - 1]:
                if n_journeys >= journeys.shape[0]:
                    bigger = np.empty((journeys.shape[0] * 2, 4), dtype=np.int32)
                    bigger[:n_journeys] = journeys[:n_journeys]
                    journeys = bigger
                first_leg = n_legs
                legs, n_legs, depart, n_rides = _reconstruct(
                    k, target_stop[k], target_kind[k], target_via[k], tau, legs, n_legs,
                    route_stop_offsets, route_stops, route_trip_offsets, stop_time_offsets,
                    arrival_s, departure_s, trip_route_idx, fp_offsets, fp_to, fp_time_s,
                    stop_slack_s, day_shift_s, egress_s_by_stop, access_stop, access_s,
                    v_time, v_trip, v_bpos, v_apos, v_layer, f_time, f_from)
                journeys[n_journeys, 0] = depart
                journeys[n_journeys, 1] = target[k]
                journeys[n_journeys, 2] = n_rides
                journeys[n_journeys, 3] = first_leg
                n_journeys += 1
    return journeys[:n_journeys], legs, n_legs


@numba.njit(cache=True)
def _reconstruct(k, stop, kind, via, tau, legs, n_legs,
                 route_stop_offsets, route_stops, route_trip_offsets, stop_time_offsets,
                 arrival_s, departure_s, trip_route_idx, fp_offsets, fp_to, fp_time_s,
                 stop_slack_s, day_shift_s, egress_s_by_stop, access_stop, access_s,
                 v_time, v_trip, v_bpos, v_apos, v_layer, f_time, f_from):
    """Follow the recorded labels back from the target of round k; append the journey's legs in
    travel order. Returns (legs, n_legs, latest departure from the origin, number of rides).

    Labels only ever improve, so every predecessor found is at least as early as the one the
    label was built on: the journey is feasible even if labels changed since.
    """
    start = n_legs
    j = k
    p = stop
    if kind == _KIND_VEHICLE:
        at = v_time[k, stop]
        legs, n_legs = _append_leg(legs, n_legs, LEG_EGRESS, stop, -1, at,
                                   at + egress_s_by_stop[stop], -1, -1, -1, 0)
    else:  # the last footpath, from `via` (a vehicle label of round k), is not a label itself
        w = 0
        for e in range(fp_offsets[via], fp_offsets[via + 1]):
            if fp_to[e] == stop:
                w = fp_time_s[e]
                break
        at = v_time[k, via] + w
        legs, n_legs = _append_leg(legs, n_legs, LEG_EGRESS, stop, -1, at,
                                   at + egress_s_by_stop[stop], -1, -1, -1, 0)
        legs, n_legs = _append_leg(legs, n_legs, LEG_TRANSFER, via, stop, at - w, at, -1, -1, -1, 0)
        p = via
        kind = _KIND_VEHICLE
    n_rides = 0
    first_ride_dep = 0
    lead_s = 0
    while True:
        if kind == _KIND_FOOT:
            u = f_from[j, p]
            if u == FROM_ACCESS:
                lead_s = f_time[j, p] - tau
                legs, n_legs = _append_leg(legs, n_legs, LEG_ACCESS, -1, p, tau, f_time[j, p],
                                           -1, -1, -1, 0)
                break
            w = 0
            for e in range(fp_offsets[u], fp_offsets[u + 1]):
                if fp_to[e] == p:
                    w = fp_time_s[e]
                    break
            if j == 0:
                # a footpath right after the access: u's own access time, not its best label
                acc_u = UNREACHED
                for i in range(access_stop.shape[0]):
                    if access_stop[i] == u and access_s[i] < acc_u:
                        acc_u = access_s[i]
                legs, n_legs = _append_leg(legs, n_legs, LEG_TRANSFER, u, p, tau + acc_u,
                                           tau + acc_u + w, -1, -1, -1, 0)
                legs, n_legs = _append_leg(legs, n_legs, LEG_ACCESS, -1, u, tau, tau + acc_u,
                                           -1, -1, -1, 0)
                lead_s = acc_u + w
                break
            tu = v_time[j, u]
            legs, n_legs = _append_leg(legs, n_legs, LEG_TRANSFER, u, p, tu, tu + w, -1, -1, -1, 0)
            p = u
            kind = _KIND_VEHICLE
        else:
            trip = v_trip[j, p]
            layer = v_layer[j, p]
            bpos = v_bpos[j, p]
            apos = v_apos[j, p]
            r = trip_route_idx[trip]
            t0 = route_trip_offsets[r]
            n_tr = route_trip_offsets[r + 1] - t0
            b0 = stop_time_offsets[r]
            shift = day_shift_s if layer == 1 else 0
            q = route_stops[route_stop_offsets[r] + bpos]
            d = departure_s[b0 + bpos * n_tr + (trip - t0)] - shift
            a = arrival_s[b0 + apos * n_tr + (trip - t0)] - shift
            legs, n_legs = _append_leg(legs, n_legs, LEG_RIDE, q, p, d, a, trip, bpos, apos, layer)
            n_rides += 1
            first_ride_dep = d
            found = False
            for i in range(j - 1, -1, -1):
                if f_time[i, q] <= d:
                    kind = _KIND_FOOT
                    j = i
                    found = True
                    break
                slack = stop_slack_s[q]
                if i >= 1 and slack >= 0 and v_time[i, q] != UNREACHED and v_time[i, q] + slack <= d:
                    kind = _KIND_VEHICLE
                    j = i
                    found = True
                    break
            p = q
            if not found:  # cannot happen while labels are consistent; keep the output sane
                break
    # reverse the legs into travel order
    lo = start
    hi = n_legs - 1
    while lo < hi:
        for f in range(_N_LEG_FIELDS):
            tmp = legs[lo, f]
            legs[lo, f] = legs[hi, f]
            legs[hi, f] = tmp
        lo += 1
        hi -= 1
    return legs, n_legs, first_ride_dep - lead_s, n_rides


@numba.njit(cache=True)
def _window_departures(access_stop, access_s, window_start_s, window_end_s,
                       route_stop_offsets, route_can_board, route_trip_offsets, stop_time_offsets,
                       departure_s, stop_route_offsets, stop_route_idx, stop_route_pos,
                       trip_active, route_ok, stop_ok, day_shift_s):
    """Every time in [window_start_s, window_end_s] at which leaving the origin catches a trip
    exactly (a boardable departure minus the access time), latest first, with the stops where
    those trips leave: (times, CSR offsets into stops, stops)."""
    when = np.empty(64, dtype=np.int64)
    where = np.empty(64, dtype=np.int32)
    n = 0
    for i in range(access_stop.shape[0]):
        s = access_stop[i]
        if not stop_ok[s]:
            continue
        acc = access_s[i]
        for j in range(stop_route_offsets[s], stop_route_offsets[s + 1]):
            r = stop_route_idx[j]
            pos = stop_route_pos[j]
            if not route_ok[r] or not route_can_board[route_stop_offsets[r] + pos]:
                continue
            t0 = route_trip_offsets[r]
            n_tr = route_trip_offsets[r + 1] - t0
            base = stop_time_offsets[r] + pos * n_tr
            for layer in range(2):
                shift = day_shift_s if layer == 1 else 0
                bit = 1 << layer
                t = _lower_bound(departure_s, base, base + n_tr, window_start_s + acc + shift) - base
                while t < n_tr:
                    leave = departure_s[base + t] - shift - acc
                    if leave > window_end_s:
                        break
                    if trip_active[t0 + t] & bit:
                        if n >= when.shape[0]:
                            w2 = np.empty(when.shape[0] * 2, dtype=np.int64)
                            s2 = np.empty(when.shape[0] * 2, dtype=np.int32)
                            w2[:n] = when[:n]
                            s2[:n] = where[:n]
                            when, where = w2, s2
                        when[n] = leave
                        where[n] = s
                        n += 1
                    t += 1
    order = np.argsort(-when[:n], kind="mergesort")
    times = np.empty(n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    stops = np.empty(n, dtype=np.int32)
    m = 0
    for k in range(n):
        i = order[k]
        if m == 0 or times[m - 1] != when[i]:
            times[m] = when[i]
            m += 1
            offsets[m] = offsets[m - 1]
        stops[offsets[m]] = where[i]
        offsets[m] += 1
    return times[:m].copy(), offsets[:m + 1].copy(), stops


# ---------------------------------------------------------------------------------------------
# The many-to-many kernel (travel-time matrices, isochrones)
# ---------------------------------------------------------------------------------------------
MATRIX_COMPONENTS = ("access_s", "ride_s", "transfer_walk_s", "egress_s", "trips")
"""What :meth:`TransitRouter.arrival_matrix` breaks each best journey into, in this order."""


@numba.njit(cache=True)
def _raptor_matrix(route_stop_offsets, route_stops, route_can_board, route_can_alight,
                   route_trip_offsets, stop_time_offsets, arrival_s, departure_s,
                   stop_route_offsets, stop_route_idx, stop_route_pos,
                   fp_offsets, fp_to, fp_time_s, stop_slack_s,
                   trip_active, route_ok, stop_ok, day_shift_s,
                   acc_offsets, acc_stop, acc_s, eg_offsets, eg_dest, eg_s,
                   departures_s, max_trips, max_time_s, out_arrival, out_comp):
    """Range RAPTOR from each origin to every destination: the rounds of :func:`_raptor`
    without a target, each label carrying the components of its journey, and per destination
    the best arrival through its egress lists.

    Origin o's access list is ``acc_stop/acc_s[acc_offsets[o]:acc_offsets[o + 1]]``; stop s's
    egress list ``eg_dest/eg_s[eg_offsets[s]:eg_offsets[s + 1]]``. ``departures_s`` are processed
    in the given order (latest first) with labels kept. Writes ``out_arrival[o, i, d]`` (arrival
    at destination d leaving at ``departures_s[i]``, UNREACHED if none) and, for the last
    departure, ``out_comp[o, d]`` = (access, ride, transfer walk, egress, trips) of that journey
    (-1 when none).
    """
    n_stops = stop_route_offsets.shape[0] - 1
    n_routes = route_stop_offsets.shape[0] - 1
    n_orig = acc_offsets.shape[0] - 1
    n_dest = out_arrival.shape[2]
    n_rows = max_trips + 1
    best_board = np.empty((n_rows, n_stops), dtype=np.int32)
    board_comp = np.zeros((n_rows, n_stops, _N_COMP), dtype=np.int32)
    best_vehicle = np.empty((n_rows, n_stops), dtype=np.int32)
    v_time = np.empty((n_rows, n_stops), dtype=np.int32)
    v_comp = np.zeros((n_rows, n_stops, _N_COMP), dtype=np.int32)
    # no journeys to rebuild: no ride or walk labels
    no_path = np.empty((0, 0), dtype=np.int32)
    no_layer = np.empty((0, 0), dtype=np.int8)
    # no target: every stop is reached
    no_egress = np.full(n_stops, -1, dtype=np.int32)
    target = np.full(n_rows, UNREACHED, dtype=np.int32)
    target_stop = np.empty(n_rows, dtype=np.int32)
    target_kind = np.empty(n_rows, dtype=np.int8)
    target_via = np.empty(n_rows, dtype=np.int32)
    arr_any = np.empty(n_stops, dtype=np.int32)            # after >= 1 trip, maybe a footpath
    any_comp = np.zeros((n_stops, _N_COMP), dtype=np.int32)
    dest_best = np.empty(n_dest, dtype=np.int32)
    dest_comp = np.zeros((n_dest, _N_COMP + 1), dtype=np.int32)
    first_pos, queue, marked, is_marked, improved, is_improved = _round_work(n_stops, n_routes)
    any_list = np.empty(n_stops, dtype=np.int32)
    is_any = np.zeros(n_stops, dtype=np.bool_)
    routes = (route_stop_offsets, route_stops, route_can_board, route_can_alight, route_trip_offsets,
              stop_time_offsets, arrival_s, departure_s)

    for o in range(n_orig):
        best_board[:, :] = UNREACHED
        best_vehicle[:, :] = UNREACHED
        arr_any[:] = UNREACHED
        dest_best[:] = UNREACHED
        a0 = acc_offsets[o]
        a1 = acc_offsets[o + 1]
        steps, n_direct = _access_steps(acc_stop[a0:a1], acc_s[a0:a1], fp_offsets, fp_to, fp_time_s,
                                        stop_ok, max_time_s)
        for dep_i in range(departures_s.shape[0]):
            tau = departures_s[dep_i]
            horizon = tau + max_time_s
            n_any = 0
            n_marked = _access_labels(tau, horizon, steps, n_direct, best_board, no_path, no_path,
                                      board_comp, True, marked, is_marked)

            for k in range(1, n_rows):
                if n_marked == 0:
                    break
                n_queue = _routes_to_scan(marked, n_marked, is_marked, stop_route_offsets,
                                          stop_route_idx, stop_route_pos, route_ok, first_pos, queue)
                n_improved, n_any = _scan_routes(
                    k, queue, n_queue, first_pos, routes, trip_active, stop_ok, day_shift_s, horizon,
                    best_board, best_vehicle, v_time, no_path, no_path, no_path, no_layer, improved,
                    is_improved, no_egress, target, target_stop, target_kind, board_comp, v_comp,
                    arr_any, any_comp, any_list, is_any, n_any)
                n_marked, n_any = _transfer_labels(
                    k, improved, n_improved, is_improved, v_time, stop_slack_s, fp_offsets, fp_to,
                    fp_time_s, stop_ok, horizon, best_board, no_path, no_path, marked, is_marked,
                    no_egress, target, target_stop, target_kind, target_via, board_comp, v_comp,
                    arr_any, any_comp, any_list, is_any, n_any)
            for i in range(n_marked):
                is_marked[marked[i]] = False
            # egress: destinations from the stops improved at this departure
            for i in range(n_any):
                s = any_list[i]
                is_any[s] = False
                a = arr_any[s]
                for j in range(eg_offsets[s], eg_offsets[s + 1]):
                    d = eg_dest[j]
                    t = a + eg_s[j]
                    if t < dest_best[d]:
                        dest_best[d] = t
                        # in the order of MATRIX_COMPONENTS
                        dest_comp[d, 0] = any_comp[s, _COMP_ACCESS]
                        dest_comp[d, 1] = any_comp[s, _COMP_RIDE]
                        dest_comp[d, 2] = any_comp[s, _COMP_WALK]
                        dest_comp[d, 3] = eg_s[j]
                        dest_comp[d, 4] = any_comp[s, _COMP_TRIPS]
            for d in range(n_dest):
                out_arrival[o, dep_i, d] = dest_best[d]
        for d in range(n_dest):
            for c in range(_N_COMP + 1):
                out_comp[o, d, c] = dest_comp[d, c] if dest_best[d] != UNREACHED else -1


# ---------------------------------------------------------------------------------------------
# Prepared arrays, per search direction
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Direction:
    """The arrays one search direction's kernel reads (forward, or the reversed timetable)."""

    route_stop_offsets: np.ndarray
    route_stops: np.ndarray
    route_can_board: np.ndarray
    route_can_alight: np.ndarray
    route_trip_offsets: np.ndarray
    stop_time_offsets: np.ndarray
    arrival_s: np.ndarray
    departure_s: np.ndarray
    trip_route_idx: np.ndarray
    stop_route_offsets: np.ndarray
    stop_route_idx: np.ndarray
    stop_route_pos: np.ndarray
    fp_offsets: np.ndarray          # footpaths at the reference walk speed, forbidden pairs removed
    fp_to: np.ndarray
    fp_time_s: np.ndarray
    trip_order: np.ndarray | None   # direction's trip_idx -> timetable trip_idx (None: identity)

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in dataclasses.asdict(self).values() if isinstance(v, np.ndarray))


def _reverse_blocks(offsets: np.ndarray, n: int) -> np.ndarray:
    """Index permutation reversing each CSR block ``offsets[i]:offsets[i+1]`` of an n-array."""
    offsets = np.asarray(offsets, dtype=np.int64)
    sizes = np.diff(offsets)
    block_of = np.repeat(np.arange(sizes.shape[0]), sizes)
    i = np.arange(n, dtype=np.int64)
    return offsets[block_of] + offsets[block_of + 1] - 1 - i


def _csr_by(from_idx: np.ndarray, n: int, *values: np.ndarray):
    order = np.lexsort((np.asarray(values[0]), from_idx)) if values else np.argsort(from_idx, kind="stable")
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(from_idx, minlength=n), out=offsets[1:])
    return (offsets, *[np.ascontiguousarray(v[order]) for v in values])


def _footpath_lists(tt: Timetable) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(from, to, time) of usable footpaths between different stops, and the self-loop time per
    stop (-1 when none): transfers.txt transfer_type 3 pairs removed."""
    n = tt.n_stops
    src = np.repeat(np.arange(n, dtype=np.int32), np.diff(tt.transfer_offsets).astype(np.int64))
    dst = np.asarray(tt.transfer_to_stop, dtype=np.int32)
    time_s = np.asarray(tt.transfer_time_s, dtype=np.int32)
    keep = src != dst
    self_time = np.full(n, -1, dtype=np.int32)
    loops = ~keep
    if loops.any():
        self_time[src[loops]] = time_s[loops]
    forb_from = np.asarray(tt.forbidden_from_stop, dtype=np.int64)
    forb_to = np.asarray(tt.forbidden_to_stop, dtype=np.int64)
    if forb_from.size:
        key = src.astype(np.int64) * n + dst
        keep &= ~np.isin(key, forb_from * n + forb_to)
    return src[keep], dst[keep], time_s[keep], self_time


def _forward(tt: Timetable) -> _Direction:
    src, dst, time_s, _ = _footpath_lists(tt)
    offsets, fp_to, fp_time = _csr_by(src, tt.n_stops, dst, time_s)
    return _Direction(
        route_stop_offsets=np.ascontiguousarray(tt.route_stop_offsets, dtype=np.int64),
        route_stops=np.ascontiguousarray(tt.route_stops, dtype=np.int32),
        route_can_board=np.ascontiguousarray(tt.route_stop_can_board, dtype=np.bool_),
        route_can_alight=np.ascontiguousarray(tt.route_stop_can_alight, dtype=np.bool_),
        route_trip_offsets=np.ascontiguousarray(tt.route_trip_offsets, dtype=np.int64),
        stop_time_offsets=np.ascontiguousarray(tt.stop_time_offsets, dtype=np.int64),
        arrival_s=np.ascontiguousarray(tt.arrival_s, dtype=np.int32),
        departure_s=np.ascontiguousarray(tt.departure_s, dtype=np.int32),
        trip_route_idx=np.ascontiguousarray(tt.trip_route_idx, dtype=np.int32),
        stop_route_offsets=np.ascontiguousarray(tt.stop_route_offsets, dtype=np.int64),
        stop_route_idx=np.ascontiguousarray(tt.stop_route_idx, dtype=np.int32),
        stop_route_pos=np.ascontiguousarray(tt.stop_route_pos, dtype=np.int32),
        fp_offsets=offsets.astype(np.int64), fp_to=fp_to.astype(np.int32),
        fp_time_s=fp_time.astype(np.int32), trip_order=None)


def _reversed(tt: Timetable, fwd: _Direction) -> _Direction:
    """The timetable seen backwards in time: stops of each route reversed, trips reversed,
    times negated (arrival' = -departure, departure' = -arrival), board/alight swapped,
    footpaths transposed. FIFO routes stay FIFO, so the same kernel applies."""
    st_perm = _reverse_blocks(fwd.stop_time_offsets, fwd.arrival_s.shape[0])
    rs_perm = _reverse_blocks(fwd.route_stop_offsets, fwd.route_stops.shape[0])
    trip_perm = _reverse_blocks(fwd.route_trip_offsets, fwd.trip_route_idx.shape[0])
    n_pos = np.diff(fwd.route_stop_offsets)
    src, dst, time_s, _ = _footpath_lists(tt)
    offsets, fp_to, fp_time = _csr_by(dst, tt.n_stops, src, time_s)
    return _Direction(
        route_stop_offsets=fwd.route_stop_offsets,
        route_stops=np.ascontiguousarray(fwd.route_stops[rs_perm]),
        route_can_board=np.ascontiguousarray(fwd.route_can_alight[rs_perm]),
        route_can_alight=np.ascontiguousarray(fwd.route_can_board[rs_perm]),
        route_trip_offsets=fwd.route_trip_offsets,
        stop_time_offsets=fwd.stop_time_offsets,
        arrival_s=np.ascontiguousarray(-fwd.departure_s[st_perm]),
        departure_s=np.ascontiguousarray(-fwd.arrival_s[st_perm]),
        trip_route_idx=fwd.trip_route_idx,
        stop_route_offsets=fwd.stop_route_offsets,
        stop_route_idx=fwd.stop_route_idx,
        stop_route_pos=(n_pos[fwd.stop_route_idx] - 1 - fwd.stop_route_pos).astype(np.int32),
        fp_offsets=offsets.astype(np.int64), fp_to=fp_to.astype(np.int32),
        fp_time_s=fp_time.astype(np.int32), trip_order=trip_perm.astype(np.int32))


@dataclass(frozen=True)
class KernelInputs:
    """Everything a RAPTOR kernel reads for one service day and set of options, prepared and
    cached by :meth:`TransitRouter.kernel_inputs`.

    ``direction`` holds the timetable arrays of the search direction (forward, or reversed for
    arrive-by: times negated). Footpaths are at the options' walk speed; ``stop_slack_s`` is the
    same-stop transfer time per stop (-1: forbidden); ``trip_active`` has bit 1 for trips running
    on the day and bit 2 for those of the day before; ``route_ok``/``stop_ok`` filter modes and
    wheelchair access. ``previous_day_shift_s`` is what a previous-day trip's times lose in the
    day's frame (see :func:`previous_day_shift_s`); ``day_shift_s`` is that shift as the kernels
    take it (negated on the reversed timetable).
    """

    direction: _Direction
    fp_offsets: np.ndarray
    fp_to: np.ndarray
    fp_time_s: np.ndarray
    stop_slack_s: np.ndarray
    trip_active: np.ndarray
    route_ok: np.ndarray
    stop_ok: np.ndarray
    previous_day_shift_s: int
    day_shift_s: int


# ---------------------------------------------------------------------------------------------
# The router
# ---------------------------------------------------------------------------------------------
Access = tuple[np.ndarray, np.ndarray]
"""(stop_idx int32 array, seconds int32 array): stops reachable from a place and how long it takes."""


def as_access(pairs: Access | Iterable[tuple[int, float]]) -> Access:
    """Normalise an access/egress description to (stop_idx int32, seconds int32) arrays."""
    if isinstance(pairs, tuple) and len(pairs) == 2 and isinstance(pairs[0], np.ndarray):
        stops, secs = pairs
        if (stops.dtype == np.int32 and secs.dtype == np.int32 and stops.shape == secs.shape
                and stops.ndim == 1):
            if secs.size and secs.min() < 0:
                raise ValueError("access/egress: seconds must be >= 0")
            return stops, secs
    else:
        pairs = list(pairs)
        stops = np.array([p[0] for p in pairs], dtype=np.int64)
        secs = np.array([p[1] for p in pairs], dtype=np.float64)
    stops = np.asarray(stops, dtype=np.int64)
    secs = np.ceil(np.asarray(secs, dtype=np.float64))
    if stops.shape != secs.shape or stops.ndim != 1:
        raise ValueError("access/egress: stop and seconds arrays must be 1-D and of equal length")
    if np.isnan(secs).any() or (secs < 0).any():
        raise ValueError("access/egress: seconds must be >= 0")
    return stops.astype(np.int32), secs.astype(np.int32)


class TransitRouter:
    """RAPTOR queries on one timetable, with the derived arrays and per-date masks cached.

    Build it once per timetable (it is cheap: the reversed timetable is built on the first
    arrive-by query). Thread-safe: queries allocate their own labels, caches are locked.
    """

    MASK_CACHE_SIZE = 32

    def __init__(self, timetable: Timetable):
        self.timetable = tt = timetable
        self._fwd = _forward(tt)
        self._rev: _Direction | None = None
        self._lock = threading.Lock()
        self._masks = Memo(size=self.MASK_CACHE_SIZE)   # (day, wheelchair, direction) -> trip bits
        self._scaled_fp = Memo()                         # (direction, walk speed) -> footpaths
        self._route_ok = Memo()                          # modes -> route filter
        self._stop_ok = Memo()                           # wheelchair -> stop filter
        self._slack = Memo()                             # default slack -> slack per stop
        _, _, _, self._self_loop_s = _footpath_lists(tt)
        forbidden_here = np.zeros(tt.n_stops, dtype=bool)
        ff = np.asarray(tt.forbidden_from_stop)
        same = ff[ff == np.asarray(tt.forbidden_to_stop)]
        forbidden_here[same] = True
        self._forbidden_here = forbidden_here
        self._route_modes = np.array([route_mode(t) for t in tt.line_type], dtype=object)
        # the feed's calendar span (a date inside it with no trip is "no connection", not
        # "outside the service period")
        self.service_period = ((tt.service_first_day, tt.service_first_day + tt.n_days - 1)
                               if tt.n_days and np.asarray(tt.service_active).any() else None)
        self._stop_index: dict | None = None

    # -- ids ---------------------------------------------------------------------------------
    def stop_idx(self, stop_id: str) -> int:
        """stop_idx of a GTFS stop id; raises UnknownStop."""
        if self._stop_index is None:
            self._stop_index = {str(s): i for i, s in enumerate(self.timetable.stop_ids)}
        try:
            return self._stop_index[str(stop_id)]
        except KeyError:
            raise UnknownStop(str(stop_id)) from None

    def stop_access(self, stop_id: str) -> Access:
        """Access (or egress) list of a stop id: the stop itself at 0 s or, for a station, its
        stops at 0 s. Raises UnknownStop."""
        tt = self.timetable
        idx = self.stop_idx(stop_id)
        children = np.flatnonzero(np.asarray(tt.stop_parent_idx) == idx)
        stops = np.concatenate([[idx], children]).astype(np.int32)
        return stops, np.zeros(stops.shape[0], dtype=np.int32)

    # -- cached per-query inputs ----------------------------------------------------------------
    def _direction(self, backward: bool) -> _Direction:
        if not backward:
            return self._fwd
        with self._lock:
            if self._rev is None:
                self._rev = _reversed(self.timetable, self._fwd)
            return self._rev

    def _footpaths(self, walk_speed_mps: float, d: _Direction):
        def compute():
            if walk_speed_mps == DEFAULT_WALK_SPEED_MPS:
                return d.fp_offsets, d.fp_to, d.fp_time_s
            # whole seconds, rounded up (the epsilon keeps 203 * (1.3 / 1.3) at 203)
            ratio = DEFAULT_WALK_SPEED_MPS / walk_speed_mps
            return d.fp_offsets, d.fp_to, np.ceil(d.fp_time_s * ratio - 1e-9).astype(np.int32)

        return self._scaled_fp.get((id(d), float(walk_speed_mps)), compute)

    def _trip_mask(self, day: int, wheelchair: bool, d: _Direction) -> np.ndarray:
        return self._masks.get((day, wheelchair, id(d)),
                               lambda: self._compute_trip_mask(day, wheelchair, d))

    def _compute_trip_mask(self, day: int, wheelchair: bool, d: _Direction) -> np.ndarray:
        tt = self.timetable
        active = np.asarray(tt.service_active)
        svc = np.asarray(tt.trip_service_idx)
        mask = np.zeros(tt.n_trips, dtype=np.uint8)
        for bit, dd in ((1, day), (2, day - 1)):
            col = dd - tt.service_first_day
            if 0 <= col < tt.n_days:
                mask |= np.where(active[svc, col], bit, 0).astype(np.uint8)
        if wheelchair:
            mask[np.asarray(tt.trip_wheelchair) != 1] = 0
        if d.trip_order is not None:
            mask = mask[d.trip_order]
        return np.ascontiguousarray(mask)

    def _routes_allowed(self, modes: frozenset | None) -> np.ndarray:
        def compute():
            tt = self.timetable
            if modes is None:
                return np.ones(tt.n_routes, dtype=np.bool_)
            line_ok = np.array([m in modes for m in self._route_modes], dtype=np.bool_)
            return np.ascontiguousarray(line_ok[np.asarray(tt.route_line_idx)]) if line_ok.size \
                else np.zeros(tt.n_routes, dtype=np.bool_)

        return self._route_ok.get(modes, compute)

    def _stops_allowed(self, wheelchair: bool) -> np.ndarray:
        def compute():
            tt = self.timetable
            ok = (np.asarray(tt.stop_wheelchair) == 1) if wheelchair else np.ones(tt.n_stops, dtype=bool)
            return np.ascontiguousarray(ok, dtype=np.bool_)

        return self._stop_ok.get(wheelchair, compute)

    def _stop_slack(self, default_slack_s: int) -> np.ndarray:
        def compute():
            own = np.asarray(self.timetable.stop_min_transfer_s, dtype=np.int32)
            slack = np.where(own >= 0, own,
                             np.where(self._self_loop_s >= 0, self._self_loop_s, default_slack_s))
            return np.where(self._forbidden_here, -1, slack).astype(np.int32)

        return self._slack.get(default_slack_s, compute)

    # -- queries ---------------------------------------------------------------------------------
    def check_day(self, day: int) -> None:
        """Raise OutsideServicePeriod unless ``day`` is within the feed's calendar span (the day
        after the last one is accepted too: trips of the last day may run past midnight)."""
        period = self.service_period
        if period is None or not period[0] <= day <= period[1] + 1:
            raise OutsideServicePeriod(day, *(period or (None, None)))

    def _check_access(self, access: Access, name: str) -> Access:
        stops, secs = as_access(access)
        if stops.size and (stops.min() < 0 or stops.max() >= self.timetable.n_stops):
            raise ValueError(f"{name}: stop_idx out of range 0..{self.timetable.n_stops - 1}")
        return stops, secs

    def kernel_inputs(self, day: int, options: TransitOptions = DEFAULT_OPTIONS, *,
                      arrive_by: bool = False) -> KernelInputs:
        """The prepared arrays a RAPTOR kernel reads for service ``day`` and ``options``, on the
        reversed timetable with ``arrive_by`` (all cached: cheap to call per query).

        Raises OutsideServicePeriod for a day outside the feed's calendar span.
        """
        self.check_day(day)
        d = self._direction(arrive_by)
        fp_offsets, fp_to, fp_time_s = self._footpaths(options.walk_speed_mps, d)
        shift = previous_day_shift_s(self.timetable.timezone, day)
        return KernelInputs(
            direction=d, fp_offsets=fp_offsets, fp_to=fp_to, fp_time_s=fp_time_s,
            stop_slack_s=self._stop_slack(int(options.transfer_slack_s)),
            trip_active=self._trip_mask(day, options.wheelchair, d),
            route_ok=self._routes_allowed(options.modes), stop_ok=self._stops_allowed(options.wheelchair),
            previous_day_shift_s=shift, day_shift_s=-shift if arrive_by else shift)

    def search(self, origin: Access, destination: Access, day: int, time_s: int, *,
               options: TransitOptions = DEFAULT_OPTIONS, window_s: int = 0,
               arrive_by: bool = False) -> JourneySet:
        """The Pareto set of journeys (arrival, transfers) -- or, with ``window_s`` > 0, of
        (departure, arrival, transfers) over the departures in ``[time_s, time_s + window_s]``.

        With ``arrive_by``, ``time_s`` is the latest arrival and the search runs on the
        reversed timetable (the window then extends ``window_s`` before ``time_s``). Times are
        seconds after service day ``day``'s reference. Raises OutsideServicePeriod, ValueError
        for malformed access lists or options.
        """
        self.check_day(day)
        if window_s < 0:
            raise ValueError(f"window_s must be >= 0, got {window_s}")
        tt = self.timetable
        origin = self._check_access(origin, "origin")
        destination = self._check_access(destination, "destination")
        ki = self.kernel_inputs(day, options, arrive_by=arrive_by)
        d = ki.direction
        fp_offsets, fp_to, fp_time = ki.fp_offsets, ki.fp_to, ki.fp_time_s
        sign = -1 if arrive_by else 1
        src, dst = (destination, origin) if arrive_by else (origin, destination)
        egress = np.full(tt.n_stops, -1, dtype=np.int32)
        # several entries for one stop: keep the shortest
        order = np.argsort(-dst[1], kind="stable")
        egress[dst[0][order]] = dst[1][order]
        t_query = sign * int(time_s)
        if window_s:
            # leaving times that catch a trip at an access stop or one footpath further
            starts = fp_offsets[src[0]]
            counts = fp_offsets[src[0] + 1] - starts
            rep = np.repeat(np.arange(src[0].shape[0]), counts)
            at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
            lead_stop = np.concatenate([src[0], fp_to[at]]).astype(np.int32)
            lead_s = np.concatenate([src[1], src[1][rep] + fp_time[at]]).astype(np.int32)
            deps, mark_offsets, mark_stops = _window_departures(
                lead_stop, lead_s, t_query, t_query + int(window_s), d.route_stop_offsets,
                d.route_can_board, d.route_trip_offsets, d.stop_time_offsets, d.departure_s,
                d.stop_route_offsets, d.stop_route_idx, d.stop_route_pos, ki.trip_active, ki.route_ok,
                ki.stop_ok, ki.day_shift_s)
            # and the window's end itself (marking every stop), for what leaves after the last
            # departure in it: the answer is then the Pareto set over every time in the window
            if deps.size and deps[0] == t_query + int(window_s):
                mark_stops = mark_stops[mark_offsets[1]:]
                deps, mark_offsets = deps[1:], mark_offsets[1:] - mark_offsets[1]
            deps = np.concatenate([[t_query + int(window_s)], deps]).astype(np.int64)
            mark_offsets = np.concatenate([[0], mark_offsets]).astype(np.int64)
        else:
            deps = np.array([t_query], dtype=np.int64)
            mark_offsets = np.zeros(2, dtype=np.int64)
            mark_stops = np.zeros(0, dtype=np.int32)
        journeys, legs, n_legs = _raptor(
            d.route_stop_offsets, d.route_stops, d.route_can_board, d.route_can_alight,
            d.route_trip_offsets, d.stop_time_offsets, d.arrival_s, d.departure_s, d.trip_route_idx,
            d.stop_route_offsets, d.stop_route_idx, d.stop_route_pos, fp_offsets, fp_to, fp_time,
            ki.stop_slack_s, ki.trip_active, ki.route_ok, ki.stop_ok, ki.day_shift_s, src[0], src[1],
            egress, deps, mark_offsets, mark_stops, int(options.max_transfers) + 1,
            int(options.max_duration_s))
        return _journey_set(journeys, legs[:n_legs], day, ki.previous_day_shift_s, d, arrive_by)

    def arrival_matrix(self, access: tuple[np.ndarray, np.ndarray, np.ndarray],
                       egress: tuple[np.ndarray, np.ndarray, np.ndarray], n_destinations: int,
                       day: int, departures_s, *, options: TransitOptions = DEFAULT_OPTIONS,
                       max_time_s: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Earliest arrivals from many origins at many destinations, for several departures.

        The journeys are :meth:`search`'s (same transfers, footpaths, day layers and transfer
        limit) without a target: RAPTOR reaches every stop, then walks on to the destinations.
        ``access`` = (offsets, stop_idx, seconds), CSR over origins: origin o walks to
        ``stop_idx[offsets[o]:offsets[o + 1]]``. ``egress`` = (offsets, destination, seconds),
        CSR over stops: what one walks to from each stop (offsets has n_stops + 1 entries).
        ``departures_s`` (seconds after ``day``'s reference) run latest first, each keeping the
        labels of the later ones (range RAPTOR). A journey must arrive within ``max_time_s`` of
        its departure (at most, and by default, ``options.max_duration_s``).

        Returns (departures latest first (int64); arrival (n_origins, n_departures,
        n_destinations) int32 in that order, UNREACHED where none; components (n_origins,
        n_destinations, 5) int32 of the best journey at the earliest departure, the fields of
        :data:`MATRIX_COMPONENTS`, -1 where none). Raises OutsideServicePeriod, ValueError for
        malformed lists.
        """
        ki = self.kernel_inputs(day, options)
        n_stops = self.timetable.n_stops
        acc_offsets, acc_stop, acc_s = _csr_arrays(access, "access", n_stops)
        eg_offsets, eg_dest, eg_s = _csr_arrays(egress, "egress", n_destinations)
        if eg_offsets.shape[0] != n_stops + 1:
            raise ValueError(f"egress: offsets must have n_stops + 1 = {n_stops + 1} entries, "
                             f"got {eg_offsets.shape[0]}")
        deps = np.ascontiguousarray(np.sort(np.asarray(departures_s, dtype=np.int64))[::-1])
        horizon_s = int(options.max_duration_s if max_time_s is None
                        else min(max_time_s, options.max_duration_s))
        n_o = acc_offsets.shape[0] - 1
        arrival = np.empty((n_o, deps.shape[0], int(n_destinations)), dtype=np.int32)
        comp = np.empty((n_o, int(n_destinations), _N_COMP + 1), dtype=np.int32)
        d = ki.direction
        _raptor_matrix(d.route_stop_offsets, d.route_stops, d.route_can_board, d.route_can_alight,
                       d.route_trip_offsets, d.stop_time_offsets, d.arrival_s, d.departure_s,
                       d.stop_route_offsets, d.stop_route_idx, d.stop_route_pos,
                       ki.fp_offsets, ki.fp_to, ki.fp_time_s, ki.stop_slack_s, ki.trip_active,
                       ki.route_ok, ki.stop_ok, ki.day_shift_s, acc_offsets, acc_stop, acc_s,
                       eg_offsets, eg_dest, eg_s, deps, int(options.max_transfers) + 1, horizon_s,
                       arrival, comp)
        return deps, arrival, comp

    def earliest_arrival(self, origin: Access, destination: Access, day: int, depart_s: int, *,
                         options: TransitOptions = DEFAULT_OPTIONS) -> JourneySet:
        """Pareto set of (arrival, transfers) leaving at or after ``depart_s`` on ``day``."""
        return self.search(origin, destination, day, depart_s, options=options)

    def range_query(self, origin: Access, destination: Access, day: int, depart_s: int,
                    window_s: int, *, options: TransitOptions = DEFAULT_OPTIONS) -> JourneySet:
        """rRAPTOR: Pareto set of (departure, arrival, transfers) for departures in the window."""
        return self.search(origin, destination, day, depart_s, options=options, window_s=window_s)

    def latest_departure(self, origin: Access, destination: Access, day: int, arrive_s: int, *,
                         options: TransitOptions = DEFAULT_OPTIONS) -> JourneySet:
        """Pareto set of (departure, transfers) arriving at or before ``arrive_s`` on ``day``."""
        return self.search(origin, destination, day, arrive_s, options=options, arrive_by=True)

    @property
    def nbytes(self) -> int:
        """Bytes of the prepared arrays (forward, plus reversed once built)."""
        n = self._fwd.nbytes
        if self._rev is not None:
            n += self._rev.nbytes
        return n


def _csr_arrays(lists, name: str, n_items: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets int64, item int32, seconds int32) of a CSR list, checked: offsets start at 0,
    never decrease and end at the lists' length; items in 0..n_items - 1; seconds >= 0."""
    offsets, items, secs = lists
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    items = np.ascontiguousarray(items, dtype=np.int32)
    secs = np.ascontiguousarray(secs, dtype=np.int32)
    if (offsets.ndim != 1 or offsets.shape[0] < 1 or offsets[0] != 0 or (np.diff(offsets) < 0).any()
            or offsets[-1] != items.shape[0] or items.shape != secs.shape):
        raise ValueError(f"{name}: expected CSR lists (offsets from 0, non-decreasing, ending at "
                         "the length of equal-length item and seconds arrays)")
    if items.size and (items.min() < 0 or items.max() >= n_items):
        raise ValueError(f"{name}: index out of range 0..{n_items - 1}")
    if secs.size and secs.min() < 0:
        raise ValueError(f"{name}: seconds must be >= 0")
    return offsets, items, secs


def _journey_set(journeys: np.ndarray, legs: np.ndarray, day: int, shift: int, d: _Direction,
                 backward: bool) -> JourneySet:
    trip_order = d.trip_order if d.trip_order is not None else np.zeros(0, dtype=np.int32)
    (depart, arrive, n_trips, offsets, kind, frm, to, dep, arr, trip, bpos, apos,
     day_offset) = _finish_journeys(journeys, legs, backward, d.route_stop_offsets,
                                    d.trip_route_idx, trip_order)
    return JourneySet(day=int(day), previous_day_shift_s=int(shift), depart_s=depart,
                      arrive_s=arrive, n_trips=n_trips, leg_offsets=offsets, leg_kind=kind,
                      leg_from_stop=frm, leg_to_stop=to, leg_depart_s=dep, leg_arrive_s=arr,
                      leg_trip_idx=trip, leg_board_pos=bpos, leg_alight_pos=apos,
                      leg_day_offset=day_offset)


@numba.njit(cache=True)
def _finish_journeys(journeys, legs, backward, route_stop_offsets, trip_route_idx, trip_order):
    """Kernel output -> JourneySet columns: a backward search's legs back into travel order
    (times negated, ends swapped, trips and positions mapped to the forward timetable), then
    waiting moved to the stops: leave the origin just in time for the first ride, walk a
    transfer or the egress as soon as the previous leg arrives."""
    n = journeys.shape[0]
    m = legs.shape[0]
    offsets = np.empty(n + 1, dtype=np.int64)
    for j in range(n):
        offsets[j] = journeys[j, 3]
    offsets[n] = m
    kind = np.empty(m, dtype=np.int8)
    frm = np.empty(m, dtype=np.int32)
    to = np.empty(m, dtype=np.int32)
    dep = np.empty(m, dtype=np.int32)
    arr = np.empty(m, dtype=np.int32)
    trip = np.empty(m, dtype=np.int32)
    bpos = np.empty(m, dtype=np.int32)
    apos = np.empty(m, dtype=np.int32)
    day_offset = np.empty(m, dtype=np.int8)
    for j in range(n):
        lo = offsets[j]
        hi = offsets[j + 1]
        for i in range(lo, hi):
            src = (lo + hi - 1 - i) if backward else i
            k = legs[src, 0]
            t = legs[src, 5]
            if backward:
                if k == LEG_ACCESS:
                    k = LEG_EGRESS
                elif k == LEG_EGRESS:
                    k = LEG_ACCESS
                frm[i] = legs[src, 2]
                to[i] = legs[src, 1]
                dep[i] = -legs[src, 4]
                arr[i] = -legs[src, 3]
                if t >= 0:
                    r = trip_route_idx[t]
                    n_pos = route_stop_offsets[r + 1] - route_stop_offsets[r]
                    bpos[i] = n_pos - 1 - legs[src, 7]
                    apos[i] = n_pos - 1 - legs[src, 6]
                    t = trip_order[t]
                else:
                    bpos[i] = -1
                    apos[i] = -1
            else:
                frm[i] = legs[src, 1]
                to[i] = legs[src, 2]
                dep[i] = legs[src, 3]
                arr[i] = legs[src, 4]
                bpos[i] = legs[src, 6]
                apos[i] = legs[src, 7]
            kind[i] = k
            trip[i] = t
            day_offset[i] = -legs[src, 8]
        # re-time: a footpath right after the access and the access end at the next departure
        first_ride = lo
        while first_ride < hi and kind[first_ride] != LEG_RIDE:
            first_ride += 1
        for i in range(first_ride - 1, lo - 1, -1):
            dur = arr[i] - dep[i]
            arr[i] = dep[i + 1]
            dep[i] = arr[i] - dur
        for i in range(first_ride + 1, hi):
            if kind[i] != LEG_RIDE:
                dur = arr[i] - dep[i]
                dep[i] = arr[i - 1]
                arr[i] = dep[i] + dur
    depart = np.empty(n, dtype=np.int32)
    arrive = np.empty(n, dtype=np.int32)
    n_trips = np.empty(n, dtype=np.int32)
    for j in range(n):
        depart[j] = dep[offsets[j]]
        arrive[j] = arr[offsets[j + 1] - 1]
        n_trips[j] = journeys[j, 2]
    return depart, arrive, n_trips, offsets, kind, frm, to, dep, arr, trip, bpos, apos, day_offset


# ---------------------------------------------------------------------------------------------
# Module-level verbs (a router cached per timetable object)
# ---------------------------------------------------------------------------------------------
# a router holds its timetable: the bound keeps a few recent ones alive, not every one ever seen
_ROUTERS = PerObject(TransitRouter, size=8)


def router_for(timetable: Timetable) -> TransitRouter:
    """The cached TransitRouter of a timetable object (the 8 most recently used are kept)."""
    return _ROUTERS(timetable)


def earliest_arrival(timetable: Timetable, origin: Access, destination: Access, day: int,
                     depart_s: int, *, options: TransitOptions = DEFAULT_OPTIONS) -> JourneySet:
    """Pareto set of (arrival, transfers) from ``origin`` to ``destination`` (access lists of
    (stop_idx, seconds)) leaving at or after ``depart_s`` on service day ``day``."""
    return router_for(timetable).earliest_arrival(origin, destination, day, depart_s, options=options)


def range_query(timetable: Timetable, origin: Access, destination: Access, day: int, depart_s: int,
                window_s: int, *, options: TransitOptions = DEFAULT_OPTIONS) -> JourneySet:
    """Range RAPTOR: Pareto set over (departure, arrival, transfers) for departures in
    ``[depart_s, depart_s + window_s]``."""
    return router_for(timetable).range_query(origin, destination, day, depart_s, window_s,
                                             options=options)


def latest_departure(timetable: Timetable, origin: Access, destination: Access, day: int,
                     arrive_s: int, *, options: TransitOptions = DEFAULT_OPTIONS) -> JourneySet:
    """Pareto set of (departure, transfers) arriving at or before ``arrive_s`` on ``day``."""
    return router_for(timetable).latest_departure(origin, destination, day, arrive_s, options=options)


__all__ = [
    "UNREACHED", "NO_PREDECESSOR", "FROM_ACCESS", "LEG_ACCESS", "LEG_RIDE", "LEG_TRANSFER",
    "LEG_EGRESS", "DEFAULT_TRANSFER_SLACK_S", "DEFAULT_MAX_TRANSFERS", "DEFAULT_WALK_SPEED_MPS",
    "ROUTE_MODES", "DEFAULT_OPTIONS", "route_mode", "TransitQueryError", "OutsideServicePeriod",
    "UnknownStop",
    "day_of", "service_day_reference", "to_service_time", "from_service_time",
    "previous_day_shift_s", "TransitOptions", "JourneySet", "Access", "as_access", "KernelInputs",
    "MATRIX_COMPONENTS", "TransitRouter",
    "router_for", "earliest_arrival", "range_query", "latest_departure",
]

