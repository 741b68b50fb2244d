"""Choosing a car park by expected door-to-door time (engine.parking.choice): the rules on
hand-made forecasts, and the forecast calibration on the tiny town's history (Parking Centre is
full every weekday 14:00-17:59, data_samples/tiny_town/README.md)."""
import datetime as dt
import zoneinfo

import numpy as np
import pytest

from engine.parking import PROFILE_PRIOR_N, ForecastBasis, LiveObservations, forecast, observed_p_free
from engine.parking.choice import (
    NO_CHOICE,
    Outlook,
    ParkingPolicy,
    avoided_reason,
    choose_facility,
    outlook,
    rank,
)
from loaders.bundle import load_bundle

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def view(p_free, search_s, basis=ForecastBasis.PROFILE, at=0):
    n = len(p_free)
    return Outlook(facility_idx=np.arange(n, dtype=np.int32), arrive_utc_s=np.full(n, at, np.int64),
                   p_free=np.asarray(p_free, float), expected_free=np.full(n, 10.0),
                   occupancy=np.full(n, 0.5), expected_search_s=np.asarray(search_s, float),
                   basis=np.full(n, int(basis), np.int8))


def test_the_least_expected_total_wins_and_the_congested_one_is_never_proposed():
    # facility 0: nearest but p_free 0.1 (avoided); 1: risky but quick; 2: sure but far
    v = view([0.1, 0.5, 0.99], [440.0, 240.0, 0.0])
    choice = rank(v, drive_s=[100, 100, 100], walk_s=[30, 60, 400])
    # totals: 100 + 120 + 30 + 440 = 690 (avoided), 100 + 120 + 60 + 240 = 520, 100 + 120 + 400 = 620
    assert choice.total_s.tolist() == [690.0, 520.0, 620.0]
    assert choice.avoided.tolist() == [True, False, False]
    assert choice.chosen == 1
    assert choice.fallback == 2                    # p_free 0.5 < 0.8: the next best with more room
    assert choice.listed_avoided.tolist() == [0]   # nearer on foot, under the threshold


def test_a_facility_lost_only_to_its_search_time_is_listed():
    # facility 0 is quicker ignoring occupancy (static 250 s) but expects 300 s of search
    v = view([0.4, 1.0], [300.0, 0.0])
    choice = rank(v, drive_s=[100, 100], walk_s=[30, 200])
    assert choice.chosen == 1 and not choice.avoided.any()
    assert choice.listed_avoided.tolist() == [0]
    assert choice.fallback == NO_CHOICE            # the chosen one is sure enough


def test_a_full_car_park_far_from_any_other_costs_its_diversion():
    # A: 1 min walk, 80% chance of a space (96 s expected wait); B: 6 min walk, surely free.
    # Without the drives between them A wins: 100 + 96 + 120 + 60 = 376 < 100 + 120 + 360 = 580.
    v = view([0.8, 1.0], [96.0, 0.0])
    assert rank(v, drive_s=[100, 100], walk_s=[60, 360]).chosen == 0
    # 20 min round the one-way system from A to B: full at A costs 20% of (1200 + 360 - 60) more
    far = rank(v, drive_s=[100, 100], walk_s=[60, 360],
               drive_between_s=[[np.inf, 1200], [1200, np.inf]])
    assert far.total_s[0] == pytest.approx(376 + 0.2 * (1200 + 0 + 360 - 60))
    assert far.total_s[1] == pytest.approx(580)   # surely free: nothing to divert for
    assert far.chosen == 1
    # B a minute's drive from A: A is worth the try (376 + 0.2 * 360 = 448)
    near = rank(v, drive_s=[100, 100], walk_s=[60, 360],
                drive_between_s=[[np.inf, 60], [60, np.inf]])
    assert near.total_s[0] == pytest.approx(448) and near.chosen == 0


def test_ties_go_to_the_higher_p_free_then_the_lower_index():
    v = view([0.9, 0.95, 0.95], [0.0, 0.0, 0.0])
    choice = rank(v, drive_s=[100, 100, 100], walk_s=[50, 50, 50])
    assert choice.chosen == 1


