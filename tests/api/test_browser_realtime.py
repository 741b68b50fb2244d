"""The demo page with real-time data, in Debian's Chromium driven by Playwright: `trajet serve`
on the BART bundle polling BART's trip updates and alert (local files), a trip planned for
2019-08-07 10:45 shows a delay (scheduled time struck through) and the alert's text. The
screenshot lands in ``test-output/demo_realtime.png``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.api.browser_support import OUT, require_browser
from tests.api.live_server import LiveServer
from tests.api.test_browser import _open
from tests.bart_rt import AVAILABLE, RT, bart_rt_bundle

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="../shared/data/gtfs_rt is missing")

require_browser()


@pytest.fixture(scope="module")
def rt_server(bundles_dir, tmp_path_factory):
    bundle = bart_rt_bundle(bundles_dir)
    work = tmp_path_factory.mktemp("rtweb")
    live = LiveServer(bundle, work / "serve.log", env={"TRAJET_OBSERVATIONS_DB": str(work / "obs.sqlite")},
                      extra_args=("--realtime", str(RT / "bart-trip-updates.pb"),
                                  "--realtime", str(RT / "bart-alerts.pb"),
                                  "--realtime-every", "1s", "--realtime-max-age", "off")).start()
    try:
        yield live.base_url, bundle
    finally:
        live.stop()


def _stop_ll(bundle: Path, stop_id: str) -> str:
    from loaders.bundle import load_bundle

    tt = load_bundle(bundle).timetable
    i = int(np.flatnonzero(np.asarray(tt.stop_ids) == stop_id)[0])
    return f"{tt.stop_lat[i]:.6f},{tt.stop_lon[i]:.6f}"


def test_the_page_shows_a_delay_and_the_alert(rt_server, browser):
    base, bundle = rt_server
    OUT.mkdir(exist_ok=True)
    page, errors = _open(browser, base, 1200, 800)
    page.fill("#from", _stop_ll(bundle, "SFIA"))
    page.fill("#to", _stop_ll(bundle, "DUBL"))
    page.dispatch_event("#from", "change")
    page.dispatch_event("#to", "change")
    page.fill("#date", "2019-08-07")
    page.fill("#time", "10:45")
    page.uncheck("input[name=mode][value=WALK]")
    page.click("#plan-button")
    page.wait_for_function("!document.querySelector('#plan-button').disabled", timeout=30_000)
    page.wait_for_selector("#itineraries .alert", timeout=10_000)
    page.locator("#itineraries .reliability").first.scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / "demo_realtime.png"))
    assert page.locator("#itineraries li.itinerary").count() >= 1
    assert page.locator("#itineraries .delay.delay-late, #itineraries .delay.delay-slight").count() >= 1
    assert page.locator("#itineraries s.scheduled").count() >= 1
    alert = page.locator("#itineraries .alert").first.inner_text()
    assert "major delay at Montgomery St." in alert
    assert page.locator("#itineraries .reliability").count() >= 1
    assert errors == []
    page.close()
