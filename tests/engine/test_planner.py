"""The multimodal planner on the tiny town (data_samples/tiny_town/README.md) and on Monaco.

Tiny town, hand-checked: intersections (i, j) at lon 7.5000 + 0.0025 i, lat 43.8000 + 0.0018 j
(200.6 m x 200.2 m apart); cars drive at 0.8 x the limit (loaders.osm.CAR_SPEED_FACTOR); walking
1.3 m/s. Parking Centre (entrance on Rue du Marché, 100 m north of (2, 2); exit at (2, 2)) is
full on weekdays 14:00-17:59 and has about 80 free spaces at 10:00; Parking Gare is at (4, 1);
Parking Relais (park-and-ride) by the tram stop Parc Relais at (0, 0). The trip goes from the
south-east corner (4, 0) to a point beside Parking Centre, 40.2 m east of Rue du Marché at 44.5 m
north of (2, 2): every itinerary ends with those 40.2 m on foot (31 s at 1.3 m/s; issue 17 item 10).
"""
import dataclasses
import datetime as dt
import math
import zoneinfo

import numpy as np
import pytest

from engine.model import ParkingKind, haversine_m
from engine.planning import planner as P
from engine.planning.itinerary import Point, StopRef
from engine.planning.pareto import active_m

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
ORIGIN = (7.5100, 43.8000)            # (4, 0): Route du Sud x Avenue de l'Est
NEAR_CENTRE = (7.5055, 43.8040)       # 40.2 m from Rue du Marché, 44.5 m north of (2, 2)
CENTRE, GARE, RELAIS = "osm:node/3001", "osm:node/3002", "osm:node/3003"


def wednesday(h: int, m: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(2026, 1, 14, h, m, s, tzinfo=PARIS)


def seconds_of(h: int, m: int = 0, s: int = 0) -> int:
    """Seconds after the service day's reference (midnight on a day without a clock change)."""
    return h * 3600 + m * 60 + s


def legs_of(it):
    return [(leg.mode, leg.from_place.name, leg.to_place.name, leg.start_s, leg.end_s)
            for leg in it.legs]


def parking_of(it) -> dict:
    return next(leg.extra["parking"] for leg in it.legs if leg.mode == "PARK")


def only(result, mode):
    (it,) = [it for it in result.itineraries if it.mode == mode]
    return it


# ---------------------------------------------------------------------------------------------
# The car park choice: the scenario
# ---------------------------------------------------------------------------------------------
def test_at_ten_the_car_goes_to_the_nearest_car_park(town):
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(10), modes=["CAR_PARK"])
    it = only(result, "CAR_PARK")
    # drive (4,0) -> (2,0) on Route du Sud (401.2 m at 0.8 x 80.47 km/h = 17.9 s), then up Rue du
    # Marché to the entrance (500.5 m at 0.8 x 30 km/h = 75.1 s): 98 s; park 120 s (no search:
    # about 80 of 120 spaces free); walk 44.5 m up the street and 40.2 m off it at 1.3 m/s = 66 s
    t0 = seconds_of(10)
    assert legs_of(it) == [
        ("CAR", "Origin", "Parking Centre (entrance)", t0, t0 + 98),
        ("PARK", "Parking Centre (entrance)", "Parking Centre", t0 + 98, t0 + 218),
        ("WALK", "Parking Centre", "Destination", t0 + 218, t0 + 284)]
    assert it.legs[0].distance_m == pytest.approx(901.7, abs=1.0)
    assert it.legs[2].distance_m == pytest.approx(44.5 + 40.2, abs=0.5)
    p = parking_of(it)
    assert (p["facility_id"], p["name"], p["kind"]) == (CENTRE, "Parking Centre", "CAR_PARK")
    assert p["p_space_free"] > 0.99 and p["expected_search_s"] < 1
    assert 75 < p["expected_free_spaces"] < 90
    assert p["avoided"] == [] and p["fallback"] is None
    assert p["why"] == "Parking Centre, 1 min walk, almost certainly has a space"
    assert it.parking_risk < 0.01


