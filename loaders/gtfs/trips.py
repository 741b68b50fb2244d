"""trips.txt and stop_times.txt: trips with their stop times, checked, repaired and interpolated."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.model import haversine_m
from engine.transit.build import TripStopTimes
from loaders.gtfs.fields import _enum, _ids, _lookup, _numbers, _times_s, _unique
from loaders.gtfs.frequencies import _expand_frequencies
from loaders.gtfs.tables import _Table
from loaders.report import BuildReport, LoaderError


@dataclass
class _TripRows:
    """trips.txt, checked: one entry per row (a row's position is the trip's number below)."""

    ids: np.ndarray          # trip_id (object array of str)
    index: pd.Index          # trip_id -> position
    line: np.ndarray         # -> position in routes.txt (the line)
    service: np.ndarray      # -> position in the feed's service ids
    wheelchair: np.ndarray   # wheelchair_accessible 0/1/2
    bikes: np.ndarray        # bikes_allowed 0/1/2
    headsign: np.ndarray     # trip_headsign (str, '' when absent)


@dataclass
class _StopTimes:
    """stop_times.txt sorted by (trip, stop_sequence): parallel arrays, one entry per stop time."""

    trip: np.ndarray     # -> position in trips.txt
    stop: np.ndarray     # -> position in the feed's stops
    seq: np.ndarray      # stop_sequence (float)
    arr: np.ndarray      # arrival, seconds after midnight of the service day (float, NaN when empty)
    dep: np.ndarray      # departure, same
    pickup: np.ndarray   # pickup_type 0-3
    dropoff: np.ndarray  # drop_off_type 0-3
    dist: np.ndarray     # shape_dist_traveled (float, NaN when empty)
    row: np.ndarray      # line number in stop_times.txt

    def of_trips(self, keep_trips: np.ndarray) -> _StopTimes:
        """The stop times of the trips where ``keep_trips`` (bool per trip) is True."""
        k = keep_trips[self.trip]
        return _StopTimes(*(a[k] for a in (self.trip, self.stop, self.seq, self.arr, self.dep,
                                           self.pickup, self.dropoff, self.dist, self.row)))

    def blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) of every trip's block of stop times, in the sorted order."""
        starts = (np.flatnonzero(np.r_[True, self.trip[1:] != self.trip[:-1]]) if self.trip.size
                  else np.zeros(0, dtype=np.int64))
        return starts, np.r_[starts[1:], self.trip.size]


def _trips(trips_t: _Table, st: _Table, freq: _Table | None, stops: dict, lines: dict,
           services: pd.Index, active: np.ndarray, report: BuildReport) -> TripStopTimes:
    """Trips with their stop times: checked, repaired, interpolated, frequencies expanded."""
    trips = _trip_rows(trips_t, lines, services, report)
    times, timepoint = _sorted_stop_times(st, trips, stops, report)
    _warn_decreasing_distances(times, trips.ids, st.file, report)
    _fill_one_sided_times(times, timepoint, trips.ids, st.file, report)
    drop_trip = _drop_broken_trips(times, trips_t, trips.ids, st.file, report)
    times = times.of_trips(~drop_trip)
    _interpolate_untimed(times, trips.ids, stops, st.file, report)
    times = _drop_backward_trips(times, drop_trip, trips.ids, st.file, report)

    never = ~active.any(axis=1)[trips.service] & ~drop_trip
    trips_t.warn(report, "service_never_active", never, "service_id",
                 lambda i: f"trip {trips.ids[i]!r}: its service {trips_t.values('service_id')[i]!r} "
                           "runs on no day; kept")
    return _trip_stop_times(times, trips, drop_trip, freq, report)


def _trip_rows(trips_t: _Table, lines: dict, services: pd.Index, report: BuildReport) -> _TripRows:
    """trips.txt checked: unique trip ids, known routes and services, enums."""
    trip_ids = _ids(trips_t, "trip_id")
    trip_index = _unique(trips_t, trip_ids, "trip_id")
    route = _lookup(trips_t, _ids(trips_t, "route_id"), lines["_index"], "route_id", "routes.txt")
    service = _lookup(trips_t, _ids(trips_t, "service_id"), services, "service_id",
                      "calendar.txt or calendar_dates.txt")
    wheel = _enum(trips_t, "wheelchair_accessible", (0, 1, 2), 0, report)
    bikes = _enum(trips_t, "bikes_allowed", (0, 1, 2), 0, report)
    headsign = trips_t.values("trip_headsign").astype(str)
    return _TripRows(trip_ids, trip_index, route, service, wheel, bikes, headsign)


