"""Parking availability forecast on Montpellier's real occupancy history, against two baselines.

Run from the project root: ``python bench/parking_forecast.py`` (``--validate``: fit
January-April, score May-June, the split the model's design choices were made on).

Fit on January-June 2026, test on July-August 2026 (the history ends on 9 August). For every
test observation of facility f at instant t and each horizon h (15 min, 1 h, 3 h, 24 h), every
method may use the observations of f up to t - h ("now", the latest one included) and the
training period:

* model       ``engine.parking.forecast_from_observations``: the profile, and the deviation from
              it filtered through f's observations up to now (``deviation_states``), decaying
              with the horizon;
* persistence the latest observation, as it was (free spaces; full or not);
* hist_mean   the mean free spaces of f over the training period for that weekday (Mon..Sun)
              and local hour; p(full) the share of full observations in that cell.

"Full" is what a driver meets at the gate: 0 free spaces *or* the operator's status "Full"
(Montpellier reports Full with a reserve of spaces left: 138 of its 141 Full rows have free
spaces; the counts are scored as reported). Scores: mean absolute error (MAE) of free spaces,
Brier score of full (mean of (p_full - full)^2), and the share of observations inside the
forecast's central 80 % interval.

Scored facilities: those whose count changed during the training period. The six whose count
never changed from January to June (stuck sensors: Gaumont EST, Pitot, Polygone...) have no
profile and their live count is stuck, so the model calls them unknown (p_free 0.5) by design;
their figures are shown apart (both baselines are exact on a constant series).

July-August is the summer holiday: the city centre empties, some car parks fill less and others
more than in January-June. The model adapts through the long-lived part of the filtered
deviation (a time constant of about two weeks, fitted on January-June), not through anything
fitted on the test months. Target (issue): better than both baselines at every horizon from
1 h, no worse than persistence at 15 min. Last line: one JSON object of headline figures.

The data are hourly (median step 61 min): at "15 min" the latest observation is usually 60-75
min old, so that horizon measures the use of a fresh observation more than a 15-minute forecast.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.model import OccupancyHistory, Parking  # noqa: E402
from engine.parking import (  # noqa: E402
    LiveObservations,
    deviation_states,
    fit_occupancy_profile,
    forecast,
    forecast_from_observations,
    local_day_and_second,
    unchanged_since,
)
from loaders.calendar_days import public_holidays  # noqa: E402
from loaders.parking import (  # noqa: E402
    facilities_from_file,
    occupancy_from_csv,
    parking_from_records,
)
from loaders.report import BuildReport  # noqa: E402

DATA = ROOT / ".." / "shared" / "data" / "montpellier" / "parking" / "parkings_montpellier_2026.csv"
FACILITIES = DATA.with_name("data_parking.json")
TIMEZONE = "Europe/Paris"
TRAIN = ("2026-01-01", "2026-07-01")   # local dates, end exclusive
TEST = ("2026-07-01", "2026-09-01")
VALIDATE_TRAIN = ("2026-01-01", "2026-05-01")  # --validate: a split inside the training period
VALIDATE_TEST = ("2026-05-01", "2026-07-01")
HORIZONS_S = {"15min": 900, "1h": 3600, "3h": 3 * 3600, "24h": 24 * 3600}
RELIABILITY_EDGES = (0.0, 0.001, 0.01, 0.05, 0.2, 0.5, 1.0)


def load_montpellier(csv: Path, facilities_json: Path) -> tuple[Parking, BuildReport]:
    """Montpellier's car parks (NGSI snapshot) and their occupancy history, through the loaders.

    ``loaders.parking.occupancy_from_csv`` drops the two capacity glitches (Vicarello: 1000
    spaces). By default it also reads a row whose status is "Full" as 0 free spaces; here the
    counts are kept (``full_status_values=()``) and the status goes to
    ``OccupancyHistory.status_full``, so that the engine learns each car park's full threshold
    (Vicarello says Full at 5-10 free of 64). ``parking_from_records`` does not carry the status
    yet: it is joined back here on (facility, time).
    """
    report = BuildReport()
    facilities = facilities_from_file(facilities_json, report)
    frame = occupancy_from_csv(csv, report, preset="montpellier", timezone=TIMEZONE,
                               full_status_values=())
    parking = parking_from_records(facilities, frame, report=report)
    history = parking.history
    key_of = {name: i for i, name in enumerate(parking.facility_name)}
    frame_idx = frame["facility_key"].map(key_of)
    if frame_idx.isna().any():
        sys.exit(f"parking_forecast: history keys without facility: "
                 f"{sorted(set(frame['facility_key'][frame_idx.isna()]))}")
    frame_key = frame_idx.to_numpy(np.int64) * (1 << 40) + frame["time_utc_s"].to_numpy(np.int64)
    order = np.argsort(frame_key)
    hist_key = history.facility_idx.astype(np.int64) * (1 << 40) + history.time_utc_s
    pos = order[np.searchsorted(frame_key, hist_key, sorter=order)]
    status_full = (frame["status"].to_numpy() == "Full")[pos]
    return dataclasses.replace(parking, history=dataclasses.replace(
        history, status_full=status_full)), report


def _utc_s(local_date: str) -> int:
    return int(pd.Timestamp(local_date, tz=TIMEZONE).timestamp())


def _subset(history: OccupancyHistory, mask: np.ndarray) -> OccupancyHistory:
    return OccupancyHistory(history.facility_idx[mask], history.time_utc_s[mask],
                            history.free_spaces[mask], history.capacity[mask],
                            None if history.status_full is None else history.status_full[mask])


def _full(history: OccupancyHistory) -> np.ndarray:
    """Full: no free space, or reported full."""
    full = np.asarray(history.free_spaces) == 0
    return full if history.status_full is None else full | np.asarray(history.status_full)


def _hist_mean_tables(train: OccupancyHistory, full: np.ndarray, n_fac: int):
    """(mean free, share full) per (facility, weekday Mon..Sun, local hour) of the training set."""
    day, second = local_day_and_second(train.time_utc_s, TIMEZONE)
    key = (train.facility_idx * 7 + (day + 3) % 7) * 24 + second // 3600
    size = n_fac * 7 * 24
    n = np.bincount(key, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(key, train.free_spaces, minlength=size) / n
        p_full = np.bincount(key, full, minlength=size) / n
    return mean, p_full


def _brier(p, y) -> float:
    return float(np.mean((np.asarray(p, dtype=np.float64) - y) ** 2))


def reliability(p_full: np.ndarray, y: np.ndarray) -> list[tuple[str, int, float, float]]:
    """(bin, rows, mean forecast p_full, observed full share) per bin of forecast p_full."""
    rows = []
    edges = RELIABILITY_EDGES
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (p_full >= lo) & ((p_full < hi) if hi < 1 else (p_full <= hi))
        if sel.any():
            rows.append((f"[{lo:g}, {hi:g}{')' if hi < 1 else ']'}", int(sel.sum()),
                         float(p_full[sel].mean()), float(y[sel].mean())))
    return rows


def _nearly_full_and_interval(fc, offset: np.ndarray, capacity: np.ndarray):
    """P(free < 10 % of capacity) and the central 80 % interval of free spaces, per row.

    The forecast is a shifted log-normal (level = log(free + c)); its level mean and spread are
    recovered from expected_free and free_std (exact unless the mean was clipped at 0 or capacity).
    """
    base = fc.expected_free + offset
    s2 = np.log1p((fc.free_std / base) ** 2)
    m = np.log(base) - s2 / 2
    s = np.sqrt(s2)
    p_nearly_full = ndtr((np.log(0.1 * capacity + offset) - m) / s)
    z80 = 1.2815515655446004
    return p_nearly_full, np.exp(m - z80 * s) - offset, np.exp(m + z80 * s) - offset


def _time_forecast_us(parking: Parking, history: OccupancyHistory, at_utc_s: int) -> float:
    """Median time (µs) of one forecast of every facility at one instant, with live data."""
    live = LiveObservations.from_history(parking, until_utc_s=at_utc_s)
    forecast(parking, None, at_utc_s + 1800, live=live)  # compile
    runs = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(1000):
            forecast(parking, None, at_utc_s + 1800, live=live)
        runs.append((time.perf_counter() - t0) / 1000 * 1e6)
    return float(np.median(runs))


def evaluate(loaded: Parking, train_range: tuple[str, str], test_range: tuple[str, str]) -> dict:
    """Fit on train_range, score on test_range; print the tables; return the headline figures."""
    history, names, capacity = loaded.history, loaded.facility_name, loaded.capacity
    n_fac = names.size
    full_all = _full(history)
    t = history.time_utc_s
    train_mask = (t >= _utc_s(train_range[0])) & (t < _utc_s(train_range[1]))
    test_mask = (t >= _utc_s(test_range[0])) & (t < _utc_s(test_range[1]))
    train = _subset(history, train_mask)
    holidays = public_holidays("FR", range(2025, 2028))

    t0 = time.perf_counter()
    profile = fit_occupancy_profile(train, capacity, TIMEZONE, holiday_days=holidays)
    fit_s = time.perf_counter() - t0
    hist_mean, hist_p_full = _hist_mean_tables(train, full_all[train_mask], n_fac)
    stuck = np.isnan(profile.free_mean).all(axis=(1, 2))
    parking = dataclasses.replace(loaded, profile=profile)
    # The filtered deviation after each observation: what a live feed would hold at that instant.
    states = deviation_states(parking)
    since = unchanged_since(history.facility_idx, t, history.free_spaces)

    test_idx = np.flatnonzero(test_mask)
    f = history.facility_idx[test_idx].astype(np.int64)
    at = t[test_idx]
    truth = history.free_spaces[test_idx].astype(np.float64)
    y = full_all[test_idx].astype(np.float64)
    day, second = local_day_and_second(at, TIMEZONE)
    cell = (f * 7 + (day + 3) % 7) * 24 + second // 3600
    key = history.facility_idx.astype(np.int64) * (1 << 40) + t   # (facility, time), sorted
    scored = ~stuck[f]
    offset = np.asarray(profile.level_offset, dtype=np.float64)[f]

    print(f"train {train_range[0]}..{train_range[1]} ({train.n_observations:,} obs, fit "
          f"{fit_s:.2f} s), test {test_range[0]}..{test_range[1]} ({test_idx.size:,} obs, "
          f"{int(y.sum())} full)")
    print(f"stuck sensors (no profile, scored apart): {', '.join(names[stuck]) or 'none'}")
    print(f"deviation correlation rho(h) = {profile.deviation_nugget:.3f} * "
          f"({profile.deviation_short_weight:.3f} exp(-h/{profile.deviation_short_s / 3600:.2f} h)"
          f" + {1 - profile.deviation_short_weight:.3f} exp(-h/"
          f"{profile.deviation_long_s / 86400:.2f} d))")
    thresholds = [f"{names[i]} {profile.full_threshold[i]:.1f}" for i in range(n_fac)
                  if profile.full_threshold[i] > 0.5]
    print(f"fitted full thresholds (free spaces): {', '.join(thresholds) or 'none'}")
    print()
    header = (f"{'horizon':>7} {'facilities':>10} {'rows':>6} | {'MAE model':>9} {'persist':>8} "
              f"{'hist_mean':>9} | {'Brier model':>11} {'persist':>8} {'hist_mean':>9} | "
              f"{'80% cover':>9}")
    print(header)
    print("-" * len(header))
    results = {}
    pooled_p_full, pooled_nearly = [], []
    nearly_full = (truth < 0.1 * capacity[f]).astype(np.float64)
    for name, h in HORIZONS_S.items():
        j = np.searchsorted(key, f * (1 << 40) + at - h, side="right") - 1
        ok = (j >= 0) & (history.facility_idx[np.maximum(j, 0)] == f)
        j = np.maximum(j, 0)
        obs_x = np.where(ok, history.free_spaces[j], np.nan)
        fc = forecast_from_observations(profile, capacity, f, at,
                                        obs_time_utc_s=np.where(ok, t[j], -1),
                                        obs_free_spaces=obs_x,
                                        obs_full=ok & full_all[j],
                                        obs_unchanged_since_utc_s=since[j],
                                        obs_state=states.take(j), now_utc_s=at - h)
        persist_x = np.where(ok, obs_x, hist_mean[cell])
        persist_p = np.where(ok, full_all[j], hist_p_full[cell]).astype(np.float64)
        p_nearly, lo80, hi80 = _nearly_full_and_interval(fc, offset, capacity[f].astype(np.float64))
        covered = np.where(np.isnan(fc.expected_free), np.nan,
                           (truth >= np.floor(lo80)) & (truth <= np.ceil(hi80)))
        for scope, sel in (("scored", scored), ("stuck", ~scored)):
            if not sel.any():
                continue
            # Unknown facilities have no expected count: score them at the last observation.
            model_x = np.where(np.isnan(fc.expected_free[sel]), persist_x[sel], fc.expected_free[sel])
            row = {"mae_model": float(np.mean(np.abs(model_x - truth[sel]))),
                   "mae_persistence": float(np.mean(np.abs(persist_x[sel] - truth[sel]))),
                   "mae_hist_mean": float(np.mean(np.abs(hist_mean[cell][sel] - truth[sel]))),
                   "brier_model": _brier(fc.p_full[sel], y[sel]),
                   "brier_persistence": _brier(persist_p[sel], y[sel]),
                   "brier_hist_mean": _brier(hist_p_full[cell][sel], y[sel]),
                   "coverage_80": (float(np.nanmean(covered[sel])) if np.isfinite(covered[sel]).any()
                                   else float("nan")),
                   "rows": int(sel.sum())}
            results[(name, scope)] = row
            print(f"{name:>7} {scope:>10} {row['rows']:>6} | {row['mae_model']:>9.2f} "
                  f"{row['mae_persistence']:>8.2f} {row['mae_hist_mean']:>9.2f} | "
                  f"{row['brier_model']:>11.6f} {row['brier_persistence']:>8.6f} "
                  f"{row['brier_hist_mean']:>9.6f} | {row['coverage_80']:>9.3f}")
        pooled_p_full.append(fc.p_full[scored])
        pooled_nearly.append(p_nearly[scored])

    for title, p_all, y_one in (
            ("p(full) (reported full or 0 free)", pooled_p_full, y),
            ("P(free < 10 % of capacity), from the same forecast distribution", pooled_nearly,
             nearly_full)):
        p_all = np.concatenate(p_all)
        y_all = np.tile(y_one[scored], len(HORIZONS_S))
        print()
        print(f"Reliability of {title}, scored facilities, all horizons pooled:")
        print(f"{'forecast bin':>14} {'rows':>7} {'forecast':>9} {'observed':>9}")
        for label, n, mean_p, obs in reliability(p_all, y_all):
            print(f"{label:>14} {n:>7} {mean_p:>9.4f} {obs:>9.4f}")
        print(f"{'all':>14} {p_all.size:>7} {p_all.mean():>9.4f} {y_all.mean():>9.4f}")

    forecast_us = _time_forecast_us(parking, history, int(at.max()) - 86_400)
    print()
    print(f"forecast of all {n_fac} facilities at one instant, with live data: {forecast_us:.1f} µs")

    headline = {}
    for name in HORIZONS_S:
        row = results[(name, "scored")]
        headline[f"mae_{name}"] = round(row["mae_model"], 3)
        headline[f"brier_{name}"] = round(row["brier_model"], 6)
        headline[f"mae_ratio_vs_persistence_{name}"] = round(row["mae_model"] / row["mae_persistence"], 3)
        headline[f"mae_ratio_vs_hist_mean_{name}"] = round(row["mae_model"] / row["mae_hist_mean"], 3)
        headline[f"brier_ratio_vs_persistence_{name}"] = round(
            row["brier_model"] / row["brier_persistence"], 3)
        headline[f"brier_ratio_vs_hist_mean_{name}"] = round(row["brier_model"] / row["brier_hist_mean"], 3)
        headline[f"coverage_80_{name}"] = round(row["coverage_80"], 3)
    headline["forecast_all_facilities_us"] = round(forecast_us, 1)
    return headline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DATA)
    parser.add_argument("--facilities", type=Path, default=FACILITIES)
    parser.add_argument("--validate", action="store_true",
                        help="fit January-April, score May-June (the split the design was chosen on)")
    args = parser.parse_args()
    for path in (args.csv, args.facilities):
        if not path.is_file():
            sys.exit(f"parking_forecast: {path} not found (the shared Montpellier data)")
    loaded, report = load_montpellier(args.csv, args.facilities)
    print(f"Montpellier parking occupancy: {loaded.history.n_observations:,} observations, "
          f"{loaded.n_facilities} car parks (loaders.parking)")
    for line in report.summary_lines():
        if "not linked" not in line:      # no street graph in this bench
            print(f"  {line}")
    train, test = (VALIDATE_TRAIN, VALIDATE_TEST) if args.validate else (TRAIN, TEST)
    headline = evaluate(loaded, train, test)
    print()
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
