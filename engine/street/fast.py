"""Street queries that take the contraction hierarchy when it is ready, else the searches.

The planner (``engine.planning``) asks these instead of choosing itself. A query runs on the
hierarchy when the graph has one (attached from its bundle, or built by
:func:`engine.street.ch.prepare_hierarchy`) and the profile's metric is customised already
(:func:`engine.street.ch.ready_metric`: a bundle stores the metric of each mode's stored costs;
``engine.planning.prepare`` customises the planner's default profiles). Otherwise, and for a
scenario graph whose costs were never customised, it runs the Dijkstra/ALT searches of
:mod:`engine.street.searches` and :mod:`engine.street.routing`. Both give equal costs; paths
may differ only between ties of equal cost.
"""
from __future__ import annotations

import math

import numpy as np

from engine.deadline import Deadline, check
from engine.model import StreetGraph
from engine.street.ch import ch_many_to_many, ch_pair_costs, ready_metric
from engine.street.ch_routing import ch_route
from engine.street.constants import DEFAULT_METHOD
from engine.street.paths import StreetPath
from engine.street.profiles import StreetProfile
from engine.street.routing import route
from engine.street.searches import many_to_many, pair_costs
from engine.street.snapping import Snap


def fast_route(graph: StreetGraph, origin: Snap, destination: Snap, profile: StreetProfile, *,
               max_cost: float = math.inf, deadline: Deadline | None = None) -> StreetPath | None:
    """:func:`engine.street.route` (same cost), on the hierarchy when its metric is ready."""
    met = ready_metric(graph, profile)
    if met is None:
        return route(graph, origin, destination, profile, max_cost=max_cost, method=DEFAULT_METHOD,
                     deadline=deadline)
    check(deadline, f"a {profile.mode.name.lower()} street route")
    return ch_route(graph, origin, destination, profile, max_cost=max_cost)


def fast_one_to_one(graph: StreetGraph, profile: StreetProfile, source_node: int, target_node: int, *,
                    deadline: Deadline | None = None) -> float:
    """:func:`engine.street.one_to_one`, on the hierarchy when its metric is ready."""
    met = ready_metric(graph, profile)
    if met is None:
        return float(pair_costs(graph, profile, [source_node], [target_node], deadline=deadline)[0])
    check(deadline, f"a {profile.mode.name.lower()} street search")
    return float(ch_pair_costs(graph, met, [source_node], [target_node])[0])


def fast_many_to_many(graph: StreetGraph, profile: StreetProfile, source_nodes, target_nodes, *,
                      deadline: Deadline | None = None) -> np.ndarray:
    """:func:`engine.street.many_to_many` (costs (s), UNREACHED where no path), by bucket
    many-to-many on the hierarchy when its metric is ready."""
    met = ready_metric(graph, profile)
    if met is None:
        return many_to_many(graph, profile, source_nodes, target_nodes, deadline=deadline)
    check(deadline, f"{profile.mode.name.lower()} street searches")
    return ch_many_to_many(graph, met, source_nodes, target_nodes)
