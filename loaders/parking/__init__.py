"""Parking facilities and their occupancy history, from several sources, into :class:`Parking`.

Facilities
----------
Every facility source yields one pandas DataFrame with the columns of :data:`FACILITY_COLUMNS`:

=================  ===========================================================================
``facility_id``    str, stable id in its source (``urn:ngsi-ld:parking:001``, ``75114-P-001``...)
``name``           str ('' when the source has none)
``kind``           str: ``car_park``, ``park_and_ride``, ``on_street``, ``bike_parking``,
                   ``bike_share`` (see :data:`KIND_BY_NAME`)
``lon``, ``lat``   float, WGS84 degrees of the facility
``capacity``       float, number of spaces (NaN when unknown)
``entrance_lon``,  float, WGS84 degrees of the vehicle entrance (NaN when none is known)
``entrance_lat``
``source``         str: ``ngsi``, ``fr_schema``, ``osm``...
=================  ===========================================================================

Snapshot sources (FIWARE NGSI) add the live columns of :data:`LIVE_COLUMNS` (``observed_free``,
``observed_at_utc_s``, ``observed_status``, and ``observed_bikes`` for bike-share stations), NaN or
'' elsewhere, so a build can seed live observations; :func:`parking_from_records` ignores them.

Occupancy history
-----------------
:func:`occupancy_from_csv` reads a long CSV (one row per facility and reading) into a DataFrame
with the columns of :data:`HISTORY_COLUMNS`; column layouts are named by flags or by a preset of
:data:`OCCUPANCY_PRESETS`. Bad values are repaired or dropped, and always counted in the report.

Linking
-------
:func:`parking_from_records` deduplicates facilities, links each one to the street graph, matches
history rows to facilities by name or id, and returns the engine's :class:`Parking`. It fits no
occupancy profile: the build calls ``engine.parking.fit_occupancy_profile`` afterwards.
"""
from __future__ import annotations

import difflib
import json
import math
import re
import unicodedata
import zoneinfo
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from engine.model import (
    NO_INDEX,
    UNKNOWN_CAPACITY,
    LocalProjection,
    Mode,
    OccupancyHistory,
    Parking,
    ParkingKind,
    StreetGraph,
)
from loaders.report import BuildReport, LoaderError

FACILITY_COLUMNS = ("facility_id", "name", "kind", "lon", "lat", "capacity", "entrance_lon",
                    "entrance_lat", "source")
"""Columns every facility DataFrame has, in this order."""

LIVE_COLUMNS = ("observed_free", "observed_at_utc_s", "observed_status", "observed_bikes")
"""Extra columns of snapshot sources: free spaces (free docks for bike-share), the instant of the
reading (seconds since the Unix epoch, float, NaN when unknown), the status text, and for
bike-share stations the bikes available."""

HISTORY_COLUMNS = ("facility_key", "time_utc_s", "free_spaces", "capacity", "status", "full")
"""Columns of :func:`occupancy_from_csv`'s DataFrame."""

KIND_BY_NAME = {
    "car_park": ParkingKind.CAR_PARK,
    "park_and_ride": ParkingKind.PARK_AND_RIDE,
    "on_street": ParkingKind.ON_STREET,
    "bike_parking": ParkingKind.BIKE_PARKING,
    "bike_share": ParkingKind.BIKE_SHARE,
}
"""The ``kind`` strings of facility DataFrames and the engine's kinds they map to."""

BIKE_KINDS = frozenset({"bike_parking", "bike_share"})

DEDUP_DISTANCE_M = 50.0
"""Records of different sources closer than this, with similar names, are one facility."""

MAX_LINK_M = 300.0
"""A facility farther than this from every node of a mode's component is not linked for it."""

CAPACITY_JUMP_FACTOR = 2.0
"""History rows whose capacity is above this factor times the facility's median capacity, or below
the median divided by it, are glitches (e.g. 54 then 1000) and are dropped."""

CONSTANT_SERIES_MIN_OBS = 48
"""A facility whose free spaces never change over at least this many readings gets a warning."""


# ---------------------------------------------------------------------------------------------
# Common helpers
# ---------------------------------------------------------------------------------------------
def empty_facilities() -> pd.DataFrame:
    """A facility DataFrame with no rows and the columns of :data:`FACILITY_COLUMNS`."""
    return facilities_frame([])


