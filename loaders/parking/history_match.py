"""Occupancy history rows matched to facilities by name or id, as the engine's
:class:`OccupancyHistory`."""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.model import NO_INDEX, UNKNOWN_CAPACITY, OccupancyHistory
from loaders.parking.checks import CAPACITY_JUMP_FACTOR
from loaders.parking.names import _name_tokens, normalize_name
from loaders.parking.schema import HISTORY_COLUMNS
from loaders.report import BuildReport, LoaderError


def _match_keys(keys: np.ndarray, df: pd.DataFrame, aliases: dict[int, list[int]],
                original: pd.DataFrame, match_by, key_capacity: dict[str, float],
                capacity: np.ndarray) -> tuple[dict[str, int], dict[str, str]]:
    """facility_key -> facility position, and key -> why it is unmatched.

    When a key names several facilities, the one whose capacity is within
    :data:`CAPACITY_JUMP_FACTOR` of the key's median history capacity is taken, if only one is.
    """
    index_by: dict[str, dict[str, set]] = {"name": {}, "facility_id": {}, "loose": {}}
    rows = df.index.to_numpy()
    for pos, row in enumerate(rows):
        records = [row] + aliases.get(int(row), [])
        for r in records:
            index_by["name"].setdefault(normalize_name(original.at[r, "name"]), set()).add(pos)
            index_by["facility_id"].setdefault(str(original.at[r, "facility_id"]), set()).add(pos)
            loose = " ".join(sorted(_name_tokens(original.at[r, "name"])))
            index_by["loose"].setdefault(loose, set()).add(pos)
    index_by["name"].pop("", None)
    index_by["loose"].pop("", None)
    matched: dict[str, int] = {}
    failed: dict[str, str] = {}
    for key in keys:
        found = None
        why = "no facility has this name or id"
        for how in match_by:
            if how == "facility_id":
                cands = index_by["facility_id"].get(str(key), set())
            elif how == "name":
                cands = index_by["name"].get(normalize_name(key), set())
                if not cands:
                    cands = index_by["loose"].get(" ".join(sorted(_name_tokens(key))), set())
            else:
                raise ValueError(f"parking_from_records: match_by has {how!r}; expected 'name' "
                                 "or 'facility_id'")
            if len(cands) > 1 and key in key_capacity:
                # Same name for a car park and a bike station ('Comédie'): the history's capacity
                # tells which one it describes.
                c = key_capacity[key]
                close = {p for p in cands if capacity[p] > 0
                         and c / CAPACITY_JUMP_FACTOR <= capacity[p] <= c * CAPACITY_JUMP_FACTOR}
                cands = close if len(close) == 1 else cands
            if len(cands) == 1:
                found = next(iter(cands))
                break
            if len(cands) > 1:
                why = f"{len(cands)} facilities have this {how}"
        if found is None:
            failed[str(key)] = why
        else:
            matched[str(key)] = found
    return matched, failed


def _occupancy_history(history: pd.DataFrame, df: pd.DataFrame, aliases: dict[int, list[int]],
                       original: pd.DataFrame, match_by, capacity: np.ndarray,
                       report: BuildReport) -> OccupancyHistory:
    """The history rows whose key matches one facility of ``df``, as an OccupancyHistory sorted
    by facility then time. Facilities of unknown ``capacity`` take their history's median
    capacity (in place)."""
    for col in HISTORY_COLUMNS[:4]:
        if col not in history.columns:
            raise LoaderError.of("missing_required_column", f"history lacks column {col!r}",
                                 file="<history>", column=col)
    fac_of_row = _facility_of_rows(history, df, aliases, original, match_by, capacity, report)
    occupancy = _history_arrays(history, fac_of_row, report)
    _fill_unknown_capacity(capacity, occupancy.facility_idx, occupancy.capacity)
    return occupancy


def _facility_of_rows(history: pd.DataFrame, df: pd.DataFrame, aliases: dict[int, list[int]],
                      original: pd.DataFrame, match_by, capacity: np.ndarray,
                      report: BuildReport) -> np.ndarray:
    """The facility position of each history row (NO_INDEX for a key matched to none or to
    several: warned, naming the key)."""
    keys = history["facility_key"].astype(str).to_numpy()
    uniq = np.unique(keys)
    key_capacity = history.groupby(history["facility_key"].astype(str))["capacity"].median()
    matched, failed = _match_keys(uniq, df, aliases, original, match_by,
                                  key_capacity.to_dict(), capacity)
    fac = np.array([matched.get(k, NO_INDEX) for k in uniq], dtype=np.int32)
    fac_of_row = fac[np.searchsorted(uniq, keys)] if len(keys) else np.zeros(0, np.int32)
    for key, why in failed.items():
        rows_n = int((keys == key).sum())
        report.warn("unmatched_facility_key", f"history key {key!r} ({rows_n:,} rows): {why}: "
                    "rows dropped", file="<history>", count=rows_n)
    return fac_of_row


def _history_arrays(history: pd.DataFrame, fac_of_row: np.ndarray,
                    report: BuildReport) -> OccupancyHistory:
    """The matched rows, sorted by facility then time, one reading per facility and instant."""
    lost = fac_of_row == NO_INDEX
    report.drop("occupancy history rows", "facility key not matched", int(lost.sum()))
    t = history["time_utc_s"].to_numpy(np.int64)[~lost]
    free = history["free_spaces"].to_numpy(np.int64)[~lost]
    hcap = history["capacity"].to_numpy(np.int64)[~lost]
    full = (history["full"].to_numpy(bool) if "full" in history.columns
            else history["free_spaces"].to_numpy(np.int64) == 0)[~lost]
    f = fac_of_row[~lost]
    order = np.lexsort((np.arange(f.size), t, f))
    f, t, free, hcap, full = f[order], t[order], free[order], hcap[order], full[order]
    # Two keys of one facility (a merged record) at the same instant: the later row wins.
    same = np.zeros(f.size, dtype=bool)
    same[:-1] = (f[1:] == f[:-1]) & (t[1:] == t[:-1])
    if same.any():
        report.warn("conflicting_duplicate", f"{int(same.sum())} history rows give a second "
                    "reading of a facility at the same instant (under another key): the "
                    "later row kept", file="<history>", count=int(same.sum()))
        report.drop("occupancy history rows", "same facility and time under two keys",
                    int(same.sum()))
        f, t, free, hcap, full = f[~same], t[~same], free[~same], hcap[~same], full[~same]
    return OccupancyHistory(facility_idx=f.astype(np.int32), time_utc_s=t.astype(np.int64),
                            free_spaces=free.astype(np.int32),
                            capacity=hcap.astype(np.int32), status_full=full)


def _fill_unknown_capacity(capacity: np.ndarray, facility_idx: np.ndarray,
                           history_capacity: np.ndarray) -> None:
    """Each facility of UNKNOWN_CAPACITY takes the median capacity of its history (in place)."""
    unknown = np.flatnonzero(capacity == UNKNOWN_CAPACITY)
    if unknown.size and facility_idx.size:
        for idx in unknown:
            seen = history_capacity[facility_idx == idx]
            if seen.size:
                capacity[idx] = int(np.round(np.median(seen)))
