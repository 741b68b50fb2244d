"""Derived data cached beside what it was derived from: one tool for every engine module.

* :class:`Memo`: values by key, computed on first use, thread-safe, optionally bounded (the least
  recently used value goes first).
* :class:`PerObject`: one value per object (or tuple of objects), kept as long as the objects
  live. The engine's inputs (``StreetGraph``, ``Timetable``, ``Network``) are frozen dataclasses
  of numpy arrays, so they are unhashable: entries are keyed by ``id()`` and dropped by a weakref
  callback when an object is garbage-collected, which runs before its id can be reused.

>>> memo = Memo(size=2)
>>> memo.get("a", lambda: 1), memo.get("a", lambda: 2)
(1, 1)
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

_MISSING = object()


class Memo(Generic[V]):
    """A thread-safe memo. ``size`` None keeps every value; otherwise the least recently used
    beyond ``size`` are dropped. ``compute`` runs outside the lock (a slow computation does not
    block other keys; two threads missing the same key at once may both compute it, and the
    value stored last is kept)."""

    def __init__(self, size: int | None = None):
        if size is not None and size < 1:
            raise ValueError(f"Memo: size must be >= 1 or None, got {size}")
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value of ``key``, computed by ``compute()`` the first time (an exception stores
        nothing)."""
        hit = self.peek(key, _MISSING)
        if hit is not _MISSING:
            return hit
        value = compute()
        with self._lock:
            self._items[key] = value
            if self.size is not None:
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value

    def peek(self, key: Hashable, default=None):
        """The stored value of ``key`` (counts as a use), or ``default``; never computes."""
        with self._lock:
            value = self._items.get(key, _MISSING)
            if value is _MISSING:
                return default
            if self.size is not None:
                self._items.move_to_end(key)
            return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class PerObject(Generic[V]):
    """One ``factory(*objs)`` value per tuple of objects, by identity, kept while they all live.

    ``None`` may stand among the objects (an absent street graph, say). ``size`` bounds the
    number of entries (least recently used dropped): needed when a value holds a strong
    reference to its object (the entry would otherwise keep the object alive for good).
    Thread-safe; the factory runs outside the lock and the first value stored for a key wins.
    """

    def __init__(self, factory: Callable[..., V], *, size: int | None = None):
        self._factory = factory
        self.size = size
        # re-entrant: a weakref callback may run (garbage collection) while this thread holds it
        self._lock = threading.RLock()
        self._entries: OrderedDict = OrderedDict()   # ids -> (refs, value)

    def _lookup(self, key: tuple, objs: tuple):
        entry = self._entries.get(key)
        if entry is None or any(ref() is not obj for ref, obj in zip(entry[0], objs, strict=True)):
            return _MISSING
        if self.size is not None:
            self._entries.move_to_end(key)
        return entry[1]

    def __call__(self, *objs) -> V:
        if len(objs) == 1:   # the common case, on every street query: no generators
            obj = objs[0]
            key = (id(obj),)
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and entry[0][0]() is obj:
                    if self.size is not None:
                        self._entries.move_to_end(key)
                    return entry[1]
        else:
            key = tuple(id(obj) for obj in objs)
        with self._lock:
            hit = self._lookup(key, objs)
        if hit is not _MISSING:
            return hit
        value = self._factory(*objs)
        with self._lock:
            hit = self._lookup(key, objs)
            if hit is not _MISSING:
                return hit
            refs = tuple(_none_ref if obj is None else weakref.ref(obj, self._dropper(key))
                         for obj in objs)
            self._entries[key] = (refs, value)
            if self.size is not None:
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return value

    def _dropper(self, key: tuple):
        def drop(ref):
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and any(r is ref for r in entry[0]):
                    del self._entries[key]
        return drop

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _none_ref():
    """The "weak reference" of None: None lives for ever."""
    return None


__all__ = ["Memo", "PerObject"]
