"""Reading an OpenStreetMap file (.osm, .osm.bz2, .osm.gz, .osm.pbf) with pyosmium: the raw
routable ways, parking features and relations that the graph and the car parks are built from.

Why pyosmium and not ``osmnx.graph_from_xml``
--------------------------------------------
The issue suggests osmnx for the graph and pyosmium where osmnx cannot read the format. We read
every format with pyosmium (``osmium.FileProcessor``) instead, for these reasons, checked against
osmnx 2.1's source:

* ``graph_from_xml`` keeps *every* way of the file as edges (buildings, fences, parking lots...),
  not only highways, and keeps every node; we would have to filter its output anyway.
* Its edge directions follow one car-centric ``oneway`` rule (``yes/true/1/-1/reverse`` and
  roundabouts; no motorway implication, no ``oneway:bicycle``, no contraflow lanes) and it adds
  reversed edges for two-way ways. We need three per-mode directions per segment, so we would
  rebuild the edges from the raw ways and nodes in any case: osmnx would only be an XML parser.
* It parses the XML twice (ElementTree, then SAX into a Python dict of every element) and builds
  a networkx graph: 0.7 s for Monaco's XML unsimplified, where this whole loader takes about
  0.2 s (PBF or XML). pyosmium also reads PBF natively and gives the relations, so multipolygon
  car parks are found (osmnx's XML reader drops relations).
* One reader for all formats gives the same result for the same data by construction (the tests
  check it, and check our segments, lengths and car directions against ``osmnx.graph_from_xml``
  as an oracle on Monaco).

Two passes: relations first (multipolygon facilities and their member ways, turn restrictions),
then nodes and ways with a node-location cache. pyosmium's area assembler is not used: it builds a
polygon for every closed way (every building) and needs id-sorted input, which hand-edited files
are often not; the few facility multipolygons are assembled with shapely instead.

The file's format is sniffed from its first bytes (XML, bzip2, gzip, PBF), not from its name, so a
renamed GTFS zip or an empty file gets a clear :class:`~loaders.report.LoaderError` instead of a
parser traceback.
"""
from __future__ import annotations

import bz2
import gzip
from collections import Counter
from pathlib import Path

import numpy as np
import osmium
import shapely

from loaders.osm.rules import HIGHWAY_CLASSES
from loaders.report import LoaderError

_PBF_MAGIC = b"OSMHeader"


def _sniff_format(path: Path) -> str:
    """The osmium format name of a file from its first bytes; LoaderError when it is not OSM."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as exc:
        raise LoaderError.of("osm_unreadable", f"cannot read the file: {exc.strerror or exc}",
                             file=name) from None
    if not head:
        raise LoaderError.of("osm_unreadable", "the file is empty, expected OpenStreetMap data "
                             "(.osm, .osm.bz2 or .osm.pbf)", file=name)
    if head.startswith(b"BZh"):
        inner, fmt = _peek_compressed(path, bz2.open), "osm.bz2"
    elif head.startswith(b"\x1f\x8b"):
        inner, fmt = _peek_compressed(path, gzip.open), "osm.gz"
    elif _PBF_MAGIC in head[:32]:
        return "pbf"
    else:
        inner, fmt = head, "osm"
    if inner is None:
        raise LoaderError.of("osm_unreadable", "the compressed file is corrupt or truncated",
                             file=name)
    text = inner.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<?xml") or text.startswith(b"<osm"):
        return fmt
    if head.startswith(b"PK\x03\x04"):
        what = "a ZIP archive (a GTFS feed?)"
    else:
        what = "neither OSM XML nor OSM PBF"
    raise LoaderError.of("osm_unreadable", f"the file is {what}, not OpenStreetMap data "
                         "(.osm, .osm.bz2 or .osm.pbf)", file=name)


def _peek_compressed(path: Path, opener) -> bytes | None:
    try:
        with opener(path, "rb") as f:
            return f.read(64)
    except (OSError, EOFError, ValueError):
        return None


class _Collected:
    """Raw material gathered by the two passes over the file."""

    def __init__(self) -> None:
        self.way_ids: list[int] = []
        self.way_tags: list[dict[str, str]] = []
        self.way_refs: list[np.ndarray] = []
        self.way_lon: list[np.ndarray] = []
        self.way_lat: list[np.ndarray] = []
        self.unroutable: Counter = Counter()          # highway value -> ways
        self.facilities: list[dict] = []              # candidate facility records
        self.entrances: list[dict] = []               # parking entrance nodes
        self.n_restrictions = 0
        self.n_highway_relations = 0                  # multipolygon highway areas (not routed)
        self.n_facility_without_geometry = 0


def _facility_amenity(tags) -> tuple[str | None, bool]:
    """(facility family, is_entrance) from an ``amenity`` value (``;`` lists allowed)."""
    values = {v.strip().lower() for v in tags.get("amenity", "").split(";")}
    family = None
    for amenity in ("parking", "bicycle_parking", "bicycle_rental"):
        if amenity in values:
            family = amenity
            break
    return family, "parking_entrance" in values


def _way_coords(way) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(node ids, lon, lat) of a way read with locations; NaN where a node is missing."""
    nodes = way.nodes
    refs = np.fromiter((n.ref for n in nodes), np.int64, len(nodes))
    locs = [n.location for n in nodes]
    lon = np.array([loc.lon if loc.valid() else np.nan for loc in locs], dtype=np.float64)
    lat = np.array([loc.lat if loc.valid() else np.nan for loc in locs], dtype=np.float64)
    return refs, lon, lat


