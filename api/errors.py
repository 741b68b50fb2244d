"""JSON errors for every failure: ``{"code", "message", "field"}``, never a traceback.

Status classes
--------------
* **400** the request cannot be read: a parameter that is not a number, a coordinate that is not
  ``lat,lon``, a malformed date, malformed JSON, a missing or unknown parameter, a parameter
  given twice or holding a control character or non-ASCII digits, JSON nested too deep
  (:mod:`api.guards`).
* **401/403** the observations endpoint without the right bearer token / with ingest disabled.
* **404/405** no such path / method, as JSON.
* **409** ``CONFLICT``: an observation contradicting a stored one (same facility and instant).
* **413** a body larger than ``max_body_bytes``.
* **422** the request reads but cannot be served: a value out of range, swapped coordinates, an
  unknown mode or facility, too many itineraries, an observation in the future.
* **429** ``TOO_MANY_REQUESTS``: the client is over its rate limit (:mod:`api.limits`).
* **503** the network is still loading (``NOT_READY``) or failed to load (``BUNDLE_ERROR``), or a
  computation outlived the time budget (``TIME_BUDGET_EXCEEDED``); ``Retry-After`` says when to
  come back.
* **500** a bug: logged with its traceback on the server, answered as ``INTERNAL_ERROR``.

Validators raise marshmallow ``ValidationError`` with messages ``"CODE: text"``; :func:`problem`
builds them. Messages without a code are marshmallow's own: those about types and missing or
unknown fields are 400, the others (ranges, choices) 422.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import marshmallow as ma
from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from engine.transit import TransitQueryError

log = logging.getLogger("trajet.api")

# Status of each code the API emits; validators use these in "CODE: text" messages.
CODE_STATUS = {
    "MALFORMED_PARAMETER": 400,
    "MALFORMED_COORDINATES": 400,
    "MALFORMED_DATETIME": 400,
    "MALFORMED_JSON": 400,
    "JSON_TOO_DEEP": 400,
    "REPEATED_PARAMETER": 400,
    "MISSING_PARAMETER": 400,
    "UNKNOWN_PARAMETER": 400,
    "BAD_REQUEST": 400,
    "UNAUTHORIZED": 401,
    "INGEST_DISABLED": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "TOO_MANY_REQUESTS": 429,
    "OUT_OF_RANGE": 422,
    "COORDINATES_OUT_OF_RANGE": 422,
    "COORDINATES_SWAPPED": 422,
    "SAME_ORIGIN_AND_DESTINATION": 422,
    "UNKNOWN_MODE": 422,
    "TOO_MANY_ITINERARIES": 422,
    "WINDOW_TOO_LONG": 422,
    "TOO_MANY_MINUTES": 422,
    "TOO_MUCH_WORK": 422,
    "RADIUS_TOO_LARGE": 422,
    "UNKNOWN_FACILITY": 422,
    "FUTURE_TIMESTAMP": 422,
    "STALE_TIMESTAMP": 422,
    "NEGATIVE_VALUE": 422,
    "EXCEEDS_CAPACITY": 422,
    "CAPACITY_UNKNOWN": 422,
    "INCONSISTENT_VALUES": 422,
    "MISSING_VALUE": 422,
    "TOO_MANY_ITEMS": 422,
    "INVALID_VALUE": 422,
    "UNPROCESSABLE": 422,
    "NOT_READY": 503,
    "BUNDLE_ERROR": 503,
    "TIME_BUDGET_EXCEEDED": 503,
    "BUSY": 503,
    "PLANNER_UNAVAILABLE": 501,
    "INTERNAL_ERROR": 500,
}

_CODED = re.compile(r"^([A-Z][A-Z_]+): (.*)$", re.S)
# marshmallow's own messages that mean "cannot be read" (400) rather than "not acceptable" (422)
_MALFORMED_PREFIXES = ("Not a valid", "Invalid input type", "Invalid type", "Field may not be null",
                       "Invalid value", "Invalid JSON", "Invalid data")
_DEFAULT_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                  405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
                  422: "UNPROCESSABLE", 429: "TOO_MANY_REQUESTS", 500: "INTERNAL_ERROR",
                  501: "NOT_IMPLEMENTED", 503: "SERVICE_UNAVAILABLE"}


def problem(code: str, message: str) -> str:
    """A validation message carrying its error code: ``problem("UNKNOWN_MODE", "...")``."""
    if code not in CODE_STATUS:
        raise KeyError(f"unknown error code {code}")
    return f"{code}: {message}"


@dataclass
class ApiError(Exception):
    """An error a view raises; rendered as ``{code, message, field}`` with ``status``."""

    code: str
    message: str
    field: str | None = None
    status: int | None = None
    headers: dict | None = None
    errors: list | None = None

    def __post_init__(self):
        if self.status is None:
            self.status = CODE_STATUS.get(self.code, 400)
        if self.headers is None:
            self.headers = {}
        Exception.__init__(self, f"{self.code}: {self.message}")

    def body(self) -> dict:
        out = {"code": self.code, "message": self.message, "field": self.field}
        if self.errors:
            out["errors"] = self.errors
        return out


class ErrorSchema(ma.Schema):
    """Every error body the API sends."""

    code = ma.fields.String(required=True, metadata={
        "description": "Machine-readable error code, e.g. COORDINATES_SWAPPED, NOT_READY"})
    message = ma.fields.String(required=True, metadata={"description": "What went wrong, for people"})
    field = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "The parameter or body item at fault (e.g. 'from', "
                       "'observations[2].free_spaces'), or null"})
    errors = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "Every problem found, when there were several: {code, message, field}"})


def _field_path(path: list) -> str:
    out = ""
    for part in path:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _flatten_messages(messages, path=None) -> list[tuple[str, str]]:
    """(field path, message) pairs of a marshmallow/webargs messages tree."""
    path = path or []
    if isinstance(messages, str):
        return [(_field_path(path), messages)]
    if isinstance(messages, list | tuple):
        out = []
        for m in messages:
            out.extend(_flatten_messages(m, path))
        return out
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            # webargs wraps errors by location ("query", "json"); that is not a field
            if not path and key in ("query", "json", "querystring", "form", "headers", "files",
                                    "json_or_form", "view_args"):
                out.extend(_flatten_messages(value, path))
            elif key == "_schema":
                out.extend(_flatten_messages(value, path))
            else:
                out.extend(_flatten_messages(value, [*path, key]))
        return out
    return [(_field_path(path), str(messages))]


def _classify(field_path: str, message: str) -> tuple[int, str, str]:
    """(status, code, message) of one validation message."""
    match = _CODED.match(message)
    if match:
        code = match.group(1)
        return CODE_STATUS.get(code, 422), code, match.group(2)
    name = field_path or "request"
    if message.startswith("Missing data for required field"):
        return 400, "MISSING_PARAMETER", f"{name} is required"
    if message.startswith("Unknown field"):
        return 400, "UNKNOWN_PARAMETER", f"{name} is not a parameter of this endpoint"
    if message.startswith("Invalid JSON"):
        return 400, "MALFORMED_JSON", "the body is not valid JSON"
    if message.startswith(_MALFORMED_PREFIXES):
        return 400, "MALFORMED_PARAMETER", f"{name}: {message}"
    return 422, "INVALID_VALUE", f"{name}: {message}"


def validation_error(messages) -> ApiError:
    """One ApiError for a tree of validation messages: 400 if any cannot be read, else 422."""
    items = []
    for path, message in _flatten_messages(messages):
        status, code, text = _classify(path, message)
        items.append((status, {"code": code, "message": text, "field": path or None}))
    if not items:
        return ApiError("BAD_REQUEST", "the request is not valid", status=400)
    items.sort(key=lambda it: it[0])  # unreadable first: fix those before values
    status, first = items[0]
    return ApiError(first["code"], first["message"], first["field"], status=status,
                    errors=[it[1] for it in items] if len(items) > 1 else None)


def error_response(err: ApiError) -> Response:
    response = jsonify(err.body())
    response.status_code = err.status
    for key, value in (err.headers or {}).items():
        response.headers[key] = value
    return response


def http_exception_to_api_error(exc: HTTPException) -> ApiError:
    """An ApiError for a werkzeug/webargs HTTP exception (404, 405, 413, webargs' 422...)."""
    data = getattr(exc, "data", None) or {}
    if "messages" in data:
        err = validation_error(data["messages"])
        err.headers = dict(data.get("headers") or {})
        return err
    status = exc.code or 500
    code = _DEFAULT_CODES.get(status, "ERROR")
    message = data.get("message") or {
        404: "no such resource; the API lives under /api/v1 (see /api/v1/openapi.json)",
        405: "this method is not allowed here",
        413: "the request body is too large",
    }.get(status) or (exc.description or exc.name)
    err = ApiError(code, message, status=status)
    valid_methods = getattr(exc, "valid_methods", None)
    if status == 405 and valid_methods:
        err.headers["Allow"] = ", ".join(sorted(valid_methods))
    return err


def register_error_handlers(app: Flask) -> None:
    """JSON for every error of ``app``; unexpected exceptions are logged and answered 500."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return error_response(err)

    @app.errorhandler(TransitQueryError)
    def _engine_error(exc: TransitQueryError):
        # an engine error with a reason code (an unknown stop, a day outside the timetable) that
        # no view turned into an answer: the request cannot be served, it is not a server error
        return error_response(ApiError(exc.code, str(exc), status=422))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return error_response(http_exception_to_api_error(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error while serving a request")
        return error_response(ApiError("INTERNAL_ERROR", "internal error; it has been logged",
                                       status=500))
