"""What the ``trajet`` commands share: option decorators defined once, their parsers, failing.

Every default of a plan option is read from :class:`engine.planning.options.PlanOptions` (and its
``DEFAULT_*`` constants), the same place the API schemas read theirs from, so ``trajet plan
--help``, ``/api/v1/openapi.json`` and the planner show and use the same values.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from engine.planning.options import DEFAULT_WINDOW_MIN, PlanOptions
from loaders.bundle import BundleError

DEFAULTS = PlanOptions()
"""The planner's defaults, shown by ``--help`` (``show_default``)."""


def fail(message: str, code: int = 2) -> None:
    """Print ``trajet: message`` on stderr and exit with ``code`` (2: bad input, 1: no result)."""
    click.echo(f"trajet: {message}", err=True)
    sys.exit(code)


def load_network(bundle_dir: Path):
    """The bundle's network, or a clear failure (exit 2) naming what is wrong with the folder."""
    from loaders.bundle import load_bundle

    try:
        return load_bundle(bundle_dir)
    except BundleError as exc:
        fail(str(exc))


def check_not_swapped(network, lon: float, lat: float, option: str) -> None:
    """Exit 2 with COORDINATES_SWAPPED when a point given as LAT,LON lies outside the network but
    would lie inside the other way round (the API's check: engine.planning.bounds)."""
    from engine.planning.bounds import COORDINATES_SWAPPED, coordinates_swapped, swapped_message
    from engine.planning.options import PlanOptions

    if coordinates_swapped(network, lon, lat, PlanOptions().bbox_margin_m):
        fail(f"{COORDINATES_SWAPPED}: {swapped_message(option, lat, lon)}")


def compose(*decorators):
    """One decorator applying ``decorators`` in the order they are listed (top first)."""
    def apply(f):
        for decorator in reversed(decorators):
            f = decorator(f)
        return f
    return apply


# ---------------------------------------------------------------------------------------------
# Arguments and options
# ---------------------------------------------------------------------------------------------
bundle_argument = click.argument("bundle_dir", type=click.Path(path_type=Path))
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")

walk_speed_option = click.option(
    "--walk-speed", "walk_speed_mps", type=float, default=DEFAULTS.walk_speed_mps, show_default=True,
    help="Walking speed, m/s.")
bike_speed_option = click.option(
    "--bike-speed", "bike_speed_mps", type=float, default=DEFAULTS.bike_speed_mps, show_default=True,
    help="Cycling speed, m/s.")
bike_lane_preference_option = click.option(
    "--bike-lane-preference", type=float, default=DEFAULTS.bike_lane_preference, show_default=True,
    help="Streets without a bike lane cost (1 + this) times their time when cycling.")
max_walk_m_option = click.option(
    "--max-walk-m", "max_walk_m", type=float, default=DEFAULTS.max_walk_m, show_default=True,
    help="Longest walk to or from a stop, or from a car park, metres.")
max_transfers_option = click.option(
    "--max-transfers", type=click.IntRange(0, 30), default=DEFAULTS.max_transfers, show_default=True,
    help="Most changes between vehicles.")
transfer_slack_option = click.option(
    "--transfer-slack", "transfer_slack_s", type=click.IntRange(0, 3600),
    default=DEFAULTS.transfer_slack_s, show_default=True,
    help="Seconds to change at one stop when the feed gives none.")
park_ride_walk_option = click.option(
    "--park-ride-walk-m", type=float, default=DEFAULTS.park_ride_walk_m, show_default=True,
    help="Longest walk from a car park or bicycle parking to a stop (park-and-ride, "
         "bike-and-ride), metres.")
parking_threshold_option = click.option(
    "--parking-threshold", "min_p_free", type=click.FloatRange(0, 1),
    default=DEFAULTS.parking.min_p_free, show_default=True,
    help="Car parks less likely than this to have a space on arrival are not proposed.")
num_itineraries_option = click.option(
    "--num-itineraries", type=click.IntRange(1, 20), default=DEFAULTS.num_itineraries,
    show_default=True, help="Most options returned by the multimodal planner.")
plan_window_option = click.option(
    "--window", "window_min", type=click.IntRange(0, 24 * 60), default=DEFAULT_WINDOW_MIN,
    show_default=True,
    help="Every departure within this many minutes after --depart (or before --arrive).")
