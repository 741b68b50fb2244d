"""Scenario modifications on the tiny town (hand-checkable) and on Monaco (real ids): each applied,
each refused with a message naming the modification and the field."""
from __future__ import annotations

import numpy as np
import pytest

from engine.model import Mode
from engine.parking import forecast
from engine.scenario import (
    AddBikeLane,
    AdjustFrequency,
    CloseParking,
    CloseStreet,
    RemoveRoute,
    RemoveStop,
    ScaleParkingDemand,
    Scenario,
    ScenarioError,
    SetCarSpeed,
    SetParkingCapacity,
    modification_from_dict,
)
from engine.street import StreetProfile, many_to_many
from engine.transit.build import trips_of

WEEKDAY_2026_01_14 = 20_467   # days since 1970-01-01 of Wednesday 2026-01-14
SATURDAY_2026_01_10 = 20_463


def _node(net, osm_id: int) -> int:
    return int(np.flatnonzero(net.street.node_osm_id == osm_id)[0])


def _footpaths(tt) -> dict:
    src = np.repeat(np.arange(tt.n_stops), np.diff(tt.transfer_offsets))
    return {(str(tt.stop_ids[a]), str(tt.stop_ids[b])): int(t)
            for a, b, t in zip(src, tt.transfer_to_stop, tt.transfer_time_s, strict=True)}


def _departures_at(tt, stop_id: str, day: int) -> list[int]:
    """First-stop departures (s) of the trips running on ``day`` that start at ``stop_id``."""
    trips = trips_of(tt)
    off = trips.st_offsets
    stop = int(np.flatnonzero(tt.stop_ids == stop_id)[0])
    runs = np.asarray(tt.service_active)[trips.trip_service_idx, day - tt.service_first_day]
    starts = (trips.st_stop_idx[off[:-1]] == stop) & runs
    return sorted(int(d) for d in trips.st_departure_s[off[:-1]][starts])


# ---------------------------------------------------------------------------------------------
# Parking
# ---------------------------------------------------------------------------------------------
def test_closing_a_car_park_removes_it_with_its_history_and_profile(town):
    out, change = CloseParking(facilities="osm:node/3001").apply(town)
    assert str(change) == "closes 1 car park (Parking Centre)"
    pk = out.parking
    assert list(pk.facility_ids) == ["osm:node/3002", "osm:node/3003", "osm:node/3004"]
    assert pk.profile.level_mean.shape[0] == 3 and pk.capacity.tolist() == [60, 200, 10]
    # the history keeps Parking Gare's and Relais's readings, re-indexed from 0
    old = town.parking.history
    assert pk.history.n_observations == int((old.facility_idx != 0).sum())
    assert set(np.unique(pk.history.facility_idx)) == {0, 1}
    # the other facilities forecast exactly as before
    at = 1_768_381_200  # 2026-01-14 10:00 Europe/Paris
    before = forecast(town.parking, [1, 2], at)
    after = forecast(pk, [0, 1], at)
    np.testing.assert_allclose(after.p_free, before.p_free)
    # copy-on-write: the streets and the timetable are the same objects
    assert out.street is town.street and out.timetable is town.timetable


def test_a_smaller_car_park_with_the_same_demand_fills_up(town):
    # Parking Gare: 60 spaces, never full. With 20 spaces, the cars that park there at 10:00
    # on a weekday (60 - free) no longer fit.
    at = 1_768_381_200
    before = forecast(town.parking, [1], at)
    out, change = SetParkingCapacity(facilities=["osm:node/3002"], capacity=20).apply(town)
    assert str(change) == "sets the capacity of Parking Gare from 60 to 20 spaces"
    after = forecast(out.parking, [1], at)
    occupied = 60 - before.expected_free[0]
    assert occupied > 20
    assert after.p_free[0] < 0.2 < before.p_free[0]
    assert out.parking.capacity[1] == 20 and town.parking.capacity[1] == 60


def test_more_demand_takes_the_same_share_more_spaces(town):
    # Parking Centre on a weekday at 10:00: about 82 of 120 free, 38 occupied; 20 % more cars
    # occupy 46, leaving 74 (the profile is refitted on the history with every reading scaled)
    at = 1_768_381_200
    before = forecast(town.parking, [0], at).expected_free[0]
    out, change = ScaleParkingDemand(factor=1.2, facilities=["osm:node/3001"]).apply(town)
    assert str(change) == "scales parking demand by 1.2 at 1 car park (Parking Centre)"
    after = forecast(out.parking, [0], at).expected_free[0]
    assert 75 < before < 90
    assert after == pytest.approx(120 - 1.2 * (120 - before), abs=1.0)
    # the other facilities keep their profile rows and the deviation model
    pr, new = town.parking.profile, out.parking.profile
    np.testing.assert_array_equal(new.level_mean[1:], pr.level_mean[1:])
    assert new.deviation_nugget == pr.deviation_nugget


