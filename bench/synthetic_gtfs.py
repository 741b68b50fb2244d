"""A synthetic city's transit timetable, at any size, for benchmarks.

Stations sit on a jittered grid (``spacing_m`` apart); each has two platforms, one per direction
of travel, Dutch-style (every stop has a ``parent_station``, a ``stop_code`` and a
``platform_code``), so pyraptor's loader accepts the feed. Lines are random walks over
neighbouring stations that avoid revisiting a station, run in both directions, with hop times
from distance and a line speed (buses 18 km/h, trams 24 km/h, metro-like trunk lines 32 km/h)
plus dwell times. Headways follow the day: 15 min from 05:30, 5-8 min in the peaks (07:00-09:00,
16:00-19:00), 10-12 min off-peak, 20 min in the evening and 30 min after 22:00 until 00:40, each
line with its own frequency class. A line's trips never overtake (one speed per line and
direction), as in a real timetable.

``city_trips`` returns arguments for ``engine.transit.build.timetable_from_trips``;
``write_gtfs`` writes the same service as a GTFS folder (calendar_dates.txt only, one service on
one date; transfers.txt giving 120 s between the two platforms of a station, pyraptor's own
rule).

    python bench/synthetic_gtfs.py OUT_DIR --stations 60 --lines 8   # writes a GTFS folder
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LON0, LAT0 = 5.0, 52.0                 # somewhere flat
M_PER_DEG_LAT = 111_200.0
M_PER_DEG_LON = 111_200.0 * np.cos(np.radians(LAT0))
PLATFORM_CHANGE_S = 120
DWELL_S = 20

# (from, to, headway minutes by frequency class 0 (trunk), 1, 2 (feeder))
HEADWAY_PROFILE = [
    (5 * 3600 + 1800, 7 * 3600, (10, 15, 20)),
    (7 * 3600, 9 * 3600, (5, 8, 12)),
    (9 * 3600, 16 * 3600, (8, 12, 15)),
    (16 * 3600, 19 * 3600, (5, 8, 12)),
    (19 * 3600, 22 * 3600, (12, 20, 30)),
    (22 * 3600, 24 * 3600 + 2400, (20, 30, 40)),
]
SPEED_KMH = (32.0, 24.0, 18.0)
ROUTE_TYPE = (1, 0, 3)                 # metro, tram, bus


@dataclass(frozen=True)
class City:
    """Stations, platforms and lines of a synthetic city, with every trip's departure time."""

    station_lon: np.ndarray
    station_lat: np.ndarray
    line_stations: list[np.ndarray]    # line -> station indices, direction 0 order
    line_class: np.ndarray             # line -> 0 trunk, 1 tram, 2 bus
    line_hop_s: list[np.ndarray]       # line -> seconds between consecutive stations
    line_starts_s: list[np.ndarray]    # line -> departure times from the first station

    @property
    def n_stations(self) -> int:
        return int(self.station_lon.shape[0])

    @property
    def n_stops(self) -> int:
        return 2 * self.n_stations

    @property
    def n_stop_times(self) -> int:
        return int(sum(2 * len(s) * len(t) for s, t in zip(self.line_stations, self.line_starts_s,
                                                           strict=True)))


