"""Polling a GBFS system file by file (loaders/live_feeds/gbfs_poller.py) over real HTTP: a v3.0
system discovered from its gbfs.json, each file asked again only after its ttl, revalidated
(304 on If-Modified-Since), and a file that turns to HTML keeping the last good body."""
from __future__ import annotations

import functools
import http.server
import threading
import time

from loaders.live_feeds.gbfs_poller import GbfsPoller
from tests.loaders.test_gbfs import _write, v3_system  # noqa: F401 (a fixture)


def _serve(folder):
    hits: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

    handler = functools.partial(Handler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}", hits


def test_a_v3_system_is_polled_within_its_ttl_and_revalidated(v3_system):  # noqa: F811
    httpd, url, hits = _serve(v3_system)
    fetched = []
    try:
        poller = GbfsPoller(url + "/gbfs.json", 0.2, lambda bodies, listed: fetched.append((bodies, listed)))
        assert poller.poll_once()
        bodies, listed = fetched[0]
        assert set(bodies) == {"gbfs", "system_information", "station_information", "station_status",
                               "vehicle_types", "vehicle_status"}
        assert listed["station_status"] == url + "/station_status.json"
        assert poller.ttl_s() == 30 and poller.effective_every_s() == 30
        n = len(hits)
        assert poller.poll_once() and len(hits) == n      # nothing due before the ttl
        assert 29 < poller.next_wait_s() <= 30
        poller._due.clear()                               # as if 30 s had passed
        assert poller.poll_once() and len(hits) == 2 * n and len(fetched) == 1   # all 304
        time.sleep(1.1)   # Last-Modified has whole seconds
        (v3_system / "station_status.json").write_text("<html>maintenance</html>")
        poller._due.clear()
        assert not poller.poll_once() and "station_status" in poller.status.last_error
        assert poller.bodies["station_status"] == bodies["station_status"] and len(fetched) == 1
        _write(v3_system, "station_status", {"stations": []})
        poller._due.clear()
        assert poller.poll_once() and len(fetched) == 2 and poller.status.consecutive_errors == 0
    finally:
        httpd.shutdown()
