"""docs/agentmux-store.md §7, rule by rule, for each supported era (§1): what a migrated store holds, exactly.

Expected rows are written out by hand from the contract, not computed by the code under test;
each test compares the whole canonical dump, so "nothing else is touched" is checked every time.
"""

from __future__ import annotations

import copy
import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentmux_companion.core.credentials import probe_provider
from agentmux_companion.core.migration.apply import apply_plan
from agentmux_companion.core.migration.plan import Action, BundleAction, MigrationPlan, StoreState, build_plan, decide
from agentmux_companion.core.migration.results import StoreResult
from agentmux_companion.core.migration.writer import StoreWriter
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import load_registry
from agentmux_companion.core.sandbox import StoreShape
from agentmux_companion.core.store import Era, StoreInspection, explicit_locations, inspect_store, open_for_write
from tests.helpers.stores import (
    HOUR_MS,
    NOW_MS,
    PLANTED_TOKENS,
    SHARED_SHAPES,
    SUPPORTED_SHAPES,
    UUID4_RE,
    StoreSpec,
    accounts_table,
    build_store,
    claude_creds,
    dump_store,
    expected_secret_ref,
    file_state,
    generic_creds,
    has_db_agents,
    has_instances,
    has_migrations_table,
    isolated,
    normalize_dump,
    rows,
    run_cli,
    store_file_name,
    write_all_creds,
    write_creds,
)

REGISTRY = load_registry()
DESCRIPTION = "Seeded from ambient OAuth credentials on first launch."
APPLIED_AT = datetime.fromtimestamp(NOW_MS / 1000, UTC).isoformat()  # 2026-05-28T20:26:40+00:00
EXPECTED_ERA = {
    StoreShape.FLAT: Era.BUNDLE, StoreShape.WITH_AGENTS: Era.BUNDLE, StoreShape.WITH_MIGRATIONS: Era.BUNDLE,
    StoreShape.ACCOUNTS_RENAMED: Era.BUNDLE_ACCOUNTS_RENAMED, StoreShape.SHARED: Era.BUNDLE,
    StoreShape.SHARED_RENAMED: Era.BUNDLE_ACCOUNTS_RENAMED,
}

#: A realistic legacy store: a user bundle binding a non-OAuth provider, legacy instances, and
#: db_agents rows of every kind (templates and definition-less rows are never back-filled).
LEGACY = StoreSpec(
    bundles=[("b-work", "Work")],
    accounts=[("acc-gemini", "gemini", "api_key")],
    bindings=[("b-work", "gemini", "acc-gemini")],
    instances=["", "blank", "b-work", "", "someone-else", "BLANK", " "],
    agents=[("tpl", 1, "", ""), ("a-empty", 0, "def-1", ""), ("a-blank", 0, "def-1", "blank"),
            ("a-nodef", 0, "", ""), ("a-work", 0, "def-1", "b-work"), ("tpl-blank", 1, "def-1", "blank")],
)


def make_home(tmp_path: Path, name: str = "hôme ü 用户\\back") -> Path:
    """A home whose path has non-ASCII characters and a backslash (legal in a POSIX name)."""
    home = tmp_path / name
    home.mkdir()
    return home


def make_store(tmp_path: Path, shape: StoreShape, spec: StoreSpec = LEGACY) -> Path:
    return build_store(tmp_path / "agentmux" / store_file_name(shape), shape, spec)


def plan_for(home: Path, store: Path, at_ms: int = NOW_MS) -> MigrationPlan:
    return build_plan(AppPaths.resolve(home), REGISTRY, explicit_locations([store]), at_ms)


def migrate(home: Path, store: Path, at_ms: int = NOW_MS) -> tuple[MigrationPlan, StoreResult]:
    plan = plan_for(home, store, at_ms)
    [result] = apply_plan(plan, AppPaths.resolve(home), REGISTRY)
    return plan, result


def stats(result: StoreResult) -> dict[str, Any]:
    return result.stats.to_json()


def account_ids(store: Path, shape: StoreShape) -> dict[str, str]:
    return dict(rows(store, f"SELECT provider, id FROM {accounts_table(shape)} WHERE kind = 'oauth'"))