def test_when_every_facility_is_congested_there_is_no_choice():
    choice = rank(view([0.05, 0.1], [460.0, 430.0]), drive_s=[10, 20], walk_s=[10, 20])
    assert choice.chosen == NO_CHOICE and choice.fallback == NO_CHOICE
    assert choice.listed_avoided.tolist() == [0, 1]


def test_the_policy_checks_its_values():
    with pytest.raises(ValueError, match="min_p_free must be between 0 and 1"):
        ParkingPolicy(min_p_free=-0.1)
    with pytest.raises(ValueError, match="park_s must be >= 0"):
        ParkingPolicy(park_s=-1)


@pytest.fixture(scope="module")
def parking(tiny_town_bundle):
    return load_bundle(tiny_town_bundle).parking


def test_without_live_data_p_free_leans_on_the_observed_share_of_the_hour(parking):
    t = int(dt.datetime(2026, 1, 14, 15, 30, tzinfo=PARIS).timestamp())
    share, n = observed_p_free(parking.profile, [0, 1], t)
    # Parking Centre was full in every weekday reading of 15:00 and 16:00; Parking Gare never
    assert share.tolist() == [0.0, 1.0]
    assert n[0] > 30                               # about 8 weeks of weekdays
    fc = forecast(parking, [0, 1], t)
    # the blend (n * share + PROFILE_PRIOR_N * p_model) / (n + PROFILE_PRIOR_N), p_model in 0..1
    assert fc.p_free[0] <= PROFILE_PRIOR_N / (n[0] + PROFILE_PRIOR_N)
    assert fc.p_free[1] >= n[1] / (n[1] + PROFILE_PRIOR_N)
    v = outlook(parking, [0, 1], t)                 # the planner reads the forecast as it is
    assert v.p_free == pytest.approx(fc.p_free)
    assert v.expected_search_s[0] == pytest.approx((1 - v.p_free[0]) * 480 + v.p_free[0]
                                                   * 120 * np.clip((v.occupancy[0] - 0.85) / 0.15, 0, 1))


def test_a_live_forecast_is_used_as_the_forecaster_gives_it(parking):
    # Parking Centre reported full at 09:55, when it usually has 80 free spaces: the forecast for
    # 10:10 follows the live report, not the profile's observed share (1.0)
    t = int(dt.datetime(2026, 1, 14, 9, 55, tzinfo=PARIS).timestamp())
    live = LiveObservations.empty(parking.n_facilities)
    live.update([0], [t], [0], parking=parking)
    v = outlook(parking, [0], t + 900, live=live, now_utc_s=t)
    fc = forecast(parking, [0], t + 900, live=live, now_utc_s=t)
    assert v.basis[0] == ForecastBasis.LIVE
    assert v.p_free[0] == fc.p_free[0] < 0.2
    assert outlook(parking, [0], t + 900).p_free[0] > 0.99


def test_arrive_by_forecasts_at_the_latest_arrival_that_still_makes_it(parking):
    deadline = int(dt.datetime(2026, 1, 14, 14, 10, tzinfo=PARIS).timestamp())
    choice = choose_facility(parking, [0, 1], drive_s=[98.0, 23.0], walk_s=[35.0, 497.0],
                             arrive_by_utc_s=deadline)
    v = choice.outlook
    # Parking Centre fills up then (its search time changes fast): the facility arrival plus its
    # expected search at that instant, 2 min to park and the walk meet the deadline
    assert 0.2 < v.p_free[0] < 0.8
    reach = v.arrive_utc_s + v.expected_search_s + 120 + np.array([35.0, 497.0])
    assert np.abs(reach - deadline).max() < 2
    assert (choice.depart_utc_s == deadline - np.round(choice.total_s)).all()


def test_the_reason_says_usually_full_or_often_full():
    v = view([0.1, 0.4], [432.0, 288.0], at=int(dt.datetime(2026, 1, 14, 15, 30,
                                                             tzinfo=PARIS).timestamp()))

    class _P:
        facility_name = np.array(["Parking du Casino", "Parking des Pêcheurs"])
        facility_ids = np.array(["a", "b"])

    assert avoided_reason(_P, v, 0, "Europe/Paris") == \
        "Parking du Casino is usually full at 15:30 (10% chance of a space)"
    assert avoided_reason(_P, v, 1, "Europe/Paris") == \
        "Parking des Pêcheurs is often full at 15:30 (40% chance of a space, 5 min expected to find one)"
