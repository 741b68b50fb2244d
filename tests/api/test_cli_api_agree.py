"""`trajet plan` and /api/v1/plan share their defaults (engine.planning.options.PlanOptions): the
same request gives the same itineraries, and --help, the OpenAPI document and PlanOptions show
the same default values."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from api.cli import main
from engine.planning.options import DEFAULT_WINDOW_MIN, PlanOptions

# On the tiny town (data_samples/tiny_town/README.md): from Route du Sud near Parc Relais to Rue du
# Canal, on a Monday morning: a walk, and the tram T every 10 minutes.
FROM, TO, WHEN = "43.8000,7.5010", "43.8054,7.5051", "2026-01-05T08:00"


@pytest.fixture
def tiny_town_client(tiny_town_bundle, tmp_path):
    from api.app import create_app

    app = create_app({"bundle_dir": tiny_town_bundle, "observations_db": tmp_path / "obs.sqlite",
                      "load_in_background": False})
    yield app.test_client()
    app.extensions["trajet"].close()


def _journeys(itineraries: list[dict]) -> list[tuple]:
    """What a traveller reads of each itinerary: its times and each leg's mode, times and vehicle."""
    return [(it["start_time"], it["end_time"],
             [(leg["mode"], leg["start_time"], leg["end_time"], leg.get("trip_id"))
              for leg in it["legs"]])
            for it in itineraries]


@pytest.mark.parametrize("modes", [None, "WALK,BICYCLE,TRANSIT"])
def test_the_cli_and_the_api_plan_the_same_itineraries_with_default_options(
        tiny_town_bundle, tiny_town_client, modes):
    mode_args = [] if modes is None else ["--modes", modes]
    result = CliRunner().invoke(main, ["plan", str(tiny_town_bundle), "--from", FROM, "--to", TO,
                                       "--depart", WHEN, *mode_args, "--json"])
    assert result.exit_code == 0, result.output
    query = {"from": FROM, "to": TO, "datetime": WHEN, **({"modes": modes} if modes else {})}
    response = tiny_town_client.get("/api/v1/plan", query_string=query)
    assert response.status_code == 200, response.get_json()
    cli, api = json.loads(result.output)["itineraries"], response.get_json()["itineraries"]
    assert _journeys(cli) == _journeys(api)
    modes_seen = {leg[0] for journey in _journeys(api) for leg in journey[2]}
    assert {"WALK", "TRAM"} <= modes_seen  # a walk and the tram, not an empty agreement
    if modes:
        assert "BICYCLE" in modes_seen


def _help_defaults() -> dict[str, str]:
    """--option -> the default ``trajet plan --help`` shows (a long option's help starts on the
    next line)."""
    result = CliRunner().invoke(main, ["plan", "--help"], terminal_width=1000, max_content_width=1000)
    assert result.exit_code == 0, result.output
    found, option = {}, None
    for line in result.output.splitlines():
        starts = re.match(r"\s*(--[a-z-]+)\b", line)
        option = starts.group(1) if starts else option
        default = re.search(r"\[default: ([^;\]]+)", line)
        if default and option:
            found[option] = default.group(1)
    return found


def test_openapi_help_and_plan_options_show_the_same_defaults(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    api = {p["name"]: p["schema"].get("default") for p in doc["paths"]["/api/v1/plan"]["get"]["parameters"]}
    cli = _help_defaults()
    options = PlanOptions()
    # API parameter, CLI option, the default both must show
    expected = [("walk_speed", "--walk-speed", options.walk_speed_mps),
                ("bike_speed", "--bike-speed", options.bike_speed_mps),
                ("bike_lane_preference", "--bike-lane-preference", options.bike_lane_preference),
                ("max_walk_m", "--max-walk-m", options.max_walk_m),
                ("max_transfers", "--max-transfers", options.max_transfers),
                ("num_itineraries", "--num-itineraries", options.num_itineraries),
                ("window_min", "--window", DEFAULT_WINDOW_MIN)]
    for name, option, value in expected:
        assert api[name] == value, name
        assert float(cli[option]) == value, option
    assert api["wheelchair"] is options.wheelchair is False
    # modes is an array parameter sent comma-separated (style form, explode false)
    assert ",".join(api["modes"]) == cli["--modes"] == "WALK,TRANSIT"
    iso = {p["name"]: p["schema"].get("default")
           for p in doc["paths"]["/api/v1/isochrone"]["get"]["parameters"]}
    assert (iso["walk_speed"], iso["bike_speed"], iso["max_walk_m"]) == (
        options.walk_speed_mps, options.bike_speed_mps, options.max_walk_m)


def test_the_chosen_defaults():
    # bike lanes preferred, 1.5 km walks, 8 transfers (R5 allows 8 rides): one set for every interface
    options = PlanOptions()
    assert (options.bike_lane_preference, options.max_walk_m, options.max_transfers) == (0.5, 1500, 12)
    cli = _help_defaults()
    for command in ("matrix", "route"):
        result = CliRunner().invoke(main, [command, "--help"], terminal_width=1000, max_content_width=1000)
        assert "--bike-lane-preference FLOAT" in result.output and "[default: 0.5]" in result.output
    assert cli["--max-walk-m"] == "1500.0" and cli["--max-transfers"] == "12"
