"""Write ``gtfs/``, the hand-checkable transit feed of the tiny town (GTFS text files).

Run from the project root: ``python data_samples/tiny_town/make_gtfs.py``. The output is
deterministic (same bytes on every run) and committed beside this script. The layout follows
/work/tiny-town-spec.md (grid column i at lon 7.5000 + 0.0025 i, row j at lat 43.8000 + 0.0018 j);
the "Transit" section of README.md in this folder lists every stop and time.

Two lines, Europe/Paris, service from 2026-01-01 to 2026-02-28:

* bus ``A`` along Avenue de la Gare (row 1): Relais Ouest (0, 1) - Mairie (2, 1) - Gare (4, 1),
  stops 10 m south of the intersections, 2 min between stops; an explicit timetable, plus a
  night trip after midnight whose middle stop is untimed (the loader interpolates it);
* tram ``T`` from Parc Relais (0, 0) along Route du Sud then up Rue du Marché (column 2) to
  Canal (2, 3), stops 10 m east of column 2; run by frequencies.txt.

Weekday (SEM) and weekend (WE) calendars, one calendar_dates exception (no weekday service on
New Year's Day), a parent station "Mairie" grouping the bus and tram stops, and a transfers.txt
minimum transfer time between them.
"""
from __future__ import annotations

import csv
from pathlib import Path

OUT = Path(__file__).with_name("gtfs")

LON0, LAT0 = 7.5000, 43.8000
DLON, DLAT = 0.0025, 0.0018
OFF_LAT = 0.00009    # 10 m of latitude
OFF_LON = 0.000125   # 10 m of longitude at 43.8 degrees north


def grid(i: int, j: int) -> tuple[float, float]:
    """(lon, lat) of intersection (i, j)."""
    return LON0 + DLON * i, LAT0 + DLAT * j


