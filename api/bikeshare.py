"""Bike share in the API worker: the live state the planner is given, and ``/api/v1/bikeshare``.

:class:`BikeShareFeed` keeps, per app:

* the bikes' live state (``engine.parking.bikes``: bikes as the free spaces of a mirrored
  station), fed from the same SQLite observation store as the car parks (rows of bike-share
  stations: free_spaces = docks, capacity = bikes + docks), synced before each read like
  :class:`api.observations.LiveFeed` (the docks' live state *is* that LiveFeed's);
* the latest GBFS snapshot of each system, read with :func:`loaders.gbfs.read_gbfs` from the
  poller's folders ``<state_dir>/gbfs/<system_id>/`` (``state_dir`` = ``realtime_state_path``)
  and read again when a folder (or a file in it) changes: live ``is_renting``/``is_returning``, the counts
  now, free-floating bikes. A snapshot that cannot be read leaves the previous one in place.

``GET /api/v1/bikeshare/stations?at=ISO`` lists the stations as GeoJSON: capacity, bikes and
docks now (the snapshot), the flags, and at ``at`` p(bike), p(dock), expected bikes and docks and
what they rest on; free-floating bikes follow as features of kind ``FREE_BIKE``.
"""
from __future__ import annotations

import copy
import logging
import threading
from pathlib import Path

import marshmallow as ma
import numpy as np
from flask_smorest import Blueprint

from api import schemas
from api.feeds import gbfs_snapshot_dirs
from api.observations import ObservationStore, usable
from api.state import Loaded, app_state
from api.timeutil import iso, localize, to_utc_s
from engine.cache import PerObject
from engine.model import Network
from engine.parking.bikes import (
    BikeShareLive,
    bike_share_idx,
    bikes_live_from_history,
    bikes_view,
    free_bike_p,
    mirror_readings,
    station_outlook,
)
from loaders.bikeshare import Snapshot, snapshot_state
from loaders.gbfs import GbfsFeedError, read_gbfs

log = logging.getLogger("trajet.api")


class BikeShareFeed:
    """The live bike-share state of one network (module docstring). Thread-safe."""

    def __init__(self, network: Network, store: ObservationStore | None, state_dir: Path | None):
        self.network = network
        self._store, self._state_dir = store, state_dir
        pk = network.parking
        self._index = {str(f): i for i, f in enumerate(np.asarray(pk.facility_ids).tolist())}
        self.bikes = bikes_live_from_history(pk)
        self._lock = threading.Lock()
        self._last_id = 0
        self._seen: dict[str, tuple] = {}          # folder -> (resolved path, mtime)
        self._feeds: dict[str, object] = {}        # folder -> GbfsFeed
        self.snapshot: Snapshot = snapshot_state(pk, [])
        self.sync()

    @property
    def active(self) -> bool:
        return bike_share_idx(self.network.parking).size > 0 or bool(self._feeds)

    def sync(self) -> None:
        """New store rows into the bikes' state; changed snapshot folders read again."""
        with self._lock:
            self._sync_store()
            self._sync_snapshots()

    def _sync_store(self) -> None:
        if self._store is None:
            return
        rows = [(i, o) for i, o in self._store.since(self._last_id)]
        if not rows:
            return
        self._last_id = max(i for i, _ in rows)
        kept = [(self._index[o.facility_id], o) for _, o in rows
                if o.facility_id in self._index and usable(o)]
        if not kept:
            return
        f = np.array([k for k, _ in kept])
        t = np.array([o.time_utc_s for _, o in kept], dtype=np.int64)
        free = np.array([o.free_spaces for _, o in kept], dtype=np.float64)
        cap = np.array([-1 if o.capacity is None else o.capacity for _, o in kept])
        keep, bikes, capacity = mirror_readings(self.network.parking, f, free, cap)
        if keep.any():
            self.bikes.update(f[keep], t[keep], bikes[keep], capacity[keep].astype(np.int32),
                              bikes[keep] == 0, parking=bikes_view(self.network.parking))

    def _sync_snapshots(self) -> None:
        changed = False
        for folder in gbfs_snapshot_dirs(self._state_dir):
            try:   # a new folder (the poller's atomic swap) or a file rewritten in place
                st = folder.stat()
                key = (str(folder.resolve()), st.st_ino, st.st_mtime_ns,
                       max((p.stat().st_mtime_ns for p in folder.iterdir()), default=0))
            except OSError:
                continue
            if self._seen.get(str(folder)) == key:
                continue
            try:
                self._feeds[str(folder)] = read_gbfs(folder)
            except GbfsFeedError as exc:
                log.warning("trajet: GBFS snapshot %s cannot be read (%s): the previous one stays",
                            folder, exc)
            self._seen[str(folder)] = key
            changed = True
        if changed:
            self.snapshot = snapshot_state(self.network.parking, list(self._feeds.values()))

    def live(self) -> BikeShareLive:
        """A private copy of the state for one plan (other requests may sync meanwhile)."""
        self.sync()
        with self._lock:
            return BikeShareLive(bikes=copy.deepcopy(self.bikes), flags=copy.deepcopy(self.snapshot.flags),
                                 free_bikes=self.snapshot.free_bikes)


