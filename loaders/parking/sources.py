"""Facilities of a file, by its format: the entry point for facility files.

File sources live beside this module (``ngsi.py``, ``fr_csv.py``; OSM car parks come from
``loaders.osm``). Live feeds (NGSI, Opendatasoft, GBFS pollers) belong in their own modules here,
producing the same :data:`~loaders.parking.schema.FACILITY_COLUMNS` plus the live columns.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from loaders.parking.checks import _missing_file
from loaders.parking.fr_csv import facilities_from_fr_csv
from loaders.parking.ngsi import facilities_from_ngsi
from loaders.report import BuildReport, LoaderError


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
