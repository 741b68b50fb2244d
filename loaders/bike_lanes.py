"""Bike lanes from GeoJSON, matched onto the street graph's edges (``edge_is_bike_lane``).

A city's cycle network is often published apart from OSM, as GeoJSON LineStrings with a status
(built, planned...) and a type (two-way track, lane on each side, greenway...). This module reads
such files, keeps the lanes of the wanted statuses, and flags every street edge that runs along a
kept lane:

* both end points and the midpoint of the edge lie within ``max_distance_m`` of a lane (lanes are
  drawn on the carriageway's side or centre, a few metres from OSM's centre line), and
* the edge is roughly parallel to the lane there (angle below ``max_angle_deg``), so crossing
  streets, whose short stubs at a junction may lie close to the lane, are not flagged;
* no other edge passing these tests is clearly nearer to the lane there (by more than
  ``_NEAREST_TOLERANCE_M``): a lane beside a boulevard does not also flag a slip road a few metres
  farther. A lane drawn *between* two parallel ways (a carriageway and its service road 6 m
  apart) is equally near both and flags both: geometry alone cannot tell them apart.

The test ignores the edge's direction: a lane drawn once serves both directions of a two-way
street (a ``bidirectionnelle`` track is drawn once; so is a ``bilaterale`` pair of lanes), so both
directed edges get the flag. Only edges that bicycles may use (finite ``bike_time_s``) are flagged:
the flag says a lane serves this direction of travel, it never grants access (the OSM loader
decides who may ride where, contraflows included). Flags already set (OSM cycleways) are kept.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
import shapely.errors
import shapely.geometry

from engine.model import StreetGraph
from loaders.report import BuildReport, LoaderError

MAX_DISTANCE_M = 12.0
"""An edge's end points and midpoint must lie this close to a lane (metres)."""

MAX_ANGLE_DEG = 30.0
"""An edge must be this close to parallel to the lane (degrees, direction ignored)."""

_TANGENT_HALF_M = 5.0          # the lane's direction is taken over +-5 m around the edge's midpoint
_MIN_EDGE_FOR_ANGLE_M = 2.0    # shorter edges have no reliable direction: distance alone decides
_NEAREST_TOLERANCE_M = 2.0     # ways this much farther from a lane than the nearest one are not on it
_BBOX_MARGIN_DEG = 0.01        # about 1 km: lanes slightly past the extract still count as inside

_LINE_TYPES = ("LineString", "MultiLineString")


@dataclass(frozen=True)
class BikeLaneSummary:
    """What :func:`mark_bike_lanes` read and marked."""

    files_read: int
    features_read: int
    features_kept: int
    features_skipped: dict = field(default_factory=dict)   # reason -> number of features
    features_outside_streets: int = 0   # kept lanes with no point inside the street graph's bbox
    kept_length_m: float = 0.0          # length of the kept lanes (metres, local projection)
    edges_matched: int = 0              # edges found along a kept lane
    edges_newly_marked: int = 0         # of those, edges not flagged before (e.g. by OSM tags)
    edges_bike_lane_total: int = 0      # edges flagged after marking


def _expand_paths(paths) -> list[Path]:
    out: list[Path] = []
    for p in [paths] if isinstance(paths, str | Path) else paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir()
                              if q.suffix.lower() in (".json", ".geojson") and q.is_file()))
        else:
            out.append(p)
    return out


def _features_of(doc, file: str) -> list:
    if isinstance(doc, dict):
        kind = doc.get("type")
        if kind == "FeatureCollection" and isinstance(doc.get("features"), list):
            return doc["features"]
        if kind == "Feature":
            return [doc]
        if kind in _LINE_TYPES or kind in ("Point", "MultiPoint", "Polygon", "MultiPolygon",
                                           "GeometryCollection"):
            return [{"type": "Feature", "properties": {}, "geometry": doc}]
    raise LoaderError.of("invalid_geojson", "expected a GeoJSON FeatureCollection, Feature or "
                         "geometry", file=file)


