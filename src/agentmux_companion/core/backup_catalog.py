"""The backup catalog: one row per backup file, in the ledger's own database (``ledger.db``).

The catalog lives beside the runs it refers to, in the same private SQLite file: a backup's row
and its run's row are read together (restore, prune) and never drift apart between two files,
and the ledger's checks (a real file of the user, never a link) cover it too.

A row is written ``writing`` once the backup's partial file exists, and becomes ``ready`` after
the file passed its integrity check and got its final name. Rows still ``writing`` belong to a
run that died (or is at work, holding its partial file's lock); :func:`backup_sweep.sweep`
removes the dead ones with their files.

Identity. ``store_path`` is the store's real path when the backup was taken; ``store_identity``
is a fingerprint that survives renaming the store (its kind and its user bundles, see
:func:`backup.store_identity`); ``sha256`` is the file's own digest, which recognises the backup
wherever the user moved it.
"""

from __future__ import annotations

import datetime
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

from agentmux_companion.core.migration import ledger

SCHEMA = """
CREATE TABLE IF NOT EXISTS backup_catalog (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,   -- the backup's id (a migration's backup: its run id)
    path           TEXT NOT NULL UNIQUE,
    store_path     TEXT NOT NULL,          -- the store's real path when it was taken
    store_identity TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL,          -- migrate | undo | restore
    run_id         TEXT NOT NULL DEFAULT '',
    created_at_ms  INTEGER NOT NULL,
    bytes          INTEGER NOT NULL DEFAULT 0,
    verified       INTEGER NOT NULL DEFAULT 0,
    sha256         TEXT NOT NULL DEFAULT '',
    ledger_mark    INTEGER NOT NULL DEFAULT 0,  -- the newest run (rowid) when it was taken
    state          TEXT NOT NULL           -- writing | ready
);
CREATE INDEX IF NOT EXISTS backup_catalog_store ON backup_catalog(store_path, seq);
CREATE INDEX IF NOT EXISTS backup_catalog_sha ON backup_catalog(sha256);
"""

REASONS = ("migrate", "undo", "restore")

_WORDS = {"migrate": "Before migrating", "undo": "Before undoing", "restore": "Before restoring"}


