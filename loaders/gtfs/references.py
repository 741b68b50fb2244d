"""Fares (v1), attributions and networks, checked only: the timetable does not use these files,
but a row naming an id that no other file defines is an error for the GTFS validator
(``foreign_key_violation``), so each one is reported with its file, row and column (warnings: the
feed loads).

References checked (child column -> parent):

* fare_attributes.txt agency_id -> agency.txt;
* fare_rules.txt fare_id -> fare_attributes.txt, route_id -> routes.txt, origin_id,
  destination_id and contains_id -> the zone_id values of stops.txt;
* attributions.txt agency_id -> agency.txt, route_id -> routes.txt, trip_id -> trips.txt;
* route_networks.txt network_id -> networks.txt, route_id -> routes.txt.

An absent parent file defines no id, so every reference to it is reported (as the validator
does); a parent file that is present but was skipped as unreadable (already reported) is not
checked against.
"""
from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from loaders.gtfs.tables import _Table
from loaders.report import BuildReport

# child file -> (column, parent file, parent column) for each reference the validator checks
_REFERENCES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "fare_attributes.txt": (("agency_id", "agency.txt", "agency_id"),),
    "fare_rules.txt": (("fare_id", "fare_attributes.txt", "fare_id"),
                       ("route_id", "routes.txt", "route_id"),
                       ("origin_id", "stops.txt", "zone_id"),
                       ("destination_id", "stops.txt", "zone_id"),
                       ("contains_id", "stops.txt", "zone_id")),
    "attributions.txt": (("agency_id", "agency.txt", "agency_id"),
                         ("route_id", "routes.txt", "route_id"),
                         ("trip_id", "trips.txt", "trip_id")),
    "route_networks.txt": (("network_id", "networks.txt", "network_id"),
                           ("route_id", "routes.txt", "route_id")),
}


def _check_references(tables: dict[str, _Table | None], report: BuildReport, *,
                      unreadable: Collection[str] = ()) -> None:
    """Warn (foreign_key_violation) about every row of the checked-only files naming an unknown
    id. ``tables``: file name -> its table (None when absent or skipped); ``unreadable``: the files
    present but skipped, whose ids are unknown and so are not checked against."""
    for child, references in _REFERENCES.items():
        t = tables.get(child)
        if t is None or not len(t):
            continue
        for column, parent, parent_column in references:
            if parent in unreadable:
                continue
            _check_reference(t, column, tables.get(parent), parent, parent_column, report)


def _check_reference(t: _Table, column: str, parent: _Table | None, parent_name: str,
                     parent_column: str, report: BuildReport) -> None:
    """One reference: the non-empty values of ``column`` must be values of the parent's column."""
    values = t.values(column)
    known = parent.values(parent_column) if parent is not None else np.zeros(0, dtype=object)
    unknown = (values != "") & ~pd.Index(values).isin(known)
    target = parent_name if parent_column == column else f"{parent_name} ({parent_column})"
    if parent is None:
        target += ", absent from the feed"
    t.warn(report, "foreign_key_violation", unknown, column,
           lambda i: f"{column} {values[i]!r} is not in {target}; the row is kept (the timetable "
                     f"does not use {t.file.rsplit('/', 1)[-1]})")