def test_a_demand_factor_of_one_refits_the_same_profile(town):
    out, change = ScaleParkingDemand(factor=1.0).apply(town)
    assert change.counts == {"facilities_scaled": 3, "facilities_skipped": 0}
    pr, new = town.parking.profile, out.parking.profile
    for name in ("level_mean", "level_std", "p_free", "n_observations", "full_threshold", "level_offset"):
        np.testing.assert_array_equal(getattr(new, name), getattr(pr, name), err_msg=name)


def test_without_history_the_profile_levels_move_exactly(town):
    # a profile without its history (say, from another system): the level's median is carried
    # over exactly, x -> C' - k (C - x)
    import dataclasses

    bare = dataclasses.replace(town, parking=dataclasses.replace(town.parking, history=None))
    pr = bare.parking.profile
    out, _ = ScaleParkingDemand(factor=1.2, facilities=["osm:node/3001"]).apply(bare)
    new = out.parking.profile
    x = np.exp(pr.level_mean[0, 0, 10]) - pr.level_offset[0]
    x2 = np.exp(new.level_mean[0, 0, 10]) - new.level_offset[0]
    assert x2 == pytest.approx(120 - 1.2 * (120 - x), rel=1e-5)
    same, _ = ScaleParkingDemand(factor=1.0).apply(bare)
    np.testing.assert_allclose(same.parking.profile.level_mean, pr.level_mean, rtol=1e-6, atol=1e-6)


def test_less_demand_frees_the_car_park_that_is_full_every_weekday_afternoon(town):
    at = 1_768_399_200  # 2026-01-14 15:00: Parking Centre is full every weekday 14:00-17:59
    assert forecast(town.parking, [0], at).p_free[0] < 0.2
    out, _ = ScaleParkingDemand(factor=0.5, facilities="osm:node/3001").apply(town)
    assert forecast(out.parking, [0], at).p_free[0] > 0.9


@pytest.mark.parametrize(("mod", "field", "words"), [
    (lambda: CloseParking(facilities="osm:node/9999"), "facilities",
     "unknown parking facility 'osm:node/9999'"),
    (lambda: SetParkingCapacity(facilities="osm:node/3001", capacity=0), "capacity", "must be > 0"),
    (lambda: SetParkingCapacity(facilities="osm:node/3001", capacity=12.5), "capacity", "whole number"),
    (lambda: ScaleParkingDemand(factor=-1), "factor", "must be > 0"),
    (lambda: ScaleParkingDemand(factor=1.5, facilities=["osm:node/3004"]), "facilities",
     "no known capacity or no occupancy profile"),
])
def test_bad_parking_modifications_are_refused_naming_the_field(town, mod, field, words):
    with pytest.raises(ScenarioError) as err:
        mod().apply(town)
    assert err.value.field == field and words in str(err.value)


# ---------------------------------------------------------------------------------------------
# Transit
# ---------------------------------------------------------------------------------------------
def test_bus_a_every_10_minutes_in_the_morning_peak(town):
    mod = AdjustFrequency(route="A", start="08:00", end="10:00", headway_min=10)
    out, change = mod.apply(town)
    # per day: 4 eastbound and 4 westbound weekday trips leave in the window; 12 + 12 replace them
    assert change.counts["trips_added_per_day"] == 24 and change.counts["trips_removed_per_day"] == 8
    assert str(change).startswith("adds 24 trips a day to route A, every 10 min between 08:00 and 10:00")
    east = _departures_at(out.timetable, "RELAIS_OUEST", WEEKDAY_2026_01_14)
    hours = [d for d in east if 7 * 3600 <= d < 11 * 3600]
    assert hours == ([7 * 3600, 7 * 3600 + 1800] + list(range(8 * 3600, 10 * 3600, 600))
                     + [10 * 3600, 10 * 3600 + 1800])
    # the copies keep the template's running times: Relais Ouest 08:10 -> Gare 08:14
    tt = out.timetable
    trip = int(np.flatnonzero(tt.trip_ids == "A-SEM-E-0800+08:10")[0])
    r = tt.trip_route_idx[trip]
    first, k, n = tt.route_block(r)
    col = trip - tt.route_trip_offsets[r]
    assert [int(tt.arrival_s[first + i * n + col]) for i in range(k)] == [29400, 29520, 29640]
    # the weekend pattern had trips in the window too: it gets the same service on Saturdays
    sat = [d for d in _departures_at(tt, "RELAIS_OUEST", SATURDAY_2026_01_10) if d < 10 * 3600]
    assert sat == list(range(8 * 3600, 10 * 3600, 600))
    # the tram is untouched
    assert _departures_at(tt, "PARC_RELAIS", WEEKDAY_2026_01_14) == \
        _departures_at(town.timetable, "PARC_RELAIS", WEEKDAY_2026_01_14)


