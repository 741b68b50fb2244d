"""OpenStreetMap extract -> :class:`engine.model.StreetGraph` plus the parking facilities it tags.

Reads ``.osm``, ``.osm.bz2``, ``.osm.gz`` and ``.osm.pbf`` files offline, for any city.

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

The graph
---------
Not simplified: every node of a routable way is a graph node (``node_osm_id``), every pair of
consecutive nodes of a way is a straight segment, and each segment becomes up to two directed
edges (forward = the way's node order). Lengths are great-circle metres
(:func:`engine.model.haversine_m`). A direction exists when at least one mode may use it; the
others get ``inf``. Segments touching a node missing from the extract are dropped and counted.

Who may use a way (a simplified version of OpenTripPlanner's default way-property set)
-----------------------------------------------------------------------------------------
Class defaults by ``highway`` value (W walk, B bicycle, C car; fallback car speed in km/h):

=================================================  ===  ===  ===  ==========================
highway                                             W    B    C    car km/h (no maxspeed)
=================================================  ===  ===  ===  ==========================
motorway / motorway_link                            -    -    x    110 / 60 (implied oneway)
trunk / trunk_link                                  -    -    x    90 / 50
primary / primary_link                              x    x    x    50 / 40
secondary / secondary_link                          x    x    x    50 / 40
tertiary / tertiary_link                            x    x    x    40 / 30
unclassified, residential, road                     x    x    x    30
living_street                                       x    x    x    10
service                                             x    x    x    15
track                                               x    x    x    15
cycleway, path                                      x    x    -
pedestrian, footway, steps, corridor, platform,     x    -    -
bridleway
busway                                              -    -    -    (only mode tags open it)
anything else (construction, proposed, raceway...)  not routable: dropped, counted per value
=================================================  ===  ===  ===  ==========================

Access tags, most specific first: walk ``foot`` > ``access``; bicycle ``bicycle`` > ``vehicle`` >
``access``; car ``motorcar`` > ``motor_vehicle`` > ``vehicle`` > ``access``. Only the first of
them with a known value counts. Allowing values: ``yes designated permissive destination
delivery customers official discouraged dismount``; forbidding values: ``no private
agricultural forestry use_sidepath permit emergency military restricted``. A generic tag
(``access``, ``vehicle``) can take a mode away but not grant a mode the class forbids (so
``access=yes`` does not open a motorway to walkers); ``foot``, ``bicycle``, ``motorcar`` and
``motor_vehicle`` can grant it. ``bicycle=dismount`` (and any bicycle permission on ``steps``, or
``ramp:bicycle=yes``) means the bicycle is pushed: bike time = walk time of the edge. Without such
a tag, bicycles may not use steps (``inf``), so bike routes never climb stairs by surprise.

Directions:

* ``oneway=yes|true|1`` forward only, ``-1|reverse`` backward only, ``no|false|0`` both (this
  also cancels an implied oneway). Implied oneway: ``junction=roundabout|circular`` and
  ``highway=motorway|motorway_link``. ``oneway=reversible|alternating``: no car nor bicycle (the
  direction depends on the time). Other values: two-way, warning ``invalid_oneway``.
* The oneway applies to cars and bicycles. Bicycles: ``oneway:bicycle`` overrides it (``no`` =
  contraflow); ``cycleway=opposite|opposite_lane|opposite_track|opposite_share_busway`` and any
  cycle lane serving the opposite direction (below) also allow contraflow.
* Pedestrians walk both ways, unless ``oneway:foot`` says otherwise.
* Closed ``area=yes`` pedestrian ways: walkers follow their outline, like any other way.

Bike lanes (``edge_is_bike_lane``, only on directions bicycles may ride): ``highway=cycleway``
both ways; ``bicycle=designated`` on path, footway, pedestrian, track, bridleway both ways;
``cycleway`` / ``cycleway:both`` / ``cycleway:left`` / ``cycleway:right`` with a value among
``lane track share_busway`` (and their ``opposite_*`` forms). Direction, assuming right-hand
traffic: on a oneway road a side lane follows the traffic; on a two-way road ``right`` is forward,
``left`` backward and ``both`` / plain ``cycleway`` both; ``opposite_*`` runs against the traffic;
``cycleway:<side>:oneway`` (``yes``, ``-1``, ``no``) overrides. ``shared_lane`` (sharrows painted on
the general lane) is not a bike lane; ``share_busway`` (a bus lane open to bicycles) is.

Costs (seconds; ``inf`` = mode not allowed in that direction)
--------------------------------------------------------------
* walk: ``length / walk_speed_mps``; steps take ``STEPS_WALK_FACTOR`` (2x) as long.
* bicycle: ``length / bike_speed_mps``; pushed (see above) at walking time.
* car: ``length / (speed_kmh / 3.6 * CAR_SPEED_FACTOR)``, with ``speed_kmh`` from
  ``maxspeed:forward`` / ``maxspeed:backward``, else ``maxspeed``, else a zone tag
  (``maxspeed:type``, ``source:maxspeed``, ``zone:maxspeed``), else the class fallback above.
  ``CAR_SPEED_FACTOR = 0.8`` turns posted limits into typical driving speeds (junctions,
  lights, traffic), as OSRM's car profile does.
  :func:`parse_maxspeed_kmh` reads ``50``, ``50 mph`` (80.47 km/h), ``50 knots``, ``30;50`` (the
  lowest: the conservative reading), ``walk`` (6 km/h), country zones like ``FR:urban`` (50),
  ``FR:rural`` (80), ``RU:rural`` (90), ``DE:zone30``, ``zone:30``; ``none``, ``signals`` and
  ``variable`` fall back to the class speed; anything else (``sign``, ``0``, ``fast``) falls back
  to the class speed with an ``invalid_maxspeed`` warning.
* No cost is NaN, zero or negative: a segment between two distinct nodes at the same position
  costs ``MIN_EDGE_TIME_S`` (and is counted as ``zero_length_segment``).

Components: ``StreetGraph.from_edges`` marks each mode's largest strongly connected component;
the nodes a mode's edges reach but that component cuts are reported (``disconnected_nodes``).
Turn restrictions are not read (reported as ``turn_restrictions_ignored`` when the file has some).
Highway areas mapped as multipolygon relations (large squares) are not routed: only ways are
(the relations are counted as dropped).

Parking facilities
------------------
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

import bz2
import gzip
import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium
import pandas as pd
import scipy.spatial
import shapely

from engine.model import LocalProjection, Mode, StreetGraph, haversine_m
from loaders.report import BuildReport, LoaderError

# ---------------------------------------------------------------------------------------------
# Tunable constants (documented in the module docstring)
# ---------------------------------------------------------------------------------------------
STEPS_WALK_FACTOR = 2.0
"""Walking (or pushing a bicycle) on ``highway=steps`` takes this many times the flat time."""

CAR_SPEED_FACTOR = 0.8
"""Typical driving speed / posted (or fallback) speed limit."""

WALKING_PACE_KMH = 6.0
"""Speed of ``maxspeed=walk``."""

MIN_EDGE_TIME_S = 0.01
"""Cost of an edge between two distinct nodes at the same position (no cost is ever 0)."""

ENTRANCE_MAX_DISTANCE_M = 150.0
"""A parking entrance further than this from every car park belongs to none."""

FACILITY_COLUMNS = ("facility_id", "name", "kind", "lon", "lat", "capacity", "entrance_lon",
                    "entrance_lat", "source")
"""Columns of :attr:`OsmExtract.facilities`, in order."""

# highway -> (walk, bicycle, car, fallback car speed km/h)
HIGHWAY_CLASSES: dict[str, tuple[bool, bool, bool, float]] = {
    "motorway": (False, False, True, 110.0),
    "motorway_link": (False, False, True, 60.0),
    "trunk": (False, False, True, 90.0),
    "trunk_link": (False, False, True, 50.0),
    "primary": (True, True, True, 50.0),
    "primary_link": (True, True, True, 40.0),
    "secondary": (True, True, True, 50.0),
    "secondary_link": (True, True, True, 40.0),
    "tertiary": (True, True, True, 40.0),
    "tertiary_link": (True, True, True, 30.0),
    "unclassified": (True, True, True, 30.0),
    "residential": (True, True, True, 30.0),
    "road": (True, True, True, 30.0),
    "living_street": (True, True, True, 10.0),
    "service": (True, True, True, 15.0),
    "track": (True, True, True, 15.0),
    "cycleway": (True, True, False, 10.0),
    "path": (True, True, False, 10.0),
    "pedestrian": (True, False, False, 10.0),
    "footway": (True, False, False, 10.0),
    "steps": (True, False, False, 10.0),
    "corridor": (True, False, False, 10.0),
    "platform": (True, False, False, 10.0),
    "bridleway": (True, False, False, 10.0),
    "busway": (False, False, False, 30.0),
}
"""Class defaults; the speed is used when a car may use the way and no maxspeed applies."""

_ALLOW = frozenset({"yes", "designated", "permissive", "destination", "delivery", "customers",
                    "official", "discouraged", "dismount"})
_DENY = frozenset({"no", "private", "agricultural", "forestry", "use_sidepath", "permit",
                   "emergency", "military", "restricted"})
_ACCESS_CHAINS = {  # most specific first; the first key marks the tag that may grant the mode
    Mode.WALK: ("foot", "access"),
    Mode.BICYCLE: ("bicycle", "vehicle", "access"),
    Mode.CAR: ("motorcar", "motor_vehicle", "vehicle", "access"),
}
_GRANTING_KEYS = frozenset({"foot", "bicycle", "motorcar", "motor_vehicle"})

_ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
_ONEWAY_BACKWARD = frozenset({"-1", "reverse"})
_ONEWAY_NO = frozenset({"no", "false", "0"})
_ONEWAY_TIMED = frozenset({"reversible", "alternating"})
_BIKE_LANE_VALUES = frozenset({"lane", "track", "share_busway"})
_BIKE_LANE_OPPOSITE = frozenset({"opposite_lane", "opposite_track", "opposite_share_busway"})
_BIKE_DESIGNATED_CLASSES = frozenset({"path", "footway", "pedestrian", "track", "bridleway"})
_ON_STREET_PARKING = frozenset({"street_side", "lane", "on_street", "on_kerb", "half_on_kerb",
                                "shoulder"})

# Country zone speeds (km/h) for maxspeed values like "FR:urban"; "*" holds the defaults used
# for countries not listed. None = no general limit (class fallback).
_ZONE_KMH: dict[str, dict[str, float | None]] = {
    "*": {"urban": 50, "rural": 90, "motorway": 120, "trunk": 110, "living_street": 20,
          "bicycle_road": 30, "walk": WALKING_PACE_KMH},
    "fr": {"rural": 80, "motorway": 130},
    "ru": {"urban": 60, "motorway": 110},
    "de": {"rural": 100, "motorway": None, "trunk": None, "living_street": WALKING_PACE_KMH},
    "at": {"rural": 100, "motorway": 130},
    "ch": {"rural": 80, "motorway": 120, "trunk": 100},
    "it": {"motorway": 130},
    "es": {"motorway": 120},
    "be": {"rural": 70}, "be-vlg": {"rural": 70}, "be-wal": {"rural": 90}, "be-bru": {"urban": 30},
    "nl": {"rural": 80, "motorway": 100},
    "gb": {"nsl_single": 96.56, "nsl_dual": 112.65, "motorway": 112.65},
    "us": {"urban": 40.23, "rural": 88.51, "motorway": 104.61},
}
_NO_NUMBER = frozenset({"none", "signals", "variable", "unlimited", "no"})
_SPEED_RE = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?$")
_ZONE_RE = re.compile(r"^(?:([a-z]{2}(?:-[a-z]{2,3})?):)?(zone|[a-z_]+?):?(\d+)?$")
_UNITS_KMH = {None: 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}


@dataclass(frozen=True)
class OsmExtract:
    """What an OSM extract gives the network: the street graph and the tagged parking.

    ``facilities`` has exactly the columns :data:`FACILITY_COLUMNS`: ``facility_id``
    ("osm:node/123", "osm:way/456", "osm:relation/7"), ``name``, ``kind`` ("car_park",
    "park_and_ride", "on_street", "bike_parking", "bike_share"), ``lon``/``lat`` (degrees WGS84),
    ``capacity`` (float, NaN when unknown), ``entrance_lon``/``entrance_lat`` (where cars enter,
    NaN when no entrance is mapped), ``source`` ("osm"); rows sorted by element type and id.
    """

    street: StreetGraph
    facilities: pd.DataFrame


# ---------------------------------------------------------------------------------------------
# Tag parsing
# ---------------------------------------------------------------------------------------------
def parse_maxspeed_kmh(value: str) -> float | None:
    """The speed limit of an OSM ``maxspeed`` value in km/h, or None when it states no number.

    None (use the class fallback) for ``none``, ``signals``, ``variable`` and zones without a
    general limit (``DE:motorway``). Several values (``30;50``) give the lowest.
    Raises ValueError for values that cannot be read (``sign``, ``0``, ``fast``).

    >>> parse_maxspeed_kmh("50 mph")
    80.4672
    """
    text = value.strip().lower()
    if ";" in text or "|" in text:
        speeds = [parse_maxspeed_kmh(part) for part in re.split(r"[;|]", text) if part.strip()]
        numbers = [s for s in speeds if s is not None]
        return min(numbers) if numbers else None
    if text in _NO_NUMBER:
        return None
    if text == "walk":
        return WALKING_PACE_KMH
    match = _SPEED_RE.match(text)
    if match:
        speed = float(match.group(1).replace(",", ".")) * _UNITS_KMH[match.group(2)]
        if not 0.0 < speed <= 400.0:
            raise ValueError(f"maxspeed {value!r} is not a plausible speed")
        return speed
    match = _ZONE_RE.match(text)
    if match:
        country, zone, digits = match.groups()
        if zone == "zone" or digits:
            if digits and 0 < int(digits) <= 400:
                return float(digits)
            raise ValueError(f"maxspeed zone {value!r} has no speed")
        if country is not None:
            table = _ZONE_KMH.get(country, {})
            parent = _ZONE_KMH.get(country.split("-")[0], {})
            for source in (table, parent, _ZONE_KMH["*"]):
                if zone in source:
                    return source[zone]
    raise ValueError(f"maxspeed {value!r} is not a speed, a known zone, or none/signals")


def parse_capacity(value: str) -> float:
    """Number of spaces in an OSM ``capacity`` value, as a float.

    Accepts ``"120"``, ``" 120 "``, ``"~120"``, ``"ca. 120"``, ``"1 200"``, ``"1,200"`` (one
    number, possibly with thousands separators). Raises ValueError otherwise (``"many"``,
    ``"0"``, ``"10;20"``, ``"-5"``).
    """
    text = value.strip()
    numbers = re.findall(r"\d+(?:[ ,.\u202f]\d{3})*", text)
    if len(numbers) != 1 or "-" in text.replace(numbers[0], ""):
        raise ValueError(f"capacity {value!r} is not one whole number of spaces")
    count = int(re.sub(r"\D", "", numbers[0]))
    if count <= 0:
        raise ValueError(f"capacity {value!r} is not a positive number of spaces")
    return float(count)


def _first_value(tags: Mapping[str, str], key: str) -> str | None:
    value = tags.get(key)
    if value is None:
        return None
    return value.split(";")[0].strip().lower()


def _mode_allowed(tags: Mapping[str, str], mode: Mode, default: bool) -> bool:
    """Permission of one mode on a way from its access tags (most specific known value wins)."""
    for key in _ACCESS_CHAINS[mode]:
        value = _first_value(tags, key)
        if value in _ALLOW:
            return default or key in _GRANTING_KEYS
        if value in _DENY:
            return False
    return default


def _oneway(value: str | None) -> tuple[bool, bool] | None:
    """(forward allowed, backward allowed) for a oneway-like value; None when absent/unknown."""
    if value in _ONEWAY_FORWARD:
        return True, False
    if value in _ONEWAY_BACKWARD:
        return False, True
    if value in _ONEWAY_NO:
        return True, True
    if value in _ONEWAY_TIMED:
        return False, False
    return None


@dataclass(frozen=True)
class WayRules:
    """What a routable way allows, per direction ((forward, backward) along its node order)."""

    highway: str
    walk: tuple[bool, bool]
    bike: tuple[bool, bool]
    car: tuple[bool, bool]
    bike_lane: tuple[bool, bool]
    bike_pushed: bool                   # bicycle at walking time (dismount, steps)
    walk_factor: float                  # multiplier on walking time (steps)
    car_kmh: tuple[float, float]        # speed limit or fallback per direction (km/h)

    @property
    def any_mode(self) -> bool:
        return any(self.walk + self.bike + self.car)


def way_rules(tags: Mapping[str, str], warn=None) -> WayRules | None:
    """Per-mode permissions, directions, bike lanes and car speed of one OSM way.

    ``tags`` maps OSM keys to values. Returns None when the ``highway`` value is not routable
    (see :data:`HIGHWAY_CLASSES`). ``warn(code, key, value)`` is called for tag values that could
    not be read (``invalid_maxspeed``, ``invalid_oneway``); they fall back to the documented
    defaults.
    """
    highway = tags.get("highway", "").strip().lower()
    if highway not in HIGHWAY_CLASSES:
        return None
    walk_default, bike_default, car_default, fallback_kmh = HIGHWAY_CLASSES[highway]
    walk_ok = _mode_allowed(tags, Mode.WALK, walk_default)
    car_ok = _mode_allowed(tags, Mode.CAR, car_default)
    bike_value = _first_value(tags, "bicycle")
    ramp = _first_value(tags, "ramp:bicycle") == "yes"
    bike_ok = _mode_allowed(tags, Mode.BICYCLE, bike_default) or (highway == "steps" and ramp)
    bike_pushed = bike_value == "dismount" or highway == "steps"
    if highway == "steps" and bike_value not in _ALLOW and not ramp:
        bike_ok = False  # carrying a bike up stairs needs an explicit tag

    # Vehicle direction (cars, and bicycles unless overridden).
    oneway_raw = _first_value(tags, "oneway")
    vehicle_dir = _oneway(oneway_raw)
    if oneway_raw is not None and vehicle_dir is None and warn is not None:
        warn("invalid_oneway", "oneway", tags.get("oneway"))
    if vehicle_dir is None:
        implied = (_first_value(tags, "junction") in ("roundabout", "circular")
                   or highway in ("motorway", "motorway_link"))
        vehicle_dir = (True, False) if implied else (True, True)
    road_oneway = vehicle_dir != (True, True)

    # Bike lanes: (forward, backward) directions served by a lane or track.
    lane_fwd = lane_bwd = False
    if highway == "cycleway" or (highway in _BIKE_DESIGNATED_CLASSES and bike_value == "designated"):
        lane_fwd = lane_bwd = True
    traffic = vehicle_dir if road_oneway and any(vehicle_dir) else None  # direction of traffic
    opposite = (not traffic[0], not traffic[1]) if traffic else (False, True)
    contraflow = False
    for key, two_way_dir in (("cycleway", (True, True)), ("cycleway:both", (True, True)),
                             ("cycleway:right", (True, False)), ("cycleway:left", (False, True))):
        value = _first_value(tags, key)
        if value is None:
            continue
        if value == "opposite":
            contraflow = True
            continue
        if value in _BIKE_LANE_OPPOSITE:
            served = opposite
        elif value in _BIKE_LANE_VALUES:
            served = traffic if traffic else two_way_dir
            side_oneway = _oneway(_first_value(tags, f"{key}:oneway")) if key != "cycleway" else None
            if side_oneway is not None and any(side_oneway):
                served = side_oneway
        else:
            continue  # no, separate, shared_lane, crossing...: no lane on this way
        lane_fwd |= served[0]
        lane_bwd |= served[1]
        if traffic and ((served[0] and not traffic[0]) or (served[1] and not traffic[1])):
            contraflow = True

    bike_dir = vehicle_dir
    bike_oneway = _oneway(_first_value(tags, "oneway:bicycle"))
    if bike_oneway is not None:
        bike_dir = bike_oneway
    elif contraflow:
        bike_dir = (True, True)
    foot_dir = _oneway(_first_value(tags, "oneway:foot"))
    walk_dir = foot_dir if foot_dir is not None else (True, True)

    walk = (walk_ok and walk_dir[0], walk_ok and walk_dir[1])
    bike = (bike_ok and bike_dir[0], bike_ok and bike_dir[1])
    car = (car_ok and vehicle_dir[0], car_ok and vehicle_dir[1])
    bike_lane = (lane_fwd and bike[0] and not bike_pushed, lane_bwd and bike[1] and not bike_pushed)

    car_kmh = (fallback_kmh, fallback_kmh)
    if any(car):
        car_kmh = _car_speeds_kmh(tags, fallback_kmh, warn)
    return WayRules(highway=highway, walk=walk, bike=bike, car=car, bike_lane=bike_lane,
                    bike_pushed=bike_pushed,
                    walk_factor=STEPS_WALK_FACTOR if highway == "steps" else 1.0,
                    car_kmh=car_kmh)


def _car_speeds_kmh(tags: Mapping[str, str], fallback_kmh: float, warn) -> tuple[float, float]:
    """(forward, backward) speed limit in km/h, from maxspeed tags or the class fallback."""
    def read(key: str) -> float | None:
        value = tags.get(key)
        if value is None:
            return None
        try:
            return parse_maxspeed_kmh(value)
        except ValueError:
            if warn is not None:
                warn("invalid_maxspeed", key, value)
            return None

    general = read("maxspeed")
    if general is None and "maxspeed" not in tags:
        for key in ("maxspeed:type", "source:maxspeed", "zone:maxspeed"):
            value = tags.get(key)
            if value is not None:
                try:
                    general = parse_maxspeed_kmh(value)
                except ValueError:
                    general = None  # these keys often hold free text ("sign", "survey")
                if general is not None:
                    break
    forward = read("maxspeed:forward")
    backward = read("maxspeed:backward")
    base = general if general is not None else fallback_kmh
    return (forward if forward is not None else base, backward if backward is not None else base)


# ---------------------------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------------------------
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
            tags = obj.tags
            highway = tags.get("highway")
            family, _ = _facility_amenity(tags)
            routable = highway is not None and highway.strip().lower() in HIGHWAY_CLASSES
            if highway is not None and not routable:
                out.unroutable[highway.strip().lower()] += 1
            if not (routable or family or obj.id in wanted):
                continue
            refs, lon, lat = _way_coords(obj)
            if obj.id in wanted:
                member_coords[obj.id] = (lon, lat)
            if routable:
                out.way_ids.append(obj.id)
                out.way_tags.append(dict(tags))
                out.way_refs.append(refs)
                out.way_lon.append(lon)
                out.way_lat.append(lat)
            if family is not None:
                centre = _centroid(lon, lat, obj.is_closed())
                if centre is None:
                    out.n_facility_without_geometry += 1
                else:
                    out.facilities.append(_facility_record("way", obj.id, dict(tags), family,
                                                           *centre))
        elif obj.is_node():
            family, is_entrance = _facility_amenity(obj.tags)
            if family is None and not is_entrance:
                continue
            if not obj.location.valid():
                out.n_facility_without_geometry += 1
                continue
            tags = dict(obj.tags)
            if family is not None:
                out.facilities.append(_facility_record("node", obj.id, tags, family,
                                                       obj.location.lon, obj.location.lat))
            if is_entrance:
                out.entrances.append({"id": obj.id, "tags": tags, "lon": obj.location.lon,
                                      "lat": obj.location.lat})

    for rel_id, tags, family, members in relations:
        centre = _multipolygon_centroid(members, member_coords)
        if centre is None:
            out.n_facility_without_geometry += 1
        else:
            out.facilities.append(_facility_record("relation", rel_id, tags, family, *centre))
    return out


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


# ---------------------------------------------------------------------------------------------
# The loader
# ---------------------------------------------------------------------------------------------
def street_graph_from_osm(path, report: BuildReport, *, walk_speed_mps: float = 1.3,
                          bike_speed_mps: float = 4.5,
                          projection: LocalProjection | None = None) -> OsmExtract:
    """Read an OSM extract (.osm, .osm.bz2, .osm.gz, .osm.pbf) into a street graph and facilities.

    ``walk_speed_mps`` and ``bike_speed_mps`` (m/s, finite and > 0) set the walk and bicycle
    costs; ``projection`` the graph's local metres (default: centred on the street nodes).
    Problems that do not stop the build (unreadable maxspeed, dropped ways and facilities,
    disconnected nodes) go to ``report``; see the module docstring for every rule.

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
    if raw.n_restrictions:
        report.warn("turn_restrictions_ignored", f"{raw.n_restrictions:,} turn-restriction "
                    "relations are not applied to car routing", file=file, count=raw.n_restrictions)
    return OsmExtract(street=street, facilities=facilities)


