"""``trajet plan`` (itineraries: walk and transit, or every mode with parking forecasts) and
``trajet route`` (the street path of one mode between two points)."""
from __future__ import annotations

import json
import sys

import click

from api.cli.options import (
    bike_lane_preference_option,
    bike_speed_option,
    bundle_argument,
    check_not_swapped,
    depart_arrive_options,
    departure_or_arrival,
    fail,
    json_option,
    lat_lon,
    load_network,
    location,
    max_snap_option,
    max_transfers_option,
    max_walk_m_option,
    num_itineraries_option,
    park_ride_walk_option,
    parking_threshold_option,
    plan_window_option,
    transfer_slack_option,
    walk_speed_option,
)
from api.cli.realtime import itinerary_lines, leg_lines, load_realtime, print_report, realtime_option

PLANNER_MODES = ("WALK", "BICYCLE", "CAR_PARK", "PARK_AND_RIDE", "BIKE_AND_RIDE", "BIKE_SHARE", "TRANSIT")


# ---------------------------------------------------------------------------------------------
# trajet plan
# ---------------------------------------------------------------------------------------------
def _parse_modes(modes: str) -> list[str]:
    """``--modes`` -> upper-case mode names; BadParameter naming the unknown ones."""
    mode_list = [m.strip().upper() for m in modes.split(",") if m.strip()]
    unknown = sorted(set(mode_list) - set(PLANNER_MODES))
    if not mode_list or unknown:
        raise click.BadParameter(f"{modes!r}: unknown mode{'s' if len(unknown) > 1 else ''} "
                                 f"{', '.join(unknown)}; the modes are {', '.join(PLANNER_MODES)}",
                                 param_hint="--modes")
    return mode_list


def _max_walk_m(max_walk_min: float | None, max_walk_m: float, walk_speed_mps: float) -> float:
    """The longest walk in metres: ``--max-walk-m``, or ``--max-walk`` minutes at ``--walk-speed``."""
    if max_walk_min is None:
        return max_walk_m
    source = click.get_current_context().get_parameter_source("max_walk_m")
    if source is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError("give at most one of --max-walk and --max-walk-m")
    return max_walk_min * 60 * walk_speed_mps


def _plan_options(*, min_p_free: float, transit_modes: str | None, **kw):
    """engine.planning.PlanOptions from the command's options (BadParameter when out of range)."""
    from engine.parking.choice import ParkingPolicy
    from engine.planning.options import PlanOptions

    modes = (frozenset(m.strip() for m in transit_modes.split(",") if m.strip())
             if transit_modes else None)
    try:
        return PlanOptions(parking=ParkingPolicy(min_p_free=min_p_free), transit_modes=modes, **kw)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _run_plan(network, origin, destination, when, arrive_by: bool, modes: list[str], options,
              realtime=None):
    """The PlanResult: walk and transit alone list every option (plan_walk_transit); any other
    mode runs the multimodal, parking-aware planner (plan_trip)."""
    if not set(modes) <= {"WALK", "TRANSIT"}:
        from engine.planning.planner import plan_trip

        kw = {"arrive_by": when} if arrive_by else {"depart_at": when}
        return plan_trip(network, origin, destination, modes=modes, options=options,
                         realtime=realtime, **kw)
    from engine.planning.itinerary import plan_walk_transit
    from engine.transit import to_service_time

    day, time_s = to_service_time(network.timezone, when)
    return plan_walk_transit(network, origin, destination, day=day, time_s=time_s,
                             arrive_by=arrive_by, window_s=options.window_s, modes=set(modes),
                             options=options.transit_options(),
                             max_walk_s=options.max_walk_m / options.walk_speed_mps,
                             realtime=realtime)


@click.command()
@bundle_argument
@click.option("--from", "origin", required=True, metavar="LAT,LON|stop:ID",
              help="Where to leave from: a point or a GTFS stop (a station stands for its stops).")
@click.option("--to", "destination", required=True, metavar="LAT,LON|stop:ID", help="Where to go.")
@depart_arrive_options
@click.option("--modes", default="WALK,TRANSIT", show_default=True,
              help="Comma-separated modes among " + ", ".join(PLANNER_MODES) + ". WALK and "
                   "TRANSIT alone list every walk and transit option; any other mode runs the "
                   "multimodal, parking-aware planner (a few Pareto-optimal, labelled options). "
                   "Default on a network without a timetable: WALK,BICYCLE.")
