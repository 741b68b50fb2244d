"""shapes.txt, checked only (the timetable draws no shapes): the trips' shape_id references and
the shapes' distances, as the GTFS validator checks them; every problem is a warning.

Rows of shapes.txt need not be in shape_pt_sequence order (the reference does not ask for it and
the validator has no notice for it): points are taken in shape_pt_sequence order, and it is in that
order that shape_dist_traveled must not decrease (``decreasing_shape_distance``). So points listed
out of sequence order with distances in file order are reported by their distances. Two points of
one shape with the same shape_pt_sequence are ``duplicate_key``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from loaders.gtfs.fields import _numbers
from loaders.gtfs.tables import _Table
from loaders.report import BuildReport


def _check_shapes(shapes: _Table | None, trips_t: _Table, report: BuildReport, *,
                  unreadable: bool = False) -> None:
    """Warnings only: unknown shape_id in trips.txt, repeated points, decreasing distances.

    ``unreadable``: shapes.txt is in the feed but was skipped (already reported), so which
    shapes exist is unknown and the trips' references are not checked."""
    if not unreadable:
        _check_trip_shape_ids(trips_t, shapes, report)
    if shapes is not None and len(shapes):
        _check_shape_points(shapes, report)


def _check_trip_shape_ids(trips_t: _Table, shapes: _Table | None, report: BuildReport) -> None:
    """A trip's shape_id must be a shape of shapes.txt (foreign_key_violation; the trip loads)."""
    shape_ids = trips_t.values("shape_id")
    trip_ids = trips_t.values("trip_id")
    known = shapes.values("shape_id") if shapes is not None else np.zeros(0, dtype=object)
    target = shapes.file if shapes is not None else "shapes.txt (absent from the feed)"
    unknown = (shape_ids != "") & ~pd.Index(shape_ids).isin(known)
    trips_t.warn(report, "foreign_key_violation", unknown, "shape_id",
                 lambda i: f"shape_id {shape_ids[i]!r} of trip {trip_ids[i]!r} is not defined in "
                           f"{target}; the trip loads (shapes are not used for routing)")


def _check_shape_points(t: _Table, report: BuildReport) -> None:
    """In shape_pt_sequence order, within each shape: no sequence number twice (duplicate_key),
    no shape_dist_traveled smaller than the point's before (decreasing_shape_distance)."""
    sid = t.values("shape_id")
    seq = _numbers(t, "shape_pt_sequence", integer=True, fatal=False, report=report)
    dist = _numbers(t, "shape_dist_traveled", integer=False, fatal=False, report=report)
    rows = np.flatnonzero((sid != "") & ~np.isnan(seq))
    codes = pd.factorize(sid)[0]
    order = rows[np.lexsort((seq[rows], codes[rows]))]
    prev = np.full(len(t), -1, dtype=np.int64)        # table position -> the point before it
    same_shape = codes[order[1:]] == codes[order[:-1]]
    prev[order[1:][same_shape]] = order[:-1][same_shape]
    has_prev = prev >= 0
    p = np.where(has_prev, prev, 0)
    dup = has_prev & (seq == seq[p])
    t.warn(report, "duplicate_key", dup, "shape_pt_sequence",
           lambda i: f"shape {sid[i]!r} has two points with shape_pt_sequence {int(seq[i])} "
                     f"(rows {int(t.row[p[i]]):,} and {int(t.row[i]):,}); kept")
    back = has_prev & ~dup & (dist < dist[p])
    t.warn(report, "decreasing_shape_distance", back, "shape_dist_traveled",
           lambda i: f"shape {sid[i]!r}: shape_dist_traveled {dist[i]:g} at shape_pt_sequence "
                     f"{int(seq[i])} is less than {dist[p[i]]:g} at shape_pt_sequence "
                     f"{int(seq[p[i]])} (row {int(t.row[p[i]]):,}); kept")
