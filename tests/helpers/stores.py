"""Shared fixtures for the engine and CLI tests.

Stores built to the contract, homes with credentials, a canonical dump of a store for
comparisons, and a way to run the CLI.

Everything here builds *real* files: SQLite stores through ``tests/helpers/schema.py`` (the test
suite's own copy of the contract's schema per era, docs/agentmux-store.md §3; the product's demo
keeps its own) and credentials files in a temporary home. The canonical dump is what the tests
compare to prove "nothing else was touched" and "undo restores exactly".

Functions that take a store shape accept the test-side :class:`~tests.helpers.schema.Era` or the
demo's ``StoreShape`` (whose values are the same): tests written before ``Era`` existed pass the
latter.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentmux_companion.core import sandbox as sb
from agentmux_companion.core.sandbox import StoreShape
from tests.helpers import schema
from tests.helpers.schema import Era

#: A fixed clock inside the bundle era (2026-05-28), the same one the demo uses.
NOW_MS = sb.DEMO_NOW_MS
HOUR_MS = 3_600_000

#: Eras the migration supports, and the refused ones (docs/agentmux-store.md §1).
SUPPORTED_SHAPES = (
    StoreShape.FLAT,
    StoreShape.WITH_AGENTS,
    StoreShape.WITH_MIGRATIONS,
    StoreShape.ACCOUNTS_RENAMED,
    StoreShape.SHARED,
    StoreShape.SHARED_RENAMED,
)
SHARED_SHAPES = (StoreShape.SHARED, StoreShape.SHARED_RENAMED)
REFUSED_SHAPES = (StoreShape.PRE_BUNDLE, StoreShape.EARLY_CHAIN, StoreShape.POST_BUNDLE)
OAUTH_PROVIDERS = ("claude", "codex", "openclaw")

#: Token strings planted in credentials files; none may ever leave the file they are in.
PLANTED_TOKENS = (
    "sk-ant-oat01-PLANTED-claude-access-7f3a9c",
    "sk-ant-ort01-PLANTED-claude-refresh-2b8d1e",
    "PLANTEDcodexAccess0123456789abcdef",
    "PLANTEDcodexRefresh9876543210fedcba",
    "PLANTED-openclaw-secret-Zq81Lm",
)

UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


# --------------------------------------------------------------------------------------------
# Stores


def as_era(shape: StoreShape | Era) -> Era:
    """The test-side era of a shape given either way."""
    return shape if isinstance(shape, Era) else Era(shape.value)


def store_file_name(shape: StoreShape | Era) -> str:
    """``store.db`` for the shared store's shapes, ``objects.db`` for channel stores."""
    return as_era(shape).shape.file_name


def accounts_table(shape: StoreShape | Era) -> str:
    table = as_era(shape).shape.accounts
    assert table is not None, f"{shape} has no accounts table"
    return table


def has_instances(shape: StoreShape | Era) -> bool:
    era = as_era(shape)
    return era.supported and era.shape.instances


def has_db_agents(shape: StoreShape | Era) -> bool:
    era = as_era(shape)
    return era.supported and era.shape.agents


def has_migrations_table(shape: StoreShape | Era) -> bool:
    era = as_era(shape)
    return era.supported and era.shape.migrations


@dataclass
class StoreSpec:
    """What to put in a store besides the blank singleton.

    Attributes:
        bundles: (id, name) of user bundles.
        accounts: (id, provider, kind) of accounts; secret_ref is an env ref.
        bindings: (bundle id, provider, account id).
        instances: identity_id of each ``db_agent_instances`` row (ignored without the table).
        agents: (id, is_template, definition_id, identity_id) rows of ``db_agents``.
        migration_recorded: put a ``0008_default_bundle`` row in ``db_migrations`` first.
    """

    bundles: Sequence[tuple[str, str]] = ()
    accounts: Sequence[tuple[str, str, str]] = ()
    bindings: Sequence[tuple[str, str, str]] = ()
    instances: Sequence[str] = ()
    agents: Sequence[tuple[str, int, str, str]] = ()
    migration_recorded: bool = False
    extra_sql: Sequence[str] = field(default_factory=tuple)


