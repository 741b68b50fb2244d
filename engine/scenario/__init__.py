"""Planner scenarios: modifications applied copy-on-write to a loaded :class:`Network`.

A *scenario* is an ordered list of modifications ("what if this car park closes, this bus line
runs every 5 minutes at peak, this bike lane opens"). Each modification

1. checks its own fields when it is built (a headway of 0, an empty polygon, a negative capacity
   are refused at once);
2. is validated against the network it is about to change (:meth:`Modification.validate`):
   unknown route, stop, facility or way ids, a polygon that holds no street, a time window in
   which a route has no trip to copy;
3. is applied (:meth:`Modification.apply`), returning a *new* Network that shares every array it
   did not change (the street topology, the timetable of a scenario that only touches parking...)
   and a :class:`Change` saying what it touched ("closes 1 car park (Parking du Casino)").

Problems raise :class:`ScenarioError` naming the modification (its position in the scenario and
its kind) and the field. Nothing here reads files: ``api.scenario_io`` turns YAML/JSON into the
same objects with :func:`modification_from_dict`, and resolves the one modification that needs
geometry matching beyond a point-in-polygon test (``add-bike-lane``: the loaders match a line to
street edges with shapely, exactly as the build marks published bike lanes).

How each modification changes the network
-----------------------------------------
* ``close-parking``: the facilities are removed from :class:`Parking` (their rows of every
  per-facility array, occupancy history and profile): no planner can choose them.
* ``set-parking-capacity`` and ``scale-parking-demand`` change the occupancy *profile* the
  forecaster reads (``engine.parking``). Demand is the number of occupied spaces: with demand
  factor ``k`` and capacity ``C -> C'``, a count of free spaces ``x`` becomes
  ``x' = clip(C' - k (C - x), 0, C')``. The affected facilities' rows of the profile are refitted
  (``engine.parking.fit_occupancy_profile``) on their occupancy history with every reading so
  transformed (:func:`refit_profile`): levels, spreads, full thresholds and the share of readings
  that found a space all follow, and a factor of 1 gives back the same profile. A profile
  without history is reshaped instead (:func:`reshape_profile`): the map is increasing in ``x``,
  so the level's median ``log(x + c)`` moves exactly to ``log(x' + c')`` (``c`` the level offset,
  10 % of capacity), and the spread is chosen so that the probability of being full carries
  over ("full after" is ``x <= C - (C' - k_full) / k`` before; the delta method
  ``s' = s k (x + c) / (x' + c')`` where the median sits at the threshold). Live observations are
  not touched (a scenario is a forecast question, not a live one).
* ``adjust-frequency``, ``remove-route`` and ``remove-stop`` edit the trips
  (:func:`engine.transit.build.trips_of`) and rebuild the RAPTOR timetable
  (:func:`engine.transit.build.timetable_from_trips`); footpaths, stops, lines and calendars
  are kept as they are (``adjust-frequency`` adds a calendar per pattern it changes).
* ``add-bike-lane`` flags the matched edges (both directions) as bike lanes and opens the
  wrong way of streets that bicycles may ride one way only (a contraflow lane):
  ``bike_time_s = length / bike speed``.
* ``set-car-speed`` caps (or sets) the car speed of the edges whose midpoint lies inside a
  polygon; ``close-street`` makes edges (inside a polygon, or of given OSM ways) impassable
  (``inf``) for the given modes. When walking changes, the timetable's footpaths that walked
  through the closed streets grow by the extra walking time (or disappear when no walk is left).
"""
from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numba
import numpy as np

from engine.model import NO_INDEX, Mode, Network, OccupancyProfile, Parking, ParkingKind, Timetable
from engine.transit.build import TripStopTimes, timetable_from_trips, trips_of

CAR_KINDS = (ParkingKind.CAR_PARK, ParkingKind.PARK_AND_RIDE, ParkingKind.ON_STREET)
"""Facility kinds whose demand ``scale-parking-demand`` scales when no facility is named."""

_LEVEL_STD_FLOOR = 0.01     # the forecaster's floor of a level's spread (engine.parking)
_LEVEL_STD_CEILING = 3.0    # a spread past e^3 = 20x either way carries no information left
_LEVEL_OFFSET_SHARE = 0.1   # c = 10 % of capacity, at least one space (engine.parking.level_offsets)


# ---------------------------------------------------------------------------------------------
# Errors and reports
# ---------------------------------------------------------------------------------------------
class ScenarioError(ValueError):
    """A modification that cannot be applied: names its index, kind and field.

    ``index`` is the modification's position in its scenario (0-based; None when the
    modification is used on its own), ``kind`` its type (``adjust-frequency``...), ``field``
    the offending field.
    """

    def __init__(self, kind: str, field: str, message: str, index: int | None = None):
        self.kind, self.field, self.detail, self.index = kind, field, message, index
        where = f"modification {index} ({kind})" if index is not None else f"modification {kind}"
        super().__init__(f"{where}, field '{field}': {message}")

    def at(self, index: int) -> ScenarioError:
        """The same error, placed at position ``index`` of a scenario."""
        return ScenarioError(self.kind, self.field, self.detail, index)


@dataclass(frozen=True)
class Change:
    """What one modification touched: a sentence and the counts behind it."""

    kind: str
    message: str
    counts: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


# ---------------------------------------------------------------------------------------------
# Small parsers shared by the modifications (fields come from Python or from YAML/JSON)
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Geometry kernels
# ---------------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _points_in_rings(px, py, ring_offsets, vx, vy, out):
    """Even-odd test of points against rings (outer rings and holes alike). Writes ``out``.

    Ring r's vertices are ``vx/vy[ring_offsets[r]:ring_offsets[r + 1]]`` (closed implicitly).
    """
    for i in range(px.shape[0]):
        x = px[i]
        y = py[i]
        inside = False
        for r in range(ring_offsets.shape[0] - 1):
            a = ring_offsets[r]
            b = ring_offsets[r + 1]
            j = b - 1
            for k in range(a, b):
                if (vy[k] > y) != (vy[j] > y):
                    cross_x = vx[j] + (y - vy[j]) * (vx[k] - vx[j]) / (vy[k] - vy[j])
                    if x < cross_x:
                        inside = not inside
                j = k
        out[i] = inside


def points_in_polygon(network: Network, rings, lon, lat) -> np.ndarray:
    """Bool mask: which lon/lat points (degrees) lie inside the rings (even-odd rule)."""
    proj = network.projection
    vx, vy, offsets = [], [], [0]
    for ring in rings:
        arr = np.asarray(ring, dtype=np.float64)
        x, y = proj.to_xy_m(arr[:, 0], arr[:, 1])
        vx.append(np.atleast_1d(x))
        vy.append(np.atleast_1d(y))
        offsets.append(offsets[-1] + arr.shape[0])
    px, py = proj.to_xy_m(lon, lat)
    px, py = np.atleast_1d(px).astype(np.float64), np.atleast_1d(py).astype(np.float64)
    out = np.zeros(px.shape[0], dtype=np.bool_)
    _points_in_rings(px, py, np.asarray(offsets, dtype=np.int64), np.concatenate(vx),
                     np.concatenate(vy), out)
    return out


def edges_in_polygon(network: Network, rings) -> np.ndarray:
    """Bool mask over street edges: the edge's midpoint lies inside the rings."""
    sg = network.street
    mid_x = (np.asarray(sg.node_x_m)[sg.edge_tail] + np.asarray(sg.node_x_m)[sg.indices]) / 2
    mid_y = (np.asarray(sg.node_y_m)[sg.edge_tail] + np.asarray(sg.node_y_m)[sg.indices]) / 2
    lon, lat = sg.projection.to_lonlat(mid_x, mid_y)
    return points_in_polygon(network, rings, lon, lat)