def test_removing_bus_a_leaves_the_tram(town):
    out, change = RemoveRoute(routes="A").apply(town)
    assert str(change) == "removes route A (71 trips)"
    assert out.timetable.n_trips == 216 and out.timetable.n_routes == 2
    assert out.street is town.street and out.parking is town.parking


def test_removing_a_station_removes_its_stops_from_every_trip(town):
    out, change = RemoveStop(stops="MAIRIE").apply(town)
    assert str(change) == "removes stop Mairie from 287 trips"
    tt = out.timetable
    assert tt.n_trips == 287 and tt.n_stop_times == 1077 - 287
    served = np.diff(tt.stop_route_offsets) > 0
    assert not served[list(tt.stop_ids).index("MAIRIE_A")] and not served[list(tt.stop_ids).index("MAIRIE_T")]


def test_a_trip_left_with_one_stop_is_dropped(town):
    out, change = RemoveStop(stops=["RELAIS_OUEST", "MAIRIE_A"]).apply(town)
    assert change.counts["trips_dropped"] == 71 and out.timetable.n_trips == 216


@pytest.mark.parametrize(("spec", "field", "words"), [
    ({"route": "Z", "start": "08:00", "end": "10:00", "headway_min": 10}, "route", "unknown route 'Z'"),
    ({"route": "A", "start": "08:00", "end": "10:00", "headway_min": 0}, "headway_min", "must be > 0"),
    ({"route": "A", "start": "10:00", "end": "08:00", "headway_min": 5}, "end", "must be after start"),
    ({"route": "A", "start": "8h", "end": "10:00", "headway_min": 5}, "start", "expected a time"),
    ({"route": "A", "start": "02:00", "end": "03:00", "headway_min": 5}, "start", "has no trip leaving"),
    ({"route": "A", "start": "08:00", "end": "10:00", "headway_min": 5, "template_trip": "T-SEM-N@07:10:00"},
     "template_trip", "does not belong to route A"),
])
def test_bad_frequency_changes_are_refused_naming_the_field(town, spec, field, words):
    with pytest.raises(ScenarioError) as err:
        modification_from_dict({"type": "adjust-frequency", **spec}).apply(town)
    assert err.value.field == field and words in str(err.value)
    assert "adjust-frequency" in str(err.value)


def test_unknown_routes_and_stops_are_refused(town):
    with pytest.raises(ScenarioError, match="field 'routes': unknown route 'B'"):
        RemoveRoute(routes=["A", "B"]).apply(town)
    with pytest.raises(ScenarioError, match="field 'stops': unknown stop 'MAIRIEE' \\(did you mean 'MAIRIE'"):
        RemoveStop(stops="MAIRIEE").apply(town)


# ---------------------------------------------------------------------------------------------
# Streets
# ---------------------------------------------------------------------------------------------
ROW0_BAND = [[7.499, 43.7998], [7.511, 43.7998], [7.511, 43.8002], [7.499, 43.8002]]


def test_a_30_kmh_zone_slows_route_du_sud_and_leaves_slower_streets(town):
    out, change = SetCarSpeed(polygon=ROW0_BAND, speed_kmh=30).apply(town)
    # Route du Sud: 4 segments, 8 car edges at 80 km/h; Accès Relais (2 edges) is slower already
    assert change.counts == {"edges_inside": 10, "edges_changed": 8}
    car = StreetProfile(Mode.CAR)
    a, b = _node(town, 1000), _node(town, 1040)
    t = many_to_many(out.street, car, [a], [b])[0, 0]
    length = town.street.edge_length_m[np.isin(town.street.edge_way_idx, [0])].sum() / 2
    assert t == pytest.approx(length / (30 / 3.6), rel=1e-9)
    assert t > many_to_many(town.street, car, [a], [b])[0, 0]
    # topology and walking shared with the baseline
    assert out.street.indptr is town.street.indptr and out.street.walk_time_s is town.street.walk_time_s