def make_city(n_stations: int, n_lines: int, *, stations_per_line: tuple[int, int] = (15, 35),
              spacing_m: float = 550.0, seed: int = 0) -> City:
    """A city of about ``n_stations`` stations (a square grid) and ``n_lines`` lines."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_stations)))
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    gx, gy = gx.ravel()[:n_stations], gy.ravel()[:n_stations]
    x = gx * spacing_m + rng.normal(0, spacing_m * 0.15, n_stations)
    y = gy * spacing_m + rng.normal(0, spacing_m * 0.15, n_stations)
    cell = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(gx, gy, strict=True))}
    lines, classes, hops, starts = [], [], [], []
    for _ in range(n_lines):
        length = int(rng.integers(*stations_per_line))
        cur = (int(rng.integers(0, side)), int(rng.integers(0, side)))
        while cur not in cell:
            cur = (int(rng.integers(0, side)), int(rng.integers(0, side)))
        heading = [(1, 0), (-1, 0), (0, 1), (0, -1)][int(rng.integers(0, 4))]
        path, seen = [cell[cur]], {cur}
        while len(path) < length:
            # mostly straight on, sometimes a turn; never back onto a station already served
            options = [heading] * 6 + [(heading[1], heading[0]), (-heading[1], -heading[0])]
            rng.shuffle(options)
            for h in options:
                nxt = (cur[0] + h[0], cur[1] + h[1])
                if nxt in cell and nxt not in seen:
                    cur, heading = nxt, h
                    break
            else:
                break
            path.append(cell[cur])
            seen.add(cur)
        if len(path) < 3:
            continue
        cls = int(rng.choice(3, p=(0.15, 0.25, 0.6)))
        st = np.asarray(path)
        dist = np.hypot(np.diff(x[st]), np.diff(y[st]))
        hop = np.ceil(dist / (SPEED_KMH[cls] / 3.6) / 30.0) * 30.0 + DWELL_S
        t, times = HEADWAY_PROFILE[0][0] + int(rng.integers(0, 600)), []
        for lo, hi, headways in HEADWAY_PROFILE:
            t = max(t, lo)
            while t < hi:
                times.append(t)
                t += headways[cls] * 60
        lines.append(st)
        classes.append(cls)
        hops.append(hop.astype(np.int64))
        starts.append(np.asarray(times, dtype=np.int64))
    lon = LON0 + x / M_PER_DEG_LON
    lat = LAT0 + y / M_PER_DEG_LAT
    return City(lon, lat, lines, np.asarray(classes), hops, starts)


def _trip_rows(city: City):
    """(line, direction, trip number, stations, arrival times, departure times) of every trip."""
    for line, (st, hop, starts) in enumerate(zip(city.line_stations, city.line_hop_s,
                                                 city.line_starts_s, strict=True)):
        for direction in (0, 1):
            stations = st if direction == 0 else st[::-1]
            h = hop if direction == 0 else hop[::-1]
            offsets = np.concatenate([[0], np.cumsum(h)])
            # the return direction starts half a headway later, so both are not in phase
            shift = 0 if direction == 0 else 150
            for n, t0 in enumerate(starts):
                dep = t0 + shift + offsets
                arr = dep - np.r_[0, np.full(len(dep) - 1, DWELL_S)]
                yield line, direction, n, stations, arr, dep


def platform(station: np.ndarray | int, direction: int):
    """stop_idx of a station's platform for a direction (platform 1: direction 0)."""
    return 2 * np.asarray(station) + direction


def city_trips(city: City, *, service_first_day: int, n_days: int = 1) -> dict:
    """Keyword arguments of ``timetable_from_trips`` (one service running every day)."""
    from engine.transit.build import TripStopTimes

    ids, line_idx, offsets, stops, arr, dep = [], [], [0], [], [], []
    for line, direction, n, stations, a, d in _trip_rows(city):
        ids.append(f"L{line}-{direction}-{n}")
        line_idx.append(line)
        stops.append(platform(stations, direction))
        arr.append(a)
        dep.append(d)
        offsets.append(offsets[-1] + len(stations))
    n_trips = len(ids)
    stops = np.concatenate(stops)
    trips = TripStopTimes(
        trip_ids=np.asarray(ids), trip_line_idx=np.asarray(line_idx, dtype=np.int32),
        trip_service_idx=np.zeros(n_trips, dtype=np.int32),
        trip_wheelchair=np.zeros(n_trips, dtype=np.int8),
        trip_bikes_allowed=np.zeros(n_trips, dtype=np.int8),
        trip_headsign=np.full(n_trips, "", dtype=object).astype(str),
        st_offsets=np.asarray(offsets, dtype=np.int64), st_stop_idx=stops.astype(np.int32),
        st_arrival_s=np.concatenate(arr).astype(np.int32),
        st_departure_s=np.concatenate(dep).astype(np.int32),
        st_can_board=np.ones(stops.shape[0], dtype=bool),
        st_can_alight=np.ones(stops.shape[0], dtype=bool))
    n_lines = len(city.line_stations)
    n_st = city.n_stations
    return dict(
        stop_ids=[f"S{i // 2}-{i % 2 + 1}" for i in range(2 * n_st)],
        stop_name=[f"Station {i // 2}" for i in range(2 * n_st)],
        stop_lon=np.repeat(city.station_lon, 2), stop_lat=np.repeat(city.station_lat, 2),
        line_ids=[f"L{i}" for i in range(n_lines)], line_short_name=[str(i) for i in range(n_lines)],
        line_long_name=[""] * n_lines, line_type=[ROUTE_TYPE[c] for c in city.line_class],
        trips=trips, service_ids=["all"], service_first_day=service_first_day,
        service_active=np.ones((1, n_days), dtype=bool),
        transfer_from_stop=np.r_[platform(np.arange(n_st), 0), platform(np.arange(n_st), 1)],
        transfer_to_stop=np.r_[platform(np.arange(n_st), 1), platform(np.arange(n_st), 0)],
        transfer_time_s=np.full(2 * n_st, PLATFORM_CHANGE_S), timezone="Europe/Amsterdam")


