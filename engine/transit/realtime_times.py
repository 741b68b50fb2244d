"""The real-time times of one trip from its schedule and its stop time updates, by the
GTFS-Realtime rules (reference: TripUpdate, StopTimeUpdate, StopTimeEvent).

The rules, in the order they apply along the trip (positions 0..k-1):

* **Before the first update** the schedule stands (a trip-level ``delay``, when given, holds
  there instead; the spec lets a stop-level update take over from it). Delays are never
  propagated backwards.
* **A SCHEDULED update** sets the stop's arrival and departure. Each event is its absolute
  ``time`` when given (absolute time wins over ``delay``), else the scheduled time plus its
  ``delay``. A missing event takes the other one's delay (an update with only a departure delays
  the arrival by as much, and vice versa); an update with neither is "on time" (delay 0, as in
  the spec's example of a bare stop_time_update).
* **Propagation**: the departure delay of the last update holds for every following stop without
  an update of its own, until the next stop_time_update.
* **NO_DATA**: the stop keeps its schedule and so do the following stops until the next update
  with data (the delay stops propagating).
* **SKIPPED**: the vehicle does not stop there (no boarding, no alighting). The delay of the
  previous update propagates over it unchanged; the times the skipped stop gets are the
  propagated ones (they are never used to board or alight, only to keep the trip ordered).
* **Clamp** (times never go backwards): walking along the trip, an arrival earlier than the
  previous stop's departure is raised to it, and a departure earlier than its stop's arrival is
  raised to the arrival. Predictions are only ever moved later, so an inconsistent feed cannot
  make a connection look earlier than the vehicle can run it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StopTimeChange:
    """A real-time update of one stop of a trip, already matched to its position.

    ``arrival_s``/``departure_s`` are absolute times in seconds after the trip's service-day
    reference (they win over the ``*_delay_s`` fields); the delays are seconds (positive: late).
    None means "not given".
    """

    position: int                       # position of the stop in the trip (0-based)
    arrival_delay_s: int | None = None
    arrival_s: int | None = None
    departure_delay_s: int | None = None
    departure_s: int | None = None
    skipped: bool = False               # SKIPPED
    no_data: bool = False               # NO_DATA
    arrival_uncertainty_s: int | None = None   # StopTimeEvent.uncertainty (s): reliability only


def _event_delay(absolute_s: int | None, delay_s: int | None, scheduled_s: int) -> int | None:
    """Delay (s) of one event: absolute time wins over delay; None when neither is given."""
    if absolute_s is not None:
        return int(absolute_s) - int(scheduled_s)
    return None if delay_s is None else int(delay_s)


def _update_delays(change: StopTimeChange, sched_arr: int, sched_dep: int) -> tuple[int, int]:
    """(arrival delay, departure delay) of a SCHEDULED update; a missing event takes the other's."""
    arr = _event_delay(change.arrival_s, change.arrival_delay_s, sched_arr)
    dep = _event_delay(change.departure_s, change.departure_delay_s, sched_dep)
    if arr is None:
        arr = dep
    if dep is None:
        dep = arr
    return (0, 0) if arr is None else (arr, dep)


def clamp_forward(arr: np.ndarray, dep: np.ndarray) -> int:
    """Make times non-decreasing along a trip in place (see the module docstring); returns how
    many times were raised."""
    n_raised = 0
    for i in range(arr.shape[0]):
        if i and arr[i] < dep[i - 1]:
            arr[i] = dep[i - 1]
            n_raised += 1
        if dep[i] < arr[i]:
            dep[i] = arr[i]
            n_raised += 1
    return n_raised


def realtime_times(sched_arr: np.ndarray, sched_dep: np.ndarray, changes: Sequence[StopTimeChange],
                   trip_delay_s: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Real-time (arrival, departure, skipped, number of clamped times) of one trip.

    ``sched_arr``/``sched_dep`` are the scheduled times (s after the service-day reference) of
    the trip's k stops; ``changes`` its updates with distinct positions in 0..k-1 (any order).
    Returns int64 arrays of k times and a bool array of k SKIPPED flags.
    Raises ValueError for a position out of range or given twice.
    """
    k = int(sched_arr.shape[0])
    by_position: dict[int, StopTimeChange] = {}
    for change in changes:
        if not 0 <= change.position < k or change.position in by_position:
            raise ValueError(f"realtime_times: position {change.position} out of range 0..{k - 1} "
                             "or given twice")
        by_position[change.position] = change
    arr = np.asarray(sched_arr, dtype=np.int64).copy()
    dep = np.asarray(sched_dep, dtype=np.int64).copy()
    skipped = np.zeros(k, dtype=bool)
    delay = trip_delay_s  # the delay holding at this point of the trip (None: schedule)
    for i in range(k):
        change = by_position.get(i)
        if change is not None and change.no_data:
            delay = None                          # schedule here and downstream
            continue
        if change is not None and not change.skipped:
            arr_delay, delay = _update_delays(change, int(arr[i]), int(dep[i]))
            arr[i] += arr_delay
            dep[i] += delay
            continue
        skipped[i] = change is not None           # SKIPPED: the delay passes over it
        if delay is not None:
            arr[i] += delay
            dep[i] += delay
    n_clamped = clamp_forward(arr, dep)
    return arr, dep, skipped, n_clamped
