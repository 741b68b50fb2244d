"""Recommendations recorded by /api/v1/plan (api.recommendations): rows in the real SQLite file,
read back after a restart and by another app on the same file, and the next driver sent
elsewhere, with the reason, once the first car park's expected room is taken.

The town of tests/api/conftest.py with two car parks near its bottom-right corner: Parking du
Port (40 spaces, usually 3 free on weekday days: its fitted profile) right at the destination,
and Parking Sud (100 spaces, usually 60 free) 200 m up the street.
"""
import dataclasses
import datetime as dt
import sqlite3
import zoneinfo

import numpy as np
import pytest

from api.config import ConfigError, load_config
from engine.model import OccupancyHistory, ParkingKind
from engine.parking import fit_occupancy_profile
from loaders.bundle import save_bundle
from tests.api.conftest import make_network, node_lonlat

TZ = zoneinfo.ZoneInfo("Europe/Monaco")
WHEN = "2026-01-14T10:00"                                   # a Wednesday
NOW_S = dt.datetime(2026, 1, 14, 9, 58, tzinfo=TZ).timestamp()
ORIGIN = "{:.6f},{:.6f}".format(*reversed(node_lonlat(3, 2)))
DESTINATION = "{:.6f},{:.6f}".format(*reversed(node_lonlat(0, 5)))


def _history(n_fac: int) -> OccupancyHistory:
    start = dt.datetime(2026, 1, 5, tzinfo=TZ)
    hours = [start + dt.timedelta(hours=h) for h in range(8 * 7 * 24)]
    fac, t, free, cap = [], [], [], []
    for h in hours:
        busy = h.weekday() < 5 and 8 <= h.hour < 18
        for f, capacity, usual in ((0, 40, 3 if busy else 30), (2, 100, 60)):
            fac.append(f)
            t.append(int(h.timestamp()))
            free.append(usual + (h.hour % 2))         # a little spread
            cap.append(capacity)
    return OccupancyHistory(np.array(fac, np.int32), np.array(t, np.int64), np.array(free, np.int32),
                            np.array(cap, np.int32))


@pytest.fixture(scope="module")
def two_car_parks(tmp_path_factory):
    network = make_network()
    pk = network.parking
    lon3, lat3 = node_lonlat(2, 5)
    pk = dataclasses.replace(
        pk, facility_ids=np.array(["P1", "P2", "P3"]),
        facility_name=np.array(["Parking du Port", "Parking Haut", "Parking Sud"]),
        kind=np.array([ParkingKind.CAR_PARK, ParkingKind.PARK_AND_RIDE, ParkingKind.CAR_PARK], np.int8),
        lon=np.r_[pk.lon, lon3], lat=np.r_[pk.lat, lat3], capacity=np.array([40, -1, 100], np.int32),
        car_node_idx=np.r_[pk.car_node_idx, 17].astype(np.int32),
        walk_node_idx=np.r_[pk.walk_node_idx, 17].astype(np.int32), source=np.array(["test"] * 3))
    history = _history(3)
    profile = fit_occupancy_profile(history, pk.capacity, network.timezone)
    pk = dataclasses.replace(pk, history=history, profile=profile)
    out = tmp_path_factory.mktemp("bundles") / "town-two-car-parks"
    save_bundle(dataclasses.replace(network, parking=pk), out)
    return out


@pytest.fixture
def app_on(two_car_parks, tmp_path):
    apps = []

    def factory(db="obs.sqlite", **overrides):
        from api.app import create_app

        app = create_app({"bundle_dir": two_car_parks, "observations_db": tmp_path / db,
                          "load_in_background": False, "compliance_share": 1.0, **overrides})
        app.extensions["trajet"].clock = lambda: NOW_S
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["trajet"].close()


def _car_plan(client, modes="CAR_PARK", when=WHEN):
    r = client.get(f"/api/v1/plan?from={ORIGIN}&to={DESTINATION}&datetime={when}&modes={modes}")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _park(body):
    (it,) = [i for i in body["itineraries"] if i["mode"] == "CAR_PARK"]
    return next(leg for leg in it["legs"] if leg["mode"] == "PARK")["parking"]


def _rows(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT facility_id, arrive_utc_s, p_free, weight, given_utc_s "
                            "FROM recommendations ORDER BY id").fetchall()


def test_a_plan_that_parks_is_recorded_without_who_asked(app_on, tmp_path):
    body = _car_plan(app_on().test_client())
    park = _park(body)
    assert park["facility_id"] == "P1" and park["name"] == "Parking du Port"
    (row,) = _rows(tmp_path / "obs.sqlite")
    it = body["itineraries"][0]
    park_leg = next(leg for leg in it["legs"] if leg["mode"] == "PARK")
    arrive = dt.datetime.fromisoformat(park_leg["start_time"]).timestamp()
    assert row == ("P1", int(arrive), pytest.approx(park["p_space_free"], abs=5e-4), 1.0, int(NOW_S))
    with sqlite3.connect(tmp_path / "obs.sqlite") as conn:
        columns = [c[1] for c in conn.execute("PRAGMA table_info(recommendations)")]
    assert columns == ["id", "facility_id", "arrive_utc_s", "p_free", "weight", "given_utc_s"]


