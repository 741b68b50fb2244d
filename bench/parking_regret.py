"""Parking regret on Monaco: trajet's car park choice against "the nearest car park to the
destination, ignoring occupancy" (what a static planner does), in realised door-to-door time.

    python bench/parking_regret.py [--trips 10000] [--seed 7] [--destinations demand|uniform]
        [--market-share 100] [--compliance 1.0]

Protocol
--------
1. **Data.** The Monaco sample (``loaders.build``: OSM streets and car parks, GTFS, and the
   DERIVED occupancy series of ``data_samples/monaco``: hourly readings of 29 car parks,
   2025-12-06 to 2026-02-14; see its README: it is synthetic, made from Montpellier's real
   series). Weeks are counted from the Monday on or before the first reading; even weeks are
   **training** weeks, odd weeks are **held out**. The occupancy profile is fitted on the
   training weeks only (``engine.parking.fit_occupancy_profile``, the bundle's holidays) and
   replaces the bundle's before any planning: the planner never sees a held-out reading.
2. **Trips.** ``--trips`` random trips: origin a random node of the car network, destination a
   random node of the walk network (``uniform``) or a random point within 150 m of a bus stop
   drawn with weights its number of scheduled departures (``demand``, the default: where people
   go, the proxy the derived series used to say which car parks fill up); trips without a car
   park within ``max_walk_m`` on foot of the destination are skipped; departure at a uniformly
   random minute of a whole held-out day.
3. **Choices.** trajet: ``engine.planning.planner.plan_trip(..., modes=["CAR_PARK"])`` (default options:
   p_free threshold 0.2, expected search time, 2 min to park). Baseline: the car park with the
   shortest walk to the destination (street network), whatever its occupancy.
4. **Expected realised time** (same rule for both), averaged over every held-out day of the
   departure's day type (weekday, Saturday, Sunday or holiday) at the same local time: the
   expectation of the door-to-door time over the held-out weeks, not one draw. On each of those
   days: drive to the chosen car park (street car times); its state on arrival is the held-out
   reading nearest that instant (readings are hourly).
   Not full: + the search inside it (``SearchTimeModel.realised_s``: 0 below 85 % occupied, up
   to 2 min when nearly full) + 2 min to park + the walk. Full (0 free spaces): +
   ``SearchTimeModel.full_wait_s`` (8 min lost queueing or cruising), then the driver goes to
   the car park with space (observed then) that minimises drive from the full one + park +
   walk, searches there as above and walks to the destination.
5. **Report.** Mean realised time of both per (day type, hour of day) of the departure, the
   ratio trajet / baseline with the 95 % interval of the paired difference (a group is
   "significantly worse" when that interval lies above 0), how often each choice was full on
   arrival (share of the held-out days). The busiest hours are the tenth (``--busy-share``) of
   the hour groups whose baseline car park was most often full on arrival. The last line is a
   JSON object of headline figures.

Market share (``--market-share P``, percent, default 100): a share P of the trips, drawn at
random, follow trajet's advice; the trips are then taken in departure order and each advice is
recorded as a driver sent (``engine.parking.pending.PendingArrivals``, ``--compliance`` extra
cars per driver, 1.0 by default), so later forecasts take those cars off; the other drivers go to
the car park nearest their destination (their "trajet" time is the baseline's). The JSON line
adds ``market_share_pct``, ``app_user_trips``, ``app_users_mean_s``,
``app_users_ratio_vs_nearest_car_park`` and ``others_mean_s``; ``mean_s_trajet`` is the whole
population's. ``--market-share 30`` (10,000 trips, seed 7): 2,961 app users at 560.2 s (0.930 of
the nearest car park's time for the same trips), the others 609.5 s, the population 594.9 s
against 607.4 s (2.1 % lower). The realised state stays the held-out readings (the app users'
cars are not added: ``bench/herding.py`` does that), and trips spread over 33 days and all hours
rarely meet, so the drivers sent change little here.

Model assumptions the figures rest on: travel times are free-flow street times (no traffic);
a full car park costs 8 minutes (Shoup's average cruising time) before the driver diverts;
the driver then knows which car parks have room (Monaco's dynamic signs); search inside a car
park with room follows ``SearchTimeModel``; the occupancy is the derived series.

Results (10,000 trips; about a minute on the project's 2-core machine):

* ``--destinations demand`` (default), seed 7: 560 s on average against 607 s (7.7 % lower); the
  baseline's car park was full on arrival in 8.4 % of the trip-days, trajet's in 0.6 %. Busiest
  hours (7 groups, baseline full in >= 18 % of their trips): 560 s against 668 s, 16.3 % lower.
  trajet is worse on average in 1 of 72 hour groups (Saturday 1 h, +0.02 s a trip: one trip
  whose car park, never full on a training Saturday night, was full on held-out ones).
  (Measured 2026-12-04; an earlier build of the sample gave 552 against 598 s.)
  Seed 8: 17.6 % lower in the busiest hours; worse in 4 of 72 groups by at most 1.6 s a trip
  (0.3 %). No group is significantly worse (95 % interval of the paired difference).
* ``--destinations uniform``: 578 s against 611 s (5.4 % lower); busiest hours 12.1 % lower:
  most destinations are nowhere near a car park that fills up; worse in 4 of 72 groups by at
  most 3.7 s a trip (0.7 %), none significantly: e.g. a car park full on 2 of 8 training Sunday
  evenings and on none of the held-out ones, avoided for nothing.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import sys
import time
import zoneinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from engine import street  # noqa: E402
from engine.model import NO_INDEX, DayType, Mode, OccupancyHistory  # noqa: E402
from engine.parking import day_types, fit_occupancy_profile, local_day_and_second  # noqa: E402
from engine.parking.choice import CAR_KINDS  # noqa: E402
from engine.parking.pending import PendingArrivals  # noqa: E402
from engine.planning.options import PlanOptions  # noqa: E402
from engine.planning.planner import car_park_times, plan_trip, prepare  # noqa: E402

SAMPLE = "monaco"
DAY_TYPE_NAMES = {DayType.WEEKDAY: "weekday", DayType.SATURDAY: "saturday",
                  DayType.SUNDAY_HOLIDAY: "sunday"}


def build_monaco():
    """The Monaco network, built in memory from the sample's recipe (a few seconds)."""
    from loaders.build import build_network, sample_options
    from loaders.report import BuildReport

    network, _ = build_network(sample_options(SAMPLE), BuildReport())
    return network


