"""`trajet plan`: walk and transit itineraries on the tiny town bundle, text and JSON."""
import json

from click.testing import CliRunner

from api.cli import main


def run(*args):
    return CliRunner().invoke(main, ["plan", *map(str, args)])


def test_plan_prints_the_itineraries(tiny_town_bundle):
    result = run(tiny_town_bundle, "--from", "stop:PARC_RELAIS", "--to", "stop:CANAL",
                 "--depart", "2026-01-05T07:05", "--modes", "TRANSIT")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "1. 07:10 -> 07:14  4 min, 0 transfers, walk 0 m"
    assert lines[1].split() == ["07:10-07:14", "TRAM", "T", "to", "Canal", "Parc", "Relais", "->",
                                "Canal"]


def test_plan_json_follows_the_itinerary_shape(tiny_town_bundle):
    result = run(tiny_town_bundle, "--from", "stop:RELAIS_OUEST", "--to", "stop:CANAL",
                 "--arrive", "2026-01-05T08:00", "--modes", "TRANSIT", "--max-transfers", "1",
                 "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    it = doc["itineraries"][0]
    assert it["end_time"] <= "2026-01-05T08:00:00+01:00"
    rides = [leg for leg in it["legs"] if "trip_id" in leg]
    assert rides and all({"trip_id", "route_id"} <= set(leg) and "stop_id" in leg["from"]
                         and "stop_id" in leg["to"] for leg in rides)
    assert all(leg["start_time"].endswith("+01:00") for leg in it["legs"])


def test_a_window_lists_several_departures(tiny_town_bundle):
    result = run(tiny_town_bundle, "--from", "stop:PARC_RELAIS", "--to", "stop:CANAL",
                 "--depart", "2026-01-05T08:00", "--window", "30", "--modes", "TRANSIT", "--json")
    starts = [it["start_time"][11:16] for it in json.loads(result.output)["itineraries"]]
    assert starts == ["08:00", "08:10", "08:20", "08:30"]


def test_mistakes_give_clear_errors(tiny_town_bundle):
    result = run(tiny_town_bundle, "--from", "stop:NOWHERE", "--to", "stop:CANAL",
                 "--depart", "2026-01-05T08:00", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["code"] == "UNKNOWN_STOP"
    result = run(tiny_town_bundle, "--from", "stop:GARE", "--to", "stop:CANAL",
                 "--depart", "2030-01-07T08:00")
    assert result.exit_code == 1 and "OUTSIDE_SERVICE_PERIOD" in result.output
    assert "2026-01-01 to 2026-02-28" in result.output
    result = run(tiny_town_bundle, "--from", "here", "--to", "stop:CANAL", "--depart", "2026-01-05T08:00")
    assert result.exit_code == 2 and "neither LAT,LON nor stop:GTFS_STOP_ID" in result.output
    result = run(tiny_town_bundle, "--from", "stop:GARE", "--to", "stop:CANAL")
    assert result.exit_code == 2 and "exactly one of --depart and --arrive" in result.output
    result = run(tiny_town_bundle, "--from", "stop:GARE", "--to", "stop:CANAL", "--depart", "soon")
    assert result.exit_code == 2 and "not an ISO 8601" in result.output
