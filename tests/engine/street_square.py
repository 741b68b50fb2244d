"""A hand-made network for the footpath and access tests: three streets around a 300 m square.

    n3 (0, 300) <------ n2 (300, 300)        metres east, north
      S3                  |  S2
                          |
    n0 (0, 0) --------- n1 (300, 0)
      S0                    S1          S4 (unserved), 15 m east of S0

The west side is a river: no street between n0 and n3. Every stop is 10 m south of its node
(S3 10 m north), linked to it. Walking is 1.3 m/s; with ``one_way_up`` the street n1 -> n2 may
only be walked northwards. One trip serves S0, S1, S2, S3.
"""
from __future__ import annotations

import numpy as np

from engine.model import LocalProjection, Network, StreetGraph
from engine.transit.build import TripStopTimes, timetable_from_trips

PROJ = LocalProjection(7.0, 44.0)


def lonlat(x_m, y_m):
    lon, lat = PROJ.to_lonlat(np.asarray(x_m, dtype=float), np.asarray(y_m, dtype=float))
    return lon, lat


def square_network(*, streets: bool = True, one_way_up: bool = False) -> Network:
    node_x = np.array([0.0, 300.0, 300.0, 0.0])
    node_y = np.array([0.0, 0.0, 300.0, 300.0])
    tail = np.array([0, 1, 1, 2, 2, 3])
    head = np.array([1, 0, 2, 1, 3, 2])
    length = np.hypot(node_x[tail] - node_x[head], node_y[tail] - node_y[head])
    walk = length / 1.3
    if one_way_up:
        walk[3] = np.inf  # n2 -> n1 closed to walkers
    lon, lat = lonlat(node_x, node_y)
    street = StreetGraph.from_edges(node_lon=lon, node_lat=lat, edge_tail=tail, edge_head=head,
                                    edge_length_m=length, walk_time_s=walk,
                                    bike_time_s=length / 4.5, car_time_s=length / 10,
                                    projection=PROJ)
    stop_x = np.array([0.0, 300.0, 300.0, 0.0, 15.0])
    stop_y = np.array([-10.0, -10.0, 290.0, 310.0, -10.0])
    s_lon, s_lat = lonlat(stop_x, stop_y)
    trips = TripStopTimes(
        trip_ids=np.array(["t"]), trip_line_idx=np.array([0]), trip_service_idx=np.array([0], np.int32),
        trip_wheelchair=np.zeros(1, np.int8), trip_bikes_allowed=np.zeros(1, np.int8),
        trip_headsign=np.array([""]), st_offsets=np.array([0, 4]), st_stop_idx=np.array([0, 1, 2, 3]),
        st_arrival_s=np.array([0, 60, 120, 180]), st_departure_s=np.array([0, 60, 120, 180]),
        st_can_board=np.ones(4, bool), st_can_alight=np.ones(4, bool))
    tt = timetable_from_trips(
        stop_ids=["S0", "S1", "S2", "S3", "S4"], stop_name=["S0", "S1", "S2", "S3", "S4"],
        stop_lon=s_lon, stop_lat=s_lat, line_ids=["L"], line_short_name=["1"], line_long_name=[""],
        line_type=[3], trips=trips, service_ids=["all"], service_first_day=20_000,
        service_active=np.ones((1, 1), bool), timezone="Europe/Paris")
    return Network(timezone="Europe/Paris", projection=PROJ, bbox=(0, 0, 0, 0),
                   street=street if streets else None, timetable=tt,
                   stop_walk_node_idx=np.array([0, 1, 2, 3, 0], np.int32) if streets
                   else np.full(5, -1, np.int32),
                   stop_walk_offset_m=np.array([10.0, 10.0, 10.0, 10.0, np.hypot(15, 10)]) if streets
                   else np.full(5, np.inf))