# ---------------------------------------------------------------------------------------------
# Lookups that raise ScenarioError
# ---------------------------------------------------------------------------------------------
def _need_timetable(network: Network, kind: str, field_name: str) -> Timetable:
    if network.timetable is None:
        raise ScenarioError(kind, field_name, "the network has no timetable")
    return network.timetable


def _need_street(network: Network, kind: str, field_name: str):
    if network.street is None or network.street.n_edges == 0:
        raise ScenarioError(kind, field_name, "the network has no street graph")
    return network.street


def _close_matches(wanted: str, known: np.ndarray, n: int = 3) -> str:
    import difflib

    hits = difflib.get_close_matches(wanted, [str(k) for k in known], n=n)
    return f" (did you mean {', '.join(repr(h) for h in hits)}?)" if hits else ""


def line_index(tt: Timetable, route: str, *, kind: str, field_name: str = "route") -> int:
    """line_idx of a GTFS route_id, or of a route short name that only one route has."""
    ids = np.asarray(tt.line_ids).astype(str)
    hit = np.flatnonzero(ids == route)
    if hit.size == 0:
        hit = np.flatnonzero(np.asarray(tt.line_short_name).astype(str) == route)
        if hit.size > 1:
            raise ScenarioError(kind, field_name, f"short name {route!r} is shared by routes "
                                f"{', '.join(ids[hit])}: give the route_id")
    if hit.size == 0:
        raise ScenarioError(kind, field_name, f"unknown route {route!r}{_close_matches(route, ids)}")
    return int(hit[0])


def _line_label(tt: Timetable, line: int) -> str:
    short = str(tt.line_short_name[line]).strip()
    return f"route {short}" if short else f"route {tt.line_ids[line]}"


def facility_indices(parking: Parking, ids: Sequence[str], *, kind: str,
                     field_name: str = "facilities") -> np.ndarray:
    """facility_idx of each id; raises ScenarioError naming the first unknown one."""
    known = np.asarray(parking.facility_ids).astype(str)
    index = {f: i for i, f in enumerate(known)}
    out = []
    for fid in ids:
        if fid not in index:
            raise ScenarioError(kind, field_name,
                                f"unknown parking facility {fid!r}{_close_matches(fid, known)}")
        out.append(index[fid])
    return np.asarray(out, dtype=np.int64)


def _facility_label(parking: Parking, f: int) -> str:
    name = str(parking.facility_name[f]).strip()
    return name or str(parking.facility_ids[f])


# ---------------------------------------------------------------------------------------------
# Modifications
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Modification:
    """Base of every modification. Subclasses set ``kind`` and implement the three steps."""

    kind: ClassVar[str] = ""

    def validate(self, network: Network) -> None:
        """Raise ScenarioError (index None) when the modification cannot apply to ``network``."""

    def apply(self, network: Network) -> tuple[Network, Change]:
        """Validate, then return (a copy of ``network`` with the change, what it touched)."""
        raise NotImplementedError

    def to_dict(self) -> dict:
        """The JSON-able description (the inverse of :func:`modification_from_dict`)."""
        out = {"type": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("_") or value is None or isinstance(value, np.ndarray):
                continue
            if isinstance(value, tuple):
                value = _plain(value)
            elif isinstance(value, Mode):
                value = value.name
            out[f.name] = value
        return out


def _plain(value):
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mode):
        return value.name
    return value


# -- parking ----------------------------------------------------------------------------------
def _take_facilities(parking: Parking, keep: np.ndarray) -> Parking:
    """The parking restricted to facility rows ``keep`` (history and profile re-indexed)."""
    n = parking.n_facilities
    per_facility = {}
    for f in dataclasses.fields(parking):
        value = getattr(parking, f.name)
        if isinstance(value, np.ndarray) and value.shape[:1] == (n,):
            per_facility[f.name] = np.asarray(value)[keep]
    history = parking.history
    if history is not None:
        new_idx = np.full(n, NO_INDEX, dtype=np.int64)
        new_idx[keep] = np.arange(keep.size)
        fac = np.asarray(history.facility_idx)
        rows = new_idx[fac] != NO_INDEX
        changes = {}
        for f in dataclasses.fields(history):
            value = getattr(history, f.name)
            if isinstance(value, np.ndarray) and value.shape == fac.shape:
                changes[f.name] = np.asarray(value)[rows]
        changes["facility_idx"] = new_idx[fac[rows]].astype(np.int32)
        history = dataclasses.replace(history, **changes)
    profile = parking.profile
    if profile is not None:
        changes = {}
        for f in dataclasses.fields(profile):
            value = getattr(profile, f.name)
            if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n \
                    and f.name != "holiday_days":
                changes[f.name] = np.asarray(value)[keep]
        profile = dataclasses.replace(profile, **changes)
    return dataclasses.replace(parking, history=history, profile=profile, **per_facility)


def _level_offset(capacity: np.ndarray) -> np.ndarray:
    return np.maximum(1.0, _LEVEL_OFFSET_SHARE * np.maximum(capacity, 0.0))


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(z)


def reshape_profile(profile: OccupancyProfile, facility_idx: np.ndarray, old_capacity: np.ndarray,
                    new_capacity: np.ndarray, demand_factor: np.ndarray) -> OccupancyProfile:
    """The profile after capacity ``C -> C'`` and demand (occupied spaces) x ``k`` at some facilities.

    Free spaces x become ``clip(C' - k (C - x), 0, C')`` (see the module docstring): the level's
    median moves exactly, its spread by the delta method. Arrays of the other facilities are
    shared with the old profile's copies untouched. Facilities need a known capacity (> 0).
    """
    f = np.asarray(facility_idx, dtype=np.int64)
    cap = np.asarray(old_capacity, dtype=np.float64)[:, None, None]
    cap2 = np.asarray(new_capacity, dtype=np.float64)[:, None, None]
    k = np.asarray(demand_factor, dtype=np.float64)[:, None, None]
    n_fac = profile.free_mean.shape[0]
    offset_all = (np.asarray(profile.level_offset, dtype=np.float64)
                  if profile.level_offset.shape == (n_fac,) else _level_offset(np.full(n_fac, -1.0)))
    c = offset_all[f][:, None, None]
    c2 = _level_offset(cap2[:, 0, 0])[:, None, None]
    has_levels = profile.level_mean.shape == profile.free_mean.shape
    if has_levels:
        m = np.asarray(profile.level_mean, dtype=np.float64)[f]
        s = np.asarray(profile.level_std, dtype=np.float64)[f]
    else:  # a profile without levels: the delta method from free spaces, as the forecaster does
        base = np.asarray(profile.free_mean, dtype=np.float64)[f] + c
        m, s = np.log(base), np.maximum(np.asarray(profile.free_std, dtype=np.float64)[f] / base,
                                        _LEVEL_STD_FLOOR)
    has_threshold = profile.full_threshold.shape == (n_fac,) and profile.full_spread.shape == (n_fac,)
    threshold = (np.asarray(profile.full_threshold, dtype=np.float64)[f] if has_threshold
                 else np.full(f.size, 0.5))
    spread = (np.asarray(profile.full_spread, dtype=np.float64)[f] if has_threshold
              else 0.25 / (0.5 + c[:, 0, 0]))
    threshold2 = np.minimum(threshold, cap2[:, 0, 0])
    # the threshold's spread is in level units: d log(x + c) = dx / (x + c)
    spread2 = spread * (threshold + c[:, 0, 0]) / (threshold2 + c2[:, 0, 0])
    thr2 = threshold2[:, None, None]
    sp, sp2 = spread[:, None, None], spread2[:, None, None]

    x_med = np.exp(m) - c
    x2 = cap2 - k * (cap - x_med)
    m2 = np.log(np.clip(x2, 0.0, cap2) + c2)
    s_delta = s * k * (x_med + c) / (np.maximum(x2, 0.0) + c2)
    # What the planner reads is p_full. "Full after" is x' <= thr', i.e. x <= C - (C' - thr') / k
    # before: its z-score on the old levels carries over exactly. Choose the new spread so that
    # the forecaster's z-score at the new threshold is that one (the delta method near it).
    with np.errstate(invalid="ignore", divide="ignore"):
        x_full = cap - (cap2 - thr2) / k
        z = (np.log(np.maximum(x_full + c, 1e-9)) - m) / np.sqrt(s * s + sp * sp)
        gap = np.log(thr2 + c2) - m2
        s_match = np.sqrt(np.maximum((gap / z) ** 2 - sp2 * sp2, _LEVEL_STD_FLOOR ** 2))
    s2 = np.clip(np.where(np.abs(z) > 0.5, s_match, s_delta), _LEVEL_STD_FLOOR, _LEVEL_STD_CEILING)
    free_mean2 = np.clip(np.exp(m2 + 0.5 * s2 * s2) - c2, 0.0, cap2)
    free_std2 = np.sqrt(np.expm1(s2 * s2)) * np.exp(m2 + 0.5 * s2 * s2)
    p_free2 = 1.0 - _normal_cdf((np.log(thr2 + c2) - m2) / np.sqrt(s2 * s2 + sp2 * sp2))

    def put(name, values, dtype=np.float32):
        arr = np.array(getattr(profile, name), copy=True)
        arr[f] = values.astype(dtype)
        return arr

    nan = np.isnan(m)   # facilities without profile stay unknown
    changes = dict(free_mean=put("free_mean", np.where(nan, np.nan, free_mean2)),
                   free_std=put("free_std", np.where(nan, np.nan, free_std2)),
                   p_free=put("p_free", np.where(nan, np.nan, p_free2)),
                   occupancy_mean=put("occupancy_mean", np.where(nan, np.nan, 1.0 - free_mean2 / cap2)))
    if has_levels:
        changes.update(level_mean=put("level_mean", np.where(nan, np.nan, m2)),
                       level_std=put("level_std", np.where(nan, np.nan, s2)))
        if profile.deviation_scale.shape == (n_fac,):
            var = np.where(np.isfinite(s2), s2 * s2, 0.0).reshape(f.size, -1)
            count = np.isfinite(s2).reshape(f.size, -1).sum(axis=1)
            rms = np.where(count > 0, np.sqrt(var.sum(axis=1) / np.maximum(count, 1)), 1.0)
            changes["deviation_scale"] = put("deviation_scale", rms)
    if profile.level_offset.shape == (n_fac,):
        changes["level_offset"] = put("level_offset", c2[:, 0, 0])
    if has_threshold:
        changes["full_threshold"] = put("full_threshold", threshold2)
        changes["full_spread"] = put("full_spread", spread2)
    return dataclasses.replace(profile, **changes)


