"""The street graph of the routable ways read from an OSM file: segments, nodes, directed edges
and their per-mode costs.

The graph
---------
Not simplified: every node of a routable way is a graph node (``node_osm_id``), every pair of
consecutive nodes of a way is a straight segment, and each segment becomes up to two directed
edges (forward = the way's node order). Lengths are great-circle metres
(:func:`engine.model.haversine_m`). A direction exists when at least one mode may use it; the
others get ``inf``. Segments touching a node missing from the extract are dropped and counted.

Costs (seconds; ``inf`` = mode not allowed in that direction)
--------------------------------------------------------------
* walk: ``length / walk_speed_mps``; steps take ``STEPS_WALK_FACTOR`` (2x) as long.
* bicycle: ``length / bike_speed_mps``; pushed (see ``rules.py``) at walking time.
* car: ``length / (speed_kmh / 3.6 * CAR_SPEED_FACTOR)``, with ``speed_kmh`` from
  ``maxspeed:forward`` / ``maxspeed:backward``, else ``maxspeed``, else a zone tag
  (``maxspeed:type``, ``source:maxspeed``, ``zone:maxspeed``), else the class fallback (``rules.py``).
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
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.model import LocalProjection, Mode, StreetGraph, haversine_m
from loaders.osm.reading import _Collected
from loaders.osm.rules import WayRules, way_rules
from loaders.report import BuildReport, LoaderError

CAR_SPEED_FACTOR = 0.8
"""Typical driving speed / posted (or fallback) speed limit."""

MIN_EDGE_TIME_S = 0.01
"""Cost of an edge between two distinct nodes at the same position (no cost is ever 0)."""


def _build_graph(raw: _Collected, report: BuildReport, file: str, walk_speed_mps: float,
                 bike_speed_mps: float, projection: LocalProjection | None) -> StreetGraph:
    """The street graph of the routable ways of ``raw``; every dropped way and segment counted.

    Raises LoaderError ``osm_no_streets`` when no way, or no located segment, is left.
    """
    for highway, n in sorted(raw.unroutable.items()):
        report.drop("highway ways", f"highway={highway} is not routable", n)
    report.drop("highway relations", "multipolygon highway areas are not routed (only ways are)",
                raw.n_highway_relations)
    rules, kept = _kept_ways(raw, report, file)
    seg = _segments(raw, kept, report, file)
    node_osm_id, node_lon, node_lat, tail, head = _nodes(seg)
    edges = _directed_edges(rules, seg, tail, head, walk_speed_mps, bike_speed_mps)

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


def _kept_ways(raw: _Collected, report: BuildReport, file: str) -> tuple[list[WayRules], list[int]]:
    """(rules of each kept way, its position in ``raw``): the ways some mode may use, with two
    nodes or more. LoaderError ``osm_no_streets`` when there is none."""
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
    return rules, kept


@dataclass(frozen=True)
class _Segments:
    """The located segments of the kept ways (index = segment)."""

    rule: np.ndarray        # -> position in the kept ways (and their rules)
    tail_ref: np.ndarray    # OSM node id of the first node
    head_ref: np.ndarray    # OSM node id of the second node
    tail_lon: np.ndarray    # degrees of the first node (then tail_lat, head_lon, head_lat)
    tail_lat: np.ndarray
    head_lon: np.ndarray
    head_lat: np.ndarray
    length_m: np.ndarray    # great-circle metres


def _segments(raw: _Collected, kept: list[int], report: BuildReport, file: str) -> _Segments:
    """Segments: consecutive node pairs of every kept way, without those touching a missing node
    or joining a node to itself (counted). LoaderError ``osm_no_streets`` when none is left."""
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
    length_m = haversine_m(tail_lon[keep], tail_lat[keep], head_lon[keep], head_lat[keep])
    if seg_rule[keep].size == 0:
        raise LoaderError.of("osm_no_streets", "no routable way has two located nodes",
                             file=file)
    n_zero = int((length_m == 0.0).sum())
    if n_zero:
        report.warn("zero_length_segment", f"{n_zero:,} segments join distinct nodes at the same "
                    f"position; they cost {MIN_EDGE_TIME_S} s", file=file, count=n_zero)
    return _Segments(rule=seg_rule[keep], tail_ref=tail_ref[keep], head_ref=head_ref[keep],
                     tail_lon=tail_lon[keep], tail_lat=tail_lat[keep], head_lon=head_lon[keep],
                     head_lat=head_lat[keep], length_m=length_m)


def _nodes(seg: _Segments) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nodes: every node of a segment, by OSM id: (node_osm_id sorted, node_lon, node_lat, tail
    node_idx of each segment, head node_idx of each segment)."""
    node_osm_id, first = np.unique(np.concatenate([seg.tail_ref, seg.head_ref]), return_index=True)
    all_lon = np.concatenate([seg.tail_lon, seg.head_lon])
    all_lat = np.concatenate([seg.tail_lat, seg.head_lat])
    node_lon, node_lat = all_lon[first], all_lat[first]
    tail = np.searchsorted(node_osm_id, seg.tail_ref)
    head = np.searchsorted(node_osm_id, seg.head_ref)
    return node_osm_id, node_lon, node_lat, tail, head


def _directed_edges(rules: list[WayRules], seg: _Segments, tail: np.ndarray, head: np.ndarray,
                    walk_speed_mps: float, bike_speed_mps: float) -> dict[str, np.ndarray]:
    """Per-rule (way) attributes, then per directed edge: the forward edges of the segments some
    mode may use forward, then the backward ones. Keys: tail, head (node_idx), length (m), walk,
    bike, car (s, ``inf`` = not allowed), lane (bike lane), way (position in the kept ways)."""
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
        exists = (allowed["walk"] | allowed["bike"] | allowed["car"])[seg.rule]
        r = seg.rule[exists]
        seg_len = seg.length_m[exists]
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
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


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

