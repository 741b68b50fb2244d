"""Drivers already sent to a car park (engine.parking.pending): their cars taken off the
forecast, expiry, the spreading of drivers by room, and the compliance estimator on simulated
recommendations. Real forecasts come from the tiny town (data_samples/tiny_town: Parking Centre
120 spaces, Parking Gare 60; at 10:00 on a weekday they usually have about 82 and 9 free)."""
import datetime as dt
import zoneinfo

import numpy as np
import pytest
from scipy.special import ndtr

from engine.parking.choice import choose_facility, heading_note, outlook
from engine.parking.pending import (
    EXPIRE_AFTER_STAYS,
    PendingArrivals,
    estimate_compliance,
    spread_choice,
    subtract_pending,
)
from loaders.bundle import load_bundle

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
T10 = int(dt.datetime(2026, 1, 14, 10, 0, tzinfo=PARIS).timestamp())
CENTRE, GARE = 0, 1


@pytest.fixture(scope="module")
def parking(tiny_town_bundle):
    return load_bundle(tiny_town_bundle).parking


def sent(facility, n, at):
    return PendingArrivals(np.full(n, facility), np.full(n, at), np.ones(n))


# -- who is parked when -------------------------------------------------------------------------
def test_a_driver_due_at_the_same_instant_counts_half_and_one_due_earlier_almost_fully():
    p = PendingArrivals([GARE, GARE, CENTRE], [T10, T10 - 600, T10], [1.0, 1.0, 1.0])
    # same instant: Phi(0) = 0.5; 10 min earlier: Phi(2) x exp(-600 / 7200)
    assert p.drivers_at([GARE], T10)[0] == pytest.approx(0.5 + ndtr(2.0) * np.exp(-600 / 7200))
    assert p.drivers_at([CENTRE, 2], T10).tolist() == pytest.approx([0.5, 0.0])
    # half a day later the stays have ended (exponential, mean 2 h)
    assert p.drivers_at([GARE], T10 + 12 * 3600)[0] == pytest.approx(0.0, abs=0.01)
    assert p.cars_at([GARE], T10)[0] == pytest.approx(0.5 * p.drivers_at([GARE], T10)[0])


def test_rows_long_past_their_arrival_expire():
    stay = PendingArrivals().mean_stay_s
    p = PendingArrivals([GARE, GARE], [T10, T10 - EXPIRE_AFTER_STAYS * stay - 1], [1.0, 1.0])
    kept = p.expired(T10)
    assert kept.n_rows == 1 and kept.arrive_utc_s.tolist() == [T10]
    assert p.added(CENTRE, T10 + 60).n_rows == 3


def test_bad_parameters_are_refused_by_name():
    with pytest.raises(ValueError, match="compliance_share"):
        PendingArrivals(compliance_share=1.5)
    with pytest.raises(ValueError, match="mean_stay_s"):
        PendingArrivals(mean_stay_s=0)
    with pytest.raises(ValueError, match="lengths"):
        PendingArrivals([1, 2], [T10], [1.0])


# -- the subtraction ------------------------------------------------------------------------------
def test_no_cars_change_nothing_and_an_unknown_facility_is_left_alone():
    free, p = subtract_pending([40.0, np.nan], [5.0, np.nan], [0.9, 0.5], [100, 100], [0.0, 30.0])
    assert free[0] == 40.0 and np.isnan(free[1]) and p.tolist() == [0.9, 0.5]


def test_cars_take_expected_spaces_and_p_free_falls_with_them():
    k = np.array([0.0, 5.0, 9.0, 12.0])
    free, p = subtract_pending(np.full(4, 10.0), np.full(4, 2.0), np.full(4, 0.99), np.full(4, 60), k)
    assert free.tolist() == pytest.approx([10.0, 5.0, 1.0, 0.0])
    assert p[0] == 0.99 and np.all(np.diff(p) < 0) and p[3] < 0.15


def test_drivers_sent_to_parking_gare_fill_it_in_the_forecast(parking):
    alone = outlook(parking, [CENTRE, GARE], T10)
    assert alone.p_free.tolist() == pytest.approx([1.0, 1.0], abs=1e-6)
    v = outlook(parking, [CENTRE, GARE], T10, pending=sent(GARE, 20, T10 - 600))
    # 20 drivers 10 min ahead, half of them extra cars: about 9 spaces of Gare's 9.4 taken
    assert v.pending_drivers[1] == pytest.approx(20 * ndtr(2.0) * np.exp(-600 / 7200))
    assert v.expected_free[1] == pytest.approx(alone.expected_free[1] - 0.5 * v.pending_drivers[1])
    assert v.p_free[1] < 0.6 and v.expected_search_s[1] > 240
    assert v.p_free[0] == pytest.approx(1.0) and v.expected_free[0] == alone.expected_free[0]


# -- the choice -----------------------------------------------------------------------------------
def test_the_next_driver_is_sent_elsewhere_once_gare_is_taken_and_told_why(parking):
    # Gare is two minutes quicker door to door than Centre
    args = dict(drive_s=[300.0, 300.0], walk_s=[300.0, 180.0], depart_utc_s=T10 - 300)
    first = choose_facility(parking, [CENTRE, GARE], **args, pending=PendingArrivals())
    assert first.facility_idx[first.chosen] == GARE
    crowd = sent(GARE, 30, T10 - 60)
    second = choose_facility(parking, [CENTRE, GARE], **args, pending=crowd)
    assert second.facility_idx[second.chosen] == CENTRE
    note = heading_note(parking, second, second.chosen)
    n = round(float(second.outlook.pending_drivers[1]))
    assert n == round(30 * ndtr(60 / 300) * np.exp(-60 / 7200)) == 17   # due a minute earlier
    assert note == f"{n} other drivers are heading to Parking Gare; Parking Centre is the better bet"
    # without the recommendation table the planner keeps sending drivers to Gare
    blind = choose_facility(parking, [CENTRE, GARE], **args)
    assert blind.facility_idx[blind.chosen] == GARE


