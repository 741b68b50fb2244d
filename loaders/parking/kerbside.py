"""Street-zone occupancy from kerbside records, as occupancy history rows (the
:data:`HISTORY_COLUMNS` of ``occupancy_from_csv``), so street zones get the car parks' profile
and live machinery. Three record shapes, columns named by a preset or ``role=column`` flags:

* **Bay sensor stays** (Melbourne's "On-street Car Parking Sensor Data", one row per stay of a
  bay: ``DeviceId, ArrivalTime, DepartureTime, DurationMinutes, StreetMarker, ..., StreetId,
  ..., VehiclePresent``): preset ``melbourne_events``; roles ``bay``, ``zone``, ``arrival``,
  ``departure`` and optional ``present`` (rows whose value is false/0 are empty spells).
* **Bay sensor status changes** (Melbourne's live "On-street Parking Bay Sensors":
  ``KerbsideID, Zone_Number, Status_Description, Status_Timestamp``): preset
  ``melbourne_status``; roles ``bay``, ``zone``, ``time``, ``status`` (``Present`` starts a
  stay, any other status ends it; a stay still open at the end of the file ends there).
* **Meter payments**, either transactions (one row per payment: roles ``zone``, ``start`` and
  ``duration`` (minutes) or ``end``; preset ``transactions``) or paid occupancy counts
  (Seattle's "Paid Parking Occupancy": ``OccupancyDateTime, PaidOccupancy, BlockfaceName,
  SideOfStreet, SourceElementKey, ParkingSpaceCount, ...``; preset ``seattle``; roles ``time``,
  ``zone``, ``paid``, ``spaces``). Occupancy = active paid sessions / ``compliance``
  (``engine.parking.kerbside``).

Sensors and transactions are counted every ``step_s`` (15 min) from each zone's first record to
its last record of each local day (a zone with no record on a day says nothing about it: meters
off at night, sensors down). A zone's spaces: the ``spaces`` column, else its capacity in the
network (``spaces`` argument, by facility id), else for sensors the number of distinct bays
seen; zones with none are dropped and counted. ``facility_key`` is the zone value as written:
it must equal a street zone's facility id (or name) to be matched.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engine.parking.kerbside import active_counts, occupied_from_payments
from loaders.parking.checks import _missing_file
from loaders.parking.csv_text import _read_header, _read_text_csv
from loaders.parking.occupancy_times import _parse_times
from loaders.parking.schema import HISTORY_COLUMNS
from loaders.report import BuildReport, LoaderError

DEFAULT_STEP_S = 900
"""Zone occupancy is counted every 15 minutes."""

DEFAULT_COMPLIANCE = 0.75
"""Share of parked cars holding a valid payment, when none is given: an assumption to replace
with a local count (payments understate occupancy: unpaid stays, permits, placards)."""

KERBSIDE_PRESETS = {
    "melbourne_events": {"bay": "StreetMarker", "zone": "StreetId", "arrival": "ArrivalTime",
                         "departure": "DepartureTime", "present": "VehiclePresent"},
    "melbourne_status": {"bay": "KerbsideID", "zone": "Zone_Number", "time": "Status_Timestamp",
                         "status": "Status_Description"},
    "transactions": {"zone": "zone_id", "start": "start_time", "duration": "paid_minutes"},
    "seattle": {"zone": "SourceElementKey", "time": "OccupancyDateTime", "paid": "PaidOccupancy",
                "spaces": "ParkingSpaceCount"},
}
"""Column layouts of the record shapes (module docstring), by preset name."""

_NEEDED = {"melbourne_events": ("bay", "zone", "arrival", "departure"),
           "melbourne_status": ("bay", "zone", "time", "status"),
           "transactions": ("zone", "start"), "seattle": ("zone", "time", "paid")}
_FALSE = frozenset({"false", "0", "no", "f", "n"})


def _columns(path: Path, preset: str, columns: dict | None) -> tuple[pd.DataFrame, dict]:
    """The file's cells (text) and role -> column for ``preset`` overridden by ``columns``."""
    if preset not in KERBSIDE_PRESETS:
        raise LoaderError.of("unknown_preset", f"kerbside preset {preset!r} is not one of "
                             f"{', '.join(KERBSIDE_PRESETS)}", file=path.name)
    roles = {**KERBSIDE_PRESETS[preset], **(columns or {})}
    header = set(_read_header(path))
    needed = set(_NEEDED[preset])
    if preset == "transactions" and "end" in (columns or {}):
        roles.pop("duration", None)
    needed |= {"duration"} if preset == "transactions" and "end" not in roles else set()
    for role, col in list(roles.items()):
        if col not in header:
            if role in needed or role in (columns or {}):
                raise LoaderError.of("missing_required_column", f"no column {col!r} for the "
                                     f"{role} of {preset} records (set it with "
                                     f"{role}=COLUMN)", file=path.name, column=col)
            roles.pop(role)
    raw = _read_text_csv(path, usecols=lambda c: str(c).strip() in set(roles.values()))
    return raw, roles


