"""The preview is a promise (issue #11).

Anything that changes between the plan the user saw and the write stops the store with nothing
written, and says what changed in plain words.

Each test makes one field of the decision change between ``build_plan`` and ``apply_plan``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from agentmux_companion.core.migration.apply import apply_plan
from agentmux_companion.core.migration.plan import build_plan
from agentmux_companion.core.migration.results import StoreResult
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import load_registry
from agentmux_companion.core.sandbox import StoreShape
from agentmux_companion.core.store import explicit_locations
from tests.helpers.stores import (
    HOUR_MS,
    NOW_MS,
    StoreSpec,
    build_store,
    claude_creds,
    dump_store,
    generic_creds,
    write_creds,
)

REGISTRY = load_registry()
SPEC = StoreSpec(instances=["", "blank", "x"], agents=[("a1", 0, "def-1", "")])


def preview_then_apply(home: Path, store: Path, between: Callable[[], object]) -> StoreResult:
    """Plan, let ``between`` change the world, apply; assert nothing was written."""
    paths = AppPaths.resolve(home)
    plan = build_plan(paths, REGISTRY, explicit_locations([store]), NOW_MS)
    assert plan.will_write
    between()
    before = dump_store(store)
    files_before = sorted(p for p in home.rglob("*")) if home.exists() else []
    [result] = apply_plan(plan, paths, REGISTRY)
    assert result.outcome == "changed", result
    assert dump_store(store) == before
    assert sorted(p for p in home.rglob("*")) == files_before  # no copy, no folder left behind
    assert not paths.backups_dir.exists() or not any(paths.backups_dir.rglob("*.db"))
    assert "Nothing was written" in result.message
    return result


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "user"
    write_creds(folder, "claude", claude_creds(NOW_MS + HOUR_MS))
    return folder


def store_of(tmp_path: Path, shape: StoreShape = StoreShape.WITH_AGENTS, spec: StoreSpec = SPEC) -> Path:
    return build_store(tmp_path / "s" / "objects.db", shape, spec)


def execute(store: Path, *statements: str) -> Callable[[], None]:
    def run() -> None:
        with closing(sqlite3.connect(str(store))) as conn:
            for statement in statements:
                conn.execute(statement)
            conn.commit()
    return run


@pytest.mark.parametrize("shape", [StoreShape.WITH_AGENTS, StoreShape.WITH_MIGRATIONS], ids=["ambient", "isolated"])
def test_login_status_changed(tmp_path: Path, home: Path, shape: StoreShape) -> None:
    result = preview_then_apply(home, store_of(tmp_path, shape), lambda: write_creds(
        home, "claude", claude_creds(NOW_MS - HOUR_MS)))
    assert "the Claude Code login changed after the preview: it was valid, it is now expired" in result.message


def test_login_file_changed_with_the_same_status(tmp_path: Path, home: Path) -> None:
    result = preview_then_apply(home, store_of(tmp_path), lambda: write_creds(
        home, "claude", claude_creds(NOW_MS + 2 * HOUR_MS, access="another-token")))
    assert "the Claude Code login changed after the preview (its file is not the one the preview read)" \
        in result.message


def test_login_swapped_for_a_link_to_a_device(tmp_path: Path, home: Path) -> None:
    def swap() -> None:
        target = home / ".claude" / ".credentials.json"
        target.unlink()
        os.symlink("/dev/zero", target)
    result = preview_then_apply(home, store_of(tmp_path), swap)
    assert "it was valid, it is now needs_reauth" in result.message


def test_login_deleted(tmp_path: Path, home: Path) -> None:
    result = preview_then_apply(home, store_of(tmp_path), lambda: (home / ".claude" / ".credentials.json").unlink())
    assert "Claude Code would now be skipped (no login found) instead of bound into the Default bundle" \
        in result.message


def test_login_added(tmp_path: Path, home: Path) -> None:
    result = preview_then_apply(home, store_of(tmp_path), lambda: write_creds(home, "codex", generic_creds()))
    assert "Codex would now be bound into the Default bundle instead of skipped (no login found)" in result.message


def test_semantics_changed(tmp_path: Path, home: Path) -> None:
    store = store_of(tmp_path)
    result = preview_then_apply(home, store, execute(store, "PRAGMA user_version = 10"))
    assert "the store now gets isolated semantics instead of ambient" in result.message
    assert "account would now point at" in result.message


def test_provider_bound_elsewhere_meanwhile(tmp_path: Path, home: Path) -> None:
    store = store_of(tmp_path)
    result = preview_then_apply(home, store, execute(
        store,
        "INSERT INTO db_identity_bundles (id, name) VALUES ('b-new', 'New')",
        "INSERT INTO db_identity_accounts (id, name, provider, kind, secret_ref) "
        "VALUES ('acc-n', 'n', 'claude', 'pat', '{}')",
        "INSERT INTO db_identity_bindings VALUES ('b-new', 'claude', 'acc-n')",
    ))
    assert "Claude Code would now be skipped (already bound)" in result.message


def test_default_bundle_created_meanwhile(tmp_path: Path, home: Path) -> None:
    store = store_of(tmp_path)
    result = preview_then_apply(home, store, execute(
        store, "INSERT INTO db_identity_bundles (id, name) VALUES ('default', 'Default')"))
    assert "the Default bundle would now be 'reuse' instead of 'create'" in result.message


def test_migration_recorded_meanwhile(tmp_path: Path, home: Path) -> None:
    store = store_of(tmp_path, StoreShape.WITH_MIGRATIONS)
    result = preview_then_apply(home, store, execute(
        store, "INSERT INTO db_migrations (id, applied_at) VALUES ('0008_default_bundle', 'x')"))
    assert "record of this migration changed" in result.message


def test_more_agent_rows_to_backfill(tmp_path: Path, home: Path) -> None:
    store = store_of(tmp_path)
    result = preview_then_apply(home, store, execute(
        store, "INSERT INTO db_agent_instances (id, definition_id, identity_id) VALUES ('late', 'def-claude', '')"))
    assert "3 agent rows would be given the Default bundle, where the preview counted 2" in result.message


def test_fewer_mirrored_agent_rows_to_backfill(tmp_path: Path, home: Path) -> None:
    store = store_of(tmp_path)
    result = preview_then_apply(home, store, execute(store, "UPDATE db_agents SET identity_id = 'x' WHERE id = 'a1'"))
    assert "0 mirrored agent rows would be given the Default bundle, where the preview counted 1" in result.message


def test_repoints_changed(tmp_path: Path, home: Path) -> None:
    store = store_of(tmp_path, StoreShape.WITH_MIGRATIONS)
    ref = '{"backend":"o_auth_config_dir","dir":"' + str(home / ".codex") + '"}'
    write_creds(home, "codex", generic_creds())
    paths = AppPaths.resolve(home)
    plan = build_plan(paths, REGISTRY, explicit_locations([store]), NOW_MS)
    execute(
        store,
        "INSERT INTO db_identity_bundles (id, name) VALUES ('default', 'Default')",
        f"INSERT INTO db_identity_accounts (id, name, provider, kind, secret_ref) VALUES ('acc-x', 'x', 'codex', "
        f"'oauth', '{ref}')",
        "INSERT INTO db_identity_bindings VALUES ('default', 'codex', 'acc-x')",
    )()
    [result] = apply_plan(plan, paths, REGISTRY)
    assert result.outcome == "changed"
    assert "to point at AgentMux's own copies changed: none before, Codex (acc-x) now" in result.message


def test_the_new_account_id_of_the_preview_is_the_one_written(tmp_path: Path, home: Path) -> None:
    store = store_of(tmp_path)
    paths = AppPaths.resolve(home)
    plan = build_plan(paths, REGISTRY, explicit_locations([store]))
    promised = plan.stores[0].providers[0].account_id
    assert promised
    assert not plan.stores[0].providers[0].reuse_account_id
    apply_plan(plan, paths, REGISTRY)
    with closing(sqlite3.connect(str(store))) as conn:
        assert conn.execute("SELECT account_id FROM db_identity_bindings").fetchall() == [(promised,)]
