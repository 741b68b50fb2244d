"""calendar.txt and calendar_dates.txt: which service runs on which day."""
from __future__ import annotations

import numpy as np
import pandas as pd

from loaders.gtfs.fields import _days, _enum, _ids, _unique
from loaders.gtfs.tables import _Table

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _calendar(cal: _Table | None, dates: _Table | None) -> tuple[np.ndarray, int, np.ndarray]:
    """(service ids, first day, (n_services, n_days) activity) from both calendar files."""
    ids: list[str] = []
    if cal is not None:
        cal_ids = _ids(cal, "service_id")
        _unique(cal, cal_ids, "service_id")
        flags = np.stack([_enum(cal, d, (0, 1), 0, fatal=True) for d in _WEEKDAYS],
                         axis=1).astype(bool)
        for d in _WEEKDAYS:
            empty = (cal.text(d) == "").to_numpy()
            if empty.any():
                cal.error("missing_required_field", empty, d, lambda i, d=d: f"{d} is empty")
        start, end = _days(cal, "start_date"), _days(cal, "end_date")
        if (end < start).any():
            cal.error("start_and_end_range_out_of_order", end < start, "end_date",
                      lambda i: f"service {cal_ids[i]!r} ends before it starts")
        ids.extend(cal_ids.tolist())
    if dates is not None:
        d_ids = _ids(dates, "service_id")
        d_day = _days(dates, "date")
        d_type = _enum(dates, "exception_type", (1, 2), 0, fatal=True)
        if (d_type == 0).any():
            dates.error("missing_required_field", d_type == 0, "exception_type",
                        lambda i: "exception_type is empty")
        dup = pd.DataFrame({"s": d_ids, "d": d_day}).duplicated().to_numpy()
        if dup.any():
            dates.error("duplicate_key", dup, "date",
                        lambda i: f"service {d_ids[i]!r} has two exceptions on the same date")
        ids.extend(pd.unique(d_ids[~pd.Index(d_ids).isin(ids)]).tolist())
    service_ids = np.asarray(ids, dtype=str)
    index = pd.Index(service_ids)
    all_days = [a for a in ([start, end] if cal is not None else []) + ([d_day] if dates is not None
                                                                         else []) if a.size]
    if not all_days:
        return service_ids, 0, np.zeros((len(ids), 0), dtype=bool)
    first = int(min(a.min() for a in all_days))
    last = int(max(a.max() for a in all_days))
    day = np.arange(first, last + 1, dtype=np.int64)
    active = np.zeros((len(ids), day.size), dtype=bool)
    if cal is not None and len(cal):
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        rows = index.get_indexer(cal_ids)
        active[rows] = ((day[None, :] >= start[:, None]) & (day[None, :] <= end[:, None])
                        & flags[:, weekday])
    if dates is not None and len(dates):
        rows = index.get_indexer(d_ids)
        active[rows, d_day - first] = d_type == 1
    return service_ids, first, active