@plan_window_option
@max_transfers_option
@click.option("--transit-modes", default=None,
              help="Only these transit modes, comma-separated (BUS, TRAM, SUBWAY, RAIL, FERRY...).")
@walk_speed_option
@max_walk_m_option
@click.option("--max-walk", "max_walk_min", type=float, default=None,
              help="Longest walk in minutes at --walk-speed, instead of --max-walk-m.")
@transfer_slack_option
@click.option("--wheelchair", is_flag=True, help="Only wheelchair-accessible trips and stops.")
@bike_speed_option
@bike_lane_preference_option
@parking_threshold_option
@park_ride_walk_option
@num_itineraries_option
@realtime_option
@click.option("--lang", default=None, metavar="TAG", help="Language of real-time alert texts "
              "(e.g. fr; the feed's own when absent).")
@click.option("--json", "as_json", is_flag=True, help="Print the itineraries as JSON.")
def plan(bundle_dir, origin, destination, depart, arrive, modes, window_min, max_transfers,
         transit_modes, walk_speed_mps, max_walk_m, max_walk_min, transfer_slack_s, wheelchair,
         bike_speed_mps, bike_lane_preference, min_p_free, park_ride_walk_m, num_itineraries,
         realtime_sources, lang, as_json):
    """Plan itineraries on a bundle: walk and transit, or every mode with parking forecasts."""
    from api.serialize import plan_to_json
    from engine.planning.itinerary import Point
    from engine.planning.reasons import default_modes

    when, arrive_by = departure_or_arrival(depart, arrive)
    o = location(origin, "--from")
    d = location(destination, "--to")
    mode_list = _parse_modes(modes)
    options = _plan_options(
        walk_speed_mps=walk_speed_mps, bike_speed_mps=bike_speed_mps,
        bike_lane_preference=bike_lane_preference,
        max_walk_m=_max_walk_m(max_walk_min, max_walk_m, walk_speed_mps),
        park_ride_walk_m=park_ride_walk_m, max_transfers=max_transfers,
        transfer_slack_s=transfer_slack_s, transit_modes=transit_modes, wheelchair=wheelchair,
        window_s=window_min * 60, num_itineraries=num_itineraries, min_p_free=min_p_free)
    network = load_network(bundle_dir)
    if click.get_current_context().get_parameter_source("modes") is click.core.ParameterSource.DEFAULT:
        mode_list = list(default_modes(network))    # the API's rule too
    for where, option in ((o, "--from"), (d, "--to")):
        if isinstance(where, Point):
            check_not_swapped(network, where.lon, where.lat, option)
    state, rt_report = load_realtime(network, realtime_sources)
    result = _run_plan(network, o, d, when, arrive_by, mode_list, options, realtime=state)
    if as_json:
        out = plan_to_json(result, lang=lang)
        if realtime_sources:
            out["realtime"] = rt_report
        click.echo(json.dumps(out, ensure_ascii=False))
        if not result.ok:
            sys.exit(1)
        return
    if not result.ok:
        for mode, why in result.left_out.items():
            click.echo(f"  {mode}: {why.code}: {why.message}", err=True)
        fail(f"{result.code}: {result.message}", code=1)
    if realtime_sources:
        print_report(rt_report)
    _print_itineraries(result, lang)


def _hhmm(tz: str, day: int, seconds: int) -> str:
    from engine.transit import from_service_time

    return from_service_time(tz, day, seconds).strftime("%H:%M")


def _print_parking(parking: dict) -> None:
    search_min = parking["expected_search_s"] / 60
    click.echo(f"                 {parking['why']}"
               + (f"; about {search_min:.0f} min to find one" if search_min >= 0.5 else ""))
    for a in parking["avoided"]:
        click.echo(f"                 avoided: {a['reason']}")
    if parking.get("fallback"):
        click.echo(f"                 if full: {parking['fallback']['reason']}")
    if parking.get("return_trip"):
        click.echo(f"                 {parking['return_trip']}")


def _print_bike_share(info: dict) -> None:
    """The pick-up and drop-off of a bike-share ride: why each, and the stations passed over."""
    for end in ("pickup", "dropoff"):
        click.echo(f"                 {end}: {info[end]['why']}")
        for a in info[end]["avoided"]:
            click.echo(f"                 avoided: {a['reason']}")


