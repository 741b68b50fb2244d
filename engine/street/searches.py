"""Node-level searches, the Python face of the kernels: one search tree (:func:`search`), costs
one-to-many, many-to-many, pairwise (:func:`pair_costs`, all pairs in one kernel call) and
one-to-one. Wrappers check inputs, pick the method and hand the kernels flat arrays."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.deadline import Deadline, check, flag_of
from engine.model import Mode, StreetGraph
from engine.street.constants import (
    AUTO_LANDMARK_QUERIES,
    DEFAULT_METHOD,
    METHODS,
    NO_PREDECESSOR,
    UNREACHED,
)
from engine.street.graph_cache import _cache_of, _topology
from engine.street.kernels import _dijkstra, _many_to_many_kernel, _pairs_kernel
from engine.street.landmarks import _NO_LANDMARKS, _landmarks
from engine.street.profiles import StreetProfile, _profile_arrays
from engine.street.workspace import _F_DIST, _I_POS, _I_PRED, _I_TOUCHED, _SETTLED, _workspaces

_METHOD_CODE = {name: i for i, name in enumerate(METHODS)}


def _as_nodes(graph: StreetGraph, nodes, name: str) -> np.ndarray:
    if isinstance(nodes, int | np.integer) and not isinstance(nodes, bool):  # the common scalar
        if 0 <= nodes < graph.n_nodes:
            return np.array([nodes], dtype=np.int32)
        raise ValueError(f"{name}: node index {nodes} is outside the graph (0..{graph.n_nodes - 1})")
    arr = np.atleast_1d(np.asarray(nodes))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a node index or a 1-d sequence of them")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer node indices, got {arr.dtype}")
    arr = arr.astype(np.int32, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= graph.n_nodes):
        bad = arr[(arr < 0) | (arr >= graph.n_nodes)][0]
        raise ValueError(f"{name}: node index {bad} is outside the graph (0..{graph.n_nodes - 1})")
    return np.ascontiguousarray(arr)


def _as_costs(values, n: int, name: str) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=np.float64)
    arr = np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)))
    if np.isnan(arr).any() or (arr < 0).any():
        raise ValueError(f"{name} must be >= 0 (seconds), got NaN or negative values")
    return arr


def _check_limit(max_cost: float) -> float:
    max_cost = float(max_cost)
    if math.isnan(max_cost) or max_cost < 0:
        raise ValueError(f"max_cost must be >= 0 seconds (or inf), got {max_cost}")
    return max_cost


@dataclass(frozen=True)
class StreetSearch:
    """Result of :func:`search`: cost at every node and the shortest-path tree.

    ``cost[v]`` is the least cost (s) from the sources to v (to the sources when ``reverse``),
    UNREACHED if v was not settled. ``pred_edge[v]`` is the edge that enters v on its best path
    (reverse: the edge that leaves v toward the sources), NO_PREDECESSOR at sources and
    unreached nodes.
    """

    profile: StreetProfile
    reverse: bool
    cost: np.ndarray
    pred_edge: np.ndarray

    def reached(self) -> np.ndarray:
        """Indices of the nodes reached, by increasing cost."""
        nodes = np.flatnonzero(np.isfinite(self.cost))
        return nodes[np.argsort(self.cost[nodes], kind="stable")]


def search(graph: StreetGraph, profile: StreetProfile, source_nodes, source_cost=None, *,
           target_nodes=None, max_cost: float = math.inf, reverse: bool = False,
           use_time: bool = False, deadline: Deadline | None = None) -> StreetSearch:
    """Multi-source Dijkstra from nodes (each starting at ``source_cost`` s, default 0).

    With ``target_nodes`` the search stops once all of them are settled (other nodes may then
    be left UNREACHED); with ``max_cost`` it settles only nodes within that cost. ``reverse``
    searches the reversed graph: ``cost[v]`` is then the least cost from v *to* the sources
    ("everything that reaches this point"). ``use_time`` minimises travel time instead of the
    generalized cost (they differ only with a bike-lane preference).
    Raises ValueError naming the argument for a node outside the graph or a negative cost, and
    :class:`engine.deadline.DeadlineExceeded` once ``deadline`` (None: no limit) has passed.
    """
    sources = _as_nodes(graph, source_nodes, "source_nodes")
    offsets = _as_costs(source_cost, sources.size, "source_cost")
    targets = (np.zeros(0, dtype=np.int32) if target_nodes is None
               else _as_nodes(graph, target_nodes, "target_nodes"))
    max_cost = _check_limit(max_cost)
    arrays = _profile_arrays(graph, profile)
    ws, _ = _workspaces(graph.n_nodes)
    topo = _topology(graph)
    if reverse:
        indptr, indices = topo.rev_indptr, topo.rev_indices
        cost = arrays.rev_time_s if use_time else arrays.rev_cost
    else:
        indptr, indices = topo.indptr, topo.indices
        cost = arrays.time_s if use_time else arrays.cost
    what = f"a {profile.mode.name.lower()} street search"
    check(deadline, what)
    _dijkstra(indptr, indices, cost, sources, offsets, targets, np.zeros(targets.size), False,
              max_cost, ws.fbuf, ws.ibuf, ws.count, flag_of(deadline))
    check(deadline, what)
    touched = ws.ibuf[_I_TOUCHED, :ws.count[0]]
    settled = touched[ws.ibuf[_I_POS, touched] == _SETTLED]
    cost_out = np.full(graph.n_nodes, UNREACHED)
    cost_out[settled] = ws.fbuf[_F_DIST, settled]
    pred = np.full(graph.n_nodes, NO_PREDECESSOR, dtype=np.int32)
    slots = ws.ibuf[_I_PRED, settled]
    if reverse:
        slots = np.where(slots >= 0, topo.rev_edge[np.maximum(slots, 0)], NO_PREDECESSOR)
    pred[settled] = slots
    return StreetSearch(profile=profile, reverse=reverse, cost=cost_out, pred_edge=pred)


def one_to_many(graph: StreetGraph, profile: StreetProfile, source_node: int, target_nodes, *,
                max_cost: float = math.inf, reverse: bool = False,
                deadline: Deadline | None = None) -> np.ndarray:
    """Cost (s) from one node to each target node (from each target to it when ``reverse``).

    One search that stops when every target is settled; UNREACHED where not within max_cost.
    """
    costs = many_to_many(graph, profile, [source_node], target_nodes, max_cost=max_cost,
                         reverse=reverse, deadline=deadline)
    return costs[0]


def many_to_many(graph: StreetGraph, profile: StreetProfile, source_nodes, target_nodes, *,
                 max_cost: float = math.inf, reverse: bool = False,
                 deadline: Deadline | None = None) -> np.ndarray:
    """(n_sources, n_targets) matrix of costs (s), one early-stopping search per source.

    ``reverse`` gives cost from each target to each source instead (searches on the reversed
    graph), still indexed [source, target]. UNREACHED where not within max_cost. Raises
    DeadlineExceeded once ``deadline`` has passed.
    """
    sources = _as_nodes(graph, source_nodes, "source_nodes")
    targets = _as_nodes(graph, target_nodes, "target_nodes")
    max_cost = _check_limit(max_cost)
    arrays = _profile_arrays(graph, profile)
    ws, _ = _workspaces(graph.n_nodes)
    out = np.empty((sources.size, targets.size), dtype=np.float64)
    topo = _topology(graph)
    what = f"{sources.size} x {targets.size} {profile.mode.name.lower()} street searches"
    check(deadline, what)
    if reverse:
        _many_to_many_kernel(topo.rev_indptr, topo.rev_indices, arrays.rev_cost, sources, targets,
                             max_cost, ws.fbuf, ws.ibuf, ws.count, out, flag_of(deadline))
    else:
        _many_to_many_kernel(topo.indptr, topo.indices, arrays.cost, sources, targets, max_cost,
                             ws.fbuf, ws.ibuf, ws.count, out, flag_of(deadline))
    check(deadline, what)
    return out


def _resolve_method(graph: StreetGraph, mode: Mode, method: str, n_queries: int) -> str:
    if method == "auto":
        if n_queries >= AUTO_LANDMARK_QUERIES or _cache_of(graph).landmarks.peek(mode) is not None:
            return "alt"
        return "astar"
    if method not in _METHOD_CODE:
        raise ValueError(f"method must be 'auto' or one of {METHODS}, got {method!r}")
    return method


def _run_pairs(graph, profile, method, q_src_ptr, q_src_node, q_src_cost, q_tgt_ptr, q_tgt_node,
               q_tgt_cost, q_goal_x, q_goal_y, max_cost, deadline: Deadline | None = None
               ) -> np.ndarray:
    what = f"{q_src_ptr.size - 1} {profile.mode.name.lower()} street searches between pairs"
    check(deadline, what)
    method = _resolve_method(graph, profile.mode, method, q_src_ptr.size - 1)
    arrays = _profile_arrays(graph, profile)
    lm = _landmarks(graph, profile.mode) if method == "alt" else _NO_LANDMARKS
    ws_f, ws_b = _workspaces(graph.n_nodes)
    out = np.empty(q_src_ptr.size - 1, dtype=np.float64)
    topo = _topology(graph)
    _pairs_kernel(_METHOD_CODE[method], topo.indptr, topo.indices, arrays.cost, topo.rev_indptr,
                  topo.rev_indices, arrays.rev_cost, topo.rev_edge, topo.node_x, topo.node_y,
                  arrays.astar_cost_per_m, lm, arrays.lm_scale, q_src_ptr, q_src_node, q_src_cost,
                  q_tgt_ptr, q_tgt_node, q_tgt_cost, q_goal_x, q_goal_y, max_cost,
                  ws_f.fbuf, ws_f.ibuf, ws_f.count, ws_b.fbuf, ws_b.ibuf, ws_b.count, out,
                  flag_of(deadline))
    check(deadline, what)
    return out


def pair_costs(graph: StreetGraph, profile: StreetProfile, source_nodes, target_nodes, *,
               max_cost: float = math.inf, method: str = DEFAULT_METHOD,
               deadline: Deadline | None = None) -> np.ndarray:
    """Cost (s) of each (source_nodes[i], target_nodes[i]) pair, all in one kernel call.

    ``method`` is "auto" or one of METHODS; all give the same costs. UNREACHED where there is no path
    within ``max_cost``. Raises ValueError for nodes outside the graph or arrays of unequal size,
    DeadlineExceeded once ``deadline`` has passed.
    """
    sources = _as_nodes(graph, source_nodes, "source_nodes")
    targets = _as_nodes(graph, target_nodes, "target_nodes")
    if sources.size != targets.size:
        raise ValueError(f"pair_costs: {sources.size} source_nodes but {targets.size} target_nodes")
    ptr = np.arange(sources.size + 1, dtype=np.int64)
    zeros = np.zeros(sources.size)
    topo = _topology(graph)
    return _run_pairs(graph, profile, method, ptr, sources, zeros, ptr, targets, zeros,
                      topo.node_x[targets], topo.node_y[targets], _check_limit(max_cost), deadline)


def one_to_one(graph: StreetGraph, profile: StreetProfile, source_node: int, target_node: int, *,
               max_cost: float = math.inf, method: str = DEFAULT_METHOD,
               deadline: Deadline | None = None) -> float:
    """Cost (s) from one node to another, UNREACHED when there is no path within max_cost."""
    return float(pair_costs(graph, profile, [source_node], [target_node], max_cost=max_cost,
                            method=method, deadline=deadline)[0])