def _hms(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def write_gtfs(city: City, folder: str | Path, date: dt.date, agency: str = "SYN") -> Path:
    """Write the city as a GTFS folder running on one date."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def write(name, header, rows):
        with open(folder / name, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)

    write("agency.txt", ["agency_id", "agency_name", "agency_url", "agency_timezone"],
          [["A", agency, "https://example.org", "Europe/Amsterdam"]])
    stations = [[f"ST{i}", f"stoparea:{i}", f"Station {i}", f"{lat:.6f}", f"{lon:.6f}", "1", "", ""]
                for i, (lon, lat) in enumerate(zip(city.station_lon, city.station_lat, strict=True))]
    platforms = [[f"S{i}-{p}", f"S{i}-{p}", f"Station {i}", f"{lat:.6f}", f"{lon:.6f}", "0", f"ST{i}", str(p)]
                 for i, (lon, lat) in enumerate(zip(city.station_lon, city.station_lat, strict=True))
                 for p in (1, 2)]
    write("stops.txt", ["stop_id", "stop_code", "stop_name", "stop_lat", "stop_lon", "location_type",
                        "parent_station", "platform_code"], stations + platforms)
    write("routes.txt", ["route_id", "agency_id", "route_short_name", "route_long_name", "route_type"],
          [[f"L{i}", "A", str(i), f"Line {i}", str(ROUTE_TYPE[c])] for i, c in enumerate(city.line_class)])
    write("calendar_dates.txt", ["service_id", "date", "exception_type"],
          [["all", date.strftime("%Y%m%d"), "1"]])
    trips, stop_times = [], []
    for k, (line, direction, n, stations_, arr, dep) in enumerate(_trip_rows(city)):
        trip_id = f"L{line}-{direction}-{n}"
        trips.append([f"L{line}", "all", trip_id, str(k + 1), f"Line {line}", str(direction)])
        for seq, (s, a, d) in enumerate(zip(stations_, arr, dep, strict=True)):
            stop_times.append([trip_id, _hms(int(a)), _hms(int(d)), f"S{s}-{direction + 1}", str(seq + 1)])
    write("trips.txt", ["route_id", "service_id", "trip_id", "trip_short_name", "trip_long_name",
                        "direction_id"], trips)
    write("stop_times.txt", ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"],
          stop_times)
    write("transfers.txt", ["from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time"],
          [[f"S{i}-{a}", f"S{i}-{b}", "2", str(PLATFORM_CHANGE_S)]
           for i in range(city.n_stations) for a, b in ((1, 2), (2, 1))])
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--stations", type=int, default=60)
    parser.add_argument("--lines", type=int, default=8)
    parser.add_argument("--date", default="2024-01-09")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    city = make_city(args.stations, args.lines, seed=args.seed)
    write_gtfs(city, args.out_dir, dt.date.fromisoformat(args.date))
    print(f"{args.out_dir}: {city.n_stops:,} stops, {len(city.line_stations)} lines, "
          f"{city.n_stop_times:,} stop_times")


if __name__ == "__main__":
    main()
