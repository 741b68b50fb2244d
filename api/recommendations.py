"""Recommendations given: a SQLite store that survives restarts, and the planner's view of it.

Every ``/api/v1/plan`` answer that parks a car (a ``CAR_PARK`` or ``PARK_AND_RIDE`` itinerary)
sends drivers to car parks. :class:`RecommendationStore` keeps one row per car park named:

* ``facility_id`` (the bundle's id, a string: a rebuilt bundle keeps the rows),
* ``arrive_utc_s``, the expected arrival at the car park (the PARK leg's start),
* ``p_free``, the probability of a space the planner used,
* ``weight``, the share of a driver it stands for,
* ``given_utc_s``, when the answer was given,

and nothing about who asked (no address, no origin, no destination, no session).

*Weight.* One answer is one driver, who takes one of the itineraries returned; which one is
unknown, so each returned itinerary counts ``1 / n`` of a driver (``n`` itineraries returned,
whatever their modes), and the car ones are recorded. A car-only request with one itinerary
records weight 1; an answer offering tram, bike and car records a third of a driver at its car
park. A plan whose arrival is in the past or more than ``recommend_horizon_s`` ahead (a look
at another day, not a trip) is not recorded.

*Expiry.* Rows whose arrival lies ``EXPIRE_AFTER_STAYS`` mean stays (12 h by default) in the
past count for nothing (:mod:`engine.parking.pending`) and are deleted when rows are added.

*Several workers.* The table lives in the same SQLite file as the live observations (WAL); each
app keeps a :class:`RecommendationLog` that pulls the rows stored since its last read
(``id > last_id``, one indexed query) before every plan, like
:class:`api.observations.LiveFeed`: a recommendation given by one gunicorn worker is seen by the
others on their next request, and a restarted app reads them all back.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from api.sqlite_log import AppendLog
from engine.parking.pending import EXPIRE_AFTER_STAYS, PendingArrivals
from engine.planning.itinerary import PlanResult
from engine.transit.service_days import service_day_reference

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recommendations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    facility_id TEXT NOT NULL,
    arrive_utc_s INTEGER NOT NULL,
    p_free REAL NOT NULL,
    weight REAL NOT NULL,
    given_utc_s INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS recommendations_arrive ON recommendations (arrive_utc_s);
"""

CAR_MODES = ("CAR_PARK", "PARK_AND_RIDE")
"""Planner modes whose PARK leg leaves a car (bike-and-ride's leaves a bicycle)."""


@dataclass(frozen=True)
class Recommendation:
    """One car park named to a driver (or to a share of one)."""

    facility_id: str
    arrive_utc_s: int        # expected arrival at the car park, s since the epoch
    p_free: float            # probability of a space the planner used (0..1)
    weight: float            # share of a driver (0..1)
    given_utc_s: int         # when the answer was given


class RecommendationStore(AppendLog):
    """Append-only SQLite table of recommendations (``api.sqlite_log``: WAL, one connection per
    process). Raises ``sqlite3.Error`` subclasses for a file that cannot be opened.
    """

    def __init__(self, path: str | Path):
        super().__init__(path, "recommendations", _SCHEMA)

    def add(self, rows: list[Recommendation], *, expire_before_utc_s: int | None = None) -> list[int]:
        """Store ``rows`` in one transaction and delete rows arriving before
        ``expire_before_utc_s``; returns the new row ids."""
        ids = []
        with self._transaction() as conn:
            if expire_before_utc_s is not None:
                conn.execute("DELETE FROM recommendations WHERE arrive_utc_s < ?",
                             (int(expire_before_utc_s),))
            for r in rows:
                cur = conn.execute(
                    "INSERT INTO recommendations (facility_id, arrive_utc_s, p_free, weight, "
                    "given_utc_s) VALUES (?, ?, ?, ?, ?)",
                    (r.facility_id, int(r.arrive_utc_s), float(r.p_free), float(r.weight),
                     int(r.given_utc_s)))
                ids.append(int(cur.lastrowid))
        return ids

    def since(self, last_id: int) -> list[tuple[int, Recommendation]]:
        """Rows with id > last_id, in id order."""
        rows = self._rows_since("facility_id, arrive_utc_s, p_free, weight, given_utc_s", last_id)
        return [(r[0], Recommendation(r[1], r[2], r[3], r[4], r[5])) for r in rows]