def test_at_three_pm_the_full_car_park_is_avoided_and_named(town):
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(15), modes=["CAR_PARK"])
    it = only(result, "CAR_PARK")
    # Parking Gare: (4,0) -> (4,1) on Avenue de l'Est, 200.2 m at 0.8 x 40 km/h = 23 s; walk
    # (4,1) -> (2,1) -> (2,2) -> the destination: 401.2 + 200.2 + 44.5 + 40.2 = 686.1 m = 528 s
    t0 = seconds_of(15)
    assert legs_of(it) == [
        ("CAR", "Origin", "Parking Gare (entrance)", t0, t0 + 23),
        ("PARK", "Parking Gare (entrance)", "Parking Gare", t0 + 23, t0 + 143),
        ("WALK", "Parking Gare", "Destination", t0 + 143, t0 + 671)]
    assert it.legs[2].distance_m == pytest.approx(686.1, abs=1.0)
    p = parking_of(it)
    assert p["facility_id"] == GARE and p["p_space_free"] > 0.99
    (avoided,) = p["avoided"]
    assert (avoided["facility_id"], avoided["name"]) == (CENTRE, "Parking Centre")
    assert avoided["p_space_free"] < 0.01 and avoided["below_threshold"] is True
    assert avoided["expected_free_spaces"] < 1
    # it would have been reached at 15:01:38
    assert avoided["reason"] == "Parking Centre is usually full at 15:01 (almost never a space)"
    assert avoided["walk_s"] == pytest.approx(34.2 + 30.9, abs=0.5)    # 44.5 m + 40.2 m


def test_at_three_pm_park_and_ride_is_offered_with_the_return_trip_noted(town):
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(15),
                         modes=["CAR_PARK", "PARK_AND_RIDE"])
    car, pr = only(result, "CAR_PARK"), only(result, "PARK_AND_RIDE")
    assert [leg.mode for leg in pr.legs] == ["CAR", "PARK", "WALK", "TRAM", "WALK"]
    assert pr.legs[0].to_place.name == "Parking Relais (entrance)"
    p = parking_of(pr)
    assert (p["facility_id"], p["kind"]) == (RELAIS, "PARK_AND_RIDE")
    assert p["return_trip"].startswith("The car stays at Parking Relais")
    # the 15:10 tram from Parc Relais reaches Rue Haute at 15:13 (T-SEM-N@15:10:00)
    tram = pr.legs[3]
    assert (tram.trip_id, tram.start_s, tram.end_s) == ("T-SEM-N@15:10:00", seconds_of(15, 10),
                                                        seconds_of(15, 13))
    assert pr.legs[0].start_s == seconds_of(15)      # leaves when asked, waits at the stop
    assert pr.legs[2].end_s <= tram.start_s
    # Pareto: the car park arrives first, park-and-ride walks less; both are kept and labelled
    assert car.end_s < pr.end_s and pr.walk_distance_m < car.walk_distance_m
    assert "fastest" in car.labels and "least walking" in pr.labels
    assert result.left_out == {}


def test_arrive_by_gives_the_same_choice_for_the_matching_arrival(town):
    for depart, facility in ((wednesday(10), CENTRE), (wednesday(15), GARE)):
        ahead = only(P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=depart, modes=["CAR_PARK"]),
                     "CAR_PARK")
        arrival = depart + dt.timedelta(seconds=ahead.duration_s)
        back = only(P.plan_trip(town, ORIGIN, NEAR_CENTRE, arrive_by=arrival, modes=["CAR_PARK"]),
                    "CAR_PARK")
        assert parking_of(back)["facility_id"] == parking_of(ahead)["facility_id"] == facility
        assert legs_of(back) == legs_of(ahead)
        assert [a["facility_id"] for a in parking_of(back)["avoided"]] == \
            [a["facility_id"] for a in parking_of(ahead)["avoided"]]


