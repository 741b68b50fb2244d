"""On-street parking zones from the parking tags of OSM street ways: one zone per way side.

Tag schemes read (a way may carry either; when both describe a side, the 2022 scheme wins, being
the current one):

* **2022 scheme** ``parking:<side>=*`` with ``<side>`` one of ``left``, ``right``, ``both``:
  ``lane``, ``street_side``, ``on_kerb``, ``half_on_kerb``, ``shoulder``, ``yes`` = parking
  here; ``no`` = none; ``separate`` = mapped as its own feature (not read here). Attributes
  ``parking:<side>:orientation`` (``parallel`` by default), ``:restriction`` (any value other
  than ``none`` excludes the side: ``no_parking``, ``no_stopping``, ``loading_only``,
  ``charging_only``...), ``:access`` (``private``, ``no``, ``customers``, ``delivery``... exclude;
  ``yes``/``permissive`` keep), ``:fee`` (``yes``/``no``), ``:maxstay`` and ``:capacity``.
  The wiki writes the scheme as ``parking:side:*``; keys written literally with ``side`` (copied
  from the wiki) are read as ``both``, after the real sides.
* **Old scheme** ``parking:lane:<side>=parallel|diagonal|perpendicular|marked|yes`` (parking,
  ``marked``/``yes`` read as parallel), ``no_parking|no_stopping|no_standing|fire_lane|no``
  (none), ``separate``; ``parking:condition:<side>=free|ticket|disc|residents|customers|
  private|no_parking|...`` (``ticket``/``fee`` paid, ``free``/``disc`` free, the others exclude
  the side), ``parking:condition:<side>:maxstay``, ``parking:condition:<side>:capacity`` (or
  ``parking:lane:<side>:capacity``) and ``parking:condition:<side>:vehicles`` (a value that is
  not for cars, e.g. ``motorcycle``, excludes the side).

A ``:<side>`` value overrides ``:both``. Conditional values (``no @ (Su)``, ``:time_interval``,
``:conditional`` keys) are not evaluated: the unconditional part is read and the ways are counted
in the report (time windows are left out).

Estimated spaces
----------------
Without a ``capacity`` tag, a zone's spaces are estimated from its kerb length ``L`` (the way's
length, metres): ``floor(max(0, L - 2 * JUNCTION_MARGIN_M) / SPACE_LENGTH_M[orientation])``: a
margin at each end of the way for the junction (most codes forbid parking within about 5 m of
one: France R417-10, Germany StVO 12(3)) and the kerb length per car of each orientation
(:data:`SPACE_LENGTH_M`, from usual bay dimensions: 5.5 m for a parallel bay, 2.5 m wide for a
perpendicular one, 2.5 m / sin 55 deg ~ 3.1 m along the kerb for a diagonal one). Driveways,
hydrants and bus stops along the way are not known, so the estimate is an upper bound; the zone
is marked ``capacity_estimated``. Zones with no space left are dropped and counted.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping

import numpy as np
import shapely
import shapely.ops

from engine.model import ZONE_LEFT, ZONE_RIGHT, LocalProjection, haversine_m
from loaders.report import BuildReport

SPACE_LENGTH_M = {"parallel": 5.5, "diagonal": 3.1, "perpendicular": 2.5}
"""Kerb length one parked car takes, by orientation (metres)."""

JUNCTION_MARGIN_M = 5.0
"""Kerb left free at each end of a way (a junction, in most cases), metres."""

DRAW_OFFSET_M = 4.0
"""A zone's line is drawn this far to its side of the street's centre line (metres)."""

ZONE_COLUMNS = ("side", "length_m", "fee", "maxstay_s", "street_name", "capacity_estimated",
                "line_lon", "line_lat")
"""Columns a zone frame adds to the facility columns (``line_*``: lists of degrees)."""

_SIDES = {"left": ZONE_LEFT, "right": ZONE_RIGHT}
_PARKING_NEW = frozenset({"lane", "street_side", "on_kerb", "half_on_kerb", "shoulder", "yes"})
_PARKING_OLD = frozenset({"parallel", "diagonal", "perpendicular", "marked", "yes"})
_NONE_VALUES = frozenset({"no", "no_parking", "no_stopping", "no_standing", "fire_lane"})
_PAID = frozenset({"ticket", "fee", "yes", "paid"})
_FREE = frozenset({"free", "disc", "no"})
_ACCESS_OK = frozenset({"yes", "permissive", "public", "designated"})
_CAR_VEHICLES = frozenset({"motorcar", "car", "motor_vehicle", "vehicle"})


def parse_duration_s(value: str) -> float:
    """Seconds of an OSM duration (``maxstay``): ``2 h``, ``90 min``, ``1.5 hours``, ``01:30``,
    ``30`` (minutes, the OSM default unit). Raises ValueError for anything else."""
    text = value.strip().lower()
    match = re.fullmatch(r"(\d+):(\d{2})", text)
    if match:
        return int(match.group(1)) * 3600.0 + int(match.group(2)) * 60.0
    match = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(h|hr|hrs|hour|hours|min|mins|minute|minutes)?",
                         text)
    if not match:
        raise ValueError(f"maxstay {value!r} is not a duration")
    number = float(match.group(1).replace(",", "."))
    unit = match.group(2) or "min"
    return number * (3600.0 if unit.startswith("h") else 60.0)


class _SideReader:
    """The parking tags of one way read for one side: ``get(attr)`` looks up the 2022 scheme
    (``parking:<side>:<attr>``, ``parking:both:<attr>``, ``parking:side:<attr>``), ``old(attr)``
    the old one (``parking:condition:<side>:<attr>`` then ``:both``)."""

    def __init__(self, tags: Mapping[str, str], side: str):
        self.tags, self.side = tags, side

    def _value(self, keys) -> str | None:
        for key in keys:
            value = self.tags.get(key)
            if value is not None and value.strip():
                return value.strip().lower()
        return None

    def new(self, attr: str = "") -> str | None:
        suffix = f":{attr}" if attr else ""
        return self._value(f"parking:{s}{suffix}" for s in (self.side, "both", "side"))

    def lane(self) -> str | None:
        return self._value((f"parking:lane:{self.side}", "parking:lane:both"))

    def condition(self, attr: str = "") -> str | None:
        suffix = f":{attr}" if attr else ""
        return self._value(f"parking:condition:{s}{suffix}" for s in (self.side, "both"))


def _unconditional(value: str | None) -> str | None:
    """The part of a value before a ``@`` condition (``no @ (Su)`` -> ``no``)."""
    if value is None:
        return None
    return value.split("@")[0].strip() or None


def side_rules(tags: Mapping[str, str], side: str) -> dict | None:
    """What the tags say about parking on one side (``left``/``right``) of a way.

    None when they say nothing about it (or ``separate``). Otherwise a dict with ``allowed``
    (bool), ``why`` (the tag that excludes it, '' when allowed), ``orientation``, ``fee`` (1, 0,
    -1 unknown), ``maxstay_s`` (inf when none), ``capacity`` (NaN when not tagged), ``scheme``
    (``2022`` or ``lane``) and ``conditional`` (a condition was ignored).
    """
    r = _SideReader(tags, side)
    presence = r.new()
    if presence is not None and presence != "separate":
        return _rules_2022(r, presence)
    lane = r.lane()
    if lane is not None and lane != "separate":
        return _rules_lane(r, lane)
    return None


def _base(scheme: str) -> dict:
    return {"allowed": True, "why": "", "orientation": "parallel", "fee": -1,
            "maxstay_s": math.inf, "capacity": math.nan, "scheme": scheme, "conditional": False}


def _rules_2022(r: _SideReader, presence: str) -> dict:
    out = _base("2022")
    if presence not in _PARKING_NEW:
        out.update(allowed=False, why=f"parking:{r.side}={presence}")
        return out
    orientation = r.new("orientation")
    if orientation in SPACE_LENGTH_M:
        out["orientation"] = orientation
    restriction = _unconditional(r.new("restriction"))
    access = _unconditional(r.new("access"))
    if restriction not in (None, "none"):
        out.update(allowed=False, why=f"restriction={restriction}")
    elif access is not None and access not in _ACCESS_OK:
        out.update(allowed=False, why=f"access={access}")
    fee = r.new("fee")
    out["fee"] = 1 if fee in _PAID else 0 if fee == "no" else -1
    out["conditional"] = any(r.new(f"{a}:conditional") is not None
                             for a in ("restriction", "access", "fee", "maxstay"))
    _read_numbers(out, r.new("maxstay"), r.new("capacity"))
    return out


def _rules_lane(r: _SideReader, lane: str) -> dict:
    out = _base("lane")
    if lane in _NONE_VALUES or lane not in _PARKING_OLD:
        out.update(allowed=False, why=f"parking:lane:{r.side}={lane}")
        return out
    out["orientation"] = lane if lane in SPACE_LENGTH_M else "parallel"
    raw = r.condition()
    condition = _unconditional(raw)
    out["conditional"] = (raw is not None and "@" in raw) or r.condition("time_interval") is not None
    vehicles = r.condition("vehicles")
    if condition in _PAID:
        out["fee"] = 1
    elif condition in _FREE:
        out["fee"] = 0
    elif condition is not None:
        out.update(allowed=False, why=f"parking:condition={condition}")
    if vehicles is not None and not set(re.split(r"[;,]", vehicles)) & _CAR_VEHICLES:
        out.update(allowed=False, why=f"vehicles={vehicles}")
    capacity = r.condition("capacity") or r._value((f"parking:lane:{r.side}:capacity",
                                                    "parking:lane:both:capacity"))
    _read_numbers(out, r.condition("maxstay"), capacity)
    return out


def _read_numbers(out: dict, maxstay: str | None, capacity: str | None) -> None:
    """maxstay (s) and capacity into ``out``; unreadable values stay unknown (``bad`` key)."""
    bad = []
    if maxstay is not None and maxstay not in ("no", "none", "unlimited"):
        try:
            out["maxstay_s"] = parse_duration_s(maxstay)
        except ValueError:
            bad.append(f"maxstay={maxstay}")
    if capacity is not None:
        try:
            n = float(capacity)
            if n > 0 and n == int(n):
                out["capacity"] = n
            else:
                bad.append(f"capacity={capacity}")
        except ValueError:
            bad.append(f"capacity={capacity}")
    if bad:
        out["bad"] = bad


def estimated_spaces(length_m: float, orientation: str) -> int:
    """Spaces along a kerb of ``length_m`` metres (module docstring: junction margins, bay length).

    >>> estimated_spaces(60.0, "parallel")
    9
    """
    usable_m = max(0.0, length_m - 2.0 * JUNCTION_MARGIN_M)
    return int(math.floor(usable_m / SPACE_LENGTH_M[orientation] + 1e-9))


def _side_line(lon: np.ndarray, lat: np.ndarray, side: str) -> tuple[list, list]:
    """The way's line offset DRAW_OFFSET_M to one side and trimmed by the junction margins."""
    proj = LocalProjection.around(lon, lat)
    x, y = proj.to_xy_m(lon, lat)
    line = shapely.LineString(np.column_stack([x, y]))
    if line.length > 2.0 * JUNCTION_MARGIN_M + 1.0:
        line = shapely.ops.substring(line, JUNCTION_MARGIN_M, line.length - JUNCTION_MARGIN_M)
    offset = line.offset_curve(DRAW_OFFSET_M if side == "left" else -DRAW_OFFSET_M)
    if offset.is_empty or offset.geom_type != "LineString":
        offset = line
    xy = np.asarray(offset.coords)
    out_lon, out_lat = proj.to_lonlat(xy[:, 0], xy[:, 1])
    return [round(float(v), 7) for v in out_lon], [round(float(v), 7) for v in out_lat]


