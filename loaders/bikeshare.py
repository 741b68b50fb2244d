"""Bike-share systems (GBFS) into the network at build time: stations as parking facilities.

``trajet build --gbfs SOURCE`` (a folder, a ``gbfs.json`` path or URL; repeatable) reads each
system with :func:`loaders.gbfs.read_gbfs` and gives:

* one facility row per station (:data:`loaders.parking.FACILITY_COLUMNS`), kind ``bike_share``,
  id ``gbfs:<system_id>/<station_id>`` (:func:`loaders.gbfs.station_facility_id`, the id the
  live poller stores readings under), its name, position and capacity (docks and bikes it holds;
  NaN when the feed does not say). They go through ``loaders.parking.parking_from_records`` with
  the car parks, which links each to the street graph: the nearest node of the bicycle component
  (``Parking.car_node_idx``: the vehicle's node) and of the walk component (``walk_node_idx``);
* at query time, :func:`snapshot_state` turns the latest snapshots (the poller's folders) into
  the stations' live flags, counts and the free-floating bikes;
* the systems' metadata for query time, stored in the bundle's ``network.metadata["bike_share"]``
  (JSON): per system its name, timezone, source, vehicle types (form factor, propulsion, whether
  the bike mode may ride it and at what speed: ``engine.parking.bikes.vehicle_speed_mps``) and
  pricing plans (kept raw).

A station's occupancy history comes, like a car park's, from ``--parking-history`` rows keyed by
its facility id (free = docks available, capacity = bikes + docks available); the bikes profile
is fitted from it (``engine.parking.bikes.fit_bikes_profile``). A source that cannot be read at
all raises LoaderError ``unreadable_gbfs`` naming it; entities the reader left out are warned.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.model import Parking
from engine.parking.bikes import PEDAL_BIKE_SPEED_MPS, FreeBikes, StationFlags, vehicle_speed_mps
from loaders.gbfs import GbfsFeed, GbfsFeedError, read_gbfs, station_facility_id
from loaders.parking.schema import facilities_frame
from loaders.report import BuildReport, LoaderError


def _system_id(feed: GbfsFeed, source: str) -> str:
    """The feed's ``system_id``, else the name of its folder (or of the URL's last segment)."""
    if feed.system is not None:
        return feed.system.system_id
    text = str(source).rstrip("/")
    if text.endswith("gbfs.json"):
        text = text[: -len("gbfs.json")].rstrip("/")
    return Path(text).name or "gbfs"


def _vehicle_types(feed: GbfsFeed) -> list[dict]:
    out = []
    for t in feed.vehicle_types:
        speed = vehicle_speed_mps(t.form_factor, t.propulsion_type)
        out.append({"vehicle_type_id": t.vehicle_type_id, "name": t.name or t.vehicle_type_id,
                    "form_factor": t.form_factor, "propulsion_type": t.propulsion_type,
                    "bike_mode": speed is not None, "speed_mps": speed})
    return out


def read_system(source: str | Path, report: BuildReport) -> tuple[pd.DataFrame, str, dict]:
    """(station facility rows, system id, metadata) of one GBFS source.

    Raises LoaderError ``unreadable_gbfs`` naming ``source`` when the feed cannot be read, and
    ``gbfs_without_stations`` when it lists no station (a free-floating-only system has nothing
    to build; its bikes are read live).
    """
    try:
        feed = read_gbfs(source)
    except GbfsFeedError as exc:
        raise LoaderError.of("unreadable_gbfs", f"--gbfs {source}: cannot read the GBFS feed ({exc})",
                             file=str(source)) from None
    system_id = _system_id(feed, str(source))
    for code, count in sorted(feed.report.rejected.items()):
        examples = ", ".join(feed.report.examples.get(code, []))
        report.warn(f"gbfs_{code}", f"--gbfs {source}: {count} entities left out: "
                    f"{feed.report.MEANINGS.get(code, code)} (e.g. {examples})", file=str(source),
                    count=count)
    if not feed.stations:
        raise LoaderError.of("gbfs_without_stations", f"--gbfs {source}: the feed lists no station "
                             "(station_information is missing or empty)", file=str(source))
    rows = [{"facility_id": station_facility_id(system_id, s.station_id), "name": s.name,
             "kind": "bike_share", "lon": s.lon, "lat": s.lat,
             "capacity": float("nan") if s.capacity is None else float(s.capacity),
             "source": f"gbfs:{system_id}"} for s in feed.stations]
    meta = {"name": feed.system.name if feed.system else system_id,
            "timezone": feed.system.timezone if feed.system else None, "source": str(source),
            "version": feed.version, "stations": len(feed.stations),
            "vehicle_types": _vehicle_types(feed), "pricing_plans": list(feed.pricing_plans)}
    return facilities_frame(rows), system_id, meta


def bike_share_facilities(sources: list, report: BuildReport) -> tuple[pd.DataFrame | None, dict]:
    """(station rows of every source, ``{"systems": {system_id: metadata}}``); (None, {}) without
    sources. Raises LoaderError ``duplicate_gbfs_system`` for two sources of one system."""
    frames, systems = [], {}
    for source in sources:
        frame, system_id, meta = read_system(source, report)
        if system_id in systems:
            raise LoaderError.of("duplicate_gbfs_system", f"--gbfs {source}: system {system_id!r} is "
                                 f"already given by {systems[system_id]['source']}", file=str(source))
        frames.append(frame)
        systems[system_id] = meta
    if not frames:
        return None, {}
    return pd.concat(frames, ignore_index=True), {"systems": systems}


# ---------------------------------------------------------------------------------------------
# Live: the latest snapshot of each system (the GBFS poller's folders, or any GBFS source)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """What the latest GBFS snapshots say, on the network's facilities.

    ``flags`` and ``free_bikes`` go to the planner (``engine.parking.bikes.BikeShareLive``);
    ``readings`` are the stations' counts under the shared encoding (facility_idx, time UTC s,
    free docks, capacity = bikes + docks): the poller stores the same in the observation store.
    """

    flags: StationFlags
    free_bikes: FreeBikes
    readings: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    bikes_now: np.ndarray           # facility_idx -> bikes available in the snapshot, -1 unknown
    docks_now: np.ndarray           # facility_idx -> docks available in the snapshot, -1 unknown


def _feed_time(feed: GbfsFeed, name: str) -> int:
    info = feed.files.get(name) or feed.files.get("gbfs")
    return int(info.last_updated_utc_s or 0) if info is not None else 0


def _stations_live(feed: GbfsFeed, system_id: str, index: dict, flags: StationFlags, now: dict,
                   readings: list) -> None:
    """Flags, counts now and readings of one feed's stations, written into the arguments."""
    status_time = _feed_time(feed, "station_status")
    for s in feed.station_status:
        i = index.get(station_facility_id(system_id, s.station_id))
        if i is None:
            continue
        flags.renting[i] = s.is_installed and s.is_renting
        flags.returning[i] = s.is_installed and s.is_returning
        now["bikes"][i] = s.num_bikes_available
        if s.num_docks_available is not None:
            now["docks"][i] = s.num_docks_available
            readings.append((i, s.last_reported_utc_s or status_time, s.num_docks_available,
                             s.num_bikes_available + s.num_docks_available))


