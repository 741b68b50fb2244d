"""The Python face of public transit routing: :class:`TransitRouter` and the module-level verbs,
RAPTOR (Delling, Pajor & Werneck, 2012) over the flat timetable.

One numba kernel, :func:`~engine.transit.journey_kernel._raptor`, answers every journey query:

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

A second kernel, :func:`~engine.transit.matrix_kernel._raptor_matrix`
(:meth:`TransitRouter.arrival_matrix`, behind the travel-time matrices and transit isochrones),
runs the same rounds from many origins to every stop and on to many destinations, without a
target and with a time breakdown per label. Both are built from the same round helpers (access,
route scan, transfers; :mod:`engine.transit.rounds`), so the rules below hold for both.

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
  inside the span with no service simply gives no journey. A query given a ``deadline``
  (:class:`engine.deadline.Deadline`) that passes raises :class:`engine.deadline.DeadlineExceeded`
  (the kernels look at its flag before each round).

Labels are per round with "at most k trips" semantics (rows never increase with k), which keeps
the Pareto set exact under range RAPTOR and a transfer limit. The kernel records, for each label,
how it was reached and writes each Pareto-optimal journey's legs into flat output arrays.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np

from engine.cache import Memo, PerObject
from engine.deadline import Deadline, check, flag_of
from engine.model import Timetable
from engine.transit.errors import UnknownStop, similar_stop_ids
from engine.transit.inputs import (
    KernelInputs,
    _Direction,
    _forward,
    _reversed,
    routes_allowed,
    scaled_footpaths,
    stop_slack,
    stops_allowed,
)
from engine.transit.journey_kernel import _raptor, _window_departures
from engine.transit.journeys import JourneySet
from engine.transit.labels import _N_COMP
from engine.transit.matrix_kernel import _raptor_matrix
from engine.transit.options import DEFAULT_OPTIONS, TransitOptions
from engine.transit.reconstruct import _finish_journeys
from engine.transit.service_days import (
    check_service_day,
    previous_day_shift_s,
    service_period,
    trips_running,
)

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
        self.timetable = timetable
        self._fwd = _forward(timetable)
        self._rev: _Direction | None = None
        self._lock = threading.Lock()
        self._masks = Memo(size=self.MASK_CACHE_SIZE)   # (day, wheelchair, direction) -> trip bits
        self._scaled_fp = Memo()                         # (direction, walk speed) -> footpaths
        self._route_ok = Memo()                          # modes -> route filter
        self._stop_ok = Memo()                           # wheelchair -> stop filter
        self._slack = Memo()                             # default slack -> slack per stop
        self.service_period = service_period(timetable)  # (first, last day) or None
        self._stop_index: dict | None = None

    # -- ids ---------------------------------------------------------------------------------
    def stop_idx(self, stop_id: str) -> int:
        """stop_idx of a GTFS stop id; raises UnknownStop."""
        if self._stop_index is None:
            self._stop_index = {str(s): i for i, s in enumerate(self.timetable.stop_ids)}
        try:
            return self._stop_index[str(stop_id)]
        except KeyError:
            raise UnknownStop(str(stop_id), similar_stop_ids(str(stop_id), self._stop_index)) from None

    def stop_access(self, stop_id: str) -> Access:
        """Access (or egress) list of a stop id: the stop itself at 0 s or, for a station, its
        stops at 0 s. Raises UnknownStop."""
        tt = self.timetable
        idx = self.stop_idx(stop_id)
        children = np.flatnonzero(np.asarray(tt.stop_parent_idx) == idx)
        stops = np.concatenate([[idx], children]).astype(np.int32)
        return stops, np.zeros(stops.shape[0], dtype=np.int32)

    # -- cached per-query inputs ----------------------------------------------------------------

    # -- cached per-query inputs ----------------------------------------------------------------
    def _direction(self, backward: bool) -> _Direction:
        if not backward:
            return self._fwd
        with self._lock:
            if self._rev is None:
                self._rev = _reversed(self.timetable, self._fwd)
            return self._rev

    def _footpaths(self, walk_speed_mps: float, d: _Direction):
        return self._scaled_fp.get((id(d), float(walk_speed_mps)),
                                   lambda: scaled_footpaths(d, walk_speed_mps))

    def _trip_mask(self, day: int, wheelchair: bool, d: _Direction) -> np.ndarray:
        return self._masks.get((day, wheelchair, id(d)),
                               lambda: trips_running(self.timetable, day, wheelchair, d.trip_order))

    def _routes_allowed(self, modes: frozenset | None) -> np.ndarray:
        return self._route_ok.get(modes, lambda: routes_allowed(self.timetable, modes))

    def _stops_allowed(self, wheelchair: bool) -> np.ndarray:
        return self._stop_ok.get(wheelchair, lambda: stops_allowed(self.timetable, wheelchair))

    def _stop_slack(self, default_slack_s: int) -> np.ndarray:
        return self._slack.get(default_slack_s, lambda: stop_slack(self.timetable, default_slack_s))

    # -- queries ---------------------------------------------------------------------------------
    def check_day(self, day: int) -> None:
        """Raise OutsideServicePeriod unless ``day`` is within the feed's calendar span (the day
        after the last one is accepted too: trips of the last day may run past midnight)."""
        check_service_day(self.service_period, day)

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
               arrive_by: bool = False, deadline: Deadline | None = None) -> JourneySet:
        """The Pareto set of journeys (arrival, transfers) -- or, with ``window_s`` > 0, of
        (departure, arrival, transfers) over the departures in ``[time_s, time_s + window_s]``.

        With ``arrive_by``, ``time_s`` is the latest arrival and the search runs on the
        reversed timetable (the window then extends ``window_s`` before ``time_s``). Times are
        seconds after service day ``day``'s reference. Raises OutsideServicePeriod, ValueError
        for malformed access lists or options, DeadlineExceeded once ``deadline`` (None: no
        limit) has passed.
        """
        self.check_day(day)
        if window_s < 0:
            raise ValueError(f"window_s must be >= 0, got {window_s}")
        origin = self._check_access(origin, "origin")
        destination = self._check_access(destination, "destination")
        ki = self.kernel_inputs(day, options, arrive_by=arrive_by)
        d = ki.direction
        sign = -1 if arrive_by else 1
        src, dst = (destination, origin) if arrive_by else (origin, destination)
        egress = _egress_by_stop(dst, self.timetable.n_stops)
        t_query = sign * int(time_s)
        if window_s:
            deps, mark_offsets, mark_stops = _range_departures(ki, src, t_query, int(window_s))
        else:
            deps = np.array([t_query], dtype=np.int64)
            mark_offsets = np.zeros(2, dtype=np.int64)
            mark_stops = np.zeros(0, dtype=np.int32)
        what = f"a transit search ({deps.size} departure{'s' if deps.size != 1 else ''})"
        check(deadline, what)
        journeys, legs, n_legs = _raptor(
            d.route_stop_offsets, d.route_stops, d.route_can_board, d.route_can_alight,
            d.route_trip_offsets, d.stop_time_offsets, d.arrival_s, d.departure_s, d.trip_route_idx,
            d.stop_route_offsets, d.stop_route_idx, d.stop_route_pos, ki.fp_offsets, ki.fp_to,
            ki.fp_time_s, ki.stop_slack_s, ki.trip_active, ki.route_ok, ki.stop_ok, ki.day_shift_s,
            src[0], src[1], egress, deps, mark_offsets, mark_stops, int(options.max_transfers) + 1,
            int(options.max_duration_s), flag_of(deadline))
        check(deadline, what)
        return _journey_set(journeys, legs[:n_legs], day, ki.previous_day_shift_s, d, arrive_by)

    def arrival_matrix(self, access: tuple[np.ndarray, np.ndarray, np.ndarray],
                       egress: tuple[np.ndarray, np.ndarray, np.ndarray], n_destinations: int,
                       day: int, departures_s, *, options: TransitOptions = DEFAULT_OPTIONS,
                       max_time_s: int | None = None, deadline: Deadline | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        malformed lists, DeadlineExceeded once ``deadline`` (None: no limit) has passed.
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
        what = f"transit searches from {n_o} origin{'s' if n_o != 1 else ''} at {deps.shape[0]} departures"
        check(deadline, what)
        _raptor_matrix(d.route_stop_offsets, d.route_stops, d.route_can_board, d.route_can_alight,
                       d.route_trip_offsets, d.stop_time_offsets, d.arrival_s, d.departure_s,
                       d.stop_route_offsets, d.stop_route_idx, d.stop_route_pos,
                       ki.fp_offsets, ki.fp_to, ki.fp_time_s, ki.stop_slack_s, ki.trip_active,
                       ki.route_ok, ki.stop_ok, ki.day_shift_s, acc_offsets, acc_stop, acc_s,
                       eg_offsets, eg_dest, eg_s, deps, int(options.max_transfers) + 1, horizon_s,
                       arrival, comp, flag_of(deadline))
        check(deadline, what)
        return deps, arrival, comp

    def earliest_arrival(self, origin: Access, destination: Access, day: int, depart_s: int, *,
                         options: TransitOptions = DEFAULT_OPTIONS,
                         deadline: Deadline | None = None) -> JourneySet:
        """Pareto set of (arrival, transfers) leaving at or after ``depart_s`` on ``day``."""
        return self.search(origin, destination, day, depart_s, options=options, deadline=deadline)

    def range_query(self, origin: Access, destination: Access, day: int, depart_s: int,
                    window_s: int, *, options: TransitOptions = DEFAULT_OPTIONS,
                    deadline: Deadline | None = None) -> JourneySet:
        """rRAPTOR: Pareto set of (departure, arrival, transfers) for departures in the window."""
        return self.search(origin, destination, day, depart_s, options=options, window_s=window_s,
                           deadline=deadline)

    def latest_departure(self, origin: Access, destination: Access, day: int, arrive_s: int, *,
                         options: TransitOptions = DEFAULT_OPTIONS,
                         deadline: Deadline | None = None) -> JourneySet:
        """Pareto set of (departure, transfers) arriving at or before ``arrive_s`` on ``day``."""
        return self.search(origin, destination, day, arrive_s, options=options, arrive_by=True,
                           deadline=deadline)

    @property
    def nbytes(self) -> int:
        """Bytes of the prepared arrays (forward, plus reversed once built)."""
        n = self._fwd.nbytes
        if self._rev is not None:
            n += self._rev.nbytes
        return n


# ---------------------------------------------------------------------------------------------
# The steps of a query
# ---------------------------------------------------------------------------------------------
def _egress_by_stop(egress: Access, n_stops: int) -> np.ndarray:
    """stop_idx -> seconds from the stop to the destination (int32, -1 where none)."""
    by_stop = np.full(n_stops, -1, dtype=np.int32)
    # several entries for one stop: keep the shortest
    order = np.argsort(-egress[1], kind="stable")
    by_stop[egress[0][order]] = egress[1][order]
    return by_stop


def _lead_steps(src: Access, fp_offsets: np.ndarray, fp_to: np.ndarray,
                fp_time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(stop_idx int32, seconds int32): the access stops, then one footpath further from each."""
    starts = fp_offsets[src[0]]
    counts = fp_offsets[src[0] + 1] - starts
    rep = np.repeat(np.arange(src[0].shape[0]), counts)
    at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    lead_stop = np.concatenate([src[0], fp_to[at]]).astype(np.int32)
    lead_s = np.concatenate([src[1], src[1][rep] + fp_time[at]]).astype(np.int32)
    return lead_stop, lead_s


