"""Street parking on the demo page, in a real browser (Debian's Chromium driven by Playwright
against `trajet serve` on Porto Alegre's streets): the zones drawn by p(free), a car trip's search
route and advice, and the day chart of a zone's and a car park's popup."""
from __future__ import annotations

import pytest

from tests.api.browser_support import OUT, require_browser
from tests.api.live_server import LiveServer
from tests.porto_alegre import BUSY_DESTINATION, ORIGIN, poa_bundle

require_browser()


@pytest.fixture(scope="module")
def server(bundles_dir, tmp_path_factory):
    """`trajet serve` on Porto Alegre's streets-only bundle."""
    work = tmp_path_factory.mktemp("web-zones")
    live = LiveServer(poa_bundle(bundles_dir), work / "serve.log",
                      env={"TRAJET_OBSERVATIONS_DB": str(work / "obs.sqlite")}).start()
    try:
        yield live.base_url
    finally:
        live.stop()


def _open(browser, base_url):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}"))
    page.goto(base_url + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    page.errors = errors
    return page


def _choose_when(page, date: str, time: str) -> None:
    page.fill("#date", date)
    page.fill("#time", time)
    page.dispatch_event("#date", "change")
    page.dispatch_event("#time", "change")
    page.wait_for_load_state("networkidle")


@pytest.fixture(scope="module")
def page(server, browser):
    page = _open(browser, server)
    _choose_when(page, "2019-05-13", "15:30")
    page.wait_for_function("document.querySelectorAll('path.street-zone').length === 101",
                           timeout=20_000)
    yield page
    page.close()


def test_zones_are_drawn_and_their_popup_charts_the_day(page):
    assert page.locator("path.street-zone").count() == 101
    # the four OSM car parks are markers; the zones are not
    assert page.locator("path.parking-marker").count() == 4
    page.locator("path.street-zone").first.dispatch_event("click")
    # the chart's line: a guess from the zone's size is the same all day (a flat line)
    n_points = page.wait_for_function(
        "() => { const l = document.querySelector('.leaflet-popup-content polyline.chart-line');"
        " return l && l.getAttribute('points').split(' ').length; }", timeout=15_000).json_value()
    assert n_points == 97                                                       # every 15 min
    popup = page.locator(".leaflet-popup-content").last
    text = popup.inner_text()
    assert "estimated from the kerb length" in text
    assert "chance of a space" in text and "a guess from its size" in text
    assert "100 %" not in text
    assert popup.locator("svg.forecast-chart line.chart-now").count() == 1     # 15:30 marked
    assert page.errors == []


def test_a_car_park_popup_has_its_street_name_and_a_chart(page):
    page.evaluate("window.trajet.map.closePopup()")
    page.locator("path.parking-marker").first.dispatch_event("click")
    text = page.wait_for_function(
        "() => { const c = document.querySelector('.leaflet-popup-content');"
        " return c && c.querySelector('.forecast-box .muted') && c.innerText; }",
        timeout=15_000).json_value()
    assert text.startswith("Car park on ")
    assert "CAR_PARK" not in text                     # plain words, not the API's kind code
    # no occupancy data for Porto Alegre's car parks: said, and no line drawn as if known
    assert "No occupancy data" in text
    assert page.locator(".leaflet-popup-content svg.forecast-chart").count() == 0
    assert page.errors == []


def test_a_car_trip_gets_street_advice_and_a_search_route(page):
    OUT.mkdir(exist_ok=True)
    for mode in ("WALK", "TRANSIT"):
        page.uncheck(f'input[name="mode"][value="{mode}"]')
    page.check('input[name="mode"][value="CAR_PARK"]')
    page.fill("#from", f"{ORIGIN[1]},{ORIGIN[0]}")
    page.fill("#to", f"{BUSY_DESTINATION[1]},{BUSY_DESTINATION[0]}")
    page.dispatch_event("#from", "change")
    page.dispatch_event("#to", "change")
    page.click("#plan-button")
    page.wait_for_function("!document.querySelector('#plan-button').disabled", timeout=30_000)
    note = page.locator(".parking-note").first.inner_text()
    assert note.startswith("Park in Rua Ibanor José Tartarotti (90 % chance") or \
        note.startswith("Park in Rua Ibanor José Tartarotti (90% chance")
    assert "min to find a space" in note
    assert page.locator("path.search-route").count() == 1
    assert page.locator(".route-stop").count() >= 2
    page.screenshot(path=str(OUT / "demo_search_route.png"))
    assert page.errors == []


@pytest.fixture(scope="module")
def monaco_page(monaco_bundle, tmp_path_factory, browser):
    """The page on Monaco, whose car parks have a (derived) occupancy profile."""
    work = tmp_path_factory.mktemp("web-zones-monaco")
    live = LiveServer(monaco_bundle, work / "serve.log",
                      env={"TRAJET_OBSERVATIONS_DB": str(work / "obs.sqlite")}).start()
    try:
        page = _open(browser, live.base_url)
        yield page
        page.close()
    finally:
        live.stop()


def test_a_car_park_chart_shows_expected_free_spaces_with_a_band(monaco_page):
    page = monaco_page
    _choose_when(page, "2026-01-12", "15:30")          # a Monday the timetable serves
    assert page.locator("#date-note").is_hidden()      # a served day: no "no service" note
    # Monaco's one tagged street side is drawn as a zone, not as a car-park marker
    assert page.locator("path.street-zone").count() == 1
    assert page.locator("path.parking-marker").count() == 29
    opened = page.evaluate("""() => { let target = null;
        window.trajet.map.eachLayer((l) => { const p = l.feature && l.feature.properties;
          if (!target && p && p.forecast && p.forecast.basis === "profile") target = l; });
        if (target) target.openPopup(); return !!target; }""")
    assert opened
    page.wait_for_function("document.querySelector('.leaflet-popup-content polygon.chart-band')",
                           timeout=15_000)
    popup = page.locator(".leaflet-popup-content").last
    assert "Expected free spaces on 2026-01-12" in popup.inner_text()
    assert popup.locator("line.chart-now").count() == 1
    assert "100 %" not in popup.inner_text() and "0 %" not in popup.inner_text().replace("10 %", "")
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / "demo_car_park_chart.png"))
    assert page.errors == []
