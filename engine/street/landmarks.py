"""Landmarks (ALT): per graph and mode, the cost tables that give A* its triangle-inequality
bounds, and :func:`prepare`, which builds them (and the snapping trees) ahead of the queries."""
from __future__ import annotations

import numpy as np

from engine.deadline import NO_FLAG
from engine.model import Mode, StreetGraph
from engine.street.constants import N_LANDMARKS
from engine.street.graph_cache import _cache_of, _topology
from engine.street.kernels import _dijkstra
from engine.street.snapping import _snap_index
from engine.street.workspace import _F_DIST, _workspaces

_NO_LANDMARKS = np.zeros((0, 0), dtype=np.float32)


def _landmarks(graph: StreetGraph, mode: Mode, n_landmarks: int = N_LANDMARKS) -> np.ndarray:
    """(n_nodes, 2L) float32: cost from each of L landmarks to every node, then to them.

    Costs are the graph's stored ones for the mode (a profile's costs are at least its
    ``lm_scale`` times those). Landmarks are chosen by farthest selection within the mode's
    largest component: each new one is the node farthest from those already chosen. Takes 2L
    full searches, once per graph and mode (about 1 s on a 250,000-node grid).
    """
    mode = Mode(mode)
    return _cache_of(graph).landmarks.get(mode, lambda: _compute_landmarks(graph, mode, n_landmarks))


def _compute_landmarks(graph: StreetGraph, mode: Mode, n_landmarks: int) -> np.ndarray:
    n = graph.n_nodes
    comp = np.flatnonzero(np.asarray(graph.node_in_component[mode]))
    n_lm = min(n_landmarks, comp.size)
    table = np.full((n, 2 * n_lm), np.inf, dtype=np.float32)
    if n_lm:
        topo = _topology(graph)
        cost = np.ascontiguousarray(graph.cost_s(mode), dtype=np.float64)
        rev_cost = cost[topo.rev_edge]
        ws, _ = _workspaces(n)
        none = np.zeros(0, dtype=np.int32)

        def full_search(node, indptr, indices, c):
            _dijkstra(indptr, indices, c, np.array([node], dtype=np.int32), np.zeros(1), none,
                      np.zeros(0), False, np.inf, ws.fbuf, ws.ibuf, ws.count, NO_FLAG)
            return ws.fbuf[_F_DIST].copy()

        # Start from the component node nearest the centre of the component's bounding box.
        x, y = topo.node_x[comp], topo.node_y[comp]
        centre = comp[np.argmin(np.hypot(x - (x.min() + x.max()) / 2, y - (y.min() + y.max()) / 2))]
        nearest = full_search(centre, topo.indptr, topo.indices, cost)
        for i in range(n_lm):
            lmk = comp[np.argmax(np.where(np.isfinite(nearest[comp]), nearest[comp], -1.0))]
            fwd = full_search(lmk, topo.indptr, topo.indices, cost)
            table[:, i] = fwd
            table[:, n_lm + i] = full_search(lmk, topo.rev_indptr, topo.rev_indices, rev_cost)
            nearest = fwd if i == 0 else np.minimum(nearest, fwd)
    table.setflags(write=False)
    return table


def prepare(graph: StreetGraph, modes=tuple(Mode), *, landmarks: bool = True) -> None:
    """Build what queries would otherwise build on first use: snapping trees and, with
    ``landmarks``, the ALT tables of the given modes (for a server, at start-up)."""
    for mode in modes:
        _snap_index(graph, Mode(mode))
        if landmarks:
            _landmarks(graph, Mode(mode))
