"""How much one client may ask of the server: work per request, heavy requests at once, rate.

* **Work per request.** An isochrone runs one search per mode asked, each as long as
  ``minutes``: the work is modes x minutes ("mode-minutes"). Each parameter has its bound in the
  OpenAPI document (six modes, ``max_isochrone_minutes``), and by default
  ``max_isochrone_mode_minutes`` is their product (540), so that every request valid by the
  document is computed (schemathesis' positive-data check); the engine's time budget stops a
  search that runs too long (503 ``TIME_BUDGET_EXCEEDED``). A server that wants a tighter bound
  sets it lower: more is then refused with 422 ``TOO_MUCH_WORK`` naming the limit, before
  anything runs. (All six modes at 90 minutes with 10 km of walking took 2.7 s on Monaco, 8 s on
  a busy 2-core machine.)
* **Heavy requests at once.** Isochrones go through a per-worker lane of ``heavy_concurrency``
  (1) at a time; a request waits at most ``heavy_queue_wait_s`` for it, then answers 503
  ``BUSY`` with ``Retry-After``. Plans and every other request never wait on this lane, and the
  health probes never wait on anything.
* **Rate.** ``rate_limit`` (every endpoint but the health probes) and ``rate_limit_heavy``
  (isochrones) are flask-limiter rate strings per client address, e.g. ``"120/minute;20/second"``;
  empty (the default, for local use) turns them off. Counters live in ``rate_limit_storage``
  (``memory://``: per worker process; a ``redis://`` URL shares them). A client over its limit
  gets 429 ``TOO_MANY_REQUESTS`` with ``Retry-After``.
"""
from __future__ import annotations

import threading

from flask import Flask, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from api.config import ApiConfig
from api.errors import ApiError
from api.schemas import DEFAULT_MODES, MODE_ALIASES, MODES

HEAVY_ENDPOINTS = frozenset({"plan.isochrone"})
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


def isochrone_work(args, config: ApiConfig) -> tuple[int, int, int] | None:
    """(modes, minutes, mode-minutes) an isochrone query asks for; None when the query cannot
    be read (the schema then answers 400 naming the parameter)."""
    raw_modes = args.get("modes")
    if raw_modes is None:
        modes = set(DEFAULT_MODES)
    else:
        names = (part.strip().upper() for part in raw_modes.split(","))
        modes = {MODE_ALIASES.get(n, n) for n in names} & set(MODES)
    raw_minutes = args.get("minutes")
    if raw_minutes is None:
        minutes = min(15, config.max_isochrone_minutes)
    elif raw_minutes.strip().isascii() and raw_minutes.strip().isdigit():
        minutes = int(raw_minutes)
    else:
        return None
    return len(modes), minutes, len(modes) * minutes


def check_isochrone_work(args, config: ApiConfig) -> None:
    """422 TOO_MUCH_WORK for an isochrone over ``max_isochrone_mode_minutes``."""
    work = isochrone_work(args, config)
    if work is None:
        return
    n_modes, minutes, mode_minutes = work
    limit = config.max_isochrone_mode_minutes
    if mode_minutes > limit:
        raise ApiError("TOO_MUCH_WORK", f"{n_modes} modes x {minutes} min = {mode_minutes} "
                       f"mode-minutes; one isochrone computes at most {limit} "
                       "(max_isochrone_mode_minutes): ask for fewer modes or fewer minutes",
                       field="minutes")


class HeavyLane:
    """A per-worker semaphore the heavy endpoints pass through (see the module docstring)."""

    def __init__(self, config: ApiConfig):
        self.config = config
        self.semaphore = threading.BoundedSemaphore(config.heavy_concurrency)

    def enter(self) -> None:
        """Before a view: bound the work, then wait for the lane (503 BUSY after the wait)."""
        if request.endpoint not in HEAVY_ENDPOINTS:
            return
        check_isochrone_work(request.args, self.config)
        wait_s = self.config.heavy_queue_wait_s
        if not self.semaphore.acquire(timeout=wait_s):
            raise ApiError("BUSY", f"the server is computing other heavy requests (isochrones) "
                           f"and none finished within {wait_s:g} s; retry shortly", status=503,
                           headers={"Retry-After": "2"})
        g.trajet_heavy_lane = True

    def leave(self, exc=None) -> None:
        if g.pop("trajet_heavy_lane", False):
            self.semaphore.release()


def _rate_limiter(app: Flask, config: ApiConfig) -> Limiter:
    limiter = Limiter(get_remote_address, app=app, storage_uri=config.rate_limit_storage,
                      default_limits=[config.rate_limit] if config.rate_limit else [],
                      headers_enabled=True, enabled=bool(config.rate_limit or config.rate_limit_heavy))

    @limiter.request_filter
    def _health_probes_are_exempt() -> bool:
        return request.path in HEALTH_PATHS

    if config.rate_limit_heavy:
        for endpoint in HEAVY_ENDPOINTS:
            view = app.view_functions[endpoint]
            app.view_functions[endpoint] = limiter.limit(config.rate_limit_heavy)(view)
    return limiter


def install(app: Flask, config: ApiConfig) -> None:
    """Rate limits, the work bound and the heavy lane on ``app`` (after its blueprints)."""
    app.extensions["trajet_limiter"] = _rate_limiter(app, config)
    lane = HeavyLane(config)
    app.extensions["trajet_heavy_lane"] = lane
    app.before_request(lane.enter)
    app.teardown_request(lane.leave)