def test_the_next_driver_is_sent_elsewhere_once_the_port_is_taken_and_told_why(app_on):
    # spreading off: the subtraction alone. The Port usually has 3.5 free spaces at 10:00; each
    # driver sent for the same minute counts half a car (one of the two arrives first)
    client = app_on(spread_within_s=0).test_client()
    chosen = [_park(_car_plan(client)) for _ in range(9)]
    assert [p["facility_id"] for p in chosen] == ["P1"] * 7 + ["P3"] * 2
    assert chosen[6]["drivers_heading_there"] == 3.0 and chosen[6]["p_space_free"] > 0.99
    moved = chosen[7]
    assert moved["why"] == ("3 other drivers are heading to Parking du Port; Parking Sud is the better "
                            "bet: Parking Sud, 3 min walk, almost certainly has a space")
    (port,) = moved["avoided"]
    assert port["drivers_heading_there"] == 3.5 and port["p_space_free"] < 0.01
    assert port["reason"] == ("Parking du Port is expected to be full at 10:01 (almost never a space, "
                              "3 other drivers heading there)")


def test_with_spreading_drivers_share_the_car_parks_by_room_from_the_second_one(app_on):
    client = app_on().test_client()              # 2 minutes of tolerance: Sud is 1.5 min further
    chosen = [_park(_car_plan(client))["facility_id"] for _ in range(10)]
    assert chosen[0] == "P1"                     # nobody heading there yet: the best
    # Sud has about 17 times the Port's room: it takes nearly everyone after the first
    assert chosen.count("P3") >= 8


def test_rows_survive_a_restart_and_are_seen_by_another_worker(app_on, tmp_path):
    first = app_on()
    other = app_on()                                  # a second worker on the same SQLite file
    for _ in range(3):
        _car_plan(first.test_client())
    assert len(_rows(tmp_path / "obs.sqlite")) == 3
    log = other.extensions["trajet"].loaded.recommendations
    assert len(log) == 0                              # not synced yet ...
    assert log.pending(int(NOW_S)).n_rows == 3        # ... but on its next read
    first.extensions["trajet"].close()
    restarted = app_on()
    assert len(restarted.extensions["trajet"].loaded.recommendations) == 3
    info = restarted.test_client().get("/api/v1/info").get_json()
    assert info["recommendations"] == {"pending": 3, "compliance_share": 1.0}


def test_an_answer_with_several_itineraries_records_a_share_of_a_driver(app_on, tmp_path):
    body = _car_plan(app_on().test_client(), modes="BICYCLE,CAR_PARK")
    assert len(body["itineraries"]) == 2
    (row,) = _rows(tmp_path / "obs.sqlite")
    assert row[0] == "P1" and row[3] == 0.5


def test_a_look_at_another_day_and_a_disabled_log_record_nothing(app_on, tmp_path):
    _car_plan(app_on().test_client(), when="2026-01-21T10:00")   # a week ahead: not a trip
    assert _rows(tmp_path / "obs.sqlite") == []
    off = app_on(db="off.sqlite", recommendations=False)
    assert off.extensions["trajet"].loaded.recommendations is None
    for _ in range(5):
        assert _park(_car_plan(off.test_client()))["name"] == "Parking du Port"


def test_old_rows_expire_when_new_ones_are_added(app_on, tmp_path):
    app = app_on()
    _car_plan(app.test_client())
    state = app.extensions["trajet"]
    state.clock = lambda: NOW_S + 86_400                            # the next day
    _car_plan(app.test_client(), when="2026-01-15T10:00")
    rows = _rows(tmp_path / "obs.sqlite")
    assert len(rows) == 1 and rows[0][4] == int(NOW_S + 86_400)
    assert state.loaded.recommendations.pending(int(NOW_S + 86_400)).n_rows == 1


def test_the_compliance_share_is_checked():
    with pytest.raises(ConfigError, match="compliance_share"):
        load_config({"compliance_share": 1.5}, environ={})
    assert load_config({"compliance_share": "0.3"}, environ={}).compliance_share == 0.3


def test_serve_passes_the_recommendation_flags_to_the_workers(town_bundle, monkeypatch):
    from click.testing import CliRunner

    import api.serve
    from api.cli import main

    seen = {}
    monkeypatch.setattr(api.serve, "serve", lambda bundle, **kw: seen.update(kw["settings"]))
    result = CliRunner().invoke(main, ["serve", str(town_bundle), "--no-recommendations",
                                       "--compliance-share", "0.3"])
    assert result.exit_code == 0, result.output
    assert seen == {"recommendations": "false", "compliance_share": 0.3}
    env = {f"TRAJET_{k.upper()}": str(v) for k, v in seen.items()}
    config = load_config(environ=env)
    assert (config.recommendations, config.compliance_share) == (False, 0.3)
    bad = CliRunner().invoke(main, ["serve", str(town_bundle), "--compliance-share", "1.5"])
    assert bad.exit_code == 2 and "--compliance-share" in bad.output
