"""The ``trajet`` command line: build bundles, inspect them, route and plan on them."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from loaders.bundle import BundleError, read_manifest
from loaders.report import BuildReport, LoaderError


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"trajet: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trajet")
def main() -> None:
    """trajet: build multimodal networks from open data and plan trips on them."""


# ---------------------------------------------------------------------------------------------
# trajet build
# ---------------------------------------------------------------------------------------------
def _parse_columns(pairs: tuple[str, ...]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise click.BadParameter(f"{pair!r} is not ROLE=COLUMN", param_hint="--history-column")
        out[f"{key.strip()}_col" if not key.endswith("_col") else key.strip()] = value.strip()
    return out


@main.command()
@click.option("--sample", help="Build a sample city of data_samples/manifest.json (e.g. monaco).")
@click.option("--gtfs", "gtfs", multiple=True, type=click.Path(path_type=Path),
              help="A GTFS zip or folder; repeat for several feeds (ids get a feed prefix).")
@click.option("--osm", type=click.Path(path_type=Path),
              help="An OSM extract: .osm, .osm.bz2 or .osm.pbf. Without it, walking is straight "
                   "line times --walk-detour-factor.")
@click.option("--bike-lanes", "bike_lanes", multiple=True, type=click.Path(path_type=Path),
              help="GeoJSON bike lanes (LineString/MultiLineString) to mark on the streets.")
@click.option("--bike-lane-status", "bike_lane_statuses", multiple=True, default=("done",),
              show_default=True, help="Keep lanes whose status property has this value.")
@click.option("--bike-lane-status-property", default="status", show_default=True)
@click.option("--parking-facilities", "parking_facilities", multiple=True,
              type=click.Path(path_type=Path),
              help="Car parks: FIWARE NGSI JSON or the French national parking CSV.")
@click.option("--parking-history", type=click.Path(path_type=Path),
              help="Occupancy history CSV (timestamp, facility, free or occupied, capacity).")
@click.option("--history-preset", help="Column layout of --parking-history (montpellier, generic).")
@click.option("--history-column", "history_columns", multiple=True, metavar="ROLE=COLUMN",
              help="Column of a role in --parking-history: timestamp, facility, free, occupied, "
                   "capacity, status (e.g. --history-column occupied=occupancy).")
@click.option("--holidays-country", help="ISO country code of public holidays (FR, MC...).")
@click.option("--footpath-radius", "footpath_radius_m", default=400.0, show_default=True,
              help="Walking transfers between stops within this many metres.")
@click.option("--walk-detour-factor", default=1.3, show_default=True,
              help="Street distance over straight-line distance, used without --osm.")
@click.option("--timezone", help="IANA timezone when no GTFS feed is given.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="The bundle folder to write (replaced atomically).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def build(sample, gtfs, osm, bike_lanes, bike_lane_statuses, bike_lane_status_property,
          parking_facilities, parking_history, history_preset, history_columns, holidays_country,
          footpath_radius_m, walk_detour_factor, timezone, out_dir, quiet):
    """Build a network bundle from GTFS, OSM, bike-lane and parking data."""
    from loaders.build import BuildOptions, build_bundle
    from loaders.samples import SampleError, resolve_sample

    options = BuildOptions(
        gtfs=list(gtfs), osm=osm, bike_lanes=list(bike_lanes),
        bike_lane_statuses=tuple(bike_lane_statuses),
        bike_lane_status_property=bike_lane_status_property,
        parking_facilities=list(parking_facilities), parking_history=parking_history,
        parking_history_preset=history_preset,
        parking_history_columns=_parse_columns(history_columns),
        holidays_country=holidays_country, footpath_radius_m=footpath_radius_m,
        walk_detour_factor=walk_detour_factor, timezone=timezone, progress=not quiet)
    if sample:
        try:
            recipe = resolve_sample(sample)
        except SampleError as exc:
            _fail(str(exc))
        options.gtfs = options.gtfs or recipe.gtfs
        options.osm = options.osm or recipe.osm
        options.bike_lanes = options.bike_lanes or recipe.bike_lanes
        options.parking_facilities = options.parking_facilities or recipe.parking_facilities
        if options.parking_history is None and recipe.parking_history is not None:
            options.parking_history = recipe.parking_history
            options.parking_history_preset = history_preset or recipe.parking_history_preset
        options.holidays_country = holidays_country or recipe.holidays_country
    report = BuildReport()
    try:
        network, counts = build_bundle(options, out_dir, report)
    except LoaderError as exc:
        for line in report.summary_lines():
            click.echo(line, err=True)
        _fail(f"build stopped: {exc}", code=1)
    for line in report.summary_lines():
        click.echo(line, err=True)
    click.echo(f"built {out_dir} in {network.metadata['timings_s']['total']:.1f} s")
    _print_counts(counts)


# ---------------------------------------------------------------------------------------------
# trajet info
# ---------------------------------------------------------------------------------------------
def _print_counts(counts: dict) -> None:
    for key, value in counts.items():
        if isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:,}"
        elif isinstance(value, list) and key == "bbox":
            value = ", ".join(f"{v:.5f}" for v in value)
        click.echo(f"  {key:<24} {value}")


@main.command()
@click.argument("bundle_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info(bundle_dir, as_json):
    """Print a bundle's counts, service period, bbox, timezone and build warnings."""
    try:
        manifest = read_manifest(bundle_dir)
    except BundleError as exc:
        _fail(str(exc))
    report = manifest.get("report", {})
    if as_json:
        click.echo(json.dumps({**manifest["counts"], "format_version": manifest["format_version"],
                               "built_at_utc": manifest["built_at_utc"],
                               "inputs": manifest.get("inputs", {}),
                               "warnings": report.get("totals", []),
                               "dropped": report.get("dropped", [])}, ensure_ascii=False))
        return
    click.echo(f"{bundle_dir} (bundle format {manifest['format_version']}, built "
               f"{manifest['built_at_utc']})")
    _print_counts(manifest["counts"])
    totals = report.get("totals", [])
    if totals:
        click.echo("warnings:")
        for t in totals:
            click.echo(f"  {t['count']:>8,}  {t['code']:<28} {t['file'] or ''}")
    for d in report.get("dropped", []):
        click.echo(f"dropped {d['count']:,} {d['what']}: {d['reason']}")


