"""`trajet plan --realtime` and `trajet info --realtime` on BART with its trip updates and alert."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from api.cli import main
from tests.bart_rt import AVAILABLE, RT, bart_rt_bundle

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="../shared/data/gtfs_rt is missing")
FEEDS = ["--realtime", str(RT / "bart-trip-updates.pb"), "--realtime", str(RT / "bart-alerts.pb")]


@pytest.fixture(scope="module")
def bundle(bundles_dir):
    return bart_rt_bundle(bundles_dir)


def run(*args):
    return CliRunner().invoke(main, [*map(str, args)])


def test_plan_prints_delays_alerts_and_reliability(bundle):
    result = run("plan", bundle, "--from", "stop:SFIA", "--to", "stop:DUBL", "--depart",
                 "2019-08-07T10:45", *FEEDS)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "72 trip updates" in out and "E003 trip_id not in the static feed" in out
    assert "applied: 64 trips with real-time times" in out
    assert "real time: 19 min late (scheduled 10:52-11:56)" in out
    assert "ALERT SIGNIFICANT_DELAYS: There is a major delay at Montgomery St." in out
    assert "reliability: tight connection: 75 %" in out


def test_plan_json_has_the_realtime_fields_and_an_unreadable_feed_is_reported(bundle):
    result = run("plan", bundle, "--from", "stop:SFIA", "--to", "stop:DUBL", "--depart",
                 "2019-08-07T10:45", *FEEDS, "--realtime", RT / "invalid.pb", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    leg = doc["itineraries"][0]["legs"][1]
    assert leg["realtime"] is True and leg["delay_s"] > 0
    assert leg["scheduled_start_time"] == "2019-08-07T10:52:00-07:00"
    assert leg["alerts"][0]["effect"] == "SIGNIFICANT_DELAYS"
    assert doc["itineraries"][0]["reliability"].startswith("tight connection")
    assert "not a GTFS-Realtime FeedMessage" in doc["realtime"]["feeds"][2]["error"]


def test_info_shows_the_feed_report(bundle):
    result = run("info", bundle, "--realtime", RT / "bart-trip-updates.pb", "--json")
    assert result.exit_code == 0, result.output
    feed = json.loads(result.output)["realtime"]["feeds"][0]
    assert feed["rejected"]["E003"]["count"] == 18 and feed["entities"]["trip_updates"] == 72
    text = run("info", bundle, "--realtime", RT / "bart-trip-updates.pb").output
    assert "rejected    18  E003" in text and "not applied     8  ADDED_trip" in text
