"""A city's own inventory of kerb segments (a CSV, one row per zone) as street-zone records.

Columns by role, named with ``role=column`` (``trajet build --street-parking-column``); the
defaults are the role names:

=============  ================================================================================
``id``         the zone's id (required; also the key its occupancy records use)
``geometry``   WKT ``LINESTRING``/``MULTILINESTRING``/``POINT`` in WGS84 lon/lat, or instead
``lon``,       one point (the zone is then drawn as a dot)
``lat``
``spaces``     number of spaces (required: a city's count, not an estimate)
``name``       optional; default "Street parking <id>"
``fee``        optional: yes/no/true/false/1/0, or a price (> 0 means paid)
``maxstay``    optional: minutes, or an OSM duration (``2 h``)
=============  ================================================================================

Rows without an id, a location or a positive number of spaces are dropped and counted, with a
warning naming the first row.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from engine.model import ZONE_SIDE_UNKNOWN
from loaders.osm.street_parking import parse_duration_s
from loaders.parking.checks import _missing_file, _valid_lonlat
from loaders.parking.csv_text import _read_header, _read_text_csv
from loaders.parking.schema import facilities_frame
from loaders.report import BuildReport, LoaderError

STREET_CSV_ROLES = ("id", "geometry", "lon", "lat", "spaces", "name", "fee", "maxstay")
"""Roles a column of the street-parking CSV can play."""

_YES = frozenset({"yes", "true", "1", "paid", "y"})
_NO = frozenset({"no", "false", "0", "free", "n"})


def _roles(path: Path, columns: dict | None) -> dict:
    unknown = set(columns or {}) - set(STREET_CSV_ROLES)
    if unknown:
        raise LoaderError.of("unknown_role", f"street-parking column roles {sorted(unknown)} are "
                             f"not among {', '.join(STREET_CSV_ROLES)}", file=path.name)
    header = set(_read_header(path))
    roles = {r: (columns or {}).get(r, r) for r in STREET_CSV_ROLES}
    roles = {r: c for r, c in roles.items() if c in header or r in (columns or {})}
    for role, col in roles.items():
        if col not in header:
            raise LoaderError.of("missing_required_column", f"no column {col!r} (the {role})",
                                 file=path.name, column=col)
    located = "geometry" in roles or {"lon", "lat"} <= set(roles)
    for role, ok in (("id", "id" in roles), ("spaces", "spaces" in roles), ("geometry", located)):
        if not ok:
            raise LoaderError.of("missing_required_column", f"the CSV has no {role} column "
                                 f"(name it with --street-parking-column {role}=COLUMN"
                                 f"{'; or give lon and lat' if role == 'geometry' else ''})",
                                 file=path.name, column=role)
    return roles


def _line(row: dict, roles: dict) -> tuple[list, list] | None:
    if "geometry" in roles and row[roles["geometry"]]:
        try:
            geom = shapely.from_wkt(row[roles["geometry"]])
        except shapely.errors.GEOSException:
            return None
        if geom.geom_type == "MultiLineString":
            geom = max(geom.geoms, key=lambda g: g.length)
        coords = np.asarray(geom.coords) if geom.geom_type in ("LineString", "Point") else None
        if coords is None or coords.size == 0:
            return None
        if coords.shape[0] == 1:
            coords = np.vstack([coords, coords])
        return coords[:, 0].tolist(), coords[:, 1].tolist()
    try:
        lon, lat = float(row[roles["lon"]]), float(row[roles["lat"]])
    except (KeyError, ValueError):
        return None
    return [lon, lon], [lat, lat]


def _fee(text: str) -> int:
    value = text.strip().lower()
    if value in _YES:
        return 1
    if value in _NO:
        return 0
    try:
        return 1 if float(value.replace(",", ".")) > 0 else 0
    except ValueError:
        return -1


def _maxstay_s(text: str) -> float:
    if not text.strip():
        return math.inf
    try:
        return parse_duration_s(text)
    except ValueError:
        return math.nan


def street_zones_from_csv(path, report: BuildReport, *, columns: dict | None = None
                          ) -> pd.DataFrame:
    """Facility records (``on_street``, with the zone columns) of a kerb-segment CSV.

    Raises LoaderError ``missing_required_file``, ``missing_required_column`` (naming the role
    and the flag), ``unknown_role``.
    """
    path = Path(path)
    if not path.is_file():
        raise _missing_file(path)
    roles = _roles(path, columns)
    raw = _read_text_csv(path, usecols=lambda c: str(c).strip() in set(roles.values()))
    records, bad = [], []
    for line_no, row in zip(raw.index, raw.to_dict("records"), strict=True):
        line = _line(row, roles)
        spaces = pd.to_numeric(row[roles["spaces"]], errors="coerce")
        zid = row[roles["id"]]
        if (not zid or line is None or not all(_valid_lonlat(a, b) for a, b in zip(*line, strict=True))
                or not spaces > 0):
            bad.append(line_no)
            continue
        mid = shapely.LineString(np.column_stack(line)).interpolate(0.5, normalized=True)
        fee = _fee(row.get(roles.get("fee"), "") or "") if "fee" in roles else -1
        maxstay = _maxstay_s(row[roles["maxstay"]]) if "maxstay" in roles else math.inf
        records.append({"facility_id": zid, "name": row.get(roles.get("name"), "") or
                        f"Street parking {zid}", "kind": "on_street", "lon": float(mid.x),
                        "lat": float(mid.y), "capacity": float(spaces), "source": "street_csv",
                        "side": ZONE_SIDE_UNKNOWN, "length_m": math.nan, "fee": fee,
                        "maxstay_s": maxstay if not math.isnan(maxstay) else math.inf,
                        "street_name": row.get(roles.get("name"), "") or "",
                        "capacity_estimated": False, "line_lon": line[0], "line_lat": line[1]})
    if bad:
        report.warn("invalid_value", f"{len(bad)} street-parking rows have no id, no valid "
                    f"location or no positive number of spaces (first: line {bad[0]}): dropped",
                    file=path.name, row=int(bad[0]), count=len(bad))
        report.drop(f"{path.name} rows", "no id, location or spaces", len(bad))
    return facilities_frame(records)
