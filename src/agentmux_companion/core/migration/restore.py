"""Restoring a store from one of its backups: the last resort of ``undo --from-backup``.

Everything happens under one write lock: AgentMux's ``migrations.lock.db`` when present, and one
``BEGIN IMMEDIATE`` transaction on the store. Inside it the backup is checked (it passes
``PRAGMA integrity_check``, it is a backup of *this* store, its schema is the store's), a safety
copy of the store is taken (catalogued as ``restore``), and the store's content is replaced by
the backup's, table by table, before one COMMIT. A kill at any instant leaves the store as it was
or wholly restored; nothing AgentMux writes can slip in between the check and the restore.

Which runs it takes back: a backup records the newest run in the ledger when it was taken. The
runs after that mark (and a migration's own run, whose backup precedes its changes) are marked
undone; older runs are left as they are, so they can still be undone precisely. Restoring an
undo's safety copy brings back the run that undo had reversed: it is marked committed again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

from agentmux_companion.core import backup as bk
from agentmux_companion.core import backup_catalog as catalog
from agentmux_companion.core import store as st
from agentmux_companion.core.errors import StoreBusy, StoreRefused, UndoRefused
from agentmux_companion.core.migration import ledger
from agentmux_companion.core.paths import AppPaths

#: Called inside the restore's transaction to settle interrupted runs (see undo.py).
Settle = Callable[[sqlite3.Connection], None]
#: Whether a run's changes are in the store the connection reads (see undo.py).
Evidence = Callable[[sqlite3.Connection, ledger.RunRecord], bool]


class Restored(NamedTuple):
    """What a restore did.

    Attributes:
        backup: the file restored.
        safety_backup: the copy of the store taken just before.
        runs_undone: ids of the runs the restore took back.
        runs_recommitted: ids of runs whose changes the restore brought back.
    """

    backup: Path
    safety_backup: Path
    runs_undone: tuple[str, ...]
    runs_recommitted: tuple[str, ...]


def last_run_backup(paths: AppPaths, store_path: Path) -> Path:
    """The pre-migration backup of the store's last migration (never a safety copy).

    Raises:
        UndoRefused: no migration of the store is recorded, or its backup is gone.
    """
    for run in ledger.runs_for_store(paths.ledger_path, store_path):
        if run.kind != "migrate" or run.state == "abandoned" or (run.state == "started" and not run.stats):
            continue
        for entry in catalog.entries(paths.ledger_path, store_path):
            if entry.reason == "migrate" and entry.run_id == run.id and Path(entry.path).is_file():
                return Path(entry.path)
        if run.backup_path and Path(run.backup_path).is_file():  # recorded before the catalog existed
            return Path(run.backup_path)
        raise UndoRefused(
            f"the backup taken before the last migration of {store_path} ({run.backup_path}) is gone. "
            "Nothing was restored; pick another one with: undo --from-backup FILE (see: backups list)"
        )
    raise UndoRefused(
        f"no migration of {store_path} by the companion is recorded, so there is no pre-migration "
        "backup to restore. Name one with: undo --from-backup FILE (see: backups list)"
    )


def restore_store(
    paths: AppPaths,
    store_path: Path,
    backup: Path,
    settle: Settle,
    evidence: Evidence,
    busy_timeout_ms: int = st.BUSY_TIMEOUT_MS,
) -> Restored:
    """Replace the store's content with the backup's, after checking it, under one write lock.

    Raises:
        UndoRefused: the backup fails its integrity check, is not of this store, or its schema
            is not the store's (nothing written).
        StoreRefused: the store cannot be written; StoreBusy: it stayed locked.
    """
    if not backup.is_file():
        raise UndoRefused(f"{backup} does not exist (or is not a file); nothing was restored")
    if not store_path.is_file():
        raise StoreRefused(f"no store at {store_path}; nothing was restored")
    refusal = st.write_refusal(store_path)
    if refusal:
        raise StoreRefused(refusal)
    # The whole integrity check reads only the backup file: done before taking AgentMux's store,
    # and under the lock the file's digest proves it is still that same content.
    digest = _sound_backup_digest(backup)
    safety = bk.plan_backup(paths, store_path, "restore")
    try:
        with st.migrations_lock(store_path, busy_timeout_ms), closing(
            st.open_for_write(store_path, busy_timeout_ms)
        ) as conn:
            conn.execute("PRAGMA foreign_keys = OFF")  # rows go in table by table; checked before COMMIT
            conn.execute("BEGIN IMMEDIATE")
            undone: list[str] = []
            recommitted: list[str] = []
            try:
                settle(conn)
                entry = _check_backup(paths, conn, store_path, backup, digest)
                safety.write(store_path)
                _replace_content(conn, backup)
                safety.wait_verified()
                undone, recommitted = _runs_taken_back(paths, conn, store_path, entry, evidence)
                # As in apply and undo, the ledger commits first: a kill before the store's COMMIT
                # leaves these runs 'undoing', which is settled later by looking at the store.
                for run_id in undone:
                    ledger.set_state(paths.ledger_path, run_id, "undoing")
            except BaseException:
                conn.execute("ROLLBACK")
                safety.discard()
                for run_id in undone:
                    ledger.set_state(paths.ledger_path, run_id, "committed")
                raise
            conn.execute("COMMIT")
        for run_id in undone:
            ledger.set_state(paths.ledger_path, run_id, "undone")
        for run_id in recommitted:
            ledger.set_state(paths.ledger_path, run_id, "committed")
    except sqlite3.OperationalError as exc:
        if st.is_busy_error(exc):
            raise StoreBusy(f"{store_path} is busy; nothing was restored. Close AgentMux and try again") from exc
        raise
    return Restored(backup, safety.path, tuple(undone), tuple(recommitted))


def _sound_backup_digest(backup: Path) -> str:
    """The backup's SHA-256, after ``PRAGMA integrity_check`` said ok (else UndoRefused)."""
    problem = bk.integrity_problem(backup)
    if problem:
        raise UndoRefused(
            f"{backup} fails SQLite's integrity check ({problem}); restoring it would damage the store, "
            "so nothing was changed. Pick another backup (see: backups list)"
        )
    return bk.file_sha256(backup)