def refit_profile(parking: Parking, facility_idx, new_capacity, demand_factor) -> OccupancyProfile | None:
    """The profile with some facilities refitted on their history as the scenario would have had it.

    Each reading of free spaces x (capacity C reported with it) becomes
    ``x' = clip(C' - k (C - x), 0, C')``: the same cars times ``k`` in ``C'`` spaces (``C'`` the
    new capacity, or C when it is unchanged). A reading reported full stays full unless the
    scenario frees spaces. The readings the fitter leaves out (impossible counts, capacity
    glitches, stuck sensors) are left out on the readings as recorded, then
    ``engine.parking.fit_occupancy_profile`` fits the affected facilities' rows, which replace
    theirs in the profile (the other facilities and the deviation model are kept). Returns None
    when the parking has no history or profile, or the facilities have no readings.
    """
    from engine.parking import fit_occupancy_profile, usable_readings

    h, pr = parking.history, parking.profile
    f_idx = np.asarray(facility_idx, dtype=np.int64)
    if h is None or pr is None or f_idx.size == 0:
        return None
    fac = np.asarray(h.facility_idx, dtype=np.int64)
    rows = np.flatnonzero(np.isin(fac, f_idx))
    if rows.size == 0:
        return None
    order = rows[np.lexsort((np.asarray(h.time_utc_s)[rows], fac[rows]))]
    f = fac[order]
    t = np.asarray(h.time_utc_s, dtype=np.int64)[order]
    x = np.asarray(h.free_spaces, dtype=np.float64)[order]
    cap_obs = np.asarray(h.capacity, dtype=np.float64)[order]
    full = ((x == 0) if h.status_full is None else np.asarray(h.status_full, dtype=bool)[order])
    cap_f = np.asarray(parking.capacity, dtype=np.float64)[f]
    cap_now = np.where(cap_obs > 0, cap_obs, cap_f)      # the capacity in force at each reading
    valid = usable_readings(f, t, x, cap_obs, cap_f)
    pos = np.searchsorted(np.sort(f_idx), f)
    sorted_new_cap = np.asarray(new_capacity, dtype=np.float64)[np.argsort(f_idx)]
    sorted_k = np.asarray(demand_factor, dtype=np.float64)[np.argsort(f_idx)]
    old_cap = np.asarray(parking.capacity, dtype=np.float64)[np.sort(f_idx)]
    changed_cap = sorted_new_cap != old_cap
    c2 = np.where(changed_cap[pos], sorted_new_cap[pos], cap_now)
    x2 = np.clip(c2 - sorted_k[pos] * (cap_now - x), 0.0, c2)
    full2 = (x2 <= 0) | (full & (x2 <= x))
    from engine.model import OccupancyHistory

    sub = OccupancyHistory(facility_idx=pos[valid].astype(np.int32), time_utc_s=t[valid],
                           free_spaces=np.round(x2[valid]).astype(np.int32),
                           capacity=np.round(c2[valid]).astype(np.int32), status_full=full2[valid])
    fitted = fit_occupancy_profile(sub, np.round(sorted_new_cap).astype(np.int64), pr.timezone,
                                   bin_s=pr.bin_s, holiday_days=pr.holiday_days, stuck_after_s=math.inf)
    n_fac = pr.free_mean.shape[0]
    changes = {}
    for fld in dataclasses.fields(pr):
        old = getattr(pr, fld.name)
        new = getattr(fitted, fld.name)
        if (isinstance(old, np.ndarray) and old.ndim >= 1 and old.shape[0] == n_fac
                and fld.name != "holiday_days" and isinstance(new, np.ndarray)
                and new.shape[1:] == old.shape[1:]):
            arr = np.array(old, copy=True)
            arr[np.sort(f_idx)] = new.astype(arr.dtype)
            changes[fld.name] = arr
    return dataclasses.replace(pr, **changes)


@dataclass(frozen=True, eq=False)
class CloseParking(Modification):
    """Close parking facilities: they are removed from the network's parking (``close-parking``)."""

    facilities: tuple
    kind: ClassVar[str] = "close-parking"

    def __post_init__(self):
        object.__setattr__(self, "facilities", _ids(self.facilities, kind=self.kind, field_name="facilities"))

    def validate(self, network: Network) -> None:
        facility_indices(network.parking, self.facilities, kind=self.kind)

    def apply(self, network: Network) -> tuple[Network, Change]:
        self.validate(network)
        pk = network.parking
        closed = np.unique(facility_indices(pk, self.facilities, kind=self.kind))
        keep = np.setdiff1d(np.arange(pk.n_facilities), closed)
        names = ", ".join(_facility_label(pk, int(f)) for f in closed)
        n_car = int(np.isin(np.asarray(pk.kind)[closed], CAR_KINDS).sum())
        what = (_plural(n_car, "car park") if n_car == closed.size
                else _plural(int(closed.size), "parking facility", "parking facilities"))
        change = Change(self.kind, f"closes {what} ({names})", {"facilities_closed": int(closed.size)})
        return dataclasses.replace(network, parking=_take_facilities(pk, keep)), change