def facilities_frame(records: list[dict]) -> pd.DataFrame:
    """A facility DataFrame from dicts with (at least) the keys of :data:`FACILITY_COLUMNS`.

    Missing keys get NaN (numbers) or '' (strings); extra keys become extra columns. Loaders of
    other sources (``loaders.osm``) may use it to produce the same schema.
    """
    df = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    for col in FACILITY_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan if col in ("lon", "lat", "capacity", "entrance_lon",
                                        "entrance_lat") else ""
    for col in ("facility_id", "name", "kind", "source"):
        df[col] = df[col].fillna("").astype(str)
    for col in ("lon", "lat", "capacity", "entrance_lon", "entrance_lat"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(np.float64)
    extra = [c for c in df.columns if c not in FACILITY_COLUMNS]
    return df[list(FACILITY_COLUMNS) + extra].reset_index(drop=True)


def normalize_name(name: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name: 'Comédie ' -> 'comedie'."""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


# Words that say "this is a parking" in the languages of the sources, not which parking it is.
_GENERIC_WORDS = frozenset({
    "parking", "parkings", "parc", "parcs", "car", "park", "carpark", "p", "r", "pr", "relais",
    "stationnement", "aparcamiento", "parcheggio", "parkhaus", "de", "du", "des", "la", "le", "les",
    "l", "d", "the", "of", "del", "di",
})


def _name_tokens(name: str) -> frozenset:
    return frozenset(t for t in normalize_name(name).split() if t not in _GENERIC_WORDS)


def names_similar(a: str, b: str) -> bool:
    """True when two facility names denote the same place: 'Parking Antigone' ~ 'Antigone'.

    Compares the names without generic words ('parking', 'parc', 'de'...): equal or nested word
    sets, or a close spelling (difflib ratio >= 0.8). Unnamed facilities are never similar.
    """
    ta, tb = _name_tokens(a), _name_tokens(b)
    if not ta or not tb:
        return False
    if ta <= tb or tb <= ta:
        return True
    return difflib.SequenceMatcher(None, " ".join(sorted(ta)), " ".join(sorted(tb))).ratio() >= 0.8


def _valid_lonlat(lon: float, lat: float) -> bool:
    return (math.isfinite(lon) and math.isfinite(lat) and -180.0 <= lon <= 180.0
            and -90.0 <= lat <= 90.0 and not (lon == 0.0 and lat == 0.0))


def _missing_file(path: Path) -> LoaderError:
    return LoaderError.of("missing_required_file", f"{path}: no such file", file=str(path))


def facilities_from_file(path: str | Path, report: BuildReport) -> pd.DataFrame:
    """Facilities of a file, by its format: NGSI JSON (``.json``) or French schema CSV (``.csv``).

    Raises LoaderError (``unknown_format``) for other files.
    """
    path = Path(path)
    if not path.is_file():
        raise _missing_file(path)
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonld"):
        return facilities_from_ngsi(path, report)
    if suffix in (".csv", ".txt"):
        return facilities_from_fr_csv(path, report)
    raise LoaderError.of("unknown_format", f"cannot tell the format of {path.name}: expected FIWARE "
                         "NGSI JSON (.json) or the French national parking CSV (.csv)",
                         file=path.name)


# ---------------------------------------------------------------------------------------------
# FIWARE NGSI (v2 normalized or keyValues, NGSI-LD properties)
# ---------------------------------------------------------------------------------------------
_NGSI_KIND = {
    "OffStreetParking": "car_park",
    "OnStreetParking": "on_street",
    "BikeHireDockingStation": "bike_share",
}
_NGSI_CAPACITY = ("totalSpotNumber", "totalSlotNumber", "capacity")
_NGSI_FREE = {"bike_share": ("freeSlotNumber",),
              "default": ("availableSpotNumber",)}


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


def _number(value) -> float:
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


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
    where = f"{path.name} entities"
    accesses: dict[str, tuple[float, float, bool]] = {}
    for ent in doc:
        if isinstance(ent, dict) and ent.get("type") == "ParkingAccess":
            pt = _point_of(_unwrap(ent.get("location")))
            if pt is not None and _valid_lonlat(*pt):
                category = _unwrap(ent.get("category")) or []
                category = [category] if isinstance(category, str) else list(category)
                accesses[str(ent.get("id"))] = (pt[0], pt[1], "exit" not in category)

    records = []
    for i, ent in enumerate(doc):
        row = i + 1
        if not isinstance(ent, dict) or "type" not in ent:
            report.warn("invalid_ngsi_entity", "not an NGSI entity (an object with 'type'): skipped",
                        file=path.name, row=row)
            report.drop(where, "not an NGSI entity")
            continue
        etype = str(ent["type"])
        if etype == "ParkingAccess":
            continue
        kind = _NGSI_KIND.get(etype)
        if kind is None:
            report.warn("unsupported_entity_type", f"entity type {etype!r} is not a facility "
                        f"({', '.join(_NGSI_KIND)}): skipped", file=path.name, row=row)
            report.drop(where, f"unsupported type {etype}")
            continue
        eid = str(ent.get("id", "")) or f"{path.stem}:{row}"
        category = _unwrap(ent.get("category")) or []
        category = [category] if isinstance(category, str) else list(category)
        if kind == "car_park" and any(str(c).lower() == "parkandride" for c in category):
            kind = "park_and_ride"
        pt = _point_of(_unwrap(ent.get("location")))
        if pt is None or not _valid_lonlat(*pt):
            report.warn("invalid_coordinates", f"entity {eid!r} has no valid WGS84 'location' "
                        f"({pt}): dropped", file=path.name, row=row, column="location")
            report.drop(where, "no valid location")
            continue
        name = _unwrap(ent.get("name"))
        if not isinstance(name, str) or not name.strip():
            address = _unwrap(ent.get("address"))
            name = address.get("streetAddress", "") if isinstance(address, dict) else ""
        name = str(name).strip() or eid
        capacity = math.nan
        for key in _NGSI_CAPACITY:
            if key in ent:
                capacity = _number(_unwrap(ent[key]))
                if not (capacity >= 0):
                    report.warn("invalid_value", f"entity {eid!r}: {key} "
                                f"{_unwrap(ent[key])!r} is not a count: capacity unknown",
                                file=path.name, row=row, column=key)
                    capacity = math.nan
                break
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
        entrance = (math.nan, math.nan)
        refs = _unwrap(ent.get("refParkingAccess")) or []
        refs = [refs] if isinstance(refs, str) else list(refs)
        found = [accesses[r] for r in map(str, refs) if r in accesses]
        if found:
            entry = next((a for a in found if a[2]), found[0])
            entrance = (entry[0], entry[1])
        records.append(dict(facility_id=eid, name=name, kind=kind, lon=pt[0], lat=pt[1],
                            capacity=capacity, entrance_lon=entrance[0], entrance_lat=entrance[1],
                            source="ngsi", observed_free=observed_free,
                            observed_at_utc_s=observed_at, observed_status=status,
                            observed_bikes=bikes))
    df = facilities_frame(records)
    for col in LIVE_COLUMNS:
        if col not in df.columns:
            df[col] = "" if col == "observed_status" else np.nan
    return df


# ---------------------------------------------------------------------------------------------
# The French national parking schema (schema-stationnement, TableSchema v0.1.5)
# ---------------------------------------------------------------------------------------------
FR_NEEDED_COLUMNS = ("id", "nom", "nb_places", "Xlong", "Ylat")
"""Columns without which a French parking CSV cannot be read at all."""

# The schema's constraints on the columns trajet reads or the schema requires; a violation is a
# warning naming the row and column (the value is then treated as unknown where trajet uses it).
_FR_REQUIRED_OTHER = ("insee", "type_usagers", "gratuit", "hauteur_max", "num_siret")
_FR_PATTERNS = {
    "id": r"^([013-9]\d|2[AB1-9])\d{3}-P-\d{3}$",
    "insee": r"^([013-9]\d|2[AB1-9])\d{3}$",
    "hauteur_max": r"^(\d+|N/A)$",
    "num_siret": r"^\d{14}$",
}
_FR_ENUMS = {
    "type_usagers": ("tous", "abonnés"),
    "tarif_pmr": ("gratuit", "normal_payant", "tarif_special"),
    "type_ouvrage": ("enclos_en_surface", "ouvrage"),
}
_FR_INTEGERS = ("nb_places", "nb_pr", "nb_pmr", "nb_voitures_electriques", "nb_velo", "nb_2r_el",
                "nb_autopartage", "nb_2_rm", "nb_covoit")
_FR_NUMBERS = ("tarif_1h", "tarif_2h", "tarif_3h", "tarif_4h", "tarif_24h", "abo_resident",
               "abo_non_resident")
_FR_BOOLEANS = {"true": True, "True": True, "TRUE": True, "1": True,
                "false": False, "False": False, "FALSE": False, "0": False}


def _siret_valid(siret: str) -> bool:
    """Luhn check of a SIRET (La Poste's 356 000 000 establishments use a digit sum modulo 5)."""
    if siret.startswith("356000000"):
        return sum(int(c) for c in siret) % 5 == 0
    total = 0
    for i, c in enumerate(reversed(siret)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _sniff_separator(path: Path) -> str:
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        header = f.readline()
    return max((",", ";", "\t"), key=header.count)


def _read_text_csv(path: Path, usecols=None) -> pd.DataFrame:
    """All cells as stripped strings ('' for empty); LoaderError for unreadable files."""
    if not path.is_file():
        raise _missing_file(path)
    try:
        df = pd.read_csv(path, sep=_sniff_separator(path), dtype=str, keep_default_na=False,
                         encoding="utf-8-sig", usecols=usecols, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise LoaderError.of("empty_file", "the file is empty (no header)", file=path.name) from None
    except UnicodeDecodeError as exc:
        raise LoaderError.of("invalid_encoding", f"not UTF-8 text ({exc.reason})",
                             file=path.name) from None
    except pd.errors.ParserError as exc:
        raise LoaderError.of("invalid_csv", f"cannot parse the CSV: {exc}", file=path.name) from None
    df.columns = [str(c).strip() for c in df.columns]
    for col in df.columns:
        df[col] = df[col].astype(str).str.strip()
    return df


def _read_header(path: Path) -> list[str]:
    """The stripped column names of a CSV file (LoaderError when it has none)."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        first = f.readline()
    if not first.strip():
        raise LoaderError.of("empty_file", "the file is empty (no header)", file=path.name)
    return [str(c).strip() for c in _read_text_csv_header(path)]


def _read_text_csv_header(path: Path) -> list:
    try:
        return list(pd.read_csv(path, sep=_sniff_separator(path), nrows=0, encoding="utf-8-sig",
                                skipinitialspace=True).columns)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise LoaderError.of("invalid_csv", f"cannot read the CSV header: {exc}",
                             file=path.name) from None


def facilities_from_fr_csv(path: str | Path, report: BuildReport) -> pd.DataFrame:
    """Facilities of a CSV in the French national parking schema (schema-stationnement).

    Reads ``id``, ``nom``, ``nb_places``, ``nb_pr``, ``nb_velo``, ``Xlong``, ``Ylat`` (comma or
    semicolon separated, UTF-8). A row is a ``park_and_ride`` when ``nb_pr > 0``, a
    ``bike_parking`` (capacity ``nb_velo``) when it has no car space but bike spaces, else a
    ``car_park`` with capacity ``nb_places``. The schema's other constraints (id and INSEE
    patterns, enums, booleans, integers, SIRET check digit) are checked and reported as warnings
    naming the row and column; an invalid count is read as unknown.

    Rows whose ``Xlong``/``Ylat`` are not WGS84 degrees are dropped with a warning naming the row
    (a car park cannot be placed without them); rows repeating an earlier ``id`` are dropped
    (``duplicate_key``). Raises LoaderError ``missing_required_column`` naming the column when one
    of :data:`FR_NEEDED_COLUMNS` is absent.
    """
    path = Path(path)
    df = _read_text_csv(path)
    for col in FR_NEEDED_COLUMNS:
        if col not in df.columns:
            raise LoaderError.of("missing_required_column", f"required column {col!r} is missing "
                                 "(French parking schema: id, nom, nb_places, Xlong, Ylat...)",
                                 file=path.name, column=col)
    for col in _FR_REQUIRED_OTHER:
        if col not in df.columns:
            report.warn("missing_required_column", f"column {col!r}, required by the schema, is "
                        "missing (trajet does not need it)", file=path.name, column=col)

    def bad(row: int, col: str, value: str, why: str) -> None:
        report.warn("invalid_value", f"{col} {value!r} {why}", file=path.name, row=row, column=col)

    records = []
    seen: set[str] = set()
    where = f"{path.name} rows"
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 1
        for col, pattern in _FR_PATTERNS.items():
            value = rec.get(col, "")
            if col in df.columns and value and not re.match(pattern, value):
                bad(row, col, value, f"does not match the schema's pattern {pattern}")
        siret = rec.get("num_siret", "")
        if re.match(_FR_PATTERNS["num_siret"], siret) and not _siret_valid(siret):
            bad(row, "num_siret", siret, "fails the SIRET check digit (french-siret-value)")
        for col, allowed in _FR_ENUMS.items():
            value = rec.get(col, "")
            if value and value not in allowed:
                bad(row, col, value, f"is not one of {', '.join(allowed)}")
        if rec.get("gratuit", "") and rec["gratuit"] not in _FR_BOOLEANS:
            bad(row, "gratuit", rec["gratuit"], "is not a boolean (true/false)")
        counts = {}
        for col in _FR_INTEGERS:
            value = rec.get(col, "")
            counts[col] = math.nan
            if not value:
                continue
            if re.fullmatch(r"\d+", value):
                counts[col] = float(int(value))
            else:
                bad(row, col, value, "is not a non-negative integer: read as unknown")
        for col in _FR_NUMBERS:
            value = rec.get(col, "")
            if value and not (_number(value.replace(",", ".")) >= 0):
                bad(row, col, value, "is not a non-negative number")
        for col in ("id", "nom", "nb_places", "Xlong", "Ylat"):
            if not rec.get(col, "") and col != "nb_places":
                report.warn("missing_required_field", f"{col} is empty", file=path.name, row=row,
                            column=col)
        if not rec.get("nb_places", ""):
            report.warn("missing_required_field", "nb_places is empty: capacity unknown",
                        file=path.name, row=row, column="nb_places")
        lon = _number(rec["Xlong"].replace(",", "."))
        lat = _number(rec["Ylat"].replace(",", "."))
        if not _valid_lonlat(lon, lat):
            column = "Xlong" if not (-180 <= lon <= 180) else "Ylat"
            report.warn("invalid_coordinates", f"Xlong/Ylat ({rec['Xlong']!r}, {rec['Ylat']!r}) "
                        "are not WGS84 degrees: row dropped", file=path.name, row=row,
                        column=column)
            report.drop(where, "invalid coordinates")
            continue
        fid = rec["id"] or f"{path.stem}:{row}"
        if fid in seen:
            report.warn("duplicate_key", f"id {fid!r} repeats an earlier row: row dropped",
                        file=path.name, row=row, column="id")
            report.drop(where, "duplicate id")
            continue
        seen.add(fid)
        cars, pr, bikes = counts["nb_places"], counts["nb_pr"], counts["nb_velo"]
        if pr > 0:
            kind, capacity = "park_and_ride", cars
        elif not (cars > 0) and bikes > 0:
            kind, capacity = "bike_parking", bikes
        else:
            kind, capacity = "car_park", cars
        records.append(dict(facility_id=fid, name=rec["nom"], kind=kind, lon=lon, lat=lat,
                            capacity=capacity, source="fr_schema"))
    return facilities_frame(records)


# ---------------------------------------------------------------------------------------------
# Occupancy history
# ---------------------------------------------------------------------------------------------
OCCUPANCY_PRESETS: dict[str, dict] = {
    # Montpellier Méditerranée Métropole's hourly car-park readings as collected in
    # parkings_montpellier_2026.csv: local wall-clock times, free spaces, capacity, Open/Full.
    "montpellier": dict(timestamp_col="fecha_lectura", facility_col="nombre_parking",
                        free_col="plazas_libres", capacity_col="capacidad_total",
                        status_col="estado"),
    # A common open-data layout: facility code, capacity, spaces occupied, reading time (ISO 8601
    # with or without offset, or epoch seconds). A 'status' column is read when present.
    "generic": dict(timestamp_col="last_updated", facility_col="code", occupied_col="occupancy",
                    capacity_col="capacity", status_col="status", optional=("status_col",)),
}
"""Column layouts of :func:`occupancy_from_csv` by name. Keys are its keyword arguments;
``optional`` lists the roles that may be absent from a file."""

_ROLE_KEYS = ("timestamp_col", "facility_col", "free_col", "occupied_col", "capacity_col",
              "status_col")
_OFFSET_RE = r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"
_EPOCH_RE = r"^-?\d+(?:\.\d+)?$"


def _resolve_layout(header: list[str], path: Path, preset: str | None, flags: dict) -> dict:
    """The column of each role: the preset's (or the matching one's), overridden by flags."""
    if preset is not None:
        if preset not in OCCUPANCY_PRESETS:
            raise LoaderError.of("unknown_preset", f"unknown occupancy preset {preset!r}; known: "
                                 f"{', '.join(sorted(OCCUPANCY_PRESETS))}", file=path.name)
        layout = dict(OCCUPANCY_PRESETS[preset])
    elif not any(v is not None for v in flags.values()):
        # No preset and no flags: take the preset whose required columns are all in the file.
        for candidate in OCCUPANCY_PRESETS.values():
            optional = candidate.get("optional", ())
            if all(v in header for k, v in candidate.items()
                   if k in _ROLE_KEYS and v is not None and k not in optional):
                layout = dict(candidate)
                break
        else:
            raise LoaderError.of("unknown_layout", "cannot tell the columns of this occupancy file"
                                 f" (header {header}): give a preset "
                                 f"({', '.join(sorted(OCCUPANCY_PRESETS))}) or the column flags "
                                 "timestamp, facility, free or occupied, capacity", file=path.name)
    else:
        layout = {}
    optional = set(layout.pop("optional", ()))
    for key, value in flags.items():
        if value is not None:
            layout[key] = value
            optional.discard(key)
    if flags.get("free_col") is not None and flags.get("occupied_col") is None:
        layout.pop("occupied_col", None)
    if flags.get("occupied_col") is not None and flags.get("free_col") is None:
        layout.pop("free_col", None)
    needed = ["timestamp_col", "facility_col", "capacity_col"]
    for key in needed:
        if not layout.get(key):
            raise LoaderError.of("missing_parameter", f"occupancy_from_csv needs {key} (or a "
                                 "preset naming it)", file=path.name)
    if not layout.get("free_col") and not layout.get("occupied_col"):
        raise LoaderError.of("missing_parameter", "occupancy_from_csv needs free_col or "
                             "occupied_col (or a preset naming one)", file=path.name)
    for key in _ROLE_KEYS:
        col = layout.get(key)
        if col and col not in header:
            if key in optional:
                layout.pop(key)
                continue
            raise LoaderError.of("missing_required_column", f"column {col!r} ({key[:-4]}) is "
                                 f"missing; the header has {header}", file=path.name, column=col)
    return layout


def _parse_times(raw: pd.Series, timestamp_format: str | None, timezone: str, facility: pd.Series,
                 report: BuildReport, file: str, column: str) -> pd.Series:
    """Seconds since the Unix epoch (float, NaN when unparseable) of each timestamp cell.

    Cells with a UTC offset (or 'Z') are absolute; cells that are numbers (or
    ``timestamp_format`` 'epoch_s'/'epoch_ms') are epoch seconds (milliseconds when above 1e11);
    other cells are wall-clock times in ``timezone``. Wall-clock times that do not exist (spring
    forward) move forward by the gap; times that occur twice (fall back) are resolved per facility
    in file order: the first pass is summer time until the clock goes back. Both are counted.
    """
    out = pd.Series(np.nan, index=raw.index, dtype=np.float64)
    text = raw.astype(str)
    nonempty = text != ""
    fmt = timestamp_format
    if fmt in ("epoch_s", "epoch_ms"):
        values = pd.to_numeric(text.where(nonempty), errors="coerce")
        return (values / 1000.0 if fmt == "epoch_ms" else values).astype(np.float64)
    if fmt is None:
        epoch = text.str.match(_EPOCH_RE) & nonempty
        if epoch.any():
            values = pd.to_numeric(text[epoch], errors="coerce")
            out[epoch] = values.where(values.abs() < 1e11, values / 1000.0)
            nonempty = nonempty & ~epoch

    has_offset = text.str.contains(_OFFSET_RE, regex=True) & nonempty
    if fmt is not None and "%z" in fmt:
        has_offset = nonempty
    if has_offset.any():
        parsed = pd.to_datetime(text[has_offset], format=fmt or "ISO8601", utc=True,
                                errors="coerce")
        out[has_offset] = _epoch_s(parsed)
    local = nonempty & ~has_offset
    if not local.any():
        return out
    naive = pd.to_datetime(text[local], format=fmt or "ISO8601", errors="coerce")
    if getattr(naive.dt, "tz", None) is not None:  # a format that carried a zone anyway
        out[local] = _epoch_s(naive)
        return out
    ok = naive.notna()
    naive = naive[ok]
    probe = naive.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    dst_first = naive.dt.tz_localize(timezone, ambiguous=np.ones(len(naive), dtype=bool),
                                     nonexistent="NaT")
    nonexistent = dst_first.isna()
    ambiguous = probe.isna() & ~nonexistent
    is_dst = np.ones(len(naive), dtype=bool)
    if ambiguous.any():
        amb = pd.DataFrame({"key": facility[naive.index][ambiguous],
                            "day": naive[ambiguous].dt.normalize(), "t": naive[ambiguous]})
        previous_max = amb.groupby(["key", "day"])["t"].transform(lambda s: s.cummax().shift())
        # Summer time until a wall-clock time does not exceed an earlier one: the clock went back.
        first_pass = previous_max.isna() | (amb["t"] > previous_max)
        is_dst[np.flatnonzero(ambiguous.to_numpy())] = first_pass.to_numpy()
        first = int(np.flatnonzero(ambiguous.to_numpy())[0])
        report.warn("ambiguous_local_time", f"{int(ambiguous.sum())} wall-clock times occur twice "
                    f"in {timezone} (clocks going back), e.g. {text[naive.index[first]]!r}: "
                    "resolved in file order per facility (summer time first)", file=file,
                    row=int(naive.index[first]) + 1, column=column, count=int(ambiguous.sum()))
    if nonexistent.any():
        first = int(np.flatnonzero(nonexistent.to_numpy())[0])
        report.warn("nonexistent_local_time", f"{int(nonexistent.sum())} wall-clock times do not "
                    f"exist in {timezone} (clocks going forward), e.g. "
                    f"{text[naive.index[first]]!r}: moved forward to the end of the gap", file=file,
                    row=int(naive.index[first]) + 1, column=column, count=int(nonexistent.sum()))
    aware = naive.dt.tz_localize(timezone, ambiguous=is_dst, nonexistent="shift_forward")
    out[naive.index] = _epoch_s(aware)
    return out


def _epoch_s(ts: pd.Series) -> np.ndarray:
    """Seconds since the epoch (float) of tz-aware timestamps; NaT -> NaN."""
    utc = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    values = utc.to_numpy(dtype="datetime64[ms]").astype(np.int64).astype(np.float64) / 1000.0
    values[utc.isna().to_numpy()] = np.nan
    return values


def _drop(df: pd.DataFrame, mask, report: BuildReport, file: str, code: str, reason: str,
          message: str, column: str | None = None) -> pd.DataFrame:
    """Remove rows where ``mask``; count them and name the first in a warning."""
    mask = np.asarray(mask, dtype=bool)
    n = int(mask.sum())
    if n:
        first = df.index[np.flatnonzero(mask)[0]]
        rows = f"{n:,} row{'s' if n > 1 else ''}"
        report.warn(code, f"{rows} {message}, e.g. facility {df.at[first, 'facility_key']!r}: "
                    "dropped", file=file, row=int(first) + 1, column=column, count=n)
        report.drop(f"{file} rows", reason, n)
    return df[~mask]


def occupancy_from_csv(path: str | Path, report: BuildReport, *, preset: str | None = None,
                       timestamp_col: str | None = None, facility_col: str | None = None,
                       free_col: str | None = None, occupied_col: str | None = None,
                       capacity_col: str | None = None, status_col: str | None = None,
                       timestamp_format: str | None = None, timezone: str = "Europe/Paris",
                       full_status_values=("Full", "Complet"),
                       capacity_jump_factor: float = CAPACITY_JUMP_FACTOR,
                       drop_constant_series: bool = False) -> pd.DataFrame:
    """Occupancy readings of a long CSV: one row per facility and reading.

    Columns are named by ``preset`` (a key of :data:`OCCUPANCY_PRESETS`) and/or the ``*_col``
    flags (flags win). Without either, the preset whose columns the file has is used. Give
    ``free_col`` (free spaces) or ``occupied_col`` (spaces taken; free = capacity - occupied).
    ``timestamp_format`` is a strftime format, 'epoch_s' or 'epoch_ms' (default: ISO 8601, or
    epoch seconds when every cell is a number); wall-clock times are in ``timezone``.

    Returns a DataFrame with :data:`HISTORY_COLUMNS`: ``facility_key`` (the facility's name or code
    as written), ``time_utc_s`` (int64, seconds since the epoch), ``free_spaces`` and ``capacity``
    (int64, ``0 <= free <= capacity``, ``capacity > 0``), ``status`` ('' without a status column),
    sorted by facility key then time. Nothing is NaN. Repairs, each counted in ``report``:

    * empty facility key, unparseable timestamp, unparseable or negative count: row dropped;
    * exact duplicate rows: dropped;
    * capacity missing, zero or negative: the facility's median capacity from its other rows, or
      the row is dropped when it has none;
    * capacity jump: a capacity above ``capacity_jump_factor`` times the facility's median
      capacity, or below the median divided by it, is a glitch (Montpellier's Vicarello reports
      1000 for a 64-space car park, with 950 "free"): the row is dropped;
    * free or occupied above capacity: clamped to the capacity;
    * a status in ``full_status_values`` (the car park refuses entry) with free spaces left: free
      set to 0, since arriving drivers find no space (operators keep spaces for subscribers);
    * the same facility and instant twice with different values: the last row in the file wins.

    A facility whose free spaces never change over :data:`CONSTANT_SERIES_MIN_OBS` readings or
    more gets a ``constant_series`` warning (a stuck sensor); its rows are kept unless
    ``drop_constant_series`` (then dropped and counted).

    Raises LoaderError: ``missing_required_file``, ``missing_required_column`` (naming the file and
    column), ``unknown_preset``, ``missing_parameter``, ``invalid_timezone``, ``empty_file``.
    """
    path = Path(path)
    if not path.is_file():
        raise _missing_file(path)
    file = path.name
    try:
        zoneinfo.ZoneInfo(str(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise LoaderError.of("invalid_timezone", f"timezone {timezone!r} is not an IANA name "
                             "(e.g. Europe/Paris)", file=file, column="timezone") from None
    header = _read_header(path)
    flags = dict(timestamp_col=timestamp_col, facility_col=facility_col, free_col=free_col,
                 occupied_col=occupied_col, capacity_col=capacity_col, status_col=status_col)
    layout = _resolve_layout(header, path, preset, flags)
    roles = {key: layout[key] for key in _ROLE_KEYS if layout.get(key)}
    raw = _read_text_csv(path, usecols=lambda c: str(c).strip() in set(roles.values()))
    ts_col, fac_col, cap_col = roles["timestamp_col"], roles["facility_col"], roles["capacity_col"]
    count_col = roles.get("free_col") or roles["occupied_col"]
    occupied = "free_col" not in roles
    st_col = roles.get("status_col")

    df = pd.DataFrame({"facility_key": raw[fac_col]}, index=raw.index)
    df = _drop(df, df["facility_key"] == "", report, file, "missing_required_field",
               "empty facility key", "have an empty facility key", fac_col)

    # Exact duplicates of every column read: the same reading exported twice.
    dup = raw.loc[df.index].duplicated(keep="first")
    df = _drop(df, dup.to_numpy(), report, file, "duplicate_row", "exact duplicate",
               "repeat an earlier row exactly")

    times = _parse_times(raw.loc[df.index, ts_col], timestamp_format, timezone,
                         df["facility_key"], report, file, ts_col)
    df["time_utc_s"] = times
    df = _drop(df, df["time_utc_s"].isna(), report, file, "invalid_timestamp",
               "unparseable timestamp", f"have an unparseable {ts_col} (e.g. "
               f"{raw.at[df.index[df['time_utc_s'].isna()][0], ts_col]!r})"
               if df["time_utc_s"].isna().any() else "", ts_col)

    counts = pd.to_numeric(raw.loc[df.index, count_col].str.replace(",", ".", regex=False),
                           errors="coerce")
    df["count"] = counts
    df = _drop(df, df["count"].isna(), report, file, "invalid_value", f"unparseable {count_col}",
               f"have no number in {count_col}", count_col)
    df = _drop(df, df["count"] < 0, report, file, "invalid_value", f"negative {count_col}",
               f"have a negative {count_col}", count_col)
    fractional = (df["count"] != np.round(df["count"])).to_numpy()
    if fractional.any():
        report.warn("non_integer_count", f"{int(fractional.sum()):,} {count_col} values are not "
                    "whole numbers: rounded", file=file, column=count_col,
                    count=int(fractional.sum()))
    df["count"] = np.round(df["count"])

    cap = pd.to_numeric(raw.loc[df.index, cap_col].str.replace(",", ".", regex=False),
                        errors="coerce")
    cap = np.round(cap).where(cap > 0)
    df["capacity"] = cap
    # The facility's usual capacity: median of its valid capacities.
    median_cap = df.groupby("facility_key")["capacity"].transform("median")
    missing = df["capacity"].isna()
    fillable = missing & median_cap.notna()
    if fillable.any():
        first = df.index[np.flatnonzero(fillable.to_numpy())[0]]
        report.warn("capacity_filled", f"{int(fillable.sum()):,} rows have no valid {cap_col} "
                    "(missing, zero or negative): the facility's median capacity is used",
                    file=file, row=int(first) + 1, column=cap_col, count=int(fillable.sum()))
        df.loc[fillable, "capacity"] = np.round(median_cap[fillable])
    df = _drop(df, df["capacity"].isna(), report, file, "missing_capacity", "no capacity",
               f"have no valid {cap_col} and their facility none elsewhere", cap_col)
    median_cap = df.groupby("facility_key")["capacity"].transform("median")
    jump = ((df["capacity"] > median_cap * capacity_jump_factor)
            | (df["capacity"] * capacity_jump_factor < median_cap))
    df = _drop(df, jump, report, file, "implausible_capacity", "implausible capacity jump",
               f"have a {cap_col} more than {capacity_jump_factor:g} times away from their "
               "facility's median capacity (a glitch)", cap_col)

    if occupied:
        above = df["count"] > df["capacity"]
        what = f"{count_col} (occupied) above capacity"
        free = (df["capacity"] - df["count"].clip(upper=df["capacity"]))
    else:
        above = df["count"] > df["capacity"]
        what = f"{count_col} (free) above capacity"
        free = df["count"].clip(upper=df["capacity"])
    if above.any():
        first = df.index[np.flatnonzero(above.to_numpy())[0]]
        report.warn("count_above_capacity", f"{int(above.sum()):,} rows have {what}: clamped",
                    file=file, row=int(first) + 1, column=count_col, count=int(above.sum()))
    df["free_spaces"] = free
    df["status"] = raw.loc[df.index, st_col] if st_col else ""
    df["full"] = df["status"].isin(tuple(full_status_values)) if st_col else False
    if st_col and full_status_values:
        full = df["full"] & (df["free_spaces"] > 0)
        if full.any():
            first = df.index[np.flatnonzero(full.to_numpy())[0]]
            # The count is kept as reported: the forecaster learns from these rows at how many
            # free spaces each car park stops letting cars in.
            report.warn("full_status_with_free_spaces", f"{int(full.sum()):,} rows say "
                        f"{'/'.join(full_status_values)} yet count free spaces (e.g. "
                        f"{int(df.at[first, 'free_spaces'])}): counted as full (the car park "
                        "refuses entry)", file=file, row=int(first) + 1, column=st_col,
                        count=int(full.sum()))

    df["time_utc_s"] = df["time_utc_s"].round().astype(np.int64)
    same = df.duplicated(["facility_key", "time_utc_s", "free_spaces", "capacity", "status"],
                         keep="last")
    df = _drop(df, same, report, file, "duplicate_row", "exact duplicate",
               "repeat the reading of a later row (same facility, instant and values)")
    conflict = df.duplicated(["facility_key", "time_utc_s"], keep="last")
    df = _drop(df, conflict, report, file, "conflicting_duplicate",
               "same facility and time, different values",
               "give another value for a facility and instant given later in the file (the last "
               "one is kept)")

    out = pd.DataFrame({
        "facility_key": df["facility_key"].astype(str).to_numpy(),
        "time_utc_s": df["time_utc_s"].to_numpy(np.int64),
        "free_spaces": df["free_spaces"].to_numpy(np.int64),
        "capacity": df["capacity"].to_numpy(np.int64),
        "status": df["status"].astype(str).to_numpy(),
        "full": (df["full"].to_numpy(bool) | (df["free_spaces"].to_numpy(np.int64) == 0)),
    })
    out = out.sort_values(["facility_key", "time_utc_s"], kind="stable").reset_index(drop=True)
    stats = out.groupby("facility_key")["free_spaces"].agg(["nunique", "size"])
    stuck = stats[(stats["nunique"] == 1) & (stats["size"] >= CONSTANT_SERIES_MIN_OBS)]
    for key, s in stuck.iterrows():
        value = int(out.loc[out["facility_key"] == key, "free_spaces"].iloc[0])
        report.warn("constant_series", f"facility {key!r}: free spaces stay at {value} over all "
                    f"{int(s['size']):,} readings (a stuck sensor?): "
                    f"{'dropped' if drop_constant_series else 'kept'}", file=file,
                    column=count_col)
    if drop_constant_series and len(stuck):
        gone = out["facility_key"].isin(stuck.index)
        report.drop(f"{file} rows", "constant series (stuck sensor)", int(gone.sum()))
        out = out[~gone].reset_index(drop=True)
    return out


# ---------------------------------------------------------------------------------------------
# Facilities + history -> Parking
# ---------------------------------------------------------------------------------------------
def _dedup_across_sources(df: pd.DataFrame, x: np.ndarray, y: np.ndarray, distance_m: float,
                          report: BuildReport) -> tuple[np.ndarray, dict[int, list[int]]]:
    """(alive mask, survivor -> absorbed rows) after merging cross-source duplicates."""
    n = len(df)
    alive = np.ones(n, dtype=bool)
    absorbed: dict[int, list[int]] = {}
    if n < 2:
        return alive, absorbed
    tree = cKDTree(np.column_stack([x, y]))
    pairs = tree.query_pairs(distance_m, output_type="ndarray")
    if not len(pairs):
        return alive, absorbed
    d = np.hypot(x[pairs[:, 0]] - x[pairs[:, 1]], y[pairs[:, 0]] - y[pairs[:, 1]])
    sources = df["source"].to_numpy()
    names = df["name"].to_numpy()
    bike = df["kind"].isin(BIKE_KINDS).to_numpy()
    # Each facility absorbs at most one record of every other source: nearest pairs first.
    taken: dict[int, set] = {}
    for k in np.argsort(d, kind="stable"):
        i, j = sorted(map(int, pairs[k]))
        if not (alive[i] and alive[j]) or sources[i] == sources[j] or bike[i] != bike[j]:
            continue
        if sources[j] in taken.get(i, set()) or not names_similar(names[i], names[j]):
            continue
        alive[j] = False
        absorbed.setdefault(i, []).append(j)
        absorbed[i].extend(absorbed.pop(j, []))
        taken.setdefault(i, {sources[i]}).update({sources[j]}, taken.get(j, set()))
    if absorbed:
        examples = [(i, absorbed[i][0]) for i in list(absorbed)[:3]]
        text = "; ".join(f"{names[j]!r} ({sources[j]}) into {names[i]!r} ({sources[i]})"
                         for i, j in examples)
        n_merged = sum(len(v) for v in absorbed.values())
        report.warn("duplicate_facility", f"{n_merged} facilities found in several sources "
                    f"(within {distance_m:.0f} m, similar names) merged, the first source's record "
                    f"kept: {text}", count=n_merged)
        report.drop("parking facilities", "same place in another source (merged)", n_merged)
    return alive, absorbed


def _nearest_nodes(street: StreetGraph, mode: Mode, x: np.ndarray, y: np.ndarray,
                   max_link_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Nearest node of the mode's component to each point: (node_idx or NO_INDEX, metres)."""
    nodes = np.flatnonzero(street.node_in_component[mode])
    out = np.full(x.shape[0], NO_INDEX, dtype=np.int32)
    dist = np.full(x.shape[0], np.inf)
    if nodes.size == 0 or x.size == 0:
        return out, dist
    tree = cKDTree(np.column_stack([street.node_x_m[nodes], street.node_y_m[nodes]]))
    dist, pos = tree.query(np.column_stack([x, y]))
    ok = dist <= max_link_m
    out[ok] = nodes[pos[ok]]
    return out, dist


def _match_keys(keys: np.ndarray, df: pd.DataFrame, aliases: dict[int, list[int]],
                original: pd.DataFrame, match_by, key_capacity: dict[str, float],
                capacity: np.ndarray) -> tuple[dict[str, int], dict[str, str]]:
    """facility_key -> facility position, and key -> why it is unmatched.

    When a key names several facilities, the one whose capacity is within
    :data:`CAPACITY_JUMP_FACTOR` of the key's median history capacity is taken, if only one is.
    """
    index_by: dict[str, dict[str, set]] = {"name": {}, "facility_id": {}, "loose": {}}
    rows = df.index.to_numpy()
    for pos, row in enumerate(rows):
        records = [row] + aliases.get(int(row), [])
        for r in records:
            index_by["name"].setdefault(normalize_name(original.at[r, "name"]), set()).add(pos)
            index_by["facility_id"].setdefault(str(original.at[r, "facility_id"]), set()).add(pos)
            loose = " ".join(sorted(_name_tokens(original.at[r, "name"])))
            index_by["loose"].setdefault(loose, set()).add(pos)
    index_by["name"].pop("", None)
    index_by["loose"].pop("", None)
    matched: dict[str, int] = {}
    failed: dict[str, str] = {}
    for key in keys:
        found = None
        why = "no facility has this name or id"
        for how in match_by:
            if how == "facility_id":
                cands = index_by["facility_id"].get(str(key), set())
            elif how == "name":
                cands = index_by["name"].get(normalize_name(key), set())
                if not cands:
                    cands = index_by["loose"].get(" ".join(sorted(_name_tokens(key))), set())
            else:
                raise ValueError(f"parking_from_records: match_by has {how!r}; expected 'name' "
                                 "or 'facility_id'")
            if len(cands) > 1 and key in key_capacity:
                # Same name for a car park and a bike station ('Comédie'): the history's capacity
                # tells which one it describes.
                c = key_capacity[key]
                close = {p for p in cands if capacity[p] > 0
                         and c / CAPACITY_JUMP_FACTOR <= capacity[p] <= c * CAPACITY_JUMP_FACTOR}
                cands = close if len(close) == 1 else cands
            if len(cands) == 1:
                found = next(iter(cands))
                break
            if len(cands) > 1:
                why = f"{len(cands)} facilities have this {how}"
        if found is None:
            failed[str(key)] = why
        else:
            matched[str(key)] = found
    return matched, failed


def parking_from_records(facilities: pd.DataFrame, history: pd.DataFrame | None = None, *,
                         street: StreetGraph | None = None, report: BuildReport,
                         match_by=("name", "facility_id"), max_link_m: float = MAX_LINK_M,
                         dedup_distance_m: float = DEDUP_DISTANCE_M) -> Parking:
    """Facilities (and their history) as the engine's :class:`Parking`, linked to the streets.

    ``facilities`` has the :data:`FACILITY_COLUMNS` (rows of several sources concatenated: earlier
    rows take precedence), ``history`` the :data:`HISTORY_COLUMNS` of :func:`occupancy_from_csv`.

    Deduplication: a repeated (``source``, ``facility_id``) keeps its first row; records of
    *different* sources within ``dedup_distance_m`` of each other, of the same family (car or
    bike) and with similar names (:func:`names_similar`; unnamed records are never merged) are one
    facility: the earlier row is kept, its unknown capacity and entrance filled from the other, and
    the other's name and id still match history keys. Records of one source are never merged with
    each other (a source lists distinct facilities, even at one address).

    Linking: ``car_node_idx`` is the nearest node of the vehicle's component to the entrance (the
    facility point when there is none): the CAR component for car kinds, the BICYCLE component
    for bike parking and bike-share (where the bike arrives); ``walk_node_idx`` the nearest WALK
    component node to the facility point. Beyond ``max_link_m`` the index is NO_INDEX, with a
    warning. Without a street graph both are NO_INDEX.

    History: each distinct key is matched, in the order of ``match_by``, to a facility whose name
    (case-, accent- and punctuation-insensitive; then without generic words like 'parking') or
    ``facility_id`` equals it; a key matching several facilities or none has its rows dropped and
    counted, with a warning naming the key. A facility with unknown capacity takes the median
    capacity of its history. Rows are sorted by facility then time.

    Raises LoaderError ``missing_required_column`` when ``facilities`` or ``history`` lacks a column.
    """
    for col in FACILITY_COLUMNS:
        if col not in facilities.columns:
            raise LoaderError.of("missing_required_column", f"facility records lack column {col!r}",
                                 file="<facilities>", column=col)
    original = facilities_frame(facilities.to_dict("records")) if len(facilities) \
        else empty_facilities()
    df = original.copy()
    df["kind"] = df["kind"].str.strip().str.lower()
    where = "parking facilities"

    unknown_kind = ~df["kind"].isin(KIND_BY_NAME.keys())
    if unknown_kind.any():
        first = df.index[np.flatnonzero(unknown_kind.to_numpy())[0]]
        report.warn("unknown_kind", f"{int(unknown_kind.sum())} facilities have a kind outside "
                    f"{', '.join(KIND_BY_NAME)} (e.g. {df.at[first, 'kind']!r} for "
                    f"{df.at[first, 'facility_id']!r}): dropped", count=int(unknown_kind.sum()))
        report.drop(where, "unknown kind", int(unknown_kind.sum()))
        df = df[~unknown_kind]
    bad_xy = ~np.array([_valid_lonlat(a, b) for a, b in zip(df["lon"], df["lat"], strict=True)],
                       dtype=bool)
    if bad_xy.any():
        first = df.index[np.flatnonzero(bad_xy)[0]]
        report.warn("invalid_coordinates", f"{int(bad_xy.sum())} facilities have no valid WGS84 "
                    f"lon/lat (e.g. {df.at[first, 'facility_id']!r}): dropped",
                    count=int(bad_xy.sum()))
        report.drop(where, "invalid coordinates", int(bad_xy.sum()))
        df = df[~bad_xy]
    no_id = df["facility_id"].str.strip() == ""
    if no_id.any():
        df.loc[no_id, "facility_id"] = [f"{s}:{i}" for s, i in zip(df.loc[no_id, "source"],
                                                                    df.index[no_id], strict=True)]
        original.loc[df.index[no_id], "facility_id"] = df.loc[no_id, "facility_id"]
        report.warn("missing_facility_id", f"{int(no_id.sum())} facilities have no id: named "
                    "SOURCE:ROW", count=int(no_id.sum()))
    dup = df.duplicated(["source", "facility_id"], keep="first")
    if dup.any():
        first = df.index[np.flatnonzero(dup.to_numpy())[0]]
        report.warn("duplicate_key", f"{int(dup.sum())} facilities repeat a (source, id) pair "
                    f"(e.g. {df.at[first, 'facility_id']!r}): first kept", count=int(dup.sum()))
        report.drop(where, "repeated source and id", int(dup.sum()))
        df = df[~dup]

    if street is not None:
        projection = street.projection
    elif len(df):
        projection = LocalProjection.around(df["lon"].to_numpy(), df["lat"].to_numpy())
    else:
        projection = LocalProjection(0.0, 0.0)
    x, y = projection.to_xy_m(df["lon"].to_numpy(), df["lat"].to_numpy())
    x, y = np.atleast_1d(x), np.atleast_1d(y)
    alive, absorbed_pos = _dedup_across_sources(df, x, y, dedup_distance_m, report)
    rows = df.index.to_numpy()
    absorbed = {int(rows[i]): [int(rows[j]) for j in js] for i, js in absorbed_pos.items()}
    for i, js in absorbed_pos.items():
        for j in js:
            for a, b in (("capacity", "capacity"), ("entrance_lon", "entrance_lon"),
                         ("entrance_lat", "entrance_lat")):
                if np.isnan(df.iat[i, df.columns.get_loc(a)]):
                    df.iat[i, df.columns.get_loc(a)] = df.iat[j, df.columns.get_loc(b)]
    df, x, y = df[alive], x[alive], y[alive]
    n = len(df)

    kind = np.array([KIND_BY_NAME[k] for k in df["kind"]], dtype=np.int8)
    cap = df["capacity"].to_numpy(np.float64)
    zero = cap <= 0
    if zero.any():
        report.warn("invalid_capacity", f"{int(zero.sum())} facilities have capacity 0 or less: "
                    "unknown", count=int(zero.sum()))
    capacity = np.where(np.isfinite(cap) & (cap > 0), np.round(cap), UNKNOWN_CAPACITY
                        ).astype(np.int32)

    car_node = np.full(n, NO_INDEX, dtype=np.int32)
    walk_node = np.full(n, NO_INDEX, dtype=np.int32)
    if street is not None and n:
        ent_lon, ent_lat = df["entrance_lon"].to_numpy(), df["entrance_lat"].to_numpy()
        has_ent = np.isfinite(ent_lon) & np.isfinite(ent_lat)
        ex, ey = projection.to_xy_m(np.where(has_ent, ent_lon, df["lon"]),
                                    np.where(has_ent, ent_lat, df["lat"]))
        is_bike = df["kind"].isin(BIKE_KINDS).to_numpy()
        for mode, mask in ((Mode.CAR, ~is_bike), (Mode.BICYCLE, is_bike)):
            if mask.any():
                car_node[mask], _ = _nearest_nodes(street, mode, np.atleast_1d(ex)[mask],
                                                   np.atleast_1d(ey)[mask], max_link_m)
        walk_node[:], _ = _nearest_nodes(street, Mode.WALK, x, y, max_link_m)
        for what, nodes in (("vehicle", car_node), ("walking", walk_node)):
            far = nodes == NO_INDEX
            if far.any():
                first = int(np.flatnonzero(far)[0])
                report.warn("facility_too_far_from_street", f"{int(far.sum())} facilities lie more "
                            f"than {max_link_m:.0f} m from the {what} street network (e.g. "
                            f"{df['name'].iat[first]!r}): not linked for {what}",
                            count=int(far.sum()))
    elif n:
        report.warn("facilities_not_linked", f"no street graph: {n} facilities are not linked "
                    "to streets", count=n)

    occupancy = None
    if history is not None:
        for col in HISTORY_COLUMNS[:4]:
            if col not in history.columns:
                raise LoaderError.of("missing_required_column", f"history lacks column {col!r}",
                                     file="<history>", column=col)
        keys = history["facility_key"].astype(str).to_numpy()
        uniq = np.unique(keys)
        key_capacity = history.groupby(history["facility_key"].astype(str))["capacity"].median()
        matched, failed = _match_keys(uniq, df, absorbed, original, match_by,
                                      key_capacity.to_dict(), capacity)
        fac = np.array([matched.get(k, NO_INDEX) for k in uniq], dtype=np.int32)
        fac_of_row = fac[np.searchsorted(uniq, keys)] if len(keys) else np.zeros(0, np.int32)
        for key, why in failed.items():
            rows_n = int((keys == key).sum())
            report.warn("unmatched_facility_key", f"history key {key!r} ({rows_n:,} rows): {why}: "
                        "rows dropped", file="<history>", count=rows_n)
        lost = fac_of_row == NO_INDEX
        report.drop("occupancy history rows", "facility key not matched", int(lost.sum()))
        t = history["time_utc_s"].to_numpy(np.int64)[~lost]
        free = history["free_spaces"].to_numpy(np.int64)[~lost]
        hcap = history["capacity"].to_numpy(np.int64)[~lost]
        full = (history["full"].to_numpy(bool) if "full" in history.columns
                else history["free_spaces"].to_numpy(np.int64) == 0)[~lost]
        f = fac_of_row[~lost]
        order = np.lexsort((np.arange(f.size), t, f))
        f, t, free, hcap, full = f[order], t[order], free[order], hcap[order], full[order]
        # Two keys of one facility (a merged record) at the same instant: the later row wins.
        same = np.zeros(f.size, dtype=bool)
        same[:-1] = (f[1:] == f[:-1]) & (t[1:] == t[:-1])
        if same.any():
            report.warn("conflicting_duplicate", f"{int(same.sum())} history rows give a second "
                        "reading of a facility at the same instant (under another key): the "
                        "later row kept", file="<history>", count=int(same.sum()))
            report.drop("occupancy history rows", "same facility and time under two keys",
                        int(same.sum()))
            f, t, free, hcap, full = f[~same], t[~same], free[~same], hcap[~same], full[~same]
        occupancy = OccupancyHistory(facility_idx=f.astype(np.int32), time_utc_s=t.astype(np.int64),
                                     free_spaces=free.astype(np.int32),
                                     capacity=hcap.astype(np.int32), status_full=full)
        unknown = np.flatnonzero(capacity == UNKNOWN_CAPACITY)
        if unknown.size and f.size:
            for idx in unknown:
                seen = hcap[f == idx]
                if seen.size:
                    capacity[idx] = int(np.round(np.median(seen)))

    return Parking(
        facility_ids=df["facility_id"].to_numpy(dtype=str),
        facility_name=df["name"].to_numpy(dtype=str),
        kind=kind,
        lon=df["lon"].to_numpy(np.float64),
        lat=df["lat"].to_numpy(np.float64),
        capacity=capacity,
        car_node_idx=car_node,
        walk_node_idx=walk_node,
        source=df["source"].to_numpy(dtype=str),
        history=occupancy,
    )
