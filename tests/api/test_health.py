"""/healthz answers at once; /readyz (and every endpoint needing the network) waits for the load."""
import threading

import api.state
from loaders.bundle import load_bundle


def test_healthz_answers_while_the_network_is_still_loading_and_readyz_says_503(make_app, monkeypatch):
    release = threading.Event()

    def slow_load(*args, **kwargs):
        release.wait(10)
        return load_bundle(*args, **kwargs)

    monkeypatch.setattr(api.state, "load_bundle", slow_load)
    app = make_app(load_in_background=True)
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["code"] == "NOT_READY" and ready.headers["Retry-After"] == "2"
    assert client.get("/api/v1/stops").get_json()["code"] == "NOT_READY"
    release.set()
    assert app.extensions["trajet"].wait(10)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.get_json()
    assert body["status"] == "ready" and len(body["data_version"]) == 16


def test_a_bundle_that_cannot_be_loaded_keeps_readyz_at_503_naming_the_problem(make_app, tmp_path):
    client = make_app(bundle_dir=tmp_path / "nowhere").test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["code"] == "BUNDLE_ERROR" and "nowhere is not a trajet bundle" in body["message"]
    assert client.get("/api/v1/info").get_json()["code"] == "BUNDLE_ERROR"
