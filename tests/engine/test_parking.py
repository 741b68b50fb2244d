"""Parking availability: profile fit, live blending, p_free, search time, unknowns, local time.

The synthetic history (16 weeks from Monday 2026-01-05, Europe/Paris, one observation at half
past every local hour) is small enough to check by hand:

* facility 0 "busy" (100 spaces): on weekdays 80 free at 10:00, full (0) from 14:00 to 17:59,
  50 in other daytime hours, 100 at night; Saturdays 30 at 10:00; Sundays and holidays 95 at
  10:00; a little noise (sd 10 spaces) except when full;
* facility 1 "quiet" (200 spaces): 150 or 160 free, never full;
* facility 2 has no history; facility 3's sensor is stuck at 42 free.
Wednesday 2026-02-11 is declared a holiday (its counts follow Sundays), as is Friday 2026-05-01.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from scipy.special import ndtr

from engine.model import DayType, OccupancyHistory, Parking
from engine.parking import (
    NO_OBSERVATION,
    ForecastBasis,
    LiveObservations,
    SearchTimeModel,
    day_types,
    deviation_correlation,
    deviation_states,
    fit_occupancy_profile,
    forecast,
    forecast_from_observations,
    local_day_and_second,
    profile_values,
)

TZ = "Europe/Paris"
PARIS = ZoneInfo(TZ)
CAPACITY = np.array([100, 200, 150, 300], dtype=np.int32)
BUSY, QUIET, NO_DATA, STUCK = 0, 1, 2, 3
DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MONTPELLIER_CSV = DATA / "montpellier" / "parking" / "parkings_montpellier_2026.csv"


def utc(local: str) -> int:
    """UTC instant (s) of a local Paris wall-clock time 'YYYY-MM-DD HH:MM'."""
    return int(dt.datetime.fromisoformat(local).replace(tzinfo=PARIS).timestamp())


def day_number(date: str) -> int:
    return (dt.date.fromisoformat(date) - dt.date(1970, 1, 1)).days


HOLIDAYS = [day_number("2026-02-11"), day_number("2026-05-01")]


def busy_free(day_type: int, hour: int) -> int:
    if day_type == DayType.WEEKDAY:
        if hour == 10:
            return 80
        if 14 <= hour <= 17:
            return 0
        return 50 if 8 <= hour <= 19 else 100
    if day_type == DayType.SATURDAY:
        return 30 if hour == 10 else 60
    return 95 if hour == 10 else 90


def synthetic_history() -> OccupancyHistory:
    rng = np.random.default_rng(7)
    rows = []
    start = dt.date(2026, 1, 5)
    for d in range(16 * 7):
        date = start + dt.timedelta(days=d)
        kind = int(day_types([(date - dt.date(1970, 1, 1)).days], HOLIDAYS)[0])
        for hour in range(24):
            local = dt.datetime(date.year, date.month, date.day, hour, 30, tzinfo=PARIS)
            t = int(local.timestamp())
            if dt.datetime.fromtimestamp(t, PARIS).hour != hour:
                continue  # 02:30 does not exist on the spring-forward day
            busy = busy_free(kind, hour)
            if busy:
                busy = int(np.clip(busy + rng.normal(0, 10), 1, 100))
            rows += [(BUSY, t, busy), (QUIET, t, 150 + 10 * (hour % 2)), (STUCK, t, 42)]
    rows.sort()
    f, t, x = (np.array(c) for c in zip(*rows, strict=True))
    return OccupancyHistory(facility_idx=f.astype(np.int32), time_utc_s=t.astype(np.int64),
                            free_spaces=x.astype(np.int32), capacity=CAPACITY[f])


@pytest.fixture(scope="module")
def history() -> OccupancyHistory:
    return synthetic_history()


@pytest.fixture(scope="module")
def profile(history):
    return fit_occupancy_profile(history, CAPACITY, TZ, holiday_days=HOLIDAYS)


@pytest.fixture(scope="module")
def parking(history, profile) -> Parking:
    n = CAPACITY.size
    return Parking(facility_ids=np.array(["busy", "quiet", "none", "stuck"]),
                   facility_name=np.array(["Busy", "Quiet", "No data", "Stuck"]),
                   kind=np.zeros(n, np.int8), lon=np.zeros(n), lat=np.zeros(n), capacity=CAPACITY,
                   car_node_idx=np.full(n, -1, np.int32), walk_node_idx=np.full(n, -1, np.int32),
                   source=np.full(n, "test"), history=history, profile=profile)


@pytest.fixture(scope="module")
def persistent(parking) -> Parking:
    """The parking with a known deviation correlation (the synthetic noise is uncorrelated)."""
    profile = dataclasses.replace(parking.profile, deviation_nugget=0.95, deviation_short_weight=0.5,
                                  deviation_short_s=4 * 3600.0, deviation_long_s=5 * 86_400.0)
    return dataclasses.replace(parking, profile=profile)


def at(parking, facility, local, **kw):
    fc = forecast(parking, [facility], utc(local), **kw)
    return {name: getattr(fc, name)[0] for name in ("expected_free", "free_std", "p_free", "p_full",
                                                      "expected_search_s", "basis")}


# ---- profile ----------------------------------------------------------------------------------
def test_profile_holds_free_spaces_by_day_type_and_hour(profile):
    mean = profile.free_mean
    assert mean[BUSY, DayType.WEEKDAY, 10] == pytest.approx(80, abs=3)
    assert mean[BUSY, DayType.WEEKDAY, 15] == 0
    assert mean[BUSY, DayType.SATURDAY, 10] == pytest.approx(30, abs=4)
    assert mean[BUSY, DayType.SUNDAY_HOLIDAY, 10] == pytest.approx(95, abs=3)
    assert mean[QUIET, DayType.WEEKDAY, 10] == 150 and mean[QUIET, DayType.WEEKDAY, 11] == 160
    # 16 weeks: 79 working weekdays (80 less the declared holiday), 16 Saturdays, 17 Sundays+holiday
    assert profile.n_observations[BUSY, :, 10].tolist() == [79, 16, 17]
    assert profile.p_free[BUSY, DayType.WEEKDAY, 15] == 0 and profile.p_free[BUSY, DayType.WEEKDAY, 10] == 1
    assert profile.free_std[BUSY, DayType.WEEKDAY, 10] == pytest.approx(10, abs=3)


def test_facilities_without_usable_data_have_no_profile_and_count_what_was_left_out(profile, history):
    assert np.isnan(profile.free_mean[NO_DATA]).all()
    assert np.isnan(profile.free_mean[STUCK]).all()   # 42 free for 16 weeks: a stuck sensor
    assert profile.excluded_observations[STUCK] == (history.facility_idx == STUCK).sum()
    assert profile.excluded_observations[[BUSY, QUIET, NO_DATA]].tolist() == [0, 0, 0]


def test_capacity_glitches_and_impossible_counts_are_left_out():
    # Montpellier's Vicarello: 64 spaces, reported for a few hours as 950 free of 1000.
    t = utc("2026-03-02 10:30") + 3600 * np.arange(6)
    history = OccupancyHistory(facility_idx=np.zeros(6, np.int32), time_utc_s=t,
                               free_spaces=np.array([20, 950, 21, 70, 22, 23], np.int32),
                               capacity=np.array([64, 1000, 64, 64, 64, 64], np.int32))
    profile = fit_occupancy_profile(history, [64], TZ)
    assert profile.excluded_observations.tolist() == [2]       # 950/1000 and 70 > 64
    assert profile.n_observations.sum() == 4


# ---- p_free, day types, holidays ----------------------------------------------------------------
def test_p_free_is_near_zero_when_always_full_and_near_one_with_room(parking):
    full_hour = at(parking, BUSY, "2026-05-06 15:30")        # a Wednesday after the history
    free_hour = at(parking, BUSY, "2026-05-06 10:30")
    assert full_hour["p_free"] < 0.05 and full_hour["expected_free"] < 3
    assert free_hour["p_free"] > 0.999 and free_hour["expected_free"] == pytest.approx(80, abs=4)
    quiet = forecast(parking, [QUIET] * 24, [utc(f"2026-05-06 {h:02d}:30") for h in range(24)])
    assert quiet.p_free.min() > 0.999
    assert (quiet.basis == ForecastBasis.PROFILE).all()


def test_saturday_and_sunday_have_their_own_profiles(parking):
    assert at(parking, BUSY, "2026-05-09 10:30")["expected_free"] == pytest.approx(30, abs=5)
    assert at(parking, BUSY, "2026-05-10 10:30")["expected_free"] == pytest.approx(95, abs=4)
    assert at(parking, BUSY, "2026-05-10 15:30")["p_free"] > 0.999     # Sunday afternoon: room


def test_a_public_holiday_is_forecast_like_a_sunday(parking):
    holiday = at(parking, BUSY, "2026-05-01 15:30")                     # Friday, Labour Day
    ordinary_friday = at(parking, BUSY, "2026-05-08 15:30")
    assert holiday["p_free"] > 0.999 and ordinary_friday["p_free"] < 0.05
    assert holiday["expected_free"] == pytest.approx(
        at(parking, BUSY, "2026-05-03 15:30")["expected_free"], abs=1e-9)    # the Sunday before


def test_between_bin_centres_the_profile_is_interpolated(profile):
    mean, _ = profile_values(profile, QUIET, [utc("2026-05-06 10:30"), utc("2026-05-06 11:00"),
                                              utc("2026-05-06 11:30")])
    assert mean.tolist() == pytest.approx([150, 155, 160])


# ---- local time -------------------------------------------------------------------------------
def test_local_hour_is_right_across_daylight_saving_changes():
    # Paris springs forward on 2026-03-29 at 01:00 UTC and falls back on 2026-10-25 at 01:00 UTC.
    spring = dt.datetime(2026, 3, 29, tzinfo=dt.UTC).timestamp()
    autumn = dt.datetime(2026, 10, 25, tzinfo=dt.UTC).timestamp()
    t = np.array([spring + 1800, spring + 5400, autumn + 1800, autumn + 5400], dtype=np.int64)
    day, second = local_day_and_second(t, TZ)
    assert (second / 3600).tolist() == [1.5, 3.5, 2.5, 2.5]
    assert day.tolist() == [day_number("2026-03-29")] * 2 + [day_number("2026-10-25")] * 2


def test_forecasts_follow_local_hours_on_both_sides_of_the_change(parking):
    # Sunday 10:30 local is 09:30 UTC in winter and 08:30 UTC in summer time: both the 95 bin.
    for local in ("2026-03-22 10:30", "2026-03-29 10:30", "2026-04-05 10:30"):
        assert at(parking, BUSY, local)["expected_free"] == pytest.approx(95, abs=4), local
    assert utc("2026-03-22 10:30") % 86_400 == 9.5 * 3600
    assert utc("2026-03-29 10:30") % 86_400 == 8.5 * 3600


# ---- unknown, stale, stuck --------------------------------------------------------------------
def test_missing_data_is_unknown_never_empty(parking):
    unknown = at(parking, NO_DATA, "2026-05-06 10:30")
    assert unknown["basis"] == ForecastBasis.UNKNOWN
    assert math.isnan(unknown["expected_free"]) and math.isnan(unknown["free_std"])
    assert unknown["p_free"] == 0.5                                # neither full nor surely free
    assert unknown["expected_search_s"] == 240.0                   # half of the 8-minute penalty
    fc = forecast(dataclasses.replace(parking, profile=None), None, utc("2026-05-06 10:30"))
    assert (fc.basis == ForecastBasis.UNKNOWN).all() and (fc.p_free == 0.5).all()
    assert fc.basis_names().tolist() == ["unknown"] * 4


def test_stale_observation_is_ignored(persistent):
    live = LiveObservations.empty(4)
    live.update(BUSY, utc("2026-05-06 06:30"), 5, parking=persistent)
    without = at(persistent, BUSY, "2026-05-06 10:30")
    stale = at(persistent, BUSY, "2026-05-06 10:30", live=live, now_utc_s=utc("2026-05-06 09:31"))
    fresh = at(persistent, BUSY, "2026-05-06 10:30", live=live, now_utc_s=utc("2026-05-06 09:29"))
    assert stale == without and stale["basis"] == ForecastBasis.PROFILE
    assert fresh["basis"] == ForecastBasis.LIVE and fresh["expected_free"] < without["expected_free"]


def test_a_stuck_live_sensor_is_not_trusted(persistent):
    live = LiveObservations.empty(4)
    hours = utc("2026-05-04 00:30") + 3600 * np.arange(72)
    live.update(np.full(72, QUIET), hours, np.full(72, 40), parking=persistent)
    live.update(np.full(72, STUCK), hours, np.full(72, 42), parking=persistent)
    assert live.unchanged_since_utc_s[[QUIET, STUCK]].tolist() == [hours[0]] * 2
    now = int(hours[-1])
    quiet = at(persistent, QUIET, "2026-05-07 00:30", live=live, now_utc_s=now)
    stuck = at(persistent, STUCK, "2026-05-07 00:30", live=live, now_utc_s=now)
    assert quiet["basis"] == ForecastBasis.PROFILE and stuck["basis"] == ForecastBasis.UNKNOWN
    # The same count for one day only is believed: a live observation without profile.
    assert at(persistent, STUCK, "2026-05-07 00:30", live=live, now_utc_s=now,
              stuck_after_s=4 * 86_400)["basis"] == ForecastBasis.LIVE



def test_a_count_resumed_after_a_silence_is_not_a_stuck_sensor(persistent):
    # A feed that comes back (after a night down, or months after the bundle's history ended)
    # with the count it last had starts a new run: only readings that keep coming can be stuck.
    live = LiveObservations.empty(4)
    hours = utc("2026-05-04 00:30") + 3600 * np.arange(3)
    live.update(np.full(3, STUCK), hours, np.full(3, 42), parking=persistent)
    back = int(hours[-1]) + 90 * 86_400
    live.update(STUCK, back, 42, parking=persistent)
    assert live.unchanged_since_utc_s[STUCK] == back
    later = back + 3 * 86_400   # then three days of one count, hourly: stuck again
    live.update(np.full(72, STUCK), back + 3600 * np.arange(1, 73), np.full(72, 42), parking=persistent)
    assert live.unchanged_since_utc_s[STUCK] == back
    soon = dt.datetime.fromtimestamp(later + 600, PARIS).strftime("%Y-%m-%d %H:%M")
    assert at(persistent, STUCK, soon, live=live, now_utc_s=later)["basis"] != ForecastBasis.LIVE
    assert at(persistent, STUCK, soon, live=live, now_utc_s=later,
              stuck_after_s=4 * 86_400)["basis"] == ForecastBasis.LIVE

# ---- live blending ----------------------------------------------------------------------------
def test_recent_observation_dominates_short_horizons_and_the_profile_long_ones(persistent):
    live = LiveObservations.empty(4)
    live.update(BUSY, utc("2026-05-06 10:30"), 55, parking=persistent)   # profile says about 80
    now = utc("2026-05-06 10:30")
    soon = at(persistent, BUSY, "2026-05-06 10:35", live=live, now_utc_s=now)
    later = at(persistent, BUSY, "2026-06-10 10:30", live=live, now_utc_s=now)  # 5 weeks on
    profile_only = at(persistent, BUSY, "2026-06-10 10:30")
    assert soon["basis"] == ForecastBasis.LIVE
    assert abs(soon["expected_free"] - 55) < 5
    assert later["expected_free"] == pytest.approx(profile_only["expected_free"], abs=0.5)
    assert soon["free_std"] < profile_only["free_std"] / 2    # an observation narrows the forecast


def test_a_single_observation_blends_by_the_fitted_correlation(persistent):
    # Oracle: level y = log(free + c); z0 = (y0 - mu0) / sqrt(sd0 * scale); at horizon h the
    # level is Gaussian with mean mu + sqrt(sd * scale) * rho(h) * z0 and sd * sqrt(1 - rho^2).
    profile = persistent.profile
    t0, t, x0 = utc("2026-05-06 09:30"), utc("2026-05-06 11:30"), 40
    fc = forecast_from_observations(profile, CAPACITY, BUSY, t, obs_time_utc_s=t0,
                                    obs_free_spaces=x0, now_utc_s=t0)
    (mu0, mu), (sd0, sd) = profile_values(profile, BUSY, [t0, t], level=True)
    c, scale = float(profile.level_offset[BUSY]), float(profile.deviation_scale[BUSY])
    rho = float(deviation_correlation(profile, t - t0))
    z0 = (math.log(x0 + c) - mu0) / math.sqrt(sd0 * scale)
    m = mu + math.sqrt(sd * scale) * rho * z0
    s = sd * math.sqrt(1 - rho**2)
    assert abs(z0) < 6                                        # not clipped
    assert fc.expected_free[0] == pytest.approx(math.exp(m + s * s / 2) - c, rel=1e-9)
    k, s_k = float(profile.full_threshold[BUSY]), float(profile.full_spread[BUSY])
    assert fc.p_full[0] == pytest.approx(ndtr((math.log(k + c) - m) / math.hypot(s, s_k)), rel=1e-6)


def test_an_observation_reported_full_counts_as_full_even_with_spaces_left(persistent):
    now = utc("2026-05-06 10:30")
    kw = dict(obs_time_utc_s=now, now_utc_s=now)
    reported = forecast_from_observations(persistent.profile, CAPACITY, BUSY, now + 600,
                                          obs_free_spaces=12, obs_full=True, **kw)
    counted = forecast_from_observations(persistent.profile, CAPACITY, BUSY, now + 600,
                                         obs_free_spaces=12, **kw)
    assert reported.p_full[0] > 0.5 > counted.p_full[0]


def test_a_fresh_full_report_stays_likely_full_for_minutes_then_fades(persistent):
    # The quiet car park usually has 150 free at 10:30; its barrier has just reported "full".
    # The level model alone would blur "0 free" with "a few free"; the full state persists as a
    # state, fading with the fitted full_persistence_s (default 50 min).
    now = utc("2026-05-06 10:30")
    tau = persistent.profile.full_persistence_s
    kw = dict(obs_time_utc_s=now, now_utc_s=now, obs_free_spaces=0, obs_full=True)
    p_now, p_15, p_6h = (forecast_from_observations(persistent.profile, CAPACITY, QUIET, now + h,
                                                    **kw).p_full[0] for h in (0, 900, 6 * 3600))
    assert p_now == pytest.approx(1.0)
    assert p_15 >= math.exp(-900 / tau) - 1e-12 and p_15 > 0.7
    assert p_6h < 0.15 < p_15  # by then the level model speaks (the deviation fades over days)


def test_a_fresh_reading_of_room_beats_an_hour_that_is_always_full(persistent):
    # BUSY is full at 15:00 on every weekday of the history (its profile is as tight as it gets
    # there); at 14:50 its barrier reports 90 free: a driver arriving at 15:05 should find room.
    now = utc("2026-05-06 14:50")
    fc = forecast_from_observations(persistent.profile, CAPACITY, BUSY, now + 900,
                                    obs_time_utc_s=now, now_utc_s=now, obs_free_spaces=90)
    assert fc.basis[0] == ForecastBasis.LIVE
    assert fc.expected_free[0] > 60 and fc.p_free[0] > 0.95


def test_full_persistence_is_fitted_from_how_long_full_readings_last():
    # A facility full for exactly two consecutive hourly readings, once a day, for 10 weeks:
    # P(still full 1 h later | full) = 0.5 and 0 at 2 h and more: the least-squares exponential
    # lies between the two (0.378 at 1 h), far from the 50-minute default's 0.30 and below 0.5.
    start = utc("2026-01-05 00:30")
    t = start + 3600 * np.arange(24 * 70, dtype=np.int64)
    hour = (t - start) // 3600 % 24
    free = np.where((hour == 15) | (hour == 16), 0, 50).astype(np.int32)
    history = OccupancyHistory(facility_idx=np.zeros(t.size, np.int32), time_utc_s=t,
                               free_spaces=free, capacity=np.full(t.size, 100, np.int32))
    tau = fit_occupancy_profile(history, np.array([100]), TZ).full_persistence_s
    assert math.exp(-3600 / tau) == pytest.approx(0.378, abs=0.01)


def test_live_observations_keep_the_newest_and_filter_in_time_order(persistent, history):
    live = LiveObservations.empty(4)
    assert live.update([BUSY, BUSY], [utc("2026-05-06 10:30"), utc("2026-05-06 09:30")], [60, 70],
                       parking=persistent) == 2
    assert live.time_utc_s[BUSY] == utc("2026-05-06 10:30") and live.free_spaces[BUSY] == 60
    assert live.update(BUSY, utc("2026-05-06 08:30"), 10, parking=persistent) == 0  # older: ignored
    assert live.free_spaces[BUSY] == 60
    assert live.time_utc_s[QUIET] == NO_OBSERVATION and np.isnan(live.free_spaces[QUIET])
    # Filtering the history at once or observation by observation gives the same state.
    states = deviation_states(persistent)
    one_by_one = LiveObservations.empty(4)
    rows = np.flatnonzero(history.facility_idx == BUSY)[:200]
    for r in rows:
        one_by_one.update(BUSY, history.time_utc_s[r], history.free_spaces[r], parking=persistent)
    last = rows[-1]
    assert one_by_one.deviation.time_utc_s[BUSY] == states.time_utc_s[last]
    assert one_by_one.deviation.short[BUSY] == pytest.approx(states.short[last], rel=1e-12)
    assert one_by_one.deviation.long[BUSY] == pytest.approx(states.long[last], rel=1e-12)
    warm = LiveObservations.from_history(persistent, until_utc_s=history.time_utc_s[last])
    assert warm.deviation.long[BUSY] == pytest.approx(states.long[last], rel=1e-12)


def test_live_observations_of_several_facilities_in_one_update_each_keep_their_newest(persistent):
    # A feed's poll reports every car park at once: each one keeps its own newest count, time,
    # capacity, full flag and unchanged-since instant (not only the last facility of the batch).
    live = LiveObservations.empty(4)
    t1, t2 = utc("2026-05-06 10:30"), utc("2026-05-06 10:45")
    assert live.update([BUSY, QUIET], [t1, t1], [12, 80], [100, 120], [False, False],
                       parking=persistent) == 2
    assert live.time_utc_s[[BUSY, QUIET]].tolist() == [t1, t1]
    assert live.free_spaces[[BUSY, QUIET]].tolist() == [12, 80]
    assert live.capacity[[BUSY, QUIET]].tolist() == [100, 120]
    assert live.update([QUIET, BUSY, QUIET, BUSY], [t2, t2, t1 + 60, t1 + 60], [80, 0, 81, 3],
                       full=[False, True, False, False], parking=persistent) == 4
    assert live.time_utc_s[[BUSY, QUIET]].tolist() == [t2, t2]
    assert live.free_spaces[[BUSY, QUIET]].tolist() == [0, 80]
    assert live.full[[BUSY, QUIET]].tolist() == [True, False]
    assert live.unchanged_since_utc_s[[BUSY, QUIET]].tolist() == [t2, t2]     # 81 then 80 again


def test_a_lasting_deviation_is_learnt_from_many_observations(persistent):
    # Two weeks of a car park 20 spaces fuller than usual at 10:00: Monday's 10:00 forecast
    # (3 days after the last observation) moves further than one observation alone moves it
    # (the long-lived part is known better: gain about 0.7 instead of 0.475 for one).
    days = [dt.date(2026, 5, 4) + dt.timedelta(days=d) for d in range(14)]
    days = [d for d in days if d.weekday() < 5]
    times = [utc(f"{d} 10:30") for d in days]
    live = LiveObservations.empty(4)
    counts = 60 + np.arange(len(times)) % 3                  # a live count changes
    live.update(np.full(len(times), BUSY), times, counts, parking=persistent)
    one = LiveObservations.empty(4)
    one.update(BUSY, times[-1], counts[-1])                      # no filter: that observation only
    target, now = "2026-05-18 10:30", times[-1]
    profile_only = at(persistent, BUSY, target)["expected_free"]
    filtered = at(persistent, BUSY, target, live=live, now_utc_s=now)["expected_free"]
    single = at(persistent, BUSY, target, live=one, now_utc_s=now)["expected_free"]
    assert profile_only - filtered > 1.3 * (profile_only - single) > 0


def test_the_fitted_correlation_follows_the_generating_process():
    # Deviations = AR(1) with a 6-hour time constant (sd 15 spaces) around a flat profile.
    rng = np.random.default_rng(3)
    t = utc("2026-01-05 00:30") + 3600 * np.arange(24 * 7 * 20)
    phi = math.exp(-1 / 6)
    dev = np.zeros(t.size)
    for i in range(1, t.size):
        dev[i] = phi * dev[i - 1] + rng.normal(0, 15 * math.sqrt(1 - phi**2))
    free = np.clip(np.round(300 + dev), 0, 600).astype(np.int32)
    history = OccupancyHistory(np.zeros(t.size, np.int32), t, free, np.full(t.size, 600, np.int32))
    profile = fit_occupancy_profile(history, [600], TZ)
    rho = deviation_correlation(profile, np.array([1, 6, 24]) * 3600)
    assert rho.tolist() == pytest.approx([math.exp(-1 / 6), math.exp(-1), math.exp(-4)], abs=0.06)


# ---- full threshold and search time -----------------------------------------------------------
def test_a_threshold_of_full_is_learnt_from_reported_full_status():
    # An operator reports "Full" below about 8 free spaces (of 64), as Montpellier's do.
    rng = np.random.default_rng(5)
    t = utc("2026-01-05 00:30") + 3600 * np.arange(24 * 7 * 12)
    free = np.clip(np.round(30 + 20 * np.sin(np.arange(t.size) / 5) + rng.normal(0, 4, t.size)),
                   0, 64).astype(np.int32)
    reported = free + rng.normal(0, 1.5, t.size) < 8
    history = OccupancyHistory(np.zeros(t.size, np.int32), t, free, np.full(t.size, 64, np.int32),
                               status_full=reported)
    profile = fit_occupancy_profile(history, [64], TZ)
    assert profile.full_threshold[0] == pytest.approx(8, abs=1.5)
    assert profile.p_free.min() < 1        # bins where "Full" was reported with spaces left


def test_expected_search_time_is_zero_when_surely_free_and_grows_as_p_free_falls():
    model = SearchTimeModel()
    p = np.linspace(0, 1, 21)
    for occupancy in (0.5, 0.9, 1.0):
        times = model.expected_s(p, occupancy)
        assert (np.diff(times) < 0).all()           # strictly less search as p_free rises
    assert model.expected_s(1.0, 0.5) == 0.0
    assert model.expected_s(0.0, 0.5) == 480.0
    assert model.expected_s(1.0, 0.925) == pytest.approx(60.0)    # half-way up the busy ramp
    assert model.realised_s([True, False, False], [1.0, 0.5, 0.925]) == pytest.approx([480, 0, 60])


def test_forecast_search_time_matches_the_search_model(parking):
    fc = forecast(parking, [BUSY, BUSY, QUIET], [utc("2026-05-06 15:30"), utc("2026-05-06 10:30"),
                                                 utc("2026-05-06 10:30")])
    occupancy = 1 - fc.expected_free / CAPACITY[fc.facility_idx]
    assert fc.expected_search_s == pytest.approx(SearchTimeModel().expected_s(fc.p_free, occupancy))
    assert fc.expected_search_s[0] > 400 and fc.expected_search_s[2] == pytest.approx(0, abs=1e-6)


# ---- errors -----------------------------------------------------------------------------------
def test_bad_arguments_raise_errors_naming_them(history, parking):
    with pytest.raises(ValueError, match="timezone 'Mars/Olympus'"):
        fit_occupancy_profile(history, CAPACITY, "Mars/Olympus")
    with pytest.raises(ValueError, match="bin_s=7000"):
        fit_occupancy_profile(history, CAPACITY, TZ, bin_s=7000)
    with pytest.raises(ValueError, match="facility_idx must be in 0..1"):
        fit_occupancy_profile(history, CAPACITY[:2], TZ)
    with pytest.raises(ValueError, match="facility_idx must be in 0..3"):
        forecast(parking, [7], utc("2026-05-06 10:30"))
    with pytest.raises(ValueError, match="at_utc_s has 2 values, expected 1 or 3"):
        forecast(parking, [0, 1, 2], [1, 2])
    with pytest.raises(ValueError, match="free_spaces must be >= 0"):
        LiveObservations.empty(4).update(0, 1, -3)


# ---- real data --------------------------------------------------------------------------------
@pytest.mark.skipif(not MONTPELLIER_CSV.is_file(), reason="shared Montpellier data not present")
def test_montpellier_history_fits_with_its_stuck_sensors_and_full_thresholds():
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(MONTPELLIER_CSV)
    local = pd.to_datetime(df["fecha_lectura"]).dt.tz_localize(TZ, ambiguous="NaT",
                                                               nonexistent="NaT")
    df["t"] = (local - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(seconds=1)
    names = np.array(sorted(df["nombre_parking"].unique()))
    df["f"] = np.searchsorted(names, df["nombre_parking"])
    df = df.sort_values(["f", "t"])
    capacity = df.groupby("f")["capacidad_total"].agg(lambda s: s.mode().iloc[0]).to_numpy()
    history = OccupancyHistory(df["f"].to_numpy(np.int32), df["t"].to_numpy(np.int64),
                               df["plazas_libres"].to_numpy(np.int32),
                               df["capacidad_total"].to_numpy(np.int32),
                               (df["estado"] == "Full").to_numpy())
    profile = fit_occupancy_profile(history, capacity, TZ)
    stuck = names[np.isnan(profile.free_mean).all(axis=(1, 2))].tolist()
    assert stuck == ["Gaumont EST", "Gaumont OUEST", "Gaumont-Circe", "Pitot", "Polygone", "Triangle"]
    vicarello = int(np.flatnonzero(names == "Vicarello")[0])
    assert 5 <= profile.full_threshold[vicarello] <= 12      # "Full" at 4-10 free of 64
    assert profile.excluded_observations[vicarello] == 2     # the two 1000-space readings
    assert 0.9 < profile.deviation_nugget <= 1 and profile.deviation_long_s > 5 * 86_400
