"""RAPTOR (engine/transit/): hand-checked cases, then agreement with an independent connection
scan (tests/engine/transit_oracle.py) on random timetables and on the real Monaco and
Montpellier feeds (tests/engine/test_transit_feeds.py)."""
import numpy as np
import pytest

from engine import transit as T
from engine.transit.build import TripStopTimes, timetable_from_trips
from tests.engine.transit_oracle import INF, oracle_from_lists
from tests.engine.trip_tables import trip_stop_times

H = 3600
DAY0 = 20_000  # 2024-10-04, a Friday; the tiny timetables' first service day


def _town(rows, *, n_stops=6, active=None, line_type=(3, 0), **kw):
    names = [chr(ord("a") + i) for i in range(n_stops)]
    return timetable_from_trips(
        stop_ids=names, stop_name=[n.upper() for n in names], stop_lon=np.arange(n_stops) * 0.01,
        stop_lat=np.zeros(n_stops), line_ids=[f"L{i}" for i in range(len(line_type))],
        line_short_name=[str(i + 1) for i in range(len(line_type))],
        line_long_name=[""] * len(line_type), line_type=list(line_type), trips=trip_stop_times(rows),
        service_ids=["all", "friday"], service_first_day=DAY0,
        service_active=np.ones((2, 7), bool) if active is None else active,
        timezone="Europe/Paris", **{k: v for k, v in kw.items() if k not in ("board", "alight")})


def _ids(tt, js, j):
    return [str(tt.trip_ids[js.leg_trip_idx[i]]) for i in js.legs(j) if js.leg_kind[i] == T.LEG_RIDE]


# A line 1 a -> b -> c, a line 2 b -> d; a footpath c -> d of 120 s.
BASE = [("A1", 0, 0, [(0, 8 * H, 8 * H), (1, 8 * H + 600, 8 * H + 600), (2, 8 * H + 1200, 8 * H + 1200)]),
        ("B-early", 1, 0, [(1, 8 * H + 630, 8 * H + 630), (3, 8 * H + 900, 8 * H + 900)]),
        ("B-late", 1, 0, [(1, 8 * H + 700, 8 * H + 700), (3, 8 * H + 1000, 8 * H + 1000)])]


def test_a_change_at_one_stop_needs_the_default_transfer_slack():
    tt = _town(BASE, transfer_from_stop=[2], transfer_to_stop=[3], transfer_time_s=[120])
    js = T.earliest_arrival(tt, [(0, 0)], [(3, 0)], DAY0, 8 * H - 60)
    # A1 reaches b at 8:10:00; B-early leaves b at 8:10:30, within the 60 s slack: B-late it is.
    # The Pareto set also holds the one-trip journey: A1 to c, then walk c -> d.
    got = sorted((int(js.n_trips[j]), int(js.arrive_s[j]), _ids(tt, js, j)) for j in range(js.n_journeys))
    assert got == [(1, 8 * H + 1200 + 120, ["A1"]), (2, 8 * H + 1000, ["A1", "B-late"])]
    zero_slack = T.TransitOptions(transfer_slack_s=0)
    js = T.earliest_arrival(tt, [(0, 0)], [(3, 0)], DAY0, 8 * H - 60, options=zero_slack)
    assert _ids(tt, js, js.earliest()) == ["A1", "B-early"] and js.arrive_s[js.earliest()] == 8 * H + 900


def test_a_stops_minimum_transfer_time_replaces_the_slack():
    tt = _town(BASE, stop_min_transfer_s=[-1, 20, -1, -1, -1, -1])
    js = T.earliest_arrival(tt, [(0, 0)], [(3, 0)], DAY0, 8 * H)
    assert _ids(tt, js, js.earliest()) == ["A1", "B-early"]


def test_a_forbidden_transfer_at_a_stop_is_never_taken():
    tt = _town(BASE, forbidden_from_stop=[1], forbidden_to_stop=[1])
    js = T.earliest_arrival(tt, [(0, 0)], [(3, 0)], DAY0, 8 * H)
    assert js.n_journeys == 0


