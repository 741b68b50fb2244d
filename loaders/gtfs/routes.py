"""agency.txt and routes.txt: the feed's timezone, its agencies, and the lines (GTFS routes)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from loaders.gtfs.fields import _color, _ids, _is_timezone, _numbers, _unique
from loaders.gtfs.tables import _Table
from loaders.report import BuildReport


def _agencies(t: _Table) -> tuple[str, pd.Index, np.ndarray]:
    """(timezone, agency_id index, agency names). Several agencies need ids and one timezone."""
    ids = t.values("agency_id") if t.has("agency_id") else np.full(len(t), "", dtype=object)
    if len(t) > 1:
        _ids(t, "agency_id")  # required when there are several agencies
        _unique(t, ids, "agency_id")
    zones = _ids(t, "agency_timezone")
    bad = ~_is_timezone(zones)
    if bad.any():
        t.error("invalid_timezone", bad, "agency_timezone",
                lambda i: f"agency_timezone {zones[i]!r} is not an IANA timezone (e.g. Europe/Paris)")
    other = zones != zones[0]
    if other.any():
        t.error("inconsistent_agency_timezone", other, "agency_timezone",
                lambda i: f"agency_timezone {zones[i]!r} differs from {zones[0]!r}: all agencies of "
                          "a feed must share one timezone")
    return str(zones[0]), pd.Index(ids), t.values("agency_name").astype(str)


def _lines(t: _Table, agency_index: pd.Index, agency_names: np.ndarray, report: BuildReport) -> dict:
    ids = _ids(t, "route_id")
    _unique(t, ids, "route_id")
    rtype = _numbers(t, "route_type", integer=True, fatal=True)
    if np.isnan(rtype).any():
        t.error("missing_required_field", np.isnan(rtype), "route_type",
                lambda i: f"route_type is empty (route_id {ids[i]!r})")
    out = (rtype < 0) | (rtype > np.iinfo(np.int16).max)
    if out.any():
        t.error("number_out_of_range", out, "route_type",
                lambda i: f"route_type {int(rtype[i])} is not a GTFS route type (route_id {ids[i]!r})")
    # basic types 0-7, 11, 12 and the extended (Google/HVT) types 100-1799; others kept, reported
    known = np.isin(rtype, (0, 1, 2, 3, 4, 5, 6, 7, 11, 12)) | ((rtype >= 100) & (rtype < 1800))
    t.warn(report, "unexpected_enum_value", ~known, "route_type",
           lambda i: f"route_type {int(rtype[i])} is neither a basic nor an extended GTFS route "
                     f"type (route_id {ids[i]!r}); kept as written")
    agency = t.values("agency_id")
    if len(agency_index) > 1:
        empty = agency == ""
        if empty.any():
            t.error("missing_required_field", empty, "agency_id",
                    lambda i: f"agency_id is required when agency.txt lists several agencies "
                              f"(route_id {ids[i]!r})")
    pos = np.where(agency == "", 0, agency_index.get_indexer(agency))
    bad = pos < 0
    if bad.any():
        t.error("foreign_key_violation", bad, "agency_id",
                lambda i: f"agency_id {agency[i]!r} is not defined in agency.txt (route_id {ids[i]!r})")
    short = t.values("route_short_name")
    long_ = t.values("route_long_name")
    t.warn(report, "route_both_short_and_long_name_missing", (short == "") & (long_ == ""),
           "route_short_name", lambda i: f"route {ids[i]!r} has neither a short nor a long name")
    t.warn(report, "route_short_and_long_name_equal", (short != "") & (short == long_),
           "route_long_name", lambda i: f"route {ids[i]!r}: short and long names are both "
                                        f"{short[i]!r}")
    key = pd.Series(short).str.cat(pd.Series(long_), sep="\x1f")
    dup = key.duplicated().to_numpy() & ((short != "") | (long_ != ""))
    t.warn(report, "duplicate_route_name", dup, "route_long_name",
           lambda i: f"route {ids[i]!r} has the same names ({short[i]!r}, {long_[i]!r}) as another "
                     "route")
    return {"line_ids": ids.astype(str), "line_short_name": short.astype(str),
            "line_long_name": long_.astype(str),
            "line_type": rtype.astype(np.int16),
            "line_color": _color(t, "route_color", report),
            "line_text_color": _color(t, "route_text_color", report),
            "line_agency": agency_names[pos], "_index": pd.Index(ids)}