def _check_coordinates(xy: np.ndarray, file: str, index: int, n_features: int,
                       bbox: tuple | None) -> bool:
    """Raise LoaderError unless ``xy`` are WGS84 (lon, lat); return whether any lies in ``bbox``.

    Rules, in order: non-finite values, or values beyond +-180, are projected coordinates
    (metres); a second value beyond +-90 with a first one within +-90 is (lat, lon) order; with a
    street bbox, a lane wholly outside it whose swapped coordinates fall inside it is (lat, lon).
    """
    where = dict(file=file, row=index + 1, column="geometry")
    name = f"feature {index + 1} of {n_features} (index {index})"
    x, y = xy[:, 0], xy[:, 1]
    if not np.isfinite(xy).all():
        raise LoaderError.of("invalid_coordinates", f"{name}: non-finite coordinates", **where)
    if (np.abs(x) > 180).any() or (np.abs(y) > 180).any():
        raise LoaderError.of("invalid_coordinates", f"{name}: coordinates like "
                             f"({x[0]:.6g}, {y[0]:.6g}) are not WGS84 degrees (projected metres?); "
                             "GeoJSON needs longitude, latitude (EPSG:4326)", **where)
    if (np.abs(y) > 90).any():
        hint = ("they look like (latitude, longitude): GeoJSON wants longitude first"
                if (np.abs(x) <= 90).all() else "latitudes beyond 90 degrees")
        raise LoaderError.of("invalid_coordinates", f"{name}: second coordinate "
                             f"{y[np.abs(y) > 90][0]:.6g} is not a latitude; {hint}", **where)
    if bbox is None:
        return True
    lo_x, lo_y, hi_x, hi_y = (bbox[0] - _BBOX_MARGIN_DEG, bbox[1] - _BBOX_MARGIN_DEG,
                              bbox[2] + _BBOX_MARGIN_DEG, bbox[3] + _BBOX_MARGIN_DEG)
    inside = (x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y)
    if inside.any():
        return True
    swapped = (y >= lo_x) & (y <= hi_x) & (x >= lo_y) & (x <= hi_y)
    if swapped.mean() > 0.5:
        raise LoaderError.of("invalid_coordinates", f"{name}: coordinates like ({x[0]:.6f}, "
                             f"{y[0]:.6f}) fall inside the street network only when read as "
                             "(latitude, longitude): GeoJSON wants longitude first", **where)
    return False


def read_bike_lanes(paths, report: BuildReport, *, status_property: str | None = "status",
                    statuses=("done",), keep_missing_status: bool = True,
                    bbox: tuple | None = None) -> pd.DataFrame:
    """Every feature of GeoJSON files (FeatureCollection, Feature or bare geometry), one row each.

    ``paths`` are files or folders (their ``.json``/``.geojson`` files, sorted). Columns: ``file``,
    ``feature_index`` (0-based in its file), ``status`` and ``type`` (the properties of those
    names, '' when absent), ``properties`` (dict, all of them), ``geometry_type``, ``geometry``
    (shapely, WGS84, None when null), ``kept`` (bool), ``skip_reason`` ('' when kept) and
    ``inside`` (bool: some point lies in ``bbox``; True without a bbox).

    A feature is kept when it is a (Multi)LineString and its ``status_property`` value is in
    ``statuses`` (``statuses=None`` or ``status_property=None`` keep every status). A feature
    without the status property is kept with a ``missing_status`` warning when
    ``keep_missing_status`` (a lane published without status is taken as built), else skipped.
    Skipped features (other statuses, null or non-line geometries, unreadable geometries) are
    counted in the report's drops; other statuses are not an error.

    Raises LoaderError naming the file: ``missing_required_file``, ``invalid_json``,
    ``invalid_geojson``, and ``invalid_coordinates`` with the feature's index when coordinates are
    not WGS84 (lon, lat): projected metres, or (lat, lon) order (see ``_check_coordinates``;
    the bbox test needs ``bbox`` = (min_lon, min_lat, max_lon, max_lat) of the streets).
    """
    wanted = None if statuses is None or status_property is None else {str(s) for s in statuses}
    rows = []
    for path in _expand_paths(paths):
        file = path.name
        features = _features_of(_read_json(path), file)
        for i, feat in enumerate(features):
            rows.append(_feature_row(feat, i, file, len(features), report,
                                     status_property=status_property, wanted=wanted,
                                     keep_missing_status=keep_missing_status, bbox=bbox))
    df = pd.DataFrame(rows, columns=["file", "feature_index", "status", "type", "properties",
                                     "geometry_type", "geometry", "kept", "skip_reason", "inside"])
    for reason, n in df.loc[~df["kept"], "skip_reason"].value_counts().items():
        report.drop("bike lane features", str(reason), int(n))
    return df


def _read_json(path: Path):
    """The parsed JSON of one file (UTF-8, BOM allowed); LoaderError naming the file otherwise."""
    file = path.name
    if not path.is_file():
        raise LoaderError.of("missing_required_file", f"{path}: no such file", file=str(path))
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise LoaderError.of("invalid_encoding", f"not UTF-8 text ({exc.reason})",
                             file=file) from None
    except json.JSONDecodeError as exc:
        raise LoaderError.of("invalid_json", f"invalid JSON at line {exc.lineno} column "
                             f"{exc.colno}: {exc.msg}", file=file) from None


