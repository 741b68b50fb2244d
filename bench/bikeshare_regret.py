"""Bike-share regret: trajet's forecast-aware station choice against "the nearest station" on a
simulated city, in expected door-to-door time on held-out days.

    python bench/bikeshare_regret.py [--trips 2000] [--seed 3] [--stations 40] [--weeks 8]

Protocol
--------
1. **City.** A generated street grid (``bench/synthetic.py``, 32 x 32 nodes, 100 m apart) with
   ``--stations`` bike-share stations on random street nodes (capacity 12-30). The west third
   is residential, the east third offices, the middle mixed.
2. **History** (simulated, a reading every 15 min over ``--weeks`` weeks; the shared encoding:
   free = docks, capacity = bikes + docks). Residential stations are full of bikes at night and
   empty on weekday mornings (the drop starts at a station's own hour, 06:45-09:15, shifted by
   N(0, 20 min) each day, and takes an hour); they fill again 17:00-19:00. Office stations do the
   opposite: nearly empty at night, full of bikes (no free dock) from their own morning hour
   until 17:00. Mixed stations and weekends stay about half full. Every reading has +-1 bike of
   noise. Even weeks are **training** weeks, odd weeks are **held out**; the docks profile and
   the bikes profile are fitted on the training weeks only (``fit_occupancy_profile``,
   ``engine.parking.bikes.fit_bikes_profile``): the planner never sees a held-out reading and is
   given no live reading.
3. **Trips.** ``--trips`` trips on weekdays; 70 % commute (residential third -> office third,
   departure 06:30-09:30; or back, 16:30-19:00), 30 % uniform (any two points, any hour
   06:00-22:00). Origins and destinations are random walkable nodes at least 1 km apart with a
   station within ``max_walk_m``.
4. **Choices.** trajet: ``plan_trip(..., modes=["BIKE_SHARE"])`` (default options), its pick-up
   and drop-off stations. Baseline: the station nearest the origin on foot and the one nearest
   the destination on foot, whatever the forecast.
5. **Expected realised time** (one rule for both), averaged over every held-out weekday at the
   same local time: walk to the pick-up; if it has no bike on arrival (the held-out reading
   nearest that instant), walk on to the nearest station with a bike then (and again if needed);
   60 s to unlock; ride to the drop-off; if it has no free dock, ride on to the nearest station
   with one; 60 s to dock; walk to the destination. Walks and rides are street times (walk
   1.3 m/s, a shared pedal bike 4.2 m/s).
6. **Report.** Mean realised time of both per period (morning peak, evening peak, other),
   failed pick-ups and drop-offs (trip-days where the first station had no bike / no dock), the
   ratio aware / nearest. The last line is a JSON object of headline figures.

Assumptions: the simulated pattern is what trajet is asked to learn (a city's real poll history
would be noisier); a traveller who finds no bike knows where the next one is (the operator's
app); nobody else's choice changes the counts.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
import zoneinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.synthetic import grid_street_graph  # noqa: E402
from engine import street  # noqa: E402
from engine.model import Mode, Network, OccupancyHistory, Parking, ParkingKind  # noqa: E402
from engine.parking import fit_occupancy_profile  # noqa: E402
from engine.parking.bikes import PEDAL_BIKE_SPEED_MPS, fit_bikes_profile  # noqa: E402
from engine.planning import plan_trip  # noqa: E402
from engine.planning.modes_bikeshare import BIKE_DOCK_S, BIKE_UNLOCK_S  # noqa: E402
from engine.planning.options import PlanOptions  # noqa: E402

TZ = "Europe/Paris"
ZONE = zoneinfo.ZoneInfo(TZ)
N_GRID = 32
STEP_S = 900
FIRST_DAY = dt.date(2026, 1, 5)          # a Monday
WALK = street.StreetProfile(Mode.WALK, walk_speed_mps=1.3)
BIKE = street.StreetProfile(Mode.BICYCLE, bike_speed_mps=PEDAL_BIKE_SPEED_MPS)


# ---------------------------------------------------------------------------------------------
# The city and its simulated history
# ---------------------------------------------------------------------------------------------
def place_stations(graph, rng, n: int):
    """(node, kind 0 residential / 1 mixed / 2 office, capacity, own morning hour) per station."""
    ok = np.flatnonzero(graph.node_in_component[Mode.WALK] & graph.node_in_component[Mode.BICYCLE])
    nodes = rng.choice(ok, size=n, replace=False)
    x = np.asarray(graph.node_x_m)[nodes]
    third = (x - x.min()) / max(np.ptp(x), 1.0)
    kind = np.where(third < 1 / 3, 0, np.where(third > 2 / 3, 2, 1))
    capacity = rng.integers(12, 31, size=n)
    morning_h = rng.uniform(6.75, 9.25, size=n)
    return nodes, kind, capacity, morning_h


def bikes_on(day: dt.date, kind, capacity, morning_h, rng) -> np.ndarray:
    """(stations, slots of the day) simulated bikes."""
    hours = np.arange(0, 24, STEP_S / 3600)[None, :]
    cap = capacity[:, None].astype(float)
    if day.weekday() >= 5:
        level = 0.5 * cap + 0 * hours
    else:
        start = morning_h[:, None] + rng.normal(0, 1 / 3, size=(capacity.size, 1))
        drop = np.clip(hours - start, 0, 1)                    # 0 before, 1 an hour later
        back = np.clip((hours - 17) / 2, 0, 1)                 # the evening, 17:00-19:00
        resid = cap * (0.8 - 0.8 * drop + 0.8 * back * (hours >= 17))
        office = cap * (0.1 + 0.9 * drop - 0.9 * np.clip((hours - 17) / 1.5, 0, 1))
        level = np.where((kind == 0)[:, None], resid, np.where((kind == 2)[:, None], office,
                                                               0.5 * cap + 0 * hours))
    noise = rng.integers(-1, 2, size=level.shape)
    return np.clip(np.round(level) + noise, 0, cap).astype(np.int32)


def simulate(kind, capacity, morning_h, weeks: int, rng):
    """(bikes array (stations, days, slots), the days)."""
    days = [FIRST_DAY + dt.timedelta(days=d) for d in range(7 * weeks)]
    return np.stack([bikes_on(d, kind, capacity, morning_h, rng) for d in days], axis=1), days


def slot_utc_s(day: dt.date, slot: int) -> int:
    local = dt.datetime.combine(day, dt.time(0), tzinfo=ZONE) + dt.timedelta(seconds=slot * STEP_S)
    return int(local.timestamp())


def training_history(bikes, days, capacity) -> OccupancyHistory:
    """The readings of the even weeks (free = docks, capacity = bikes + docks)."""
    fac, t, free, cap = [], [], [], []
    n_st, _, n_slots = bikes.shape
    for d, day in enumerate(days):
        if (d // 7) % 2:
            continue
        times = np.array([slot_utc_s(day, s) for s in range(n_slots)], dtype=np.int64)
        for f in range(n_st):
            fac.append(np.full(n_slots, f, dtype=np.int32))
            t.append(times)
            free.append(capacity[f] - bikes[f, d])
            cap.append(np.full(n_slots, capacity[f], dtype=np.int32))
    order = np.lexsort((np.concatenate(t), np.concatenate(fac)))
    return OccupancyHistory(facility_idx=np.concatenate(fac)[order], time_utc_s=np.concatenate(t)[order],
                            free_spaces=np.concatenate(free).astype(np.int32)[order],
                            capacity=np.concatenate(cap)[order])


def make_network(graph, nodes, capacity, history) -> Network:
    n = nodes.size
    lon, lat = np.asarray(graph.node_lon)[nodes], np.asarray(graph.node_lat)[nodes]
    parking = Parking(facility_ids=np.array([f"gbfs:sim/{i:03d}" for i in range(n)]),
                      facility_name=np.array([f"Station {i:03d}" for i in range(n)]),
                      kind=np.full(n, int(ParkingKind.BIKE_SHARE), dtype=np.int8), lon=lon, lat=lat,
                      capacity=capacity.astype(np.int32), car_node_idx=nodes.astype(np.int32),
                      walk_node_idx=nodes.astype(np.int32), source=np.full(n, "gbfs:sim"), history=history)
    parking = dataclasses.replace(parking, profile=fit_occupancy_profile(history, parking.capacity, TZ))
    parking = dataclasses.replace(parking, bikes_profile=fit_bikes_profile(parking, TZ))
    nl, na = np.asarray(graph.node_lon), np.asarray(graph.node_lat)
    return Network(timezone=TZ, projection=graph.projection, street=graph, parking=parking,
                   bbox=(float(nl.min()), float(na.min()), float(nl.max()), float(na.max())))


# ---------------------------------------------------------------------------------------------
# Trips and the realised time
# ---------------------------------------------------------------------------------------------
def sample_trip(graph, rng, x_third, walk_ok):
    """(origin node, destination node, local departure hour, period)."""
    commute = rng.random() < 0.7
    morning = rng.random() < 0.5
    if commute:
        west, east = np.flatnonzero(walk_ok & (x_third < 1 / 3)), np.flatnonzero(walk_ok & (x_third > 2 / 3))
        a, b = (west, east) if morning else (east, west)
        o, d = rng.choice(a), rng.choice(b)
        hour = rng.uniform(6.5, 9.5) if morning else rng.uniform(16.5, 19.0)
    else:
        o, d = rng.choice(np.flatnonzero(walk_ok), size=2, replace=False)
        hour = rng.uniform(6.0, 22.0)
    period = "morning peak" if 6.5 <= hour < 9.5 else ("evening peak" if 16.5 <= hour < 19 else "other")
    return int(o), int(d), hour, period


def _next(from_row: np.ndarray, ok: np.ndarray) -> int:
    """The station nearest along ``from_row`` (s) among ``ok``; -1 when none."""
    cost = np.where(ok, from_row, np.inf)
    k = int(np.argmin(cost))
    return k if np.isfinite(cost[k]) else -1


def realised_s(p: int, d: int, walk_o: np.ndarray, walk_d: np.ndarray, walk_ss, ride_ss, bikes_day,
               capacity, t0_utc_s: int, day: dt.date) -> tuple[float, bool, bool]:
    """Door-to-door seconds on one held-out day for pick-up ``p`` and dock ``d`` (the rule of the
    module docstring), and whether the pick-up had no bike / the dock no free dock."""
    def state(station: int, t_utc_s: float) -> int:
        slot = int(round((t_utc_s - slot_utc_s(day, 0)) / STEP_S))
        return int(bikes_day[station, min(max(slot, 0), bikes_day.shape[1] - 1)])

    t = walk_o[p]
    failed_p = state(p, t0_utc_s + t) == 0
    here, tries = p, 0
    while state(here, t0_utc_s + t) == 0 and tries < 5:
        has_bike = np.array([state(s, t0_utc_s + t + walk_ss[here, s]) > 0 for s in range(capacity.size)])
        has_bike[here] = False
        nxt = _next(walk_ss[here], has_bike)
        if nxt < 0:
            break
        t, here, tries = t + walk_ss[here, nxt], nxt, tries + 1
    t += BIKE_UNLOCK_S + ride_ss[here, d]
    failed_d = state(d, t0_utc_s + t) >= capacity[d]
    dock, tries = d, 0
    while state(dock, t0_utc_s + t) >= capacity[dock] and tries < 5:
        has_dock = np.array([state(s, t0_utc_s + t + ride_ss[dock, s]) < capacity[s]
                             for s in range(capacity.size)])
        has_dock[dock] = False
        nxt = _next(ride_ss[dock], has_dock)
        if nxt < 0:
            break
        t, dock, tries = t + ride_ss[dock, nxt], nxt, tries + 1
    return t + BIKE_DOCK_S + walk_d[dock], failed_p, failed_d


def _matrix(graph, profile, nodes) -> np.ndarray:
    m = street.many_to_many(graph, profile, nodes, nodes)
    return np.where(m >= street.UNREACHED, np.inf, m)


def _times_from(graph, profile, node: int, targets, reverse: bool) -> np.ndarray:
    m = street.many_to_many(graph, profile, [node], targets, reverse=reverse)[0]
    return np.where(m >= street.UNREACHED, np.inf, m)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--stations", type=int, default=40)
    parser.add_argument("--weeks", type=int, default=8)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    t_start = time.perf_counter()
    graph = grid_street_graph(N_GRID, N_GRID, seed=args.seed, lon0_deg=3.88, lat0_deg=43.61)
    nodes, kind, capacity, morning_h = place_stations(graph, rng, args.stations)
    bikes, days = simulate(kind, capacity, morning_h, args.weeks, rng)
    network = make_network(graph, nodes, capacity, training_history(bikes, days, capacity))
    held = [d for d, day in enumerate(days) if (d // 7) % 2 and day.weekday() < 5]
    walk_ss, ride_ss = _matrix(graph, WALK, nodes), _matrix(graph, BIKE, nodes)
    x = np.asarray(graph.node_x_m)
    x_third = (x - x.min()) / np.ptp(x)
    walk_ok = graph.node_in_component[Mode.WALK] & graph.node_in_component[Mode.BICYCLE]
    options = PlanOptions()
    rows, t_plan = [], 0.0
    while len(rows) < args.trips:
        o, d, hour, period = sample_trip(graph, rng, x_third, walk_ok)
        if np.hypot(x[o] - x[d], graph.node_y_m[o] - graph.node_y_m[d]) < 1000:
            continue
        walk_o = _times_from(graph, WALK, o, nodes, reverse=False)
        walk_d = _times_from(graph, WALK, d, nodes, reverse=True)
        limit = options.max_walk_m / options.walk_speed_mps
        if walk_o.min() > limit or walk_d.min() > limit:
            continue
        day0 = days[held[0]]
        depart = dt.datetime.combine(day0, dt.time(0), tzinfo=ZONE) + dt.timedelta(hours=hour)
        t0 = time.perf_counter()
        result = plan_trip(network, (float(graph.node_lon[o]), float(graph.node_lat[o])),
                           (float(graph.node_lon[d]), float(graph.node_lat[d])), depart_at=depart,
                           modes=["BIKE_SHARE"], options=options)
        t_plan += time.perf_counter() - t0
        if not result.itineraries:
            continue
        info = result.itineraries[0].legs[1].extra["bike_share"]
        if info["pickup"]["facility_id"] is None:
            continue
        ids = list(network.parking.facility_ids)
        aware = (ids.index(info["pickup"]["facility_id"]), ids.index(info["dropoff"]["facility_id"]))
        nearest = (int(np.argmin(walk_o)), int(np.argmin(walk_d)))
        row = {"period": period, "aware": [], "nearest": [], "fail": np.zeros(4)}
        for h in held:
            day = days[h]
            t_day = int((dt.datetime.combine(day, dt.time(0), tzinfo=ZONE)
                         + dt.timedelta(hours=hour)).timestamp())
            for name, (p, q), k in (("aware", aware, 0), ("nearest", nearest, 2)):
                secs, fp, fd = realised_s(p, q, walk_o, walk_d, walk_ss, ride_ss, bikes[:, h], capacity,
                                          t_day, day)
                row[name].append(secs)
                row["fail"][k:k + 2] += (fp, fd)
        rows.append(row)
    report(rows, len(held), t_plan, time.perf_counter() - t_start, args)


def report(rows: list[dict], n_days: int, t_plan: float, t_total: float, args) -> None:
    print(f"bike-share regret: {len(rows)} trips x {n_days} held-out weekdays, {args.stations} stations, "
          f"seed {args.seed}")
    print(f"{'period':<14} {'trips':>6} {'nearest s':>10} {'aware s':>9} {'ratio':>6} "
          f"{'no bike n/a':>12} {'no dock n/a':>12}")
    for period in ("morning peak", "evening peak", "other", "all"):
        sel = [r for r in rows if period in ("all", r["period"])]
        if not sel:
            continue
        near = np.mean([np.mean(r["nearest"]) for r in sel])
        aware = np.mean([np.mean(r["aware"]) for r in sel])
        fail = np.sum([r["fail"] for r in sel], axis=0)
        print(f"{period:<14} {len(sel):>6} {near:>10.0f} {aware:>9.0f} {aware / near:>6.3f} "
              f"{int(fail[2]):>5}/{int(fail[0]):<6} {int(fail[3]):>5}/{int(fail[1]):<6}")
    fail = np.sum([r["fail"] for r in rows], axis=0)
    near = float(np.mean([np.mean(r["nearest"]) for r in rows]))
    aware = float(np.mean([np.mean(r["aware"]) for r in rows]))
    print(f"(trip-days: {len(rows) * n_days}; planning {1000 * t_plan / len(rows):.1f} ms a trip; "
          f"total {t_total:.0f} s)")
    print(json.dumps({"trips": len(rows), "held_out_days": n_days, "mean_time_nearest_s": round(near, 1),
                      "mean_time_aware_s": round(aware, 1), "ratio_aware_vs_nearest": round(aware / near, 4),
                      "failed_pickups_nearest": int(fail[2]), "failed_pickups_aware": int(fail[0]),
                      "failed_dropoffs_nearest": int(fail[3]), "failed_dropoffs_aware": int(fail[1]),
                      "plan_ms_per_trip": round(1000 * t_plan / len(rows), 1)}))


if __name__ == "__main__":
    main()
