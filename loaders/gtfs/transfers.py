"""transfers.txt: footpaths, per-stop minimum transfer times and forbidden transfers."""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.model import haversine_m
from loaders.gtfs.fields import _numbers
from loaders.gtfs.tables import _Table
from loaders.report import BuildReport

WALK_SPEED_MPS = 1.3
"""Walking speed for transfers.txt footpaths that give no time (the street graph's default)."""
WALK_DETOUR_FACTOR = 1.3
"""Street distance over straight-line distance for those footpaths (the network's default)."""


_ROWS = "transfers.txt rows"  # what the report's drop counts name


def _transfers(t: _Table | None, stops: dict, report: BuildReport, *,
               route_index: pd.Index | None = None, trip_index: pd.Index | None = None) -> dict:
    """transfers.txt -> footpaths, per-stop minimum transfer times and forbidden pairs.

    ``route_index`` and ``trip_index`` are the feed's route and trip ids: a row naming another
    one is dropped (foreign_key_violation). Sets ``stops["stop_min_transfer_s"]`` in place (type 2
    within one stop)."""
    out = {"transfer_from_stop": np.zeros(0, dtype=np.int64),
           "transfer_to_stop": np.zeros(0, dtype=np.int64),
           "transfer_time_s": np.zeros(0, dtype=np.int64),
           "forbidden_from_stop": np.zeros(0, dtype=np.int64),
           "forbidden_to_stop": np.zeros(0, dtype=np.int64)}
    if t is None:
        return out
    ok, ttype = _transfer_types(t, report)
    min_time = _min_transfer_times(t, report)
    in_seat = ok & (ttype >= 4)
    n = t.warn(report, "unsupported_transfer_type", in_seat, "transfer_type",
               lambda i: f"transfer_type {ttype[i]} (in-seat transfer between trips) is not "
                         "modelled; row ignored")
    report.drop(_ROWS, "in-seat transfer (type 4/5) not modelled", n)
    ok &= ~in_seat
    ok, from_s, to_s = _known_stops(t, ok, stops, report)
    ok = _known_routes_and_trips(t, ok, route_index, trip_index, report)
    ok = _without_specific_forbidden(t, ok, ttype, report)
    pairs = _expand_stations(t, np.flatnonzero(ok), from_s, to_s, ttype, min_time, stops, report)
    out.update(_apply_pairs(*pairs, stops, report))
    return out


def _transfer_types(t: _Table, report: BuildReport) -> tuple[np.ndarray, np.ndarray]:
    """(row usable so far, transfer_type with empty read as 0); types outside 0-5 are dropped."""
    raw_type = _numbers(t, "transfer_type", integer=True, fatal=False, report=report)
    odd = np.isfinite(raw_type) & ~np.isin(raw_type, (0, 1, 2, 3, 4, 5))
    n = t.warn(report, "unexpected_enum_value", odd, "transfer_type",
               lambda i: f"transfer_type {t.values('transfer_type')[i]!r} is not 0-5; row ignored")
    report.drop(_ROWS, "unexpected transfer_type", n)
    ok = ~odd & ~(np.isnan(raw_type) & (t.text("transfer_type") != "").to_numpy())
    ttype = np.where(np.isfinite(raw_type), raw_type, 0).astype(np.int64)  # empty means 0
    return ok, ttype


def _min_transfer_times(t: _Table, report: BuildReport) -> np.ndarray:
    """min_transfer_time (s, float; NaN when empty, invalid or negative)."""
    min_time = _numbers(t, "min_transfer_time", integer=True, fatal=False, report=report)
    neg = min_time < 0
    t.warn(report, "number_out_of_range", neg, "min_transfer_time",
           lambda i: "min_transfer_time is negative; ignored")
    min_time[neg] = np.nan
    return min_time


