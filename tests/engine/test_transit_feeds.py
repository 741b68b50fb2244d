"""RAPTOR on the real Monaco and Montpellier feeds against a connection scan built from the raw
GTFS (pandas, not trajet's loader), and every itinerary checked against the raw GTFS."""
import datetime as dt

import numpy as np
import pytest

from engine import transit as T
from engine.planning.itinerary import StopRef, plan_walk_transit
from loaders.bundle import load_bundle
from tests.conftest import SHARED_DATA
from tests.engine.gtfs_raw import RawFeed
from tests.engine.transit_oracle import oracle_from_lists

pytestmark = pytest.mark.slow

H = 3600
N_QUERIES_PER_DATE = 100   # three dates per feed: 300 queries each
OPTIONS = T.TransitOptions()

FEEDS = {"monaco": SHARED_DATA / "monaco" / "monaco-gtfs.zip",
         "montpellier": SHARED_DATA / "montpellier" / "TAM_MMM_GTFS.zip"}


@pytest.fixture(scope="module", params=["monaco", "montpellier"])
def feed(request):
    bundle = request.getfixturevalue(f"{request.param}_bundle")
    network = load_bundle(bundle)
    raw = RawFeed(FEEDS[request.param])
    return request.param, network, raw


def _dates(tt, raw):
    """The date with the most calendar exceptions, then a Tuesday and a Sunday with the fewest
    (Montpellier has exceptions on every date) of the service period."""
    first, last = tt.service_period_days()
    ranked = raw.exception_dates()
    rank = {d: i for i, d in enumerate(ranked)}
    in_period = [d for d in ranked if first <= T.day_of(d) <= last]
    days = [dt.date(1970, 1, 1) + dt.timedelta(days=d) for d in range(first + 7, last)]

    def fewest(weekday):
        return max((d for d in days if d.weekday() == weekday), key=lambda d: rank.get(d, len(ranked)))
    return [in_period[0], fewest(1), fewest(6)]


def _oracle(tt, raw, date):
    stop_idx = {str(s): i for i, s in enumerate(tt.stop_ids)}
    lists = {k: [] for k in ("stops", "arr", "dep", "board", "alight")}
    for t in range(len(raw.trip_ids)):
        sl = slice(raw.offsets[t], raw.offsets[t + 1])
        lists["stops"].append(np.array([stop_idx[s] for s in raw.stop_id[sl]]))
        lists["arr"].append(raw.arr[sl])
        lists["dep"].append(raw.dep[sl])
        lists["board"].append(raw.board[sl])
        lists["alight"].append(raw.alight[sl])
    today = raw.runs_on(date)
    yesterday = raw.runs_on(date - dt.timedelta(days=1))
    forbidden = set(zip(tt.forbidden_from_stop.tolist(), tt.forbidden_to_stop.tolist(), strict=True))
    src = np.repeat(np.arange(tt.n_stops), np.diff(tt.transfer_offsets))
    footpaths = [(int(a), int(b), int(w)) for a, b, w in zip(src, tt.transfer_to_stop, tt.transfer_time_s,
                                                              strict=True)
                 if a != b and (a, b) not in forbidden]
    change = np.where(tt.stop_min_transfer_s >= 0, tt.stop_min_transfer_s, OPTIONS.transfer_slack_s)
    for a, b in forbidden:
        if a == b:
            change[a] = -1
    shift = T.previous_day_shift_s(tt.timezone, T.day_of(date))
    return oracle_from_lists(tt.n_stops, lists["stops"], lists["arr"], lists["dep"], lists["board"],
                             lists["alight"], today, yesterday, footpaths, change, prev_day_shift_s=shift)


def _feasible(tt, raw, js, j, date):
    """Each ride runs that day (raw calendar), serves those stops at those times (raw
    stop_times, pick-up and drop-off allowed); each connection leaves at or after the previous
    arrival plus the stop's transfer time, or the footpath's time."""
    fp = {}
    for a in range(tt.n_stops):
        for e in range(tt.transfer_offsets[a], tt.transfer_offsets[a + 1]):
            fp[(a, int(tt.transfer_to_stop[e]))] = int(tt.transfer_time_s[e])
    legs = list(js.legs(j))
    ready, last_arr, pos = int(js.depart_s[j]), None, int(js.leg_to_stop[legs[0]])
    for i in legs[1:-1]:
        a, b = int(js.leg_from_stop[i]), int(js.leg_to_stop[i])
        dep, arr = int(js.leg_depart_s[i]), int(js.leg_arrive_s[i])
        assert a == pos
        if js.leg_kind[i] == T.LEG_TRANSFER:
            start = ready if last_arr is None else last_arr
            assert dep >= start and arr - dep == fp[(a, b)]
            ready, last_arr, pos = start + fp[(a, b)], None, b
            continue
        if last_arr is not None:
            own = int(tt.stop_min_transfer_s[a])
            ready = last_arr + (own if own >= 0 else OPTIONS.transfer_slack_s)
        assert dep >= ready
        trip_id = str(tt.trip_ids[js.leg_trip_idx[i]])
        offset = int(js.leg_day_offset[i])
        run_date = date + dt.timedelta(days=offset)
        assert raw.trip_service[raw.index[trip_id]] in raw.services_on(run_date), trip_id
        shift = 0 if offset == 0 else js.previous_day_shift_s
        sl = raw.trip(trip_id)
        stops = list(raw.stop_id[sl])
        ks = [k for k in range(len(stops)) if stops[k] == tt.stop_ids[a] and raw.dep[sl][k] - shift == dep]
        ka = [k for k in range(len(stops)) if stops[k] == tt.stop_ids[b] and raw.arr[sl][k] - shift == arr]
        assert ks and ka and ks[0] < ka[-1], (trip_id, tt.stop_ids[a], tt.stop_ids[b], dep, arr)
        assert raw.board[sl][ks[0]] and raw.alight[sl][ka[-1]]
        last_arr, pos = arr, b
    end = last_arr if last_arr is not None else ready
    assert int(js.arrive_s[j]) == end


