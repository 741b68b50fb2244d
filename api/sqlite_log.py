"""An append-only SQLite table shared by the API's worker processes: the base of the observations
store (``api.observations``) and the recommendations store (``api.recommendations``).

One connection per process in WAL mode (readers in other workers never block the writer) with
``synchronous=NORMAL`` (durable across app crashes); a lock serialises this process's threads;
writes go in ``BEGIN IMMEDIATE`` transactions, so a check and the insert it allows see one state.
Each worker follows the table with one indexed query for the rows it has not seen
(``id > last_id``).
"""
from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path


class AppendLog:
    """A SQLite file holding ``table`` (created by ``schema`` if missing).

    Raises ``sqlite3.Error`` subclasses for a file that cannot be opened (the app reports it at
    start-up, naming the path).
    """

    def __init__(self, path: str | Path, table: str, schema: str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._table = table
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10.0,
                                     isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes
        self._conn.executescript(schema)

    @contextlib.contextmanager
    def _transaction(self):
        """This process's lock and one write transaction: committed at the end of the block,
        rolled back if it raises."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def _rows_since(self, columns: str, last_id: int) -> list[tuple]:
        """(id, *columns) of the rows with id > last_id, in id order."""
        with self._lock:
            return self._conn.execute(
                f"SELECT id, {columns} FROM {self._table} WHERE id > ? ORDER BY id",
                (int(last_id),)).fetchall()

    def count(self) -> int:
        """Rows in the table."""
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM {self._table}").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