def _sorted_stop_times(st: _Table, trips: _TripRows, stops: dict, report: BuildReport
                       ) -> tuple[_StopTimes, np.ndarray | None]:
    """stop_times.txt checked and sorted by (trip, stop_sequence), with its timepoint column
    (sorted too; None when absent). Two stop times of a trip with one stop_sequence are fatal."""
    trip_ids = trips.ids
    trip = _lookup(st, _ids(st, "trip_id"), trips.index, "trip_id", "trips.txt")
    stop_ids = _ids(st, "stop_id")
    stop = _lookup(st, stop_ids, stops["_index"], "stop_id", "stops.txt")
    seq = _numbers(st, "stop_sequence", integer=True, fatal=True)
    if np.isnan(seq).any():
        st.error("missing_required_field", np.isnan(seq), "stop_sequence",
                 lambda i: "stop_sequence is empty")
    st.warn(report, "number_out_of_range", seq < 0, "stop_sequence",
            lambda i: f"stop_sequence {int(seq[i])} is negative; kept, since it only orders the "
                      "trip's stops")
    loc = stops["stop_location_type"][stop]
    st.warn(report, "wrong_stop_time_stop_location_type", loc != 0, "stop_id",
            lambda i: f"stop_id {stop_ids[i]!r} has location_type {loc[i]}; stop times should "
                      "name stops or platforms (location_type 0); kept")
    arr = _times_s(st, "arrival_time", label="arrival_time")
    dep = _times_s(st, "departure_time", label="departure_time")
    pickup = _enum(st, "pickup_type", (0, 1, 2, 3), 0, report)
    dropoff = _enum(st, "drop_off_type", (0, 1, 2, 3), 0, report)
    dist = _numbers(st, "shape_dist_traveled", integer=False, fatal=False, report=report)
    timepoint = _enum(st, "timepoint", (0, 1), 0, report) if st.has("timepoint") else None
    row = st.row
    order = np.lexsort((seq, trip))
    trip, stop, seq, arr, dep, pickup, dropoff, dist, row = (
        a[order] for a in (trip, stop, seq, arr, dep, pickup, dropoff, dist, row))
    if timepoint is not None:
        timepoint = timepoint[order]
    same = trip[1:] == trip[:-1]
    dup = np.r_[False, same & (seq[1:] == seq[:-1])]
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise LoaderError.of("duplicate_key",
                             f"trip {trip_ids[trip[i]]!r} has two stop times with stop_sequence "
                             f"{int(seq[i])} (rows {min(row[i - 1], row[i]):,} and "
                             f"{max(row[i - 1], row[i]):,})", file=st.file,
                             row=int(max(row[i - 1], row[i])), column="stop_sequence",
                             more=int(dup.sum()) - 1)
    return _StopTimes(trip, stop, seq, arr, dep, pickup, dropoff, dist, row), timepoint


def _warn_sorted(report: BuildReport, file: str, times: _StopTimes, code: str, mask, column: str,
                 message) -> None:
    """One notice for the sorted stop times in ``mask`` (first as example, count = all)."""
    where = np.flatnonzero(mask)
    if where.size:
        i = int(where[0])
        text = message(i) + (f" ({where.size:,} rows like this)" if where.size > 1 else "")
        report.warn(code, text, file=file, row=int(times.row[i]), column=column,
                    count=int(where.size))


def _warn_decreasing_distances(times: _StopTimes, trip_ids: np.ndarray, file: str,
                               report: BuildReport) -> None:
    """shape_dist_traveled must increase along a trip (decreasing_or_equal_stop_time_distance).
    The trip is kept; its untimed stops are then interpolated by straight-line distance."""
    same_trip = np.r_[False, times.trip[1:] == times.trip[:-1]]
    prev = np.r_[np.nan, times.dist[:-1]]
    back = same_trip & (times.dist <= prev)  # False where either is empty (NaN)
    _warn_sorted(report, file, times, "decreasing_or_equal_stop_time_distance", back,
                 "shape_dist_traveled",
                 lambda i: f"trip {trip_ids[times.trip[i]]!r}: shape_dist_traveled "
                           f"{times.dist[i]:g} at stop_sequence {int(times.seq[i])} is not more "
                           f"than {times.dist[i - 1]:g} at stop_sequence {int(times.seq[i - 1])} "
                           f"(row {int(times.row[i - 1]):,}); kept")


