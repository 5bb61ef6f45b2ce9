"""The test suite's own copy of AgentMux's store schema, per era (docs/agentmux-store.md §1, §3).

Written from the contract, not imported from the product: the product's demo sandbox
(``agentmux_companion.core.sandbox``) keeps its own DDL, and a test that built its stores with
the code under test could not notice when that code's idea of the schema drifts.
``tests/test_schema.py`` compares the two for every era both know, so drift on either side fails.

Each :class:`Era` member says what a store of that period holds: file name, ``user_version``,
which tables. :func:`create_store` builds an empty store of an era (the blank bundle included,
as every real store has it); the ``add_*`` functions put rows in.
"""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

#: Account tables by era: the old name, and the one from Jul 12 (§1).
ACCOUNTS_OLD = "db_identity_accounts"
ACCOUNTS_NEW = "db_accounts"


@dataclass(frozen=True)
class Shape:
    """What a store of one era holds (docs/agentmux-store.md §1, §3).

    Attributes:
        file_name: ``objects.db`` for channel stores, ``store.db`` for the shared store.
        user_version: what ``PRAGMA user_version`` reads.
        accounts: the accounts table's name, or None when the era has none.
        bundles: whether ``db_identity_bundles`` and ``db_identity_bindings`` exist.
        early_chain: whether the bundle table still has its first name, ``db_identities``.
        instances: whether ``db_agent_definitions`` and ``db_agent_instances`` exist.
        agents: whether ``db_agents`` exists.
        migrations: whether ``db_migrations`` exists.
    """

    file_name: str
    user_version: int
    accounts: str | None = None
    bundles: bool = False
    early_chain: bool = False
    instances: bool = False
    agents: bool = False
    migrations: bool = False


class Era(enum.Enum):
    """Store shapes by period (docs/agentmux-store.md §1; user_version and tables per §3).

    The values of the eras the product's demo also knows equal its ``StoreShape`` values, so
    ``Era(shape.value)`` converts one into the other.
    """

    PRE_BUNDLE = "pre-bundle"  # before ~May 19: no identity tables
    EARLY_CHAIN = "early-chain"  # the bundle table under its first name, db_identities
    FLAT = "flat"  # ~May 19-23: bundle tables and instances; user_version 1
    WITH_AGENTS = "with-agents"  # late May: + db_agents; user_version 4
    WITH_AGENTS_V9 = "with-agents-v9"  # user_version 9, no db_migrations: still ambient (§7b)
    WITH_MIGRATIONS = "with-migrations"  # + db_migrations at user_version 8 (isolated: has the table)
    ISOLATION_V10 = "isolation-v10"  # Jun 20 on: user_version 10 with db_migrations (isolated)
    ACCOUNTS_RENAMED = "accounts-renamed"  # Jul 12: db_accounts; user_version 11
    SHARED = "shared"  # the shared store.db (Jun 24): bundle tables and db_migrations, no instances
    SHARED_RENAMED = "shared-renamed"  # store.db after Jul 12: db_accounts; user_version 3
    POST_BUNDLE = "post-bundle"  # Jul 13 on: the bundle tables dropped

    @property
    def shape(self) -> Shape:
        """The tables, file name and ``user_version`` of this era."""
        return _SHAPES[self]

    @property
    def supported(self) -> bool:
        """Whether the companion migrates such a store (the bundle era, §1)."""
        return self.shape.bundles

    @property
    def shared(self) -> bool:
        """Whether this is the shared store ``store.db``."""
        return self.shape.file_name == "store.db"

    @property
    def semantics(self) -> str | None:
        """``ambient`` or ``isolated`` (§7b) for a supported era; None for a refused one."""
        if not self.supported:
            return None
        shape = self.shape
        return "isolated" if self.shared or shape.user_version >= 10 or shape.migrations else "ambient"


def _bundle_era(file_name: str, user_version: int, *, accounts: str = ACCOUNTS_OLD, instances: bool = True,
                agents: bool = False, migrations: bool = False) -> Shape:
    return Shape(file_name, user_version, accounts=accounts, bundles=True, instances=instances, agents=agents,
                 migrations=migrations)


_SHAPES: dict[Era, Shape] = {
    Era.PRE_BUNDLE: Shape("objects.db", 0),
    Era.EARLY_CHAIN: Shape("objects.db", 0, early_chain=True),
    Era.FLAT: _bundle_era("objects.db", 1),
    Era.WITH_AGENTS: _bundle_era("objects.db", 4, agents=True),
    Era.WITH_AGENTS_V9: _bundle_era("objects.db", 9, agents=True),
    Era.WITH_MIGRATIONS: _bundle_era("objects.db", 8, agents=True, migrations=True),
    Era.ISOLATION_V10: _bundle_era("objects.db", 10, agents=True, migrations=True),
    Era.ACCOUNTS_RENAMED: _bundle_era("objects.db", 11, accounts=ACCOUNTS_NEW, agents=True, migrations=True),
    Era.SHARED: _bundle_era("store.db", 1, instances=False, migrations=True),
    Era.SHARED_RENAMED: _bundle_era("store.db", 3, accounts=ACCOUNTS_NEW, instances=False, migrations=True),
    Era.POST_BUNDLE: Shape("objects.db", 12, accounts=ACCOUNTS_NEW, instances=True, agents=True, migrations=True),
}

