"""Parking facilities tagged in an OSM extract (car parks, park and rides, bicycle parking and
rental), with the entrance cars use.

``amenity=parking`` nodes, ways (closed: polygon centroid; open: line centroid) and multipolygon
relations (area centroid); ``amenity=bicycle_parking`` and ``amenity=bicycle_rental`` likewise.
A ``;`` list such as ``amenity=parking;fuel`` counts. Kind: ``park_ride`` other than ``no`` ->
``park_and_ride``; ``parking=street_side|lane|on_street|on_kerb|half_on_kerb|shoulder`` ->
``on_street``; otherwise ``car_park``; bicycle parking -> ``bike_parking``; bicycle rental ->
``bike_share``. Facilities with ``access=private|no`` are dropped and counted
(``access=customers`` stays). Unnamed ones get a generated name ("Parking (OSM node 123)").
``capacity``: see :func:`parse_capacity` (NaN when missing or unreadable, with a warning).
``amenity=parking_entrance`` nodes (not private) attach to the nearest ``car_park`` or
``park_and_ride`` within ``ENTRANCE_MAX_DISTANCE_M``; a car park keeps its nearest entrance as
the place cars enter (``entrance_lon``/``entrance_lat``, NaN when it has none); the other
entrances are counted in the report.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.spatial

from engine.model import LocalProjection, haversine_m
from loaders.osm.reading import _Collected
from loaders.osm.tags import _first_value, parse_capacity
from loaders.report import BuildReport

ENTRANCE_MAX_DISTANCE_M = 150.0
"""A parking entrance further than this from every car park belongs to none."""

FACILITY_COLUMNS = ("facility_id", "name", "kind", "lon", "lat", "capacity", "entrance_lon",
                    "entrance_lat", "source")
"""Columns of :attr:`OsmExtract.facilities`, in order."""

_ON_STREET_PARKING = frozenset({"street_side", "lane", "on_street", "on_kerb", "half_on_kerb",
                                "shoulder"})


_KIND_LABEL = {"car_park": "Parking", "park_and_ride": "Park and ride", "on_street": "Parking",
               "bike_parking": "Bicycle parking", "bike_share": "Bike share station"}


def _facility_kind(family: str, tags: Mapping[str, str]) -> str:
    if family == "bicycle_parking":
        return "bike_parking"
    if family == "bicycle_rental":
        return "bike_share"
    park_ride = _first_value(tags, "park_ride")
    if park_ride is not None and park_ride != "no":
        return "park_and_ride"
    if _first_value(tags, "parking") in _ON_STREET_PARKING:
        return "on_street"
    return "car_park"


def _build_facilities(raw: _Collected, report: BuildReport, file: str) -> pd.DataFrame:
    rows = []
    type_order = {"node": 0, "way": 1, "relation": 2}
    n_private = Counter()
    for rec in sorted(raw.facilities, key=lambda r: (type_order[r["osm_type"]], r["osm_id"])):
        tags = rec["tags"]
        kind = _facility_kind(rec["family"], tags)
        if _first_value(tags, "access") in ("private", "no"):
            n_private[kind] += 1
            continue
        capacity = math.nan
        if "capacity" in tags:
            try:
                capacity = parse_capacity(tags["capacity"])
            except ValueError as exc:
                report.warn("invalid_capacity", f"{rec['osm_type']} {rec['osm_id']}: {exc}; "
                            "capacity unknown", file=file, column="capacity")
        where = f"OSM {rec['osm_type']} {rec['osm_id']}"
        rows.append({
            "facility_id": f"osm:{rec['osm_type']}/{rec['osm_id']}",
            "name": (tags.get("name") or "").strip() or f"{_KIND_LABEL[kind]} ({where})",
            "kind": kind, "lon": rec["lon"], "lat": rec["lat"], "capacity": capacity,
            "entrance_lon": math.nan, "entrance_lat": math.nan, "source": "osm",
        })
    for kind, n in sorted(n_private.items()):
        report.drop(f"parking facilities ({kind})", "access=private or access=no", n)
    report.drop("parking facilities", "no located node", raw.n_facility_without_geometry)
    frame = pd.DataFrame(rows, columns=list(FACILITY_COLUMNS))
    frame = frame.astype({"facility_id": str, "name": str, "kind": str, "lon": float, "lat": float,
                          "capacity": float, "entrance_lon": float, "entrance_lat": float,
                          "source": str})
    _attach_entrances(frame, raw.entrances, report)
    return frame


def _attach_entrances(frame: pd.DataFrame, entrances: list[dict], report: BuildReport) -> None:
    """Give each car park its nearest entrance within ENTRANCE_MAX_DISTANCE_M (in place)."""
    public = [e for e in entrances if _first_value(e["tags"], "access") not in ("private", "no")]
    report.drop("parking_entrance nodes", "access=private or access=no",
                len(entrances) - len(public))
    car_rows = np.flatnonzero(frame["kind"].isin(["car_park", "park_and_ride"]).to_numpy())
    if not public:
        return
    if car_rows.size == 0:
        report.drop("parking_entrance nodes", "no car park within "
                    f"{ENTRANCE_MAX_DISTANCE_M:.0f} m", len(public))
        return
    ent_lon = np.array([e["lon"] for e in public])
    ent_lat = np.array([e["lat"] for e in public])
    park_lon = frame["lon"].to_numpy()[car_rows]
    park_lat = frame["lat"].to_numpy()[car_rows]
    proj = LocalProjection.around(np.concatenate([ent_lon, park_lon]),
                                  np.concatenate([ent_lat, park_lat]))
    tree = scipy.spatial.cKDTree(np.column_stack(proj.to_xy_m(park_lon, park_lat)))
    # The projection's small scale error is absorbed by re-checking with haversine below.
    dist_m, nearest = tree.query(np.column_stack(proj.to_xy_m(ent_lon, ent_lat)), k=1,
                                 distance_upper_bound=ENTRANCE_MAX_DISTANCE_M * 1.01)
    found = np.isfinite(dist_m)
    true_m = np.full(len(public), np.inf)
    true_m[found] = haversine_m(ent_lon[found], ent_lat[found], park_lon[nearest[found]],
                                park_lat[nearest[found]])
    found &= true_m <= ENTRANCE_MAX_DISTANCE_M
    report.drop("parking_entrance nodes", f"no car park within {ENTRANCE_MAX_DISTANCE_M:.0f} m",
                int((~found).sum()))
    best: dict[int, int] = {}
    for e in np.flatnonzero(found)[np.argsort(true_m[found], kind="stable")]:
        best.setdefault(int(nearest[e]), int(e))  # nearest entrance first
    report.drop("parking_entrance nodes", "the car park has a nearer entrance (one kept per car "
                "park)", int(found.sum()) - len(best))
    if best:
        parks = np.fromiter(best.keys(), dtype=np.int64)
        ents = np.fromiter(best.values(), dtype=np.int64)
        rows = car_rows[parks]
        frame.loc[frame.index[rows], "entrance_lon"] = ent_lon[ents]
        frame.loc[frame.index[rows], "entrance_lat"] = ent_lat[ents]
