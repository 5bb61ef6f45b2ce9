"""Copy-once (isolation) semantics, docs/agentmux-store.md §7b.

Which stores get them, the files the import makes, the sweep, and undo taking exactly those files
away again.

Expected bytes and files are written out by hand from the contract, not computed by the code
under test.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from contextlib import closing
from pathlib import Path, PureWindowsPath

import pytest

from agentmux_companion.core.contract import oauth_dir_of, oauth_secret_ref
from agentmux_companion.core.migration.apply import apply_plan
from agentmux_companion.core.migration.plan import Action, MigrationPlan, build_plan
from agentmux_companion.core.migration.undo import undo_last
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import load_registry
from agentmux_companion.core.sandbox import StoreShape
from agentmux_companion.core.store import explicit_locations
from tests.helpers.stores import (
    HOUR_MS,
    NOW_MS,
    PLANTED_TOKENS,
    StoreSpec,
    build_store,
    claude_creds,
    dump_store,
    expected_secret_ref,
    generic_creds,
    rows,
    run_cli,
    write_all_creds,
    write_creds,
)

REGISTRY = load_registry()
SENTINEL = ".agentmux-cred-seeded"


def providers_dir(home: Path) -> Path:
    return home / ".agentmux" / "shared" / "providers"


def plan_for(home: Path, store: Path) -> MigrationPlan:
    return build_plan(AppPaths.resolve(home), REGISTRY, explicit_locations([store]), NOW_MS)


def migrate(home: Path, *stores: Path) -> list[object]:
    paths = AppPaths.resolve(home)
    plan = build_plan(paths, REGISTRY, explicit_locations(stores), NOW_MS)
    return list(apply_plan(plan, paths, REGISTRY))


def objects_db(tmp_path: Path, user_version: int, migrations: bool, spec: StoreSpec | None = None) -> Path:
    shape = StoreShape.WITH_MIGRATIONS if migrations else StoreShape.WITH_AGENTS
    store = build_store(tmp_path / f"v{user_version}" / "objects.db", shape, spec or StoreSpec(instances=["", "x"]))
    with closing(sqlite3.connect(str(store))) as conn:
        conn.execute(f"PRAGMA user_version = {user_version}")
    return store


# --------------------------------------------------------------------------------------------
# The secret_ref bytes (§4)


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("/home/u/.claude", b'{"backend":"o_auth_config_dir","dir":"/home/u/.claude"}'),
        ("/home/Zo\u00eb \u7528\u6237/.codex",
         b'{"backend":"o_auth_config_dir","dir":"/home/Zo\xc3\xab \xe7\x94\xa8\xe6\x88\xb7/.codex"}'),
        (PureWindowsPath("C:/Users/Zo\u00eb/.claude"),
         b'{"backend":"o_auth_config_dir","dir":"C:\\\\Users\\\\Zo\xc3\xab\\\\.claude"}'),
        ('/home/"q"/.claude', b'{"backend":"o_auth_config_dir","dir":"/home/\\"q\\"/.claude"}'),
    ],
    ids=["ascii", "non-ascii", "windows", "quote"],
)
def test_secret_ref_bytes(folder: object, expected: bytes) -> None:
    assert oauth_secret_ref(folder).encode("utf-8") == expected  # type: ignore[arg-type]


def test_both_tags_are_read_only_one_is_written() -> None:
    assert oauth_dir_of('{"backend":"o_auth_config_dir","dir":"/a"}') == "/a"
    assert oauth_dir_of('{"backend":"oauth_config_dir","dir":"/a"}') == "/a"
    assert oauth_dir_of('{"backend":"env","env_var":"X"}') is None
    assert oauth_dir_of("not json") is None


# --------------------------------------------------------------------------------------------
# Which stores get which semantics


@pytest.mark.parametrize(
    ("user_version", "migrations", "semantics"),
    [(1, False, "ambient"), (4, False, "ambient"), (9, False, "ambient"), (10, False, "isolated"),
     (11, False, "isolated"), (8, True, "isolated")],
)
def test_semantics_of_a_channel_store(tmp_path: Path, user_version: int, migrations: bool, semantics: str) -> None:
    home = tmp_path / "user"
    home.mkdir(exist_ok=True)
    store = objects_db(tmp_path, user_version, migrations)
    result = run_cli("plan", "--json", "--home", home, "--store", store, "--now-ms", NOW_MS)
    [entry] = result.json()["stores"]
    assert entry["semantics"] == semantics
    assert entry["semantics_reason"]
    text = run_cli("plan", "--home", home, "--store", store, "--now-ms", NOW_MS).out
    assert ("Copy-once" in text) == (semantics == "isolated")


def test_a_shared_store_is_isolated_and_a_refused_store_has_no_semantics(tmp_path: Path) -> None:
    home = tmp_path / "user"
    home.mkdir(exist_ok=True)
    shared = build_store(tmp_path / "shared" / "store.db", StoreShape.SHARED)
    post = build_store(tmp_path / "post" / "objects.db", StoreShape.POST_BUNDLE)
    entries = run_cli("plan", "--json", "--home", home, "--store", shared, "--store", post).json()["stores"]
    assert [e["semantics"] for e in entries] == ["isolated", None]


# --------------------------------------------------------------------------------------------
# The import: exactly the copy and the sentinel, in 0700 folders


def test_isolated_migration_copies_once_and_points_there(tmp_path: Path) -> None:
    home = tmp_path / "hôme"
    write_creds(home, "claude", claude_creds(NOW_MS + HOUR_MS))
    source = write_creds(home, "codex", generic_creds(NOW_MS - HOUR_MS))
    os.chmod(source, 0o640)
    ambient_before = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}
    store = objects_db(tmp_path, 10, True)

    plan = plan_for(home, store)
    lines = {p.provider: p for p in plan.stores[0].providers}
    assert lines["claude"].account_dir == providers_dir(home) / "claude"
    assert plan.stores[0].to_json()["providers"][0]["copy"] == "copy"
    [result] = apply_plan(plan, AppPaths.resolve(home), REGISTRY)
    assert result.outcome == "migrated"
    assert result.stats.providers_seeded == 2

    for provider in ("claude", "codex"):
        dest = providers_dir(home) / provider
        assert (dest / ".credentials.json").read_bytes() == (home / f".{provider}" / ".credentials.json").read_bytes()
        assert (dest / SENTINEL).read_bytes() == b""
        assert sorted(p.name for p in dest.iterdir()) == [".agentmux-cred-seeded", ".credentials.json"]
    assert stat.S_IMODE((providers_dir(home) / "codex" / ".credentials.json").stat().st_mode) == 0o640
    for folder in (home / ".agentmux", home / ".agentmux" / "shared", providers_dir(home),
                   providers_dir(home) / "claude"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert sorted(rows(store, "SELECT provider, CAST(secret_ref AS BLOB), status FROM db_identity_accounts")) == [
        ("claude", expected_secret_ref(home, "claude", isolated=True).encode(), "valid"),
        ("codex", expected_secret_ref(home, "codex", isolated=True).encode(), "expired"),
    ]
    # The ambient files were only read.
    assert {p: p.read_bytes() for p in home.rglob("*") if p.is_file() and ".agentmux" not in p.parts} == ambient_before


def test_an_existing_sentinel_means_no_copy_and_the_copy_gives_the_status(tmp_path: Path) -> None:
    home = tmp_path / "user"
    write_creds(home, "claude", claude_creds(NOW_MS + HOUR_MS))  # the CLI's login: valid
    dest = providers_dir(home) / "claude"
    dest.mkdir(parents=True)
    old_copy = claude_creds(NOW_MS - HOUR_MS, refresh=None).encode()  # AgentMux's copy: needs re-auth
    (dest / ".credentials.json").write_bytes(old_copy)
    (dest / SENTINEL).write_bytes(b"")
    store = objects_db(tmp_path, 10, True)
    plan = plan_for(home, store)
    claude = plan.stores[0].providers[0]
    assert claude.status is not None
    assert claude.status.value == "needs_reauth"
    assert "existing copy" in claude.reason
    migrate(home, store)
    assert (dest / ".credentials.json").read_bytes() == old_copy
    assert rows(store, "SELECT status FROM db_identity_accounts WHERE provider='claude'") == [("needs_reauth",)]


def test_a_directory_login_cannot_be_copied_the_provider_is_skipped_with_a_warning(tmp_path: Path) -> None:
    home = tmp_path / "user"
    (home / ".claude" / ".credentials.json").mkdir(parents=True)
    write_creds(home, "codex", generic_creds())
    store = objects_db(tmp_path, 10, True)
    result = run_cli("migrate", "--yes", "--json", "--home", home, "--store", store, "--now-ms", NOW_MS)
    assert result.code == 5, result.err
    [entry] = result.json()["stores"]
    assert entry["stats"]["providers_seeded"] == 1
    assert entry["stats"]["default_bundle_created"] is True
    assert any(w.startswith("claude") and "copy" in w for w in entry["warnings"]), entry["warnings"]
    assert not (providers_dir(home) / "claude").exists()


# --------------------------------------------------------------------------------------------
# The sweep


@pytest.mark.parametrize("tag", ["o_auth_config_dir", "oauth_config_dir"])
def test_sweep_repoints_default_accounts_on_the_cli_folder(tmp_path: Path, tag: str) -> None:
    home = tmp_path / "user"
    write_all_creds(home, ["claude", "codex"])
    ambient = json.dumps({"backend": tag, "dir": str(home / ".claude")}, separators=(",", ":"))
    elsewhere = json.dumps({"backend": tag, "dir": str(tmp_path / "custom-codex")}, separators=(",", ":"))
    spec = StoreSpec(bundles=[("default", "Default")], extra_sql=[
        "INSERT INTO db_identity_accounts (id, name, provider, kind, secret_ref, created_at, updated_at) "
        f"VALUES ('acc-c', 'claude-oauth', 'claude', 'oauth', '{ambient}', 5, 5)",
        "INSERT INTO db_identity_accounts (id, name, provider, kind, secret_ref, created_at, updated_at) "
        f"VALUES ('acc-x', 'codex-oauth', 'codex', 'oauth', '{elsewhere}', 5, 5)",
        "INSERT INTO db_identity_bindings VALUES ('default', 'claude', 'acc-c')",
        "INSERT INTO db_identity_bindings VALUES ('default', 'codex', 'acc-x')",
    ])
    store = objects_db(tmp_path, 10, True, spec)
    plan = plan_for(home, store)
    assert [r.account_id for r in plan.stores[0].repoints] == ["acc-c"]
    assert plan.stores[0].providers[0].action is Action.SKIP_EXISTING
    assert "AgentMux's own copy" in plan.stores[0].providers[0].reason
    [result] = migrate(home, store)
    assert result.stats.providers_repointed == 1  # type: ignore[attr-defined]
    assert result.stats.providers_seeded == 0  # type: ignore[attr-defined]
    query = "SELECT id, secret_ref, status, created_at, updated_at FROM db_identity_accounts ORDER BY id"
    assert rows(store, query) == [
        ("acc-c", expected_secret_ref(home, "claude", isolated=True), "valid", 5, NOW_MS),
        ("acc-x", elsewhere, "unknown", 5, 5),
    ]
    assert (providers_dir(home) / "claude" / SENTINEL).exists()
    # Nothing left to sweep the second time.
    assert not plan_for(home, store).will_write


def test_no_sweep_under_pointer_semantics(tmp_path: Path) -> None:
    home = tmp_path / "user"
    write_all_creds(home, ["claude"])
    ref = json.dumps({"backend": "oauth_config_dir", "dir": str(home / ".claude")}, separators=(",", ":"))
    spec = StoreSpec(bundles=[("default", "Default")], extra_sql=[
        "INSERT INTO db_identity_accounts (id, name, provider, kind, secret_ref) "
        f"VALUES ('acc-c', 'claude-oauth', 'claude', 'oauth', '{ref}')",
        "INSERT INTO db_identity_bindings VALUES ('default', 'claude', 'acc-c')",
    ])
    store = objects_db(tmp_path, 4, False, spec)
    plan = plan_for(home, store)
    assert plan.stores[0].repoints == ()
    assert not plan.will_write
    # A row of the later spelling is left as it is when no rule rewrites it (§4).
    assert rows(store, "SELECT secret_ref FROM db_identity_accounts") == [(ref,)]


# --------------------------------------------------------------------------------------------
# Undo takes the files away again


def test_undo_removes_the_copies_and_the_folders_it_made(tmp_path: Path) -> None:
    home = tmp_path / "user"
    write_all_creds(home)
    store = objects_db(tmp_path, 10, True)
    before = dump_store(store)
    migrate(home, store)
    assert len(list(providers_dir(home).iterdir())) == 3
    result = undo_last(AppPaths.resolve(home), store)
    assert dump_store(store) == before
    assert result.warnings == ()
    assert not (home / ".agentmux").exists()


def test_undo_keeps_a_copy_renewed_since_with_its_sentinel(tmp_path: Path) -> None:
    home = tmp_path / "user"
    write_all_creds(home, ["claude", "codex"])
    store = objects_db(tmp_path, 10, True)
    before = dump_store(store)
    migrate(home, store)
    renewed = providers_dir(home) / "claude" / ".credentials.json"
    renewed.write_text(claude_creds(NOW_MS + 9 * HOUR_MS, access="renewed-by-agentmux"), encoding="utf-8")
    result = undo_last(AppPaths.resolve(home), store)
    assert dump_store(store) == before
    assert renewed.exists()
    assert (renewed.parent / SENTINEL).exists()
    assert not (providers_dir(home) / "codex").exists()
    assert len(result.warnings) == 1
    assert str(renewed) in result.warnings[0]
    assert "changed" in result.warnings[0]


def test_undoing_one_store_leaves_the_copy_another_store_uses(tmp_path: Path) -> None:
    home = tmp_path / "user"
    write_all_creds(home, ["claude"])
    channel = objects_db(tmp_path, 10, True)
    shared = build_store(tmp_path / "shared" / "store.db", StoreShape.SHARED)
    shared_before = dump_store(shared)
    migrate(home, channel, shared)  # the first copies; the second finds the sentinel
    copy = providers_dir(home) / "claude" / ".credentials.json"
    undo_last(AppPaths.resolve(home), channel)
    assert copy.exists(), "the shared store still points at this copy"
    undo_last(AppPaths.resolve(home), shared)
    assert dump_store(shared) == shared_before
    assert not (home / ".agentmux").exists()


def test_no_secret_reaches_the_ledger_or_the_output(tmp_path: Path) -> None:
    home = tmp_path / "user"
    write_all_creds(home)
    store = objects_db(tmp_path, 10, True)
    companion = tmp_path / "companion"
    os.environ["AGENTMUX_COMPANION_DIR"] = str(companion)
    try:
        migrated = run_cli("migrate", "--yes", "--json", "--home", home, "--store", store, "--now-ms", NOW_MS)
        undone = run_cli("undo", "--yes", "--json", "--home", home, "--store", store)
    finally:
        del os.environ["AGENTMUX_COMPANION_DIR"]
    assert migrated.code == 0, migrated.err + undone.err
    assert undone.code == 0, migrated.err + undone.err
    written = b"".join(p.read_bytes() for p in companion.rglob("*") if p.is_file() and "backups" not in p.parts)
    text = migrated.out + migrated.err + undone.out + undone.err
    for token in PLANTED_TOKENS:
        assert token not in text
        assert token.encode() not in written


def test_a_post_bundle_store_is_refused_with_what_to_do_instead(tmp_path: Path) -> None:
    home = tmp_path / "user"
    write_all_creds(home)
    store = build_store(tmp_path / "post" / "objects.db", StoreShape.POST_BUNDLE)
    before = store.read_bytes()
    text = run_cli("migrate", "--yes", "--home", home, "--store", store)
    as_json = run_cli("plan", "--json", "--home", home, "--store", store)
    assert text.code == 3
    assert as_json.code == 3
    assert "Accounts screen" in text.out + text.err
    assert "Accounts screen" in as_json.json()["stores"][0]["refused"]
    assert store.read_bytes() == before
    assert not (home / ".agentmux").exists()


def test_demo_of_the_isolated_era_shows_the_copy_once_flow(tmp_path: Path) -> None:
    result = run_cli("demo", "--json", "--era", "isolated", "--dir", tmp_path / "demo", "--now-ms", NOW_MS)
    assert result.code == 0, result.err
    steps = {s["step"]: s for s in result.json()["steps"]}
    stores = steps["plan"]["plan"]["stores"]
    assert [s["semantics"] for s in stores] == ["isolated", "isolated"]
    migrated = steps["migrate"]["stores"]
    assert [m["stats"]["providers_seeded"] for m in migrated] == [2, 2]
    assert not (tmp_path / "demo" / "home" / ".agentmux" / "shared" / "providers").exists()  # undone
    default = run_cli("demo", "--json", "--dir", tmp_path / "demo2", "--now-ms", NOW_MS).json()
    assert [s["semantics"] for s in default["steps"][0]["plan"]["stores"]] == ["ambient"]