def _fill_one_sided_times(times: _StopTimes, timepoint: np.ndarray | None, trip_ids: np.ndarray,
                          file: str, report: BuildReport) -> None:
    """A stop time with only one of arrival/departure gets the other one (in place); timepoints
    without times are reported (they are interpolated like the others)."""
    arr, dep, trip, seq = times.arr, times.dep, times.trip, times.seq
    one = np.isnan(arr) != np.isnan(dep)
    _warn_sorted(report, file, times, "stop_time_with_only_arrival_or_departure_time", one,
                 "departure_time" if np.isnan(dep[one]).any() else "arrival_time",
                 lambda i: f"trip {trip_ids[trip[i]]!r} stop_sequence {int(seq[i])} has only one of "
                           "arrival_time/departure_time; the other is set equal")
    times.arr = arr = np.where(np.isnan(arr), dep, arr)
    times.dep = np.where(np.isnan(dep), arr, dep)
    if timepoint is not None:
        _warn_sorted(report, file, times, "stop_time_timepoint_without_times",
                     (timepoint == 1) & np.isnan(arr), "arrival_time",
                     lambda i: f"trip {trip_ids[trip[i]]!r} stop_sequence {int(seq[i])} is a "
                               "timepoint without times; interpolated")


def _drop_broken_trips(times: _StopTimes, trips_t: _Table, trip_ids: np.ndarray, file: str,
                       report: BuildReport) -> np.ndarray:
    """Per-trip checks (edges, length, no stop times): bool per trip, True for trips to drop."""
    trip, row = times.trip, times.row
    n_trips = len(trips_t)
    starts, ends = times.blocks()
    trip_of_block = trip[starts]
    drop_trip = np.zeros(n_trips, dtype=bool)

    def drop(mask_blocks, code, column, what, message, at_end=None):
        where = np.flatnonzero(mask_blocks)
        if where.size:
            b = int(where[0])
            i = int(starts[b] if at_end is None or not at_end[b] else ends[b] - 1)
            text = message(b, i) + (f" ({where.size:,} trips like this)" if where.size > 1 else "")
            report.warn(code, text, file=file, row=int(row[i]), column=column,
                        count=int(where.size))
            report.drop("trips", what, int(where.size))
            drop_trip[trip_of_block[where]] = True

    short = (ends - starts) < 2
    drop(short, "unusable_trip", "trip_id", "unusable_trip: fewer than two stop times",
         lambda b, i: f"trip {trip_ids[trip_of_block[b]]!r} has a single stop time; dropped")
    edge_first = np.isnan(times.arr[starts])
    edge_last = np.isnan(times.arr[ends - 1])
    drop((edge_first | edge_last) & ~short, "missing_trip_edge", "arrival_time",
         "missing_trip_edge: first or last stop time without times",
         lambda b, i: f"trip {trip_ids[trip_of_block[b]]!r}: its "
                      f"{'first' if edge_first[b] else 'last'} stop time has no arrival or "
                      "departure time, which cannot be inferred; dropped", at_end=~edge_first)
    no_times = np.ones(n_trips, dtype=bool)
    no_times[trip] = False
    if no_times.any():
        i = int(np.flatnonzero(no_times)[0])
        report.warn("unused_trip", f"trip {trip_ids[i]!r} has no stop times; dropped"
                    + (f" ({int(no_times.sum()):,} trips like this)" if no_times.sum() > 1 else ""),
                    file=trips_t.file, row=int(trips_t.row[i]), column="trip_id",
                    count=int(no_times.sum()))
        report.drop("trips", "unused_trip: no stop times", int(no_times.sum()))
        drop_trip |= no_times
    return drop_trip


def _interpolate_untimed(times: _StopTimes, trip_ids: np.ndarray, stops: dict, file: str,
                         report: BuildReport) -> None:
    """Untimed intermediate stop times get interpolated times (in place), reported."""
    missing = np.isnan(times.arr)
    if missing.any():
        starts, ends = times.blocks()
        times.arr, times.dep = _interpolate(times.trip, times.stop, times.dist, times.arr,
                                            times.dep, starts, ends, stops)
        _warn_sorted(report, file, times, "interpolated_times", missing, "arrival_time",
                     lambda i: f"trip {trip_ids[times.trip[i]]!r} stop_sequence "
                               f"{int(times.seq[i])} has no times; interpolated between the "
                               "timed stops around it")


