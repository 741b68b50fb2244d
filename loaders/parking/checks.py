"""Checks shared by the parking sources: coordinates, numbers, missing files, capacity glitches."""
from __future__ import annotations

import math
from pathlib import Path

from loaders.report import LoaderError

CAPACITY_JUMP_FACTOR = 2.0
"""History rows whose capacity is above this factor times the facility's median capacity, or below
the median divided by it, are glitches (e.g. 54 then 1000) and are dropped."""


def _valid_lonlat(lon: float, lat: float) -> bool:
    return (math.isfinite(lon) and math.isfinite(lat) and -180.0 <= lon <= 180.0
            and -90.0 <= lat <= 90.0 and not (lon == 0.0 and lat == 0.0))


def _missing_file(path: Path) -> LoaderError:
    return LoaderError.of("missing_required_file", f"{path}: no such file", file=str(path))


def _number(value) -> float:
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan

