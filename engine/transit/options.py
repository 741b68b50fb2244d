"""Query options: :class:`TransitOptions`, their defaults, and the transit mode names of GTFS
route types that ``TransitOptions.modes`` filters on."""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TRANSFER_SLACK_S = 60
"""Same-stop transfer time (s) where transfers.txt gives none; see the module docstring."""

DEFAULT_MAX_TRANSFERS = 12
"""Transfers a query may make by default: OpenTripPlanner's default (R5 allows 8 rides). Measured
by ``python bench/transit.py`` on the same 200 earliest-arrival queries against a 30-transfer
reference: on the 3.1M-stop_time synthetic city 5 transfers cut 82 answers (later or missing), 8
cut 15, 12 cut none, for a p50 of 21.9 / 28.9 / 35.0 ms; on Porto Alegre none is cut at any of
them (p50 0.8-1.0 ms). RAPTOR stops once a round improves nothing, so a real city pays little."""
DEFAULT_WALK_SPEED_MPS = 1.3
"""Walking speed at which footpaths are computed at build time (engine.transit.footpaths)."""

ROUTE_MODES = ("TRAM", "SUBWAY", "RAIL", "BUS", "FERRY", "CABLE_TRAM", "GONDOLA", "FUNICULAR",
               "TROLLEYBUS", "MONORAIL", "COACH", "TAXI", "AIRPLANE")


def route_mode(route_type: int) -> str:
    """The transit mode name of a GTFS route_type, basic (0-12) or extended (100-1700).

    >>> route_mode(3), route_mode(900), route_mode(715)
    ('BUS', 'TRAM', 'BUS')
    """
    t = int(route_type)
    basic = {0: "TRAM", 1: "SUBWAY", 2: "RAIL", 3: "BUS", 4: "FERRY", 5: "CABLE_TRAM",
             6: "GONDOLA", 7: "FUNICULAR", 11: "TROLLEYBUS", 12: "MONORAIL"}
    if t in basic:
        return basic[t]
    hundreds = t // 100
    extended = {1: "RAIL", 2: "COACH", 4: "SUBWAY", 5: "SUBWAY", 6: "SUBWAY", 7: "BUS", 8: "TROLLEYBUS",
                9: "TRAM", 10: "FERRY", 11: "AIRPLANE", 12: "FERRY", 13: "GONDOLA", 14: "FUNICULAR",
                15: "TAXI", 16: "TAXI", 17: "BUS"}
    return extended.get(hundreds, "BUS")


@dataclass(frozen=True)
class TransitOptions:
    """Query options.

    ``modes``: transit mode names (see :data:`ROUTE_MODES`, :func:`route_mode`) allowed, None for
    all. ``wheelchair``: only trips and stops marked accessible (GTFS value 1; unknown counts as
    not accessible). ``walk_speed_mps`` scales footpath times, which are stored at
    :data:`DEFAULT_WALK_SPEED_MPS` (transfers.txt minimum times are scaled with them).
    """

    max_transfers: int = DEFAULT_MAX_TRANSFERS
    transfer_slack_s: int = DEFAULT_TRANSFER_SLACK_S
    walk_speed_mps: float = DEFAULT_WALK_SPEED_MPS
    modes: frozenset | None = None
    wheelchair: bool = False
    max_duration_s: int = 24 * 3600

    def __post_init__(self):
        if not 0 <= self.max_transfers <= 30:
            raise ValueError(f"max_transfers must be between 0 and 30, got {self.max_transfers}")
        if self.transfer_slack_s < 0:
            raise ValueError(f"transfer_slack_s must be >= 0, got {self.transfer_slack_s}")
        if not self.walk_speed_mps > 0:
            raise ValueError(f"walk_speed_mps must be > 0, got {self.walk_speed_mps}")
        if self.max_duration_s <= 0:
            raise ValueError(f"max_duration_s must be > 0, got {self.max_duration_s}")
        if self.modes is not None:
            modes = frozenset(str(m).upper() for m in self.modes)
            unknown = modes - set(ROUTE_MODES)
            if unknown:
                raise ValueError(f"unknown transit modes {sorted(unknown)}; known: {list(ROUTE_MODES)}")
            object.__setattr__(self, "modes", modes)


DEFAULT_OPTIONS = TransitOptions()
