"""engine.cache: the memo and the per-object cache every engine module keeps its derived data in."""
from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

from engine.cache import Memo, PerObject


class Graph:
    """Unhashable like the engine's frozen dataclasses of arrays."""

    __hash__ = None

    def __init__(self):
        self.cost = np.arange(3.0)


def test_a_memo_computes_a_key_once_and_keeps_falsy_values():
    calls = []
    memo = Memo()
    for _ in range(3):
        assert memo.get("k", lambda: calls.append(1) or 0) == 0
    assert calls == [1]
    assert memo.peek("k") == 0
    assert memo.peek("absent", "default") == "default"


def test_a_bounded_memo_drops_the_least_recently_used_value():
    memo = Memo(size=2)
    memo.get("a", lambda: 1)
    memo.get("b", lambda: 2)
    memo.get("a", lambda: -1)          # a is now the most recently used
    memo.get("c", lambda: 3)           # so b goes
    assert (memo.peek("a"), memo.peek("b"), memo.peek("c")) == (1, None, 3)
    assert len(memo) == 2


def test_a_failed_computation_stores_nothing():
    memo = Memo()

    def boom():
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        memo.get("k", boom)
    assert memo.get("k", lambda: 5) == 5


def test_a_memo_size_below_one_is_refused():
    with pytest.raises(ValueError, match="size"):
        Memo(size=0)


def test_per_object_values_follow_identity_not_equality_and_die_with_the_object():
    made = []
    cache = PerObject(lambda g: made.append(g) or {"n": len(made)})
    a, b = Graph(), Graph()
    assert cache(a) is cache(a)
    assert cache(a) is not cache(b)
    assert len(made) == 2 and len(cache) == 2
    made.clear()                       # the factory's list held the graphs
    del a
    gc.collect()
    assert len(cache) == 1             # the weakref callback dropped a's entry
    assert cache(b)["n"] == 2


def test_per_object_keys_on_a_tuple_of_objects_with_none_among_them():
    cache = PerObject(lambda g, t: object())
    g, t = Graph(), Graph()
    assert cache(g, None) is cache(g, None)
    assert cache(g, t) is not cache(g, None)
    del t
    gc.collect()
    assert len(cache) == 1


def test_a_bounded_per_object_cache_keeps_the_most_recently_used():
    cache = PerObject(lambda g: [g], size=2)   # values hold their object, as a transit router does
    graphs = [Graph() for _ in range(3)]
    first = cache(graphs[0])
    cache(graphs[1])
    assert cache(graphs[0]) is first
    cache(graphs[2])                   # graphs[1] is the least recently used
    assert len(cache) == 2
    assert cache(graphs[0]) is first


def test_threads_asking_for_one_object_share_one_value():
    cache = PerObject(lambda g: object())
    g = Graph()
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(cache(g))) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len({id(v) for v in seen}) == 1
