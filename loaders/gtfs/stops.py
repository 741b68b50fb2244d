"""stops.txt: stops, stations and other locations, and the warnings about their use."""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.spatial

from engine.model import NO_INDEX, LocalProjection
from engine.transit.build import TripStopTimes
from loaders.gtfs.fields import _enum, _ids, _is_timezone, _numbers, _unique
from loaders.gtfs.tables import _Table
from loaders.report import BuildReport, quoted

STOPS_TOO_CLOSE_M = 2.0
"""Two distinct stops closer than this, without a common parent, are reported."""


def _stops(t: _Table, report: BuildReport) -> dict:
    ids = _ids(t, "stop_id")
    index = _unique(t, ids, "stop_id")
    loc = _enum(t, "location_type", (0, 1, 2, 3, 4), 0, fatal=True)
    lat = _numbers(t, "stop_lat", integer=False, fatal=True)
    lon = _numbers(t, "stop_lon", integer=False, fatal=True)
    for col, v, bound in (("stop_lat", lat, 90.0), ("stop_lon", lon, 180.0)):
        out = np.abs(v) > bound
        if out.any():
            vals = t.values(col)
            t.error("number_out_of_range", out, col,
                    lambda i, col=col, vals=vals, bound=bound:
                    f"{col} {vals[i]} is outside [-{bound:g}, {bound:g}] (stop_id {ids[i]!r})")
    needs_xy = loc <= 2
    for col, v in (("stop_lat", lat), ("stop_lon", lon)):
        missing = needs_xy & np.isnan(v)
        if missing.any():
            t.error("missing_required_field", missing, col,
                    lambda i, col=col: f"{col} is required for stop_id {ids[i]!r} "
                                       f"(location_type {loc[i]})")
    _check_stop_timezones(t, ids, report)
    t.warn(report, "point_near_origin", (np.abs(lat) < 1) & (np.abs(lon) < 1), "stop_lat",
           lambda i: f"stop_id {ids[i]!r} lies at ({lon[i]}, {lat[i]}), near (0, 0)")

    parent_ids = t.values("parent_station")
    parent = index.get_indexer(parent_ids)
    has_parent = parent_ids != ""
    unknown = has_parent & (parent < 0)
    t.warn(report, "foreign_key_violation", unknown, "parent_station",
           lambda i: f"parent_station {parent_ids[i]!r} of stop {ids[i]!r} is not defined in "
                     "stops.txt; the stop keeps no parent")
    parent = np.where(has_parent & ~unknown, parent, NO_INDEX)
    expected = np.where(loc == 4, 0, 1)  # boarding areas belong to platforms, others to stations
    linked = parent >= 0
    wrong = linked & (loc[np.where(linked, parent, 0)] != expected)
    t.warn(report, "wrong_parent_location_type", wrong, "parent_station",
           lambda i: f"parent_station {parent_ids[i]!r} of stop {ids[i]!r} (location_type "
                     f"{loc[i]}) has location_type {loc[parent[i]]}, expected {expected[i]}")

    # Entrances, nodes and boarding areas may lack coordinates: use the parent's (two levels).
    for _ in range(2):
        fill = np.isnan(lat) & linked
        lat[fill] = lat[parent[fill]]
        lon[fill] = lon[parent[fill]]
    no_xy = np.isnan(lat) | np.isnan(lon)
    wheel = _enum(t, "wheelchair_boarding", (0, 1, 2), 0, report)
    inherit = (wheel == 0) & linked
    wheel[inherit] = wheel[parent[inherit]]
    names = t.values("stop_name").astype(str)
    stops = {"stop_ids": ids.astype(str), "stop_name": names, "stop_lon": lon, "stop_lat": lat,
             "stop_location_type": loc.astype(np.int8), "stop_parent_idx": parent.astype(np.int32),
             "stop_wheelchair": wheel.astype(np.int8),
             "stop_min_transfer_s": np.full(len(t), -1, dtype=np.int32)}
    if no_xy.any():
        # only locations of type 3/4 without a located parent get here; nothing can route to them
        t.warn(report, "missing_coordinates", no_xy, "stop_lat",
               lambda i: f"location {ids[i]!r} (location_type {loc[i]}) has no coordinates and no "
                         "located parent; dropped")
        report.drop("stops", "no coordinates, none inherited from a parent", int(no_xy.sum()))
        keep = np.flatnonzero(~no_xy)
        new_pos = np.full(len(t), NO_INDEX, dtype=np.int64)
        new_pos[keep] = np.arange(keep.size)
        stops = {k: v[keep] for k, v in stops.items()}
        p = stops["stop_parent_idx"]
        stops["stop_parent_idx"] = np.where(p >= 0, new_pos[np.maximum(p, 0)], NO_INDEX).astype(np.int32)
        stops["_row"] = t.row[keep]
    else:
        stops["_row"] = t.row
    stops["_index"] = pd.Index(stops["stop_ids"])
    return stops


def _check_stop_timezones(t: _Table, ids: np.ndarray, report: BuildReport) -> None:
    """stop_timezone must be an IANA name (as agency_timezone, which is refused otherwise); the
    timetable does not use it (times are local to the agency's timezone), so a bad one is only
    reported (invalid_timezone)."""
    zones = t.values("stop_timezone")
    t.warn(report, "invalid_timezone", (zones != "") & ~_is_timezone(zones), "stop_timezone",
           lambda i: f"stop_timezone {zones[i]!r} of stop {ids[i]!r} is not an IANA timezone "
                     "(e.g. Europe/Paris); ignored")


def _check_stops_usage(t: _Table, stops: dict, trips: TripStopTimes, report: BuildReport) -> None:
    """Warnings only: unused stops, and distinct stops at (almost) the same place."""
    used = np.zeros(len(stops["stop_ids"]), dtype=bool)
    used[trips.st_stop_idx] = True
    is_stop = stops["stop_location_type"] == 0
    unused = is_stop & ~used
    if unused.any():
        i = int(np.flatnonzero(unused)[0])
        n = int(unused.sum())
        report.warn("unused_stop", f"stop {quoted(stops['stop_ids'][i])} is served by no trip; kept"
                    + (f" ({n:,} stops like this)" if n > 1 else ""),
                    file=t.file, row=int(stops["_row"][i]), column="stop_id", count=n)
    pos = np.flatnonzero(is_stop)
    if pos.size > 1:
        proj = LocalProjection.around(stops["stop_lon"][pos], stops["stop_lat"][pos])
        x, y = proj.to_xy_m(stops["stop_lon"][pos], stops["stop_lat"][pos])
        pairs = scipy.spatial.cKDTree(np.c_[x, y]).query_pairs(STOPS_TOO_CLOSE_M, output_type="ndarray")
        if pairs.size:
            a, b = pos[pairs[:, 0]], pos[pairs[:, 1]]
            pa, pb = stops["stop_parent_idx"][a], stops["stop_parent_idx"][b]
            close = ~((pa == pb) & (pa >= 0))
            if close.any():
                j = int(np.flatnonzero(close)[0])
                i, k = sorted((int(a[j]), int(b[j])))
                n = int(close.sum())
                report.warn("stops_too_close",
                            f"stops {quoted(stops['stop_ids'][i])} and "
                            f"{quoted(stops['stop_ids'][k])} are less than {STOPS_TOO_CLOSE_M:g} m "
                            "apart without a common parent station (the same stop twice?); both kept"
                            + (f" ({n:,} pairs like this)" if n > 1 else ""),
                            file=t.file, row=int(stops["_row"][k]), column="stop_id", count=n)
