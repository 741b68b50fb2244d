"""A bike-share city for tests: the Helsinki GBFS stations on a generated street grid.

The street graph is a generated grid (an OSM XML file written here: residential streets every
``SPACING_M`` metres, square around the stations' coordinates with a ``MARGIN_M`` margin), not
an extract of Helsinki's streets: what is tested is the choice among stations, and a grid makes
distances predictable. The stations are the real fixture's (``../shared/data/gbfs/helsinki``:
001-005 are usable; the others lack an id, a name or coordinates and are left out by the reader).

The history (``write_history``) is simulated, every 30 min over ``WEEKS`` weeks before
``HISTORY_END``: station 003 (Kapteeninpuistikko) empties on weekday mornings (12 bikes at
07:00, none from 08:00 to 11:00, back to 10 by 16:00); the others stay about half full.
Readings use the shared encoding: occupied = bikes, capacity = bikes + docks.
"""
from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from pathlib import Path

import numpy as np

from tests.conftest import SHARED_DATA

HELSINKI = SHARED_DATA / "gbfs" / "helsinki"
LILLESTROM = SHARED_DATA / "gbfs" / "lillestrombysykkel"
DUPLICATES = SHARED_DATA / "gbfs" / "duplicate-stations-v2"
SYSTEM = "HSL_FI_Helsinki"
TZ = "Europe/Helsinki"
SPACING_M = 80.0
MARGIN_M = 500.0
WEEKS = 4
HISTORY_END = dt.datetime(2026, 3, 2, 0, 0, tzinfo=zoneinfo.ZoneInfo(TZ))   # a Monday
EMPTYING = "003"
CAPACITY = {"001": 30, "002": 13, "003": 16, "004": 14, "005": 32}
STATION_LONLAT = {"001": (24.9502928896903, 60.155444793821), "002": (24.9563474717587, 60.1609590943154),
                  "003": (24.9449274, 60.1581892), "004": (24.9417758, 60.1609859),
                  "005": (24.9362853, 60.1579483)}


def facility(station_id: str) -> str:
    return f"gbfs:{SYSTEM}/{station_id}"