def street_zones_from_ways(way_ids, way_tags, way_lon, way_lat, report: BuildReport,
                           file: str = "") -> list[dict]:
    """Facility records (``on_street``) of the parking sides of routable ways.

    ``way_*`` are parallel lists (OSM id, tags dict, lon and lat arrays of the way's nodes). Each
    record has the facility columns (``facility_id`` ``osm:way/<id>:left|right``, ``name``
    "<street>, left side", ``lon``/``lat`` the middle of the way, ``capacity``) and
    :data:`ZONE_COLUMNS`. Sides that exclude parking, zones too short for one car and unreadable
    values are counted in ``report``.
    """
    rows: list[dict] = []
    excluded: Counter = Counter()
    n_conditional = 0
    for way_id, tags, lon, lat in zip(way_ids, way_tags, way_lon, way_lat, strict=True):
        if not any(k.startswith("parking:") for k in tags):
            continue
        ok = np.isfinite(lon) & np.isfinite(lat)
        if ok.sum() < 2:
            continue
        lon, lat = np.asarray(lon)[ok], np.asarray(lat)[ok]
        length_m = float(haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:]).sum())
        for side in ("left", "right"):
            rules = side_rules(tags, side)
            if rules is None:
                continue
            n_conditional += rules["conditional"]
            for bad in rules.get("bad", ()):
                report.warn("invalid_parking_tag", f"way {way_id} {side} side: {bad} unreadable; "
                            "left unknown", file=file)
            if not rules["allowed"]:
                excluded[rules["why"]] += 1
                continue
            row = _zone_record(way_id, tags, lon, lat, side, rules, length_m)
            if row is None:
                excluded["too short for one car"] += 1
                continue
            rows.append(row)
    for why, n in sorted(excluded.items()):
        report.drop("on-street parking sides", why, n)
    if n_conditional:
        report.warn("parking_conditions_ignored", f"{n_conditional} on-street parking sides have "
                    "time windows or conditional rules (time_interval, @): read without them",
                    file=file, count=n_conditional)
    return rows


def _zone_record(way_id: int, tags: Mapping[str, str], lon: np.ndarray, lat: np.ndarray,
                 side: str, rules: dict, length_m: float) -> dict | None:
    """One zone's facility record, or None when it has no space."""
    estimated = not math.isfinite(rules["capacity"])
    capacity = (float(estimated_spaces(length_m, rules["orientation"])) if estimated
                else rules["capacity"])
    if capacity < 1:
        return None
    street = (tags.get("name") or "").strip()
    label = street or f"street (OSM way {way_id})"
    mid = shapely.LineString(np.column_stack([lon, lat])).interpolate(0.5, normalized=True)
    line_lon, line_lat = _side_line(lon, lat, side)
    return {"facility_id": f"osm:way/{way_id}:{side}", "name": f"{label}, {side} side",
            "kind": "on_street", "lon": float(mid.x), "lat": float(mid.y), "capacity": capacity,
            "entrance_lon": math.nan, "entrance_lat": math.nan, "source": "osm_street",
            "side": _SIDES[side], "length_m": round(length_m, 1), "fee": rules["fee"],
            "maxstay_s": rules["maxstay_s"], "street_name": street,
            "capacity_estimated": estimated, "line_lon": line_lon, "line_lat": line_lat}
