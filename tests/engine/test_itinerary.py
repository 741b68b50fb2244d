"""Journeys into itineraries and the walk + transit plan, on the tiny town (data_samples/tiny_town,
timetable in its README: bus A Relais Ouest - Mairie - Gare, tram T Parc Relais - Mairie -
Rue Haute - Canal every 10 min on weekdays)."""
import datetime as dt

import numpy as np
import pytest

from engine import transit as T
from engine.planning.itinerary import Point, StopRef, plan_walk_transit

H = 3600
MONDAY = T.day_of(dt.date(2026, 1, 5))


def _transit(result):
    return [it for it in result.itineraries if any(leg.is_transit for leg in it.legs)]


def _summary(it):
    return [(leg.mode, leg.from_place.name, leg.to_place.name, leg.start_s, leg.end_s,
             leg.trip_id) for leg in it.legs]


def test_a_trip_can_start_with_a_walk_to_the_tram(town):
    result = plan_walk_transit(town, StopRef("RELAIS_OUEST"), StopRef("CANAL"), day=MONDAY,
                               time_s=7 * H)
    assert result.ok
    direct = [it for it in _transit(result) if it.transfers == 0]
    assert len(direct) == 1
    it = direct[0]
    # walk to Parc Relais (about 180 m of Rue de l'Ouest), then the 07:10 tram, Canal at 07:14
    assert [(leg.mode, leg.from_place.stop_id, leg.to_place.stop_id) for leg in it.legs] == [
        ("WALK", "RELAIS_OUEST", "PARC_RELAIS"), ("TRAM", "PARC_RELAIS", "CANAL")]
    tram = it.legs[1]
    assert (tram.start_s, tram.end_s, tram.trip_id) == (7 * H + 600, 7 * H + 840, "T-SEM-N@07:10:00")
    assert (tram.route.short_name, tram.route.color, tram.route.route_id) == ("T", "0055A4", "T")
    assert [p.stop_id for p in tram.intermediate_stops] == ["MAIRIE_T", "RUE_HAUTE"]
    walk = it.legs[0]
    assert walk.end_s == tram.start_s and 150 < walk.distance_m < 260
    assert it.transfers == 0 and it.walk_distance_m == walk.distance_m
    # the walk-only itinerary is offered too (about 10 min)
    assert any(len(it.legs) == 1 and it.legs[0].mode == "WALK" for it in result.itineraries)


def test_the_night_bus_belongs_to_the_previous_service_day(town):
    tuesday = MONDAY + 1
    result = plan_walk_transit(town, StopRef("RELAIS_OUEST"), StopRef("GARE"), day=tuesday,
                               time_s=5 * 60, modes=("TRANSIT",))
    (it,) = result.itineraries
    (bus,) = it.legs
    # Monday's A-SEM-E-NUIT leaves at 24:15:00 of Monday, 00:15 on Tuesday
    assert (bus.trip_id, bus.trip_service_day) == ("A-SEM-E-NUIT", MONDAY)
    assert (bus.start_s, bus.end_s) == (15 * 60, 19 * 60)


def test_new_years_day_has_no_service_and_no_night_bus_after_it(town):
    new_year = T.day_of(dt.date(2026, 1, 1))
    result = plan_walk_transit(town, StopRef("RELAIS_OUEST"), StopRef("GARE"), day=new_year,
                               time_s=8 * H, modes=("TRANSIT",))
    assert result.code == "NO_TRANSIT_CONNECTION" and result.itineraries == ()
    result = plan_walk_transit(town, StopRef("RELAIS_OUEST"), StopRef("GARE"), day=new_year + 1,
                               time_s=5 * 60, modes=("TRANSIT",))
    assert _summary(result.itineraries[0])[0][3] == 7 * H  # the first bus, not a night bus