def test_a_forbidden_footpath_is_not_walked_but_others_are():
    tt = _town(BASE, transfer_from_stop=[2, 2], transfer_to_stop=[3, 4], transfer_time_s=[120, 60],
               forbidden_from_stop=[2], forbidden_to_stop=[3])
    assert T.earliest_arrival(tt, [(0, 0)], [(4, 0)], DAY0, 8 * H).arrive_s.tolist() == [8 * H + 1260]
    js = T.earliest_arrival(tt, [(0, 0)], [(3, 0)], DAY0, 8 * H)
    assert js.n_trips.tolist() == [2]  # only via line 2: the walk c -> d is forbidden


def test_a_trip_after_midnight_belongs_to_the_previous_service_day():
    # N1 runs on Friday's service only, at 25:10 (01:10 on Saturday).
    rows = [("N1-friday", 0, 1, [(0, 25 * H + 600, 25 * H + 600), (2, 25 * H + 1440, 25 * H + 1440)])]
    active = np.zeros((2, 7), bool)
    active[1, 0] = True
    tt = _town(rows, active=active)
    js = T.earliest_arrival(tt, [(0, 0)], [(2, 0)], DAY0 + 1, 1 * H)  # Saturday 01:00
    assert _ids(tt, js, 0) == ["N1-friday"]
    assert js.arrive_s.tolist() == [1 * H + 1440] and js.leg_day_offset.min() == -1
    # on Friday itself the same trip leaves at 25:10 of Friday's service day
    js = T.earliest_arrival(tt, [(0, 0)], [(2, 0)], DAY0, 23 * H)
    assert js.arrive_s.tolist() == [25 * H + 1440] and js.leg_day_offset.max() == 0
    # Saturday's service has no N1 of its own: nothing after 02:00 on Saturday
    assert T.earliest_arrival(tt, [(0, 0)], [(2, 0)], DAY0 + 1, 2 * H).n_journeys == 0


def test_the_pareto_set_trades_transfers_for_time():
    rows = [("slow", 0, 0, [(0, 8 * H, 8 * H), (1, 9 * H, 9 * H), (3, 10 * H, 10 * H)]),
            ("fast1", 1, 0, [(0, 8 * H + 60, 8 * H + 60), (2, 8 * H + 600, 8 * H + 600)]),
            ("fast2", 1, 0, [(2, 8 * H + 900, 8 * H + 900), (3, 8 * H + 1800, 8 * H + 1800)])]
    tt = _town(rows)
    js = T.earliest_arrival(tt, [(0, 0)], [(3, 0)], DAY0, 8 * H)
    pareto = sorted(zip(js.transfers.tolist(), js.arrive_s.tolist(), strict=True))
    assert pareto == [(0, 10 * H), (1, 8 * H + 1800)]
    one_trip_only = T.TransitOptions(max_transfers=0)
    assert T.earliest_arrival(tt, [(0, 0)], [(3, 0)], DAY0, 8 * H,
                              options=one_trip_only).arrive_s.tolist() == [10 * H]


def test_arrive_by_gives_the_latest_departure_on_the_reversed_timetable():
    rows = [(f"A{i}", 0, 0, [(0, 7 * H + i * 900, 7 * H + i * 900), (1, 7 * H + i * 900 + 600,
                                                                      7 * H + i * 900 + 600)])
            for i in range(8)]
    tt = _town(rows)
    js = T.latest_departure(tt, [(0, 0)], [(1, 0)], DAY0, 8 * H + 700)
    # A4 leaves a at 8:00 and reaches b at 8:10, before 8:11:40; A5 would arrive 8:25
    assert _ids(tt, js, 0) == ["A4"]
    assert js.depart_s.tolist() == [8 * H] and js.arrive_s.tolist() == [8 * H + 600]
    legs = [(int(js.leg_kind[i]), int(js.leg_from_stop[i]), int(js.leg_to_stop[i])) for i in js.legs(0)]
    assert legs == [(T.LEG_ACCESS, -1, 0), (T.LEG_RIDE, 0, 1), (T.LEG_EGRESS, 1, -1)]


def test_a_range_query_lists_each_departure_in_the_window():
    rows = [(f"A{i}", 0, 0, [(0, 7 * H + i * 900, 7 * H + i * 900), (1, 7 * H + i * 900 + 600,
                                                                      7 * H + i * 900 + 600)])
            for i in range(12)]
    tt = _town(rows)
    js = T.range_query(tt, [(0, 30)], [(1, 0)], DAY0, 8 * H - 60, 3600)
    # leave 30 s before each bus at 8:00, 8:15, 8:30, 8:45; whoever leaves at the window's end
    # (8:59) takes the 9:00 bus, leaving 8:59:30 at the latest
    assert sorted(js.depart_s.tolist()) == [8 * H - 30 + i * 900 for i in range(5)]
    assert sorted(js.arrive_s.tolist()) == [8 * H + 600 + i * 900 for i in range(5)]


