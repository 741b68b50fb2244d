"""Named numbers of street routing shared by its modules: sentinels, methods, landmark counts."""
from __future__ import annotations

import math

UNREACHED = math.inf
"""Cost of a node or target a search did not reach (within its limit)."""

NO_PREDECESSOR = -1
"""Predecessor edge of a source node or of a node not reached."""

METHODS = ("dijkstra", "astar", "alt", "bidirectional")
"""One-to-one search methods (same results): plain, A* with the straight-line bound, A* with
landmarks (ALT, preprocessed per graph and mode on first use), bidirectional Dijkstra.
See ``bench/street.py`` for which wins where."""

DEFAULT_METHOD = "auto"
"""``auto``: ALT when the mode's landmarks are built (see :func:`prepare`) or the call has at least
``AUTO_LANDMARK_QUERIES`` queries (worth building them), else A* with the straight-line bound."""

AUTO_LANDMARK_QUERIES = 64


# Landmarks (ALT): how many per mode, how many a query uses, and the relative rounding of the
# float32 distance table (2**-24 per value, doubled for safety).
N_LANDMARKS = 16
N_ACTIVE_LANDMARKS = 4
_LM_EPS = 1.2e-7
