"""Settling runs that a kill interrupted between the ledger's commit and the store's.

Two files cannot commit atomically together, so the ledger commits a run's changes first and the
store commits after. A kill in between leaves a run ``started`` with its changes recorded (or an
undo ``undoing``): only the store can tell whether its COMMIT went through, and one recorded
change present means all are (the store's COMMIT is atomic). Settling happens on the write path,
while the caller holds the store's write transaction, so the answer cannot change underneath.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from agentmux_companion.core import ledger
from agentmux_companion.core import store as st
from agentmux_companion.core.contract import ACCOUNT_COLUMNS, BUNDLE_COLUMNS, DEFAULT_BUNDLE_ID
from agentmux_companion.core.decide import BACKFILL_CONDITIONS


def evidence_of_commit(conn: sqlite3.Connection, accounts: str, run: ledger.RunRecord) -> bool:
    """Whether a run's recorded changes are in the store (its COMMIT went through)."""
    changes = run.changes
    # Any one recorded change tells: the store's part of the run commits or rolls back as a whole.
    for account in changes.get("accounts", [])[:1]:
        return bool(st.fetch_row(conn, accounts, ACCOUNT_COLUMNS, "id", account["id"]) == account["after"])
    if changes.get("bundle_inserted"):
        bundle = st.fetch_row(conn, st.BUNDLES, BUNDLE_COLUMNS, "id", DEFAULT_BUNDLE_ID)
        return bool(bundle == changes["bundle_inserted"])
    record = changes.get("migration_record")
    if record:
        return conn.execute(
            f"SELECT 1 FROM {st.MIGRATIONS} WHERE id = ? AND applied_at = ?", (record["id"], record["applied_at"])
        ).fetchone() is not None
    # Only rows were back-filled: one row that was legacy in the run's backup tells.
    backup = Path(run.backup_path)
    for table, count in changes.get("backfilled", {}).items():
        if not count or not backup.is_file():
            continue
        with closing(st.open_readonly(backup)) as snapshot:
            row = snapshot.execute(f"SELECT id FROM {table} WHERE {BACKFILL_CONDITIONS[table]} LIMIT 1").fetchone()
        if row is not None:
            now = conn.execute(f"SELECT identity_id FROM {table} WHERE id = ?", (row[0],)).fetchone()
            return now is not None and now[0] == DEFAULT_BUNDLE_ID
    return False


def settle_interrupted_runs(ledger_path: Path, store_path: Path, conn: sqlite3.Connection, accounts: str) -> None:
    """Give every interrupted run of ``store_path`` its final state, as the store says.

    ``conn`` is the caller's connection to the store, inside its write transaction.
    """
    for run in ledger.runs_for_store(ledger_path, store_path):
        if run.kind != "migrate" or not (run.state == "undoing" or (run.state == "started" and run.stats)):
            continue
        in_store = evidence_of_commit(conn, accounts, run)
        settled = "committed" if in_store else "undone" if run.state == "undoing" else "abandoned"
        ledger.set_state(ledger_path, run.id, settled)