def test_pick_up_and_drop_off_restrictions_are_honoured():
    # the trip only sets down at b and does not pick up there
    rows = [("X", 0, 0, [(0, 8 * H, 8 * H), (1, 8 * H + 300, 8 * H + 300), (2, 8 * H + 600, 8 * H + 600)])]
    tt = timetable_from_trips(
        stop_ids=["a", "b", "c"], stop_name=["A", "B", "C"], stop_lon=[0, 1, 2], stop_lat=[0, 0, 0],
        line_ids=["L"], line_short_name=["1"], line_long_name=[""], line_type=[3],
        trips=trip_stop_times(rows, board=[1, 0, 0], alight=[0, 1, 1]), service_ids=["all"],
        service_first_day=DAY0, service_active=np.ones((1, 7), bool), timezone="Europe/Paris")
    assert T.earliest_arrival(tt, [(1, 0)], [(2, 0)], DAY0, 7 * H).n_journeys == 0
    assert T.earliest_arrival(tt, [(0, 0)], [(1, 0)], DAY0, 7 * H).arrive_s.tolist() == [8 * H + 300]
    assert T.latest_departure(tt, [(1, 0)], [(2, 0)], DAY0, 9 * H).n_journeys == 0


def test_modes_and_wheelchair_options_filter_trips_and_stops():
    tt = _town(BASE, line_type=(3, 0))  # line 1 is a bus, line 2 a tram
    only_bus = T.TransitOptions(modes=frozenset({"BUS"}))
    assert T.earliest_arrival(tt, [(0, 0)], [(3, 0)], DAY0, 8 * H, options=only_bus).n_journeys == 0
    assert T.earliest_arrival(tt, [(0, 0)], [(2, 0)], DAY0, 8 * H, options=only_bus).n_journeys == 1
    wheelchair = T.TransitOptions(wheelchair=True)  # nothing is marked accessible
    assert T.earliest_arrival(tt, [(0, 0)], [(2, 0)], DAY0, 8 * H, options=wheelchair).n_journeys == 0
    with pytest.raises(ValueError, match="unknown transit modes"):
        T.TransitOptions(modes=frozenset({"HOVERCRAFT"}))


def test_a_date_outside_the_service_period_names_the_valid_range():
    tt = _town(BASE)
    with pytest.raises(T.OutsideServicePeriod) as err:
        T.earliest_arrival(tt, [(0, 0)], [(3, 0)], DAY0 + 8, 8 * H)
    assert err.value.code == "OUTSIDE_SERVICE_PERIOD"
    assert "2024-10-04 to 2024-10-10" in str(err.value)


def test_an_unknown_stop_id_is_a_clear_error():
    router = T.router_for(_town(BASE))
    with pytest.raises(T.UnknownStop, match="unknown stop id 'nowhere'"):
        router.stop_access("nowhere")
    assert router.stop_access("c")[0].tolist() == [2]


def test_service_time_follows_noon_minus_twelve_hours_across_daylight_saving():
    import datetime as dt
    # 2024-03-31, clocks go forward in Paris: the service day's reference (noon minus 12 h) is
    # 23:00 the evening before, so GTFS "08:00:00" still reads 08:00 on the clock, and the
    # previous service day lasted only 23 h.
    day = T.day_of(dt.date(2024, 3, 31))
    assert T.previous_day_shift_s("Europe/Paris", day) == 82_800
    assert T.previous_day_shift_s("Europe/Paris", day + 1) == 86_400
    assert T.previous_day_shift_s("Europe/Paris", T.day_of(dt.date(2024, 10, 27))) == 90_000
    when = dt.datetime(2024, 3, 31, 8, 0)
    d, s = T.to_service_time("Europe/Paris", when)
    assert (d, s) == (day, 8 * H)
    assert T.from_service_time("Europe/Paris", d, s).replace(tzinfo=None) == when


