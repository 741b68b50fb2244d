"""A generic poller: fetch a URL (or a local file) every ``interval_s`` and hand good bodies to a
handler, apart from the request workers (a daemon thread).

Each poll: a conditional GET (``If-None-Match`` with the last ETag, ``If-Modified-Since`` with
the last Last-Modified, when the server offered them; a 304 counts as a success with nothing
new), a ``timeout_s`` on connecting and on each read, and a ``max_bytes`` cap (the body is read
in chunks and the poll fails past it, without reading the rest). A file path is read when its
mtime changed. The handler gets the bytes and may raise to refuse them (a body that is not a
feed, say): that is an error like an HTTP failure. After an error the next poll waits
``interval_s * 2**(errors - 1)``, at most ``max_backoff_s``; a success resets it.

:class:`PollStatus` records the last success and the last error (instants in POSIX seconds),
the consecutive errors and the bytes of the last body; ``as_dict(now)`` adds ages. GTFS-Realtime
(``api.realtime``) is the first user; NGSI, OpenDataSoft and GBFS pollers share this base.
"""
from __future__ import annotations

import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_BACKOFF_S = 600.0
_CHUNK = 64 * 1024


class PollError(RuntimeError):
    """A poll that failed; the message says why (HTTP status, timeout, size, handler)."""


@dataclass
class PollStatus:
    """What a poller did last (POSIX seconds; None: never)."""

    source: str
    last_attempt_utc_s: float | None = None
    last_success_utc_s: float | None = None
    last_change_utc_s: float | None = None     # the last success that brought a new body
    last_error_utc_s: float | None = None
    last_error: str | None = None
    consecutive_errors: int = 0
    bytes: int | None = None
    etag: str | None = None
    last_modified: str | None = None

    def as_dict(self, now_utc_s: float | None = None) -> dict:
        out = asdict(self)
        if now_utc_s is not None:
            out["since_success_s"] = (None if self.last_success_utc_s is None
                                      else round(now_utc_s - self.last_success_utc_s, 1))
        return out


class PollingThread:
    """The daemon thread of a poller: ``poll_once()`` now and then every ``next_wait_s()`` until
    :meth:`stop`. The poller sets ``_stop`` (a threading.Event), ``_thread`` (None) and
    ``thread_name``."""

    _stop: threading.Event
    _thread: threading.Thread | None
    thread_name: str

    def start(self):
        """Start polling in a daemon thread; returns the poller."""
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.next_wait_s())

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)


class Poller(PollingThread):
    """Poll ``source`` every ``interval_s`` seconds, passing new bodies to ``handler(bytes)``."""

    def __init__(self, source: str, interval_s: float, handler: Callable[[bytes], None], *,
                 timeout_s: float = DEFAULT_TIMEOUT_S, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
                 on_status: Callable[[PollStatus], None] | None = None):
        if not interval_s > 0 or not timeout_s > 0 or max_bytes <= 0:
            raise ValueError("Poller: interval_s, timeout_s and max_bytes must be positive")
        self.source, self.interval_s, self.handler = str(source), float(interval_s), handler
        self.timeout_s, self.max_bytes, self.max_backoff_s = float(timeout_s), int(max_bytes), max_backoff_s
        self.on_status = on_status
        self.status = PollStatus(source=self.source)
        self._mtime_ns: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.thread_name = f"poller {self.source}"

    # -- one poll ---------------------------------------------------------------------------
    def _fetch_url(self) -> bytes | None:
        """The body, or None for 304 Not Modified. Raises PollError."""
        headers = {"User-Agent": "trajet-poller"}
        if self.status.etag:
            headers["If-None-Match"] = self.status.etag
        if self.status.last_modified:
            headers["If-Modified-Since"] = self.status.last_modified
        request = urllib.request.Request(self.source, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > self.max_bytes:
                    raise PollError(f"body of {int(length):,} bytes is over the {self.max_bytes:,} cap")
                body = self._read_capped(response)
                etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return None
            raise PollError(f"HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise PollError(f"cannot be fetched ({getattr(exc, 'reason', exc)})") from None
        self._pending_validators = (etag, modified)
        return body

    def _read_capped(self, response) -> bytes:
        parts, total = [], 0
        deadline = time.monotonic() + self.timeout_s * 3   # a trickling server is a timeout too
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                return b"".join(parts)
            total += len(chunk)
            if total > self.max_bytes:
                raise PollError(f"body over the {self.max_bytes:,} bytes cap")
            if time.monotonic() > deadline:
                raise PollError(f"body not received within {self.timeout_s * 3:g} s")
            parts.append(chunk)

    def _fetch_file(self) -> bytes | None:
        path = Path(self.source)
        try:
            mtime = path.stat().st_mtime_ns
            if mtime == self._mtime_ns:
                return None
            if path.stat().st_size > self.max_bytes:
                raise PollError(f"file over the {self.max_bytes:,} bytes cap")
            body = path.read_bytes()
        except OSError as exc:
            raise PollError(f"cannot be read ({exc.strerror})") from None
        self._pending_mtime = mtime
        return body

    def poll_once(self) -> bool:
        """One poll; True on success (new body handled, or nothing new). Never raises."""
        now = time.time()
        self.status.last_attempt_utc_s = now
        is_url = bool(re.match(r"^https?://", self.source))
        self._pending_validators = (None, None)
        try:
            body = self._fetch_url() if is_url else self._fetch_file()
            if body is not None:
                try:
                    self.handler(body)
                except Exception as exc:  # the handler refuses the body: an error like any other
                    raise PollError(f"refused: {exc}") from None
                self.status.bytes = len(body)
                self.status.last_change_utc_s = now
                if is_url:
                    self.status.etag, self.status.last_modified = self._pending_validators
                else:
                    self._mtime_ns = self._pending_mtime
        except PollError as exc:
            self.status.last_error, self.status.last_error_utc_s = str(exc), now
            self.status.consecutive_errors += 1
            self._report()
            return False
        self.status.last_success_utc_s = now
        self.status.consecutive_errors = 0
        self._report()
        return True

    def _report(self) -> None:
        if self.on_status is not None:
            try:
                self.on_status(self.status)
            except Exception:  # a status sink that fails must not stop the polling
                pass

    def next_wait_s(self) -> float:
        """Seconds until the next poll: the interval, doubled per consecutive error (capped)."""
        errors = self.status.consecutive_errors
        if errors == 0:
            return self.interval_s
        return min(self.interval_s * 2 ** (errors - 1), max(self.max_backoff_s, self.interval_s))


def write_atomically(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (readers see the old
    file or the new one, never half of one)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


__all__ = ["PollError", "PollStatus", "Poller", "write_atomically"]
