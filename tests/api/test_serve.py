"""`trajet serve` refuses what it cannot serve before starting gunicorn."""
from click.testing import CliRunner

from api.cli import main


def test_serving_a_folder_that_is_no_bundle_fails_naming_it(tmp_path):
    result = CliRunner().invoke(main, ["serve", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "nothing is not a trajet bundle" in result.output


def test_an_unset_token_variable_is_named(town_bundle, monkeypatch):
    monkeypatch.delenv("NO_SUCH_TOKEN_VAR", raising=False)
    result = CliRunner().invoke(main, ["serve", str(town_bundle), "--ingest-token-env",
                                       "NO_SUCH_TOKEN_VAR"])
    assert result.exit_code == 2
    assert "--ingest-token-env NO_SUCH_TOKEN_VAR: that variable is not set" in result.output


def test_serve_is_listed_with_its_options():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--workers", "--threads", "--observations-db"):
        assert option in result.output