def test_arrive_by_leaves_as_late_as_possible(town):
    result = plan_walk_transit(town, StopRef("GARE"), StopRef("CANAL"), day=MONDAY, time_s=8 * H,
                               arrive_by=True, modes=("TRANSIT",))
    it = result.itineraries[0]
    # walk to the tram stop at Mairie, tram T-SEM-N@07:50:00 (Mairie 07:52, Canal 07:54)
    assert [(leg.mode, leg.trip_id) for leg in it.legs] == [("WALK", None), ("TRAM", "T-SEM-N@07:50:00")]
    assert it.end_s == 7 * H + 54 * 60 and it.legs[0].end_s == 7 * H + 52 * 60


def test_a_station_id_stands_for_its_stops(town):
    result = plan_walk_transit(town, StopRef("MAIRIE"), StopRef("CANAL"), day=MONDAY, time_s=7 * H,
                               modes=("TRANSIT",))
    it = result.itineraries[0]
    # boarding at the station's tram stop needs no walk leg
    assert [(leg.mode, leg.trip_id) for leg in it.legs] == [("TRAM", "T-SEM-N@07:00:00")]
    assert it.legs[0].from_place.stop_id == "MAIRIE_T"
    assert (it.start_s, it.end_s) == (7 * H + 120, 7 * H + 240)


def test_walks_from_a_point_follow_the_streets(town):
    origin = Point(lon=7.5003, lat=43.8018)           # on Avenue de la Gare, near (0, 1)
    result = plan_walk_transit(town, origin, StopRef("CANAL"), day=MONDAY, time_s=7 * H,
                               modes=("TRANSIT",))
    it = result.itineraries[0]
    walk = it.legs[0]
    assert walk.mode == "WALK" and walk.from_place.name == "Origin"
    assert (walk.geometry_lon[0], walk.geometry_lat[0]) == (7.5003, 43.8018)
    street = town.street
    inner = list(zip(walk.geometry_lon[1:-1], walk.geometry_lat[1:-1], strict=True))
    nodes = set(zip(street.node_lon.tolist(), street.node_lat.tolist(), strict=True))
    # where the point meets the street (it lies on it), then street nodes: (0, 1) and (0, 0)
    assert inner[0] == (7.5003, 43.8018)
    assert inner[1:] == [(7.5, 43.8018), (7.5, 43.8)] and all(p in nodes for p in inner[1:])
    assert walk.to_place.stop_id == "PARC_RELAIS"
    assert walk.geometry_lon[-1] == pytest.approx(7.5) and walk.geometry_lat[-1] == pytest.approx(43.80009)


def test_mistakes_are_answers_with_a_reason(town):
    far_day = T.day_of(dt.date(2025, 6, 2))
    result = plan_walk_transit(town, StopRef("GARE"), StopRef("CANAL"), day=far_day, time_s=8 * H)
    assert result.code == "OUTSIDE_SERVICE_PERIOD" and "2026-01-01 to 2026-02-28" in result.message
    result = plan_walk_transit(town, StopRef("GARE"), StopRef("NOWHERE"), day=MONDAY, time_s=8 * H)
    assert result.code == "UNKNOWN_STOP" and "'NOWHERE'" in result.message
    result = plan_walk_transit(town, Point(lon=7.6, lat=43.9), StopRef("GARE"), day=MONDAY,
                               time_s=8 * H)
    assert result.code == "LOCATION_NOT_ACCESSIBLE" and result.itineraries == ()
    with pytest.raises(ValueError, match="unsupported modes"):
        plan_walk_transit(town, StopRef("GARE"), StopRef("CANAL"), day=MONDAY, time_s=8 * H,
                          modes=("HELICOPTER",))


def test_a_range_query_lists_the_trams_of_the_window(town):
    result = plan_walk_transit(town, StopRef("PARC_RELAIS"), StopRef("CANAL"), day=MONDAY,
                               time_s=8 * H, window_s=1800, modes=("TRANSIT",))
    starts = [it.start_s for it in result.itineraries]
    assert starts == [8 * H + m * 60 for m in (0, 10, 20, 30)]
    assert np.all(np.diff([it.end_s for it in result.itineraries]) == 600)
