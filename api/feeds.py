"""Live occupancy feeds on the server: pollers -> the POST's checks -> the observations store.

``trajet serve BUNDLE --feed KIND=URL[#ROLE=FIELD,...] --feed-every 60s`` polls each feed in the
background (:class:`FeedRunner`): ``ngsi`` (FIWARE NGSI v2 / NGSI-LD car parks and docking
stations), ``ods`` (OpenDataSoft records with a field mapping in the URL's fragment, e.g.
``ods=https://host/api/...#facility=id,free=nb_places_libres,capacity=nb_places,time=date_maj``;
the fragment is never sent) and ``gbfs`` (a ``gbfs.json`` and the files it lists, each asked no
sooner than ``max(--feed-every, its ttl)``). Fetching is :mod:`loaders.poller` (timeout, size cap,
back-off, ETag / Last-Modified); parsing is :mod:`loaders.live_feeds`.

Every reading goes through :func:`api.observation_checks.check_reading`, the checks of ``POST
/api/v1/parking/observations``, into the same SQLite store (:class:`api.observations.ObservationStore`):

* a reading of a facility the bundle does not have is refused (``unknown_facility``) and not
  stored, as the POST refuses it: the store holds what the forecaster can use, and a feed pointed
  at the wrong city must not fill it (the bundle names the facilities; rebuild it to add some);
* a reading already stored (same facility, same instant, same values: a feed polled again before
  it changed) is a ``duplicate``, counted, not an error; another value at a stored instant is a
  ``conflict`` and the stored row stays;
* every other refusal is counted under the check's code, lower-cased (``future_timestamp``,
  ``negative_value``, ``exceeds_capacity``, ...), beside the reader's codes for entities it left
  out (``duplicate_station_id``, ``status_for_unknown_station``, ...).

Status: after each poll the runner writes ``<state_dir>/feeds/feed-<i>.status.json``
(``state_dir`` is ``ApiConfig.realtime_state_path``); ``/api/v1/info`` reads them
(:func:`feeds_info`) in every worker: last success, last error, age of the newest reading,
readings accepted, duplicates and refused by reason, and ``stale``: true when no reading newer
than those seen before arrived, or no poll succeeded, for ``feeds_stale_factor`` (3 by default)
x the feed's interval (``max(every, ttl)``). A failing feed leaves everything stored in place.

GBFS snapshots: each good fetch of a GBFS system is also written as a folder the workers read
with :func:`loaders.gbfs.read_gbfs`: ``<state_dir>/gbfs/<system_id>`` (``gbfs.json`` listing
local file names, and the files), replaced atomically: each fetch is written to a new folder
under ``<state_dir>/gbfs-versions/``, then the ``gbfs/<system_id>`` symbolic link is swapped to it
with one rename (a reader sees the old folder or the new one; the two newest are kept so a read
in progress finishes). :func:`gbfs_snapshot_dirs` lists them.

Where the pollers run: ``trajet serve`` starts one feeds process beside gunicorn
(:mod:`api.feeds_process`; a thread in the gunicorn master would hold SQLite connections across
the master's forks of workers, which SQLite forbids); with ``feeds_poll_in_app`` they run in the
app's own process (tests, other WSGI servers).
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from pathlib import Path

from api.config import ApiConfig
from api.observation_checks import Facilities, ObservationRules, check_reading
from api.observations import ObservationStore
from loaders.gbfs import read_gbfs
from loaders.live_feeds import (
    CODES,
    LiveFeedReport,
    Reading,
    parse_json,
    readings_from_gbfs,
    readings_from_ngsi,
    readings_from_ods,
)
from loaders.live_feeds.gbfs_poller import GbfsPoller
from loaders.live_feeds.spec import KINDS, FeedSpec
from loaders.poller import Poller, PollStatus, write_atomically

log = logging.getLogger("trajet.api")
MAX_EXAMPLES = 5
CHECK_MEANINGS = {
    "unknown_facility": "a facility this bundle does not have (not stored, as the POST refuses it)",
    "future_timestamp": "an instant further in the future than future_tolerance_s (clock skew)",
    "stale_timestamp": "an instant older than max_observation_age_s",
    "invalid_value": "a count that is not a whole number",
    "negative_value": "a negative count",
    "out_of_range": "a count beyond int32, a zero capacity, or a capacity far above the known one",
    "exceeds_capacity": "free (or occupied) spaces above the capacity",
    "inconsistent_values": "free + occupied above the capacity",
    "capacity_unknown": "occupied spaces of a facility of unknown capacity",
    "missing_value": "neither free spaces nor occupied spaces",
    "conflict": "another value already stored for the same facility and instant (the stored one stays)",
}


# ---------------------------------------------------------------------------------------------
# What to poll
# ---------------------------------------------------------------------------------------------
def feed_specs(config: ApiConfig) -> list[FeedSpec]:
    return [FeedSpec.parse(text) for text in config.feeds]


def feeds_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "feeds"


def status_file(state_dir: Path, i: int) -> Path:
    return feeds_dir(state_dir) / f"feed-{i}.status.json"


# ---------------------------------------------------------------------------------------------
# From readings to the store
# ---------------------------------------------------------------------------------------------
class Ingest:
    """Checks readings like the POST does and stores the good ones; counts what it did."""

    def __init__(self, config: ApiConfig, facilities: Facilities, store: ObservationStore,
                 clock=time.time):
        self.config, self.facilities, self.store, self.clock = config, facilities, store, clock
        self.accepted = 0
        self.duplicates = 0
        self.rejected: Counter = Counter()
        self.examples: dict[str, list[str]] = {}
        self.newest_reading_utc_s: int | None = None   # the latest instant a reading carried
        self.last_new_reading_utc_s: float | None = None  # when (server clock) that last advanced
        self.last: dict = {}

    def _reject(self, code: str, ids: list[str], n: int = 1) -> None:
        self.rejected[code] += n
        examples = self.examples.setdefault(code, [])
        for facility_id in ids:
            if len(examples) < MAX_EXAMPLES and facility_id not in examples:
                examples.append(str(facility_id)[:120])

    def take(self, readings: list[Reading], report: LiveFeedReport) -> dict:
        """Check and store one poll's readings; returns this poll's counts."""
        for code, n in report.rejected.items():
            self._reject(code, report.examples.get(code, []), n)
        rules = ObservationRules.of(self.config, int(self.clock()))
        observations, refused = [], 0
        for reading in readings:
            problems: list[str] = []
            observation = check_reading(self.facilities, reading.as_item(), rules,
                                        lambda _field, code, _msg, p=problems: p.append(code))
            if observation is None:
                self._reject(problems[0].lower(), [reading.facility_id])
                refused += 1
            else:
                observations.append(observation)
        times = [r.time_utc_s for r in readings if type(r.time_utc_s) is int
                 and r.time_utc_s <= rules.now_utc_s + self.config.future_tolerance_s]
        if times and max(times) > (self.newest_reading_utc_s or -1):
            self.newest_reading_utc_s = max(times)
            self.last_new_reading_utc_s = round(self.clock(), 3)   # the feed moved on
        result = self.store.add_unique(observations, all_or_nothing=False) if observations else None
        stored = 0 if result is None else len(result.ids) - result.duplicates
        duplicates = 0 if result is None else result.duplicates
        for conflict in ([] if result is None else result.conflicts):
            self._reject("conflict", [observations[conflict.item].facility_id])
        self.accepted += stored
        self.duplicates += duplicates
        self.last = {"readings": len(readings), "accepted": stored, "duplicates": duplicates,
                     "refused": refused + (0 if result is None else len(result.conflicts)),
                     "left_out": sum(report.rejected.values())}
        return self.last

    def as_dict(self) -> dict:
        meanings = {**CODES, **CHECK_MEANINGS}
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": {code: {"count": n, "meaning": meanings.get(code, code),
                                    "examples": self.examples.get(code, [])}
                             for code, n in sorted(self.rejected.items())},
                "newest_reading_utc_s": self.newest_reading_utc_s,
                "last_new_reading_utc_s": self.last_new_reading_utc_s, "last_poll": self.last}


# ---------------------------------------------------------------------------------------------
# One feed
# ---------------------------------------------------------------------------------------------
class Feed:
    """One configured feed: its poller, its ingest counts, its status file."""

    def __init__(self, i: int, spec: FeedSpec, config: ApiConfig, facilities: Facilities,
                 store: ObservationStore, state_dir: Path):
        self.i, self.spec, self.config, self.state_dir = i, spec, config, Path(state_dir)
        self.ingest = Ingest(config, facilities, store)
        self.system_id: str | None = None
        self.polls_ok = self.polls_failed = 0
        self._lock = threading.Lock()
        options = dict(timeout_s=config.feeds_timeout_s, max_bytes=config.feeds_max_bytes,
                       on_status=self._write_status)
        if spec.kind == "gbfs":
            self.poller = GbfsPoller(spec.url, config.feeds_every_s, self._take_gbfs, **options)
        else:
            self.poller = Poller(spec.url, config.feeds_every_s, self._take_body, **options)

    def every_s(self) -> float:
        if isinstance(self.poller, GbfsPoller):
            return self.poller.effective_every_s()
        return self.config.feeds_every_s

    def _take_body(self, body: bytes) -> None:
        """ngsi / ods: parse, check, store (LiveFeedError: the poll is an error, nothing stored)."""
        document = parse_json(body, self.spec.public_url())
        if self.spec.kind == "ngsi":
            readings, report = readings_from_ngsi(document, self.spec.public_url())
        else:
            readings, report = readings_from_ods(document, self.spec.mapping, self.spec.public_url(),
                                                 int(time.time()))
        with self._lock:
            self.ingest.take(readings, report)

    def _take_gbfs(self, bodies: dict[str, bytes], listed: dict[str, str]) -> None:
        """gbfs: write the files as a new snapshot folder, read it, store its station readings,
        then publish the snapshot (a system that cannot be read is refused and not published)."""
        folder = _new_version_dir(self.state_dir, self.i)
        try:
            _write_snapshot(folder, bodies)
            feed = read_gbfs(folder)
            readings, report = readings_from_gbfs(feed)
        except Exception:
            _remove_tree(folder)
            raise
        with self._lock:
            self.ingest.take(readings, report)
            self.system_id = feed.system.system_id
        _publish_snapshot(self.state_dir, feed.system.system_id, folder)

    def status(self, poll: PollStatus) -> dict:
        with self._lock:
            readings = self.ingest.as_dict()
        ttl = self.poller.ttl_s() if isinstance(self.poller, GbfsPoller) else None
        return {"kind": self.spec.kind, "url": self.spec.public_url(),
                "mapping": self.spec.mapping.describe() if self.spec.mapping else None,
                "every_s": self.every_s(), "ttl_s": ttl, "system_id": self.system_id,
                "last_attempt_utc_s": poll.last_attempt_utc_s,
                "last_success_utc_s": poll.last_success_utc_s,
                "last_change_utc_s": poll.last_change_utc_s,
                "last_error": poll.last_error, "last_error_utc_s": poll.last_error_utc_s,
                "consecutive_errors": poll.consecutive_errors, "bytes": poll.bytes,
                "polls_ok": self.polls_ok, "polls_failed": self.polls_failed, **readings}

    def _write_status(self, poll: PollStatus) -> None:
        if poll.last_success_utc_s is not None and poll.last_success_utc_s == poll.last_attempt_utc_s:
            self.polls_ok += 1
        else:
            self.polls_failed += 1
        write_atomically(status_file(self.state_dir, self.i), json.dumps(self.status(poll)).encode())

    def start(self) -> Feed:
        self.poller.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self.poller.stop(timeout_s)


class FeedRunner:
    """Every configured feed of one server, polling in daemon threads (see the module docstring)."""

    def __init__(self, config: ApiConfig, facilities: Facilities, store: ObservationStore):
        self.config, self.store = config, store
        self.state_dir = config.realtime_state_path
        if self.state_dir is None:
            raise ValueError("live feeds need a state folder: configure bundle_dir or observations_db")
        feeds_dir(self.state_dir).mkdir(parents=True, exist_ok=True)
        for stale in feeds_dir(self.state_dir).glob("feed-*.status.json"):
            stale.unlink(missing_ok=True)   # a previous run's numbering may differ
        self.feeds = [Feed(i, spec, config, facilities, store, self.state_dir)
                      for i, spec in enumerate(feed_specs(config))]

    def start(self) -> FeedRunner:
        for feed in self.feeds:
            feed.start()
        log.info("trajet: polling %d live feed(s) every %g s (at least) into %s", len(self.feeds),
                 self.config.feeds_every_s, self.config.observations_path)
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        for feed in self.feeds:
            feed.stop(timeout_s)
        self.store.close()


def start_feeds(config: ApiConfig, parking, timezone: str) -> FeedRunner | None:
    """Start the configured feeds writing to ``config.observations_path`` (None without feeds)."""
    if not config.feeds or config.observations_path is None:
        return None
    store = ObservationStore(config.observations_path)
    return FeedRunner(config, Facilities.of(parking, timezone), store).start()


# ---------------------------------------------------------------------------------------------
# What /api/v1/info says
# ---------------------------------------------------------------------------------------------
def feeds_info(config: ApiConfig, now_utc_s: float | None = None) -> list[dict] | None:
    """Each configured feed's status (from its status file), with its age and stale flag."""
    if not config.feeds:
        return None
    now = time.time() if now_utc_s is None else now_utc_s
    out = []
    for i, spec in enumerate(feed_specs(config)):
        status = _read_status(config.realtime_state_path, i) or {
            "kind": spec.kind, "url": spec.public_url(), "every_s": config.feeds_every_s,
            "last_success_utc_s": None, "last_error": None, "accepted": 0, "duplicates": 0,
            "rejected": {}, "newest_reading_utc_s": None}
        out.append({**status, **_age_and_staleness(status, config, now)})
    return out