class CatalogEntry(NamedTuple):
    """One catalogued backup.

    Attributes:
        id: the backup's own id (also in its file name).
        path: the backup file.
        store_path: the store's real path when the backup was taken.
        store_identity: the store's rename-proof fingerprint at that time.
        reason: ``migrate``, ``undo`` or ``restore``: what it was taken before.
        run_id: the migration run it belongs to ('' for a restore's safety copy).
        created_at_ms: when it was written (the real clock).
        bytes: its size.
        verified: it passed ``PRAGMA integrity_check`` right after it was written.
        sha256: the file's digest.
        ledger_mark: the newest run in the ledger when it was taken: runs after it are not in it.
        state: ``writing`` or ``ready``.
        seq: its place in the catalog (newer backups have higher numbers).
    """

    id: str
    path: str
    store_path: str
    store_identity: str
    reason: str
    run_id: str
    created_at_ms: int
    bytes: int
    verified: bool
    sha256: str
    ledger_mark: int
    state: str
    seq: int

    @property
    def created_at(self) -> str:
        """``created_at_ms`` as RFC 3339 (UTC)."""
        moment = datetime.datetime.fromtimestamp(self.created_at_ms / 1000, datetime.UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def to_json(self) -> dict[str, Any]:
        """The ``backups list --json`` form (a contract for scripts)."""
        return {
            "path": self.path, "store": self.store_path, "reason": self.reason,
            "run_id": self.run_id or None, "created_at": self.created_at, "bytes": self.bytes,
            "verified": self.verified,
        }

    def describe(self) -> str:
        """In plain words: ``Before migrating — 2 Dec 10:14 — 3.1 MB — verified``."""
        local = datetime.datetime.fromtimestamp(self.created_at_ms / 1000).astimezone()
        when = f"{local.day} {local:%b %H:%M}"
        checked = "verified" if self.verified else "not verified"
        return f"{_WORDS.get(self.reason, self.reason)} — {when} — {human_size(self.bytes)} — {checked}"


def human_size(count: int) -> str:
    """``3.1 MB``: decimal units, as file managers show them."""
    size = float(count)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def open_catalog(ledger_path: Path) -> sqlite3.Connection:
    """The catalog for writing (the ledger's database, created on first use)."""
    conn = ledger.open_ledger(ledger_path)
    # The script takes a write lock and syncs even when everything exists: only when it is missing.
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'backup_catalog'").fetchone() is None:
        conn.executescript(SCHEMA)
    return conn


_COLUMNS = ("id, path, store_path, store_identity, reason, run_id, created_at_ms, bytes, verified, sha256, "
            "ledger_mark, state, seq")


def _entry(row: tuple[Any, ...]) -> CatalogEntry:
    fields = list(row)
    fields[8] = bool(fields[8])
    return CatalogEntry(*fields)


def begin(
    ledger_path: Path, backup_id: str, path: Path, store_path: Path, reason: str, run_id: str, at_ms: int
) -> None:
    """Record a backup being written (``writing``); its partial file exists already."""
    with closing(open_catalog(ledger_path)) as conn:
        conn.execute(
            "INSERT INTO backup_catalog (id, path, store_path, reason, run_id, created_at_ms, ledger_mark, state) "
            "VALUES (?, ?, ?, ?, ?, ?, (SELECT coalesce(max(rowid), 0) FROM companion_runs), 'writing')",
            (backup_id, str(path.resolve()), str(store_path.resolve()), reason, run_id, at_ms),
        )


def finish(ledger_path: Path, backup_id: str, size: int, verified: bool, sha256: str, identity: str) -> None:
    """The backup has its final name: ``ready`` (its check's verdict follows: record_check)."""
    with closing(open_catalog(ledger_path)) as conn:
        conn.execute(
            "UPDATE backup_catalog SET bytes = ?, verified = ?, sha256 = ?, store_identity = ?, state = 'ready' "
            "WHERE id = ?",
            (size, int(verified), sha256, identity, backup_id),
        )


def record_check(ledger_path: Path, backup_id: str, verified: bool, sha256: str) -> None:
    """The integrity check's verdict and the file's digest, once known."""
    with closing(open_catalog(ledger_path)) as conn:
        conn.execute("UPDATE backup_catalog SET verified = ?, sha256 = ? WHERE id = ?",
                     (int(verified), sha256, backup_id))


def drop(ledger_path: Path, backup_id: str) -> None:
    """Forget a backup in the catalog (its file is gone or being removed); a missing entry is fine."""
    with closing(open_catalog(ledger_path)) as conn:
        conn.execute("DELETE FROM backup_catalog WHERE id = ?", (backup_id,))


def _select(ledger_path: Path, where: str, params: tuple[Any, ...]) -> list[CatalogEntry]:
    with ledger.reading(ledger_path) as conn:
        if conn is None:
            return []
        present = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'backup_catalog'").fetchone()
        if not present:
            return []
        rows = conn.execute(f"SELECT {_COLUMNS} FROM backup_catalog WHERE {where} ORDER BY seq DESC", params)
        return [_entry(r) for r in rows.fetchall()]


def entries(ledger_path: Path, store_path: Path | None = None, state: str = "ready") -> list[CatalogEntry]:
    """Catalogued backups, newest first: of one store (by real path) or of all."""
    if store_path is None:
        return _select(ledger_path, "state = ?", (state,))
    return _select(ledger_path, "state = ? AND store_path = ?", (state, str(store_path.resolve())))


def find(ledger_path: Path, path: Path | None = None, sha256: str | None = None) -> CatalogEntry | None:
    """The ready entry of the file at ``path`` (real path), else one with the digest ``sha256``."""
    if path is not None:
        found = _select(ledger_path, "state = 'ready' AND path = ?", (str(path.resolve()),))
        if found:
            return found[0]
    if sha256:
        found = _select(ledger_path, "state = 'ready' AND sha256 = ?", (sha256,))
        if found:
            return found[0]
    return None


def by_path(ledger_path: Path, path: Path) -> CatalogEntry | None:
    """The entry (any state) recorded for exactly ``path``."""
    found = _select(ledger_path, "path = ?", (str(path),))
    return found[0] if found else None