# ---------------------------------------------------------------------------------------------
# Random timetables against the oracle
# ---------------------------------------------------------------------------------------------
def _random_town(seed):
    """A small random city: lines along random stop sequences, both directions, headways,
    trips past midnight, three services, footpaths, stop transfer times, forbidden transfers,
    pick-up/drop-off restrictions, and a partly accessible network."""
    rng = np.random.default_rng(seed)
    n_stops, n_lines = 30, 7
    rows, board, alight = [], [], []
    for line in range(n_lines):
        k = int(rng.integers(3, 9))
        seq = rng.choice(n_stops, size=k, replace=False)
        hops = rng.integers(60, 400, size=k - 1)
        for direction in range(2):
            stops = seq if direction == 0 else seq[::-1]
            hop = hops if direction == 0 else hops[::-1]
            t = int(rng.integers(5 * H, 7 * H))
            end = int(rng.integers(22 * H, 27 * H))
            n = 0
            while t < end:
                times, cur = [], t
                for i, s in enumerate(stops):
                    dwell = int(rng.integers(0, 40))
                    times.append((int(s), cur, cur + dwell))
                    cur += dwell + (int(hop[i]) + int(rng.integers(-20, 20)) if i < k - 1 else 0)
                rows.append((f"L{line}d{direction}t{n}", line, int(rng.integers(0, 3)), times))
                b = rng.random(k) > 0.08
                a = rng.random(k) > 0.08
                board.extend(b.tolist())
                alight.extend(a.tolist())
                t += int(rng.integers(4, 25)) * 60
                n += 1
    active = rng.random((3, 10)) > 0.3
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, n_stops, size=(40, 2)) if a != b}
    fp = [(a, b, int(rng.integers(30, 400))) for a, b in sorted(pairs)]
    fp += [(b, a, t) for a, b, t in fp if (b, a) not in pairs]
    min_tr = np.where(rng.random(n_stops) < 0.2, rng.integers(0, 300, n_stops), -1)
    forbid = [(int(s), int(s)) for s in rng.choice(n_stops, 2, replace=False)] + [fp[0][:2]]
    trips = trip_stop_times(rows, board, alight)
    trips = TripStopTimes(**{**trips.__dict__,
                             "trip_wheelchair": rng.choice([0, 1, 2], size=trips.n_trips).astype(np.int8)})
    tt = timetable_from_trips(
        stop_ids=[f"s{i}" for i in range(n_stops)], stop_name=[f"S{i}" for i in range(n_stops)],
        stop_lon=rng.random(n_stops), stop_lat=rng.random(n_stops),
        stop_wheelchair=rng.choice([0, 1, 1, 1], size=n_stops),
        stop_min_transfer_s=min_tr, line_ids=[f"L{i}" for i in range(n_lines)],
        line_short_name=[str(i) for i in range(n_lines)], line_long_name=[""] * n_lines,
        line_type=[0, 3, 3, 2, 3, 1, 3][:n_lines], trips=trips, service_ids=["a", "b", "c"],
        service_first_day=DAY0, service_active=active, transfer_from_stop=[f[0] for f in fp],
        transfer_to_stop=[f[1] for f in fp], transfer_time_s=[f[2] for f in fp],
        forbidden_from_stop=[f[0] for f in forbid], forbidden_to_stop=[f[1] for f in forbid],
        timezone="Europe/Paris")
    return tt, trips, fp, forbid, min_tr, active


def _oracle(tt, trips, fp, forbid, min_tr, active, day, options):
    n_stops = tt.n_stops
    fset = set(forbid)
    stop_ok = (tt.stop_wheelchair == 1) if options.wheelchair else np.ones(n_stops, bool)
    footpaths = [(a, b, _walk(t, options))
                 for a, b, t in fp if (a, b) not in fset and stop_ok[a] and stop_ok[b]]
    change = np.where(min_tr >= 0, min_tr, options.transfer_slack_s)
    for a, b in forbid:
        if a == b:
            change[a] = -1
    off = trips.st_offsets
    lists = {k: [] for k in ("stops", "arr", "dep", "board", "alight")}
    for t in range(trips.n_trips):
        sl = slice(off[t], off[t + 1])
        st = trips.st_stop_idx[sl]
        lists["stops"].append(st)
        lists["arr"].append(trips.st_arrival_s[sl])
        lists["dep"].append(trips.st_departure_s[sl])
        lists["board"].append(trips.st_can_board[sl] & stop_ok[st])
        lists["alight"].append(trips.st_can_alight[sl] & stop_ok[st])
    svc = trips.trip_service_idx
    col = day - DAY0
    today = active[svc, col]
    yesterday = active[svc, col - 1] if col >= 1 else np.zeros(trips.n_trips, bool)
    keep = np.ones(trips.n_trips, bool)
    if options.modes is not None:
        keep &= np.array([T.route_mode(tt.line_type[line]) in options.modes for line in trips.trip_line_idx])
    if options.wheelchair:
        keep &= trips.trip_wheelchair == 1
    return oracle_from_lists(n_stops, lists["stops"], lists["arr"], lists["dep"], lists["board"],
                             lists["alight"], today, yesterday, footpaths, change, keep_trip=keep), stop_ok


