"""Workspaces: preallocated search state per thread, reset lazily through a list of touched nodes.

A search resets only the nodes the previous search touched, so a short query on a 250,000-node
graph costs what it explores, not ``O(n)``.
"""
from __future__ import annotations

import threading

import numpy as np

from engine.street.constants import NO_PREDECESSOR

_NOT_IN_HEAP = -1   # pos[] of a node never pushed (or reset)
_SETTLED = -2       # pos[] of a node popped with its final cost

# fbuf rows: 0 dist, 1 heap key, 2 target offset (inf = not a target), 3 A* bound
# ibuf rows: 0 predecessor (edge or reversed slot), 1 heap position / state, 2 heap node, 3 touched
_F_DIST, _F_KEY, _F_TARGET, _F_BOUND = 0, 1, 2, 3
_I_PRED, _I_POS, _I_HEAP, _I_TOUCHED = 0, 1, 2, 3


class _Workspace:
    __slots__ = ("fbuf", "ibuf", "count")

    def __init__(self, n: int):
        self.fbuf = np.empty((4, n), dtype=np.float64)
        self.fbuf[_F_DIST] = np.inf
        self.fbuf[_F_TARGET] = np.inf
        self.ibuf = np.empty((4, n), dtype=np.int32)
        self.ibuf[_I_PRED] = NO_PREDECESSOR
        self.ibuf[_I_POS] = _NOT_IN_HEAP
        self.count = np.zeros(1, dtype=np.int64)  # nodes touched by the last search


_local = threading.local()


def _workspaces(n: int) -> tuple[_Workspace, _Workspace]:
    """(forward, backward) workspaces of this thread for graphs of n nodes."""
    spaces = getattr(_local, "spaces", None)
    if spaces is None:
        spaces = _local.spaces = {}
    ws = spaces.get(n)
    if ws is None:
        if len(spaces) >= 4:  # a thread serving many graph sizes keeps the last few
            spaces.pop(next(iter(spaces)))
        ws = spaces[n] = (_Workspace(n), _Workspace(n))
    return ws
