"""The multimodal network: plain, frozen dataclasses of numpy arrays.

Everything the routing kernels read lives here as flat arrays with names that say what they
index and in which unit. String ids (GTFS, OSM) live in id-map arrays beside the numeric arrays
and never reach a kernel. Loaders (``loaders/``) fill these classes; the bundle
(``loaders/bundle.py``) saves and memory-maps them; ``engine/`` reads them.

Conventions
-----------
* ``*_idx`` arrays are int32 indices into another array, ``-1`` meaning "none".
* Times of the timetable are int32 seconds after midnight of the service day (noon minus 12 h,
  as GTFS defines it); values above 86,400 are normal (trips running past midnight).
* Instants of parking observations are int64 seconds since the Unix epoch (UTC).
* Coordinates are WGS84 lon/lat in degrees at the edges; distances and ``*_x_m``/``*_y_m`` are
  metres in the network's :class:`LocalProjection`.
* Costs are float64 seconds, ``inf`` meaning "this mode may not use this edge".
"""
from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

NO_INDEX = -1
"""Sentinel of every ``*_idx`` array: no such thing (no parent station, no street node...)."""

UNKNOWN_CAPACITY = -1
"""Capacity of a parking facility whose number of spaces is not known."""

SECONDS_PER_DAY = 86_400

ZONE_LEFT = 0
"""``StreetZones.side`` of a zone on the left of its street segment (in the way's direction)."""
ZONE_RIGHT = 1
"""``StreetZones.side`` of a zone on the right of its street segment."""
ZONE_SIDE_UNKNOWN = -1
"""``StreetZones.side`` when the source does not say (NGSI, a city's CSV)."""

# WGS84 ellipsoid, for the local projection's radii of curvature.
_WGS84_A_M = 6_378_137.0
_WGS84_E2 = 6.694_379_990_14e-3


class Mode(enum.IntEnum):
    """A way of moving on the street graph. The value indexes per-mode arrays."""

    WALK = 0
    BICYCLE = 1
    CAR = 2


class ParkingKind(enum.IntEnum):
    """What a parking facility is; the value is stored in ``Parking.kind``."""

    CAR_PARK = 0        # off-street car park (multi-storey, underground, surface lot)
    PARK_AND_RIDE = 1   # car park meant for transferring to transit
    ON_STREET = 2       # an on-street parking zone
    BIKE_PARKING = 3    # racks or a shelter for private bicycles
    BIKE_SHARE = 4      # a bike-share docking station


class DayType(enum.IntEnum):
    """Day classes of the occupancy profile (first axis after the facility)."""

    WEEKDAY = 0
    SATURDAY = 1
    SUNDAY_HOLIDAY = 2


# ---------------------------------------------------------------------------------------------
# Projection
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LocalProjection:
    """Equirectangular projection about a city's centre, in metres.

    x grows east and y north from (``lon0_deg``, ``lat0_deg``). The scale uses the WGS84 radii of
    curvature at ``lat0_deg``; over a 20 km city the distance error stays below 0.2 %, which is far
    below OSM's own positional accuracy. Distances that must not overestimate (A* bounds) apply
    ``MAX_SCALE_ERROR`` themselves.
    """

    lon0_deg: float
    lat0_deg: float

    MAX_SCALE_ERROR = 0.005  # relative; generous bound for regions up to about 100 km across

    @property
    def metres_per_degree(self) -> tuple[float, float]:
        """(metres per degree of longitude, metres per degree of latitude) at the centre."""
        phi = math.radians(self.lat0_deg)
        w = 1.0 - _WGS84_E2 * math.sin(phi) ** 2
        prime_vertical_m = _WGS84_A_M / math.sqrt(w)
        meridional_m = _WGS84_A_M * (1.0 - _WGS84_E2) / w ** 1.5
        return (math.radians(1.0) * prime_vertical_m * math.cos(phi),
                math.radians(1.0) * meridional_m)

    def to_xy_m(self, lon_deg, lat_deg) -> tuple[np.ndarray, np.ndarray]:
        """Project WGS84 lon/lat (degrees, scalars or arrays) to local x/y (metres)."""
        mx, my = self.metres_per_degree
        return ((np.asarray(lon_deg, dtype=np.float64) - self.lon0_deg) * mx,
                (np.asarray(lat_deg, dtype=np.float64) - self.lat0_deg) * my)

    def to_lonlat(self, x_m, y_m) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`to_xy_m`."""
        mx, my = self.metres_per_degree
        return (np.asarray(x_m, dtype=np.float64) / mx + self.lon0_deg,
                np.asarray(y_m, dtype=np.float64) / my + self.lat0_deg)

    @classmethod
    def around(cls, lon_deg: np.ndarray, lat_deg: np.ndarray) -> LocalProjection:
        """The projection centred on the middle of the given points' bounding box."""
        lon = np.asarray(lon_deg, dtype=np.float64)
        lat = np.asarray(lat_deg, dtype=np.float64)
        if lon.size == 0:
            raise ValueError("LocalProjection.around: no points given")
        return cls(float((lon.min() + lon.max()) / 2), float((lat.min() + lat.max()) / 2))


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres between WGS84 points (degrees; arrays broadcast)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=np.float64))
                              for a in (lon1, lat1, lon2, lat2))
    h = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


