"""Which era a store is of, and whether it can be written (docs/agentmux-store.md §1, §3).

Era detection reads ``sqlite_master`` through a read-only connection, never ``user_version``
alone, and never writes: inspecting a store of any era leaves it byte-for-byte as it was.
"""

from __future__ import annotations

import enum
import os
import sqlite3
import stat
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

from agentmux_companion.core.contract import (
    ACCOUNTS_NEW,
    ACCOUNTS_OLD,
    AGENTS,
    BINDINGS,
    BUNDLE_ERA_USER_VERSIONS,
    BUNDLES,
    INSTANCES,
    MIGRATIONS,
    REQUIRED_COLUMNS,
)
from agentmux_companion.core.store.connect import open_readonly


class Era(enum.StrEnum):
    """Which era of AgentMux wrote a store (docs/agentmux-store.md §1)."""

    MISSING = "missing"
    UNREADABLE = "unreadable"
    CORRUPT = "corrupt"
    PRE_BUNDLE = "pre-bundle"
    EARLY_CHAIN = "early-chain"
    BUNDLE = "bundle"
    BUNDLE_ACCOUNTS_RENAMED = "bundle-accounts-renamed"
    POST_BUNDLE = "post-bundle"
    MISMATCHED = "mismatched"

    @property
    def migratable(self) -> bool:
        """Whether the companion can migrate a store of this era (the bundle-era schemas)."""
        return self in (Era.BUNDLE, Era.BUNDLE_ACCOUNTS_RENAMED)


class StoreInspection(NamedTuple):
    """What a read-only look at a store found.

    Attributes:
        era: the detected era.
        refusal: why it cannot be migrated, in words (None when it can).
        accounts_table: ``db_identity_accounts`` or ``db_accounts`` for bundle-era stores.
        has_instances, has_agents, has_migrations: optional tables present.
        user_version: ``PRAGMA user_version`` (shown, never written).
    """

    era: Era
    refusal: str | None
    accounts_table: str = ""
    has_instances: bool = False
    has_agents: bool = False
    has_migrations: bool = False
    user_version: int = 0


# --------------------------------------------------------------------------------------------
# Era detection (docs/agentmux-store.md §1)

PRE_BUNDLE_REASON = (
    "this store predates identity bundles; start AgentMux once so it upgrades its store, "
    "then run again"
)
POST_BUNDLE_REASON = (
    "this AgentMux no longer uses identity bundles, so there is nothing to migrate, and it no longer "
    "shares the CLIs' own logins on purpose (a login shared by two programs goes stale on one side "
    "when the other renews it). Sign in to each provider from AgentMux itself, on its Accounts "
    "screen: it keeps a separate login per account"
)


HOT_JOURNAL_REASON = (
    "AgentMux did not finish a write to this store (its rollback journal is still beside it); start "
    "AgentMux once so it recovers the store, then run again. Nothing was written"
)


def _has_hot_journal(path: Path) -> bool:
    # A non-empty rollback journal left by a writer that crashed: reading the store would need a
    # rollback first, which only a writer may do (and which AgentMux does when it opens it).
    journal = path.with_name(path.name + "-journal")
    try:
        return journal.stat().st_size > 0
    except OSError:
        return False


def table_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """The column names of ``table`` (empty when there is no such table)."""
    return {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}


def inspect_store(path: Path) -> StoreInspection:
    """Detect a store's era and whether it can be migrated, without writing anything."""
    if not path.exists():
        return StoreInspection(Era.MISSING, f"no store at {path}")
    if not path.is_file():
        return StoreInspection(Era.UNREADABLE, f"{path} is not a file")
    if not os.access(path, os.R_OK):
        return StoreInspection(Era.UNREADABLE, f"{path} cannot be read (permission denied)")
    if _has_hot_journal(path):
        return StoreInspection(Era.UNREADABLE, HOT_JOURNAL_REASON)
    try:
        with closing(open_readonly(path)) as conn:
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            user_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            return _classify(tables, user_version, path, conn)
    except sqlite3.DatabaseError as exc:
        message = str(exc)
        if "locked" in message or "busy" in message:
            return StoreInspection(Era.UNREADABLE, f"{path} is locked by another program ({message})")
        return StoreInspection(Era.CORRUPT, f"{path} is not a readable SQLite database ({message})")


