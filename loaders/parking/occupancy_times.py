"""Timestamps of occupancy CSVs as seconds since the Unix epoch: offsets, epoch numbers, and
wall-clock times in a timezone (with the daylight-saving gaps and repeats resolved and counted)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from loaders.report import BuildReport

_OFFSET_RE = r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"
_EPOCH_RE = r"^-?\d+(?:\.\d+)?$"


def _parse_times(raw: pd.Series, timestamp_format: str | None, timezone: str, facility: pd.Series,
                 report: BuildReport, file: str, column: str) -> pd.Series:
    """Seconds since the Unix epoch (float, NaN when unparseable) of each timestamp cell.

    Cells with a UTC offset (or 'Z') are absolute; cells that are numbers (or
    ``timestamp_format`` 'epoch_s'/'epoch_ms') are epoch seconds (milliseconds when above 1e11);
    other cells are wall-clock times in ``timezone``. Wall-clock times that do not exist (spring
    forward) move forward by the gap; times that occur twice (fall back) are resolved per facility
    in file order: the first pass is summer time until the clock goes back. Both are counted.
    """
    out = pd.Series(np.nan, index=raw.index, dtype=np.float64)
    text = raw.astype(str)
    nonempty = text != ""
    fmt = timestamp_format
    if fmt in ("epoch_s", "epoch_ms"):
        values = pd.to_numeric(text.where(nonempty), errors="coerce")
        return (values / 1000.0 if fmt == "epoch_ms" else values).astype(np.float64)
    if fmt is None:
        epoch = text.str.match(_EPOCH_RE) & nonempty
        if epoch.any():
            values = pd.to_numeric(text[epoch], errors="coerce")
            out[epoch] = values.where(values.abs() < 1e11, values / 1000.0)
            nonempty = nonempty & ~epoch

    has_offset = text.str.contains(_OFFSET_RE, regex=True) & nonempty
    if fmt is not None and "%z" in fmt:
        has_offset = nonempty
    if has_offset.any():
        parsed = pd.to_datetime(text[has_offset], format=fmt or "ISO8601", utc=True,
                                errors="coerce")
        out[has_offset] = _epoch_s(parsed)
    local = nonempty & ~has_offset
    if not local.any():
        return out
    naive = pd.to_datetime(text[local], format=fmt or "ISO8601", errors="coerce")
    if getattr(naive.dt, "tz", None) is not None:  # a format that carried a zone anyway
        out[local] = _epoch_s(naive)
        return out
    ok = naive.notna()
    naive = naive[ok]
    probe = naive.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    dst_first = naive.dt.tz_localize(timezone, ambiguous=np.ones(len(naive), dtype=bool),
                                     nonexistent="NaT")
    nonexistent = dst_first.isna()
    ambiguous = probe.isna() & ~nonexistent
    is_dst = np.ones(len(naive), dtype=bool)
    if ambiguous.any():
        amb = pd.DataFrame({"key": facility[naive.index][ambiguous],
                            "day": naive[ambiguous].dt.normalize(), "t": naive[ambiguous]})
        previous_max = amb.groupby(["key", "day"])["t"].transform(lambda s: s.cummax().shift())
        # Summer time until a wall-clock time does not exceed an earlier one: the clock went back.
        first_pass = previous_max.isna() | (amb["t"] > previous_max)
        is_dst[np.flatnonzero(ambiguous.to_numpy())] = first_pass.to_numpy()
        first = int(np.flatnonzero(ambiguous.to_numpy())[0])
        report.warn("ambiguous_local_time", f"{int(ambiguous.sum())} wall-clock times occur twice "
                    f"in {timezone} (clocks going back), e.g. {text[naive.index[first]]!r}: "
                    "resolved in file order per facility (summer time first)", file=file,
                    row=int(naive.index[first]), column=column, count=int(ambiguous.sum()))
    if nonexistent.any():
        first = int(np.flatnonzero(nonexistent.to_numpy())[0])
        report.warn("nonexistent_local_time", f"{int(nonexistent.sum())} wall-clock times do not "
                    f"exist in {timezone} (clocks going forward), e.g. "
                    f"{text[naive.index[first]]!r}: moved forward to the end of the gap", file=file,
                    row=int(naive.index[first]), column=column, count=int(nonexistent.sum()))
    aware = naive.dt.tz_localize(timezone, ambiguous=is_dst, nonexistent="shift_forward")
    out[naive.index] = _epoch_s(aware)
    return out


def _epoch_s(ts: pd.Series) -> np.ndarray:
    """Seconds since the epoch (float) of tz-aware timestamps; NaT -> NaN."""
    utc = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    values = utc.to_numpy(dtype="datetime64[ms]").astype(np.int64).astype(np.float64) / 1000.0
    values[utc.isna().to_numpy()] = np.nan
    return values

