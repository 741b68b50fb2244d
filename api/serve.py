"""``trajet serve``: the API and demo page under gunicorn (never Flask's development server).

Each worker process builds its own app with :func:`api.app.create_app` (the bundle's arrays are
memory-mapped, so workers share the pages) and loads the network in the background. The worker
class is :class:`api.gunicorn_worker.JsonErrorWorker` (gthread whose own error answers are JSON);
each worker serves ``threads`` connections at once (32 by default: a slow-header client holds one
while it trickles, so many are kept), while the computations run on the app's compute pool.
The settings reach the workers as ``TRAJET_*`` environment variables, the same ones
``api/wsgi.py`` reads under any other WSGI server.
"""
from __future__ import annotations

import os
from pathlib import Path

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    def __init__(self, options: dict):
        self._options = options
        super().__init__()

    def load_config(self):
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        from api.app import create_app

        return create_app()


def _start_realtime_pollers(server) -> None:
    from api.config import load_config
    from api.realtime import start_pollers

    server._trajet_pollers = start_pollers(load_config())


def _ready_hook(realtime: bool):
    """gunicorn's when_ready: the feeds process, and the real-time pollers when configured."""
    def when_ready(server) -> None:
        from api.feeds_process import spawn

        server._trajet_feeds = spawn()
        if realtime:
            _start_realtime_pollers(server)
    return when_ready


def _stop_feeds_process(server) -> None:
    from api.feeds_process import stop

    stop(getattr(server, "_trajet_feeds", None))


WORKER_CLASS = "api.gunicorn_worker.JsonErrorWorker"
LIMIT_REQUEST_LINE = 8190        # bytes of "GET /url HTTP/1.1"; longer: 414 (JSON)
LIMIT_REQUEST_FIELDS = 100       # headers; more: 431 (JSON)
LIMIT_REQUEST_FIELD_SIZE = 8190  # bytes of one header; longer: 431 (JSON)


def serve(bundle_dir: str | Path, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 2,
          threads: int = 32, timeout_s: int | None = None, access_log: bool = False,
          settings: dict | None = None) -> None:
    """Serve ``bundle_dir`` on http://host:port until interrupted.

    ``settings`` are extra :class:`api.config.ApiConfig` fields (passed as ``TRAJET_*``
    variables). The gunicorn worker timeout defaults to the request time budget plus 20 s.
    """
    from api.config import load_config

    os.environ["TRAJET_BUNDLE_DIR"] = str(Path(bundle_dir).resolve())
    for key, value in (settings or {}).items():
        os.environ[f"TRAJET_{key.upper()}"] = str(value)
    config = load_config()  # fail here, once, on a bad setting rather than in every worker
    options = {
        "bind": f"{host}:{port}", "workers": workers, "threads": threads,
        "worker_class": WORKER_CLASS, "timeout": timeout_s or int(config.request_time_budget_s) + 20,
        "graceful_timeout": 10, "keepalive": 5, "accesslog": "-" if access_log else None,
        "errorlog": "-", "loglevel": "info", "proc_name": "trajet",
        "limit_request_line": LIMIT_REQUEST_LINE, "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE, "preload_app": False,
        "control_socket_disable": True,  # several servers (tests, bench) may run side by side
    }
    realtime = bool(config.realtime_feeds and not config.realtime_poll_in_app)
    if realtime:
        # the real-time pollers run in the master, started before the workers fork (threads do
        # not survive a fork): one poller per feed however many workers read the files
        options["when_ready"] = _start_realtime_pollers
    if config.feeds and not config.feeds_poll_in_app:
        # the live occupancy feeds write to SQLite: a process of their own (api.feeds_process)
        options["when_ready"] = _ready_hook(realtime)
        options["on_exit"] = _stop_feeds_process
    _Server(options).run()
