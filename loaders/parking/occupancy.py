"""Occupancy history of a long CSV (one row per facility and reading) as a DataFrame.

:func:`occupancy_from_csv` reads a long CSV into a DataFrame with the columns of
:data:`~loaders.parking.schema.HISTORY_COLUMNS`; column layouts are named by flags or by a preset
of :data:`~loaders.parking.occupancy_layout.OCCUPANCY_PRESETS`. Bad values are repaired or
dropped, and always counted in the report (the steps are in ``occupancy_rows.py``).
"""
from __future__ import annotations

import zoneinfo
from pathlib import Path

import numpy as np
import pandas as pd

from loaders.parking.checks import CAPACITY_JUMP_FACTOR, _missing_file
from loaders.parking.csv_text import _read_header, _read_text_csv
from loaders.parking.occupancy_layout import _ROLE_KEYS, _resolve_layout
from loaders.parking.occupancy_rows import (
    _drop_repeated_readings,
    _keyed_rows,
    _with_capacity,
    _with_counts,
    _with_free_spaces,
    _with_times,
)
from loaders.report import BuildReport, LoaderError

CONSTANT_SERIES_MIN_OBS = 48
"""A facility whose free spaces never change over at least this many readings gets a warning."""


def occupancy_from_csv(path: str | Path, report: BuildReport, *, preset: str | None = None,
                       timestamp_col: str | None = None, facility_col: str | None = None,
                       free_col: str | None = None, occupied_col: str | None = None,
                       capacity_col: str | None = None, status_col: str | None = None,
                       timestamp_format: str | None = None, timezone: str = "Europe/Paris",
                       full_status_values=("Full", "Complet"),
                       capacity_jump_factor: float = CAPACITY_JUMP_FACTOR,
                       drop_constant_series: bool = False) -> pd.DataFrame:
    """Occupancy readings of a long CSV: one row per facility and reading.

    Columns are named by ``preset`` (a key of :data:`OCCUPANCY_PRESETS`) and/or the ``*_col``
    flags (flags win). Without either, the preset whose columns the file has is used. Give
    ``free_col`` (free spaces) or ``occupied_col`` (spaces taken; free = capacity - occupied).
    ``timestamp_format`` is a strftime format, 'epoch_s' or 'epoch_ms' (default: ISO 8601, or
    epoch seconds when every cell is a number); wall-clock times are in ``timezone``.

    Returns a DataFrame with :data:`HISTORY_COLUMNS`: ``facility_key`` (the facility's name or code
    as written), ``time_utc_s`` (int64, seconds since the epoch), ``free_spaces`` and ``capacity``
    (int64, ``0 <= free <= capacity``, ``capacity > 0``), ``status`` ('' without a status column),
    sorted by facility key then time. Nothing is NaN. Repairs, each counted in ``report``:

    * empty facility key, unparseable timestamp, unparseable or negative count: row dropped;
    * exact duplicate rows: dropped;
    * capacity missing, zero or negative: the facility's median capacity from its other rows, or
      the row is dropped when it has none;
    * capacity jump: a capacity above ``capacity_jump_factor`` times the facility's median
      capacity, or below the median divided by it, is a glitch (Montpellier's Vicarello reports
      1000 for a 64-space car park, with 950 "free"): the row is dropped;
    * free or occupied above capacity: clamped to the capacity;
    * a status in ``full_status_values`` (the car park refuses entry) with free spaces left: free
      set to 0, since arriving drivers find no space (operators keep spaces for subscribers);
    * the same facility and instant twice with different values: the last row in the file wins.

    A facility whose free spaces never change over :data:`CONSTANT_SERIES_MIN_OBS` readings or
    more gets a ``constant_series`` warning (a stuck sensor); its rows are kept unless
    ``drop_constant_series`` (then dropped and counted).

    Raises LoaderError: ``missing_required_file``, ``missing_required_column`` (naming the file and
    column), ``unknown_preset``, ``missing_parameter``, ``invalid_timezone``, ``empty_file``.
    """
    path = Path(path)
    if not path.is_file():
        raise _missing_file(path)
    file = path.name
    _check_timezone(timezone, file)
    flags = dict(timestamp_col=timestamp_col, facility_col=facility_col, free_col=free_col,
                 occupied_col=occupied_col, capacity_col=capacity_col, status_col=status_col)
    raw, roles = _read_columns(path, preset, flags)
    ts_col, fac_col, cap_col = roles["timestamp_col"], roles["facility_col"], roles["capacity_col"]
    count_col = roles.get("free_col") or roles["occupied_col"]
    occupied = "free_col" not in roles
    st_col = roles.get("status_col")

    df = _keyed_rows(raw, fac_col, report, file)
    df = _with_times(df, raw, ts_col, timestamp_format, timezone, report, file)
    df = _with_counts(df, raw, count_col, report, file)
    df = _with_capacity(df, raw, cap_col, capacity_jump_factor, report, file)
    _with_free_spaces(df, raw, count_col, occupied, st_col, full_status_values, report, file)
    df = _drop_repeated_readings(df, report, file)
    out = _assemble(df)
    return _flag_constant_series(out, count_col, drop_constant_series, report, file)