def expected_after(original: dict[str, Any], shape: StoreShape, home: Path, statuses: dict[str, str],
                   scope: str | None, bundle: bool = True) -> dict[str, Any]:
    """The original dump plus exactly the rows docs/agentmux-store.md §7 adds or rewrites (normalized ids)."""
    expected = copy.deepcopy(original)
    tables = expected["tables"]
    if bundle:
        tables["db_identity_bundles"].append(("default", "Default", DESCRIPTION, 0, NOW_MS, NOW_MS))
    for provider, status in statuses.items():
        account = f"<new-account:{provider}>"
        tables[accounts_table(shape)].append(
            (account, f"{provider}-oauth", provider, "oauth", "",
             expected_secret_ref(home, provider, isolated(shape)), "{}", status, NOW_MS, NOW_MS))
        tables["db_identity_bindings"].append(("default", provider, account))
    if bundle and "db_agent_instances" in tables:
        tables["db_agent_instances"] = [
            (*r[:7], "default" if r[7] in ("", "blank") else r[7], *r[8:]) for r in tables["db_agent_instances"]]
    if bundle and "db_agents" in tables:
        # (id, name, is_template, parent_template_id, provider, definition_id, identity_id, ...)
        tables["db_agents"] = [
            (*r[:6], "default" if r[2] == 0 and r[5] != "" and r[6] in ("", "blank") else r[6], *r[7:])
            for r in tables["db_agents"]]
    if scope is not None:
        tables["db_migrations"].append(("0008_default_bundle", APPLIED_AT, "<duration>", scope))
    return normalize_dump(expected, original)


# --------------------------------------------------------------------------------------------
# Era detection


@pytest.mark.parametrize("shape", list(StoreShape))
def test_era_of_every_shape(tmp_path: Path, shape: StoreShape) -> None:
    store = build_store(tmp_path / store_file_name(shape), shape)
    inspection = inspect_store(store)
    if shape in EXPECTED_ERA:
        assert (inspection.era, inspection.refusal) == (EXPECTED_ERA[shape], None)
        assert inspection.accounts_table == accounts_table(shape)
        assert inspection.has_instances == has_instances(shape)
        assert inspection.has_agents == has_db_agents(shape)
        assert inspection.has_migrations == has_migrations_table(shape)
    else:
        expected = {StoreShape.PRE_BUNDLE: Era.PRE_BUNDLE, StoreShape.EARLY_CHAIN: Era.EARLY_CHAIN,
                    StoreShape.POST_BUNDLE: Era.POST_BUNDLE}[shape]
        assert inspection.era is expected
        assert not inspection.era.migratable
        assert inspection.refusal


# --------------------------------------------------------------------------------------------
# The whole migration, exactly


@pytest.mark.parametrize("shape", SUPPORTED_SHAPES)
def test_full_migration_writes_exactly_the_contract(tmp_path: Path, shape: StoreShape) -> None:
    home = make_home(tmp_path)
    write_creds(home, "claude", claude_creds(NOW_MS + HOUR_MS))                     # valid
    write_creds(home, "codex", generic_creds(NOW_MS - HOUR_MS))                     # expired, refreshable
    write_creds(home, "openclaw", generic_creds(NOW_MS - HOUR_MS, refresh=None))    # needs_reauth
    store = make_store(tmp_path, shape)
    original = dump_store(store)

    plan, result = migrate(home, store)
    [store_plan] = plan.stores
    assert store_plan.bundle is BundleAction.CREATE
    assert [(p.provider, p.action) for p in store_plan.providers] == [
        ("claude", Action.BIND), ("codex", Action.BIND), ("openclaw", Action.BIND)]
    legacy_instances = 3 if has_instances(shape) else 0
    assert store_plan.instances_to_backfill == legacy_instances
    assert store_plan.agents_to_backfill == (2 if has_db_agents(shape) else 0)

    assert result.outcome == "migrated"
    assert result.warnings == ()
    assert stats(result) == {
        "providers_examined": 3, "providers_skipped_existing": 0, "providers_skipped_no_ambient": 0,
        "providers_seeded": 3, "providers_repointed": 0, "instances_backfilled": legacy_instances,
        "default_bundle_created": True}
    assert result.agents_backfilled == (2 if has_db_agents(shape) else 0)

    scope = ("global" if shape in SHARED_SHAPES else "channel") if has_migrations_table(shape) else None
    after = normalize_dump(dump_store(store), original)
    assert after == expected_after(
        original, shape, home, {"claude": "valid", "codex": "expired", "openclaw": "needs_reauth"}, scope)
    # user_version and the schema are part of the dump; say it outright all the same.
    assert after["user_version"] == original["user_version"]
    assert after["schema"] == original["schema"]

    ids = account_ids(store, shape)
    assert all(UUID4_RE.match(i) for i in ids.values())
    assert len(set(ids.values())) == 3
    # The exact bytes of secret_ref: raw UTF-8, escaped backslash, no \u escapes, no spaces.
    [(raw,)] = rows(store, f"SELECT CAST(secret_ref AS BLOB) FROM {accounts_table(shape)} WHERE provider='claude'")
    assert raw == expected_secret_ref(home, "claude", isolated(shape)).encode("utf-8")
    assert "hôme ü 用户".encode() in raw
    assert b"\\u" not in raw
    assert b"\\\\back" in raw
    assert b" :" not in raw


