"""OpenStreetMap extract -> :class:`engine.model.StreetGraph` plus the parking facilities it tags.

Reads ``.osm``, ``.osm.bz2``, ``.osm.gz`` and ``.osm.pbf`` files offline, for any city, with
pyosmium. The face is :func:`street_graph_from_osm` (``extract.py``); the rest, one idea a module:

* ``reading.py``: the file's format, and the two pyosmium passes that collect the raw ways,
  parking features and relations (why pyosmium and not osmnx is told there);
* ``rules.py``: who may use a way, in which direction, on which bike lanes, at what car speed
  (:func:`way_rules`, the class table :data:`HIGHWAY_CLASSES`);
* ``tags.py``: tag values read as numbers (:func:`parse_maxspeed_kmh`, :func:`parse_capacity`);
* ``graph.py``: segments, nodes, directed edges and their costs, connected components;
* ``car_parks.py``: parking facilities and their entrances (:data:`FACILITY_COLUMNS`).
"""
from loaders.osm.car_parks import ENTRANCE_MAX_DISTANCE_M, FACILITY_COLUMNS
from loaders.osm.extract import OsmExtract, street_graph_from_osm
from loaders.osm.graph import CAR_SPEED_FACTOR, MIN_EDGE_TIME_S, disconnected_node_counts
from loaders.osm.rules import HIGHWAY_CLASSES, STEPS_WALK_FACTOR, WayRules, way_rules
from loaders.osm.tags import WALKING_PACE_KMH, parse_capacity, parse_maxspeed_kmh

__all__ = [
    "CAR_SPEED_FACTOR", "ENTRANCE_MAX_DISTANCE_M", "FACILITY_COLUMNS", "HIGHWAY_CLASSES",
    "MIN_EDGE_TIME_S", "STEPS_WALK_FACTOR", "WALKING_PACE_KMH", "OsmExtract", "WayRules",
    "disconnected_node_counts", "parse_capacity", "parse_maxspeed_kmh", "street_graph_from_osm",
    "way_rules",
]
