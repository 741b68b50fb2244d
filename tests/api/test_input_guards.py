"""Issue 17 items 4 and 7: bodies and query strings are checked in one place before any view
reads them (JSON depth and size, repeated parameters, non-ASCII digits, control characters,
``//path``)."""
import io

import pytest

from tests.api.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
PLAN = "/api/v1/plan?from=43.7301,7.4201&to=43.7301,7.4260&datetime=2026-01-12T08:30"


@pytest.fixture
def ingest_client(make_app):
    return make_app(ingest_token=TOKEN).test_client()


# --- item 4 ----------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [33, 5_000, 200_000])
def test_deeply_nested_json_is_refused_before_parsing(ingest_client, depth):
    body = b'{"observations": ' + b"[" * depth + b"]" * depth + b"}"
    r = ingest_client.post("/api/v1/parking/observations", data=body, headers=AUTH)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["code"] == "JSON_TOO_DEEP" and "32" in r.get_json()["message"]


def test_nesting_within_the_limit_and_brackets_inside_strings_are_fine(ingest_client):
    body = b'{"observations": [{"facility_id": "' + b"[" * 100 + b'", "timestamp": "x"}]}'
    r = ingest_client.post("/api/v1/parking/observations", data=body, headers=AUTH)
    assert r.status_code == 400 and r.get_json()["code"] == "MALFORMED_DATETIME"


def test_a_chunked_body_over_the_limit_is_a_413(make_app):
    client = make_app(ingest_token=TOKEN, max_body_bytes=2_000).test_client()
    data = b'{"observations": [' + b'{"facility_id": "P1"},' * 500 + b"{}]}"
    r = client.post("/api/v1/parking/observations", input_stream=io.BytesIO(data),
                    headers={**AUTH, "Transfer-Encoding": "chunked"},
                    environ_overrides={"wsgi.input_terminated": True})
    assert r.status_code == 413, r.get_json()
    assert r.get_json()["code"] == "PAYLOAD_TOO_LARGE"


# --- item 7 ----------------------------------------------------------------------------------
def test_a_repeated_parameter_is_refused_naming_it(client):
    r = client.get(PLAN + "&from=43.7302,7.4202")
    assert r.status_code == 400
    body = r.get_json()
    assert (body["code"], body["field"]) == ("REPEATED_PARAMETER", "from")


@pytest.mark.parametrize("digits", ["１５００", "١٥٠٠", "۱۵۰۰", "15\u0660\u0660"])
def test_only_ascii_digits_are_numbers(client, digits):
    r = client.get(PLAN + f"&max_walk_m={digits}")
    assert r.status_code == 400
    body = r.get_json()
    assert (body["code"], body["field"]) == ("MALFORMED_PARAMETER", "max_walk_m")
    assert "ASCII digits" in body["message"]


def test_non_ascii_digits_in_coordinates_are_refused(client):
    r = client.get("/api/v1/plan?from=４３.7301,7.4201&to=43.7301,7.4260")
    assert (r.status_code, r.get_json()["field"]) == (400, "from")


@pytest.mark.parametrize("char", ["%00", "%1F", "%7F", "%0A", "%C2%85"])
def test_a_control_character_in_a_parameter_is_refused(client, char):
    r = client.get(PLAN.replace("08:30", "08:30" + char))
    assert r.status_code == 400
    body = r.get_json()
    assert (body["code"], body["field"]) == ("MALFORMED_PARAMETER", "datetime")
    assert "control character" in body["message"]


def test_a_control_character_in_a_parameter_name_is_refused(client):
    r = client.get(PLAN + "&x%00y=1")
    assert r.status_code == 400 and r.get_json()["code"] == "MALFORMED_PARAMETER"


@pytest.mark.parametrize("path", ["//api/v1/info", "//evil.example/api/v1/info", "/api//v1/info"])
def test_a_double_slash_never_redirects_to_the_host_header(client, path):
    # the raw request line's path (a test client would read "//host/path" as a URL with a host)
    r = client.get("/", headers={"Host": "evil.example"}, environ_overrides={"PATH_INFO": path})
    assert r.status_code == 404
    assert "Location" not in r.headers
    assert r.get_json()["code"] == "NOT_FOUND"
