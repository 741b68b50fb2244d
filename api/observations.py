"""Live parking observations: a SQLite store that survives restarts, and the forecaster's view.

``POST /api/v1/parking/observations`` appends rows to :class:`ObservationStore` (SQLite in WAL
mode, so readers in other worker processes never block the writer and a crash loses nothing that
was acknowledged). Each app keeps a :class:`LiveFeed`: the posted observations, and the
forecaster's state (:class:`engine.parking.LiveObservations`, started from the bundle's
occupancy history and advanced by every posted observation). The feed refreshes itself from the
store before every read with one indexed query for the rows it has not seen yet
(``id > last_id``): an observation posted to one gunicorn worker is used by all of them on their
next request, and a restarted app replays everything at start-up.

Facility ids are stored as strings (the bundle's ``facility_ids``), so a rebuilt bundle keeps its
live data; rows of facilities the bundle no longer has are skipped and counted, and so are rows
the API cannot use (a count beyond int32, a value of the wrong type, free spaces above the
capacity: left by an older server or a hand edit). A bad row never breaks a read.

One facility has at most one observation per instant: :meth:`ObservationStore.add_unique` stores
an exact repeat once (the repeat is a duplicate, answered with the stored row's id) and refuses a
different value at the same facility and instant (a :class:`Conflict`), checked in the same
transaction as the insert so two workers cannot both store one.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from api.config import INT32_MAX
from api.sqlite_log import AppendLog
from engine import parking as parking_engine
from engine.model import OccupancyHistory, Parking

_SCHEMA = """
CREATE TABLE IF NOT EXISTS observations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    facility_id TEXT NOT NULL,
    time_utc_s INTEGER NOT NULL,
    free_spaces INTEGER NOT NULL,
    capacity INTEGER,
    received_utc_s INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS observations_facility_time ON observations (facility_id, time_utc_s);