def build_store(path: Path, shape: StoreShape | Era, spec: StoreSpec | None = None, wal: bool = True) -> Path:
    """Create a store of ``shape`` at ``path`` filled as ``spec`` says."""
    spec = spec or StoreSpec()
    schema.create_store(path, as_era(shape), wal=wal)
    with closing(sqlite3.connect(str(path))) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for bundle_id, name in spec.bundles:
            schema.add_bundle(conn, bundle_id, name)
        for account_id, provider, kind in spec.accounts:
            schema.add_account(conn, account_id, provider, f'{{"backend":"env","env_var":"{provider.upper()}_KEY"}}',
                               kind=kind)
        for bundle_id, provider, account_id in spec.bindings:
            schema.bind(conn, bundle_id, provider, account_id)
        if spec.instances and has_instances(shape):
            schema.add_instances(conn, spec.instances)
        if spec.agents and has_db_agents(shape):
            schema.add_db_agents(conn, spec.agents)
        if spec.migration_recorded and has_migrations_table(shape):
            schema.record_migration(conn)
        for statement in spec.extra_sql:
            conn.execute(statement)
        conn.commit()
    return path


def channel_store_path(root: Path, version: str, channel: str = "stable") -> Path:
    return root / "channels" / channel / "versions" / version / "data" / "db" / "objects.db"


# --------------------------------------------------------------------------------------------
# The canonical dump


def _sort_key(row: tuple[Any, ...]) -> tuple[tuple[str, Any], ...]:
    # Pairs (type name, value): values of one type compare among themselves, None as 0.
    return tuple((type(v).__name__, 0 if v is None else v) for v in row)


def dump_store(path: Path) -> dict[str, Any]:
    """Every table's rows (sorted), the schema and ``user_version``: the store's whole content.

    Opened read-write on purpose: after a killed writer a WAL file may hold committed pages, and
    a reader must see them exactly as AgentMux (which opens read-write) would.
    """
    with closing(sqlite3.connect(str(path))) as conn:
        schema = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1, 2, 3, 4"
        ).fetchall()
        tables = [name for kind, name, _t, _s in schema if kind == "table"]
        content = {}
        for table in tables:
            # Ordered by every column in SQL (fast on big stores); SQLite orders mixed types
            # deterministically, so the dump does not depend on insertion order.
            width = len(conn.execute(f'SELECT * FROM "{table}" LIMIT 0').description)
            order = ", ".join(str(i) for i in range(1, width + 1))
            content[table] = conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}').fetchall()
        user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    return {"user_version": user_version, "schema": schema, "tables": content}


def normalize_dump(dump: Mapping[str, Any], original: Mapping[str, Any]) -> dict[str, Any]:
    """``dump`` with what legitimately differs between two equal migrations made comparable.

    New account ids are random UUID4s and ``db_migrations.duration_ms`` is measured: both are
    replaced by placeholders (an id that was already in ``original`` is kept as it is).
    """
    known: set[str] = set()
    for table in ("db_identity_accounts", "db_accounts"):
        known.update(row[0] for row in original["tables"].get(table, []))
    mapping: dict[str, str] = {}
    for table in ("db_identity_accounts", "db_accounts"):
        for row in dump["tables"].get(table, []):
            if row[0] not in known:
                mapping[row[0]] = f"<new-account:{row[2]}>"
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for table, rows in dump["tables"].items():
        new_rows = []
        for row in rows:
            values = tuple(mapping.get(v, v) if isinstance(v, str) else v for v in row)
            if table == "db_migrations":
                values = (*values[:2], "<duration>", *values[3:])
            new_rows.append(values)
        tables[table] = sorted(new_rows, key=_sort_key)
    return {"user_version": dump["user_version"], "schema": dump["schema"], "tables": tables}


def rows(path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(str(path))) as conn:
        return conn.execute(sql, params).fetchall()


@dataclass(frozen=True)
class FileState:
    """The bytes and mtime of a store and which of its side files exist."""

    data: bytes
    mtime_ns: int
    side_files: tuple[str, ...]


def file_state(path: Path) -> FileState:
    side = tuple(
        suffix for suffix in ("-wal", "-shm", "-journal")
        if path.with_name(path.name + suffix).exists()
    )
    return FileState(path.read_bytes(), path.stat().st_mtime_ns, side)


# --------------------------------------------------------------------------------------------
# Homes and credentials


