"""Rebuilding a timetable from edited trips or footpaths (stops, lines and calendars kept)."""
from __future__ import annotations

import dataclasses

import numpy as np

from engine.model import Timetable
from engine.transit.build import TripStopTimes, timetable_from_trips


def _footpath_arrays(tt: Timetable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts = np.diff(np.asarray(tt.transfer_offsets)).astype(np.int64)
    src = np.repeat(np.arange(tt.n_stops, dtype=np.int64), counts)
    return (src, np.asarray(tt.transfer_to_stop, dtype=np.int64),
            np.asarray(tt.transfer_time_s, dtype=np.int64))


def rebuild_timetable(tt: Timetable, trips: TripStopTimes, *, footpaths=None) -> Timetable:
    """``tt`` with its trips replaced (stops, lines, calendars kept; footpaths kept or replaced)."""
    src, dst, secs = _footpath_arrays(tt) if footpaths is None else footpaths
    return timetable_from_trips(
        stop_ids=tt.stop_ids, stop_name=tt.stop_name, stop_lon=tt.stop_lon, stop_lat=tt.stop_lat,
        stop_location_type=tt.stop_location_type, stop_parent_idx=tt.stop_parent_idx,
        stop_wheelchair=tt.stop_wheelchair, stop_min_transfer_s=tt.stop_min_transfer_s,
        line_ids=tt.line_ids, line_short_name=tt.line_short_name, line_long_name=tt.line_long_name,
        line_type=tt.line_type, line_color=tt.line_color, line_text_color=tt.line_text_color,
        line_agency=tt.line_agency, trips=trips, service_ids=tt.service_ids,
        service_first_day=tt.service_first_day, service_active=tt.service_active,
        transfer_from_stop=src, transfer_to_stop=dst, transfer_time_s=secs,
        forbidden_from_stop=tt.forbidden_from_stop, forbidden_to_stop=tt.forbidden_to_stop,
        timezone=tt.timezone, feed_ids=tt.feed_ids)


def _select_trips(trips: TripStopTimes, keep_trip: np.ndarray, keep_st: np.ndarray | None = None
                  ) -> TripStopTimes:
    """Trips where ``keep_trip``, and of their stop times those where ``keep_st`` (default all)."""
    off = np.asarray(trips.st_offsets, dtype=np.int64)
    n_st = int(off[-1])
    trip_of_st = np.repeat(np.arange(trips.n_trips), np.diff(off))
    st_mask = keep_trip[trip_of_st]
    if keep_st is not None:
        st_mask &= keep_st
    lengths = np.bincount(trip_of_st[st_mask], minlength=trips.n_trips)[keep_trip]
    offsets = np.zeros(int(keep_trip.sum()) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    st = {name: np.asarray(getattr(trips, name))[st_mask] for name in
          ("st_stop_idx", "st_arrival_s", "st_departure_s", "st_can_board", "st_can_alight")}
    per_trip = {name: np.asarray(getattr(trips, name))[keep_trip] for name in
                ("trip_ids", "trip_line_idx", "trip_service_idx", "trip_wheelchair", "trip_bikes_allowed",
                 "trip_headsign")}
    assert n_st == trip_of_st.size
    return TripStopTimes(st_offsets=offsets, **per_trip, **st)


def _concat_trips(a: TripStopTimes, b: TripStopTimes) -> TripStopTimes:
    off = np.concatenate([np.asarray(a.st_offsets), np.asarray(b.st_offsets)[1:] + a.st_offsets[-1]])
    fields = {}
    for f in dataclasses.fields(TripStopTimes):
        if f.name != "st_offsets":
            fields[f.name] = np.concatenate([np.asarray(getattr(a, f.name)), np.asarray(getattr(b, f.name))])
    return TripStopTimes(st_offsets=off, **fields)


def rebuild_footpaths(tt: Timetable, src, dst, secs) -> Timetable:
    """``tt`` with its footpaths replaced by (src, dst, secs) (sorted, CSR by from-stop)."""
    src, dst, secs = (np.asarray(a, dtype=np.int64) for a in (src, dst, secs))
    order = np.lexsort((secs, dst, src))
    src, dst, secs = src[order], dst[order], secs[order]
    offsets = np.zeros(tt.n_stops + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=tt.n_stops), out=offsets[1:])
    return dataclasses.replace(tt, transfer_offsets=offsets.astype(np.int32),
                               transfer_to_stop=dst.astype(np.int32), transfer_time_s=secs.astype(np.int32))