def test_a_risky_choice_names_a_fallback(town):
    # reaching Parking Centre at 13:51:38, as it fills up: 71% chance of a space, still quicker
    # in expectation (search, and the 3.5 min drive on to Parking Gare when it is full) than
    # walking 9 min from Parking Gare. (At 13:58, 60% and that diversion tip it to Gare.)
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(13, 50), modes=["CAR_PARK"])
    p = parking_of(only(result, "CAR_PARK"))
    assert p["facility_id"] == CENTRE and 0.2 < p["p_space_free"] < 0.8
    # SearchTimeModel: 8 min when full, else up to 2 min above 85 % occupied
    busy_s = 120 * min(max((p["expected_occupancy"] - 0.85) / 0.15, 0), 1)
    assert p["expected_search_s"] == pytest.approx((1 - p["p_space_free"]) * 480
                                                   + p["p_space_free"] * busy_s, abs=0.5)
    fb = p["fallback"]
    assert (fb["facility_id"], fb["name"]) == (GARE, "Parking Gare") and fb["p_space_free"] > 0.99
    # from the Centre entrance: up to (2,3), Rue du Canal west to (0,3), Rue de l'Ouest down to
    # (0,1), Avenue de la Gare east to (4,1): 14.4 + 60.2 + 60.1 + 72.2 = 206.9 s
    assert fb["drive_from_chosen_s"] == pytest.approx(206.9, abs=1.0)
    assert fb["reason"] == "Parking Gare, 9 min walk, almost certainly has a space"


def test_a_stricter_threshold_avoids_the_risky_car_park(town):
    options = P.PlanOptions(parking=dataclasses.replace(P.PlanOptions().parking, min_p_free=0.7))
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(13, 58), modes=["CAR_PARK"],
                         options=options)
    p = parking_of(only(result, "CAR_PARK"))
    assert p["facility_id"] == GARE
    assert [(a["facility_id"], a["below_threshold"]) for a in p["avoided"]] == [(CENTRE, True)]


def test_every_car_park_full_leaves_the_car_out_with_the_reason(town):
    # walking at most 100 m from the car park: only Parking Centre qualifies, and it is full
    options = P.PlanOptions(max_walk_m=100)
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(15), modes=["CAR_PARK"],
                         options=options)
    assert result.itineraries == () and result.code == "NO_PARKING_AVAILABLE"
    why = result.left_out["CAR_PARK"]
    assert why.code == "NO_PARKING_AVAILABLE"
    assert "Parking Centre is usually full at 15:01" in why.message
    assert [a["facility_id"] for a in why.avoided] == [CENTRE]


# ---------------------------------------------------------------------------------------------
# Every mode's itinerary
# ---------------------------------------------------------------------------------------------
def test_walk_and_bicycle_are_single_legs(town):
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(10), modes=["WALK"])
    (walk,) = result.itineraries
    # (4,0) -> (4,1) -> (2,1) -> (2,2) -> destination: 200.2 + 401.2 + 200.2 + 44.5 = 846.1 m on
    # the streets, then 40.2 m off them
    assert [leg.mode for leg in walk.legs] == ["WALK"] and walk.mode == "WALK"
    assert walk.legs[0].distance_m == pytest.approx(886.3, abs=1.0)
    assert walk.duration_s == 682                      # 886.3 / 1.3 = 681.8 s
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(10), modes=["BICYCLE"])
    (bike,) = result.itineraries
    # the bike is pushed the 40.2 m between the street and the destination
    assert [leg.mode for leg in bike.legs] == ["BICYCLE"]
    assert bike.walk_distance_m == pytest.approx(40.2, abs=0.1)
    assert 0 <= bike.legs[0].extra["bike_lane_share"] <= 1
    assert bike.duration_s < walk.duration_s


