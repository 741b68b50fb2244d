"""The API's settings: defaults, a TOML/JSON file, TRAJET_* variables, create_app's dict, in order."""
import re
from pathlib import Path

import pytest

from api.config import ApiConfig, ConfigError, load_config


def test_defaults_need_nothing():
    cfg = load_config(environ={})
    assert cfg == ApiConfig()
    assert (cfg.max_itineraries, cfg.max_body_bytes, cfg.ingest_token) == (10, 1 << 20, None)


def test_file_then_environment_then_overrides(tmp_path):
    path = tmp_path / "trajet.toml"
    path.write_text('max_itineraries = 4\nmax_window_min = 90\ncors_origins = ["http://a.test"]\n')
    env = {"TRAJET_CONFIG": str(path), "TRAJET_MAX_WINDOW_MIN": "60", "TRAJET_VERIFY_BUNDLE": "false",
           "TRAJET_BUNDLE_DIR": "/srv/bundles/monaco"}
    cfg = load_config({"max_itineraries": 6}, environ=env)
    assert (cfg.max_itineraries, cfg.max_window_min, cfg.verify_bundle) == (6, 60, False)
    assert cfg.cors_origins == ("http://a.test",)
    assert cfg.bundle_dir == Path("/srv/bundles/monaco")
    assert cfg.observations_path == Path("/srv/bundles/monaco.observations.sqlite")


def test_a_json_file_works_too(tmp_path):
    path = tmp_path / "trajet.json"
    path.write_text('{"request_time_budget_s": 2.5}')
    assert load_config(environ={"TRAJET_CONFIG": str(path)}).request_time_budget_s == 2.5


@pytest.mark.parametrize(("overrides", "environ", "message"), [
    ({"max_itinerary": 3}, {}, "unknown setting 'max_itinerary' in create_app(config)"),
    ({}, {"TRAJET_MAX_ITINERARIES": "many"}, "max_itineraries from $TRAJET_MAX_ITINERARIES: 'many'"),
    ({}, {"TRAJET_LOAD_IN_BACKGROUND": "perhaps"}, "is not a boolean"),
    ({"max_itineraries": 0}, {}, "max_itineraries must be positive"),
    ({"ingest_token": "short"}, {}, "ingest_token must be at least 16 characters"),
    ({}, {"TRAJET_CONFIG": "/nonexistent/trajet.toml"}, "cannot read the config file"),
])
def test_unusable_settings_are_named_with_their_source(overrides, environ, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(overrides, environ=environ)


def test_the_public_view_hides_the_token():
    public = ApiConfig(ingest_token="x" * 20).public()
    assert "ingest_token" not in public and public["ingest_enabled"] is True
