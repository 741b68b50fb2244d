"""The demo page's bike share in a real browser (Debian's Chromium, Playwright) against
`trajet serve`: stations with bikes and docks, the forecast at the chosen time, a BIKE_SHARE
itinerary drawn and explained.

The bundle is the Helsinki GBFS stations on a generated street grid around their coordinates
(tests/bikeshare_city.py, simulated history: station 003 empties on weekday mornings); the latest
snapshot is the Helsinki fixture where the poller writes its folders.
"""
from __future__ import annotations

import shutil

import pytest

from tests.api.browser_support import OUT, require_browser
from tests.api.live_server import LiveServer
from tests.bikeshare_city import EMPTYING, HELSINKI, SYSTEM, build_city, near

ORIGIN = near(EMPTYING, east_m=-60)
DESTINATION = near("002", east_m=40)

require_browser()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("web-bikeshare")
    build_city(work)
    shutil.copytree(HELSINKI, work / "state" / "gbfs" / SYSTEM)
    live = LiveServer(work / "bundle", work / "serve.log",
                      env={"TRAJET_OBSERVATIONS_DB": str(work / "obs.sqlite"),
                           "TRAJET_REALTIME_STATE_DIR": str(work / "state")}).start()
    try:
        yield live.base_url
    finally:
        live.stop()


def _open(browser, base):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/")
    page.wait_for_selector("body[data-ready=true][data-bikeshare='5']", timeout=30_000)
    return page, errors


def _set_time(page, date: str, time: str) -> None:
    page.fill("#date", date)
    page.fill("#time", time)
    page.dispatch_event("#time", "change")


def test_stations_show_bikes_and_docks_and_the_forecast_at_the_chosen_time(server, browser):
    page, errors = _open(browser, server)
    stations = page.locator(".bikeshare-station")
    assert stations.count() == 5
    # Kapteeninpuistikko's snapshot: 7 bikes, 9 free docks
    kapteeni = page.locator(".bikeshare-station[title='Kapteeninpuistikko']")
    assert kapteeni.locator(".bs-bikes").inner_text() == "7"
    assert kapteeni.locator(".bs-docks").inner_text() == "9"
    assert page.locator(".bikeshare-station.bs-closed").count() == 1         # Viiskulma (004)
    _set_time(page, "2026-03-03", "08:20")                                   # it usually empties
    page.wait_for_selector(".bikeshare-station.bs-bad[title='Kapteeninpuistikko']", timeout=10_000)
    _set_time(page, "2026-03-03", "15:00")
    page.wait_for_selector(".bikeshare-station.bs-good[title='Kapteeninpuistikko']", timeout=10_000)
    kapteeni.click()
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "Now: 7 bikes · 9 free docks" in popup and "almost certainly a bike (≈ 8)" in popup
    assert errors == []
    page.close()


def test_a_bike_share_itinerary_is_drawn_and_explained(server, browser):
    OUT.mkdir(exist_ok=True)
    page, errors = _open(browser, server)
    _set_time(page, "2026-03-03", "08:20")
    page.fill("#from", f"{ORIGIN[1]:.6f},{ORIGIN[0]:.6f}")
    page.fill("#to", f"{DESTINATION[1]:.6f},{DESTINATION[0]:.6f}")
    page.dispatch_event("#from", "change")
    page.dispatch_event("#to", "change")
    for mode in ("WALK", "TRANSIT"):
        page.uncheck(f"input[name=mode][value={mode}]")
    page.check("input[name=mode][value=BIKE_SHARE]")
    page.click("#plan-button")
    page.wait_for_function("!document.querySelector('#plan-button').disabled", timeout=30_000)
    page.screenshot(path=str(OUT / "demo_bikeshare.png"))
    assert page.locator("#itineraries li.itinerary").count() == 1
    assert page.locator(".leaflet-legs-pane path.leg-bike-share").count() == 1
    assert page.locator(".leaflet-legs-pane path.bike-share-end").count() == 2
    note = page.locator(".bikeshare-note").inner_text()
    assert note.startswith("Take a bicycle at ") and "Kapteeninpuistikko" not in note
    assert "Kapteeninpuistikko usually empties by 08:2" in page.locator("#itineraries").inner_text()
    assert errors == []
    page.close()
