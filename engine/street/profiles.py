"""Street profiles (how one traveller moves) and the per-edge cost and time arrays they give.

Costs are seconds of travel time, except that a bicycle profile with ``bike_lane_preference``
p > 0 pays ``(1 + p)`` times the travel time on edges without a bike lane (the *generalized
cost* searches minimise). Arrays are cached per (graph, profile) and read-only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.model import Mode, StreetGraph
from engine.street.graph_cache import _cache_of, _chord_m

# Float rounding may break the triangle inequality of straight-line bounds by a few ulps; shrink
# the A* bound so it never overestimates.
_ASTAR_SAFETY = 1.0 - 1e-9


@dataclass(frozen=True)
class StreetProfile:
    """How one traveller moves on the streets.

    ``walk_speed_mps`` and ``bike_speed_mps`` rescale the graph's stored walk and bike times
    (which keep their per-edge shape: steps stay slower than flat ground). Car times come from
    the graph. ``bike_lane_preference`` p >= 0 makes every bike edge without a bike lane cost
    ``(1 + p)`` times its travel time: p = 0.25 accepts a detour of up to 25 % of the time spent
    off bike lanes to ride on them. Raises ValueError naming the parameter when out of range.
    """

    mode: Mode
    walk_speed_mps: float = 1.3
    bike_speed_mps: float = 4.5
    bike_lane_preference: float = 0.0

    def __post_init__(self):
        try:
            object.__setattr__(self, "mode", Mode(self.mode))
        except ValueError:
            raise ValueError(f"StreetProfile: mode must be one of {[m.name for m in Mode]}, "
                             f"got {self.mode!r}") from None
        for name in ("walk_speed_mps", "bike_speed_mps"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"StreetProfile: {name} must be a positive number, got {value}")
            object.__setattr__(self, name, value)
        p = float(self.bike_lane_preference)
        if not (math.isfinite(p) and p >= 0):
            raise ValueError(f"StreetProfile: bike_lane_preference must be >= 0, got {p}")
        object.__setattr__(self, "bike_lane_preference", p)


@dataclass(frozen=True)
class _ProfileArrays:
    cost: np.ndarray          # edge_idx -> generalized cost (s), inf = not allowed
    rev_cost: np.ndarray      # reversed-CSR slot -> cost of the forward edge rev_edge[slot]
    time_s: np.ndarray        # edge_idx -> travel time (s), inf = not allowed
    rev_time_s: np.ndarray    # reversed-CSR slot -> travel time
    astar_cost_per_m: float   # lower bound of cost per metre of straight line
    lm_scale: float           # profile cost / stored cost of the mode is at least this


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _profile_arrays(graph: StreetGraph, profile: StreetProfile) -> _ProfileArrays:
    if not isinstance(profile, StreetProfile):
        raise TypeError(f"profile must be a StreetProfile, got {type(profile).__name__}")
    return _cache_of(graph).profiles.get(profile, lambda: _compute_profile_arrays(graph, profile))


def _compute_profile_arrays(graph: StreetGraph, profile: StreetProfile) -> _ProfileArrays:
    stored = np.asarray(graph.cost_s(profile.mode), dtype=np.float64)
    if profile.mode == Mode.WALK:
        time_s_scale = graph.walk_speed_mps / profile.walk_speed_mps
    elif profile.mode == Mode.BICYCLE:
        time_s_scale = graph.bike_speed_mps / profile.bike_speed_mps
    else:
        time_s_scale = 1.0
    time_s = stored * time_s_scale
    cost = time_s
    if profile.mode == Mode.BICYCLE and profile.bike_lane_preference > 0:
        cost = np.where(np.asarray(graph.edge_is_bike_lane, dtype=bool), time_s,
                        time_s * (1.0 + profile.bike_lane_preference))
    rev_edge = np.asarray(graph.rev_edge)
    return _ProfileArrays(cost=_readonly(cost), rev_cost=_readonly(cost[rev_edge]),
                          time_s=_readonly(time_s), rev_time_s=_readonly(time_s[rev_edge]),
                          astar_cost_per_m=_astar_cost_per_m(cost, _chord_m(graph)),
                          lm_scale=float(time_s_scale) * _ASTAR_SAFETY)


def _astar_cost_per_m(cost: np.ndarray, chord_m: np.ndarray) -> float:
    """The largest c with cost(e) >= c * chord(e) for every allowed edge.

    ``chord`` is the straight-line length of the edge in the graph's projection, so by the
    triangle inequality c * |v - goal| (in the same projection) never exceeds the cost of any
    path from v to the goal: a consistent A* bound that does not depend on how edge lengths were
    measured, nor on the projection's scale error. Degenerate (zero-length) edges bound nothing.
    """
    ok = np.isfinite(cost) & (chord_m > 0)
    if not ok.any():
        return 0.0
    return float(np.min(cost[ok] / chord_m[ok])) * _ASTAR_SAFETY


def edge_costs(graph: StreetGraph, profile: StreetProfile) -> np.ndarray:
    """Generalized cost (s) of every edge for a profile, inf where the mode may not go.

    Travel time at the profile's speeds, times ``1 + bike_lane_preference`` on bike edges without
    a bike lane. Cached per (graph, profile); the array is read-only.
    """
    return _profile_arrays(graph, profile).cost


def edge_times(graph: StreetGraph, profile: StreetProfile) -> np.ndarray:
    """Travel time (s) of every edge at the profile's speeds, inf where the mode may not go."""
    return _profile_arrays(graph, profile).time_s