def _free_bikes(feed: GbfsFeed, out: list) -> None:
    """One feed's free-floating bikes (not reserved, not disabled, not docked, bicycles only)."""
    types = {t.vehicle_type_id: t for t in feed.vehicle_types}
    name = "vehicle_status" if "vehicle_status" in feed.files else "free_bike_status"
    seen_default = _feed_time(feed, name)
    for v in feed.vehicles:
        t = types.get(v.vehicle_type_id)
        speed = vehicle_speed_mps(t.form_factor, t.propulsion_type) if t else PEDAL_BIKE_SPEED_MPS
        if v.lon is None or v.is_reserved or v.is_disabled or speed is None or v.station_id:
            continue
        out.append((v.vehicle_id, v.lon, v.lat, v.last_reported_utc_s or seen_default, speed,
                    (t.name or t.vehicle_type_id) if t else "bicycle"))


def snapshot_state(parking: Parking, feeds: list[GbfsFeed]) -> Snapshot:
    """Station flags, free-floating bikes and readings of ``feeds`` on ``parking``'s stations
    (a station the network does not have is ignored; so are scooters and other non-bikes)."""
    index = {str(f): i for i, f in enumerate(np.asarray(parking.facility_ids).tolist())}
    n = parking.n_facilities
    flags = StationFlags.all_open(n)
    now = {"bikes": np.full(n, -1, dtype=np.int64), "docks": np.full(n, -1, dtype=np.int64)}
    readings: list = []
    bikes: list = []
    for feed in feeds:
        _stations_live(feed, _system_id(feed, feed.source), index, flags, now, readings)
        _free_bikes(feed, bikes)
    cols = list(zip(*bikes, strict=True)) if bikes else [[]] * 6
    free = FreeBikes(np.asarray(cols[0], dtype=str), np.asarray(cols[1], dtype=np.float64),
                     np.asarray(cols[2], dtype=np.float64), np.asarray(cols[3], dtype=np.int64),
                     np.asarray(cols[4], dtype=np.float64), np.asarray(cols[5], dtype=str))
    r = list(zip(*readings, strict=True)) if readings else [[]] * 4
    arrays = (np.asarray(r[0], dtype=np.int64), np.asarray(r[1], dtype=np.int64),
              np.asarray(r[2], dtype=np.float64), np.asarray(r[3], dtype=np.int64))
    return Snapshot(flags, free, arrays, now["bikes"], now["docks"])