def _times(raw: pd.DataFrame, col: str, timezone: str, keys: pd.Series, report: BuildReport,
           file: str, timestamp_format: str | None) -> np.ndarray:
    return np.asarray(_parse_times(raw[col], timestamp_format, timezone, keys, report, file, col),
                      dtype=np.float64)


def _drop_bad(ok: np.ndarray, what: str, report: BuildReport, file: str, column: str) -> None:
    if (~ok).any():
        report.warn("invalid_value", f"{int((~ok).sum()):,} rows have {what}: dropped", file=file,
                    column=column, count=int((~ok).sum()))
        report.drop(f"{file} rows", what, int((~ok).sum()))


def _sensor_stays(raw, roles, preset, timezone, report, file, fmt) -> pd.DataFrame:
    """(zone, bay, start, end) of each stay from either sensor shape."""
    keys = raw[roles["zone"]]
    if preset == "melbourne_events":
        start = _times(raw, roles["arrival"], timezone, keys, report, file, fmt)
        end = _times(raw, roles["departure"], timezone, keys, report, file, fmt)
        ok = np.isfinite(start) & np.isfinite(end) & (end >= start)
        if "present" in roles:
            ok &= ~raw[roles["present"]].str.lower().isin(_FALSE).to_numpy()
        _drop_bad(ok, "no stay (an empty spell, or times unreadable or reversed)", report, file,
                  roles["arrival"])
        return pd.DataFrame({"zone": keys[ok].to_numpy(), "bay": raw[roles["bay"]][ok].to_numpy(),
                             "start": start[ok], "end": end[ok]})
    t = _times(raw, roles["time"], timezone, keys, report, file, fmt)
    df = pd.DataFrame({"zone": keys.to_numpy(), "bay": raw[roles["bay"]].to_numpy(), "t": t,
                       "present": raw[roles["status"]].str.strip().str.lower().eq("present")})
    df = df[np.isfinite(df["t"])].sort_values(["bay", "t"], kind="stable")
    nxt = df.groupby("bay")["t"].shift(-1).fillna(df["t"].max())
    stays = df.assign(end=nxt)[df["present"].to_numpy()]
    return pd.DataFrame({"zone": stays["zone"].to_numpy(), "bay": stays["bay"].to_numpy(),
                         "start": stays["t"].to_numpy(), "end": stays["end"].to_numpy()})


def _day_spans(zone_codes: np.ndarray, start: np.ndarray, end: np.ndarray, n_zones: int,
               timezone: str, step_s: int) -> tuple[np.ndarray, np.ndarray]:
    """(zone, instant) pairs every ``step_s`` within each zone's first start and last end of each
    local day of its records."""
    local_day = (pd.to_datetime(start, unit="s", utc=True).tz_convert(timezone)
                 .strftime("%Y-%m-%d").to_numpy())
    frame = pd.DataFrame({"zone": zone_codes, "day": local_day, "start": start, "end": end})
    spans = frame.groupby(["zone", "day"]).agg(lo=("start", "min"), hi=("end", "max"))
    zones, instants = [], []
    for (z, _), lo, hi in zip(spans.index, spans["lo"], spans["hi"], strict=True):
        at = np.arange(np.ceil(lo / step_s) * step_s, hi, step_s)
        zones.append(np.full(at.size, z, dtype=np.int64))
        instants.append(at)
    if not zones:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(zones), np.concatenate(instants)


def _history(names, zone, at, occupied, spaces) -> pd.DataFrame:
    occ = np.minimum(np.round(occupied).astype(np.int64), spaces[zone])
    free = spaces[zone] - occ
    out = pd.DataFrame({"facility_key": np.asarray(names, dtype=str)[zone],
                        "time_utc_s": at.astype(np.int64), "free_spaces": free.astype(np.int64),
                        "capacity": spaces[zone].astype(np.int64), "status": "",
                        "full": free == 0})
    return out[list(HISTORY_COLUMNS)].sort_values(["facility_key", "time_utc_s"],
                                                  kind="stable").reset_index(drop=True)


def _zone_spaces(names, known: dict | None, fallback: np.ndarray | None, report, file
                 ) -> np.ndarray:
    """Spaces of each zone: the network's capacity, else ``fallback`` (bays seen), else 0."""
    known = known or {}
    out = np.array([float(known.get(str(n), np.nan)) for n in names])
    if fallback is not None:
        out = np.where(np.isfinite(out), np.maximum(out, fallback), fallback)
    missing = ~np.isfinite(out) | (out <= 0)
    if missing.any():
        report.warn("unknown_zone_spaces", f"{int(missing.sum())} zones have no known number of "
                    f"spaces (e.g. {names[int(np.flatnonzero(missing)[0])]!r}): their records are "
                    "dropped", file=file, count=int(missing.sum()))
    return np.where(missing, 0, out).astype(np.int64)