def test_transit_walks_to_the_tram(town):
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(10), modes=["TRANSIT"])
    it = result.itineraries[0]
    assert [leg.mode for leg in it.legs] == ["WALK", "TRAM", "WALK"]
    tram = it.legs[1]
    # T-SEM-N@10:10:00 is at Mairie at 10:12 and at Rue Haute at 10:13
    assert (tram.trip_id, tram.start_s, tram.end_s) == ("T-SEM-N@10:10:00", seconds_of(10, 12),
                                                        seconds_of(10, 13))
    assert (tram.from_place.stop_id, tram.to_place.stop_id) == ("MAIRIE_T", "RUE_HAUTE")


def test_bike_and_ride_locks_the_bike_near_the_tram(town):
    # from (0, 3) down Rue de l'Ouest to the bicycle parking at (0, 1): 400.3 m at 4.5 m/s = 89 s;
    # lock 60 s; 210 m on foot to Parc Relais (162 s): there at 10:08:11 for the 10:10 tram,
    # Canal at 10:14, then 48 m on foot
    result = P.plan_trip(town, (7.5000, 43.8054), (7.5052, 43.8056), depart_at=wednesday(10, 4),
                         modes=["BIKE_AND_RIDE"])
    it = only(result, "BIKE_AND_RIDE")
    t0 = seconds_of(10, 4)
    assert [leg.mode for leg in it.legs] == ["BICYCLE", "PARK", "WALK", "TRAM", "WALK"]
    assert [(leg.start_s - t0, leg.end_s - t0) for leg in it.legs[:3]] == [(0, 89), (89, 149),
                                                                          (149, 311)]
    assert it.legs[0].distance_m == pytest.approx(400.3, abs=0.5)
    lock = it.legs[1].extra["bike_parking"]
    assert (lock["facility_id"], lock["kind"], lock["lock_s"]) == ("osm:node/3004", "BIKE_PARKING", 60)
    assert lock["return_trip"].startswith("The bicycle stays at")
    assert it.legs[2].to_place.stop_id == "PARC_RELAIS"
    tram = it.legs[3]
    assert (tram.trip_id, tram.to_place.stop_id, tram.end_s) == ("T-SEM-N@10:10:00", "CANAL",
                                                                 seconds_of(10, 14))
    assert it.parking_risk == 0


def test_bike_and_ride_is_left_out_when_walking_on_is_as_quick(town):
    # from the bicycle parking at (0, 1), walking to the destination (646 m, 497 s) beats the
    # walk to Parc Relais, the wait and the tram
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(10), modes=["BIKE_AND_RIDE"])
    assert result.code == "DOMINATED"
    assert result.left_out["BIKE_AND_RIDE"].message.startswith("walking on from the bicycle parking")


def test_a_car_park_beside_the_destination_is_not_park_and_ride(town):
    # at 10:00 Parking Centre is free: riding the tram on from it cannot beat walking 35 s, and
    # Parking Relais' tram arrives later than driving to Parking Centre: park-and-ride is only
    # offered through Parking Relais, and is dominated when CAR_PARK is asked too
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(10),
                         modes=["PARK_AND_RIDE"])
    pr = only(result, "PARK_AND_RIDE")
    assert parking_of(pr)["facility_id"] == RELAIS
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(10),
                         modes=["CAR_PARK", "PARK_AND_RIDE"])
    assert [it.mode for it in result.itineraries] == ["CAR_PARK"]
    assert result.left_out["PARK_AND_RIDE"].code == "DOMINATED"
    assert "CAR_PARK" in result.left_out["PARK_AND_RIDE"].message


@pytest.mark.parametrize("mode", P.MODES)
def test_every_mode_plans_arrive_by(town, mode):
    deadline = wednesday(15, 15)
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, arrive_by=deadline, modes=[mode])
    it = only(result, mode)
    assert seconds_of(14, 45) < it.end_s <= seconds_of(15, 15)
    assert all(a.end_s <= b.start_s for a, b in zip(it.legs, it.legs[1:], strict=False))
    if mode in ("WALK", "BICYCLE", "CAR_PARK"):
        assert it.end_s == seconds_of(15, 15)          # street legs end exactly on time


