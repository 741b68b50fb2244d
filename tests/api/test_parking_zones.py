"""``/api/v1/parking/zones`` and ``/api/v1/parking/forecast`` on Porto Alegre's streets, and
the car itinerary's search route through the API."""
from __future__ import annotations

import pytest

from api.app import create_app
from tests.porto_alegre import BUSY_DESTINATION, ORIGIN, poa_bundle


@pytest.fixture(scope="module")
def poa_client(bundles_dir, tmp_path_factory):
    path = poa_bundle(bundles_dir)
    app = create_app({"bundle_dir": path, "load_in_background": False,
                      "observations_db": tmp_path_factory.mktemp("obs") / "obs.sqlite"})
    return app.test_client()


def test_zones_are_lines_coloured_by_p_free(poa_client):
    body = poa_client.get("/api/v1/parking/zones?at=2019-05-13T15:30").get_json()
    features = body["features"]
    assert len(features) == 101
    first = features[0]
    assert first["geometry"]["type"] == "LineString"
    props = first["properties"]
    assert props["p_basis"] == "prior" and 0 < props["p_free"] < 1
    assert sum(f["properties"]["capacity"] for f in features) == 2819
    assert sum(not f["properties"]["capacity_estimated"] for f in features) == 2


def test_a_day_forecast_for_a_zone(poa_client):
    zid = "osm:way/27126617:right"
    r = poa_client.get(f"/api/v1/parking/forecast?facility={zid}&date=2019-05-13&at=2019-05-13T15:30")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["name"] == "Rua Ibanor José Tartarotti, right side"
    assert body["capacity"] == 32 and body["capacity_estimated"] is True
    assert body["basis"] == "prior" and body["at"] == "2019-05-13T15:30:00-03:00"
    assert len(body["points"]) == 97
    assert body["points"][0]["time"] == "2019-05-13T00:00:00-03:00"
    assert body["points"][0]["p_free"] == pytest.approx(0.901, abs=1e-3)
    assert body["points"][0]["free_spaces"] is None     # no occupancy data: no count to chart


def test_unknown_facility_and_bad_date(poa_client):
    r = poa_client.get("/api/v1/parking/forecast?facility=nope&date=2019-05-13")
    assert r.status_code == 404 and r.get_json()["code"] == "NOT_FOUND"
    r = poa_client.get("/api/v1/parking/forecast?facility=osm:way/27126617:right&date=13/05/2019")
    assert r.status_code in (400, 422) and r.get_json()["field"] == "date"


def test_the_plan_carries_the_search_route(poa_client):
    o, d = ORIGIN, BUSY_DESTINATION
    r = poa_client.get(f"/api/v1/plan?from={o[1]},{o[0]}&to={d[1]},{d[0]}"
                       "&datetime=2019-05-13T15:30&modes=CAR_PARK")
    assert r.status_code == 200, r.get_json()
    legs = r.get_json()["itineraries"][0]["legs"]
    park = next(leg for leg in legs if leg["mode"] == "PARK")
    route = park["parking"]["search_route"]
    assert route["advice"].startswith("Park in Rua Ibanor José Tartarotti")
    assert route["geometry"]["type"] == "LineString"
