"""Several feeds -> one set of arrays for timetable_from_trips, indices offset per feed."""
from __future__ import annotations

import numpy as np

from engine.model import NO_INDEX
from engine.transit.build import TripStopTimes
from loaders.gtfs.feed import _Feed
from loaders.report import LoaderError


def _merge(feeds: list[_Feed]) -> dict:
    """timetable_from_trips' keyword arguments for all feeds, indices offset per feed."""
    stop_keys = ("stop_ids", "stop_name", "stop_lon", "stop_lat", "stop_location_type",
                 "stop_parent_idx", "stop_wheelchair", "stop_min_transfer_s")
    line_keys = ("line_ids", "line_short_name", "line_long_name", "line_type", "line_color",
                 "line_text_color", "line_agency")
    stop_off = np.cumsum([0] + [len(f.stops["stop_ids"]) for f in feeds])
    line_off = np.cumsum([0] + [len(f.lines["line_ids"]) for f in feeds])
    serv_off = np.cumsum([0] + [len(f.service_ids) for f in feeds])
    out: dict = {}
    for k in stop_keys:
        parts = [f.stops[k] for f in feeds]
        if k == "stop_parent_idx":
            parts = [np.where(p >= 0, p + o, NO_INDEX) for p, o in zip(parts, stop_off, strict=False)]
        out[k] = np.concatenate(parts)
    out["stop_ids"] = out["stop_ids"].astype(str)
    out["stop_name"] = out["stop_name"].astype(str)
    for k in line_keys:
        out[k] = np.concatenate([f.lines[k] for f in feeds])
    for k in ("line_ids", "line_short_name", "line_long_name", "line_color", "line_text_color",
              "line_agency"):
        out[k] = out[k].astype(str)
    ids = out["stop_ids"]
    if len(set(ids.tolist())) != ids.size:  # only possible with user-given prefixes; be safe
        raise LoaderError.of("duplicate_key", "stop ids collide across feeds", file="stops.txt",
                             column="stop_id")

    first_days = [f.service_first_day for f in feeds if f.service_active.shape[1]]
    first = min(first_days) if first_days else 0
    last = max((f.service_first_day + f.service_active.shape[1] - 1 for f in feeds
                if f.service_active.shape[1]), default=first - 1)
    n_days = last - first + 1
    active = np.zeros((int(serv_off[-1]), max(n_days, 0)), dtype=bool)
    for f, o in zip(feeds, serv_off, strict=False):
        d0 = f.service_first_day - first
        active[o:o + len(f.service_ids), d0:d0 + f.service_active.shape[1]] = f.service_active
    out["service_ids"] = np.concatenate([f.service_ids for f in feeds]).astype(str)
    out["service_first_day"] = int(first)
    out["service_active"] = active

    st_off = np.cumsum([0] + [int(f.trips.st_offsets[-1]) for f in feeds])
    trips = [f.trips for f in feeds]
    out["trips"] = TripStopTimes(
        trip_ids=np.concatenate([t.trip_ids for t in trips]).astype(str),
        trip_line_idx=np.concatenate([t.trip_line_idx + o for t, o in zip(trips, line_off, strict=False)]),
        trip_service_idx=np.concatenate([t.trip_service_idx + o
                                         for t, o in zip(trips, serv_off, strict=False)]),
        trip_wheelchair=np.concatenate([t.trip_wheelchair for t in trips]),
        trip_bikes_allowed=np.concatenate([t.trip_bikes_allowed for t in trips]),
        trip_headsign=np.concatenate([t.trip_headsign for t in trips]).astype(str),
        st_offsets=np.concatenate([[0]] + [t.st_offsets[1:] + o
                                           for t, o in zip(trips, st_off, strict=False)]),
        st_stop_idx=np.concatenate([t.st_stop_idx + o for t, o in zip(trips, stop_off, strict=False)]),
        st_arrival_s=np.concatenate([t.st_arrival_s for t in trips]),
        st_departure_s=np.concatenate([t.st_departure_s for t in trips]),
        st_can_board=np.concatenate([t.st_can_board for t in trips]),
        st_can_alight=np.concatenate([t.st_can_alight for t in trips]),
    )
    for k in ("transfer_from_stop", "transfer_to_stop", "forbidden_from_stop", "forbidden_to_stop"):
        out[k] = np.concatenate([f.transfers[k] + o for f, o in zip(feeds, stop_off, strict=False)])
    out["transfer_time_s"] = np.concatenate([f.transfers["transfer_time_s"] for f in feeds])
    return out