# ---------------------------------------------------------------------------------------------
# trajet route
# ---------------------------------------------------------------------------------------------
def _lat_lon(ctx, param, value: str) -> tuple[float, float]:
    """Parse "LAT,LON" (degrees) into (lon, lat)."""
    parts = value.replace(" ", "").split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not LAT,LON (e.g. 43.7384,7.4246)") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise click.BadParameter(f"{value!r}: latitude must be within +-90 and longitude +-180")
    return lon, lat


def _duration_text(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


@main.command()
@click.argument("bundle_dir", type=click.Path(path_type=Path))
@click.option("--from", "origin", required=True, callback=_lat_lon, metavar="LAT,LON",
              help="Where the trip starts (WGS84 degrees).")
@click.option("--to", "destination", required=True, callback=_lat_lon, metavar="LAT,LON",
              help="Where the trip ends (WGS84 degrees).")
@click.option("--mode", type=click.Choice(["WALK", "BICYCLE", "CAR"], case_sensitive=False),
              default="WALK", show_default=True)
@click.option("--walk-speed", "walk_speed_mps", default=1.3, show_default=True, type=float,
              help="Walking speed, m/s.")
@click.option("--bike-speed", "bike_speed_mps", default=4.5, show_default=True, type=float,
              help="Cycling speed, m/s.")
@click.option("--bike-lane-preference", default=0.0, show_default=True, type=float,
              help="Streets without a bike lane cost (1 + this) times their time (BICYCLE).")
@click.option("--max-snap", "max_snap_m", default=500.0, show_default=True, type=float,
              help="Farthest a point may be from a street the mode may use, metres.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def route(bundle_dir, origin, destination, mode, walk_speed_mps, bike_speed_mps,
          bike_lane_preference, max_snap_m, as_json):
    """Print the street path between two points for one mode (distance, time, streets).

    Exits with 1 and a reason code (LOCATION_NOT_ACCESSIBLE, PATH_NOT_FOUND) when there is no
    route, and 2 for a bad bundle or parameter.
    """
    from engine.model import Mode, haversine_m
    from engine.street import LocationNotAccessible, StreetProfile, route_points
    from loaders.bundle import load_bundle

    try:
        profile = StreetProfile(Mode[mode.upper()], walk_speed_mps=walk_speed_mps,
                                bike_speed_mps=bike_speed_mps,
                                bike_lane_preference=bike_lane_preference)
    except ValueError as exc:
        _fail(str(exc))
    if not max_snap_m >= 0:
        _fail(f"--max-snap must be >= 0 metres, got {max_snap_m}")
    try:
        network = load_bundle(bundle_dir)
    except BundleError as exc:
        _fail(str(exc))
    if network.street is None:
        _fail(f"{bundle_dir} has no street network (it was built without --osm)")

    def no_route(code: str, message: str) -> None:
        if as_json:
            click.echo(json.dumps({"mode": profile.mode.name, "path": None,
                                   "error": {"code": code, "message": message}}))
        else:
            click.echo(f"no route: {message}", err=True)
        sys.exit(1)

    try:
        path = route_points(network.street, origin, destination, profile, max_snap_m=max_snap_m)
    except LocationNotAccessible as exc:
        no_route(exc.code, str(exc))
    if path is None:
        no_route("PATH_NOT_FOUND", "no street path joins the two points")
    ends = {name: {"lat": float(path.lat[i]), "lon": float(path.lon[i]), "input_lat": point[1],
                   "input_lon": point[0],
                   "snap_distance_m": round(float(haversine_m(point[0], point[1], path.lon[i],
                                                              path.lat[i])), 2)}
            for name, i, point in (("from", 0, origin), ("to", -1, destination))}
    if as_json:
        click.echo(json.dumps({
            "mode": profile.mode.name, "from": ends["from"], "to": ends["to"],
            "distance_m": round(path.length_m, 2), "duration_s": round(path.duration_s, 2),
            "cost": round(path.cost, 2), "n_nodes": int(path.node_idx.size),
            "streets": [{"name": name, "distance_m": round(length, 2)} for name, length in path.streets],
            "geometry": path.geojson()}, ensure_ascii=False))
        return
    click.echo(f"{profile.mode.name}: {path.length_m:,.0f} m in {_duration_text(path.duration_s)} "
               f"({path.duration_s:,.0f} s)")
    for name in ("from", "to"):
        e = ends[name]
        click.echo(f"  {name:<4} {e['lat']:.6f},{e['lon']:.6f} ({e['snap_distance_m']:.0f} m from the "
                   f"point given)")
    for name, length in path.streets:
        click.echo(f"  {length:>8,.0f} m  {name or '(unnamed street)'}")


# ---------------------------------------------------------------------------------------------
# trajet serve
# ---------------------------------------------------------------------------------------------
@main.command()
@click.argument("bundle_dir", type=click.Path(path_type=Path))
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
        _fail(str(exc))
    settings = {}
    if ingest_token_env:
        if not os.environ.get(ingest_token_env):
            _fail(f"--ingest-token-env {ingest_token_env}: that variable is not set")
        settings["ingest_token"] = os.environ[ingest_token_env]
    if observations_db:
        settings["observations_db"] = observations_db
    click.echo(f"trajet: serving {bundle_dir} on http://{host}:{port} ({workers} workers)", err=True)
    try:
        run_server(bundle_dir, host=host, port=port, workers=workers, threads=threads,
                   access_log=access_log, settings=settings)
    except ConfigError as exc:
        _fail(f"configuration: {exc}")



# ---------------------------------------------------------------------------------------------
# trajet plan (walk and transit, or every mode with the parking-aware planner)
# ---------------------------------------------------------------------------------------------
def _location(text: str, option: str):
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


def _when(text: str, option: str):
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 date and time "
                                 "(e.g. 2024-01-08T08:30)", param_hint=option) from None