class RecommendationLog:
    """The recommendations of one network's facilities, synced from a store; the planner reads
    them as :class:`engine.parking.pending.PendingArrivals`. Thread-safe. Without a store
    (no observations database) the rows are kept in this process only."""

    def __init__(self, facility_ids, store: RecommendationStore | None, template: PendingArrivals,
                 *, horizon_s: float = 86_400.0):
        self._index = {str(f): i for i, f in enumerate(np.asarray(facility_ids).tolist())}
        self._store = store
        self._template = template          # the model's parameters, no rows
        self.horizon_s = float(horizon_s)  # later arrivals are not recorded
        self._lock = threading.Lock()
        self._last_id = 0
        self._facility: list[int] = []
        self._arrive: list[int] = []
        self._weight: list[float] = []
        self.skipped_unknown = 0           # rows of facilities this bundle does not have
        self.sync()

    @property
    def expire_after_s(self) -> float:
        return EXPIRE_AFTER_STAYS * self._template.mean_stay_s

    def sync(self) -> int:
        """Pull rows stored since the last sync (by any process); returns how many were new."""
        if self._store is None:
            return 0
        with self._lock:
            rows = self._store.since(self._last_id)
            for row_id, r in rows:
                self._last_id = max(self._last_id, row_id)
                self._append(r)
            return len(rows)

    def _append(self, r: Recommendation) -> None:
        idx = self._index.get(r.facility_id)
        if idx is None:
            self.skipped_unknown += 1
            return
        self._facility.append(idx)
        self._arrive.append(int(r.arrive_utc_s))
        self._weight.append(float(r.weight))

    def record(self, rows: list[Recommendation], now_utc_s: int) -> None:
        """Store ``rows`` (and drop the expired ones from the store and from memory)."""
        expire = int(now_utc_s - self.expire_after_s)
        if self._store is not None:
            self._store.add(rows, expire_before_utc_s=expire)
            self.sync()
        else:
            with self._lock:
                for r in rows:
                    self._append(r)
        self._drop_before(expire)

    def record_plan(self, result: PlanResult, timezone: str, now_utc_s: int) -> int:
        """Record the car parks of a plan answer (:func:`recommendations_of`); returns how many."""
        rows = recommendations_of(result, timezone, now_utc_s, self.horizon_s)
        if rows:
            self.record(rows, now_utc_s)
        return len(rows)

    def _drop_before(self, expire_utc_s: int) -> None:
        with self._lock:
            keep = [i for i, a in enumerate(self._arrive) if a >= expire_utc_s]
            if len(keep) < len(self._arrive):
                self._facility = [self._facility[i] for i in keep]
                self._arrive = [self._arrive[i] for i in keep]
                self._weight = [self._weight[i] for i in keep]

    def pending(self, now_utc_s: int) -> PendingArrivals:
        """The drivers sent, synced first, without the expired rows."""
        self.sync()
        with self._lock:
            p = self._template.added(np.asarray(self._facility, np.int64),
                                     np.asarray(self._arrive, np.int64),
                                     np.asarray(self._weight, np.float64))
        return p.expired(int(now_utc_s))

    def __len__(self) -> int:
        with self._lock:
            return len(self._facility)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def recommendations_of(result: PlanResult, timezone: str, now_utc_s: int, horizon_s: float
                       ) -> list[Recommendation]:
    """The car parks a plan answer sends drivers to (module docstring, *Weight*): one row per
    car itinerary's PARK leg, weighted ``1 / n_itineraries``; none for an arrival in the past
    or more than ``horizon_s`` after ``now_utc_s``."""
    its = result.itineraries
    out = []
    for it in its:
        if it.mode not in CAR_MODES:
            continue
        ref = service_day_reference(timezone, it.service_day).timestamp()
        for leg in it.legs:
            parking = leg.extra.get("parking") if leg.mode == "PARK" else None
            if not parking:
                continue
            arrive = int(round(ref + leg.start_s))
            if not now_utc_s <= arrive <= now_utc_s + horizon_s:
                continue
            out.append(Recommendation(str(parking["facility_id"]), arrive,
                                      float(parking["p_space_free"]), 1.0 / len(its), int(now_utc_s)))
    return out
