"""Derive a sample hourly occupancy history for Monaco's OSM car parks from Montpellier's real one.

Monaco publishes no car-park occupancy. This script writes a DERIVED (not observed) series so the
Monaco sample can exercise parking-aware planning. Run it from the project root:

    .venv/bin/python data_samples/monaco/derive_occupancy.py

It is deterministic (seeded) and writes, next to itself:

* ``parking_occupancy_derived.csv``: ``code,capacity,occupancy,last_updated``, the ``generic``
  preset of ``loaders.parking.occupancy_from_csv`` (spaces *occupied*, epoch seconds); ``code`` is
  the facility id the OSM loader gives the car park (``osm:node/<id>``);
* ``derived_car_parks.csv``: one row per Monaco car park saying how its series was derived.

Method (details in README.md):

1. Montpellier: the 2026 hourly readings of its car parks (``parkings_montpellier_2026.csv``,
   cleaned by ``occupancy_from_csv``: capacity glitches dropped, "Full" read as 0 free), less the
   car parks whose sensor is stuck (free spaces never change) and French public holidays. The
   *profile* of a car park is its mean occupied share by (weekday, hour) in local time; its
   *residuals* are readings minus profile, interpolated onto every hour.
2. Monaco: the OSM ``amenity=parking`` nodes (not ``access=private``/``no``). The capacity is the
   OSM ``capacity`` tag, else the median capacity of Montpellier's (all underground) car parks
   for underground and multi-storey car parks, else ``DEFAULT_SURFACE_CAPACITY``.
3. Demand proxy: the number of scheduled bus departures (Monaco GTFS stop_times) at stops within
   ``CENTRAL_RADIUS_M`` of the car park. The ``N_SATURATED`` car parks with the most are central:
   they get Montpellier's busiest profiles (car parks that reported "Full", ranked by their mean
   occupied share on Monday-Saturday afternoons, 14:00-17:59), scaled so that the profile's
   quietest afternoon bin fills the car park: occupancy = min(1, share * scale), scale = 1 / that
   share; a profile whose scaled nights would fill up too (night mean + 2 sd >= 1) is passed
   over (see ``saturating_profiles``). The assumption (central Monaco is saturated where
   Montpellier is merely busy) is the only one not taken from data; the shape, timing and noise
   are Montpellier's.
4. Other car parks get one of the usable Montpellier profiles chosen by a hash of their id, unscaled.
5. Hourly series from ``FIRST_DAY`` to ``LAST_DAY`` (Monaco's GTFS service period, 2025-12-20 to
   2026-02-13, plus two weeks before and the next day): profile of the (weekday, hour), Monaco
   public holidays read as Sundays, plus the residuals of one Montpellier day of the same day type
   drawn at random (seeded) from the assigned car park (a whole day, so noise keeps its hourly
   correlation).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from engine.model import haversine_m  # noqa: E402
from loaders.parking import occupancy_from_csv  # noqa: E402
from loaders.report import BuildReport  # noqa: E402
from loaders.samples import resolve_file  # noqa: E402

OUT_SERIES = HERE / "parking_occupancy_derived.csv"
OUT_CAR_PARKS = HERE / "derived_car_parks.csv"
TZ = "Europe/Paris"
SEED = 377
FIRST_DAY = dt.date(2025, 12, 6)    # two weeks before the GTFS service starts (2025-12-20)
LAST_DAY = dt.date(2026, 2, 14)     # the day after the GTFS service ends (2026-02-13)
CENTRAL_RADIUS_M = 300.0            # about a 4-minute walk
N_SATURATED = 2
DEFAULT_SURFACE_CAPACITY = 50       # surface lots, or car parks with no parking=* tag
AFTERNOON_HOURS = range(14, 18)
# Monaco public holidays inside the window, read as Sundays (as the build's profile fit does).
MONACO_HOLIDAYS = {dt.date(2025, 12, 8), dt.date(2025, 12, 25), dt.date(2026, 1, 1),
                   dt.date(2026, 1, 27)}


def french_holidays(year: int) -> set[dt.date]:
    """French public holidays of a year (fixed dates, and Easter Monday, Ascension, Whit Monday)."""
    from dateutil.easter import easter

    e = easter(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    return ({dt.date(year, m, d) for m, d in fixed}
            | {e + dt.timedelta(days=1), e + dt.timedelta(days=39), e + dt.timedelta(days=50)})


def day_type(day: dt.date, holidays: set[dt.date]) -> int:
    """0 weekday, 1 Saturday, 2 Sunday or public holiday."""
    if day in holidays or day.weekday() == 6:
        return 2
    return 1 if day.weekday() == 5 else 0


def local_hours(day: dt.date) -> np.ndarray:
    """Epoch seconds of the 24 wall-clock hours 00:00..23:00 of a local day (a skipped hour on
    the spring-forward day is moved to the end of the gap)."""
    wall = pd.date_range(pd.Timestamp(day), periods=24, freq="h")
    aware = wall.tz_localize(TZ, ambiguous=np.ones(24, dtype=bool), nonexistent="shift_forward")
    return ((aware - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy()


# --- Montpellier ------------------------------------------------------------------------------
def montpellier_profiles() -> tuple[dict, dict, dict]:
    """(profile, residual days, busyness) per usable Montpellier car park.

    profile[name]: (7, 24) mean occupied share by local weekday and hour; residual_days[name]:
    {day type: (n_days, 24) residuals}; busyness[name]: (mean afternoon share, reported Full).
    """
    history = occupancy_from_csv(resolve_file("shared:montpellier/parking/"
                                              "parkings_montpellier_2026.csv"),
                                 BuildReport(), preset="montpellier")
    local = pd.to_datetime(history["time_utc_s"], unit="s", utc=True).dt.tz_convert(TZ)
    history["share"] = 1.0 - history["free_spaces"] / history["capacity"]
    history["weekday"] = local.dt.day_of_week
    history["hour"] = local.dt.hour
    history["date"] = local.dt.date
    holidays = french_holidays(2026)
    history = history[~history["date"].isin(holidays)]
    profiles, residual_days, busyness = {}, {}, {}
    for name, rows in history.groupby("facility_key", sort=True):
        if rows["free_spaces"].nunique() == 1:
            continue  # a stuck sensor: no shape to borrow
        table = rows.pivot_table(index="weekday", columns="hour", values="share", aggfunc="mean")
        table = table.reindex(index=range(7), columns=range(24))
        # A bin without readings takes the mean of its neighbours in the week.
        flat = table.to_numpy().ravel()
        gaps = np.isnan(flat)
        if gaps.any():
            idx = np.arange(flat.size)
            flat[gaps] = np.interp(idx[gaps], idx[~gaps], flat[~gaps], period=flat.size)
        profile = flat.reshape(7, 24)
        profiles[name] = profile
        t = rows["time_utc_s"].to_numpy()
        resid = rows["share"].to_numpy() - profile[rows["weekday"], rows["hour"]]
        days = sorted(set(rows["date"]))[1:-1]  # whole days only
        hourly = np.interp(np.concatenate([local_hours(d) for d in days]), t,
                           resid).reshape(len(days), 24)
        types = np.array([day_type(d, holidays) for d in days])
        residual_days[name] = {k: hourly[types == k] for k in range(3)}
        afternoon = profile[:6, AFTERNOON_HOURS].mean()   # Monday..Saturday
        busyness[name] = (float(afternoon), bool((rows["status"] == "Full").any()))
    return profiles, residual_days, busyness


# --- Monaco -----------------------------------------------------------------------------------
def monaco_car_parks(capacity_default_underground: int) -> pd.DataFrame:
    """Public OSM car parks of the Monaco extract with capacity and demand proxy."""
    import osmium

    rows = []
    pbf = resolve_file("shared:monaco/monaco.osm.pbf")
    for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE).with_filter(
            osmium.filter.KeyFilter("amenity")):
        tags = dict(obj.tags)
        amenity = {v.strip().lower() for v in tags.get("amenity", "").split(";")}
        if "parking" not in amenity or tags.get("access", "").lower() in ("private", "no"):
            continue
        kind = tags.get("parking", "")
        tagged = tags.get("capacity", "")
        if tagged.isdigit() and int(tagged) > 0:
            capacity, source = int(tagged), "osm capacity tag"
        elif kind in ("underground", "multi-storey"):
            capacity, source = capacity_default_underground, "Montpellier median (underground)"
        else:
            capacity, source = DEFAULT_SURFACE_CAPACITY, "default (surface or untagged)"
        rows.append(dict(code=f"osm:node/{obj.id}", name=tags.get("name", ""), parking=kind,
                         lon=obj.location.lon, lat=obj.location.lat, capacity=capacity,
                         capacity_source=source))
    parks = pd.DataFrame(rows).sort_values("code").reset_index(drop=True)
    with zipfile.ZipFile(resolve_file("shared:monaco/monaco-gtfs.zip")) as z:
        stops = pd.read_csv(io.TextIOWrapper(z.open("stops.txt"), encoding="utf-8-sig"),
                            dtype={"stop_id": str})
        stop_times = pd.read_csv(io.TextIOWrapper(z.open("stop_times.txt"), encoding="utf-8-sig"),
                                 usecols=["stop_id"], dtype={"stop_id": str})
    departures = stops["stop_id"].map(stop_times["stop_id"].value_counts()).fillna(0).to_numpy()
    d = haversine_m(parks["lon"].to_numpy()[:, None], parks["lat"].to_numpy()[:, None],
                    stops["stop_lon"].to_numpy()[None, :], stops["stop_lat"].to_numpy()[None, :])
    parks["bus_departures_nearby"] = ((d <= CENTRAL_RADIUS_M) * departures).sum(axis=1).astype(int)
    return parks


def saturating_profiles(profiles: dict, residual_days: dict, busyness: dict
                        ) -> list[tuple[str, float]]:
    """Montpellier profiles for the central Monaco car parks, busiest first, with their scale.

    Candidates reported "Full" at least once. The scale maps the profile's quietest afternoon
    bin (Monday-Saturday, 14:00-17:59) to a full car park, so every afternoon is full before
    noise. A candidate is kept only if its nights stay below capacity once scaled (night mean plus
    two standard deviations of its night residuals): a central car park empties at night.
    """
    out = []
    for name in sorted(busyness, key=lambda n: (-busyness[n][0], n)):
        if not busyness[name][1]:
            continue
        profile = profiles[name]
        scale = 1.0 / float(profile[:6, AFTERNOON_HOURS].min())
        night = np.concatenate([residual_days[name][k][:, :6].ravel() for k in range(3)])
        if (profile[:, :6].mean() + 2.0 * night.std()) * scale < 1.0:
            out.append((name, round(scale, 4)))
    return out


def stable_index(key: str, n: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % n


def main() -> None:
    profiles, residual_days, busyness = montpellier_profiles()
    ngsi_caps = pd.read_json(resolve_file("shared:montpellier/parking/data_parking.json"))
    underground = int(round(np.median([e["value"] for e in ngsi_caps["totalSpotNumber"]])))
    parks = monaco_car_parks(underground)

    busiest = saturating_profiles(profiles, residual_days, busyness)
    central = parks.sort_values(["bus_departures_nearby", "code"],
                                ascending=[False, True]).index[:N_SATURATED]
    usable = sorted(profiles)
    parks["montpellier_profile"] = [usable[stable_index(c, len(usable))] for c in parks["code"]]
    parks["saturated"] = False
    parks["scale"] = 1.0
    for rank, i in enumerate(central):
        name, scale = busiest[rank % len(busiest)]
        parks.loc[i, ["montpellier_profile", "saturated"]] = [name, True]
        parks.loc[i, "scale"] = scale

    rng = np.random.default_rng(SEED)
    days = [FIRST_DAY + dt.timedelta(days=k) for k in range((LAST_DAY - FIRST_DAY).days + 1)]
    rows = []
    for day in days:
        kind = day_type(day, MONACO_HOLIDAYS)
        weekday = 6 if day in MONACO_HOLIDAYS else day.weekday()
        epochs = local_hours(day).tolist()
        for park in parks.itertuples():
            pool = residual_days[park.montpellier_profile][kind]
            noise = pool[rng.integers(len(pool))]
            share = (profiles[park.montpellier_profile][weekday] + noise) * park.scale
            occupied = np.clip(np.round(share * park.capacity), 0, park.capacity).astype(int)
            rows.extend((park.code, park.capacity, int(o), e)
                        for o, e in zip(occupied, epochs, strict=True))
    rows.sort(key=lambda r: (r[0], r[3]))
    with open(OUT_SERIES, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("code", "capacity", "occupancy", "last_updated"))
        writer.writerows(rows)
    cols = ["code", "name", "parking", "lon", "lat", "capacity", "capacity_source",
            "bus_departures_nearby", "montpellier_profile", "saturated", "scale"]
    parks[cols].to_csv(OUT_CAR_PARKS, index=False, lineterminator="\n")
    print(f"wrote {len(rows):,} rows for {len(parks)} car parks to {OUT_SERIES.name} "
          f"({OUT_SERIES.stat().st_size / 1e6:.2f} MB); saturated: "
          + ", ".join(f"{parks.at[i, 'name'] or parks.at[i, 'code']} "
                      f"<- {parks.at[i, 'montpellier_profile']}" for i in central))


if __name__ == "__main__":
    main()
