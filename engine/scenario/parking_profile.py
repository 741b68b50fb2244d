"""The occupancy profile of a scenario's parking: refitted (or reshaped) for a new capacity or demand.

* ``set-parking-capacity`` and ``scale-parking-demand`` change the occupancy *profile* the
  forecaster reads (``engine.parking``). Demand is the number of occupied spaces: with demand
  factor ``k`` and capacity ``C -> C'``, a count of free spaces ``x`` becomes
  ``x' = clip(C' - k (C - x), 0, C')``. The affected facilities' rows of the profile are refitted
  (``engine.parking.fit_occupancy_profile``) on their occupancy history with every reading so
  transformed (:func:`refit_profile`): levels, spreads, full thresholds and the share of readings
  that found a space all follow, and a factor of 1 gives back the same profile. A profile
  without history is reshaped instead (:func:`reshape_profile`): the map is increasing in ``x``,
  so the level's median ``log(x + c)`` moves exactly to ``log(x' + c')`` (``c`` the level offset,
  10 % of capacity), and the spread is chosen so that the probability of being full carries
  over ("full after" is ``x <= C - (C' - k_full) / k`` before; the delta method
  ``s' = s k (x + c) / (x' + c')`` where the median sits at the threshold). Live observations are
  not touched (a scenario is a forecast question, not a live one).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from engine.model import OccupancyProfile, Parking

_LEVEL_STD_FLOOR = 0.01     # the forecaster's floor of a level's spread (engine.parking)
_LEVEL_STD_CEILING = 3.0    # a spread past e^3 = 20x either way carries no information left
_LEVEL_OFFSET_SHARE = 0.1   # c = 10 % of capacity, at least one space (engine.parking.level_offsets)


def _level_offset(capacity: np.ndarray) -> np.ndarray:
    return np.maximum(1.0, _LEVEL_OFFSET_SHARE * np.maximum(capacity, 0.0))


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(z)


def reshape_profile(profile: OccupancyProfile, facility_idx: np.ndarray, old_capacity: np.ndarray,
                    new_capacity: np.ndarray, demand_factor: np.ndarray) -> OccupancyProfile:
    """The profile after capacity ``C -> C'`` and demand (occupied spaces) x ``k`` at some facilities.

    Free spaces x become ``clip(C' - k (C - x), 0, C')`` (see the module docstring): the level's
    median moves exactly, its spread by the delta method. Arrays of the other facilities are
    shared with the old profile's copies untouched. Facilities need a known capacity (> 0).
    """
    f = np.asarray(facility_idx, dtype=np.int64)
    cap = np.asarray(old_capacity, dtype=np.float64)[:, None, None]
    cap2 = np.asarray(new_capacity, dtype=np.float64)[:, None, None]
    k = np.asarray(demand_factor, dtype=np.float64)[:, None, None]
    n_fac = profile.free_mean.shape[0]
    offset_all = (np.asarray(profile.level_offset, dtype=np.float64)
                  if profile.level_offset.shape == (n_fac,) else _level_offset(np.full(n_fac, -1.0)))
    c = offset_all[f][:, None, None]
    c2 = _level_offset(cap2[:, 0, 0])[:, None, None]
    has_levels = profile.level_mean.shape == profile.free_mean.shape
    if has_levels:
        m = np.asarray(profile.level_mean, dtype=np.float64)[f]
        s = np.asarray(profile.level_std, dtype=np.float64)[f]
    else:  # a profile without levels: the delta method from free spaces, as the forecaster does
        base = np.asarray(profile.free_mean, dtype=np.float64)[f] + c
        m, s = np.log(base), np.maximum(np.asarray(profile.free_std, dtype=np.float64)[f] / base,
                                        _LEVEL_STD_FLOOR)
    has_threshold = profile.full_threshold.shape == (n_fac,) and profile.full_spread.shape == (n_fac,)
    threshold = (np.asarray(profile.full_threshold, dtype=np.float64)[f] if has_threshold
                 else np.full(f.size, 0.5))
    spread = (np.asarray(profile.full_spread, dtype=np.float64)[f] if has_threshold
              else 0.25 / (0.5 + c[:, 0, 0]))
    threshold2 = np.minimum(threshold, cap2[:, 0, 0])
    # the threshold's spread is in level units: d log(x + c) = dx / (x + c)
    spread2 = spread * (threshold + c[:, 0, 0]) / (threshold2 + c2[:, 0, 0])
    thr2 = threshold2[:, None, None]
    sp, sp2 = spread[:, None, None], spread2[:, None, None]

    x_med = np.exp(m) - c
    x2 = cap2 - k * (cap - x_med)
    m2 = np.log(np.clip(x2, 0.0, cap2) + c2)
    s_delta = s * k * (x_med + c) / (np.maximum(x2, 0.0) + c2)
    # What the planner reads is p_full. "Full after" is x' <= thr', i.e. x <= C - (C' - thr') / k
    # before: its z-score on the old levels carries over exactly. Choose the new spread so that
    # the forecaster's z-score at the new threshold is that one (the delta method near it).
    with np.errstate(invalid="ignore", divide="ignore"):
        x_full = cap - (cap2 - thr2) / k
        z = (np.log(np.maximum(x_full + c, 1e-9)) - m) / np.sqrt(s * s + sp * sp)
        gap = np.log(thr2 + c2) - m2
        s_match = np.sqrt(np.maximum((gap / z) ** 2 - sp2 * sp2, _LEVEL_STD_FLOOR ** 2))
    s2 = np.clip(np.where(np.abs(z) > 0.5, s_match, s_delta), _LEVEL_STD_FLOOR, _LEVEL_STD_CEILING)
    free_mean2 = np.clip(np.exp(m2 + 0.5 * s2 * s2) - c2, 0.0, cap2)
    free_std2 = np.sqrt(np.expm1(s2 * s2)) * np.exp(m2 + 0.5 * s2 * s2)
    p_free2 = 1.0 - _normal_cdf((np.log(thr2 + c2) - m2) / np.sqrt(s2 * s2 + sp2 * sp2))

    def put(name, values, dtype=np.float32):
        arr = np.array(getattr(profile, name), copy=True)
        arr[f] = values.astype(dtype)
        return arr

    nan = np.isnan(m)   # facilities without profile stay unknown
    changes = dict(free_mean=put("free_mean", np.where(nan, np.nan, free_mean2)),
                   free_std=put("free_std", np.where(nan, np.nan, free_std2)),
                   p_free=put("p_free", np.where(nan, np.nan, p_free2)),
                   occupancy_mean=put("occupancy_mean", np.where(nan, np.nan, 1.0 - free_mean2 / cap2)))
    if has_levels:
        changes.update(level_mean=put("level_mean", np.where(nan, np.nan, m2)),
                       level_std=put("level_std", np.where(nan, np.nan, s2)))
        if profile.deviation_scale.shape == (n_fac,):
            var = np.where(np.isfinite(s2), s2 * s2, 0.0).reshape(f.size, -1)
            count = np.isfinite(s2).reshape(f.size, -1).sum(axis=1)
            rms = np.where(count > 0, np.sqrt(var.sum(axis=1) / np.maximum(count, 1)), 1.0)
            changes["deviation_scale"] = put("deviation_scale", rms)
    if profile.level_offset.shape == (n_fac,):
        changes["level_offset"] = put("level_offset", c2[:, 0, 0])
    if has_threshold:
        changes["full_threshold"] = put("full_threshold", threshold2)
        changes["full_spread"] = put("full_spread", spread2)
    return dataclasses.replace(profile, **changes)


def refit_profile(parking: Parking, facility_idx, new_capacity, demand_factor) -> OccupancyProfile | None:
    """The profile with some facilities refitted on their history as the scenario would have had it.

    Each reading of free spaces x (capacity C reported with it) becomes
    ``x' = clip(C' - k (C - x), 0, C')``: the same cars times ``k`` in ``C'`` spaces (``C'`` the
    new capacity, or C when it is unchanged). A reading reported full stays full unless the
    scenario frees spaces. The readings the fitter leaves out (impossible counts, capacity
    glitches, stuck sensors) are left out on the readings as recorded, then
    ``engine.parking.fit_occupancy_profile`` fits the affected facilities' rows, which replace
    theirs in the profile (the other facilities and the deviation model are kept). Returns None
    when the parking has no history or profile, or the facilities have no readings.
    """
    from engine.parking import fit_occupancy_profile, usable_readings

    h, pr = parking.history, parking.profile
    f_idx = np.asarray(facility_idx, dtype=np.int64)
    if h is None or pr is None or f_idx.size == 0:
        return None
    fac = np.asarray(h.facility_idx, dtype=np.int64)
    rows = np.flatnonzero(np.isin(fac, f_idx))
    if rows.size == 0:
        return None
    order = rows[np.lexsort((np.asarray(h.time_utc_s)[rows], fac[rows]))]
    f = fac[order]
    t = np.asarray(h.time_utc_s, dtype=np.int64)[order]
    x = np.asarray(h.free_spaces, dtype=np.float64)[order]
    cap_obs = np.asarray(h.capacity, dtype=np.float64)[order]
    full = ((x == 0) if h.status_full is None else np.asarray(h.status_full, dtype=bool)[order])
    cap_f = np.asarray(parking.capacity, dtype=np.float64)[f]
    cap_now = np.where(cap_obs > 0, cap_obs, cap_f)      # the capacity in force at each reading
    valid = usable_readings(f, t, x, cap_obs, cap_f)
    pos = np.searchsorted(np.sort(f_idx), f)
    sorted_new_cap = np.asarray(new_capacity, dtype=np.float64)[np.argsort(f_idx)]
    sorted_k = np.asarray(demand_factor, dtype=np.float64)[np.argsort(f_idx)]
    old_cap = np.asarray(parking.capacity, dtype=np.float64)[np.sort(f_idx)]
    changed_cap = sorted_new_cap != old_cap
    c2 = np.where(changed_cap[pos], sorted_new_cap[pos], cap_now)
    x2 = np.clip(c2 - sorted_k[pos] * (cap_now - x), 0.0, c2)
    full2 = (x2 <= 0) | (full & (x2 <= x))
    from engine.model import OccupancyHistory

    sub = OccupancyHistory(facility_idx=pos[valid].astype(np.int32), time_utc_s=t[valid],
                           free_spaces=np.round(x2[valid]).astype(np.int32),
                           capacity=np.round(c2[valid]).astype(np.int32), status_full=full2[valid])
    fitted = fit_occupancy_profile(sub, np.round(sorted_new_cap).astype(np.int64), pr.timezone,
                                   bin_s=pr.bin_s, holiday_days=pr.holiday_days, stuck_after_s=math.inf)
    n_fac = pr.free_mean.shape[0]
    changes = {}
    for fld in dataclasses.fields(pr):
        old = getattr(pr, fld.name)
        new = getattr(fitted, fld.name)
        if (isinstance(old, np.ndarray) and old.ndim >= 1 and old.shape[0] == n_fac
                and fld.name != "holiday_days" and isinstance(new, np.ndarray)
                and new.shape[1:] == old.shape[1:]):
            arr = np.array(old, copy=True)
            arr[np.sort(f_idx)] = new.astype(arr.dtype)
            changes[fld.name] = arr
    return dataclasses.replace(pr, **changes)
