"""Itineraries as JSON (api/serialize.py): ISO 8601 times in the feed's timezone, DESIGN.md's shape."""
import datetime as dt

from api.serialize import iso_time, plan_to_json
from engine import transit as T
from engine.planning.itinerary import StopRef, plan_walk_transit

H = 3600


def test_service_times_become_local_iso_times():
    day = T.day_of(dt.date(2026, 1, 5))
    assert iso_time("Europe/Paris", day, 7 * H + 600) == "2026-01-05T07:10:00+01:00"
    assert iso_time("Europe/Paris", day, 24 * H + 900) == "2026-01-06T00:15:00+01:00"
    summer = T.day_of(dt.date(2026, 7, 1))
    assert iso_time("Europe/Paris", summer, 8 * H) == "2026-07-01T08:00:00+02:00"


def test_a_transit_itinerary_carries_ids_times_route_and_geometry(town):
    result = plan_walk_transit(town, StopRef("PARC_RELAIS"), StopRef("CANAL"),
                               day=T.day_of(dt.date(2026, 1, 5)), time_s=7 * H + 300,
                               modes=("TRANSIT",))
    doc = plan_to_json(result)
    assert doc["code"] is None and doc["timezone"] == "Europe/Paris"
    (it,) = doc["itineraries"]
    assert (it["start_time"], it["end_time"]) == ("2026-01-05T07:10:00+01:00", "2026-01-05T07:14:00+01:00")
    assert (it["duration_s"], it["transfers"], it["walk_distance_m"]) == (240, 0, 0.0)
    (leg,) = it["legs"]
    assert leg["mode"] == "TRAM" and leg["trip_id"] == "T-SEM-N@07:10:00" and leg["route_id"] == "T"
    assert leg["from"]["stop_id"] == "PARC_RELAIS" and leg["to"]["stop_id"] == "CANAL"
    assert leg["route"]["short_name"] == "T" and leg["route"]["color"] == "0055A4"
    assert leg["service_date"] == "2026-01-05" and leg["headsign"] == "Canal"
    assert [s["stop_id"] for s in leg["intermediate_stops"]] == ["MAIRIE_T", "RUE_HAUTE"]
    assert leg["geometry"]["type"] == "LineString" and len(leg["geometry"]["coordinates"]) == 4
    assert leg["geometry"]["coordinates"][0] == [7.5, 43.80009]


def test_a_night_bus_keeps_its_service_date(town):
    result = plan_walk_transit(town, StopRef("RELAIS_OUEST"), StopRef("GARE"),
                               day=T.day_of(dt.date(2026, 1, 6)), time_s=5 * 60, modes=("TRANSIT",))
    leg = plan_to_json(result)["itineraries"][0]["legs"][0]
    assert leg["service_date"] == "2026-01-05"   # Monday's service, 24:15:00
    assert leg["start_time"] == "2026-01-06T00:15:00+01:00"


def test_no_route_is_an_empty_list_with_a_reason(town):
    result = plan_walk_transit(town, StopRef("GARE"), StopRef("CANAL"),
                               day=T.day_of(dt.date(2027, 1, 4)), time_s=8 * H)
    doc = plan_to_json(result)
    assert doc["itineraries"] == [] and doc["code"] == "OUTSIDE_SERVICE_PERIOD"
    assert "2026-01-01 to 2026-02-28" in doc["message"]
