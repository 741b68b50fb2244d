"""Time budgets (engine.deadline): street, transit and planning searches stop with DeadlineExceeded
naming the limit, the kernels look at the flag while they run, and they release the GIL.

The street graph is a synthetic 400 x 400 grid (160,000 nodes, bench/synthetic.py); the
timetable a synthetic city of 800 stops and 40 lines (bench/synthetic_gtfs.py). Timed checks
compare a stopped search with the same work run in full in the same test, so a slow machine
slows both.
"""
import datetime as dt
import math
import threading
import time
import zoneinfo

import numpy as np
import pytest

from bench.synthetic import grid_street_graph
from bench.synthetic_gtfs import city_trips, make_city
from engine import street, transit
from engine.deadline import CHECK_EVERY, NO_FLAG, Deadline, DeadlineExceeded
from engine.model import Mode, Network
from engine.planning import plan_trip, reachable_area, travel_time_matrix
from engine.street.graph_cache import _topology
from engine.street.kernels import _dijkstra
from engine.street.profiles import _profile_arrays
from engine.street.workspace import _workspaces
from engine.transit.build import timetable_from_trips

WALK = street.StreetProfile(Mode.WALK)
DAY = 20_000  # 2024-10-04


@pytest.fixture(scope="module")
def grid():
    return grid_street_graph(400, 400)


@pytest.fixture(scope="module")
def grid_network(grid):
    lon, lat = np.asarray(grid.node_lon), np.asarray(grid.node_lat)
    return Network(timezone="Europe/Paris", projection=grid.projection, street=grid,
                   bbox=(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())))


@pytest.fixture(scope="module")
def city():
    return timetable_from_trips(**city_trips(make_city(400, 40, seed=3), service_first_day=DAY))


def _every_stop(n: int):
    """CSR lists giving each stop as its own origin (access) or destination (egress) at 0 s."""
    return (np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int32), np.zeros(n, np.int32))


def _timed(fn):
    t0 = time.perf_counter()
    try:
        fn()
    except DeadlineExceeded as exc:
        return time.perf_counter() - t0, exc
    return time.perf_counter() - t0, None


def test_a_deadline_names_its_limit_and_the_watcher_sets_its_flag():
    with pytest.raises(DeadlineExceeded, match=r"^a walk search stopped: the time budget of 0 s ran out$"):
        Deadline(0).check("a walk search")
    assert DeadlineExceeded(2.5, "x").code == "TIME_BUDGET_EXCEEDED"
    assert DeadlineExceeded(2.5, "x").limit_s == 2.5
    with pytest.raises(ValueError, match="limit_s"):
        Deadline(-1)
    d = Deadline(0.05)
    assert not d.expired() and d.flag[0] == 0 and 0 < d.remaining_s() <= 0.05
    time.sleep(0.5)
    assert d.flag[0] == 1          # set by the watcher thread, not by a look at the clock
    assert Deadline(math.inf).remaining_s() == math.inf
    assert NO_FLAG[0] == 0


def test_the_dijkstra_kernel_stops_within_one_check_of_its_flag(grid):
    """The kernel itself reads the flag as it goes: set before the call, it settles at most
    CHECK_EVERY nodes (about 4 edges each) instead of the whole grid."""
    topo, cost = _topology(grid), _profile_arrays(grid, WALK).cost
    ws, _ = _workspaces(grid.n_nodes)
    none = np.zeros(0, dtype=np.int32)

    def run(flag):
        _dijkstra(topo.indptr, topo.indices, cost, np.array([0], np.int32), np.zeros(1), none,
                  np.zeros(0), False, np.inf, ws.fbuf, ws.ibuf, ws.count, flag)
        return int(ws.count[0])   # nodes touched

    assert run(NO_FLAG) > 0.9 * grid.n_nodes
    assert run(np.ones(1, dtype=np.uint8)) <= 5 * CHECK_EVERY


def test_street_searches_given_a_spent_deadline_raise_at_once(grid):
    spent = Deadline(0)
    origin = street.snap(grid, float(grid.node_lon[0]), float(grid.node_lat[0]), Mode.WALK)
    far = street.snap(grid, float(grid.node_lon[-1]), float(grid.node_lat[-1]), Mode.WALK)
    calls = {
        "search": lambda: street.search(grid, WALK, 0, deadline=spent),
        "many_to_many": lambda: street.many_to_many(grid, WALK, [0, 1], [5, 6], deadline=spent),
        "pair_costs": lambda: street.pair_costs(grid, WALK, [0] * 300, [7] * 300, deadline=spent),
        "shortest_path": lambda: street.shortest_path(grid, WALK, 0, grid.n_nodes - 1, deadline=spent),
        "route": lambda: street.route(grid, origin, far, WALK, deadline=spent),
        "isochrone": lambda: street.isochrone(grid, WALK, origin, 3600, deadline=spent),
    }
    for name, call in calls.items():
        elapsed, exc = _timed(call)
        assert exc is not None, name
        assert "the time budget of 0 s ran out" in str(exc) and elapsed < 0.5, name
    # a deadline far away changes nothing
    assert np.array_equal(street.search(grid, WALK, 0, deadline=Deadline(600)).cost,
                          street.search(grid, WALK, 0).cost)


