"""The request time budget is enforced inside the engine (issue 17, item 5): a heavy isochrone over
budget stops computing and answers 503 TIME_BUDGET_EXCEEDED naming the limit, in about the budget.

The app serves the town bundle, then its network is swapped for a synthetic 400 x 400 street
grid (160,000 nodes, bench/synthetic.py, laid out over the same corner of Monaco), where a
90-minute CAR_PARK isochrone settles every node and triangulates a few million points: well
over a minute of work.
"""
import dataclasses
import datetime as dt
import time
import zoneinfo

import numpy as np

from bench.synthetic import grid_street_graph
from engine.model import Network
from engine.planning import reachable_area


def _grid_network() -> Network:
    g = grid_street_graph(400, 400)
    lon, lat = np.asarray(g.node_lon), np.asarray(g.node_lat)
    return Network(timezone="Europe/Monaco", projection=g.projection, street=g,
                   bbox=(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())))


def test_a_heavy_isochrone_over_budget_stops_and_answers_503_naming_the_limit(make_app):
    app = make_app(request_time_budget_s=0.02, compute_threads=1)
    state = app.extensions["trajet"]
    network = _grid_network()
    centre = 200 * 400 + 200
    lon, lat = float(network.street.node_lon[centre]), float(network.street.node_lat[centre])
    when = dt.datetime(2026, 1, 12, 8, tzinfo=zoneinfo.ZoneInfo("Europe/Monaco"))
    for mode in ("WALK", "BICYCLE", "CAR_PARK"):   # snapping trees and cost arrays, built once
        reachable_area(network, (lon, lat), when, mode=mode, max_time_s=60)
    state.loaded = dataclasses.replace(state.loaded, network=network)
    client = app.test_client()

    t0 = time.perf_counter()
    r = client.get(f"/api/v1/isochrone?from={lat},{lon}&minutes=90&modes=CAR_PARK,WALK,BICYCLE"
                   "&max_walk_m=10000&datetime=2026-01-12T08:00")
    elapsed = time.perf_counter() - t0
    assert r.status_code == 503 and r.is_json
    body = r.get_json()
    assert body["code"] == "TIME_BUDGET_EXCEEDED" and r.headers["Retry-After"] == "1"
    assert "car street search stopped" in body["message"]
    assert "0.02 s time budget" in body["message"]
    assert elapsed < 1.0
    # the computation stopped: the single compute thread is free again at once (it used to run
    # on, dropped, for the minute and more the whole isochrone takes)
    assert state.pool.submit(lambda: "free").result(timeout=1.0) == "free"


def test_an_engine_error_with_a_reason_code_is_a_422_not_a_500(make_app, monkeypatch):
    """The shared mapping behind every plan and isochrone (AppState.run): an engine error that
    carries a reason code and escaped a view is the client's, named by that code."""
    import api.plan
    from engine.transit.errors import OutsideServicePeriod

    def outside(*args):
        raise OutsideServicePeriod(22_800, 20_458, 20_512)

    monkeypatch.setattr(api.plan, "_run_isochrone", outside)
    r = make_app().test_client().get("/api/v1/isochrone?from=43.73,7.42&modes=TRANSIT")
    assert r.status_code == 422
    assert r.get_json()["code"] == "OUTSIDE_SERVICE_PERIOD"
    assert "2032-06-04 is outside the service period" in r.get_json()["message"]
