"""Stores the companion must not write: refused eras, corrupt files, busy and read-only stores.

Each case runs ``migrate --yes`` with credentials ready to seed and proves nothing was written:
the store's bytes and mtime are unchanged, no -wal/-shm/-journal file appeared, no backup was
kept, and the exit code and the reason on stderr are the contract's.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.sandbox import StoreShape
from tests.helpers.schema import create_store
from tests.helpers.stores import (
    LEGACY_SPEC,
    NOW_MS,
    CliArg,
    build_store,
    cli_command,
    dump_store,
    file_state,
    run_cli,
    run_cli_process,
    write_all_creds,
)


def backups_kept(home: Path) -> list[Path]:
    backups = AppPaths.resolve(home).backups_dir
    return sorted(p for p in backups.rglob("*") if p.is_file()) if backups.exists() else []


def mismatched_columns(path: Path) -> None:
    create_store(path, StoreShape.WITH_AGENTS)
    with closing(sqlite3.connect(str(path))) as conn:
        # A bundle-era store whose accounts table lacks the status column.
        conn.executescript(
            "DROP TABLE db_identity_bindings; DROP TABLE db_identity_accounts;"
            "CREATE TABLE db_identity_accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL, provider TEXT NOT NULL,"
            " kind TEXT NOT NULL, display_name TEXT NOT NULL DEFAULT '', secret_ref TEXT NOT NULL,"
            " context TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL DEFAULT 0,"
            " updated_at INTEGER NOT NULL DEFAULT 0);"
            "CREATE TABLE db_identity_bindings (identity_id TEXT NOT NULL, provider TEXT NOT NULL,"
            " account_id TEXT NOT NULL, PRIMARY KEY (identity_id, provider));"
        )


def partial_tables(path: Path) -> None:
    create_store(path, StoreShape.PRE_BUNDLE)
    with closing(sqlite3.connect(str(path))) as conn:
        conn.execute("CREATE TABLE db_identity_bundles (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
        conn.commit()


def corrupt(path: Path) -> None:
    build_store(path, StoreShape.WITH_AGENTS, LEGACY_SPEC, wal=False)
    data = bytearray(path.read_bytes())
    data[100:4096] = os.urandom(3996)  # page 1's b-tree (sqlite_master) destroyed, header intact
    path.write_bytes(bytes(data))


def not_a_db(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("this is a text file, not an AgentMux store\n" * 50, encoding="utf-8")


def empty(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


REFUSED = {
    "pre-bundle": (lambda p: build_store(p, StoreShape.PRE_BUNDLE), "predates identity bundles"),
    "early-chain": (lambda p: build_store(p, StoreShape.EARLY_CHAIN), "predates identity bundles"),
    "post-bundle": (lambda p: build_store(p, StoreShape.POST_BUNDLE), "no longer uses identity bundles"),
    "pre-bundle-rollback-journal": (lambda p: create_store(p, StoreShape.PRE_BUNDLE, wal=False),
                                    "predates identity bundles"),
    "mismatched-columns": (mismatched_columns, "lacks column(s) status"),
    "partial-tables": (partial_tables, "only part of the identity-bundle tables"),
    "corrupt": (corrupt, "not a readable SQLite database"),
    "not-a-db": (not_a_db, "not a readable SQLite database"),
    "empty-file": (empty, "predates identity bundles"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_store_is_left_byte_for_byte(tmp_path: Path, private_home: Path, case: str) -> None:
    write_all_creds(private_home)
    build, reason = REFUSED[case]
    store = tmp_path / "agentmux" / "objects.db"
    build(store)
    before = file_state(store)
    result = run_cli("migrate", "--yes", "--home", private_home, "--store", store, "--now-ms", NOW_MS)
    assert result.code == 3, result.err
    assert reason in result.err
    assert file_state(store) == before
    assert backups_kept(private_home) == []
    # plan says the same, with the same exit code, and writes nothing either.
    planned = run_cli("plan", "--json", "--home", private_home, "--store", store, "--now-ms", NOW_MS)
    assert planned.code == 3
    assert reason in planned.json()["stores"][0]["refused"]
    assert file_state(store) == before


def test_missing_store_and_directory(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    missing = tmp_path / "nowhere" / "objects.db"
    result = run_cli("migrate", "--yes", "--home", private_home, "--store", missing)
    assert result.code == 3
    assert "no store at" in result.err
    assert not missing.parent.exists()  # nothing created on the way
    folder = tmp_path / "a-folder.db"
    folder.mkdir()
    result = run_cli("migrate", "--yes", "--home", private_home, "--store", folder)
    assert result.code == 3
    assert "is not a file" in result.err
    assert list(folder.iterdir()) == []


def test_no_store_found_anywhere(private_home: Path) -> None:
    result = run_cli("migrate", "--yes", "--home", private_home)
    assert result.code == 3
    assert "no AgentMux store found" in result.err


# --------------------------------------------------------------------------------------------
# Busy


@contextmanager
def held_immediate(path: Path) -> Iterator[sqlite3.Connection]:
    """Another writer holding the store (or the lock file) with BEGIN IMMEDIATE."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("ROLLBACK")
    finally:
        conn.close()


