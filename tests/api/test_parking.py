"""/api/v1/parking lists car parks; POST .../observations takes live occupancy behind a token."""
import datetime as dt
import sqlite3

import pytest

from tests.api.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = "2026-01-12T08:30:00+01:00"


@pytest.fixture
def ingest(make_app):
    app = make_app(ingest_token=TOKEN)
    app.extensions["trajet"].clock = lambda: dt.datetime.fromisoformat(NOW).timestamp()
    return app


def _post(client, *items, headers=AUTH):
    return client.post("/api/v1/parking/observations", json={"observations": list(items)},
                       headers=headers)


def _props(client, at=None):
    url = "/api/v1/parking" + (f"?at={at}" if at else "")
    return {f["id"]: f["properties"] for f in client.get(url).get_json()["features"]}


def test_car_parks_are_listed_with_capacity_and_kind(client):
    fc = client.get("/api/v1/parking?at=2026-01-12T08:30").get_json()
    assert fc["at"] == "2026-01-12T08:30:00+01:00"
    p1, p2 = (f["properties"] for f in fc["features"])
    assert (p1["id"], p1["name"], p1["kind"], p1["capacity"]) == ("P1", "Parking du Port", "CAR_PARK", 300)
    assert (p2["kind"], p2["capacity"]) == ("PARK_AND_RIDE", None)
    assert p1["last_observation"] is None and p1["last_observation_time"] is None
    assert fc["features"][0]["geometry"]["coordinates"] == [7.426206, 43.73]


def test_without_a_configured_token_ingest_is_disabled(client):
    r = _post(client, {"facility_id": "P1", "timestamp": NOW, "free_spaces": 3})
    assert r.status_code == 403 and r.get_json()["code"] == "INGEST_DISABLED"


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-of-some-length", f"Basic {TOKEN}"])
def test_a_missing_or_wrong_token_is_a_401(ingest, header):
    r = _post(ingest.test_client(), {"facility_id": "P1", "timestamp": NOW, "free_spaces": 3},
              headers={"Authorization": header} if header else {})
    assert r.status_code == 401
    assert r.get_json()["code"] == "UNAUTHORIZED" and r.headers["WWW-Authenticate"].startswith("Bearer")


def test_posted_observations_are_stored_and_shown_at_once(ingest):
    client = ingest.test_client()
    r = _post(client, {"facility_id": "P1", "timestamp": "2026-01-12T08:00:00+01:00", "occupied": 250},
              {"facility_id": "P2", "timestamp": "2026-01-12T07:10:00Z", "free_spaces": 12,
               "capacity": 80})
    assert r.status_code == 201 and r.get_json() == {"accepted": 2, "ids": [1, 2], "duplicates": 0}
    now = _props(client)
    assert now["P1"]["last_observation"] == {"time": "2026-01-12T08:00:00+01:00", "free_spaces": 50,
                                             "capacity": None}
    assert now["P2"]["last_observation"] == {"time": "2026-01-12T08:10:00+01:00", "free_spaces": 12,
                                             "capacity": 80}
    # an instant before an observation does not see it
    earlier = _props(client, "2026-01-12T08:05")
    assert earlier["P1"]["last_observation_time"] == "2026-01-12T08:00:00+01:00"
    assert earlier["P2"]["last_observation"] is None
    assert client.get("/api/v1/info").get_json()["live_observations"] == 2


def test_a_bad_batch_is_refused_whole_with_every_problem_named(ingest):
    client = ingest.test_client()
    r = _post(client,
              {"facility_id": "P1", "timestamp": NOW, "free_spaces": 10},                  # fine
              {"facility_id": "NOPE", "timestamp": NOW, "free_spaces": 1},                 # 1
              {"facility_id": "P1", "timestamp": "2026-01-12T09:00:00+01:00", "free_spaces": 1},  # 2
              {"facility_id": "P1", "timestamp": NOW, "free_spaces": -4},                  # 3
              {"facility_id": "P1", "timestamp": NOW, "free_spaces": 301},                 # 4
              {"facility_id": "P2", "timestamp": NOW, "occupied": 5},                      # 5
              {"facility_id": "P1", "timestamp": NOW})                                     # 6
    assert r.status_code == 422
    body = r.get_json()
    assert (body["code"], body["field"]) == ("UNKNOWN_FACILITY", "observations[1].facility_id")
    assert [(e["code"], e["field"]) for e in body["errors"]] == [
        ("UNKNOWN_FACILITY", "observations[1].facility_id"),
        ("FUTURE_TIMESTAMP", "observations[2].timestamp"),
        ("NEGATIVE_VALUE", "observations[3].free_spaces"),
        ("EXCEEDS_CAPACITY", "observations[4].free_spaces"),
        ("CAPACITY_UNKNOWN", "observations[5].occupied"),
        ("MISSING_VALUE", "observations[6].free_spaces"),
    ]
    assert "1800 s in the future (tolerance 300 s)" in body["errors"][1]["message"]
    assert _props(client)["P1"]["last_observation"] is None  # nothing stored


