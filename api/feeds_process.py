"""The live-feeds process ``trajet serve`` runs beside gunicorn: ``python -m api.feeds_process``.

It reads the same ``TRAJET_*`` settings as the workers, loads only the bundle's parking
facilities (:func:`loaders.bundle.load_parking`), opens its own connection to the observations
database and runs :class:`api.feeds.FeedRunner` until it is told to stop (SIGTERM, SIGINT) or its
parent (the gunicorn master) is gone. Why a process of its own and not a thread of the master:
the master forks workers for as long as it runs, and an SQLite connection (or a thread inside
SQLite's mutex) must not cross a fork. The workers read what it stores on their next request.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

PARENT_CHECK_S = 1.0
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    from api.config import ConfigError, load_config
    from api.feeds import start_feeds
    from loaders.bundle import BundleError, load_parking

    logging.basicConfig(level=logging.INFO, format="[feeds] %(message)s")
    log = logging.getLogger("trajet.api")
    try:
        config = load_config()
        parking, timezone = load_parking(config.bundle_dir, verify=config.verify_bundle)
        runner = start_feeds(config, parking, timezone)
    except (ConfigError, BundleError, OSError, ValueError) as exc:
        log.error("trajet: the live feeds cannot start: %s", exc)
        return 2
    if runner is None:
        return 0
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    parent = os.getppid()
    while not stop.wait(PARENT_CHECK_S):
        if os.getppid() != parent:   # the master died without stopping us
            break
    runner.stop(timeout_s=2.0)
    return 0


def spawn() -> subprocess.Popen:
    """Start the feeds process (this checkout's code, the current ``TRAJET_*`` environment)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-m", "api.feeds_process"], env=env, cwd=PROJECT_ROOT)


def stop(proc: subprocess.Popen | None, timeout_s: float = 5.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout_s)


if __name__ == "__main__":
    sys.exit(main())
