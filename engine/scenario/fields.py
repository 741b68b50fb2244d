"""Small parsers shared by the modifications: fields come from Python or from YAML/JSON, and a
bad value raises :class:`ScenarioError` naming the field."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from engine.model import Mode
from engine.scenario.base import ScenarioError

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


def parse_time_s(value, *, kind: str, field_name: str) -> int:
    """Seconds after midnight of the service day from "HH:MM[:SS]" (hours may pass 24) or a number."""
    if isinstance(value, bool):
        raise ScenarioError(kind, field_name, f"expected a time like '16:30', got {value!r}")
    if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
        return int(value)
    m = _HHMM.match(str(value))
    if not m or int(m.group(2)) >= 60 or int(m.group(3) or 0) >= 60:
        raise ScenarioError(kind, field_name, f"expected a time like '16:30' or '25:10:00', got {value!r}")
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)


def _hhmm(seconds: int) -> str:
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" if s == 0 else f"{h:02d}:{m:02d}:{s:02d}"


def _ids(value, *, kind: str, field_name: str) -> tuple[str, ...]:
    """A non-empty tuple of string ids from one id or a list of ids."""
    if isinstance(value, str | int):
        value = [value]
    if not isinstance(value, Sequence) or isinstance(value, bytes) or len(value) == 0:
        raise ScenarioError(kind, field_name, f"expected one id or a non-empty list of ids, got {value!r}")
    out = tuple(str(v).strip() for v in value)
    if any(not v for v in out):
        raise ScenarioError(kind, field_name, "ids must not be empty")
    return out


def _positive(value, *, kind: str, field_name: str, allow_zero: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ScenarioError(kind, field_name, f"expected a number, got {value!r}") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise ScenarioError(kind, field_name, f"must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return x


def _modes(value, *, kind: str, field_name: str) -> tuple[Mode, ...]:
    names = [value] if isinstance(value, str | Mode) else list(value or ())
    if not names:
        raise ScenarioError(kind, field_name, "give at least one of WALK, BICYCLE, CAR")
    out = []
    for name in names:
        if isinstance(name, Mode):
            out.append(name)
            continue
        key = str(name).strip().upper()
        if key == "BIKE":
            key = "BICYCLE"
        if key not in Mode.__members__:
            raise ScenarioError(kind, field_name, f"unknown street mode {name!r}; one of WALK, BICYCLE, CAR")
        out.append(Mode[key])
    return tuple(sorted(set(out)))


def _lonlat_points(value, *, kind: str, field_name: str, min_points: int) -> tuple:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ScenarioError(kind, field_name, "expected a list of [lon, lat] pairs") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ScenarioError(kind, field_name, f"expected a list of [lon, lat] pairs, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ScenarioError(kind, field_name, "coordinates must be finite numbers")
    if (np.abs(arr[:, 0]) > 180).any() or (np.abs(arr[:, 1]) > 90).any():
        raise ScenarioError(kind, field_name, "coordinates must be [lon, lat] in degrees (WGS84)")
    distinct = np.unique(arr, axis=0).shape[0]
    if distinct < min_points:
        raise ScenarioError(kind, field_name, f"needs at least {min_points} distinct points, got {distinct}")
    return tuple((float(x), float(y)) for x, y in arr)


def _polygon_rings(value, *, kind: str, field_name: str) -> tuple:
    """Rings (outer rings and holes, even-odd) of a GeoJSON Polygon/MultiPolygon or a bare ring."""
    if isinstance(value, Mapping):
        gtype = value.get("type")
        if gtype == "Feature":
            return _polygon_rings(value.get("geometry"), kind=kind, field_name=field_name)
        coords = value.get("coordinates")
        if gtype == "Polygon":
            rings = list(coords or [])
        elif gtype == "MultiPolygon":
            rings = [ring for poly in (coords or []) for ring in poly]
        else:
            raise ScenarioError(kind, field_name,
                                f"expected a GeoJSON Polygon or MultiPolygon, got type {gtype!r}")
    else:
        rings = [value]
    if not rings:
        raise ScenarioError(kind, field_name, "the polygon is empty")
    out = []
    for ring in rings:
        pts = _lonlat_points(ring, kind=kind, field_name=field_name, min_points=3)
        arr = np.asarray(pts)
        area = 0.5 * abs(np.sum(arr[:, 0] * np.roll(arr[:, 1], -1) - np.roll(arr[:, 0], -1) * arr[:, 1]))
        if area <= 1e-14:
            raise ScenarioError(kind, field_name, "the polygon has no area (its points are on one line)")
        out.append(pts)
    return tuple(out)
