"""``trajet build``: read every source, check it, link it into one Network, save the bundle.

Order of work:
1. GTFS feeds -> Timetable (``loaders.gtfs``);
2. OSM extract -> StreetGraph and OSM car parks (``loaders.osm``); bike-lane GeoJSON marks edges
   (``loaders.bike_lanes``);
3. stops linked to the nearest node of the walk component; walking footpaths between nearby stops
   (``engine.transit.footpaths``) added to the feed's transfers;
4. parking facilities (OSM, NGSI, French CSV), bike-share stations (GBFS, ``loaders.bikeshare``)
   and occupancy history (``loaders.parking``), the occupancy profiles fitted (``engine.parking``;
   for bike-share stations also the bikes profile, ``engine.parking.bikes``);
5. counts, bbox, report -> bundle (``loaders.bundle``).

Every step writes its problems into one :class:`BuildReport`; fatal ones raise LoaderError.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from engine.model import NO_INDEX, LocalProjection, Mode, Network, Parking, StreetGraph, Timetable
from engine.transit.build import merge_footpaths
from loaders.bundle import save_bundle, sha256_file
from loaders.report import BuildReport, LoaderError, quoted

if TYPE_CHECKING:
    import pandas as pd

MAX_STOP_LINK_M = 500.0
"""A stop farther than this from every walkable street node is left unlinked (and reported)."""


@dataclass
class BuildOptions:
    """Inputs and settings of one build (the flags of ``trajet build``)."""

    gtfs: list[Path] = field(default_factory=list)
    osm: Path | None = None
    bike_lanes: list[Path] = field(default_factory=list)
    bike_lane_status_property: str = "status"
    bike_lane_statuses: tuple[str, ...] = ("done",)
    parking_facilities: list[Path] = field(default_factory=list)
    gbfs: list[str] = field(default_factory=list)   # GBFS systems: folder, gbfs.json path or URL
    parking_history: Path | None = None
    parking_history_preset: str | None = None
    parking_history_columns: dict = field(default_factory=dict)  # occupancy_from_csv keywords
    street_parking: list[Path] = field(default_factory=list)      # kerb-segment CSV or NGSI JSON
    street_parking_columns: dict = field(default_factory=dict)    # role -> column of the CSV
    zone_sensors: Path | None = None                               # bay sensor records
    zone_sensors_preset: str = "melbourne_events"
    zone_sensors_columns: dict = field(default_factory=dict)
    zone_payments: Path | None = None                              # meter payment records
    zone_payments_preset: str = "transactions"
    zone_payments_columns: dict = field(default_factory=dict)
    payment_compliance: float = 0.75                               # loaders.parking.kerbside
    timestamp_format: str | None = None                            # of the kerbside records
    holidays_country: str | None = None
    footpath_radius_m: float = 400.0
    walk_speed_mps: float = 1.3
    bike_speed_mps: float = 4.5
    walk_detour_factor: float = 1.3
    timezone: str | None = None     # when no GTFS feed gives one
    progress: bool = True
    # Store the street graph's contraction hierarchy (engine.street.ch) in the bundle; the
    # planner's street queries and matrices then use it. Off by default: ~1.7 s and ~40 MB for a
    # 40k-node city, minutes for a 250k-node grid. The samples build it (~0.1 s, +9 MB on Monaco).
    street_hierarchy: bool = False


class _Steps:
    """Times each build step and, when asked, shows a progress bar over the steps (tqdm) when
    stderr is a terminal."""

    LABELS = {"gtfs": "reading GTFS", "osm": "reading OSM", "bike_lanes": "matching bike lanes",
              "parking": "parking and occupancy", "footpaths": "walking transfers"}

    def __init__(self, options: BuildOptions):
        self.timings: dict = {}
        total = (bool(options.gtfs) * 2 + (options.osm is not None)
                 + bool(options.bike_lanes and options.osm is not None) + 1)
        self.bar = None
        if options.progress:  # drawn only when stderr is a terminal (loaders.progress)
            from loaders.progress import progress_bar

            self.bar = progress_bar(total=total, desc="trajet build", unit="step", leave=False,
                                    bar_format="{desc}: {n}/{total} steps [{elapsed}] {postfix}")

    @contextlib.contextmanager
    def step(self, name: str):
        if self.bar is not None:
            self.bar.set_postfix_str(self.LABELS.get(name, name))
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - t0, 3)
            if self.bar is not None:
                self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def link_stops_to_streets(street: StreetGraph, timetable: Timetable, report: BuildReport,
                          max_link_m: float = MAX_STOP_LINK_M) -> tuple[np.ndarray, np.ndarray]:
    """Nearest walk-component node of every stop: (node_idx or NO_INDEX, distance in metres)."""
    in_walk = np.flatnonzero(street.node_in_component[Mode.WALK])
    n_stops = timetable.n_stops
    if in_walk.size == 0:
        report.warn("stops_not_linked", "the street graph has no walkable component: stops are "
                    "reached by straight-line walking only")
        return np.full(n_stops, NO_INDEX, dtype=np.int32), np.full(n_stops, np.inf)
    tree = cKDTree(np.column_stack([street.node_x_m[in_walk], street.node_y_m[in_walk]]))
    x, y = street.projection.to_xy_m(timetable.stop_lon, timetable.stop_lat)
    dist, pos = tree.query(np.column_stack([x, y]))
    node = in_walk[pos].astype(np.int32)
    far = dist > max_link_m
    if far.any():
        first = int(np.flatnonzero(far)[0])
        report.warn("stop_too_far_from_street",
                    f"{int(far.sum())} stops lie more than {max_link_m:.0f} m from any walkable "
                    f"street (e.g. {quoted(timetable.stop_ids[first])}, {dist[first]:.0f} m): they are "
                    "reached by straight-line walking only", count=int(far.sum()))
        node[far] = NO_INDEX
    return node, np.where(far, np.inf, dist)


def _holiday_days(country: str | None, years: range, report: BuildReport) -> np.ndarray:
    if not country:
        return np.zeros(0, dtype=np.int64)
    try:
        from loaders.calendar_days import public_holidays
    except ImportError:
        report.warn("holidays_unavailable", "public holidays are not known to this build: "
                    "holidays are treated as ordinary days")
        return np.zeros(0, dtype=np.int64)
    return public_holidays(country, years)


def _load_parking(options: BuildOptions, street: StreetGraph | None, osm_facilities,
                  timezone: str, report: BuildReport) -> tuple[Parking, dict]:
    """(the parking with its fitted profiles, the bike-share systems' metadata)."""
    from loaders import parking as parking_loader
    from loaders.bikeshare import bike_share_facilities
    from loaders.parking.street_names import named_by_street
    from loaders.parking.zones import street_zones_from_file, with_street_zones

    frames = []
    if osm_facilities is not None and len(osm_facilities):
        frames.append(osm_facilities)
    for path in options.parking_facilities:
        frames.append(parking_loader.facilities_from_file(path, report))
    stations, bike_share = bike_share_facilities(options.gbfs, report)
    if stations is not None:
        frames.append(stations)
    for path in options.street_parking:
        frames.append(street_zones_from_file(path, report, columns=options.street_parking_columns))
    if not frames and options.parking_history is None:
        return Parking.empty(), bike_share
    import pandas as pd

    facilities = (pd.concat(frames, ignore_index=True) if frames
                  else parking_loader.empty_facilities())
    histories = []
    if options.parking_history is not None:
        histories.append(parking_loader.occupancy_from_csv(
            options.parking_history, report, preset=options.parking_history_preset,
            timezone=timezone, **options.parking_history_columns))
    histories += _kerbside_histories(options, facilities, timezone, report)
    history = pd.concat(histories, ignore_index=True) if histories else None
    parking = parking_loader.parking_from_records(facilities, history, street=street,
                                                  report=report)
    parking = named_by_street(with_street_zones(parking, facilities), street)
    if parking.history is not None and parking.history.n_observations:
        from engine.parking import fit_occupancy_profile

        t = np.asarray(parking.history.time_utc_s)
        first_year = dt.datetime.fromtimestamp(int(t.min()), dt.UTC).year
        last_year = dt.datetime.fromtimestamp(int(t.max()), dt.UTC).year
        holidays = _holiday_days(options.holidays_country, range(first_year - 1, last_year + 2),
                                 report)
        profile = fit_occupancy_profile(parking.history, parking.capacity, timezone,
                                        holiday_days=holidays)
        parking = dataclasses.replace(parking, profile=profile)
        if stations is not None:
            from engine.parking.bikes import fit_bikes_profile

            parking = dataclasses.replace(parking, bikes_profile=fit_bikes_profile(
                parking, timezone, holiday_days=holidays))
    return parking, bike_share


def _kerbside_histories(options: BuildOptions, facilities, timezone: str, report: BuildReport
                        ) -> list:
    """Zone occupancy histories of the bay-sensor and meter-payment files, if given."""
    from loaders.parking.kerbside import zone_occupancy_from_payments, zone_occupancy_from_sensors

    zones = facilities[facilities["kind"] == "on_street"]
    spaces = dict(zip(zones["facility_id"].astype(str), zones["capacity"], strict=True))
    out = []
    if options.zone_sensors is not None:
        out.append(zone_occupancy_from_sensors(
            options.zone_sensors, report, timezone=timezone, preset=options.zone_sensors_preset,
            columns=options.zone_sensors_columns, spaces=spaces,
            timestamp_format=options.timestamp_format))
    if options.zone_payments is not None:
        out.append(zone_occupancy_from_payments(
            options.zone_payments, report, timezone=timezone, preset=options.zone_payments_preset,
            columns=options.zone_payments_columns, compliance=options.payment_compliance,
            spaces=spaces, timestamp_format=options.timestamp_format))
    return out


def build_network(options: BuildOptions, report: BuildReport) -> tuple[Network, dict]:
    """Read, check and link every input of ``options`` into a Network.

    Returns the network and the step timings (seconds). Raises LoaderError for fatal input
    problems (the report holds the warnings gathered until then).
    """
    if not options.gtfs and options.osm is None:
        raise LoaderError.of("no_input", "nothing to build: give at least one --gtfs feed or --osm")
    steps = _Steps(options)
    try:
        timetable = _read_timetable(options, steps, report)
        timezone = timetable.timezone if timetable is not None else options.timezone
        if not timezone:
            raise LoaderError.of("missing_timezone", "no GTFS feed gives a timezone: pass --timezone "
                                 "(an IANA name such as Europe/Paris)")
        street, osm_facilities = _read_streets(options, steps, report)
        stop_node, stop_offset = _stop_links(street, timetable, report)
        with steps.step("parking"):
            parking, bike_share = _load_parking(options, street, osm_facilities, timezone, report)
        network = Network(timezone=timezone, projection=_projection(street, timetable),
                          bbox=_bbox(street, timetable), street=street, timetable=timetable,
                          parking=parking, stop_walk_node_idx=stop_node,
                          stop_walk_offset_m=stop_offset,
                          walk_detour_factor=options.walk_detour_factor,
                          metadata={"bike_share": bike_share} if bike_share else {})
        if timetable is not None:
            network = _add_walking_transfers(network, options, steps)
    finally:
        steps.close()
    return network, steps.timings


def _read_timetable(options: BuildOptions, steps: _Steps, report: BuildReport) -> Timetable | None:
    """The GTFS feeds' timetable, or None without feeds."""
    if not options.gtfs:
        return None
    from loaders.gtfs import timetable_from_gtfs

    with steps.step("gtfs"):
        return timetable_from_gtfs(options.gtfs, report)


def _read_streets(options: BuildOptions, steps: _Steps, report: BuildReport
                  ) -> tuple[StreetGraph | None, pd.DataFrame | None]:
    """(street graph with its bike lanes marked, OSM car parks); (None, None) without --osm."""
    if options.osm is None:
        if options.bike_lanes:
            report.warn("bike_lanes_without_streets", "bike lanes were given without --osm: there is "
                        "no street graph to mark them on, so they are ignored",
                        count=len(options.bike_lanes))
        return None, None
    from loaders.osm import street_graph_from_osm

    with steps.step("osm"):
        extract = street_graph_from_osm(options.osm, report,
                                        walk_speed_mps=options.walk_speed_mps,
                                        bike_speed_mps=options.bike_speed_mps)
    street, osm_facilities = extract.street, extract.facilities
    if extract.street_zones:
        import pandas as pd

        from loaders.parking.schema import facilities_frame

        osm_facilities = pd.concat([osm_facilities, facilities_frame(list(extract.street_zones))],
                                   ignore_index=True)
    if options.bike_lanes:
        from loaders.bike_lanes import mark_bike_lanes

        with steps.step("bike_lanes"):
            street, _ = mark_bike_lanes(street, options.bike_lanes, report,
                                        status_property=options.bike_lane_status_property,
                                        statuses=options.bike_lane_statuses)
    return street, osm_facilities


def _projection(street: StreetGraph | None, timetable: Timetable | None) -> LocalProjection:
    """The street graph's projection, else one around the stops, else around (0, 0)."""
    if street is not None:
        return street.projection
    if timetable is not None and timetable.n_stops:
        return LocalProjection.around(timetable.stop_lon, timetable.stop_lat)
    return LocalProjection(0.0, 0.0)


def _stop_links(street: StreetGraph | None, timetable: Timetable | None, report: BuildReport
                ) -> tuple[np.ndarray, np.ndarray]:
    """(walk node, distance in metres) of every stop; all unlinked (NO_INDEX, inf) without streets."""
    if timetable is None:
        return np.zeros(0, dtype=np.int32), np.zeros(0)
    if street is not None:
        return link_stops_to_streets(street, timetable, report)
    return (np.full(timetable.n_stops, NO_INDEX, dtype=np.int32),
            np.full(timetable.n_stops, np.inf))


def _bbox(street: StreetGraph | None, timetable: Timetable | None
          ) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of the street nodes and located stops (degrees)."""
    lons, lats = [], []
    if street is not None and street.n_nodes:
        lons.append(street.node_lon)
        lats.append(street.node_lat)
    if timetable is not None:
        located = timetable.stop_lon != 0
        lons.append(timetable.stop_lon[located])
        lats.append(timetable.stop_lat[located])
    lon = np.concatenate(lons) if lons else np.zeros(1)
    lat = np.concatenate(lats) if lats else np.zeros(1)
    return (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))


def _add_walking_transfers(network: Network, options: BuildOptions, steps: _Steps) -> Network:
    """The network with walking footpaths between nearby stops added to the feed's transfers."""
    from engine.transit.footpaths import compute_footpaths

    with steps.step("footpaths"):
        f, t, s = compute_footpaths(network, radius_m=options.footpath_radius_m,
                                    walk_speed_mps=options.walk_speed_mps)
        return dataclasses.replace(network, timetable=merge_footpaths(network.timetable, f, t, s))


def network_counts(network: Network) -> dict:
    """The figures ``trajet info`` prints; integers, JSON-able."""
    counts: dict = {}
    tt = network.timetable
    if tt is not None:
        period = tt.service_period_days()
        counts.update(
            stops=tt.n_stops,
            stations=int((tt.stop_location_type == 1).sum()),
            boarding_stops=int((tt.stop_location_type == 0).sum()),
            routes=int(tt.line_ids.shape[0]),
            patterns=tt.n_routes,
            trips=tt.n_trips,
            stop_times=tt.n_stop_times,
            footpaths=int(tt.transfer_to_stop.shape[0]),
            services=int(tt.service_ids.shape[0]),
            service_start=(dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + period[0])
                           .isoformat() if period else None),
            service_end=(dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + period[1])
                         .isoformat() if period else None),
            feeds=list(tt.feed_ids),
        )
    sg = network.street
    if sg is not None:
        counts.update(
            street_nodes=sg.n_nodes,
            street_edges=sg.n_edges,
            edges_walk=sg.n_edges_allowed(Mode.WALK),
            edges_bike=sg.n_edges_allowed(Mode.BICYCLE),
            edges_car=sg.n_edges_allowed(Mode.CAR),
            nodes_walk_component=int(sg.node_in_component[Mode.WALK].sum()),
            nodes_bike_component=int(sg.node_in_component[Mode.BICYCLE].sum()),
            nodes_car_component=int(sg.node_in_component[Mode.CAR].sum()),
            bike_lane_edges=int(np.asarray(sg.edge_is_bike_lane).sum()),
        )
    pk = network.parking
    kinds = np.asarray(pk.kind)
    n_zones = pk.zones.n_zones if pk.zones is not None else 0
    counts.update(
        parking_facilities=pk.n_facilities,
        car_parks=int(np.isin(kinds, (0, 1, 2)).sum()) - n_zones,  # street zones counted apart
        bike_parkings=int(np.isin(kinds, (3, 4)).sum()),
        bike_share_stations=int((kinds == 4).sum()),
        occupancy_observations=pk.history.n_observations if pk.history is not None else 0,
        street_zones=n_zones,
        street_zone_spaces=(int(np.asarray(pk.capacity)[np.asarray(pk.zones.facility_idx)].sum())
                            if pk.zones is not None else 0),
    )
    counts.update(timezone=network.timezone, bbox=list(network.bbox))
    return counts


