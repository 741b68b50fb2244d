"""Facilities of a FIWARE NGSI JSON file (v2 normalized or keyValues, NGSI-LD properties)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from loaders.parking.checks import _missing_file, _number, _valid_lonlat
from loaders.parking.ngsi_street import zone_columns
from loaders.parking.schema import LIVE_COLUMNS, facilities_frame
from loaders.report import BuildReport, LoaderError

_NGSI_KIND = {
    "OffStreetParking": "car_park",
    "OnStreetParking": "on_street",
    "BikeHireDockingStation": "bike_share",
}
_NGSI_CAPACITY = ("totalSpotNumber", "totalSlotNumber", "capacity")
_NGSI_FREE = {"bike_share": ("freeSlotNumber",),
              "default": ("availableSpotNumber",)}


def entity_facility_id(ent: dict) -> str:
    """The facility id of an NGSI entity: its ``id`` as text ("" when it has none). One rule for
    the build (facilities) and the live NGSI poller (readings stored against that id)."""
    value = ent.get("id") if isinstance(ent, dict) else None
    return "" if value is None else str(value)


def _unwrap(attr):
    """The value of an NGSI attribute, in normalized (``{"type", "value"}``) or keyValues form."""
    if isinstance(attr, dict) and "value" in attr and "type" in attr:
        return attr["value"]
    return attr


def _attr_time(attr) -> str | None:
    """The observation instant attached to a normalized attribute, if any."""
    if not isinstance(attr, dict):
        return None
    if isinstance(attr.get("observedAt"), str):
        return attr["observedAt"]
    ts = (attr.get("metadata") or {}).get("timestamp") if isinstance(attr.get("metadata"),
                                                                     dict) else None
    value = _unwrap(ts) if ts is not None else None
    return value if isinstance(value, str) else None


def _iso_to_epoch_s(text: str | None) -> float:
    if not text:
        return math.nan
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        return math.nan
    if ts is pd.NaT:
        return math.nan
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")  # NGSI DateTime values are UTC
    return float(ts.timestamp())


def _point_of(geometry) -> tuple[float, float] | None:
    """(lon, lat) of a GeoJSON geometry: a Point, or the centroid of another geometry."""
    if not isinstance(geometry, dict) or "type" not in geometry:
        return None
    if geometry.get("type") == "Point":
        coords = geometry.get("coordinates")
        if isinstance(coords, list | tuple) and len(coords) >= 2:
            lon, lat = _number(coords[0]), _number(coords[1])
            return (lon, lat)
        return None
    try:
        import shapely.geometry

        c = shapely.geometry.shape(geometry).centroid
        return (float(c.x), float(c.y)) if not c.is_empty else None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return None


def facilities_from_ngsi(path: str | Path, report: BuildReport) -> pd.DataFrame:
    """Facilities of a FIWARE NGSI JSON file (a list of entities, or one entity).

    Entity types: ``OffStreetParking`` -> car_park (park_and_ride when its ``category`` holds
    ``parkAndRide``), ``OnStreetParking`` -> on_street, ``BikeHireDockingStation`` -> bike_share.
    An ``OnStreetParking`` is a street zone: its line, fee and longest stay come with it
    (``ngsi_street.py``); one for residents only is dropped and counted.
    ``ParkingAccess`` entities give the entrance of the parkings that reference them
    (``refParkingAccess``). Other types (``ParkingSpot``, ``ParkingGroup``...) are skipped and counted.
    Attributes may be normalized (``{"type", "value", "metadata"}``), keyValues or NGSI-LD
    properties. Capacity is ``totalSpotNumber`` (``totalSlotNumber`` for docking stations); the
    name is ``name``, else the address's ``streetAddress``, else the id.

    Live values go to the :data:`LIVE_COLUMNS`: ``observed_free`` is ``availableSpotNumber`` (for
    docking stations ``freeSlotNumber``, free docks), ``observed_bikes`` is ``availableBikeNumber``,
    ``observed_at_utc_s`` the attribute's timestamp (else the entity's ``dateObserved`` or
    ``dateModified``), ``observed_status`` the ``status`` text.

    Entities without a valid WGS84 location are dropped with a warning naming them. Raises
    LoaderError for a missing file (``missing_required_file``), invalid JSON (``invalid_json``) or a
    document that is not NGSI entities (``invalid_ngsi``).
    """
    path = Path(path)
    doc = _read_entities(path)
    accesses = _parking_accesses(doc)
    records = []
    for i, ent in enumerate(doc):
        record = _facility_record(ent, i + 1, path, accesses, report)
        if record is not None:
            records.append(record)
    df = facilities_frame(records)
    for col in LIVE_COLUMNS:
        if col not in df.columns:
            df[col] = "" if col == "observed_status" else np.nan
    return df


def _read_entities(path: Path) -> list:
    """The entities of an NGSI JSON file, as a list (a lone entity becomes a list of one).

    Raises LoaderError ``missing_required_file``, ``invalid_encoding``, ``invalid_json`` or
    ``invalid_ngsi``.
    """
    if not path.is_file():
        raise _missing_file(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise LoaderError.of("invalid_encoding", f"not UTF-8 text ({exc.reason} at byte "
                             f"{exc.start})", file=path.name) from None
    except json.JSONDecodeError as exc:
        raise LoaderError.of("invalid_json", f"invalid JSON at line {exc.lineno} column "
                             f"{exc.colno}: {exc.msg}", file=path.name) from None
    if isinstance(doc, dict) and "id" in doc and "type" in doc:
        doc = [doc]
    if not isinstance(doc, list):
        raise LoaderError.of("invalid_ngsi", "expected a JSON list of NGSI entities (objects with "
                             "'id' and 'type')", file=path.name)
    return doc


def _categories(ent: dict) -> list:
    """The entity's ``category`` values as a list (one string becomes a list of one)."""
    category = _unwrap(ent.get("category")) or []
    return [category] if isinstance(category, str) else list(category)


