"""Opening a store the way AgentMux does, read-only or to write, and AgentMux's migration lock."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: AgentMux's own connection settings (docs/agentmux-store.md §2); the companion uses the same.
BUSY_TIMEOUT_MS = 5000
LOCK_FILE_NAME = "migrations.lock.db"


# --------------------------------------------------------------------------------------------
# Opening


def readonly_uri(path: Path) -> str:
    """A ``file:`` URI that opens ``path`` read-only (for connect and ATTACH)."""
    return path.resolve().as_uri() + "?mode=ro"


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection: inspection and planning never write, not even a journal mode.

    A plain ``mode=ro`` connection to a WAL-mode store creates ``-wal`` and ``-shm`` files beside
    it and leaves them there when it closes (and cannot open at all in a read-only folder). When
    neither a ``-wal`` nor a ``-journal`` file exists, no connection has the store open for
    writing and the file alone holds its whole content, so it is read as ``immutable``: nothing
    is created beside it. Decisions are re-read inside apply's write transaction anyway.
    """
    uri = readonly_uri(path)
    if not any(path.with_name(path.name + suffix).exists() for suffix in ("-wal", "-journal")):
        uri += "&immutable=1"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def open_for_write(path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """A connection configured as AgentMux configures its own (WAL, busy timeout, foreign keys).

    The connection is in manual-transaction mode (``isolation_level=None``) so the caller issues
    ``BEGIN IMMEDIATE`` itself. It is opened by URI so that it can ATTACH files read-only.
    """
    conn = sqlite3.connect(path.resolve().as_uri(), uri=True, timeout=busy_timeout_ms / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
    except BaseException:
        conn.close()
        raise
    return conn


def fetch_row(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], key: str, value: str
) -> dict[str, Any] | None:
    """One row as a column → value dict (``key`` is the table's primary key), or None."""
    found = conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {key} = ?", (value,)).fetchone()
    return dict(zip(columns, found, strict=True)) if found else None


def is_busy_error(exc: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for a lock (``database is locked`` / ``busy``)."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextmanager
def migrations_lock(store_path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Iterator[bool]:
    """Hold AgentMux's ``migrations.lock.db`` (when it exists) the way its runner does.

    Yields True when a lock file was present and is now held. Raises ``sqlite3.OperationalError``
    ("database is locked") when AgentMux holds it past the busy timeout.
    """
    lock_path = store_path.parent / LOCK_FILE_NAME
    if not lock_path.is_file():
        yield False
        return
    conn = sqlite3.connect(str(lock_path), timeout=busy_timeout_ms / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield True
        finally:
            conn.execute("ROLLBACK")
    finally:
        conn.close()

