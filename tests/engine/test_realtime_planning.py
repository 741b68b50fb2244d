"""Planning on a real-time state (engine/planning/realtime*.py, loaders/realtime_state.py) on
BART with its real trip updates and alert (2019-08-07 10:45 local): legs on the overlay with
scheduled times and delays checked against the static timetable, alerts by scope, language and
period, cancelled-trip notices, vehicles, transfer reliability."""
from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest
from google.transit import gtfs_realtime_pb2 as pb

from api.serialize import plan_to_json
from engine import transit as T
from engine.planning.itinerary import StopRef, plan_walk_transit
from engine.planning.planner import plan_trip
from engine.planning.realtime import AlertScope, RealtimeState, ServiceAlert, VehicleInfo
from engine.transit.realtime import trip_stop_times
from loaders.build import BuildOptions, build_network
from loaders.gtfs_rt import feed_from_message, read_feed
from loaders.realtime_adapter import known_ids
from loaders.realtime_state import state_from_feeds
from loaders.report import BuildReport
from tests.conftest import SHARED_DATA

RT = SHARED_DATA / "gtfs_rt"
pytestmark = pytest.mark.skipif(not (RT / "bart-rt.zip").exists(), reason="../shared/data/gtfs_rt is missing")
DAY = T.day_of(dt.date(2019, 8, 7))
DEPART_S = 10 * 3600 + 45 * 60


@pytest.fixture(scope="module")
def bart():
    network, _ = build_network(BuildOptions(gtfs=[RT / "bart-rt.zip"], progress=False), BuildReport())
    known = known_ids(network.timetable)
    feeds = [read_feed(RT / "bart-trip-updates.pb", known=known),
             read_feed(RT / "bart-alerts.pb", known=known)]
    state, report = state_from_feeds(network.timetable, feeds)
    return network, state, report


def _plan(network, state, a, b):
    return plan_walk_transit(network, StopRef(a), StopRef(b), day=DAY, time_s=DEPART_S, realtime=state)


def test_legs_carry_scheduled_and_realtime_times_from_the_overlay(bart):
    network, state, report = bart
    assert report.alerts == 1 and report.overlay["applied"] == 64
    static, tt = network.timetable, state.overlay.timetable
    seen_rt = 0
    for a, b in [("DALY", "RICH"), ("DUBL", "RICH"), ("SFIA", "DUBL"), ("FRMT", "RICH")]:
        for it in _plan(network, state, a, b).itineraries:
            for leg in (x for x in it.legs if x.is_transit):
                info = leg.realtime
                orig = int(state.overlay.original_trip_idx[leg.trip_idx])
                assert str(static.trip_ids[orig]) == leg.trip_id
                _, s_arr, s_dep, _, _ = trip_stop_times(static, orig)
                _, r_arr, r_dep, _, _ = trip_stop_times(tt, leg.trip_idx)
                assert info.scheduled_start_s == s_dep[leg.board_pos]
                assert info.scheduled_end_s == s_arr[leg.alight_pos]
                assert leg.start_s == r_dep[leg.board_pos] and leg.end_s == r_arr[leg.alight_pos]
                assert info.delay_s == leg.end_s - info.scheduled_end_s
                assert info.realtime == (leg.trip_idx >= state.overlay.n_static_trips)
                seen_rt += info.realtime
                if info.realtime:
                    assert info.arrival_uncertainty_s == 30    # every BART update says 30 s
    assert seen_rt >= 4


def test_the_agency_alert_is_on_every_transit_leg_in_the_language_asked(bart):
    network, state, _ = bart
    result = _plan(network, state, "DALY", "RICH")
    leg = next(x for x in result.itineraries[0].legs if x.is_transit)
    assert [a.alert_id for a in leg.realtime.alerts] == ["BSA_187874"]
    out = plan_to_json(result, lang="fr")["itineraries"][0]["legs"][0]
    assert out["alerts"][0]["header_text"].startswith("There is a major delay at Montgomery")
    assert out["alerts"][0]["url"] == "http://www.bart.gov/schedules/advisories"
    assert out["alerts"][0]["effect"] == "SIGNIFICANT_DELAYS"
    assert out["realtime"] is True and out["delay_s"] == leg.realtime.delay_s
    assert out["scheduled_end_time"].startswith("2019-08-07T11:")


def test_alerts_by_scope_period_effect_and_language(bart):
    network, state, _ = bart
    ref = T.service_day_reference(network.timezone, DAY).timestamp()
    daly = int(np.flatnonzero(network.timetable.stop_ids == "DALY")[0])
    texts = {"en": "closed", "fr": "fermé", "": "default"}
    alerts = (
        ServiceAlert("stop", (AlertScope(stop_idx=frozenset({daly})),), header_text=texts),
        ServiceAlert("later", (AlertScope(),), active_periods=((int(ref) + 20 * 3600, None),)),
        ServiceAlert("closure", (AlertScope(),), effect="NO_SERVICE"),
        ServiceAlert("bus", (AlertScope(route_type=3),)),
    )
    st = dataclasses.replace(state, alerts=alerts)
    leg = next(x for x in _plan(network, st, "DALY", "RICH").itineraries[0].legs if x.is_transit)
    assert [a.alert_id for a in leg.realtime.alerts] == ["stop"]
    assert alerts[0].as_dict("fr-CA")["header_text"] == "fermé"
    assert alerts[0].as_dict("de")["header_text"] == "default"
    assert alerts[0].as_dict(None)["header_text"] == "default"