def _hhmm(tz: str, day: int, seconds: int) -> str:
    from engine.transit import from_service_time

    return from_service_time(tz, day, seconds).strftime("%H:%M")


PLANNER_MODES = ("WALK", "BICYCLE", "CAR_PARK", "PARK_AND_RIDE", "BIKE_AND_RIDE", "TRANSIT")


@main.command()
@click.argument("bundle_dir", type=click.Path(path_type=Path))
@click.option("--from", "origin", required=True, metavar="LAT,LON|stop:ID",
              help="Where to leave from: a point or a GTFS stop (a station stands for its stops).")
@click.option("--to", "destination", required=True, metavar="LAT,LON|stop:ID", help="Where to go.")
@click.option("--depart", metavar="ISO", help="Leave at or after this local time (feed timezone "
              "unless the time has an offset).")
@click.option("--arrive", metavar="ISO", help="Arrive at or before this time.")
@click.option("--modes", default="WALK,TRANSIT", show_default=True,
              help="Comma-separated modes among " + ", ".join(PLANNER_MODES) + ". WALK and "
                   "TRANSIT alone list every walk and transit option; any other mode runs the "
                   "multimodal, parking-aware planner (a few Pareto-optimal, labelled options).")
@click.option("--window", "window_min", type=click.IntRange(0, 24 * 60), default=0,
              help="Every departure within this many minutes after --depart (or before --arrive).")
