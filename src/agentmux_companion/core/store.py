"""AgentMux stores: where they are, which era they are of, how to open them (docs/agentmux-store.md §1-§3).

Era detection reads ``sqlite_master`` through a read-only connection, never ``user_version``
alone, and never writes: inspecting a store of any era leaves it byte-for-byte as it was.
"""

from __future__ import annotations

import enum
import os
import re
import sqlite3
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentmux_companion.core.paths import AppPaths

#: AgentMux's own connection settings (docs/agentmux-store.md §2); the companion uses the same.
BUSY_TIMEOUT_MS = 5000
LOCK_FILE_NAME = "migrations.lock.db"

BUNDLES = "db_identity_bundles"
BINDINGS = "db_identity_bindings"
ACCOUNTS_OLD = "db_identity_accounts"
ACCOUNTS_NEW = "db_accounts"
INSTANCES = "db_agent_instances"
AGENTS = "db_agents"
MIGRATIONS = "db_migrations"

#: Columns the migration reads or writes, per table: a bundle-era store lacking one of them does
#: not match the contract and is refused rather than half-migrated.
REQUIRED_COLUMNS: dict[str, frozenset[str]] = {
    BUNDLES: frozenset({"id", "name", "description", "is_blank", "created_at", "updated_at"}),
    BINDINGS: frozenset({"identity_id", "provider", "account_id"}),
    "accounts": frozenset(
        {"id", "name", "provider", "kind", "display_name", "secret_ref", "context", "status",
         "created_at", "updated_at"}
    ),
    INSTANCES: frozenset({"id", "identity_id"}),
    AGENTS: frozenset({"id", "identity_id", "is_template", "definition_id"}),
    MIGRATIONS: frozenset({"id", "applied_at", "duration_ms", "scope"}),
}


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
        return self in (Era.BUNDLE, Era.BUNDLE_ACCOUNTS_RENAMED)


class StoreKind(enum.StrEnum):
    CHANNEL = "channel"
    LEGACY_VERSIONS = "versions"
    DEV = "dev"
    SHARED = "shared"
    EXPLICIT = "explicit"


@dataclass(frozen=True)
class StoreLocation:
    """A store file found on disk (or named with ``--store``).

    Attributes:
        path: the SQLite file.
        kind: which layout it was found in.
        channel: the channel for channel stores, else ''.
        version: the AgentMux version for versioned stores, else ''.
        default_target: migrated unless the user picks otherwise (newest of the channel in use,
            and the shared store; explicit ``--store`` paths are always targets).
    """

    path: Path
    kind: StoreKind
    channel: str = ""
    version: str = ""
    default_target: bool = False

    @property
    def label(self) -> str:
        if self.kind is StoreKind.SHARED:
            return "shared store"
        if self.kind is StoreKind.DEV:
            return f"dev build {self.version}"
        if self.kind is StoreKind.EXPLICIT:
            return str(self.path)
        return f"{self.channel} {self.version}".strip()

    @property
    def is_shared(self) -> bool:
        return self.kind is StoreKind.SHARED or self.path.name == "store.db"


@dataclass(frozen=True)
class StoreInspection:
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
# Discovery (docs/agentmux-store.md §2)

_VERSION_PART = re.compile(r"(\d+)|([A-Za-z]+)")


def version_key(version: str) -> tuple[tuple[int, ...], int, tuple[str, ...]]:
    """Sort key comparing versions as version numbers: 0.10.2 > 0.9.0; 1.0.0 > 1.0.0-beta.1.

    Args:
        version: a folder name such as ``0.33.1`` or ``v0.34.0-rc.2``.
    """
    text = version.lstrip("vV")
    release, _, pre = text.partition("-")
    numbers = tuple(int(n) for n in re.findall(r"\d+", release))
    # A release sorts after its pre-releases. Pre-release parts compare as semver does: numbers
    # numerically (zero-padded), words as written (alpha < beta < rc), numbers before words.
    return numbers, (0 if pre else 1), tuple(
        m.group(1).zfill(12) if m.group(1) else m.group(2) for m in _VERSION_PART.finditer(pre)
    )