def split_weeks(history: OccupancyHistory, timezone: str):
    """(train mask, test mask, week index of each reading, first Monday's local day)."""
    day, _ = local_day_and_second(np.asarray(history.time_utc_s), timezone)
    first = int(day.min())
    monday = first - (first + 3) % 7          # 1970-01-01 was a Thursday
    week = (day - monday) // 7
    train = week % 2 == 0
    return train, ~train, week, monday


def subset(history: OccupancyHistory, mask: np.ndarray) -> OccupancyHistory:
    return OccupancyHistory(
        facility_idx=history.facility_idx[mask], time_utc_s=history.time_utc_s[mask],
        free_spaces=history.free_spaces[mask], capacity=history.capacity[mask],
        status_full=None if history.status_full is None else history.status_full[mask])


class HeldOut:
    """Held-out readings on an hourly grid: state of a facility at an instant (nearest reading)."""

    def __init__(self, history: OccupancyHistory, n_facilities: int, capacity: np.ndarray):
        t = np.asarray(history.time_utc_s, dtype=np.int64)
        self.t0 = int(t.min()) // 3600 * 3600
        n_hours = (int(t.max()) - self.t0) // 3600 + 2
        self.free = np.full((n_facilities, n_hours), np.nan)
        self.full = np.zeros((n_facilities, n_hours), dtype=bool)
        h = np.rint((t - self.t0) / 3600).astype(np.int64)
        f = np.asarray(history.facility_idx, dtype=np.int64)
        x = np.asarray(history.free_spaces, dtype=np.float64)
        self.free[f, h] = x
        full = (x == 0) if history.status_full is None else (np.asarray(history.status_full) | (x == 0))
        self.full[f, h] = full
        self.capacity = np.asarray(capacity, dtype=np.float64)

    def state(self, facility_idx, at_utc_s):
        """(is_full, occupied share, known) of facilities at instants (arrays broadcast)."""
        f, t = np.broadcast_arrays(np.asarray(facility_idx, dtype=np.int64),
                                   np.asarray(at_utc_s, dtype=np.int64))
        h = np.clip(np.rint((t - self.t0) / 3600).astype(np.int64), 0, self.free.shape[1] - 1)
        free = self.free[f, h]
        known = np.isfinite(free)
        cap = self.capacity[f]
        occ = np.where(cap > 0, 1.0 - np.nan_to_num(free) / np.where(cap > 0, cap, 1.0), np.nan)
        return self.full[f, h], occ, known


