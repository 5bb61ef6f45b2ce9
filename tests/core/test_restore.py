"""Restoring a backup (``undo --from-backup``).

Only a sound backup of this very store, never one that would downgrade it, never the safety copy
when the pre-migration backup is meant, and the ledger afterwards says exactly which runs the
restore took back.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from agentmux_companion.core.backup import finish_checks
from agentmux_companion.core.migration import ledger
from agentmux_companion.core.migration.apply import apply_plan
from agentmux_companion.core.migration.plan import build_plan
from agentmux_companion.core.migration.undo import last_undoable_run
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import load_registry
from agentmux_companion.core.sandbox import StoreShape
from agentmux_companion.core.store import explicit_locations
from tests.helpers.stores import (
    LEGACY_SPEC,
    NOW_MS,
    StoreSpec,
    build_store,
    dump_store,
    run_cli,
    write_all_creds,
)

REGISTRY = load_registry()


def migrate(home: Path, store: Path) -> str:
    paths = AppPaths.resolve(home)
    [result] = apply_plan(build_plan(paths, REGISTRY, explicit_locations([store]), NOW_MS), paths, REGISTRY)
    assert result.outcome == "migrated", result.message
    # As the CLI and the GUI do: the backup's full check runs on after the COMMIT and records its
    # verdict in the ledger; a test that reads the ledger next must not race it.
    assert finish_checks() == []
    return result.backup


def change(store: Path, sql: str) -> None:
    with closing(sqlite3.connect(str(store))) as conn:
        conn.execute(sql)
        conn.commit()


def corrupt_copy(backup: Path, target: Path) -> Path:
    """A copy of ``backup`` that opens and reads fine but fails ``quick_check``.

    Its header names a freelist page beyond the end of the file.
    """
    shutil.copyfile(backup, target)
    with closing(sqlite3.connect(str(target))) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with open(target, "r+b") as handle:
        handle.seek(32)
        handle.write((pages + 3).to_bytes(4, "big"))  # first freelist trunk page
        handle.write((2).to_bytes(4, "big"))  # freelist page count
    with closing(sqlite3.connect(f"file:{target}?mode=ro", uri=True)) as conn:
        assert conn.execute("SELECT count(*) FROM db_identity_bundles").fetchone()[0] > 0
        assert conn.execute("PRAGMA quick_check").fetchone()[0] != "ok"
    return target


def test_restore_refuses_a_backup_that_fails_integrity_check(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    backup = Path(migrate(private_home, store))
    bad = corrupt_copy(backup, tmp_path / "damaged.db")
    migrated = dump_store(store)
    result = run_cli("undo", "--yes", "--from-backup", bad, "--home", private_home, "--store", store)
    assert result.code == 3, result.err
    assert "integrity" in result.err
    assert "Traceback" not in result.err
    assert dump_store(store) == migrated


def test_restore_refuses_another_stores_backup(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    mine = build_store(tmp_path / "mine" / "objects.db", StoreShape.WITH_AGENTS,
                       StoreSpec(bundles=[("b-mine", "Mine")], instances=["", "b-mine"]))
    theirs = build_store(tmp_path / "theirs" / "objects.db", StoreShape.WITH_AGENTS,
                         StoreSpec(bundles=[("b-theirs", "Theirs")], instances=[""]))
    migrate(private_home, mine)
    their_backup = migrate(private_home, theirs)
    migrated = dump_store(mine)
    result = run_cli("undo", "--yes", "--from-backup", their_backup, "--home", private_home, "--store", mine)
    assert result.code == 3, result.err
    assert "not a backup of" in result.err
    assert dump_store(mine) == migrated  # the user's own bundle is still there
    # A copy of that backup moved elsewhere is recognised all the same.
    moved = tmp_path / "moved.db"
    shutil.copyfile(their_backup, moved)
    result = run_cli("undo", "--yes", "--from-backup", moved, "--home", private_home, "--store", mine)
    assert result.code == 3
    assert "not a backup of" in result.err
    assert dump_store(mine) == migrated


def test_restore_refuses_a_backup_older_than_the_stores_schema(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    backup = migrate(private_home, store)
    # AgentMux upgrades its store: a new column and a higher user_version.
    change(store, "ALTER TABLE db_agents ADD COLUMN color TEXT NOT NULL DEFAULT ''")
    change(store, "PRAGMA user_version = 5")
    upgraded = dump_store(store)
    result = run_cli("undo", "--yes", "--from-backup", backup, "--home", private_home, "--store", store)
    assert result.code == 3, result.err
    assert "older" in result.err
    assert "downgrade" in result.err
    assert dump_store(store) == upgraded


def test_from_backup_after_undo_restores_the_pre_migration_state(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    original = dump_store(store)
    migrate(private_home, store)
    assert run_cli("undo", "--yes", "--home", private_home, "--store", store).code == 0
    assert dump_store(store) == original
    result = run_cli("undo", "--yes", "--from-backup", "--home", private_home, "--store", store)
    assert result.code == 0, result.err
    assert dump_store(store) == original  # not the migrated state held by the undo's safety copy


def test_restore_marks_undone_only_the_runs_the_backup_predates(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home, ["claude"])
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    original = dump_store(store)
    migrate(private_home, store)
    after_first = dump_store(store)
    write_all_creds(private_home, ["codex"])
    second_backup = migrate(private_home, store)
    result = run_cli("undo", "--yes", "--from-backup", second_backup, "--home", private_home, "--store", store)
    assert result.code == 0, result.err
    assert dump_store(store) == after_first
    # The first run is still in the store and still undoable precisely.
    result = run_cli("undo", "--yes", "--home", private_home, "--store", store)
    assert result.code == 0, result.err
    assert dump_store(store) == original


def test_finding_the_last_undoable_run_does_not_write_the_ledger(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    original = dump_store(store)
    migrate(private_home, store)
    paths = AppPaths.resolve(private_home)
    # A run killed between the ledger's commit and the store's: 'started', changes recorded.
    with closing(sqlite3.connect(str(paths.ledger_path))) as conn:
        conn.execute("UPDATE companion_runs SET state = 'started'")
        conn.commit()
    before = paths.ledger_path.read_bytes()
    run = last_undoable_run(paths, store)
    assert run is not None
    assert run.state == "committed"  # what the store says
    assert paths.ledger_path.read_bytes() == before  # ...without writing the ledger
    assert [r.state for r in ledger.runs_for_store(paths.ledger_path, store)] == ["started"]
    # The write path settles it, under the store's lock, and undoes it.
    assert run_cli("undo", "--yes", "--home", private_home, "--store", store).code == 0
    assert dump_store(store) == original
    assert [r.state for r in ledger.runs_for_store(paths.ledger_path, store)] == ["undone"]


def test_restoring_an_undos_safety_copy_brings_the_run_back(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    original = dump_store(store)
    migrate(private_home, store)
    migrated = dump_store(store)
    undone = run_cli("undo", "--yes", "--json", "--home", private_home, "--store", store)
    safety = undone.json()["stores"][0]["safety_backup"]
    result = run_cli("undo", "--yes", "--from-backup", safety, "--home", private_home, "--store", store)
    assert result.code == 0, result.err
    assert dump_store(store) == migrated
    # The run is in the store again, so it can be undone precisely again.
    assert run_cli("undo", "--yes", "--home", private_home, "--store", store).code == 0
    assert dump_store(store) == original


def test_a_backup_of_a_renamed_store_is_still_its_own(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "v1" / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    original = dump_store(store)
    backup = migrate(private_home, store)
    moved = tmp_path / "v2"
    (tmp_path / "v1").rename(moved)
    result = run_cli("undo", "--yes", "--from-backup", backup, "--home", private_home,
                     "--store", moved / "objects.db")
    assert result.code == 0, result.err
    assert dump_store(moved / "objects.db") == original
