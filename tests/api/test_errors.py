"""Every error is JSON {code, message, field}: unknown paths, wrong methods, and never debug mode."""


def test_an_unknown_path_is_a_json_404(client):
    r = client.get("/api/v2/plan")
    assert r.status_code == 404 and r.is_json
    assert r.get_json()["code"] == "NOT_FOUND" and r.get_json()["field"] is None


def test_a_wrong_method_is_a_json_405_with_allow(client):
    r = client.delete("/api/v1/plan")
    assert r.status_code == 405 and r.is_json
    assert r.get_json()["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in r.headers["Allow"]


def test_debug_mode_stays_off_whatever_the_environment_says(make_app, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = make_app()
    assert app.debug is False and app.config["PROPAGATE_EXCEPTIONS"] is False


def test_the_demo_page_and_its_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/app.js" in html
    assert "https://" not in html.replace("https://www.openstreetmap", "")  # no CDN
    for url in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css",
                "/static/app.js", "/static/app.css"):
        r = client.get(url)
        assert r.status_code == 200, url
        r.close()


def test_an_uninstalled_front_end_package_is_a_json_404_saying_how_to_install_it(client):
    r = client.get("/static/vendor/jquery/jquery.js")
    assert r.status_code == 404 and "make vendor" in r.get_json()["message"]
