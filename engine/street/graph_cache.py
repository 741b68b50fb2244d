"""Per-graph derived data of street routing, kept while the graph lives: the graph's arrays as
plain ndarrays for the kernels, straight-line edge lengths, and the caches of profile costs,
snapping trees and landmark tables."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.cache import Memo, PerObject
from engine.model import StreetGraph

_MAX_CACHED_PROFILES = 16


class _GraphCache:
    """Per-graph derived data (cost arrays per profile, snapping trees), dropped with the graph."""

    def __init__(self):
        self.profiles: Memo = Memo(size=_MAX_CACHED_PROFILES)   # StreetProfile -> _ProfileArrays
        self.snap_index: Memo = Memo()                          # Mode -> _SnapIndex
        self.landmarks: Memo = Memo()                           # Mode -> ALT table
        self.chord_m: np.ndarray | None = None
        self.path_arrays: tuple | None = None
        self.topology: _Topology | None = None


_cache_of = PerObject(lambda graph: _GraphCache())
"""The _GraphCache of a StreetGraph (kept while the graph lives)."""


@dataclass(frozen=True)
class _Topology:
    """The graph's arrays as plain ndarrays (bundles hand out memory maps) for the kernels."""

    indptr: np.ndarray
    indices: np.ndarray
    edge_tail: np.ndarray
    rev_indptr: np.ndarray
    rev_indices: np.ndarray
    rev_edge: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray


def _topology(graph: StreetGraph) -> _Topology:
    cache = _cache_of(graph)
    if cache.topology is None:
        def arr(a, dtype):
            return np.ascontiguousarray(np.asarray(a), dtype=dtype)
        cache.topology = _Topology(
            indptr=arr(graph.indptr, np.int32), indices=arr(graph.indices, np.int32),
            edge_tail=arr(graph.edge_tail, np.int32), rev_indptr=arr(graph.rev_indptr, np.int32),
            rev_indices=arr(graph.rev_indices, np.int32), rev_edge=arr(graph.rev_edge, np.int32),
            node_x=arr(graph.node_x_m, np.float64), node_y=arr(graph.node_y_m, np.float64))
    return cache.topology


def _chord_m(graph: StreetGraph) -> np.ndarray:
    cache = _cache_of(graph)
    if cache.chord_m is None:
        dx = graph.node_x_m[graph.indices] - graph.node_x_m[graph.edge_tail]
        dy = graph.node_y_m[graph.indices] - graph.node_y_m[graph.edge_tail]
        cache.chord_m = np.hypot(dx, dy)
    return cache.chord_m


def _path_arrays(graph: StreetGraph) -> tuple:
    """(edge length m, edge -> way, way -> name id (equal names, equal ids), node lon, node lat) as
    plain ndarrays for :func:`engine.street.path_kernels._path_geometry`."""
    cache = _cache_of(graph)
    if cache.path_arrays is None:
        names = np.asarray(graph.way_name)
        name_id = (np.unique(names, return_inverse=True)[1].astype(np.int64).reshape(-1) if names.size
                   else np.zeros(0, np.int64))
        cache.path_arrays = (np.ascontiguousarray(graph.edge_length_m, dtype=np.float64),
                             np.ascontiguousarray(graph.edge_way_idx, dtype=np.int64), name_id,
                             np.ascontiguousarray(graph.node_lon, dtype=np.float64),
                             np.ascontiguousarray(graph.node_lat, dtype=np.float64))
    return cache.path_arrays
