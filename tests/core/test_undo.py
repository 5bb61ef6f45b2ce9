"""Undo: precise reversal of one run, refusals, and the backup as the last resort.

Refusal when AgentMux changed those rows since; backups are private files.
"""

from __future__ import annotations

import sqlite3
import stat
from contextlib import closing
from pathlib import Path

import pytest

from agentmux_companion.core.errors import UndoRefused
from agentmux_companion.core.migration.apply import apply_plan
from agentmux_companion.core.migration.plan import build_plan
from agentmux_companion.core.migration.undo import undo_from_backup, undo_last
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import load_registry
from agentmux_companion.core.sandbox import StoreShape
from agentmux_companion.core.store import explicit_locations
from tests.helpers.stores import (
    LEGACY_SPEC,
    NOW_MS,
    SUPPORTED_SHAPES,
    StoreSpec,
    accounts_table,
    build_store,
    dump_store,
    has_instances,
    run_cli,
    store_file_name,
    write_all_creds,
)

REGISTRY = load_registry()


def migrated_store(tmp_path: Path, home: Path, shape: StoreShape) -> tuple[Path, dict[str, object]]:
    write_all_creds(home)
    store = build_store(tmp_path / "agentmux" / store_file_name(shape), shape, LEGACY_SPEC)
    original = dump_store(store)
    paths = AppPaths.resolve(home)
    plan = build_plan(paths, REGISTRY, explicit_locations([store]), NOW_MS)
    [result] = apply_plan(plan, paths, REGISTRY)
    assert result.outcome == "migrated"
    return store, original


def change(store: Path, sql: str) -> None:
    with closing(sqlite3.connect(str(store))) as conn:
        conn.execute(sql)
        conn.commit()


@pytest.mark.parametrize("shape", SUPPORTED_SHAPES)
def test_precise_undo_restores_exactly(tmp_path: Path, private_home: Path, shape: StoreShape) -> None:
    store, original = migrated_store(tmp_path, private_home, shape)
    assert dump_store(store) != original
    result = undo_last(AppPaths.resolve(private_home), store)
    assert result.method == "precise"
    assert dump_store(store) == original
    safety = Path(result.safety_backup)
    assert stat.S_IMODE(safety.stat().st_mode) == 0o600
    assert stat.S_IMODE(safety.parent.stat().st_mode) == 0o700
    # Nothing left to undo now; and migrating again works and can be undone again.
    with pytest.raises(UndoRefused, match="no migration of"):
        undo_last(AppPaths.resolve(private_home), store)


def test_undo_keeps_rows_agentmux_added_that_the_run_did_not_touch(tmp_path: Path, private_home: Path) -> None:
    store, original = migrated_store(tmp_path, private_home, StoreShape.WITH_AGENTS)
    change(store, "INSERT INTO db_agent_instances (id, definition_id, identity_id) VALUES ('late', 'def-1', 'b-work')")
    undo_last(AppPaths.resolve(private_home), store)
    after = dump_store(store)
    late = [r for r in after["tables"]["db_agent_instances"] if r[0] == "late"]
    assert len(late) == 1
    after["tables"]["db_agent_instances"].remove(late[0])
    assert after == original


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        ("UPDATE {accounts} SET status = 'expired' WHERE provider = 'claude'", "claude-oauth account was changed"),
        ("UPDATE db_identity_bindings SET account_id = (SELECT id FROM {accounts} WHERE provider='codex') "
         "WHERE identity_id = 'default' AND provider = 'claude'", "claude binding was changed"),
        ("UPDATE db_agent_instances SET identity_id = 'b-work' WHERE id = 'inst-0'", "now use another bundle"),
        ("INSERT INTO db_agent_instances (id, definition_id, identity_id) VALUES ('new', 'def-1', 'default')",
         "other row(s) of db_agent_instances now use the Default bundle"),
        ("UPDATE db_identity_bundles SET description = 'mine' WHERE id = 'default'", "Default bundle was changed"),
    ],
)
def test_undo_refuses_when_agentmux_changed_those_rows(tmp_path: Path, private_home: Path, edit: str,
                                                       words: str) -> None:
    shape = StoreShape.WITH_MIGRATIONS
    store, original = migrated_store(tmp_path, private_home, shape)
    change(store, edit.format(accounts=accounts_table(shape)))
    changed = dump_store(store)
    result = run_cli("undo", "--yes", "--home", private_home, "--store", store)
    assert result.code == 3
    assert words in result.err
    assert "undo --from-backup" in result.err
    assert dump_store(store) == changed  # nothing was undone
    # The last resort restores the backup taken just before the migration.
    result = run_cli("undo", "--yes", "--from-backup", "--home", private_home, "--store", store)
    assert result.code == 0, result.err
    assert dump_store(store) == original


