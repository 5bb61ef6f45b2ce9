"""Undo: reverse exactly what one migration run changed, or restore its backup.

Precise undo reads the run's record in the ledger and reverses it in one ``BEGIN IMMEDIATE``
transaction, after checking that every row it would touch still holds what the run wrote. If
AgentMux (or the user) changed one of them since, it refuses with a clear message and writes
nothing: the backup (``undo --from-backup``) remains the last resort.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from agentmux_companion.core import store as st
from agentmux_companion.core.backup import PlannedBackup, backup_store, plan_backup
from agentmux_companion.core.contract import ACCOUNT_COLUMNS, BACKFILL_CONDITIONS, BUNDLE_COLUMNS, DEFAULT_BUNDLE_ID
from agentmux_companion.core.errors import StoreBusy, StoreRefused, UndoRefused, known_error
from agentmux_companion.core.migration import isolation, ledger
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
                return dataclasses.replace(run, state="committed")
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

    Raises:
        UndoRefused: no run to undo, or rows changed since (nothing written).
        StoreBusy: the store stayed locked past the busy timeout (nothing written).
    """
    say = progress or (lambda _m: None)
    run = last_undoable_run(paths, store_path)
    if run is None:
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
        raise UndoRefused(f"no migration of {store_path} to undo.{hint}")
    inspection = st.inspect_store(store_path)
    if inspection.refusal:
        raise StoreRefused(inspection.refusal)
    refusal = st.write_refusal(store_path)
    if refusal:
        raise StoreRefused(refusal)

    if any(run.changes.get("backfilled", {}).values()) and not Path(run.backup_path).is_file():
        raise UndoRefused(
            f"the backup this migration took ({run.backup_path}) is gone; it is what tells which agent "
            "rows the migration back-filled, so nothing was undone"
        )

    needs_backup = any(run.changes.get("backfilled", {}).values())
    if needs_backup:
        damage = _backup_damage(Path(run.backup_path))
        if damage:
            raise UndoRefused(
                f"the backup this migration took ({run.backup_path}) is damaged ({damage}); it is what tells which "
                "agent rows the migration back-filled, so nothing was undone. Restore an older backup with "
                "'undo --from-backup FILE', or keep the migration"
            )
    safety = plan_backup(paths, store_path, "undo", run.id)
    try:
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
    ledger.set_state(paths.ledger_path, run.id, "undone")
    # The store no longer points at the copies this run made: take them away (after the COMMIT, so
    # a kill in between leaves an undone run whose files the next write settles), and those of
    # runs that never committed.
    warnings += isolation.remove_run_files(paths.ledger_path, run.id)
    warnings += isolation.settle_finished_runs(paths.ledger_path, store_path)
    return UndoResult(store_path, run.id, "precise", reverted, str(safety), warnings=tuple(warnings))


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
    accounts = inspection.accounts_table
    changes = run.changes
    conflicts: list[str] = []
    warnings: list[str] = []

    # Check first: every row the run wrote must still hold what it wrote.
    for binding in changes.get("bindings", []):
        now = conn.execute(
            f"SELECT account_id FROM {st.BINDINGS} WHERE identity_id = ? AND provider = ?",
            (DEFAULT_BUNDLE_ID, binding["provider"]),
        ).fetchone()
        if now is None or now[0] != binding["after"]:
            conflicts.append(f"the Default bundle's {binding['provider']} binding was changed")
    for account in changes.get("accounts", []):
        if st.fetch_row(conn, accounts, ACCOUNT_COLUMNS, "id", account["id"]) != account["after"]:
            conflicts.append(f"the {account['after']['name']} account was changed")
    backfilled_tables = [t for t, n in changes.get("backfilled", {}).items() if n]
    conn.execute("CREATE TEMP TABLE undo_rows (tbl TEXT, row_id TEXT, old TEXT, PRIMARY KEY (tbl, row_id))")
    for table in backfilled_tables:
        found = conn.execute(
            f"INSERT INTO temp.undo_rows SELECT ?, id, identity_id FROM snapshot.{table} "
            f"WHERE {BACKFILL_CONDITIONS[table]}",
            (table,),
        ).rowcount
        if found != changes["backfilled"][table]:
            raise UndoRefused(
                f"the backup {run.backup_path} does not match the run it belongs to ({found} rows of "
                f"{table} to put back instead of {changes['backfilled'][table]}); nothing was undone"
            )
    for table in backfilled_tables:
        moved = conn.execute(
            f"SELECT count(*) FROM main.{table} t JOIN temp.undo_rows u "
            "ON u.tbl = ? AND u.row_id = t.id WHERE t.identity_id <> ?",
            (table, DEFAULT_BUNDLE_ID),
        ).fetchone()[0]
        if moved:
            conflicts.append(f"{moved} back-filled row(s) of {table} now use another bundle")
    bundle = changes.get("bundle_inserted")
    if bundle:
        if st.fetch_row(conn, st.BUNDLES, BUNDLE_COLUMNS, "id", DEFAULT_BUNDLE_ID) != bundle:
            conflicts.append("the Default bundle was changed")
        ours = {b["provider"] for b in changes.get("bindings", [])}
        others = [
            p for (p,) in conn.execute(
                f"SELECT provider FROM {st.BINDINGS} WHERE identity_id = ?", (DEFAULT_BUNDLE_ID,)
            ) if p not in ours
        ]
        if others:
            conflicts.append(f"the Default bundle now also binds {', '.join(sorted(others))}")
        for table in (st.INSTANCES, st.AGENTS):
            if not (inspection.has_instances if table == st.INSTANCES else inspection.has_agents):
                continue
            # Rows that already named 'default' before the run (a Default bundle deleted in
            # AgentMux leaves them so) are not AgentMux's doing since: only newer ones conflict.
            before_run = (
                f" AND NOT EXISTS (SELECT 1 FROM snapshot.{table} s "
                "WHERE s.id = t.id AND s.identity_id = t.identity_id)"
                if any(name == "snapshot" for _seq, name, _file in conn.execute("PRAGMA database_list"))
                else ""
            )
            newer = conn.execute(
                f"SELECT count(*) FROM main.{table} t WHERE t.identity_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM temp.undo_rows u WHERE u.tbl = ? AND u.row_id = t.id)" + before_run,
                (DEFAULT_BUNDLE_ID, table),
            ).fetchone()[0]
            if newer:
                conflicts.append(f"{newer} other row(s) of {table} now use the Default bundle")
    if conflicts:
        raise_undo_refused(conflicts, run)

    say("Backing up")
    backup_store(store_path, safety)
    reverted = {"bindings": 0, "accounts": 0, "bundle": 0, "rows": 0, "migration_record": 0}
    say("Reverting")
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
        reverted["bindings"] += 1
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
        reverted["accounts"] += 1
    for table in backfilled_tables:
        gone = conn.execute(
            f"SELECT count(*) FROM temp.undo_rows u WHERE u.tbl = ? AND NOT EXISTS "
            f"(SELECT 1 FROM main.{table} t WHERE t.id = u.row_id)",
            (table,),
        ).fetchone()[0]
        if gone:
            warnings.append(f"{gone} back-filled row(s) of {table} were deleted since; nothing to put back")
        reverted["rows"] += conn.execute(
            f"UPDATE main.{table} SET identity_id = u.old FROM temp.undo_rows u "
            f"WHERE u.tbl = ? AND u.row_id = {table}.id AND {table}.identity_id = ?",
            (table, DEFAULT_BUNDLE_ID),
        ).rowcount
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


def raise_undo_refused(conflicts: list[str], run: ledger.RunRecord) -> None:
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
        backup: the file to restore; default the backup taken before the store's last
            migration (never a safety copy taken before an undo or a restore).

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