def _feature_row(feat, i: int, file: str, n_features: int, report: BuildReport, *,
                 status_property: str | None, wanted: set[str] | None, keep_missing_status: bool,
                 bbox: tuple | None) -> dict:
    """One row of :func:`read_bike_lanes` for feature ``i`` of ``file``: kept, or why skipped."""
    props = feat.get("properties") if isinstance(feat, dict) else None
    props = props if isinstance(props, dict) else {}
    geom_json = feat.get("geometry") if isinstance(feat, dict) else None
    status = props.get(status_property) if status_property else None
    row = dict(file=file, feature_index=i,
               status="" if status is None else str(status),
               type="" if props.get("type") is None else str(props.get("type")),
               properties=props, geometry_type="", geometry=None, kept=False,
               skip_reason="", inside=True)
    if not isinstance(geom_json, dict):
        row["skip_reason"] = "null geometry"
        return row
    row["geometry_type"] = str(geom_json.get("type", ""))
    if row["geometry_type"] not in _LINE_TYPES:
        row["skip_reason"] = f"not a line ({row['geometry_type'] or 'no type'})"
        return row
    try:
        geom = shapely.geometry.shape(geom_json)
        xy = shapely.get_coordinates(geom)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError,
            shapely.errors.GEOSException) as exc:
        report.warn("invalid_geometry", f"feature {i}: unreadable {row['geometry_type']} "
                    f"({exc}): skipped", file=file, row=i + 1, column="geometry")
        row["skip_reason"] = "invalid geometry"
        return row
    if geom.is_empty or xy.shape[0] < 2:
        row["skip_reason"] = "empty geometry"
        return row
    row["inside"] = _check_coordinates(xy, file, i, n_features, bbox)
    row["geometry"] = geom
    if wanted is not None:
        if status is None:
            if not keep_missing_status:
                row["skip_reason"] = f"no {status_property}"
                return row
            report.warn("missing_status", f"feature {i} has no {status_property!r} "
                        "property: kept as a built lane", file=file, row=i + 1,
                        column=status_property)
        elif str(status) not in wanted:
            row["skip_reason"] = f"{status_property} {status}"
            return row
    row["kept"] = True
    return row