# ---------------------------------------------------------------------------------------------
# Streets
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StreetGraph:
    """Directed street graph in CSR form, one cost array per mode.

    Edges are straight segments between consecutive OSM nodes of a way (the graph is not
    simplified), so a path's geometry is its node sequence and snapping is exact.
    Edge ``e`` goes from ``edge_tail[e]`` to ``indices[e]``; the edges leaving node ``n`` are
    ``indptr[n]:indptr[n + 1]``. The reversed CSR lists, for each node, the edges entering it
    (``rev_edge`` holds forward edge indices, so the cost arrays are shared).
    Build it with :meth:`from_edges`, which sorts, indexes and finds the components.
    """

    node_lon: np.ndarray            # node_idx -> degrees (WGS84)
    node_lat: np.ndarray            # node_idx -> degrees (WGS84)
    node_x_m: np.ndarray            # node_idx -> metres east in `projection`
    node_y_m: np.ndarray            # node_idx -> metres north in `projection`
    node_osm_id: np.ndarray         # node_idx -> OSM node id (int64), id map only
    indptr: np.ndarray              # node_idx -> first edge_idx leaving it (len n_nodes + 1), int32
    indices: np.ndarray             # edge_idx -> head node_idx, int32
    edge_tail: np.ndarray           # edge_idx -> tail node_idx, int32
    rev_indptr: np.ndarray          # node_idx -> first slot in rev_edge entering it (len n + 1)
    rev_edge: np.ndarray            # slot -> forward edge_idx entering the node, int32
    rev_indices: np.ndarray         # slot -> tail node_idx of that edge, int32
    edge_length_m: np.ndarray       # edge_idx -> metres, float64
    walk_time_s: np.ndarray         # edge_idx -> seconds at `walk_speed_mps` (steps slower); inf = no
    bike_time_s: np.ndarray         # edge_idx -> seconds at `bike_speed_mps`; inf = no (wrong way...)
    car_time_s: np.ndarray          # edge_idx -> seconds at the edge's car speed; inf = no
    edge_is_bike_lane: np.ndarray   # edge_idx -> bool: a cycleway, lane or track serves this direction
    edge_way_idx: np.ndarray        # edge_idx -> way_idx, int32
    way_osm_id: np.ndarray          # way_idx -> OSM way id (int64), id map only
    way_name: np.ndarray            # way_idx -> street name ('' when OSM has none), str
    way_highway: np.ndarray         # way_idx -> OSM highway tag value, str
    node_in_component: np.ndarray   # (3, n_nodes) bool: node in the mode's largest strongly
                                    # connected component, rows indexed by Mode
    projection: LocalProjection
    walk_speed_mps: float = 1.3     # speed that walk_time_s was computed at
    bike_speed_mps: float = 4.5     # speed that bike_time_s was computed at

    @property
    def n_nodes(self) -> int:
        return int(self.node_lon.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.indices.shape[0])

    def cost_s(self, mode: Mode) -> np.ndarray:
        """The stored cost array (seconds, inf = not allowed) of one mode."""
        return (self.walk_time_s, self.bike_time_s, self.car_time_s)[Mode(mode)]

    def n_edges_allowed(self, mode: Mode) -> int:
        return int(np.isfinite(self.cost_s(mode)).sum())

    def with_costs(self, **arrays: np.ndarray) -> StreetGraph:
        """A copy sharing the topology, with some per-edge arrays replaced (copy-on-write).

        Accepts ``walk_time_s``, ``bike_time_s``, ``car_time_s`` and ``edge_is_bike_lane``;
        components are recomputed when a cost changes which edges a mode may use.
        """
        allowed = {"walk_time_s", "bike_time_s", "car_time_s", "edge_is_bike_lane"}
        unknown = set(arrays) - allowed
        if unknown:
            raise ValueError(f"with_costs: unknown arrays {sorted(unknown)}; allowed {sorted(allowed)}")
        for name, arr in arrays.items():
            if np.shape(arr) != (self.n_edges,):
                raise ValueError(f"with_costs: {name} has shape {np.shape(arr)}, "
                                 f"expected ({self.n_edges},)")
        new = dataclasses.replace(self, **arrays)
        if any(name.endswith("_time_s") for name in arrays):
            new = dataclasses.replace(new, node_in_component=largest_components(new))
        return new

    @classmethod
    def from_edges(cls, *, node_lon, node_lat, edge_tail, edge_head, edge_length_m,
                   walk_time_s, bike_time_s, car_time_s, edge_is_bike_lane=None,
                   edge_way_idx=None, way_osm_id=None, way_name=None, way_highway=None,
                   node_osm_id=None, projection: LocalProjection | None = None,
                   walk_speed_mps: float = 1.3, bike_speed_mps: float = 4.5) -> StreetGraph:
        """Build the CSR graph from edge lists (any order); per-edge arrays follow the edges.

        Raises ValueError naming the argument when lengths disagree, a node index is out of
        range, or a length/cost is negative or NaN.
        """
        node_lon = np.ascontiguousarray(node_lon, dtype=np.float64)
        node_lat = np.ascontiguousarray(node_lat, dtype=np.float64)
        n = node_lon.shape[0]
        if node_lat.shape != (n,):
            raise ValueError("from_edges: node_lat and node_lon differ in length")
        tail = np.asarray(edge_tail, dtype=np.int64)
        head = np.asarray(edge_head, dtype=np.int64)
        m = tail.shape[0]
        per_edge = {"edge_head": head, "edge_length_m": edge_length_m, "walk_time_s": walk_time_s,
                    "bike_time_s": bike_time_s, "car_time_s": car_time_s}
        if edge_is_bike_lane is None:
            edge_is_bike_lane = np.zeros(m, dtype=bool)
        if edge_way_idx is None:
            edge_way_idx = np.zeros(m, dtype=np.int32) if m else np.zeros(0, dtype=np.int32)
            way_osm_id = np.zeros(1, dtype=np.int64) if way_osm_id is None else way_osm_id
        per_edge.update(edge_is_bike_lane=edge_is_bike_lane, edge_way_idx=edge_way_idx)
        for name, arr in per_edge.items():
            if np.shape(arr) != (m,):
                raise ValueError(f"from_edges: {name} has shape {np.shape(arr)}, expected ({m},)")
        if m and (tail.min() < 0 or head.min() < 0 or tail.max() >= n or head.max() >= n):
            raise ValueError(f"from_edges: edge_tail/edge_head must index nodes 0..{n - 1}")
        length = np.asarray(edge_length_m, dtype=np.float64)
        costs = [np.asarray(c, dtype=np.float64) for c in (walk_time_s, bike_time_s, car_time_s)]
        for name, arr in zip(("edge_length_m", "walk_time_s", "bike_time_s", "car_time_s"),
                             [length, *costs], strict=True):
            if np.isnan(arr).any() or (arr < 0).any():
                raise ValueError(f"from_edges: {name} has NaN or negative values")
        if not np.isfinite(length).all():
            raise ValueError("from_edges: edge_length_m must be finite")
        order = np.lexsort((head, tail))  # by tail, then head: stable, reproducible CSR
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(indptr, tail + 1, 1)
        indptr = np.cumsum(indptr).astype(np.int32)
        tail_sorted = tail[order].astype(np.int32)
        head_sorted = head[order].astype(np.int32)
        rev_order = np.argsort(head_sorted, kind="stable").astype(np.int32)
        rev_indptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(rev_indptr, head_sorted.astype(np.int64) + 1, 1)
        rev_indptr = np.cumsum(rev_indptr).astype(np.int32)
        n_ways = int(np.max(edge_way_idx)) + 1 if m else 0
        if way_osm_id is None:
            way_osm_id = np.full(max(n_ways, 1), -1, dtype=np.int64)
        n_ways = len(way_osm_id)
        if projection is None:
            projection = (LocalProjection.around(node_lon, node_lat) if n
                          else LocalProjection(0.0, 0.0))
        x, y = projection.to_xy_m(node_lon, node_lat)
        graph = cls(
            node_lon=node_lon, node_lat=node_lat, node_x_m=x, node_y_m=y,
            node_osm_id=(np.full(n, -1, dtype=np.int64) if node_osm_id is None
                         else np.asarray(node_osm_id, dtype=np.int64)),
            indptr=indptr, indices=head_sorted, edge_tail=tail_sorted,
            rev_indptr=rev_indptr, rev_edge=rev_order, rev_indices=tail_sorted[rev_order],
            edge_length_m=length[order],
            walk_time_s=costs[0][order], bike_time_s=costs[1][order], car_time_s=costs[2][order],
            edge_is_bike_lane=np.asarray(edge_is_bike_lane, dtype=bool)[order],
            edge_way_idx=np.asarray(edge_way_idx, dtype=np.int32)[order],
            way_osm_id=np.asarray(way_osm_id, dtype=np.int64),
            way_name=(np.full(n_ways, "", dtype=object).astype(str) if way_name is None
                      else np.asarray(way_name, dtype=str)),
            way_highway=(np.full(n_ways, "", dtype=object).astype(str) if way_highway is None
                         else np.asarray(way_highway, dtype=str)),
            node_in_component=np.zeros((3, n), dtype=bool),
            projection=projection, walk_speed_mps=float(walk_speed_mps),
            bike_speed_mps=float(bike_speed_mps),
        )
        return dataclasses.replace(graph, node_in_component=largest_components(graph))