def _range_departures(ki: KernelInputs, src: Access, t_query: int,
                      window_s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Range RAPTOR's departures in ``[t_query, t_query + window_s]``, latest first (int64), with
    the stops each marks (CSR offsets int64, stops int32; an empty group marks every stop)."""
    d = ki.direction
    # leaving times that catch a trip at an access stop or one footpath further
    lead_stop, lead_s = _lead_steps(src, ki.fp_offsets, ki.fp_to, ki.fp_time_s)
    end = t_query + window_s
    deps, mark_offsets, mark_stops = _window_departures(
        lead_stop, lead_s, t_query, end, d.route_stop_offsets,
        d.route_can_board, d.route_trip_offsets, d.stop_time_offsets, d.departure_s,
        d.stop_route_offsets, d.stop_route_idx, d.stop_route_pos, ki.trip_active, ki.route_ok,
        ki.stop_ok, ki.day_shift_s)
    # and the window's end itself (marking every stop), for what leaves after the last
    # departure in it: the answer is then the Pareto set over every time in the window
    if deps.size and deps[0] == end:
        mark_stops = mark_stops[mark_offsets[1]:]
        deps, mark_offsets = deps[1:], mark_offsets[1:] - mark_offsets[1]
    deps = np.concatenate([[end], deps]).astype(np.int64)
    mark_offsets = np.concatenate([[0], mark_offsets]).astype(np.int64)
    return deps, mark_offsets, mark_stops


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