@click.option("--max-transfers", type=click.IntRange(0, 30), default=5, show_default=True)
@click.option("--transit-modes", default=None,
              help="Only these transit modes, comma-separated (BUS, TRAM, SUBWAY, RAIL, FERRY...).")
@click.option("--walk-speed", "walk_speed_mps", type=float, default=1.3, show_default=True,
              help="Walking speed, m/s.")
@click.option("--max-walk", "max_walk_min", type=float, default=15, show_default=True,
              help="Longest walk to or from a stop, minutes.")
@click.option("--max-walk-m", "max_walk_m", type=float, default=None,
              help="Longest walk to or from a stop or a car park, metres (multimodal planner; "
                   "default: --max-walk at --walk-speed).")
@click.option("--transfer-slack", "transfer_slack_s", type=click.IntRange(0, 3600), default=60,
              show_default=True, help="Seconds to change at one stop when the feed gives none.")
@click.option("--wheelchair", is_flag=True, help="Only wheelchair-accessible trips and stops.")
@click.option("--bike-speed", "bike_speed_mps", type=float, default=4.5, show_default=True,
              help="Cycling speed, m/s (multimodal planner).")
@click.option("--bike-lane-preference", type=float, default=0.0, show_default=True,
              help="Streets without a bike lane cost (1 + this) times their time when cycling.")
@click.option("--parking-threshold", "min_p_free", type=click.FloatRange(0, 1), default=0.2,
              show_default=True, help="Car parks less likely than this to have a space on "
                                      "arrival are not proposed.")
@click.option("--park-ride-walk-m", type=float, default=400.0, show_default=True,
              help="Longest walk from a car park or bicycle parking to a stop (park-and-ride, "
                   "bike-and-ride), metres.")
@click.option("--num-itineraries", type=click.IntRange(1, 20), default=5, show_default=True,
              help="Most options returned by the multimodal planner.")
@click.option("--json", "as_json", is_flag=True, help="Print the itineraries as JSON.")
def plan(bundle_dir, origin, destination, depart, arrive, modes, window_min, max_transfers,
         transit_modes, walk_speed_mps, max_walk_min, max_walk_m, transfer_slack_s, wheelchair,
         bike_speed_mps, bike_lane_preference, min_p_free, park_ride_walk_m, num_itineraries,
         as_json):
    """Plan itineraries on a bundle: walk and transit, or every mode with parking forecasts."""
    from api.serialize import plan_to_json
    from engine.planning.itinerary import plan_walk_transit
    from engine.transit import TransitOptions, to_service_time
    from loaders.bundle import load_bundle

    if (depart is None) == (arrive is None):
        raise click.UsageError("give exactly one of --depart and --arrive")
    o = _location(origin, "--from")
    d = _location(destination, "--to")
    when = _when(depart or arrive, "--depart" if depart else "--arrive")
    mode_list = [m.strip().upper() for m in modes.split(",") if m.strip()]
    unknown = sorted(set(mode_list) - set(PLANNER_MODES))
    if not mode_list or unknown:
        raise click.BadParameter(f"{modes!r}: unknown mode{'s' if len(unknown) > 1 else ''} "
                                 f"{', '.join(unknown)}; the modes are {', '.join(PLANNER_MODES)}",
                                 param_hint="--modes")
    multimodal = not set(mode_list) <= {"WALK", "TRANSIT"}
    transit_mode_set = (frozenset(m.strip() for m in transit_modes.split(",") if m.strip())
                        if transit_modes else None)
    try:
        options = TransitOptions(
            max_transfers=max_transfers, walk_speed_mps=walk_speed_mps,
            transfer_slack_s=transfer_slack_s, wheelchair=wheelchair, modes=transit_mode_set)
        planner_options = _planner_options(
            walk_speed_mps=walk_speed_mps, bike_speed_mps=bike_speed_mps,
            bike_lane_preference=bike_lane_preference,
            max_walk_m=max_walk_m if max_walk_m is not None else max_walk_min * 60 * walk_speed_mps,
            park_ride_walk_m=park_ride_walk_m, max_transfers=max_transfers,
            transfer_slack_s=transfer_slack_s, transit_modes=transit_mode_set,
            wheelchair=wheelchair, window_s=window_min * 60, num_itineraries=num_itineraries,
            min_p_free=min_p_free) if multimodal else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    try:
        network = load_bundle(bundle_dir)
    except BundleError as exc:
        _fail(str(exc))
    if multimodal:
        from engine.planning.planner import plan_trip

        kw = {"arrive_by": when} if arrive is not None else {"depart_at": when}
        result = plan_trip(network, o, d, modes=mode_list, options=planner_options, **kw)
    else:
        day, time_s = to_service_time(network.timezone, when)
        result = plan_walk_transit(network, o, d, day=day, time_s=time_s,
                                   arrive_by=arrive is not None, window_s=window_min * 60,
                                   modes=set(mode_list), options=options,
                                   max_walk_s=max_walk_min * 60)
    if as_json:
        click.echo(json.dumps(plan_to_json(result), ensure_ascii=False))
        if not result.ok:
            sys.exit(1)
        return
    if not result.ok:
        for mode, why in result.left_out.items():
            click.echo(f"  {mode}: {why.code}: {why.message}", err=True)
        _fail(f"{result.code}: {result.message}", code=1)
    _print_itineraries(result)