@pytest.mark.parametrize("shape", SUPPORTED_SHAPES)
def test_second_run_changes_nothing(tmp_path: Path, shape: StoreShape) -> None:
    home = make_home(tmp_path)
    write_all_creds(home)
    store = make_store(tmp_path, shape)
    migrate(home, store)
    once = dump_store(store)
    plan, result = migrate(home, store)
    assert not plan.will_write
    assert result.outcome == "nothing_to_do"
    assert result.backup == ""
    assert [p.action for p in plan.stores[0].providers] == [Action.SKIP_EXISTING] * 3
    assert dump_store(store) == once


# --------------------------------------------------------------------------------------------
# Step 3a/3b: covered and absent providers; step 3c: the lazy, reused Default bundle


@pytest.mark.parametrize("shape", SUPPORTED_SHAPES)
def test_covered_providers_are_skipped_in_any_bundle(tmp_path: Path, shape: StoreShape) -> None:
    home = make_home(tmp_path)
    write_all_creds(home)
    spec = StoreSpec(
        bundles=[("b-work", "Work"), ("default", "Default")],
        accounts=[("acc-claude", "claude", "oauth"), ("acc-codex", "codex", "oauth")],
        bindings=[("b-work", "claude", "acc-claude"), ("default", "codex", "acc-codex")],
        instances=["", "blank", "b-work"], agents=[("a1", 0, "def-1", "")],
    )
    store = make_store(tmp_path, shape, spec)
    original = dump_store(store)
    plan, result = migrate(home, store)
    lines = {p.provider: p for p in plan.stores[0].providers}
    assert lines["claude"].action is Action.SKIP_EXISTING
    assert "'Work'" in lines["claude"].reason
    assert lines["codex"].action is Action.SKIP_EXISTING
    assert "'Default'" in lines["codex"].reason
    assert lines["openclaw"].action is Action.BIND
    assert plan.stores[0].bundle is BundleAction.REUSE
    assert stats(result) == {
        "providers_examined": 3, "providers_skipped_existing": 2, "providers_skipped_no_ambient": 0,
        "providers_seeded": 1, "providers_repointed": 0, "instances_backfilled": 2 if has_instances(shape) else 0,
        "default_bundle_created": False}
    scope = ("global" if shape in SHARED_SHAPES else "channel") if has_migrations_table(shape) else None
    expected = expected_after(original, shape, home, {"openclaw": "valid"}, scope, bundle=False)
    if has_instances(shape):  # the existing default bundle gates the back-fill
        expected["tables"]["db_agent_instances"] = [
            (*r[:7], "default" if r[7] in ("", "blank") else r[7], *r[8:])
            for r in expected["tables"]["db_agent_instances"]]
    if has_db_agents(shape):
        expected["tables"]["db_agents"] = [(*r[:6], "default", *r[7:]) for r in expected["tables"]["db_agents"]]
    # The reused bundle is untouched: the same row, updated_at included.
    assert normalize_dump(dump_store(store), original) == expected


