"""The gunicorn worker ``trajet serve`` runs: gthread whose own error answers are JSON.

gunicorn answers some requests before the app sees them: a request line over
``limit_request_line`` (414), headers over ``limit_request_field_size`` or too many of them
(431), an unreadable request (400). It writes those as HTML; :class:`JsonErrorWorker` writes the
same status as the app's ``{code, message, field}`` JSON. gunicorn still picks the status and
logs the problem: its answer is written to a recorder, read back, and replaced.

Why gthread (see README, "Serving"): each worker's main thread polls the sockets and hands a
connection to a thread once bytes arrive, so a client that sends nothing costs no thread; many
threads per worker (``trajet serve --threads``) keep slow-header clients, which hold a thread
while they trickle their headers, from starving the others; the computations themselves run on
the app's bounded compute pool (:mod:`api.state`, :mod:`api.limits`), not on these threads.
"""
from __future__ import annotations

import json

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

STATUS_CODES = {400: "BAD_REQUEST", 403: "FORBIDDEN", 414: "URI_TOO_LONG",
                417: "EXPECTATION_FAILED", 431: "HEADERS_TOO_LARGE", 500: "INTERNAL_ERROR",
                501: "NOT_IMPLEMENTED"}
MESSAGES = {414: "the request line (method, URL and version) is longer than the server reads; "
                 "send fewer or shorter parameters",
            431: "the request headers are larger than the server reads (too many or too long)",
            500: "internal error; it has been logged"}


class _Recorder:
    """A socket stand-in that keeps what gunicorn writes (gunicorn.util.write_nonblock)."""

    def __init__(self):
        self.data = b""

    def gettimeout(self):
        return 0.0

    def sendall(self, data):
        self.data += data

    def send(self, data):
        self.data += data
        return len(data)


def json_error(status: int, reason: str, detail: str) -> bytes:
    """A complete HTTP/1.1 error answer with the app's JSON error body."""
    message = MESSAGES.get(status) or detail or reason
    if detail and status in MESSAGES and status != 500:
        message = f"{message} ({detail})"
    body = json.dumps({"code": STATUS_CODES.get(status, "BAD_REQUEST"), "message": message,
                       "field": None}).encode("utf-8")
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class JsonErrorWorker(ThreadWorker):
    """gthread, answering gunicorn's own errors (414, 431, 400...) as JSON."""

    def handle_error(self, req, client, addr, exc):
        recorder = _Recorder()
        super().handle_error(req, recorder, addr, exc)
        status_line = recorder.data.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status_line.split(" ", 2)
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            return
        reason = parts[2] if len(parts) > 2 else ""
        detail = "" if status == 500 else str(exc)[:200]
        try:
            util.write_nonblock(client, json_error(status, reason, detail))
        except Exception:
            self.log.debug("Failed to send error message.")