def sample_trips(network, rng, n, destinations: str, held_days: np.ndarray, timezone: str):
    g = network.street
    car_nodes = np.flatnonzero(g.node_in_component[Mode.CAR])
    origin_nodes = rng.choice(car_nodes, size=n)
    if destinations == "demand":
        tt = network.timetable
        served = np.flatnonzero(np.diff(tt.stop_route_offsets) > 0)
        departures = np.zeros(tt.n_stops)
        for r in range(tt.n_routes):   # stop_times per route: stops x trips
            first, k, n_trips = tt.route_block(r)
            stops = tt.route_stops[tt.route_stop_offsets[r]:tt.route_stop_offsets[r + 1]]
            departures[stops] += n_trips
        w = departures[served] / departures[served].sum()
        stops = rng.choice(served, size=n, p=w)
        # somewhere within 150 m of the stop, not the stop itself
        r_m, angle = 150.0 * np.sqrt(rng.random(n)), 2 * np.pi * rng.random(n)
        mx, my = network.projection.metres_per_degree
        d_lon = tt.stop_lon[stops] + r_m * np.cos(angle) / mx
        d_lat = tt.stop_lat[stops] + r_m * np.sin(angle) / my
    else:
        walk_nodes = np.flatnonzero(g.node_in_component[Mode.WALK])
        d = rng.choice(walk_nodes, size=n)
        d_lon, d_lat = g.node_lon[d], g.node_lat[d]
    zone = zoneinfo.ZoneInfo(timezone)
    days = rng.choice(held_days, size=n)
    minute = rng.integers(0, 24 * 60, size=n)
    depart = np.array([int(dt.datetime.combine(dt.date(1970, 1, 1) + dt.timedelta(days=int(d_)),
                                               dt.time(int(m) // 60, int(m) % 60), tzinfo=zone).timestamp())
                       for d_, m in zip(days, minute, strict=True)], dtype=np.int64)
    return g.node_lon[origin_nodes], g.node_lat[origin_nodes], d_lon, d_lat, depart


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--destinations", choices=("demand", "uniform"), default="demand")
    parser.add_argument("--busy-share", type=float, default=0.1,
                        help="share of hour groups counted as the busiest (by baseline full rate)")
    parser.add_argument("--market-share", type=float, default=100.0,
                        help="percent of drivers following trajet's advice (the others drive to the "
                             "car park nearest their destination); below 100 the advice given is "
                             "recorded and counted in later forecasts")
    parser.add_argument("--compliance", type=float, default=1.0,
                        help="extra cars per driver sent, for the recorded advice (0..1)")
    args = parser.parse_args()
    if args.trips < 500:
        sys.exit("parking_regret: at least 500 trips")
    if not 0.0 <= args.market_share <= 100.0:
        sys.exit(f"parking_regret: --market-share must be between 0 and 100 percent, got {args.market_share}")
    if not 0.0 <= args.compliance <= 1.0:
        sys.exit(f"parking_regret: --compliance must be between 0 and 1, got {args.compliance}")
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    network = build_monaco()
    pk = network.parking
    tz = network.timezone
    history = pk.history
    train, test, week, monday = split_weeks(history, tz)
    profile = fit_occupancy_profile(subset(history, train), pk.capacity, tz,
                                    holiday_days=pk.profile.holiday_days)
    network = dataclasses.replace(network, parking=dataclasses.replace(pk, profile=profile))
    pk = network.parking
    held = HeldOut(subset(history, test), pk.n_facilities, pk.capacity)
    test_day, _ = local_day_and_second(np.asarray(history.time_utc_s)[test], tz)
    held_days = np.unique(test_day)[1:-1]   # whole days only
    held_types = day_types(held_days, pk.profile.holiday_days)
    days_by_type = {DayType(t): held_days[held_types == t] for t in np.unique(held_types)}

    def day_type_of(utc_s: int) -> DayType:
        day, _ = local_day_and_second(np.array([utc_s]), tz)
        return DayType(day_types(day, pk.profile.holiday_days)[0])
    prepare(network)
    print(f"Monaco ({time.perf_counter() - t0:.1f} s to build): {pk.n_facilities} facilities, "
          f"{int(np.isin(pk.kind, [int(k) for k in CAR_KINDS]).sum())} car parks; "
          f"{int(train.sum()):,} training readings ({len(np.unique(week[train]))} weeks), "
          f"{int(test.sum()):,} held out ({len(np.unique(week[test]))} weeks, {held_days.size} whole days)")

    g = network.street
    options = PlanOptions()
    policy = options.parking
    car_fac = np.flatnonzero(np.isin(pk.kind, [int(k) for k in CAR_KINDS])
                             & (pk.car_node_idx != NO_INDEX) & (pk.walk_node_idx != NO_INDEX))
    car_profile = street.StreetProfile(Mode.CAR)
    # drive between car parks (diversions): one search per car park, once
    between = street.many_to_many(g, car_profile, pk.car_node_idx[car_fac], pk.car_node_idx[car_fac])
    fac_row = {int(f): i for i, f in enumerate(car_fac)}

    o_lon, o_lat, d_lon, d_lat, depart = sample_trips(network, rng, args.trips * 2, args.destinations,
                                                      held_days, tz)
    app_user = app_users(rng, depart.size, args.market_share)
    pending = None
    if args.market_share < 100:
        # trips in departure order, so that the advice given before a trip is what the server knows
        order = np.argsort(depart, kind="stable")
        o_lon, o_lat, d_lon, d_lat, depart = (a[order] for a in (o_lon, o_lat, d_lon, d_lat, depart))
        pending = PendingArrivals(compliance_share=args.compliance)
    rows = []
    t_plan = []
    for i in range(o_lon.size):
        if len(rows) >= args.trips:
            break
        origin, dest = (float(o_lon[i]), float(o_lat[i])), (float(d_lon[i]), float(d_lat[i]))
        # the same drive and walk times for both rules (as CAR_PARK measured them)
        fac, drive, walk = car_park_times(network, origin, dest, options=options)
        assert np.array_equal(fac, car_fac)
        within = np.isfinite(drive) & np.isfinite(walk)
        if not within.any():
            continue
        base_row = int(np.flatnonzero(within)[np.argmin(walk[within])])
        if app_user[i]:
            tp = time.perf_counter()
            res = plan_trip(network, origin, dest, depart_at=int(depart[i]), modes=["CAR_PARK"],
                            options=options, pending=pending)
            t_plan.append(time.perf_counter() - tp)
            if not res.itineraries:
                continue
            park = next(leg for leg in res.itineraries[0].legs if leg.mode == "PARK")
            chosen = int(np.flatnonzero(pk.facility_ids == park.extra["parking"]["facility_id"])[0])
            if pending is not None:     # the advice is recorded, as the server does
                arrive = int(depart[i] + drive[fac_row[chosen]])
                pending = pending.expired(int(depart[i])).added(chosen, arrive)
        else:
            chosen = int(car_fac[base_row])
        # the same departure time of day on every held-out day of the trip's day type
        departs = same_time_on(int(depart[i]), days_by_type[day_type_of(int(depart[i]))], tz)
        out = {"depart": int(depart[i]), "days": departs.size, "app_user": bool(app_user[i])}
        for name, row in (("trajet", fac_row[chosen]), ("baseline", base_row)):
            total, full = realised_s(held, row, departs + drive[row], drive, walk, between, car_fac, policy)
            out[name] = float(total.mean())
            out[f"{name}_full"] = float(full.mean())
            out[f"{name}_facility"] = int(car_fac[row])
        rows.append(out)

    report(rows, tz, pk.profile.holiday_days, args, t_plan or [math.nan])


def app_users(rng, n: int, market_share_pct: float) -> np.ndarray:
    """trip -> whether its driver follows trajet's advice: a share ``market_share_pct`` (percent)
    of the trips, drawn independently; 100 % draws nothing (every trip, as without the option).
    Raises ValueError outside 0..100."""
    if not 0.0 <= float(market_share_pct) <= 100.0:
        raise ValueError(f"--market-share must be between 0 and 100 percent, got {market_share_pct}")
    if market_share_pct >= 100:
        return np.ones(n, dtype=bool)
    return rng.random(n) < float(market_share_pct) / 100.0


def market_share_figures(rows: list[dict], args) -> dict:
    """The headline figures of a run with ``--market-share`` below 100 (none otherwise): the app
    users' trips, and the mean realised time of app users and of the others (who drive to the
    nearest car park)."""
    if args.market_share >= 100:
        return {}
    app = np.array([r["app_user"] for r in rows])
    tra = np.array([r["trajet"] for r in rows])
    base = np.array([r["baseline"] for r in rows])
    out = {"market_share_pct": args.market_share, "compliance": args.compliance,
           "app_user_trips": int(app.sum())}
    if app.any():
        out["app_users_mean_s"] = round(float(tra[app].mean()), 1)
        out["app_users_ratio_vs_nearest_car_park"] = round(float(tra[app].mean() / base[app].mean()), 4)
    if (~app).any():
        out["others_mean_s"] = round(float(base[~app].mean()), 1)
    return out


def same_time_on(depart_utc_s: int, days: np.ndarray, timezone: str) -> np.ndarray:
    """The UTC instants (s) of ``depart_utc_s``'s local time of day on each of ``days`` (local
    days since 1970-01-01)."""
    zone = zoneinfo.ZoneInfo(timezone)
    local = dt.datetime.fromtimestamp(depart_utc_s, zone)
    return np.array([int(dt.datetime.combine(dt.date(1970, 1, 1) + dt.timedelta(days=int(d)), local.time(),
                                             tzinfo=zone).timestamp()) for d in days], dtype=np.int64)


def realised_s(held, row, arrive_utc_s, drive, walk, between, car_fac, policy):
    """Door-to-door seconds of parking at car park ``row`` (arriving at each of ``arrive_utc_s``),
    and whether it was full then; a full car park costs the wait, then the diversion to the car
    park with room (observed then) that minimises drive + search + walk."""
    search = policy.search
    full, occ, _ = held.state(car_fac[row], arrive_utc_s)
    total = drive[row] + search.realised_s(False, occ) + policy.park_s + walk[row]
    for k in np.flatnonzero(full):
        at = arrive_utc_s[k] + search.full_wait_s
        s_full, s_occ, s_known = held.state(car_fac, at + between[row])
        reachable = ~s_full & np.isfinite(between[row]) & np.isfinite(walk)
        # a car park without a reading then counts as having room only when none with one has
        room = reachable & s_known if (reachable & s_known).any() else reachable
        cost = np.where(room, between[row] + search.realised_s(False, s_occ) + walk, np.inf)
        total[k] = drive[row] + search.full_wait_s + float(cost.min()) + policy.park_s
    return total, full


def report(rows: list[dict], tz: str, holiday_days, args, t_plan) -> None:
    """The table per (day type, hour), the summary lines and the JSON headline."""
    dep = np.array([r["depart"] for r in rows])
    day, second = local_day_and_second(dep, tz)
    dtype = day_types(day, holiday_days)
    hour = second // 3600
    tra = np.array([r["trajet"] for r in rows])
    base = np.array([r["baseline"] for r in rows])
    tfull = np.array([r["trajet_full"] for r in rows])
    bfull = np.array([r["baseline_full"] for r in rows])
    same = np.array([r["trajet_facility"] == r["baseline_facility"] for r in rows])

    print(f"\n{len(rows)} trips ({args.destinations} destinations), departures in held-out weeks; "
          f"planning {1000 * np.median(t_plan):.1f} ms median per trip (CAR_PARK only)")
    print(f"{'day type':<9} {'hour':>4} {'trips':>5} {'trajet s':>9} {'baseline s':>10} {'ratio':>6} "
          f"{'95% CI of diff s':>17} {'base full':>9} {'traj full':>9} {'same':>5}")
    groups = []
    for d in DayType:
        for h in range(24):
            m = (dtype == d) & (hour == h)
            if m.sum() < 2:
                continue
            diff = tra[m] - base[m]
            half = 1.96 * diff.std(ddof=1) / math.sqrt(m.sum())
            gr = dict(day_type=DAY_TYPE_NAMES[d], hour=h, mask=m, n=int(m.sum()),
                      trajet=float(tra[m].mean()), baseline=float(base[m].mean()),
                      lo=float(diff.mean() - half), hi=float(diff.mean() + half),
                      base_full=float(bfull[m].mean()), traj_full=float(tfull[m].mean()),
                      same=float(same[m].mean()))
            gr["ratio"] = gr["trajet"] / gr["baseline"]
            groups.append(gr)
            print(f"{gr['day_type']:<9} {h:>4} {gr['n']:>5} {gr['trajet']:>9.0f} {gr['baseline']:>10.0f} "
                  f"{gr['ratio']:>6.3f} {gr['lo']:>8.0f} .. {gr['hi']:>5.0f} {gr['base_full']:>9.2f} "
                  f"{gr['traj_full']:>9.2f} {gr['same']:>5.2f}")
    ratios = np.array([gr["ratio"] for gr in groups])
    worse = [gr for gr in groups if gr["ratio"] > 1.0]
    surely_worse = [gr for gr in groups if gr["lo"] > 0]
    # busiest hours: the tenth of hour groups whose baseline car park was most often full
    n_busy = max(1, round(len(groups) * args.busy_share))
    busy = sorted(groups, key=lambda gr: -gr["base_full"])[:n_busy]
    busy_mask = np.any([gr["mask"] for gr in busy], axis=0)
    busy_cut = min(gr["base_full"] for gr in busy)
    busy_reduction = 1 - tra[busy_mask].mean() / base[busy_mask].mean()
    busy_min = 1 - max(gr["ratio"] for gr in busy)
    worst = groups[int(np.argmax(ratios))]
    print(f"\nall trips: trajet {tra.mean():.0f} s, baseline {base.mean():.0f} s, ratio "
          f"{tra.mean() / base.mean():.3f}; baseline's car park full on arrival in {bfull.mean():.1%} of "
          f"trips, trajet's in {tfull.mean():.1%}")
    print(f"hour groups where trajet is worse on average: {len(worse)} of {len(groups)} (worst "
          f"{worst['day_type']} {worst['hour']}h, ratio {worst['ratio']:.4f}, "
          f"{worst['trajet'] - worst['baseline']:+.2f} s a trip); significantly worse "
          f"(95% interval of the paired difference above 0): {len(surely_worse)}")
    print(f"busiest hours ({n_busy} groups, baseline full in >= {busy_cut:.0%} of their trips; "
          f"{int(busy_mask.sum())} trips): trajet {tra[busy_mask].mean():.0f} s, baseline "
          f"{base[busy_mask].mean():.0f} s, {busy_reduction:.1%} lower; each group at least "
          f"{busy_min:.1%} lower")
    headline = {
        "trips": len(rows), "destinations": args.destinations, "seed": args.seed,
        "mean_s_trajet": round(float(tra.mean()), 1), "mean_s_baseline": round(float(base.mean()), 1),
        "ratio_vs_nearest_car_park": round(float(tra.mean() / base.mean()), 4),
        "hour_groups": len(groups),
        "hours_worse_than_nearest_car_park": len(worse),
        "hours_significantly_worse_than_nearest_car_park": len(surely_worse),
        "worst_hour_ratio_vs_nearest_car_park": round(float(ratios.max()), 5),
        "worst_hour_extra_s_vs_nearest_car_park": round(worst["trajet"] - worst["baseline"], 3),
        "busy_hour_groups": n_busy,
        "busy_hours_reduction_vs_nearest_car_park": round(float(busy_reduction), 4),
        "busy_hours_min_group_reduction_vs_nearest_car_park": round(float(busy_min), 4),
        "baseline_full_share": round(float(bfull.mean()), 4),
        "trajet_full_share": round(float(tfull.mean()), 4),
        "plan_ms_p50": round(1000 * float(np.median(t_plan)), 2),
        **market_share_figures(rows, args),
    }
    print()
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