def test_closing_rue_du_marche_to_pedestrians_lengthens_the_footpaths_through_it(town):
    out, change = CloseStreet(way_ids=[109], modes=["WALK"]).apply(town)
    assert str(change) == ("closes 8 edges of 1 way: 8 to WALK; transit footpaths through them "
                           "lengthened")
    before, after = _footpaths(town.timetable), _footpaths(out.timetable)
    # Mairie -> Rue Haute walked 200.2 m up Rue du Marché; now round by Rue des Écoles:
    # 200.6 + 200.2 + 200.6 m, i.e. 401.2 m more, 308.6 s at 1.3 m/s -> 309 s more
    assert before[("MAIRIE_A", "RUE_HAUTE")] == 170 and after[("MAIRIE_A", "RUE_HAUTE")] == 479
    assert after[("MAIRIE_T", "CANAL")] == before[("MAIRIE_T", "CANAL")] + 309
    # the transfers.txt change at Mairie does not use the street
    assert after[("MAIRIE_A", "MAIRIE_T")] == 120
    # cars still use Rue du Marché
    assert out.street.car_time_s is town.street.car_time_s


def test_closing_route_du_sud_to_cars_by_polygon(town):
    polygon = {"type": "Polygon", "coordinates": [ROW0_BAND]}
    out, change = CloseStreet(polygon=polygon, modes="CAR").apply(town)
    assert change.counts["edges_closed_car"] == 10
    assert out.timetable is town.timetable   # walking unchanged: footpaths too
    car = StreetProfile(Mode.CAR)
    a, b = _node(town, 1000), _node(town, 1040)
    assert np.isinf(out.street.car_time_s[np.isin(out.street.edge_way_idx, [0])]).all()
    assert many_to_many(out.street, car, [a], [b])[0, 0] > many_to_many(town.street, car, [a], [b])[0, 0]


def test_a_contraflow_bike_lane_on_rue_haute_opens_it_westbound(town):
    sg = town.street
    rue_haute = np.isin(sg.edge_way_idx, [2])      # way 103
    assert rue_haute.sum() == 8 and np.isinf(sg.bike_time_s[rue_haute]).sum() == 4
    out, change = AddBikeLane(line=[[7.5, 43.8036], [7.51, 43.8036]], edge_mask=rue_haute,
                              name="Rue Haute").apply(town)
    assert change.counts == {"edges_marked": 8, "edges_opened": 4, "edges_matched": 8}
    assert str(change).startswith("marks 8 edges as bike lanes (Rue Haute)")
    bike = StreetProfile(Mode.BICYCLE)
    a, b = _node(town, 1042), _node(town, 1002)
    # westbound along Rue Haute: 4 x 200.6 m at 4.5 m/s, instead of a detour
    t_after = many_to_many(out.street, bike, [a], [b])[0, 0]
    assert t_after == pytest.approx(sg.edge_length_m[rue_haute].sum() / 2 / 4.5, rel=1e-9)
    assert many_to_many(sg, bike, [a], [b])[0, 0] > t_after
    assert out.street.node_in_component[Mode.BICYCLE].sum() >= sg.node_in_component[Mode.BICYCLE].sum()


@pytest.mark.parametrize(("mod", "field", "words"), [
    (lambda: SetCarSpeed(polygon=[[7.5, 43.8], [7.51, 43.8]], speed_kmh=30), "polygon",
     "at least 3 distinct points"),
    (lambda: SetCarSpeed(polygon=[[7.5, 43.8], [7.51, 43.8], [7.52, 43.8]], speed_kmh=30), "polygon",
     "no area"),
    (lambda: SetCarSpeed(polygon={"type": "Polygon", "coordinates": []}, speed_kmh=30), "polygon", "empty"),
    (lambda: SetCarSpeed(polygon=ROW0_BAND, speed_kmh=0), "speed_kmh", "must be > 0"),
    (lambda: SetCarSpeed(polygon=[[43.7998, 7.499], [43.7998, 7.511], [43.8002, 7.511]], speed_kmh=30),
     "polygon", "holds no street"),
    (lambda: CloseStreet(way_ids=[999]), "way_ids", "unknown OSM way 999"),
    (lambda: CloseStreet(way_ids=[108], modes=["CAR"]), "modes", "already closed to CAR"),
    (lambda: CloseStreet(way_ids=[101], modes=["TRAM"]), "modes", "unknown street mode 'TRAM'"),
    (lambda: CloseStreet(), "polygon", "give either a polygon or way_ids"),
    (lambda: AddBikeLane(line=[[7.5, 43.8036], [7.51, 43.8036]]), "line", "has not been matched"),
    (lambda: AddBikeLane(line=[[7.5, 43.8036]]), "line", "at least 2 distinct points"),
    (lambda: AddBikeLane(line=[[7.5, 43.8], [7.6, 43.8]], edge_mask=np.zeros(74, bool)), "line", "no street"),
])
def test_bad_street_modifications_are_refused_naming_the_field(town, mod, field, words):
    with pytest.raises(ScenarioError) as err:
        mod().apply(town)
    assert err.value.field == field and words in str(err.value)