def _unknown_version(path: Path, user_version: int) -> str | None:
    known = BUNDLE_ERA_USER_VERSIONS["store.db" if path.name == "store.db" else "objects.db"]
    if user_version in known:
        return None
    return (
        f"this store is at version {user_version}, which no AgentMux build of the bundle era wrote "
        f"(they wrote {known.start} to {known.stop - 1}); the companion leaves a store it does not know alone"
    )


def _classify(tables: set[str], user_version: int, path: Path, conn: sqlite3.Connection) -> StoreInspection:
    has_bundles = BUNDLES in tables and BINDINGS in tables
    if has_bundles and (ACCOUNTS_OLD in tables or ACCOUNTS_NEW in tables):
        accounts = ACCOUNTS_OLD if ACCOUNTS_OLD in tables else ACCOUNTS_NEW
        era = Era.BUNDLE if accounts == ACCOUNTS_OLD else Era.BUNDLE_ACCOUNTS_RENAMED
        checks = {BUNDLES: BUNDLES, BINDINGS: BINDINGS, "accounts": accounts}
        for optional in (INSTANCES, AGENTS, MIGRATIONS):
            if optional in tables:
                checks[optional] = optional
        for key, table in checks.items():
            missing = REQUIRED_COLUMNS[key] - table_columns(conn, table)
            if missing:
                return StoreInspection(
                    Era.MISMATCHED,
                    f"table {table} lacks column(s) {', '.join(sorted(missing))}; this store does "
                    "not match any AgentMux version the companion knows, so it is left alone",
                    user_version=user_version,
                )
        unknown = _unknown_version(path, user_version)
        if unknown:
            return StoreInspection(Era.MISMATCHED, unknown, user_version=user_version)
        return StoreInspection(
            era,
            None,
            accounts_table=accounts,
            has_instances=INSTANCES in tables,
            has_agents=AGENTS in tables,
            has_migrations=MIGRATIONS in tables,
            user_version=user_version,
        )
    if "db_identities" in tables:
        return StoreInspection(Era.EARLY_CHAIN, PRE_BUNDLE_REASON, user_version=user_version)
    if ACCOUNTS_NEW in tables or ACCOUNTS_OLD in tables:
        return StoreInspection(Era.POST_BUNDLE, POST_BUNDLE_REASON, user_version=user_version)
    if BUNDLES in tables or BINDINGS in tables:
        return StoreInspection(
            Era.MISMATCHED,
            "this store has only part of the identity-bundle tables; it does not match any "
            "AgentMux version the companion knows, so it is left alone",
            user_version=user_version,
        )
    return StoreInspection(Era.PRE_BUNDLE, PRE_BUNDLE_REASON, user_version=user_version)


_ANY_WRITE_BIT = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def write_refusal(path: Path) -> str | None:
    """Why the store cannot be written (read-only file, folder or file system), or None.

    ``os.access`` alone is not enough: for root it says yes to every file. A store (or its folder)
    with no write bit at all was made read-only on purpose, and root respects that too.
    """
    try:
        info, folder = path.stat(), path.parent.stat()
    except OSError as exc:
        return f"{path} cannot be looked at ({exc.strerror}); nothing was written"
    if not info.st_mode & _ANY_WRITE_BIT or not os.access(path, os.W_OK):
        return f"{path} is read-only; nothing was written"
    # WAL mode creates -wal and -shm files beside the store.
    if not folder.st_mode & _ANY_WRITE_BIT or not os.access(path.parent, os.W_OK | os.X_OK):
        return f"the folder {path.parent} is read-only, so SQLite cannot journal the write; nothing was written"
    if _read_only_mount(path):
        return f"{path} is on a read-only file system; nothing was written"
    return None


def _read_only_mount(path: Path) -> bool:
    statvfs = getattr(os, "statvfs", None)
    if statvfs is None:  # Windows: the write bits and os.access above are what there is
        return False
    try:
        return bool(statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False

