"""``trajet serve``: the API and the demo page for a bundle, with gunicorn."""
from __future__ import annotations

from pathlib import Path

import click

from api.cli.options import bundle_argument, fail
from loaders.bundle import BundleError, read_manifest


@click.command()
@bundle_argument
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="gunicorn worker processes (each maps the bundle and loads the network).")
@click.option("--threads", default=32, show_default=True, type=click.IntRange(1, 256),
              help="Connection threads per worker.")
@click.option("--ingest-token-env", metavar="VAR",
              help="Read the bearer token of POST /api/v1/parking/observations from this "
                   "environment variable (default: TRAJET_INGEST_TOKEN; none: ingest disabled).")
@click.option("--observations-db", type=click.Path(path_type=Path),
              help="SQLite file of live observations (default: beside the bundle).")
@click.option("--access-log", is_flag=True, help="Log every request to stderr.")
def serve(bundle_dir, host, port, workers, threads, ingest_token_env, observations_db, access_log):
    """Serve the API and the demo page for a bundle with gunicorn."""
    import os

    from api.config import ConfigError
    from api.serve import serve as run_server

    try:
        read_manifest(bundle_dir)
    except BundleError as exc:
        fail(str(exc))
    settings = {}
    if ingest_token_env:
        if not os.environ.get(ingest_token_env):
            fail(f"--ingest-token-env {ingest_token_env}: that variable is not set")
        settings["ingest_token"] = os.environ[ingest_token_env]
    if observations_db:
        settings["observations_db"] = observations_db
    click.echo(f"trajet: serving {bundle_dir} on http://{host}:{port} ({workers} workers)", err=True)
    try:
        run_server(bundle_dir, host=host, port=port, workers=workers, threads=threads,
                   access_log=access_log, settings=settings)
    except ConfigError as exc:
        fail(f"configuration: {exc}")