# ---------------------------------------------------------------------------------------------
# Scenarios and the dict form
# ---------------------------------------------------------------------------------------------
def test_a_scenario_applies_in_order_and_names_the_failing_modification(town):
    scenario = Scenario.from_dicts([
        {"type": "remove-route", "route": "A"},
        {"type": "close-parking", "facility": "osm:node/3001"},
        {"type": "adjust-frequency", "route": "A", "start": "08:00", "end": "10:00", "headway_min": 10},
    ], name="no bus")
    with pytest.raises(ScenarioError) as err:
        scenario.apply(town)
    assert err.value.index == 2 and err.value.field == "route"
    assert str(err.value) == ("modification 2 (adjust-frequency), field 'route': route A has no trips "
                              "left to copy")
    out, changes = Scenario(scenario.modifications[:2]).apply(town)
    assert [c.kind for c in changes] == ["remove-route", "close-parking"]
    assert out.metadata["scenario"]["changes"][1] == "closes 1 car park (Parking Centre)"


@pytest.mark.parametrize(("spec", "field", "words"), [
    ({"type": "close-car-park"}, "type", "unknown modification type 'close-car-park'"),
    ({"type": "close-parking"}, "facilities", "missing"),
    ({"type": "close-parking", "facility": "x", "when": "now"}, "when", "unknown field"),
    ({"type": "close-parking", "facility": []}, "facilities", "non-empty list"),
])
def test_a_modification_dict_is_checked_before_any_network_is_touched(spec, field, words):
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dicts([{"type": "remove-route", "route": "A"}, spec])
    assert err.value.index == 1 and err.value.field == field and words in str(err.value)


def test_a_modification_round_trips_through_its_dict():
    mod = AdjustFrequency(route="A", start="8:00", end="10:00", headway_min=7.5)
    assert mod.to_dict() == {"type": "adjust-frequency", "route": "A", "start": "08:00", "end": "10:00",
                             "headway_min": 7.5}
    assert modification_from_dict(mod.to_dict()).to_dict() == mod.to_dict()


# ---------------------------------------------------------------------------------------------
# Monaco: real ids
# ---------------------------------------------------------------------------------------------
def test_closing_parking_du_casino_in_monaco(monaco):
    out, change = CloseParking(facilities="osm:node/1876870084").apply(monaco)
    assert str(change) == "closes 1 car park (Parking du Casino)"
    assert out.parking.n_facilities == monaco.parking.n_facilities - 1
    assert "osm:node/1876870084" not in set(out.parking.facility_ids)


def _line_departures(tt, short_name: str, day: int, start_s: int, end_s: int) -> int:
    trips = trips_of(tt)
    first = trips.st_departure_s[trips.st_offsets[:-1]]
    line = int(np.flatnonzero(tt.line_short_name == short_name)[0])
    runs = np.asarray(tt.service_active)[trips.trip_service_idx, day - tt.service_first_day]
    return int(((trips.trip_line_idx == line) & runs & (first >= start_s) & (first < end_s)).sum())


def test_doubling_line_1_on_a_monaco_saturday_afternoon(monaco):
    # Line 1 leaves each terminus every 18 min on Saturday afternoons: 14 trips each way 14:00-18:00
    tt = monaco.timetable
    assert _line_departures(tt, "1", SATURDAY_2026_01_10, 14 * 3600, 18 * 3600) == 28
    out, change = AdjustFrequency(route="1", start="14:00", end="18:00", headway_min=9).apply(monaco)
    assert change.counts["patterns"] == 2
    # every 9 min from 14:00: 14:00, 14:09, ... 17:54 = 27 departures each way
    assert _line_departures(out.timetable, "1", SATURDAY_2026_01_10, 14 * 3600, 18 * 3600) == 54
    assert _line_departures(out.timetable, "1", SATURDAY_2026_01_10, 18 * 3600, 19 * 3600) == \
        _line_departures(tt, "1", SATURDAY_2026_01_10, 18 * 3600, 19 * 3600)
    assert out.timetable.n_trips == tt.n_trips - change.counts["trips_removed"] + change.counts["trips_added"]