def claude_creds(expires_at_ms: int | None = NOW_MS + HOUR_MS, refresh: str | None = PLANTED_TOKENS[1],
                 access: str = PLANTED_TOKENS[0]) -> str:
    oauth: dict[str, Any] = {"accessToken": access, "scopes": ["user:inference"]}
    if refresh is not None:
        oauth["refreshToken"] = refresh
    if expires_at_ms is not None:
        oauth["expiresAt"] = expires_at_ms
    return json.dumps({"claudeAiOauth": oauth}, indent=2)


def generic_creds(expires_at_ms: int | None = NOW_MS + HOUR_MS, refresh: str | None = PLANTED_TOKENS[3],
                  access: str = PLANTED_TOKENS[2]) -> str:
    document: dict[str, Any] = {"access_token": access, "token_type": "Bearer"}
    if refresh is not None:
        document["refresh_token"] = refresh
    if expires_at_ms is not None:
        document["expires_at"] = expires_at_ms
    return json.dumps(document, indent=2)


def write_creds(home: Path, provider: str, text: str | bytes) -> Path:
    """Write ``<home>/.<provider>/.credentials.json`` (the auth dir is the provider id here)."""
    folder = home / f".{provider}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".credentials.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_all_creds(home: Path, providers: Iterable[str] = OAUTH_PROVIDERS) -> None:
    """Plausible credentials with the planted tokens for each provider given."""
    for provider in providers:
        if provider == "claude":
            write_creds(home, provider, claude_creds())
        elif provider == "codex":
            write_creds(home, provider, generic_creds())
        else:
            write_creds(home, provider, generic_creds(access=PLANTED_TOKENS[4], refresh=PLANTED_TOKENS[4] + "r"))


def isolated(shape: StoreShape | Era) -> bool:
    """Whether a store of ``shape`` gets copy-once semantics (docs/agentmux-store.md §7b).

    That is a shared store, or an objects.db with a migrations table or at version 10 or more.
    """
    return as_era(shape).semantics == "isolated"


def expected_dir(home: Path, provider: str, isolated: bool = False) -> Path:
    """Where a seeded account points: the CLI's folder, or AgentMux's own copy (§7b)."""
    return home / ".agentmux" / "shared" / "providers" / provider if isolated else home / f".{provider}"


def expected_secret_ref(home: Path, provider: str, isolated: bool = False) -> str:
    """The exact secret_ref text of docs/agentmux-store.md §4, written out by hand (not by the code under test)."""
    escaped = str(expected_dir(home, provider, isolated)).replace("\\", "\\\\").replace('"', '\\"')
    return '{"backend":"o_auth_config_dir","dir":"' + escaped + '"}'


# --------------------------------------------------------------------------------------------
# Running the command line


#: A command-line argument as tests write it: numbers (``--now-ms``, NOW_MS) are turned into text.
CliArg = str | int | os.PathLike[str]


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(*argv: CliArg) -> CliRun:
    """Run ``agentmux-companion`` in this process (fast), capturing stdout and stderr."""
    from agentmux_companion.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return CliRun(code, out.getvalue(), err.getvalue())


def cli_command(*argv: CliArg) -> list[str]:
    return [sys.executable, "-m", "agentmux_companion", *(str(a) for a in argv)]


def run_cli_process(
    *argv: CliArg, env: Mapping[str, str] | None = None, timeout: float = 60, **kwargs: Any
) -> CliRun:
    """Run ``agentmux-companion`` as a real process, with no terminal on stdin."""
    completed = subprocess.run(
        cli_command(*argv), capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, env=dict(os.environ if env is None else env), check=False, **kwargs,
    )
    return CliRun(completed.returncode, completed.stdout, completed.stderr)


#: A realistic legacy store: a user bundle binding a non-OAuth provider, legacy instances, and
#: db_agents rows of every kind.
LEGACY_SPEC = StoreSpec(
    bundles=[("b-work", "Work")],
    accounts=[("acc-gemini", "gemini", "api_key")],
    bindings=[("b-work", "gemini", "acc-gemini")],
    instances=["", "blank", "b-work", ""],
    agents=[("tpl", 1, "", ""), ("a-empty", 0, "def-1", ""), ("a-blank", 0, "def-1", "blank"),
            ("a-work", 0, "def-1", "b-work")],
)