def _drop_backward_trips(times: _StopTimes, drop_trip: np.ndarray, trip_ids: np.ndarray, file: str,
                         report: BuildReport) -> _StopTimes:
    """Times must not go backwards: such trips are dropped (marked in ``drop_trip``, in place)."""
    trip, arr, dep = times.trip, times.arr, times.dep
    starts, _ = times.blocks()
    trip_first = np.zeros(trip.size, dtype=bool)
    trip_first[starts] = True
    back = np.r_[False, ~trip_first[1:] & (arr[1:] < dep[:-1])] | (dep < arr)
    if not back.any():
        return times
    bad_trips = np.unique(trip[back])
    i = int(np.flatnonzero(back)[0])
    report.warn("stop_time_with_arrival_before_previous_departure_time",
                f"trip {trip_ids[trip[i]]!r} goes back in time at stop_sequence {int(times.seq[i])}; "
                "dropped" + (f" ({bad_trips.size:,} trips like this)" if bad_trips.size > 1 else ""),
                file=file, row=int(times.row[i]), column="arrival_time", count=int(bad_trips.size))
    report.drop("trips", "times going backwards", int(bad_trips.size))
    drop_trip[bad_trips] = True
    return times.of_trips(~drop_trip)


def _trip_stop_times(times: _StopTimes, trips: _TripRows, drop_trip: np.ndarray,
                     freq: _Table | None, report: BuildReport) -> TripStopTimes:
    """The kept trips (frequency-based ones expanded) laid out for timetable_from_trips."""
    trip_ids = trips.ids
    n_trips = trip_ids.size
    starts, ends = times.blocks()
    arr_i = times.arr.astype(np.int64)
    dep_i = times.dep.astype(np.int64)
    kept = np.flatnonzero(~drop_trip)
    # trip -> its block of sorted stop times
    block_start = np.full(n_trips, -1, dtype=np.int64)
    block_len = np.zeros(n_trips, dtype=np.int64)
    block_start[times.trip[starts]] = starts
    block_len[times.trip[starts]] = ends - starts

    out_trip = kept
    out_shift = np.zeros(kept.size, dtype=np.int64)
    out_ids = trip_ids[kept].astype(str)
    if freq is not None and len(freq):
        out_trip, out_shift, out_ids = _expand_frequencies(
            freq, trips.index, trip_ids, drop_trip, dep_i, block_start, report, kept)

    lengths = block_len[out_trip]
    offsets = np.zeros(out_trip.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    src = np.repeat(block_start[out_trip] - offsets[:-1], lengths) + np.arange(offsets[-1])
    shift = np.repeat(out_shift, lengths)
    return TripStopTimes(
        trip_ids=np.asarray(out_ids, dtype=str),
        trip_line_idx=trips.line[out_trip].astype(np.int32),
        trip_service_idx=trips.service[out_trip].astype(np.int32),
        trip_wheelchair=trips.wheelchair[out_trip].astype(np.int8),
        trip_bikes_allowed=trips.bikes[out_trip].astype(np.int8),
        trip_headsign=trips.headsign[out_trip],
        st_offsets=offsets,
        st_stop_idx=times.stop[src].astype(np.int32),
        st_arrival_s=(arr_i[src] + shift).astype(np.int32),
        st_departure_s=(dep_i[src] + shift).astype(np.int32),
        st_can_board=times.pickup[src] != 1,
        st_can_alight=times.dropoff[src] != 1,
    )


def _interpolate(trip, stop, dist, arr, dep, starts, ends, stops) -> tuple[np.ndarray, np.ndarray]:
    """Fill untimed stop times linearly between the timed ones around them (same trip)."""
    n = trip.size
    idx = np.arange(n)
    timed = ~np.isnan(arr)
    prev = np.maximum.accumulate(np.where(timed, idx, -1))
    nxt = np.minimum.accumulate(np.where(timed, idx, n)[::-1])[::-1]
    # cumulative distance along each trip: shape_dist_traveled if complete and non-decreasing
    lon = stops["stop_lon"][stop]
    lat = stops["stop_lat"][stop]
    seg = np.zeros(n)
    seg[1:] = haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    seg[starts] = 0.0
    trip_no = np.repeat(np.arange(starts.size), ends - starts)
    d_seg = np.zeros(n)
    d_seg[1:] = np.diff(dist)
    d_seg[starts] = 0.0
    bad_dist = np.isnan(dist) | (d_seg < 0)
    use_shape = ~np.bincount(trip_no, weights=bad_dist, minlength=starts.size).astype(bool)
    step = np.where(use_shape[trip_no], d_seg, seg)
    cum = np.cumsum(step)
    cum -= np.repeat(cum[starts], ends - starts)
    p, q = np.clip(prev, 0, n - 1), np.clip(nxt, 0, n - 1)
    span = cum[q] - cum[p]
    frac = np.where(span > 0, (cum - cum[p]) / np.where(span > 0, span, 1.0),
                    (idx - p) / np.maximum(q - p, 1))
    t = np.round(dep[p] + frac * (arr[q] - dep[p]))
    fill = ~timed
    arr = np.where(fill, t, arr)
    dep = np.where(fill, t, dep)
    return arr, dep