def _num(value: float, digits: int):
    return None if not np.isfinite(value) else round(float(value), digits)


_BASIS = ("unknown", "profile", "live")


def _point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]}


def _station_feature(pk, i: int, row: int, so, snap: Snapshot, live: BikeShareLive) -> dict:
    cap = int(pk.capacity[i])
    return {"type": "Feature", "id": str(pk.facility_ids[i]), "geometry": _point(pk.lon[i], pk.lat[i]),
            "properties": {
                "id": str(pk.facility_ids[i]), "name": str(pk.facility_name[i]), "kind": "BIKE_SHARE",
                "capacity": cap if cap > 0 else None,
                "bikes_now": int(snap.bikes_now[i]) if snap.bikes_now[i] >= 0 else None,
                "docks_now": int(snap.docks_now[i]) if snap.docks_now[i] >= 0 else None,
                "renting": bool(live.flags.renting[i]), "returning": bool(live.flags.returning[i]),
                "p_bike": _num(so.p_bike[row], 3), "p_dock": _num(so.p_dock[row], 3),
                "expected_bikes": _num(so.expected_bikes[row], 1),
                "expected_docks": _num(so.expected_docks[row], 1),
                "bikes_basis": "decaying_reading" if so.decayed[row] else _BASIS[so.bikes_basis[row]],
                "docks_basis": "decaying_reading" if so.docks_decayed[row] else _BASIS[so.docks_basis[row]]}}


def _free_bike_features(live: BikeShareLive, at_utc_s: int, tz: str) -> list[dict]:
    fb = live.free_bikes
    p = free_bike_p(fb.seen_utc_s, at_utc_s)
    return [{"type": "Feature", "id": f"bike:{fb.vehicle_id[k]}", "geometry": _point(fb.lon[k], fb.lat[k]),
             "properties": {"id": str(fb.vehicle_id[k]), "name": str(fb.type_name[k]), "kind": "FREE_BIKE",
                            "p_bike": round(float(p[k]), 3), "seen": iso(int(fb.seen_utc_s[k]), tz)}}
            for k in range(fb.n_bikes)]


def stations_geojson(loaded: Loaded, feed: BikeShareFeed, at_utc_s: int, now_utc_s: int) -> dict:
    """The stations and free bikes as a GeoJSON FeatureCollection (module docstring)."""
    net = loaded.network
    live = feed.live()
    f = bike_share_idx(net.parking)
    so = station_outlook(net.parking, f, at_utc_s, docks_live=loaded.live.snapshot(), bike_share=live,
                         now_utc_s=now_utc_s)
    features = [_station_feature(net.parking, i, row, so, feed.snapshot, live)
                for row, i in enumerate(f.tolist())]
    features += _free_bike_features(live, at_utc_s, net.timezone)
    return {"type": "FeatureCollection", "features": features, "at": iso(at_utc_s, net.timezone)}


def make_blueprint() -> Blueprint:
    blp = Blueprint("bikeshare", __name__, url_prefix="/api/v1",
                    description="Bike-share stations: bikes and docks now and forecast")

    @blp.get("/bikeshare/stations")
    @blp.arguments(schemas.ParkingArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
    @blp.response(200, schemas.BikeShareResponseSchema)
    def stations(at):
        """Bike-share stations as GeoJSON: bikes and docks now, p(bike), p(dock) and expected
        counts at ``at`` (default now), and free-floating bikes."""
        state = app_state()
        loaded = state.require()
        now_utc_s = int(state.clock())
        at_utc_s = now_utc_s if at is None else to_utc_s(localize(at, loaded.network.timezone))
        return stations_geojson(loaded, bike_share_feed(loaded), at_utc_s, now_utc_s)

    return blp


_FEEDS = PerObject(lambda loaded: BikeShareFeed(loaded.network, loaded.store,
                                                 app_state().config.realtime_state_path), size=4)


def bike_share_feed(loaded: Loaded) -> BikeShareFeed:
    """The app's BikeShareFeed, made on first use (one per loaded network)."""
    return _FEEDS(loaded)
