"""The OpenAPI document is generated from the code, served with local docs, and the app keeps it.

Schemathesis reads the app's own ``/api/v1/openapi.json`` and throws generated requests at every
operation in-process (WSGI): no response may be a 500, and every response must match the
documented status codes, content types and schemas.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import TOKEN

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def test_the_document_is_openapi_3_and_lists_every_endpoint(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/plan", "/api/v1/isochrone", "/api/v1/parking", "/api/v1/parking/observations",
            "/api/v1/stops", "/api/v1/network", "/api/v1/info", "/healthz", "/readyz"} <= set(doc["paths"])
    plan_params = {p["name"] for p in doc["paths"]["/api/v1/plan"]["get"]["parameters"]}
    assert plan_params == {"from", "to", "datetime", "arrive_by", "modes", "walk_speed", "bike_speed",
                           "max_transfers", "max_walk_m", "bike_lane_preference", "num_itineraries",
                           "window_min", "wheelchair", "lang"}
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "field"}


def test_documented_limits_are_the_enforced_ones(make_app):
    client = make_app(max_itineraries=2, max_isochrone_minutes=20).test_client()
    doc = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"]: p for p in doc["paths"]["/api/v1/plan"]["get"]["parameters"]}
    assert params["num_itineraries"]["schema"]["maximum"] == 2
    iso = {p["name"]: p for p in doc["paths"]["/api/v1/isochrone"]["get"]["parameters"]}
    assert iso["minutes"]["schema"]["maximum"] == 20
    r = client.get("/api/v1/plan?from=43.73,7.42&to=43.731,7.421&num_itineraries=3")
    assert r.status_code == 422 and r.get_json()["code"] == "TOO_MANY_ITINERARIES"


def test_interactive_docs_are_served_without_a_cdn(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html
    bundle = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.data) > 100_000
    bundle.close()


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory, town_bundle):
    from api.app import create_app

    app = create_app({"bundle_dir": town_bundle, "load_in_background": False, "ingest_token": TOKEN,
                      "observations_db": tmp_path_factory.mktemp("fuzz") / "obs.sqlite",
                      "request_time_budget_s": 5.0})
    yield app
    app.extensions["trajet"].close()


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)


# One test per operation, so a failure names it (the list is checked against the document below).
OPERATIONS = ["GET /healthz", "GET /readyz", "GET /api/v1/info", "GET /api/v1/network",
              "GET /api/v1/stops", "GET /api/v1/parking", "POST /api/v1/parking/observations",
              "GET /api/v1/plan", "GET /api/v1/isochrone", "GET /api/v1/vehicles",
              "GET /api/v1/bikeshare/stations",
              "GET /api/v1/parking/zones", "GET /api/v1/parking/forecast"]


def test_every_operation_is_fuzzed(api_schema):
    labels = {result.ok().label for result in api_schema.get_all_operations()}
    assert labels == set(OPERATIONS)


# Operations without parameters have no invalid input to generate.
CASES = ([(label, GenerationMode.POSITIVE) for label in OPERATIONS]
         + [(label, GenerationMode.NEGATIVE) for label in OPERATIONS[4:]])


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_no_generated_request_gets_a_500_or_an_undocumented_answer(api_schema, label, mode):
    operation = api_schema.find_operation_by_label(label)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True, database=None)
    def fuzz(case):
        # The bearer token lets the observations endpoint get past authentication to validation.
        # The in-process WSGI transport does not undo Content-Encoding as an HTTP client would,
        # so ask for identity (gzip of /network has its own test).
        case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}",
                                        "Accept-Encoding": "identity"}, checks=CHECKS)

    fuzz()