def _read_status(state_dir: Path | None, i: int) -> dict | None:
    if state_dir is None:
        return None
    try:
        return json.loads(status_file(state_dir, i).read_text())
    except (OSError, ValueError):
        return None


def _age_and_staleness(status: dict, config: ApiConfig, now: float) -> dict:
    """``age_s``: seconds since the instant of the newest reading (the data's age, the source's
    latency included); ``stale``: no newer reading, or no good poll, for ``feeds_stale_factor`` x
    the feed's interval (measured on the server's clock, so a source's constant latency does not
    make it stale), or never a reading at all."""
    limit_s = config.feeds_stale_factor * float(status.get("every_s") or config.feeds_every_s)
    newest, success = status.get("newest_reading_utc_s"), status.get("last_success_utc_s")
    moved = status.get("last_new_reading_utc_s")
    age = None if newest is None else round(now - newest, 1)
    since = None if success is None else round(now - success, 1)
    stale = moved is None or since is None or now - moved > limit_s or since > limit_s
    return {"age_s": age, "since_success_s": since, "stale": stale, "stale_after_s": limit_s}


# ---------------------------------------------------------------------------------------------
# GBFS snapshot folders
# ---------------------------------------------------------------------------------------------
def gbfs_snapshot_dirs(state_dir: str | Path | None) -> list[Path]:
    """The folders ``<state_dir>/gbfs/<system_id>`` of the latest good fetch of each GBFS system
    (read each with :func:`loaders.gbfs.read_gbfs`; its mtime changes with each new fetch)."""
    if state_dir is None:
        return []
    root = Path(state_dir) / "gbfs"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "gbfs.json").is_file())


