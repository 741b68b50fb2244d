"""The demo page in a real browser: Debian's Chromium driven by Playwright against `trajet serve`.

The browser comes from apt (``make test`` installs it when missing); Playwright never downloads
one. Screenshots land in ``test-output/``. Without Chromium or the npm packages the tests skip and
say why.
"""
from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.api.browser_support import OUT, require_browser
from tests.api.live_server import LiveServer

require_browser()


@pytest.fixture(scope="module")
def server(monaco_bundle, tmp_path_factory):
    """`trajet serve` on a free loopback port, stopped at the end."""
    work = tmp_path_factory.mktemp("web")
    live = LiveServer(monaco_bundle, work / "serve.log",
                      env={"TRAJET_OBSERVATIONS_DB": str(work / "obs.sqlite")}).start()
    try:
        yield live.base_url
    finally:
        live.stop()


def _open(browser, base, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}"))
    page.goto(base + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    return page, errors


def test_the_page_draws_streets_stops_and_car_parks_from_the_api(server, browser):
    page, errors = _open(browser, server, 1200, 800)
    assert page.locator(".leaflet-streets-pane canvas").count() == 1  # street GeoJSON, no tiles
    assert page.locator(".leaflet-stops-pane path.leaflet-interactive").count() == 98  # Monaco's stops
    assert page.locator("path.parking-marker").count() == 29    # its OSM car parks
    assert page.locator("img.leaflet-tile").count() == 0
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", page.input_value("#date"))
    # clicking the map sets the origin, then the destination
    page.click("#map", position={"x": 200, "y": 400})
    page.click("#map", position={"x": 600, "y": 300})
    assert re.fullmatch(r"43\.\d+,7\.\d+", page.input_value("#from"))
    assert re.fullmatch(r"43\.\d+,7\.\d+", page.input_value("#to"))
    assert errors == []
    page.close()


def test_planning_lists_and_draws_an_itinerary(server, browser):
    OUT.mkdir(exist_ok=True)
    page, errors = _open(browser, server, 1200, 800)
    page.fill("#from", "43.7300,7.4200")
    page.fill("#to", "43.7345,7.4262")
    page.dispatch_event("#from", "change")
    page.dispatch_event("#to", "change")
    page.click("#plan-button")
    page.wait_for_function("!document.querySelector('#plan-button').disabled", timeout=20_000)
    page.screenshot(path=str(OUT / "demo_plan.png"))
    assert page.locator("#itineraries li.itinerary").count() >= 1
    assert page.locator(".leaflet-legs-pane path.leg").count() >= 1
    assert errors == [] or all("/api/v1/plan" in e for e in errors)
    page.close()


def test_the_page_fits_a_phone_screen(server, browser):
    OUT.mkdir(exist_ok=True)
    page, errors = _open(browser, server, 390, 844)
    map_box = page.locator("#map").bounding_box()
    panel_box = page.locator(".panel").bounding_box()
    assert map_box["width"] == pytest.approx(390, abs=1)  # full width, map above the panel
    assert panel_box["y"] >= map_box["y"] + map_box["height"] - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.screenshot(path=str(OUT / "demo_phone.png"))
    assert errors == []
    page.close()


def test_the_api_docs_render_every_operation_offline(server, browser):
    page = browser.new_page()
    external: list[str] = []
    page.on("request", lambda req: None if req.url.startswith(server) or req.url.startswith("data:")
            else external.append(req.url))
    page.goto(server + "/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    with urllib.request.urlopen(server + "/api/v1/openapi.json", timeout=10) as r:
        document = json.load(r)
    n_operations = sum(len(ops) for ops in document["paths"].values())
    assert n_operations >= 10  # plan, isochrone, stops, parking (2), network, info, health (2), vehicles
    assert page.locator(".opblock").count() == n_operations
    assert external == []  # Swagger UI and the document come from the app itself
    page.close()