@dataclass(frozen=True, eq=False)
class SetParkingCapacity(Modification):
    """Change a facility's number of spaces; demand (occupied spaces) stays (``set-parking-capacity``)."""

    facilities: tuple
    capacity: int
    kind: ClassVar[str] = "set-parking-capacity"

    def __post_init__(self):
        object.__setattr__(self, "facilities", _ids(self.facilities, kind=self.kind, field_name="facilities"))
        cap = _positive(self.capacity, kind=self.kind, field_name="capacity")
        if cap != int(cap):
            raise ScenarioError(self.kind, "capacity",
                                f"must be a whole number of spaces, got {self.capacity!r}")
        object.__setattr__(self, "capacity", int(cap))

    def validate(self, network: Network) -> None:
        facility_indices(network.parking, self.facilities, kind=self.kind)

    def apply(self, network: Network) -> tuple[Network, Change]:
        self.validate(network)
        pk = network.parking
        f = np.unique(facility_indices(pk, self.facilities, kind=self.kind))
        old = np.asarray(pk.capacity, dtype=np.int64)[f]
        capacity = np.array(pk.capacity, copy=True)
        capacity[f] = self.capacity
        profile = pk.profile
        known = f[old > 0]
        if profile is not None and known.size:
            refit = refit_profile(pk, known, np.full(known.size, self.capacity), np.ones(known.size))
            profile = refit if refit is not None else reshape_profile(
                profile, known, old[old > 0], np.full(known.size, self.capacity), np.ones(known.size))
        parking = dataclasses.replace(pk, capacity=capacity.astype(np.asarray(pk.capacity).dtype),
                                      profile=profile)
        parts = [f"{_facility_label(pk, int(i))} from {int(c) if c > 0 else 'unknown'}"
                 for i, c in zip(f, old, strict=True)]
        msg = f"sets the capacity of {'; '.join(parts)} to {self.capacity:,} spaces"
        if (old <= 0).any():
            msg += f" ({_plural(int((old <= 0).sum()), 'facility', 'facilities')} had no known capacity: " \
                   "occupancy forecast unchanged)"
        return dataclasses.replace(network, parking=parking), Change(
            self.kind, msg, {"facilities_changed": int(f.size)})


@dataclass(frozen=True, eq=False)
class ScaleParkingDemand(Modification):
    """Multiply the occupied spaces of car parks by ``factor`` in the forecast (``scale-parking-demand``).

    ``facilities`` empty: every car facility (car park, park-and-ride, on-street zone).
    ``factor`` 1.2 means 20 % more cars parked at every hour, 0.5 half as many.
    """

    factor: float
    facilities: tuple = ()
    kind: ClassVar[str] = "scale-parking-demand"

    def __post_init__(self):
        object.__setattr__(self, "factor", _positive(self.factor, kind=self.kind, field_name="factor"))
        if self.facilities not in ((), None, "all"):
            object.__setattr__(self, "facilities",
                               _ids(self.facilities, kind=self.kind, field_name="facilities"))
        else:
            object.__setattr__(self, "facilities", ())

    def _targets(self, pk: Parking) -> np.ndarray:
        if self.facilities:
            return np.unique(facility_indices(pk, self.facilities, kind=self.kind))
        return np.flatnonzero(np.isin(np.asarray(pk.kind), CAR_KINDS))

    def validate(self, network: Network) -> None:
        pk = network.parking
        f = self._targets(pk)
        if f.size == 0:
            raise ScenarioError(self.kind, "facilities", "the network has no car parking facility")
        if pk.profile is None:
            raise ScenarioError(self.kind, "facilities", "the network has no occupancy profile: "
                                "there is no demand to scale (build it with a parking history)")
        if self.facilities:
            cap = np.asarray(pk.capacity)[f]
            has = ~np.isnan(np.asarray(pk.profile.free_mean)[f].reshape(f.size, -1)).all(axis=1)
            bad = f[(cap <= 0) | ~has]
            if bad.size:
                raise ScenarioError(self.kind, "facilities", f"{pk.facility_ids[bad[0]]!r} has no known "
                                    "capacity or no occupancy profile: its demand cannot be scaled")

    def apply(self, network: Network) -> tuple[Network, Change]:
        self.validate(network)
        pk = network.parking
        f = self._targets(pk)
        cap = np.asarray(pk.capacity, dtype=np.float64)[f]
        has = ~np.isnan(np.asarray(pk.profile.free_mean)[f].reshape(f.size, -1)).all(axis=1)
        ok = f[(cap > 0) & has]
        kept = cap[(cap > 0) & has]
        profile = refit_profile(pk, ok, kept, np.full(ok.size, self.factor))
        if profile is None:
            profile = reshape_profile(pk.profile, ok, kept, kept, np.full(ok.size, self.factor))
        skipped = int(f.size - ok.size)
        msg = f"scales parking demand by {self.factor:g} at {_plural(int(ok.size), 'car park')}"
        if self.facilities and ok.size <= 3:
            msg += f" ({', '.join(_facility_label(pk, int(i)) for i in ok)})"
        if skipped:
            msg += (f"; {_plural(skipped, 'facility', 'facilities')} without capacity or profile "
                    "left unchanged")
        return dataclasses.replace(network, parking=dataclasses.replace(pk, profile=profile)), Change(
            self.kind, msg, {"facilities_scaled": int(ok.size), "facilities_skipped": skipped})