def _check_backup(
    paths: AppPaths, conn: sqlite3.Connection, store_path: Path, backup: Path, checked_digest: str
) -> catalog.CatalogEntry | None:
    """Refuse (UndoRefused) a changed backup, another store's, or one of another schema."""
    digest = bk.file_sha256(backup)
    if digest != checked_digest:
        raise UndoRefused(f"{backup} changed while it was being checked; nothing was restored")
    entry = catalog.find(paths.ledger_path, backup, digest)
    store_real = str(store_path.resolve())
    if entry is not None:
        if entry.sha256 and entry.sha256 != digest:
            raise UndoRefused(f"{backup} changed since the companion wrote it; nothing was restored")
        renamed = not Path(entry.store_path).exists() and entry.store_identity == bk.store_identity(store_path)
        if entry.store_path != store_real and not renamed:
            raise UndoRefused(
                f"{backup} is not a backup of {store_path}: it is a backup of {entry.store_path}. Restoring "
                "it would replace this store's bundles with that one's, so nothing was changed"
            )
    elif bk.store_identity(backup) != bk.store_identity(store_path):
        raise UndoRefused(
            f"{backup} is not a backup of {store_path}: the companion has no record of it, and its bundles "
            "are not this store's. Restoring it would replace them, so nothing was changed"
        )
    _check_schema(conn, backup)
    return entry


def _schema(conn: sqlite3.Connection, schema: str) -> tuple[list[tuple[str, str, str]], int]:
    rows = conn.execute(
        f"SELECT type, name, sql FROM {schema}.sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1, 2"
    ).fetchall()
    return rows, int(conn.execute(f"PRAGMA {schema}.user_version").fetchone()[0])


