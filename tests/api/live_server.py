"""A real ``trajet serve`` (gunicorn) on a free 127.0.0.1 port, for tests that need the server
itself: gunicorn's own answers, slow clients, kill -9. Runs this checkout's code."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout_s: float = 10.0) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally:
        conn.close()


class LiveServer:
    """``trajet serve BUNDLE`` in a subprocess; ``start()`` waits until every worker is ready."""

    def __init__(self, bundle: Path, log_path: Path, *, workers: int = 1, threads: int = 16,
                 env: dict | None = None, extra_args: tuple[str, ...] = ()):
        self.bundle, self.log_path = bundle, log_path
        self.workers, self.threads = workers, threads
        self.extra_args = tuple(extra_args)
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 120.0) -> LiveServer:
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the subprocess)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "serve", str(self.bundle),
             "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
             "--threads", str(self.threads), *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        in_a_row = 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"trajet serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                ok = get(self.port, "/readyz", 2.0)[0] == 200
            except OSError:
                ok = False
            in_a_row = in_a_row + 1 if ok else 0
            if in_a_row >= 4 * self.workers:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"trajet serve not ready in {timeout_s} s: {self.log_path.read_text()[-2000:]}")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill9(self) -> None:
        """SIGKILL the whole server (arbiter and workers), as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()