# ---------------------------------------------------------------------------------------------
# Pareto filter and labels
# ---------------------------------------------------------------------------------------------
def test_all_modes_keep_the_pareto_options_with_labels(town):
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(13, 58))
    assert result.code is None and result.itineraries
    labels = [lab for it in result.itineraries for lab in it.labels]
    assert sorted(labels) == sorted(set(labels))       # each label once
    assert {"fastest", "fewest transfers", "least walking"} <= set(labels)
    # walking and cycling count together as effort (a free bicycle would dominate everything)
    keys = [(it.end_s, it.transfers, round(active_m(it), 1), it.parking_risk)
            for it in result.itineraries]
    for a in keys:                                     # none dominates another
        assert not any(all(x <= y for x, y in zip(b, a, strict=True)) and b != a for b in keys)
    # a mode not shown says why
    shown = {it.mode for it in result.itineraries}
    assert set(result.left_out) == set(P.MODES) - shown
    assert all(r.code in ("DOMINATED", "NOT_SELECTED") for r in result.left_out.values())
    # ordered by arrival
    assert [it.end_s for it in result.itineraries] == sorted(it.end_s for it in result.itineraries)


def test_no_car_park_risk_labels_the_fastest_option_without_a_car_park(town):
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(13, 50),
                         modes=["CAR_PARK", "TRANSIT", "WALK"])
    car = only(result, "CAR_PARK")
    assert car.parking_risk > 0.2 and "fastest" in car.labels
    (safe,) = [it for it in result.itineraries if "no car park risk" in it.labels]
    assert safe.parking_risk == 0 and safe.mode in ("TRANSIT", "WALK")
    assert safe.end_s == min(it.end_s for it in result.itineraries if it.parking_risk == 0)


def test_num_itineraries_keeps_the_labelled_ones_first(town):
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(15),
                         modes=["CAR_PARK", "PARK_AND_RIDE"], options=P.PlanOptions(num_itineraries=1))
    (it,) = result.itineraries
    assert it.mode == "CAR_PARK" and "fastest" in it.labels
    assert result.left_out["PARK_AND_RIDE"].code == "NOT_SELECTED"


# ---------------------------------------------------------------------------------------------
# Reason codes
# ---------------------------------------------------------------------------------------------
def test_a_point_outside_the_network_is_outside_bounds(town):
    result = P.plan_trip(town, ORIGIN, Point(lon=7.2650, lat=43.6950), depart_at=wednesday(10))
    assert result.itineraries == () and result.code == "OUTSIDE_BOUNDS"
    assert "destination" in result.message
    assert set(result.left_out) == set(P.MODES)


def test_a_point_far_from_any_street_is_not_accessible(town):
    # 734 m north of Rue du Canal: inside the bounds' margin, beyond the 500 m snap distance
    result = P.plan_trip(town, ORIGIN, (7.5050, 43.8120), depart_at=wednesday(10))
    assert result.code == "LOCATION_NOT_ACCESSIBLE"
    assert {r.code for r in result.left_out.values()} == {"LOCATION_NOT_ACCESSIBLE"}


def test_a_date_outside_the_service_period_leaves_transit_out_with_the_valid_range(town):
    june = dt.datetime(2026, 6, 10, 10, 0, tzinfo=PARIS)
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=june, modes=["TRANSIT"])
    assert result.code == "OUTSIDE_SERVICE_PERIOD"
    assert "2026-01-01" in result.message and "2026-02-28" in result.message
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=june,
                         modes=["TRANSIT", "PARK_AND_RIDE", "CAR_PARK"])
    assert [it.mode for it in result.itineraries] == ["CAR_PARK"]
    assert result.left_out["TRANSIT"].code == result.left_out["PARK_AND_RIDE"].code == \
        "OUTSIDE_SERVICE_PERIOD"


