"""The OpenAPI document states every bound the API enforces, so a request valid by it is accepted.

Ranges of numbers, the mode names, the ranges of latitude and longitude inside a 'lat,lon'
string and the grammar of date-times (real calendar dates, years 1970-2100) are all in the
document; schemathesis' positive data acceptance check (ST202) then finds no schema-valid request
the API refuses. The observations endpoint is left out of that check: whether a facility id
exists, or a count fits its capacity, depends on the network's data, which no fixed document
states (bench/schemathesis_run.py counts those apart).
"""
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from engine.planning import ALL_MODES, MODES
from tests.api.conftest import TOKEN


@pytest.fixture(scope="module")
def app(tmp_path_factory, town_bundle):
    from api.app import create_app

    app = create_app({"bundle_dir": town_bundle, "load_in_background": False, "ingest_token": TOKEN,
                      "observations_db": tmp_path_factory.mktemp("bounds") / "obs.sqlite"})
    yield app
    app.extensions["trajet"].close()


@pytest.fixture(scope="module")
def doc(app):
    return app.test_client().get("/api/v1/openapi.json").get_json()


def _params(doc, path):
    return {p["name"]: p for p in doc["paths"][path]["get"].get("parameters", [])}


def test_the_modes_are_an_enum_of_the_planner_modes_sent_comma_separated(doc):
    # BIKE_SHARE is a plan mode (asked by name), not an isochrone one
    for path, enum in (("/api/v1/plan", ALL_MODES), ("/api/v1/isochrone", MODES)):
        modes = _params(doc, path)["modes"]
        assert modes["schema"]["type"] == "array"
        assert modes["schema"]["items"]["enum"] == list(enum)
        assert modes["schema"]["minItems"] == 1
        assert (modes["style"], modes["explode"]) == ("form", False)  # modes=WALK,TRANSIT


def test_every_number_has_both_bounds_and_every_string_a_pattern(doc):
    for path, ops in doc["paths"].items():
        for op in ops.values():
            for p in op.get("parameters", []):
                schema = p["schema"]
                if schema["type"] in ("integer", "number"):
                    assert {"minimum", "maximum"} <= set(schema), (path, p["name"])
                if schema["type"] == "string":
                    assert "pattern" in schema or "enum" in schema, (path, p["name"])
    item = doc["components"]["schemas"]["ObservationItem"]["properties"]
    for name in ("free_spaces", "occupied", "capacity"):
        assert item[name]["maximum"] == 2**31 - 1
    assert "pattern" in item["timestamp"]


LAT_LON = [("43.7384,7.4246", True), ("90,180", True), ("-90,-180", True), ("+90.000,-180.0", True),
           ("0.5,179.999", True), ("90.0001,0", False), ("91,0", False), ("0,180.5", False),
           ("0,181", False), ("-100,0", False), ("999,999", False), ("43.7,", False),
           ("٤٣,٧", False), ("４３,７", False), ("43.7;7.4", False)]


@pytest.mark.parametrize(("text", "valid"), LAT_LON)
def test_the_coordinate_pattern_states_the_latitude_and_longitude_ranges(doc, text, valid):
    pattern = _params(doc, "/api/v1/plan")["from"]["schema"]["pattern"]
    assert bool(re.search(pattern, text)) is valid
    assert "-90..90" in _params(doc, "/api/v1/plan")["from"]["description"]


DATETIMES = [("2026-01-12T08:30:00+01:00", True), ("2026-01-12T08:30", True), ("2026-01-12", True),
             ("2026-01-12 08:30:15.123456Z", True), ("2000-02-29T00:00", True),
             ("2024-02-29T23:59:59-05:00", True), ("1970-01-01T00:00:00Z", True),
             ("2100-12-31T23:59", True), ("2026-02-29T08:00", False), ("2100-02-29T08:00", False),
             ("2026-04-31T08:00", False), ("1969-12-31T23:59", False), ("2101-01-01T00:00", False),
             ("2026-01-12T24:00", False), ("2026-01-12T08:30:60", False), ("2026-W03-1", False),
             ("20260112T0830", False), ("2026-01-12T08:30+0100", False), ("2026-01-12T8:30", False)]


@pytest.mark.parametrize(("text", "valid"), DATETIMES)
def test_a_datetime_is_accepted_exactly_when_the_document_says_it_is_valid(app, doc, text, valid):
    pattern = _params(doc, "/api/v1/parking")["at"]["schema"]["pattern"]
    assert bool(re.search(pattern, text)) is valid
    r = app.test_client().get("/api/v1/parking", query_string={"at": text})
    assert (r.status_code == 200) is valid, r.get_json()
    if not valid:
        assert r.get_json()["code"] == "MALFORMED_DATETIME"


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


# Every operation with parameters, but the observations (see the module docstring).
ACCEPTANCE = ["GET /api/v1/stops", "GET /api/v1/parking", "GET /api/v1/plan", "GET /api/v1/isochrone"]


@pytest.mark.parametrize("label", ACCEPTANCE)
def test_no_request_valid_by_the_document_is_rejected(api_schema, label):
    operation = api_schema.find_operation_by_label(label)

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True, database=None)
    def fuzz(case):
        case.call_and_validate(headers={"Accept-Encoding": "identity"},
                               checks=[not_a_server_error, positive_data_acceptance])

    fuzz()


def test_an_isochrone_on_a_date_without_service_is_an_empty_answer_like_a_plan(app):
    # the town's timetable runs 2026-01-05..2026-02-28; /plan answers such a date with a code
    r = app.test_client().get("/api/v1/isochrone", query_string={
        "from": "43.7305,7.4215", "datetime": "2027-06-01T08:00", "modes": "TRANSIT"})
    assert r.status_code == 200
    assert (r.get_json()["features"], r.get_json()["code"]) == ([], "OUTSIDE_SERVICE_PERIOD")