def _walk(t, options):
    return int(np.ceil(t * (T.DEFAULT_WALK_SPEED_MPS / options.walk_speed_mps) - 1e-9))


def _check_feasible(tt, trips, js, j, origin, destination, fp, forbid, min_tr, options, active, day):
    """Every ride runs that day and serves those stops at those times; every change leaves at or
    after the previous arrival plus the stop's transfer time, or the footpath's time; the
    journey's arrival is what its legs add up to."""
    by_id = {str(trips.trip_ids[t]): t for t in range(trips.n_trips)}
    fpt = {(a, b): _walk(t, options) for a, b, t in fp}
    forbidden = set(forbid)
    legs = list(js.legs(j))
    assert js.leg_kind[legs[0]] == T.LEG_ACCESS and js.leg_kind[legs[-1]] == T.LEG_EGRESS
    pos = int(js.leg_to_stop[legs[0]])
    ready = int(js.depart_s[j]) + dict(origin)[pos]
    last_ride_arr = None  # set while the traveller sits at the stop where a ride ended
    for i in legs[1:-1]:
        kind = int(js.leg_kind[i])
        a, b = int(js.leg_from_stop[i]), int(js.leg_to_stop[i])
        dep, arr = int(js.leg_depart_s[i]), int(js.leg_arrive_s[i])
        assert a == pos
        if kind == T.LEG_TRANSFER:
            assert (a, b) in fpt and (a, b) not in forbidden
            start = ready if last_ride_arr is None else last_ride_arr
            assert dep >= start
            pos, ready, last_ride_arr = b, start + fpt[(a, b)], None
            continue
        assert kind == T.LEG_RIDE
        if last_ride_arr is not None:  # a change at one stop
            assert (a, a) not in forbidden
            ready = last_ride_arr + (min_tr[a] if min_tr[a] >= 0 else options.transfer_slack_s)
        assert dep >= ready, "a connection leaves before one can be there"
        t = by_id[str(tt.trip_ids[js.leg_trip_idx[i]])]
        offset = int(js.leg_day_offset[i])
        assert active[trips.trip_service_idx[t], day + offset - DAY0], "the trip does not run that day"
        shift = 0 if offset == 0 else js.previous_day_shift_s
        sl = slice(trips.st_offsets[t], trips.st_offsets[t + 1])
        st = trips.st_stop_idx[sl].tolist()
        bi = [k for k in range(len(st)) if st[k] == a and trips.st_departure_s[sl][k] - shift == dep]
        ai = [k for k in range(len(st)) if st[k] == b and trips.st_arrival_s[sl][k] - shift == arr]
        assert bi and ai and bi[0] < ai[-1], "the trip does not serve those stops at those times"
        assert trips.st_can_board[sl][bi[0]] and trips.st_can_alight[sl][ai[-1]]
        pos, last_ride_arr = b, arr
    assert last_ride_arr is not None or ready is not None
    end = last_ride_arr if last_ride_arr is not None else ready
    assert pos in dict(destination)
    assert int(js.arrive_s[j]) == end + dict(destination)[pos]


OPTION_SETS = [T.TransitOptions(), T.TransitOptions(transfer_slack_s=0, max_transfers=2),
               T.TransitOptions(wheelchair=True, walk_speed_mps=0.9),
               T.TransitOptions(modes=frozenset({"BUS", "TRAM"}), max_transfers=3)]


