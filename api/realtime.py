"""GTFS-Realtime on the server: the pollers (one process) and each worker's real-time state.

* **Pollers** (:func:`start_pollers`): one :class:`loaders.poller.Poller` per ``--realtime``
  URL, run by ``trajet serve`` in the gunicorn master (started before the workers fork) or, with
  ``realtime_poll_in_app``, in the app itself (one process: tests, other WSGI servers). Each
  body that parses as a FeedMessage is written atomically to ``feed-<i>.pb`` in the real-time
  state folder (beside the observations database); every poll writes ``feed-<i>.status.json``
  (last success, last error, consecutive errors). A body that is not a feed, an HTTP error, a
  timeout or a body over the size cap leaves the last good file in place.
* **Workers** (:class:`RealtimeStore`): on a request that needs it (a plan, /info, /vehicles),
  at most once a second, the store looks at the feed files' mtimes; when one changed (or a feed
  has just become stale) it rebuilds the state off to the side (read, check against the
  bundle's ids, overlay, alerts, vehicles: ``loaders.realtime_state``) and swaps it in with one
  assignment. A rebuild that fails keeps the last good state. A feed older than
  ``realtime_max_age_s`` (300 s by default; 0: never stale) is left out and reported stale.
  The delays of each new overlay feed the learnt delay model of transfer reliability.

Nothing in a feed reaches a request as an exception: the worst a feed can do is be ignored and
say so in ``/api/v1/info``.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from api.config import ApiConfig
from engine.planning.realtime import RealtimeState
from engine.planning.reliability import DEFAULT_DELAY_MODEL
from loaders.gtfs_rt import RealtimeFeed, RealtimeFeedError, feed_from_message, parse_message
from loaders.poller import Poller, PollStatus, write_atomically
from loaders.realtime_adapter import known_ids
from loaders.realtime_state import state_from_feeds

log = logging.getLogger("trajet.api")
RELOAD_CHECK_S = 1.0


def feed_file(state_dir: Path, i: int) -> Path:
    return Path(state_dir) / f"feed-{i}.pb"


def status_file(state_dir: Path, i: int) -> Path:
    return Path(state_dir) / f"feed-{i}.status.json"


def start_pollers(config: ApiConfig) -> list[Poller]:
    """Start one poller per configured feed, writing to ``config.realtime_state_path``."""
    state_dir = config.realtime_state_path
    if state_dir is None or not config.realtime_feeds:
        return []
    state_dir.mkdir(parents=True, exist_ok=True)
    pollers = []
    for i, url in enumerate(config.realtime_feeds):
        def handler(body: bytes, i=i, url=url) -> None:
            parse_message(body, url)             # RealtimeFeedError: refused, the last file stays
            write_atomically(feed_file(state_dir, i), body)

        def on_status(status: PollStatus, i=i) -> None:
            write_atomically(status_file(state_dir, i), json.dumps(status.as_dict()).encode())

        pollers.append(Poller(url, config.realtime_every_s, handler,
                              timeout_s=config.realtime_timeout_s, max_bytes=config.realtime_max_bytes,
                              on_status=on_status).start())
    log.info("trajet: polling %d real-time feed(s) every %g s into %s", len(pollers),
             config.realtime_every_s, state_dir)
    return pollers


class RealtimeStore:
    """One worker's view of the real-time feeds (module docstring)."""

    def __init__(self, config: ApiConfig, network):
        self.config, self.network = config, network
        self.state_dir = config.realtime_state_path
        self.state: RealtimeState | None = None
        self._feeds: dict[int, RealtimeFeed] = {}      # the last good parse of each feed
        self._errors: dict[int, str] = {}
        self._report: dict = {}
        self._key: tuple | None = None
        self._stale_at = float("inf")
        self._checked = 0.0
        self._delays = DEFAULT_DELAY_MODEL
        self._lock = threading.Lock()
        self._known = known_ids(network.timetable) if network.timetable is not None else None
        self.last_build_error: str | None = None

    @property
    def max_age_s(self) -> float | None:
        return self.config.realtime_max_age_s if self.config.realtime_max_age_s > 0 else None

    def current(self) -> RealtimeState | None:
        """The latest good state (rebuilt first when a feed file changed); never raises."""
        now = time.time()
        if now - self._checked >= RELOAD_CHECK_S and self._lock.acquire(blocking=False):
            try:
                self._checked = now
                key = self._files_key()
                if key != self._key or now >= self._stale_at:
                    self._rebuild(key, now)
            except Exception as exc:  # keep the last good state, say why in /info
                self.last_build_error = f"{type(exc).__name__}: {exc}"
                log.exception("trajet: real-time rebuild failed; keeping the last good state")
            finally:
                self._lock.release()
        return self.state

    def _files_key(self) -> tuple:
        out = []
        for i in range(len(self.config.realtime_feeds)):
            try:
                out.append(feed_file(self.state_dir, i).stat().st_mtime_ns)
            except OSError:
                out.append(None)
        return tuple(out)

    def _rebuild(self, key: tuple, now: float) -> None:
        if self.network.timetable is None:
            return
        changed = self._key is None or key != self._key
        for i, url in enumerate(self.config.realtime_feeds):
            if key[i] is None or (self._key is not None and self._key[i] == key[i]):
                continue
            try:
                message = parse_message(feed_file(self.state_dir, i).read_bytes(), url)
                self._feeds[i] = feed_from_message(message, url, known=self._known)
                self._errors.pop(i, None)
            except (RealtimeFeedError, OSError) as exc:
                self._errors[i] = str(exc)
        self._key = key
        feeds = [self._feeds[i] for i in sorted(self._feeds)]
        if not feeds:
            return
        state, report = state_from_feeds(self.network.timetable, feeds, max_age_s=self.max_age_s,
                                         delays=self._delays if changed else DEFAULT_DELAY_MODEL)
        if changed:
            self._delays = state.delays
        else:   # a staleness re-check: the same overlay's delays must not count twice
            state = RealtimeState(overlay=state.overlay, alerts=state.alerts, vehicles=state.vehicles,
                                  uncertainty=state.uncertainty, delays=self._delays)
        max_age = self.max_age_s
        fresh_ts = [f.timestamp_utc_s for f in feeds
                    if f.timestamp_utc_s is not None and f.source not in report.resolve.stale_feeds]
        self._stale_at = (min(fresh_ts) + max_age) if (max_age is not None and fresh_ts) else float("inf")
        self.state, self._report = state, report.as_dict()   # the swap
        self.last_build_error = None

    # -- reports ----------------------------------------------------------------------------
    def _poll_status(self, i: int) -> dict | None:
        try:
            return json.loads(status_file(self.state_dir, i).read_text())
        except (OSError, ValueError):
            return None

    def info(self) -> dict:
        """Each feed: poll status, age, stale or not, entities, rejections by validator code;
        then what the current overlay applied."""
        self.current()
        now = time.time()
        stale = set(self._report.get("resolve", {}).get("stale_feeds", []))
        feeds = []
        for i, url in enumerate(self.config.realtime_feeds):
            feed = self._feeds.get(i)
            poll = self._poll_status(i) or {}
            entry = {"url": url, "last_success_utc_s": poll.get("last_success_utc_s"),
                     "last_error": poll.get("last_error"), "last_error_utc_s": poll.get("last_error_utc_s"),
                     "consecutive_errors": poll.get("consecutive_errors"),
                     "read_error": self._errors.get(i), "loaded": feed is not None}
            if feed is not None:
                age = feed.age_s(now)
                entry.update(timestamp_utc_s=feed.timestamp_utc_s,
                             age_s=None if age is None else round(age, 1), stale=url in stale,
                             entities={"trip_updates": len(feed.trip_updates),
                                       "alerts": len(feed.alerts), "vehicles": len(feed.vehicles)},
                             **feed.report.as_dict())
            feeds.append(entry)
        return {"feeds": feeds, "max_age_s": self.max_age_s, "every_s": self.config.realtime_every_s,
                "applied": self._report.get("overlay"), "alerts": self._report.get("alerts"),
                "vehicles": self._report.get("vehicles"), "last_build_error": self.last_build_error,
                "delay_model": self._delays.summary()}

    def vehicles(self, route_id: str | None = None, trip_id: str | None = None) -> list[dict]:
        """Vehicle positions of the current state, optionally of one route or trip."""
        state = self.current()
        if state is None:
            return []
        tt = self.network.timetable
        out = []
        for v in state.vehicles:
            rid = str(tt.line_ids[v.line_idx]) if v.line_idx >= 0 else None
            tid = str(tt.trip_ids[v.trip_idx]) if v.trip_idx >= 0 else None
            if (route_id is not None and rid != route_id) or (trip_id is not None and tid != trip_id):
                continue
            if v.lon is None or v.lat is None:
                continue
            out.append({"id": v.vehicle_id, "label": v.label, "lon": v.lon, "lat": v.lat,
                        "bearing_deg": v.bearing_deg, "route_id": rid, "trip_id": tid,
                        "stop_id": str(tt.stop_ids[v.stop_idx]) if v.stop_idx >= 0 else None,
                        "status": v.status, "timestamp_utc_s": v.timestamp_utc_s})
        return out


__all__ = ["RealtimeStore", "feed_file", "start_pollers", "status_file"]