def _known_stops(t: _Table, ok: np.ndarray, stops: dict, report: BuildReport
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ok, from stop position, to stop position): rows with an empty or unknown stop dropped."""
    from_ids, to_ids = t.values("from_stop_id"), t.values("to_stop_id")
    from_s = stops["_index"].get_indexer(from_ids)
    to_s = stops["_index"].get_indexer(to_ids)
    for col, ids, pos in (("from_stop_id", from_ids, from_s), ("to_stop_id", to_ids, to_s)):
        empty = ok & (ids == "")
        n = t.warn(report, "missing_required_field", empty, col,
                   lambda i, col=col: f"{col} is empty; row ignored")
        report.drop(_ROWS, f"{col} empty", n)
        ok &= ~empty
        unknown = ok & (pos < 0)
        n = t.warn(report, "foreign_key_violation", unknown, col,
                   lambda i, col=col, ids=ids: f"{col} {ids[i]!r} is not defined in stops.txt; "
                                               "row ignored")
        report.drop(_ROWS, f"{col} not in stops.txt", n)
        ok &= ~unknown
    return ok, from_s, to_s


def _known_routes_and_trips(t: _Table, ok: np.ndarray, route_index: pd.Index | None,
                            trip_index: pd.Index | None, report: BuildReport) -> np.ndarray:
    """Rows naming a route or trip that the feed does not define are dropped, naming the id."""
    for col, index, target in (("from_route_id", route_index, "routes.txt"),
                                ("to_route_id", route_index, "routes.txt"),
                                ("from_trip_id", trip_index, "trips.txt"),
                                ("to_trip_id", trip_index, "trips.txt")):
        if index is None or not t.has(col):
            continue
        ids = t.values(col)
        unknown = ok & (ids != "") & ~pd.Index(ids).isin(index)
        n = t.warn(report, "foreign_key_violation", unknown, col,
                   lambda i, col=col, ids=ids, target=target: f"{col} {ids[i]!r} is not in "
                                                              f"{target}; row ignored")
        report.drop(_ROWS, f"{col} not in {target}", n)
        ok &= ~unknown
    return ok


def _without_specific_forbidden(t: _Table, ok: np.ndarray, ttype: np.ndarray,
                                report: BuildReport) -> np.ndarray:
    """Rows restricted to routes or trips: forbidden ones dropped, others applied to the stops."""
    specific = np.zeros(len(t), dtype=bool)
    for col in ("from_route_id", "to_route_id", "from_trip_id", "to_trip_id"):
        specific |= (t.text(col) != "").to_numpy()
    forbid_specific = ok & specific & (ttype == 3)
    n = t.warn(report, "unsupported_transfer_specificity", forbid_specific, "from_route_id",
               lambda i: "a forbidden transfer restricted to routes or trips would forbid every "
                         "transfer between these stops; row ignored")
    report.drop(_ROWS, "route/trip-specific forbidden transfer not modelled", n)
    ok &= ~forbid_specific
    kept_specific = ok & specific
    t.warn(report, "transfer_specificity_ignored", kept_specific, "from_route_id",
           lambda i: "transfer restricted to routes or trips applied to all routes at these stops")
    return ok


def _expand_stations(t: _Table, rows: np.ndarray, from_s: np.ndarray, to_s: np.ndarray,
                     ttype: np.ndarray, min_time: np.ndarray, stops: dict, report: BuildReport
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(from stop, to stop, type, min time) per pair, stations expanded to their child stops
    (location_type 0); rows naming a station without child stops are dropped."""
    loc = stops["stop_location_type"]
    parent = stops["stop_parent_idx"]
    children = pd.Series(np.arange(len(loc)))[(loc == 0) & (parent >= 0)]
    by_parent = children.groupby(parent[children.to_numpy()]).apply(list).to_dict()

    def expand(s: int) -> list[int]:
        return by_parent.get(s, []) if loc[s] == 1 else [s]

    f_list, t_list, typ, tim = [], [], [], []
    childless = np.zeros(len(t), dtype=bool)
    for r in rows.tolist():  # one Python step per transfers.txt row (not per stop time)
        fs, ts = expand(int(from_s[r])), expand(int(to_s[r]))
        if not fs or not ts:
            childless[r] = True
            continue
        for a in fs:
            for b in ts:
                f_list.append(a)
                t_list.append(b)
                typ.append(ttype[r])
                tim.append(min_time[r])
    n = t.warn(report, "station_without_stops", childless, "from_stop_id",
               lambda i: "the transfer names a station without child stops; row ignored")
    report.drop(_ROWS, "station without child stops", n)
    return (np.asarray(f_list, dtype=np.int64), np.asarray(t_list, dtype=np.int64),
            np.asarray(typ, dtype=np.int64), np.asarray(tim, dtype=np.float64))


def _apply_pairs(f_arr: np.ndarray, t_arr: np.ndarray, typ_arr: np.ndarray, tim_arr: np.ndarray,
                 stops: dict, report: BuildReport) -> dict:
    """Stop pairs -> forbidden pairs, footpaths (timed, or walked in a straight line) and, in
    place, ``stops["stop_min_transfer_s"]``."""
    out = {}
    same = f_arr == t_arr
    forbid = typ_arr == 3
    out["forbidden_from_stop"], out["forbidden_to_stop"] = f_arr[forbid], t_arr[forbid]
    at_stop = same & (typ_arr == 2) & ~np.isnan(tim_arr)
    mts = stops["stop_min_transfer_s"]
    np.maximum.at(mts, f_arr[at_stop], tim_arr[at_stop].astype(np.int32))
    no_effect = same & ~forbid & ~at_stop
    if no_effect.any():
        report.drop("transfers.txt rows (after station expansion)",
                    "transfer within one stop without a minimum time: no effect on routing",
                    int(no_effect.sum()))
    walk = ~same & ~forbid
    time_s = tim_arr[walk]
    guess = np.isnan(time_s)
    if guess.any():
        a, b = f_arr[walk][guess], t_arr[walk][guess]
        d = haversine_m(stops["stop_lon"][a], stops["stop_lat"][a],
                        stops["stop_lon"][b], stops["stop_lat"][b])
        time_s[guess] = np.ceil(d * WALK_DETOUR_FACTOR / WALK_SPEED_MPS)
    out["transfer_from_stop"] = f_arr[walk]
    out["transfer_to_stop"] = t_arr[walk]
    out["transfer_time_s"] = time_s.astype(np.int64)
    return out
