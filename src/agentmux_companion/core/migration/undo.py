"""Undo: reverse exactly what one migration run changed, or restore its backup.

Precise undo reads the run's record in the ledger and reverses it in one ``BEGIN IMMEDIATE``
transaction, after checking that every row it would touch still holds what the run wrote. If
AgentMux (or the user) changed one of them since, it refuses with a clear message and writes
nothing: the backup (``undo --from-backup``) remains the last resort.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from agentmux_companion.core import store as st
from agentmux_companion.core.backup import PlannedBackup, backup_store, plan_backup
from agentmux_companion.core.contract import ACCOUNT_COLUMNS, DEFAULT_BUNDLE_ID
from agentmux_companion.core.errors import StoreBusy, StoreRefused, UndoRefused, known_error
from agentmux_companion.core.migration import isolation, ledger, undo_checks
from agentmux_companion.core.migration.results import UndoResult
from agentmux_companion.core.migration.settle import evidence_of_commit, settle_interrupted_runs
from agentmux_companion.core.paths import AppPaths


def _interrupted(run: ledger.RunRecord) -> bool:
    """Killed around a COMMIT: the ledger's part committed, the store's may or may not have."""
    return run.kind == "migrate" and (run.state == "undoing" or (run.state == "started" and bool(run.stats)))


def _settled_state(conn: sqlite3.Connection, accounts: str, run: ledger.RunRecord) -> str:
    in_store = evidence_of_commit(conn, accounts, run)
    return "committed" if in_store else "undone" if run.state == "undoing" else "abandoned"


def last_undoable_run(paths: AppPaths, store_path: Path) -> ledger.RunRecord | None:
    """The newest migration run of a store that has not been undone. A pure read.

    A run left ``started`` with its changes recorded was killed around its COMMIT, and one left
    ``undoing`` around its undo's COMMIT: the ledger's part committed, and the store's may or may
    not have. The store tells which (its COMMIT is atomic, so one recorded change present means
    all are), and the run is reported accordingly; recording that in the ledger is left to the
    write path (:func:`settle_interrupted_runs`, under the store's write lock), so the GUI can ask
    this while a migration runs.
    """
    for run in ledger.runs_for_store(paths.ledger_path, store_path):
        if run.kind != "migrate":
            continue
        if _interrupted(run):
            inspection = st.inspect_store(store_path)
            if not inspection.era.migratable:
                continue  # the store cannot tell now; settle the run when it can
            with closing(st.open_readonly(store_path)) as conn:
                settled = _settled_state(conn, inspection.accounts_table, run)
            if settled == "committed":
                return run._replace(state="committed")
            continue
        if run.state == "committed":
            return run
    return None


def undo_last(
    paths: AppPaths,
    store_path: Path,
    busy_timeout_ms: int = st.BUSY_TIMEOUT_MS,
    progress: Callable[[str], None] | None = None,
) -> UndoResult:
    """Reverse the last migration of ``store_path`` precisely.

    Args:
        paths: Where the companion keeps its ledger and backups.
        store_path: The AgentMux store whose last migration to reverse.
        busy_timeout_ms: How long to wait for AgentMux to release the store's write lock.
        progress: Called with a short phrase ("Backing up", "Reverting") as the undo goes on.

    Returns:
        What was reverted, the safety backup taken first, and any warnings.

    Raises:
        UndoRefused: no run to undo, or rows changed since (nothing written).
        StoreRefused: the store cannot be read or written safely (nothing written).
        StoreBusy: the store stayed locked past the busy timeout (nothing written).
    """
    say = progress or (lambda _m: None)
    run = last_undoable_run(paths, store_path)
    if run is None:
        raise _nothing_to_undo(paths, store_path)
    inspection = st.inspect_store(store_path)
    if inspection.refusal:
        raise StoreRefused(inspection.refusal)
    refusal = st.write_refusal(store_path)
    if refusal:
        raise StoreRefused(refusal)
    needs_backup = _require_sound_backup(run)
    safety = plan_backup(paths, store_path, "undo", run.id)
    with _known_undo_errors(store_path):
        reverted, warnings = _reverse_under_lock(
            paths, store_path, inspection, run, safety, say, needs_backup, busy_timeout_ms
        )
    ledger.set_state(paths.ledger_path, run.id, "undone")
    # The store no longer points at the copies this run made: take them away (after the COMMIT, so
    # a kill in between leaves an undone run whose files the next write settles), and those of
    # runs that never committed.
    warnings += isolation.remove_run_files(paths.ledger_path, run.id)
    # (Only final runs: the store's lock is released now, so another run may be under way.)
    warnings += isolation.settle_finished_runs(paths.ledger_path)
    return UndoResult(store_path, run.id, "precise", reverted, str(safety), warnings=tuple(warnings))


def _nothing_to_undo(paths: AppPaths, store_path: Path) -> UndoRefused:
    """The refusal when no run can be undone, pointing at an interrupted run's backup if one exists."""
    interrupted = next(
        (r for r in ledger.runs_for_store(paths.ledger_path, store_path) if r.state == "started"),
        None,
    )
    hint = ""
    if interrupted and Path(interrupted.backup_path).exists():
        hint = (
            f" A run was interrupted while committing; if it changed the store, restore its "
            f"backup with: undo --from-backup {interrupted.backup_path}"
        )
    return UndoRefused(f"no migration of {store_path} to undo.{hint}")


def _require_sound_backup(run: ledger.RunRecord) -> bool:
    """Whether the undo reads the run's backup, refusing when it must and the backup is gone or damaged.

    The backup is the only record of which agent rows the run back-filled to the Default bundle.
    """
    if not any(run.changes.get("backfilled", {}).values()):
        return False
    if not Path(run.backup_path).is_file():
        raise UndoRefused(
            f"the backup this migration took ({run.backup_path}) is gone; it is what tells which agent "
            "rows the migration back-filled, so nothing was undone"
        )
    damage = _backup_damage(Path(run.backup_path))
    if damage:
        raise UndoRefused(
            f"the backup this migration took ({run.backup_path}) is damaged ({damage}); it is what tells which "
            "agent rows the migration back-filled, so nothing was undone. Restore an older backup with "
            "'undo --from-backup FILE', or keep the migration"
        )
    return True


@contextmanager
def _known_undo_errors(store_path: Path) -> Iterator[None]:
    """Turn a busy store and known SQLite/OS failures of the undo into the tool's typed errors."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if st.is_busy_error(exc):
            raise StoreBusy(
                f"{store_path} is busy: another program (probably AgentMux) kept it locked. "
                "Nothing was undone; close AgentMux and try again"
            ) from exc
        known = known_error(exc, f"the undo of {store_path}")
        if known is None:
            raise
        raise known from exc
    except (OSError, sqlite3.DatabaseError) as exc:
        known = known_error(exc, f"the undo of {store_path}")
        if known is None:
            raise
        raise known from exc


def _reverse_under_lock(
    paths: AppPaths,
    store_path: Path,
    inspection: st.StoreInspection,
    run: ledger.RunRecord,
    safety: PlannedBackup,
    say: Callable[[str], None],
    needs_backup: bool,
    busy_timeout_ms: int,
) -> tuple[dict[str, int], list[str]]:
    """Take the store's write lock and reverse ``run`` in one ``BEGIN IMMEDIATE`` transaction.

    On any failure the transaction rolls back, the safety copy is removed and the run goes back
    to ``committed`` in the ledger, so nothing is left half-undone.
    """
    with st.migrations_lock(store_path, busy_timeout_ms), closing(
        st.open_for_write(store_path, busy_timeout_ms)
    ) as conn:
        if needs_backup or (
            run.changes.get("bundle_inserted") and Path(run.backup_path).is_file()
        ):
            # The run's backup holds the back-filled rows as they were (see apply.backfill), and
            # the rows that already named 'default' before the run created that bundle.
            conn.execute("ATTACH DATABASE ? AS snapshot", (st.readonly_uri(Path(run.backup_path)),))
        conn.execute("BEGIN IMMEDIATE")
        try:
            settle_interrupted_runs(paths.ledger_path, store_path, conn, inspection.accounts_table)
            reverted, warnings = _reverse(conn, store_path, inspection, run, safety, say)
            safety.wait_verified()  # the safety copy's quick_check ran beside the writes
            # As in apply, the ledger commits first; a kill before the store's COMMIT leaves
            # the run 'undoing', which last_undoable_run settles by looking at the store.
            ledger.set_state(paths.ledger_path, run.id, "undoing")
        except BaseException:
            conn.execute("ROLLBACK")
            safety.unlink(missing_ok=True)
            if ledger.state_of(paths.ledger_path, run.id) == "undoing":
                ledger.set_state(paths.ledger_path, run.id, "committed")
            raise
        conn.execute("COMMIT")
    return reverted, warnings


def _backup_damage(backup: Path) -> str | None:
    """Why a backup cannot be read as a whole (``quick_check``), or None when it is sound."""
    try:
        with closing(st.open_readonly(backup)) as conn:
            result = str(conn.execute("PRAGMA quick_check").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if result == "ok" else result


def _reverse(
    conn: sqlite3.Connection,
    store_path: Path,
    inspection: st.StoreInspection,
    run: ledger.RunRecord,
    safety: PlannedBackup,
    say: Callable[[str], None],
) -> tuple[dict[str, int], list[str]]:
    """Check that every row the run wrote still holds what it wrote, then put the old values back.

    Runs inside the caller's transaction; refuses (raising) before writing anything when a row changed.
    """
    accounts = inspection.accounts_table
    changes = run.changes
    backfilled_tables = [t for t, n in changes.get("backfilled", {}).items() if n]

    # Check first: every row the run wrote must still hold what it wrote.
    conflicts = undo_checks.binding_and_account_conflicts(conn, accounts, changes)
    undo_checks.collect_backfilled_rows(conn, run, backfilled_tables)
    conflicts += undo_checks.moved_row_conflicts(conn, backfilled_tables)
    bundle = changes.get("bundle_inserted")
    if bundle:
        conflicts += undo_checks.default_bundle_conflicts(conn, inspection, changes, bundle)
    if conflicts:
        raise_undo_refused(conflicts, run)

    say("Backing up")
    backup_store(store_path, safety)
    reverted = {"bindings": 0, "accounts": 0, "bundle": 0, "rows": 0, "migration_record": 0}
    warnings: list[str] = []
    say("Reverting")
    reverted["bindings"] = _revert_bindings(conn, changes)
    reverted["accounts"] = _revert_accounts(conn, accounts, changes)
    reverted["rows"] = _put_back_backfilled_rows(conn, backfilled_tables, warnings)
    if bundle:
        conn.execute(f"DELETE FROM {st.BUNDLES} WHERE id = ?", (DEFAULT_BUNDLE_ID,))
        reverted["bundle"] = 1
    record = changes.get("migration_record")
    if record:
        reverted["migration_record"] = conn.execute(
            f"DELETE FROM {st.MIGRATIONS} WHERE id = ? AND applied_at = ?",
            (record["id"], record["applied_at"]),
        ).rowcount
    conn.execute("DROP TABLE temp.undo_rows")
    problems = conn.execute("PRAGMA main.foreign_key_check").fetchall()
    if problems:
        raise UndoRefused(f"undo would leave {len(problems)} broken reference(s); nothing was undone")
    return reverted, warnings


def _revert_bindings(conn: sqlite3.Connection, changes: dict[str, Any]) -> int:
    """Put the Default bundle's bindings back as they were, newest first; returns how many."""
    reverted = 0
    for binding in reversed(changes.get("bindings", [])):
        if binding["before"] is None:
            conn.execute(
                f"DELETE FROM {st.BINDINGS} WHERE identity_id = ? AND provider = ?",
                (DEFAULT_BUNDLE_ID, binding["provider"]),
            )
        else:
            conn.execute(
                f"UPDATE {st.BINDINGS} SET account_id = ? WHERE identity_id = ? AND provider = ?",
                (binding["before"], DEFAULT_BUNDLE_ID, binding["provider"]),
            )
        reverted += 1
    return reverted


def _revert_accounts(conn: sqlite3.Connection, accounts: str, changes: dict[str, Any]) -> int:
    """Delete the accounts the run inserted and restore those it updated; returns how many."""
    reverted = 0
    for account in reversed(changes.get("accounts", [])):
        before = account["before"]
        if before is None:
            conn.execute(f"DELETE FROM {accounts} WHERE id = ?", (account["id"],))
        else:
            sets = ", ".join(f"{c} = ?" for c in ACCOUNT_COLUMNS[1:])
            conn.execute(
                f"UPDATE {accounts} SET {sets} WHERE id = ?",
                (*(before[c] for c in ACCOUNT_COLUMNS[1:]), account["id"]),
            )
        reverted += 1
    return reverted


def _put_back_backfilled_rows(conn: sqlite3.Connection, backfilled_tables: list[str], warnings: list[str]) -> int:
    """Give back-filled rows their old bundle again; returns how many, warning about rows deleted since."""
    restored = 0
    for table in backfilled_tables:
        gone = conn.execute(
            f"SELECT count(*) FROM temp.undo_rows u WHERE u.tbl = ? AND NOT EXISTS "
            f"(SELECT 1 FROM main.{table} t WHERE t.id = u.row_id)",
            (table,),
        ).fetchone()[0]
        if gone:
            warnings.append(f"{gone} back-filled row(s) of {table} were deleted since; nothing to put back")
        restored += conn.execute(
            f"UPDATE main.{table} SET identity_id = u.old FROM temp.undo_rows u "
            f"WHERE u.tbl = ? AND u.row_id = {table}.id AND {table}.identity_id = ?",
            (table, DEFAULT_BUNDLE_ID),
        ).rowcount
    return restored


def raise_undo_refused(conflicts: list[str], run: ledger.RunRecord) -> None:
    """Refuse the undo, naming every conflict and pointing at the run's backup as the way back.

    Raises:
        UndoRefused: always.
    """
    detail = "; ".join(conflicts)
    hint = f" To go back anyway, restore the backup: undo --from-backup {run.backup_path}" if run.backup_path else ""
    raise UndoRefused(
        f"AgentMux changed what the migration wrote since it ran ({detail}). Nothing was undone."
        + hint
    )


def undo_from_backup(
    paths: AppPaths,
    store_path: Path,
    backup: Path | None = None,
    busy_timeout_ms: int = st.BUSY_TIMEOUT_MS,
) -> UndoResult:
    """Restore a store from a backup (the last resort): its whole content becomes the backup's.

    Args:
        paths: Where the companion keeps its ledger and backups.
        store_path: The AgentMux store to restore.
        backup: the file to restore; default the backup taken before the store's last
            migration (never a safety copy taken before an undo or a restore).
        busy_timeout_ms: How long to wait for AgentMux to release the store's write lock.

    Returns:
        The backup restored from and the safety copy of the store taken before restoring.

    Raises:
        UndoRefused: no such backup; or it fails its integrity check, is not a backup of this
            store, or its schema is older than the store's (nothing written). See core/migration/restore.py.
        StoreBusy: the store stayed locked past the busy timeout (nothing written).
    """
    from agentmux_companion.core.migration import restore

    chosen = backup if backup is not None else restore.last_run_backup(paths, store_path)

    def evidence(conn: sqlite3.Connection, run: ledger.RunRecord) -> bool:
        inspection = st.inspect_store(store_path)
        return inspection.era.migratable and evidence_of_commit(conn, inspection.accounts_table, run)

    def settle(conn: sqlite3.Connection) -> None:
        inspection = st.inspect_store(store_path)
        if inspection.era.migratable:
            settle_interrupted_runs(paths.ledger_path, store_path, conn, inspection.accounts_table)

    done = restore.restore_store(paths, store_path, chosen, settle, evidence, busy_timeout_ms)
    return UndoResult(store_path, "", "backup", {}, str(done.safety_backup), restored_from=str(done.backup))