def test_a_lone_driver_gets_the_best_car_park_even_with_spreading_on(parking):
    # Centre and Gare within a minute of each other; nobody heading to the best: no lottery
    args = dict(drive_s=[300.0, 300.0], walk_s=[200.0, 180.0], depart_utc_s=T10 - 300)
    elsewhere = sent(2, 50, T10)               # drivers sent to a third car park do not count
    for pending in (PendingArrivals(), elsewhere):
        choice = choose_facility(parking, [CENTRE, GARE], **args, pending=pending)
        assert choice.facility_idx[choice.chosen] == GARE


def test_drivers_are_spread_in_proportion_to_room_among_near_equal_choices():
    total = np.array([600.0, 650.0, 700.0, 900.0])   # the last is beyond the 2-minute tolerance
    room = np.array([10.0, 30.0, 60.0, 500.0])
    order = np.argsort(total)
    golden = (np.sqrt(5) - 1) / 2
    picks = [spread_choice(order, total, room, 120.0, ((n + 1) * golden) % 1.0) for n in range(1000)]
    share = np.bincount(picks, minlength=4) / 1000
    assert share[:3] == pytest.approx([0.1, 0.3, 0.6], abs=0.01)
    assert share[3] == 0.0
    # nothing to share: the best
    assert spread_choice(order, total, np.zeros(4), 120.0, 0.9) == 0


def test_spreading_through_choose_facility_is_reproducible(parking):
    args = dict(drive_s=[300.0, 300.0], walk_s=[200.0, 180.0], depart_utc_s=T10 - 300)
    crowd = sent(GARE, 4, T10)                  # a few heading to the best: spread by room
    a = choose_facility(parking, [CENTRE, GARE], **args, pending=crowd)
    b = choose_facility(parking, [CENTRE, GARE], **args, pending=crowd)
    assert a.chosen == b.chosen
    # a stream of drivers, each recorded as it is sent (what the API does)
    picks = []
    for _ in range(40):
        c = choose_facility(parking, [CENTRE, GARE], **args, pending=crowd)
        picks.append(int(c.facility_idx[c.chosen]))
        crowd = crowd.added(picks[-1], T10)
    # Centre has about eight times Gare's room: it gets most drivers, Gare a few
    assert 0.75 < picks.count(CENTRE) / 40 < 0.97
    assert picks.count(GARE) >= 1


# -- learning the compliance share ------------------------------------------------------------------
def test_the_compliance_estimator_recovers_a_known_share_from_simulated_days():
    rng = np.random.default_rng(15)
    true_share, window_s, n_windows = 0.35, 1800, 1500
    sent_x, excess_y = [], []
    for w in range(n_windows):
        start = T10 + w * 86_400
        n = rng.poisson(8)
        arrive = start + rng.uniform(-1800, window_s, n).astype(np.int64)
        recs = PendingArrivals(np.zeros(n, np.int64), arrive, np.ones(n))
        # who really came (the compliant share), and how long each stays (exponential, 2 h)
        came = rng.random(n) < true_share
        stay = rng.exponential(recs.mean_stay_s, n)
        actual = arrive + rng.normal(0, recs.arrival_spread_s, n)
        def parked(t, came=came, actual=actual, stay=stay):
            return int(np.sum(came & (actual <= t) & (t < actual + stay)))
        background_error = rng.normal(0, 3.0)    # the forecast's own error over the window
        excess_y.append(parked(start + window_s) - parked(start) + background_error)
        sent_x.append(recs.drivers_at([0], start + window_s)[0] - recs.drivers_at([0], start)[0])
    est = estimate_compliance(sent_x, excess_y)
    # stated error: within 0.05 of the truth, and within three standard errors
    assert abs(est.share - true_share) < 0.05
    assert abs(est.share - true_share) < 3 * est.stderr + 1e-9
    assert est.n == n_windows and est.stderr < 0.03


def test_the_estimator_needs_windows_with_drivers_sent():
    with pytest.raises(ValueError, match="no window"):
        estimate_compliance([0.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="values"):
        estimate_compliance([1.0], [1.0, 2.0])


def test_a_live_count_already_holds_the_drivers_who_arrived_before_it(parking):
    from engine.parking import LiveObservations

    p = PendingArrivals([GARE, GARE], [T10 - 1800, T10 + 600], [1.0, 1.0])
    # read at T10: the driver due half an hour before is in the count, the one due later is not
    assert p.drivers_at([GARE], T10 + 1200, since_utc_s=T10)[0] == pytest.approx(
        (ndtr(10.0) - ndtr(6.0)) * np.exp(-3000 / 7200) + (ndtr(2.0) - ndtr(-2.0)) * np.exp(-600 / 7200))
    assert p.drivers_at([GARE], T10 + 1200, since_utc_s=T10)[0] < 0.9 < p.drivers_at([GARE], T10 + 1200)[0]
    live = LiveObservations.empty(parking.n_facilities)
    live.update([GARE], [T10], [9], parking=parking)
    v = outlook(parking, [GARE], T10 + 1200, live=live, now_utc_s=T10, pending=p)
    assert v.pending_drivers[0] == pytest.approx(p.drivers_at([GARE], T10 + 1200, T10)[0])
    assert outlook(parking, [GARE], T10 + 1200, pending=p).pending_drivers[0] == pytest.approx(
        p.drivers_at([GARE], T10 + 1200)[0])
