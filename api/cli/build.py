"""``trajet build`` (a bundle from GTFS, OSM, bike-lane and parking data) and ``trajet info``."""
from __future__ import annotations

import json
from pathlib import Path

import click

from api.cli.options import bundle_argument, fail, json_option, load_network
from api.cli.realtime import load_realtime, print_report, realtime_option
from loaders.bundle import BundleError, read_manifest
from loaders.report import BuildReport, LoaderError


def _parse_columns(pairs: tuple[str, ...]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise click.BadParameter(f"{pair!r} is not ROLE=COLUMN", param_hint="--history-column")
        out[f"{key.strip()}_col" if not key.endswith("_col") else key.strip()] = value.strip()
    return out


def _parse_roles(pairs: tuple[str, ...], flag: str) -> dict:
    """ROLE=COLUMN pairs of a flag as a dict (click error naming the flag when malformed)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(f"{pair!r} is not ROLE=COLUMN", param_hint=flag)
        out[key.strip()] = value.strip()
    return out


def _print_counts(counts: dict) -> None:
    for key, value in counts.items():
        if isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:,}"
        elif isinstance(value, list) and key == "bbox":
            value = ", ".join(f"{v:.5f}" for v in value)
        click.echo(f"  {key:<24} {value}")


def _with_sample(options, sample: str, history_preset: str | None, holidays_country: str | None):
    """Fill what the command line left out of ``options`` from sample ``sample``'s recipe."""
    from loaders.samples import SampleError, resolve_sample

    try:
        recipe = resolve_sample(sample)
    except SampleError as exc:
        fail(str(exc))
    options.gtfs = options.gtfs or recipe.gtfs
    options.osm = options.osm or recipe.osm
    options.bike_lanes = options.bike_lanes or recipe.bike_lanes
    options.parking_facilities = options.parking_facilities or recipe.parking_facilities
    if options.parking_history is None and recipe.parking_history is not None:
        options.parking_history = recipe.parking_history
        options.parking_history_preset = history_preset or recipe.parking_history_preset
    options.holidays_country = holidays_country or recipe.holidays_country
    # the samples are small: their hierarchy takes about 0.1 s to build (Monaco)
    options.street_hierarchy = True


@click.command()
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
@click.option("--gbfs", "gbfs", multiple=True, metavar="SOURCE",
              help="A bike-share system (GBFS v2.x/v3.0): a folder holding gbfs.json, its path or its "
                   "URL; its stations become bike-share facilities. Repeat for several systems.")
@click.option("--parking-history", type=click.Path(path_type=Path),
              help="Occupancy history CSV (timestamp, facility, free or occupied, capacity).")
@click.option("--history-preset", help="Column layout of --parking-history (montpellier, generic).")
@click.option("--history-column", "history_columns", multiple=True, metavar="ROLE=COLUMN",
              help="Column of a role in --parking-history: timestamp, facility, free, occupied, "
                   "capacity, status (e.g. --history-column occupied=occupancy).")
@click.option("--street-parking", "street_parking", multiple=True, type=click.Path(path_type=Path),
              help="Street parking zones: a kerb-segment CSV (id, geometry or lon/lat, spaces, "
                   "fee, maxstay) or NGSI OnStreetParking JSON.")
@click.option("--street-parking-column", "street_parking_columns", multiple=True,
              metavar="ROLE=COLUMN", help="Column of a role in --street-parking CSV: id, geometry, "
                                          "lon, lat, spaces, name, fee, maxstay.")
@click.option("--zone-sensors", type=click.Path(path_type=Path),
              help="Bay sensor records giving street-zone occupancy (Melbourne shapes).")
@click.option("--zone-sensors-preset", default="melbourne_events", show_default=True,
              type=click.Choice(["melbourne_events", "melbourne_status"]))
@click.option("--zone-sensors-column", "zone_sensors_columns", multiple=True, metavar="ROLE=COLUMN",
              help="Column of a role in --zone-sensors: bay, zone, arrival, departure, present, "
                   "time, status.")
@click.option("--zone-payments", type=click.Path(path_type=Path),
              help="Parking-meter payments giving street-zone occupancy (transactions, or "
                   "Seattle's paid occupancy).")
@click.option("--zone-payments-preset", default="transactions", show_default=True,
              type=click.Choice(["transactions", "seattle"]))
@click.option("--zone-payments-column", "zone_payments_columns", multiple=True,
              metavar="ROLE=COLUMN", help="Column of a role in --zone-payments: zone, start, "
                                          "duration (minutes), end, time, paid, spaces.")
@click.option("--payment-compliance", default=0.75, show_default=True, type=float,
              help="Share of parked cars that pay (occupancy = active payments / this).")
@click.option("--kerbside-timestamp-format",
              help="strftime format of the sensor and payment timestamps (default ISO 8601).")
@click.option("--holidays-country", help="ISO country code of public holidays (FR, MC...).")
@click.option("--footpath-radius", "footpath_radius_m", default=400.0, show_default=True,
              help="Walking transfers between stops within this many metres.")
@click.option("--walk-detour-factor", default=1.3, show_default=True,
              help="Street distance over straight-line distance, used without --osm.")
@click.option("--timezone", help="IANA timezone when no GTFS feed is given.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="The bundle folder to write (replaced atomically).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--street-hierarchy", is_flag=True,
              help="Also store the street contraction hierarchy (per mode) in the bundle: street "
                   "routes and matrices use it (always on with --sample).")
def build(sample, gtfs, osm, bike_lanes, bike_lane_statuses, bike_lane_status_property,
          parking_facilities, gbfs, parking_history, history_preset, history_columns, street_parking,
          street_parking_columns, zone_sensors, zone_sensors_preset, zone_sensors_columns,
          zone_payments, zone_payments_preset, zone_payments_columns, payment_compliance,
          kerbside_timestamp_format, holidays_country, footpath_radius_m, walk_detour_factor,
          timezone, out_dir, quiet, street_hierarchy):
    """Build a network bundle from GTFS, OSM, bike-lane and parking data."""
    from loaders.build import BuildOptions, build_bundle

    options = BuildOptions(
        gtfs=list(gtfs), osm=osm, bike_lanes=list(bike_lanes),
        bike_lane_statuses=tuple(bike_lane_statuses),
        bike_lane_status_property=bike_lane_status_property,
        parking_facilities=list(parking_facilities), gbfs=list(gbfs), parking_history=parking_history,
        parking_history_preset=history_preset,
        parking_history_columns=_parse_columns(history_columns),
        street_parking=list(street_parking),
        street_parking_columns=_parse_roles(street_parking_columns, "--street-parking-column"),
        zone_sensors=zone_sensors, zone_sensors_preset=zone_sensors_preset,
        zone_sensors_columns=_parse_roles(zone_sensors_columns, "--zone-sensors-column"),
        zone_payments=zone_payments, zone_payments_preset=zone_payments_preset,
        zone_payments_columns=_parse_roles(zone_payments_columns, "--zone-payments-column"),
        payment_compliance=payment_compliance, timestamp_format=kerbside_timestamp_format,
        holidays_country=holidays_country, footpath_radius_m=footpath_radius_m,
        walk_detour_factor=walk_detour_factor, timezone=timezone, progress=not quiet,
        street_hierarchy=street_hierarchy)
    if sample:
        _with_sample(options, sample, history_preset, holidays_country)
    report = BuildReport()
    try:
        network, counts = build_bundle(options, out_dir, report)
    except LoaderError as exc:
        for line in report.summary_lines():
            click.echo(line, err=True)
        fail(f"build stopped: {exc}", code=1)
    for line in report.summary_lines():
        click.echo(line, err=True)
    click.echo(f"built {out_dir} in {network.metadata['timings_s']['total']:.1f} s")
    _print_counts(counts)


@click.command()
@bundle_argument
@realtime_option
@json_option
def info(bundle_dir, realtime_sources, as_json):
    """Print a bundle's counts, service period, bbox, timezone and build warnings (and, with
    --realtime, each feed's report: entities, rejections by validator code, what applied)."""
    try:
        manifest = read_manifest(bundle_dir)
    except BundleError as exc:
        fail(str(exc))
    report = manifest.get("report", {})
    rt_report = None
    if realtime_sources:
        _, rt_report = load_realtime(load_network(bundle_dir), realtime_sources)
    if as_json:
        out = {**manifest["counts"], "format_version": manifest["format_version"],
               "built_at_utc": manifest["built_at_utc"], "inputs": manifest.get("inputs", {}),
               "warnings": report.get("totals", []), "dropped": report.get("dropped", [])}
        if rt_report is not None:
            out["realtime"] = rt_report
        click.echo(json.dumps(out, ensure_ascii=False))
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
    if rt_report is not None:
        print_report(rt_report)