@pytest.mark.parametrize("shape", SUPPORTED_SHAPES)
def test_nothing_seedable_creates_no_bundle_and_backfills_nothing(tmp_path: Path, shape: StoreShape) -> None:
    home = make_home(tmp_path)  # no credentials at all
    write_creds(home, "gemini", generic_creds())  # a non-OAuth provider seeds nothing
    store = make_store(tmp_path, shape)
    before = file_state(store)
    original = dump_store(store)
    plan, result = migrate(home, store)
    assert plan.stores[0].bundle is BundleAction.NONE
    assert [p.action for p in plan.stores[0].providers] == [Action.SKIP_NO_AMBIENT] * 3
    assert plan.stores[0].instances_to_backfill == 0
    if has_migrations_table(shape):
        # The run still succeeds, and records itself (docs/agentmux-store.md §3): that row and nothing else.
        assert result.outcome == "migrated"
        assert stats(result) == {
            "providers_examined": 3, "providers_skipped_existing": 0, "providers_skipped_no_ambient": 3,
            "providers_seeded": 0, "providers_repointed": 0, "instances_backfilled": 0, "default_bundle_created": False}
        scope = "global" if shape in SHARED_SHAPES else "channel"
        assert normalize_dump(dump_store(store), original) == expected_after(
            original, shape, home, {}, scope, bundle=False)
    else:
        assert result.outcome == "nothing_to_do"
        assert file_state(store).data == before.data


@pytest.mark.parametrize("shape", [StoreShape.WITH_AGENTS, StoreShape.ACCOUNTS_RENAMED])
def test_existing_default_bundle_backfills_without_seeding(tmp_path: Path, shape: StoreShape) -> None:
    home = make_home(tmp_path)
    spec = StoreSpec(bundles=[("default", "Default")], instances=["", "blank", "x"],
                     agents=[("a1", 0, "def-1", "blank")])
    store = make_store(tmp_path, shape, spec)
    plan, result = migrate(home, store)
    assert plan.stores[0].bundle is BundleAction.REUSE
    assert stats(result)["instances_backfilled"] == 2
    assert result.agents_backfilled == 1
    assert stats(result)["default_bundle_created"] is False
    assert sorted(rows(store, "SELECT identity_id FROM db_agent_instances")) == [("default",), ("default",), ("x",)]
    assert rows(store, "SELECT created_at, updated_at FROM db_identity_bundles WHERE id='default'") == [
        (1_700_000_000_000, 1_700_000_000_000)]


# --------------------------------------------------------------------------------------------
# Step 3c: the abort when a bundle named "Default" has another id


@pytest.mark.parametrize("shape", SUPPORTED_SHAPES)
def test_default_name_taken_writes_nothing_at_all(tmp_path: Path, shape: StoreShape) -> None:
    home = make_home(tmp_path)
    write_all_creds(home)
    spec = StoreSpec(bundles=[("user-default", "Default")], instances=["", "blank"])
    store = make_store(tmp_path, shape, spec)
    before = file_state(store)
    plan = plan_for(home, store)
    [store_plan] = plan.stores
    assert store_plan.refused
    assert "'user-default'" in store_plan.refused
    assert "'Default'" in store_plan.refused
    assert [p.action for p in store_plan.providers] == [Action.BLOCKED] * 3
    assert not store_plan.will_write
    assert not store_plan.record_migration

    result = run_cli("migrate", "--yes", "--home", home, "--store", store, "--now-ms", NOW_MS)
    assert result.code == 3
    assert "already named 'Default'" in result.err
    after = file_state(store)
    assert (after.data, after.mtime_ns) == (before.data, before.mtime_ns)
    paths = AppPaths.resolve(home)
    assert not paths.backups_dir.exists() or not any(paths.backups_dir.rglob("*.db"))