#: Eras the migration supports and the ones it refuses (§1); by semantics (§7b).
SUPPORTED_ERAS = tuple(era for era in Era if era.supported)
REFUSED_ERAS = tuple(era for era in Era if not era.supported)
AMBIENT_ERAS = tuple(era for era in SUPPORTED_ERAS if era.semantics == "ambient")
ISOLATED_ERAS = tuple(era for era in SUPPORTED_ERAS if era.semantics == "isolated")


# --------------------------------------------------------------------------------------------
# DDL, table by table, as §3 describes the columns. Tables and columns the contract leaves open
# (a workspace table, the rest of db_agents and of the definitions) are plausible stand-ins: they
# are there so "nothing else changed" has something else to look at.

_WORKSPACES = "CREATE TABLE db_workspaces (id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '');"

_EARLY_CHAIN_BUNDLES = "CREATE TABLE db_identities (id TEXT PRIMARY KEY, name TEXT NOT NULL);"

_BUNDLES = """
CREATE TABLE db_identity_bundles (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    is_blank    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_identity_bundles_is_blank ON db_identity_bundles (is_blank);
"""

#: §3: every store has the blank bundle (an em dash in its description; no bindings ever).
_BLANK_BUNDLE = (
    "INSERT INTO db_identity_bundles (id, name, description, is_blank, created_at, updated_at) "
    "VALUES ('blank', '__blank__', 'No credentials \u2014 use ambient', 1, 0, 0);"
)


def _accounts(table: str) -> str:
    return f"""
CREATE TABLE {table} (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    provider     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    secret_ref   TEXT NOT NULL,
    context      TEXT NOT NULL DEFAULT '{{}}',
    status       TEXT NOT NULL DEFAULT 'unknown',
    created_at   INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_{table}_provider ON {table} (provider);
"""


def _bindings(accounts: str) -> str:
    return f"""
CREATE TABLE db_identity_bindings (
    identity_id TEXT NOT NULL REFERENCES db_identity_bundles (id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    account_id  TEXT NOT NULL REFERENCES {accounts} (id) ON DELETE CASCADE,
    PRIMARY KEY (identity_id, provider)
);
CREATE INDEX idx_identity_bindings_account ON db_identity_bindings (account_id);
"""


_DEFINITIONS_AND_INSTANCES = """
CREATE TABLE db_agent_definitions (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    provider          TEXT NOT NULL,
    slug              TEXT NOT NULL DEFAULT '',
    working_directory TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX idx_agent_definitions_slug ON db_agent_definitions (slug);
CREATE TABLE db_agent_instances (
    id                 TEXT PRIMARY KEY,
    definition_id      TEXT NOT NULL REFERENCES db_agent_definitions (id) ON DELETE CASCADE,
    parent_instance_id TEXT NOT NULL DEFAULT '',
    block_id           TEXT NOT NULL DEFAULT '',
    session_id         TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL DEFAULT 'running',
    github_context     TEXT NOT NULL DEFAULT '',
    identity_id        TEXT NOT NULL DEFAULT '',
    memory_id          TEXT NOT NULL DEFAULT '',
    instance_name      TEXT NOT NULL DEFAULT '',
    working_directory  TEXT NOT NULL DEFAULT '',
    display_hidden     INTEGER NOT NULL DEFAULT 0,
    started_at         INTEGER NOT NULL DEFAULT 0,
    ended_at           INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_agent_instances_definition ON db_agent_instances (definition_id);
CREATE INDEX idx_agent_instances_status ON db_agent_instances (status);
"""

_AGENTS = """
CREATE TABLE db_agents (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    is_template        INTEGER NOT NULL DEFAULT 0,
    parent_template_id TEXT NOT NULL DEFAULT '',
    provider           TEXT NOT NULL,
    definition_id      TEXT NOT NULL DEFAULT '',
    identity_id        TEXT NOT NULL DEFAULT '',
    working_directory  TEXT NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL DEFAULT 0,
    updated_at         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_agents_is_template ON db_agents (is_template);
"""

_MIGRATIONS = """
CREATE TABLE db_migrations (
    id          TEXT PRIMARY KEY,
    applied_at  TEXT NOT NULL,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    scope       TEXT NOT NULL DEFAULT 'channel'
);
"""