def _parking_accesses(doc: list) -> dict[str, tuple[float, float, bool]]:
    """ParkingAccess id -> (lon, lat, is an entry), for the accesses with a valid location."""
    accesses: dict[str, tuple[float, float, bool]] = {}
    for ent in doc:
        if isinstance(ent, dict) and ent.get("type") == "ParkingAccess":
            pt = _point_of(_unwrap(ent.get("location")))
            if pt is not None and _valid_lonlat(*pt):
                accesses[str(ent.get("id"))] = (pt[0], pt[1], "exit" not in _categories(ent))
    return accesses


def _facility_record(ent, row: int, path: Path, accesses: dict[str, tuple[float, float, bool]],
                     report: BuildReport) -> dict | None:
    """The facility record of one entity (``row`` counts from 1); None when it is skipped."""
    where = f"{path.name} entities"
    kind = _entity_kind(ent, row, path, report, where)
    if kind is None:
        return None
    eid = entity_facility_id(ent) or f"{path.stem}:{row}"
    if kind == "car_park" and any(str(c).lower() == "parkandride" for c in _categories(ent)):
        kind = "park_and_ride"
    pt = _point_of(_unwrap(ent.get("location")))
    if pt is None or not _valid_lonlat(*pt):
        report.warn("invalid_coordinates", f"entity {eid!r} has no valid WGS84 'location' "
                    f"({pt}): dropped", file=path.name, row=row, column="location")
        report.drop(where, "no valid location")
        return None
    name = _entity_name(ent, eid)
    capacity = _entity_capacity(ent, eid, row, path, report)
    observed_free, observed_at, bikes, status = _live_values(ent, kind)
    entrance = _entity_entrance(ent, accesses)
    record = dict(facility_id=eid, name=name, kind=kind, lon=pt[0], lat=pt[1],
                  capacity=capacity, entrance_lon=entrance[0], entrance_lat=entrance[1],
                  source="ngsi", observed_free=observed_free,
                  observed_at_utc_s=observed_at, observed_status=status,
                  observed_bikes=bikes)
    if kind == "on_street":  # a street zone: its line, fee, longest stay (ngsi_street.py)
        zone = zone_columns(ent, _unwrap, _categories(ent))
        if zone is not None and zone.pop("residents_only"):
            report.drop(where, "on-street parking for residents only")
            return None
        record.update(zone or {})
    return record


