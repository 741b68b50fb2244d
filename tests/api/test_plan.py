"""/api/v1/plan and /api/v1/isochrone: every parameter parsed, checked and echoed; limits enforced.

A destination outside the network gets the normal "no route" answer (200, empty list,
OUTSIDE_BOUNDS) with the echo of the parsed request, which lets these tests read the parsing
without a planner.
"""
import datetime as dt
import time

import pytest

import api.plan

OUTSIDE = "43.6950,7.2650"  # Nice: valid coordinates, far outside the town


def _plan(client, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"/api/v1/plan?{query}")


def test_every_parameter_is_parsed_and_echoed(client):
    r = _plan(client, **{"from": "43.7300,7.4200", "to": OUTSIDE, "datetime": "2026-01-12T08:30",
                         "arrive_by": "true", "modes": "walk,car,TRANSIT,Walk", "walk_speed": "1.1",
                         "bike_speed": "5", "max_transfers": "2", "max_walk_m": "800",
                         "bike_lane_preference": "0.9", "num_itineraries": "4", "window_min": "30",
                         "wheelchair": "1"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["itineraries"] == [] and body["code"] == "OUTSIDE_BOUNDS"
    assert body["message"] == "'to' lies outside the area this network covers"
    echo = body["request"]
    assert echo["from"] == {"lat": 43.73, "lon": 7.42} and echo["to"] == {"lat": 43.695, "lon": 7.265}
    assert echo["when"] == "2026-01-12T08:30:00+01:00"  # no offset: local time of Europe/Monaco
    assert (echo["service_day"], echo["time_s"]) == (20465, 30600)  # 2026-01-12, 08:30:00
    assert echo["modes"] == ["WALK", "CAR_PARK", "TRANSIT"]  # aliases, case, duplicates
    assert (echo["arrive_by"], echo["wheelchair"], echo["datetime_defaulted"]) == (True, True, False)
    assert (echo["walk_speed_mps"], echo["bike_speed_mps"], echo["max_walk_m"]) == (1.1, 5.0, 800.0)
    assert (echo["max_transfers"], echo["num_itineraries"], echo["window_s"]) == (2, 4, 1800)
    assert echo["bike_lane_preference"] == 0.9


def test_defaults_are_walk_and_transit_five_itineraries_within_half_an_hour(client):
    echo = _plan(client, **{"from": "43.73,7.42", "to": OUTSIDE,
                            "datetime": "2026-01-12T08:30:00Z"}).get_json()["request"]
    assert echo["modes"] == ["WALK", "TRANSIT"]
    assert echo["when"] == "2026-01-12T09:30:00+01:00"  # an offset is honoured, shown in feed time
    assert (echo["num_itineraries"], echo["window_s"], echo["max_transfers"]) == (5, 1800, 12)
    assert (echo["walk_speed_mps"], echo["arrive_by"]) == (1.3, False)


def test_seconds_count_from_gtfs_noon_minus_twelve_hours_on_a_dst_day(client):
    # 2026-03-29: clocks go 02:00 -> 03:00. GTFS's 10:00:00 that day is wall-clock 10:00, i.e.
    # 36,000 s after "noon minus 12 h" (23:00 the evening before), not 32,400 s after midnight.
    echo = _plan(client, **{"from": "43.73,7.42", "to": OUTSIDE,
                            "datetime": "2026-03-29T10:00"}).get_json()["request"]
    assert echo["when"] == "2026-03-29T10:00:00+02:00" and echo["time_s"] == 36_000


def test_without_a_datetime_a_day_the_timetable_covers_is_chosen_with_a_note(make_app):
    app = make_app()
    app.extensions["trajet"].clock = lambda: dt.datetime.fromisoformat("2026-05-04T12:00+02:00").timestamp()
    body = _plan(app.test_client(), **{"from": "43.73,7.42", "to": OUTSIDE}).get_json()
    assert body["request"]["when"] == "2026-02-28T12:00:00+01:00"
    assert body["request"]["datetime_defaulted"] is True
    assert body["notes"] == ["the timetable has no service today (2026-05-04); planning for "
                             "2026-02-28, the last day it covers"]


@pytest.mark.parametrize(("params", "status", "code", "field"), [
    ({"from": "7.4200,43.7300", "to": "43.731,7.421"}, 422, "COORDINATES_SWAPPED", "from"),
    ({"from": "43.73,7.42", "to": "7.421,43.731"}, 422, "COORDINATES_SWAPPED", "to"),
    ({"from": "95,7.42", "to": "43.731,7.421"}, 422, "COORDINATES_OUT_OF_RANGE", "from"),
    ({"from": "43.73;7.42", "to": "43.731,7.421"}, 400, "MALFORMED_COORDINATES", "from"),
    ({"from": "43.73,7.42"}, 400, "MISSING_PARAMETER", "to"),
    ({"from": "43.73,7.42", "to": "43.731,7.421", "modes": "WALK,PLANE"}, 422, "UNKNOWN_MODE", "modes"),
    ({"from": "43.73,7.42", "to": "43.731,7.421", "datetime": "12/01/2026"}, 400,
     "MALFORMED_DATETIME", "datetime"),
    ({"from": "43.73,7.42", "to": "43.731,7.421", "datetime": "1850-01-01T00:00"}, 400,
     "MALFORMED_DATETIME", "datetime"),
    ({"from": "43.73,7.42", "to": "43.731,7.421", "num_itineraries": "11"}, 422,
     "TOO_MANY_ITINERARIES", "num_itineraries"),
    ({"from": "43.73,7.42", "to": "43.731,7.421", "num_itineraries": "0"}, 422, "OUT_OF_RANGE",
     "num_itineraries"),
    ({"from": "43.73,7.42", "to": "43.731,7.421", "window_min": "181"}, 422, "WINDOW_TOO_LONG",
     "window_min"),
    ({"from": "43.73,7.42", "to": "43.731,7.421", "walk_speed": "fast"}, 400, "MALFORMED_PARAMETER",
     "walk_speed"),
    ({"from": "43.73,7.42", "to": "43.731,7.421", "arrive_by": "maybe"}, 400, "MALFORMED_PARAMETER",
     "arrive_by"),
    ({"from": "43.73,7.42", "to": "43.731,7.421", "mode": "WALK"}, 400, "UNKNOWN_PARAMETER", "mode"),
])
def test_bad_parameters_are_named_with_their_code(client, params, status, code, field):
    r = _plan(client, **params)
    assert r.status_code == status
    body = r.get_json()
    assert (body["code"], body["field"]) == (code, field)
    assert body["message"] and "Traceback" not in body["message"]


def test_isochrone_minutes_are_bounded_by_the_configuration(make_app):
    client = make_app(max_isochrone_minutes=30).test_client()
    r = client.get("/api/v1/isochrone?from=43.73,7.42&minutes=31")
    assert r.status_code == 422
    assert r.get_json() == {"code": "TOO_MANY_MINUTES", "message": "minutes must be at most 30 min",
                            "field": "minutes"}
    swapped = client.get("/api/v1/isochrone?from=7.42,43.73")
    assert swapped.get_json()["code"] == "COORDINATES_SWAPPED"
    outside = client.get(f"/api/v1/isochrone?from={OUTSIDE}&datetime=2026-01-12T08:00").get_json()
    assert outside["features"] == [] and outside["code"] == "OUTSIDE_BOUNDS"


def test_a_plan_returns_itineraries_with_geojson_legs_and_the_parsed_request(client):
    r = _plan(client, **{"from": "43.73,7.42", "to": "43.7345,7.4262", "modes": "WALK,TRANSIT",
                         "num_itineraries": "3"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["code"] is None and body["request"]["modes"] == ["WALK", "TRANSIT"]
    assert body["request"]["from"] == {"lat": 43.73, "lon": 7.42}
    assert 1 <= len(body["itineraries"]) <= 3
    for it in body["itineraries"]:
        assert it["start_time"] < it["end_time"] and it["duration_s"] > 0
        for leg in it["legs"]:
            assert leg["geometry"]["type"] == "LineString" and len(leg["geometry"]["coordinates"]) >= 2
            lon, lat = leg["geometry"]["coordinates"][0]
            assert 7.41 < lon < 7.44 and 43.72 < lat < 43.74


def test_no_route_is_a_200_with_an_empty_list_and_the_reason(client):
    # the town's timetable runs in January 2026: a transit-only plan in 2031 has no service
    r = _plan(client, **{"from": "43.73,7.42", "to": "43.7345,7.4262", "modes": "TRANSIT",
                         "datetime": "2031-06-02T08:00"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["itineraries"] == [] and body["code"] == "OUTSIDE_SERVICE_PERIOD"
    assert body["left_out"]["TRANSIT"]["code"] == "OUTSIDE_SERVICE_PERIOD"


def test_a_computation_over_the_time_budget_answers_503(make_app, monkeypatch):
    def slow(*args):
        time.sleep(1.0)
        return [], None, None, None

    monkeypatch.setattr(api.plan, "_run_plan", slow)
    client = make_app(request_time_budget_s=0.2).test_client()
    t0 = time.perf_counter()
    r = _plan(client, **{"from": "43.73,7.42", "to": "43.7345,7.4262"})
    assert time.perf_counter() - t0 < 0.9
    assert r.status_code == 503
    assert r.get_json()["code"] == "TIME_BUDGET_EXCEEDED" and r.headers["Retry-After"] == "1"


def test_a_bug_in_the_engine_is_a_500_without_traceback(make_app, monkeypatch):
    def broken(network, query, loaded):
        raise RuntimeError("index 7 is out of bounds for axis 0 with size 3")

    monkeypatch.setattr(api.plan, "_run_plan", broken)
    r = _plan(make_app().test_client(), **{"from": "43.73,7.42", "to": "43.7345,7.4262"})
    assert r.status_code == 500
    assert r.get_json() == {"code": "INTERNAL_ERROR", "message": "internal error; it has been logged",
                            "field": None}


def test_an_isochrone_is_one_polygon_feature_per_mode(client):
    r = client.get("/api/v1/isochrone?from=43.73,7.42&minutes=10&modes=WALK,BICYCLE"
                   "&datetime=2026-01-12T08:00")
    assert r.status_code == 200
    body = r.get_json()
    assert body["type"] == "FeatureCollection" and body["code"] is None
    walk, bike = body["features"]
    assert (walk["properties"]["mode"], bike["properties"]["mode"]) == ("WALK", "BICYCLE")
    assert walk["geometry"]["type"] == "MultiPolygon" and walk["geometry"]["coordinates"]
    assert bike["properties"]["nodes_reached"] >= walk["properties"]["nodes_reached"] > 0
    assert body["request"]["minutes"] == 10


def test_an_isochrone_outside_the_service_period_is_a_normal_answer_as_for_plan(client):
    """issue 17 item 3: TRANSIT on a date the timetable does not cover answered 500."""
    r = client.get("/api/v1/isochrone?from=43.73,7.42&minutes=10&modes=TRANSIT"
                   "&datetime=2031-06-02T08:00")
    assert r.status_code == 200
    body = r.get_json()
    assert body["features"] == [] and body["code"] == "OUTSIDE_SERVICE_PERIOD"
    # the street modes still answer on that date
    r = client.get("/api/v1/isochrone?from=43.73,7.42&minutes=10&modes=WALK,TRANSIT"
                   "&datetime=2031-06-02T08:00")
    assert r.status_code == 200
    assert [f["properties"]["mode"] for f in r.get_json()["features"]] == ["WALK"]