def _build_graph(raw: _Collected, report: BuildReport, file: str, walk_speed_mps: float,
                 bike_speed_mps: float, projection: LocalProjection | None) -> StreetGraph:
    for highway, n in sorted(raw.unroutable.items()):
        report.drop("highway ways", f"highway={highway} is not routable", n)
    report.drop("highway relations", "multipolygon highway areas are not routed (only ways are)",
                raw.n_highway_relations)

    def warn_for(way_id: int):
        def warn(code: str, key: str, value: str) -> None:
            report.warn(code, f"way {way_id}: {key}={value!r} cannot be read; the documented "
                        "default applies", file=file, column=key)
        return warn

    rules: list[WayRules] = []
    kept: list[int] = []
    n_no_mode = n_short = 0
    for k, (way_id, tags) in enumerate(zip(raw.way_ids, raw.way_tags, strict=True)):
        rule = way_rules(tags, warn_for(way_id))
        if rule is None:
            continue  # _read keeps routable classes only
        if not rule.any_mode:
            n_no_mode += 1
        elif len(raw.way_refs[k]) < 2:
            n_short += 1
        else:
            rules.append(rule)
            kept.append(k)
    report.drop("highway ways", "no mode may use them (access tags)", n_no_mode)
    report.drop("highway ways", "fewer than two nodes", n_short)
    if not kept:
        raise LoaderError.of("osm_no_streets", "the extract has no way that walkers, cyclists or "
                             "drivers may use (no routable highway=* way)", file=file)

    # Segments: consecutive node pairs of every kept way.
    refs = [raw.way_refs[k] for k in kept]
    lon = [raw.way_lon[k] for k in kept]
    lat = [raw.way_lat[k] for k in kept]
    n_seg = np.array([len(r) - 1 for r in refs])
    seg_rule = np.repeat(np.arange(len(kept)), n_seg)
    tail_ref = np.concatenate([r[:-1] for r in refs])
    head_ref = np.concatenate([r[1:] for r in refs])
    tail_lon = np.concatenate([a[:-1] for a in lon])
    head_lon = np.concatenate([a[1:] for a in lon])
    tail_lat = np.concatenate([a[:-1] for a in lat])
    head_lat = np.concatenate([a[1:] for a in lat])
    located = np.isfinite(tail_lon) & np.isfinite(head_lon)
    distinct = tail_ref != head_ref
    report.drop("way segments", "a node is missing from the extract", int((~located).sum()))
    report.drop("way segments", "repeated node (zero-length loop)", int((located & ~distinct).sum()))
    keep = located & distinct
    seg_rule, tail_ref, head_ref = seg_rule[keep], tail_ref[keep], head_ref[keep]
    length_m = haversine_m(tail_lon[keep], tail_lat[keep], head_lon[keep], head_lat[keep])
    if seg_rule.size == 0:
        raise LoaderError.of("osm_no_streets", "no routable way has two located nodes",
                             file=file)
    n_zero = int((length_m == 0.0).sum())
    if n_zero:
        report.warn("zero_length_segment", f"{n_zero:,} segments join distinct nodes at the same "
                    f"position; they cost {MIN_EDGE_TIME_S} s", file=file, count=n_zero)

    # Nodes: every located node of a kept segment, by OSM id.
    node_osm_id, first = np.unique(np.concatenate([tail_ref, head_ref]), return_index=True)
    all_lon = np.concatenate([tail_lon[keep], head_lon[keep]])
    all_lat = np.concatenate([tail_lat[keep], head_lat[keep]])
    node_lon, node_lat = all_lon[first], all_lat[first]
    tail = np.searchsorted(node_osm_id, tail_ref)
    head = np.searchsorted(node_osm_id, head_ref)

    # Per-rule (way) attributes, then per directed edge.
    def per_rule(getter, dtype):
        return np.array([getter(r) for r in rules], dtype=dtype)

    fwd = {name: per_rule(lambda r, name=name: getattr(r, name)[0], bool)
           for name in ("walk", "bike", "car", "bike_lane")}
    bwd = {name: per_rule(lambda r, name=name: getattr(r, name)[1], bool)
           for name in ("walk", "bike", "car", "bike_lane")}
    kmh = (per_rule(lambda r: r.car_kmh[0], float), per_rule(lambda r: r.car_kmh[1], float))
    walk_factor = per_rule(lambda r: r.walk_factor, float)
    pushed = per_rule(lambda r: r.bike_pushed, bool)

    parts = []
    for direction, allowed, speed_kmh in ((0, fwd, kmh[0]), (1, bwd, kmh[1])):
        exists = (allowed["walk"] | allowed["bike"] | allowed["car"])[seg_rule]
        r = seg_rule[exists]
        seg_len = length_m[exists]
        walk_s = seg_len / walk_speed_mps * walk_factor[r]
        bike_s = np.where(pushed[r], walk_s, seg_len / bike_speed_mps)
        car_s = seg_len / (speed_kmh[r] / 3.6 * CAR_SPEED_FACTOR)
        parts.append({
            "tail": (tail if direction == 0 else head)[exists],
            "head": (head if direction == 0 else tail)[exists],
            "length": seg_len,
            "walk": np.where(allowed["walk"][r], np.maximum(walk_s, MIN_EDGE_TIME_S), np.inf),
            "bike": np.where(allowed["bike"][r], np.maximum(bike_s, MIN_EDGE_TIME_S), np.inf),
            "car": np.where(allowed["car"][r], np.maximum(car_s, MIN_EDGE_TIME_S), np.inf),
            "lane": allowed["bike_lane"][r],
            "way": r,
        })
    edges = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}

    way_tags = [raw.way_tags[k] for k in kept]
    graph = StreetGraph.from_edges(
        node_lon=node_lon, node_lat=node_lat, edge_tail=edges["tail"], edge_head=edges["head"],
        edge_length_m=edges["length"], walk_time_s=edges["walk"], bike_time_s=edges["bike"],
        car_time_s=edges["car"], edge_is_bike_lane=edges["lane"], edge_way_idx=edges["way"],
        way_osm_id=np.array([raw.way_ids[k] for k in kept], dtype=np.int64),
        way_name=np.array([t.get("name") or t.get("ref") or "" for t in way_tags], dtype=str),
        way_highway=np.array([r.highway for r in rules], dtype=str),
        node_osm_id=node_osm_id, projection=projection,
        walk_speed_mps=walk_speed_mps, bike_speed_mps=bike_speed_mps)
    _report_components(graph, report, file)
    return graph


