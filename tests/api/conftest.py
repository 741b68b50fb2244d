"""A small hand-made town in Monaco's corner of the map, saved as a bundle, and apps serving it.

Streets: a 6 x 6 grid, 100 m apart, two-way; each row and each column is one OSM way (so the
network GeoJSON has exactly 12 lines of 6 points). Transit: line "1" (colour E2001A) along the
bottom row, stops A (node 0), B (node 2), C (node 5), a trip every 10 minutes from 06:00 to
21:50, every day from 2026-01-05 to 2026-02-28. Parking: P1 (300 spaces, bottom-right corner)
and P2 (capacity unknown, top-left corner).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine.model import (
    NO_INDEX,
    LocalProjection,
    Network,
    Parking,
    ParkingKind,
    StreetGraph,
)
from engine.transit.build import TripStopTimes, timetable_from_trips
from loaders.bundle import save_bundle

LON0, LAT0 = 7.4200, 43.7300
N = 6
PROJ = LocalProjection(LON0 + 0.0031, LAT0 + 0.00225)
MX, MY = PROJ.metres_per_degree
DLON, DLAT = 100.0 / MX, 100.0 / MY
FIRST_DAY = dt.date(2026, 1, 5)
LAST_DAY = dt.date(2026, 2, 28)


def node_lonlat(row: int, col: int) -> tuple[float, float]:
    return LON0 + col * DLON, LAT0 + row * DLAT


def _street() -> StreetGraph:
    lon = np.array([node_lonlat(r, c)[0] for r in range(N) for c in range(N)])
    lat = np.array([node_lonlat(r, c)[1] for r in range(N) for c in range(N)])
    tails, heads, ways = [], [], []
    for r in range(N):
        for c in range(N - 1):  # row way r
            a, b = r * N + c, r * N + c + 1
            tails += [a, b]
            heads += [b, a]
            ways += [r, r]
    for c in range(N):
        for r in range(N - 1):  # column way N + c
            a, b = r * N + c, (r + 1) * N + c
            tails += [a, b]
            heads += [b, a]
            ways += [N + c, N + c]
    m = len(tails)
    length = np.full(m, 100.0)
    car = np.full(m, 10.0)
    car[np.asarray(ways) == N] = np.inf  # column 0 is a footway: no cars
    return StreetGraph.from_edges(
        node_lon=lon, node_lat=lat, edge_tail=tails, edge_head=heads, edge_length_m=length,
        walk_time_s=length / 1.3, bike_time_s=length / 4.5, car_time_s=car,
        edge_is_bike_lane=np.asarray(ways) == 1, edge_way_idx=ways,
        way_osm_id=np.arange(100, 100 + 2 * N), projection=PROJ,
        way_name=[f"Row {r}" for r in range(N)] + [f"Column {c}" for c in range(N)],
        way_highway=["residential"] * N + ["footway"] + ["residential"] * (N - 1))


def _timetable():
    stop_nodes = [0, 2, 5]
    stop_lon = [node_lonlat(0, n)[0] for n in stop_nodes]
    stop_lat = [node_lonlat(0, n)[1] for n in stop_nodes]
    departures = np.arange(6 * 3600, 22 * 3600, 600)
    n_trips = len(departures)
    offs = np.arange(n_trips + 1) * 3
    st_stop = np.tile([0, 1, 2], n_trips)
    st_time = (departures[:, None] + np.array([0, 120, 300])[None, :]).ravel()
    trips = TripStopTimes(
        trip_ids=np.array([f"T{i}" for i in range(n_trips)]),
        trip_line_idx=np.zeros(n_trips, dtype=np.int32),
        trip_service_idx=np.zeros(n_trips, dtype=np.int32),
        trip_wheelchair=np.ones(n_trips, dtype=np.int8),
        trip_bikes_allowed=np.zeros(n_trips, dtype=np.int8),
        trip_headsign=np.array(["C"] * n_trips),
        st_offsets=offs, st_stop_idx=st_stop, st_arrival_s=st_time, st_departure_s=st_time,
        st_can_board=np.ones(3 * n_trips, dtype=bool), st_can_alight=np.ones(3 * n_trips, dtype=bool))
    first = (FIRST_DAY - dt.date(1970, 1, 1)).days
    n_days = (LAST_DAY - FIRST_DAY).days + 1
    return timetable_from_trips(
        stop_ids=["A", "B", "C"], stop_name=["Place A", "Place B", "Place C"],
        stop_lon=stop_lon, stop_lat=stop_lat, line_ids=["L1"], line_short_name=["1"],
        line_long_name=["Bottom row"], line_type=[3], line_color=["E2001A"],
        line_text_color=["FFFFFF"], trips=trips, service_ids=["daily"], service_first_day=first,
        service_active=np.ones((1, n_days), dtype=bool), timezone="Europe/Monaco")


def _parking() -> Parking:
    lon1, lat1 = node_lonlat(0, 5)
    lon2, lat2 = node_lonlat(5, 0)
    return Parking(
        facility_ids=np.array(["P1", "P2"]), facility_name=np.array(["Parking du Port", "Parking Haut"]),
        kind=np.array([ParkingKind.CAR_PARK, ParkingKind.PARK_AND_RIDE], dtype=np.int8),
        lon=np.array([lon1, lon2]), lat=np.array([lat1, lat2]),
        capacity=np.array([300, -1], dtype=np.int32),
        car_node_idx=np.array([5, 30], dtype=np.int32),
        walk_node_idx=np.array([5, NO_INDEX], dtype=np.int32),
        source=np.array(["test", "test"]))


def make_network() -> Network:
    street = _street()
    tt = _timetable()
    lon, lat = np.asarray(street.node_lon), np.asarray(street.node_lat)
    return Network(timezone="Europe/Monaco", projection=PROJ,
                   bbox=(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())),
                   street=street, timetable=tt, parking=_parking(),
                   stop_walk_node_idx=np.array([0, 2, 5], dtype=np.int32),
                   stop_walk_offset_m=np.zeros(3))


@pytest.fixture(scope="session")
def town_bundle(tmp_path_factory):
    """The grid town saved as a bundle folder (shared, read-only)."""
    out = tmp_path_factory.mktemp("bundles") / "town"
    save_bundle(make_network(), out, counts={"street_nodes": N * N, "stops": 3})
    return out


@pytest.fixture
def make_app(town_bundle, tmp_path):
    """Build an app on the town bundle (own observations DB under tmp_path), ready to serve."""
    apps = []

    def factory(**overrides):
        from api.app import create_app

        config = {"bundle_dir": town_bundle, "observations_db": tmp_path / "obs.sqlite",
                  "load_in_background": False, **overrides}
        app = create_app(config)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["trajet"].close()


@pytest.fixture
def client(make_app):
    return make_app().test_client()


TOKEN = "s3cret-token-for-tests-only"


def occupancy_history(tz: str = "Europe/Monaco"):
    """P1's hourly occupancy, 2026-01-05 to 2026-02-01: 20 free on weekdays 08:00-17:59, else 250."""
    from zoneinfo import ZoneInfo

    from engine.model import OccupancyHistory

    start = dt.datetime(2026, 1, 5, tzinfo=ZoneInfo(tz))
    hours = [start + dt.timedelta(hours=h) for h in range(27 * 24)]
    free = [20 if (t.weekday() < 5 and 8 <= t.hour < 18) else 250 for t in hours]
    n = len(hours)
    return OccupancyHistory(facility_idx=np.zeros(n, dtype=np.int32),
                            time_utc_s=np.array([int(t.timestamp()) for t in hours], dtype=np.int64),
                            free_spaces=np.array(free, dtype=np.int32),
                            capacity=np.full(n, 300, dtype=np.int32))


@pytest.fixture(scope="session")
def forecast_bundle(tmp_path_factory):
    """The town with P1's occupancy history and its fitted profile (P2 has none)."""
    import dataclasses

    from engine.parking import fit_occupancy_profile

    network = make_network()
    history = occupancy_history()
    profile = fit_occupancy_profile(history, network.parking.capacity, network.timezone)
    parking = dataclasses.replace(network.parking, history=history, profile=profile)
    out = tmp_path_factory.mktemp("bundles") / "town-forecast"
    save_bundle(dataclasses.replace(network, parking=parking), out)
    return out


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (tests/api/browser_support.py), closed at the end of the module."""
    from tests.api.browser_support import CHROMIUM, CHROMIUM_ARGS, require_browser

    sync_api = require_browser()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