def write_grid_osm(path: Path) -> Path:
    """A grid of residential streets around the stations, as OSM XML."""
    lons = [p[0] for p in STATION_LONLAT.values()]
    lats = [p[1] for p in STATION_LONLAT.values()]
    lat0 = (min(lats) + max(lats)) / 2
    m_lon = 111_320.0 * math.cos(math.radians(lat0))
    m_lat = 111_320.0
    lon_a, lon_b = min(lons) - MARGIN_M / m_lon, max(lons) + MARGIN_M / m_lon
    lat_a, lat_b = min(lats) - MARGIN_M / m_lat, max(lats) + MARGIN_M / m_lat
    n_cols = int((lon_b - lon_a) * m_lon / SPACING_M) + 1
    n_rows = int((lat_b - lat_a) * m_lat / SPACING_M) + 1
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="trajet tests">']
    for j in range(n_rows):
        for i in range(n_cols):
            lat, lon = lat_a + j * SPACING_M / m_lat, lon_a + i * SPACING_M / m_lon
            lines.append(f'<node id="{1 + j * n_cols + i}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    way = 1
    for j in range(n_rows):
        refs = "".join(f'<nd ref="{1 + j * n_cols + i}"/>' for i in range(n_cols))
        lines.append(f'<way id="{way}" version="1">{refs}<tag k="highway" v="residential"/>'
                     f'<tag k="name" v="Row {j}"/></way>')
        way += 1
    for i in range(n_cols):
        refs = "".join(f'<nd ref="{1 + j * n_cols + i}"/>' for j in range(n_rows))
        lines.append(f'<way id="{way}" version="1">{refs}<tag k="highway" v="residential"/>'
                     f'<tag k="name" v="Column {i}"/></way>')
        way += 1
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def bikes_at(station_id: str, local: dt.datetime, rng: np.random.Generator) -> int:
    """Simulated bikes at a station at a local instant (the module docstring's pattern)."""
    cap = CAPACITY[station_id]
    hour = local.hour + local.minute / 60
    if station_id == EMPTYING and local.weekday() < 5:
        if hour < 7:
            base = 12.0
        elif hour < 8:
            base = 12.0 * (8 - hour)
        elif hour < 11:
            base = 0.0
        elif hour < 16:
            base = 10.0 * (hour - 11) / 5
        else:
            base = 10.0
        noise = 0 if base == 0 else rng.integers(-1, 2)
    else:
        base, noise = cap * 0.5, rng.integers(-2, 3)
    return int(np.clip(round(base + noise), 0, cap))


def write_history(path: Path, *, weeks: int = WEEKS, end: dt.datetime = HISTORY_END, seed: int = 1) -> Path:
    """Readings every 30 min over ``weeks`` weeks before ``end`` (generic CSV preset)."""
    rng = np.random.default_rng(seed)
    rows = ["last_updated,code,occupancy,capacity"]
    t = end - dt.timedelta(weeks=weeks)
    while t < end:
        for sid, cap in CAPACITY.items():
            rows.append(f"{int(t.timestamp())},{facility(sid)},{bikes_at(sid, t, rng)},{cap}")
        t += dt.timedelta(minutes=30)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def build_city(folder: Path, *, history: bool = True, gbfs=(HELSINKI,), transit: bool = False):
    """Build the bundle (``trajet build``'s code path) into ``folder/bundle``; returns the network.
    ``transit`` adds the bus of :func:`write_gtfs`."""
    from loaders.build import BuildOptions, build_bundle

    folder.mkdir(parents=True, exist_ok=True)
    options = BuildOptions(osm=write_grid_osm(folder / "grid.osm"), gbfs=[str(g) for g in gbfs],
                           gtfs=[write_gtfs(folder / "gtfs")] if transit else [],
                           parking_history=write_history(folder / "history.csv") if history else None,
                           parking_history_preset="generic" if history else None, timezone=TZ,
                           progress=False)
    network, _ = build_bundle(options, folder / "bundle")
    return network


def near(station_id: str, east_m: float = 0.0, north_m: float = 0.0) -> tuple[float, float]:
    """(lon, lat) a few metres from a station."""
    lon, lat = STATION_LONLAT[station_id]
    return (lon + east_m / (111_320.0 * math.cos(math.radians(lat))), lat + north_m / 111_320.0)


WEST_STOP = near("005", north_m=30)        # a bus stop by Sepänkatu (005)
EAST_STOP = near("002", east_m=450)        # and one 450 m east of Laivasillankatu (002)


def write_gtfs(folder: Path) -> Path:
    """A bus between WEST_STOP and EAST_STOP, both ways, every 10 min 06:00-22:00, 4 min a ride,
    every day of March 2026."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,Grid Bus,https://example.org,"
                      f"{TZ}\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n"
                     f"W,West,{WEST_STOP[1]:.7f},{WEST_STOP[0]:.7f}\n"
                     f"E,East,{EAST_STOP[1]:.7f},{EAST_STOP[0]:.7f}\n",
        "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n1,A,1,West-East,3\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,"
                        "end_date\nS,1,1,1,1,1,1,1,20260301,20260331\n",
    }
    trips = ["route_id,service_id,trip_id"]
    times = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for k, minute in enumerate(range(6 * 60, 22 * 60, 10)):
        for direction, (a, b) in enumerate((("W", "E"), ("E", "W"))):
            trip = f"t{k}{'we'[direction]}"
            trips.append(f"1,S,{trip}")
            for seq, (stop, m) in enumerate(((a, minute), (b, minute + 4))):
                hhmmss = f"{m // 60:02d}:{m % 60:02d}:00"
                times.append(f"{trip},{hhmmss},{hhmmss},{stop},{seq + 1}")
    files["trips.txt"] = "\n".join(trips) + "\n"
    files["stop_times.txt"] = "\n".join(times) + "\n"
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
