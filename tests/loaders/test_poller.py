"""The generic poller (loaders/poller.py): file sources, a refusing handler, back-off, status."""
from __future__ import annotations

from loaders.poller import Poller, write_atomically


def test_file_source_handler_refusal_backoff_and_status(tmp_path):
    path = tmp_path / "feed.bin"
    write_atomically(path, b"one")
    got, statuses = [], []

    def handler(body: bytes) -> None:
        if body == b"bad":
            raise ValueError("not a feed")
        got.append(body)

    p = Poller(str(path), 10, handler, max_backoff_s=35, on_status=lambda s: statuses.append(s.last_error))
    assert p.poll_once() and got == [b"one"] and p.status.bytes == 3
    assert p.poll_once() and got == [b"one"]               # unchanged mtime: nothing new
    write_atomically(path, b"bad")
    assert not p.poll_once() and p.status.last_error == "refused: not a feed"
    waits = [p.next_wait_s()]
    for _ in range(3):
        p.poll_once()   # the same bad file: refused again (its mtime was never accepted)
        waits.append(p.next_wait_s())
    assert waits == [10, 20, 35, 35] and p.status.consecutive_errors == 4
    path.unlink()
    assert not p.poll_once() and "cannot be read" in p.status.last_error
    write_atomically(path, b"two")
    assert p.poll_once() and got == [b"one", b"two"] and p.next_wait_s() == 10
    assert p.status.consecutive_errors == 0 and statuses[-1] == p.status.last_error
    d = p.status.as_dict(now_utc_s=p.status.last_success_utc_s + 5)
    assert d["since_success_s"] == 5.0


def test_a_large_file_is_refused(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 100)
    p = Poller(str(path), 1, lambda body: None, max_bytes=50)
    assert not p.poll_once() and "cap" in p.status.last_error