def _print_itineraries(result, lang: str | None = None) -> None:
    tz = result.timezone
    for n, it in enumerate(result.itineraries, 1):
        def hhmm(s, it=it):
            return _hhmm(tz, it.service_day, s)
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
                _print_parking(parking)
            if leg.extra and leg.extra.get("bike_share"):
                _print_bike_share(leg.extra["bike_share"])
            for line in leg_lines(leg, hhmm, lang):
                click.echo(f"                 {line}")
        for line in itinerary_lines(it, hhmm):
            click.echo(f"     {line}")
    for mode, why in result.left_out.items():
        click.echo(f"   {mode} not shown: {why.code}: {why.message}")


# ---------------------------------------------------------------------------------------------
# trajet route
# ---------------------------------------------------------------------------------------------
def _duration_text(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _route_ends(path, origin, destination) -> dict:
    """Where each end of ``path`` lies and how far it snapped from the point given."""
    from engine.model import haversine_m

    return {name: {"lat": float(path.lat[i]), "lon": float(path.lon[i]), "input_lat": point[1],
                   "input_lon": point[0],
                   "snap_distance_m": round(float(haversine_m(point[0], point[1], path.lon[i],
                                                              path.lat[i])), 2)}
            for name, i, point in (("from", 0, origin), ("to", -1, destination))}


def _print_route(mode: str, path, ends: dict) -> None:
    click.echo(f"{mode}: {path.length_m:,.0f} m in {_duration_text(path.duration_s)} "
               f"({path.duration_s:,.0f} s)")
    for name in ("from", "to"):
        e = ends[name]
        click.echo(f"  {name:<4} {e['lat']:.6f},{e['lon']:.6f} ({e['snap_distance_m']:.0f} m from the "
                   f"point given)")
    for name, length in path.streets:
        click.echo(f"  {length:>8,.0f} m  {name or '(unnamed street)'}")


def _no_route(mode: str, code: str, message: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"mode": mode, "path": None, "error": {"code": code, "message": message}}))
    else:
        click.echo(f"no route: {message}", err=True)
    sys.exit(1)


@click.command()
@bundle_argument
@click.option("--from", "origin", required=True, callback=lat_lon, metavar="LAT,LON",
              help="Where the trip starts (WGS84 degrees).")
@click.option("--to", "destination", required=True, callback=lat_lon, metavar="LAT,LON",
              help="Where the trip ends (WGS84 degrees).")
@click.option("--mode", type=click.Choice(["WALK", "BICYCLE", "CAR"], case_sensitive=False),
              default="WALK", show_default=True)
@walk_speed_option
@bike_speed_option
@bike_lane_preference_option
@max_snap_option
@json_option
def route(bundle_dir, origin, destination, mode, walk_speed_mps, bike_speed_mps,
          bike_lane_preference, max_snap_m, as_json):
    """Print the street path between two points for one mode (distance, time, streets).

    Exits with 1 and a reason code (LOCATION_NOT_ACCESSIBLE, PATH_NOT_FOUND) when there is no
    route, and 2 for a bad bundle or parameter.
    """
    from engine.model import Mode
    from engine.street import LocationNotAccessible, StreetProfile, route_points

    try:
        profile = StreetProfile(Mode[mode.upper()], walk_speed_mps=walk_speed_mps,
                                bike_speed_mps=bike_speed_mps,
                                bike_lane_preference=bike_lane_preference)
    except ValueError as exc:
        fail(str(exc))
    if not max_snap_m >= 0:
        fail(f"--max-snap must be >= 0 metres, got {max_snap_m}")
    network = load_network(bundle_dir)
    if network.street is None:
        fail(f"{bundle_dir} has no street network (it was built without --osm)")
    mode_name = profile.mode.name
    for (lon, lat), option in ((origin, "--from"), (destination, "--to")):
        check_not_swapped(network, lon, lat, option)
    try:
        path = route_points(network.street, origin, destination, profile, max_snap_m=max_snap_m)
    except LocationNotAccessible as exc:
        _no_route(mode_name, exc.code, str(exc), as_json)
    if path is None:
        _no_route(mode_name, "PATH_NOT_FOUND", "no street path joins the two points", as_json)
    ends = _route_ends(path, origin, destination)
    if not as_json:
        _print_route(mode_name, path, ends)
        return
    click.echo(json.dumps({
        "mode": mode_name, "from": ends["from"], "to": ends["to"],
        "distance_m": round(path.length_m, 2), "duration_s": round(path.duration_s, 2),
        "cost": round(path.cost, 2), "n_nodes": int(path.node_idx.size),
        "streets": [{"name": name, "distance_m": round(length, 2)} for name, length in path.streets],
        "geometry": path.geojson()}, ensure_ascii=False))