def test_default_name_taken_does_not_matter_when_nothing_is_seedable(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    store = make_store(tmp_path, StoreShape.WITH_AGENTS, StoreSpec(bundles=[("user-default", "Default")],
                                                                    instances=[""]))
    plan, result = migrate(home, store)
    assert plan.stores[0].refused is None
    assert result.outcome == "nothing_to_do"
    assert rows(store, "SELECT identity_id FROM db_agent_instances") == [("",)]


# --------------------------------------------------------------------------------------------
# Steps 3e-3g: account-id reuse, updates keep created_at, bindings replaced


def test_decide_reuses_the_account_bound_in_default() -> None:
    """Step 3e: reuse of an account already bound in ``default``, decided directly.

    In a consistent store a provider bound in ``default`` is also *covered* (step 2 reads every
    binding of every bundle), so 3a skips it before 3e is reached; the reuse can only be seen by
    deciding on such a state directly, which is what this does.
    """
    credentials = [probe_provider(p, Path("/nonexistent-home"), NOW_MS) for p in REGISTRY.providers]
    present = [c if c.provider != "claude" else
               c._replace(present=True, status=None) for c in credentials]
    state = StoreState(covered={}, default_exists=True, default_name_taken_by=None,
                       default_bindings={"claude": "acc-old"}, instances_to_backfill=0,
                       agents_to_backfill=0, migration_recorded=False)
    decision = decide(state, StoreInspection(Era.BUNDLE, None, "db_identity_accounts"), present, REGISTRY)
    claude = decision.providers[0]
    assert (claude.action, claude.reuse_account_id) == (Action.BIND, "acc-old")
    assert "keeps its existing account" in claude.reason
    assert decision.bundle is BundleAction.REUSE


@pytest.mark.parametrize("shape", [StoreShape.FLAT, StoreShape.ACCOUNTS_RENAMED])
def test_writer_updates_reused_account_keeping_created_at_and_replaces_binding(
    tmp_path: Path, shape: StoreShape
) -> None:
    home = make_home(tmp_path)
    write_all_creds(home)
    spec = StoreSpec(bundles=[("default", "Default")],
                     accounts=[("acc-old", "claude", "pat"), ("acc-x", "codex", "pat")],
                     bindings=[("default", "claude", "acc-old"), ("default", "codex", "acc-x")])
    store = make_store(tmp_path, shape, spec)
    claude = probe_provider(REGISTRY.get("claude"), home, NOW_MS)  # type: ignore[arg-type]
    codex = probe_provider(REGISTRY.get("codex"), home, NOW_MS)  # type: ignore[arg-type]
    with closing(open_for_write(store)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        writer = StoreWriter(conn, accounts_table(shape), NOW_MS)
        assert claude.status is not None
        assert codex.status is not None
        assert writer.seed("claude", claude.config_dir, claude.status, "acc-old")
        assert writer.seed("codex", codex.config_dir, codex.status, str(uuid.uuid4()))
        conn.execute("COMMIT")
    table = accounts_table(shape)
    assert rows(store, f"SELECT * FROM {table} WHERE id='acc-old'") == [
        ("acc-old", "claude-oauth", "claude", "oauth", "", expected_secret_ref(home, "claude"), "{}", "valid",
         1_700_000_000_000, NOW_MS)]
    new_codex = rows(store, "SELECT account_id FROM db_identity_bindings WHERE provider='codex'")[0][0]
    assert UUID4_RE.match(new_codex)
    assert rows(store, "SELECT identity_id, provider, account_id FROM db_identity_bindings ORDER BY provider") == [
        ("default", "claude", "acc-old"), ("default", "codex", new_codex)]
    # The replaced binding's old account row stays (it is not the migration's to delete).
    assert rows(store, f"SELECT kind FROM {table} WHERE id='acc-x'") == [("pat",)]
    assert writer.changes["bindings"] == [
        {"provider": "claude", "before": "acc-old", "after": "acc-old"},
        {"provider": "codex", "before": "acc-x", "after": new_codex}]


# --------------------------------------------------------------------------------------------
# Warn-don't-block


FAIL_CODEX_ACCOUNT = (
    "CREATE TRIGGER fail_codex_account BEFORE INSERT ON {accounts} WHEN NEW.provider = 'codex' "
    "BEGIN SELECT RAISE(ABORT, 'codex accounts refused by test trigger'); END"
)
FAIL_OPENCLAW_BINDING = (
    "CREATE TRIGGER fail_openclaw_binding BEFORE INSERT ON db_identity_bindings WHEN NEW.provider = 'openclaw' "
    "BEGIN SELECT RAISE(ABORT, 'openclaw binding refused by test trigger'); END"
)


@pytest.mark.parametrize("shape", [StoreShape.WITH_MIGRATIONS, StoreShape.SHARED_RENAMED])
def test_one_provider_failing_is_a_warning_not_a_stop(tmp_path: Path, shape: StoreShape) -> None:
    """Per-provider failures (3f, 3g) skip that provider and the run goes on (exit 5).

    Nothing in AgentMux's schema makes an account insert fail for one provider only, so a
    trigger (added by the fixture; the tables and columns stay the contract's) injects the
    failure. The era check looks at tables and columns, so the store still counts as its era.
    """
    home = make_home(tmp_path)
    write_all_creds(home)
    accounts = accounts_table(shape)
    spec = StoreSpec(instances=["", "blank"], extra_sql=[FAIL_CODEX_ACCOUNT.format(accounts=accounts),
                                                          FAIL_OPENCLAW_BINDING])
    store = make_store(tmp_path, shape, spec)
    result = run_cli("migrate", "--yes", "--json", "--home", home, "--store", store, "--now-ms", NOW_MS)
    assert result.code == 5, result.err
    [entry] = result.json()["stores"]
    assert entry["stats"] == {
        "providers_examined": 3, "providers_skipped_existing": 0, "providers_skipped_no_ambient": 0,
        "providers_seeded": 1, "providers_repointed": 0, "instances_backfilled": 2 if has_instances(shape) else 0,
        "default_bundle_created": True}
    assert len(entry["warnings"]) == 2
    assert any("codex" in w and "account could not be written" in w for w in entry["warnings"])
    assert any("openclaw" in w and "binding could not be written" in w for w in entry["warnings"])
    # claude bound; codex has no account; openclaw's account stays without a binding (3g).
    assert sorted(rows(store, f"SELECT provider FROM {accounts}")) == [("claude",), ("openclaw",)]
    assert rows(store, "SELECT provider FROM db_identity_bindings") == [("claude",)]
    assert rows(store, "SELECT scope FROM db_migrations") == [("global" if shape in SHARED_SHAPES else "channel",)]


def test_odd_credentials_file_is_done_with_warnings(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    write_creds(home, "claude", claude_creds())
    write_creds(home, "codex", b"{not json " + PLANTED_TOKENS[2].encode())
    store = make_store(tmp_path, StoreShape.WITH_AGENTS)
    result = run_cli("migrate", "--yes", "--json", "--home", home, "--store", store, "--now-ms", NOW_MS)
    assert result.code == 5
    [entry] = result.json()["stores"]
    assert entry["stats"]["providers_seeded"] == 2
    assert any("not valid JSON" in w for w in entry["warnings"])
    assert rows(store, f"SELECT status FROM {accounts_table(StoreShape.WITH_AGENTS)} WHERE provider='codex'") == [
        ("needs_reauth",)]
    assert PLANTED_TOKENS[2] not in result.out + result.err


# --------------------------------------------------------------------------------------------
# The db_migrations record


@pytest.mark.parametrize("shape", [StoreShape.WITH_MIGRATIONS, StoreShape.ACCOUNTS_RENAMED, *SHARED_SHAPES])
def test_existing_migration_record_is_left_as_it_is(tmp_path: Path, shape: StoreShape) -> None:
    home = make_home(tmp_path)
    write_all_creds(home)
    store = make_store(tmp_path, shape, StoreSpec(migration_recorded=True))
    plan, result = migrate(home, store)
    assert not plan.stores[0].record_migration
    assert not result.migration_recorded
    assert rows(store, "SELECT * FROM db_migrations") == [
        ("0008_default_bundle", "2026-06-25T10:00:00+00:00", 12, "channel")]
    assert stats(result)["providers_seeded"] == 3


def test_store_db_outside_the_shared_folder_still_records_global(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    write_all_creds(home, ["claude"])
    store = build_store(tmp_path / "copy" / "store.db", StoreShape.SHARED)
    migrate(home, store)
    assert rows(store, "SELECT id, applied_at, scope FROM db_migrations") == [
        ("0008_default_bundle", APPLIED_AT, "global")]
    [(duration,)] = rows(store, "SELECT duration_ms FROM db_migrations")
    assert isinstance(duration, int)
    assert duration >= 0


def test_a_rollback_journal_store_is_migrated(tmp_path: Path) -> None:
    """A store not (yet) in WAL mode: the write opens it the way AgentMux does and succeeds."""
    home = make_home(tmp_path)
    write_all_creds(home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY, wal=False)
    _plan, result = migrate(home, store)
    assert result.outcome == "migrated"
    assert stats(result)["providers_seeded"] == 3
    with closing(sqlite3.connect(str(store))) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