def _objects_db(data_parent: Path) -> Path:
    return data_parent / "data" / "db" / "objects.db"


def _subdirs(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if p.is_dir())
    except OSError:
        return []


def discover_stores(paths: AppPaths) -> list[StoreLocation]:
    """Every AgentMux store under the root, newest of the channel in use first.

    Channel stores of every channel and version, the older ``<root>/versions`` layout, developer
    builds and the shared store. Default targets: the newest version of the channel in use (the
    older layout counts as the ``stable`` channel it was) plus the shared store; whether the shared
    store is of the bundle era is decided later by inspection.
    """
    root = paths.agentmux_root
    found: list[StoreLocation] = []
    for channel_dir in _subdirs(root / "channels"):
        for version_dir in _subdirs(channel_dir / "versions"):
            db = _objects_db(version_dir)
            if db.is_file():
                found.append(StoreLocation(db, StoreKind.CHANNEL, channel_dir.name, version_dir.name))
    for version_dir in _subdirs(root / "versions"):
        db = _objects_db(version_dir)
        if db.is_file():
            found.append(StoreLocation(db, StoreKind.LEGACY_VERSIONS, "stable", version_dir.name))
    for branch_dir in _subdirs(root / "dev"):
        db = _objects_db(branch_dir)
        if db.is_file():
            found.append(StoreLocation(db, StoreKind.DEV, "dev", branch_dir.name))
        for clone_dir in _subdirs(branch_dir):
            db = _objects_db(clone_dir)
            if db.is_file():
                found.append(
                    StoreLocation(db, StoreKind.DEV, "dev", f"{branch_dir.name}/{clone_dir.name}")
                )

    in_channel = [s for s in found if s.kind is not StoreKind.DEV and s.channel == paths.channel]
    # Newest version first; on a tie the channels layout (the newer one) wins.
    in_channel.sort(key=lambda s: (version_key(s.version), s.kind is StoreKind.CHANNEL), reverse=True)
    newest = in_channel[0] if in_channel else None
    ordered: list[StoreLocation] = []
    if newest is not None:
        ordered.append(_with_default(newest))
    shared = paths.shared_dir / "store.db"
    if shared.is_file():
        ordered.append(StoreLocation(shared, StoreKind.SHARED, default_target=True))
    rest = [s for s in found if s is not newest]
    # Channel in use first, then other channels, developer builds last; newest version first.
    rest.sort(key=lambda s: version_key(s.version), reverse=True)
    rest.sort(key=lambda s: (s.kind is StoreKind.DEV, s.channel != paths.channel, s.channel))
    ordered.extend(rest)
    return ordered


def _with_default(location: StoreLocation) -> StoreLocation:
    return StoreLocation(
        location.path, location.kind, location.channel, location.version, default_target=True
    )


def explicit_locations(store_paths: Iterable[Path | str]) -> list[StoreLocation]:
    """Locations for ``--store`` paths: always targets, existing or not (inspection says).

    The same file named twice (or through a link) is one store: migrating it twice in one run
    would report the second as changed although the first wrote it.
    """
    seen: set[Path] = set()
    found = []
    for given in store_paths:
        path = Path(given).expanduser()
        real = path.resolve()
        if real in seen:
            continue
        seen.add(real)
        found.append(StoreLocation(path, StoreKind.EXPLICIT, default_target=True))
    return found


# --------------------------------------------------------------------------------------------
# Opening


