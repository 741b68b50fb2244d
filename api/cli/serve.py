"""``trajet serve``: the API and the demo page for a bundle, with gunicorn."""
from __future__ import annotations

from pathlib import Path

import click

from api.cli.options import bundle_argument, fail
from loaders.bundle import BundleError, read_manifest


def _duration_s(text: str, option: str) -> float:
    """"30s", "2m", "1h" or plain seconds -> seconds; BadParameter otherwise."""
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise click.BadParameter(f"{text!r} is not a positive duration like 30s, 2m or 1h",
                                 param_hint=option)
    factor = {"ms": 0.001, "s": 1, None: 1, "m": 60, "min": 60, "h": 3600}[m.group(2)]
    return float(m.group(1)) * factor


def _feed_settings(live_feeds: tuple[str, ...], feed_every: str) -> dict:
    """The ``feeds`` settings of --feed (checked here, named in the error) and --feed-every."""
    import json

    from loaders.live_feeds import FeedSpec

    for text in live_feeds:
        try:
            FeedSpec.parse(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--feed") from None
    return {"feeds": json.dumps(list(live_feeds)),
            "feeds_every_s": _duration_s(feed_every, "--feed-every")}


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
@click.option("--realtime", "realtime_feeds", multiple=True, metavar="URL",
              help="A GTFS-Realtime feed to poll (trip updates, alerts or vehicle positions; an "
                   "http(s) URL or a file). Repeat for several feeds.")
@click.option("--realtime-every", default="30s", show_default=True, metavar="DURATION",
              help="Time between polls (e.g. 30s, 2m).")
@click.option("--realtime-max-age", default="5m", show_default=True, metavar="DURATION",
              help="Feeds older than this are ignored and reported stale (off: never).")
@click.option("--feed", "live_feeds", multiple=True, metavar="KIND=URL[#ROLE=FIELD,...]",
              help="A live occupancy feed to poll into the observations database; KIND is ngsi "
                   "(FIWARE NGSI v2 / NGSI-LD OffStreetParking, BikeHireDockingStation), ods "
                   "(OpenDataSoft records; the field mapping follows '#': roles facility, free "
                   "or occupied, capacity, time, e.g. ods=https://host/records#facility=id,"
                   "free=nb_places_libres,capacity=nb_places,time=date_maj) or gbfs (the URL of "
                   "gbfs.json, v2.x or v3.0). Repeat for several feeds.")
@click.option("--feed-every", default="60s", show_default=True, metavar="DURATION",
              help="Time between polls of each --feed (a GBFS file: at least its ttl).")
@click.option("--recommendations/--no-recommendations", default=True, show_default=True,
              help="Record the car parks plans send drivers to and take the drivers already sent "
                   "off the forecast, so that the next driver is sent elsewhere before a car park "
                   "fills (docs/recommendations.md).")
@click.option("--compliance-share", type=click.FloatRange(0.0, 1.0), default=None, metavar="SHARE",
              help="Extra cars per driver sent, 0..1 (default 0.5).")
def serve(bundle_dir, host, port, workers, threads, ingest_token_env, observations_db, access_log,
          realtime_feeds, realtime_every, realtime_max_age, live_feeds, feed_every, recommendations,
          compliance_share):
    """Serve the API and the demo page for a bundle with gunicorn.

    With --feed, a process beside gunicorn polls each feed, checks every reading like POST
    /api/v1/parking/observations and stores it in the observations database; /api/v1/info
    lists each feed (last success, last error, age, readings accepted and refused by reason,
    stale after 3 x its interval). See docs/live_feeds.md.
    """
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
    if not recommendations:
        settings["recommendations"] = "false"
    if compliance_share is not None:
        settings["compliance_share"] = compliance_share
    if realtime_feeds:
        if any("," in f for f in realtime_feeds):
            fail("--realtime: a URL with a comma cannot be passed to the workers")
        settings["realtime_feeds"] = ",".join(realtime_feeds)
        settings["realtime_every_s"] = _duration_s(realtime_every, "--realtime-every")
        settings["realtime_max_age_s"] = (0 if realtime_max_age.strip().lower() in ("off", "none", "0")
                                          else _duration_s(realtime_max_age, "--realtime-max-age"))
    if live_feeds:
        settings.update(_feed_settings(live_feeds, feed_every))
    click.echo(f"trajet: serving {bundle_dir} on http://{host}:{port} ({workers} workers)", err=True)
    try:
        run_server(bundle_dir, host=host, port=port, workers=workers, threads=threads,
                   access_log=access_log, settings=settings)
    except ConfigError as exc:
        fail(f"configuration: {exc}")
