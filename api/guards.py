"""What every request must be before a view reads it: one place, not a check per view.

* **Bodies** (:class:`GuardedRequest`): a body is read at most ``max_body_bytes`` long, also when
  it comes chunked without a Content-Length (413 ``PAYLOAD_TOO_LARGE``, not a truncated body that
  then reads as malformed JSON); a JSON body nested deeper than ``max_json_depth`` is refused
  (400 ``JSON_TOO_DEEP``) before any parser sees it, so a RecursionError never happens. The body
  is read only when a view asks for it, so the ingest token is still checked first.
* **Query strings** (:func:`check_request`, a ``before_request`` hook): a parameter given twice
  (400 ``REPEATED_PARAMETER``; no endpoint documents a list parameter: lists are comma-separated
  in one value), a control character (U+0000-U+001F, U+007F-U+009F) in a name or value, and a
  digit other than ASCII 0-9 (Python's ``int``/``float`` read full-width and Arabic-Indic digits)
  are refused as 400 ``MALFORMED_PARAMETER`` naming the parameter.
* **Paths** (:class:`GuardedFlask`, :func:`check_request`): slashes are not merged and a path
  with an empty segment (``//api/v1/info``, ``/api//v1/info``) is a 404, never a redirect; a
  redirect Werkzeug still makes (a missing trailing slash) carries a relative Location: never a
  URL built from the Host header.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import numpy as np
from flask import Flask, Request, request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, RequestRedirect

from api.errors import ApiError

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_OPENERS = np.zeros(256, dtype=np.int8)
_OPENERS[[ord("["), ord("{")]] = 1
_OPENERS[[ord("]"), ord("}")]] = -1

DEFAULT_MAX_JSON_DEPTH = 32


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in JSON text ``data`` (strings ignored).

    Exact for valid JSON; for invalid JSON it never counts less than a parser would reach before
    failing (a parser stops at the first closing bracket that matches nothing).
    """
    outside_strings = _JSON_STRING.sub(b"", data)
    steps = _OPENERS[np.frombuffer(outside_strings, dtype=np.uint8)].astype(np.int64)
    return int(np.cumsum(steps).max(initial=0))


class GuardedRequest(Request):
    """A request whose body is read within ``max_content_length`` (chunked too) and whose JSON
    body is checked for depth before it is parsed."""

    max_json_depth = DEFAULT_MAX_JSON_DEPTH

    def get_data(self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False):
        if getattr(self, "_cached_data", None) is None and self.content_length is None:
            self._read_chunked_body()
        data = super().get_data(cache=cache, as_text=as_text, parse_form_data=parse_form_data)
        if self.is_json and data and not getattr(self, "_depth_checked", False):
            raw = data.encode("utf-8") if isinstance(data, str) else data
            depth = json_depth(raw)
            if depth > self.max_json_depth:
                raise ApiError("JSON_TOO_DEEP", f"the JSON body is nested {depth} levels deep; at "
                               f"most {self.max_json_depth} are read (max_json_depth)", status=400)
            self._depth_checked = True
        return data

    def _read_chunked_body(self) -> None:
        """A body of unannounced length (chunked): read one byte past the limit to tell a body
        over it (413) from one exactly at it."""
        limit = self.max_content_length
        if limit is None or not self.environ.get("wsgi.input_terminated"):
            return
        data = self.environ["wsgi.input"].read(limit + 1)
        if len(data) > limit:
            raise RequestEntityTooLarge()
        self._cached_data = data


class _UnmergedMap(Map):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("merge_slashes", False)
        super().__init__(*args, **kwargs)


class GuardedFlask(Flask):
    """Flask with :class:`GuardedRequest`, unmerged slashes and relative redirects only."""

    request_class = GuardedRequest
    url_map_class = _UnmergedMap

    def raise_routing_exception(self, req):
        exc = req.routing_exception
        if isinstance(exc, RequestRedirect):
            parts = urlsplit(exc.new_url)
            if parts.path.startswith("//"):
                raise NotFound()
            relative = parts.path + (f"?{parts.query}" if parts.query else "")
            raise RequestRedirect(relative)
        super().raise_routing_exception(req)


def _check_text(name: str, text: str, *, what: str) -> None:
    bad = _CONTROL.search(text)
    if bad:
        raise ApiError("MALFORMED_PARAMETER", f"{what} {name[:40]!r} holds a control character "
                       f"(U+{ord(bad.group()):04X})", field=name[:40])
    for match in _NON_ASCII.finditer(text):
        if match.group().isdigit():
            raise ApiError("MALFORMED_PARAMETER", f"{name[:40]}: numbers are written with ASCII "
                           f"digits 0-9 only; got {match.group()!r} (U+{ord(match.group()):04X})",
                           field=name[:40])


def check_request() -> None:
    """Refuse a path with empty segments, repeated parameters, control characters and
    non-ASCII digits (before any view)."""
    if "//" in request.environ.get("PATH_INFO", ""):
        # Werkzeug would serve "//x" as "/x"; one spelling per resource, and never a redirect
        raise NotFound()
    for name in request.args:
        _check_text(name, name, what="parameter name")
        values = request.args.getlist(name)
        if len(values) > 1:
            raise ApiError("REPEATED_PARAMETER", f"{name[:40]} is given {len(values)} times; give "
                           "it once (lists are comma-separated in one value)", field=name[:40])
        _check_text(name, values[0], what="parameter")


def install(app: Flask, *, max_json_depth: int) -> None:
    """Check every request of ``app`` (which must be a :class:`GuardedFlask`)."""
    app.request_class = type("AppRequest", (GuardedRequest,), {"max_json_depth": max_json_depth})
    app.before_request(check_request)