def _check_timezone(timezone: str, file: str) -> None:
    """LoaderError ``invalid_timezone`` unless ``timezone`` is an IANA name."""
    try:
        zoneinfo.ZoneInfo(str(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise LoaderError.of("invalid_timezone", f"timezone {timezone!r} is not an IANA name "
                             "(e.g. Europe/Paris)", file=file, column="timezone") from None


def _read_columns(path: Path, preset: str | None, flags: dict) -> tuple[pd.DataFrame, dict]:
    """(the file's cells in the columns it maps, as text; role -> column) for the layout that
    ``preset`` and ``flags`` name."""
    header = _read_header(path)
    layout = _resolve_layout(header, path, preset, flags)
    roles = {key: layout[key] for key in _ROLE_KEYS if layout.get(key)}
    raw = _read_text_csv(path, usecols=lambda c: str(c).strip() in set(roles.values()))
    return raw, roles


def _assemble(df: pd.DataFrame) -> pd.DataFrame:
    """The :data:`HISTORY_COLUMNS` of the kept rows, typed, sorted by facility key then time.

    ``full`` also holds for every reading with no free space."""
    out = pd.DataFrame({
        "facility_key": df["facility_key"].astype(str).to_numpy(),
        "time_utc_s": df["time_utc_s"].to_numpy(np.int64),
        "free_spaces": df["free_spaces"].to_numpy(np.int64),
        "capacity": df["capacity"].to_numpy(np.int64),
        "status": df["status"].astype(str).to_numpy(),
        "full": (df["full"].to_numpy(bool) | (df["free_spaces"].to_numpy(np.int64) == 0)),
    })
    return out.sort_values(["facility_key", "time_utc_s"], kind="stable").reset_index(drop=True)


def _flag_constant_series(out: pd.DataFrame, count_col: str, drop_constant_series: bool,
                          report: BuildReport, file: str) -> pd.DataFrame:
    """Warn about each facility whose free spaces never change over
    :data:`CONSTANT_SERIES_MIN_OBS` readings or more (a stuck sensor); drop its rows when
    ``drop_constant_series``."""
    stats = out.groupby("facility_key")["free_spaces"].agg(["nunique", "size"])
    stuck = stats[(stats["nunique"] == 1) & (stats["size"] >= CONSTANT_SERIES_MIN_OBS)]
    for key, s in stuck.iterrows():
        value = int(out.loc[out["facility_key"] == key, "free_spaces"].iloc[0])
        report.warn("constant_series", f"facility {key!r}: free spaces stay at {value} over all "
                    f"{int(s['size']):,} readings (a stuck sensor?): "
                    f"{'dropped' if drop_constant_series else 'kept'}", file=file,
                    column=count_col)
    if drop_constant_series and len(stuck):
        gone = out["facility_key"].isin(stuck.index)
        report.drop(f"{file} rows", "constant series (stuck sensor)", int(gone.sum()))
        out = out[~gone].reset_index(drop=True)
    return out
