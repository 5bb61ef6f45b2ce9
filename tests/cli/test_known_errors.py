"""Known failures end as known errors (issue #11).

A reason, a next step, exit 3, 4 or 5 — never "unexpected error" (exit 1) — and, where something
was refused, nothing written.

Each case was seen ending as a traceback and exit 1, or with the wrong answer, before the fix.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.sandbox import StoreShape, add_instances
from tests.helpers.stores import (
    LEGACY_SPEC,
    NOW_MS,
    StoreSpec,
    build_store,
    channel_store_path,
    claude_creds,
    cli_command,
    dump_store,
    file_state,
    run_cli,
    write_all_creds,
    write_creds,
)

#: A trigger (the contract's tables and columns stay as they are) that rejects the back-fill.
FROZEN_AGENT_ROWS = (
    "CREATE TRIGGER no_backfill BEFORE UPDATE OF identity_id ON db_agent_instances "
    "BEGIN SELECT RAISE(ABORT, 'agent rows are frozen'); END"
)


def a_store(home: Path, shape: StoreShape = StoreShape.WITH_AGENTS, spec: StoreSpec = LEGACY_SPEC) -> Path:
    return build_store(channel_store_path(home / ".agentmux", "1.0.0"), shape, spec)


def migrate(home: Path, *extra: str | Path) -> tuple[int, str]:
    result = run_cli("migrate", "--yes", "--home", home, "--now-ms", NOW_MS, *extra)
    # Human output wraps to the terminal's width (80 when piped): the messages are read word for word.
    return result.code, " ".join((result.out + result.err).split())


def test_a_trigger_that_rejects_the_backfill_is_refused(private_home: Path) -> None:
    write_all_creds(private_home, ["claude"])
    store = a_store(private_home, spec=StoreSpec(instances=["", "blank"], extra_sql=[FROZEN_AGENT_ROWS]))
    before = dump_store(store)
    code, text = migrate(private_home, "--store", store)
    assert code == 3, text
    assert "refused the change" in text
    assert "agent rows are frozen" in text
    assert "Traceback" not in text
    assert dump_store(store) == before


def test_broken_references_already_in_the_store_are_a_warning_not_a_refusal(private_home: Path) -> None:
    write_all_creds(private_home, ["claude"])
    store = a_store(private_home, spec=StoreSpec(instances=[""]))
    with closing(sqlite3.connect(str(store))) as conn:  # foreign keys off, as a careless writer has them
        conn.execute("INSERT INTO db_identity_bindings VALUES ('gone-bundle', 'gemini', 'gone-account')")
        conn.commit()
    code, text = migrate(private_home, "--store", store)
    assert code == 5, text
    assert "already had 1 binding(s) pointing at a missing bundle or account" in text
    with closing(sqlite3.connect(str(store))) as conn:
        query = "SELECT count(*) FROM db_identity_bindings WHERE identity_id = 'default'"
        assert conn.execute(query).fetchone() == (1,)


def test_a_home_whose_path_is_not_utf8_is_blocked_in_plan_and_migrate_alike(tmp_path: Path) -> None:
    home = Path(os.fsdecode(bytes(tmp_path) + b"/h\xffome"))
    write_creds(home, "claude", claude_creds())
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    before = dump_store(store)
    plan = run_cli("plan", "--json", "--home", home, "--store", store, "--now-ms", NOW_MS)
    [claude] = [p for p in plan.json()["stores"][0]["providers"] if p["provider"] == "claude"]
    assert claude["action"] == "blocked"
    assert "not valid UTF-8" in claude["reason"]
    code, text = migrate(home, "--store", store)
    assert code == 5, text
    assert "not valid UTF-8" in text, text
    assert dump_store(store) == before


def test_no_room_for_the_backup_is_refused_with_nothing_written(private_home: Path) -> None:
    write_all_creds(private_home, ["claude"])
    store = a_store(private_home)
    with closing(sqlite3.connect(str(store))) as conn:
        add_instances(conn, [""] * 4000, prefix="bulk")
        conn.commit()
    before = file_state(store)
    limit = store.stat().st_size // 2  # the store itself is never grown past it: the backup is

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    completed = subprocess.run(
        cli_command("migrate", "--yes", "--home", private_home, "--store", store, "--now-ms", NOW_MS),
        capture_output=True, text=True, stdin=subprocess.DEVNULL, preexec_fn=small_files, timeout=60, check=False,
    )
    assert completed.returncode == 3, completed.stderr
    assert "no room" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert file_state(store).data == before.data


def test_a_companion_folder_path_too_long_is_refused(private_home: Path, tmp_path: Path) -> None:
    write_all_creds(private_home, ["claude"])
    store = a_store(private_home)
    before = dump_store(store)
    deep = tmp_path / "/".join(["d" * 200] * 25)  # about 5,000 characters: past PATH_MAX
    env = {**os.environ, "AGENTMUX_COMPANION_DIR": str(deep)}
    completed = subprocess.run(
        cli_command("migrate", "--yes", "--home", private_home, "--store", store, "--now-ms", NOW_MS),
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=60, check=False,
    )
    assert completed.returncode == 3, completed.stderr
    assert "too long" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert dump_store(store) == before


def test_a_ledger_that_is_not_a_database_is_refused(private_home: Path) -> None:
    write_all_creds(private_home, ["claude"])
    store = a_store(private_home)
    before = dump_store(store)
    ledger = AppPaths.resolve(private_home).ledger_path
    ledger.parent.mkdir(parents=True)
    ledger.write_bytes(b"this is not a database" * 100)
    code, text = migrate(private_home, "--store", store)
    assert code == 3, text
    assert "ledger" in text
    assert "move it aside" in text
    assert "Traceback" not in text
    assert dump_store(store) == before


def test_a_precise_undo_whose_backup_is_damaged_is_refused(private_home: Path) -> None:
    write_all_creds(private_home, ["claude"])
    store = a_store(private_home)
    migrated = run_cli("migrate", "--yes", "--json", "--home", private_home, "--store", store, "--now-ms", NOW_MS)
    backup = Path(migrated.json()["stores"][0]["backup"])
    backup.write_bytes(backup.read_bytes()[:4096] + b"\x00" * 5000)
    after_migrate = dump_store(store)
    undone = run_cli("undo", "--yes", "--home", private_home, "--store", store)
    assert undone.code == 3, undone.err
    assert "damaged" in undone.err
    assert "--from-backup" in undone.err
    assert dump_store(store) == after_migrate


@pytest.mark.parametrize("backend", ["keyring.backends.nonexistent.Keyring", "no_such_module.Backend"])
def test_a_keyring_backend_that_cannot_load_is_a_clear_refusal(private_home: Path, backend: str) -> None:
    write_all_creds(private_home, ["claude"])
    store = a_store(private_home)
    assert migrate(private_home, "--store", store)[0] == 0
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": backend}
    copy = subprocess.run(cli_command("keyring", "copy", "--home", private_home, "--store", store),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=60, check=False)
    assert copy.returncode == 3, copy.stderr
    assert "PYTHON_KEYRING_BACKEND" in copy.stderr
    assert "Traceback" not in copy.stderr
    doctor = subprocess.run(cli_command("doctor", "--home", private_home), capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, env=env, timeout=60, check=False)
    assert doctor.returncode != 1
    assert "Traceback" not in doctor.stderr
    assert "cannot be used" in doctor.stdout


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_store_is_refused_even_for_root(private_home: Path, what: str) -> None:
    write_all_creds(private_home, ["claude"])
    store = a_store(private_home)
    before = file_state(store)
    target = store if what == "file" else store.parent
    mode = target.stat().st_mode
    target.chmod(0o444 if what == "file" else 0o555)
    try:
        code, text = migrate(private_home, "--store", store)
    finally:
        target.chmod(mode)
    assert code == 3, text
    assert "read-only" in text
    assert file_state(store).data == before.data


def test_the_same_store_named_twice_is_one_store(private_home: Path) -> None:
    write_all_creds(private_home, ["claude"])
    store = a_store(private_home)
    link = private_home / "link.db"
    link.symlink_to(store)
    result = run_cli("migrate", "--yes", "--json", "--home", private_home, "--store", store, "--store", store,
                     "--store", link, "--now-ms", NOW_MS)
    assert result.code == 0, result.err
    assert [s["outcome"] for s in result.json()["stores"]] == ["migrated"]


def test_a_store_of_an_unknown_version_is_refused(private_home: Path) -> None:
    write_all_creds(private_home, ["claude"])
    store = a_store(private_home)
    with closing(sqlite3.connect(str(store))) as conn:
        conn.execute("PRAGMA user_version = 999")
    before = file_state(store)
    code, text = migrate(private_home, "--store", store)
    assert code == 3, text
    assert "version 999" in text
    assert file_state(store).data == before.data


def test_a_leftover_rollback_journal_is_not_called_corruption(private_home: Path) -> None:
    write_all_creds(private_home, ["claude"])
    store = build_store(channel_store_path(private_home / ".agentmux", "1.0.0"), StoreShape.WITH_AGENTS,
                        LEGACY_SPEC, wal=False)
    # A writer that died mid-transaction: make one, and copy the store and its hot journal aside
    # while the transaction is open (a kill of the writer leaves exactly this on disk).
    crashed = store.parent / "crashed"
    crashed.mkdir()
    script = (
        "import sqlite3, shutil, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA cache_size = 1')\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "c.execute(\"UPDATE db_agent_instances SET identity_id = 'half'\")\n"
        "c.execute(\"INSERT INTO db_workspaces SELECT hex(randomblob(8)), hex(randomblob(2000)) FROM "
        "(WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300) SELECT x FROM n)\")\n"
        "shutil.copy(sys.argv[1], sys.argv[2] + '/objects.db')\n"
        "shutil.copy(sys.argv[1] + '-journal', sys.argv[2] + '/objects.db-journal')\n"
    )
    subprocess.run([sys.executable, "-c", script, str(store), str(crashed)], check=True, timeout=60)
    victim = crashed / "objects.db"
    assert (crashed / "objects.db-journal").stat().st_size > 0
    code, text = migrate(private_home, "--store", victim)
    assert code == 3, text
    assert "did not finish a write" in text
    assert "corrupt" not in text.lower()


def test_one_store_failing_never_stops_the_others(private_home: Path, tmp_path: Path) -> None:
    write_all_creds(private_home, ["claude"])
    frozen = build_store(tmp_path / "a" / "objects.db", StoreShape.WITH_AGENTS,
                         StoreSpec(instances=[""], extra_sql=[FROZEN_AGENT_ROWS]))
    fine = build_store(tmp_path / "b" / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    result = run_cli("migrate", "--yes", "--json", "--home", private_home, "--store", frozen, "--store", fine,
                     "--now-ms", NOW_MS)
    assert result.code == 3, result.err
    outcomes = {Path(s["path"]).parent.name: (s["outcome"], s["message"]) for s in result.json()["stores"]}
    assert outcomes["a"][0] == "refused"
    assert "agent rows are frozen" in outcomes["a"][1]
    assert outcomes["b"] == ("migrated", None)
