"""Write ``parking_occupancy.csv``: hourly occupancy of the tiny town's three car parks.

Run from the project root: ``python data_samples/tiny_town/make_parking_occupancy.py``. The output
is deterministic (seeded noise) and follows the shared tiny-town spec: eight weeks of hourly
readings from Monday 2026-01-05 00:00 (Europe/Paris); Parking Centre (120 spaces) is full on
weekdays from 14:00 to 17:59 and has about 80 free spaces at 10:00; Parking Gare (60) and Parking
Relais (200) are never full.

Layout: the ``generic`` preset of ``loaders.parking.occupancy_from_csv``:
``code,capacity,occupancy,last_updated`` with spaces *occupied* and ISO 8601 local times with
their UTC offset. ``code`` is the car park's OSM name, which the build matches to the facility.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

OUT = Path(__file__).resolve().parent / "parking_occupancy.csv"
TZ = ZoneInfo("Europe/Paris")
FIRST_DAY = dt.date(2026, 1, 5)   # a Monday
N_DAYS = 8 * 7
SEED = 20260105

# Occupied share by hour 0..23, for weekdays, Saturdays and Sundays (index 0, 1, 2).
_SHARES = {
    # Town centre: shoppers and offices; saturated every weekday afternoon.
    "Parking Centre": (120, np.array([
        [.20, .18, .17, .17, .17, .18, .20, .24, .28, .31, .33, .45, .62, .85,
         1.0, 1.0, 1.0, 1.0, .80, .60, .45, .35, .28, .22],
        [.20, .18, .17, .17, .17, .18, .20, .25, .35, .50, .62, .72, .78, .80,
         .82, .83, .80, .72, .60, .48, .40, .32, .26, .22],
        [.18, .17, .16, .16, .16, .16, .17, .18, .20, .24, .30, .35, .38, .38,
         .36, .34, .32, .30, .27, .24, .22, .20, .19, .18],
    ])),
    # Station car park: commuters on weekdays, quiet at weekends; never full.
    "Parking Gare": (60, np.array([
        [.10, .08, .08, .08, .08, .12, .30, .55, .75, .82, .85, .85, .83, .82,
         .83, .84, .82, .70, .50, .30, .20, .15, .12, .10],
        [.10, .08, .08, .08, .08, .09, .12, .18, .25, .32, .38, .42, .45, .45,
         .44, .42, .40, .36, .30, .24, .18, .14, .12, .10],
        [.08, .07, .07, .07, .07, .07, .08, .10, .14, .18, .22, .25, .26, .26,
         .25, .24, .22, .20, .17, .14, .12, .10, .09, .08],
    ])),
    # Park-and-ride at the edge of town: fills with commuters, never full.
    "Parking Relais": (200, np.array([
        [.05, .04, .04, .04, .05, .10, .30, .60, .78, .82, .82, .80, .78, .78,
         .80, .80, .74, .55, .30, .15, .10, .08, .06, .05],
        [.04, .04, .04, .04, .04, .05, .08, .12, .18, .24, .28, .30, .30, .30,
         .28, .26, .22, .18, .14, .10, .07, .06, .05, .04],
        [.03, .03, .03, .03, .03, .03, .04, .05, .07, .09, .11, .12, .12, .12,
         .11, .10, .09, .08, .06, .05, .04, .04, .03, .03],
    ])),
}
NOISE_SD = 0.03        # of capacity
NEVER_FULL_MARGIN = 2  # Gare and Relais keep at least this many spaces free


def occupied_spaces(name: str, capacity: int, shares: np.ndarray, day_type: int, hour: int,
                    rng: np.random.Generator) -> int:
    """Spaces occupied at one hour: the profile plus seeded noise, within the spec's rules."""
    if name == "Parking Centre" and day_type == 0 and 14 <= hour <= 17:
        return capacity   # full, exactly: the spec's "0 free on weekdays 14:00-17:59"
    value = int(round(capacity * (shares[day_type, hour] + rng.normal(0.0, NOISE_SD))))
    upper = capacity - 1 if name == "Parking Centre" else capacity - NEVER_FULL_MARGIN
    return min(max(value, 0), upper)


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows = []
    for d in range(N_DAYS):
        day = FIRST_DAY + dt.timedelta(days=d)
        day_type = 0 if day.weekday() < 5 else (1 if day.weekday() == 5 else 2)
        for hour in range(24):
            when = dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)
            for name, (capacity, shares) in _SHARES.items():
                occupied = occupied_spaces(name, capacity, shares, day_type, hour, rng)
                rows.append((name, capacity, occupied, when.isoformat()))
    with open(OUT, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("code", "capacity", "occupancy", "last_updated"))
        writer.writerows(rows)
    print(f"wrote {len(rows):,} rows to {OUT}")


if __name__ == "__main__":
    main()
