"""frequencies.txt: frequency-based trips expanded into shifted copies of their template trip."""
from __future__ import annotations

import numpy as np
import pandas as pd

from loaders.gtfs.fields import _enum, _ids, _lookup, _numbers, _times_s
from loaders.gtfs.tables import _Table
from loaders.report import BuildReport


def _expand_frequencies(freq: _Table, trip_index: pd.Index, trip_ids: np.ndarray,
                        drop_trip: np.ndarray, dep_i: np.ndarray, block_start: np.ndarray,
                        report: BuildReport, kept: np.ndarray):
    """(template trip, time shift, id) of every trip: frequency-based ones expanded, others kept."""
    f_trip = _lookup(freq, _ids(freq, "trip_id"), trip_index, "trip_id", "trips.txt")
    start = _times_s(freq, "start_time", label="start_time")
    end = _times_s(freq, "end_time", label="end_time")
    for col, v in (("start_time", start), ("end_time", end)):
        if np.isnan(v).any():
            freq.error("missing_required_field", np.isnan(v), col, lambda i, col=col: f"{col} is empty")
    headway = _numbers(freq, "headway_secs", integer=True, fatal=True)
    bad = np.isnan(headway) | (headway <= 0)
    if bad.any():
        vals = freq.values("headway_secs")
        freq.error("number_out_of_range", bad, "headway_secs",
                   lambda i: f"headway_secs {vals[i]!r} must be a positive number of seconds")
    _enum(freq, "exact_times", (0, 1), 0, report)  # both expanded alike; checked for the report
    row_ok = np.ones(len(freq), dtype=bool)
    empty_window = end <= start
    n_bad = freq.warn(report, "start_and_end_range_out_of_order", empty_window, "end_time",
                      lambda i: f"frequency window of trip {trip_ids[f_trip[i]]!r} ends before "
                                "or when it starts; ignored")
    report.drop("frequencies.txt rows", "empty time window", n_bad)
    row_ok &= ~empty_window
    gone = drop_trip[f_trip] & row_ok
    n_gone = freq.warn(report, "frequency_of_dropped_trip", gone, "trip_id",
                       lambda i: f"template trip {trip_ids[f_trip[i]]!r} was dropped (see above); "
                                 "its frequencies are ignored")
    report.drop("frequencies.txt rows", "template trip dropped", n_gone)
    row_ok &= ~gone

    # overlapping windows of one trip (validator: overlapping_frequency)
    ok_rows = np.flatnonzero(row_ok)
    o = ok_rows[np.lexsort((start[ok_rows], f_trip[ok_rows]))]
    overlap = np.zeros(len(freq), dtype=bool)
    if o.size > 1:
        same = f_trip[o[1:]] == f_trip[o[:-1]]
        overlap[o[1:][same & (start[o[1:]] < end[o[:-1]])]] = True
    freq.warn(report, "overlapping_frequency", overlap, "start_time",
              lambda i: f"frequency windows of trip {trip_ids[f_trip[i]]!r} overlap; departures "
                        "from both are kept (a time produced twice once)")

    rows = ok_rows
    counts = np.ceil((end[rows] - start[rows]) / headway[rows]).astype(np.int64)
    rep = np.repeat(rows, counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    first_s = (start[rep] + k * headway[rep]).astype(np.int64)
    tpl = f_trip[rep]
    dedup = pd.DataFrame({"t": tpl, "s": first_s}).duplicated().to_numpy()
    if dedup.any():
        report.drop("trips", "frequency departure produced twice by overlapping windows",
                    int(dedup.sum()))
        tpl, first_s = tpl[~dedup], first_s[~dedup]
    order = np.lexsort((first_s, tpl))
    tpl, first_s = tpl[order], first_s[order]
    shift = first_s - dep_i[block_start[tpl]]
    hhmmss = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in first_s.tolist()]
    new_ids = np.asarray([f"{trip_ids[t]}@{h}" for t, h in zip(tpl.tolist(), hhmmss, strict=True)],
                         dtype=object)
    templates = np.zeros(len(trip_ids), dtype=bool)
    templates[f_trip[rows]] = True
    plain = kept[~templates[kept]]
    out_trip = np.r_[plain, tpl].astype(np.int64)
    out_shift = np.r_[np.zeros(plain.size, dtype=np.int64), shift]
    out_ids = np.r_[trip_ids[plain], new_ids].astype(str)
    return out_trip, out_shift, out_ids