def ddl(era: Era) -> str:
    """The whole schema of an empty store of ``era``, as one SQL script (blank bundle included)."""
    shape = era.shape
    parts = [_WORKSPACES]
    if shape.early_chain:
        parts.append(_EARLY_CHAIN_BUNDLES)
    if shape.bundles:
        parts.append(_BUNDLES)
        parts.append(_BLANK_BUNDLE)
    if shape.accounts:
        parts.append(_accounts(shape.accounts))
    if shape.bundles and shape.accounts:
        parts.append(_bindings(shape.accounts))
    if shape.instances:
        parts.append(_DEFINITIONS_AND_INSTANCES)
    if shape.agents:
        parts.append(_AGENTS)
    if shape.migrations:
        parts.append(_MIGRATIONS)
    return "\n".join(parts)


def create_store(path: Path, era: Era | enum.Enum, wal: bool = True) -> Path:
    """Create an empty store of ``era`` at ``path`` (parent folders too) and return ``path``.

    Args:
        path: the store file to create; it must not exist yet.
        era: which period's store to build; the demo's ``StoreShape`` is taken by its value,
            for tests written before :class:`Era` existed.
        wal: open it in WAL mode first, as AgentMux does (§2).
    """
    era = era if isinstance(era, Era) else Era(era.value)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise FileExistsError(path)
    with closing(sqlite3.connect(str(path))) as conn:
        if wal:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(ddl(era))
        conn.execute(f"PRAGMA user_version = {era.shape.user_version}")
        conn.commit()
    return path


# --------------------------------------------------------------------------------------------
# Rows

#: A creation time inside the bundle era for rows a fixture adds (2023-11-14, as the demo's).
FIXTURE_AT_MS = 1_700_000_000_000


def accounts_table_of(conn: sqlite3.Connection) -> str:
    """The name of the accounts table in an open store (either name of §3)."""
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return ACCOUNTS_OLD if ACCOUNTS_OLD in names else ACCOUNTS_NEW


def add_bundle(conn: sqlite3.Connection, bundle_id: str, name: str, at_ms: int = FIXTURE_AT_MS) -> None:
    """Add a user bundle (not blank, empty description)."""
    conn.execute(
        "INSERT INTO db_identity_bundles (id, name, description, is_blank, created_at, updated_at) "
        "VALUES (?, ?, '', 0, ?, ?)",
        (bundle_id, name, at_ms, at_ms),
    )


def add_account(
    conn: sqlite3.Connection, account_id: str, provider: str, secret_ref: str,
    kind: str = "oauth", status: str = "valid", at_ms: int = FIXTURE_AT_MS,
) -> None:
    """Add an account named ``<provider>-<kind>`` with the given ``secret_ref`` text."""
    conn.execute(
        f"INSERT INTO {accounts_table_of(conn)} (id, name, provider, kind, display_name, secret_ref, "
        "context, status, created_at, updated_at) VALUES (?, ?, ?, ?, '', ?, '{}', ?, ?, ?)",
        (account_id, f"{provider}-{kind}", provider, kind, secret_ref, status, at_ms, at_ms),
    )


def bind(conn: sqlite3.Connection, bundle_id: str, provider: str, account_id: str) -> None:
    """Bind an account to a bundle for a provider (the account must exist: foreign keys, §3)."""
    conn.execute(
        "INSERT INTO db_identity_bindings (identity_id, provider, account_id) VALUES (?, ?, ?)",
        (bundle_id, provider, account_id),
    )


def add_instances(
    conn: sqlite3.Connection, identities: Iterable[str], definition: str = "def-1", prefix: str = "inst"
) -> int:
    """Add a definition (if missing; its own slug, §3) and one instance per identity_id given.

    Returns:
        How many instances were added.
    """
    conn.execute(
        "INSERT OR IGNORE INTO db_agent_definitions (id, name, provider, slug) VALUES (?, ?, 'claude', ?)",
        (definition, definition, f"slug-{definition}"),
    )
    rows = [(f"{prefix}-{i}", definition, identity) for i, identity in enumerate(identities)]
    conn.executemany(
        "INSERT INTO db_agent_instances (id, definition_id, identity_id, started_at) VALUES (?, ?, ?, 1)",
        rows,
    )
    return len(rows)


def add_db_agents(conn: sqlite3.Connection, rows: Iterable[tuple[str, int, str, str]]) -> None:
    """Add ``db_agents`` rows given as (id, is_template, definition_id, identity_id)."""
    conn.executemany(
        "INSERT INTO db_agents (id, name, is_template, provider, definition_id, identity_id) "
        "VALUES (?, ?, ?, 'claude', ?, ?)",
        [(row[0], row[0], row[1], row[2], row[3]) for row in rows],
    )


def record_migration(conn: sqlite3.Connection, migration_id: str = "0008_default_bundle",
                     scope: str = "channel", applied_at: str = "2026-06-25T10:00:00+00:00") -> None:
    """Add a ``db_migrations`` row, as AgentMux records an applied migration (§3)."""
    conn.execute(
        "INSERT INTO db_migrations (id, applied_at, duration_ms, scope) VALUES (?, ?, 12, ?)",
        (migration_id, applied_at, scope),
    )