def test_raptor_agrees_with_a_connection_scan_on_real_feeds(feed):
    name, network, raw = feed
    tt = network.timetable
    router = T.TransitRouter(tt)
    served = np.flatnonzero(np.diff(tt.stop_route_offsets) > 0)
    stop_idx = {str(s): i for i, s in enumerate(tt.stop_ids)}
    # late queries between stops that see trips after 22:00 (most bus stops do not)
    late_served = np.array(sorted({stop_idx[s] for s in raw.stop_id[raw.dep >= 22 * H]}))
    rng = np.random.default_rng(7)
    n_checked = n_found = n_late = n_transfers = 0
    for date in _dates(tt, raw):
        day = T.day_of(date)
        oracle = _oracle(tt, raw, date)
        for q in range(N_QUERIES_PER_DATE):
            r = q % 10
            o, d = (int(s) for s in rng.choice(late_served if r <= 3 else served, 2, replace=False))
            depart = int(rng.integers(22 * H, 24 * H) if r < 3 else
                         rng.integers(0, 2 * H) if r == 3 else rng.integers(5 * H, 22 * H))
            origin, dest = router.stop_access(str(tt.stop_ids[o])), router.stop_access(str(tt.stop_ids[d]))
            js = router.earliest_arrival(origin, dest, day, depart, options=OPTIONS)
            want = oracle.pareto([(o, 0)], [(d, 0)], depart, OPTIONS.max_transfers + 1,
                                 OPTIONS.max_duration_s)
            got = sorted(zip(js.n_trips.tolist(), js.arrive_s.tolist(), strict=True))
            assert got == want, (name, date, tt.stop_ids[o], tt.stop_ids[d], depart)
            for j in range(js.n_journeys):
                _feasible(tt, raw, js, j, date)
            n_checked += 1
            n_found += js.n_journeys > 0
            n_late += depart >= 22 * H and js.n_journeys > 0
            n_transfers += int((js.n_trips > 1).any())
    assert n_checked == 3 * N_QUERIES_PER_DATE
    # the sample is not degenerate: most queries find journeys, late ones and changes included
    assert n_found > 0.4 * n_checked and n_late > 10 and n_transfers > 30


def test_arrive_by_gives_the_oracles_latest_departure_on_real_feeds(feed):
    name, network, raw = feed
    tt = network.timetable
    router = T.TransitRouter(tt)
    served = np.flatnonzero(np.diff(tt.stop_route_offsets) > 0)
    rng = np.random.default_rng(11)
    date = _dates(tt, raw)[1]
    day = T.day_of(date)
    oracle = _oracle(tt, raw, date)
    n_found = 0
    for _ in range(15):
        o, d = (int(s) for s in rng.choice(served, 2, replace=False))
        arrive = int(rng.integers(7 * H, 23 * H))
        lb = router.latest_departure([(o, 0)], [(d, 0)], day, arrive, options=OPTIONS)
        k = OPTIONS.max_transfers + 1
        want = oracle.latest_departure([(o, 0)], [(d, 0)], arrive, k, arrive - 4 * H)
        got = int(lb.depart_s.max()) if lb.n_journeys else None
        if got is not None and got < arrive - 4 * H:
            got = None  # the oracle's bisection looks back four hours only
        assert got == want, (name, tt.stop_ids[o], tt.stop_ids[d], arrive)
        for j in range(lb.n_journeys):
            assert lb.arrive_s[j] <= arrive
            _feasible(tt, raw, lb, j, date)
        n_found += got is not None
    assert n_found >= 8


def test_a_date_outside_the_service_period_and_an_unknown_stop_are_answers(montpellier_bundle):
    network = load_bundle(montpellier_bundle)
    result = plan_walk_transit(network, StopRef("1300"), StopRef("1112"),
                               day=T.day_of(dt.date(2025, 1, 6)), time_s=8 * H)
    assert result.code == "OUTSIDE_SERVICE_PERIOD" and not result.itineraries
    assert "2023-12-18 to 2024-02-25" in result.message
    result = plan_walk_transit(network, StopRef("no-such-stop"), StopRef("1112"),
                               day=T.day_of(dt.date(2024, 1, 8)), time_s=8 * H)
    assert result.code == "UNKNOWN_STOP" and "'no-such-stop'" in result.message
