"""What the RAPTOR kernels' labels hold: the sentinels of a label's time and predecessor, how a
label was reached, and the components of a journey that the matrix kernel keeps per label.

Shared by the round helpers (:mod:`engine.transit.rounds`), the kernels and the wrappers.
"""
from __future__ import annotations

import numpy as np

UNREACHED = np.iinfo(np.int32).max
"""Arrival time (s) of a stop or target not reached."""

NO_PREDECESSOR = -1
"""Trip or stop index of a label that has no predecessor recorded."""

FROM_ACCESS = -2
"""Predecessor of a round-0 label: the origin, through the access list."""

_KIND_VEHICLE = 0   # a label reached by alighting from a trip
_KIND_FOOT = 1      # a label reached on foot (access or footpath)

# the components of a label's journey (the matrix's time breakdown), when a kernel keeps them
_COMP_ACCESS = 0      # seconds walking to the first stop (with a footpath right after)
_COMP_RIDE = 1        # seconds in vehicles
_COMP_WALK = 2        # seconds of footpaths between rides
_COMP_TRIPS = 3       # number of trips
_N_COMP = 4