def test_a_cancelled_trip_the_schedule_would_use_gets_a_notice(bart):
    network, _, _ = bart
    static_plan = _plan(network, RealtimeState(), "DALY", "RICH")
    leg = next(x for x in static_plan.itineraries[0].legs if x.is_transit)
    assert leg.realtime.realtime is False and leg.realtime.delay_s == 0
    message = pb.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.timestamp = 1565199921
    e = message.entity.add(id="c")
    e.trip_update.trip.trip_id = leg.trip_id
    e.trip_update.trip.schedule_relationship = pb.TripDescriptor.CANCELED
    state, _ = state_from_feeds(network.timetable, feed_from_message(message, "cancel"))
    it = _plan(network, state, "DALY", "RICH").itineraries[0]
    assert [c.trip_id for c in it.cancelled] == [leg.trip_id]
    assert it.cancelled[0].scheduled_departure_s == leg.start_s
    assert all(x.trip_id != leg.trip_id for x in it.legs)
    notice = plan_to_json(dataclasses.replace(static_plan, itineraries=(it,)))["itineraries"][0]["notices"]
    assert notice[0]["type"] == "TRIP_CANCELLED" and "is cancelled" in notice[0]["message"]


def test_vehicle_stops_away(bart):
    network, state, _ = bart
    it = _plan(network, state, "BALB", "RICH").itineraries[0]
    leg = next(x for x in it.legs if x.is_transit)
    static = network.timetable
    orig = int(state.overlay.original_trip_idx[leg.trip_idx])
    stops, *_ = trip_stop_times(static, orig)
    assert leg.board_pos >= 1
    at = VehicleInfo("v1", None, orig, -1, None, None, stop_idx=int(stops[leg.board_pos - 1]),
                     status="STOPPED_AT")
    st = dataclasses.replace(state, vehicles=(at,))
    leg2 = next(x for x in _plan(network, st, "BALB", "RICH").itineraries[0].legs if x.is_transit)
    assert leg2.realtime.vehicle_stops_away == 1
    coming = dataclasses.replace(at, status="IN_TRANSIT_TO")
    st = dataclasses.replace(state, vehicles=(coming,))
    leg3 = next(x for x in _plan(network, st, "BALB", "RICH").itineraries[0].legs if x.is_transit)
    assert leg3.realtime.vehicle_stops_away == 2


def test_transfer_reliability_uses_uncertainty_or_the_learnt_delays(bart):
    network, state, _ = bart
    it = _plan(network, state, "DUBL", "RICH").itineraries[0]
    (t,) = it.transfer_reliability
    assert t.basis == "realtime_uncertainty"
    assert t.p == pytest.approx(0.5 * (1 + math.erf(t.slack_s / 30 / math.sqrt(2))))
    it = _plan(network, state, "SFIA", "DUBL").itineraries[0]
    (t,) = it.transfer_reliability
    incoming = it.legs[t.from_leg]
    assert not incoming.realtime.realtime and t.basis == "learnt_delays"
    assert t.p == pytest.approx(state.delays.cdf(1, t.slack_s))
    assert it.reliability == ("robust" if t.p >= 0.95 else f"tight connection: {round(t.p * 100)} %")
    out = plan_to_json(_plan(network, state, "SFIA", "DUBL"))["itineraries"][0]
    assert out["transfer_reliability"][0]["p"] == round(t.p, 4) and out["reliability"] == it.reliability


def test_plan_trip_plans_on_the_overlay_like_plan_walk_transit(bart):
    network, state, _ = bart
    a = plan_trip(network, StopRef("DUBL"), StopRef("RICH"), depart_at=dt.datetime(2019, 8, 7, 10, 45),
                  modes=["TRANSIT"], realtime=state)
    b = _plan(network, state, "DUBL", "RICH")
    assert a.itineraries[0].end_s == b.itineraries[0].end_s
    assert a.itineraries[0].reliability == b.itineraries[0].reliability
    # without a state nothing changes: no real-time fields
    c = plan_trip(network, StopRef("DUBL"), StopRef("RICH"), depart_at=dt.datetime(2019, 8, 7, 10, 45),
                  modes=["TRANSIT"])
    assert c.itineraries[0].reliability == "" and c.itineraries[0].legs[0].realtime is None
    assert "reliability" not in plan_to_json(c)["itineraries"][0]
    # another day: the static timetable
    assert state.timetable_for(network.timetable, DAY + 1) is network.timetable