@pytest.mark.parametrize("seed", range(6))
def test_random_timetables_agree_with_a_connection_scan(seed):
    tt, trips, fp, forbid, min_tr, active = _random_town(seed)
    rng = np.random.default_rng(1000 + seed)
    router = T.TransitRouter(tt)
    checked = 0
    for q in range(60):
        options = OPTION_SETS[q % len(OPTION_SETS)]
        day = DAY0 + int(rng.integers(0, 10))
        if not active[:, day - DAY0].any() and not active[:, day - DAY0 - 1].any():
            continue
        origin = [(int(s), int(rng.integers(0, 200))) for s in rng.choice(30, 2, replace=False)]
        dest = [(int(s), int(rng.integers(0, 200))) for s in rng.choice(30, 2, replace=False)]
        depart = int(rng.choice([int(rng.integers(4 * H, 26 * H)), int(rng.integers(22 * H, 24 * H))]))
        try:
            router.check_day(day)
        except T.OutsideServicePeriod:
            continue
        oracle, stop_ok = _oracle(tt, trips, fp, forbid, min_tr, active, day, options)
        o_ok = [p for p in origin if stop_ok[p[0]]]
        d_ok = [p for p in dest if stop_ok[p[0]]]
        js = router.earliest_arrival(origin, dest, day, depart, options=options)
        want = oracle.pareto(o_ok, d_ok, depart, options.max_transfers + 1) if o_ok and d_ok else []
        got = sorted(zip(js.n_trips.tolist(), js.arrive_s.tolist(), strict=True))
        assert got == want, (seed, q, origin, dest, day, depart, options)
        for j in range(js.n_journeys):
            _check_feasible(tt, trips, js, j, origin, dest, fp, forbid, min_tr, options, active, day)
        # arrive-by: the latest departure per trip count, from the reversed search, equals the
        # oracle's (bisection over the forward scan), and the Pareto set is complete
        arrive = depart + int(rng.integers(1800, 4 * H))
        lb = router.latest_departure(origin, dest, day, arrive, options=options)
        latest = [None] + [oracle.latest_departure(o_ok, d_ok, arrive, k, arrive - options.max_duration_s)
                           if o_ok and d_ok else None for k in range(1, options.max_transfers + 2)]
        want = [(k, latest[k]) for k in range(1, len(latest)) if latest[k] is not None
                and all(latest[i] is None or latest[i] < latest[k] for i in range(1, k))]
        assert sorted(zip(lb.n_trips.tolist(), lb.depart_s.tolist(), strict=True)) == want, (seed, q)
        for j in range(lb.n_journeys):
            assert lb.arrive_s[j] <= arrive
            _check_feasible(tt, trips, lb, j, origin, dest, fp, forbid, min_tr, options, active, day)
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize("seed", range(3))
def test_a_range_query_is_the_pareto_front_of_single_departures(seed):
    tt, trips, fp, forbid, min_tr, active = _random_town(seed)
    rng = np.random.default_rng(2000 + seed)
    router = T.TransitRouter(tt)
    options = T.TransitOptions()
    day = DAY0 + 2 + int(np.flatnonzero(active[:, 2:].any(axis=0))[0])
    oracle, _ = _oracle(tt, trips, fp, forbid, min_tr, active, day, options)
    for _ in range(8):
        origin = [(int(rng.integers(0, 30)), 0)]
        dest = [(int(rng.integers(0, 30)), 0)]
        start, window = int(rng.integers(6 * H, 20 * H)), 3600
        js = router.range_query(origin, dest, day, start, window, options=options)
        got = sorted(zip(js.depart_s.tolist(), js.arrive_s.tolist(), js.n_trips.tolist(), strict=True))
        # oracle: every departure second in the window that matters (one per boardable minute
        # plus the trip departures themselves), then a Pareto filter over (dep, arr, trips)
        points = set()
        lead = [0] + [t for a, b, t in fp if a == origin[0][0] and (a, b) not in set(forbid)]
        candidates = {start, start + window}
        for rows in (trips.st_departure_s, trips.st_departure_s - js.previous_day_shift_s):
            for w in lead:
                candidates |= {int(t) - w for t in rows if start <= t - w <= start + window}
        for tau in sorted(candidates):
            best = oracle.best_by_trips(origin, dest, tau, options.max_transfers + 1)
            for k in range(1, options.max_transfers + 2):
                if best[k] < INF and best[k] < best[k - 1]:
                    points.add((tau, int(best[k]), k))
        # a point is kept when nothing leaves later, arrives no later, with no more trips
        front = sorted(p for p in points if not any(
            q != p and q[0] >= p[0] and q[1] <= p[1] and q[2] <= p[2] for q in points))
        assert sorted((a, k) for _, a, k in got) == sorted((a, k) for _, a, k in front)
        # each journey is reported with the latest time one can leave for it, which lies past
        # the window's end when the last departure in the window has to wait
        tau_of = {(a, k): tau for tau, a, k in front}
        for dep, arr, k in got:
            tau = tau_of[(arr, k)]
            assert dep == tau or (dep > tau and dep > start + window)
            assert oracle.best_by_trips(origin, dest, dep, k)[k] == arr
            if dep < start + window:  # the latest departure for that arrival, inside the window
                assert oracle.best_by_trips(origin, dest, dep + 1, k)[k] > arr


