"""The copy ledger: what the keyring snapshot put in the OS keyring, in ``<data dir>/keyring-copies.db``.

``keyring status`` and the GUI read it to say what was copied and when; ``keyring remove`` reads
it to delete exactly those entries and nothing else. It never holds a secret: only where the
copy is (service, account, chunk count), where it came from (provider, account id, store,
credentials file), the masked fingerprint of the text copied, the backend and the time.

A copy is recorded in two steps. ``writing`` is committed just before the first write to the
keyring, with the fingerprint and chunk count of the copy being made *and* of the one it
replaces; ``copied`` once the copy was read back and verified. A copy interrupted in between (a
timeout, a crash) stays ``writing``: ``status`` shows it as incomplete and ``remove`` can still
clean up everything it may have left, because both fingerprints are known.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

from agentmux_companion.core.paths import AppPaths, ensure_private_dir

LEDGER_FILE_NAME = "keyring-copies.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS keyring_copies (
    backend              TEXT NOT NULL,   -- class path of the keyring backend
    service              TEXT NOT NULL,   -- 'agentmux'
    account              TEXT NOT NULL,   -- 'acct:<account id>'
    account_id           TEXT NOT NULL,
    provider             TEXT NOT NULL,
    store_path           TEXT NOT NULL,
    credentials_path     TEXT NOT NULL,
    backend_name         TEXT NOT NULL,
    fingerprint          TEXT NOT NULL,   -- masked: 'sha256:' + 12 hex of the text copied
    chunks               INTEGER NOT NULL, -- 0: stored whole under `account`
    previous_fingerprint TEXT NOT NULL DEFAULT '',
    previous_chunks      INTEGER NOT NULL DEFAULT 0,
    state                TEXT NOT NULL,   -- writing | copied
    copied_at_ms         INTEGER NOT NULL,
    PRIMARY KEY (backend, service, account)
);
"""

WRITING, COPIED = "writing", "copied"


class CopyRecord(NamedTuple):
    """One keyring entry (with its chunks) that the companion wrote."""

    backend: str
    service: str
    account: str
    account_id: str
    provider: str
    store_path: str
    credentials_path: str
    backend_name: str
    fingerprint: str
    chunks: int
    previous_fingerprint: str
    previous_chunks: int
    state: str
    copied_at_ms: int

    @property
    def complete(self) -> bool:
        """Whether the copy finished; a ``writing`` record is one under way or cut off part-way."""
        return self.state == COPIED

    def owns(self, fingerprint: str) -> bool:
        """Whether a value with this fingerprint is one the companion wrote for this entry."""
        return fingerprint in {self.fingerprint, self.previous_fingerprint} - {""}

    @property
    def max_chunks(self) -> int:
        """How many chunk entries this record may have left behind, at most."""
        return max(self.chunks, self.previous_chunks)

    def to_json(self) -> dict[str, Any]:
        """The record as JSON (its fingerprint is masked; the ledger never holds a secret)."""
        return {
            "backend": self.backend, "backend_name": self.backend_name, "service": self.service,
            "account": self.account, "account_id": self.account_id, "provider": self.provider,
            "store": self.store_path, "credentials_path": self.credentials_path,
            "fingerprint": self.fingerprint, "chunks": self.chunks, "state": self.state,
            "copied_at_ms": self.copied_at_ms,
        }


_COLUMNS = (
    "backend, service, account, account_id, provider, store_path, credentials_path, backend_name, "
    "fingerprint, chunks, previous_fingerprint, previous_chunks, state, copied_at_ms"
)


def ledger_path(paths: AppPaths) -> Path:
    """Where the keyring copies are recorded: apart from the migration ledger, in the data dir."""
    return paths.data_dir / LEDGER_FILE_NAME


def _open(path: Path) -> sqlite3.Connection:
    ensure_private_dir(path.parent)
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=5)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.executescript(SCHEMA)
        path.chmod(0o600)
    except BaseException:
        conn.close()
        raise
    return conn


def all_copies(path: Path) -> list[CopyRecord]:
    """Every recorded copy, oldest first; an absent ledger is an empty one (nothing is created)."""
    if not path.exists():
        return []
    with closing(_open(path)) as conn:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM keyring_copies ORDER BY copied_at_ms, rowid").fetchall()
    return [CopyRecord(*row) for row in rows]


def find(path: Path, backend: str, service: str, account: str) -> CopyRecord | None:
    """The record of the copy in ``backend`` under (service, account), or None (an absent ledger is not created)."""
    if not path.exists():
        return None
    with closing(_open(path)) as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM keyring_copies WHERE backend = ? AND service = ? AND account = ?",
            (backend, service, account),
        ).fetchone()
    return CopyRecord(*row) if row else None


def begin(path: Path, record: CopyRecord) -> None:
    """Record ``record`` in state ``writing`` (replacing this entry's earlier record)."""
    with closing(_open(path)) as conn:
        conn.execute(
            f"INSERT OR REPLACE INTO keyring_copies ({_COLUMNS}) VALUES ({', '.join('?' * 14)})",
            (record.backend, record.service, record.account, record.account_id, record.provider,
             record.store_path, record.credentials_path, record.backend_name, record.fingerprint,
             record.chunks, record.previous_fingerprint, record.previous_chunks, WRITING,
             record.copied_at_ms),
        )


def commit(path: Path, backend: str, service: str, account: str) -> None:
    """The copy was verified: mark it ``copied``; the replaced copy is gone, forget it."""
    with closing(_open(path)) as conn:
        conn.execute(
            "UPDATE keyring_copies SET state = ?, previous_fingerprint = '', previous_chunks = 0 "
            "WHERE backend = ? AND service = ? AND account = ?",
            (COPIED, backend, service, account),
        )


def forget(path: Path, backend: str, service: str, account: str) -> None:
    """The entry was removed from the keyring (or is gone): drop its record."""
    if not path.exists():
        return
    with closing(_open(path)) as conn:
        conn.execute(
            "DELETE FROM keyring_copies WHERE backend = ? AND service = ? AND account = ?",
            (backend, service, account),
        )