def _inputs_with_sha256(options: BuildOptions) -> dict:
    def entry(p: Path) -> dict:
        p = Path(p)
        if p.is_dir():
            files = sorted(q for q in p.rglob("*") if q.is_file())
            import hashlib

            digest = hashlib.sha256()
            for q in files:
                digest.update(q.relative_to(p).as_posix().encode())
                digest.update(sha256_file(q).encode())
            return {"path": str(p), "sha256": digest.hexdigest(), "kind": "folder"}
        return {"path": str(p), "sha256": sha256_file(p)}

    inputs = {"gtfs": [entry(p) for p in options.gtfs],
              "osm": [entry(options.osm)] if options.osm else [],
              "bike_lanes": [entry(p) for p in options.bike_lanes],
              "parking_facilities": [entry(p) for p in options.parking_facilities],
              "parking_history": [entry(options.parking_history)] if options.parking_history else [],
              "gbfs": [entry(Path(p)) if Path(p).exists() else {"url": str(p)} for p in options.gbfs],
              "street_parking": [entry(p) for p in options.street_parking],
              "zone_sensors": [entry(options.zone_sensors)] if options.zone_sensors else [],
              "zone_payments": [entry(options.zone_payments)] if options.zone_payments else []}
    return {k: v for k, v in inputs.items() if v}


