"""The checks a precise undo makes before writing: does every row the run wrote still hold it?

Split from :mod:`undo` so the undo itself reads as check, back up, revert. Every function runs
inside the undo's transaction and writes nothing to the store (``temp.undo_rows`` is the
connection's own scratch table).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from agentmux_companion.core import store as st
from agentmux_companion.core.contract import ACCOUNT_COLUMNS, BACKFILL_CONDITIONS, BUNDLE_COLUMNS, DEFAULT_BUNDLE_ID
from agentmux_companion.core.errors import UndoRefused
from agentmux_companion.core.migration import ledger


def binding_and_account_conflicts(conn: sqlite3.Connection, accounts: str, changes: dict[str, Any]) -> list[str]:
    """The Default bundle's bindings and the accounts the run wrote that no longer hold its values."""
    conflicts: list[str] = []
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
    return conflicts


def collect_backfilled_rows(conn: sqlite3.Connection, run: ledger.RunRecord, backfilled_tables: list[str]) -> None:
    """Fill ``temp.undo_rows`` with the back-filled rows and their old bundle, read from the run's backup.

    Raises:
        UndoRefused: the backup holds a different number of such rows than the run recorded.
    """
    conn.execute("CREATE TEMP TABLE undo_rows (tbl TEXT, row_id TEXT, old TEXT, PRIMARY KEY (tbl, row_id))")
    for table in backfilled_tables:
        found = conn.execute(
            f"INSERT INTO temp.undo_rows SELECT ?, id, identity_id FROM snapshot.{table} "
            f"WHERE {BACKFILL_CONDITIONS[table]}",
            (table,),
        ).rowcount
        if found != run.changes["backfilled"][table]:
            raise UndoRefused(
                f"the backup {run.backup_path} does not match the run it belongs to ({found} rows of "
                f"{table} to put back instead of {run.changes['backfilled'][table]}); nothing was undone"
            )


def moved_row_conflicts(conn: sqlite3.Connection, backfilled_tables: list[str]) -> list[str]:
    """Back-filled rows that have since been moved from the Default bundle to another one."""
    conflicts: list[str] = []
    for table in backfilled_tables:
        moved = conn.execute(
            f"SELECT count(*) FROM main.{table} t JOIN temp.undo_rows u "
            "ON u.tbl = ? AND u.row_id = t.id WHERE t.identity_id <> ?",
            (table, DEFAULT_BUNDLE_ID),
        ).fetchone()[0]
        if moved:
            conflicts.append(f"{moved} back-filled row(s) of {table} now use another bundle")
    return conflicts


def default_bundle_conflicts(
    conn: sqlite3.Connection, inspection: st.StoreInspection, changes: dict[str, Any], bundle: dict[str, Any]
) -> list[str]:
    """Why the Default bundle the run created can no longer simply be deleted, if it cannot."""
    conflicts: list[str] = []
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
    return conflicts