def test_a_timestamp_within_the_clock_tolerance_is_accepted(ingest):
    r = _post(ingest.test_client(), {"facility_id": "P1", "timestamp": "2026-01-12T08:34:00+01:00",
                                     "free_spaces": 7})
    assert r.status_code == 201


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"observations": [{"facility_id": "P1", "timestamp": NOW, "free_spaces": "ten"}]},
     "MALFORMED_PARAMETER", "observations[0].free_spaces"),
    ({"observations": [{"facility_id": "P1", "timestamp": "yesterday", "free_spaces": 1}]},
     "MALFORMED_DATETIME", "observations[0].timestamp"),
    ({"observations": [{"facility_id": "P1", "timestamp": NOW, "free": 1}]},
     "UNKNOWN_PARAMETER", "observations[0].free"),
    ({"observations": [{"timestamp": NOW, "free_spaces": 1}]},
     "MISSING_PARAMETER", "observations[0].facility_id"),
    ({"items": []}, "MISSING_PARAMETER", "observations"),
])
def test_unreadable_items_are_a_400_naming_the_item_and_field(ingest, body, code, field):
    r = ingest.test_client().post("/api/v1/parking/observations", json=body, headers=AUTH)
    assert r.status_code == 400
    assert (r.get_json()["code"], r.get_json()["field"]) == (code, field)


def test_every_unreadable_part_is_listed(ingest):
    r = ingest.test_client().post("/api/v1/parking/observations", json={"items": []}, headers=AUTH)
    assert [(e["code"], e["field"]) for e in r.get_json()["errors"]] == [
        ("MISSING_PARAMETER", "observations"), ("UNKNOWN_PARAMETER", "items")]


def test_malformed_json_is_a_400(ingest):
    r = ingest.test_client().post("/api/v1/parking/observations", data=b"{not json",
                                  headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["code"] == "MALFORMED_JSON"


def test_an_oversized_body_is_a_413(make_app):
    client = make_app(ingest_token=TOKEN, max_body_bytes=2_000).test_client()
    item = {"facility_id": "P1", "timestamp": NOW, "free_spaces": 1}
    r = _post(client, *[item] * 100)
    assert r.status_code == 413
    assert r.get_json() == {"code": "PAYLOAD_TOO_LARGE", "message": "the request body is too large",
                            "field": None}


def test_too_many_items_in_one_post_are_refused(make_app):
    client = make_app(ingest_token=TOKEN, max_observations_per_post=2).test_client()
    item = {"facility_id": "P1", "timestamp": "2026-01-01T10:00", "free_spaces": 1}
    r = _post(client, item, item, item)
    assert r.status_code == 422 and r.get_json()["code"] == "TOO_MANY_ITEMS"


def _at_clock(app, iso_time=NOW):
    """The app with its clock at ``iso_time`` (observations older than 7 days are refused)."""
    app.extensions["trajet"].clock = lambda: dt.datetime.fromisoformat(iso_time).timestamp()
    return app


def test_observations_survive_a_restart_and_are_used_by_the_new_app(make_app, tmp_path):
    first = _at_clock(make_app(ingest_token=TOKEN))
    assert _post(first.test_client(), {"facility_id": "P1", "timestamp": "2026-01-10T12:00",
                                       "free_spaces": 42}).status_code == 201
    first.extensions["trajet"].close()  # the process goes away
    second = make_app()  # same observations DB (tmp_path/obs.sqlite), no token needed to read
    props = _props(second.test_client())
    assert props["P1"]["last_observation"] == {"time": "2026-01-10T12:00:00+01:00", "free_spaces": 42,
                                               "capacity": None}
    mode = sqlite3.connect(tmp_path / "obs.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_an_observation_posted_to_one_worker_is_seen_by_another(make_app):
    worker_a, worker_b = _at_clock(make_app(ingest_token=TOKEN)), make_app(ingest_token=TOKEN)
    assert _props(worker_b.test_client())["P1"]["last_observation"] is None  # b has loaded
    _post(worker_a.test_client(), {"facility_id": "P1", "timestamp": "2026-01-10T12:00",
                                   "free_spaces": 9})
    assert _props(worker_b.test_client())["P1"]["last_observation"]["free_spaces"] == 9


# --- forecasts -------------------------------------------------------------------------------
CLOCK = "2026-02-10T09:00:00+01:00"  # a Tuesday, a week after the history ends


@pytest.fixture
def forecasting(make_app, forecast_bundle):
    def build():
        app = make_app(bundle_dir=forecast_bundle, ingest_token=TOKEN)
        app.extensions["trajet"].clock = lambda: dt.datetime.fromisoformat(CLOCK).timestamp()
        return app
    return build


def test_the_forecast_follows_the_occupancy_profile(forecasting):
    client = forecasting().test_client()
    busy = _props(client, "2026-02-10T10:00")["P1"]["forecast"]
    night = _props(client, "2026-02-10T03:00")["P1"]["forecast"]
    assert busy["basis"] == night["basis"] == "profile"
    assert busy["free_spaces"] == pytest.approx(20, abs=2)
    assert night["free_spaces"] == pytest.approx(250, abs=5)
    assert _props(client, "2026-02-10T10:00")["P1"]["p_free"] > 0.9
    unknown = _props(client, "2026-02-10T10:00")["P2"]
    assert unknown["forecast"]["basis"] == "unknown" and unknown["free_spaces"] is None


def test_a_live_observation_is_used_at_once_and_after_a_restart(forecasting):
    first = forecasting()
    before = _props(first.test_client(), "2026-02-10T09:10")["P1"]["forecast"]
    assert before["basis"] == "profile"
    assert _post(first.test_client(), {"facility_id": "P1", "timestamp": CLOCK,
                                       "free_spaces": 0}).status_code == 201
    soon = _props(first.test_client(), "2026-02-10T09:10")["P1"]
    # How far the forecast moves is engine.parking's business (tested there); here: it is used.
    assert soon["forecast"]["basis"] == "live"
    assert soon["forecast"]["free_spaces"] < before["free_spaces"]
    first.extensions["trajet"].close()
    again = _props(forecasting().test_client(), "2026-02-10T09:10")["P1"]  # same DB, new process
    assert again["forecast"] == soon["forecast"]
    assert again["last_observation"]["free_spaces"] == 0
