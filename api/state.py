"""What one app serves: the network loaded from its bundle, derived lookups, live observations.

:class:`AppState` hangs on ``app.extensions["trajet"]`` (never a module global, so each test
builds its own app). Loading runs in a background thread when ``load_in_background`` is set:
``/healthz`` answers at once, ``/readyz`` and every endpoint that needs the network answer 503
``NOT_READY`` until it is done (or ``BUNDLE_ERROR`` naming the problem if it failed).
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from flask import current_app
from scipy.spatial import cKDTree

from api.config import ApiConfig
from api.errors import ApiError
from api.feeds import start_feeds
from api.geojson import street_geojson
from api.observations import LiveFeed, ObservationStore
from api.realtime import RealtimeStore, start_pollers
from api.recommendations import RecommendationLog, RecommendationStore
from engine.deadline import Deadline, DeadlineExceeded
from engine.model import Network
from engine.parking.pending import PendingArrivals
from engine.planning import planner
from loaders.bundle import BundleError, load_bundle, read_manifest

log = logging.getLogger("trajet.api")

BUDGET_GRACE_S = 0.25
"""How long past its deadline a computation is waited for before the request is answered
anyway: the engine's searches stop within about a millisecond of the deadline, but a step that
does not look at it (building a polygon, serialising) could run on."""


@dataclass(frozen=True)
class StopIndex:
    """Stops a traveller can use (location_type 0 and stations), with a KD-tree in metres."""

    stop_idx: np.ndarray      # rows -> stop_idx
    tree: cKDTree | None      # over (x_m, y_m) of those rows in the network projection
    lines: list[list[int]]    # stop_idx -> line_idx serving it (sorted, unique)


@dataclass(frozen=True)
class Loaded:
    """The network and everything derived from it once, at load time."""

    network: Network
    manifest: dict
    data_version: str
    stops: StopIndex
    network_geojson: bytes        # /api/v1/network body (JSON)
    network_geojson_gzip: bytes   # the same, gzip-compressed
    network_etag: str
    live: LiveFeed
    store: ObservationStore | None
    loaded_in_s: float
    realtime: RealtimeStore | None = None   # GTFS-Realtime feeds of --realtime (api.realtime)
    recommendations: RecommendationLog | None = None   # drivers sent (api.recommendations)


def _stop_index(network: Network) -> StopIndex:
    tt = network.timetable
    if tt is None or tt.n_stops == 0:
        return StopIndex(np.zeros(0, dtype=np.int64), None, [])
    keep = np.flatnonzero(np.isin(np.asarray(tt.stop_location_type), (0, 1))
                          & ~((np.asarray(tt.stop_lon) == 0) & (np.asarray(tt.stop_lat) == 0)))
    x, y = network.projection.to_xy_m(np.asarray(tt.stop_lon)[keep], np.asarray(tt.stop_lat)[keep])
    tree = cKDTree(np.column_stack([x, y])) if keep.size else None
    # lines serving each stop: stop -> routes (patterns) -> line; stations inherit their children's
    lines: list[set] = [set() for _ in range(tt.n_stops)]
    offsets = np.asarray(tt.stop_route_offsets)
    route_line = np.asarray(tt.route_line_idx)
    counts = np.diff(offsets)
    stop_of_entry = np.repeat(np.arange(tt.n_stops), counts)
    line_of_entry = route_line[np.asarray(tt.stop_route_idx)]
    parent = np.asarray(tt.stop_parent_idx)
    for s, ln in zip(stop_of_entry.tolist(), line_of_entry.tolist(), strict=True):
        lines[s].add(ln)
        if parent[s] >= 0:
            lines[int(parent[s])].add(ln)
    return StopIndex(keep, tree, [sorted(s) for s in lines])


def _data_version(bundle_dir: Path) -> str:
    digest = hashlib.sha256((bundle_dir / "manifest.json").read_bytes()).hexdigest()
    return digest[:16]


class AppState:
    """The network of one app, its derived lookups, and the compute pool of plans/isochrones."""

    def __init__(self, config: ApiConfig):
        self.config = config
        self.status = "loading"             # loading | ready | failed
        self.error: str | None = None
        self.loaded: Loaded | None = None
        self.started_at = time.time()
        self.clock = time.time              # seconds since the epoch; tests may replace it
        self._ready = threading.Event()
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=config.compute_threads, thread_name_prefix="trajet-compute")
        self._thread: threading.Thread | None = None
        self.pollers: list = []

    # -- loading ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.config.realtime_poll_in_app:
            self.pollers = start_pollers(self.config)
        if self.config.load_in_background:
            self._thread = threading.Thread(target=self._load, name="trajet-load", daemon=True)
            self._thread.start()
        else:
            self._load()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until loading ended (ready or failed); True if it ended in time."""
        return self._ready.wait(timeout_s)

    def _load(self) -> None:
        t0 = time.perf_counter()
        try:
            self.loaded = self._load_all()
            self.status = "ready"
            if self.config.feeds_poll_in_app and self.config.feeds:
                network = self.loaded.network
                self.pollers.append(start_feeds(self.config, network.parking, network.timezone))
            log.info("trajet: bundle %s loaded in %.2f s", self.config.bundle_dir,
                     time.perf_counter() - t0)
        except BundleError as exc:
            self.error, self.status = str(exc), "failed"
            log.error("trajet: cannot load the bundle: %s", exc)
        except Exception as exc:  # a bug or an unreadable observations DB: report, do not die
            self.error = f"{type(exc).__name__}: {exc}"
            self.status = "failed"
            log.exception("trajet: loading failed")
        finally:
            self._ready.set()

    def _load_all(self) -> Loaded:
        t0 = time.perf_counter()
        if self.config.bundle_dir is None:
            raise BundleError("no bundle configured: set TRAJET_BUNDLE_DIR or pass bundle_dir "
                              "(trajet serve DIR)")
        bundle_dir = Path(self.config.bundle_dir)
        manifest = read_manifest(bundle_dir)
        network = load_bundle(bundle_dir, verify=self.config.verify_bundle)
        data_version = _data_version(bundle_dir)
        body, body_gz = street_geojson(network, decimals=self.config.network_decimals,
                                       simplify_m=self.config.network_simplify_m)
        etag = hashlib.sha256(body).hexdigest()[:24]
        store = None
        db_path = self.config.observations_path
        if db_path is not None:
            try:
                store = ObservationStore(db_path)
            except Exception as exc:
                raise BundleError(f"cannot open the observations database {db_path}: {exc}") from None
        live = LiveFeed(network.parking.facility_ids, store, network.parking)
        if network.parking.n_facilities:
            # compile (or load from numba's cache) the forecaster now, not on the first request
            try:
                live.forecast(int(self.clock()), int(self.clock()))
            except Exception:
                log.exception("trajet: the parking forecast fails on this bundle")
        try:
            # compile (or load from numba's cache) every kernel a plan uses: a fresh install's
            # first request would otherwise wait for the compiler beyond the time budget
            planner.warm_up(network)
        except Exception:
            log.exception("trajet: planning fails on this bundle")
        if live.skipped_unknown:
            log.warning("trajet: %d stored observations name facilities this bundle does not have",
                        live.skipped_unknown)
        realtime = RealtimeStore(self.config, network) if self.config.realtime_feeds else None
        recommendations = self._recommendations(network, db_path)
        return Loaded(network=network, manifest=manifest, data_version=data_version,
                      stops=_stop_index(network), network_geojson=body,
                      network_geojson_gzip=body_gz, network_etag=etag, live=live, store=store,
                      loaded_in_s=round(time.perf_counter() - t0, 3), realtime=realtime,
                      recommendations=recommendations)

    def _recommendations(self, network: Network, db_path: Path | None) -> RecommendationLog | None:
        """The log of drivers sent (None when ``recommendations`` is off), in the observations'
        SQLite file when there is one. Raises BundleError naming a file that cannot be opened."""
        c = self.config
        if not c.recommendations:
            return None
        store = None
        if db_path is not None:
            try:
                store = RecommendationStore(db_path)
            except Exception as exc:
                raise BundleError(f"cannot open the recommendations table in {db_path}: {exc}") from None
        template = PendingArrivals(compliance_share=c.compliance_share, mean_stay_s=c.mean_stay_s,
                                   spread_within_s=c.spread_within_s)
        return RecommendationLog(network.parking.facility_ids, store, template,
                                 horizon_s=c.recommend_horizon_s)

    # -- use -------------------------------------------------------------------------------
    def require(self) -> Loaded:
        """The loaded network, or ApiError 503 (NOT_READY / BUNDLE_ERROR)."""
        if self.loaded is not None:
            return self.loaded
        if self.status == "failed":
            raise ApiError("BUNDLE_ERROR", f"the network could not be loaded: {self.error}",
                           status=503)
        raise ApiError("NOT_READY", "the network is still loading; retry shortly", status=503,
                       headers={"Retry-After": "2"})

    def run(self, fn, *args):
        """``fn(*args, deadline)`` on the compute pool within the request time budget.

        The budget (``request_time_budget_s``) counts from this call, so time spent waiting for
        a compute thread counts too. ``deadline`` (:class:`engine.deadline.Deadline`) is for the
        engine: its searches stop when it passes and raise DeadlineExceeded, answered here as
        ApiError 503 TIME_BUDGET_EXCEEDED naming the limit and what was running. A computation
        that does not stop is waited for :data:`BUDGET_GRACE_S` more, then answered the same way
        (its result is dropped). An engine error carrying a reason code that escapes is
        answered 422 by the app's error handlers (api/errors.py), like any view's.
        """
        budget_s = self.config.request_time_budget_s
        deadline = Deadline(budget_s)
        future = self.pool.submit(fn, *args, deadline)
        try:
            return future.result(timeout=budget_s + BUDGET_GRACE_S)
        except DeadlineExceeded as exc:
            raise _over_budget(budget_s, exc.what) from None
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise _over_budget(budget_s, "the computation") from None

    def close(self) -> None:
        for poller in self.pollers:
            poller.stop(timeout_s=0.1)
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.loaded is not None and self.loaded.store is not None:
            self.loaded.store.close()
        if self.loaded is not None and self.loaded.recommendations is not None:
            self.loaded.recommendations.close()


def _over_budget(budget_s: float, what: str) -> ApiError:
    return ApiError("TIME_BUDGET_EXCEEDED", f"{what} stopped: it needed more than the "
                    f"{budget_s:g} s time budget of a request; narrow the request (fewer modes, "
                    "fewer minutes, a shorter window, less walking)", status=503,
                    headers={"Retry-After": "1"})


def app_state() -> AppState:
    """The AppState of the current app."""
    return current_app.extensions["trajet"]
