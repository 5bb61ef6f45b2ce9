"""The writes of one store's migration (§7), inside the caller's transaction, and their checks."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from agentmux_companion.core import store as st
from agentmux_companion.core.contract import (
    ACCOUNT_COLUMNS,
    BACKFILL_CONDITIONS,
    BUNDLE_COLUMNS,
    DEFAULT_BUNDLE_DESCRIPTION,
    DEFAULT_BUNDLE_ID,
    DEFAULT_BUNDLE_NAME,
    MIGRATION_ID,
    oauth_secret_ref,
)
from agentmux_companion.core.credentials import Status
from agentmux_companion.core.errors import StoreWriteRefused


def rfc3339_utc(at_ms: int) -> str:
    """``applied_at`` as AgentMux's runner writes it (chrono's to_rfc3339: ``+00:00``, ms)."""
    seconds, millis = divmod(at_ms, 1000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{text}.{millis:03d}+00:00" if millis else f"{text}+00:00"


class StoreWriter:
    """The writes of one store's migration, inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection, accounts_table: str, at_ms: int) -> None:
        self.conn = conn
        self.accounts = accounts_table
        self.at_ms = at_ms
        self.changes: dict[str, Any] = {
            "bundle_inserted": None, "accounts": [], "bindings": [], "migration_record": None,
            "backfilled": {},
        }
        self.warnings: list[str] = []

    def ensure_default_bundle(self) -> bool:
        """Contract §7 3c. Returns True when it inserted the bundle."""
        if st.fetch_row(self.conn, st.BUNDLES, ("id",), "id", DEFAULT_BUNDLE_ID):
            return False
        row = {
            "id": DEFAULT_BUNDLE_ID, "name": DEFAULT_BUNDLE_NAME,
            "description": DEFAULT_BUNDLE_DESCRIPTION, "is_blank": 0,
            "created_at": self.at_ms, "updated_at": self.at_ms,
        }
        self.conn.execute(
            f"INSERT INTO {st.BUNDLES} ({', '.join(BUNDLE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
            tuple(row[c] for c in BUNDLE_COLUMNS),
        )
        self.changes["bundle_inserted"] = row
        return True

    def seed(self, provider: str, account_dir: Path, status: Status, account_id: str) -> bool:
        """§7 3e-3g for one provider: upsert its account and bind it. True when it got bound."""
        if not self.upsert_account(provider, account_id, account_dir, status):
            return False
        return self.bind(provider, account_id)

    def upsert_account(self, provider: str, account_id: str, account_dir: Path, status: Status) -> bool:
        """§7 3f (and §7b's sweep): write the account; an update keeps its created_at."""
        after = {
            "id": account_id, "name": f"{provider}-oauth", "provider": provider, "kind": "oauth",
            "display_name": "", "secret_ref": oauth_secret_ref(account_dir),
            "context": "{}", "status": status.value, "created_at": self.at_ms, "updated_at": self.at_ms,
        }
        self.conn.execute("SAVEPOINT seed_account")
        try:
            before = st.fetch_row(self.conn, self.accounts, ACCOUNT_COLUMNS, "id", account_id)
            if before is None:
                self.conn.execute(
                    f"INSERT INTO {self.accounts} ({', '.join(ACCOUNT_COLUMNS)}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    tuple(after[c] for c in ACCOUNT_COLUMNS),
                )
            else:
                after["created_at"] = before["created_at"]  # an update keeps created_at
                self.conn.execute(
                    f"UPDATE {self.accounts} SET name = ?, provider = ?, kind = ?, display_name = ?, "
                    "secret_ref = ?, context = ?, status = ?, updated_at = ? WHERE id = ?",
                    (after["name"], provider, "oauth", "", after["secret_ref"], "{}", status.value,
                     self.at_ms, account_id),
                )
            self.conn.execute("RELEASE seed_account")
        except sqlite3.Error as exc:
            self.conn.execute("ROLLBACK TO seed_account")
            self.conn.execute("RELEASE seed_account")
            self.warnings.append(f"{provider}: the account could not be written ({exc}); skipped")
            return False
        self.changes["accounts"].append({"id": account_id, "before": before, "after": after})
        return True

    def bind(self, provider: str, account_id: str) -> bool:
        """§7 3g: bind the account in the Default bundle, replacing an existing binding's account."""
        self.conn.execute("SAVEPOINT seed_binding")
        try:
            previous = self.conn.execute(
                f"SELECT account_id FROM {st.BINDINGS} WHERE identity_id = ? AND provider = ?",
                (DEFAULT_BUNDLE_ID, provider),
            ).fetchone()
            self.conn.execute(
                f"INSERT INTO {st.BINDINGS} (identity_id, provider, account_id) VALUES (?, ?, ?) "
                "ON CONFLICT (identity_id, provider) DO UPDATE SET account_id = excluded.account_id",
                (DEFAULT_BUNDLE_ID, provider, account_id),
            )
            self.conn.execute("RELEASE seed_binding")
        except sqlite3.Error as exc:
            self.conn.execute("ROLLBACK TO seed_binding")
            self.conn.execute("RELEASE seed_binding")
            self.warnings.append(f"{provider}: the binding could not be written ({exc}); skipped")
            return False
        self.changes["bindings"].append(
            {"provider": provider, "before": previous[0] if previous else None, "after": account_id}
        )
        return True

    def backfill(self, table: str) -> int:
        """Contract §7 step 4 on one table: one ``UPDATE``, as AgentMux's own migration does.

        Which rows it rewrote is not copied into the ledger: the run's backup, taken inside this
        same transaction, holds exactly those rows with their former identity_id, and undo reads
        them from there (and checks the count recorded here). Journaling a million row ids a
        second time would hold AgentMux's store locked half as long again (benchmarks/).
        """
        count = self.conn.execute(
            f"UPDATE main.{table} SET identity_id = ? WHERE {BACKFILL_CONDITIONS[table]}",
            (DEFAULT_BUNDLE_ID,),
        ).rowcount
        self.changes["backfilled"][table] = count
        return int(count)

    def record_migration(self, scope: str, duration_ms: int) -> None:
        """Insert the store's migration record (as AgentMux's own migrations do) and remember it for undo.

        Args:
            scope: What the migration covered, as AgentMux records it.
            duration_ms: How long the migration took.
        """
        row = {"id": MIGRATION_ID, "applied_at": rfc3339_utc(self.at_ms), "duration_ms": duration_ms, "scope": scope}
        self.conn.execute(
            f"INSERT INTO {st.MIGRATIONS} (id, applied_at, duration_ms, scope) VALUES (?, ?, ?, ?)",
            (row["id"], row["applied_at"], row["duration_ms"], row["scope"]),
        )
        self.changes["migration_record"] = row