def largest_components(graph: StreetGraph) -> np.ndarray:
    """(3, n_nodes) bool: for each mode, the nodes of its largest strongly connected component.

    Only edges the mode may use count. A node no edge of the mode touches is never in it.
    """
    n = graph.n_nodes
    out = np.zeros((3, n), dtype=bool)
    for mode in Mode:
        ok = np.isfinite(graph.cost_s(mode))
        if not ok.any():
            continue
        adj = scipy.sparse.csr_matrix(
            (np.ones(int(ok.sum())), (graph.edge_tail[ok], graph.indices[ok])), shape=(n, n))
        _, labels = scipy.sparse.csgraph.connected_components(adj, directed=True,
                                                              connection="strong")
        touched = np.zeros(n, dtype=bool)
        touched[graph.edge_tail[ok]] = True
        touched[graph.indices[ok]] = True
        sizes = np.bincount(labels[touched], minlength=labels.max() + 1)
        out[mode] = touched & (labels == int(np.argmax(sizes)))
    return out


# ---------------------------------------------------------------------------------------------
# Transit
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Timetable:
    """A timetable laid out for RAPTOR.

    *Stops* are every GTFS location (stops, stations, entrances); only ``location_type`` 0 stops
    are served by routes. *Lines* are GTFS routes. *Routes* are trip patterns: trips of one line
    with the same stop sequence and the same pick-up/drop-off permissions, split further so that
    no trip overtakes another (FIFO), trips sorted by departure. ``arrival_s``/``departure_s`` are
    stop-major within a route: for route r with k stops and t trips, the block
    ``stop_time_offsets[r] : stop_time_offsets[r] + k * t`` holds stop 0 for trips 0..t-1, then
    stop 1 for trips 0..t-1, and so on. A trip's index in its route is
    ``trip_idx - route_trip_offsets[r]``.
    """

    # stops
    stop_ids: np.ndarray            # stop_idx -> GTFS stop_id (str; prefixed "feed:" when several feeds)
    stop_name: np.ndarray           # stop_idx -> str
    stop_lon: np.ndarray            # stop_idx -> degrees (WGS84)
    stop_lat: np.ndarray            # stop_idx -> degrees (WGS84)
    stop_location_type: np.ndarray  # stop_idx -> GTFS location_type (int8; 0 stop, 1 station, ...)
    stop_parent_idx: np.ndarray     # stop_idx -> stop_idx of the parent station, or NO_INDEX
    stop_wheelchair: np.ndarray     # stop_idx -> 0 unknown, 1 accessible, 2 not (int8, inherited)
    stop_min_transfer_s: np.ndarray  # stop_idx -> minimum transfer time at the stop (int32), -1 = default
    # lines (GTFS routes)
    line_ids: np.ndarray            # line_idx -> GTFS route_id (str)
    line_short_name: np.ndarray     # line_idx -> str
    line_long_name: np.ndarray      # line_idx -> str
    line_type: np.ndarray           # line_idx -> GTFS route_type (int16, extended types kept)
    line_color: np.ndarray          # line_idx -> 'RRGGBB' or '' (str)
    line_text_color: np.ndarray     # line_idx -> 'RRGGBB' or '' (str)
    line_agency: np.ndarray         # line_idx -> agency name (str)
    # routes (patterns)
    route_line_idx: np.ndarray      # route_idx -> line_idx (int32)
    route_stop_offsets: np.ndarray  # route_idx -> first index into route_stops (len n_routes + 1)
    route_stops: np.ndarray         # -> stop_idx, in travel order (int32)
    route_stop_can_board: np.ndarray   # aligned with route_stops: pickup allowed (bool)
    route_stop_can_alight: np.ndarray  # aligned with route_stops: drop-off allowed (bool)
    route_trip_offsets: np.ndarray  # route_idx -> first trip_idx (len n_routes + 1), trips by departure
    stop_time_offsets: np.ndarray   # route_idx -> first index into arrival_s/departure_s (int64)
    arrival_s: np.ndarray           # int32 seconds after midnight of the service day, stop-major
    departure_s: np.ndarray         # int32 seconds after midnight of the service day, stop-major
    # trips
    trip_ids: np.ndarray            # trip_idx -> GTFS trip_id (str; "id@HH:MM:SS" for frequencies)
    trip_route_idx: np.ndarray      # trip_idx -> route_idx (int32)
    trip_service_idx: np.ndarray    # trip_idx -> service_idx (int32)
    trip_wheelchair: np.ndarray     # trip_idx -> 0 unknown, 1 accessible, 2 not (int8)
    trip_bikes_allowed: np.ndarray  # trip_idx -> 0 unknown, 1 allowed, 2 not (int8)
    trip_headsign: np.ndarray       # trip_idx -> str
    # stop -> routes serving it
    stop_route_offsets: np.ndarray  # stop_idx -> first index into stop_route_* (len n_stops + 1)
    stop_route_idx: np.ndarray      # -> route_idx serving the stop (int32)
    stop_route_pos: np.ndarray      # -> position of the stop in that route (int32)
    # footpaths (transfers.txt and walking), sorted by from-stop
    transfer_offsets: np.ndarray    # stop_idx -> first index into transfer_* (len n_stops + 1)
    transfer_to_stop: np.ndarray    # -> stop_idx reached on foot (int32)
    transfer_time_s: np.ndarray     # -> walking or minimum transfer time, seconds (int32)
    forbidden_from_stop: np.ndarray  # transfers.txt transfer_type 3: from stop_idx (int32)
    forbidden_to_stop: np.ndarray    # ... to stop_idx (int32); equal pairs forbid transfers at a stop
    # calendar
    service_ids: np.ndarray         # service_idx -> GTFS service_id (str)
    service_first_day: int          # days since 1970-01-01 of column 0 of service_active
    service_active: np.ndarray      # (n_services, n_days) bool, calendar and exceptions applied
    timezone: str                   # IANA name, e.g. "Europe/Paris"
    feed_ids: tuple = ()            # names of the feeds merged into this timetable

    @property
    def n_stops(self) -> int:
        return int(self.stop_lon.shape[0])

    @property
    def n_routes(self) -> int:
        return int(self.route_line_idx.shape[0])

    @property
    def n_trips(self) -> int:
        return int(self.trip_route_idx.shape[0])

    @property
    def n_stop_times(self) -> int:
        return int(self.arrival_s.shape[0])

    @property
    def n_days(self) -> int:
        return int(self.service_active.shape[1])

    def service_period_days(self) -> tuple[int, int] | None:
        """(first, last) day (days since 1970-01-01) on which any trip runs, or None."""
        days = np.flatnonzero(self.service_active.any(axis=0))
        if days.size == 0:
            return None
        return self.service_first_day + int(days[0]), self.service_first_day + int(days[-1])

    def route_block(self, route_idx: int) -> tuple[int, int, int]:
        """(first stop_time index, number of stops, number of trips) of one route."""
        n_stops = int(self.route_stop_offsets[route_idx + 1] - self.route_stop_offsets[route_idx])
        n_trips = int(self.route_trip_offsets[route_idx + 1] - self.route_trip_offsets[route_idx])
        return int(self.stop_time_offsets[route_idx]), n_stops, n_trips