def _versions_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "gbfs-versions"


def _new_version_dir(state_dir: Path, i: int) -> Path:
    folder = _versions_dir(state_dir) / f"feed-{i}.{time.time_ns()}.{os.getpid()}"
    folder.mkdir(parents=True)
    return folder


def _write_snapshot(folder: Path, bodies: dict[str, bytes]) -> None:
    """The fetched files, and ``gbfs.json`` with each listed URL replaced by its local name
    (files not fetched are dropped from the list)."""
    document = json.loads(bodies["gbfs"].decode("utf-8-sig"))
    data = document.get("data", {})
    lists = [data["feeds"]] if isinstance(data.get("feeds"), list) else [
        v["feeds"] for v in data.values() if isinstance(v, dict) and isinstance(v.get("feeds"), list)]
    for feeds in lists:
        feeds[:] = [{**e, "url": f"{e['name']}.json"} for e in feeds
                    if isinstance(e, dict) and e.get("name") in bodies and e.get("name") != "gbfs"]
    for name, body in bodies.items():
        if name != "gbfs":
            (folder / f"{name}.json").write_bytes(body)
    (folder / "gbfs.json").write_text(json.dumps(document), encoding="utf-8")


def _publish_snapshot(state_dir: Path, system_id: str, folder: Path) -> None:
    """Point ``gbfs/<system_id>`` at ``folder`` (one rename of a new link), then drop the versions
    of this system older than the previous one."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in system_id).lstrip(".") or "system"
    root = Path(state_dir) / "gbfs"
    root.mkdir(parents=True, exist_ok=True)
    link = root / safe
    previous = link.resolve() if link.is_symlink() else None
    tmp = root / f".{safe}.{os.getpid()}.{threading.get_ident()}.link"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(os.path.relpath(folder, root))
    os.replace(tmp, link)
    keep = {folder.resolve(), previous}
    prefix = folder.name.rsplit(".", 2)[0] + "."
    for old in _versions_dir(state_dir).glob(prefix + "*"):
        if old.resolve() not in keep:
            _remove_tree(old)


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


__all__ = ["FeedRunner", "FeedSpec", "Ingest", "KINDS", "feed_specs", "feeds_info",
           "gbfs_snapshot_dirs", "start_feeds", "status_file"]
