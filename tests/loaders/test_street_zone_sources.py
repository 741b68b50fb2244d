"""Street zones from a city's CSV of kerb segments and from NGSI OnStreetParking, with their
occupancy from meter payments, through ``trajet build``'s flags into the bundle."""
from __future__ import annotations

import json
import math

import numpy as np
from click.testing import CliRunner

from api.cli import main
from engine.model import ParkingKind
from loaders.bundle import load_bundle
from loaders.parking.ngsi_street import iso_duration_s

LAT = 43.7300
LON0 = 7.4200
DEG_100M = 100.0 / (111_195.08 * math.cos(math.radians(LAT)))


def _osm(tmp_path):
    nodes = "".join(f'<node id="{i + 1}" lat="{LAT}" lon="{LON0 + i * DEG_100M:.7f}"/>'
                    for i in range(4))
    path = tmp_path / "street.osm"
    path.write_text('<?xml version="1.0"?><osm version="0.6">' + nodes +
                    '<way id="9"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/>'
                    '<tag k="highway" v="residential"/><tag k="name" v="Rue Test"/></way></osm>')
    return path


def _segments(tmp_path):
    a, b = LON0 + 0.2 * DEG_100M, LON0 + 1.2 * DEG_100M
    path = tmp_path / "kerb.csv"
    path.write_text("segment,wkt,places,tarif,duree_max\n"
                    f'Z1,"LINESTRING ({a:.7f} {LAT}, {b:.7f} {LAT})",10,1.50,120\n'
                    f"Z2,POINT ({LON0 + 2.5 * DEG_100M:.7f} {LAT}),4,0,\n"
                    f"Z3,POINT ({LON0:.7f} {LAT}),,,\n", encoding="utf-8")
    return path


def _payments(tmp_path):
    rows = ["zone,paid_at,minutes"]
    for day in range(1, 29):              # four weeks of February 2026, weekdays busy at noon
        for hour, n in ((9, 2), (12, 6), (16, 3)):
            rows += [f"Z1,2026-02-{day:02d}T{hour:02d}:{5 * k:02d}:00,60" for k in range(n)]
    path = tmp_path / "pay.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _ngsi(tmp_path):
    line = [[LON0 + 1.4 * DEG_100M, LAT], [LON0 + 2.2 * DEG_100M, LAT]]
    doc = [{"id": "urn:ngsi-ld:OnStreetParking:rue-test", "type": "OnStreetParking",
            "name": "Rue Test (sud)", "location": {"type": "LineString", "coordinates": line},
            "totalSpotNumber": 12, "chargeType": ["temporaryFee"],
            "maximumParkingDuration": "PT2H", "category": ["public", "feeCharged"]},
           {"id": "urn:ngsi-ld:OnStreetParking:residents", "type": "OnStreetParking",
            "location": {"type": "LineString", "coordinates": line}, "totalSpotNumber": 5,
            "category": ["onlyResidents"]}]
    path = tmp_path / "onstreet.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_build_flags_bring_city_zones_and_their_payments(tmp_path):
    out = tmp_path / "bundle"
    result = CliRunner().invoke(main, [
        "build", "--osm", str(_osm(tmp_path)), "--timezone", "Europe/Monaco", "--quiet",
        "--street-parking", str(_segments(tmp_path)), "--street-parking", str(_ngsi(tmp_path)),
        "--street-parking-column", "id=segment", "--street-parking-column", "geometry=wkt",
        "--street-parking-column", "spaces=places", "--street-parking-column", "fee=tarif",
        "--street-parking-column", "maxstay=duree_max",
        "--zone-payments", str(_payments(tmp_path)), "--zone-payments-column", "start=paid_at",
        "--zone-payments-column", "zone=zone",
        "--zone-payments-column", "duration=minutes", "--payment-compliance", "0.8",
        "--out", str(out)])
    assert result.exit_code == 0, result.output
    net = load_bundle(out)
    pk = net.parking
    ids = [str(i) for i in pk.facility_ids]
    assert ids == ["Z1", "Z2", "urn:ngsi-ld:OnStreetParking:rue-test"]   # Z3 has no spaces
    assert (np.asarray(pk.kind) == ParkingKind.ON_STREET).all()
    assert not np.asarray(pk.capacity_estimated).any()
    zones = pk.zones
    assert zones.n_zones == 3
    assert np.asarray(zones.fee).tolist() == [1, 0, 1]
    assert np.asarray(zones.maxstay_s).tolist() == [7200.0, math.inf, 7200.0]
    assert list(np.diff(np.asarray(zones.line_offsets))) == [2, 2, 2]
    # Z1's payments became occupancy readings (every 15 min), and a profile was fitted on them
    h = pk.history
    assert h.n_observations > 0 and set(np.asarray(h.facility_idx).tolist()) == {0}
    occupied = np.asarray(h.capacity) - np.asarray(h.free_spaces)
    assert occupied.max() == 8                  # 6 paid at noon / 0.8 = 7.5 -> 8 of 10
    assert pk.profile is not None
    assert "rows" in result.output or "dropped" in result.output


def test_iso_durations():
    assert iso_duration_s("PT2H") == 7200.0
    assert iso_duration_s("PT90M") == 5400.0
    assert iso_duration_s("P1DT1H") == 90000.0
    assert math.isnan(iso_duration_s("two hours"))
