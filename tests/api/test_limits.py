"""Issue 17 item 5 (the API's part): the work one request may ask for is bounded, heavy requests
pass a per-worker lane that the health probes never wait on, and per-client rate limits exist."""
import threading
import time

import pytest

ISO = "/api/v1/isochrone?from=43.7301,7.4201&datetime=2026-01-12T08:30"
ALL_MODES = "WALK,BICYCLE,CAR_PARK,PARK_AND_RIDE,BIKE_AND_RIDE,TRANSIT"


def test_an_isochrone_over_the_work_bound_is_refused_before_it_runs(make_app):
    client = make_app(max_isochrone_mode_minutes=180).test_client()
    r = client.get(ISO + f"&modes={ALL_MODES}&minutes=90&max_walk_m=10000")
    assert r.status_code == 422
    body = r.get_json()
    assert (body["code"], body["field"]) == ("TOO_MUCH_WORK", "minutes")
    assert "540 mode-minutes" in body["message"] and "180" in body["message"]
    assert client.get(ISO + "&modes=WALK,TRANSIT&minutes=90").status_code == 200
    assert client.get(ISO + f"&modes={ALL_MODES}&minutes=30").status_code == 200


def test_the_work_bound_is_configurable(make_app):
    client = make_app(max_isochrone_mode_minutes=20).test_client()
    assert client.get(ISO + "&modes=WALK,BICYCLE&minutes=10").status_code == 200
    assert client.get(ISO + "&modes=WALK,BICYCLE&minutes=11").get_json()["code"] == "TOO_MUCH_WORK"


def test_a_busy_heavy_lane_answers_503_while_plans_and_probes_go_on(make_app):
    app = make_app(heavy_concurrency=1, heavy_queue_wait_s=0.3)
    client = app.test_client()
    lane = app.extensions["trajet_heavy_lane"]
    assert lane.semaphore.acquire(timeout=1)  # another isochrone is being computed
    try:
        t0 = time.perf_counter()
        r = client.get(ISO + "&modes=WALK")
        assert (r.status_code, r.get_json()["code"]) == (503, "BUSY") and r.headers["Retry-After"]
        assert time.perf_counter() - t0 < 2
        t0 = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/v1/plan?from=43.7301,7.4201&to=43.7301,7.4260"
                          "&datetime=2026-01-12T08:30").status_code == 200
        assert time.perf_counter() - t0 < 2
    finally:
        lane.semaphore.release()
    assert client.get(ISO + "&modes=WALK").status_code == 200


def test_the_lane_is_released_after_every_heavy_request(make_app):
    app = make_app(heavy_concurrency=1, heavy_queue_wait_s=0.5, max_isochrone_mode_minutes=180)
    client = app.test_client()
    for _ in range(3):
        assert client.get(ISO + "&modes=WALK").status_code == 200
    assert client.get(ISO + "&modes=WALK&minutes=abc").status_code == 400
    assert client.get(ISO + f"&modes={ALL_MODES}&minutes=90").status_code == 422
    assert app.extensions["trajet_heavy_lane"].semaphore.acquire(timeout=0.1)


def test_rate_limits_are_off_by_default(client):
    for _ in range(30):
        assert client.get("/api/v1/stops").status_code == 200


def test_a_client_over_its_rate_limit_gets_a_json_429_and_probes_are_exempt(make_app):
    client = make_app(rate_limit="3/minute").test_client()
    for _ in range(3):
        assert client.get("/api/v1/stops").status_code == 200
    r = client.get("/api/v1/stops")
    assert r.status_code == 429
    assert r.get_json()["code"] == "TOO_MANY_REQUESTS" and int(r.headers["Retry-After"]) > 0
    for _ in range(10):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
    other = client.get("/api/v1/stops", environ_overrides={"REMOTE_ADDR": "127.0.0.9"})
    assert other.status_code == 200  # per client


def test_heavy_requests_have_their_own_rate(make_app):
    client = make_app(rate_limit_heavy="2/minute").test_client()
    assert [client.get(ISO + "&modes=WALK").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/v1/stops").status_code == 200


@pytest.mark.parametrize("value", ["lots", "5 per fortnight"])
def test_a_bad_rate_is_a_config_error_naming_it(make_app, value):
    from api.config import ConfigError

    with pytest.raises(ConfigError, match="rate_limit"):
        make_app(rate_limit=value)


def test_health_probes_answer_while_heavy_isochrones_run(make_app):
    app = make_app(heavy_concurrency=1)
    stop = threading.Event()

    def heavy():
        c = app.test_client()
        while not stop.is_set():
            c.get(ISO + "&modes=WALK,TRANSIT&minutes=90")

    threads = [threading.Thread(target=heavy) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        probe = app.test_client()
        worst = 0.0
        for _ in range(20):
            t0 = time.perf_counter()
            assert probe.get("/healthz").status_code == 200
            worst = max(worst, time.perf_counter() - t0)
            time.sleep(0.02)
        assert worst < 1.0
    finally:
        stop.set()
        for t in threads:
            t.join(30)
