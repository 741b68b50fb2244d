"""Polling one GBFS system: ``gbfs.json``, then each file it lists, each no sooner than its ``ttl``.

One :class:`loaders.poller.Poller` per file (its own ETag / Last-Modified, timeout, size cap and
back-off), driven by one daemon thread. A file is asked again only after
``max(every_s, its ttl)``: the feed's own ``ttl`` is never overrun, and ``every_s`` is the floor.
A file that fails (HTTP error, timeout, over the cap, not a GBFS JSON file) keeps its last good
body and backs off (doubling from that interval, capped at ``max_backoff_s``). Whenever a poll
brought a new body, ``on_fetch(bodies, listed)`` gets the latest good body of every file
(name -> bytes, ``gbfs`` included) and where each was read; it may raise to refuse them (the poll
is then an error). :attr:`status` sums the round up like a single poller's
(:class:`loaders.poller.PollStatus`); :meth:`ttl_s` is the shortest ttl seen.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from loaders.gbfs import GbfsFeedError, listed_files
from loaders.poller import (
    DEFAULT_MAX_BACKOFF_S,
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    Poller,
    PollingThread,
    PollStatus,
)


def _ttl_of(body: bytes, location: str) -> tuple[dict, int | None]:
    """(the document, its ttl in s) of a GBFS file; GbfsFeedError when it is not one."""
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        head = body[:64].lstrip()[:1]
        what = "an HTML page" if head == b"<" else "not JSON"
        raise GbfsFeedError(f"{location}: {what}, not a GBFS file") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise GbfsFeedError(f"{location}: not a GBFS file (no 'data' object)")
    ttl = document.get("ttl")
    ok = isinstance(ttl, int | float) and not isinstance(ttl, bool) and 0 <= ttl < 86_400 * 7
    return document, int(ttl) if ok else None


class GbfsPoller(PollingThread):
    """Poll the GBFS system of ``url`` (its ``gbfs.json``); see the module docstring."""

    def __init__(self, url: str, every_s: float, on_fetch: Callable[[dict, dict], None], *,
                 timeout_s: float = DEFAULT_TIMEOUT_S, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
                 on_status: Callable[[PollStatus], None] | None = None):
        self.url, self.every_s, self.on_fetch, self.on_status = url, float(every_s), on_fetch, on_status
        self._options = dict(timeout_s=timeout_s, max_bytes=max_bytes, max_backoff_s=max_backoff_s)
        self.status = PollStatus(source=url)
        self.listed: dict[str, str] = {}
        self.bodies: dict[str, bytes] = {}
        self.ttls: dict[str, int | None] = {}
        self._pollers: dict[str, Poller] = {"gbfs": self._file_poller("gbfs", url)}
        self._due: dict[str, float] = {}
        self._fresh = self._pending = False   # a new body this round / not yet taken by on_fetch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.thread_name = f"gbfs poller {url}"

    def _file_poller(self, name: str, location: str) -> Poller:
        def handler(body: bytes) -> None:
            document, ttl = _ttl_of(body, location)
            if name == "gbfs":
                self.listed, _ = listed_files(document, location)
            self.bodies[name], self.ttls[name] = body, ttl
            self._fresh = True
        return Poller(location, self.every_s, handler, **self._options)

    def ttl_s(self) -> int | None:
        """The shortest ttl of the files read (s); None when none gave one."""
        ttls = [t for t in self.ttls.values() if t is not None]
        return min(ttls) if ttls else None

    def effective_every_s(self) -> float:
        """The time between polls of a file: the floor ``every_s`` or the feed's ttl, the longer."""
        return max(self.every_s, float(self.ttl_s() or 0))

    # -- one round --------------------------------------------------------------------------
    def poll_once(self) -> bool:
        """Poll every file that is due (``gbfs.json`` first); True when none failed. Never raises."""
        now = time.time()
        self.status.last_attempt_utc_s = now
        self._fresh, errors = False, []
        self._poll_file("gbfs", self.url, errors)
        for name, location in sorted(self.listed.items()):
            self._poll_file(name, location, errors)
        for name in set(self.bodies) - {"gbfs", *self.listed}:   # no longer listed
            self.bodies.pop(name, None)
        self._pending = self._pending or self._fresh
        if self._pending and not errors and "gbfs" in self.bodies:
            try:
                self.on_fetch(dict(self.bodies), {"gbfs": self.url, **self.listed})
                self._pending = False
            except Exception as exc:   # the receiver refuses the bodies: an error like any other
                errors.append(f"refused: {exc}")
        return self._record(now, errors)

    def _poll_file(self, name: str, location: str, errors: list[str]) -> None:
        """Poll one file if it is due, then set when it is due next (ttl, back-off)."""
        if self._due.get(name, 0.0) > time.monotonic():
            return
        poller = self._pollers.get(name)
        if poller is None or poller.source != location:
            poller = self._pollers[name] = self._file_poller(name, location)
        if not poller.poll_once():
            errors.append(f"{name}: {poller.status.last_error}")
        poller.interval_s = max(self.every_s, float(self.ttls.get(name) or 0))
        self._due[name] = time.monotonic() + poller.next_wait_s()

    def _record(self, now: float, errors: list[str]) -> bool:
        if errors:
            self.status.last_error, self.status.last_error_utc_s = "; ".join(errors)[:500], now
            self.status.consecutive_errors += 1
        else:
            self.status.last_success_utc_s = now
            self.status.consecutive_errors = 0
            if self._fresh:
                self.status.last_change_utc_s = now
                self.status.bytes = sum(len(b) for b in self.bodies.values())
        if self.on_status is not None:
            try:
                self.on_status(self.status)
            except Exception:  # a status sink that fails must not stop the polling
                pass
        return not errors

    def next_wait_s(self) -> float:
        """Seconds until the next file is due (at least 50 ms)."""
        if not self._due:
            return self.every_s
        return max(0.05, min(self._due.values()) - time.monotonic())


__all__ = ["GbfsPoller"]