# ---------------------------------------------------------------------------------------------
# Parking
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OccupancyHistory:
    """Observed occupancy of parking facilities, sorted by facility then time."""

    facility_idx: np.ndarray        # obs -> facility_idx (int32)
    time_utc_s: np.ndarray          # obs -> seconds since the Unix epoch (int64)
    free_spaces: np.ndarray         # obs -> free spaces observed (int32, >= 0)
    capacity: np.ndarray            # obs -> capacity at that time (int32, > 0)
    status_full: np.ndarray | None = None  # obs -> the operator reported the facility full (bool),
                                           # even with spaces left; None: full means free_spaces == 0

    @property
    def n_observations(self) -> int:
        return int(self.facility_idx.shape[0])


@dataclass(frozen=True)
class OccupancyProfile:
    """Free spaces by facility, day type and time of day, fitted from an occupancy history.

    Arrays are (n_facilities, len(DayType), n_bins); bin b covers seconds
    ``[b * bin_s, (b + 1) * bin_s)`` of the local day. A bin without observations of its own holds
    values borrowed from its neighbouring bins or from another day type, with 0 in
    ``n_observations``; a facility without usable data holds NaN in ``free_mean``: the forecaster
    treats it as unknown. ``engine.parking.fit_occupancy_profile`` fits it and documents the
    fields after ``fitted_to_utc_s`` (they have defaults so that older code still builds one).
    """

    bin_s: int
    free_mean: np.ndarray           # expected free spaces (float32)
    free_std: np.ndarray            # spread of free spaces (float32)
    p_free: np.ndarray              # share of observations not full (>= 1 free, not reported full)
    occupancy_mean: np.ndarray      # mean occupied share 0..1 (float32)
    n_observations: np.ndarray      # observations behind each bin (int32)
    fitted_from_utc_s: int = 0      # time span of the history the profile was fitted on
    fitted_to_utc_s: int = 0
    timezone: str = "UTC"           # IANA zone of the local day the bins and day types follow
    holiday_days: np.ndarray = field(  # local dates (days since 1970-01-01) of the SUNDAY_HOLIDAY
        default_factory=lambda: np.zeros(0, dtype=np.int64))  # day type besides Sundays, sorted
    # The forecaster's scale: level = log(free spaces + level_offset), per facility.
    level_offset: np.ndarray = field(  # facility_idx -> offset (spaces, float32)
        default_factory=lambda: np.zeros(0, dtype=np.float32))
    level_mean: np.ndarray = field(  # like free_mean, mean of the level (float32)
        default_factory=lambda: np.zeros((0, 3, 0), dtype=np.float32))
    level_std: np.ndarray = field(  # like free_std, standard deviation of the level (float32)
        default_factory=lambda: np.zeros((0, 3, 0), dtype=np.float32))
    full_threshold: np.ndarray = field(  # facility_idx -> free spaces below which the operator
        default_factory=lambda: np.zeros(0, dtype=np.float32))  # reports it full (float32)
    full_spread: np.ndarray = field(  # facility_idx -> spread of that threshold, level units
        default_factory=lambda: np.zeros(0, dtype=np.float32))
    excluded_observations: np.ndarray = field(  # facility_idx -> observations left out of the fit
        default_factory=lambda: np.zeros(0, dtype=np.int32))  # (stuck sensor, impossible count)
    deviation_scale: np.ndarray = field(  # facility_idx -> typical level std (RMS over bins); a
        default_factory=lambda: np.zeros(0, dtype=np.float32))  # deviation's unit (float32)
    # Correlation of a deviation from the profile after a lag of h seconds:
    # nugget * (short_weight * exp(-h / short_s) + (1 - short_weight) * exp(-h / long_s)).
    # Defaults (used when a history is too short to fit them): Montpellier, January-June 2026.
    deviation_nugget: float = 0.97
    deviation_short_weight: float = 0.59
    deviation_short_s: float = 7.4 * 3600.0
    deviation_long_s: float = 17.0 * 86_400.0
    full_persistence_s: float = 3000.0  # P(still full h later | full now) ~ exp(-h / this)


