"""The facts of a store that the migration's decisions depend on, read from one snapshot (§7)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from agentmux_companion.core import store as st
from agentmux_companion.core.contract import (
    BACKFILL_CONDITIONS,
    DEFAULT_BUNDLE_ID,
    DEFAULT_BUNDLE_NAME,
    MIGRATION_ID,
)


class StoreState(NamedTuple):
    """The facts of a store that the migration's decisions depend on (§7).

    Read once from a consistent snapshot: during planning from a read-only connection, during
    apply from inside the write transaction.

    Attributes:
        default_secret_refs: the ``secret_ref`` of each account bound in the Default bundle, by
            account id (the isolation sweep decides on it).
    """

    covered: Mapping[str, tuple[str, ...]]
    default_exists: bool
    default_name_taken_by: str | None
    default_bindings: Mapping[str, str]
    instances_to_backfill: int
    agents_to_backfill: int
    migration_recorded: bool
    default_secret_refs: Mapping[str, str] = MappingProxyType({})  # shared, and read-only


def read_state(conn: sqlite3.Connection, inspection: st.StoreInspection, count_rows: bool = True) -> StoreState:
    """Read what §7 decides on, from one snapshot (caller holds a transaction or ro conn).

    Args:
        conn: the store.
        inspection: its era and tables.
        count_rows: count the legacy rows to back-fill. ``identity_id`` has no index in AgentMux's
            schema, so this is a full scan; apply skips it (its counts stay 0) because it counts
            what it back-fills anyway.
    """
    covered: dict[str, list[str]] = {}
    rows = conn.execute(
        f"SELECT b.provider, COALESCE(u.name, b.identity_id) FROM {st.BINDINGS} b "
        f"LEFT JOIN {st.BUNDLES} u ON u.id = b.identity_id ORDER BY b.provider, 2"
    )
    for provider, bundle_name in rows:
        covered.setdefault(provider, []).append(bundle_name)
    default_exists = (
        conn.execute(f"SELECT 1 FROM {st.BUNDLES} WHERE id = ?", (DEFAULT_BUNDLE_ID,)).fetchone() is not None
    )
    taken = conn.execute(
        f"SELECT id FROM {st.BUNDLES} WHERE name = ? AND id <> ?", (DEFAULT_BUNDLE_NAME, DEFAULT_BUNDLE_ID)
    ).fetchone()
    bound = conn.execute(
        f"SELECT b.provider, b.account_id, a.secret_ref FROM {st.BINDINGS} b "
        f"LEFT JOIN {inspection.accounts_table} a ON a.id = b.account_id WHERE b.identity_id = ?",
        (DEFAULT_BUNDLE_ID,),
    ).fetchall()
    instances = agents = 0
    if count_rows and inspection.has_instances:
        instances = conn.execute(
            f"SELECT count(*) FROM {st.INSTANCES} WHERE {BACKFILL_CONDITIONS[st.INSTANCES]}"
        ).fetchone()[0]
    if count_rows and inspection.has_agents:
        agents = conn.execute(f"SELECT count(*) FROM {st.AGENTS} WHERE {BACKFILL_CONDITIONS[st.AGENTS]}").fetchone()[0]
    recorded = False
    if inspection.has_migrations:
        recorded = (
            conn.execute(f"SELECT 1 FROM {st.MIGRATIONS} WHERE id = ?", (MIGRATION_ID,)).fetchone() is not None
        )
    return StoreState(
        covered={k: tuple(dict.fromkeys(v)) for k, v in covered.items()},
        default_exists=default_exists,
        default_name_taken_by=taken[0] if taken else None,
        default_bindings={provider: account for provider, account, _ref in bound},
        instances_to_backfill=int(instances),
        agents_to_backfill=int(agents),
        migration_recorded=recorded,
        default_secret_refs={account: str(ref) for _p, account, ref in bound if ref is not None},
    )
