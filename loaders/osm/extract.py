"""OpenStreetMap extract -> :class:`engine.model.StreetGraph` plus the parking facilities it tags:
the loader's face, :func:`street_graph_from_osm`.

Reads ``.osm``, ``.osm.bz2``, ``.osm.gz`` and ``.osm.pbf`` files offline, for any city.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engine.model import LocalProjection, StreetGraph
from loaders.osm.car_parks import _build_facilities
from loaders.osm.graph import _build_graph
from loaders.osm.reading import _read, _sniff_format
from loaders.osm.street_parking import street_zones_from_ways
from loaders.report import BuildReport, LoaderError


@dataclass(frozen=True)
class OsmExtract:
    """What an OSM extract gives the network: the street graph and the tagged parking.

    ``facilities`` has exactly the columns :data:`FACILITY_COLUMNS`: ``facility_id``
    ("osm:node/123", "osm:way/456", "osm:relation/7"), ``name``, ``kind`` ("car_park",
    "park_and_ride", "on_street", "bike_parking", "bike_share"), ``lon``/``lat`` (degrees WGS84),
    ``capacity`` (float, NaN when unknown), ``entrance_lon``/``entrance_lat`` (where cars enter,
    NaN when no entrance is mapped), ``source`` ("osm"); rows sorted by element type and id.

    ``street_zones`` are the on-street parking zones of the streets' parking tags
    (``loaders.osm.street_parking``): facility records with the zone columns, one per way side.
    """

    street: StreetGraph
    facilities: pd.DataFrame
    street_zones: tuple = ()


def street_graph_from_osm(path, report: BuildReport, *, walk_speed_mps: float = 1.3,
                          bike_speed_mps: float = 4.5,
                          projection: LocalProjection | None = None) -> OsmExtract:
    """Read an OSM extract (.osm, .osm.bz2, .osm.gz, .osm.pbf) into a street graph and facilities.

    ``walk_speed_mps`` and ``bike_speed_mps`` (m/s, finite and > 0) set the walk and bicycle
    costs; ``projection`` the graph's local metres (default: centred on the street nodes).
    Problems that do not stop the build (unreadable maxspeed, dropped ways and facilities,
    disconnected nodes) go to ``report``; every rule is in the docstrings of ``loaders.osm.rules``
    (who may use a way), ``loaders.osm.graph`` (costs) and ``loaders.osm.car_parks``.

    Raises LoaderError ``osm_unreadable`` for a missing, empty, truncated or non-OSM file and
    ``osm_no_streets`` when the extract has no routable way; ValueError naming the parameter for
    a non-positive speed.
    """
    for name, value in (("walk_speed_mps", walk_speed_mps), ("bike_speed_mps", bike_speed_mps)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"street_graph_from_osm: {name} must be a finite speed > 0 m/s, "
                             f"got {value!r}")
    path = Path(os.fspath(path))
    file = str(path)
    if not path.is_file():
        raise LoaderError.of("osm_unreadable", "no such file" if not path.exists()
                             else "not a regular file", file=file)
    fmt = _sniff_format(path)
    try:
        raw = _read(path, fmt)
    except (RuntimeError, ValueError, OSError, EOFError) as exc:
        detail = " ".join(str(exc).split())[:300]
        raise LoaderError.of("osm_unreadable", f"cannot read the OpenStreetMap data ({fmt}): "
                             f"{detail} (is the file truncated or corrupt?)", file=file) from None

    street = _build_graph(raw, report, file, walk_speed_mps, bike_speed_mps, projection)
    facilities = _build_facilities(raw, report, file)
    zones = street_zones_from_ways(raw.way_ids, raw.way_tags, raw.way_lon, raw.way_lat, report,
                                   file)
    if raw.n_restrictions:
        report.warn("turn_restrictions_ignored", f"{raw.n_restrictions:,} turn-restriction "
                    "relations are not applied to car routing", file=file, count=raw.n_restrictions)
    return OsmExtract(street=street, facilities=facilities, street_zones=tuple(zones))

