"""Kerbside occupancy loaders on small files written from the published schemas: Melbourne's bay
sensor stays and status changes, Seattle's paid occupancy, and meter transactions."""
from __future__ import annotations

from pathlib import Path

import pytest

from loaders.parking.kerbside import zone_occupancy_from_payments, zone_occupancy_from_sensors
from loaders.report import BuildReport, LoaderError

TZ = "Australia/Melbourne"
KERBSIDE = Path(__file__).resolve().parents[2] / "data_samples" / "kerbside"

# City of Melbourne, "On-street Car Parking Sensor Data - 2019" (one row per stay of a bay).
MELBOURNE_EVENTS = (KERBSIDE / "melbourne_sensor_stays_2019.csv").read_text(encoding="utf-8")

# City of Melbourne, "On-street Parking Bay Sensors" (live: the last status change of each bay).
MELBOURNE_STATUS = (KERBSIDE / "melbourne_bay_status.csv").read_text(encoding="utf-8")

# Seattle DOT, "Paid Parking Occupancy" (paid sessions active on a blockface, per minute).
SEATTLE = (KERBSIDE / "seattle_paid_occupancy.csv").read_text(encoding="utf-8")

TRANSACTIONS = (KERBSIDE / "meter_transactions.csv").read_text(encoding="utf-8")


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_melbourne_stays_are_counted_per_zone(tmp_path):
    report = BuildReport()
    h = zone_occupancy_from_sensors(_write(tmp_path, "mel.csv", MELBOURNE_EVENTS), report,
                                    timezone=TZ, step_s=900)
    # StreetId 796: 3 bays seen. The empty spell (VehiclePresent False) is no stay.
    assert set(h["facility_key"]) == {"796"} and (h["capacity"] == 3).all()
    local = [t % 86400 for t in h["time_utc_s"]]   # Melbourne is UTC+11 in March
    occupied = dict(zip([(s + 11 * 3600) % 86400 // 60 for s in local], 3 - h["free_spaces"],
                        strict=True))
    # 09:00 one car; 09:15 two; 09:30 three; 09:45 two (C2964 left 09:40); 10:00 one; 10:15 one
    assert occupied == {540: 1, 555: 2, 570: 3, 585: 2, 600: 1, 615: 1}
    assert any(d["reason"].startswith("no stay") for d in report.to_json()["dropped"])


def test_melbourne_status_changes_become_stays(tmp_path):
    h = zone_occupancy_from_sensors(_write(tmp_path, "live.csv", MELBOURNE_STATUS), BuildReport(),
                                    timezone=TZ, preset="melbourne_status",
                                    spaces={"7326": 6})
    assert (h["capacity"] == 6).all()
    # stays 09:00-09:30 and 09:10-10:05: read at 09:00, 09:15, 09:30, 09:45, 10:00
    assert (6 - h["free_spaces"]).tolist() == [1, 2, 1, 1, 1]


def test_seattle_paid_occupancy_divided_by_compliance(tmp_path):
    h = zone_occupancy_from_payments(_write(tmp_path, "sea.csv", SEATTLE), BuildReport(),
                                     timezone="America/Los_Angeles", preset="seattle",
                                     compliance=0.75, timestamp_format="%m/%d/%Y %I:%M:%S %p")
    rows = {(k, t % 3600): (f, c) for k, t, f, c in
            zip(h["facility_key"], h["time_utc_s"], h["free_spaces"], h["capacity"], strict=True)}
    assert rows[("13490", 0)] == (2, 10)     # 6 paid / 0.75 = 8 occupied of 10
    assert rows[("13490", 60)] == (0, 10)    # 9 / 0.75 = 12, clipped to the 10 spaces
    assert rows[("13491", 0)] == (4, 8)      # 3 / 0.75 = 4 of 8


def test_transactions_use_the_network_spaces(tmp_path):
    report = BuildReport()
    h = zone_occupancy_from_payments(_write(tmp_path, "pay.csv", TRANSACTIONS), report,
                                     timezone="America/Sao_Paulo", compliance=0.5,
                                     spaces={"rua-a": 5})
    # rua-b has no known spaces: dropped; rua-a's negative duration: dropped
    assert set(h["facility_key"]) == {"rua-a"}
    # rua-a: 09:00 one paid -> 2 of 5; 09:15 one -> 2; 09:30 and 09:45 two (09:00-10:00 and
    # 09:20-09:50) -> 4
    assert (5 - h["free_spaces"]).tolist() == [2, 2, 4, 4]
    codes = {w["code"] for w in report.to_json()["totals"]}
    assert {"unknown_zone_spaces", "invalid_value"} <= codes


def test_a_missing_column_is_named(tmp_path):
    with pytest.raises(LoaderError, match="paid_minutes"):
        zone_occupancy_from_payments(_write(tmp_path, "x.csv", "zone_id,start_time\na,2020-01-01\n"),
                                     BuildReport(), timezone="UTC")
    with pytest.raises(LoaderError, match="compliance"):
        zone_occupancy_from_payments(_write(tmp_path, "y.csv", TRANSACTIONS), BuildReport(),
                                     timezone="UTC", compliance=1.5)