def _without_bike_parking(network):
    pk = network.parking
    keep = np.flatnonzero(~np.isin(pk.kind, [ParkingKind.BIKE_PARKING, ParkingKind.BIKE_SHARE]))

    def rows(obj):
        n = pk.n_facilities
        return dataclasses.replace(obj, **{
            f.name: getattr(obj, f.name)[keep] for f in dataclasses.fields(obj)
            if isinstance(getattr(obj, f.name), np.ndarray) and getattr(obj, f.name).shape[:1] == (n,)})

    return dataclasses.replace(network, parking=dataclasses.replace(
        rows(pk), history=None, profile=rows(pk.profile)))


def test_no_bike_parking_leaves_bike_and_ride_out(town):
    bare = _without_bike_parking(town)
    assert bare.parking.n_facilities == 3
    result = P.plan_trip(bare, ORIGIN, NEAR_CENTRE, depart_at=wednesday(10),
                         modes=["BIKE_AND_RIDE", "BICYCLE"])
    assert [it.mode for it in result.itineraries] == ["BICYCLE"]
    why = result.left_out["BIKE_AND_RIDE"]
    assert why.code == "NO_BIKE_PARKING" and "no bicycle parking" in why.message
    # the car park choice is unchanged on the trimmed parking
    p = parking_of(only(P.plan_trip(bare, ORIGIN, NEAR_CENTRE, depart_at=wednesday(15),
                                    modes=["CAR_PARK"]), "CAR_PARK"))
    assert p["facility_id"] == GARE


def test_without_streets_walk_is_straight_and_the_street_modes_say_why(town):
    bare = dataclasses.replace(town, street=None,
                               stop_walk_node_idx=np.full(town.timetable.n_stops, -1, dtype=np.int32),
                               stop_walk_offset_m=np.full(town.timetable.n_stops, np.inf))
    result = P.plan_trip(bare, ORIGIN, NEAR_CENTRE, depart_at=wednesday(10),
                         modes=["WALK", "CAR_PARK", "BICYCLE", "PARK_AND_RIDE", "TRANSIT"])
    walk = only(result, "WALK")
    # the straight line, 572.9 m, times the network's detour factor 1.3
    straight_m = float(haversine_m(*ORIGIN, *NEAR_CENTRE))
    assert straight_m == pytest.approx(572.9, abs=0.5)
    assert walk.legs[0].distance_m == pytest.approx(1.3 * straight_m)
    assert walk.duration_s == math.ceil(1.3 * straight_m / 1.3)
    for mode in ("CAR_PARK", "BICYCLE", "PARK_AND_RIDE"):
        assert result.left_out[mode].code == "NO_STREET_NETWORK"


def test_a_transit_window_keeps_every_departure(town):
    options = P.PlanOptions(window_s=30 * 60)
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(10), modes=["TRANSIT"],
                         options=options)
    trips = [leg.trip_id for it in result.itineraries for leg in it.legs if leg.trip_id]
    # the northbound tram every 10 min from Mairie, and two other ways (bus A west, then a walk;
    # the tram south from Rue Haute's other side)
    assert [t for t in trips if t.startswith("T-SEM-N")] == ["T-SEM-N@10:10:00", "T-SEM-N@10:20:00",
                                                              "T-SEM-N@10:30:00"]
    starts = [it.start_s for it in result.itineraries]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    result = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(10), modes=["TRANSIT"])
    assert len(result.itineraries) == 1


def test_times_can_be_epoch_seconds_and_stops_can_be_places(town):
    epoch = int(wednesday(15).timestamp())
    a = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=epoch, modes=["CAR_PARK"])
    b = P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(15).replace(tzinfo=None),
                    modes=["CAR_PARK"])                 # naive: local time of the network
    assert legs_of(a.itineraries[0]) == legs_of(b.itineraries[0])
    c = P.plan_trip(town, ORIGIN, StopRef("RUE_HAUTE"), depart_at=epoch, modes=["WALK"])
    assert c.itineraries[0].legs[0].to_place.name == "Rue Haute"