def hms(s: int) -> str:
    """Seconds after midnight -> HH:MM:SS (hours may exceed 24)."""
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def write(name: str, header: list[str], rows: list[list]) -> None:
    with open(OUT / name, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def south(i: int, j: int) -> tuple[float, float]:
    lon, lat = grid(i, j)
    return lon, round(lat - OFF_LAT, 6)


def east(i: int, j: int) -> tuple[float, float]:
    lon, lat = grid(i, j)
    return round(lon + OFF_LON, 6), lat


# stop_id -> (name, (lon, lat), location_type, parent_station, wheelchair_boarding)
STOPS = {
    "MAIRIE": ("Mairie", grid(2, 1), 1, "", 1),
    "RELAIS_OUEST": ("Relais Ouest", south(0, 1), 0, "", 1),
    "MAIRIE_A": ("Mairie", south(2, 1), 0, "MAIRIE", 0),       # inherits 1 from the station
    "GARE": ("Gare", south(4, 1), 0, "", 2),
    "PARC_RELAIS": ("Parc Relais", (LON0, round(LAT0 + OFF_LAT, 6)), 0, "", 1),
    "MAIRIE_T": ("Mairie", east(2, 1), 0, "MAIRIE", 0),       # inherits 1 from the station
    "RUE_HAUTE": ("Rue Haute", east(2, 2), 0, "", 1),
    "CANAL": ("Canal", east(2, 3), 0, "", 1),
}

BUS_EAST = ["RELAIS_OUEST", "MAIRIE_A", "GARE"]
TRAM_NORTH = ["PARC_RELAIS", "MAIRIE_T", "RUE_HAUTE", "CANAL"]
BUS_RUN_S = [0, 120, 240]            # 2 min between bus stops
TRAM_RUN_S = [0, 120, 180, 240]      # Parc Relais -> Mairie 600 m, then 200 m per stop


def main() -> None:
    OUT.mkdir(exist_ok=True)
    write("agency.txt", ["agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"],
          [["TT", "Transports de Tiny Town", "https://example.org/tiny-town", "Europe/Paris", "fr"]])
    write("stops.txt", ["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type",
                        "parent_station", "wheelchair_boarding"],
          [[sid, name, f"{lat:.6f}", f"{lon:.6f}", loc, parent, wheel]
           for sid, (name, (lon, lat), loc, parent, wheel) in STOPS.items()])
    write("routes.txt", ["route_id", "agency_id", "route_short_name", "route_long_name", "route_type",
                         "route_color", "route_text_color"],
          [["A", "TT", "A", "Relais Ouest - Gare", 3, "E3051B", "FFFFFF"],
           ["T", "TT", "T", "Parc Relais - Canal", 0, "0055A4", "FFFFFF"]])
    write("calendar.txt", ["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                           "saturday", "sunday", "start_date", "end_date"],
          [["SEM", 1, 1, 1, 1, 1, 0, 0, "20260101", "20260228"],
           ["WE", 0, 0, 0, 0, 0, 1, 1, "20260101", "20260228"]])
    # New Year's Day (Thursday 2026-01-01): no weekday service.
    write("calendar_dates.txt", ["service_id", "date", "exception_type"], [["SEM", "20260101", 2]])

    trips: list[list] = []
    stop_times: list[list] = []

    def bus_trip(trip_id: str, service: str, direction: int, start_s: int, *, untimed_middle=False):
        stops = BUS_EAST if direction == 0 else BUS_EAST[::-1]
        headsign = "Gare" if direction == 0 else "Relais Ouest"
        trips.append(["A", service, trip_id, headsign, direction])
        for k, (stop, run) in enumerate(zip(stops, BUS_RUN_S, strict=True)):
            t = hms(start_s + run)
            if untimed_middle and k == 1:
                stop_times.append([trip_id, "", "", stop, k + 1, 0])
            else:
                stop_times.append([trip_id, t, t, stop, k + 1, 1])

    # Bus A: weekdays every 30 min, eastbound 07:00-19:00, westbound 07:15-19:15.
    for start in range(7 * 3600, 19 * 3600 + 1, 1800):
        bus_trip(f"A-SEM-E-{hms(start)[:5].replace(':', '')}", "SEM", 0, start)
    for start in range(7 * 3600 + 900, 19 * 3600 + 900 + 1, 1800):
        bus_trip(f"A-SEM-W-{hms(start)[:5].replace(':', '')}", "SEM", 1, start)
    # Weekends hourly, eastbound 09:00-18:00, westbound 09:30-18:30.
    for start in range(9 * 3600, 18 * 3600 + 1, 3600):
        bus_trip(f"A-WE-E-{hms(start)[:5].replace(':', '')}", "WE", 0, start)
    for start in range(9 * 3600 + 1800, 18 * 3600 + 1800 + 1, 3600):
        bus_trip(f"A-WE-W-{hms(start)[:5].replace(':', '')}", "WE", 1, start)
    # Night bus of each weekday's service: leaves at 24:15:00, i.e. 00:15 the next morning;
    # Mairie is untimed (timepoint 0): the loader interpolates 24:17:00.
    bus_trip("A-SEM-E-NUIT", "SEM", 0, 24 * 3600 + 15 * 60, untimed_middle=True)

    # Tram T: template trips, expanded by frequencies.txt.
    def tram_template(trip_id: str, service: str, direction: int, start_s: int):
        stops = TRAM_NORTH if direction == 0 else TRAM_NORTH[::-1]
        runs = TRAM_RUN_S if direction == 0 else [TRAM_RUN_S[-1] - r for r in TRAM_RUN_S[::-1]]
        headsign = "Canal" if direction == 0 else "Parc Relais"
        trips.append(["T", service, trip_id, headsign, direction])
        for k, (stop, run) in enumerate(zip(stops, runs, strict=True)):
            t = hms(start_s + run)
            stop_times.append([trip_id, t, t, stop, k + 1, 1])

    tram_template("T-SEM-N", "SEM", 0, 7 * 3600)
    tram_template("T-SEM-S", "SEM", 1, 7 * 3600 + 300)
    tram_template("T-WE-N", "WE", 0, 9 * 3600)
    tram_template("T-WE-S", "WE", 1, 9 * 3600 + 600)
    write("frequencies.txt", ["trip_id", "start_time", "end_time", "headway_secs", "exact_times"],
          [["T-SEM-N", "07:00:00", "20:00:00", 600, 1],
           ["T-SEM-S", "07:05:00", "20:05:00", 600, 1],
           ["T-WE-N", "09:00:00", "19:00:00", 1200, 1],
           ["T-WE-S", "09:10:00", "19:10:00", 1200, 1]])

    write("trips.txt", ["route_id", "service_id", "trip_id", "trip_headsign", "direction_id"], trips)
    write("stop_times.txt", ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence",
                             "timepoint"], stop_times)
    # Changing between bus and tram at Mairie takes at least 2 minutes (stairs to the platform).
    write("transfers.txt", ["from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time"],
          [["MAIRIE_A", "MAIRIE_T", 2, 120], ["MAIRIE_T", "MAIRIE_A", 2, 120]])


if __name__ == "__main__":
    main()