def build_bundle(options: BuildOptions, out_dir: str | Path, report: BuildReport | None = None
                 ) -> tuple[Network, dict]:
    """Build the network of ``options`` and save it as a bundle at ``out_dir``.

    Returns (network, manifest counts). Input files that do not exist raise LoaderError with code
    ``missing_input``.
    """
    report = report if report is not None else BuildReport()
    for role, paths in (("--gtfs", options.gtfs), ("--osm", [options.osm] if options.osm else []),
                        ("--bike-lanes", options.bike_lanes),
                        ("--parking-facilities", options.parking_facilities),
                        ("--parking-history",
                         [options.parking_history] if options.parking_history else []),
                        ("--street-parking", options.street_parking),
                        ("--zone-sensors", [options.zone_sensors] if options.zone_sensors else []),
                        ("--zone-payments",
                         [options.zone_payments] if options.zone_payments else [])):
        for p in paths:
            if not Path(p).exists():
                raise LoaderError.of("missing_input", f"{role} {p}: no such file or folder",
                                     file=str(p))
    t0 = time.perf_counter()
    network, timings = build_network(options, report)
    if options.street_hierarchy and network.street is not None and network.street.n_nodes:
        from engine import street  # the contraction hierarchy is stored in the bundle

        timings["street_hierarchy"] = {k: round(v, 3)
                                       for k, v in street.prepare_hierarchy(network.street).items()}
    counts = network_counts(network)
    counts["warning_count"] = sum(report.counts.values())
    timings["total"] = round(time.perf_counter() - t0, 3)
    network = dataclasses.replace(network, metadata={**network.metadata, "timings_s": timings})
    save_bundle(network, out_dir, inputs=_inputs_with_sha256(options), report=report.to_json(),
                counts=counts)
    return network, counts


def sample_options(name: str, *, progress: bool = False) -> BuildOptions:
    """The build options of sample city ``name`` (``data_samples/manifest.json``), with its files
    resolved (a shared file missing from ``../shared/data`` is fetched once). Raises
    ``loaders.samples.SampleError`` for an unknown sample or a file that cannot be had."""
    from loaders.samples import resolve_sample

    recipe = resolve_sample(name)
    return BuildOptions(gtfs=recipe.gtfs, osm=recipe.osm, bike_lanes=recipe.bike_lanes,
                        parking_facilities=recipe.parking_facilities,
                        parking_history=recipe.parking_history,
                        parking_history_preset=recipe.parking_history_preset,
                        holidays_country=recipe.holidays_country, progress=progress,
                        street_hierarchy=True)


def build_sample(name: str, out_dir: str | Path, report: BuildReport | None = None
                 ) -> tuple[Network, dict]:
    """Build sample city ``name`` into the bundle ``out_dir``, as ``trajet build --sample NAME``
    does; returns (network, manifest counts)."""
    return build_bundle(sample_options(name), out_dir, report)
