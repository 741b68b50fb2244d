"""Street modifications: ``add-bike-lane``, ``set-car-speed``, ``close-street``.

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
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from engine.model import NO_INDEX, Mode, Network, Timetable
from engine.scenario.base import Change, Modification, ScenarioError, _plural
from engine.scenario.fields import _ids, _lonlat_points, _modes, _polygon_rings, _positive
from engine.scenario.geometry import edges_in_polygon
from engine.scenario.lookups import _need_street
from engine.scenario.timetable import _footpath_arrays, rebuild_footpaths


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
