"""Numba kernels reading paths and times out of a street search tree (its ``pred_edge``), for
the planner's street legs (``engine.planning.street_trees``)."""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def trace_tree(pred_edge, step_node, node, out_edges):
    """Edges from ``node`` to the root of a search tree, following ``pred_edge`` and stepping to
    ``step_node[edge]`` (the tail for a forward tree, the head for a backward one). Returns the
    count written into ``out_edges`` (in the order walked: from ``node`` towards the root)."""
    k = 0
    while pred_edge[node] >= 0 and k < out_edges.shape[0]:
        e = pred_edge[node]
        out_edges[k] = e
        k += 1
        node = step_node[e]
    return k


@numba.njit(cache=True, nogil=True)
def tree_times(pred_edge, step_node, edge_time_s, root_time_s, targets, out_s):
    """Travel time (s) from the root to each target along a search tree (whose costs may be
    generalized costs): the edge times summed, plus the root's own time offset."""
    for i in range(targets.shape[0]):
        v = targets[i]
        if v < 0:
            out_s[i] = np.inf
            continue
        total = 0.0
        steps = 0
        while pred_edge[v] >= 0 and steps < pred_edge.shape[0]:
            e = pred_edge[v]
            total += edge_time_s[e]
            v = step_node[e]
            steps += 1
        out_s[i] = total + root_time_s[v]