def test_undo_from_a_named_backup_and_with_the_cli(tmp_path: Path, private_home: Path) -> None:
    store, original = migrated_store(tmp_path, private_home, StoreShape.ACCOUNTS_RENAMED)
    paths = AppPaths.resolve(private_home)
    [backup] = [p for p in paths.backups_dir.rglob("*.db")]
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.parent.stat().st_mode) == 0o700
    assert dump_store(backup) == original
    migrated = dump_store(store)
    result = undo_from_backup(paths, store, backup)
    assert (result.method, result.restored_from) == ("backup", str(backup))
    assert dump_store(store) == original
    # The safety backup taken before restoring holds the migrated state: the restore is undoable.
    assert dump_store(Path(result.safety_backup)) == migrated

    # After a restore there is no precise undo left; the CLI says so with exit 3.
    result_cli = run_cli("undo", "--yes", "--home", private_home, "--store", store)
    assert result_cli.code == 3
    assert "nothing to undo" in result_cli.err


def test_undo_from_backup_refuses_a_file_that_is_not_a_store(tmp_path: Path, private_home: Path) -> None:
    store, _original = migrated_store(tmp_path, private_home, StoreShape.FLAT)
    bogus = tmp_path / "bogus.db"
    bogus.write_text("not sqlite", encoding="utf-8")
    migrated = dump_store(store)
    result = run_cli("undo", "--yes", "--from-backup", bogus, "--home", private_home, "--store", store)
    assert result.code == 3
    assert "Traceback" not in result.err
    assert dump_store(store) == migrated


def test_cli_undo_reports_what_it_reverted(tmp_path: Path, private_home: Path) -> None:
    store, original = migrated_store(tmp_path, private_home, StoreShape.WITH_AGENTS)
    result = run_cli("undo", "--yes", "--json", "--home", private_home, "--store", store)
    assert result.code == 0, result.err
    [entry] = result.json()["stores"]
    assert entry["method"] == "precise"
    assert entry["reverted"] == {"bindings": 3, "accounts": 3, "bundle": 1,
                                 "rows": 3 + 2 if has_instances(StoreShape.WITH_AGENTS) else 0,
                                 "migration_record": 0}
    assert dump_store(store) == original


def test_cli_undo_says_what_it_put_back_in_words(tmp_path: Path, private_home: Path) -> None:
    store, _original = migrated_store(tmp_path, private_home, StoreShape.WITH_AGENTS)
    result = run_cli("undo", "--yes", "--home", private_home, "--store", store)
    assert result.code == 0, result.err
    # The human output wraps to the terminal's width (80 when piped): compare the words.
    assert ("3 bindings of the Default bundle undone; 3 accounts removed or restored; "
            "the Default bundle removed; 5 agent rows given back their former bundle") in " ".join(result.out.split())


def test_undo_after_agentmux_had_deleted_its_default_bundle(tmp_path: Path, private_home: Path) -> None:
    """Rows that still name 'default' from before the run do not block its undo.

    They come from a Default bundle deleted in AgentMux (identity_id has no foreign key); they stay
    as they were.
    """
    write_all_creds(private_home, ["claude"])
    spec = StoreSpec(instances=["default", ""], agents=[("a-old", 0, "", "default"), ("a-new", 0, "def-1", "")])
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, spec)
    original = dump_store(store)
    paths = AppPaths.resolve(private_home)
    [result] = apply_plan(build_plan(paths, REGISTRY, explicit_locations([store]), NOW_MS), paths, REGISTRY)
    assert result.stats.default_bundle_created
    assert result.stats.instances_backfilled == 1
    undo_last(paths, store)
    assert dump_store(store) == original