def _centroid(lon: np.ndarray, lat: np.ndarray, closed: bool) -> tuple[float, float] | None:
    """Centroid of a way's geometry (polygon when closed, else line or point); None if unlocated."""
    ok = np.isfinite(lon)
    if not ok.any():
        return None
    coords = np.column_stack([lon[ok], lat[ok]])
    if closed and len(coords) >= 4 and ok.all():
        geom = shapely.Polygon(coords)
        if geom.area == 0.0:
            geom = shapely.MultiPoint(coords)
    elif len(coords) >= 2:
        geom = shapely.LineString(coords)
    else:
        geom = shapely.Point(coords[0])
    centre = geom.centroid
    return centre.x, centre.y


class _MemberWays:
    """Handler for ways the tag filter left out: keeps the members of multipolygon facilities."""

    def __init__(self, wanted: set[int], store: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
        self.wanted = wanted
        self.store = store

    def way(self, way) -> None:
        if way.id in self.wanted:
            _, lon, lat = _way_coords(way)
            self.store[way.id] = (lon, lat)


def _read(path: Path, fmt: str) -> _Collected:
    """Two pyosmium passes: relations (facility multipolygons, turn restrictions), then nodes and
    ways with their locations (routable ways, parking features, multipolygon members).

    No area assembler: it would build a polygon for every closed way (buildings...) and requires
    id-sorted input, which hand-edited files (JOSM) often are not.
    """
    out = _Collected()
    relations = _read_relations(path, fmt, out)
    wanted = {ref for *_, members in relations for ref, _ in members}
    member_coords: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    processor = (osmium.FileProcessor(osmium.io.File(str(path), fmt),
                                      osmium.osm.NODE | osmium.osm.WAY)
                 .with_locations()
                 .with_filter(osmium.filter.KeyFilter("highway", "amenity")))
    if wanted:
        processor.handler_for_filtered(_MemberWays(wanted, member_coords))
    for obj in processor:
        if obj.is_way():
            _collect_way(obj, out, wanted, member_coords)
        elif obj.is_node():
            _collect_node(obj, out)

    for rel_id, tags, family, members in relations:
        centre = _multipolygon_centroid(members, member_coords)
        if centre is None:
            out.n_facility_without_geometry += 1
        else:
            out.facilities.append(_facility_record("relation", rel_id, tags, family, *centre))
    return out


def _read_relations(path: Path, fmt: str, out: _Collected
                    ) -> list[tuple[int, dict, str, list[tuple[int, str]]]]:
    """First pass: counts turn restrictions and highway areas in ``out``; returns the facility
    multipolygons as (relation id, tags, facility family, [(member way id, role)])."""
    relations: list[tuple[int, dict, str, list[tuple[int, str]]]] = []
    for rel in (osmium.FileProcessor(osmium.io.File(str(path), fmt), osmium.osm.RELATION)
                .with_filter(osmium.filter.KeyFilter("type"))):
        kind = rel.tags.get("type", "")
        if kind.startswith("restriction"):
            out.n_restrictions += 1
        elif kind == "multipolygon" and "highway" in rel.tags:
            out.n_highway_relations += 1
        if kind == "multipolygon":
            family, _ = _facility_amenity(rel.tags)
            if family is not None:
                members = [(m.ref, m.role) for m in rel.members if m.type == "w"]
                relations.append((rel.id, dict(rel.tags), family, members))
    return relations


def _collect_way(way, out: _Collected, wanted: set[int],
                 member_coords: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
    """Keeps a way (read with locations) that is routable, a facility or a wanted multipolygon
    member; counts the unroutable highway values."""
    tags = way.tags
    highway = tags.get("highway")
    family, _ = _facility_amenity(tags)
    routable = highway is not None and highway.strip().lower() in HIGHWAY_CLASSES
    if highway is not None and not routable:
        out.unroutable[highway.strip().lower()] += 1
    if not (routable or family or way.id in wanted):
        return
    refs, lon, lat = _way_coords(way)
    if way.id in wanted:
        member_coords[way.id] = (lon, lat)
    if routable:
        out.way_ids.append(way.id)
        out.way_tags.append(dict(tags))
        out.way_refs.append(refs)
        out.way_lon.append(lon)
        out.way_lat.append(lat)
    if family is not None:
        centre = _centroid(lon, lat, way.is_closed())
        if centre is None:
            out.n_facility_without_geometry += 1
        else:
            out.facilities.append(_facility_record("way", way.id, dict(tags), family, *centre))


def _collect_node(node, out: _Collected) -> None:
    """Keeps a located parking facility or parking entrance node."""
    family, is_entrance = _facility_amenity(node.tags)
    if family is None and not is_entrance:
        return
    if not node.location.valid():
        out.n_facility_without_geometry += 1
        return
    tags = dict(node.tags)
    if family is not None:
        out.facilities.append(_facility_record("node", node.id, tags, family,
                                               node.location.lon, node.location.lat))
    if is_entrance:
        out.entrances.append({"id": node.id, "tags": tags, "lon": node.location.lon,
                              "lat": node.location.lat})


def _multipolygon_centroid(members: list[tuple[int, str]],
                           coords: dict[int, tuple[np.ndarray, np.ndarray]]
                           ) -> tuple[float, float] | None:
    """Centroid of a multipolygon from its member ways: outer rings minus inner rings.

    Falls back to the centroid of the member lines when the rings do not close (incomplete
    extract); None when no member way has a located node.
    """
    lines = {"outer": [], "inner": []}
    for ref, role in members:
        if ref not in coords:
            continue
        lon, lat = coords[ref]
        ok = np.isfinite(lon)
        if ok.sum() >= 2:
            lines["inner" if role == "inner" else "outer"].append(
                shapely.LineString(np.column_stack([lon[ok], lat[ok]])))
    if not lines["outer"]:
        return None
    outer = shapely.union_all(shapely.get_parts(shapely.polygonize(lines["outer"])))
    if outer.is_empty or outer.area == 0.0:
        centre = shapely.MultiLineString(lines["outer"]).centroid
    else:
        if lines["inner"]:
            inner = shapely.union_all(shapely.get_parts(shapely.polygonize(lines["inner"])))
            if not inner.is_empty:
                outer = outer.difference(inner)
        centre = outer.centroid
    return centre.x, centre.y


def _facility_record(osm_type: str, osm_id: int, tags: dict, family: str, lon: float,
                     lat: float) -> dict:
    return {"osm_type": osm_type, "osm_id": osm_id, "tags": tags, "family": family,
            "lon": float(lon), "lat": float(lat)}

