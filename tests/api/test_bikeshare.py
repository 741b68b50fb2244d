"""Bike share through the API: /api/v1/bikeshare/stations and BIKE_SHARE plans.

The bundle is the Helsinki GBFS stations on a generated street grid around their coordinates
(tests/bikeshare_city.py; simulated history: station 003 empties on weekday mornings). The latest
snapshot is the real Helsinki fixture copied where the GBFS poller writes its folders
(``<realtime_state_dir>/gbfs/<system_id>/``): station 004 is neither renting nor returning.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil

import pytest

from tests.api.conftest import TOKEN
from tests.bikeshare_city import EMPTYING, HELSINKI, SYSTEM, build_city, facility, near

ORIGIN = near(EMPTYING, east_m=-60)
DESTINATION = near("002", east_m=40)


@pytest.fixture(scope="module")
def city_bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bikeshare-api")
    build_city(folder)
    return folder / "bundle"


@pytest.fixture
def app(city_bundle, tmp_path):
    from api.app import create_app

    state_dir = tmp_path / "state"
    shutil.copytree(HELSINKI, state_dir / "gbfs" / SYSTEM)
    app = create_app({"bundle_dir": city_bundle, "observations_db": tmp_path / "obs.sqlite",
                      "realtime_state_dir": state_dir, "load_in_background": False,
                      "ingest_token": TOKEN})
    app.extensions["trajet"].clock = lambda: dt.datetime.fromisoformat("2026-03-03T13:55+02:00").timestamp()
    app.state_dir = state_dir
    yield app
    app.extensions["trajet"].close()


def _stations(client, at: str) -> dict:
    body = client.get(f"/api/v1/bikeshare/stations?at={at}").get_json()
    return {f["id"]: f["properties"] for f in body["features"]}


def _plan(client, when: str) -> dict:
    url = (f"/api/v1/plan?from={ORIGIN[1]:.6f},{ORIGIN[0]:.6f}&to={DESTINATION[1]:.6f},{DESTINATION[0]:.6f}"
           f"&modes=BIKE_SHARE&datetime={when}")
    body = client.get(url).get_json()
    (it,) = body["itineraries"]
    assert it["mode"] == "BIKE_SHARE" and [leg["mode"] for leg in it["legs"]] == ["WALK", "BICYCLE", "WALK"]
    return it["legs"][1]["bike_share"]


def test_stations_show_bikes_and_docks_now_and_the_forecast(app):
    client = app.test_client()
    morning = _stations(client, "2026-03-03T08:20")
    assert len(morning) == 5
    s3 = morning[facility(EMPTYING)]
    assert (s3["name"], s3["kind"], s3["capacity"]) == ("Kapteeninpuistikko", "BIKE_SHARE", 16)
    assert (s3["bikes_now"], s3["docks_now"]) == (7, 9)              # the snapshot
    assert s3["p_bike"] < 0.3 and s3["bikes_basis"] == "profile"
    assert morning[facility("004")]["renting"] is False and morning[facility("004")]["p_bike"] == 0
    afternoon = _stations(client, "2026-03-03T15:00")
    assert afternoon[facility(EMPTYING)]["p_bike"] > 0.9


def test_a_bike_share_plan_names_its_stations_and_their_chances(app):
    info = _plan(app.test_client(), "2026-03-03T08:20")
    assert info["pickup"]["facility_id"] not in (facility(EMPTYING), facility("004"))
    assert info["p_bike"] > 0.9 and info["p_dock"] > 0.9
    assert info["dropoff"]["facility_id"] == facility("002")
    assert {"name", "speed_mps"} <= set(info["vehicle_type"])
    reasons = {a["facility_id"]: a["reason"] for a in info["pickup"]["avoided"]}
    assert reasons[facility(EMPTYING)].startswith("Kapteeninpuistikko usually empties by 08:2")


def test_a_posted_reading_of_no_bike_moves_the_choice(app):
    client = app.test_client()
    assert _plan(client, "2026-03-03T14:00")["pickup"]["facility_id"] == facility(EMPTYING)
    r = client.post("/api/v1/parking/observations", headers={"Authorization": f"Bearer {TOKEN}"},
                    json={"observations": [{"facility_id": facility(EMPTYING), "timestamp":
                                            "2026-03-03T13:55:00+02:00", "free_spaces": 16, "capacity": 16}]})
    assert r.status_code == 201
    info = _plan(client, "2026-03-03T14:00")
    assert info["pickup"]["facility_id"] != facility(EMPTYING)
    assert _stations(client, "2026-03-03T14:00")[facility(EMPTYING)]["bikes_basis"] == "live"


def test_a_new_snapshot_is_read_when_its_folder_changes(app):
    client = app.test_client()
    assert _stations(client, "2026-03-03T14:00")[facility(EMPTYING)]["renting"] is True
    folder = app.state_dir / "gbfs" / SYSTEM
    status = json.loads((folder / "station_status.json").read_text())
    for s in status["data"]["stations"]:
        if s["station_id"] == EMPTYING:
            s["is_renting"] = 0
    fresh = folder.with_name("fresh")
    shutil.copytree(folder, fresh)
    (fresh / "station_status.json").write_text(json.dumps(status))
    shutil.rmtree(folder)
    os.rename(fresh, folder)
    stations = _stations(client, "2026-03-03T14:00")
    assert stations[facility(EMPTYING)]["renting"] is False and stations[facility(EMPTYING)]["p_bike"] == 0


def test_an_unknown_mode_lists_bike_share_among_the_modes(app):
    body = app.test_client().get("/api/v1/plan?from=60.16,24.94&to=60.161,24.95&modes=SCOOTER").get_json()
    assert body["code"] == "UNKNOWN_MODE" and "BIKE_SHARE" in body["message"]


def _free_floating_system(folder, seen_utc_s: int, lon: float, lat: float) -> None:
    """A GBFS 2.2 system of one free-floating e-bike (and a scooter the bike mode leaves out)."""
    folder.mkdir(parents=True)
    files = {"system_information": {"system_id": "free", "name": "Free bikes", "timezone": "Europe/Helsinki",
                                    "language": "en"},
             "vehicle_types": {"vehicle_types": [
                 {"vehicle_type_id": "e", "form_factor": "bicycle", "propulsion_type": "electric_assist",
                  "name": "E-bike"},
                 {"vehicle_type_id": "s", "form_factor": "scooter", "propulsion_type": "electric"}]},
             "free_bike_status": {"bikes": [
                 {"bike_id": "b1", "lat": lat, "lon": lon, "is_reserved": False, "is_disabled": False,
                  "vehicle_type_id": "e", "last_reported": seen_utc_s},
                 {"bike_id": "s1", "lat": lat, "lon": lon, "is_reserved": False, "is_disabled": False,
                  "vehicle_type_id": "s", "last_reported": seen_utc_s}]}}
    feeds = [{"name": name, "url": f"{name}.json"} for name in files]
    (folder / "gbfs.json").write_text(json.dumps({"last_updated": seen_utc_s, "ttl": 60, "version": "2.2",
                                                  "data": {"en": {"feeds": feeds}}}))
    for name, data in files.items():
        (folder / f"{name}.json").write_text(json.dumps({"last_updated": seen_utc_s, "ttl": 60,
                                                         "version": "2.2", "data": data}))


def test_a_free_floating_ebike_of_the_snapshot_is_shown_and_taken(app):
    seen = int(dt.datetime.fromisoformat("2026-03-03T13:59:30+02:00").timestamp())
    lon, lat = near(EMPTYING, east_m=-65)
    _free_floating_system(app.state_dir / "gbfs" / "free", seen, lon, lat)
    client = app.test_client()
    bikes = {k: p for k, p in _stations(client, "2026-03-03T14:00").items() if p["kind"] == "FREE_BIKE"}
    assert list(bikes) == ["bike:b1"] and bikes["bike:b1"]["name"] == "E-bike"  # not the scooter
    assert 0.95 < bikes["bike:b1"]["p_bike"] < 1.0
    info = _plan(client, "2026-03-03T14:00")
    assert info["pickup"]["kind"] == "free_bike" and info["pickup"]["vehicle_id"] == "b1"
    assert info["vehicle_type"] == {"name": "E-bike", "speed_mps": 5.5}


def test_trajet_plan_takes_bike_share_and_says_why(city_bundle):
    from click.testing import CliRunner

    from api.cli import main

    result = CliRunner().invoke(main, ["plan", str(city_bundle), "--from", f"{ORIGIN[1]:.6f},{ORIGIN[0]:.6f}",
                                       "--to", f"{DESTINATION[1]:.6f},{DESTINATION[0]:.6f}",
                                       "--depart", "2026-03-03T08:20", "--modes", "BIKE_SHARE"])
    assert result.exit_code == 0, result.output
    assert "1. BIKE_SHARE 08:20 -> " in result.output
    assert "pickup: " in result.output and "dropoff: Laivasillankatu" in result.output
    assert "avoided: Kapteeninpuistikko usually empties by 08:2" in result.output
