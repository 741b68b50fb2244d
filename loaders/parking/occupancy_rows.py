"""The rows of an occupancy CSV, step by step: each step parses one column, and repairs or drops
the rows it cannot use, counting them in the report (see :func:`occupancy_from_csv`)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from loaders.parking.occupancy_times import _parse_times
from loaders.report import BuildReport


def _drop(df: pd.DataFrame, mask, report: BuildReport, file: str, code: str, reason: str,
          message: str, column: str | None = None) -> pd.DataFrame:
    """Remove rows where ``mask``; count them and name the first in a warning."""
    mask = np.asarray(mask, dtype=bool)
    n = int(mask.sum())
    if n:
        first = df.index[np.flatnonzero(mask)[0]]
        rows = f"{n:,} row{'s' if n > 1 else ''}"
        report.warn(code, f"{rows} {message}, e.g. facility {df.at[first, 'facility_key']!r}: "
                    "dropped", file=file, row=int(first), column=column, count=n)
        report.drop(f"{file} rows", reason, n)
    return df[~mask]


def _keyed_rows(raw: pd.DataFrame, fac_col: str, report: BuildReport, file: str) -> pd.DataFrame:
    """One row per usable reading, holding its ``facility_key``: rows with an empty key and exact
    duplicates of an earlier row are dropped."""
    df = pd.DataFrame({"facility_key": raw[fac_col]}, index=raw.index)
    df = _drop(df, df["facility_key"] == "", report, file, "missing_required_field",
               "empty facility key", "have an empty facility key", fac_col)

    # Exact duplicates of every column read: the same reading exported twice.
    dup = raw.loc[df.index].duplicated(keep="first")
    return _drop(df, dup.to_numpy(), report, file, "duplicate_row", "exact duplicate",
                 "repeat an earlier row exactly")


def _with_times(df: pd.DataFrame, raw: pd.DataFrame, ts_col: str, timestamp_format: str | None,
                timezone: str, report: BuildReport, file: str) -> pd.DataFrame:
    """Adds ``time_utc_s`` (float seconds since the epoch); rows without a readable time dropped."""
    times = _parse_times(raw.loc[df.index, ts_col], timestamp_format, timezone,
                         df["facility_key"], report, file, ts_col)
    df["time_utc_s"] = times
    return _drop(df, df["time_utc_s"].isna(), report, file, "invalid_timestamp",
                 "unparseable timestamp", f"have an unparseable {ts_col} (e.g. "
                 f"{raw.at[df.index[df['time_utc_s'].isna()][0], ts_col]!r})"
                 if df["time_utc_s"].isna().any() else "", ts_col)


def _with_counts(df: pd.DataFrame, raw: pd.DataFrame, count_col: str, report: BuildReport,
                 file: str) -> pd.DataFrame:
    """Adds ``count`` (free or occupied spaces, rounded); rows without a count >= 0 dropped."""
    counts = pd.to_numeric(raw.loc[df.index, count_col].str.replace(",", ".", regex=False),
                           errors="coerce")
    df["count"] = counts
    df = _drop(df, df["count"].isna(), report, file, "invalid_value", f"unparseable {count_col}",
               f"have no number in {count_col}", count_col)
    df = _drop(df, df["count"] < 0, report, file, "invalid_value", f"negative {count_col}",
               f"have a negative {count_col}", count_col)
    fractional = (df["count"] != np.round(df["count"])).to_numpy()
    if fractional.any():
        report.warn("non_integer_count", f"{int(fractional.sum()):,} {count_col} values are not "
                    "whole numbers: rounded", file=file, column=count_col,
                    count=int(fractional.sum()))
    df["count"] = np.round(df["count"])
    return df


def _with_capacity(df: pd.DataFrame, raw: pd.DataFrame, cap_col: str, capacity_jump_factor: float,
                   report: BuildReport, file: str) -> pd.DataFrame:
    """Adds ``capacity``: a missing one is the facility's median; rows with none, or with a jump
    away from the median (a glitch), dropped."""
    cap = pd.to_numeric(raw.loc[df.index, cap_col].str.replace(",", ".", regex=False),
                        errors="coerce")
    cap = np.round(cap).where(cap > 0)
    df["capacity"] = cap
    # The facility's usual capacity: median of its valid capacities.
    median_cap = df.groupby("facility_key")["capacity"].transform("median")
    missing = df["capacity"].isna()
    fillable = missing & median_cap.notna()
    if fillable.any():
        first = df.index[np.flatnonzero(fillable.to_numpy())[0]]
        report.warn("capacity_filled", f"{int(fillable.sum()):,} rows have no valid {cap_col} "
                    "(missing, zero or negative): the facility's median capacity is used",
                    file=file, row=int(first), column=cap_col, count=int(fillable.sum()))
        df.loc[fillable, "capacity"] = np.round(median_cap[fillable])
    df = _drop(df, df["capacity"].isna(), report, file, "missing_capacity", "no capacity",
               f"have no valid {cap_col} and their facility none elsewhere", cap_col)
    median_cap = df.groupby("facility_key")["capacity"].transform("median")
    jump = ((df["capacity"] > median_cap * capacity_jump_factor)
            | (df["capacity"] * capacity_jump_factor < median_cap))
    return _drop(df, jump, report, file, "implausible_capacity", "implausible capacity jump",
                 f"have a {cap_col} more than {capacity_jump_factor:g} times away from their "
                 "facility's median capacity (a glitch)", cap_col)


def _with_free_spaces(df: pd.DataFrame, raw: pd.DataFrame, count_col: str, occupied: bool,
                      st_col: str | None, full_status_values, report: BuildReport,
                      file: str) -> None:
    """Adds ``free_spaces`` (the count clamped to the capacity), ``status`` and ``full`` (the
    status says the car park refuses entry), in place."""
    if occupied:
        above = df["count"] > df["capacity"]
        what = f"{count_col} (occupied) above capacity"
        free = (df["capacity"] - df["count"].clip(upper=df["capacity"]))
    else:
        above = df["count"] > df["capacity"]
        what = f"{count_col} (free) above capacity"
        free = df["count"].clip(upper=df["capacity"])
    if above.any():
        first = df.index[np.flatnonzero(above.to_numpy())[0]]
        report.warn("count_above_capacity", f"{int(above.sum()):,} rows have {what}: clamped",
                    file=file, row=int(first), column=count_col, count=int(above.sum()))
    df["free_spaces"] = free
    df["status"] = raw.loc[df.index, st_col] if st_col else ""
    df["full"] = df["status"].isin(tuple(full_status_values)) if st_col else False
    if st_col and full_status_values:
        full = df["full"] & (df["free_spaces"] > 0)
        if full.any():
            first = df.index[np.flatnonzero(full.to_numpy())[0]]
            # The count is kept as reported: the forecaster learns from these rows at how many
            # free spaces each car park stops letting cars in.
            report.warn("full_status_with_free_spaces", f"{int(full.sum()):,} rows say "
                        f"{'/'.join(full_status_values)} yet count free spaces (e.g. "
                        f"{int(df.at[first, 'free_spaces'])}): counted as full (the car park "
                        "refuses entry)", file=file, row=int(first), column=st_col,
                        count=int(full.sum()))


def _drop_repeated_readings(df: pd.DataFrame, report: BuildReport, file: str) -> pd.DataFrame:
    """Rounds ``time_utc_s`` to whole seconds, then keeps the last of the rows giving a facility
    and instant twice (identical or not)."""
    df["time_utc_s"] = df["time_utc_s"].round().astype(np.int64)
    same = df.duplicated(["facility_key", "time_utc_s", "free_spaces", "capacity", "status"],
                         keep="last")
    df = _drop(df, same, report, file, "duplicate_row", "exact duplicate",
               "repeat the reading of a later row (same facility, instant and values)")
    conflict = df.duplicated(["facility_key", "time_utc_s"], keep="last")
    return _drop(df, conflict, report, file, "conflicting_duplicate",
                 "same facility and time, different values",
                 "give another value for a facility and instant given later in the file (the last "
                 "one is kept)")