@dataclass(frozen=True)
class StreetZones:
    """On-street parking zones: each one a street segment side (or a city's kerb segment) that is
    also an ``ON_STREET`` facility of :class:`Parking`, with the line drawn for it.

    Polylines are flat: zone ``z`` is drawn through ``line_lon/line_lat[line_offsets[z]:
    line_offsets[z + 1]]`` (WGS84 degrees, already offset to its side of the street).
    """

    facility_idx: np.ndarray        # zone_idx -> facility_idx (int32)
    side: np.ndarray                # zone_idx -> ZONE_LEFT, ZONE_RIGHT or ZONE_SIDE_UNKNOWN (int8)
    length_m: np.ndarray            # zone_idx -> kerb length usable for parking (float64, metres)
    fee: np.ndarray                 # zone_idx -> 1 paid, 0 free, -1 unknown (int8)
    maxstay_s: np.ndarray           # zone_idx -> longest stay allowed (float64 s), inf when none
    street_name: np.ndarray         # zone_idx -> str ('' when unnamed)
    line_offsets: np.ndarray        # zone_idx -> first vertex in line_lon/line_lat (int64, n + 1)
    line_lon: np.ndarray            # vertex -> degrees (WGS84)
    line_lat: np.ndarray            # vertex -> degrees (WGS84)

    @property
    def n_zones(self) -> int:
        return int(self.facility_idx.shape[0])

    def line(self, zone_idx: int) -> tuple[np.ndarray, np.ndarray]:
        """(lon, lat) vertices of one zone's line."""
        a, b = int(self.line_offsets[zone_idx]), int(self.line_offsets[zone_idx + 1])
        return np.asarray(self.line_lon[a:b]), np.asarray(self.line_lat[a:b])

    def renumbered(self, new_facility_idx: np.ndarray) -> StreetZones | None:
        """The zones after facilities were removed: ``new_facility_idx`` maps an old facility_idx
        to its new one or NO_INDEX (removed). Zones of removed facilities go; None when none is
        left."""
        new = np.asarray(new_facility_idx)[np.asarray(self.facility_idx)]
        keep = np.flatnonzero(new != NO_INDEX)
        if keep.size == 0:
            return None
        offsets = np.asarray(self.line_offsets)
        vertices = np.concatenate([np.arange(offsets[z], offsets[z + 1]) for z in keep])
        lengths = offsets[keep + 1] - offsets[keep]
        return StreetZones(
            facility_idx=new[keep].astype(np.int32), side=np.asarray(self.side)[keep],
            length_m=np.asarray(self.length_m)[keep], fee=np.asarray(self.fee)[keep],
            maxstay_s=np.asarray(self.maxstay_s)[keep],
            street_name=np.asarray(self.street_name)[keep],
            line_offsets=np.r_[0, np.cumsum(lengths)].astype(np.int64),
            line_lon=np.asarray(self.line_lon)[vertices], line_lat=np.asarray(self.line_lat)[vertices])