"""


@dataclass(frozen=True)
class Observation:
    """One live reading of a facility."""

    facility_id: str
    time_utc_s: int          # seconds since the Unix epoch
    free_spaces: int         # >= 0
    capacity: int | None     # spaces at that time, when the sender knows it
    received_utc_s: int = 0  # when the API stored it


@dataclass(frozen=True)
class Conflict:
    """An observation whose facility already has a different one at the same instant."""

    item: int                # position in the batch
    existing_id: int         # the stored row it contradicts
    existing: Observation


@dataclass(frozen=True)
class StoreResult:
    """What :meth:`ObservationStore.add_unique` did with a batch."""

    ids: list[int]           # per item: its new row, or the stored row it repeats
    duplicates: int          # items that repeated a stored row exactly (not stored again)
    conflicts: list[Conflict]  # non-empty: nothing was stored


def usable(o: Observation) -> bool:
    """Whether a stored row can be served: integer fields of the types and ranges the engine
    holds (counts int32 and >= 0, a positive capacity not below the free spaces)."""
    def count(v):
        return type(v) is int and 0 <= v <= INT32_MAX
    return (type(o.time_utc_s) is int and 0 <= o.time_utc_s < 2**62 and count(o.free_spaces)
            and (o.capacity is None or (count(o.capacity) and o.free_spaces <= o.capacity > 0)))


class ObservationStore(AppendLog):
    """Append-only SQLite table of observations (``api.sqlite_log``: WAL, one connection per
    process). Raises ``sqlite3.Error`` subclasses for a file that cannot be opened."""

    def __init__(self, path: str | Path):
        super().__init__(path, "observations", _SCHEMA)

    def add(self, observations: list[Observation]) -> list[int]:
        """Store observations in one transaction; returns their row ids."""
        with self._transaction():
            return [self._insert(o) for o in observations]

    def add_unique(self, observations: list[Observation], *, all_or_nothing: bool = True) -> StoreResult:
        """Store the batch in one transaction, but an exact repeat of a stored row only once;
        on any conflict (another value at the same facility and instant) store nothing, or with
        ``all_or_nothing=False`` (the live-feed pollers) store the others (``ids`` then lists the
        rows of the items that were not conflicts)."""
        ids: list[int] = []
        duplicates = 0
        conflicts: list[Conflict] = []
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")  # the check and the insert see one state
            try:
                for i, o in enumerate(observations):
                    same = self._at(o.facility_id, o.time_utc_s)
                    if same is None:
                        ids.append(self._insert(o))
                    elif (same[1].free_spaces, same[1].capacity) == (o.free_spaces, o.capacity):
                        ids.append(same[0])
                        duplicates += 1
                    else:
                        conflicts.append(Conflict(i, same[0], same[1]))
                self._conn.execute("ROLLBACK" if conflicts and all_or_nothing else "COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return StoreResult([] if conflicts and all_or_nothing else ids, duplicates, conflicts)

    def _at(self, facility_id: str, time_utc_s: int) -> tuple[int, Observation] | None:
        row = self._conn.execute(
            "SELECT id, facility_id, time_utc_s, free_spaces, capacity, received_utc_s FROM "
            "observations WHERE facility_id = ? AND time_utc_s = ? ORDER BY id LIMIT 1",
            (facility_id, int(time_utc_s))).fetchone()
        return None if row is None else (row[0], Observation(*row[1:]))

    def _insert(self, o: Observation) -> int:
        cur = self._conn.execute(
            "INSERT INTO observations (facility_id, time_utc_s, free_spaces, capacity, "
            "received_utc_s) VALUES (?, ?, ?, ?, ?)",
            (o.facility_id, int(o.time_utc_s), int(o.free_spaces),
             None if o.capacity is None else int(o.capacity), int(o.received_utc_s)))
        return int(cur.lastrowid)

    def since(self, last_id: int) -> list[tuple[int, Observation]]:
        """Rows with id > last_id, in id order."""
        rows = self._rows_since("facility_id, time_utc_s, free_spaces, capacity, received_utc_s",
                                last_id)
        return [(r[0], Observation(r[1], r[2], r[3], r[4], r[5])) for r in rows]


class LiveFeed:
    """The live observations of one network's facilities, synced from a store, and the
    forecaster's state fed with them. Thread-safe.

    Without ``parking`` (tests of the store alone) only the observation log is kept.
    """

    def __init__(self, facility_ids, store: ObservationStore | None, parking: Parking | None = None):
        self._index = {str(f): i for i, f in enumerate(np.asarray(facility_ids).tolist())}
        self.n_facilities = len(self._index)
        self._store = store
        self._parking = parking
        self.engine_state: parking_engine.LiveObservations | None = None
        if parking is not None:
            history = parking.history
            self.engine_state = (parking_engine.LiveObservations.from_history(parking)
                                 if history is not None and history.n_observations
                                 else parking_engine.LiveObservations.empty(parking.n_facilities))
        self._lock = threading.Lock()
        self._last_id = 0
        self._facility: list[int] = []
        self._time: list[int] = []
        self._free: list[int] = []
        self._capacity: list[int] = []
        self.skipped_unknown = 0   # stored rows of facilities this bundle does not have
        self.skipped_invalid = 0   # stored rows the API cannot use (see :func:`usable`)
        self._history: OccupancyHistory | None = None
        self.sync()

    def facility_idx(self, facility_id: str) -> int | None:
        return self._index.get(str(facility_id))

    def sync(self) -> int:
        """Pull rows stored since the last sync (by any process); returns how many were new."""
        if self._store is None:
            return 0
        with self._lock:
            rows = self._store.since(self._last_id)
            n_before = len(self._facility)
            for row_id, o in rows:
                self._last_id = max(self._last_id, row_id)
                idx = self._index.get(o.facility_id)
                if idx is None:
                    self.skipped_unknown += 1
                    continue
                if not usable(o):
                    self.skipped_invalid += 1
                    continue
                self._facility.append(idx)
                self._time.append(o.time_utc_s)
                self._free.append(o.free_spaces)
                self._capacity.append(-1 if o.capacity is None else o.capacity)
            if rows:
                self._history = None
            if self.engine_state is not None and len(self._facility) > n_before:
                free = np.asarray(self._free[n_before:], dtype=np.float64)
                # observations older than the newest one held are ignored by the engine
                self.engine_state.update(np.asarray(self._facility[n_before:]),
                                         np.asarray(self._time[n_before:]), free,
                                         np.asarray(self._capacity[n_before:]), free == 0,
                                         parking=self._parking)
            return len(rows)

    @property
    def skipped(self) -> int:
        """Stored rows left out: of unknown facilities, or unusable."""
        return self.skipped_unknown + self.skipped_invalid

    def snapshot(self) -> parking_engine.LiveObservations | None:
        """A private copy of the forecaster's live state, synced first: the planner reads it
        while other requests may post observations."""
        self.sync()
        if self.engine_state is None:
            return None
        with self._lock:
            return copy.deepcopy(self.engine_state)

    def forecast(self, at_utc_s: int, now_utc_s: int) -> parking_engine.ParkingForecast:
        """Every facility's forecast at ``at_utc_s``, with the live observations as of now."""
        if self._parking is None:
            raise ValueError("LiveFeed.forecast: this feed was built without the parking")
        self.sync()
        with self._lock:  # the engine state's arrays change in place on sync
            return parking_engine.forecast(self._parking, None, int(at_utc_s),
                                           live=self.engine_state, now_utc_s=int(now_utc_s))

    def forecast_at(self, facility_idx, at_utc_s, now_utc_s: int) -> parking_engine.ParkingForecast:
        """The forecast of the given (facility, instant) rows, with the live observations as of
        now (a day's chart, the street zones)."""
        if self._parking is None:
            raise ValueError("LiveFeed.forecast_at: this feed was built without the parking")
        self.sync()
        with self._lock:
            return parking_engine.forecast(self._parking, np.asarray(facility_idx, dtype=np.int64),
                                           np.asarray(at_utc_s, dtype=np.int64),
                                           live=self.engine_state, now_utc_s=int(now_utc_s))

    def history(self) -> OccupancyHistory:
        """Every live observation as an OccupancyHistory, sorted by facility then time.

        ``capacity`` is -1 where the sender did not give it.
        """
        self.sync()
        with self._lock:
            if self._history is None:
                fac = np.asarray(self._facility, dtype=np.int32)
                t = np.asarray(self._time, dtype=np.int64)
                order = np.lexsort((t, fac))
                self._history = OccupancyHistory(
                    facility_idx=fac[order], time_utc_s=t[order],
                    free_spaces=np.asarray(self._free, dtype=np.int32)[order],
                    capacity=np.asarray(self._capacity, dtype=np.int32)[order])
            return self._history

    def latest(self, at_utc_s: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per facility_idx: (time_utc_s, free_spaces, capacity) of the last observation at or
        before ``at_utc_s`` (all of them when None); time -1 where there is none."""
        h = self.history()
        n = self.n_facilities
        time_out = np.full(n, -1, dtype=np.int64)
        free_out = np.full(n, -1, dtype=np.int32)
        cap_out = np.full(n, -1, dtype=np.int32)
        keep = np.ones(h.n_observations, dtype=bool) if at_utc_s is None else h.time_utc_s <= at_utc_s
        fac, t = h.facility_idx[keep], h.time_utc_s[keep]
        if fac.size:
            # rows are sorted by (facility, time): the last row of each facility is its latest
            last = np.flatnonzero(np.r_[fac[1:] != fac[:-1], True])
            time_out[fac[last]] = t[last]
            free_out[fac[last]] = h.free_spaces[keep][last]
            cap_out[fac[last]] = h.capacity[keep][last]
        return time_out, free_out, cap_out