@pytest.mark.parametrize("seed", range(3))
def test_the_arrival_matrix_agrees_with_a_connection_scan(seed):
    # TransitRouter.arrival_matrix (the travel-time matrices' RAPTOR): from several origins to
    # several destinations, for departures kept latest first, the earliest arrival with at most
    # max_transfers + 1 trips, as the oracle finds it departure by departure.
    tt, trips, fp, forbid, min_tr, active = _random_town(seed)
    rng = np.random.default_rng(3000 + seed)
    router = T.TransitRouter(tt)
    options = OPTION_SETS[seed % len(OPTION_SETS)]
    day = DAY0 + 2 + int(np.flatnonzero(active[:, 2:].any(axis=0))[0])
    oracle, stop_ok = _oracle(tt, trips, fp, forbid, min_tr, active, day, options)
    origins = [[(int(s), int(rng.integers(0, 300))) for s in rng.choice(30, 2, replace=False)]
               for _ in range(5)]
    dests = [[(int(s), int(rng.integers(0, 300))) for s in rng.choice(30, 2, replace=False)]
             for _ in range(6)]
    access = (np.cumsum([0] + [len(o) for o in origins]), [s for o in origins for s, _ in o],
              [t for o in origins for _, t in o])
    by_stop = sorted((s, d, t) for d, dest in enumerate(dests) for s, t in dest)
    egress = (np.searchsorted([s for s, _, _ in by_stop], np.arange(tt.n_stops + 1)),
              [d for _, d, _ in by_stop], [t for _, _, t in by_stop])
    departures = [8 * H + 1200, 8 * H, 8 * H + 600]
    deps, arrival, comp = router.arrival_matrix(access, egress, len(dests), day, departures,
                                                options=options)
    assert deps.tolist() == [8 * H + 1200, 8 * H + 600, 8 * H]
    max_trips = options.max_transfers + 1
    reached = 0
    for o, origin in enumerate(origins):
        o_ok = [p for p in origin if stop_ok[p[0]]]
        for d, dest in enumerate(dests):
            d_ok = [p for p in dest if stop_ok[p[0]]]
            for i, tau in enumerate(deps.tolist()):
                best = oracle.best_by_trips(o_ok, d_ok, tau, max_trips)[max_trips] if o_ok and d_ok else INF
                assert arrival[o, i, d] == (T.UNREACHED if best >= INF else best), (o, d, tau)
            if arrival[o, -1, d] != T.UNREACHED:
                reached += 1
                access_s, ride_s, walk_s, egress_s, n_trips = comp[o, d].tolist()
                wait_s = arrival[o, -1, d] - deps[-1] - (access_s + ride_s + walk_s + egress_s)
                assert min(access_s, ride_s, walk_s, egress_s, wait_s) >= 0 and 1 <= n_trips <= max_trips
            else:
                assert comp[o, d].tolist() == [-1] * 5
    assert reached >= 5


def test_the_arrival_matrix_refuses_malformed_lists():
    router = T.router_for(_town(BASE))
    no_egress = (np.zeros(7, np.int64), [], [])
    with pytest.raises(ValueError, match="access: index out of range 0..5"):
        router.arrival_matrix(([0, 1], [9], [0]), no_egress, 1, DAY0, [8 * H])
    with pytest.raises(ValueError, match="egress: offsets must have n_stops"):
        router.arrival_matrix(([0, 1], [0], [0]), ([0, 1], [0], [0]), 1, DAY0, [8 * H])
    with pytest.raises(ValueError, match="access: expected CSR lists"):
        router.arrival_matrix(([0, 2], [0], [0]), no_egress, 1, DAY0, [8 * H])
    with pytest.raises(T.OutsideServicePeriod):
        router.arrival_matrix(([0, 1], [0], [0]), no_egress, 1, DAY0 + 30, [8 * H])
