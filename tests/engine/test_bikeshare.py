"""BIKE_SHARE on the Helsinki GBFS stations placed on a generated street grid.

The streets are a generated grid around the stations' real coordinates (tests/bikeshare_city.py
writes it as OSM XML and builds the bundle through ``trajet build``'s code path), not an extract
of Helsinki's streets. The history is simulated over four weeks: station 003 (Kapteeninpuistikko)
empties on weekday mornings, the others stay about half full.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo

import numpy as np
import pytest

from engine.parking import LiveObservations
from engine.parking.bikes import (
    EBIKE_SPEED_MPS,
    READING_HALF_LIFE_S,
    BikeShareLive,
    FreeBikes,
    StationFlags,
    bikes_live_from_history,
    mirror_readings,
    station_outlook,
)
from engine.planning import PlanOptions, plan_trip
from engine.planning.modes_bikeshare_transit import bike_share_then_transit, transit_then_bike_share
from engine.planning.query import Query, location
from tests.bikeshare_city import EAST_STOP, EMPTYING, TZ, build_city, facility, near

HEL = zoneinfo.ZoneInfo(TZ)
ORIGIN = near(EMPTYING, east_m=-60)        # 60 m west of 003
DESTINATION = near("002", east_m=40)


def tuesday(h: int, m: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, 3, h, m, tzinfo=HEL)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return build_city(tmp_path_factory.mktemp("bikeshare"))


def idx(network, station_id: str) -> int:
    return int(np.flatnonzero(network.parking.facility_ids == facility(station_id))[0])


def ride(result) -> dict:
    (it,) = result.itineraries
    assert it.mode == "BIKE_SHARE"
    assert [leg.mode for leg in it.legs] == ["WALK", "BICYCLE", "WALK"]
    return it.legs[1].extra["bike_share"]


def test_the_morning_plan_avoids_the_station_that_empties_and_says_so(city):
    info = ride(plan_trip(city, ORIGIN, DESTINATION, depart_at=tuesday(8, 20), modes=["BIKE_SHARE"]))
    assert info["pickup"]["facility_id"] != facility(EMPTYING)
    assert info["p_bike"] > 0.9
    (avoided,) = [a for a in info["pickup"]["avoided"] if a["facility_id"] == facility(EMPTYING)]
    assert avoided["p_bike"] < 0.3
    assert avoided["reason"].startswith("Kapteeninpuistikko usually empties by 08:2")
    assert f"go to {info['pickup']['name']}" in avoided["reason"] and "m further" in avoided["reason"]


def test_in_the_afternoon_the_nearest_station_has_bikes_again(city):
    info = ride(plan_trip(city, ORIGIN, DESTINATION, depart_at=tuesday(14), modes=["BIKE_SHARE"]))
    assert info["pickup"]["facility_id"] == facility(EMPTYING)
    assert info["dropoff"]["facility_id"] == facility("002")
    assert info["pickup"]["avoided"] == [] and info["p_dock"] > 0.9


def test_a_live_reading_of_no_bike_sends_the_traveller_to_a_station_with_bikes(city):
    live = bikes_live_from_history(city.parking)
    now = int(tuesday(13, 55).timestamp())
    live.update(idx(city, EMPTYING), now, 0.0, 16)          # 0 bikes (mirrored: 0 free)
    result = plan_trip(city, ORIGIN, DESTINATION, depart_at=tuesday(14), modes=["BIKE_SHARE"],
                       now_utc_s=now, bike_share=BikeShareLive(bikes=live))
    info = ride(result)
    assert info["pickup"]["facility_id"] != facility(EMPTYING)
    (avoided,) = info["pickup"]["avoided"]
    assert "is expected to have no bike by 14:0" in avoided["reason"]


def test_a_station_not_renting_has_no_bike_and_one_not_returning_no_dock(city):
    flags = StationFlags.all_open(city.parking.n_facilities)
    flags.renting[idx(city, EMPTYING)] = False
    flags.returning[idx(city, "002")] = False
    info = ride(plan_trip(city, ORIGIN, DESTINATION, depart_at=tuesday(14), modes=["BIKE_SHARE"],
                          bike_share=BikeShareLive(flags=flags)))
    assert info["pickup"]["facility_id"] != facility(EMPTYING)
    assert any("is not renting bikes now" in a["reason"] for a in info["pickup"]["avoided"])
    assert info["dropoff"]["facility_id"] != facility("002")
    assert any("is not taking bikes back now" in a["reason"] for a in info["dropoff"]["avoided"])


def test_a_free_floating_ebike_next_to_the_origin_is_taken(city):
    seen = int(tuesday(8, 19).timestamp())
    lon, lat = near(EMPTYING, east_m=-70)
    bikes = FreeBikes(np.array(["bike-7"]), np.array([lon]), np.array([lat]), np.array([seen]),
                      np.array([EBIKE_SPEED_MPS]), np.array(["E-bike"]))
    info = ride(plan_trip(city, ORIGIN, DESTINATION, depart_at=tuesday(8, 20), modes=["BIKE_SHARE"],
                          bike_share=BikeShareLive(free_bikes=bikes)))
    assert info["pickup"]["kind"] == "free_bike" and info["pickup"]["vehicle_id"] == "bike-7"
    assert info["vehicle_type"] == {"name": "E-bike", "speed_mps": EBIKE_SPEED_MPS}
    assert 0.9 < info["p_bike"] < 1.0                      # seen a minute before, fading


def test_arrive_by_ends_on_time(city):
    result = plan_trip(city, ORIGIN, DESTINATION, arrive_by=tuesday(9), modes=["BIKE_SHARE"])
    (it,) = result.itineraries
    assert it.end_s == 9 * 3600 and all(a.end_s <= b.start_s for a, b in zip(it.legs, it.legs[1:],
                                                                            strict=False))
    assert it.legs[1].extra["bike_share"]["pickup"]["facility_id"] != facility(EMPTYING)


def test_without_stations_the_mode_is_left_out_with_its_code(city):
    empty = dataclasses.replace(city, parking=dataclasses.replace(
        city.parking, kind=np.zeros(city.parking.n_facilities, dtype=np.int8)))
    result = plan_trip(empty, ORIGIN, DESTINATION, depart_at=tuesday(14), modes=["BIKE_SHARE"])
    assert result.code == "NO_BIKE_SHARE" and "--gbfs" in result.message


def test_the_encoding_bikes_are_capacity_minus_free_docks(city):
    keep, bikes, cap = mirror_readings(city.parking, [idx(city, "001"), idx(city, "001")], [29, 5],
                                       [31, -1])
    assert keep.tolist() == [True, True] and bikes.tolist() == [2, 25] and cap.tolist() == [31, 30]


def test_with_too_little_history_a_reading_fades_to_unknown_with_its_half_life(tmp_path):
    network = build_city(tmp_path, history=False)
    f = idx(network, "001")
    t0 = int(tuesday(8).timestamp())
    bikes = LiveObservations.empty(network.parking.n_facilities)
    bikes.update(f, t0, 3.0, 31)                           # 3 bikes seen at 08:00
    docks = LiveObservations.empty(network.parking.n_facilities)
    docks.update(f, t0, 0.0, 3)                            # and no free dock
    at = t0 + np.array([0, int(READING_HALF_LIFE_S), 4 * int(READING_HALF_LIFE_S)])
    so = station_outlook(network.parking, [f] * 3, at, docks_live=docks,
                         bike_share=BikeShareLive(bikes=bikes), now_utc_s=t0)
    np.testing.assert_allclose(so.p_bike, [1.0, 0.75, 0.5 + 0.5 / 16])
    np.testing.assert_allclose(so.p_dock, [0.0, 0.25, 0.5 - 0.5 / 16])
    assert so.decayed.all() and so.expected_bikes.tolist() == [3, 3, 3]
    unseen = station_outlook(network.parking, [idx(network, "002")], at[:1], now_utc_s=t0)
    assert unseen.p_bike.tolist() == [0.5] and np.isnan(unseen.expected_bikes).all()


# ---------------------------------------------------------------------------------------------
# Bike share as the first or last leg of a transit trip (a bus West <-> East on the grid)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def transit_city(tmp_path_factory):
    return build_city(tmp_path_factory.mktemp("bikeshare-transit"), transit=True)


def _query(network, origin, destination, when, *, arrive_by=False):
    return Query(network, location(network, origin, "Origin"), location(network, destination, "Destination"),
                 int(when.timestamp()), arrive_by, PlanOptions(), None, None)


def test_bike_share_then_the_bus_avoids_the_station_that_empties(transit_city):
    destination = (EAST_STOP[0] + 0.002, EAST_STOP[1])
    (c,) = bike_share_then_transit(_query(transit_city, ORIGIN, destination, tuesday(8, 20)))
    legs = c.itinerary.legs
    assert [leg.mode for leg in legs] == ["WALK", "BICYCLE", "WALK", "BUS", "WALK"]
    info = legs[1].extra["bike_share"]
    assert info["pickup"]["facility_id"] != facility(EMPTYING)
    assert info["dropoff"]["facility_id"] == facility("005") and legs[2].to_place.name == "West"
    assert all(a.end_s <= b.start_s for a, b in zip(legs, legs[1:], strict=False))


def test_the_bus_then_bike_share_to_the_destination(transit_city):
    origin, destination = (EAST_STOP[0] + 0.002, EAST_STOP[1]), near("001", east_m=40)
    for arrive_by in (False, True):
        (c,) = transit_then_bike_share(_query(transit_city, origin, destination, tuesday(14),
                                              arrive_by=arrive_by))
        legs = c.itinerary.legs
        assert [leg.mode for leg in legs] == ["WALK", "BUS", "WALK", "BICYCLE", "WALK"]
        info = legs[3].extra["bike_share"]
        assert (info["pickup"]["facility_id"], info["dropoff"]["facility_id"]) == (facility("005"),
                                                                                  facility("001"))
        assert all(a.end_s <= b.start_s for a, b in zip(legs, legs[1:], strict=False))
        if arrive_by:
            assert 13 * 3600 + 45 * 60 < legs[-1].end_s <= 14 * 3600   # the bus before 14:00


def test_plan_trip_offers_the_direct_ride_and_the_ride_to_the_bus(transit_city):
    destination = (EAST_STOP[0] + 0.002, EAST_STOP[1])
    result = plan_trip(transit_city, near("001", east_m=-40), destination, depart_at=tuesday(14),
                       modes=["BIKE_SHARE"])
    shapes = {tuple(leg.mode for leg in it.legs) for it in result.itineraries}
    assert ("WALK", "BICYCLE", "WALK") in shapes
    assert all(it.mode == "BIKE_SHARE" for it in result.itineraries)


def test_a_decaying_reading_is_named_in_the_explanation(tmp_path):
    network = build_city(tmp_path, history=False)
    t0 = int(tuesday(13, 48).timestamp())
    bikes = LiveObservations.empty(network.parking.n_facilities)
    bikes.update(idx(network, EMPTYING), t0, 4.0, 16)                 # 4 bikes at 13:48
    info = ride(plan_trip(network, ORIGIN, DESTINATION, depart_at=tuesday(14), modes=["BIKE_SHARE"],
                          now_utc_s=t0, bike_share=BikeShareLive(bikes=bikes)))
    assert info["pickup"]["facility_id"] == facility(EMPTYING)
    assert info["pickup"]["forecast_basis"] == "decaying_reading"
    assert info["pickup"]["why"].endswith(   # the reading is 13 min old on arrival at 14:00:46
        "(4 bikes seen 13 min before; with too little history a reading fades to unknown with a "
        "half-life of 30 min)")


def test_arrive_by_bike_share_then_the_bus_forecasts_for_the_departure(transit_city):
    destination = (EAST_STOP[0] + 0.002, EAST_STOP[1])
    (c,) = bike_share_then_transit(_query(transit_city, ORIGIN, destination, tuesday(8, 45), arrive_by=True))
    legs = c.itinerary.legs
    assert [leg.mode for leg in legs] == ["WALK", "BICYCLE", "WALK", "BUS", "WALK"]
    assert legs[-1].end_s <= 8 * 3600 + 45 * 60 and legs[0].start_s < 8 * 3600 + 30 * 60
    # the pick-up's forecast is for about when the traveller gets there (pass 1 of RAPTOR gives
    # the departure within the bus headway), not for 08:45
    info = legs[1].extra["bike_share"]
    assert info["pickup"]["facility_id"] != facility(EMPTYING)
    hh, mm = info["pickup"]["why"].rsplit(" at ", 1)[1].split(":")
    assert abs(int(hh) * 3600 + int(mm) * 60 - legs[1].start_s) <= 10 * 60
