"""The ledger: the companion's own record of every run, in ``<data dir>/ledger.db``.

For each write to a store it records what changed (rows inserted, rows updated with their
previous content, how many identity_ids were back-filled in which table) and the backup taken
inside the same transaction (which holds the back-filled rows' former identity_ids), so that
``undo`` reverses exactly that run and nothing else. It never holds a secret: accounts'
``secret_ref`` is a folder path.

A run goes through states: ``started`` (committed before the store is touched, names the
backup), ``committed`` (the store's transaction committed), ``undone``, or ``abandoned`` (it
never committed). The run's changes are committed here *before* the store's own COMMIT, while the
store's transaction is still open. Two files cannot commit atomically together, so this order is
what keeps a kill between the two commits recoverable: a ``started`` run with changes recorded is
settled later by looking for those changes in the store: ``undo.last_undoable_run`` tells
(a pure read), ``undo.settle_interrupted_runs`` records it, on the write path only, under the
store's write lock.

Reading the ledger never writes it: readers open it read-only and see no ledger when there is
none (the GUI polls while a migration runs). The file and its SQLite side files are opened only
where they are real files of the user, never through a link.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from agentmux_companion.core.contract import new_uuid4
from agentmux_companion.core.errors import CompanionFilesUnusable, UnsafePath
from agentmux_companion.core.paths import check_sqlite_files, create_private_file, ensure_private_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS companion_runs (
    id            TEXT PRIMARY KEY,
    store_path    TEXT NOT NULL,
    kind          TEXT NOT NULL,          -- 'migrate' (kept for ledgers written by 0.1.0)
    state         TEXT NOT NULL,          -- started | committed | undoing | undone | abandoned
    started_at_ms INTEGER NOT NULL,
    backup_path   TEXT NOT NULL DEFAULT '',
    changes       TEXT NOT NULL DEFAULT '{}',
    stats         TEXT NOT NULL DEFAULT '{}',
    warnings      TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS companion_runs_store ON companion_runs(store_path, started_at_ms);
"""


class RunRecord(NamedTuple):
    """One run of the ledger."""

    id: str
    store_path: str
    kind: str
    state: str
    started_at_ms: int
    backup_path: str
    changes: dict[str, Any]
    stats: dict[str, Any]
    warnings: list[str]
    seq: int = 0
    """The run's place in the ledger (its rowid): later runs have higher numbers, whatever the clock."""


def new_run_id() -> str:
    """A fresh random id for a migration or undo run."""
    return new_uuid4()


def open_ledger(path: Path) -> sqlite3.Connection:
    """Open the ledger for writing (created 0600 in a 0700 folder on first use, never through a link).

    Raises:
        CompanionFilesUnusable: the file is not a database (or not one the companion can use).
        UnsafePath: a link or another user's file is where the ledger (or its side files) goes.
    """
    ensure_private_dir(path.parent)
    check_sqlite_files(path, "ledger")
    if not path.exists():
        try:
            os.close(create_private_file(path))
        except UnsafePath:
            if path.is_symlink() or not path.is_file():
                raise  # a link appeared in the meantime; a file means another run created it
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=5)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        # The schema script takes a write lock and syncs even when everything exists: only on a
        # new file (every run opens the ledger several times, inside AgentMux's lock window).
        exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'companion_runs'"
        if conn.execute(exists).fetchone() is None:
            conn.executescript(SCHEMA)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower():
            raise
        raise CompanionFilesUnusable(
            f"the companion's ledger {path} cannot be used ({exc}); it records past runs so that they can be "
            "undone: move it aside (keep it if you may want to undo an earlier run) and run again. "
            "Nothing was written"
        ) from exc
    return conn


@contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection to the ledger, or None when there is no ledger (yet).

    A ledger left with a hot journal by a killed writer cannot be read without rolling that
    journal back, which is a write: only then is it opened for writing, as SQLite requires.
    """
    if not path.exists():
        yield None
        return
    check_sqlite_files(path, "ledger")
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc).lower() and "read-only" not in str(exc).lower():
                raise
            conn.close()
            conn = open_ledger(path)
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        yield conn if "companion_runs" in names else None
    finally:
        conn.close()


def start_run(
    ledger_path: Path, run_id: str, store_path: Path, kind: str, at_ms: int, backup: os.PathLike[str]
) -> None:
    """Record a run as ``started`` before it writes anything, with the backup it took.

    Args:
        ledger_path: The companion's ledger database.
        run_id: The new run's id (:func:`new_run_id`).
        store_path: The store the run writes; recorded resolved, so runs of one store are found by it.
        kind: What the run does (``migrate``).
        at_ms: When it started, in Unix milliseconds.
        backup: The backup taken before the run writes.
    """
    with closing(open_ledger(ledger_path)) as conn:
        conn.execute(
            "INSERT INTO companion_runs (id, store_path, kind, state, started_at_ms, backup_path) "
            "VALUES (?, ?, ?, 'started', ?, ?)",
            (run_id, str(store_path.resolve()), kind, at_ms, os.fspath(backup)),
        )


def record_changes(
    ledger_path: Path, run_id: str, changes: dict[str, Any], stats: dict[str, Any], warnings: list[str]
) -> None:
    """Record what a run is about to commit to its store (see the module docstring)."""
    with closing(open_ledger(ledger_path)) as conn:
        conn.execute(
            "UPDATE companion_runs SET changes = ?, stats = ?, warnings = ? WHERE id = ?",
            (json.dumps(changes), json.dumps(stats), json.dumps(warnings), run_id),
        )


def set_state(ledger_path: Path, run_id: str, state: str) -> None:
    """Move a run to ``state`` (``committed``, ``undoing``, ``undone``, ...); commits at once."""
    with closing(open_ledger(ledger_path)) as conn:
        conn.execute("UPDATE companion_runs SET state = ? WHERE id = ?", (state, run_id))


def state_of(ledger_path: Path, run_id: str) -> str | None:
    """The recorded state of a run, or None when the ledger does not know it (or does not exist)."""
    with reading(ledger_path) as conn:
        row = conn.execute("SELECT state FROM companion_runs WHERE id = ?", (run_id,)).fetchone() if conn else None
    return str(row[0]) if row else None


def _record(row: tuple[Any, ...]) -> RunRecord:
    return RunRecord(
        id=row[0], store_path=row[1], kind=row[2], state=row[3], started_at_ms=row[4],
        backup_path=row[5], changes=json.loads(row[6]), stats=json.loads(row[7]),
        warnings=json.loads(row[8]), seq=row[9],
    )


_COLUMNS = "id, store_path, kind, state, started_at_ms, backup_path, changes, stats, warnings, rowid"


def runs_for_store(ledger_path: Path, store_path: Path) -> list[RunRecord]:
    """All runs of a store, newest first."""
    with reading(ledger_path) as conn:
        if conn is None:
            return []
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM companion_runs WHERE store_path = ? "
            "ORDER BY started_at_ms DESC, rowid DESC",
            (str(store_path.resolve()),),
        ).fetchall()
    return [_record(r) for r in rows]


def all_runs(ledger_path: Path) -> list[RunRecord]:
    """Every run the ledger holds, of every store, newest first; empty when there is no ledger yet."""
    with reading(ledger_path) as conn:
        if conn is None:
            return []
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM companion_runs ORDER BY started_at_ms DESC, rowid DESC"
        ).fetchall()
    return [_record(r) for r in rows]
