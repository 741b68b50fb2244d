"""Facilities of a CSV in the French national parking schema (schema-stationnement, TableSchema
v0.1.5)."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from loaders.parking.checks import _number, _valid_lonlat
from loaders.parking.csv_text import _read_text_csv
from loaders.parking.schema import facilities_frame
from loaders.report import BuildReport, LoaderError

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
    _check_columns(df, path, report)
    records = []
    seen: set[str] = set()
    where = f"{path.name} rows"
    for i, (row, rec) in enumerate(zip(df.index, df.to_dict("records"), strict=True)):
        row = int(row)  # the line in the file, header = line 1
        _check_schema_constraints(rec, row, df.columns, path, report)
        counts = _read_counts(rec, row, path, report)
        _check_prices(rec, row, path, report)
        _check_required_fields(rec, row, path, report)
        place = _place(rec, row, path, report, where)
        if place is None:
            continue
        # A row without an id is named by its position among the rows (kept as it was before
        # rows were counted as file lines, so that stored references to it stay valid).
        fid = rec["id"] or f"{path.stem}:{i + 1}"
        if fid in seen:
            report.warn("duplicate_key", f"id {fid!r} repeats an earlier row: row dropped",
                        file=path.name, row=row, column="id")
            report.drop(where, "duplicate id")
            continue
        seen.add(fid)
        kind, capacity = _kind_and_capacity(counts)
        records.append(dict(facility_id=fid, name=rec["nom"], kind=kind, lon=place[0], lat=place[1],
                            capacity=capacity, source="fr_schema"))
    return facilities_frame(records)


def _check_columns(df: pd.DataFrame, path: Path, report: BuildReport) -> None:
    """LoaderError when a column trajet needs is missing; a warning for each other required one."""
    for col in FR_NEEDED_COLUMNS:
        if col not in df.columns:
            raise LoaderError.of("missing_required_column", f"required column {col!r} is missing "
                                 "(French parking schema: id, nom, nb_places, Xlong, Ylat...)",
                                 file=path.name, column=col)
    for col in _FR_REQUIRED_OTHER:
        if col not in df.columns:
            report.warn("missing_required_column", f"column {col!r}, required by the schema, is "
                        "missing (trajet does not need it)", file=path.name, column=col)


def _bad(report: BuildReport, path: Path, row: int, col: str, value: str, why: str) -> None:
    """Warn that a cell breaks the schema (``why`` completes "COLUMN 'VALUE' ...")."""
    report.warn("invalid_value", f"{col} {value!r} {why}", file=path.name, row=row, column=col)


def _check_schema_constraints(rec: dict, row: int, columns, path: Path,
                              report: BuildReport) -> None:
    """Warn about the row's cells that break the schema's patterns, SIRET check digit, enums or
    booleans (trajet does not use these values)."""
    for col, pattern in _FR_PATTERNS.items():
        value = rec.get(col, "")
        if col in columns and value and not re.match(pattern, value):
            _bad(report, path, row, col, value, f"does not match the schema's pattern {pattern}")
    siret = rec.get("num_siret", "")
    if re.match(_FR_PATTERNS["num_siret"], siret) and not _siret_valid(siret):
        _bad(report, path, row, "num_siret", siret, "fails the SIRET check digit "
             "(french-siret-value)")
    for col, allowed in _FR_ENUMS.items():
        value = rec.get(col, "")
        if value and value not in allowed:
            _bad(report, path, row, col, value, f"is not one of {', '.join(allowed)}")
    if rec.get("gratuit", "") and rec["gratuit"] not in _FR_BOOLEANS:
        _bad(report, path, row, "gratuit", rec["gratuit"], "is not a boolean (true/false)")


def _read_counts(rec: dict, row: int, path: Path, report: BuildReport) -> dict[str, float]:
    """Each integer column of the row as a float; NaN when empty or (warned) not an integer."""
    counts = {}
    for col in _FR_INTEGERS:
        value = rec.get(col, "")
        counts[col] = math.nan
        if not value:
            continue
        if re.fullmatch(r"\d+", value):
            counts[col] = float(int(value))
        else:
            _bad(report, path, row, col, value, "is not a non-negative integer: read as unknown")
    return counts


def _check_prices(rec: dict, row: int, path: Path, report: BuildReport) -> None:
    """Warn about prices and subscription fees that are not non-negative numbers."""
    for col in _FR_NUMBERS:
        value = rec.get(col, "")
        if value and not (_number(value.replace(",", ".")) >= 0):
            _bad(report, path, row, col, value, "is not a non-negative number")


def _check_required_fields(rec: dict, row: int, path: Path, report: BuildReport) -> None:
    """Warn about empty cells in the columns trajet needs."""
    for col in ("id", "nom", "nb_places", "Xlong", "Ylat"):
        if not rec.get(col, "") and col != "nb_places":
            report.warn("missing_required_field", f"{col} is empty", file=path.name, row=row,
                        column=col)
    if not rec.get("nb_places", ""):
        report.warn("missing_required_field", "nb_places is empty: capacity unknown",
                    file=path.name, row=row, column="nb_places")


def _place(rec: dict, row: int, path: Path, report: BuildReport,
           where: str) -> tuple[float, float] | None:
    """(lon, lat) of the row; None (warned, counted as dropped) when they are not WGS84 degrees."""
    lon = _number(rec["Xlong"].replace(",", "."))
    lat = _number(rec["Ylat"].replace(",", "."))
    if not _valid_lonlat(lon, lat):
        column = "Xlong" if not (-180 <= lon <= 180) else "Ylat"
        report.warn("invalid_coordinates", f"Xlong/Ylat ({rec['Xlong']!r}, {rec['Ylat']!r}) "
                    "are not WGS84 degrees: row dropped", file=path.name, row=row,
                    column=column)
        report.drop(where, "invalid coordinates")
        return None
    return lon, lat


def _kind_and_capacity(counts: dict[str, float]) -> tuple[str, float]:
    """Park and ride when ``nb_pr > 0``; bike parking (``nb_velo``) when it has bike spaces but no
    car space; else a car park (``nb_places``)."""
    cars, pr, bikes = counts["nb_places"], counts["nb_pr"], counts["nb_velo"]
    if pr > 0:
        return "park_and_ride", cars
    if not (cars > 0) and bikes > 0:
        return "bike_parking", bikes
    return "car_park", cars