def _planner_options(*, min_p_free: float, **kw):
    """engine.planning.PlanOptions from the command's options (ValueError when out of range)."""
    from engine.parking.choice import ParkingPolicy
    from engine.planning.options import PlanOptions

    return PlanOptions(parking=ParkingPolicy(min_p_free=min_p_free), **kw)


def _print_itineraries(result) -> None:
    tz = result.timezone
    for n, it in enumerate(result.itineraries, 1):
        head = f"{it.mode} " if it.mode else ""
        labels = f"  [{', '.join(it.labels)}]" if it.labels else ""
        click.echo(f"{n}. {head}{_hhmm(tz, it.service_day, it.start_s)} -> "
                   f"{_hhmm(tz, it.service_day, it.end_s)}  {it.duration_s // 60} min, "
                   f"{it.transfers} transfer{'s' if it.transfers != 1 else ''}, "
                   f"walk {it.walk_distance_m:,.0f} m{labels}")
        for leg in it.legs:
            what = leg.mode if leg.route is None else (
                f"{leg.mode} {leg.route.short_name or leg.route.long_name}"
                f"{' to ' + leg.headsign if leg.headsign else ''}")
            click.echo(f"     {_hhmm(tz, it.service_day, leg.start_s)}-"
                       f"{_hhmm(tz, it.service_day, leg.end_s)}  {what:<28} "
                       f"{leg.from_place.name} -> {leg.to_place.name}")
            parking = leg.extra.get("parking") if leg.extra else None
            if parking:
                search_min = parking["expected_search_s"] / 60
                click.echo(f"                 {parking['why']}"
                           + (f"; about {search_min:.0f} min to find one" if search_min >= 0.5 else ""))
                for a in parking["avoided"]:
                    click.echo(f"                 avoided: {a['reason']}")
                if parking.get("fallback"):
                    click.echo(f"                 if full: {parking['fallback']['reason']}")
                if parking.get("return_trip"):
                    click.echo(f"                 {parking['return_trip']}")
    for mode, why in result.left_out.items():
        click.echo(f"   {mode} not shown: {why.code}: {why.message}")


