"""Time budgets for searches: a :class:`Deadline` the numba kernels watch, and the
:class:`DeadlineExceeded` they end with.

A numba kernel cannot read the clock, and a kernel holding the GIL keeps every other Python
thread (a timer, a health probe) waiting until it returns. So the kernels on the query path
release the GIL (``nogil=True``) and read a one-byte flag every so often (every
:data:`CHECK_EVERY` heap pops in a street search, every round of RAPTOR); one watcher thread per
process sets a deadline's flag when its time comes. A kernel that sees the flag returns early,
and its Python wrapper raises :class:`DeadlineExceeded` naming the limit and what was running.
Python code between kernels checks the clock itself (:meth:`Deadline.check`).

Every search takes ``deadline=None``: no limit, and no cost beyond reading a flag that is never
set (the kernels then get :data:`NO_FLAG`).

>>> d = Deadline(0.0)
>>> d.check("a walk search")
Traceback (most recent call last):
...
engine.deadline.DeadlineExceeded: a walk search stopped: the time budget of 0 s ran out
"""
from __future__ import annotations

import heapq
import itertools
import math
import threading
import time

import numpy as np

CHECK_EVERY = 1024
"""Heap pops between two looks at the flag in a street search (a power of two: a mask test).
About 0.1 ms of work on a 250,000-node grid, so a search overruns its deadline by about that."""
CHECK_MASK = CHECK_EVERY - 1

NO_FLAG = np.zeros(1, dtype=np.uint8)
"""The flag kernels read when there is no deadline: never set (never write to it)."""


class DeadlineExceeded(RuntimeError):
    """A search stopped because its time budget ran out. ``limit_s`` is the budget (s), ``what``
    the search that was running; ``code`` is the API's reason code."""

    code = "TIME_BUDGET_EXCEEDED"

    def __init__(self, limit_s: float, what: str):
        self.limit_s = float(limit_s)
        self.what = what
        super().__init__(f"{what} stopped: the time budget of {self.limit_s:g} s ran out")


class Deadline:
    """A time budget of ``limit_s`` seconds from now (``time.monotonic``), for one request.

    ``flag`` (a 1-byte uint8 array, 0 until the time is up) is what kernels read; the watcher
    thread sets it at the deadline. One Deadline may serve several searches in turn or at once
    (threads): it is only read, except for the flag, which only ever goes from 0 to 1.
    Raises ValueError for a negative or NaN limit (0 is a budget already spent).
    """

    __slots__ = ("limit_s", "expires_at", "flag")

    def __init__(self, limit_s: float):
        limit_s = float(limit_s)
        if math.isnan(limit_s) or limit_s < 0:
            raise ValueError(f"Deadline: limit_s must be >= 0 seconds, got {limit_s}")
        self.limit_s = limit_s
        self.expires_at = time.monotonic() + limit_s
        self.flag = np.zeros(1, dtype=np.uint8)
        if limit_s == 0:
            self.flag[0] = 1
        elif math.isfinite(limit_s):
            _WATCHER.add(self.expires_at, self.flag)

    def remaining_s(self) -> float:
        """Seconds left (0 once expired)."""
        return max(0.0, self.expires_at - time.monotonic())

    def expired(self) -> bool:
        """True once the budget is spent (the clock is read: no need to wait for the watcher)."""
        if self.flag[0]:
            return True
        if time.monotonic() >= self.expires_at:
            self.flag[0] = 1
            return True
        return False

    def check(self, what: str) -> None:
        """Raise DeadlineExceeded naming ``what`` (e.g. "the TRANSIT isochrone") if expired."""
        if self.expired():
            raise DeadlineExceeded(self.limit_s, what)

    def __repr__(self) -> str:
        return f"Deadline(limit_s={self.limit_s:g}, remaining_s={self.remaining_s():.3f})"


def flag_of(deadline: Deadline | None) -> np.ndarray:
    """The flag a kernel reads for ``deadline`` (:data:`NO_FLAG` for None)."""
    return NO_FLAG if deadline is None else deadline.flag


def check(deadline: Deadline | None, what: str) -> None:
    """:meth:`Deadline.check` when there is a deadline; nothing for None."""
    if deadline is not None:
        deadline.check(what)


class _Watcher:
    """One daemon thread setting the flags of deadlines as their times come (a heap by time).

    A flag whose search ended long before stays in the heap until its time (a few bytes each);
    the thread starts on first use and again after a fork (threads do not survive one)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._heap: list = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, at: float, flag: np.ndarray) -> None:
        with self._cond:
            heapq.heappush(self._heap, (at, next(self._seq), flag))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="trajet-deadlines",
                                                daemon=True)
                self._thread.start()
            elif self._heap[0][2] is flag:
                self._cond.notify()   # the new one comes first: wake up earlier

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    heapq.heappop(self._heap)[2][0] = 1
                self._cond.wait(self._heap[0][0] - now if self._heap else None)


_WATCHER = _Watcher()
