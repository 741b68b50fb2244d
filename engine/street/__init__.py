"""Street routing: shortest paths, snapping, paths and isochrones on a :class:`StreetGraph`.

The package owns everything that moves on the street graph; one file per idea:

* ``profiles``: :class:`StreetProfile` and the per-edge cost/time arrays (:func:`edge_costs`);
* ``kernels``: the numba searches over the graph's CSR arrays and one cost array per profile
  (Dijkstra with an indexed 4-ary heap, A*, ALT, bidirectional Dijkstra), with their search
  state in ``workspace`` and the per-graph caches in ``graph_cache``;
* ``landmarks``: the ALT tables and :func:`prepare`;
* ``searches``: node-level searches (:func:`search`, :func:`one_to_one`, :func:`pair_costs`...);
* ``snapping``: :func:`snap`, :func:`snap_many`, :class:`LocationNotAccessible`;
* ``paths`` and ``routing``: :class:`StreetPath`, :func:`shortest_path`, :func:`route`,
  :func:`route_points`, :func:`point_costs`;
* ``isochrones`` and ``polygon``: :func:`isochrone` and its GeoJSON points, pieces and polygon;
* ``ch_order``, ``ch_kernels``, ``ch`` and ``ch_routing``: the customizable contraction hierarchy
  (:func:`hierarchy`, :func:`customize`, :func:`ch_pair_costs`, :func:`ch_many_to_many`,
  :func:`ch_route_points`, :func:`ch_point_costs`, :func:`ch_point_matrix`), exact like the
  searches above; ``ch_matrix``: bucket many-to-many with the targets' buckets filled once
  (:func:`ch_buckets`, :func:`ch_scan`); ``snap_grid``: :func:`snap_points`, batch snapping
  through a grid of segments;
* ``fast``: :func:`fast_route`, :func:`fast_one_to_one`, :func:`fast_many_to_many`, what the
  planner calls: the hierarchy when the graph has one and the profile's metric is ready
  (:func:`ready_metric`), else the searches; equal costs either way.

Search state lives in preallocated per-thread workspaces; a search resets only the nodes the
previous search touched, so a short query on a 250,000-node graph costs what it explores, not
``O(n)``. Batched entry points (:func:`pair_costs`, :func:`point_costs`, :func:`many_to_many`)
run many queries in one kernel call, arrays in and arrays out.

Which method wins (``bench/street.py``): ALT everywhere once its tables exist (about 0.5 s per
mode on Monaco, 1-2 s on a 250,000-node grid), 5-20x fewer nodes settled than Dijkstra; without
them, straight-line A* on grids and for walking (uniform speed, tight bound), bidirectional
Dijkstra for cars on real streets (speeds vary, so the straight-line bound is loose). The default
``auto`` uses ALT when the tables exist or a batch is large enough to pay for them, else A*.

Points (lon/lat) snap to the nearest segment of the mode's largest strongly connected component
(:func:`snap`, :func:`snap_many`); a search then starts from both ends of that segment with the
partial edge costs, and a route on a single segment takes the direct way along it when allowed.

Costs are seconds of travel time, except that a bicycle profile with ``bike_lane_preference``
p > 0 pays ``(1 + p)`` times the travel time on edges without a bike lane: searches minimise that
*generalized cost*; paths report real travel time (``duration_s``) and length separately.
Isochrones (:func:`isochrone`) measure travel time and come back as nodes, GeoJSON points, edge
pieces, or an alpha-shape polygon built with scipy.spatial (the engine does not use shapely).
Turn restrictions are not applied (the OSM loader does not read them).
"""
from engine.street.ch import (
    CchMetric,
    CchTopology,
    attach_hierarchy,
    built_hierarchy,
    ch_many_to_many,
    ch_pair_costs,
    ch_shortest_path,
    customize,
    has_hierarchy,
    hierarchy,
    prepare_hierarchy,
    ready_metric,
)
from engine.street.ch_matrix import CchBuckets, ch_buckets, ch_scan
from engine.street.ch_routing import ch_point_costs, ch_point_matrix, ch_route, ch_route_points
from engine.street.constants import (
    AUTO_LANDMARK_QUERIES,
    DEFAULT_METHOD,
    METHODS,
    N_ACTIVE_LANDMARKS,
    N_LANDMARKS,
    NO_PREDECESSOR,
    UNREACHED,
)
from engine.street.fast import fast_many_to_many, fast_one_to_one, fast_route
from engine.street.isochrones import Isochrone, isochrone, isochrone_geojson_points, isochrone_segments
from engine.street.landmarks import prepare
from engine.street.paths import StreetPath, shortest_path
from engine.street.polygon import isochrone_polygon
from engine.street.profiles import StreetProfile, edge_costs, edge_times
from engine.street.routing import point_costs, route, route_points
from engine.street.searches import StreetSearch, many_to_many, one_to_many, one_to_one, pair_costs, search
from engine.street.snap_grid import snap_points
from engine.street.snapping import (
    DEFAULT_MAX_SNAP_M,
    LOCATION_NOT_ACCESSIBLE,
    LocationNotAccessible,
    Snap,
    Snaps,
    snap,
    snap_many,
)

__all__ = [
    "AUTO_LANDMARK_QUERIES", "DEFAULT_MAX_SNAP_M", "DEFAULT_METHOD", "LOCATION_NOT_ACCESSIBLE", "METHODS",
    "N_ACTIVE_LANDMARKS", "N_LANDMARKS", "NO_PREDECESSOR", "UNREACHED",
    "Isochrone", "LocationNotAccessible", "Snap", "Snaps", "StreetPath", "StreetProfile", "StreetSearch",
    "edge_costs", "edge_times", "isochrone", "isochrone_geojson_points", "isochrone_polygon",
    "isochrone_segments", "many_to_many", "one_to_many", "one_to_one", "pair_costs", "point_costs",
    "prepare", "route", "route_points", "search", "shortest_path", "snap", "snap_many",
    "CchMetric", "CchTopology", "attach_hierarchy", "built_hierarchy", "ch_many_to_many", "ch_pair_costs",
    "ch_point_costs", "ch_point_matrix", "ch_route", "ch_route_points", "ch_shortest_path",
    "customize", "hierarchy", "prepare_hierarchy", "snap_points",
    "CchBuckets", "ch_buckets", "ch_scan", "has_hierarchy", "ready_metric",
    "fast_many_to_many", "fast_one_to_one", "fast_route",
]
