"""Isochrones per mode on the tiny town: street modes by hand, transit adds what the tram reaches."""
import datetime as dt
import zoneinfo

import numpy as np
import pytest

from engine.planning.isochrone import IsochroneUnavailable, reachable_area
from engine.planning.matrix import stop_arrival_times
from engine.planning.options import PlanOptions
from engine.planning.planner import plan_trip

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
WEDNESDAY_0800 = dt.datetime(2026, 1, 14, 8, 0, tzinfo=PARIS)
RELAIS_CORNER = (7.5000, 43.8000)      # (0, 0), by Parc Relais where the tram starts


def test_walking_five_minutes_reaches_the_corners_one_block_away(town):
    area = reachable_area(town, RELAIS_CORNER, WEDNESDAY_0800, mode="WALK", max_time_s=300)
    g = town.street
    reached = {(round(g.node_lon[n], 4), round(g.node_lat[n], 4)) for n in area.node_idx}
    # one block is about 200 m: 154 s at 1.3 m/s; two blocks (400 m, 308 s) are out of reach
    assert (7.5025, 43.8) in reached and (7.5, 43.8018) in reached
    assert (7.505, 43.8) not in reached and (7.5025, 43.8018) not in reached
    assert area.polygon["type"] == "MultiPolygon" and len(area.polygon["coordinates"]) >= 1
    assert area.n_stops == 0 and np.all(area.time_s <= 300)


def test_a_faster_mode_reaches_more(town):
    walk = reachable_area(town, RELAIS_CORNER, WEDNESDAY_0800, mode="WALK", max_time_s=300)
    bike = reachable_area(town, RELAIS_CORNER, WEDNESDAY_0800, mode="BICYCLE", max_time_s=300)
    assert bike.n_nodes > walk.n_nodes and set(walk.node_idx) <= set(bike.node_idx)


def test_transit_reaches_the_stops_the_planner_reaches_in_time(town):
    minutes = 15
    area = reachable_area(town, RELAIS_CORNER, WEDNESDAY_0800, mode="TRANSIT",
                          max_time_s=minutes * 60)
    walk = reachable_area(town, RELAIS_CORNER, WEDNESDAY_0800, mode="WALK", max_time_s=minutes * 60)
    assert area.n_stops >= 1 and set(walk.node_idx) <= set(area.node_idx)
    # every stop counted as reached is reached by the planner's own transit itinerary in time
    stop_s = stop_arrival_times(town, RELAIS_CORNER, WEDNESDAY_0800, max_time_s=minutes * 60)
    tt = town.timetable
    for s in np.flatnonzero(np.isfinite(stop_s)):
        dest = (float(tt.stop_lon[s]), float(tt.stop_lat[s]))
        result = plan_trip(town, RELAIS_CORNER, dest, depart_at=WEDNESDAY_0800, modes=["TRANSIT"],
                           options=PlanOptions(num_itineraries=5))
        quickest = min(it.end_s - it.start_s for it in result.itineraries)
        assert quickest <= stop_s[s] + 60    # the plan also walks from the stop to its point


def test_a_point_far_from_any_street_has_no_isochrone(town):
    with pytest.raises(IsochroneUnavailable) as err:
        reachable_area(town, (7.53, 43.83), WEDNESDAY_0800, mode="WALK", max_time_s=300)
    assert err.value.code == "LOCATION_NOT_ACCESSIBLE"
    with pytest.raises(IsochroneUnavailable) as err:
        reachable_area(town, RELAIS_CORNER, WEDNESDAY_0800, mode="PARK_AND_RIDE", max_time_s=300)
    assert err.value.code == "MODE_NOT_SUPPORTED"


def test_a_transit_isochrone_outside_the_service_period_says_so_as_the_planner_does(town):
    """issue 17 item 3: OutsideServicePeriod escaped reachable_area (the API answered 500)."""
    later = dt.datetime(2031, 6, 4, 8, 0, tzinfo=PARIS)
    with pytest.raises(IsochroneUnavailable) as err:
        reachable_area(town, RELAIS_CORNER, later, mode="TRANSIT", max_time_s=900)
    assert err.value.code == "OUTSIDE_SERVICE_PERIOD" and "2031-06-04" in str(err.value)
    planned = plan_trip(town, RELAIS_CORNER, (7.505, 43.80), depart_at=later, modes=["TRANSIT"])
    assert planned.left_out["TRANSIT"].code == err.value.code
