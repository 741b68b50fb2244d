"""Issue 17 item 6: gunicorn's own answers (414 URL too long, 431 huge headers, 400 unreadable
request) are JSON like the app's, on a real `trajet serve`; and no answer redirects to the Host."""
import json
import socket

import pytest

from tests.api.live_server import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(town_bundle, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gunicorn-errors")
    s = LiveServer(town_bundle, tmp / "serve.log",
                   env={"TRAJET_OBSERVATIONS_DB": str(tmp / "obs.sqlite")}).start()
    yield s
    s.stop()


def _raw(port: int, request: bytes) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split(" ")[1]), headers, body


@pytest.mark.parametrize("request_bytes, status, code", [
    (b"GET /api/v1/stops?near=" + b"1" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "URI_TOO_LONG"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431,
     "HEADERS_TOO_LARGE"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(200))
     + b"\r\n", 431, "HEADERS_TOO_LARGE"),
    (b"BR@KEN\r\n\r\n", 400, "BAD_REQUEST"),
])
def test_gunicorn_errors_are_json(server, request_bytes, status, code):
    got, headers, body = _raw(server.port, request_bytes)
    assert got == status
    assert headers["Content-Type"] == "application/json"
    parsed = json.loads(body)
    assert set(parsed) == {"code", "message", "field"} and parsed["code"] == code
    assert "<html>" not in body.decode("latin-1")


@pytest.mark.parametrize("path", ["//evil.example/api/v1/info", "/api//v1/info", "//api/v1/info"])
def test_no_path_redirects_to_the_host_header(server, path):
    got, headers, body = _raw(server.port, f"GET {path} HTTP/1.1\r\nHost: evil.example\r\n"
                                           "Connection: close\r\n\r\n".encode())
    assert "evil.example" not in headers.get("Location", "")
    assert got in (200, 404) and json.loads(body)