# -- timetable --------------------------------------------------------------------------------
def _footpath_arrays(tt: Timetable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts = np.diff(np.asarray(tt.transfer_offsets)).astype(np.int64)
    src = np.repeat(np.arange(tt.n_stops, dtype=np.int64), counts)
    return (src, np.asarray(tt.transfer_to_stop, dtype=np.int64),
            np.asarray(tt.transfer_time_s, dtype=np.int64))


def rebuild_timetable(tt: Timetable, trips: TripStopTimes, *, footpaths=None) -> Timetable:
    """``tt`` with its trips replaced (stops, lines, calendars kept; footpaths kept or replaced)."""
    src, dst, secs = _footpath_arrays(tt) if footpaths is None else footpaths
    return timetable_from_trips(
        stop_ids=tt.stop_ids, stop_name=tt.stop_name, stop_lon=tt.stop_lon, stop_lat=tt.stop_lat,
        stop_location_type=tt.stop_location_type, stop_parent_idx=tt.stop_parent_idx,
        stop_wheelchair=tt.stop_wheelchair, stop_min_transfer_s=tt.stop_min_transfer_s,
        line_ids=tt.line_ids, line_short_name=tt.line_short_name, line_long_name=tt.line_long_name,
        line_type=tt.line_type, line_color=tt.line_color, line_text_color=tt.line_text_color,
        line_agency=tt.line_agency, trips=trips, service_ids=tt.service_ids,
        service_first_day=tt.service_first_day, service_active=tt.service_active,
        transfer_from_stop=src, transfer_to_stop=dst, transfer_time_s=secs,
        forbidden_from_stop=tt.forbidden_from_stop, forbidden_to_stop=tt.forbidden_to_stop,
        timezone=tt.timezone, feed_ids=tt.feed_ids)


def _select_trips(trips: TripStopTimes, keep_trip: np.ndarray, keep_st: np.ndarray | None = None
                  ) -> TripStopTimes:
    """Trips where ``keep_trip``, and of their stop times those where ``keep_st`` (default all)."""
    off = np.asarray(trips.st_offsets, dtype=np.int64)
    n_st = int(off[-1])
    trip_of_st = np.repeat(np.arange(trips.n_trips), np.diff(off))
    st_mask = keep_trip[trip_of_st]
    if keep_st is not None:
        st_mask &= keep_st
    lengths = np.bincount(trip_of_st[st_mask], minlength=trips.n_trips)[keep_trip]
    offsets = np.zeros(int(keep_trip.sum()) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    st = {name: np.asarray(getattr(trips, name))[st_mask] for name in
          ("st_stop_idx", "st_arrival_s", "st_departure_s", "st_can_board", "st_can_alight")}
    per_trip = {name: np.asarray(getattr(trips, name))[keep_trip] for name in
                ("trip_ids", "trip_line_idx", "trip_service_idx", "trip_wheelchair", "trip_bikes_allowed",
                 "trip_headsign")}
    assert n_st == trip_of_st.size
    return TripStopTimes(st_offsets=offsets, **per_trip, **st)


def _concat_trips(a: TripStopTimes, b: TripStopTimes) -> TripStopTimes:
    off = np.concatenate([np.asarray(a.st_offsets), np.asarray(b.st_offsets)[1:] + a.st_offsets[-1]])
    fields = {}
    for f in dataclasses.fields(TripStopTimes):
        if f.name != "st_offsets":
            fields[f.name] = np.concatenate([np.asarray(getattr(a, f.name)), np.asarray(getattr(b, f.name))])
    return TripStopTimes(st_offsets=off, **fields)


@dataclass(frozen=True, eq=False)
class AdjustFrequency(Modification):
    """Run a route every ``headway_min`` minutes between ``start`` and ``end`` (``adjust-frequency``).

    ``start``/``end``: "HH:MM" service-day times; trips *leaving their first stop* in
    ``[start, end)`` are replaced. For each pattern of the route (a stop sequence: each
    direction, each variant) with trips leaving in the window, those trips are removed and
    copies of a template trip leave at ``start``, ``start + headway``, ... up to before ``end``,
    with the template's running times. Days that ran different trips get their own template
    (their first trip in the window: a Saturday keeps Saturday running times) and a new calendar
    (feeds often spread one day's trips over several calendars). ``template_trip`` (a trip_id)
    forces the template and restricts the change to its own pattern.
    """

    route: str
    start: object
    end: object
    headway_min: float
    template_trip: str | None = None
    kind: ClassVar[str] = "adjust-frequency"

    def __post_init__(self):
        if not isinstance(self.route, str | int) or not str(self.route).strip():
            raise ScenarioError(self.kind, "route", f"expected a route id, got {self.route!r}")
        object.__setattr__(self, "route", str(self.route).strip())
        object.__setattr__(self, "headway_min",
                           _positive(self.headway_min, kind=self.kind, field_name="headway_min"))
        s = parse_time_s(self.start, kind=self.kind, field_name="start")
        e = parse_time_s(self.end, kind=self.kind, field_name="end")
        if e <= s:
            raise ScenarioError(self.kind, "end", f"must be after start ({_hhmm(s)}), got {_hhmm(e)}")
        object.__setattr__(self, "start", _hhmm(s))
        object.__setattr__(self, "end", _hhmm(e))
        if self.headway_min * 60 < 1:
            raise ScenarioError(self.kind, "headway_min",
                                f"must be at least one second, got {self.headway_min!r}")
        if self.template_trip is not None:
            object.__setattr__(self, "template_trip", str(self.template_trip))

    @property
    def start_s(self) -> int:
        return parse_time_s(self.start, kind=self.kind, field_name="start")

    @property
    def end_s(self) -> int:
        return parse_time_s(self.end, kind=self.kind, field_name="end")

    @property
    def headway_s(self) -> int:
        return max(1, int(round(self.headway_min * 60)))

    def _plan(self, tt: Timetable, trips: TripStopTimes):
        """(line, [(template trip, trips of its pattern in the window, service days)])."""
        line = line_index(tt, self.route, kind=self.kind)
        off = np.asarray(trips.st_offsets, dtype=np.int64)
        first_dep = np.asarray(trips.st_departure_s)[off[:-1]]
        of_line = np.asarray(trips.trip_line_idx) == line
        if not of_line.any():
            raise ScenarioError(self.kind, "route", f"{_line_label(tt, line)} has no trips left to copy")
        in_window = of_line & (first_dep >= self.start_s) & (first_dep < self.end_s)
        stops = np.asarray(trips.st_stop_idx)
        patterns: dict[bytes, list[int]] = {}
        for t in np.flatnonzero(in_window)[np.argsort(first_dep[in_window], kind="stable")]:
            patterns.setdefault(stops[off[t]:off[t + 1]].tobytes(), []).append(int(t))
        if self.template_trip is not None:
            hit = np.flatnonzero(np.asarray(trips.trip_ids).astype(str) == self.template_trip)
            if hit.size == 0:
                raise ScenarioError(self.kind, "template_trip", f"unknown trip {self.template_trip!r}")
            t = int(hit[0])
            if not of_line[t]:
                raise ScenarioError(self.kind, "template_trip", f"trip {self.template_trip!r} does not "
                                    f"belong to {_line_label(tt, line)}")
            members = patterns.get(stops[off[t]:off[t + 1]].tobytes(), [])
            active = np.asarray(tt.service_active, dtype=bool)
            svc = np.asarray(trips.trip_service_idx)
            days = active[svc[members]].any(axis=0) if members else active[svc[t]]
            return line, [(t, members, days)]
        if not patterns:
            raise ScenarioError(self.kind, "start",
                                f"{_line_label(tt, line)} has no trip leaving between {self.start} and "
                                f"{self.end} to copy: widen the window or give template_trip")
        return line, [step for members in patterns.values() for step in self._daily(tt, trips, members)]

    @staticmethod
    def _daily(tt: Timetable, trips: TripStopTimes, members: list[int]):
        """(template, members, days) per group of service days that run the same trips of one
        pattern in the window: each day keeps the running times of its own first trip (a
        Saturday's, not a weekday's)."""
        active = np.asarray(tt.service_active, dtype=bool)[np.asarray(trips.trip_service_idx)[members]]
        groups: dict[bytes, list[int]] = {}
        for day in np.flatnonzero(active.any(axis=0)):
            groups.setdefault(np.packbits(active[:, day]).tobytes(), []).append(int(day))
        out = []
        for days in groups.values():
            running = np.flatnonzero(active[:, days[0]])       # members sorted by departure
            mask = np.zeros(active.shape[1], dtype=bool)
            mask[days] = True
            out.append((members[int(running[0])], members, mask))
        # the same members may be listed by several groups: removing them once is enough
        return out

    def validate(self, network: Network) -> None:
        tt = _need_timetable(network, self.kind, "route")
        self._plan(tt, trips_of(tt))

    def apply(self, network: Network) -> tuple[Network, Change]:
        tt = _need_timetable(network, self.kind, "route")
        trips = trips_of(tt)
        line, plan = self._plan(tt, trips)
        svc = np.asarray(trips.trip_service_idx)
        active = np.asarray(tt.service_active, dtype=bool)
        remove = np.zeros(trips.n_trips, dtype=bool)
        departures = np.arange(self.start_s, self.end_s, self.headway_s, dtype=np.int64)
        new_days, parts = [], []
        for template, members, days in plan:
            remove[members] = True
            new_days.append(days)
            parts.append(self._copies(trips, template, departures, tt.service_ids.shape[0] + len(parts)))
        added = parts[0]
        for part in parts[1:]:
            added = _concat_trips(added, part)
        tag = re.sub(r"[^A-Za-z0-9_.-]", "_", self.route)
        service_ids = np.concatenate([np.asarray(tt.service_ids).astype(str),
                                      [f"scenario:{tag}:{self.start}-{self.end}:{i}"
                                       for i in range(len(plan))]])
        service_active = np.vstack([active, np.asarray(new_days, dtype=bool)])
        base = dataclasses.replace(tt, service_ids=service_ids, service_active=service_active)
        timetable = rebuild_timetable(base, _concat_trips(_select_trips(trips, ~remove), added))
        n_added, n_removed = added.n_trips, int(remove.sum())
        # per service day (calendars are often one per date: totals over the feed mislead)
        added_day = int((np.asarray(new_days, dtype=np.int64).sum(axis=0) * departures.size).max())
        removed_by_service = np.bincount(svc[remove], minlength=active.shape[0])
        removed_day = int((removed_by_service @ active.astype(np.int64)).max())
        n_patterns = len({trips_key for trips_key in (tuple(m) for _, m, _ in plan)})
        msg = (f"adds {_plural(added_day, 'trip')} a day to {_line_label(tt, line)}, every "
               f"{self.headway_min:g} min between {self.start} and {self.end}, replacing "
               f"{removed_day:,} ({_plural(n_patterns, 'pattern')}, {_plural(len(plan), 'daily timetable')}; "
               f"{n_added:,} trip records added and {n_removed:,} removed from the feed's calendar)")
        return dataclasses.replace(network, timetable=timetable), Change(
            self.kind, msg, {"trips_added": n_added, "trips_removed": n_removed, "patterns": n_patterns,
                             "daily_timetables": len(plan),
                             "trips_added_per_day": added_day, "trips_removed_per_day": removed_day})

    def _copies(self, trips: TripStopTimes, t: int, departures: np.ndarray, service_idx: int
                ) -> TripStopTimes:
        off = np.asarray(trips.st_offsets, dtype=np.int64)
        a, b = off[t], off[t + 1]
        k, n = int(b - a), departures.size
        shift = (departures - int(trips.st_departure_s[a]))[:, None]
        base_id = str(trips.trip_ids[t])

        def times(name):
            block = np.asarray(getattr(trips, name), dtype=np.int64)[a:b][None, :] + shift
            return block.ravel().astype(np.int32)

        return TripStopTimes(
            trip_ids=np.array([f"{base_id}+{_hhmm(d)}" for d in departures], dtype=str),
            trip_line_idx=np.full(n, trips.trip_line_idx[t], dtype=np.int32),
            trip_service_idx=np.full(n, service_idx, dtype=np.int32),
            trip_wheelchair=np.full(n, trips.trip_wheelchair[t], dtype=np.int8),
            trip_bikes_allowed=np.full(n, trips.trip_bikes_allowed[t], dtype=np.int8),
            trip_headsign=np.full(n, trips.trip_headsign[t], dtype=np.asarray(trips.trip_headsign).dtype),
            st_offsets=np.arange(n + 1, dtype=np.int64) * k,
            st_stop_idx=np.tile(np.asarray(trips.st_stop_idx)[a:b], n),
            st_arrival_s=times("st_arrival_s"), st_departure_s=times("st_departure_s"),
            st_can_board=np.tile(np.asarray(trips.st_can_board)[a:b], n),
            st_can_alight=np.tile(np.asarray(trips.st_can_alight)[a:b], n))


@dataclass(frozen=True, eq=False)
class RemoveRoute(Modification):
    """Remove every trip of routes (GTFS route_id, or a unique short name) (``remove-route``)."""

    routes: tuple
    kind: ClassVar[str] = "remove-route"

    def __post_init__(self):
        object.__setattr__(self, "routes", _ids(self.routes, kind=self.kind, field_name="routes"))

    def validate(self, network: Network) -> None:
        tt = _need_timetable(network, self.kind, "routes")
        lines = [line_index(tt, r, kind=self.kind, field_name="routes") for r in self.routes]
        running = np.isin(np.asarray(tt.route_line_idx), lines)
        for r, line in zip(self.routes, lines, strict=True):
            if not (np.asarray(tt.route_line_idx)[running] == line).any():
                raise ScenarioError(self.kind, "routes", f"route {r!r} has no trips (already removed?)")

    def apply(self, network: Network) -> tuple[Network, Change]:
        self.validate(network)
        tt = network.timetable
        lines = np.unique([line_index(tt, r, kind=self.kind, field_name="routes") for r in self.routes])
        trips = trips_of(tt)
        remove = np.isin(np.asarray(trips.trip_line_idx), lines)
        timetable = rebuild_timetable(tt, _select_trips(trips, ~remove))
        labels = ", ".join(_line_label(tt, int(line)) for line in lines)
        msg = f"removes {labels} ({_plural(int(remove.sum()), 'trip')})"
        return dataclasses.replace(network, timetable=timetable), Change(
            self.kind, msg, {"routes_removed": int(lines.size), "trips_removed": int(remove.sum())})


@dataclass(frozen=True, eq=False)
class RemoveStop(Modification):
    """Trips no longer call at these stops (a station: all its stops) (``remove-stop``).

    Times at the other stops are unchanged; a trip left with fewer than two stops is dropped.
    """

    stops: tuple
    kind: ClassVar[str] = "remove-stop"

    def __post_init__(self):
        object.__setattr__(self, "stops", _ids(self.stops, kind=self.kind, field_name="stops"))

    def _stop_idx(self, tt: Timetable) -> np.ndarray:
        ids = np.asarray(tt.stop_ids).astype(str)
        index = {s: i for i, s in enumerate(ids)}
        out = []
        for sid in self.stops:
            if sid not in index:
                raise ScenarioError(self.kind, "stops", f"unknown stop {sid!r}{_close_matches(sid, ids)}")
            out.append(index[sid])
        out = np.asarray(out, dtype=np.int64)
        children = np.flatnonzero(np.isin(np.asarray(tt.stop_parent_idx), out))
        return np.union1d(out, children)

    def validate(self, network: Network) -> None:
        tt = _need_timetable(network, self.kind, "stops")
        idx = self._stop_idx(tt)
        served = np.diff(np.asarray(tt.stop_route_offsets))[idx] > 0
        if not served.any():
            raise ScenarioError(self.kind, "stops", f"no trip calls at {', '.join(self.stops)}")

    def apply(self, network: Network) -> tuple[Network, Change]:
        self.validate(network)
        tt = network.timetable
        idx = self._stop_idx(tt)
        trips = trips_of(tt)
        off = np.asarray(trips.st_offsets, dtype=np.int64)
        hit = np.isin(np.asarray(trips.st_stop_idx), idx)
        trip_of_st = np.repeat(np.arange(trips.n_trips), np.diff(off))
        left = np.bincount(trip_of_st[~hit], minlength=trips.n_trips)
        touched = np.bincount(trip_of_st[hit], minlength=trips.n_trips) > 0
        keep_trip = left >= 2
        timetable = rebuild_timetable(tt, _select_trips(trips, keep_trip, ~hit))
        names = ", ".join(sorted({str(tt.stop_name[i]) or str(tt.stop_ids[i]) for i in idx}))
        dropped = int((~keep_trip).sum())
        msg = f"removes stop {names} from {_plural(int(touched.sum()), 'trip')}"
        if dropped:
            msg += f" ({_plural(dropped, 'trip')} left with fewer than two stops dropped)"
        return dataclasses.replace(network, timetable=timetable), Change(
            self.kind, msg, {"stops_removed": int(idx.size), "trips_touched": int(touched.sum()),
                             "trips_dropped": dropped})


# -- streets ----------------------------------------------------------------------------------
def _walk_changed_footpaths(old: Network, new_street) -> Timetable | None:
    """The timetable with footpaths grown by the extra walk the new street graph imposes.

    A footpath between stops linked to street nodes a and b keeps its time plus
    ``walk'(a, b) - walk(a, b)`` when positive; it disappears when b is no longer reachable on
    foot. Footpaths of unlinked stops are kept (they were straight lines).
    """
    from engine.street import StreetProfile, pair_costs

    tt = old.timetable
    if tt is None or tt.transfer_to_stop.shape[0] == 0 or old.stop_walk_node_idx.shape[0] != tt.n_stops:
        return None
    src, dst, secs = _footpath_arrays(tt)
    node = np.asarray(old.stop_walk_node_idx, dtype=np.int64)
    linked = (node[src] != NO_INDEX) & (node[dst] != NO_INDEX) & (src != dst)
    rows = np.flatnonzero(linked)
    if rows.size == 0:
        return None
    a, b = node[src[rows]], node[dst[rows]]
    pairs = np.unique(np.column_stack([a, b]), axis=0)
    profile = StreetProfile(Mode.WALK, walk_speed_mps=old.street.walk_speed_mps)
    before = pair_costs(old.street, profile, pairs[:, 0], pairs[:, 1])
    after = pair_costs(new_street, profile, pairs[:, 0], pairs[:, 1])
    extra = np.where(np.isfinite(after), np.maximum(after - before, 0.0), np.inf)
    extra = np.where(np.isfinite(before), extra, 0.0)   # pairs that were not walkable: untouched
    pos = np.searchsorted(pairs[:, 0] * (node.max() + 1) + pairs[:, 1], a * (node.max() + 1) + b)
    add = np.zeros(src.size)
    add[rows] = extra[pos]
    if not (add > 0).any():
        return None
    keep = np.isfinite(add)
    new_secs = secs + np.ceil(np.where(keep, add, 0.0) - 1e-9).astype(np.int64)
    return rebuild_footpaths(tt, src[keep], dst[keep], new_secs[keep])


def rebuild_footpaths(tt: Timetable, src, dst, secs) -> Timetable:
    """``tt`` with its footpaths replaced by (src, dst, secs) (sorted, CSR by from-stop)."""
    src, dst, secs = (np.asarray(a, dtype=np.int64) for a in (src, dst, secs))
    order = np.lexsort((secs, dst, src))
    src, dst, secs = src[order], dst[order], secs[order]
    offsets = np.zeros(tt.n_stops + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=tt.n_stops), out=offsets[1:])
    return dataclasses.replace(tt, transfer_offsets=offsets.astype(np.int32),
                               transfer_to_stop=dst.astype(np.int32), transfer_time_s=secs.astype(np.int32))


def _reverse_allowed(sg, cost: np.ndarray) -> np.ndarray:
    """edge -> an edge from its head back to its tail has a finite ``cost``."""
    n = np.int64(sg.n_nodes)
    tail, head = np.asarray(sg.edge_tail, dtype=np.int64), np.asarray(sg.indices, dtype=np.int64)
    ok = np.isfinite(cost)
    keys = np.sort(tail[ok] * n + head[ok])
    want = head * n + tail
    pos = np.minimum(np.searchsorted(keys, want), max(keys.size - 1, 0))
    return (keys[pos] == want) if keys.size else np.zeros(sg.n_edges, dtype=bool)


@dataclass(frozen=True, eq=False)
class AddBikeLane(Modification):
    """Open a bike lane along a line (``add-bike-lane``).

    ``line``: [lon, lat] points. The street edges along it (both directions) are found by
    ``loaders.bike_lanes.edges_along_lines`` (shapely, the build's own matching), which
    ``api.scenario_io`` runs and passes here as ``edge_mask``. Matched edges become bike lanes,
    and the wrong way of a street bicycles ride one way only is opened to them at the graph's
    bike speed (a contraflow lane). Streets closed to bicycles both ways (a tunnel, a motorway)
    and steps stay closed.
    """

    line: tuple
    edge_mask: np.ndarray | None = None
    name: str = ""
    kind: ClassVar[str] = "add-bike-lane"

    def __post_init__(self):
        object.__setattr__(self, "line",
                           _lonlat_points(self.line, kind=self.kind, field_name="line", min_points=2))
        if self.edge_mask is not None:
            object.__setattr__(self, "edge_mask", np.asarray(self.edge_mask, dtype=bool))

    def validate(self, network: Network) -> None:
        sg = _need_street(network, self.kind, "line")
        if self.edge_mask is None:
            raise ScenarioError(self.kind, "line", "the line has not been matched to the street graph: "
                                "load the scenario with api.scenario_io (it matches lines with shapely)")
        if self.edge_mask.shape != (sg.n_edges,):
            raise ScenarioError(self.kind, "line", f"edge_mask has {self.edge_mask.shape} entries, the "
                                f"street graph {sg.n_edges} edges (matched against another network?)")
        if not self.edge_mask.any():
            raise ScenarioError(self.kind, "line", "no street runs along the line (is it inside the "
                                "network, with coordinates as [lon, lat]?)")

    def apply(self, network: Network) -> tuple[Network, Change]:
        self.validate(network)
        sg = network.street
        mask = self.edge_mask
        old_lane = np.asarray(sg.edge_is_bike_lane, dtype=bool)
        bike = np.array(sg.bike_time_s, dtype=np.float64, copy=True)
        steps = (np.asarray(sg.way_highway).astype(str) == "steps")[np.asarray(sg.edge_way_idx)]
        opened = mask & ~np.isfinite(bike) & _reverse_allowed(sg, bike) & ~steps
        bike[opened] = np.asarray(sg.edge_length_m)[opened] / sg.bike_speed_mps
        lanes = old_lane | (mask & (np.isfinite(bike)))
        changes = {"edge_is_bike_lane": lanes}
        if opened.any():
            changes["bike_time_s"] = bike
        street = sg.with_costs(**changes)
        marked = int((lanes & ~old_lane).sum())
        length_m = float(np.asarray(sg.edge_length_m)[mask].sum() / 2)
        label = f" ({self.name})" if self.name else ""
        msg = f"marks {_plural(marked, 'edge')} as bike lanes{label}, about {length_m:,.0f} m of street"
        if opened.any():
            msg += f" (opens {_plural(int(opened.sum()), 'edge')} to bicycles)"
        return dataclasses.replace(network, street=street), Change(
            self.kind, msg, {"edges_marked": marked, "edges_opened": int(opened.sum()),
                             "edges_matched": int(mask.sum())})


@dataclass(frozen=True, eq=False)
class SetCarSpeed(Modification):
    """Limit (or set) the car speed of the streets inside a polygon (``set-car-speed``).

    ``polygon``: a GeoJSON Polygon/MultiPolygon or a ring of [lon, lat]; an edge is inside when
    its midpoint is. ``speed_kmh``: the new speed; with ``only_slower`` (default) a 30 km/h zone
    slows faster edges and leaves slower ones as they are.
    """

    polygon: object
    speed_kmh: float
    only_slower: bool = True
    name: str = ""
    kind: ClassVar[str] = "set-car-speed"

    def __post_init__(self):
        object.__setattr__(self, "polygon",
                           _polygon_rings(self.polygon, kind=self.kind, field_name="polygon"))
        object.__setattr__(self, "speed_kmh",
                           _positive(self.speed_kmh, kind=self.kind, field_name="speed_kmh"))
        if not isinstance(self.only_slower, bool):
            raise ScenarioError(self.kind, "only_slower", f"expected true or false, got {self.only_slower!r}")

    def _edges(self, network: Network) -> np.ndarray:
        sg = _need_street(network, self.kind, "polygon")
        inside = edges_in_polygon(network, self.polygon) & np.isfinite(np.asarray(sg.car_time_s))
        if not inside.any():
            raise ScenarioError(self.kind, "polygon", "the polygon holds no street cars may use "
                                "(is it inside the network, with coordinates as [lon, lat]?)")
        return inside

    def validate(self, network: Network) -> None:
        self._edges(network)

    def apply(self, network: Network) -> tuple[Network, Change]:
        inside = self._edges(network)
        sg = network.street
        car = np.array(sg.car_time_s, dtype=np.float64, copy=True)
        target = np.asarray(sg.edge_length_m)[inside] / (self.speed_kmh / 3.6)
        new = np.maximum(car[inside], target) if self.only_slower else target
        changed = int((np.abs(new - car[inside]) > 1e-9).sum())
        car[inside] = new
        street = sg.with_costs(car_time_s=car)
        label = f" ({self.name})" if self.name else ""
        msg = (f"sets {self.speed_kmh:g} km/h on {_plural(int(inside.sum()), 'car edge')} inside the "
               f"polygon{label} ({changed:,} slower)")
        return dataclasses.replace(network, street=street), Change(
            self.kind, msg, {"edges_inside": int(inside.sum()), "edges_changed": changed})


@dataclass(frozen=True, eq=False)
class CloseStreet(Modification):
    """Close streets to some modes (``close-street``): inside a polygon, or OSM ways by id.

    ``modes``: WALK, BICYCLE, CAR (default all three). Closed edges cost ``inf`` for those
    modes. When walking is closed, transit footpaths through the closed streets lengthen.
    """

    polygon: object = None
    way_ids: tuple = ()
    modes: tuple = (Mode.WALK, Mode.BICYCLE, Mode.CAR)
    name: str = ""
    kind: ClassVar[str] = "close-street"

    def __post_init__(self):
        if (self.polygon is None) == (not self.way_ids):
            raise ScenarioError(self.kind, "polygon", "give either a polygon or way_ids (OSM way ids)")
        if self.polygon is not None:
            object.__setattr__(self, "polygon",
                               _polygon_rings(self.polygon, kind=self.kind, field_name="polygon"))
        else:
            ids = _ids(self.way_ids, kind=self.kind, field_name="way_ids")
            try:
                object.__setattr__(self, "way_ids", tuple(int(str(w).removeprefix("way/")) for w in ids))
            except ValueError:
                raise ScenarioError(self.kind, "way_ids",
                                    f"OSM way ids are integers, got {list(ids)}") from None
        object.__setattr__(self, "modes", _modes(self.modes, kind=self.kind, field_name="modes"))

    def _edges(self, network: Network) -> np.ndarray:
        sg = _need_street(network, self.kind, "polygon" if self.polygon is not None else "way_ids")
        if self.polygon is not None:
            hit = edges_in_polygon(network, self.polygon)
            if not hit.any():
                raise ScenarioError(self.kind, "polygon", "the polygon holds no street (is it inside "
                                    "the network, with coordinates as [lon, lat]?)")
        else:
            way_osm = np.asarray(sg.way_osm_id)
            missing = [w for w in self.way_ids if not (way_osm == w).any()]
            if missing:
                raise ScenarioError(self.kind, "way_ids",
                                    f"unknown OSM way {missing[0]} (not in the street graph)")
            hit = np.isin(np.asarray(sg.edge_way_idx), np.flatnonzero(np.isin(way_osm, self.way_ids)))
        allowed = np.zeros(sg.n_edges, dtype=bool)
        for mode in self.modes:
            allowed |= np.isfinite(np.asarray(sg.cost_s(mode)))
        if not (hit & allowed).any():
            raise ScenarioError(self.kind, "modes", f"the selected streets are already closed to "
                                f"{', '.join(m.name for m in self.modes)}")
        return hit

    def validate(self, network: Network) -> None:
        self._edges(network)

    def apply(self, network: Network) -> tuple[Network, Change]:
        hit = self._edges(network)
        sg = network.street
        arrays, closed = {}, {}
        names = {Mode.WALK: "walk_time_s", Mode.BICYCLE: "bike_time_s", Mode.CAR: "car_time_s"}
        for mode in self.modes:
            cost = np.array(sg.cost_s(mode), dtype=np.float64, copy=True)
            closing = hit & np.isfinite(cost)
            if closing.any():
                cost[closing] = np.inf
                arrays[names[mode]] = cost
            closed[mode.name] = int(closing.sum())
        street = sg.with_costs(**arrays)
        out = dataclasses.replace(network, street=street)
        note = ""
        if Mode.WALK in self.modes and "walk_time_s" in arrays:
            tt = _walk_changed_footpaths(network, street)
            if tt is not None:
                out = dataclasses.replace(out, timetable=tt)
                note = "; transit footpaths through them lengthened"
        n_ways = int(np.unique(np.asarray(sg.edge_way_idx)[hit]).size)
        label = f" ({self.name})" if self.name else ""
        per_mode = ", ".join(f"{n:,} to {m}" for m, n in closed.items())
        msg = f"closes {_plural(int(hit.sum()), 'edge')} of {_plural(n_ways, 'way')}{label}: {per_mode}{note}"
        return out, Change(self.kind, msg, {"edges_selected": int(hit.sum()), "ways": n_ways,
                                            **{f"edges_closed_{m.lower()}": n for m, n in closed.items()}})


# ---------------------------------------------------------------------------------------------
# Scenarios and the dict form
# ---------------------------------------------------------------------------------------------
MODIFICATIONS: dict[str, type[Modification]] = {cls.kind: cls for cls in (
    CloseParking, SetParkingCapacity, ScaleParkingDemand, AdjustFrequency, RemoveRoute, RemoveStop,
    AddBikeLane, SetCarSpeed, CloseStreet)}

# Singular spellings accepted in files for list fields (facility: X reads as facilities: [X]).
_ALIASES = {"facility": "facilities", "route": "routes", "stop": "stops", "way_id": "way_ids",
            "mode": "modes"}


def modification_from_dict(spec: Mapping, index: int | None = None) -> Modification:
    """Build a modification from its dict form ({"type": "close-parking", "facility": "..."}).

    Unknown types or fields, missing fields and bad values raise ScenarioError naming them.
    """
    if not isinstance(spec, Mapping):
        raise ScenarioError("?", "type", f"a modification is a mapping with a 'type', got {spec!r}", index)
    kind = spec.get("type")
    cls = MODIFICATIONS.get(kind)
    if cls is None:
        raise ScenarioError(str(kind), "type", f"unknown modification type {kind!r}; one of "
                            f"{', '.join(MODIFICATIONS)}", index)
    fields = {f.name for f in dataclasses.fields(cls) if f.init and f.name != "edge_mask"}
    required = {f.name for f in dataclasses.fields(cls) if f.init and f.name != "edge_mask"
                and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    kwargs = {}
    for key, value in spec.items():
        if key == "type":
            continue
        name = key if key in fields else _ALIASES.get(key, key)
        if name not in fields:
            raise ScenarioError(kind, key, f"unknown field; {kind} takes {', '.join(sorted(fields))}", index)
        kwargs[name] = value
    missing = sorted(required - set(kwargs))
    if missing:
        raise ScenarioError(kind, missing[0], "missing", index)
    try:
        return cls(**kwargs)
    except ScenarioError as exc:
        raise exc.at(index) if index is not None else exc from None


@dataclass(frozen=True, eq=False)
class Scenario:
    """A named, ordered list of modifications."""

    modifications: tuple
    name: str = ""

    def __post_init__(self):
        mods = tuple(self.modifications)
        for i, m in enumerate(mods):
            if not isinstance(m, Modification):
                raise ScenarioError("?", "type", f"not a modification: {m!r}", i)
        object.__setattr__(self, "modifications", mods)

    @classmethod
    def from_dicts(cls, specs: Sequence[Mapping], name: str = "") -> Scenario:
        if isinstance(specs, Mapping) or isinstance(specs, str):
            raise ScenarioError("?", "modifications", "expected a list of modifications")
        return cls(tuple(modification_from_dict(s, i) for i, s in enumerate(specs)), name=name)

    def apply(self, network: Network) -> tuple[Network, list[Change]]:
        """Validate and apply each modification in order, each on the result of the previous one.

        Returns the modified network (sharing every unchanged array with ``network``) and the
        changes. Raises ScenarioError with the failing modification's index.
        """
        changes = []
        for i, mod in enumerate(self.modifications):
            try:
                network, change = mod.apply(network)
            except ScenarioError as exc:
                raise exc.at(i) from None
            changes.append(change)
        meta = dict(network.metadata)
        meta["scenario"] = {"name": self.name, "changes": [c.message for c in changes]}
        return dataclasses.replace(network, metadata=meta), changes


__all__ = [
    "ScenarioError", "Change", "Modification", "CloseParking", "SetParkingCapacity",
    "ScaleParkingDemand", "AdjustFrequency", "RemoveRoute", "RemoveStop", "AddBikeLane",
    "SetCarSpeed", "CloseStreet", "Scenario", "MODIFICATIONS", "modification_from_dict",
    "reshape_profile", "refit_profile", "rebuild_timetable", "rebuild_footpaths", "points_in_polygon",
    "edges_in_polygon", "parse_time_s", "line_index", "facility_indices", "CAR_KINDS",
]
