"""trajet plan with the multimodal planner's modes and parking options, on the tiny town
(data_samples/tiny_town/README.md): Parking Centre is full on weekday afternoons."""
import json

from click.testing import CliRunner

from api.cli import main

TRIP = ("--from", "43.8000,7.5100", "--to", "43.8040,7.5055")


def run(bundle, *args):
    return CliRunner().invoke(main, ["plan", str(bundle), *TRIP, *map(str, args)])


def test_car_park_at_three_pm_says_what_it_avoided(tiny_town_bundle):
    result = run(tiny_town_bundle, "--depart", "2026-01-14T15:00", "--modes", "CAR_PARK,PARK_AND_RIDE")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # the last 40.2 m, from Rue du Marché to the point given, on foot (issue 17 item 10)
    assert lines[0].startswith("1. CAR_PARK 15:00 -> 15:11") and "[fastest" in lines[0]
    assert "avoided: Parking Centre is usually full at 15:01 (almost never a space)" in result.output
    assert "Parking Gare, 9 min walk, almost certainly has a space" in result.output
    assert "The car stays at Parking Relais" in result.output


def test_json_carries_modes_labels_parking_and_reasons(tiny_town_bundle):
    result = run(tiny_town_bundle, "--depart", "2026-01-14T10:00", "--modes", "car_park,park_and_ride",
                 "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    (it,) = body["itineraries"]
    assert (it["mode"], it["labels"]) == ("CAR_PARK", ["fastest", "fewest transfers", "least walking"])
    assert [leg["mode"] for leg in it["legs"]] == ["CAR", "PARK", "WALK"]
    parking = it["legs"][1]["parking"]
    assert parking["name"] == "Parking Centre" and parking["p_space_free"] > 0.99
    assert it["start_time"] == "2026-01-14T10:00:00+01:00" and it["end_time"] == "2026-01-14T10:04:44+01:00"
    assert body["left_out"]["PARK_AND_RIDE"]["code"] == "DOMINATED"


def test_parking_options_change_the_choice(tiny_town_bundle):
    # at 13:50 Parking Centre has a 71% chance of a space: kept at the default threshold (with a
    # fallback), avoided at 0.75
    result = run(tiny_town_bundle, "--depart", "2026-01-14T13:50", "--modes", "CAR_PARK", "--json")
    parking = json.loads(result.output)["itineraries"][0]["legs"][1]["parking"]
    assert parking["name"] == "Parking Centre" and parking["fallback"]["name"] == "Parking Gare"
    result = run(tiny_town_bundle, "--depart", "2026-01-14T13:50", "--modes", "CAR_PARK", "--json",
                 "--parking-threshold", "0.75")
    parking = json.loads(result.output)["itineraries"][0]["legs"][1]["parking"]
    assert parking["name"] == "Parking Gare"
    result = run(tiny_town_bundle, "--depart", "2026-01-14T15:00", "--modes", "CAR_PARK", "--json",
                 "--max-walk-m", "100")
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert body["code"] == "NO_PARKING_AVAILABLE" and body["itineraries"] == []
    assert body["left_out"]["CAR_PARK"]["avoided"][0]["name"] == "Parking Centre"


def test_arrive_and_bike_options(tiny_town_bundle):
    result = run(tiny_town_bundle, "--arrive", "2026-01-14T15:15", "--modes", "BICYCLE",
                 "--bike-speed", "3", "--bike-lane-preference", "0.5", "--json")
    (it,) = json.loads(result.output)["itineraries"]
    assert it["end_time"] == "2026-01-14T15:15:00+01:00" and it["legs"][0]["mode"] == "BICYCLE"
    slow = it["duration_s"]
    result = run(tiny_town_bundle, "--arrive", "2026-01-14T15:15", "--modes", "BICYCLE", "--json")
    assert json.loads(result.output)["itineraries"][0]["duration_s"] < slow


def test_mistakes_in_planner_options_are_clear(tiny_town_bundle):
    result = run(tiny_town_bundle, "--depart", "2026-01-14T15:00", "--modes", "CAR,PLANE")
    assert result.exit_code == 2 and "unknown modes CAR, PLANE" in result.output
    result = run(tiny_town_bundle, "--depart", "2026-01-14T15:00", "--modes", "CAR_PARK",
                 "--parking-threshold", "2")
    assert result.exit_code == 2 and "--parking-threshold" in result.output
    result = run(tiny_town_bundle, "--depart", "2026-01-14T15:00", "--modes", "BICYCLE",
                 "--bike-speed", "0")
    assert result.exit_code == 2 and "bike_speed_mps must be > 0" in result.output