def readonly_uri(path: Path) -> str:
    """A ``file:`` URI that opens ``path`` read-only (for connect and ATTACH)."""
    return path.resolve().as_uri() + "?mode=ro"


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection: inspection and planning never write, not even a journal mode.

    A plain ``mode=ro`` connection to a WAL-mode store creates ``-wal`` and ``-shm`` files beside
    it and leaves them there when it closes (and cannot open at all in a read-only folder). When
    neither a ``-wal`` nor a ``-journal`` file exists, no connection has the store open for
    writing and the file alone holds its whole content, so it is read as ``immutable``: nothing
    is created beside it. Decisions are re-read inside apply's write transaction anyway.
    """
    uri = readonly_uri(path)
    if not any(path.with_name(path.name + suffix).exists() for suffix in ("-wal", "-journal")):
        uri += "&immutable=1"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def open_for_write(path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """A connection configured as AgentMux configures its own (WAL, busy timeout, foreign keys).

    The connection is in manual-transaction mode (``isolation_level=None``) so the caller issues
    ``BEGIN IMMEDIATE`` itself. It is opened by URI so that it can ATTACH files read-only.
    """
    conn = sqlite3.connect(path.resolve().as_uri(), uri=True, timeout=busy_timeout_ms / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
    except BaseException:
        conn.close()
        raise
    return conn


def fetch_row(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], key: str, value: str
) -> dict[str, Any] | None:
    """One row as a column → value dict (``key`` is the table's primary key), or None."""
    found = conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {key} = ?", (value,)).fetchone()
    return dict(zip(columns, found, strict=True)) if found else None


def is_busy_error(exc: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for a lock (``database is locked`` / ``busy``)."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextmanager
def migrations_lock(store_path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Iterator[bool]:
    """Hold AgentMux's ``migrations.lock.db`` (when it exists) the way its runner does.

    Yields True when a lock file was present and is now held. Raises ``sqlite3.OperationalError``
    ("database is locked") when AgentMux holds it past the busy timeout.
    """
    lock_path = store_path.parent / LOCK_FILE_NAME
    if not lock_path.is_file():
        yield False
        return
    conn = sqlite3.connect(str(lock_path), timeout=busy_timeout_ms / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield True
        finally:
            conn.execute("ROLLBACK")
    finally:
        conn.close()


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


#: ``user_version`` of bundle-era stores (docs/agentmux-store.md §3): a number beyond these was
#: written by a build the companion does not know, whatever the tables look like.
BUNDLE_ERA_USER_VERSIONS = {"objects.db": range(1, 12), "store.db": range(1, 4)}


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


# --------------------------------------------------------------------------------------------
# Is AgentMux running?

_AGENTMUX_PROCESS = re.compile(r"^agentmux(srv)?([-_.]?rs)?(\.exe)?$", re.IGNORECASE)


def agentmux_process_running() -> bool:
    """Whether an AgentMux app or server process runs (best effort; Linux reads /proc)."""
    if sys.platform.startswith("linux"):
        proc = Path("/proc")
        try:
            entries = list(proc.iterdir())
        except OSError:
            return False
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                name = (entry / "comm").read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                continue
            if _AGENTMUX_PROCESS.match(name):
                return True
        return False
    return _process_list_mentions_agentmux()


def _process_list_mentions_agentmux() -> bool:
    import subprocess

    command = ["tasklist", "/FO", "CSV", "/NH"] if os.name == "nt" else ["ps", "-axo", "comm="]
    try:
        output = subprocess.run(
            command, capture_output=True, text=True, timeout=3, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    for line in output.splitlines():
        name = Path(line.strip().strip('"').split('","')[0]).name
        if _AGENTMUX_PROCESS.match(name):
            return True
    return False


def store_in_use(path: Path) -> bool:
    """Whether some connection appears to have the store open (a non-empty WAL file beside it).

    SQLite removes the WAL file when the last connection closes, so a live one means a program
    (normally AgentMux's server) has the store open, or crashed with it open.
    """
    wal = path.with_name(path.name + "-wal")
    try:
        return wal.stat().st_size > 0
    except OSError:
        return False
