"""Issue 17 items 1-2: every number of a posted observation is bounded, old timestamps, duplicates
and conflicts follow stated rules, and a stored row the API cannot use is skipped, never a 500."""
import datetime as dt
import sqlite3

import pytest

from tests.api.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = "2026-01-12T08:30:00+01:00"
NOW_S = dt.datetime.fromisoformat(NOW).timestamp()


@pytest.fixture
def ingest(make_app):
    def build(**overrides):
        app = make_app(ingest_token=TOKEN, **overrides)
        app.extensions["trajet"].clock = lambda: NOW_S
        return app
    return build


def _post(client, *items):
    return client.post("/api/v1/parking/observations", json={"observations": list(items)},
                       headers=AUTH)


def _item(**values):
    return {"facility_id": "P1", "timestamp": NOW, **values}


# --- item 1: bounds --------------------------------------------------------------------------
@pytest.mark.parametrize("value", [2**31, 10**30, 2**63, 2**64 + 5])
@pytest.mark.parametrize("name", ["free_spaces", "occupied", "capacity"])
def test_a_count_beyond_int32_is_refused_naming_the_field(ingest, name, value):
    client = ingest().test_client()  # P2: capacity unknown, so only the bound stops it
    item = {**(_item(free_spaces=10) if name == "capacity" else _item()), "facility_id": "P2"}
    item[name] = value
    r = _post(client, item)
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert body["code"] == "OUT_OF_RANGE" and body["field"] == f"observations[0].{name}"
    assert client.get("/api/v1/parking").status_code == 200


def test_a_capacity_far_above_the_known_one_is_refused(ingest):
    client = ingest().test_client()  # P1 holds 300 spaces; the factor is 1.5
    r = _post(client, _item(free_spaces=10, capacity=20_000))
    assert r.status_code == 422
    body = r.get_json()
    assert (body["code"], body["field"]) == ("OUT_OF_RANGE", "observations[0].capacity")
    assert "300" in body["message"] and "1.5" in body["message"]
    assert _post(client, _item(free_spaces=10, capacity=450)).status_code == 201  # 300 x 1.5


def test_a_capacity_of_a_facility_of_unknown_size_has_an_absolute_cap(ingest):
    client = ingest(max_unknown_capacity=5_000).test_client()  # P2's capacity is unknown
    r = _post(client, {**_item(free_spaces=10, capacity=5_001), "facility_id": "P2"})
    assert (r.status_code, r.get_json()["field"]) == (422, "observations[0].capacity")
    r = _post(client, {**_item(free_spaces=5_001), "facility_id": "P2"})
    assert (r.status_code, r.get_json()["field"]) == (422, "observations[0].free_spaces")
    assert _post(client, {**_item(free_spaces=10, capacity=5_000), "facility_id": "P2"}).status_code == 201


def test_free_spaces_may_not_exceed_the_capacity_sent(ingest):
    r = _post(ingest().test_client(), _item(free_spaces=200, capacity=100))
    assert (r.status_code, r.get_json()["code"]) == (422, "EXCEEDS_CAPACITY")


# --- item 2: old timestamps, duplicates, conflicts --------------------------------------------
@pytest.mark.parametrize("stamp", ["1970-01-01T00:00:00Z", "2000-01-01T00:00:00Z",
                                   "2026-01-05T08:29:00+01:00"])
def test_an_observation_older_than_the_window_is_refused(ingest, stamp):
    r = _post(ingest().test_client(), _item(free_spaces=5), _item(free_spaces=5, timestamp=stamp))
    assert r.status_code == 422
    body = r.get_json()
    assert (body["code"], body["field"]) == ("STALE_TIMESTAMP", "observations[1].timestamp")
    assert "observation 1" in body["message"] and "7 days" in body["message"]


def test_the_age_window_is_configurable(ingest):
    client = ingest(max_observation_age_s=3600).test_client()
    assert _post(client, _item(free_spaces=5, timestamp="2026-01-12T07:31+01:00")).status_code == 201
    assert _post(client, _item(free_spaces=5, timestamp="2026-01-12T07:29+01:00")).status_code == 422


