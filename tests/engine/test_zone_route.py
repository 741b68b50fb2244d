"""Street-level advice on a car trip: Porto Alegre's street zones, the search route in the
itinerary, the prior for zones without data, and the honest wording of probabilities."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine.parking.choice import chance_words
from engine.planning.planner import plan_trip
from engine.planning.zone_route import prior_p_free
from loaders.bundle import load_bundle, read_manifest
from tests.porto_alegre import BUSY_DESTINATION, ORIGIN, poa_bundle


@pytest.fixture(scope="module")
def poa(bundles_dir):
    path = poa_bundle(bundles_dir)
    return path, load_bundle(path)


def test_the_prior_never_claims_certainty():
    p = prior_p_free([1, 3, 32, 74])
    assert p == pytest.approx([0.15, 0.358, 0.901, 0.966], abs=1e-3)
    assert chance_words(0.995) == "almost certainly a space"
    assert chance_words(0.004) == "almost never a space"
    assert chance_words(0.7) == "70% chance of a space"


def test_porto_alegre_bundle_keeps_its_street_zones(poa):
    path, net = poa
    counts = read_manifest(path)["counts"]
    assert counts["street_zones"] == 101 and counts["street_zone_spaces"] == 2819
    zones = net.parking.zones
    assert zones.n_zones == 101
    assert np.asarray(net.parking.capacity_estimated)[np.asarray(zones.facility_idx)].sum() == 99
    lon, lat = zones.line(0)
    assert lon.size >= 2 and np.isfinite(lat).all()
    # unnamed car parks are named by their street
    names = [str(n) for n, k in zip(net.parking.facility_name, net.parking.kind, strict=True) if k == 0]
    assert names and all(n.startswith("Car park on ") for n in names)


def _park_leg(result):
    for it in result.itineraries:
        for leg in it.legs:
            if leg.mode == "PARK":
                return leg
    raise AssertionError(f"no PARK leg: {result.reason}")


def test_a_car_trip_to_a_busy_destination_gets_a_search_route(poa):
    _, net = poa
    result = plan_trip(net, ORIGIN, BUSY_DESTINATION, depart_at=dt.datetime(2019, 5, 13, 15, 30),
                       modes=["CAR_PARK"])
    parking = _park_leg(result).extra["parking"]
    route = parking["search_route"]
    assert route["advice"].startswith("Park in Rua Ibanor José Tartarotti (90% chance")
    assert "else continue to Rua Otávio Francisco Caruso da Rocha" in route["advice"]
    assert route["advice"].endswith("else go to Car park on Rua Coronel Fernando Machado.")
    stops = route["zones"]
    assert len(stops) >= 2
    assert [s["p_reach"] for s in stops] == sorted([s["p_reach"] for s in stops], reverse=True)
    assert all(s["p_basis"] == "prior" and s["capacity_estimated"] for s in stops)
    assert stops[0]["pass_local"] <= stops[1]["pass_local"]
    assert len(route["geometry"]["coordinates"]) >= 2
    assert 0 <= route["expected_search_s"] < route["expected_total_s"]
    assert parking["facility_id"] == stops[0]["facility_id"]