def binding_problems(conn: sqlite3.Connection) -> set[tuple[Any, ...]]:
    """Bindings whose bundle or account is missing (``foreign_key_check`` of the bindings)."""
    return {tuple(row) for row in conn.execute(f"PRAGMA main.foreign_key_check({st.BINDINGS})")}


def verify(conn: sqlite3.Connection, accounts_table: str, has_migrations: bool,
            problems_before: set[tuple[Any, ...]]) -> list[str]:
    """Foreign-key and integrity checks of what the run wrote, before COMMIT; returns warnings.

    A problem the run made raises, and the caller rolls the run back. Broken references that were
    in the store before the run are not the run's doing (AgentMux's own migration would not refuse
    them): they are reported, and left as they are. The checks cover the tables the run inserted
    rows into (bundles, accounts, bindings, the migrations record). The back-fill is one
    ``UPDATE`` of a column without index or foreign key, so a whole-database ``quick_check`` would
    only re-read every page of the store — half again the cost of the back-fill on a big store,
    measured in benchmarks/bench_migrate.py — to find damage that predates the run.
    """
    problems = binding_problems(conn)
    new = problems - problems_before
    if new:
        raise StoreWriteRefused(
            f"the foreign-key check failed after writing ({len(new)} broken reference(s) the run would have "
            "made); nothing was written"
        )
    tables = [st.BUNDLES, accounts_table, st.BINDINGS] + ([st.MIGRATIONS] if has_migrations else [])
    for table in tables:
        result = conn.execute(f"PRAGMA main.quick_check({table})").fetchone()[0]
        if result != "ok":
            raise StoreWriteRefused(
                f"integrity check of {table} failed after writing ({result}); nothing was written")
    if problems_before & problems:
        count = len({row[1] for row in problems_before & problems})  # one row per broken reference
        return [f"the store already had {count} binding(s) pointing at a missing bundle or account before this "
                "run; they were left as they are (AgentMux's own migration does not check them either)"]
    return []