def test_a_street_search_stops_when_its_deadline_passes_mid_search(grid):
    one_s, _ = _timed(lambda: street.search(grid, WALK, 0))
    sources = np.arange(max(8, math.ceil(1.0 / max(one_s, 1e-3))), dtype=np.int32) * 397
    full_s, _ = _timed(lambda: street.many_to_many(grid, WALK, sources[:4], [grid.n_nodes - 1]))
    full_s *= sources.size / 4     # the whole batch: at least about a second
    elapsed, exc = _timed(lambda: street.many_to_many(grid, WALK, sources, [grid.n_nodes - 1],
                                                      deadline=Deadline(0.05)))
    assert exc is not None and exc.limit_s == 0.05 and "walk street searches" in exc.what
    assert elapsed < max(0.5, full_s / 4)


def test_transit_searches_stop_at_their_deadline(city):
    router = transit.router_for(city)
    n = city.n_stops
    origin, destination = router.stop_access("S0-1"), router.stop_access("S399-1")
    with pytest.raises(DeadlineExceeded, match="a transit search"):
        router.search(origin, destination, DAY, 8 * 3600, window_s=3600, deadline=Deadline(0))
    deps = 8 * 3600 + 60 * np.arange(10)
    args = (_every_stop(n), _every_stop(n), n, DAY, deps)
    full_s, _ = _timed(lambda: router.arrival_matrix(*args))
    elapsed, exc = _timed(lambda: router.arrival_matrix(*args, deadline=Deadline(0.05)))
    assert exc is not None and "transit searches from 800 origins at 10 departures" in exc.what
    assert elapsed < full_s / 4
    # and without a deadline, or with a distant one, the same answer
    with_time = router.search(origin, destination, DAY, 8 * 3600, deadline=Deadline(600))
    without = router.search(origin, destination, DAY, 8 * 3600)
    assert np.array_equal(with_time.arrive_s, without.arrive_s)


def test_planning_stops_at_its_deadline(grid_network, grid):
    when = dt.datetime(2024, 10, 4, 8, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    a = (float(grid.node_lon[1000]), float(grid.node_lat[1000]))
    b = (float(grid.node_lon[90_000]), float(grid.node_lat[90_000]))
    for call in (lambda: plan_trip(grid_network, a, b, depart_at=when, modes="WALK,BICYCLE",
                                   deadline=Deadline(0)),
                 lambda: reachable_area(grid_network, a, when, mode="WALK", max_time_s=5400,
                                        deadline=Deadline(0)),
                 lambda: travel_time_matrix(grid_network, [a], [b], departure=when, modes="WALK",
                                            deadline=Deadline(0))):
        elapsed, exc = _timed(call)
        assert exc is not None and elapsed < 0.5
    assert plan_trip(grid_network, a, b, depart_at=when, modes="WALK",
                     deadline=Deadline(600)).itineraries
    origins = np.column_stack([np.asarray(grid.node_lon)[::2000], np.asarray(grid.node_lat)[::2000]])
    full_s, _ = _timed(lambda: travel_time_matrix(grid_network, origins[:8], [b], departure=when,
                                                  modes="WALK", max_time_s=4 * 3600))
    full_s *= origins.shape[0] / 8
    elapsed, exc = _timed(lambda: travel_time_matrix(grid_network, origins, [b], departure=when,
                                                     modes="WALK", max_time_s=4 * 3600,
                                                     deadline=Deadline(0.05)))
    assert exc is not None and elapsed < max(0.5, full_s / 4)


def _ticks_during(long_call) -> tuple[float, np.ndarray]:
    """(seconds ``long_call`` ran in a thread, instants at which this thread ticked meanwhile)."""
    span = {}

    def run():
        span["start"] = time.perf_counter()
        long_call()
        span["end"] = time.perf_counter()

    ticks = []
    worker = threading.Thread(target=run)
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.005)
    worker.join()
    during = np.array([t for t in ticks if span["start"] <= t <= span["end"]])
    return span["end"] - span["start"], np.r_[span["start"], during, span["end"]]


@pytest.mark.parametrize("kernel", ["street", "transit"])
def test_other_threads_run_while_a_kernel_searches(kernel, grid, city):
    """The kernels release the GIL (nogil): a Python thread keeps ticking during a long search
    (with the GIL held, no tick could fall inside the kernel call)."""
    if kernel == "street":
        sources = np.arange(12, dtype=np.int32) * 997
        street.many_to_many(grid, WALK, sources[:1], [1])   # compiled before, not while, timing
        length, ticks = _ticks_during(lambda: street.many_to_many(grid, WALK, sources,
                                                                  [grid.n_nodes - 1]))
    else:
        n = city.n_stops
        deps = 8 * 3600 + 60 * np.arange(10)
        router = transit.router_for(city)
        router.arrival_matrix(_every_stop(1), _every_stop(n), n, DAY, deps[:1])
        length, ticks = _ticks_during(lambda: router.arrival_matrix(
            _every_stop(n), _every_stop(n), n, DAY, deps))
    assert length > 0.2, "the search is too short to tell"
    assert ticks.size >= 12
    assert np.diff(ticks).max() < length / 2