# ---------------------------------------------------------------------------------------------
# trajet matrix, trajet scenario (planners)
# ---------------------------------------------------------------------------------------------
def _places_option(text: str, network, option: str):
    """``stops``, ``grid:SPACING_M`` or a CSV/GeoJSON file -> Places; BadParameter otherwise."""
    from api.scenario_io import ScenarioFileError, grid_places, read_places, stop_places

    try:
        if text.strip().lower() == "stops":
            return stop_places(network)
        if text.lower().startswith("grid:"):
            try:
                spacing = float(text.split(":", 1)[1])
            except ValueError:
                raise click.BadParameter(f"{text!r}: expected grid:SPACING_M (e.g. grid:400)",
                                         param_hint=option) from None
            return grid_places(network, spacing)
        return read_places(text)
    except ScenarioFileError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _matrix_options(walk_speed_mps, bike_speed_mps, bike_lane_preference, max_walk_m, max_transfers):
    from engine.planning.options import PlanOptions

    try:
        return PlanOptions(walk_speed_mps=walk_speed_mps, bike_speed_mps=bike_speed_mps,
                           bike_lane_preference=bike_lane_preference, max_walk_m=max_walk_m,
                           max_transfers=max_transfers)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _executor_options(f):
    """Options shared by ``trajet matrix`` and ``trajet scenario run``: where chunks run."""
    options = [
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
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _pool(use_dask, scheduler, serial, workers):
    from api.batch import open_pool

    if sum(bool(x) for x in (use_dask, scheduler, serial)) > 1:
        _fail("give at most one of --dask, --scheduler and --serial")
    executor = "dask" if use_dask else "serial" if serial else "process"
    try:
        return open_pool(executor, workers=workers, scheduler=scheduler)
    except OSError as exc:
        _fail(f"--scheduler {scheduler}: cannot connect ({exc})")


def _travel_options(f):
    options = [
        click.option("--walk-speed", "walk_speed_mps", type=float, default=1.3, show_default=True,
                     help="Walking speed, m/s."),
        click.option("--bike-speed", "bike_speed_mps", type=float, default=4.5, show_default=True,
                     help="Cycling speed, m/s."),
        click.option("--bike-lane-preference", type=float, default=0.0, show_default=True,
                     help="Streets without a bike lane cost (1 + this) times their time."),
        click.option("--max-walk-m", "max_walk_m", type=float, default=1500.0, show_default=True,
                     help="Longest walk to or from a stop, or from a car park, metres."),
        click.option("--max-transfers", type=click.IntRange(0, 30), default=5, show_default=True),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@main.command()
@click.argument("bundle_dir", type=click.Path(path_type=Path))
@click.option("--origins", required=True, metavar="FILE|stops|grid:M",
              help="A CSV (id, lon, lat[, weight]) or GeoJSON of points, 'stops' (every served stop) "
                   "or grid:SPACING_M (a grid over the network).")
@click.option("--destinations", required=True, metavar="FILE|stops|grid:M", help="As --origins.")
@click.option("--departure", required=True, metavar="ISO",
              help="Local departure time (the network's timezone unless it has an offset).")
@click.option("--modes", default="TRANSIT", show_default=True,
              help="Comma-separated: WALK, BICYCLE, CAR_PARK, TRANSIT (the fastest counts).")
@click.option("--window", "window_min", type=click.IntRange(0, 24 * 60), default=0,
              help="Every minute of this window after --departure: travel_time_s is the median.")
@click.option("--percentiles", default="", metavar="P,P,...",
              help="Percentiles over the window, e.g. 25,50,75.")
@click.option("--breakdown", is_flag=True,
              help="Add access, wait, ride, transfer walk, egress and transfers (transit).")
@click.option("--max-time", "max_time_min", type=float, default=120.0, show_default=True,
              help="Pairs slower than this many minutes are unreachable (NaN).")
@_travel_options
@_executor_options
@click.option("--out", "out_file", required=True, type=click.Path(path_type=Path),
              help="The table to write: .parquet or .csv.")
@click.option("--keep-chunks", is_flag=True,
              help="Keep the chunk files (OUT.chunks/) after the table is written.")
def matrix(bundle_dir, origins, destinations, departure, modes, window_min, percentiles, breakdown,
           max_time_min, walk_speed_mps, bike_speed_mps, bike_lane_preference, max_walk_m,
           max_transfers, use_dask, scheduler, serial, workers, chunk_size, quiet, out_file, keep_chunks):
    """Travel-time matrix from every origin to every destination: a long table
    from_id, to_id, travel_time_s (NaN when unreachable).

    Chunks of origins run in parallel and are written to OUT.chunks/ as they finish: running the
    same command again after an interruption resumes from them.
    """
    import shutil
    import time

    from api.batch import BatchError, MatrixJob, run_matrix
    from api.scenario_io import ScenarioFileError, parse_departure, write_table
    from engine.planning.matrix import MatrixError, parse_modes
    from loaders.bundle import load_bundle

    if out_file.suffix.lower() not in (".parquet", ".csv"):
        _fail(f"--out {out_file}: use a .parquet or .csv file name")
    try:
        mode_names = parse_modes(modes)
        when = parse_departure(departure, field_name="--departure")
        pcts = tuple(float(p) for p in percentiles.split(",") if p.strip())
    except (MatrixError, ScenarioFileError, ValueError) as exc:
        _fail(f"{exc}")
    try:
        network = load_bundle(bundle_dir)
    except BundleError as exc:
        _fail(str(exc))
    o = _places_option(origins, network, "--origins")
    d = _places_option(destinations, network, "--destinations")
    job = MatrixJob(bundle=str(bundle_dir), origins=o, destinations=d, departures=(when,), modes=mode_names,
                    window_min=window_min, percentiles=pcts, max_time_s=max_time_min * 60,
                    breakdown=breakdown,
                    options=_matrix_options(walk_speed_mps, bike_speed_mps, bike_lane_preference,
                                            max_walk_m, max_transfers))
    try:  # fail early, in this process, on what every chunk would fail on
        from engine.planning.matrix import travel_time_matrix

        travel_time_matrix(network, o.lonlat[:1], d.lonlat[:1], departure=when, modes=mode_names,
                           window_min=min(window_min, 1), percentiles=pcts, max_time_s=max_time_min * 60,
                           breakdown=breakdown, options=job.options)
    except (MatrixError, ValueError) as exc:
        _fail(str(exc))
    chunks_dir = out_file.with_name(out_file.name + ".chunks")
    t0 = time.perf_counter()
    with _pool(use_dask, scheduler, serial, workers) as pool:
        try:
            table, report = run_matrix(job, pool=pool, chunk_size=chunk_size, out_dir=chunks_dir,
                                       progress=not quiet)
        except BatchError as exc:
            _fail(str(exc), code=1)
    write_table(table, out_file)
    if not keep_chunks:
        shutil.rmtree(chunks_dir, ignore_errors=True)
    seconds = time.perf_counter() - t0
    reach = float(table["travel_time_s"].notna().mean()) if len(table) else 0.0
    reused = f", {len(report.reused)} reused" if report.reused else ""
    click.echo(f"{len(o):,} x {len(d):,} pairs ({', '.join(mode_names)}), {report.n_chunks} chunks"
               f"{reused} on {pool.workers} {report.executor} worker(s) in {seconds:.1f} s "
               f"({len(o) / max(seconds, 1e-9):,.1f} origins/s); {100 * reach:.1f} % reachable")
    click.echo(f"wrote {out_file}")


@main.group()
def scenario():
    """Planner scenarios: what changes if a car park closes, a bus runs more often..."""


def _scenario_file(file: Path, bundle_dir: Path | None):
    """The scenario file's contents and the bundle it applies to (``--bundle``, else the file's);
    fails with a clear message when the file is bad or names no bundle."""
    from api.scenario_io import ScenarioFileError, load_scenario_file

    try:
        sf = load_scenario_file(file)
    except ScenarioFileError as exc:
        _fail(str(exc))
    bundle_dir = bundle_dir or sf.bundle
    if bundle_dir is None:
        _fail(f"{file}: no 'bundle' in the file: pass --bundle")
    return sf, bundle_dir


def _apply_scenario(sf, network, file: Path):
    """(scenario network, changes) of the file's scenario on ``network``, or a clear failure."""
    from api.scenario_io import prepare_scenario
    from engine.scenario import ScenarioError

    try:
        return prepare_scenario(sf.scenario, network).apply(network)
    except ScenarioError as exc:
        _fail(f"{file}: {exc}")


def _load_network(bundle_dir: Path):
    from loaders.bundle import load_bundle

    try:
        return load_bundle(bundle_dir)
    except BundleError as exc:
        _fail(str(exc))


def _echo_changes(changes) -> None:
    for i, change in enumerate(changes):
        click.echo(f"  {i}. {change.kind}: {change}")


@scenario.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--bundle", "bundle_dir", type=click.Path(path_type=Path),
              help="The bundle to apply it to (default: the file's 'bundle').")
def scenario_check(file, bundle_dir):
    """Read a scenario file, apply its modifications and say what each one touches."""
    sf, bundle_dir = _scenario_file(file, bundle_dir)
    _, changes = _apply_scenario(sf, _load_network(bundle_dir), file)
    click.echo(f"{sf.name}: {len(changes)} modification(s) on {bundle_dir}")
    _echo_changes(changes)


@scenario.command("run")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Folder of the results (default: FILE's name + '-results' here).")
@click.option("--bundle", "bundle_dir", type=click.Path(path_type=Path),
              help="The bundle (default: the file's 'bundle', relative to the file).")
@click.option("--format", "table_format", type=click.Choice(["parquet", "csv"]), default="parquet",
              show_default=True, help="Format of the matrix and difference tables.")
@_executor_options
def scenario_run(file, out_dir, bundle_dir, table_format, use_dask, scheduler, serial, workers,
                 chunk_size, quiet):
    """Run baseline and scenario on the same origins, destinations, times and modes.

    Writes baseline and scenario matrices, the difference per pair, summary.json (travel-time
    change, shares improved and worse, accessibility within 15/30/45 min) and change_map.png.
    """
    import dataclasses

    from api.batch import BatchError, MatrixJob, run_matrix
    from api.scenario_io import (
        ScenarioFileError,
        changed_stops,
        changed_street_edges,
        closed_facility_points,
        difference_table,
        origin_changes,
        places_from_spec,
        plot_change_map,
        summarise,
        write_table,
    )

    sf, bundle_dir = _scenario_file(file, bundle_dir)
    out_dir = out_dir or Path(f"{file.stem}-results")
    network = _load_network(bundle_dir)
    try:
        origins = places_from_spec(sf.origins, network, base_dir=file.parent, file=file, field_name="origins")
        destinations = places_from_spec(sf.destinations, network, base_dir=file.parent, file=file,
                                        field_name="destinations")
    except ScenarioFileError as exc:
        _fail(str(exc))
    scen_network, changes = _apply_scenario(sf, network, file)
    click.echo(f"{sf.name}")
    _echo_changes(changes)
    base_job = MatrixJob(bundle=str(bundle_dir), origins=origins, destinations=destinations,
                         departures=sf.departures, modes=sf.modes, window_min=sf.window_min,
                         percentiles=sf.percentiles, max_time_s=sf.max_time_s, options=sf.options,
                         scenario_name="baseline")
    scen_job = dataclasses.replace(base_job, scenario_specs=sf.modification_specs, scenario_name=sf.name)
    tables = {}
    with _pool(use_dask, scheduler, serial, workers) as pool:
        for name, job in (("baseline", base_job), ("scenario", scen_job)):
            try:
                tables[name], _ = run_matrix(job, pool=pool, chunk_size=chunk_size,
                                             out_dir=out_dir / "chunks" / name, progress=not quiet)
            except BatchError as exc:
                _fail(f"{name}: {exc}", code=1)
    ext = table_format
    write_table(tables["baseline"], out_dir / f"baseline.{ext}")
    write_table(tables["scenario"], out_dir / f"scenario.{ext}")
    diff = difference_table(tables["baseline"], tables["scenario"])
    write_table(diff, out_dir / f"difference.{ext}")
    summary = summarise(diff, destinations)
    summary = {"scenario": sf.name, "file": str(file), "bundle": str(bundle_dir),
               "changes": [{"type": c.kind, "message": c.message, **c.counts} for c in changes],
               "origins": len(origins), "destinations": len(destinations),
               "departures": [d.isoformat() for d in sf.departures], "modes": list(sf.modes),
               "window_min": sf.window_min, **summary}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    plot_change_map(network, origins, origin_changes(diff), out_dir / "change_map.png", title=sf.name,
                    highlight_edges=changed_street_edges(network, scen_network),
                    closed_points=closed_facility_points(network, scen_network),
                    stop_points=changed_stops(network, scen_network))
    import shutil

    shutil.rmtree(out_dir / "chunks", ignore_errors=True)
    if "mean_change_s" in summary:
        click.echo(f"travel time: mean change {summary['mean_change_s']:+.0f} s (p10 "
                   f"{summary['change_p10_s']:+.0f}, p50 {summary['change_p50_s']:+.0f}, p90 "
                   f"{summary['change_p90_s']:+.0f}); {100 * summary['share_improved']:.1f} % of pairs "
                   f"faster, {100 * summary['share_worse']:.1f} % slower")
    click.echo(f"pairs reachable: {summary['pairs_reachable_baseline']:,} -> "
               f"{summary['pairs_reachable_scenario']:,} of {summary['pairs']:,}")
    access = summary["accessibility"]
    unit = "opportunities" if access["weighted"] else "destinations"
    for cut in access["cutoffs_min"]:
        a = access[f"within_{cut}_min"]
        click.echo(f"{unit} within {cut} min (mean per origin): {a['baseline']:,.1f} -> {a['scenario']:,.1f}")
    click.echo(f"wrote {out_dir}/ (baseline, scenario, difference .{ext}, summary.json, change_map.png)")


if __name__ == "__main__":
    main()