@pytest.mark.parametrize("held", ["store", "migrations-lock"])
def test_busy_store_exits_4_and_writes_nothing(tmp_path: Path, private_home: Path, held: str) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "agentmux" / "objects.db", StoreShape.WITH_MIGRATIONS, LEGACY_SPEC)
    lock = store.parent / "migrations.lock.db"
    with closing(sqlite3.connect(str(lock))) as conn:
        conn.execute("CREATE TABLE lock (id INTEGER PRIMARY KEY)")
        conn.commit()
    original = dump_store(store)
    before = file_state(store)
    with held_immediate(store if held == "store" else lock):
        result = run_cli_process("migrate", "--yes", "--json", "--busy-timeout-ms", "300",
                                 "--home", private_home, "--store", store, "--now-ms", NOW_MS)
    assert result.code == 4, result.err
    assert "busy" in result.err
    assert "Nothing was written" in result.err
    [entry] = result.json()["stores"]
    assert entry["outcome"] == "busy"
    assert entry["backup"] is None
    assert file_state(store).data == before.data
    assert dump_store(store) == original
    assert backups_kept(private_home) == []
    # Once the other writer is gone, the same command goes through.
    again = run_cli("migrate", "--yes", "--home", private_home, "--store", store, "--now-ms", NOW_MS)
    assert again.code == 0, again.err


# --------------------------------------------------------------------------------------------
# Read-only


#: Root ignores permission bits (CAP_DAC_OVERRIDE), so a chmod makes nothing read-only for it:
#: the CLI then runs without those capabilities, as a normal user would meet the permission.
#: (Windows has no geteuid; the tests that use this are linux_only, but the module must import there.)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
WITHOUT_DAC_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if IS_ROOT else []


def run_as_normal_user(*argv: CliArg) -> tuple[int, str]:
    import subprocess

    completed = subprocess.run([*WITHOUT_DAC_OVERRIDE, *cli_command(*argv)], capture_output=True, text=True,
                               timeout=60, stdin=subprocess.DEVNULL, check=False)
    return completed.returncode, completed.stderr


@pytest.mark.linux_only
@pytest.mark.parametrize("variant", ["file", "folder"])
def test_read_only_store_exits_3_and_writes_nothing(tmp_path: Path, private_home: Path, variant: str) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "agentmux" / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    before = file_state(store)
    if variant == "file":
        store.chmod(0o444)
    else:
        store.parent.chmod(0o555)
    try:
        code, err = run_as_normal_user("migrate", "--yes", "--home", private_home, "--store", store,
                                       "--now-ms", NOW_MS)
    finally:
        store.chmod(0o644)
        store.parent.chmod(0o755)
    assert code == 3, err
    assert ("is read-only" if variant == "file" else "is read-only, so SQLite cannot journal") in err
    assert file_state(store) == before
    assert backups_kept(private_home) == []


@pytest.mark.linux_only
def test_store_on_a_read_only_mount_exits_3(tmp_path: Path, private_home: Path) -> None:
    """A real read-only filesystem (EROFS), which binds root too.

    The store's folder is bind-mounted read-only in a private mount namespace (``unshare``), so
    nothing outside the test sees it.
    """
    import shlex
    import subprocess

    write_all_creds(private_home)
    store = build_store(tmp_path / "agentmux" / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    before = file_state(store)
    folder = shlex.quote(str(store.parent))
    command = " ".join(shlex.quote(a) for a in cli_command(
        "migrate", "--yes", "--home", private_home, "--store", store, "--now-ms", NOW_MS))
    script = f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && exec {command}"
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    completed = subprocess.run([*unshare, "sh", "-c", script], capture_output=True, text=True, timeout=60,
                               stdin=subprocess.DEVNULL, check=False)
    assert completed.returncode == 3, completed.stderr
    assert "read-only" in completed.stderr
    assert file_state(store) == before