def test_an_exact_duplicate_is_accepted_once_stored_once_and_counted(ingest):
    client = ingest().test_client()
    first = _post(client, _item(free_spaces=5, capacity=300))
    assert first.status_code == 201 and first.get_json()["duplicates"] == 0
    again = _post(client, _item(free_spaces=5, capacity=300), _item(free_spaces=5, capacity=300),
                  _item(free_spaces=6, timestamp="2026-01-12T08:20+01:00"))
    assert again.status_code == 201
    body = again.get_json()
    assert body["accepted"] == 3 and body["duplicates"] == 2
    assert body["ids"][:2] == first.get_json()["ids"] * 2  # the stored row's id, idempotent
    assert client.get("/api/v1/info").get_json()["live_observations"] == 2


def test_a_conflicting_value_at_the_same_instant_is_refused_naming_the_row(ingest):
    client = ingest().test_client()
    assert _post(client, _item(free_spaces=5)).status_code == 201
    r = _post(client, _item(free_spaces=4, timestamp="2026-01-12T08:00+01:00"), _item(free_spaces=9))
    assert r.status_code == 409
    body = r.get_json()
    assert (body["code"], body["field"]) == ("CONFLICT", "observations[1]")
    assert "free_spaces 5" in body["message"]
    # all or nothing: the first item of the refused batch was not stored either
    assert client.get("/api/v1/info").get_json()["live_observations"] == 1
    # the same rule inside one batch
    r = _post(client, _item(free_spaces=1, timestamp="2026-01-12T07:00+01:00"),
              _item(free_spaces=2, timestamp="2026-01-12T07:00+01:00"))
    assert (r.status_code, r.get_json()["field"]) == (409, "observations[1]")


# --- item 1: the read path --------------------------------------------------------------------
BAD_ROWS = [("P1", int(NOW_S) - 60, 2**31, 2**31), ("P1", int(NOW_S) - 50, 10**30, None),
            ("P1", int(NOW_S) - 40, "many", None), ("P1", "yesterday", 4, None),
            ("P1", int(NOW_S) - 30, -3, None), ("P1", int(NOW_S) - 20, 50, 10),
            ("P1", int(NOW_S) - 10, 5, 0)]


def _write_rows_directly(path, rows):
    """Rows an older server (or a hand edit) left in the store, bypassing the API's checks."""
    from api.observations import ObservationStore

    ObservationStore(path).close()  # the table exists
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO observations (facility_id, time_utc_s, free_spaces, capacity, "
                       "received_utc_s) VALUES (?, ?, ?, ?, 0)",
                       [(f, t, str(v) if isinstance(v, int) and v > 2**62 else v, c)
                        for f, t, v, c in rows])


def test_a_stored_row_the_api_cannot_use_is_skipped_and_counted_everywhere(make_app, tmp_path):
    db = tmp_path / "obs.sqlite"
    _write_rows_directly(db, [*BAD_ROWS, ("P1", int(NOW_S) - 5, 42, 300)])
    app = make_app()  # a restart onto the old database
    app.extensions["trajet"].clock = lambda: NOW_S
    client = app.test_client()
    parking = client.get("/api/v1/parking")
    assert parking.status_code == 200
    p1 = {f["id"]: f["properties"] for f in parking.get_json()["features"]}["P1"]
    assert p1["last_observation"]["free_spaces"] == 42
    info = client.get("/api/v1/info")
    assert info.status_code == 200
    assert info.get_json()["live_observations"] == 1
    assert info.get_json()["skipped_observations"] == len(BAD_ROWS)
    assert client.get("/").status_code == 200
    plan = client.get("/api/v1/plan?from=43.7301,7.4201&to=43.7301,7.4260&modes=CAR_PARK"
                      "&datetime=2026-01-12T08:30")
    assert plan.status_code == 200
    assert client.get("/readyz").status_code == 200


def test_a_bad_row_written_while_serving_is_skipped_too(ingest, tmp_path):
    app = ingest()
    client = app.test_client()
    assert client.get("/api/v1/parking").status_code == 200
    _write_rows_directly(tmp_path / "obs.sqlite", BAD_ROWS[:1])
    assert client.get("/api/v1/parking").status_code == 200
    assert client.get("/api/v1/info").get_json()["skipped_observations"] == 1
    assert _post(client, _item(free_spaces=5)).status_code == 201
    assert client.get("/api/v1/info").get_json()["live_observations"] == 1