def _check_schema(conn: sqlite3.Connection, backup: Path) -> None:
    store_rows, store_version = _schema(conn, "main")
    with closing(st.open_readonly(backup)) as source:
        backup_rows, backup_version = _schema(source, "main")
    if (backup_rows, backup_version) == (store_rows, store_version):
        return
    if backup_version < store_version or set(backup_rows) < set(store_rows) or len(backup_rows) < len(store_rows):
        raise UndoRefused(
            f"{backup} is older than the store's schema (AgentMux upgraded the store since: user_version "
            f"{backup_version} in the backup, {store_version} now). Restoring it would downgrade what "
            "AgentMux upgraded, so nothing was changed"
        )
    raise UndoRefused(
        f"{backup} has another schema than the store (user_version {backup_version} in the backup, "
        f"{store_version} now); restoring it could downgrade the store, so nothing was changed"
    )


def _replace_content(conn: sqlite3.Connection, backup: Path) -> None:
    """Inside the open transaction: every table's rows become the backup's (same schema)."""
    uri = st.readonly_uri(backup)
    if not any(backup.with_name(backup.name + side).exists() for side in ("-wal", "-journal")):
        uri += "&immutable=1"  # nothing writes it: read the file alone, create nothing beside it
    conn.execute("ATTACH DATABASE ? AS restored", (uri,))
    tables = [
        (name, sql or "") for name, sql in conn.execute(
            "SELECT name, sql FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for name, sql in tables:
        columns = [row[1] for row in conn.execute(f'PRAGMA main.table_info("{name}")')]
        keep_rowid = "WITHOUT ROWID" not in sql.upper()
        listed = ", ".join(f'"{c}"' for c in columns)
        if keep_rowid:
            listed = "rowid, " + listed
        conn.execute(f'DELETE FROM main."{name}"')
        conn.execute(f'INSERT INTO main."{name}" ({listed}) SELECT {listed} FROM restored."{name}"')
    has_sequence = conn.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'sqlite_sequence'").fetchone()
    if has_sequence:
        conn.execute("DELETE FROM main.sqlite_sequence")
        conn.execute("INSERT INTO main.sqlite_sequence SELECT * FROM restored.sqlite_sequence")
    problems = conn.execute("PRAGMA main.foreign_key_check").fetchall()
    if problems:
        raise UndoRefused(
            f"{backup} holds {len(problems)} broken reference(s); restoring it would leave the store "
            "inconsistent, so nothing was changed"
        )


def _runs_taken_back(
    paths: AppPaths,
    conn: sqlite3.Connection,
    store_path: Path,
    entry: catalog.CatalogEntry | None,
    evidence: Evidence,
) -> tuple[list[str], list[str]]:
    """The runs the restore takes back, and the runs it brings back.

    Taken back: committed now, not in the backup. Brought back: undone now, in the backup. Read
    inside the restore's transaction.
    """
    undone: list[str] = []
    recommitted: list[str] = []
    for run in ledger.runs_for_store(paths.ledger_path, store_path):
        if run.kind != "migrate" or run.state not in ("committed", "undone"):
            continue
        if entry is None:
            # A backup from outside the catalog: the restored content itself says which runs are in it.
            in_store = evidence(conn, run)
        elif entry.reason == "migrate" and run.id == entry.run_id:
            in_store = False
        elif entry.reason == "undo" and run.id == entry.run_id:
            in_store = True
        elif run.seq > entry.ledger_mark:
            in_store = False
        else:
            continue
        if in_store and run.state == "undone":
            recommitted.append(run.id)
        elif not in_store and run.state == "committed":
            undone.append(run.id)
    return undone, recommitted


def runs_taken_back(paths: AppPaths, entry: catalog.CatalogEntry) -> list[ledger.RunRecord]:
    """The migration runs restoring ``entry`` would mark undone, as the ledger says now (a read).

    For the confirmation a person sees before restoring; the restore itself decides again under
    its lock.
    """
    taken: list[ledger.RunRecord] = []
    for run in ledger.runs_for_store(paths.ledger_path, Path(entry.store_path)):
        if run.kind != "migrate" or run.state != "committed":
            continue
        if (entry.reason == "migrate" and run.id == entry.run_id) or (
            run.seq > entry.ledger_mark and not (entry.reason == "undo" and run.id == entry.run_id)
        ):
            taken.append(run)
    return taken