def _check_file(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise _missing_file(path)
    return path


def zone_occupancy_from_sensors(path, report: BuildReport, *, timezone: str,
                                preset: str = "melbourne_events", columns: dict | None = None,
                                spaces: dict | None = None, step_s: int = DEFAULT_STEP_S,
                                timestamp_format: str | None = None) -> pd.DataFrame:
    """Zone occupancy history from bay sensor records (module docstring), every ``step_s``.

    ``spaces`` maps a zone (facility id) to its spaces in the network. Raises LoaderError
    ``missing_required_file``, ``missing_required_column``, ``unknown_preset``.
    """
    path = _check_file(path)
    raw, roles = _columns(path, preset, columns)
    stays = _sensor_stays(raw, roles, preset, timezone, report, path.name, timestamp_format)
    names, code = np.unique(stays["zone"].astype(str).to_numpy(), return_inverse=True)
    bays = stays.groupby(code)["bay"].nunique().reindex(range(names.size), fill_value=0)
    cap = _zone_spaces(names, spaces, bays.to_numpy(np.float64), report, path.name)
    zone, at = _day_spans(code, stays["start"].to_numpy(), stays["end"].to_numpy(), names.size,
                          timezone, step_s)
    counts = active_counts(code, stays["start"], stays["end"], names.size, np.unique(at))
    col = np.searchsorted(np.unique(at), at)
    keep = cap[zone] > 0
    return _history(names, zone[keep], at[keep], counts[zone, col][keep], cap)


def zone_occupancy_from_payments(path, report: BuildReport, *, timezone: str,
                                 preset: str = "transactions", columns: dict | None = None,
                                 compliance: float = DEFAULT_COMPLIANCE, spaces: dict | None = None,
                                 step_s: int = DEFAULT_STEP_S, timestamp_format: str | None = None
                                 ) -> pd.DataFrame:
    """Zone occupancy history from meter payments: transactions (counted every ``step_s``) or
    paid occupancy counts (``seattle``), divided by ``compliance`` (module docstring).

    Raises LoaderError as :func:`zone_occupancy_from_sensors`, and ``invalid_parameter`` when
    ``compliance`` is not in (0, 1].
    """
    if not 0.0 < float(compliance) <= 1.0:
        raise LoaderError.of("invalid_parameter", f"payment compliance must be in (0, 1], got "
                             f"{compliance}", column="compliance")
    path = _check_file(path)
    raw, roles = _columns(path, preset, columns)
    keys = raw[roles["zone"]]
    if preset == "seattle":
        t = _times(raw, roles["time"], timezone, keys, report, path.name, timestamp_format)
        paid = pd.to_numeric(raw[roles["paid"]], errors="coerce").to_numpy(np.float64)
        ok = np.isfinite(t) & np.isfinite(paid) & (paid >= 0)
        _drop_bad(ok, "no readable time or paid count", report, path.name, roles["paid"])
        names, code = np.unique(keys[ok].astype(str).to_numpy(), return_inverse=True)
        given = (pd.to_numeric(raw[roles["spaces"]][ok], errors="coerce").groupby(code).max()
                 .reindex(range(names.size)).to_numpy(np.float64) if "spaces" in roles else None)
        cap = _zone_spaces(names, spaces, given, report, path.name)
        occupied = occupied_from_payments(paid[ok].reshape(1, -1), [np.inf], compliance)[0]
        keep = cap[code] > 0
        return _history(names, code[keep], t[ok][keep], occupied[keep], cap)
    start = _times(raw, roles["start"], timezone, keys, report, path.name, timestamp_format)
    if "end" in roles:
        end = _times(raw, roles["end"], timezone, keys, report, path.name, timestamp_format)
    else:
        minutes = pd.to_numeric(raw[roles["duration"]], errors="coerce").to_numpy(np.float64)
        end = start + minutes * 60.0
    ok = np.isfinite(start) & np.isfinite(end) & (end > start)
    _drop_bad(ok, "no readable start and positive paid duration", report, path.name,
              roles["start"])
    names, code = np.unique(keys[ok].astype(str).to_numpy(), return_inverse=True)
    cap = _zone_spaces(names, spaces, None, report, path.name)
    zone, at = _day_spans(code, start[ok], end[ok], names.size, timezone, step_s)
    grid = np.unique(at)
    counts = active_counts(code, start[ok], end[ok], names.size, grid)
    occupied = occupied_from_payments(counts, np.maximum(cap, 0), compliance)
    keep = cap[zone] > 0
    col = np.searchsorted(grid, at)
    return _history(names, zone[keep], at[keep], occupied[zone, col][keep], cap)