@dataclass(frozen=True)
class Parking:
    """Parking facilities, their links to the street graph and their occupancy data.

    ``capacity_estimated`` (None in bundles built before street zones) marks capacities that are
    an estimate (a zone's spaces from its kerb length) rather than a count; ``zones`` holds the
    on-street zones' geometry and rules (None when the network has none).
    """

    facility_ids: np.ndarray        # facility_idx -> id (str, stable across builds)
    facility_name: np.ndarray       # facility_idx -> str
    kind: np.ndarray                # facility_idx -> ParkingKind (int8)
    lon: np.ndarray                 # facility_idx -> degrees (WGS84)
    lat: np.ndarray                 # facility_idx -> degrees (WGS84)
    capacity: np.ndarray            # facility_idx -> spaces (int32), UNKNOWN_CAPACITY if unknown
    car_node_idx: np.ndarray        # facility_idx -> street node where a car enters, or NO_INDEX
    walk_node_idx: np.ndarray       # facility_idx -> street node where a pedestrian leaves, or NO_INDEX
    source: np.ndarray              # facility_idx -> where the record came from ('osm', 'ngsi', ...)
    history: OccupancyHistory | None = None
    profile: OccupancyProfile | None = None
    capacity_estimated: np.ndarray | None = None  # facility_idx -> bool, capacity is an estimate
    zones: StreetZones | None = None
    # Bike-share stations: the profile of *bikes* available (the history mirrored, bikes as the
    # free spaces; engine.parking.bikes), beside ``profile`` (free docks). None in bundles built
    # before it existed or without bike-share history: the forecaster then treats bikes as unknown.
    bikes_profile: OccupancyProfile | None = None

    @property
    def n_facilities(self) -> int:
        return int(self.facility_ids.shape[0])

    @classmethod
    def empty(cls) -> Parking:
        none_i = np.zeros(0, dtype=np.int32)
        return cls(facility_ids=np.zeros(0, dtype=str), facility_name=np.zeros(0, dtype=str),
                   kind=np.zeros(0, dtype=np.int8), lon=np.zeros(0), lat=np.zeros(0),
                   capacity=none_i, car_node_idx=none_i, walk_node_idx=none_i,
                   source=np.zeros(0, dtype=str))


# ---------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Network:
    """Everything a query needs: streets, timetable, parking and the links between them.

    ``street`` is None for a transit-only network (walking is then straight-line distance times
    ``walk_detour_factor``). ``stop_walk_node_idx``/``stop_walk_offset_m`` link each stop to the
    nearest node of the walk component (NO_INDEX and inf when there is none within reach).
    """

    timezone: str
    projection: LocalProjection
    bbox: tuple                     # (min_lon, min_lat, max_lon, max_lat) degrees
    street: StreetGraph | None = None
    timetable: Timetable | None = None
    parking: Parking = field(default_factory=Parking.empty)
    stop_walk_node_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    stop_walk_offset_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    walk_detour_factor: float = 1.3  # street distance / straight-line distance without streets
    metadata: dict = field(default_factory=dict)  # build info, counts, warnings (JSON-able)