def disconnected_node_counts(graph: StreetGraph) -> dict[Mode, tuple[int, int]]:
    """Per mode: (nodes its edges reach that its largest strongly connected component cuts,
    nodes its edges reach)."""
    out = {}
    for mode in Mode:
        ok = np.isfinite(graph.cost_s(mode))
        touched = np.zeros(graph.n_nodes, dtype=bool)
        touched[graph.edge_tail[ok]] = True
        touched[graph.indices[ok]] = True
        out[mode] = (int((touched & ~graph.node_in_component[mode]).sum()), int(touched.sum()))
    return out


def _report_components(graph: StreetGraph, report: BuildReport, file: str) -> None:
    """One ``disconnected_nodes`` warning giving, per mode, the nodes its component cuts."""
    cut = disconnected_node_counts(graph)
    total = sum(n for n, _ in cut.values())
    if total:
        detail = ", ".join(f"{mode.name.lower()} {n:,} of {of:,}" for mode, (n, of) in cut.items())
        report.warn("disconnected_nodes", "nodes outside the largest strongly connected component "
                    f"of their mode (kept in the graph, not used for snapping): {detail}",
                    file=file, count=total)


# ---------------------------------------------------------------------------------------------
# Parking facilities
# ---------------------------------------------------------------------------------------------
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
