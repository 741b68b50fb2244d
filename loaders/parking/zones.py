"""On-street zones of the facility records as the engine's :class:`StreetZones`.

Zone sources (OSM street tags: ``loaders.osm.street_parking``; NGSI ``OnStreetParking``:
``ngsi.py``; a city's CSV of kerb segments: ``street_csv.py``) yield facility records with the
extra columns of :data:`ZONE_COLUMNS`. :func:`parking_from_records` keeps the facilities; this
module then gives the kept zones their geometry and rules, and marks estimated capacities.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from engine.model import ZONE_SIDE_UNKNOWN, Parking, StreetZones
from loaders.osm.street_parking import ZONE_COLUMNS


def _is_zone(value) -> bool:
    return isinstance(value, list | tuple | np.ndarray) and len(value) >= 2


def _number(value, default: float) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if not math.isnan(out) else default


def street_zones_from_file(path, report, *, columns: dict | None = None) -> pd.DataFrame:
    """Street zones of a file: NGSI ``OnStreetParking`` JSON (``.json``) or a kerb-segment CSV
    (``street_csv.py``, ``columns`` naming its roles). Raises LoaderError ``unknown_format``."""
    from pathlib import Path

    from loaders.parking.ngsi import facilities_from_ngsi
    from loaders.parking.street_csv import street_zones_from_csv
    from loaders.report import LoaderError

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonld"):
        return facilities_from_ngsi(path, report)
    if suffix in (".csv", ".txt"):
        return street_zones_from_csv(path, report, columns=columns)
    raise LoaderError.of("unknown_format", f"cannot tell the format of {path.name}: expected NGSI "
                         "OnStreetParking JSON (.json) or a street-parking CSV (.csv)",
                         file=path.name)


def with_street_zones(parking: Parking, facilities: pd.DataFrame) -> Parking:
    """``parking`` with ``zones`` (facilities of ``facilities`` that carry a zone line and were
    kept) and ``capacity_estimated`` (the records' flag; False for every other facility).

    Unchanged when no record has a zone line.
    """
    if "line_lon" not in facilities.columns:
        return parking
    rows = facilities[[_is_zone(v) for v in facilities["line_lon"]]]
    position = {str(fid): i for i, fid in enumerate(np.asarray(parking.facility_ids))}
    estimated = np.zeros(parking.n_facilities, dtype=bool)
    picked, seen = [], set()
    for rec in rows.to_dict("records"):
        f = position.get(str(rec["facility_id"]))
        if f is None or f in seen:  # dropped by the cleaning, or a repeated id (first kept)
            continue
        seen.add(f)
        picked.append((f, rec))
        flag = rec.get("capacity_estimated")
        estimated[f] = isinstance(flag, bool | np.bool_) and bool(flag)
    if not picked:
        return dataclasses.replace(parking, capacity_estimated=estimated)
    picked.sort(key=lambda p: p[0])
    recs = [r for _, r in picked]
    lengths = np.array([len(r["line_lon"]) for r in recs], dtype=np.int64)
    zones = StreetZones(
        facility_idx=np.array([f for f, _ in picked], dtype=np.int32),
        side=np.array([int(_number(r.get("side"), ZONE_SIDE_UNKNOWN)) for r in recs], dtype=np.int8),
        length_m=np.array([_number(r.get("length_m"), math.nan) for r in recs]),
        fee=np.array([int(_number(r.get("fee"), -1)) for r in recs], dtype=np.int8),
        maxstay_s=np.array([_number(r.get("maxstay_s"), math.inf) for r in recs]),
        street_name=np.array([str(r.get("street_name") or "") for r in recs], dtype=str),
        line_offsets=np.r_[0, np.cumsum(lengths)].astype(np.int64),
        line_lon=np.concatenate([np.asarray(r["line_lon"], dtype=np.float64) for r in recs]),
        line_lat=np.concatenate([np.asarray(r["line_lat"], dtype=np.float64) for r in recs]),
    )
    return dataclasses.replace(parking, capacity_estimated=estimated, zones=zones)


__all__ = ["ZONE_COLUMNS", "street_zones_from_file", "with_street_zones"]