def edges_along_lines(street: StreetGraph, lines_lonlat, *, max_distance_m: float = MAX_DISTANCE_M,
                      max_angle_deg: float = MAX_ANGLE_DEG, bike_edges_only: bool = True
                      ) -> np.ndarray:
    """Bool mask over ``street``'s edges: the edges that run along one of the lines.

    ``lines_lonlat`` are shapely (Multi)LineStrings in WGS84. An edge runs along the lines when its
    tail, head and midpoint each lie within ``max_distance_m`` of a line, for edges of 2 m or
    more its direction is within ``max_angle_deg`` of the nearest line's direction at the
    midpoint (either way along it), and no other such edge is more than 2 m nearer to the line
    point facing its midpoint. With ``bike_edges_only`` only edges with a finite ``bike_time_s``
    qualify.
    """
    m = street.n_edges
    out = np.zeros(m, dtype=bool)
    parts = [p for g in lines_lonlat if g is not None
             for p in shapely.get_parts(np.asarray([g], dtype=object)).tolist()
             if not p.is_empty]
    if not parts or m == 0:
        return out
    proj = street.projection

    def to_xy(coords: np.ndarray) -> np.ndarray:
        x, y = proj.to_xy_m(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    lanes = np.asarray([shapely.transform(p, to_xy) for p in parts], dtype=object)
    tree = shapely.STRtree(lanes)
    candidates = np.flatnonzero(np.isfinite(street.bike_time_s)) if bike_edges_only \
        else np.arange(m)
    if candidates.size == 0:
        return out
    tail, head = street.edge_tail[candidates], street.indices[candidates]
    ax, ay = street.node_x_m[tail], street.node_y_m[tail]
    bx, by = street.node_x_m[head], street.node_y_m[head]
    k = candidates.size
    points = shapely.points(np.concatenate([ax, bx, (ax + bx) / 2]),
                            np.concatenate([ay, by, (ay + by) / 2]))
    hits = tree.query_nearest(points, max_distance=max_distance_m, all_matches=False)
    near = np.zeros(3 * k, dtype=bool)
    near[hits[0]] = True
    lane_of_point = np.full(3 * k, -1, dtype=np.int64)
    lane_of_point[hits[0]] = hits[1]
    ok = near[:k] & near[k:2 * k] & near[2 * k:]
    sel = np.flatnonzero(ok)
    if sel.size == 0:
        return out
    lane = lanes[lane_of_point[2 * k + sel]]
    mid = points[2 * k + sel]
    s = shapely.line_locate_point(lane, mid)
    length = shapely.length(lane)
    p0 = shapely.line_interpolate_point(lane, np.clip(s - _TANGENT_HALF_M, 0, length))
    p1 = shapely.line_interpolate_point(lane, np.clip(s + _TANGENT_HALF_M, 0, length))
    lx, ly = shapely.get_x(p1) - shapely.get_x(p0), shapely.get_y(p1) - shapely.get_y(p0)
    ex, ey = (bx - ax)[sel], (by - ay)[sel]
    e_len, l_len = np.hypot(ex, ey), np.hypot(lx, ly)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.abs(ex * lx + ey * ly) / (e_len * l_len)
    along = (cos >= math.cos(math.radians(max_angle_deg))) | (e_len < _MIN_EDGE_FOR_ANGLE_M) \
        | (l_len == 0)
    if not along.any():
        return out
    # Where several parallel ways run beside a lane (a slip road, a service road, the other
    # carriageway), the lane belongs to the nearest: each edge is measured from the lane point
    # facing its midpoint, and kept only if no other edge along a lane is clearly nearer there.
    sel, lane, s = sel[along], lane[along], s[along]
    facing = shapely.line_interpolate_point(lane, s)
    segments = shapely.linestrings(np.stack([np.column_stack([ax[sel], ay[sel]]),
                                             np.column_stack([bx[sel], by[sel]])], axis=1))
    own = shapely.distance(facing, segments)
    pairs, dist = shapely.STRtree(segments).query_nearest(facing, return_distance=True,
                                                          all_matches=False)
    nearest = np.full(sel.size, np.inf)
    nearest[pairs[0]] = dist
    out[candidates[sel[own <= nearest + _NEAREST_TOLERANCE_M]]] = True
    return out


def mark_bike_lanes(street: StreetGraph, paths, report: BuildReport, *,
                    status_property: str | None = "status", statuses=("done",),
                    max_distance_m: float = MAX_DISTANCE_M, max_angle_deg: float = MAX_ANGLE_DEG,
                    keep_missing_status: bool = True, bike_edges_only: bool = True
                    ) -> tuple[StreetGraph, BikeLaneSummary]:
    """Flag the street edges that run along the kept lanes of GeoJSON files.

    Reads ``paths`` with :func:`read_bike_lanes` (statuses filtered, coordinates checked against
    the street graph's bbox), matches the kept lanes with :func:`edges_along_lines`, and returns
    ``street.with_costs(edge_is_bike_lane=old | matched)`` (a copy sharing the topology; costs and
    permissions are unchanged) and a :class:`BikeLaneSummary`. Lanes wholly outside the street
    graph are counted and reported (``bike_lanes_outside_streets``), not an error.

    Raises LoaderError as :func:`read_bike_lanes` does.
    """
    bbox = None
    if street.n_nodes:
        bbox = (float(street.node_lon.min()), float(street.node_lat.min()),
                float(street.node_lon.max()), float(street.node_lat.max()))
    files = _expand_paths(paths)
    lanes = read_bike_lanes(files, report, status_property=status_property, statuses=statuses,
                            keep_missing_status=keep_missing_status, bbox=bbox)
    kept = lanes[lanes["kept"]]
    outside = int((~kept["inside"]).sum())
    if outside:
        first = kept[~kept["inside"]].iloc[0]
        report.warn("bike_lanes_outside_streets", f"{outside} kept bike lanes lie wholly outside "
                    f"the street network (e.g. feature {int(first['feature_index'])}): they mark "
                    "nothing", file=str(first["file"]), count=outside)
    geoms = kept.loc[kept["inside"], "geometry"].tolist()
    matched = edges_along_lines(street, geoms, max_distance_m=max_distance_m,
                                max_angle_deg=max_angle_deg, bike_edges_only=bike_edges_only)
    before = np.asarray(street.edge_is_bike_lane, dtype=bool)
    flags = before | matched
    length_m = 0.0
    if len(kept) and street.n_nodes:
        proj = street.projection

        def to_xy(coords: np.ndarray) -> np.ndarray:
            x, y = proj.to_xy_m(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        length_m = float(sum(shapely.length(shapely.transform(g, to_xy))
                             for g in kept["geometry"]))
    skipped = {str(k): int(v) for k, v in
               lanes.loc[~lanes["kept"], "skip_reason"].value_counts().items()}
    summary = BikeLaneSummary(
        files_read=len(files), features_read=len(lanes), features_kept=len(kept),
        features_skipped=skipped, features_outside_streets=outside, kept_length_m=length_m,
        edges_matched=int(matched.sum()), edges_newly_marked=int((matched & ~before).sum()),
        edges_bike_lane_total=int(flags.sum()))
    return street.with_costs(edge_is_bike_lane=flags), summary