def test_bad_arguments_raise(town):
    with pytest.raises(ValueError, match="exactly one of depart_at and arrive_by"):
        P.plan_trip(town, ORIGIN, NEAR_CENTRE)
    with pytest.raises(ValueError, match="unknown mode 'PLANE'"):
        P.plan_trip(town, ORIGIN, NEAR_CENTRE, depart_at=wednesday(10), modes=["PLANE"])
    with pytest.raises(ValueError, match="walk_speed_mps must be > 0"):
        P.PlanOptions(walk_speed_mps=0)
    with pytest.raises(ValueError, match="min_p_free must be between 0 and 1"):
        dataclasses.replace(P.PlanOptions().parking, min_p_free=1.5)


# ---------------------------------------------------------------------------------------------
# Monaco: Parking du Casino (DERIVED occupancy, data_samples/monaco/README.md)
# ---------------------------------------------------------------------------------------------
FONTVIEILLE = (7.4170, 43.7285)
BY_THE_CASINO = (7.4262, 43.7402)     # 112 m on foot from Parking du Casino
CASINO = "osm:node/1876870084"


def test_monaco_weekday_afternoon_avoids_parking_du_casino_and_names_it(monaco):
    result = P.plan_trip(monaco, FONTVIEILLE, BY_THE_CASINO,
                         depart_at=dt.datetime(2026, 1, 14, 15, 30, tzinfo=PARIS), modes=["CAR_PARK"])
    p = parking_of(only(result, "CAR_PARK"))
    assert p["facility_id"] != CASINO and p["p_space_free"] > 0.9
    casino = [a for a in p["avoided"] if a["facility_id"] == CASINO]
    assert len(casino) == 1
    # it is full in about two thirds of the weekday readings of the 15:00-17:00 hours
    assert casino[0]["p_space_free"] < 0.5
    assert casino[0]["reason"].startswith("Parking du Casino is often full at 15:3")
    assert casino[0]["walk_s"] < p["walk_s"]            # nearer the destination, yet passed over


def test_monaco_near_duplicates_are_dropped(monaco):
    # park-and-ride would drive past the destination to Pitstop and ride two stops back, for
    # 40 m less walking and 3 min later: not a distinct option
    result = P.plan_trip(monaco, FONTVIEILLE, BY_THE_CASINO,
                         depart_at=dt.datetime(2026, 1, 14, 15, 30, tzinfo=PARIS),
                         modes=["CAR_PARK", "PARK_AND_RIDE"])
    assert [it.mode for it in result.itineraries] == ["CAR_PARK"]
    assert result.left_out["PARK_AND_RIDE"].code == "DOMINATED"
    alone = only(P.plan_trip(monaco, FONTVIEILLE, BY_THE_CASINO,
                             depart_at=dt.datetime(2026, 1, 14, 15, 30, tzinfo=PARIS),
                             modes=["PARK_AND_RIDE"]), "PARK_AND_RIDE")
    car = result.itineraries[0]
    assert 0 < car.walk_distance_m - alone.walk_distance_m < 100 and 0 < alone.end_s - car.end_s


def test_monaco_at_four_in_the_morning_uses_parking_du_casino(monaco):
    result = P.plan_trip(monaco, FONTVIEILLE, BY_THE_CASINO,
                         depart_at=dt.datetime(2026, 1, 14, 4, 0, tzinfo=PARIS), modes=["CAR_PARK"])
    p = parking_of(only(result, "CAR_PARK"))
    assert (p["facility_id"], p["name"]) == (CASINO, "Parking du Casino")
    assert p["p_space_free"] > 0.9 and p["avoided"] == []


def test_monaco_all_modes_answer(monaco):
    result = P.plan_trip(monaco, FONTVIEILLE, BY_THE_CASINO,
                         depart_at=dt.datetime(2026, 1, 14, 8, 0, tzinfo=PARIS))
    assert result.code is None and result.itineraries
    assert set(result.left_out) | {it.mode for it in result.itineraries} == set(P.MODES)
    for it in result.itineraries:
        assert all(a.end_s <= b.start_s for a, b in zip(it.legs, it.legs[1:], strict=False))
