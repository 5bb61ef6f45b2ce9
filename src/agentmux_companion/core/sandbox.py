"""Stores and homes built to the contract for the demo sandbox.

The DDL below is AgentMux's, per era, as the contract describes it (docs/agentmux-store.md §1, §3):
what a user's store really looks like, so the demo exercises the real shapes. The tests build
their stores from their own copy (tests/helpers/schema.py); tests/test_schema.py keeps both equal.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

BUNDLES_DDL = """
CREATE TABLE db_identity_bundles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    is_blank INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_identity_bundles_is_blank ON db_identity_bundles(is_blank);
INSERT INTO db_identity_bundles (id, name, description, is_blank, created_at, updated_at)
VALUES ('blank', '__blank__', 'No credentials — use ambient', 1, 0, 0);
"""

ACCOUNTS_DDL = """
CREATE TABLE {accounts} (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    provider TEXT NOT NULL,
    kind TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    secret_ref TEXT NOT NULL,
    context TEXT NOT NULL DEFAULT '{{}}',
    status TEXT NOT NULL DEFAULT 'unknown',
    created_at INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_{accounts}_provider ON {accounts}(provider);
"""

BINDINGS_DDL = """
CREATE TABLE db_identity_bindings (
    identity_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (identity_id, provider),
    FOREIGN KEY (identity_id) REFERENCES db_identity_bundles(id) ON DELETE CASCADE,
    FOREIGN KEY (account_id) REFERENCES {accounts}(id) ON DELETE CASCADE
);
CREATE INDEX idx_identity_bindings_account ON db_identity_bindings(account_id);
"""

AGENTS_DDL = """
CREATE TABLE db_agent_definitions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    provider TEXT NOT NULL,
    slug TEXT NOT NULL DEFAULT '',
    working_directory TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX idx_agent_definitions_slug ON db_agent_definitions(slug);
CREATE TABLE db_agent_instances (
    id TEXT PRIMARY KEY,
    definition_id TEXT NOT NULL,
    parent_instance_id TEXT NOT NULL DEFAULT '',
    block_id TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'running',
    github_context TEXT NOT NULL DEFAULT '',
    identity_id TEXT NOT NULL DEFAULT '',
    memory_id TEXT NOT NULL DEFAULT '',
    instance_name TEXT NOT NULL DEFAULT '',
    working_directory TEXT NOT NULL DEFAULT '',
    display_hidden INTEGER NOT NULL DEFAULT 0,
    started_at INTEGER NOT NULL DEFAULT 0,
    ended_at INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (definition_id) REFERENCES db_agent_definitions(id) ON DELETE CASCADE
);
CREATE INDEX idx_agent_instances_definition ON db_agent_instances(definition_id);
CREATE INDEX idx_agent_instances_status ON db_agent_instances(status);
"""

DB_AGENTS_DDL = """
CREATE TABLE db_agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    is_template INTEGER NOT NULL DEFAULT 0,
    parent_template_id TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL,
    definition_id TEXT NOT NULL DEFAULT '',
    identity_id TEXT NOT NULL DEFAULT '',
    working_directory TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_agents_is_template ON db_agents(is_template);
"""

MIGRATIONS_DDL = """
CREATE TABLE db_migrations (
    id TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    scope TEXT NOT NULL DEFAULT 'channel'
);
"""


class StoreShape(enum.Enum):
    """Store shapes of each era (docs/agentmux-store.md §1)."""

    PRE_BUNDLE = "pre-bundle"
    EARLY_CHAIN = "early-chain"
    FLAT = "flat"                      # May 19-23: identity tables, instances; user_version 1
    WITH_AGENTS = "with-agents"        # late May: + db_agents; user_version 4
    WITH_MIGRATIONS = "with-migrations"  # Jun 24: + db_migrations
    ACCOUNTS_RENAMED = "accounts-renamed"  # Jul 12: db_accounts; user_version 11
    SHARED = "shared"                  # store.db: bundles/bindings/accounts/db_migrations, no instances
    SHARED_RENAMED = "shared-renamed"  # store.db after Jul 12 (user_version 3)
    POST_BUNDLE = "post-bundle"        # Jul 13+: bundle tables dropped


def create_store(path: Path, shape: StoreShape, wal: bool = True) -> Path:
    """Create an empty store of ``shape`` at ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    renamed = (StoreShape.ACCOUNTS_RENAMED, StoreShape.SHARED_RENAMED, StoreShape.POST_BUNDLE)
    accounts = "db_accounts" if shape in renamed else "db_identity_accounts"
    parts: list[str] = ["CREATE TABLE db_workspaces (id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '');"]
    user_version = 0
    if shape is StoreShape.EARLY_CHAIN:
        parts.append("CREATE TABLE db_identities (id TEXT PRIMARY KEY, name TEXT NOT NULL);")
    elif shape is StoreShape.POST_BUNDLE:
        parts += [ACCOUNTS_DDL.format(accounts=accounts), AGENTS_DDL, DB_AGENTS_DDL, MIGRATIONS_DDL]
        user_version = 12
    elif shape is not StoreShape.PRE_BUNDLE:
        parts += [BUNDLES_DDL, ACCOUNTS_DDL.format(accounts=accounts), BINDINGS_DDL.format(accounts=accounts)]
        if shape in (StoreShape.SHARED, StoreShape.SHARED_RENAMED):
            parts.append(MIGRATIONS_DDL)
            user_version = 3 if shape is StoreShape.SHARED_RENAMED else 1
        else:
            parts.append(AGENTS_DDL)
            user_version = 1
            if shape is not StoreShape.FLAT:
                parts.append(DB_AGENTS_DDL)
                user_version = 4
            if shape in (StoreShape.WITH_MIGRATIONS, StoreShape.ACCOUNTS_RENAMED):
                parts.append(MIGRATIONS_DDL)
                user_version = 11 if shape is StoreShape.ACCOUNTS_RENAMED else 8
    with closing(sqlite3.connect(str(path))) as conn:
        if wal:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript("\n".join(parts))
        conn.execute(f"PRAGMA user_version = {user_version}")
        conn.commit()
    return path


def accounts_table_of(conn: sqlite3.Connection) -> str:
    """The accounts table of a store: renamed to ``db_identity_accounts`` in later builds."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return "db_identity_accounts" if "db_identity_accounts" in names else "db_accounts"


def add_bundle(conn: sqlite3.Connection, bundle_id: str, name: str, at_ms: int = 1_700_000_000_000) -> None:
    """Insert an identity bundle (AgentMux's name for a set of bound accounts)."""
    conn.execute(
        "INSERT INTO db_identity_bundles (id, name, description, is_blank, created_at, updated_at) "
        "VALUES (?, ?, '', 0, ?, ?)",
        (bundle_id, name, at_ms, at_ms),
    )


def add_account(
    conn: sqlite3.Connection, account_id: str, provider: str, secret_ref: str,
    kind: str = "oauth", status: str = "valid", at_ms: int = 1_700_000_000_000,
) -> None:
    """Insert an account into the store's accounts table, in whichever era's name it has."""
    conn.execute(
        f"INSERT INTO {accounts_table_of(conn)} (id, name, provider, kind, display_name, secret_ref, "
        "context, status, created_at, updated_at) VALUES (?, ?, ?, ?, '', ?, '{}', ?, ?, ?)",
        (account_id, f"{provider}-{kind}", provider, kind, secret_ref, status, at_ms, at_ms),
    )


def bind(conn: sqlite3.Connection, bundle_id: str, provider: str, account_id: str) -> None:
    """Bind ``account_id`` as the bundle's account for ``provider``."""
    conn.execute(
        "INSERT INTO db_identity_bindings (identity_id, provider, account_id) VALUES (?, ?, ?)",
        (bundle_id, provider, account_id),
    )


def add_instances(
    conn: sqlite3.Connection, identities: Iterable[str], definition: str = "def-1", prefix: str = "inst"
) -> int:
    """Add a definition (if missing) and one instance per identity_id given."""
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
    """rows: (id, is_template, definition_id, identity_id)."""
    conn.executemany(
        "INSERT INTO db_agents (id, name, is_template, provider, definition_id, identity_id) "
        "VALUES (?, ?, ?, 'claude', ?, ?)",
        [(r[0], r[0], r[1], r[2], r[3]) for r in rows],
    )


# --------------------------------------------------------------------------------------------
# Ambient credentials

def claude_credentials(access: str, refresh: str, expires_at_ms: int) -> str:
    """A Claude Code credentials file's text, in that CLI's own layout."""
    return json.dumps(
        {"claudeAiOauth": {"accessToken": access, "refreshToken": refresh, "expiresAt": expires_at_ms,
                           "scopes": ["user:inference"], "subscriptionType": "pro"}},
        indent=2,
    )


def generic_credentials(access: str, refresh: str, expires_at_ms: int) -> str:
    """A credentials file's text in the generic OAuth layout the other CLIs use."""
    return json.dumps(
        {"access_token": access, "refresh_token": refresh, "expires_at": expires_at_ms, "token_type": "Bearer"},
        indent=2,
    )


def write_credentials(home: Path, auth_dir: str, text: str) -> Path:
    """Write a CLI's ``.credentials.json`` under ``home`` as the CLI would (mode 0600); returns its path."""
    folder = home / f".{auth_dir}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".credentials.json"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------------------------
# The demo sandbox

DEMO_NOW_MS = 1_780_000_000_000  # 2026-05-28, inside the bundle era, before provider isolation
DEMO_VERSION = "0.33.4"
ISOLATED_DEMO_NOW_MS = 1_782_900_000_000  # 2026-07-01: provider isolation and the shared store
ISOLATED_DEMO_VERSION = "0.36.2"
ISOLATED_USER_VERSION = 10

#: The demo sandboxes: a store of a build that points accounts at the CLIs' folders (the
#: default), and one of a build that keeps its own copy of each login (docs/agentmux-store.md §7b).
DEMO_ERAS = ("ambient", "isolated")


class DemoSandbox(NamedTuple):
    """A home with ambient credentials and an AgentMux root with a bundle-era store.

    Attributes:
        era: ``ambient`` or ``isolated``: which build's migration the newest store gets.
        shared_store: the shared ``store.db`` (isolated demo only), else None.
    """

    root: Path
    home: Path
    agentmux_root: Path
    store: Path
    companion_dir: Path
    era: str = "ambient"
    shared_store: Path | None = None


def build_demo_sandbox(root: Path, now_ms: int, era: str = "ambient") -> DemoSandbox:
    """Build the demo sandbox: a home with CLI logins and an AgentMux store to migrate.

    Logins: claude (valid) and codex (expired, refreshable); openclaw absent. The store has a user
    bundle binding gemini, legacy agent rows, and db_agents mirrors.

    ``era="ambient"`` (the default) is a store of late May (version 4, before provider isolation):
    accounts will point at the CLIs' own folders. ``era="isolated"`` is a store of July (version 10,
    with a migrations table) plus the shared store: the migration copies each login once into
    AgentMux's own folder, as AgentMux's builds of that time did.

    Tokens are generated, fake and obviously so; they exist to show that none is ever printed.
    """
    if era not in DEMO_ERAS:
        raise ValueError(f"unknown demo era {era!r}; one of {', '.join(DEMO_ERAS)}")
    isolated = era == "isolated"
    home = root / "home"
    agentmux_root = home / ".agentmux"
    version = ISOLATED_DEMO_VERSION if isolated else DEMO_VERSION
    store = agentmux_root / "channels" / "stable" / "versions" / version / "data" / "db" / "objects.db"
    old_store = agentmux_root / "channels" / "stable" / "versions" / "0.32.0" / "data" / "db" / "objects.db"
    write_credentials(home, "claude", claude_credentials(
        "sk-ant-oat01-DEMO-not-a-real-token", "sk-ant-ort01-DEMO-refresh", now_ms + 6 * 3600 * 1000))
    write_credentials(home, "codex", generic_credentials(
        "codex-DEMO-access-token", "codex-DEMO-refresh-token", now_ms - 2 * 86400 * 1000))
    create_store(old_store, StoreShape.FLAT)
    create_store(store, StoreShape.WITH_MIGRATIONS if isolated else StoreShape.WITH_AGENTS)
    shared_store = None
    if isolated:
        shared_store = create_store(agentmux_root / "shared" / "store.db", StoreShape.SHARED)
        with closing(sqlite3.connect(str(store))) as conn:
            conn.execute(f"PRAGMA user_version = {ISOLATED_USER_VERSION}")
    with closing(sqlite3.connect(str(store))) as conn:
        add_bundle(conn, "b-work", "Work")
        add_account(conn, "acc-gemini", "gemini", '{"backend":"env","env_var":"GEMINI_API_KEY"}', kind="api_key")
        bind(conn, "b-work", "gemini", "acc-gemini")
        add_instances(conn, ["", "", "blank", "b-work", ""], definition="def-claude")
        add_instances(conn, ["blank", ""], definition="def-codex", prefix="codex")
        add_db_agents(conn, [
            ("agent-tpl", 1, "", ""),
            ("agent-1", 0, "def-claude", ""),
            ("agent-2", 0, "def-codex", "blank"),
            ("agent-3", 0, "def-claude", "b-work"),
        ])
        conn.commit()
    return DemoSandbox(root, home, agentmux_root, store, root / "companion", era, shared_store)