def _entity_kind(ent, row: int, path: Path, report: BuildReport, where: str) -> str | None:
    """The facility kind of an entity's type; None for a ParkingAccess (read apart) and for a
    non-entity or an unsupported type (warned and counted)."""
    if not isinstance(ent, dict) or "type" not in ent:
        report.warn("invalid_ngsi_entity", "not an NGSI entity (an object with 'type'): skipped",
                    file=path.name, row=row)
        report.drop(where, "not an NGSI entity")
        return None
    etype = str(ent["type"])
    if etype == "ParkingAccess":
        return None
    kind = _NGSI_KIND.get(etype)
    if kind is None:
        report.warn("unsupported_entity_type", f"entity type {etype!r} is not a facility "
                    f"({', '.join(_NGSI_KIND)}): skipped", file=path.name, row=row)
        report.drop(where, f"unsupported type {etype}")
    return kind


def _entity_name(ent: dict, eid: str) -> str:
    """``name``, else the address's ``streetAddress``, else the id."""
    name = _unwrap(ent.get("name"))
    if not isinstance(name, str) or not name.strip():
        address = _unwrap(ent.get("address"))
        name = address.get("streetAddress", "") if isinstance(address, dict) else ""
    return str(name).strip() or eid


def _entity_capacity(ent: dict, eid: str, row: int, path: Path, report: BuildReport) -> float:
    """Spaces from the first capacity attribute present; NaN when none is, or (warned) when its
    value is not a count."""
    for key in _NGSI_CAPACITY:
        if key in ent:
            capacity = _number(_unwrap(ent[key]))
            if not (capacity >= 0):
                report.warn("invalid_value", f"entity {eid!r}: {key} "
                            f"{_unwrap(ent[key])!r} is not a count: capacity unknown",
                            file=path.name, row=row, column=key)
                capacity = math.nan
            return capacity
    return math.nan


def _live_values(ent: dict, kind: str) -> tuple[float, float, float, str]:
    """(free spaces, or free docks for bike-share; observed at, seconds since the epoch or NaN;
    bikes available or NaN; status text or '') of one entity."""
    free_keys = _NGSI_FREE["bike_share" if kind == "bike_share" else "default"]
    observed_free, observed_at = math.nan, math.nan
    for key in free_keys:
        if key in ent:
            observed_free = _number(_unwrap(ent[key]))
            observed_at = _iso_to_epoch_s(_attr_time(ent[key]))
            break
    bikes = _number(_unwrap(ent["availableBikeNumber"])) if "availableBikeNumber" in ent \
        else math.nan
    if math.isnan(observed_at):
        for key in ("availableBikeNumber", "status", "dateObserved", "dateModified"):
            if key in ent:
                t = _attr_time(ent[key])
                if t is None and key.startswith("date"):
                    t = _unwrap(ent[key]) if isinstance(_unwrap(ent[key]), str) else None
                observed_at = _iso_to_epoch_s(t)
                if not math.isnan(observed_at):
                    break
    status = _unwrap(ent.get("status"))
    status = status if isinstance(status, str) else ""
    return observed_free, observed_at, bikes, status


def _entity_entrance(ent: dict, accesses: dict[str, tuple[float, float, bool]]
                     ) -> tuple[float, float]:
    """(lon, lat) of the first entry among the entity's ``refParkingAccess`` (else of its first
    access); NaN when it references no known access."""
    refs = _unwrap(ent.get("refParkingAccess")) or []
    refs = [refs] if isinstance(refs, str) else list(refs)
    found = [accesses[r] for r in map(str, refs) if r in accesses]
    if not found:
        return (math.nan, math.nan)
    entry = next((a for a in found if a[2]), found[0])
    return (entry[0], entry[1])