max_snap_option = click.option(
    "--max-snap", "max_snap_m", type=float, default=DEFAULTS.max_snap_m, show_default=True,
    help="Farthest a point may be from a street the mode may use, metres.")

travel_options = compose(walk_speed_option, bike_speed_option, bike_lane_preference_option,
                         max_walk_m_option, max_transfers_option)
"""How the traveller moves, for ``trajet matrix``: speeds, bike lanes, walks, transfers."""

depart_arrive_options = compose(
    click.option("--depart", metavar="ISO", help="Leave at or after this local time (feed timezone "
                 "unless the time has an offset)."),
    click.option("--arrive", metavar="ISO", help="Arrive at or before this time."))
"""``--depart ISO`` or ``--arrive ISO``: read them with :func:`departure_or_arrival`."""


# ---------------------------------------------------------------------------------------------
# Parsers
# ---------------------------------------------------------------------------------------------
def departure_or_arrival(depart: str | None, arrive: str | None) -> tuple[dt.datetime, bool]:
    """(the time given, whether it is an arrival) of ``--depart``/``--arrive``; exactly one is
    required (UsageError) and it must be ISO 8601 (BadParameter)."""
    if (depart is None) == (arrive is None):
        raise click.UsageError("give exactly one of --depart and --arrive")
    text, option = (depart, "--depart") if depart is not None else (arrive, "--arrive")
    try:
        return dt.datetime.fromisoformat(text), arrive is not None
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 date and time "
                                 "(e.g. 2024-01-08T08:30)", param_hint=option) from None


def lat_lon(ctx, param, value: str) -> tuple[float, float]:
    """Click callback: "LAT,LON" (degrees) -> (lon, lat)."""
    parts = value.replace(" ", "").split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not LAT,LON (e.g. 43.7384,7.4246)") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise click.BadParameter(f"{value!r}: latitude must be within +-90 and longitude +-180")
    return lon, lat


def location(text: str, option: str):
    """``stop:GTFS_STOP_ID`` or ``LAT,LON`` -> an engine location; BadParameter otherwise."""
    from engine.planning.itinerary import Point, StopRef

    if text.startswith("stop:"):
        stop_id = text[len("stop:"):]
        if not stop_id:
            raise click.BadParameter("stop: needs a GTFS stop id (stop:ID)", param_hint=option)
        return StopRef(stop_id)
    parts = text.split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither LAT,LON nor stop:GTFS_STOP_ID",
                                 param_hint=option) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise click.BadParameter(f"{text!r}: latitude must be within ±90 and longitude ±180 "
                                 "(the order is LAT,LON)", param_hint=option)
    return Point(lon=lon, lat=lat)


# ---------------------------------------------------------------------------------------------
# Where batch chunks run (trajet matrix, trajet scenario run)
# ---------------------------------------------------------------------------------------------
executor_options = compose(
    click.option("--dask", "use_dask", is_flag=True,
                 help="Run the chunks on an embedded Dask LocalCluster (--workers processes)."),
    click.option("--scheduler", metavar="tcp://HOST:PORT",
                 help="Run the chunks on an existing Dask cluster (workers need trajet and the "
                      "bundle at the same path)."),
    click.option("--serial", is_flag=True, help="Run the chunks in this process (no workers)."),
    click.option("--workers", type=click.IntRange(1, 256), default=None,
                 help="Worker processes (default: the number of CPUs)."),
    click.option("--chunk-size", type=click.IntRange(1, 100_000), default=None,
                 help="Origins per chunk (default: about four chunks per worker)."),
    click.option("--quiet", is_flag=True, help="No progress bar."),
)
"""Options shared by ``trajet matrix`` and ``trajet scenario run``: where chunks run."""


def open_executor(use_dask: bool, scheduler: str | None, serial: bool, workers: int | None):
    """The pool of :func:`api.batch.open_pool` that ``--dask/--scheduler/--serial`` ask for."""
    from api.batch import open_pool

    if sum(bool(x) for x in (use_dask, scheduler, serial)) > 1:
        fail("give at most one of --dask, --scheduler and --serial")
    executor = "dask" if use_dask else "serial" if serial else "process"
    try:
        return open_pool(executor, workers=workers, scheduler=scheduler)
    except OSError as exc:
        fail(f"--scheduler {scheduler}: cannot connect ({exc})")
